"""Every SIMD path, forced by ``RFKERNELS_ISA``, gives the bits of the default one.

The core compiles each vectorized loop (the nonlinearities of every feature map and
kernel, the Hadamard transform of structured frequencies) for AVX-512, AVX2 and the
scalar baseline, and runs the widest this CPU has. The rest of the suite checks that
path against numpy references; here fresh interpreters with each narrower path
forced compute features, kernel matrices and fits of every kernel and sampling,
which must equal the default path's bit for bit (so every path meets the same
references). Bad values of the variable stop the import with a clear message.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap

import pytest
from rfkernels import _core

#: Computes every vectorized path and prints the active ISA and a digest of the bits.
SCRIPT = textwrap.dedent(
    """
    import hashlib
    import numpy as np
    from rfkernels import KERNELS, KernelRidge, Nystroem, RandomFeatureRidge, RandomFeatures, _core
    from rfkernels.kernels import kernel_matrix

    rng = np.random.default_rng(0)
    X = rng.standard_normal((301, 9))
    # Large rows reach the trigonometric fallback beyond the fast range.
    X[:3] *= 1e6
    Y = rng.standard_normal((37, 9))
    y = rng.standard_normal(301)
    digest = hashlib.sha256()
    for name, info in KERNELS.items():
        for dtype in (np.float32, np.float64):
            for sampling in info.samplings:
                features = RandomFeatures(
                    name, n_components=130, sampling=sampling, random_state=1
                ).fit(X.astype(dtype))
                digest.update(features.transform(X.astype(dtype)).tobytes())
        digest.update(kernel_matrix(X[3:], Y, kernel=name).tobytes())
        digest.update(kernel_matrix(Y, kernel=name).tobytes())
    small = X[3:]
    digest.update(Nystroem(n_components=40, random_state=2).fit_transform(small).tobytes())
    ridge = RandomFeatureRidge(n_components=64, alphas=[1e-3, 1.0], random_state=3)
    digest.update(ridge.fit(small, y[3:]).predict(small).tobytes())
    exact = KernelRidge(kernel="laplacian", alphas=[1e-2, 1.0]).fit(small, y[3:])
    digest.update(exact.predict(small).tobytes())
    print(_core.simd_isa(), digest.hexdigest())
    """
)


def run_with_isa(isa: str | None) -> subprocess.CompletedProcess:
    """Run :data:`SCRIPT` in a fresh interpreter with ``RFKERNELS_ISA=isa`` (unset if None)."""
    env = {k: v for k, v in os.environ.items() if k != "RFKERNELS_ISA"}
    if isa is not None:
        env["RFKERNELS_ISA"] = isa
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def default_run() -> tuple[str, str]:
    """The default path's ISA and digest."""
    done = run_with_isa(None)
    assert done.returncode == 0, done.stderr
    isa, digest = done.stdout.split()
    return isa, digest


def test_the_default_is_the_widest_supported(default_run):
    supported = _core.supported_isas()
    assert supported[0] == "scalar"
    assert set(supported) <= {"scalar", "avx2", "avx512"}
    assert default_run[0] == supported[-1]
    assert run_with_isa("auto").stdout.split() == list(default_run)


@pytest.mark.parametrize("isa", ["scalar", "avx2", "avx512"])
def test_every_path_gives_the_default_bits(default_run, isa):
    if isa not in _core.supported_isas():
        pytest.skip(f"this CPU has no {isa}")
    done = run_with_isa(isa)
    assert done.returncode == 0, done.stderr
    ran, digest = done.stdout.split()
    assert ran == isa
    assert digest == default_run[1]
    # The digest covers something: it is not that of no bytes.
    assert digest != hashlib.sha256().hexdigest()


@pytest.mark.parametrize(
    "value, message",
    [
        ("sse9", "'sse9' is not an instruction set; it must be one of"),
        ("avx-512", "is not an instruction set"),
    ],
)
def test_bad_values_stop_the_import(value, message):
    done = run_with_isa(value)
    assert done.returncode != 0
    assert "ValueError" in done.stderr
    assert "RFKERNELS_ISA=" in done.stderr and message in done.stderr


def test_a_missing_instruction_set_stops_the_import():
    missing = [isa for isa in ("avx2", "avx512") if isa not in _core.supported_isas()]
    if not missing:
        pytest.skip("this CPU has every instruction set")
    done = run_with_isa(missing[-1])
    assert done.returncode != 0
    assert "is not supported by this CPU" in done.stderr
