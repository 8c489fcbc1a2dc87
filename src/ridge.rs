//! Ridge paths from one symmetric eigendecomposition: coefficients, training
//! errors, GCV and exact leave-one-out errors for every ridge `alpha` at once.
//!
//! The objective, as scikit-learn's `Ridge` (sums, not means):
//!
//! ```text
//! minimize  sum_i s_i (y_i - z_i.beta - beta_0)^2 + alpha ||beta||^2
//! ```
//!
//! With weighted means removed and rows scaled by `sqrt(s_i)` (`Z~`, `y~`), the
//! intercept is unpenalized and the hat matrix is
//! `H = Z~ (Z~^T Z~ + alpha I)^+ Z~^T + v v^T`, `v_i = sqrt(s_i / s_sum)` (no `v`
//! without intercept). The leave-one-out residual is `e_i = r_i / (1 - H_ii)` with
//! `r = y~ - H y~`, in the scaled space, exactly as scikit-learn's `RidgeCV`; the
//! reported error is `sum_i e_i^2 / n`.
//!
//! - Primal ([`PrimalPath`], `D <= n`): `Z~^T Z~ = Q diag(lambda) Q^T` from the
//!   streamed statistics; the leverages need `P = Z~ Q`, computed in a second
//!   streaming pass ([`PrimalPath::loo_errors`]).
//! - Dual ([`DualPath`], `n < D` and exact kernels): `Z~ Z~^T = U diag(sigma) U^T`.
//!
//! `alpha = 0` is the ridgeless (minimum-norm) limit: `1/(lambda + alpha)` becomes
//! the pseudo-inverse `1/lambda` for `lambda > cutoff` and 0 below, with
//! `cutoff = max(lambda) * max(n, D) * eps` (numpy's `pinv` rule).

use crate::error::{Error, Result};
use crate::features::{self, FeatureMap, Projection};
use crate::gram::{CenteredStats, GramAccumulator};
use crate::linalg::column_major;
use crate::parallel::Context;
use crate::real::Real;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};

/// Eigendecomposition of a symmetric positive semi-definite matrix.
#[derive(Clone, Debug)]
pub struct SymmetricEigen {
    /// Eigenvalues in ascending order, clipped at 0 (rounding can make them negative).
    pub values: Vec<f64>,
    /// Orthonormal eigenvectors as columns, in the order of `values`.
    pub vectors: Mat<f64>,
}

impl SymmetricEigen {
    /// Decomposes the symmetric `a` (its lower triangle is read).
    ///
    /// # Errors
    /// [`Error::NoConvergence`] if the eigensolver does not converge.
    pub fn new(a: MatRef<'_, f64>) -> Result<Self> {
        let eigen = a
            .self_adjoint_eigen(Side::Lower)
            .map_err(|_| Error::NoConvergence)?;
        let values = eigen
            .S()
            .column_vector()
            .iter()
            .map(|&v| v.max(0.0))
            .collect();
        Ok(Self {
            values,
            vectors: eigen.U().to_owned(),
        })
    }

    /// Decomposes the symmetric `a` (consumed, freed when done) on `ctx`'s pool while
    /// polling its interrupt, then truncates it as [`SymmetricEigen::truncate`];
    /// returns the decomposition and the cut-off.
    ///
    /// # Errors
    /// [`Error::NoConvergence`]; [`Error::Interrupted`] if the interrupt fires.
    pub fn decompose(a: Mat<f64>, dim: usize, scale: f64, ctx: &Context) -> Result<(Self, f64)> {
        let mut eigen = ctx.run_interruptible(move || Self::new(a.as_ref()))?;
        let cutoff = eigen.truncate(dim, scale);
        Ok((eigen, cutoff))
    }

    /// Sets the eigenvalues at or below `max(top eigenvalue, scale) * dim * eps` (the
    /// pseudo-inverse cut-off for a problem whose larger side is `dim`) to exactly 0,
    /// so that null directions are treated as null at every alpha; returns the
    /// cut-off. `scale` is the size of the entries the matrix was computed from
    /// (before centering): when centering cancels them, what is left is rounding
    /// of that size, not a spectrum.
    pub fn truncate(&mut self, dim: usize, scale: f64) -> f64 {
        let top = self.values.last().copied().unwrap_or(0.0);
        let cutoff = top.max(scale) * dim.max(1) as f64 * f64::EPSILON;
        for v in self.values.iter_mut().filter(|v| **v <= cutoff) {
            *v = 0.0;
        }
        cutoff
    }
}

/// `1 / (lambda + alpha)`, or its ridgeless limit (pseudo-inverse) at `alpha = 0`.
pub fn shrinkage(lambda: f64, alpha: f64, cutoff: f64) -> f64 {
    if alpha > 0.0 {
        1.0 / (lambda + alpha)
    } else if lambda > cutoff {
        1.0 / lambda
    } else {
        0.0
    }
}

fn check_alphas(alphas: &[f64]) -> Result<()> {
    match alphas.iter().find(|a| !(**a >= 0.0 && a.is_finite())) {
        Some(a) => Err(Error::InvalidParameter(format!(
            "alphas must be non-negative finite numbers, got {a}"
        ))),
        None => Ok(()),
    }
}

/// What training errors and GCV need: eigenvalues `lambda_j`, the targets
/// projected on the eigenvectors, `c_j = q_j^T Z~^T y~` (`r x t`), `||y~||^2`,
/// the total weight `s_sum` and the number of rows `n`.
///
/// Along eigenvector `j` the fit removes `c_j^2 g_j (2 - lambda_j g_j)` from the
/// residual sum of squares, `g_j = shrinkage(lambda_j, alpha)`. Errors are
/// normalized by `s_sum`, so a weight of 2 is the same as a repeated row.
pub struct Spectrum<'a> {
    values: &'a [f64],
    projected: MatRef<'a, f64>,
    target_squares: Vec<f64>,
    weight_sum: f64,
    n_samples: usize,
    fit_intercept: bool,
    cutoff: f64,
}

