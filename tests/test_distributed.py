"""Dask inputs: fits as map-reduces on a LocalCluster equal the in-memory fits."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading
import time

import dask
import dask.array as da
import distributed
import numpy as np
import pytest
from rfkernels import (
    KernelRidge,
    RandomFeatureRidge,
    RandomFeatureRidgeClassifier,
    RandomFeatures,
    _core,
)
from rfkernels._threads import resolve_n_jobs, task_threads
from rfkernels.distributed import DaskRows
from test_batches import assert_same_fit  # normwise: max error <= 1e-10 * max |coef|


@pytest.fixture(scope="module")
def client():
    """A 2-worker, 2-process cluster, as the issue asks; one for the whole module."""
    with local_cluster() as cluster, distributed.Client(cluster) as client:
        yield client


def local_cluster():
    """Two single-thread worker processes; the dashboard on any free port."""
    return distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )


def data(n=2400, d=5, targets=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 + 0.1 * rng.standard_normal(n)
    if targets is not None:
        y = np.column_stack([y * (k + 1) + k for k in range(targets)])
    return X, y, rng.uniform(0.2, 3.0, n)


@pytest.mark.parametrize("cv", [None, "gcv"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("targets", [None, 3])
def test_dask_fit_equals_the_in_memory_fit(client, cv, weighted, targets):
    X, y, w = data(targets=targets)
    w = w if weighted else None
    rows = ((700, 0, 300, 1, 1399), 5)  # unequal, one empty, one single-row block
    kwargs = dict(n_components=96, cv=cv, random_state=3)
    dask_model = RandomFeatureRidge(**kwargs).fit(
        da.from_array(X, chunks=rows),
        da.from_array(y, chunks=600 if targets is None else (600, 1)),
        sample_weight=None if w is None else da.from_array(w, chunks=1000),
    )
    model = RandomFeatureRidge(**kwargs).fit(X, y, sample_weight=w)
    assert_same_fit(dask_model, model)
    assert dask_model.n_features_in_ == 5


@pytest.mark.parametrize("chunks", [(2400, 5), ((2400,), (2, 3))])
def test_one_block_and_column_chunks_work(client, chunks):
    X, y, _ = data()
    dask_model = RandomFeatureRidge(n_components=64, gamma=0.3, random_state=0)
    dask_model.fit(da.from_array(X, chunks=chunks), y)
    model = RandomFeatureRidge(n_components=64, gamma=0.3, random_state=0).fit(X, y)
    assert_same_fit(dask_model, model)


def test_dask_classifier_equals_the_in_memory_fit(client):
    X, _, w = data()
    labels = np.array(["cat", "dog", "eel"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.8)]
    kwargs = dict(n_components=80, random_state=1)
    Xd = da.from_array(X, chunks=500)
    model = RandomFeatureRidgeClassifier(**kwargs).fit(X, labels, sample_weight=w)
    dask_model = RandomFeatureRidgeClassifier(**kwargs).fit(
        Xd, da.from_array(labels, chunks=500), sample_weight=w
    )
    assert_same_fit(dask_model, model)
    np.testing.assert_array_equal(dask_model.classes_, model.classes_)
    predicted = dask_model.predict(Xd)
    assert isinstance(predicted, da.Array)
    np.testing.assert_array_equal(predicted.compute(), model.predict(X))
    scores = dask_model.decision_function(Xd).compute()
    np.testing.assert_allclose(scores, model.decision_function(X), rtol=1e-9, atol=1e-12)
    assert dask_model.score(Xd, labels, sample_weight=w) == pytest.approx(
        model.score(X, labels, sample_weight=w), rel=1e-12
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predict_transform_and_score_go_block_by_block(client, dtype):
    X, y, w = data()
    X = X.astype(dtype)
    model = RandomFeatureRidge(n_components=64, random_state=0).fit(X, y)
    Xd = da.from_array(X, chunks=((1000, 0, 1400), 5))
    predicted = model.predict(Xd)
    assert isinstance(predicted, da.Array) and predicted.dtype == dtype
    np.testing.assert_allclose(predicted.compute(), model.predict(X), rtol=1e-6, atol=1e-6)
    features = model.random_features_.transform(Xd)
    assert features.shape == (2400, 64) and features.dtype == dtype
    np.testing.assert_array_equal(features.compute(), model.random_features_.transform(X))
    for weights in (None, w):
        assert model.score(Xd, da.from_array(y, chunks=700), weights) == pytest.approx(
            model.score(X, y, weights), rel=1e-9
        )


def test_multi_output_predictions_and_a_constant_target_score_as_sklearn(client):
    X, y, _ = data(targets=2)
    y[:, 1] = 4.0
    model = RandomFeatureRidge(n_components=64, random_state=0).fit(X, y)
    Xd = da.from_array(X, chunks=800)
    assert model.predict(Xd).shape == (2400, 2)
    assert model.score(Xd, y) == pytest.approx(model.score(X, y), rel=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_random_features_fit_on_dask_arrays(client, weighted):
    X, _, w = data()
    w = w if weighted else None
    features = RandomFeatures(n_components=32, random_state=0).fit(
        da.from_array(X, chunks=((1000, 0, 1400), 5)), sample_weight=w
    )
    expected = RandomFeatures(n_components=32, random_state=0).fit(X, sample_weight=w)
    assert features.gamma_ == pytest.approx(expected.gamma_, rel=1e-12)
    np.testing.assert_allclose(features.random_weights_, expected.random_weights_, rtol=1e-12)
    assert features.n_features_in_ == 5


def test_partial_fit_on_dask_arrays_equals_fit(client):
    X, y, w = data()
    kwargs = dict(n_components=64, gamma=0.2, cv="gcv", random_state=0)
    streamed = RandomFeatureRidge(**kwargs)
    with pytest.raises(ValueError, match="hold no rows"):
        streamed.partial_fit(da.from_array(X[:0], chunks=300), y[:0])
    for rows in (slice(0, 1000), slice(1000, 2400)):
        streamed.partial_fit(
            da.from_array(X[rows], chunks=300), da.from_array(y[rows], chunks=300), w[rows]
        )
    assert_same_fit(streamed, RandomFeatureRidge(**kwargs).fit(X, y, sample_weight=w))
    labels = np.where(X[:, 0] > 0, "up", "down")
    classifier = RandomFeatureRidgeClassifier(**kwargs)
    classifier.partial_fit(da.from_array(X[:1200], chunks=500), labels[:1200], ["down", "up"])
    classifier.partial_fit(X[1200:], labels[1200:])
    assert_same_fit(classifier, RandomFeatureRidgeClassifier(**kwargs).fit(X, labels))
    with pytest.raises(ValueError, match="y has 2 target"):
        streamed.partial_fit(da.from_array(X, chunks=1000), np.column_stack([y, y]))


def test_kernel_ridge_predicts_and_scores_dask_arrays(client):
    X, y, _ = data(n=300, targets=2)
    model = KernelRidge(kernel="ntk", depth=2).fit(X, y)
    Xd = da.from_array(X, chunks=((100, 0, 200), 5))
    predicted = model.predict(Xd)
    assert isinstance(predicted, da.Array) and predicted.shape == (300, 2)
    np.testing.assert_allclose(predicted.compute(), model.predict(X), rtol=1e-12, atol=1e-12)
    assert model.score(Xd, y) == pytest.approx(model.score(X, y), rel=1e-12)


def test_a_dask_model_pickles_and_predicts_on_numpy(client):
    X, y, _ = data()
    model = RandomFeatureRidge(n_components=64, random_state=0).fit(da.from_array(X, chunks=600), y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_the_ridge_path_pickles():
    X, y, _ = data(n=300)
    model = RandomFeatureRidge(n_components=32, random_state=0).fit(X, y)
    features = model.random_features_.transform(X)
    statistics = _core.GramStatistics._from_parts(
        np.asfortranarray(features.T @ features),
        features.T @ y[:, None],
        features.sum(axis=0),
        np.array([y.sum()]),
        np.array([y @ y]),
        300.0,
        300,
        np.finfo(np.float64).eps,
    )
    path = _core.PrimalRidgePath(statistics, fit_intercept=True)
    restored = pickle.loads(pickle.dumps(path))
    np.testing.assert_array_equal(restored.eigenvalues, path.eigenvalues)
    for alpha in (0.0, 1e-3, 10.0):
        for ours, theirs in zip(restored.coef(alpha), path.coef(alpha), strict=True):
            np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(ValueError, match="inconsistent ridge path parts"):
        spectrum, feature_means, _ = path.__reduce__()[1]
        _core.PrimalRidgePath._from_state(spectrum, feature_means, np.zeros(3))


def test_blocks_with_other_column_counts_are_a_clear_error(client):
    X, y, _ = data(n=400)
    wrong = dask.delayed(np.hstack)([X[200:], X[200:, :1]])
    lying = da.concatenate(
        [da.from_array(X[:200], chunks=200), da.from_delayed(wrong, (200, 5), X.dtype)]
    )
    with pytest.raises(ValueError, match="X has 6 features, but RandomFeatureRidge is expecting 5"):
        RandomFeatureRidge(n_components=16, gamma=1.0, random_state=0).fit(lying, y)
    model = RandomFeatureRidge(n_components=16, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 4 features, but RandomFeatureRidge is expecting 5"):
        model.predict(da.from_array(X[:, :4]))


def test_bad_dask_inputs_are_clear_errors(client):
    X, y, _ = data(n=100)
    model = RandomFeatureRidge(n_components=16, random_state=0)
    with pytest.raises(ValueError, match="X has 100 rows but y has 99"):
        model.fit(da.from_array(X, chunks=50), y[:99])
    with pytest.raises(ValueError, match="hold no rows"):
        model.fit(da.from_array(X[:0], chunks=10), y[:0])
    with pytest.raises(ValueError, match="requires y"):
        model.fit(da.from_array(X, chunks=50))
    with pytest.raises(ValueError, match="2-d dask array"):
        model.fit(da.from_array(y, chunks=50), y)
    with pytest.raises(ValueError, match="batches of rows chooses alpha by leave-one-out or GCV"):
        RandomFeatureRidge(cv=3).fit(da.from_array(X, chunks=50), y)
    # Blocks of unknown size (boolean indexing) cannot split a numpy y.
    keep = X[:, 0] > 0
    masked = da.from_array(X, chunks=50)[da.from_array(keep, chunks=50)]
    with pytest.raises(ValueError, match=r"unknown sizes .*compute_chunk_sizes"):
        model.fit(masked, y[keep])
    fitted = model.fit(masked, da.from_array(y, chunks=50)[da.from_array(keep, chunks=50)])
    with pytest.raises(ValueError, match="unknown sizes"):
        fitted.score(masked, y[keep])


def test_dask_is_optional_and_imported_only_when_used():
    code = (
        "import sys, numpy as np, rfkernels\n"
        "X = np.random.default_rng(0).standard_normal((50, 3))\n"
        "rfkernels.RandomFeatureRidge(n_components=8).fit(X, X[:, 0]).predict(X)\n"
        "assert not any(name.split('.')[0] in ('dask', 'distributed') for name in sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_tasks_default_to_one_thread():
    assert resolve_n_jobs(None) is None
    with task_threads(1):
        assert resolve_n_jobs(None) == 1
        assert resolve_n_jobs(2) == min(2, os.cpu_count())
    assert resolve_n_jobs(None) is None


def test_the_tree_reduction_adds_every_block_once():
    X, y, _ = data(n=50)
    rows = DaskRows(da.from_array(X, chunks=1), y, split_every=3)
    assert len(rows.blocks) == 50
    count = rows.reduce(lambda: 0, lambda acc, batch: acc + len(batch[0]), lambda a, b: a + b)
    assert count == 50


def generated_block(index: int, rows: int, d: int) -> np.ndarray:
    """Block ``index`` of a data set made on the workers (no data in the graph)."""
    return np.random.default_rng(index).standard_normal((rows, d))


def generated_data(blocks: int, rows: int, d: int):
    """Dask arrays made on the workers: ``blocks`` blocks of ``generated_block``, smooth y."""
    X = da.concatenate(
        [
            da.from_delayed(dask.delayed(generated_block)(i, rows, d), (rows, d), np.float64)
            for i in range(blocks)
        ]
    )
    y = X.map_blocks(lambda b: np.sin(b[:, 0]) + b[:, 1] * b[:, 2], drop_axis=1, dtype=float)
    return X, y


def fit_killing_a_worker(make_model, X, y, tasks_before: int):
    """Fit ``make_model()`` on a 2-process cluster, SIGKILL a busy worker once the fit has
    run ``tasks_before`` distinct tasks, and return the model Dask's reruns still give."""
    with local_cluster() as cluster, distributed.Client(cluster) as client:
        pids = client.run(os.getpid)
        outcome: dict = {}

        def fit():
            try:
                outcome["model"] = make_model().fit(X, y)
            except BaseException as error:  # re-raised below, in the test's thread
                outcome["error"] = error

        thread = threading.Thread(target=fit)
        thread.start()
        deadline = time.monotonic() + 120
        seen: set = set()
        while len(seen) < tasks_before:
            assert time.monotonic() < deadline and thread.is_alive(), "the fit ended too soon"
            for tasks in client.processing().values():
                seen.update(tasks)
            time.sleep(0.005)
        busy = next(
            (address for address, tasks in client.processing().items() if tasks),
            next(iter(pids)),
        )
        assert thread.is_alive(), "the fit ended before a worker could be killed"
        os.kill(pids[busy], signal.SIGKILL)
        thread.join(timeout=300)
        assert not thread.is_alive()
        if "error" in outcome:
            raise outcome["error"]
        assert pids[busy] not in client.run(os.getpid).values()  # a new worker took over
    return outcome["model"]


