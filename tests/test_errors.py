"""One table of bad inputs: each must raise a precise exception, never a Rust panic.

Every row is ``(call, exception type, regex the message must match)``. The calls
cover the public API (``RandomFeatures.fit``/``transform`` and
``rfkernels.kernels.kernel_matrix``) and the low-level ``rfkernels._core``
bindings. A Rust panic surfaces as ``pyo3_runtime.PanicException``, a
``BaseException`` that ``pytest.raises(Exception)`` would let through, so every
call is run under ``except BaseException`` and a panic fails the test.
"""

import re

import numpy as np
import pytest
import scipy.sparse
from rfkernels import (
    KERNELS,
    KernelRidge,
    RandomFeatureRidge,
    RandomFeatureRidgeClassifier,
    RandomFeatures,
    RowBatches,
    _core,
)
from rfkernels.kernels import kernel_matrix
from sklearn.exceptions import NotFittedError

FOURIER_KERNELS = [name for name, info in KERNELS.items() if info.fourier]
ARCCOS_KERNELS = [name for name, info in KERNELS.items() if not info.fourier]

X_GOOD = np.random.default_rng(0).standard_normal((5, 3))


def _with(value, row=1, col=1):
    X = X_GOOD.copy()
    X[row, col] = value
    return X


def _fitted(kernel="rbf", n_components=8, dtype=np.float64, **params):
    """A RandomFeatures fitted on ``X_GOOD`` (3 columns)."""
    return RandomFeatures(kernel, n_components=n_components, random_state=0, **params).fit(
        X_GOOD.astype(dtype)
    )


def _huge_rows(n_rows, n_cols, dtype=np.float64):
    """An ``(n_rows, n_cols)`` array of ones that costs no memory (zero strides)."""
    return np.broadcast_to(np.ones((1, n_cols), dtype=dtype), (n_rows, n_cols))


def _weights(kernel="rbf", paired=False, n_features_in=3, n_frequencies=4, dtype="float64"):
    """``(weights, offsets)`` for ``_core.transform``: weights of shape (d, m), C-contiguous."""
    w, b = _core.draw_frequencies(
        kernel,
        gamma=1.0,
        bias=0.0,
        paired=paired,
        n_features_in=n_features_in,
        n_frequencies=n_frequencies,
        seed=0,
        dtype=dtype,
    )
    return np.ascontiguousarray(w.T), b


def _core_transform(x, kernel="rbf", paired=False, **overrides):
    """``_core.transform`` of ``x`` with matching weights, unless ``overrides`` replaces them."""
    weights, offsets = _weights(kernel, paired, n_features_in=x.shape[-1], dtype=x.dtype.name)
    weights = overrides.get("weights", weights)
    offsets = overrides.get("offsets", offsets)
    return _core.transform(x, weights, offsets, kernel=kernel, paired=paired)


def _core_draw_frequencies(kernel="rbf", paired=False, dtype="float64", gamma=1.0):
    return _core.draw_frequencies(
        kernel,
        gamma=gamma,
        bias=0.0,
        paired=paired,
        n_features_in=3,
        n_frequencies=4,
        seed=0,
        dtype=dtype,
    )


# Bad data, fed to fit, to transform (of a transformer fitted on good data) and
# to kernel_matrix: name -> (X, exception, message regex).
BAD_DATA = {
    "nan": (_with(np.nan), ValueError, r"contains NaN"),
    "inf": (_with(np.inf), ValueError, r"contains infinity"),
    "-inf": (_with(-np.inf), ValueError, r"contains infinity"),
    "1d": (X_GOOD[:, 0], ValueError, r"Expected 2D array, got 1D array"),
    "3d": (X_GOOD[None], ValueError, r"Found array with dim 3"),
    "zero-rows": (X_GOOD[:0], ValueError, r"Found array with 0 sample\(s\)"),
    "zero-columns": (X_GOOD[:, :0], ValueError, r"Found array with 0 feature\(s\)"),
    "strings": ([["a", "b", "c"], ["d", "e", "f"]], ValueError, r"could not convert string"),
    "complex": (X_GOOD + 1j, ValueError, r"Complex data not supported"),
    "sparse-csr-matrix": (scipy.sparse.csr_matrix(X_GOOD), TypeError, r"(?i)sparse"),
    "sparse-csr-array": (scipy.sparse.csr_array(X_GOOD), TypeError, r"(?i)sparse"),
}


