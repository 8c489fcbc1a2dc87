"""Random-feature ridge regression and classification with the whole ridge path.

One streaming pass computes the random features chunk by chunk and accumulates
their Gram ``Z^T Z`` (never the ``n x D`` matrix ``Z``); one eigendecomposition
then gives the coefficients, training errors, GCV and exact leave-one-out errors
of every ridge in the grid. The leave-one-out errors need per-row leverages, so
the primal fit makes a second streaming pass. The engine is
:class:`~rfkernels._ridge_base.RandomFeatureRidgeBase`; this module holds the
estimators' targets, parameters' documentation and predictions.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context

from ._engine.data import labels_of
from ._ridge_base import RandomFeatureRidgeBase
from ._targets import ClassificationTargets, RegressionTargets
from .distributed import DaskScoreMixin, is_dask_array, map_rows

__all__ = ["RandomFeatureRidge", "RandomFeatureRidgeClassifier"]


class RandomFeatureRidge(DaskScoreMixin, RegressorMixin, RegressionTargets, RandomFeatureRidgeBase):
    """Ridge regression on random features, with the whole ridge path and exact LOO.

    Fits ``y ~ z(x) . beta + beta_0`` on the ``n_components`` random features of
    :class:`RandomFeatures`, choosing the ridge ``alpha`` from a grid by exact
    leave-one-out (default), generalized cross-validation or k-fold error. All
    ridges cost one eigendecomposition of the ``D x D`` feature Gram (or of the
    ``n x n`` kernel matrix when ``n < D``), and the features are streamed in
    chunks: memory is ``O(D^2 + chunk x (d + D))`` whatever the number of rows.

    As ``n_components`` grows the model tends to :class:`rfkernels.KernelRidge`
    with the same kernel and ridge: ``alpha`` means the same at every width.

    Parameters
    ----------
    kernel : str, default="rbf"
        One of ``rfkernels.KERNELS``: "rbf", "laplacian", "relu", "step", "linear",
        "matern12", "matern32", "matern52", "cauchy", "nngp", "ntk".
        Kernel whose random features are used (see :class:`RandomFeatures`).
    n_components : int, default=1024
        Number of random features ``D``.
    gamma : "scale" or float, default="scale"
        Kernel scale (see :class:`RandomFeatures`).
    bias : float, default=0.0
        Offset scale of the kernels that take one (relu, step, linear, nngp, ntk);
        ignored by the others (see :class:`RandomFeatures`).
    fourier : {"cos", "sincos"}, default="cos"
        Form of the features of the shift-invariant kernels (rbf, laplacian,
        matern12, matern32, matern52, cauchy); ignored by the others (see
        :class:`RandomFeatures`).
    sampling : {"iid", "orthogonal", "structured"}, default="iid"
        How the frequencies are drawn (see :class:`RandomFeatures`).
    alphas : "auto", float or array-like of shape (n_alphas,), default="auto"
        Ridges to try, each >= 0 (0 is the minimum-norm least-squares fit).
        ``"auto"`` is 0 and 23 ridges log-spaced from 1e-10 to 10 times the top
        eigenvalue of the centered feature Gram.
    cv : None, "loo", "gcv", int, cross-validation splitter or iterable, default=None
        How to choose ``alpha``: ``None``/``"loo"`` exact leave-one-out (as
        scikit-learn's ``RidgeCV``); ``"gcv"`` generalized cross-validation
        (from the Gram alone, no second pass); an int ``k`` for k-fold; a
        scikit-learn splitter, whose ``split`` gets ``X`` only (no ``y``, no
        ``groups``: not ``StratifiedKFold`` or ``GroupKFold``); or an iterable of
        ``(train, test)`` index arrays, e.g. ``list(GroupKFold(5).split(X, y,
        groups))`` for group-aware folds. Fits on batches of rows
        (:meth:`partial_fit`, memmaps, ``RowBatches``, dask arrays) take only
        None, ``"loo"`` or ``"gcv"``.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept (features and targets centered).
    alpha_per_target : bool, default=False
        Choose one alpha per target instead of one for all.
    random_state : int, RandomState instance or None, default=None
        Seeds the random features.
    chunk_size : int or None, default=None
        Rows per streaming block; ``None`` uses about 64 MiB of features.
    n_jobs : int or None, default=None
        Threads of the Rust core (``None``: all cores or ``RAYON_NUM_THREADS``).
    verbose : int, default=0
        1 prints the phases of the fit; 2 also the progress of each pass.

    Attributes
    ----------
    coef_ : ndarray of shape (n_components,) or (n_targets, n_components)
        Coefficients of the features at ``alpha_``.
    intercept_ : float or ndarray of shape (n_targets,)
        The intercept(s) (0.0 when ``fit_intercept=False``).
    alpha_ : float or ndarray of shape (n_targets,)
        The chosen ridge (one per target with ``alpha_per_target``).
    alphas_ : ndarray of shape (n_alphas,)
        The grid of ridges tried, ascending.
    best_score_ : float or ndarray of shape (n_targets,)
        Negative mean squared cross-validation error at ``alpha_``.
    cv_results_ : ndarray of shape (n_alphas,) or (n_alphas, n_targets)
        Mean squared cross-validation error of every alpha: leave-one-out
        ``sum_i s_i e_i^2 / n`` (``e_i`` the LOO residual, as ``RidgeCV``);
        GCV ``(RSS / S) / (1 - df / n)^2`` (``RSS = sum_i s_i r_i^2``); or k-fold
        ``sum_test s_i r_i^2 / sum_test s_i``, with ``S = sum_i s_i`` (``n`` for unit
        weights).
    train_errors_ : ndarray of shape (n_alphas,) or (n_alphas, n_targets)
        Training mean squared error ``sum_i s_i r_i^2 / sum_i s_i`` of every alpha.
    random_features_ : RandomFeatures
        The fitted feature map; ``random_features_.transform(X)`` gives the
        features the model is linear in.
    n_features_in_ : int
        Number of input columns seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Input column names, when ``X`` has string column names.

    See Also
    --------
    sklearn.linear_model.RidgeCV : Ridge with leave-one-out selection.
    sklearn.kernel_approximation.RBFSampler : Random Fourier features.
    rfkernels.KernelRidge : The infinite-width limit of this model.

    Notes
    -----
    The objective, as scikit-learn's ``Ridge`` (sums, not means)::

        sum_i s_i (y_i - z_i . beta - beta_0)^2 + alpha ||beta||^2

    With ``Z~`` the centered features scaled by ``sqrt(s_i)``, ``Z~^T Z~ = Q
    diag(lambda) Q^T`` gives ``beta = Q diag(1 / (lambda + alpha)) Q^T Z~^T y~``
    for every alpha; at ``alpha = 0`` the pseudo-inverse (eigenvalues below
    ``max(lambda) * max(n, D) * eps`` dropped) gives the minimum-norm solution.
    Leave-one-out residuals are ``r_i / (1 - H_ii)`` with the leverages of the
    hat matrix including the intercept, exactly as ``RidgeCV``.

    Data that come in batches (or do not fit in memory) can be streamed with
    :meth:`partial_fit`: the statistics add up, the memory stays ``O(D^2)``, and
    ``alpha`` is chosen by GCV (leave-one-out needs a second pass over the rows).

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels import RandomFeatureRidge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(500, 1))
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(500)
    >>> model = RandomFeatureRidge(n_components=256, random_state=0).fit(X, y)
    >>> bool(model.score(X, y) > 0.95)
    True
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Add a batch of rows to a streamed fit; ``alpha`` is chosen by GCV.

        Only the additive statistics ``Z^T Z``, ``Z^T y`` and sums are kept, so the
        memory is ``O(D^2)`` however many rows are streamed. Every call solves the
        path again (one ``D x D`` eigendecomposition), so the model is usable after
        each; to fit many small batches at once, pass them to :meth:`fit` as a
        :class:`~rfkernels.RowBatches`, which solves once. With ``alpha`` fixed, the
        coefficients after any split of the data into batches equal those of
        :meth:`fit` on all of it (with ``cv="gcv"``, since leave-one-out needs a
        second pass over the rows, which a stream cannot make).

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features_in)
            A batch of training data; a dask array's statistics are one map-reduce
            over its blocks.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its targets: 1-d or 2-d with the same number of targets in every batch.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights of the batch's rows.

        Returns
        -------
        self : RandomFeatureRidge
            The model, usable after every call.

        Notes
        -----
        The first call draws the random features: ``gamma="scale"`` is computed
        from the first batch only (pass a numeric ``gamma`` to make it independent
        of the batching). ``cv`` must be None, ``"loo"`` or ``"gcv"``; the choice is
        always GCV. After :meth:`fit`, ``partial_fit`` keeps the fitted features
        and starts a new stream: the rows given to ``fit`` are not part of it.
        """
        self._partial_fit(X, y, sample_weight)
        return self

    def predict(self, X) -> np.ndarray:
        """Predict ``z(X) . coef_ + intercept_``, computing the features chunk by chunk.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features_in)
            Samples; a dask array is predicted block by block, into a dask array.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions, in the dtype of ``X`` (float32 or float64).
        """
        return self._scores(X)

    def _n_scores(self) -> int | None:
        """One score per target (None: 1-d ``y``, 1-d predictions)."""
        return None if np.ndim(self.coef_) == 1 else len(self.coef_)

    def __sklearn_tags__(self):
        """Multi-output regression; float32 and float64 input."""
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class RandomFeatureRidgeClassifier(
    DaskScoreMixin, ClassifierMixin, ClassificationTargets, RandomFeatureRidgeBase
):
    """Ridge classification on random features with leave-one-out selection of ``alpha``.

    One-vs-all regression on targets in {-1, +1} with the engine of
    :class:`RandomFeatureRidge` (like scikit-learn's ``RidgeClassifierCV`` on
    random features): one decomposition for all classes and all ridges.

    Parameters
    ----------
    kernel, n_components, gamma, bias, fourier, sampling, alphas, cv, fit_intercept, \
