//! Blocked Householder tridiagonalization of a symmetric matrix, `A = Q T Q^T`.
//!
//! LAPACK's `dsytrd`/`dlatrd` scheme on the lower triangle: a panel of
//! [`PANEL`] columns is reduced with one symmetric matrix-vector product of the
//! trailing matrix per column, that matrix left as it was at the panel's start
//! and corrected by the panel's reflectors (`V`) and their products (`W`); the
//! trailing matrix is then updated once per panel, `A -= V W^T + W V^T`, a
//! matrix product. Each column thus reads the trailing matrix once, where
//! faer's unblocked reduction reads and writes it (measured at n = 4096 on 2
//! cores: 3.5 s for faer's, 2.0 s for LAPACK's).
//!
//! The reflectors follow faer's convention (`H = I - v v^T / tau`, `v = [1;
//! essentials]`), stored as faer's own reduction stores them, so faer applies
//! them (`apply_block_householder_sequence_on_the_left_in_place_with_conj`).
//!
//! Bits: the product is split into a number of parts that depends on the size
//! and the degree of parallelism asked for, never on the threads that run them;
//! each part sums in a fixed order and the parts are added in order.

use crate::real::Real;
use crate::simd::{Isa, multiversion};
use faer::linalg::householder::make_householder_in_place;
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

/// Columns of the symmetric product handled together (each row's sum is then
/// read and written once per `BLOCK` columns).
const BLOCK: usize = 8;

/// Rows handled together in the symmetric product's running sums.
const LANES: usize = 8;

/// Columns reduced per panel: twice LAPACK's `dsytrd` default, which at n = 4096
/// on 2 cores cut the trailing updates from 0.60 s to 0.39 s (each update then
/// does twice the arithmetic per pass over the trailing matrix) for no measurable
/// cost in the panels.
const PANEL: usize = 64;

/// Trailing sizes below which the symmetric product runs as one part (its
/// `m^2 / 2` entries then fit in cache and splitting costs more than it saves).
const SEQUENTIAL_BELOW: usize = 512;

/// The tridiagonal form of a symmetric matrix and its Householder reflectors.
pub struct Tridiagonal {
    /// The diagonal of `T`, `n` values.
    pub diagonal: Vec<f64>,
    /// The subdiagonal of `T`, `n` values (the last is 0).
    pub subdiagonal: Vec<f64>,
    /// The reflectors' block factors, `block x (n - 1)`, laid out as faer's
    /// block Householder sequences take them (upper triangular `block x block`
    /// factors side by side); the essentials are in the reduced matrix.
    pub factors: Mat<f64>,
}

/// Reduces the symmetric `a` (lower triangle read) to tridiagonal form in place:
/// `a`'s strictly lower part below the subdiagonal then holds the reflectors'
/// essentials (column `j`'s reflector acts on rows `j + 1..`), `block` sets the
/// width of the factors' blocks, and `parts` the number of parts the symmetric
/// products are split into (the bits depend on it, not on the pool).
///
/// # Panics
/// If `a` is not square, or `block` or `parts` is 0.
pub fn tridiagonalize(mut a: MatMut<'_, f64>, block: usize, parts: usize) -> Tridiagonal {
    let n = a.nrows();
    assert!(a.ncols() == n && block > 0 && parts > 0);
    let isa = Isa::configured().unwrap_or_else(|_| Isa::detect());
    let mut diagonal = vec![0.0; n];
    let mut subdiagonal = vec![0.0; n];
    let mut taus = vec![f64::INFINITY; n.saturating_sub(1)];
    let mut partial = vec![vec![0.0; n]; parts];
    let mut start = 0;
    while start + 1 < n {
        let width = PANEL.min(n - 1 - start);
        reduce_panel(
            a.rb_mut(),
            start,
            width,
            parts,
            isa,
            &mut diagonal,
            &mut subdiagonal,
            &mut taus,
            &mut partial,
        );
        start += width;
    }
    if n > 0 {
        diagonal[n - 1] = a[(n - 1, n - 1)];
    }
    let factors = block_factors(
        a.rb()
            .submatrix(1, 0, n.saturating_sub(1), n.saturating_sub(1)),
        &taus,
        block,
        parts,
    );
    Tridiagonal {
        diagonal,
        subdiagonal,
        factors,
    }
}

