"""Nystroem against a numpy reference: features, cut-off, layouts, dtypes, determinism."""

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from rfkernels import KERNELS, Nystroem
from rfkernels.kernels import kernel_matrix
from sklearn.kernel_approximation import Nystroem as SklearnNystroem
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks


def reference_features(X, centers, kernel, gamma, bias=0.5, depth=1):
    """``k(X, C) V_r diag(lambda_r)^(-1/2)`` with numpy's eigh and the pinv cut-off."""
    params = {"kernel": kernel, "gamma": gamma, "bias": bias, "depth": depth}
    K_mm = kernel_matrix(centers, **params)
    values, vectors = np.linalg.eigh(K_mm)
    keep = values > len(centers) * np.finfo(float).eps * values.max()
    projection = vectors[:, keep] / np.sqrt(values[keep])
    return kernel_matrix(np.asarray(X, dtype=np.float64), centers, **params) @ projection


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_features_equal_the_numpy_reference(kernel, rng):
    X = rng.normal(size=(400, 4))
    depth = 2 if KERNELS[kernel].layered else 1
    model = Nystroem(kernel, n_components=60, gamma=0.3, bias=0.5, depth=depth, random_state=1)
    Z = model.fit(X).transform(X)
    want = reference_features(X, model.components_, kernel, 0.3, depth=depth)
    # Features are defined up to the signs (and rotations within repeated eigenvalues)
    # of the eigenvectors: compare their Gram matrices, which are unique.
    assert Z.shape == want.shape == (400, model.n_components_)
    scale = np.abs(want @ want.T).max()
    np.testing.assert_allclose(Z @ Z.T, want @ want.T, atol=1e-9 * scale)
    # On the centers the features reproduce the kernel.
    Zc = model.transform(model.components_)
    K_mm = kernel_matrix(model.components_, kernel=kernel, gamma=0.3, bias=0.5, depth=depth)
    np.testing.assert_allclose(Zc @ Zc.T, K_mm, atol=1e-9 * np.abs(K_mm).max())


def test_same_projection_as_scikit_learn_with_the_same_seed(rng):
    """scikit-learn draws its centers as the same permutation of the rows."""
    X = rng.normal(size=(600, 5))
    ours = Nystroem(n_components=150, gamma=0.2, random_state=3).fit(X)
    theirs = SklearnNystroem(gamma=0.2, n_components=150, random_state=3).fit(X)
    assert set(ours.component_indices_) == set(theirs.component_indices_)
    Z, W = ours.transform(X[:100]), theirs.transform(X[:100])
    np.testing.assert_allclose(Z @ Z.T, W @ W.T, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_odd_layouts_and_shapes(dtype, rng):
    X = rng.normal(size=(80, 3)).astype(dtype)
    model = Nystroem(n_components=30, gamma=0.5, random_state=0).fit(X)
    want = model.transform(np.ascontiguousarray(X))
    assert want.dtype == dtype
    np.testing.assert_array_equal(model.transform(np.asfortranarray(X)), want)
    wide = np.zeros((80, 6), dtype=dtype)
    wide[:, ::2] = X
    np.testing.assert_array_equal(model.transform(wide[:, ::2]), want)  # non-contiguous
    np.testing.assert_array_equal(model.transform(X[:1]), want[:1])  # one row
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    ref = reference_features(X, model.components_, "rbf", 0.5)
    np.testing.assert_allclose(want @ want.T, ref @ ref.T, rtol=rtol, atol=rtol)
    one_feature = Nystroem(n_components=5, gamma=1.0, random_state=0).fit(X[:, :1])
    assert one_feature.transform(X[:, :1]).shape == (80, one_feature.n_components_)


def test_huge_and_tiny_values_stay_finite(rng):
    X = rng.normal(size=(50, 3))
    for scale in (1e-150, 1e150):
        model = Nystroem("laplacian", n_components=20, gamma=1 / scale, random_state=0)
        Z = model.fit(X * scale).transform(X * scale)
        assert np.all(np.isfinite(Z))
    with pytest.raises(ValueError, match="not finite"):
        Nystroem(n_components=10, gamma=1.0).fit(X).transform(np.full((2, 3), 1e300))


def test_duplicate_centers_lower_the_rank(rng):
    X = np.repeat(rng.normal(size=(10, 2)), 5, axis=0)  # 10 distinct rows, 5 times each
    model = Nystroem(n_components=40, gamma=1.0, random_state=0).fit(X)
    assert model.n_components_ <= 10
    assert np.all(np.diff(model.eigenvalues_) <= 0)
    Z = model.transform(X)
    assert Z.shape == (50, model.n_components_)
    K = kernel_matrix(X, kernel="rbf", gamma=1.0, bias=0.0)
    np.testing.assert_allclose(Z @ Z.T, K, atol=1e-8)
    assert model.get_feature_names_out().shape == (model.n_components_,)


def test_more_centers_than_rows_uses_every_row(rng):
    X = rng.normal(size=(20, 2))
    with pytest.warns(UserWarning, match="every row is a center"):
        model = Nystroem(n_components=50, gamma=1.0).fit(X)
    np.testing.assert_array_equal(model.component_indices_, np.arange(20))


def test_pickle_pipeline_and_pandas_output(rng):
    pd = pytest.importorskip("pandas")
    X = rng.normal(size=(100, 3))
    model = Nystroem(n_components=20, random_state=0).fit(X)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.transform(X), model.transform(X))
    pipe = make_pipeline(StandardScaler(), Nystroem(n_components=20, random_state=0))
    frame = pipe.set_output(transform="pandas").fit_transform(pd.DataFrame(X, columns=list("abc")))
    assert list(frame.columns)[:2] == ["nystroem0", "nystroem1"]


