"""The numpy Falkon reference of the benchmarks (benches/falkon_numpy.py) against rfkernels.

The reference solves the same Nystrom model as ``KernelRidge(solver="eigen")`` on the
same centers, so with a tight ``tol`` their predictions agree to rounding.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import rfkernels
from sklearn.datasets import make_friedman1


def _load_reference():
    """Import ``benches/falkon_numpy.py`` by path (benches/ is not a package)."""
    path = Path(__file__).resolve().parents[1] / "benches" / "falkon_numpy.py"
    spec = importlib.util.spec_from_file_location("falkon_numpy", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("falkon_numpy", module)
    spec.loader.exec_module(module)
    return module


falkon = _load_reference()

N_CENTERS = 200


def _solution(path, a):
    """The center coefficients and intercepts of ridge ``a`` of a path."""
    return path.center_coef[a], path.intercept[a]


@pytest.fixture
def data(rng):
    """Friedman #1 (n=1500, d=10) with a second target and positive sample weights."""
    X, y = make_friedman1(n_samples=1500, n_features=10, noise=1.0, random_state=0)
    second = np.sin(3 * X[:, 0]) * X[:, 1] + 0.1 * rng.standard_normal(len(X))
    Y = np.column_stack([y, second])
    weights = rng.uniform(0.2, 3.0, len(X))
    return X, Y, weights


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_matches_eigen_solver(data, fit_intercept):
    X, Y, weights = data
    alphas = np.array([1e-2, 1.0])
    fits = [
        rfkernels.KernelRidge(
            n_centers=N_CENTERS,
            solver="eigen",
            alphas=alpha,
            fit_intercept=fit_intercept,
            random_state=0,
        ).fit(X, Y, sample_weight=weights)
        for alpha in alphas
    ]
    centers, gamma = fits[0].X_fit_, fits[0].gamma_
    for fit in fits:
        np.testing.assert_array_equal(fit.X_fit_, centers)
    np.testing.assert_array_equal(X[fits[0].center_indices_], centers)

    path = falkon.falkon_path(
        X,
        Y,
        centers,
        gamma,
        alphas,
        sample_weight=weights,
        fit_intercept=fit_intercept,
        tol=1e-10,
        max_iter=2000,
        block_rows=512,
    )
    assert path.converged.all()
    assert path.center_coef.shape == (len(alphas), N_CENTERS, Y.shape[1])
    if not fit_intercept:
        np.testing.assert_array_equal(path.intercept, 0.0)
    for a, fit in enumerate(fits):
        expected = fit.predict(X)
        predicted = falkon.predict(
            X, centers, gamma, path.center_coef[a], path.intercept[a], block_rows=700
        )
        scale = np.abs(expected).max()
        np.testing.assert_allclose(predicted, expected, rtol=1e-7, atol=1e-7 * scale)
        np.testing.assert_allclose(
            path.center_coef[a],
            fit.dual_coef_.reshape(N_CENTERS, -1),
            rtol=1e-6,
            atol=1e-7 * np.abs(fit.dual_coef_).max(),
        )


def test_tolerance_and_iterations(data):
    X, Y, weights = data
    centers = rfkernels.Nystroem(n_components=N_CENTERS, gamma=0.5, random_state=0).fit(X)
    kwargs = dict(sample_weight=weights, max_iter=500)
    loose = falkon.falkon_path(X, Y, centers.components_, 0.5, [1e-2, 1.0], tol=1e-2, **kwargs)
    tight = falkon.falkon_path(X, Y, centers.components_, 0.5, [1e-2, 1.0], tol=1e-8, **kwargs)
    assert loose.iterations.shape == (2, 2)
    assert np.all(loose.iterations >= 1)
    assert np.all(loose.iterations < tight.iterations)
    assert loose.converged.all() and tight.converged.all()
    # The smaller ridge is the worse-conditioned system.
    assert np.all(tight.iterations[0] >= tight.iterations[1])
    # The loose predictions are close to, not equal to, the tight ones (the center
    # coefficients themselves are ill-determined: compare the functions).
    for a in range(2):
        loose_fit = falkon.predict(X, centers.components_, 0.5, *_solution(loose, a))
        tight_fit = falkon.predict(X, centers.components_, 0.5, *_solution(tight, a))
        diff = np.linalg.norm(loose_fit - tight_fit) / np.linalg.norm(tight_fit)
        assert 0 < diff < 5e-2


def test_block_rows_do_not_change_the_solution(data):
    X, Y, weights = data
    centers = X[:: len(X) // 50][:50]
    one = falkon.falkon_path(X, Y[:, 0], centers, 0.3, 0.1, sample_weight=weights, tol=1e-10)
    many = falkon.falkon_path(
        X, Y[:, 0], centers, 0.3, 0.1, sample_weight=weights, tol=1e-10, block_rows=97
    )
    assert abs(int(many.iterations[0, 0]) - int(one.iterations[0, 0])) <= 1
    np.testing.assert_allclose(
        falkon.predict(X, centers, 0.3, *_solution(many, 0)),
        falkon.predict(X, centers, 0.3, *_solution(one, 0)),
        rtol=1e-9,
    )
    first = falkon.predict(X[:10], centers, 0.3, one.center_coef[0, :, 0], one.intercept[0, 0])
    assert first.shape == (10,)


def test_nystrom_basis_matches_library_cutoff(rng):
    # Duplicated centers: K_MM is singular and the cut-off drops the repeated directions.
    base = rng.standard_normal((40, 3))
    centers = np.concatenate([base, base[:10]])
    nystroem = rfkernels.Nystroem(n_components=len(centers), gamma=0.7, random_state=0)
    nystroem.fit(centers)
    eigenvalues, projection = falkon.nystrom_basis(centers, 0.7)
    assert len(eigenvalues) == nystroem.n_components_ < len(centers)
    np.testing.assert_allclose(eigenvalues, nystroem.eigenvalues_, rtol=1e-9, atol=1e-12)
    kernel = falkon.kernel_block(centers, centers, 0.7)
    np.testing.assert_allclose(
        projection.T @ kernel @ projection, np.eye(len(eigenvalues)), atol=1e-8
    )


def test_rejects_nonpositive_alpha(data):
    X, Y, _ = data
    with pytest.raises(ValueError, match="alpha"):
        falkon.falkon_path(X[:50], Y[:50], X[:5], 0.5, [0.0, 1.0])
