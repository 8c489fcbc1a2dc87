"""``rfkernels sweep`` on users' own csv files: mixed columns, real data, bad files, errors.

The command runs in this process (``main``) on small generated or bundled data: a
mixed csv as pandas writes one (an index column, text columns, a price-like target
far from 0) and scikit-learn's diabetes data. Each run must exit with status 0,
state its preprocessing, and show the tuned test MSE falling with width; each bad
file must give one line on stderr and exit status 2.
"""

import re

import numpy as np
import pytest
from rfkernels.cli import main
from rfkernels.cli._columns import table_data
from rfkernels.cli._errors import CommandError
from test_cli import run

pd = pytest.importorskip("pandas")

FAST = ["--no-figures", "--no-progress"]


def tuned_test_mse(out):
    """The table's test MSE column (mean over seeds), one entry per width."""
    rows = [line.split() for line in out.splitlines() if re.match(r"^\s+\d+\s+[\d.e+-]+\s", line)]
    return np.array([float(row[3]) for row in rows])


@pytest.fixture(scope="module")
def mixed_csv(tmp_path_factory):
    """400 rows as pandas writes them (index column): 2 numeric, 2 text, a price target."""
    rng = np.random.default_rng(0)
    n = 400
    size, depth = rng.gamma(2.0, 0.5, n), rng.normal(60.0, 2.0, n)
    cut = rng.choice(["Fair", "Good", "Ideal"], n, p=[0.2, 0.3, 0.5])
    color = rng.choice(list("DEFGH"), n)
    effect = pd.Series(cut).map({"Fair": -300.0, "Good": 0.0, "Ideal": 400.0}).to_numpy()
    price = 3900 + 2500 * np.log1p(size) ** 2 + effect + 30 * (depth - 60)
    price += 150 * rng.standard_normal(n)
    frame = pd.DataFrame({"size": size, "cut": cut, "depth": depth, "color": color})
    frame["price"] = price
    path = tmp_path_factory.mktemp("mixed") / "mixed.csv"
    frame.to_csv(path)  # the index too: a first column named "Unnamed: 0" when read back
    return path


@pytest.fixture(scope="module")
def mixed_run(mixed_csv):
    return run(["sweep", "--data", str(mixed_csv), "--target", "price", *FAST])


def test_mixed_csv_with_defaults_states_its_preprocessing(mixed_run):
    status, out, err = mixed_run
    assert status == 0, err
    lines = out.splitlines()
    assert lines[1] == (
        "Columns: target price; 2 numeric features (size, depth); 2 text features one-hot "
        "encoded (cut: 3 categories, color: 5 categories; at most 20 per column): 10 feature "
        "columns."
    )
    assert lines[2] == "Dropped the first column 'Unnamed: 0': a row index, as R or pandas write."
    assert re.search(
        r"^Preprocessing, learned on the training pool: 2 of the 10 feature columns "
        r"standardized \(mean 0, variance 1\), the others as given; targets centered \(mean "
        r"5,\d{3} subtracted\)\. Predicting the training mean scores test MSE 1\.\d+e\+06\.$",
        out,
        re.M,
    ), out
    assert "gamma = 0.2778, the 'scale' rule" in out
    assert "Theory: the kernel's eigenstructure measured on 300 training rows" in out
    assert "Kernel line" not in out  # 300 training rows: the kernel uses them all
    assert re.search(r"Done in \d+ s\.", out)


def test_mixed_csv_tuned_test_mse_falls_with_width(mixed_run):
    status, out, _ = mixed_run
    assert status == 0
    test = tuned_test_mse(out)
    assert len(test) == 5  # the default widths 16, 64, 256, 1024, 4096
    assert np.all(np.diff(test) <= 0), test
    assert test[-1] < 0.1 * 1.3e6  # far below predicting the mean
    assert "it falls at every step." in out


