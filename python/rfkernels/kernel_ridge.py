"""KernelRidge: exact kernel ridge regression, the infinite-width limit of RandomFeatureRidge."""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._engine.data import as_targets, check_sample_weight, target_shift
from ._engine.paths import DualPath, cv_splits, solve_path
from ._engine.progress import Progress
from ._engine.selection import RIDGE_PATH_CONSTRAINTS, apply_selection
from ._gamma import resolve_gamma
from ._kernels import KERNELS, check_feature_params
from ._memory import check_fits_in_memory
from ._params import store_params
from ._threads import resolve_n_jobs
from .distributed import DaskScoreMixin, is_dask_array, map_rows
from .kernels import kernel_matrix
from .random_features import RandomFeatures

__all__ = ["KernelRidge"]

#: n x n float64 matrices alive at once during a fit: K, its centered copy, the
#: eigenvectors and their squares.
FIT_MATRICES = 4
#: Bytes of kernel rows evaluated at once in ``predict``.
PREDICT_BLOCK_BYTES = 64 * 2**20


class KernelRidge(DaskScoreMixin, MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Exact kernel ridge regression with the whole ridge path and exact LOO.

    The infinite-width limit of :class:`rfkernels.RandomFeatureRidge`: the same
    kernels, ``gamma``, ridge convention and selection of ``alpha``, on the
    exact ``n x n`` kernel matrix (computed in Rust, float64). One
    eigendecomposition gives the fit, training error, GCV and exact
    leave-one-out error of every ridge.

    Unlike :class:`sklearn.kernel_ridge.KernelRidge`, it fits an unpenalized
    intercept by default (as ``RandomFeatureRidge`` does) and chooses ``alpha``.

    Parameters
    ----------
    kernel : str, default="rbf"
        One of ``rfkernels.KERNELS``: "rbf", "laplacian", "relu", "step", "linear",
        "matern12", "matern32", "matern52", "cauchy", "nngp", "ntk".
        The kernel (see :func:`rfkernels.kernels.kernel_matrix`).
    gamma : "scale" or float, default="scale"
        Kernel scale; ``"scale"`` as in :class:`rfkernels.RandomFeatures`.
    bias : float, default=0.0
        Offset scale of the arc-cosine kernels (relu, step, nngp, ntk) and the
        constant of linear.
    depth : int, default=1
        Hidden layers of the nngp and ntk kernels (deep ReLU networks' NNGP and
        neural tangent kernels, see :func:`rfkernels.kernels.kernel_matrix`); the
        other kernels take only 1.
    alphas : "auto", float or array-like of shape (n_alphas,), default="auto"
        Ridges to try, each >= 0; ``"auto"`` is 0 and 23 ridges log-spaced from
        1e-10 to 10 times the top eigenvalue of the centered kernel matrix.
    cv : None, "loo", "gcv", int, cross-validation splitter or iterable, default=None
        Selection of ``alpha``: exact leave-one-out, GCV, k-fold (an int), a
        scikit-learn splitter whose ``split`` gets ``X`` only (no ``y``, no
        ``groups``), or an iterable of ``(train, test)`` index arrays (e.g.
        ``list(GroupKFold(5).split(X, y, groups))`` for group-aware folds).
    fit_intercept : bool, default=True
        Fit an unpenalized intercept (the kernel is centered).
    alpha_per_target : bool, default=False
        One alpha per target instead of one for all.
    n_jobs : int or None, default=None
        Threads of the Rust core.
    verbose : int, default=0
        1 prints the phases of the fit.

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Weights of ``k(x, X_fit_)`` in the fit ``f(x) = k(x, X_fit_) @ dual_coef_ + intercept_``.
    intercept_ : float or ndarray of shape (n_targets,)
        The intercept(s).
    X_fit_ : ndarray of shape (n_samples, n_features_in)
        The training data (float64), needed to predict.
    gamma_ : float
        The numeric ``gamma`` used.
    alpha_, alphas_, best_score_, cv_results_, train_errors_, n_features_in_, \
feature_names_in_
        As in :class:`rfkernels.RandomFeatureRidge`.

    See Also
    --------
    sklearn.kernel_ridge.KernelRidge : Kernel ridge for one fixed alpha.
    rfkernels.RandomFeatureRidge : The finite-width random-feature model.

    Notes
    -----
    Memory is about four ``n x n`` float64 matrices; ``fit`` raises
    ``MemoryError`` before allocating them when they cannot fit.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from rfkernels import KernelRidge
    >>> X, y = make_friedman1(n_samples=300, noise=0.1, random_state=0)
    >>> model = KernelRidge(kernel="rbf").fit(X[:200], y[:200])
    >>> bool(model.score(X[200:], y[200:]) > 0.85)  # R^2 on held-out rows
    True
    >>> # the NTK of a deep ReLU network: 3 hidden layers
    >>> deep = KernelRidge(kernel="ntk", depth=3, bias=1.0).fit(X[:200], y[:200])
    >>> bool(deep.score(X[200:], y[200:]) > 0.85)
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "kernel": [StrOptions(set(KERNELS))],
        "gamma": RandomFeatures._parameter_constraints["gamma"],
        "bias": RandomFeatures._parameter_constraints["bias"],
        "depth": [Interval(Integral, 1, None, closed="left")],
        **RIDGE_PATH_CONSTRAINTS,
    }

    def __init__(
        self,
        kernel: str = "rbf",
        *,
        gamma: float | str = "scale",
        bias: float = 0.0,
        depth: int = 1,
        alphas="auto",
        cv: int | str | None = None,
        fit_intercept: bool = True,
        alpha_per_target: bool = False,
        n_jobs: int | None = None,
        verbose: int = 0,
    ) -> None:
        store_params(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the ridge path on the exact kernel matrix and choose ``alpha``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : KernelRidge
            The fitted model.
        """
        X, y = validate_data(
            self, X, y, dtype=np.float64, multi_output=True, y_numeric=True, ensure_min_samples=2
        )
        sample_weight = check_sample_weight(sample_weight, X)
        check_feature_params(self.kernel, depth=self.depth)
        progress = Progress(type(self).__name__, self.verbose)
        n = X.shape[0]
        check_fits_in_memory(
            (FIT_MATRICES, n, n), np.float64, "the kernel matrix and its eigendecomposition"
        )
        Y, y_was_1d = as_targets(y)
        self.gamma_ = resolve_gamma(self.kernel, self.gamma, X, sample_weight)
        progress.phase(f"kernel matrix {n} x {n}")
        K = kernel_matrix(
            X,
            kernel=self.kernel,
            gamma=self.gamma_,
            bias=self.bias,
            depth=self.depth,
            n_jobs=self.n_jobs,
        )
        progress.phase("eigendecomposition of the centered kernel")
        # Targets shifted by their mean, as the random-feature estimators do: nothing
        # cancels in the centered sums for targets like y + 1e9.
        shift = target_shift(Y, sample_weight) if self.fit_intercept else np.zeros(Y.shape[1])
        path = DualPath(
            K,
            Y - shift,
            sample_weight,
            fit_intercept=self.fit_intercept,
            n_jobs=resolve_n_jobs(self.n_jobs),
            shift=shift,
        )
        splits = cv_splits(self.cv, X)
        dual, intercept = apply_selection(
            self, solve_path(path, self.alphas, self.cv, splits), y_was_1d
        )
        self.dual_coef_ = dual[:, 0] if y_was_1d else dual
        self.intercept_ = float(intercept[0]) if y_was_1d else intercept
        self.X_fit_ = X
        progress.phase(f"done: alpha_ = {self.alpha_}")
        return self

    def predict(self, X) -> np.ndarray:
        """Predict ``k(X, X_fit_) @ dual_coef_ + intercept_``, in blocks of rows.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features_in)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions (float64); a dask array, block by block, for a dask ``X``.
        """
        if is_dask_array(X):
            n_targets = None if np.ndim(self.dual_coef_) == 1 else self.dual_coef_.shape[1]
            return map_rows(self.predict, X, n_targets, dtype=np.float64)
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        step = max(1, PREDICT_BLOCK_BYTES // (8 * len(self.X_fit_)))
        blocks = [
            kernel_matrix(
                X[start : start + step],
                self.X_fit_,
                kernel=self.kernel,
                gamma=self.gamma_,
                bias=self.bias,
                depth=self.depth,
                n_jobs=self.n_jobs,
            )
            @ self.dual_coef_
            for start in range(0, len(X), step)
        ]
        return np.concatenate(blocks) + self.intercept_

    def __sklearn_tags__(self):
        """Multi-output regression."""
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
