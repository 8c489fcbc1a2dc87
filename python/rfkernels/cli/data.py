"""Reading the user's data for ``rfkernels sweep --data FILE``: npz and csv files.

Every problem with the file is a usage error: ``parser.error`` prints the usage and
one line naming the file and what is wrong, and exits with status 2.
"""

from __future__ import annotations

import argparse
import csv
import warnings
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["read_data"]


def read_data(
    data: str, target: str | None, parser: argparse.ArgumentParser
) -> tuple[Path, np.ndarray, np.ndarray, str]:
    """Load ``--data`` (an npz or csv file) and split it into features and targets.

    Parameters
    ----------
    data : str
        The path given to ``--data``; its suffix (``.npz`` or ``.csv``) says how to read it.
    target : str or None
        ``--target``: the csv target column's name, or several separated by commas;
        ``None`` takes the last column. Not allowed with an npz file.
    parser : argparse.ArgumentParser
        The ``sweep`` parser, which reports every problem as a usage error.

    Returns
    -------
    path : pathlib.Path
        The file read.
    X : ndarray of shape (n_samples, n_features_in)
        The features.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        The targets.
    target : str
        What the targets are, for the report: ``"y"`` or the csv column names.
    """
    path = Path(data)
    if not path.is_file():
        parser.error(f"--data {path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        if target is not None:
            parser.error("--target applies to csv files; an npz file holds the arrays 'X' and 'y'")
        X, y = _load_npz(path, parser)
        return path, X, y, "y"
    if suffix == ".csv":
        X, y, names = _load_csv(path, target, parser)
        return path, X, y, ", ".join(names)
    parser.error(f"--data {path}: expected a .npz or .csv file")


def _load_npz(path: Path, parser: argparse.ArgumentParser) -> tuple[np.ndarray, np.ndarray]:
    """The arrays ``X`` and ``y`` of an npz archive (as ``np.savez(path, X=X, y=y)`` writes)."""
    try:
        # Our own handle: np.load leaves its file open when the zip archive is corrupt.
        with path.open("rb") as handle:
            archive = np.load(handle, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):  # a single .npy array
                parser.error(f"--data {path}: not an npz archive (np.savez writes one)")
            with archive:
                missing = [key for key in ("X", "y") if key not in archive.files]
                if missing:
                    parser.error(
                        f"--data {path}: an npz file needs the arrays 'X' (n_samples, "
                        f"n_features) and 'y' (n_samples,) or (n_samples, n_targets); missing "
                        f"{', '.join(repr(key) for key in missing)} (found: "
                        f"{', '.join(archive.files) or 'no arrays'})"
                    )
                X, y = archive["X"], archive["y"]
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        parser.error(f"--data {path}: not a readable npz file ({error})")
    return X, y


def _load_csv(
    path: Path, target: str | None, parser: argparse.ArgumentParser
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features, targets and the targets' column names of a numeric csv file with a header."""
    header = _csv_header(path, parser)
    names = [name.strip() for name in target.split(",")] if target else [header[-1]]
    unknown = [name for name in names if name not in header]
    if unknown:
        parser.error(
            f"--target: no column {', '.join(repr(name) for name in unknown)} in {path} "
            f"(columns: {', '.join(header)})"
        )
    if len(names) == len(header):
        parser.error(f"--target: no feature columns left in {path} (columns: {', '.join(header)})")
    table = _csv_numbers(path, len(header), parser)
    columns = [header.index(name) for name in names]
    features = [i for i in range(len(header)) if i not in columns]
    y = table[:, columns[0]] if len(columns) == 1 else table[:, columns]
    return table[:, features], y, names


def _csv_header(path: Path, parser: argparse.ArgumentParser) -> list[str]:
    """The column names of the csv file's first row, stripped of spaces."""
    with path.open(newline="") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        parser.error(f"--data {path}: the csv file is empty (it needs a header row)")
    return [name.strip() for name in header]


def _csv_numbers(path: Path, n_columns: int, parser: argparse.ArgumentParser) -> np.ndarray:
    """The rows below the csv header as float64, checked to have ``n_columns`` columns."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64)
    except ValueError as error:
        parser.error(f"--data {path}: every column must be numeric, none missing ({error})")
    if table.size == 0:
        parser.error(f"--data {path}: no data rows below the header")
    if table.shape[1] != n_columns:
        parser.error(f"--data {path}: {n_columns} header names but {table.shape[1]} columns")
    return table
