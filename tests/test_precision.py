"""One model whatever the precision: float32 rows compute in float32, float64 in float64.

The same ``random_state`` draws the same random features for float32 and float64
data (float64 draws, rounded), so precision changes rounding, not the model. Fits on
float32 rows compute their features, Gram tiles and leave-one-out projection in
float32 (each tile's sum added in float64; eigendecomposition and coefficients in
float64), and their spectrum stops at the float32 noise floor, ``eps32`` of its top:
directions below it are dropped at every ridge, so tiny ridges stay finite and honest.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from rfkernels import RandomFeatureRidge, RandomFeatureRidgeClassifier, RandomFeatures, _core

EPS32 = float(np.finfo(np.float32).eps)


def regression(n: int, d: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth task with noise, float64 rows."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.sin(X).sum(axis=1) + 0.5 * X[:, 0] * X[:, 1] + 0.2 * rng.standard_normal(n)


def relative_rms(a: np.ndarray, b: np.ndarray) -> float:
    """``||a - b|| / ||b||``."""
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.mark.parametrize("sampling", ["iid", "orthogonal", "structured"])
def test_float32_features_are_the_float64_ones_rounded(sampling):
    X, _ = regression(300)
    # A given gamma: gamma="scale" is computed from the rows, which float32 rounds.
    params = dict(n_components=96, sampling=sampling, gamma=0.2, random_state=4)
    f64 = RandomFeatures(**params).fit(X)
    f32 = RandomFeatures(**params).fit(X.astype(np.float32))
    np.testing.assert_array_equal(f32.random_weights_, f64.random_weights_.astype(np.float32))
    np.testing.assert_array_equal(f32.random_offset_, f64.random_offset_.astype(np.float32))
    Z64, Z32 = f64.transform(X), f32.transform(X.astype(np.float32))
    assert Z32.dtype == np.float32
    # Rounding of the inputs, weights and arithmetic: a few eps32 of the features' scale.
    assert np.abs(Z32 - Z64).max() <= 50 * EPS32 * np.abs(Z64).max()


@pytest.mark.parametrize("shape", [(3000, 256), (300, 700)], ids=["primal", "dual"])
def test_float32_fits_match_float64_fits(shape):
    n, D = shape
    X, y = regression(n)
    X_test, _ = regression(500, seed=1)
    alphas = np.logspace(-3, 2, 11)
    fits = {
        dtype: RandomFeatureRidge(n_components=D, alphas=alphas, random_state=0).fit(
            X.astype(dtype), y
        )
        for dtype in (np.float64, np.float32)
    }
    f64, f32 = fits[np.float64], fits[np.float32]
    assert f32.alpha_ == f64.alpha_
    np.testing.assert_allclose(f32.cv_results_, f64.cv_results_, rtol=1e-3)
    assert relative_rms(f32.predict(X_test), f64.predict(X_test)) <= 1e-4
    # The float32 fit did not run in float64: its rounding shows.
    assert not np.array_equal(f32.cv_results_, f64.cv_results_)


def test_float32_statistics_record_their_rounding():
    X, y = regression(500)
    features = RandomFeatures(n_components=64, random_state=0).fit(X)
    stats = {}
    for dtype in (np.float64, np.float32):
        s = _core.GramStatistics(64, 1)
        s.add_rows(
            X.astype(dtype),
            y[:, None],
            None,
            features.random_weights_.astype(dtype),
            features.random_offset_.astype(dtype),
            kernel="rbf",
            paired=False,
            chunk_rows=128,
        )
        stats[dtype] = s
    assert stats[np.float64].rounding == np.finfo(np.float64).eps
    assert stats[np.float32].rounding == EPS32
    # Merged and pickled statistics keep the coarser rounding.
    merged = pickle.loads(pickle.dumps(stats[np.float64] + stats[np.float32]))
    assert merged.rounding == EPS32
    # The Gram of float32 tiles is within float32 rounding of the float64 one.
    g32, g64 = stats[np.float32].gram, stats[np.float64].gram
    assert np.abs(np.tril(g32 - g64)).max() <= 1e-5 * np.abs(g64).max()


def test_tiny_ridges_stay_finite_below_the_float32_noise_floor():
    # 1e-14 .. 1e-9 of the top eigenvalue: far below the float32 floor (1.2e-7 of it).
    X, y = regression(2000)
    X_test, _ = regression(400, seed=2)
    model = RandomFeatureRidge(n_components=400, alphas=[0.0], random_state=0)
    model.fit(X.astype(np.float32), y)
    top = np.linalg.eigvalsh(np.cov(model.random_features_.transform(X).T) * len(X))[-1]
    alphas = np.r_[0.0, top * np.logspace(-14, -9, 4)]
    tiny = RandomFeatureRidge(n_components=400, alphas=alphas, random_state=0)
    tiny.fit(X.astype(np.float32), y)
    assert np.all(np.isfinite(tiny.cv_results_))
    # Below the floor every ridge is the ridgeless fit on the spectrum above it.
    np.testing.assert_allclose(tiny.cv_results_, tiny.cv_results_[0], rtol=1e-3)
    predictions = [
        RandomFeatureRidge(n_components=400, alphas=[a], random_state=0)
        .fit(X.astype(np.float32), y)
        .predict(X_test)
        for a in alphas[[0, -1]]
    ]
    assert relative_rms(predictions[1], predictions[0]) <= 1e-3


def test_float32_classifier_matches_float64():
    X, y = regression(1500)
    labels = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    fits = [
        RandomFeatureRidgeClassifier(n_components=200, random_state=0).fit(X.astype(dtype), labels)
        for dtype in (np.float64, np.float32)
    ]
    # The "auto" grid scales with the top eigenvalue, which rounding moves.
    assert fits[1].alpha_ == pytest.approx(fits[0].alpha_, rel=1e-6)
    agree = np.mean(fits[0].predict(X) == fits[1].predict(X.astype(np.float32)))
    assert agree >= 0.999
