"""The findings of :meth:`SweepResult.summary <rfkernels.sweep.SweepResult.summary>`.

Each is one sentence with numbers from the result, at the ridge tuned by
leave-one-out: how the test MSE moves over the swept values, the tuned ridge and
the fitting ratio at the last value, and how close the theory comes.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np

from ._header import kernel_name
from ._tuning import swept_symbol

if TYPE_CHECKING:
    from .result import SweepResult

__all__ = ["paragraph", "ridge_finding", "theory_finding", "trend_finding"]


def trend_finding(result: SweepResult, tuned: dict[str, np.ndarray]) -> str:
    """The test MSE from the first to the last value, and whether it always falls."""
    symbol, first, last = swept_symbol(result), int(result.values[0]), int(result.values[-1])
    test, kernel = tuned["test"], tuned["kernel_test"]
    text = f"test MSE {test[0]:.3g} at {symbol} = {first:,} -> {test[-1]:.3g} at {last:,}"
    if np.all(np.isfinite(kernel)):
        there = "" if result.parameter == "n_components" else " there"
        text += f"; {kernel_name(result)} {kernel[-1]:.3g}{there}"
    falls = np.all(np.diff(test) <= 2 * np.nan_to_num(tuned["test_sem"][1:]))
    return text + ("; it falls at every step." if falls else ".")


def ridge_finding(result: SweepResult, tuned: dict[str, np.ndarray]) -> str:
    """The tuned ridge at the last value (also over n), and train MSE over test MSE there."""
    last = int(result.values[-1])
    n = result.fixed["n_samples"] if result.parameter == "n_components" else last
    alpha, train, test = tuned["alpha"][-1], tuned["train"][-1], tuned["test"][-1]
    return (
        f"at {swept_symbol(result)} = {last:,}: tuned alpha {alpha:.2g} (alpha / n = "
        f"{alpha / n:.1e}); train MSE {train:.3g} = {train / test:.2f} x test MSE."
    )


def theory_finding(result: SweepResult, tuned: dict[str, np.ndarray]) -> str:
    """How far the theory's test MSE is from the measured one: median and worst gap."""
    gap = tuned["theory_test"] / tuned["test"] - 1
    worst = int(np.argmax(np.abs(gap)))
    return (
        f"theory vs measured test MSE: {100 * np.median(np.abs(gap)):.0f}% apart (median), "
        f"at most {100 * gap[worst]:+.0f}% (at {swept_symbol(result)} = "
        f"{int(result.values[worst]):,}); eigenstructure measured on "
        f"{result.fixed['n_eigen']:,} training rows."
    )


def paragraph(text: str) -> str:
    """One finding of :meth:`SweepResult.summary`: indented, wrapped at 92 columns."""
    return textwrap.fill(
        " ".join(text.split()), width=92, initial_indent="  ", subsequent_indent="    "
    )
