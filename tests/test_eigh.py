"""The eigensolver of every ridge path against LAPACK (numpy.linalg.eigh) on hard spectra.

Clustered, repeated and graded (1e-16 .. 1) eigenvalues, indefinite and tiny or huge
matrices: the eigenvalues agree with LAPACK's to ``n eps ||A||``, and the residual and
orthogonality of the eigenvectors are within 10x of LAPACK's. The bits do not depend
on the thread count; bad input is a ValueError.
"""

from __future__ import annotations

import numpy as np
import pytest
from rfkernels import _core


def orthogonal(n: int, seed: int) -> np.ndarray:
    """A random ``n x n`` orthogonal matrix (Haar, from a QR with signs fixed)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return q * np.sign(np.diag(r))[None, :]


def with_spectrum(values: np.ndarray, seed: int = 0) -> np.ndarray:
    """``Q diag(values) Q^T``, symmetrized."""
    q = orthogonal(len(values), seed)
    a = (q * values[None, :]) @ q.T
    return 0.5 * (a + a.T)


def spectra(n: int) -> dict[str, np.ndarray]:
    """Hard spectra of size ``n``."""
    rng = np.random.default_rng(n)
    return {
        "graded": np.geomspace(1e-16, 1.0, n),
        "clustered": 1.0 + 1e-12 * rng.standard_normal(n),
        "repeated": np.repeat([0.0, 1e-8, 0.5, 1.0], -(-n // 4))[:n],
        "indefinite": rng.standard_normal(n),
        "rank-one": np.r_[np.zeros(n - 1), 3.0],
        "wide-range": np.geomspace(1e-300, 1e-280, n),
    }


def accuracy(a, values, vectors) -> tuple[float, float]:
    """Relative residual and orthogonality error of a decomposition of ``a``."""
    norm = np.linalg.norm(a)
    residual = np.linalg.norm(a @ vectors - vectors * values[None, :]) / norm if norm else 0.0
    gram = vectors.T @ vectors - np.eye(len(a))
    return float(residual), float(np.linalg.norm(gram) / np.sqrt(len(a)))


EPS = np.finfo(np.float64).eps


# 130 spans three 64-column panels of the reduction; 700 and 1100 split its symmetric
# products into parallel parts (trailing sizes from 512) and end in ragged panels.
@pytest.mark.parametrize("n", [1, 2, 3, 17, 130, 400, 700, 1100])
@pytest.mark.parametrize("kind", list(spectra(4)))
def test_hard_spectra_match_lapack(kind, n):
    a = with_spectrum(spectra(n)[kind], seed=n)
    values, vectors = _core.symmetric_eigh(a)
    want_values, want_vectors = np.linalg.eigh(a)
    scale = np.linalg.norm(a, 2)
    assert values.shape == (n,) and vectors.shape == (n, n)
    np.testing.assert_array_equal(values, np.sort(values))
    np.testing.assert_allclose(values, want_values, rtol=0, atol=4 * n * EPS * scale)
    residual, orthogonality = accuracy(a, values, vectors)
    want_residual, want_orthogonality = accuracy(a, want_values, want_vectors)
    # 10x LAPACK's, or a few eps where LAPACK happens to be exact.
    assert residual <= 10 * want_residual + 4 * EPS
    assert orthogonality <= 10 * want_orthogonality + 4 * EPS


def test_a_diagonal_and_a_zero_matrix_are_exact():
    d = np.array([3.0, -1.0, 0.0, 2.5])
    values, vectors = _core.symmetric_eigh(np.diag(d))
    np.testing.assert_array_equal(values, np.sort(d))
    np.testing.assert_allclose(np.abs(vectors), np.eye(4)[:, np.argsort(d)], atol=0)
    values, vectors = _core.symmetric_eigh(np.zeros((5, 5)))
    np.testing.assert_array_equal(values, 0.0)
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(5), atol=4 * EPS)


def test_only_the_lower_triangle_is_read():
    a = with_spectrum(spectra(50)["indefinite"])
    garbage = a.copy()
    garbage[np.triu_indices(50, 1)] = np.nan
    got, want = _core.symmetric_eigh(garbage), _core.symmetric_eigh(a)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_layouts_give_the_same_bits():
    a = with_spectrum(spectra(64)["graded"])
    want = _core.symmetric_eigh(a)
    big = np.zeros((128, 128))
    big[::2, ::2] = a
    for layout in (np.asfortranarray(a), big[::2, ::2]):
        got = _core.symmetric_eigh(layout)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_the_bits_do_not_depend_on_the_thread_count():
    # Large enough that the reduction's symmetric products run in parallel parts
    # (trailing sizes from 512) and faer's divide and conquer splits its work.
    a = with_spectrum(np.random.default_rng(3).standard_normal(700))
    runs = [_core.symmetric_eigh(a, n_jobs=n_jobs) for n_jobs in (1, 2, 3)]
    for values, vectors in runs[1:]:
        np.testing.assert_array_equal(values, runs[0][0])
        np.testing.assert_array_equal(vectors, runs[0][1])


@pytest.mark.parametrize(
    "a, error, message",
    [
        (np.zeros((3, 4)), ValueError, "a must be square; got 3 x 4"),
        (np.diag([1.0, np.inf]), ValueError, "NaN or infinity"),
        (np.diag([np.nan, 1.0]), ValueError, "NaN or infinity"),
        (np.zeros(3), TypeError, "a"),
        (np.zeros((2, 2), dtype=np.float32), TypeError, "a"),
    ],
)
def test_bad_input_is_refused(a, error, message):
    with pytest.raises(error, match=message):
        _core.symmetric_eigh(a)


def test_empty_matrix():
    values, vectors = _core.symmetric_eigh(np.zeros((0, 0)))
    assert values.shape == (0,) and vectors.shape == (0, 0)
