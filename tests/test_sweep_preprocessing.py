"""The sweeps on data as users have it: preprocessing, a kernel line at any size, gamma="loo".

Oracles: the same sweep on data preprocessed by hand (the preprocessing must be
exactly that, learned on the training pool only), ``KernelRidge`` fitted from scratch
on the kernel line's subsample, and ``KernelRidge``'s own leave-one-out errors for
every gamma the search tries.
"""

import dataclasses
import warnings

import numpy as np
import pytest
from rfkernels import KernelRidge
from rfkernels.sweep import sample_sweep, width_sweep
from rfkernels.sweep._gamma_search import GAMMA_FACTORS
from test_sweep import GRID, RTOL, SEEDS, assert_close, make_data

N_POOL, N_TEST = 200, 100
# Columns on very different scales, and targets far from 0: what standardize is for.
COLUMN_SCALES = np.array([1.0, 10.0, 1e3, 0.01, 1e5])
TARGET_OFFSET = 3900.0
KEYWORDS = dict(alphas=GRID, seeds=SEEDS, theory=False, progress=False)


def raw_data():
    X, y = make_data(seed=3, n=N_POOL + N_TEST)
    X, y = X * COLUMN_SCALES + 7.0, 100.0 * y + TARGET_OFFSET
    return X[:N_POOL], y[:N_POOL], X[N_POOL:], y[N_POOL:]


def by_hand(columns, scale_target=False):
    """The pool's means and deviations applied to pool and test, as standardize does."""
    X, y, X_test, y_test = raw_data()
    mean, std = X.mean(axis=0), X.std(axis=0)
    mean[~columns], std[~columns] = 0.0, 1.0
    center, scale = y.mean(), (y.std() if scale_target else 1.0)
    return (X - mean) / std, (y - center) / scale, (X_test - mean) / std, (y_test - center) / scale


def sweeps(columns, standardize, scale_target=False):
    """The sweep with ``standardize``, and the same sweep on data preprocessed by hand."""
    X, y, X_test, y_test = raw_data()
    test = dict(n_samples=120, exact_kernel=True, **KEYWORDS)
    ours = width_sweep(
        X, y, [16, 256], X_test=X_test, y_test=y_test, standardize=standardize,
        scale_target=scale_target, **test,
    )  # fmt: skip
    Xh, yh, Xh_test, yh_test = by_hand(columns, scale_target)
    theirs = width_sweep(Xh, yh, [16, 256], X_test=Xh_test, y_test=yh_test, **test)
    return ours, theirs


@pytest.mark.parametrize(
    ("standardize", "scale_target"),
    [(True, False), ([True, False, True, False, True], False), (True, True)],
    ids=["all-columns", "mask", "scaled-target"],
)
def test_standardize_is_preprocessing_learned_on_the_training_pool(standardize, scale_target):
    columns = np.broadcast_to(np.asarray(standardize), (5,))
    ours, theirs = sweeps(columns, standardize, scale_target)
    assert ours.fixed["gamma"] == pytest.approx(theirs.fixed["gamma"], rel=1e-12)
    # The two sides round the column means differently (a slice against the whole
    # array), which the minimum-norm fits at ridge 0 amplify: 1e-4 there, 1e-8 elsewhere.
    for name in ("train", "test", "loo", "kernel_train", "kernel_test", "kernel_loo"):
        actual, expected = getattr(ours, name), getattr(theirs, name)
        error = np.abs(actual - expected) / np.abs(expected).max(axis=-1, keepdims=True)
        assert error[..., 0].max() < 1e-4 and error[..., 1:].max() < 1e-8, (name, error.max())
    preprocessing = ours.fixed["preprocessing"]
    assert preprocessing.standardized.tolist() == columns.tolist()
    assert preprocessing.centers_targets and preprocessing.scales_targets == scale_target
    _, y, _, y_test = raw_data()
    scale = y.std() ** 2 if scale_target else 1.0
    baseline = np.mean((y_test - y.mean()) ** 2) / scale
    assert ours.fixed["baseline_test"] == pytest.approx(baseline, rel=1e-12)


def test_standardized_sweep_learns_what_the_raw_one_cannot():
    """The issue's symptom: raw columns and an uncentered target leave the test MSE flat."""
    X, y, X_test, y_test = raw_data()
    keywords = dict(X_test=X_test, y_test=y_test, exact_kernel=False, **KEYWORDS)
    raw = width_sweep(X, y, [8, 64, 256], **keywords).tuned()["test"]
    ours = width_sweep(X, y, [8, 64, 256], standardize=True, **keywords).tuned()["test"]
    baseline = np.mean((y_test - y.mean()) ** 2)
    assert ours[-1] < 0.2 * baseline < raw[-1]
    assert np.all(np.diff(ours) < 0)


