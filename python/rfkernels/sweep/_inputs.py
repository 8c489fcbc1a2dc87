"""The inputs of the sweeps: checks, the train/test split, ``gamma`` and the ridge grid.

:func:`prepare` turns the data and settings of a sweep into a
:class:`~rfkernels.sweep._fits.Problem`; the other functions check the swept values,
the seeds and ``n_eigen``, build the shared ridge grid (``alphas="auto"``), draw the
order of the training rows of a seed and check that the kernel line fits in memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_X_y

from .._engine.data import target_shift
from .._engine.selection import check_alphas
from .._gamma import resolve_gamma
from .._kernel_ridge_base import FIT_MATRICES
from .._kernels import KERNELS, check_feature_params
from .._memory import check_fits_in_memory
from .._threads import resolve_n_jobs
from ..random_features import RandomFeatures
from ..theory import MIN_EIGEN_ROWS
from ._fits import Problem

__all__ = [
    "check_common",
    "check_counts",
    "check_kernel_memory",
    "check_kernel_params",
    "check_widths",
    "permutation",
    "prepare",
    "ridge_grid",
]

#: ``alphas="auto"``: ridges from ``AUTO_RIDGE_RANGE[0] n_min s`` to
#: ``AUTO_RIDGE_RANGE[1] n_max s`` (``s`` the mean of ``K(x, x)``), plus 0.
AUTO_RIDGE_RANGE = (1e-6, 10.0)
#: ``alphas="auto"``: ridges per decade.
AUTO_RIDGES_PER_DECADE = 4
#: Rows of the training pool whose mean ``K(x, x)`` sets the scale of the auto grid.
SCALE_ROWS = 256
#: Keyword arguments of the sweeps that are passed on to the features and the kernel.
KERNEL_PARAMS = ("bias", "fourier", "sampling")


def check_counts(
    values: Any, name: str, *, minimum: int, maximum: int | None = None, sort: bool = True
) -> np.ndarray:
    """``values`` as a 1-d int64 array of distinct integers in ``[minimum, maximum]``."""
    array = np.atleast_1d(np.asarray(values))
    if array.dtype == object and all(isinstance(v, Integral) for v in array.ravel()):
        array = array.astype(np.int64)
    if (
        array.ndim != 1
        or array.size == 0
        or not np.issubdtype(array.dtype, np.integer)
        or array.dtype == bool
    ):
        raise ValueError(f"{name} must be a non-empty 1-d sequence of integers, got {values!r}")
    if array.min() < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {array.min()}")
    if maximum is not None and array.max() > maximum:
        raise ValueError(
            f"{name} must be <= {maximum} ({_MAXIMUM_REASON[name]}), got {array.max()}"
        )
    if len(np.unique(array)) != array.size:
        raise ValueError(f"{name} must be distinct, got {array.tolist()}")
    return np.sort(array).astype(np.int64) if sort else array.astype(np.int64)


_MAXIMUM_REASON = {
    "sizes": "the rows of the training pool",
    "n_samples": "the rows of the training pool",
}


def check_widths(widths: np.ndarray, name: str, problem: Problem) -> None:
    """Fail on odd widths where the features come in pairs of columns."""
    if problem.paired() and np.any(widths % 2):
        raise ValueError(
            f"fourier='sincos' needs even {name} (cos and sin of each frequency), got "
            f"{widths.tolist()}"
        )
    if KERNELS[problem.kernel].paired_columns and np.any(widths % 2):
        raise ValueError(
            f"kernel={problem.kernel!r} needs even {name} (its features come in pairs of "
            f"columns), got {widths.tolist()}"
        )


def check_kernel_params(function: str, kernel_params: dict[str, Any]) -> None:
    """Fail on the keyword arguments of ``function`` that are not kernel parameters."""
    unknown = sorted(set(kernel_params) - set(KERNEL_PARAMS))
    if unknown:
        raise TypeError(
            f"{function}() got unexpected keyword argument(s) {', '.join(unknown)}; the "
            f"kernel parameters it takes are {', '.join(KERNEL_PARAMS)}"
        )


def prepare(
    X: Any,
    y: Any,
    X_test: Any,
    y_test: Any,
    test_size: float | int,
    kernel: str,
    gamma: float | str,
    fit_intercept: bool,
    n_jobs: int | None,
    kernel_params: dict[str, Any],
) -> Problem:
    """Check the inputs, split off the test set and resolve ``gamma`` on the training pool.

    ``kernel_params`` holds only kernel parameters (see :func:`check_kernel_params`).
    """
    bias = kernel_params.get("bias", 0.0)
    fourier = kernel_params.get("fourier", "cos")
    sampling = kernel_params.get("sampling", "iid")
    # The feature map's own constraints: kernel, gamma, bias, fourier and sampling.
    RandomFeatures(
        kernel, gamma=gamma, bias=bias, fourier=fourier, sampling=sampling
    )._validate_params()
    check_feature_params(kernel, sampling=sampling)
    if not isinstance(fit_intercept, bool | np.bool_):
        raise ValueError(f"fit_intercept must be a bool, got {fit_intercept!r}")
    n_jobs = resolve_n_jobs(n_jobs)
    X, Y = _as_data(X, y)
    if X_test is None:
        if y_test is not None:
            raise ValueError("y_test was given without X_test; pass both or neither")
        X, X_test, Y, Y_test = train_test_split(X, Y, test_size=test_size, random_state=0)
    else:
        if y_test is None:
            raise ValueError("X_test was given without y_test; pass both or neither")
        X_test, Y_test = _as_data(X_test, y_test)
        if X_test.shape[1] != X.shape[1] or Y_test.shape[1] != Y.shape[1]:
            raise ValueError(
                f"X_test and y_test must have the columns of X and y: X has {X.shape[1]} "
                f"features and y {Y.shape[1]} outputs, X_test {X_test.shape[1]} and y_test "
                f"{Y_test.shape[1]}"
            )
    if len(X) < 2:
        raise ValueError(f"the training pool needs at least 2 rows, got {len(X)}")
    if fit_intercept:
        # Every error is the same for targets shifted by a constant when an intercept
        # is fitted; shifted by the pool's mean, the uncentered sums the statistics
        # hold do not cancel catastrophically for targets like y + 1e8.
        shift = target_shift(Y, None)
        Y, Y_test = Y - shift, Y_test - shift
    return Problem(
        X=np.ascontiguousarray(X),
        Y=np.ascontiguousarray(Y),
        X_test=np.ascontiguousarray(X_test),
        Y_test=np.ascontiguousarray(Y_test),
        kernel=kernel,
        gamma=resolve_gamma(kernel, gamma, X),
        bias=float(bias),
        fourier=fourier,
        sampling=sampling,
        fit_intercept=bool(fit_intercept),
        n_jobs=n_jobs,
    )


def _as_data(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Float64 inputs and 2-d targets (one column per output)."""
    X, y = check_X_y(X, y, dtype=np.float64, multi_output=True, y_numeric=True)
    return X, np.asarray(y, dtype=np.float64).reshape(len(y), -1)


