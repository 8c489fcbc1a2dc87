"""RandomFeatures against the numpy reference: shapes, dtypes, layouts, nesting, determinism."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from _reference import feature_map, projections, scale_gamma
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from rfkernels import KERNELS, RandomFeatures

# Every feature map: each kernel with its default "cos" form, plus the sin/cos pairs
# of the Fourier kernels. A kernel added to KERNELS gets every test below.
MAPS = [(kernel, "cos") for kernel in KERNELS] + [
    (kernel, "sincos") for kernel, info in KERNELS.items() if info.fourier
]
MAP_IDS = [f"{kernel}-{fourier}" for kernel, fourier in MAPS]
DTYPES = [np.float32, np.float64]


def even_if_paired(n_components, fourier, kernel="rbf"):
    """sin/cos pairs and ntk's pairs of columns need an even width: round odd widths up."""
    paired = fourier == "sincos" or KERNELS[kernel].paired_columns
    return n_components + n_components % 2 if paired else n_components


def make_features(kernel, fourier, n_components, *, gamma=0.5, bias=0.5, random_state=0, **kw):
    return RandomFeatures(
        kernel,
        n_components=even_if_paired(n_components, fourier, kernel),
        gamma=gamma,
        bias=bias,
        fourier=fourier,
        random_state=random_state,
        **kw,
    )


def error_bounds(X, rf, dtype, projection_bound=None):
    """Absolute error bounds for features computed in ``dtype``.

    Returns ``(atol, projection_bound)``: the per-entry tolerance on the features
    and the per-frequency bound on the error of the projection ``p = x.w + b``.

    Derivation (first order in eps = eps(dtype)):

    - Projection: the library's GEMM and numpy's matmul each compute ``x.w`` with
      error <= d eps sum_k |x_k w_k| (the standard dot-product bound, whatever the
      summation order), and adding ``b`` rounds once more, so each side is within
      (d + 1) eps M of the exact value, M = |X| @ |W| + |b|. For float32 the
      reference is float64 and nearly exact, but we keep both sides' share.
    - cos and sin are 1-Lipschitz and the library's polynomials are within a few
      ulps of 1; relu is 1-Lipschitz and its scaling rounds once (eps |p| <= eps M);
      step is exactly 0 or sqrt(2/D) away from the sign flip (checked separately).
    - One last rounding of the sqrt(2/D) factor and the product: eps.

    A factor 2 of safety covers second-order terms. In float64 with the data of
    these tests the tolerance is ~1e-14 (M ~ 10), up to ~5e-12 only in the few
    laplacian columns whose heavy-tailed Cauchy weights make M ~ 1e3: the ~1e-12
    absolute accuracy a feature of size sqrt(2/D) can expect. In float32 it is
    eps32 ~ 1.2e-7 times the same factors, growing with M as it must. Measured
    errors use under a tenth of it.

    A projection computed otherwise (structured features) gives its own
    ``projection_bound``, of shape (n_samples, n_frequencies).
    """
    eps = np.finfo(dtype).eps
    X64 = np.asarray(X, dtype=np.float64)
    W = np.asarray(rf.random_weights_, dtype=np.float64)
    b = np.asarray(rf.random_offset_, dtype=np.float64)
    magnitude = np.abs(X64) @ np.abs(W) + np.abs(b)
    if projection_bound is None:
        projection_bound = 2 * (X64.shape[1] + 1) * eps * magnitude
    if rf.kernel == "step":
        nonlinearity = np.full_like(projection_bound, eps)
    elif rf.kernel in ("relu", "linear", "nngp", "ntk"):
        nonlinearity = projection_bound + 2 * eps * magnitude + eps
    else:
        nonlinearity = projection_bound + 4 * eps
    if rf.fourier == "sincos" and KERNELS[rf.kernel].fourier:
        nonlinearity = np.repeat(nonlinearity, 2, axis=1)
    n_components = nonlinearity.shape[1]
    # ntk's pairs are scaled by sqrt(4/D), the others by sqrt(2/D).
    numerator = 4.0 if KERNELS[rf.kernel].paired_columns else 2.0
    return 2 * np.sqrt(numerator / n_components) * nonlinearity, projection_bound


