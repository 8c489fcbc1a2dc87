"""Type stubs of the compiled core (src/python.rs); keyword-only as in the bindings."""

import numpy as np
import numpy.typing as npt

__all__ = [
    "KERNEL_NAMES",
    "__version__",
    "kernel_matrix",
    "sample_weights",
    "simd_isa",
    "transform",
]

__version__: str
KERNEL_NAMES: list[str]

def sample_weights(
    kernel: str,
    *,
    gamma: float,
    bias: float,
    paired: bool,
    n_features_in: int,
    n_frequencies: int,
    seed: int,
    dtype: str,
) -> tuple[npt.NDArray[np.floating], npt.NDArray[np.floating]]:
    """Draw the weights of ``n_frequencies`` random features.

    Returns ``(w, b)``: ``w`` of shape (n_frequencies, n_features_in), row ``j``
    being ``w_j``, and the offsets ``b`` (zeros when ``paired``). Frequency ``j``
    comes from its own random stream under ``seed``; ``dtype`` ("float32" or
    "float64") is the type the draws are made in.
    """

def transform(
    x: npt.NDArray[np.floating],
    weights: npt.NDArray[np.floating],
    offsets: npt.NDArray[np.floating],
    *,
    kernel: str,
    paired: bool,
    n_jobs: int | None = None,
) -> npt.NDArray[np.floating]:
    """Compute the random features of ``x`` (n, d) with ``weights`` (d, m).

    Returns (n, m) features, or (n, 2 m) sin/cos pairs when ``paired``; all
    arrays share one dtype. Raises ValueError for a non-finite projection and
    KeyboardInterrupt on Ctrl-C. The GIL is released.
    """

def kernel_matrix(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64] | None = None,
    *,
    kernel: str,
    gamma: float,
    bias: float,
    n_jobs: int | None = None,
) -> npt.NDArray[np.float64]:
    """Compute the exact kernel matrix ``K[i, j] = k(x_i, y_j)`` (``y = x`` when None)."""

def simd_isa() -> str:
    """The SIMD instruction set the kernels use on this CPU: avx512, avx2 or scalar."""
