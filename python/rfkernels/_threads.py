"""Threads of the Rust core: scikit-learn's ``n_jobs`` and the budgets ``n_jobs=None`` follows.

An explicit ``n_jobs`` always wins. ``n_jobs=None`` resolves, in order, to

1. the threads of the current Dask task (:func:`task_threads`: one);
2. ``RAYON_NUM_THREADS``, when it is a positive integer (as rayon reads it): the
   shared pool, which rayon itself sizes from it (``None`` returned);
3. the limit of :func:`threadpoolctl.threadpool_limits` in the calling thread:
   rfkernels registers its pool as a threadpoolctl controller of ``user_api``
   ``"openmp"`` (a pool of CPU threads, as joblib and scikit-learn limit OpenMP
   in their workers, and unaffected by the ``user_api="blas"`` limits scikit-learn
   and rfkernels set around their own BLAS calls);
4. ``OMP_NUM_THREADS`` (its first entry), which joblib's loky workers receive as
   ``cpu_count() // n_jobs`` (with ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` and
   the like, which each name one library and are not read), as do Dask's
   nanny-started workers;
5. every core: the core's shared rayon pool (``None``).

The two variables are read once, when rfkernels is imported, as rayon and OpenMP
runtimes read them once: a process's workers get them before they start, and a later
change is not followed (Dask's ``LocalCluster`` sets ``OMP_NUM_THREADS=1`` in its
driver's own environment when it starts worker processes).

Budgets and explicit counts are capped at the number of cores (more threads cannot
speed up CPU-bound work); a budget of every core is the shared pool. The core splits
work in fixed chunks, so the count does not change the results, and keeps one pool per
thread count, built on first use (a short call still costs some 70 us more on such a
pool than on the shared one: the hand-over to the pool's threads).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from threadpoolctl import LibController, register

from . import _core

__all__ = ["resolve_n_jobs", "task_threads"]

#: Threads that ``n_jobs=None`` means in the current Dask task (None: no task).
_DEFAULT_THREADS: ContextVar[int | None] = ContextVar("rfkernels_default_threads", default=None)
#: The calling thread's threadpoolctl limit (None: no limit).
_BUDGET: ContextVar[int | None] = ContextVar("rfkernels_thread_budget", default=None)


def _positive_count(value: str | None) -> int | None:
    """The first entry of a thread-count variable (``"4"``, ``"4,2"``); None if unset or invalid."""
    first = (value or "").split(",")[0].strip()
    return int(first) if first.isdecimal() and int(first) > 0 else None


def _environment_threads(environ: Mapping[str, str]) -> tuple[int | None, int | None]:
    """``RAYON_NUM_THREADS`` and ``OMP_NUM_THREADS`` as counts (None: unset or invalid)."""
    return (
        _positive_count(environ.get("RAYON_NUM_THREADS")),
        _positive_count(environ.get("OMP_NUM_THREADS")),
    )


#: The thread variables when rfkernels was imported.
_RAYON_THREADS, _OMP_THREADS = _environment_threads(os.environ)


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

    ``None`` follows the budgets of the module docstring (``None`` returned: the
    shared pool of every core); a positive number asks for that many threads, at
    most the number of cores; ``-1`` means all cores and ``-2`` all but one.
    """
    if n_jobs is None:
        if _masking_threads() is not None:
            # A Dask task's count, or None: the shared pool rayon sized from RAYON_NUM_THREADS.
            return _DEFAULT_THREADS.get()
        return _budget_threads(_BUDGET.get())
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning; use None, a positive count or -1")
    cores = _cores()
    if n_jobs > 0:
        return min(int(n_jobs), cores)
    return max(1, cores + 1 + int(n_jobs))


def _cores() -> int:
    """The number of cores."""
    return os.cpu_count() or 1


def _masking_threads() -> int | None:
    """The settings above threadpoolctl's limit: a Dask task's threads, RAYON_NUM_THREADS."""
    return _DEFAULT_THREADS.get() or _RAYON_THREADS


def _budget_threads(budget: int | None) -> int | None:
    """A threadpoolctl limit ``budget``, else OMP_NUM_THREADS, capped; None for every core."""
    threads = budget or _OMP_THREADS
    return threads if threads is not None and threads < _cores() else None


def _current_threads() -> int:
    """The threads ``n_jobs=None`` uses in the calling thread now."""
    return _masking_threads() or resolve_n_jobs(None) or _cores()


def _limit_threads(threads: int) -> None:
    """Set the calling thread's budget (threadpoolctl's ``set_num_threads``).

    Without effect where a Dask task or ``RAYON_NUM_THREADS`` decides. threadpoolctl
    restores a limit by setting the count it read before: a count equal to the one
    without a limit clears the limit.
    """
    if _masking_threads() is not None:
        return
    unlimited = _budget_threads(None) or _cores()
    threads = max(1, min(int(threads), _cores()))
    _BUDGET.set(None if threads == unlimited else threads)


@functools.cache
def _is_core_library(filepath: str | None) -> bool:
    """Whether ``filepath`` is this rfkernels' compiled core."""
    same = os.path.normcase(os.path.realpath(filepath or ""))
    return same == os.path.normcase(os.path.realpath(_core.__file__))


class RfkernelsController(LibController):
    """rfkernels' Rust thread pool as a threadpoolctl library (``user_api="openmp"``).

    threadpoolctl finds it among the loaded shared libraries (the compiled
    ``_core`` module); ``num_threads`` is what ``n_jobs=None`` uses in the calling
    thread, and ``threadpool_limits`` sets that thread's budget. Select it with
    ``ThreadpoolController().select(internal_api="rfkernels")``.
    """

    user_api = "openmp"
    internal_api = "rfkernels"
    filename_prefixes = ("_core",)
    check_symbols = ("PyInit__core",)

    def set_additional_attributes(self) -> None:
        """Drop other packages' ``_core`` modules (threadpoolctl then finds no symbol)."""
        if not _is_core_library(self.filepath):
            self.dynlib = None

    def get_num_threads(self) -> int:
        """The threads ``n_jobs=None`` uses in the calling thread."""
        return _current_threads()

    def set_num_threads(self, num_threads: int) -> None:
        """Limit the threads of ``n_jobs=None`` in the calling thread."""
        _limit_threads(num_threads)

    def get_version(self) -> str:
        """The version of rfkernels."""
        return _core.__version__


register(RfkernelsController)
