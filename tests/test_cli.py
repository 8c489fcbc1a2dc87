"""The ``rfkernels`` command line: ``demo``, ``info``, ``--help``, ``--version``."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import rfkernels
from rfkernels import KERNELS, _core
from rfkernels.cli import main


def test_demo_prints_a_table_up_to_the_infinite_width(capsys):
    assert main(["demo", "--widths", "16", "64"]) == 0
    out = capsys.readouterr().out
    rows = {
        match["width"]: float(match["accuracy"])
        for match in re.finditer(
            r"^\s*(?P<width>\d+|infinite)\s+(?P<accuracy>[01]\.\d{4})\s", out, re.M
        )
    }
    assert list(rows) == ["16", "64", "infinite"], out
    assert all(0.0 <= accuracy <= 1.0 for accuracy in rows.values())
    # Ten digit classes: chance is 0.1. The exact rbf kernel on digits is far above.
    assert rows["infinite"] > 0.9, out
    assert rows["64"] > 0.3, out
    assert f"rfkernels {rfkernels.__version__}" in out


def test_demo_takes_a_kernel_and_a_seed(capsys):
    assert main(["demo", "--kernel", "relu", "--widths", "8", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "Kernel relu" in out
    assert re.search(r"^\s*8\s+[01]\.\d{4}\s", out, re.M), out
    assert re.search(r"^\s*infinite\s+[01]\.\d{4}\s", out, re.M), out


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"rfkernels {_core.__version__}" in out
    assert f"SIMD instruction set: {_core.simd_isa()}" in out
    assert re.search(r"CPU cores: \d+", out)
    assert f"kernels: {', '.join(KERNELS)}" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--help"], ["usage: rfkernels", "demo", "info", "--version"]),
        (["demo", "--help"], ["usage: rfkernels demo", "--kernel", "--widths", "--seed"]),
        (["info", "--help"], ["usage: rfkernels info"]),
    ],
)
def test_help(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for text in expected:
        assert text in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required"),
        (["bogus"], "invalid choice: 'bogus'"),
        (["demo", "--kernel", "bogus"], "invalid choice: 'bogus'"),
        (["demo", "--widths", "many"], "invalid int value: 'many'"),
    ],
)
def test_usage_errors_exit_with_status_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "rfkernels"
    assert script.is_file()
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == rfkernels.__version__


def test_python_m_rfkernels_version():
    result = subprocess.run(
        [sys.executable, "-m", "rfkernels", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == rfkernels.__version__
