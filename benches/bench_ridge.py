"""Ridge fits: RandomFeatureRidge vs scikit-learn pipelines and KernelRidge.

Side by side on the same data (n=100k, d=32 training rows; 20k test rows), the same
20 ridges and the same random features (the scikit-learn ``RBFSampler`` is given
rfkernels' fitted weights, so both sides fit the same ``Z``):

- ``rfkernels-loo``: ``RandomFeatureRidge(alphas=ALPHAS)``, leave-one-out selection
  (two streaming passes, one eigendecomposition);
- ``sklearn-ridgecv``: ``make_pipeline(RBFSampler, RidgeCV(alphas=ALPHAS))``, its
  efficient leave-one-out (the reference of the group);
- ``sklearn-ridge``: ``make_pipeline(RBFSampler, Ridge(alpha))`` at the alpha
  rfkernels chose (one alpha only, no selection).

Every fit records its peak memory above the memory in use before it (the resident
set sampled every 5 ms from ``/proc/self/statm`` while it runs, so Rust and BLAS
allocations count) and its test mean squared error in ``extra_info``.

The scale group fits n=1,000,000 x D=4096 with leave-one-out (rfkernels only: the
features alone would take 32 GB), and measures the Gram accumulation rate against
numpy's ``Z.T @ Z`` (dsyrk) on one block. KernelRidge is compared on n=4000.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import Measure, scaled
from rfkernels import KernelRidge, RandomFeatureRidge, RandomFeatures
from rfkernels._engine.features import FeatureArrays
from rfkernels._engine.passes import new_statistics
from sklearn.kernel_approximation import RBFSampler
from sklearn.kernel_ridge import KernelRidge as SklearnKernelRidge
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.metrics import mean_squared_error
from sklearn.pipeline import make_pipeline

N_TRAIN = scaled(100_000)
N_TEST = scaled(20_000)
N_FEATURES = 32
N_COMPONENTS = 1024
ALPHAS = np.logspace(-4, 3, 20)
N_LARGE = scaled(1_000_000)
D_LARGE = 4096
N_KERNEL = scaled(4000, exponent=3.0)
PAGE = os.sysconf("SC_PAGE_SIZE")


@functools.cache
def make_data(n_train: int, n_test: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """A smooth regression task with noise: ``y = sum_i sin(x_i) + x_0 x_1 / 2 + noise``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_train + n_test, N_FEATURES))
    y = np.sin(X).sum(axis=1) + 0.5 * X[:, 0] * X[:, 1] + 0.3 * rng.standard_normal(len(X))
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def resident_bytes() -> int:
    """The process's resident set size."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def peak_memory_of(fit: Callable[[], Any]) -> tuple[Any, int]:
    """Run ``fit()``; return its result and its peak resident memory above the start."""
    start = resident_bytes()
    peak = start
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.005):
            peak = max(peak, resident_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = fit()
    finally:
        done.set()
        sampler.join()
    return result, max(peak, resident_bytes()) - start


def timed_fit(make_model: Callable[[], Any], X: np.ndarray, y: np.ndarray, record: dict):
    """A benchmark target: fit a fresh model, recording in ``record`` its peak memory
    (the largest over the rounds) and the seconds of the last round."""

    def target() -> Any:
        start = time.perf_counter()
        model, peak = peak_memory_of(lambda: make_model().fit(X, y))
        record["seconds"] = time.perf_counter() - start
        record["peak_memory_bytes"] = max(record.get("peak_memory_bytes", 0), peak)
        return model

    return target


def rfkernels_model(n_components: int = N_COMPONENTS) -> RandomFeatureRidge:
    """The rfkernels model of the comparison (LOO over ALPHAS)."""
    return RandomFeatureRidge(n_components=n_components, alphas=ALPHAS, random_state=0)


@functools.cache
def reference_features() -> RandomFeatureRidge:
    """rfkernels' fit on the comparison data: its weights and chosen alpha are shared."""
    X, y, _, _ = make_data(N_TRAIN, N_TEST)
    return rfkernels_model().fit(X, y)


def sklearn_pipeline(regressor: Any) -> Any:
    """``RBFSampler`` carrying rfkernels' weights, followed by ``regressor``."""
    features = reference_features().random_features_

    class SharedWeightsSampler(RBFSampler):
        def fit(self, X, y=None):
            super().fit(X, y)
            self.random_weights_ = features.random_weights_
            self.random_offset_ = features.random_offset_
            return self

    sampler = SharedWeightsSampler(gamma=features.gamma_, n_components=N_COMPONENTS)
    return make_pipeline(sampler, regressor)


