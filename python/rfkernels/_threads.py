"""Threads of the Rust core: scikit-learn's ``n_jobs`` and the one-thread default in Dask tasks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["resolve_n_jobs", "task_threads"]

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
