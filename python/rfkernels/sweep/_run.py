"""One sweep from its per-seed fits: the seeds, the ridge grid, the theory, the result.

:func:`run_sweep` is what :func:`~rfkernels.sweep.width_sweep` and
:func:`~rfkernels.sweep.sample_sweep` share: each describes its values and the fits
of one seed (:func:`~rfkernels.sweep._fits.width_fits` or
:func:`~rfkernels.sweep._fits.sample_fits`, and the kernel line) in a :class:`Sweep`,
and :func:`run_sweep` checks the seeds and the ridges, fits every seed under one
progress bar and records the mean squared errors with the theory's predictions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._engine.progress import Progress
from ._fits import Problem, Scored, Step, predictions
from ._inputs import check_common, check_kernel_memory, ridge_grid
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
    kernel_line : callable
        ``kernel_line(rows, grid)``: kernel ridge per value, or one fit for every
        value (a width sweep).
    """

    parameter: str
    values: np.ndarray
    n_train: np.ndarray
    n_components: np.ndarray
    held: dict[str, Any]
    rows: Callable[[Any], np.ndarray]
    fits: Callable[[np.ndarray, np.ndarray, Any, Step], list[Scored]]
    kernel_line: Callable[[np.ndarray, np.ndarray], list[Scored]]


def run_sweep(
    problem: Problem,
    sweep: Sweep,
    alphas: Any,
    seeds: Any,
    theory: bool,
    n_eigen: int,
    exact_kernel: bool,
    progress: bool,
) -> SweepResult:
    """Check the seeds and the ridges, fit every seed, and collect the risks in a result.

    Parameters
    ----------
    problem : Problem
        The checked data and settings.
    sweep : Sweep
        The swept values and the fits of one seed.
    alphas, seeds, theory, n_eigen, exact_kernel, progress
        As in :func:`~rfkernels.sweep.width_sweep`, unchecked.

    Returns
    -------
    SweepResult
        The risks of every seed, value and ridge, with the kernel line and the theory.
    """
    seeds = check_common(seeds, n_eigen, theory, len(problem.X))
    grid = ridge_grid(alphas, problem, sweep.n_train)
    if exact_kernel:
        check_kernel_memory(int(sweep.n_train.max()))
    predicted, exponents = (
        predictions(problem, n_eigen, sweep.n_train, sweep.n_components, grid)
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
            rows = sweep.rows(seed)
            _record(risks, s, sweep.fits(rows, grid, seed, step))
            if exact_kernel:
                _record(kernel_risks, s, sweep.kernel_line(rows, grid))
    kernel = kernel_risks if exact_kernel else {}
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
            **sweep.held,
            **exponents,
            "n_pool": len(problem.X),
            "n_test": len(problem.X_test),
            "n_outputs": problem.Y.shape[1],
            "seeds": tuple(int(seed) for seed in seeds),
            "fit_intercept": problem.fit_intercept,
        },
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
