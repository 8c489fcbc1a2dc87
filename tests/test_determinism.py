"""Thread-count determinism at the sizes where the Rust core actually runs in parallel.

The core splits its work into pieces whose sizes never depend on the thread count:
features into chunks of 128 rows, the Gram ``Z^T Z`` into tiles of ``GRAM_TILE = 256``
features (``src/gram/products.rs``), the primal leave-one-out pass into blocks of 512 rows
(``src/ridge/primal.rs``), the dual one into blocks of 128 rows (``src/ridge/dual.rs``),
the kernel-center products of the CG solver into tasks of 2048 rows
(``src/kernels/products.rs``) and every eigendecomposition into ``EIGEN_PARTS = 8``
parts (``src/ridge/mod.rs``). Below those sizes there is one piece and nothing to
reorder, so the primal fits here have n = 1300 rows and D = 600 features (3 x 3 Gram
tiles, 3 leave-one-out blocks), the dual ones n = 700 < D = 1300 (6 blocks) and the
CG fit 4200 rows (3 product tasks).

Each thread count of ``THREADS`` runs in a fresh interpreter with
``RAYON_NUM_THREADS`` set: the core's shared pool is built once per process, and an
explicit ``n_jobs`` is capped at the number of cores (2 on the project's machine), so
3 and 5 threads can only come from the environment. The interpreter runs this file
as a script, which makes every fit below and saves its arrays to one ``.npz``; the
tests compare every run with the one-thread run.

Every entry is computed by one fixed sequence of operations whatever the pool, so
features, Gram statistics and every fit's grid, errors, coefficients, intercepts
and predictions must be **bit-identical**. (Until the eigendecomposition's split
was fixed, its parts followed the shared pool's size and the fits through it agreed
only to rounding, amplified by small ridges: 1.3e-7 for dual leave-one-out errors
at ``1e-10 lambda``.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import dask
import dask.array as da
import numpy as np
import pytest
from rfkernels import KernelRidge, RandomFeatureRidge, RandomFeatures, RowBatches
from rfkernels._engine.features import FeatureArrays
from rfkernels._engine.passes import ArrayRows, default_chunk_rows, gram_statistics
from test_oracles_real_sizes import new_rows, training_data

THREADS = (1, 2, 3, 5)
#: (rows, features) of the primal fits (n >= D) and of the dual fits (n < D).
PRIMAL = (1300, 600)
DUAL = (700, 1300)
#: Rows of the CG fit: three tasks of the kernel-center products (2048 rows each).
CG_ROWS = 4200
N_CENTERS = 600
#: Ridges at which CG converges within its default 100 iterations here.
CG_ALPHAS = [0.1, 1.0, 10.0, 100.0]


# ------------------------------------------------- the fits (run in the subprocesses)


def feature_arrays() -> dict[str, np.ndarray]:
    """Random features (float32, float64; cos and sin/cos pairs) and their Gram statistics.

    The statistics come from the pass every primal fit makes (weighted rows, targets
    minus their mean), in one chunk of rows as the fits' default chunk size gives.
    """
    X, Y, w = training_data(PRIMAL[0])
    D = PRIMAL[1]
    out = {}
    for fourier in ("cos", "sincos"):
        features = RandomFeatures(n_components=D, fourier=fourier, random_state=0).fit(X)
        out[f"{fourier}.float64"] = features.transform(X)
        out[f"{fourier}.float32"] = features.transform(X.astype(np.float32))
        stats = gram_statistics(
            ArrayRows(X, Y, w, default_chunk_rows(D)),
            FeatureArrays.of(features),
            Y.shape[1],
            shift=Y.mean(axis=0),
            chunk_rows=default_chunk_rows(D),
            n_jobs=None,
        )
        for part in ("gram", "cross", "feature_sums", "target_sums", "target_squares"):
            out[f"{fourier}.stats.{part}"] = np.asarray(getattr(stats, part))
        out[f"{fourier}.stats.weight_sum"] = np.asarray(stats.weight_sum)
    return out


def fitted_arrays(model) -> dict[str, np.ndarray]:
    """What a fitted ridge model chose, its errors, coefficients and predictions."""
    coef = model.coef_ if hasattr(model, "coef_") else model.dual_coef_
    return {
        "alphas_": model.alphas_,
        "alpha_": np.asarray(model.alpha_),
        "cv_results_": model.cv_results_,
        "train_errors_": model.train_errors_,
        "coef_": np.asarray(coef),
        "intercept_": np.asarray(model.intercept_),
        "predict": model.predict(new_rows()),
    }


def targets(Y: np.ndarray, n_targets: int) -> np.ndarray:
    """Both targets, or the first one alone (1-d ``y``: its products are matrix-vector)."""
    return Y if n_targets == 2 else Y[:, 0]


def random_feature_ridge(
    shape: tuple[int, int], cv, n_targets: int = 2, dtype=np.float64
) -> Callable[[], dict]:
    """A weighted ``RandomFeatureRidge`` fit of ``shape`` (rows, features) on ``dtype`` rows."""

    def fit() -> dict:
        X, Y, w = training_data(shape[0])
        Y = targets(Y, n_targets)
        model = RandomFeatureRidge(n_components=shape[1], cv=cv, random_state=0)
        return fitted_arrays(model.fit(X.astype(dtype), Y, sample_weight=w))

    return fit


def kernel_ridge(n: int, n_targets: int = 2, **params) -> Callable[[], dict]:
    """A weighted ``KernelRidge`` fit on ``n`` rows."""

    def fit() -> dict:
        X, Y, w = training_data(n)
        Y = targets(Y, n_targets)
        model = KernelRidge(random_state=0, **params)
        return fitted_arrays(model.fit(X, Y, sample_weight=w))

    return fit


def partial_fit() -> dict:
    """``partial_fit`` over three unequal batches of the primal rows."""
    X, Y, w = training_data(PRIMAL[0])
    model = RandomFeatureRidge(n_components=PRIMAL[1], random_state=0)
    for rows in np.split(np.arange(len(X)), [300, 900]):
        model.partial_fit(X[rows], Y[rows], sample_weight=w[rows])
    return fitted_arrays(model)


def row_batches_fit() -> dict:
    """A leave-one-out fit on ``RowBatches`` of 400 rows (the last one short)."""
    X, Y, w = training_data(PRIMAL[0])
    model = RandomFeatureRidge(n_components=PRIMAL[1], random_state=0)
    return fitted_arrays(model.fit(RowBatches.from_arrays(X, Y, w, batch_rows=400)))


def dask_fit() -> dict:
    """A leave-one-out fit on Dask arrays of unequal blocks, on the threaded scheduler."""
    X, Y, w = training_data(PRIMAL[0])
    model = RandomFeatureRidge(n_components=PRIMAL[1], random_state=0)
    with dask.config.set(scheduler="threads"):
        model.fit(
            da.from_array(X, chunks=((500, 300, 500), 8)),
            da.from_array(Y, chunks=650),
            sample_weight=da.from_array(w, chunks=650),
        )
    return fitted_arrays(model)


#: Every fit, on the "auto" grid unless it says otherwise.
FITS: dict[str, Callable[[], dict]] = {
    "primal-loo": random_feature_ridge(PRIMAL, None),
    "primal-gcv": random_feature_ridge(PRIMAL, "gcv"),
    "primal-3-fold": random_feature_ridge(PRIMAL, 3),
    "dual-loo": random_feature_ridge(DUAL, None),
    "dual-gcv": random_feature_ridge(DUAL, "gcv"),
    "dual-3-fold": random_feature_ridge(DUAL, 3),
    "primal-loo-1-target": random_feature_ridge(PRIMAL, None, n_targets=1),
    "dual-loo-1-target": random_feature_ridge(DUAL, None, n_targets=1),
    # float32 rows: features, Gram tiles and the leave-one-out pass in float32.
    "primal-loo-float32": random_feature_ridge(PRIMAL, None, dtype=np.float32),
    "dual-loo-float32": random_feature_ridge(DUAL, None, dtype=np.float32),
    "kernel-exact": kernel_ridge(PRIMAL[0]),
    "kernel-eigen": kernel_ridge(PRIMAL[0], n_centers=N_CENTERS, solver="eigen"),
    "kernel-eigen-1-target": kernel_ridge(
        PRIMAL[0], n_targets=1, n_centers=N_CENTERS, solver="eigen"
    ),
    "kernel-cg": kernel_ridge(CG_ROWS, n_centers=N_CENTERS, solver="cg", alphas=CG_ALPHAS),
    "partial_fit": partial_fit,
    "row-batches": row_batches_fit,
    "dask": dask_fit,
}


def os_threads() -> int:
    """The threads of this process now (Linux), to count those the core's pool starts."""
    return len(os.listdir("/proc/self/task"))


