"""The ``rfkernels`` command line: ``demo``, ``sweep`` and ``info``.

``rfkernels demo`` runs the width and sample sweeps of :mod:`rfkernels.sweep` on
scikit-learn's bundled digits and on a synthetic power-law task, prints a table per
sweep with a short explanation, and writes the figures as PNG files.
``rfkernels sweep --data FILE`` runs one sweep on a user's npz or csv file.
``rfkernels info`` prints the build and machine facts that affect speed.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import math
import os
import sys
import textwrap
import time
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import _core

__all__ = ["build_parser", "main"]

PLOT_HINT = "pip install 'rfkernels[plot]'"
#: Resolution of the PNG figures: 770 x 550 pixels (wider with an outside legend), 60-90 kB.
FIGURE_DPI = 110
#: ``rfkernels sweep`` defaults.
SWEEP_WIDTHS = (16, 64, 256, 1024, 4096)
RIDGE_WIDTHS = (64, 256, 1024)


# --------------------------------------------------------------------------- demo plan


@dataclass(frozen=True)
class DemoPlan:
    """Data and grids of the demo: the full run (under two minutes on 2 cores) or ``--quick``."""

    digits_rows: int | None  # rows of load_digits used (None: all 1,797)
    powerlaw_modes: int  # input dimension of the synthetic task
    powerlaw_pool: int  # training rows drawn from it (the theory's eigenstructure uses all)
    powerlaw_test: int  # test rows drawn from it
    n: int  # training rows of the width sweeps and ridge paths (a random subset per seed)
    widths: tuple[int, ...]  # of the width sweeps
    ridge_widths: tuple[int, ...]  # of the ridge paths: below n, n, far above n
    digits_sizes: tuple[int, ...]  # capped at the training split, which is added
    powerlaw_sizes: tuple[int, ...]
    width_for_sizes: int  # of the sample sweeps
    n_seeds: int


FULL = DemoPlan(
    digits_rows=None,
    powerlaw_modes=1000,
    powerlaw_pool=4096,
    powerlaw_test=1000,
    n=256,
    widths=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096),
    ridge_widths=(64, 256, 4096),
    digits_sizes=(32, 64, 128, 256, 512, 1024),
    powerlaw_sizes=(16, 32, 64, 128, 256, 512, 1024),
    width_for_sizes=1024,
    n_seeds=3,
)

QUICK = DemoPlan(
    digits_rows=600,
    powerlaw_modes=200,
    powerlaw_pool=600,
    powerlaw_test=200,
    n=64,
    widths=(16, 64, 256),
    ridge_widths=(16, 64, 256),
    digits_sizes=(32, 128),
    powerlaw_sizes=(16, 64, 256),
    width_for_sizes=128,
    n_seeds=2,
)

#: The synthetic task (:func:`rfkernels.theory.powerlaw_task`): the power law of the
#: paper's random-feature figure, ``lambda_i = i^-1.5`` and ``v_i^2 = i^-1.5``, with a
#: tenth of its label noise.
POWERLAW = {"alpha": 1.5, "beta": 1.5, "noise": 0.05}
#: Its kernel: the linear kernel ``gamma x.y`` is the task's own (its eigenvalues are the
#: ``lambda_i``, up to the factor gamma); its random features are Gaussian projections.
POWERLAW_KERNEL = "linear"


# --------------------------------------------------------------------------- helpers


def _plotting_available() -> bool:
    """Whether matplotlib can be imported; if so, select the non-interactive Agg backend."""
    if importlib.util.find_spec("matplotlib") is None:
        return False
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window; before pyplot is imported
    return True


def _save_figures(result: Any, stem: str, kinds: Sequence[str], out: Path) -> list[Path]:
    """Write ``result.plot(kind)`` for each kind to ``out / f"{stem}_{kind}.png"``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in kinds:
        figure = result.plot(kind=kind)
        path = out / f"{stem}_{kind}.png"
        figure.savefig(path, dpi=FIGURE_DPI)
        paths.append(path)
    return paths


def _wrap(text: str, indent: str = "") -> str:
    """``text`` wrapped at 92 columns; blank lines separate paragraphs."""
    return "\n\n".join(
        textwrap.fill(
            " ".join(paragraph.split()),
            width=92,
            initial_indent=indent,
            subsequent_indent=indent + "  " if indent else "",
        )
        for paragraph in textwrap.dedent(text).strip().split("\n\n")
    )