impl Spectrum<'_> {
    /// `sum_i s_i r_i^2` per alpha (rows) and target.
    fn residual_sums(&self, alphas: &[f64]) -> Mat<f64> {
        Mat::from_fn(alphas.len(), self.projected.ncols(), |a, k| {
            let explained: f64 = self
                .values
                .iter()
                .enumerate()
                .map(|(j, &lambda)| {
                    let g = shrinkage(lambda, alphas[a], self.cutoff);
                    self.projected[(j, k)].powi(2) * g * (2.0 - lambda * g)
                })
                .sum();
            (self.target_squares[k] - explained).max(0.0)
        })
    }

    /// Training errors `sum_i s_i r_i^2 / s_sum`.
    fn train_errors(&self, alphas: &[f64]) -> Result<Mat<f64>> {
        check_alphas(alphas)?;
        Ok(self.residual_sums(alphas) / self.weight_sum)
    }

    /// `(RSS / s_sum) / (1 - df / n)^2` with `n` the number of rows and `df = sum_j
    /// lambda_j g_j` (+ 1 for the intercept): Golub, Heath and Wahba's generalized
    /// cross-validation of the problem in the weight-scaled rows `sqrt(s_i) (z_i,
    /// y_i)`. Scaling every weight by `c` is the same as scaling alpha by `1 / c`.
    fn gcv_errors(&self, alphas: &[f64]) -> Result<Mat<f64>> {
        check_alphas(alphas)?;
        let n = self.n_samples as f64;
        let rss = self.residual_sums(alphas);
        Ok(Mat::from_fn(rss.nrows(), rss.ncols(), |a, k| {
            let df: f64 = self
                .values
                .iter()
                .map(|&l| l * shrinkage(l, alphas[a], self.cutoff))
                .sum::<f64>()
                + f64::from(u8::from(self.fit_intercept));
            let denominator = (1.0 - df / n).powi(2);
            if denominator > 0.0 {
                rss[(a, k)] / self.weight_sum / denominator
            } else {
                f64::INFINITY
            }
        }))
    }
}

/// What the primal and dual paths share: training errors and GCV from their
/// [`Spectrum`], for every alpha at once.
pub trait SpectralPath {
    /// The eigenvalues, projected targets and totals of the path.
    fn spectrum(&self) -> Spectrum<'_>;

    /// Training errors `sum_i s_i r_i^2 / s_sum` for every alpha (rows) and target.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite alpha.
    fn train_errors(&self, alphas: &[f64]) -> Result<Mat<f64>> {
        self.spectrum().train_errors(alphas)
    }

    /// Generalized cross-validation errors for every alpha and target (see [`Spectrum`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite alpha.
    fn gcv_errors(&self, alphas: &[f64]) -> Result<Mat<f64>> {
        self.spectrum().gcv_errors(alphas)
    }
}

macro_rules! impl_spectral_path {
    ($path:ty) => {
        impl SpectralPath for $path {
            fn spectrum(&self) -> Spectrum<'_> {
                Spectrum {
                    values: &self.eigen.values,
                    projected: self.projected_cross.as_ref(),
                    target_squares: self.target_squares.clone(),
                    weight_sum: self.weight_sum,
                    n_samples: self.n_samples,
                    fit_intercept: self.fit_intercept,
                    cutoff: self.cutoff,
                }
            }
        }
    };
}

impl_spectral_path!(PrimalPath);
impl_spectral_path!(DualPath);

/// The primal ridge path of `D` random features: one eigendecomposition of the
/// centered, weighted `D x D` Gram.
/// Its fields are public so that a path can be rebuilt in another process
/// (pickling); [`PrimalPath::check_parts`] validates one built that way.
#[derive(Clone, Debug)]
pub struct PrimalPath {
    /// The eigendecomposition of the centered Gram (`D` values, `D x D` vectors).
    pub eigen: SymmetricEigen,
    /// `Q^T B_c`, `D x t`.
    pub projected_cross: Mat<f64>,
    /// `sum_i s_i (y_i - y_mean)^2` per target.
    pub target_squares: Vec<f64>,
    /// Weighted means of the features (`D`; zeros without intercept).
    pub feature_means: Vec<f64>,
    /// Weighted means of the targets (`t`; zeros without intercept).
    pub target_means: Vec<f64>,
    /// Whether the statistics were centered.
    pub fit_intercept: bool,
    /// The total sample weight.
    pub weight_sum: f64,
    /// The number of rows.
    pub n_samples: usize,
    /// The pseudo-inverse's eigenvalue cut-off.
    pub cutoff: f64,
}

