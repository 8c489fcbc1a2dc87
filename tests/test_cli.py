"""The ``rfkernels`` command line: ``demo``, ``sweep``, ``info``, ``--help``, ``--version``."""

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rfkernels
from rfkernels import KERNELS, _core
from rfkernels.cli import build_parser, main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEMO_FIGURES = [
    "digits_width_tuned.png",
    "digits_centers_tuned.png",
    "digits_ridge.png",
    "digits_samples_tuned.png",
    "digits_samples_fit.png",
    "powerlaw_width_tuned.png",
    "powerlaw_width_fit.png",
    "powerlaw_ridge.png",
    "powerlaw_samples_tuned.png",
]


def run(argv):
    """``main(argv)`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit_info:
            status = exit_info.code
    return status, out.getvalue(), err.getvalue()


def is_png(path):
    return path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_SIGNATURE


def table_rows(out):
    """The data rows of the printed tables: lines that start with an integer."""
    return [line for line in out.splitlines() if re.match(r"^\s*\d[\d,]*\s+\S", line)]


# --------------------------------------------------------------------------- demo


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("demo")
    status, out, err = run(["demo", "--quick", "--out", str(out_dir)])
    return status, out, err, out_dir


def test_demo_quick_writes_the_figures(quick_demo):
    status, out, _, out_dir = quick_demo
    assert status == 0, out
    assert sorted(path.name for path in out_dir.iterdir()) == sorted(DEMO_FIGURES)
    for name in DEMO_FIGURES:
        assert is_png(out_dir / name), name
        assert str(out_dir / name) in out  # every path is printed


def test_demo_quick_prints_explained_tables(quick_demo):
    status, out, err, _ = quick_demo
    assert status == 0
    assert f"rfkernels {rfkernels.__version__} demo" in out
    for heading in [
        "1/4  Width sweep on real data: handwritten digits",
        "1/4, centers  The same width sweep over Nystrom centers",
        "2/4  Sample sweep on real data: handwritten digits",
        "3/4  Width sweep on a synthetic power-law task",
        "4/4  Sample sweep on a synthetic power-law task",
    ]:
        assert heading in out
    assert " ".join(out.split()).count("Look for:") == 7  # five sweeps, two ridge paths
    assert out.count("What it shows:") == 5
    assert "one-hot" in out and "load_digits" in out and "powerlaw_task" in out
    # The quick grids: 3 widths or sizes per sweep and ridge path, 2 center counts (<= n).
    assert len(table_rows(out)) == 20, out
    assert out.count("<- D = n: the interpolation peak") == 2
    assert re.search(r"^\s+kernel\s+\d", out, re.M)  # the infinite width in the ridge tables
    assert re.search(r"Done in \d+ s\.", out)
    assert "Traceback" not in err


def test_demo_without_figures_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(
        ["demo", "--quick", "--no-figures", "--no-progress", "--kernel", "relu", "--seed", "3"]
    )
    assert status == 0, out
    assert list(tmp_path.iterdir()) == []
    assert "kernel relu" in out
    assert "seeds 3, 4" in out
    assert "Figures:" not in out


def test_demo_without_matplotlib_prints_tables_and_the_install_hint(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # find_spec -> None: not installed
    status, out, _ = run(["demo", "--quick", "--no-progress", "--out", str(tmp_path)])
    assert status == 0, out
    assert "pip install 'rfkernels[plot]'" in out
    assert len(table_rows(out)) == 20
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- sweep


@pytest.fixture(scope="module")
def regression_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((240, 4))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(240)
    return X, y


@pytest.fixture
def npz_file(tmp_path, regression_data):
    X, y = regression_data
    path = tmp_path / "data.npz"
    np.savez(path, X=X, y=y)
    return path


@pytest.fixture
def csv_file(tmp_path, regression_data):
    X, y = regression_data
    path = tmp_path / "data.csv"
    # The target in the middle (by name) and a copy in the last column (the default).
    table = np.column_stack([X[:, :2], y, X[:, 2:], y])
    np.savetxt(path, table, delimiter=",", header="a,b,target,c,d,last", comments="")
    return path


SMALL = ["--seeds", "2", "--n-eigen", "100", "--no-progress"]


def test_sweep_npz_writes_table_figures_and_csv(npz_file, tmp_path):
    pd = pytest.importorskip("pandas")
    out_dir, results = tmp_path / "figures", tmp_path / "results" / "sweep.csv"
    argv = ["sweep", "--data", str(npz_file), "--widths", "8,32", "--out", str(out_dir)]
    status, out, _ = run([*argv, "--csv", str(results), *SMALL])
    assert status == 0, out
    assert "kind width" in out
    assert len(table_rows(out)) == 2, out
    names = sorted(path.name for path in out_dir.iterdir())
    assert names == ["data_width_fit.png", "data_width_ridge.png", "data_width_tuned.png"]
    assert all(is_png(out_dir / name) for name in names)
    frame = pd.read_csv(results)
    assert len(frame) > 0
    assert str(results) in out
    assert {8, 32} <= set(frame.to_numpy().ravel().tolist())


@pytest.mark.parametrize("target", [None, "target"])
def test_sweep_csv_target_by_name_and_default(csv_file, tmp_path, target):
    argv = ["sweep", "--data", str(csv_file), "--kind", "samples", "--sizes", "40,120"]
    argv += ["--width", "32", "--no-figures", *SMALL]
    if target is not None:
        argv += ["--target", target]
    status, out, _ = run(argv)
    assert status == 0, out
    assert f"target {target or 'last'}" in out
    assert "5 features" in out  # the six columns minus the target
    assert len(table_rows(out)) == 2, out
    assert list(tmp_path.glob("*.png")) == []


def test_sweep_ridge_kind(npz_file, tmp_path):
    argv = ["sweep", "--data", str(npz_file), "--kind", "ridge", "--widths", "16,64"]
    status, out, _ = run([*argv, "--out", str(tmp_path), "--no-kernel", "--no-theory", *SMALL])
    assert status == 0, out
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data.npz", "data_ridge.png"]
    assert is_png(tmp_path / "data_ridge.png")


# --------------------------------------------------------------------------- errors


#: Malformed arguments: argparse prints the usage, then its error.
USAGE_ERRORS = [
    ([], "the following arguments are required"),
    (["bogus"], "invalid choice: 'bogus'"),
    (["demo", "--kernel", "bogus"], "invalid choice: 'bogus'"),
    (["sweep"], "the following arguments are required: --data"),
    (["sweep", "--data", "{npz}", "--widths", "many"], "argument --widths: expected"),
    (["sweep", "--data", "{npz}", "--widths", "16,-4"], "positive integers"),
    (["sweep", "--data", "{npz}", "--gamma", "wide"], "argument --gamma: expected 'scale'"),
    (["sweep", "--data", "{npz}", "--test-size", "2"], "argument --test-size: expected"),
    (["sweep", "--data", "{npz}", "--seeds", "0"], "argument --seeds: expected a positive"),
    (["sweep", "--data", "{npz}", "--alphas", "-1"], "argument --alphas: expected 'auto'"),
    (["sweep", "--data", "{npz}", "--categorical", "hash"], "invalid choice: 'hash'"),
]
#: Well-formed arguments the data cannot serve: one line, no usage.
DATA_ERRORS = [
    (["sweep", "--data", "missing.npz"], "--data missing.npz: no such file"),
    (["sweep", "--data", "{npz}", "--target", "y"], "--target applies to csv files"),
    (["sweep", "--data", "{bad_npz}"], "needs the arrays 'X'"),
    (["sweep", "--data", "{csv}", "--target", "nope"], "--target: no column 'nope'"),
    (["sweep", "--data", "{txt}"], "expected a .npz or .csv file"),
    (["sweep", "--data", "{text_csv}"], "every column is text (a, b)"),
    (["sweep", "--data", "{empty_csv}"], "no data rows below the header"),
    (["sweep", "--data", "{txt}.npz"], "not a readable npz file"),
]


@pytest.mark.parametrize(
    ("argv", "message", "usage"),
    [(*case, True) for case in USAGE_ERRORS] + [(*case, False) for case in DATA_ERRORS],
)
def test_usage_errors_exit_with_status_2(argv, message, usage, npz_file, csv_file, tmp_path):
    bad_npz = tmp_path / "bad.npz"
    np.savez(bad_npz, features=np.zeros((3, 2)))
    txt = tmp_path / "data.txt"
    txt.write_text("1,2\n")
    (tmp_path / "data.txt.npz").write_bytes(b"PK\x03\x04 not a zip archive")
    text_csv = tmp_path / "text.csv"
    text_csv.write_text("a,b\nx,x\ny,y\n")
    empty_csv = tmp_path / "empty.csv"
    empty_csv.write_text("a,b\n")
    files = {"npz": npz_file, "csv": csv_file, "bad_npz": bad_npz, "txt": txt}
    argv = [arg.format(**files, text_csv=text_csv, empty_csv=empty_csv) for arg in argv]
    status, out, err = run(argv)
    assert status == 2
    assert message in err, err
    assert "Traceback" not in err
    assert out == ""
    if usage:
        assert err.startswith("usage: rfkernels"), err
    else:
        assert err.count("\n") == 1 and err.startswith("rfkernels sweep: error: "), err


def test_sweep_on_too_few_rows_for_the_theory_says_which_options_help(tmp_path, regression_data):
    X, y = regression_data
    path = tmp_path / "small.npz"
    np.savez(path, X=X[:40], y=y[:40])
    argv = ["sweep", "--data", str(path), "--widths", "8", "--no-figures", "--no-progress"]
    status, _, err = run(argv)
    assert status == 2
    assert "raise --n-eigen, give more data or pass --no-theory" in err
    assert "theory=" not in err and "n_eigen" not in err  # the flags, not the Python names
    status, out, _ = run([*argv, "--no-theory"])
    assert status == 0, out
    assert len(table_rows(out)) == 1


def test_sweep_turns_bad_grids_into_one_line_errors_naming_the_flag(npz_file):
    # 240 rows with a quarter held out leave 180 training rows: 5000 is too many.
    argv = ["sweep", "--data", str(npz_file), "--kind", "samples", "--sizes", "50,5000"]
    status, out, err = run([*argv, "--no-figures", *SMALL])
    assert status == 2
    assert err == (
        "rfkernels sweep: error: --sizes must be <= 180 (the rows of the training pool), got 5000\n"
    )
    assert "Traceback" not in out


# --------------------------------------------------------------------------- info, help


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"rfkernels {_core.__version__}" in out
    assert f"SIMD instruction set: {_core.simd_isa()}" in out
    assert re.search(r"CPU cores: \d+", out)
    assert f"kernels: {', '.join(KERNELS)}" in out


def subcommand_options():
    """Every subcommand and the option strings its parser defines (from the parser)."""
    actions = build_parser()._subparsers._group_actions[0]
    return {
        name: [
            option
            for action in sub._actions
            for option in action.option_strings
            if option not in ("-h", "--help")
        ]
        for name, sub in actions.choices.items()
    }


def test_help_mentions_the_options_we_document():
    options = subcommand_options()
    assert set(options) == {"demo", "sweep", "info"}
    assert {"--quick", "--out", "--seed", "--kernel", "--no-figures"} <= set(options["demo"])
    expected = {"--data", "--target", "--kind", "--widths", "--sizes", "--kernel", "--gamma"}
    expected |= {"--seeds", "--test-size", "--out", "--csv"}
    assert expected <= set(options["sweep"])


@pytest.mark.parametrize("command", ["demo", "sweep", "info"])
def test_help_of_each_subcommand_documents_every_option(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: rfkernels {command}" in out
    for option in subcommand_options()[command]:
        # Listed with a description: the option starts a help line followed by text.
        assert re.search(rf"^\s+{re.escape(option)}\b.*(\n\s{{10,}}\S|\s{{2,}}\S)", out, re.M), (
            option,
            out,
        )


def test_top_level_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for text in ["usage: rfkernels", "demo", "sweep", "info", "--version"]:
        assert text in out


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
