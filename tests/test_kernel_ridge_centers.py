"""KernelRidge on Nystrom centers: the eigen path and the CG solver against exact references."""

import pickle

import numpy as np
import pytest
from rfkernels import KernelRidge, KernelRidgeClassifier, Nystroem
from sklearn.datasets import load_digits, make_friedman1
from sklearn.exceptions import ConvergenceWarning


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=2600, noise=0.3, random_state=0)
    return X[:2000], y[:2000], X[2000:], y[2000:]


def relative(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def test_cg_with_every_row_a_center_is_exact_kernel_ridge(friedman):
    """Acceptance: n_centers = n = 2000, a tight tol, the same alpha: 1e-6 relative."""
    X, y, X_test, _ = friedman
    exact = KernelRidge(alphas=0.3).fit(X, y)
    cg = KernelRidge(n_centers=len(X), solver="cg", alphas=0.3, tol=1e-10, max_iter=2000)
    cg.fit(X, y)
    assert cg.solver_ == "cg" and exact.solver_ == "exact"
    assert relative(cg.predict(X_test), exact.predict(X_test)) < 1e-6
    assert relative(cg.predict(X), exact.predict(X)) < 1e-6


@pytest.mark.parametrize("kernel", ["laplacian", "matern32"])
def test_eigen_with_every_row_a_center_gives_the_exact_loo_path(kernel, friedman):
    """Acceptance: the eigen solver's LOO path equals exact KernelRidge's to 1e-8."""
    X, y, X_test, _ = friedman
    X, y = X[:600], y[:600]
    alphas = np.logspace(-3, 1, 9)
    exact = KernelRidge(kernel, gamma=0.5, alphas=alphas).fit(X, y)
    eigen = KernelRidge(kernel, gamma=0.5, alphas=alphas, n_centers=len(X), solver="eigen")
    eigen.fit(X, y)
    np.testing.assert_allclose(eigen.cv_results_, exact.cv_results_, rtol=1e-8)
    # Training errors are sum(y^2) minus what the kept directions explain: both paths
    # cancel down to the rounding of that sum (n eps mean(y^2), 3.0e-11 here), so a
    # near-interpolating ridge's error of 5e-5 is compared at that absolute floor.
    floor = len(y) * np.finfo(np.float64).eps * np.mean(y**2)
    np.testing.assert_allclose(eigen.train_errors_, exact.train_errors_, rtol=1e-8, atol=floor)
    assert eigen.alpha_ == exact.alpha_
    assert relative(eigen.predict(X_test), exact.predict(X_test)) < 1e-8


def test_cg_and_eigen_solve_the_same_nystrom_model(friedman, rng):
    """Fewer centers than rows, weights, two targets, no intercept and with one."""
    X, y, X_test, _ = friedman
    Y = np.column_stack([y, np.sin(X[:, 0] * 3)])
    weights = rng.uniform(0.2, 3.0, size=len(X))
    for fit_intercept in (True, False):
        common = {"n_centers": 300, "alphas": 0.05, "random_state": 4}
        common["fit_intercept"] = fit_intercept
        eigen = KernelRidge(solver="eigen", **common).fit(X, Y, sample_weight=weights)
        cg = KernelRidge(solver="cg", tol=1e-11, max_iter=3000, **common)
        cg.fit(X, Y, sample_weight=weights)
        np.testing.assert_array_equal(cg.center_indices_, eigen.center_indices_)
        assert relative(cg.predict(X_test), eigen.predict(X_test)) < 1e-7
        np.testing.assert_allclose(cg.intercept_, eigen.intercept_, rtol=1e-6, atol=1e-8)
        # CG reports its training errors from the normal equations, on the 90% it fit.
        assert cg.train_errors_.shape == eigen.train_errors_.shape == (1, 2)


def test_the_model_is_ridge_on_the_nystrom_features(friedman):
    """The same centers, the features of Nystroem, numpy's weighted ridge solve."""
    X, y, X_test, _ = friedman
    model = KernelRidge(n_centers=200, solver="eigen", alphas=0.1, random_state=2).fit(X, y)
    # Every row of the model's centers is a center of this map: the same basis.
    features = Nystroem(n_components=200, gamma=model.gamma_).fit(model.X_fit_)
    Z, Z_test = features.transform(X), features.transform(X_test)
    Zc, yc = Z - Z.mean(axis=0), y - y.mean()
    coef = np.linalg.solve(Zc.T @ Zc + 0.1 * np.eye(Z.shape[1]), Zc.T @ yc)
    want = Z_test @ coef + (y.mean() - Z.mean(axis=0) @ coef)
    assert relative(model.predict(X_test), want) < 1e-9


def test_cg_reports_iterations_and_shrinking_residuals(friedman):
    X, y, X_test, y_test = friedman
    model = KernelRidge(n_centers=400, solver="cg", tol=1e-8, random_state=0).fit(X, y)
    assert model.n_iter_.shape == (len(model.alphas_),)
    assert np.all(model.n_iter_ >= 1)
    assert len(model.cg_residuals_) == model.n_iter_.max()
    worst = [r.max() for r in model.cg_residuals_]
    assert worst[-1] <= 1e-8 < worst[0]
    assert len(model.refit_n_iter_) == 1
    assert model.alpha_ in model.alphas_
    assert model.score(X_test, y_test) > 0.9


def test_auto_solver_and_kfold_with_cg(friedman):
    X, y, X_test, y_test = friedman
    small = KernelRidge(n_centers=100, random_state=0).fit(X, y)
    assert small.solver_ == "eigen"
    folds = KernelRidge(n_centers=100, solver="cg", cv=3, random_state=0).fit(X, y)
    assert folds.cv_results_.shape == folds.alphas_.shape
    assert folds.score(X_test, y_test) > 0.85


def test_cg_refuses_what_needs_a_decomposition(friedman):
    X, y, _, _ = friedman
    with pytest.raises(ValueError, match="solver='eigen'"):
        KernelRidge(n_centers=50, solver="cg", cv="loo").fit(X, y)
    with pytest.raises(ValueError, match="alpha > 0"):
        KernelRidge(n_centers=50, solver="cg", alphas=[0.0, 1.0]).fit(X, y)


def test_cg_warns_when_it_stops_at_max_iter(friedman):
    X, y, _, _ = friedman
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        KernelRidge(n_centers=200, solver="cg", max_iter=2, tol=1e-12).fit(X, y)


@pytest.mark.parametrize("solver", ["eigen", "cg"])
def test_same_seed_same_model_for_any_n_jobs_and_after_pickling(solver, friedman):
    X, y, X_test, _ = friedman
    fits = [
        KernelRidge(n_centers=300, solver=solver, random_state=7, n_jobs=n_jobs).fit(X, y)
        for n_jobs in (1, 2, 3)
    ]
    predictions = [fit.predict(X_test) for fit in fits]
    np.testing.assert_array_equal(predictions[0], predictions[1])
    np.testing.assert_array_equal(predictions[0], predictions[2])
    again = pickle.loads(pickle.dumps(fits[0]))
    np.testing.assert_array_equal(again.predict(X_test), predictions[0])
    np.testing.assert_allclose(
        fits[0].predict(X_test.astype(np.float32)), predictions[0], rtol=1e-5
    )


@pytest.mark.parametrize("n_centers, solver", [(None, "auto"), (400, "eigen"), (400, "cg")])
def test_classifier_is_the_regressor_on_class_indicators(n_centers, solver):
    X, y = load_digits(return_X_y=True)
    X_train, y_train, X_test, y_test = X[:1200], y[:1200], X[1200:], y[1200:]
    params = {"n_centers": n_centers, "solver": solver, "random_state": 0, "alphas": 0.1}
    clf = KernelRidgeClassifier(**params).fit(X_train, y_train)
    indicators = 2.0 * (y_train[:, None] == np.arange(10)) - 1.0
    regressor = KernelRidge(**params).fit(X_train, indicators)
    np.testing.assert_allclose(
        clf.decision_function(X_test), regressor.predict(X_test), rtol=1e-10, atol=1e-10
    )
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert clf.score(X_test, y_test) > 0.93
    assert clf.solver_ == ("exact" if n_centers is None else solver)


def test_classifier_labels_strings_and_two_classes(friedman):
    X, y, X_test, y_test = friedman
    labels = np.where(y > np.median(y), "high", "low")
    clf = KernelRidgeClassifier(n_centers=200, solver="cg", random_state=0).fit(X, labels)
    assert clf.decision_function(X_test).shape == (len(X_test),)
    predicted = clf.predict(X_test)
    assert set(predicted) <= {"high", "low"}
    assert np.mean(predicted == np.where(y_test > np.median(y), "high", "low")) > 0.8
    with pytest.raises(ValueError, match="at least 2 classes"):
        KernelRidgeClassifier(n_centers=10).fit(X, np.zeros(len(X)))


def test_leverage_centers_are_nystroems_and_help_a_rare_cluster():
    """center_sampling='leverage' draws Nystroem(sampling='leverage')'s centers; on a rare
    far cluster (half the test rows) the fit beats uniform centers (the statistics of the
    draw itself are tested in test_leverage_centers.py)."""
    rng = np.random.default_rng(0)
    n, rare = 3000, 60
    X = rng.normal(size=(n, 2)) * 0.3
    X[:rare] += 6.0
    y = np.sin(3 * X[:, 0]) + (np.arange(n) < rare) * np.cos(4 * X[:, 1])
    X_test = rng.normal(size=(2000, 2)) * 0.3
    X_test[:1000] += 6.0
    y_test = np.sin(3 * X_test[:, 0]) + (np.arange(2000) < 1000) * np.cos(4 * X_test[:, 1])
    params = {"gamma": 2.0, "n_centers": 40, "alphas": [1e-3]}
    leverage = KernelRidge(center_sampling="leverage", random_state=1, **params).fit(X, y)
    expected = Nystroem(gamma=2.0, n_components=40, sampling="leverage")
    seed = np.random.RandomState(1).randint(np.iinfo(np.int32).max)
    np.testing.assert_array_equal(
        leverage.center_indices_, expected.set_params(random_state=seed).fit(X).component_indices_
    )
    errors = {
        sampling: np.mean(
            [
                np.mean((model.fit(X, y).predict(X_test) - y_test) ** 2)
                for model in (
                    KernelRidge(center_sampling=sampling, random_state=seed, **params)
                    for seed in range(5)
                )
            ]
        )
        for sampling in ("leverage", "uniform")
    }
    assert errors["leverage"] < 0.5 * errors["uniform"], errors
