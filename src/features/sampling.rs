//! Drawing the random weights: independent (iid), orthogonal or structured frequencies.
//!
//! Every kernel has a spectral measure (see [`draw_frequencies`]); the weights of
//! the Gaussian kernels (rbf, relu, step, linear, nngp) are `w = sigma g` with
//! `g ~ N(0, I)`, those of the Matern kernels `w = sigma sqrt(2 nu / u) g` (a
//! Student-t: isotropic, not Gaussian). Three samplings:
//!
//! - [`Sampling::Iid`]: frequency `j` is drawn alone from stream `j`.
//! - [`Sampling::Orthogonal`] (ORF, Yu et al. 2016): frequencies come in blocks of
//!   `d = n_features_in`. Block `b` is drawn from stream `b`: a `d x d` Gaussian
//!   `G` (column `i` is frequency `i`'s draw), made orthonormal (`G = Q R`, signs
//!   fixed so that `diag(R) >= 0`), and column `i` of `Q` scaled back to the norm
//!   of column `i` of `G`: `w_i = sigma |g_i| q_i`. Each `w_i` is still
//!   `N(0, sigma^2 I)` (the column norms of `G` are those of `R`, chi(d)
//!   distributed and independent of the Haar `Q`), so every feature keeps its
//!   expectation, while the frequencies of a block are exactly orthogonal, which
//!   lowers the variance of `Z Z^T` for the rbf kernel. The Matern kernels'
//!   frequencies get their Student-t factors `sqrt(2 nu / u_i)` too (drawn after
//!   the block's offsets): an isotropic law is a uniform direction times an
//!   independent radius, so each frequency keeps its law.
//! - [`Sampling::Structured`] (SORF, same paper): blocks of `P` frequencies (`P` =
//!   `d` rounded up to a power of two), `W_b = (sigma / P) H S_b2 H S_b1 H S_b0`
//!   with `H` the unnormalized Hadamard matrix and `S_bk` random sign diagonals
//!   from stream `b` ([`draw_structured_frequencies`]). With the orthogonal `H / sqrt(P)`
//!   this is Yu et al.'s `sqrt(P) sigma (H/sqrt(P)) S_2 (H/sqrt(P)) S_1
//!   (H/sqrt(P)) S_0`: every frequency has the norm `sigma sqrt(P)` of a typical
//!   Gaussian one, the frequencies of a block are orthogonal, and applying a
//!   block costs `O(P log P)` ([`Projection::Structured`](super::Projection)).
//!   Close to, not exactly, Gaussian: the kernel estimate has a small bias.
//!
//! Both keep the crate's nesting: frequency `j` depends only on `(seed, j)` (the
//! block of `j` does not depend on how many frequencies are drawn), so the first
//! `k` of `D` features are the `k`-feature map times `sqrt(D / k)`.

use crate::error::{Error, Result};
use crate::features::padded_dimension;
use crate::kernels::{Kernel, KernelTraits};
use crate::linalg::orthonormal_factor;
use crate::real::Real;
use crate::rng::{
    feature_stream, standard_cauchy, standard_laplace, standard_normal, standard_uniform,
};
use faer::Mat;
use rand_chacha::ChaCha8Rng;
use rand_core::Rng;
use rayon::prelude::*;
use std::f64::consts::{SQRT_2, TAU};

/// How the frequencies of a feature map are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// Independent frequencies, one random stream each.
    Iid,
    /// Orthogonal random features: blocks of `n_features_in` orthogonal frequencies
    /// with the Gaussian kernels' chi-distributed norms, or Student-t radii for the
    /// Matern kernels (isotropic kernels only).
    Orthogonal,
    /// Structured orthogonal random features: Hadamard products with random signs,
    /// never formed as a matrix (isotropic Gaussian kernels only).
    Structured,
}

impl Sampling {
    /// Every sampling, in the order of [`SAMPLING_NAMES`].
    pub const ALL: [Sampling; 3] = [Sampling::Iid, Sampling::Orthogonal, Sampling::Structured];