impl PrimalPath {
    /// Decomposes the statistics `acc` (streamed by [`crate::gram::accumulate`]),
    /// reusing their memory.
    ///
    /// # Errors
    /// [`Error::NoConvergence`] from the eigensolver; [`Error::Shape`] if `acc`
    /// holds no rows; [`Error::NonFinite`] if the statistics overflowed;
    /// [`Error::Interrupted`] if `ctx`'s interrupt fires during the
    /// eigendecomposition (which runs on `ctx`'s pool).
    pub fn new(acc: GramAccumulator, fit_intercept: bool, ctx: &Context) -> Result<Self> {
        if acc.n_samples == 0 {
            return Err(Error::Shape(
                "cannot fit a ridge path on zero samples".into(),
            ));
        }
        let (n_samples, n_components, weight_sum) =
            (acc.n_samples, acc.n_components(), acc.weight_sum);
        if !acc.is_finite() {
            return Err(Error::NonFinite(
                "the Gram statistics of the random features overflow (squares of features \
                 beyond the float64 range): rescale X or lower gamma"
                    .into(),
            ));
        }
        let scale = (0..n_components).fold(0.0, |top: f64, j| top.max(acc.gram[(j, j)]));
        let CenteredStats {
            gram,
            cross,
            target_squares,
            feature_means,
            target_means,
        } = acc.centered(fit_intercept);
        let (eigen, cutoff) =
            SymmetricEigen::decompose(gram, n_samples.max(n_components), scale, ctx)?;
        let projected_cross = ctx.install(|| eigen.vectors.transpose() * &cross);
        Ok(Self {
            eigen,
            projected_cross,
            target_squares,
            feature_means,
            target_means,
            fit_intercept,
            weight_sum,
            n_samples,
            cutoff,
        })
    }

    /// Checks that the parts of a path built field by field agree in shape.
    ///
    /// # Errors
    /// [`Error::Shape`] if the shapes disagree or there are no rows.
    pub fn check_parts(&self) -> Result<()> {
        let d = self.eigen.values.len();
        let t = self.projected_cross.ncols();
        let consistent = self.eigen.vectors.nrows() == d
            && self.eigen.vectors.ncols() == d
            && self.projected_cross.nrows() == d
            && self.feature_means.len() == d
            && self.target_means.len() == t
            && self.target_squares.len() == t
            && self.n_samples > 0;
        if consistent {
            return Ok(());
        }
        Err(Error::Shape(
            "inconsistent ridge path parts: values (D,), vectors (D, D), projected \
             cross (D, t), feature means (D,), target means and squares (t,), \
             at least one row"
                .into(),
        ))
    }

    /// The eigenvalues of the centered Gram, ascending.
    pub fn eigenvalues(&self) -> &[f64] {
        &self.eigen.values
    }

    /// Coefficients `beta` (`D x t`) and intercepts (`t`) at ridge `alpha`.
    pub fn coef(&self, alpha: f64) -> (Mat<f64>, Vec<f64>) {
        let (d, t) = (self.projected_cross.nrows(), self.projected_cross.ncols());
        let scaled = Mat::from_fn(d, t, |j, k| {
            shrinkage(self.eigen.values[j], alpha, self.cutoff) * self.projected_cross[(j, k)]
        });
        let coef = &self.eigen.vectors * scaled;
        let intercept = (0..t)
            .map(|k| {
                let offset: f64 = (0..d).map(|j| self.feature_means[j] * coef[(j, k)]).sum();
                self.target_means[k] - offset
            })
            .collect();
        (coef, intercept)
    }

    /// Sums of squared leave-one-out residuals `sum_i e_i^2` over the rows of `x`
    /// for every alpha (rows) and target: a second streaming pass over the data
    /// the statistics were accumulated from (features regenerated chunk by
    /// chunk). The pass is additive: summed over all rows and divided by
    /// `n_samples`, it is the leave-one-out error.
    ///
    /// # Errors
    /// As [`features::transform`]; [`Error::Shape`] if the shapes do not match
    /// the statistics; [`Error::InvalidParameter`] for a bad alpha.
    #[allow(clippy::too_many_arguments)]
    pub fn loo_error_sums<T: Real>(
        &self,
        x: MatRef<'_, T>,
        y: MatRef<'_, f64>,
        sample_weight: Option<&[f64]>,
        projection: Projection<'_, T>,
        offsets: &[T],
        map: FeatureMap,
        alphas: &[f64],
        ctx: &Context,
    ) -> Result<Mat<f64>> {
        let pass = self.loo_pass(x.nrows(), y, alphas)?;
        let d = self.eigen.values.len();
        if projection.n_frequencies() * map.components_per_frequency() != d {
            return Err(Error::Shape(format!(
                "the weights give {} features for statistics of {d}",
                projection.n_frequencies() * map.components_per_frequency()
            )));
        }
        pass.sums(self, y, sample_weight, ctx, |start, rows, z| {
            let out = MatMut::from_column_major_slice_mut(z, rows, d);
            features::write_columns(x.subrows(start, rows), start, projection, offsets, map, out)
        })
    }

    /// As [`PrimalPath::loo_errors`], on features `z` (`n x D`) held in memory.
    ///
    /// # Errors
    /// [`Error::Shape`] if the data does not match the statistics;
    /// [`Error::InvalidParameter`] for a bad alpha.
    pub fn loo_errors_from_features(
        &self,
        z: MatRef<'_, f64>,
        y: MatRef<'_, f64>,
        sample_weight: Option<&[f64]>,
        alphas: &[f64],
    ) -> Result<Mat<f64>> {
        if z.nrows() != self.n_samples {
            return Err(Error::Shape(format!(
                "got {} rows for statistics of {} rows",
                z.nrows(),
                self.n_samples
            )));
        }
        let pass = self.loo_pass(z.nrows(), y, alphas)?;
        let global = Context::global();
        let sums = pass.sums(self, y, sample_weight, &global, |start, rows, dst| {
            dst.copy_from_slice(&column_major(z.subrows(start, rows)));
            Ok(())
        })?;
        Ok(sums / (self.n_samples as f64))
    }

