"""From the columns of a csv file to the sweep's features and targets.

:func:`table_data` takes the file's columns (float64 with NaN where missing, or
text: object arrays with ``None`` where missing) and makes the choices every user
of tabular data needs: it drops a row index that pandas or R wrote, picks the
targets, refuses or drops rows with missing values, and encodes the text columns
(one-hot indicators, ordinal codes, or dropped). It says what it did in notes, one
line each, and reports every problem as a :class:`~rfkernels.cli._errors.CommandError`
naming the column and the flag that helps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._errors import CommandError

__all__ = ["CATEGORICAL", "INDEX_NAMES", "MAX_CATEGORIES", "Columns", "TableData", "table_data"]

#: ``--categorical``: how text feature columns become numbers.
CATEGORICAL = ("onehot", "ordinal", "drop")
#: ``--max-categories``: the most one-hot indicators a text column gets by default.
MAX_CATEGORIES = 20
#: Names of a first column that is a row index: R's ``write.csv`` (an empty name, which
#: pandas reads as ``Unnamed: 0``, as it does its own index), and Rdatasets' ``rownames``.
INDEX_NAMES = ("", "Unnamed: 0", "rownames")
#: Missing-value counts named in an error before "and N more columns".
NAMED_COLUMNS = 3

#: The columns of a file by name, in order: float64 (NaN where missing) or text (object
#: arrays of str, ``None`` where missing).
Columns = dict[str, np.ndarray]


@dataclass(frozen=True)
class TableData:
    """Features and targets of a table, with what was done to its columns.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features_in)
        The features, float64.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        The targets, float64.
    targets : list of str
        The target columns' names.
    standardize : ndarray of bool of shape (n_features_in,)
        The columns the sweep standardizes: numeric ones and ordinal codes, not
        one-hot indicators (which stay 0 and 1, so that a different category adds 2 to
        a squared distance, as a standardized numeric column does on average).
    notes : tuple of str
        What was done, one sentence each, for the command's header.
    """

    X: np.ndarray
    y: np.ndarray
    targets: list[str]
    standardize: np.ndarray
    notes: tuple[str, ...]


def table_data(
    columns: Columns,
    target: str | None,
    *,
    source: str,
    categorical: str = "onehot",
    max_categories: int = MAX_CATEGORIES,
    dropna: bool = False,
) -> TableData:
    """Features and targets of ``columns``, as ``rfkernels sweep`` takes them.

    Parameters
    ----------
    columns : dict of str to ndarray of shape (n_rows,)
        The file's columns by name, in order: float64 with NaN where missing, or
        object arrays of str with ``None`` where missing (text).
    target : str or None
        ``--target``: a column name, or several separated by commas; ``None`` takes
        the last column.
    source : str
        How errors name the file, as ``--data FILE``.
    categorical : {"onehot", "ordinal", "drop"}, default="onehot"
        Text feature columns become one 0/1 column per category, one column of codes
        (categories in sorted order), or nothing.
    max_categories : int, default=20
        ``"onehot"``: a column with more categories keeps the ``max_categories - 1``
        most frequent and one indicator for all the others.
    dropna : bool, default=False
        Drop the rows with a missing value in a used column; without it they are an
        error naming the columns.

    Returns
    -------
    TableData
        The features, targets and notes.

    Raises
    ------
    CommandError
        With one line naming the problem and the flag that helps.

    Examples
    --------
    >>> import numpy as np
    >>> columns = {"size": np.array([1.0, 2.0, 3.0]),
    ...            "cut": np.array(["fair", "good", "fair"], dtype=object),
    ...            "price": np.array([10.0, 20.0, 25.0])}
    >>> data = table_data(columns, "price", source="--data d.csv")
    >>> data.X
    array([[1., 1., 0.],
           [2., 0., 1.],
           [3., 1., 0.]])
    >>> data.standardize.tolist()
    [True, False, False]
    >>> for part in data.notes[0].split("; "):
    ...     print(part)
    Columns: target price
    1 numeric feature (size)
    1 text feature one-hot encoded (cut: 2 categories
    at most 20 per column): 3 feature columns.
    """
    names, notes = list(columns), []
    n_rows = len(next(iter(columns.values()))) if columns else 0
    if n_rows == 0:
        raise CommandError(f"{source}: no data rows below the header")
    targets = _target_names(names, target, source)
    if names[0] in INDEX_NAMES and names[0] not in targets and len(names) > 1:
        notes.append(f"Dropped the first column {names[0]!r}: a row index, as R or pandas write.")
        names = names[1:]
        targets = _target_names(names, target, source)
    features = [name for name in names if name not in targets]
    if not features:
        if len(names) == 1:
            raise CommandError(
                f"{source}: only one column ({names[0]!r}); a sweep needs a target column and "
                "at least one feature column"
            )
        raise CommandError(f"--target: no feature columns left in {source} ({_listed(names)})")
    if all(_is_text(columns[name]) for name in names):
        raise CommandError(
            f"{source}: every column is text ({_listed(names)}); a sweep needs a numeric "
            "target column"
        )
    for name in targets:
        if _is_text(columns[name]):
            raise CommandError(
                f"--target {name}: a text column (values such as {_examples(columns[name])}); "
                "the target must be numeric"
            )
    text = [name for name in features if _is_text(columns[name])]
    if categorical == "drop" and text:
        features = [name for name in features if name not in text]
        notes.append(f"Dropped the text columns {_listed(text)} (--categorical drop).")
        if not features:
            raise CommandError(
                f"{source}: no numeric feature columns (text: {_listed(text)}); use "
                "--categorical onehot or ordinal to encode them"
            )
        text = []
    keep = _complete_rows(columns, [*features, *targets], source, dropna)
    if keep is not None:
        notes.append(
            f"Dropped {n_rows - keep.sum():,} of the {n_rows:,} rows for missing values "
            f"(--dropna): {keep.sum():,} left."
        )
        columns = {name: columns[name][keep] for name in [*features, *targets]}
    blocks, standardize, encoded = [], [], []
    for name in features:
        if name not in text:
            blocks.append(columns[name][:, None])
            standardize.append(True)
        elif categorical == "ordinal":
            blocks.append(_ordinal_codes(columns[name])[:, None])
            standardize.append(True)
        else:
            block, count = _one_hot(columns[name], max_categories)
            blocks.append(block)
            standardize += [False] * block.shape[1]
            encoded.append(f"{name}: {_categories(count, block.shape[1])}")
    X = np.hstack(blocks).astype(np.float64, copy=False)
    Y = np.column_stack([columns[name] for name in targets]).astype(np.float64, copy=False)
    notes.insert(0, _columns_note(features, text, targets, categorical, encoded, max_categories))
    notes[0] += f": {X.shape[1]} feature columns."
    return TableData(
        X, Y[:, 0] if len(targets) == 1 else Y, targets, np.array(standardize), tuple(notes)
    )


def _target_names(names: Sequence[str], target: str | None, source: str) -> list[str]:
    """The target columns: ``--target``'s names, checked, or the last column."""
    targets = [name.strip() for name in target.split(",")] if target else [names[-1]]
    unknown = [name for name in targets if name not in names]
    if unknown:
        raise CommandError(
            f"--target: no column {', '.join(repr(name) for name in unknown)} in {source} "
            f"(columns: {_listed(names)})"
        )
    return targets


