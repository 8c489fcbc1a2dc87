"""Training data that comes in batches of rows: fits that never hold all of it.

``RandomFeatureRidge.fit`` and ``RandomFeatureRidgeClassifier.fit`` accept a
:class:`RowBatches` in place of ``X`` (and a numpy memmap, which they wrap in one):
every pass of the fit (the scale of the data for ``gamma="scale"``, the Gram
statistics, the leave-one-out residuals) reads the batches once, so the memory is
``O(D^2 + batch)`` whatever the number of rows.
"""

from __future__ import annotations

import importlib
import mmap
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ._engine.passes import Batch, SequentialRows
from ._validation import naming
from .distributed import DaskRows, is_dask_array

__all__ = ["RowBatches", "as_batches", "is_batched"]

#: Names this module exported before they moved, with their new home.
_MOVED = {"EntryMoments": "rfkernels._gamma", "entry_moments": "rfkernels._gamma"}

#: Rows per batch of :meth:`RowBatches.from_arrays` when not given.
DEFAULT_BATCH_ROWS = 65_536


class RowBatches(SequentialRows):
    """A re-iterable source of row batches ``(X, y)`` or ``(X, y, sample_weight)``.

    Parameters
    ----------
    make_batches : callable
        Called with no argument at the start of every pass over the data; returns an
        iterable of batches, each a tuple ``(X, y)`` or ``(X, y, sample_weight)`` of
        arrays with the same number of rows. Every call must give the same rows in
        the same order (a fit reads them two or three times).

    See Also
    --------
    RowBatches.from_arrays : Batches of rows of (memory-mapped) arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels import RandomFeatureRidge, RowBatches
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((1000, 3)), rng.standard_normal(1000)
    >>> starts = range(0, 1000, 250)
    >>> batches = RowBatches(lambda: ((X[i : i + 250], y[i : i + 250]) for i in starts))
    >>> model = RandomFeatureRidge(n_components=64, random_state=0).fit(batches)
    >>> full = RandomFeatureRidge(n_components=64, random_state=0).fit(X, y)
    >>> bool(np.allclose(model.coef_, full.coef_))
    True
    """

    def __init__(self, make_batches: Callable[[], Iterable[tuple]]) -> None:
        if not callable(make_batches):
            raise TypeError(
                "RowBatches takes a function that returns the batches anew for every pass, "
                f"got {type(make_batches).__name__}; wrap a list as RowBatches(lambda: batches)"
            )
        self.make_batches = make_batches

    def __iter__(self) -> Iterator[Batch]:
        # No batch is kept while the next one is read (so no enumerate, whose
        # result tuple holds the last batch until the next one exists).
        number = 0
        for batch in self.make_batches():
            if not isinstance(batch, tuple) or len(batch) not in (2, 3):
                raise ValueError(
                    f"batch {number} must be a tuple (X, y) or (X, y, sample_weight), "
                    f"got {type(batch).__name__}"
                )
            X, y, *weights = batch
            del batch
            yield X, y, weights[0] if weights else None
            del X, y, weights
            number += 1

    @classmethod
    def from_arrays(
        cls, X, y, sample_weight=None, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> RowBatches:
        """Batches of ``batch_rows`` consecutive rows of ``X``, ``y`` and ``sample_weight``.

        Each batch is copied into memory; for a numpy memmap the pages of the rows
        just read are then released (``madvise(MADV_DONTNEED)``), so the resident
        memory does not grow with the file.

        Parameters
        ----------
        X : ndarray or numpy.memmap of shape (n_samples, n_features_in)
            Inputs.
        y : ndarray or numpy.memmap of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : ndarray of shape (n_samples,), default=None
            Weights of the rows.
        batch_rows : int, default=65536
            Rows per batch.

        Returns
        -------
        RowBatches
            The batches.
        """
        if not (isinstance(batch_rows, int | np.integer) and batch_rows >= 1):
            raise ValueError(f"batch_rows must be a positive integer, got {batch_rows!r}")
        n = _row_count(X, "X")
        if y is None:
            raise ValueError(f"y is required: the targets of the {n} rows of X")
        n_weights = None if sample_weight is None else _row_count(sample_weight, "sample_weight")
        if _row_count(y, "y") != n or n_weights not in (None, n):
            raise ValueError(
                f"X has {n} rows; y and sample_weight must have as many "
                f"(got {len(y)} and {n_weights})"
            )
        arrays = _Arrays(X, y, sample_weight)
        return cls(
            lambda: (arrays.read(slice(i, min(i + batch_rows, n))) for i in range(0, n, batch_rows))
        )


def _row_count(array, name: str) -> int:
    """The rows of ``array``; a ``ValueError`` naming ``name`` for a scalar (no rows)."""
    with naming(name):  # np.ndim of a ragged list raises
        scalar = np.ndim(array) == 0
    if scalar:
        raise ValueError(f"{name} must hold one entry per row, got a scalar {array!r}")
    return len(array)


def as_batches(X, y, sample_weight, batch_rows: int = DEFAULT_BATCH_ROWS):
    """The row source of a fit: ``X`` itself, the blocks of dask arrays, or batches.

    With a :class:`RowBatches`, ``y`` and ``sample_weight`` come in the batches and
    must be None here; a dask array gives a
    :class:`~rfkernels.distributed.DaskRows`; otherwise ``X`` is an array (a numpy
    memmap, typically) read in batches of ``batch_rows`` rows (an estimator passes a
    few of its chunks, so its ``chunk_size`` is the one row knob of its fits).
    """
    if isinstance(X, RowBatches):
        if y is not None or sample_weight is not None:
            raise ValueError(
                "with RowBatches, y and sample_weight come in the batches: pass fit(batches)"
            )
        return X
    if is_dask_array(X):
        return DaskRows(X, y, sample_weight)
    return RowBatches.from_arrays(X, y, sample_weight, batch_rows=batch_rows)


def is_batched(X) -> bool:
    """Whether ``fit`` reads ``X`` a batch of rows at a time (see :func:`as_batches`)."""
    return isinstance(X, RowBatches | np.memmap) or is_dask_array(X)


@dataclass(frozen=True)
class _Arrays:
    """Arrays read a block of rows at a time."""

    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None

    def read(self, rows: slice) -> tuple:
        """Copies of the rows ``rows``; the memmaps' pages are released after copying."""
        named = {"X": self.X, "y": self.y, "sample_weight": self.sample_weight}
        arrays = {name: array for name, array in named.items() if array is not None}
        batch = []
        for name, array in arrays.items():
            with naming(name):  # ragged lists fail here
                batch.append(np.array(array[rows]))
            _release_pages(array, rows)
        return tuple(batch)


def _release_pages(array: np.ndarray, rows: slice) -> None:
    """Tell the kernel the pages of ``array[rows]`` are not needed any more (memmaps).

    Only for read-only or shared mappings, whose data stay in the file: a private
    copy-on-write mapping (mode ``"c"``) would lose its changes.
    """
    mapping = getattr(array, "_mmap", None)
    if mapping is None or getattr(array, "mode", "c") == "c":
        return
    part = array[rows]
    if part.size == 0 or not part.flags.c_contiguous:
        return
    view = np.frombuffer(mapping, dtype=np.uint8)
    try:
        offset = part.ctypes.data - view.ctypes.data
    finally:
        del view
    start = offset - offset % mmap.PAGESIZE
    mapping.madvise(mmap.MADV_DONTNEED, start, offset + part.nbytes - start)


def __getattr__(name: str):
    """The moved ``EntryMoments`` and ``entry_moments``, with a deprecation warning."""
    if name in _MOVED:
        warnings.warn(
            f"rfkernels.batches.{name} is deprecated and will be removed in 0.3: the "
            "moments behind gamma='scale' are internal (rfkernels.RandomFeatures computes "
            "them over batches)",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
