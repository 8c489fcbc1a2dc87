"""The engine side of the random-feature ridge estimators: fits, streams and predictions.

:class:`RandomFeatureRidgeBase` holds the parameters and the fit of
:class:`~rfkernels.RandomFeatureRidge` and
:class:`~rfkernels.RandomFeatureRidgeClassifier`, which only turn their targets into
an ``(n, n_targets)`` float64 array. A fit on arrays streams the features into the
Gram statistics (``n >= D``, primal) or forms ``Z Z^T`` (``n < D``, dual); a fit on
batches (memmaps, :class:`~rfkernels.RowBatches`, Dask arrays) makes the same passes
over its row source; :meth:`~RandomFeatureRidgeBase.partial_fit` adds batches to
streamed statistics and re-solves the path after each one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, MultiOutputMixin, _fit_context, is_classifier
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from . import _core
from ._engine.data import target_shift
from ._engine.features import FeatureArrays
from ._engine.passes import (
    CHUNKS_PER_BATCH,
    ArrayRows,
    default_chunk_rows,
    gram_statistics,
    new_statistics,
)
from ._engine.paths import (
    DualPath,
    PathSolution,
    PrimalPath,
    batched_primal_path,
    cv_splits,
    primal_path,
    solve_path,
)
from ._engine.progress import Progress
from ._engine.selection import RIDGE_PATH_CONSTRAINTS, apply_selection
from ._gamma import entry_moments, gamma_from_moments
from ._memory import check_fits_in_memory
from ._params import store_params
from ._targets import check_targets_like
from ._threads import resolve_n_jobs
from ._validation import validate_X
from .batches import as_batches, is_batched
from .distributed import is_dask_array, map_rows
from .random_features import RandomFeatures

__all__ = ["RandomFeatureRidgeBase"]

#: Multiply-adds per tile of the dual fit's ``Z Z^T`` (about 0.05 s on one core):
#: Python runs its signal handlers between tiles, so Ctrl-C stops the product.
KERNEL_TILE_MULTIPLY_ADDS = 2**31


@dataclass
class _Stream:
    """What ``partial_fit`` accumulates: statistics, the targets' shape, their shift."""

    statistics: _core.GramStatistics
    y_was_1d: bool
    shift: np.ndarray


