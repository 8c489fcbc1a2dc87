"""Bad input everywhere: hypothesis feeds odd arrays to every public entry point.

``TARGETS`` holds every estimator method and public function that takes data arrays
(``rfkernels.__all__``, ``kernels.kernel_matrix``, ``RowBatches``, the theory, sweep and
leverage functions). For each category of input, hypothesis draws a target, the
shape, the data and the position of the odd entry, and checks one property:

- **invalid** input (NaN or infinity, wrong lengths or dimensions, no rows or no
  columns, strings, ``None``, complex numbers, ragged rows, pandas frames with missing
  values, a classifier's single class) raises a ``ValueError``, ``TypeError`` or
  ``MemoryError`` whose message names the argument (``X``, ``y``, ``sample_weight``,
  ``Y``, ``eigenvalues`` ...);
- **layouts**: the same data in another form (big-endian, read-only, strided, reversed,
  Fortran order, integers, lists, pandas) gives bit for bit the output of the native
  C-contiguous float64 array;
- **magnitudes**: values far from 1 whose squares fit in float64 (1e150, 1e-150; y at
  1e-300) give finite output, and values whose squares do not (1e300; X at
  1e-300, whose scale sets ``gamma="scale"``) give finite output or a ``ValueError``
  naming the argument: never a NaN.

Never a panic: a Rust panic is a ``pyo3_runtime.PanicException``, a ``BaseException``
that ``except Exception`` lets through, so every call runs under ``except
BaseException`` and anything but the three exceptions fails the test. With
``filterwarnings = error`` a numpy ``RuntimeWarning`` or ``ComplexWarning`` fails it
too. A hang would hit the suite's per-test timeout.

tests/test_errors.py is the fixed table of bad inputs with their exact messages
(parameters, overflowing features, memory, negative weights, the core bindings); this
module does not repeat those categories. Each category runs the hypothesis profile's
``max_examples`` (tests/conftest.py); what was tried is counted per category and
printed at the end of the module (and as hypothesis events).
"""

from __future__ import annotations

import collections
import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from rfkernels import (
    KernelRidge,
    KernelRidgeClassifier,
    Nystroem,
    RandomFeatureRidge,
    RandomFeatureRidgeClassifier,
    RandomFeatures,
    RowBatches,
)
from rfkernels.kernels import kernel_matrix
from rfkernels.leverage import approximate_leverage_scores
from rfkernels.sweep import width_sweep
from rfkernels.theory import estimate_eigenstructure, fit_powerlaw, krr_risk, rf_risk

HAS_PANDAS = importlib.util.find_spec("pandas") is not None
DATA = ("X", "y", "sample_weight")
SPECTRUM = ("eigenvalues", "target_coeffs")
#: What was tried: (property, category) -> examples, target -> examples, and the
#: (category, target) pairs reached out of those that apply.
TRIED: collections.Counter = collections.Counter()
TARGETS_TRIED: collections.Counter = collections.Counter()
PAIRS_TRIED: set = set()
PAIRS: set = set()

Inputs = dict[str, Any]  # role ("X", "y", "sample_weight", "eigenvalues", ...) -> argument


# ---------------------------------------------------------------------- the targets


@dataclass(frozen=True)
class Target:
    """One entry point: ``call(given, clean)`` returns the arrays it outputs.

    ``clean`` is the same problem without the odd input: methods such as ``predict``
    run on a model fitted on it, and fits are judged by their output on the clean
    rows. ``names`` maps a role to the argument's name where the two differ.
    """

    call: Callable[[Inputs, Inputs], list]
    takes: tuple[str, ...] = DATA
    labels: bool = False
    min_rows: int = 6
    names: dict = field(default_factory=dict)

    def argument(self, role: str) -> str:
        return self.names.get(role, role)

    def __call__(self, given: Inputs, clean: Inputs) -> list:
        """The outputs of the call on the roles of ``given`` it takes."""
        return self.call({role: given[role] for role in self.takes}, clean)


def _fit(model, inputs: Inputs, method: str = "fit", **extra):
    """``model.method(X, y, sample_weight=...)`` with the arguments ``inputs`` holds."""
    weights = inputs.get("sample_weight")
    extra = extra if weights is None else {**extra, "sample_weight": weights}
    return getattr(model, method)(inputs["X"], inputs.get("y"), **extra)


