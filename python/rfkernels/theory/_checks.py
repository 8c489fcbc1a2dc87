"""Argument checks of :mod:`rfkernels.theory`, whose messages name the argument and its meaning."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._validation import naming


@dataclass(frozen=True)
class _CheckedSpectrum:
    """A checked eigenstructure: positive eigenvalues (descending) and what is never learned."""

    eigenvalues: np.ndarray  # the positive eigenvalues, descending
    weights: np.ndarray  # v_i^2 (summed over outputs) of those modes
    null_weight: float  # sum of v_i^2 over zero eigenvalues: bias that no ridge removes


def _as_real(value: ArrayLike, name: str) -> np.ndarray:
    """``value`` as a float64 array; complex numbers and strings are errors naming ``name``.

    (numpy would drop an imaginary part with only a warning.)
    """
    if np.iscomplexobj(value):
        raise ValueError(f"{name} must be real numbers; got complex values")
    with naming(name):
        return np.asarray(value, dtype=np.float64)


def _check_values(
    value: ArrayLike,
    name: str,
    *,
    meaning: str,
    low: float = -np.inf,
    strict: bool = False,
    allow_inf: bool = False,
) -> np.ndarray:
    """``value`` as a float64 array of numbers ``>= low`` (``> low`` if strict).

    Values must be finite unless ``allow_inf``; the error names the argument, its
    meaning, the allowed range and one bad value.
    """
    array = _as_real(value, name)
    above = array > low if strict else array >= low  # NaN fails both
    bad = ~above | (np.isinf(array) & (not allow_inf))
    if bad.any():
        bound = "" if low == -np.inf else f" {'>' if strict else '>='} {low:g}"
        kind = "a number (inf allowed)" if allow_inf else "a finite number"
        raise ValueError(
            f"{name} ({meaning}) must be {kind}{bound}; got {float(array[bad].flat[0])}"
        )
    return array


def _check_spectrum(eigenvalues: ArrayLike, target_coeffs: ArrayLike) -> _CheckedSpectrum:
    """Check the eigenstructure, sort it by decreasing eigenvalue and split off the null modes."""
    lam = _as_real(eigenvalues, "eigenvalues")
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array; got shape {lam.shape}")
    if not np.all(np.isfinite(lam) & (lam >= 0)):
        raise ValueError("eigenvalues must be finite and >= 0 (kernels are positive semi-definite)")
    coeffs = _as_real(target_coeffs, "target_coeffs")
    if coeffs.ndim not in (1, 2) or coeffs.shape[0] != lam.size:
        raise ValueError(
            f"target_coeffs must have shape ({lam.size},) or ({lam.size}, n_outputs), one row "
            f"per eigenvalue; got shape {coeffs.shape}"
        )
    if not np.all(np.isfinite(coeffs)):
        raise ValueError("target_coeffs must be finite")
    with np.errstate(over="ignore"):
        weights = coeffs**2 if coeffs.ndim == 1 else (coeffs**2).sum(axis=1)
    if not np.all(np.isfinite(weights)):
        raise ValueError("target_coeffs are too large: their squares overflow float64")
    order = np.argsort(-lam, kind="stable")
    lam, weights = lam[order], weights[order]
    n_positive = int(np.count_nonzero(lam))
    return _CheckedSpectrum(
        lam[:n_positive], weights[:n_positive], float(weights[n_positive:].sum())
    )


def _check_noise(noise: float) -> float:
    value = _check_values(noise, "noise", low=0.0, meaning="the label noise variance sigma^2")
    if value.ndim != 0:
        raise ValueError(f"noise must be a scalar; got shape {value.shape}")
    return float(value)


def _is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer (numpy's too), not a bool."""
    return isinstance(value, Integral) and not isinstance(value, bool | np.bool_)
