"""Falkon-style Nystrom kernel ridge by preconditioned conjugate gradients, in numpy/scipy.

This is the benchmark's reference for ``rfkernels.KernelRidge(solver="cg")``: the
same solver written with numpy/scipy only, with numpy's BLAS for the kernel tiles
and every product, on the same centers and with the same tolerance. It imports
nothing from rfkernels, so that timing it next to the library separates the
algorithm from the Rust engine (and checking it against the library checks both).

The problem, for centers ``C`` (``M`` rows), the RBF kernel ``k(x, c) = exp(-gamma
||x - c||^2)``, sample weights ``s``, each ridge ``alpha > 0`` and each target::

    minimize  sum_i s_i (y_i - b - k(x_i, C) . beta)^2 + alpha beta^T K_MM beta

is ridge regression on the Nystrom features ``z(x) = P^T k(C, x)`` with
``P = V_r Lambda_r^(-1/2)`` (the eigenvectors of ``K_MM`` whose eigenvalues exceed
``M * eps * lambda_max``, numpy's ``pinv`` cut-off) and ``beta = P w``. Its normal
equations, with the features centered (weighted) for the intercept, are solved
by conjugate gradients preconditioned by the diagonal ``D = ((S / M) Lambda_r +
alpha I)^(-1/2)`` (Falkon's preconditioner in the Nystrom basis, ``S`` the total
weight). The kernel matrix ``K_nM`` is never formed: every pass over the rows
computes it ``block_rows`` rows at a time (``X_b @ C.T`` plus row norms, then
``exp``), and all ridges and targets that have not converged share one pass per
iteration. With ``n_threads > 1`` the blocks of a pass are spread over that many
Python threads (numpy releases the GIL in its BLAS calls and elementwise loops, which
are single-threaded on their own); the caller then limits BLAS to one thread per
block, as :func:`threadpoolctl.threadpool_limits` does.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.linalg

__all__ = ["FalkonPath", "falkon_path", "kernel_block", "nystrom_basis", "predict"]


@dataclass
class FalkonPath:
    """The solutions of every ridge and target.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
        The ridges.
    coef : ndarray of shape (n_alphas, r, n_targets)
        Coefficients ``w`` of the ``r`` Nystrom features.
    center_coef : ndarray of shape (n_alphas, M, n_targets)
        Coefficients ``beta = P w`` of ``k(x, C)``.
    intercept : ndarray of shape (n_alphas, n_targets)
        Intercepts ``ybar - kbar . beta`` (zeros without ``fit_intercept``).
    iterations : ndarray of int, shape (n_alphas, n_targets)
        CG iterations each column took.
    converged : ndarray of bool, shape (n_alphas, n_targets)
        Whether each column reached ``tol`` within ``max_iter``.
    eigenvalues : ndarray of shape (r,)
        The kept eigenvalues of ``K_MM``, descending.
    projection : ndarray of shape (M, r)
        ``P = V_r diag(eigenvalues)^(-1/2)``.
    """

    alphas: np.ndarray
    coef: np.ndarray
    center_coef: np.ndarray
    intercept: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    eigenvalues: np.ndarray
    projection: np.ndarray


def kernel_block(X: np.ndarray, centers: np.ndarray, gamma: float) -> np.ndarray:
    """The RBF kernel ``exp(-gamma ||x - c||^2)`` between the rows of ``X`` and ``centers``.

    Parameters
    ----------
    X : ndarray of shape (b, d)
        Rows (one block).
    centers : ndarray of shape (M, d)
        The centers.
    gamma : float
        The RBF's inverse squared length scale.

    Returns
    -------
    ndarray of shape (b, M)
        The kernel tile, from one BLAS product ``X @ centers.T`` and the row norms.
    """
    sq = np.einsum("ij,ij->i", X, X)[:, None] + np.einsum("ij,ij->i", centers, centers)[None, :]
    sq -= 2.0 * (X @ centers.T)
    np.maximum(sq, 0.0, out=sq)
    sq *= -gamma
    return np.exp(sq, out=sq)


def nystrom_basis(centers: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """The Nystrom basis of ``K_MM = k(C, C)``: kept eigenvalues and ``P``.

    Parameters
    ----------
    centers : ndarray of shape (M, d)
        The centers.
    gamma : float
        The RBF's inverse squared length scale.

    Returns
    -------
    eigenvalues : ndarray of shape (r,)
        Eigenvalues of ``K_MM`` above ``M * eps * max(eigenvalues)``, descending.
    projection : ndarray of shape (M, r)
        ``V_r / sqrt(eigenvalues)``.
    """
    K = kernel_block(centers, centers, gamma)
    K = 0.5 * (K + K.T)
    values, vectors = scipy.linalg.eigh(K)
    values, vectors = values[::-1], vectors[:, ::-1]
    top = values[0] if len(values) else 0.0
    keep = values > len(centers) * np.finfo(np.float64).eps * top
    values, vectors = values[keep], vectors[:, keep]
    return values, vectors / np.sqrt(values)


def _blocks(n: int, block_rows: int) -> list[slice]:
    """Slices of ``block_rows`` consecutive rows covering ``range(n)``."""
    return [slice(start, min(start + block_rows, n)) for start in range(0, n, block_rows)]


def _block_sum(
    block_term: Callable[[slice], np.ndarray], blocks: list[slice], n_threads: int
) -> np.ndarray:
    """``sum(block_term(b) for b in blocks)``, the blocks spread over ``n_threads`` threads."""
    if n_threads <= 1:
        return sum(block_term(b) for b in blocks)
    groups = [blocks[i::n_threads] for i in range(min(n_threads, len(blocks)))]
    with ThreadPoolExecutor(len(groups)) as pool:
        return sum(pool.map(lambda group: sum(block_term(b) for b in group), groups))


def falkon_path(
    X: np.ndarray,
    Y: np.ndarray,
    centers: np.ndarray,
    gamma: float,
    alphas: np.ndarray | list[float] | float,
    *,
    sample_weight: np.ndarray | None = None,
    fit_intercept: bool = True,
    tol: float = 1e-4,
    max_iter: int = 100,
    block_rows: int = 2048,
    n_threads: int = 1,
) -> FalkonPath:
    """Solve Nystrom kernel ridge for every ridge and target by preconditioned CG.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Training rows.
    Y : ndarray of shape (n,) or (n, n_targets)
        Targets (a 1-d ``Y`` is one target).
    centers : ndarray of shape (M, d)
        The Nystrom centers.
    gamma : float
        The RBF's inverse squared length scale.
    alphas : float or array-like of shape (n_alphas,)
        The ridges, each > 0.
    sample_weight : ndarray of shape (n,), default=None
        Non-negative weights of the rows; ones when None.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept (the features and targets are centered).
    tol : float, default=1e-4
        A column stops when its preconditioned residual is at most ``tol`` times
        its right-hand side (both in Euclidean norm).
    max_iter : int, default=100
        Most CG iterations.
    block_rows : int, default=2048
        Rows per kernel tile in each pass.
    n_threads : int, default=1
        Python threads sharing the blocks of each pass.

    Returns
    -------
    FalkonPath
        Coefficients, intercepts and iteration counts of every ridge and target.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    Y = Y[:, None] if Y.ndim == 1 else Y
    C = np.asarray(centers, dtype=np.float64)
    alphas = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if np.any(alphas <= 0):
        raise ValueError("every alpha must be > 0")
    n, t = Y.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    blocks = _blocks(n, block_rows)
    lam, P = nystrom_basis(C, gamma)
    m, r = P.shape

    # One pass: K^T s and K^T W Y.
    def statistics(b: slice) -> np.ndarray:
        """``K_b^T [s_b | W_b Y_b]``: the block's kernel sums and kernel targets."""
        K = kernel_block(X[b], C, gamma)
        return K.T @ (s[b, None] * np.column_stack([np.ones(len(K)), Y[b]]))

    sums = _block_sum(statistics, blocks, n_threads)
    kernel_sums, kernel_targets = sums[:, 0], sums[:, 1:]
    S = float(s.sum())
    ybar = s @ Y / S if fit_intercept else np.zeros(t)
    kbar = kernel_sums / S if fit_intercept else np.zeros(m)
    rhs = P.T @ (kernel_targets - S * np.outer(kbar, ybar))  # (r, t)

    # Column j = a * t + k is ridge a, target k.
    n_cols = len(alphas) * t
    alpha_col = np.repeat(alphas, t)
    D = 1.0 / np.sqrt((S / m) * lam[:, None] + alpha_col[None, :])  # (r, n_cols)
    g = D * np.tile(rhs, len(alphas))

    def operator(V: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``D (Phi_c^T W Phi_c + alpha I) D V`` for columns ``cols``: one pass over the rows."""
        Wv = D[:, cols] * V
        U = P @ Wv
        shift = kbar @ U

        def products(b: slice) -> np.ndarray:
            K = kernel_block(X[b], C, gamma)
            return K.T @ (s[b, None] * (K @ U - shift))

        Q = _block_sum(products, blocks, n_threads)
        return D[:, cols] * (P.T @ Q + alpha_col[cols] * Wv)

    V = np.zeros((r, n_cols))
    R = g.copy()
    Pdir = R.copy()
    rr = np.sum(R * R, axis=0)
    g_norm = np.sqrt(rr)
    threshold = tol * g_norm
    iterations = np.zeros(n_cols, dtype=int)
    active = np.sqrt(rr) > threshold
    for _ in range(max_iter):
        cols = np.flatnonzero(active)
        if len(cols) == 0:
            break
        p = Pdir[:, cols]
        Ap = operator(p, cols)
        step = rr[cols] / np.sum(p * Ap, axis=0)
        V[:, cols] += step * p
        R[:, cols] -= step * Ap
        rr_new = np.sum(R[:, cols] ** 2, axis=0)
        Pdir[:, cols] = R[:, cols] + (rr_new / rr[cols]) * p
        rr[cols] = rr_new
        iterations[cols] += 1
        active[cols] = np.sqrt(rr_new) > threshold[cols]

    w = D * V  # (r, n_cols)
    beta = P @ w  # (M, n_cols)
    intercept = np.tile(ybar, len(alphas)) - kbar @ beta
    shape = (len(alphas), t)
    return FalkonPath(
        alphas=alphas,
        coef=w.T.reshape(len(alphas), t, r).transpose(0, 2, 1),
        center_coef=beta.T.reshape(len(alphas), t, m).transpose(0, 2, 1),
        intercept=intercept.reshape(shape),
        iterations=iterations.reshape(shape),
        converged=(np.sqrt(rr) <= threshold).reshape(shape),
        eigenvalues=lam,
        projection=P,
    )


def predict(
    X: np.ndarray,
    centers: np.ndarray,
    gamma: float,
    beta: np.ndarray,
    intercept: np.ndarray | float,
    block_rows: int = 2048,
) -> np.ndarray:
    """Predict ``k(X, C) @ beta + intercept``, ``block_rows`` rows at a time.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Rows to predict.
    centers : ndarray of shape (M, d)
        The centers.
    gamma : float
        The RBF's inverse squared length scale.
    beta : ndarray of shape (M,) or (M, n_outputs)
        Coefficients of the centers (e.g. ``FalkonPath.center_coef[a]``).
    intercept : float or ndarray of shape (n_outputs,)
        The intercepts.
    block_rows : int, default=2048
        Rows per kernel tile.

    Returns
    -------
    ndarray of shape (n,) or (n, n_outputs)
        The predictions (1-d when ``beta`` is).
    """
    X = np.asarray(X, dtype=np.float64)
    C = np.asarray(centers, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    out = np.empty((len(X), *beta.shape[1:]))
    for b in _blocks(len(X), block_rows):
        out[b] = kernel_block(X[b], C, gamma) @ beta
    return out + intercept