alpha_per_target, random_state, chunk_size, n_jobs, verbose
        As in :class:`RandomFeatureRidge`; ``cv=int`` uses stratified folds, and a
        splitter's ``split`` also gets the labels (so ``StratifiedKFold`` works).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (1, n_components) or (n_classes, n_components)
        Coefficients of the decision function(s).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts of the decision function(s).
    alpha_, alphas_, best_score_, cv_results_, train_errors_, random_features_, \
n_features_in_, feature_names_in_
        As in :class:`RandomFeatureRidge`, for the {-1, +1} targets.

    See Also
    --------
    sklearn.linear_model.RidgeClassifierCV : The same on explicit features.
    RandomFeatureRidge : The regressor.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from rfkernels import RandomFeatureRidgeClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = RandomFeatureRidgeClassifier(n_components=512, random_state=0).fit(X, y)
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Add a batch of rows to a streamed fit; ``alpha`` is chosen by GCV.

        As :meth:`RandomFeatureRidge.partial_fit`, on the {-1, +1} indicators of
        ``classes``.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features_in)
            A batch of training data; a dask array's statistics are one map-reduce
            over its blocks.
        y : array-like of shape (n_samples,)
            Its class labels, all among ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole stream: required on the first call, and equal
            to ``classes_`` when given later.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights of this batch's rows, which add up over the stream.

        Returns
        -------
        self : RandomFeatureRidgeClassifier
            The model, usable after every call.
        """
        first = "random_features_" not in self.__dict__
        if first or "_stream" not in self.__dict__:
            if classes is None and first:
                raise ValueError("classes must be given on the first call to partial_fit")
            if classes is not None:
                self._set_classes(classes)
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={np.unique(classes).tolist()!r} differs from the first call's "
                f"{self.classes_.tolist()!r}"
            )
        self._partial_fit(X, y, sample_weight)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Confidence scores: the ridge fits of the {-1, +1} class indicators.

        Parameters
        ----------
        X : array-like or dask.array.Array of shape (n_samples, n_features_in)
            Samples to score (a dask array block by block, into a dask array).

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One score per class, or one (positive for ``classes_[1]``) for two classes.
        """
        return self._scores(X)

    def _n_scores(self) -> int | None:
        """One score per class, or one (None: 1-d) for two classes."""
        return None if len(self.coef_) == 1 else len(self.coef_)

    def predict(self, X) -> np.ndarray:
        """Predict class labels: the class with the largest score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in)
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
