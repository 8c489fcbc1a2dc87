"""Fits on batches of rows (``RowBatches``, numpy memmaps) equal in-memory fits."""

import os

import numpy as np
import pytest
from rfkernels import RandomFeatureRidge, RandomFeatureRidgeClassifier, RandomFeatures, RowBatches
from rfkernels._gamma import entry_moments

RTOL = 1e-10


def make_data(n=1200, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = 2.0 * rng.standard_normal((n, d)) + 0.5
    y = np.column_stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2] / 4]) + 0.1 * rng.standard_normal(
        (n, 2)
    )
    return X, y, rng.uniform(0.2, 3.0, n)


def assert_same_fit(batched, in_memory):
    assert batched.alpha_ == pytest.approx(in_memory.alpha_, rel=1e-12)
    np.testing.assert_allclose(batched.cv_results_, in_memory.cv_results_, rtol=RTOL)
    np.testing.assert_allclose(batched.train_errors_, in_memory.train_errors_, rtol=RTOL)
    scale = np.max(np.abs(in_memory.coef_))
    np.testing.assert_allclose(batched.coef_, in_memory.coef_, rtol=0, atol=RTOL * scale)
    np.testing.assert_allclose(batched.intercept_, in_memory.intercept_, rtol=0, atol=RTOL)


@pytest.mark.parametrize("cv", [None, "gcv"])
@pytest.mark.parametrize("batch_rows", [7, 250, 5000])
@pytest.mark.parametrize("one_target", [True, False])
def test_row_batches_fit_equals_the_in_memory_fit(cv, batch_rows, one_target):
    X, y, weights = make_data()
    y = y[:, 0] if one_target else y
    params = dict(n_components=48, cv=cv, random_state=3)
    in_memory = RandomFeatureRidge(**params).fit(X, y, sample_weight=weights)
    batches = RowBatches.from_arrays(X, y, weights, batch_rows=batch_rows)
    batched = RandomFeatureRidge(**params).fit(batches)
    assert batched.random_features_.gamma_ == pytest.approx(
        in_memory.random_features_.gamma_, rel=1e-13
    )
    assert_same_fit(batched, in_memory)


def test_a_memmap_is_fitted_in_batches_and_equals_the_in_memory_fit(tmp_path):
    X, y, weights = make_data()
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    model = RandomFeatureRidge(n_components=40, random_state=1)
    in_memory = model.fit(X, y, sample_weight=weights)
    batched = RandomFeatureRidge(n_components=40, random_state=1)
    assert_same_fit(batched.fit(mapped, y, sample_weight=weights), in_memory)
    small = RowBatches.from_arrays(mapped, y, weights, batch_rows=77)
    assert_same_fit(RandomFeatureRidge(n_components=40, random_state=1).fit(small), in_memory)


def test_reading_a_memmap_in_batches_releases_its_pages(tmp_path):
    # 100 MB on disk: with the pages of every batch released after reading, the
    # resident memory after the fit stays far below the file's size. Batches of 2 MB,
    # so that the allocator's retained batch copies (a few batches) do not count.
    n, d = 400_000, 32
    path = tmp_path / "big.npy"
    np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n, d))[:] = 1.0
    mapped = np.load(path, mmap_mode="r")
    y = np.zeros(n)

    def resident():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    before = resident()
    batches = RowBatches.from_arrays(mapped, y, batch_rows=8192)
    RandomFeatureRidge(n_components=8, gamma=1.0, cv="gcv", random_state=0).fit(batches)
    assert resident() - before < mapped.nbytes / 4


def test_classifier_on_batches_equals_the_in_memory_fit():
    X, _, _ = make_data(seed=1)
    labels = np.array(["low", "mid", "high"])[np.digitize(X[:, 0], [-0.5, 1.5])]
    in_memory = RandomFeatureRidgeClassifier(n_components=32, random_state=2).fit(X, labels)
    batches = RowBatches.from_arrays(X, labels, batch_rows=300)
    batched = RandomFeatureRidgeClassifier(n_components=32, random_state=2).fit(batches)
    np.testing.assert_array_equal(batched.classes_, in_memory.classes_)
    assert_same_fit(batched, in_memory)