    /// The sampling called `name` (one of [`SAMPLING_NAMES`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an unknown name.
    pub fn new(name: &str) -> Result<Sampling> {
        Sampling::ALL
            .into_iter()
            .find(|sampling| sampling.name() == name)
            .ok_or_else(|| {
                Error::InvalidParameter(format!(
                    "unknown sampling {name:?}; expected one of {SAMPLING_NAMES:?}"
                ))
            })
    }

    /// The sampling's name, as [`Sampling::new`] takes it.
    pub const fn name(self) -> &'static str {
        match self {
            Sampling::Iid => "iid",
            Sampling::Orthogonal => "orthogonal",
            Sampling::Structured => "structured",
        }
    }

    /// Whether a kernel with these traits can be sampled this way: orthogonal
    /// sampling needs isotropic weights, structured sampling isotropic Gaussian ones.
    pub fn allows(self, traits: &KernelTraits) -> bool {
        match self {
            Sampling::Iid => true,
            Sampling::Orthogonal => traits.isotropic,
            Sampling::Structured => traits.gaussian,
        }
    }

    /// The shape of the weights [`draw_frequencies`] draws this way for
    /// `n_features_in` inputs and `n_frequencies` frequencies: `[m, d]` (row `j` is
    /// `w_j`), or for structured blocks `[ceil(m / P), 3, P]` (three diagonals of
    /// length `P = padded_dimension(d)` per block).
    pub fn weights_shape(self, n_features_in: usize, n_frequencies: usize) -> Vec<usize> {
        let (d, m) = (n_features_in, n_frequencies);
        match self {
            Sampling::Iid | Sampling::Orthogonal => vec![m, d],
            Sampling::Structured => {
                let p = padded_dimension(d);
                vec![m.div_ceil(p), 3, p]
            }
        }
    }

    /// Checks that `kernel` can be sampled this way ([`Sampling::allows`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the kernel, the sampling and the kernels
    /// that allow it.
    pub fn check_kernel(self, kernel: &Kernel) -> Result<()> {
        if self.allows(kernel.traits()) {
            return Ok(());
        }
        let needs = match self {
            Sampling::Structured => "isotropic Gaussian",
            Sampling::Iid | Sampling::Orthogonal => "isotropic",
        };
        Err(Error::InvalidParameter(format!(
            "sampling='{}' needs {needs} weights ({}); the '{}' kernel's are not: use \
             sampling='iid'",
            self.name(),
            KernelTraits::names_where(|traits| self.allows(traits)).join(", "),
            kernel.name()
        )))
    }
}

/// The sampling names the core knows, in the order of [`Sampling::ALL`].
pub const SAMPLING_NAMES: [&str; 3] = [
    Sampling::ALL[0].name(),
    Sampling::ALL[1].name(),
    Sampling::ALL[2].name(),
];

/// The law of the coordinates of `g` in a [`SpectralMeasure`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WeightLaw {
    /// Standard normal: `g` is isotropic.
    Normal,
    /// Standard Cauchy, coordinate by coordinate (laplacian).
    Cauchy,
    /// Standard Laplace, coordinate by coordinate (cauchy).
    Laplace,
}

impl WeightLaw {
    fn draw(self, rng: &mut ChaCha8Rng) -> f64 {
        match self {
            WeightLaw::Normal => standard_normal(rng),
            WeightLaw::Cauchy => standard_cauchy(rng),
            WeightLaw::Laplace => standard_laplace(rng),
        }
    }
}

/// A kernel's spectral measure: `w = scale * g` with `g`'s coordinates iid
/// draws of `law` (times `sqrt(k / u)`, `u ~ chi^2(k)`, for a Student-t
/// mixture with `k = mixture_dof > 0`), and the offsets.
struct SpectralMeasure {
    law: WeightLaw,
    scale: f64,
    /// Degrees of freedom of the chi-square mixture (0: none).
    mixture_dof: usize,
    /// `b = offset_scale * U[0, 1)` (`uniform_offsets`) or `offset_scale * N(0, 1)`.
    offset_scale: f64,
    uniform_offsets: bool,
}

