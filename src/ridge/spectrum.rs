//! What training errors and GCV share: the eigendecomposition of a path and its
//! targets projected on the eigenvectors.
//!
//! With eigenvalues `lambda_j` (of `Z~^T Z~` or `Z~ Z~^T`) and the projected
//! targets `c_j = q_j^T Z~^T y~` (`= sqrt(lambda_j) u_j^T y~` on the dual side),
//! the fit at `alpha` removes `c_j^2 g_j (2 - lambda_j g_j)` from the residual sum
//! of squares along eigenvector `j`, `g_j = shrinkage(lambda_j, alpha)`:
//!
//! ```text
//! RSS(alpha) = ||y~||^2 - sum_j c_j^2 g_j (2 - lambda_j g_j)
//! df(alpha)  = sum_j lambda_j g_j  (+ 1 for the intercept)
//! ```
//!
//! Training errors are `RSS / s_sum` (a weight of 2 is the same as a repeated
//! row); GCV is `(RSS / s_sum) / (1 - df / n)^2`.

use super::{SymmetricEigen, check_alphas, shrinkage};
use crate::error::{Error, Result};
use faer::Mat;

/// The spectral parts of a ridge path: its eigendecomposition, projected targets
/// and totals, from which training errors and GCV follow for every alpha.
///
/// The fields are public so that a path can be rebuilt in another process
/// (pickling); [`SpectralParts::check_parts`] validates one built that way.
#[derive(Clone, Debug)]
pub struct SpectralParts {
    /// The eigendecomposition (`r` values ascending, `r x r` vectors; `r = D` for
    /// the primal path, `n` for the dual one), truncated at `cutoff`.
    pub eigen: SymmetricEigen,
    /// The targets projected on the eigenvectors, `c_jk = q_j^T Z~^T y~_k`, `r x t`.
    pub projected_cross: Mat<f64>,
    /// `||y~_k||^2 = sum_i s_i (y_ik - y_mean_k)^2` per target (`t`).
    pub target_squares: Vec<f64>,
    /// The total sample weight `s_sum`.
    pub weight_sum: f64,
    /// The number of rows `n`.
    pub n_samples: usize,
    /// Whether the statistics were centered (the intercept counts in `df`).
    pub fit_intercept: bool,
    /// The pseudo-inverse's eigenvalue cut-off ([`SymmetricEigen::truncate`]).
    pub cutoff: f64,
}

impl SpectralParts {
    /// The number of eigenvalues `r`.
    pub fn rank(&self) -> usize {
        self.eigen.values.len()
    }

    /// The number of targets `t`.
    pub fn n_targets(&self) -> usize {
        self.projected_cross.ncols()
    }

    /// Checks that the parts agree in shape: values `(r,)`, vectors `(r, r)`,
    /// projected targets `(r, t)`, target squares `(t,)`, and at least one row.
    ///
    /// # Errors
    /// [`Error::Shape`] listing the expected shapes.
    pub fn check_parts(&self) -> Result<()> {
        let (r, t) = (self.rank(), self.n_targets());
        let consistent = self.eigen.vectors.nrows() == r
            && self.eigen.vectors.ncols() == r
            && self.projected_cross.nrows() == r
            && self.target_squares.len() == t
            && self.n_samples > 0;
        if consistent {
            return Ok(());
        }
        Err(Error::Shape(
            "inconsistent spectral parts: values (r,), vectors (r, r), projected cross \
             (r, t), target squares (t,), at least one row"
                .into(),
        ))
    }

    /// Checks a path built field by field (unpickled): these parts
    /// ([`SpectralParts::check_parts`]), and `agree(r, t)`, whether the path's
    /// other parts agree in shape with `r` eigenvalues and `t` targets.
    ///
    /// # Errors
    /// [`Error::Shape`] with `message` (the shapes the path expects) unless both hold.
    pub fn check_path(
        &self,
        agree: impl FnOnce(usize, usize) -> bool,
        message: &str,
    ) -> Result<()> {
        if self.check_parts().is_ok() && agree(self.rank(), self.n_targets()) {
            return Ok(());
        }
        Err(Error::Shape(message.into()))
    }

    /// `sum_i s_i r_i^2` per alpha (rows) and target.
    fn residual_sums(&self, alphas: &[f64]) -> Mat<f64> {
        Mat::from_fn(alphas.len(), self.projected_cross.ncols(), |a, k| {
            let explained: f64 = self
                .eigen
                .values
                .iter()
                .enumerate()
                .map(|(j, &lambda)| {
                    let g = shrinkage(lambda, alphas[a], self.cutoff);
                    self.projected_cross[(j, k)].powi(2) * g * (2.0 - lambda * g)
                })
                .sum();
            (self.target_squares[k] - explained).max(0.0)
        })
    }

    /// Training errors `sum_i s_i r_i^2 / s_sum` for every alpha (rows) and target.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite alpha.
    pub fn train_errors(&self, alphas: &[f64]) -> Result<Mat<f64>> {
        check_alphas(alphas)?;
        Ok(self.residual_sums(alphas) / self.weight_sum)
    }

    /// `(RSS / s_sum) / (1 - df / n)^2` for every alpha and target, with `n` the
    /// number of rows and `df = sum_j lambda_j g_j` (+ 1 for the intercept): Golub,
    /// Heath and Wahba's generalized cross-validation of the problem in the
    /// weight-scaled rows `sqrt(s_i) (z_i, y_i)`. Scaling every weight by `c` is the
    /// same as scaling alpha by `1 / c`. Infinite when `df >= n`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite alpha.
    pub fn gcv_errors(&self, alphas: &[f64]) -> Result<Mat<f64>> {
        check_alphas(alphas)?;
        let n = self.n_samples as f64;
        let rss = self.residual_sums(alphas);
        Ok(Mat::from_fn(rss.nrows(), rss.ncols(), |a, k| {
            let df: f64 = self
                .eigen
                .values
                .iter()
                .map(|&l| l * shrinkage(l, alphas[a], self.cutoff))
                .sum::<f64>()
                + f64::from(u8::from(self.fit_intercept));
            let denominator = (1.0 - df / n).powi(2);
            if denominator > 0.0 {
                rss[(a, k)] / self.weight_sum / denominator
            } else {
                f64::INFINITY
            }
        }))
    }
}

/// What the primal and dual paths share: eigenvalues, training errors and GCV
/// from their [`SpectralParts`], for every alpha at once, and the check of parts
/// built field by field.
pub trait SpectralPath {
    /// The path's spectral parts.
    fn spectrum(&self) -> &SpectralParts;

    /// Checks that the parts of a path built field by field (unpickled) agree in
    /// shape ([`SpectralParts::check_path`]).
    ///
    /// # Errors
    /// [`Error::Shape`] if the shapes disagree or there are no rows.
    fn check_parts(&self) -> Result<()>;

    /// The eigenvalues of the centered, weighted Gram or kernel matrix, ascending.
    fn eigenvalues(&self) -> &[f64] {
        &self.spectrum().eigen.values
    }

    /// Training errors `sum_i s_i r_i^2 / s_sum` for every alpha (rows) and target.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite alpha.
    fn train_errors(&self, alphas: &[f64]) -> Result<Mat<f64>> {
        self.spectrum().train_errors(alphas)
    }

    /// Generalized cross-validation errors for every alpha and target
    /// ([`SpectralParts::gcv_errors`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite alpha.
    fn gcv_errors(&self, alphas: &[f64]) -> Result<Mat<f64>> {
        self.spectrum().gcv_errors(alphas)
    }
}
