"""rfkernels.sweep against independent fits, the theory, and its own reports.

The oracle of every risk in a sweep is the public estimator fitted from scratch on
the same rows: ``RandomFeatureRidge(n_components=k, random_state=seed, ...)`` for the
random features (its ``cv_results_``, ``train_errors_`` and, refitted with a single
alpha, its test predictions), ``KernelRidge`` for the infinite width, and direct
calls of ``rf_risk``/``krr_risk`` for the theory. The sweeps reach the same numbers
another way (nested features: leading blocks of one Gram or one kernel matrix,
running Gram statistics over nested training sets), so agreement to rounding is a
real check.

Tolerance: ``assert_close`` is normwise (error over the largest expected entry). At
positive ridges it is 1e-8, as in tests/test_ridge.py: the smallest positive ridge
(1e-3) against top Gram eigenvalues of 10 to 100 bounds the condition numbers by
~1e5, and the two sides differ only by the rounding of the nested Gram (a few ulps).
At ridge 0 the minimum-norm fits are as ill-conditioned as the matrices themselves
(centered ``Z Z^T`` up to ~6e5 for the dual widths here), and the test errors of the
two sides differ by up to ~5e-9, so ridge 0 gets 1e-6. Any real mistake (a wrong
width scale, rows or ridge) shows at 1e-3 or more.
"""

import dataclasses
import functools
import sys

import numpy as np
import pytest
from rfkernels import KernelRidge, RandomFeatureRidge, RandomFeatures
from rfkernels._engine.features import FeatureArrays
from rfkernels._engine.passes import ArrayRows, gram_statistics
from rfkernels.sweep import SweepResult, ridge_path, ridge_sweep, sample_sweep, width_sweep
from rfkernels.theory import estimate_eigenstructure, krr_risk, rf_risk
from sklearn.model_selection import train_test_split
from test_science import C, assert_non_increasing, paired_change

N_POOL, N_TEST, N_FEATURES = 200, 100, 5
N_SAMPLES = 120  # training rows of the width sweeps: 16 and 48 primal, 256 and 512 dual
WIDTHS = (16, 48, 256, 512)
SIZES = (40, 100, 200)  # training sizes of the sample sweeps at width 64: dual, primal, primal
SAMPLE_WIDTH = 64
SEEDS = (0, 1)
GRID = np.array([0.0, 1e-3, 0.1, 1.0, 10.0])
RTOL = np.where(GRID == 0, 1e-6, 1e-8)  # per ridge of GRID, see the module docstring
# (kernel, kernel parameters, fit_intercept)
CONFIGS = {
    "rbf": ("rbf", {}, False),
    "rbf-sincos-intercept": ("rbf", {"fourier": "sincos"}, True),
    "relu-bias-intercept": ("relu", {"bias": 0.5}, True),
    "rbf-orthogonal": ("rbf", {"sampling": "orthogonal"}, False),
    "rbf-sincos-structured": ("rbf", {"fourier": "sincos", "sampling": "structured"}, True),
}


def make_data(seed=0, n=N_POOL + N_TEST, n_outputs=1):
    """x ~ N(0, I_5), y = sum_i sin(x_i) + N(0, 0.3^2) (the first output; others shifted)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_FEATURES))
    Y = np.stack(
        [np.sin(X + k).sum(axis=1) + 0.3 * rng.standard_normal(n) for k in range(n_outputs)],
        axis=1,
    )
    return X, Y[:, 0] if n_outputs == 1 else Y


@functools.cache
def data():
    X, y = make_data()
    return X[:N_POOL], y[:N_POOL], X[N_POOL:], y[N_POOL:]


def assert_close(actual, expected, what):
    """Entry ``a`` within ``RTOL[a]`` times the largest expected entry."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, what
    scale = np.max(np.abs(expected))
    error = np.abs(actual - expected)
    bad = error > RTOL[: len(error)] * scale
    assert not bad.any(), f"{what}: errors {error[bad]} at alphas {GRID[bad]}, scale {scale:.3g}"


def rows_of(seed, n):
    """The training rows the sweeps draw for ``seed`` (documented in width_sweep)."""
    return np.random.default_rng(seed).permutation(N_POOL)[:n]


