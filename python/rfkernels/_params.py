"""Storing constructor arguments the scikit-learn way."""

from __future__ import annotations

from typing import Any

__all__ = ["store_params"]


def store_params(estimator: Any, arguments: dict[str, Any]) -> None:
    """Store every ``__init__`` argument unchanged under its own name.

    scikit-learn's rule for ``__init__`` (``get_params`` reads the attributes named
    by the signature): no validation, no logic. Called as
    ``store_params(self, locals())`` first thing in ``__init__``.
    """
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)
