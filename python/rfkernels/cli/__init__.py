"""The ``rfkernels`` command line: ``demo``, ``sweep`` and ``info``.

``rfkernels demo`` runs the width and sample sweeps of :mod:`rfkernels.sweep` on
scikit-learn's bundled digits and on a synthetic power-law task, prints a table per
sweep with a short explanation, and writes the figures as PNG files
(:mod:`rfkernels.cli.demo`). ``rfkernels sweep --data FILE`` runs one sweep on a user's
npz or csv file (:mod:`rfkernels.cli.commands`, reading it with
:mod:`rfkernels.cli.data`, whose text columns, index column and missing values
``rfkernels.cli._columns`` handles). ``rfkernels info`` prints the build and machine
facts that affect speed. This module holds the argument parser and :func:`main`, the
entry point of the ``rfkernels`` script and of ``python -m rfkernels``, which prints
every error as one line (``rfkernels.cli._errors``; ``--debug`` for the traceback).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .. import _core
from .._kernels import KERNELS
from ..sweep import GAMMA_ROWS, KERNEL_ROWS
from ._columns import CATEGORICAL, MAX_CATEGORIES
from ._errors import report_error
from .commands import RIDGE_WIDTHS, SWEEP_WIDTHS, run_info, run_sweep
from .demo import run_demo

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rfkernels`` command line with ``argv`` (default: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : sequence of str or None, default=None
        The arguments after the program name; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0; 2 for a problem with the input (a file, a column, a size),
        printed as one line on stderr; 1 when standard output was closed early (as by
        ``rfkernels demo | head``) or for an unexpected error (one line; ``--debug``
        shows the traceback); 130 after Ctrl-C. Malformed arguments exit with status
        2 through ``SystemExit``, with the usage, as argparse does.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except BrokenPipeError:  # e.g. `rfkernels demo | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (Exception, KeyboardInterrupt) as error:
        if args.debug:
            raise
        return report_error(args.command, error)


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``rfkernels`` command."""
    parser = argparse.ArgumentParser(
        prog="rfkernels",
        description="Fast random-feature kernel methods (Rust core, scikit-learn API), and "
        "sweeps that show how random-feature ridge regression improves with width, samples "
        "and a tuned ridge.",
    )
    parser.add_argument("--version", action="version", version=_core.__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        help="show the Python traceback of an error instead of one line",
    )
    _add_demo_parser(commands, common)
    _add_sweep_parser(commands, common)
    _add_info_parser(commands, common)
    return parser


#: The subcommands' parsers, as ``add_subparsers`` returns them.
_Commands = argparse._SubParsersAction


