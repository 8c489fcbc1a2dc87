"""rfkernels: fast random-feature kernel methods with a Rust core.

The public API:

- :class:`RandomFeatures`: a scikit-learn transformer for random features of the
  rbf, laplacian, Matern (nu = 1/2, 3/2, 5/2), cauchy, relu (arc-cosine 1), step
  (arc-cosine 0), linear, nngp and ntk (one hidden ReLU layer) kernels, with iid,
  orthogonal or structured frequencies;
- :class:`RandomFeatureRidge`, :class:`RandomFeatureRidgeClassifier`: ridge
  regression and classification on streamed random features, with the whole
  ridge path and exact leave-one-out selection from one eigendecomposition;
- :class:`KernelRidge`, :class:`KernelRidgeClassifier`: the same on the kernel
  (the infinite-width limit), exact or on Nystrom centers (eigen path or
  preconditioned conjugate gradients), including the NNGP and NTK kernels of deep
  ReLU networks (``depth``);
- :class:`Nystroem`: a scikit-learn transformer for Nystrom features (the kernel
  projected onto the span of sampled centers), in Rust; the centers uniform or by
  approximate ridge leverage scores (:mod:`rfkernels.leverage`, BLESS);
- :class:`RowBatches`: training data in batches of rows (or a numpy memmap), for
  fits whose memory does not grow with the number of rows;
- :func:`rfkernels.kernels.kernel_matrix`: the exact kernels;
- :mod:`rfkernels.theory`: predicted test and train risk of kernel and
  random-feature ridge regression from a task's eigenstructure;
- :mod:`rfkernels.sweep`: width, sample-size and ridge sweeps with the theory's
  predictions beside the measurements, as tables, data frames and figures.
"""

from . import kernels, leverage, sweep, theory
from ._core import __version__
from ._kernels import KERNELS, SAMPLINGS
from .batches import RowBatches
from .kernel_ridge import KernelRidge, KernelRidgeClassifier
from .nystroem import Nystroem
from .random_features import RandomFeatures
from .ridge import RandomFeatureRidge, RandomFeatureRidgeClassifier

__all__ = [
    "KERNELS",
    "SAMPLINGS",
    "KernelRidge",
    "KernelRidgeClassifier",
    "Nystroem",
    "RandomFeatureRidge",
    "RandomFeatureRidgeClassifier",
    "RandomFeatures",
    "RowBatches",
    "__version__",
    "kernels",
    "leverage",
    "sweep",
    "theory",
]
