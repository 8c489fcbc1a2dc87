"""Random-feature ridge regression and classification with the whole ridge path.

One streaming pass computes the random features chunk by chunk and accumulates
their Gram ``Z^T Z`` (never the ``n x D`` matrix ``Z``); one eigendecomposition
then gives the coefficients, training errors, GCV and exact leave-one-out errors
of every ridge in the grid. The leave-one-out errors need per-row leverages, so
the primal fit makes a second streaming pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MultiOutputMixin,
    RegressorMixin,
    _fit_context,
    is_classifier,
)
from sklearn.model_selection import check_cv
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from . import _core
from ._kernels import gamma_from_moments
from ._ridge_path import (
    RIDGE_PATH_CONSTRAINTS,
    Progress,
    apply_selection,
    auto_alphas,
    check_alphas,
    dual_kfold_errors,
    is_complement,
)
from ._validation import (
    check_fits_in_memory,
    check_sample_weight,
    is_dask_array,
    resolve_n_jobs,
)
from .batches import as_batches, entry_moments, is_batched
from .distributed import DaskScoreMixin, map_rows
from .random_features import RandomFeatures

__all__ = ["RandomFeatureRidge", "RandomFeatureRidgeClassifier"]

#: Bytes of float64 features the Rust core holds per chunk (rows = this / (8 D)).
CHUNK_BYTES = 64 * 2**20
#: Chunks per block of rows handed to the core at once (progress is per block).
CHUNKS_PER_BLOCK = 8


def unit_weights_as_none(sample_weight: np.ndarray) -> np.ndarray | None:
    """``None`` when every weight is 1, so the core skips weighting the rows."""
    return None if np.all(sample_weight == 1.0) else sample_weight


def default_chunk_rows(n_components: int) -> int:
    """Rows per chunk of ``n_components`` float64 features: about ``CHUNK_BYTES``."""
    return int(min(65536, max(256, CHUNK_BYTES // (8 * n_components))))


def row_blocks(n: int, chunk_rows: int) -> list[slice]:
    """Blocks of ``CHUNKS_PER_BLOCK`` chunks of rows for the streaming passes."""
    step = chunk_rows * CHUNKS_PER_BLOCK
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]


def target_shift(Y: np.ndarray, sample_weight: np.ndarray) -> np.ndarray:
    """The weighted mean of each target, subtracted before the statistics are summed.

    The statistics are uncentered sums, centered at the end (``sum y^2 - S ybar^2``,
    ``Z^T y - S zbar ybar``): when the targets' mean dwarfs their spread (``y +
    1e8``) the two sides cancel catastrophically. Targets shifted by (nearly)
    their mean leave nothing to cancel; the intercept takes the shift back.
    """
    return np.average(Y, axis=0, weights=sample_weight)


def shifted_intercepts(coef_at: Callable, shift: np.ndarray) -> Callable:
    """``coef_at(alpha)`` of targets shifted by ``shift``, as the fit of the targets."""

    def coef(alpha: float) -> tuple[np.ndarray, np.ndarray]:
        coef, intercept = coef_at(alpha)
        return coef, intercept + shift

    return coef


def leave_one_out_errors(
    path: _core.PrimalRidgePath,
    features: RandomFeatures,
    X: np.ndarray,
    Y: np.ndarray,
    sample_weight: np.ndarray,
    alphas: np.ndarray,
    chunk_rows: int,
    n_jobs: int | None,
    n_components: int | None = None,
    on_block: Callable[[slice], None] | None = None,
) -> np.ndarray:
    """Mean squared leave-one-out errors of ``path``, shape ``(n_alphas, n_targets)``.

    The second streaming pass of a primal fit: the core regenerates the features of
    ``X`` block by block (those of the first ``n_components`` features of
    ``features`` when given: features are nested) and sums the squared residuals.
    ``on_block(block)`` is called after each block (progress reports).
    """
    frequencies = None
    if n_components is not None:
        frequencies = n_components // 2 if features._paired() else n_components
    weights, offsets = features._core_weights(X.dtype, frequencies)
    grid = [float(alpha) for alpha in alphas]
    errors = np.zeros((len(grid), Y.shape[1]))
    for block in row_blocks(len(X), chunk_rows):
        errors += path.loo_error_sums(
            X[block],
            Y[block],
            unit_weights_as_none(sample_weight[block]),
            weights,
            offsets,
            grid,
            kernel=features.kernel,
            paired=features._paired(),
            n_jobs=n_jobs,
        )
        if on_block is not None:
            on_block(block)
    return errors / len(X)


@dataclass
class GramStatistics:
    """Additive sufficient statistics of weighted least squares on random features.

    ``gram`` is ``sum_i s_i z_i z_i^T`` (lower triangle), ``cross`` is
    ``sum_i s_i z_i y_i^T``, then the weighted sums of the features, the targets
    and the squared targets, the weight total and the row count. Statistics of
    disjoint row sets add up (``+``, ``-``), which is what chunked, k-fold and
    (later) partial and distributed fits rely on.
    """

    gram: np.ndarray
    cross: np.ndarray
    feature_sums: np.ndarray
    target_sums: np.ndarray
    target_squares: np.ndarray
    weight_sum: float
    n_samples: int

    @classmethod
    def zeros(cls, n_components: int, n_targets: int) -> GramStatistics:
        """Empty statistics for ``n_components`` features and ``n_targets`` targets."""
        check_fits_in_memory((n_components, n_components), np.float64, "the Gram matrix")
        # Column-major, as faer's products write them fastest.
        return cls(
            gram=np.zeros((n_components, n_components), order="F"),
            cross=np.zeros((n_components, n_targets), order="F"),
            feature_sums=np.zeros(n_components),
            target_sums=np.zeros(n_targets),
            target_squares=np.zeros(n_targets),
            weight_sum=0.0,
            n_samples=0,
        )

    def add_rows(
        self, features: RandomFeatures, X, Y, sample_weight, chunk_rows: int, n_jobs
    ) -> None:
        """Add the rows ``X`` (targets ``Y``, weights ``sample_weight``) in place.

        The core computes the features ``chunk_rows`` rows at a time.
        """
        weights, offsets = features._core_weights(X.dtype)
        _core.accumulate_gram(
            X,
            Y,
            unit_weights_as_none(sample_weight),
            weights,
            offsets,
            self.gram,
            self.cross,
            self.feature_sums,
            kernel=features.kernel,
            paired=features._paired(),
            chunk_size=chunk_rows,
            n_jobs=n_jobs,
        )
        # einsum, not BLAS: OpenBLAS threads left spinning would slow the Rust threads.
        self.target_sums += np.einsum("i,ik->k", sample_weight, Y)
        self.target_squares += np.einsum("i,ik->k", sample_weight, np.square(Y))
        self.weight_sum += float(sample_weight.sum())
        self.n_samples += len(X)

    def __sub__(self, other: GramStatistics) -> GramStatistics:
        return GramStatistics(
            self.gram - other.gram,
            self.cross - other.cross,
            self.feature_sums - other.feature_sums,
            self.target_sums - other.target_sums,
            self.target_squares - other.target_squares,
            self.weight_sum - other.weight_sum,
            self.n_samples - other.n_samples,
        )

    def __add__(self, other: GramStatistics) -> GramStatistics:
        return self - GramStatistics(
            -other.gram,
            -other.cross,
            -other.feature_sums,
            -other.target_sums,
            -other.target_squares,
            -other.weight_sum,
            -other.n_samples,
        )

    def leading(self, n_components: int) -> GramStatistics:
        """The statistics of the ``n_components``-feature map, from those of a wider one.

        Features are nested (:class:`RandomFeatures`): the first ``k`` of ``D``
        features times ``sqrt(D / k)`` are the ``k``-feature map with the same
        ``random_state``, so ``G_k = (D/k) G[:k, :k]``, ``cross_k = sqrt(D/k)
        cross[:k]`` and ``feature_sums_k = sqrt(D/k) feature_sums[:k]``; the
        target sums are shared.
        """
        k, width = int(n_components), len(self.feature_sums)
        if not 1 <= k <= width:
            raise ValueError(f"n_components must be in [1, {width}], got {n_components}")
        scale = width / k
        return GramStatistics(
            np.asfortranarray(self.gram[:k, :k] * scale),
            np.asfortranarray(self.cross[:k] * np.sqrt(scale)),
            self.feature_sums[:k] * np.sqrt(scale),
            self.target_sums.copy(),
            self.target_squares.copy(),
            self.weight_sum,
            self.n_samples,
        )

    def shift_targets(self, delta: np.ndarray) -> GramStatistics:
        """The statistics of the targets ``y - delta``, from those of ``y``."""
        return GramStatistics(
            self.gram,
            self.cross - np.outer(self.feature_sums, delta),
            self.feature_sums,
            self.target_sums - self.weight_sum * delta,
            self.target_squares - 2 * delta * self.target_sums + self.weight_sum * delta**2,
            self.weight_sum,
            self.n_samples,
        )

    def path(self, fit_intercept: bool, n_jobs) -> _core.PrimalRidgePath:
        """The eigendecomposition of the (centered) Gram: the whole ridge path."""
        return _core.PrimalRidgePath(
            self.gram,
            self.cross,
            self.feature_sums,
            self.target_sums,
            self.target_squares,
            self.weight_sum,
            self.n_samples,
            fit_intercept=fit_intercept,
            n_jobs=n_jobs,
        )

    def heldout_errors(self, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """``sum_i s_i (y_i - z_i.coef - intercept)^2`` over these rows, per target.

        Expanded in the statistics: ``y^2 - 2 c.B - 2 b y + c^T G c + 2 b c.z + b^2 s``.
        """
        gram = np.tril(self.gram) + np.tril(self.gram, -1).T
        quadratic = np.einsum("jk,jl,lk->k", coef, gram, coef)
        return (
            self.target_squares
            - 2 * np.einsum("jk,jk->k", coef, self.cross)
            - 2 * intercept * self.target_sums
            + quadratic
            + 2 * intercept * (self.feature_sums @ coef)
            + intercept**2 * self.weight_sum
        )


#: Results of a fit that ``partial_fit`` leaves to be computed when first read.
_SOLVED = (
    "coef_",
    "intercept_",
    "alpha_",
    "alphas_",
    "best_score_",
    "cv_results_",
    "train_errors_",
)


@dataclass
class _Stream:
    """What ``partial_fit`` accumulates.

    The statistics, the shape of the targets and the shift subtracted from them
    (:func:`target_shift` of the first batch).
    """

    stats: GramStatistics
    y_was_1d: bool
    shift: np.ndarray

    def merge(self, other: _Stream) -> _Stream:
        """The stream of both sets of rows (statistics added; one shift)."""
        return _Stream(self.stats + other.stats, self.y_was_1d, self.shift)

    def check_targets(self, Y: np.ndarray, y_was_1d: bool) -> None:
        """Refuse rows whose targets differ in number or shape from the earlier rows'."""
        if (Y.shape[1], y_was_1d) != (self.stats.cross.shape[1], self.y_was_1d):
            raise ValueError(
                f"y has {Y.shape[1]} target(s) ({'1-d' if y_was_1d else '2-d'}) but the "
                f"earlier rows had {self.stats.cross.shape[1]} "
                f"({'1-d' if self.y_was_1d else '2-d'})"
            )


