"""Thread budgets of the Rust core: what ``n_jobs=None`` follows, and concurrent calls.

The order (an explicit ``n_jobs`` above all): a Dask task's threads,
``RAYON_NUM_THREADS``, a ``threadpoolctl.threadpool_limits`` limit, ``OMP_NUM_THREADS``
(joblib's workers), every core. Threads are counted from ``/proc/self/task``: the core
exposes no thread count, and a pool's threads start with it (rayon starts them all
when the pool is built), so the threads a call adds to a process are the threads of
the pools it built.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import dask
import dask.array as da
import joblib
import numpy as np
import pytest
from rfkernels import (
    KernelRidge,
    RandomFeatureRidge,
    RandomFeatureRidgeClassifier,
    RandomFeatures,
    _core,
    _threads,
)
from rfkernels._engine.features import FeatureArrays
from rfkernels._threads import resolve_n_jobs, task_threads
from sklearn.base import is_classifier
from threadpoolctl import ThreadpoolController, threadpool_info, threadpool_limits

#: Cores as rfkernels sees them in the resolution tests, so that budgets below it apply.
CORES = 8


@pytest.fixture
def no_budgets(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No thread variable at import; rfkernels sees CORES cores."""
    monkeypatch.setattr(_threads, "_RAYON_THREADS", None)
    monkeypatch.setattr(_threads, "_OMP_THREADS", None)
    monkeypatch.setattr(_threads, "_cores", lambda: CORES)
    return monkeypatch


def rfkernels_info() -> list[dict]:
    """threadpoolctl's entries for rfkernels."""
    return [lib for lib in threadpool_info() if lib["internal_api"] == "rfkernels"]


def test_each_budget_overrides_the_ones_below(no_budgets: pytest.MonkeyPatch) -> None:
    assert resolve_n_jobs(None) is None  # every core: the shared pool
    no_budgets.setattr(_threads, "_OMP_THREADS", 3)
    assert resolve_n_jobs(None) == 3
    with threadpool_limits(limits=2):
        assert resolve_n_jobs(None) == 2
        no_budgets.setattr(_threads, "_RAYON_THREADS", 5)
        assert resolve_n_jobs(None) is None  # the shared pool, which rayon sized to 5
        assert rfkernels_info()[0]["num_threads"] == 5
        with task_threads(1):
            assert resolve_n_jobs(None) == 1
            assert resolve_n_jobs(4) == 4  # an explicit count wins over all of them
            assert resolve_n_jobs(-1) == CORES
        no_budgets.setattr(_threads, "_RAYON_THREADS", None)
        assert resolve_n_jobs(None) == 2
    assert resolve_n_jobs(None) == 3


@pytest.mark.parametrize(
    ("value", "threads"),
    [("2", 2), ("2,1", 2), (" 3 ", 3), ("0", None), ("-1", None), ("two", None), ("", None)],
)
def test_thread_variables_are_read_as_openmp_and_rayon_read_them(
    value: str, threads: int | None
) -> None:
    """A count, or a list of counts per nesting level; anything else is ignored."""
    assert _threads._environment_threads({"OMP_NUM_THREADS": value}) == (None, threads)
    assert _threads._environment_threads({"RAYON_NUM_THREADS": value}) == (threads, None)


def test_a_later_change_of_the_environment_is_not_followed(
    no_budgets: pytest.MonkeyPatch,
) -> None:
    """As a LocalCluster's OMP_NUM_THREADS=1 in its driver (joblib's workers: see below)."""
    no_budgets.setenv("OMP_NUM_THREADS", "1")
    no_budgets.setenv("RAYON_NUM_THREADS", "1")
    assert resolve_n_jobs(None) is None


def test_budgets_are_capped_at_the_cores_but_rayon_num_threads_is_not(
    no_budgets: pytest.MonkeyPatch,
) -> None:
    no_budgets.setattr(_threads, "_OMP_THREADS", 2 * CORES)
    assert resolve_n_jobs(None) is None
    with threadpool_limits(limits=2 * CORES):
        assert resolve_n_jobs(None) is None
        assert rfkernels_info()[0]["num_threads"] == CORES
    no_budgets.setattr(_threads, "_RAYON_THREADS", 2 * CORES)  # as rayon itself would start
    assert resolve_n_jobs(None) is None  # the shared pool, of 2 * CORES threads
    assert rfkernels_info()[0]["num_threads"] == 2 * CORES
    assert resolve_n_jobs(2 * CORES) == CORES


