"""Sweeps of random-feature ridge regression over width, samples and ridge, beside the theory.

:func:`width_sweep` fits random-feature ridge regression at several widths (numbers of
random features ``D``, ``n_components``), :func:`sample_sweep` at several training
sizes ``n``, and :func:`ridge_path` is a width sweep meant to be read against the
ridge. Every sweep averages over seeds, records the train, test and exact
leave-one-out (LOO) mean squared errors at every ridge of one shared grid, the same
for the kernel (the infinite-width limit, :class:`rfkernels.KernelRidge`) and the
predictions of :mod:`rfkernels.theory`, and returns a :class:`SweepResult` that
tabulates (:meth:`SweepResult.table`, :meth:`SweepResult.to_frame`) and draws
(:meth:`SweepResult.plot`) the figures of Simon et al. [1]_: risk against width at
the tuned ridge with the infinite-width line, risk against ridge for several widths,
and train against test risk at the optimum.

The engine is that of :class:`rfkernels.RandomFeatureRidge`, reused across the values
(nested features, additive Gram statistics) so that a sweep costs little more than one
fit at its largest width or size (see the Notes of :func:`width_sweep`).

References
----------
.. [1] J. B. Simon, D. Karkada, N. Ghosh, M. Belkin, "More is Better in Modern
   Machine Learning: when Infinite Overparameterization is Optimal and Overfitting
   is Obligatory", ICLR 2024, arXiv:2311.14646.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_X_y
from threadpoolctl import threadpool_limits

from . import _core
from ._engine.data import target_shift
from ._engine.features import FeatureArrays
from ._engine.passes import (
    ArrayRows,
    default_chunk_rows,
    gram_statistics,
    leave_one_out_errors,
    new_statistics,
)
from ._engine.paths import DualPath, PrimalPath
from ._engine.progress import Progress
from ._engine.selection import check_alphas
from ._gamma import resolve_gamma
from ._kernels import KERNELS, check_feature_params
from ._memory import check_fits_in_memory
from ._sweep_result import SweepResult
from ._threads import resolve_n_jobs
from .kernel_ridge import FIT_MATRICES, PREDICT_BLOCK_BYTES
from .kernels import kernel_matrix
from .random_features import RandomFeatures
from .theory import MIN_EIGEN_ROWS, estimate_eigenstructure, krr_risk, rf_risk

__all__ = ["SweepResult", "ridge_path", "sample_sweep", "width_sweep"]

#: ``alphas="auto"``: ridges from ``AUTO_RIDGE_RANGE[0] n_min s`` to
#: ``AUTO_RIDGE_RANGE[1] n_max s`` (``s`` the mean of ``K(x, x)``), plus 0.
AUTO_RIDGE_RANGE = (1e-6, 10.0)
#: ``alphas="auto"``: ridges per decade.
AUTO_RIDGES_PER_DECADE = 4
#: Rows of the training pool whose mean ``K(x, x)`` sets the scale of the auto grid.
SCALE_ROWS = 256
#: Keyword arguments of the sweeps that are passed on to the features and the kernel.
KERNEL_PARAMS = ("bias", "fourier", "sampling")


# --------------------------------------------------------------------------- engine


@dataclass(frozen=True)
class _Problem:
    """Validated data and settings shared by every fit of a sweep."""

    X: np.ndarray  # training pool (n_pool, d), float64
    Y: np.ndarray  # (n_pool, n_outputs)
    X_test: np.ndarray
    Y_test: np.ndarray
    kernel: str
    gamma: float
    bias: float
    fourier: str
    sampling: str
    fit_intercept: bool
    n_jobs: int | None

    def features(self, width: int, seed: int) -> RandomFeatures:
        """The ``width``-feature map of ``seed``: its first ``k`` columns nest the narrower ones."""
        return RandomFeatures(
            self.kernel,
            n_components=int(width),
            gamma=self.gamma,
            bias=self.bias,
            fourier=self.fourier,
            sampling=self.sampling,
            random_state=int(seed),
            n_jobs=self.n_jobs,
        ).fit(self.X)

    def kernel_matrix(self, X: np.ndarray, Y: np.ndarray | None = None) -> np.ndarray:
        """The exact kernel, as :class:`rfkernels.KernelRidge` computes it."""
        return kernel_matrix(
            X, Y, kernel=self.kernel, gamma=self.gamma, bias=self.bias, n_jobs=self.n_jobs
        )

    def paired(self) -> bool:
        """Whether the features come in (cos, sin) pairs, two columns per frequency."""
        return self.fourier == "sincos" and KERNELS[self.kernel].fourier


@dataclass
class _Fit:
    """One ridge path on one training set, at every ridge of the grid.

    ``train`` and ``loo`` have shape (n_alphas, n_outputs); the predictions at ridge
    ``a`` are ``design @ coef[:, a] + intercept[a]``, where the design is the features
    (primal) or the kernel against the training rows (dual, then coef is the dual one).
    """

    train: np.ndarray
    loo: np.ndarray
    coef: np.ndarray  # (n_columns, n_alphas, n_outputs)
    intercept: np.ndarray  # (n_alphas, n_outputs)


def _add_rows(
    problem: _Problem, stats: _core.GramStatistics, features: RandomFeatures, rows: np.ndarray
) -> _core.GramStatistics:
    """``stats`` plus the statistics of the training rows ``rows`` (indices into the pool)."""
    chunk_rows = default_chunk_rows(features.n_components)
    added = gram_statistics(
        _pool_rows(problem, rows, chunk_rows),
        FeatureArrays.of(features),
        problem.Y.shape[1],
        shift=np.zeros(problem.Y.shape[1]),
        chunk_rows=chunk_rows,
        n_jobs=problem.n_jobs,
    )
    return stats + added


def _pool_rows(problem: _Problem, rows: np.ndarray, chunk_rows: int) -> ArrayRows:
    """The training rows ``rows`` of the pool, unweighted."""
    return ArrayRows(problem.X[rows], problem.Y[rows], np.ones(len(rows)), chunk_rows)


def _path_fit(path: PrimalPath | DualPath, alphas: np.ndarray) -> _Fit:
    """Training and leave-one-out errors and the solutions of every ridge of ``path``."""
    solutions = [path.coef(float(alpha)) for alpha in alphas]
    return _Fit(
        path.train_errors(alphas),
        path.loo_errors(alphas),
        np.stack([coef for coef, _ in solutions], axis=1),
        np.stack([intercept for _, intercept in solutions]),
    )


def _primal_fit(
    problem: _Problem,
    stats: _core.GramStatistics,
    features: RandomFeatures,
    width: int,
    rows: np.ndarray,
    alphas: np.ndarray,
) -> _Fit:
    """The path of the first ``width`` features of ``features`` from their Gram ``stats``.

    Train errors come from the eigendecomposition; leave-one-out errors from a second
    streaming pass over ``rows`` that regenerates the ``width``-feature map (the
    leading columns of ``features``' weights), as ``RandomFeatureRidge`` does.
    """
    arrays = FeatureArrays.of(features).leading(width)
    pool = _pool_rows(problem, rows, default_chunk_rows(width))
    zeros = np.zeros(problem.Y.shape[1])

    def loo(core: _core.PrimalRidgePath, grid: np.ndarray) -> np.ndarray:
        return leave_one_out_errors(
            core, pool, arrays, grid, n_samples=len(rows), shift=zeros, n_jobs=problem.n_jobs
        )

    path = PrimalPath(
        stats, fit_intercept=problem.fit_intercept, n_jobs=problem.n_jobs, shift=zeros, loo=loo
    )
    return _path_fit(path, alphas)


def _dual_fit(problem: _Problem, K: np.ndarray, Y: np.ndarray, alphas: np.ndarray) -> _Fit:
    """The path on the ``n x n`` kernel matrix ``K``, with dual coefficients."""
    path = DualPath(
        K,
        Y,
        None,
        fit_intercept=problem.fit_intercept,
        n_jobs=problem.n_jobs,
        shift=np.zeros(Y.shape[1]),
    )
    return _path_fit(path, alphas)


def _features_fit(Z: np.ndarray, scale: float, dual: _Fit) -> _Fit:
    """A dual fit on features ``sqrt(scale) Z`` as coefficients of those features."""
    n, n_alphas, n_outputs = dual.coef.shape
    coef = np.sqrt(scale) * (Z.T @ dual.coef.reshape(n, -1))
    return _Fit(dual.train, dual.loo, coef.reshape(-1, n_alphas, n_outputs), dual.intercept)


def _test_errors(
    problem: _Problem,
    design: Callable[[np.ndarray], np.ndarray],
    n_columns: int,
    models: Sequence[tuple[int, float, _Fit]],
) -> list[np.ndarray]:
    """Test MSE (n_alphas, n_outputs) of several fits sharing one design, block by block.

    ``design(X_block)`` has ``n_columns`` columns; model ``(c, scale, fit)`` predicts
    ``scale * design[:, :c] @ fit.coef + fit.intercept``: the leading columns of the
    widest features (rescaled) or of the kernel against the largest training set.
    """
    step = max(1, PREDICT_BLOCK_BYTES // (8 * n_columns))
    totals = [np.zeros(fit.intercept.shape) for _, _, fit in models]
    n_test = len(problem.X_test)
    for start in range(0, n_test, step):
        F = design(problem.X_test[start : start + step])
        Y = problem.Y_test[start : start + step]
        for total, (columns, scale, fit) in zip(totals, models, strict=True):
            predictions = scale * (F[:, :columns] @ fit.coef.reshape(columns, -1))
            residuals = predictions.reshape(len(Y), *fit.intercept.shape) + fit.intercept
            residuals -= Y[:, None, :]
            total += np.einsum("iat,iat->at", residuals, residuals)
    return [total / n_test for total in totals]


def _width_fits(
    problem: _Problem, widths: np.ndarray, rows: np.ndarray, alphas: np.ndarray, seed: int, step
) -> list[tuple[_Fit, np.ndarray]]:
    """Fits and test errors of every width on the training ``rows``, with nested features.

    Widths up to ``n`` share one Gram of the widest of them (primal); wider ones share
    the features of the widest width and accumulate ``Z Z^T`` column block by block
    (dual); the test features are computed once, at the widest width.
    """
    n = len(rows)
    primal, dual = widths[widths <= n], widths[widths > n]
    fits: list[_Fit] = []
    widest: RandomFeatures | None = None
    if len(primal):
        widest = problem.features(primal[-1], seed)
        # One BLAS thread, as the estimator: idle OpenBLAS threads would spin on the
        # cores the Rust threads need.
        with threadpool_limits(limits=1, user_api="blas"):
            stats = new_statistics(int(primal[-1]), problem.Y.shape[1])
            stats = _add_rows(problem, stats, widest, rows)
            for width in primal:
                nested = stats if width == primal[-1] else stats.leading(width)
                fits.append(_primal_fit(problem, nested, widest, width, rows, alphas))
                step(note=f"seed {seed}, D = {width}")
            del stats
    if len(dual):
        widest = problem.features(dual[-1], seed)
        Z = widest.transform(problem.X[rows]).astype(np.float64, copy=False)
        gram, done = np.zeros((n, n)), 0
        for width in dual:
            gram += Z[:, done:width] @ Z[:, done:width].T
            done = int(width)
            scale = widest.n_components / width
            solution = _dual_fit(problem, scale * gram, problem.Y[rows], alphas)
            fits.append(_features_fit(Z[:, :width], scale, solution))
            step(note=f"seed {seed}, D = {width}")
        del Z, gram
    assert widest is not None
    D = widest.n_components
    test = _test_errors(
        problem,
        widest.transform,
        D,
        [(int(k), np.sqrt(D / k), fit) for k, fit in zip(widths, fits, strict=True)],
    )
    return list(zip(fits, test, strict=True))


def _sample_fits(
    problem: _Problem,
    width: int,
    sizes: np.ndarray,
    order: np.ndarray,
    alphas: np.ndarray,
    seed: int,
    step,
) -> list[tuple[_Fit, np.ndarray]]:
    """Fits and test errors at width ``width`` on the training sets ``order[:n]``.

    Sizes below ``width`` take leading blocks of one kernel matrix ``Z Z^T`` (dual);
    the others add the new rows to one running Gram (primal), since Gram statistics
    are additive. The test features are computed once.
    """
    features = problem.features(width, seed)
    dual, primal = sizes[sizes < width], sizes[sizes >= width]
    fits: list[_Fit] = []
    if len(dual):
        Z = features.transform(problem.X[order[: dual[-1]]]).astype(np.float64, copy=False)
        gram = Z @ Z.T
        for n in dual:
            solution = _dual_fit(problem, gram[:n, :n], problem.Y[order[:n]], alphas)
            fits.append(_features_fit(Z[:n], 1.0, solution))
            step(note=f"seed {seed}, n = {n}")
        del Z, gram
    if len(primal):
        with threadpool_limits(limits=1, user_api="blas"):
            stats, done = new_statistics(width, problem.Y.shape[1]), 0
            for n in primal:
                stats = _add_rows(problem, stats, features, order[done:n])
                done = int(n)
                fits.append(_primal_fit(problem, stats, features, width, order[:n], alphas))
                step(note=f"seed {seed}, n = {n}")
    test = _test_errors(problem, features.transform, width, [(width, 1.0, fit) for fit in fits])
    return list(zip(fits, test, strict=True))


def _kernel_fits(
    problem: _Problem, rows: np.ndarray, sizes: Sequence[int], alphas: np.ndarray
) -> list[tuple[_Fit, np.ndarray]]:
    """Kernel ridge (``KernelRidge``'s path) on ``rows[:n]`` for each ``n`` in ``sizes``.

    One kernel matrix of the largest set; smaller sets use its leading blocks.
    """
    X = problem.X[rows[: sizes[-1]]]
    K = problem.kernel_matrix(X)
    fits = [_dual_fit(problem, K[:n, :n], problem.Y[rows[:n]], alphas) for n in sizes]
    test = _test_errors(
        problem,
        lambda block: problem.kernel_matrix(block, X),
        len(X),
        [(int(n), 1.0, fit) for n, fit in zip(sizes, fits, strict=True)],
    )
    return list(zip(fits, test, strict=True))


def _check_kernel_memory(n: int) -> None:
    """Fail before any fit when the kernel line of ``n`` training rows cannot fit in memory."""
    try:
        check_fits_in_memory(
            (FIT_MATRICES, n, n), np.float64, "the kernel matrix and its eigendecomposition"
        )
    except MemoryError as error:
        raise MemoryError(f"{error}; or pass exact_kernel=False to skip the kernel") from error


def _predictions(
    problem: _Problem, n_eigen: int, n_train: np.ndarray, widths: np.ndarray, alphas: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Predicted risks (n_values, n_alphas) per output, and the estimated exponents.

    The eigenstructure is estimated on ``min(n_eigen, n_pool)`` rows of the training
    pool (``random_state=0``); the theory sums the squared coefficients over outputs,
    so its risks are divided by the number of outputs to compare with MSEs averaged
    over outputs.
    """
    n_pool, n_outputs = problem.Y.shape
    eigen = estimate_eigenstructure(
        problem.X,
        problem.Y,
        kernel=problem.kernel,
        n=None if n_eigen >= n_pool else n_eigen,
        random_state=0,
        gamma=problem.gamma,
        bias=problem.bias,
        n_jobs=problem.n_jobs,
    )
    n, k, ridge = n_train[:, None], widths[:, None], alphas[None, :]
    rf = rf_risk(eigen.eigenvalues, eigen.target_coeffs, n=n, k=k, ridge=ridge)
    krr = krr_risk(eigen.eigenvalues, eigen.target_coeffs, n=n, ridge=ridge)
    shape = (len(n_train), len(alphas))
    arrays = {
        "theory_train": rf.train,
        "theory_test": rf.test,
        "theory_kernel_train": krr.train,
        "theory_kernel_test": krr.test,
    }
    arrays = {name: np.broadcast_to(a, shape) / n_outputs for name, a in arrays.items()}
    exponents = {
        "n_eigen": min(n_eigen, n_pool),
        "eigen_alpha": eigen.alpha,
        "eigen_beta": eigen.beta,
    }
    return arrays, exponents


# --------------------------------------------------------------------------- inputs


def _check_counts(
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


def _check_widths(widths: np.ndarray, name: str, problem: _Problem) -> None:
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


def _prepare(
    function: str,
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
) -> _Problem:
    """Check the inputs, split off the test set and resolve ``gamma`` on the training pool."""
    unknown = sorted(set(kernel_params) - set(KERNEL_PARAMS))
    if unknown:
        raise TypeError(
            f"{function}() got unexpected keyword argument(s) {', '.join(unknown)}; the "
            f"kernel parameters it takes are {', '.join(KERNEL_PARAMS)}"
        )
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
    return _Problem(
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


def _ridge_grid(alphas: Any, problem: _Problem, sizes: np.ndarray) -> np.ndarray:
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


def _check_common(seeds: Any, n_eigen: Any, theory: bool, n_pool: int) -> np.ndarray:
    """The seeds (distinct integers >= 0, in the given order) and ``n_eigen``."""
    if isinstance(seeds, Integral | str) or not isinstance(seeds, Sequence | np.ndarray):
        raise ValueError(f"seeds must be a sequence of integers, e.g. (0, 1, 2), got {seeds!r}")
    seeds = _check_counts(seeds, "seeds", minimum=0, sort=False)
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


def _permutation(n_pool: int, seed: int) -> np.ndarray:
    """The order in which training rows are drawn from the pool for ``seed``."""
    return np.random.default_rng(seed).permutation(n_pool)


def _progress_bar(description: str, total: int, enabled: bool):
    """A bar advanced by one per fit, ``step(note)`` (nothing when not ``enabled``)."""
    return Progress("rfkernels", 2 if enabled else 0).bar(description, total, "fits")


def _mean_outputs(errors: np.ndarray) -> np.ndarray:
    """MSE averaged over the outputs (the last axis), as ``RidgeCV.cv_results_``."""
    return errors.mean(axis=-1)


# --------------------------------------------------------------------------- sweeps


def width_sweep(
    X: Any,
    y: Any,
    widths: Sequence[int],
    *,
    n_samples: int | None = None,
    X_test: Any = None,
    y_test: Any = None,
    test_size: float | int = 0.25,
    kernel: str = "rbf",
    gamma: float | str = "scale",
    alphas: Any = "auto",
    seeds: Sequence[int] = (0, 1, 2),
    fit_intercept: bool = False,
    exact_kernel: bool = True,
    theory: bool = True,
    n_eigen: int = 1000,
    n_jobs: int | None = None,
    progress: bool = True,
    **kernel_params: Any,
) -> SweepResult:
    """Risk of random-feature ridge regression against the width, at every ridge.

    For each seed, draws ``n_samples`` training rows and the random features, and fits
    ridge regression on the first ``k`` features for every width ``k`` in ``widths``
    and every ridge of one grid, recording train, test and exact leave-one-out MSE;
    also kernel ridge regression on the same rows (the infinite width) and the
    theory's predictions.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features_in)
        Data. Unless ``X_test`` is given, a ``test_size`` fraction of the rows is split
        off as the test set (``random_state=0``) before anything else; the rest is the
        training pool.
    y : array-like of shape (n_rows,) or (n_rows, n_outputs)
        Targets (e.g. one-hot classes); MSE is averaged over outputs.
    widths : sequence of int
        Numbers of random features ``D``, distinct and positive (even with
        ``fourier="sincos"``); sorted ascending.
    n_samples : int, default=None
        Training rows per seed, drawn without replacement from the pool (the first
        ``n_samples`` of ``np.random.default_rng(seed).permutation(n_pool)``);
        ``None`` uses the whole pool, in order, for every seed.
    X_test, y_test : array-like, default=None
        A separate test set (both or neither).
    test_size : float or int, default=0.25
        Fraction (or number) of rows split off as the test set when ``X_test`` is None.
    kernel : str, default="rbf"
        One of ``rfkernels.KERNELS``: "rbf", "laplacian", "relu", "step", "linear",
        "matern12", "matern32", "matern52", "cauchy", "nngp", "ntk".
        The kernel the random features approximate.
    gamma : "scale" or float, default="scale"
        Kernel scale; ``"scale"`` is resolved once on the whole training pool (see
        :class:`rfkernels.RandomFeatures`), so every seed and width uses the same
        kernel, recorded in ``fixed["gamma"]``.
    alphas : "auto", float or array-like of shape (n_alphas,), default="auto"
        The ridge grid shared by all widths and seeds (scikit-learn's ``alpha``: not
        divided by ``n``). ``"auto"`` is 0 and 4 ridges per decade from ``1e-6 n s``
        to ``10 n s``, with ``s`` the mean of ``K(x, x)`` (1 for rbf): the
        eigenvalues of the feature Gram sum to about ``n s``, so this spans the
        near-ridgeless regime (relative ridge 1e-6) up to fits shrunk to zero, and
        contains the optimum ``delta* = n kappa* s*`` of the theory (30 ridges).
    seeds : sequence of int, default=(0, 1, 2)
        One repetition per seed: seed ``s`` draws the training rows and the random
        features (``random_state=s``).
    fit_intercept : bool, default=False
        Fit an unpenalized intercept. Off by default because the theory
        (:mod:`rfkernels.theory`) describes ridge regression without one; with
        ``True`` the experiment and the theory describe slightly different models.
    exact_kernel : bool, default=True
        Also fit kernel ridge regression (``n x n`` kernel matrix per seed).
    theory : bool, default=True
        Also compute the predictions of :func:`rfkernels.theory.rf_risk` and
        :func:`rfkernels.theory.krr_risk` from the eigenstructure estimated on
        ``min(n_eigen, n_pool)`` rows of the training pool.
    n_eigen : int, default=1000
        Rows used to estimate the eigenstructure (an ``n_eigen x n_eigen``
        eigendecomposition). The theory is accurate for ``n`` well below it.
    n_jobs : int or None, default=None
        Threads of the Rust core.
    progress : bool, default=True
        Show a progress bar over (seed, width) when tqdm is installed.
    **kernel_params
        ``bias`` (relu, step, linear, nngp and ntk), ``fourier`` (``"cos"`` or
        ``"sincos"``; rbf, laplacian, the Matern kernels and cauchy) and ``sampling``
        (``"iid"``, ``"orthogonal"`` or ``"structured"``) of the random features, as in
        :class:`rfkernels.RandomFeatures`.

    Returns
    -------
    SweepResult
        With ``parameter="n_components"`` and ``values`` the sorted widths.

    Raises
    ------
    ValueError
        For invalid widths, sizes, seeds, grids or data.
    TypeError
        For an unknown keyword argument.

    See Also
    --------
    sample_sweep : The same against the number of training samples.
    ridge_path : A width sweep to be read against the ridge.
    rfkernels.RandomFeatureRidge : One fit; every value of the sweep equals one.

    Notes
    -----
    Each width gives exactly the fit of ``RandomFeatureRidge(kernel,
    n_components=k, gamma=fixed["gamma"], alphas=result.alphas, random_state=seed,
    fit_intercept=fit_intercept)`` on the same rows, at a fraction of the cost:

    - Features are nested: the first ``k`` of the ``D`` features of a seed, times
      ``sqrt(D / k)``, are its ``k``-feature map. So widths ``k <= n`` (the primal
      path, as the estimator) share one streamed Gram ``G`` of the widest of them,
      and width ``k`` decomposes ``(D/k) G[:k, :k]`` (:meth:`GramStatistics.leading
      <rfkernels.ridge.GramStatistics.leading>`). Leave-one-out errors need one more
      streaming pass per width (its leverages), like the estimator's.
    - Widths ``k > n`` use the dual path on ``K_k = Z_k Z_k^T``, accumulated column
      block by column block from the features of the widest width.
    - Test features are computed once, at the widest width; width ``k`` predicts
      with their leading columns.

    In units of one Gram pass at width ``D`` (``n D^2`` flops), one fit at width ``D``
    costs about 3 (the leave-one-out pass is a full product, 2) and a sweep over
    widths doubling up to ``D`` (all ``<= n``) about ``1 + 2 (1 + 1/4 + 1/16 + ...)
    ~ 3.7``, plus ``8/7`` of one eigendecomposition and the test predictions.

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels.sweep import width_sweep
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 4))
    >>> y = np.sin(X).sum(axis=1) + 0.1 * rng.standard_normal(300)
    >>> result = width_sweep(X, y, [16, 64, 256], seeds=(0, 1), n_eigen=200, progress=False)
    >>> result.test.shape  # (seeds, widths, ridges)
    (2, 3, 30)
    >>> tuned = result.tuned()
    >>> bool(tuned["test"][-1] < tuned["test"][0])  # wider is better at the tuned ridge
    True
    """
    problem = _prepare(
        "width_sweep",
        X,
        y,
        X_test,
        y_test,
        test_size,
        kernel,
        gamma,
        fit_intercept,
        n_jobs,
        kernel_params,
    )
    n_pool = len(problem.X)
    widths = _check_counts(widths, "widths", minimum=1)
    _check_widths(widths, "widths", problem)
    if n_samples is not None:
        n_samples = int(_check_counts(n_samples, "n_samples", minimum=2, maximum=n_pool)[0])
    seeds = _check_common(seeds, n_eigen, theory, n_pool)
    n = n_pool if n_samples is None else n_samples
    grid = _ridge_grid(alphas, problem, np.array([n]))
    if exact_kernel:
        _check_kernel_memory(n)
    n_values, shape = len(widths), (len(seeds), len(widths), len(grid))
    predicted, exponents = (
        _predictions(problem, n_eigen, np.full(n_values, n), widths, grid) if theory else ({}, {})
    )
    risks = {name: np.empty(shape) for name in ("train", "test", "loo")}
    kernel_risks = {name: np.empty(shape) for name in ("train", "test", "loo")}
    shared_kernel = None
    with _progress_bar("width sweep", len(seeds) * n_values, progress) as step:
        for s, seed in enumerate(seeds):
            rows = np.arange(n_pool) if n_samples is None else _permutation(n_pool, seed)[:n]
            for v, (fit, test) in enumerate(_width_fits(problem, widths, rows, grid, seed, step)):
                risks["train"][s, v] = _mean_outputs(fit.train)
                risks["loo"][s, v] = _mean_outputs(fit.loo)
                risks["test"][s, v] = _mean_outputs(test)
            if exact_kernel:
                # Without subsampling every seed has the same rows: one kernel fit.
                if shared_kernel is None or n_samples is not None:
                    shared_kernel = _kernel_fits(problem, rows, [n], grid)[0]
                fit, test = shared_kernel
                kernel_risks["train"][s] = _mean_outputs(fit.train)
                kernel_risks["loo"][s] = _mean_outputs(fit.loo)
                kernel_risks["test"][s] = _mean_outputs(test)
    return _result(
        "n_components",
        widths,
        grid,
        risks,
        kernel_risks if exact_kernel else None,
        predicted,
        problem,
        seeds,
        {"n_samples": n, **exponents},
    )


def sample_sweep(
    X: Any,
    y: Any,
    sizes: Sequence[int],
    *,
    n_components: int = 256,
    X_test: Any = None,
    y_test: Any = None,
    test_size: float | int = 0.25,
    kernel: str = "rbf",
    gamma: float | str = "scale",
    alphas: Any = "auto",
    seeds: Sequence[int] = (0, 1, 2),
    fit_intercept: bool = False,
    exact_kernel: bool = True,
    theory: bool = True,
    n_eigen: int = 1000,
    n_jobs: int | None = None,
    progress: bool = True,
    **kernel_params: Any,
) -> SweepResult:
    """Risk of random-feature ridge regression against the number of samples, at every ridge.

    For each seed, draws one order of the training pool and the random features, and
    fits ridge regression with ``n_components`` features on the first ``n`` rows for
    every ``n`` in ``sizes`` (nested training sets) and every ridge of one grid,
    recording train, test and exact leave-one-out MSE; also kernel ridge regression on
    the same rows and the theory's predictions.

    Parameters
    ----------
    X, y : array-like
        Data and targets, as in :func:`width_sweep`.
    sizes : sequence of int
        Training sizes ``n``, distinct, at least 2 and at most the training pool;
        sorted ascending.
    n_components : int, default=256
        Number of random features ``D`` (even with ``fourier="sincos"``).
    X_test, y_test, test_size, kernel, gamma, seeds, fit_intercept, exact_kernel, \
theory, n_eigen, n_jobs, progress, **kernel_params
        As in :func:`width_sweep`. Seed ``s`` draws the order
        ``np.random.default_rng(s).permutation(n_pool)`` of the training pool (the
        training set of size ``n`` is its first ``n`` rows) and the features.
    alphas : "auto", float or array-like of shape (n_alphas,), default="auto"
        As in :func:`width_sweep`; ``"auto"`` spans ``1e-6 s min(sizes)`` to
        ``10 s max(sizes)``, 4 ridges per decade, and 0.

    Returns
    -------
    SweepResult
        With ``parameter="n_samples"`` and ``values`` the sorted sizes.

    See Also
    --------
    width_sweep : The same against the width, and the details of the engine.

    Notes
    -----
    Each size gives exactly the fit of ``RandomFeatureRidge(n_components=D,
    random_state=seed, ...)`` on its rows. Sizes ``n >= D`` (primal) add their new
    rows to one running Gram, since Gram statistics are additive, then make one
    leave-one-out pass over their rows; sizes ``n < D`` (dual) use leading blocks of
    one kernel matrix ``Z Z^T`` of the largest of them. Kernel ridge uses leading
    blocks of one exact kernel matrix per seed.

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels.sweep import sample_sweep
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((400, 4))
    >>> y = np.sin(X).sum(axis=1) + 0.1 * rng.standard_normal(400)
    >>> result = sample_sweep(X, y, [50, 100, 300], n_components=128, seeds=(0, 1),
    ...                       theory=False, progress=False)
    >>> result.values, result.loo.shape
    (array([ 50, 100, 300]), (2, 3, 34))
    """
    problem = _prepare(
        "sample_sweep",
        X,
        y,
        X_test,
        y_test,
        test_size,
        kernel,
        gamma,
        fit_intercept,
        n_jobs,
        kernel_params,
    )
    n_pool = len(problem.X)
    width = _check_counts(n_components, "n_components", minimum=1)
    if width.size != 1:
        raise ValueError(f"n_components must be one integer, got {n_components!r}")
    _check_widths(width, "n_components", problem)
    width = int(width[0])
    sizes = _check_counts(sizes, "sizes", minimum=2, maximum=n_pool)
    seeds = _check_common(seeds, n_eigen, theory, n_pool)
    grid = _ridge_grid(alphas, problem, sizes)
    if exact_kernel:
        _check_kernel_memory(int(sizes[-1]))
    n_values, shape = len(sizes), (len(seeds), len(sizes), len(grid))
    predicted, exponents = (
        _predictions(problem, n_eigen, sizes, np.full(n_values, width), grid)
        if theory
        else ({}, {})
    )
    risks = {name: np.empty(shape) for name in ("train", "test", "loo")}
    kernel_risks = {name: np.empty(shape) for name in ("train", "test", "loo")}
    with _progress_bar("sample sweep", len(seeds) * n_values, progress) as step:
        for s, seed in enumerate(seeds):
            order = _permutation(n_pool, seed)
            for v, (fit, test) in enumerate(
                _sample_fits(problem, width, sizes, order, grid, seed, step)
            ):
                risks["train"][s, v] = _mean_outputs(fit.train)
                risks["loo"][s, v] = _mean_outputs(fit.loo)
                risks["test"][s, v] = _mean_outputs(test)
            if exact_kernel:
                for v, (fit, test) in enumerate(_kernel_fits(problem, order, sizes, grid)):
                    kernel_risks["train"][s, v] = _mean_outputs(fit.train)
                    kernel_risks["loo"][s, v] = _mean_outputs(fit.loo)
                    kernel_risks["test"][s, v] = _mean_outputs(test)
    return _result(
        "n_samples",
        sizes,
        grid,
        risks,
        kernel_risks if exact_kernel else None,
        predicted,
        problem,
        seeds,
        {"n_components": width, **exponents},
    )


def ridge_path(
    X: Any, y: Any, *, widths: Sequence[int] = (64, 256, 1024), **keywords: Any
) -> SweepResult:
    """Risk against the ridge for several widths: a width sweep drawn with ``kind="ridge"``.

    Parameters
    ----------
    X, y : array-like
        Data and targets, as in :func:`width_sweep`.
    widths : sequence of int, default=(64, 256, 1024)
        The widths, one curve each.
    **keywords
        Every keyword of :func:`width_sweep`.

    Returns
    -------
    SweepResult
        The width sweep, with ``default_plot="ridge"``: ``result.plot()`` draws the
        test MSE against the ridge for every width, the theory dashed.

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels.sweep import ridge_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(200)
    >>> result = ridge_path(X, y, widths=[32, 128], seeds=(0,), theory=False,
    ...                     exact_kernel=False, progress=False)
    >>> result.default_plot, result.test.shape
    ('ridge', (1, 2, 30))
    """
    result = width_sweep(X, y, widths, **keywords)
    return dataclasses.replace(result, default_plot="ridge")


def _result(
    parameter: str,
    values: np.ndarray,
    alphas: np.ndarray,
    risks: dict[str, np.ndarray],
    kernel_risks: dict[str, np.ndarray] | None,
    predicted: dict[str, np.ndarray],
    problem: _Problem,
    seeds: np.ndarray,
    extra: dict[str, Any],
) -> SweepResult:
    kernel = kernel_risks or {}
    return SweepResult(
        parameter=parameter,
        values=values,
        alphas=alphas,
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
            **extra,
            "n_pool": len(problem.X),
            "n_test": len(problem.X_test),
            "n_outputs": problem.Y.shape[1],
            "seeds": tuple(int(seed) for seed in seeds),
            "fit_intercept": problem.fit_intercept,
        },
    )
