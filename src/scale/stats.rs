//! Statistics of a worker-count sweep: summaries of repeated timings (median, mean, standard
//! deviation, outliers) and the scaling figures built on them (speed-up, efficiency, the
//! Karp–Flatt serial fraction and a least-squares Amdahl fit). Pure functions on numbers.
//!
//! Notation: `p` is the number of workers, `T(p)` a time with `p` workers, `S(p) = T(1) / T(p)`
//! the speed-up. Amdahl's law with serial fraction `f` predicts `S(p) = 1 / (f + (1 − f)/p)`,
//! which never exceeds `1/f`.

/// Modified Z-score above which a timing counts as an outlier: 14 robust standard deviations
/// (`|x − median| > 14 · 1.4826 · MAD`, about 20.8 MADs), so that only runs disturbed by
/// something outside the benchmark are flagged. hyperfine, whose warnings these follow, flags
/// at 10 robust standard deviations (`|x − median| > 14.826 · MAD`, its threshold applied to the
/// unscaled `(x − median) / MAD`); piest is deliberately stricter, because a sweep has few runs
/// per worker count and a warning there costs a rerun of every row.
pub const OUTLIER_THRESHOLD: f64 = 14.0;

/// The median of `values` (the mean of the two middle values for an even count); `None` if empty.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    })
}

/// The arithmetic mean of `values`; `None` if empty.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The sample standard deviation of `values` (divisor `n − 1`); `None` below two values.
pub fn std_dev(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = mean(values)?;
    let squares: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    Some((squares / (values.len() - 1) as f64).sqrt())
}

/// The smallest and largest of `values`; `None` if empty.
pub fn min_max(values: &[f64]) -> Option<(f64, f64)> {
    let first = *values.first()?;
    Some(
        values
            .iter()
            .fold((first, first), |(lo, hi), &v| (lo.min(v), hi.max(v))),
    )
}

/// Modified Z-scores `0.6745 · (x − median) / MAD` (Iglewicz and Hoaglin), robust against the
/// outliers they are meant to find. All zero when the median absolute deviation is zero (then
/// most timings are identical and nothing stands out in a way this score can measure).
pub fn modified_z_scores(values: &[f64]) -> Vec<f64> {
    let Some(med) = median(values) else {
        return Vec::new();
    };
    let deviations: Vec<f64> = values.iter().map(|v| (v - med).abs()).collect();
    let mad = median(&deviations).unwrap_or(0.0);
    if mad <= 0.0 {
        return vec![0.0; values.len()];
    }
    values.iter().map(|v| 0.6745 * (v - med) / mad).collect()
}

/// Indices of the values whose modified Z-score exceeds [`OUTLIER_THRESHOLD`] in magnitude.
pub fn outliers(values: &[f64]) -> Vec<usize> {
    modified_z_scores(values)
        .iter()
        .enumerate()
        .filter(|(_, z)| z.abs() > OUTLIER_THRESHOLD)
        .map(|(i, _)| i)
        .collect()
}

/// Speed-up of a run taking `time` against one taking `baseline`: `baseline / time`.
pub fn speedup(baseline: f64, time: f64) -> f64 {
    baseline / time
}

/// Parallel efficiency: the speed-up per worker, `S / p` (1 is perfect scaling).
pub fn efficiency(speedup: f64, workers: f64) -> f64 {
    speedup / workers
}

/// The Karp–Flatt metric: the serial fraction `e = (1/S − 1/p) / (1 − 1/p)` that, put into
/// Amdahl's law, reproduces the measured speed-up `S` at `p` workers. 0 for perfect scaling, 1
/// when extra workers do not help at all. `None` for `p ≤ 1`, where it is undefined.
pub fn karp_flatt(speedup: f64, workers: f64) -> Option<f64> {
    (workers > 1.0).then(|| (1.0 / speedup - 1.0 / workers) / (1.0 - 1.0 / workers))
}

/// Amdahl's law: the speed-up at `workers` workers of a job whose serial fraction is `f`.
pub fn amdahl_speedup(serial_fraction: f64, workers: f64) -> f64 {
    1.0 / (serial_fraction + (1.0 - serial_fraction) / workers)
}

/// Amdahl's law fitted to measured speed-ups.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AmdahlFit {
    /// The fitted serial fraction `f` (negative when the measurements scale better than linearly).
    pub serial_fraction: f64,
    /// The speed-up no worker count can exceed, `1/f`; `None` when `f ≤ 0` (no limit measured).
    pub max_speedup: Option<f64>,
}

