"""The header of :meth:`SweepResult.table <rfkernels.sweep.SweepResult.table>`.

One line each: what is swept; what is fixed; how the data were preprocessed, with
the test MSE of predicting the training mean for scale; and, when they apply, how
gamma was chosen, on how many rows the kernel line was fitted, and on how many the
theory measured the eigenstructure. Each line reads the same from Python and from
``rfkernels sweep``, so none names an argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._kernel_ridge_base import FIT_MATRICES

if TYPE_CHECKING:
    from ._gamma_search import GammaSearch
    from ._preprocess import Preprocessing
    from .result import SweepResult

__all__ = ["header", "kernel_name"]


def header(result: SweepResult) -> str:
    """The lines saying what is swept, fixed, preprocessed and subsampled."""
    fixed = result.fixed
    seeds = ", ".join(str(s) for s in fixed["seeds"])
    if fixed.get("feature_map") == "nystroem":
        swept = "width sweep: the number of Nystrom centers M (kernel ridge on M centers) varies"
        held = f"n = {fixed['n_samples']:,} training samples per seed"
    elif result.parameter == "n_components":
        swept = "width sweep: the number of random features D (n_components) varies"
        held = f"n = {fixed['n_samples']:,} training samples per seed"
    else:
        swept = "sample sweep: the number of training samples n varies"
        held = f"D = {fixed['n_components']:,} random features"
    lines = [
        f"{swept}.",
        f"Fixed: {held}, {fixed['n_test']:,} test samples, kernel {fixed['kernel']} "
        f"(gamma = {fixed['gamma']:.4g}{_GAMMA_RULE.get(fixed.get('gamma_rule', ''), '')}), "
        f"fit_intercept = {fixed['fit_intercept']}, seeds {seeds}.",
    ]
    if "preprocessing" in fixed:
        lines.append(_preprocessing_line(fixed["preprocessing"], fixed["baseline_test"]))
    if fixed.get("gamma_search") is not None:
        lines.append(_gamma_line(fixed["gamma_search"]))
    if "n_kernel" in fixed:
        kernel = _kernel_line(result)
        lines += [kernel] if kernel else []
    if result.theory_test is not None:
        lines.append(_theory_line(result))
    return "\n".join(lines)


#: How gamma was chosen, after its value in the "Fixed" line.
_GAMMA_RULE = {"scale": ", the 'scale' rule", "loo": ", chosen by leave-one-out"}


def _preprocessing_line(preprocessing: Preprocessing, baseline: float) -> str:
    """The features' and the targets' preprocessing, and the MSE of the training mean."""
    mask = preprocessing.standardized
    if mask.all():
        features = "every feature column standardized (mean 0, variance 1)"
    elif mask.any():
        features = (
            f"{mask.sum()} of the {mask.size} feature columns standardized (mean 0, "
            "variance 1), the others as given"
        )
    else:
        features = "feature columns as given"
    means = preprocessing.target_mean
    mean = f"mean {means[0]:,.4g}" if means.size == 1 else "their means"
    if preprocessing.scales_targets:
        scales = preprocessing.target_scale
        scale = f"{scales[0]:,.4g}" if scales.size == 1 else "their own"
        targets = (
            f"targets standardized ({mean} subtracted, divided by the standard deviation "
            f"{scale}: MSE in units of the target variance)"
        )
    elif preprocessing.centers_targets:
        targets = f"targets centered ({mean} subtracted)"
    else:
        targets = "targets as given"
    if not mask.any() and targets == "targets as given":
        text = "Preprocessing: none, features and targets as given"
    else:
        text = f"Preprocessing, learned on the training pool: {features}; {targets}"
    return f"{text}. Predicting the training mean scores test MSE {baseline:.4g}."


def _gamma_line(search: GammaSearch) -> str:
    """The leave-one-out choice of gamma: rows, grid and where the choice fell."""
    edge = "; at the edge of the grid" if search.at_edge else ""
    return (
        f"Gamma: leave-one-out of kernel ridge on {search.n_rows:,} training rows chose "
        f"{search.gamma:.4g} ({search.gamma / search.scale:.4g} x the 'scale' value "
        f"{search.scale:.4g}) among {len(search.candidates)} values from "
        f"{search.candidates[0]:.3g} to {search.candidates[-1]:.3g}{edge}."
    )


def _theory_line(result: SweepResult) -> str:
    """The rows of the theory's eigenstructure, and whether the sweep's n is beyond them."""
    rows = result.fixed["n_eigen"]
    n = result.fixed["n_samples"] if result.parameter == "n_components" else result.values.max()
    beyond = (
        f" (here n = {int(n):,}: the predictions are extrapolations, not a check)"
        if n > rows
        else ""
    )
    return (
        f"Theory: the kernel's eigenstructure measured on {rows:,} training rows; its "
        f"predictions hold for n well below that{beyond}."
    )


def _kernel_line(result: SweepResult) -> str | None:
    """How many rows the kernel line used, when not the sweep's own (``None`` when it did)."""
    fixed, rows = result.fixed, result.fixed["n_kernel"]
    if rows is None:
        return "Kernel line: not computed."
    if result.parameter == "n_components":
        n = fixed["n_samples"]
        if rows == n:
            return None
        return (
            f"Kernel line: fitted on a random {rows:,} of the {n:,} training rows (an n x n "
            f"fit on all of them would need {_gib(n)} GiB), so it is the infinite width at "
            f"n = {rows:,}."
        )
    if rows == result.values.max():
        return None
    return (
        f"Kernel line: fitted at the sizes up to n = {rows:,} (an n x n fit at "
        f"n = {int(result.values.max()):,} would need {_gib(int(result.values.max()))} GiB)."
    )


def kernel_name(result: SweepResult) -> str:
    """The kernel line in legends and findings: the infinite width, or its subsample."""
    rows = result.fixed.get("n_kernel")
    if rows is None or rows == (
        result.fixed["n_samples"] if result.parameter == "n_components" else result.values.max()
    ):
        return "kernel ridge (infinite width)"
    if result.parameter == "n_components":
        return f"kernel ridge on {rows:,} rows"
    return f"kernel ridge (infinite width), n <= {rows:,}"


def _gib(n: int) -> str:
    """The memory of a kernel fit on ``n`` rows (``FIT_MATRICES`` n x n float64), in GiB."""
    return f"{FIT_MATRICES * 8 * n**2 / 2**30:.3g}"
