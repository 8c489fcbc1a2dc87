"""RandomFeatureRidge and RandomFeatureRidgeClassifier against scikit-learn on explicit features.

The oracle is always scikit-learn (``Ridge``, ``RidgeCV``, ``RidgeClassifierCV``,
``KFold``) or plain numpy, run on the explicit float64 feature matrix
``Z = model.random_features_.transform(X)``: the model is a linear ridge on exactly
these features, so every coefficient, intercept, leave-one-out, GCV, k-fold and
training error must agree with the oracle to rounding, on both the primal path
(``n_samples >= n_components``, streamed ``D x D`` Gram) and the dual path
(``n_samples < n_components``, ``n x n`` kernel ``Z Z^T``).

Tolerances. ``assert_close`` compares in the max norm relative to the largest
expected entry (a normwise relative error). Both sides solve ridge systems whose
condition number is at most ``(lambda_max + alpha) / alpha`` ~ 1e5 for the grids
below (top Gram eigenvalues 4 to 65 here, smallest alpha 1e-3), so
each side is within ~1e5 eps ~ 2e-11 of the exact answer; intercepts
``y_mean - z_mean . beta`` can lose another factor ~100 to cancellation. The
largest error measured over the whole file is ~1e-9 (intercepts at alpha = 1e-3 on
the dual), so 1e-8 keeps a margin of ~10 while any real discrepancy (a wrong
centering, a missing weight, an alpha off by a factor) shows up at 1e-3 or more.
"""

import pickle

import numpy as np
import pytest
from rfkernels import KERNELS, RandomFeatureRidge, RandomFeatureRidgeClassifier, RowBatches
from rfkernels._engine.selection import select_alpha
from sklearn.linear_model import Ridge, RidgeClassifierCV, RidgeCV
from sklearn.model_selection import KFold

SEED = 0
GAMMA = 0.5
BIAS = 0.5
# (n_samples, n_components): tall is solved in the primal (n >= D), wide in the dual.
SHAPES = {"tall": (90, 24), "wide": (24, 90)}
# Positive ridges from ~1e-5 to ~250 times the top Gram eigenvalue (4 to 65 here).
GRID = np.array([1e-3, 1e-2, 0.1, 1.0, 10.0, 1e3])
RTOL = 1e-8


# --------------------------------------------------------------------------- helpers


def make_data(n_samples, *, n_targets=None, dtype=np.float64, seed=SEED, n_features_in=3):
    """Inputs ``X`` (n, d) in ``dtype`` and smooth noisy targets (1-d, or 2-d with ``n_targets``).

    Target k is ``sin(x_0) + (k + 1) x_1 x_2 / 2 + 0.1 (k + 1) noise`` (``x_0^2``
    replaces ``x_1 x_2`` for one input): the targets differ in signal and noise so
    that their best ridges differ.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features_in))
    interaction = X[:, 1] * X[:, 2] if n_features_in >= 3 else X[:, 0] ** 2
    columns = [
        np.sin(X[:, 0]) + (k + 1) * interaction / 2 + 0.1 * (k + 1) * rng.standard_normal(n_samples)
        for k in range(n_targets or 1)
    ]
    y = np.stack(columns, axis=1) if n_targets else columns[0]
    return X.astype(dtype), y


def make_weights(n_samples, seed=SEED + 1):
    """Positive sample weights spread over [0.2, 3]."""
    return np.random.default_rng(seed).uniform(0.2, 3.0, n_samples)


def make_model(n_components, kernel="rbf", **params):
    """A seeded RandomFeatureRidge with fixed ``gamma`` and ``bias``."""
    return RandomFeatureRidge(
        kernel, n_components=n_components, gamma=GAMMA, bias=BIAS, random_state=SEED, **params
    )


def explicit_features(model, X):
    """The float64 feature matrix the fitted ``model`` is linear in."""
    return np.asarray(model.random_features_.transform(X), dtype=np.float64)


def assert_close(actual, expected, rtol=RTOL, what="", scale=None):
    """``max |actual - expected| <= rtol * scale``, by default ``scale = max |expected|``."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if scale is None:
        scale = np.max(np.abs(expected)) if expected.size else 0.0
    error = np.max(np.abs(actual - expected)) if expected.size else 0.0
    assert error <= rtol * scale, f"{what}: error {error:.3g} > {rtol:g} * {scale:.3g}"


def fit_rtol(Z, sample_weight, fit_intercept, alpha, dtype):
    """The relative tolerance of a fit at ``alpha`` on rows of ``dtype`` against an oracle.

    float64 rows: :data:`RTOL`. float32 rows compute their Gram tiles in float32 before
    centering: a perturbation of at most ``eps32`` of the uncentered Gram's norm
    (measured below ``0.08 eps32``), which the centered ridge system amplifies by
    ``(lambda_max(uncentered) + alpha) / (lambda_min(centered) + alpha)``.
    """
    if dtype != np.float32:
        return RTOL
    Zc, _, _, _ = centered_system(Z, np.zeros(len(Z)), sample_weight, False)
    top = np.linalg.eigvalsh(Zc.T @ Zc)[-1]
    Zc, _, _, _ = centered_system(Z, np.zeros(len(Z)), sample_weight, fit_intercept)
    bottom = max(np.linalg.eigvalsh(Zc.T @ Zc)[0], 0.0)
    return max(RTOL, float(np.finfo(np.float32).eps) * (top + alpha) / (bottom + alpha))