/// Reduces the `width` columns from `start`, then updates the trailing matrix.
#[allow(clippy::too_many_arguments)]
fn reduce_panel(
    mut a: MatMut<'_, f64>,
    start: usize,
    width: usize,
    parts: usize,
    isa: Isa,
    diagonal: &mut [f64],
    subdiagonal: &mut [f64],
    taus: &mut [f64],
    partial: &mut [Vec<f64>],
) {
    let n = a.nrows();
    // Panel-local rows: row `r` is row `start + 1 + r` of `a`.
    let rows = n - start - 1;
    let mut v = Mat::<f64>::zeros(rows, width);
    let mut w = Mat::<f64>::zeros(rows, width);
    for i in 0..width {
        let j = start + i;
        if i > 0 {
            // Column j as the earlier reflectors of the panel leave it (rows j..).
            let (vp, wp) = (
                v.as_ref().submatrix(i - 1, 0, rows - i + 1, i),
                w.as_ref().submatrix(i - 1, 0, rows - i + 1, i),
            );
            let mut column = a.rb_mut().col_mut(j).subrows_mut(j, n - j).as_mat_mut();
            matmul(
                column.rb_mut(),
                Accum::Add,
                vp,
                wp.row(0).transpose().as_mat(),
                -1.0,
                Par::Seq,
            );
            matmul(
                column.rb_mut(),
                Accum::Add,
                wp,
                vp.row(0).transpose().as_mat(),
                -1.0,
                Par::Seq,
            );
        }
        diagonal[j] = a[(j, j)];
        let (mut head, tail) = a
            .rb_mut()
            .col_mut(j)
            .subrows_mut(j + 1, n - j - 1)
            .split_at_row_mut(1);
        let tau = make_householder_in_place(&mut head[0], tail);
        subdiagonal[j] = head[0];
        taus[j] = tau.tau;
        let scale = if tau.tau.is_finite() {
            tau.tau.recip()
        } else {
            0.0
        };
        {
            let mut vi = v.as_mut().col_mut(i);
            vi[i] = 1.0;
            for r in i + 1..rows {
                vi[r] = a[(start + 1 + r, j)];
            }
        }
        // w = A[j+1.., j+1..] v, corrected by the panel's reflectors so far.
        let m = rows - i;
        let trailing = a.rb().submatrix(j + 1, j + 1, m, m);
        let vi: Vec<f64> = v.as_ref().col(i).subrows(i, m).iter().copied().collect();
        let mut product = vec![0.0; m];
        symmetric_product(isa, trailing, &vi, parts, partial, &mut product);
        let mut wi = Mat::from_fn(m, 1, |r, _| product[r]);
        if i > 0 {
            let vp = v.as_ref().submatrix(i, 0, m, i);
            let wp = w.as_ref().submatrix(i, 0, m, i);
            let vi_mat = v.as_ref().col(i).subrows(i, m).as_mat();
            let (mut vtv, mut wtv) = (Mat::zeros(i, 1), Mat::zeros(i, 1));
            matmul(
                vtv.as_mut(),
                Accum::Replace,
                vp.transpose(),
                vi_mat,
                1.0,
                Par::Seq,
            );
            matmul(
                wtv.as_mut(),
                Accum::Replace,
                wp.transpose(),
                vi_mat,
                1.0,
                Par::Seq,
            );
            matmul(wi.as_mut(), Accum::Add, wp, vtv.as_ref(), -1.0, Par::Seq);
            matmul(wi.as_mut(), Accum::Add, vp, wtv.as_ref(), -1.0, Par::Seq);
        }
        let mut dot = 0.0;
        for r in 0..m {
            wi[(r, 0)] *= scale;
            dot += wi[(r, 0)] * vi[r];
        }
        let shift = -0.5 * scale * dot;
        for r in 0..m {
            w[(i + r, i)] = wi[(r, 0)] + shift * vi[r];
        }
    }
    let next = start + width;
    if next < n {
        let m = n - next;
        let (vt, wt) = (
            v.as_ref().subrows(width - 1, m),
            w.as_ref().subrows(width - 1, m),
        );
        let par = if parts > 1 {
            Par::rayon(parts)
        } else {
            Par::Seq
        };
        let mut trailing = a.rb_mut().submatrix_mut(next, next, m, m);
        for (left, right) in [(vt, wt), (wt, vt)] {
            triangular::matmul(
                trailing.rb_mut(),
                BlockStructure::TriangularLower,
                Accum::Add,
                left,
                BlockStructure::Rectangular,
                right.transpose(),
                BlockStructure::Rectangular,
                -1.0,
                par,
            );
        }
    }
}

