//! Products with a kernel matrix against centers, `K = k(X, C)` (`n x M`), whose
//! blocks are computed on the fly and never stored: `K^T W B`, `K^T W (K U - 1
//! s^T)` and `K U + 1 b^T`. They are the passes of the Nystrom conjugate-gradient
//! solver (one per iteration) and of predictions from center coefficients.
//!
//! The rows are split into tasks of [`TASK_ROWS`] rows, each done tile by tile
//! ([`tile_rows`] rows, a kernel tile that stays in cache while both of its
//! products use it) into its own partial sum; the partial sums are added in task
//! order, in waves of [`WAVE_TASKS`] tasks. None of these sizes depends on the
//! thread count, so neither do the bits of the result.

use super::KernelColumns;
use crate::error::{Error, Result};
use crate::linalg::{matmul_into, row_major};
use crate::parallel::Context;
use crate::real::Real;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// Rows per parallel task.
pub const TASK_ROWS: usize = 2048;
/// Tasks whose partial sums are held at once (then added in order).
pub const WAVE_TASKS: usize = 16;
/// Bytes of the float64 kernel tile a task holds: within a core's L2 cache (1 MiB on
/// Zen 4), so that both products read it from there (with 2 MiB tiles the products
/// of 5 columns at M = 2048 took 10% longer).
const TILE_BYTES: usize = 1 << 19;

/// Rows per kernel tile for `m` centers: about [`TILE_BYTES`] of float64, 8 to 256 rows.
pub fn tile_rows(m: usize) -> usize {
    (TILE_BYTES / (8 * m.max(1))).clamp(8, 256)
}

/// `K^T W B = sum_i s_i k(x_i, C) b_i^T` (`M x c`) for the rows `x`, the
/// `n x c` matrix `b` and the weights `s` (ones when `None`).
///
/// # Errors
/// [`Error::Shape`] if the shapes disagree; as [`KernelColumns::fill`];
/// [`Error::Interrupted`].
pub fn transpose_products<T: Real>(
    x: MatRef<'_, T>,
    columns: &KernelColumns<'_>,
    b: MatRef<'_, f64>,
    weights: Option<&[f64]>,
    ctx: &Context,
) -> Result<Mat<f64>> {
    check_rows(x, columns, b.nrows(), weights)?;
    sum_over_tiles(x, columns, b.ncols(), ctx, |first, tile, partial| {
        let rows = tile.nrows();
        let mut weighted = b.subrows(first, rows).to_owned();
        scale_rows(weighted.as_mut(), weights.map(|s| &s[first..first + rows]));
        matmul(
            partial,
            Accum::Add,
            tile.transpose(),
            &weighted,
            1.0,
            Par::Seq,
        );
    })
}

/// `K^T W (K U - 1 s^T) = sum_i w_i k(x_i, C) (k(x_i, C)^T U - s)^T` (`M x c`)
/// for the rows `x`, the `M x c` matrix `u`, the shifts `s` (one per column;
/// the weighted column means of `K U` center it) and the weights.
///
/// # Errors
/// As [`transpose_products`].
pub fn normal_products<T: Real>(
    x: MatRef<'_, T>,
    columns: &KernelColumns<'_>,
    u: MatRef<'_, f64>,
    shift: &[f64],
    weights: Option<&[f64]>,
    ctx: &Context,
) -> Result<Mat<f64>> {
    check_rows(x, columns, x.nrows(), weights)?;
    check_centers(columns, u.nrows(), "u")?;
    if shift.len() != u.ncols() {
        return Err(Error::Shape(format!(
            "{} shifts given for {} columns of u",
            shift.len(),
            u.ncols()
        )));
    }
    sum_over_tiles(x, columns, u.ncols(), ctx, |first, tile, partial| {
        let rows = tile.nrows();
        let mut fitted = Mat::<f64>::zeros(rows, u.ncols());
        matmul(fitted.as_mut(), Accum::Replace, tile, u, 1.0, Par::Seq);
        for (j, &s) in shift.iter().enumerate() {
            fitted.col_mut(j).iter_mut().for_each(|v| *v -= s);
        }
        scale_rows(fitted.as_mut(), weights.map(|s| &s[first..first + rows]));
        matmul(
            partial,
            Accum::Add,
            tile.transpose(),
            &fitted,
            1.0,
            Par::Seq,
        );
    })
}

