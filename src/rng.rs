//! Counter-based random streams: feature `j`'s randomness depends only on `(seed, j)`.
//!
//! Each feature (each frequency, for paired maps) gets its own ChaCha8 stream:
//! the key comes from `seed` and the 64-bit stream id is `j`. Drawing features
//! `0..D` therefore gives the same first `k` features as drawing `0..k`, and any
//! thread may draw any feature. `rand_chacha` and `rand_distr` are pinned exactly
//! in `Cargo.toml`, and golden values below catch an accidental change of stream.

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

/// The random stream of feature (or frequency) `index` under `seed`.
pub fn feature_stream(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::real::Real;
    use rand_core::Rng;

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
        let normal = f64::standard_normal(&mut rng);
        let uniform = f32::standard_uniform(&mut rng);
        let cauchy = f64::standard_cauchy(&mut rng);
        let golden = (normal, uniform, cauchy);
        assert_eq!(
            f32::standard_normal(&mut feature_stream(0, 1)),
            GOLDEN_NORMAL_F32
        );
        assert_eq!(golden, GOLDEN, "the random streams changed: {golden:?}");
    }

    const GOLDEN_NORMAL_F32: f32 = 0.770_466_7;
    const GOLDEN: (f64, f32, f64) = (
        1.345_685_818_239_369_4,
        0.434_899_33,
        -0.170_466_279_505_339_07,
    );
}
