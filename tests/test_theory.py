"""Tests of ``rfkernels.theory``: deterministic-equivalent risks and power-law closed forms.

The oracles, from the most to the least exact:

- independent scalar solves (``scipy.optimize.brentq``) of the equations in the Notes of
  ``rfkernels.theory``'s module docstring, written out verbatim (the module rewrites them
  to be safe at ridge 0);
- exact identities and limits: the self-consistent equations, the two forms of the
  train risk, ridge -> infinity (nothing is learned), k -> infinity (kernel ridge), the
  double-descent peak at ridge 0 and k = n, least squares below the threshold;
- the paper's theorem (at the optimal ridge, more features and more samples never
  hurt), on a grid;
- the power-law closed forms against the discrete sums with many modes;
- Monte Carlo: exact linear ridge regression on the linear Gaussian design.
"""

import numpy as np
import pytest
from rfkernels import theory
from rfkernels.kernels import kernel_matrix
from rfkernels.theory import (
    estimate_eigenstructure,
    fit_powerlaw,
    krr_risk,
    powerlaw_fitting_ratio,
    powerlaw_optimal_ridge,
    powerlaw_task,
    powerlaw_test_risk,
    powerlaw_zero_ridge_optimal,
    rf_risk,
)
from scipy.optimize import brentq, minimize_scalar
from scipy.special import zeta
from sklearn.datasets import load_digits

# A task in the regime of the paper's random-feature figure: lambda_i = i^-1.5,
# v_i = i^-0.75, sigma^2 = 0.5 (2000 modes keep every solve well under a second).
TASK = powerlaw_task(1.5, 1.5, n_modes=2000, noise=0.5)


# ----------------------------------------------------------------------------- oracles


def _krr_reference(lam, v, n, ridge, noise):
    """The module Notes' kernel ridge equations, verbatim; brentq for kappa (ridge > 0)."""
    kappa = brentq(
        lambda kap: (lam / (lam + kap)).sum() + ridge / kap - n,
        ridge / n,
        (lam.sum() + ridge) / n,
        xtol=1e-300,
        rtol=1e-15,
        maxiter=1000,
    )
    L = lam / (lam + kappa)
    e0 = n / (n - (L**2).sum())
    test = e0 * (((1 - L) ** 2 * v**2).sum() + noise)
    return test, (ridge / (n * kappa)) ** 2 * test, kappa, e0


def _rf_reference(lam, v, n, k, ridge, noise):
    """The module Notes' random-feature equations, verbatim: gamma_0 by brentq, then gamma
    above it (ridge > 0).
    """

    def z(gamma):
        return (lam / (lam + gamma)).sum()

    m = min(n, k)
    gamma_0 = brentq(lambda g: z(g) - m, 1e-300, 2 * lam.sum() / m, xtol=1e-300, rtol=1e-15)
    gamma = brentq(
        lambda g: g * (n - z(g)) * (1 - z(g) / k) - ridge,
        gamma_0,
        10 * (lam.sum() / m + ridge / n),
        xtol=1e-300,
        rtol=1e-15,
        maxiter=1000,
    )
    L = lam / (lam + gamma)
    zz, q = L.sum(), (L**2).sum()
    kappa = gamma * (1 - zz / k)
    e0 = 1 / (1 - (q * (k - 2 * zz) + zz**2) / (n * (k - q)))
    b = (1 - L) - (kappa * k / (k - q)) * L / (lam + gamma)
    test = e0 * ((b * v**2).sum() + noise)
    return test, (1 - zz / n) ** 2 * test, kappa, gamma, e0


def _learnabilities(lam, kappa):
    return lam / (lam + np.asarray(kappa)[..., None])


# ----------------------------------------------------------------------------- kernel ridge


def test_krr_kappa_solves_its_equation():
    n = np.array([1, 10, 100.5, 1000])[:, None]
    ridge = np.array([0, 1e-8, 1e-3, 1, 1e3])
    risk = TASK.risk(n, ridge)
    lhs = _learnabilities(TASK.eigenvalues, risk.kappa).sum(-1) + ridge / risk.kappa
    np.testing.assert_allclose(lhs, np.broadcast_to(n, lhs.shape), rtol=1e-10)
    np.testing.assert_allclose(risk.effective_dof, lhs - ridge / risk.kappa, rtol=1e-12)


