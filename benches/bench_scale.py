"""Out-of-core fits: a memmap on disk, fitted in batches with exact leave-one-out.

Issue 5's memory criterion (recorded in RESULTS.md): a float64 memmap of 5 x 10^6 rows
x 32 columns on disk (1.28 GB) fits with D = 2048 and leave-one-out selection with a
peak resident memory under 1 GB above the start. ``fit`` reads the memmap in batches
of rows (``RowBatches.from_arrays``), releasing each batch's pages after reading:
three passes (the scale for ``gamma="scale"``, the Gram, the leave-one-out residuals).
The same fit at D = 1024 and 4096 on fewer rows measures the throughput in rows per
second of the whole fit (``rows_per_second``).
"""

from __future__ import annotations

import numpy as np
import pytest
from bench_ridge import ALPHAS, timed_fit
from conftest import Measure, scaled
from rfkernels import RandomFeatureRidge

N_ROWS = scaled(5_000_000)
N_FEATURES = 32
D = 2048
BLOCK = 500_000  # rows written to the memmap at a time


def make_memmap(path, n_rows: int = N_ROWS) -> tuple[np.memmap, np.ndarray]:
    """``y = sum_i sin(x_i) + noise`` with ``X`` written to ``path`` block by block."""
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n_rows, N_FEATURES))
    y = np.empty(n_rows)
    rng = np.random.default_rng(7)
    for start in range(0, n_rows, BLOCK):
        block = rng.standard_normal((min(BLOCK, n_rows - start), N_FEATURES))
        X[start : start + len(block)] = block
        y[start : start + len(block)] = np.sin(block).sum(axis=1) + 0.3 * rng.standard_normal(
            len(block)
        )
    X.flush()
    del X
    return np.load(path, mmap_mode="r"), y


#: (rows, D): the memory criterion's fit, then the throughput at D = 1024 and 4096
#: (the same work n D^2 for both).
FITS = [(N_ROWS, D), (scaled(1_000_000), 1024), (scaled(62_500), 4096)]


@pytest.mark.parametrize(("n_rows", "n_components"), FITS)
def test_memmap_fit_with_loo(measure: Measure, tmp_path, n_rows: int, n_components: int) -> None:
    X, y = make_memmap(tmp_path / "X.npy", n_rows)
    record: dict = {}

    model = measure(
        timed_fit(
            lambda: RandomFeatureRidge(n_components=n_components, alphas=ALPHAS, random_state=0),
            X,
            y,
            record,
        ),
        group=f"memmap fit n={n_rows} d={N_FEATURES} D={n_components}, LOO",
        impl="rfkernels-memmap-loo",
        dtype="float64",
        flops=3 * n_rows * n_components**2,
        rounds=1,
        shape=[n_rows, N_FEATURES, n_components],
    )
    measure.record(
        peak_memory_bytes=record["peak_memory_bytes"],
        file_bytes=X.nbytes,
        alpha=model.alpha_,
        rows_per_second=n_rows / record["seconds"],
    )
    assert record["peak_memory_bytes"] < 2**30
