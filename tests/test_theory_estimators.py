"""The estimators' measured test risk against ``rfkernels.theory``'s predictions.

The task is the linear Gaussian design of ``theory.powerlaw_task``: inputs
``x ~ N(0, diag(lambda))`` with ``lambda_i = i^-1.5`` over ``N_MODES`` dimensions,
target ``f*(x) = sum_i v_i x_i / sqrt(lambda_i)`` with ``v_i^2 = i^-1.5`` and label
noise of variance 0.5. Its eigenstructure under the linear kernel ``x . x'`` is known
exactly, so ``krr_risk`` / ``rf_risk`` predict the risk of ``KernelRidge("linear")``
and of ``RandomFeatureRidge("linear")`` (Gaussian random projections, whose
``Z Z^T`` tends to ``X X^T``) with no estimation in between.

Both fitted models are linear in ``x`` (no intercept, no bias), so their
coefficients are their predictions on the unit vectors, and the test risk is exact:
``sum_i lambda_i (coef_i - v_i / sqrt(lambda_i))^2 + noise``. No test sample, no
Monte-Carlo error besides the draw of the training set and of the features.

Tolerances:

- agreement: ``|mean - theory| <= 3 se + theory / n``. ``se`` is the standard error
  of the mean over ``N_SEEDS`` draws (3 se: a false alarm in about 0.3% of the
  comparisons); ``theory / n`` allows for the deterministic equivalent's O(1/n)
  bias at finite size (measured: below 3.5% at n = 100 and below 1.5% at n = 400,
  all within 2 se);
- the gap shrinks with n: the root-mean-square relative deviation of single draws
  from the prediction must fall from n = 100 to n = 400 (single draws concentrate
  around the deterministic equivalent at rate 1/sqrt(n); measured about 7% -> 3.5%).
"""

import functools

import numpy as np
import pytest
from rfkernels import KernelRidge, RandomFeatureRidge
from rfkernels.theory import powerlaw_task

N_MODES = 1000
N_SEEDS = 20
SIZES = (100, 400)
RIDGES = (0.1, 0.0)
TASK = powerlaw_task(alpha=1.5, beta=1.5, n_modes=N_MODES, noise=0.5)
# Models by name: the number of random features as a function of n (None: the
# kernel, infinite width).
MODELS = {
    "kernel": None,
    "features-k=n/2": lambda n: n // 2,
    "features-k=2n": lambda n: 2 * n,
}


def make_model(name, n, ridge, seed):
    """The estimator ``name`` for ``n`` samples at ``ridge``, without intercept."""
    width = MODELS[name]
    if width is None:
        return KernelRidge("linear", gamma=1.0, alphas=[ridge], fit_intercept=False)
    return RandomFeatureRidge(
        "linear",
        n_components=width(n),
        gamma=1.0,
        alphas=[ridge],
        fit_intercept=False,
        random_state=10_000 + seed,
    )


def exact_test_risk(model):
    """Test MSE against noisy labels of a fitted model that is linear in x."""
    coef = model.predict(np.eye(N_MODES))
    truth = TASK.target_coeffs / np.sqrt(TASK.eigenvalues)
    return float(np.sum(TASK.eigenvalues * (coef - truth) ** 2) + TASK.noise)


@functools.cache
def measured(name, n, ridge):
    """Test risks of ``N_SEEDS`` independent fits (training set and features)."""
    return np.array(
        [
            exact_test_risk(make_model(name, n, ridge, seed).fit(*TASK.sample(n, seed)))
            for seed in range(N_SEEDS)
        ]
    )


def predicted(name, n, ridge):
    """The deterministic-equivalent test risk of the model ``name``."""
    width = MODELS[name]
    return float(TASK.risk(n, ridge, k=None if width is None else width(n)).test)


CASES = [(name, n, ridge) for name in MODELS for n in SIZES for ridge in RIDGES]


@pytest.mark.parametrize(("name", "n", "ridge"), CASES)
def test_measured_risk_agrees_with_the_theory(name, n, ridge):
    risks = measured(name, n, ridge)
    theory = predicted(name, n, ridge)
    se = risks.std(ddof=1) / np.sqrt(N_SEEDS)
    gap = risks.mean() - theory
    assert abs(gap) <= 3 * se + theory / n, (
        f"{name}, n={n}, ridge={ridge}: measured {risks.mean():.4f} +- {se:.4f}, "
        f"predicted {theory:.4f}"
    )


