//! Vectorized nonlinearities with runtime CPU dispatch.
//!
//! Each kernel is one plain, branch-free loop written once (generic over
//! [`Real`]) and compiled three times: for AVX-512, for AVX2+FMA and for the
//! baseline target. [`Isa::detect`] picks the widest the CPU supports at run time,
//! so one portable build is fast everywhere. The loops use no `mul_add` and Rust
//! never contracts `a * b + c`, so every path gives the same bits as the scalar
//! one (`Isa::scalar()`), which the tests use as the reference.
//!
//! sin and cos use Cody-Waite reduction by `pi/2` (three-part constant, exact
//! products for `|x| < FAST_TRIG_LIMIT`) and Taylor polynomials on `[-pi/4, pi/4]`;
//! beyond that range a slice falls back to the standard library.

use crate::error::Error;
use crate::real::Real;
use std::sync::OnceLock;

/// The instruction set a kernel runs with. Only [`Isa::supported`] (through
/// [`Isa::detect`] and [`Isa::from_name`]) makes a vector ISA, and only one this CPU
/// has, so a value of this type is always safe to run here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Isa(pub(crate) Level);

/// The levels [`Isa`] distinguishes (crate-visible for [`multiversion`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

/// The environment variable that forces the instruction set of the kernels:
/// `auto` (the default: the widest this CPU supports), `scalar`, `avx2` or `avx512`.
pub const ISA_VARIABLE: &str = "RFKERNELS_ISA";

/// The names [`ISA_VARIABLE`] accepts.
pub const ISA_NAMES: [&str; 4] = ["auto", "scalar", "avx2", "avx512"];

impl Isa {
    /// The instruction set the kernels run with: the one [`ISA_VARIABLE`] names,
    /// or the widest this CPU supports when it is unset, `auto` or invalid (the
    /// Python module refuses to import with an invalid value, through
    /// [`Isa::configured`]). Read once, then cached.
    pub fn detect() -> Isa {
        Isa::configured().unwrap_or_else(|_| Isa::widest())
    }

    /// The instruction set [`ISA_VARIABLE`] asks for (cached).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if the variable is not one of [`ISA_NAMES`] or
    /// names an instruction set this CPU lacks.
    pub fn configured() -> crate::error::Result<Isa> {
        static CONFIGURED: OnceLock<crate::error::Result<Isa>> = OnceLock::new();
        CONFIGURED
            .get_or_init(|| match std::env::var(ISA_VARIABLE) {
                Ok(name) => Isa::from_name(&name),
                Err(std::env::VarError::NotPresent) => Ok(Isa::widest()),
                Err(std::env::VarError::NotUnicode(_)) => Err(Error::InvalidParameter(format!(
                    "{ISA_VARIABLE} is not valid unicode; it must be one of {}",
                    ISA_NAMES.join(", ")
                ))),
            })
            .clone()
    }

    /// The instruction set called `name` (one of [`ISA_NAMES`]; empty is `auto`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `name` is unknown or this CPU lacks it.
    pub fn from_name(name: &str) -> crate::error::Result<Isa> {
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() || name == "auto" {
            return Ok(Isa::widest());
        }
        if !ISA_NAMES.contains(&name.as_str()) {
            return Err(Error::InvalidParameter(format!(
                "{ISA_VARIABLE}='{name}' is not an instruction set; it must be one of {}",
                ISA_NAMES.join(", ")
            )));
        }
        let supported = Isa::supported();
        supported
            .iter()
            .copied()
            .find(|isa| isa.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = supported.iter().map(|isa| isa.name()).collect();
                Error::InvalidParameter(format!(
                    "{ISA_VARIABLE}='{name}' is not supported by this CPU, which runs {}",
                    names.join(", ")
                ))
            })
    }

    /// Every instruction set this CPU supports, narrowest first (scalar is always
    /// among them).
    pub fn supported() -> Vec<Isa> {
        #[allow(unused_mut)]
        let mut isas = vec![Isa(Level::Scalar)];
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                isas.push(Isa(Level::Avx2));
            }
            if is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512dq")
                && is_x86_feature_detected!("avx512vl")
            {
                isas.push(Isa(Level::Avx512));
            }
        }
        isas
    }

    /// The widest instruction set this CPU supports.
    fn widest() -> Isa {
        *Isa::supported().last().expect("scalar is always supported")
    }

    /// The baseline target with no runtime-detected extensions (the tests'
    /// reference).
    #[cfg(test)]
    pub(crate) fn scalar() -> Isa {
        Isa(Level::Scalar)
    }

    /// A short name: `"avx512"`, `"avx2"` or `"scalar"`.
    pub fn name(self) -> &'static str {
        match self.0 {
            Level::Scalar => "scalar",
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => "avx512",
        }
    }
}