def test_diabetes_csv_with_defaults(tmp_path):
    from sklearn.datasets import load_diabetes

    path = tmp_path / "diabetes.csv"
    load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    status, out, err = run(["sweep", "--data", str(path), "--target", "target", *FAST])
    assert status == 0, err
    assert "Columns: target target; 10 numeric features (age, sex, bmi" in out
    assert (
        "Preprocessing, learned on the training pool: every feature column standardized (mean "
        "0, variance 1); targets centered (mean 151.9 subtracted)."
    ) in out
    test = tuned_test_mse(out)
    assert len(test) == 5 and np.all(np.diff(test) <= 0), test


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--no-standardize"], "Preprocessing: none, features and targets as given."),
        (["--scale-target"], "MSE in units of the target variance"),
        (["--gamma", "loo"], "Gamma: leave-one-out of kernel ridge on 300 training rows chose"),
        (["--n-kernel", "100"], "Kernel line: fitted on a random 100 of the 300 training rows"),
        (["--no-kernel"], "Kernel line: not computed."),
        (["--categorical", "ordinal"], "2 text features as ordinal codes of their sorted"),
        (["--categorical", "drop"], "Dropped the text columns cut, color (--categorical drop)."),
        (["--max-categories", "4"], "color: 5 categories, the 3 most frequent and 'other'"),
    ],
)
def test_flags_change_what_the_header_states(mixed_csv, flags, expected):
    argv = ["sweep", "--data", str(mixed_csv), "--target", "price", "--widths", "16,64"]
    status, out, err = run([*argv, "--seeds", "1", "--no-theory", *FAST, *flags])
    assert status == 0, err
    assert expected in out, out
    assert "exact_kernel" not in err  # the subsample is stated in the header, not warned


# --------------------------------------------------------------------------- bad files

BAD_CSVS = {
    "missing-values": (
        "a,b,c\n1,,3\n4,5,6\n7,8,\n",
        "missing values in column 'b' (1 rows), 'c' (1 rows); pass --dropna to drop those rows",
    ),
    "only-text": ("a,b\nx,y\nz,w\n", "every column is text (a, b); a sweep needs a numeric"),
    "one-column": ("a\n1\n2\n3\n", "only one column ('a'); a sweep needs a target column and"),
    "no-rows": ("a,b\n", "no data rows below the header"),
    "empty-file": ("", "the csv file is empty (it needs a header row)"),
    "unknown-target": ("a,b\n1,2\n", "--target: no column 'price' in"),
    "text-target": ("a,price\n1,cheap\n2,dear\n", "--target price: a text column (values such"),
    "all-rows-missing": ("a,b\n1,\n,2\n", "every row has a missing value; --dropna leaves none"),
    "text-dropped": ("a,b\nx,1\ny,2\n", "no numeric feature columns (text: a); use --categorical"),
}
BAD_FLAGS = {
    "unknown-target": ["--target", "price"],
    "text-target": ["--target", "price"],
    "all-rows-missing": ["--dropna"],
    "text-dropped": ["--categorical", "drop"],
}


@pytest.mark.parametrize("case", list(BAD_CSVS))
def test_bad_csv_is_one_line_and_status_2(case, tmp_path):
    text, message = BAD_CSVS[case]
    path = tmp_path / "bad.csv"
    path.write_text(text)
    status, out, err = run(["sweep", "--data", str(path), *BAD_FLAGS.get(case, []), *FAST])
    assert status == 2
    assert err == f"rfkernels sweep: error: --data {path}: {message}\n" or (
        err.startswith("rfkernels sweep: error: ") and message in err and err.count("\n") == 1
    ), err
    assert out == ""


def test_dropna_drops_the_incomplete_rows_and_says_so(mixed_csv, tmp_path):
    frame = pd.read_csv(mixed_csv, index_col=0)
    frame.loc[[3, 10, 11], "depth"] = np.nan
    frame.loc[20, "cut"] = np.nan
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    argv = ["sweep", "--data", str(path), "--target", "price", "--widths", "16", *FAST]
    status, _, err = run(argv)
    assert status == 2
    assert "missing values in column 'cut' (1 rows), 'depth' (3 rows); pass --dropna" in err
    status, out, err = run([*argv, "--dropna", "--no-theory", "--seeds", "1"])
    assert status == 0, err
    assert "Dropped 4 of the 400 rows for missing values (--dropna): 396 left." in out


# --------------------------------------------------------------------------- columns