def fitted(make: Callable, output: str, method: str = "fit", classes: bool = False) -> Callable:
    """``make().method`` on the given data, judged by ``output`` on the clean rows.

    ``classes``: pass the clean labels' classes (a classifier's first ``partial_fit``).
    """

    def call(given: Inputs, clean: Inputs) -> list:
        extra = {"classes": np.unique(clean["y"])} if classes else {}
        return [getattr(_fit(make(), given, method, **extra), output)(clean["X"])]

    return call


def applied(make: Callable, output: str, fit_with: tuple[str, ...] = DATA) -> Callable:
    """``output`` (transform, predict ...) of the given rows, by a model fitted on the clean."""

    def call(given: Inputs, clean: Inputs) -> list:
        model = _fit(make(), {role: clean[role] for role in fit_with})
        return [getattr(model, output)(given["X"])]

    return call


def batched(make: Callable, output: str) -> Callable:
    """A fit on ``RowBatches.from_arrays`` of the given data, 4 rows per batch.

    The batches need a ``y``: the clean one for a transformer, which ignores it.
    """

    def call(given: Inputs, clean: Inputs) -> list:
        y = given.get("y", clean["y"])
        rows = RowBatches.from_arrays(given["X"], y, given.get("sample_weight"), batch_rows=4)
        return [getattr(make().fit(rows), output)(clean["X"])]

    return call


# The models, small and seeded (called anew for every fit).
_features = partial(RandomFeatures, n_components=8, random_state=0)
_nystroem = partial(Nystroem, n_components=4, random_state=0)
_primal = partial(RandomFeatureRidge, n_components=4, random_state=0)
_dual = partial(RandomFeatureRidge, n_components=64, random_state=0)
_classifier = partial(RandomFeatureRidgeClassifier, n_components=4, random_state=0)
_eigen_centers = partial(KernelRidge, n_centers=4, random_state=0)
_cg_centers = partial(KernelRidge, n_centers=4, solver="cg", random_state=0)


def _eigenstructure(given: Inputs, clean: Inputs) -> list:
    result = estimate_eigenstructure(given["X"], given["y"], random_state=0)
    return [result.eigenvalues, result.target_coeffs]


def _sweep(given: Inputs, clean: Inputs) -> list:
    result = width_sweep(given["X"], given["y"], [2, 4], seeds=(0,), theory=False, progress=False)
    return [result.test, result.train]


def _risks(risk: Callable) -> Callable:
    def call(given: Inputs, clean: Inputs) -> list:
        result = risk(given["eigenvalues"], given["target_coeffs"])
        return [result.test, result.train]

    return call


