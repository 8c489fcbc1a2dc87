"""The sweeps' preprocessing: features standardized and targets centered on the training pool.

:func:`fit_preprocessing` learns the column means and standard deviations of the
training pool, and :meth:`Preprocessing.apply` applies them to the pool and to the
test set alike, so that nothing of the test set leaks into the fits. Kernels compare
rows through distances or inner products of raw columns, and ``gamma="scale"`` uses
the variance of all entries together, so a column in thousands (a price) would
otherwise outweigh every other; and the sweeps fit no intercept (the theory has
none), so targets far from 0 would be fitted by the kernel rather than by a constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Preprocessing", "check_standardize", "fit_preprocessing"]


@dataclass(frozen=True)
class Preprocessing:
    """What is subtracted from and divided into the columns, learned on the training pool.

    Attributes
    ----------
    standardized : ndarray of bool of shape (n_features_in,)
        The feature columns standardized; the others are left as given.
    feature_mean, feature_scale : ndarray of shape (n_features_in,)
        Subtracted from and divided into the features (0 and 1 where not standardized,
        and a scale of 1 for a constant column).
    target_mean, target_scale : ndarray of shape (n_outputs,)
        Subtracted from and divided into the targets (0 and 1 when not centered or
        not scaled).
    """

    standardized: np.ndarray
    feature_mean: np.ndarray
    feature_scale: np.ndarray
    target_mean: np.ndarray
    target_scale: np.ndarray

    def apply(self, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``X`` and ``Y`` with the pool's means subtracted and its scales divided."""
        return (X - self.feature_mean) / self.feature_scale, (Y - self.target_mean) / (
            self.target_scale
        )

    @property
    def centers_targets(self) -> bool:
        """Whether the targets are centered."""
        return bool(np.any(self.target_mean != 0))

    @property
    def scales_targets(self) -> bool:
        """Whether the targets are divided by their standard deviation."""
        return bool(np.any(self.target_scale != 1))


def check_standardize(standardize: Any, n_features: int) -> np.ndarray:
    """``standardize`` (a bool, or one bool per feature column) as a boolean mask."""
    if isinstance(standardize, bool | np.bool_):
        return np.full(n_features, bool(standardize))
    mask = np.asarray(standardize)
    if mask.dtype != bool or mask.shape != (n_features,):
        raise ValueError(
            f"standardize must be a bool or a boolean mask of one entry per feature column "
            f"({n_features}), got {standardize!r}"
        )
    return mask


def fit_preprocessing(
    X: np.ndarray, Y: np.ndarray, standardized: np.ndarray, center_targets: bool, scale_target: bool
) -> Preprocessing:
    """The preprocessing of the training pool ``X``, ``Y`` (float64, ``Y`` 2-d).

    Columns of ``X`` where ``standardized`` is set get mean 0 and variance 1 (a
    constant column: mean 0, as scikit-learn's ``StandardScaler``); the targets are
    centered when ``center_targets`` or ``scale_target`` is set, and also divided by
    their standard deviation (1 for constant targets) when ``scale_target`` is.
    """
    n_features, n_outputs = X.shape[1], Y.shape[1]
    feature_mean, feature_scale = np.zeros(n_features), np.ones(n_features)
    if standardized.any():
        columns = X[:, standardized]
        feature_mean[standardized] = columns.mean(axis=0)
        feature_scale[standardized] = _nonzero(columns.std(axis=0))
    target_mean, target_scale = np.zeros(n_outputs), np.ones(n_outputs)
    if center_targets or scale_target:
        target_mean = Y.mean(axis=0)
    if scale_target:
        target_scale = _nonzero(Y.std(axis=0))
    return Preprocessing(standardized, feature_mean, feature_scale, target_mean, target_scale)


def _nonzero(scale: np.ndarray) -> np.ndarray:
    """Standard deviations with 1 in place of 0 (a constant column is only centered)."""
    return np.where(scale > 0, scale, 1.0)
