//! Nystrom features: `z(x) = Lambda_r^(-1/2) V_r^T k(C, x)` for `M` centers `C`.
//!
//! With `K_MM = k(C, C) = V Lambda V^T`, the features of the centers reproduce
//! their kernel (`Z_C Z_C^T = K_MM`) and `z(x).z(y)` is the kernel projected onto
//! the span of the `k(., c_j)` (Williams and Seeger 2001). A ridge fit on them is
//! the Nystrom approximation of kernel ridge regression with the coefficients
//! `beta = V_r Lambda_r^(-1/2) w` of `k(C, x)`.
//!
//! **Cut-off.** Eigenvalues of `K_MM` at or below `M * eps * max(lambda)` (the
//! rule of numpy's `pinv` and `matrix_rank`) are rounding, not spectrum: their
//! directions are dropped, so `r <= M` features remain and none is scaled by
//! `1 / sqrt(rounding)`. Duplicate centers, or centers closer than the kernel can
//! tell apart, lower `r` instead of blowing up the features.

use super::FeatureSource;
use crate::error::{Error, Result};
use crate::kernels::{Kernel, KernelColumns, kernel_matrix};
use crate::parallel::Context;
use crate::real::Real;
use crate::ridge::{NoiseFloor, SymmetricEigen};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// The basis of the Nystrom features of a set of centers: the kept eigenvalues of
/// `K_MM` and the projection `V_r Lambda_r^(-1/2)`.
#[derive(Clone, Debug)]
pub struct NystroemBasis {
    /// The `r` kept eigenvalues of `K_MM`, descending.
    pub eigenvalues: Vec<f64>,
    /// `V_r Lambda_r^(-1/2)`, `M x r`: column `j` is the eigenvector of
    /// `eigenvalues[j]` divided by its square root.
    pub projection: Mat<f64>,
    /// The cut-off below which eigenvalues were dropped.
    pub cutoff: f64,
}

impl NystroemBasis {
    /// The basis of the rows of `centers` (`M x d`) for `kernel`: `K_MM`, its
    /// eigendecomposition (interruptible) and the cut-off of the module docs.
    ///
    /// # Errors
    /// As [`kernel_matrix`]; [`Error::NoConvergence`] if the eigensolver fails;
    /// [`Error::Interrupted`].
    pub fn new(kernel: &Kernel, centers: MatRef<'_, f64>, ctx: &Context) -> Result<Self> {
        let m = centers.nrows();
        if m == 0 {
            return Err(Error::Shape(
                "Nystrom features need at least one center".into(),
            ));
        }
        // The row-major kernel is freed once copied: at M = 8192 each copy is 512 MiB.
        let k = {
            let mut rows = vec![0.0; m * m];
            kernel_matrix(centers, None, kernel, &mut rows, ctx)?;
            Mat::from_fn(m, m, |i, j| rows[i * m + j])
        };
        let (eigen, cutoff) = SymmetricEigen::decompose(k, NoiseFloor::float64(m, 0.0), ctx)?;
        // Ascending values: the kept ones are the last, taken in descending order.
        let kept: Vec<usize> = (0..m).rev().filter(|&j| eigen.values[j] > 0.0).collect();
        let eigenvalues: Vec<f64> = kept.iter().map(|&j| eigen.values[j]).collect();
        let projection = Mat::from_fn(m, kept.len(), |i, c| {
            eigen.vectors[(i, kept[c])] / eigenvalues[c].sqrt()
        });
        Ok(Self {
            eigenvalues,
            projection,
            cutoff,
        })
    }
}

/// The Nystrom feature map of centers and their basis' projection:
/// `z(x) = P^T k(C, x)`, computed for a block of rows as one kernel block
/// (`rows x M`, float64) and one product with `P` (`M x r`). Without a
/// projection the features are the kernel columns `k(C, x)` themselves: their
/// statistics, projected once at the end ([`crate::gram::GramAccumulator::project`]),
/// are those of the Nystrom features at a fraction of the cost (`n M^2` flops
/// for the Gram instead of `n M r` more for the features).
#[derive(Clone, Debug)]
pub struct NystroemFeatures<'a> {
    columns: KernelColumns<'a>,
    projection: Option<MatRef<'a, f64>>,
}

