//! The report of a worker-count sweep and the analysis that builds it: one serializable data
//! model that every `piest scale` renderer (table, JSON, CSV, Markdown, SVG plot) reads, holding
//! every number they show, so that no renderer computes a statistic. Field names are stable:
//! new fields may be added, none removed, renamed or retyped.

use serde::Serialize;

use super::stats::{self as scaling, AmdahlFit};
use super::sweep::Sweep;
use super::warning::{LARGE_SPREAD, SHORT_RUN_S, Warning};
use crate::stats::pi_estimate;

/// Everything a sweep found out, ready to render.
#[derive(Clone, Debug, Serialize)]
pub struct ScaleReport {
    /// Trials per run.
    pub trials: u64,
    /// Seed every run used.
    pub seed: u64,
    /// Trials per chunk.
    pub chunk_size: u64,
    /// Chunks per run: no run can keep more workers than this busy.
    pub chunks: u64,
    /// The kernel that counted the trials.
    pub kernel: &'static str,
    /// Version string of the sampling algorithm (the method's).
    pub algorithm: &'static str,
    /// The sampling method: `"plain"` or `"stratified"`.
    pub method: &'static str,
    /// The inside count, identical in every run (the sweep fails otherwise).
    pub inside: u64,
    /// The estimate `4 · inside / trials`.
    pub pi: f64,
    /// Always `true` in a report: every run at every worker count counted `inside`.
    pub all_runs_agree: bool,
    /// Timed runs per worker count.
    pub runs: usize,
    /// Untimed warm-up runs per worker count.
    pub warmup: usize,
    /// Runs in the whole sweep, warm-up included: every one of them counted `inside`.
    pub total_runs: usize,
    /// How runs were ordered: `"interleaved"` (one run of each worker count per round).
    pub order: &'static str,
    /// How the result cache was treated: `"bypassed"` (every run samples every chunk).
    pub cache: &'static str,
    /// What a timing covers.
    pub timing: &'static str,
    /// Cores available to this process; rows with more workers are marked `above_cores`.
    pub cores: usize,
    /// The row speed-ups are measured against.
    pub baseline: Baseline,
    /// One row per worker count, in increasing order.
    pub rows: Vec<ScaleRow>,
    /// Amdahl's law fitted to the rows with 2 to `cores` workers; `null` if there are none.
    pub amdahl: Option<Amdahl>,
    /// Warnings about the measurements (spread, outliers, too-short runs, too few chunks); each
    /// is a sentence in JSON.
    pub warnings: Vec<Warning>,
}

/// The reference row of the speed-ups.
#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    /// Its worker count: 1 if measured, else the smallest worker count measured.
    pub workers: usize,
    /// Its median time in seconds.
    pub median_s: f64,
    /// `true` when there is no 1-worker row: the baseline row is then assumed to scale perfectly,
    /// and speed-ups are `workers · T(workers) / T(p)`.
    pub assumed_ideal: bool,
}

/// The measurements of one worker count.
#[derive(Clone, Debug, Serialize)]
pub struct ScaleRow {
    /// Worker threads.
    pub workers: usize,
    /// Median of the timed runs, in seconds.
    pub median_s: f64,
    /// Mean of the timed runs, in seconds.
    pub mean_s: f64,
    /// Sample standard deviation of the timed runs in seconds (`null` for a single run).
    pub stddev_s: Option<f64>,
    /// Fastest timed run, in seconds.
    pub min_s: f64,
    /// Slowest timed run, in seconds.
    pub max_s: f64,
    /// Trials per second at the median time.
    pub trials_per_s: f64,
    /// Speed-up of the median against the baseline's median.
    pub speedup: f64,
    /// Speed-ups of the slowest and of the fastest timed run against the baseline's median:
    /// the spread of `speedup`.
    pub speedup_range: [f64; 2],
    /// `speedup / workers`.
    pub efficiency: f64,
    /// The Karp–Flatt serial fraction `(1/speedup − 1/workers) / (1 − 1/workers)`; `null` for the
    /// baseline row.
    pub serial_fraction: Option<f64>,
    /// The speed-up the Amdahl fit predicts for this row (`null` without a fit).
    pub amdahl_speedup: Option<f64>,
    /// More workers than the machine's cores: the workers share cores.
    pub above_cores: bool,
    /// Positions in `times_s` of runs that are statistical outliers (modified Z-score above 14).
    pub outliers: Vec<usize>,
    /// Every timed run in seconds, in the order they ran.
    pub times_s: Vec<f64>,
    /// Every warm-up run in seconds, in the order they ran.
    pub warmup_times_s: Vec<f64>,
}

