//! The random projections `p_j = w_j . x` of a feature map, dense or structured.
//!
//! - [`Projection::Dense`]: explicit weights `W` (`d x m`), one GEMM per block of
//!   frequencies, `O(d m)` per row.
//! - [`Projection::Structured`] (SORF, Yu et al. 2016): block `b` of `P` frequencies
//!   (`P` = `d` rounded up to a power of two) is
//!   `W_b = H diag(s_b2) H diag(s_b1) H diag(s_b0)` applied to `x` zero-padded to
//!   `P`, with `H` the unnormalized Hadamard matrix ([`crate::fwht`]) and three
//!   random diagonals, the first carrying the scale (see
//!   [`draw_structured_frequencies`](super::draw_structured_frequencies)). `W` is
//!   never formed: a row costs three fast Walsh-Hadamard transforms per block,
//!   `O(m log P)`.
//!
//! Both give the projections of a contiguous range of frequencies for a block of
//! rows, row by row in the same way whatever the chunking, so the features are
//! bit-identical for any thread count.

use crate::error::{Error, Result};
use crate::fwht::fwht_in_place;
use crate::linalg::matmul_into;
use crate::real::Real;
use crate::simd::Isa;
use faer::MatRef;

/// Frequencies per GEMM block of a dense projection: a `128 x 256` float64
/// scratch is 256 KiB, resident in L2 while the nonlinearity reads it.
pub const COLS_PER_BLOCK: usize = 256;

/// How a feature map projects its inputs onto its frequencies.
#[derive(Clone, Copy, Debug)]
pub enum Projection<'a, T> {
    /// Explicit weights, `d x m` (column `j` is `w_j`).
    Dense(MatRef<'a, T>),
    /// Structured orthogonal blocks, applied with fast Walsh-Hadamard transforms.
    Structured(Structured<'a, T>),
}

/// Structured orthogonal frequencies: `m` frequencies of `d`-dimensional inputs
/// in blocks of `padded` (the diagonals of [`Projection::Structured`]).
#[derive(Clone, Copy, Debug)]
pub struct Structured<'a, T> {
    diagonals: &'a [T],
    n_features_in: usize,
    padded: usize,
    n_frequencies: usize,
}

impl<'a, T: Real> Structured<'a, T> {
    /// The structured projection of `n_frequencies` frequencies of
    /// `n_features_in`-dimensional inputs, from `diagonals`: for each block of
    /// `padded` frequencies, three diagonals of length `padded`, in the order they
    /// apply (`[b][0]` first).
    ///
    /// # Errors
    /// [`Error::Shape`] if `padded` is not the smallest power of two `>=
    /// n_features_in` (at least 1), or `diagonals` does not hold exactly
    /// `ceil(n_frequencies / padded)` blocks.
    pub fn new(
        diagonals: &'a [T],
        n_features_in: usize,
        padded: usize,
        n_frequencies: usize,
    ) -> Result<Self> {
        if padded != padded_dimension(n_features_in) {
            return Err(Error::Shape(format!(
                "structured weights for {n_features_in} input features have diagonals of \
                 length {}, got {padded}",
                padded_dimension(n_features_in)
            )));
        }
        let n_blocks = n_frequencies.div_ceil(padded);
        if diagonals.len() != n_blocks * 3 * padded {
            return Err(Error::Shape(format!(
                "{n_frequencies} structured frequencies need {n_blocks} blocks of 3 diagonals \
                 of length {padded}, got {} values",
                diagonals.len()
            )));
        }
        Ok(Structured {
            diagonals,
            n_features_in,
            padded,
            n_frequencies,
        })
    }

    /// Writes `W_b [x; 0]` (all `padded` frequencies of block `block`) into `buffer`.
    fn project_block(&self, isa: Isa, x: &[T], block: usize, buffer: &mut [T]) {
        let p = self.padded;
        let diagonals = &self.diagonals[block * 3 * p..(block + 1) * 3 * p];
        buffer[..x.len()].copy_from_slice(x);
        buffer[x.len()..].fill(T::zero());
        for diagonal in diagonals.chunks_exact(p) {
            buffer.iter_mut().zip(diagonal).for_each(|(v, &s)| *v *= s);
            fwht_in_place(isa, buffer);
        }
    }
}

/// The dimension structured blocks work in: `n_features_in` rounded up to a power
/// of two (1 for no features).
pub fn padded_dimension(n_features_in: usize) -> usize {
    n_features_in.max(1).next_power_of_two()
}

impl<'a, T: Real> Projection<'a, T> {
    /// Input dimension `d`.
    pub fn n_features_in(&self) -> usize {
        match self {
            Projection::Dense(w) => w.nrows(),
            Projection::Structured(s) => s.n_features_in,
        }
    }