def test_one_hot_past_the_cap_keeps_the_most_frequent_and_lumps_the_rest():
    letters = np.array(list("aaaabbbccd"), dtype=object)
    data = table_data(
        {"x": letters, "y": np.arange(10.0)}, None, source="--data f.csv", max_categories=3
    )
    # a (4) and b (3) keep their columns; c and d share the third.
    np.testing.assert_array_equal(data.X.argmax(axis=1), [0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert data.X.sum(axis=1).tolist() == [1.0] * 10
    assert "x: 4 categories, the 2 most frequent and 'other'" in data.notes[0]
    assert not data.standardize.any()


def test_ordinal_codes_follow_the_sorted_categories():
    columns = {"grade": np.array(["b", "a", "c", "a"], dtype=object), "y": np.ones(4)}
    data = table_data(columns, "y", source="--data f.csv", categorical="ordinal")
    assert data.X[:, 0].tolist() == [1.0, 0.0, 2.0, 0.0] and data.standardize.tolist() == [True]


@pytest.mark.parametrize("name", ["", "Unnamed: 0", "rownames"])
def test_an_index_column_is_dropped_only_in_first_place(name):
    columns = {name: np.arange(3.0), "a": np.ones(3), "y": np.arange(3.0)}
    data = table_data(columns, None, source="--data f.csv")
    assert data.X.shape == (3, 1) and f"Dropped the first column {name!r}" in data.notes[-1]
    later = table_data({"a": np.ones(3), **columns}, None, source="--data f.csv")
    assert later.X.shape == (3, 2) and not any("Dropped" in note for note in later.notes)


def test_several_targets_and_boolean_columns(tmp_path):
    path = tmp_path / "multi.csv"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"flag": rng.random(40) > 0.5, "a": rng.standard_normal(40)})
    frame["y1"], frame["y2"] = frame.a + frame.flag, frame.a - 5.0
    frame.to_csv(path, index=False)
    argv = ["sweep", "--data", str(path), "--target", "y1,y2", "--widths", "4", "--no-theory"]
    status, out, err = run([*argv, "--seeds", "1", *FAST])
    assert status == 0, err
    assert "Columns: target y1, y2; 2 numeric features (flag, a): 2 feature columns." in out


def test_without_pandas_numeric_csv_files_still_work(tmp_path, monkeypatch):
    # (sys.modules["pandas"] = None would break scikit-learn's own checks for frames.)
    monkeypatch.setattr("rfkernels.cli.data.pandas_installed", lambda: False)
    rng = np.random.default_rng(0)
    path = tmp_path / "numbers.csv"
    np.savetxt(path, rng.standard_normal((80, 3)), delimiter=",", header="a,b,y", comments="")
    status, out, err = run(["sweep", "--data", str(path), "--widths", "8", "--no-theory", *FAST])
    assert status == 0, err
    assert "Columns: target y; 2 numeric features (a, b): 2 feature columns." in out
    text = tmp_path / "text.csv"
    text.write_text("a,y\nx,1\n")
    status, _, err = run(["sweep", "--data", str(text), *FAST])
    assert status == 2 and "pip install pandas to read text columns" in err
    assert err.count("\n") == 1


# --------------------------------------------------------------------------- errors


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        main(["sweep", "--data", str(tmp_path / "missing.csv"), "--debug"])


@pytest.mark.parametrize(
    ("error", "status", "line"),
    [
        (
            MemoryError("Unable to allocate 12 GiB"),
            2,
            "error: Unable to allocate 12 GiB; use fewer",
        ),
        (ValueError("n_samples must be <= 10"), 2, "error: --n-samples must be <= 10"),
        (RuntimeError("boom"), 1, "internal error: RuntimeError: boom (rerun with --debug"),
        (KeyboardInterrupt(), 130, "rfkernels sweep: interrupted"),
    ],
    ids=["memory", "value", "bug", "interrupt"],
)
def test_errors_of_the_sweep_are_one_line(mixed_csv, monkeypatch, error, status, line):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr("rfkernels.sweep.width_sweep", fail)
    code, _, err = run(["sweep", "--data", str(mixed_csv), "--target", "price", *FAST])
    assert code == status
    assert line in err and err.count("\n") == 1 and "Traceback" not in err, err
