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

use crate::error::{Error, Result};
use crate::features::{self, FeatureSource};
use crate::linalg::{column_major, pool_matmul, pool_product};
use crate::parallel::Context;
use crate::real::Real;
use crate::simd::{self, Isa};
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

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

/// Adds `G += Z^T S Z` (lower triangle), `B += Z^T S Y` and `z_sum += Z^T s` for
/// the column-major rows `z` (`rows x D` of the compute type `C`, consumed: scaled
/// by `sqrt(s_i)` in place for `G`), targets `y` and weights `sample_weight`
/// (`S = diag(s)`, all ones when `None`), parallel inside the products with `par`.
///
/// The Gram runs in `C` tile by tile, each tile's product added to `G` in float64
/// ([`add_lower_gram`]); `B` and `z_sum` are float64 sums (the features widened as
/// they are read, [`simd::dot_widened`]), so that targets keep their precision.
///
/// # Panics
/// If the shapes disagree.
pub fn add_products<C: Real>(
    gram: MatMut<'_, f64>,
    mut cross: MatMut<'_, f64>,
    feature_sums: &mut [f64],
    z: &mut [C],
    y: MatRef<'_, f64>,
    sample_weight: Option<&[f64]>,
    par: Par,
) {
    let (rows, d, t) = (y.nrows(), gram.nrows(), y.ncols());
    assert!(gram.ncols() == d && cross.nrows() == d && cross.ncols() == t);
    assert!(z.len() == rows * d && feature_sums.len() == d);
    // B and z_sum first, from the features as computed: `Z^T [S Y | s]` in float64,
    // feature column by column (each read once, widened on the fly).
    let weight = |i: usize| sample_weight.map_or(1.0, |s| s[i]);
    let yw: Vec<Vec<f64>> = (0..=t)
        .map(|k| {
            (0..rows)
                .map(|i| weight(i) * if k < t { y[(i, k)] } else { 1.0 })
                .collect()
        })
        .collect();
    let isa = Isa::detect();
    let column_products = |column: &[C]| -> Vec<f64> {
        yw.iter()
            .map(|yw_k| simd::dot_widened(isa, column, yw_k))
            .collect()
    };
    let products: Vec<Vec<f64>> = match par {
        Par::Seq => z.chunks_exact(rows.max(1)).map(column_products).collect(),
        Par::Rayon(_) => z
            .par_chunks_exact(rows.max(1))
            .map(column_products)
            .collect(),
    };
    if rows > 0 {
        for (j, column) in products.iter().enumerate() {
            for (k, &c) in column[..t].iter().enumerate() {
                cross[(j, k)] += c;
            }
            feature_sums[j] += column[t];
        }
    }
    // Then G from the rows scaled by sqrt(s_i) in place.
    if let Some(s) = sample_weight {
        let sqrt_weights: Vec<C> = s.iter().map(|v| C::from_f64(v.sqrt())).collect();
        for column in z.chunks_exact_mut(rows.max(1)) {
            column
                .iter_mut()
                .zip(&sqrt_weights)
                .for_each(|(v, &w)| *v *= w);
        }
    }
    add_lower_gram(gram, MatRef::from_column_major_slice(z, rows, d), par);
}

/// Width of the column panels (and height of the tiles) of [`add_lower_gram`].
const GRAM_TILE: usize = 256;
/// Rows whose products a tile sums in its compute type before adding them to the
/// float64 Gram: float32 rounding then grows with 512 terms, not with the chunk.
const SUM_ROWS: usize = 512;

