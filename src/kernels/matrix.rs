//! Exact kernel matrices `K[i, j] = k(x_i, y_j)`, in float64 (near-ridgeless
//! solves need it): inner products (one GEMM per chunk of rows) or coordinate-wise
//! folds, then each kernel's function of them, row by row while in cache.

use super::Kernel;
use crate::error::{Error, Result, check_output_len};
use crate::linalg::row_norms_squared;
use crate::parallel::Context;
use crate::simd::{ArcCosineOrder, Isa, arc_cosine_in_place, exp_nonpositive_in_place};
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// Rows of `x` per parallel task.
const ROWS_PER_CHUNK: usize = 32;

/// Writes the exact kernel matrix `K[i, j] = k(x_i, y_j)` into the row-major
/// `n x m` buffer `out`; `y = None` means `y = x` (the diagonal of the
/// shift-invariant kernels is then exactly 1).
///
/// # Errors
/// [`Error::Shape`] if `x` and `y` differ in columns or `out` has the wrong
/// length; [`Error::Interrupted`] if `ctx`'s interrupt fires.
pub fn kernel_matrix(
    x: MatRef<'_, f64>,
    y: Option<MatRef<'_, f64>>,
    kernel: &Kernel,
    out: &mut [f64],
    ctx: &Context,
) -> Result<()> {
    let same = y.is_none();
    let y = y.unwrap_or(x);
    if x.ncols() != y.ncols() {
        return Err(Error::Shape(format!(
            "X has {} columns but Y has {}; they must have the same number of features",
            x.ncols(),
            y.ncols()
        )));
    }
    let m = y.nrows();
    check_output_len(out.len(), x.nrows(), m)?;
    let isa = Isa::detect();
    let (x_norms, y_norms) = (checked_norms(x, "X")?, checked_norms(y, "Y")?);
    let rows = KernelRows { x, y, lower: same };
    let filled = match *kernel {
        Kernel::Rbf { gamma } => rows.dots(out, ctx, |i, row| {
            for (v, &y_norm) in row.iter_mut().zip(&y_norms) {
                *v = -gamma * (x_norms[i] + y_norm - 2.0 * *v).max(0.0);
            }
            if same {
                row[i] = 0.0;
            }
            exp_nonpositive_in_place(isa, row);
        }),
        Kernel::Laplacian { gamma } => {
            let fold = |acc: f64, diff: f64| acc + diff.abs();
            rows.folds(out, ctx, 0.0, fold, |i, row| {
                row.iter_mut().for_each(|v| *v *= -gamma);
                if same {
                    row[i] = 0.0;
                }
                exp_nonpositive_in_place(isa, row);
            })
        }
        Kernel::Matern { gamma, nu } => {
            let c = (2.0 * nu.dof() as f64 * gamma).sqrt();
            let fold = |acc: f64, diff: f64| acc + diff * diff;
            rows.folds(out, ctx, 0.0, fold, |i, row| {
                if same {
                    row[i] = 0.0;
                }
                let z: Vec<f64> = row.iter().map(|&s| c * s.sqrt()).collect();
                row.iter_mut().zip(&z).for_each(|(v, &z)| *v = -z);
                exp_nonpositive_in_place(isa, row);
                row.iter_mut()
                    .zip(&z)
                    .for_each(|(v, &z)| *v = nu.profile(z, *v));
            })
        }
        Kernel::Cauchy { gamma } => {
            let fold = |acc: f64, diff: f64| acc / (1.0 + gamma * diff * diff);
            rows.folds(out, ctx, 1.0, fold, |i, row| {
                if same {
                    row[i] = 1.0;
                }
            })
        }
        Kernel::Relu { gamma, bias }
        | Kernel::Step { gamma, bias }
        | Kernel::Nngp { gamma, bias, .. }
        | Kernel::Ntk { gamma, bias, .. } => {
            let augmented_norm = |sq: f64| (gamma * sq + bias * bias).sqrt();
            let x_norms: Vec<f64> = x_norms.into_iter().map(augmented_norm).collect();
            let y_norms: Vec<f64> = y_norms.into_iter().map(augmented_norm).collect();
            rows.dots(out, ctx, |i, row| {
                let norms: Vec<f64> = y_norms[..row.len()]
                    .iter()
                    .map(|&y_norm| x_norms[i] * y_norm)
                    .collect();
                row.iter_mut().for_each(|v| *v = gamma * *v + bias * bias);
                if same {
                    // The angle of u with itself is exactly 0; acos(dot / norms)
                    // would only give ~1e-8 (acos is ill-conditioned near 1).
                    row[i] = norms[i];
                }
                layered_kernel(isa, kernel, row, &norms);
            })
        }
        Kernel::Linear { gamma, bias } => rows.dots(out, ctx, |_, row| {
            row.iter_mut().for_each(|v| *v = gamma * *v + bias * bias);
        }),
    };
    filled?;
    if same {
        mirror_lower_triangle(out, m);
    }
    Ok(())
}