def all_arrays() -> dict[str, np.ndarray]:
    """Every array the tests compare, keyed ``features.<name>`` or ``<fit>.<attribute>``.

    ``pool_threads`` is the number of threads the first (feature) pass started: the
    size of the core's shared pool.
    """
    before = os_threads()
    features = feature_arrays()
    out = {"pool_threads": np.asarray(os_threads() - before)}
    out.update({f"features.{key}": value for key, value in features.items()})
    for name, fit in FITS.items():
        out.update({f"{name}.{key}": value for key, value in fit().items()})
    return out


# ----------------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[int, dict[str, np.ndarray]]:
    """The arrays of every thread count, each from a fresh interpreter."""
    directory = tmp_path_factory.mktemp("determinism")
    out = {}
    for threads in THREADS:
        path = directory / f"threads{threads}.npz"
        env = {**os.environ, "RAYON_NUM_THREADS": str(threads)}
        subprocess.run([sys.executable, __file__, str(path)], env=env, check=True, timeout=300)
        with np.load(path) as saved:
            out[threads] = dict(saved)
    return out


def test_each_run_had_its_thread_count(runs):
    """The first pass started a pool of RAYON_NUM_THREADS threads, in each process."""
    assert {threads: int(runs[threads]["pool_threads"]) for threads in THREADS} == {
        threads: threads for threads in THREADS
    }


def differing(runs, prefix: str, threads: int) -> list[str]:
    """The arrays starting with ``prefix`` whose bits differ from the one-thread run's."""
    reference, arrays = runs[1], runs[threads]
    keys = [key for key in reference if key.startswith(f"{prefix}.")]
    assert keys, prefix
    return [key for key in keys if not np.array_equal(arrays[key], reference[key])]


@pytest.mark.parametrize("threads", THREADS[1:])
def test_features_and_statistics_are_bit_identical(runs, threads):
    assert len([key for key in runs[1] if key.startswith("features.")]) == 2 * 8
    differ = differing(runs, "features", threads)
    assert not differ, f"RAYON_NUM_THREADS={threads} changed the bits of {differ}"


@pytest.mark.parametrize("threads", THREADS[1:])
@pytest.mark.parametrize("fit", list(FITS))
def test_fits_are_bit_identical_for_any_thread_count(runs, fit, threads):
    """The grid, ``alpha_``, the errors, coefficients, intercepts and predictions."""
    assert len([key for key in runs[1] if key.startswith(f"{fit}.")]) == 7
    differ = differing(runs, fit, threads)
    assert not differ, f"RAYON_NUM_THREADS={threads} changed the bits of {differ}"


if __name__ == "__main__":
    np.savez(sys.argv[1], **all_arrays())
