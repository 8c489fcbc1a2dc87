"""Type stubs of the compiled core (src/python/); keyword-only as in the bindings."""

from typing import Final, final

import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

_Floats = npt.NDArray[np.floating]
_F64 = npt.NDArray[np.float64]
#: What both ridge paths pickle of their spectrum: eigenvalues, eigenvectors, projected
#: targets, target squares, weight sum, rows, intercept, eigenvalue cut-off.
_SpectralState = tuple[_F64, _F64, _F64, _F64, float, int, bool, float]

__all__ = [
    "KERNEL_TRAITS",
    "SAMPLING_NAMES",
    "TARGETS_OVERFLOW",
    "DualRidgePath",
    "GramStatistics",
    "KernelCenters",
    "PrimalRidgePath",
    "RidgePath",
    "__version__",
    "check_feature_params",
    "draw_frequencies",
    "kernel_matrix",
    "predict_linear",
    "simd_isa",
    "supported_isas",
    "symmetric_eigh",
    "transform",
]

__version__: str
#: The error of every ridge path for targets whose squares overflow float64.
TARGETS_OVERFLOW: str
#: The kernel registry: name -> traits (``fourier``, ``gaussian``, ``isotropic``,
#: ``paired_columns``, ``layered``, ``uses_bias``: bools; ``samplings``: the samplings
#: of the frequencies the kernel allows), in the order of the docs.
KERNEL_TRAITS: dict[str, dict[str, bool | list[str]]]
SAMPLING_NAMES: list[str]

def check_feature_params(kernel: str, *, sampling: str = "iid", depth: int = 1) -> None:
    """Raise ValueError when ``sampling`` or ``depth`` does not apply to ``kernel``."""

def draw_frequencies(
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
    n_jobs: int | None = None,
) -> tuple[npt.NDArray[np.floating], npt.NDArray[np.floating]]:
    """Draw the frequencies (projection weights) of ``n_frequencies`` random features.

    Returns ``(w, b)``: ``w`` of shape (n_frequencies, n_features_in), row ``j``
    being ``w_j``, and the offsets ``b`` (zeros when ``paired``). With
    ``sampling="iid"`` frequency ``j`` comes from its own random stream under
    ``seed``; with ``"orthogonal"`` each block of ``n_features_in`` frequencies
    comes from the block's stream, orthogonalized. With ``"structured"``, ``w``
    holds the diagonals, shape (ceil(n_frequencies / P), 3, P) with ``P`` the
    power of two ``>= n_features_in``. ``dtype`` ("float32" or "float64") is the
    type the draws are made in. ``n_jobs`` threads draw them (None: the shared
    pool); the draws do not depend on it.
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
    ``draw_frequencies(..., sampling="structured")``; ``m`` is then the number of
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
    """The SIMD instruction set the kernels use: avx512, avx2 or scalar.

    The widest this CPU supports, unless the environment variable ``RFKERNELS_ISA``
    (read once, at import) forces a narrower one.
    """

def symmetric_eigh(
    a: npt.NDArray[np.float64], *, n_jobs: int | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The eigenvalues (ascending) and eigenvectors (columns) of the symmetric ``a``.

    The eigensolver of every ridge path (a blocked tridiagonal reduction, faer's
    divide and conquer and back-transformation, its work split 8 ways whatever the
    thread count, so the bits do not depend on it); only the lower triangle of
    ``a`` is read. Releases the GIL; Ctrl-C abandons it.
    """

