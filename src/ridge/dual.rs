//! The dual ridge path on an `n x n` kernel matrix (exact kernels, or `Z Z^T`
//! when there are fewer samples than features).
//!
//! With `C = I - 1 p^T` (`p_i = s_i / s_sum` with intercept, else 0) and `S =
//! diag(s)`, the centered, weighted kernel `K~ = S^(1/2) C K C^T S^(1/2)` is
//! decomposed once, `K~ = U diag(sigma) U^T`. At ridge `alpha`, with `g_j =
//! shrinkage(sigma_j, alpha)`:
//!
//! ```text
//! dual coefficients  d = S^(1/2) (I - v v^T) U diag(g) U^T y~,   v_i = sqrt(p_i)
//! intercept          b = y_mean - sum_i d_i m_i,   m_i = sum_j p_j K_ji
//! fit                f(x) = sum_i d_i k(x, x_i) + b
//! ```
//!
//! Leave-one-out: `I - H = U diag(w) U^T - c v v^T` up to a common factor, so
//! `1 - H_ii = sum_j U_ij^2 w_j - c v_i^2` and `r = U diag(w) U^T y~`
//! ([`DualPath::loo_errors`]); `w_j = alpha / (sigma_j + alpha)`, `c = 1`, or in
//! the ridgeless limit the weights of `DualPath`'s `complement_weights`.

use super::spectrum::{SpectralParts, SpectralPath};
use super::{
    NoiseFloor, SymmetricEigen, TARGETS_OVERFLOW, check_alpha, check_alphas, loo_squared, shrinkage,
};
use crate::error::{Error, Result};
use crate::linalg::pool_matmul;
use crate::parallel::Context;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};

/// Rows of `U` per task of [`DualPath::loo_errors`]: fixed, so that the sums are
/// added in the same order whatever the thread count.
const LOO_BLOCK_ROWS: usize = 128;

/// The dual ridge path on an `n x n` kernel matrix `K` (exact kernels, or
/// `Z Z^T` when there are fewer samples than features): one eigendecomposition of
/// the centered, weighted `K~ = S^(1/2) C K C^T S^(1/2)`.
///
/// Its fields are public so that a path can be rebuilt in another process
/// (pickling); [`SpectralPath::check_parts`] validates one built that way.
#[derive(Clone, Debug)]
pub struct DualPath {
    /// The eigendecomposition of `K~` (`n` values, `n x n` vectors `U`), the
    /// targets projected as [`SpectralParts`] needs them, `sqrt(sigma_j) (U^T
    /// y~)_jk` (`n x t`), the centered target squares and the totals.
    pub spectrum: SpectralParts,
    /// `U^T y~`, `n x t`.
    pub projected_targets: Mat<f64>,
    /// `sqrt(s_i)`, `n`.
    pub sqrt_weights: Vec<f64>,
    /// `v_i = sqrt(s_i / s_sum)` with intercept, else zeros; `n`.
    pub intercept_direction: Vec<f64>,
    /// Weighted column means of `K`, `m_i = sum_j s_j K_ji / s_sum` (zeros
    /// without intercept); `n`.
    pub kernel_means: Vec<f64>,
    /// Weighted means of the targets (`t`; zeros without intercept).
    pub target_means: Vec<f64>,
}

impl SpectralPath for DualPath {
    fn spectrum(&self) -> &SpectralParts {
        &self.spectrum
    }

