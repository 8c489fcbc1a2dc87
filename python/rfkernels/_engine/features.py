"""Fitted feature maps as the Rust core takes them, behind one interface.

A fit's passes only need five things of a feature map: its width, its features
(``transform``), the statistics of rows (``add_rows``, then ``finish``: Nystrom
features sum their kernel columns' statistics and project them once) and their
leave-one-out residuals (``loo_error_sums``). :class:`FeatureArrays` gives them for random
features (kernel, pairing, weights, offsets) and :class:`NystroemArrays` for
Nystrom features (a ``_core.KernelCenters`` and its projection), so every pass and
path serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .. import _core
from .._kernels import is_paired

__all__ = ["FeatureArrays", "FeatureMap", "NystroemArrays"]


class FeatureMap(Protocol):
    """What the passes of a fit need of a fitted feature map."""

    @property
    def n_components(self) -> int:
        """The number of features ``D``."""
        ...

    @property
    def statistics_width(self) -> int:
        """The width of the statistics :meth:`add_rows` accumulates (before :meth:`finish`)."""
        ...

    def finish(self, stats: _core.GramStatistics) -> _core.GramStatistics:
        """The statistics of the features, from those :meth:`add_rows` summed."""
        ...

    def transform(self, X: np.ndarray, *, n_jobs: int | None) -> np.ndarray:
        """The features of ``X``, ``(n, D)``, in ``X``'s float type."""
        ...

    def add_rows(
        self, stats: _core.GramStatistics, X, Y, sample_weight, *, chunk_rows: int, n_jobs
    ) -> None:
        """Add the rows and their targets to the statistics ``stats`` (see :meth:`finish`)."""
        ...

    def loo_error_sums(
        self, path: _core.PrimalRidgePath, X, Y, sample_weight, *, alphas: list, n_jobs
    ) -> np.ndarray:
        """Sums of the rows' squared leave-one-out residuals, ``(n_alphas, n_targets)``."""
        ...


@dataclass(frozen=True)
class FeatureArrays:
    """The frequencies of a fitted :class:`~rfkernels.RandomFeatures`, for the core.

    Attributes
    ----------
    kernel : str
        The kernel's name.
    paired : bool
        Whether the features are (cos, sin) pairs, two columns per frequency.
    weights : ndarray of shape (n_features_in, n_frequencies) or (n_blocks, 3, P)
        The frequencies as columns, or the structured diagonals.
    offsets : ndarray of shape (n_frequencies,)
        The offsets.
    """

    kernel: str
    paired: bool
    weights: np.ndarray
    offsets: np.ndarray

    @classmethod
    def of(cls, features) -> FeatureArrays:
        """The arrays of a fitted :class:`~rfkernels.RandomFeatures`."""
        paired = is_paired(features.kernel, features.fourier)
        return cls(features.kernel, paired, features.random_weights_, features.random_offset_)

    @property
    def n_components(self) -> int:
        """The number of features ``D``."""
        return len(self.offsets) * (2 if self.paired else 1)

    @property
    def statistics_width(self) -> int:
        """The features' own statistics are summed: ``D``."""
        return self.n_components

    def finish(self, stats: _core.GramStatistics) -> _core.GramStatistics:
        """The summed statistics, as they are."""
        return stats

    def leading(self, n_components: int) -> FeatureArrays:
        """The first ``n_components`` features (nested maps: the narrower map's frequencies).

        Their columns are those of the ``n_components``-feature map; the core scales
        them by ``sqrt(2 / n_components)``.
        """
        n_frequencies = n_components // 2 if self.paired else n_components
        weights = self.weights
        if weights.ndim == 3:  # whole structured blocks of P frequencies
            weights = weights[: -(-n_frequencies // weights.shape[2])]
        else:
            weights = weights[:, :n_frequencies]
        return FeatureArrays(self.kernel, self.paired, weights, self.offsets[:n_frequencies])

    def core(self, dtype: np.dtype) -> dict:
        """Keyword arguments of the core's feature calls, the arrays cast to ``dtype``."""
        return {
            "weights": self.weights.astype(dtype, copy=False),
            "offsets": self.offsets.astype(dtype, copy=False),
            "kernel": self.kernel,
            "paired": self.paired,
        }

    def transform(self, X: np.ndarray, *, n_jobs: int | None) -> np.ndarray:
        """The random features of ``X``, in ``X``'s float type."""
        return _core.transform(X, n_jobs=n_jobs, **self.core(X.dtype))

    def add_rows(
        self, stats: _core.GramStatistics, X, Y, sample_weight, *, chunk_rows: int, n_jobs
    ) -> None:
        """Add the rows to ``stats``, their features streamed in chunks of ``chunk_rows``."""
        stats.add_rows(
            X, Y, sample_weight, chunk_rows=chunk_rows, n_jobs=n_jobs, **self.core(X.dtype)
        )

    def loo_error_sums(
        self, path: _core.PrimalRidgePath, X, Y, sample_weight, *, alphas: list, n_jobs
    ) -> np.ndarray:
        """The rows' squared leave-one-out residuals summed, every alpha and target."""
        return path.loo_error_sums(
            X, Y, sample_weight, alphas=alphas, n_jobs=n_jobs, **self.core(X.dtype)
        )


@dataclass(frozen=True)
class NystroemArrays:
    """Fitted Nystrom features ``z(x) = projection^T k(centers, x)``, for the core.

    Attributes
    ----------
    centers : _core.KernelCenters
        The kernel against the centers.
    projection : ndarray of shape (n_centers, n_components)
        ``V_r diag(lambda_r)^(-1/2)`` of the centers' kernel matrix.
    """

    centers: _core.KernelCenters
    projection: np.ndarray

    @property
    def n_components(self) -> int:
        """The number of features ``r`` (kept eigenvalues of the centers' kernel)."""
        return self.projection.shape[1]

    @property
    def statistics_width(self) -> int:
        """The kernel columns' statistics are summed: ``M`` (one per center)."""
        return self.projection.shape[0]

    def finish(self, stats: _core.GramStatistics) -> _core.GramStatistics:
        """The Nystrom features' statistics: the kernel columns' ones, projected."""
        return stats.project(self.projection)

    def transform(self, X: np.ndarray, *, n_jobs: int | None) -> np.ndarray:
        """The Nystrom features of ``X``, in ``X``'s float type."""
        return self.centers.transform(X, self.projection, n_jobs=n_jobs)

    def add_rows(
        self, stats: _core.GramStatistics, X, Y, sample_weight, *, chunk_rows: int, n_jobs
    ) -> None:
        """Add the rows' kernel columns to ``stats``, in chunks of ``chunk_rows`` rows.

        The Gram of the kernel columns costs ``n M^2`` flops where that of the
        features would cost ``n M r`` more to project every row first.
        """
        self.centers.add_rows(
            stats, X, Y, sample_weight, None, chunk_rows=chunk_rows, n_jobs=n_jobs
        )

    def loo_error_sums(
        self, path: _core.PrimalRidgePath, X, Y, sample_weight, *, alphas: list, n_jobs
    ) -> np.ndarray:
        """The rows' squared leave-one-out residuals summed, every alpha and target.

        The kernel columns are projected with ``projection @ [Q | C]`` in one product.
        """
        return self.centers.loo_error_sums(
            path, X, Y, sample_weight, self.projection, alphas, n_jobs=n_jobs
        )