/// `G += Z^T Z` on the lower triangle of `G`, a symmetric rank-`rows` update: each
/// tile's product in `Z`'s type, added to `G` in float64.
///
/// The lower triangle is cut into `GRAM_TILE`-wide column panels, each into a
/// triangular diagonal tile and rectangular tiles below it; every tile is one
/// sequential product and the tiles run in parallel. Each entry of `G` is thus
/// computed by one fixed sequence of operations whatever the thread count, so
/// the bits of `G` do not depend on it.
fn add_lower_gram<C: Real>(gram: MatMut<'_, f64>, z: MatRef<'_, C>, par: Par) {
    let d = gram.nrows();
    let mut tiles = Vec::new();
    let mut right = gram;
    let mut start = 0;
    while start < d {
        let width = GRAM_TILE.min(d - start);
        let (panel, rest) = right.split_at_col_mut(width);
        right = rest;
        let (_, mut below) = panel.split_at_row_mut(start);
        let mut row = start;
        while row < d {
            let height = GRAM_TILE.min(d - row);
            let (tile, rest) = below.split_at_row_mut(height);
            below = rest;
            tiles.push((tile, row, start));
            row += height;
        }
        start += width;
    }
    let add_tile = |(mut tile, row, col): (MatMut<'_, f64>, usize, usize)| {
        let mut product = Mat::<C>::zeros(tile.nrows(), tile.ncols());
        for first in (0..z.nrows()).step_by(SUM_ROWS) {
            let rows = SUM_ROWS.min(z.nrows() - first);
            let block = z.subrows(first, rows);
            let lhs = block.subcols(row, tile.nrows()).transpose();
            let rhs = block.subcols(col, tile.ncols());
            if row == col {
                triangular::matmul(
                    product.as_mut(),
                    BlockStructure::TriangularLower,
                    Accum::Replace,
                    lhs,
                    BlockStructure::Rectangular,
                    rhs,
                    BlockStructure::Rectangular,
                    C::one(),
                    Par::Seq,
                );
            } else {
                matmul(
                    product.as_mut(),
                    Accum::Replace,
                    lhs,
                    rhs,
                    C::one(),
                    Par::Seq,
                );
            }
            // The upper triangle of a diagonal tile's product stays 0.
            for (dst, src) in tile.as_mut().col_iter_mut().zip(product.col_iter()) {
                dst.iter_mut()
                    .zip(src.iter())
                    .for_each(|(g, &p)| *g += Real::to_f64(p));
            }
        }
    };
    match par {
        Par::Seq => tiles.into_iter().for_each(add_tile),
        Par::Rayon(_) => tiles.into_par_iter().for_each(add_tile),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Kernel;
    use crate::linalg::row_major;
    use crate::testing::Drawn;

    fn data(n: usize, d: usize, salt: usize) -> Vec<f64> {
        (0..n * d)
            .map(|i| (((i + salt) * 7919) % 103) as f64 / 51.0 - 1.0)
            .collect()
    }

    fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
        a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())))
    }

    fn flat(m: MatRef<'_, f64>, lower: bool) -> Vec<f64> {
        let mut v = vec![];
        for i in 0..m.nrows() {
            for j in 0..m.ncols() {
                if !lower || j <= i {
                    v.push(m[(i, j)]);
                }
            }
        }
        v
    }

    #[test]
    fn update_matches_direct_sums_with_weights() {
        let (n, d, t) = (33, 7, 2);
        let (z, y, s) = (data(n, d, 0), data(n, t, 1), data(n, 1, 2));
        let s: Vec<f64> = s.iter().map(|v| v.abs() + 0.1).collect();
        let mut acc = GramAccumulator::new(d, t);
        acc.update(row_major(&z, n, d), row_major(&y, n, t), Some(&s), Par::Seq);
        for a in 0..d {
            for b in 0..=a {
                let want: f64 = (0..n).map(|i| s[i] * z[i * d + a] * z[i * d + b]).sum();
                assert!((acc.gram[(a, b)] - want).abs() < 1e-12);
            }
            for k in 0..t {
                let want: f64 = (0..n).map(|i| s[i] * z[i * d + a] * y[i * t + k]).sum();
                assert!((acc.cross[(a, k)] - want).abs() < 1e-12);
            }
            let want: f64 = (0..n).map(|i| s[i] * z[i * d + a]).sum();
            assert!((acc.feature_sums[a] - want).abs() < 1e-12);
        }
        assert!((acc.weight_sum - s.iter().sum::<f64>()).abs() < 1e-12);
        assert_eq!(acc.n_samples, n);
    }

    #[test]
    fn chunks_and_merges_equal_one_pass() {
        let (n, d, t) = (1000, 9, 3);
        let (z, y) = (data(n, d, 3), data(n, t, 4));
        let mut whole = GramAccumulator::new(d, t);
        whole.update(row_major(&z, n, d), row_major(&y, n, t), None, Par::Seq);
        for split in [1, 7, 333, 999] {
            let mut first = GramAccumulator::new(d, t);
            first.update(
                row_major(&z[..split * d], split, d),
                row_major(&y[..split * t], split, t),
                None,
                Par::Seq,
            );
            let mut second = GramAccumulator::new(d, t);
            let rest = n - split;
            second.update(
                row_major(&z[split * d..], rest, d),
                row_major(&y[split * t..], rest, t),
                None,
                Par::rayon(2),
            );
            first.merge(&second).unwrap();
            assert!(close(
                &flat(first.gram.as_ref(), true),
                &flat(whole.gram.as_ref(), true),
                1e-13
            ));
            assert!(close(
                &flat(first.cross.as_ref(), false),
                &flat(whole.cross.as_ref(), false),
                1e-13
            ));
            assert!(close(&first.target_squares, &whole.target_squares, 1e-13));
        }
        assert!(whole.merge(&GramAccumulator::new(d + 1, t)).is_err());
    }

    #[test]
    fn centering_removes_weighted_means() {
        let (n, d, t) = (50, 4, 1);
        let (z, y) = (data(n, d, 5), data(n, t, 6));
        let s: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
        let mut acc = GramAccumulator::new(d, t);
        acc.update(row_major(&z, n, d), row_major(&y, n, t), Some(&s), Par::Seq);
        let c = acc.clone().centered(true).stats;
        let sw: f64 = s.iter().sum();
        let zm: Vec<f64> = (0..d)
            .map(|a| (0..n).map(|i| s[i] * z[i * d + a]).sum::<f64>() / sw)
            .collect();
        let ym: f64 = (0..n).map(|i| s[i] * y[i]).sum::<f64>() / sw;
        for a in 0..d {
            for b in 0..d {
                let want: f64 = (0..n)
                    .map(|i| s[i] * (z[i * d + a] - zm[a]) * (z[i * d + b] - zm[b]))
                    .sum();
                assert!((c.gram[(a, b)] - want).abs() < 1e-12);
            }
            let want: f64 = (0..n)
                .map(|i| s[i] * (z[i * d + a] - zm[a]) * (y[i] - ym))
                .sum();
            assert!((c.cross[(a, 0)] - want).abs() < 1e-12);
        }
        let want: f64 = (0..n).map(|i| s[i] * (y[i] - ym).powi(2)).sum();
        assert!((c.target_squares[0] - want).abs() < 1e-12);
        let sums = c.feature_sums.iter().chain(&c.target_sums);
        assert!(sums.into_iter().all(|v| v.abs() < 1e-12));
        assert_eq!((c.weight_sum, c.n_samples), (acc.weight_sum, acc.n_samples));
    }

    #[test]
    fn streaming_features_equal_features_then_update() {
        let (n, d, m) = (301, 5, 40);
        let (x, y) = (data(n, d, 7), data(n, 1, 8));
        let kernel = Kernel::Rbf { gamma: 0.3 };
        let drawn = Drawn::<f64>::new(&kernel, false, features::Sampling::Iid, 3, d, m);
        let z = drawn.transform(&x);
        let mut direct = GramAccumulator::new(m, 1);
        direct.update(row_major(&z, n, m), row_major(&y, n, 1), None, Par::Seq);
        let (x, y) = (row_major(&x, n, d), row_major(&y, n, 1));
        for chunk in [1, 64, 300, 1000] {
            let mut streamed = GramAccumulator::new(m, 1);
            let ctx = Context::global();
            streamed
                .add_rows::<f64, f64>(x, y, None, &drawn.features(), chunk, &ctx)
                .unwrap();
            assert!(close(
                &flat(streamed.gram.as_ref(), true),
                &flat(direct.gram.as_ref(), true),
                1e-12
            ));
            assert!(close(&streamed.feature_sums, &direct.feature_sums, 1e-12));
            assert_eq!(streamed.rounding, f64::EPSILON);
        }
    }

    #[test]
    fn float32_rows_accumulate_float32_tiles_in_float64() {
        // 700 rows of float32 data, 300 features: two Gram panels, a partial tile.
        let (n, d, m) = (700, 4, 300);
        let x32: Vec<f32> = data(n, d, 2).iter().map(|&v| v as f32).collect();
        let y = data(n, 2, 3);
        let s: Vec<f64> = (0..n).map(|i| 0.5 + (i % 4) as f64).collect();
        let kernel = Kernel::Rbf { gamma: 0.3 };
        let drawn = Drawn::<f32>::new(&kernel, false, features::Sampling::Iid, 3, d, m);
        let (x, y) = (row_major(&x32, n, d), row_major(&y, n, 2));
        let ctx = Context::global();
        let run = |widen: bool| {
            let mut acc = GramAccumulator::new(m, 2);
            let features = drawn.features();
            if widen {
                acc.add_rows::<f32, f64>(x, y, Some(&s), &features, 256, &ctx)
            } else {
                acc.add_rows::<f32, f32>(x, y, Some(&s), &features, 256, &ctx)
            }
            .unwrap();
            acc
        };
        let (single, wide) = (run(false), run(true));
        assert_eq!(single.rounding, f64::from(f32::EPSILON));
        assert_eq!(wide.rounding, f64::EPSILON);
        // The same float32 features: the float32 Gram within float32 rounding of
        // the float64 sums, the target products (in float64) within far less.
        assert!(close(
            &flat(single.gram.as_ref(), true),
            &flat(wide.gram.as_ref(), true),
            1e-5
        ));
        assert!(!close(
            &flat(single.gram.as_ref(), true),
            &flat(wide.gram.as_ref(), true),
            1e-12
        ));
        assert!(close(
            &flat(single.cross.as_ref(), false),
            &flat(wide.cross.as_ref(), false),
            1e-12
        ));
        assert!(close(&single.feature_sums, &wide.feature_sums, 1e-12));
        let mut merged = wide.clone();
        merged.merge(&single).unwrap();
        assert_eq!(merged.rounding, f64::from(f32::EPSILON));
    }

    fn stats_of(
        z: &[f64],
        y: &[f64],
        s: Option<&[f64]>,
        n: usize,
        d: usize,
        t: usize,
    ) -> GramAccumulator {
        let mut acc = GramAccumulator::new(d, t);
        acc.update(row_major(z, n, d), row_major(y, n, t), s, Par::Seq);
        acc
    }

    #[test]
    fn subtract_undoes_merge() {
        let (n, d, t) = (40, 5, 2);
        let (z, y) = (data(n, d, 11), data(n, t, 12));
        let first = stats_of(&z[..20 * d], &y[..20 * t], None, 20, d, t);
        let whole = stats_of(&z, &y, None, n, d, t);
        let mut rest = whole.clone();
        rest.subtract(&first).unwrap();
        let second = stats_of(&z[20 * d..], &y[20 * t..], None, 20, d, t);
        assert!(close(
            &flat(rest.gram.as_ref(), true),
            &flat(second.gram.as_ref(), true),
            1e-12
        ));
        assert!(close(&rest.target_squares, &second.target_squares, 1e-12));
        assert_eq!(rest.n_samples, 20);
        assert!(rest.subtract(&GramAccumulator::new(d, t + 1)).is_err());
    }

    #[test]
    fn shifted_targets_equal_statistics_of_shifted_rows() {
        let (n, d, t) = (30, 4, 2);
        let (z, y) = (data(n, d, 13), data(n, t, 14));
        let s: Vec<f64> = (0..n).map(|i| 0.5 + (i % 4) as f64).collect();
        let delta = [0.7, -3.0];
        let shifted: Vec<f64> = y
            .iter()
            .enumerate()
            .map(|(i, v)| v - delta[i % t])
            .collect();
        let mut acc = stats_of(&z, &y, Some(&s), n, d, t);
        acc.shift_targets(&delta).unwrap();
        let want = stats_of(&z, &shifted, Some(&s), n, d, t);
        assert!(close(
            &flat(acc.cross.as_ref(), false),
            &flat(want.cross.as_ref(), false),
            1e-12
        ));
        assert!(close(&acc.target_sums, &want.target_sums, 1e-12));
        assert!(close(&acc.target_squares, &want.target_squares, 1e-12));
        assert!(acc.shift_targets(&[1.0]).is_err());
    }

    #[test]
    fn leading_statistics_are_the_narrower_map() {
        let (n, d, t, k) = (25, 6, 1, 4);
        let (z, y) = (data(n, d, 15), data(n, t, 16));
        let root = (d as f64 / k as f64).sqrt();
        let narrow: Vec<f64> = (0..n)
            .flat_map(|i| (0..k).map(move |j| (i, j)))
            .map(|(i, j)| z[i * d + j] * root)
            .collect();
        let lead = stats_of(&z, &y, None, n, d, t).leading(k).unwrap();
        let want = stats_of(&narrow, &y, None, n, k, t);
        assert!(close(
            &flat(lead.gram.as_ref(), true),
            &flat(want.gram.as_ref(), true),
            1e-12
        ));
        assert!(close(&lead.feature_sums, &want.feature_sums, 1e-12));
        assert!(GramAccumulator::new(d, t).leading(d + 1).is_err());
        assert!(GramAccumulator::new(d, t).leading(0).is_err());
    }

    #[test]
    fn heldout_errors_equal_direct_residuals() {
        let (n, d, t) = (35, 5, 2);
        let (z, y) = (data(n, d, 17), data(n, t, 18));
        let s: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
        let acc = stats_of(&z, &y, Some(&s), n, d, t);
        let coef = Mat::from_fn(d, 3, |j, c| 0.1 * (j as f64 + 1.0) - 0.2 * c as f64);
        let (intercept, target) = ([0.3, -1.0, 2.0], [0, 1, 1]);
        let errors = acc
            .heldout_errors(coef.as_ref(), &intercept, &target, &Context::global())
            .unwrap();
        for c in 0..3 {
            let want: f64 = (0..n)
                .map(|i| {
                    let fit: f64 = (0..d).map(|j| z[i * d + j] * coef[(j, c)]).sum();
                    s[i] * (y[i * t + target[c]] - fit - intercept[c]).powi(2)
                })
                .sum();
            assert!((errors[c] - want).abs() <= 1e-10 * want.max(1.0), "{c}");
        }
        let global = Context::global();
        assert!(
            acc.heldout_errors(coef.as_ref(), &intercept, &[0, 1, 2], &global)
                .is_err()
        );
    }

    #[test]
    fn parts_are_checked() {
        for (cross_rows, consistent) in [(3, true), (2, false)] {
            let parts = GramAccumulator::from_parts(
                Mat::zeros(3, 3),
                Mat::zeros(cross_rows, 2),
                vec![0.0; 3],
                vec![0.0; 2],
                vec![0.0; 2],
                0.0,
                0,
                f64::EPSILON,
            );
            assert_eq!(parts.is_ok(), consistent);
        }
        let parts = |rounding| {
            let (g, c) = (Mat::zeros(1, 1), Mat::zeros(1, 1));
            GramAccumulator::from_parts(g, c, vec![0.0], vec![0.0], vec![0.0], 0.0, 0, rounding)
        };
        assert!(parts(f64::from(f32::EPSILON)).is_ok());
        assert!(matches!(parts(1e-3), Err(Error::InvalidParameter(_))));
    }
}
