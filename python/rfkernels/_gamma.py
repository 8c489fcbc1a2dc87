"""``gamma="scale"``: the kernel scale from the weighted moments of the data's entries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils.validation import check_array

from ._engine.data import check_sample_weight
from ._kernels import KERNELS
from ._validation import naming

__all__ = ["EntryMoments", "entry_moments", "gamma_from_moments", "resolve_gamma"]


@dataclass(frozen=True)
class EntryMoments:
    """Weighted moments of the entries of ``X``, merged over batches (Chan et al.).

    A weight counts as that many repeated rows. Merging updates the sum of squared
    deviations from the running mean, so no large mean cancels.
    """

    n_features: int | None = None
    total: float = 0.0
    mean: float = 0.0
    deviations: float = 0.0
    squares: float = 0.0

    @classmethod
    def of(cls, X, sample_weight=None) -> EntryMoments:
        """The moments of one batch of checked rows (empty for a batch of no weight).

        The sums run over a C-contiguous copy, so that the bits (and those of every
        feature drawn with the resulting ``gamma``) do not depend on the layout of ``X``.
        """
        X = np.ascontiguousarray(X, dtype=np.float64)
        weights = (
            np.ones(len(X)) if sample_weight is None else np.ascontiguousarray(sample_weight, float)
        )
        total = float(weights.sum()) * (X.shape[1] if X.ndim == 2 else 0)
        if total <= 0:
            return cls()
        mean = float(np.einsum("i,ij->", weights, X)) / total
        centered = X - mean
        return cls(
            X.shape[1],
            total,
            mean,
            float(np.einsum("i,ij,ij->", weights, centered, centered)),
            float(np.einsum("i,ij,ij->", weights, X, X)),
        )

    def merge(self, other: EntryMoments) -> EntryMoments:
        """The moments of the union of the two sets of rows."""
        if other.total <= 0:
            return self
        if self.total <= 0:
            return other
        total = self.total + other.total
        delta = other.mean - self.mean
        return EntryMoments(
            other.n_features,
            total,
            self.mean + delta * other.total / total,
            # total(a) * (total(b) / total): the product of two large totals would overflow.
            self.deviations + other.deviations + delta * delta * self.total * (other.total / total),
            self.squares + other.squares,
        )

    def variance_and_mean_square(self) -> tuple[float, float]:
        """The entries' variance and mean square (NaN for no rows of weight)."""
        if self.total <= 0:
            return np.nan, np.nan
        return self.deviations / self.total, self.squares / self.total

    def add_batch(self, batch: tuple) -> EntryMoments:
        """These moments merged with those of ``batch = (X, y, sample_weight)``.

        The batch is raw (a pass over batches computes ``gamma`` before any other): its
        ``X`` and weights are checked here, with errors that name them.
        """
        X, _, sample_weight = batch
        if np.shape(X)[:1] == (0,):
            return self
        with naming("X"):
            X = check_array(X, dtype=np.float64, input_name="X")
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X, part=True)
        return self.merge(EntryMoments.of(X, sample_weight))


def entry_moments(rows) -> tuple[int, float, float]:
    """``(n_features, variance, mean_square)`` of all entries of the rows' ``X``.

    ``rows`` is a :class:`~rfkernels.RowBatches` or any other
    :class:`~rfkernels._engine.passes.RowSource` (Dask arrays:
    :class:`rfkernels.distributed.DaskRows`); one pass.
    """
    moments = rows.reduce(EntryMoments, EntryMoments.add_batch, EntryMoments.merge)
    if moments.n_features is None:
        raise ValueError("the batches hold no rows (or only rows whose sample_weight is 0)")
    return moments.n_features, *moments.variance_and_mean_square()


def resolve_gamma(
    kernel: str, gamma: float | str, X: np.ndarray, sample_weight: np.ndarray | None = None
) -> float:
    """The numeric ``gamma`` for ``kernel``: ``gamma`` itself, or the data-scaled default.

    ``"scale"`` gives 1 / (n_features * X.var()) for rbf (as scikit-learn's
    ``RBFSampler``), the Matern kernels and cauchy, 1 / (n_features * X.std()) for
    laplacian, and
    1 / (n_features * mean(X**2)) for relu, step, linear, nngp and ntk, so that the random
    projections ``w.x`` have a variance of about one. With ``sample_weight`` the
    moments are weighted (a weight counts as that many repeated rows).
    """
    if not isinstance(gamma, str):
        return float(gamma)
    with np.errstate(over="ignore", invalid="ignore"):
        var, mean_square = EntryMoments.of(X, sample_weight).variance_and_mean_square()
    return gamma_from_moments(kernel, X.shape[1], var, mean_square)


def gamma_from_moments(kernel: str, n_features: int, variance: float, mean_square: float) -> float:
    """``gamma="scale"`` from the variance and mean square of the data's entries."""
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(KERNELS[kernel].scale_gamma(n_features, variance, mean_square))
    if not (np.isfinite(value) and value > 0):
        raise ValueError(
            f"gamma='scale' gives {value} for this X: its scale overflows or underflows "
            "float64 (values too large or too small); rescale X or pass a numeric gamma"
        )
    return value
