//! Linear models on random features, evaluated without forming `Z`:
//! `f(x) = z(x) . beta + beta_0`, features computed and consumed chunk by chunk.

use crate::error::{Error, Result};
use crate::features::{FeatureSource, ROWS_PER_CHUNK};
use crate::linalg::{matmul_into, row_major};
use crate::parallel::Context;
use crate::real::Real;
use faer::MatRef;

/// Writes `Z(x) @ coef + intercept` into the row-major `n x t` buffer `out`,
/// `coef` being `D x t` for the `D` components of `features`; memory beyond `out`
/// is one feature chunk per thread.
///
/// # Errors
/// As [`features::transform`]; [`Error::Shape`] if `coef`, `intercept` or `out`
/// do not fit.
pub fn predict<T: Real>(
    x: MatRef<'_, T>,
    features: &impl FeatureSource<T>,
    coef: MatRef<'_, f64>,
    intercept: &[f64],
    out: &mut [f64],
    ctx: &Context,
) -> Result<()> {
    let n_components = features.n_components();
    let t = coef.ncols();
    if coef.nrows() != n_components || intercept.len() != t || out.len() != x.nrows() * t {
        return Err(Error::Shape(format!(
            "coef must be {n_components} x t with t intercepts and {} x t outputs; got \
             {} x {t}, {} intercepts and {} outputs",
            x.nrows(),
            coef.nrows(),
            intercept.len(),
            out.len()
        )));
    }
    if t == 0 {
        return Ok(());
    }
    ctx.for_each_row_chunk(out, t, ROWS_PER_CHUNK, |first, rows_out| {
        let n_rows = rows_out.len() / t;
        let mut z = vec![T::zero(); n_rows * n_components];
        let x_rows = x.subrows(first, n_rows);
        features.write_rows(x_rows, first, &mut z, &mut Vec::new())?;
        let z64: Vec<f64> = z.iter().map(|&v| Real::to_f64(v)).collect();
        matmul_into(rows_out, row_major(&z64, n_rows, n_components), coef);
        for row in rows_out.chunks_exact_mut(t) {
            row.iter_mut().zip(intercept).for_each(|(v, b)| *v += b);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::Sampling;
    use crate::kernels::Kernel;
    use crate::testing::Drawn;

    #[test]
    fn predictions_equal_features_times_coefficients() {
        let (n, d, m, t) = (300, 3, 70, 2);
        let x: Vec<f64> = (0..n * d)
            .map(|i| ((i * 31) % 17) as f64 / 9.0 - 1.0)
            .collect();
        let kernel = Kernel::Relu {
            gamma: 1.0,
            bias: 0.5,
        };
        let drawn = Drawn::<f64>::new(&kernel, false, Sampling::Iid, 9, d, m);
        let coef = faer::Mat::from_fn(m, t, |j, k| ((j * t + k) as f64).sin());
        let ctx = Context::global();
        let z = drawn.transform(&x);
        let (xm, features) = (row_major(&x, n, d), drawn.features());
        let mut out = vec![0.0; n * t];
        predict(xm, &features, coef.as_ref(), &[1.0, -2.0], &mut out, &ctx).unwrap();
        for i in 0..n {
            for k in 0..t {
                let want: f64 =
                    (0..m).map(|j| z[i * m + j] * coef[(j, k)]).sum::<f64>() + [1.0, -2.0][k];
                assert!((out[i * t + k] - want).abs() < 1e-12);
            }
        }
        let bad = predict(xm, &features, coef.as_ref(), &[1.0], &mut out, &ctx);
        assert!(matches!(bad, Err(Error::Shape(_))));
    }
}
