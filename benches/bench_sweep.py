"""Width sweeps: 8 widths with nested features vs one RandomFeatureRidge fit at the widest.

The acceptance criterion of ``rfkernels.sweep.width_sweep`` (recorded in RESULTS.md):
a sweep over 8 widths up to D costs less than 2 single fits at width D. Both run on
the same data (n=40k, d=32 training rows, 10k test rows; every width <= n, so every
fit is on the primal path) with one seed and the same 30 ridges and
an intercept (the estimator's default):

- ``one-fit``: ``RandomFeatureRidge(n_components=D, alphas=grid).fit(X, y)`` (the
  reference of the group): one Gram pass, one eigendecomposition, one leave-one-out
  pass;
- ``width-sweep``: ``width_sweep(X, y, [D/128, ..., D/2, D], X_test=..., seeds=(0,),
  exact_kernel=False, theory=False)``: one Gram pass at width D, then per width an
  eigendecomposition of its leading block and a leave-one-out pass of that width,
  plus the test predictions of every width and ridge.

``summarize.py`` prints the speedup of the sweep against the fit; its inverse is the
ratio the criterion bounds. The sweep also records its tuned test MSE at width D.
"""

from __future__ import annotations

import functools

import numpy as np
from conftest import Measure, scaled
from rfkernels import RandomFeatureRidge
from rfkernels.sweep import SweepResult, width_sweep

N_TRAIN = scaled(40_000)
N_TEST = scaled(10_000)
N_FEATURES = 32
D = 2048
WIDTHS = [D // 2**k for k in range(7, -1, -1)]  # 16 ... 2048
# The sweep's alphas="auto" for this data (rbf, K(x, x) = 1): 0 and 29 ridges from 1e-6 n
# to 10 n, given to both sides.
ALPHAS = np.concatenate([[0.0], np.logspace(np.log10(1e-6 * N_TRAIN), np.log10(10 * N_TRAIN), 29)])
GROUP = f"width sweep n={N_TRAIN} d={N_FEATURES}, 8 widths up to D={D}, 30 alphas"


@functools.cache
def make_data() -> tuple[np.ndarray, ...]:
    """The task of bench_ridge.py: ``y = sum_i sin(x_i) + x_0 x_1 / 2 + noise``."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_TRAIN + N_TEST, N_FEATURES))
    y = np.sin(X).sum(axis=1) + 0.5 * X[:, 0] * X[:, 1] + 0.3 * rng.standard_normal(len(X))
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]


def test_one_fit(measure: Measure) -> None:
    X, y, _, _ = make_data()
    model = measure(
        lambda: RandomFeatureRidge(
            n_components=D, alphas=ALPHAS, fit_intercept=True, random_state=0
        ).fit(X, y),
        group=GROUP,
        impl="one-fit",
        dtype="float64",
        flops=None,
        reference=True,
        rounds=3,
        shape=[N_TRAIN, N_FEATURES, D],
    )
    assert model.n_features_in_ == N_FEATURES


def test_width_sweep(measure: Measure) -> None:
    X, y, X_test, y_test = make_data()

    def sweep() -> SweepResult:
        return width_sweep(
            X, y, WIDTHS, X_test=X_test, y_test=y_test, alphas=ALPHAS, seeds=(0,),
            fit_intercept=True, exact_kernel=False, theory=False, progress=False,
        )  # fmt: skip

    result = measure(
        sweep,
        group=GROUP,
        impl="width-sweep",
        dtype="float64",
        flops=None,
        rounds=3,
        shape=[N_TRAIN, N_FEATURES, D],
        widths=WIDTHS,
    )
    assert result.values.tolist() == WIDTHS
    measure.record(test_mse=float(result.tuned()["test"][-1]))
