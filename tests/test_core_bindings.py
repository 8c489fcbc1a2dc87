"""The compiled core as Python sees it: GIL release, SIMD level, version, threads.

Ctrl-C during long calls is tested in test_interrupts.py.
"""

import importlib.metadata
import os
import pickle
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import rfkernels
from rfkernels import KERNELS, RandomFeatures, _core
from rfkernels.kernels import kernel_matrix


def test_gil_is_released_during_transform():
    # A Python thread counts while the main thread runs a ~1 s transform on one
    # Rust thread (the other core stays free for the counter). With the GIL held
    # the counter could only move at the call's boundaries (a few ms).
    X = np.random.default_rng(0).standard_normal((25_000, 1024), dtype=np.float32)
    features = RandomFeatures(n_components=1024, random_state=0, n_jobs=1).fit(X[:2])
    count = 0
    stop = threading.Event()

    def counter():
        nonlocal count
        while not stop.is_set():
            count += 1

    thread = threading.Thread(target=counter)
    thread.start()
    try:
        time.sleep(0.2)
        before_idle = count
        time.sleep(0.2)
        idle_rate = (count - before_idle) / 0.2  # counts per second with the GIL free
        before = count
        start = time.perf_counter()
        features.transform(X)
        seconds = time.perf_counter() - start
        during = count - before
    finally:
        stop.set()
        thread.join()
    assert seconds > 0.2, "transform too quick to tell"
    # The counter shares the GIL with nothing else, so it keeps most of its idle
    # rate; a quarter leaves room for a loaded machine.
    assert during > 0.25 * idle_rate * seconds, (during, idle_rate, seconds)


def test_simd_isa():
    isa = _core.simd_isa()
    assert isa in {"avx512", "avx2", "scalar"}
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        pytest.skip("no /proc/cpuinfo to compare with")
    if os.environ.get("RFKERNELS_ISA", "auto") != "auto":
        pytest.skip("RFKERNELS_ISA forces the instruction set (tests/test_isa.py)")
    flags = set(cpuinfo.read_text().split())
    # The core's detection: avx512f + avx512dq + avx512vl (every AVX-512 CPU but
    # Xeon Phi), else avx2 + fma, else the scalar baseline.
    if {"avx512f", "avx512dq", "avx512vl"} <= flags:
        assert isa == "avx512"
    elif {"avx2", "fma"} <= flags:
        assert isa == "avx2"
    else:
        assert isa == "scalar"


def test_version_is_the_same_everywhere():
    version = importlib.metadata.version("rfkernels")
    assert _core.__version__ == rfkernels.__version__ == version
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", version)


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_thread_count_does_not_change_the_features(kernel, dtype):
    # 1000 rows: several 128-row chunks and a partial one; 300 features: one
    # full 256-frequency block and a partial one.
    X = np.random.default_rng(1).standard_normal((1000, 7)).astype(dtype)
    features = [
        RandomFeatures(kernel, n_components=300, random_state=0, n_jobs=n_jobs).fit(X)
        for n_jobs in (1, 2)
    ]
    Z1, Z2 = (f.transform(X) for f in features)
    assert Z1.dtype == dtype
    np.testing.assert_array_equal(Z1, Z2)
    assert np.ptp(Z1) > 0


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_thread_count_does_not_change_the_kernel_matrix(kernel):
    X = np.random.default_rng(2).standard_normal((333, 7))
    Y = np.random.default_rng(3).standard_normal((45, 7))
    for args in [(X,), (X, Y)]:
        K1, K2 = (kernel_matrix(*args, kernel=kernel, n_jobs=n_jobs) for n_jobs in (1, 2))
        np.testing.assert_array_equal(K1, K2)
        assert np.ptp(K1) > 0


# ------------------------------------------------------- statistics and paths as objects


def _statistics(X, Y, features, weights=None):
    """The Gram statistics of the rows ``X`` with targets ``Y``."""
    stats = _core.GramStatistics(features.n_components, Y.shape[1])
    stats.add_rows(
        X,
        Y,
        weights,
        features.random_weights_,
        features.random_offset_,
        kernel=features.kernel,
        paired=False,
        chunk_rows=7,
    )
    return stats