/// Defines `pub fn $name(isa: Isa, args...)` that runs `$body` compiled for `isa`.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<T: Real>($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name<T: Real>(isa: Isa, $($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn generic<T: Real>($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
            fn avx512<T: Real>($($arg: $ty),*) $(-> $ret)? { generic($($arg),*) }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            fn avx2<T: Real>($($arg: $ty),*) $(-> $ret)? { generic($($arg),*) }

            match isa.0 {
                // SAFETY: an `Isa` other than scalar comes only from `Isa::supported`,
                // which checked that this CPU has the enabled features.
                #[cfg(target_arch = "x86_64")]
                $crate::simd::Level::Avx512 => unsafe { avx512($($arg),*) },
                #[cfg(target_arch = "x86_64")]
                $crate::simd::Level::Avx2 => unsafe { avx2($($arg),*) },
                $crate::simd::Level::Scalar => generic($($arg),*),
            }
        }
    };
}

// Other modules (`crate::fwht`) multiversion their loops the same way.
pub(crate) use multiversion;

#[inline(always)]
fn horner<T: Real>(coeffs: &[T], z: T) -> T {
    coeffs.iter().rev().fold(T::zero(), |acc, &c| acc * z + c)
}

#[inline(always)]
fn round_to_integer<T: Real>(x: T) -> T {
    (x + T::ROUND_MAGIC) - T::ROUND_MAGIC
}

/// `(sin r, cos r, q)` with `x = k pi/2 + r`, `|r| <= pi/4` and `q = k - 4 round(k/4)`
/// in `{-2, -1, 0, 1, 2}` (the quadrant, `k mod 4`, as a float).
#[inline(always)]
fn reduced_sin_cos<T: Real>(x: T) -> (T, T, T) {
    let k = round_to_integer(x * T::FRAC_2_PI);
    let [p1, p2, p3] = T::PIO2_PARTS;
    let r = ((x - k * p1) - k * p2) - k * p3;
    let quarter = T::from_f64(0.25);
    let q = k - round_to_integer(k * quarter) * T::from_f64(4.0);
    let z = r * r;
    let sin = r + r * z * horner(T::SIN_POLY, z);
    let cos = (T::one() - T::from_f64(0.5) * z) + z * z * horner(T::COS_POLY, z);
    (sin, cos, q)
}

/// cos x from one polynomial: `x = q pi/2 + r` with `q` the odd integer nearest
/// `2x/pi` (`|r| <= pi/2`), so cos x is `-sin r` when `q = 1 mod 4` and `sin r` when
/// `q = 3 mod 4`. Near the zeros of cos, `r` is small and the result keeps its
/// relative accuracy.
#[inline(always)]
fn cos_odd_quadrant<T: Real>(x: T) -> T {
    let half = T::from_f64(0.5);
    let two = T::from_f64(2.0);
    let q = two * round_to_integer(x * T::FRAC_2_PI * half - half) + T::one();
    let [p1, p2, p3] = T::PIO2_PARTS;
    let r = ((x - q * p1) - q * p2) - q * p3;
    let sign = round_to_integer(q * T::from_f64(0.25)) * T::from_f64(4.0) - q; // -1 or 1
    let z = r * r;
    sign * (r + r * z * horner(T::SIN_POLY_HALF_PI, z))
}