def test_krr_train_risk_two_forms_agree():
    n = np.array([10, 300])[:, None]
    ridge = np.array([1e-3, 1e-1, 10.0])
    risk = TASK.risk(n, ridge)
    z = _learnabilities(TASK.eigenvalues, risk.kappa).sum(-1)
    first = (ridge / (n * risk.kappa)) ** 2 * risk.test
    second = (1 - z / n) ** 2 * risk.test
    np.testing.assert_allclose(first, second, rtol=1e-10)
    np.testing.assert_allclose(risk.train, second, rtol=1e-10)
    np.testing.assert_allclose(risk.fitting_ratio, risk.train / risk.test, rtol=1e-12)


@pytest.mark.parametrize("n", [10, 100, 1000])
@pytest.mark.parametrize("ridge", [1e-6, 1e-2, 1.0, 100.0])
def test_krr_matches_scalar_brentq(n, ridge):
    risk = krr_risk(TASK.eigenvalues, TASK.target_coeffs, n, ridge, noise=0.3)
    got = (risk.test, risk.train, risk.kappa, risk.overfitting_coefficient)
    expected = _krr_reference(TASK.eigenvalues, TASK.target_coeffs, n, ridge, 0.3)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_large_ridge_learns_nothing():
    # kappa ~ ridge / n: every L_i ~ n lambda_i / ridge -> 0, so f_hat = 0 and both risks
    # are E[y^2] = sum v^2 + sigma^2, up to O(n sum(lambda) / ridge) ~ 1e-8.
    everything = (TASK.target_coeffs**2).sum() + TASK.noise
    for risk in (TASK.risk(100, 1e12), TASK.risk(100, 1e12, k=50)):
        np.testing.assert_allclose([risk.test, risk.train], everything, rtol=1e-7)


def test_krr_ridgeless_below_at_and_above_the_threshold():
    # p = 3 positive modes, one null mode (v^2 = 0.25) that no ridge can learn.
    lam, v, noise = np.array([0.25, 1.0, 0.0, 0.5]), np.array([1.0, 1.0, 0.5, 1.0]), 0.1
    risk = krr_risk(lam, v, n=np.array([2, 3, 4, 10]), ridge=0.0, noise=noise)
    # n = 2 < p: interpolation, sum L = n and zero train risk.
    np.testing.assert_allclose(risk.effective_dof[0], 2, rtol=1e-12)
    assert risk.train[0] == 0 and np.isfinite(risk.test[0])
    # n = p: the interpolation threshold, infinite risk (no warning: warnings are errors).
    assert risk.test[1] == np.inf and risk.overfitting_coefficient[1] == np.inf
    assert risk.train[1] == 0
    # n > p: least squares, E_0 = n / (n - p), kappa = 0, error = null signal + noise.
    n = np.array([4, 10])
    np.testing.assert_array_equal(risk.kappa[2:], 0)
    np.testing.assert_allclose(risk.overfitting_coefficient[2:], n / (n - 3), rtol=1e-14)
    np.testing.assert_allclose(risk.test[2:], n / (n - 3) * (0.25 + noise), rtol=1e-14)
    np.testing.assert_allclose(risk.train[2:], (1 - 3 / n) ** 2 * risk.test[2:], rtol=1e-14)
    # ridge 0 is the limit ridge -> 0+.
    near = krr_risk(lam, v, n=np.array([2, 4, 10]), ridge=1e-12, noise=noise)
    np.testing.assert_allclose(near.test, risk.test[[0, 2, 3]], rtol=1e-9)
    # Nothing to learn and no noise: zero risk even at the threshold.
    assert krr_risk(lam, 0 * v, n=3, ridge=0.0).test == 0


# ----------------------------------------------------------------------------- random features


