"""``gamma="loo"``: the kernel scale chosen by exact leave-one-out on a subsample.

The ``"scale"`` rule sets gamma from the variance of the data's entries alone; the
best scale also depends on how smooth the target is. :func:`search_gamma` tries
:data:`GAMMA_FACTORS` times the ``"scale"`` value, fitting kernel ridge regression
(the sweeps' infinite width) on :data:`GAMMA_ROWS` rows of the training pool at
every ridge of the grid, and keeps the gamma of the smallest leave-one-out error:
one ``m x m`` eigendecomposition per candidate gives every ridge's exact
leave-one-out errors.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._engine.paths import DualPath
from ._fits import Problem
from ._grid import ridge_grid

__all__ = ["GAMMA_FACTORS", "GAMMA_ROWS", "GammaSearch", "search_gamma"]

#: Training rows of the search (the first of ``default_rng(0).permutation(n_pool)``):
#: one candidate (an m x m eigendecomposition) takes about 1 s on two cores.
GAMMA_ROWS = 2000
#: The candidates, as multiples of the ``"scale"`` value: 1/64 to 64, by factors of 2.
GAMMA_FACTORS = 2.0 ** np.arange(-6, 7)
#: Leave-one-out errors within this relative distance of the smallest are ties, won by
#: the candidate nearest the ``"scale"`` value (homogeneous kernels such as linear or
#: relu without bias only rescale with gamma, and every candidate ties).
TIE_RTOL = 1e-6


@dataclass(frozen=True, eq=False)
class GammaSearch:
    """The outcome of :func:`search_gamma`.

    Attributes
    ----------
    gamma : float
        The chosen gamma.
    scale : float
        The ``"scale"`` value the candidates multiply.
    candidates : ndarray of shape (n_candidates,)
        The gammas tried, ascending.
    loo : ndarray of shape (n_candidates,)
        Each candidate's leave-one-out MSE at its best ridge.
    n_rows : int
        The training rows the search used.
    """

    gamma: float
    scale: float
    candidates: np.ndarray
    loo: np.ndarray
    n_rows: int

    @property
    def at_edge(self) -> bool:
        """Whether the chosen gamma is the smallest or the largest candidate."""
        return self.gamma in (self.candidates[0], self.candidates[-1])


def search_gamma(problem: Problem, alphas: Any) -> GammaSearch:
    """Choose gamma by leave-one-out among multiples of ``problem.gamma`` (the scale value).

    Parameters
    ----------
    problem : Problem
        The sweep's data, with ``gamma`` the ``"scale"`` value.
    alphas : "auto" or array-like
        The sweep's ``alphas``: each candidate's grid (the auto grid of its own kernel
        at ``n = GAMMA_ROWS``).

    Returns
    -------
    GammaSearch
        The choice, the candidates and their leave-one-out errors.
    """
    rows = np.random.default_rng(0).permutation(len(problem.X))[:GAMMA_ROWS]
    X, Y = problem.X[rows], problem.Y[rows]
    candidates = problem.gamma * GAMMA_FACTORS
    loo = np.empty(len(candidates))
    for c, gamma in enumerate(candidates):
        candidate = dataclasses.replace(problem, gamma=float(gamma))
        grid = ridge_grid(alphas, candidate, np.array([len(rows)]))
        path = DualPath(
            candidate.kernel_matrix(X),
            Y,
            None,
            fit_intercept=problem.fit_intercept,
            n_jobs=problem.n_jobs,
            shift=np.zeros(Y.shape[1]),
        )
        errors = path.loo_errors(grid).mean(axis=-1)  # (n_alphas,), averaged over outputs
        loo[c] = np.nanmin(errors) if np.isfinite(errors).any() else np.inf
    tied = np.flatnonzero(loo <= loo.min() + TIE_RTOL * abs(loo.min()))
    best = tied[np.argmin(np.abs(np.log(GAMMA_FACTORS[tied])))]
    return GammaSearch(float(candidates[best]), problem.gamma, candidates, loo, len(rows))
