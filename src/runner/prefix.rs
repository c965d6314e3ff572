//! Runs that decide their own length: a prefix of chunks that grows in index order until a
//! precision target is met, a time budget is spent or the plan's last chunk (the trial cap) is
//! reached, with the convergence series of the run.
//!
//! Workers share one `State` under one lock. A worker takes the next *piece* (a few
//! consecutive chunks that no cache span breaks between, [`crate::cache::BlockKey::next_break`]:
//! inside one cache cell, and for stratified runs between convergence points and one chunk
//! among a plan's first 256; one chunk when chunks are large), counts it without
//! the lock, and hands back each chunk's count; the prefix is then scanned chunk by chunk in
//! index order, and the stopping rule reads it at every boundary ([`crate::stats::stopping::PrefixCounts`],
//! [`StoppingRule::stops_at`]). Because pieces go out in index order, every worker extends the
//! answer, and work past the stop is at most about a piece per worker (completed pieces waiting
//! for an earlier one are bounded: the others wait rather than run ahead). The answer is the
//! tally of exactly the chunks before the stop: the same as a fixed run of that length, at any
//! worker count, whether its chunks were computed or read from the cache. Chunks counted past
//! the stop are left out of it and stored in the cache.
//!
//! The cache is used as in a fixed run: one look-up per block, a cached span handed out as it
//! is (and taken by the worker that asked, at once), computed pieces joined into the block's
//! entry and stored when the block is done, every [`crate::cache::FLUSH_INTERVAL`] and when the run ends. A
//! cached span of several chunks in which the stop may lie ([`StoppingRule::might_stop_within`])
//! is counted again chunk by chunk, without the cache, before the scan passes it.
//!
//! A time budget stops the run at whole chunks: when it is spent, pieces in flight are halted
//! (their completed chunks kept) and the answer is the longest prefix of completed chunks. A
//! budget spent before the first chunk is done gives no answer ([`Error::BudgetTooShort`]).
//! Which prefix a budget gives depends on the machine and its load; that it equals the fixed
//! run of its length does not. Time is read through a [`Clock`] so that tests can replace it.
//!
//! A run with neither a target nor a budget is a fixed run: it goes through [`super::run_all`]
//! at full speed, and its convergence series comes from a few dozen checkpoint sums filled as
//! chunks complete, in any order.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{ChunkEvent, Observer, RunSpec};
use crate::Error;
use crate::cache::CacheSession;
use crate::plan::{Plan, cache_cell_chunks};
use crate::sampler::{Design, LANES, LaneStates, Method};
use crate::stats::convergence::{self, ConvergencePoint, SeriesBuilder};
use crate::stats::replicates::Replicates;
use crate::stats::stopping::StoppingRule;
use crate::tally::{SourceCounts, Tally};

/// Most trials of the first chunk counted a second time, in pieces, for the convergence series'
/// points below the first chunk boundary (a few milliseconds of work).
const FIRST_CHUNK_POINTS_LIMIT: u64 = 1 << 22;

/// What ended a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoppedBy {
    /// The plan's trials were all counted (a fixed run, or the cap of a growing one).
    Trials,
    /// The precision target was met.
    TargetError,
    /// The time budget was spent.
    MaxTime,
}

/// When a run may stop before its plan's last chunk.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    /// Stop at the first boundary where this rule allows it.
    pub target: Option<StoppingRule>,
    /// Stop at whole chunks once this much time has passed.
    pub max_time: Option<Duration>,
}

impl Limits {
    /// Neither a target nor a budget: the run counts its whole plan.
    pub fn is_fixed(&self) -> bool {
        self.target.is_none() && self.max_time.is_none()
    }
}

/// Monotonic time, as a growing run reads it.
pub trait Clock: Sync {
    /// Time since some fixed origin; never decreases.
    fn now(&self) -> Duration;
}

/// The real clock: [`Instant`] since the clock was made.
#[derive(Clone, Copy, Debug)]
pub struct MonotonicClock {
    origin: Instant,
}

