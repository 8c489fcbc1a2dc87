"""Predicted risk of kernel (:func:`krr_risk`) and random-feature (:func:`rf_risk`) ridge."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._checks import _check_noise, _check_spectrum
from ._solver import _solve

__all__ = ["KRRRisk", "RFRisk", "krr_risk", "predicted_risk", "rf_risk"]


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
    ``E_tr = (1 - sum_i L_i / n)^2 E_te`` (see :mod:`rfkernels.theory`).

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
    The equations are in the Notes of :mod:`rfkernels.theory`. Eliminating ``kappa``
    leaves one equation, ``delta = gamma (n - z) (1 - z / k)``, whose right side is
    increasing in ``gamma`` above ``gamma_0``, where ``z = min(n, k)``. It is solved for all
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


def predicted_risk(
    eigenvalues: np.ndarray,
    target_coeffs: np.ndarray,
    n: ArrayLike,
    ridge: ArrayLike,
    noise: float,
    k: ArrayLike | None,
) -> KRRRisk | RFRisk:
    """:func:`krr_risk` (``k=None``) or :func:`rf_risk`, as the tasks' ``risk`` methods give."""
    if k is None:
        return krr_risk(eigenvalues, target_coeffs, n, ridge, noise)
    return rf_risk(eigenvalues, target_coeffs, n, k, ridge, noise)
