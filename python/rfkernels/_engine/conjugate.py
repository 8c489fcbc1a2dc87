"""Nystrom kernel ridge by preconditioned conjugate gradients (Falkon-style), matrix-free.

The problem, for ``M`` centers ``C``, every ridge ``alpha`` and target::

    minimize  sum_i s_i (y_i - b - k(x_i, C) . beta)^2 + alpha beta^T K_MM beta

is ridge regression on the Nystrom features ``z(x) = P^T k(C, x)``, ``P = V_r
Lambda_r^(-1/2)`` (:class:`~rfkernels.Nystroem`), with ``beta = P w``. Its normal
equations ``(Phi^T W Phi + alpha I) w = Phi^T W y`` (features centered for the
intercept) are solved by conjugate gradients without forming ``Phi = K_nM P``: each
iteration is one pass over the rows in which Rust computes the kernel tiles
``K_nM`` on the fly, fused with both products (``K^T W (K U - shift)``,
``_core.KernelCenters.normal_products``).

**Preconditioner** (Rudi, Carratino and Rosasco 2017). With centers drawn uniformly
from the rows, ``K_nM^T W K_nM ~ (S / M) K_MM^2`` (``S`` the total weight), so the
Falkon preconditioner is ``(S/M) K_MM^2 + alpha K_MM``. In the Nystrom basis it is
diagonal: ``(S/M) Lambda_r + alpha I``. Falkon factors it by two Cholesky
decompositions per ridge; here it comes from the eigendecomposition of ``K_MM``
that the Nystrom basis needs anyway, which gives every ridge its preconditioner
at once: the whole ridge path runs as one block of CG iterations (one pass over
the rows per iteration for all ridges and targets), in ``O(M r)`` memory instead
of one ``M x M`` factor per ridge, and solves exactly the model of
``solver="eigen"`` (same features, same cut-off).

The preconditioned system for column ``(alpha, target)`` is ``D (Phi^T W Phi +
alpha I) D v = D g`` with ``D = diag((S/M) lambda + alpha)^(-1/2)`` and ``w = D v``;
CG stops when the residual of that system falls below ``tol`` times its right-hand
side, per column (converged columns leave the block).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from .. import _core
from .passes import Batch, RowSource, _validated
from .paths import PathSolution
from .progress import Progress
from .selection import check_alphas

__all__ = [
    "CenterStatistics",
    "ConjugateFit",
    "ConjugatePath",
    "center_statistics",
    "conjugate_fit",
    "conjugate_grid",
    "holdout_split",
    "solve_conjugate",
]


@dataclass
class CenterStatistics:
    """What one pass over the rows gives before the iterations.

    Attributes
    ----------
    weight_sum : float
        ``S = sum_i s_i``.
    n_samples : int
        The number of rows.
    target_sums, target_squares : ndarray of shape (n_targets,)
        ``sum_i s_i y_i`` and ``sum_i s_i y_i^2``.
    kernel_sums : ndarray of shape (M,)
        ``K^T s``.
    kernel_targets : ndarray of shape (M, n_targets)
        ``K^T W Y``.
    """

    weight_sum: float
    n_samples: int
    target_sums: np.ndarray
    target_squares: np.ndarray
    kernel_sums: np.ndarray
    kernel_targets: np.ndarray

    def __add__(self, other: CenterStatistics) -> CenterStatistics:
        """The statistics of both sets of rows."""
        return CenterStatistics(
            self.weight_sum + other.weight_sum,
            self.n_samples + other.n_samples,
            self.target_sums + other.target_sums,
            self.target_squares + other.target_squares,
            self.kernel_sums + other.kernel_sums,
            self.kernel_targets + other.kernel_targets,
        )


def center_statistics(
    rows: RowSource,
    centers: _core.KernelCenters,
    shift: np.ndarray,
    *,
    n_jobs: int | None,
    prepare: Callable[[Batch], Batch] = _validated,
) -> CenterStatistics:
    """One pass: the weights, targets (minus ``shift``) and kernel sums of ``rows``."""
    m, n_targets = centers.n_centers, len(shift)

    def init() -> CenterStatistics:
        return CenterStatistics(
            0.0, 0, np.zeros(n_targets), np.zeros(n_targets), np.zeros(m), np.zeros((m, n_targets))
        )

    def step(stats: CenterStatistics, batch: Batch) -> CenterStatistics:
        if len(batch[0]) == 0:
            return stats
        X, Y, sample_weight = prepare(batch)
        Y = Y - shift
        weights = np.ones(len(X)) if sample_weight is None else sample_weight
        columns = np.column_stack([np.ones(len(X)), Y])
        with np.errstate(over="ignore"):
            squares = weights @ np.square(Y)
        if not np.all(np.isfinite(squares)):
            raise ValueError(_core.TARGETS_OVERFLOW)
        products = centers.transpose_products(X, columns, weights, n_jobs=n_jobs)
        return stats + CenterStatistics(
            float(weights.sum()),
            len(X),
            weights @ Y,
            squares,
            products[:, 0],
            products[:, 1:],
        )

    return rows.reduce(init, step, lambda a, b: a + b)


@dataclass
class ConjugatePath:
    """The CG solutions of every ridge and target.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
        The ridges.
    coef : ndarray of shape (n_alphas, n_components, n_targets)
        Coefficients ``w`` of the Nystrom features.
    intercept : ndarray of shape (n_alphas, n_targets)
        Intercepts (of the targets as given).
    train_errors : ndarray of shape (n_alphas, n_targets)
        Weighted training mean squared errors, from the normal equations.
    iterations : ndarray of shape (n_alphas, n_targets)
        CG iterations each column took.
    residuals : list of ndarray
        Per iteration, the relative residual of every column (``n_alphas x
        n_targets``; a converged column keeps its last value).
    converged : ndarray of bool, shape (n_alphas, n_targets)
        Whether each column reached ``tol``.
    """

    alphas: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    train_errors: np.ndarray
    iterations: np.ndarray
    residuals: list[np.ndarray] = field(default_factory=list)
    converged: np.ndarray | None = None


def solve_conjugate(
    rows: RowSource,
    centers: _core.KernelCenters,
    eigenvalues: np.ndarray,
    projection: np.ndarray,
    stats: CenterStatistics,
    alphas: np.ndarray,
    *,
    fit_intercept: bool,
    tol: float,
    max_iter: int,
    n_jobs: int | None,
    init: np.ndarray | None = None,
    prepare: Callable[[Batch], Batch] = _validated,
    on_iteration: Callable[[int, float], None] | None = None,
) -> ConjugatePath:
    """Solve the ridge path by preconditioned CG, all ridges and targets in one block.

    Parameters
    ----------
    rows : RowSource
        The training rows (read once per iteration).
    centers : _core.KernelCenters
        The kernel against the centers.
    eigenvalues, projection : ndarray
        The Nystrom basis of the centers (``r`` kept eigenvalues, ``M x r``).
    stats : CenterStatistics
        :func:`center_statistics` of ``rows``.
    alphas : ndarray of shape (n_alphas,)
        The ridges, each > 0.
    fit_intercept : bool
        Fit an unpenalized intercept (the features are centered).
    tol : float
        Relative residual at which a column stops.
    max_iter : int
        Most iterations.
    n_jobs : int or None
        Threads of the core.
    init : ndarray of shape (n_alphas, r, n_targets), default=None
        Starting coefficients (a warm start); zeros when None.
    prepare : callable, default=identity
        Validates a raw batch of ``rows``.
    on_iteration : callable, default=None
        ``on_iteration(iteration, largest relative residual)`` after each iteration.
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    n_alphas, n_targets = len(alphas), stats.kernel_targets.shape[1]
    r, m = projection.shape[1], projection.shape[0]
    S = stats.weight_sum
    target_means = stats.target_sums / S if fit_intercept else np.zeros(n_targets)
    kernel_means = stats.kernel_sums / S if fit_intercept else np.zeros(m)
    # Phi_c^T W y_c in the Nystrom basis: (r, t).
    rhs = projection.T @ (stats.kernel_targets - np.outer(stats.kernel_sums, target_means))
    # Column j = a * t + k: ridge a, target k.
    alpha_of = np.repeat(alphas, n_targets)
    scale = 1.0 / np.sqrt(np.outer(eigenvalues * (S / m), np.ones(len(alpha_of))) + alpha_of)
    g = scale * np.tile(rhs, n_alphas)  # (r, n_alphas t)

    def apply(V: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """``D (Phi_c^T W Phi_c + alpha I) D V`` for the given columns: one pass."""
        weighted = scale[:, columns] * V
        U = projection @ weighted
        shift = kernel_means @ U

        def step(total, batch):
            if len(batch[0]) == 0:
                return total
            X, _, sample_weight = prepare(batch)
            return total + centers.normal_products(X, U, list(shift), sample_weight, n_jobs=n_jobs)

        products = rows.reduce(lambda: np.zeros_like(U), step, np.add)
        return scale[:, columns] * (projection.T @ products + alpha_of[columns] * weighted)

    cols = n_alphas * n_targets
    V = np.zeros((r, cols))
    if init is not None:
        V = np.concatenate(list(init), axis=1) / scale
    residual = g - apply(V, np.arange(cols)) if init is not None else g.copy()
    g_norm = np.linalg.norm(g, axis=0)
    squares = np.sum(residual * residual, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(g_norm > 0, np.sqrt(squares) / g_norm, 0.0)
    direction = residual.copy()
    iterations = np.zeros(cols, dtype=int)
    history = []
    active = relative > tol
    for iteration in range(1, max_iter + 1):
        if not active.any():
            break
        columns = np.flatnonzero(active)
        p = direction[:, columns]
        Ap = apply(p, columns)
        step_size = squares[columns] / np.sum(p * Ap, axis=0)
        V[:, columns] += step_size * p
        residual[:, columns] -= step_size * Ap
        new_squares = np.sum(residual[:, columns] ** 2, axis=0)
        direction[:, columns] = residual[:, columns] + (new_squares / squares[columns]) * p
        squares[columns] = new_squares
        iterations[columns] += 1
        relative[columns] = np.sqrt(new_squares) / g_norm[columns]
        history.append(relative.reshape(n_alphas, n_targets).copy())
        active = relative > tol
        if on_iteration is not None:
            on_iteration(iteration, float(relative.max()))
    W = scale * V  # (r, cols): coefficients of the features
    coef = W.T.reshape(n_alphas, n_targets, r).transpose(0, 2, 1)
    beta = projection @ W
    intercept = target_means[None, :] - (kernel_means @ beta).reshape(n_alphas, n_targets)
    # Training error from the normal equations: y_c^T W y_c - w^T g - alpha |w|^2.
    centered_squares = stats.target_squares - S * target_means**2
    fitted = np.sum(W * np.tile(rhs, n_alphas), axis=0) + alpha_of * np.sum(W * W, axis=0)
    train = np.maximum(centered_squares - fitted.reshape(n_alphas, n_targets), 0.0) / S
    return ConjugatePath(
        alphas,
        coef,
        intercept,
        train,
        iterations.reshape(n_alphas, n_targets),
        history,
        (relative <= tol).reshape(n_alphas, n_targets),
    )


#: ``alphas="auto"`` with CG: ridges from 1e-6 to 1e-1 times the Gram's estimated top
#: eigenvalue. CG needs more iterations the smaller the ridge (the ridgeless end of
#: the eigen path's grid would not converge), and no ridge of 0.
AUTO_ALPHA_DECADES = (-6.0, -1.0, 6)
#: Fraction of the rows held out to choose ``alpha`` when ``cv`` is None.
VALIDATION_FRACTION = 0.1


def conjugate_grid(alphas, eigenvalues: np.ndarray, weight_sum: float) -> np.ndarray:
    """The ridges of a CG path: ``alphas`` checked (each > 0), or ``"auto"``.

    ``"auto"`` scales :data:`AUTO_ALPHA_DECADES` by ``(S / M) lambda_max``, the
    Nystrom estimate of the top eigenvalue of the features' Gram.
    """
    if isinstance(alphas, str):
        low, high, count = AUTO_ALPHA_DECADES
        top = weight_sum / len(eigenvalues) * eigenvalues[0] if len(eigenvalues) else 1.0
        return top * np.logspace(low, high, int(count))
    grid = check_alphas(alphas)
    if grid[0] <= 0:
        raise ValueError(
            f"solver='cg' needs every alpha > 0 (got {grid[0]}): the ridgeless limit is "
            "the eigen solver's (solver='eigen')"
        )
    return grid


def holdout_split(
    n_rows: int, random_state, sample_weight: np.ndarray | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """One ``(train, test)`` split holding out :data:`VALIDATION_FRACTION` of the rows.

    With ``sample_weight`` (rows in memory) the held-out rows are drawn among those
    of positive weight: rows of weight 0 count nowhere, and stay in the training
    part. Without (a streamed source, whose weights come with its batches) they are
    drawn among all rows.
    """
    candidates = np.arange(n_rows) if sample_weight is None else np.flatnonzero(sample_weight > 0)
    n_test = max(1, round(VALIDATION_FRACTION * len(candidates)))
    permutation = check_random_state(random_state).permutation(len(candidates))
    test = np.sort(candidates[permutation[:n_test]])
    return [(np.setdiff1d(np.arange(n_rows), test), test)]


def indicator(index: np.ndarray, n_rows: int) -> np.ndarray:
    """The factor that keeps the rows ``index`` of ``n_rows`` and weighs the others 0."""
    factor = np.zeros(n_rows)
    factor[index] = 1.0
    return factor


def heldout_errors(
    rows: RowSource,
    centers: _core.KernelCenters,
    beta: np.ndarray,
    intercept: np.ndarray,
    shift: np.ndarray,
    *,
    n_jobs: int | None,
    prepare: Callable[[Batch], Batch] = _validated,
) -> tuple[np.ndarray, float]:
    """One pass: ``sum_i s_i (y_i - shift - k(x_i, C) beta - b)^2`` and ``sum_i s_i``.

    ``beta`` holds one column per (ridge, target) pair, ridge-major; the sums come
    back as ``(n_columns,)``.
    """
    n_targets = len(shift)

    def step(total: tuple[np.ndarray, float], batch: Batch) -> tuple[np.ndarray, float]:
        if len(batch[0]) == 0:
            return total
        X, Y, sample_weight = prepare(batch)
        weights = np.ones(len(X)) if sample_weight is None else sample_weight
        kept = weights != 0
        if not kept.any():
            return total
        predicted = centers.predict(np.ascontiguousarray(X[kept]), beta, intercept, n_jobs=n_jobs)
        tiled = np.tile(Y[kept] - shift, beta.shape[1] // n_targets)
        return total[0] + weights[kept] @ np.square(tiled - predicted), total[1] + weights.sum()

    def combine(a, b):
        return a[0] + b[0], a[1] + b[1]

    return rows.reduce(lambda: (np.zeros(beta.shape[1]), 0.0), step, combine)


@dataclass
class ConjugateFit:
    """A CG ridge path with its held-out selection, as ``KernelRidge`` reports it.

    Attributes
    ----------
    solution : PathSolution
        Held-out errors, training errors and ``coef(alpha)`` (a refit on all rows).
    iterations : ndarray of shape (n_alphas, n_targets)
        CG iterations of each ridge and target, summed over the splits.
    residuals : list of ndarray
        Relative residuals of every ridge and target after each iteration (all splits).
    refit_iterations : list of int
        Iterations of each refit on all rows.
    """

    solution: PathSolution
    iterations: np.ndarray
    residuals: list[np.ndarray]
    refit_iterations: list[int]


def conjugate_fit(
    rows: RowSource,
    n_rows: int,
    centers: _core.KernelCenters,
    eigenvalues: np.ndarray,
    projection: np.ndarray,
    alphas,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    shift: np.ndarray,
    fit_intercept: bool,
    tol: float,
    max_iter: int,
    n_jobs: int | None,
    progress: Progress,
    prepare: Callable[[Batch], Batch] = _validated,
) -> ConjugateFit:
    """The CG path on each split's training rows, errors on its test rows, then a refit.

    ``rows`` (``n_rows`` of them) is any :class:`RowSource`: a split reads it with
    the weights of the other part's rows set to 0 (:meth:`RowSource.reweighted`),
    so memmaps, batches and Dask blocks are never gathered. The targets minus
    ``shift`` are solved; the intercepts add it back. ``coef(alpha)`` of the
    solution solves ``alpha`` on all rows, warm-started from the splits' mean solution.
    """
    n_targets = len(shift)
    whole = center_statistics(rows, centers, shift, n_jobs=n_jobs, prepare=prepare)
    if whole.weight_sum <= 0:
        raise ValueError("every row has a weight of 0: there is nothing to fit")
    grid = conjugate_grid(alphas, eigenvalues, whole.weight_sum)
    errors = np.zeros(len(grid) * n_targets)
    train = np.zeros((len(grid), n_targets))
    iterations = np.zeros((len(grid), n_targets), dtype=int)
    residuals: list[np.ndarray] = []
    starts = []
    test_weight = 0.0

    def solve(part: RowSource, stats, ridges: np.ndarray, init, phase: str) -> ConjugatePath:
        with progress.bar(phase, max_iter, "iterations") as advance:
            return solve_conjugate(
                part,
                centers,
                eigenvalues,
                projection,
                stats,
                ridges,
                fit_intercept=fit_intercept,
                tol=tol,
                max_iter=max_iter,
                n_jobs=n_jobs,
                init=init,
                prepare=prepare,
                on_iteration=lambda _, worst: advance(1, f"residual {worst:.1e}"),
            )

    for k, (train_rows, test_rows) in enumerate(splits):
        progress.phase(
            f"split {k + 1}/{len(splits)}: conjugate gradients on {len(train_rows)} rows, "
            f"{len(grid)} ridges x {n_targets} targets"
        )
        part = rows.reweighted(indicator(train_rows, n_rows))
        stats = center_statistics(part, centers, shift, n_jobs=n_jobs, prepare=prepare)
        path = solve(part, stats, grid, None, f"split {k + 1}")
        iterations += path.iterations
        residuals += path.residuals
        train += path.train_errors / len(splits)
        starts.append(path.coef)
        # Held-out errors of every ridge and target in one pass.
        beta = np.concatenate([projection @ c for c in path.coef], axis=1)
        sums, weight = heldout_errors(
            rows.reweighted(indicator(test_rows, n_rows)),
            centers,
            beta,
            np.ascontiguousarray(path.intercept.ravel()),
            shift,
            n_jobs=n_jobs,
            prepare=prepare,
        )
        errors += sums
        test_weight += weight
    if test_weight <= 0:
        raise ValueError("every held-out row has a weight of 0: nothing to choose alpha on")
    if not np.all(path.converged):
        slow = sorted({float(grid[a]) for a in np.flatnonzero(~path.converged.all(axis=1))})
        warnings.warn(
            f"conjugate gradients reached max_iter={max_iter} before tol={tol} for alpha in "
            f"{slow}; raise max_iter or tol, or use larger ridges",
            ConvergenceWarning,
            stacklevel=3,
        )
    start = np.mean(starts, axis=0)
    refit_iterations: list[int] = []

    def coef(alpha: float) -> tuple[np.ndarray, np.ndarray]:
        index = int(np.flatnonzero(grid == alpha)[0])
        progress.phase(f"refit alpha = {alpha:.3g} on all {n_rows} rows")
        refit = solve(rows, whole, np.array([alpha]), start[index : index + 1], "refit")
        refit_iterations.append(int(refit.iterations.max()))
        return refit.coef[0], refit.intercept[0] + shift

    return ConjugateFit(
        PathSolution(grid, errors.reshape(len(grid), n_targets) / test_weight, train, coef),
        iterations,
        residuals,
        refit_iterations,
    )
