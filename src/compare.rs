//! The comparison of the sampling methods behind `piest methods`: one run of each method at a
//! series of trial counts ([`trial_series`]), each through the runner and the result cache like
//! any estimate, and what a reader of a convergence plot wants from them: the 95% half-width,
//! the actual error `|π̂ − π|`, and the rate at which the half-width falls ([`MethodFit`]).
//!
//! Plain runs use the default chunk size. Stratified runs use the chunk size a run of that many
//! trials chooses ([`crate::stats::strata::grid_for_trials`]), so the grid grows with the
//! trials and the half-width falls as `n^-3/4`, against plain's `n^-1/2`; their trials are
//! rounded up to whole chunks, and each point keeps both counts.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::Error;
use crate::cache::{CacheSession, CacheSummary};
use crate::plan::{DEFAULT_CHUNK_SIZE, Plan};
use crate::report::Report;
use crate::runner::{self, Observer, RunSpec};
use crate::sampler::{Kernel, Method};
use crate::stats::strata::{grid_for_trials, whole_chunks};

/// The largest trial count of `piest methods` when `-n` is not given.
pub const DEFAULT_MAX_TRIALS: u64 = 1_000_000_000;

/// The first trial count of the series: below it a stratified run's chunks are too small to
/// show its rate (4^2 trials) and the plain interval is a rough guide.
pub const MIN_TRIALS: u64 = 10_000;

/// What to compare.
#[derive(Clone, Debug)]
pub struct CompareSpec {
    /// The largest trial count of the series.
    pub max_trials: u64,
    /// The seed of every run.
    pub seed: u64,
    /// Worker threads of every run.
    pub workers: NonZeroUsize,
    /// The kernel of every run.
    pub kernel: Kernel,
}

/// The trial counts of the comparison: `1` and `3` times each power of ten from
/// [`MIN_TRIALS`] up to `max`, and `max` itself when it is not one of them (only `max` when it
/// is below [`MIN_TRIALS`]). Roughly two points per decade, evenly spaced on a log axis.
pub fn trial_series(max: u64) -> Vec<u64> {
    let mut series = Vec::new();
    let mut decade = MIN_TRIALS;
    'decades: loop {
        for step in [1, 3] {
            match decade.checked_mul(step) {
                Some(n) if n <= max => series.push(n),
                _ => break 'decades,
            }
        }
        match decade.checked_mul(10) {
            Some(next) => decade = next,
            None => break,
        }
    }
    if series.last() != Some(&max) {
        series.push(max);
    }
    series
}

/// The chunk size of `method`'s run of `trials` trials: the default for plain, the chosen
/// `4^k` for stratified.
pub fn chunk_size(method: Method, trials: u64) -> u64 {
    match method {
        Method::Plain => DEFAULT_CHUNK_SIZE,
        Method::Stratified => grid_for_trials(trials).trials(),
    }
}

/// The plan of `method`'s run of `trials` trials: stratified trials rounded up to whole chunks.
pub fn plan(method: Method, trials: u64) -> Result<Plan, Error> {
    let size = chunk_size(method, trials);
    let trials = match method {
        Method::Plain => trials,
        Method::Stratified => whole_chunks(trials, grid_for_trials(trials))
            .checked_mul(size)
            .ok_or_else(|| Error::InvalidConfig(format!("{trials} trials is too many")))?,
    };
    Plan::new(trials, size)
}

/// Every run of the comparison, in the order they are counted: for each trial count, plain
/// then stratified.
pub fn runs(max_trials: u64) -> Vec<(Method, u64)> {
    trial_series(max_trials)
        .into_iter()
        .flat_map(|n| Method::ALL.map(|m| (m, n)))
        .collect()
}

/// The trials all the runs of a comparison count (for a progress bar).
pub fn total_trials(max_trials: u64) -> u64 {
    runs(max_trials)
        .into_iter()
        .filter_map(|(m, n)| plan(m, n).ok())
        .map(|p| p.trials())
        .fold(0, u64::saturating_add)
}

