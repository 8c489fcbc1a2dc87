"""The kernels rfkernels knows: traits from the Rust core, docs and ``gamma="scale"`` here.

The Rust core is the one registry of kernels (``_core.KERNEL_TRAITS``: which are
Fourier kernels, which take ``depth``, which samplings they allow, ...); this
module adds what only Python needs, a documentation row and the data-dependent
default of ``gamma`` for each. Everything parametrized over kernels (estimators,
tests, docs) reads :data:`KERNELS`, so a kernel added to the core and given its
row in :data:`_DOCS` gets every test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _core

__all__ = ["KERNELS", "SAMPLINGS", "KernelInfo", "check_feature_params", "is_paired"]

#: How the frequencies of random features can be drawn (``RandomFeatures(sampling=...)``):
#: independently, in orthogonal blocks, or in structured (Hadamard) orthogonal blocks; the
#: last two for the kernels with isotropic (Gaussian) weights.
SAMPLINGS: tuple[str, ...] = tuple(_core.SAMPLING_NAMES)


@dataclass(frozen=True)
class KernelInfo:
    """What is known about one kernel: the core's traits, the docs, ``gamma="scale"``.

    Attributes
    ----------
    name : str
        The kernel's name, as the estimators and the Rust core take it.
    formula : str
        The exact kernel, for documentation and error messages.
    feature_map : str
        The random feature whose inner products converge to the kernel.
    scale_gamma : callable
        ``gamma="scale"``: a ``gamma`` from the (weighted) moments of the training
        data, ``scale_gamma(n_features, variance, mean_square)``.
    fourier : bool
        Whether the kernel is shift-invariant with Fourier features, so that
        ``fourier="sincos"`` pairs are available.
    gaussian : bool
        Whether the weights are isotropic Gaussian, so that structured sampling applies.
    isotropic : bool
        Whether the weights are isotropic (a uniform direction times an independent
        radius: Gaussian, or the Matern kernels' Student-t), so that orthogonal
        sampling applies.
    paired_columns : bool
        Whether the features come in pairs of columns (ntk), so that
        ``n_components`` must be even.
    layered : bool
        Whether the exact kernel takes a ``depth`` (number of hidden layers).
    uses_bias : bool
        Whether the ``bias`` hyperparameter (offset scale) applies.
    samplings : tuple of str
        The samplings of the frequencies the kernel allows.
    """

    name: str
    formula: str
    feature_map: str
    scale_gamma: Callable[[int, float, float], float]
    fourier: bool
    gaussian: bool
    isotropic: bool
    paired_columns: bool
    layered: bool
    uses_bias: bool
    samplings: tuple[str, ...]


def _inverse(value: float) -> float:
    """``1 / value``, or 1.0 when ``value`` is 0 (constant data, as RBFSampler does)."""
    return 1.0 / value if value > 0 else 1.0


def _by_variance(d: int, var: float, mean_square: float) -> float:
    """``1 / (d var)``: unit-variance ``w.(x - x')`` for the shift-invariant kernels."""
    return _inverse(d * var)


def _by_mean_square(d: int, var: float, mean_square: float) -> float:
    """``1 / (d mean(x^2))``: unit-variance projections ``w.x`` for the arc-cosine kernels."""
    return _inverse(d * mean_square)


def _matern(dof: int, profile: str) -> tuple[str, str, Callable]:
    """The docs of the Matern kernel with ``nu = dof / 2`` (``dof`` in 1, 3, 5)."""
    return (
        f"Matern nu={dof}/2 of r = ||x - y||_2, length scale l = 1/sqrt(2 gamma): "
        f"{profile}, z = sqrt({dof}) r / l",
        f"sqrt(2/D) cos(w.x + b), w = sqrt(2 gamma) sqrt({dof}/u) g, g ~ N(0, I), "
        f"u ~ chi2({dof}) (multivariate Student-t), b ~ U[0, 2 pi)",
        _by_variance,
    )


#: Per kernel of the core's registry: ``(formula, feature map, gamma="scale" rule)``.
_DOCS: dict[str, tuple[str, str, Callable]] = {
    "rbf": (
        "exp(-gamma ||x - y||_2^2)",
        "sqrt(2/D) cos(w.x + b), w ~ N(0, 2 gamma I), b ~ U[0, 2 pi)",
        _by_variance,
    ),
    "laplacian": (
        "exp(-gamma ||x - y||_1)",
        "sqrt(2/D) cos(w.x + b), w_i ~ Cauchy(0, gamma), b ~ U[0, 2 pi)",
        lambda d, var, mean_square: _inverse(d * np.sqrt(var)),
    ),
    "relu": (
        "arc-cosine order 1: (1/pi) |u| |v| (sin t + (pi - t) cos t), "
        "u = (sqrt(gamma) x, bias), t = angle(u, v)",
        "sqrt(2/D) max(0, w.x + b), w ~ N(0, gamma I), b ~ N(0, bias^2)",
        _by_mean_square,
    ),
    "step": (
        "arc-cosine order 0: 1 - t/pi, u = (sqrt(gamma) x, bias), t = angle(u, v)",
        "sqrt(2/D) [w.x + b > 0], w ~ N(0, gamma I), b ~ N(0, bias^2)",
        _by_mean_square,
    ),
    "linear": (
        "gamma x.y + bias^2",
        "sqrt(2/D) (w.x + b), w ~ N(0, gamma/2 I), b ~ N(0, bias^2/2)",
        _by_mean_square,
    ),
    "matern12": _matern(1, "exp(-z)"),
    "matern32": _matern(3, "(1 + z) exp(-z)"),
    "matern52": _matern(5, "(1 + z + z^2/3) exp(-z)"),
    "cauchy": (
        "prod_i 1 / (1 + gamma (x_i - y_i)^2)",
        "sqrt(2/D) cos(w.x + b), w_i ~ Laplace(0, sqrt(gamma)), b ~ U[0, 2 pi)",
        _by_variance,
    ),
    "nngp": (
        "deep arc-cosine (NNGP of depth hidden ReLU layers): S_0 = u.v, "
        "S_l = arc-cosine order 1 of S_{l-1}, u = (sqrt(gamma) x, bias)",
        "as relu (depth 1): sqrt(2/D) max(0, w.x + b), w ~ N(0, gamma I), b ~ N(0, bias^2)",
        _by_mean_square,
    ),
    "ntk": (
        "neural tangent kernel of depth hidden ReLU layers: T_0 = S_0 = u.v, "
        "T_l = S_l + T_{l-1} (1 - t_{l-1}/pi), u = (sqrt(gamma) x, bias)",
        "pairs sqrt(4/D) (max(0, p), [p > 0] q), p = w.x + b, q = g.x + c, "
        "w, g ~ N(0, gamma I), b, c ~ N(0, bias^2) (depth 1: one-hidden-layer gradients)",
        _by_mean_square,
    ),
}


def _registry() -> dict[str, KernelInfo]:
    """The core's kernels, in its order, each with its docs row."""
    undocumented = sorted(set(_core.KERNEL_TRAITS) - set(_DOCS))
    if undocumented:
        raise ImportError(
            f"kernels of the Rust core without a row in _kernels._DOCS: {undocumented}"
        )
    return {
        name: KernelInfo(
            name,
            *_DOCS[name],
            **{key: value for key, value in traits.items() if key != "samplings"},
            samplings=tuple(traits["samplings"]),
        )
        for name, traits in _core.KERNEL_TRAITS.items()
    }


#: Every kernel, by name, in the order of the docs.
KERNELS: dict[str, KernelInfo] = _registry()


def is_paired(kernel: str, fourier: str) -> bool:
    """Whether the features of ``kernel`` are (cos, sin) pairs (``fourier="sincos"``)."""
    return fourier == "sincos" and KERNELS[kernel].fourier


def check_feature_params(kernel: str, *, sampling: str = "iid", depth: int = 1) -> None:
    """Raise ``ValueError`` when ``sampling`` or ``depth`` does not apply to ``kernel``.

    The Rust core decides (orthogonal sampling needs isotropic weights, structured
    sampling isotropic Gaussian ones, ``depth`` applies to the layered kernels).
    """
    _core.check_feature_params(kernel, sampling=sampling, depth=int(depth))
