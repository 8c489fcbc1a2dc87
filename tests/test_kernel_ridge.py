"""KernelRidge on exact kernels: scikit-learn, a bordered linear system, brute-force refits.

Oracles:

- without intercept, ``sklearn.kernel_ridge.KernelRidge`` (its own ``"rbf"`` and
  ``"laplacian"`` kernels, which use the same formulas, or ``"precomputed"`` with
  :func:`exact_kernel`);
- with intercept, the bordered system derived in :func:`bordered_solution`;
- leave-one-out, GCV and k-fold errors against refits of ``KernelRidge`` itself, or
  the hat matrix built in numpy;
- the infinite-width limit against a very wide ``RandomFeatureRidge``, with the
  Monte-Carlo tolerance of :func:`first_order_sd`.

Tolerances are normwise relative (as in ``test_ridge.py``). The kernel systems
``K~ + alpha I`` have condition numbers up to ~5e4 (top eigenvalues 14-45 for
n = 60, smallest alpha 1e-3), so both sides are within ~1e-11 of the exact
solution and 1e-8 leaves a margin of ~100. Intercepts are compared on the scale of
the targets: ``b = y_mean - sum_i c_i m_i`` cancels terms ~1e4 times larger than a
small ``b``, and an error in ``b`` matters only relative to the predictions it
shifts.
"""

import tracemalloc

import numpy as np
import pytest
from _reference import kernel_matrix as reference_kernel_matrix
from rfkernels import KERNELS, KernelRidge, RandomFeatureRidge
from sklearn.kernel_ridge import KernelRidge as SklearnKernelRidge
from sklearn.model_selection import KFold

SEED = 0
GAMMA = 0.5
BIAS = 0.5
GRID = np.array([1e-3, 1e-2, 0.1, 1.0, 10.0])
RTOL = 1e-8
# sklearn's own kernels with the same formulas as ours (both take gamma).
SKLEARN_KERNELS = {"rbf": "rbf", "laplacian": "laplacian"}


def make_data(n_samples, *, n_targets=None, seed=SEED):
    """Inputs ``X`` (n, 3) and smooth noisy targets (1-d, or 2-d with ``n_targets``)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, 3))
    columns = [
        np.sin(2 * X[:, 0]) + (k + 1) * X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n_samples)
        for k in range(n_targets or 1)
    ]
    return X, (np.stack(columns, axis=1) if n_targets else columns[0])


def make_weights(n_samples, seed=SEED + 1):
    """Positive sample weights spread over [0.2, 3]."""
    return np.random.default_rng(seed).uniform(0.2, 3.0, n_samples)


def make_model(kernel="rbf", **params):
    """KernelRidge with fixed ``gamma`` and ``bias`` (fixed, so refits on subsets agree)."""
    return KernelRidge(kernel, gamma=GAMMA, bias=BIAS, **params)


def assert_close(actual, expected, rtol=RTOL, what="", scale=None):
    """``max |actual - expected| <= rtol * scale``, by default ``scale = max |expected|``."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = np.max(np.abs(expected)) if scale is None else scale
    error = np.max(np.abs(actual - expected))
    assert error <= rtol * scale, f"{what}: error {error:.3g} > {rtol:g} * {scale:.3g}"


def exact_kernel(A, B, kernel):
    """``k(A_i, B_j)`` in numpy, accurate to rounding for every kernel.

    rbf and laplacian as in ``_reference.py``. For the arc-cosine kernels the angle
    between ``u = (sqrt(gamma) a, bias)`` and ``v`` is ``t = 2 atan2(|u^ - v^|, |u^ + v^|)``
    (unit vectors ``u^``, ``v^``), which stays accurate for nearly parallel vectors,
    where ``arccos(u.v / (|u| |v|))`` loses half the digits (``t ~ sqrt(eps)`` for
    ``u = v``); then relu (and nngp, at depth 1) is ``|u| |v| (sin t + (pi - t) cos
    t) / pi``, step ``1 - t / pi`` and ntk (depth 1) ``relu + (u.v) step``.
    """
    if kernel not in ("relu", "step", "nngp", "ntk"):
        return reference_kernel_matrix(A, B, kernel=kernel, gamma=GAMMA, bias=BIAS)
    U, V = (np.hstack([np.sqrt(GAMMA) * M, np.full((len(M), 1), BIAS)]) for M in (A, B))
    u_norms, v_norms = np.linalg.norm(U, axis=1), np.linalg.norm(V, axis=1)
    U_hat, V_hat = U / u_norms[:, None], V / v_norms[:, None]
    difference = np.linalg.norm(U_hat[:, None, :] - V_hat[None, :, :], axis=2)
    total = np.linalg.norm(U_hat[:, None, :] + V_hat[None, :, :], axis=2)
    t = 2 * np.arctan2(difference, total)
    step = 1 - t / np.pi
    relu = np.outer(u_norms, v_norms) * (np.sin(t) + (np.pi - t) * np.cos(t)) / np.pi
    if kernel == "step":
        return step
    if kernel == "ntk":  # depth 1: relu + (u.v) step
        return relu + (U @ V.T) * step
    return relu


