"""Leverage-score centers (BLESS-R): exact scores, a rare cluster, determinism, errors."""

import numpy as np
import pytest
import rfkernels.leverage as leverage
import scipy.stats
from rfkernels import KERNELS, Nystroem
from rfkernels.kernels import kernel_matrix
from rfkernels.leverage import approximate_leverage_scores, draw_leverage_centers
from rfkernels.nystroem import draw_centers
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits


def exact_leverage_scores(K, ridge):
    """``diag(K (K + ridge I)^-1)`` in numpy (``K`` and the inverse commute)."""
    return np.diag(np.linalg.solve(K + ridge * np.eye(len(K)), K))


def kernel_params(kernel):
    """Parameters that every kernel takes (two layers for the layered ones)."""
    return {
        "kernel": kernel,
        "gamma": 0.2,
        "bias": 0.5,
        "depth": 2 if KERNELS[kernel].layered else 1,
    }


def outlying_cluster(rng, n=500):
    """Normal rows in 3 dimensions; the first 10 are moved away, so they score high."""
    X = rng.normal(size=(n, 3))
    X[:10] += 6.0
    return X


def rare_cluster(n, rng):
    """98% of the rows in a tight blob, 2% in another far away (first), with targets.

    The targets vary within the rare blob (a slope of 10 over a spread of 0.1), so an
    intercept cannot stand in for centers there.
    """
    X = rng.normal(scale=0.1, size=(n, 2))
    rare = np.arange(n) < n // 50
    X[rare] += 5.0
    y = np.where(rare, 2 + 10 * (X[:, 0] - 5) - 10 * (X[:, 1] - 5), np.sin(4 * X[:, 0]))
    return X, y + 0.1 * rng.normal(size=n), rare


@pytest.mark.parametrize("n_centers", [20, 100])
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_scores_are_within_a_constant_factor_of_the_exact_scores(kernel, n_centers, rng):
    X = outlying_cluster(rng)
    params = kernel_params(kernel)
    result = approximate_leverage_scores(X, n_centers, **params, random_state=0)
    np.testing.assert_array_equal(result.rows, np.arange(len(X)))  # small n: every row
    np.testing.assert_array_equal(result.inclusion, 1.0)
    exact = exact_leverage_scores(kernel_matrix(X, **params), result.ridge)
    ratio = result.scores / exact
    # The factor of the Notes of approximate_leverage_scores: measured [0.49, 4.1] over
    # 8 seeds and M from 8 to 400, medians in [0.85, 1.51], d_eff within [0.89, 1.48].
    assert 0.4 < ratio.min() and ratio.max() < 5.0
    assert 0.75 < np.median(ratio) < 1.75
    assert 0.75 < result.effective_dimension / exact.sum() < 1.75
    # The outlying cluster's share of the scores is about its exact share (measured
    # within [0.75, 1.63] over 8 seeds).
    share = result.scores[:10].sum() / result.scores.sum()
    exact_share = exact[:10].sum() / exact.sum()
    assert 0.5 < share / exact_share < 2.0


@pytest.mark.parametrize("n_centers", [16, 64, 256])
def test_the_ridge_gives_an_effective_dimension_of_about_a_quarter_of_the_centers(n_centers, rng):
    X = outlying_cluster(rng, n=1000)
    result = approximate_leverage_scores(X, n_centers, gamma=0.5, random_state=1)
    d_eff = exact_leverage_scores(kernel_matrix(X, gamma=0.5), result.ridge).sum()
    # The estimate at the chosen ridge is at most M / 4 and at the next (half) ridge
    # above it; the estimate is within 1.6 of d_eff, which at most doubles per halving.
    assert n_centers / 4 / 1.6 / 2 < d_eff < n_centers / 4 / 0.8
    # 4 d_eff rows oversampled, or more for small dictionaries (MIN_DICTIONARY).
    assert result.dictionary_size < max(6 * d_eff, 3 * leverage.MIN_DICTIONARY)


def test_leverage_centers_find_a_rare_cluster_and_fit_it(rng):
    X, y, rare = rare_cluster(2000, rng)
    X_test, y_test, _ = rare_cluster(4000, rng)
    n_centers, seeds = 32, range(10)
    counts, errors = {}, {}
    for sampling in ("uniform", "leverage"):
        found, mse = 0, []
        for seed in seeds:
            model = Nystroem(
                n_components=n_centers, gamma=1.0, sampling=sampling, random_state=seed
            )
            features = model.fit(X)
            found += rare[features.component_indices_].sum()
            ridge = Ridge(alpha=1e-3).fit(features.transform(X), y)
            mse.append(np.mean((ridge.predict(features.transform(X_test)) - y_test) ** 2))
        counts[sampling], errors[sampling] = found, np.mean(mse)
    draws = n_centers * len(seeds)
    # Uniform centers hold 2% rare rows: 6.4 of 320 expected, and 60 or more with a
    # chance below 1e-20 (a binomial tail, wider than the hypergeometric one).
    assert scipy.stats.binom.sf(59, draws, 0.02) < 1e-20
    assert counts["uniform"] < 20
    assert counts["leverage"] >= 60  # measured 165 of 640 over 20 seeds
    # Uniform centers often miss the rare blob (52% of draws) and cannot fit its slope.
    assert errors["leverage"] < 0.5 * errors["uniform"]


