"""Power-law tasks (:func:`powerlaw_task`) and the continuum closed forms ``powerlaw_*``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state

from ._checks import _check_noise, _check_values, _is_integer
from ._solver import _bisect
from .risk import KRRRisk, RFRisk, predicted_risk

__all__ = [
    "PowerLawTask",
    "powerlaw_fitting_ratio",
    "powerlaw_optimal_ridge",
    "powerlaw_task",
    "powerlaw_test_risk",
    "powerlaw_zero_ridge_optimal",
]


@dataclass(frozen=True)
class PowerLawTask:
    """A synthetic task with ``lambda_i = scale i^-alpha`` and ``v_i = i^(-beta/2)``.

    Made by :func:`powerlaw_task`.

    Attributes
    ----------
    eigenvalues, target_coeffs : ndarray of shape (n_modes,)
        ``scale * i^-alpha`` and ``i^(-beta / 2)`` (so ``v_i^2 = i^-beta``), ``i = 1 .. n_modes``.
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

        As :meth:`Eigenstructure.risk <rfkernels.theory.Eigenstructure.risk>`: ``n``
        samples, ``ridge`` and ``k`` random features are broadcast together.
        """
        return predicted_risk(self.eigenvalues, self.target_coeffs, n, ridge, self.noise, k)


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
    continuum limit of :func:`krr_risk` (the power-law formulas in the Notes of
    :mod:`rfkernels.theory`, after Simon et al., ICLR 2024, arXiv:2311.14646). It does not
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
    alpha, beta, noise_rel : array-like of float
        As in :func:`powerlaw_fitting_ratio`.

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
