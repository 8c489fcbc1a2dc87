"""The result of a sweep: its tables, summary, long-format frame and figures.

:class:`SweepResult` holds what :func:`rfkernels.sweep.width_sweep`,
:func:`~rfkernels.sweep.sample_sweep` and :func:`~rfkernels.sweep.ridge_sweep` measured
(train, test and leave-one-out errors at every value, ridge and seed, the kernel line
and the theory) and presents it; the sweeps themselves are in :mod:`rfkernels.sweep`
and the figures are drawn in ``rfkernels.sweep._plots``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _plots
from ._findings import paragraph, ridge_finding, theory_finding, trend_finding
from ._header import header as table_header
from ._tuning import at, sem, swept_symbol, tuned_index

if TYPE_CHECKING:
    import pandas
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PLOT_KINDS", "SweepResult"]

#: The kinds of :meth:`SweepResult.plot`.
PLOT_KINDS = ("tuned", "ridge", "fit")


@dataclass(frozen=True, eq=False)
class SweepResult:
    """Train, test and leave-one-out risks of a sweep, at every ridge, with kernel and theory.

    Returned by :func:`~rfkernels.sweep.width_sweep`,
    :func:`~rfkernels.sweep.sample_sweep` and :func:`~rfkernels.sweep.ridge_sweep`. All
    risks are mean squared errors, averaged over the rows and over the outputs (as
    ``RidgeCV.cv_results_``), in float64.

    Attributes
    ----------
    parameter : {"n_components", "n_samples"}
        What is swept: the width ``D`` or the number of training samples ``n``.
    values : ndarray of shape (n_values,)
        The swept widths or training sizes, ascending.
    alphas : ndarray of shape (n_alphas,)
        The ridge grid shared by every value and seed, ascending.
    train, test, loo : ndarray of shape (n_seeds, n_values, n_alphas)
        Training, test and exact leave-one-out MSE of random-feature ridge regression.
    kernel_train, kernel_test, kernel_loo : ndarray of shape (n_seeds, n_values, n_alphas) or None
        The same for :class:`rfkernels.KernelRidge` (infinite width) on the same rows;
        for a width sweep the same for every value. ``None`` with ``exact_kernel=False``.
        With ``exact_kernel="auto"``, a width sweep's kernel line may be fitted on a
        subsample of the training rows, and a sample sweep's is NaN at the sizes
        above its ``n_kernel`` (``fixed["n_kernel"]`` gives the rows used).
    theory_train, theory_test : ndarray of shape (n_values, n_alphas) or None
        :func:`rfkernels.theory.rf_risk` predictions, divided by the number of
        outputs. ``None`` with ``theory=False``.
    theory_kernel_train, theory_kernel_test : ndarray of shape (n_values, n_alphas) or None
        :func:`rfkernels.theory.krr_risk` predictions (infinite width), likewise.
    fixed : dict
        Everything else: ``kernel``, ``gamma`` (the number used), ``bias``, ``fourier``,
        ``sampling``, ``n_samples`` (width sweeps) or ``n_components`` (sample sweeps), ``n_pool``
        (rows the training sets are drawn from), ``n_test``, ``n_outputs``, ``seeds``,
        ``fit_intercept``, ``gamma_rule`` (``"scale"``, ``"loo"`` or ``"given"``),
        ``gamma_search`` (with ``gamma="loo"``, the candidates and their leave-one-out
        errors; else ``None``), ``preprocessing`` (the means and scales learned on the
        training pool, see ``standardize``), ``baseline_test`` (the test MSE of
        predicting the training pool's mean targets), ``exact_kernel`` (as given),
        ``n_kernel`` (the most training rows the kernel line used, ``None`` without
        it) and, with the theory, ``n_eigen`` and the exponents ``eigen_alpha`` and
        ``eigen_beta`` of the estimated eigenstructure.
    default_plot : str
        The kind :meth:`plot` draws by default: "ridge" for :func:`~rfkernels.sweep.ridge_sweep`,
        "tuned" otherwise.
    """

    parameter: str
    values: np.ndarray
    alphas: np.ndarray
    train: np.ndarray
    test: np.ndarray
    loo: np.ndarray
    kernel_train: np.ndarray | None
    kernel_test: np.ndarray | None
    kernel_loo: np.ndarray | None
    theory_train: np.ndarray | None
    theory_test: np.ndarray | None
    theory_kernel_train: np.ndarray | None
    theory_kernel_test: np.ndarray | None
    fixed: dict
    default_plot: str = "tuned"

    def __repr__(self) -> str:
        seeds, _, alphas = self.test.shape
        return (
            f"SweepResult({self.parameter}={self.values.tolist()}, {alphas} alphas, "
            f"{seeds} seeds, kernel={self.kernel_test is not None}, "
            f"theory={self.theory_test is not None})"
        )

    # ------------------------------------------------------------------ selection

    def tuned_index(self) -> np.ndarray:
        """Index in ``alphas`` of the ridge leave-one-out chooses, per seed and value.

        Returns
        -------
        index : ndarray of int of shape (n_seeds, n_values)
            The argmin of ``loo`` over the grid; errors within a relative 1e-10 of
            the smallest are ties, won by the largest ridge (as the estimators'
            ``alpha_``).
        """
        return tuned_index(self.loo, self.alphas)

    def tuned(self) -> dict[str, np.ndarray]:
        """Risks at the ridge tuned by leave-one-out, per value.

        Returns
        -------
        tuned : dict of str to ndarray of shape (n_values,)
            - ``"alpha"``: median over seeds of the tuned ridge;
            - ``"train"``, ``"test"``: mean over seeds of the MSE at each seed's
              tuned ridge; ``"train_sem"``, ``"test_sem"``: their standard errors
              (``std / sqrt(n_seeds)``, NaN for one seed);
            - ``"theory_train"``, ``"theory_test"``: the prediction at each seed's
              tuned ridge, averaged over seeds (NaN without theory);
            - ``"kernel_train"``, ``"kernel_test"``: kernel ridge at its own
              leave-one-out ridge, mean over seeds (NaN without the kernel);
              ``"theory_kernel_test"``: the kernel prediction at those ridges.
        """
        index = self.tuned_index()
        train, test = at(self.train, index), at(self.test, index)
        values = np.arange(len(self.values))
        nan = np.full(len(self.values), np.nan)
        result = {
            "alpha": np.median(self.alphas[index], axis=0),
            "train": train.mean(axis=0),
            "train_sem": sem(train),
            "test": test.mean(axis=0),
            "test_sem": sem(test),
            "theory_train": nan,
            "theory_test": nan,
            "kernel_train": nan,
            "kernel_test": nan,
            "theory_kernel_test": nan,
        }
        if self.theory_test is not None and self.theory_train is not None:
            result["theory_train"] = self.theory_train[values, index].mean(axis=0)
            result["theory_test"] = self.theory_test[values, index].mean(axis=0)
        if self.kernel_loo is not None:
            kernel_index = tuned_index(self.kernel_loo, self.alphas)
            result["kernel_train"] = at(self.kernel_train, kernel_index).mean(axis=0)
            result["kernel_test"] = at(self.kernel_test, kernel_index).mean(axis=0)
            if self.theory_kernel_test is not None:
                chosen = self.theory_kernel_test[values, kernel_index]
                result["theory_kernel_test"] = chosen.mean(axis=0)
        return result

    # ------------------------------------------------------------------ reports

    def table(self) -> str:
        """A plain-text table of the risks at the tuned ridge, one row per value.

        Returns
        -------
        str
            A header saying what is swept and fixed, then per value: the tuned
            ridge (median over seeds), train and test MSE (mean over seeds, test
            with its standard error), the theory's test MSE and the kernel's.
        """
        tuned = self.tuned()
        symbol = swept_symbol(self)
        header = (
            f"{symbol:>8}  {'tuned alpha':>11}  {'train MSE':>10}  {'test MSE (+- sem)':>20}  "
            f"{'theory test':>11}  {'kernel test':>11}"
        )
        lines = [
            table_header(self),
            f"Ridge alpha chosen per seed by exact leave-one-out among {len(self.alphas)} "
            f"values; MSE averaged over {self.test.shape[0]} seed(s) and the outputs. Theory: "
            "eigenlearning prediction at the same ridges; kernel: KernelRidge (infinite "
            "width) at its own leave-one-out ridge.",
            "",
            header,
            "-" * len(header),
        ]
        for v, value in enumerate(self.values):
            sem = tuned["test_sem"][v]
            test = f"{tuned['test'][v]:.4g}" + ("" if np.isnan(sem) else f" +- {sem:.2g}")
            lines.append(
                f"{value:>8}  {tuned['alpha'][v]:>11.3g}  {tuned['train'][v]:>10.4g}  "
                f"{test:>20}  {_cell(tuned['theory_test'][v]):>11}  "
                f"{_cell(tuned['kernel_test'][v]):>11}"
            )
        return "\n".join(lines)

    def summary(self) -> str:
        """What the tuned curve shows, in a few sentences with numbers from the result.

        Returns
        -------
        str
            One paragraph per finding, indented by two spaces and wrapped at 92
            columns: the test MSE at the first and the last value (and the
            kernel's, if computed) and whether it falls at every step (by at most
            two standard errors' rise); the tuned ridge at the last value, also
            divided by ``n``, and its train MSE as a multiple of its test MSE; with
            the theory, how far the predicted test MSE is from the measured one.

        See Also
        --------
        table : The risks at the tuned ridge, one row per value.

        Examples
        --------
        >>> from sklearn.datasets import make_friedman1
        >>> from rfkernels.sweep import width_sweep
        >>> X, y = make_friedman1(n_samples=200, noise=0.1, random_state=0)
        >>> result = width_sweep(X, y, [16, 64], seeds=(0, 1), n_eigen=150, progress=False)
        >>> print(result.summary())  # doctest: +ELLIPSIS
          test MSE ... at D = 16 -> ... at 64; kernel ridge (infinite width) ...
          at D = 64: tuned alpha ... (alpha / n = ...); train MSE ... x test MSE.
          theory vs measured test MSE: ...% apart (median), at most ...% (at D = ...
        """
        tuned = self.tuned()
        findings = [trend_finding(self, tuned), ridge_finding(self, tuned)]
        if np.all(np.isfinite(tuned["theory_test"])):
            findings.append(theory_finding(self, tuned))
        return "\n".join(paragraph(text) for text in findings)

    def ridge_table(self) -> str:
        """A plain-text table of the test MSE at zero ridge and at the tuned ridge, per width.

        Returns
        -------
        str
            A header, then per width: the test MSE at ``alpha = 0`` (mean over
            seeds; ``inf`` where the fit blows up), the theory's prediction there,
            the tuned ridge (median over seeds) and the test MSE at it (mean over
            seeds). The width ``D = n`` is marked as the interpolation peak. A last
            row gives the kernel (infinite width), if computed.

        Raises
        ------
        ValueError
            If the result is not a width sweep, or its ridge grid does not start at
            ``alpha = 0`` (``alphas="auto"`` does).

        See Also
        --------
        table : The risks at the tuned ridge, with train MSE and standard errors.

        Examples
        --------
        >>> from sklearn.datasets import make_friedman1
        >>> from rfkernels.sweep import ridge_sweep
        >>> X, y = make_friedman1(n_samples=200, noise=0.1, random_state=0)
        >>> result = ridge_sweep(X, y, widths=[16, 150], seeds=(0, 1), n_eigen=150, progress=False)
        >>> print(result.ridge_table())  # doctest: +ELLIPSIS
               D  test MSE, alpha = 0  theory, alpha = 0  tuned alpha  test MSE, tuned
        ------------------------------------------------------------------------------
              16  ...
             150  ...  <- D = n: the interpolation peak
          kernel  ...
        """
        if self.parameter != "n_components":
            raise ValueError(
                f"ridge_table() needs a width sweep (width_sweep or ridge_sweep), not a sweep "
                f"over {self.parameter}"
            )
        if self.alphas[0] != 0:
            raise ValueError(
                f"ridge_table() needs a ridge grid that starts at alpha = 0 (as alphas='auto' "
                f"does); this one starts at {self.alphas[0]:.3g}"
            )
        tuned, n = self.tuned(), self.fixed["n_samples"]
        header = (
            f"{'D':>8}  {'test MSE, alpha = 0':>19}  {'theory, alpha = 0':>17}  "
            f"{'tuned alpha':>11}  {'test MSE, tuned':>15}"
        )
        lines = [header, "-" * len(header)]
        theory = self.theory_test
        for v, width in enumerate(self.values):
            predicted = _mse_cell(theory[v, 0]) if theory is not None else "-"
            note = "  <- D = n: the interpolation peak" if width == n else ""
            lines.append(
                f"{width:>8}  {_mse_cell(self.test[:, v, 0].mean()):>19}  {predicted:>17}  "
                f"{tuned['alpha'][v]:>11.3g}  {tuned['test'][v]:>15.4g}{note}"
            )
        if self.kernel_test is not None:
            kernel_theory = self.theory_kernel_test
            predicted = _mse_cell(kernel_theory[0, 0]) if kernel_theory is not None else "-"
            lines.append(
                f"{'kernel':>8}  {_mse_cell(self.kernel_test[:, 0, 0].mean()):>19}  "
                f"{predicted:>17}  {'':>11}  {_mse_cell(tuned['kernel_test'][0]):>15}"
            )
        return "\n".join(lines)

    def to_frame(self) -> pandas.DataFrame:
        """The risks in long format: one row per seed, value and ridge.

        Returns
        -------
        pandas.DataFrame
            Columns ``seed``, ``value`` (the swept width or size; ``frame.attrs
            ["parameter"]`` says which), ``alpha``, ``tuned`` (whether leave-one-out
            chose this ridge for this seed and value), ``train``, ``test``, ``loo``,
            ``theory_train``, ``theory_test``, ``kernel_train``, ``kernel_test``,
            ``kernel_loo``, ``theory_kernel_train``, ``theory_kernel_test`` (NaN
            where not computed).

        Raises
        ------
        ImportError
            If pandas is not installed (``pip install 'rfkernels[plot]'``).
        """
        pd = _require("pandas", "to_frame")
        n_seeds, n_values, n_alphas = self.test.shape
        shape = (n_seeds, n_values, n_alphas)
        seeds = np.asarray(self.fixed["seeds"])
        tuned = np.zeros(shape, dtype=bool)
        np.put_along_axis(tuned, self.tuned_index()[..., None], True, axis=2)

        def column(values: np.ndarray | None, per_seed: bool = True) -> np.ndarray:
            if values is None:
                return np.full(tuned.size, np.nan)
            return np.broadcast_to(values if per_seed else values[None], shape).ravel()

        frame = pd.DataFrame(
            {
                "seed": np.broadcast_to(seeds[:, None, None], shape).ravel(),
                "value": np.broadcast_to(self.values[None, :, None], shape).ravel(),
                "alpha": np.broadcast_to(self.alphas, shape).ravel(),
                "tuned": tuned.ravel(),
                "train": column(self.train),
                "test": column(self.test),
                "loo": column(self.loo),
                "theory_train": column(self.theory_train, per_seed=False),
                "theory_test": column(self.theory_test, per_seed=False),
                "kernel_train": column(self.kernel_train),
                "kernel_test": column(self.kernel_test),
                "kernel_loo": column(self.kernel_loo),
                "theory_kernel_train": column(self.theory_kernel_train, per_seed=False),
                "theory_kernel_test": column(self.theory_kernel_test, per_seed=False),
            }
        )
        frame.attrs["parameter"] = self.parameter
        return frame

    # ------------------------------------------------------------------ figures

    def plot(self, kind: str | None = None, ax: Axes | None = None) -> Figure:
        """Draw one of the paper's figures.

        Parameters
        ----------
        kind : {"tuned", "ridge", "fit"} or None, default=None
            - ``"tuned"``: test (solid) and train (dotted) MSE at the ridge tuned by
              leave-one-out against the swept value, log-log: mean over seeds with
              a min-to-max band, the theory as thin lines, the kernel (infinite
              width) as a horizontal line (width sweeps) or a curve (sample sweeps);
            - ``"ridge"``: test MSE against the ridge for every value (mean over
              seeds), the theory dashed; ``alpha = 0`` is drawn at the left edge
              past a dotted break, with a tick labelled 0;
            - ``"fit"``: the fitting ratio train MSE / test MSE at the tuned ridge
              against the swept value, with the theory's.

            ``None`` draws ``default_plot``.
        ax : matplotlib.axes.Axes, default=None
            Axes to draw on; ``None`` makes a new figure (without pyplot).

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on.

        Raises
        ------
        ImportError
            If matplotlib is not installed (``pip install 'rfkernels[plot]'``).
        """
        kind = self.default_plot if kind is None else kind
        if kind not in PLOT_KINDS:
            raise ValueError(f"kind must be one of {PLOT_KINDS} or None, got {kind!r}")
        figure_module = _require("matplotlib.figure", "plot")
        if ax is None:
            size = (8.5, 5.0) if kind == "ridge" else (7.0, 5.0)  # the ridge legend is outside
            figure = figure_module.Figure(figsize=size, layout="constrained")
            ax = figure.add_subplot()
        else:
            figure = ax.figure
        _plots.DRAW[kind](self, ax)
        return figure


def _cell(value: float) -> str:
    """A risk in :meth:`SweepResult.table`: 4 significant digits, ``-`` where not computed."""
    return "-" if np.isnan(value) else f"{value:.4g}"


def _mse_cell(value: float) -> str:
    """A risk in :meth:`SweepResult.ridge_table`: 3 significant digits, ``inf`` at a blow-up."""
    return "inf" if np.isinf(value) else f"{value:.3g}"


def _require(module: str, method: str) -> Any:
    """Import an optional dependency, or say which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = module.split(".")[0]
        raise ImportError(
            f"SweepResult.{method}() needs {package}, an optional dependency: install the "
            "`plot` extra with pip install 'rfkernels[plot]'"
        ) from error
