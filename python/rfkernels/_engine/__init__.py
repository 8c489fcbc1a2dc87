"""The one ridge engine behind every estimator and sweep (private).

A fit is three steps, each a module here:

1. :mod:`~rfkernels._engine.passes`: passes over the rows of a source (arrays in
   memory, memmaps, :class:`~rfkernels.RowBatches`, Dask blocks, all one
   :class:`~rfkernels._engine.passes.RowSource` protocol) that add up the Gram
   statistics (``_core.GramStatistics``) or the leave-one-out residuals, feature
   chunk by feature chunk in Rust;
2. :mod:`~rfkernels._engine.paths`: one eigendecomposition, of the ``D x D`` Gram
   (:class:`~rfkernels._engine.paths.PrimalPath`) or of an ``n x n`` kernel matrix
   (:class:`~rfkernels._engine.paths.DualPath`), and
   :func:`~rfkernels._engine.paths.solve_path`, which gives the cross-validation
   errors (leave-one-out, GCV, k-fold or any splitter) and training errors of
   every ridge of the grid;
3. :mod:`~rfkernels._engine.selection`: the grid of ridges, the choice of
   ``alpha`` and the fitted attributes.

:mod:`~rfkernels._engine.data` checks targets and weights and shifts the targets;
:mod:`~rfkernels._engine.features` hands a fitted feature map to the core;
:mod:`~rfkernels._engine.progress` reports long work.
"""