@pytest.mark.parametrize("n", [50, 200])
@pytest.mark.parametrize("k", [20, 50, 199, 200, 201, 5000])
@pytest.mark.parametrize("ridge", [1e-5, 1e-2, 1.0])
def test_rf_matches_scalar_brentq(n, k, ridge):
    risk = rf_risk(TASK.eigenvalues, TASK.target_coeffs, n, k, ridge, noise=0.3)
    got = (risk.test, risk.train, risk.kappa, risk.gamma, risk.overfitting_coefficient)
    expected = _rf_reference(TASK.eigenvalues, TASK.target_coeffs, n, k, ridge, 0.3)
    # The reference loses digits to cancellation in 1 - z/n and 1 - z/k at small ridge.
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_rf_satisfies_its_equations():
    n = np.array([30, 300])[:, None, None]
    k = np.array([10, 30, 100, 300, 3000])[:, None]
    ridge = np.array([1e-6, 1e-2, 10.0])
    risk = TASK.risk(n, ridge, k=k)
    z = _learnabilities(TASK.eigenvalues, risk.gamma).sum(-1)
    # n = z + delta / kappa and k = z + k kappa / gamma (i.e. kappa = gamma (1 - z/k)),
    # written as sums: 1 - z/k itself cancels badly when z ~ k at small ridge.
    np.testing.assert_allclose(z + ridge / risk.kappa, np.broadcast_to(n, z.shape), rtol=1e-10)
    np.testing.assert_allclose(
        z + k * risk.kappa / risk.gamma, np.broadcast_to(k, z.shape), rtol=1e-10
    )
    np.testing.assert_allclose(risk.effective_dof, z, rtol=1e-12)
    np.testing.assert_allclose(risk.train, (1 - z / n) ** 2 * risk.test, rtol=1e-9)


def test_rf_ridgeless_double_descent():
    n = 100
    k = np.array([20, 99, 100, 101, 500])
    risk = TASK.risk(n, 0.0, k=k)
    # The peak: infinite risk exactly at k = n, zero training error (warnings are errors).
    assert risk.test[2] == np.inf and risk.overfitting_coefficient[2] == np.inf
    assert risk.train[2] == 0
    assert np.all(np.isfinite(risk.test[[0, 1, 3, 4]]))
    # Underparameterized: z = k, kappa = 0, E_0 = n / (n - k), like least squares on k features.
    under = [0, 1]
    np.testing.assert_allclose(risk.effective_dof[under], k[under], rtol=1e-12)
    np.testing.assert_array_equal(risk.kappa[under], 0)
    np.testing.assert_allclose(risk.overfitting_coefficient[under], n / (n - k[under]), rtol=1e-12)
    # Overparameterized: interpolation, z = n and zero train risk.
    np.testing.assert_allclose(risk.effective_dof[[3, 4]], n, rtol=1e-12)
    np.testing.assert_array_equal(risk.train[[3, 4]], 0)
    # Double descent: the risk grows towards the peak from both sides.
    assert risk.test[0] < risk.test[1] and risk.test[3] > risk.test[4]
    # ridge 0 is the limit ridge -> 0+ (away from the peak).
    near = TASK.risk(n, 1e-12, k=k[[0, 1, 3, 4]])
    np.testing.assert_allclose(near.test, risk.test[[0, 1, 3, 4]], rtol=1e-6)


def test_rf_with_few_modes_is_least_squares():
    # p = 3 <= min(n, k) positive modes at ridge 0: gamma = 0, every mode learned, the
    # same risk as kernel ridge, n / (n - p) (null signal + noise), whatever k >= p.
    lam, v = np.array([1.0, 0.5, 0.25, 0.0]), np.array([1.0, 1.0, 1.0, 0.5])
    risk = rf_risk(lam, v, n=10, k=np.array([3, 4, 1e6]), ridge=0.0, noise=0.1)
    np.testing.assert_array_equal(risk.gamma, 0)
    np.testing.assert_allclose(risk.test, 10 / 7 * (0.25 + 0.1), rtol=1e-14)


def test_rf_tends_to_krr():
    n = np.array([50, 500])[:, None]
    ridge = np.array([1e-3, 0.1, 10.0])
    krr = TASK.risk(n, ridge)
    # k = inf is kernel ridge regression, by the same code path.
    exact = TASK.risk(n, ridge, k=np.inf)
    for name in ("test", "train", "kappa", "overfitting_coefficient", "effective_dof"):
        np.testing.assert_allclose(getattr(exact, name), getattr(krr, name), rtol=1e-14)
    np.testing.assert_allclose(exact.gamma, krr.kappa, rtol=1e-14)
    # The random-feature corrections are O(1 / k): below 1e-3 at k = 1e6, ten times
    # smaller than at k = 1e5.
    wide, wider = TASK.risk(n, ridge, k=1e5), TASK.risk(n, ridge, k=1e6)
    np.testing.assert_allclose(wider.test, krr.test, rtol=1e-3)
    np.testing.assert_allclose(wider.kappa, krr.kappa, rtol=1e-3)
    for name in ("test", "train", "kappa"):
        gap, smaller_gap = (np.abs(getattr(r, name) - getattr(krr, name)) for r in (wide, wider))
        np.testing.assert_allclose(gap / smaller_gap, 10, rtol=0.05)


