"""Validation errors that name the argument they are about.

scikit-learn's checks name the input in some messages ("Input X contains NaN") and
not in others: "Found array with dim 3", "Complex data not supported" or "could not
convert string to float" read the same for ``X``, ``y`` and ``sample_weight``. The
estimators and functions validate each argument under :func:`naming`, which puts the
argument's name in front of a message that names no argument; a joint check of ``X``
and ``y`` (scikit-learn's ``validate_data(self, X, y)``, ``check_X_y``) runs under
:func:`naming_X_y`, which finds out which of the two was at fault. The message itself
is kept (only prefixed), so it still matches scikit-learn's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from sklearn.utils.validation import validate_data

__all__ = [
    "FLOAT_DTYPES",
    "finite_targets",
    "name_error",
    "names_any",
    "naming",
    "naming_X_y",
    "validate_X",
]

#: The float types an estimator's ``X`` keeps (others are converted to the first).
FLOAT_DTYPES = [np.float64, np.float32]


def names_any(message: str, names: tuple[str, ...]) -> bool:
    """Whether ``message`` holds one of ``names`` as a word (``y`` is not in ``yes``)."""
    return any(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", message) for name in names)


def name_error(error: BaseException, *names: str) -> None:
    """Put ``names: `` in front of ``error``'s message, unless it names one of them already."""
    message = str(error)
    if not names_any(message, names):
        error.args = (f"{' and '.join(names)}: {message}",)


@contextmanager
def naming(name: str) -> Iterator[None]:
    """A ``ValueError`` or ``TypeError`` raised inside names the argument ``name``."""
    try:
        yield
    except (ValueError, TypeError) as error:
        name_error(error, name)
        raise


@contextmanager
def naming_X_y(check_X: Callable[[], object], X: str = "X", y: str = "y") -> Iterator[None]:
    """A joint check of ``X`` and ``y`` inside names the one at fault, or both.

    ``check_X()`` repeats the check of ``X`` alone (it only runs after a failure that
    names neither): if it fails too, ``X`` was at fault, else ``y`` was, unless the
    lengths differ.
    """
    try:
        yield
    except (ValueError, TypeError) as error:
        message = str(error)
        if names_any(message, (X, y)):
            raise
        if "inconsistent numbers of samples" in message:
            name_error(error, X, y)
            raise
        try:
            check_X()
        except (ValueError, TypeError):
            name_error(error, X)
        else:
            name_error(error, y)
        raise


def finite_targets(y) -> np.ndarray:
    """Numeric targets as float64, refusing NaN and infinity with a message naming ``y``.

    scikit-learn's ``y_numeric`` converts an object ``y`` to floats after its own check
    of finiteness, so a ``None`` in it arrives here as NaN.
    """
    Y = np.asarray(y, dtype=np.float64)
    if not np.all(np.isfinite(Y)):
        raise ValueError("Input y contains NaN or infinity (a None in an object array is NaN)")
    return Y


def validate_X(estimator, X, *, reset: bool = True):
    """``validate_data(estimator, X)`` in float64 or float32; an error names ``X``."""
    with naming("X"):
        return validate_data(estimator, X, dtype=FLOAT_DTYPES, reset=reset)
