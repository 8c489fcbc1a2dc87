"""Reading the user's data for ``rfkernels sweep --data FILE``: npz and csv files.

An npz file holds the arrays ``X`` and ``y``. A csv file is read with pandas when it
is installed (text columns, quoted fields, empty fields as missing), else with numpy
(numbers only); :func:`~rfkernels.cli._columns.table_data` then turns its columns
into features and targets. Every problem with the file is a
:class:`~rfkernels.cli._errors.CommandError`: one line naming the file or the flag.
"""

from __future__ import annotations

import csv
import importlib.util
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._columns import MAX_CATEGORIES, Columns, table_data
from ._errors import CommandError

__all__ = ["Dataset", "pandas_installed", "read_data"]

#: How to install pandas, quoted when a csv file needs it.
PANDAS_HINT = "pip install pandas"


@dataclass(frozen=True)
class Dataset:
    """The user's data as the sweep takes it.

    Attributes
    ----------
    path : pathlib.Path
        The file read.
    X : ndarray of shape (n_samples, n_features_in)
        The features.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        The targets.
    target : str
        What the targets are, for the report: ``"y"`` or the csv column names.
    standardize : ndarray of bool of shape (n_features_in,)
        The feature columns to standardize (all but one-hot indicators).
    notes : tuple of str
        How the columns were read, one sentence each.
    """

    path: Path
    X: np.ndarray
    y: np.ndarray
    target: str
    standardize: np.ndarray
    notes: tuple[str, ...] = ()


def read_data(
    data: str,
    target: str | None,
    *,
    categorical: str = "onehot",
    max_categories: int = MAX_CATEGORIES,
    dropna: bool = False,
) -> Dataset:
    """Load ``--data`` (an npz or csv file) and split it into features and targets.

    Parameters
    ----------
    data : str
        The path given to ``--data``; its suffix (``.npz`` or ``.csv``) says how to read it.
    target : str or None
        ``--target``: the csv target column's name, or several separated by commas;
        ``None`` takes the last column. Not allowed with an npz file.
    categorical, max_categories, dropna
        ``--categorical``, ``--max-categories`` and ``--dropna``: how a csv file's
        text columns and missing values are handled (see
        :func:`~rfkernels.cli._columns.table_data`).

    Returns
    -------
    Dataset
        The features, targets and notes.

    Raises
    ------
    CommandError
        For a missing or unreadable file, or columns the sweep cannot use.
    """
    path = Path(data)
    source = f"--data {path}"
    if not path.is_file():
        raise CommandError(f"{source}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        if target is not None:
            raise CommandError(
                "--target applies to csv files; an npz file holds the arrays 'X' and 'y'"
            )
        X, y = _load_npz(path, source)
        n_features = X.shape[1] if X.ndim == 2 else 1
        return Dataset(path, X, y, "y", np.ones(n_features, dtype=bool))
    if suffix != ".csv":
        raise CommandError(f"{source}: expected a .npz or .csv file")
    table = table_data(
        _csv_columns(path, source),
        target,
        source=source,
        categorical=categorical,
        max_categories=max_categories,
        dropna=dropna,
    )
    return Dataset(path, table.X, table.y, ", ".join(table.targets), table.standardize, table.notes)


def _load_npz(path: Path, source: str) -> tuple[np.ndarray, np.ndarray]:
    """The arrays ``X`` and ``y`` of an npz archive (as ``np.savez(path, X=X, y=y)`` writes)."""
    try:
        # Our own handle: np.load leaves its file open when the zip archive is corrupt.
        with path.open("rb") as handle:
            archive = np.load(handle, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):  # a single .npy array
                raise CommandError(f"{source}: not an npz archive (np.savez writes one)")
            with archive:
                missing = [key for key in ("X", "y") if key not in archive.files]
                if missing:
                    raise CommandError(
                        f"{source}: an npz file needs the arrays 'X' (n_samples, "
                        f"n_features) and 'y' (n_samples,) or (n_samples, n_targets); missing "
                        f"{', '.join(repr(key) for key in missing)} (found: "
                        f"{', '.join(archive.files) or 'no arrays'})"
                    )
                X, y = archive["X"], archive["y"]
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise CommandError(f"{source}: not a readable npz file ({error})") from error
    return X, y


def pandas_installed() -> bool:
    """Whether pandas can be imported (it reads csv files and writes ``--csv``).

    Returns
    -------
    bool
        ``False`` if pandas is not installed.
    """
    return importlib.util.find_spec("pandas") is not None


def _csv_columns(path: Path, source: str) -> Columns:
    """The csv file's columns by name: with pandas if installed, else numbers with numpy."""
    if pandas_installed():
        return _pandas_columns(path, source)
    return _numpy_columns(path, source)


def _pandas_columns(path: Path, source: str) -> Columns:
    """The columns pandas reads: numbers (and booleans) as float64, the rest as text."""
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except pd.errors.EmptyDataError as error:
        raise CommandError(f"{source}: the csv file is empty (it needs a header row)") from error
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise CommandError(f"{source}: not a readable csv file ({error})") from error
    columns: Columns = {}
    for name in frame.columns:
        series = frame[name]
        if is_bool_dtype(series) or is_numeric_dtype(series):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            missing = series.isna().to_numpy()
            values = np.array(
                [None if gap else str(value) for value, gap in zip(series, missing, strict=True)],
                dtype=object,
            )
        columns[str(name).strip()] = values
    return columns


def _numpy_columns(path: Path, source: str) -> Columns:
    """The columns of an all-numeric csv file, read without pandas."""
    with path.open(newline="") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise CommandError(f"{source}: the csv file is empty (it needs a header row)")
    names = [name.strip() for name in header]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64)
    except ValueError as error:
        raise CommandError(
            f"{source}: without pandas every column must be a number, none empty ({error}); "
            f"{PANDAS_HINT} to read text columns and missing values"
        ) from error
    if table.size == 0:
        table = np.empty((0, len(names)))
    if table.shape[1] != len(names):
        raise CommandError(f"{source}: {len(names)} header names but {table.shape[1]} columns")
    return {name: table[:, j] for j, name in enumerate(names)}