class _BaseRandomFeatureRidge(MultiOutputMixin, BaseEstimator):
    """The engine shared by the regressor and the classifier."""

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
        self.kernel = kernel
        self.n_components = n_components
        self.gamma = gamma
        self.bias = bias
        self.fourier = fourier
        self.sampling = sampling
        self.alphas = alphas
        self.cv = cv
        self.fit_intercept = fit_intercept
        self.alpha_per_target = alpha_per_target
        self.random_state = random_state
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _chunk_rows(self) -> int:
        """Rows per chunk of features: ``chunk_size``, or about 64 MiB of features."""
        if self.chunk_size is not None:
            return int(self.chunk_size)
        return default_chunk_rows(self.n_components)

    def _fit_features(self, X, sample_weight: np.ndarray, gamma=None) -> RandomFeatures:
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

    def _fit_path(self, X, Y: np.ndarray, sample_weight: np.ndarray, y_was_1d: bool):
        """Fit features and the ridge path to ``Y`` (``n x t`` float64); set the results."""
        self.__dict__.pop("_stream", None)
        n_jobs = resolve_n_jobs(self.n_jobs)
        progress = Progress(type(self).__name__, self.verbose)
        self._fit_features(X, sample_weight)
        coef_at, errors, train, alphas = self._solve(X, Y, sample_weight, n_jobs, progress)
        self._set_solution(coef_at, errors, train, alphas, y_was_1d)
        progress.phase(f"done: alpha_ = {self.alpha_}, best score = {self.best_score_}")

    def _set_solution(self, coef_at, errors, train, alphas, y_was_1d: bool) -> None:
        """Choose ``alpha`` from ``errors``; set ``coef_``, ``intercept_`` and the results."""
        chosen_coef, chosen_intercept = apply_selection(
            self, coef_at, errors, train, alphas, y_was_1d
        )
        self.coef_ = chosen_coef[:, 0] if y_was_1d else chosen_coef.T
        if self.fit_intercept:
            self.intercept_ = float(chosen_intercept[0]) if y_was_1d else chosen_intercept
        else:
            self.intercept_ = 0.0 if y_was_1d else np.zeros(chosen_coef.shape[1])

    def _partial_fit(self, X, y, sample_weight) -> None:
        """Add a batch to the stream: an array, or a dask array's blocks (one map-reduce)."""
        if is_dask_array(X):
            rows = as_batches(X, y, sample_weight)
            self._stream_rows(*self._batch(*rows.head()), rows=rows)
        else:
            self._stream_rows(*self._batch(X, y, sample_weight))

    def _stream_rows(
        self, X, Y: np.ndarray, sample_weight: np.ndarray, y_was_1d: bool, rows=None
    ) -> None:
        """Add validated rows to the statistics of ``partial_fit``; solved when read.

        With ``rows`` (a source of batches whose first batch is ``X``), all of its rows
        are added instead. The first call after construction draws the features
        (``gamma="scale"`` from this first batch); after ``fit`` the fitted features
        are kept and a new stream of statistics starts.
        """
        self._check_streamed_cv("partial_fit chooses alpha by GCV from the streamed statistics")
        self._check_feature_params()
        stream = self.__dict__.get("_stream")
        if stream is None:
            if "random_features_" not in self.__dict__:
                self._fit_features(X, sample_weight)
            stats = GramStatistics.zeros(self.n_components, Y.shape[1])
            stream = _Stream(stats, y_was_1d, target_shift(Y, sample_weight))
        stream.check_targets(Y, y_was_1d)
        for name in _SOLVED:
            self.__dict__.pop(name, None)
        if rows is None:
            self._add_rows(stream, X, Y, sample_weight, y_was_1d)
        else:
            stream = stream.merge(self._statistics_of(rows, y_was_1d, stream.shift))
        self._stream = stream

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

    def _add_rows(
        self, stream: _Stream, X, Y: np.ndarray, sample_weight: np.ndarray, y_was_1d: bool
    ) -> _Stream:
        """Add validated rows to ``stream``'s statistics, in place; return ``stream``."""
        stream.check_targets(Y, y_was_1d)
        Y = Y - stream.shift
        with threadpool_limits(limits=1, user_api="blas"):
            for block in self._blocks(len(X)):
                stream.stats.add_rows(
                    self.random_features_,
                    X[block],
                    Y[block],
                    sample_weight[block],
                    self._chunk_rows(),
                    resolve_n_jobs(self.n_jobs),
                )
        return stream

    def _statistics_of(self, rows, y_was_1d: bool, shift: np.ndarray) -> _Stream:
        """The statistics of every batch of ``rows``, targets minus ``shift``.

        One pass (a map-reduce for Dask).
        """

        def add_batch(stream: _Stream, batch) -> _Stream:
            if len(batch[0]) == 0:
                return stream
            return self._add_rows(stream, *self._batch(*batch))

        def new_stream() -> _Stream:
            stats = GramStatistics.zeros(self.n_components, len(shift))
            return _Stream(stats, y_was_1d, shift)

        return rows.reduce(new_stream, add_batch, _Stream.merge)

    def _check_streamed_cv(self, how: str) -> None:
        """Refuse a ``cv`` with folds in a fit that sees its rows batch by batch."""
        if not (self.cv is None or self.cv in ("loo", "gcv")):
            raise ValueError(f"{how}; cv={self.cv!r} needs every fold's rows at once")

    def _solve_stream(self, leave_one_out=None) -> None:
        """The ridge path of the streamed statistics; set the solution.

        Alpha is chosen by GCV, or by ``leave_one_out(path, alphas, shift)`` (mean
        squared errors of every alpha and target, for the targets minus ``shift``)
        when given.
        """
        stream = self._stream
        stats, shift = stream.stats, stream.shift
        if not self.fit_intercept:  # nothing takes the shift back: the targets' own statistics
            stats, shift = stats.shift_targets(-shift), np.zeros_like(shift)
        with threadpool_limits(limits=1, user_api="blas"):
            path = stats.path(self.fit_intercept, resolve_n_jobs(self.n_jobs))
            top = float(path.eigenvalues[-1]) if len(path.eigenvalues) else 0.0
            alphas = self._alphas(top)
            grid = list(alphas)
            if leave_one_out is None:
                errors = path.gcv_errors(grid)
            else:
                errors = leave_one_out(path, alphas, shift)
            train = path.train_errors(grid)
            coef_at = shifted_intercepts(path.coef, shift)
            self._set_solution(coef_at, errors, train, alphas, stream.y_was_1d)

    def _fit_batches(self, rows):
        """``fit`` on a source of row batches, reading them once per pass.

        ``rows`` is a :class:`RowBatches` (batches in turn) or a
        :class:`~rfkernels.distributed.DaskRows` (blocks in parallel tasks, summed
        by a tree reduction): each pass is ``rows.reduce(init, step, combine)`` of
        additive statistics. A pass for ``gamma="scale"`` (only then), one for the
        Gram statistics and, unless ``cv="gcv"``, one for the exact leave-one-out
        residuals of every alpha.
        """
        self._check_streamed_cv("a fit on batches of rows chooses alpha by leave-one-out or GCV")
        for name in ("_stream", "random_features_", "n_features_in_", "feature_names_in_"):
            self.__dict__.pop(name, None)
        progress = Progress(type(self).__name__, self.verbose)
        gamma = None
        if isinstance(self.gamma, str):
            progress.phase("pass 0: the scale of the data for gamma='scale'")
            gamma = gamma_from_moments(self.kernel, *entry_moments(rows))
        X, Y, sample_weight, y_was_1d = self._batch(*rows.head())
        self._fit_features(X, sample_weight, gamma)
        n_targets = Y.shape[1]
        progress.phase("pass 1: features and Gram, batch by batch")
        self._stream = self._statistics_of(rows, y_was_1d, target_shift(Y, sample_weight))
        if self._stream.stats.n_samples < 2:
            raise ValueError(
                f"a fit needs at least 2 rows; the batches hold {self._stream.stats.n_samples}"
            )

        def leave_one_out(path, alphas, shift) -> np.ndarray:
            def add_errors(errors: np.ndarray, batch) -> np.ndarray:
                if len(batch[0]) == 0:
                    return errors
                X, Y, sample_weight, _ = self._batch(*batch)
                return errors + len(X) * leave_one_out_errors(
                    path,
                    self.random_features_,
                    X,
                    Y - shift,
                    sample_weight,
                    alphas,
                    self._chunk_rows(),
                    resolve_n_jobs(self.n_jobs),
                )

            progress.phase("pass 2: exact leave-one-out residuals, batch by batch")
            errors = rows.reduce(lambda: np.zeros((len(alphas), n_targets)), add_errors, np.add)
            return errors / self._stream.stats.n_samples

        progress.phase("eigendecomposition of the Gram")
        self._solve_stream(None if self.cv == "gcv" else leave_one_out)
        del self._stream
        progress.phase(f"done: alpha_ = {self.alpha_}, best score = {self.best_score_}")
        return self

    def __getattr__(self, name: str):
        """Solve a streamed fit the first time one of its results is read."""
        if name in _SOLVED and "_stream" in self.__dict__:
            self._solve_stream()
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _solve(self, X, Y, sample_weight, n_jobs, progress):
        """The ridge path (see :meth:`_solve_path`) of the targets.

        With an intercept, of the targets minus their weighted mean
        (:func:`target_shift`), the intercepts shifted back.
        """
        if not self.fit_intercept:
            return self._solve_path(X, Y, sample_weight, n_jobs, progress)
        shift = target_shift(Y, sample_weight)
        coef_at, *results = self._solve_path(X, Y - shift, sample_weight, n_jobs, progress)
        return shifted_intercepts(coef_at, shift), *results

    def _solve_path(self, X, Y, sample_weight, n_jobs, progress):
        """The primal path when ``n >= D``, else the dual one."""
        n, D = X.shape[0], self.n_components
        if n < D:
            progress.phase(f"dual solve: {n} samples < {D} features, kernel matrix Z Z^T")
            return self._fit_dual(X, Y, sample_weight, n_jobs)
        # One BLAS thread: numpy's products here are small, and idle OpenBLAS
        # threads spin on the cores the Rust threads need.
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit_primal(X, Y, sample_weight, n_jobs, progress)

    def _alphas(self, top_eigenvalue: float) -> np.ndarray:
        if isinstance(self.alphas, str):
            return auto_alphas(top_eigenvalue)
        return check_alphas(self.alphas)

    def _blocks(self, n: int) -> list[slice]:
        """Blocks of rows for the streaming passes (a few chunks each)."""
        return row_blocks(n, self._chunk_rows())

    def _statistics(self, X, Y, sample_weight, rows, n_jobs, progress, phase):
        """Gram statistics of ``X[rows]`` (all rows for ``slice(None)``), block by block."""
        stats = GramStatistics.zeros(self.n_components, Y.shape[1])
        index = np.arange(len(X))[rows]
        started = time.perf_counter()
        for block in self._blocks(len(index)):
            part = index[block] if not isinstance(rows, slice) else block
            stats.add_rows(
                self.random_features_,
                X[part],
                Y[part],
                sample_weight[part],
                self._chunk_rows(),
                n_jobs,
            )
            progress.block(phase, block.stop, len(index), started)
        return stats

    def _fit_primal(self, X, Y, sample_weight, n_jobs, progress):
        features = self.random_features_
        n, t = Y.shape
        progress.phase(f"pass 1: features and Gram, {n} rows x {self.n_components} features")
        stats = self._statistics(X, Y, sample_weight, slice(None), n_jobs, progress, "pass 1")
        progress.phase("eigendecomposition of the Gram")
        path = stats.path(self.fit_intercept, n_jobs)
        alphas = self._alphas(float(path.eigenvalues[-1]) if len(path.eigenvalues) else 0.0)
        splits = self._splits(X)
        if not splits:
            del stats  # the path holds what is left to do: free the D x D Gram
        if splits:
            progress.phase(f"{len(splits)}-fold cross-validation from the fold statistics")
            errors = np.zeros((len(alphas), t))
            for train, test in splits:
                test_stats = self._statistics(X, Y, sample_weight, test, n_jobs, progress, "fold")
                if is_complement(train, test, n):
                    train_stats = stats - test_stats
                else:
                    train_stats = self._statistics(
                        X, Y, sample_weight, train, n_jobs, progress, "fold"
                    )
                fold_path = train_stats.path(self.fit_intercept, n_jobs)
                for a, alpha in enumerate(alphas):
                    errors[a] += test_stats.heldout_errors(*fold_path.coef(alpha))
            errors /= sum(sample_weight[test].sum() for _, test in splits)
        elif self.cv == "gcv":
            errors = path.gcv_errors(list(alphas))
        else:
            progress.phase("pass 2: exact leave-one-out residuals")
            started = time.perf_counter()
            errors = leave_one_out_errors(
                path,
                features,
                X,
                Y,
                sample_weight,
                alphas,
                self._chunk_rows(),
                n_jobs,
                on_block=lambda block: progress.block("pass 2", block.stop, n, started),
            )
        train = path.train_errors(list(alphas))
        return path.coef, errors, train, alphas

    def _fit_dual(self, X, Y, sample_weight, n_jobs):
        check_fits_in_memory((X.shape[0], self.n_components), np.float64, "the features Z")
        Z = self.random_features_.transform(X).astype(np.float64, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):  # the core reports overflow
            K = Z @ Z.T
        path = _core.DualRidgePath(
            K, Y, sample_weight, fit_intercept=self.fit_intercept, n_jobs=n_jobs
        )
        alphas = self._alphas(float(path.eigenvalues[-1]) if len(path.eigenvalues) else 0.0)
        splits = self._splits(X)
        if splits:
            errors = dual_kfold_errors(
                K, Y, sample_weight, splits, alphas, self.fit_intercept, n_jobs
            )
        elif self.cv == "gcv":
            errors = path.gcv_errors(list(alphas))
        else:
            errors = path.loo_errors(list(alphas))
        train = path.train_errors(list(alphas))

        def coef(alpha: float) -> tuple[np.ndarray, np.ndarray]:
            dual, intercept = path.dual_coef(alpha)
            return Z.T @ dual, intercept

        return coef, errors, train, alphas

    def _splits(self, X) -> list[tuple[np.ndarray, np.ndarray]]:
        """(train, test) indices for a cross-validation ``cv``; empty for LOO and GCV."""
        if self.cv is None or isinstance(self.cv, str):
            return []
        target = getattr(self, "_fold_target", None)
        splitter = check_cv(self.cv, target, classifier=is_classifier(self))
        return list(splitter.split(X, target))

    def _linear_predict(self, X) -> np.ndarray:
        """``Z(X) @ coef_ + intercept_`` computed in Rust chunk by chunk."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        features = self.random_features_
        coef = np.atleast_2d(self.coef_)
        intercept = np.atleast_1d(np.asarray(self.intercept_, dtype=np.float64))
        weights, offsets = features._core_weights(X.dtype)
        scores = _core.predict_linear(
            X,
            weights,
            offsets,
            np.ascontiguousarray(coef.T, dtype=np.float64),
            np.ascontiguousarray(np.broadcast_to(intercept, (coef.shape[0],))),
            kernel=features.kernel,
            paired=features._paired(),
            n_jobs=resolve_n_jobs(self.n_jobs),
        )
        scores = scores.astype(X.dtype, copy=False)
        return scores[:, 0] if np.ndim(self.coef_) == 1 else scores


class RandomFeatureRidge(DaskScoreMixin, RegressorMixin, _BaseRandomFeatureRidge):
    """Ridge regression on random features, with the whole ridge path and exact LOO.

    Fits ``y ~ z(x) . beta + beta_0`` on the ``n_components`` random features of
    :class:`RandomFeatures`, choosing the ridge ``alpha`` from a grid by exact
    leave-one-out (default), generalized cross-validation or k-fold error. All
    ridges cost one eigendecomposition of the ``D x D`` feature Gram (or of the
    ``n x n`` kernel matrix when ``n < D``), and the features are streamed in
    chunks: memory is ``O(D^2 + chunk x (d + D))`` whatever the number of rows.

    As ``n_components`` grows the model tends to :class:`rfkernels.KernelRidge`
    with the same kernel and ridge: ``alpha`` means the same at every width.

    Parameters
    ----------
    kernel : str, default="rbf"
        One of ``rfkernels.KERNELS``: "rbf", "laplacian", "relu", "step", "linear",
        "matern12", "matern32", "matern52", "cauchy", "nngp", "ntk".
        Kernel whose random features are used (see :class:`RandomFeatures`).
    n_components : int, default=1024
        Number of random features ``D``.
    gamma : "scale" or float, default="scale"
        Kernel scale (see :class:`RandomFeatures`).
    bias : float, default=0.0
        Offset scale of the kernels that take one (relu, step, linear, nngp, ntk);
        ignored by the others (see :class:`RandomFeatures`).
    fourier : {"cos", "sincos"}, default="cos"
        Form of the features of the shift-invariant kernels (rbf, laplacian,
        matern12, matern32, matern52, cauchy); ignored by the others (see
        :class:`RandomFeatures`).
    sampling : {"iid", "orthogonal", "structured"}, default="iid"
        How the frequencies are drawn (see :class:`RandomFeatures`).
    alphas : "auto", float or array-like of shape (n_alphas,), default="auto"
        Ridges to try, each >= 0 (0 is the minimum-norm least-squares fit).
        ``"auto"`` is 0 and 23 ridges log-spaced from 1e-10 to 10 times the top
        eigenvalue of the centered feature Gram.
    cv : None, "loo", "gcv", int, cross-validation splitter or iterable, default=None
        How to choose ``alpha``: ``None``/``"loo"`` exact leave-one-out (as
        scikit-learn's ``RidgeCV``); ``"gcv"`` generalized cross-validation
        (from the Gram alone, no second pass); an int ``k`` for k-fold; a
        scikit-learn splitter, whose ``split`` gets ``X`` only (no ``y``, no
        ``groups``: not ``StratifiedKFold`` or ``GroupKFold``); or an iterable of
        ``(train, test)`` index arrays, e.g. ``list(GroupKFold(5).split(X, y,
        groups))`` for group-aware folds. Fits on batches of rows
        (:meth:`partial_fit`, memmaps, ``RowBatches``, dask arrays) take only
        None, ``"loo"`` or ``"gcv"``.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept (features and targets centered).
    alpha_per_target : bool, default=False
        Choose one alpha per target instead of one for all.
    random_state : int, RandomState instance or None, default=None
        Seeds the random features.
    chunk_size : int or None, default=None
        Rows per streaming block; ``None`` uses about 64 MiB of features.
    n_jobs : int or None, default=None
        Threads of the Rust core (``None``: all cores or ``RAYON_NUM_THREADS``).
    verbose : int, default=0
        1 prints the phases of the fit; 2 also the progress of each pass.

    Attributes
    ----------
    coef_ : ndarray of shape (n_components,) or (n_targets, n_components)
        Coefficients of the features at ``alpha_``.
    intercept_ : float or ndarray of shape (n_targets,)
        The intercept(s) (0.0 when ``fit_intercept=False``).
    alpha_ : float or ndarray of shape (n_targets,)
        The chosen ridge (one per target with ``alpha_per_target``).
    alphas_ : ndarray of shape (n_alphas,)
        The grid of ridges tried, ascending.
    best_score_ : float or ndarray of shape (n_targets,)
        Negative mean squared cross-validation error at ``alpha_``.
    cv_results_ : ndarray of shape (n_alphas,) or (n_alphas, n_targets)
        Mean squared cross-validation error of every alpha: leave-one-out
        ``sum_i s_i e_i^2 / n`` (``e_i`` the LOO residual, as ``RidgeCV``);
        GCV ``(RSS / S) / (1 - df / n)^2`` (``RSS = sum_i s_i r_i^2``); or k-fold
        ``sum_test s_i r_i^2 / sum_test s_i``, with ``S = sum_i s_i`` (``n`` for unit
        weights).
    train_errors_ : ndarray of shape (n_alphas,) or (n_alphas, n_targets)
        Training mean squared error ``sum_i s_i r_i^2 / sum_i s_i`` of every alpha.
    random_features_ : RandomFeatures
        The fitted feature map; ``random_features_.transform(X)`` gives the
        features the model is linear in.
    n_features_in_ : int
        Number of input columns seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Input column names, when ``X`` has string column names.

    See Also
    --------
    sklearn.linear_model.RidgeCV : Ridge with leave-one-out selection.
    sklearn.kernel_approximation.RBFSampler : Random Fourier features.
    rfkernels.KernelRidge : The infinite-width limit of this model.

    Notes
    -----
    The objective, as scikit-learn's ``Ridge`` (sums, not means)::

        sum_i s_i (y_i - z_i . beta - beta_0)^2 + alpha ||beta||^2

    With ``Z~`` the centered features scaled by ``sqrt(s_i)``, ``Z~^T Z~ = Q
    diag(lambda) Q^T`` gives ``beta = Q diag(1 / (lambda + alpha)) Q^T Z~^T y~``
    for every alpha; at ``alpha = 0`` the pseudo-inverse (eigenvalues below
    ``max(lambda) * max(n, D) * eps`` dropped) gives the minimum-norm solution.
    Leave-one-out residuals are ``r_i / (1 - H_ii)`` with the leverages of the
    hat matrix including the intercept, exactly as ``RidgeCV``.

    Data that come in batches (or do not fit in memory) can be streamed with
    :meth:`partial_fit`: the statistics add up, the memory stays ``O(D^2)``, and
    ``alpha`` is chosen by GCV (leave-one-out needs a second pass over the rows).

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels import RandomFeatureRidge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(500, 1))
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(500)
    >>> model = RandomFeatureRidge(n_components=256, random_state=0).fit(X, y)
    >>> bool(model.score(X, y) > 0.95)
    True
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the ridge path on random features and choose ``alpha``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in), numpy memmap or RowBatches
            Training data (float32 data gives float32 features). A memmap or a
            :class:`~rfkernels.RowBatches` is read in batches of rows, once per pass
            (two passes, three with ``gamma="scale"``): the memory does not grow with
            the number of rows.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets (None with ``RowBatches``, whose batches carry them).
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : RandomFeatureRidge
            The fitted model.
        """
        if is_batched(X):
            return self._fit_batches(as_batches(X, y, sample_weight))
        X, y = validate_data(
            self,
            X,
            y,
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=True,
            ensure_min_samples=2,
        )
        sample_weight = check_sample_weight(sample_weight, X)
        y_was_1d = y.ndim == 1
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        self._fit_path(X, Y, sample_weight, y_was_1d)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Add a batch of rows to a streamed fit; ``alpha`` is chosen by GCV.

        Only the additive statistics ``Z^T Z``, ``Z^T y`` and sums are kept, so the
        memory is ``O(D^2)`` however many rows are streamed. The eigendecomposition
        is redone lazily, the first time ``coef_``, ``alpha_``, ``cv_results_`` (or
        any other result) is read, or when predicting. With ``alpha`` fixed, the
        coefficients after any split of the data into batches equal those of
        :meth:`fit` on all of it (with ``cv="gcv"``, since leave-one-out needs a
        second pass over the rows, which a stream cannot make).

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features_in)
            A batch of training data; a dask array's statistics are one map-reduce
            over its blocks.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its targets: 1-d or 2-d with the same number of targets in every batch.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : RandomFeatureRidge
            The model, usable after every call.

        Notes
        -----
        The first call draws the random features: ``gamma="scale"`` is computed
        from the first batch only (pass a numeric ``gamma`` to make it independent
        of the batching). ``cv`` must be None, ``"loo"`` or ``"gcv"``; the choice is
        always GCV. After :meth:`fit`, ``partial_fit`` keeps the fitted features
        and starts a new stream: the rows given to ``fit`` are not part of it.
        """
        self._partial_fit(X, y, sample_weight)
        return self

    def _batch(self, X, y, sample_weight):
        """A validated batch: ``X``, ``Y`` (``n x t`` float64), weights, ``y`` was 1-d."""
        X, y = validate_data(
            self,
            X,
            y,
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=True,
            reset="random_features_" not in self.__dict__,
        )
        sample_weight = check_sample_weight(sample_weight, X)
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return X, Y, sample_weight, y.ndim == 1

    def predict(self, X) -> np.ndarray:
        """Predict with the fitted model, computing the features chunk by chunk.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions, in the dtype of ``X`` (float32 or float64); a dask array
            (block by block) for a dask array ``X``.
        """
        if is_dask_array(X):
            return map_rows(self.predict, X, None if np.ndim(self.coef_) == 1 else len(self.coef_))
        return self._linear_predict(X)

    def __sklearn_tags__(self):
        """Multi-output regression; float32 and float64 input."""
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _union(labels: np.ndarray | None, more: np.ndarray | None) -> np.ndarray | None:
    """The sorted union of two sets of labels (None: no labels yet)."""
    if labels is None or more is None:
        return more if labels is None else labels
    return np.union1d(labels, more)


