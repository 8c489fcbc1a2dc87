"""The ``demo`` command: five sweeps and two ridge paths, each explained in prose.

``rfkernels demo`` runs the width and sample sweeps of :mod:`rfkernels.sweep` on
scikit-learn's bundled digits (the width also as Nystrom centers) and on a synthetic
power-law task, prints a table per
sweep with a short explanation and what it shows, and writes the figures as PNG files.
The text is part of the output: ``docs/user_guide.md`` walks through it.
"""

from __future__ import annotations

import argparse
import math
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _core
from ._figures import PLOT_HINT, plotting_available, save_figures

if TYPE_CHECKING:
    from ..sweep import SweepResult

__all__ = ["FULL", "POWERLAW", "POWERLAW_KERNEL", "QUICK", "DemoPlan", "run_demo"]


# --------------------------------------------------------------------------- plan


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


@dataclass
class _Figures:
    """The demo's figures: written to ``out`` when ``enabled``, listed in ``written``."""

    out: Path
    enabled: bool
    written: list[Path] = field(default_factory=list)

    def save(self, result: SweepResult, stem: str, *kinds: str) -> None:
        """Write ``<stem>_<kind>.png`` for each kind, if figures are enabled."""
        if self.enabled:
            self.written.extend(save_figures(result, stem, kinds, self.out))


# --------------------------------------------------------------------------- the command


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo's sweeps, print their tables and write their figures.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``demo`` arguments.

    Returns
    -------
    int
        The exit status, 0.
    """
    started = time.perf_counter()
    plan = QUICK if args.quick else FULL
    seeds = tuple(range(args.seed, args.seed + plan.n_seeds))
    figures = _Figures(Path(args.out), not args.no_figures and plotting_available())
    common = {"seeds": seeds, "progress": not args.no_progress}
    _introduce(args, len(seeds))
    if not args.no_figures and not figures.enabled:
        print(f"\nmatplotlib is not installed: tables only, no figures ({PLOT_HINT}).")
    _digits_sweeps(plan, args, common, figures)
    _powerlaw_sweeps(plan, args, common, figures)
    if figures.written:
        print("\nFigures:")
        for path in figures.written:
            print(f"  {path}")
    print(f"\nDone in {time.perf_counter() - started:.0f} s.")
    return 0


def _introduce(args: argparse.Namespace, n_seeds: int) -> None:
    """Print the title and how to read the tables."""
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
            {n_seeds} seeds (the random features and the training rows). "theory test" is
            the test MSE that the eigenlearning theory (rfkernels.theory) predicts from the
            kernel's eigenvalues and the target's coefficients, both measured on the
            training data; "kernel test" is exact kernel ridge regression (the infinite
            width) at its own leave-one-out ridge. No intercept is fitted: the theory has
            none.
            """
        )
    )


def _digits_sweeps(
    plan: DemoPlan, args: argparse.Namespace, common: dict[str, Any], figures: _Figures
) -> None:
    """Sweeps 1 and 2 and a ridge path on real data: scikit-learn's digits."""
    from ..sweep import ridge_sweep, sample_sweep, width_sweep

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
    figures.save(result, "digits_width", "tuned")
    centers = tuple(width for width in plan.widths if width <= plan.n)
    result = width_sweep(X, Y, centers, n_samples=plan.n, feature_map="nystroem", **digits)
    _report(
        "1/4, centers",
        "The same width sweep over Nystrom centers",
        f"""
        Same data, rows and kernel. Swept: the number of Nystrom centers M =
        {_grid(centers)}, nested random subsets of each seed's {plan.n:,} training images;
        width M is kernel ridge restricted to the span of k(., c) over the M centers
        (KernelRidge(n_centers=M)). Look for: the test MSE falling with M like the random
        features' with D, but from fewer columns (the centers adapt to the data), and
        reaching the kernel column exactly at M = n, where every training image is a
        center.
        """,
        result,
    )
    figures.save(result, "digits_centers", "tuned")
    result = ridge_sweep(X, Y, widths=plan.ridge_widths, n_samples=plan.n, **digits)
    _report_ridge(
        f"""
        Ridge paths, same data and n = {plan.n:,}: the test MSE at every ridge, for D =
        {_grid(plan.ridge_widths)}. Look for: at zero ridge the width D = n interpolates
        badly (the double-descent peak, which the theory predicts as infinite), and a tuned
        ridge removes it; the wider the model, the less ridge it needs.
        """,
        result,
    )
    figures.save(result, "digits", "ridge")

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
    figures.save(result, "digits_samples", "tuned", "fit")


def _powerlaw_sweeps(
    plan: DemoPlan, args: argparse.Namespace, common: dict[str, Any], figures: _Figures
) -> None:
    """Sweeps 3 and 4 and a ridge path on a synthetic power-law task with its own kernel."""
    from ..sweep import ridge_sweep, sample_sweep, width_sweep
    from ..theory import powerlaw_task

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
    figures.save(result, "powerlaw_width", "tuned", "fit")
    result = ridge_sweep(X_pool, y_pool, widths=plan.ridge_widths, n_samples=plan.n, **synthetic)
    _report_ridge(
        f"""
        Ridge paths, same task and n = {plan.n:,}, for D = {_grid(plan.ridge_widths)}.
        Look for: the theory tracking the experiment at every ridge, including the peak at
        D = n and zero ridge.
        """,
        result,
    )
    figures.save(result, "powerlaw", "ridge")

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
    figures.save(result, "powerlaw_samples", "tuned")


# --------------------------------------------------------------------------- helpers


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


def _report(number: str, title: str, explanation: str, result: SweepResult) -> None:
    """Print a sweep: its heading, explanation, table and what it shows."""
    print(f"\n== {number}  {title} ==\n")
    print(_wrap(explanation))
    print()
    print(result.table())
    print("\nWhat it shows:")
    print(result.summary())


def _report_ridge(explanation: str, result: SweepResult) -> None:
    """Print a ridge path: its explanation and its table at zero and at the tuned ridge."""
    print()
    print(_wrap(explanation))
    print()
    print(result.ridge_table())


def _wrap(text: str) -> str:
    """``text`` wrapped at 92 columns; blank lines separate paragraphs."""
    return "\n\n".join(
        textwrap.fill(" ".join(paragraph.split()), width=92)
        for paragraph in textwrap.dedent(text).strip().split("\n\n")
    )


def _grid(values: Sequence[int]) -> str:
    """``16, 32, ..., 4,096: 9 values`` for a long grid, every value of a short one."""
    if len(values) <= 4:
        return ", ".join(f"{v:,}" for v in values)
    return f"{values[0]:,}, {values[1]:,}, ..., {values[-1]:,}: {len(values)} values"