def test_broadcasting_and_chunking(monkeypatch):
    n = np.array([10, 100, 1000])[:, None, None]
    k = np.array([5, 50, 500, 5000])[:, None]
    ridge = np.array([0.0, 1e-4, 1e-2, 1.0, 100.0])
    risk = TASK.risk(n, ridge, k=k)
    assert risk.test.shape == risk.gamma.shape == risk.fitting_ratio.shape == (3, 4, 5)
    assert TASK.risk(n[:, 0, 0], ridge[:, None]).kappa.shape == (5, 3)
    scalar = TASK.risk(100, 1e-2, k=50)
    assert scalar.test.shape == () and isinstance(scalar.test, np.ndarray)
    np.testing.assert_allclose(scalar.test, risk.test[1, 1, 2], rtol=1e-14)
    # Chunks of a few points at a time give the same answers.
    monkeypatch.setattr(theory._solver, "_CHUNK_ELEMENTS", 7 * TASK.eigenvalues.size)
    chunked = TASK.risk(n, ridge, k=k)
    np.testing.assert_allclose(chunked.test, risk.test, rtol=1e-14)
    np.testing.assert_allclose(chunked.train, risk.train, rtol=1e-14)


def test_mode_order_and_outputs():
    rng = np.random.default_rng(0)
    order = rng.permutation(TASK.eigenvalues.size)
    shuffled = rf_risk(
        TASK.eigenvalues[order], TASK.target_coeffs[order], 100, 80, 1e-2, noise=TASK.noise
    )
    np.testing.assert_allclose(shuffled.test, TASK.risk(100, 1e-2, k=80).test, rtol=1e-12)
    # Two outputs: the squares add, so (v, 2v) has 5 times the noiseless risk of v.
    both = np.column_stack([TASK.target_coeffs, 2 * TASK.target_coeffs])
    np.testing.assert_allclose(
        krr_risk(TASK.eigenvalues, both, 100, 1e-2).test,
        5 * krr_risk(TASK.eigenvalues, TASK.target_coeffs, 100, 1e-2).test,
        rtol=1e-12,
    )


# ----------------------------------------------------------------------------- more is better


def _optimal_risk(task, n, k, ridges, iterations=50):
    """Test risk at the optimal ridge for each (n, k): grid over ``[0] + ridges``, then a
    vectorized golden-section search on log(ridge) between the grid neighbours of the best
    positive ridge (checked to be interior: the risk is unimodal there).
    """
    grid = task.risk(n[..., None], np.r_[0.0, ridges], k=k[..., None]).test
    best = grid[..., 1:].argmin(-1)
    assert np.all((best > 0) & (best < ridges.size - 1)), "optimum at the edge of the grid"
    lo, hi = np.log(ridges[best - 1]), np.log(ridges[best + 1])
    golden = (np.sqrt(5) - 1) / 2
    for _ in range(iterations):  # the bracket shrinks to 0.28 * 0.618^50 ~ 1e-11
        left, right = hi - golden * (hi - lo), lo + golden * (hi - lo)
        go_left = task.risk(n, np.exp(left), k=k).test < task.risk(n, np.exp(right), k=k).test
        lo, hi = np.where(go_left, lo, left), np.where(go_left, right, hi)
    return np.minimum(grid[..., 0], task.risk(n, np.exp((lo + hi) / 2), k=k).test)


