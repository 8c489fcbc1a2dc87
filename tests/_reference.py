"""Plain numpy reference implementations (the oracle) of rfkernels' feature maps and kernels.

Everything here is computed in float64 with numpy's own ``cos``, ``exp``, ``arccos``,
written for clarity rather than speed, and independent of the Rust core.
"""

import numpy as np
from scipy.linalg import hadamard

FOURIER_KERNELS = ("rbf", "laplacian", "matern12", "matern32", "matern52", "cauchy")
#: Matern kernels: nu = dof / 2 and the profile k(z), z = sqrt(2 nu) r / l.
MATERN = {
    "matern12": (1, lambda z: np.exp(-z)),
    "matern32": (3, lambda z: (1 + z) * np.exp(-z)),
    "matern52": (5, lambda z: (1 + z + z**2 / 3) * np.exp(-z)),
}


def as_float64(*arrays):
    """The arrays as float64 numpy arrays (exact for float32 and small integers)."""
    return tuple(np.asarray(a, dtype=np.float64) for a in arrays)


def projections(X, W, b):
    """The random projections ``p[i, j] = x_i . w_j + b_j`` in float64."""
    X, W, b = as_float64(X, W, b)
    return X @ W + b


def feature_map(X, W, b, kernel, fourier="cos"):
    """Random features of ``X`` (n, d) for weights ``W`` (d, m) and offsets ``b`` (m,).

    - rbf, laplacian with ``fourier="cos"``: ``sqrt(2/D) cos(XW + b)``, D = m;
    - rbf, laplacian with ``fourier="sincos"``: columns ``cos(p_1), sin(p_1),
      cos(p_2), sin(p_2), ...`` times ``sqrt(2/D)``, D = 2m (``p = XW + b``; the
      estimator's offsets are zeros in this mode);
    - relu: ``sqrt(2/D) max(0, XW + b)``;
    - step: ``sqrt(2/D) [XW + b > 0]``;
    - linear: ``sqrt(2/D) (XW + b)``;
    - nngp: as relu;
    - ntk: pairs of columns ``sqrt(4/D) (max(0, p_2k), [p_2k > 0] p_2k+1)``.
    """
    p = projections(X, W, b)
    n, m = p.shape
    if kernel in FOURIER_KERNELS and fourier == "sincos":
        n_components = 2 * m
        f = np.empty((n, n_components))
        f[:, 0::2] = np.cos(p)
        f[:, 1::2] = np.sin(p)
    elif kernel in FOURIER_KERNELS:
        n_components = m
        f = np.cos(p)
    elif kernel in ("relu", "nngp"):
        n_components = m
        f = np.maximum(p, 0.0)
    elif kernel == "ntk":
        on = p[:, 0::2] > 0
        f = np.empty_like(p)
        f[:, 0::2] = np.where(on, p[:, 0::2], 0.0)
        f[:, 1::2] = np.where(on, p[:, 1::2], 0.0)
        return np.sqrt(4.0 / m) * f
    elif kernel == "step":
        n_components = m
        f = (p > 0).astype(np.float64)
    elif kernel == "linear":
        n_components = m
        f = p
    else:
        raise ValueError(f"no reference feature map for kernel {kernel!r}")
    return np.sqrt(2.0 / n_components) * f


def augment(X, gamma, bias):
    """The augmented inputs ``u = (sqrt(gamma) x, bias)`` of the arc-cosine kernels."""
    (X,) = as_float64(X)
    return np.hstack([np.sqrt(gamma) * X, np.full((X.shape[0], 1), float(bias))])


