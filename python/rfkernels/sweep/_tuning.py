"""The risks at the ridge leave-one-out tunes, shared by the tables and the figures.

A sweep tunes the ridge per seed and value, as the estimators choose ``alpha_``:
:func:`tuned_index` picks it on the leave-one-out errors, :func:`at` reads any
risk there and :func:`sem` gives the spread of the mean over seeds.
"""

from __future__ import annotations

import numpy as np

from .._engine.selection import best_index

__all__ = ["SYMBOL", "at", "sem", "swept_symbol", "tuned_index"]

#: The symbol of the swept parameter, in tables and legends.
SYMBOL = {"n_components": "D", "n_samples": "n"}


def swept_symbol(result) -> str:
    """The swept parameter's symbol in ``result``: D, or M for Nystrom centers, or n."""
    if result.fixed.get("feature_map") == "nystroem":
        return "M"
    return SYMBOL[result.parameter]


def tuned_index(loo: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """``best_index`` (the estimators' selection) over the last axis."""
    flat = loo.reshape(-1, loo.shape[-1])
    return np.array([best_index(errors, alphas) for errors in flat]).reshape(loo.shape[:-1])


def at(values: np.ndarray | None, index: np.ndarray) -> np.ndarray:
    """``values[s, v, index[s, v]]``: the risks at the chosen ridges."""
    assert values is not None
    return np.take_along_axis(values, index[..., None], axis=-1)[..., 0]


def sem(per_seed: np.ndarray) -> np.ndarray:
    """Standard error of the mean over seeds (axis 0), NaN for one seed."""
    if per_seed.shape[0] < 2:
        return np.full(per_seed.shape[1:], np.nan)
    return per_seed.std(axis=0, ddof=1) / np.sqrt(per_seed.shape[0])
