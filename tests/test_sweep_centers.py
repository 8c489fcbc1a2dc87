"""width_sweep(feature_map="nystroem"): a sweep over Nystrom centers on the kernel engine."""

import numpy as np
import pytest
from rfkernels import Nystroem
from rfkernels.sweep import sample_sweep, width_sweep
from rfkernels.sweep._inputs import permutation
from sklearn.datasets import make_friedman1
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split


@pytest.fixture(scope="module")
def data():
    X, y = make_friedman1(n_samples=1600, noise=0.5, random_state=0)
    return X, y


def test_every_center_count_is_nystroem_ridge_on_the_same_centers(data):
    """Each M equals Nystroem(n_components=M, random_state=seed) + Ridge on the seed's rows."""
    X, y = data
    widths, n, seed = [16, 64, 256], 800, 1
    result = width_sweep(
        X,
        y,
        widths,
        n_samples=n,
        feature_map="nystroem",
        seeds=(seed,),
        gamma=0.2,
        fit_intercept=True,
        theory=False,
        exact_kernel=False,
        progress=False,
    )
    X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    rows = permutation(len(X_pool), seed)[:n]
    for w, width in enumerate(widths):
        features = Nystroem(gamma=0.2, n_components=width, random_state=seed).fit(X_pool[rows])
        for a in (5, 12, 20):
            alpha = result.alphas[a]
            ridge = Ridge(alpha=alpha).fit(features.transform(X_pool[rows]), y_pool[rows])
            predicted = ridge.predict(features.transform(X_test))
            expected = np.mean((predicted - y_test) ** 2)
            assert result.test[0, w, a] == pytest.approx(expected, rel=1e-7)
    assert result.fixed["feature_map"] == "nystroem"


def test_more_centers_is_better_and_the_theory_is_the_kernels(data):
    X, y = data
    result = width_sweep(
        X,
        y,
        [8, 32, 128, 512],
        n_samples=600,
        feature_map="nystroem",
        seeds=(0, 1),
        gamma=0.2,
        n_eigen=300,
        progress=False,
    )
    tuned = result.tuned()["test"]
    assert np.all(np.diff(tuned) < 0), tuned
    assert result.theory_test is None and result.theory_kernel_test is not None
    figure = result.plot("tuned")
    assert "Nystrom centers" in figure.axes[0].get_xlabel()


def test_what_a_center_sweep_refuses(data):
    X, y = data
    with pytest.raises(ValueError, match="feature_map must be one of"):
        width_sweep(X, y, [16], feature_map="centers", progress=False)
    with pytest.raises(ValueError, match="numbers of centers among the 100 training rows"):
        width_sweep(X, y, [16, 200], n_samples=100, feature_map="nystroem", progress=False)
    with pytest.raises(ValueError, match="sample sweeps are of random features"):
        sample_sweep(X, y, [50, 100], feature_map="nystroem", progress=False)


def test_the_command_sweeps_centers(tmp_path):
    from sklearn.datasets import load_diabetes
    from test_cli import run

    path = tmp_path / "diabetes.csv"
    load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    flags = ["--widths", "8,32,128", "--seeds", "2", "--no-figures", "--no-progress"]
    status, out, err = run(
        ["sweep", "--data", str(path), "--target", "target", "--feature-map", "nystroem", *flags]
    )
    assert status == 0, err
    assert "kind width over Nystrom centers" in out
    assert "width sweep: the number of Nystrom centers M" in out
    assert "\n       M  tuned alpha" in out
    status, _, err = run(
        [
            "sweep",
            "--data",
            str(path),
            "--target",
            "target",
            "--kind",
            "samples",
            "--feature-map",
            "nystroem",
            *flags[2:],
        ]
    )
    assert status == 2 and "sample sweeps are of random features" in err
