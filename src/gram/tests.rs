//! Tests of the Gram statistics and their tile products.

use super::*;
use crate::kernels::Kernel;
use crate::linalg::row_major;
use crate::testing::Drawn;

fn data(n: usize, d: usize, salt: usize) -> Vec<f64> {
    (0..n * d)
        .map(|i| (((i + salt) * 7919) % 103) as f64 / 51.0 - 1.0)
        .collect()
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())))
}

fn flat(m: MatRef<'_, f64>, lower: bool) -> Vec<f64> {
    let mut v = vec![];
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            if !lower || j <= i {
                v.push(m[(i, j)]);
            }
        }
    }
    v
}

#[test]
fn update_matches_direct_sums_with_weights() {
    let (n, d, t) = (33, 7, 2);
    let (z, y, s) = (data(n, d, 0), data(n, t, 1), data(n, 1, 2));
    let s: Vec<f64> = s.iter().map(|v| v.abs() + 0.1).collect();
    let mut acc = GramAccumulator::new(d, t);
    acc.update(row_major(&z, n, d), row_major(&y, n, t), Some(&s), Par::Seq);
    for a in 0..d {
        for b in 0..=a {
            let want: f64 = (0..n).map(|i| s[i] * z[i * d + a] * z[i * d + b]).sum();
            assert!((acc.gram[(a, b)] - want).abs() < 1e-12);
        }
        for k in 0..t {
            let want: f64 = (0..n).map(|i| s[i] * z[i * d + a] * y[i * t + k]).sum();
            assert!((acc.cross[(a, k)] - want).abs() < 1e-12);
        }
        let want: f64 = (0..n).map(|i| s[i] * z[i * d + a]).sum();
        assert!((acc.feature_sums[a] - want).abs() < 1e-12);
    }
    assert!((acc.weight_sum - s.iter().sum::<f64>()).abs() < 1e-12);
    assert_eq!(acc.n_samples, n);
}

#[test]
fn chunks_and_merges_equal_one_pass() {
    let (n, d, t) = (1000, 9, 3);
    let (z, y) = (data(n, d, 3), data(n, t, 4));
    let mut whole = GramAccumulator::new(d, t);
    whole.update(row_major(&z, n, d), row_major(&y, n, t), None, Par::Seq);
    for split in [1, 7, 333, 999] {
        let mut first = GramAccumulator::new(d, t);
        first.update(
            row_major(&z[..split * d], split, d),
            row_major(&y[..split * t], split, t),
            None,
            Par::Seq,
        );
        let mut second = GramAccumulator::new(d, t);
        let rest = n - split;
        second.update(
            row_major(&z[split * d..], rest, d),
            row_major(&y[split * t..], rest, t),
            None,
            Par::rayon(2),
        );
        first.merge(&second).unwrap();
        assert!(close(
            &flat(first.gram.as_ref(), true),
            &flat(whole.gram.as_ref(), true),
            1e-13
        ));
        assert!(close(
            &flat(first.cross.as_ref(), false),
            &flat(whole.cross.as_ref(), false),
            1e-13
        ));
        assert!(close(&first.target_squares, &whole.target_squares, 1e-13));
    }
    assert!(whole.merge(&GramAccumulator::new(d + 1, t)).is_err());
}

#[test]
fn centering_removes_weighted_means() {
    let (n, d, t) = (50, 4, 1);
    let (z, y) = (data(n, d, 5), data(n, t, 6));
    let s: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
    let mut acc = GramAccumulator::new(d, t);
    acc.update(row_major(&z, n, d), row_major(&y, n, t), Some(&s), Par::Seq);
    let c = acc.clone().centered(true).stats;
    let sw: f64 = s.iter().sum();
    let zm: Vec<f64> = (0..d)
        .map(|a| (0..n).map(|i| s[i] * z[i * d + a]).sum::<f64>() / sw)
        .collect();
    let ym: f64 = (0..n).map(|i| s[i] * y[i]).sum::<f64>() / sw;
    for a in 0..d {
        for b in 0..d {
            let want: f64 = (0..n)
                .map(|i| s[i] * (z[i * d + a] - zm[a]) * (z[i * d + b] - zm[b]))
                .sum();
            assert!((c.gram[(a, b)] - want).abs() < 1e-12);
        }
        let want: f64 = (0..n)
            .map(|i| s[i] * (z[i * d + a] - zm[a]) * (y[i] - ym))
            .sum();
        assert!((c.cross[(a, 0)] - want).abs() < 1e-12);
    }
    let want: f64 = (0..n).map(|i| s[i] * (y[i] - ym).powi(2)).sum();
    assert!((c.target_squares[0] - want).abs() < 1e-12);
    let sums = c.feature_sums.iter().chain(&c.target_sums);
    assert!(sums.into_iter().all(|v| v.abs() < 1e-12));
    assert_eq!((c.weight_sum, c.n_samples), (acc.weight_sum, acc.n_samples));
}

