//! Counter-based random streams: feature `j`'s randomness depends only on `(seed, j)`.
//!
//! Each feature (each frequency, for paired maps) gets its own ChaCha8 stream:
//! the key comes from `seed` and the 64-bit stream id is `j`. Drawing features
//! `0..D` therefore gives the same first `k` features as drawing `0..k`, and any
//! thread may draw any feature. `rand_chacha` and `rand_distr` are pinned exactly
//! in `Cargo.toml`, and golden values below catch an accidental change of stream.
//!
//! Every draw is a float64 one: float32 weights are these draws rounded, so that
//! the same seed gives the same model in either precision.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use rand_distr::{Cauchy, Distribution, StandardNormal, StandardUniform};

/// The random stream of feature (or frequency) `index` under `seed`.
pub fn feature_stream(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// A draw from N(0, 1) (rand_distr's ziggurat).
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

/// A draw from U[0, 1).
pub fn standard_uniform<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    StandardUniform.sample(rng)
}

/// A draw from the standard Cauchy distribution (median 0, scale 1).
pub fn standard_cauchy<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    Cauchy::new(0.0, 1.0)
        .expect("unit scale is valid")
        .sample(rng)
}

/// A draw from the standard Laplace distribution (density `exp(-|x|) / 2`): an
/// exponential draw `-ln(1 - u)` with a random sign, from two uniforms.
pub fn standard_laplace<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // 1 - u is in (0, 1]: the logarithm is finite.
    let exponential = -(1.0 - standard_uniform(rng)).ln();
    if standard_uniform(rng) < 0.5 {
        exponential
    } else {
        -exponential
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_pure_functions_of_seed_and_index() {
        let a: Vec<u64> = (0..4).map(|_| feature_stream(7, 3).next_u64()).collect();
        assert!(a.iter().all(|&v| v == a[0]));
        assert_ne!(
            feature_stream(7, 3).next_u64(),
            feature_stream(7, 4).next_u64()
        );
        assert_ne!(
            feature_stream(7, 3).next_u64(),
            feature_stream(8, 3).next_u64()
        );
    }

    #[test]
    fn golden_values_have_not_moved() {
        let mut rng = feature_stream(0, 1);
        let normal = standard_normal(&mut rng);
        let uniform = standard_uniform(&mut rng);
        let cauchy = standard_cauchy(&mut rng);
        let golden = (normal, uniform, cauchy);
        assert_eq!(golden, GOLDEN, "the random streams changed: {golden:?}");
    }

    #[test]
    fn laplace_draws_have_the_laplace_moments() {
        // E|x| = 1, E x^2 = 2, E x^4 = 24 (standard errors over n draws: 1/sqrt(n),
        // sqrt(20/n), sqrt(40320 - 576)/sqrt(n)).
        let mut rng = feature_stream(5, 0);
        let n = 200_000;
        let draws: Vec<f64> = (0..n).map(|_| standard_laplace(&mut rng)).collect();
        let moment = |p: i32| draws.iter().map(|v| v.abs().powi(p)).sum::<f64>() / n as f64;
        let mean = draws.iter().sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.02 && (moment(1) - 1.0).abs() < 0.015);
        assert!((moment(2) - 2.0).abs() < 0.05 && (moment(4) - 24.0).abs() < 2.5);
    }

    const GOLDEN: (f64, f64, f64) = (
        1.345_685_818_239_369_4,
        0.738_116_764_099_080_9,
        -3.442_135_120_856_712,
    );
}