/// `out = A x` for the symmetric `a` (lower triangle read), split by columns into
/// parts of about equal area; `partial` holds each part's sum (at least `parts` of
/// at least `a.nrows()` values).
fn symmetric_product(
    isa: Isa,
    a: MatRef<'_, f64>,
    x: &[f64],
    parts: usize,
    partial: &mut [Vec<f64>],
    out: &mut [f64],
) {
    let m = a.nrows();
    let parts = if m < SEQUENTIAL_BELOW { 1 } else { parts };
    // Part p takes columns [bounds[p], bounds[p + 1]): equal shares of the triangle.
    let bounds: Vec<usize> = (0..=parts)
        .map(|p| {
            let share = p as f64 / parts as f64;
            ((1.0 - (1.0 - share).sqrt()) * m as f64).round() as usize
        })
        .collect();
    let sums = &mut partial[..parts];
    let mut dots = vec![0.0; m];
    let dot_parts: Vec<&mut [f64]> = split_at_bounds(&mut dots, &bounds);
    sums.par_iter_mut()
        .zip(dot_parts)
        .enumerate()
        .for_each(|(p, (sum, dots))| {
            let first = bounds[p];
            let sum = &mut sum[..m];
            sum[first..].fill(0.0);
            // Column `j` of `a` from row `row` (at or above its diagonal).
            let column = |j: usize, row: usize| {
                let col = a.col(j).subrows(row, m - row);
                col.try_as_col_major().expect("column-major").as_slice()
            };
            let whole = dots.len() / BLOCK * BLOCK;
            let (blocks, singles) = dots.split_at_mut(whole);
            for (q, dot) in blocks.chunks_exact_mut(BLOCK).enumerate() {
                let j = first + q * BLOCK;
                let cols = std::array::from_fn(|k| column(j + k, j));
                dot.copy_from_slice(&block_product_generic(isa, cols, &x[j..], &mut sum[j..]));
            }
            for (k, dot) in singles.iter_mut().enumerate() {
                let j = first + whole + k;
                *dot = column_product_generic(isa, column(j, j), &x[j..], &mut sum[j..]);
            }
        });
    for (i, o) in out.iter_mut().enumerate() {
        let mut total = dots[i];
        for p in 0..parts {
            if bounds[p] <= i {
                total += partial[p][i];
            }
        }
        *o = total;
    }
}

/// `slice` cut at `bounds` (first 0, last `slice.len()`, non-decreasing).
fn split_at_bounds<'s>(mut slice: &'s mut [f64], bounds: &[usize]) -> Vec<&'s mut [f64]> {
    let mut pieces = Vec::with_capacity(bounds.len() - 1);
    for pair in bounds.windows(2) {
        let (piece, rest) = slice.split_at_mut(pair[1] - pair[0]);
        pieces.push(piece);
        slice = rest;
    }
    pieces
}