class NumpyEigenLOO:
    """rfkernels' algorithm written with numpy, on rfkernels' features (the same work).

    One pass for ``Z^T Z`` (numpy's ``dsyrk``), ``Z^T y`` and the feature sums, chunk by
    chunk; ``eigh`` of the centered Gram; a second pass projecting each chunk with
    ``[Q | C]`` in one product for the leverages and every alpha's fits; the alpha of
    least leave-one-out error. Memory ``O(D^2 + chunk D)``, as rfkernels'.
    """

    def __init__(self, chunk_rows: int = 8192) -> None:
        self.chunk_rows = chunk_rows

    def features(self, X: np.ndarray) -> np.ndarray:
        """rfkernels' random features of ``X``, in numpy."""
        rf = reference_features().random_features_
        scale = np.sqrt(2.0 / rf.random_weights_.shape[1])
        return np.cos(X @ rf.random_weights_ + rf.random_offset_) * scale

    def fit(self, X: np.ndarray, y: np.ndarray) -> NumpyEigenLOO:
        """The whole ridge path over ``ALPHAS`` and its exact leave-one-out errors."""
        chunks = [slice(s, s + self.chunk_rows) for s in range(0, len(X), self.chunk_rows)]
        D = reference_features().random_features_.random_weights_.shape[1]
        gram, cross, sums = np.zeros((D, D)), np.zeros(D), np.zeros(D)
        for rows in chunks:
            Z = self.features(X[rows])
            gram += Z.T @ Z
            cross += Z.T @ y[rows]
            sums += Z.sum(axis=0)
        n = len(X)
        z_mean, y_mean = sums / n, y.mean()
        gram -= n * np.outer(z_mean, z_mean)
        cross -= n * z_mean * y_mean
        eigenvalues, Q = np.linalg.eigh(gram)
        shrink = 1.0 / (np.maximum(eigenvalues, 0.0)[:, None] + ALPHAS[None, :])
        coefs = Q @ (shrink * (Q.T @ cross)[:, None])  # D x n_alphas
        projector = np.hstack([Q, coefs])
        errors = np.zeros(len(ALPHAS))
        for rows in chunks:
            Zc = self.features(X[rows]) - z_mean
            products = Zc @ projector
            leverage = (products[:, :D] ** 2) @ shrink + 1.0 / n
            residuals = (y[rows] - y_mean)[:, None] - products[:, D:]
            errors += np.sum((residuals / (1.0 - leverage)) ** 2, axis=0)
        best = int(np.argmin(errors))
        self.alpha_, self.coef_ = ALPHAS[best], coefs[:, best]
        self.intercept_ = y_mean - z_mean @ self.coef_
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The chosen alpha's predictions."""
        return self.features(X) @ self.coef_ + self.intercept_


RIDGE_MODELS: dict[str, Callable[[], Any]] = {
    "rfkernels-loo": rfkernels_model,
    "numpy-eigen-loo": NumpyEigenLOO,
    "sklearn-ridgecv": lambda: sklearn_pipeline(RidgeCV(alphas=ALPHAS)),
    "sklearn-ridge": lambda: sklearn_pipeline(Ridge(alpha=reference_features().alpha_)),
}
#: What each model does: the same LOO path (rfkernels, numpy), RidgeCV's path (an
#: ``n D^2`` product per alpha), or one solve at rfkernels' chosen alpha.
RIDGE_WORK = {
    "rfkernels-loo": "eigen path + exact LOO, 20 alphas",
    "numpy-eigen-loo": "eigen path + exact LOO, 20 alphas",
    "sklearn-ridgecv": "RidgeCV gcv_mode=cov: a hat diagonal per alpha, 20 alphas",
    "sklearn-ridge": "one solve at the chosen alpha",
}


@functools.cache
def sklearn_ridgecv_mse() -> float:
    """The test MSE of scikit-learn's RidgeCV on the same features (untimed): every
    row's independent reference."""
    X, y, X_test, y_test = make_data(N_TRAIN, N_TEST)
    model = sklearn_pipeline(RidgeCV(alphas=ALPHAS)).fit(X, y)
    return mean_squared_error(y_test, model.predict(X_test))


