//! Ridge paths from one symmetric eigendecomposition: coefficients, training
//! errors, GCV and exact leave-one-out errors for every ridge `alpha` at once.
//!
//! The objective, as scikit-learn's `Ridge` (sums, not means):
//!
//! ```text
//! minimize  sum_i s_i (y_i - z_i.beta - beta_0)^2 + alpha ||beta||^2
//! ```
//!
//! With weighted means removed and rows scaled by `sqrt(s_i)` (`Z~`, `y~`), the
//! intercept is unpenalized and the hat matrix is
//! `H = Z~ (Z~^T Z~ + alpha I)^+ Z~^T + v v^T`, `v_i = sqrt(s_i / s_sum)` (no `v`
//! without intercept). The leave-one-out residual is `e_i = r_i / (1 - H_ii)` with
//! `r = y~ - H y~`, in the scaled space, exactly as scikit-learn's `RidgeCV`; the
//! reported error is `sum_i e_i^2 / n`.
//!
//! - Primal ([`PrimalPath`], `D <= n`, in `primal.rs`): `Z~^T Z~ = Q diag(lambda)
//!   Q^T` from the streamed statistics; the leverages need `P = Z~ Q`, computed in
//!   a second streaming pass ([`PrimalPath::loo_error_sums`]).
//! - Dual ([`DualPath`], `n < D` and exact kernels, in `dual.rs`): `Z~ Z~^T = U
//!   diag(sigma) U^T`; the leverages come from `U` itself ([`DualPath::loo_errors`]).
//! - Both store their eigendecomposition and projected targets as
//!   [`SpectralParts`] (`spectrum.rs`), which gives the training errors and GCV
//!   of every alpha without touching the data again ([`SpectralPath`]).
//!
//! `alpha = 0` is the ridgeless (minimum-norm) limit: `1/(lambda + alpha)` becomes
//! the pseudo-inverse `1/lambda` for `lambda > cutoff` and 0 below, with
//! `cutoff = max(lambda) * max(n, D) * eps` (numpy's `pinv` rule).

use crate::eigen::pooled_eigh;
use crate::error::{Error, Result};
use crate::parallel::Context;
use faer::Mat;

mod dual;
mod primal;
mod spectrum;
#[cfg(test)]
mod tests;

/// The error of targets whose squares overflow float64, for every ridge path.
pub const TARGETS_OVERFLOW: &str = "the squares of the targets overflow float64 (|y| beyond \
     about 1e154): rescale y, for example divide it by its standard deviation";

pub use dual::DualPath;
pub use primal::PrimalPath;
pub use spectrum::{SpectralParts, SpectralPath};

/// Eigendecomposition of a symmetric positive semi-definite matrix.
#[derive(Clone, Debug)]
pub struct SymmetricEigen {
    /// Eigenvalues in ascending order, clipped at 0 (rounding can make them negative).
    pub values: Vec<f64>,
    /// Orthonormal eigenvectors as columns, in the order of `values`.
    pub vectors: Mat<f64>,
}

/// Where a spectrum computed in floating point stops meaning anything: the
/// eigenvalues at or below [`NoiseFloor::cutoff`] are rounding, treated as 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoiseFloor {
    /// The size of the entries the matrix was computed from (before centering):
    /// when centering cancels them, what is left is rounding of that size, not a
    /// spectrum.
    pub scale: f64,
    /// The cut-off relative to `max(top eigenvalue, scale)`.
    pub relative: f64,
}

impl NoiseFloor {
    /// The floor of a matrix formed in float64 from entries of size `scale`, for a
    /// problem whose larger side is `dim`: the pseudo-inverse cut-off `dim eps`.
    pub fn float64(dim: usize, scale: f64) -> Self {
        Self {
            scale,
            relative: dim.max(1) as f64 * f64::EPSILON,
        }
    }