impl SpectralMeasure {
    fn of(kernel: &Kernel) -> SpectralMeasure {
        let normal = |scale: f64, offset_scale: f64, uniform_offsets| SpectralMeasure {
            law: WeightLaw::Normal,
            scale,
            mixture_dof: 0,
            offset_scale,
            uniform_offsets,
        };
        match *kernel {
            Kernel::Rbf { gamma } => normal((2.0 * gamma).sqrt(), TAU, true),
            Kernel::Laplacian { gamma } => SpectralMeasure {
                law: WeightLaw::Cauchy,
                scale: gamma,
                ..normal(0.0, TAU, true)
            },
            Kernel::Matern { gamma, nu } => SpectralMeasure {
                mixture_dof: nu.dof(),
                ..normal((2.0 * gamma).sqrt(), TAU, true)
            },
            Kernel::Cauchy { gamma } => SpectralMeasure {
                law: WeightLaw::Laplace,
                ..normal(gamma.sqrt(), TAU, true)
            },
            // ntk draws every column of a pair alike; its traits are not
            // isotropic because the two of a pair must stay independent.
            Kernel::Relu { gamma, bias }
            | Kernel::Step { gamma, bias }
            | Kernel::Nngp { gamma, bias, .. }
            | Kernel::Ntk { gamma, bias, .. } => normal(gamma.sqrt(), bias, false),
            Kernel::Linear { gamma, bias } => normal((gamma / 2.0).sqrt(), bias / SQRT_2, false),
        }
    }

    /// The Student-t mixing factor `sqrt(k / u)`, `u ~ chi^2(k)` as a sum of `k`
    /// squared normals (1 without a mixture).
    fn mixture(&self, rng: &mut ChaCha8Rng) -> f64 {
        if self.mixture_dof == 0 {
            return 1.0;
        }
        let u = (0..self.mixture_dof).fold(0.0, |acc, _| {
            let z = standard_normal(rng);
            acc + z * z
        });
        (self.mixture_dof as f64 / u).sqrt()
    }

    fn offset(&self, rng: &mut ChaCha8Rng) -> f64 {
        let draw = if self.uniform_offsets {
            standard_uniform(rng)
        } else {
            standard_normal(rng)
        };
        self.offset_scale * draw
    }
}

/// `rows x cols` zeros, or [`Error::TooLarge`] when they cannot be allocated (a
/// huge `n_components` must become a Python `MemoryError`, not abort the process).
fn try_zeros<T: Real>(rows: usize, cols: usize) -> Result<Vec<T>> {
    let bytes_needed = rows as u128 * cols as u128 * std::mem::size_of::<T>() as u128;
    let len = rows
        .checked_mul(cols)
        .ok_or(Error::TooLarge { bytes_needed })?;
    let mut zeros = Vec::new();
    zeros
        .try_reserve_exact(len)
        .map_err(|_| Error::TooLarge { bytes_needed })?;
    zeros.resize(len, T::zero());
    Ok(zeros)
}