def test_threadpool_info_lists_rfkernels_once(tmp_path) -> None:
    """Another ``_core`` extension (here a copy of rfkernels') is not taken for rfkernels."""
    copy = tmp_path / "_core.abi3.so"
    shutil.copyfile(_core.__file__, copy)
    ctypes.CDLL(str(copy))
    (lib,) = rfkernels_info()
    assert lib["user_api"] == "openmp"
    assert os.path.samefile(lib["filepath"], _core.__file__)
    assert lib["version"] == _core.__version__
    assert lib["num_threads"] == _threads._current_threads()


def test_threadpool_limits_by_user_api_and_by_selection(no_budgets: pytest.MonkeyPatch) -> None:
    with threadpool_limits(limits=1, user_api="blas"):  # as rfkernels' fits limit BLAS
        assert resolve_n_jobs(None) is None
    with threadpool_limits(limits=3, user_api="openmp"):
        assert resolve_n_jobs(None) == 3
        assert rfkernels_info()[0]["num_threads"] == 3
        with threadpool_limits(limits=1, user_api="blas"):
            assert resolve_n_jobs(None) == 3
        assert resolve_n_jobs(None) == 3  # restoring the BLAS limit keeps this one
    with ThreadpoolController().select(internal_api="rfkernels").limit(limits=2):
        assert resolve_n_jobs(None) == 2
    assert resolve_n_jobs(None) is None


def test_threadpool_limits_hold_in_the_calling_thread_only(no_budgets: pytest.MonkeyPatch) -> None:
    """As OpenMP's ``omp_set_num_threads``: other threads keep their own budget."""
    with threadpool_limits(limits=2), ThreadPoolExecutor(1) as executor:
        assert executor.submit(resolve_n_jobs, None).result() is None
        assert resolve_n_jobs(None) == 2


def test_threadpool_limits_in_a_dask_task_have_no_effect(no_budgets: pytest.MonkeyPatch) -> None:
    """The task's thread decides; leaving the limit leaves no budget behind."""
    with task_threads(1):
        with threadpool_limits(limits=3):
            assert resolve_n_jobs(None) == 1
        assert resolve_n_jobs(None) == 1
    assert resolve_n_jobs(None) is None


def _transform_in_worker(model: RandomFeatures, X: np.ndarray) -> tuple:
    """A joblib task: its process, ``n_jobs=None``'s threads, the threads the transform started."""
    before = set(os.listdir("/proc/self/task"))
    Z = model.transform(X)
    started = len(set(os.listdir("/proc/self/task")) - before)
    return os.getpid(), resolve_n_jobs(None), started, Z


def test_a_transform_in_a_joblib_worker_keeps_to_its_budget() -> None:
    """Each loky worker gets a budget of 1 thread (OMP_NUM_THREADS=1) and starts 1 thread.

    The model is fitted here, so the workers' first call into the core is the
    transform; a distinct idle timeout makes loky start fresh workers.
    """
    X = np.random.default_rng(0).standard_normal((4000, 16))
    model = RandomFeatures(n_components=512, random_state=0).fit(X)
    with joblib.parallel_config(backend="loky", inner_max_num_threads=1, idle_worker_timeout=41):
        results = joblib.Parallel(n_jobs=2)(
            joblib.delayed(_transform_in_worker)(model, X) for _ in range(4)
        )
    started: dict[int, int] = defaultdict(int)
    for pid, threads, new_threads, Z in results:
        assert threads == 1
        started[pid] += new_threads
        np.testing.assert_array_equal(Z, model.transform(X))
    assert set(started.values()) == {1}  # each worker's one-thread pool, nothing more


def _budgeted_models() -> list:
    """One model per path a fit can take: the draw alone, primal with LOO, dual, the
    classifier, exact kernel ridge and Nystrom with the conjugate-gradient solver."""
    return [
        RandomFeatures(n_components=512, random_state=0),
        RandomFeatureRidge(n_components=512, random_state=0),
        RandomFeatureRidge(n_components=2048, random_state=0),
        RandomFeatureRidgeClassifier(n_components=512, random_state=0),
        KernelRidge(alphas=[1e-3, 1e-1]),
        KernelRidge(alphas=[1e-3], n_centers=256, solver="cg", random_state=0),
    ]


def _outputs(model, X: np.ndarray) -> np.ndarray:
    """What a fitted model gives for ``X``: its features, or its predictions."""
    return model.transform(X) if isinstance(model, RandomFeatures) else model.predict(X)


