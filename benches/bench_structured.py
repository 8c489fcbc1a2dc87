"""Structured (SORF) and orthogonal (ORF) random features against iid ones.

Two kinds of measurements (``RESULTS.md``, section "Orthogonal and structured features"):

- Transform time, ``d`` in {128, 1024, 4096}, ``D = 8192`` rbf features (cos), ``n = 512``
  rows, float64: ``dense`` is ``RandomFeatures(sampling="iid").transform`` (a GEMM with
  ``W`` of shape ``(d, D)`` fused with the SIMD cos, the group's reference) and
  ``structured`` is ``RandomFeatures(sampling="structured").transform`` (three fast
  Walsh-Hadamard transforms per block of ``P`` frequencies, ``O(D log d)`` per row, no
  ``W``). The acceptance criterion asks for ``structured`` at least 5x faster at d=1024.
- Kernel-approximation error: the relative Frobenius error ``||Z Z^T - K|| / ||K||`` of
  rbf features against the exact kernel, on a fixed data set (``n = 500`` standard
  normal rows, ``gamma = 1 / (2 d)``: kernel values around ``exp(-1)``), for ``D / d``
  in {1, 2, 4, 8}, averaged over ``N_SEEDS`` seeds, for iid, ORF and SORF, with cos and
  with sin/cos-pair features. One fit per seed at the widest ``D``; narrower widths are
  its leading columns rescaled (the features are nested). The means and standard errors
  are recorded in ``extra_info["errors"]``; the timing of these runs means little.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import Measure, scaled
from rfkernels import RandomFeatures
from rfkernels.kernels import kernel_matrix

N_ROWS = scaled(512)
N_COMPONENTS = 8192
TIMED_DIMENSIONS = [128, 1024, 4096]
ERROR_DIMENSIONS = [128, 1024]
MULTIPLES = [1, 2, 4, 8]
N_ERROR_ROWS = 500
N_SEEDS = 10


@functools.cache
def make_x(n: int, d: int) -> np.ndarray:
    """Standard normal rows (cached)."""
    return np.random.default_rng(0).standard_normal((n, d))


@pytest.mark.parametrize("d", TIMED_DIMENSIONS)
@pytest.mark.parametrize("sampling", ["iid", "structured"])
def test_transform_structured_vs_dense(measure: Measure, sampling: str, d: int) -> None:
    X = make_x(N_ROWS, d)
    rf = RandomFeatures(
        n_components=N_COMPONENTS, gamma=1 / (2 * d), sampling=sampling, random_state=0
    ).fit(X)
    Z = measure(
        functools.partial(rf.transform, X),
        group=f"transform rbf d={d} D={N_COMPONENTS} n={N_ROWS}",
        impl="dense" if sampling == "iid" else "structured",
        dtype="float64",
        flops=2 * N_ROWS * d * N_COMPONENTS if sampling == "iid" else None,
        reference=sampling == "iid",
        shape=[N_ROWS, d, N_COMPONENTS],
        sampling=sampling,
    )
    assert Z.shape == (N_ROWS, N_COMPONENTS)
    # Both approximate the same kernel: the diagonal of Z Z^T is about 1.
    assert abs(np.mean(np.sum(Z[:64] ** 2, axis=1)) - 1.0) < 0.1


def relative_errors(X: np.ndarray, K: np.ndarray, sampling: str, fourier: str) -> np.ndarray:
    """Relative Frobenius errors, shape (n_seeds, len(MULTIPLES))."""
    d = X.shape[1]
    widest = MULTIPLES[-1] * d
    errors = np.empty((N_SEEDS, len(MULTIPLES)))
    norm = np.linalg.norm(K)
    for seed in range(N_SEEDS):
        Z = RandomFeatures(
            n_components=widest, gamma=1 / (2 * d), fourier=fourier, sampling=sampling,
            random_state=seed,
        ).fit_transform(X)  # fmt: skip
        for k, multiple in enumerate(MULTIPLES):
            width = multiple * d
            Z_k = Z[:, :width] * np.sqrt(widest / width)
            errors[seed, k] = np.linalg.norm(Z_k @ Z_k.T - K) / norm
    return errors


@pytest.mark.parametrize("d", ERROR_DIMENSIONS)
@pytest.mark.parametrize("fourier", ["cos", "sincos"])
@pytest.mark.parametrize("sampling", ["iid", "orthogonal", "structured"])
def test_approximation_error(measure: Measure, sampling: str, fourier: str, d: int) -> None:
    X = make_x(N_ERROR_ROWS, d)
    K = kernel_matrix(X, kernel="rbf", gamma=1 / (2 * d))
    errors = measure(
        functools.partial(relative_errors, X, K, sampling, fourier),
        group=f"approximation error rbf d={d} n={N_ERROR_ROWS}, {N_SEEDS} seeds",
        impl=f"{sampling}-{fourier}",
        dtype="float64",
        flops=None,
        reference=sampling == "iid" and fourier == "cos",
        rounds=1,
        shape=[N_ERROR_ROWS, d, MULTIPLES[-1] * d],
        sampling=sampling,
        fourier=fourier,
    )
    measure.record(
        errors={
            "n_components": [m * d for m in MULTIPLES],
            "mean": errors.mean(axis=0).tolist(),
            "standard_error": (errors.std(axis=0, ddof=1) / np.sqrt(N_SEEDS)).tolist(),
        }
    )
    assert np.all(np.isfinite(errors))