X_ONLY, X_WEIGHTS, X_Y = ("X",), ("X", "sample_weight"), ("X", "y")
TARGETS = {
    "RandomFeatures.fit": Target(fitted(_features, "transform"), X_WEIGHTS),
    "RandomFeatures.transform": Target(applied(_features, "transform"), X_ONLY),
    "Nystroem.fit": Target(fitted(_nystroem, "transform"), X_ONLY),
    "Nystroem.transform": Target(applied(_nystroem, "transform", X_ONLY), X_ONLY),
    "RandomFeatureRidge.fit-primal": Target(fitted(_primal, "predict")),
    "RandomFeatureRidge.fit-dual": Target(fitted(_dual, "predict")),
    "RandomFeatureRidge.partial_fit": Target(fitted(_primal, "predict", "partial_fit")),
    "RandomFeatureRidge.predict": Target(applied(_primal, "predict"), X_ONLY),
    "RandomFeatureRidgeClassifier.fit": Target(
        fitted(_classifier, "decision_function"), labels=True
    ),
    "RandomFeatureRidgeClassifier.partial_fit": Target(
        fitted(_classifier, "decision_function", "partial_fit", classes=True), labels=True
    ),
    "RandomFeatureRidgeClassifier.decision_function": Target(
        applied(_classifier, "decision_function"), X_ONLY, labels=True
    ),
    "KernelRidge.fit-exact": Target(fitted(KernelRidge, "predict")),
    "KernelRidge.fit-nystrom-eigen": Target(fitted(_eigen_centers, "predict")),
    "KernelRidge.fit-nystrom-cg": Target(fitted(_cg_centers, "predict")),
    "KernelRidge.predict": Target(applied(KernelRidge, "predict"), X_ONLY),
    "KernelRidgeClassifier.fit": Target(
        fitted(KernelRidgeClassifier, "decision_function"), labels=True
    ),
    "KernelRidgeClassifier.decision_function": Target(
        applied(KernelRidgeClassifier, "decision_function"), X_ONLY, labels=True
    ),
    "RowBatches-RandomFeatures.fit": Target(batched(_features, "transform"), X_WEIGHTS),
    "RowBatches-RandomFeatureRidge.fit": Target(batched(_primal, "predict")),
    "RowBatches-RandomFeatureRidgeClassifier.fit": Target(
        batched(_classifier, "decision_function"), labels=True
    ),
    "RowBatches-KernelRidge.fit-nystrom": Target(batched(_eigen_centers, "predict")),
    "kernel_matrix(X)": Target(lambda given, clean: [kernel_matrix(given["X"])], X_ONLY),
    "kernel_matrix(X, Y)": Target(
        lambda given, clean: [kernel_matrix(clean["X"], given["X"])], X_ONLY, names={"X": "Y"}
    ),
    "approximate_leverage_scores": Target(
        lambda given, clean: [approximate_leverage_scores(given["X"], 4, random_state=0).scores],
        X_ONLY,
    ),
    "estimate_eigenstructure": Target(_eigenstructure, X_Y, min_rows=48),
    "width_sweep": Target(_sweep, X_Y, min_rows=12),
    "krr_risk": Target(_risks(lambda e, c: krr_risk(e, c, 10, 0.1)), SPECTRUM),
    "rf_risk": Target(_risks(lambda e, c: rf_risk(e, c, 10, 5, 0.1)), SPECTRUM),
    "fit_powerlaw": Target(
        lambda given, clean: [np.array(fit_powerlaw(given["eigenvalues"]))],
        ("eigenvalues",),
        names={"eigenvalues": "values"},
    ),
}


# ------------------------------------------------------------------- clean problems


