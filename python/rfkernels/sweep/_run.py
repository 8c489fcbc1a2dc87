"""One sweep from its per-seed fits: the seeds, the ridge grid, the theory, the result.

:func:`run_sweep` is what :func:`~rfkernels.sweep.width_sweep` and
:func:`~rfkernels.sweep.sample_sweep` share: each describes its values and the fits
of one seed (:func:`~rfkernels.sweep._fits.width_fits` or
:func:`~rfkernels.sweep._fits.sample_fits`, and the kernel line) in a :class:`Sweep`,
and :func:`run_sweep` checks the seeds and the ridges, fits every seed under one
progress bar and records the mean squared errors with the theory's predictions.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._engine.progress import Progress
from .._kernel_ridge_base import FIT_MATRICES
from ._fits import Problem, Scored, Step, predictions
from ._grid import ridge_grid
from ._inputs import check_common, kernel_rows
from .result import SweepResult

__all__ = ["Sweep", "run_sweep"]

#: The errors a sweep records per seed, value and ridge, for the features and the kernel.
RISKS = ("train", "test", "loo")
#: The progress bar's description, per swept parameter.
_DESCRIPTION = {"n_components": "width sweep", "n_samples": "sample sweep"}


@dataclass(frozen=True)
class Sweep:
    """What a sweep varies, and how it fits one seed.

    Attributes
    ----------
    parameter : {"n_components", "n_samples"}
        What is swept.
    values : ndarray of shape (n_values,)
        The swept widths or training sizes, checked and ascending.
    n_train, n_components : ndarray of shape (n_values,)
        The training size and the width at every value: they set the auto ridge
        grid, the kernel line's memory and the theory's predictions.
    held : dict
        What the sweep holds fixed (``n_samples`` or ``n_components``), recorded in
        ``SweepResult.fixed`` before the theory's exponents.
    rows : callable
        ``rows(seed)``: the training rows (indices into the pool) of a seed, shared
        by its fits and its kernel line.
    fits : callable
        ``fits(rows, grid, seed, step)``: the fit and test errors of every value at
        every ridge of ``grid``, in order, calling ``step`` once per fit.
    kernel_sizes : callable
        ``kernel_sizes(m)``: the training rows of the kernel line at every value when
        it may use at most ``m`` rows, 0 where it is not fitted.
    kernel_line : callable
        ``kernel_line(rows, grid, sizes)``: kernel ridge per value on ``sizes`` rows
        (from ``kernel_sizes``; NaN errors where 0), or one fit for every value (a
        width sweep).
    """

    parameter: str
    values: np.ndarray
    n_train: np.ndarray
    n_components: np.ndarray
    held: dict[str, Any]
    rows: Callable[[Any], np.ndarray]
    fits: Callable[[np.ndarray, np.ndarray, Any, Step], list[Scored]]
    kernel_sizes: Callable[[int], np.ndarray]
    kernel_line: Callable[[np.ndarray, np.ndarray, np.ndarray], list[Scored]]


def run_sweep(
    problem: Problem,
    sweep: Sweep,
    alphas: Any,
    seeds: Any,
    theory: bool,
    n_eigen: int,
    exact_kernel: Any,
    n_kernel: Any,
    progress: bool,
) -> SweepResult:
    """Check the seeds and the ridges, fit every seed, and collect the risks in a result.

    Parameters
    ----------
    problem : Problem
        The checked data and settings.
    sweep : Sweep
        The swept values and the fits of one seed.
    alphas, seeds, theory, n_eigen, exact_kernel, n_kernel, progress
        As in :func:`~rfkernels.sweep.width_sweep`, unchecked.

    Returns
    -------
    SweepResult
        The risks of every seed, value and ridge, with the kernel line and the theory.
    """
    seeds = check_common(seeds, n_eigen, theory, len(problem.X))
    rows = kernel_rows(exact_kernel, n_kernel, int(sweep.n_train.max()))
    kernel_sizes = sweep.kernel_sizes(rows) if rows else np.zeros(len(sweep.values), int)
    _warn_of_subsample(sweep, exact_kernel, rows, kernel_sizes)
    if not kernel_sizes.any():
        rows = 0
    grid = ridge_grid(alphas, problem, sweep.n_train)
    # The theory's kernel line at the rows the measured one uses, where it is measured.
    kernel_n = np.where(kernel_sizes > 0, kernel_sizes, sweep.n_train)
    predicted, exponents = (
        predictions(problem, n_eigen, sweep.n_train, sweep.n_components, grid, kernel_n)
        if theory
        else ({}, {})
    )
    shape = (len(seeds), len(sweep.values), len(grid))
    risks = {name: np.empty(shape) for name in RISKS}
    kernel_risks = {name: np.empty(shape) for name in RISKS}
    bar = Progress("rfkernels", 2 if progress else 0).bar(
        _DESCRIPTION[sweep.parameter], len(seeds) * len(sweep.values), "fits"
    )
    with bar as step:
        for s, seed in enumerate(seeds):
            training = sweep.rows(seed)
            _record(risks, s, sweep.fits(training, grid, seed, step))
            if rows:
                _record(kernel_risks, s, sweep.kernel_line(training, grid, kernel_sizes))
    kernel = kernel_risks if rows else {}
    return SweepResult(
        parameter=sweep.parameter,
        values=sweep.values,
        alphas=grid,
        train=risks["train"],
        test=risks["test"],
        loo=risks["loo"],
        kernel_train=kernel.get("train"),
        kernel_test=kernel.get("test"),
        kernel_loo=kernel.get("loo"),
        theory_train=predicted.get("theory_train"),
        theory_test=predicted.get("theory_test"),
        theory_kernel_train=predicted.get("theory_kernel_train"),
        theory_kernel_test=predicted.get("theory_kernel_test"),
        fixed={
            "kernel": problem.kernel,
            "gamma": problem.gamma,
            "bias": problem.bias,
            "fourier": problem.fourier,
            "sampling": problem.sampling,
            "feature_map": problem.feature_map,
            **sweep.held,
            **exponents,
            "n_pool": len(problem.X),
            "n_test": len(problem.X_test),
            "n_outputs": problem.Y.shape[1],
            "seeds": tuple(int(seed) for seed in seeds),
            "fit_intercept": problem.fit_intercept,
            "gamma_rule": problem.gamma_rule,
            "gamma_search": problem.gamma_search,
            "preprocessing": problem.preprocessing,
            "baseline_test": _baseline_test(problem),
            "exact_kernel": exact_kernel,
            "n_kernel": int(kernel_sizes.max()) if rows else None,
        },
    )


def _baseline_test(problem: Problem) -> float:
    """Test MSE of predicting the training pool's mean targets, averaged over the outputs."""
    residuals = problem.Y_test - problem.Y.mean(axis=0)
    return float(np.mean(residuals**2))


