"""A fitted feature map as the Rust core takes it: kernel, pairing, weights, offsets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._kernels import is_paired

__all__ = ["FeatureArrays"]


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