/// Draws `n_frequencies` frequencies (the projection weight vectors `w_j`, not
/// per-row sample weights) and offsets for `kernel` from `seed`.
///
/// Returns `(w, b)`: `w` is row-major `n_frequencies x n_features_in` (row `j` is
/// `w_j`), or for [`Sampling::Structured`] the diagonals of
/// [`draw_structured_frequencies`] (shapes: [`Sampling::weights_shape`]); `b` has
/// one offset per frequency (zeros when `with_offsets` is false).
/// - rbf: `w ~ N(0, 2 gamma I)`, `b ~ U[0, 2pi)`;
/// - laplacian: `w_i ~ Cauchy(0, gamma)` per coordinate, `b ~ U[0, 2pi)`;
/// - relu, step: `w ~ N(0, gamma I)`, `b ~ N(0, bias^2)`;
/// - linear: `w ~ N(0, gamma/2 I)`, `b ~ N(0, bias^2/2)` (the `sqrt(2/D)` scale
///   then gives `E[z(x).z(y)] = gamma x.y + bias^2`);
/// - matern12/32/52: `w = sqrt(2 gamma) sqrt(2 nu / u) g`, `g ~ N(0, I)`, `u ~
///   chi^2(2 nu)` (a multivariate Student-t with `2 nu` degrees of freedom, whose
///   characteristic function is the Matern kernel), `b ~ U[0, 2pi)`;
/// - cauchy: `w_i ~ Laplace(0, sqrt(gamma))` per coordinate (characteristic
///   function `1 / (1 + gamma t^2)`), `b ~ U[0, 2pi)`;
/// - nngp, ntk: as relu (for ntk, every column of a pair is drawn alike).
///
/// With [`Sampling::Iid`], frequency `j` is drawn from stream `j`: first its
/// `n_features_in` weights, then (Matern) the `2 nu` normals of `u`, then its
/// offset. With [`Sampling::Orthogonal`], the block of `n_features_in`
/// frequencies holding `j` is drawn from the block's stream (see the module
/// docs): its Gaussian matrix column by column, then its offsets, then (Matern)
/// the `u` of each frequency. Either way `w_j` and `b_j` do not depend on `n_frequencies`.
///
/// # Errors
/// [`Error::InvalidParameter`] if `sampling` does not apply to `kernel`
/// ([`Sampling::check_kernel`]); [`Error::TooLarge`] if the weights cannot be
/// allocated.
pub fn draw_frequencies<T: Real>(
    kernel: &Kernel,
    sampling: Sampling,
    seed: u64,
    n_features_in: usize,
    n_frequencies: usize,
    with_offsets: bool,
) -> Result<(Vec<T>, Vec<T>)> {
    let d = n_features_in;
    let (w, b) = if sampling == Sampling::Structured {
        draw_structured_frequencies(kernel, seed, d, n_frequencies, with_offsets)?
    } else {
        draw_dense_f64(kernel, sampling, seed, d, n_frequencies, with_offsets)?
    };
    Ok((rounded(w)?, rounded(b)?))
}

/// `values` rounded to `T` (the same vector for float64).
fn rounded<T: Real>(values: Vec<f64>) -> Result<Vec<T>> {
    let mut out = try_zeros::<T>(values.len(), 1)?;
    out.iter_mut()
        .zip(&values)
        .for_each(|(o, &v)| *o = T::from_f64(v));
    Ok(out)
}

