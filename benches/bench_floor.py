"""Large leave-one-out fits against their arithmetic floor, measured in the same run (issue 15).

A ``RandomFeatureRidge`` fit with exact leave-one-out over 20 ridges does three big
things: the Gram ``Z^T Z`` (``n D^2`` flops, one triangle), the eigendecomposition of
the ``D x D`` Gram, and the leave-one-out projection ``Z [Q | C]`` (``2 n D (D + 20)``
flops). Its floor is what numpy's BLAS needs for the same three at the same shapes,
timed in the same process just before the fit:

- the Gram at numpy's ``Z^T Z`` rate (``dsyrk``/``ssyrk``) on one chunk of the fit's
  features, repeated to ``n`` rows;
- the projection at numpy's ``Z @ P`` rate (``dgemm``/``sgemm``) on the same chunk;
- numpy's ``eigh`` of a ``D x D`` Gram (float64 for both dtypes, as the fit's).

Each component is the median of 3 timings; ``floor_ratio`` is the fit's median over the
floor's sum. The features themselves (``n D d`` flops and ``n D`` cosines per pass, two
passes) are not in the floor: they are what the fit does beyond the BLAS work.
"""

from __future__ import annotations

import functools
import statistics
import time

import numpy as np
import pytest
from bench_ridge import ALPHAS, make_data
from conftest import Measure, scaled
from rfkernels import RandomFeatureRidge, RandomFeatures

#: (n, D) of the issue's large fits.
SHAPES = [(scaled(100_000), 1024), (scaled(44_000), 4096)]
DTYPES = ["float64", "float32"]
CHUNK_ROWS = 4096


def median_seconds(work, repeats: int = 3) -> float:
    """The median wall time of ``work()`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@functools.cache
def floor(n: int, D: int, dtype: str) -> dict[str, float]:
    """The seconds numpy's BLAS takes for the fit's Gram, projection and eigh."""
    X, _, _, _ = make_data(n, 16)
    rows = min(CHUNK_ROWS, n)
    Z = RandomFeatures(n_components=D, random_state=0).fit(X).transform(X[:rows]).astype(dtype)
    P = np.random.default_rng(0).standard_normal((D, D + len(ALPHAS))).astype(dtype)
    gram = median_seconds(lambda: Z.T @ Z) * n / rows
    projection = median_seconds(lambda: Z @ P) * n / rows
    G = Z.astype(np.float64).T @ Z.astype(np.float64)
    eigh = median_seconds(lambda: np.linalg.eigh(G))
    return {"gram": gram, "projection": projection, "eigh": eigh}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, D", SHAPES)
def test_fit_against_floor(measure: Measure, n: int, D: int, dtype: str) -> None:
    X, y, _, _ = make_data(n, 16)
    X = X.astype(dtype)
    parts = floor(n, D, dtype)
    model = measure(
        lambda: RandomFeatureRidge(n_components=D, alphas=ALPHAS, random_state=0).fit(X, y),
        group=f"LOO fit against its floor n={n} D={D} {dtype}",
        impl=f"rfkernels-{dtype}",
        dtype=dtype,
        flops=n * D**2 + 2 * n * D * (D + len(ALPHAS)),
        rounds=3,
        shape=[n, X.shape[1], D],
        comparable=False,  # the floor is recorded, not timed as a benchmark
    )
    total = sum(parts.values())
    median = measure.median()
    measure.record(
        floor_seconds=parts,
        floor_total_seconds=total,
        floor_ratio=median / total,
        alpha=model.alpha_,
    )
    assert np.isfinite(model.alpha_)
