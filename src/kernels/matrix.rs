//! Exact kernel matrices `K[i, j] = k(x_i, y_j)`, in float64 (near-ridgeless
//! solves need it): inner products (one GEMM per block of rows) or coordinate-wise
//! folds, then each kernel's function of them, row by row while in cache.
//!
//! [`KernelColumns`] holds the kernel against fixed rows `y` (the columns of its
//! matrices) and fills any block of rows `x` sequentially; [`kernel_matrix`] runs
//! it over parallel row chunks, and the Nystrom features and the conjugate-gradient
//! solver over theirs, so every kernel value is computed by the same code.

use super::Kernel;
use crate::error::{Error, Result, check_output_len};
use crate::linalg::row_norms_squared;
use crate::parallel::Context;
use crate::real::Real;
use crate::simd::{
    ArcCosineOrder, Isa, arc_cosine_in_place, exp_nonpositive_in_place, rbf_row_in_place,
};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// Rows of `x` per parallel task.
const ROWS_PER_CHUNK: usize = 32;

/// Writes the exact kernel matrix `K[i, j] = k(x_i, y_j)` into the row-major
/// `n x m` buffer `out`; `y = None` means `y = x` (the diagonal of the
/// shift-invariant kernels is then exactly 1).
///
/// # Errors
/// [`Error::Shape`] if `x` and `y` differ in columns or `out` has the wrong
/// length; [`Error::NonFinite`] if a row's squared norm is not finite;
/// [`Error::Interrupted`] if `ctx`'s interrupt fires.
pub fn kernel_matrix(
    x: MatRef<'_, f64>,
    y: Option<MatRef<'_, f64>>,
    kernel: &Kernel,
    out: &mut [f64],
    ctx: &Context,
) -> Result<()> {
    let same = y.is_none();
    // X first: for y = None the columns are X's rows, and an error must name X.
    checked_norms(x, 0, "X")?;
    let columns = KernelColumns::new(kernel, y.unwrap_or(x))?;
    columns.check_input(x.ncols())?;
    let m = columns.len();
    check_output_len(out.len(), x.nrows(), m)?;
    ctx.for_each_row_chunk(out, m, ROWS_PER_CHUNK, |first, rows| {
        let n_rows = rows.len() / m.max(1);
        // For y = x, a chunk stops at the column of its last row: the entries
        // above the diagonal are left to `mirror_lower_triangle` (half the work).
        let (diagonal, cols) = if same {
            (Some(first), first + n_rows)
        } else {
            (None, m)
        };
        columns.fill(x.subrows(first, n_rows), first, diagonal, cols, rows, m)
    })?;
    if same {
        mirror_lower_triangle(out, m);
    }
    Ok(())
}

/// The squared norms of the rows of `x` (`name` in messages; `first` is the index
/// of its first row), which must be finite: then every inner product and squared
/// distance is finite too, so no kernel value can silently become NaN.
fn checked_norms(x: MatRef<'_, f64>, first: usize, name: &str) -> Result<Vec<f64>> {
    let norms = row_norms_squared(x);
    match norms.iter().position(|v| !v.is_finite()) {
        Some(row) => Err(Error::NonFinite(format!(
            "the squared norm of row {} of {name} is not finite: it overflows, or the row holds \
             NaN or infinity (rescale the data)",
            first + row
        ))),
        None => Ok(norms),
    }
}

/// Copies the strict lower triangle of the row-major `m x m` matrix onto the
/// upper one, so that `k(x_i, x_j)` and `k(x_j, x_i)` are the same bits (row
/// chunks of different sizes may round the two products differently). Tile by
/// tile, so that the strided writes of a tile stay in cache.
fn mirror_lower_triangle(out: &mut [f64], m: usize) {
    const TILE: usize = 64;
    for rows in (0..m).step_by(TILE) {
        for cols in (0..=rows).step_by(TILE) {
            for i in rows..(rows + TILE).min(m) {
                for j in cols..(cols + TILE).min(i) {
                    out[j * m + i] = out[i * m + j];
                }
            }
        }
    }
}

/// The first `n_rows` rows of the row-major `out`, whose rows are `stride` apart.
fn rows_of(out: &mut [f64], stride: usize, n_rows: usize) -> impl Iterator<Item = &mut [f64]> {
    out.chunks_mut(stride.max(1)).take(n_rows)
}

