"""Registry of the kernels rfkernels knows: names, formulas and data-dependent defaults.

Everything that is parametrized over kernels (estimators, tests, docs) reads this
registry, so adding a kernel here and in the Rust core gives it every test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _core

__all__ = [
    "KERNELS",
    "SAMPLINGS",
    "KernelInfo",
    "check_depth",
    "check_sampling",
    "is_paired",
]

#: How the frequencies of random features can be drawn (``RandomFeatures(sampling=...)``):
#: independently, in orthogonal blocks, or in structured (Hadamard) orthogonal blocks; the
#: last two for the kernels with isotropic Gaussian weights.
SAMPLINGS: tuple[str, ...] = ("iid", "orthogonal", "structured")


@dataclass(frozen=True)
class KernelInfo:
    """What the Python layer needs to know about one kernel.

    Attributes
    ----------
    name : str
        The kernel's name, as the estimators and the Rust core take it.
    formula : str
        The exact kernel, for documentation and error messages.
    feature_map : str
        The random feature whose inner products converge to the kernel.
    fourier : bool
        Whether the kernel is shift-invariant with Fourier features, so that
        ``fourier="sincos"`` pairs are available.
    uses_bias : bool
        Whether the ``bias`` hyperparameter (offset scale) applies.
    gaussian : bool
        Whether the weights are isotropic Gaussian, so that structured (and
        orthogonal) sampling applies.
    paired_columns : bool
        Whether the features come in pairs of columns (ntk), so that
        ``n_components`` must be even.
    layered : bool
        Whether the exact kernel takes a ``depth`` (number of hidden layers).
    isotropic : bool
        Whether the weights are isotropic (a uniform direction times an independent
        radius: Gaussian, or the Matern kernels' Student-t), so that orthogonal
        sampling applies. Defaults to ``gaussian``.
    scale_gamma : callable
        ``gamma="scale"``: a ``gamma`` from the (weighted) moments of the training
        data, ``scale_gamma(n_features, variance, mean_square)``.
    """

    name: str
    formula: str
    feature_map: str
    fourier: bool
    uses_bias: bool
    gaussian: bool
    scale_gamma: Callable[[int, float, float], float]
    paired_columns: bool = False
    layered: bool = False
    isotropic: bool | None = None

    def __post_init__(self) -> None:
        """Gaussian weights are isotropic: ``isotropic`` defaults to ``gaussian``."""
        if self.isotropic is None:
            object.__setattr__(self, "isotropic", self.gaussian)


def _inverse(value: float) -> float:
    """``1 / value``, or 1.0 when ``value`` is 0 (constant data, as RBFSampler does)."""
    return 1.0 / value if value > 0 else 1.0


def _matern(name: str, dof: int, profile: str) -> KernelInfo:
    """The Matern kernel with ``nu = dof / 2`` (``dof`` in 1, 3, 5)."""
    return KernelInfo(
        name=name,
        formula=f"Matern nu={dof}/2 of r = ||x - y||_2, length scale l = 1/sqrt(2 gamma): "
        f"{profile}, z = sqrt({dof}) r / l",
        feature_map=f"sqrt(2/D) cos(w.x + b), w = sqrt(2 gamma) sqrt({dof}/u) g, g ~ N(0, I), "
        f"u ~ chi2({dof}) (multivariate Student-t), b ~ U[0, 2 pi)",
        fourier=True,
        uses_bias=False,
        gaussian=False,
        scale_gamma=lambda d, var, mean_square: _inverse(d * var),
        isotropic=True,
    )


KERNELS: dict[str, KernelInfo] = {
    "rbf": KernelInfo(
        name="rbf",
        formula="exp(-gamma ||x - y||_2^2)",
        feature_map="sqrt(2/D) cos(w.x + b), w ~ N(0, 2 gamma I), b ~ U[0, 2 pi)",
        fourier=True,
        uses_bias=False,
        gaussian=True,
        scale_gamma=lambda d, var, mean_square: _inverse(d * var),
    ),
    "laplacian": KernelInfo(
        name="laplacian",
        formula="exp(-gamma ||x - y||_1)",
        feature_map="sqrt(2/D) cos(w.x + b), w_i ~ Cauchy(0, gamma), b ~ U[0, 2 pi)",
        fourier=True,
        uses_bias=False,
        gaussian=False,
        scale_gamma=lambda d, var, mean_square: _inverse(d * np.sqrt(var)),
    ),
    "relu": KernelInfo(
        name="relu",
        formula="arc-cosine order 1: (1/pi) |u| |v| (sin t + (pi - t) cos t), "
        "u = (sqrt(gamma) x, bias), t = angle(u, v)",
        feature_map="sqrt(2/D) max(0, w.x + b), w ~ N(0, gamma I), b ~ N(0, bias^2)",
        fourier=False,
        uses_bias=True,
        gaussian=True,
        scale_gamma=lambda d, var, mean_square: _inverse(d * mean_square),
    ),
    "step": KernelInfo(
        name="step",
        formula="arc-cosine order 0: 1 - t/pi, u = (sqrt(gamma) x, bias), t = angle(u, v)",
        feature_map="sqrt(2/D) [w.x + b > 0], w ~ N(0, gamma I), b ~ N(0, bias^2)",
        fourier=False,
        uses_bias=True,
        gaussian=True,
        scale_gamma=lambda d, var, mean_square: _inverse(d * mean_square),
    ),
    "linear": KernelInfo(
        name="linear",
        formula="gamma x.y + bias^2",
        feature_map="sqrt(2/D) (w.x + b), w ~ N(0, gamma/2 I), b ~ N(0, bias^2/2)",
        fourier=False,
        uses_bias=True,
        gaussian=True,
        scale_gamma=lambda d, var, mean_square: _inverse(d * mean_square),
    ),
    "matern12": _matern("matern12", dof=1, profile="exp(-z)"),
    "matern32": _matern("matern32", dof=3, profile="(1 + z) exp(-z)"),
    "matern52": _matern("matern52", dof=5, profile="(1 + z + z^2/3) exp(-z)"),
    "cauchy": KernelInfo(
        name="cauchy",
        formula="prod_i 1 / (1 + gamma (x_i - y_i)^2)",
        feature_map="sqrt(2/D) cos(w.x + b), w_i ~ Laplace(0, sqrt(gamma)), b ~ U[0, 2 pi)",
        fourier=True,
        uses_bias=False,
        gaussian=False,
        scale_gamma=lambda d, var, mean_square: _inverse(d * var),
    ),
    "nngp": KernelInfo(
        name="nngp",
        formula="deep arc-cosine (NNGP of depth hidden ReLU layers): S_0 = u.v, "
        "S_l = arc-cosine order 1 of S_{l-1}, u = (sqrt(gamma) x, bias)",
        feature_map="as relu (depth 1): sqrt(2/D) max(0, w.x + b), w ~ N(0, gamma I), "
        "b ~ N(0, bias^2)",
        fourier=False,
        uses_bias=True,
        gaussian=True,
        scale_gamma=lambda d, var, mean_square: _inverse(d * mean_square),
        layered=True,
    ),
    "ntk": KernelInfo(
        name="ntk",
        formula="neural tangent kernel of depth hidden ReLU layers: T_0 = S_0 = u.v, "
        "T_l = S_l + T_{l-1} (1 - t_{l-1}/pi), u = (sqrt(gamma) x, bias)",
        feature_map="pairs sqrt(4/D) (max(0, p), [p > 0] q), p = w.x + b, q = g.x + c, "
        "w, g ~ N(0, gamma I), b, c ~ N(0, bias^2) (depth 1: one-hidden-layer gradients)",
        fourier=False,
        uses_bias=True,
        gaussian=False,
        scale_gamma=lambda d, var, mean_square: _inverse(d * mean_square),
        paired_columns=True,
        layered=True,
    ),
}

assert tuple(KERNELS) == tuple(_core.KERNEL_NAMES), "registry and Rust core disagree"
assert SAMPLINGS == tuple(_core.SAMPLING_NAMES), "samplings and Rust core disagree"


def is_paired(kernel: str, fourier: str) -> bool:
    """Whether the features of ``kernel`` are (cos, sin) pairs (``fourier="sincos"``)."""
    return fourier == "sincos" and KERNELS[kernel].fourier


def check_depth(kernel: str, depth: int) -> None:
    """Raise ``ValueError`` when ``depth`` is not 1 for a kernel without layers."""
    if depth != 1 and not KERNELS[kernel].layered:
        layered = ", ".join(name for name, info in KERNELS.items() if info.layered)
        raise ValueError(
            f"depth={depth} applies to the layered kernels ({layered}) only; the {kernel!r} "
            "kernel takes depth=1"
        )


def check_sampling(kernel: str, sampling: str) -> None:
    """Raise ``ValueError`` when ``sampling`` does not apply to ``kernel``.

    Orthogonal sampling needs isotropic weights, structured sampling isotropic
    Gaussian ones; the other kernels are iid only.
    """
    if sampling == "iid":
        return
    # Orthogonal blocks keep any isotropic law (directions x radii); structured
    # blocks have fixed norms, close to Gaussian ones only.
    attribute, kind = {
        "orthogonal": ("isotropic", "isotropic"),
        "structured": ("gaussian", "isotropic Gaussian"),
    }[sampling]
    if not getattr(KERNELS[kernel], attribute):
        fitting = ", ".join(name for name, info in KERNELS.items() if getattr(info, attribute))
        raise ValueError(
            f"sampling={sampling!r} needs {kind} weights ({fitting}); the {kernel!r} "
            "kernel's are not: use sampling='iid'"
        )
