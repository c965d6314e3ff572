//! Statistics of a worker-count sweep: summaries of repeated timings (median, mean, standard
//! deviation, outliers) and the scaling figures built on them (speed-up, efficiency, the
//! Karp–Flatt serial fraction, a least-squares Amdahl fit and a bootstrap interval of it). Pure
//! functions on numbers (the bootstrap's draws come from a seeded generator, so it is one too).
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

/// Resamples drawn by [`amdahl_bootstrap`]: enough that the 2.5% and 97.5% points move by
/// well under the interval's width from one seed to another.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// The bootstrap's fixed seed: the same timings always give the same interval.
pub const BOOTSTRAP_SEED: u64 = 0x5EED_A4DA_4715;

/// A 95% percentile-bootstrap interval `[low, high]` of the serial fraction that
/// [`amdahl_fit`] gives, from the spread of the timed runs: each resample draws every row's runs
/// (and the baseline's) with replacement, takes their medians, recomputes the speed-ups against
/// the resampled baseline and refits. `baseline` holds the baseline's timed runs and
/// `baseline_workers` its worker count (speed-ups are `baseline_workers · T_base / T_p`); `rows`
/// the fitted rows as `(workers, timed runs)`. The draws come from a xoshiro256++ generator
/// seeded with `seed`, so the interval is reproducible.
///
/// `None` when there is nothing to resample (no row, or one run in every row and the baseline:
/// no spread is measured) or when a resample cannot be fitted. The interval covers only the
/// noise of these timings, not what a rerun on a differently loaded machine would measure.
pub fn amdahl_bootstrap(
    baseline: &[f64],
    baseline_workers: f64,
    rows: &[(f64, &[f64])],
    resamples: usize,
    seed: u64,
) -> Option<[f64; 2]> {
    use rand_xoshiro::Xoshiro256PlusPlus;
    use rand_xoshiro::rand_core::{Rng, SeedableRng};

    if rows.is_empty() || resamples == 0 || baseline.is_empty() {
        return None;
    }
    if baseline.len() < 2 && rows.iter().all(|(_, t)| t.len() < 2) {
        return None;
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    // A multiply-shift draw from 0..n: reproducible whatever the version of `rand`.
    let mut draw_median = |times: &[f64], buffer: &mut Vec<f64>| {
        buffer.clear();
        let n = times.len() as u128;
        buffer.extend(
            (0..times.len()).map(|_| times[((u128::from(rng.next_u64()) * n) >> 64) as usize]),
        );
        median(buffer)
    };
    let mut buffer = Vec::new();
    let mut fractions = Vec::with_capacity(resamples);
    let mut points = Vec::with_capacity(rows.len());
    for _ in 0..resamples {
        let base = draw_median(baseline, &mut buffer)?;
        points.clear();
        for (workers, times) in rows {
            let time = draw_median(times, &mut buffer)?;
            points.push((*workers, baseline_workers * speedup(base, time)));
        }
        let fit = amdahl_fit(&points)?;
        if !fit.serial_fraction.is_finite() {
            return None;
        }
        fractions.push(fit.serial_fraction);
    }
    fractions.sort_by(f64::total_cmp);
    let at = |q: f64| fractions[((fractions.len() - 1) as f64 * q).round() as usize];
    Some([at(0.025), at(0.975)])
}

/// The interval of the limit `1/f` over a serial-fraction interval `[low, high]`:
/// `[1/high, 1/low]`, with `None` for a bound that does not exist (a fraction `≤ 0` has no
/// limit, so `low ≤ 0` leaves the top open and `high ≤ 0` both ends).
pub fn max_speedup_interval([low, high]: [f64; 2]) -> [Option<f64>; 2] {
    let limit = |f: f64| (f > 0.0).then(|| 1.0 / f);
    [limit(high), limit(low)]
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

    /// Five runs per row of `T(p) = 0.1 + 0.9/p`, each run off by `noise` times a fixed pattern.
    fn noisy_rows(noise: f64) -> Vec<(f64, Vec<f64>)> {
        let pattern = [0.0, 1.0, -1.0, 0.5, -0.5];
        [1.0, 2.0, 4.0]
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let t = 0.1 + 0.9 / p;
                let times = pattern
                    .iter()
                    .map(|d| t * (1.0 + noise * d * if i % 2 == 0 { 1.0 } else { -1.0 }))
                    .collect();
                (p, times)
            })
            .collect()
    }

    fn interval(rows: &[(f64, Vec<f64>)], seed: u64) -> Option<[f64; 2]> {
        let fitted: Vec<(f64, &[f64])> = rows[1..].iter().map(|(p, t)| (*p, &t[..])).collect();
        amdahl_bootstrap(&rows[0].1, 1.0, &fitted, BOOTSTRAP_RESAMPLES, seed)
    }

    #[test]
    fn the_bootstrap_interval_widens_with_noisier_timings_and_holds_the_fit() {
        let widths: Vec<f64> = [0.001, 0.01, 0.05]
            .iter()
            .map(|&noise| {
                let [low, high] = interval(&noisy_rows(noise), BOOTSTRAP_SEED).unwrap();
                assert!(low <= 0.1 && 0.1 <= high, "{noise}: {low}..{high}");
                high - low
            })
            .collect();
        assert!(widths[0] < widths[1] && widths[1] < widths[2], "{widths:?}");
        // Noise-free runs: every resample is the same fit, the interval is a point.
        let [low, high] = interval(&noisy_rows(0.0), BOOTSTRAP_SEED).unwrap();
        assert!(close(low, 0.1) && close(high, 0.1), "{low}..{high}");
    }

    #[test]
    fn the_bootstrap_is_reproducible_and_needs_a_spread() {
        let rows = noisy_rows(0.03);
        assert_eq!(interval(&rows, 1), interval(&rows, 1));
        assert_ne!(interval(&rows, 1), interval(&rows, 2));
        // One run per row: nothing to resample.
        assert_eq!(
            amdahl_bootstrap(&[1.0], 1.0, &[(2.0, &[0.55])], 100, 1),
            None
        );
        assert_eq!(amdahl_bootstrap(&[1.0, 1.1], 1.0, &[], 100, 1), None);
    }

    #[test]
    fn the_limit_interval_is_open_where_the_fraction_reaches_zero() {
        assert_eq!(max_speedup_interval([0.1, 0.5]), [Some(2.0), Some(10.0)]);
        assert_eq!(max_speedup_interval([-0.1, 0.5]), [Some(2.0), None]);
        assert_eq!(max_speedup_interval([-0.2, -0.1]), [None, None]);
    }
}