def test_candidates_drawn_when_scoring_every_row_is_over_budget(rng, monkeypatch):
    """A small budget makes the candidates a weighted subset, as for large ``n``."""
    monkeypatch.setattr(leverage, "SCORING_BUDGET", 2.0**23)
    X, _, rare = rare_cluster(2000, rng)
    result = approximate_leverage_scores(X, 64, gamma=1.0, random_state=0)
    assert 2 * 64 <= len(result.rows) < len(X)
    assert np.all(np.diff(result.rows) > 0)
    assert np.all((result.inclusion > 0) & (result.inclusion < 1))
    # Horvitz-Thompson: the estimate of d_eff stays close to the exact one.
    eigenvalues = np.linalg.eigvalsh(kernel_matrix(X, gamma=1.0))
    d_eff = np.sum(eigenvalues / (eigenvalues + result.ridge))
    assert 0.7 < result.effective_dimension / d_eff < 1.6
    found = [rare[draw_leverage_centers(X, 64, gamma=1.0, random_state=s)].sum() for s in range(5)]
    assert sum(found) > 5 * 64 * 0.02 * 4  # four times the uniform share; measured 49


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_seed_same_centers_for_any_thread_count(dtype, rng, monkeypatch):
    """n_jobs=1 with one BLAS thread and n_jobs=2 with the default BLAS threads."""
    monkeypatch.setattr(leverage, "SCORING_BUDGET", 2.0**22)  # candidates drawn too
    X = rng.normal(size=(3000, 5)).astype(dtype)
    params = {"kernel": "matern32", "gamma": 0.1}
    assert len(approximate_leverage_scores(X, 300, **params, random_state=7).rows) < len(X)
    with threadpool_limits(limits=1):
        one = draw_leverage_centers(X, 300, **params, random_state=7, n_jobs=1)
    two = draw_leverage_centers(X, 300, **params, random_state=7, n_jobs=2)
    np.testing.assert_array_equal(one, two)
    assert len(np.unique(one)) == 300 and np.all(np.diff(one) > 0)
    again = draw_leverage_centers(X, 300, **params, random_state=np.random.RandomState(7))
    np.testing.assert_array_equal(again, one)
    assert not np.array_equal(draw_leverage_centers(X, 300, **params, random_state=8), one)
    models = [
        Nystroem("matern32", n_components=300, gamma=0.1, sampling="leverage", random_state=7)
        .set_params(n_jobs=n_jobs)
        .fit(X)
        for n_jobs in (1, 2)
    ]
    np.testing.assert_array_equal(models[0].component_indices_, one)
    np.testing.assert_array_equal(models[0].transform(X), models[1].transform(X))


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_nystroem_on_leverage_centers_for_every_kernel(kernel, global_dtype, rng):
    X = outlying_cluster(rng, n=300).astype(global_dtype)
    params = kernel_params(kernel)
    model = Nystroem(n_components=40, sampling="leverage", random_state=0, **params).fit(X)
    indices = model.component_indices_
    assert indices.shape == (40,) and len(np.unique(indices)) == 40
    np.testing.assert_array_equal(model.components_, X[indices].astype(np.float64))
    Z = model.transform(X)
    assert Z.dtype == global_dtype and np.all(np.isfinite(Z))
    # The plain projection: on the centers the features give back their kernel.
    Zc = model.transform(model.components_)
    K_mm = kernel_matrix(model.components_, **params)
    np.testing.assert_allclose(Zc @ Zc.T, K_mm, atol=1e-8 * np.abs(K_mm).max())


def test_edge_cases(rng):
    X = rng.normal(size=(30, 2))
    np.testing.assert_array_equal(draw_leverage_centers(X, 30, random_state=0), np.arange(30))
    assert draw_leverage_centers(X, 1, random_state=0).shape == (1,)
    # Rows of zero features (relu of x = 0, no bias) score 0 and come last, at random.
    zeros = np.zeros((20, 2))
    picked = {
        tuple(draw_leverage_centers(zeros, 3, kernel="relu", random_state=s)) for s in range(5)
    }
    assert len(picked) > 1
    mixed = np.vstack([zeros, X[:3]])
    np.testing.assert_array_equal(
        draw_leverage_centers(mixed, 3, kernel="relu", gamma=1.0, random_state=0), [20, 21, 22]
    )
    with pytest.warns(UserWarning, match="every row is a center"):
        model = Nystroem(n_components=50, sampling="leverage").fit(X)
    np.testing.assert_array_equal(model.component_indices_, np.arange(30))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda X: draw_leverage_centers(X, 31), "n_centers=31 is more than the 30 rows"),
        (lambda X: approximate_leverage_scores(X, 31), "n_centers=31 is more than the 30 rows"),
        (lambda X: draw_leverage_centers(X, 0), "'n_centers' parameter"),
        (lambda X: draw_leverage_centers(X, 5, kernel="poly"), "'kernel' parameter"),
        (lambda X: draw_leverage_centers(X, 5, gamma=-1.0), "'gamma' parameter"),
        (lambda X: draw_leverage_centers(X, 5, depth=2), "depth"),
        (lambda X: draw_leverage_centers(np.full((30, 2), np.nan), 5), "NaN"),
        (lambda X: Nystroem(sampling="kmeans").fit(X), "'sampling' parameter"),
        (lambda X: Nystroem(sampling="Leverage").fit(X), "'sampling' parameter"),
    ],
)
def test_bad_input_is_a_clear_error(call, match, rng):
    with pytest.raises(ValueError, match=match):
        call(rng.normal(size=(30, 2)))


def test_uniform_stays_the_default(rng):
    X = rng.normal(size=(100, 3))
    model = Nystroem(n_components=20, random_state=3).fit(X)
    assert model.sampling == "uniform"
    np.testing.assert_array_equal(model.component_indices_, draw_centers(100, 20, 3))