/// The dense frequencies of [`draw_frequencies`] (iid or orthogonal), in float64.
fn draw_dense_f64(
    kernel: &Kernel,
    sampling: Sampling,
    seed: u64,
    d: usize,
    n_frequencies: usize,
    with_offsets: bool,
) -> Result<(Vec<f64>, Vec<f64>)> {
    sampling.check_kernel(kernel)?;
    let measure = SpectralMeasure::of(kernel);
    let mut w = try_zeros::<f64>(n_frequencies, d)?;
    let mut b = try_zeros::<f64>(n_frequencies, 1)?;
    match sampling {
        Sampling::Iid => w
            .par_chunks_mut(d.max(1))
            .zip(b.par_iter_mut())
            .enumerate()
            .for_each(|(j, (w_j, b_j))| {
                let mut rng = feature_stream(seed, j as u64);
                for v in w_j.iter_mut() {
                    *v = measure.scale * measure.law.draw(&mut rng);
                }
                let mixture = measure.mixture(&mut rng);
                if measure.mixture_dof > 0 {
                    w_j.iter_mut().for_each(|v| *v *= mixture);
                }
                if with_offsets {
                    *b_j = measure.offset(&mut rng);
                }
            }),
        Sampling::Orthogonal if d > 0 => w
            .par_chunks_mut(d * d)
            .zip(b.par_chunks_mut(d))
            .enumerate()
            .for_each(|(block, (w_block, b_block))| {
                let mut rng = feature_stream(seed, block as u64);
                let mut g = Mat::<f64>::zeros(d, d);
                for i in 0..d {
                    for k in 0..d {
                        g[(k, i)] = standard_normal(&mut rng);
                    }
                }
                let offsets: Vec<f64> = (0..d).map(|_| measure.offset(&mut rng)).collect();
                // The radius: the Gaussian column's norm, times the Student-t
                // factor for the Matern kernels (1 and no draws otherwise).
                let norms: Vec<f64> = (0..d)
                    .map(|i| {
                        let norm = (0..d)
                            .fold(0.0, |acc, k| acc + g[(k, i)] * g[(k, i)])
                            .sqrt();
                        norm * measure.mixture(&mut rng)
                    })
                    .collect();
                let q = orthonormal_factor(g);
                for (i, w_i) in w_block.chunks_exact_mut(d).enumerate() {
                    let scale = measure.scale * norms[i];
                    for (k, v) in w_i.iter_mut().enumerate() {
                        *v = scale * q[(k, i)];
                    }
                }
                if with_offsets {
                    b_block.copy_from_slice(&offsets[..b_block.len()]);
                }
            }),
        Sampling::Orthogonal | Sampling::Structured => {}
    }
    Ok((w, b))
}