/// Fits Amdahl's law to `(workers, speed-up)` points by least squares on the serial fraction.
///
/// Amdahl's law is linear in `f`: `1/S − 1/p = f · (1 − 1/p)`. With `x = 1 − 1/p` and
/// `y = 1/S − 1/p` the least-squares slope through the origin is `f = Σxy / Σx²`: a weighted mean
/// of the rows' Karp–Flatt values with weights `x²`, so rows with more workers count more. Points
/// with `p ≤ 1` carry no information (`x = 0`). `None` unless some point has `p > 1`.
pub fn amdahl_fit(points: &[(f64, f64)]) -> Option<AmdahlFit> {
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for &(p, s) in points.iter().filter(|(p, _)| *p > 1.0) {
        let x = 1.0 - 1.0 / p;
        let y = 1.0 / s - 1.0 / p;
        sxy += x * y;
        sxx += x * x;
    }
    if sxx <= 0.0 {
        return None;
    }
    let f = sxy / sxx;
    Some(AmdahlFit {
        serial_fraction: f,
        max_speedup: (f > 0.0).then(|| 1.0 / f),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn mean_std_dev_and_range_on_known_numbers() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares 32, sample variance 32/7.
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&xs), Some(5.0));
        assert!(close(std_dev(&xs).unwrap(), (32.0f64 / 7.0).sqrt()));
        assert_eq!(min_max(&xs), Some((2.0, 9.0)));
        assert_eq!(std_dev(&[1.0]), None);
        assert_eq!(mean(&[]), None);
        assert_eq!(min_max(&[]), None);
    }

    #[test]
    fn a_disturbed_run_is_an_outlier_and_ordinary_noise_is_not() {
        let xs = [1.00, 1.01, 0.99, 1.02, 0.98, 3.0];
        assert_eq!(outliers(&xs), vec![5]);
        assert!(outliers(&[1.00, 1.01, 0.99, 1.02, 0.98, 1.03]).is_empty());
        // Identical timings: zero spread, nothing to flag, no division by zero.
        assert_eq!(modified_z_scores(&[2.0, 2.0, 2.0]), vec![0.0; 3]);
        assert!(outliers(&[]).is_empty());
    }

    #[test]
    fn modified_z_score_on_known_numbers() {
        // median 3, deviations 2,1,0,1,2 → MAD 1; z = 0.6745·(x − 3).
        let z = modified_z_scores(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let want = [-1.349, -0.6745, 0.0, 0.6745, 1.349];
        for (a, b) in z.iter().zip(want) {
            assert!(close(*a, b), "{z:?}");
        }
    }

    #[test]
    fn perfect_scaling() {
        // T(p) = 8/p: speed-up p, efficiency 1, serial fraction 0, no Amdahl limit.
        let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0]
            .iter()
            .map(|&p| (p, speedup(8.0, 8.0 / p)))
            .collect();
        for &(p, s) in &points {
            assert!(close(s, p));
            assert!(close(efficiency(s, p), 1.0));
            if p > 1.0 {
                assert!(close(karp_flatt(s, p).unwrap(), 0.0));
            }
        }
        let fit = amdahl_fit(&points).unwrap();
        assert!(close(fit.serial_fraction, 0.0));
        assert_eq!(fit.max_speedup, None);
    }

    #[test]
    fn fully_serial() {
        // T(p) = T(1): speed-up 1, efficiency 1/p, serial fraction 1, limit 1×.
        for p in [2.0, 4.0, 16.0] {
            let s = speedup(3.0, 3.0);
            assert_eq!(s, 1.0);
            assert!(close(efficiency(s, p), 1.0 / p));
            assert!(close(karp_flatt(s, p).unwrap(), 1.0));
        }
        let fit = amdahl_fit(&[(1.0, 1.0), (2.0, 1.0), (4.0, 1.0)]).unwrap();
        assert!(close(fit.serial_fraction, 1.0));
        assert!(close(fit.max_speedup.unwrap(), 1.0));
    }

    #[test]
    fn ten_percent_serial() {
        // f = 0.1: S(2) = 1/0.55 = 1.8181…, S(4) = 1/0.325 = 3.0769…, limit 10×.
        assert!(close(amdahl_speedup(0.1, 2.0), 1.0 / 0.55));
        assert!(close(amdahl_speedup(0.1, 4.0), 1.0 / 0.325));
        assert!(close(karp_flatt(1.0 / 0.55, 2.0).unwrap(), 0.1));
        assert!(close(karp_flatt(1.0 / 0.325, 4.0).unwrap(), 0.1));
        let points: Vec<(f64, f64)> = [1.0, 2.0, 3.0, 4.0, 8.0]
            .iter()
            .map(|&p| (p, amdahl_speedup(0.1, p)))
            .collect();
        let fit = amdahl_fit(&points).unwrap();
        assert!(close(fit.serial_fraction, 0.1));
        assert!(close(fit.max_speedup.unwrap(), 10.0));
        // The 2-worker row of the example: S = 1.98 → e = (1/1.98 − 1/2)/(1/2) ≈ 0.0101.
        assert!((karp_flatt(1.98, 2.0).unwrap() - 0.010_101).abs() < 1e-6);
    }

    #[test]
    fn fit_is_least_squares_over_disagreeing_rows() {
        // Rows with e = 0.1 at p = 2 (x = 1/2) and e = 0.2 at p = 4 (x = 3/4):
        // f = Σx²e / Σx² = (0.25·0.1 + 0.5625·0.2) / 0.8125 = 0.169230…
        let s2 = amdahl_speedup(0.1, 2.0);
        let s4 = amdahl_speedup(0.2, 4.0);
        let fit = amdahl_fit(&[(2.0, s2), (4.0, s4)]).unwrap();
        assert!(close(fit.serial_fraction, 0.1375 / 0.8125));
    }

    #[test]
    fn superlinear_scaling_fits_a_negative_fraction_without_a_limit() {
        let fit = amdahl_fit(&[(2.0, 2.2)]).unwrap();
        assert!(fit.serial_fraction < 0.0);
        assert_eq!(fit.max_speedup, None);
    }

    #[test]
    fn no_fit_and_no_karp_flatt_without_more_than_one_worker() {
        assert_eq!(amdahl_fit(&[]), None);
        assert_eq!(amdahl_fit(&[(1.0, 1.0)]), None);
        assert_eq!(karp_flatt(1.0, 1.0), None);
    }
}