/// One run of one method.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MethodPoint {
    /// The method: `plain` or `stratified`.
    pub method: &'static str,
    /// The trial count of the series this run stands for.
    pub requested_trials: u64,
    /// The trials counted (stratified: rounded up to whole chunks).
    pub trials: u64,
    /// Trials per chunk.
    pub chunk_size: u64,
    /// Chunks counted.
    pub chunks: u64,
    /// The estimate of π.
    pub pi: f64,
    /// Half the width of the 95% interval.
    pub ci95_half_width: f64,
    /// How the interval was computed (`wilson`, `student-t`, `hoeffding`).
    pub ci_method: &'static str,
    /// `|π̂ − π|`, the actual error of this run.
    pub abs_error: f64,
    /// Wall time of the run in seconds.
    pub elapsed_s: f64,
    /// Chunks read from the result cache.
    pub cached_chunks: u64,
}

impl MethodPoint {
    /// The point of `method`'s run of `requested` trials that `report` describes.
    pub fn of_report(method: Method, requested: u64, report: &Report) -> MethodPoint {
        MethodPoint {
            method: method.name(),
            requested_trials: requested,
            trials: report.trials,
            chunk_size: report.chunk_size,
            chunks: report.chunks,
            pi: report.pi,
            ci95_half_width: report.ci95_half_width,
            ci_method: report.ci_method,
            abs_error: report.abs_error,
            elapsed_s: report.elapsed_s,
            cached_chunks: report.cached_chunks,
        }
    }
}

/// How fast one method's half-width falls: the least-squares slope of `ln(half-width)` against
/// `ln(trials)` over its points (−1/2 for plain sampling, about −3/4 for stratified chunks
/// that grow with the trials).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MethodFit {
    /// The method.
    pub method: &'static str,
    /// The slope: the half-width falls as `trials^exponent`, to 4 decimals (the platform's `ln`
    /// may differ in its last bit, and no reader needs more digits of a fitted rate).
    pub exponent: f64,
    /// The points it was fitted to.
    pub points: usize,
}

/// The slope of `ln y` against `ln x` over the pairs with both positive and finite; `None`
/// with fewer than two such pairs or a single `x`.
pub fn log_log_slope(pairs: impl IntoIterator<Item = (f64, f64)>) -> Option<(f64, usize)> {
    let logs: Vec<(f64, f64)> = pairs
        .into_iter()
        .filter(|&(x, y)| x > 0.0 && y > 0.0 && x.is_finite() && y.is_finite())
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    let n = logs.len() as f64;
    if logs.len() < 2 {
        return None;
    }
    let (mx, my) = logs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let sxx: f64 = logs.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let sxy: f64 = logs.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    (sxx > 0.0).then(|| (sxy / sxx, logs.len()))
}

/// The comparison: every run, the fitted rates, and what the runs shared.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The largest trial count asked for.
    pub max_trials: u64,
    /// The seed of every run.
    pub seed: u64,
    /// Worker threads of every run.
    pub workers: usize,
    /// The kernel that counted.
    pub kernel: String,
    /// Every run, in the order counted: for each trial count, plain then stratified.
    pub points: Vec<MethodPoint>,
    /// Each method's rate (methods with fewer than two usable points have none).
    pub fits: Vec<MethodFit>,
    /// Wall time of all the runs in seconds.
    pub elapsed_s: f64,
    /// What the result cache did over all the runs; `null` without the cache.
    pub cache: Option<CacheSummary>,
}

impl Comparison {
    /// The comparison of `points`, with each method's fitted rate.
    pub fn new(spec: &CompareSpec, points: Vec<MethodPoint>, elapsed_s: f64) -> Comparison {
        let fits = Method::ALL
            .into_iter()
            .filter_map(|m| {
                let pairs = points
                    .iter()
                    .filter(|p| p.method == m.name())
                    .map(|p| (p.trials as f64, p.ci95_half_width));
                log_log_slope(pairs).map(|(exponent, points)| MethodFit {
                    method: m.name(),
                    exponent: (exponent * 1e4).round() / 1e4,
                    points,
                })
            })
            .collect();
        Comparison {
            max_trials: spec.max_trials,
            seed: spec.seed,
            workers: spec.workers.get(),
            kernel: spec.kernel.name().to_string(),
            points,
            fits,
            elapsed_s,
            cache: None,
        }
    }

