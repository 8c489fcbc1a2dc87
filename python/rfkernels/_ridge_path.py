"""What the ridge estimators share: the alpha grid, the selection, progress, result shapes.

The engine behind every estimator is one symmetric eigendecomposition (the Rust
``PrimalRidgePath`` on the ``D x D`` Gram of the random features, or
``DualRidgePath`` on an ``n x n`` kernel matrix) from which the coefficients,
training errors, GCV and exact leave-one-out errors of a whole grid of ridges
follow without refactorizing.
"""

from __future__ import annotations

import sys
import time
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from . import _core

__all__ = [
    "AUTO_ALPHA_DECADES",
    "RIDGE_PATH_CONSTRAINTS",
    "Progress",
    "apply_selection",
    "auto_alphas",
    "check_alphas",
    "dual_kfold_errors",
    "is_complement",
    "select_alpha",
    "shape_results",
]

#: ``alphas="auto"``: 0 and 23 ridges from 1e-10 to 10 times the Gram's top eigenvalue.
AUTO_ALPHA_DECADES = (-10.0, 1.0, 23)

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
    return np.concatenate([[0.0], scale * np.logspace(low, high, int(count))])


def check_alphas(alphas) -> np.ndarray:
    """``alphas`` (a number or a sequence) as a sorted 1-d float array of valid ridges."""
    values = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"alphas must be a number or a 1-d sequence, got shape {values.shape}")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"alphas must be finite and >= 0, got {values}")
    return np.sort(values)


def is_complement(train: np.ndarray, test: np.ndarray, n: int) -> bool:
    """Whether ``train`` and ``test`` split ``range(n)`` into two disjoint parts."""
    return len(train) + len(test) == n and np.union1d(train, test).size == n


def dual_kfold_errors(
    kernel: np.ndarray,
    Y: np.ndarray,
    sample_weight: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    alphas: np.ndarray,
    fit_intercept: bool,
    n_jobs: int | None,
) -> np.ndarray:
    """Cross-validation errors ``sum_test s_i (y_i - f_train(x_i))^2 / sum_test s_i``.

    Each split's training block of ``kernel`` is decomposed once for all alphas;
    its held-out predictions are ``K[test, train] @ dual_coef + intercept``.
    """
    errors = np.zeros((len(alphas), Y.shape[1]))
    for train, test in splits:
        path = _core.DualRidgePath(
            np.ascontiguousarray(kernel[np.ix_(train, train)]),
            np.ascontiguousarray(Y[train]),
            np.ascontiguousarray(sample_weight[train]),
            fit_intercept=fit_intercept,
            n_jobs=n_jobs,
        )
        cross_kernel = kernel[np.ix_(test, train)]
        for a, alpha in enumerate(alphas):
            dual, intercept = path.dual_coef(float(alpha))
            residuals = Y[test] - (cross_kernel @ dual + intercept)
            errors[a] += sample_weight[test] @ np.square(residuals)
    return errors / sum(sample_weight[test].sum() for _, test in splits)


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
        index = np.array([_best_index(errors[:, k], alphas) for k in range(n_targets)])
        return alphas[index], -errors[index, np.arange(n_targets)], index
    best = _best_index(errors.mean(axis=1), alphas)
    return float(alphas[best]), -float(errors[best].mean()), np.full(n_targets, best)


def _best_index(errors: np.ndarray, alphas: np.ndarray) -> int:
    """Index of the smallest error, ties (see ``TIE_RTOL``) to the largest alpha."""
    finite = errors[np.isfinite(errors)]
    if finite.size == 0:
        return int(np.argmax(alphas))
    tolerance = TIE_RTOL * np.abs(finite).max()
    tied = np.flatnonzero(errors <= finite.min() + tolerance)
    return int(tied[np.argmax(alphas[tied])])


def apply_selection(estimator, coef_at, errors, train, alphas, y_was_1d: bool):
    """Choose ``alpha`` and set the selection attributes of a fitted ``estimator``.

    Sets ``alphas_``, ``alpha_``, ``best_score_``, ``cv_results_`` and
    ``train_errors_``; ``coef_at(alpha)`` gives ``(coef, intercept)`` of shapes
    ``(p, n_targets)`` and ``(n_targets,)`` from the path. Returns the coefficients
    and intercepts at each target's chosen alpha, with the same shapes.
    """
    alpha, best_score, index = select_alpha(errors, alphas, estimator.alpha_per_target)
    fits = {i: coef_at(float(alphas[i])) for i in set(index.tolist())}
    coef = np.stack([fits[i][0][:, k] for k, i in enumerate(index)], axis=1)
    intercept = np.array([fits[i][1][k] for k, i in enumerate(index)])
    estimator.alphas_ = alphas
    estimator.alpha_ = alpha
    estimator.best_score_ = best_score
    estimator.cv_results_ = shape_results(errors, y_was_1d)
    estimator.train_errors_ = shape_results(train, y_was_1d)
    return coef, intercept


def shape_results(values: np.ndarray, y_was_1d: bool) -> np.ndarray:
    """``(n_alphas, n_targets)`` results as ``(n_alphas,)`` when ``y`` was 1-d."""
    return values[:, 0] if y_was_1d else values


class Progress:
    """Progress lines for long fits (``verbose > 0``), with elapsed and estimated time.

    Parameters
    ----------
    name : str
        Prefix of every line (the estimator's class name).
    verbose : int
        0 prints nothing; 1 prints each phase; 2 and more also prints blocks.
    """

    def __init__(self, name: str, verbose: int) -> None:
        self.name = name
        self.verbose = int(verbose)
        self.start = time.perf_counter()

    def phase(self, message: str) -> None:
        """Announce a phase of the fit."""
        if self.verbose > 0:
            self._print(message)

    def block(self, phase: str, done: int, total: int, started: float) -> None:
        """Report ``done`` of ``total`` rows of ``phase``, begun at time ``started``."""
        if self.verbose > 1 and total > 0:
            elapsed = time.perf_counter() - started
            eta = elapsed * (total - done) / max(done, 1)
            self._print(f"{phase}: {done}/{total} rows, {elapsed:.1f} s, ~{eta:.1f} s left")

    def _print(self, message: str) -> None:
        elapsed = time.perf_counter() - self.start
        print(f"[{self.name}] {elapsed:7.1f} s  {message}", file=sys.stderr, flush=True)
