"""Dask arrays in the estimators: fits as map-reduces over blocks of rows.

``RandomFeatureRidge.fit`` (and the classifier's) accepts ``dask.array`` inputs and
runs on the user's Dask scheduler (a ``distributed.Client`` when one is active):

1. each block of rows computes its additive statistics ``Z^T Z``, ``Z^T Y`` and
   sums in a task, with the Rust engine inside the worker, and a tree reduction
   adds them up (``split_every`` blocks per node);
2. the driver decomposes the summed ``D x D`` Gram once, for the whole ridge path;
3. the exact leave-one-out residuals are a second map-reduce, each task getting the
   decomposed path (shipped once per worker, not once per task).

``gamma="scale"`` adds a first map-reduce of the data's moments. ``predict``,
``decision_function``, ``transform`` and ``score`` map over the blocks and return
dask arrays (a float for ``score``). The fitted model is the same object a local
fit gives: it pickles and predicts on numpy arrays.

Dask is an optional dependency: ``pip install rfkernels[dask]``. Inside a task,
``n_jobs=None`` means one thread, since Dask runs one task per worker thread.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from ._engine.data import scaled_weights
from ._engine.passes import Acc, Combine, Init, Step
from ._threads import task_threads

__all__ = ["DaskRows", "DaskScoreMixin", "is_dask_array", "map_rows", "score"]


#: Partial results added per node of the tree reduction.
SPLIT_EVERY = 8


def is_dask_array(X) -> bool:
    """Whether ``X`` is a ``dask.array.Array`` (checked without importing dask)."""
    return type(X).__module__.startswith("dask.array") and hasattr(X, "to_delayed")


def _dask():
    """``(dask, dask.array)``, or an ImportError that says how to install them."""
    try:
        import dask
        import dask.array as da
    except ImportError as error:  # pragma: no cover - dask is a test dependency
        raise ImportError(
            "dask arrays need the optional Dask dependency: pip install 'rfkernels[dask]'"
        ) from error
    return dask, da


class DaskRows:
    """The rows of dask arrays ``(X, y, sample_weight)``, a source of batches for a fit.

    A :class:`~rfkernels._engine.passes.RowSource` whose passes are Dask map-reduces.

    Blocks of rows of ``X`` (its columns in one chunk) are paired with the same rows
    of ``y`` and ``sample_weight`` (numpy or dask arrays, rechunked to match). Blocks
    may differ in size, hold no rows, or be a single block.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features_in)
        Inputs.
    y : array-like or dask.array.Array of shape (n_samples,) or (n_samples, n_targets)
        Targets (None for an unsupervised pass, e.g. the data's scale).
    sample_weight : array-like or dask.array.Array of shape (n_samples,), default=None
        Weights of the rows.
    split_every : int, default=8
        Partial results added per node of the tree reduction.
    """

    def __init__(self, X, y, sample_weight=None, *, split_every: int = SPLIT_EVERY) -> None:
        dask, da = _dask()
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-d dask array, got {X.ndim} dimension(s)")
        X = X.rechunk({1: -1})
        rows = X.chunks[0]

        def blocks_of(values, name: str) -> list:
            if values is None:
                return [None] * len(rows)
            chunked = _chunked_as_rows(da, values, rows, name)
            return list(chunked.to_delayed().reshape(len(rows), -1)[:, 0])

        self.blocks = list(
            zip(
                X.to_delayed()[:, 0],
                blocks_of(y, "y"),
                blocks_of(sample_weight, "sample_weight"),
                strict=True,
            )
        )
        self.split_every = int(split_every)
        self.block_rows = rows
        self._dask = dask

    def head(self) -> tuple:
        """The first block that holds rows, computed (it fixes columns and targets)."""
        for block in self.blocks:
            X, y, w = self._dask.compute(*block)
            if len(X):
                return X, y, w
        raise ValueError("the dask arrays hold no rows")

    def reduce(self, init: Init, step: Step, combine: Combine) -> Acc:
        """One map-reduce: ``step(init(), block)`` per block, added up by ``combine``.

        ``init``, ``step`` and ``combine`` are shared inputs (:func:`_shared`), so
        their data (an estimator, a decomposed ridge path) moves to each worker
        once, not with every task. The tree has a fixed shape, so the sum does not
        depend on which worker finishes first.
        """
        delayed = self._dask.delayed
        step_node, init_node, combine_node = (_shared(f) for f in (step, init, combine))
        parts = [
            delayed(_apply_step, pure=True)(step_node, init_node, *block) for block in self.blocks
        ]
        while len(parts) > 1:
            parts = [
                delayed(_combine, pure=True)(combine_node, *parts[i : i + self.split_every])
                for i in range(0, len(parts), self.split_every)
            ]
        with warnings.catch_warnings():
            # The shared inputs are in the graph on purpose (see _shared), so a large
            # ridge path is no reason to suggest scattering them.
            warnings.filterwarnings("ignore", "Sending large graph", UserWarning)
            return self._dask.compute(parts[0])[0]

    def reweighted(self, factor: np.ndarray) -> DaskRows:
        """The same blocks with the weights times ``factor`` (one number per row, in order).

        Each block gets its slice of ``factor`` (a small task input); the rows stay
        where they are.
        """
        if np.isnan(sum(self.block_rows)):
            raise ValueError(
                "X's blocks have unknown sizes (as after boolean indexing): call "
                "X.compute_chunk_sizes() first"
            )
        factor = np.asarray(factor, dtype=np.float64)
        if len(factor) != sum(self.block_rows):
            raise ValueError(f"{len(factor)} factors for {sum(self.block_rows)} rows")
        stops = np.cumsum(self.block_rows)
        delayed = self._dask.delayed
        blocks = [
            (X, y, delayed(scaled_weights, pure=True)(w, factor[stop - size : stop]))
            for (X, y, w), stop, size in zip(self.blocks, stops, self.block_rows, strict=True)
        ]
        reweighted = object.__new__(DaskRows)
        reweighted.__dict__.update(self.__dict__, blocks=blocks)
        return reweighted


def _chunked_as_rows(da, values, rows: tuple, name: str):
    """``values`` as a dask array chunked along the rows like ``X``."""
    if not hasattr(values, "rechunk"):
        values = np.asarray(values)
        if np.isnan(sum(rows)):
            raise ValueError(
                f"X's blocks have unknown sizes (as after boolean indexing), so the numpy "
                f"{name} cannot be split like them: call X.compute_chunk_sizes() first, or "
                f"pass {name} as a dask array indexed the same way"
            )
    n = int(np.nansum(rows))
    if not np.isnan(values.shape[0]) and not np.isnan(sum(rows)) and values.shape[0] != n:
        raise ValueError(f"X has {n} rows but {name} has {values.shape[0]}")
    if not hasattr(values, "rechunk"):
        return da.from_array(values, chunks=(rows, *values.shape[1:]))
    return values.rechunk({0: rows, **{axis: -1 for axis in range(1, values.ndim)}})


def _shared(value):
    """``value`` as an input of many tasks: one node of the graph.

    Each worker receives it once (a worker fetches it from another one that holds
    it), and since it is part of the graph, not data scattered ahead of it, Dask
    can recompute it when the workers holding it die.
    """
    dask, _ = _dask()
    return dask.delayed(value, pure=True)


def _apply_step(step: Callable[[Any, tuple], Any], init: Callable[[], Any], X, y, w) -> Any:
    """A block's part of a map-reduce, with one Rust thread unless ``n_jobs`` says more."""
    with task_threads(1):
        return step(init(), (X, y, w))


def _combine(combine: Callable[[Any, Any], Any], *parts: Any) -> Any:
    """The sum of the partial results of one node of the tree, in order."""
    return functools.reduce(combine, parts)


def map_rows(method: Callable[[np.ndarray], np.ndarray], X, n_columns: int | None, dtype=None):
    """``method`` of a fitted estimator applied block by block to the dask array ``X``.

    ``n_columns`` is the width of the result (None for a 1-d result); ``dtype`` its
    type (default: float32 for float32 ``X``, else float64). The estimator is one
    graph node, sent to each worker once. Whether it is fitted and has the columns
    of ``X`` is checked now, not in the tasks.
    """
    _dask()
    estimator = method.__self__  # type: ignore[attr-defined]
    check_is_fitted(estimator)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-d dask array, got {X.ndim} dimension(s)")
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input"
        )
    if dtype is None:
        dtype = np.float32 if X.dtype == np.float32 else np.float64
    X = X.rechunk({1: -1})
    node = _shared(method)
    if n_columns is None:
        empty = np.empty((0,), dtype)
        return X.map_blocks(_apply_method, node, empty, drop_axis=1, dtype=dtype, meta=empty)
    empty = np.empty((0, n_columns), dtype)
    return X.map_blocks(
        _apply_method, node, empty, chunks=(X.chunks[0], (n_columns,)), dtype=dtype, meta=empty
    )