    fn check_parts(&self) -> Result<()> {
        let per_row = [
            &self.sqrt_weights,
            &self.intercept_direction,
            &self.kernel_means,
        ];
        let agree = |n, t| {
            self.spectrum.n_samples == n
                && self.projected_targets.shape() == (n, t)
                && per_row.iter().all(|v| v.len() == n)
                && self.target_means.len() == t
        };
        self.spectrum.check_path(
            agree,
            "inconsistent dual ridge path parts: values (n,), vectors (n, n), projected \
             cross and projected targets (n, t), sqrt weights, intercept direction and \
             kernel means (n,), target means and squares (t,), n_samples = n > 0",
        )
    }
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
        let target_squares: Vec<f64> = (0..t)
            .map(|k| scaled_targets.col(k).squared_norm_l2())
            .collect();
        if target_squares.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite(TARGETS_OVERFLOW.into()));
        }
        let scale = (0..n).fold(0.0, |top: f64, i| top.max(s[i] * kernel[(i, i)].abs()));
        let (eigen, cutoff) =
            SymmetricEigen::decompose(centered, NoiseFloor::float64(n, scale), ctx)?;
        let projected_targets =
            pool_matmul(eigen.vectors.transpose(), scaled_targets.as_ref(), ctx);
        let projected_cross = Mat::from_fn(n, t, |j, k| {
            eigen.values[j].sqrt() * projected_targets[(j, k)]
        });
        let intercept_direction = p.iter().map(|v| v.sqrt()).collect();
        Ok(Self {
            spectrum: SpectralParts {
                eigen,
                projected_cross,
                target_squares,
                weight_sum: s_sum,
                n_samples: n,
                fit_intercept,
                cutoff,
            },
            projected_targets,
            sqrt_weights,
            intercept_direction,
            kernel_means,
            target_means,
        })
    }

    /// Dual coefficients `d` (`n x t`, the fit is `f(x) = sum_i d_i k(x, x_i) + b`)
    /// and intercepts `b` at ridge `alpha`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite `alpha`.
    pub fn dual_coef(&self, alpha: f64, ctx: &Context) -> Result<(Mat<f64>, Vec<f64>)> {
        check_alpha(alpha)?;
        let SpectralParts { eigen, cutoff, .. } = &self.spectrum;
        let (n, t) = (
            self.projected_targets.nrows(),
            self.projected_targets.ncols(),
        );
        let scaled = Mat::from_fn(n, t, |j, k| {
            shrinkage(eigen.values[j], alpha, *cutoff) * self.projected_targets[(j, k)]
        });
        let mut beta = pool_matmul(eigen.vectors.as_ref(), scaled.as_ref(), ctx);
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
        Ok((dual, intercept))
    }

    /// Per eigenvector `j`, the weight of `I - H` (up to a common factor, which
    /// cancels in `r_i / (1 - H_ii)`), and the weight of the intercept direction.
    ///
    /// `alpha > 0`: `alpha / (sigma_j + alpha)`. `alpha = 0` (ridgeless limit): 1 on
    /// the null space when it holds more than the intercept direction, else
    /// `1 / sigma_j` on the range (the limit of `(I - H) / alpha`).
    pub(super) fn complement_weights(&self, alpha: f64) -> (Vec<f64>, f64) {
        let SpectralParts { eigen, cutoff, .. } = &self.spectrum;
        let (values, cutoff) = (&eigen.values, *cutoff);
        let has_intercept = self.intercept_direction.iter().any(|&v| v != 0.0);
        let n_null = values.iter().filter(|&&v| v <= cutoff).count();
        if alpha > 0.0 {
            (values.iter().map(|&v| alpha / (v + alpha)).collect(), 1.0)
        } else if n_null > usize::from(has_intercept) {
            (
                values
                    .iter()
                    .map(|&v| f64::from(u8::from(v <= cutoff)))
                    .collect(),
                1.0,
            )
        } else {
            (
                values
                    .iter()
                    .map(|&v| if v > cutoff { 1.0 / v } else { 0.0 })
                    .collect(),
                0.0,
            )
        }
    }

    /// Exact leave-one-out errors `sum_i e_i^2 / n` for every alpha (rows) and
    /// target.
    ///
    /// The `O(n^2 (1 + t) n_alphas)` products run on `ctx`'s pool in blocks of a
    /// fixed number of rows of `U` (128): each block computes its diagonals
    /// `(U o U)[block] W`, its residuals `U[block] (W o U^T y~)` and its sums of
    /// squared leave-one-out residuals, and the block sums are added in block
    /// order, so the result does not depend on the thread count. The interrupt is
    /// polled between batches of blocks.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite alpha;
    /// [`Error::Interrupted`] if `ctx`'s interrupt fires.
    pub fn loo_errors(&self, alphas: &[f64], ctx: &Context) -> Result<Mat<f64>> {
        let loo = self.loo_weights(alphas)?;
        let (n, n_alphas) = (self.projected_targets.nrows(), alphas.len());
        let (t, u) = (loo.n_targets, self.spectrum.eigen.vectors.as_ref());
        let (weights, weighted) = (&loo.weights, &loo.weighted);
        let mut sums = vec![Mat::<f64>::zeros(0, 0); n.div_ceil(LOO_BLOCK_ROWS)];
        ctx.for_each_task(sums.iter_mut().enumerate(), |(block, sum)| {
            let start = block * LOO_BLOCK_ROWS;
            let rows = LOO_BLOCK_ROWS.min(n - start);
            let u_block = u.subrows(start, rows);
            let u_squared = Mat::from_fn(rows, n, |i, j| u_block[(i, j)] * u_block[(i, j)]);
            let mut diagonals = Mat::<f64>::zeros(rows, n_alphas);
            let mut residuals = Mat::<f64>::zeros(rows, t * n_alphas);
            let (accum, par) = (Accum::Replace, Par::Seq);
            matmul(diagonals.as_mut(), accum, &u_squared, weights, 1.0, par);
            matmul(residuals.as_mut(), accum, u_block, weighted, 1.0, par);
            let v = &self.intercept_direction[start..start + rows];
            *sum = loo.squared_sums(diagonals.as_ref(), residuals.as_ref(), v);
            Ok(())
        })?;
        let mut errors = Mat::<f64>::zeros(n_alphas, t);
        sums.iter().for_each(|sum| errors += sum);
        Ok(errors / (n as f64))
    }

    /// The weights of `I - H` of every alpha ([`LooWeights`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite alpha.
    pub(super) fn loo_weights(&self, alphas: &[f64]) -> Result<LooWeights> {
        check_alphas(alphas)?;
        let (n, t, n_alphas) = (
            self.projected_targets.nrows(),
            self.projected_targets.ncols(),
            alphas.len(),
        );
        let (weights, intercept_weights): (Vec<Vec<f64>>, Vec<f64>) =
            alphas.iter().map(|&a| self.complement_weights(a)).unzip();
        let scales = weights
            .iter()
            .map(|w| w.iter().copied().fold(0.0, f64::max))
            .collect();
        let weights = Mat::from_fn(n, n_alphas, |j, a| weights[a][j]);
        let weighted = Mat::from_fn(n, t * n_alphas, |j, col| {
            weights[(j, col % n_alphas)] * self.projected_targets[(j, col / n_alphas)]
        });
        Ok(LooWeights {
            weights,
            weighted,
            intercept_weights,
            scales,
            n_targets: t,
        })
    }
}