/// `N` columns' share of a symmetric product, from row `j` of columns
/// `j..j + N` of the lower triangle (above each diagonal unread): `sum += A x`
/// for the lower triangle's entries and, returned, the dots of the entries below
/// the diagonals with `x` (the upper triangle's share of rows `j..j + N`). Each
/// row's sum is read and written once for the `N` columns.
#[inline(always)]
fn columns_product<T: Real, const N: usize>(columns: [&[T]; N], x: &[T], sum: &mut [T]) -> [T; N] {
    let mut dots = [T::zero(); N];
    for k in 0..N {
        sum[k] += columns[k][k] * x[k];
        for r in k + 1..N {
            sum[r] += columns[k][r] * x[k];
            dots[k] += columns[k][r] * x[r];
        }
    }
    let xj: [T; N] = std::array::from_fn(|k| x[k]);
    let columns = columns.map(|c| &c[N..]);
    let (x, sum) = (&x[N..], &mut sum[N..]);
    let chunks = x.len() / LANES * LANES;
    let mut running = [[T::zero(); LANES]; N];
    for (b, (xs, s)) in x[..chunks]
        .chunks_exact(LANES)
        .zip(sum[..chunks].chunks_exact_mut(LANES))
        .enumerate()
    {
        let at = b * LANES;
        let c: [&[T; LANES]; N] =
            std::array::from_fn(|k| columns[k][at..at + LANES].try_into().expect("lanes"));
        let xs: &[T; LANES] = xs.try_into().expect("lanes");
        let mut acc: [T; LANES] = std::array::from_fn(|l| s[l]);
        // One loop per statement, so that each vectorizes along the rows.
        for k in 0..N {
            for l in 0..LANES {
                acc[l] += c[k][l] * xj[k];
            }
            for l in 0..LANES {
                running[k][l] += c[k][l] * xs[l];
            }
        }
        s.copy_from_slice(&acc);
    }
    for r in chunks..x.len() {
        for k in 0..N {
            sum[r] += columns[k][r] * xj[k];
            dots[k] += columns[k][r] * x[r];
        }
    }
    for k in 0..N {
        dots[k] += running[k].iter().fold(T::zero(), |acc, &s| acc + s);
    }
    dots
}

multiversion! {
    fn block_product_generic<T: Real>(columns: [&[T]; BLOCK], x: &[T], sum: &mut [T]) -> [T; BLOCK] {
        columns_product(columns, x, sum)
    }
}

multiversion! {
    fn column_product_generic<T: Real>(column: &[T], x: &[T], sum: &mut [T]) -> T {
        columns_product([column], x, sum)[0]
    }
}

