"""RandomFeatureRidge against scikit-learn at the sizes where the Rust core runs in parallel.

``test_ridge.py`` checks every option against scikit-learn at n, D <= 90, where the
Gram ``Z^T Z`` is one tile (``GRAM_TILE = 256`` features, ``src/gram/products.rs``), the
primal leave-one-out pass one block (512 rows, ``src/ridge/primal.rs``) and the dual
one a single block (128 rows, ``src/ridge/dual.rs``). Here each path runs once at a
size with several of each: the primal path at n = 1300, D = 600 (3 x 3 tiles, 3
blocks), the dual path at n = 600 < D = 1300 (5 blocks), and, at the primal size,
the streamed fits (``RowBatches`` with leave-one-out, ``partial_fit`` with GCV) and
3-fold cross-validation (statistics of each fold). All fits are weighted, with two
targets.

The oracle is scikit-learn on the explicit float64 features ``Z`` of the model's own
fitted map (``RidgeCV(store_cv_results=True)`` for leave-one-out, ``Ridge`` per fold
for k-fold, ``Ridge`` at ``alpha_``) and numpy's GCV formula; the alphas mean the same
on both sides (``sum_i s_i r_i^2 + alpha ||beta||^2``).

Tolerance ``RTOL = 1e-10`` (max norm relative to the largest expected entry, as
``test_ridge.assert_close``), tighter than ``test_ridge.py``'s 1e-8 because these
problems are better conditioned: the top eigenvalue of the centered, weighted Gram
is 32 (primal) and 14 (dual) and the smallest ridge of ``GRID`` 1e-4, so both sides
solve systems of condition number at most 3.2e5 and each is within about
``3.2e5 eps = 7e-11`` of the exact answer. The largest difference measured is 1.5e-13
(the dual leave-one-out errors; every other quantity 2e-14 or less), while a wrong
centering, weight, fold or block shows up at 1e-3 or more.
"""

from __future__ import annotations

import numpy as np
import pytest
from rfkernels import RandomFeatures, RowBatches
from sklearn.linear_model import RidgeCV
from test_ridge import (
    BIAS,
    GAMMA,
    SEED,
    assert_close,
    explicit_features,
    hand_gcv,
    hand_kfold,
    make_data,
    make_model,
    make_weights,
    sklearn_intercept,
    sklearn_ridge,
)

PRIMAL = (1300, 600)
DUAL = (600, 1300)
GRID = np.array([1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0])
RTOL = 1e-10
N_FEATURES_IN = 8


def training_data(n: int):
    """``n`` rows of 8 inputs, two targets and positive weights."""
    X, y = make_data(n, n_targets=2, n_features_in=N_FEATURES_IN)
    return X, y, make_weights(n)


def new_rows() -> np.ndarray:
    """Rows the fitted models predict."""
    return make_data(300, n_features_in=N_FEATURES_IN, seed=7)[0]


def loo_oracle(Z: np.ndarray, y: np.ndarray, sample_weight: np.ndarray) -> RidgeCV:
    """scikit-learn's exact leave-one-out over ``GRID`` on the explicit features."""
    return RidgeCV(alphas=GRID, store_cv_results=True).fit(Z, y, sample_weight=sample_weight)


def assert_same_solution(model, oracle) -> None:
    """``coef_``, ``intercept_`` and predictions of ``model`` equal the oracle's.

    The oracle predicts from the explicit features of the new rows.
    """
    X_new = new_rows()
    expected = oracle.predict(explicit_features(model, X_new))
    assert_close(model.coef_, oracle.coef_, rtol=RTOL, what="coef_")
    assert_close(model.intercept_, sklearn_intercept(oracle, model), rtol=RTOL, what="intercept_")
    assert_close(model.predict(X_new), expected, rtol=RTOL, what="predict")


@pytest.fixture(scope="module")
def primal():
    """The primal-size data, its features ``Z`` and scikit-learn's LOO fit on them.

    ``Z`` is the map every ``make_model(PRIMAL[1])`` draws (gamma is fixed, so the map
    does not depend on the rows); each test checks that its model's map is this one.
    """
    X, y, s = training_data(PRIMAL[0])
    features = RandomFeatures(n_components=PRIMAL[1], gamma=GAMMA, bias=BIAS, random_state=SEED)
    Z = np.asarray(features.fit(X).transform(X), dtype=np.float64)
    return X, y, s, Z, loo_oracle(Z, y, s)


def assert_matches_loo_oracle(model, oracle: RidgeCV) -> None:
    """Leave-one-out errors, ``alpha_`` and the solution equal ``RidgeCV``'s."""
    # sklearn stores s_i e_i^2 per row: (n, n_targets, n_alphas).
    assert_close(model.cv_results_, oracle.cv_results_.mean(axis=0).T, rtol=RTOL, what="LOO errors")
    assert model.alpha_ == oracle.alpha_
    assert_same_solution(model, oracle)


@pytest.mark.parametrize("how", ["in-memory", "row-batches"])
def test_primal_loo_at_several_tiles_and_blocks_matches_ridgecv(primal, how):
    """The multi-tile Gram and the blocked LOO pass, from arrays and from RowBatches
    (batches of 500 rows, the last one short)."""
    X, y, s, Z, oracle = primal
    model = make_model(PRIMAL[1], alphas=GRID)
    if how == "in-memory":
        model.fit(X, y, sample_weight=s)
    else:
        model.fit(RowBatches.from_arrays(X, y, s, batch_rows=500))
    np.testing.assert_array_equal(explicit_features(model, X), Z)
    assert_matches_loo_oracle(model, oracle)


def test_dual_loo_at_several_blocks_matches_ridgecv():
    X, y, s = training_data(DUAL[0])
    model = make_model(DUAL[1], alphas=GRID).fit(X, y, sample_weight=s)
    Z = explicit_features(model, X)
    assert_matches_loo_oracle(model, loo_oracle(Z, y, s))


def test_partial_fit_gcv_matches_the_formula_and_ridge(primal):
    """``partial_fit`` over three unequal batches: GCV errors against numpy's formula,
    the solution at ``alpha_`` against scikit-learn's ``Ridge``."""
    X, y, s, Z, _ = primal
    model = make_model(PRIMAL[1], alphas=GRID)
    for rows in np.split(np.arange(len(X)), [300, 900]):
        model.partial_fit(X[rows], y[rows], sample_weight=s[rows])
    np.testing.assert_array_equal(explicit_features(model, X), Z)
    expected = hand_gcv(Z, y, s, GRID, fit_intercept=True)
    assert_close(model.cv_results_, expected, rtol=RTOL, what="GCV errors")
    assert model.alpha_ == GRID[np.argmin(expected.mean(axis=1))]
    oracle = sklearn_ridge(Z, y, model.alpha_, True, s)
    assert_same_solution(model, oracle)


def test_three_fold_matches_ridge_on_each_fold(primal):
    X, y, s, Z, _ = primal
    model = make_model(PRIMAL[1], alphas=GRID, cv=3).fit(X, y, sample_weight=s)
    np.testing.assert_array_equal(explicit_features(model, X), Z)
    expected = hand_kfold(Z, y, s, GRID, fit_intercept=True, n_splits=3)
    assert_close(model.cv_results_, expected, rtol=RTOL, what="3-fold errors")
    assert model.alpha_ == GRID[np.argmin(expected.mean(axis=1))]
    oracle = sklearn_ridge(Z, y, model.alpha_, True, s)
    assert_same_solution(model, oracle)