/// The weights of `I - H = U diag(w) U^T - c v v^T` (up to a common factor) for
/// every alpha, from which the leave-one-out residuals of any rows follow:
/// `1 - H_ii = ((U o U) W)_ia - c_a v_i^2` and `r = U W~`.
pub(super) struct LooWeights {
    /// `W`: `w_ja`, the weight of eigenvector `j` at alpha `a` (`n x n_alphas`).
    pub(super) weights: Mat<f64>,
    /// `W~`: `w_ja (U^T y~)_jk` at column `k * n_alphas + a` (`n x t n_alphas`).
    pub(super) weighted: Mat<f64>,
    /// `c_a`, the weight of the intercept direction, per alpha.
    intercept_weights: Vec<f64>,
    /// The largest weight per alpha: the scale of `1 - H_ii` below which a point
    /// counts as interpolated.
    scales: Vec<f64>,
    /// The number of targets `t`.
    n_targets: usize,
}

impl LooWeights {
    /// Sums of squared leave-one-out residuals (`n_alphas x t`) over the rows
    /// whose `diagonals` (`(U o U) W`), `residuals` (`U W~`) and intercept
    /// directions `v` are given, added in the order alpha, row, target.
    pub(super) fn squared_sums(
        &self,
        diagonals: MatRef<'_, f64>,
        residuals: MatRef<'_, f64>,
        v: &[f64],
    ) -> Mat<f64> {
        let n_alphas = self.scales.len();
        let mut sums = Mat::<f64>::zeros(n_alphas, self.n_targets);
        for (a, intercept_weight) in self.intercept_weights.iter().enumerate() {
            for (i, v_i) in v.iter().enumerate() {
                let complement = diagonals[(i, a)] - intercept_weight * v_i.powi(2);
                for k in 0..self.n_targets {
                    let residual = residuals[(i, k * n_alphas + a)];
                    sums[(a, k)] += loo_squared(residual, complement, self.scales[a]);
                }
            }
        }
        sums
    }
}
