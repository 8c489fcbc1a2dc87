"""Ridge paths: one eigendecomposition, every ridge of the grid.

A *ridge path* is the family of ridge solutions ``alpha -> (coef, intercept)`` with
their training and cross-validation errors, all from one symmetric
eigendecomposition: :class:`PrimalPath` decomposes the ``D x D`` Gram of random
features (``_core.PrimalRidgePath``), :class:`DualPath` an ``n x n`` kernel matrix
(``_core.DualRidgePath``: exact kernels, or ``Z Z^T`` when ``n < D``). Both give
``coef``, ``train_errors``, ``gcv_errors``, ``loo_errors`` and ``kfold_errors``, so
:func:`solve_path` serves every estimator and sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import check_cv

from .. import _core
from .features import FeatureMap
from .passes import ArrayRows, Batch, RowSource, gram_statistics, leave_one_out_errors
from .progress import Progress
from .selection import alpha_grid

__all__ = [
    "DualPath",
    "PathSolution",
    "PrimalPath",
    "batched_primal_path",
    "cv_splits",
    "is_complement",
    "primal_path",
    "solve_path",
]

Splits = Sequence[tuple[np.ndarray, np.ndarray]]


def cv_splits(cv, X, labels=None, *, classifier: bool = False) -> list[tuple]:
    """The ``(train, test)`` index pairs of a cross-validation ``cv``; none for LOO and GCV.

    ``cv`` is an int (k-fold; stratified for a ``classifier``), a scikit-learn
    splitter (its ``split`` gets ``X`` and ``labels``) or an iterable of pairs.
    """
    if cv is None or isinstance(cv, str):
        return []
    return list(check_cv(cv, labels, classifier=classifier).split(X, labels))


def is_complement(train: np.ndarray, test: np.ndarray, n: int) -> bool:
    """Whether ``train`` and ``test`` split ``range(n)`` into two disjoint parts."""
    return len(train) + len(test) == n and np.union1d(train, test).size == n


class _Path:
    """What both paths share: the core path ``core`` and its spectral errors.

    Parameters
    ----------
    fit_intercept : bool
        Fit an unpenalized intercept (the decomposed matrix is centered).
    n_jobs : int or None
        Threads of the core.
    shift : ndarray of shape (n_targets,)
        What was subtracted from the targets; the intercepts add it back.
    """

    core: _core.PrimalRidgePath | _core.DualRidgePath

    @property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of the decomposed (centered, weighted) matrix, ascending."""
        return self.core.eigenvalues

    def train_errors(self, alphas: np.ndarray) -> np.ndarray:
        """Training mean squared errors, shape ``(n_alphas, n_targets)``."""
        return self.core.train_errors(list(alphas))

    def gcv_errors(self, alphas: np.ndarray) -> np.ndarray:
        """Generalized cross-validation errors, shape ``(n_alphas, n_targets)``."""
        return self.core.gcv_errors(list(alphas))


