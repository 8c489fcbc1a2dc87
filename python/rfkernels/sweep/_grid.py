"""The ridge grid every value and seed of a sweep shares (``alphas="auto"`` or given)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._engine.selection import check_alphas
from ._fits import Problem

__all__ = ["ridge_grid"]

#: ``alphas="auto"``: ridges from ``AUTO_RIDGE_RANGE[0] n_min s`` to
#: ``AUTO_RIDGE_RANGE[1] n_max s`` (``s`` the mean of ``K(x, x)``), plus 0.
AUTO_RIDGE_RANGE = (1e-6, 10.0)
#: ``alphas="auto"``: ridges per decade.
AUTO_RIDGES_PER_DECADE = 4
#: Rows of the training pool whose mean ``K(x, x)`` sets the scale of the auto grid.
SCALE_ROWS = 256


def ridge_grid(alphas: Any, problem: Problem, sizes: np.ndarray) -> np.ndarray:
    """The shared ridge grid: ``alphas`` checked, or the auto grid for these training sizes."""
    if not isinstance(alphas, str):
        return check_alphas(alphas)
    if alphas != "auto":
        raise ValueError(f"alphas must be 'auto', a number or a sequence, got {alphas!r}")
    diagonal = np.diag(problem.kernel_matrix(problem.X[:SCALE_ROWS]))
    scale = float(diagonal.mean()) if diagonal.mean() > 0 else 1.0
    low, high = AUTO_RIDGE_RANGE
    start = math.log10(low * scale * sizes.min())
    stop = math.log10(high * scale * sizes.max())
    count = math.ceil(AUTO_RIDGES_PER_DECADE * (stop - start) - 1e-9) + 1
    return np.concatenate([[0.0], np.logspace(start, stop, count)])
