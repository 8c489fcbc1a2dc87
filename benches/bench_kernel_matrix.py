"""Exact kernel matrices: rfkernels.kernels.kernel_matrix vs scikit-learn (X vs X).

n=4000, d=64, float64, the same gamma for all. Groups, each with its reference first:

- rbf: sklearn ``rbf_kernel`` (reference; GEMM + exp), rfkernels;
- laplacian: sklearn ``laplacian_kernel`` (reference; scipy ``cdist``, one thread),
  ``pairwise_kernels(metric="laplacian", n_jobs=-1)`` (joblib threads), rfkernels;
- relu (arc-cosine of order 1, not in scikit-learn): a numpy reference (GEMM +
  arccos), rfkernels.

What is computed: every reference computes the whole ``n x n`` matrix.
``rfkernels`` (``kernel_matrix(X)``) computes the lower triangle and mirrors it, half
the kernel evaluations, as any symmetric kernel matrix allows; ``rfkernels full``
(``kernel_matrix(X, Y)`` with ``Y`` a copy of ``X``) computes every entry, the same work
as the references. Every run's matrix is checked at 2,000 random entries over the whole
matrix (both triangles) against the reference's formula.

``flops`` is the GEMM-equivalent ``2 n^2 d`` for rbf and relu; laplacian has no GEMM.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import Measure, scaled
from rfkernels.kernels import kernel_matrix
from sklearn.metrics.pairwise import laplacian_kernel, pairwise_kernels, rbf_kernel

N_SAMPLES = scaled(4000, exponent=2)
N_FEATURES = 64
GAMMA = 1.0 / N_FEATURES


@functools.cache
def make_x() -> np.ndarray:
    """The input data: standard normal float64, C-contiguous (cached)."""
    return np.random.default_rng(0).standard_normal((N_SAMPLES, N_FEATURES))


@functools.cache
def copy_of_x() -> np.ndarray:
    """A copy of :func:`make_x`: ``kernel_matrix(X, Y)`` then computes every entry."""
    return make_x().copy()


def numpy_arccos1(X: np.ndarray, gamma: float) -> np.ndarray:
    """Arc-cosine kernel of order 1 (bias 0) of ``sqrt(gamma) X`` with itself, in numpy."""
    gram = (X @ X.T) * gamma
    norms = np.sqrt(np.diag(gram).copy())
    norm_products = np.outer(norms, norms)
    theta = np.arccos(np.clip(gram / norm_products, -1.0, 1.0))
    return (norm_products * np.sin(theta) + (np.pi - theta) * gram) / np.pi


CASES = {
    "rbf": {
        "sklearn rbf_kernel": lambda X: rbf_kernel(X, gamma=GAMMA),
        "rfkernels": lambda X: kernel_matrix(X, kernel="rbf", gamma=GAMMA),
        "rfkernels full": lambda X: kernel_matrix(X, copy_of_x(), kernel="rbf", gamma=GAMMA),
    },
    "laplacian": {
        "sklearn laplacian_kernel": lambda X: laplacian_kernel(X, gamma=GAMMA),
        "sklearn pairwise_kernels n_jobs=-1": lambda X: pairwise_kernels(
            X, metric="laplacian", gamma=GAMMA, n_jobs=-1
        ),
        "rfkernels": lambda X: kernel_matrix(X, kernel="laplacian", gamma=GAMMA),
        "rfkernels full": lambda X: kernel_matrix(X, copy_of_x(), kernel="laplacian", gamma=GAMMA),
    },
    "relu": {
        "numpy arccos1": lambda X: numpy_arccos1(X, GAMMA),
        "rfkernels": lambda X: kernel_matrix(X, kernel="relu", gamma=GAMMA),
        "rfkernels full": lambda X: kernel_matrix(X, copy_of_x(), kernel="relu", gamma=GAMMA),
    },
}
PARAMS = [(kernel, impl) for kernel, impls in CASES.items() for impl in impls]


@pytest.mark.parametrize(("kernel", "impl"), PARAMS, ids=[f"{k}-{i}" for k, i in PARAMS])
def test_kernel_matrix(measure: Measure, kernel: str, impl: str) -> None:
    X = make_x()
    K = measure(
        functools.partial(CASES[kernel][impl], X),
        group=f"kernel_matrix {kernel}",
        impl=impl,
        dtype="float64",
        flops=None if kernel == "laplacian" else 2 * N_SAMPLES**2 * N_FEATURES,
        reference=impl == next(iter(CASES[kernel])),
        shape=[N_SAMPLES, N_SAMPLES, N_FEATURES],
        kernel=kernel,
        work="lower triangle, mirrored" if impl == "rfkernels" else "every entry",
    )
    assert K.shape == (N_SAMPLES, N_SAMPLES)
    rng = np.random.default_rng(1)
    i, j = rng.integers(N_SAMPLES, size=(2, 2000))
    reference = CASES[kernel][next(iter(CASES[kernel]))]
    expected = np.array([reference(X[[a, b]])[0, 1] for a, b in zip(i, j, strict=True)])
    np.testing.assert_allclose(K[i, j], expected, rtol=1e-9, atol=1e-12)
