"""Random-feature transform: rfkernels vs numpy vs scikit-learn's RBFSampler.

The rbf groups (one per dtype) time, side by side on the same ``X`` (n=100k, d=64)
and the same fitted weights ``W`` (d, D=2048) and offsets ``b``:

- ``rfkernels``: ``RandomFeatures("rbf").transform`` (fused GEMM + SIMD cos, Rust) on
  all cores, and ``rfkernels-1-thread`` with ``n_jobs=1``;
- ``numpy``: the reference ``np.cos(X @ W + b) * scale`` with ``W, b`` taken from the
  fitted ``RandomFeatures`` (BLAS on all cores, ``np.cos`` on one thread), and
  ``numpy-threaded``: the same expression on the rows split among one Python thread
  per core (numpy releases the GIL), BLAS on one thread each, so that both sides use
  every core; ``numpy-1-thread`` is the expression with BLAS on one thread, the
  single-thread reference of ``rfkernels-1-thread``;
- ``sklearn``: ``RBFSampler(n_components=2048).transform``, fitted on the same data
  with the same gamma, then given the same ``W, b`` (values do not change its cost;
  this makes all three compute the same ``Z``, which is checked).

The other kernels (laplacian, relu, step, rbf with sin/cos pairs) are timed for
rfkernels only. ``flops`` is the GEMM's ``2 n d D`` (``D/2`` frequencies for sincos).
"""

from __future__ import annotations

import functools
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import Measure, rayon_threads, scaled
from rfkernels import RandomFeatures
from sklearn.base import clone
from sklearn.kernel_approximation import RBFSampler
from threadpoolctl import threadpool_limits

N_SAMPLES = scaled(100_000)
N_FEATURES = 64
N_COMPONENTS = 2048
DTYPES = ["float64", "float32"]
OTHER_MAPS = [("laplacian", "cos"), ("relu", "cos"), ("step", "cos"), ("rbf", "sincos")]
N_CHECKED_ROWS = 256


@functools.cache
def make_x(dtype: str) -> np.ndarray:
    """The input data: standard normal, C-contiguous, in ``dtype`` (cached)."""
    rng = np.random.default_rng(0)
    return rng.standard_normal((N_SAMPLES, N_FEATURES)).astype(dtype)


@functools.cache
def fitted(kernel: str, fourier: str, dtype: str) -> RandomFeatures:
    """A ``RandomFeatures`` fitted on ``make_x(dtype)`` (cached)."""
    rf = RandomFeatures(kernel, n_components=N_COMPONENTS, fourier=fourier, random_state=0)
    return rf.fit(make_x(dtype))


def gemm_flops(n_frequencies: int) -> int:
    """Flops of the projection ``X @ W`` with ``n_frequencies`` columns."""
    return 2 * N_SAMPLES * N_FEATURES * n_frequencies


def numpy_rff(X: np.ndarray, W: np.ndarray, b: np.ndarray, scale: float) -> np.ndarray:
    """The numpy reference: random Fourier features as one would write them."""
    return np.cos(X @ W + b) * scale


def numpy_rff_threaded(X: np.ndarray, W: np.ndarray, b: np.ndarray, scale: float) -> np.ndarray:
    """:func:`numpy_rff` on row blocks shared by one Python thread per core (BLAS on one)."""
    out = np.empty((len(X), W.shape[1]), dtype=X.dtype)
    blocks = np.array_split(np.arange(len(X)), 8 * rayon_threads())

    def block(rows: np.ndarray) -> None:
        out[rows[0] : rows[-1] + 1] = numpy_rff(X[rows[0] : rows[-1] + 1], W, b, scale)

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(rayon_threads()) as pool:
        list(pool.map(block, blocks))
    return out


def numpy_rff_one_thread(X: np.ndarray, W: np.ndarray, b: np.ndarray, scale: float) -> np.ndarray:
    """:func:`numpy_rff` with BLAS on one thread (``np.cos`` is single-threaded anyway)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return numpy_rff(X, W, b, scale)


#: The rbf group's implementations (those ending in "1-thread" run on one thread).
RBF_IMPLS = [
    "rfkernels",
    "rfkernels-1-thread",
    "numpy",
    "numpy-threaded",
    "numpy-1-thread",
    "sklearn",
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", RBF_IMPLS)
def test_transform_rbf(measure: Measure, impl: str, dtype: str) -> None:
    X = make_x(dtype)
    rf = fitted("rbf", "cos", dtype)
    W, b = rf.random_weights_, rf.random_offset_
    assert W.dtype == X.dtype and b.dtype == X.dtype
    scale = math.sqrt(2.0 / N_COMPONENTS)
    threads = 1 if impl.endswith("1-thread") else rayon_threads()
    if impl == "rfkernels":
        target = functools.partial(rf.transform, X)
    elif impl == "rfkernels-1-thread":
        single = clone(rf).set_params(n_jobs=1).fit(X)
        target = functools.partial(single.transform, X)
    elif impl == "numpy":
        target = functools.partial(numpy_rff, X, W, b, scale)
    elif impl == "numpy-threaded":
        target = functools.partial(numpy_rff_threaded, X, W, b, scale)
    elif impl == "numpy-1-thread":
        target = functools.partial(numpy_rff_one_thread, X, W, b, scale)
    else:
        sampler = RBFSampler(gamma=rf.gamma_, n_components=N_COMPONENTS, random_state=0).fit(X)
        assert sampler.random_weights_.shape == W.shape
        sampler.random_weights_, sampler.random_offset_ = W, b
        target = functools.partial(sampler.transform, X)

    Z = measure(
        target,
        group=f"transform rbf {dtype}",
        impl=impl,
        dtype=dtype,
        flops=gemm_flops(N_COMPONENTS),
        reference=impl == "numpy",
        shape=[N_SAMPLES, N_FEATURES, N_COMPONENTS],
        kernel="rbf",
        impl_threads=threads,
    )

    assert Z.shape == (N_SAMPLES, N_COMPONENTS)
    assert Z.dtype == np.dtype(dtype)
    rows = slice(N_CHECKED_ROWS)
    atol = scale * (1e-9 if dtype == "float64" else 1e-4)
    np.testing.assert_allclose(Z[rows], numpy_rff(X[rows], W, b, scale), rtol=0, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("kernel", "fourier"), OTHER_MAPS, ids=[f"{k}-{f}" for k, f in OTHER_MAPS])
def test_transform_other_kernels(measure: Measure, kernel: str, fourier: str, dtype: str) -> None:
    X = make_x(dtype)
    rf = fitted(kernel, fourier, dtype)
    Z = measure(
        functools.partial(rf.transform, X),
        group=f"transform other kernels {dtype}",
        impl="rfkernels",
        dtype=dtype,
        flops=gemm_flops(rf.random_weights_.shape[1]),
        shape=[N_SAMPLES, N_FEATURES, N_COMPONENTS],
        kernel=kernel,
        fourier=fourier,
    )
    assert Z.shape == (N_SAMPLES, N_COMPONENTS)
    assert Z.dtype == np.dtype(dtype)
