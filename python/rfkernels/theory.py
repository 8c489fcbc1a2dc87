"""Closed-form predictions of the test and train risk of kernel and random-feature ridge.

These are the omniscient deterministic equivalents ("eigenlearning") used by Simon,
Karkada, Ghosh and Belkin [1]_, in plain numpy. From the eigenstructure of a task (the
eigenvalues ``lambda_i`` of the kernel's integral operator under the data distribution,
and the coefficients ``v_i`` of the target in its orthonormal eigenbasis) they predict
the risk of ridge regression from ``n`` samples with the kernel (:func:`krr_risk`) or
with ``k`` random features (:func:`rf_risk`). :func:`estimate_eigenstructure` measures
an eigenstructure on data, :func:`powerlaw_task` makes a synthetic one (and samples
data with it), and the ``powerlaw_*`` functions give the closed forms of power-law
tasks: the optimal ridge and when zero ridge is optimal ("overfitting is obligatory").

Conventions: labels are ``y = f*(x) + eps`` with ``f*(x) = sum_i v_i phi_i(x)``,
``E[phi_i phi_j] = delta_ij`` and ``Var(eps) = noise = sigma^2``. The estimator is
``f(x) = K(x, X) (K(X, X) + delta I)^{-1} y`` with the kernel ``K``, or the
random-feature kernel ``Z Z^T`` with features normalized so that ``Z Z^T -> K``. The
ridge ``delta`` is not divided by ``n``: it is scikit-learn's ``alpha`` for
``KernelRidge``, and for ``Ridge(fit_intercept=False)`` on such features (a loss
``(1/n) sum (.)^2 + lam ||a||^2`` has ``delta = n lam``). The test risk is measured
against noisy labels, so it includes ``sigma^2``; the train risk is the mean squared
training residual.

Notes
-----
Kernel ridge regression: ``kappa > 0`` solves
``sum_i lambda_i / (lambda_i + kappa) + delta / kappa = n``, and::

    L_i  = lambda_i / (lambda_i + kappa)             learnability of mode i
    E_0  = n / (n - sum_i L_i^2)                     overfitting coefficient
    E_te = E_0 (sum_i (1 - L_i)^2 v_i^2 + sigma^2)
    E_tr = (delta / (n kappa))^2 E_te = (1 - sum_i L_i / n)^2 E_te

Random-feature ridge regression with ``k`` features: ``gamma, kappa >= 0`` solve
``n = z + delta / kappa`` and ``kappa = gamma (1 - z / k)``, with
``L_i = lambda_i / (lambda_i + gamma)``, ``z = sum_i L_i`` and ``q = sum_i L_i^2``::

    E_0  = 1 / (1 - (q (k - 2 z) + z^2) / (n (k - q)))
    b_i  = (1 - L_i) - (kappa k / (k - q)) L_i / (lambda_i + gamma)
    E_te = E_0 (sum_i b_i v_i^2 + sigma^2)
    E_tr = (1 - z / n)^2 E_te

As ``k -> infinity`` this is kernel ridge regression. At ``delta = 0`` and ``k = n``
the risk is infinite (the double-descent peak). At the optimal ridge the test risk
does not increase with ``k`` or ``n`` (the paper's first theorem: more is better).

Power laws ``lambda_i = i^-alpha``, ``v_i^2 = i^-beta`` (``alpha > 1``,
``1 < beta < 2 alpha + 1``), in the continuum limit of large ``n``, with
``s = sqrt(E_tr / E_te) = 1 - z / n`` and ``sigma^2 = noise_rel E^(0)``::

    kappa(s) = [pi / (alpha sin(pi / alpha) n (1 - s))]^alpha,   delta = n kappa(s) s
    E^(0)    = (alpha - beta + 1) pi / (alpha sin(pi (beta - 1) / alpha))
               [pi / (alpha sin(pi / alpha))]^(beta - 1) n^-(beta - 1)
    E_te(s)  = E^(0) [(1 - s)^(1 - beta) + alpha noise_rel] / (1 + (alpha - 1) s)

and zero ridge is optimal iff ``noise_rel <= (beta - alpha) / (alpha (alpha - 1))``.

References
----------
.. [1] J. B. Simon, D. Karkada, N. Ghosh, M. Belkin, "More is Better in Modern
   Machine Learning: when Infinite Overparameterization is Optimal and Overfitting
   is Obligatory", ICLR 2024, arXiv:2311.14646.

Examples
--------
>>> from rfkernels.theory import powerlaw_task
>>> task = powerlaw_task(alpha=1.5, beta=1.5, n_modes=1000, noise=0.5)
>>> risk = task.risk(n=256, ridge=[0.0, 1.0], k=256)  # at the peak, and regularized
>>> risk.test.round(3), risk.train.round(3)
(array([  inf, 0.856]), array([0.   , 0.508]))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_X_y

from ._kernels import KERNELS, resolve_gamma
from .kernels import kernel_matrix

__all__ = [
    "Eigenstructure",
    "KRRRisk",
    "PowerLawTask",
    "RFRisk",
    "estimate_eigenstructure",
    "fit_powerlaw",
    "krr_risk",
    "powerlaw_fitting_ratio",
    "powerlaw_optimal_ridge",
    "powerlaw_task",
    "powerlaw_test_risk",
    "powerlaw_zero_ridge_optimal",
    "rf_risk",
]

# Bisection stops when the bracket is this wide relative to max(1, |endpoints|): a few
# ulps, reached after about 50 + log2(initial width) halvings (at most about 61 for the
# widest log brackets float64 allows); _MAX_ITER is only a safety net.
_BISECT_RTOL = 8 * np.finfo(np.float64).eps
_MAX_ITER = 200
# Points are solved in chunks of at most this many (point, mode) pairs (8 MiB per array).
_CHUNK_ELEMENTS = 2**20
# estimate_eigenstructure fits exponents over the indices 10 <= i <= M / 4: at least 3 points.
_MIN_ROWS = 48


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class _Risk:
    test: np.ndarray
    train: np.ndarray
    kappa: np.ndarray
    overfitting_coefficient: np.ndarray
    effective_dof: np.ndarray
    fitting_ratio: np.ndarray


@dataclass(frozen=True)
class KRRRisk(_Risk):
    """Predicted risk of kernel ridge regression, from :func:`krr_risk`.

    Every attribute is a float64 ndarray of the broadcast shape of ``n`` and
    ``ridge`` (0-d for scalar inputs; ``float(result.test)`` gives a float).

    Attributes
    ----------
    test : ndarray
        Test risk ``E_te`` against noisy labels (includes ``noise``); ``inf`` at the
        interpolation threshold.
    train : ndarray
        Train risk ``E_tr``, the mean squared training residual.
    kappa : ndarray
        The effective regularization ``kappa``.
    overfitting_coefficient : ndarray
        ``E_0 = n / (n - sum_i L_i^2) >= 1``; ``inf`` at the interpolation threshold.
    effective_dof : ndarray
        ``sum_i L_i``, the number of modes learned (at most ``n``).
    fitting_ratio : ndarray
        ``E_tr / E_te = (1 - sum_i L_i / n)^2``, in ``[0, 1]``, defined even where
        the risks are 0 or infinite.
    """


@dataclass(frozen=True)
class RFRisk(_Risk):
    """Predicted risk of random-feature ridge regression, from :func:`rf_risk`.

    Every attribute is a float64 ndarray of the broadcast shape of ``n``, ``k`` and
    ``ridge`` (0-d for scalar inputs).

    Attributes
    ----------
    test : ndarray
        Test risk ``E_te`` against noisy labels (includes ``noise``); ``inf`` at the
        double-descent peak (``ridge = 0``, ``k = n``).
    train : ndarray
        Train risk ``E_tr``, the mean squared training residual.
    kappa : ndarray
        ``kappa = delta / (n - z) = gamma (1 - z / k)``.
    overfitting_coefficient : ndarray
        ``E_0``; ``inf`` at the double-descent peak.
    effective_dof : ndarray
        ``z = sum_i L_i`` with ``L_i = lambda_i / (lambda_i + gamma)``, at most
        ``min(n, k)``.
    fitting_ratio : ndarray
        ``E_tr / E_te = (1 - z / n)^2``.
    gamma : ndarray
        The second effective regularization ``gamma >= kappa``.
    """

    gamma: np.ndarray


@dataclass(frozen=True)
class _Spectrum:
    """A checked eigenstructure: positive eigenvalues (descending) and what is never learned."""

    eigenvalues: np.ndarray  # the positive eigenvalues, descending
    weights: np.ndarray  # v_i^2 (summed over outputs) of those modes
    null_weight: float  # sum of v_i^2 over zero eigenvalues: bias that no ridge removes


# --------------------------------------------------------------------------- validation


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
    array = np.asarray(value, dtype=np.float64)
    above = array > low if strict else array >= low  # NaN fails both
    bad = ~above | (np.isinf(array) & (not allow_inf))
    if bad.any():
        bound = "" if low == -np.inf else f" {'>' if strict else '>='} {low:g}"
        kind = "a number (inf allowed)" if allow_inf else "a finite number"
        raise ValueError(
            f"{name} ({meaning}) must be {kind}{bound}; got {float(array[bad].flat[0])}"
        )
    return array


def _check_spectrum(eigenvalues: ArrayLike, target_coeffs: ArrayLike) -> _Spectrum:
    """Check the eigenstructure, sort it by decreasing eigenvalue and split off the null modes."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array; got shape {lam.shape}")
    if not np.all(np.isfinite(lam) & (lam >= 0)):
        raise ValueError("eigenvalues must be finite and >= 0 (kernels are positive semi-definite)")
    coeffs = np.asarray(target_coeffs, dtype=np.float64)
    if coeffs.ndim not in (1, 2) or coeffs.shape[0] != lam.size:
        raise ValueError(
            f"target_coeffs must have shape ({lam.size},) or ({lam.size}, n_outputs), one row "
            f"per eigenvalue; got shape {coeffs.shape}"
        )
    if not np.all(np.isfinite(coeffs)):
        raise ValueError("target_coeffs must be finite")
    weights = coeffs**2 if coeffs.ndim == 1 else (coeffs**2).sum(axis=1)
    order = np.argsort(-lam, kind="stable")
    lam, weights = lam[order], weights[order]
    n_positive = int(np.count_nonzero(lam))
    return _Spectrum(lam[:n_positive], weights[:n_positive], float(weights[n_positive:].sum()))


