"""Passes over the rows of a fit: the Gram statistics and the leave-one-out residuals.

Every source of rows (arrays in memory, :class:`~rfkernels.RowBatches` and the
memmaps it wraps, the blocks of Dask arrays) is a :class:`RowSource`: one pass is
``source.reduce(init, step, combine)`` over batches ``(X, y, sample_weight)``, so
one ``step`` serves every source, sequential or a tree of Dask tasks.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

import numpy as np

from .. import _core
from .._memory import check_fits_in_memory
from .data import scaled_weights, unit_weights_as_none
from .features import FeatureMap

__all__ = [
    "CHUNKS_PER_BATCH",
    "CHUNK_BYTES",
    "ArrayRows",
    "RowSource",
    "SequentialRows",
    "count_rows",
    "default_chunk_rows",
    "gather_rows",
    "gram_statistics",
    "leave_one_out_errors",
    "new_statistics",
]

#: Bytes of float64 features the core holds per chunk of rows (rows = this / (8 D)).
CHUNK_BYTES = 64 * 2**20
#: Chunks of rows per batch an :class:`ArrayRows` hands to the core (the unit of progress).
CHUNKS_PER_BATCH = 8

Batch = tuple[np.ndarray, np.ndarray, np.ndarray | None]
Acc = TypeVar("Acc")
#: ``init()`` of a pass: a new accumulated value.
Init = Callable[[], Acc]
#: ``step(accumulated, batch)`` of a pass: the value with the batch's part added.
Step = Callable[[Acc, Batch], Acc]
#: ``combine(a, b)`` of a pass: two accumulated values added.
Combine = Callable[[Acc, Acc], Acc]


class RowSource(Protocol):
    """A source of row batches ``(X, y, sample_weight)`` that a fit reads once per pass.

    Implemented by :class:`ArrayRows` (arrays in memory), :class:`~rfkernels.RowBatches`
    (batches in turn, memmaps) and :class:`~rfkernels.distributed.DaskRows` (blocks in
    parallel tasks, summed by a tree).
    """

    def head(self) -> Batch:
        """The first batch that holds rows (it fixes the columns and the targets)."""
        ...

    def reduce(self, init: Init, step: Step, combine: Combine) -> Acc:
        """One pass: ``step(accumulated, batch)`` from ``init()``, parts joined by ``combine``."""
        ...

    def reweighted(self, factor: np.ndarray) -> RowSource:
        """The same rows with their weights times ``factor`` (one number per row, in order).

        A factor of 0 removes a row from every sum: a cross-validation fold of a
        source whose rows are never all in memory.
        """
        ...


class SequentialRows:
    """A :class:`RowSource` read batch after batch in one process (``__iter__``)."""

    def __iter__(self) -> Iterator[Batch]:
        raise NotImplementedError

    def head(self) -> Batch:
        """The first batch that holds rows (it fixes the columns and the targets)."""
        for batch in self:
            if np.shape(batch[0])[:1] != (0,):  # a scalar X too: its checks will say so
                return batch
        raise ValueError(
            "the batches hold no rows (if an earlier pass saw rows, make_batches must "
            "return a new iterable on every call, not the same iterator)"
        )

    def reduce(self, init: Init, step: Step, combine: Combine) -> Acc:
        """One pass: ``step(accumulated, batch)`` over the batches in order, from ``init()``.

        ``combine`` (which adds two accumulated values) is not needed here; it is part
        of the protocol, which a distributed source (Dask blocks) implements as a tree.
        """
        accumulated = init()
        for batch in self:
            accumulated = step(accumulated, batch)
            del batch  # not held while the next batch is read
        return accumulated

    def reweighted(self, factor: np.ndarray) -> RowSource:
        """The same rows with their weights times ``factor`` (one number per row, in order)."""
        return _ReweightedRows(self, np.asarray(factor, dtype=np.float64))


class _ReweightedRows(SequentialRows):
    """The batches of ``rows`` with the weights times ``factor``, row by row in order."""

    def __init__(self, rows: SequentialRows, factor: np.ndarray) -> None:
        self.rows, self.factor = rows, factor

    def __iter__(self) -> Iterator[Batch]:
        start = 0
        for X, y, sample_weight in self.rows:
            stop = start + len(X)
            if stop > len(self.factor):
                raise ValueError(
                    f"the batches hold more rows than the {len(self.factor)} of the first pass"
                )
            yield X, y, scaled_weights(sample_weight, self.factor[start:stop])
            del X, y, sample_weight  # not held while the next batch is read
            start = stop


def gather_rows(rows: SequentialRows, indices: np.ndarray) -> np.ndarray:
    """The inputs ``X`` of the rows ``indices`` (sorted, distinct) of ``rows``: one pass."""
    parts, start = [], 0
    for X, _, _ in rows:
        stop = start + len(X)
        lo, hi = np.searchsorted(indices, [start, stop])
        if hi > lo:
            parts.append(np.asarray(X)[indices[lo:hi] - start])
        start = stop
    if start <= indices[-1]:
        raise ValueError(f"the batches hold {start} rows, fewer than the first pass counted")
    return np.concatenate(parts)


def count_rows(rows: RowSource) -> int:
    """The number of rows of ``rows``: one pass (free for arrays in memory)."""
    if isinstance(rows, ArrayRows):
        return len(rows)
    return rows.reduce(lambda: 0, lambda n, batch: n + len(batch[0]), operator.add)


def default_chunk_rows(n_components: int) -> int:
    """Rows per chunk of ``n_components`` float64 features: about ``CHUNK_BYTES``."""
    return int(min(65536, max(256, CHUNK_BYTES // (8 * n_components))))


class ArrayRows(SequentialRows):
    """Validated rows in memory (all, or those of ``index``), in batches of a few chunks.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features_in)
        Inputs, float32 or float64.
    Y : ndarray of shape (n_samples, n_targets)
        Targets, float64.
    sample_weight : ndarray of shape (n_samples,)
        Weights of the rows.
    chunk_rows : int
        Rows per chunk of features; a batch is ``CHUNKS_PER_BATCH`` chunks.
    index : ndarray of int, default=None
        The rows to read (a cross-validation fold); None reads all of them.
    """

    def __init__(self, X, Y, sample_weight, chunk_rows: int, index=None) -> None:
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.index = index
        self.chunk_rows = chunk_rows
        self.batch_rows = chunk_rows * CHUNKS_PER_BATCH

    def __len__(self) -> int:
        return len(self.X) if self.index is None else len(self.index)

    def __iter__(self) -> Iterator[Batch]:
        for start in range(0, len(self), self.batch_rows):
            stop = min(start + self.batch_rows, len(self))
            rows = slice(start, stop) if self.index is None else self.index[start:stop]
            yield self.X[rows], self.Y[rows], self.sample_weight[rows]

    def reweighted(self, factor: np.ndarray) -> ArrayRows:
        """The rows of nonzero ``factor``, their weights times it (the others add nothing)."""
        factor = np.asarray(factor, dtype=np.float64)
        index = np.arange(len(self.X)) if self.index is None else self.index
        weights = np.zeros(len(self.X))
        weights[index] = self.sample_weight[index] * factor
        return ArrayRows(self.X, self.Y, weights, self.chunk_rows, index[factor != 0])


def _validated(batch: Batch) -> Batch:
    """Batches of :class:`ArrayRows` are validated already."""
    return batch


def _no_progress(count: int) -> None:
    """The progress report of a pass nobody watches."""


def new_statistics(n_components: int, n_targets: int) -> _core.GramStatistics:
    """Empty Gram statistics, after checking that the ``D x D`` Gram fits in memory."""
    check_fits_in_memory((n_components, n_components), np.float64, "the Gram matrix")
    return _core.GramStatistics(n_components, n_targets)


def _batch_step(
    add: Callable[[Acc, np.ndarray, np.ndarray, np.ndarray | None], Acc],
    prepare: Callable[[Batch], Batch],
    advance: Callable[[int], None],
) -> Step:
    """The ``step`` of a pass: ``add(accumulated, X, Y, weights)`` of each prepared batch.

    Batches without rows are skipped; ``advance`` reports the rows done. Weights of
    one are passed as None, so the core skips weighting the rows.
    """

    def step(accumulated: Acc, batch: Batch) -> Acc:
        if len(batch[0]) == 0:
            return accumulated
        X, Y, sample_weight = prepare(batch)
        accumulated = add(accumulated, X, Y, unit_weights_as_none(sample_weight))
        advance(len(X))
        return accumulated

    return step


def gram_statistics(
    rows: RowSource,
    features: FeatureMap,
    n_targets: int,
    *,
    shift: np.ndarray,
    chunk_rows: int,
    n_jobs: int | None,
    prepare: Callable[[Batch], Batch] = _validated,
    advance: Callable[[int], None] = _no_progress,
) -> _core.GramStatistics:
    """The Gram statistics of every row of ``rows``, targets minus ``shift``: one pass.

    ``prepare`` validates a raw batch into ``(X, Y, sample_weight)`` (``Y`` 2-d float64);
    ``advance(rows)`` reports progress.
    """

    def add(stats: _core.GramStatistics, X, Y, sample_weight) -> _core.GramStatistics:
        features.add_rows(stats, X, Y - shift, sample_weight, chunk_rows=chunk_rows, n_jobs=n_jobs)
        return stats

    def init() -> _core.GramStatistics:
        return new_statistics(features.statistics_width, n_targets)

    return features.finish(rows.reduce(init, _batch_step(add, prepare, advance), operator.add))


def leave_one_out_errors(
    path: _core.PrimalRidgePath,
    rows: RowSource,
    features: FeatureMap,
    alphas: np.ndarray,
    *,
    n_samples: int,
    shift: np.ndarray,
    n_jobs: int | None,
    prepare: Callable[[Batch], Batch] = _validated,
    advance: Callable[[int], None] = _no_progress,
) -> np.ndarray:
    """Mean squared leave-one-out errors of ``path``, shape ``(n_alphas, n_targets)``.

    The second pass of a primal fit: the core regenerates the features of each
    batch and sums its squared leave-one-out residuals; the sum over all
    ``n_samples`` rows, divided by ``n_samples``.
    """
    grid = [float(alpha) for alpha in alphas]

    def add(errors: np.ndarray, X, Y, sample_weight) -> np.ndarray:
        sums = features.loo_error_sums(
            path, X, Y - shift, sample_weight, alphas=grid, n_jobs=n_jobs
        )
        return errors + sums

    def init() -> np.ndarray:
        return np.zeros((len(grid), len(shift)))

    return rows.reduce(init, _batch_step(add, prepare, advance), np.add) / n_samples