/// Writes the inner products `x_i . y_j` into the rows of the row-major `out`
/// (`stride` apart): one sequential GEMM.
fn inner_products(x: MatRef<'_, f64>, y: MatRef<'_, f64>, out: &mut [f64], stride: usize) {
    let (n_rows, cols) = (x.nrows(), y.nrows());
    if n_rows == 0 || cols == 0 {
        return;
    }
    let len = (n_rows - 1) * stride + cols;
    // The rows as the transpose of a column-major view: faer 0.24.4's
    // `from_row_major_slice_with_stride_mut` swaps its two strides.
    let dst =
        MatMut::from_column_major_slice_with_stride_mut(&mut out[..len], cols, n_rows, stride)
            .transpose_mut();
    matmul(dst, Accum::Replace, x, y.transpose(), 1.0, Par::Seq);
}

/// The augmented rows `u_i = (sqrt(gamma) x_i, bias)` of the arc-cosine kernels
/// as `u_i = 2^e_i u'_i`, `u'_i = (rows_i, bias_i)` with its largest entry in
/// `[1, 4)` (or zero). The kernels are homogeneous, `k_1(u, v) = 2^(e_u + e_v)
/// k_1(u', v')` and `k_0(u, v) = k_0(u', v')`, so computed from `u'` their inner
/// products and norms neither underflow nor overflow, whatever the rows'
/// magnitudes: a row of 1e-162 keeps full precision though its squared norm is
/// subnormal.
#[derive(Clone, Debug)]
struct ScaledRows {
    /// `sqrt(gamma) 2^-e_i x_i`, row by row.
    rows: Mat<f64>,
    /// `2^-e_i bias`.
    bias: Vec<f64>,
    /// `|u'_i|`.
    norms: Vec<f64>,
    /// `e_i`.
    exponents: Vec<i32>,
}

impl ScaledRows {
    fn new(x: MatRef<'_, f64>, gamma: f64, bias: f64) -> Self {
        let root_gamma = gamma.sqrt();
        // The exponent of max(sqrt(gamma) |x_ik|, |bias|), added in integers:
        // sqrt(gamma) x_ik itself may underflow.
        let exponent = |v: f64| (v != 0.0).then(|| libm::ilogb(v));
        let exponents: Vec<i32> = (0..x.nrows())
            .map(|i| {
                let largest = (0..x.ncols()).fold(0.0, |m: f64, k| m.max(x[(i, k)].abs()));
                let row = exponent(largest).map(|e| e + libm::ilogb(root_gamma));
                row.max(exponent(bias)).unwrap_or(0)
            })
            .collect();
        // Scaling by 2^-e first is exact (an entry far below the largest may
        // underflow, which its share of the norm allows); sqrt(gamma) after it,
        // so that a tiny entry is not flushed before it is scaled.
        let rows = Mat::from_fn(x.nrows(), x.ncols(), |i, k| {
            root_gamma * libm::scalbn(x[(i, k)], -exponents[i])
        });
        let bias: Vec<f64> = exponents.iter().map(|&e| libm::scalbn(bias, -e)).collect();
        let norms = row_norms_squared(rows.as_ref())
            .iter()
            .zip(&bias)
            .map(|(&sq, &b)| (sq + b * b).sqrt())
            .collect();
        Self {
            rows,
            bias,
            norms,
            exponents,
        }
    }
}

/// A kernel against the fixed rows `y`: the columns `k(., y_j)` of its matrices,
/// with what the kernel needs of `y` computed once (norms, `y` column by column).
#[derive(Clone, Debug)]
pub struct KernelColumns<'a> {
    kernel: Kernel,
    y: MatRef<'a, f64>,
    /// The squared norms of `y`'s rows.
    y_norms: Vec<f64>,
    /// `y` column by column, for the coordinate-wise folds (empty for the kernels
    /// of inner products).
    y_columns: Vec<f64>,
    /// `y`'s augmented rows, scaled, for the arc-cosine kernels.
    y_scaled: Option<ScaledRows>,
    isa: Isa,
}

