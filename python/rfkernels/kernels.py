"""Exact kernel matrices: the infinite-width limits of :class:`rfkernels.RandomFeatures`."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array

from . import _core
from ._kernels import KERNELS, check_feature_params
from ._memory import check_fits_in_memory
from ._threads import resolve_n_jobs
from ._validation import naming

__all__ = ["kernel_matrix"]


@validate_params(
    {
        "X": ["array-like"],
        "Y": ["array-like", None],
        "kernel": [StrOptions(set(KERNELS))],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "bias": [Interval(Real, 0, None, closed="left")],
        "depth": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=True,
)
def kernel_matrix(
    X, Y=None, *, kernel="rbf", gamma=None, bias=0.0, depth=1, n_jobs=None
) -> np.ndarray:
    """Compute the exact kernel matrix ``K[i, j] = k(X[i], Y[j])`` in Rust.

    These are the limits of ``Z_X @ Z_Y.T`` for :class:`rfkernels.RandomFeatures`
    with the same ``kernel``, ``gamma`` and ``bias`` as ``n_components`` grows.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        Left argument.
    Y : array-like of shape (n_samples_Y, n_features), default=None
        Right argument; ``None`` means ``Y = X`` (the diagonal of the
        shift-invariant kernels is then exactly 1).
    kernel : str, default="rbf"
        One of ``rfkernels.KERNELS``: ``rbf``: ``exp(-gamma ||x - y||^2)``;
        ``laplacian``: ``exp(-gamma ||x - y||_1)``; ``relu`` / ``step``: arc-cosine
        kernels of order 1 / 0 of ``u = (sqrt(gamma) x, bias)``; ``linear``:
        ``gamma x.y + bias^2``; ``matern12`` / ``matern32`` / ``matern52``: Matern
        kernels of ``nu = 1/2, 3/2, 5/2`` of ``r = ||x - y||`` with length scale
        ``l = 1 / sqrt(2 gamma)`` (the rbf kernel's as ``nu`` grows): ``exp(-z)``,
        ``(1 + z) exp(-z)``, ``(1 + z + z^2/3) exp(-z)`` with ``z = sqrt(2 nu) r /
        l``; ``cauchy``: ``prod_i 1 / (1 + gamma (x_i - y_i)^2)``; ``nngp`` /
        ``ntk``: the NNGP and neural tangent kernels of ``depth`` hidden ReLU
        layers (see Notes).
    gamma : float, default=None
        Kernel scale; ``None`` means ``1 / n_features`` (as
        :func:`sklearn.metrics.pairwise.rbf_kernel`).
    bias : float, default=0.0
        Offset scale of relu, step, linear, nngp and ntk (ignored by the
        shift-invariant kernels).
    depth : int, default=1
        Hidden layers of the nngp and ntk kernels; the other kernels take only 1.
    n_jobs : int or None, default=None
        Threads for the Rust core (``None``: all cores or ``RAYON_NUM_THREADS``).

    Returns
    -------
    K : ndarray of shape (n_samples_X, n_samples_Y), float64
        The kernel matrix, computed and returned in float64 whatever the input
        dtype (near-ridgeless solves need the precision).

    Notes
    -----
    The deep kernels of ``u = (sqrt(gamma) x, bias)`` start from ``S_0 = T_0 = u.v``
    and recurse over the layers ``l = 1, ..., depth``::

        S_l = k1(S_{l-1}),  T_l = S_l + T_{l-1} k0(S_{l-1}),

    with the arc-cosine kernels of Cho and Saul of the previous layer's kernel,
    ``k1 = |u||v| (sin t + (pi - t) cos t) / pi`` and ``k0 = 1 - t / pi``, ``cos t =
    S_{l-1}(x, y) / (|u| |v|)`` (the norms stay: ``S_l(x, x) = |u|^2``). ``nngp`` is
    ``S_depth``, ``ntk`` is ``T_depth``: the infinite-width limits of the last hidden
    layer's kernel and of the gradient kernel of ``f(x) = v . h_L``, ``h_l =
    sqrt(2 / m) relu(W_l h_{l-1})``, ``h_0 = u``, all weights standard normal (He
    initialization in the NTK parametrization, as neural-tangents'
    ``stax.Dense(W_std=sqrt(2))`` layers after a first ``Dense`` layer of ``u``). At
    depth 1, ``nngp`` is ``relu`` and ``ntk`` is ``relu + (u.v) step``.

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels.kernels import kernel_matrix
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> kernel_matrix(X, kernel="rbf", gamma=0.5)
    array([[1.        , 0.36787944],
           [0.36787944, 1.        ]])
    """
    with naming("X"):
        X = check_array(X, dtype=np.float64, input_name="X")
    if Y is not None:
        with naming("Y"):
            Y = check_array(Y, dtype=np.float64, input_name="Y")
        if Y.shape[1] != X.shape[1]:
            raise ValueError(f"X has {X.shape[1]} features but Y has {Y.shape[1]}; they must match")
    n_rows_y = X.shape[0] if Y is None else Y.shape[0]
    check_feature_params(kernel, depth=depth)
    check_fits_in_memory((X.shape[0], n_rows_y), np.float64, "the kernel matrix")
    return _core.kernel_matrix(
        X,
        Y,
        kernel=kernel,
        gamma=float(1.0 / X.shape[1] if gamma is None else gamma),
        bias=float(bias),
        depth=int(depth),
        n_jobs=resolve_n_jobs(n_jobs),
    )