def test_statistics_add_subtract_and_pickle():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((60, 3)), rng.standard_normal((60, 2))
    features = RandomFeatures(n_components=16, gamma=0.5, random_state=0).fit(X)
    Z = features.transform(X)
    whole = _statistics(X, Y, features)
    first, second = _statistics(X[:25], Y[:25], features), _statistics(X[25:], Y[25:], features)
    np.testing.assert_allclose(np.tril(whole.gram), np.tril(Z.T @ Z), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(whole.cross, Z.T @ Y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(whole.target_squares, (Y**2).sum(axis=0), rtol=1e-12)
    for combined, expected in ((first + second, whole), (whole - first, second)):
        for name in ("gram", "cross", "feature_sums", "target_sums", "target_squares"):
            np.testing.assert_allclose(
                getattr(combined, name), getattr(expected, name), rtol=1e-10, atol=1e-10
            )
        assert combined.n_samples == expected.n_samples
    restored = pickle.loads(pickle.dumps(whole))
    for name in ("gram", "cross", "feature_sums", "target_sums", "target_squares"):
        np.testing.assert_array_equal(getattr(restored, name), getattr(whole, name))
    assert (restored.weight_sum, restored.n_samples) == (whole.weight_sum, whole.n_samples)
    with pytest.raises(ValueError, match="cannot combine statistics of 16 features x 1"):
        whole + _statistics(X, Y[:, :1], features)


def test_shifted_statistics_are_those_of_shifted_targets():
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((40, 3)), rng.standard_normal((40, 2)) + 5.0
    weights = rng.uniform(0.5, 2.0, 40)
    features = RandomFeatures(n_components=12, gamma=0.5, random_state=0).fit(X)
    delta = np.array([5.0, -2.0])
    shifted = _statistics(X, Y, features, weights).shift_targets(delta)
    expected = _statistics(X, Y - delta, features, weights)
    for name in ("cross", "target_sums", "target_squares"):
        np.testing.assert_allclose(
            getattr(shifted, name), getattr(expected, name), rtol=1e-10, atol=1e-10
        )


def test_heldout_errors_are_the_weighted_squared_residuals():
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((50, 3)), rng.standard_normal((50, 2))
    weights = rng.uniform(0.5, 2.0, 50)
    features = RandomFeatures(n_components=10, gamma=0.5, random_state=0).fit(X)
    Z = features.transform(X)
    coef, intercept, targets = rng.standard_normal((10, 3)), np.array([0.1, -1.0, 2.0]), [0, 1, 1]
    errors = _statistics(X, Y, features, weights).heldout_errors(coef, intercept, targets)
    residuals = Y[:, targets] - Z @ coef - intercept
    np.testing.assert_allclose(errors, weights @ residuals**2, rtol=1e-10)


def test_the_dual_ridge_path_pickles():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((40, 3)), rng.standard_normal((40, 2))
    K = kernel_matrix(X, gamma=0.5)
    path = _core.DualRidgePath(K, Y, rng.uniform(0.5, 2.0, 40), fit_intercept=True, n_jobs=1)
    restored = pickle.loads(pickle.dumps(path))
    np.testing.assert_array_equal(restored.eigenvalues, path.eigenvalues)
    alphas = [0.0, 1e-3, 1.0]
    np.testing.assert_array_equal(restored.loo_errors(alphas), path.loo_errors(alphas, n_jobs=2))
    for ours, theirs in zip(restored.coef(1e-3), path.coef(1e-3), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(ValueError, match="alpha must be a non-negative finite number"):
        path.coef(-1.0)


def test_the_kernel_registry_comes_from_the_core():
    assert list(KERNELS) == list(_core.KERNEL_TRAITS)
    for name, info in KERNELS.items():
        traits = _core.KERNEL_TRAITS[name]
        assert info.samplings == tuple(traits["samplings"])
        assert info.fourier == traits["fourier"] and info.layered == traits["layered"]
    with pytest.raises(ValueError, match='unknown kernel "bogus"; expected one of'):
        _core.check_feature_params("bogus")