def test_a_fit_survives_a_killed_worker():
    """Kill a worker process mid-fit: Dask reruns its tasks and the fit is exact."""
    X, y = generated_data(40, 3000, 8)
    kwargs = dict(n_components=384, random_state=0)
    expected = RandomFeatureRidge(**kwargs).fit(*dask.compute(X, y, scheduler="sync"))
    model = fit_killing_a_worker(lambda: RandomFeatureRidge(**kwargs), X, y, tasks_before=1)
    assert_same_fit(model, expected)


NYSTROM_FITS = [
    {"solver": "eigen"},
    {"solver": "cg", "alphas": [1.0, 10.0], "tol": 1e-10, "max_iter": 400},
]


def assert_same_kernel_fit(dask_model, model, X_test):
    """The same centers and alpha; the eigen path to rounding, CG to well within its tol.

    The tree reduction adds the blocks' parts in another order than one process,
    and CG amplifies that rounding up to about its tolerance (1e-10 here).
    """
    np.testing.assert_array_equal(dask_model.center_indices_, model.center_indices_)
    assert dask_model.alpha_ == pytest.approx(model.alpha_, rel=1e-12)
    rtol = 1e-9 if model.solver_ == "eigen" else 1e-7
    np.testing.assert_allclose(dask_model.cv_results_, model.cv_results_, rtol=rtol)
    predicted, expected = dask_model.predict(X_test), model.predict(X_test)
    assert np.linalg.norm(predicted - expected) <= rtol * np.linalg.norm(expected)


