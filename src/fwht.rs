//! The fast Walsh-Hadamard transform, in place: `x <- H x` in `O(n log n)`.
//!
//! `H` is the `n x n` Hadamard matrix of Sylvester's construction (`n` a power of
//! two): `H_1 = [1]`, `H_2n = [[H_n, H_n], [H_n, -H_n]]`, so `H[i, j] =
//! (-1)^popcount(i & j)` and `H H = n I`. [`fwht_in_place`] applies `H` (the
//! structured projections scale it themselves; the tests also check the orthogonal
//! `H / sqrt(n)`).
//!
//! The transform is `log2(n)` stages of butterflies `(a, b) -> (a + b, a - b)`
//! over pairs `h = 1, 2, 4, ...` apart, run two stages per pass over the data
//! (radix 4: the same operations, half the memory traffic). The first pass works
//! on groups of four neighbours; the others are contiguous loops the compiler
//! vectorizes, compiled per instruction set as in [`crate::simd`]. Only additions
//! and subtractions: every instruction set gives the same bits.

use crate::real::Real;
use crate::simd::{Isa, multiversion};

multiversion! {
    /// Applies the (unnormalized) Hadamard matrix to `values` in place.
    ///
    /// # Panics
    /// If `values.len()` is not a power of two (an empty slice is left as is).
    pub fn fwht_in_place<T: Real>(values: &mut [T]) {
        let n = values.len();
        if n <= 1 {
            return;
        }
        assert!(n.is_power_of_two(), "the Hadamard transform needs a power-of-two length, got {n}");
        let mut h = 1;
        if n >= 4 {
            // Stages h = 1 and h = 2 together (same operations, same bits).
            for q in values.chunks_exact_mut(4) {
                let (s0, d0) = (q[0] + q[1], q[0] - q[1]);
                let (s1, d1) = (q[2] + q[3], q[2] - q[3]);
                q[0] = s0 + s1;
                q[1] = d0 + d1;
                q[2] = s0 - s1;
                q[3] = d0 - d1;
            }
            h = 4;
        }
        // Two stages (h and 2h) per pass over the data: half the loads and stores.
        while 4 * h <= n {
            for group in values.chunks_exact_mut(4 * h) {
                let (lower, upper) = group.split_at_mut(2 * h);
                let (a, b) = lower.split_at_mut(h);
                let (c, d) = upper.split_at_mut(h);
                let (b, c, d) = (&mut b[..h], &mut c[..h], &mut d[..h]);
                for i in 0..a.len() {
                    let (s0, d0) = (a[i] + b[i], a[i] - b[i]);
                    let (s1, d1) = (c[i] + d[i], c[i] - d[i]);
                    a[i] = s0 + s1;
                    b[i] = d0 + d1;
                    c[i] = s0 - s1;
                    d[i] = d0 - d1;
                }
            }
            h *= 4;
        }
        if h < n {
            for pair in values.chunks_exact_mut(2 * h) {
                let (a, b) = pair.split_at_mut(h);
                for (u, v) in a.iter_mut().zip(b.iter_mut()) {
                    let (x, y) = (*u, *v);
                    *u = x + y;
                    *v = x - y;
                }
            }
        }
    }
}

/// Applies the orthogonal `H / sqrt(n)` to `values` in place (`n = values.len()`).
///
/// # Panics
/// If `values.len()` is not a power of two.
#[cfg(test)]
pub(crate) fn fwht_normalized_in_place<T: Real>(isa: Isa, values: &mut [T]) {
    fwht_in_place(isa, values);
    let scale = T::from_f64(1.0 / (values.len().max(1) as f64).sqrt());
    values.iter_mut().for_each(|v| *v *= scale);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `H[i, j] = (-1)^popcount(i & j)`, Sylvester's Hadamard matrix.
    fn hadamard_entry(i: usize, j: usize) -> f64 {
        if (i & j).count_ones() % 2 == 0 {
            1.0
        } else {
            -1.0
        }
    }

    fn data(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| ((i * 7919) % 101) as f64 / 50.0 - 1.0)
            .collect()
    }

    #[test]
    fn matches_the_dense_hadamard_matrix() {
        for n in [1, 2, 4, 8, 16, 64, 256, 1024] {
            let x = data(n);
            for isa in Isa::supported() {
                let mut fast = x.clone();
                fwht_in_place(isa, &mut fast);
                for (i, got) in fast.iter().enumerate() {
                    let want: f64 = (0..n).map(|j| hadamard_entry(i, j) * x[j]).sum();
                    let tol = 4.0 * f64::EPSILON * (n as f64).log2().max(1.0) * n as f64;
                    assert!((got - want).abs() <= tol, "n={n} i={i}: {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        for (isa, n) in Isa::supported()
            .into_iter()
            .flat_map(|isa| [4, 8, 32, 512, 4096].map(|n| (isa, n)))
        {
            let x: Vec<f32> = data(n).iter().map(|&v| v as f32).collect();
            let (mut scalar, mut vector) = (x.clone(), x);
            fwht_in_place(Isa::scalar(), &mut scalar);
            fwht_in_place(isa, &mut vector);
            assert_eq!(scalar, vector, "{} n={n}", isa.name());
        }
    }

    #[test]
    fn normalized_transform_is_an_involution() {
        for n in [1, 2, 4, 128] {
            let x = data(n);
            let mut y = x.clone();
            fwht_normalized_in_place(Isa::detect(), &mut y);
            let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
            assert!((norm(&y) - norm(&x)).abs() < 1e-13 * norm(&x).max(1.0));
            fwht_normalized_in_place(Isa::detect(), &mut y);
            for (a, b) in x.iter().zip(&y) {
                assert!((a - b).abs() < 1e-14, "n={n}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "power-of-two")]
    fn other_lengths_panic() {
        fwht_in_place(Isa::scalar(), &mut [1.0f64, 2.0, 3.0]);
    }

    #[test]
    fn empty_input_is_left_as_is() {
        let mut empty: [f64; 0] = [];
        fwht_in_place(Isa::detect(), &mut empty);
        fwht_normalized_in_place(Isa::detect(), &mut empty);
    }
}
