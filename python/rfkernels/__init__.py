"""rfkernels: fast random-feature kernel methods with a Rust core.

The public API:

- :class:`RandomFeatures`: a scikit-learn transformer for random features of the
  rbf, laplacian, relu (arc-cosine 1) and step (arc-cosine 0) kernels;
- :func:`rfkernels.kernels.kernel_matrix`: the exact kernels they approximate.
"""

from . import kernels
from ._core import __version__
from ._kernels import KERNELS
from .random_features import RandomFeatures

__all__ = ["KERNELS", "RandomFeatures", "__version__", "kernels"]
