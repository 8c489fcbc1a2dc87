//! The ridge paths against oracles: the normal equations, brute-force
//! leave-one-out refits, each other (primal = dual), and thread-count invariance.

use super::*;
use crate::eigen::eigh;
use crate::features::Sampling;
use crate::gram::GramAccumulator;
use crate::kernels::{Kernel, kernel_matrix};
use crate::linalg::row_major;
use crate::parallel::{Interrupt, NeverInterrupt};
use crate::testing::Drawn;
use faer::Par;

fn data(n: usize, d: usize, salt: u64) -> Vec<f64> {
    let mut rng = crate::rng::feature_stream(salt, 0);
    (0..n * d)
        .map(|_| crate::rng::standard_normal(&mut rng))
        .collect()
}

struct Problem {
    n: usize,
    d: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    s: Vec<f64>,
}

fn problem(n: usize, d: usize, t: usize) -> Problem {
    let x = data(n, d, 1);
    let y: Vec<f64> = (0..n * t)
        .map(|i| x[(i / t) * d] * (1.0 + (i % t) as f64) + 0.3 * data(n * t, 1, 2)[i])
        .collect();
    let s = (0..n).map(|i| 0.5 + (i % 4) as f64).collect();
    Problem { n, d, x, y, s }
}

fn stats(p: &Problem, rows: &[usize], t: usize, weighted: bool) -> GramAccumulator {
    let x: Vec<f64> = rows
        .iter()
        .flat_map(|&i| p.x[i * p.d..(i + 1) * p.d].to_vec())
        .collect();
    let y: Vec<f64> = rows
        .iter()
        .flat_map(|&i| p.y[i * t..(i + 1) * t].to_vec())
        .collect();
    let s: Vec<f64> = rows.iter().map(|&i| p.s[i]).collect();
    let mut acc = GramAccumulator::new(p.d, t);
    let w = if weighted { Some(&s[..]) } else { None };
    acc.update(
        row_major(&x, rows.len(), p.d),
        row_major(&y, rows.len(), t),
        w,
        Par::Seq,
    );
    acc
}

fn predict(coef: &Mat<f64>, intercept: &[f64], x: &[f64], k: usize) -> f64 {
    intercept[k]
        + x.iter()
            .enumerate()
            .map(|(j, v)| v * coef[(j, k)])
            .sum::<f64>()
}

const ALPHAS: [f64; 5] = [0.0, 1e-6, 0.1, 1.0, 100.0];

#[test]
fn coefficients_solve_the_normal_equations() {
    let t = 2;
    let p = problem(40, 6, t);
    for (intercept, weighted) in [(true, true), (false, false), (true, false)] {
        let acc = stats(&p, &(0..p.n).collect::<Vec<_>>(), t, weighted);
        let path = PrimalPath::new(acc.clone(), intercept, &Context::global()).unwrap();
        let c = acc.clone().centered(intercept).stats;
        for alpha in ALPHAS {
            let (coef, _) = path.coef(alpha, &Context::global()).unwrap();
            let lhs = &c.gram * &coef + alpha * &coef;
            for j in 0..p.d {
                for k in 0..t {
                    assert!(
                        (lhs[(j, k)] - c.cross[(j, k)]).abs()
                            < 1e-9 * (1.0 + c.cross[(j, k)].abs())
                    );
                }
            }
        }
    }
}

#[test]
fn inconsistent_parts_are_refused() {
    let p = problem(30, 5, 2);
    let all: Vec<usize> = (0..p.n).collect();
    let path = PrimalPath::new(stats(&p, &all, 2, true), true, &Context::global()).unwrap();
    assert!(path.check_parts().is_ok());
    let mut broken = path.clone();
    broken.target_means.pop();
    assert!(matches!(broken.check_parts(), Err(Error::Shape(_))));
}