/// cos of `x = k pi/2 + r` from the reduced parts: `cos, -sin, -cos, sin` by quadrant.
#[inline(always)]
fn cos_from_reduced<T: Real>(sin: T, cos: T, q: T) -> T {
    let q_abs = q.abs();
    if q_abs == T::one() {
        sin * (-q)
    } else {
        cos * (T::one() - q_abs)
    }
}

/// sin of `x = k pi/2 + r` from the reduced parts: `sin, cos, -sin, -cos` by quadrant.
#[inline(always)]
fn sin_from_reduced<T: Real>(sin: T, cos: T, q: T) -> T {
    let q_abs = q.abs();
    if q_abs == T::one() {
        cos * q
    } else {
        sin * (T::one() - q_abs)
    }
}

multiversion! {
    /// Whether every `|src[i] + offsets[i]|` is below `limit` (false for NaN).
    fn all_below<T: Real>(src: &[T], offsets: &[T], limit: T) -> bool {
        src.iter().zip(offsets).fold(true, |ok, (&p, &b)| ok & ((p + b).abs() < limit))
    }
}

multiversion! {
    /// Whether every `|src[i]|` is below `limit` (false for NaN).
    fn all_abs_below<T: Real>(src: &[T], limit: T) -> bool {
        src.iter().fold(true, |ok, &p| ok & (p.abs() < limit))
    }
}

multiversion! {
    /// `dst[2i] = scale * cos(src[i])`, `dst[2i+1] = scale * sin(src[i])` on the
    /// fast path; the arguments must satisfy `|x| < T::FAST_TRIG_LIMIT`.
    fn sincos_fast<T: Real>(src: &[T], scale: T, dst: &mut [T]) {
        for (pair, &p) in dst.chunks_exact_mut(2).zip(src) {
            let (sin, cos, q) = reduced_sin_cos(p);
            pair[0] = scale * cos_from_reduced(sin, cos, q);
            pair[1] = scale * sin_from_reduced(sin, cos, q);
        }
    }
}

/// Index of the first non-finite `src[i] + offsets[i]`, if any.
fn first_non_finite<T: Real>(src: &[T], offsets: &[T]) -> Option<usize> {
    src.iter()
        .zip(offsets)
        .position(|(&p, &b)| !(p + b).is_finite())
}

/// `dst[2i] = scale * cos(src[i])` and `dst[2i+1] = scale * sin(src[i])`.
///
/// # Errors
/// `Err(i)` with the index of the first non-finite `src[i]`.
///
/// # Panics
/// If `dst.len() != 2 * src.len()`.
pub fn sincos_interleaved<T: Real>(
    isa: Isa,
    src: &[T],
    scale: T,
    dst: &mut [T],
) -> Result<(), usize> {
    assert_eq!(dst.len(), 2 * src.len());
    if all_abs_below(isa, src, T::FAST_TRIG_LIMIT) {
        sincos_fast(isa, src, scale, dst);
        return Ok(());
    }
    if let Some(index) = src.iter().position(|p| !p.is_finite()) {
        return Err(index);
    }
    for (pair, &p) in dst.chunks_exact_mut(2).zip(src) {
        let (sin, cos) = p.sin_cos();
        pair[0] = scale * cos;
        pair[1] = scale * sin;
    }
    Ok(())
}

/// The nonlinearities `f` of [`affine`]: `dst[i] = scale * f(src[i] + offsets[i])`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Affine {
    /// `cos(a)` (random Fourier features).
    Cos,
    /// `max(0, a)` (arc-cosine features of order 1).
    Relu,
    /// `[a > 0]` (Heaviside step, 0 at 0; arc-cosine features of order 0).
    Step,
    /// `a` (linear features).
    Identity,
}

multiversion! {
    /// `dst[i] = scale * f(src[i] + offsets[i])` on the fast path: every argument
    /// must be finite, and for [`Affine::Cos`] below `T::FAST_TRIG_LIMIT` in
    /// magnitude.
    fn affine_fast<T: Real>(kind: Affine, src: &[T], offsets: &[T], scale: T, dst: &mut [T]) {
        let arguments = dst.iter_mut().zip(src).zip(offsets);
        match kind {
            Affine::Cos => {
                for ((d, &p), &b) in arguments {
                    *d = scale * cos_odd_quadrant(p + b);
                }
            }
            Affine::Relu => {
                for ((d, &p), &b) in arguments {
                    let a = p + b;
                    *d = if a > T::zero() { scale * a } else { T::zero() };
                }
            }
            Affine::Step => {
                for ((d, &p), &b) in arguments {
                    *d = if p + b > T::zero() { scale } else { T::zero() };
                }
            }
            Affine::Identity => {
                for ((d, &p), &b) in arguments {
                    *d = scale * (p + b);
                }
            }
        }
    }
}