def sklearn_intercept(oracle, model):
    """The oracle's intercept in the model's shape.

    Without an intercept scikit-learn stores a scalar 0.0 even for 2-d ``y``; the
    model stores one zero per target (as documented).
    """
    return np.broadcast_to(oracle.intercept_, np.shape(model.intercept_))


def sklearn_ridge(Z, y, alpha, fit_intercept, sample_weight=None):
    """scikit-learn's Ridge on explicit features (the oracle for one alpha)."""
    return Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(Z, y, sample_weight=sample_weight)


def centered_system(Z, y, sample_weight, fit_intercept):
    """``(Z~, y~, z_mean, y_mean)``: weighted means removed, rows scaled by ``sqrt(s_i)``.

    Weighted least squares with an unpenalized intercept is ordinary least squares
    on ``Z~``, ``y~``; the intercept is then ``y_mean - z_mean . beta``.
    """
    s = np.ones(len(Z)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if fit_intercept:
        z_mean, y_mean = s @ Z / s.sum(), s @ y / s.sum()
    else:
        z_mean, y_mean = np.zeros(Z.shape[1]), np.zeros(np.shape(y)[1:])
    root = np.sqrt(s)
    Zc = root[:, None] * (Z - z_mean)
    yc = (root[:, None] if np.ndim(y) == 2 else root) * (y - y_mean)
    return Zc, yc, z_mean, y_mean


def min_norm_fit(Z, y, sample_weight, fit_intercept):
    """The alpha -> 0 limit of ridge: the minimum-norm weighted least-squares fit (pinv)."""
    Zc, yc, z_mean, y_mean = centered_system(Z, y, sample_weight, fit_intercept)
    coef = np.linalg.pinv(Zc) @ yc
    return coef, y_mean - z_mean @ coef


def fit_predict(Z_train, y_train, s_train, Z_test, alpha, fit_intercept):
    """Predictions of the ridge fitted on the training rows: sklearn Ridge, or pinv at alpha 0."""
    if alpha > 0:
        return sklearn_ridge(Z_train, y_train, alpha, fit_intercept, s_train).predict(Z_test)
    coef, intercept = min_norm_fit(Z_train, y_train, s_train, fit_intercept)
    return Z_test @ coef + intercept


def brute_force_loo(Z, y, sample_weight, alphas, fit_intercept):
    """``sum_i s_i (y_i - f_(-i)(z_i))^2 / n`` per alpha (and target), by n refits."""
    n = len(Z)
    s = np.ones(n) if sample_weight is None else sample_weight
    errors = []
    for alpha in alphas:
        total = 0.0
        for i in range(n):
            keep = np.arange(n) != i
            prediction = fit_predict(Z[keep], y[keep], s[keep], Z[i : i + 1], alpha, fit_intercept)
            total = total + s[i] * (y[i] - prediction[0]) ** 2
        errors.append(total / n)
    return np.array(errors)


def hand_gcv(Z, y, sample_weight, alphas, fit_intercept):
    """``(RSS / S) / (1 - df / n)^2``, ``df = tr(H)`` (+1 for the intercept), from ``Z``.

    ``H = Z~ (Z~^T Z~ + alpha I)^-1 Z~^T`` on the centered, weight-scaled features;
    ``RSS = ||y~ - H y~||^2 = sum_i s_i r_i^2``; ``S = sum_i s_i``; ``n`` rows.
    """
    Zc, yc, _, _ = centered_system(Z, y, sample_weight, fit_intercept)
    D = Zc.shape[1]
    n = len(Z)
    total = n if sample_weight is None else float(np.sum(sample_weight))
    errors = []
    for alpha in alphas:
        hat = Zc @ np.linalg.solve(Zc.T @ Zc + alpha * np.eye(D), Zc.T)
        df = np.trace(hat) + fit_intercept
        rss = np.sum((yc - hat @ yc) ** 2, axis=0)
        errors.append(rss / total / (1 - df / n) ** 2)
    return np.array(errors)


def hand_kfold(Z, y, sample_weight, alphas, fit_intercept, n_splits=3):
    """``sum over folds of sum_(i held out) s_i (y_i - f_(-fold)(z_i))^2 / sum_i s_i``."""
    n = len(Z)
    s = np.ones(n) if sample_weight is None else sample_weight
    errors = []
    for alpha in alphas:
        total = 0.0
        for train, test in KFold(n_splits).split(Z):
            prediction = fit_predict(Z[train], y[train], s[train], Z[test], alpha, fit_intercept)
            residuals = (y[test] - prediction) ** 2
            total = total + s[test] @ residuals
        errors.append(total / s.sum())
    return np.array(errors)


def top_gram_eigenvalue(Z, sample_weight, fit_intercept):
    """Largest eigenvalue of the centered, weighted Gram ``Z~^T Z~`` (= of ``Z~ Z~^T``)."""
    Zc, _, _, _ = centered_system(Z, np.zeros(len(Z)), sample_weight, fit_intercept)
    return np.linalg.svd(Zc, compute_uv=False)[0] ** 2


# ------------------------------------------------------- coefficients vs sklearn Ridge


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("n_targets", [None, 2], ids=["y1d", "y2d"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_coef_matches_sklearn_ridge_at_every_alpha(
    shape, fit_intercept, weighted, global_dtype, n_targets, kernel
):
    n, D = SHAPES[shape]
    X, y = make_data(n, n_targets=n_targets, dtype=global_dtype)
    s = make_weights(n) if weighted else None
    params = {"fit_intercept": fit_intercept}

    model = make_model(D, kernel, alphas=GRID, **params).fit(X, y, sample_weight=s)
    Z = explicit_features(model, X)
    oracle = sklearn_ridge(Z, y, model.alpha_, fit_intercept, s)
    assert model.alpha_ in GRID
    rtol = fit_rtol(Z, s, fit_intercept, model.alpha_, global_dtype)
    assert_close(model.coef_, oracle.coef_, rtol, what="coef_ at alpha_ of the full grid")
    assert_close(
        model.intercept_,
        sklearn_intercept(oracle, model),
        rtol,
        what="intercept_ at alpha_",
        scale=max(np.max(np.abs(sklearn_intercept(oracle, model))), np.max(np.abs(y))),
    )

    for alpha in GRID:
        single = make_model(D, kernel, alphas=[alpha], **params).fit(X, y, sample_weight=s)
        oracle = sklearn_ridge(Z, y, alpha, fit_intercept, s)
        rtol = fit_rtol(Z, s, fit_intercept, alpha, global_dtype)
        assert single.alpha_ == alpha
        assert np.shape(single.coef_) == np.shape(oracle.coef_)
        assert_close(single.coef_, oracle.coef_, rtol, what=f"coef_ at alpha={alpha}")
        # The intercept is a level of y: relative to max |y| (it may nearly cancel,
        # e.g. 4e-5 for matern32 at alpha=1e-3, float32 wide, with 6e-12 of rounding).
        assert_close(
            single.intercept_,
            sklearn_intercept(oracle, single),
            rtol,
            what=f"intercept_ at alpha={alpha}",
            scale=max(np.max(np.abs(sklearn_intercept(oracle, single))), np.max(np.abs(y))),
        )
        if not fit_intercept:
            assert np.all(np.asarray(single.intercept_) == 0.0)


# Boundary shapes: n == D is the smallest primal problem, n == D - 1 the largest dual one.
BOUNDARY = {"primal-square": (40, 40), "dual-by-one": (39, 40)}


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("shape", list(BOUNDARY))
def test_primal_and_dual_paths_at_the_boundary_match_sklearn(shape, fit_intercept, capsys):
    n, D = BOUNDARY[shape]
    X, y = make_data(n)
    s = make_weights(n)
    alphas = GRID[GRID >= 0.1]  # n ~ D: keep the systems well conditioned
    model = make_model(D, alphas=alphas, fit_intercept=fit_intercept, verbose=1)
    model.fit(X, y, sample_weight=s)
    log = capsys.readouterr().err
    assert ("dual solve" in log) == (n < D), log

    Z = explicit_features(model, X)
    oracle = RidgeCV(alphas=alphas, fit_intercept=fit_intercept, store_cv_results=True)
    oracle.fit(Z, y, sample_weight=s)
    assert model.alpha_ == oracle.alpha_
    assert_close(model.coef_, oracle.coef_, what="coef_")
    assert_close(model.intercept_, sklearn_intercept(oracle, model), what="intercept_")
    assert_close(model.cv_results_, oracle.cv_results_.mean(axis=0), what="LOO errors")


# ------------------------------------------------------------------ LOO vs RidgeCV


@pytest.mark.parametrize("n_targets", [None, 3], ids=["y1d", "y2d"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("cv", [None, "loo"])
def test_loo_errors_match_sklearn_ridgecv(
    cv, shape, fit_intercept, weighted, global_dtype, n_targets
):
    n, D = SHAPES[shape]
    X, y = make_data(n, n_targets=n_targets, dtype=global_dtype)
    s = make_weights(n) if weighted else None
    model = make_model(D, alphas=GRID, cv=cv, fit_intercept=fit_intercept)
    model.fit(X, y, sample_weight=s)
    Z = explicit_features(model, X)
    oracle = RidgeCV(alphas=GRID, fit_intercept=fit_intercept, store_cv_results=True)
    oracle.fit(Z, y, sample_weight=s)

    # sklearn stores s_i e_i^2 per sample: (n, n_alphas) or (n, n_targets, n_alphas).
    expected = oracle.cv_results_.mean(axis=0).T
    assert model.cv_results_.shape == expected.shape
    np.testing.assert_array_equal(model.alphas_, GRID)
    # The worst conditioned ridge bounds the errors of all of them.
    rtol = fit_rtol(Z, s, fit_intercept, GRID.min(), global_dtype)
    assert_close(model.cv_results_, expected, rtol, what="cv_results_")
    assert model.alpha_ == oracle.alpha_
    assert model.best_score_ == pytest.approx(oracle.best_score_, rel=rtol)
    rtol = fit_rtol(Z, s, fit_intercept, model.alpha_, global_dtype)
    assert_close(model.coef_, oracle.coef_, rtol, what="coef_ at alpha_")


# relu features of one input with bias=0 are max(0, w x): every column is a multiple of
# max(0, x) or max(0, -x), so the Gram has rank 2 whatever D and the ridgeless fit is
# only defined as the minimum-norm one.
RANKS = {"full-rank-rbf": ("rbf", 3, BIAS), "rank-2-relu": ("relu", 1, 0.0)}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("shape", ["tall", "wide"])
@pytest.mark.parametrize("rank", list(RANKS))
def test_loo_errors_match_brute_force_refits(rank, shape, fit_intercept, weighted):
    """Exact LOO, including the ridgeless alpha = 0, against n refits without row i.

    Small shapes (n = 30, D = 12 or the transpose) keep the n refits cheap; the
    brute force solves alpha = 0 as a minimum-norm least-squares problem (pinv),
    which the LOO formula must reach as its limit, also when the Gram is singular.
    """
    kernel, n_features_in, bias = RANKS[rank]
    n, D = (30, 12) if shape == "tall" else (12, 30)
    X, y = make_data(n, n_features_in=n_features_in)
    s = make_weights(n) if weighted else None
    alphas = np.concatenate([[0.0], GRID])
    model = RandomFeatureRidge(
        kernel,
        n_components=D,
        gamma=GAMMA,
        bias=bias,
        alphas=alphas,
        fit_intercept=fit_intercept,
        random_state=SEED,
    ).fit(X, y, sample_weight=s)
    Z = explicit_features(model, X)
    expected = brute_force_loo(Z, y, s, alphas, fit_intercept)
    assert np.all(np.isfinite(model.cv_results_))
    assert_close(model.cv_results_, expected, what="LOO errors")


# ------------------------------------------------------------------ GCV and k-fold


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_gcv_errors_match_the_hand_formula(shape, fit_intercept, weighted):
    n, D = SHAPES[shape]
    X, y = make_data(n, n_targets=2)
    s = make_weights(n) if weighted else None
    model = make_model(D, alphas=GRID, cv="gcv", fit_intercept=fit_intercept)
    model.fit(X, y, sample_weight=s)
    expected = hand_gcv(explicit_features(model, X), y, s, GRID, fit_intercept)
    assert_close(model.cv_results_, expected, what="GCV errors")
    assert model.alpha_ == GRID[np.argmin(expected.mean(axis=1))]
    assert model.best_score_ == pytest.approx(-expected.mean(axis=1).min(), rel=RTOL)


@pytest.mark.parametrize("how", ["fit-loo", "fit-gcv", "fit-3-fold", "partial_fit", "batches"])
def test_a_huge_target_offset_changes_only_the_intercept(how):
    """y + 1e9: the uncentered target sums once cancelled catastrophically (GCV chose
    the largest ridge, train errors came out 0); the targets are now shifted by
    their mean before the sums, and the fit is the fit of y, intercept + 1e9."""
    X, y = make_data(600, n_targets=2)
    s = make_weights(600)
    offset = np.array([1e9, -3e8])

    def fit(targets):
        cv = {"fit-gcv": "gcv", "fit-3-fold": 3}.get(how)
        model = make_model(48, alphas=GRID, cv=cv)
        if how == "partial_fit":
            for rows in np.array_split(np.arange(600), 3):
                model.partial_fit(X[rows], targets[rows], sample_weight=s[rows])
            return model
        if how == "batches":
            return model.fit(RowBatches.from_arrays(X, targets, s, batch_rows=250))
        return model.fit(X, targets, sample_weight=s)

    plain, shifted = fit(y), fit(y + offset)
    assert shifted.alpha_ == plain.alpha_
    for name in ["cv_results_", "train_errors_"]:
        np.testing.assert_allclose(getattr(shifted, name), getattr(plain, name), rtol=1e-6)
    scale = np.abs(plain.coef_).max()
    np.testing.assert_allclose(shifted.coef_, plain.coef_, rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(shifted.intercept_ - offset, plain.intercept_, atol=1e-6)


@pytest.mark.parametrize("cv", [None, "gcv"], ids=["loo", "gcv"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_scaling_the_weights_scales_the_chosen_alpha(shape, cv):
    """Weights times c is the same problem as alpha over c: the errors at c * alpha
    equal those at alpha, for leave-one-out and GCV (which once used sum_i s_i as
    its n and chose alpha = 0 for weights of 1/n), in memory and streamed."""
    n, D = SHAPES[shape]
    X, y = make_data(n)
    s = make_weights(n)
    reference = make_model(D, alphas=GRID, cv=cv).fit(X, y, sample_weight=s)
    for c in [1e-3, 1e3]:
        scaled = make_model(D, alphas=c * GRID, cv=cv).fit(X, y, sample_weight=c * s)
        # LOO is sum_i s_i e_i^2 / n (as RidgeCV), GCV is normalized by sum_i s_i.
        factor = c if cv is None else 1.0
        assert_close(scaled.cv_results_, factor * reference.cv_results_, what=f"c={c}")
        assert scaled.alpha_ == pytest.approx(c * reference.alpha_, rel=1e-12)
    streamed = make_model(D, alphas=1e3 * GRID).partial_fit(X, y, sample_weight=1e3 * s)
    gcv = make_model(D, alphas=GRID, cv="gcv").fit(X, y, sample_weight=s)
    assert_close(streamed.cv_results_, gcv.cv_results_, what="partial_fit GCV")


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_kfold_errors_match_a_hand_loop(shape, fit_intercept, weighted):
    n, D = SHAPES[shape]
    X, y = make_data(n)
    s = make_weights(n) if weighted else None
    model = make_model(D, alphas=GRID, cv=3, fit_intercept=fit_intercept)
    model.fit(X, y, sample_weight=s)
    expected = hand_kfold(explicit_features(model, X), y, s, GRID, fit_intercept)
    assert_close(model.cv_results_, expected, what="3-fold errors")
    assert model.alpha_ == GRID[np.argmin(expected)]


# ----------------------------------------------------------------------- streaming


@pytest.mark.parametrize("cv", [None, "gcv", 3], ids=["loo", "gcv", "3-fold"])
def test_chunk_size_does_not_change_the_fit(cv):
    """Any streaming block size gives the same fit (only the summation order changes)."""
    X, y = make_data(300, n_targets=2)
    s = make_weights(300)
    fits = {
        chunk_size: make_model(32, alphas=GRID, cv=cv, chunk_size=chunk_size).fit(
            X, y, sample_weight=s
        )
        for chunk_size in (1, 7, 1000, None)
    }
    reference = fits[None]
    for chunk_size, model in fits.items():
        what = f"chunk_size={chunk_size}"
        assert_close(model.coef_, reference.coef_, rtol=1e-10, what=f"coef_, {what}")
        assert_close(model.intercept_, reference.intercept_, rtol=1e-10, what=what)
        assert_close(model.cv_results_, reference.cv_results_, rtol=1e-10, what=what)
        assert_close(model.train_errors_, reference.train_errors_, rtol=1e-10, what=what)


# ------------------------------------------------------------------------- alpha = 0


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("rank", list(RANKS))
def test_alpha_zero_primal_is_the_minimum_norm_least_squares_fit(rank, fit_intercept, weighted):
    """Tall problems at alpha = 0: the pinv (and lstsq) solution on the centered, weighted Z."""
    kernel, n_features_in, bias = RANKS[rank]
    X, y = make_data(100, n_features_in=n_features_in)
    s = make_weights(100) if weighted else None
    model = RandomFeatureRidge(
        kernel,
        n_components=20,
        gamma=GAMMA,
        bias=bias,
        alphas=[0.0],
        fit_intercept=fit_intercept,
        random_state=SEED,
    ).fit(X, y, sample_weight=s)
    Z = explicit_features(model, X)
    coef, intercept = min_norm_fit(Z, y, s, fit_intercept)
    assert model.alpha_ == 0.0
    assert_close(model.coef_, coef, what="min-norm coef_")
    assert model.intercept_ == pytest.approx(intercept, rel=RTOL, abs=RTOL * np.abs(y).max())
    Zc, yc, _, _ = centered_system(Z, y, s, fit_intercept)
    assert_close(model.coef_, np.linalg.lstsq(Zc, yc, rcond=None)[0], what="lstsq coef_")
    assert np.all(np.isfinite(model.cv_results_))


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
def test_alpha_zero_dual_interpolates(fit_intercept):
    """Wide problems at alpha = 0: the minimum-norm interpolant, with finite LOO error."""
    n, D = SHAPES["wide"]
    X, y = make_data(n)
    s = make_weights(n)
    model = make_model(D, alphas=np.concatenate([[0.0], GRID]), fit_intercept=fit_intercept)
    model.fit(X, y, sample_weight=s)
    Z = explicit_features(model, X)
    assert model.alphas_[0] == 0.0
    assert model.train_errors_[0] <= 1e-12 * np.mean(y**2)
    assert np.all(np.diff(model.train_errors_) >= 0), "training error grows with alpha"
    assert np.all(np.isfinite(model.cv_results_)) and model.cv_results_[0] > 0
    single = make_model(D, alphas=[0.0], fit_intercept=fit_intercept).fit(X, y, sample_weight=s)
    coef, intercept = min_norm_fit(Z, y, s, fit_intercept)
    assert_close(single.coef_, coef, what="min-norm coef_")
    assert_close(single.intercept_, intercept, what="min-norm intercept_")
    assert_close(single.predict(X), y, what="interpolation")


@pytest.mark.parametrize("alpha", [0.0, 3e-9, "auto"])
def test_ill_conditioned_wide_fit_predicts_what_it_reports(alpha):
    """n < D, a smooth target, a (near-)zero ridge: the kernel's small eigenvalues are
    rounding-size, and their eigenvectors leak a component along the intercept
    direction that small ridges amplify. The coefficients must still give the
    training error the path reports (they were off by a factor of 1e12)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(300)
    alphas = alpha if alpha == "auto" else [alpha]
    model = RandomFeatureRidge(n_components=1024, alphas=alphas, random_state=0).fit(X, y)
    reported = model.train_errors_[model.alphas_ == model.alpha_].item()
    actual = np.mean((model.predict(X) - y) ** 2)
    assert actual <= 10 * reported + 1e-10 * np.var(y), (actual, reported, model.alpha_)
    if alpha != "auto":  # a (near-)interpolating classifier separates its training set
        labels = X[:, 0] > 0
        classifier = RandomFeatureRidgeClassifier(n_components=1024, alphas=alphas, random_state=0)
        assert classifier.fit(X, labels).score(X, labels) == 1.0


# ------------------------------------------------------------------ alphas="auto"


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_auto_alphas_span_the_gram_spectrum(shape, fit_intercept, weighted):
    n, D = SHAPES[shape]
    X, y = make_data(n)
    s = make_weights(n) if weighted else None
    model = make_model(D, fit_intercept=fit_intercept).fit(X, y, sample_weight=s)
    top = top_gram_eigenvalue(explicit_features(model, X), s, fit_intercept)
    alphas = model.alphas_
    assert alphas[0] == 0.0
    assert np.all(np.diff(alphas) > 0), "sorted, no duplicates"
    assert alphas[1] <= 1e-10 * top * (1 + 1e-9)
    assert alphas[-1] >= top
    assert model.alpha_ in alphas
    assert model.cv_results_.shape == alphas.shape


def test_alpha_per_target_equals_fitting_each_target_alone():
    n, D = SHAPES["tall"]
    X, Y = make_data(n, n_targets=3)
    Y[:, 2] = 5 * Y[:, 2] + 3 * np.random.default_rng(7).standard_normal(n)  # very noisy
    s = make_weights(n)
    model = make_model(D, alphas=GRID, alpha_per_target=True).fit(X, Y, sample_weight=s)
    assert model.alpha_.shape == (3,)
    assert model.best_score_.shape == (3,)
    assert len(set(model.alpha_)) > 1, "the targets must want different ridges"
    for k in range(3):
        alone = make_model(D, alphas=GRID).fit(X, Y[:, k], sample_weight=s)
        assert model.alpha_[k] == alone.alpha_
        assert model.best_score_[k] == pytest.approx(alone.best_score_, rel=RTOL)
        assert_close(model.coef_[k], alone.coef_, what=f"coef_ of target {k}")
        assert model.intercept_[k] == pytest.approx(alone.intercept_, rel=RTOL)
        assert_close(model.cv_results_[:, k], alone.cv_results_, what=f"LOO of target {k}")
    Z = explicit_features(model, X)
    oracle = RidgeCV(alphas=GRID, alpha_per_target=True).fit(Z, Y, sample_weight=s)
    np.testing.assert_array_equal(model.alpha_, oracle.alpha_)
    assert_close(model.coef_, oracle.coef_, what="coef_ vs RidgeCV(alpha_per_target=True)")


# ------------------------------------------------------------------ training errors


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_train_errors_are_the_training_mse_of_each_refit(shape, fit_intercept, weighted):
    """``train_errors_[a]`` is ``sum_i s_i r_i^2 / sum_i s_i`` of the refit at ``alphas[a]``.

    The path computes the residual sum as ``||y~||^2 - explained``, which loses
    ``eps ||y~||^2`` in absolute terms; the tolerance adds that allowance.
    """
    n, D = SHAPES[shape]
    X, y = make_data(n, n_targets=2)
    s = make_weights(n) if weighted else np.ones(n)
    model = make_model(D, alphas=GRID, fit_intercept=fit_intercept).fit(X, y, sample_weight=s)
    assert model.train_errors_.shape == (len(GRID), 2)
    for a, alpha in enumerate(GRID):
        refit = make_model(D, alphas=[alpha], fit_intercept=fit_intercept)
        refit.fit(X, y, sample_weight=s)
        mse = s @ (y - refit.predict(X)) ** 2 / s.sum()
        allowance = 1e-12 * np.max(s @ y**2) / s.sum()
        np.testing.assert_allclose(model.train_errors_[a], mse, rtol=RTOL, atol=allowance)


# --------------------------------------------------------------------------- threads
# Thread counts from RAYON_NUM_THREADS, at sizes where the core splits its work: see
# test_determinism.py.


def test_predictions_do_not_depend_on_n_jobs():
    X, y = make_data(500, n_targets=2)
    X_test, _ = make_data(200, seed=SEED + 5)
    fits = [make_model(64, alphas=GRID, n_jobs=n_jobs).fit(X, y) for n_jobs in (1, 2)]
    assert_close(fits[1].predict(X_test), fits[0].predict(X_test), rtol=1e-12, what="predict")
    assert_close(fits[1].cv_results_, fits[0].cv_results_, rtol=1e-12, what="cv_results_")
    assert fits[1].alpha_ == fits[0].alpha_


# ---------------------------------------------------------------- predict and verbose


@pytest.mark.parametrize("n_targets", [None, 2], ids=["y1d", "y2d"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_predict_is_z_coef_plus_intercept(shape, global_dtype, n_targets):
    """The chunked Rust prediction equals the explicit ``Z @ coef_.T + intercept_``.

    float32 inputs give float32 features and predictions; the bound is then a few
    float32 roundings of the terms, ``4 eps32 (|Z| @ |coef| + |intercept|)``.
    """
    dtype = global_dtype
    n, D = SHAPES[shape]
    X, y = make_data(n, n_targets=n_targets, dtype=dtype)
    X_test, _ = make_data(2500, dtype=dtype, seed=SEED + 3)
    model = make_model(D, alphas=GRID).fit(X, y)
    prediction = model.predict(X_test)
    assert prediction.dtype == dtype
    assert prediction.shape == ((2500,) if n_targets is None else (2500, n_targets))
    Z = explicit_features(model, X_test)
    coef = np.asarray(model.coef_).T
    expected = Z @ coef + model.intercept_
    if dtype == np.float64:
        assert_close(prediction, expected, rtol=1e-12, what="predict")
    else:
        bound = 4 * np.finfo(np.float32).eps * (np.abs(Z) @ np.abs(coef) + np.abs(model.intercept_))
        assert np.all(np.abs(prediction - expected) <= bound)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_verbose_prints_the_phases_to_stderr(shape, capsys):
    n, D = SHAPES[shape]
    X, y = make_data(n)
    make_model(D, alphas=GRID, chunk_size=30, verbose=2).fit(X, y)
    out, err = capsys.readouterr()
    assert out == ""
    assert "[RandomFeatureRidge]" in err
    assert "done: alpha_" in err
    if n >= D:
        for phase in ("pass 1", "eigendecomposition", "pass 2", f"{n}/{n} rows"):
            assert phase in err, phase
    else:
        assert "dual solve" in err


def test_verbose_zero_is_silent(capsys):
    X, y = make_data(90)
    make_model(24, alphas=GRID, chunk_size=30).fit(X, y)
    assert capsys.readouterr() == ("", "")


# ------------------------------------------------------------------------ classifier

LABELS = np.array(["cat", "dog", "emu", "fox"])


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("n_classes", [2, 4], ids=["binary", "multiclass"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_classifier_matches_sklearn_ridge_classifier_cv(shape, n_classes, weighted):
    n, D = SHAPES[shape]
    X, y = make_data(n)
    labels = LABELS[np.digitize(y, np.quantile(y, np.linspace(0, 1, n_classes + 1)[1:-1]))]
    s = make_weights(n) if weighted else None
    X_test, _ = make_data(50, seed=SEED + 9)
    clf = RandomFeatureRidgeClassifier(
        n_components=D, gamma=GAMMA, alphas=GRID, random_state=SEED
    ).fit(X, labels, sample_weight=s)
    Z = explicit_features(clf, X)
    oracle = RidgeClassifierCV(alphas=GRID, store_cv_results=True).fit(Z, labels, sample_weight=s)

    np.testing.assert_array_equal(clf.classes_, LABELS[:n_classes])
    np.testing.assert_array_equal(clf.classes_, oracle.classes_)
    assert clf.alpha_ == oracle.alpha_
    assert clf.best_score_ == pytest.approx(oracle.best_score_, rel=RTOL)
    expected_errors = oracle.cv_results_.mean(axis=0)
    assert_close(clf.cv_results_, expected_errors.reshape(-1, len(GRID)).T, what="LOO errors")
    # Binary: scikit-learn keeps coef_ (D,) and a scalar intercept_; ours are documented
    # as (1, D) and (1,), one row per decision function.
    assert clf.coef_.shape == (1 if n_classes == 2 else n_classes, D)
    assert clf.intercept_.shape == (clf.coef_.shape[0],)
    assert_close(clf.coef_, np.reshape(oracle.coef_, clf.coef_.shape), what="coef_")
    assert_close(clf.intercept_, np.reshape(oracle.intercept_, clf.intercept_.shape), what="b")
    Z_test = explicit_features(clf, X_test)
    scores = clf.decision_function(X_test)
    assert scores.shape == ((50,) if n_classes == 2 else (50, n_classes))
    assert_close(scores, oracle.decision_function(Z_test), what="decision_function")
    np.testing.assert_array_equal(clf.predict(X_test), oracle.predict(Z_test))
    assert set(clf.predict(X)) <= set(LABELS[:n_classes])


def test_classifier_rejects_a_single_class():
    X, _ = make_data(20)
    with pytest.raises(ValueError, match="at least 2 classes"):
        RandomFeatureRidgeClassifier(n_components=8).fit(X, np.full(20, "cat"))


def test_classifier_rejects_continuous_targets():
    X, y = make_data(20)
    with pytest.raises(ValueError, match="Unknown label type"):
        RandomFeatureRidgeClassifier(n_components=8).fit(X, y)


def test_errors_tied_to_rounding_select_the_largest_ridge():
    # Alphas deliberately unsorted: the tie rule compares ridges, not positions.
    alphas = np.array([0.0, 3.0, 1.0, 2.0, 10.0])
    tied = np.array([[1.0], [1.0 + 1e-14], [1.0], [1.0 - 1e-14], [2.0]])
    alpha, score, index = select_alpha(tied, alphas, alpha_per_target=False)
    assert alpha == 3.0 and index[0] == 1 and score == -tied[1, 0]
    distinct = np.array([[1.0], [1.0 + 1e-6], [1.0], [1.0 - 1e-6], [2.0]])
    assert select_alpha(distinct, alphas, alpha_per_target=False)[0] == 2.0
    per_target = np.hstack([tied, distinct])
    alpha, _, _ = select_alpha(per_target, alphas, alpha_per_target=True)
    np.testing.assert_array_equal(alpha, [3.0, 2.0])
    all_infinite = np.full((5, 1), np.inf)
    assert select_alpha(all_infinite, alphas, alpha_per_target=False)[0] == 10.0


# partial_fit: streamed statistics, alpha by GCV, solved when a result is first read.

SPLITS = {
    "one-batch": [],
    "halves": [500],
    "uneven-with-single-rows": [1, 2, 300, 301, 777],
}


def stream(model, X, y, cuts, **fit_params):
    """``model.partial_fit`` over the batches of rows cut at ``cuts``."""
    weights = fit_params.pop("sample_weight", None)
    for rows in np.split(np.arange(len(X)), cuts):
        batch_weights = None if weights is None else weights[rows]
        model.partial_fit(X[rows], y[rows], sample_weight=batch_weights, **fit_params)
    return model


@pytest.mark.parametrize("cuts", list(SPLITS.values()), ids=list(SPLITS))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_targets", [None, 2])
def test_partial_fit_equals_fit_with_gcv(cuts, fit_intercept, weighted, n_targets):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((1000, 4))
    y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(1000)
    if n_targets:
        y = np.column_stack([y, X[:, 1] ** 2])
    weights = rng.uniform(0.2, 3.0, 1000) if weighted else None
    params = dict(n_components=48, gamma=0.3, fit_intercept=fit_intercept, random_state=2)
    full = RandomFeatureRidge(cv="gcv", **params).fit(X, y, sample_weight=weights)
    streamed = stream(RandomFeatureRidge(**params), X, y, cuts, sample_weight=weights)
    assert streamed.alpha_ == pytest.approx(full.alpha_, rel=1e-12)
    np.testing.assert_allclose(streamed.cv_results_, full.cv_results_, rtol=1e-10)
    np.testing.assert_allclose(streamed.train_errors_, full.train_errors_, rtol=1e-10)
    scale = np.max(np.abs(full.coef_))
    np.testing.assert_allclose(streamed.coef_, full.coef_, rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(streamed.intercept_, full.intercept_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(streamed.predict(X[:7]), full.predict(X[:7]), rtol=1e-9)


def test_partial_fit_solves_eagerly_and_every_batch_counts():
    X, y = make_data(300, seed=1)
    model = RandomFeatureRidge(n_components=32, gamma=0.5, random_state=0)
    model.partial_fit(X[:200], y[:200])
    assert "coef_" in vars(model) and "alpha_" in vars(model)  # no work hidden in reads
    first_alpha, first_coef = model.alpha_, model.coef_.copy()
    model.partial_fit(X[200:], y[200:])
    assert not np.array_equal(model.coef_, first_coef) or model.alpha_ != first_alpha
    full = RandomFeatureRidge(n_components=32, gamma=0.5, cv="gcv", random_state=0).fit(X, y)
    np.testing.assert_allclose(model.coef_, full.coef_, rtol=1e-9, atol=1e-12)


def test_a_pickled_stream_continues_where_it_stopped():
    X, y = make_data(400, seed=2)
    model = RandomFeatureRidge(n_components=32, gamma=0.5, random_state=0)
    model.partial_fit(X[:150], y[:150])
    restored = pickle.loads(pickle.dumps(model))
    for m in (model, restored):
        m.partial_fit(X[150:], y[150:])
    np.testing.assert_array_equal(restored.coef_, model.coef_)


def test_partial_fit_after_fit_keeps_the_features_and_checks_the_columns():
    X, y = make_data(300, seed=3)
    model = RandomFeatureRidge(n_components=32, gamma=0.5, random_state=0).fit(X, y)
    weights = model.random_features_.random_weights_.copy()
    model.partial_fit(X[:100], y[:100])
    np.testing.assert_array_equal(model.random_features_.random_weights_, weights)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:10, :2], y[:10])


@pytest.mark.parametrize(
    "change",
    [
        {"n_components": 32},
        {"kernel": "laplacian"},
        {"gamma": 0.7},
        {"bias": 1.0},
        {"random_state": 1},
        {"sampling": "orthogonal"},
    ],
    ids=lambda change: next(iter(change)),
)
@pytest.mark.parametrize("after", ["fit", "partial_fit"])
def test_partial_fit_refuses_changed_feature_parameters(change, after):
    """The stream keeps the features it started with: a changed parameter is an
    error, not silently ignored."""
    X, y = make_data(60, seed=5)
    model = RandomFeatureRidge("rbf", n_components=16, gamma=0.5, random_state=0)
    getattr(model, after)(X, y)
    model.set_params(**change)
    with pytest.raises(ValueError, match=f"{next(iter(change))} changed from"):
        model.partial_fit(X, y)
    model.set_params(fit_intercept=False)  # a solver setting: applied at the next solve
    model.fit(X, y).set_params(**change).fit(X, y).partial_fit(X, y)


@pytest.mark.parametrize(
    ("make", "first", "then", "match"),
    [
        (lambda: RandomFeatureRidge(cv=3), ("1-d",), None, "GCV"),
        (lambda: RandomFeatureRidge(), ("1-d",), ("2-d",), "target"),
        (lambda: RandomFeatureRidgeClassifier(), ("labels", None), None, "classes must be given"),
        (lambda: RandomFeatureRidgeClassifier(), ("labels", [0]), None, "at least 2 classes"),
        (lambda: RandomFeatureRidgeClassifier(), ("labels", [0, 1]), ("labels", [0, 2]), "differs"),
        (lambda: RandomFeatureRidgeClassifier(), ("labels", [0, 1]), ("unknown", None), "not in"),
    ],
)
def test_partial_fit_rejects_inconsistent_batches(make, first, then, match):
    X, y = make_data(40, seed=4)
    labels = (y > np.median(y)).astype(int)
    batches = {
        "1-d": lambda: {"y": y},
        "2-d": lambda: {"y": np.column_stack([y, y])},
        "labels": lambda classes: {"y": labels, "classes": classes},
        "unknown": lambda classes: {"y": labels + 5},
    }

    def call(model, spec):
        name, *arguments = spec
        model.partial_fit(X, **batches[name](*arguments))

    model = make().set_params(n_components=16, random_state=0)
    if then is None:
        with pytest.raises(ValueError, match=match):
            call(model, first)
    else:
        call(model, first)
        with pytest.raises(ValueError, match=match):
            call(model, then)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_partial_fit_equals_fit_with_gcv(n_classes):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((600, 4))
    names = np.array(["ant", "bee", "cat"][:n_classes])
    labels = names[np.digitize(X[:, 0], np.quantile(X[:, 0], [1 / 3, 2 / 3])) % n_classes]
    params = dict(n_components=40, gamma=0.4, random_state=1)
    full = RandomFeatureRidgeClassifier(cv="gcv", **params).fit(X, labels)
    streamed = RandomFeatureRidgeClassifier(**params)
    streamed.partial_fit(X[:250], labels[:250], classes=names[::-1])
    streamed.partial_fit(X[250:], labels[250:])
    np.testing.assert_array_equal(streamed.classes_, full.classes_)
    assert streamed.alpha_ == pytest.approx(full.alpha_, rel=1e-12)
    np.testing.assert_allclose(streamed.coef_, full.coef_, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(streamed.predict(X), full.predict(X))