impl<'a> KernelColumns<'a> {
    /// The columns `k(., y_j)` of `kernel` for the rows of `y`.
    ///
    /// # Errors
    /// [`Error::NonFinite`] if the squared norm of a row of `y` is not finite.
    pub fn new(kernel: &Kernel, y: MatRef<'a, f64>) -> Result<Self> {
        let y_norms = checked_norms(y, 0, "Y")?;
        let folds = matches!(
            kernel,
            Kernel::Laplacian { .. } | Kernel::Matern { .. } | Kernel::Cauchy { .. }
        );
        let y_columns = if folds {
            (0..y.ncols())
                .flat_map(|k| (0..y.nrows()).map(move |j| y[(j, k)]))
                .collect()
        } else {
            Vec::new()
        };
        let y_scaled = kernel
            .arc_cosine_parameters()
            .map(|(gamma, bias)| ScaledRows::new(y, gamma, bias));
        Ok(Self {
            kernel: *kernel,
            y,
            y_norms,
            y_columns,
            y_scaled,
            isa: Isa::detect(),
        })
    }

    /// The number of columns (rows of `y`).
    pub fn len(&self) -> usize {
        self.y.nrows()
    }

    /// Whether there are no columns.
    pub fn is_empty(&self) -> bool {
        self.y.nrows() == 0
    }

    /// The kernel.
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// [`Error::Shape`] unless rows of `n_features_in` columns fit `y`.
    pub fn check_input(&self, n_features_in: usize) -> Result<()> {
        if n_features_in == self.y.ncols() {
            return Ok(());
        }
        Err(Error::Shape(format!(
            "X has {n_features_in} columns but Y has {}; they must have the same number of \
             features",
            self.y.ncols()
        )))
    }

    /// Writes `k(x_i, y_j)` for the rows `x` and the first `cols` columns into the
    /// row-major `out`, whose rows are `stride` apart (sequentially). `first` is
    /// the index of `x`'s first row in messages; `diagonal = Some(first)` says that
    /// the rows of `x` are those of `y` from `first` on, whose diagonal entries are
    /// then exact (1 for the shift-invariant kernels).
    ///
    /// # Errors
    /// [`Error::NonFinite`] if the squared norm of a row of `x` is not finite.
    ///
    /// # Panics
    /// If `x` does not have `y`'s columns, or `out` is too short.
    pub fn fill(
        &self,
        x: MatRef<'_, f64>,
        first: usize,
        diagonal: Option<usize>,
        cols: usize,
        out: &mut [f64],
        stride: usize,
    ) -> Result<()> {
        assert_eq!(
            x.ncols(),
            self.y.ncols(),
            "x and y must have the same columns"
        );
        let x_norms = checked_norms(x, first, "X")?;
        let n_rows = x.nrows();
        // The column of row i's diagonal entry, if it is among the first `cols`.
        let diagonal_of = |i: usize| diagonal.map(|d| d + i).filter(|&j| j < cols);
        let (isa, y_norms) = (self.isa, &self.y_norms[..cols]);
        match self.kernel {
            Kernel::Rbf { gamma } => {
                self.dots(x, cols, out, stride);
                for (i, row) in rows_of(out, stride, n_rows).enumerate() {
                    let row = &mut row[..cols];
                    rbf_row_in_place(isa, row, x_norms[i], y_norms, gamma);
                    if let Some(j) = diagonal_of(i) {
                        row[j] = 1.0;
                    }
                }
            }
            Kernel::Laplacian { gamma } => {
                for (i, row) in rows_of(out, stride, n_rows).enumerate() {
                    let row = self.fold(x, i, 0.0, |acc, diff| acc + diff.abs(), &mut row[..cols]);
                    row.iter_mut().for_each(|v| *v *= -gamma);
                    if let Some(j) = diagonal_of(i) {
                        row[j] = 0.0;
                    }
                    exp_nonpositive_in_place(isa, row);
                }
            }
            Kernel::Matern { gamma, nu } => {
                let c = (2.0 * nu.dof() as f64 * gamma).sqrt();
                for (i, row) in rows_of(out, stride, n_rows).enumerate() {
                    let row = self.fold(x, i, 0.0, |acc, diff| acc + diff * diff, &mut row[..cols]);
                    if let Some(j) = diagonal_of(i) {
                        row[j] = 0.0;
                    }
                    let z: Vec<f64> = row.iter().map(|&s| c * s.sqrt()).collect();
                    row.iter_mut().zip(&z).for_each(|(v, &z)| *v = -z);
                    exp_nonpositive_in_place(isa, row);
                    row.iter_mut()
                        .zip(&z)
                        .for_each(|(v, &z)| *v = nu.profile(z, *v));
                }
            }
            Kernel::Cauchy { gamma } => {
                let fold = |acc: f64, diff: f64| acc / (1.0 + gamma * diff * diff);
                for (i, row) in rows_of(out, stride, n_rows).enumerate() {
                    let row = self.fold(x, i, 1.0, fold, &mut row[..cols]);
                    if let Some(j) = diagonal_of(i) {
                        row[j] = 1.0;
                    }
                }
            }
            Kernel::Relu { gamma, bias }
            | Kernel::Step { gamma, bias }
            | Kernel::Nngp { gamma, bias, .. }
            | Kernel::Ntk { gamma, bias, .. } => {
                let y = self
                    .y_scaled
                    .as_ref()
                    .expect("KernelColumns::new scales y for the arc-cosine kernels");
                let x = ScaledRows::new(x, gamma, bias);
                inner_products(x.rows.as_ref(), y.rows.subrows(0, cols), out, stride);
                // k_1 and its compositions scale as |u| |v|, k_0 not at all.
                let degree_one = !matches!(self.kernel, Kernel::Step { .. });
                for (i, row) in rows_of(out, stride, n_rows).enumerate() {
                    let row = &mut row[..cols];
                    let norms: Vec<f64> = y.norms[..cols].iter().map(|&n| x.norms[i] * n).collect();
                    row.iter_mut()
                        .zip(&y.bias)
                        .for_each(|(v, &b)| *v += x.bias[i] * b);
                    if let Some(j) = diagonal_of(i) {
                        // The angle of u with itself is exactly 0; acos(dot / norms)
                        // would only give ~1e-8 (acos is ill-conditioned near 1).
                        row[j] = norms[j];
                    }
                    layered_kernel(isa, &self.kernel, row, &norms);
                    if degree_one {
                        for (v, &e) in row.iter_mut().zip(&y.exponents) {
                            *v = libm::scalbn(*v, x.exponents[i] + e);
                        }
                    }
                }
            }
            Kernel::Linear { gamma, bias } => {
                self.dots(x, cols, out, stride);
                for row in rows_of(out, stride, n_rows) {
                    row[..cols]
                        .iter_mut()
                        .for_each(|v| *v = gamma * *v + bias * bias);
                }
            }
        }
        Ok(())
    }