def _fit_in_worker(X: np.ndarray, y: np.ndarray) -> tuple:
    """A joblib task: its process, the threads its fits started, their outputs."""
    before = set(os.listdir("/proc/self/task"))
    outputs = []
    for model in _budgeted_models():
        target = (y > 0).astype(int) if is_classifier(model) else y
        outputs.append(_outputs(model.fit(X, target), X))
    return os.getpid(), len(set(os.listdir("/proc/self/task")) - before), outputs


def test_whole_fits_in_a_joblib_worker_keep_to_its_budget() -> None:
    """Every fit of a 1-thread worker (draw, Gram, eigendecomposition, solutions,
    LOO, predictions, CG) runs on its one-thread pool: each worker starts 1 thread.

    Before, the draw and the products of the eigenvectors ran on the shared pool of
    every core. The n = 800 rows give several Gram tiles and LOO blocks, and a dual
    path for the 2048-wide model.
    """
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((800, 8)), rng.standard_normal(800)
    expected = [
        _outputs(model.fit(X, (y > 0).astype(int) if is_classifier(model) else y), X)
        for model in _budgeted_models()
    ]
    with joblib.parallel_config(backend="loky", inner_max_num_threads=1, idle_worker_timeout=43):
        results = joblib.Parallel(n_jobs=2)(joblib.delayed(_fit_in_worker)(X, y) for _ in range(4))
    started: dict[int, int] = defaultdict(int)
    for pid, new_threads, outputs in results:
        started[pid] += new_threads
        for got, want in zip(outputs, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert set(started.values()) == {1}


def fit_and_transform(data: tuple[np.ndarray, np.ndarray], n_jobs: int | None) -> tuple:
    """A fit's coefficients, intercept and alpha, and its features of the training rows."""
    X, y = data
    model = RandomFeatureRidge(n_components=256, random_state=0, n_jobs=n_jobs).fit(X, y)
    Z = model.random_features_.transform(X)
    return model.coef_, model.intercept_, model.alpha_, model.predict(X), Z


def test_four_python_threads_at_once_give_the_sequential_results() -> None:
    """The GIL is released: 4 fits and transforms run together, each with its own thread count."""
    rng = np.random.default_rng(1)
    datasets = [(rng.standard_normal((2000, 8)), rng.standard_normal(2000)) for _ in range(4)]
    counts = [None, 1, 2, -1]
    sequential = [
        fit_and_transform(data, n_jobs) for data, n_jobs in zip(datasets, counts, strict=True)
    ]
    start = threading.Barrier(4)

    def run(data, n_jobs):
        start.wait()
        return fit_and_transform(data, n_jobs)

    with ThreadPoolExecutor(4) as executor:
        concurrent = list(executor.map(run, datasets, counts))
    for alone, together in zip(sequential, concurrent, strict=True):
        for a, b in zip(alone, together, strict=True):
            assert np.array_equal(a, b)


def spy_n_jobs(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, calls: list) -> None:
    """Record ``(name, in a worker thread, n_jobs)`` for each call of ``owner.name``."""
    original = getattr(owner, name)

    def spy(*args, **kwargs):
        worker = threading.current_thread() is not threading.main_thread()
        calls.append((name, worker, kwargs.get("n_jobs")))
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)


@pytest.mark.timeout(120)
def test_a_dask_fit_on_the_threaded_scheduler_finishes_within_its_budgets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fit's tasks share the pool the driver resolved (the process's); predictions'
    tasks each ask for one thread."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3000, 6))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    kwargs = dict(n_components=128, random_state=0)
    calls: list = []
    for name in ("add_rows", "loo_error_sums"):
        spy_n_jobs(monkeypatch, FeatureArrays, name, calls)
    spy_n_jobs(monkeypatch, _core, "predict_linear", calls)
    Xd = da.from_array(X, chunks=500)
    with dask.config.set(scheduler="threads"):
        model = RandomFeatureRidge(**kwargs).fit(Xd, da.from_array(y, chunks=500))
        predicted = model.predict(Xd).compute()
    tasks = {(name, n_jobs) for name, worker, n_jobs in calls if worker}
    driver = resolve_n_jobs(None)
    assert tasks == {("add_rows", driver), ("loo_error_sums", driver), ("predict_linear", 1)}
    local = RandomFeatureRidge(**kwargs).fit(X, y)
    np.testing.assert_allclose(model.coef_, local.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(predicted, local.predict(X), rtol=1e-9, atol=1e-12)