@st.composite
def problems(draw, target: Target) -> Inputs:
    """A small well-posed problem for ``target``, in native float64.

    ``X``, ``y`` and weights (or a spectrum) whatever roles the target takes: a model
    that ``predict`` is called on is fitted on all of them.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if "eigenvalues" in target.takes:
        m = draw(st.integers(3, 40))
        decay = draw(st.floats(1.1, 3.0))
        return {
            "eigenvalues": np.arange(1.0, m + 1) ** -decay,
            "target_coeffs": rng.standard_normal(m),
        }
    n = draw(st.integers(target.min_rows, target.min_rows + 8))
    d = draw(st.integers(1, 4))
    return {
        "X": rng.standard_normal((n, d)),
        # Every class in every problem (labels 0, 1, 2 in a random order).
        "y": rng.permutation(np.arange(n) % 3) if target.labels else rng.standard_normal(n),
        "sample_weight": rng.uniform(0.5, 2.0, n),
    }


# ------------------------------------------------------------------ odd inputs


@dataclass(frozen=True)
class Odd:
    """A category of odd input: ``make(value, draw)`` turns the clean ``role`` argument into it.

    ``labels``: True for class labels only, False for numeric targets only, None for both.
    ``skip``: targets for which the input is not odd (with the reason in a comment).
    """

    role: str
    make: Callable[[np.ndarray, Callable], Any]
    labels: bool | None = None
    skip: tuple[str, ...] = ()

    def targets(self) -> list[str]:
        return [
            name
            for name, target in TARGETS.items()
            if self.role in target.takes
            and (self.labels is None or self.labels == target.labels)
            and name not in self.skip
        ]


def _index(value: np.ndarray, draw: Callable) -> tuple:
    """A drawn position in ``value``."""
    return np.unravel_index(draw(st.integers(0, value.size - 1)), value.shape)


def entry(new: Callable[[Any], Any], dtype) -> Callable:
    """One drawn entry replaced by ``new(old)``, in a copy of dtype ``dtype``."""

    def make(value: np.ndarray, draw: Callable) -> np.ndarray:
        out = np.array(value, dtype=dtype)
        index = _index(out, draw)
        out[index] = new(out[index])
        return out

    return make


def _ragged(value: np.ndarray, draw: Callable) -> list:
    rows = value.tolist()
    row = draw(st.integers(0, len(rows) - 1))
    rows[row] = rows[row][:-1]
    return rows


def _one_column(value: np.ndarray, draw: Callable) -> np.ndarray:
    return value[:, draw(st.integers(0, value.shape[1] - 1))]


def _frame(make: Callable) -> Callable:
    """The odd array ``make`` makes, as a pandas DataFrame (2-d) or Series."""

    def frame(value: np.ndarray, draw: Callable):
        return _pandas(make(value, draw))

    return frame


def _missing(dtype: str) -> Callable:
    """A pandas nullable frame or series (``dtype``: "Float64", "Int64") with one ``pd.NA``."""

    def make(value: np.ndarray, draw: Callable):
        import pandas as pd

        frame = (pd.DataFrame if value.ndim == 2 else pd.Series)(value).astype(dtype)
        frame.iloc[_index(value, draw)] = pd.NA
        return frame

    return make


def scaled(factor: float) -> Callable:
    return lambda value, draw: value * factor


NAN = entry(lambda old: np.nan, np.float64)
INF = entry(lambda old: np.inf if old >= 0 else -np.inf, np.float64)
STRING = entry(lambda old: "a", object)
COMPLEX = entry(lambda old: old + 1j, np.complex128)
NO_ROWS = lambda value, draw: value[:0]  # noqa: E731
SCALAR = lambda value, draw: np.asarray(value.flat[0])  # noqa: E731
SHORTER = lambda value, draw: value[:-1]  # noqa: E731
LONGER = lambda value, draw: np.concatenate([value, value[:1]])  # noqa: E731
# fit_powerlaw skips entries <= 0 by design; its negative entries are not odd.
POWERLAW_SKIPS = ("fit_powerlaw",)


def _invalid() -> dict[str, Odd]:
    """Inputs every target must refuse with an error naming the argument."""
    odd = {}
    for role in (*DATA, *SPECTRUM):
        # A string is a fine class label: only numeric targets must refuse one.
        labels = False if role == "y" else None
        odd[f"{role}-nan"] = Odd(role, NAN)
        odd[f"{role}-inf"] = Odd(role, INF)
        odd[f"{role}-complex"] = Odd(role, COMPLEX)
        odd[f"{role}-string"] = Odd(role, STRING, labels=labels)
    odd |= {
        "X-no-rows": Odd("X", NO_ROWS),
        "X-no-columns": Odd("X", lambda value, draw: value[:, :0]),
        "X-0d": Odd("X", SCALAR),
        "X-1d": Odd("X", _one_column),
        "X-3d": Odd("X", lambda value, draw: value[:, :, None]),
        "X-None": Odd("X", entry(lambda old: None, object)),
        "X-ragged": Odd("X", _ragged),
        "X-pandas-nan": Odd("X", _frame(NAN)),
        "X-pandas-NA": Odd("X", _missing("Float64")),
        "y-shorter": Odd("y", SHORTER),
        "y-longer": Odd("y", LONGER),
        "y-0d": Odd("y", SCALAR),
        "y-3d": Odd("y", lambda value, draw: value[:, None, None]),
        "y-None": Odd("y", entry(lambda old: None, object), labels=False),
        "y-pandas-NA": Odd("y", _missing("Float64"), labels=False),
        "y-labels-pandas-NA": Odd("y", _missing("Int64"), labels=True),
        "y-labels-2d": Odd("y", lambda value, draw: np.c_[value, value], labels=True),
        # A batch of one class is fine for partial_fit, which is given the classes.
        "y-labels-one-class": Odd(
            "y",
            lambda value, draw: np.zeros_like(value),
            labels=True,
            skip=("RandomFeatureRidgeClassifier.partial_fit",),
        ),
        "y-labels-continuous": Odd("y", lambda value, draw: value + 0.5, labels=True),
        "sample_weight-shorter": Odd("sample_weight", SHORTER),
        "sample_weight-longer": Odd("sample_weight", LONGER),
        "sample_weight-2d": Odd("sample_weight", lambda value, draw: value[:, None]),
        "sample_weight-all-zero": Odd("sample_weight", lambda value, draw: 0 * value),
        "eigenvalues-negative": Odd(
            "eigenvalues", entry(lambda old: -old, np.float64), skip=POWERLAW_SKIPS
        ),
        "eigenvalues-empty": Odd("eigenvalues", NO_ROWS),
        "eigenvalues-0d": Odd("eigenvalues", SCALAR),
        "eigenvalues-2d": Odd("eigenvalues", lambda value, draw: value[:, None]),
        "target_coeffs-shorter": Odd("target_coeffs", SHORTER),
        "target_coeffs-3d": Odd("target_coeffs", lambda value, draw: value[:, None, None]),
    }
    return odd


INVALID = _invalid()
#: Values whose squares (or sums) overflow float64: a named ValueError, or finite output.
OVERFLOWING = {
    "X-times-1e300": Odd("X", scaled(1e300)),
    "X-times-1e-300": Odd("X", scaled(1e-300)),
    "y-times-1e300": Odd("y", scaled(1e300), labels=False),
    "sample_weight-times-1e300": Odd("sample_weight", scaled(1e300)),
    "eigenvalues-times-1e300": Odd("eigenvalues", scaled(1e300)),
    "target_coeffs-times-1e300": Odd("target_coeffs", scaled(1e300)),
}
#: Values far from 1 whose squares fit in float64: finite output, always.
MAGNITUDES = {
    "X-times-1e150": Odd("X", scaled(1e150)),
    "X-times-1e-150": Odd("X", scaled(1e-150)),
    "y-times-1e150": Odd("y", scaled(1e150), labels=False),
    "y-times-1e-300": Odd("y", scaled(1e-300), labels=False),
    "sample_weight-times-1e150": Odd("sample_weight", scaled(1e150)),
    # 1e-300 too: the Gram's eigenvalues are then ~1e-300 and the core's pseudo-inverse
    # cut-off (top * D * eps) was subnormal, so 1 / lambda overflowed for eigenvalues
    # below 2.2e-308 and GCV or partial_fit solves predicted NaN (fixed in the core:
    # the cut-off is at least the smallest normal number).
    "sample_weight-times-1e-300": Odd("sample_weight", scaled(1e-300)),
    "sample_weight-times-1e-150": Odd("sample_weight", scaled(1e-150)),
    "eigenvalues-times-1e150": Odd("eigenvalues", scaled(1e150)),
    "eigenvalues-times-1e-150": Odd("eigenvalues", scaled(1e-150)),
}


# ------------------------------------------------------------------- layouts


def _big_endian(value: np.ndarray) -> np.ndarray:
    return value.astype(value.dtype.newbyteorder(">"))


def _read_only(value: np.ndarray) -> np.ndarray:
    out = value.copy()
    out.flags.writeable = False
    return out


def _every_other_row(value: np.ndarray) -> np.ndarray:
    spaced = np.zeros((2 * len(value), *value.shape[1:]), dtype=value.dtype)
    spaced[::2] = value
    return spaced[::2]


def _every_other_column(value: np.ndarray) -> np.ndarray:
    if value.ndim == 1:
        return _every_other_row(value)
    spaced = np.zeros((len(value), 2 * value.shape[1]), dtype=value.dtype)
    spaced[:, 1::2] = value
    return spaced[:, 1::2]


def _pandas(value: np.ndarray):
    import pandas as pd

    return pd.DataFrame(value) if value.ndim == 2 else pd.Series(value)


@dataclass(frozen=True)
class Layout:
    """Data in another form: ``form(native(v))`` holds the same numbers as ``native(v)``."""

    form: Callable[[np.ndarray], Any]
    native: Callable[[np.ndarray], np.ndarray] = lambda value: value


LAYOUTS = {
    "big-endian": Layout(_big_endian),
    "read-only": Layout(_read_only),
    "every-other-row": Layout(_every_other_row),
    "every-other-column": Layout(_every_other_column),
    "reversed-strides": Layout(lambda value: value[::-1].copy()[::-1]),
    "fortran": Layout(np.asfortranarray),
    "nested-lists": Layout(lambda value: value.tolist()),
    "pandas": Layout(_pandas),
    # Integers (positive, for weights): the float64 of the same integers.
    "integers": Layout(lambda value: value.astype(np.int64), lambda value: np.round(4 * value)),
}


# ------------------------------------------------------------------ checks


def run(call: Callable[[], list]) -> tuple[BaseException | None, list | None]:
    """``(error, None)`` if ``call`` raised anything (a panic too), else ``(None, outputs)``."""
    try:
        outputs = call()
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # a PanicException is a BaseException
        return error, None
    return None, outputs


def names(message: str, argument: str) -> bool:
    """Whether ``message`` names ``argument`` (as a word: ``y`` is not in ``yes``)."""
    return re.search(rf"(?<!\w){re.escape(argument)}(?!\w)", message) is not None


def assert_named_error(error: BaseException | None, argument: str, what: str) -> None:
    assert error is not None, f"{what}: accepted"
    kind = type(error).__name__
    assert kind != "PanicException", f"{what}: Rust panicked: {error}"
    assert isinstance(error, ValueError | TypeError | MemoryError), f"{what}: {kind}: {error}"
    assert names(str(error), argument), f"{what}: {kind} does not name {argument!r}: {error}"


def assert_finite(outputs: list, what: str) -> None:
    for output in outputs:
        values = np.asarray(output, dtype=np.float64)
        assert np.all(np.isfinite(values)), f"{what}: non-finite output {values!r}"


def draw_case(data, odd_targets: list[str], kind: str, category: str):
    """Draw a target among ``odd_targets`` and a clean problem for it; count the example."""
    name = data.draw(st.sampled_from(odd_targets), label="target")
    target = TARGETS[name]
    clean = data.draw(problems(target), label="problem")
    TRIED[kind, category] += 1
    TARGETS_TRIED[name] += 1
    PAIRS.update((category, other) for other in odd_targets)
    PAIRS_TRIED.add((category, name))
    event(f"target: {name}")
    return name, target, clean


def _params(table: dict[str, Odd]) -> list:
    marks = lambda name: (  # noqa: E731
        [pytest.mark.skipif(not HAS_PANDAS, reason="pandas is not installed")]
        if "pandas" in name
        else []
    )
    return [pytest.param(name, id=name, marks=marks(name)) for name in table]


# ------------------------------------------------------------------- the tests


def try_odd(data, table: dict[str, Odd], kind: str, category: str) -> tuple:
    """Draw a target and a problem, make the odd input, call: ``(what, argument, error, out)``."""
    odd = table[category]
    name, target, clean = draw_case(data, odd.targets(), kind, category)
    given_ = {**clean, odd.role: odd.make(clean[odd.role], data.draw)}
    error, outputs = run(lambda: target(given_, clean))
    return f"{name} with {category}", target.argument(odd.role), error, outputs


@pytest.mark.parametrize("category", _params(INVALID))
@given(data=st.data())
def test_invalid_input_raises_an_error_naming_the_argument(category, data):
    what, argument, error, _ = try_odd(data, INVALID, "invalid", category)
    assert_named_error(error, argument, what)


@pytest.mark.parametrize("category", _params(OVERFLOWING))
@given(data=st.data())
def test_overflowing_values_give_finite_output_or_a_named_error(category, data):
    what, argument, error, outputs = try_odd(data, OVERFLOWING, "overflowing", category)
    if error is None:
        assert_finite(outputs, what)
    else:
        assert isinstance(error, ValueError), f"{what}: {type(error).__name__}: {error}"
        assert_named_error(error, argument, what)


@pytest.mark.parametrize("category", _params(MAGNITUDES))
@given(data=st.data())
def test_large_and_small_values_give_finite_output(category, data):
    what, _, error, outputs = try_odd(data, MAGNITUDES, "magnitude", category)
    assert error is None, f"{what}: {type(error).__name__}: {error}"
    assert_finite(outputs, what)


@pytest.mark.parametrize("layout", _params(LAYOUTS))
@given(data=st.data())
def test_layouts_give_the_native_result(layout, data):
    form = LAYOUTS[layout]
    name, target, clean = draw_case(data, list(TARGETS), "layout", layout)
    native = {role: form.native(value) for role, value in clean.items()}
    formed = {role: form.form(value) for role, value in native.items()}
    error, expected = run(lambda: target(native, native))
    assert error is None, f"{name} on native arrays: {type(error).__name__}: {error}"
    error, outputs = run(lambda: target(formed, native))
    assert error is None, f"{name} on {layout}: {type(error).__name__}: {error}"
    assert_finite(outputs, f"{name} on {layout}")
    for got, want in zip(outputs, expected, strict=True):
        np.testing.assert_array_equal(got, want, err_msg=f"{name} on {layout}")


# -------------------------------------------- defects the fuzz found, pinned

RNG = np.random.default_rng(0)
X12, Y12, W12 = RNG.standard_normal((12, 3)), RNG.standard_normal(12), np.ones(12)
LABELS12 = np.arange(12) % 3


def _with_entry(array: np.ndarray, index: tuple, value) -> np.ndarray:
    out = np.array(array, dtype=np.result_type(array, np.asarray(value)))
    out[index] = value
    return out


def _batches(X=X12, y=Y12, sample_weight=None) -> RowBatches:
    return RowBatches.from_arrays(X, y, sample_weight, batch_rows=4)


DEFECTS = {
    # scikit-learn's messages that named no argument, the same for X, y and weights.
    "y-3d-names-y": (lambda: _primal().fit(X12, Y12[:, None, None]), r"^y: Found array with dim 3"),
    "X-3d-names-X": (lambda: _primal().fit(X12[None], Y12), r"^X: Found array with dim 3"),
    "lengths-name-X-and-y": (
        lambda: _primal().fit(X12, Y12[:-1]),
        r"^X and y: Found input variables with inconsistent numbers of samples",
    ),
    "complex-weights-name-sample_weight": (
        lambda: _primal().fit(X12, Y12, sample_weight=W12 + 1j),
        r"^sample_weight: Complex data not supported",
    ),
    "continuous-labels-name-y": (
        lambda: _classifier().fit(X12, Y12),
        r"^y: Unknown label type: continuous",
    ),
    "kernel_matrix-nan-names-X": (
        lambda: kernel_matrix(_with_entry(X12, (1, 1), np.nan)),
        r"Input X contains NaN",
    ),
    # The core checked the columns' rows (X itself when Y is None) under the name Y.
    "kernel_matrix-overflow-names-X": (
        lambda: kernel_matrix(X12 * 1e300),
        r"\bX\b",
    ),
    "kernel_matrix-nan-names-Y": (
        lambda: kernel_matrix(X12, _with_entry(X12, (1, 1), np.nan)),
        r"Input Y contains NaN",
    ),
    # Huge float labels: a numpy RuntimeWarning from scikit-learn's cast of the labels.
    "huge-labels": (lambda: _classifier().fit(X12, LABELS12 * 1e300), r"^y: Unknown label type"),
    # An object y with None: NaN after scikit-learn's check, then blamed on overflow.
    "None-in-y": (
        lambda: _primal().fit(X12, _with_entry(Y12.astype(object), 2, None)),
        r"Input y contains NaN",
    ),
    # Batches reached gamma="scale" unchecked: infinity gave a RuntimeWarning (a NaN
    # gamma without -W error), complex X a ComplexWarning (imaginary parts dropped), a
    # scalar X a TypeError of len(), 2-d weights an einsum error.
    "batches-inf-in-a-later-batch": (
        lambda: _primal().fit(_batches(_with_entry(X12, (9, 1), np.inf))),
        r"Input X contains infinity",
    ),
    "batches-complex-X": (lambda: _primal().fit(_batches(X12 + 1j)), r"^X: Complex data"),
    "batches-scalar-X": (lambda: _primal().fit(_batches(np.float64(1.0))), r"^X must hold one"),
    "batches-2d-weights": (
        lambda: _features().fit(_batches(sample_weight=W12[:, None])),
        r"^sample_weight: Sample weights must be 1D",
    ),
    "batches-zero-weights": (
        lambda: _features().fit(_batches(sample_weight=0 * W12)),
        r"rows whose sample_weight is 0",
    ),
    # A NaN label in a later batch became a class, and LabelBinarizer warned.
    "batches-nan-label": (
        lambda: _classifier().fit(_batches(y=_with_entry(LABELS12, 9, np.nan))),
        r"Input y contains NaN",
    ),
    "batches-one-class": (
        lambda: _classifier().fit(_batches(y=0 * LABELS12)),
        r"^y: classes must hold at least 2 classes",
    ),
    # The theory took complex numbers with a ComplexWarning (imaginary parts dropped).
    "theory-complex-eigenvalues": (
        lambda: krr_risk(np.arange(1, 20.0) ** -1.5 + 0j, np.ones(19), 10, 0.1),
        r"eigenvalues must be real numbers",
    ),
    "theory-string-eigenvalues": (
        lambda: krr_risk(np.array(["a"] * 3, dtype=object), np.ones(3), 10, 0.1),
        r"^eigenvalues: could not convert string",
    ),
    "theory-overflowing-coefficients": (
        lambda: krr_risk(np.arange(1, 20.0) ** -1.5, np.full(19, 1e300), 10, 0.1),
        r"target_coeffs are too large",
    ),
    "fit_powerlaw-empty": (lambda: fit_powerlaw([]), r"values must hold at least one value"),
    # A subnormal ridge (the "auto" grid made them for weights ~1e-300): 1 / alpha
    # overflows on a null direction of the Gram, and the predictions were NaN.
    "subnormal-alpha-kernel": (
        lambda: KernelRidge("linear", alphas=[1e-310]).fit(X12, Y12),
        r"alphas must be 0 or at least 2.225e-308",
    ),
    "subnormal-alpha-features": (
        lambda: RandomFeatureRidge("linear", n_components=64, alphas=[1e-310]).fit(X12, Y12),
        r"alphas must be 0 or at least 2.225e-308",
    ),
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_defects_found_by_the_fuzz_stay_fixed(defect):
    call, match = DEFECTS[defect]
    error, _ = run(call)
    assert error is not None and isinstance(error, ValueError), f"{defect}: {error!r}"
    assert re.search(match, str(error)), f"{defect}: {match!r} not in {error}"


def test_gamma_scale_ignores_the_layout_and_the_scale_of_weights():
    # The moments behind gamma="scale" were summed in X's memory order (a Fortran or
    # reversed X gave other last bits, and so did every feature), and merging the
    # moments of batches of large weights overflowed (gamma 0 for weights ~1e300).
    gamma = _features().fit(X12).gamma_
    assert _features().fit(np.asfortranarray(X12)).gamma_ == gamma
    assert _features().fit(X12[::-1].copy()[::-1]).gamma_ == gamma
    batched = [_features().fit(_batches(sample_weight=W12 * s)).gamma_ for s in (1.0, 1e300)]
    np.testing.assert_allclose(batched, gamma, rtol=1e-14)


def test_eigenstructure_exponents_do_not_depend_on_the_scale_of_y():
    # y ~ 1e300 overflowed the squares of its coefficients (a RuntimeWarning), y ~ 1e-300
    # underflowed them to 0 (a ValueError from fit_powerlaw): beta is scale-free.
    X, y = np.tile(X12, (4, 1)), np.tile(Y12, 4)
    beta = estimate_eigenstructure(X, y, random_state=0).beta
    for scale in (1e300, 1e-300):
        scaled_beta = estimate_eigenstructure(X, y * scale, random_state=0).beta
        np.testing.assert_allclose(scaled_beta, beta, rtol=1e-12)


@pytest.fixture(scope="module", autouse=True)
def _report_what_was_tried(request):
    """At the end of the module, print the examples tried per property and category."""
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None or not TRIED:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        for line in summary_lines():
            reporter.write_line(line)


def summary_lines() -> list[str]:
    """What was tried: the examples per property and category, and the targets reached."""
    lines = [f"bad-input fuzz: {sum(TRIED.values())} examples over {len(TARGETS_TRIED)} targets"]
    for kind in dict.fromkeys(kind for kind, _ in TRIED):
        rows = {category: n for (k, category), n in TRIED.items() if k == kind}
        listed = ", ".join(f"{category} {n}" for category, n in rows.items())
        lines.append(f"  {kind} ({sum(rows.values())}): {listed}")
    targets = ", ".join(f"{name} {n}" for name, n in TARGETS_TRIED.most_common())
    lines.append(f"  per target: {targets}")
    lines.append(f"  (category, target) pairs reached: {len(PAIRS_TRIED)} of {len(PAIRS)}")
    return lines
