"""The compiled core as Python sees it: GIL release, Ctrl-C, SIMD level, version, threads."""

import importlib.metadata
import json
import re
import subprocess
import sys
import textwrap
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


# Run in a fresh interpreter so that the SIGINT cannot reach pytest. It times a
# run on 1/SCALE of the rows (SCALE > 1 where the work is linear in the rows, 1
# where it is not), then starts the full run and sends itself SIGINT after 0.5 s.
INTERRUPT_SCRIPT = textwrap.dedent(
    """
    import json, os, signal, sys, threading, time
    import numpy as np
    from rfkernels import KernelRidge, RandomFeatureRidge, RandomFeatures
    from rfkernels.kernels import kernel_matrix

    signal.signal(signal.SIGINT, signal.default_int_handler)
    what, n_rows, scale = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = np.random.default_rng(0)
    if what == "transform":
        X = rng.standard_normal((n_rows, 1024), dtype=np.float32)
        run = RandomFeatures(n_components=8192, random_state=0).fit(X[:2]).transform
    elif what == "fit":
        X = rng.standard_normal((n_rows, 32))
        y = X[:, 0] + rng.standard_normal(n_rows)
        model = RandomFeatureRidge(n_components=2048, random_state=0)
        run = lambda X: model.fit(X, y[: len(X)])
    elif what == "kernel_ridge":
        X = rng.standard_normal((n_rows, 32))
        y = X[:, 0] + rng.standard_normal(n_rows)
        run = lambda X: KernelRidge(alphas=[1.0]).fit(X, y)
    else:
        X = rng.standard_normal((n_rows, 1024))
        Y = rng.standard_normal((2000, 1024))
        run = lambda X: kernel_matrix(X, Y, kernel="laplacian")
    start = time.perf_counter()
    run(X[: n_rows // scale])
    small_seconds = time.perf_counter() - start
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    start = time.perf_counter()
    try:
        run(X)
        outcome = "finished"
    except KeyboardInterrupt:
        outcome = "KeyboardInterrupt"
    seconds = time.perf_counter() - start
    print(json.dumps({"outcome": outcome, "seconds": seconds, "small_seconds": small_seconds}))
    """
)


@pytest.mark.parametrize(
    ("what", "n_rows", "scale"),
    [
        # 50_000 x 1024 -> 8192 float32 features: ~6 s on 2 cores, 1.6 GB out.
        ("transform", 50_000, 8),
        # laplacian 14_000 x 2000, 1024 features: ~6 s on 2 cores, 220 MB out.
        ("kernel_matrix", 14_000, 8),
        # RandomFeatureRidge, 60_000 x 32 -> 2048 features, LOO: ~8 s on 2 cores.
        ("fit", 60_000, 8),
        # KernelRidge on 3000 rows: ~4 s on 2 cores, almost all of it one
        # eigendecomposition, which cannot poll; the wait for it polls instead.
        ("kernel_ridge", 3000, 1),
    ],
)
def test_ctrl_c_interrupts_a_long_call(what, n_rows, scale):
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPT_SCRIPT, what, str(n_rows), str(scale)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    full_seconds = scale * report["small_seconds"]
    assert report["outcome"] == "KeyboardInterrupt", report
    # The signal came at 0.5 s; the call must stop at the next batch of chunks (or
    # poll of the wait), well before the end (not raise after finishing, as
    # unpolled code would).
    assert full_seconds > 2.0, f"the full run (~{full_seconds:.1f} s) is too short to tell"
    assert 0.4 < report["seconds"] < 0.5 * full_seconds, (report, full_seconds)


def test_simd_isa():
    isa = _core.simd_isa()
    assert isa in {"avx512", "avx2", "scalar"}
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        pytest.skip("no /proc/cpuinfo to compare with")
    flags = set(cpuinfo.read_text().split())
    # The core's detection: avx512f + avx512dq (every AVX-512 CPU but Xeon Phi),
    # else avx2 + fma, else the scalar baseline.
    if {"avx512f", "avx512dq"} <= flags:
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
