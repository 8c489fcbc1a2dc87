"""Targets and row weights as the engine takes them."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight

from .._validation import finite_targets, naming

__all__ = [
    "as_targets",
    "check_labels",
    "check_sample_weight",
    "class_indicators",
    "labels_of",
    "scaled_weights",
    "target_shift",
    "unit_weights_as_none",
]


def check_sample_weight(sample_weight, X, *, part: bool = False) -> np.ndarray:
    """``sample_weight`` as one float64 weight per row of ``X`` (ones for None).

    Weights must be finite and non-negative (a negative weight would make
    ``sqrt(s_i)`` NaN in the statistics), and not all zero unless the rows are a
    ``part`` of a fit's data (a batch, whose rows may all count nowhere; the fit
    checks the total). Errors name ``sample_weight``.
    """
    with naming("sample_weight"):
        if part and sample_weight is not None and np.ndim(sample_weight) == 1:
            weights = np.asarray(sample_weight)
            if len(weights) == len(X) and weights.dtype.kind in "biuf" and not weights.any():
                return weights.astype(np.float64)
        return _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)


def as_targets(y) -> tuple[np.ndarray, bool]:
    """``(Y, y_was_1d)``: the targets as an ``(n, n_targets)`` finite float64 array."""
    return finite_targets(y).reshape(len(y), -1), np.ndim(y) == 1


def scaled_weights(sample_weight, factor: np.ndarray) -> np.ndarray:
    """The weights of a batch (ones for None) times ``factor``, one number per row."""
    return factor if sample_weight is None else np.asarray(sample_weight) * factor


def unit_weights_as_none(sample_weight: np.ndarray | None) -> np.ndarray | None:
    """``None`` when every weight is 1, so the core skips weighting the rows."""
    if sample_weight is None or np.all(sample_weight == 1.0):
        return None
    return sample_weight


def target_shift(Y: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
    """The weighted mean of each target, subtracted before the statistics are summed.

    The statistics are uncentered sums, centered at the end (``sum y^2 - S ybar^2``,
    ``Z^T y - S zbar ybar``): when the targets' mean dwarfs their spread (``y +
    1e8``) the two sides cancel catastrophically. Targets shifted by (nearly)
    their mean leave nothing to cancel; the intercept takes the shift back.
    """
    return np.average(Y, axis=0, weights=sample_weight)


def class_indicators(y, estimator: str) -> tuple[np.ndarray, np.ndarray]:
    """``(Y, classes)``: the {-1, +1} one-vs-all indicators of the labels ``y``, float64.

    One column for two classes (positive for ``classes[1]``), one per class otherwise.
    """
    check_labels(y)
    binarizer = LabelBinarizer(pos_label=1, neg_label=-1)
    Y = binarizer.fit_transform(y).astype(np.float64)
    if len(binarizer.classes_) < 2:
        raise ValueError(
            f"{estimator} needs samples of at least 2 classes in y; "
            f"got 1 class ({binarizer.classes_[0]!r})"
        )
    return Y, binarizer.classes_


def check_labels(y) -> None:
    """Refuse targets that are no class labels (continuous, multi-output), naming ``y``.

    scikit-learn's check casts float labels to integers to tell them from continuous
    values; the overflow of that cast for huge floats is not an error of ours.
    """
    with naming("y"), np.errstate(invalid="ignore", over="ignore"):
        check_classification_targets(y)


def labels_of(scores: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The class of each row's largest score (1-d scores: positive for ``classes[1]``)."""
    if scores.ndim == 1:
        return classes[(scores > 0).astype(int)]
    return classes[np.argmax(scores, axis=1)]
