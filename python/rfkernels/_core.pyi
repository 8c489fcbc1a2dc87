"""Type stubs of the compiled core (src/python.rs); keyword-only as in the bindings."""

from typing import final

import numpy as np
import numpy.typing as npt

_Floats = npt.NDArray[np.floating]
_F64 = npt.NDArray[np.float64]

__all__ = [
    "KERNEL_NAMES",
    "SAMPLING_NAMES",
    "DualRidgePath",
    "PrimalRidgePath",
    "__version__",
    "accumulate_gram",
    "kernel_matrix",
    "predict_linear",
    "sample_weights",
    "simd_isa",
    "transform",
]

__version__: str
KERNEL_NAMES: list[str]
SAMPLING_NAMES: list[str]

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
    sampling: str = "iid",
) -> tuple[npt.NDArray[np.floating], npt.NDArray[np.floating]]:
    """Draw the weights of ``n_frequencies`` random features.

    Returns ``(w, b)``: ``w`` of shape (n_frequencies, n_features_in), row ``j``
    being ``w_j``, and the offsets ``b`` (zeros when ``paired``). With
    ``sampling="iid"`` frequency ``j`` comes from its own random stream under
    ``seed``; with ``"orthogonal"`` each block of ``n_features_in`` frequencies
    comes from the block's stream, orthogonalized. With ``"structured"``, ``w``
    holds the diagonals, shape (ceil(n_frequencies / P), 3, P) with ``P`` the
    power of two ``>= n_features_in``. ``dtype`` ("float32" or "float64") is the
    type the draws are made in.
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

    ``weights`` may also be structured diagonals (n_blocks, 3, P) from
    ``sample_weights(..., sampling="structured")``; ``m`` is then the number of
    offsets. Returns (n, m) features, or (n, 2 m) sin/cos pairs when ``paired``; all
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
    depth: int = 1,
    n_jobs: int | None = None,
) -> npt.NDArray[np.float64]:
    """Compute the exact kernel matrix ``K[i, j] = k(x_i, y_j)`` (``y = x`` when None).

    ``depth`` is the number of hidden layers of the nngp and ntk kernels (1 for the
    others).
    """

def simd_isa() -> str:
    """The SIMD instruction set the kernels use on this CPU: avx512, avx2 or scalar."""

def accumulate_gram(
    x: _Floats,
    y: _F64,
    sample_weight: _F64 | None,
    weights: _Floats,
    offsets: _Floats,
    gram: _F64,
    cross: _F64,
    feature_sums: _F64,
    *,
    kernel: str,
    paired: bool,
    chunk_size: int,
    n_jobs: int | None = None,
) -> None:
    """Add ``Z^T S Z`` (lower triangle), ``Z^T S Y`` and ``Z^T s`` of the rows ``x`` in place.

    The features ``Z`` of ``x`` are computed ``chunk_size`` rows at a time and
    never stored; ``S = diag(sample_weight)`` (ones when None).
    """

def predict_linear(
    x: _Floats,
    weights: _Floats,
    offsets: _Floats,
    coef: _F64,
    intercept: _F64,
    *,
    kernel: str,
    paired: bool,
    n_jobs: int | None = None,
) -> _F64:
    """Compute ``Z(x) @ coef + intercept`` (coef of shape (D, t)) without forming ``Z``."""

@final
class PrimalRidgePath:
    """The ridge path of random features from one eigendecomposition of their Gram.

    Built from the statistics of ``accumulate_gram`` and the weighted target sums;
    centered by the weighted means when ``fit_intercept``.
    """

    def __new__(
        cls,
        gram: _F64,
        cross: _F64,
        feature_sums: npt.ArrayLike,
        target_sums: npt.ArrayLike,
        target_squares: npt.ArrayLike,
        weight_sum: float,
        n_samples: int,
        *,
        fit_intercept: bool,
        n_jobs: int | None = None,
    ) -> PrimalRidgePath: ...
    @property
    def eigenvalues(self) -> _F64:
        """Eigenvalues of the centered Gram, ascending."""

    def coef(self, alpha: float) -> tuple[_F64, _F64]:
        """Coefficients (D, t) and intercepts (t,) at ridge ``alpha`` (0: minimum norm)."""

    def train_errors(self, alphas: list[float]) -> _F64:
        """Training errors ``sum_i s_i r_i^2 / n``, shape (n_alphas, t)."""

    def gcv_errors(self, alphas: list[float]) -> _F64:
        """Generalized cross-validation errors, shape (n_alphas, t)."""

    def loo_error_sums(
        self,
        x: _Floats,
        y: _F64,
        sample_weight: _F64 | None,
        weights: _Floats,
        offsets: _Floats,
        alphas: list[float],
        *,
        kernel: str,
        paired: bool,
        n_jobs: int | None = None,
    ) -> _F64:
        """Sums of squared leave-one-out residuals over the rows ``x``, shape (n_alphas, t).

        Additive over blocks of rows; the sum over all rows divided by ``n`` is
        the leave-one-out error.
        """

    @staticmethod
    def _from_state(
        values: npt.ArrayLike,
        vectors: _F64,
        projected_cross: _F64,
        target_squares: npt.ArrayLike,
        feature_means: npt.ArrayLike,
        target_means: npt.ArrayLike,
        fit_intercept: bool,
        weight_sum: float,
        n_samples: int,
        cutoff: float,
    ) -> PrimalRidgePath:
        """The path rebuilt from the state ``__reduce__`` gives (unpickling)."""

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickling: the path's parts, so no new eigendecomposition is needed."""

@final
class DualRidgePath:
    """The ridge path on an ``n x n`` kernel matrix from one eigendecomposition."""

    def __new__(
        cls,
        kernel: _F64,
        y: _F64,
        sample_weight: _F64 | None = None,
        *,
        fit_intercept: bool,
        n_jobs: int | None = None,
    ) -> DualRidgePath: ...
    @property
    def eigenvalues(self) -> _F64:
        """Eigenvalues of the centered, weighted kernel matrix, ascending."""

    def dual_coef(self, alpha: float) -> tuple[_F64, _F64]:
        """Dual coefficients (n, t) and intercepts (t,): ``f(x) = k(x, X) @ d + b``."""

    def train_errors(self, alphas: list[float]) -> _F64:
        """Training errors ``sum_i s_i r_i^2 / n``, shape (n_alphas, t)."""

    def gcv_errors(self, alphas: list[float]) -> _F64:
        """Generalized cross-validation errors, shape (n_alphas, t)."""

    def loo_errors(self, alphas: list[float]) -> _F64:
        """Exact leave-one-out errors ``sum_i s_i e_i^2 / n``, shape (n_alphas, t)."""