class RandomFeatureRidgeBase(MultiOutputMixin, BaseEstimator):
    """The parameters and fits shared by the regressor and the classifier."""

    _parameter_constraints: ClassVar[dict] = {
        **{k: v for k, v in RandomFeatures._parameter_constraints.items() if k != "n_jobs"},
        **RIDGE_PATH_CONSTRAINTS,
        "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        kernel: str = "rbf",
        *,
        n_components: int = 1024,
        gamma: float | str = "scale",
        bias: float = 0.0,
        fourier: str = "cos",
        sampling: str = "iid",
        alphas="auto",
        cv: int | str | None = None,
        fit_intercept: bool = True,
        alpha_per_target: bool = False,
        random_state: int | np.random.RandomState | None = None,
        chunk_size: int | None = None,
        n_jobs: int | None = None,
        verbose: int = 0,
    ) -> None:
        store_params(self, locals())

    # ------------------------------------------------------------------------- fits

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the ridge path on random features and choose ``alpha``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in), numpy memmap or RowBatches
            Training data (float32 data gives float32 features). A memmap or a
            :class:`~rfkernels.RowBatches` is read in batches of rows, once per pass
            (two passes, three with ``gamma="scale"``, one more for a classifier's
            classes): the memory does not grow with the number of rows.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets; class labels (numbers or strings) for the classifier, which
            fits one-vs-all ridge paths. None with ``RowBatches``, whose batches
            carry them.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; a weight of 2 counts as a repeated row.

        Returns
        -------
        self : object
            The fitted model.
        """
        if is_batched(X):
            rows = as_batches(X, y, sample_weight, self._chunk_rows() * CHUNKS_PER_BATCH)
            self._before_batches(rows, X, y)
            return self._fit_batches(rows)
        X, Y, sample_weight, y_was_1d, labels = self._prepare_fit(X, y, sample_weight)
        self.__dict__.pop("_stream", None)
        progress = Progress(type(self).__name__, self.verbose)
        features = FeatureArrays.of(self._fit_features(X, sample_weight))
        shift = target_shift(Y, sample_weight) if self.fit_intercept else np.zeros(Y.shape[1])
        n_jobs = resolve_n_jobs(self.n_jobs)
        n, D = X.shape[0], self.n_components
        path: PrimalPath | DualPath
        # One BLAS thread: numpy's products here are small, and idle OpenBLAS
        # threads spin on the cores the Rust threads need.
        with threadpool_limits(limits=1, user_api="blas"):
            if n < D:
                progress.phase(f"dual solve: {n} samples < {D} features, kernel matrix Z Z^T")
                path = self._dual_path(X, Y, sample_weight, shift, n_jobs)
            else:
                rows = ArrayRows(X, Y, sample_weight, self._chunk_rows())
                path = self._primal_path(rows, features, shift, n_jobs, progress)
            splits = cv_splits(self.cv, X, labels, classifier=is_classifier(self))
            if splits:
                progress.phase(f"{len(splits)}-fold cross-validation")
            solution = solve_path(path, self.alphas, self.cv, splits)
            self._set_solution(solution, y_was_1d)
        progress.phase(f"done: alpha_ = {self.alpha_}, best score = {self.best_score_}")
        return self

    def _chunk_rows(self) -> int:
        """Rows per chunk of features: ``chunk_size``, or about 64 MiB of features."""
        if self.chunk_size is not None:
            return int(self.chunk_size)
        return default_chunk_rows(self.n_components)

    def _fit_features(self, X, sample_weight, gamma=None) -> RandomFeatures:
        """Draw the random features; set ``random_features_``.

        ``gamma`` overrides the parameter (a batched fit resolves ``"scale"`` over
        all batches); with ``gamma="scale"`` it comes from ``X``.
        """
        self.random_features_ = RandomFeatures(
            self.kernel,
            n_components=self.n_components,
            gamma=self.gamma if gamma is None else gamma,
            bias=self.bias,
            fourier=self.fourier,
            sampling=self.sampling,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        ).fit(X, sample_weight=sample_weight)
        return self.random_features_

    def _primal_path(self, rows: ArrayRows, features, shift, n_jobs, progress) -> PrimalPath:
        """The path of the Gram of the features of ``rows`` (pass 1; LOO is pass 2)."""
        return primal_path(
            rows,
            features,
            shift=shift,
            fit_intercept=self.fit_intercept,
            kfold=not (self.cv is None or isinstance(self.cv, str)),
            n_jobs=n_jobs,
            progress=progress,
        )

    def _dual_path(self, X, Y, sample_weight, shift, n_jobs) -> DualPath:
        """The path of the kernel matrix ``Z Z^T`` of the features (``n < D``)."""
        check_fits_in_memory((X.shape[0], self.n_components), np.float64, "the features Z")
        Z = self.random_features_.transform(X).astype(np.float64, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):  # the core reports overflow
            K = _features_kernel(Z)
        return DualPath(
            K,
            Y - shift,
            sample_weight,
            fit_intercept=self.fit_intercept,
            n_jobs=n_jobs,
            shift=shift,
            features=Z,
        )

    def _set_solution(self, solution: PathSolution, y_was_1d: bool) -> None:
        """Choose ``alpha``; set ``coef_``, ``intercept_`` and the selection results."""
        coef, intercept = apply_selection(self, solution, y_was_1d)
        self.coef_ = coef[:, 0] if y_was_1d else coef.T
        if self.fit_intercept:
            self.intercept_ = float(intercept[0]) if y_was_1d else intercept
        else:
            self.intercept_ = 0.0 if y_was_1d else np.zeros(coef.shape[1])

    # ------------------------------------------------------------ batches and streams

    def _check_streamed_cv(self, how: str) -> None:
        """Refuse a ``cv`` with folds in a fit that sees its rows batch by batch."""
        if not (self.cv is None or self.cv in ("loo", "gcv")):
            raise ValueError(f"{how}; cv={self.cv!r} needs every fold's rows at once")

    def _fit_batches(self, rows):
        """``fit`` on a source of row batches, reading them once per pass.

        ``rows`` is a :class:`~rfkernels._engine.passes.RowSource`: a pass for
        ``gamma="scale"`` (only then), one for the Gram statistics and, unless
        ``cv="gcv"``, one for the exact leave-one-out residuals of every alpha.
        """
        self._check_streamed_cv("a fit on batches of rows chooses alpha by leave-one-out or GCV")
        for name in ("_stream", "random_features_", "n_features_in_", "feature_names_in_"):
            self.__dict__.pop(name, None)
        progress = Progress(type(self).__name__, self.verbose)
        gamma = None
        if isinstance(self.gamma, str):
            progress.phase("pass 0: the scale of the data for gamma='scale'")
            gamma = gamma_from_moments(self.kernel, *entry_moments(rows))
        X, Y, sample_weight, y_was_1d = self._prepare(*rows.head(), reset=True)
        features = FeatureArrays.of(self._fit_features(X, sample_weight, gamma))
        shift = target_shift(Y, sample_weight)
        del X, sample_weight  # the first batch: not held through the passes
        with threadpool_limits(limits=1, user_api="blas"):
            path = batched_primal_path(
                rows,
                features,
                shift=shift,
                fit_intercept=self.fit_intercept,
                chunk_rows=self._chunk_rows(),
                n_jobs=resolve_n_jobs(self.n_jobs),
                prepare=self._batch_preparer(Y.shape[1], y_was_1d),
                progress=progress,
            )
            self._set_solution(solve_path(path, self.alphas, self.cv, None), y_was_1d)
        progress.phase(f"done: alpha_ = {self.alpha_}, best score = {self.best_score_}")
        return self

    def _partial_fit(self, X, y, sample_weight) -> None:
        """Add a batch (an array, or a dask array's blocks) to the stream; solve it by GCV.

        The first call after construction draws the features (``gamma="scale"`` from
        this first batch); after ``fit`` the fitted features are kept and a new stream
        of statistics starts.
        """
        self._check_streamed_cv("partial_fit chooses alpha by GCV from the streamed statistics")
        self._check_feature_params()
        first = "random_features_" not in self.__dict__
        if is_dask_array(X):
            rows = as_batches(X, y, sample_weight)
            X, Y, sample_weight, y_was_1d = self._prepare(*rows.head(), reset=first)
        else:
            X, Y, sample_weight, y_was_1d = self._prepare(X, y, sample_weight, reset=first)
            rows = ArrayRows(X, Y, sample_weight, self._chunk_rows())
        stream = self.__dict__.get("_stream")
        if stream is None:
            if first:
                self._fit_features(X, sample_weight)
            stats = new_statistics(self.n_components, Y.shape[1])
            stream = _Stream(stats, y_was_1d, target_shift(Y, sample_weight))
        check_targets_like(Y, y_was_1d, stream.statistics.n_targets, stream.y_was_1d)
        prepare = (
            None if isinstance(rows, ArrayRows) else self._batch_preparer(Y.shape[1], y_was_1d)
        )
        n_jobs = resolve_n_jobs(self.n_jobs)
        with threadpool_limits(limits=1, user_api="blas"):
            added = gram_statistics(
                rows,
                FeatureArrays.of(self.random_features_),
                Y.shape[1],
                shift=stream.shift,
                chunk_rows=self._chunk_rows(),
                n_jobs=n_jobs,
                **({} if prepare is None else {"prepare": prepare}),
            )
            stream.statistics = stream.statistics + added
            self._stream = stream
            stats, shift = stream.statistics, stream.shift
            if not self.fit_intercept:  # nothing takes the shift back
                stats, shift = stats.shift_targets(-shift), np.zeros_like(shift)
            path = PrimalPath(stats, fit_intercept=self.fit_intercept, n_jobs=n_jobs, shift=shift)
            self._set_solution(solve_path(path, self.alphas, "gcv", None), stream.y_was_1d)

    def _check_feature_params(self) -> None:
        """Refuse a ``partial_fit`` after a change of the feature parameters.

        The features were drawn by ``fit`` or the first ``partial_fit``, and the stream
        keeps adding rows to them.
        """
        features = self.__dict__.get("random_features_")
        if features is None:
            return
        names = ["kernel", "n_components", "bias", "fourier", "sampling", "random_state"]
        drawn = {name: getattr(features, name) for name in names}
        if not isinstance(self.gamma, str):  # "scale" was resolved from the data
            names.append("gamma")
            drawn["gamma"] = features.gamma_
        for name in names:
            if getattr(self, name) != drawn[name]:
                raise ValueError(
                    f"{name} changed from {drawn[name]!r} to {getattr(self, name)!r} since the "
                    "features were drawn; partial_fit keeps adding rows to those features: "
                    "call fit, or start a new stream on a clone of the estimator"
                )

    # ---------------------------------------------------------------------- predict

    def _n_scores(self) -> int | None:
        """Scores per row: one per column of ``coef_``, or None for 1-d scores."""
        raise NotImplementedError

    def _scores(self, X) -> np.ndarray:
        """``Z(X) @ coef_.T + intercept_`` computed in Rust chunk by chunk, in ``X``'s dtype.

        1-d when :meth:`_n_scores` is None; a dask array, block by block, for a dask ``X``.
        """
        check_is_fitted(self)
        n_scores = self._n_scores()
        if is_dask_array(X):
            return map_rows(self._scores, X, n_scores)
        X = validate_X(self, X, reset=False)
        coef = np.atleast_2d(self.coef_)
        intercept = np.atleast_1d(np.asarray(self.intercept_, dtype=np.float64))
        scores = _core.predict_linear(
            X,
            coef=np.ascontiguousarray(coef.T, dtype=np.float64),
            intercept=np.ascontiguousarray(np.broadcast_to(intercept, (coef.shape[0],))),
            n_jobs=resolve_n_jobs(self.n_jobs),
            **FeatureArrays.of(self.random_features_).core(X.dtype),
        )
        scores = scores.astype(X.dtype, copy=False)
        return scores[:, 0] if n_scores is None else scores


def _features_kernel(Z: np.ndarray) -> np.ndarray:
    """``Z Z^T``, exactly symmetric, in square tiles of the lower triangle, mirrored.

    One product ``Z @ Z.T`` cannot be interrupted (numpy polls no signals), and at
    ``n = 3000, D = 8192`` it takes 1.4 s on one core; between tiles of
    :data:`KERNEL_TILE_MULTIPLY_ADDS` Python handles Ctrl-C. The tiles are as fast
    as the single product (within 10%) and give its values (to rounding).
    """
    n, width = Z.shape
    side = max(64, math.isqrt(KERNEL_TILE_MULTIPLY_ADDS // max(width, 1)))
    K = np.empty((n, n))
    for start in range(0, n, side):
        rows = slice(start, min(start + side, n))
        for first in range(0, start + 1, side):
            columns = slice(first, min(first + side, n))
            tile = Z[rows] @ Z[columns].T
            if first == start:  # a diagonal tile: its lower triangle, mirrored
                tile = np.tril(tile) + np.tril(tile, -1).T
            K[rows, columns] = tile
            K[columns, rows] = tile.T
    return K