    /// The same comparison with the cache's summary.
    pub fn with_cache(mut self, cache: Option<CacheSummary>) -> Comparison {
        self.cache = cache;
        self
    }

    /// The points of `method`, in increasing trials.
    pub fn series(&self, method: Method) -> impl Iterator<Item = &MethodPoint> {
        self.points
            .iter()
            .filter(move |p| p.method == method.name())
    }

    /// The fitted rate of `method`, if any.
    pub fn fit(&self, method: Method) -> Option<&MethodFit> {
        self.fits.iter().find(|f| f.method == method.name())
    }
}

/// Counts every run of the comparison [`runs`] gives, in order, through the runner (with
/// `cache` when given, as any estimate), reporting progress to `observer`. Returns
/// [`Error::Cancelled`] soon after `cancel` is set; the chunks completed by then are stored.
pub fn run(
    spec: &CompareSpec,
    cache: Option<&CacheSession>,
    observer: &dyn Observer,
    cancel: &AtomicBool,
) -> Result<Comparison, Error> {
    let start = std::time::Instant::now();
    let mut points = Vec::new();
    for (method, requested) in runs(spec.max_trials) {
        // A run too short to look at the flag must not start the next one.
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let run = RunSpec {
            plan: plan(method, requested)?,
            method,
            seed: spec.seed,
            workers: spec.workers,
            kernel: spec.kernel,
        };
        let tally = runner::run_all(&run, cache, observer, cancel)?;
        let report = Report::new(&tally, spec.workers.get(), spec.kernel.name());
        points.push(MethodPoint::of_report(method, requested, &report));
    }
    Ok(Comparison::new(spec, points, start.elapsed().as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_runs_one_and_three_per_decade_up_to_the_largest() {
        assert_eq!(
            trial_series(1_000_000),
            [10_000, 30_000, 100_000, 300_000, 1_000_000]
        );
        assert_eq!(trial_series(50_000), [10_000, 30_000, 50_000]);
        assert_eq!(trial_series(500), [500]);
        assert_eq!(trial_series(10_000), [10_000]);
        let all = trial_series(u64::MAX);
        assert_eq!(all.last(), Some(&u64::MAX));
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(runs(30_000).len(), 4);
    }

    #[test]
    fn stratified_plans_grow_their_grid_and_round_up_to_whole_chunks() {
        for n in trial_series(10_000_000_000) {
            let p = plan(Method::Plain, n).unwrap();
            assert_eq!((p.trials(), p.chunk_size()), (n, DEFAULT_CHUNK_SIZE));
            let s = plan(Method::Stratified, n).unwrap();
            let grid = grid_for_trials(n);
            assert_eq!(s.chunk_size(), grid.trials());
            assert!(s.trials() >= n && s.trials() - n < grid.trials(), "{n}");
            assert_eq!(s.trials() % grid.trials(), 0);
            assert!(s.chunks() >= 20, "{n}: {} chunks", s.chunks());
        }
        assert_eq!(
            plan(Method::Stratified, 1_000_000_000)
                .unwrap()
                .chunk_size(),
            1 << 24
        );
    }

    #[test]
    fn the_slope_of_a_power_law_is_its_exponent() {
        let law = |e: f64| (1..8).map(move |i| (10f64.powi(i), 3.0 * 10f64.powf(e * i as f64)));
        let (slope, n) = log_log_slope(law(-0.5)).unwrap();
        assert!((slope + 0.5).abs() < 1e-12 && n == 7);
        assert!((log_log_slope(law(-0.75)).unwrap().0 + 0.75).abs() < 1e-12);
        assert_eq!(log_log_slope([(10.0, 1.0)]), None);
        assert_eq!(log_log_slope([(10.0, 1.0), (10.0, 2.0)]), None);
        assert_eq!(log_log_slope([(10.0, 0.0), (100.0, f64::NAN)]), None);
    }
}