/// Draws the structured (SORF) frequencies of `kernel`: the diagonals of
/// [`Structured`](super::Structured), and one offset per frequency.
///
/// Returns `(diagonals, b)`: `ceil(n_frequencies / P)` blocks of three diagonals
/// of length `P = padded_dimension(n_features_in)`, in the order they apply
/// (block-major), and `n_frequencies` offsets (zeros when `with_offsets` is
/// false). Block `b` is drawn from stream `b`: `3 P` random signs (one 32-bit draw
/// each), then its `P` offsets. The first diagonal carries the scale, `+-sigma / P`
/// (`sigma` as in [`draw_frequencies`]), the other two are `+-1`. In float64;
/// [`draw_frequencies`] rounds them for float32.
///
/// # Errors
/// [`Error::InvalidParameter`] if `kernel`'s weights are not Gaussian.
pub fn draw_structured_frequencies(
    kernel: &Kernel,
    seed: u64,
    n_features_in: usize,
    n_frequencies: usize,
    with_offsets: bool,
) -> Result<(Vec<f64>, Vec<f64>)> {
    Sampling::Structured.check_kernel(kernel)?;
    let measure = SpectralMeasure::of(kernel);
    let p = padded_dimension(n_features_in);
    let n_blocks = n_frequencies.div_ceil(p);
    let first_scale = measure.scale / p as f64;
    let mut diagonals = try_zeros::<f64>(n_blocks, 3 * p)?;
    let mut b = try_zeros::<f64>(n_frequencies, 1)?;
    diagonals
        .par_chunks_mut(3 * p)
        .zip(b.par_chunks_mut(p))
        .enumerate()
        .for_each(|(block, (signs, b_block))| {
            let mut rng = feature_stream(seed, block as u64);
            for (i, v) in signs.iter_mut().enumerate() {
                let magnitude = if i < p { first_scale } else { 1.0 };
                *v = if rng.next_u32() & 1 == 0 {
                    magnitude
                } else {
                    -magnitude
                };
            }
            let offsets: Vec<f64> = (0..p).map(|_| measure.offset(&mut rng)).collect();
            if with_offsets {
                b_block.copy_from_slice(&offsets[..b_block.len()]);
            }
        });
    Ok((diagonals, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaussian_kernels() -> [Kernel; 4] {
        [
            Kernel::Rbf { gamma: 0.7 },
            Kernel::Relu {
                gamma: 0.7,
                bias: 0.5,
            },
            Kernel::Step {
                gamma: 0.7,
                bias: 0.5,
            },
            Kernel::Linear {
                gamma: 0.7,
                bias: 0.5,
            },
        ]
    }

    #[test]
    fn orthogonal_blocks_are_orthogonal_with_the_gaussian_norms() {
        let (d, m) = (5, 13); // two full blocks and a partial one
        for kernel in gaussian_kernels() {
            let scale = SpectralMeasure::of(&kernel).scale;
            let (w, _) =
                draw_frequencies::<f64>(&kernel, Sampling::Orthogonal, 3, d, m, true).unwrap();
            for block in 0..3 {
                let mut rng = feature_stream(3, block);
                let g: Vec<f64> = (0..d * d).map(|_| standard_normal(&mut rng)).collect();
                for i in 0..d.min(m - block as usize * d) {
                    let j = block as usize * d + i;
                    let w_j = &w[j * d..(j + 1) * d];
                    let g_norm = g[i * d..(i + 1) * d]
                        .iter()
                        .map(|v| v * v)
                        .sum::<f64>()
                        .sqrt();
                    let norm = w_j.iter().map(|v| v * v).sum::<f64>().sqrt();
                    assert!(
                        (norm - scale * g_norm).abs() < 1e-12 * norm,
                        "{kernel:?} {j}"
                    );
                    for other in block as usize * d..j {
                        let w_o = &w[other * d..(other + 1) * d];
                        let dot: f64 = w_j.iter().zip(w_o).map(|(a, b)| a * b).sum();
                        assert!(dot.abs() < 1e-12 * scale * scale * d as f64, "{j} {other}");
                    }
                }
                // The first frequency of a block is its Gaussian draw's direction.
                let first = block as usize * d;
                for k in 0..d {
                    assert!((w[first * d + k] - scale * g[k]).abs() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn orthogonal_weights_are_nested_and_thread_independent() {
        let kernel = Kernel::Rbf { gamma: 0.3 };
        let draw = |m, threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| draw_frequencies::<f32>(&kernel, Sampling::Orthogonal, 9, 6, m, true))
                .unwrap()
        };
        let (wide_w, wide_b) = draw(40, 3);
        let (w, b) = draw(11, 1);
        assert_eq!(w[..], wide_w[..w.len()]);
        assert_eq!(b[..], wide_b[..11]);
    }

    #[test]
    fn orthogonal_matern_frequencies_are_orthogonal_with_student_t_moments() {
        // Directions orthogonal within a block; E[w w^T] = sigma^2 E[2 nu / u] I =
        // sigma^2 (5/3) I for nu = 5/2 (u ~ chi^2(5)). Standard error of the mean of
        // w_a^2: sqrt(Var / m) with E[w_a^4] = 3 sigma^4 E[(5/u)^2] = 25 sigma^4, so
        // about sqrt(25 / 20000) = 0.035.
        let (d, m) = (4, 4 * 5000);
        let kernel = Kernel::new("matern52", 0.5, 0.0).unwrap();
        let (w, _) = draw_frequencies::<f64>(&kernel, Sampling::Orthogonal, 2, d, m, true).unwrap();
        for block in w.chunks_exact(d * d).take(50) {
            for i in 0..d {
                for j in 0..i {
                    let dot: f64 = (0..d).map(|k| block[i * d + k] * block[j * d + k]).sum();
                    let norms: f64 = [i, j]
                        .iter()
                        .map(|r| (0..d).map(|k| block[r * d + k].powi(2)).sum::<f64>().sqrt())
                        .product();
                    assert!(dot.abs() < 1e-12 * norms);
                }
            }
        }
        for a in 0..d {
            let moment: f64 = w.chunks_exact(d).map(|w_j| w_j[a] * w_j[a]).sum::<f64>() / m as f64;
            assert!((moment - 5.0 / 3.0).abs() < 0.2, "{a}: {moment}");
        }
        let structured = draw_structured_frequencies(&kernel, 0, d, 8, true);
        assert!(
            matches!(structured, Err(Error::InvalidParameter(msg)) if msg.contains("Gaussian"))
        );
    }

    #[test]
    fn orthogonal_rows_have_gaussian_second_moments() {
        // E[w w^T] = sigma^2 I for every frequency: average over many blocks.
        let (d, m) = (4, 4 * 5000);
        let kernel = Kernel::Rbf { gamma: 0.5 };
        let (w, _) =
            draw_frequencies::<f64>(&kernel, Sampling::Orthogonal, 1, d, m, false).unwrap();
        for a in 0..d {
            for c in 0..d {
                let moment: f64 =
                    w.chunks_exact(d).map(|w_j| w_j[a] * w_j[c]).sum::<f64>() / m as f64;
                let want = if a == c { 1.0 } else { 0.0 };
                // standard error about sqrt(2 / m) = 0.01
                assert!((moment - want).abs() < 0.05, "{a} {c}: {moment}");
            }
        }
    }

    #[test]
    fn structured_blocks_are_orthogonal_with_gaussian_norms() {
        // d = 5 pads to P = 8: the dense W_b has orthogonal rows of norm sigma sqrt(P).
        use crate::features::{Projection, Structured};
        use crate::linalg::row_major;
        let (d, p, m) = (5, 8, 20);
        for kernel in gaussian_kernels() {
            let sigma = SpectralMeasure::of(&kernel).scale;
            let (diagonals, b) = draw_structured_frequencies(&kernel, 4, d, m, true).unwrap();
            assert_eq!((diagonals.len(), b.len()), (3 * 3 * p, m));
            assert!(
                diagonals[..p]
                    .iter()
                    .all(|v| (v.abs() - sigma / 8.0).abs() < 1e-15)
            );
            assert!(diagonals[p..3 * p].iter().all(|v| v.abs() == 1.0));
            // The projections of the padded identity's first d rows are W^T.
            let structured = Structured::new(&diagonals, d, p, m).unwrap();
            let eye: Vec<f64> = (0..d * d).map(|ij| f64::from(ij % (d + 1) == 0)).collect();
            let mut wt = vec![0.0; d * m];
            Projection::Structured(structured).project_into(row_major(&eye, d, d), 0, m, &mut wt);
            // Column j of wt is w_j restricted to the d real inputs; its squared norm
            // over all P coordinates is sigma^2 P, over the first d about sigma^2 d.
            let total: f64 = wt.iter().map(|v| v * v).sum::<f64>() / m as f64;
            assert!((total - sigma * sigma * d as f64).abs() < 0.5 * sigma * sigma * d as f64);
        }
        let laplacian = Kernel::Laplacian { gamma: 1.0 };
        assert!(draw_structured_frequencies(&laplacian, 0, 3, 3, true).is_err());
        let rbf = Kernel::Rbf { gamma: 1.0 };
        assert_eq!(
            draw_frequencies::<f64>(&rbf, Sampling::Structured, 0, 3, 9, true),
            draw_structured_frequencies(&rbf, 0, 3, 9, true)
        );
        assert_eq!(Sampling::Structured.weights_shape(3, 9), [3, 3, 4]);
        assert_eq!(Sampling::Orthogonal.weights_shape(3, 9), [9, 3]);
    }

    #[test]
    fn structured_draws_are_nested() {
        let kernel = Kernel::Rbf { gamma: 0.3 };
        let (wide, wide_b) = draw_structured_frequencies(&kernel, 9, 6, 40, true).unwrap();
        let (narrow, b) = draw_structured_frequencies(&kernel, 9, 6, 11, true).unwrap();
        assert_eq!(narrow[..], wide[..narrow.len()]);
        assert_eq!(b[..], wide_b[..11]);
    }

    #[test]
    fn float32_frequencies_are_the_float64_ones_rounded() {
        let kernels = [
            Kernel::Rbf { gamma: 0.3 },
            Kernel::Laplacian { gamma: 0.7 },
            Kernel::Cauchy { gamma: 1.5 },
            Kernel::Matern {
                gamma: 0.4,
                nu: crate::kernels::MaternNu::ThreeHalves,
            },
        ];
        for kernel in kernels {
            for sampling in Sampling::ALL
                .into_iter()
                .filter(|s| s.check_kernel(&kernel).is_ok())
            {
                let (w64, b64) =
                    draw_frequencies::<f64>(&kernel, sampling, 5, 6, 13, true).unwrap();
                let (w32, b32) =
                    draw_frequencies::<f32>(&kernel, sampling, 5, 6, 13, true).unwrap();
                let round = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
                assert_eq!(w32, round(&w64), "{kernel:?} {sampling:?}");
                assert_eq!(b32, round(&b64), "{kernel:?} {sampling:?}");
            }
        }
    }

    #[test]
    fn samplings_follow_the_traits_and_the_spectral_measures() {
        use crate::kernels::KERNEL_TRAITS;
        // What check_kernel accepted when it read the spectral measures.
        let orthogonal = [
            "rbf", "relu", "step", "linear", "matern12", "matern32", "matern52", "nngp",
        ];
        let structured = ["rbf", "relu", "step", "linear", "nngp"];
        for traits in &KERNEL_TRAITS {
            let name = traits.name;
            let kernel = Kernel::new(name, 0.5, 0.5).unwrap();
            // Orthogonal blocks keep a normal direction times an independent radius,
            // for frequencies drawn independently of each other (not ntk's pairs);
            // structured blocks have Gaussian norms only.
            let measure = SpectralMeasure::of(&kernel);
            let isotropic = measure.law == WeightLaw::Normal && !traits.paired_columns;
            assert_eq!(traits.isotropic, isotropic, "{name}");
            assert_eq!(
                traits.gaussian,
                isotropic && measure.mixture_dof == 0,
                "{name}"
            );
            let accepts = [true, orthogonal.contains(&name), structured.contains(&name)];
            for (sampling, accepts) in Sampling::ALL.into_iter().zip(accepts) {
                assert_eq!(sampling.allows(traits), accepts, "{name} {sampling:?}");
                assert_eq!(sampling.check_kernel(&kernel).is_ok(), accepts);
                let drawn = draw_frequencies::<f64>(&kernel, sampling, 0, 3, 3, true);
                assert_eq!(drawn.is_ok(), accepts, "{name} {sampling:?}");
            }
            let drawn = draw_structured_frequencies(&kernel, 0, 3, 3, true);
            assert_eq!(drawn.is_ok(), traits.gaussian, "{name}");
        }
        let cauchy = Kernel::Cauchy { gamma: 1.0 };
        assert_eq!(
            Sampling::Orthogonal.check_kernel(&cauchy),
            Err(Error::InvalidParameter(
                "sampling='orthogonal' needs isotropic weights (rbf, relu, step, linear, \
                 matern12, matern32, matern52, nngp); the 'cauchy' kernel's are not: use \
                 sampling='iid'"
                    .into()
            ))
        );
        let matern = Kernel::new("matern32", 1.0, 0.0).unwrap();
        assert_eq!(
            Sampling::Structured.check_kernel(&matern),
            Err(Error::InvalidParameter(
                "sampling='structured' needs isotropic Gaussian weights (rbf, relu, step, \
                 linear, nngp); the 'matern32' kernel's are not: use sampling='iid'"
                    .into()
            ))
        );
    }

    #[test]
    fn bad_samplings_are_errors() {
        assert!(Sampling::new("sobol").is_err());
        let laplacian = Kernel::Laplacian { gamma: 1.0 };
        let result = draw_frequencies::<f64>(&laplacian, Sampling::Orthogonal, 0, 3, 3, true);
        assert!(matches!(result, Err(Error::InvalidParameter(msg)) if msg.contains("laplacian")));
        for (name, sampling) in SAMPLING_NAMES.into_iter().zip(Sampling::ALL) {
            assert_eq!(Sampling::new(name), Ok(sampling));
            assert_eq!(sampling.name(), name);
        }
    }
}