def _grid(values: Sequence[int]) -> str:
    """``16, 32, ..., 4,096: 9 values`` for a long grid, every value of a short one."""
    if len(values) <= 4:
        return ", ".join(f"{v:,}" for v in values)
    return f"{values[0]:,}, {values[1]:,}, ..., {values[-1]:,}: {len(values)} values"


def _number(value: float) -> str:
    return "inf" if np.isinf(value) else f"{value:.3g}"


def _findings(result: Any) -> str:
    """What the tuned curve of a sweep shows, in numbers taken from the result."""
    tuned = result.tuned()
    values = [int(value) for value in result.values]
    width_sweep = result.parameter == "n_components"
    symbol = "D" if width_sweep else "n"
    test, train, alpha = tuned["test"], tuned["train"], tuned["alpha"]
    kernel = tuned["kernel_test"]
    line = f"test MSE {test[0]:.3g} at {symbol} = {values[0]:,} -> {test[-1]:.3g} at {values[-1]:,}"
    if np.all(np.isfinite(kernel)):
        line += f"; kernel (infinite width) {kernel[-1]:.3g}" + ("" if width_sweep else " there")
    falls = np.all(np.diff(test) <= 2 * np.nan_to_num(tuned["test_sem"][1:]))
    lines = [line + ("; it falls at every step." if falls else ".")]
    n = result.fixed["n_samples"] if width_sweep else values[-1]
    lines.append(
        f"at {symbol} = {values[-1]:,}: tuned alpha {alpha[-1]:.2g} (alpha / n = "
        f"{alpha[-1] / n:.1e}); train MSE {train[-1]:.3g} = {train[-1] / test[-1]:.2f} x test MSE."
    )
    theory = tuned["theory_test"]
    if np.all(np.isfinite(theory)):
        gap = theory / test - 1
        worst = int(np.argmax(np.abs(gap)))
        lines.append(
            f"theory vs measured test MSE: {100 * np.median(np.abs(gap)):.0f}% apart (median), "
            f"at most {100 * gap[worst]:+.0f}% (at {symbol} = {values[worst]:,}); eigenstructure "
            f"measured on {result.fixed['n_eigen']:,} training rows."
        )
    return "\n".join(_wrap(line, indent="  ") for line in lines)


def _ridge_table(result: Any) -> str:
    """Test MSE at zero ridge and at the tuned ridge, per width and for the kernel."""
    assert result.alphas[0] == 0, "the auto ridge grid starts at alpha = 0"
    tuned, n = result.tuned(), result.fixed["n_samples"]
    header = (
        f"{'D':>8}  {'test MSE, alpha = 0':>19}  {'theory, alpha = 0':>17}  "
        f"{'tuned alpha':>11}  {'test MSE, tuned':>15}"
    )
    lines = [header, "-" * len(header)]
    theory = result.theory_test
    for v, width in enumerate(result.values):
        predicted = _number(theory[v, 0]) if theory is not None else "-"
        note = "  <- D = n: the interpolation peak" if width == n else ""
        lines.append(
            f"{width:>8}  {_number(result.test[:, v, 0].mean()):>19}  {predicted:>17}  "
            f"{tuned['alpha'][v]:>11.3g}  {tuned['test'][v]:>15.4g}{note}"
        )
    if result.kernel_test is not None:
        predicted = (
            _number(result.theory_kernel_test[0, 0])
            if result.theory_kernel_test is not None
            else "-"
        )
        kernel_tuned = _number(tuned["kernel_test"][0])
        lines.append(
            f"{'kernel':>8}  {_number(result.kernel_test[:, 0, 0].mean()):>19}  {predicted:>17}  "
            f"{'':>11}  {kernel_tuned:>15}"
        )
    return "\n".join(lines)


def _report(number: str, title: str, explanation: str, result: Any) -> None:
    print(f"\n== {number}  {title} ==\n")
    print(_wrap(explanation))
    print()
    print(result.table())
    print("\nWhat it shows:")
    print(_findings(result))


