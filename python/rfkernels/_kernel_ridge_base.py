"""The engine side of the kernel ridge estimators: exact and Nystrom fits, predictions.

:class:`KernelRidgeBase` holds the parameters and fits of
:class:`~rfkernels.KernelRidge` and :class:`~rfkernels.KernelRidgeClassifier`,
which only turn their targets into an ``(n, n_targets)`` float64 array
(``rfkernels._targets``). Three solvers:

- exact: the ``n x n`` kernel matrix and one eigendecomposition (arrays in memory);
- "eigen": Nystrom features streamed into their Gram, the random-feature engine's path;
- "cg": the Nystrom problem by preconditioned conjugate gradients
  (``_engine/conjugate.py``), one pass over the rows per iteration.

The Nystrom solvers read any row source: arrays, memmaps, :class:`~rfkernels.RowBatches`
and Dask arrays, whose rows are never gathered (only the ``M`` centers are).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, MultiOutputMixin, _fit_context, is_classifier
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from . import _core
from ._engine.conjugate import conjugate_fit, holdout_split
from ._engine.data import target_shift
from ._engine.passes import (
    CHUNKS_PER_BATCH,
    ArrayRows,
    RowSource,
    count_rows,
    default_chunk_rows,
    gather_rows,
)
from ._engine.paths import (
    DualPath,
    PathSolution,
    batched_primal_path,
    cv_splits,
    primal_path,
    solve_path,
)
from ._engine.progress import Progress
from ._engine.selection import RIDGE_PATH_CONSTRAINTS, apply_selection
from ._gamma import entry_moments, gamma_from_moments, resolve_gamma
from ._kernels import KERNELS, check_feature_params
from ._memory import check_fits_in_memory
from ._params import store_params
from ._threads import resolve_n_jobs
from ._validation import validate_X
from .batches import as_batches, is_batched
from .distributed import is_dask_array, map_rows
from .kernels import kernel_matrix
from .nystroem import CENTER_SAMPLINGS, Nystroem, draw_centers
from .random_features import RandomFeatures

__all__ = ["AUTO_CG_CENTERS", "FIT_MATRICES", "KernelRidgeBase"]

#: n x n float64 matrices alive at once during a fit: K, its centered copy, the
#: eigenvectors and their squares.
FIT_MATRICES = 4
#: ``solver="auto"`` picks CG above this many centers (see ``KernelRidge``'s Notes).
AUTO_CG_CENTERS = 4096


class KernelRidgeBase(MultiOutputMixin, BaseEstimator):
    """What :class:`KernelRidge` and :class:`KernelRidgeClassifier` share: parameters, fits."""

    _parameter_constraints: ClassVar[dict] = {
        "kernel": [StrOptions(set(KERNELS))],
        "gamma": RandomFeatures._parameter_constraints["gamma"],
        "bias": RandomFeatures._parameter_constraints["bias"],
        "depth": [Interval(Integral, 1, None, closed="left")],
        **RIDGE_PATH_CONSTRAINTS,
        "n_centers": [Interval(Integral, 1, None, closed="left"), None],
        "center_sampling": [StrOptions(set(CENTER_SAMPLINGS))],
        "solver": [StrOptions({"auto", "eigen", "cg"})],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }
    #: Kernel ridge validates ``X`` as float64 (the kernel matrices are float64).
    _input_dtypes: ClassVar[list] = [np.float64]

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
        n_centers: int | None = None,
        center_sampling: str = "uniform",
        solver: str = "auto",
        tol: float = 1e-4,
        max_iter: int = 100,
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
        verbose: int = 0,
    ) -> None:
        store_params(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the ridge path and choose ``alpha``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in), numpy memmap, \
RowBatches or dask.array.Array
            Training data. With ``n_centers``, a memmap, a
            :class:`~rfkernels.RowBatches` or a dask array is read in batches of
            rows, once per pass (the rows are never gathered, only the centers);
            the exact kernel needs the rows in memory.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets (class labels for the classifier); None with ``RowBatches``,
            whose batches carry them.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : object
            The fitted model.
        """
        for name in ("center_indices_", "cg_residuals_", "refit_n_iter_"):
            self.__dict__.pop(name, None)
        if is_batched(X) and not (self.n_centers is None and isinstance(X, np.memmap)):
            return self._fit_batches(X, y, sample_weight)
        X, Y, sample_weight, y_was_1d, labels = self._prepare_fit(X, y, sample_weight)
        check_feature_params(self.kernel, depth=self.depth)
        self.n_iter_ = 1
        progress = Progress(type(self).__name__, self.verbose)
        splits = cv_splits(self.cv, X, labels, classifier=is_classifier(self))
        self.gamma_ = resolve_gamma(self.kernel, self.gamma, X, sample_weight)
        # Targets shifted by their mean, as the random-feature estimators do: nothing
        # cancels in the centered sums for targets like y + 1e9.
        shift = target_shift(Y, sample_weight) if self.fit_intercept else np.zeros(Y.shape[1])
        with threadpool_limits(limits=1, user_api="blas"):
            if self.n_centers is None:
                dual, intercept = self._fit_exact(
                    X, Y, sample_weight, shift, splits, y_was_1d, progress
                )
            else:
                rng = check_random_state(self.random_state)
                nystroem = self._nystroem(min(self.n_centers, len(X)), rng)
                progress.phase(f"{nystroem.n_components} centers: kernel and eigendecomposition")
                nystroem.fit(X)
                rows = ArrayRows(X, Y, sample_weight, self._chunk_rows(nystroem))
                dual, intercept = self._fit_centers(
                    nystroem, rows, len(X), rng, shift, splits, y_was_1d, progress
                )
        return self._set_dual(dual, intercept, y_was_1d, progress)

    def _set_dual(self, dual: np.ndarray, intercept: np.ndarray, y_was_1d: bool, progress):
        """Set ``dual_coef_`` and ``intercept_`` (1-d for a 1-d ``y``); return ``self``."""
        self.dual_coef_ = dual[:, 0] if y_was_1d else dual
        self.intercept_ = float(intercept[0]) if y_was_1d else intercept
        progress.phase(f"done: alpha_ = {self.alpha_}")
        return self

    def _solver(self, n_centers: int) -> str:
        """The Nystrom solver: ``solver``, or "auto"'s choice for ``n_centers``."""
        if self.solver != "auto":
            return self.solver
        return "cg" if n_centers > AUTO_CG_CENTERS else "eigen"

    def _nystroem(self, n_centers: int, rng: np.random.RandomState) -> Nystroem:
        """The (unfitted) Nystrom map of the fit, its centers seeded from ``rng``."""
        return Nystroem(
            self.kernel,
            n_components=n_centers,
            gamma=self.gamma_,
            bias=self.bias,
            depth=self.depth,
            sampling=self.center_sampling,
            random_state=rng.randint(np.iinfo(np.int32).max),
            n_jobs=self.n_jobs,
        )

    @staticmethod
    def _chunk_rows(nystroem: Nystroem) -> int:
        """Rows per chunk of the fitted ``nystroem``'s features (about 64 MiB of them)."""
        return default_chunk_rows(max(nystroem.n_components_, 1))

    def _fit_exact(self, X, Y, sample_weight, shift, splits, y_was_1d, progress):
        """The path of the exact kernel matrix: dual coefficients of every row."""
        n = X.shape[0]
        check_fits_in_memory(
            (FIT_MATRICES, n, n), np.float64, "the kernel matrix and its eigendecomposition"
        )
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
        path = DualPath(
            K,
            Y - shift,
            sample_weight,
            fit_intercept=self.fit_intercept,
            n_jobs=resolve_n_jobs(self.n_jobs),
            shift=shift,
        )
        self.solver_ = "exact"
        self.X_fit_ = X
        return apply_selection(self, solve_path(path, self.alphas, self.cv, splits), y_was_1d)

    def _fit_centers(
        self,
        nystroem: Nystroem,
        rows: RowSource,
        n_rows: int,
        rng: np.random.RandomState,
        shift: np.ndarray,
        splits,
        y_was_1d: bool,
        progress: Progress,
        prepare=None,
    ):
        """The Nystrom path of the fitted ``nystroem``: dual coefficients of the centers.

        ``rows`` (``n_rows`` of them) are validated :class:`ArrayRows`, or any row
        source whose raw batches ``prepare`` validates; ``rng`` draws the held-out
        rows of "cg".
        """
        solver = self._solver(nystroem.n_components)
        if solver == "cg" and isinstance(self.cv, str):
            raise ValueError(
                f"cv={self.cv!r} needs an eigendecomposition of the whole path: use "
                "solver='eigen', or cv=None (a held-out 10%), an int or a splitter with 'cg'"
            )
        features = nystroem.arrays_
        n_jobs = resolve_n_jobs(self.n_jobs)
        streamed = {} if prepare is None else {"prepare": prepare}
        known_weights = rows.sample_weight if isinstance(rows, ArrayRows) else None
        if solver == "eigen":
            if prepare is None:
                path = primal_path(
                    rows,
                    features,
                    shift=shift,
                    fit_intercept=self.fit_intercept,
                    kfold=bool(splits),
                    n_jobs=n_jobs,
                    progress=progress,
                )
            else:
                path = batched_primal_path(
                    rows,
                    features,
                    shift=shift,
                    fit_intercept=self.fit_intercept,
                    chunk_rows=self._chunk_rows(nystroem),
                    n_jobs=n_jobs,
                    prepare=prepare,
                    progress=progress,
                )
            solution: PathSolution = solve_path(path, self.alphas, self.cv, splits)
        else:
            fit = conjugate_fit(
                rows,
                n_rows,
                features.centers,
                nystroem.eigenvalues_,
                nystroem.projection_,
                self.alphas,
                splits or holdout_split(n_rows, rng, known_weights),
                shift=shift,
                fit_intercept=self.fit_intercept,
                tol=self.tol,
                max_iter=self.max_iter,
                n_jobs=n_jobs,
                progress=progress,
                **streamed,
            )
            solution = fit.solution
            self.n_iter_ = fit.iterations[:, 0] if y_was_1d else fit.iterations
            self.cg_residuals_ = fit.residuals
            self.refit_n_iter_ = fit.refit_iterations
        coef, intercept = apply_selection(self, solution, y_was_1d)
        self.solver_ = solver
        self.X_fit_ = nystroem.components_
        self.center_indices_ = nystroem.component_indices_
        return nystroem.projection_ @ coef, intercept

    def _fit_batches(self, X, y, sample_weight):
        """The Nystrom fit on a memmap, :class:`~rfkernels.RowBatches` or dask arrays.

        Passes: the labels (classifier), the number of rows (batches only), the scale
        for ``gamma="scale"``, one gathering the centers (batches only), then the
        solver's: two for "eigen" (Gram, leave-one-out), one per iteration for "cg".
        """
        if self.n_centers is None:
            raise ValueError(
                "exact kernel ridge (n_centers=None) forms the n x n kernel matrix of all "
                f"rows: fit it on arrays, or set n_centers to fit on {type(X).__name__}"
            )
        if self.center_sampling != "uniform":
            raise ValueError(
                f"center_sampling={self.center_sampling!r} scores every row against the "
                "others: fit on arrays, or use center_sampling='uniform' on batches"
            )
        self.n_iter_ = 1
        progress = Progress(type(self).__name__, self.verbose)
        check_feature_params(self.kernel, depth=self.depth)
        for name in ("n_features_in_", "feature_names_in_"):
            self.__dict__.pop(name, None)
        rows = as_batches(
            X, y, sample_weight, default_chunk_rows(self.n_centers) * CHUNKS_PER_BATCH
        )
        self._before_batches(rows, X, y)
        n_rows = _row_count(X, rows)
        solver = self._solver(min(self.n_centers, n_rows))
        allowed = (None,) if solver == "cg" else (None, "loo", "gcv")
        if self.cv not in allowed:
            raise ValueError(
                f"a fit on batches of rows with solver={solver!r} takes cv in {allowed}; "
                f"cv={self.cv!r} needs every fold's rows at once"
            )
        if n_rows < 2:
            raise ValueError(f"a fit needs at least 2 rows; the batches hold {n_rows}")
        if isinstance(self.gamma, str):
            progress.phase("pass 0: the scale of the data for gamma='scale'")
            self.gamma_ = gamma_from_moments(self.kernel, *entry_moments(rows))
        else:
            self.gamma_ = float(self.gamma)
        # Not the first batch's X: it would be held through the passes.
        Y, head_weights, y_was_1d = self._prepare(*rows.head(), reset=True)[1:]
        rng = check_random_state(self.random_state)
        nystroem = self._nystroem(min(self.n_centers, n_rows), rng)
        indices = draw_centers(n_rows, nystroem.n_components, nystroem.random_state)
        progress.phase(f"{len(indices)} centers: gather, kernel and eigendecomposition")
        centers = check_array(_center_rows(X, rows, indices), dtype=np.float64)
        shift = target_shift(Y, head_weights) if self.fit_intercept else np.zeros(Y.shape[1])
        with threadpool_limits(limits=1, user_api="blas"):
            nystroem._set_centers(centers, indices, self.gamma_, n_jobs=resolve_n_jobs(self.n_jobs))
            dual, intercept = self._fit_centers(
                nystroem,
                rows,
                n_rows,
                rng,
                shift,
                None,
                y_was_1d,
                progress,
                prepare=self._batch_preparer(Y.shape[1], y_was_1d),
            )
        return self._set_dual(dual, intercept, y_was_1d, progress)

    def _scores(self, X) -> np.ndarray:
        """``k(X, X_fit_) @ dual_coef_ + intercept_`` fused in Rust (dask: block by block)."""
        if is_dask_array(X):
            n_targets = None if np.ndim(self.dual_coef_) == 1 else self.dual_coef_.shape[1]
            return map_rows(self._scores, X, n_targets, dtype=np.float64)
        check_is_fitted(self)
        X = validate_X(self, X, reset=False)
        centers = _core.KernelCenters(
            self.X_fit_, kernel=self.kernel, gamma=self.gamma_, bias=self.bias, depth=self.depth
        )
        coef = self.dual_coef_.reshape(len(self.X_fit_), -1)
        intercept = np.broadcast_to(np.asarray(self.intercept_, dtype=np.float64), coef.shape[1])
        scores = centers.predict(
            X, coef, np.ascontiguousarray(intercept), n_jobs=resolve_n_jobs(self.n_jobs)
        )
        return scores[:, 0] if np.ndim(self.dual_coef_) == 1 else scores


def _row_count(X, rows: RowSource) -> int:
    """The number of rows of a fit's data: its length, or one pass over the batches."""
    if is_dask_array(X):
        if np.isnan(X.shape[0]):
            raise ValueError(
                "X's blocks have unknown sizes (as after boolean indexing): call "
                "X.compute_chunk_sizes() first"
            )
        return int(X.shape[0])
    if isinstance(X, np.ndarray):
        return len(X)
    return count_rows(rows)


def _center_rows(X, rows: RowSource, indices: np.ndarray) -> np.ndarray:
    """The rows ``indices`` (sorted) of a fit's data: indexed, or gathered in one pass."""
    if is_dask_array(X):
        return np.asarray(X[indices].compute())
    if isinstance(X, np.ndarray):
        return np.asarray(X[indices])
    return gather_rows(rows, indices)