def _bad_data_cases():
    for name, (X, error, match) in BAD_DATA.items():
        yield pytest.param(lambda X=X: RandomFeatures().fit(X), error, match, id=f"fit-{name}")
        yield pytest.param(lambda X=X: _fitted().transform(X), error, match, id=f"transform-{name}")
        yield pytest.param(lambda X=X: kernel_matrix(X), error, match, id=f"kernel_matrix-{name}")
        if not scipy.sparse.issparse(X) and np.ndim(X) == 2 and np.size(X) > 0:
            yield pytest.param(
                lambda X=X: kernel_matrix(X_GOOD[:, : np.shape(X)[1]], X),
                error,
                match,
                id=f"kernel_matrix-Y-{name}",
            )


def _param(name, cls="RandomFeatures"):
    return rf"The '{name}' parameter of {cls} must be"


def _parameter_cases():
    rf = "RandomFeatures"
    km = "kernel_matrix"
    for n_components in [0, -1, 2.5]:
        yield pytest.param(
            lambda n=n_components: RandomFeatures(n_components=n).fit(X_GOOD),
            ValueError,
            _param("n_components") + r" an int in the range \[1, inf\)",
            id=f"n_components={n_components}",
        )
    yield pytest.param(
        lambda: RandomFeatures("bogus").fit(X_GOOD),
        ValueError,
        _param("kernel") + " a str among",
        id="unknown-kernel",
    )
    yield pytest.param(
        lambda: kernel_matrix(X_GOOD, kernel="bogus"),
        ValueError,
        _param("kernel", km) + " a str among",
        id="kernel_matrix-unknown-kernel",
    )
    for gamma in [-1.0, 0.0, 0]:
        yield pytest.param(
            lambda g=gamma: RandomFeatures(gamma=g).fit(X_GOOD),
            ValueError,
            _param("gamma") + r".* range \(0\.0, inf\)",
            id=f"gamma={gamma!r}",
        )
        yield pytest.param(
            lambda g=gamma: kernel_matrix(X_GOOD, gamma=g),
            ValueError,
            _param("gamma", km) + r".* range \(0\.0, inf\)",
            id=f"kernel_matrix-gamma={gamma!r}",
        )
    yield pytest.param(
        lambda: RandomFeatures(gamma="auto").fit(X_GOOD),
        ValueError,
        _param("gamma"),
        id="gamma='auto'",
    )
    for kernel in ARCCOS_KERNELS:
        yield pytest.param(
            lambda k=kernel: RandomFeatures(k, bias=-0.5).fit(X_GOOD),
            ValueError,
            _param("bias", rf) + r".* range \[0\.0, inf\)",
            id=f"{kernel}-bias<0",
        )
        yield pytest.param(
            lambda k=kernel: kernel_matrix(X_GOOD, kernel=k, bias=-0.5),
            ValueError,
            _param("bias", km) + r".* range \[0\.0, inf\)",
            id=f"kernel_matrix-{kernel}-bias<0",
        )
    for kernel in FOURIER_KERNELS:
        yield pytest.param(
            lambda k=kernel: RandomFeatures(k, fourier="sincos", n_components=7).fit(X_GOOD),
            ValueError,
            r"fourier='sincos' needs an even n_components .*got 7",
            id=f"{kernel}-sincos-odd-n_components",
        )
    yield pytest.param(
        lambda: RandomFeatures(fourier="bogus").fit(X_GOOD),
        ValueError,
        _param("fourier") + " a str among",
        id="fourier='bogus'",
    )
    for kernel, info in KERNELS.items():
        if info.paired_columns:
            yield pytest.param(
                lambda k=kernel: RandomFeatures(k, n_components=7).fit(X_GOOD),
                ValueError,
                rf"kernel='{kernel}' needs an even n_components .*got 7",
                id=f"{kernel}-odd-n_components",
            )
            yield pytest.param(
                lambda k=kernel: _core.transform(
                    X_GOOD, *_weights(k, n_frequencies=3), kernel=k, paired=False
                ),
                ValueError,
                r"ntk features come in pairs of columns",
                id=f"core-{kernel}-odd-weights",
            )
        for sampling, fits in (("orthogonal", info.isotropic), ("structured", info.gaussian)):
            if not fits:
                yield pytest.param(
                    lambda k=kernel, s=sampling: RandomFeatures(k, sampling=s).fit(X_GOOD),
                    ValueError,
                    rf"sampling='{sampling}' needs isotropic",
                    id=f"{kernel}-sampling={sampling}",
                )
        if not info.layered:
            yield pytest.param(
                lambda k=kernel: kernel_matrix(X_GOOD, kernel=k, depth=2),
                ValueError,
                rf"depth=2 applies to the layered kernels .* the '{kernel}' kernel takes depth=1",
                id=f"kernel_matrix-{kernel}-depth=2",
            )
    yield pytest.param(
        lambda: RandomFeatures(sampling="bogus").fit(X_GOOD),
        ValueError,
        _param("sampling") + " a str among",
        id="sampling='bogus'",
    )
    yield pytest.param(
        lambda: kernel_matrix(X_GOOD, kernel="ntk", depth=0),
        ValueError,
        _param("depth", "kernel_matrix") + r" an int in the range \[1, inf\)",
        id="kernel_matrix-depth=0",
    )
    yield pytest.param(
        lambda: _fitted().transform(X_GOOD[:, :2]),
        ValueError,
        r"X has 2 features, but RandomFeatures is expecting 3 features",
        id="transform-fewer-columns",
    )
    yield pytest.param(
        lambda: _fitted().transform(np.hstack([X_GOOD, X_GOOD])),
        ValueError,
        r"X has 6 features, but RandomFeatures is expecting 3 features",
        id="transform-more-columns",
    )
    yield pytest.param(
        lambda: RandomFeatures().transform(X_GOOD),
        NotFittedError,
        r"This RandomFeatures instance is not fitted yet",
        id="transform-before-fit",
    )
    yield pytest.param(
        lambda: RandomFeatures(n_jobs=0).fit_transform(X_GOOD),
        ValueError,
        r"n_jobs == 0",
        id="n_jobs=0",
    )
    yield pytest.param(
        lambda: kernel_matrix(X_GOOD, n_jobs=0),
        ValueError,
        r"n_jobs == 0",
        id="kernel_matrix-n_jobs=0",
    )
    yield pytest.param(
        lambda: kernel_matrix(X_GOOD, X_GOOD[:, :2]),
        ValueError,
        r"X has 3 features but Y has 2",
        id="kernel_matrix-different-widths",
    )