#[test]
fn streaming_features_equal_features_then_update() {
    let (n, d, m) = (301, 5, 40);
    let (x, y) = (data(n, d, 7), data(n, 1, 8));
    let kernel = Kernel::Rbf { gamma: 0.3 };
    let drawn = Drawn::<f64>::new(&kernel, false, features::Sampling::Iid, 3, d, m);
    let z = drawn.transform(&x);
    let mut direct = GramAccumulator::new(m, 1);
    direct.update(row_major(&z, n, m), row_major(&y, n, 1), None, Par::Seq);
    let (x, y) = (row_major(&x, n, d), row_major(&y, n, 1));
    for chunk in [1, 64, 300, 1000] {
        let mut streamed = GramAccumulator::new(m, 1);
        let ctx = Context::global();
        streamed
            .add_rows::<f64, f64>(x, y, None, &drawn.features(), chunk, &ctx)
            .unwrap();
        assert!(close(
            &flat(streamed.gram.as_ref(), true),
            &flat(direct.gram.as_ref(), true),
            1e-12
        ));
        assert!(close(&streamed.feature_sums, &direct.feature_sums, 1e-12));
        assert_eq!(streamed.rounding, f64::EPSILON);
    }
}

#[test]
fn float32_rows_accumulate_float32_tiles_in_float64() {
    // 700 rows of float32 data, 300 features: two Gram panels, a partial tile.
    let (n, d, m) = (700, 4, 300);
    let x32: Vec<f32> = data(n, d, 2).iter().map(|&v| v as f32).collect();
    let y = data(n, 2, 3);
    let s: Vec<f64> = (0..n).map(|i| 0.5 + (i % 4) as f64).collect();
    let kernel = Kernel::Rbf { gamma: 0.3 };
    let drawn = Drawn::<f32>::new(&kernel, false, features::Sampling::Iid, 3, d, m);
    let (x, y) = (row_major(&x32, n, d), row_major(&y, n, 2));
    let ctx = Context::global();
    let run = |widen: bool| {
        let mut acc = GramAccumulator::new(m, 2);
        let features = drawn.features();
        if widen {
            acc.add_rows::<f32, f64>(x, y, Some(&s), &features, 256, &ctx)
        } else {
            acc.add_rows::<f32, f32>(x, y, Some(&s), &features, 256, &ctx)
        }
        .unwrap();
        acc
    };
    let (single, wide) = (run(false), run(true));
    assert_eq!(single.rounding, f64::from(f32::EPSILON));
    assert_eq!(wide.rounding, f64::EPSILON);
    // The same float32 features: the float32 Gram within float32 rounding of
    // the float64 sums, the target products (in float64) within far less.
    assert!(close(
        &flat(single.gram.as_ref(), true),
        &flat(wide.gram.as_ref(), true),
        1e-5
    ));
    assert!(!close(
        &flat(single.gram.as_ref(), true),
        &flat(wide.gram.as_ref(), true),
        1e-12
    ));
    assert!(close(
        &flat(single.cross.as_ref(), false),
        &flat(wide.cross.as_ref(), false),
        1e-12
    ));
    assert!(close(&single.feature_sums, &wide.feature_sums, 1e-12));
    let mut merged = wide.clone();
    merged.merge(&single).unwrap();
    assert_eq!(merged.rounding, f64::from(f32::EPSILON));
}

fn stats_of(
    z: &[f64],
    y: &[f64],
    s: Option<&[f64]>,
    n: usize,
    d: usize,
    t: usize,
) -> GramAccumulator {
    let mut acc = GramAccumulator::new(d, t);
    acc.update(row_major(z, n, d), row_major(y, n, t), s, Par::Seq);
    acc
}

#[test]
fn subtract_undoes_merge() {
    let (n, d, t) = (40, 5, 2);
    let (z, y) = (data(n, d, 11), data(n, t, 12));
    let first = stats_of(&z[..20 * d], &y[..20 * t], None, 20, d, t);
    let whole = stats_of(&z, &y, None, n, d, t);
    let mut rest = whole.clone();
    rest.subtract(&first).unwrap();
    let second = stats_of(&z[20 * d..], &y[20 * t..], None, 20, d, t);
    assert!(close(
        &flat(rest.gram.as_ref(), true),
        &flat(second.gram.as_ref(), true),
        1e-12
    ));
    assert!(close(&rest.target_squares, &second.target_squares, 1e-12));
    assert_eq!(rest.n_samples, 20);
    assert!(rest.subtract(&GramAccumulator::new(d, t + 1)).is_err());
}