def supported_isas() -> list[str]:
    """The SIMD instruction sets this CPU supports, narrowest first."""

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
class GramStatistics:
    """Additive sufficient statistics of weighted least squares on random features.

    ``gram`` is ``sum_i s_i z_i z_i^T`` (lower triangle), ``cross`` is
    ``sum_i s_i z_i y_i^T``, then the weighted sums of the features, the targets
    and the squared targets, the weight total and the row count. Statistics of
    disjoint sets of rows add up (``+``) and subtract (``-``); they pickle.
    """

    def __new__(cls, n_components: int, n_targets: int) -> GramStatistics: ...

    # Read-only views of the statistics (the Gram's lower triangle only is kept).
    n_components: Final[int]
    n_targets: Final[int]
    n_samples: Final[int]
    weight_sum: Final[float]
    #: Relative rounding of the products: float64's eps, or float32's once float32
    #: rows (whose features and Gram tiles are computed in float32) were added.
    rounding: Final[float]
    gram: Final[_F64]
    cross: Final[_F64]
    feature_sums: Final[_F64]
    target_sums: Final[_F64]
    target_squares: Final[_F64]

    def add_rows(
        self,
        x: _Floats,
        y: _F64,
        sample_weight: _F64 | None,
        weights: _Floats,
        offsets: _Floats,
        *,
        kernel: str,
        paired: bool,
        chunk_rows: int,
        n_jobs: int | None = None,
    ) -> None:
        """Add the rows ``x`` (targets ``y``, weights ``sample_weight``) in place.

        Their features are computed ``chunk_rows`` rows at a time and never stored;
        ``sample_weight`` None means ones. Raises KeyboardInterrupt on Ctrl-C.
        """

    def __add__(self, other: GramStatistics, /) -> GramStatistics: ...
    def __radd__(self, other: GramStatistics, /) -> GramStatistics: ...
    def __sub__(self, other: GramStatistics, /) -> GramStatistics: ...
    def __rsub__(self, other: GramStatistics, /) -> GramStatistics: ...
    def leading(self, n_components: int) -> GramStatistics:
        """The statistics of the first ``n_components`` features (nested maps).

        ``G_k = (D/k) G[:k, :k]``, ``cross_k = sqrt(D/k) cross[:k]``, ``feature_sums_k
        = sqrt(D/k) feature_sums[:k]``; the target sums are shared.
        """

    def project(self, projection: _F64, *, n_jobs: int | None = None) -> GramStatistics:
        """The statistics of the features ``projection^T z`` (``D x r`` projection).

        ``G_P = P^T G P``, ``cross_P = P^T cross``, ``feature_sums_P = P^T feature_sums``;
        the target sums are shared.
        """

    def shift_targets(self, delta: npt.ArrayLike) -> GramStatistics:
        """The statistics of the targets ``y - delta``."""

    def heldout_errors(
        self,
        coef: _F64,
        intercept: npt.ArrayLike,
        targets: npt.ArrayLike,
        *,
        n_jobs: int | None = None,
    ) -> _F64:
        """``sum_i s_i (y_i[targets[m]] - z_i . coef[:, m] - intercept[m])^2`` per column ``m``."""

    @staticmethod
    def _from_parts(
        gram: _F64,
        cross: _F64,
        feature_sums: npt.ArrayLike,
        target_sums: npt.ArrayLike,
        target_squares: npt.ArrayLike,
        weight_sum: float,
        n_samples: int,
        rounding: float,
    ) -> GramStatistics:
        """The statistics rebuilt from the state ``__reduce__`` gives (unpickling)."""

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickling: the statistics' parts."""