def assert_matches_reference(rf, X, Z, projection_bound=None):
    """``Z`` (computed from ``X``) equals the numpy reference within ``error_bounds``."""
    W, b = rf.random_weights_, rf.random_offset_
    expected = feature_map(X, W, b, rf.kernel, rf.fourier)
    assert Z.shape == expected.shape
    atol, projection_bound = error_bounds(X, rf, Z.dtype, projection_bound)
    checked = np.ones(Z.shape, dtype=bool)
    if rf.kernel in ("step", "ntk"):
        # Where |p| is within the projection's rounding error the sign itself is
        # undetermined, so either value is right; such entries must stay rare
        # (their probability is ~ the bound / std(p), below 1e-5 here). An ntk pair
        # switches on the sign of its first projection.
        ambiguous = np.abs(projections(X, W, b)) < projection_bound
        if rf.kernel == "ntk":
            ambiguous = np.repeat(ambiguous[:, 0::2], 2, axis=1)
        assert ambiguous.mean() <= 0.01
        checked = ~ambiguous
    error = np.abs(Z.astype(np.float64) - expected)
    bad = checked & ~(error <= atol)  # NaN counts as bad
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise AssertionError(
            f"{bad.sum()} of {bad.size} features differ from the reference; first at "
            f"({i}, {j}): got {Z[i, j]!r}, want {expected[i, j]!r}, tolerance {atol[i, j]:.3g}"
        )


# The grid reaches every path of the core's transform (src/features/mod.rs: row chunks
# of ROWS_PER_CHUNK = 128, blocks of COLS_PER_BLOCK = 256 frequencies, the SIMD loops
# of src/simd.rs) and every kernel of faer's matmul (src/linalg.rs) it dispatches to,
# with x row-major and the weights column-major: one row or one frequency is a
# matrix-vector product, d = 1 a rank-one update, M N d <= 16^3 the small-matrix
# kernel, the rest the blocked GEMM.
# - n_samples 1: the whole input one row (M = 1); 129: a full chunk and a 1-row chunk
#   (M = 1 again); 300: two full chunks and a 44-row one. A 7-row input took no path
#   of its own (dropped): a partial chunk of several rows, as the 44-row chunk, and
#   the small-matrix kernel, as the 128 and 44-row chunks with 3 components.
# - n_components 1: one frequency (N = 1; D = 1, the smallest map); 3: a partial block
#   below every SIMD width (the scalar tails) and, with 5 inputs, the small-matrix
#   kernel, which no other point reaches; 257: a full block and a 1-frequency one
#   (N = 1); 600: two full blocks and a partial one of 88. The paired maps round the
#   widths up to 2, 4, 258 and 600 columns (1, 2, 129 and 300 sin/cos frequencies).
# - n_features_in 1: the rank-one update; 5: the products above.
@pytest.mark.parametrize(("kernel", "fourier"), MAPS, ids=MAP_IDS)
@pytest.mark.parametrize("n_features_in", [1, 5])
@pytest.mark.parametrize("n_components", [1, 3, 257, 600])
@pytest.mark.parametrize("n_samples", [1, 129, 300])
def test_features_match_reference(
    kernel, fourier, n_samples, n_components, n_features_in, global_dtype, rng
):
    X = rng.standard_normal((n_samples, n_features_in)).astype(global_dtype)
    rf = make_features(kernel, fourier, n_components).fit(X)
    Z = rf.transform(X)
    assert Z.dtype == global_dtype
    assert Z.shape == (n_samples, even_if_paired(n_components, fourier, kernel))
    assert Z.flags.c_contiguous
    assert_matches_reference(rf, X, Z)