/// The block factors of the reflectors stored below `basis`'s diagonal (unit
/// diagonal implied), with their `taus`: for the block of columns `j..j + b`,
/// the upper triangular `b x b` `T` with `T_kk = tau_(j+k)` and `T_kl = v_k . v_l`
/// (`k < l`), so that `H_j ... H_(j+b-1) = I - V T^-1 V^T`.
fn block_factors(basis: MatRef<'_, f64>, taus: &[f64], block: usize, parts: usize) -> Mat<f64> {
    let n = basis.ncols();
    let block = block.min(n.max(1));
    let mut factors = Mat::<f64>::zeros(block, n);
    let par = if parts > 1 {
        Par::rayon(parts)
    } else {
        Par::Seq
    };
    let mut j = 0;
    while j < n {
        let b = block.min(n - j);
        let rows = n - j;
        let v = Mat::from_fn(rows, b, |r, c| match r.cmp(&c) {
            std::cmp::Ordering::Less => 0.0,
            std::cmp::Ordering::Equal => 1.0,
            std::cmp::Ordering::Greater => basis[(j + r, j + c)],
        });
        let mut t = factors.as_mut().submatrix_mut(0, j, b, b);
        triangular::matmul(
            t.rb_mut(),
            BlockStructure::StrictTriangularUpper,
            Accum::Replace,
            v.transpose(),
            BlockStructure::Rectangular,
            v.as_ref(),
            BlockStructure::Rectangular,
            1.0,
            par,
        );
        for k in 0..b {
            t[(k, k)] = taus[j + k];
        }
        j += b;
    }
    factors
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::householder::apply_block_householder_sequence_on_the_left_in_place_with_conj;

    /// A symmetric `n x n` matrix with entries of both signs (full storage).
    fn symmetric(n: usize) -> Mat<f64> {
        let entry = |i: usize, j: usize| (((i * 31 + j * 17) % 23) as f64 - 11.0) / 7.0;
        Mat::from_fn(n, n, |i, j| entry(i.max(j), i.min(j)))
    }

    /// `Q T Q^T` from a reduction of `a` (its reflectors applied to `T`).
    fn reconstruct(reduced: &MatRef<'_, f64>, t: &Tridiagonal) -> Mat<f64> {
        let n = reduced.nrows();
        let mut m = Mat::from_fn(n, n, |i, j| match i.abs_diff(j) {
            0 => t.diagonal[i],
            1 => t.subdiagonal[i.min(j)],
            _ => 0.0,
        });
        if n > 1 {
            let essentials = reduced.submatrix(1, 0, n - 1, n - 1);
            let block = t.factors.nrows();
            let scratch = faer::linalg::householder::apply_block_householder_sequence_on_the_left_in_place_scratch::<f64>(n - 1, block, n);
            let mut buffer = MemBuffer::new(scratch);
            for _ in 0..2 {
                // Q T, then Q (Q T)^T = Q T Q^T (T and the result symmetric).
                apply_block_householder_sequence_on_the_left_in_place_with_conj(
                    essentials,
                    t.factors.as_ref(),
                    faer::Conj::No,
                    m.as_mut().subrows_mut(1, n - 1),
                    Par::Seq,
                    MemStack::new(&mut buffer),
                );
                m = m.transpose().to_owned();
            }
        }
        m
    }

    #[test]
    fn the_reduction_reconstructs_the_matrix() {
        // One column; a single panel; ragged panels; parallel symmetric products.
        for n in [1, 2, 3, 65, 130, 600] {
            for parts in [1, 3] {
                let a = symmetric(n);
                let mut reduced = a.clone();
                let t = tridiagonalize(reduced.as_mut(), 16, parts);
                assert_eq!(t.subdiagonal.len(), n);
                let error = (reconstruct(&reduced.as_ref(), &t) - &a).norm_l2() / a.norm_l2();
                assert!(error < 1e-13, "n = {n}, parts = {parts}: error {error:e}");
            }
        }
    }

    #[test]
    fn a_zero_column_needs_no_reflector() {
        // Columns already reduced (zero below the subdiagonal) take tau = inf.
        let mut a = Mat::<f64>::identity(70, 70);
        a[(1, 0)] = 2.0;
        a[(0, 1)] = 2.0;
        let mut reduced = a.clone();
        let t = tridiagonalize(reduced.as_mut(), 16, 2);
        let error = (reconstruct(&reduced.as_ref(), &t) - &a).norm_l2();
        assert!(error < 1e-14, "error {error:e}");
        assert_eq!(t.subdiagonal[0].abs(), 2.0);
    }

    #[test]
    fn the_bits_depend_on_the_parts_not_the_pool() {
        let a = symmetric(700);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut reduced = a.clone();
            let t = pool.install(|| tridiagonalize(reduced.as_mut(), 32, 4));
            (reduced, t.diagonal, t.subdiagonal, t.factors)
        };
        let (one, two) = (run(1), run(2));
        assert!(one.0 == two.0 && one.1 == two.1 && one.2 == two.2 && one.3 == two.3);
    }
}