/// Amdahl's law fitted to the measured speed-ups.
#[derive(Clone, Debug, Serialize)]
pub struct Amdahl {
    /// The serial fraction `f` (least squares; negative if scaling was better than linear).
    pub serial_fraction: f64,
    /// `1/f`, the speed-up no worker count can exceed; `null` when `f ≤ 0`.
    pub max_speedup: Option<f64>,
    /// Worker counts of the rows the fit used: 2 to `cores` workers, without an assumed baseline.
    /// Rows above the core count measure time-sharing of cores, not the serial fraction.
    pub fit_workers: Vec<usize>,
    /// `true` when the fit rests on a single worker count beyond the baseline: one point fixes
    /// `f` exactly, so `max_speedup` is an extrapolation from it, not a measured trend.
    pub extrapolation: bool,
    /// A 95% interval `[low, high]` of `serial_fraction` from the spread of the timed runs (see
    /// `interval_method`); `null` when every row has a single run (no spread is measured).
    pub serial_fraction_ci95: Option<[f64; 2]>,
    /// The same interval for `max_speedup`, `[1/high, 1/low]`; a `null` bound does not exist
    /// (an end of the fraction's interval at or below 0 means no limit). `null` without an
    /// interval.
    pub max_speedup_ci95: Option<[Option<f64>; 2]>,
    /// How the intervals are computed.
    pub interval_method: &'static str,
}

/// `Amdahl::interval_method`.
const INTERVAL_METHOD: &str = "percentile bootstrap over the timed runs of every row (2000 \
                               resamples, fixed seed): covers the spread of these timings only";

