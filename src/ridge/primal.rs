//! The primal ridge path of `D` random features and its leave-one-out pass.
//!
//! From the streamed statistics (`G_c = Z~^T Z~`, `B_c = Z~^T y~`,
//! [`crate::gram`]), one eigendecomposition `G_c = Q diag(lambda) Q^T` gives every
//! alpha's coefficients `beta = Q diag(g) Q^T B_c`, `g_j = shrinkage(lambda_j,
//! alpha)`, and intercept `y_mean - z_mean . beta`. Directions whose eigenvalue
//! is below the noise floor ([`super::NoiseFloor`]) are dropped at every alpha
//! (`g_j = 0`, and their share of `B_c` with them).
//!
//! Exact leave-one-out needs the leverages `H_ii = sum_j P_ij^2 g_j + s_i / s_sum`
//! (the last term with intercept) with `P = Z~ Q`, which the statistics do not
//! hold: a second pass over the rows regenerates their features and computes
//! `[P | F] = Z~ [Q | C]` block by block, `C` holding every alpha's and target's
//! coefficients, so that the residuals `r_i = y~_i - F_i` come from the same product.

use super::spectrum::{SpectralParts, SpectralPath};
use super::{
    NoiseFloor, SymmetricEigen, TARGETS_OVERFLOW, check_alpha, check_alphas, loo_squared, shrinkage,
};
use crate::error::{Error, Result};
use crate::features::FeatureSource;
use crate::gram::{CenteredStats, GramAccumulator};
use crate::linalg::{pool_matmul, pool_product};
use crate::parallel::Context;
use crate::real::Real;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// The primal ridge path of `D` random features: one eigendecomposition of the
/// centered, weighted `D x D` Gram.
///
/// Its fields are public so that a path can be rebuilt in another process
/// (pickling); [`SpectralPath::check_parts`] validates one built that way.
#[derive(Clone, Debug)]
pub struct PrimalPath {
    /// The eigendecomposition of the centered Gram (`D` values, `D x D` vectors
    /// `Q`), the projected cross products `Q^T B_c` (`D x t`), the centered target
    /// squares and the totals.
    pub spectrum: SpectralParts,
    /// Weighted means of the features (`D`; zeros without intercept).
    pub feature_means: Vec<f64>,
    /// Weighted means of the targets (`t`; zeros without intercept).
    pub target_means: Vec<f64>,
}

impl SpectralPath for PrimalPath {
    fn spectrum(&self) -> &SpectralParts {
        &self.spectrum
    }

    fn check_parts(&self) -> Result<()> {
        self.spectrum.check_path(
            |d, t| self.feature_means.len() == d && self.target_means.len() == t,
            "inconsistent ridge path parts: values (D,), vectors (D, D), projected cross (D, t), \
             feature means (D,), target means and squares (t,), at least one row",
        )
    }
}