impl MonotonicClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        MonotonicClock {
            origin: Instant::now(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A run that decided its own length.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The answer: exactly the chunks of [`Outcome::plan`].
    pub tally: Tally,
    /// The plan of the answer's length: a fixed run of it reports the same numbers.
    pub plan: Plan,
    /// What ended the run.
    pub stopped_by: StoppedBy,
    /// With a target: whether the answer's half-width meets it.
    pub target_met: Option<bool>,
    /// The estimate at log-spaced prefixes; the last point is the answer.
    pub convergence: Vec<ConvergencePoint>,
    /// Chunks counted past the stop and left out of the answer.
    pub past_stop: SourceCounts,
}

/// Counts a prefix of `spec`'s plan: the whole plan when `limits` is fixed, else until the
/// target is met, the budget spent (timed by `clock`) or the plan's end (see the module docs).
/// Returns [`Error::Cancelled`] soon after `cancel` is set, once completed chunks are stored.
pub fn run_until(
    spec: &RunSpec,
    limits: &Limits,
    cache: Option<&CacheSession>,
    observer: &dyn Observer,
    cancel: &AtomicBool,
    clock: &dyn Clock,
) -> Result<Outcome, Error> {
    let design = spec.design()?;
    if let Some(rule) = limits.target {
        let run_grid = match design {
            Design::Plain => None,
            Design::Stratified(grid) => Some(grid),
        };
        if rule.grid() != run_grid {
            let name = |g: Option<crate::sampler::Grid>| {
                g.map_or("plain".to_owned(), |g| format!("stratified chunks of {g}"))
            };
            return Err(Error::RuleMismatch {
                rule: name(rule.grid()),
                run: name(run_grid),
            });
        }
    }
    let first = first_chunk_points(spec);
    if limits.is_fixed() {
        return run_fixed(spec, first, cache, observer, cancel);
    }
    grow::Grower::new(spec, limits, cache, observer, cancel, clock, &first).run()
}

/// The trials and inside counts of prefixes inside the first chunk, at the convergence grid's
/// values below its end (rounded up to whole rounds of lanes, at most
/// [`FIRST_CHUNK_POINTS_LIMIT`] trials), counted in pieces with the run's kernel.
fn first_chunk_points(spec: &RunSpec) -> Vec<(u64, u64)> {
    // A part of a stratified chunk is biased: only whole chunks make points.
    if spec.method != Method::Plain {
        return Vec::new();
    }
    let chunk = spec.plan.chunk(0);
    let lanes = LANES as u64;
    let mut states = LaneStates::for_chunk(spec.seed, 0);
    let (mut done, mut inside) = (0, 0);
    let mut points = Vec::new();
    for value in convergence::grid_below(chunk.trials) {
        let t = value.div_ceil(lanes) * lanes;
        if t >= chunk.trials || t > FIRST_CHUNK_POINTS_LIMIT {
            break;
        }
        if t > done {
            inside += spec
                .kernel
                .count(Design::Plain, &mut states, done, t - done);
            done = t;
            points.push((t, inside));
        }
    }
    points
}

/// A fixed run with its convergence series from checkpoint sums.
fn run_fixed(
    spec: &RunSpec,
    first: Vec<(u64, u64)>,
    cache: Option<&CacheSession>,
    observer: &dyn Observer,
    cancel: &AtomicBool,
) -> Result<Outcome, Error> {
    let plan = spec.plan;
    let grid = spec.design().ok().and_then(grow::grid_of);
    let sums = CheckpointSums {
        inner: observer,
        bounds: convergence::boundaries(
            plan.chunk_size(),
            plan.chunks(),
            // A stratified point may be any chunk boundary: cached spans break at those that
            // make points ([`crate::cache::BlockKey::next_break`]).
            if grid.is_some() {
                1
            } else {
                cache_cell_chunks(plan.chunk_size())
            },
        ),
        sums: Vec::new(),
        squares: grid.is_some(),
    }
    .with_buckets();
    let tally = super::run_all(spec, cache, &sums, cancel)?;
    let mut series = SeriesBuilder::for_grid(grid);
    for &(trials, inside) in &first {
        series.offer(inside, trials);
    }
    let mut r = Replicates::EMPTY;
    for (bound, sum) in sums.bounds.iter().zip(&sums.sums) {
        r.chunks = *bound;
        r.inside += sum.inside.load(Ordering::Relaxed);
        r.inside_squares += (u128::from(sum.squares_high.load(Ordering::Relaxed)) << 32)
            + u128::from(sum.squares_low.load(Ordering::Relaxed));
        series.offer_replicates(&r, plan.trials_in(&(0..*bound)));
    }
    debug_assert_eq!(r.inside, tally.inside());
    Ok(Outcome {
        convergence: series.finish_replicates(&tally.replicates(), tally.trials()),
        tally,
        plan,
        stopped_by: StoppedBy::Trials,
        target_met: None,
        past_stop: SourceCounts::default(),
    })
}

/// Adds each chunk's count to the sum of the checkpoint interval it falls in.
struct CheckpointSums<'a> {
    inner: &'a dyn Observer,
    /// Increasing chunk boundaries; bucket `j` holds chunks `bounds[j-1]..bounds[j]`.
    bounds: Vec<u64>,
    sums: Vec<BucketSums>,
    /// Whether to add up the squared counts too (stratified runs, whose events are chunks).
    squares: bool,
}

/// One checkpoint interval's sums: `Σc`, and `Σc²` in two halves without a lock (an event's
/// `Σc²` split at bit 32: it is below 2^64, a chunk's square or a span's within a cell of 2^22
/// trials, so neither half's sum overflows before 2^32 events).
#[derive(Default)]
struct BucketSums {
    inside: AtomicU64,
    squares_low: AtomicU64,
    squares_high: AtomicU64,
}

impl CheckpointSums<'_> {
    fn with_buckets(mut self) -> Self {
        self.sums = self.bounds.iter().map(|_| BucketSums::default()).collect();
        self
    }
}

impl Observer for CheckpointSums<'_> {
    fn trials_done(&self, trials: u64) {
        self.inner.trials_done(trials);
    }

    fn chunk_done(&self, event: &ChunkEvent) {
        self.inner.chunk_done(event);
        let bucket = self.bounds.partition_point(|&b| b <= event.chunk.index);
        if let Some(sum) = self.sums.get(bucket) {
            sum.inside.fetch_add(event.inside, Ordering::Relaxed);
            if self.squares {
                let square = event.inside_squares.unwrap_or(0);
                sum.squares_low
                    .fetch_add((square & 0xFFFF_FFFF) as u64, Ordering::Relaxed);
                sum.squares_high
                    .fetch_add((square >> 32) as u64, Ordering::Relaxed);
            }
        }
    }
}

mod grow;
#[cfg(test)]
mod tests;