def test_more_is_better_at_the_optimal_ridge():
    """The paper's first theorem: at the optimal ridge, risk is non-increasing in k and n.

    Tolerance 1e-9 relative: gamma is solved to ~1e-15 relative, and the golden search
    pins the optimal log-ridge to ~1e-11, where the risk is flat to second order, so
    the computed optima carry errors ~1e-13; the true steps here are >= 1e-4 relative,
    except between k = 1e6 and k = inf (~1e-5). At a fixed ridge, by contrast, the risk
    is not monotone in k (double descent), which the last assertion shows.
    """
    n = np.array([32, 64, 128, 256, 512])[:, None]
    k = np.array([8, 16, 32, 64, 128, 256, 512, 1024, 4096, 1e6, np.inf])
    n, k = np.broadcast_arrays(n, k)
    optimal = _optimal_risk(TASK, n, k, np.logspace(-4, 3, 57))
    assert np.all(np.diff(optimal, axis=1) <= 1e-9 * optimal[:, :-1])  # more features
    assert np.all(np.diff(optimal, axis=0) <= 1e-9 * optimal[:-1])  # more samples
    assert np.all(optimal[:, -1] < 0.8 * optimal[:, 0])  # and the gains are not marginal
    np.testing.assert_allclose(optimal[:, -2], optimal[:, -1], rtol=1e-3)  # k -> inf is KRR
    fixed = TASK.risk(128, 1e-3, k=np.array([64, 128, 256])).test
    assert fixed[1] > max(fixed[0], fixed[2])


# ----------------------------------------------------------------------------- power laws


def _infinite_powerlaw(alpha, beta, n_modes):
    """The first ``n_modes`` of ``lambda_i = i^-alpha``, ``v_i^2 = i^-beta``, plus the rest.

    The closed forms are for infinitely many modes, and a truncated tail still matters
    at n = 1000 (dropping modes beyond 20000 moves R* by 40%). Modes with
    ``lambda_i << kappa`` have ``L_i ~ lambda_i / kappa``: together they add
    ``sum_{i > M} lambda_i`` to the ridge and ``sum_{i > M} v_i^2`` to the error, like
    a null mode, up to a relative O(lambda_M / kappa) ~ 1e-3 here. Returns the
    eigenvalues and coefficients (with that null mode) and the ridge offset.
    """
    task = powerlaw_task(alpha, beta, n_modes=n_modes)
    eigenvalues = np.r_[task.eigenvalues, 0.0]
    target_coeffs = np.r_[task.target_coeffs, np.sqrt(zeta(beta, n_modes + 1))]
    return eigenvalues, target_coeffs, zeta(alpha, n_modes + 1)


def test_powerlaw_noiseless_fitting_ratio_closed_form():
    assert float(powerlaw_fitting_ratio(2.0, 1.5)) == pytest.approx(1 / 9, rel=1e-12)
    alpha = np.array([1.2, 1.5, 2.0, 3.0])[:, None]
    beta = np.array([1.1, 1.5, 2.5, 3.0, 3.3])
    s = np.maximum(0.0, (alpha - beta) / (beta * (alpha - 1)))
    np.testing.assert_allclose(powerlaw_fitting_ratio(alpha, beta), s**2, rtol=1e-12, atol=1e-28)
    np.testing.assert_array_equal(powerlaw_zero_ridge_optimal(alpha, beta), beta >= alpha)


@pytest.mark.parametrize("noise_rel", [0.0, 0.5, 2.0])
def test_powerlaw_closed_forms_match_discrete_sums(noise_rel):
    """At (alpha, beta) = (2, 1.5), n = 1000: the optimal ridge, the fitting ratio at it and
    the risks agree with the discrete sums (20000 modes + tail) to a fraction of a percent;
    we allow 2%.
    """
    alpha, beta, n = 2.0, 1.5, 1000
    lam, v, tail_ridge = _infinite_powerlaw(alpha, beta, 20_000)
    ridgeless = float(powerlaw_test_risk(alpha, beta, n, 0.0))
    np.testing.assert_allclose(krr_risk(lam, v, n, tail_ridge).test, ridgeless, rtol=0.01)
    noise = noise_rel * ridgeless

    def test_risk(log_ridge):
        return float(krr_risk(lam, v, n, np.exp(log_ridge) + tail_ridge, noise).test)

    found = minimize_scalar(test_risk, bounds=(np.log(1e-6), 0.0), method="bounded")
    ridge = np.exp(found.x)
    risk = krr_risk(lam, v, n, ridge + tail_ridge, noise)
    ratio = (ridge / (n * float(risk.kappa))) ** 2  # the real ridge: train / test
    expected_ratio = float(powerlaw_fitting_ratio(alpha, beta, noise_rel))
    np.testing.assert_allclose(ratio, expected_ratio, rtol=0.02)
    np.testing.assert_allclose(ridge, powerlaw_optimal_ridge(alpha, beta, n, noise_rel), rtol=0.02)
    expected = powerlaw_test_risk(alpha, beta, n, np.sqrt(expected_ratio), noise_rel)
    np.testing.assert_allclose(risk.test, expected, rtol=0.01)


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_powerlaw_zero_ridge_optimal_criterion(factor):
    """beta > alpha: zero ridge is optimal iff noise_rel <= (beta - alpha) / (alpha (alpha - 1))."""
    alpha, beta, n = 1.5, 2.0, 1000
    noise_rel = factor * (beta - alpha) / (alpha * (alpha - 1))
    zero_is_optimal = bool(powerlaw_zero_ridge_optimal(alpha, beta, noise_rel))
    assert zero_is_optimal == (factor < 1)
    assert (float(powerlaw_fitting_ratio(alpha, beta, noise_rel)) == 0) == zero_is_optimal
    lam, v, tail_ridge = _infinite_powerlaw(alpha, beta, 20_000)
    noise = noise_rel * float(powerlaw_test_risk(alpha, beta, n, 0.0))
    ridges = np.logspace(-6, 1, 43)
    at_zero = krr_risk(lam, v, n, tail_ridge, noise).test
    best_positive = krr_risk(lam, v, n, ridges + tail_ridge, noise).test.min()
    assert (at_zero <= best_positive) == zero_is_optimal