/// Writes `K coef + 1 intercept^T` (row-major `n x c`) into `out`, for the
/// `M x c` coefficients of the centers: predictions of kernel models.
///
/// # Errors
/// As [`transpose_products`].
pub fn predict_kernel<T: Real>(
    x: MatRef<'_, T>,
    columns: &KernelColumns<'_>,
    coef: MatRef<'_, f64>,
    intercept: &[f64],
    out: &mut [f64],
    ctx: &Context,
) -> Result<()> {
    let (n, c, m) = (x.nrows(), coef.ncols(), columns.len());
    columns.check_input(x.ncols())?;
    check_centers(columns, coef.nrows(), "coef")?;
    if intercept.len() != c || out.len() != n * c {
        return Err(Error::Shape(format!(
            "{c} intercepts and {n} x {c} outputs are needed; got {} and {}",
            intercept.len(),
            out.len()
        )));
    }
    let rows_per_tile = tile_rows(m);
    ctx.for_each_row_chunk(out, c, rows_per_tile, |first, out| {
        let rows = out.len() / c.max(1);
        let mut tile = Vec::new();
        columns.tile(x.subrows(first, rows), first, &mut tile)?;
        matmul_into(out, row_major(&tile, rows, m), coef);
        for row in out.chunks_exact_mut(c.max(1)) {
            row.iter_mut().zip(intercept).for_each(|(v, b)| *v += b);
        }
        Ok(())
    })
}

/// [`Error::Shape`] unless `x` fits the centers and has `n` rows and weights.
fn check_rows<T: Real>(
    x: MatRef<'_, T>,
    columns: &KernelColumns<'_>,
    n: usize,
    weights: Option<&[f64]>,
) -> Result<()> {
    columns.check_input(x.ncols())?;
    let n_weights = weights.map_or(x.nrows(), <[f64]>::len);
    if n != x.nrows() || n_weights != x.nrows() {
        return Err(Error::Shape(format!(
            "X has {} rows but the products got {n} rows and {n_weights} weights",
            x.nrows()
        )));
    }
    Ok(())
}

/// [`Error::Shape`] unless `rows` (of the matrix `name`) is the number of centers.
fn check_centers(columns: &KernelColumns<'_>, rows: usize, name: &str) -> Result<()> {
    if rows == columns.len() {
        return Ok(());
    }
    Err(Error::Shape(format!(
        "{name} has {rows} rows for {} centers; it must have one per center",
        columns.len()
    )))
}

/// Multiplies row `i` of `m` by `weights[i]` (nothing for unit weights).
fn scale_rows(mut m: MatMut<'_, f64>, weights: Option<&[f64]>) {
    if let Some(weights) = weights {
        for j in 0..m.ncols() {
            m.as_mut()
                .col_mut(j)
                .iter_mut()
                .zip(weights)
                .for_each(|(v, s)| *v *= s);
        }
    }
}