def test_bad_parameters_are_clear_errors(rng):
    X = rng.normal(size=(30, 2))
    with pytest.raises(ValueError, match="n_components"):
        Nystroem(n_components=0).fit(X)
    with pytest.raises(ValueError, match="depth"):
        Nystroem("rbf", depth=2).fit(X)
    with pytest.raises(ValueError, match="sampling"):
        Nystroem(sampling="kmeans").fit(X)
    model = Nystroem(n_components=5).fit(X)
    with pytest.raises(ValueError, match="features"):
        model.transform(rng.normal(size=(3, 4)))


DETERMINISM_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    from rfkernels import Nystroem
    X = np.random.default_rng(0).normal(size=(3000, 6))
    for dtype in (np.float32, np.float64):
        model = Nystroem("matern32", n_components=700, gamma=0.1, random_state=5)
        Z = model.fit(X.astype(dtype)).transform(X.astype(dtype))
        np.save(f"{sys.argv[1]}/{np.dtype(dtype).name}.npy", Z)
    """
)


@pytest.mark.parametrize("n_threads", ["2", "3"])
def test_thread_count_does_not_change_a_bit(n_threads, tmp_path, monkeypatch):
    """700 centers (eigensolver blocks), 3000 rows (many row chunks), fresh processes."""
    outputs = {}
    for threads in ("1", n_threads):
        out = tmp_path / threads
        out.mkdir()
        monkeypatch.setenv("RAYON_NUM_THREADS", threads)
        subprocess.run(
            [sys.executable, "-c", DETERMINISM_SCRIPT, str(out)], check=True, timeout=300
        )
        outputs[threads] = out
    for name in ("float32.npy", "float64.npy"):
        one, other = np.load(outputs["1"] / name), np.load(outputs[n_threads] / name)
        assert one.shape[0] == 3000
        np.testing.assert_array_equal(one, other)


@parametrize_with_checks(
    [Nystroem(kernel, n_components=10) for kernel in ("rbf", "laplacian", "ntk", "cauchy")]
    + [Nystroem(kernel, n_components=10, sampling="leverage") for kernel in ("rbf", "relu")]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