@pytest.mark.parametrize(("kernel", "fourier"), MAPS, ids=MAP_IDS)
def test_fitted_attributes(kernel, fourier, global_dtype, rng):
    X = rng.standard_normal((10, 3)).astype(global_dtype)
    rf = make_features(kernel, fourier, 10).fit(X)
    paired = fourier == "sincos"
    n_frequencies = 5 if paired else 10
    assert rf.random_weights_.shape == (3, n_frequencies)
    assert rf.random_offset_.shape == (n_frequencies,)
    assert rf.random_weights_.dtype == rf.random_offset_.dtype == global_dtype
    assert rf.n_features_in_ == 3
    if paired:
        # Documented: the offsets are zeros for sin/cos pairs.
        np.testing.assert_array_equal(rf.random_offset_, 0.0)
    else:
        assert np.count_nonzero(rf.random_offset_) == n_frequencies


def layouts(X):
    """Views of X in unusual memory layouts, named."""
    read_only = X.copy()
    read_only.setflags(write=False)
    return {
        "fortran": np.asfortranarray(X),
        "every-other-column": X[:, ::2],
        "every-other-row": X[::2],
        "reversed-rows": X[::-1],
        "reversed-columns": X[:, ::-1],
        "reversed-strided-both": X[::-3, 1::2],
        "read-only": read_only,
        "unaligned": unaligned(X),
    }


def unaligned(X):
    """A read-only copy of X at an odd address (as unpickled buffers can be)."""
    copy = np.frombuffer(bytes(1) + X.tobytes(), dtype=X.dtype, offset=1).reshape(X.shape)
    assert not copy.flags.aligned or X.size == 0
    return copy


LAYOUTS = list(layouts(np.zeros((2, 2))))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(("kernel", "fourier"), MAPS, ids=MAP_IDS)
def test_memory_layouts_give_the_contiguous_result(kernel, fourier, layout, global_dtype, rng):
    X = rng.standard_normal((300, 6)).astype(global_dtype)
    view = layouts(X)[layout]
    contiguous = np.ascontiguousarray(view)
    assert not (view.flags.c_contiguous and view.flags.writeable)  # really unusual
    rf = make_features(kernel, fourier, 300).fit(contiguous)
    Z = rf.transform(view)
    assert Z.dtype == global_dtype
    # The core reads through the strides: the same bits as a C-contiguous copy.
    np.testing.assert_array_equal(Z, rf.transform(contiguous))
    assert_matches_reference(rf, contiguous, Z)


@pytest.mark.parametrize(("kernel", "fourier"), MAPS, ids=MAP_IDS)
def test_unaligned_fitted_weights_give_the_same_features(kernel, fourier, rng):
    X = rng.standard_normal((50, 5))
    rf = make_features(kernel, fourier, 64).fit(X)
    Z = rf.transform(X)
    rf.random_weights_ = unaligned(rf.random_weights_)
    rf.random_offset_ = unaligned(rf.random_offset_)
    np.testing.assert_array_equal(rf.transform(X), Z)


@pytest.mark.parametrize(("kernel", "fourier"), MAPS, ids=MAP_IDS)
def test_integer_input_gives_float64_features(kernel, fourier, rng):
    X = rng.integers(-5, 6, size=(130, 4))
    rf = make_features(kernel, fourier, 64).fit(X)
    assert rf.random_weights_.dtype == np.float64
    Z = rf.transform(X)
    assert Z.dtype == np.float64
    np.testing.assert_array_equal(Z, rf.transform(X.astype(np.float64)))
    assert_matches_reference(rf, X, Z)


@pytest.mark.parametrize(("kernel", "fourier"), MAPS, ids=MAP_IDS)
def test_tiny_values(kernel, fourier, global_dtype, rng):
    # 1e-300 in float64; 1e-30 in float32 (1e-300 would be 0 there). bias=0, so the
    # relu and step features are made of the tiny projections themselves.
    tiny = 1e-300 if global_dtype == np.float64 else 1e-30
    X = (tiny * rng.standard_normal((129, 4))).astype(global_dtype)
    assert np.all(X != 0)
    rf = make_features(kernel, fourier, 257, gamma=1.0, bias=0.0).fit(X)
    Z = rf.transform(X)
    assert np.all(np.isfinite(Z))
    assert_matches_reference(rf, X, Z)
    if kernel == "relu":
        # The tolerance scales with the projections, so it is ~eps * tiny here:
        # check that the comparison is not trivially satisfied by zeros.
        assert np.count_nonzero(Z) > Z.size / 4
        assert np.max(Z) < 100 * tiny


