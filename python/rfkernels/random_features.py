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
from sklearn.utils.validation import check_is_fitted

from . import _core
from ._engine.data import check_sample_weight
from ._engine.features import FeatureArrays
from ._gamma import entry_moments, gamma_from_moments, resolve_gamma
from ._kernels import KERNELS, SAMPLINGS, check_feature_params, is_paired
from ._memory import check_fits_in_memory
from ._params import store_params
from ._threads import resolve_n_jobs
from ._validation import validate_X
from .batches import RowBatches, as_batches
from .distributed import is_dask_array, map_rows

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
    ``sqrt(k / D)``, so a width sweep needs only the widest map. With
    ``sampling="orthogonal"`` the same holds block by block of
    ``n_features_in`` frequencies.

    Parameters
    ----------
    kernel : str, default="rbf"
        The kernel to approximate, one of ``rfkernels.KERNELS``: "rbf",
        "laplacian", "relu", "step", "linear", "matern12", "matern32", "matern52",
        "cauchy", "nngp", "ntk" (see Notes).
    n_components : int, default=1024
        Number of random features ``D`` (output columns).
    gamma : "scale" or float, default="scale"
        Kernel scale. For rbf and laplacian the inverse (squared) length scale
        (for the Matern kernels ``1 / (2 l^2)`` with ``l`` the length scale, for
        cauchy the inverse squared scale of each coordinate);
        for relu, step, nngp and ntk the variance of the weights; for linear the scale of
        the inner product. ``"scale"`` picks it from
        the training data: ``1 / (n_features * X.var())`` for rbf (as
        :class:`~sklearn.kernel_approximation.RBFSampler`), the Matern kernels and
        cauchy,
        ``1 / (n_features * X.std())`` for laplacian and
        ``1 / (n_features * mean(X**2))`` for relu, step, linear, nngp and ntk.
    bias : float, default=0.0
        Standard deviation of the offsets of relu, step, nngp and ntk features
        (``b ~ N(0, bias**2)``); 0 gives the homogeneous arc-cosine kernels of
        Cho and Saul. For linear, the kernel's constant term is ``bias**2``.
        Ignored by the shift-invariant kernels.
    fourier : {"cos", "sincos"}, default="cos"
        Form of the features of the shift-invariant kernels (rbf, laplacian,
        Matern, cauchy): ``"cos"`` uses
        ``sqrt(2/D) cos(w.x + b)`` with a random phase ``b`` (as ``RBFSampler``);
        ``"sincos"`` uses pairs ``sqrt(2/D) (cos(w.x), sin(w.x))`` sharing one
        frequency, which have lower variance (``n_components`` must be even).
        Ignored by the other kernels (relu, step, linear, nngp, ntk).
    sampling : {"iid", "orthogonal", "structured"}, default="iid"
        How the frequencies are drawn. ``"iid"``: independently. ``"orthogonal"``
        (orthogonal random features, ORF): in blocks of ``n_features_in``
        frequencies that are exactly orthogonal, each with the norm of a Gaussian
        vector, so every feature keeps its distribution while ``Z @ Z.T`` has a
        lower variance (for rbf; see Notes). ``"structured"`` (SORF): blocks of
        Hadamard matrices and random signs, applied by fast Walsh-Hadamard
        transforms in ``O(n_components log n_features_in)`` per row instead of
        ``O(n_components n_features_in)``, never stored as a matrix; nearly
        Gaussian in high dimension (a small bias for small ``n_features_in``).
        Orthogonal sampling applies to the kernels with isotropic weights (rbf,
        relu, step, linear, nngp and the Matern kernels), structured sampling to
        those with isotropic Gaussian weights (the same but the Matern kernels).
    random_state : int, RandomState instance or None, default=None
        Seeds the weights. Pass an int for reproducible features.
    n_jobs : int or None, default=None
        Threads for the Rust core. ``None`` uses all cores (or
        ``RAYON_NUM_THREADS`` when set); ``-1`` all cores; ``-2`` all but one.

    Attributes
    ----------
    random_weights_ : ndarray of shape (n_features_in_, n_frequencies) or (n_blocks, 3, P)
        The weight vectors ``w_j`` as columns (``n_frequencies`` is
        ``n_components``, or ``n_components / 2`` for ``fourier="sincos"``).
        float32 when fitted on float32 data: the float64 draws rounded, so the
        same ``random_state`` gives the same features in either precision.
        With ``sampling="structured"``, the three random diagonals of each block
        of ``P`` frequencies (``P`` is ``n_features_in_`` rounded up to a power of
        two, ``n_blocks = ceil(n_frequencies / P)``; see Notes).
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
    - matern12, matern32, matern52: as rbf with ``w = sqrt(2 gamma) sqrt(2 nu / u)
      g``, ``g ~ N(0, I)``, ``u ~ chi^2(2 nu)``: a multivariate Student-t with
      ``2 nu`` degrees of freedom [4]_, whose characteristic function is the Matern
      kernel of smoothness ``nu = 1/2, 3/2, 5/2`` and length scale ``l = 1 /
      sqrt(2 gamma)``: ``exp(-z)``, ``(1 + z) exp(-z)``, ``(1 + z + z^2/3)
      exp(-z)``, ``z = sqrt(2 nu) ||x - y|| / l``.
    - cauchy: as rbf with ``w_i ~ Laplace(0, sqrt(gamma))`` per coordinate;
      ``k(x, y) = prod_i 1 / (1 + gamma (x_i - y_i)^2)`` [1]_.
    - nngp: the relu features; their limit is the NNGP kernel of one hidden ReLU
      layer (deeper NNGP kernels: :func:`rfkernels.kernels.kernel_matrix` and
      :class:`rfkernels.KernelRidge` with ``depth``).
    - ntk: the gradient features of a random one-hidden-layer ReLU network
      ``f(x) = sum_k v_k relu(w_k.u)`` (``u = (sqrt(gamma) x, bias)``), in pairs of
      columns ``sqrt(4/D) (max(0, p_k), [p_k > 0] q_k)`` with ``p_k = w_k.x + b_k``
      and an independent ``q_k = g_k.x + c_k`` (``w, g ~ N(0, gamma I)``, ``b, c ~
      N(0, bias^2)``): the first tends to the relu kernel (the gradient in ``v``),
      the second to ``(u.v) step(u, v)`` (the gradient in ``w``, with ``g`` a
      random projection of ``u``), their sum to the one-hidden-layer NTK.
      ``n_components`` must be even.

    Orthogonal sampling [3]_: block ``b`` of ``d = n_features_in`` frequencies
    is drawn from its own random stream as a ``d x d`` Gaussian matrix ``G``;
    with ``G = Q R`` (``diag(R) >= 0``) frequency ``i`` of the block is
    ``sigma ||g_i|| q_i`` (``sigma`` the weights' scale above): orthogonal
    directions, chi-distributed norms (times the Student-t factors ``sqrt(2 nu /
    u_i)`` for the Matern kernels). Only the last block may be partial.

    Structured sampling [3]_: block ``b`` of ``P`` frequencies maps ``x``, padded
    with zeros to ``P`` entries, to ``W_b x = H S_b2 H S_b1 H S_b0 x`` with ``H``
    the ``P x P`` Hadamard matrix (entries +-1) and ``S_bk =
    diag(random_weights_[b, k])``: random signs, the first scaled by
    ``sigma / P``. Equivalently ``sigma sqrt(P) H' S_2 H' S_1 H' S_0`` with the
    orthogonal ``H' = H / sqrt(P)``: orthogonal frequencies of norm
    ``sigma sqrt(P)``.

    Features are computed in the dtype of ``X`` (float32 or float64; other
    types become float64). Weights fitted in one dtype are cast to the other
    when ``transform`` gets the other.

    References
    ----------
    .. [1] A. Rahimi and B. Recht, "Random Features for Large-Scale Kernel
       Machines", NeurIPS 2007.
    .. [2] Y. Cho and L. Saul, "Kernel Methods for Deep Learning", NeurIPS 2009.
    .. [3] F. X. Yu, A. T. Suresh, K. Choromanski, D. Holtmann-Rice and S. Kumar,
       "Orthogonal Random Features", NeurIPS 2016.
    .. [4] C. E. Rasmussen and C. K. I. Williams, "Gaussian Processes for Machine
       Learning", MIT Press 2006, section 4.2.1.

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
        "sampling": [StrOptions(set(SAMPLINGS))],
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
        sampling: str = "iid",
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
    ) -> None:
        store_params(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Draw the random weights, scaled to ``X`` when ``gamma="scale"``.

        Parameters
        ----------
        X : array-like, dask.array.Array or RowBatches of shape (n_samples, n_features_in)
            Training data; only its number of columns, dtype and (for
            ``gamma="scale"``) scale are used. The scale of a dask array is one
            map-reduce over its blocks, that of :class:`RowBatches` one pass over
            the batches (whose weights are used; ``sample_weight`` must then be None).
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
        if is_dask_array(X) or isinstance(X, RowBatches):
            rows = as_batches(X, None, sample_weight)
            if isinstance(gamma, str):
                gamma = gamma_from_moments(self.kernel, *entry_moments(rows))
            X, _, sample_weight = rows.head()
        return self._draw(X, sample_weight, gamma)

    def _draw(self, X, sample_weight, gamma: float | str) -> RandomFeatures:
        """Draw the weights for the columns of ``X`` (and its scale, for ``"scale"``)."""
        X = validate_X(self, X)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X)
        paired = is_paired(self.kernel, self.fourier)
        if paired and self.n_components % 2:
            raise ValueError(
                f"fourier='sincos' needs an even n_components (cos and sin of each "
                f"frequency), got {self.n_components}"
            )
        if KERNELS[self.kernel].paired_columns and self.n_components % 2:
            raise ValueError(
                f"kernel={self.kernel!r} needs an even n_components (its features come in "
                f"pairs of columns), got {self.n_components}"
            )
        check_feature_params(self.kernel, sampling=self.sampling)
        self.gamma_ = resolve_gamma(self.kernel, gamma, X, sample_weight)
        self.seed_ = int(check_random_state(self.random_state).randint(np.iinfo(np.int64).max))
        n_frequencies = self.n_components // 2 if paired else self.n_components
        # Structured frequencies are three diagonals each, not a row of d weights.
        per_frequency = 3 if self.sampling == "structured" else X.shape[1]
        check_fits_in_memory(
            (n_frequencies, per_frequency), X.dtype, "the random weights", "use fewer n_components"
        )
        weights, offsets = _core.draw_frequencies(
            self.kernel,
            gamma=self.gamma_,
            bias=float(self.bias),
            paired=paired,
            n_features_in=X.shape[1],
            n_frequencies=n_frequencies,
            seed=self.seed_,
            dtype=X.dtype.name,
            sampling=self.sampling,
            n_jobs=resolve_n_jobs(self.n_jobs),
        )
        self.random_weights_ = weights if self.sampling == "structured" else weights.T
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
        X = validate_X(self, X, reset=False)
        check_fits_in_memory((X.shape[0], self.n_components), X.dtype, "the feature matrix")
        return FeatureArrays.of(self).transform(X, n_jobs=resolve_n_jobs(self.n_jobs))

    def __sklearn_tags__(self):
        """Declare float32 preservation: float32 in, float32 features out."""
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