impl PrimalPath {
    /// Decomposes the statistics `acc` (streamed by [`GramAccumulator::add_rows`]),
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
        if !acc.features_are_finite() {
            return Err(Error::NonFinite(
                "the Gram statistics of the random features overflow (squares of features \
                 beyond the float64 range): rescale X or lower gamma"
                    .into(),
            ));
        }
        if !acc.targets_are_finite() {
            return Err(Error::NonFinite(TARGETS_OVERFLOW.into()));
        }
        let scale = (0..n_components).fold(0.0, |top: f64, j| top.max(acc.gram[(j, j)]));
        let noise = NoiseFloor::of_statistics(n_samples.max(n_components), scale, acc.rounding);
        let CenteredStats {
            stats,
            feature_means,
            target_means,
        } = acc.centered(fit_intercept);
        let (eigen, cutoff) = SymmetricEigen::decompose(stats.gram, noise, ctx)?;
        let mut projected_cross = pool_matmul(eigen.vectors.transpose(), stats.cross.as_ref(), ctx);
        // Directions below the noise floor are dropped at every alpha: their
        // eigenvalue is rounding, so their share of the targets is too.
        for (j, _) in eigen.values.iter().enumerate().filter(|(_, v)| **v == 0.0) {
            projected_cross.row_mut(j).fill(0.0);
        }
        Ok(Self {
            spectrum: SpectralParts {
                eigen,
                projected_cross,
                target_squares: stats.target_squares,
                weight_sum,
                n_samples,
                fit_intercept,
                cutoff,
            },
            feature_means,
            target_means,
        })
    }

    /// Coefficients `beta = Q diag(g) Q^T B_c` (`D x t`) and intercepts
    /// `y_mean - z_mean . beta` (`t`) at ridge `alpha`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite `alpha`.
    pub fn coef(&self, alpha: f64, ctx: &Context) -> Result<(Mat<f64>, Vec<f64>)> {
        check_alpha(alpha)?;
        let SpectralParts {
            eigen,
            projected_cross,
            cutoff,
            ..
        } = &self.spectrum;
        let (d, t) = (projected_cross.nrows(), projected_cross.ncols());
        let scaled = Mat::from_fn(d, t, |j, k| {
            shrinkage(eigen.values[j], alpha, *cutoff) * projected_cross[(j, k)]
        });
        let coef = pool_matmul(eigen.vectors.as_ref(), scaled.as_ref(), ctx);
        let intercept = (0..t)
            .map(|k| {
                let offset: f64 = (0..d).map(|j| self.feature_means[j] * coef[(j, k)]).sum();
                self.target_means[k] - offset
            })
            .collect();
        Ok((coef, intercept))
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
    pub fn loo_error_sums<T: Real, C: Real>(
        &self,
        x: MatRef<'_, T>,
        y: MatRef<'_, f64>,
        sample_weight: Option<&[f64]>,
        features: &impl FeatureSource<T>,
        alphas: &[f64],
        ctx: &Context,
    ) -> Result<Mat<f64>> {
        let pass = self.loo_pass(x.nrows(), y, alphas, ctx)?;
        let d = self.spectrum.rank();
        if features.n_components() != d {
            return Err(Error::Shape(format!(
                "the weights give {} features for statistics of {d}",
                features.n_components()
            )));
        }
        pass.sums(self, y, sample_weight, ctx, |start, rows, z: &mut [C]| {
            let out = MatMut::from_column_major_slice_mut(z, rows, d);
            features.write_columns(x.subrows(start, rows), start, out)
        })
    }

    /// [`PrimalPath::loo_error_sums`] of the features `P^T u(x)`, given the source
    /// `features` of the `M` features `u(x)` and the `M x r` projection `lift`:
    /// the rows are projected with `P [Q | C]` in one product, so the `r`
    /// features themselves are never formed (Nystrom fits: `u(x) = k(C, x)`).
    ///
    /// # Errors
    /// As [`PrimalPath::loo_error_sums`]; [`Error::Shape`] if `lift` does not map
    /// the source's `M` features to the path's `r`.
    #[allow(clippy::too_many_arguments)]
    pub fn loo_error_sums_lifted<T: Real>(
        &self,
        x: MatRef<'_, T>,
        y: MatRef<'_, f64>,
        sample_weight: Option<&[f64]>,
        features: &impl FeatureSource<T>,
        lift: MatRef<'_, f64>,
        alphas: &[f64],
        ctx: &Context,
    ) -> Result<Mat<f64>> {
        let (m, r) = (features.n_components(), self.spectrum.rank());
        if lift.nrows() != m || lift.ncols() != r {
            return Err(Error::Shape(format!(
                "the projection is {} x {}; it must map the {m} features to the path's {r}",
                lift.nrows(),
                lift.ncols()
            )));
        }
        let pass = self
            .loo_pass(x.nrows(), y, alphas, ctx)?
            .lifted(lift, &self.feature_means, ctx);
        pass.sums(self, y, sample_weight, ctx, |start, rows, u: &mut [f64]| {
            let out = MatMut::from_column_major_slice_mut(u, rows, m);
            features.write_columns(x.subrows(start, rows), start, out)
        })
    }

    /// The leave-one-out errors (`sum_i e_i^2 / n`) of [`PrimalPath::loo_error_sums`],
    /// on features `z` (`n x D`) held in memory.
    ///
    /// # Errors
    /// [`Error::Shape`] if the data does not match the statistics;
    /// [`Error::InvalidParameter`] for a bad alpha.
    #[cfg(test)]
    pub(crate) fn loo_errors_from_features(
        &self,
        z: MatRef<'_, f64>,
        y: MatRef<'_, f64>,
        sample_weight: Option<&[f64]>,
        alphas: &[f64],
    ) -> Result<Mat<f64>> {
        let n_samples = self.spectrum.n_samples;
        if z.nrows() != n_samples {
            return Err(Error::Shape(format!(
                "got {} rows for statistics of {n_samples} rows",
                z.nrows(),
            )));
        }
        let global = Context::global();
        let pass = self.loo_pass(z.nrows(), y, alphas, &global)?;
        let sums = pass.sums(
            self,
            y,
            sample_weight,
            &global,
            |start, rows, dst: &mut [f64]| {
                dst.copy_from_slice(&crate::linalg::column_major(z.subrows(start, rows)));
                Ok(())
            },
        )?;
        Ok(sums / (n_samples as f64))
    }

    fn loo_pass(
        &self,
        n: usize,
        y: MatRef<'_, f64>,
        alphas: &[f64],
        ctx: &Context,
    ) -> Result<LooPass> {
        check_alphas(alphas)?;
        let SpectralParts {
            eigen,
            projected_cross,
            cutoff,
            ..
        } = &self.spectrum;
        let (d, t, n_alphas) = (eigen.values.len(), y.ncols(), alphas.len());
        if y.nrows() != n || t != projected_cross.ncols() {
            return Err(Error::Shape(format!(
                "the leave-one-out pass got {n} rows with {} targets for statistics of {} targets",
                y.nrows(),
                projected_cross.ncols()
            )));
        }
        // Dropped directions (eigenvalue 0) have no leverage at any alpha.
        let shrink = Mat::from_fn(d, n_alphas, |j, a| {
            let lambda = eigen.values[j];
            if lambda > 0.0 {
                shrinkage(lambda, alphas[a], *cutoff)
            } else {
                0.0
            }
        });
        let fitted = Mat::from_fn(d, t * n_alphas, |j, col| {
            projected_cross[(j, col / n_alphas)] * shrink[(j, col % n_alphas)]
        });
        let mut projector = Mat::<f64>::zeros(d, d + t * n_alphas);
        projector.subcols_mut(0, d).copy_from(&eigen.vectors);
        let coefficients = projector.subcols_mut(d, t * n_alphas);
        let vectors = eigen.vectors.as_ref();
        pool_product(coefficients, Accum::Replace, vectors, fitted.as_ref(), ctx);
        Ok(LooPass {
            shrink,
            projector,
            offset: None,
        })
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
    /// Lifted ([`LooPass::lifted`]): `P [Q | C]`, one row per source feature.
    projector: Mat<f64>,
    /// Lifted: `z_mean^T [Q | C]`, subtracted from each row's product (the rows
    /// are centered after the projection, their means being known only projected);
    /// `None`: the features are centered before it.
    offset: Option<Vec<f64>>,
}

impl LooPass {
    /// The pass on source features `u` with `z = P^T u` (`P` = `lift`, `M x D`):
    /// projector `P [Q | C]` and the offset of the projected means `z_mean`.
    fn lifted(self, lift: MatRef<'_, f64>, z_mean: &[f64], ctx: &Context) -> Self {
        let offset = (0..self.projector.ncols())
            .map(|c| {
                (0..z_mean.len())
                    .map(|j| z_mean[j] * self.projector[(j, c)])
                    .sum()
            })
            .collect();
        let projector = pool_matmul(lift, self.projector.as_ref(), ctx);
        Self {
            shrink: self.shrink,
            projector,
            offset: Some(offset),
        }
    }

    /// Squared leave-one-out residuals summed over all rows (`n_alphas x t`):
    /// `features(start, rows, z)` writes the column-major features of rows
    /// `start..start + rows` into `z`, in the compute type `C` of the projection.
    /// Runs in parallel blocks of [`LOO_BLOCK_ROWS`] rows whose sums are added in
    /// order, so the result does not depend on the thread count.
    fn sums<C: Real>(
        &self,
        path: &PrimalPath,
        y: MatRef<'_, f64>,
        sample_weight: Option<&[f64]>,
        ctx: &Context,
        features: impl Fn(usize, usize, &mut [C]) -> Result<()> + Sync,
    ) -> Result<Mat<f64>> {
        let (n, d) = (y.nrows(), self.projector.nrows());
        let projector = self.projector.as_ref();
        let projector =
            Mat::<C>::from_fn(d, projector.ncols(), |i, j| C::from_f64(projector[(i, j)]));
        let mut sums = vec![Mat::<f64>::zeros(0, 0); n.div_ceil(LOO_BLOCK_ROWS)];
        let blocks = sums.iter_mut().enumerate();
        ctx.for_each_task(blocks, |(block, sum)| {
            let start = block * LOO_BLOCK_ROWS;
            let rows = LOO_BLOCK_ROWS.min(n - start);
            let mut z = vec![C::zero(); rows * d];
            features(start, rows, &mut z)?;
            let (y, s) = (
                y.subrows(start, rows),
                sample_weight.map(|s| &s[start..start + rows]),
            );
            *sum = self.block_sums(path, projector.as_ref(), &mut z, y, s);
            Ok(())
        })?;
        let mut total = Mat::<f64>::zeros(self.shrink.ncols(), y.ncols());
        sums.iter().for_each(|sum| total += sum);
        Ok(total)
    }

    /// Squared leave-one-out residuals summed over the column-major rows `z`
    /// (uncentered features, consumed) with targets `y` and weights `s`, for every
    /// alpha and target: `[P | F] = Z~ [Q | C]` in the compute type `C` (`projector`
    /// is `[Q | C]` rounded to it), then leverages `(P o P) g`, residuals and their
    /// sums in float64.
    fn block_sums<C: Real>(
        &self,
        path: &PrimalPath,
        projector: MatRef<'_, C>,
        z: &mut [C],
        y: MatRef<'_, f64>,
        s: Option<&[f64]>,
    ) -> Mat<f64> {
        let (rows, t) = (y.nrows(), y.ncols());
        let (width, d) = (self.projector.nrows(), path.spectrum.rank());
        let n_alphas = self.shrink.ncols();
        let weight = |i: usize| s.map_or(1.0, |s| s[i]);
        let sqrt_weights: Vec<f64> = (0..rows).map(|i| weight(i).sqrt()).collect();
        let zeros = vec![0.0; width];
        let means = if self.offset.is_some() {
            &zeros
        } else {
            &path.feature_means
        };
        for (column, mean) in z.chunks_exact_mut(rows.max(1)).zip(means) {
            for (v, w) in column.iter_mut().zip(&sqrt_weights) {
                *v = C::from_f64(w * (v.to_f64() - mean));
            }
        }
        let mut products = Mat::<C>::zeros(rows, projector.ncols());
        let scaled = MatRef::from_column_major_slice(z, rows, width);
        matmul(
            products.as_mut(),
            Accum::Replace,
            scaled,
            projector,
            C::one(),
            Par::Seq,
        );
        // The rest in float64: the offsets, P o P, the leverages and the fits.
        let mut widened = Mat::<f64>::zeros(rows, projector.ncols());
        for (c, (dst, src)) in widened.col_iter_mut().zip(products.col_iter()).enumerate() {
            let o = self.offset.as_ref().map_or(0.0, |o| o[c]);
            for ((v, &p), w) in dst.iter_mut().zip(src.iter()).zip(&sqrt_weights) {
                *v = Real::to_f64(p) - w * o;
            }
        }
        drop(products);
        let (mut squares, predicted) = widened.as_mut().split_at_col_mut(d);
        squares
            .as_mut()
            .col_iter_mut()
            .for_each(|c| c.iter_mut().for_each(|v| *v *= *v)); // P o P
        let mut leverage = Mat::<f64>::zeros(rows, n_alphas);
        matmul(
            leverage.as_mut(),
            Accum::Replace,
            &squares,
            &self.shrink,
            1.0,
            Par::Seq,
        );
        let (fit_intercept, weight_sum) = (path.spectrum.fit_intercept, path.spectrum.weight_sum);
        let mut sums = Mat::<f64>::zeros(n_alphas, t);
        for i in 0..rows {
            let intercept_leverage = if fit_intercept {
                weight(i) / weight_sum
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
