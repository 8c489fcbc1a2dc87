"""Eigenstructures measured on data: :func:`estimate_eigenstructure` and :func:`fit_powerlaw`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_X_y

from .._gamma import resolve_gamma
from .._kernels import KERNELS
from .._validation import finite_targets, naming, naming_X_y
from ..kernels import kernel_matrix
from ._checks import _as_real, _is_integer
from .risk import KRRRisk, RFRisk, predicted_risk

__all__ = ["Eigenstructure", "estimate_eigenstructure", "fit_powerlaw"]

#: Fewest rows :func:`estimate_eigenstructure` accepts: it fits the exponents over the
#: 1-based indices ``10 <= i <= M / 4``, at least 3 points.
MIN_EIGEN_ROWS = 48


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
        return predicted_risk(self.eigenvalues, self.target_coeffs, n, ridge, noise, k)


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
    values = _as_real(values, "values")
    if values.ndim != 1 or not np.all(np.isfinite(values)):
        raise ValueError(f"values must be a finite 1-D array; got shape {values.shape}")
    if values.size == 0:
        raise ValueError("values must hold at least one value; got an empty array")
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
    meet the convention ``E[phi_i phi_j] = delta_ij`` of :mod:`rfkernels.theory`
    and give ``v_i = E[y phi_i]``; in float64, sorted by decreasing
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
    with naming_X_y(lambda: check_array(X, dtype=np.float64)):
        inputs, labels = check_X_y(X, y, dtype=np.float64, multi_output=True, y_numeric=True)
    labels = finite_targets(labels)
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
    if size < MIN_EIGEN_ROWS:
        raise ValueError(
            f"estimate_eigenstructure needs at least {MIN_EIGEN_ROWS} rows to fit the exponents "
            f"over the indices 10 <= i <= M / 4; got M = {size}"
        )
    params = dict(kernel_params)
    gamma = resolve_gamma(kernel, params.pop("gamma", "scale"), inputs)
    K = kernel_matrix(inputs, kernel=kernel, gamma=gamma, **params)
    mu, U = np.linalg.eigh(K)
    eigenvalues = np.clip(mu[::-1], 0.0, None) / size
    target_coeffs = U[:, ::-1].T @ labels / np.sqrt(size)
    # The exponent of the tail does not depend on the scale of y: squares of the
    # coefficients relative to the largest neither overflow (y ~ 1e300) nor underflow.
    relative = target_coeffs / (np.max(np.abs(target_coeffs)) or 1.0)
    weights = relative**2 if labels.ndim == 1 else (relative**2).sum(axis=1)
    tail = np.cumsum(weights[::-1])[::-1]
    # Too few positive values to fit: a degenerate kernel matrix of X (such as that of
    # X ~ 1e-300, whose distances underflow), or a y with nothing in those modes.
    with naming("X"):
        alpha, _ = fit_powerlaw(eigenvalues, 10, size // 4)
    with naming("y"):
        tail_exponent, _ = fit_powerlaw(tail, 10, size // 4)
    return Eigenstructure(eigenvalues, target_coeffs, alpha, 1.0 + tail_exponent)
