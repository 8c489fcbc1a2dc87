"""The PNG figures the ``demo`` and ``sweep`` commands write, when matplotlib is installed."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..sweep import SweepResult

__all__ = ["FIGURE_DPI", "PLOT_HINT", "plotting_available", "save_figures"]

#: How to install the optional plotting dependencies, quoted when they are missing.
PLOT_HINT = "pip install 'rfkernels[plot]'"
#: Resolution of the PNG figures: 770 x 550 pixels (wider with an outside legend), 60-90 kB.
FIGURE_DPI = 110


def plotting_available() -> bool:
    """Whether matplotlib can be imported; if so, select the non-interactive Agg backend.

    Returns
    -------
    bool
        ``False`` if matplotlib is not installed.
    """
    if importlib.util.find_spec("matplotlib") is None:
        return False
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window; before pyplot is imported
    return True


def save_figures(result: SweepResult, stem: str, kinds: Sequence[str], out: Path) -> list[Path]:
    """Write ``result.plot(kind)`` for each kind to ``out / f"{stem}_{kind}.png"``.

    Parameters
    ----------
    result : SweepResult
        The sweep to draw.
    stem : str
        The start of every file name.
    kinds : sequence of str
        Kinds of :meth:`SweepResult.plot`, one file each.
    out : pathlib.Path
        The directory, created if needed.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``kinds``.
    """
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in kinds:
        figure = result.plot(kind=kind)
        path = out / f"{stem}_{kind}.png"
        figure.savefig(path, dpi=FIGURE_DPI)
        paths.append(path)
    return paths