@pytest.mark.parametrize("ridge", RIDGES)
@pytest.mark.parametrize("name", list(MODELS))
def test_single_draws_concentrate_on_the_theory_as_n_grows(name, ridge):
    def rms_deviation(n):
        relative = measured(name, n, ridge) / predicted(name, n, ridge) - 1.0
        return float(np.sqrt(np.mean(relative**2)))

    small, large = (rms_deviation(n) for n in SIZES)
    assert large < small, f"{name}, ridge={ridge}: {small:.3f} at n={SIZES[0]}, {large:.3f}"


def test_the_double_descent_peak_is_where_the_theory_puts_it():
    # Ridgeless random features at k = n: the prediction is infinite, and the
    # measured risk is far above both neighbours k = n/2 and k = 2n.
    n = SIZES[0]
    assert np.isinf(TASK.risk(n, 0.0, k=n).test)
    at_peak = np.median(
        [
            exact_test_risk(
                RandomFeatureRidge(
                    "linear",
                    n_components=n,
                    gamma=1.0,
                    alphas=[0.0],
                    fit_intercept=False,
                    random_state=10_000 + seed,
                ).fit(*TASK.sample(n, seed))
            )
            for seed in range(5)
        ]
    )
    neighbours = max(np.median(measured(name, n, 0.0)) for name in MODELS if name != "kernel")
    assert at_peak > 10 * neighbours


# Real data: sklearn's digits (one-hot targets, pixels / 16). The eigenstructure is
# estimated from N_EIGEN rows (theory.estimate_eigenstructure), so the prediction is
# only as good as that estimate: with n approaching N_EIGEN it misses the spectrum's
# unresolved tail and becomes optimistic (measured: theory / measurement falls from
# 0.97 to 0.58 over the width grid and from 0.95 to 0.67 over the sample grid; log-log
# slopes -0.39 measured vs -0.51 predicted in width, -0.40 vs -0.56 in samples; fitted
# exponents alpha = 1.41, beta = 1.72). What must hold is the shape: the same
# direction at every step, log-log slopes within a factor SLOPE_FACTOR, and levels
# theory / measurement in LEVEL_RANGE. Measured over five pairs of seeds ((0, 1) as
# here, (2, 3), ..., (8, 9)), theory / measurement lies in [0.555, 1.018]; for (0, 1)
# in [0.579, 0.970]. The extremes of each pair vary with a standard deviation of
# about 0.022 (lowest) and 0.04 (highest): the range is (0, 1)'s less 3.5 and 3
# such deviations, rounded out to (0.5, 1.1). (It was within a factor 2.5 either way.)
N_EIGEN = 1000
SLOPE_FACTOR = 1.6
LEVEL_RANGE = (0.5, 1.1)


@functools.cache
def digits_sweeps():
    from rfkernels.sweep import sample_sweep, width_sweep
    from sklearn.datasets import load_digits

    X, labels = load_digits(return_X_y=True)
    X, Y = X / 16.0, np.eye(10)[labels]
    common = {"seeds": (0, 1), "n_eigen": N_EIGEN, "progress": False}
    return {
        "width": width_sweep(X, Y, [16, 64, 256, 1024], n_samples=500, **common),
        "samples": sample_sweep(X, Y, [50, 100, 200, 400], n_components=512, **common),
    }


@pytest.mark.parametrize("kind", ["width", "samples"])
def test_predicted_curve_has_the_measured_shape_on_digits(kind):
    result = digits_sweeps()[kind]
    assert np.isfinite(result.fixed["eigen_alpha"]) and np.isfinite(result.fixed["eigen_beta"])
    tuned = result.tuned()
    measured, theory = tuned["test"], tuned["theory_test"]
    assert np.all(np.diff(measured) < 0) and np.all(np.diff(theory) < 0)
    log_values = np.log(result.values)
    slope = np.polyfit(log_values, np.log(measured), 1)[0]
    predicted_slope = np.polyfit(log_values, np.log(theory), 1)[0]
    assert 1 / SLOPE_FACTOR <= predicted_slope / slope <= SLOPE_FACTOR, (slope, predicted_slope)
    ratio = theory / measured
    assert np.all((LEVEL_RANGE[0] <= ratio) & (ratio <= LEVEL_RANGE[1])), ratio