def _overflow_cases():
    # A projection w.x with |x_i| near the float maximum overflows whatever the
    # (unit-scale) weights: the core must say so instead of returning inf or NaN.
    for kernel in KERNELS:
        for dtype in [np.float64, np.float32]:
            big = np.finfo(dtype).max
            yield pytest.param(
                lambda k=kernel, d=dtype, big=big: _fitted(k, gamma=1.0, dtype=d).transform(
                    np.full((2, 3), big, dtype=d)
                ),
                ValueError,
                r"projection .* of row 0 is not finite",
                id=f"transform-overflow-{kernel}-{np.dtype(dtype).name}",
            )
    yield pytest.param(
        lambda: RandomFeatures("relu", gamma=1.0, random_state=0).fit_transform(
            np.full((2, 2), 1e308)
        ),
        ValueError,
        r"not finite",
        id="fit_transform-overflow-relu",
    )
    # Features of |x| ~ 1e160 are finite, their squares are not: a ridge fit must
    # say so (primal: the Gram; dual: Z Z^T), not predict NaN.
    X_big, y_big = np.tile(X_GOOD, (4, 1)) * 1e160, np.arange(20.0)
    for kernel in ["relu", "linear", "ntk"]:
        yield pytest.param(
            lambda k=kernel: RandomFeatureRidge(k, n_components=8, gamma=1.0).fit(X_big, y_big),
            ValueError,
            r"Gram statistics of the random features overflow",
            id=f"ridge-primal-overflow-{kernel}",
        )
    yield pytest.param(
        lambda: RandomFeatureRidge("relu", n_components=64, gamma=1.0).fit(X_big, y_big),
        ValueError,
        r"kernel matrix .* holds infinite or NaN entries",
        id="ridge-dual-overflow-relu",
    )
    # Targets of |y| ~ 1e200 have squares beyond float64 on every ridge path: a
    # ValueError that says to rescale y, not a numpy overflow warning or a NaN fit.
    y_huge = np.arange(1.0, 21.0) * 1e200
    huge_target_fits = {
        "random-features": lambda: RandomFeatureRidge(n_components=8, random_state=0),
        "kernel-exact": lambda: KernelRidge(),
        "nystrom-eigen": lambda: KernelRidge(n_centers=5, solver="eigen", random_state=0),
        "nystrom-cg": lambda: KernelRidge(n_centers=5, solver="cg", random_state=0),
    }
    for name, make in huge_target_fits.items():
        yield pytest.param(
            lambda make=make: make().fit(np.tile(X_GOOD, (4, 1)), y_huge),
            ValueError,
            r"squares of the targets overflow float64 .* rescale y",
            id=f"huge-target-{name}",
        )
    # The arc-cosine kernels need |x|^2, which overflows for |x| ~ 1e300: the
    # result must be an error, not a matrix of NaN.
    for kernel in ARCCOS_KERNELS:
        yield pytest.param(
            lambda k=kernel: kernel_matrix(np.full((2, 2), 1e300), kernel=k, gamma=1.0),
            ValueError,
            r"not finite",
            id=f"kernel_matrix-overflow-{kernel}",
        )
    # gamma="scale" divides by a statistic of X that overflows for such data: the
    # user must get a ValueError about gamma, not a numpy RuntimeWarning (an error
    # under -W error) nor a message about a gamma of 0 they never passed.
    for kernel in KERNELS:
        yield pytest.param(
            lambda k=kernel: RandomFeatures(k).fit(np.array([[1e300, -1e300], [-1e300, 1e300]])),
            ValueError,
            r"gamma",
            id=f"gamma-scale-overflow-{kernel}",
        )


