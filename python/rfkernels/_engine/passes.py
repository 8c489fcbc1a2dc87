"""Passes over the rows of a fit: the Gram statistics and the leave-one-out residuals.

Every source of rows (arrays in memory, :class:`~rfkernels.RowBatches` and the
memmaps it wraps, the blocks of Dask arrays) is a :class:`RowSource`: one pass is
``source.reduce(init, step, combine)`` over batches ``(X, y, sample_weight)``, so
one ``step`` serves every source, sequential or a tree of Dask tasks.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Protocol, TypeVar

import numpy as np

from .. import _core
from .._memory import check_fits_in_memory
from .data import unit_weights_as_none
from .features import FeatureArrays

__all__ = [
    "CHUNK_BYTES",
    "ArrayRows",
    "RowSource",
    "default_chunk_rows",
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


class RowSource(Protocol):
    """A source of row batches ``(X, y, sample_weight)`` that a fit reads once per pass.

    Implemented by :class:`ArrayRows` (arrays in memory), :class:`~rfkernels.RowBatches`
    (batches in turn, memmaps) and :class:`~rfkernels.distributed.DaskRows` (blocks in
    parallel tasks, summed by a tree).
    """

    def head(self) -> Batch:
        """The first batch that holds rows (it fixes the columns and the targets)."""
        ...

    def reduce(
        self,
        init: Callable[[], Acc],
        step: Callable[[Acc, Batch], Acc],
        combine: Callable[[Acc, Acc], Acc],
    ) -> Acc:
        """One pass: ``step(accumulated, batch)`` from ``init()``, parts joined by ``combine``."""
        ...


def default_chunk_rows(n_components: int) -> int:
    """Rows per chunk of ``n_components`` float64 features: about ``CHUNK_BYTES``."""
    return int(min(65536, max(256, CHUNK_BYTES // (8 * n_components))))


class ArrayRows:
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
        self.batch_rows = chunk_rows * CHUNKS_PER_BATCH

    def __len__(self) -> int:
        return len(self.X) if self.index is None else len(self.index)

    def _batch(self, start: int) -> Batch:
        stop = min(start + self.batch_rows, len(self))
        rows = slice(start, stop) if self.index is None else self.index[start:stop]
        return self.X[rows], self.Y[rows], self.sample_weight[rows]

    def head(self) -> Batch:
        """The first batch."""
        return self._batch(0)

    def reduce(self, init, step, combine):
        """One pass over the batches in order (``combine`` is not needed)."""
        accumulated = init()
        for start in range(0, len(self), self.batch_rows):
            accumulated = step(accumulated, self._batch(start))
        return accumulated


def _validated(batch: Batch) -> Batch:
    """Batches of :class:`ArrayRows` are validated already."""
    return batch


def _no_progress(count: int) -> None:
    """The progress report of a pass nobody watches."""


def new_statistics(n_components: int, n_targets: int) -> _core.GramStatistics:
    """Empty Gram statistics, after checking that the ``D x D`` Gram fits in memory."""
    check_fits_in_memory((n_components, n_components), np.float64, "the Gram matrix")
    return _core.GramStatistics(n_components, n_targets)


def gram_statistics(
    rows: RowSource,
    features: FeatureArrays,
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

    def add_batch(stats: _core.GramStatistics, batch: Batch) -> _core.GramStatistics:
        if len(batch[0]) == 0:
            return stats
        X, Y, sample_weight = prepare(batch)
        stats.add_rows(
            X,
            Y - shift,
            unit_weights_as_none(sample_weight),
            chunk_rows=chunk_rows,
            n_jobs=n_jobs,
            **features.core(X.dtype),
        )
        advance(len(X))
        return stats

    return rows.reduce(
        lambda: new_statistics(features.n_components, n_targets), add_batch, operator.add
    )


def leave_one_out_errors(
    path: _core.PrimalRidgePath,
    rows: RowSource,
    features: FeatureArrays,
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
    n_targets = len(shift)

    def add_batch(errors: np.ndarray, batch: Batch) -> np.ndarray:
        if len(batch[0]) == 0:
            return errors
        X, Y, sample_weight = prepare(batch)
        errors = errors + path.loo_error_sums(
            X,
            Y - shift,
            unit_weights_as_none(sample_weight),
            alphas=grid,
            n_jobs=n_jobs,
            **features.core(X.dtype),
        )
        advance(len(X))
        return errors

    errors = rows.reduce(lambda: np.zeros((len(grid), n_targets)), add_batch, np.add)
    return errors / n_samples
