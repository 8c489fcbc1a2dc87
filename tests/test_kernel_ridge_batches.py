"""KernelRidge on Nystrom centers fitted from memmaps and RowBatches: the in-memory fit."""

import itertools

import numpy as np
import pytest
from rfkernels import KernelRidge, KernelRidgeClassifier, RowBatches
from sklearn.datasets import make_friedman1


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=1500, noise=0.3, random_state=1)
    return X[:1200], y[:1200], X[1200:]


def batches_of(X, y, w=None, size=250):
    """Unequal batches (one empty) of the rows in order."""
    stops = [0, 100, 100, *range(350, len(X), size), len(X)]
    pairs = itertools.pairwise(stops)
    parts = [(X[a:b], y[a:b]) + (() if w is None else (w[a:b],)) for a, b in pairs]
    return RowBatches(lambda: iter(parts))


def assert_same_model(streamed, in_memory, X_test, rtol=1e-9):
    assert streamed.solver_ == in_memory.solver_
    np.testing.assert_array_equal(streamed.center_indices_, in_memory.center_indices_)
    assert streamed.alpha_ == pytest.approx(in_memory.alpha_, rel=1e-12)
    assert streamed.gamma_ == pytest.approx(in_memory.gamma_, rel=1e-12)
    np.testing.assert_allclose(streamed.cv_results_, in_memory.cv_results_, rtol=rtol)
    np.testing.assert_allclose(streamed.predict(X_test), in_memory.predict(X_test), rtol=rtol)


CASES = [
    {"solver": "eigen"},
    {"solver": "eigen", "cv": "gcv", "fit_intercept": False},
    {"solver": "cg", "alphas": [1e-3, 1e-2, 1e-1], "tol": 1e-10, "max_iter": 500},
]


@pytest.mark.parametrize("params", CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_row_batches_fit_is_the_in_memory_fit(friedman, params, weighted, rng):
    X, y, X_test = friedman
    w = rng.uniform(0.5, 2.0, len(X)) if weighted else None
    model = KernelRidge(n_centers=200, random_state=3, **params)
    in_memory = model.fit(X, y, sample_weight=w)
    streamed = KernelRidge(n_centers=200, random_state=3, **params).fit(batches_of(X, y, w))
    assert_same_model(streamed, in_memory, X_test)


@pytest.mark.parametrize("solver", ["eigen", "cg"])
def test_memmap_fit_is_the_in_memory_fit(friedman, solver, tmp_path):
    X, y, X_test = friedman
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    params = {"n_centers": 150, "solver": solver, "random_state": 0, "tol": 1e-10}
    in_memory = KernelRidge(**params, max_iter=500).fit(X, y)
    streamed = KernelRidge(**params, max_iter=500).fit(mapped, y)
    assert_same_model(streamed, in_memory, X_test)


def test_two_targets_and_the_classifier_on_batches(friedman):
    X, y, X_test = friedman
    Y = np.column_stack([y, np.cos(X[:, 1])])
    params = {"n_centers": 120, "random_state": 5}
    assert_same_model(
        KernelRidge(**params).fit(batches_of(X, Y)), KernelRidge(**params).fit(X, Y), X_test
    )
    labels = np.array(["low", "mid", "high"])[np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))]
    clf = KernelRidgeClassifier(solver="cg", **params).fit(batches_of(X, labels))
    reference = KernelRidgeClassifier(solver="cg", **params).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["high", "low", "mid"])
    np.testing.assert_allclose(
        clf.decision_function(X_test), reference.decision_function(X_test), rtol=1e-6, atol=1e-9
    )


def test_a_memmap_without_centers_is_the_exact_fit_in_memory(friedman, tmp_path):
    X, y, X_test = friedman
    np.save(tmp_path / "X.npy", X[:300])
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    exact = KernelRidge(alphas=0.1).fit(mapped, y[:300])
    np.testing.assert_allclose(
        exact.predict(X_test), KernelRidge(alphas=0.1).fit(X[:300], y[:300]).predict(X_test)
    )


def test_what_batches_cannot_do_is_a_clear_error(friedman):
    X, y, _ = friedman
    with pytest.raises(ValueError, match=r"exact kernel ridge .* set n_centers"):
        KernelRidge().fit(batches_of(X, y))
    with pytest.raises(ValueError, match=r"solver='cg' takes cv in \(None,\)"):
        KernelRidge(n_centers=50, solver="cg", cv=3).fit(batches_of(X, y))
    with pytest.raises(ValueError, match="cv=3 needs every fold's rows at once"):
        KernelRidge(n_centers=50, solver="eigen", cv=3).fit(batches_of(X, y))
    with pytest.raises(ValueError, match="y and sample_weight come in the batches"):
        KernelRidge(n_centers=50).fit(batches_of(X, y), y)
    with pytest.raises(ValueError, match="at least 2 rows"):
        KernelRidge(n_centers=50).fit(RowBatches(lambda: iter([(X[:1], y[:1])])))
    bad = X.copy()
    bad[700, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        KernelRidge(n_centers=50, gamma=0.5).fit(batches_of(bad, y))


def test_leverage_centers_need_the_rows_in_memory(friedman):
    X, y, _ = friedman
    with pytest.raises(ValueError, match="center_sampling='leverage' scores every row"):
        KernelRidge(n_centers=50, center_sampling="leverage").fit(batches_of(X, y))