def kernel_matrix(X, Y=None, *, kernel, gamma, bias=0.0, depth=1):
    """The exact kernel matrix ``K[i, j] = k(x_i, y_j)`` (``Y = X`` when None).

    - rbf: ``exp(-gamma ||x - y||_2^2)``;
    - laplacian: ``exp(-gamma ||x - y||_1)``;
    - matern12/32/52: the Matern kernel of ``nu = 1/2, 3/2, 5/2`` with length scale
      ``l = 1 / sqrt(2 gamma)``, ``k = exp(-z)``, ``(1 + z) exp(-z)``,
      ``(1 + z + z^2/3) exp(-z)`` with ``z = sqrt(2 nu) ||x - y||_2 / l``;
    - cauchy: ``prod_i 1 / (1 + gamma (x_i - y_i)^2)``;
    - nngp, ntk: ``deep_kernel`` of ``depth`` layers (relu and ``relu + (u.v) step``
      at depth 1);
    - relu: ``(1/pi) |u| |v| (sin t + (pi - t) cos t)`` (arc-cosine, order 1);
    - step: ``1 - t/pi`` (arc-cosine, order 0);
    - linear: ``gamma x.y + bias^2``;

    where ``u = (sqrt(gamma) x, bias)``, ``v = (sqrt(gamma) y, bias)`` and ``t``
    is the angle between them; both arc-cosine kernels are 0 when ``|u|`` or
    ``|v|`` is 0.
    """
    (X,) = as_float64(X)
    (Y,) = as_float64(X if Y is None else Y)
    if kernel in FOURIER_KERNELS:
        diff = X[:, None, :] - Y[None, :, :]
        if kernel == "rbf":
            return np.exp(-gamma * np.sum(diff**2, axis=-1))
        if kernel == "cauchy":
            return np.prod(1.0 / (1.0 + gamma * diff**2), axis=-1)
        if kernel in MATERN:
            dof, profile = MATERN[kernel]
            return profile(np.sqrt(2 * dof * gamma * np.sum(diff**2, axis=-1)))
        return np.exp(-gamma * np.sum(np.abs(diff), axis=-1))
    if kernel == "linear":
        return gamma * X @ Y.T + float(bias) ** 2
    if kernel not in ("relu", "step", "nngp", "ntk"):
        raise ValueError(f"no reference kernel for {kernel!r}")
    cos_t, nonzero, norms = angles(X, Y, gamma, bias)
    # The kernels are homogeneous: k1(u, v) = |u||v| k1(u/|u|, v/|v|) and k0 is
    # scale-free, so they are computed on unit vectors and scaled once at the end.
    unit = nonzero.astype(np.float64)
    if kernel in ("relu", "step"):
        relu, step = arc_cosine(cos_t, unit)
        return norms * relu if kernel == "relu" else step
    return norms * deep_kernel(cos_t, unit, depth)[0 if kernel == "nngp" else 1]


def angles(X, Y, gamma, bias):
    """``(cos t, nonzero, |u||v|)`` for the augmented rows ``u`` of X and ``v`` of Y.

    ``cos t = u.v / (|u||v|)`` (1 where ``u`` or ``v`` is zero, which ``nonzero``
    marks), computed without underflow or overflow whatever the rows' magnitudes:
    each row of ``[X, bias]`` is first divided by a power of two (exactly) to bring
    its largest entry to [0.5, 1), so a row of 1e-162, whose squared norm is
    subnormal, keeps full precision. ``|u||v|`` is rounded once, at the end.
    """
    X, Y = as_float64(X, Y)
    U, e_u = scaled_augment(X, gamma, bias)
    V, e_v = scaled_augment(Y, gamma, bias)
    u_norms, v_norms = np.linalg.norm(U, axis=1), np.linalg.norm(V, axis=1)
    nonzero = (u_norms[:, None] > 0) & (v_norms[None, :] > 0)
    scaled_norms = u_norms[:, None] * v_norms[None, :]
    cos_t = np.ones_like(scaled_norms)
    np.divide(U @ V.T, scaled_norms, out=cos_t, where=nonzero)
    norms = np.ldexp(scaled_norms, e_u[:, None] + e_v[None, :])
    return np.clip(cos_t, -1.0, 1.0), nonzero, norms