#[test]
fn shifted_targets_equal_statistics_of_shifted_rows() {
    let (n, d, t) = (30, 4, 2);
    let (z, y) = (data(n, d, 13), data(n, t, 14));
    let s: Vec<f64> = (0..n).map(|i| 0.5 + (i % 4) as f64).collect();
    let delta = [0.7, -3.0];
    let shifted: Vec<f64> = y
        .iter()
        .enumerate()
        .map(|(i, v)| v - delta[i % t])
        .collect();
    let mut acc = stats_of(&z, &y, Some(&s), n, d, t);
    acc.shift_targets(&delta).unwrap();
    let want = stats_of(&z, &shifted, Some(&s), n, d, t);
    assert!(close(
        &flat(acc.cross.as_ref(), false),
        &flat(want.cross.as_ref(), false),
        1e-12
    ));
    assert!(close(&acc.target_sums, &want.target_sums, 1e-12));
    assert!(close(&acc.target_squares, &want.target_squares, 1e-12));
    assert!(acc.shift_targets(&[1.0]).is_err());
}

#[test]
fn leading_statistics_are_the_narrower_map() {
    let (n, d, t, k) = (25, 6, 1, 4);
    let (z, y) = (data(n, d, 15), data(n, t, 16));
    let root = (d as f64 / k as f64).sqrt();
    let narrow: Vec<f64> = (0..n)
        .flat_map(|i| (0..k).map(move |j| (i, j)))
        .map(|(i, j)| z[i * d + j] * root)
        .collect();
    let lead = stats_of(&z, &y, None, n, d, t).leading(k).unwrap();
    let want = stats_of(&narrow, &y, None, n, k, t);
    assert!(close(
        &flat(lead.gram.as_ref(), true),
        &flat(want.gram.as_ref(), true),
        1e-12
    ));
    assert!(close(&lead.feature_sums, &want.feature_sums, 1e-12));
    assert!(GramAccumulator::new(d, t).leading(d + 1).is_err());
    assert!(GramAccumulator::new(d, t).leading(0).is_err());
}

#[test]
fn heldout_errors_equal_direct_residuals() {
    let (n, d, t) = (35, 5, 2);
    let (z, y) = (data(n, d, 17), data(n, t, 18));
    let s: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
    let acc = stats_of(&z, &y, Some(&s), n, d, t);
    let coef = Mat::from_fn(d, 3, |j, c| 0.1 * (j as f64 + 1.0) - 0.2 * c as f64);
    let (intercept, target) = ([0.3, -1.0, 2.0], [0, 1, 1]);
    let errors = acc
        .heldout_errors(coef.as_ref(), &intercept, &target, &Context::global())
        .unwrap();
    for c in 0..3 {
        let want: f64 = (0..n)
            .map(|i| {
                let fit: f64 = (0..d).map(|j| z[i * d + j] * coef[(j, c)]).sum();
                s[i] * (y[i * t + target[c]] - fit - intercept[c]).powi(2)
            })
            .sum();
        assert!((errors[c] - want).abs() <= 1e-10 * want.max(1.0), "{c}");
    }
    let global = Context::global();
    assert!(
        acc.heldout_errors(coef.as_ref(), &intercept, &[0, 1, 2], &global)
            .is_err()
    );
}

#[test]
fn parts_are_checked() {
    for (cross_rows, consistent) in [(3, true), (2, false)] {
        let parts = GramAccumulator::from_parts(
            Mat::zeros(3, 3),
            Mat::zeros(cross_rows, 2),
            vec![0.0; 3],
            vec![0.0; 2],
            vec![0.0; 2],
            0.0,
            0,
            f64::EPSILON,
        );
        assert_eq!(parts.is_ok(), consistent);
    }
    let parts = |rounding| {
        let (g, c) = (Mat::zeros(1, 1), Mat::zeros(1, 1));
        GramAccumulator::from_parts(g, c, vec![0.0], vec![0.0], vec![0.0], 0.0, 0, rounding)
    };
    assert!(parts(f64::from(f32::EPSILON)).is_ok());
    assert!(matches!(parts(1e-3), Err(Error::InvalidParameter(_))));
}
