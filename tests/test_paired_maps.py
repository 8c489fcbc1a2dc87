"""What scikit-learn's checks skip for the paired maps, tested directly.

The maps whose columns come in pairs, the sin/cos pairs of ``fourier="sincos"`` (every
Fourier kernel) and ntk's pairs, need an even ``n_components``. Six estimator checks
set ``n_components = 1`` before they fit, so for these seven maps they are strict
xfails in tests/test_sklearn_compat.py and test nothing. Here is what they would test,
at the width they would use (the smallest valid one, 2) and, where the output is
compared with a reference, a wider one (20), for ``RandomFeatures`` (``transform``)
and ``RandomFeatureRidge`` (``predict``):

- ``check_dont_overwrite_parameters``: ``fit`` adds no public attribute and replaces
  none (the same objects before and after);
- ``check_fit2d_1feature`` and ``check_fit2d_1sample``: a fit on one column or one row
  works (or, for the ridge's one row, refuses it naming the sample count), and the
  features are the numpy reference's;
- ``check_fit2d_predict1d``: a 1-d input to ``transform``/``predict`` is refused with
  scikit-learn's "Reshape your data";
- ``check_methods_sample_order_invariance``: the output of permuted rows is the
  permuted output, bit for bit (the check allows 1e-9);
- ``check_methods_subset_invariance``: the output of a subset of rows (one row at a
  time, uneven batches across the core's 128-row chunks) is that subset of the
  output within ``SUBSET_ATOL`` (the check allows 1e-7). Not bit for bit: a chunk of
  one row or of a few goes through another of faer's GEMM kernels (a matrix-vector
  product, the small-matrix kernel), which sums ``x . w`` in another order; measured,
  up to 16 eps of the largest output (matern12, 20 components), for every map alike.
"""

import numpy as np
import pytest
from _reference import feature_map
from rfkernels import KERNELS, RandomFeatureRidge, RandomFeatures

PAIRED_MAPS = [(kernel, "sincos") for kernel, info in KERNELS.items() if info.fourier] + [
    (kernel, "cos") for kernel, info in KERNELS.items() if info.paired_columns
]
MAP_IDS = [f"{kernel}-{fourier}" for kernel, fourier in PAIRED_MAPS]
WIDTHS = [2, 20]
ESTIMATORS = {"features": RandomFeatures, "ridge": RandomFeatureRidge}
OUTPUT = {"features": "transform", "ridge": "predict"}
#: Tolerance of a subset's output, relative to the largest output: 4 x the measured 16 eps.
SUBSET_ATOL = 64 * np.finfo(np.float64).eps


def make(estimator: str, kernel: str, fourier: str, n_components: int):
    """The estimator ``estimator`` with the map ``(kernel, fourier)``, seeded as the checks do."""
    return ESTIMATORS[estimator](kernel, n_components=n_components, fourier=fourier, random_state=1)


def data(n_samples: int, n_features: int, seed: int = 0):
    """``3 * uniform`` inputs and a target, as scikit-learn's checks draw them."""
    rng = np.random.RandomState(seed)
    X = 3 * rng.uniform(size=(n_samples, n_features))
    return X, X[:, 0] + rng.uniform(size=n_samples)


def output(model, estimator: str, X):
    return getattr(model, OUTPUT[estimator])(X)


def is_public(name: str) -> bool:
    """scikit-learn's public attributes: neither ``_private`` nor ``fitted_``."""
    return not (name.startswith("_") or name.endswith("_"))


def assert_reference_features(features: RandomFeatures, X) -> None:
    """``transform(X)`` equals the numpy reference of the same map and weights."""
    W, b = features.random_weights_, features.random_offset_
    expected = feature_map(X, W, b, features.kernel, features.fourier)
    np.testing.assert_allclose(features.transform(X), expected, rtol=1e-12, atol=1e-14)


parametrize_maps = pytest.mark.parametrize(("kernel", "fourier"), PAIRED_MAPS, ids=MAP_IDS)
parametrize_widths = pytest.mark.parametrize("n_components", WIDTHS)
parametrize_estimators = pytest.mark.parametrize("estimator", list(ESTIMATORS))


@parametrize_estimators
@parametrize_maps
def test_fit_adds_and_replaces_no_public_attribute(estimator, kernel, fourier):
    model = make(estimator, kernel, fourier, WIDTHS[0])
    before = dict(vars(model))
    model.fit(*data(20, 3))
    public = [name for name in vars(model) if is_public(name)]
    assert [name for name in public if name not in before] == []
    assert [name for name in public if vars(model)[name] is not before[name]] == []


@parametrize_widths
@parametrize_maps
@pytest.mark.parametrize("shape", [(10, 1), (1, 10)], ids=["one-feature", "one-sample"])
def test_features_of_one_column_or_one_row(kernel, fourier, n_components, shape):
    X, _ = data(*shape)
    features = make("features", kernel, fourier, n_components).fit(X)
    assert features.transform(X).shape == (shape[0], n_components)
    assert_reference_features(features, X)


@parametrize_widths
@parametrize_maps
def test_ridge_on_one_feature_and_one_sample(kernel, fourier, n_components):
    X, y = data(10, 1)
    predictions = make("ridge", kernel, fourier, n_components).fit(X, y).predict(X)
    assert predictions.shape == (10,) and np.all(np.isfinite(predictions))
    # A ridge path needs two rows; the message names the count, as the check asks.
    with pytest.raises(ValueError, match=r"1 sample"):
        make("ridge", kernel, fourier, n_components).fit(*data(1, 10))


@parametrize_estimators
@parametrize_maps
def test_1d_input_is_refused(estimator, kernel, fourier):
    X, y = data(20, 3)
    model = make(estimator, kernel, fourier, WIDTHS[0]).fit(X, y)
    with pytest.raises(ValueError, match="Reshape your data"):
        output(model, estimator, X[0])


@parametrize_estimators
@parametrize_widths
@parametrize_maps
def test_output_is_invariant_to_the_order_and_grouping_of_rows(
    estimator, kernel, fourier, n_components
):
    # 300 rows: the core's 128-row chunks fall at other rows for a permutation or a subset.
    X, y = data(300, 3)
    model = make(estimator, kernel, fourier, n_components).fit(X, y)
    full = output(model, estimator, X)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_array_equal(output(model, estimator, X[order]), full[order])
    atol = SUBSET_ATOL * np.abs(full).max()
    by_row = np.concatenate([output(model, estimator, X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(by_row, full, rtol=0, atol=atol)
    batches = np.array_split(np.arange(len(X)), [5, 133, 134, 290])
    by_batch = np.concatenate([output(model, estimator, X[rows]) for rows in batches])
    np.testing.assert_allclose(by_batch, full, rtol=0, atol=atol)