def _warn_of_subsample(
    sweep: Sweep, exact_kernel: Any, rows: int, kernel_sizes: np.ndarray
) -> None:
    """Warn when ``exact_kernel="auto"`` fits the kernel line on fewer rows than the sweep.

    ``rows`` is the most rows it may use, and ``kernel_sizes`` what it uses per value.
    """
    if not isinstance(exact_kernel, str) or np.all(kernel_sizes == sweep.n_train):
        return
    n = int(sweep.n_train.max())
    gib = FIT_MATRICES * 8 * n**2 / 2**30
    if sweep.parameter == "n_components":
        what = f"is fitted on a random {int(kernel_sizes.max()):,} of the {n:,} training rows"
    elif kernel_sizes.any():
        what = f"is fitted at the sizes up to {int(kernel_sizes.max()):,} rows only"
    else:
        what = f"is skipped: every size is above the {rows:,} rows it may use"
    warnings.warn(
        f"exact_kernel='auto': the kernel line {what} (a kernel fit on {n:,} rows needs "
        f"{FIT_MATRICES} float64 matrices of {n:,} x {n:,}, {gib:.3g} GiB, and an n^3 "
        "eigendecomposition); pass n_kernel to change the subsample, exact_kernel=True for "
        "every row or exact_kernel=False to skip the kernel",
        UserWarning,
        stacklevel=4,
    )


def _record(risks: dict[str, np.ndarray], s: int, scored: list[Scored]) -> None:
    """Store the MSE of seed ``s``'s fits, averaged over the outputs (as ``RidgeCV.cv_results_``).

    One fit for every value (the kernel line of a width sweep) fills them all.
    """
    errors = {
        "train": [fit.train for fit, _ in scored],
        "test": [test for _, test in scored],
        "loo": [fit.loo for fit, _ in scored],
    }
    for name, per_value in errors.items():
        risks[name][s] = [mse.mean(axis=-1) for mse in per_value]
