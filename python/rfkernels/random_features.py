"""RandomFeatures: a scikit-learn transformer computing random features in Rust."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _core
from ._kernels import KERNELS, gamma_from_moments, resolve_gamma
from ._validation import check_fits_in_memory, is_dask_array, resolve_n_jobs
from .batches import entry_moments
from .distributed import map_rows

__all__ = ["RandomFeatures"]


class RandomFeatures(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Random features whose inner products approximate a kernel.

    Maps ``X`` to ``Z`` with ``n_components`` columns such that ``Z @ Z.T``
    converges to the exact kernel matrix (:func:`rfkernels.kernels.kernel_matrix`)
    as ``n_components`` grows, at the Monte-Carlo rate ``1/sqrt(n_components)``.
    The projection, offset, nonlinearity and scaling run fused in Rust, in
    parallel over row chunks, with SIMD nonlinearities.

    Feature ``j`` depends only on ``(random_state, j)``: the same ``random_state``
    gives bit-identical features for any number of threads, and the first ``k``
    columns of a ``D``-feature map equal the ``k``-feature map times
    ``sqrt(k / D)``, so a width sweep needs only the widest map.

    Parameters
    ----------
    kernel : {"rbf", "laplacian", "relu", "step", "linear"}, default="rbf"
        The kernel to approximate (see Notes).
    n_components : int, default=1024
        Number of random features ``D`` (output columns).
    gamma : "scale" or float, default="scale"
        Kernel scale. For rbf and laplacian the inverse (squared) length scale;
        for relu and step the variance of the weights; for linear the scale of
        the inner product. ``"scale"`` picks it from
        the training data: ``1 / (n_features * X.var())`` for rbf (as
        :class:`~sklearn.kernel_approximation.RBFSampler`),
        ``1 / (n_features * X.std())`` for laplacian and
        ``1 / (n_features * mean(X**2))`` for relu, step and linear.
    bias : float, default=0.0
        Standard deviation of the offsets of relu and step features
        (``b ~ N(0, bias**2)``); 0 gives the homogeneous arc-cosine kernels of
        Cho and Saul. For linear, the kernel's constant term is ``bias**2``.
        Ignored by rbf and laplacian.
    fourier : {"cos", "sincos"}, default="cos"
        Form of the rbf and laplacian features: ``"cos"`` uses
        ``sqrt(2/D) cos(w.x + b)`` with a random phase ``b`` (as ``RBFSampler``);
        ``"sincos"`` uses pairs ``sqrt(2/D) (cos(w.x), sin(w.x))`` sharing one
        frequency, which have lower variance (``n_components`` must be even).
        Ignored by relu, step and linear.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights. Pass an int for reproducible features.
    n_jobs : int or None, default=None
        Threads for the Rust core. ``None`` uses all cores (or
        ``RAYON_NUM_THREADS`` when set); ``-1`` all cores; ``-2`` all but one.

    Attributes
    ----------
    random_weights_ : ndarray of shape (n_features_in_, n_frequencies)
        The weight vectors ``w_j`` as columns (``n_frequencies`` is
        ``n_components``, or ``n_components / 2`` for ``fourier="sincos"``).
        float32 when fitted on float32 data: then drawn natively in float32.
    random_offset_ : ndarray of shape (n_frequencies,)
        The offsets ``b_j`` (zeros for ``fourier="sincos"``).
    gamma_ : float
        The numeric ``gamma`` used (``"scale"`` resolved).
    seed_ : int
        The 64-bit seed the weights were drawn from: feature ``j`` is a function
        of ``(seed_, j)`` only.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :term:`fit`, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.kernel_approximation.RBFSampler : Random Fourier features in numpy.
    sklearn.kernel_approximation.Nystroem : Data-dependent kernel approximation.
    rfkernels.kernels.kernel_matrix : The exact kernels these features approximate.

    Notes
    -----
    With ``D = n_components`` the features and their limits are

    - rbf: ``z_j = sqrt(2/D) cos(w_j.x + b_j)``, ``w ~ N(0, 2 gamma I)``,
      ``b ~ U[0, 2 pi)``; ``k(x, y) = exp(-gamma ||x - y||^2)``.
    - laplacian: as rbf with ``w_i ~ Cauchy(0, gamma)`` per coordinate;
      ``k(x, y) = exp(-gamma ||x - y||_1)``.
    - relu: ``z_j = sqrt(2/D) max(0, w_j.x + b_j)``, ``w ~ N(0, gamma I)``,
      ``b ~ N(0, bias^2)``; the arc-cosine kernel of order 1 of
      ``u = (sqrt(gamma) x, bias)``.
    - step: ``z_j = sqrt(2/D) [w_j.x + b_j > 0]``; the arc-cosine kernel of
      order 0.
    - linear: ``z_j = sqrt(2/D) (w_j.x + b_j)``, ``w ~ N(0, gamma/2 I)``,
      ``b ~ N(0, bias^2/2)`` (Gaussian random projections);
      ``k(x, y) = gamma x.y + bias^2``.

    Features are computed in the dtype of ``X`` (float32 or float64; other
    types become float64). Weights fitted in one dtype are cast to the other
    when ``transform`` gets the other.

    References
    ----------
    .. [1] A. Rahimi and B. Recht, "Random Features for Large-Scale Kernel
       Machines", NeurIPS 2007.
    .. [2] Y. Cho and L. Saul, "Kernel Methods for Deep Learning", NeurIPS 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels import RandomFeatures
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
    >>> Z = RandomFeatures(n_components=4096, gamma=0.5, random_state=0).fit_transform(X)
    >>> Z.shape
    (3, 4096)
    >>> np.round(Z @ Z.T, 1)  # close to exp(-0.5 ||x - y||^2)
    array([[1. , 0.4, 0.6],
           [0.4, 1. , 0.6],
           [0.6, 0.6, 1. ]])
    """

    _parameter_constraints: ClassVar[dict] = {
        "kernel": [StrOptions(set(KERNELS))],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "gamma": [StrOptions({"scale"}), Interval(Real, 0, None, closed="neither")],
        "bias": [Interval(Real, 0, None, closed="left")],
        "fourier": [StrOptions({"cos", "sincos"})],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        kernel: str = "rbf",
        *,
        n_components: int = 1024,
        gamma: float | str = "scale",
        bias: float = 0.0,
        fourier: str = "cos",
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.kernel = kernel
        self.n_components = n_components
        self.gamma = gamma
        self.bias = bias
        self.fourier = fourier
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _paired(self) -> bool:
        """Whether the features are sin/cos pairs."""
        return self.fourier == "sincos" and KERNELS[self.kernel].fourier

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Draw the random weights, scaled to ``X`` when ``gamma="scale"``.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features_in)
            Training data; only its number of columns, dtype and (for
            ``gamma="scale"``) scale are used. The scale of a dask array is one
            map-reduce over its blocks.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the moments behind ``gamma="scale"`` (a weight
            counts as that many repeated rows).

        Returns
        -------
        self : RandomFeatures
            The fitted transformer.
        """
        gamma = self.gamma
        if is_dask_array(X):
            from .distributed import DaskRows

            rows = DaskRows(X, None, sample_weight)
            if isinstance(gamma, str):
                gamma = gamma_from_moments(self.kernel, *entry_moments(rows))
            X, _, sample_weight = rows.head()
        return self._draw(X, sample_weight, gamma)

    def _draw(self, X, sample_weight, gamma: float | str) -> RandomFeatures:
        """Draw the weights for the columns of ``X`` (and its scale, for ``"scale"``)."""
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        resolve_n_jobs(self.n_jobs)  # reject n_jobs=0 at fit, not at the first transform
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        paired = self._paired()
        if paired and self.n_components % 2:
            raise ValueError(
                f"fourier='sincos' needs an even n_components (cos and sin of each "
                f"frequency), got {self.n_components}"
            )
        self.gamma_ = resolve_gamma(self.kernel, gamma, X, sample_weight)
        self.seed_ = int(check_random_state(self.random_state).randint(np.iinfo(np.int64).max))
        n_frequencies = self.n_components // 2 if paired else self.n_components
        weights, offsets = _core.sample_weights(
            self.kernel,
            gamma=self.gamma_,
            bias=float(self.bias),
            paired=paired,
            n_features_in=X.shape[1],
            n_frequencies=n_frequencies,
            seed=self.seed_,
            dtype=X.dtype.name,
        )
        self.random_weights_ = weights.T
        self.random_offset_ = offsets
        self._n_features_out = self.n_components
        return self

    def transform(self, X) -> np.ndarray:
        """Compute the random features of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in)
            Data with the columns seen in :meth:`fit`.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            The features, float32 for float32 ``X`` and float64 otherwise; a dask
            array (block by block) for a dask array ``X``.
        """
        if is_dask_array(X):
            return map_rows(self.transform, X, self.n_components)
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        check_fits_in_memory((X.shape[0], self.n_components), X.dtype, "the feature matrix")
        weights, offsets = self._core_weights(X.dtype)
        return _core.transform(
            X,
            weights,
            offsets,
            kernel=self.kernel,
            paired=self._paired(),
            n_jobs=resolve_n_jobs(self.n_jobs),
        )

    def _core_weights(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """The fitted weights and offsets in ``dtype``, as the Rust core takes them."""
        return (
            self.random_weights_.astype(dtype, copy=False),
            self.random_offset_.astype(dtype, copy=False),
        )

    def __sklearn_tags__(self):
        """Declare float32 preservation: float32 in, float32 features out."""
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
