"""KernelRidge and KernelRidgeClassifier: kernel ridge, exact or on Nystrom centers."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from ._engine.data import labels_of
from ._kernel_ridge_base import KernelRidgeBase
from ._targets import ClassificationTargets, RegressionTargets
from .distributed import DaskScoreMixin, is_dask_array, map_rows

__all__ = ["KernelRidge", "KernelRidgeClassifier"]


class KernelRidge(DaskScoreMixin, RegressorMixin, KernelRidgeBase, RegressionTargets):
    """Kernel ridge regression: exact, or on Nystrom centers for large ``n``.

    The infinite-width limit of :class:`rfkernels.RandomFeatureRidge`: the same
    kernels, ``gamma``, ridge convention and selection of ``alpha``.

    - ``n_centers=None`` (default): the exact ``n x n`` kernel matrix (computed in
      Rust, float64); one eigendecomposition gives the fit, training error, GCV and
      exact leave-one-out error of every ridge. Memory ``4 n^2`` floats.
    - ``n_centers=M``: the Nystrom approximation, ``f(x) = sum_j beta_j k(x, c_j)``
      on ``M`` training rows drawn as centers (:class:`rfkernels.Nystroem`), with the
      penalty ``alpha beta^T K_MM beta``. ``solver="eigen"`` streams the Nystrom
      features into their Gram and keeps the whole ridge path with exact LOO, GCV
      and k-fold from one ``M x M`` eigendecomposition; ``solver="cg"`` solves the
      path by preconditioned conjugate gradients (Falkon-style, see Notes) without
      ever forming an ``n x M`` matrix, which takes kernel ridge to millions of rows.

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
        Ridges to try, each >= 0 (> 0 with ``solver="cg"``). ``"auto"`` is 0 and 23
        ridges log-spaced from 1e-10 to 10 times the top eigenvalue of the centered
        kernel matrix (or Nystrom Gram); with CG, 6 ridges from 1e-6 to 1e-1 times
        its Nystrom estimate.
    cv : None, "loo", "gcv", int, cross-validation splitter or iterable, default=None
        Selection of ``alpha``: exact leave-one-out (None or "loo"), GCV, k-fold
        (an int), a scikit-learn splitter whose ``split`` gets ``X`` only, or an
        iterable of ``(train, test)`` index arrays. With ``solver="cg"``, None
        holds out a random 10% of the rows (then refits ``alpha_`` on all of them);
        "loo" and "gcv" need an eigendecomposition and are refused.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept (the kernel is centered).
    alpha_per_target : bool, default=False
        One alpha per target instead of one for all.
    n_centers : int or None, default=None
        Number of Nystrom centers ``M`` (at most the number of rows: every row is
        then a center); None solves the exact kernel.
    center_sampling : {"uniform", "leverage"}, default="uniform"
        How the centers are drawn (:class:`rfkernels.Nystroem`'s ``sampling``):
        uniformly among the rows, or by approximate ridge leverage scores (BLESS,
        :mod:`rfkernels.leverage`), which favors rows the others explain badly (rare
        clusters); "leverage" needs the rows in memory.
    solver : {"auto", "eigen", "cg"}, default="auto"
        How a Nystrom fit is solved (ignored without ``n_centers``); "auto" is
        "eigen" up to 4096 centers, "cg" above (see Notes).
    tol : float, default=1e-4
        CG stops a ridge and target when its preconditioned residual falls below
        ``tol`` times its right-hand side.
    max_iter : int, default=100
        Most CG iterations (passes over the rows) per fit.
    random_state : int, RandomState instance or None, default=None
        Seeds the centers and the held-out rows of CG.
    n_jobs : int or None, default=None
        Threads of the Rust core.
    verbose : int, default=0
        1 prints the phases of the fit; 2 also shows progress bars.

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_fit, ) or (n_fit, n_targets)
        Weights of ``k(x, X_fit_)`` in ``f(x) = k(x, X_fit_) @ dual_coef_ + intercept_``.
    intercept_ : float or ndarray of shape (n_targets,)
        The intercept(s).
    X_fit_ : ndarray of shape (n_fit, n_features_in)
        The rows the dual coefficients weigh (float64): the training data, or the
        centers.
    solver_ : {"exact", "eigen", "cg"}
        The solver used.
    center_indices_ : ndarray of shape (n_centers,)
        With ``n_centers``: the rows of the training data that are the centers.
    n_iter_ : int or ndarray of shape (n_alphas,) or (n_alphas, n_targets)
        With ``solver="cg"``: the CG iterations of each ridge (summed over the
        splits of ``cv``); 1 for the exact and eigen solvers (one decomposition
        solves every ridge).
    cg_residuals_ : list of ndarray
        With ``solver="cg"``: the relative residual of every ridge and target after
        each iteration.
    refit_n_iter_ : list of int
        With ``solver="cg"``: the iterations of the refit of each chosen ridge on
        all rows.
    gamma_ : float
        The numeric ``gamma`` used.
    alpha_, alphas_, best_score_, cv_results_, train_errors_, n_features_in_, \