def _apply_method(X: np.ndarray, method: Callable[[np.ndarray], np.ndarray], empty: np.ndarray):
    """A block's part of :func:`map_rows`; ``empty`` is the result of an empty block."""
    if len(X) == 0:
        return empty
    with task_threads(1):
        return method(X)


def score(estimator, X, y, sample_weight=None) -> float:
    """The estimator's ``score`` (R^2, or accuracy for a classifier) on dask arrays.

    Computed from per-block sums, as scikit-learn's ``r2_score`` (averaged over
    targets, 1 for a perfect fit of a constant target, else 0 for a constant one)
    and ``accuracy_score`` define them, with the rows weighted by ``sample_weight``.
    """
    dask, da = _dask()
    predictions = estimator.predict(X)
    rows = predictions.chunks[0]
    y = _chunked_as_rows(da, y, rows, "y")
    weights = (
        da.ones(len(predictions), chunks=rows)
        if sample_weight is None
        else _chunked_as_rows(da, sample_weight, rows, "sample_weight").astype(np.float64)
    )
    if is_classifier(estimator):
        hits, total = dask.compute((weights * (predictions == y)).sum(), weights.sum())
        return float(hits / total)
    if y.ndim == 1:
        y, predictions = y[:, None], predictions[:, None]
    weights = weights[:, None]
    total, sums, residuals = dask.compute(
        weights.sum(),
        (weights * y).sum(axis=0),
        (weights * (y - predictions) ** 2).sum(axis=0),
    )
    mean = sums / total
    (deviations,) = dask.compute((weights * (y - mean) ** 2).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(
            deviations > 0,
            1 - residuals / deviations,
            np.where(residuals == 0, 1.0, 0.0),
        )
    return float(np.mean(r2))


class DaskScoreMixin:
    """``score`` that also takes dask arrays (computed from per-block sums)."""

    def score(self, X, y, sample_weight=None) -> float:
        """R^2 of the predictions (accuracy for a classifier), as scikit-learn's.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features_in)
            Test samples.
        y : array-like or dask.array.Array of shape (n_samples,) or (n_samples, n_targets)
            True targets or labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        score : float
            The coefficient of determination, or the (weighted) accuracy.
        """
        if is_dask_array(X):
            return score(self, X, y, sample_weight)
        return super().score(X, y, sample_weight)  # type: ignore[misc]