@pytest.mark.parametrize(
    ("scale", "gamma", "dtype"),
    [(1e6, 1e-12, np.float32), (1e6, 1e-12, np.float64), (1e150, 1e-300, np.float64)],
)
@pytest.mark.parametrize(("kernel", "fourier"), MAPS, ids=MAP_IDS)
def test_large_values_with_small_gamma(kernel, fourier, scale, gamma, dtype, rng):
    # The weights scale as sqrt(gamma) (as gamma for laplacian's Cauchy weights),
    # here 1 / scale, so the projections stay O(1) and no intermediate overflows.
    X = (scale * rng.standard_normal((129, 4))).astype(dtype)
    gamma = np.sqrt(gamma) if kernel == "laplacian" else gamma
    rf = make_features(kernel, fourier, 257, gamma=gamma).fit(X)
    Z = rf.transform(X)
    assert np.all(np.isfinite(Z))
    assert_matches_reference(rf, X, Z)
    # Projections really are O(1): the features are not all one value.
    assert np.std(Z) > 0.1 * np.sqrt(2.0 / Z.shape[1])


@st.composite
def feature_problems(draw):
    kernel, fourier = draw(st.sampled_from(MAPS))
    dtype = draw(st.sampled_from(DTYPES))
    n_samples = draw(st.integers(1, 200))
    n_features_in = draw(st.integers(1, 8))
    X = draw(
        hnp.arrays(
            dtype,
            (n_samples, n_features_in),
            elements=st.floats(-10, 10, width=np.finfo(dtype).bits),
        )
    )
    n_components = draw(st.integers(1, 300))
    gamma = draw(st.floats(0.01, 2.0))
    bias = draw(st.floats(0.0, 2.0))
    seed = draw(st.integers(0, 2**32 - 1))
    rf = make_features(kernel, fourier, n_components, gamma=gamma, bias=bias, random_state=seed)
    return rf, X


@given(feature_problems())
def test_features_match_reference_property(problem):
    rf, X = problem
    Z = rf.fit(X).transform(X)
    assert Z.dtype == X.dtype
    assert_matches_reference(rf, X, Z)


@pytest.mark.parametrize(("kernel", "fourier"), MAPS, ids=MAP_IDS)
def test_float32_weights_are_the_float64_ones_rounded(kernel, fourier, rng):
    X = rng.standard_normal((20, 4))
    rf32 = make_features(kernel, fourier, 64).fit(X.astype(np.float32))
    rf64 = make_features(kernel, fourier, 64).fit(X)
    assert rf32.random_weights_.dtype == np.float32
    assert rf32.random_offset_.dtype == np.float32
    assert rf32.transform(X.astype(np.float32)).dtype == np.float32
    # Documented: one model whatever the precision, the float64 draws rounded.
    np.testing.assert_array_equal(rf32.random_weights_, rf64.random_weights_.astype(np.float32))
    np.testing.assert_array_equal(rf32.random_offset_, rf64.random_offset_.astype(np.float32))
    # So the features differ by rounding only.
    Z32, Z64 = rf32.transform(X.astype(np.float32)), rf64.transform(X)
    np.testing.assert_allclose(Z32, Z64, rtol=0, atol=1e-4 * np.abs(Z64).max())


@pytest.mark.parametrize(("kernel", "fourier"), MAPS, ids=MAP_IDS)
def test_weights_are_cast_to_the_dtype_of_transform(kernel, fourier, rng):
    X = rng.standard_normal((130, 4))
    for fit_dtype, transform_dtype in [(np.float32, np.float64), (np.float64, np.float32)]:
        rf = make_features(kernel, fourier, 100).fit(X.astype(fit_dtype))
        Z = rf.transform(X.astype(transform_dtype))
        assert Z.dtype == transform_dtype
        # The reference takes the fitted weights rounded to the transform dtype.
        weights, offsets = rf.random_weights_, rf.random_offset_
        rf.random_weights_ = weights.astype(transform_dtype)
        rf.random_offset_ = offsets.astype(transform_dtype)
        assert_matches_reference(rf, X.astype(transform_dtype), Z)


