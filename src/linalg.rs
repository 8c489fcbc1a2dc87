//! Dense products through faer's GEMM: sequential ones on row-major buffers, and
//! products on a [`Context`]'s pool whose bits do not depend on its thread count.

use crate::parallel::Context;
use crate::real::Real;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::{householder, qr::no_pivoting::factor as qr};
use faer::{Accum, Conj, Mat, MatMut, MatRef, Par};

/// `dst = a @ b`, with `dst` a row-major `a.nrows() x b.ncols()` buffer.
///
/// Runs sequentially: callers parallelize over row chunks, so each output element
/// is computed the same way whatever the thread count.
///
/// # Panics
/// If `a.ncols() != b.nrows()` or `dst.len() != a.nrows() * b.ncols()`.
pub fn matmul_into<T: Real>(dst: &mut [T], a: MatRef<'_, T>, b: MatRef<'_, T>) {
    assert_eq!(a.ncols(), b.nrows());
    let dst = MatMut::from_row_major_slice_mut(dst, a.nrows(), b.ncols());
    faer::linalg::matmul::matmul(dst, Accum::Replace, a, b, T::one(), Par::Seq);
}

/// `dst = a @ b` (`Accum::Replace`) or `dst += a @ b` (`Accum::Add`) on the threads
/// of `ctx`'s pool, with bits that do not depend on how many there are.
///
/// faer shares a product of several rows and columns among threads by blocks of
/// rows and columns, never splitting an inner sum; a matrix-vector product it
/// shares by its inner sum, whose rounding then follows the thread count, so a
/// product with one row or one column runs sequentially (it is memory-bound).
///
/// # Panics
/// If the shapes do not match.
pub fn pool_product(
    dst: MatMut<'_, f64>,
    accum: Accum,
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    ctx: &Context,
) {
    if a.nrows() == 1 || b.ncols() == 1 {
        faer::linalg::matmul::matmul(dst, accum, a, b, 1.0, Par::Seq);
    } else {
        // `Par::rayon(0)` takes the size of the pool it is made on: made inside.
        ctx.install(|| faer::linalg::matmul::matmul(dst, accum, a, b, 1.0, Par::rayon(0)));
    }
}

/// `a @ b` as [`pool_product`] computes it.
pub fn pool_matmul(a: MatRef<'_, f64>, b: MatRef<'_, f64>, ctx: &Context) -> Mat<f64> {
    let mut out = Mat::zeros(a.nrows(), b.ncols());
    pool_product(out.as_mut(), Accum::Replace, a, b, ctx);
    out
}

/// A row-major `nrows x ncols` slice as a faer view.
///
/// # Panics
/// If `data.len() != nrows * ncols`.
pub fn row_major<T: Real>(data: &[T], nrows: usize, ncols: usize) -> MatRef<'_, T> {
    MatRef::from_row_major_slice(data, nrows, ncols).as_dyn_stride()
}

/// The entries of `m` in column-major order (a copy in the layout the streaming
/// products take).
pub fn column_major<T: Real>(m: MatRef<'_, T>) -> Vec<T> {
    (0..m.ncols())
        .flat_map(|j| (0..m.nrows()).map(move |i| m[(i, j)]))
        .collect()
}

/// Squared Euclidean norm of every row of `x`, accumulated in order.
pub fn row_norms_squared<T: Real>(x: MatRef<'_, T>) -> Vec<T> {
    (0..x.nrows())
        .map(|i| (0..x.ncols()).fold(T::zero(), |acc, j| acc + x[(i, j)] * x[(i, j)]))
        .collect()
}

/// The orthonormal factor `Q` of `a = Q R` (square `a`), with the signs fixed so
/// that `R` has a non-negative diagonal: column `i` of `Q` is what Gram-Schmidt
/// makes of the first `i + 1` columns of `a`. For a Gaussian `a` this `Q` is
/// Haar-distributed and independent of `R`.
///
/// Householder QR run sequentially (`Par::Seq`), so the bits do not depend on
/// the thread count.
///
/// # Panics
/// If `a` is not square.
pub fn orthonormal_factor<T: Real>(a: Mat<T>) -> Mat<T> {
    let n = a.nrows();
    assert_eq!(a.ncols(), n, "orthonormal_factor takes a square matrix");
    if n == 0 {
        return a;
    }
    let mut qr_factors = a;
    let block = qr::recommended_block_size::<T>(n, n);
    let mut coeffs = Mat::<T>::zeros(block, n);
    let scratch = qr::qr_in_place_scratch::<T>(n, n, block, Par::Seq, Default::default()).or(
        householder::apply_block_householder_sequence_on_the_left_in_place_scratch::<T>(
            n, block, n,
        ),
    );
    let mut buffer = MemBuffer::new(scratch);
    let stack = MemStack::new(&mut buffer);
    qr::qr_in_place(
        qr_factors.as_mut(),
        coeffs.as_mut(),
        Par::Seq,
        stack,
        Default::default(),
    );
    let mut q = Mat::<T>::identity(n, n);
    householder::apply_block_householder_sequence_on_the_left_in_place_with_conj(
        qr_factors.as_ref(),
        coeffs.as_ref(),
        Conj::No,
        q.as_mut(),
        Par::Seq,
        stack,
    );
    for j in 0..n {
        if qr_factors[(j, j)] < T::zero() {
            for i in 0..n {
                q[(i, j)] = -q[(i, j)];
            }
        }
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthonormal_factor_is_gram_schmidt() {
        for n in [0, 1, 2, 7, 33, 100] {
            let mut rng = crate::rng::feature_stream(1, n as u64);
            let a = Mat::<f64>::from_fn(n, n, |_, _| crate::rng::standard_normal(&mut rng));
            let q = orthonormal_factor(a.clone());
            // Modified Gram-Schmidt of the columns of a, the oracle.
            let mut g = a.clone();
            for j in 0..n {
                for k in 0..j {
                    let dot: f64 = (0..n).map(|i| g[(i, k)] * g[(i, j)]).sum();
                    for i in 0..n {
                        g[(i, j)] -= dot * g[(i, k)];
                    }
                }
                let norm = (0..n).map(|i| g[(i, j)] * g[(i, j)]).sum::<f64>().sqrt();
                for i in 0..n {
                    g[(i, j)] /= norm;
                }
            }
            let tol = 1e-10 * (n.max(1) as f64);
            for i in 0..n {
                for j in 0..n {
                    assert!((q[(i, j)] - g[(i, j)]).abs() < tol, "{n}: {i} {j}");
                }
            }
        }
    }

    #[test]
    fn matmul_into_matches_a_hand_product() {
        let a = row_major(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3);
        let b = row_major(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], 3, 2);
        let mut dst = [0.0f64; 4];
        matmul_into(&mut dst, a, b);
        assert_eq!(dst, [4.0, 5.0, 10.0, 11.0]);
        assert_eq!(row_norms_squared(a), vec![14.0, 77.0]);
    }
}
