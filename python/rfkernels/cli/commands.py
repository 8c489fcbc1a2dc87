"""The ``sweep`` and ``info`` commands (``demo`` is in :mod:`rfkernels.cli.demo`)."""

from __future__ import annotations

import argparse
import math
import os
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _core
from .._kernels import KERNELS
from ._errors import CommandError
from ._figures import PLOT_HINT, plotting_available, save_figures
from .data import Dataset, pandas_installed, read_data

if TYPE_CHECKING:
    from ..sweep import SweepResult

__all__ = ["RIDGE_WIDTHS", "SWEEP_WIDTHS", "run_info", "run_sweep"]

#: ``rfkernels sweep`` defaults: the widths of ``--kind width`` and of ``--kind ridge``.
SWEEP_WIDTHS = (16, 64, 256, 1024, 4096)
RIDGE_WIDTHS = (64, 256, 1024)


# --------------------------------------------------------------------------- sweep


def run_sweep(args: argparse.Namespace) -> int:
    """Run one sweep on the user's data, print its table, write figures and csv.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``sweep`` arguments.

    Returns
    -------
    int
        The exit status, 0.

    Raises
    ------
    CommandError
        For a file or columns the sweep cannot use; the sweep's own ``ValueError``
        and ``MemoryError`` pass through to :func:`rfkernels.cli.main`, which prints
        them as one line.
    """
    started = time.perf_counter()
    data = read_data(
        args.data,
        args.target,
        categorical=args.categorical,
        max_categories=args.max_categories,
        dropna=args.dropna,
    )
    if args.csv is not None and not pandas_installed():
        raise CommandError(f"--csv needs pandas ({PLOT_HINT})")
    figures = not args.no_figures and plotting_available()
    X = data.X
    print(
        f"rfkernels {_core.__version__} sweep: {data.path} ({X.shape[0]:,} rows, "
        f"{X.shape[1] if X.ndim == 2 else 1} features, target {data.target}), kind "
        f"{args.kind}{' over Nystrom centers' if args.feature_map == 'nystroem' else ''}, "
        f"kernel {args.kernel} (gamma {args.gamma}), {args.seeds} seed(s)"
    )
    for note in data.notes:
        print(note)
    result = _sweep(args, data)
    print()
    print(result.table())
    print()
    print(result.summary())
    if args.csv is not None:
        _write_csv(result, Path(args.csv))
    if figures:
        _write_figures(result, args, data.path.stem)
    elif not args.no_figures:
        print(f"\nmatplotlib is not installed: no figures ({PLOT_HINT}).")
    print(f"\nDone in {time.perf_counter() - started:.0f} s.")
    return 0


def _sweep(args: argparse.Namespace, data: Dataset) -> SweepResult:
    """The sweep ``--kind`` asks for.

    The warning of a kernel line on a subsample is not shown: the table's header
    states it.
    """
    from ..sweep import ridge_sweep, sample_sweep, width_sweep

    options = _sweep_options(args, data)
    X, y = data.X, data.y
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="exact_kernel='auto'", category=UserWarning)
        if args.kind == "samples":
            sizes = args.sizes or _default_sizes(len(X), args.test_size)
            return sample_sweep(X, y, sizes, n_components=args.width, **options)
        if args.kind == "ridge":
            widths = args.widths or RIDGE_WIDTHS
            return ridge_sweep(X, y, widths=widths, n_samples=args.n_samples, **options)
        widths = args.widths or SWEEP_WIDTHS
        return width_sweep(X, y, widths, n_samples=args.n_samples, **options)


def _sweep_options(args: argparse.Namespace, data: Dataset) -> dict[str, Any]:
    """The keywords every sweep function takes, from the command line."""
    return {
        "kernel": args.kernel,
        "feature_map": args.feature_map,
        "gamma": args.gamma,
        "alphas": args.alphas,
        "seeds": tuple(range(args.seed, args.seed + args.seeds)),
        "test_size": args.test_size,
        "standardize": False if args.no_standardize else data.standardize,
        "scale_target": args.scale_target,
        "exact_kernel": False if args.no_kernel else "auto",
        "n_kernel": args.n_kernel,
        "theory": not args.no_theory,
        "n_eigen": args.n_eigen,
        "progress": not args.no_progress,
    }


def _default_sizes(n_rows: int, test_size: float) -> tuple[int, ...]:
    """Sizes 32, 128, 512, ... below the training split, then the whole split."""
    n_train = n_rows - math.ceil(test_size * n_rows)
    sizes = [size for size in (2 ** (5 + 2 * i) for i in range(12)) if size < n_train]
    return (*sizes, n_train)


def _write_csv(result: SweepResult, csv_path: Path) -> None:
    """Write ``result.to_frame()`` to ``--csv`` and say where."""
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    result.to_frame().to_csv(csv_path, index=False)
    print(f"\nResults (long format, one row per seed, value and alpha): {csv_path}")


def _write_figures(result: SweepResult, args: argparse.Namespace, stem: str) -> None:
    """Write the figures of ``--kind`` to ``--out`` and list them."""
    if args.kind == "ridge":  # <data>_ridge.png
        paths = save_figures(result, stem, ("ridge",), Path(args.out))
    else:  # <data>_<kind>_{tuned,ridge,fit}.png
        kinds = ("tuned", "ridge", "fit")
        paths = save_figures(result, f"{stem}_{args.kind}", kinds, Path(args.out))
    print("\nFigures:")
    for figure_path in paths:
        print(f"  {figure_path}")


# --------------------------------------------------------------------------- info


def run_info(args: argparse.Namespace) -> int:
    """Print the build and machine facts that affect speed.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``info`` arguments (there are none).

    Returns
    -------
    int
        The exit status, 0.
    """
    print(f"rfkernels {_core.__version__}")
    print(f"SIMD instruction set: {_core.simd_isa()}")
    print(f"CPU cores: {os.cpu_count()}; RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS')}")
    print(f"kernels: {', '.join(KERNELS)}")
    return 0