# Width pairs (k, D): k below, at and above the 256-column block, and k = 1.
NESTED_WIDTHS = [1, 2, 3, 100, 256, 257, 258, 300, 599]


@pytest.mark.parametrize(("kernel", "fourier"), MAPS, ids=MAP_IDS)
def test_features_are_nested(kernel, fourier, global_dtype, rng):
    n_components = 600
    X = rng.standard_normal((130, 5)).astype(global_dtype)
    wide = make_features(kernel, fourier, n_components).fit(X)
    Z_wide = wide.transform(X)
    paired = fourier == "sincos" or KERNELS[kernel].paired_columns
    widths = [k for k in NESTED_WIDTHS if not paired or k % 2 == 0]
    for k in widths:
        narrow = make_features(kernel, fourier, k).fit(X)
        n_frequencies = narrow.random_weights_.shape[1]
        assert n_frequencies == (k // 2 if fourier == "sincos" else k)
        # Feature j depends on (random_state, j) only: bit-for-bit the same draws.
        np.testing.assert_array_equal(
            narrow.random_weights_, wide.random_weights_[:, :n_frequencies]
        )
        np.testing.assert_array_equal(narrow.random_offset_, wide.random_offset_[:n_frequencies])
        # Rescaled: the sqrt(2/D) factors round (a few ulps), and the GEMM may sum a
        # narrower block in another order, moving p by up to ~(d+1) eps |p| with
        # |p| <~ 5 here (~30 ulps; 8 ulps measured). 64 eps is 1.4e-14 in float64.
        # Relative to max(|z|, sqrt(2/k)), since cos near its zeros has no
        # relative accuracy.
        rescaled = Z_wide[:, :k].astype(np.float64) * np.sqrt(n_components / k)
        Z = narrow.transform(X).astype(np.float64)
        relative = np.abs(rescaled - Z) / np.maximum(np.abs(Z), np.sqrt(2.0 / k))
        assert relative.max() <= 64 * np.finfo(global_dtype).eps, k


@given(
    st.sampled_from(MAPS),
    st.integers(1, 400),
    st.integers(1, 400),
    st.integers(0, 2**32 - 1),
)
def test_nested_weights_property(kernel_map, k, n_components, seed):
    kernel, fourier = kernel_map
    k, n_components = sorted((k, n_components))
    X = np.ones((1, 3))
    narrow = make_features(kernel, fourier, k, random_state=seed).fit(X)
    wide = make_features(kernel, fourier, n_components, random_state=seed).fit(X)
    m = narrow.random_weights_.shape[1]
    np.testing.assert_array_equal(narrow.random_weights_, wide.random_weights_[:, :m])
    np.testing.assert_array_equal(narrow.random_offset_, wide.random_offset_[:m])


# Computes every map in a fresh interpreter, so RAYON_NUM_THREADS sizes its pool.
DETERMINISM_SCRIPT = textwrap.dedent(
    """
    import pathlib, sys
    import numpy as np
    from rfkernels import RandomFeatures

    out = pathlib.Path(sys.argv[1])
    X = np.random.default_rng(0).standard_normal((300, 7))
    for kernel, fourier, sampling in {maps!r}:
        for dtype in ("float32", "float64"):
            rf = RandomFeatures(kernel, n_components=600, gamma=0.3, bias=0.5,
                                fourier=fourier, sampling=sampling, random_state=7)
            Z = rf.fit_transform(X.astype(dtype))
            np.save(out / f"{{kernel}}-{{fourier}}-{{sampling}}-{{dtype}}.npy", Z)
    threads = [l for l in open("/proc/self/status") if l.startswith("Threads:")]
    (out / "threads.txt").write_text(threads[0].split()[1] if threads else "-1")
    """
)


def assert_thread_count_does_not_change_a_bit(tmp_path, monkeypatch, maps):
    """The features of ``maps`` ((kernel, fourier, sampling) triples) computed with 1
    and 2 rayon threads, in fresh processes, are bit-identical."""
    results = {}
    for n_threads in ("1", "2"):
        out = tmp_path / n_threads
        out.mkdir()
        monkeypatch.setenv("RAYON_NUM_THREADS", n_threads)
        # One BLAS thread, so the thread count below measures the rayon pool.
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        monkeypatch.setenv("MKL_NUM_THREADS", "1")
        subprocess.run(
            [sys.executable, "-c", DETERMINISM_SCRIPT.format(maps=maps), str(out)],
            check=True,
            timeout=120,
        )
        results[n_threads] = out
    # The environment variable took effect: the second process ran more threads.
    threads = {n: int((out / "threads.txt").read_text()) for n, out in results.items()}
    assert threads["2"] > threads["1"] > 0
    for kernel, fourier, sampling in maps:
        for dtype in ("float32", "float64"):
            name = f"{kernel}-{fourier}-{sampling}-{dtype}.npy"
            one, two = np.load(results["1"] / name), np.load(results["2"] / name)
            assert one.shape == (300, 600)
            assert one.dtype == dtype
            assert np.array_equal(one, two), name


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for threads")
def test_thread_count_does_not_change_a_bit(tmp_path, monkeypatch):
    maps = [(kernel, fourier, "iid") for kernel, fourier in MAPS]
    assert_thread_count_does_not_change_a_bit(tmp_path, monkeypatch, maps)


@pytest.mark.parametrize(("kernel", "fourier"), MAPS, ids=MAP_IDS)
def test_n_jobs_does_not_change_a_bit(kernel, fourier, global_dtype, rng):
    X = rng.standard_normal((700, 5)).astype(global_dtype)  # 6 chunks of 128 rows
    features = [
        make_features(kernel, fourier, 300, n_jobs=n_jobs).fit(X).transform(X)
        for n_jobs in (1, 2, None)
    ]
    assert np.array_equal(features[0], features[1])
    assert np.array_equal(features[0], features[2])


@pytest.mark.parametrize(("kernel", "fourier"), MAPS, ids=MAP_IDS)
def test_random_state(kernel, fourier, rng):
    X = rng.standard_normal((50, 5))
    Z0 = make_features(kernel, fourier, 200, random_state=0).fit_transform(X)
    Z0_again = make_features(kernel, fourier, 200, random_state=0).fit_transform(X)
    Z1 = make_features(kernel, fourier, 200, random_state=1).fit_transform(X)
    assert np.array_equal(Z0, Z0_again)
    # Independent draws: most entries differ (for step features a given entry
    # agrees with probability ~1/2 at most).
    assert np.mean(Z0 != Z1) > 0.25
    # A RandomState instance in the same state gives the same features.
    rf_a = make_features(kernel, fourier, 200, random_state=np.random.RandomState(3))
    rf_b = make_features(kernel, fourier, 200, random_state=np.random.RandomState(3))
    assert np.array_equal(rf_a.fit_transform(X), rf_b.fit_transform(X))


@pytest.mark.parametrize("data", ["gaussian", "constant", "zeros"])
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_gamma_scale_follows_the_documented_formulas(kernel, data, global_dtype, rng):
    X = {
        "gaussian": 3.0 * rng.standard_normal((200, 4)) + 1.0,
        "constant": np.full((20, 4), 2.0),
        "zeros": np.zeros((20, 4)),
    }[data].astype(global_dtype)
    rf = RandomFeatures(kernel, n_components=64, gamma="scale", random_state=0).fit(X)
    # The reference statistic is taken in float64; numpy's float32 var/std/mean
    # accumulate in float32 (pairwise), within ~10 eps32 relative on 800 values.
    rtol = 1e-5 if global_dtype == np.float32 else 1e-12
    np.testing.assert_allclose(rf.gamma_, scale_gamma(kernel, X.astype(np.float64)), rtol=rtol)
    # ...and it is the gamma the weights were drawn with.
    explicit = RandomFeatures(kernel, n_components=64, gamma=rf.gamma_, random_state=0).fit(X)
    np.testing.assert_array_equal(rf.random_weights_, explicit.random_weights_)
    np.testing.assert_array_equal(rf.transform(X), explicit.transform(X))