def _report_ridge(explanation: str, result: Any) -> None:
    print()
    print(_wrap(explanation))
    print()
    print(_ridge_table(result))


# --------------------------------------------------------------------------- demo


def _digits(rows: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Digits pixels / 16 and standardized one-hot targets (3 for the class, -1/3 else)."""
    from sklearn.datasets import load_digits

    X, labels = load_digits(return_X_y=True)
    if rows is not None:
        X, labels = X[:rows], labels[:rows]
    # One-hot targets centered at the class prior 1/10 and scaled by its standard
    # deviation 0.3: every output has mean ~0 and variance ~1, so an MSE reads as the
    # fraction of the label variance left unexplained (1 = predicting nothing).
    Y = (np.eye(10)[labels] - 0.1) / 0.3
    return X / 16.0, Y


def demo(args: argparse.Namespace) -> int:
    """Run the demo's sweeps, print their tables and write their figures."""
    from .sweep import ridge_path, sample_sweep, width_sweep
    from .theory import powerlaw_task

    started = time.perf_counter()
    plan = QUICK if args.quick else FULL
    seeds = tuple(range(args.seed, args.seed + plan.n_seeds))
    figures = not args.no_figures and _plotting_available()
    common = {"seeds": seeds, "progress": not args.no_progress}
    out = Path(args.out)
    written: list[Path] = []

    def save(result: Any, stem: str, *kinds: str) -> None:
        if figures:
            written.extend(_save_figures(result, stem, kinds, out))

    print(
        f"rfkernels {_core.__version__} demo: more is better in random-feature ridge regression"
        + (" (--quick: small data and grids)" if args.quick else "")
        + "\n"
    )
    print(
        _wrap(
            f"""
            Random-feature (RF) ridge regression is ridge regression on D random features
            z(x) whose inner products approximate a kernel (Z Z^T -> K as the width D
            grows); at infinite width it is kernel ridge regression. Simon et al. (ICLR
            2024) showed that, with the ridge tuned, its test error only falls as the model
            gets wider and as it sees more samples, so the infinite-width kernel is best;
            and that the best ridge is small: the best model nearly interpolates its
            training data. The sweeps below check this on real and on synthetic data.

            How to read the tables: one row per width D or training-set size n. "tuned
            alpha" is the ridge (scikit-learn's alpha, not divided by n) that exact
            leave-one-out picks among about 30 values (0, then 1e-6 n to 10 n times the
            kernel's scale); train and test MSE are measured at that ridge and averaged over
            {len(seeds)} seeds (the random features and the training rows). "theory test" is
            the test MSE that the eigenlearning theory (rfkernels.theory) predicts from the
            kernel's eigenvalues and the target's coefficients, both measured on the
            training data; "kernel test" is exact kernel ridge regression (the infinite
            width) at its own leave-one-out ridge. No intercept is fitted: the theory has
            none.
            """
        )
    )
    if not args.no_figures and not figures:
        print(f"\nmatplotlib is not installed: tables only, no figures ({PLOT_HINT}).")

    # ---- real data: scikit-learn's digits
    X, Y = _digits(plan.digits_rows)
    n_test = math.ceil(0.25 * len(X))
    n_pool = len(X) - n_test
    digits = {"kernel": args.kernel, "test_size": 0.25, "n_eigen": n_pool, **common}
    result = width_sweep(X, Y, plan.widths, n_samples=plan.n, **digits)
    _report(
        "1/4",
        "Width sweep on real data: handwritten digits",
        f"""
        Data: scikit-learn's load_digits ({len(X):,} 8x8 images of handwritten digits,
        bundled with scikit-learn), pixels / 16, {n_test:,} images held out for testing.
        Targets: one-hot over the 10 classes (as the paper does for MNIST), centered and
        scaled to unit variance (3 for the true class, -1/3 for the others), so the MSE
        (averaged over the 10 outputs) is the fraction of the label variance left
        unexplained: 1 for predicting nothing, 0 for a perfect fit.

        Swept: the width D = {_grid(plan.widths)}. Fixed: n = {plan.n:,} training images
        (a random subset per seed), {args.kernel} kernel (gamma = scale). Look for: the test
        MSE falling with every doubling of the width, down to the kernel column (infinite
        width); the tuned ridge shrinking as the model widens; train MSE far below test MSE
        at the widest. The theory follows the measured curve but is somewhat optimistic:
        on real data its eigenstructure is itself an estimate, from {n_pool:,} images.
        """,
        result,
    )
    save(result, "digits_width", "tuned")
    result = ridge_path(X, Y, widths=plan.ridge_widths, n_samples=plan.n, **digits)
    _report_ridge(
        f"""
        Ridge paths, same data and n = {plan.n:,}: the test MSE at every ridge, for D =
        {_grid(plan.ridge_widths)}. Look for: at zero ridge the width D = n interpolates
        badly (the double-descent peak, which the theory predicts as infinite), and a tuned
        ridge removes it; the wider the model, the less ridge it needs.
        """,
        result,
    )
    save(result, "digits", "ridge")

    sizes = (*(size for size in plan.digits_sizes if size < n_pool), n_pool)
    result = sample_sweep(X, Y, sizes, n_components=plan.width_for_sizes, **digits)
    _report(
        "2/4",
        "Sample sweep on real data: handwritten digits",
        f"""
        Same data and targets. Swept: the number of training images n = {_grid(sizes)}
        (nested random subsets of the {n_pool:,} training images). Fixed: width D =
        {plan.width_for_sizes:,}, {args.kernel} kernel. Look for: the test MSE falling with
        n, without a peak at n = D (the tuned ridge removes it); the kernel column below,
        the gap opening as n nears D; train MSE far below test MSE while n is well below D
        (the figure digits_samples_fit.png shows the kernel interpolating at every n). The
        theory's
        eigenstructure comes from the same {n_pool:,} images, so the theory holds only for
        n well below that and turns optimistic beyond a few hundred images.
        """,
        result,
    )
    save(result, "digits_samples", "tuned", "fit")

    # ---- synthetic: a power-law task with its own (linear) kernel
    task = powerlaw_task(n_modes=plan.powerlaw_modes, **POWERLAW)
    X_pool, y_pool = task.sample(plan.powerlaw_pool, random_state=args.seed)
    X_test, y_test = task.sample(plan.powerlaw_test, random_state=args.seed + 1_000_000)
    synthetic = {
        "X_test": X_test,
        "y_test": y_test,
        "kernel": POWERLAW_KERNEL,
        "n_eigen": plan.powerlaw_pool,
        **common,
    }
    alpha, beta, noise = POWERLAW["alpha"], POWERLAW["beta"], POWERLAW["noise"]
    result = width_sweep(X_pool, y_pool, plan.widths, n_samples=plan.n, **synthetic)
    _report(
        "3/4",
        "Width sweep on a synthetic power-law task",
        f"""
        Data: rfkernels.theory.powerlaw_task, the power law of the paper's random-feature
        figure: Gaussian inputs in {plan.powerlaw_modes:,} dimensions with variances
        lambda_i = i^-{alpha}, a linear target whose coefficients in the whitened
        coordinates have v_i^2 = i^-{beta}, and label noise of variance {noise} (the lowest
        possible test MSE); {plan.powerlaw_pool:,} training rows, {plan.powerlaw_test:,}
        test rows. Kernel: linear (gamma x.y), the task's own kernel, whose eigenvalues are
        the power law lambda_i; its random features are Gaussian random projections. This
        is the setting the theory describes, so theory and experiment should agree.

        Swept: the width D = {_grid(plan.widths)}. Fixed: n = {plan.n:,} training rows (a
        random subset per seed). Look for: the theory column matching the measured test
        MSE; the test MSE falling with the width, down to the kernel column; train MSE far
        below test MSE at the widest.
        """,
        result,
    )
    save(result, "powerlaw_width", "tuned", "fit")
    result = ridge_path(X_pool, y_pool, widths=plan.ridge_widths, n_samples=plan.n, **synthetic)
    _report_ridge(
        f"""
        Ridge paths, same task and n = {plan.n:,}, for D = {_grid(plan.ridge_widths)}.
        Look for: the theory tracking the experiment at every ridge, including the peak at
        D = n and zero ridge.
        """,
        result,
    )
    save(result, "powerlaw", "ridge")

    sizes = tuple(size for size in plan.powerlaw_sizes if size <= plan.powerlaw_pool)
    result = sample_sweep(X_pool, y_pool, sizes, n_components=plan.width_for_sizes, **synthetic)
    _report(
        "4/4",
        "Sample sweep on a synthetic power-law task",
        f"""
        Same task and kernel. Swept: the number of training rows n = {_grid(sizes)}. Fixed:
        width D = {plan.width_for_sizes:,}. Look for: the test MSE falling with n toward the
        noise floor {noise}, with the theory; no peak at n = D; train MSE below test MSE at
        the tuned ridge.
        """,
        result,
    )
    save(result, "powerlaw_samples", "tuned")

    if written:
        print("\nFigures:")
        for path in written:
            print(f"  {path}")
    print(f"\nDone in {time.perf_counter() - started:.0f} s.")
    return 0


# --------------------------------------------------------------------------- sweep


def _load_npz(path: Path, parser: argparse.ArgumentParser) -> tuple[np.ndarray, np.ndarray]:
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
    with path.open(newline="") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        parser.error(f"--data {path}: the csv file is empty (it needs a header row)")
    header = [name.strip() for name in header]
    names = [name.strip() for name in target.split(",")] if target else [header[-1]]
    unknown = [name for name in names if name not in header]
    if unknown:
        parser.error(
            f"--target: no column {', '.join(repr(name) for name in unknown)} in {path} "
            f"(columns: {', '.join(header)})"
        )
    if len(names) == len(header):
        parser.error(f"--target: no feature columns left in {path} (columns: {', '.join(header)})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, dtype=np.float64)
    except ValueError as error:
        parser.error(f"--data {path}: every column must be numeric, none missing ({error})")
    if table.size == 0:
        parser.error(f"--data {path}: no data rows below the header")
    if table.shape[1] != len(header):
        parser.error(f"--data {path}: {len(header)} header names but {table.shape[1]} columns")
    columns = [header.index(name) for name in names]
    features = [i for i in range(len(header)) if i not in columns]
    y = table[:, columns[0]] if len(columns) == 1 else table[:, columns]
    return table[:, features], y, names


def sweep(args: argparse.Namespace) -> int:
    """Run one sweep on the user's data, print its table, write figures and csv."""
    parser: argparse.ArgumentParser = args.parser
    path = Path(args.data)
    if not path.is_file():
        parser.error(f"--data {path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        if args.target is not None:
            parser.error("--target applies to csv files; an npz file holds the arrays 'X' and 'y'")
        X, y = _load_npz(path, parser)
        target = "y"
    elif suffix == ".csv":
        X, y, names = _load_csv(path, args.target, parser)
        target = ", ".join(names)
    else:
        parser.error(f"--data {path}: expected a .npz or .csv file")
    if args.csv is not None and importlib.util.find_spec("pandas") is None:
        parser.error(f"--csv needs pandas ({PLOT_HINT})")
    figures = not args.no_figures and _plotting_available()

    from .sweep import ridge_path, sample_sweep, width_sweep

    options: dict[str, Any] = {
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
    print(
        f"rfkernels {_core.__version__} sweep: {path} ({X.shape[0]:,} rows, "
        f"{X.shape[1] if X.ndim == 2 else 1} features, target {target}), kind {args.kind}, "
        f"kernel {args.kernel} (gamma {args.gamma}), {args.seeds} seed(s)"
    )
    try:
        if args.kind == "samples":
            sizes = args.sizes or _default_sizes(len(X), args.test_size)
            result = sample_sweep(X, y, sizes, n_components=args.width, **options)
        elif args.kind == "ridge":
            widths = args.widths or RIDGE_WIDTHS
            result = ridge_path(X, y, widths=widths, n_samples=args.n_samples, **options)
        else:
            widths = args.widths or SWEEP_WIDTHS
            result = width_sweep(X, y, widths, n_samples=args.n_samples, **options)
    except ValueError as error:
        hint = " (here: --n-eigen, or --no-theory)" if "theory=True" in str(error) else ""
        parser.error(f"{error}{hint}")
    print()
    print(result.table())
    if args.csv is not None:
        csv_path = Path(args.csv)
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        result.to_frame().to_csv(csv_path, index=False)
        print(f"\nResults (long format, one row per seed, value and alpha): {csv_path}")
    if figures:
        if args.kind == "ridge":  # <data>_ridge.png
            paths = _save_figures(result, path.stem, ("ridge",), Path(args.out))
        else:  # <data>_<kind>_{tuned,ridge,fit}.png
            kinds = ("tuned", "ridge", "fit")
            paths = _save_figures(result, f"{path.stem}_{args.kind}", kinds, Path(args.out))
        print("\nFigures:")
        for figure_path in paths:
            print(f"  {figure_path}")
    elif not args.no_figures:
        print(f"\nmatplotlib is not installed: no figures ({PLOT_HINT}).")
    return 0


def _default_sizes(n_rows: int, test_size: float) -> tuple[int, ...]:
    """Sizes 32, 128, 512, ... below the training split, then the whole split."""
    n_train = n_rows - math.ceil(test_size * n_rows)
    sizes = [size for size in (2 ** (5 + 2 * i) for i in range(12)) if size < n_train]
    return (*sizes, n_train)


# --------------------------------------------------------------------------- info


def info(args: argparse.Namespace) -> int:
    """Print the build and machine facts that affect speed."""
    print(f"rfkernels {_core.__version__}")
    print(f"SIMD instruction set: {_core.simd_isa()}")
    print(f"CPU cores: {os.cpu_count()}; RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS')}")
    print(f"kernels: {', '.join(_core.KERNEL_NAMES)}")
    return 0


# --------------------------------------------------------------------------- parser


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
    """Argparse type: ``scale`` or a positive float."""
    if text == "scale":
        return text
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected 'scale' or a positive number; got {text!r}")
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
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1; got {text!r}")
    return value


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
    positive_int = _positive(int)

    demo_parser = commands.add_parser(
        "demo",
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
        choices=_core.KERNEL_NAMES,
        help="kernel of the digits sweeps (default: rbf; the synthetic task always uses linear)",
    )
    demo_parser.add_argument(
        "--no-figures", action="store_true", help="print the tables only, write no files"
    )
    demo_parser.add_argument(
        "--no-progress", action="store_true", help="no progress bars on stderr"
    )
    demo_parser.set_defaults(run=demo)

    sweep_parser = commands.add_parser(
        "sweep",
        help="sweep width, samples or ridge on your own data",
        description="Sweep random-feature ridge regression on your data: the width (--kind "
        "width), the number of training samples (--kind samples) or the ridge at a few widths "
        "(--kind ridge). A random test split (--test-size) is held out once; the ridge "
        "is tuned by exact leave-one-out on the training rows; each seed draws new random "
        "features (and new training rows when --n-samples or --sizes subsample). Prints a "
        "table, writes PNG figures (<data>_<kind>_{tuned,ridge,fit}.png, or <data>_ridge.png) "
        "and optionally the "
        "results as csv. No intercept is fitted, as in the theory: center the targets if "
        "their mean is far from 0, and scale the features (gamma=scale uses their overall "
        "variance).",
    )
    sweep_parser.add_argument(
        "--data",
        required=True,
        metavar="FILE",
        help="an .npz file with arrays X (n_samples, n_features) and y (n_samples,) or "
        "(n_samples, n_targets), or a .csv file with a header row and numeric columns",
    )
    sweep_parser.add_argument(
        "--target",
        metavar="COLUMN",
        help="csv only: the target column's name, or several names separated by commas "
        "(default: the last column); the other columns are the features",
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
        "--kernel", default="rbf", choices=_core.KERNEL_NAMES, help="kernel (default: rbf)"
    )
    sweep_parser.add_argument(
        "--gamma",
        type=_gamma,
        default="scale",
        help="kernel scale: 'scale' (from the data's variance, as RBFSampler) or a number "
        "(default: scale)",
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
        help="skip the exact kernel (the infinite width; it needs an n x n matrix)",
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
    sweep_parser.set_defaults(run=sweep, parser=sweep_parser)

    info_parser = commands.add_parser("info", help="print the SIMD level and thread settings")
    info_parser.set_defaults(run=info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rfkernels`` command line with ``argv`` (default: ``sys.argv[1:]``)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except BrokenPipeError:  # e.g. `rfkernels demo | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
