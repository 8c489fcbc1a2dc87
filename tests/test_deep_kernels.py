"""Deep NNGP and NTK kernels of ReLU networks: recursion, wide networks, KernelRidge, errors."""

import numpy as np
import pytest
from _reference import augment, deep_kernel
from _reference import kernel_matrix as reference_kernel_matrix
from rfkernels import KernelRidge, _core
from rfkernels.kernels import kernel_matrix
from sklearn.kernel_ridge import KernelRidge as SklearnKernelRidge

DEPTHS = [1, 2, 3, 5]


@pytest.mark.parametrize("kernel", ["nngp", "ntk"])
@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("bias", [0.0, 0.7])
@pytest.mark.parametrize(("n_x", "n_y", "d"), [(1, 1, 1), (7, 5, 3), (40, 33, 2)])
def test_recursion_matches_numpy(kernel, depth, bias, n_x, n_y, d, rng):
    X, Y = rng.standard_normal((n_x, d)), rng.standard_normal((n_y, d))
    K = kernel_matrix(X, Y, kernel=kernel, gamma=0.4, bias=bias, depth=depth)
    expected = reference_kernel_matrix(X, Y, kernel=kernel, gamma=0.4, bias=bias, depth=depth)
    # Each layer's angle is as accurate as the first one's (the same acos of a
    # cosine computed to a few ulps); the kernels stay O(|u||v|), and T_L sums
    # L + 1 terms: a relative 1e-10 is ~1e6 ulps of headroom for ill-conditioned
    # angles near 0 and pi (acos' condition number there is 1/sin t).
    scale = np.sqrt(np.outer(np.diag(augment(X, 0.4, bias) @ augment(X, 0.4, bias).T),
                             np.diag(augment(Y, 0.4, bias) @ augment(Y, 0.4, bias).T)))  # fmt: skip
    np.testing.assert_allclose(K, expected, rtol=0, atol=1e-10 * (depth + 1) * scale.max())


@pytest.mark.parametrize("depth", DEPTHS)
def test_self_kernels_have_the_layer_invariant_diagonal(depth, rng):
    # S_L(x, x) = |u|^2 exactly (the arc-cosine of a vector with itself keeps its
    # norm), so T_L(x, x) = (L + 1) |u|^2; the matrices are exactly symmetric.
    X = rng.standard_normal((33, 4))
    sq_norms = np.sum(augment(X, 0.3, 0.5) ** 2, axis=1)
    S = kernel_matrix(X, kernel="nngp", gamma=0.3, bias=0.5, depth=depth)
    T = kernel_matrix(X, kernel="ntk", gamma=0.3, bias=0.5, depth=depth)
    np.testing.assert_allclose(np.diag(S), sq_norms, rtol=4e-16 * 4)
    np.testing.assert_allclose(np.diag(T), (depth + 1) * sq_norms, rtol=4e-16 * 4 * (depth + 1))
    np.testing.assert_array_equal(S, S.T)
    np.testing.assert_array_equal(T, T.T)


def test_depth_one_kernels_are_the_one_hidden_layer_ones(rng):
    X = rng.standard_normal((20, 3))
    relu = kernel_matrix(X, kernel="relu", gamma=0.5, bias=0.3)
    step = kernel_matrix(X, kernel="step", gamma=0.5, bias=0.3)
    dot = kernel_matrix(X, kernel="linear", gamma=0.5, bias=0.3)
    np.testing.assert_allclose(kernel_matrix(X, kernel="nngp", gamma=0.5, bias=0.3), relu)
    # ntk forms u.v from rows scaled by powers of two, linear from x.y: the two
    # round differently, by a few ulps of |u||v| (not of a small entry).
    np.testing.assert_allclose(
        kernel_matrix(X, kernel="ntk", gamma=0.5, bias=0.3),
        relu + dot * step,
        rtol=1e-14,
        atol=1e-15 * np.abs(np.diag(dot)).max(),
    )


def wide_network_kernels(U, depth, width, rng):
    """Empirical NNGP and NTK of one random ReLU MLP of the given width.

    ``g_1 = W_1 u``, ``h_l = sqrt(2 / m) relu(g_l)``, ``g_{l+1} = W_{l+1} h_l``,
    ``f = v . h_L``, all weights standard normal (the kernels' parametrization).
    NNGP: ``h_L . h_L'``. NTK: the gradients' inner product, ``sum_l (delta_l .
    delta_l') (h_{l-1} . h_{l-1}') + h_L . h_L'`` with ``h_0 = u`` and the
    backpropagated ``delta_l = df/dg_l``.
    """
    scale = np.sqrt(2.0 / width)
    weights = [rng.standard_normal((U.shape[1], width))]
    weights += [rng.standard_normal((width, width)) for _ in range(depth - 1)]
    v = rng.standard_normal(width)
    hidden, pre = [U], []
    for W in weights:
        pre.append(hidden[-1] @ W)
        hidden.append(scale * np.maximum(pre[-1], 0.0))
    nngp = hidden[-1] @ hidden[-1].T
    ntk = nngp.copy()
    delta = scale * (pre[-1] > 0) * v
    for layer in range(depth - 1, -1, -1):
        ntk += (delta @ delta.T) * (hidden[layer] @ hidden[layer].T)
        if layer > 0:
            delta = scale * (pre[layer - 1] > 0) * (delta @ weights[layer].T)
    return nngp, ntk


