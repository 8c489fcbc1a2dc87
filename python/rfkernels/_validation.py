"""Shared input checks: thread counts and memory, checked before anything is allocated."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "available_memory_bytes",
    "check_fits_in_memory",
    "is_dask_array",
    "resolve_n_jobs",
    "task_threads",
]

#: Threads that ``n_jobs=None`` means in the current context (None: the shared pool).
_DEFAULT_THREADS: ContextVar[int | None] = ContextVar("rfkernels_default_threads", default=None)


@contextmanager
def task_threads(threads: int) -> Iterator[None]:
    """Within the block, ``n_jobs=None`` means ``threads`` threads (one Dask task each).

    Dask runs one task per worker thread, so a task that used every core would
    oversubscribe the machine.
    """
    token = _DEFAULT_THREADS.set(threads)
    try:
        yield
    finally:
        _DEFAULT_THREADS.reset(token)


def is_dask_array(X) -> bool:
    """Whether ``X`` is a ``dask.array.Array`` (checked without importing dask)."""
    return type(X).__module__.startswith("dask.array") and hasattr(X, "to_delayed")


def resolve_n_jobs(n_jobs: int | None) -> int | None:
    """Threads for the Rust core, from scikit-learn's ``n_jobs`` convention.

    ``None`` keeps the shared pool (all cores, or ``RAYON_NUM_THREADS``), or one
    thread inside a Dask task (:func:`task_threads`); a positive
    number asks for that many threads, at most the number of cores (more threads
    cannot speed up the core's CPU-bound work); ``-1`` means all cores and ``-2``
    all but one.
    """
    if n_jobs is None:
        return _DEFAULT_THREADS.get()
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning; use None, a positive count or -1")
    cores = os.cpu_count() or 1
    if n_jobs > 0:
        return min(int(n_jobs), cores)
    return max(1, cores + 1 + int(n_jobs))


def available_memory_bytes() -> int | None:
    """Memory the system can give without swapping (Linux ``MemAvailable``), if known."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_sample_weight(sample_weight, X) -> np.ndarray:
    """``sample_weight`` as one float64 weight per row of ``X`` (ones for None).

    Weights must be finite and non-negative, and not all zero (a negative weight
    would make ``sqrt(s_i)`` NaN in the statistics).
    """
    return _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)


def check_fits_in_memory(
    shape: tuple[int, ...],
    dtype: np.dtype | type,
    what: str,
    hint: str = "process fewer rows at a time",
) -> None:
    """Raise ``MemoryError`` if an array of ``shape`` and ``dtype`` cannot fit in memory.

    The message gives the bytes needed and available and ends with ``hint``, so that
    the user can choose a smaller problem instead of waiting for the operating
    system to kill the process.
    """
    needed = int(np.prod(shape, dtype=np.float64)) * np.dtype(dtype).itemsize
    available = available_memory_bytes()
    if available is not None and needed > available:
        raise MemoryError(
            f"{what} of shape {shape} ({np.dtype(dtype).name}) needs {needed:,} bytes "
            f"({needed / 2**30:.1f} GiB) but only {available:,} bytes "
            f"({available / 2**30:.1f} GiB) are available; {hint}"
        )
