"""Distributed fits: the Dask overhead, and a paper estimate for 10^9 rows.

Issue 5's measurements (recorded in RESULTS.md; the memmap throughput is in
``bench_scale.py``):

- the Dask fit on a local cluster of 2 single-thread worker processes against the
  single-process fit (2 Rust threads) on the same 10^6 x 32 rows at D = 1024; the
  data is generated on the workers and persisted before timing, so both fits start
  from data in memory. Criterion: under 1.5x;
- the per-row costs of both passes and the costs of the reduction at D = 4096 on one
  core, from which :func:`scale_estimate` models a fit of 10^9 rows on N workers.

Run with ``make bench`` or ``pytest benches/bench_distributed.py --benchmark-only``.
"""

from __future__ import annotations

import math
import pickle
import time

import dask
import dask.array as da
import distributed
import numpy as np
import pytest
from bench_ridge import ALPHAS
from bench_scale import N_FEATURES
from conftest import Measure, scaled
from rfkernels import RandomFeatureRidge, RandomFeatures, _core
from rfkernels._engine.features import FeatureArrays
from rfkernels._engine.passes import ArrayRows, leave_one_out_errors, new_statistics
from rfkernels.distributed import SPLIT_EVERY

DASK_ROWS = scaled(1_000_000)
DASK_BLOCKS = 16
D_DASK = 1024
#: The paper estimate's problem, cluster and network.
ESTIMATE_ROWS = 10**9
ESTIMATE_D = 4096
ESTIMATE_CORES_PER_WORKER = 2
ESTIMATE_BLOCK_ROWS = 10**6
NETWORK_BYTES_PER_SECOND = 1.25e9  # 10 Gbit/s


def generated_block(index: int, rows: int, d: int = N_FEATURES) -> np.ndarray:
    """Block ``index`` of the data set (its targets are :func:`target_of` it)."""
    return np.random.default_rng(index).standard_normal((rows, d))


def target_of(X: np.ndarray) -> np.ndarray:
    """A smooth target of the rows of ``X``."""
    return np.sin(X).sum(axis=1) + 0.5 * X[:, 0] * X[:, 1]


@pytest.fixture(scope="module")
def cluster_data():
    """A 2-worker local cluster with the data persisted on it; the same data in numpy."""
    rows = DASK_ROWS // DASK_BLOCKS
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        blocks = [
            da.from_delayed(dask.delayed(generated_block)(i, rows), (rows, N_FEATURES), float)
            for i in range(DASK_BLOCKS)
        ]
        X = da.concatenate(blocks)
        y = X.map_blocks(target_of, drop_axis=1, dtype=np.float64)
        X, y = client.persist([X, y])
        distributed.wait([X, y])
        X_local = np.concatenate([generated_block(i, rows) for i in range(DASK_BLOCKS)])
        yield X, y, X_local, target_of(X_local)


@pytest.mark.parametrize("engine", ["single process", "dask"])
def test_dask_overhead(measure: Measure, cluster_data, engine: str) -> None:
    """The same fit in one process (2 Rust threads) and on 2 single-thread workers."""
    X_dask, y_dask, X, y = cluster_data
    data = (X, y) if engine == "single process" else (X_dask, y_dask)
    model = measure(
        lambda: RandomFeatureRidge(n_components=D_DASK, alphas=ALPHAS, random_state=0).fit(*data),
        group=f"dask overhead n={DASK_ROWS} d={N_FEATURES} D={D_DASK}, LOO",
        impl="single process, 2 threads" if engine == "single process" else "dask, 2 workers",
        dtype="float64",
        flops=3 * DASK_ROWS * D_DASK**2,
        reference=engine == "single process",
        rounds=3,
    )
    measure.record(alpha=model.alpha_, blocks=DASK_BLOCKS)


def scale_estimate(costs: dict, workers: int) -> dict:
    """Seconds to fit ``ESTIMATE_ROWS`` rows at ``ESTIMATE_D`` on ``workers`` workers.

    The model: every worker runs one single-thread task per core, so both passes
    take ``rows * (gram_row + loo_row) / (workers * cores)``. The statistics of the
    ``rows / block_rows`` blocks are added by a tree of fan-in ``SPLIT_EVERY``: each
    level on the critical path receives ``SPLIT_EVERY - 1`` statistics over the
    network and adds them. The driver decomposes the Gram once and scatters the
    path to every worker (``workers`` copies from the client). The leave-one-out
    reduction carries only ``n_alphas`` numbers per block: neglected. Loading the
    data is not counted (it is a read per pass at the storage's rate).
    """
    cores = workers * ESTIMATE_CORES_PER_WORKER
    passes = ESTIMATE_ROWS * (costs["gram_seconds_per_row"] + costs["loo_seconds_per_row"])
    blocks = ESTIMATE_ROWS // ESTIMATE_BLOCK_ROWS
    levels = math.ceil(math.log(blocks, SPLIT_EVERY))
    per_level = (SPLIT_EVERY - 1) * (
        costs["statistics_bytes"] / NETWORK_BYTES_PER_SECOND + costs["add_seconds"]
    )
    scatter = workers * costs["path_bytes"] / NETWORK_BYTES_PER_SECOND
    parts = {
        "passes": passes / cores,
        "reduction": levels * per_level,
        "eigendecomposition": costs["eigen_seconds"],
        "scatter_path": scatter,
    }
    return parts | {"total": sum(parts.values()), "workers": workers}


def test_paper_estimate_for_a_billion_rows(measure: Measure) -> None:
    rows = scaled(8192)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, N_FEATURES))
    Y = target_of(X)[:, None]
    weights = np.ones(rows)
    drawn = RandomFeatures(n_components=ESTIMATE_D, random_state=0, n_jobs=1).fit(X)
    features = FeatureArrays.of(drawn)

    def gram_pass() -> _core.GramStatistics:
        stats = new_statistics(ESTIMATE_D, 1)
        stats.add_rows(X, Y, None, chunk_rows=rows, n_jobs=1, **features.core(X.dtype))
        return stats

    record: dict = {}

    def timed_gram_pass() -> _core.GramStatistics:
        start = time.perf_counter()
        stats = gram_pass()
        record["seconds"] = time.perf_counter() - start
        return stats

    stats = measure(
        timed_gram_pass,
        group=f"per-row cost on one core, d={N_FEATURES} D={ESTIMATE_D}",
        impl="gram pass",
        dtype="float64",
        flops=rows * ESTIMATE_D**2,
        rounds=3,
    )
    costs = {"gram_seconds_per_row": record["seconds"] / rows}
    start = time.perf_counter()
    path = _core.PrimalRidgePath(stats, fit_intercept=True, n_jobs=None)
    costs["eigen_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    leave_one_out_errors(
        path,
        ArrayRows(X, Y, weights, rows),
        features,
        ALPHAS,
        n_samples=rows,
        shift=np.zeros(1),
        n_jobs=1,
    )
    costs["loo_seconds_per_row"] = (time.perf_counter() - start) / rows
    start = time.perf_counter()
    _ = stats + stats
    costs["add_seconds"] = time.perf_counter() - start
    costs["statistics_bytes"] = len(pickle.dumps(stats))
    costs["path_bytes"] = len(pickle.dumps(path))
    estimates = [scale_estimate(costs, workers) for workers in (1, 10, 100, 1000)]
    measure.record(
        costs=costs, estimates=estimates, network_bytes_per_second=NETWORK_BYTES_PER_SECOND
    )
    for row in estimates:
        print({key: round(value, 1) for key, value in row.items()})