def test_powerlaw_optimal_ridge_scales_with_the_eigenvalues():
    base = powerlaw_optimal_ridge(2.0, 1.5, n=np.array([100, 1000]), noise_rel=0.5)
    np.testing.assert_allclose(
        powerlaw_optimal_ridge(2.0, 1.5, n=np.array([100, 1000]), noise_rel=0.5, scale=3.0),
        3 * base,
        rtol=1e-14,
    )
    # Zero ridge where overfitting is obligatory.
    assert powerlaw_optimal_ridge(1.5, 2.0, n=1000) == 0


def test_powerlaw_task_and_sample():
    task = powerlaw_task(2.0, 1.5, n_modes=50, noise=0.0, scale=3.0)
    i = np.arange(1, 51)
    np.testing.assert_allclose(task.eigenvalues, 3.0 * i**-2.0, rtol=1e-15)
    np.testing.assert_allclose(task.target_coeffs**2, i**-1.5, rtol=1e-14)
    X, y = task.sample(200, random_state=0)
    assert X.shape == (200, 50) and y.shape == (200,)
    # Without noise, y = f*(x) = sum_i v_i x_i / sqrt(lambda_i): linear in x.
    np.testing.assert_allclose(y, X @ (task.target_coeffs / np.sqrt(task.eigenvalues)))
    X_again, y_again = task.sample(200, random_state=0)
    np.testing.assert_array_equal(X, X_again)
    np.testing.assert_array_equal(y, y_again)


def test_linear_gaussian_design_matches_krr_risk():
    """Exact ridge with the linear kernel on x ~ N(0, diag(lambda)) against krr_risk.

    The test risk of f(x) = x.b, b = X^T (X X^T + delta I)^{-1} y, is exactly
    (b - b*)^T diag(lambda) (b - b*) + sigma^2: no test sample is needed. Over S = 16
    seeds the mean must be within 3 standard errors plus a finite-size term of the
    prediction. For Gaussian designs the deterministic equivalent is off by O(1/n)
    relative (least squares: n / (n - p - 1) exactly against n / (n - p)), so we allow
    1/n; measured with 200 seeds, the bias is below 0.5% at both sizes. Each seed's
    relative gap concentrates like n^-1/2: its root mean square must shrink from
    n = 100 to n = 400 (expected by about half).
    """
    task = powerlaw_task(1.5, 1.5, n_modes=500, noise=0.1)
    ridge, seeds = 0.1, range(16)
    b_star = task.target_coeffs / np.sqrt(task.eigenvalues)
    rms_gap = []
    for n in (100, 400):
        risks = []
        for seed in seeds:
            X, y = task.sample(n, random_state=seed)
            b = X.T @ np.linalg.solve(X @ X.T + ridge * np.eye(n), y)
            test = ((b - b_star) ** 2 * task.eigenvalues).sum() + task.noise
            risks.append((test, ((y - X @ b) ** 2).mean()))
        risks = np.array(risks)
        predicted = task.risk(n, ridge)
        expected = np.array([predicted.test, predicted.train])
        se = risks.std(axis=0, ddof=1) / np.sqrt(len(seeds))
        assert np.all(np.abs(risks.mean(axis=0) - expected) <= 3 * se + expected / n)
        rms_gap.append(np.sqrt(np.mean((risks[:, 0] / expected[0] - 1) ** 2)))
    assert rms_gap[1] < rms_gap[0]