def scaled_augment(X, gamma, bias):
    """``(augment(2^-e X, gamma, 2^-e bias), e)``, row by row, with ``e`` the binary
    exponent of the row's largest entry of ``[X, bias]`` (0 for a zero row)."""
    largest = np.maximum(np.max(np.abs(X), axis=1), abs(float(bias)))
    _, e = np.frexp(largest)
    scaled = np.ldexp(X, -e[:, None])
    return np.hstack([np.sqrt(gamma) * scaled, np.ldexp(float(bias), -e)[:, None]]), e


def arc_cosine(dot, norms):
    """Cho and Saul's arc-cosine kernels of orders 1 and 0 from ``u.v`` and ``|u||v|``.

    ``(|u||v| (sin t + (pi - t) cos t) / pi, 1 - t / pi)`` with ``cos t = u.v / (|u||v|)``;
    both 0 where ``|u||v| = 0``.
    """
    nonzero = norms > 0
    cos_t = np.ones_like(dot)
    np.divide(dot, norms, out=cos_t, where=nonzero)
    t = np.arccos(np.clip(cos_t, -1.0, 1.0))
    relu = norms * (np.sin(t) + (np.pi - t) * np.cos(t)) / np.pi
    step = 1.0 - t / np.pi
    return np.where(nonzero, relu, 0.0), np.where(nonzero, step, 0.0)


def deep_kernel(dot, norms, depth):
    """``(S_depth, T_depth)``: the NNGP and NTK of ``depth`` hidden ReLU layers.

    ``S_0 = T_0 = u.v``; ``S_l = k1(S_{l-1})``, ``T_l = S_l + T_{l-1} k0(S_{l-1})`` with
    the arc-cosine kernels of orders 1 and 0 (the norms ``|u||v|`` stay the same).
    """
    S, T = dot, dot
    for _ in range(depth):
        S, derivative = arc_cosine(S, norms)
        T = S + T * derivative
    return S, T


def scale_gamma(kernel, X):
    """``gamma="scale"`` as documented in ``rfkernels._kernels``.

    ``1 / (n_features * X.var())`` for rbf, the Matern kernels and cauchy,
    ``1 / (n_features * X.std())`` for laplacian, ``1 / (n_features * mean(X**2))`` for
    relu, step and linear; 1.0 when the statistic is 0 (constant data).
    """
    X = np.asarray(X)
    statistic = {
        **dict.fromkeys(("rbf", "cauchy", *MATERN), np.var),
        "laplacian": np.std,
        **dict.fromkeys(("nngp", "ntk"), lambda a: np.mean(a**2)),
        "relu": lambda a: np.mean(a**2),
        "step": lambda a: np.mean(a**2),
        "linear": lambda a: np.mean(a**2),
    }[kernel](X)
    value = X.shape[1] * float(statistic)
    return 1.0 / value if value > 0 else 1.0


def structured_blocks(diagonals):
    """The dense ``P x P`` matrices ``W_b = H S_b2 H S_b1 H S_b0`` of structured features.

    ``diagonals`` has shape (n_blocks, 3, P): the random diagonals ``S_bk`` in the
    order they apply; ``H`` is Sylvester's (unnormalized) Hadamard matrix. Row ``i``
    of ``W_b`` is frequency ``b P + i`` in the padded input space.
    """
    diagonals = np.asarray(diagonals, dtype=np.float64)
    P = diagonals.shape[2]
    H = hadamard(P).astype(np.float64)
    blocks = []
    for block in diagonals:
        W = np.eye(P)
        for diagonal in block:
            W = H @ (diagonal[:, None] * W)
        blocks.append(W)
    return np.array(blocks).reshape(-1, P, P)


def structured_weights(diagonals, n_features_in, n_frequencies):
    """The dense weights ``(n_features_in, n_frequencies)`` of structured features.

    The inputs are zero-padded to ``P``, so only the first ``n_features_in`` columns
    of each block act: ``W[:, j]`` is row ``j mod P`` of block ``j // P``, truncated.
    """
    blocks = structured_blocks(diagonals)
    rows = blocks.reshape(-1, blocks.shape[-1])[:n_frequencies]
    return rows[:, :n_features_in].T