@pytest.mark.parametrize("params", NYSTROM_FITS)
@pytest.mark.parametrize("weighted", [False, True])
def test_dask_nystrom_kernel_ridge_equals_the_in_memory_fit(client, params, weighted):
    """Both Nystrom solvers as map-reduces: the CG iterations each one pass over the blocks."""
    X, y, w = data()
    w = w if weighted else None
    kwargs = dict(n_centers=150, random_state=2, **params)
    dask_model = KernelRidge(**kwargs).fit(
        da.from_array(X, chunks=((700, 0, 300, 1, 1399), 5)),
        da.from_array(y, chunks=600),
        sample_weight=None if w is None else da.from_array(w, chunks=1000),
    )
    model = KernelRidge(**kwargs).fit(X, y, sample_weight=w)
    assert dask_model.solver_ == params["solver"]
    assert_same_kernel_fit(dask_model, model, X[:300])


def test_a_cg_fit_survives_a_killed_worker():
    """Kill a worker process during the CG iterations: Dask reruns its tasks, same model."""
    blocks = 16
    X, y = generated_data(blocks, 2000, 6)
    kwargs = dict(
        n_centers=300, solver="cg", alphas=[100.0, 1000.0], tol=1e-10, max_iter=400, random_state=0
    )
    X_local, y_local = dask.compute(X, y, scheduler="sync")
    expected = KernelRidge(**kwargs).fit(X_local, y_local)
    # Some passes into the iterations (each pass: one task a block).
    model = fit_killing_a_worker(lambda: KernelRidge(**kwargs), X, y, tasks_before=8 * blocks)
    assert_same_kernel_fit(model, expected, X_local[:300])