/// The squared norms of the rows of `x` (`name` in messages), which must be
/// finite: then every inner product and squared distance is finite too, so no
/// kernel value can silently become NaN.
fn checked_norms(x: MatRef<'_, f64>, name: &str) -> Result<Vec<f64>> {
    let norms = row_norms_squared(x);
    match norms.iter().position(|v| !v.is_finite()) {
        Some(row) => Err(Error::NonFinite(format!(
            "the squared norm of row {row} of {name} is not finite: it overflows, or the row holds NaN or \
             infinity (rescale the data)"
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

/// The rows of the kernel matrix of `x` against `y`, filled in parallel chunks of
/// [`ROWS_PER_CHUNK`] rows of a row-major `x.nrows() x y.nrows()` buffer.
#[derive(Clone, Copy)]
struct KernelRows<'a> {
    x: MatRef<'a, f64>,
    y: MatRef<'a, f64>,
    /// `y` is `x`: a chunk stops at the column of its last row, the entries above
    /// the diagonal being left to [`mirror_lower_triangle`] (which halves the work).
    lower: bool,
}

impl KernelRows<'_> {
    /// Calls `fill(first, n_rows, cols, rows)` on each chunk of `out` (rows
    /// `first..first + n_rows`, of which the first `cols` columns are needed: all
    /// of them, or with `lower` up to the chunk's last row), then `finish(i, row)`
    /// on each of its rows `i` (that prefix) while they are in cache.
    fn for_each_chunk(
        self,
        out: &mut [f64],
        ctx: &Context,
        fill: impl Fn(usize, usize, usize, &mut [f64]) + Sync,
        finish: impl Fn(usize, &mut [f64]) + Sync,
    ) -> Result<()> {
        let m = self.y.nrows();
        ctx.for_each_row_chunk(out, m, ROWS_PER_CHUNK, |first, rows| {
            let n_rows = rows.len() / m.max(1);
            let cols = if self.lower { first + n_rows } else { m };
            fill(first, n_rows, cols, rows);
            for (i, row) in rows.chunks_exact_mut(m.max(1)).enumerate() {
                finish(first + i, &mut row[..cols]);
            }
            Ok(())
        })
    }

    /// Fills `out` with the inner products `x_i . y_j`, then calls `finish(i, row)`
    /// on each row (see [`KernelRows::for_each_chunk`]).
    fn dots(
        self,
        out: &mut [f64],
        ctx: &Context,
        finish: impl Fn(usize, &mut [f64]) + Sync,
    ) -> Result<()> {
        let (x, y, m) = (self.x, self.y, self.y.nrows());
        let dots = |first, n_rows, cols, rows: &mut [f64]| {
            // The rows as the transpose of a column-major view: faer 0.24.4's
            // `from_row_major_slice_with_stride_mut` swaps its two strides.
            let dst = MatMut::from_column_major_slice_with_stride_mut(rows, cols, n_rows, m.max(1))
                .transpose_mut();
            let (x, y) = (x.subrows(first, n_rows), y.subrows(0, cols));
            matmul(dst, Accum::Replace, x, y.transpose(), 1.0, Par::Seq);
        };
        self.for_each_chunk(out, ctx, dots, finish)
    }

    /// Fills each row of `out` with the coordinate-wise folds `fold(... fold(init,
    /// x_i1 - y_j1) ..., x_id - y_jd)`, then calls `finish(i, row)` on it (see
    /// [`KernelRows::for_each_chunk`]). The inner loop runs over `y`'s rows (`y`
    /// copied column by column), so it vectorizes.
    fn folds(
        self,
        out: &mut [f64],
        ctx: &Context,
        init: f64,
        fold: impl Fn(f64, f64) -> f64 + Sync,
        finish: impl Fn(usize, &mut [f64]) + Sync,
    ) -> Result<()> {
        let (x, y, m) = (self.x, self.y, self.y.nrows());
        let y_cols: Vec<f64> = (0..y.ncols())
            .flat_map(|k| (0..m).map(move |j| y[(j, k)]))
            .collect();
        let folds_then_finish = |i: usize, row: &mut [f64]| {
            let cols = row.len();
            row.fill(init);
            for k in 0..x.ncols() {
                let x_ik = x[(i, k)];
                for (v, &y_jk) in row.iter_mut().zip(&y_cols[k * m..k * m + cols]) {
                    *v = fold(*v, x_ik - y_jk);
                }
            }
            finish(i, row);
        };
        self.for_each_chunk(out, ctx, |_, _, _, _| {}, folds_then_finish)
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
