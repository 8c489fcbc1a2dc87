"""Shared setup of the rfkernels benchmarks (pytest-benchmark).

Run all of them side by side in one process, so that ratios compare like with like::

    .venv/bin/python -m pytest benches --benchmark-only --benchmark-json=benches/results.json
    .venv/bin/python benches/summarize.py benches/results.json

Environment variables:

- ``RFK_BENCH_SCALE`` (default 1): multiplies the work of every benchmark, e.g. 0.01
  for a smoke run. Sizes shrink so that the work (not the side) scales.
- ``RFK_BENCH_ROUNDS`` (default 5, at least 3): timed rounds per benchmark, after
  one untimed warmup round (the first touch of large memory is slow on these VMs).

Every benchmark records in ``extra_info`` its group, implementation, dtype, shape,
GEMM flop count, whether it is its group's reference, the SIMD ISA, the thread
counts and numpy's BLAS, so that ``summarize.py`` needs nothing but the JSON.
"""

from __future__ import annotations

import functools
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rfkernels
import sklearn
from rfkernels import _core
from threadpoolctl import threadpool_info

SCALE = float(os.environ.get("RFK_BENCH_SCALE", "1"))
ROUNDS = int(os.environ.get("RFK_BENCH_ROUNDS", "5"))
WARMUP_ROUNDS = 1
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")

if not SCALE > 0:
    raise ValueError(f"RFK_BENCH_SCALE must be positive, got {SCALE}")
if ROUNDS < 3:
    raise ValueError(f"RFK_BENCH_ROUNDS must be at least 3, got {ROUNDS}")


def scaled(size: int, *, exponent: float = 1.0, minimum: int = 16) -> int:
    """``size`` shrunk so that work proportional to ``size ** exponent`` scales by SCALE."""
    return max(minimum, round(size * SCALE ** (1.0 / exponent)))


def rayon_threads() -> int:
    """Threads of rfkernels' default pool (``n_jobs=None``)."""
    return int(os.environ.get("RAYON_NUM_THREADS") or os.cpu_count() or 1)


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or the platform's processor string."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


@functools.cache
def run_info() -> dict[str, Any]:
    """What the numbers depend on: SIMD ISA, threads, BLAS, versions and the size scale."""
    libs = threadpool_info()
    blas = [lib for lib in libs if lib["user_api"] == "blas"]
    numpy_blas = next((lib for lib in blas if "numpy" in lib["filepath"]), blas[0] if blas else {})
    return {
        "scale": SCALE,
        "rounds": ROUNDS,
        "warmup_rounds": WARMUP_ROUNDS,
        "cpu_model": cpu_model(),
        "simd_isa": _core.simd_isa(),
        "supported_isas": _core.supported_isas(),
        "threads": {
            "cpu_count": os.cpu_count(),
            "rfkernels": rayon_threads(),
            "numpy_blas": numpy_blas.get("num_threads"),
        },
        "numpy_blas": (
            f"{numpy_blas.get('internal_api')} {numpy_blas.get('version')} "
            f"{numpy_blas.get('architecture')} ({numpy_blas.get('threading_layer')})"
        ),
        "threadpools": [
            {
                key: lib.get(key)
                for key in ("internal_api", "version", "architecture", "num_threads")
            }
            | {"library": Path(lib["filepath"]).name}
            for lib in libs
        ],
        "openblas_env": {var: os.environ.get(var) for var in OPENBLAS_VARS},
        "versions": {
            "python": platform.python_version(),
            "rfkernels": rfkernels.__version__,
            "numpy": np.__version__,
            "sklearn": sklearn.__version__,
        },
    }


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """Collect ``bench_*.py`` as test modules (pyproject's python_files is ``test_*.py``).

    Files named on the command line are already collected by pytest itself.
    """
    if parent.session.isinitpath(file_path):
        return None
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Print the run's conditions at the top of the pytest output."""
    info = run_info()
    set_vars = {k: v for k, v in info["openblas_env"].items() if v is not None}
    return [
        f"rfkernels benches: scale={SCALE} rounds={ROUNDS} (+{WARMUP_ROUNDS} warmup) "
        f"cpu={info['cpu_model']} simd={info['simd_isa']} threads={info['threads']}",
        f"numpy BLAS: {info['numpy_blas']}; OpenBLAS env: {set_vars or 'none set'}",
    ]


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Store the run's conditions once in the JSON's ``machine_info``."""
    machine_info["rfkernels_bench"] = run_info()


Measure = Callable[..., Any]


@pytest.fixture
def measure(benchmark: Any) -> Measure:
    """Time ``target()`` in pedantic mode and label the benchmark for summarize.py.

    Returns a function ``measure(target, *, group, impl, dtype, flops, reference=False,
    rounds=None, **extra)`` that runs one untimed warmup round and ``RFK_BENCH_ROUNDS``
    timed rounds (or, for long fits, ``rounds`` rounds without warmup), and returns
    the last result; ``measure.record(**values)`` adds results to ``extra_info`` and
    ``measure.median()`` is the median of the timed rounds.
    ``flops`` is the GEMM flop count (None when there is no GEMM); the one
    ``reference=True`` benchmark of a group is what the others are compared with.
    """

    def run(
        target: Callable[[], Any],
        *,
        group: str,
        impl: str,
        dtype: str,
        flops: float | None,
        reference: bool = False,
        rounds: int | None = None,
        **extra: Any,
    ) -> Any:
        info = run_info()
        benchmark.group = group
        benchmark.extra_info.update(
            group=group,
            impl=impl,
            dtype=dtype,
            flops=flops,
            reference=reference,
            simd_isa=info["simd_isa"],
            threads=info["threads"],
            numpy_blas=info["numpy_blas"],
            openblas_env=info["openblas_env"],
            scale=SCALE,
            **extra,
        )
        if rounds is None:
            return benchmark.pedantic(target, rounds=ROUNDS, warmup_rounds=WARMUP_ROUNDS)
        # Long fits: the given rounds, no warmup (each round starts from a fresh model).
        return benchmark.pedantic(target, rounds=rounds, warmup_rounds=0)

    run.record = benchmark.extra_info.update  # type: ignore[attr-defined]
    run.median = lambda: benchmark.stats.stats.median  # type: ignore[attr-defined]
    return run