#[test]
fn loo_and_train_errors_equal_brute_force_refits() {
    let t = 2;
    let p = problem(25, 4, t);
    for (intercept, weighted) in [(true, true), (false, true), (true, false), (false, false)] {
        let all: Vec<usize> = (0..p.n).collect();
        let path =
            PrimalPath::new(stats(&p, &all, t, weighted), intercept, &Context::global()).unwrap();
        let w = if weighted { Some(&p.s[..]) } else { None };
        let loo = loo_on_inputs(&path, &p, t, w, &ALPHAS);
        let train = path.train_errors(&ALPHAS).unwrap();
        for (a, &alpha) in ALPHAS.iter().enumerate() {
            let (coef, b) = path.coef(alpha, &Context::global()).unwrap();
            for k in 0..t {
                let (mut brute_loo, mut brute_train) = (0.0, 0.0);
                for i in 0..p.n {
                    let rest: Vec<usize> = all.iter().copied().filter(|&r| r != i).collect();
                    let (c, b_i) = PrimalPath::new(
                        stats(&p, &rest, t, weighted),
                        intercept,
                        &Context::global(),
                    )
                    .unwrap()
                    .coef(alpha, &Context::global())
                    .unwrap();
                    let s_i = if weighted { p.s[i] } else { 1.0 };
                    let row = &p.x[i * p.d..(i + 1) * p.d];
                    brute_loo += s_i * (p.y[i * t + k] - predict(&c, &b_i, row, k)).powi(2);
                    brute_train += s_i * (p.y[i * t + k] - predict(&coef, &b, row, k)).powi(2);
                }
                // LOO is a mean over rows (as RidgeCV); training error a weighted mean.
                let weight_sum: f64 = if weighted {
                    p.s.iter().sum()
                } else {
                    p.n as f64
                };
                let (brute_loo, brute_train) = (brute_loo / p.n as f64, brute_train / weight_sum);
                assert!(
                    (loo[(a, k)] - brute_loo).abs() < 1e-8 * brute_loo,
                    "{alpha} {intercept} {weighted}: {} vs {brute_loo}",
                    loo[(a, k)]
                );
                assert!((train[(a, k)] - brute_train).abs() < 1e-8 * brute_train);
            }
        }
    }
}

/// The LOO pass with the inputs themselves as features.
fn loo_on_inputs(
    path: &PrimalPath,
    p: &Problem,
    t: usize,
    w: Option<&[f64]>,
    alphas: &[f64],
) -> Mat<f64> {
    let (x, y) = (row_major(&p.x, p.n, p.d), row_major(&p.y, p.n, t));
    path.loo_errors_from_features(x, y, w, alphas).unwrap()
}

#[test]
fn dual_equals_primal() {
    // Both regimes: more samples than features, and fewer. Ridges of 1e-6 are
    // left out: with a singular Gram both sides amplify rounding by 1/alpha.
    const ALPHAS: [f64; 4] = [0.0, 0.1, 1.0, 100.0];
    let t = 2;
    for (p, intercept, weighted) in [
        (problem(30, 5, t), true, true),
        (problem(30, 5, t), false, false),
        (problem(12, 30, t), true, true),
        (problem(12, 30, t), false, false),
    ] {
        let all: Vec<usize> = (0..p.n).collect();
        let path =
            PrimalPath::new(stats(&p, &all, t, weighted), intercept, &Context::global()).unwrap();
        let k = Mat::from_fn(p.n, p.n, |i, j| {
            (0..p.d)
                .map(|c| p.x[i * p.d + c] * p.x[j * p.d + c])
                .sum::<f64>()
        });
        let w = if weighted { Some(&p.s[..]) } else { None };
        let dual = DualPath::new(
            k.as_ref(),
            row_major(&p.y, p.n, t),
            w,
            intercept,
            &Context::global(),
        )
        .unwrap();
        let primal_loo = loo_on_inputs(&path, &p, t, w, &ALPHAS);
        let dual_loo = dual.loo_errors(&ALPHAS, &Context::global()).unwrap();
        for (a, &alpha) in ALPHAS.iter().enumerate() {
            let (coef, b) = path.coef(alpha, &Context::global()).unwrap();
            let (d, b_dual) = dual.dual_coef(alpha, &Context::global()).unwrap();
            for k in 0..t {
                assert!(
                    (b[k] - b_dual[k]).abs() < 1e-8 * (1.0 + b[k].abs()),
                    "{alpha}"
                );
                for j in 0..p.d {
                    let from_dual: f64 = (0..p.n).map(|i| d[(i, k)] * p.x[i * p.d + j]).sum();
                    assert!(
                        (coef[(j, k)] - from_dual).abs() < 1e-8 * (1.0 + coef[(j, k)].abs()),
                        "{alpha}"
                    );
                }
                // The primal pass cannot take the ridgeless limit of an
                // interpolating fit (1 - H_ii = 0): there only the dual's LOO exists.
                if alpha == 0.0 && p.n < p.d {
                    assert!(primal_loo[(a, k)].is_infinite() && dual_loo[(a, k)].is_finite());
                    continue;
                }
                let (pl, dl) = (primal_loo[(a, k)], dual_loo[(a, k)]);
                assert!((pl - dl).abs() < 1e-8 * pl, "{alpha} n={} {pl} {dl}", p.n);
            }
        }
    }
}