    fn loo_pass(&self, n: usize, y: MatRef<'_, f64>, alphas: &[f64]) -> Result<LooPass> {
        check_alphas(alphas)?;
        let (d, t, n_alphas) = (self.eigen.values.len(), y.ncols(), alphas.len());
        if y.nrows() != n || t != self.projected_cross.ncols() {
            return Err(Error::Shape(format!(
                "the leave-one-out pass got {n} rows with {} targets for statistics of {} targets",
                y.nrows(),
                self.projected_cross.ncols()
            )));
        }
        let shrink = Mat::from_fn(d, n_alphas, |j, a| {
            shrinkage(self.eigen.values[j], alphas[a], self.cutoff)
        });
        let fitted = Mat::from_fn(d, t * n_alphas, |j, col| {
            self.projected_cross[(j, col / n_alphas)] * shrink[(j, col % n_alphas)]
        });
        let mut projector = Mat::<f64>::zeros(d, d + t * n_alphas);
        projector.subcols_mut(0, d).copy_from(&self.eigen.vectors);
        let coefficients = projector.subcols_mut(d, t * n_alphas);
        matmul(
            coefficients,
            Accum::Replace,
            &self.eigen.vectors,
            &fitted,
            1.0,
            Par::rayon(0),
        );
        Ok(LooPass { shrink, projector })
    }
}

/// Rows per task of the leave-one-out pass: each task makes its rows' features,
/// projects them with one sequential product (packing `Q` once per 512 rows
/// costs about 1/1000 of the product) and finishes them while they are in cache.
const LOO_BLOCK_ROWS: usize = 512;

/// What the leave-one-out pass of a [`PrimalPath`] needs for every alpha.
struct LooPass {
    /// `g_j(alpha_a)`, `D x n_alphas`.
    shrink: Mat<f64>,
    /// `[Q | C]`, `D x (D + t n_alphas)`: the eigenvectors, then the coefficients
    /// of every target and alpha (`C = Q diag(g(alpha_a)) Q^T B_c` at column
    /// `k * n_alphas + a`), so one product gives the projections and the fits.
    projector: Mat<f64>,
}

impl LooPass {
    /// Squared leave-one-out residuals summed over all rows (`n_alphas x t`):
    /// `features(start, rows, z)` writes the column-major features of rows
    /// `start..start + rows` into `z`. Runs in parallel blocks of
    /// [`LOO_BLOCK_ROWS`] rows whose sums are added in order, so the result does
    /// not depend on the thread count.
    fn sums(
        &self,
        path: &PrimalPath,
        y: MatRef<'_, f64>,
        sample_weight: Option<&[f64]>,
        ctx: &Context,
        features: impl Fn(usize, usize, &mut [f64]) -> Result<()> + Sync,
    ) -> Result<Mat<f64>> {
        let (n, d) = (y.nrows(), path.eigen.values.len());
        let mut sums = vec![Mat::<f64>::zeros(0, 0); n.div_ceil(LOO_BLOCK_ROWS)];
        let blocks = sums.iter_mut().enumerate();
        ctx.for_each_task(blocks, |(block, sum)| {
            let start = block * LOO_BLOCK_ROWS;
            let rows = LOO_BLOCK_ROWS.min(n - start);
            let mut z = vec![0.0; rows * d];
            features(start, rows, &mut z)?;
            let (y, s) = (
                y.subrows(start, rows),
                sample_weight.map(|s| &s[start..start + rows]),
            );
            *sum = self.block_sums(path, &mut z, y, s);
            Ok(())
        })?;
        let mut total = Mat::<f64>::zeros(self.shrink.ncols(), y.ncols());
        sums.iter().for_each(|sum| total += sum);
        Ok(total)
    }

    /// Squared leave-one-out residuals summed over the column-major rows `z`
    /// (uncentered features, consumed) with targets `y` and weights `s`, for every
    /// alpha and target: `[P | F] = Z~ [Q | C]`, leverages `(P o P) g`, fits `F`.
    fn block_sums(
        &self,
        path: &PrimalPath,
        z: &mut [f64],
        y: MatRef<'_, f64>,
        s: Option<&[f64]>,
    ) -> Mat<f64> {
        let (rows, d, t) = (y.nrows(), path.eigen.values.len(), y.ncols());
        let n_alphas = self.shrink.ncols();
        let weight = |i: usize| s.map_or(1.0, |s| s[i]);
        let sqrt_weights: Vec<f64> = (0..rows).map(|i| weight(i).sqrt()).collect();
        for (column, mean) in z.chunks_exact_mut(rows.max(1)).zip(&path.feature_means) {
            for (v, w) in column.iter_mut().zip(&sqrt_weights) {
                *v = w * (*v - mean);
            }
        }
        let mut products = Mat::<f64>::zeros(rows, self.projector.ncols());
        let mut leverage = Mat::<f64>::zeros(rows, n_alphas);
        let centered = MatRef::from_column_major_slice(z, rows, d);
        matmul(
            products.as_mut(),
            Accum::Replace,
            centered,
            &self.projector,
            1.0,
            Par::Seq,
        );
        let (mut p, predicted) = products.as_mut().split_at_col_mut(d);
        p.as_mut()
            .col_iter_mut()
            .for_each(|c| c.iter_mut().for_each(|v| *v *= *v)); // P o P
        matmul(
            leverage.as_mut(),
            Accum::Replace,
            &p,
            &self.shrink,
            1.0,
            Par::Seq,
        );
        let mut sums = Mat::<f64>::zeros(n_alphas, t);
        for i in 0..rows {
            let intercept_leverage = if path.fit_intercept {
                weight(i) / path.weight_sum
            } else {
                0.0
            };
            for k in 0..t {
                let target = weight(i).sqrt() * (y[(i, k)] - path.target_means[k]);
                for a in 0..n_alphas {
                    let residual = target - predicted[(i, k * n_alphas + a)];
                    let complement = 1.0 - leverage[(i, a)] - intercept_leverage;
                    sums[(a, k)] += loo_squared(residual, complement, 1.0);
                }
            }
        }
        sums
    }
}