/// `dst[i] = scale * f(src[i] + offsets[i])` with `f` the nonlinearity `kind`:
/// vectorized for finite arguments (and, for the cosine, arguments below
/// `T::FAST_TRIG_LIMIT` in magnitude; larger ones use the standard library).
///
/// # Errors
/// `Err(i)` with the index of the first non-finite argument (`dst` is then
/// unspecified).
///
/// # Panics
/// If the three slices differ in length.
pub fn affine<T: Real>(
    isa: Isa,
    kind: Affine,
    src: &[T],
    offsets: &[T],
    scale: T,
    dst: &mut [T],
) -> Result<(), usize> {
    assert!(src.len() == offsets.len() && src.len() == dst.len());
    let limit = match kind {
        Affine::Cos => T::FAST_TRIG_LIMIT,
        Affine::Relu | Affine::Step | Affine::Identity => T::infinity(),
    };
    if all_below(isa, src, offsets, limit) {
        affine_fast(isa, kind, src, offsets, scale, dst);
        return Ok(());
    }
    if let Some(index) = first_non_finite(src, offsets) {
        return Err(index);
    }
    // Finite arguments beyond the fast range: only the cosine's range is finite.
    assert_eq!(kind, Affine::Cos, "finite arguments are below infinity");
    for ((d, &p), &b) in dst.iter_mut().zip(src).zip(offsets) {
        *d = scale * (p + b).cos();
    }
    Ok(())
}

/// `ln 2` split for exact `k * LN2_HI` (`|k| < 2^21`); fdlibm's constants.
const LN2_HI: f64 = 0.693_147_180_369_123_8;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// `1/n!` for `n = 0..=13`: Taylor series of `exp` on `|r| <= ln2/2`.
const EXP_POLY: [f64; 14] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// `2^h` for an integer-valued `h` in `[-1022, 1023]`, built from its bits.
#[inline(always)]
fn exp2_integer(h: f64) -> f64 {
    let magic = <f64 as Real>::ROUND_MAGIC;
    let h_int = (h + magic).to_bits().wrapping_sub(magic.to_bits());
    f64::from_bits(h_int.wrapping_add(1023) << 52)
}

/// `exp(x)` for `x <= 0` (results below the smallest subnormal flush to 0).
#[inline(always)]
fn exp_nonpositive_one(x: f64) -> f64 {
    let x = x.max(-746.0);
    let k = round_to_integer(x * std::f64::consts::LOG2_E);
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let p = horner(&EXP_POLY, r);
    // 2^k in two factors so that subnormal results are still formed correctly.
    let h = round_to_integer(k * 0.5);
    p * exp2_integer(h) * exp2_integer(k - h)
}

multiversion! {
    fn exp_nonpositive_generic<T: Real>(values: &mut [T]) {
        for v in values.iter_mut() {
            *v = T::from_f64(exp_nonpositive_one(v.to_f64()));
        }
    }
}

/// `values[i] = exp(values[i])` in place, for values `<= 0` (as `exp(-gamma d)`).
///
/// Values above 0 are not supported (they are clamped by the callers' math, which
/// only forms non-positive exponents).
pub fn exp_nonpositive_in_place(isa: Isa, values: &mut [f64]) {
    exp_nonpositive_generic(isa, values);
}

multiversion! {
    fn rbf_row_generic<T: Real>(row: &mut [T], x_norm: T, y_norms: &[T], gamma: T) {
        let two = T::from_f64(2.0);
        for (v, &y_norm) in row.iter_mut().zip(y_norms) {
            let exponent = -gamma * (x_norm + y_norm - two * *v).max(T::zero());
            *v = T::from_f64(exp_nonpositive_one(exponent.to_f64()));
        }
    }
}