def _memory_cases():
    # The inputs have zero strides: they cost nothing, only the outputs are huge.
    # The check must run before anything is allocated and give the bytes needed.
    yield pytest.param(
        lambda: _fitted(n_components=10**6).transform(_huge_rows(10**7, 3)),
        MemoryError,
        r"needs 80,000,000,000,000 bytes",
        id="transform-too-large-float64",
    )
    yield pytest.param(
        lambda: _fitted(n_components=10**6, dtype=np.float32).transform(
            _huge_rows(10**7, 3, np.float32)
        ),
        MemoryError,
        r"needs 40,000,000,000,000 bytes",
        id="transform-too-large-float32",
    )
    yield pytest.param(
        lambda: kernel_matrix(_huge_rows(10**7, 3)),
        MemoryError,
        r"needs 800,000,000,000,000 bytes",
        id="kernel_matrix-too-large",
    )
    yield pytest.param(
        lambda: kernel_matrix(_huge_rows(10**6, 3), _huge_rows(10**7, 3)),
        MemoryError,
        r"needs 80,000,000,000,000 bytes",
        id="kernel_matrix-Y-too-large",
    )
    # The weights alone of a huge n_components on wide data: a MemoryError with the
    # size, not an aborted process (Python's check, then the core's fallible allocation).
    yield pytest.param(
        lambda: RandomFeatures(n_components=10**9, random_state=0).fit(np.ones((2, 1000))),
        MemoryError,
        r"random weights .* needs 8,000,000,000,000 bytes .*use fewer n_components",
        id="fit-weights-too-large",
    )
    yield pytest.param(
        lambda: _core.draw_frequencies(
            "rbf",
            gamma=1.0,
            bias=0.0,
            paired=False,
            n_features_in=10**6,
            n_frequencies=10**12,
            seed=0,
            dtype="float64",
        ),
        MemoryError,
        r"needs \d+ bytes, more than this machine can allocate",
        id="core-sample_weights-too-large",
    )


def _weight_cases():
    # Negative weights have no meaning (and would make sqrt(s_i) NaN): every fit
    # refuses them, in memory, streamed and batched.
    X, y = np.tile(X_GOOD, (8, 1)), np.arange(40.0)
    bad = np.r_[-1.0, np.ones(39)]
    fits = {
        "ridge-primal": lambda: RandomFeatureRidge(n_components=8).fit(X, y, sample_weight=bad),
        "ridge-dual": lambda: RandomFeatureRidge(n_components=64).fit(X, y, sample_weight=bad),
        "ridge-partial_fit": lambda: RandomFeatureRidge(n_components=8).partial_fit(
            X, y, sample_weight=bad
        ),
        "classifier": lambda: RandomFeatureRidgeClassifier(n_components=8).fit(
            X, y > 20, sample_weight=bad
        ),
        "random_features": lambda: RandomFeatures().fit(X, sample_weight=bad),
        "kernel_ridge": lambda: KernelRidge().fit(X, y, sample_weight=bad),
        "ridge-batches": lambda: RandomFeatureRidge(n_components=8).fit(
            RowBatches.from_arrays(X, y, bad, batch_rows=16)
        ),
        "random_features-batches": lambda: RandomFeatures().fit(
            RowBatches.from_arrays(X, y, bad, batch_rows=16)
        ),
    }
    for name, fit in fits.items():
        yield pytest.param(
            fit, ValueError, r"(?i)negative|non-negative", id=f"{name}-negative-weight"
        )