def _is_text(column: np.ndarray) -> bool:
    """Whether a column holds text (an object array) rather than numbers."""
    return column.dtype == object


def _missing(column: np.ndarray) -> np.ndarray:
    """Where a column's values are missing (NaN, or ``None`` in text)."""
    if _is_text(column):
        return np.array([value is None for value in column], dtype=bool)
    return np.isnan(column)


def _complete_rows(
    columns: Columns, used: list[str], source: str, dropna: bool
) -> np.ndarray | None:
    """The rows without a missing value (``None`` if that is every row).

    Missing values are an error naming the columns, unless ``dropna``.
    """
    missing = {name: _missing(columns[name]) for name in used}
    counts = {name: int(mask.sum()) for name, mask in missing.items() if mask.any()}
    if not counts:
        return None
    if not dropna:
        shown = list(counts.items())[:NAMED_COLUMNS]
        named = [f"{name!r} ({count:,} rows)" for name, count in shown]
        more = len(counts) - NAMED_COLUMNS
        rest = f" and {more} more columns" if more > 0 else ""
        raise CommandError(
            f"{source}: missing values in column {', '.join(named)}{rest}; pass --dropna to "
            "drop those rows"
        )
    keep = ~np.logical_or.reduce(list(missing.values()))
    if not keep.any():
        raise CommandError(f"{source}: every row has a missing value; --dropna leaves none")
    return keep


def _ordinal_codes(column: np.ndarray) -> np.ndarray:
    """The index of each value among the column's sorted categories, as float64."""
    _, codes = np.unique(column.astype(str), return_inverse=True)
    return codes.astype(np.float64)


def _one_hot(column: np.ndarray, max_categories: int) -> tuple[np.ndarray, int]:
    """One 0/1 column per category (sorted), and the number of categories.

    Past ``max_categories`` categories, the ``max_categories - 1`` most frequent keep
    their columns (ties by name) and the others share one last column.
    """
    categories, codes, counts = np.unique(
        column.astype(str), return_inverse=True, return_counts=True
    )
    if len(categories) > max_categories:
        order = np.lexsort((categories, -counts))  # most frequent first, ties by name
        kept = np.sort(order[: max_categories - 1])
        position = np.full(len(categories), max_categories - 1)
        position[kept] = np.arange(max_categories - 1)
        codes = position[codes]
        n_columns = max_categories
    else:
        n_columns = len(categories)
    block = np.zeros((len(column), n_columns))
    block[np.arange(len(column)), codes] = 1.0
    return block, len(categories)


def _categories(count: int, n_columns: int) -> str:
    """A one-hot column's categories in a note, with the lumping past the cap."""
    if n_columns == count:
        return f"{count} categories"
    return f"{count} categories, the {n_columns - 1} most frequent and 'other'"


def _columns_note(
    features: list[str],
    text: list[str],
    targets: list[str],
    categorical: str,
    encoded: list[str],
    max_categories: int,
) -> str:
    """The first note: the target, the numeric features and how the text ones are encoded."""
    numeric = [name for name in features if name not in text]
    parts = [f"Columns: target {', '.join(targets)}"]
    if numeric:
        parts.append(f"{_count(len(numeric), 'numeric feature')} ({_listed(numeric)})")
    if text and categorical == "onehot":
        parts.append(
            f"{_count(len(text), 'text feature')} one-hot encoded ({', '.join(encoded)}; at most "
            f"{max_categories} per column)"
        )
    elif text:
        parts.append(
            f"{_count(len(text), 'text feature')} as ordinal codes of their sorted categories "
            f"({_listed(text)})"
        )
    return "; ".join(parts)


def _count(count: int, noun: str) -> str:
    """``"1 numeric feature"``, ``"6 numeric features"``."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _listed(names: Sequence[str], limit: int = 12) -> str:
    """Column names for a message, at most ``limit`` of them."""
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names)} columns)"


def _examples(column: np.ndarray) -> str:
    """Two distinct values of a text column, quoted."""
    values = [value for value in dict.fromkeys(column.tolist()) if value is not None][:2]
    return ", ".join(repr(value) for value in values)