# ----------------------------------------------------------------------------- data


@pytest.mark.parametrize("exponent", [0.5, 1.5, 3.0])
def test_fit_powerlaw_recovers_exact_powerlaws(exponent):
    i = np.arange(1, 201)
    values = 2.5 * i**-exponent
    fitted = fit_powerlaw(values)
    np.testing.assert_allclose(fitted, (exponent, 2.5), rtol=1e-10)
    # A different head and a corrupted tail are excluded by the index range; zeros are skipped.
    values[:9] = 1.0
    values[150:] *= np.linspace(1, 0.01, 50)
    values[[20, 40]] = 0.0
    np.testing.assert_allclose(
        fit_powerlaw(values, start=10, stop=150), (exponent, 2.5), rtol=1e-10
    )
    assert abs(fit_powerlaw(values)[0] - exponent) > 0.01


@pytest.fixture(scope="module")
def digits():
    X, labels = load_digits(return_X_y=True)
    return X, labels.astype(np.float64)


def test_estimate_eigenstructure_on_digits(digits):
    X, y = digits
    eig = estimate_eigenstructure(X, y, n=500, random_state=0, n_jobs=1)
    lam = eig.eigenvalues
    assert lam.shape == (500,) and eig.target_coeffs.shape == (500,)
    assert np.all(lam >= 0) and np.all(np.diff(lam) <= 0)
    # The rbf kernel has a unit diagonal: the eigenvalues of K / M sum to 1.
    np.testing.assert_allclose(lam.sum(), 1.0, rtol=1e-12)
    rows = np.random.RandomState(0).choice(len(X), size=500, replace=False)
    np.testing.assert_allclose((eig.target_coeffs**2).sum(), (y[rows] ** 2).mean(), rtol=1e-10)
    # Aligned with the eigenvalues: sum_i lambda_i v_i^2 = y^T K y / M^2.
    K = kernel_matrix(X[rows], gamma=1 / (X.shape[1] * X[rows].var()), n_jobs=1)
    np.testing.assert_allclose(
        lam @ eig.target_coeffs**2, y[rows] @ K @ y[rows] / 500**2, rtol=1e-10
    )
    assert np.isfinite(eig.alpha) and eig.alpha > 1
    assert np.isfinite(eig.beta) and eig.beta > 1
    # The eigenvalues are those of the kernel matrix with the estimators' gamma="scale".
    np.testing.assert_allclose(lam[:50], np.linalg.eigvalsh(K)[::-1][:50] / 500, rtol=1e-10)
    # Two outputs (y, 2y): coefficients per output, squares summed by the risk functions.
    both = estimate_eigenstructure(X, np.column_stack([y, 2 * y]), n=500, random_state=0)
    assert both.target_coeffs.shape == (500, 2)
    np.testing.assert_allclose((both.target_coeffs**2).sum(), 5 * (y[rows] ** 2).mean())
    np.testing.assert_allclose(both.risk(100, 1e-3).test, 5 * eig.risk(100, 1e-3).test, rtol=1e-9)
    assert np.isfinite(eig.risk(100, 1e-3, k=50).test)
    other = estimate_eigenstructure(X, y, n=500, random_state=1)
    assert not np.allclose(other.eigenvalues, lam)


# ----------------------------------------------------------------------------- validation