/// `(residual / complement)^2`, where `complement` is `1 - H_ii` times a factor
/// of at most `scale`; infinite when the point is interpolated (`complement`
/// vanishes to rounding) and its residual does not.
fn loo_squared(residual: f64, complement: f64, scale: f64) -> f64 {
    if complement > 1e-12 * scale {
        (residual / complement).powi(2)
    } else if residual == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// The dual ridge path on an `n x n` kernel matrix `K` (exact kernels, or
/// `Z Z^T` when there are fewer samples than features): one eigendecomposition of
/// the centered, weighted `K~ = S^(1/2) C K C^T S^(1/2)`.
#[derive(Clone, Debug)]
pub struct DualPath {
    eigen: SymmetricEigen,
    /// `U^T y~`, `n x t`.
    projected_targets: Mat<f64>,
    /// `sum_i s_i`.
    weight_sum: f64,
    /// The number of rows `n`.
    n_samples: usize,
    /// `sqrt(sigma_j) (U^T y~)_jk`: the targets projected as in [`Spectrum`].
    projected_cross: Mat<f64>,
    /// `||y~||^2` per target.
    target_squares: Vec<f64>,
    fit_intercept: bool,
    /// `sqrt(s_i)`.
    sqrt_weights: Vec<f64>,
    /// `v_i = sqrt(s_i / s_sum)` with intercept, else zeros.
    intercept_direction: Vec<f64>,
    /// Weighted column means of `K`, `m_i = sum_j s_j K_ji / s_sum` (zeros without intercept).
    kernel_means: Vec<f64>,
    target_means: Vec<f64>,
    cutoff: f64,
}

impl DualPath {
    /// Decomposes the kernel matrix `kernel` (`n x n`, symmetric; lower triangle
    /// read) for targets `y` (`n x t`) and weights `sample_weight`.
    ///
    /// # Errors
    /// [`Error::Shape`] for mismatched shapes or zero samples;
    /// [`Error::InvalidParameter`] for non-positive weights; [`Error::NonFinite`] for a
    /// kernel matrix with infinite or NaN entries; [`Error::NoConvergence`];
    /// [`Error::Interrupted`] if `ctx`'s interrupt fires during the eigendecomposition
    /// (which runs on `ctx`'s pool).
    pub fn new(
        kernel: MatRef<'_, f64>,
        y: MatRef<'_, f64>,
        sample_weight: Option<&[f64]>,
        fit_intercept: bool,
        ctx: &Context,
    ) -> Result<Self> {
        let (n, t) = (y.nrows(), y.ncols());
        if kernel.nrows() != n
            || kernel.ncols() != n
            || n == 0
            || sample_weight.is_some_and(|s| s.len() != n)
        {
            return Err(Error::Shape(format!(
                "the kernel matrix is {} x {} for {n} rows of targets; it must be n x n with n > 0",
                kernel.nrows(),
                kernel.ncols()
            )));
        }
        if (0..n).any(|i| (0..=i).any(|j| !kernel[(i, j)].is_finite())) {
            return Err(Error::NonFinite(
                "the kernel matrix (Z Z^T for random features) holds infinite or NaN entries: \
                 rescale X or lower gamma"
                    .into(),
            ));
        }
        let s: Vec<f64> = sample_weight.map_or_else(|| vec![1.0; n], <[f64]>::to_vec);
        let s_sum: f64 = s.iter().sum();
        if s.iter().any(|v| !(*v >= 0.0 && v.is_finite())) || s_sum <= 0.0 {
            return Err(Error::InvalidParameter(
                "sample weights must be non-negative and finite, with a positive sum".into(),
            ));
        }
        let p: Vec<f64> = if fit_intercept {
            s.iter().map(|v| v / s_sum).collect()
        } else {
            vec![0.0; n]
        };
        let sym = |i: usize, j: usize| {
            if i >= j {
                kernel[(i, j)]
            } else {
                kernel[(j, i)]
            }
        };
        let kernel_means: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| p[j] * sym(j, i)).sum())
            .collect();
        let grand_mean: f64 = (0..n).map(|i| p[i] * kernel_means[i]).sum();
        let sqrt_weights: Vec<f64> = s.iter().map(|v| v.sqrt()).collect();
        let centered = Mat::from_fn(n, n, |i, j| {
            sqrt_weights[i]
                * sqrt_weights[j]
                * (sym(i, j) - kernel_means[i] - kernel_means[j] + grand_mean)
        });
        let target_means: Vec<f64> = (0..t)
            .map(|k| (0..n).map(|i| p[i] * y[(i, k)]).sum())
            .collect();
        let scaled_targets =
            Mat::from_fn(n, t, |i, k| sqrt_weights[i] * (y[(i, k)] - target_means[k]));
        let scale = (0..n).fold(0.0, |top: f64, i| top.max(s[i] * kernel[(i, i)].abs()));
        let (eigen, cutoff) = SymmetricEigen::decompose(centered, n, scale, ctx)?;
        let projected_targets = ctx.install(|| eigen.vectors.transpose() * &scaled_targets);
        let projected_cross = Mat::from_fn(n, t, |j, k| {
            eigen.values[j].sqrt() * projected_targets[(j, k)]
        });
        let target_squares = (0..t)
            .map(|k| scaled_targets.col(k).squared_norm_l2())
            .collect();
        let intercept_direction = p.iter().map(|v| v.sqrt()).collect();
        Ok(Self {
            eigen,
            projected_targets,
            weight_sum: s_sum,
            n_samples: n,
            projected_cross,
            target_squares,
            fit_intercept,
            sqrt_weights,
            intercept_direction,
            kernel_means,
            target_means,
            cutoff,
        })
    }

    /// The eigenvalues of the centered, weighted kernel matrix, ascending.
    pub fn eigenvalues(&self) -> &[f64] {
        &self.eigen.values
    }

    /// Dual coefficients `d` (`n x t`, the fit is `f(x) = sum_i d_i k(x, x_i) + b`)
    /// and intercepts `b` at ridge `alpha`.
    pub fn dual_coef(&self, alpha: f64) -> (Mat<f64>, Vec<f64>) {
        let (n, t) = (
            self.projected_targets.nrows(),
            self.projected_targets.ncols(),
        );
        let scaled = Mat::from_fn(n, t, |j, k| {
            shrinkage(self.eigen.values[j], alpha, self.cutoff) * self.projected_targets[(j, k)]
        });
        let mut beta = &self.eigen.vectors * scaled;
        // With an intercept the fit lies in the range of the centered kernel, which
        // is orthogonal to the intercept direction v (zero without intercept). The
        // eigenvectors of tiny eigenvalues carry a rounding-size component along v,
        // which small ridges amplify and which would make sum_i d_i nonzero (the
        // intercept below assumes it is 0): project it out.
        for k in 0..t {
            let v = &self.intercept_direction;
            let along: f64 = (0..n).map(|i| v[i] * beta[(i, k)]).sum();
            (0..n).for_each(|i| beta[(i, k)] -= along * v[i]);
        }
        let dual = Mat::from_fn(n, t, |i, k| self.sqrt_weights[i] * beta[(i, k)]);
        let intercept = (0..t)
            .map(|k| {
                self.target_means[k]
                    - (0..n)
                        .map(|i| dual[(i, k)] * self.kernel_means[i])
                        .sum::<f64>()
            })
            .collect();
        (dual, intercept)
    }

    /// Per eigenvector `j`, the weight of `I - H` (up to a common factor, which
    /// cancels in `r_i / (1 - H_ii)`), and the weight of the intercept direction.
    ///
    /// `alpha > 0`: `alpha / (sigma_j + alpha)`. `alpha = 0` (ridgeless limit): 1 on
    /// the null space when it holds more than the intercept direction, else
    /// `1 / sigma_j` on the range (the limit of `(I - H) / alpha`).
    fn complement_weights(&self, alpha: f64) -> (Vec<f64>, f64) {
        let values = &self.eigen.values;
        let has_intercept = self.intercept_direction.iter().any(|&v| v != 0.0);
        let n_null = values.iter().filter(|&&v| v <= self.cutoff).count();
        if alpha > 0.0 {
            (values.iter().map(|&v| alpha / (v + alpha)).collect(), 1.0)
        } else if n_null > usize::from(has_intercept) {
            (
                values
                    .iter()
                    .map(|&v| f64::from(u8::from(v <= self.cutoff)))
                    .collect(),
                1.0,
            )
        } else {
            (
                values
                    .iter()
                    .map(|&v| if v > self.cutoff { 1.0 / v } else { 0.0 })
                    .collect(),
                0.0,
            )
        }
    }

    /// Exact leave-one-out errors `sum_i e_i^2 / n` for every alpha and target.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite alpha.
    pub fn loo_errors(&self, alphas: &[f64]) -> Result<Mat<f64>> {
        check_alphas(alphas)?;
        let (n, t, n_alphas) = (
            self.projected_targets.nrows(),
            self.projected_targets.ncols(),
            alphas.len(),
        );
        let complements: Vec<(Vec<f64>, f64)> =
            alphas.iter().map(|&a| self.complement_weights(a)).collect();
        // weights[j, a] and, for the residuals, weighted[j, k * n_alphas + a] = w_ja (U^T y~)_jk.
        let weights = Mat::from_fn(n, n_alphas, |j, a| complements[a].0[j]);
        let weighted = Mat::from_fn(n, t * n_alphas, |j, col| {
            weights[(j, col % n_alphas)] * self.projected_targets[(j, col / n_alphas)]
        });
        let u = &self.eigen.vectors;
        let u_squared = Mat::from_fn(n, n, |i, j| u[(i, j)] * u[(i, j)]);
        let diagonals = u_squared * &weights;
        let residuals = u * weighted;
        let mut errors = Mat::<f64>::zeros(n_alphas, t);
        for a in 0..n_alphas {
            let (ref w, intercept_weight) = complements[a];
            let scale = w.iter().copied().fold(0.0, f64::max);
            for i in 0..n {
                let complement =
                    diagonals[(i, a)] - intercept_weight * self.intercept_direction[i].powi(2);
                for k in 0..t {
                    errors[(a, k)] +=
                        loo_squared(residuals[(i, k * n_alphas + a)], complement, scale);
                }
            }
        }
        Ok(errors / (n as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Kernel;
    use crate::linalg::row_major;

    fn data(n: usize, d: usize, salt: u64) -> Vec<f64> {
        let mut rng = crate::rng::feature_stream(salt, 0);
        (0..n * d).map(|_| f64::standard_normal(&mut rng)).collect()
    }

    struct Problem {
        n: usize,
        d: usize,
        x: Vec<f64>,
        y: Vec<f64>,
        s: Vec<f64>,
    }

    fn problem(n: usize, d: usize, t: usize) -> Problem {
        let x = data(n, d, 1);
        let y: Vec<f64> = (0..n * t)
            .map(|i| x[(i / t) * d] * (1.0 + (i % t) as f64) + 0.3 * data(n * t, 1, 2)[i])
            .collect();
        let s = (0..n).map(|i| 0.5 + (i % 4) as f64).collect();
        Problem { n, d, x, y, s }
    }

    fn stats(p: &Problem, rows: &[usize], t: usize, weighted: bool) -> GramAccumulator {
        let x: Vec<f64> = rows
            .iter()
            .flat_map(|&i| p.x[i * p.d..(i + 1) * p.d].to_vec())
            .collect();
        let y: Vec<f64> = rows
            .iter()
            .flat_map(|&i| p.y[i * t..(i + 1) * t].to_vec())
            .collect();
        let s: Vec<f64> = rows.iter().map(|&i| p.s[i]).collect();
        let mut acc = GramAccumulator::new(p.d, t);
        let w = if weighted { Some(&s[..]) } else { None };
        acc.update(
            row_major(&x, rows.len(), p.d),
            row_major(&y, rows.len(), t),
            w,
            Par::Seq,
        );
        acc
    }

    fn predict(coef: &Mat<f64>, intercept: &[f64], x: &[f64], k: usize) -> f64 {
        intercept[k]
            + x.iter()
                .enumerate()
                .map(|(j, v)| v * coef[(j, k)])
                .sum::<f64>()
    }

    const ALPHAS: [f64; 5] = [0.0, 1e-6, 0.1, 1.0, 100.0];

    #[test]
    fn coefficients_solve_the_normal_equations() {
        let t = 2;
        let p = problem(40, 6, t);
        for (intercept, weighted) in [(true, true), (false, false), (true, false)] {
            let acc = stats(&p, &(0..p.n).collect::<Vec<_>>(), t, weighted);
            let path = PrimalPath::new(acc.clone(), intercept, &Context::global()).unwrap();
            let c = acc.clone().centered(intercept);
            for alpha in ALPHAS {
                let (coef, _) = path.coef(alpha);
                let lhs = &c.gram * &coef + alpha * &coef;
                for j in 0..p.d {
                    for k in 0..t {
                        assert!(
                            (lhs[(j, k)] - c.cross[(j, k)]).abs()
                                < 1e-9 * (1.0 + c.cross[(j, k)].abs())
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn inconsistent_parts_are_refused() {
        let p = problem(30, 5, 2);
        let all: Vec<usize> = (0..p.n).collect();
        let path = PrimalPath::new(stats(&p, &all, 2, true), true, &Context::global()).unwrap();
        assert!(path.check_parts().is_ok());
        let mut broken = path.clone();
        broken.target_means.pop();
        assert!(matches!(broken.check_parts(), Err(Error::Shape(_))));
    }

    #[test]
    fn loo_and_train_errors_equal_brute_force_refits() {
        let t = 2;
        let p = problem(25, 4, t);
        for (intercept, weighted) in [(true, true), (false, true), (true, false), (false, false)] {
            let all: Vec<usize> = (0..p.n).collect();
            let path = PrimalPath::new(stats(&p, &all, t, weighted), intercept, &Context::global())
                .unwrap();
            let w = if weighted { Some(&p.s[..]) } else { None };
            let loo = loo_on_inputs(&path, &p, t, w, &ALPHAS);
            let train = path.train_errors(&ALPHAS).unwrap();
            for (a, &alpha) in ALPHAS.iter().enumerate() {
                let (coef, b) = path.coef(alpha);
                for k in 0..t {
                    let (mut brute_loo, mut brute_train) = (0.0, 0.0);
                    for i in 0..p.n {
                        let rest: Vec<usize> = all.iter().copied().filter(|&r| r != i).collect();
                        let (c, b_i) = PrimalPath::new(
                            stats(&p, &rest, t, weighted),
                            intercept,
                            &Context::global(),
                        )
                        .unwrap()
                        .coef(alpha);
                        let s_i = if weighted { p.s[i] } else { 1.0 };
                        let row = &p.x[i * p.d..(i + 1) * p.d];
                        brute_loo += s_i * (p.y[i * t + k] - predict(&c, &b_i, row, k)).powi(2);
                        brute_train += s_i * (p.y[i * t + k] - predict(&coef, &b, row, k)).powi(2);
                    }
                    // LOO is a mean over rows (as RidgeCV); training error a weighted mean.
                    let weight_sum: f64 = if weighted {
                        p.s.iter().sum()
                    } else {
                        p.n as f64
                    };
                    let (brute_loo, brute_train) =
                        (brute_loo / p.n as f64, brute_train / weight_sum);
                    assert!(
                        (loo[(a, k)] - brute_loo).abs() < 1e-8 * brute_loo,
                        "{alpha} {intercept} {weighted}: {} vs {brute_loo}",
                        loo[(a, k)]
                    );
                    assert!((train[(a, k)] - brute_train).abs() < 1e-8 * brute_train);
                }
            }
        }
    }

    /// The LOO pass with the inputs themselves as features.
    fn loo_on_inputs(
        path: &PrimalPath,
        p: &Problem,
        t: usize,
        w: Option<&[f64]>,
        alphas: &[f64],
    ) -> Mat<f64> {
        let (x, y) = (row_major(&p.x, p.n, p.d), row_major(&p.y, p.n, t));
        path.loo_errors_from_features(x, y, w, alphas).unwrap()
    }

    #[test]
    fn dual_equals_primal() {
        // Both regimes: more samples than features, and fewer. Ridges of 1e-6 are
        // left out: with a singular Gram both sides amplify rounding by 1/alpha.
        const ALPHAS: [f64; 4] = [0.0, 0.1, 1.0, 100.0];
        let t = 2;
        for (p, intercept, weighted) in [
            (problem(30, 5, t), true, true),
            (problem(30, 5, t), false, false),
            (problem(12, 30, t), true, true),
            (problem(12, 30, t), false, false),
        ] {
            let all: Vec<usize> = (0..p.n).collect();
            let path = PrimalPath::new(stats(&p, &all, t, weighted), intercept, &Context::global())
                .unwrap();
            let k = Mat::from_fn(p.n, p.n, |i, j| {
                (0..p.d)
                    .map(|c| p.x[i * p.d + c] * p.x[j * p.d + c])
                    .sum::<f64>()
            });
            let w = if weighted { Some(&p.s[..]) } else { None };
            let dual = DualPath::new(
                k.as_ref(),
                row_major(&p.y, p.n, t),
                w,
                intercept,
                &Context::global(),
            )
            .unwrap();
            let primal_loo = loo_on_inputs(&path, &p, t, w, &ALPHAS);
            let dual_loo = dual.loo_errors(&ALPHAS).unwrap();
            for (a, &alpha) in ALPHAS.iter().enumerate() {
                let (coef, b) = path.coef(alpha);
                let (d, b_dual) = dual.dual_coef(alpha);
                for k in 0..t {
                    assert!(
                        (b[k] - b_dual[k]).abs() < 1e-8 * (1.0 + b[k].abs()),
                        "{alpha}"
                    );
                    for j in 0..p.d {
                        let from_dual: f64 = (0..p.n).map(|i| d[(i, k)] * p.x[i * p.d + j]).sum();
                        assert!(
                            (coef[(j, k)] - from_dual).abs() < 1e-8 * (1.0 + coef[(j, k)].abs()),
                            "{alpha}"
                        );
                    }
                    // The primal pass cannot take the ridgeless limit of an
                    // interpolating fit (1 - H_ii = 0): there only the dual's LOO exists.
                    if alpha == 0.0 && p.n < p.d {
                        assert!(primal_loo[(a, k)].is_infinite() && dual_loo[(a, k)].is_finite());
                        continue;
                    }
                    let (pl, dl) = (primal_loo[(a, k)], dual_loo[(a, k)]);
                    assert!((pl - dl).abs() < 1e-8 * pl, "{alpha} n={} {pl} {dl}", p.n);
                }
            }
        }
    }

    #[test]
    fn ridgeless_dual_loo_matches_small_ridge_limit() {
        // n < d: the model interpolates at alpha = 0; LOO stays finite and is the
        // limit of tiny ridges.
        let t = 1;
        let p = problem(12, 30, t);
        let k = Mat::from_fn(p.n, p.n, |i, j| {
            (0..p.d)
                .map(|c| p.x[i * p.d + c] * p.x[j * p.d + c])
                .sum::<f64>()
        });
        for intercept in [true, false] {
            let dual = DualPath::new(
                k.as_ref(),
                row_major(&p.y, p.n, t),
                None,
                intercept,
                &Context::global(),
            )
            .unwrap();
            let loo = dual.loo_errors(&[0.0, 1e-9]).unwrap();
            assert!(loo[(0, 0)].is_finite());
            assert!(
                (loo[(0, 0)] - loo[(1, 0)]).abs() < 1e-5 * loo[(0, 0)],
                "{:?}",
                loo
            );
            let train = dual.train_errors(&[0.0]).unwrap();
            assert!(train[(0, 0)] < 1e-20);
        }
    }

    #[test]
    fn gcv_uses_the_trace_of_the_hat_matrix() {
        let t = 1;
        let p = problem(30, 4, t);
        let all: Vec<usize> = (0..p.n).collect();
        let path = PrimalPath::new(stats(&p, &all, t, false), true, &Context::global()).unwrap();
        let alpha = 0.5;
        let train = path.train_errors(&[alpha]).unwrap()[(0, 0)];
        let df: f64 = path
            .eigenvalues()
            .iter()
            .map(|l| l / (l + alpha))
            .sum::<f64>()
            + 1.0;
        let want = train / (1.0 - df / 30.0).powi(2);
        assert!((path.gcv_errors(&[alpha]).unwrap()[(0, 0)] - want).abs() < 1e-12 * want);
        assert!(path.gcv_errors(&[-1.0]).is_err());
    }

    #[test]
    fn streaming_loo_pass_equals_the_in_memory_one() {
        // 1100 rows: three blocks of the pass, the last one partial.
        let (n, d, m) = (1100, 3, 20);
        let x = data(n, d, 4);
        let y = data(n, 1, 5);
        let kernel = Kernel::Rbf { gamma: 0.5 };
        let (w, b) =
            features::sample_weights::<f64>(&kernel, features::Sampling::Iid, 1, d, m, true)
                .unwrap();
        let weights = Projection::Dense(row_major(&w, m, d).transpose());
        let ctx = Context::global();
        let (xm, ym) = (row_major(&x, n, d), row_major(&y, n, 1));
        let acc =
            crate::gram::accumulate(xm, ym, None, weights, &b, FeatureMap::Cos, 32, &ctx).unwrap();
        let path = PrimalPath::new(acc, true, &Context::global()).unwrap();
        let mut z = vec![0.0; n * m];
        features::transform(xm, weights, &b, FeatureMap::Cos, &mut z, &ctx).unwrap();
        let want = path
            .loo_errors_from_features(row_major(&z, n, m), ym, None, &ALPHAS)
            .unwrap();
        let mut runs = vec![];
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let ctx = Context::new(Some(&pool), &crate::parallel::NeverInterrupt);
            let map = FeatureMap::Cos;
            let sums = path.loo_error_sums(xm, ym, None, weights, &b, map, &ALPHAS, &ctx);
            runs.push(sums.unwrap() / n as f64);
        }
        assert_eq!(runs[0], runs[1], "the thread count changed the sums");
        for a in 0..ALPHAS.len() {
            assert!((runs[0][(a, 0)] - want[(a, 0)]).abs() < 1e-10 * want[(a, 0)]);
        }
    }
}