#[test]
fn ridgeless_dual_loo_matches_small_ridge_limit() {
    // n < d: the model interpolates at alpha = 0; LOO stays finite and is the
    // limit of tiny ridges.
    let t = 1;
    let p = problem(12, 30, t);
    let k = Mat::from_fn(p.n, p.n, |i, j| {
        (0..p.d)
            .map(|c| p.x[i * p.d + c] * p.x[j * p.d + c])
            .sum::<f64>()
    });
    for intercept in [true, false] {
        let dual = DualPath::new(
            k.as_ref(),
            row_major(&p.y, p.n, t),
            None,
            intercept,
            &Context::global(),
        )
        .unwrap();
        let loo = dual.loo_errors(&[0.0, 1e-9], &Context::global()).unwrap();
        assert!(loo[(0, 0)].is_finite());
        assert!(
            (loo[(0, 0)] - loo[(1, 0)]).abs() < 1e-5 * loo[(0, 0)],
            "{:?}",
            loo
        );
        // Interpolation: the residual sum is |y|^2 minus what the kept directions
        // explain, so it cancels down to the rounding of |y|^2 (a few ulps of
        // the targets' mean square), not to 0.
        let train = dual.train_errors(&[0.0]).unwrap();
        let mean_square = p.y.iter().map(|v| v * v).sum::<f64>() / p.n as f64;
        assert!(
            train[(0, 0)] < 16.0 * f64::EPSILON * mean_square,
            "{} vs {mean_square}",
            train[(0, 0)]
        );
    }
}

#[test]
fn gcv_uses_the_trace_of_the_hat_matrix() {
    let t = 1;
    let p = problem(30, 4, t);
    let all: Vec<usize> = (0..p.n).collect();
    let path = PrimalPath::new(stats(&p, &all, t, false), true, &Context::global()).unwrap();
    let alpha = 0.5;
    let train = path.train_errors(&[alpha]).unwrap()[(0, 0)];
    let df: f64 = path
        .eigenvalues()
        .iter()
        .map(|l| l / (l + alpha))
        .sum::<f64>()
        + 1.0;
    let want = train / (1.0 - df / 30.0).powi(2);
    assert!((path.gcv_errors(&[alpha]).unwrap()[(0, 0)] - want).abs() < 1e-12 * want);
    assert!(path.gcv_errors(&[-1.0]).is_err());
}

#[test]
fn streaming_loo_pass_equals_the_in_memory_one() {
    // 1100 rows: three blocks of the pass, the last one partial.
    let (n, d, m) = (1100, 3, 20);
    let x = data(n, d, 4);
    let y = data(n, 1, 5);
    let kernel = Kernel::Rbf { gamma: 0.5 };
    let drawn = Drawn::<f64>::new(&kernel, false, Sampling::Iid, 1, d, m);
    let ctx = Context::global();
    let (xm, ym) = (row_major(&x, n, d), row_major(&y, n, 1));
    let mut acc = GramAccumulator::new(m, 1);
    acc.add_rows::<f64, f64>(xm, ym, None, &drawn.features(), 32, &ctx)
        .unwrap();
    let path = PrimalPath::new(acc, true, &Context::global()).unwrap();
    let z = drawn.transform(&x);
    let want = path
        .loo_errors_from_features(row_major(&z, n, m), ym, None, &ALPHAS)
        .unwrap();
    let mut runs = vec![];
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let ctx = Context::new(Some(&pool), &crate::parallel::NeverInterrupt);
        let sums = path.loo_error_sums::<f64, f64>(xm, ym, None, &drawn.features(), &ALPHAS, &ctx);
        runs.push(sums.unwrap() / n as f64);
    }
    assert_eq!(runs[0], runs[1], "the thread count changed the sums");
    for a in 0..ALPHAS.len() {
        assert!((runs[0][(a, 0)] - want[(a, 0)]).abs() < 1e-10 * want[(a, 0)]);
    }
}