@functools.cache
def widths_result(config, theory=False, exact_kernel=False):
    kernel, params, fit_intercept = CONFIGS[config]
    X, y, X_test, y_test = data()
    return width_sweep(
        X, y, WIDTHS, n_samples=N_SAMPLES, X_test=X_test, y_test=y_test, kernel=kernel,
        alphas=GRID, seeds=SEEDS, fit_intercept=fit_intercept, exact_kernel=exact_kernel,
        theory=theory, progress=False, **params,
    )  # fmt: skip


@functools.cache
def sizes_result(config, exact_kernel=False):
    kernel, params, fit_intercept = CONFIGS[config]
    X, y, X_test, y_test = data()
    return sample_sweep(
        X, y, SIZES, n_components=SAMPLE_WIDTH, X_test=X_test, y_test=y_test, kernel=kernel,
        alphas=GRID, seeds=SEEDS, fit_intercept=fit_intercept, exact_kernel=exact_kernel,
        theory=False, progress=False, **params,
    )  # fmt: skip


def check_against_estimator(result, config, seed_index, value_index, width, rows):
    """The sweep's risks at one (seed, value) against RandomFeatureRidge fitted from scratch."""
    kernel, params, fit_intercept = CONFIGS[config]
    X, y, X_test, y_test = data()
    seed = SEEDS[seed_index]

    def model(alphas):
        return RandomFeatureRidge(
            kernel, n_components=width, gamma=result.fixed["gamma"], alphas=alphas,
            random_state=seed, fit_intercept=fit_intercept, **params,
        ).fit(X[rows], y[rows])  # fmt: skip

    where = f"{config}, seed {seed}, {result.parameter}={result.values[value_index]}"
    full = model(GRID)
    assert_close(result.loo[seed_index, value_index], full.cv_results_, f"LOO, {where}")
    assert_close(result.train[seed_index, value_index], full.train_errors_, f"train, {where}")
    test = [np.mean((model([alpha]).predict(X_test) - y_test) ** 2) for alpha in GRID]
    assert_close(result.test[seed_index, value_index], test, f"test, {where}")


# --------------------------------------------------------------------------- engine


def test_leading_statistics_are_those_of_the_narrower_map():
    X, y, _, _ = data()
    Y, ones = y[:, None], np.ones(len(y))
    stats = {}
    for width in (24, 96):
        features = RandomFeatures(n_components=width, random_state=3, gamma=0.2).fit(X)
        rows = ArrayRows(X, Y, ones, 64)
        arrays = FeatureArrays.of(features)
        stats[width] = gram_statistics(
            rows, arrays, 1, shift=np.zeros(1), chunk_rows=64, n_jobs=None
        )
    narrow = stats[96].leading(24)
    for name in ("gram", "cross", "feature_sums", "target_sums", "target_squares"):
        expected = np.tril(getattr(stats[24], name))
        np.testing.assert_allclose(
            np.tril(getattr(narrow, name)), expected, rtol=0, atol=1e-13 * np.abs(expected).max()
        )
    assert (narrow.weight_sum, narrow.n_samples) == (stats[24].weight_sum, stats[24].n_samples)


@pytest.mark.parametrize("config", list(CONFIGS))
def test_width_sweep_equals_independent_fits(config):
    result = widths_result(config)
    assert result.values.tolist() == list(WIDTHS)
    # Two widths on each path: nested primal Grams and nested dual kernels.
    assert WIDTHS[1] < N_SAMPLES < WIDTHS[2]
    for s, seed in enumerate(SEEDS):
        for v, width in enumerate(WIDTHS):
            check_against_estimator(result, config, s, v, width, rows_of(seed, N_SAMPLES))


@pytest.mark.parametrize("config", ["rbf", "rbf-sincos-intercept"])
def test_sample_sweep_equals_independent_fits(config):
    result = sizes_result(config)
    assert result.values.tolist() == list(SIZES)
    assert SIZES[0] < SAMPLE_WIDTH < SIZES[1]  # both the dual and the primal path
    for s, seed in enumerate(SEEDS):
        for v, size in enumerate(SIZES):
            check_against_estimator(result, config, s, v, SAMPLE_WIDTH, rows_of(seed, size))