    /// Writes the block `k(x_i, y_j)` of the rows `x` of either float type
    /// (converted to float64) into `tile`, resized to `x.nrows() x len()`
    /// row-major: callers reuse one buffer across blocks. `first` is `x`'s first
    /// row in messages.
    ///
    /// # Errors
    /// As [`KernelColumns::fill`].
    pub fn tile<T: Real>(&self, x: MatRef<'_, T>, first: usize, tile: &mut Vec<f64>) -> Result<()> {
        let (rows, m) = (x.nrows(), self.len());
        let x64 = Mat::from_fn(rows, x.ncols(), |i, j| x[(i, j)].to_f64());
        tile.resize(rows * m, 0.0);
        self.fill(x64.as_ref(), first, None, m, tile, m)
    }

    /// Writes the inner products `x_i . y_j` (`j < cols`) into the rows of `out`
    /// (`stride` apart).
    fn dots(&self, x: MatRef<'_, f64>, cols: usize, out: &mut [f64], stride: usize) {
        inner_products(x, self.y.subrows(0, cols), out, stride);
    }

    /// Fills `row` with the coordinate-wise folds `fold(... fold(init, x_i1 -
    /// y_j1) ..., x_id - y_jd)` for row `i` of `x` and returns it. The inner loop
    /// runs over `y`'s rows (`y` copied column by column), so it vectorizes.
    fn fold<'r>(
        &self,
        x: MatRef<'_, f64>,
        i: usize,
        init: f64,
        fold: impl Fn(f64, f64) -> f64,
        row: &'r mut [f64],
    ) -> &'r mut [f64] {
        let (m, cols) = (self.y.nrows(), row.len());
        row.fill(init);
        for k in 0..x.ncols() {
            let x_ik = x[(i, k)];
            for (v, &y_jk) in row.iter_mut().zip(&self.y_columns[k * m..k * m + cols]) {
                *v = fold(*v, x_ik - y_jk);
            }
        }
        row
    }
}

