"""The grid of ridges, the choice of ``alpha`` and the fitted attributes it sets."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

__all__ = [
    "AUTO_ALPHA_DECADES",
    "MIN_ALPHA",
    "RIDGE_PATH_CONSTRAINTS",
    "alpha_grid",
    "apply_selection",
    "best_index",
    "check_alphas",
    "select_alpha",
    "shape_results",
]

#: ``alphas="auto"``: 0 and 23 ridges from 1e-10 to 10 times the Gram's top eigenvalue.
AUTO_ALPHA_DECADES = (-10.0, 1.0, 23)
#: The smallest positive ridge, float64's smallest normal number: the reciprocal of a
#: smaller (subnormal) one overflows, and a ridge path would solve to infinities.
MIN_ALPHA = float(np.finfo(np.float64).tiny)

#: The ``_parameter_constraints`` of the ridge path shared by the ridge estimators.
RIDGE_PATH_CONSTRAINTS: dict = {
    "alphas": [StrOptions({"auto"}), "array-like", Interval(Real, 0, None, closed="left")],
    "cv": [None, StrOptions({"loo", "gcv"}), "cv_object"],
    "fit_intercept": ["boolean"],
    "alpha_per_target": ["boolean"],
    "n_jobs": [Integral, None],
    "verbose": ["verbose"],
}


def auto_alphas(top_eigenvalue: float) -> np.ndarray:
    """The ``"auto"`` grid: 0, then a log grid from 1e-10 to 10 times ``top_eigenvalue``.

    The Gram's top eigenvalue sets the scale of the ridge (``alpha`` has the
    units of ``Z^T Z``); the grid reaches down to the near-ridgeless regime where
    the optimum often lies for real data, and up past the point where the fit
    is shrunk to its mean.
    """
    low, high, count = AUTO_ALPHA_DECADES
    scale = top_eigenvalue if top_eigenvalue > 0 else 1.0
    grid = scale * np.logspace(low, high, int(count))
    # Data of a tiny scale (weights ~1e-300) puts the lowest ridges below MIN_ALPHA.
    return np.concatenate([[0.0], grid[grid >= MIN_ALPHA]])


def check_alphas(alphas) -> np.ndarray:
    """``alphas`` (a number or a sequence) as a sorted 1-d float array of valid ridges."""
    values = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"alphas must be a number or a 1-d sequence, got shape {values.shape}")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"alphas must be finite and >= 0, got {values}")
    if np.any((values > 0) & (values < MIN_ALPHA)):
        raise ValueError(
            f"alphas must be 0 or at least {MIN_ALPHA:.4g} (the reciprocal of a smaller "
            f"ridge overflows float64), got {values}"
        )
    return np.sort(values)


def alpha_grid(alphas, eigenvalues: np.ndarray) -> np.ndarray:
    """The grid of a path: ``alphas`` checked, or ``"auto"`` scaled by its top eigenvalue."""
    if isinstance(alphas, str):
        return auto_alphas(float(eigenvalues[-1]) if len(eigenvalues) else 0.0)
    return check_alphas(alphas)


#: Cross-validation errors within this fraction of the largest finite error of the
#: grid are ties (rounding noise, e.g. among interpolating ridges); the largest
#: tied ridge wins, so equivalent fits (weights vs repeated rows) agree.
TIE_RTOL = 1e-10


def select_alpha(
    errors: np.ndarray, alphas: np.ndarray, alpha_per_target: bool
) -> tuple[float | np.ndarray, float | np.ndarray, np.ndarray]:
    """The ridge with the smallest cross-validation error.

    Parameters
    ----------
    errors : ndarray of shape (n_alphas, n_targets)
        Mean squared cross-validation error of every alpha and target.
    alphas : ndarray of shape (n_alphas,)
        The grid.
    alpha_per_target : bool
        Choose one alpha per target, or one for all (smallest mean error).

    Returns
    -------
    alpha : float or ndarray of shape (n_targets,)
        The chosen ridge(s). Errors within ``TIE_RTOL`` times the grid's largest
        finite error of the smallest one are ties, won by the largest ridge.
    best_score : float or ndarray of shape (n_targets,)
        Negative mean squared error at the chosen ridge(s), as scikit-learn's
        ``RidgeCV.best_score_``.
    index : ndarray of shape (n_targets,)
        Index of each target's ridge in ``alphas``.
    """
    n_targets = errors.shape[1]
    if alpha_per_target and n_targets > 1:
        index = np.array([best_index(errors[:, k], alphas) for k in range(n_targets)])
        return alphas[index], -errors[index, np.arange(n_targets)], index
    best = best_index(errors.mean(axis=1), alphas)
    return float(alphas[best]), -float(errors[best].mean()), np.full(n_targets, best)


def best_index(errors: np.ndarray, alphas: np.ndarray) -> int:
    """Index of the smallest error, ties (see ``TIE_RTOL``) to the largest alpha."""
    finite = errors[np.isfinite(errors)]
    if finite.size == 0:
        return int(np.argmax(alphas))
    tolerance = TIE_RTOL * np.abs(finite).max()
    tied = np.flatnonzero(errors <= finite.min() + tolerance)
    return int(tied[np.argmax(alphas[tied])])


def apply_selection(estimator, solution, y_was_1d: bool) -> tuple[np.ndarray, np.ndarray]:
    """Choose ``alpha`` and set the selection attributes of a fitted ``estimator``.

    Sets ``alphas_``, ``alpha_``, ``best_score_``, ``cv_results_`` and
    ``train_errors_`` from ``solution`` (a
    :class:`~rfkernels._engine.paths.PathSolution`). Returns the coefficients
    ``(p, n_targets)`` and intercepts ``(n_targets,)`` at each target's chosen alpha.
    """
    alphas = solution.alphas
    alpha, best_score, index = select_alpha(solution.errors, alphas, estimator.alpha_per_target)
    fits = {i: solution.coef(float(alphas[i])) for i in set(index.tolist())}
    coef = np.stack([fits[i][0][:, k] for k, i in enumerate(index)], axis=1)
    intercept = np.array([fits[i][1][k] for k, i in enumerate(index)])
    estimator.alphas_ = alphas
    estimator.alpha_ = alpha
    estimator.best_score_ = best_score
    estimator.cv_results_ = shape_results(solution.errors, y_was_1d)
    estimator.train_errors_ = shape_results(solution.train, y_was_1d)
    return coef, intercept


def shape_results(values: np.ndarray, y_was_1d: bool) -> np.ndarray:
    """``(n_alphas, n_targets)`` results as ``(n_alphas,)`` when ``y`` was 1-d."""
    return values[:, 0] if y_was_1d else values