def check_kernel(result, config, seed_index, value_index, rows):
    kernel, params, fit_intercept = CONFIGS[config]
    X, y, X_test, y_test = data()

    def model(alphas):
        return KernelRidge(
            kernel, gamma=result.fixed["gamma"], bias=params.get("bias", 0.0), alphas=alphas,
            fit_intercept=fit_intercept,
        ).fit(X[rows], y[rows])  # fmt: skip

    where = f"kernel, {config}, seed index {seed_index}, value index {value_index}"
    full = model(GRID)
    assert_close(result.kernel_loo[seed_index, value_index], full.cv_results_, f"LOO, {where}")
    assert_close(result.kernel_train[seed_index, value_index], full.train_errors_, where)
    test = [np.mean((model([alpha]).predict(X_test) - y_test) ** 2) for alpha in GRID]
    assert_close(result.kernel_test[seed_index, value_index], test, f"test, {where}")


@pytest.mark.parametrize("config", ["rbf", "relu-bias-intercept"])
def test_kernel_line_equals_kernel_ridge(config):
    widths = widths_result(config, exact_kernel=True)
    for s, seed in enumerate(SEEDS):
        check_kernel(widths, config, s, 0, rows_of(seed, N_SAMPLES))
        # A width sweep's kernel line is the same for every width.
        assert (widths.kernel_test[s] == widths.kernel_test[s, 0]).all()
    sizes = sizes_result(config, exact_kernel=True)
    for s, seed in enumerate(SEEDS):
        for v, size in enumerate(SIZES):
            check_kernel(sizes, config, s, v, rows_of(seed, size))


def test_whole_pool_uses_every_row_for_every_seed():
    X, y, X_test, y_test = data()
    result = width_sweep(
        X, y, [32], X_test=X_test, y_test=y_test, alphas=GRID, seeds=(4, 7), theory=False,
        progress=False,
    )  # fmt: skip
    assert result.fixed["n_samples"] == N_POOL
    # Same rows (the kernel is fitted once), different features.
    assert np.array_equal(result.kernel_test[0], result.kernel_test[1])
    assert not np.allclose(result.test[0], result.test[1])
    model = RandomFeatureRidge(
        n_components=32, gamma=result.fixed["gamma"], alphas=GRID, random_state=7,
        fit_intercept=False,
    ).fit(X, y)  # fmt: skip
    assert_close(result.loo[1, 0], model.cv_results_, "LOO on the whole pool")


# --------------------------------------------------------------------------- theory


@functools.cache
def theory_result(n_outputs):
    X, Y = make_data(seed=1, n=N_POOL + N_TEST, n_outputs=1)
    if n_outputs == 2:
        Y = np.stack([Y, 2.0 * Y], axis=1)  # risks of the second output are 4 times the first
    return width_sweep(
        X, Y, (16, 64, 256), n_samples=N_SAMPLES, alphas=GRID, seeds=(0,), n_eigen=120,
        exact_kernel=False, progress=False,
    )  # fmt: skip


def test_theory_equals_direct_calls():
    result = theory_result(1)
    X, y = make_data(seed=1, n=N_POOL + N_TEST)
    # The sweep splits off a quarter of the rows as the test set (random_state=0).
    X_pool, _, y_pool, _ = train_test_split(X, y, test_size=0.25, random_state=0)
    eigen = estimate_eigenstructure(
        X_pool, y_pool, n=120, random_state=0, gamma=result.fixed["gamma"]
    )
    widths, ridges = result.values[:, None], result.alphas[None, :]
    rf = rf_risk(eigen.eigenvalues, eigen.target_coeffs, n=N_SAMPLES, k=widths, ridge=ridges)
    krr = krr_risk(eigen.eigenvalues, eigen.target_coeffs, n=N_SAMPLES, ridge=ridges)
    # Bisection halves all points together until the last converges: a different
    # set of points can move a result by an ulp.
    np.testing.assert_allclose(result.theory_test, rf.test, rtol=1e-12)
    np.testing.assert_allclose(result.theory_train, rf.train, rtol=1e-12)
    np.testing.assert_allclose(
        result.theory_kernel_test, np.broadcast_to(krr.test, rf.test.shape), rtol=1e-12
    )
    np.testing.assert_allclose(
        result.theory_kernel_train, np.broadcast_to(krr.train, rf.test.shape), rtol=1e-12
    )
    assert (result.fixed["eigen_alpha"], result.fixed["eigen_beta"]) == (eigen.alpha, eigen.beta)
    assert result.fixed["n_eigen"] == 120