def _add_labels(labels: np.ndarray | None, batch) -> np.ndarray | None:
    """``labels`` and those of ``batch = (X, y, sample_weight)``."""
    return _union(labels, np.unique(np.asarray(batch[1])) if len(batch[1]) else None)


class RandomFeatureRidgeClassifier(DaskScoreMixin, ClassifierMixin, _BaseRandomFeatureRidge):
    """Ridge classification on random features with leave-one-out selection of ``alpha``.

    One-vs-all regression on targets in {-1, +1} with the engine of
    :class:`RandomFeatureRidge` (like scikit-learn's ``RidgeClassifierCV`` on
    random features): one decomposition for all classes and all ridges.

    Parameters
    ----------
    kernel, n_components, gamma, bias, fourier, sampling, alphas, cv, fit_intercept, \
alpha_per_target, random_state, chunk_size, n_jobs, verbose
        As in :class:`RandomFeatureRidge`; ``cv=int`` uses stratified folds, and a
        splitter's ``split`` also gets the labels (so ``StratifiedKFold`` works).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (1, n_components) or (n_classes, n_components)
        Coefficients of the decision function(s).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts of the decision function(s).
    alpha_, alphas_, best_score_, cv_results_, train_errors_, random_features_, \
n_features_in_, feature_names_in_
        As in :class:`RandomFeatureRidge`, for the {-1, +1} targets.

    See Also
    --------
    sklearn.linear_model.RidgeClassifierCV : The same on explicit features.
    RandomFeatureRidge : The regressor.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from rfkernels import RandomFeatureRidgeClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = RandomFeatureRidgeClassifier(n_components=512, random_state=0).fit(X, y)
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit one-vs-all ridge paths on random features and choose ``alpha``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in), numpy memmap or RowBatches
            Training data; a memmap or :class:`~rfkernels.RowBatches` is read in
            batches of rows (one more pass collects the classes).
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings; None with ``RowBatches``).
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : RandomFeatureRidgeClassifier
            The fitted model.
        """
        if is_batched(X):
            rows = as_batches(X, y, sample_weight)
            if isinstance(X, np.memmap):
                self._set_classes(y)
            else:  # one pass collects the labels
                labels = rows.reduce(lambda: None, _add_labels, _union)
                if labels is None:
                    raise ValueError("the batches hold no rows")
                self._set_classes(labels)
            return self._fit_batches(rows)
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], ensure_min_samples=2)
        check_classification_targets(y)
        binarizer = LabelBinarizer(pos_label=1, neg_label=-1)
        Y = binarizer.fit_transform(y).astype(np.float64)
        self.classes_ = binarizer.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; "
                f"got 1 class ({self.classes_[0]!r})"
            )
        self._fold_target = y
        sample_weight = check_sample_weight(sample_weight, X)
        self._fit_path(X, Y, sample_weight, y_was_1d=False)
        del self._fold_target
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Add a batch of rows to a streamed fit; ``alpha`` is chosen by GCV.

        As :meth:`RandomFeatureRidge.partial_fit`, on the {-1, +1} indicators of
        ``classes``.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features_in)
            A batch of training data; a dask array's statistics are one map-reduce
            over its blocks.
        y : array-like of shape (n_samples,)
            Its class labels, all among ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole stream: required on the first call, and equal
            to ``classes_`` when given later.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : RandomFeatureRidgeClassifier
            The model, usable after every call.
        """
        first = "random_features_" not in self.__dict__
        if first or "_stream" not in self.__dict__:
            if classes is None and first:
                raise ValueError("classes must be given on the first call to partial_fit")
            if classes is not None:
                self._set_classes(classes)
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={np.unique(classes).tolist()!r} differs from the first call's "
                f"{self.classes_.tolist()!r}"
            )
        self._partial_fit(X, y, sample_weight)
        return self

    def _set_classes(self, classes) -> None:
        """Set ``classes_`` (sorted, unique) from every class of a stream."""
        self.classes_ = np.unique(np.asarray(classes))
        if len(self.classes_) < 2:
            raise ValueError(
                f"classes must hold at least 2 classes; got {self.classes_.tolist()!r}"
            )

    def _batch(self, X, y, sample_weight):
        """A validated batch: ``X``, the {-1, +1} indicators of ``classes_``, weights."""
        first = "random_features_" not in self.__dict__
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=first)
        check_classification_targets(y)
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y holds labels {unknown.tolist()!r} not in classes {self.classes_.tolist()!r}"
            )
        binarizer = LabelBinarizer(pos_label=1, neg_label=-1).fit(self.classes_)
        Y = binarizer.transform(y).astype(np.float64)
        sample_weight = check_sample_weight(sample_weight, X)
        return X, Y, sample_weight, False

    def decision_function(self, X) -> np.ndarray:
        """Confidence scores: the ridge fits of the {-1, +1} class indicators.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One score per class, or one (positive for ``classes_[1]``) for two classes;
            a dask array for a dask array ``X``.
        """
        if is_dask_array(X):
            n_scores = len(self.coef_)
            return map_rows(self.decision_function, X, None if n_scores == 1 else n_scores)
        scores = self._linear_predict(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X) -> np.ndarray:
        """Predict class labels: the class with the largest score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in)
            Samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Predicted classes (a dask array for a dask array ``X``).
        """
        if is_dask_array(X):
            return map_rows(self.predict, X, None, dtype=self.classes_.dtype)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    def __sklearn_tags__(self):
        """Multiclass classification; not multi-output."""
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False
        return tags
