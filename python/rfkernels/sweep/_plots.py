"""The figures of :meth:`SweepResult.plot <rfkernels.sweep.SweepResult.plot>`.

:data:`DRAW` maps each kind to the function that draws it on a matplotlib ``Axes``:
the risks at the tuned ridge against the swept value (``"tuned"``), the test risk
against the ridge (``"ridge"``) and the fitting ratio (``"fit"``). The helpers at the
end set ticks and limits of the log axes. matplotlib is imported by the caller, or
here inside the functions, only when a figure is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ._header import kernel_name
from ._tuning import at, swept_symbol, tuned_index

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .result import SweepResult

__all__ = ["DRAW"]

#: The swept parameter in words, on the x axis.
AXIS_LABEL = {
    "n_components": "number of random features D (width)",
    "n_samples": "number of training samples n",
}


def axis_label(result: SweepResult) -> str:
    """The x axis of ``result``'s figures: what it swept, in words."""
    if result.fixed.get("feature_map") == "nystroem":
        return "number of Nystrom centers M (width)"
    return AXIS_LABEL[result.parameter]


def _tuned(result: SweepResult, ax: Axes) -> None:
    """Test and train MSE at the tuned ridge against the swept value (``kind="tuned"``)."""
    tuned, index = result.tuned(), result.tuned_index()
    x = result.values
    for name, style, shade in (("test", "o-", 0.25), ("train", "o:", 0.12)):
        per_seed = at(getattr(result, name), index)
        ax.fill_between(x, per_seed.min(axis=0), per_seed.max(axis=0), color="C0", alpha=shade)
        ax.plot(x, tuned[name], style, color="C0", label=f"{name} MSE, experiment")
    if result.theory_test is not None:
        ax.plot(x, tuned["theory_test"], "-", color="C1", label="test MSE, theory")
        ax.plot(x, tuned["theory_train"], ":", color="C1", label="train MSE, theory")
    if result.kernel_test is not None:
        label = f"test MSE, {kernel_name(result)}"
        if result.parameter == "n_components":
            ax.axhline(tuned["kernel_test"][0], color="k", linestyle="--", label=label)
        else:
            ax.plot(x, tuned["kernel_test"], "s--", color="k", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log", nonpositive="mask")
    _value_ticks(ax, x)
    _clip_bottom(ax, np.nanmin(tuned["test"]))
    ax.set_xlabel(axis_label(result))
    ax.set_ylabel("mean squared error")
    ax.set_title(
        f"Risk at the ridge tuned by leave-one-out ({_seed_note(result)})\n{_fixed_note(result)}",
        fontsize="medium",
    )
    ax.legend(fontsize="small")


def _ridge(result: SweepResult, ax: Axes) -> None:
    """Test MSE against the ridge, one curve per value (``kind="ridge"``)."""
    from matplotlib.lines import Line2D

    positive = result.alphas > 0
    grid = result.alphas[positive]
    has_zero = not positive.all()
    step = grid[1] / grid[0] if len(grid) > 1 else 10.0
    left = grid[0] / step**3 if len(grid) else 1.0  # where alpha = 0 is drawn
    handles = []
    for v, value in enumerate(result.values):
        color = f"C{v % 10}"
        mean = result.test[:, v].mean(axis=0)
        ax.plot(grid, mean[positive], "-", color=color)
        handles.append(Line2D([], [], color=color, label=f"{swept_symbol(result)} = {value}"))
        if has_zero:
            ax.plot([left], mean[~positive], "o", color=color)
        if result.theory_test is not None:
            ax.plot(grid, result.theory_test[v, positive], "--", color=color)
            if has_zero:
                ax.plot([left], result.theory_test[v, ~positive], "x", color=color)
    if result.kernel_test is not None and result.parameter == "n_components":
        mean = result.kernel_test[:, 0].mean(axis=0)
        ax.plot(grid, mean[positive], "-", color="k", linewidth=2)
        if has_zero:
            ax.plot([left], mean[~positive], "o", color="k")
        if result.theory_kernel_test is not None:
            ax.plot(grid, result.theory_kernel_test[0, positive], "--", color="k")
        handles.append(Line2D([], [], color="k", linewidth=2, label=kernel_name(result)))
    handles += [
        Line2D([], [], color="0.4", linestyle="-", label="experiment (mean over seeds)"),
    ]
    if result.theory_test is not None:
        handles.append(Line2D([], [], color="0.4", linestyle="--", label="theory"))
    ax.set_xscale("log")
    ax.set_yscale("log", nonpositive="mask")
    if has_zero and len(grid):
        _zero_ridge_axis(ax, left, grid)
        _clip_top(ax, result.test[:, :, positive].mean(axis=0), left)
    ax.set_xlabel("ridge alpha (scikit-learn's alpha: the penalty on ||coef||^2, not divided by n)")
    ax.set_ylabel("test mean squared error")
    ax.set_title(
        f"Test risk against the ridge ({_seed_note(result)})\n{_fixed_note(result)}",
        fontsize="medium",
    )
    ax.legend(handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _fit(result: SweepResult, ax: Axes) -> None:
    """Train MSE / test MSE at the tuned ridge against the swept value (``kind="fit"``)."""
    index, x = result.tuned_index(), result.values
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = at(result.train, index) / at(result.test, index)
    ax.fill_between(x, ratio.min(axis=0), ratio.max(axis=0), color="C0", alpha=0.25)
    ax.plot(x, ratio.mean(axis=0), "o-", color="C0", label="experiment (mean over seeds)")
    if result.theory_test is not None and result.theory_train is not None:
        values = np.arange(len(x))
        with np.errstate(divide="ignore", invalid="ignore"):
            predicted = result.theory_train[values, index] / result.theory_test[values, index]
        ax.plot(x, predicted.mean(axis=0), "-", color="C1", label="theory")
    if result.kernel_loo is not None:
        kernel_index = tuned_index(result.kernel_loo, result.alphas)
        with np.errstate(divide="ignore", invalid="ignore"):
            kernel = at(result.kernel_train, kernel_index) / at(result.kernel_test, kernel_index)
        label = kernel_name(result)
        if result.parameter == "n_components":
            ax.axhline(kernel.mean(), color="k", linestyle="--", label=label)
        else:
            ax.plot(x, kernel.mean(axis=0), "s--", color="k", label=label)
    ax.set_xscale("log")
    _value_ticks(ax, x)
    top = np.nanmax(ratio, initial=1.0)
    ax.set_ylim(0.0, max(1.05, 1.05 * top) if np.isfinite(top) else 1.05)
    ax.set_xlabel(axis_label(result))
    ax.set_ylabel("fitting ratio: train MSE / test MSE\n(0: interpolation, 1: no overfitting)")
    ax.set_title(
        f"Train vs test risk at the ridge tuned by leave-one-out ({_seed_note(result)})\n"
        f"{_fixed_note(result)}",
        fontsize="medium",
    )
    ax.legend(fontsize="small")


def _fixed_note(result: SweepResult) -> str:
    """The second line of a title: the kernel, gamma and what is held fixed."""
    fixed = result.fixed
    held = (
        f"n = {fixed['n_samples']:,}"
        if result.parameter == "n_components"
        else f"D = {fixed['n_components']:,}"
    )
    return f"{fixed['kernel']} kernel, gamma = {fixed['gamma']:.3g}, {held}"


def _seed_note(result: SweepResult) -> str:
    """How many seeds the curves average, for the title."""
    count = result.test.shape[0]
    return f"{count} seed" + ("" if count == 1 else "s")


#: The drawing function of each kind of :meth:`SweepResult.plot`.
DRAW: dict[str, Callable[[SweepResult, Axes], None]] = {
    "tuned": _tuned,
    "ridge": _ridge,
    "fit": _fit,
}


def _value_ticks(ax: Axes, values: np.ndarray) -> None:
    """Label the swept values themselves on a log axis (when there are few)."""
    if len(values) <= 12:
        from matplotlib.ticker import NullLocator

        ax.set_xticks(values, labels=[str(v) for v in values])
        ax.xaxis.set_minor_locator(NullLocator())


def _clip_bottom(ax: Axes, smallest_test: float) -> None:
    """Keep near-zero training errors (interpolation) from squashing a log axis."""
    bottom, top = ax.get_ylim()
    if np.isfinite(smallest_test) and smallest_test > 0 and bottom < 1e-3 * smallest_test:
        ax.set_ylim(1e-3 * smallest_test, top)


def _clip_top(ax: Axes, curves: np.ndarray, left: float) -> None:
    """Cap a log axis at 10x the highest curve at positive ridges.

    Zero-ridge points above the cap (the interpolation peak) are drawn as labelled
    triangles on the top edge instead of stretching the axis over decades.
    """
    finite = curves[np.isfinite(curves)]
    if finite.size == 0:
        return
    bottom, top = ax.get_ylim()
    cap = 10.0 * finite.max()
    if top <= cap:
        return
    ax.set_ylim(bottom, cap)
    off_scale = 0
    for line in list(ax.lines):
        x, y = (np.asarray(values, dtype=float) for values in line.get_data())
        if x.size == 1 and x[0] == left and not y[0] <= cap:
            line.set_data([left], [cap])
            line.set_marker("^")
            ax.annotate(
                f"{y[0]:.3g}" if np.isfinite(y[0]) else "inf",
                (left, cap),
                xytext=(8, -12 - 11 * off_scale),
                textcoords="offset points",
                fontsize="small",
                color=line.get_color(),
            )
            off_scale += 1


def _zero_ridge_axis(ax: Axes, left: float, grid: np.ndarray) -> None:
    """Ticks at the decades of ``grid`` and a "0" tick at ``left``, past a dotted break."""
    from matplotlib.ticker import NullLocator

    decades = np.arange(math.ceil(np.log10(grid[0])), math.floor(np.log10(grid[-1])) + 1)
    ax.set_xticks(
        np.concatenate([[left], 10.0**decades]),
        labels=["0"] + [f"$10^{{{int(e)}}}$" for e in decades],
    )
    ax.xaxis.set_minor_locator(NullLocator())
    ax.axvline(np.sqrt(left * grid[0]), color="0.6", linestyle=":", linewidth=1)
    ax.set_xlim(left / 2, grid[-1] * 2)