def test_theory_and_risks_are_means_over_outputs():
    single, double = theory_result(1), theory_result(2)
    assert double.fixed["n_outputs"] == 2
    # Outputs y and 2 y: every squared error of the second is 4 times the first's, so
    # the mean over outputs is 2.5 times the single-output risk, in the experiment and
    # in the theory (which sums the squared coefficients over outputs).
    for name in ("train", "test", "loo", "theory_train", "theory_test", "theory_kernel_test"):
        np.testing.assert_allclose(getattr(double, name), 2.5 * getattr(single, name), rtol=1e-9)


# --------------------------------------------------------------------------- result object


@functools.cache
def full_result():
    """A small width sweep with kernel and theory, and the auto grid."""
    X, y, X_test, y_test = data()
    return width_sweep(
        X, y, (16, 64), n_samples=100, X_test=X_test, y_test=y_test, seeds=(0, 1, 2),
        n_eigen=150, progress=False,
    )  # fmt: skip


def test_a_huge_target_offset_leaves_the_errors_with_an_intercept():
    """Targets + 1e8 with fit_intercept: every error as for the targets themselves
    (the uncentered sums once cancelled: train MSE 12.3 instead of 0.01)."""
    X, y, X_test, y_test = data()
    plain, shifted = (
        width_sweep(
            X, y + offset, [16, 64], X_test=X_test, y_test=y_test + offset, seeds=[0],
            fit_intercept=True, progress=False,
        )
        for offset in (0.0, 1e8)
    )  # fmt: skip
    for name in ("train", "test", "loo", "kernel_train", "kernel_test", "kernel_loo"):
        np.testing.assert_allclose(getattr(shifted, name), getattr(plain, name), rtol=1e-6)


def test_shapes_and_fixed_settings():
    result = full_result()
    n_alphas = len(result.alphas)
    for name in ("train", "test", "loo", "kernel_train", "kernel_test", "kernel_loo"):
        assert getattr(result, name).shape == (3, 2, n_alphas), name
    for name in ("theory_train", "theory_test", "theory_kernel_train", "theory_kernel_test"):
        assert getattr(result, name).shape == (2, n_alphas), name
    assert result.alphas[0] == 0 and np.all(np.diff(result.alphas) > 0)
    # auto: 4 ridges per decade from 1e-6 n to 10 n (K(x, x) = 1 for rbf), and 0.
    assert n_alphas == 30
    np.testing.assert_allclose(result.alphas[[1, -1]], [1e-6 * 100, 10 * 100])
    gamma = 1 / (N_FEATURES * data()[0].var())
    assert result.fixed["gamma"] == pytest.approx(gamma)
    preprocessing, baseline = result.fixed["preprocessing"], result.fixed["baseline_test"]
    assert result.fixed | {"gamma": 0, "eigen_alpha": 0, "eigen_beta": 0} == {
        "kernel": "rbf", "gamma": 0, "bias": 0.0, "fourier": "cos", "sampling": "iid",
        "feature_map": "random",
        "n_samples": 100,
        "n_eigen": 150, "eigen_alpha": 0, "eigen_beta": 0, "n_pool": N_POOL, "n_test": N_TEST,
        "n_outputs": 1, "seeds": (0, 1, 2), "fit_intercept": False, "gamma_rule": "scale",
        "gamma_search": None, "preprocessing": preprocessing, "baseline_test": baseline,
        "exact_kernel": "auto", "n_kernel": 100,
    }  # fmt: skip
    # By default nothing is preprocessed; the baseline is the training mean's test MSE.
    assert not preprocessing.standardized.any() and not preprocessing.centers_targets
    _, y_pool, _, y_test = data()
    assert baseline == pytest.approx(np.mean((y_test - y_pool.mean()) ** 2))
    assert result.default_plot == "tuned"
    assert "n_components=[16, 64]" in repr(result)


