"""Thread budgets: ``GridSearchCV`` over rfkernels with ``n_jobs=1`` and ``n_jobs=2``.

``GridSearchCV(RandomFeatureRidgeClassifier(n_components=1024), 3 gammas, cv=3)`` on
5,000 digit images, as a user would run it (issue 16): 9 fits of about 3,333 rows and
their scoring. With ``n_jobs=2`` joblib runs the fits in 2 loky worker processes, each
with a budget of ``cpu_count // 2`` threads (``OMP_NUM_THREADS`` and the like in the
workers' environment), which rfkernels' ``n_jobs=None`` follows; with ``n_jobs=1`` the
fits run in turn in this process on every core. ``n_jobs=1`` is the group's reference.

The images: scikit-learn's ``load_digits`` (1,797 8x8 images) and the same images
shifted by one pixel up, down, left and right (zero-filled), 8,985 images, shuffled
with a fixed seed; the first 5,000 are used (MNIST is not available offline).
The warmup round starts the loky workers, so the timed rounds reuse them.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import Measure, scaled
from rfkernels import RandomFeatureRidgeClassifier
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

N_IMAGES = scaled(5000, minimum=300)
N_COMPONENTS = 1024
#: Around the ``gamma="scale"`` of the digits (4.3e-4).
GAMMAS = [2.5e-4, 5e-4, 1e-3]
SHIFTS = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]


def shifted(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``images`` (``n x 8 x 8``) moved by ``rows`` down and ``cols`` right, zero-filled."""
    out = np.zeros_like(images)
    height, width = images.shape[1:]
    out[:, max(rows, 0) : height + min(rows, 0), max(cols, 0) : width + min(cols, 0)] = images[
        :, max(-rows, 0) : height - max(rows, 0), max(-cols, 0) : width - max(cols, 0)
    ]
    return out


@functools.cache
def digit_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows of the digits and their one-pixel shifts, shuffled."""
    digits = load_digits()
    images = np.concatenate([shifted(digits.images, *shift) for shift in SHIFTS])
    labels = np.tile(digits.target, len(SHIFTS))
    order = np.random.default_rng(seed).permutation(len(labels))[:n]
    return images[order].reshape(n, -1), labels[order]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search(measure: Measure, n_jobs: int) -> None:
    X, y = digit_images(N_IMAGES)
    search = GridSearchCV(
        RandomFeatureRidgeClassifier(n_components=N_COMPONENTS, random_state=0),
        {"gamma": GAMMAS},
        cv=3,
        n_jobs=n_jobs,
    )
    search = measure(
        lambda: search.fit(X, y),
        group=f"GridSearchCV digits n={N_IMAGES} D={N_COMPONENTS}, 3 gammas x cv=3",
        impl=f"n_jobs={n_jobs}",
        dtype="float64",
        flops=None,
        reference=n_jobs == 1,
        shape=[N_IMAGES, X.shape[1], N_COMPONENTS],
    )
    measure.record(best_gamma=search.best_params_["gamma"], best_score=search.best_score_)
    assert search.best_score_ > 0.8