/// `sum over tiles of add(first_row, tile, partial)`, `M x c`: tiles of
/// [`tile_rows`] rows within tasks of [`TASK_ROWS`] rows, each task's partial
/// sum added in task order (the module docs).
fn sum_over_tiles<T: Real>(
    x: MatRef<'_, T>,
    columns: &KernelColumns<'_>,
    c: usize,
    ctx: &Context,
    add: impl Fn(usize, MatRef<'_, f64>, MatMut<'_, f64>) + Sync,
) -> Result<Mat<f64>> {
    let (n, m) = (x.nrows(), columns.len());
    let rows_per_tile = tile_rows(m);
    let mut total = Mat::<f64>::zeros(m, c);
    let mut partials: Vec<Mat<f64>> = Vec::new();
    let n_tasks = n.div_ceil(TASK_ROWS);
    for wave in (0..n_tasks).step_by(WAVE_TASKS) {
        let tasks = WAVE_TASKS.min(n_tasks - wave);
        partials.resize_with(tasks, || Mat::zeros(m, c));
        let work = partials.iter_mut().enumerate().map(|(k, p)| (wave + k, p));
        ctx.for_each_task(work, |(task, partial)| {
            partial.fill(0.0);
            let end = ((task + 1) * TASK_ROWS).min(n);
            let mut tile = Vec::new();
            for first in (task * TASK_ROWS..end).step_by(rows_per_tile) {
                let rows = rows_per_tile.min(end - first);
                columns.tile(x.subrows(first, rows), first, &mut tile)?;
                add(
                    first,
                    row_major(&tile[..rows * m], rows, m),
                    partial.as_mut(),
                );
            }
            Ok(())
        })?;
        for partial in &partials {
            total += partial;
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{Kernel, kernel_matrix};

    fn data(n: usize, d: usize, seed: usize) -> Vec<f64> {
        (0..n * d)
            .map(|i| (((i + seed) * 7919) % 101) as f64 / 50.0 - 1.0)
            .collect()
    }

    /// The dense `k(x, c)`, `n x m`.
    fn dense(kernel: &Kernel, x: &[f64], c: &[f64], d: usize) -> Mat<f64> {
        let (n, m) = (x.len() / d, c.len() / d);
        let mut k = vec![0.0; n * m];
        let ctx = Context::global();
        kernel_matrix(
            row_major(x, n, d),
            Some(row_major(c, m, d)),
            kernel,
            &mut k,
            &ctx,
        )
        .unwrap();
        Mat::from_fn(n, m, |i, j| k[i * m + j])
    }

    fn close(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> bool {
        let scale = b.norm_max().max(1.0);
        (a - b).norm_max() <= 1e-12 * scale
    }

    #[test]
    fn products_equal_dense_ones_over_several_tasks_and_waves() {
        // 2 * 16 * 2048 + 77 rows: two full waves of tasks and a partial task.
        let (n, m, d, c) = (2 * WAVE_TASKS * TASK_ROWS + 77, 37, 3, 2);
        let (x, centers) = (data(n, d, 1), data(m, d, 5));
        let kernel = Kernel::Laplacian { gamma: 0.4 };
        let cm = row_major(&centers, m, d);
        let columns = KernelColumns::new(&kernel, cm).unwrap();
        let k = dense(&kernel, &x, &centers, d);
        let weights: Vec<f64> = (0..n).map(|i| 0.5 + (i % 3) as f64).collect();
        let w = faer::col::ColRef::from_slice(&weights).as_diagonal();
        let b = Mat::from_fn(n, c, |i, j| ((i * (j + 2)) % 11) as f64 - 5.0);
        let u = Mat::from_fn(m, c, |i, j| ((i + 3 * j) % 7) as f64 / 7.0);
        let xm = row_major(&x, n, d);
        let ctx = Context::global();

        let got = transpose_products(xm, &columns, b.as_ref(), Some(&weights), &ctx).unwrap();
        assert!(close(got.as_ref(), (k.transpose() * w * &b).as_ref()));

        let shift = [0.25, -1.5];
        let got = normal_products(xm, &columns, u.as_ref(), &shift, Some(&weights), &ctx).unwrap();
        let mut centered = &k * &u;
        for (j, s) in shift.iter().enumerate() {
            centered.col_mut(j).iter_mut().for_each(|v| *v -= s);
        }
        assert!(close(
            got.as_ref(),
            (k.transpose() * w * &centered).as_ref()
        ));

        let mut out = vec![0.0; n * c];
        predict_kernel(xm, &columns, u.as_ref(), &shift, &mut out, &ctx).unwrap();
        let want = &k * &u;
        assert!(
            (0..n)
                .all(|i| (0..c).all(|j| (out[i * c + j] - want[(i, j)] - shift[j]).abs() < 1e-12))
        );

        // float32 rows: the same products of the rounded rows.
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let x32_as64: Vec<f64> = x32.iter().map(|&v| v as f64).collect();
        let got =
            transpose_products(row_major(&x32, n, d), &columns, b.as_ref(), None, &ctx).unwrap();
        let want = transpose_products(row_major(&x32_as64, n, d), &columns, b.as_ref(), None, &ctx);
        assert_eq!(got, want.unwrap());
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let (n, m, d) = (5 * TASK_ROWS + 3, 50, 4);
        let (x, centers) = (data(n, d, 2), data(m, d, 9));
        let kernel = Kernel::Rbf { gamma: 0.3 };
        let columns = KernelColumns::new(&kernel, row_major(&centers, m, d)).unwrap();
        let u = Mat::from_fn(m, 3, |i, j| ((i * 5 + j) % 9) as f64 - 4.0);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let ctx = Context::new(Some(&pool), &crate::parallel::NeverInterrupt);
            normal_products(
                row_major(&x, n, d),
                &columns,
                u.as_ref(),
                &[0.1, 0.2, 0.3],
                None,
                &ctx,
            )
            .unwrap()
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
    }

    #[test]
    fn bad_shapes_are_errors() {
        let (centers, x) = (data(4, 2, 0), data(6, 2, 1));
        let kernel = Kernel::Rbf { gamma: 1.0 };
        let columns = KernelColumns::new(&kernel, row_major(&centers, 4, 2)).unwrap();
        let ctx = Context::global();
        let xm = row_major(&x, 6, 2);
        let b = Mat::<f64>::zeros(5, 1);
        assert!(matches!(
            transpose_products(xm, &columns, b.as_ref(), None, &ctx),
            Err(Error::Shape(_))
        ));
        let u = Mat::<f64>::zeros(3, 1);
        assert!(matches!(
            normal_products(xm, &columns, u.as_ref(), &[0.0], None, &ctx),
            Err(Error::Shape(_))
        ));
        let u = Mat::<f64>::zeros(4, 1);
        assert!(matches!(
            normal_products(xm, &columns, u.as_ref(), &[0.0, 1.0], None, &ctx),
            Err(Error::Shape(_))
        ));
        let mut out = vec![0.0; 6];
        assert!(matches!(
            predict_kernel(xm, &columns, u.as_ref(), &[], &mut out, &ctx),
            Err(Error::Shape(_))
        ));
        let x3 = data(2, 3, 0);
        assert!(matches!(
            predict_kernel(
                row_major(&x3, 2, 3),
                &columns,
                u.as_ref(),
                &[0.0],
                &mut out[..2],
                &ctx
            ),
            Err(Error::Shape(_))
        ));
    }
}