def test_tuned_breaks_ties_toward_the_larger_ridge_and_averages_over_seeds():
    base = full_result()
    n_alphas = len(base.alphas)
    loo = np.full(base.loo.shape, 5.0)
    loo[0, 0, [3, 7]] = 1.0  # a tie: the larger ridge (index 7) wins
    loo[1, 0, 2] = 1.0
    loo[2, 0, 9] = 1.0
    loo[:, 1, 4] = 1.0
    loo[0, 1, 4] = 1.0 + 1e-13  # within the relative tie tolerance: still a tie
    loo[0, 1, 6] = 1.0
    kernel_loo = np.full(base.loo.shape, 5.0)
    kernel_loo[:, :, 11] = 0.5
    rng = np.random.default_rng(0)
    result = dataclasses.replace(
        base,
        loo=loo,
        kernel_loo=kernel_loo,
        test=rng.uniform(size=base.test.shape),
        theory_test=rng.uniform(size=(2, n_alphas)),
    )
    index = result.tuned_index()
    np.testing.assert_array_equal(index, [[7, 6], [2, 4], [9, 4]])
    tuned = result.tuned()
    np.testing.assert_array_equal(
        tuned["alpha"], [result.alphas[7], result.alphas[4]]
    )  # medians of (7, 2, 9) and (6, 4, 4)
    expected = [result.test[np.arange(3), v, index[:, v]].mean() for v in range(2)]
    np.testing.assert_allclose(tuned["test"], expected)
    spread = [result.test[np.arange(3), v, index[:, v]].std(ddof=1) / np.sqrt(3) for v in range(2)]
    np.testing.assert_allclose(tuned["test_sem"], spread)
    theory = [result.theory_test[v, index[:, v]].mean() for v in range(2)]
    np.testing.assert_allclose(tuned["theory_test"], theory)
    np.testing.assert_allclose(tuned["kernel_test"], result.kernel_test[:, :, 11].mean(axis=0))


def test_tuned_without_kernel_theory_or_second_seed_gives_nan():
    result = widths_result("rbf")
    one_seed = dataclasses.replace(
        result, **{n: getattr(result, n)[:1] for n in ("train", "test", "loo")}
    )
    tuned = one_seed.tuned()
    for name in ("test_sem", "theory_test", "kernel_test"):
        assert np.isnan(tuned[name]).all(), name
    assert np.isfinite(tuned["test"]).all()


def test_table_shows_every_value_and_what_is_fixed():
    result = full_result()
    text = result.table()
    tuned = result.tuned()
    lines = text.splitlines()
    assert lines[0].startswith("width sweep: the number of random features D")
    assert "n = 100 training samples" in lines[1] and "seeds 0, 1, 2" in lines[1]
    rows = lines[-2:]
    for row, value, test in zip(rows, result.values, tuned["test"], strict=True):
        assert row.split()[0] == str(value)
        assert f"{test:.4g}" in row
    assert "theory test" in text and "kernel test" in text
    sizes = sizes_result("rbf")
    assert sizes.table().startswith("sample sweep: the number of training samples n varies")
    assert "D = 64 random features" in sizes.table()


def test_to_frame_is_long_format():
    pytest.importorskip("pandas")
    result = full_result()
    frame = result.to_frame()
    n_seeds, n_values, n_alphas = result.test.shape
    assert len(frame) == n_seeds * n_values * n_alphas
    assert list(frame.columns[:8]) == [
        "seed", "value", "alpha", "tuned", "train", "test", "loo", "theory_train",
    ]  # fmt: skip
    assert {"theory_test", "kernel_test", "kernel_loo", "theory_kernel_test"} <= set(frame)
    assert frame.attrs["parameter"] == "n_components"
    np.testing.assert_array_equal(frame["test"].to_numpy().reshape(result.test.shape), result.test)
    row = frame[(frame.seed == 2) & (frame.value == 64)].iloc[5]
    assert row.alpha == result.alphas[5] and row.loo == result.loo[2, 1, 5]
    assert row.theory_test == result.theory_test[1, 5]
    chosen = frame[frame.tuned]
    assert len(chosen) == n_seeds * n_values
    np.testing.assert_array_equal(
        chosen.alpha.to_numpy().reshape(n_seeds, n_values), result.alphas[result.tuned_index()]
    )
    assert widths_result("rbf").to_frame()["theory_test"].isna().all()