@pytest.mark.parametrize("impl", list(RIDGE_MODELS))
def test_ridge_fit(measure: Measure, impl: str) -> None:
    X, y, X_test, y_test = make_data(N_TRAIN, N_TEST)
    record: dict = {}
    model = measure(
        timed_fit(RIDGE_MODELS[impl], X, y, record),
        group="ridge fit n=100k d=32 D=1024, 20 alphas",
        impl=impl,
        dtype="float64",
        flops=None,
        reference=impl == "sklearn-ridgecv",
        rounds=3,
        shape=[N_TRAIN, N_FEATURES, N_COMPONENTS],
        work=RIDGE_WORK[impl],
    )
    test_mse = mean_squared_error(y_test, model.predict(X_test))
    reference = sklearn_ridgecv_mse()
    measure.record(
        peak_memory_bytes=record["peak_memory_bytes"],
        test_mse=test_mse,
        sklearn_ridgecv_test_mse=reference,
    )
    # Same features, same grid: every model's choice is checked against scikit-learn's.
    assert test_mse == pytest.approx(reference, rel=0.01)


@pytest.mark.parametrize("impl", ["rfkernels", "sklearn"])
def test_kernel_ridge_fit(measure: Measure, impl: str) -> None:
    X, y, X_test, y_test = make_data(N_KERNEL, 2000, seed=1)
    gamma = 1.0 / (N_FEATURES * X.var())
    if impl == "rfkernels":
        make_model = functools.partial(KernelRidge, gamma=gamma, alphas=ALPHAS)
    else:
        make_model = functools.partial(SklearnKernelRidge, kernel="rbf", gamma=gamma, alpha=1.0)
    record: dict = {}
    model = measure(
        timed_fit(make_model, X, y, record),
        group=f"kernel ridge fit n={N_KERNEL} (rfkernels: 20 alphas + LOO; sklearn: 1 alpha)",
        impl=impl,
        dtype="float64",
        flops=None,
        reference=impl == "sklearn",
        rounds=3,
        shape=[N_KERNEL, N_FEATURES],
        comparable=False,  # different work: no speed-up column
    )
    test_mse = mean_squared_error(y_test, model.predict(X_test))
    measure.record(peak_memory_bytes=record["peak_memory_bytes"], test_mse=test_mse)
    assert np.isfinite(test_mse)


def test_large_fit_with_loo(measure: Measure) -> None:
    """n = 1e6, D = 4096, LOO: memory stays O(D^2) above the input."""
    X, y, X_test, y_test = make_data(N_LARGE, 10_000, seed=2)
    record: dict = {}
    model = measure(
        timed_fit(functools.partial(rfkernels_model, D_LARGE), X, y, record),
        group="large fit n=1M d=32 D=4096, LOO",
        impl="rfkernels-loo",
        dtype="float64",
        flops=3 * N_LARGE * D_LARGE**2,
        rounds=1,
        shape=[N_LARGE, N_FEATURES, D_LARGE],
    )
    measure.record(
        peak_memory_bytes=record["peak_memory_bytes"],
        input_bytes=X.nbytes,
        test_mse=mean_squared_error(y_test, model.predict(X_test)),
    )
    assert record["peak_memory_bytes"] < 2**30


@pytest.mark.parametrize("impl", ["rfkernels", "numpy"])
def test_gram_rate(measure: Measure, impl: str) -> None:
    """Accumulating Z^T Z over 16 blocks of 4096 x 4096 features vs numpy's dsyrk.

    Both count n D^2 flops (one triangle); numpy gets the features precomputed,
    rfkernels computes them (fused) as part of its pass.
    """
    n = scaled(65_536)
    X, y, _, _ = make_data(n, 16, seed=3)
    rf = RandomFeatures(n_components=D_LARGE, random_state=0).fit(X)
    Y = y.reshape(-1, 1)
    if impl == "rfkernels":
        arrays = FeatureArrays.of(rf).core(X.dtype)

        def target() -> None:
            stats = new_statistics(D_LARGE, 1)
            for start in range(0, n, 16_384):
                rows = slice(start, start + 16_384)
                stats.add_rows(X[rows], Y[rows], None, chunk_rows=2048, **arrays)

    else:
        Z = rf.transform(X[:16_384])

        def target() -> None:
            for _ in range(0, n, 16_384):
                Z.T @ Z

    measure(
        target,
        group="Gram accumulation D=4096 (n D^2 flops)",
        impl=impl,
        dtype="float64",
        flops=n * D_LARGE**2,
        reference=impl == "numpy",
        rounds=3,
        shape=[n, N_FEATURES, D_LARGE],
    )
