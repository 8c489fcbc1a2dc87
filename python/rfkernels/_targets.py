"""Targets of the ridge estimators: what a regressor and a classifier make of ``(X, y)``.

Every ridge estimator (random features or kernel) fits an ``(n, n_targets)`` float64
matrix ``Y``: a regressor's targets as given, a classifier's {-1, +1} class
indicators. :class:`RegressionTargets` and :class:`ClassificationTargets` validate a
batch of rows into ``(X, Y, sample_weight, y_was_1d)`` for a fit on arrays, for each
batch of a fit on batches (memmaps, :class:`~rfkernels.RowBatches`, Dask arrays)
and for ``partial_fit``, so that the estimators differ only in their engine.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_array, validate_data

from ._engine.data import as_targets, check_labels, check_sample_weight, class_indicators
from ._validation import naming, naming_X_y

__all__ = ["ClassificationTargets", "Prepared", "RegressionTargets", "check_targets_like"]

#: A validated batch: ``(X, Y, sample_weight, y_was_1d)``.
Prepared = tuple[Any, np.ndarray, np.ndarray, bool]


def check_targets_like(Y: np.ndarray, y_was_1d: bool, n_targets: int, first_1d: bool) -> None:
    """Refuse rows whose targets differ in number or shape from the earlier rows'."""
    if (Y.shape[1], y_was_1d) != (n_targets, first_1d):
        raise ValueError(
            f"y has {Y.shape[1]} target(s) ({'1-d' if y_was_1d else '2-d'}) but the "
            f"earlier rows had {n_targets} ({'1-d' if first_1d else '2-d'})"
        )


class _Targets:
    """What both kinds of targets share: the validation of later batches."""

    #: The float types ``X`` may keep (others are converted to the first).
    _input_dtypes: ClassVar[list] = [np.float64, np.float32]

    def _validate(self, X, y, *, reset: bool, min_samples: int, **y_params) -> tuple:
        """``validate_data(self, X, y)``; an error names ``X``, ``y`` or both."""
        params = {"dtype": self._input_dtypes, "reset": reset, "ensure_min_samples": min_samples}
        with naming_X_y(lambda: validate_data(self, X, **params)):
            return validate_data(self, X, y, **params, **y_params)

    def _prepare(
        self, X, y, sample_weight, *, reset: bool, min_samples: int = 1, part: bool = False
    ) -> Prepared:
        """A validated batch (``part``: a batch of a pass, whose weights may all be 0)."""
        raise NotImplementedError

    def _batch_preparer(self, n_targets: int, y_was_1d: bool):
        """``prepare(batch)`` of the passes: a raw batch validated like the first one."""

        def prepare(batch):
            X, Y, sample_weight, one_d = self._prepare(*batch, reset=False, part=True)
            check_targets_like(Y, one_d, n_targets, y_was_1d)
            return X, Y, sample_weight

        return prepare


class RegressionTargets(_Targets):
    """Numeric targets, 1-d or 2-d (multi-output), as float64 columns."""

    def _prepare(
        self, X, y, sample_weight, *, reset: bool, min_samples: int = 1, part: bool = False
    ) -> Prepared:
        """A validated batch: ``X``, ``Y`` (``n x t`` float64), weights, ``y`` was 1-d."""
        X, y = self._validate(
            X, y, reset=reset, min_samples=min_samples, multi_output=True, y_numeric=True
        )
        Y, y_was_1d = as_targets(y)
        return X, Y, check_sample_weight(sample_weight, X, part=part), y_was_1d

    def _prepare_fit(self, X, y, sample_weight) -> tuple[Any, np.ndarray, np.ndarray, bool, Any]:
        """The rows of ``fit`` on arrays (at least 2), and no labels for the folds."""
        return *self._prepare(X, y, sample_weight, reset=True, min_samples=2), None

    def _before_batches(self, rows, X, y) -> None:
        """Nothing to learn of the targets before a fit on batches."""


def _union(labels: np.ndarray | None, more: np.ndarray | None) -> np.ndarray | None:
    """The sorted union of two sets of labels (None: no labels yet)."""
    if labels is None or more is None:
        return more if labels is None else labels
    return np.union1d(labels, more)


def _add_labels(labels: np.ndarray | None, batch) -> np.ndarray | None:
    """``labels`` and those of ``batch = (X, y, sample_weight)`` (a raw batch: checked here)."""
    with naming("y"):
        y = check_array(batch[1], ensure_2d=False, dtype=None, ensure_min_samples=0, input_name="y")
    return _union(labels, np.unique(y) if len(y) else None)


class ClassificationTargets(_Targets):
    """Class labels (numbers or strings) as {-1, +1} indicators of ``classes_``."""

    def _prepare(
        self, X, y, sample_weight, *, reset: bool, min_samples: int = 1, part: bool = False
    ) -> Prepared:
        """A validated batch: ``X``, the {-1, +1} indicators of ``classes_``, weights."""
        X, y = self._validate(X, y, reset=reset, min_samples=min_samples)
        check_labels(y)
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y holds labels {unknown.tolist()!r} not in classes {self.classes_.tolist()!r}"
            )
        binarizer = LabelBinarizer(pos_label=1, neg_label=-1).fit(self.classes_)
        Y = binarizer.transform(y).astype(np.float64)
        return X, Y, check_sample_weight(sample_weight, X, part=part), False

    def _prepare_fit(self, X, y, sample_weight) -> tuple[Any, np.ndarray, np.ndarray, bool, Any]:
        """The rows of ``fit`` on arrays; ``classes_`` from their labels, the folds' labels."""
        X, y = self._validate(X, y, reset=True, min_samples=2)
        Y, self.classes_ = class_indicators(y, type(self).__name__)
        return X, Y, check_sample_weight(sample_weight, X), False, y

    def _before_batches(self, rows, X, y) -> None:
        """Set ``classes_`` before a fit on batches: one pass collects the labels."""
        if isinstance(X, np.memmap):
            labels = y
        else:
            labels = rows.reduce(lambda: None, _add_labels, _union)
            if labels is None:
                raise ValueError("the batches hold no rows")
        with naming("y"):
            self._set_classes(labels)

    def _set_classes(self, classes) -> None:
        """Set ``classes_`` (sorted, unique) from every class of the rows."""
        self.classes_ = np.unique(np.asarray(classes))
        if len(self.classes_) < 2:
            raise ValueError(
                f"classes must hold at least 2 classes; got {self.classes_.tolist()!r}"
            )