#[test]
fn coefficients_refuse_a_bad_alpha() {
    let p = problem(12, 3, 1);
    let all: Vec<usize> = (0..p.n).collect();
    let primal = PrimalPath::new(stats(&p, &all, 1, true), true, &Context::global()).unwrap();
    let dual = DualPath::new(
        gram_of_inputs(&p).as_ref(),
        row_major(&p.y, p.n, 1),
        None,
        true,
        &Context::global(),
    )
    .unwrap();
    for alpha in [-1.0, -0.0 - f64::MIN_POSITIVE, f64::NAN, f64::INFINITY] {
        let want = Err(Error::InvalidParameter(format!(
            "alpha must be a non-negative finite number, got {alpha}"
        )));
        assert_eq!(primal.coef(alpha, &Context::global()).map(|_| ()), want);
        assert_eq!(dual.dual_coef(alpha, &Context::global()).map(|_| ()), want);
    }
    assert!(
        primal.coef(0.0, &Context::global()).is_ok()
            && dual.dual_coef(0.0, &Context::global()).is_ok()
    );
}

/// `X X^T` of the problem's inputs.
fn gram_of_inputs(p: &Problem) -> Mat<f64> {
    Mat::from_fn(p.n, p.n, |i, j| {
        (0..p.d)
            .map(|c| p.x[i * p.d + c] * p.x[j * p.d + c])
            .sum::<f64>()
    })
}

#[test]
fn inconsistent_dual_parts_are_refused() {
    let p = problem(20, 3, 2);
    let dual = DualPath::new(
        gram_of_inputs(&p).as_ref(),
        row_major(&p.y, p.n, 2),
        Some(&p.s),
        true,
        &Context::global(),
    )
    .unwrap();
    assert!(dual.check_parts().is_ok());
    let breaks: [fn(&mut DualPath); 8] = [
        |d| {
            d.spectrum.eigen.values.pop();
        },
        |d| d.spectrum.target_squares.push(0.0),
        |d| d.spectrum.n_samples += 1,
        |d| d.projected_targets = Mat::zeros(20, 3),
        |d| {
            d.sqrt_weights.pop();
        },
        |d| {
            d.intercept_direction.pop();
        },
        |d| {
            d.kernel_means.pop();
        },
        |d| {
            d.target_means.pop();
        },
    ];
    for (i, broken) in breaks.into_iter().enumerate() {
        let mut parts = dual.clone();
        broken(&mut parts);
        assert!(matches!(parts.check_parts(), Err(Error::Shape(_))), "{i}");
    }
}

/// The single-product dual leave-one-out formula that the blocked pass replaced.
fn dual_loo_reference(dual: &DualPath, alphas: &[f64]) -> Mat<f64> {
    let loo = dual.loo_weights(alphas).unwrap();
    let u = &dual.spectrum.eigen.vectors;
    let n = u.nrows();
    let u_squared = Mat::from_fn(n, n, |i, j| u[(i, j)] * u[(i, j)]);
    let (diagonals, residuals) = (u_squared * &loo.weights, u * &loo.weighted);
    let v = &dual.intercept_direction;
    loo.squared_sums(diagonals.as_ref(), residuals.as_ref(), v) / (n as f64)
}

struct AlwaysInterrupt;

impl Interrupt for AlwaysInterrupt {
    fn check(&self) -> Result<()> {
        Err(Error::Interrupted)
    }
}

#[test]
fn blocked_dual_loo_is_thread_invariant_and_equals_the_single_product() {
    // 300 rows: two full blocks of U's rows and a partial one. A rank-5 kernel
    // (X X^T: the ridgeless limit on the null space) and a full-rank one (rbf:
    // the limit of (I - H) / alpha).
    let t = 2;
    let p = problem(300, 5, t);
    let mut rbf = vec![0.0; p.n * p.n];
    let kernel = Kernel::Rbf { gamma: 0.5 };
    let x = row_major(&p.x, p.n, p.d);
    kernel_matrix(x, None, &kernel, &mut rbf, &Context::global()).unwrap();
    let rbf = row_major(&rbf, p.n, p.n).to_owned();
    let pools: Vec<rayon::ThreadPool> = [1, 2]
        .into_iter()
        .map(|threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
        })
        .collect();
    for kernel in [gram_of_inputs(&p), rbf] {
        for (intercept, weighted) in [(true, true), (false, true), (true, false), (false, false)] {
            let w = if weighted { Some(&p.s[..]) } else { None };
            let y = row_major(&p.y, p.n, t);
            let dual = DualPath::new(kernel.as_ref(), y, w, intercept, &Context::global()).unwrap();
            let want = dual_loo_reference(&dual, &ALPHAS);
            let runs: Vec<Mat<f64>> = pools
                .iter()
                .map(|pool| {
                    let ctx = Context::new(Some(pool), &NeverInterrupt);
                    dual.loo_errors(&ALPHAS, &ctx).unwrap()
                })
                .collect();
            assert_eq!(runs[0], runs[1], "the thread count changed the errors");
            for a in 0..ALPHAS.len() {
                for k in 0..t {
                    let (got, want) = (runs[0][(a, k)], want[(a, k)]);
                    assert!(
                        got == want || (got - want).abs() <= 1e-12 * want,
                        "{} {intercept} {weighted}: {got} vs {want}",
                        ALPHAS[a]
                    );
                }
            }
            let interrupted = Context::new(Some(&pools[1]), &AlwaysInterrupt);
            assert_eq!(
                dual.loo_errors(&ALPHAS, &interrupted),
                Err(Error::Interrupted)
            );
            assert!(dual.loo_errors(&[-1.0], &Context::global()).is_err());
        }
    }
}

