"""The symmetric eigendecomposition of every ridge path against LAPACK's (issue 15).

Every ridge path, exact kernel ridge and the Nystrom basis decompose one symmetric
matrix: rfkernels' solver (``_core.symmetric_eigh``: its own blocked tridiagonal
reduction, then faer's divide and conquer and back-transformation, its work split 8
ways whatever the thread count), numpy with LAPACK's ``dsyevd`` (divide and conquer)
through its OpenBLAS. Both get the same matrix and all the cores (rfkernels' pool
and numpy's BLAS threads are recorded), and both return every eigenvalue and
eigenvector. Matrices:

- **kernel**: the centered RBF kernel matrix of 20-dimensional Gaussian rows at
  ``gamma = 1/20``, what exact ``KernelRidge`` and the dual path decompose;
- **graded**: ``Q diag(lambda) Q^T`` for a random orthogonal ``Q`` and eigenvalues
  graded geometrically over ``1e-16 .. 1``, the hard spectrum of the issue.

Each run records the residual ``||A V - V diag(w)||_F / ||A||_F`` and the
orthogonality ``||V^T V - I||_F / sqrt(n)`` of its result; rfkernels' must be within
10x of LAPACK's from the same run, and its eigenvalues within ``n eps ||A||_2`` of
LAPACK's.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import Measure, scaled
from rfkernels import _core
from rfkernels.kernels import kernel_matrix

N_FEATURES = 20
#: (matrix, n): the sizes of the issue, each kind at the sizes it is run at.
CASES = [
    ("kernel", scaled(4096, exponent=3.0)),
    ("graded", scaled(4096, exponent=3.0)),
    ("kernel", scaled(8000, exponent=3.0)),
]
ROUNDS = 3


@functools.cache
def matrix(kind: str, n: int) -> np.ndarray:
    """The symmetric ``n x n`` matrix of ``kind`` (module docs), C-ordered float64."""
    rng = np.random.default_rng(n)
    if kind == "kernel":
        X = rng.standard_normal((n, N_FEATURES))
        K = kernel_matrix(X, kernel="rbf", gamma=1.0 / N_FEATURES)
        K -= K.mean(axis=0)[None, :]
        K -= K.mean(axis=1)[:, None]
        return np.ascontiguousarray(0.5 * (K + K.T))
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    q *= np.sign(np.diag(r))[None, :]
    values = np.geomspace(1e-16, 1.0, n)
    A = (q * values[None, :]) @ q.T
    return np.ascontiguousarray(0.5 * (A + A.T))


def accuracy(A: np.ndarray, values: np.ndarray, vectors: np.ndarray) -> tuple[float, float]:
    """The relative residual and the orthogonality error of a decomposition of ``A``."""
    residual = np.linalg.norm(A @ vectors - vectors * values[None, :]) / np.linalg.norm(A)
    gram = vectors.T @ vectors
    gram[np.diag_indices_from(gram)] -= 1.0
    return float(residual), float(np.linalg.norm(gram) / np.sqrt(len(A)))


SOLVERS = {
    "numpy-eigh": np.linalg.eigh,
    "rfkernels-eigh": _core.symmetric_eigh,
}


@functools.cache
def lapack(kind: str, n: int) -> tuple[np.ndarray, float, float]:
    """LAPACK's eigenvalues of the case, its residual and its orthogonality (untimed)."""
    A = matrix(kind, n)
    values, vectors = np.linalg.eigh(A)
    return (values, *accuracy(A, values, vectors))


@pytest.mark.parametrize("impl", list(SOLVERS))
@pytest.mark.parametrize("kind, n", CASES)
def test_eigh(measure: Measure, kind: str, n: int, impl: str) -> None:
    A = matrix(kind, n)
    values, vectors = measure(
        lambda: SOLVERS[impl](A),
        group=f"symmetric eigendecomposition, {kind} n={n}",
        impl=impl,
        dtype="float64",
        flops=None,
        reference=impl == "numpy-eigh",
        rounds=ROUNDS,
        shape=[n, n],
    )
    residual, orthogonality = accuracy(A, values, vectors)
    reference, ref_residual, ref_orthogonality = lapack(kind, n)
    measure.record(
        matrix=kind,
        residual=residual,
        orthogonality=orthogonality,
        lapack_residual=ref_residual,
        lapack_orthogonality=ref_orthogonality,
    )
    scale = np.abs(reference).max()
    np.testing.assert_allclose(values, reference, rtol=0, atol=n * np.finfo(float).eps * scale)
    assert residual <= 10 * ref_residual
    assert orthogonality <= 10 * ref_orthogonality