def _add_demo_parser(
    commands: _Commands[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """The ``demo`` subcommand and its options (``common``: those of every subcommand)."""
    demo_parser = commands.add_parser(
        "demo",
        parents=[common],
        help="show 'more is better' on real and synthetic data (tables and figures)",
        description="Width and sample sweeps of random-feature ridge regression on "
        "scikit-learn's bundled digits (one-hot targets) and on a synthetic power-law task: "
        "the test error at the leave-one-out ridge falls with width and with samples toward "
        "the exact kernel's, the tuned ridge is small, and the theory's prediction tracks "
        "the measurement. Prints a table per sweep and writes PNG figures. Takes under two "
        "minutes on two cores (--quick: about 7 s).",
    )
    demo_parser.add_argument(
        "--out",
        default=".",
        metavar="DIR",
        help="directory for the PNG figures, created if needed (default: the current one)",
    )
    demo_parser.add_argument(
        "--quick",
        action="store_true",
        help="much smaller grids and data: about 7 s on two cores",
    )
    demo_parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="first random seed; the sweeps average over this and the next seeds (default: 0)",
    )
    demo_parser.add_argument(
        "--kernel",
        default="rbf",
        choices=list(KERNELS),
        help="kernel of the digits sweeps (default: rbf; the synthetic task always uses linear)",
    )
    demo_parser.add_argument(
        "--no-figures", action="store_true", help="print the tables only, write no files"
    )
    demo_parser.add_argument(
        "--no-progress", action="store_true", help="no progress bars on stderr"
    )
    demo_parser.set_defaults(run=run_demo)


def _add_sweep_parser(
    commands: _Commands[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """The ``sweep`` subcommand and its options (``common``: those of every subcommand)."""
    positive_int = _positive(int)
    sweep_parser = commands.add_parser(
        "sweep",
        parents=[common],
        help="sweep width, samples or ridge on your own data",
        description="Sweep random-feature ridge regression on your data: the width (--kind "
        "width), the number of training samples (--kind samples) or the ridge at a few widths "
        "(--kind ridge). A random test split (--test-size) is held out once; the ridge "
        "is tuned by exact leave-one-out on the training rows; each seed draws new random "
        "features (and new training rows when --n-samples or --sizes subsample). Prints a "
        "table, writes PNG figures (<data>_<kind>_{tuned,ridge,fit}.png, or <data>_ridge.png) "
        "and optionally the results as csv. By default the numeric features are "
        "standardized and the targets centered on the training split (no intercept is "
        "fitted, as in the theory), text columns are one-hot encoded, and the exact kernel "
        "is fitted on a subsample that fits in memory; the output's header says what was "
        "done.",
    )
    sweep_parser.add_argument(
        "--data",
        required=True,
        metavar="FILE",
        help="an .npz file with arrays X (n_samples, n_features) and y (n_samples,) or "
        "(n_samples, n_targets), or a .csv file with a header row (read with pandas when "
        "installed; without it, numbers only)",
    )
    sweep_parser.add_argument(
        "--target",
        metavar="COLUMN",
        help="csv only: the target column's name, or several names separated by commas "
        "(default: the last column); the other columns are the features",
    )
    sweep_parser.add_argument(
        "--categorical",
        choices=CATEGORICAL,
        default="onehot",
        help="csv only: text feature columns become one 0/1 column per category (onehot), "
        "one column of codes of their sorted categories (ordinal), or are dropped "
        "(default: onehot)",
    )
    sweep_parser.add_argument(
        "--max-categories",
        type=positive_int,
        default=MAX_CATEGORIES,
        metavar="K",
        help="onehot: a text column with more categories keeps its K-1 most frequent and "
        f"one column for the others (default: {MAX_CATEGORIES})",
    )
    sweep_parser.add_argument(
        "--dropna",
        action="store_true",
        help="csv only: drop the rows with missing values in the columns used (without it "
        "they are an error)",
    )
    sweep_parser.add_argument(
        "--no-standardize",
        action="store_true",
        help="use the columns as given: do not standardize the numeric features (mean 0, "
        "variance 1) nor center the targets on the training split",
    )
    sweep_parser.add_argument(
        "--scale-target",
        action="store_true",
        help="also divide the targets by their standard deviation on the training split: "
        "the MSE is then in units of the target variance",
    )
    sweep_parser.add_argument(
        "--kind",
        choices=("width", "samples", "ridge"),
        default="width",
        help="what to sweep: the number of random features, the number of training "
        "samples, or the ridge at each of --widths (default: width)",
    )
    sweep_parser.add_argument(
        "--widths",
        type=_int_list,
        metavar="K,K,...",
        help=f"widths (numbers of random features) for --kind width (default: "
        f"{','.join(map(str, SWEEP_WIDTHS))}) or ridge (default: "
        f"{','.join(map(str, RIDGE_WIDTHS))})",
    )
    sweep_parser.add_argument(
        "--sizes",
        type=_int_list,
        metavar="N,N,...",
        help="training-set sizes for --kind samples (default: 32, 128, 512, ... and the "
        "whole training split)",
    )
    sweep_parser.add_argument(
        "--width",
        type=positive_int,
        default=256,
        metavar="K",
        help="number of random features of --kind samples (default: 256)",
    )
    sweep_parser.add_argument(
        "--n-samples",
        type=positive_int,
        metavar="N",
        help="training rows for --kind width and ridge (default: the whole training split)",
    )
    sweep_parser.add_argument(
        "--kernel", default="rbf", choices=list(KERNELS), help="kernel (default: rbf)"
    )
    sweep_parser.add_argument(
        "--feature-map",
        default="random",
        choices=["random", "nystroem"],
        help="what a width is for --kind width and ridge: random features D, or Nystrom "
        "centers M drawn from the training rows (kernel ridge on M centers; default: random)",
    )
    sweep_parser.add_argument(
        "--gamma",
        type=_gamma,
        default="scale",
        help="kernel scale: 'scale' (from the data's variance, as RBFSampler), 'loo' "
        f"(chosen by leave-one-out of kernel ridge on {GAMMA_ROWS} training rows among 1/64 "
        "to 64 times the 'scale' value) or a number (default: scale)",
    )
    sweep_parser.add_argument(
        "--alphas",
        type=_alphas,
        default="auto",
        help="ridges (scikit-learn's alpha, not divided by n): 'auto' (0, then 4 per "
        "decade from 1e-6 n to 10 n times the mean of K(x, x)) or comma-separated numbers "
        "(default: auto)",
    )
    sweep_parser.add_argument(
        "--seeds",
        type=positive_int,
        default=3,
        metavar="COUNT",
        help="number of seeds to average: each draws the random features and, when "
        "subsampling, the training rows (default: 3)",
    )
    sweep_parser.add_argument(
        "--seed", type=int, default=0, help="first seed; seeds are consecutive (default: 0)"
    )
    sweep_parser.add_argument(
        "--test-size",
        type=_test_size,
        default=0.25,
        metavar="FRACTION",
        help="fraction of the rows held out for testing (default: 0.25)",
    )
    sweep_parser.add_argument(
        "--n-eigen",
        type=positive_int,
        default=1000,
        metavar="M",
        help="training rows used to measure the kernel's eigenstructure for the theory; "
        "the theory holds for n well below it (default: 1000)",
    )
    sweep_parser.add_argument(
        "--no-theory", action="store_true", help="skip the theory's predictions"
    )
    sweep_parser.add_argument(
        "--no-kernel",
        action="store_true",
        help="skip the exact kernel (the infinite width; it needs n x n matrices)",
    )
    sweep_parser.add_argument(
        "--n-kernel",
        type=positive_int,
        metavar="M",
        help="the most training rows of the exact kernel: with more, it is fitted on a "
        f"random M of them (default: {KERNEL_ROWS}, fewer if memory is short; one fit on "
        f"{KERNEL_ROWS} rows takes about 5 s on two cores)",
    )
    sweep_parser.add_argument(
        "--out",
        default=".",
        metavar="DIR",
        help="directory for the PNG figures, created if needed (default: the current one)",
    )
    sweep_parser.add_argument(
        "--csv",
        metavar="FILE",
        help="also write the results in long format (one row per seed, value and ridge)",
    )
    sweep_parser.add_argument(
        "--no-figures", action="store_true", help="print the table only, write no figures"
    )
    sweep_parser.add_argument(
        "--no-progress", action="store_true", help="no progress bars on stderr"
    )
    sweep_parser.set_defaults(run=run_sweep)


def _add_info_parser(
    commands: _Commands[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """The ``info`` subcommand (only the options of every subcommand)."""
    info_parser = commands.add_parser(
        "info", parents=[common], help="print the SIMD level and thread settings"
    )
    info_parser.set_defaults(run=run_info)


# --------------------------------------------------------------------------- argument types


def _int_list(text: str) -> tuple[int, ...]:
    """Argparse type: ``"16,64,256"`` as positive integers."""
    try:
        values = tuple(int(item) for item in text.split(","))
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 16,64,256; got {text!r}"
        )
    return values


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """Argparse type: a number of type ``kind`` (such as ``int``) above 0."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive number; got {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _gamma(text: str) -> str | float:
    """Argparse type: ``scale``, ``loo`` or a positive float."""
    if text in ("scale", "loo"):
        return text
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(
            f"expected 'scale', 'loo' or a positive number; got {text!r}"
        )
    return value


def _alphas(text: str) -> str | tuple[float, ...]:
    """Argparse type: ``auto`` or comma-separated ridges >= 0."""
    if text == "auto":
        return text
    try:
        values = tuple(float(item) for item in text.split(","))
    except ValueError:
        values = ()
    if not values or not all(value >= 0 and math.isfinite(value) for value in values):
        raise argparse.ArgumentTypeError(
            f"expected 'auto' or comma-separated ridges >= 0 such as 0,1e-3,1; got {text!r}"
        )
    return values


def _test_size(text: str) -> float:
    """Argparse type: a fraction strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1; got {text!r}")
    return value
