"""Errors as a command line gives them: one line on stderr, the command's own flags.

:class:`CommandError` is a problem the user can fix (a bad file, a missing column);
:func:`report_error` prints any error that ends a command as one line, ``rfkernels
sweep: error: ...``, with the Python argument names of the library's messages
replaced by the flags that set them, and returns the exit status. ``--debug`` skips
it and shows the traceback instead (:func:`rfkernels.cli.main`). Malformed flags
are argparse's to report, with the usage, before any of this runs.
"""

from __future__ import annotations

import re
import sys

__all__ = ["CommandError", "command_flags", "report_error"]

#: Exit status of errors the user can fix (argparse's, for usage errors).
USAGE_STATUS = 2
#: Exit status of an unexpected error (a bug).
INTERNAL_STATUS = 1
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED_STATUS = 130

#: The sweeps' Python words and the ``sweep`` command's flags for them, replaced in order
#: wherever they stand as whole words.
SWEEP_FLAGS = (
    ("theory=True", "the theory"),
    ("theory=False", "--no-theory"),
    ("exact_kernel=False", "--no-kernel"),
    ("n_eigen", "--n-eigen"),
    ("n_kernel", "--n-kernel"),
    ("n_samples", "--n-samples"),
    ("n_components", "--width"),
    ("sizes", "--sizes"),
    ("widths", "--widths"),
    ("a numeric gamma", "a numeric --gamma"),
)
#: Appended to a ``MemoryError``: what makes a sweep smaller.
MEMORY_HINT = "use fewer training rows (--n-samples, --sizes) or narrower --widths"


class CommandError(Exception):
    """A problem with the command's input that the user can fix: one line, exit status 2."""


def command_flags(message: str) -> str:
    """``message`` with the sweeps' argument names replaced by the ``sweep`` flags.

    Parameters
    ----------
    message : str
        An error message of :mod:`rfkernels.sweep`.

    Returns
    -------
    str
        The message a user of ``rfkernels sweep`` can act on.

    Examples
    --------
    >>> command_flags("raise n_eigen, give more data or pass theory=False")
    'raise --n-eigen, give more data or pass --no-theory'
    """
    for name, flag in SWEEP_FLAGS:
        message = re.sub(rf"(?<![\w-]){re.escape(name)}(?!\w)", flag, message)
    return message


def report_error(command: str, error: BaseException) -> int:
    """Print ``error`` as one line on stderr and return the command's exit status.

    Parameters
    ----------
    command : str
        The subcommand that failed, for the prefix ``rfkernels <command>:``.
    error : BaseException
        What ended it.

    Returns
    -------
    int
        2 for a :class:`CommandError`, a ``ValueError`` or a ``MemoryError`` (the input
        or the sizes asked for), 130 for Ctrl-C, 1 for anything else (a bug: the line
        says to rerun with ``--debug`` for the traceback).
    """
    prefix = f"rfkernels {command}:"
    if isinstance(error, KeyboardInterrupt):
        _print_line(f"{prefix} interrupted")
        return INTERRUPTED_STATUS
    if isinstance(error, CommandError):
        _print_line(f"{prefix} error: {error}")
        return USAGE_STATUS
    if isinstance(error, MemoryError):
        text = str(error) or "out of memory"
        _print_line(f"{prefix} error: {command_flags(text)}; {MEMORY_HINT}")
        return USAGE_STATUS
    if isinstance(error, ValueError):
        _print_line(f"{prefix} error: {command_flags(str(error))}")
        return USAGE_STATUS
    _print_line(
        f"{prefix} internal error: {type(error).__name__}: {error} (rerun with --debug for "
        "the traceback)"
    )
    return INTERNAL_STATUS


def _print_line(text: str) -> None:
    """``text`` on stderr as a single line (newlines and runs of spaces collapsed)."""
    print(" ".join(text.split()), file=sys.stderr)
