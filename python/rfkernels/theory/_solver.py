"""The self-consistent equations of :mod:`rfkernels.theory`, solved by vectorized bisection."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from ._checks import _check_values, _CheckedSpectrum

# Bisection stops when the bracket is this wide relative to max(1, |endpoints|): a few
# ulps, reached after about 50 + log2(initial width) halvings (at most about 61 for the
# widest log brackets float64 allows); _MAX_ITER is only a safety net.
_BISECT_RTOL = 8 * np.finfo(np.float64).eps
_MAX_ITER = 200
# Points are solved in chunks of at most this many (point, mode) pairs (8 MiB per array).
_CHUNK_ELEMENTS = 2**20


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
    spectrum: _CheckedSpectrum, n: ArrayLike, k: ArrayLike, ridge: ArrayLike, noise: float
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

    # With r = 1/k, a = n - z, b = 1 - z/k and e = b / (b + r w), the formulas in the Notes
    # of the rfkernels.theory docstring read E_0 = n / (a + e w) and
    # b_i = (1 - L_i)(1 - e L_i) (KRR: r = 0, e = 1); e is 1 where b + r w = 0, which
    # happens only when every L_i is 1, so b_i = 0 anyway.
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
