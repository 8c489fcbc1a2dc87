//! Dense products on row-major buffers, through faer's GEMM.

use crate::real::Real;
use faer::{Accum, MatMut, MatRef, Par};

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

#[cfg(test)]
mod tests {
    use super::*;

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