/// The arc-cosine kernels (relu, step) and their compositions (nngp, ntk) of a
/// row, in place: `dots` holds the augmented inner products `u.v` on entry and
/// `norms` the products of norms `|u| |v|`, which every layer keeps
/// (`S_l(x, x) = S_0(x, x)`).
fn layered_kernel(isa: Isa, kernel: &Kernel, dots: &mut [f64], norms: &[f64]) {
    use ArcCosineOrder::{One, Zero};
    match *kernel {
        Kernel::Relu { .. } => arc_cosine_in_place(isa, One, dots, norms),
        Kernel::Step { .. } => arc_cosine_in_place(isa, Zero, dots, norms),
        Kernel::Nngp { depth, .. } => {
            (0..depth).for_each(|_| arc_cosine_in_place(isa, One, dots, norms));
        }
        Kernel::Ntk { depth, .. } => {
            let (mut ntk, mut derivative) = (dots.to_vec(), vec![0.0; dots.len()]);
            for _ in 0..depth {
                derivative.copy_from_slice(dots);
                arc_cosine_in_place(isa, Zero, &mut derivative, norms);
                arc_cosine_in_place(isa, One, dots, norms);
                for ((t, &s), &d) in ntk.iter_mut().zip(dots.iter()).zip(&derivative) {
                    *t = s + *t * d;
                }
            }
            dots.copy_from_slice(&ntk);
        }
        _ => unreachable!("layered_kernel is called for the arc-cosine kernels only"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::KERNEL_NAMES;
    use crate::linalg::row_major;
    use std::f64::consts::PI;

    fn data(n: usize, d: usize) -> Vec<f64> {
        (0..n * d)
            .map(|i| ((i * 7919) % 101) as f64 / 50.0 - 1.0)
            .collect()
    }

    fn matrix(kernel: &Kernel, x: &[f64], y: Option<&[f64]>, d: usize) -> Vec<f64> {
        let n = x.len() / d;
        let m = y.map_or(n, |y| y.len() / d);
        let mut out = vec![f64::NAN; n * m];
        let y = y.map(|y| row_major(y, m, d));
        kernel_matrix(row_major(x, n, d), y, kernel, &mut out, &Context::global()).unwrap();
        out
    }

    #[test]
    fn pointwise_definitions_hold() {
        let d = 3;
        let (x, y) = (data(7, d), data(33, d));
        for name in KERNEL_NAMES {
            let kernel = Kernel::new(name, 0.3, 0.5).unwrap();
            let k = matrix(&kernel, &x, Some(&y), d);
            for i in 0..7 {
                for j in 0..33 {
                    let (xi, yj) = (&x[i * d..(i + 1) * d], &y[j * d..(j + 1) * d]);
                    let l2: f64 = xi.iter().zip(yj).map(|(a, b)| (a - b) * (a - b)).sum();
                    let l1: f64 = xi.iter().zip(yj).map(|(a, b)| (a - b).abs()).sum();
                    let dot = 0.3 * xi.iter().zip(yj).map(|(a, b)| a * b).sum::<f64>() + 0.25;
                    let nx = (0.3 * xi.iter().map(|a| a * a).sum::<f64>() + 0.25).sqrt();
                    let ny = (0.3 * yj.iter().map(|a| a * a).sum::<f64>() + 0.25).sqrt();
                    let t = (dot / (nx * ny)).clamp(-1.0, 1.0).acos();
                    let r = l2.sqrt();
                    let cauchy: f64 = xi
                        .iter()
                        .zip(yj)
                        .map(|(a, b)| 1.0 / (1.0 + 0.3 * (a - b) * (a - b)))
                        .product();
                    let want = match name {
                        "rbf" => (-0.3 * l2).exp(),
                        "laplacian" => (-0.3 * l1).exp(),
                        "relu" => nx * ny * (t.sin() + (PI - t) * t.cos()) / PI,
                        "step" => 1.0 - t / PI,
                        "linear" => dot,
                        // Length scale 1 / sqrt(2 gamma): z = sqrt(2 nu) r / l.
                        "matern12" => (-(0.6f64).sqrt() * r).exp(),
                        "matern32" => {
                            let z = (1.8f64).sqrt() * r;
                            (1.0 + z) * (-z).exp()
                        }
                        "matern52" => {
                            let z = (3.0f64).sqrt() * r;
                            (1.0 + z + z * z / 3.0) * (-z).exp()
                        }
                        "cauchy" => cauchy,
                        "nngp" => nx * ny * (t.sin() + (PI - t) * t.cos()) / PI,
                        "ntk" => {
                            nx * ny * (t.sin() + (PI - t) * t.cos()) / PI + dot * (1.0 - t / PI)
                        }
                        _ => unreachable!("{name}"),
                    };
                    assert!((k[i * 33 + j] - want).abs() < 1e-12, "{name} {i} {j}");
                }
            }
        }
    }

    #[test]
    fn self_kernel_is_exactly_symmetric() {
        // 33 rows: one chunk of 32 and a single-row chunk, whose product rounds
        // differently from the matching column.
        let x = data(33, 4);
        for name in KERNEL_NAMES {
            let k = matrix(&Kernel::new(name, 0.3, 0.2).unwrap(), &x, None, 4);
            assert!(
                (0..33).all(|i| (0..33).all(|j| k[i * 33 + j] == k[j * 33 + i])),
                "{name}"
            );
        }
    }

    #[test]
    fn self_kernel_has_an_exact_diagonal() {
        let x = data(33, 5);
        for name in KERNEL_NAMES {
            let kernel = Kernel::new(name, 2.0, 0.5).unwrap();
            let k = matrix(&kernel, &x, None, 5);
            for i in 0..33 {
                let norm_squared =
                    2.0 * x[i * 5..(i + 1) * 5].iter().map(|v| v * v).sum::<f64>() + 0.25;
                let want = match name {
                    "relu" | "linear" | "nngp" => norm_squared,
                    "ntk" => 2.0 * norm_squared,
                    _ => 1.0,
                };
                assert!(
                    (k[i * 33 + i] - want).abs() <= 4.0 * f64::EPSILON * want,
                    "{name} {i}"
                );
            }
        }
    }

    #[test]
    fn deep_kernels_follow_the_layer_recursion() {
        // S_l = k1(S_{l-1}), T_l = S_l + T_{l-1} k0(S_{l-1}) with the norms kept,
        // written out entry by entry with the angle of each layer.
        // y's rows are not x's: for parallel rows acos is ill-conditioned (the
        // self-kernel's exact diagonal is checked below).
        let d = 3;
        let (x, y) = (data(5, d), data(14, d)[5 * d..].to_vec());
        for depth in [1, 2, 5] {
            let nngp = Kernel::new("nngp", 0.3, 0.5)
                .unwrap()
                .with_depth(depth)
                .unwrap();
            let ntk = Kernel::new("ntk", 0.3, 0.5)
                .unwrap()
                .with_depth(depth)
                .unwrap();
            let (s_matrix, t_matrix) = (
                matrix(&nngp, &x, Some(&y), d),
                matrix(&ntk, &x, Some(&y), d),
            );
            for i in 0..5 {
                for j in 0..9 {
                    let (xi, yj) = (&x[i * d..(i + 1) * d], &y[j * d..(j + 1) * d]);
                    let dot = 0.3 * xi.iter().zip(yj).map(|(a, b)| a * b).sum::<f64>() + 0.25;
                    let nx = (0.3 * xi.iter().map(|a| a * a).sum::<f64>() + 0.25).sqrt();
                    let ny = (0.3 * yj.iter().map(|a| a * a).sum::<f64>() + 0.25).sqrt();
                    let (mut s, mut t) = (dot, dot);
                    for _ in 0..depth {
                        let angle = (s / (nx * ny)).clamp(-1.0, 1.0).acos();
                        let derivative = 1.0 - angle / PI;
                        s = nx * ny * (angle.sin() + (PI - angle) * angle.cos()) / PI;
                        t = s + t * derivative;
                    }
                    assert!(
                        (s_matrix[i * 9 + j] - s).abs() < 1e-12,
                        "nngp {depth} {i} {j}"
                    );
                    assert!(
                        (t_matrix[i * 9 + j] - t).abs() < 1e-12,
                        "ntk {depth} {i} {j}"
                    );
                }
            }
            // The diagonal: S_L(x, x) = |u|^2 and T_L(x, x) = (L + 1) |u|^2.
            let t_self = matrix(&ntk, &x, None, d);
            for i in 0..5 {
                let xi = &x[i * d..(i + 1) * d];
                let norm_squared = 0.3 * xi.iter().map(|a| a * a).sum::<f64>() + 0.25;
                let want = (depth + 1) as f64 * norm_squared;
                assert!((t_self[i * 5 + i] - want).abs() <= 8.0 * f64::EPSILON * want);
            }
        }
        assert!(Kernel::new("ntk", 1.0, 0.0).unwrap().with_depth(0).is_err());
        assert!(Kernel::new("rbf", 1.0, 0.0).unwrap().with_depth(2).is_err());
        assert_eq!(
            Kernel::new("rbf", 1.0, 0.0).unwrap().with_depth(1),
            Ok(Kernel::Rbf { gamma: 1.0 })
        );
    }

    #[test]
    fn arc_cosine_kernels_keep_precision_at_extreme_scales() {
        // Homogeneity: with bias 0, k_1(c x, y) = c k_1(x, y) and k_0(c x, y) =
        // k_0(x, y) for c > 0, up to rounding, even where c^2 |x|^2 is subnormal
        // (1e-162) or zero (5e-324): the rows are scaled by powers of two.
        let d = 3;
        let (x, y) = (data(4, d), data(9, d)[4 * d..].to_vec());
        for name in ["relu", "step", "nngp", "ntk"] {
            let kernel = Kernel::new(name, 2.0, 0.0).unwrap();
            let base = matrix(&kernel, &x, Some(&y), d);
            for scale in [5e-324 / 0.02, 6.4e-162, 1e-100, 1e150] {
                let scaled: Vec<f64> = x.iter().map(|v| v * scale).collect();
                let k = matrix(&kernel, &scaled, Some(&y), d);
                let factor = if name == "step" { 1.0 } else { scale };
                for (got, want) in k.iter().zip(&base) {
                    let want = want * factor;
                    assert!(
                        (got - want).abs() <= 1e-13 * want.abs().max(factor),
                        "{name} at scale {scale:e}: {got:e} vs {want:e}"
                    );
                }
            }
        }
        // The falsifying example of the property test: one row of 6.4e-162.
        let relu = Kernel::new("relu", 2.0, 0.0).unwrap();
        let k = matrix(&relu, &[6.446_721_31e-162], Some(&[1.0]), 1);
        let want = 2.0 * 6.446_721_31e-162;
        assert!(
            (k[0] - want).abs() <= 4.0 * f64::EPSILON * want,
            "{:e}",
            k[0]
        );
    }

    #[test]
    fn overflowing_inputs_are_errors_not_nan() {
        let x = [1e300, 1e300, 0.0, 1.0];
        for name in KERNEL_NAMES.iter().filter(|n| **n != "laplacian") {
            let mut out = vec![0.0; 4];
            let kernel = Kernel::new(name, 1.0, 0.0).unwrap();
            let result = kernel_matrix(
                row_major(&x, 2, 2),
                None,
                &kernel,
                &mut out,
                &Context::global(),
            );
            assert!(
                matches!(result, Err(Error::NonFinite(msg)) if msg.contains("row 0")),
                "{name}"
            );
        }
    }

    #[test]
    fn zero_rows_give_an_empty_matrix() {
        let x: Vec<f64> = vec![];
        assert!(matrix(&Kernel::Rbf { gamma: 1.0 }, &x, Some(&data(3, 2)), 2).is_empty());
    }

    #[test]
    fn mismatched_shapes_are_errors() {
        let (x, y) = (data(2, 3), data(2, 2));
        let mut out = vec![0.0; 4];
        let result = kernel_matrix(
            row_major(&x, 2, 3),
            Some(row_major(&y, 2, 2)),
            &Kernel::Rbf { gamma: 1.0 },
            &mut out,
            &Context::global(),
        );
        assert!(matches!(result, Err(Error::Shape(_))));
    }
}