feature_names_in_
        As in :class:`rfkernels.RandomFeatureRidge`. With CG, ``cv_results_`` are
        held-out errors and ``train_errors_`` those of the fits on the training rows
        of the splits.

    See Also
    --------
    sklearn.kernel_ridge.KernelRidge : Kernel ridge for one fixed alpha.
    rfkernels.RandomFeatureRidge : The finite-width random-feature model.
    rfkernels.Nystroem : The Nystrom features.

    Notes
    -----
    Cost and memory. Exact: ``O(n^3)`` time, four ``n x n`` float64 matrices;
    ``fit`` raises ``MemoryError`` before allocating them when they cannot fit.
    Nystrom: the centers' ``M x M`` kernel and its eigendecomposition, ``O(M^3)``;
    then "eigen" costs two passes of ``O(n M (d + M))`` (features and Gram, then
    the leave-one-out residuals) and "cg" ``O(n M (d + n_alphas t))`` per
    iteration, with ``O(M^2)`` memory either way. "eigen" gives exact LOO and
    every ridge down to 0; "cg" wins when ``M`` is large (its passes do not grow
    with ``M^2``), hence the switch at ``M = 4096``.

    The CG solver is Falkon's (Rudi, Carratino and Rosasco, "FALKON: An Optimal
    Large Scale Kernel Method", NeurIPS 2017): conjugate gradients on ``(K_nM^T W
    K_nM + alpha K_MM) beta = K_nM^T W y`` preconditioned by ``(S/M) K_MM^2 + alpha
    K_MM``. The preconditioner is factored by the eigendecomposition of ``K_MM``
    (shared with the Nystrom features) rather than by Cholesky factors per ridge, so
    every ridge of the path iterates together, one pass over the rows per
    iteration, in ``O(M r)`` memory; it solves the same model as "eigen".

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
    >>> # 100 Nystrom centers, the path solved by conjugate gradients
    >>> cg = KernelRidge(n_centers=100, solver="cg", random_state=0).fit(X[:200], y[:200])
    >>> cg.solver_, bool(cg.score(X[200:], y[200:]) > 0.8)
    ('cg', True)
    """

    def predict(self, X) -> np.ndarray:
        """Predict ``k(X, X_fit_) @ dual_coef_ + intercept_``, fused in Rust.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features_in)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions (float64); a dask array, block by block, for a dask ``X``.
        """
        return self._scores(X)

    def __sklearn_tags__(self):
        """Multi-output regression."""
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class KernelRidgeClassifier(
    DaskScoreMixin, ClassifierMixin, KernelRidgeBase, ClassificationTargets
):
    """Kernel ridge classification, exact or on Nystrom centers.

    One-vs-all regression on targets in {-1, +1} with the solvers of
    :class:`KernelRidge` (like scikit-learn's ``RidgeClassifierCV`` on the kernel):
    one decomposition, or one block of conjugate-gradient iterations, for all
    classes and all ridges; the predicted class has the largest score.

    Parameters
    ----------
    kernel, gamma, bias, depth, alphas, cv, fit_intercept, alpha_per_target, n_centers, \
center_sampling, solver, tol, max_iter, random_state, n_jobs, verbose
        As in :class:`KernelRidge`; ``cv=int`` uses stratified folds, and a
        splitter's ``split`` also gets the labels.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    dual_coef_ : ndarray of shape (n_fit, 1) or (n_fit, n_classes)
        Weights of ``k(x, X_fit_)`` in the decision function(s).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts of the decision function(s).
    X_fit_, solver_, center_indices_, n_iter_, cg_residuals_, refit_n_iter_, gamma_, \
alpha_, alphas_, best_score_, cv_results_, train_errors_, n_features_in_, feature_names_in_
        As in :class:`KernelRidge`, for the {-1, +1} targets.

    See Also
    --------
    KernelRidge : The regressor.
    RandomFeatureRidgeClassifier : The same on random features.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from rfkernels import KernelRidgeClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = KernelRidgeClassifier(n_centers=500, random_state=0).fit(X[:1500], y[:1500])
    >>> bool(clf.score(X[1500:], y[1500:]) > 0.9)
    True
    """

    def decision_function(self, X) -> np.ndarray:
        """Confidence scores: the ridge fits of the {-1, +1} class indicators.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features_in)
            Samples to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One score per class, or one (positive for ``classes_[1]``) for two classes.
        """
        scores = self._scores(X)
        return scores[:, 0] if scores.ndim == 2 and scores.shape[1] == 1 else scores

    def predict(self, X) -> np.ndarray:
        """Predict class labels: the class with the largest score.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features_in)
            Samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Predicted classes (a dask array for a dask array ``X``).
        """
        if is_dask_array(X):
            return map_rows(self.predict, X, None, dtype=self.classes_.dtype)
        return labels_of(self.decision_function(X), self.classes_)

    def __sklearn_tags__(self):
        """Multiclass classification; not multi-output."""
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False
        return tags