#[test]
fn truncation_keeps_reciprocals_finite_for_tiny_spectra() {
    // A Gram of data ~1e-300 (weights 1e-300): top * dim * eps is subnormal, and an
    // eigenvalue kept below 2.2e-308 would have an infinite reciprocal.
    let a = Mat::from_fn(3, 3, |i, j| {
        if i == j {
            [1e-300, 1e-309, 0.0][i]
        } else {
            0.0
        }
    });
    let mut eigen = SymmetricEigen::clipped(eigh(a, Par::Seq).unwrap());
    let cutoff = eigen.truncate(NoiseFloor::float64(3, 0.0));
    assert_eq!(cutoff, f64::MIN_POSITIVE);
    for &lambda in &eigen.values {
        assert!(
            shrinkage(lambda, 0.0, cutoff).is_finite(),
            "lambda = {lambda:e}"
        );
    }
    assert_eq!(eigen.values.iter().filter(|&&v| v > 0.0).count(), 1);
}

#[test]
fn float32_fits_agree_with_float64_ones_to_float32_rounding() {
    // The same float32 rows and features, the products in float32 or in float64.
    let (n, d, m) = (1500, 4, 120);
    let x: Vec<f32> = data(n, d, 6).iter().map(|&v| v as f32).collect();
    let y = data(n, 1, 7);
    let kernel = Kernel::Rbf { gamma: 0.4 };
    let drawn = Drawn::<f32>::new(&kernel, false, Sampling::Iid, 2, d, m);
    let ctx = Context::global();
    let (xm, ym) = (row_major(&x, n, d), row_major(&y, n, 1));
    let alphas = [1e-3, 1e-1, 10.0];
    let fit = |single: bool| {
        let mut acc = GramAccumulator::new(m, 1);
        let features = drawn.features();
        if single {
            acc.add_rows::<f32, f32>(xm, ym, None, &features, 256, &ctx)
                .unwrap();
        } else {
            acc.add_rows::<f32, f64>(xm, ym, None, &features, 256, &ctx)
                .unwrap();
        }
        let path = PrimalPath::new(acc, true, &ctx).unwrap();
        let loo = if single {
            path.loo_error_sums::<f32, f32>(xm, ym, None, &features, &alphas, &ctx)
        } else {
            path.loo_error_sums::<f32, f64>(xm, ym, None, &features, &alphas, &ctx)
        };
        (path, loo.unwrap())
    };
    let ((single, single_loo), (wide, wide_loo)) = (fit(true), fit(false));
    // The float32 noise floor, eps32 of the top, against 1500 eps64 of it.
    assert!(single.spectrum.cutoff > 1e5 * wide.spectrum.cutoff);
    for a in 0..alphas.len() {
        let (s, w) = (single_loo[(a, 0)], wide_loo[(a, 0)]);
        assert!((s - w).abs() <= 1e-3 * w, "alpha {}: {s} vs {w}", alphas[a]);
        let (cs, _) = single.coef(alphas[a], &ctx).unwrap();
        let (cw, _) = wide.coef(alphas[a], &ctx).unwrap();
        assert!(
            (&cs - &cw).norm_l2() <= 1e-3 * cw.norm_l2(),
            "alpha {}",
            alphas[a]
        );
    }
}