    /// Number of frequencies `m`.
    pub fn n_frequencies(&self) -> usize {
        match self {
            Projection::Dense(w) => w.ncols(),
            Projection::Structured(s) => s.n_frequencies,
        }
    }

    /// Frequencies computed together: [`COLS_PER_BLOCK`] for dense weights;
    /// whole structured blocks (at least [`COLS_PER_BLOCK`] frequencies when
    /// blocks are smaller).
    pub fn block_width(&self) -> usize {
        match self {
            Projection::Dense(_) => COLS_PER_BLOCK,
            Projection::Structured(s) => s.padded * (COLS_PER_BLOCK / s.padded).max(1),
        }
    }

    /// The projections of the rows `x` on frequencies `start..start + width`,
    /// row-major `x.nrows() x width` into `out`.
    ///
    /// # Panics
    /// If the range is out of bounds, `out` has the wrong length, or (structured)
    /// `start` is not a multiple of [`Projection::block_width`].
    pub fn project_into(&self, x: MatRef<'_, T>, start: usize, width: usize, out: &mut [T]) {
        assert!(start + width <= self.n_frequencies());
        assert_eq!(out.len(), x.nrows() * width);
        match self {
            Projection::Dense(w) => matmul_into(out, x, w.subcols(start, width)),
            Projection::Structured(s) => {
                let p = s.padded;
                assert_eq!(start % p, 0, "structured blocks start at multiples of {p}");
                let isa = Isa::detect();
                let d = s.n_features_in;
                let mut work = vec![T::zero(); d + p];
                let (row, buffer) = work.split_at_mut(d);
                for (i, out_row) in out.chunks_exact_mut(width.max(1)).enumerate() {
                    row.iter_mut().enumerate().for_each(|(k, v)| *v = x[(i, k)]);
                    for (c, dst) in out_row.chunks_mut(p).enumerate() {
                        s.project_block(isa, row, start / p + c, buffer);
                        dst.copy_from_slice(&buffer[..dst.len()]);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::row_major;

    fn hadamard(p: usize) -> Vec<f64> {
        (0..p * p)
            .map(|ij| {
                let (i, j) = (ij / p, ij % p);
                if (i & j).count_ones() % 2 == 0 {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect()
    }

    /// `a @ b` for row-major `p x p` matrices.
    fn product(a: &[f64], b: &[f64], p: usize) -> Vec<f64> {
        (0..p * p)
            .map(|ij| (0..p).map(|k| a[ij / p * p + k] * b[k * p + ij % p]).sum())
            .collect()
    }

    #[test]
    fn structured_blocks_equal_their_dense_matrices() {
        // d = 5 pads to 8; 19 frequencies: two full blocks and a partial one.
        let (d, p, m, n) = (5, 8, 19, 3);
        let diagonals: Vec<f64> = (0..3 * 3 * p)
            .map(|i| if (i * 7 + i / 5) % 3 == 0 { -0.5 } else { 0.5 })
            .collect();
        let x: Vec<f64> = (0..n * d).map(|i| (i as f64 * 0.37).sin()).collect();
        let s = Structured::new(&diagonals, d, p, m).unwrap();
        let mut out = vec![0.0; n * m];
        Projection::Structured(s).project_into(row_major(&x, n, d), 0, m, &mut out);
        let h = hadamard(p);
        for b in 0..3 {
            // W_b = H D2 H D1 H D0, formed densely.
            let mut w: Vec<f64> = (0..p * p).map(|ij| f64::from(ij % (p + 1) == 0)).collect();
            for k in 0..3 {
                let diagonal = &diagonals[(b * 3 + k) * p..(b * 3 + k + 1) * p];
                let scaled: Vec<f64> = (0..p * p).map(|ij| w[ij] * diagonal[ij / p]).collect();
                w = product(&h, &scaled, p);
            }
            for i in 0..n {
                for r in 0..p.min(m - b * p) {
                    let want: f64 = (0..d).map(|k| w[r * p + k] * x[i * d + k]).sum();
                    let got = out[i * m + b * p + r];
                    assert!((got - want).abs() < 1e-13, "block {b} row {i} freq {r}");
                }
            }
        }
    }

    #[test]
    fn bad_structured_shapes_are_errors() {
        let diagonals = vec![1.0f64; 3 * 8];
        assert!(Structured::new(&diagonals, 5, 8, 8).is_ok());
        assert!(matches!(
            Structured::new(&diagonals, 5, 4, 8),
            Err(Error::Shape(_))
        ));
        assert!(matches!(
            Structured::new(&diagonals, 5, 8, 9),
            Err(Error::Shape(_))
        ));
        assert_eq!(padded_dimension(0), 1);
        assert_eq!(padded_dimension(1024), 1024);
        assert_eq!(padded_dimension(1025), 2048);
    }
}