/// `row[j] = exp(-gamma max(x_norm + y_norms[j] - 2 row[j], 0))` in place: a row of
/// the RBF kernel from the inner products `row[j] = x . y_j` and the squared norms.
///
/// # Panics
/// If `y_norms` is shorter than `row`.
pub fn rbf_row_in_place(isa: Isa, row: &mut [f64], x_norm: f64, y_norms: &[f64], gamma: f64) {
    assert!(y_norms.len() >= row.len(), "one norm per entry of the row");
    rbf_row_generic(isa, row, x_norm, y_norms, gamma);
}

multiversion! {
    fn dot_widened_generic<T: Real>(x: &[T], y: &[f64]) -> f64 {
        // Eight running sums (one vector) in a fixed order, then added in order.
        let mut sums = [0.0f64; 8];
        let (x_chunks, y_chunks) = (x.chunks_exact(8), y.chunks_exact(8));
        let (x_rest, y_rest) = (x_chunks.remainder(), y_chunks.remainder());
        for (xs, ys) in x_chunks.zip(y_chunks) {
            for ((sum, &a), &b) in sums.iter_mut().zip(xs).zip(ys) {
                *sum += a.to_f64() * b;
            }
        }
        let rest = x_rest.iter().zip(y_rest).fold(0.0, |acc, (&a, &b)| acc + a.to_f64() * b);
        sums.iter().fold(0.0, |acc, &s| acc + s) + rest
    }
}

/// `sum_i x_i y_i` in float64 for `x` of either float type (widened as it is read).
///
/// # Panics
/// If the lengths differ.
pub fn dot_widened<T: Real>(isa: Isa, x: &[T], y: &[f64]) -> f64 {
    assert_eq!(
        x.len(),
        y.len(),
        "dot product of slices of different lengths"
    );
    dot_widened_generic(isa, x, y)
}

/// Terms of the Taylor series `asin s = s (1 + z R(z))`, `z = s^2`, kept for
/// `z <= 1/4`: `R(z) = sum_k a_(k+1) z^k` with `a_k = C(2k, k) / (4^k (2k + 1))`.
/// The first omitted term is below `2^-56` of `asin s`.
const ASIN_TERMS: usize = 23;

/// The coefficients `a_1 ... a_ASIN_TERMS` of [`ASIN_TERMS`], by the ratio
/// `a_(k+1) / a_k = (2k + 1)^2 / ((2k + 2) (2k + 3))`.
const ASIN_POLY: [f64; ASIN_TERMS] = {
    let mut coeffs = [0.0; ASIN_TERMS];
    let mut a = 1.0;
    let mut k = 0;
    while k < ASIN_TERMS {
        let odd = (2 * k + 1) as f64;
        a = a * odd * odd / ((odd + 1.0) * (odd + 2.0));
        coeffs[k] = a;
        k += 1;
    }
    coeffs
};

/// `acos x` for `x` in `[-1, 1]`, from `asin` on `[0, 1/2]`: `pi/2 - asin x` for
/// `|x| <= 1/2`, else `2 asin(sqrt((1 - |x|) / 2))` (reflected for `x < 0`), where
/// `(1 - |x|) / 2` is exact. Branch-free, so the loop over a slice vectorizes.
#[inline(always)]
fn acos_one(x: f64) -> f64 {
    let a = x.abs();
    let near_zero = a <= 0.5;
    let z = if near_zero { a * a } else { 0.5 - 0.5 * a };
    let s = if near_zero { a } else { z.sqrt() };
    let asin = s + s * z * horner(&ASIN_POLY, z);
    let reflected = if x < 0.0 {
        std::f64::consts::PI - 2.0 * asin
    } else {
        2.0 * asin
    };
    if near_zero {
        std::f64::consts::FRAC_PI_2 - asin.copysign(x)
    } else {
        reflected
    }
}

/// The relative gap `1 - u.v / (|u| |v|)` below which two vectors count as
/// parallel: 16 ulps, the rounding of the inner product and norms of a row
/// with itself.
const PARALLEL_SLACK: f64 = 16.0 * f64::EPSILON;

