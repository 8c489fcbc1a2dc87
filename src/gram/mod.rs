//! Streaming sufficient statistics of weighted least squares on random features.
//!
//! Over row chunks of `(Z, Y, s)` (features, targets, sample weights) a
//! [`GramAccumulator`] adds up
//!
//! ```text
//! G = sum_i s_i z_i z_i^T   (lower triangle)      B = sum_i s_i z_i y_i^T
//! z_sum = sum_i s_i z_i      y_sum = sum_i s_i y_i      y_sq = sum_i s_i y_i^2
//! s_sum = sum_i s_i          n = number of rows
//! ```
//!
//! which is all a ridge fit needs: the weighted, centered statistics
//! `G_c = G - z_sum z_sum^T / s_sum`, `B_c = B - z_sum y_sum^T / s_sum` follow at
//! the end ([`GramAccumulator::centered`]). Everything is additive, so chunks,
//! `partial_fit` calls and distributed blocks combine with [`GramAccumulator::merge`].
//! Memory is `O(D^2 + D t)`, independent of the number of rows.

mod products;

pub use products::add_products;

use crate::error::{Error, Result};
use crate::features::{self, FeatureSource};
use crate::linalg::{column_major, pool_matmul, pool_product};
use crate::parallel::Context;
use crate::real::Real;
use faer::{Accum, Mat, MatRef, Par};

/// Running sums `G`, `B`, `z_sum`, `y_sum`, `y_sq`, `s_sum`, `n` (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct GramAccumulator {
    /// `sum_i s_i z_i z_i^T`, `D x D`; only the lower triangle is maintained.
    pub gram: Mat<f64>,
    /// `sum_i s_i z_i y_i^T`, `D x t`.
    pub cross: Mat<f64>,
    /// `sum_i s_i z_i`, length `D`.
    pub feature_sums: Vec<f64>,
    /// `sum_i s_i y_i`, length `t`.
    pub target_sums: Vec<f64>,
    /// `sum_i s_i y_i^2`, length `t`.
    pub target_squares: Vec<f64>,
    /// `sum_i s_i`.
    pub weight_sum: f64,
    /// Number of rows accumulated.
    pub n_samples: usize,
    /// The relative rounding of the products: `f64::EPSILON`, or `f32::EPSILON`
    /// once any rows were computed in float32 (it sets the noise floor of the
    /// spectrum, [`crate::ridge::SymmetricEigen::truncate`]).
    pub rounding: f64,
}

/// The statistics of the rows minus their weighted means (for a fit with
/// intercept; as accumulated without), and those means.
#[derive(Clone, Debug)]
pub struct CenteredStats {
    /// The statistics of the centered rows: `G_c` (full symmetric), `B_c`, the
    /// centered target squares, and feature and target sums of 0 up to rounding.
    pub stats: GramAccumulator,
    /// Weighted mean of each feature (zeros without intercept).
    pub feature_means: Vec<f64>,
    /// Weighted mean of each target (zeros without intercept).
    pub target_means: Vec<f64>,
}

impl GramAccumulator {
    /// Empty statistics for `n_components` features and `n_targets` targets.
    pub fn new(n_components: usize, n_targets: usize) -> Self {
        Self {
            gram: Mat::zeros(n_components, n_components),
            cross: Mat::zeros(n_components, n_targets),
            feature_sums: vec![0.0; n_components],
            target_sums: vec![0.0; n_targets],
            target_squares: vec![0.0; n_targets],
            weight_sum: 0.0,
            n_samples: 0,
            rounding: f64::EPSILON,
        }
    }

    /// Bytes held by the statistics of `n_components` features and `n_targets` targets.
    pub fn bytes(n_components: usize, n_targets: usize) -> u128 {
        let (d, t) = (n_components as u128, n_targets as u128);
        8 * (d * d + d * t + d + 2 * t + 2)
    }

    /// Whether the statistics of the features alone are finite (the Gram's lower
    /// triangle, the feature sums, the weight total): an overflowing feature makes
    /// some infinite or NaN.
    pub fn features_are_finite(&self) -> bool {
        let d = self.n_components();
        (0..d).all(|j| (j..d).all(|i| self.gram[(i, j)].is_finite()))
            && self.feature_sums.iter().all(|x| x.is_finite())
            && self.weight_sum.is_finite()
    }