def test_header_states_the_preprocessing():
    ours, theirs = sweeps(np.ones(5, bool), True)
    header = ours.table().splitlines()[2]
    assert header.startswith("Preprocessing, learned on the training pool: every feature column")
    assert f"targets centered (mean {raw_data()[1].mean():,.4g} subtracted)" in header
    assert "Predicting the training mean scores test MSE" in header
    masked, _ = sweeps(np.array([True, False, True, False, True]), [True, False, True, False, True])
    assert "3 of the 5 feature columns standardized" in masked.table()
    assert "Preprocessing: none, features and targets as given." in theirs.table()
    scaled, _ = sweeps(np.ones(5, bool), True, scale_target=True)
    assert "targets standardized" in scaled.table() and "units of the target variance" in (
        scaled.table()
    )


# --------------------------------------------------------------------------- kernel line


def test_auto_kernel_on_a_subsample_is_kernel_ridge_on_those_rows():
    X, y, X_test, y_test = raw_data()
    keywords = dict(X_test=X_test, y_test=y_test, standardize=True, **KEYWORDS)
    with pytest.warns(UserWarning, match=r"fitted on a random 60 of the 200 training rows"):
        result = width_sweep(X, y, [16, 64], n_kernel=60, **keywords)
    assert result.fixed["n_kernel"] == 60 and result.fixed["exact_kernel"] == "auto"
    assert "Kernel line: fitted on a random 60 of the 200 training rows" in result.table()
    assert "kernel ridge on 60 rows" in result.summary()
    Xh, yh, Xh_test, yh_test = by_hand(np.ones(5, bool))
    rows = np.random.default_rng(0).permutation(N_POOL)[:60]  # the same for every seed
    model = KernelRidge(gamma=result.fixed["gamma"], alphas=GRID, fit_intercept=False).fit(
        Xh[rows], yh[rows]
    )
    for s in range(len(SEEDS)):
        assert_close(result.kernel_loo[s, 0], model.cv_results_, "kernel LOO on the subsample")
    gamma = result.fixed["gamma"]
    test = [
        np.mean((KernelRidge(gamma=gamma, alphas=[alpha], fit_intercept=False)
                 .fit(Xh[rows], yh[rows]).predict(Xh_test) - yh_test) ** 2)
        for alpha in GRID
    ]  # fmt: skip
    assert_close(result.kernel_test[0, 0], test, "kernel test MSE on the subsample")


def test_auto_kernel_of_a_sample_sweep_stops_at_n_kernel():
    X, y, X_test, y_test = raw_data()
    keywords = dict(X_test=X_test, y_test=y_test, n_components=32, **KEYWORDS)
    with pytest.warns(UserWarning, match=r"at the sizes up to 100 rows only"):
        auto = sample_sweep(X, y, [40, 100, 200], n_kernel=150, **keywords)
    full = sample_sweep(X, y, [40, 100, 200], exact_kernel=True, **keywords)
    np.testing.assert_array_equal(auto.kernel_test[:, :2], full.kernel_test[:, :2])
    assert np.isnan(auto.kernel_test[:, 2]).all() and auto.fixed["n_kernel"] == 100
    assert np.isnan(auto.tuned()["kernel_test"][2])
    assert "Kernel line: fitted at the sizes up to n = 100" in auto.table()
    with pytest.warns(UserWarning, match=r"skipped: every size is above the 30 rows"):
        none = sample_sweep(X, y, [40, 100], n_kernel=30, **keywords)
    assert none.kernel_test is None and none.fixed["n_kernel"] is None


def test_auto_kernel_fits_in_the_memory_there_is(monkeypatch):
    # 512 KiB free: half of it holds four 90 x 90 float64 matrices (not 91 x 91).
    for module in ("rfkernels.sweep._inputs", "rfkernels._memory"):
        monkeypatch.setattr(f"{module}.available_memory_bytes", lambda: 2**19)
    X, y, X_test, y_test = raw_data()
    keywords = dict(X_test=X_test, y_test=y_test, **KEYWORDS)
    with pytest.warns(UserWarning, match=r"a random 90 of the 200"):
        result = width_sweep(X, y, [16], **keywords)
    assert result.fixed["n_kernel"] == 90
    with pytest.raises(MemoryError, match=r"pass exact_kernel='auto' to fit the kernel on a sub"):
        width_sweep(X, y, [16], exact_kernel=True, **keywords)
    with pytest.raises(MemoryError, match=r"theory's eigendecomposition.*lower n_eigen"):
        width_sweep(X, y, [16], exact_kernel=False, **{**keywords, "theory": True})


