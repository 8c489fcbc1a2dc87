"""The machine's DGEMM and SGEMM rates through numpy (its BLAS), the denominators of
"fraction of the machine's GEMM rate" in summarize.py and RESULTS.md.

Two shapes per dtype, both into a preallocated output (``out=``), so that only the
GEMM is timed:

- square: 4096 x 4096 @ 4096 x 4096 (the BLAS at its best);
- transform: 100000 x 64 @ 64 x 2048, the projection inside the random-feature
  transform (small inner dimension, large output).

summarize.py takes the best rate of a dtype as that dtype's peak.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import Measure, scaled

SHAPES = {
    "square": (scaled(4096, exponent=3), scaled(4096, exponent=3), scaled(4096, exponent=3)),
    "transform": (scaled(100_000), 64, 2048),
}
DTYPES = ["float64", "float32"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_gemm(measure: Measure, shape: str, dtype: str) -> None:
    m, k, n = SHAPES[shape]
    rng = np.random.default_rng(0)
    A = rng.standard_normal((m, k)).astype(dtype)
    B = rng.standard_normal((k, n)).astype(dtype)
    out = np.empty((m, n), dtype=dtype)
    measure(
        functools.partial(np.matmul, A, B, out=out),
        group=f"gemm baseline {dtype}",
        impl=f"numpy matmul {shape}",
        dtype=dtype,
        flops=2 * m * k * n,
        gemm_baseline=True,
        shape=[m, k, n],
    )
    rows = slice(8)
    np.testing.assert_allclose(out[rows], A[rows] @ B, rtol=1e-3 if dtype == "float32" else 1e-10)