def test_wide_random_networks_converge_to_the_kernels():
    # A random MLP's kernels deviate from their limits by O(1/sqrt(width)). Averaged
    # over 4 networks, the relative Frobenius errors at width 4096 must be small
    # (measured over 4 seeds: <= 0.047 for depths 1-3, both kernels), and pooled over
    # depths 1-3 and both kernels they must fall by about sqrt(16) = 4 from width
    # 256 (measured pooled ratios 3-5; per depth and kernel they range 1.6-8, too
    # noisy alone).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    U = augment(X, 0.5, 0.4)
    errors = {256: [], 4096: []}
    for depth in (1, 2, 3):
        limits = [
            kernel_matrix(X, kernel=kernel, gamma=0.5, bias=0.4, depth=depth)
            for kernel in ("nngp", "ntk")
        ]
        for width, found in errors.items():
            draws = [wide_network_kernels(U, depth, width, rng) for _ in range(4)]
            for k, K in enumerate(limits):
                mean = np.mean([draw[k] for draw in draws], axis=0)
                found.append(np.linalg.norm(mean - K) / np.linalg.norm(K))
    assert max(errors[4096]) < 0.08, np.round(errors[4096], 3)
    ratio = np.mean(errors[256]) / np.mean(errors[4096])
    assert 2.0 < ratio < 8.0, (np.round(errors[256], 3), np.round(errors[4096], 3))


@pytest.mark.parametrize("depth", [1, 3])
@pytest.mark.parametrize("kernel", ["nngp", "ntk"])
def test_kernel_ridge_fits_the_deep_kernels(kernel, depth, rng):
    X = rng.standard_normal((60, 3))
    y = np.sin(X).sum(axis=1)
    X_test = rng.standard_normal((25, 3))
    model = KernelRidge(
        kernel, gamma=0.5, bias=0.2, depth=depth, alphas=[0.1], fit_intercept=False
    ).fit(X, y)
    # The oracle solves on the core's kernel (checked against numpy above; near-
    # parallel rows make numpy's arccos differ by ~1e-10, which the solve amplifies).
    params = {"kernel": kernel, "gamma": 0.5, "bias": 0.2, "depth": depth}
    oracle = SklearnKernelRidge(alpha=0.1, kernel="precomputed").fit(kernel_matrix(X, **params), y)
    expected = oracle.predict(kernel_matrix(X_test, X, **params))
    np.testing.assert_allclose(model.predict(X_test), expected, rtol=1e-9, atol=1e-12)
    # And the kernel of depth d is not the one of depth 1 (depth reaches the core).
    if depth > 1:
        shallow = KernelRidge(kernel, gamma=0.5, bias=0.2, alphas=[0.1], fit_intercept=False)
        assert np.abs(shallow.fit(X, y).predict(X_test) - expected).max() > 1e-3
    assert model.score(X, y) > 0.9


def test_depth_errors_are_clear(rng):
    X = rng.standard_normal((10, 2))
    y = X[:, 0]
    with pytest.raises(ValueError, match="depth=2 applies to the layered kernels"):
        KernelRidge("rbf", depth=2).fit(X, y)
    with pytest.raises(ValueError, match="depth"):
        KernelRidge("ntk", depth=0).fit(X, y)
    with pytest.raises(ValueError, match="depth"):
        kernel_matrix(X, kernel="ntk", depth=0)
    with pytest.raises(ValueError, match="depth applies to the nngp and ntk kernels only"):
        _core.kernel_matrix(X, kernel="relu", gamma=1.0, bias=0.0, depth=2)
    with pytest.raises(ValueError, match="at least 1"):
        _core.kernel_matrix(X, kernel="ntk", gamma=1.0, bias=0.0, depth=0)


def test_numpy_recursion_is_the_arc_cosine_composition(rng):
    # The oracle itself: at depth 2 the NNGP is k1 applied to k1(u.v) with the norms
    # kept, written out without deep_kernel.
    U = augment(rng.standard_normal((5, 3)), 0.5, 0.5)
    norms = np.outer(np.linalg.norm(U, axis=1), np.linalg.norm(U, axis=1))

    def k1(dot):
        t = np.arccos(np.clip(dot / norms, -1, 1))
        return norms * (np.sin(t) + (np.pi - t) * np.cos(t)) / np.pi

    S, _ = deep_kernel(U @ U.T, norms, 2)
    np.testing.assert_allclose(S, k1(k1(U @ U.T)), rtol=1e-14)