    /// Whether the statistics that involve the targets are finite (`B`, the target
    /// sums and squares): targets beyond about `1e154` overflow their squares.
    pub fn targets_are_finite(&self) -> bool {
        self.cross.is_all_finite()
            && [&self.target_sums, &self.target_squares]
                .iter()
                .all(|v| v.iter().all(|x| x.is_finite()))
    }

    /// Number of features `D`.
    pub fn n_components(&self) -> usize {
        self.gram.nrows()
    }

    /// Number of targets `t`.
    pub fn n_targets(&self) -> usize {
        self.cross.ncols()
    }

    /// Adds the rows of `z` (`rows x D`) with targets `y` (`rows x t`) and weights
    /// `sample_weight` (all ones when `None`). Parallel inside the products with `par`.
    ///
    /// # Panics
    /// If the shapes disagree with the accumulator's.
    pub fn update(
        &mut self,
        z: MatRef<'_, f64>,
        y: MatRef<'_, f64>,
        sample_weight: Option<&[f64]>,
        par: Par,
    ) {
        let (gram, cross) = (self.gram.as_mut(), self.cross.as_mut());
        let mut z = column_major(z);
        add_products(
            gram,
            cross,
            &mut self.feature_sums,
            &mut z,
            y,
            sample_weight,
            par,
        );
        self.add_target_sums(y, sample_weight);
    }

    fn add_target_sums(&mut self, y: MatRef<'_, f64>, sample_weight: Option<&[f64]>) {
        for i in 0..y.nrows() {
            let s = sample_weight.map_or(1.0, |s| s[i]);
            self.weight_sum += s;
            for k in 0..y.ncols() {
                self.target_sums[k] += s * y[(i, k)];
                self.target_squares[k] += s * y[(i, k)] * y[(i, k)];
            }
        }
        self.n_samples += y.nrows();
    }