class PrimalPath(_Path):
    """The path of ``D`` random features from their Gram statistics.

    Parameters
    ----------
    statistics : _core.GramStatistics
        The statistics of the training rows (targets minus ``shift``).
    fit_intercept, n_jobs, shift
        As in ``_Path``.
    loo : callable, default=None
        ``loo(core_path, alphas)``: the mean squared leave-one-out errors, a second
        pass over the training rows (:func:`~rfkernels._engine.passes.leave_one_out_errors`).
    fold_statistics : callable, default=None
        ``fold_statistics(index)``: the statistics of the training rows ``index``, for
        k-fold errors.
    """

    def __init__(
        self,
        statistics: _core.GramStatistics,
        *,
        fit_intercept: bool,
        n_jobs: int | None,
        shift: np.ndarray,
        loo: Callable[[_core.PrimalRidgePath, np.ndarray], np.ndarray] | None = None,
        fold_statistics: Callable[[np.ndarray], _core.GramStatistics] | None = None,
    ) -> None:
        self.core = _core.PrimalRidgePath(statistics, fit_intercept=fit_intercept, n_jobs=n_jobs)
        self.statistics = statistics if fold_statistics is not None else None
        self.fit_intercept, self.n_jobs, self.shift = fit_intercept, n_jobs, shift
        self._loo, self._fold_statistics = loo, fold_statistics

    def coef(self, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients ``(D, n_targets)`` and intercepts ``(n_targets,)`` at ``alpha``."""
        coef, intercept = self.core.coef(alpha, n_jobs=self.n_jobs)
        return coef, intercept + self.shift

    def loo_errors(self, alphas: np.ndarray) -> np.ndarray:
        """Exact leave-one-out errors (a second pass over the rows)."""
        if self._loo is None:
            raise ValueError("leave-one-out errors need a second pass over the rows")
        return self._loo(self.core, alphas)

    def kfold_errors(self, alphas: np.ndarray, splits: Splits) -> np.ndarray:
        """Errors ``sum_test s_i r_i^2 / sum_test s_i`` of the folds, from their statistics.

        A fold's path decomposes the statistics of its training rows (the whole
        statistics minus the test rows' when they are complements); its held-out
        errors are quadratic forms in the test rows' statistics.
        """
        if self._fold_statistics is None or self.statistics is None:
            raise ValueError("k-fold errors need the rows of every fold in memory")
        n, n_targets = self.statistics.n_samples, self.statistics.n_targets
        errors, test_weight = np.zeros((len(alphas), n_targets)), 0.0
        for train, test in splits:
            test_stats = self._fold_statistics(test)
            if is_complement(train, test, n):
                train_stats = self.statistics - test_stats
            else:
                train_stats = self._fold_statistics(train)
            fold = _core.PrimalRidgePath(
                train_stats, fit_intercept=self.fit_intercept, n_jobs=self.n_jobs
            )
            solutions = [fold.coef(float(alpha), n_jobs=self.n_jobs) for alpha in alphas]
            coef = np.concatenate([c for c, _ in solutions], axis=1)
            intercept = np.concatenate([b for _, b in solutions])
            targets = np.tile(np.arange(n_targets), len(alphas))
            fold_errors = test_stats.heldout_errors(coef, intercept, targets, n_jobs=self.n_jobs)
            errors += fold_errors.reshape(len(alphas), n_targets)
            test_weight += test_stats.weight_sum
        return errors / test_weight


def primal_path(
    rows: ArrayRows,
    features: FeatureMap,
    *,
    shift: np.ndarray,
    fit_intercept: bool,
    kfold: bool,
    n_jobs: int | None,
    progress: Progress,
) -> PrimalPath:
    """The path of the Gram of the features of ``rows`` (pass 1; LOO is pass 2).

    With ``kfold``, the path also makes the statistics of any subset of the rows
    (a fold's) for :meth:`PrimalPath.kfold_errors`.
    """
    chunk_rows, n = rows.chunk_rows, len(rows)
    progress.phase(f"pass 1: features and Gram, {n} rows x {features.n_components} features")

    def statistics(index=None, phase="pass 1"):
        fold = (
            rows
            if index is None
            else ArrayRows(rows.X, rows.Y, rows.sample_weight, chunk_rows, index)
        )
        with progress.bar(phase, len(fold), "rows") as advance:
            return gram_statistics(
                fold,
                features,
                rows.Y.shape[1],
                shift=shift,
                chunk_rows=chunk_rows,
                n_jobs=n_jobs,
                advance=advance,
            )

    def loo(core, alphas):
        progress.phase("pass 2: exact leave-one-out residuals")
        with progress.bar("pass 2", n, "rows") as advance:
            return leave_one_out_errors(
                core,
                rows,
                features,
                alphas,
                n_samples=n,
                shift=shift,
                n_jobs=n_jobs,
                advance=advance,
            )

    stats = statistics()
    progress.phase("eigendecomposition of the Gram")
    return PrimalPath(
        stats,
        fit_intercept=fit_intercept,
        n_jobs=n_jobs,
        shift=shift,
        loo=loo,
        fold_statistics=(lambda index: statistics(index, "fold")) if kfold else None,
    )


def batched_primal_path(
    rows: RowSource,
    features: FeatureMap,
    *,
    shift: np.ndarray,
    fit_intercept: bool,
    chunk_rows: int,
    n_jobs: int | None,
    prepare: Callable[[Batch], Batch],
    progress: Progress,
) -> PrimalPath:
    """The path of the Gram of the features of a source read batch by batch.

    Pass 1 sums the Gram statistics of the targets minus ``shift`` (``prepare``
    validates each raw batch); the exact leave-one-out errors are pass 2. Without
    an intercept nothing takes the shift back, so the path gets the targets' own
    statistics.
    """
    progress.phase("pass 1: features and Gram, batch by batch")
    stats = gram_statistics(
        rows,
        features,
        len(shift),
        shift=shift,
        chunk_rows=chunk_rows,
        n_jobs=n_jobs,
        prepare=prepare,
    )
    n_samples = stats.n_samples
    if n_samples < 2:
        raise ValueError(f"a fit needs at least 2 rows; the batches hold {n_samples}")
    if stats.weight_sum <= 0:
        raise ValueError("every row of the batches has a weight of 0: there is nothing to fit")
    if not fit_intercept:
        stats, shift = stats.shift_targets(-shift), np.zeros_like(shift)

    def loo(core, alphas):
        progress.phase("pass 2: exact leave-one-out residuals, batch by batch")
        return leave_one_out_errors(
            core,
            rows,
            features,
            alphas,
            n_samples=n_samples,
            shift=shift,
            n_jobs=n_jobs,
            prepare=prepare,
        )

    progress.phase("eigendecomposition of the Gram")
    return PrimalPath(stats, fit_intercept=fit_intercept, n_jobs=n_jobs, shift=shift, loo=loo)


class DualPath(_Path):
    """The path on an ``n x n`` kernel matrix ``K`` (exact, or ``Z Z^T`` of features).

    Parameters
    ----------
    K : ndarray of shape (n_samples, n_samples)
        The kernel matrix of the training rows (lower triangle read).
    Y : ndarray of shape (n_samples, n_targets)
        The targets minus ``shift``.
    sample_weight : ndarray of shape (n_samples,) or None
        Weights of the rows.
    fit_intercept, n_jobs, shift
        As in ``_Path``.
    features : ndarray of shape (n_samples, D), default=None
        With ``K = Z Z^T``, the features ``Z``: coefficients are then those of the
        features, ``Z^T d``, instead of the dual ones ``d``.
    """

    def __init__(
        self,
        K: np.ndarray,
        Y: np.ndarray,
        sample_weight: np.ndarray | None,
        *,
        fit_intercept: bool,
        n_jobs: int | None,
        shift: np.ndarray,
        features: np.ndarray | None = None,
    ) -> None:
        self.K, self.Y, self.sample_weight = K, Y, sample_weight
        self.fit_intercept, self.n_jobs, self.shift = fit_intercept, n_jobs, shift
        self.features = features
        self.core = self._decompose(np.arange(len(Y)))

    def _decompose(self, rows: np.ndarray) -> _core.DualRidgePath:
        """The core path of the training rows ``rows``."""
        all_rows = len(rows) == len(self.Y)
        K = self.K if all_rows else self.K[np.ix_(rows, rows)]
        weights = self.sample_weight
        return _core.DualRidgePath(
            np.ascontiguousarray(K),
            np.ascontiguousarray(self.Y if all_rows else self.Y[rows]),
            None if weights is None else np.ascontiguousarray(weights[rows]),
            fit_intercept=self.fit_intercept,
            n_jobs=self.n_jobs,
        )

    def coef(self, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients at ``alpha``: dual ``(n, t)``, or of the features ``(D, t)``."""
        dual, intercept = self.core.coef(alpha, n_jobs=self.n_jobs)
        coef = dual if self.features is None else self.features.T @ dual
        return coef, intercept + self.shift

    def loo_errors(self, alphas: np.ndarray) -> np.ndarray:
        """Exact leave-one-out errors, shape ``(n_alphas, n_targets)``."""
        return self.core.loo_errors(list(alphas), n_jobs=self.n_jobs)

    def kfold_errors(self, alphas: np.ndarray, splits: Splits) -> np.ndarray:
        """Errors ``sum_test s_i (y_i - f_train(x_i))^2 / sum_test s_i`` of the folds.

        Each fold's training block of ``K`` is decomposed once for all alphas; its
        held-out predictions are ``K[test, train] @ dual_coef + intercept``.
        """
        weights = np.ones(len(self.Y)) if self.sample_weight is None else self.sample_weight
        errors, test_weight = np.zeros((len(alphas), self.Y.shape[1])), 0.0
        for train, test in splits:
            fold = self._decompose(train)
            cross_kernel = self.K[np.ix_(test, train)]
            for a, alpha in enumerate(alphas):
                dual, intercept = fold.coef(float(alpha), n_jobs=self.n_jobs)
                residuals = self.Y[test] - (cross_kernel @ dual + intercept)
                errors[a] += weights[test] @ np.square(residuals)
            test_weight += weights[test].sum()
        return errors / test_weight


@dataclass
class PathSolution:
    """The ridge path solved on a grid: what the selection of ``alpha`` needs.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
        The grid, ascending.
    errors : ndarray of shape (n_alphas, n_targets)
        Mean squared cross-validation error of every ridge and target.
    train : ndarray of shape (n_alphas, n_targets)
        Training mean squared error of every ridge and target.
    coef : callable
        ``coef(alpha) -> (coef, intercept)``, the solution at a ridge.
    """

    alphas: np.ndarray
    errors: np.ndarray
    train: np.ndarray
    coef: Callable[[float], tuple[np.ndarray, np.ndarray]]


def solve_path(path: PrimalPath | DualPath, alphas, cv, splits: Splits | None) -> PathSolution:
    """Cross-validation and training errors of every ridge of the grid ``alphas``.

    ``cv`` is None or ``"loo"`` (exact leave-one-out), ``"gcv"``, or anything else
    with ``splits`` the ``(train, test)`` index pairs of its folds.
    """
    grid = alpha_grid(alphas, path.eigenvalues)
    if splits:
        errors = path.kfold_errors(grid, splits)
    elif cv == "gcv":
        errors = path.gcv_errors(grid)
    else:
        errors = path.loo_errors(grid)
    return PathSolution(grid, errors, path.train_errors(grid), path.coef)