impl ScaleReport {
    /// Summarises `sweep`, measured on a machine with `cores` available cores.
    pub fn new(sweep: &Sweep, cores: usize) -> Self {
        let spec = &sweep.spec;
        let seconds = |d: &[std::time::Duration]| d.iter().map(|t| t.as_secs_f64()).collect();
        let mut rows: Vec<ScaleRow> = sweep
            .series
            .iter()
            .map(|series| {
                let times_s: Vec<f64> = seconds(&series.times);
                let median_s = scaling::median(&times_s).unwrap_or(f64::NAN);
                let (min_s, max_s) = scaling::min_max(&times_s).unwrap_or((f64::NAN, f64::NAN));
                ScaleRow {
                    workers: series.workers.get(),
                    median_s,
                    mean_s: scaling::mean(&times_s).unwrap_or(f64::NAN),
                    stddev_s: scaling::std_dev(&times_s),
                    min_s,
                    max_s,
                    trials_per_s: spec.plan.trials() as f64 / median_s,
                    speedup: f64::NAN,
                    speedup_range: [f64::NAN; 2],
                    efficiency: f64::NAN,
                    serial_fraction: None,
                    amdahl_speedup: None,
                    above_cores: series.workers.get() > cores,
                    outliers: scaling::outliers(&times_s),
                    times_s,
                    warmup_times_s: seconds(&series.warmup),
                }
            })
            .collect();
        rows.sort_by_key(|r| r.workers);

        let baseline = rows.first().map_or(
            Baseline {
                workers: 1,
                median_s: f64::NAN,
                assumed_ideal: false,
            },
            |r| Baseline {
                workers: r.workers,
                median_s: r.median_s,
                assumed_ideal: r.workers != 1,
            },
        );
        for row in &mut rows {
            let p = row.workers as f64;
            let speedup_of =
                |time: f64| baseline.workers as f64 * scaling::speedup(baseline.median_s, time);
            row.speedup = speedup_of(row.median_s);
            row.speedup_range = [speedup_of(row.max_s), speedup_of(row.min_s)];
            row.efficiency = scaling::efficiency(row.speedup, p);
            // The assumed baseline's serial fraction is 0 by assumption, not by measurement.
            if row.workers != baseline.workers {
                row.serial_fraction = scaling::karp_flatt(row.speedup, p);
            }
        }

        let fit_rows: Vec<&ScaleRow> = rows
            .iter()
            .filter(|r| r.workers > 1 && r.workers <= cores)
            .filter(|r| !(baseline.assumed_ideal && r.workers == baseline.workers))
            .collect();
        let points: Vec<(f64, f64)> = fit_rows
            .iter()
            .map(|r| (r.workers as f64, r.speedup))
            .collect();
        let baseline_times = rows
            .iter()
            .find(|r| r.workers == baseline.workers)
            .map_or(&[][..], |r| &r.times_s[..]);
        let timed: Vec<(f64, &[f64])> = fit_rows
            .iter()
            .map(|r| (r.workers as f64, &r.times_s[..]))
            .collect();
        let serial_fraction_ci95 = scaling::amdahl_bootstrap(
            baseline_times,
            baseline.workers as f64,
            &timed,
            scaling::BOOTSTRAP_RESAMPLES,
            scaling::BOOTSTRAP_SEED,
        );
        let amdahl = scaling::amdahl_fit(&points).map(
            |AmdahlFit {
                 serial_fraction,
                 max_speedup,
             }| {
                Amdahl {
                    serial_fraction,
                    max_speedup,
                    fit_workers: fit_rows.iter().map(|r| r.workers).collect(),
                    extrapolation: fit_rows.len() == 1,
                    serial_fraction_ci95,
                    max_speedup_ci95: serial_fraction_ci95.map(scaling::max_speedup_interval),
                    interval_method: INTERVAL_METHOD,
                }
            },
        );
        if let Some(fit) = &amdahl {
            for row in &mut rows {
                row.amdahl_speedup = Some(scaling::amdahl_speedup(
                    fit.serial_fraction,
                    row.workers as f64,
                ));
            }
        }

        let warnings = warnings(&rows, spec.warmup, spec.plan.chunks());
        ScaleReport {
            trials: spec.plan.trials(),
            seed: spec.seed,
            chunk_size: spec.plan.chunk_size(),
            chunks: spec.plan.chunks(),
            kernel: spec.kernel.name(),
            algorithm: spec.method.algorithm(),
            method: spec.method.name(),
            inside: sweep.inside,
            pi: pi_estimate(sweep.inside, spec.plan.trials()),
            all_runs_agree: true,
            runs: spec.runs,
            warmup: spec.warmup,
            total_runs: spec.total_runs(),
            order: "interleaved",
            cache: "bypassed",
            timing: "wall time of each run: thread-pool start-up, sampling and summing; \
                     process start-up excluded",
            cores,
            baseline,
            rows,
            amdahl,
            warnings,
        }
    }
}

impl Amdahl {
    /// The speed-up the fitted law predicts at `workers` workers (for drawing its curve).
    pub fn speedup_at(&self, workers: f64) -> f64 {
        scaling::amdahl_speedup(self.serial_fraction, workers)
    }
}

