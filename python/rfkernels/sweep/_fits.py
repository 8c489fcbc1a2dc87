"""The engine of the sweeps: the nested fits of one seed and the theory's predictions.

:class:`Problem` holds the checked data and settings of a sweep. For one seed,
:func:`width_fits` fits every width on one training set (nested features: leading
blocks of one Gram, or of one kernel matrix ``Z Z^T`` past ``n``),
:func:`sample_fits` every training size at one width (a running Gram, or leading
blocks of ``Z Z^T`` below ``D``) and :func:`kernel_fits` kernel ridge on leading
blocks of one exact kernel matrix, each with its test errors. Every fit is a ridge
path of :mod:`rfkernels._engine.paths`, as in the estimators. :func:`predictions`
gives the theory's risks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from .. import _core
from .._engine.features import FeatureArrays, NystroemArrays
from .._engine.passes import (
    ArrayRows,
    default_chunk_rows,
    gram_statistics,
    leave_one_out_errors,
    new_statistics,
)
from .._engine.paths import DualPath, PrimalPath
from .._kernels import KERNELS
from ..kernels import kernel_matrix
from ..random_features import RandomFeatures
from ..theory import estimate_eigenstructure, krr_risk, rf_risk
from ._preprocess import Preprocessing

if TYPE_CHECKING:
    from ._gamma_search import GammaSearch

__all__ = [
    "Fit",
    "Problem",
    "Scored",
    "Step",
    "kernel_fits",
    "predictions",
    "sample_fits",
    "width_fits",
]

#: Bytes of test design rows (features or kernel columns) evaluated at once.
PREDICT_BLOCK_BYTES = 64 * 2**20

#: Advances a sweep's progress bar by one fit: ``step(note="seed 0, D = 64")``.
Step = Callable[..., None]


@dataclass(frozen=True)
class Problem:
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
    gamma_rule: str  # how gamma was chosen: "scale", "loo" or "given"
    preprocessing: Preprocessing  # learned on the training pool, applied to X, Y, X_test, Y_test
    gamma_search: GammaSearch | None  # how gamma="loo" chose gamma
    feature_map: str = "random"  # the swept map: "random" features or "nystroem" centers

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

    def centers(self, C: np.ndarray) -> _core.KernelCenters:
        """The kernel against the centers ``C``, in the core."""
        return _core.KernelCenters(C, kernel=self.kernel, gamma=self.gamma, bias=self.bias)

    def paired(self) -> bool:
        """Whether the features come in (cos, sin) pairs, two columns per frequency."""
        return self.fourier == "sincos" and KERNELS[self.kernel].fourier


@dataclass
class Fit:
    """One ridge path on one training set, at every ridge of the grid.

    ``train`` and ``loo`` have shape (n_alphas, n_outputs); the predictions at ridge
    ``a`` are ``design @ coef[:, a] + intercept[a]``, where the design is the features
    (primal) or the kernel against the training rows (dual, then coef is the dual one).
    """

    train: np.ndarray
    loo: np.ndarray
    coef: np.ndarray  # (n_columns, n_alphas, n_outputs)
    intercept: np.ndarray  # (n_alphas, n_outputs)


#: A fit and its test MSE, of shape (n_alphas, n_outputs).
Scored = tuple[Fit, np.ndarray]


def _add_rows(
    problem: Problem, stats: _core.GramStatistics, features: RandomFeatures, rows: np.ndarray
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


def _pool_rows(problem: Problem, rows: np.ndarray, chunk_rows: int) -> ArrayRows:
    """The training rows ``rows`` of the pool, unweighted."""
    return ArrayRows(problem.X[rows], problem.Y[rows], np.ones(len(rows)), chunk_rows)


def _path_fit(path: PrimalPath | DualPath, alphas: np.ndarray) -> Fit:
    """Training and leave-one-out errors and the solutions of every ridge of ``path``."""
    solutions = [path.coef(float(alpha)) for alpha in alphas]
    return Fit(
        path.train_errors(alphas),
        path.loo_errors(alphas),
        np.stack([coef for coef, _ in solutions], axis=1),
        np.stack([intercept for _, intercept in solutions]),
    )


def _primal_fit(
    problem: Problem,
    stats: _core.GramStatistics,
    features: RandomFeatures,
    width: int,
    rows: np.ndarray,
    alphas: np.ndarray,
) -> Fit:
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


def _dual_fit(problem: Problem, K: np.ndarray, Y: np.ndarray, alphas: np.ndarray) -> Fit:
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


def _features_fit(Z: np.ndarray, scale: float, dual: Fit) -> Fit:
    """A dual fit on features ``sqrt(scale) Z`` as coefficients of those features."""
    n, n_alphas, n_outputs = dual.coef.shape
    coef = np.sqrt(scale) * (Z.T @ dual.coef.reshape(n, -1))
    return Fit(dual.train, dual.loo, coef.reshape(-1, n_alphas, n_outputs), dual.intercept)


def _test_errors(
    problem: Problem,
    design: Callable[[np.ndarray], np.ndarray],
    n_columns: int,
    models: Sequence[tuple[int, float, Fit]],
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


def width_fits(
    problem: Problem,
    widths: np.ndarray,
    rows: np.ndarray,
    alphas: np.ndarray,
    seed: int,
    step: Step,
) -> list[Scored]:
    """Fits and test errors of every width on the training ``rows``, with nested features.

    Widths up to ``n`` share one Gram of the widest of them (primal); wider ones share
    the features of the widest width and accumulate ``Z Z^T`` column block by block
    (dual); the test features are computed once, at the widest width.
    """
    if problem.feature_map == "nystroem":
        return _center_fits(problem, widths, rows, alphas, seed, step)
    n = len(rows)
    primal, dual = widths[widths <= n], widths[widths > n]
    fits: list[Fit] = []
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


def _center_fits(
    problem: Problem,
    widths: np.ndarray,
    rows: np.ndarray,
    alphas: np.ndarray,
    seed: int,
    step: Step,
) -> list[Scored]:
    """Fits and test errors of Nystrom kernel ridge on ``M`` nested centers, every ``M``.

    The centers of ``M`` are the first ``M`` of one seeded permutation of the training
    rows (those ``KernelRidge(n_centers=M, solver="eigen")`` would draw with it). One
    pass sums the statistics of the kernel columns of the most centers; center count
    ``M`` takes their leading block and projects it on its own basis
    (``K_MM^(-1/2)``), then one leave-one-out pass, as the estimator does. The test
    rows' kernel columns are computed once, for the most centers.
    """
    n, n_targets = len(rows), problem.Y.shape[1]
    order = check_random_state(int(seed)).permutation(n)
    C = np.ascontiguousarray(problem.X[rows[order[: int(widths[-1])]]])
    most = int(widths[-1])
    pool = _pool_rows(problem, rows, default_chunk_rows(most))
    zeros = np.zeros(n_targets)
    fits: list[Fit] = []
    with threadpool_limits(limits=1, user_api="blas"):
        columns = problem.centers(C)
        raw = new_statistics(most, n_targets)
        for X, Y, _ in pool:
            columns.add_rows(
                raw, X, Y, None, None, chunk_rows=pool.chunk_rows, n_jobs=problem.n_jobs
            )
        for width in widths:
            centers = problem.centers(C[: int(width)])
            _, projection, _ = centers.basis(n_jobs=problem.n_jobs)
            # leading(M) scales its block by most / M; the projection takes that back.
            stats = raw.leading(int(width)).project(projection * np.sqrt(width / most))
            features = NystroemArrays(centers, projection)

            def loo(core, grid, features=features):
                return leave_one_out_errors(
                    core, pool, features, grid, n_samples=n, shift=zeros, n_jobs=problem.n_jobs
                )

            path = PrimalPath(
                stats,
                fit_intercept=problem.fit_intercept,
                n_jobs=problem.n_jobs,
                shift=zeros,
                loo=loo,
            )
            fit = _path_fit(path, alphas)
            coef = projection @ fit.coef.reshape(projection.shape[1], -1)
            fits.append(
                Fit(
                    fit.train, fit.loo, coef.reshape(int(width), *fit.coef.shape[1:]), fit.intercept
                )
            )
            step(note=f"seed {seed}, M = {width}")
    test = _test_errors(
        problem,
        lambda block: problem.kernel_matrix(block, C),
        most,
        [(int(width), 1.0, fit) for width, fit in zip(widths, fits, strict=True)],
    )
    return list(zip(fits, test, strict=True))


def sample_fits(
    problem: Problem,
    width: int,
    sizes: np.ndarray,
    order: np.ndarray,
    alphas: np.ndarray,
    seed: int,
    step: Step,
) -> list[Scored]:
    """Fits and test errors at width ``width`` on the training sets ``order[:n]``.

    Sizes below ``width`` take leading blocks of one kernel matrix ``Z Z^T`` (dual);
    the others add the new rows to one running Gram (primal), since Gram statistics
    are additive. The test features are computed once.
    """
    features = problem.features(width, seed)
    dual, primal = sizes[sizes < width], sizes[sizes >= width]
    fits: list[Fit] = []
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


def kernel_fits(
    problem: Problem, rows: np.ndarray, sizes: Sequence[int] | np.ndarray, alphas: np.ndarray
) -> list[Scored]:
    """Kernel ridge (``KernelRidge``'s path) on ``rows[:n]`` for each ``n`` in ``sizes``.

    ``sizes`` ascend, then may end in zeros: values not fitted, whose errors are NaN.
    One kernel matrix of the largest set; smaller sets use its leading blocks.
    """
    fitted = [int(n) for n in sizes if n > 0]
    n_alphas, n_outputs = len(alphas), problem.Y.shape[1]
    nan = np.full((n_alphas, n_outputs), np.nan)
    unfitted = (Fit(nan, nan, np.empty((0, n_alphas, n_outputs)), nan), nan)
    scored = _kernel_fits(problem, rows, fitted, alphas) if fitted else []
    return scored + [unfitted] * (len(sizes) - len(fitted))


def _kernel_fits(
    problem: Problem, rows: np.ndarray, sizes: Sequence[int], alphas: np.ndarray
) -> list[Scored]:
    """:func:`kernel_fits` of sizes above 0."""
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


def predictions(
    problem: Problem,
    n_eigen: int,
    n_train: np.ndarray,
    widths: np.ndarray,
    alphas: np.ndarray,
    kernel_n: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Predicted risks (n_values, n_alphas) per output, and the estimated exponents.

    Random features are predicted at ``n_train`` rows and ``widths``, the kernel at
    ``kernel_n`` rows (those of the measured kernel line). The eigenstructure is
    estimated on ``min(n_eigen, n_pool)`` rows of the training pool
    (``random_state=0``); the theory sums the squared coefficients over outputs, so its
    risks are divided by the number of outputs to compare with MSEs averaged over
    outputs.
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
    krr = krr_risk(eigen.eigenvalues, eigen.target_coeffs, n=kernel_n[:, None], ridge=ridge)
    shape = (len(n_train), len(alphas))
    arrays = {
        "theory_train": rf.train,
        "theory_test": rf.test,
        "theory_kernel_train": krr.train,
        "theory_kernel_test": krr.test,
    }
    if problem.feature_map == "nystroem":  # the theory is of random features and the kernel
        del arrays["theory_train"], arrays["theory_test"]
    arrays = {name: np.broadcast_to(a, shape) / n_outputs for name, a in arrays.items()}
    exponents = {
        "n_eigen": min(n_eigen, n_pool),
        "eigen_alpha": eigen.alpha,
        "eigen_beta": eigen.beta,
    }
    return arrays, exponents
