"""The ``sweep`` and ``info`` commands (``demo`` is in :mod:`rfkernels.cli.demo`)."""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _core
from .._kernels import KERNELS
from ._figures import PLOT_HINT, plotting_available, save_figures
from .data import read_data

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
        The parsed ``sweep`` arguments; ``args.parser`` reports usage errors.

    Returns
    -------
    int
        The exit status, 0.
    """
    parser: argparse.ArgumentParser = args.parser
    path, X, y, target = read_data(args.data, args.target, parser)
    if args.csv is not None and importlib.util.find_spec("pandas") is None:
        parser.error(f"--csv needs pandas ({PLOT_HINT})")
    figures = not args.no_figures and plotting_available()
    print(
        f"rfkernels {_core.__version__} sweep: {path} ({X.shape[0]:,} rows, "
        f"{X.shape[1] if X.ndim == 2 else 1} features, target {target}), kind {args.kind}, "
        f"kernel {args.kernel} (gamma {args.gamma}), {args.seeds} seed(s)"
    )
    result = _sweep(args, X, y)
    print()
    print(result.table())
    if args.csv is not None:
        _write_csv(result, Path(args.csv))
    if figures:
        _write_figures(result, args, path.stem)
    elif not args.no_figures:
        print(f"\nmatplotlib is not installed: no figures ({PLOT_HINT}).")
    return 0


def _sweep(args: argparse.Namespace, X: np.ndarray, y: np.ndarray) -> SweepResult:
    """The sweep ``--kind`` asks for; its ``ValueError`` becomes a usage error."""
    from ..sweep import ridge_sweep, sample_sweep, width_sweep

    parser: argparse.ArgumentParser = args.parser
    options = _sweep_options(args)
    try:
        if args.kind == "samples":
            sizes = args.sizes or _default_sizes(len(X), args.test_size)
            return sample_sweep(X, y, sizes, n_components=args.width, **options)
        if args.kind == "ridge":
            widths = args.widths or RIDGE_WIDTHS
            return ridge_sweep(X, y, widths=widths, n_samples=args.n_samples, **options)
        widths = args.widths or SWEEP_WIDTHS
        return width_sweep(X, y, widths, n_samples=args.n_samples, **options)
    except ValueError as error:
        hint = " (here: --n-eigen, or --no-theory)" if "theory=True" in str(error) else ""
        parser.error(f"{error}{hint}")


def _sweep_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords every sweep function takes, from the command line."""
    return {
        "kernel": args.kernel,
        "gamma": args.gamma,
        "alphas": args.alphas,
        "seeds": tuple(range(args.seed, args.seed + args.seeds)),
        "test_size": args.test_size,
        "exact_kernel": not args.no_kernel,
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
