"""Nystrom centers by approximate ridge leverage scores: BLESS (Rudi et al., NeurIPS 2018).

The ridge leverage score of row ``i`` at ridge ``lambda`` is ``tau_i(lambda) = (K (K +
lambda I)^-1)_ii``, with ``K`` the ``n x n`` kernel matrix and the ridge in the units of
``K`` (a sum over rows, as scikit-learn's ``alpha``); the scores sum to the effective
dimension ``d_eff(lambda)``. A row scores high when the other rows explain it badly (a
rare cluster, an outlier), and centers drawn in proportion to the scores span the
kernel to accuracy ``lambda`` with about ``d_eff(lambda) log d_eff(lambda)`` of them,
where uniform centers may need ``n / lambda`` (Alaoui and Mahoney 2015; Musco and Musco
2017).

:func:`approximate_leverage_scores` estimates them without an ``n x n`` matrix by
BLESS-R, the rejection-sampling form of BLESS ([1]_, Algorithm 2), from a weighted
dictionary of rows ``D`` with inclusion probabilities ``p``::

    tau~_i(lambda) = (K_ii - k_Di^T (K_DD + lambda diag(p))^-1 k_Di) / lambda,

the dictionary being built from the largest ridge down; :func:`draw_leverage_centers`
draws distinct rows by these scores. The kernel columns ``k(x, D)`` come from the Rust
core, tile by tile (``_core.KernelCenters.transform`` with the inverse Cholesky factor
as the projection).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
import scipy.linalg
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_array
from threadpoolctl import threadpool_limits

from . import _core
from ._gamma import resolve_gamma
from ._kernels import check_feature_params
from ._memory import check_fits_in_memory
from ._threads import resolve_n_jobs
from ._validation import FLOAT_DTYPES, naming
from .random_features import RandomFeatures

__all__ = ["LeverageScores", "approximate_leverage_scores", "draw_leverage_centers"]

#: ``qbar`` of BLESS-R: the dictionaries oversample the scores fourfold (the authors'
#: code uses 2, which spread the measured errors of the Notes to [0.37, 11.8]).
OVERSAMPLING = 4.0
#: Small dictionaries are oversampled more, to at least about this many rows: a few rows
#: weighted by ``1 / p`` can miss a direction of the kernel altogether.
MIN_DICTIONARY = 64
#: From this many rows on, a level is skipped when the growth of ``d_eff`` over the last
#: two levels predicts that it would pass the target (such a level costs the most).
PREDICTED_DICTIONARY = 512
#: The ridge is halved from one level of the descent to the next (``q`` of [1]).
RIDGE_STEP = 2.0
#: The descent stops before the estimated ``d_eff`` passes ``min(M, this) / qbar``: about
#: ``M / 4`` for up to 4096 centers, whose dictionary's factor is then 128 MiB.
MAX_DICTIONARY = 4096
#: Candidates scored in one pass: at least this many per center (or every row) ...
CANDIDATES_PER_CENTER = 2
#: ... and more while ``rows * |D|^2`` stays within these multiply-adds (about 4 s on
#: two cores).
SCORING_BUDGET = 2.0**38
#: The smallest ridge of the descent, relative to the largest ``k(x, x)``.
RIDGE_FLOOR = 1e-6
#: Entries of ``k(x, D) L^-T`` in one tile of a scoring pass (32 MiB of float64).
TILE_ENTRIES = 2**22


@dataclass(frozen=True)
class LeverageScores:
    """Approximate ridge leverage scores of candidate rows, and where they come from.

    Attributes
    ----------
    ridge : float
        The ridge ``lambda`` of the scores, in the units of the kernel matrix.
    rows : ndarray of shape (n_candidates,)
        The candidate rows, ascending: every row of nonzero ``k(x, x)`` for small
        problems, else rows drawn independently with the probabilities ``inclusion``.
    scores : ndarray of shape (n_candidates,)
        Their estimated scores ``tau~_i(lambda)``.
    inclusion : ndarray of shape (n_candidates,)
        The probability with which each row was drawn as a candidate.
    effective_dimension : float
        ``sum_i scores_i / inclusion_i``, an estimate of ``d_eff(lambda)``.
    dictionary_size : int
        Rows of the dictionary the scores come from.
    n_levels : int
        Levels of the descent (halvings of the ridge) that built the dictionary.
    """

    ridge: float
    rows: np.ndarray
    scores: np.ndarray
    inclusion: np.ndarray
    effective_dimension: float
    dictionary_size: int
    n_levels: int


@dataclass(frozen=True)
class _Kernel:
    """A kernel of the registry with its parameters and threads, as the core takes them."""

    kernel: str
    gamma: float
    bias: float
    depth: int
    n_jobs: int | None

    def matrix(self, rows: np.ndarray) -> np.ndarray:
        """``k(rows, rows)`` of float64 rows."""
        return _core.kernel_matrix(
            rows,
            None,
            kernel=self.kernel,
            gamma=self.gamma,
            bias=self.bias,
            depth=self.depth,
            n_jobs=self.n_jobs,
        )

    def diagonal(self, X: np.ndarray, block: int = 64) -> np.ndarray:
        """``k(x_i, x_i)`` of every row, from ``block x block`` kernel matrices."""
        diagonal = np.empty(len(X))
        for start in range(0, len(X), block):
            rows = np.ascontiguousarray(X[start : start + block], dtype=np.float64)
            diagonal[start : start + block] = self.matrix(rows).diagonal()
        return diagonal

    def centers(self, rows: np.ndarray) -> _core.KernelCenters:
        """The kernel against the fixed float64 ``rows``."""
        return _core.KernelCenters(
            rows, kernel=self.kernel, gamma=self.gamma, bias=self.bias, depth=self.depth
        )


@dataclass(frozen=True)
class _Dictionary:
    """Rows ``D`` and their inclusion probabilities ``p``: the estimator of the scores."""

    rows: np.ndarray
    probabilities: np.ndarray

    def scores(
        self, X: np.ndarray, rows: np.ndarray, diagonal: np.ndarray, ridge: float, kernel: _Kernel
    ) -> np.ndarray:
        """``tau~_i = (K_ii - k_Di^T (K_DD + ridge diag(p))^-1 k_Di) / ridge`` of ``rows``.

        With ``L L^T = K_DD + ridge diag(p)`` the quadratic form is ``||k(x_i, D)
        L^-T||^2``, the squared norm of Nystrom features with the projection ``L^-T``,
        made in Rust one tile of rows at a time. Rounding below 0 is clipped. Cost
        ``O(|rows| |D| (d + |D|) + |D|^3)``, memory ``O(|D|^2)`` and one tile.
        """
        explained = np.zeros(len(rows))
        if len(self.rows):
            centers = np.ascontiguousarray(X[self.rows], dtype=np.float64)
            regularized = kernel.matrix(centers)
            regularized[np.diag_indices_from(regularized)] += ridge * self.probabilities
            # In place on one |D| x |D| array (its transpose is the Fortran-ordered
            # symmetric matrix LAPACK takes), on one BLAS thread as in the fits: the
            # factor's bits, and so every draw, do not depend on the BLAS threads.
            with threadpool_limits(limits=1, user_api="blas"):
                factor = scipy.linalg.cholesky(
                    regularized.T, lower=True, overwrite_a=True, check_finite=False
                )
                inverse, info = scipy.linalg.lapack.dtrtri(factor, lower=1, overwrite_c=1)
            if info != 0:  # pragma: no cover - a Cholesky factor has a positive diagonal
                raise np.linalg.LinAlgError(f"inverting the dictionary's factor: info={info}")
            projection = np.ascontiguousarray(inverse.T)  # L^-T, C-ordered: no copy
            del regularized, factor, inverse
            columns = kernel.centers(centers)
            tile = max(1, TILE_ENTRIES // len(self.rows))
            for start in range(0, len(rows), tile):
                block = np.ascontiguousarray(X[rows[start : start + tile]], dtype=np.float64)
                features = columns.transform(block, projection, n_jobs=kernel.n_jobs)
                explained[start : start + tile] = np.einsum("ij,ij->i", features, features)
        return np.maximum(diagonal[rows] - explained, 0.0) / ridge


def _score_bounds(diagonal: np.ndarray, ridge: float) -> np.ndarray:
    """``K_ii / (K_ii + ridge)``: an upper bound of the score ``tau_i(ridge)``."""
    return diagonal / (diagonal + ridge)


def _dictionary_cap(n_centers: int) -> int:
    """``min(M, MAX_DICTIONARY)``: about the largest dictionary, ``qbar`` times its ``d_eff``."""
    return min(n_centers, MAX_DICTIONARY)


def _candidate_budget(dictionary_size: int, n_centers: int, n_samples: int) -> int:
    """Rows one scoring pass takes at most: ``min(n, max(2 M, SCORING_BUDGET / |D|^2))``."""
    affordable = SCORING_BUDGET / max(dictionary_size, 1) ** 2
    return int(min(n_samples, max(CANDIDATES_PER_CENTER * n_centers, affordable)))


def _descend(
    X: np.ndarray,
    diagonal: np.ndarray,
    n_centers: int,
    kernel: _Kernel,
    rng: np.random.RandomState,
) -> tuple[float, _Dictionary, int]:
    """BLESS-R from ``lambda_0 = tr K`` down: the ridge for ``n_centers``, its dictionary.

    Each level halves the ridge. Every row becomes a candidate with probability
    ``pi_i = min(1, s K_ii / (K_ii + lambda))`` (at least ``s tau_i``); the candidates
    are scored with the previous dictionary (none at first: ``K_ii / lambda``), which
    estimates ``d_eff(lambda) ~ sum tau~_i / pi_i``, and each is kept with probability
    ``p_i / pi_i``, ``p_i = min(s tau~_i, pi_i)``: the new dictionary, of expected size
    ``sum p_i ~ s d_eff(lambda)``. The oversampling ``s`` is ``qbar = OVERSAMPLING``,
    or more while ``d_eff`` is small, for about ``MIN_DICTIONARY`` rows. The descent
    ends before a level whose ``d_eff`` would pass ``min(M, MAX_DICTIONARY) / qbar``
    (as found on scoring it, or, for large dictionaries, as the growth of the last
    two levels predicts) or whose candidates would pass :func:`_candidate_budget`
    rows, and at ``RIDGE_FLOOR``.
    """
    ridge = float(diagonal.sum())
    dictionary = _Dictionary(np.zeros(0, dtype=np.intp), np.zeros(0))
    floor = RIDGE_FLOOR * float(diagonal.max())
    target = _dictionary_cap(n_centers) / OVERSAMPLING  # the largest d_eff accepted
    dimensions = [0.0, 0.0]  # the estimated d_eff of the last two levels
    levels = 0
    while ridge / RIDGE_STEP >= floor:
        new_ridge = ridge / RIDGE_STEP
        if len(dictionary.rows) >= PREDICTED_DICTIONARY and dimensions[0] > 0:
            growth = min(dimensions[1] / dimensions[0], RIDGE_STEP)
            if dimensions[1] * growth > target:
                break  # the last growth of d_eff says this level would pass the target
        oversampling = max(OVERSAMPLING, MIN_DICTIONARY / max(dimensions[1], 1.0))
        inclusion = np.minimum(1.0, oversampling * _score_bounds(diagonal, new_ridge))
        if inclusion.sum() > _candidate_budget(len(dictionary.rows), n_centers, len(X)):
            break
        candidates = np.flatnonzero(rng.random_sample(len(X)) < inclusion)
        scores = dictionary.scores(X, candidates, diagonal, new_ridge, kernel)
        dimension = float(np.sum(scores / inclusion[candidates]))
        if dimension > target:
            break
        probabilities = np.minimum(oversampling * scores, inclusion[candidates])
        keep = rng.random_sample(len(candidates)) < probabilities / inclusion[candidates]
        dictionary = _Dictionary(candidates[keep], probabilities[keep])
        dimensions = [dimensions[1], dimension]
        ridge, levels = new_ridge, levels + 1
    return ridge, dictionary, levels


def _inclusion_for_size(bounds: np.ndarray, size: int) -> np.ndarray:
    """``pi_i = min(1, s bounds_i)`` with ``sum pi = size``, by water filling on ``s``."""
    positive = bounds > 0
    if size >= np.count_nonzero(positive):
        return positive.astype(np.float64)
    saturated = np.zeros(len(bounds), dtype=bool)
    while True:
        scale = (size - np.count_nonzero(saturated)) / bounds[~saturated].sum()
        now = scale * bounds >= 1.0
        if np.array_equal(now, saturated):
            return np.minimum(1.0, scale * bounds)
        saturated = now


_PARAMETERS = {
    "X": ["array-like"],
    "n_centers": RandomFeatures._parameter_constraints["n_components"],
    "kernel": RandomFeatures._parameter_constraints["kernel"],
    "gamma": RandomFeatures._parameter_constraints["gamma"],
    "bias": RandomFeatures._parameter_constraints["bias"],
    "depth": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
    "n_jobs": RandomFeatures._parameter_constraints["n_jobs"],
}


def _check_inputs(X, n_centers: int, kernel: str, gamma, bias, depth, n_jobs):
    """The validated float ``X`` and the kernel bound to its parameters."""
    with naming("X"):
        X = check_array(X, dtype=FLOAT_DTYPES, input_name="X")
    if n_centers > X.shape[0]:
        raise ValueError(
            f"n_centers={n_centers} is more than the {X.shape[0]} rows of X: the "
            "centers are distinct rows, so there can be at most one per row"
        )
    check_feature_params(kernel, depth=depth)
    gamma = resolve_gamma(kernel, gamma, X, None)
    return X, _Kernel(kernel, float(gamma), float(bias), int(depth), resolve_n_jobs(n_jobs))


@validate_params(_PARAMETERS, prefer_skip_nested_validation=True)
def approximate_leverage_scores(
    X,
    n_centers: int,
    *,
    kernel: str = "rbf",
    gamma: float | str = "scale",
    bias: float = 0.0,
    depth: int = 1,
    random_state=None,
    n_jobs: int | None = None,
) -> LeverageScores:
    """Estimate ridge leverage scores by BLESS-R, at the ridge for ``n_centers`` centers.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features_in)
        The rows, float64 or float32 (the kernel is computed in float64).
    n_centers : int
        The number of centers ``M`` the ridge is chosen for (at most ``n_samples``).
    kernel : str, default="rbf"
        One of ``rfkernels.KERNELS``.
    gamma : "scale" or float, default="scale"
        Kernel scale; ``"scale"`` as in :class:`rfkernels.Nystroem`.
    bias : float, default=0.0
        Offset scale of the arc-cosine kernels and the constant of linear.
    depth : int, default=1
        Hidden layers of the nngp and ntk kernels; the others take only 1.
    random_state : int, RandomState instance or None, default=None
        Seeds every draw (numpy's generator): the same seed gives the same result
        for any ``n_jobs``.
    n_jobs : int or None, default=None
        Threads of the Rust core (None: ``RAYON_NUM_THREADS`` or all cores).

    Returns
    -------
    scores : LeverageScores
        The ridge, the candidate rows, their scores and inclusion probabilities.

    Notes
    -----
    **Ridge.** ``lambda`` (``K + lambda I``, in the units of ``K``) starts at ``tr K``,
    where ``d_eff <= 1``, and is halved level by level (BLESS-R, [1]_): each level
    draws candidates with probabilities ``pi_i = min(1, s K_ii / (K_ii + lambda))``,
    scores them with the previous level's dictionary, which estimates ``d_eff(lambda)``
    by ``sum_i tau~_i / pi_i``, and keeps each in the new dictionary with probability
    ``min(s tau~_i, pi_i) / pi_i``. The oversampling ``s`` is 4 (the authors' code
    uses 2, with which the ratios below spread to ``[0.37, 11.8]``), or more while
    ``d_eff`` is small, for dictionaries of at least about 64 rows. The ridge is the
    last one whose estimated ``d_eff`` is at most ``min(M, 4096) / 4``: ``d_eff`` of
    about ``M / 4`` (from ``M / 8`` to ``M / 4``, as the grid halves), the fourfold
    oversampling that leverage-score Nystrom asks for (``M >~ d_eff log d_eff``, [2]_),
    with a dictionary of about ``M`` rows. The descent stops at a larger ridge when a
    level's candidates (about ``4 n / lambda`` rows for ``K_ii = 1``) would pass the
    scoring budget below, and at ``1e-6 max K_ii``. A kernel of low rank (linear: ``d
    + 1``) has ``d_eff`` below its rank, so that many centers take the ridge to that
    floor. Below 8 centers the first halving (``d_eff <= 2``) passes the target: the
    ridge stays ``tr K``, where the scores follow ``K_ii``.

    **Candidates.** Every row is a candidate when ``n`` is small; otherwise row ``i``
    is one with probability ``pi_i = min(1, s K_ii / (K_ii + lambda))``, ``s`` such that
    ``sum pi_i = min(n, max(2 M, 2**38 / |D|^2))`` (the budget: ``2**38``
    multiply-adds of scoring). The candidates are scored with the final dictionary.

    **Accuracy.** BLESS bounds the ratio of the estimated to the exact scores by a
    constant with high probability ([1]_, Theorem 1). Measured against
    ``diag(K (K + lambda I)^-1)`` on 500 rows (normal data in 3 dimensions with an
    outlying cluster; every kernel, M from 8 to 400, 8 seeds), the ratio stays
    within ``[0.48, 4.2]``, its median within ``[0.85, 1.51]`` and the estimate of
    ``d_eff`` within ``[0.89, 1.48]`` of the exact one. The overestimates are of rows
    the dictionary spans badly, which only makes them likelier centers.

    **Cost.** The kernel's diagonal (``n`` evaluations) and ``O(n)`` per level for the
    draws (``log2(tr K / lambda)`` levels); each level and the final pass score their
    candidates at ``O(|D| (d + |D|))`` each (at most ``max(2 M |D|^2, 2**38)``
    multiply-adds a pass), with the ``O(|D|^3)`` factor of a dictionary of ``|D| <~
    min(M, 4096)`` rows. Memory ``O(n + |D|^2)`` plus one tile of ``2**22`` floats; no
    ``n x n`` or ``n x M`` matrix. Measured on two cores (rbf, normal rows, ``d =
    20``): 1.9 s for ``n = 10**5``, ``M = 1024``; 8.9 s for ``n = 10**5``, ``M =
    8192``; 7.7 s for ``n = 10**6``, ``M = 1024``; 9.8 s and 200 MiB above the data for
    ``n = 10**6``, ``M = 8192``.

    References
    ----------
    .. [1] A. Rudi, D. Calandriello, L. Carratino and L. Rosasco, "On Fast Leverage
       Score Sampling and Optimal Learning", NeurIPS 2018.
    .. [2] C. Musco and C. Musco, "Recursive Sampling for the Nystrom Method",
       NeurIPS 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels.leverage import approximate_leverage_scores
    >>> X = np.random.default_rng(0).normal(size=(300, 2))
    >>> result = approximate_leverage_scores(X, 40, gamma=1.0, random_state=0)
    >>> result.rows.shape, bool(5 < result.effective_dimension < 20)
    ((300,), True)
    """
    X, bound = _check_inputs(X, n_centers, kernel, gamma, bias, depth, n_jobs)
    return _leverage_scores(X, n_centers, bound, check_random_state(random_state))


def _leverage_scores(
    X: np.ndarray, n_centers: int, kernel: _Kernel, rng: np.random.RandomState
) -> LeverageScores:
    """:func:`approximate_leverage_scores` of validated inputs."""
    n_samples = X.shape[0]
    cap = _dictionary_cap(n_centers)
    check_fits_in_memory(
        (2, cap, cap), np.float64, "the leverage dictionary's kernel matrix", "use fewer centers"
    )
    diagonal = kernel.diagonal(X)
    if not np.any(diagonal > 0):  # every feature vector is 0: so is every score
        rows = np.arange(n_samples)
        return LeverageScores(0.0, rows, np.zeros(n_samples), np.ones(n_samples), 0.0, 0, 0)
    ridge, dictionary, levels = _descend(X, diagonal, n_centers, kernel, rng)
    size = _candidate_budget(len(dictionary.rows), n_centers, n_samples)
    inclusion = _inclusion_for_size(_score_bounds(diagonal, ridge), size)
    rows = np.flatnonzero(rng.random_sample(n_samples) < inclusion)
    if len(rows) < n_centers:  # too few drawn, or rows of k(x, x) = 0: take them all
        rows, inclusion = np.arange(n_samples), np.ones(n_samples)
    scores = dictionary.scores(X, rows, diagonal, ridge, kernel)
    inclusion = inclusion[rows]
    return LeverageScores(
        ridge,
        rows,
        scores,
        inclusion,
        float(np.sum(scores / inclusion)),
        len(dictionary.rows),
        levels,
    )


@validate_params(_PARAMETERS, prefer_skip_nested_validation=True)
def draw_leverage_centers(
    X,
    n_centers: int,
    *,
    kernel: str = "rbf",
    gamma: float | str = "scale",
    bias: float = 0.0,
    depth: int = 1,
    random_state=None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Indices of ``n_centers`` distinct rows drawn by approximate ridge leverage scores.

    The candidates and scores of :func:`approximate_leverage_scores` (BLESS-R at
    the ridge where ``d_eff ~ n_centers / 4``), then ``n_centers`` candidates without
    replacement: each draw takes a row not drawn yet with probability proportional to
    ``tau~_i / pi_i`` (successive sampling, by the exponential clocks ``E_i pi_i /
    tau~_i``, the smallest first), so that a row's chance to be a center grows with
    its score, up to certainty for the highest. Rows of score 0 come last, in random
    order.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features_in)
        The rows, float64 or float32.
    n_centers : int
        The number of centers ``M``, at most ``n_samples`` (all rows when equal).
    kernel : str, default="rbf"
        One of ``rfkernels.KERNELS``.
    gamma : "scale" or float, default="scale"
        Kernel scale; ``"scale"`` as in :class:`rfkernels.Nystroem`.
    bias : float, default=0.0
        Offset scale of the arc-cosine kernels and the constant of linear.
    depth : int, default=1
        Hidden layers of the nngp and ntk kernels; the others take only 1.
    random_state : int, RandomState instance or None, default=None
        Seeds every draw: the same seed gives the same rows for any ``n_jobs``.
    n_jobs : int or None, default=None
        Threads of the Rust core (None: ``RAYON_NUM_THREADS`` or all cores).

    Returns
    -------
    indices : ndarray of shape (n_centers,)
        The rows, ascending.

    See Also
    --------
    rfkernels.nystroem.draw_centers : Uniform centers.
    approximate_leverage_scores : The scores, the ridge and the cost (Notes).

    Examples
    --------
    >>> import numpy as np
    >>> from rfkernels.leverage import draw_leverage_centers
    >>> X = np.random.default_rng(0).normal(size=(300, 2))
    >>> draw_leverage_centers(X, 5, gamma=1.0, random_state=0).shape
    (5,)
    """
    X, bound = _check_inputs(X, n_centers, kernel, gamma, bias, depth, n_jobs)
    if n_centers == X.shape[0]:
        return np.arange(n_centers)
    rng = check_random_state(random_state)
    result = _leverage_scores(X, n_centers, bound, rng)
    keys = rng.standard_exponential(len(result.rows))
    with np.errstate(divide="ignore"):
        clocks = keys * result.inclusion / result.scores
    order = np.lexsort((keys, clocks))  # by clock; infinite clocks by their keys
    return np.sort(result.rows[order[:n_centers]])
