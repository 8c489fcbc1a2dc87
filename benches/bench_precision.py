"""float32 against float64: the same leave-one-out fit and transform on each (issue 15).

``RandomFeatureRidge`` with exact leave-one-out over 20 ridges at n = 100k, D = 2048
on the task of ``bench_ridge.py``, fitted on float64 rows and on the same rows in
float32 (the same ``random_state``: the same features, rounded). float32 rows compute
their features, Gram tiles and leave-one-out projection in float32. Each float32 run
records its leave-one-out errors' largest relative difference from the float64 fit's
and the relative RMS difference of their test predictions; the transform group
records the float32 features' largest difference from the float64 ones.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from bench_ridge import ALPHAS, make_data
from conftest import Measure, scaled
from rfkernels import RandomFeatureRidge, RandomFeatures

N_TRAIN = scaled(100_000)
N_TEST = scaled(20_000)
N_COMPONENTS = 2048
DTYPES = ["float64", "float32"]


def fit(X: np.ndarray, y: np.ndarray) -> RandomFeatureRidge:
    """The leave-one-out fit of the comparison."""
    model = RandomFeatureRidge(n_components=N_COMPONENTS, alphas=ALPHAS, random_state=0)
    return model.fit(X, y)


@functools.cache
def float64_fit() -> RandomFeatureRidge:
    """The float64 fit every float32 run is compared with (one untimed fit)."""
    X, y, _, _ = make_data(N_TRAIN, N_TEST)
    return fit(X, y)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_with_loo(measure: Measure, dtype: str) -> None:
    X, y, X_test, _ = make_data(N_TRAIN, N_TEST)
    X = X.astype(dtype)
    model = measure(
        lambda: fit(X, y),
        group=f"RandomFeatureRidge LOO n={N_TRAIN} d={X.shape[1]} D={N_COMPONENTS}, 20 alphas",
        impl=f"rfkernels-{dtype}",
        dtype=dtype,
        flops=3 * N_TRAIN * N_COMPONENTS**2,
        reference=dtype == "float64",
        rounds=3,
        shape=[N_TRAIN, X.shape[1], N_COMPONENTS],
    )
    reference = float64_fit()
    loo = np.max(np.abs(model.cv_results_ - reference.cv_results_) / reference.cv_results_)
    want = reference.predict(X_test)
    got = model.predict(X_test.astype(dtype))
    predictions = float(np.linalg.norm(got - want) / np.linalg.norm(want))
    measure.record(
        alpha=model.alpha_,
        loo_max_relative_difference=float(loo),
        prediction_relative_rms_difference=predictions,
    )
    assert model.alpha_ == pytest.approx(reference.alpha_, rel=1e-6)
    assert loo <= 1e-3
    assert predictions <= 1e-4


@pytest.mark.parametrize("dtype", DTYPES)
def test_transform(measure: Measure, dtype: str) -> None:
    X, _, _, _ = make_data(N_TRAIN, N_TEST)
    features = RandomFeatures(n_components=N_COMPONENTS, random_state=0).fit(X)
    Xd = X.astype(dtype)
    Z = measure(
        lambda: features.transform(Xd),
        group=f"transform rbf n={N_TRAIN} d={X.shape[1]} D={N_COMPONENTS}",
        impl=f"rfkernels-{dtype}",
        dtype=dtype,
        flops=2 * N_TRAIN * X.shape[1] * N_COMPONENTS,
        reference=dtype == "float64",
        shape=[N_TRAIN, X.shape[1], N_COMPONENTS],
    )
    assert Z.dtype == dtype
    if dtype == "float32":
        difference = float(np.abs(Z - features.transform(X)).max())
        measure.record(max_abs_difference=difference)
        assert difference <= 1e-5
