"""Registry of the kernels rfkernels knows: names, formulas and data-dependent defaults.

Everything that is parametrized over kernels (estimators, tests, docs) reads this
registry, so adding a kernel here and in the Rust core gives it every test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _core
from .batches import EntryMoments

__all__ = ["KERNELS", "KernelInfo", "gamma_from_moments", "resolve_gamma"]


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
    scale_gamma : callable
        ``gamma="scale"``: a ``gamma`` from the (weighted) moments of the training
        data, ``scale_gamma(n_features, variance, mean_square)``.
    """

    name: str
    formula: str
    feature_map: str
    fourier: bool
    uses_bias: bool
    scale_gamma: Callable[[int, float, float], float]


def _inverse(value: float) -> float:
    """``1 / value``, or 1.0 when ``value`` is 0 (constant data, as RBFSampler does)."""
    return 1.0 / value if value > 0 else 1.0


KERNELS: dict[str, KernelInfo] = {
    "rbf": KernelInfo(
        name="rbf",
        formula="exp(-gamma ||x - y||_2^2)",
        feature_map="sqrt(2/D) cos(w.x + b), w ~ N(0, 2 gamma I), b ~ U[0, 2 pi)",
        fourier=True,
        uses_bias=False,
        scale_gamma=lambda d, var, mean_square: _inverse(d * var),
    ),
    "laplacian": KernelInfo(
        name="laplacian",
        formula="exp(-gamma ||x - y||_1)",
        feature_map="sqrt(2/D) cos(w.x + b), w_i ~ Cauchy(0, gamma), b ~ U[0, 2 pi)",
        fourier=True,
        uses_bias=False,
        scale_gamma=lambda d, var, mean_square: _inverse(d * np.sqrt(var)),
    ),
    "relu": KernelInfo(
        name="relu",
        formula="arc-cosine order 1: (1/pi) |u| |v| (sin t + (pi - t) cos t), "
        "u = (sqrt(gamma) x, bias), t = angle(u, v)",
        feature_map="sqrt(2/D) max(0, w.x + b), w ~ N(0, gamma I), b ~ N(0, bias^2)",
        fourier=False,
        uses_bias=True,
        scale_gamma=lambda d, var, mean_square: _inverse(d * mean_square),
    ),
    "step": KernelInfo(
        name="step",
        formula="arc-cosine order 0: 1 - t/pi, u = (sqrt(gamma) x, bias), t = angle(u, v)",
        feature_map="sqrt(2/D) [w.x + b > 0], w ~ N(0, gamma I), b ~ N(0, bias^2)",
        fourier=False,
        uses_bias=True,
        scale_gamma=lambda d, var, mean_square: _inverse(d * mean_square),
    ),
    "linear": KernelInfo(
        name="linear",
        formula="gamma x.y + bias^2",
        feature_map="sqrt(2/D) (w.x + b), w ~ N(0, gamma/2 I), b ~ N(0, bias^2/2)",
        fourier=False,
        uses_bias=True,
        scale_gamma=lambda d, var, mean_square: _inverse(d * mean_square),
    ),
}

assert tuple(KERNELS) == tuple(_core.KERNEL_NAMES), "registry and Rust core disagree"


def resolve_gamma(
    kernel: str, gamma: float | str, X: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    """The numeric ``gamma`` for ``kernel``: ``gamma`` itself, or the data-scaled default.

    ``"scale"`` gives 1 / (n_features * X.var()) for rbf (as scikit-learn's
    ``RBFSampler``), 1 / (n_features * X.std()) for laplacian, and
    1 / (n_features * mean(X**2)) for relu, step and linear, so that the random
    projections ``w.x`` have a variance of about one. With ``sample_weight`` the
    moments are weighted (a weight counts as that many repeated rows).
    """
    if not isinstance(gamma, str):
        return float(gamma)
    with np.errstate(over="ignore", invalid="ignore"):
        var, mean_square = EntryMoments.of(X, sample_weight).variance_and_mean_square()
    return gamma_from_moments(kernel, X.shape[1], var, mean_square)


def gamma_from_moments(kernel: str, n_features: int, variance: float, mean_square: float) -> float:
    """``gamma="scale"`` from the variance and mean square of the data's entries."""
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(KERNELS[kernel].scale_gamma(n_features, variance, mean_square))
    if not (np.isfinite(value) and value > 0):
        raise ValueError(
            f"gamma='scale' gives {value} for this X: its scale overflows or underflows "
            "float64 (values too large or too small); rescale X or pass a numeric gamma"
        )
    return value
