"""Summarize a pytest-benchmark JSON of the rfkernels benches as markdown tables.

Usage::

    python benches/summarize.py benches/results.json > benches/summary.md

One table per benchmark group. Columns:

- median of the timed rounds (at least 3), and their min and max;
- speedup: the group reference's median divided by this median (the reference is the
  numpy expression for the transforms and scikit-learn, or numpy where it has no
  equivalent, for the kernel matrices; ">1" means faster than the reference), shown
  only for groups whose benchmarks do the same work (a benchmark recording
  ``comparable=False`` blanks its group's column);
- GFLOP/s: the GEMM flop count in ``extra_info["flops"]`` divided by the median;
- of GEMM peak: that rate as a fraction of the best numpy GEMM rate of the same dtype
  measured in the same run (bench_gemm_baseline.py: DGEMM for float64, SGEMM for
  float32), i.e. how close the whole operation gets to a bare GEMM of its size;
- for fits (bench_ridge.py): the peak resident memory above the memory in use
  before the fit, and the test mean squared error.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

Benchmark = dict[str, Any]


def format_time(seconds: float) -> str:
    """A duration in s or ms with 3 to 4 significant digits."""
    return f"{seconds:.3f} s" if seconds >= 1 else f"{seconds * 1e3:.1f} ms"


def gflops(bench: Benchmark) -> float | None:
    """The GEMM rate of a benchmark at its median time, or None if it has no GEMM."""
    flops = bench["extra_info"].get("flops")
    return flops / bench["stats"]["median"] / 1e9 if flops else None


def gemm_peaks(benchmarks: list[Benchmark]) -> dict[str, tuple[float, str]]:
    """The best GEMM baseline rate (GFLOP/s) per dtype, with the benchmark it came from."""
    peaks: dict[str, tuple[float, str]] = {}
    for bench in benchmarks:
        rate = gflops(bench)
        if bench["extra_info"].get("gemm_baseline") and rate is not None:
            dtype = bench["extra_info"]["dtype"]
            if rate > peaks.get(dtype, (0.0, ""))[0]:
                peaks[dtype] = (rate, bench["name"])
    return peaks


def group_table(benchmarks: list[Benchmark], peaks: dict[str, tuple[float, str]]) -> list[str]:
    """The markdown lines of one group's table, fastest first."""
    references = [b for b in benchmarks if b["extra_info"].get("reference")]
    comparable = all(b["extra_info"].get("comparable", True) for b in benchmarks)
    ref_median = references[0]["stats"]["median"] if references and comparable else None
    fits = any("peak_memory_bytes" in b["extra_info"] for b in benchmarks)
    header = "| benchmark | median | min-max | speedup vs reference | GFLOP/s | of GEMM peak |"
    rule = "|---|---:|---:|---:|---:|---:|"
    if fits:
        header += " peak memory above start | test MSE |"
        rule += "---:|---:|"
    lines = [header, rule]
    for bench in sorted(benchmarks, key=lambda b: b["stats"]["median"]):
        stats, info = bench["stats"], bench["extra_info"]
        rate = gflops(bench)
        peak = peaks.get(info.get("dtype", ""))
        name = bench["name"] + (" (reference)" if info.get("reference") else "")
        cells = [
            name,
            format_time(stats["median"]),
            f"{format_time(stats['min'])}-{format_time(stats['max'])}",
            f"{ref_median / stats['median']:.2f}x" if ref_median else "-",
            f"{rate:.1f}" if rate is not None else "-",
            f"{rate / peak[0]:.0%}" if rate is not None and peak else "-",
        ]
        if fits:
            memory = info.get("peak_memory_bytes")
            cells.append(f"{memory / 2**20:,.0f} MiB" if memory is not None else "-")
            cells.append(f"{info['test_mse']:.5f}" if "test_mse" in info else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def summarize(data: dict[str, Any]) -> str:
    """The whole markdown summary of a pytest-benchmark JSON document."""
    benchmarks: list[Benchmark] = data["benchmarks"]
    run = data["machine_info"].get("rfkernels_bench", {})
    peaks = gemm_peaks(benchmarks)
    out = [
        f"Run {data.get('datetime', '?')} at {data.get('commit_info', {}).get('id', '?')[:7]}"
        f" (dirty={data.get('commit_info', {}).get('dirty')}): scale={run.get('scale')}, "
        f"rounds={run.get('rounds')} (+{run.get('warmup_rounds')} warmup), "
        f"CPU={run.get('cpu_model')}, SIMD={run.get('simd_isa')}, threads={run.get('threads')}, "
        f"numpy BLAS={run.get('numpy_blas')}, OpenBLAS env={run.get('openblas_env')}.",
        "",
    ]
    names = {"float64": "DGEMM", "float32": "SGEMM"}
    for dtype, (rate, source) in sorted(peaks.items()):
        out.append(f"- {names.get(dtype, dtype)} peak: {rate:.1f} GFLOP/s ({source})")
    groups: dict[str, list[Benchmark]] = defaultdict(list)
    for bench in benchmarks:
        groups[bench.get("group") or "ungrouped"].append(bench)
    for group in sorted(groups):
        out += ["", f"### {group}", "", *group_table(groups[group], peaks)]
    return "\n".join(out)


def main() -> None:
    """Command line: print the summary of the JSON file given as argument."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path, nargs="?", default=Path("benches/results.json"))
    args = parser.parse_args()
    print(summarize(json.loads(args.json.read_text())))


if __name__ == "__main__":
    main()
