//! The report of an estimate: one serializable data model that every renderer (human text,
//! JSON) reads. Field names are stable: new fields may be added, none removed. The report of a
//! worker-count sweep is [`crate::scale::ScaleReport`].

use serde::Serialize;

use crate::cache::CacheSummary;
use crate::runner::prefix::{Limits, Outcome, StoppedBy};
use crate::sampler::{Grid, Method};
use crate::stats;
use crate::stats::convergence::ConvergencePoint;
use crate::tally::Tally;

/// Everything a run found out, ready to render.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The estimate of π: `4 · inside / trials` (for stratified runs the same number, the mean
    /// of the chunk estimates `4 Σc / (m · n)`).
    pub pi: f64,
    /// Trials sampled.
    pub trials: u64,
    /// The `--trials` asked for, present only when `trials` differs from it: a stratified run
    /// counts whole chunks and rounds the request up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_trials: Option<u64>,
    /// Trials inside the quarter circle.
    pub inside: u64,
    /// Seed all chunk streams derive from.
    pub seed: u64,
    /// Worker threads used.
    pub workers: usize,
    /// Number of chunks.
    pub chunks: u64,
    /// Trials per chunk (the last chunk may hold fewer).
    pub chunk_size: u64,
    /// Standard error of `pi`. Plain: `4·sqrt(p(1−p)/trials)` with `p = inside/trials`.
    /// Stratified: the standard error of the mean of the `chunks` chunk estimates, from their
    /// spread (with `ci_method` `"hoeffding"`, the bound `2·sqrt(B·m)/(m·n)` on it instead).
    pub std_error: f64,
    /// 95% confidence interval for π, `[low, high]` (see `ci_method`).
    pub ci95: [f64; 2],
    /// How `ci95` is computed: `"wilson"` (Wilson score interval, plain runs), `"student-t"`
    /// (Student-t with `chunks − 1` degrees of freedom from the spread between chunks,
    /// stratified runs) or `"hoeffding"` (Hoeffding's bound over the boundary cells: a
    /// stratified run of one chunk or of chunks that all counted the same).
    pub ci_method: &'static str,
    /// Half the width of `ci95`: the "±" of the human report, what `--target-error` bounds.
    pub ci95_half_width: f64,
    /// `pi − π` (signed error against the true value).
    pub error: f64,
    /// `|pi − π|`.
    pub abs_error: f64,
    /// Wall time of the run in seconds.
    pub elapsed_s: f64,
    /// Trials sampled in this run per second of wall time: chunks read from the cache are not
    /// counted (0 when every chunk came from the cache).
    pub trials_per_s: f64,
    /// Version string of the sampling algorithm (the method's).
    pub algorithm: &'static str,
    /// The sampling method: `"plain"` or `"stratified"`.
    pub method: &'static str,
    /// The kernel that counted the trials (`scalar`, `portable`, `avx2`, ...).
    pub kernel: String,
    /// Chunks whose count was read from the result cache.
    pub cached_chunks: u64,
    /// What the result cache did (directory, hits, misses, ...); `null` when the run did not
    /// use the cache (`--no-cache`, or no cache directory could be named).
    pub cache: Option<CacheSummary>,
    /// What ended the run: `"trials"` (all the trials asked for were counted),
    /// `"target_error"` (the precision target was met) or `"max_time"` (the budget was spent).
    pub stopped_by: StoppedBy,
    /// The precision target asked for (a 95% half-width on π); `null` without one.
    pub target_error: Option<f64>,
    /// With a target: whether `ci95_half_width` meets it; `null` without one.
    pub target_met: Option<bool>,
    /// With a target: the minimum sample, the fewest trials the run would stop at.
    pub min_trials: Option<u64>,
    /// The time budget asked for, in seconds; `null` without one.
    pub max_time_s: Option<f64>,
    /// The estimate and its 95% interval at log-spaced prefixes of the run (a few dozen points,
    /// increasing in trials; the last is this report's estimate). Absent from reports that were
    /// not counted in one run (a merge of parts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convergence: Option<Vec<ConvergencePoint>>,
}

impl Report {
    /// Builds the report of `tally`, counted by `workers` threads with `kernel`. Every
    /// statistic comes from the tally's integer counts alone, so a run, a run stopped early and
    /// a merge of parts that count the same chunks report bit-identical numbers.
    pub fn new(tally: &Tally, workers: usize, kernel: &str) -> Self {
        let (trials, inside) = (tally.trials(), tally.inside());
        let pi = stats::pi_estimate(inside, trials);
        let method = tally.key().method().unwrap_or_default();
        let replicates = match method {
            Method::Plain => None,
            Method::Stratified => Grid::for_chunk_size(tally.key().chunk_size)
                .ok()
                .and_then(|grid| tally.replicates().summary(grid)),
        };
        let (std_error, ci95, ci_method, ci95_half_width) = match replicates {
            Some(s) => (s.std_error, s.interval, s.method.name(), s.half_width),
            None => (
                stats::std_error(inside, trials),
                stats::wilson_interval(inside, trials, stats::Z95),
                "wilson",
                stats::stopping::half_width(inside, trials),
            ),
        };
        let elapsed_s = tally.elapsed.as_secs_f64();
        let computed = tally.sources.computed_trials;
        Report {
            pi,
            trials,
            requested_trials: None,
            inside,
            seed: tally.key().seed,
            workers,
            chunks: tally.chunks(),
            chunk_size: tally.key().chunk_size,
            std_error,
            ci95,
            ci_method,
            ci95_half_width,
            error: pi - std::f64::consts::PI,
            abs_error: (pi - std::f64::consts::PI).abs(),
            elapsed_s,
            trials_per_s: if elapsed_s > 0.0 {
                computed as f64 / elapsed_s
            } else {
                0.0
            },
            algorithm: method.algorithm(),
            method: method.name(),
            kernel: kernel.to_owned(),
            cached_chunks: tally.sources.cached_chunks,
            cache: None,
            stopped_by: StoppedBy::Trials,
            target_error: None,
            target_met: None,
            min_trials: None,
            max_time_s: None,
            convergence: None,
        }
    }

    /// The report of a run that chose its length under `limits`: its answer, what stopped it
    /// and its convergence series.
    pub fn of_outcome(outcome: &Outcome, limits: &Limits, workers: usize, kernel: &str) -> Self {
        Report {
            stopped_by: outcome.stopped_by,
            target_error: limits.target.map(|rule| rule.target()),
            target_met: outcome.target_met,
            min_trials: limits.target.map(|rule| rule.min_trials()),
            max_time_s: limits.max_time.map(|budget| budget.as_secs_f64()),
            convergence: Some(outcome.convergence.clone()),
            ..Report::new(&outcome.tally, workers, kernel)
        }
    }

    /// The same report with the `--trials` asked for, given only when the run's plan counts
    /// another number (a stratified run rounds it up to whole chunks).
    pub fn with_requested_trials(self, requested_trials: Option<u64>) -> Self {
        Report {
            requested_trials,
            ..self
        }
    }

    /// The same report with the cache's summary of the run.
    pub fn with_cache(self, cache: Option<CacheSummary>) -> Self {
        Report { cache, ..self }
    }
}
