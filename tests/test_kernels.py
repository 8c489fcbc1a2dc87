"""rfkernels.kernels.kernel_matrix against the numpy reference and scikit-learn."""

import numpy as np
import pytest
from _reference import angles
from _reference import kernel_matrix as reference_kernel_matrix
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from rfkernels import KERNELS
from rfkernels.kernels import kernel_matrix
from sklearn.gaussian_process.kernels import Matern
from sklearn.metrics.pairwise import laplacian_kernel, rbf_kernel

EPS = np.finfo(np.float64).eps
TINY = np.finfo(np.float64).smallest_subnormal
ARCCOS_KERNELS = [kernel for kernel, info in KERNELS.items() if info.uses_bias]

# (n_samples_X, n_samples_Y, n_features): single entries, one row against many,
# row counts off the 32-row chunk of the core.
SHAPES = [(1, 1, 1), (1, 50, 3), (50, 1, 3), (300, 7, 5), (7, 300, 5), (33, 33, 1), (65, 40, 10)]


def kernel_tolerance(X, Y, kernel, gamma, bias):
    """Per-entry absolute error bound of a float64 kernel matrix (both sides' share).

    - rbf: the core forms ||x||^2 + ||y||^2 - 2 x.y (as scikit-learn does), off by
      <= (d + 3) eps (||x||^2 + ||y||^2); K = exp(-gamma s) moves by gamma K |ds|,
      and exp itself is within a few ulps of K.
    - laplacian: sum_k |x_k - y_k| is off by <= (d + 1) eps ||x - y||_1 (reference
      likewise); K moves by gamma K |ds|.
    - relu, step (and nngp, ntk at depth 1): cos t = u.v / (|u||v|) is off by
      dc <= (2 d + 6) eps per side (dot product, two norms, a square root and a
      division). arccos is ill-conditioned at t = 0 and pi: |d acos| <= min((pi/2)
      sqrt(dc), dc / sqrt(1 - (|c| + dc)^2)). step = 1 - t/pi moves by dt/pi; relu
      moves by |dK/dt| dt + (1/2)|K''| dt^2
      <= N sin(t) dt + 0.7 N dt^2, with N = |u||v| >= |K|, plus its rounding;
      both sides compute on rows scaled by powers of two and scale the result
      once, so a subnormal result is off by a few of the smallest subnormals.

    A factor 2 of safety covers second-order terms.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = X if Y is None else np.asarray(Y, dtype=np.float64)
    d = X.shape[1]
    K = reference_kernel_matrix(X, Y, kernel=kernel, gamma=gamma, bias=bias)
    if kernel == "rbf":
        sq_norms = np.sum(X**2, axis=1)[:, None] + np.sum(Y**2, axis=1)[None, :]
        distance_error = 2 * (d + 3) * EPS * sq_norms
        return 2 * (gamma * K * distance_error + 4 * EPS * K)
    if kernel == "laplacian":
        l1 = np.sum(np.abs(X[:, None, :] - Y[None, :, :]), axis=-1)
        distance_error = 2 * (d + 1) * EPS * l1
        return 2 * (gamma * K * distance_error + 4 * EPS * K)
    if kernel.startswith("matern"):
        # s = sum_k (x_k - y_k)^2 summed directly: relative error <= (d + 2) eps, so
        # z = c sqrt(s) is off by <= (d + 3) eps z / 2 + eps z; |dk/dz| z <= 1 for
        # the three profiles (z e^-z, z^2 e^-z ... all <= 1), and the profile and exp
        # round a few times: |dK| <= (d + 5) eps + 6 eps.
        return np.full_like(K, 2 * (d + 11) * EPS)
    if kernel == "cauchy":
        # A product of d factors 1 / (1 + gamma diff^2), each within 4 eps relative.
        return 2 * (4 * d + 1) * EPS * K
    cos_t, _, N = angles(X, Y, gamma, bias)
    dc = 2 * (2 * d + 6) * EPS
    sin_bound = 1 - np.minimum(np.abs(cos_t) + dc, 1.0) ** 2
    dt = np.minimum(
        np.pi / 2 * np.sqrt(dc),
        np.divide(dc, np.sqrt(sin_bound), out=np.full_like(N, np.inf), where=sin_bound > 0),
    )
    if kernel == "step":
        return 2 * (dt / np.pi + 4 * EPS)
    sin_t = np.sqrt(1 - cos_t**2)
    relu = 2 * (N * (sin_t * dt + 0.7 * dt**2) + 4 * (d + 2) * EPS * N + 2 * TINY)
    if kernel == "ntk":
        # relu + (u.v) step: the step part moves by |u.v| dt / pi <= N dt / pi, plus
        # the rounding of u.v.
        return relu + 2 * (N * dt / np.pi + 4 * (d + 2) * EPS * N)
    return relu


def assert_kernel_close(K, X, Y, kernel, gamma, bias, expected=None):
    if expected is None:
        expected = reference_kernel_matrix(X, Y, kernel=kernel, gamma=gamma, bias=bias)
    atol = kernel_tolerance(X, Y, kernel, gamma, bias)
    assert K.shape == expected.shape
    error = np.abs(K - expected)
    bad = ~(error <= atol)  # NaN counts as bad
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise AssertionError(
            f"{bad.sum()} of {bad.size} entries differ; first at ({i}, {j}): got "
            f"{K[i, j]!r}, want {expected[i, j]!r}, tolerance {atol[i, j]:.3g}"
        )


def bias_values(kernel):
    """Biases worth testing: 0 and positive for arc-cosine kernels, else one (ignored)."""
    return [0.0, 0.7] if KERNELS[kernel].uses_bias else [0.0]


KERNEL_BIAS = [(kernel, bias) for kernel in KERNELS for bias in bias_values(kernel)]
KERNEL_BIAS_IDS = [f"{kernel}-bias{bias}" for kernel, bias in KERNEL_BIAS]


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{a}x{b}x{c}" for a, b, c in SHAPES])
@pytest.mark.parametrize(("kernel", "bias"), KERNEL_BIAS, ids=KERNEL_BIAS_IDS)
def test_matches_reference(kernel, bias, shape, rng):
    n_x, n_y, d = shape
    X, Y = rng.standard_normal((n_x, d)), rng.standard_normal((n_y, d))
    K = kernel_matrix(X, Y, kernel=kernel, gamma=0.3, bias=bias)
    assert K.dtype == np.float64
    assert K.shape == (n_x, n_y)
    assert K.flags.c_contiguous
    assert_kernel_close(K, X, Y, kernel, 0.3, bias)


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{a}x{b}x{c}" for a, b, c in SHAPES])
@pytest.mark.parametrize(
    ("kernel", "sklearn_kernel"), [("rbf", rbf_kernel), ("laplacian", laplacian_kernel)]
)
def test_matches_sklearn(kernel, sklearn_kernel, shape, rng):
    n_x, n_y, d = shape
    X, Y = rng.standard_normal((n_x, d)), rng.standard_normal((n_y, d))
    K = kernel_matrix(X, Y, kernel=kernel, gamma=0.3)
    expected = sklearn_kernel(X, Y, gamma=0.3)
    assert_kernel_close(K, X, Y, kernel, 0.3, 0.0, expected=expected)
    # Y=None against scikit-learn's Y=None as well.
    assert_kernel_close(
        kernel_matrix(X, kernel=kernel, gamma=0.3),
        X,
        None,
        kernel,
        0.3,
        0.0,
        expected=sklearn_kernel(X, gamma=0.3),
    )


@pytest.mark.parametrize("n_samples", [1, 2, 33, 300])
@pytest.mark.parametrize(("kernel", "bias"), KERNEL_BIAS, ids=KERNEL_BIAS_IDS)
def test_y_none_matches_reference_with_unit_diagonal(kernel, bias, n_samples, rng):
    X = rng.standard_normal((n_samples, 4))
    K = kernel_matrix(X, kernel=kernel, gamma=0.3, bias=bias)
    assert K.shape == (n_samples, n_samples)
    assert_kernel_close(K, X, None, kernel, 0.3, bias)
    if KERNELS[kernel].fourier:
        # Documented: exactly 1, not 1 - rounding of ||x||^2 + ||x||^2 - 2 x.x.
        np.testing.assert_array_equal(np.diag(K), 1.0)


# 33, 65 and 97 rows leave a last chunk of a single row (the core works in chunks
# of 32 rows), the other counts do not.
@pytest.mark.parametrize("n_samples", [1, 2, 32, 33, 34, 65, 97, 300])
@pytest.mark.parametrize(("kernel", "bias"), KERNEL_BIAS, ids=KERNEL_BIAS_IDS)
def test_y_none_is_exactly_symmetric(kernel, bias, n_samples, rng):
    # k(x, y) = k(y, x) for every kernel here, and with Y=None both entries come
    # from the same two rows: a Gram matrix that is not exactly symmetric breaks
    # solvers and checks that assume K == K.T (e.g. comparing triangles).
    X = rng.standard_normal((n_samples, 4))
    K = kernel_matrix(X, kernel=kernel, gamma=0.3, bias=bias)
    np.testing.assert_array_equal(K, K.T)


@pytest.mark.parametrize(("kernel", "bias"), KERNEL_BIAS, ids=KERNEL_BIAS_IDS)
def test_diagonal_is_exact_for_large_norms(kernel, bias, rng):
    # With ||x||^2 ~ 1e6 the expansion ||x||^2 + ||x||^2 - 2 x.x cancels badly;
    # Y=None must still give k(x, x) (exactly 1 for rbf and laplacian).
    X = 1e3 * rng.standard_normal((40, 3))
    K = kernel_matrix(X, kernel=kernel, gamma=1e-6, bias=bias)
    expected = reference_kernel_matrix(X, kernel=kernel, gamma=1e-6, bias=bias)
    if KERNELS[kernel].fourier:
        np.testing.assert_array_equal(np.diag(K), 1.0)
    assert_kernel_close(K, X, None, kernel, 1e-6, bias, expected=expected)


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_float32_and_integer_inputs_give_float64(kernel, rng):
    X = rng.standard_normal((20, 3))
    Y = rng.standard_normal((9, 3))
    X_int, Y_int = rng.integers(-4, 5, (20, 3)), rng.integers(-4, 5, (9, 3))
    for X_in, Y_in in [(X.astype(np.float32), Y.astype(np.float32)), (X_int, Y_int)]:
        K = kernel_matrix(X_in, Y_in, kernel=kernel, gamma=0.3, bias=0.5)
        assert K.dtype == np.float64
        # float32 and small integers convert to float64 exactly: the same bits as
        # converting first.
        X64, Y64 = X_in.astype(np.float64), Y_in.astype(np.float64)
        np.testing.assert_array_equal(
            K, kernel_matrix(X64, Y64, kernel=kernel, gamma=0.3, bias=0.5)
        )
        assert_kernel_close(K, X64, Y64, kernel, 0.3, 0.5)
        K_sym = kernel_matrix(X_in, kernel=kernel, gamma=0.3, bias=0.5)
        assert K_sym.dtype == np.float64
        np.testing.assert_array_equal(K_sym, kernel_matrix(X64, kernel=kernel, gamma=0.3, bias=0.5))


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_gamma_none_means_one_over_n_features(kernel, rng):
    X, Y = rng.standard_normal((15, 6)), rng.standard_normal((4, 6))
    K = kernel_matrix(X, Y, kernel=kernel, gamma=None, bias=0.5)
    np.testing.assert_array_equal(K, kernel_matrix(X, Y, kernel=kernel, gamma=1 / 6, bias=0.5))
    assert_kernel_close(K, X, Y, kernel, 1 / 6, 0.5)
    # Not a coincidence of the data: another gamma gives another matrix.
    assert not np.allclose(K, kernel_matrix(X, Y, kernel=kernel, gamma=1.0, bias=0.5))


def layouts(A):
    read_only = A.copy()
    read_only.setflags(write=False)
    return {
        "fortran": np.asfortranarray(A),
        "every-other-row": A[::2],
        "every-other-column": A[:, ::2],
        "reversed-rows": A[::-1],
        "reversed-columns": A[:, ::-1],
        "read-only": read_only,
    }


LAYOUTS = list(layouts(np.zeros((2, 2))))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_memory_layouts_give_the_contiguous_result(kernel, layout, rng):
    X, Y = rng.standard_normal((70, 6)), rng.standard_normal((50, 6))
    X_view, Y_view = layouts(X)[layout], layouts(Y)[layout]
    X_c, Y_c = np.ascontiguousarray(X_view), np.ascontiguousarray(Y_view)
    # The GEMM may sum in another order for other strides (reversed columns reverse
    # the inner dimension), so agreement is up to rounding, not bit-for-bit: the
    # tolerance covers both the strided and the contiguous call.
    K = kernel_matrix(X_view, Y_view, kernel=kernel, gamma=0.3, bias=0.5)
    K_c = kernel_matrix(X_c, Y_c, kernel=kernel, gamma=0.3, bias=0.5)
    assert_kernel_close(K, X_c, Y_c, kernel, 0.3, 0.5, expected=K_c)
    assert_kernel_close(K, X_c, Y_c, kernel, 0.3, 0.5)
    K_sym = kernel_matrix(X_view, kernel=kernel, gamma=0.3, bias=0.5)
    K_sym_c = kernel_matrix(X_c, kernel=kernel, gamma=0.3, bias=0.5)
    assert_kernel_close(K_sym, X_c, None, kernel, 0.3, 0.5, expected=K_sym_c)
    if KERNELS[kernel].fourier:
        np.testing.assert_array_equal(np.diag(K_sym), 1.0)


@pytest.mark.parametrize("kernel", ARCCOS_KERNELS)
def test_arccos_kernels_at_zero_inputs(kernel, rng):
    X = rng.standard_normal((6, 3))
    X[[1, 4]] = 0.0
    # bias = 0: u = 0 for the zero rows, and the kernel is defined as 0 there.
    K = kernel_matrix(X, kernel=kernel, gamma=0.5, bias=0.0)
    np.testing.assert_array_equal(K[[1, 4]], 0.0)
    np.testing.assert_array_equal(K[:, [1, 4]], 0.0)
    assert np.all(K[np.ix_([0, 2, 3, 5], [0, 2, 3, 5])] != 0)
    assert_kernel_close(K, X, None, kernel, 0.5, 0.0)
    # bias > 0: u = (0, bias) is not zero and the rows are no longer 0.
    K = kernel_matrix(X, kernel=kernel, gamma=0.5, bias=0.8)
    assert np.all(K[[1, 4]] != 0)
    assert_kernel_close(K, X, None, kernel, 0.5, 0.8)


@pytest.mark.parametrize("kernel", [k for k, info in KERNELS.items() if info.fourier])
def test_bias_is_ignored_by_shift_invariant_kernels(kernel, rng):
    X = rng.standard_normal((10, 3))
    np.testing.assert_array_equal(
        kernel_matrix(X, kernel=kernel, gamma=0.3, bias=0.0),
        kernel_matrix(X, kernel=kernel, gamma=0.3, bias=5.0),
    )


# The shift-invariant kernels with exponential tails (cauchy's are polynomial).
EXPONENTIAL_KERNELS = [k for k, info in KERNELS.items() if info.fourier and k != "cauchy"]


@pytest.mark.parametrize("kernel", EXPONENTIAL_KERNELS)
def test_far_apart_points_underflow_to_zero(kernel):
    # Pairwise L1 distances >= 2000 and squared L2 >= 2e6: exp underflows to 0
    # (below exp(-745)) without NaN or warnings.
    X = 1e3 * np.column_stack([np.arange(8.0), -np.arange(8.0)])
    K = kernel_matrix(X, kernel=kernel, gamma=1.0)
    off_diagonal = ~np.eye(8, dtype=bool)
    np.testing.assert_array_equal(K[off_diagonal], 0.0)
    np.testing.assert_array_equal(np.diag(K), 1.0)


@pytest.mark.parametrize("kernel", ARCCOS_KERNELS)
@pytest.mark.parametrize("scale", [5e-324, 1e-310, 6.4e-162, 1e-100, 1e150])
def test_arc_cosine_kernels_keep_precision_at_extreme_scales(kernel, scale, rng):
    # Rows whose squared norms underflow (1e-162) or that are subnormal themselves:
    # the kernels are homogeneous, k1(c x, y) = c k1(x, y) and k0(c x, y) = k0(x, y)
    # with bias 0, and the reference computes them without underflow.
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((5, 3))
    X[0] = 0.0  # a zero row stays zero
    tiny = scale * X
    K = kernel_matrix(tiny, Y, kernel=kernel, gamma=2.0, bias=0.0)
    assert_kernel_close(K, tiny, Y, kernel, 2.0, 0.0)
    if scale >= 1e-300:  # scale * X exact in the exponent: homogeneity holds to rounding
        factor = 1.0 if kernel == "step" else scale
        base = factor * kernel_matrix(X, Y, kernel=kernel, gamma=2.0, bias=0.0)
        np.testing.assert_allclose(K, base, rtol=1e-12, atol=1e-12 * factor)
    # Against themselves: both sides tiny, the result subnormal or zero, never NaN.
    K_sym = kernel_matrix(tiny, kernel=kernel, gamma=2.0, bias=0.0)
    assert_kernel_close(K_sym, tiny, None, kernel, 2.0, 0.0)


def test_relu_of_a_row_with_a_subnormal_squared_norm():
    # The property test's falsifying example: |u|^2 = 2 (6.4e-162)^2 is subnormal,
    # which cost the kernel 2.5% of its value when norms came from squared norms.
    X = np.array([[6.44672131e-162]])
    K = kernel_matrix(X, np.ones((1, 1)), kernel="relu", gamma=2.0, bias=0.0)
    np.testing.assert_allclose(K, [[2 * 6.44672131e-162]], rtol=4 * EPS, atol=0)


@given(
    st.sampled_from(list(KERNELS)),
    hnp.arrays(
        np.float64, st.tuples(st.integers(1, 40), st.integers(1, 6)), elements=st.floats(-5, 5)
    ),
    st.integers(1, 40),
    st.floats(0.01, 3.0),
    st.floats(0.0, 2.0),
)
def test_matches_reference_property(kernel, X, n_y, gamma, bias):
    Y = np.cos(np.arange(n_y * X.shape[1]).reshape(n_y, -1))  # deterministic, varied
    K = kernel_matrix(X, Y, kernel=kernel, gamma=gamma, bias=bias)
    assert_kernel_close(K, X, Y, kernel, gamma, bias)
    # Exact symmetry is checked deterministically in test_y_none_is_exactly_symmetric.
    K_sym = kernel_matrix(X, kernel=kernel, gamma=gamma, bias=bias)
    assert_kernel_close(K_sym, X, None, kernel, gamma, bias)


@pytest.mark.parametrize(
    ("kernel", "nu"), [("matern12", 0.5), ("matern32", 1.5), ("matern52", 2.5)]
)
def test_matern_matches_sklearn_gaussian_process_kernel(kernel, nu, rng):
    # An independent oracle: scikit-learn's Matern with length scale 1 / sqrt(2 gamma).
    X, Y = rng.standard_normal((30, 4)), rng.standard_normal((20, 4))
    gamma = 0.3
    oracle = Matern(length_scale=1 / np.sqrt(2 * gamma), nu=nu)
    np.testing.assert_allclose(
        kernel_matrix(X, Y, kernel=kernel, gamma=gamma), oracle(X, Y), rtol=1e-12, atol=1e-14
    )


def test_matern_kernels_approach_rbf_with_the_same_gamma(rng):
    # Documented: as nu grows the Matern kernel tends to the rbf kernel of the same gamma.
    X = rng.standard_normal((40, 3))
    rbf = kernel_matrix(X, kernel="rbf", gamma=0.2)
    distances = [
        np.abs(kernel_matrix(X, kernel=k, gamma=0.2) - rbf).max()
        for k in ("matern12", "matern32", "matern52")
    ]
    assert distances[0] > distances[1] > distances[2]