def sklearn_kernel_ridge(kernel, X, y, alpha, sample_weight):
    """scikit-learn's KernelRidge (no intercept), fitted; its kernel as a callable of (A, B)."""
    if kernel in SKLEARN_KERNELS:
        model = SklearnKernelRidge(alpha=alpha, kernel=SKLEARN_KERNELS[kernel], gamma=GAMMA)
        return model.fit(X, y, sample_weight=sample_weight), lambda A, B: A
    model = SklearnKernelRidge(alpha=alpha, kernel="precomputed")
    K = exact_kernel(X, X, kernel)
    return model.fit(K, y, sample_weight=sample_weight), lambda A, B: exact_kernel(A, B, kernel)


def bordered_solution(K, y, sample_weight, alpha):
    """Dual coefficients ``c`` and intercept ``b`` of kernel ridge with an unpenalized intercept.

    The objective is ``sum_i s_i (y_i - (K c)_i - b)^2 + alpha c^T K c``. Setting its
    gradients to zero gives ``s^T r = 0`` and ``K (S r - alpha c) = 0`` with
    ``r = y - K c - b 1``; the minimizer in the span of the data has ``S r = alpha c``,
    i.e. ``(K + alpha S^-1) c + b 1 = y``, and then ``s^T r = alpha 1^T c = 0``. So
    ``[c; b]`` solves the bordered (LS-SVM) system

        [[K + alpha S^-1, 1], [1^T, 0]] [c; b] = [y; 0],

    non-singular for alpha > 0 and positive weights (``K + alpha S^-1`` is positive
    definite).
    """
    n = len(K)
    s = np.ones(n) if sample_weight is None else sample_weight
    system = np.zeros((n + 1, n + 1))
    system[:n, :n] = K + alpha * np.diag(1.0 / s)
    system[:n, n] = system[n, :n] = 1.0
    rhs = np.concatenate([np.reshape(y, (n, -1)), np.zeros((1, np.size(y) // n))])
    solution = np.linalg.solve(system, rhs)
    if np.ndim(y) == 1:
        return solution[:n, 0], solution[n, 0]
    return solution[:n], solution[n]


# ------------------------------------------------------------ no intercept: sklearn


@pytest.mark.parametrize("n_targets", [None, 2], ids=["y1d", "y2d"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_matches_sklearn_kernel_ridge_without_intercept(kernel, weighted, n_targets):
    X, y = make_data(60, n_targets=n_targets)
    X_test, _ = make_data(40, seed=SEED + 5)
    s = make_weights(60) if weighted else None
    for alpha in GRID:
        model = make_model(kernel, alphas=[alpha], fit_intercept=False).fit(X, y, sample_weight=s)
        oracle, transform = sklearn_kernel_ridge(kernel, X, y, alpha, s)
        assert np.shape(model.intercept_) == np.shape(y)[1:]
        assert np.all(np.asarray(model.intercept_) == 0.0)
        assert_close(model.dual_coef_, oracle.dual_coef_, what=f"dual_coef_, alpha={alpha}")
        assert_close(
            model.predict(X_test),
            oracle.predict(transform(X_test, X)),
            what=f"predict, alpha={alpha}",
        )
    full = make_model(kernel, alphas=GRID, fit_intercept=False).fit(X, y, sample_weight=s)
    oracle, transform = sklearn_kernel_ridge(kernel, X, y, full.alpha_, s)
    assert_close(full.dual_coef_, oracle.dual_coef_, what="dual_coef_ at alpha_")


# --------------------------------------------------------- intercept: bordered system


@pytest.mark.parametrize("n_targets", [None, 2], ids=["y1d", "y2d"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_intercept_solves_the_bordered_system(kernel, weighted, n_targets):
    X, y = make_data(60, n_targets=n_targets)
    X_test, _ = make_data(40, seed=SEED + 5)
    s = make_weights(60) if weighted else None
    K, K_test = exact_kernel(X, X, kernel), exact_kernel(X_test, X, kernel)
    for alpha in GRID:
        model = make_model(kernel, alphas=[alpha]).fit(X, y, sample_weight=s)
        dual, intercept = bordered_solution(K, y, s, alpha)
        assert_close(model.dual_coef_, dual, what=f"dual_coef_, alpha={alpha}")
        assert_close(
            model.intercept_, intercept, what=f"intercept_, {alpha}", scale=np.abs(y).max()
        )
        assert_close(model.predict(X_test), K_test @ dual + intercept, what=f"predict {alpha}")


# ------------------------------------------------------ model selection: brute force


def refit_predictions(X, y, s, train, test, alpha, fit_intercept, kernel="rbf"):
    """Predictions on ``test`` of KernelRidge(alpha) refitted on the rows ``train``."""
    model = make_model(kernel, alphas=[alpha], fit_intercept=fit_intercept)
    return model.fit(X[train], y[train], sample_weight=s[train]).predict(X[test])


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_loo_errors_match_refits_without_each_row(kernel, fit_intercept, weighted):
    """``cv_results_[a] = sum_i s_i (y_i - f_(-i)(x_i))^2 / n`` with n refits of KernelRidge."""
    n = 25
    X, y = make_data(n, n_targets=2)
    s = make_weights(n) if weighted else np.ones(n)
    model = make_model(kernel, alphas=GRID, fit_intercept=fit_intercept)
    model.fit(X, y, sample_weight=s)
    expected = np.zeros((len(GRID), 2))
    for a, alpha in enumerate(GRID):
        for i in range(n):
            keep = np.arange(n) != i
            prediction = refit_predictions(X, y, s, keep, [i], alpha, fit_intercept, kernel)
            expected[a] += s[i] * (y[i] - prediction[0]) ** 2 / n
    assert_close(model.cv_results_, expected, what="LOO errors")
    assert model.alpha_ == GRID[np.argmin(expected.mean(axis=1))]
    assert model.best_score_ == pytest.approx(-expected.mean(axis=1).min(), rel=RTOL)


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
def test_kfold_errors_match_refits_on_each_fold(fit_intercept):
    n = 40
    X, y = make_data(n)
    s = make_weights(n)
    model = make_model(alphas=GRID, cv=3, fit_intercept=fit_intercept).fit(X, y, sample_weight=s)
    expected = np.zeros(len(GRID))
    for a, alpha in enumerate(GRID):
        for train, test in KFold(3).split(X):
            prediction = refit_predictions(X, y, s, train, test, alpha, fit_intercept)
            expected[a] += s[test] @ (y[test] - prediction) ** 2 / s.sum()
    assert_close(model.cv_results_, expected, what="3-fold errors")


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
def test_gcv_errors_match_the_hat_matrix(fit_intercept):
    """GCV ``(RSS / S) / (1 - tr(H) / n)^2``, ``S = sum_i s_i``, with the hat matrix.

    The fit is linear in ``y``: column j of ``H`` is the prediction for the unit
    target ``e_j`` (a 2-d ``y`` fits all n of them at once), so ``H`` comes from the
    estimator itself; ``RSS = sum_i s_i (y_i - (H y)_i)^2``.
    """
    n = 40
    X, y = make_data(n)
    s = make_weights(n)
    model = make_model(alphas=GRID, cv="gcv", fit_intercept=fit_intercept)
    model.fit(X, y, sample_weight=s)
    expected = []
    for alpha in GRID:
        unit = make_model(alphas=[alpha], fit_intercept=fit_intercept)
        hat = unit.fit(X, np.eye(n), sample_weight=s).predict(X)  # hat[i, j] = H_ij
        rss = s @ (y - hat @ y) ** 2
        total = s.sum()
        expected.append(rss / total / (1 - np.trace(hat) / n) ** 2)
    assert_close(model.cv_results_, np.array(expected), what="GCV errors")


# ------------------------------------------------------------------------ memory


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_identical_rows_predict_the_weighted_mean(kernel):
    """All rows equal: the centered kernel is rounding noise, which must be cut as
    null (not scaled into the alpha grid), leaving the weighted mean of y."""
    rng = np.random.default_rng(0)
    X, y, weights = np.ones((60, 3)), rng.standard_normal(60), rng.uniform(0.5, 2.0, 60)
    mean = np.average(y, weights=weights)
    models = [
        KernelRidge(kernel=kernel),
        RandomFeatureRidge(kernel, n_components=120, random_state=0),  # dual
        RandomFeatureRidge(kernel, n_components=16, random_state=0),  # primal
    ]
    for model in models:
        predicted = model.fit(X, y, sample_weight=weights).predict(X[:2])
        np.testing.assert_allclose(predicted, mean, rtol=1e-9, err_msg=repr(model))


@pytest.mark.parametrize("cv", [None, "gcv", 3], ids=["loo", "gcv", "3-fold"])
def test_a_huge_target_offset_changes_only_the_intercept(cv):
    """y + 1e9: KernelRidge shifts its targets by their mean before the centered sums,
    as the random-feature estimators do, so the fit is the fit of y, intercept + 1e9."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((150, 3))
    y = np.column_stack([np.sin(X[:, 0]), X[:, 1] ** 2]) + 0.1 * rng.standard_normal((150, 2))
    weights, offset = rng.uniform(0.5, 2.0, 150), np.array([1e9, -3e8])
    grid = np.logspace(-6, 1, 8)

    def fit(targets):
        return KernelRidge(gamma=0.5, alphas=grid, cv=cv).fit(X, targets, sample_weight=weights)

    plain, shifted = fit(y), fit(y + offset)
    assert shifted.alpha_ == plain.alpha_
    for name in ["cv_results_", "train_errors_"]:
        np.testing.assert_allclose(getattr(shifted, name), getattr(plain, name), rtol=1e-6)
    scale = np.abs(plain.dual_coef_).max()
    np.testing.assert_allclose(shifted.dual_coef_, plain.dual_coef_, rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(shifted.intercept_ - offset, plain.intercept_, atol=1e-5)


def test_memory_error_is_raised_before_allocating():
    """n = 10**6 needs 4 n^2 float64 = 3.2e13 bytes: refused up front, nothing big allocated.

    ``X`` is a zero-copy broadcast view (16 bytes of data for 2e6 entries), so any
    allocation proportional to n^2 (or a kernel evaluation) would show in the traced
    peak, which must stay near the cost of validating X and y (a few times 16 MB).
    """
    n = 10**6
    X = np.broadcast_to(np.ones((1, 2)), (n, 2))
    y = np.zeros(n)
    tracemalloc.start()
    try:
        with pytest.raises(MemoryError, match="bytes"):
            KernelRidge().fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20, f"traced peak {peak:,} bytes"


# ------------------------------------------------------------ infinite-width limit


def first_order_sd(X, y, X_test, alpha, n_components, n_draws=20000, seed=123):
    """Monte-Carlo standard deviation of the random-feature prediction, to first order.

    With ``K_hat = (1/D) sum_j g_j g_j^T``, ``g_j(x) = sqrt(2) cos(w_j . x + b_j)``
    (rbf, ``w ~ N(0, 2 gamma I)``, ``b ~ U[0, 2 pi)``), the ridge prediction
    ``k_hat(x)^T (K_hat + alpha I)^-1 y`` differs from the exact
    ``k(x)^T c``, ``c = (K + alpha I)^-1 y``, to first order in ``K_hat - K`` by a
    mean of D i.i.d. terms

        xi_j(x) = (g_j(x) - a(x)^T g_j(X)) (g_j(X)^T c),  a(x) = (K + alpha I)^-1 k(X, x),

    minus their expectation, so its standard deviation is ``std(xi) / sqrt(D)``.
    ``std(xi)`` is estimated here in numpy from ``n_draws`` independent frequencies.
    """
    rng = np.random.default_rng(seed)
    K = reference_kernel_matrix(X, kernel="rbf", gamma=GAMMA)
    K_test = reference_kernel_matrix(X_test, X, kernel="rbf", gamma=GAMMA)
    inverse = np.linalg.inv(K + alpha * np.eye(len(X)))
    c, a = inverse @ y, K_test @ inverse
    W = rng.normal(scale=np.sqrt(2 * GAMMA), size=(X.shape[1], n_draws))
    b = rng.uniform(0, 2 * np.pi, n_draws)
    G, G_test = np.sqrt(2) * np.cos(X @ W + b), np.sqrt(2) * np.cos(X_test @ W + b)
    xi = (G_test - a @ G) * (c @ G)
    return xi.std(axis=1) / np.sqrt(n_components)


def test_very_wide_random_feature_ridge_approaches_kernel_ridge():
    """D = 2**14 random features vs the exact kernel, same gamma and alpha, n = 200.

    The discrepancy is Monte-Carlo noise of size ``sd = first_order_sd`` (~0.02 here,
    against predictions of size ~1). Its RMS over the test points must be within
    twice the predicted RMS (measured ratios: 0.94-1.2 over seeds), and no point may
    be off by more than 6 sd (|N(0,1)| > 6 has probability 2e-9 per point). A wrong
    gamma, normalization or ridge convention is off by many sd.
    """
    n_components, alpha = 2**14, 1.0
    X, y = make_data(200)
    X_test, _ = make_data(300, seed=SEED + 5)
    exact = make_model(alphas=[alpha], fit_intercept=False).fit(X, y).predict(X_test)
    wide = RandomFeatureRidge(
        n_components=n_components,
        gamma=GAMMA,
        alphas=[alpha],
        fit_intercept=False,
        random_state=SEED,
    )
    approximate = wide.fit(X, y).predict(X_test)
    sd = first_order_sd(X, y, X_test, alpha, n_components)
    difference = approximate - exact
    assert np.sqrt(np.mean(difference**2)) <= 2 * np.sqrt(np.mean(sd**2))
    assert np.max(np.abs(difference) / sd) <= 6