def _core_cases():
    x32 = X_GOOD.astype(np.float32)
    w64, b64 = _weights()
    yield pytest.param(
        lambda: _core.transform(x32, w64, b64.astype(np.float32), kernel="rbf", paired=False),
        TypeError,
        r"share one float dtype",
        id="core-transform-x-weights-dtypes",
    )
    yield pytest.param(
        lambda: _core.transform(X_GOOD, w64, b64.astype(np.float32), kernel="rbf", paired=False),
        TypeError,
        r"share one float dtype",
        id="core-transform-offsets-dtype",
    )
    yield pytest.param(
        lambda: _core.transform(X_GOOD.astype(np.int64), w64, b64, kernel="rbf", paired=False),
        TypeError,
        r"FloatMatrix",
        id="core-transform-integer-x",
    )
    yield pytest.param(
        lambda: _core_transform(X_GOOD, offsets=b64[:3]),
        ValueError,
        r"3 offsets given for 4 weight vectors",
        id="core-transform-offsets-length",
    )
    yield pytest.param(
        lambda: _core_transform(X_GOOD, weights=w64[:2]),
        ValueError,
        r"X has 3 features but the weights were drawn for 2",
        id="core-transform-weights-rows",
    )
    yield pytest.param(
        lambda: _core_transform(X_GOOD, offsets=np.repeat(b64, 2)[::2]),
        ValueError,
        r"offsets must be a contiguous",
        id="core-transform-offsets-strided",
    )
    yield pytest.param(
        lambda: _core.transform(X_GOOD, w64, b64, kernel="bogus", paired=False),
        ValueError,
        r'unknown kernel "bogus"; expected one of',
        id="core-transform-unknown-kernel",
    )
    yield pytest.param(
        lambda: _core_draw_frequencies("bogus"),
        ValueError,
        r'unknown kernel "bogus"; expected one of',
        id="core-sample_weights-unknown-kernel",
    )
    yield pytest.param(
        lambda: _core.kernel_matrix(X_GOOD, kernel="bogus", gamma=1.0, bias=0.0),
        ValueError,
        r'unknown kernel "bogus"; expected one of',
        id="core-kernel_matrix-unknown-kernel",
    )
    for kernel in ARCCOS_KERNELS:
        yield pytest.param(
            lambda k=kernel: _core.transform(X_GOOD, w64, b64, kernel=k, paired=True),
            ValueError,
            rf'sin/cos pairs exist only for Fourier features .*not for "{kernel}"',
            id=f"core-transform-paired-{kernel}",
        )
        yield pytest.param(
            lambda k=kernel: _core_draw_frequencies(k, paired=True),
            ValueError,
            rf'sin/cos pairs exist only for Fourier features .*not for "{kernel}"',
            id=f"core-sample_weights-paired-{kernel}",
        )
    yield pytest.param(
        lambda: _core_draw_frequencies(dtype="float16"),
        TypeError,
        r"dtype must be 'float32' or 'float64'",
        id="core-sample_weights-dtype",
    )
    for gamma in [-1.0, 0.0, np.nan, np.inf]:
        yield pytest.param(
            lambda g=gamma: _core_draw_frequencies(gamma=g),
            ValueError,
            r"gamma must be a positive finite number",
            id=f"core-sample_weights-gamma={gamma}",
        )
        yield pytest.param(
            lambda g=gamma: _core.kernel_matrix(X_GOOD, kernel="rbf", gamma=g, bias=0.0),
            ValueError,
            r"gamma must be a positive finite number",
            id=f"core-kernel_matrix-gamma={gamma}",
        )
    yield pytest.param(
        lambda: _core.kernel_matrix(X_GOOD, kernel="relu", gamma=1.0, bias=-1.0),
        ValueError,
        r"bias must be a non-negative finite number",
        id="core-kernel_matrix-bias<0",
    )
    yield pytest.param(
        lambda: _core.kernel_matrix(X_GOOD, X_GOOD[:, :2], kernel="rbf", gamma=1.0, bias=0.0),
        ValueError,
        r"X has 3 columns but Y has 2",
        id="core-kernel_matrix-different-widths",
    )
    yield pytest.param(
        lambda: _core.kernel_matrix(x32, kernel="rbf", gamma=1.0, bias=0.0),
        TypeError,
        r"float32",
        id="core-kernel_matrix-float32",
    )
    yield pytest.param(
        lambda: _core_transform(_with(np.nan)),
        ValueError,
        r"projection W\^T x \+ b of row 1 is not finite",
        id="core-transform-nan",
    )
    # The Rust checks are the second line behind check_array: NaN must not come
    # back as a kernel matrix of NaN (as it does not from _core.transform).
    yield pytest.param(
        lambda: _core.kernel_matrix(_with(np.nan), kernel="rbf", gamma=1.0, bias=0.0),
        ValueError,
        r"not finite",
        id="core-kernel_matrix-nan",
    )
    # Outputs beyond isize::MAX bytes: rejected before allocating, with the size.
    yield pytest.param(
        lambda: _core_transform(_huge_rows(2**59, 1)),
        MemoryError,
        rf"needs {2**59 * 4 * 8} bytes",
        id="core-transform-beyond-address-space",
    )
    yield pytest.param(
        lambda: _core.kernel_matrix(_huge_rows(2**40, 3), kernel="rbf", gamma=1.0, bias=0.0),
        MemoryError,
        rf"needs {2**80 * 8} bytes",
        id="core-kernel_matrix-beyond-address-space",
    )
    # Outputs below isize::MAX bytes that no machine can allocate (2**62 and
    # 2**59 bytes): numpy's allocation fails, which must become a MemoryError.
    yield pytest.param(
        lambda: _core_transform(_huge_rows(2**57, 3)),
        MemoryError,
        r"(?i)bytes|allocate",
        id="core-transform-unallocatable",
    )
    yield pytest.param(
        lambda: _core.kernel_matrix(_huge_rows(2**28, 3), kernel="rbf", gamma=1.0, bias=0.0),
        MemoryError,
        r"(?i)bytes|allocate",
        id="core-kernel_matrix-unallocatable",
    )


