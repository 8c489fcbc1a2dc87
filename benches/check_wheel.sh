#!/usr/bin/env bash
# Check the release wheel as a user gets it:
#   1. build it with maturin (release) into a temporary directory (the installed editable
#      package is not touched, but cargo's target/ dir is shared with other builds);
#   2. check that its filename is tagged abi3 and that it ships _core, the stubs and py.typed;
#   3. install it in a fresh virtualenv (dependencies from PyPI);
#   4. with a PATH that has no cargo/rustc and an empty environment, import rfkernels,
#      print the SIMD ISA and transform a small array in float64 and float32.
# Exits non-zero on any failure. Environment: MATURIN, PYTHON (the base interpreter of
# the fresh virtualenv, default /usr/bin/python3), KEEP=1 keeps the temporary directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MATURIN="${MATURIN:-$ROOT/.venv/bin/maturin}"
PYTHON="${PYTHON:-/usr/bin/python3}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/rfk-wheel.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then
    echo "keeping $WORK"
else
    trap 'rm -rf "$WORK"' EXIT
fi

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

echo "== 1. maturin build --release (into $WORK/dist)"
(cd "$ROOT" && "$MATURIN" build --release --out "$WORK/dist")
shopt -s nullglob
wheels=("$WORK"/dist/*.whl)
[[ ${#wheels[@]} -eq 1 ]] || fail "expected exactly one wheel, got: ${wheels[*]:-none}"
wheel="${wheels[0]}"
name="$(basename "$wheel")"

echo "== 2. wheel: $name"
[[ "$name" == *-abi3-* ]] || fail "the wheel is not tagged abi3: $name"
contents="$("$PYTHON" -m zipfile -l "$wheel")"
for member in "rfkernels/_core.abi3.so" "rfkernels/_core.pyi" "rfkernels/py.typed"; do
    grep -qF "$member" <<<"$contents" || fail "the wheel lacks $member"
    echo "   has $member"
done

echo "== 3. fresh virtualenv ($("$PYTHON" --version)), pip install of the wheel"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet "$wheel"

echo "== 4. import with env -i PATH=/usr/bin:/bin (no cargo, no rustc)"
cd "$WORK"
env -i PATH=/usr/bin:/bin HOME="$HOME" "$WORK/venv/bin/python" - "$WORK/venv" <<'EOF'
import shutil
import sys
from pathlib import Path

import numpy as np

import rfkernels
from rfkernels import RandomFeatures, _core

for tool in ("cargo", "rustc"):
    assert shutil.which(tool) is None, f"{tool} is on PATH: {shutil.which(tool)}"
venv = Path(sys.argv[1]).resolve()
assert venv in Path(rfkernels.__file__).resolve().parents, rfkernels.__file__
print("rfkernels", rfkernels.__version__, "from", rfkernels.__file__)
print("python", sys.version.split()[0], "numpy", np.__version__)
print("simd_isa:", _core.simd_isa())

X = np.random.default_rng(0).standard_normal((200, 8))
for dtype in ("float64", "float32"):
    Z = RandomFeatures(n_components=4096, gamma=0.1, random_state=0).fit_transform(X.astype(dtype))
    assert Z.shape == (200, 4096) and Z.dtype == dtype and np.isfinite(Z).all()
    exact = rfkernels.kernels.kernel_matrix(X, kernel="rbf", gamma=0.1)
    error = float(np.abs(Z.astype(np.float64) @ Z.T.astype(np.float64) - exact).max())
    assert error < 0.1, error
    print(f"transform {dtype}: Z {Z.shape} {Z.dtype}, max |Z Z^T - K| = {error:.3f}")
EOF
echo "== OK: $name"
