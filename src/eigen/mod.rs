//! The symmetric eigendecomposition of every ridge path: a blocked Householder
//! reduction to tridiagonal form ([`tridiag`]), faer's divide and conquer on the
//! tridiagonal matrix, and faer's blocked application of the reflectors to its
//! eigenvectors.

use crate::error::{Error, Result};
use crate::parallel::Context;
use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::{evd, householder, qr::no_pivoting::factor::recommended_block_size};
use faer::{Conj, Mat, Par};

pub mod tridiag;

/// The parts every eigendecomposition's parallel work is split into, whatever the
/// pool: the bits then do not depend on the thread count (a pool of fewer threads
/// runs the parts in turn), and up to this many threads share it.
pub const EIGEN_PARTS: usize = 8;

/// The eigenvalues (ascending) and orthonormal eigenvectors (columns, in the same
/// order) of the symmetric `a` (consumed), whose lower triangle is read, with the
/// parallelism `par`. The bits depend on `par`'s degree, not on the pool that runs
/// it: `Par::rayon(k)` gives the same bits on any pool for a given `k`.
///
/// The matrix is first scaled by the power of two that brings its largest entry
/// near 1 (exact, so it changes no bit of a well-scaled problem): faer's solver
/// does not scale, and entries far from 1 (below about `1e-150`, whose squares
/// underflow) lost up to 7 digits of the eigenvalues.
///
/// # Errors
/// [`Error::NoConvergence`] if the eigensolver does not converge.
pub fn eigh(mut a: Mat<f64>, par: Par) -> Result<(Vec<f64>, Mat<f64>)> {
    let n = a.nrows();
    let largest = (0..n).fold(0.0f64, |m, j| {
        a.col(j).iter().skip(j).fold(m, |m, v| m.max(v.abs()))
    });
    let scale = if largest > 0.0 && largest.is_finite() {
        2f64.powi((-largest.log2().round()).clamp(-1000.0, 1000.0) as i32)
    } else {
        1.0
    };
    if scale != 1.0 {
        for j in 0..n {
            a.col_mut(j).iter_mut().skip(j).for_each(|v| *v *= scale);
        }
    }
    let (mut vectors, mut values) = (Mat::zeros(n, n), Diag::zeros(n));
    if n == 0 {
        return Ok((Vec::new(), vectors));
    }
    let block = recommended_block_size::<f64>(n, n);
    let reduced = tridiag::tridiagonalize(a.as_mut(), block, par.degree());
    let scratch = evd::self_adjoint_evd_scratch::<f64>(
        n,
        evd::ComputeEigenvectors::Yes,
        par,
        Default::default(),
    );
    let mut buffer = MemBuffer::new(scratch);
    let stack = MemStack::new(&mut buffer);
    evd::tridiagonal_self_adjoint_evd(
        faer::ColRef::from_slice(&reduced.diagonal).as_diagonal(),
        faer::ColRef::from_slice(&reduced.subdiagonal).as_diagonal(),
        values.as_mut(),
        Some(vectors.as_mut()),
        par,
        stack,
        Default::default(),
    )
    .map_err(|_| Error::NoConvergence)?;
    if n > 1 {
        householder::apply_block_householder_sequence_on_the_left_in_place_with_conj(
            a.as_ref().submatrix(1, 0, n - 1, n - 1),
            reduced.factors.as_ref(),
            Conj::No,
            vectors.as_mut().subrows_mut(1, n - 1),
            par,
            stack,
        );
    }
    let values = values.column_vector().iter().map(|v| v / scale).collect();
    Ok((values, vectors))
}

/// [`eigh`] of the symmetric `a` (consumed, freed when done) on `ctx`'s pool, its
/// work split [`EIGEN_PARTS`] ways whatever the pool, while polling its interrupt:
/// the eigendecomposition of every ridge path.
///
/// # Errors
/// [`Error::NoConvergence`]; [`Error::Interrupted`] if the interrupt fires.
pub fn pooled_eigh(a: Mat<f64>, ctx: &Context) -> Result<(Vec<f64>, Mat<f64>)> {
    ctx.run_interruptible(move || eigh(a, Par::rayon(EIGEN_PARTS)))
}
