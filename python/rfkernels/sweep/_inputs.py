"""The inputs of the sweeps: checks, the train/test split, preprocessing and ``gamma``.

:func:`prepare` turns the data and settings of a sweep into a
:class:`~rfkernels.sweep._fits.Problem`; the other functions check the swept values,
the seeds and ``n_eigen``, draw the order of the training rows of a seed and give
the rows of the kernel line (all, a subsample that fits in memory, or none).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_array, check_X_y

from .._engine.data import as_targets, target_shift
from .._gamma import resolve_gamma
from .._kernel_ridge_base import FIT_MATRICES
from .._kernels import KERNELS, check_feature_params
from .._memory import available_memory_bytes, check_fits_in_memory
from .._threads import resolve_n_jobs
from .._validation import naming_X_y
from ..random_features import RandomFeatures
from ..theory import MIN_EIGEN_ROWS
from ._fits import Problem
from ._gamma_search import search_gamma
from ._preprocess import check_standardize, fit_preprocessing

__all__ = [
    "check_common",
    "check_counts",
    "check_feature_map",
    "check_kernel_params",
    "check_widths",
    "kernel_rows",
    "permutation",
    "prepare",
]

#: ``exact_kernel="auto"``: the most training rows of the kernel line when ``n_kernel`` is
#: None. One fit (an ``n x n`` eigendecomposition) on 4096 rows takes about 5 s on two
#: cores and 0.5 GiB.
KERNEL_ROWS = 4096
#: ``exact_kernel="auto"``: the share of the available memory a kernel fit may take.
KERNEL_MEMORY_SHARE = 0.5
#: ``n x n`` float64 matrices alive at once while the theory measures the eigenstructure.
EIGEN_MATRICES = 3
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


#: What a width sweep may sweep: random features, or Nystrom centers.
FEATURE_MAPS = ("random", "nystroem")


def check_feature_map(feature_map: Any) -> str:
    """``feature_map`` if it is one of :data:`FEATURE_MAPS`, else a ValueError."""
    if feature_map not in FEATURE_MAPS:
        raise ValueError(f"feature_map must be one of {FEATURE_MAPS}, got {feature_map!r}")
    return str(feature_map)


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
    *,
    test_size: float | int,
    kernel: str,
    gamma: float | str,
    alphas: Any,
    fit_intercept: bool,
    standardize: Any,
    scale_target: bool,
    n_jobs: int | None,
    kernel_params: dict[str, Any],
) -> Problem:
    """Check the inputs, split off the test set, preprocess, and resolve ``gamma``.

    The preprocessing (``standardize``, ``scale_target``) is learned on the training
    pool and applied to it and to the test set. ``gamma="scale"`` is resolved on the
    preprocessed pool; ``gamma="loo"`` searches around that value
    (:func:`~rfkernels.sweep._gamma_search.search_gamma`, on the ridge grid of
    ``alphas``). ``kernel_params`` holds only kernel parameters (see
    :func:`check_kernel_params`).
    """
    bias = kernel_params.get("bias", 0.0)
    fourier = kernel_params.get("fourier", "cos")
    sampling = kernel_params.get("sampling", "iid")
    gamma_rule = _gamma_rule(gamma)
    # The feature map's own constraints: kernel, gamma, bias, fourier and sampling.
    RandomFeatures(
        kernel,
        gamma="scale" if gamma_rule == "loo" else gamma,
        bias=bias,
        fourier=fourier,
        sampling=sampling,
    )._validate_params()
    check_feature_params(kernel, sampling=sampling)
    for name, flag in (("fit_intercept", fit_intercept), ("scale_target", scale_target)):
        if not isinstance(flag, bool | np.bool_):
            raise ValueError(f"{name} must be a bool, got {flag!r}")
    n_jobs = resolve_n_jobs(n_jobs)
    X, Y = _as_data(X, y)
    standardized = check_standardize(standardize, X.shape[1])
    if X_test is None:
        if y_test is not None:
            raise ValueError("y_test was given without X_test; pass both or neither")
        X, X_test, Y, Y_test = train_test_split(X, Y, test_size=test_size, random_state=0)
    else:
        if y_test is None:
            raise ValueError("X_test was given without y_test; pass both or neither")
        X_test, Y_test = _as_data(X_test, y_test, ("X_test", "y_test"))
        if X_test.shape[1] != X.shape[1] or Y_test.shape[1] != Y.shape[1]:
            raise ValueError(
                f"X_test and y_test must have the columns of X and y: X has {X.shape[1]} "
                f"features and y {Y.shape[1]} outputs, X_test {X_test.shape[1]} and y_test "
                f"{Y_test.shape[1]}"
            )
    if len(X) < 2:
        raise ValueError(f"the training pool needs at least 2 rows, got {len(X)}")
    # standardize=True or a mask (even of no column) asks for centered targets too.
    requested = not isinstance(standardize, bool | np.bool_) or bool(standardize)
    preprocessing = fit_preprocessing(X, Y, standardized, requested, bool(scale_target))
    X, Y = preprocessing.apply(X, Y)
    X_test, Y_test = preprocessing.apply(X_test, Y_test)
    if fit_intercept:
        # Every error is the same for targets shifted by a constant when an intercept
        # is fitted; shifted by the pool's mean, the uncentered sums the statistics
        # hold do not cancel catastrophically for targets like y + 1e8.
        shift = target_shift(Y, None)
        Y, Y_test = Y - shift, Y_test - shift
    problem = Problem(
        X=np.ascontiguousarray(X),
        Y=np.ascontiguousarray(Y),
        X_test=np.ascontiguousarray(X_test),
        Y_test=np.ascontiguousarray(Y_test),
        kernel=kernel,
        gamma=resolve_gamma(kernel, "scale" if gamma_rule == "loo" else gamma, X),
        bias=float(bias),
        fourier=fourier,
        sampling=sampling,
        fit_intercept=bool(fit_intercept),
        n_jobs=n_jobs,
        gamma_rule=gamma_rule,
        preprocessing=preprocessing,
        gamma_search=None,
    )
    if gamma_rule != "loo":
        return problem
    search = search_gamma(problem, alphas)
    return dataclasses.replace(problem, gamma=search.gamma, gamma_search=search)


def _gamma_rule(gamma: Any) -> str:
    """How ``gamma`` is chosen: ``"scale"``, ``"loo"`` or ``"given"`` (a number)."""
    if isinstance(gamma, str) and gamma in ("scale", "loo"):
        return gamma
    if isinstance(gamma, str):
        raise ValueError(f"gamma must be 'scale', 'loo' or a positive number, got {gamma!r}")
    return "given"


def _as_data(X: Any, y: Any, names: tuple[str, str] = ("X", "y")) -> tuple[np.ndarray, np.ndarray]:
    """Float64 inputs and 2-d targets (one column per output); errors name ``names``."""
    with naming_X_y(lambda: check_array(X, dtype=np.float64), *names):
        X, y = check_X_y(X, y, dtype=np.float64, multi_output=True, y_numeric=True)
    return X, as_targets(y)[0]


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
        check_fits_in_memory(
            (EIGEN_MATRICES, rows, rows),
            np.float64,
            "the theory's eigendecomposition",
            hint="lower n_eigen or pass theory=False",
        )
    return seeds


def permutation(n_pool: int, seed: int) -> np.ndarray:
    """The order in which training rows are drawn from the pool for ``seed``."""
    return np.random.default_rng(seed).permutation(n_pool)


def kernel_rows(exact_kernel: Any, n_kernel: Any, n_max: int) -> int:
    """The most training rows the kernel line may use: ``n_max``, fewer, or 0 for none.

    ``True`` gives ``n_max``, after checking that its fit fits in memory;
    ``"auto"`` gives ``n_max`` capped at ``n_kernel`` (``None``: :data:`KERNEL_ROWS`)
    and at the rows whose fit takes at most :data:`KERNEL_MEMORY_SHARE` of the
    available memory; ``False`` gives 0.
    """
    if isinstance(exact_kernel, str):
        if exact_kernel != "auto":
            raise ValueError(f"exact_kernel must be 'auto', True or False, got {exact_kernel!r}")
        cap = KERNEL_ROWS
        if n_kernel is not None:
            if not isinstance(n_kernel, Integral) or isinstance(n_kernel, bool):
                raise ValueError(f"n_kernel must be an integer or None, got {n_kernel!r}")
            cap = int(check_counts(n_kernel, "n_kernel", minimum=2)[0])
        return min(n_max, cap, _rows_in_memory())
    if not isinstance(exact_kernel, bool | np.bool_):
        raise ValueError(f"exact_kernel must be 'auto', True or False, got {exact_kernel!r}")
    if not exact_kernel:
        return 0
    try:
        check_fits_in_memory(
            (FIT_MATRICES, n_max, n_max), np.float64, "the kernel matrix and its eigendecomposition"
        )
    except MemoryError as error:
        raise MemoryError(
            f"{error}; or pass exact_kernel='auto' to fit the kernel on a subsample "
            "(n_kernel rows), or exact_kernel=False to skip it"
        ) from error
    return n_max


def _rows_in_memory() -> int:
    """The most rows whose kernel fit takes at most KERNEL_MEMORY_SHARE of the free memory."""
    available = available_memory_bytes()
    if available is None:
        return KERNEL_ROWS
    return math.isqrt(int(KERNEL_MEMORY_SHARE * available) // (FIT_MATRICES * 8))