def test_entry_moments_merge_batches_exactly():
    X, _, weights = make_data(n=500)
    batches = RowBatches.from_arrays(X, np.zeros(500), weights, batch_rows=37)
    n_features, variance, mean_square = entry_moments(batches)
    entries, entry_weights = X.ravel(), np.repeat(weights, X.shape[1])
    mean = np.average(entries, weights=entry_weights)
    assert n_features == X.shape[1]
    assert variance == pytest.approx(np.average((entries - mean) ** 2, weights=entry_weights))
    assert mean_square == pytest.approx(np.average(entries**2, weights=entry_weights))


def test_random_features_fit_on_batches_equals_the_weighted_fit():
    X, y, weights = make_data(n=500)
    batched = RandomFeatures(random_state=0).fit(
        RowBatches.from_arrays(X, y, weights, batch_rows=37)
    )
    in_memory = RandomFeatures(random_state=0).fit(X, sample_weight=weights)
    assert batched.gamma_ == pytest.approx(in_memory.gamma_, rel=1e-12)
    np.testing.assert_allclose(batched.transform(X), in_memory.transform(X), rtol=1e-10, atol=1e-12)


X_SMALL, Y_SMALL, _ = make_data(n=40)


def same_iterator_on_every_call() -> RowBatches:
    """Batches whose second pass finds the first pass's exhausted iterator."""
    batches = iter([(X_SMALL, Y_SMALL)])
    return RowBatches(lambda: batches)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: RowBatches([(X_SMALL, Y_SMALL)]), TypeError, "function that returns"),
        (
            lambda: RandomFeatureRidge().fit(RowBatches(lambda: [X_SMALL])),
            ValueError,
            r"tuple \(X, y\)",
        ),
        (
            lambda: RandomFeatureRidge().fit(RowBatches(lambda: [(X_SMALL, Y_SMALL)]), Y_SMALL),
            ValueError,
            "come in the batches",
        ),
        (
            lambda: RandomFeatureRidge(cv=3).fit(RowBatches.from_arrays(X_SMALL, Y_SMALL)),
            ValueError,
            "leave-one-out or GCV",
        ),
        (lambda: RandomFeatureRidge().fit(RowBatches(lambda: [])), ValueError, "no rows"),
        (lambda: RowBatches.from_arrays(X_SMALL, Y_SMALL[:5]), ValueError, "as many"),
        (
            lambda: RandomFeatureRidge().fit(same_iterator_on_every_call()),
            ValueError,
            "a new iterable on every call",
        ),
        (lambda: RowBatches.from_arrays(X_SMALL, None), ValueError, "y is required"),
        (
            lambda: RandomFeatureRidge().fit(RowBatches.from_arrays(X_SMALL[:1], Y_SMALL[:1])),
            ValueError,
            "at least 2 rows",
        ),
        (
            lambda: RandomFeatures().fit(
                RowBatches.from_arrays(X_SMALL, Y_SMALL), sample_weight=[1]
            ),
            ValueError,
            "come in the batches",
        ),
        (lambda: RowBatches.from_arrays(X_SMALL, Y_SMALL, batch_rows=0), ValueError, "positive"),
        (
            lambda: RandomFeatureRidge(gamma=1.0).fit(
                RowBatches(lambda: [(X_SMALL, Y_SMALL), (X_SMALL[:, :2], Y_SMALL)])
            ),
            ValueError,
            "features",
        ),
    ],
)
def test_bad_batches_are_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_moved_moments_are_deprecated_aliases():
    import rfkernels.batches
    from rfkernels import _gamma

    for name in ("EntryMoments", "entry_moments"):
        with pytest.warns(FutureWarning, match=f"rfkernels.batches.{name} is deprecated"):
            assert getattr(rfkernels.batches, name) is getattr(_gamma, name)
    with pytest.raises(AttributeError):
        rfkernels.batches.no_such_name  # noqa: B018