/// The order of an arc-cosine kernel: 1 is the kernel of ReLU features, 0 that
/// of step features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArcCosineOrder {
    /// `k_0(u, v) = 1 - t / pi`, `t` the angle between `u` and `v`.
    Zero,
    /// `k_1(u, v) = |u| |v| (sin t + (pi - t) cos t) / pi`.
    One,
}

multiversion! {
    fn arc_cosine_generic<T: Real>(order: ArcCosineOrder, dots: &mut [T], norms: &[T]) {
        let pi = std::f64::consts::PI;
        let cosine = |dot: f64, norms: f64| (dot / norms).clamp(-1.0, 1.0);
        // dot >= (1 - PARALLEL_SLACK) norms: parallel up to the rounding of the
        // inner product and the norms (a row against itself), or a zero vector
        // (dot = norms = 0); the results are then exact, so that deep compositions
        // keep S_l(x, x) = S_0(x, x) to the last bit. The angle this rounds to 0 is
        // below sqrt(2 PARALLEL_SLACK) = 8.4e-8, what acos makes of that rounding
        // anyway.
        let parallel = |dot: f64, norms: f64| dot >= norms * (1.0 - PARALLEL_SLACK);
        match order {
            ArcCosineOrder::One => {
                for (v, &norms) in dots.iter_mut().zip(norms) {
                    let (dot, norms) = (v.to_f64(), norms.to_f64());
                    let c = cosine(dot, norms);
                    // sin t = sqrt((1 - c)(1 + c)), without cancellation near c = +-1.
                    let general = (norms * ((1.0 - c) * (1.0 + c)).sqrt() + (pi - acos_one(c)) * dot) / pi;
                    *v = T::from_f64(if parallel(dot, norms) { norms } else { general });
                }
            }
            ArcCosineOrder::Zero => {
                for (v, &norms) in dots.iter_mut().zip(norms) {
                    let (dot, norms) = (v.to_f64(), norms.to_f64());
                    let general = 1.0 - acos_one(cosine(dot, norms)) / pi;
                    let value = if parallel(dot, norms) { 1.0 } else { general };
                    *v = T::from_f64(if norms == 0.0 { 0.0 } else { value });
                }
            }
        }
    }
}