CASES = [
    *_bad_data_cases(),
    *_parameter_cases(),
    *_overflow_cases(),
    *_memory_cases(),
    *_weight_cases(),
    *_core_cases(),
]


@pytest.mark.parametrize(("call", "error", "match"), CASES)
def test_bad_input_raises(call, error, match):
    try:
        call()
    except BaseException as raised:  # a PanicException is a BaseException
        assert type(raised).__name__ != "PanicException", f"Rust panicked: {raised}"
        assert isinstance(raised, error), f"expected {error.__name__}, got {raised!r}"
        assert re.search(match, str(raised)), f"{match!r} not found in {str(raised)!r}"
    else:
        pytest.fail(f"no exception; expected {error.__name__} matching {match!r}")


def test_parameter_errors_are_sklearn_invalid_parameter_errors():
    # The one test of scikit-learn's private InvalidParameterError (STYLE.md 5):
    # callers can catch it as ValueError (checked by the table) or by its own type.
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=_param("n_components")):
        RandomFeatures(n_components=0).fit(X_GOOD)
    with pytest.raises(InvalidParameterError, match=_param("kernel", "kernel_matrix")):
        kernel_matrix(X_GOOD, kernel="bogus")


@pytest.mark.parametrize(
    "make",
    [
        lambda: RandomFeatureRidge(n_components=8, random_state=0),  # primal
        lambda: RandomFeatureRidge(n_components=64, random_state=0),  # dual
        lambda: KernelRidge(),
    ],
    ids=["ridge-primal", "ridge-dual", "kernel_ridge"],
)
def test_targets_whose_squares_overflow_are_blamed(make):
    """y * 1e200: the squares of the targets overflow; the error names y, not X or gamma."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3)), rng.standard_normal(30)
    with pytest.raises(ValueError, match=r"squares of the targets overflow float64.*rescale y"):
        make().fit(X, y * 1e200)