def ridge_grid(alphas: Any, problem: Problem, sizes: np.ndarray) -> np.ndarray:
    """The shared ridge grid: ``alphas`` checked, or the auto grid for these training sizes."""
    if not isinstance(alphas, str):
        return check_alphas(alphas)
    if alphas != "auto":
        raise ValueError(f"alphas must be 'auto', a number or a sequence, got {alphas!r}")
    diagonal = np.diag(problem.kernel_matrix(problem.X[:SCALE_ROWS]))
    scale = float(diagonal.mean()) if diagonal.mean() > 0 else 1.0
    low, high = AUTO_RIDGE_RANGE
    start = math.log10(low * scale * sizes.min())
    stop = math.log10(high * scale * sizes.max())
    count = math.ceil(AUTO_RIDGES_PER_DECADE * (stop - start) - 1e-9) + 1
    return np.concatenate([[0.0], np.logspace(start, stop, count)])


def check_common(seeds: Any, n_eigen: Any, theory: bool, n_pool: int) -> np.ndarray:
    """The seeds (distinct integers >= 0, in the given order) and ``n_eigen``."""
    if isinstance(seeds, Integral | str) or not isinstance(seeds, Sequence | np.ndarray):
        raise ValueError(f"seeds must be a sequence of integers, e.g. (0, 1, 2), got {seeds!r}")
    seeds = check_counts(seeds, "seeds", minimum=0, sort=False)
    if theory:
        if not isinstance(n_eigen, Integral) or isinstance(n_eigen, bool):
            raise ValueError(f"n_eigen must be an integer, got {n_eigen!r}")
        rows = min(int(n_eigen), n_pool)
        if rows < MIN_EIGEN_ROWS:
            raise ValueError(
                f"theory=True estimates the eigenstructure from min(n_eigen, training pool) = "
                f"{rows} rows, fewer than the {MIN_EIGEN_ROWS} it needs; raise n_eigen, "
                "give more data or pass theory=False"
            )
    return seeds


def permutation(n_pool: int, seed: int) -> np.ndarray:
    """The order in which training rows are drawn from the pool for ``seed``."""
    return np.random.default_rng(seed).permutation(n_pool)


def check_kernel_memory(n: int) -> None:
    """Fail before any fit when the kernel line of ``n`` training rows cannot fit in memory."""
    try:
        check_fits_in_memory(
            (FIT_MATRICES, n, n), np.float64, "the kernel matrix and its eigendecomposition"
        )
    except MemoryError as error:
        raise MemoryError(f"{error}; or pass exact_kernel=False to skip the kernel") from error