/// `dots[j] = k(u, v_j)`, the arc-cosine kernel of `order` from the inner products
/// `dots[j] = u.v_j` and the products of norms `norms[j] = |u| |v_j|` (a zero
/// vector gives 0).
///
/// # Panics
/// If the slices differ in length.
pub fn arc_cosine_in_place(isa: Isa, order: ArcCosineOrder, dots: &mut [f64], norms: &[f64]) {
    assert_eq!(dots.len(), norms.len());
    arc_cosine_generic(isa, order, dots, norms);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    fn random_values(n: usize, spread: f64, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| spread * (2.0 * crate::rng::standard_uniform(&mut rng) - 1.0))
            .collect()
    }

    /// `cos(x_i)` through [`affine`] on this CPU's instruction set.
    fn cosines<T: Real>(x: &[T]) -> Vec<T> {
        let mut got = vec![T::zero(); x.len()];
        affine(
            Isa::detect(),
            Affine::Cos,
            x,
            &vec![T::zero(); x.len()],
            T::one(),
            &mut got,
        )
        .unwrap();
        got
    }

    fn max_error_in_ulps(got: f64, want: f64, ulp_of: f64) -> f64 {
        (got - want).abs() / (ulp_of * f64::EPSILON)
    }

    #[test]
    fn cos_matches_libm_to_a_few_ulps_f64() {
        for spread in [1e-8, 1.0, 10.0, 1000.0, 1e6] {
            let x = random_values(1003, spread, 1);
            for (&xi, &g) in x.iter().zip(&cosines(&x)) {
                // Error relative to the result's magnitude, floored at 2^-1022 scale.
                let want = xi.cos();
                assert!(
                    max_error_in_ulps(g, want, want.abs().max(1e-300)) <= 4.0,
                    "x={xi} {g} {want}"
                );
            }
        }
    }

    #[test]
    fn sin_and_cos_match_libm_f32() {
        let isa = Isa::detect();
        let x: Vec<f32> = random_values(1001, 3000.0, 2)
            .iter()
            .map(|&v| v as f32)
            .collect();
        let mut got = vec![0.0f32; 2 * x.len()];
        sincos_interleaved(isa, &x, 1.0, &mut got).unwrap();
        for (&xi, &c) in x.iter().zip(&cosines(&x)) {
            let want = f64::from(xi).cos();
            assert!(
                (f64::from(c) - want).abs() <= 2.0 * f64::from(f32::EPSILON),
                "{xi}"
            );
        }
        for (i, &xi) in x.iter().enumerate() {
            let (s, c) = f64::from(xi).sin_cos();
            assert!(
                (f64::from(got[2 * i]) - c).abs() <= 2.0 * f64::from(f32::EPSILON),
                "{xi}"
            );
            assert!(
                (f64::from(got[2 * i + 1]) - s).abs() <= 2.0 * f64::from(f32::EPSILON),
                "{xi}"
            );
        }
    }

    #[test]
    fn near_zeros_of_cos_the_relative_error_is_small() {
        let x: Vec<f64> = (1..200)
            .map(|k| f64::from(k) * std::f64::consts::FRAC_PI_2)
            .collect();
        for (&xi, &g) in x.iter().zip(&cosines(&x)) {
            let want = xi.cos();
            assert!(
                (g - want).abs() <= 1e-15 * want.abs().max(1e-300),
                "x={xi} {g} {want}"
            );
        }
    }

    #[test]
    fn every_isa_gives_the_scalar_bits() {
        for (isa, n) in Isa::supported()
            .into_iter()
            .flat_map(|isa| [0, 1, 2, 7, 33, 1000].map(|n| (isa, n)))
        {
            let x = random_values(n, 50.0, 3);
            let b = random_values(n, 3.0, 4);
            let (mut fast, mut reference) = (vec![0.0; n], vec![0.0; n]);
            affine(isa, Affine::Cos, &x, &b, 0.5, &mut fast).unwrap();
            affine(Isa::scalar(), Affine::Cos, &x, &b, 0.5, &mut reference).unwrap();
            assert_eq!(fast, reference);
            let (mut fast, mut reference) = (vec![0.0; n], vec![0.0; n]);
            let neg: Vec<f64> = x.iter().map(|v| -v.abs()).collect();
            fast.copy_from_slice(&neg);
            reference.copy_from_slice(&neg);
            exp_nonpositive_in_place(isa, &mut fast);
            exp_nonpositive_in_place(Isa::scalar(), &mut reference);
            assert_eq!(fast, reference);
            // RBF rows from inner products around the norms' sum: every clamp.
            let y_norms: Vec<f64> = b.iter().map(|v| v * v).collect();
            fast.copy_from_slice(&x);
            reference.copy_from_slice(&x);
            rbf_row_in_place(isa, &mut fast, 30.0, &y_norms, 0.7);
            rbf_row_in_place(Isa::scalar(), &mut reference, 30.0, &y_norms, 0.7);
            assert_eq!(fast, reference);
            // Inner products with norms from 0 up to parallel: every branch.
            let norms: Vec<f64> = b.iter().map(|v| 20.0 * v.abs()).collect();
            for order in [ArcCosineOrder::Zero, ArcCosineOrder::One] {
                fast.copy_from_slice(&x);
                reference.copy_from_slice(&x);
                arc_cosine_in_place(isa, order, &mut fast, &norms);
                arc_cosine_in_place(Isa::scalar(), order, &mut reference, &norms);
                assert_eq!(fast, reference);
            }
        }
    }

    #[test]
    fn instruction_sets_are_chosen_by_name() {
        let supported = Isa::supported();
        assert_eq!(supported[0], Isa::scalar());
        for isa in &supported {
            assert_eq!(Isa::from_name(isa.name()).unwrap(), *isa);
        }
        let widest = *supported.last().unwrap();
        assert_eq!(Isa::from_name("auto").unwrap(), widest);
        assert_eq!(Isa::from_name(" AVX2 ").ok(), supported.get(1).copied());
        assert_eq!(Isa::from_name("").unwrap(), widest);
        let Err(Error::InvalidParameter(msg)) = Isa::from_name("sse9") else {
            panic!("sse9 was accepted");
        };
        assert!(
            msg.contains("RFKERNELS_ISA") && msg.contains("avx512"),
            "{msg}"
        );
    }

    #[test]
    fn large_arguments_fall_back_and_non_finite_ones_are_reported() {
        let isa = Isa::detect();
        let x = [1.0, 3e7, -2.5e9];
        let mut got = [0.0; 3];
        affine(isa, Affine::Cos, &x, &[0.0; 3], 1.0, &mut got).unwrap();
        assert_eq!(got, [1.0f64.cos(), 3e7f64.cos(), (-2.5e9f64).cos()]);
        let bad = [1.0, f64::INFINITY, f64::NAN];
        assert_eq!(
            affine(isa, Affine::Cos, &bad, &[0.0; 3], 1.0, &mut got),
            Err(1)
        );
        assert_eq!(
            affine(isa, Affine::Relu, &bad, &[0.0; 3], 1.0, &mut got),
            Err(1)
        );
        let mut pairs = [0.0f32; 2];
        assert_eq!(
            sincos_interleaved(isa, &[f32::NAN], 1.0, &mut pairs),
            Err(0)
        );
    }

    #[test]
    fn relu_and_step() {
        let isa = Isa::detect();
        let (x, b) = ([-1.0f32, 0.0, 2.0, 0.5], [0.5f32, 0.0, -1.0, -0.5]);
        let mut got = [9.0f32; 4];
        affine(isa, Affine::Relu, &x, &b, 2.0, &mut got).unwrap();
        assert_eq!(got, [0.0, 0.0, 2.0, 0.0]);
        affine(isa, Affine::Step, &x, &b, 2.0, &mut got).unwrap();
        assert_eq!(got, [0.0, 0.0, 2.0, 0.0]);
    }

    #[test]
    fn exp_matches_libm() {
        let mut x: Vec<f64> = random_values(2001, 800.0, 5)
            .iter()
            .map(|v| -v.abs())
            .collect();
        x.extend([0.0, -1e-300, -708.0, -745.0, -746.0, -1e6]);
        let mut got = x.clone();
        exp_nonpositive_in_place(Isa::detect(), &mut got);
        for (&xi, &g) in x.iter().zip(&got) {
            let want = xi.exp();
            let tol = if want < f64::MIN_POSITIVE {
                1e-323
            } else {
                3.0 * f64::EPSILON * want
            };
            assert!((g - want).abs() <= tol, "x={xi} {g} {want}");
        }
        assert_eq!(LN2_HI + LN2_LO, std::f64::consts::LN_2);
        assert_eq!(LN2_HI.to_bits() & ((1 << 21) - 1), 0);
    }

    #[test]
    fn acos_matches_libm_to_two_ulps() {
        let mut x = random_values(20_001, 1.0, 6);
        let edges = [
            -1.0,
            -0.5,
            0.0,
            0.5,
            1.0,
            1e-300,
            -1e-17,
            0.9999999999999999,
        ];
        x.extend(
            edges
                .iter()
                .flat_map(|&e: &f64| [e, e.next_up().min(1.0), e.next_down().max(-1.0)]),
        );
        for &xi in &x {
            let (g, want) = (acos_one(xi), xi.acos());
            assert!(
                max_error_in_ulps(g, want, want.max(1e-300)) <= 2.0,
                "x={xi} {g} {want}"
            );
        }
        // The series coefficients against their closed form C(2k, k) / (4^k (2k + 1)).
        let mut binomial_over_power = 1.0; // C(2k, k) / 4^k
        for (k, &a) in (1..).zip(&ASIN_POLY) {
            binomial_over_power *= f64::from(2 * k - 1) / f64::from(2 * k);
            let want = binomial_over_power / f64::from(2 * k + 1);
            assert!((a - want).abs() <= 4.0 * f64::EPSILON * want, "{k}");
        }
    }
}
