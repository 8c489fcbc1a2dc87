//! [`Real`]: the two float types the core computes in (`f32`, `f64`), with the
//! constants of the polynomial kernels in [`crate::simd`].

use faer::traits::ComplexField;
use num_traits::Float;

/// A float type the core computes in: `f32` or `f64`.
///
/// Random weights are drawn in float64 whatever the type and rounded to it
/// ([`crate::rng`]), so both types compute the same features.
pub trait Real: Float + ComplexField + Default + Send + Sync + std::fmt::Debug + 'static {
    /// Name of the type as numpy spells it.
    const NAME: &'static str;
    /// `2 / pi`.
    const FRAC_2_PI: Self;
    /// `pi / 2` split in three parts for Cody-Waite reduction: the first two have
    /// few enough bits that `k * part` is exact for `|k| < 2^FAST_TRIG_EXP`.
    const PIO2_PARTS: [Self; 3];
    /// `1.5 * 2^(mantissa bits)`: adding and subtracting it rounds to an integer.
    const ROUND_MAGIC: Self;
    /// The fast trigonometric path is used while `|x| < 2^FAST_TRIG_EXP`.
    const FAST_TRIG_LIMIT: Self;
    /// Taylor coefficients of `(sin(r) - r) / r^3` in powers of `r^2`.
    const SIN_POLY: &'static [Self];
    /// Taylor coefficients of `(cos(r) - 1 + r^2/2) / r^4` in powers of `r^2`.
    const COS_POLY: &'static [Self];
    /// As [`Real::SIN_POLY`], long enough for `|r| <= pi/2`.
    const SIN_POLY_HALF_PI: &'static [Self];

    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(value: f64) -> Self;

    /// Converts to `f64` (exactly).
    fn to_f64(self) -> f64;
}

macro_rules! taylor {
    ($t:ty; $($n:expr),*) => { &[$( 1.0 / ($n as $t) ),*] };
}

impl Real for f64 {
    const NAME: &'static str = "float64";
    const FRAC_2_PI: f64 = std::f64::consts::FRAC_2_PI;
    const PIO2_PARTS: [f64; 3] = [
        1.570_796_326_734_125_6,
        6.077_100_506_303_966e-11,
        2.022_266_248_795_950_6e-21,
    ];
    const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;
    const FAST_TRIG_LIMIT: f64 = 1_048_576.0;
    // 1/3!, -1/5!... up to r^17 and r^18: truncation below 1e-19 on |r| <= pi/4.
    const SIN_POLY: &'static [f64] = taylor!(f64; -6, 120, -5040, 362880, -39916800,
        6227020800i64, -1307674368000i64, 355687428096000i64);
    const COS_POLY: &'static [f64] = taylor!(f64; 24, -720, 40320, -3628800, 479001600,
        -87178291200i64, 20922789888000i64, -6402373705728000i64);
    // Up to r^21: truncation below 1e-18 on |r| <= pi/2.
    const SIN_POLY_HALF_PI: &'static [f64] = taylor!(f64; -6, 120, -5040, 362880, -39916800,
        6227020800i64, -1307674368000i64, 355687428096000i64, -121645100408832000i64,
        51090942171709440000.0);

    fn from_f64(value: f64) -> Self {
        value
    }
    fn to_f64(self) -> f64 {
        self
    }
}

impl Real for f32 {
    const NAME: &'static str = "float32";
    const FRAC_2_PI: f32 = std::f32::consts::FRAC_2_PI;
    const PIO2_PARTS: [f32; 3] = [1.570_312_5, 4.837_513e-4, 7.549_79e-8];
    const ROUND_MAGIC: f32 = 12_582_912.0;
    const FAST_TRIG_LIMIT: f32 = 8192.0;
    const SIN_POLY: &'static [f32] = taylor!(f32; -6, 120, -5040, 362880);
    const COS_POLY: &'static [f32] = taylor!(f32; 24, -720, 40320, -3628800);
    // Up to r^15: truncation below 5e-10 on |r| <= pi/2.
    const SIN_POLY_HALF_PI: &'static [f32] = taylor!(f32; -6, 120, -5040, 362880, -39916800,
        6227020800i64);

    fn from_f64(value: f64) -> Self {
        value as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pio2_parts_sum_to_pio2() {
        let sum: f64 = f64::PIO2_PARTS.iter().sum();
        assert_eq!(sum, std::f64::consts::FRAC_PI_2);
        let sum32: f64 = f32::PIO2_PARTS.iter().map(|&p| f64::from(p)).sum();
        assert!((sum32 - std::f64::consts::FRAC_PI_2).abs() < 1e-14);
    }

    #[test]
    fn leading_pio2_parts_have_few_bits() {
        // k * part must be exact for |k| < 2^20 (f64) and 2^13 (f32).
        for part in &f64::PIO2_PARTS[..2] {
            assert_eq!(part.to_bits() & ((1 << 20) - 1), 0, "{part}");
        }
        for part in &f32::PIO2_PARTS[..2] {
            assert_eq!(part.to_bits() & ((1 << 13) - 1), 0, "{part}");
        }
    }
}