impl<'a> NystroemFeatures<'a> {
    /// The features of `kernel` on the rows of `centers` with the projection
    /// `projection` (`M x r`, [`NystroemBasis::projection`]), or the kernel
    /// columns themselves for `None`.
    ///
    /// # Errors
    /// [`Error::Shape`] if `projection` does not have one row per center;
    /// [`Error::NonFinite`] for a center whose squared norm is not finite.
    pub fn new(
        kernel: &Kernel,
        centers: MatRef<'a, f64>,
        projection: Option<MatRef<'a, f64>>,
    ) -> Result<Self> {
        if let Some(projection) = projection
            && projection.nrows() != centers.nrows()
        {
            return Err(Error::Shape(format!(
                "the projection has {} rows for {} centers; it must have one per center",
                projection.nrows(),
                centers.nrows()
            )));
        }
        Ok(Self {
            columns: KernelColumns::new(kernel, centers)?,
            projection,
        })
    }
}

impl<T: Real> FeatureSource<T> for NystroemFeatures<'_> {
    fn n_components(&self) -> usize {
        self.projection.map_or(self.columns.len(), |p| p.ncols())
    }

    fn check_input(&self, n_features_in: usize) -> Result<()> {
        self.columns.check_input(n_features_in)
    }

    fn write_rows(
        &self,
        x: MatRef<'_, T>,
        first: usize,
        out: &mut [T],
        _scratch: &mut Vec<T>,
    ) -> Result<()> {
        let (rows, r) = (x.nrows(), FeatureSource::<T>::n_components(self));
        let mut z = Mat::<f64>::zeros(rows, r);
        FeatureSource::<T>::write_columns(self, x, first, z.as_mut())?;
        for (i, out_row) in out.chunks_exact_mut(r.max(1)).take(rows).enumerate() {
            for (j, v) in out_row.iter_mut().enumerate() {
                *v = T::from_f64(z[(i, j)]);
            }
        }
        Ok(())
    }

    /// The kernel block and its projection in float64, then rounded to `C`.
    fn write_columns<C: Real>(
        &self,
        x: MatRef<'_, T>,
        first: usize,
        out: MatMut<'_, C>,
    ) -> Result<()> {
        let (rows, m) = (x.nrows(), self.columns.len());
        let mut block = Vec::new();
        self.columns.tile(x, first, &mut block)?;
        let block = MatRef::from_row_major_slice(&block, rows, m);
        let mut z = Mat::<f64>::zeros(rows, out.ncols());
        match self.projection {
            Some(projection) => {
                matmul(z.as_mut(), Accum::Replace, block, projection, 1.0, Par::Seq)
            }
            None => z.copy_from(block),
        }
        for (dst, src) in out.col_iter_mut().zip(z.col_iter()) {
            dst.iter_mut()
                .zip(src.iter())
                .for_each(|(d, &v)| *d = C::from_f64(v));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::transform;
    use crate::kernels::KERNEL_NAMES;
    use crate::linalg::row_major;

    fn data(n: usize, d: usize, seed: usize) -> Vec<f64> {
        (0..n * d)
            .map(|i| (((i + seed) * 7919) % 101) as f64 / 50.0 - 1.0)
            .collect()
    }

    fn exact(kernel: &Kernel, x: &[f64], y: &[f64], d: usize) -> Vec<f64> {
        let (n, m) = (x.len() / d, y.len() / d);
        let mut k = vec![0.0; n * m];
        let (x, y) = (row_major(x, n, d), row_major(y, m, d));
        kernel_matrix(x, Some(y), kernel, &mut k, &Context::global()).unwrap();
        k
    }

    #[test]
    fn features_of_the_centers_reproduce_their_kernel() {
        // 40 distinct centers in 3 dimensions; any point's features are P^T k(C, x).
        let (m, d) = (40, 3);
        let centers = data(m, d, 0);
        for name in KERNEL_NAMES {
            let kernel = Kernel::new(name, 0.5, 0.3).unwrap();
            let c = row_major(&centers, m, d);
            let basis = NystroemBasis::new(&kernel, c, &Context::global()).unwrap();
            let features =
                NystroemFeatures::new(&kernel, c, Some(basis.projection.as_ref())).unwrap();
            let r = FeatureSource::<f64>::n_components(&features);
            let mut z = vec![f64::NAN; m * r];
            transform(c, &features, &mut z, &Context::global()).unwrap();
            let k = exact(&kernel, &centers, &centers, d);
            let scale = k.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            for i in 0..m {
                for j in 0..m {
                    let zz: f64 = (0..r).map(|l| z[i * r + l] * z[j * r + l]).sum();
                    assert!(
                        (zz - k[i * m + j]).abs() < 1e-8 * scale,
                        "{name} {i} {j}: {zz} vs {}",
                        k[i * m + j]
                    );
                }
            }
            // Other points: the features are P^T k(C, x), in float32 as well.
            let x = data(7, d, 11);
            let mut z = vec![f64::NAN; 7 * r];
            transform(row_major(&x, 7, d), &features, &mut z, &Context::global()).unwrap();
            let kx = exact(&kernel, &x, &centers, d);
            for i in 0..7 {
                for l in 0..r {
                    let terms = (0..m).map(|j| kx[i * m + j] * basis.projection[(j, l)]);
                    let want: f64 = terms.clone().sum();
                    let size: f64 = terms.map(f64::abs).sum();
                    assert!((z[i * r + l] - want).abs() <= 1e-12 * size, "{name}");
                }
            }
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let mut z32 = vec![f32::NAN; 7 * r];
            transform(
                row_major(&x32, 7, d),
                &features,
                &mut z32,
                &Context::global(),
            )
            .unwrap();
            assert!(z32.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn duplicate_centers_lower_the_rank_instead_of_blowing_up() {
        let d = 2;
        let mut centers = data(10, d, 3);
        centers.extend_from_within(..4 * d); // rows 10..14 repeat rows 0..4
        let kernel = Kernel::Rbf { gamma: 1.0 };
        let c = row_major(&centers, 14, d);
        let basis = NystroemBasis::new(&kernel, c, &Context::global()).unwrap();
        assert_eq!(basis.eigenvalues.len(), 10);
        assert!(basis.eigenvalues.windows(2).all(|w| w[0] >= w[1]));
        assert!(basis.eigenvalues.iter().all(|&v| v > basis.cutoff));
        let top = basis.eigenvalues[0];
        assert!(
            basis
                .projection
                .col_iter()
                .all(|c| c.norm_l2() < 1e8 / top.sqrt())
        );
    }

    #[test]
    fn the_basis_does_not_depend_on_the_thread_count() {
        // 300 centers: large enough for the eigensolver's blocked, parallel code.
        let (m, d) = (300, 5);
        let centers: Vec<f64> = (0..m * d).map(|i| ((i as f64) * 0.618).sin()).collect();
        let kernel = Kernel::Rbf { gamma: 0.2 };
        let basis = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let ctx = Context::new(Some(&pool), &crate::parallel::NeverInterrupt);
            NystroemBasis::new(&kernel, row_major(&centers, m, d), &ctx).unwrap()
        };
        let one = basis(1);
        for threads in [2, 3] {
            let other = basis(threads);
            assert_eq!(one.eigenvalues, other.eigenvalues);
            assert_eq!(one.projection, other.projection);
        }
    }

    #[test]
    fn bad_shapes_and_values_are_errors() {
        let kernel = Kernel::Rbf { gamma: 1.0 };
        let centers = data(5, 2, 0);
        let c = row_major(&centers, 5, 2);
        let ctx = Context::global();
        let wrong = Mat::<f64>::zeros(4, 3);
        assert!(matches!(
            NystroemFeatures::new(&kernel, c, Some(wrong.as_ref())),
            Err(Error::Shape(_))
        ));
        let empty: Vec<f64> = vec![];
        assert!(NystroemBasis::new(&kernel, row_major(&empty, 0, 2), &ctx).is_err());
        let basis = NystroemBasis::new(&kernel, c, &ctx).unwrap();
        let features = NystroemFeatures::new(&kernel, c, Some(basis.projection.as_ref())).unwrap();
        let x = [1.0, 2.0, 3.0];
        let mut z = vec![0.0; 5];
        let result = transform(row_major(&x, 1, 3), &features, &mut z, &ctx);
        assert!(matches!(result, Err(Error::Shape(_))));
        let x = [f64::NAN, 0.0];
        let result = transform(row_major(&x, 1, 2), &features, &mut z, &ctx);
        assert!(matches!(result, Err(Error::NonFinite(msg)) if msg.contains("row 0")));
    }
}
