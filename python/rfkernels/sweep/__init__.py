"""Sweeps of random-feature ridge regression over width, samples and ridge, beside the theory.

:func:`width_sweep` fits random-feature ridge regression at several widths (numbers of
random features ``D``, ``n_components``), :func:`sample_sweep` at several training
sizes ``n``, and :func:`ridge_sweep` is a width sweep meant to be read against the
ridge. Every sweep averages over seeds, records the train, test and exact
leave-one-out (LOO) mean squared errors at every ridge of one shared grid, the same
for the kernel (the infinite-width limit, :class:`rfkernels.KernelRidge`) and the
predictions of :mod:`rfkernels.theory`, and returns a :class:`SweepResult` that
tabulates (:meth:`SweepResult.table`, :meth:`SweepResult.to_frame`) and draws
(:meth:`SweepResult.plot`) the figures of Simon et al. [1]_: risk against width at
the tuned ridge with the infinite-width line, risk against ridge for several widths,
and train against test risk at the optimum.

The engine is that of :class:`rfkernels.RandomFeatureRidge`, reused across the values
(nested features, additive Gram statistics) so that a sweep costs little more than one
fit at its largest width or size (see the Notes of :func:`width_sweep`). The package
has one module per job: ``_inputs`` checks and prepares the inputs, ``_fits`` fits one
seed at every value, ``_run`` runs the seeds into a result, ``result`` holds
:class:`SweepResult` and its tables, and ``_plots`` draws its figures.

References
----------
.. [1] J. B. Simon, D. Karkada, N. Ghosh, M. Belkin, "More is Better in Modern
   Machine Learning: when Infinite Overparameterization is Optimal and Overfitting
   is Obligatory", ICLR 2024, arXiv:2311.14646.
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from ._fits import Scored, kernel_fits, sample_fits, width_fits
from ._gamma_search import GAMMA_ROWS
from ._inputs import (
    KERNEL_ROWS,
    check_counts,
    check_feature_map,
    check_kernel_params,
    check_widths,
    permutation,
    prepare,
)
from ._run import Sweep, run_sweep
from .result import SweepResult

# KERNEL_ROWS: the kernel line's rows with exact_kernel="auto" and n_kernel=None;
# GAMMA_ROWS: the training rows of the gamma="loo" search.
__all__ = ["GAMMA_ROWS", "KERNEL_ROWS", "SweepResult", "ridge_sweep", "sample_sweep", "width_sweep"]


def width_sweep(
    X: Any,
    y: Any,
    widths: Sequence[int],
    *,
    n_samples: int | None = None,
    X_test: Any = None,
    y_test: Any = None,
    test_size: float | int = 0.25,
    kernel: str = "rbf",
    feature_map: str = "random",
    gamma: float | str = "scale",
    alphas: Any = "auto",
    seeds: Sequence[int] = (0, 1, 2),
    fit_intercept: bool = False,
    standardize: bool | Sequence[bool] = False,
    scale_target: bool = False,
    exact_kernel: bool | str = "auto",
    n_kernel: int | None = None,
    theory: bool = True,
    n_eigen: int = 1000,
    n_jobs: int | None = None,
    progress: bool = True,
    **kernel_params: Any,
) -> SweepResult:
    """Risk of random-feature ridge regression against the width, at every ridge.

    For each seed, draws ``n_samples`` training rows and the random features, and fits
    ridge regression on the first ``k`` features for every width ``k`` in ``widths``
    and every ridge of one grid, recording train, test and exact leave-one-out MSE;
    also kernel ridge regression on the same rows (the infinite width) and the
    theory's predictions.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features_in)
        Data. Unless ``X_test`` is given, a ``test_size`` fraction of the rows is split
        off as the test set (``random_state=0``) before anything else; the rest is the
        training pool.
    y : array-like of shape (n_rows,) or (n_rows, n_outputs)
        Targets (e.g. one-hot classes); MSE is averaged over outputs.
    widths : sequence of int
        Numbers of random features ``D``, distinct and positive (even with
        ``fourier="sincos"``); sorted ascending.
    n_samples : int, default=None
        Training rows per seed, drawn without replacement from the pool (the first
        ``n_samples`` of ``np.random.default_rng(seed).permutation(n_pool)``);
        ``None`` uses the whole pool, in order, for every seed.
    X_test, y_test : array-like, default=None
        A separate test set (both or neither).
    test_size : float or int, default=0.25
        Fraction (or number) of rows split off as the test set when ``X_test`` is None.
    kernel : str, default="rbf"
        One of ``rfkernels.KERNELS``: "rbf", "laplacian", "relu", "step", "linear",
        "matern12", "matern32", "matern52", "cauchy", "nngp", "ntk".
        The kernel the random features approximate.
    feature_map : {"random", "nystroem"}, default="random"
        What a width is: ``D`` random features, or ``M`` Nystrom centers (the fits of
        ``KernelRidge(n_centers=M, solver="eigen")``, nested: the centers of ``M``
        are the first ``M`` of one seeded permutation of the training rows). Nystrom
        widths are at most ``n_samples``; ``fourier`` and ``sampling`` apply to random
        features only, and the theory line is the kernel's (its random-feature
        prediction does not describe Nystrom features).
    gamma : "scale", "loo" or float, default="scale"
        Kernel scale; ``"scale"`` is resolved once on the whole training pool (see
        :class:`rfkernels.RandomFeatures`), so every seed and width uses the same
        kernel, recorded in ``fixed["gamma"]``. ``"loo"`` chooses it by exact
        leave-one-out of kernel ridge regression on 2000 rows of the training pool,
        among 1/64 to 64 times the ``"scale"`` value (13 candidates, factors of 2),
        each at its best ridge of the grid; ``fixed["gamma_search"]`` records the
        candidates and their errors.
    alphas : "auto", float or array-like of shape (n_alphas,), default="auto"
        The ridge grid shared by all widths and seeds (scikit-learn's ``alpha``: not
        divided by ``n``). ``"auto"`` is 0 and 4 ridges per decade from ``1e-6 n s``
        to ``10 n s``, with ``s`` the mean of ``K(x, x)`` (1 for rbf): the
        eigenvalues of the feature Gram sum to about ``n s``, so this spans the
        near-ridgeless regime (relative ridge 1e-6) up to fits shrunk to zero, and
        contains the optimum ``delta* = n kappa* s*`` of the theory (30 ridges).
    seeds : sequence of int, default=(0, 1, 2)
        One repetition per seed: seed ``s`` draws the training rows and the random
        features (``random_state=s``).
    fit_intercept : bool, default=False
        Fit an unpenalized intercept. Off by default because the theory
        (:mod:`rfkernels.theory`) describes ridge regression without one; with
        ``True`` the experiment and the theory describe slightly different models.
        Centering the targets (``standardize``) serves the same purpose.
    standardize : bool or array-like of bool of shape (n_features_in,), default=False
        Standardize the feature columns (mean 0, variance 1; all of them, or those of
        a mask, such as the numeric columns beside one-hot indicators) and center the
        targets, with the means and standard deviations of the training pool, applied
        to the pool and the test set alike. Recorded in ``fixed["preprocessing"]``.
        Without it the columns are used as given: a column in thousands outweighs
        the others in the kernel and in ``gamma="scale"``, and targets far from 0
        are fitted without an intercept.
    scale_target : bool, default=False
        Also center the targets and divide them by their standard deviation on the
        training pool: every MSE is then in units of the target's variance.
    exact_kernel : "auto" or bool, default="auto"
        Also fit kernel ridge regression, the infinite width (``n x n`` kernel
        matrix and eigendecomposition per seed). ``"auto"`` fits it on at most
        ``n_kernel`` training rows and on no more than fit in half the available
        memory: a width sweep on more rows fits the kernel on a random subsample of
        its training rows (the same positions for every seed), a sample sweep only
        at the sizes up to it, and either warns. ``True`` uses every row (a
        ``MemoryError`` if they cannot fit); ``False`` skips the kernel.
    n_kernel : int, default=None
        The most training rows of the kernel line with ``exact_kernel="auto"``;
        ``None`` means 4096 (one fit takes about 5 s on two cores and 0.5 GiB).
        ``fixed["n_kernel"]`` records the rows used.
    theory : bool, default=True
        Also compute the predictions of :func:`rfkernels.theory.rf_risk` and
        :func:`rfkernels.theory.krr_risk` from the eigenstructure estimated on
        ``min(n_eigen, n_pool)`` rows of the training pool.
    n_eigen : int, default=1000
        Rows used to estimate the eigenstructure (an ``n_eigen x n_eigen``
        eigendecomposition). The theory is accurate for ``n`` well below it.
    n_jobs : int or None, default=None
        Threads of the Rust core.
    progress : bool, default=True
        Show a progress bar over (seed, width) when tqdm is installed.
    **kernel_params
        ``bias`` (relu, step, linear, nngp and ntk), ``fourier`` (``"cos"`` or
        ``"sincos"``; rbf, laplacian, the Matern kernels and cauchy) and ``sampling``
        (``"iid"``, ``"orthogonal"`` or ``"structured"``) of the random features, as in
        :class:`rfkernels.RandomFeatures`.

    Returns
    -------
    SweepResult
        With ``parameter="n_components"`` and ``values`` the sorted widths.

    Raises
    ------
    ValueError
        For invalid widths, sizes, seeds, grids or data.
    TypeError
        For an unknown keyword argument.
    MemoryError
        With ``exact_kernel=True``, when the kernel line's ``n x n`` matrices cannot
        fit in memory, or when the theory's ``n_eigen x n_eigen`` ones cannot.

    Warns
    -----
    UserWarning
        When ``exact_kernel="auto"`` fits the kernel line on fewer rows than the
        sweep's training sets.

    See Also
    --------
    sample_sweep : The same against the number of training samples.
    ridge_sweep : A width sweep to be read against the ridge.
    rfkernels.RandomFeatureRidge : One fit; every value of the sweep equals one.

    Notes
    -----
    Each width gives exactly the fit of ``RandomFeatureRidge(kernel,
    n_components=k, gamma=fixed["gamma"], alphas=result.alphas, random_state=seed,
    fit_intercept=fit_intercept)`` on the same rows, at a fraction of the cost:

    - Features are nested: the first ``k`` of the ``D`` features of a seed, times
      ``sqrt(D / k)``, are its ``k``-feature map. So widths ``k <= n`` (the primal
      path, as the estimator) share one streamed Gram ``G`` of the widest of them,
      and width ``k`` decomposes ``(D/k) G[:k, :k]`` (:meth:`GramStatistics.leading
      <rfkernels.ridge.GramStatistics.leading>`). Leave-one-out errors need one more
      streaming pass per width (its leverages), like the estimator's.
    - Widths ``k > n`` use the dual path on ``K_k = Z_k Z_k^T``, accumulated column
      block by column block from the features of the widest width.
    - Test features are computed once, at the widest width; width ``k`` predicts
      with their leading columns.

    In units of one Gram pass at width ``D`` (``n D^2`` flops), one fit at width ``D``
    costs about 3 (the leave-one-out pass is a full product, 2) and a sweep over
    widths doubling up to ``D`` (all ``<= n``) about ``1 + 2 (1 + 1/4 + 1/16 + ...)
    ~ 3.7``, plus ``8/7`` of one eigendecomposition and the test predictions.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from rfkernels.sweep import width_sweep
    >>> X, y = load_diabetes(return_X_y=True)
    >>> result = width_sweep(X, y, [16, 64, 256], seeds=(0, 1), n_eigen=200, progress=False)
    >>> result.test.shape  # (seeds, widths, ridges)
    (2, 3, 30)
    >>> tuned = result.tuned()
    >>> bool(tuned["test"][-1] < tuned["test"][0])  # wider is better at the tuned ridge
    True
    """
    check_kernel_params("width_sweep", kernel_params)
    problem = prepare(
        X,
        y,
        X_test,
        y_test,
        test_size=test_size,
        kernel=kernel,
        gamma=gamma,
        alphas=alphas,
        fit_intercept=fit_intercept,
        standardize=standardize,
        scale_target=scale_target,
        n_jobs=n_jobs,
        kernel_params=kernel_params,
    )
    n_pool = len(problem.X)
    values = check_counts(widths, "widths", minimum=1)
    check_widths(values, "widths", problem)
    if n_samples is not None:
        n_samples = int(check_counts(n_samples, "n_samples", minimum=2, maximum=n_pool)[0])
    n = n_pool if n_samples is None else n_samples
    problem = dataclasses.replace(problem, feature_map=check_feature_map(feature_map))
    if feature_map == "nystroem" and values[-1] > n:
        raise ValueError(
            f"Nystrom widths are numbers of centers among the {n} training rows; got "
            f"widths up to {values[-1]}"
        )
    shared: list[Scored] = []

    def rows(seed: int) -> np.ndarray:
        return np.arange(n_pool) if n_samples is None else permutation(n_pool, seed)[:n]

    def kernel_line(training: np.ndarray, grid: np.ndarray, sizes: np.ndarray) -> list[Scored]:
        nonlocal shared
        rows = int(sizes[0])  # every width: all n training rows, or a random subsample
        subset = training if rows == n else training[permutation(n, 0)[:rows]]
        # Without subsampling every seed has the same rows: one kernel fit.
        if not shared or n_samples is not None:
            shared = kernel_fits(problem, subset, [rows], grid)
        return shared

    sweep = Sweep(
        "n_components",
        values,
        n_train=np.full(len(values), n),
        n_components=values,
        held={"n_samples": n},
        rows=rows,
        fits=partial(width_fits, problem, values),
        kernel_sizes=lambda rows: np.full(len(values), min(n, rows)),
        kernel_line=kernel_line,
    )
    return run_sweep(
        problem, sweep, alphas, seeds, theory, n_eigen, exact_kernel, n_kernel, progress
    )


def _width_options(function: str, options: dict[str, Any]) -> tuple[dict[str, Any], dict]:
    """The keywords of :func:`width_sweep` (but ``n_samples``) with its defaults.

    Returns them updated by ``options``, and the kernel parameters among ``options``;
    any other keyword is a ``TypeError`` naming ``function``.
    """
    parameters = inspect.signature(width_sweep).parameters.values()
    defaults = {
        p.name: p.default for p in parameters if p.kind is p.KEYWORD_ONLY and p.name != "n_samples"
    }
    settings = {name: options.pop(name, default) for name, default in defaults.items()}
    check_kernel_params(function, options)  # what is left must be kernel parameters
    return settings, options


def sample_sweep(
    X: Any, y: Any, sizes: Sequence[int], *, n_components: int = 256, **options: Any
) -> SweepResult:
    """Risk of random-feature ridge regression against the number of samples, at every ridge.

    For each seed, draws one order of the training pool and the random features, and
    fits ridge regression with ``n_components`` features on the first ``n`` rows for
    every ``n`` in ``sizes`` (nested training sets) and every ridge of one grid,
    recording train, test and exact leave-one-out MSE; also kernel ridge regression on
    the same rows and the theory's predictions.

    Parameters
    ----------
    X, y : array-like
        Data and targets, as in :func:`width_sweep`.
    sizes : sequence of int
        Training sizes ``n``, distinct, at least 2 and at most the training pool;
        sorted ascending.
    n_components : int, default=256
        Number of random features ``D`` (even with ``fourier="sincos"``).
    **options
        Every keyword of :func:`width_sweep` but ``n_samples`` (``X_test``, ``y_test``,
        ``test_size``, ``kernel``, ``gamma``, ``alphas``, ``seeds``, ``fit_intercept``,
        ``standardize``, ``scale_target``, ``exact_kernel``, ``n_kernel``, ``theory``,
        ``n_eigen``, ``n_jobs``, ``progress`` and the kernel parameters), with the same
        meaning and defaults; ``exact_kernel="auto"`` fits the kernel at the sizes up
        to ``n_kernel`` only. Seed ``s`` draws the
        order ``np.random.default_rng(s).permutation(n_pool)`` of the training pool (the
        training set of size ``n`` is its first ``n`` rows) and the features;
        ``alphas="auto"`` spans ``1e-6 s min(sizes)`` to ``10 s max(sizes)``, 4 ridges
        per decade, and 0.

    Returns
    -------
    SweepResult
        With ``parameter="n_samples"`` and ``values`` the sorted sizes.

    See Also
    --------
    width_sweep : The same against the width, and the details of the engine.

    Notes
    -----
    Each size gives exactly the fit of ``RandomFeatureRidge(n_components=D,
    random_state=seed, ...)`` on its rows. Sizes ``n >= D`` (primal) add their new
    rows to one running Gram, since Gram statistics are additive, then make one
    leave-one-out pass over their rows; sizes ``n < D`` (dual) use leading blocks of
    one kernel matrix ``Z Z^T`` of the largest of them. Kernel ridge uses leading
    blocks of one exact kernel matrix per seed.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from rfkernels.sweep import sample_sweep
    >>> X, y = make_friedman1(n_samples=400, noise=0.1, random_state=0)
    >>> result = sample_sweep(X, y, [50, 100, 300], n_components=128, seeds=(0, 1),
    ...                       theory=False, progress=False)
    >>> result.values, result.loo.shape
    (array([ 50, 100, 300]), (2, 3, 34))
    """
    o, kernel_params = _width_options("sample_sweep", options)
    if o["feature_map"] != "random":
        raise ValueError(
            f"feature_map={o['feature_map']!r}: sample sweeps are of random features; "
            "sweep Nystrom centers with width_sweep(feature_map='nystroem')"
        )
    problem = prepare(
        X,
        y,
        o["X_test"],
        o["y_test"],
        test_size=o["test_size"],
        kernel=o["kernel"],
        gamma=o["gamma"],
        alphas=o["alphas"],
        fit_intercept=o["fit_intercept"],
        standardize=o["standardize"],
        scale_target=o["scale_target"],
        n_jobs=o["n_jobs"],
        kernel_params=kernel_params,
    )
    counts = check_counts(n_components, "n_components", minimum=1)
    if counts.size != 1:
        raise ValueError(f"n_components must be one integer, got {n_components!r}")
    check_widths(counts, "n_components", problem)
    width = int(counts[0])
    n_pool = len(problem.X)
    values = check_counts(sizes, "sizes", minimum=2, maximum=n_pool)
    sweep = Sweep(
        "n_samples",
        values,
        n_train=values,
        n_components=np.full(len(values), width),
        held={"n_components": width},
        rows=lambda seed: permutation(n_pool, seed),
        fits=partial(sample_fits, problem, width, values),
        kernel_sizes=lambda rows: np.where(values <= rows, values, 0),
        kernel_line=lambda order, grid, sizes: kernel_fits(problem, order, sizes, grid),
    )
    return run_sweep(
        problem,
        sweep,
        o["alphas"],
        o["seeds"],
        o["theory"],
        o["n_eigen"],
        o["exact_kernel"],
        o["n_kernel"],
        o["progress"],
    )


def ridge_sweep(
    X: Any, y: Any, *, widths: Sequence[int] = (64, 256, 1024), **keywords: Any
) -> SweepResult:
    """Risk against the ridge for several widths: a width sweep drawn with ``kind="ridge"``.

    .. versionadded:: 0.2
       Replaces the deprecated ``ridge_path``.

    Parameters
    ----------
    X, y : array-like
        Data and targets, as in :func:`width_sweep`.
    widths : sequence of int, default=(64, 256, 1024)
        The widths, one curve each.
    **keywords
        Every keyword of :func:`width_sweep`.

    Returns
    -------
    SweepResult
        The width sweep, with ``default_plot="ridge"``: ``result.plot()`` draws the
        test MSE against the ridge for every width, the theory dashed.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from rfkernels.sweep import ridge_sweep
    >>> X, y = make_regression(n_samples=200, n_features=3, noise=5.0, random_state=0)
    >>> result = ridge_sweep(X, y, widths=[32, 128], seeds=(0,), theory=False,
    ...                      exact_kernel=False, progress=False)
    >>> result.default_plot, result.test.shape
    ('ridge', (1, 2, 30))
    """
    result = width_sweep(X, y, widths, **keywords)
    return dataclasses.replace(result, default_plot="ridge")


def ridge_path(
    X: Any, y: Any, *, widths: Sequence[int] = (64, 256, 1024), **keywords: Any
) -> SweepResult:
    """Deprecated alias of :func:`ridge_sweep`.

    .. deprecated:: 0.2
        ``ridge_path`` is renamed :func:`ridge_sweep` (a ridge path is the path of
        ridge solutions from one eigendecomposition) and will be removed in 0.3.

    Parameters
    ----------
    X, y, widths, **keywords
        As in :func:`ridge_sweep`.

    Returns
    -------
    SweepResult
        The result of :func:`ridge_sweep`.
    """
    warnings.warn(
        "ridge_path is deprecated and will be removed in 0.3; use ridge_sweep",
        FutureWarning,
        stacklevel=2,
    )
    return ridge_sweep(X, y, widths=widths, **keywords)
