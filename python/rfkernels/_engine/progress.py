"""Progress of long work on stderr: phase lines and tqdm bars, shown by ``verbose``."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

__all__ = ["Progress"]


class Progress:
    """The one progress mechanism of estimators and sweeps.

    Parameters
    ----------
    name : str
        Prefix of every line (the estimator's class name, or the sweep).
    verbose : int
        0 shows nothing; 1 prints each phase; 2 and more also shows a bar per pass.
    """

    def __init__(self, name: str, verbose: int) -> None:
        self.name = name
        self.verbose = int(verbose)
        self.start = time.perf_counter()

    def phase(self, message: str) -> None:
        """Announce a phase of the work (``verbose >= 1``), with the time elapsed."""
        if self.verbose > 0:
            elapsed = time.perf_counter() - self.start
            tqdm.write(f"[{self.name}] {elapsed:7.1f} s  {message}", file=sys.stderr)

    @contextmanager
    def bar(self, description: str, total: int, unit: str) -> Iterator[Callable[..., None]]:
        """A function ``advance(count, note="")`` moving a bar of ``total`` ``unit``.

        The bar (``verbose >= 2``) shows ``done/total unit``, the time elapsed and
        left, and the last ``note``; without it ``advance`` does nothing.
        """
        if self.verbose < 2 or total <= 0:
            yield lambda count=1, note="": None
            return
        bar_format = "{desc}: {n_fmt}/{total_fmt} " + unit + " [{elapsed}<{remaining}{postfix}]"
        with tqdm(
            total=total, desc=f"[{self.name}] {description}", bar_format=bar_format, file=sys.stderr
        ) as progress:

            def advance(count: int = 1, note: str = "") -> None:
                if note:
                    progress.set_postfix_str(note, refresh=False)
                progress.update(count)

            yield advance