/// Warnings about the measurements, in the spirit of hyperfine's.
fn warnings(rows: &[ScaleRow], warmup: usize, chunks: u64) -> Vec<Warning> {
    let mut out = Vec::new();
    if let Some(top) = rows.last().filter(|r| r.workers as u64 > chunks) {
        out.push(Warning::TooFewChunks {
            chunks,
            workers: top.workers,
        });
    }
    for row in rows {
        if row.median_s < SHORT_RUN_S {
            out.push(Warning::ShortRuns {
                workers: row.workers,
                median_s: row.median_s,
            });
        }
        if let Some(&first) = row.outliers.first() {
            out.push(Warning::Outliers {
                workers: row.workers,
                runs: row.outliers.clone(),
                first_s: row.times_s[first],
                median_s: row.median_s,
                cold_start: first == 0 && warmup == 0,
            });
        }
        match row.stddev_s {
            Some(sd) if sd > LARGE_SPREAD * row.median_s => out.push(Warning::LargeSpread {
                workers: row.workers,
                relative: sd / row.median_s,
            }),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;
    use crate::sampler::Kernel;
    use crate::scale::{Series, SweepSpec};
    use std::num::NonZeroUsize;
    use std::time::Duration;

    /// A sweep whose runs took exactly `times[row]` seconds each (`runs` times).
    fn sweep(rows: &[(usize, &[f64])], chunks: u64) -> Sweep {
        let nz = |w| NonZeroUsize::new(w).unwrap();
        let runs = rows[0].1.len();
        Sweep {
            spec: SweepSpec {
                plan: Plan::new(chunks * 1000, 1000).unwrap(),
                seed: 0,
                kernel: Kernel::Scalar,
                method: crate::sampler::Method::Plain,
                workers: rows.iter().map(|r| nz(r.0)).collect(),
                runs,
                warmup: 1,
            },
            inside: 785,
            series: rows
                .iter()
                .map(|(w, t)| Series {
                    workers: nz(*w),
                    warmup: vec![Duration::from_secs(9)],
                    times: t.iter().map(|s| Duration::from_secs_f64(*s)).collect(),
                })
                .collect(),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn ten_percent_serial_gives_the_textbook_rows_and_fit() {
        // T(p) = 0.1 + 0.9/p: S(2) = 1.8181…, S(4) = 3.0769…, f = 0.1, limit 10×.
        let t = |p: f64| 0.1 + 0.9 / p;
        let (t1, t2, t4) = ([t(1.0); 3], [t(2.0); 3], [t(4.0); 3]);
        let report = ScaleReport::new(&sweep(&[(4, &t4), (1, &t1), (2, &t2)], 64), 4);
        assert_eq!(
            report.rows.iter().map(|r| r.workers).collect::<Vec<_>>(),
            [1, 2, 4]
        );
        let r = &report.rows;
        assert!(close(r[1].speedup, 1.0 / 0.55) && close(r[2].speedup, 1.0 / 0.325));
        assert!(close(r[2].efficiency, 1.0 / 0.325 / 4.0));
        assert_eq!(r[0].serial_fraction, None);
        assert!(close(r[1].serial_fraction.unwrap(), 0.1));
        let fit = report.amdahl.as_ref().unwrap();
        assert!(close(fit.serial_fraction, 0.1));
        assert!(close(fit.max_speedup.unwrap(), 10.0));
        assert_eq!(fit.fit_workers, [2, 4]);
        assert!(close(r[2].amdahl_speedup.unwrap(), r[2].speedup));
        assert!(!report.baseline.assumed_ideal);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        assert_eq!(r[0].warmup_times_s, [9.0]);
        assert_eq!(report.total_runs, 12);
        // Every run took the same time: the range collapses onto the median's speed-up.
        assert!(close(r[2].speedup_range[0], r[2].speedup));
        assert!(close(r[2].speedup_range[1], r[2].speedup));
        let fit = report.amdahl.as_ref().unwrap();
        assert!(close(fit.speedup_at(4.0), r[2].speedup));
    }

    #[test]
    fn rows_above_the_core_count_are_marked_and_left_out_of_the_fit() {
        // Two cores: perfect up to 2, then time-sharing (4 workers no faster than 2).
        let report = ScaleReport::new(&sweep(&[(1, &[1.0]), (2, &[0.5]), (4, &[0.5])], 64), 2);
        assert_eq!(
            report
                .rows
                .iter()
                .map(|r| r.above_cores)
                .collect::<Vec<_>>(),
            [false, false, true]
        );
        let fit = report.amdahl.unwrap();
        assert_eq!(fit.fit_workers, [2]);
        assert!(close(fit.serial_fraction, 0.0));
        assert_eq!(fit.max_speedup, None);
        // Karp–Flatt is still shown for the shared row: (1/2 − 1/4) / (3/4) = 1/3.
        assert!(close(report.rows[2].serial_fraction.unwrap(), 1.0 / 3.0));
    }

    #[test]
    fn without_a_one_worker_row_the_smallest_is_an_assumed_ideal_baseline() {
        let report = ScaleReport::new(&sweep(&[(2, &[1.0]), (4, &[0.6])], 64), 8);
        assert_eq!(report.baseline.workers, 2);
        assert!(report.baseline.assumed_ideal);
        assert!(close(report.rows[0].speedup, 2.0));
        assert!(close(report.rows[1].speedup, 2.0 / 0.6));
        assert_eq!(report.rows[0].serial_fraction, None);
        assert_eq!(report.amdahl.unwrap().fit_workers, [4]);
    }

    #[test]
    fn a_fully_serial_job_fits_a_limit_of_one() {
        let report = ScaleReport::new(&sweep(&[(1, &[2.0]), (2, &[2.0])], 64), 2);
        assert!(close(report.rows[1].speedup, 1.0));
        assert!(close(report.rows[1].efficiency, 0.5));
        assert!(close(report.rows[1].serial_fraction.unwrap(), 1.0));
        assert!(close(report.amdahl.unwrap().max_speedup.unwrap(), 1.0));
    }

    #[test]
    fn no_fit_when_no_row_lies_between_two_workers_and_the_core_count() {
        let report = ScaleReport::new(&sweep(&[(1, &[1.0]), (4, &[0.5])], 64), 2);
        assert!(report.amdahl.is_none());
        assert!(report.rows.iter().all(|r| r.amdahl_speedup.is_none()));
    }

    #[test]
    fn noisy_short_and_underchunked_sweeps_are_warned_about() {
        let noisy = [1.0, 1.01, 0.99, 1.0, 3.0];
        let report = ScaleReport::new(&sweep(&[(1, &noisy), (4, &[0.001; 5])], 2), 4);
        let all = report
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(all.contains("only 2 chunks, fewer than 4 workers"), "{all}");
        assert!(
            all.contains("1 worker: statistical outlier detected (run 5"),
            "{all}"
        );
        assert!(all.contains("1 worker: large spread"), "{all}");
        assert!(all.contains("4 workers: runs took less than 5 ms"), "{all}");
        assert_eq!(report.rows[0].outliers, [4]);
    }

    #[test]
    fn a_fit_from_one_worker_count_is_an_extrapolation() {
        let one = ScaleReport::new(
            &sweep(&[(1, &[1.0, 1.02, 0.98]), (2, &[0.55, 0.56, 0.54])], 64),
            2,
        );
        let fit = one.amdahl.unwrap();
        assert_eq!(fit.fit_workers, [2]);
        assert!(fit.extrapolation);
        let two = ScaleReport::new(
            &sweep(
                &[
                    (1, &[1.0, 1.02, 0.98]),
                    (2, &[0.55, 0.56, 0.54]),
                    (4, &[0.33, 0.32, 0.325]),
                ],
                64,
            ),
            4,
        );
        assert!(!two.amdahl.unwrap().extrapolation);
    }

    #[test]
    fn the_fit_interval_widens_with_noisier_timings() {
        // T(p) = 0.1 + 0.9/p, every row's runs spread by ±noise.
        let width = |noise: f64| {
            let runs = |p: f64| {
                let t = 0.1 + 0.9 / p;
                [
                    t,
                    t * (1.0 + noise),
                    t * (1.0 - noise),
                    t * (1.0 + noise / 2.0),
                    t,
                ]
            };
            let (t1, t2, t4) = (runs(1.0), runs(2.0), runs(4.0));
            let report = ScaleReport::new(&sweep(&[(1, &t1), (2, &t2), (4, &t4)], 64), 4);
            let fit = report.amdahl.unwrap();
            let [low, high] = fit.serial_fraction_ci95.unwrap();
            assert!(low <= fit.serial_fraction && fit.serial_fraction <= high);
            let [top_low, top_high] = fit.max_speedup_ci95.unwrap();
            assert!(top_low.unwrap() <= fit.max_speedup.unwrap());
            assert!(top_high.is_none_or(|h| h >= fit.max_speedup.unwrap()));
            high - low
        };
        let (quiet, noisy) = (width(0.01), width(0.1));
        assert!(0.0 < quiet && quiet < noisy, "{quiet} vs {noisy}");
        // One run per row: no spread, no interval, and the JSON says null.
        let single = ScaleReport::new(&sweep(&[(1, &[1.0]), (2, &[0.55])], 64), 2);
        let fit = single.amdahl.unwrap();
        assert_eq!(fit.serial_fraction_ci95, None);
        assert_eq!(fit.max_speedup_ci95, None);
    }

    #[test]
    fn serializes_with_stable_field_names() {
        let report = ScaleReport::new(&sweep(&[(1, &[1.0, 1.1]), (2, &[0.5, 0.6])], 64), 2);
        let v = serde_json::to_value(&report).unwrap();
        for key in [
            "rows",
            "amdahl",
            "baseline",
            "cache",
            "inside",
            "all_runs_agree",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(v["rows"][1]["times_s"], serde_json::json!([0.5, 0.6]));
        assert_eq!(v["cache"], "bypassed");
    }
}
