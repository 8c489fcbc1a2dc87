"""Nystroem: kernel features from centers, ``z(x) = K_MM^(-1/2) k(C, x)``, in Rust."""

from __future__ import annotations

import warnings
from numbers import Integral
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
from ._engine.features import NystroemArrays
from ._gamma import resolve_gamma
from ._kernels import KERNELS, check_feature_params
from ._memory import check_fits_in_memory
from ._params import store_params
from ._threads import resolve_n_jobs
from ._validation import validate_X
from .distributed import is_dask_array, map_rows
from .leverage import draw_leverage_centers
from .random_features import RandomFeatures

__all__ = ["Nystroem", "draw_centers"]

#: How the centers are chosen: uniformly, or by approximate ridge leverage scores.
CENTER_SAMPLINGS = ("uniform", "leverage")


def draw_centers(n_samples: int, n_centers: int, random_state) -> np.ndarray:
    """Indices of ``n_centers`` distinct rows out of ``n_samples``, uniformly at random.

    The first ``n_centers`` of a random permutation, sorted; the same
    ``random_state`` gives the same rows (numpy's generator, not the thread count).
    """
    permutation = check_random_state(random_state).permutation(n_samples)
    return np.sort(permutation[:n_centers])


class Nystroem(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Nystrom features: the kernel projected onto the span of ``M`` centers.

    Maps ``X`` to ``Z = k(X, C) V_r diag(lambda_r)^(-1/2)`` where ``C`` are
    ``n_components`` rows of the training data and ``k(C, C) = V diag(lambda)
    V^T``, so that ``Z Z^T`` is the kernel matrix projected onto the span of the
    ``k(., c_j)`` [1]_ and equals it on the centers. Like random features, they
    are random (through the centers) and more of them is better; unlike them,
    they adapt to the data, and a ridge fit on them is the Nystrom approximation of
    kernel ridge regression (:class:`rfkernels.KernelRidge` with ``n_centers``).
    Kernel tiles and the product with the projection run fused in Rust, in
    parallel over row chunks; no ``n x M`` kernel matrix is stored.

    Parameters
    ----------
    kernel : str, default="rbf"
        One of ``rfkernels.KERNELS`` (the kernels of
        :func:`rfkernels.kernels.kernel_matrix`).
    n_components : int, default=1024
        Number of centers ``M`` (at most the number of training rows: a larger
        value uses every row, with a warning).
    gamma : "scale" or float, default="scale"
        Kernel scale; ``"scale"`` as in :class:`rfkernels.RandomFeatures`.
    bias : float, default=0.0
        Offset scale of the arc-cosine kernels and the constant of linear.
    depth : int, default=1
        Hidden layers of the nngp and ntk kernels; the others take only 1.
    sampling : {"uniform", "leverage"}, default="uniform"
        How the centers, distinct training rows, are drawn: ``"uniform"``, uniformly
        at random (:func:`draw_centers`); ``"leverage"``, by approximate ridge
        leverage scores (BLESS [2]_, :func:`rfkernels.leverage.draw_leverage_centers`),
        which favors the rows the others explain badly, such as a rare cluster
        (see Notes).
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of centers: the same seed gives the same centers and
        bit-identical features for any number of threads.
    n_jobs : int or None, default=None
        Threads of the Rust core (None: ``RAYON_NUM_THREADS`` or all cores).

    Attributes
    ----------
    components_ : ndarray of shape (n_centers, n_features_in)
        The centers ``C`` (float64).
    component_indices_ : ndarray of shape (n_centers,)
        Their rows in the training data.
    eigenvalues_ : ndarray of shape (n_components_,)
        The kept eigenvalues of ``k(C, C)``, descending.
    projection_ : ndarray of shape (n_centers, n_components_)
        ``V_r diag(lambda_r)^(-1/2)``: the features are ``k(X, C) @ projection_``.
    n_components_ : int
        The number of features: eigenvalues of ``k(C, C)`` at or below
        ``M * eps * max(eigenvalues)`` (numpy's ``pinv`` cut-off) are rounding,
        and their directions are dropped, so duplicate or indistinguishable
        centers lower it below ``M`` instead of blowing up the features.
    gamma_ : float
        The numeric ``gamma`` used.
    n_features_in_, feature_names_in_
        As in scikit-learn.

    See Also
    --------
    sklearn.kernel_approximation.Nystroem : The same features in numpy; it keeps
        ``n_components`` columns and clips small eigenvalues at 1e-12 instead.
    rfkernels.RandomFeatures : Data-independent random features.

    Notes
    -----
    Cost: ``k(C, C)`` and its eigendecomposition, ``O(M^3)``, at ``fit``; then
    ``O(n M (d + r))`` per ``transform``. Memory is ``O(M^2)`` at ``fit``.

    ``sampling="leverage"`` draws the centers by the ridge leverage scores
    ``tau_i(lambda) = (K (K + lambda I)^-1)_ii``, estimated by BLESS-R [2]_ without
    forming ``K``. The ridge ``lambda`` (in the units of ``K``) is the one at which the
    effective dimension ``sum_i tau_i`` is about ``M / 4`` (from ``M / 8`` to ``M /
    4``), found by halving it from ``tr K``; beyond 4096 centers, or when scoring
    the candidates would cost more than ``2**38`` multiply-adds, the ridge stays
    larger. The ``M`` centers are drawn without replacement from the scored
    candidates (every row for small ``n``, at least ``2 M`` rows otherwise), each
    draw with probability proportional to the score. It costs ``O(n)`` per halving
    plus scoring passes of at most ``max(2 M |D|^2, 2**38)`` multiply-adds for a
    dictionary of ``|D| <~ min(M, 4096)`` rows
    (:func:`rfkernels.leverage.approximate_leverage_scores` gives the details and the
    measured accuracy): 10 s for ``n = 10**6``, ``d = 20``, ``M = 8192`` on two cores,
    well below the eigendecomposition of ``k(C, C)``. The features are the same
    projection for any centers, with no reweighting by the sampling probabilities:
    the span of the ``k(., c_j)`` does not depend on how the centers were drawn.

    References
    ----------
    .. [1] C. Williams and M. Seeger, "Using the Nystroem Method to Speed Up Kernel
       Machines", NeurIPS 2001.
    .. [2] A. Rudi, D. Calandriello, L. Carratino and L. Rosasco, "On Fast Leverage
       Score Sampling and Optimal Learning", NeurIPS 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels import Nystroem
    >>> X = np.random.default_rng(0).normal(size=(500, 3))
    >>> Z = Nystroem(n_components=100, gamma=0.5, random_state=0).fit_transform(X)
    >>> Z.shape
    (500, 100)
    """

    _parameter_constraints: ClassVar[dict] = {
        "kernel": [StrOptions(set(KERNELS))],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "gamma": RandomFeatures._parameter_constraints["gamma"],
        "bias": RandomFeatures._parameter_constraints["bias"],
        "depth": [Interval(Integral, 1, None, closed="left")],
        "sampling": [StrOptions(set(CENTER_SAMPLINGS))],
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
        depth: int = 1,
        sampling: str = "uniform",
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
    ) -> None:
        store_params(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Draw the centers and decompose their kernel matrix.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in)
            Training data; the centers are rows of it.
        y : None
            Ignored.

        Returns
        -------
        self : Nystroem
            The fitted transformer.
        """
        X = validate_X(self, X)
        n_jobs = resolve_n_jobs(self.n_jobs)
        check_feature_params(self.kernel, depth=self.depth)
        n_centers = self.n_components
        if n_centers > X.shape[0]:
            warnings.warn(
                f"n_components={n_centers} is more than the {X.shape[0]} training rows: "
                f"every row is a center ({X.shape[0]} components)",
                UserWarning,
                stacklevel=2,
            )
            n_centers = X.shape[0]
        check_fits_in_memory(
            (2, n_centers, n_centers), np.float64, "the centers' kernel matrix", "use fewer centers"
        )
        gamma = resolve_gamma(self.kernel, self.gamma, X, None)
        if self.sampling == "leverage":
            indices = draw_leverage_centers(
                X,
                n_centers,
                kernel=self.kernel,
                gamma=gamma,
                bias=self.bias,
                depth=self.depth,
                random_state=self.random_state,
                n_jobs=self.n_jobs,
            )
        else:
            indices = draw_centers(X.shape[0], n_centers, self.random_state)
        return self._set_centers(X[indices], indices, gamma, n_jobs=n_jobs)

    def _set_centers(
        self, components: np.ndarray, indices: np.ndarray, gamma: float, *, n_jobs
    ) -> Nystroem:
        """Take ``components`` (the training rows ``indices``) as the centers; decompose.

        ``gamma`` is the numeric scale. A fit whose rows are never all in memory (a
        :class:`~rfkernels.KernelRidge` on batches) gathers its centers and calls this.
        """
        self.gamma_ = float(gamma)
        self.n_features_in_ = components.shape[1]
        self.component_indices_ = indices
        self.components_ = np.ascontiguousarray(components, dtype=np.float64)
        self.eigenvalues_, self.projection_, _ = self._kernel_centers().basis(n_jobs=n_jobs)
        self.n_components_ = self.projection_.shape[1]
        self._n_features_out = self.n_components_
        return self

    def _kernel_centers(self) -> _core.KernelCenters:
        """The kernel against the centers, in the core."""
        return _core.KernelCenters(
            self.components_,
            kernel=self.kernel,
            gamma=float(self.gamma_),
            bias=float(self.bias),
            depth=int(self.depth),
        )

    @property
    def arrays_(self) -> NystroemArrays:
        """The fitted map as the engine's passes take it."""
        check_is_fitted(self)
        return NystroemArrays(self._kernel_centers(), self.projection_)

    def transform(self, X) -> np.ndarray:
        """Compute the Nystrom features of ``X``.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features_in)
            Data with the columns seen in :meth:`fit`.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components_)
            The features, float32 for float32 ``X`` (computed in float64 and
            rounded) and float64 otherwise; a dask array for a dask ``X``.
        """
        if is_dask_array(X):
            return map_rows(self.transform, X, self.n_components_)
        check_is_fitted(self)
        X = validate_X(self, X, reset=False)
        check_fits_in_memory((X.shape[0], self.n_components_), X.dtype, "the feature matrix")
        return self.arrays_.transform(X, n_jobs=resolve_n_jobs(self.n_jobs))

    def __sklearn_tags__(self):
        """Declare float32 preservation: float32 in, float32 features out."""
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