def test_auto_kernel_on_all_rows_is_the_exact_kernel_without_a_warning():
    X, y, X_test, y_test = raw_data()
    keywords = dict(X_test=X_test, y_test=y_test, n_samples=120, **KEYWORDS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = width_sweep(X, y, [16], **keywords)
    full = width_sweep(X, y, [16], exact_kernel=True, **keywords)
    np.testing.assert_array_equal(auto.kernel_test, full.kernel_test)
    assert "Kernel line" not in auto.table()
    skipped = width_sweep(X, y, [16], exact_kernel=False, **keywords)
    assert "Kernel line: not computed." in skipped.table()


# --------------------------------------------------------------------------- gamma


def test_gamma_loo_takes_the_candidate_of_least_leave_one_out_error():
    X, y, X_test, y_test = raw_data()
    keywords = dict(X_test=X_test, y_test=y_test, exact_kernel=False, **KEYWORDS)
    result = width_sweep(X, y, [16], gamma="loo", standardize=True, **keywords)
    scale = width_sweep(X, y, [16], standardize=True, **keywords)
    search = result.fixed["gamma_search"]
    assert result.fixed["gamma_rule"] == "loo" and scale.fixed["gamma_rule"] == "scale"
    assert search.scale == scale.fixed["gamma"] and search.n_rows == N_POOL
    np.testing.assert_allclose(search.candidates, scale.fixed["gamma"] * GAMMA_FACTORS)
    Xh, yh, _, _ = by_hand(np.ones(5, bool))
    rows = np.random.default_rng(0).permutation(N_POOL)
    for gamma, loo in zip(search.candidates, search.loo, strict=True):
        model = KernelRidge(gamma=gamma, alphas=GRID, fit_intercept=False).fit(Xh[rows], yh[rows])
        assert loo == pytest.approx(np.nanmin(model.cv_results_), rel=RTOL[1])
    assert result.fixed["gamma"] == search.candidates[np.argmin(search.loo)]
    assert "Gamma: leave-one-out of kernel ridge on 200 training rows chose" in result.table()
    assert "chosen by leave-one-out" in result.table().splitlines()[1]
    # The choice is the scale of every fit that follows.
    by_gamma = width_sweep(X, y, [16], gamma=search.gamma, standardize=True, **keywords)
    np.testing.assert_allclose(result.test, by_gamma.test, rtol=1e-12)
    assert by_gamma.fixed["gamma_search"] is None and by_gamma.fixed["gamma_rule"] == "given"


def test_gamma_loo_ties_go_to_the_scale_rule():
    """The linear kernel without bias only rescales with gamma: every candidate ties."""
    X, y, X_test, y_test = raw_data()
    result = width_sweep(
        X, y, [16], kernel="linear", gamma="loo", standardize=True, X_test=X_test,
        y_test=y_test, exact_kernel=False, **{**KEYWORDS, "alphas": "auto"},
    )  # fmt: skip
    search = result.fixed["gamma_search"]
    assert search.gamma == search.scale and not search.at_edge


# --------------------------------------------------------------------------- errors

BAD = [
    (dict(standardize=[True, False]), ValueError, r"standardize must be a bool or a boolean mask"),
    (dict(standardize="yes"), ValueError, r"standardize must be a bool"),
    (dict(scale_target="yes"), ValueError, r"scale_target must be a bool"),
    (dict(exact_kernel="always"), ValueError, r"exact_kernel must be 'auto', True or False"),
    (dict(exact_kernel=None), ValueError, r"exact_kernel must be 'auto', True or False"),
    (dict(n_kernel=1), ValueError, r"n_kernel must be >= 2"),
    (dict(n_kernel=2.5), ValueError, r"n_kernel must be an integer or None"),
    (dict(gamma="best"), ValueError, r"gamma must be 'scale', 'loo' or a positive number"),
]


@pytest.mark.parametrize(("keywords", "error", "match"), BAD, ids=[m for _, _, m in BAD])
def test_bad_preprocessing_and_kernel_options_raise(keywords, error, match):
    X, y, _, _ = raw_data()
    with pytest.raises(error, match=match):
        width_sweep(X, y, [8], **{**KEYWORDS, **keywords})


def test_result_without_the_new_settings_still_reports():
    """A SweepResult whose ``fixed`` predates preprocessing (pickled, or built by hand)."""
    X, y, X_test, y_test = raw_data()
    result = width_sweep(X, y, [8], X_test=X_test, y_test=y_test, **KEYWORDS)
    old = {k: v for k, v in result.fixed.items() if k not in ("preprocessing", "n_kernel")}
    text = dataclasses.replace(result, fixed=old).table()
    assert "Preprocessing" not in text and "Kernel line" not in text


def test_theory_beyond_its_eigenstructure_is_called_an_extrapolation():
    X, y, X_test, y_test = raw_data()
    keywords = dict(X_test=X_test, y_test=y_test, exact_kernel=False, progress=False)
    beyond = width_sweep(X, y, [8], n_eigen=100, seeds=(0,), **keywords).table()
    assert "measured on 100 training rows; its predictions hold for n well below that (here " in (
        beyond
    )
    assert "(here n = 200: the predictions are extrapolations, not a check)." in beyond
    within = width_sweep(X, y, [8], n_samples=80, n_eigen=100, seeds=(0,), **keywords).table()
    assert "extrapolation" not in within