@pytest.mark.parametrize("module", ["pandas", "matplotlib.figure"])
def test_optional_dependencies_name_the_plot_extra(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # makes the import fail
    call = SweepResult.to_frame if module == "pandas" else SweepResult.plot
    with pytest.raises(ImportError, match=r"rfkernels\[plot\]"):
        call(full_result())


@pytest.mark.parametrize("kind", ["tuned", "ridge", "fit"])
@pytest.mark.parametrize("sweep", ["width", "sample"])
def test_plot_draws_labelled_figures(kind, sweep):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    result = full_result() if sweep == "width" else sizes_result("rbf", exact_kernel=True)
    figure = result.plot(kind)
    assert isinstance(figure, Figure)
    (ax,) = figure.axes
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert ax.get_legend() is not None and ax.get_legend().get_texts()
    assert ax.get_xscale() == "log"
    if kind == "ridge":
        assert "0" in [label.get_text() for label in ax.get_xticklabels()]
    figure.canvas.draw()  # renders with the default (Agg) canvas


def test_plot_on_given_axes_and_default_kind():
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    figure = Figure()
    axes = figure.subplots(1, 2)
    assert full_result().plot("fit", ax=axes[1]) is figure
    assert axes[1].get_ylabel().startswith("fitting ratio") and not axes[0].lines
    with pytest.raises(ValueError, match="kind must be one of"):
        full_result().plot("width")


def test_ridge_sweep_is_a_width_sweep_plotted_against_the_ridge():
    pytest.importorskip("matplotlib")
    X, y, X_test, y_test = data()
    keywords = dict(
        n_samples=N_SAMPLES, X_test=X_test, y_test=y_test, alphas=GRID, seeds=SEEDS,
        exact_kernel=False, theory=False, progress=False,
    )  # fmt: skip
    path = ridge_sweep(X, y, widths=WIDTHS, **keywords)
    sweep = widths_result("rbf")
    assert path.default_plot == "ridge"
    for name in ("train", "test", "loo"):
        np.testing.assert_array_equal(getattr(path, name), getattr(sweep, name))
    assert path.plot().axes[0].get_ylabel() == "test mean squared error"


def test_ridge_path_is_a_deprecated_alias_of_ridge_sweep():
    X, y, X_test, y_test = data()
    keywords = dict(X_test=X_test, y_test=y_test, alphas=GRID, theory=False, progress=False)
    with pytest.warns(FutureWarning, match="ridge_path is deprecated .* use ridge_sweep"):
        path = ridge_path(X, y, widths=[8, 16], seeds=(0,), exact_kernel=False, **keywords)
    sweep = ridge_sweep(X, y, widths=[8, 16], seeds=(0,), exact_kernel=False, **keywords)
    assert path.default_plot == "ridge"
    for name in ("train", "test", "loo"):
        np.testing.assert_array_equal(getattr(path, name), getattr(sweep, name))


def test_progress_bar_and_interrupt(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    X, y, X_test, y_test = data()
    keywords = dict(X_test=X_test, y_test=y_test, alphas=GRID, theory=False, exact_kernel=False)
    width_sweep(X, y, [8, 16], seeds=(0, 1), progress=True, **keywords)
    err = capsys.readouterr().err
    assert "width sweep" in err and "4/4" in err

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("rfkernels.sweep._fits._primal_fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        width_sweep(X, y, [8, 16], progress=True, **keywords)


# --------------------------------------------------------------------------- more is better


def test_more_is_better_at_the_tuned_ridge():
    """Tuned test MSE does not rise with width (within C standard errors), as test_science."""
    X, y = make_data(seed=2, n=1400)
    widths = [8, 16, 32, 64, 128, 256]
    result = width_sweep(
        X[:1000], y[:1000], widths, n_samples=300, X_test=X[1000:], y_test=y[1000:],
        seeds=(0, 1, 2, 3, 4), theory=False, progress=False,
    )  # fmt: skip
    index = result.tuned_index()
    risks = np.take_along_axis(result.test, index[..., None], axis=2)[..., 0]
    assert_non_increasing(risks, [f"D={d}" for d in widths], "synthetic, n=300")
    kernel_tuned = dataclasses.replace(result, loo=result.kernel_loo).tuned_index()
    kernel = np.take_along_axis(result.kernel_test, kernel_tuned[..., None], axis=2)[..., 0]
    with_kernel = np.concatenate([risks[:, -1:], kernel[:, :1]], axis=1)
    change, se = paired_change(with_kernel, 0, 1)
    assert change <= C * se, f"kernel ridge worse than D=256 by {change:.3g} > {C} se"


# --------------------------------------------------------------------------- errors

X_BAD, Y_BAD = make_data(n=80)
ERRORS = [
    (width_sweep, dict(widths=[0, 8]), ValueError, "widths must be >= 1"),
    (width_sweep, dict(widths=[]), ValueError, "non-empty 1-d sequence of integers"),
    (width_sweep, dict(widths=[8.0, 16.0]), ValueError, "sequence of integers"),
    (width_sweep, dict(widths=[8, 8]), ValueError, "widths must be distinct"),
    (width_sweep, dict(widths=[6, 9], fourier="sincos"), ValueError, "even widths"),
    (width_sweep, dict(widths=[8], n_samples=61), ValueError, r"n_samples must be <= 60"),
    (width_sweep, dict(widths=[8], n_samples=1), ValueError, "n_samples must be >= 2"),
    (width_sweep, dict(widths=[8], seeds=3), ValueError, "seeds must be a sequence"),
    (width_sweep, dict(widths=[8], seeds=(0, -1)), ValueError, "seeds must be >= 0"),
    (width_sweep, dict(widths=[8], alphas=[-1.0]), ValueError, "alphas must be finite and >= 0"),
    (width_sweep, dict(widths=[8], alphas="best"), ValueError, "alphas must be 'auto'"),
    (width_sweep, dict(widths=[8], kernel="poly"), ValueError, "'kernel' parameter"),
    (width_sweep, dict(widths=[8], gamma=-1.0), ValueError, "'gamma' parameter"),
    (width_sweep, dict(widths=[8], fourier="sin"), ValueError, "'fourier' parameter"),
    (width_sweep, dict(widths=[8], n_eigen=20), ValueError, "fewer than the 48"),
    (width_sweep, dict(widths=[8], degree=3), TypeError, "unexpected keyword argument.*degree"),
    (width_sweep, dict(widths=[8], X_test=X_BAD), ValueError, "without y_test"),
    (width_sweep, dict(widths=[8], X_test=X_BAD[:, :2], y_test=Y_BAD), ValueError, "columns"),
    (width_sweep, dict(widths=[8], test_size=1.5), ValueError, "test_size"),
    (sample_sweep, dict(sizes=[1, 10]), ValueError, "sizes must be >= 2"),
    (sample_sweep, dict(sizes=[10, 61]), ValueError, r"sizes must be <= 60 \(the rows"),
    (sample_sweep, dict(sizes=[10], n_components=[8, 16]), ValueError, "one integer"),
    (sample_sweep, dict(sizes=[10], n_components=7, fourier="sincos"), ValueError, "even"),
    (sample_sweep, dict(sizes=[10], fit_intercept="yes"), ValueError, "fit_intercept"),
]


@pytest.mark.parametrize(
    ("function", "keywords", "error", "match"),
    ERRORS,
    ids=[f"{f.__name__}-{m}" for f, _, _, m in ERRORS],
)
def test_bad_inputs_raise(function, keywords, error, match):
    # 80 rows: 60 in the training pool, 20 test rows.
    with pytest.raises(error, match=match):
        function(X_BAD, Y_BAD, progress=False, **keywords)