    /// Adds `other`'s statistics (for example of another block of rows).
    ///
    /// # Errors
    /// [`Error::Shape`] if the two were accumulated for different `D` or `t`.
    pub fn merge(&mut self, other: &GramAccumulator) -> Result<()> {
        self.check_same_shape(other)?;
        self.gram += &other.gram;
        self.cross += &other.cross;
        let add = |a: &mut [f64], b: &[f64]| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.feature_sums, &other.feature_sums);
        add(&mut self.target_sums, &other.target_sums);
        add(&mut self.target_squares, &other.target_squares);
        self.weight_sum += other.weight_sum;
        self.n_samples += other.n_samples;
        self.rounding = self.rounding.max(other.rounding);
        Ok(())
    }

    /// Statistics from their parts (unpickling), checked to agree in shape.
    ///
    /// # Errors
    /// [`Error::Shape`] if `gram` is not `D x D`, `cross` not `D x t`,
    /// `feature_sums` not `D` long or the target sums not `t` long;
    /// [`Error::InvalidParameter`] unless `rounding` is float64's or float32's epsilon.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        gram: Mat<f64>,
        cross: Mat<f64>,
        feature_sums: Vec<f64>,
        target_sums: Vec<f64>,
        target_squares: Vec<f64>,
        weight_sum: f64,
        n_samples: usize,
        rounding: f64,
    ) -> Result<Self> {
        let (d, t) = (gram.nrows(), cross.ncols());
        let roundings = [f64::EPSILON, f64::from(f32::EPSILON)];
        if !roundings.contains(&rounding) {
            return Err(Error::InvalidParameter(format!(
                "the statistics' rounding is {rounding}; it must be float64's or float32's \
                 epsilon, {roundings:?}"
            )));
        }
        let consistent = gram.ncols() == d
            && cross.nrows() == d
            && feature_sums.len() == d
            && target_sums.len() == t
            && target_squares.len() == t;
        if !consistent {
            return Err(Error::Shape(format!(
                "the statistics' shapes disagree: gram {} x {}, cross {} x {}, feature_sums {}, \
                 target_sums {}, target_squares {}; expected (D, D), (D, t), (D,), (t,), (t,)",
                gram.nrows(),
                gram.ncols(),
                cross.nrows(),
                t,
                feature_sums.len(),
                target_sums.len(),
                target_squares.len()
            )));
        }
        Ok(Self {
            gram,
            cross,
            feature_sums,
            target_sums,
            target_squares,
            weight_sum,
            n_samples,
            rounding,
        })
    }

    /// Adds the rows of `x` with targets `y` and weights `sample_weight` (ones when
    /// `None`): computes their random features `chunk_rows` rows at a time (as
    /// [`features::transform`]) in the compute type `C` and adds their products
    /// and sums ([`add_products`]; float32 rows raise
    /// [`GramAccumulator::rounding`]).
    ///
    /// Peak memory is `O(chunk_rows x (d + D))` beyond the statistics: no `n x D`
    /// matrix is formed. On an error the statistics are left partly updated.
    ///
    /// # Errors
    /// As [`features::transform`]; [`Error::Shape`] if `y`, `sample_weight` or the
    /// features do not fit `x` and the statistics.
    pub fn add_rows<T: Real, C: Real>(
        &mut self,
        x: MatRef<'_, T>,
        y: MatRef<'_, f64>,
        sample_weight: Option<&[f64]>,
        features: &impl FeatureSource<T>,
        chunk_rows: usize,
        ctx: &Context,
    ) -> Result<()> {
        let n = x.nrows();
        let n_components = features.n_components();
        if y.nrows() != n || sample_weight.is_some_and(|s| s.len() != n) {
            return Err(Error::Shape(format!(
                "X has {n} rows but y has {} and sample_weight {}",
                y.nrows(),
                sample_weight.map_or(n, <[f64]>::len)
            )));
        }
        if n_components != self.n_components() || y.ncols() != self.n_targets() {
            return Err(Error::Shape(format!(
                "the rows give {n_components} features and {} targets for statistics of {} \
                 features and {} targets",
                y.ncols(),
                self.n_components(),
                self.n_targets()
            )));
        }
        let (mut gram, mut cross) = (self.gram.as_mut(), self.cross.as_mut());
        let feature_sums = &mut self.feature_sums;
        features::for_each_chunk(x, features, chunk_rows, ctx, |start, z: &mut [C]| {
            let rows = z.len() / n_components.max(1);
            let w = sample_weight.map(|s| &s[start..start + rows]);
            let (g, c, y) = (gram.as_mut(), cross.as_mut(), y.subrows(start, rows));
            ctx.install(|| add_products(g, c, feature_sums, z, y, w, Par::rayon(0)));
            Ok(())
        })?;
        self.add_target_sums(y, sample_weight);
        self.rounding = self.rounding.max(C::epsilon().to_f64());
        Ok(())
    }

    /// Removes `other`'s statistics (of a subset of these rows, e.g. a
    /// cross-validation fold): what is left are the statistics of the other rows.
    ///
    /// # Errors
    /// [`Error::Shape`] if the two were accumulated for different `D` or `t`.
    pub fn subtract(&mut self, other: &GramAccumulator) -> Result<()> {
        self.check_same_shape(other)?;
        self.gram -= &other.gram;
        self.cross -= &other.cross;
        let sub = |a: &mut [f64], b: &[f64]| a.iter_mut().zip(b).for_each(|(x, y)| *x -= y);
        sub(&mut self.feature_sums, &other.feature_sums);
        sub(&mut self.target_sums, &other.target_sums);
        sub(&mut self.target_squares, &other.target_squares);
        self.weight_sum -= other.weight_sum;
        self.n_samples -= other.n_samples.min(self.n_samples);
        self.rounding = self.rounding.max(other.rounding);
        Ok(())
    }

    /// The statistics of the `k`-feature map from those of this wider (`D`-feature)
    /// one: features are nested, the first `k` of `D` features times `sqrt(D / k)`
    /// being the `k`-feature map of the same seed, so `G_k = (D/k) G[:k, :k]`,
    /// `B_k = sqrt(D/k) B[:k]`, `z_sum_k = sqrt(D/k) z_sum[:k]`; the target sums
    /// are shared.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `1 <= k <= D`.
    pub fn leading(&self, k: usize) -> Result<Self> {
        let width = self.n_components();
        if !(1..=width).contains(&k) {
            return Err(Error::InvalidParameter(format!(
                "n_components must be in [1, {width}], got {k}"
            )));
        }
        let scale = width as f64 / k as f64;
        let root = scale.sqrt();
        Ok(Self {
            gram: Mat::from_fn(k, k, |i, j| self.gram[(i, j)] * scale),
            cross: Mat::from_fn(k, self.n_targets(), |i, t| self.cross[(i, t)] * root),
            feature_sums: self.feature_sums[..k].iter().map(|v| v * root).collect(),
            target_sums: self.target_sums.clone(),
            target_squares: self.target_squares.clone(),
            weight_sum: self.weight_sum,
            n_samples: self.n_samples,
            rounding: self.rounding,
        })
    }

    /// The statistics of the features `P^T z` (`r` of them) for the `D x r`
    /// projection `p`: `G_P = P^T G P`, `B_P = P^T B`, `z_sum_P = P^T z_sum`; the
    /// target sums are shared. Nystrom fits accumulate the kernel columns
    /// `k(C, x)` and project once ([`crate::features::NystroemFeatures`]).
    ///
    /// # Errors
    /// [`Error::Shape`] unless `p` has one row per feature.
    pub fn project(&self, p: MatRef<'_, f64>, ctx: &Context) -> Result<Self> {
        let d = self.n_components();
        if p.nrows() != d {
            return Err(Error::Shape(format!(
                "the projection has {} rows for statistics of {d} features",
                p.nrows()
            )));
        }
        let gram = Mat::from_fn(d, d, |i, j| self.gram[(i.max(j), i.min(j))]);
        let half = pool_matmul(gram.as_ref(), p, ctx);
        let cross = pool_matmul(p.transpose(), self.cross.as_ref(), ctx);
        let gram = pool_matmul(p.transpose(), half.as_ref(), ctx);
        let feature_sums = (0..p.ncols())
            .map(|c| (0..d).map(|i| p[(i, c)] * self.feature_sums[i]).sum())
            .collect();
        Ok(Self {
            gram,
            cross,
            feature_sums,
            target_sums: self.target_sums.clone(),
            target_squares: self.target_squares.clone(),
            weight_sum: self.weight_sum,
            n_samples: self.n_samples,
            rounding: self.rounding,
        })
    }

    /// Turns these into the statistics of the targets `y - delta` (one shift per
    /// target): `B -= z_sum delta^T`, `y_sq += s_sum delta^2 - 2 delta y_sum`,
    /// `y_sum -= s_sum delta`.
    ///
    /// # Errors
    /// [`Error::Shape`] unless `delta` has one entry per target.
    pub fn shift_targets(&mut self, delta: &[f64]) -> Result<()> {
        if delta.len() != self.n_targets() {
            return Err(Error::Shape(format!(
                "the shift has {} entries for {} targets",
                delta.len(),
                self.n_targets()
            )));
        }
        let s = self.weight_sum;
        for (k, &shift) in delta.iter().enumerate() {
            for j in 0..self.n_components() {
                self.cross[(j, k)] -= self.feature_sums[j] * shift;
            }
            self.target_squares[k] += s * shift * shift - 2.0 * shift * self.target_sums[k];
            self.target_sums[k] -= s * shift;
        }
        Ok(())
    }

    /// Weighted squared errors `sum_i s_i (y_i - z_i.c_m - b_m)^2` of these rows for
    /// every column `m` of `coef` (`D x m`, with intercepts `b`), target `target[m]`:
    /// `y_sq - 2 c.B + c^T G c - 2 b y_sum + 2 b c.z_sum + b^2 s_sum`, in the
    /// statistics alone (held-out errors of a fold's rows).
    ///
    /// # Errors
    /// [`Error::Shape`] if `coef` has not `D` rows, or `intercept` and `target` do
    /// not have one entry per column, or a target index is out of range.
    pub fn heldout_errors(
        &self,
        coef: MatRef<'_, f64>,
        intercept: &[f64],
        target: &[usize],
        ctx: &Context,
    ) -> Result<Vec<f64>> {
        let (d, m) = (self.n_components(), coef.ncols());
        if coef.nrows() != d || intercept.len() != m || target.len() != m {
            return Err(Error::Shape(format!(
                "coef is {} x {m} with {} intercepts and {} targets; expected {d} rows and one \
                 intercept and target per column",
                coef.nrows(),
                intercept.len(),
                target.len()
            )));
        }
        if let Some(bad) = target.iter().find(|&&k| k >= self.n_targets()) {
            return Err(Error::Shape(format!(
                "target {bad} is out of range for {} targets",
                self.n_targets()
            )));
        }
        let gram = Mat::from_fn(d, d, |i, j| self.gram[(i.max(j), i.min(j))]);
        let mut products = Mat::<f64>::zeros(d, m);
        pool_product(products.as_mut(), Accum::Replace, gram.as_ref(), coef, ctx);
        Ok((0..m)
            .map(|c| {
                let (k, b) = (target[c], intercept[c]);
                let (mut quadratic, mut cross, mut sums) = (0.0, 0.0, 0.0);
                for j in 0..d {
                    quadratic += coef[(j, c)] * products[(j, c)];
                    cross += coef[(j, c)] * self.cross[(j, k)];
                    sums += coef[(j, c)] * self.feature_sums[j];
                }
                self.target_squares[k] - 2.0 * cross + quadratic - 2.0 * b * self.target_sums[k]
                    + 2.0 * b * sums
                    + b * b * self.weight_sum
            })
            .collect())
    }

    fn check_same_shape(&self, other: &GramAccumulator) -> Result<()> {
        if other.n_components() == self.n_components() && other.n_targets() == self.n_targets() {
            return Ok(());
        }
        Err(Error::Shape(format!(
            "cannot combine statistics of {} features x {} targets with {} x {}",
            other.n_components(),
            other.n_targets(),
            self.n_components(),
            self.n_targets()
        )))
    }

    /// The statistics a ridge fit uses: those of the rows minus their weighted
    /// means when `fit_intercept` (`G_c = G - s_sum z_mean z_mean^T`, `B_c = B -
    /// s_sum z_mean y_mean^T`, `y_sq_c = y_sq - s_sum y_mean^2`, `z_sum_c = z_sum -
    /// s_sum z_mean`, `y_sum_c = y_sum - s_sum y_mean`), else as accumulated; the
    /// Gram is symmetrized.
    ///
    /// Consumes the statistics: they are centered and symmetrized in place, so no
    /// second `D x D` matrix is allocated.
    pub fn centered(mut self, fit_intercept: bool) -> CenteredStats {
        let d = self.n_components();
        let s = self.weight_sum;
        let mean = |sums: &[f64]| -> Vec<f64> {
            if fit_intercept && s > 0.0 {
                sums.iter().map(|v| v / s).collect()
            } else {
                vec![0.0; sums.len()]
            }
        };
        let (z_mean, y_mean) = (mean(&self.feature_sums), mean(&self.target_sums));
        let gram = &mut self.gram;
        for j in 0..d {
            for i in j..d {
                let centered = gram[(i, j)] - s * z_mean[i] * z_mean[j];
                gram[(i, j)] = centered;
                gram[(j, i)] = centered;
            }
        }
        for (k, &y_k) in y_mean.iter().enumerate() {
            for (i, &z_i) in z_mean.iter().enumerate() {
                self.cross[(i, k)] -= s * z_i * y_k;
            }
            self.target_squares[k] -= s * y_k * y_k;
            self.target_sums[k] -= s * y_k;
        }
        for (sum, mean) in self.feature_sums.iter_mut().zip(&z_mean) {
            *sum -= s * mean;
        }
        CenteredStats {
            stats: self,
            feature_means: z_mean,
            target_means: y_mean,
        }
    }
}

#[cfg(test)]
mod tests;