@final
class KernelCenters:
    """A kernel against fixed centers ``C`` (``M x d``): Nystrom features and kernel products.

    Kernel tiles ``k(x_i, C)`` are computed on the fly in float64, in parallel row
    tasks whose partial sums are added in a fixed order (bits independent of the
    thread count), and never stored. ``x`` may be float32 or float64. Every call
    releases the GIL and raises KeyboardInterrupt on Ctrl-C. Pickles.
    """

    def __new__(
        cls, centers: _F64, *, kernel: str, gamma: float, bias: float, depth: int = 1
    ) -> KernelCenters: ...

    centers: Final[_F64]
    n_centers: Final[int]

    def basis(self, *, n_jobs: int | None = None) -> tuple[_F64, _F64, float]:
        """``(eigenvalues, projection, cutoff)`` of ``k(C, C)``: the Nystrom basis.

        Eigenvalues above ``cutoff = M * eps * max(eigenvalue)`` are kept, descending;
        ``projection`` (``M x r``) holds their eigenvectors divided by their square roots.
        """

    def transform(self, x: _Floats, projection: _F64, *, n_jobs: int | None = None) -> _Floats:
        """The Nystrom features ``k(x, C) @ projection`` in ``x``'s float type."""

    def add_rows(
        self,
        statistics: GramStatistics,
        x: _Floats,
        y: _F64,
        sample_weight: _F64 | None,
        projection: _F64 | None,
        *,
        chunk_rows: int,
        n_jobs: int | None = None,
    ) -> None:
        """Add the rows' Nystrom features and targets to ``statistics`` in place.

        With ``projection=None`` the features are the kernel columns ``k(x, C)``
        (``statistics`` of width ``M``): project the sums once at the end
        (:meth:`GramStatistics.project`), which is much cheaper than projecting
        every row.
        """

    def loo_error_sums(
        self,
        path: PrimalRidgePath,
        x: _Floats,
        y: _F64,
        sample_weight: _F64 | None,
        projection: _F64,
        alphas: list[float],
        *,
        n_jobs: int | None = None,
    ) -> _F64:
        """Squared leave-one-out residuals of the rows, summed: ``(n_alphas, t)``."""

    def transpose_products(
        self, x: _Floats, b: _F64, sample_weight: _F64 | None = None, *, n_jobs: int | None = None
    ) -> _F64:
        """``K^T W b`` (``M x c``) for ``K = k(x, C)`` and ``b`` of shape ``(n, c)``."""

    def normal_products(
        self,
        x: _Floats,
        u: _F64,
        shift: list[float],
        sample_weight: _F64 | None = None,
        *,
        n_jobs: int | None = None,
    ) -> _F64:
        """``K^T W (K u - shift)`` (``M x c``) for ``u`` (``M x c``), one shift per column."""

    def predict(
        self, x: _Floats, coef: _F64, intercept: _F64, *, n_jobs: int | None = None
    ) -> _F64:
        """``k(x, C) @ coef + intercept`` for ``coef`` of shape ``(M, c)``."""

    @staticmethod
    def _from_parts(
        centers: _F64, kernel: str, gamma: float, bias: float, depth: int
    ) -> KernelCenters:
        """The object rebuilt from the state ``__reduce__`` gives (unpickling)."""

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickling: the centers and the kernel's parameters."""

@disjoint_base
class RidgePath:
    """What both ridge paths share: eigenvalues, solutions, training and GCV errors, pickling.

    Built only as a :class:`PrimalRidgePath` or a :class:`DualRidgePath`.
    """

    @property
    def eigenvalues(self) -> _F64:
        """Eigenvalues of the centered, weighted Gram or kernel matrix, ascending."""

    def train_errors(self, alphas: list[float]) -> _F64:
        """Training errors ``sum_i s_i r_i^2 / n``, shape (n_alphas, t)."""

    def gcv_errors(self, alphas: list[float]) -> _F64:
        """Generalized cross-validation errors, shape (n_alphas, t)."""

    def coef(self, alpha: float, *, n_jobs: int | None = None) -> tuple[_F64, _F64]:
        """Coefficients and intercepts (t,) at ridge ``alpha`` (0: minimum norm).

        The coefficients the fit is linear in: of the features, (D, t), for a
        :class:`PrimalRidgePath`; dual, (n, t), ``f(x) = k(x, X) @ d + b``, for a
        :class:`DualRidgePath`.
        """

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickling: the path's parts, so no new eigendecomposition is needed."""

@final
class PrimalRidgePath(RidgePath):
    """The ridge path of random features from one eigendecomposition of their Gram.

    Built from ``statistics`` (copied), centered by the weighted means when
    ``fit_intercept``. Raises KeyboardInterrupt on Ctrl-C during the
    eigendecomposition.
    """

    def __new__(
        cls,
        statistics: GramStatistics,
        *,
        fit_intercept: bool,
        n_jobs: int | None = None,
    ) -> PrimalRidgePath: ...
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
        spectrum: _SpectralState, feature_means: npt.ArrayLike, target_means: npt.ArrayLike
    ) -> PrimalRidgePath:
        """The path rebuilt from the state ``__reduce__`` gives (unpickling)."""

@final
class DualRidgePath(RidgePath):
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
    def loo_errors(self, alphas: list[float], *, n_jobs: int | None = None) -> _F64:
        """Exact leave-one-out errors ``sum_i s_i e_i^2 / n``, shape (n_alphas, t)."""

    @staticmethod
    def _from_state(
        spectrum: _SpectralState,
        projected_targets: _F64,
        sqrt_weights: npt.ArrayLike,
        intercept_direction: npt.ArrayLike,
        kernel_means: npt.ArrayLike,
        target_means: npt.ArrayLike,
    ) -> DualRidgePath:
        """The path rebuilt from the state ``__reduce__`` gives (unpickling)."""