    /// The floor of Gram statistics whose products had relative rounding
    /// `rounding` ([`crate::gram::GramAccumulator::rounding`]) for `dim` =
    /// `max(n, D)`: as [`NoiseFloor::float64`] for float64 products; for float32
    /// ones `eps32` itself. Their Gram tiles sum 256 rows in float32 each
    /// ([`crate::gram`]), whose error measured at most `0.08 eps32` times the top
    /// eigenvalue (spectral norm; n = 4k to 50k, D = 256 to 1024), so the floor
    /// keeps a margin of 12 or more while resolving the spectrum to `1.2e-7` of
    /// its top.
    pub fn of_statistics(dim: usize, scale: f64, rounding: f64) -> Self {
        if rounding <= f64::EPSILON {
            return Self::float64(dim, scale);
        }
        Self {
            scale,
            relative: rounding,
        }
    }

    /// `max(top, scale) * relative`, and at least the smallest normal number, so
    /// that `1 / lambda` is finite for every eigenvalue kept (data of a tiny scale,
    /// such as weights ~1e-300, would otherwise put it among the subnormals).
    pub fn cutoff(self, top: f64) -> f64 {
        (top.max(self.scale) * self.relative).max(f64::MIN_POSITIVE)
    }
}

impl SymmetricEigen {
    /// The decomposition `(values, vectors)` with its eigenvalues clipped at 0.
    fn clipped((values, vectors): (Vec<f64>, Mat<f64>)) -> Self {
        let values = values.into_iter().map(|v| v.max(0.0)).collect();
        Self { values, vectors }
    }

    /// Decomposes the symmetric `a` as [`crate::eigen::pooled_eigh`], clips its eigenvalues at 0,
    /// then truncates them at `noise` ([`SymmetricEigen::truncate`]); returns the
    /// decomposition and the cut-off.
    ///
    /// # Errors
    /// [`Error::NoConvergence`]; [`Error::Interrupted`] if the interrupt fires.
    pub fn decompose(a: Mat<f64>, noise: NoiseFloor, ctx: &Context) -> Result<(Self, f64)> {
        let mut eigen = Self::clipped(pooled_eigh(a, ctx)?);
        let cutoff = eigen.truncate(noise);
        Ok((eigen, cutoff))
    }

    /// Sets the eigenvalues at or below the cut-off of `noise`
    /// ([`NoiseFloor::cutoff`], from the top eigenvalue) to exactly 0, so that null
    /// directions are treated as null at every alpha; returns the cut-off.
    pub fn truncate(&mut self, noise: NoiseFloor) -> f64 {
        let top = self.values.last().copied().unwrap_or(0.0);
        let cutoff = noise.cutoff(top);
        for v in self.values.iter_mut().filter(|v| **v <= cutoff) {
            *v = 0.0;
        }
        cutoff
    }
}

/// `1 / (lambda + alpha)`, or its ridgeless limit (pseudo-inverse) at `alpha = 0`.
pub fn shrinkage(lambda: f64, alpha: f64, cutoff: f64) -> f64 {
    if alpha > 0.0 {
        1.0 / (lambda + alpha)
    } else if lambda > cutoff {
        1.0 / lambda
    } else {
        0.0
    }
}

/// [`Error::InvalidParameter`] unless `alpha` is a non-negative finite number.
fn check_alpha(alpha: f64) -> Result<()> {
    if alpha >= 0.0 && alpha.is_finite() {
        return Ok(());
    }
    Err(Error::InvalidParameter(format!(
        "alpha must be a non-negative finite number, got {alpha}"
    )))
}

/// [`Error::InvalidParameter`] unless every alpha is a non-negative finite number.
fn check_alphas(alphas: &[f64]) -> Result<()> {
    match alphas.iter().find(|a| !(**a >= 0.0 && a.is_finite())) {
        Some(a) => Err(Error::InvalidParameter(format!(
            "alphas must be non-negative finite numbers, got {a}"
        ))),
        None => Ok(()),
    }
}

/// `(residual / complement)^2`, where `complement` is `1 - H_ii` times a factor
/// of at most `scale`; infinite when the point is interpolated (`complement`
/// vanishes to rounding) and its residual does not.
fn loo_squared(residual: f64, complement: f64, scale: f64) -> f64 {
    if complement > 1e-12 * scale {
        (residual / complement).powi(2)
    } else if residual == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}