LAM, V = np.array([1.0, 0.5]), np.array([1.0, 0.5])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: krr_risk(np.ones((2, 2)), V, 10, 0.0), "eigenvalues must be a non-empty 1-D"),
        (lambda: krr_risk([], [], 10, 0.0), "eigenvalues must be a non-empty 1-D"),
        (lambda: krr_risk([1.0, -0.1], V, 10, 0.0), r"eigenvalues must be finite and >= 0"),
        (lambda: krr_risk([1.0, np.nan], V, 10, 0.0), r"eigenvalues must be finite and >= 0"),
        (lambda: krr_risk(LAM, [1.0], 10, 0.0), r"target_coeffs must have shape \(2,\)"),
        (lambda: krr_risk(LAM, np.ones((2, 1, 1)), 10, 0.0), "target_coeffs must have shape"),
        (lambda: krr_risk(LAM, [1.0, np.inf], 10, 0.0), "target_coeffs must be finite"),
        (lambda: krr_risk(LAM, V, 0.5, 0.0), r"n \(the number .*\) must be .* >= 1; got 0.5"),
        (lambda: krr_risk(LAM, V, [10, np.inf], 0.0), r"n .* must be a finite number >= 1"),
        (lambda: krr_risk(LAM, V, np.nan, 0.0), r"n .* must be a finite number >= 1; got nan"),
        (lambda: krr_risk(LAM, V, 10, -1.0), r"ridge .*alpha.* must be .* >= 0; got -1.0"),
        (lambda: krr_risk(LAM, V, 10, 0.0, noise=-0.1), r"noise .* must be .* >= 0"),
        (lambda: krr_risk(LAM, V, 10, 0.0, noise=[0.1]), "noise must be a scalar"),
        (lambda: krr_risk(LAM, V, [1, 2], [0, 1, 2]), "must broadcast together"),
        (lambda: rf_risk(LAM, V, 10, 0, 0.0), r"k \(the number of random features\) .* >= 1"),
        (lambda: rf_risk(LAM, V, 10, np.nan, 0.0), r"k .* must be a number \(inf allowed\)"),
        (lambda: fit_powerlaw(np.ones((2, 2))), "values must be a finite 1-D array"),
        (lambda: fit_powerlaw([1.0, np.nan]), "values must be a finite 1-D array"),
        (lambda: fit_powerlaw([1.0, 0.5], start=0), "need integers 1 <= start <= stop"),
        (lambda: fit_powerlaw([1.0, 0.5], start=2, stop=1), "need integers 1 <= start <= stop"),
        (lambda: fit_powerlaw([1.0, 0.0, -1.0]), "at least 2 positive values"),
        (lambda: powerlaw_task(0.0, 1.5), r"alpha .* must be a finite number > 0"),
        (lambda: powerlaw_task(1.5, np.inf), r"beta .* must be a finite number; got inf"),
        (lambda: powerlaw_task(1.5, 1.5, n_modes=0), "n_modes must be an integer >= 1"),
        (lambda: powerlaw_task(1.5, 1.5, n_modes=True), "n_modes must be an integer >= 1"),
        (lambda: fit_powerlaw([1.0, 0.5], start=True), "need integers 1 <= start <= stop"),
        (lambda: powerlaw_task(1.5, 1.5, scale=-1.0), r"scale .* must be a finite number > 0"),
        (lambda: powerlaw_task(1.5, 1.5, noise=-1.0), r"noise .* must be"),
        (lambda: powerlaw_fitting_ratio(1.0, 1.5), "alpha must be finite and > 1"),
        (lambda: powerlaw_fitting_ratio(2.0, 1.0), "beta must satisfy 1 < beta < 2 alpha"),
        (lambda: powerlaw_fitting_ratio(2.0, 5.0), "beta must satisfy 1 < beta < 2 alpha"),
        (lambda: powerlaw_fitting_ratio(2.0, 1.5, -1.0), r"noise_rel .* must be .* >= 0"),
        (lambda: powerlaw_test_risk(2.0, 1.5, 100, 1.0), r"s = sqrt\(E_tr / E_te\) must be in"),
        (lambda: powerlaw_test_risk(2.0, 1.5, 0, 0.0), r"n .* must be a finite number > 0"),
        (lambda: powerlaw_optimal_ridge(2.0, 1.5, 100, scale=0.0), r"scale .* > 0"),
        (lambda: estimate_eigenstructure(LAM[:, None], V, kernel="poly"), "kernel must be one of"),
        (
            lambda: estimate_eigenstructure(LAM[:, None], V, n=3),
            r"n must be an integer in \[1, 2\]",
        ),
        (
            lambda: estimate_eigenstructure(LAM[:, None], V, n=True),
            r"n must be an integer in \[1, 2\] .* got True",
        ),
        (lambda: estimate_eigenstructure(np.ones((47, 2)), np.ones(47)), "at least 48 rows"),
    ],
)
def test_invalid_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