def _check_noise(noise: float) -> float:
    value = _check_values(noise, "noise", low=0.0, meaning="the label noise variance sigma^2")
    if value.ndim != 0:
        raise ValueError(f"noise must be a scalar; got shape {value.shape}")
    return float(value)


# --------------------------------------------------------------------------- solver


def _bisect(
    root_is_above: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Vectorized bisection: where the boolean ``root_is_above(t)`` turns from True to False.

    ``root_is_above`` must be True on ``[lo, root)`` and False on ``(root, hi]``
    elementwise; all points are halved together until every bracket is a few ulps
    wide (relative to ``max(1, |t|)``).
    """
    for _ in range(_MAX_ITER):
        mid = 0.5 * (lo + hi)
        above = root_is_above(mid)
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        scale = np.maximum(1.0, np.maximum(np.abs(lo), np.abs(hi)))
        if np.all(hi - lo <= _BISECT_RTOL * scale):
            break
    return 0.5 * (lo + hi)


def _learnabilities(gamma: np.ndarray, eigenvalues: np.ndarray) -> np.ndarray:
    """``L[p, i] = lambda_i / (lambda_i + gamma_p)``, of shape (points, modes)."""
    return eigenvalues / (eigenvalues + gamma[:, None])


def _solve_gamma(
    eigenvalues: np.ndarray, n: np.ndarray, k: np.ndarray, ridge: np.ndarray
) -> np.ndarray:
    """``gamma`` for each point (1-D arrays): the root of ``delta(gamma) = ridge``.

    ``delta(gamma) = gamma (n - z)_+ (1 - z/k)_+`` (``z = sum_i L_i(gamma)``) is 0 up
    to ``gamma_0``, where ``z = m = min(n, k)``, and strictly increasing above it.
    Bisecting ``log gamma`` on "``delta(gamma) <= ridge``" therefore finds the root for
    ``ridge > 0`` and ``gamma_0`` for ``ridge = 0`` alike. Brackets: ``z(g) > m`` for
    ``g < lambda_min (p - m) / p`` when there are ``p > m`` positive modes, and
    ``delta(g) <= g n``, so ``lo = max(lambda_min (p - m) / (2 p), ridge / n)``;
    ``z(g) <= sum_i lambda_i / g``, so ``hi = 2 sum_i lambda_i / m + 4 ridge / n``
    has ``z <= m / 2`` and ``delta(hi) >= hi n / 4 > ridge``. With ``p <= m`` positive
    modes and ``ridge = 0``, ``gamma = 0`` (every positive mode is learned).
    """
    p = eigenvalues.size
    m = np.minimum(n, k)
    inv_k = 1.0 / k
    lam_min = eigenvalues[-1] if p else 0.0
    lo = np.maximum(np.where(p > m, 0.5 * lam_min * (p - m) / max(p, 1), 0.0), ridge / n)
    hi = 2.0 * eigenvalues.sum() / m + 4.0 * ridge / n
    zero = lo == 0.0
    lo, hi = np.where(zero, 1.0, lo), np.where(zero, 1.0, hi)

    def root_is_above(log_gamma: np.ndarray) -> np.ndarray:
        gamma = np.exp(log_gamma)
        z = _learnabilities(gamma, eigenvalues).sum(axis=1)
        delta = gamma * np.maximum(n - z, 0.0) * np.maximum(1.0 - z * inv_k, 0.0)
        return delta <= ridge

    return np.where(zero, 0.0, np.exp(_bisect(root_is_above, np.log(lo), np.log(hi))))


def _slacks(
    gamma: np.ndarray, z: np.ndarray, n: np.ndarray, k: np.ndarray, ridge: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(n - z, 1 - z/k)`` from the exact relations, without cancellation in ``n - z``.

    With ``r = 1/k``, ``a = n - z = delta / kappa`` and ``b = 1 - z/k = kappa / gamma``
    satisfy ``a - b/r = n - k`` and ``a b = delta / gamma``, so ``a`` is the
    non-negative root of ``r a^2 + (1 - n r) a - delta / gamma = 0``; each branch
    below uses the form without cancellation. At ``delta = 0`` this gives exact
    zeros (``a = 0`` for ``k >= n``, ``b = 0`` for ``k <= n``); at ``gamma = 0``
    (``delta = 0`` with at most ``min(n, k)`` positive modes) ``z`` is an exact count.
    """
    r = 1.0 / k
    p = np.divide(ridge, gamma, out=np.zeros_like(gamma), where=gamma > 0)
    c = 1.0 - n * r
    root = np.sqrt(c * c + 4.0 * r * p)
    under = c > 0  # k > n: a is the small root
    a = np.where(
        under,
        np.divide(2.0 * p, c + root, out=np.zeros_like(p), where=under),
        np.divide(root - c, 2.0 * r, out=np.zeros_like(p), where=~under),
    )
    b = np.where(
        under, c + r * a, np.divide(2.0 * r * p, root - c, out=np.zeros_like(p), where=root > c)
    )
    exact = gamma == 0
    return np.where(exact, n - z, a), np.where(exact, 1.0 - z * r, b)


def _solve(
    spectrum: _Spectrum, n: ArrayLike, k: ArrayLike, ridge: ArrayLike, noise: float
) -> dict[str, np.ndarray]:
    """Solve every broadcast point of ``(n, k, ridge)``; ``k = inf`` is kernel ridge."""
    n = _check_values(n, "n", low=1.0, meaning="the number of training samples")
    k = _check_values(k, "k", low=1.0, allow_inf=True, meaning="the number of random features")
    ridge = _check_values(ridge, "ridge", low=0.0, meaning="delta, scikit-learn's alpha")
    try:
        shape = np.broadcast_shapes(n.shape, k.shape, ridge.shape)
    except ValueError:
        raise ValueError(
            f"n {n.shape}, k {k.shape} and ridge {ridge.shape} must broadcast together (numpy "
            "broadcasting rules)"
        ) from None
    n, k, ridge = (np.broadcast_to(a, shape).ravel() for a in (n, k, ridge))

    lam, weights = spectrum.eigenvalues, spectrum.weights
    gamma, z, w, bias, cross = (np.empty(n.size) for _ in range(5))
    step = max(1, _CHUNK_ELEMENTS // max(lam.size, 1))
    for s in (slice(i, i + step) for i in range(0, n.size, step)):
        gamma[s] = _solve_gamma(lam, n[s], k[s], ridge[s])
        L = _learnabilities(gamma[s], lam)
        z[s] = L.sum(axis=1)
        w[s] = (L * (1.0 - L)).sum(axis=1)  # z - q, without cancellation
        bias[s] = (1.0 - L) ** 2 @ weights
        cross[s] = (L * (1.0 - L)) @ weights

    # With r = 1/k, a = n - z, b = 1 - z/k and e = b / (b + r w), the formulas of the module
    # docstring's Notes read E_0 = n / (a + e w) and b_i = (1 - L_i)(1 - e L_i) (KRR: r = 0,
    # e = 1); e is 1 where b + r w = 0, which happens only when every L_i is 1, so b_i = 0
    # anyway.
    a, b = _slacks(gamma, z, n, k, ridge)
    denominator = b + w / k
    e = np.divide(b, denominator, out=np.ones_like(b), where=denominator > 0)
    e0 = np.divide(n, a + e * w, out=np.full_like(n, np.inf), where=a + e * w > 0)
    error = bias + (1.0 - e) * cross + spectrum.null_weight + noise
    test = np.multiply(e0, error, out=np.zeros_like(e0), where=error > 0)
    ratio = (a / n) ** 2
    train = np.multiply(ratio, test, out=np.zeros_like(test), where=ratio > 0)
    values = {
        "test": test,
        "train": train,
        "kappa": gamma * b,
        "overfitting_coefficient": e0,
        "effective_dof": z,
        "fitting_ratio": ratio,
        "gamma": gamma,
    }
    return {name: value.reshape(shape) for name, value in values.items()}


def krr_risk(
    eigenvalues: ArrayLike,
    target_coeffs: ArrayLike,
    n: ArrayLike,
    ridge: ArrayLike,
    noise: float = 0.0,
) -> KRRRisk:
    """Predicted test and train risk of kernel ridge regression.

    Parameters
    ----------
    eigenvalues : array-like of shape (n_modes,)
        Eigenvalues ``lambda_i >= 0`` of the kernel's integral operator, in any order.
    target_coeffs : array-like of shape (n_modes,) or (n_modes, n_outputs)
        Coefficients ``v_i`` of the target in the eigenbasis, aligned with
        ``eigenvalues`` (not squared; with several outputs the squares are summed).
    n : array-like of float
        Numbers of training samples, ``>= 1`` (real values are allowed).
    ridge : array-like of float
        Ridges ``delta >= 0``: scikit-learn's ``alpha``, not divided by ``n``.
    noise : float, default=0.0
        Variance ``sigma^2`` of the label noise.

    Returns
    -------
    KRRRisk
        ``test``, ``train``, ``kappa``, ``overfitting_coefficient``,
        ``effective_dof`` and ``fitting_ratio``, each of the broadcast shape of ``n``
        and ``ridge`` (0-d arrays for scalars).

    Notes
    -----
    ``kappa`` solves ``sum_i L_i + delta / kappa = n`` with
    ``L_i = lambda_i / (lambda_i + kappa)``; ``E_0 = n / (n - sum_i L_i^2)``,
    ``E_te = E_0 (sum_i (1 - L_i)^2 v_i^2 + sigma^2)`` and
    ``E_tr = (1 - sum_i L_i / n)^2 E_te`` (see the module docstring).

    ``ridge = 0`` is the limit ``delta -> 0+``. With more than ``n`` positive
    eigenvalues the model interpolates (``sum_i L_i = n``, ``train = 0``). With
    ``p < n`` positive eigenvalues ``kappa = 0``: every positive mode is learned and
    ``E_te = n / (n - p) (sum_{lambda_i = 0} v_i^2 + sigma^2)``, as least squares. With
    exactly ``p = n`` the risk is infinite (``inf``, no warning; 0 if there is neither
    noise nor unlearnable signal), as at the random-feature peak ``k = n``.

    Zero eigenvalues never learn: their ``v_i^2`` is an irreducible error. ``kappa``
    is found by vectorized bisection on ``log kappa`` to a few ulps (see
    :func:`rf_risk`); the result does not depend on the order of the modes.

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels.theory import krr_risk
    >>> i = np.arange(1, 1001)
    >>> risk = krr_risk(i**-2.0, i**-0.75, n=100, ridge=[0.0, 1e-3], noise=0.01)
    >>> risk.test.round(4), risk.train.round(4)
    (array([0.3138, 0.3087]), array([0.    , 0.0005]))
    >>> print(f"{float(krr_risk(i**-2.0, i**-0.75, n=100, ridge=0.0).kappa):.3e}")
    2.240e-04
    """
    result = _solve(
        _check_spectrum(eigenvalues, target_coeffs), n, np.inf, ridge, _check_noise(noise)
    )
    del result["gamma"]
    return KRRRisk(**result)


def rf_risk(
    eigenvalues: ArrayLike,
    target_coeffs: ArrayLike,
    n: ArrayLike,
    k: ArrayLike,
    ridge: ArrayLike,
    noise: float = 0.0,
) -> RFRisk:
    """Predicted test and train risk of random-feature ridge regression with ``k`` features.

    Parameters
    ----------
    eigenvalues : array-like of shape (n_modes,)
        Eigenvalues ``lambda_i >= 0`` of the limiting kernel, in any order.
    target_coeffs : array-like of shape (n_modes,) or (n_modes, n_outputs)
        Coefficients ``v_i`` of the target, aligned with ``eigenvalues``.
    n : array-like of float
        Numbers of training samples, ``>= 1``.
    k : array-like of float
        Numbers of random features, ``>= 1``; ``inf`` gives :func:`krr_risk`.
    ridge : array-like of float
        Ridges ``delta >= 0`` (scikit-learn's ``alpha`` on features with
        ``Z Z^T -> K``).
    noise : float, default=0.0
        Variance ``sigma^2`` of the label noise.

    Returns
    -------
    RFRisk
        ``test``, ``train``, ``kappa``, ``gamma``, ``overfitting_coefficient``,
        ``effective_dof`` and ``fitting_ratio``, each of the broadcast shape of
        ``n``, ``k`` and ``ridge``.

    Notes
    -----
    The equations are in the module docstring. Eliminating ``kappa`` leaves one equation,
    ``delta = gamma (n - z) (1 - z / k)``, whose right side is increasing in
    ``gamma`` above ``gamma_0``, where ``z = min(n, k)``. It is solved for all
    points at once by bisection on ``log gamma`` (brackets derived from the
    eigenvalues, at most about 61 halvings to a few ulps; points are processed in
    chunks of ``2**20`` point-mode pairs). ``ridge = 0`` gives ``gamma_0`` (the limit
    ``delta -> 0+``); ``n - z`` and ``1 - z / k`` are then recovered from the exact
    relations, so the double-descent peak (``ridge = 0``, ``k = n``) is exactly
    ``test = inf`` with ``train = 0``, and ``k < n`` gives
    ``E_0 = n / (n - k)``.

    At a fixed ridge the risk is not monotone in ``k``; at the optimal ridge it is
    non-increasing in ``k`` and ``n`` and tends to the kernel ridge risk.

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels.theory import rf_risk
    >>> i = np.arange(1, 1001)
    >>> risk = rf_risk(i**-1.5, i**-0.75, n=256, k=[64, 256, 1024], ridge=0.0, noise=0.5)
    >>> risk.test.round(3)
    array([1.156,   inf, 1.31 ])
    >>> rf_risk(i**-1.5, i**-0.75, n=256, k=[64, 256, 1024], ridge=1.0, noise=0.5).test.round(3)
    array([1.009, 0.856, 0.813])
    """
    result = _solve(_check_spectrum(eigenvalues, target_coeffs), n, k, ridge, _check_noise(noise))
    return RFRisk(**result)


# --------------------------------------------------------------------------- eigenstructures


@dataclass(frozen=True)
class Eigenstructure:
    """Kernel eigenvalues and target coefficients estimated from data.

    Returned by :func:`estimate_eigenstructure`.

    Attributes
    ----------
    eigenvalues : ndarray of shape (n_samples,)
        ``lambda_i = eig_i(K) / M``, descending, clipped at 0.
    target_coeffs : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        ``v_i = u_i^T y / sqrt(M)``, aligned with ``eigenvalues``.
    alpha : float
        Fitted spectral decay exponent, ``lambda_i ~ i^-alpha``.
    beta : float
        Fitted target decay exponent, ``sum_{j >= i} v_j^2 ~ i^(1 - beta)``.
    """

    eigenvalues: np.ndarray
    target_coeffs: np.ndarray
    alpha: float
    beta: float

    def risk(
        self, n: ArrayLike, ridge: ArrayLike, noise: float = 0.0, k: ArrayLike | None = None
    ) -> KRRRisk | RFRisk:
        """:func:`krr_risk` (``k=None``) or :func:`rf_risk` for this eigenstructure.

        Parameters
        ----------
        n, ridge : array-like of float
            Training samples and ridges, broadcast together.
        noise : float, default=0.0
            Label noise variance ``sigma^2`` added to the labels' own noise, which
            is already part of the estimated coefficients.
        k : array-like of float, default=None
            Numbers of random features; ``None`` for kernel ridge regression.

        Returns
        -------
        KRRRisk or RFRisk
            The predicted risks.
        """
        return _predict(self.eigenvalues, self.target_coeffs, n, ridge, noise, k)


def _predict(
    eigenvalues: np.ndarray,
    target_coeffs: np.ndarray,
    n: ArrayLike,
    ridge: ArrayLike,
    noise: float,
    k: ArrayLike | None,
) -> KRRRisk | RFRisk:
    if k is None:
        return krr_risk(eigenvalues, target_coeffs, n, ridge, noise)
    return rf_risk(eigenvalues, target_coeffs, n, k, ridge, noise)


def _is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer (numpy's too), not a bool."""
    return isinstance(value, Integral) and not isinstance(value, bool | np.bool_)


def fit_powerlaw(values: ArrayLike, start: int = 1, stop: int | None = None) -> tuple[float, float]:
    """Fit ``values[i - 1] ~ prefactor * i^-exponent`` by least squares in log-log.

    Parameters
    ----------
    values : array-like of shape (n_values,)
        Finite values indexed from ``i = 1``; entries ``<= 0`` are skipped.
    start : int, default=1
        First 1-based index used.
    stop : int, default=None
        Last 1-based index used (inclusive, clipped to the number of values);
        ``None`` means the last one.

    Returns
    -------
    exponent : float
        The decay exponent (positive for decreasing values).
    prefactor : float
        The constant ``c`` in ``c * i^-exponent``.

    Notes
    -----
    The line is fitted to ``(log i, log values[i - 1])`` for ``start <= i <= stop``.
    Fitting the finite spectrum of a kernel matrix is unreliable: its head is not yet
    a power law and its tail is distorted by the finite sample, so restrict the range
    to the middle (:func:`estimate_eigenstructure` uses ``10 <= i <= M / 4``). The
    preferred estimators are the paper's: ``alpha`` from the slope of
    ``1 / Tr(K_n^{-1}) ~ n^-alpha`` over subsample sizes ``n`` (the ridgeless ``kappa``),
    and ``beta`` from the slope of the ridgeless test error ``~ n^(1 - beta)``.

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels.theory import fit_powerlaw
    >>> exponent, prefactor = fit_powerlaw(3.0 * np.arange(1, 101) ** -1.5)
    >>> print(f"{exponent:.6f} {prefactor:.6f}")
    1.500000 3.000000
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or not np.all(np.isfinite(values)):
        raise ValueError(f"values must be a finite 1-D array; got shape {values.shape}")
    stop = values.size if stop is None else stop
    if not (_is_integer(start) and _is_integer(stop) and 1 <= start <= stop):
        raise ValueError(f"need integers 1 <= start <= stop; got start={start}, stop={stop}")
    index = np.arange(start, min(stop, values.size) + 1)
    chosen = values[index - 1]
    keep = chosen > 0
    if np.count_nonzero(keep) < 2:
        raise ValueError(
            f"fit_powerlaw needs at least 2 positive values with start <= index <= stop; got "
            f"{np.count_nonzero(keep)} in [{start}, {stop}]"
        )
    slope, intercept = np.polyfit(np.log(index[keep]), np.log(chosen[keep]), 1)
    return float(-slope), float(np.exp(intercept))


def estimate_eigenstructure(
    X: ArrayLike,
    y: ArrayLike,
    *,
    kernel: str = "rbf",
    n: int | None = None,
    random_state: int | np.random.RandomState | None = None,
    **kernel_params: Any,
) -> Eigenstructure:
    """Eigenvalues of a kernel and the target's coefficients in its eigenbasis, from data.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Inputs: samples of the data distribution.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Labels (their noise becomes part of the coefficients' tail).
    kernel : str, default="rbf"
        A kernel of :data:`rfkernels.KERNELS`.
    n : int, default=None
        Use a random subsample of ``n`` rows (without replacement); ``None`` uses all.
    random_state : int, RandomState instance or None, default=None
        Draws the subsample.
    **kernel_params
        ``gamma`` (default ``"scale"``, resolved on the rows used, as the estimators
        do), ``bias`` and ``n_jobs`` of :func:`rfkernels.kernels.kernel_matrix`.

    Returns
    -------
    Eigenstructure
        ``eigenvalues``, ``target_coeffs``, fitted ``alpha`` and ``beta``, and
        ``.risk(n, ridge, noise=0, k=None)``.

    Notes
    -----
    With ``K = U diag(mu) U^T`` the ``M x M`` kernel matrix of the rows used,
    ``lambda_i = mu_i / M`` and ``v_i = u_i^T y / sqrt(M)``: the eigenstructure of the
    empirical distribution of those rows, whose eigenfunctions ``phi_i = sqrt(M) u_i``
    meet the module's convention ``E[phi_i phi_j] = delta_ij`` (see the module
    docstring) and give ``v_i = E[y phi_i]``; in float64, sorted by decreasing
    eigenvalue. Rounding can make the smallest eigenvalues of a nearly singular ``K``
    slightly negative; they are clipped to 0. ``U`` is a full orthonormal basis, so
    ``sum_i v_i^2 = mean(y^2)`` exactly (summed over outputs).

    ``alpha`` is :func:`fit_powerlaw` of the eigenvalues over the 1-based indices
    ``10 <= i <= M / 4`` (so at least 48 rows are needed): the head is not yet a power
    law and the tail is distorted by the finite sample. ``beta`` comes from the same
    fit of the tail sums ``sum_{j >= i} v_j^2 ~ i^(1 - beta)``, much less noisy than
    the ``v_i^2`` themselves (each a single noisy projection). Both are rough; see
    :func:`fit_powerlaw` for the estimators the paper prefers.

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels.theory import estimate_eigenstructure
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = np.sin(X[:, 0])
    >>> eig = estimate_eigenstructure(X, y, gamma=0.5)
    >>> parseval = np.isclose((eig.target_coeffs**2).sum(), (y**2).mean())
    >>> print(f"{eig.eigenvalues.sum():.6f}", parseval)
    1.000000 True
    """
    inputs, labels = check_X_y(X, y, dtype=np.float64, multi_output=True, y_numeric=True)
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {sorted(KERNELS)}; got {kernel!r}")
    if n is not None:
        if not (_is_integer(n) and 1 <= n <= len(inputs)):
            raise ValueError(
                f"n must be an integer in [1, {len(inputs)}] (rows of X) or None; got {n}"
            )
        rows = check_random_state(random_state).choice(len(inputs), size=n, replace=False)
        inputs, labels = inputs[rows], labels[rows]
    size = len(inputs)
    if size < _MIN_ROWS:
        raise ValueError(
            f"estimate_eigenstructure needs at least {_MIN_ROWS} rows to fit the exponents over "
            f"the indices 10 <= i <= M / 4; got M = {size}"
        )
    params = dict(kernel_params)
    gamma = resolve_gamma(kernel, params.pop("gamma", "scale"), inputs)
    K = kernel_matrix(inputs, kernel=kernel, gamma=gamma, **params)
    mu, U = np.linalg.eigh(K)
    eigenvalues = np.clip(mu[::-1], 0.0, None) / size
    target_coeffs = U[:, ::-1].T @ labels / np.sqrt(size)
    weights = target_coeffs**2 if labels.ndim == 1 else (target_coeffs**2).sum(axis=1)
    tail = np.cumsum(weights[::-1])[::-1]
    alpha, _ = fit_powerlaw(eigenvalues, 10, size // 4)
    tail_exponent, _ = fit_powerlaw(tail, 10, size // 4)
    return Eigenstructure(eigenvalues, target_coeffs, alpha, 1.0 + tail_exponent)


# --------------------------------------------------------------------------- power laws


@dataclass(frozen=True)
class PowerLawTask:
    """A synthetic task with ``lambda_i = scale i^-alpha`` and ``v_i = i^(-beta/2)``.

    Made by :func:`powerlaw_task`.

    Attributes
    ----------
    eigenvalues : ndarray of shape (n_modes,)
        ``scale * i^-alpha`` for ``i = 1 .. n_modes``.
    target_coeffs : ndarray of shape (n_modes,)
        ``i^(-beta / 2)``, so that ``v_i^2 = i^-beta``.
    alpha, beta : float
        The exponents.
    noise : float
        Label noise variance ``sigma^2``.
    """

    eigenvalues: np.ndarray
    target_coeffs: np.ndarray
    alpha: float
    beta: float
    noise: float

    def sample(
        self, n_samples: int, random_state: int | np.random.RandomState | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(X, y)`` from the linear Gaussian design with this eigenstructure.

        ``x ~ N(0, diag(eigenvalues))`` in ``n_modes`` dimensions, and
        ``y = sum_i v_i x_i / sqrt(lambda_i) + eps`` with ``eps ~ N(0, noise)``. The
        linear kernel ``K(x, x') = x . x'`` has, under this distribution, the
        eigenvalues ``lambda_i`` and the orthonormal eigenfunctions
        ``phi_i(x) = x_i / sqrt(lambda_i)``, so ``f*(x) = sum_i v_i phi_i(x)``: ridge
        regression on ``X`` (or kernel ridge with ``K = X X^T``) has the risks of
        :meth:`risk`. Random features of this kernel are ``X W^T / sqrt(k)``
        with a standard Gaussian ``W`` of shape ``(k, n_modes)``.

        Parameters
        ----------
        n_samples : int
            Number of rows.
        random_state : int, RandomState instance or None, default=None
            The random draw.

        Returns
        -------
        X : ndarray of shape (n_samples, n_modes)
            Inputs.
        y : ndarray of shape (n_samples,)
            Noisy labels.

        Examples
        --------
        >>> from rfkernels.theory import powerlaw_task
        >>> X, y = powerlaw_task(1.5, 1.25, n_modes=50).sample(4, random_state=0)
        >>> X.shape, y.shape
        ((4, 50), (4,))
        """
        rng = check_random_state(random_state)
        Z = rng.standard_normal((n_samples, self.eigenvalues.size))
        y = Z @ self.target_coeffs + np.sqrt(self.noise) * rng.standard_normal(n_samples)
        return Z * np.sqrt(self.eigenvalues), y

    def risk(self, n: ArrayLike, ridge: ArrayLike, k: ArrayLike | None = None) -> KRRRisk | RFRisk:
        """:func:`krr_risk` (``k=None``) or :func:`rf_risk` for this task, with its noise.

        Parameters
        ----------
        n, ridge : array-like of float
            Training samples and ridges, broadcast together.
        k : array-like of float, default=None
            Numbers of random features; ``None`` for kernel ridge regression.

        Returns
        -------
        KRRRisk or RFRisk
            The predicted risks.
        """
        return _predict(self.eigenvalues, self.target_coeffs, n, ridge, self.noise, k)


def powerlaw_task(
    alpha: float, beta: float, n_modes: int = 1000, noise: float = 0.0, scale: float = 1.0
) -> PowerLawTask:
    """The power-law eigenstructure ``lambda_i = scale i^-alpha``, ``v_i^2 = i^-beta``.

    Parameters
    ----------
    alpha : float
        Spectral decay exponent, ``> 0`` (the closed forms need ``> 1``).
    beta : float
        Target decay exponent, finite (the closed forms need ``1 < beta < 2 alpha + 1``).
    n_modes : int, default=1000
        Number of modes kept, ``i = 1 .. n_modes``.
    noise : float, default=0.0
        Label noise variance ``sigma^2``.
    scale : float, default=1.0
        Multiplies every eigenvalue (the top eigenvalue), ``> 0``.

    Returns
    -------
    PowerLawTask
        The eigenstructure, with ``.sample`` and ``.risk``.

    Examples
    --------
    >>> from rfkernels.theory import powerlaw_task
    >>> task = powerlaw_task(2.0, 1.5, n_modes=4, noise=0.1)
    >>> task.eigenvalues.round(4), (task.target_coeffs**2).round(4)
    (array([1.    , 0.25  , 0.1111, 0.0625]), array([1.    , 0.3536, 0.1925, 0.125 ]))
    >>> print(f"{float(task.risk(n=2, ridge=0.0).test):.4f}")
    0.8663
    """
    _check_values(alpha, "alpha", low=0.0, strict=True, meaning="spectral decay exponent")
    _check_values(beta, "beta", meaning="target decay exponent")
    _check_values(scale, "scale", low=0.0, strict=True, meaning="top eigenvalue")
    noise = _check_noise(noise)
    if not (_is_integer(n_modes) and n_modes >= 1):
        raise ValueError(f"n_modes must be an integer >= 1; got {n_modes!r}")
    i = np.arange(1, n_modes + 1, dtype=np.float64)
    return PowerLawTask(scale * i**-alpha, i ** (-beta / 2), float(alpha), float(beta), noise)


def _check_exponents(alpha: ArrayLike, beta: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``alpha > 1`` and ``1 < beta < 2 alpha + 1``, where the power-law closed forms hold."""
    alpha = np.asarray(alpha, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    if not np.all(np.isfinite(alpha) & (alpha > 1)):
        raise ValueError("alpha must be finite and > 1 for the power-law closed forms")
    if not np.all((beta > 1) & (beta < 2 * alpha + 1)):
        raise ValueError("beta must satisfy 1 < beta < 2 alpha + 1 for the power-law closed forms")
    return alpha, beta


def _check_noise_rel(noise_rel: ArrayLike) -> np.ndarray:
    return _check_values(
        noise_rel, "noise_rel", low=0.0, meaning="sigma^2 over the ridgeless noiseless risk"
    )


def _optimal_s(alpha: np.ndarray, beta: np.ndarray, noise_rel: np.ndarray) -> np.ndarray:
    """``s*``: the root in ``[0, 1)`` of the increasing ``h(s)``, or 0 if ``h(0) >= 0``."""
    alpha, beta, noise_rel = np.broadcast_arrays(alpha, beta, noise_rel)

    def h(s: np.ndarray) -> np.ndarray:
        return (beta - 1) * (1 + (alpha - 1) * s) - (alpha - 1) * (1 - s) * (
            1 + alpha * noise_rel * (1 - s) ** (beta - 1)
        )

    s = _bisect(lambda s: h(s) < 0, np.zeros(alpha.shape), np.ones(alpha.shape))
    return np.where(h(np.zeros(alpha.shape)) >= 0, 0.0, s)


def powerlaw_test_risk(
    alpha: ArrayLike, beta: ArrayLike, n: ArrayLike, s: ArrayLike, noise_rel: ArrayLike = 0.0
) -> np.ndarray:
    """Continuum test risk of kernel ridge on a power-law task, as a function of ``s``.

    Parameters
    ----------
    alpha, beta : array-like of float
        Exponents of ``lambda_i = i^-alpha`` and ``v_i^2 = i^-beta``, with
        ``alpha > 1`` and ``1 < beta < 2 alpha + 1``.
    n : array-like of float
        Numbers of training samples, ``> 0``.
    s : array-like of float
        ``s = sqrt(E_tr / E_te) = 1 - sum_i L_i / n`` in ``[0, 1)``, which increases
        with the ridge (0 is ridgeless).
    noise_rel : array-like of float, default=0.0
        ``sigma^2 / E^(0)``: the noise variance relative to the ridgeless, noiseless
        risk ``E^(0)`` (which itself is ``powerlaw_test_risk(alpha, beta, n, 0)``).

    Returns
    -------
    ndarray
        ``E_te(s)``, of the broadcast shape of the inputs.

    Notes
    -----
    ``E_te(s) = E^(0) [(1 - s)^(1 - beta) + alpha noise_rel] / (1 + (alpha - 1) s)`` with
    ``E^(0) = (alpha - beta + 1) pi / (alpha sin(pi (beta - 1) / alpha))
    [pi / (alpha sin(pi / alpha))]^(beta - 1) n^-(beta - 1)``, the large-``n``
    continuum limit of :func:`krr_risk` (the power-law formulas in the Notes of the
    module docstring, after Simon et al., ICLR 2024, arXiv:2311.14646). It does not
    depend on a common scale of the eigenvalues.

    Examples
    --------
    >>> from rfkernels.theory import powerlaw_test_risk
    >>> powerlaw_test_risk(2.0, 1.5, n=1000, s=[0.0, 1 / 3]).round(4)
    array([0.1321, 0.1213])
    """
    alpha, beta = _check_exponents(alpha, beta)
    n = _check_values(n, "n", low=0.0, strict=True, meaning="training samples")
    s = np.asarray(s, dtype=np.float64)
    if not np.all((s >= 0) & (s < 1)):
        raise ValueError("s = sqrt(E_tr / E_te) must be in [0, 1)")
    noise_rel = _check_noise_rel(noise_rel)
    ridgeless = (
        (alpha - beta + 1)
        * np.pi
        / (alpha * np.sin(np.pi * (beta - 1) / alpha))
        * (np.pi / (alpha * np.sin(np.pi / alpha))) ** (beta - 1)
        * n ** (1 - beta)
    )
    return ridgeless * ((1 - s) ** (1 - beta) + alpha * noise_rel) / (1 + (alpha - 1) * s)


def powerlaw_fitting_ratio(
    alpha: ArrayLike, beta: ArrayLike, noise_rel: ArrayLike = 0.0
) -> np.ndarray:
    """Train/test risk ratio ``R* = s*^2`` at the optimal ridge, on a power-law task.

    Parameters
    ----------
    alpha, beta : array-like of float
        Exponents, ``alpha > 1`` and ``1 < beta < 2 alpha + 1``.
    noise_rel : array-like of float, default=0.0
        Noise variance over the ridgeless noiseless risk (see :func:`powerlaw_test_risk`).

    Returns
    -------
    ndarray
        ``R*`` in ``[0, 1)``, of the broadcast shape of the inputs.

    Notes
    -----
    ``s*`` minimizes :func:`powerlaw_test_risk`: the root of
    ``(beta - 1)(1 + (alpha - 1) s) - (alpha - 1)(1 - s)[1 + alpha noise_rel (1 - s)^(beta - 1)]``,
    increasing in ``s``, or 0 when it is ``>= 0`` at ``s = 0``; found by vectorized
    bisection on ``[0, 1]``. Without noise ``s* = max(0, (alpha - beta) / (beta (alpha - 1)))``.
    ``R* = 0`` means the optimal ridge is zero: overfitting is obligatory.

    Examples
    --------
    >>> from rfkernels.theory import powerlaw_fitting_ratio
    >>> powerlaw_fitting_ratio(2.0, 1.5).round(6)  # 1/9
    np.float64(0.111111)
    >>> powerlaw_fitting_ratio(1.12, 1.36, noise_rel=[0.0, 5.0]).round(3)
    array([0.   , 0.187])
    """
    alpha, beta = _check_exponents(alpha, beta)
    return _optimal_s(alpha, beta, _check_noise_rel(noise_rel)) ** 2


def powerlaw_optimal_ridge(
    alpha: ArrayLike,
    beta: ArrayLike,
    n: ArrayLike,
    noise_rel: ArrayLike = 0.0,
    scale: ArrayLike = 1.0,
) -> np.ndarray:
    """Optimal ridge ``delta*`` of kernel ridge regression on a power-law task.

    Parameters
    ----------
    alpha, beta : array-like of float
        Exponents, ``alpha > 1`` and ``1 < beta < 2 alpha + 1``.
    n : array-like of float
        Numbers of training samples, ``> 0``.
    noise_rel : array-like of float, default=0.0
        Noise variance over the ridgeless noiseless risk (see :func:`powerlaw_test_risk`).
    scale : array-like of float, default=1.0
        The eigenvalues are ``scale * i^-alpha``; the ridge scales with them.

    Returns
    -------
    ndarray
        ``delta*`` (scikit-learn's ``alpha``), of the broadcast shape of the inputs.

    Notes
    -----
    ``delta* = scale n kappa(s*) s*`` with
    ``kappa(s) = [pi / (alpha sin(pi / alpha) n (1 - s))]^alpha`` and ``s*`` as in
    :func:`powerlaw_fitting_ratio` (continuum approximation, large ``n``).

    Examples
    --------
    >>> from rfkernels.theory import powerlaw_optimal_ridge
    >>> print(f"{float(powerlaw_optimal_ridge(2.0, 1.5, n=1000)):.3e}")
    1.851e-03
    """
    alpha, beta = _check_exponents(alpha, beta)
    n = _check_values(n, "n", low=0.0, strict=True, meaning="training samples")
    scale = _check_values(scale, "scale", low=0.0, strict=True, meaning="top eigenvalue")
    s = _optimal_s(alpha, beta, _check_noise_rel(noise_rel))
    kappa = (np.pi / (alpha * np.sin(np.pi / alpha) * n * (1 - s))) ** alpha
    return scale * n * kappa * s


def powerlaw_zero_ridge_optimal(
    alpha: ArrayLike, beta: ArrayLike, noise_rel: ArrayLike = 0.0
) -> np.ndarray:
    """Whether zero ridge is optimal on a power-law task ("overfitting is obligatory").

    Parameters
    ----------
    alpha, beta : array-like of float
        Exponents, ``alpha > 1`` and ``1 < beta < 2 alpha + 1``.
    noise_rel : array-like of float, default=0.0
        Noise variance over the ridgeless noiseless risk (see :func:`powerlaw_test_risk`).

    Returns
    -------
    ndarray of bool
        ``noise_rel <= (beta - alpha) / (alpha (alpha - 1))``, of the broadcast shape.

    Notes
    -----
    Equivalent to ``powerlaw_fitting_ratio(alpha, beta, noise_rel) == 0``; it needs
    ``beta >= alpha`` and little noise.

    Examples
    --------
    >>> from rfkernels.theory import powerlaw_zero_ridge_optimal
    >>> powerlaw_zero_ridge_optimal(1.12, 1.36, noise_rel=[0.0, 1.0, 5.0])
    array([ True,  True, False])
    """
    alpha, beta = _check_exponents(alpha, beta)
    return _check_noise_rel(noise_rel) <= (beta - alpha) / (alpha * (alpha - 1))
