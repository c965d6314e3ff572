//! Runs that decide their own length: a prefix of chunks that grows in index order until a
//! precision target is met, a time budget is spent or the plan's last chunk (the trial cap) is
//! reached, with the convergence series of the run.
//!
//! The prefix grows in batches of consecutive chunks, each counted by [`super::run`] (so the
//! cache and cancellation work as in any run). An observer collects each chunk's count as it
//! completes and scans the chunk boundaries in index order: the run stops at the first
//! boundary at or above the minimum sample whose prefix meets the target
//! ([`crate::stats::stopping`]), or at the plan's last chunk. Either way the answer is the tally
//! of exactly the chunks before that boundary: the same as a fixed run of that length, at any
//! worker count, whether its chunks were computed or read from the cache. Workers may have
//! counted a few chunks past the stop: they are left out of the answer (and stored in the cache,
//! so a tighter target later reads them). Once a stop is found the rest of the batch is
//! cancelled.
//!
//! A time budget stops the run at whole chunks: when the budget is spent, the answer is the
//! longest prefix of completed chunks, never less than one chunk. Which prefix that is depends on
//! the machine and its load; that it equals the fixed run of its length does not. Time is read
//! through a [`Clock`] so that tests can replace it.
//!
//! A run with neither a target nor a budget is a fixed run: it goes through [`super::run_all`]
//! at full speed, and its convergence series comes from a few dozen checkpoint sums filled as
//! chunks complete, in any order.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{ChunkEvent, ChunkSource, Observer, RunSpec};
use crate::Error;
use crate::cache::CacheSession;
use crate::plan::{Plan, cache_cell_chunks};
use crate::sampler::{Design, LANES, LaneStates};
use crate::stats::convergence::{self, ConvergencePoint, SeriesBuilder};
use crate::stats::stopping::{StoppingRule, half_width_at};
use crate::tally::{ChunkSources, Tally};

/// Most trials of the first chunk counted a second time, in pieces, for the convergence series'
/// points below the first chunk boundary (a few milliseconds of work).
const FIRST_CHUNK_POINTS_LIMIT: u64 = 1 << 22;

/// Most chunks in one batch: bounds the memory of the counts waiting to be scanned.
const MAX_BATCH_CHUNKS: u64 = 1 << 16;

/// Chunks per worker in a batch at least: a batch ends when its slowest chunk does, so this
/// keeps the idle tail at about one chunk in 64.
const BATCH_CHUNKS_PER_WORKER: u64 = 32;

/// Trials per worker in a batch at least (about 10 ms of work), so small chunks make batches
/// long enough for the cost of starting one (a thread pool) not to matter.
const BATCH_TRIALS_PER_WORKER: u64 = 1 << 24;

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

impl std::fmt::Display for StoppedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StoppedBy::Trials => "the trial count was reached",
            StoppedBy::TargetError => "the target error was met",
            StoppedBy::MaxTime => "the time budget ran out",
        })
    }
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
    pub past_stop: ChunkSources,
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
    let first = first_chunk_points(spec);
    if limits.is_fixed() {
        return run_fixed(spec, first, cache, observer, cancel);
    }
    Grower::new(spec, limits, observer, cancel, clock).run(first, cache)
}

/// The trials and inside counts of prefixes inside the first chunk, at the convergence grid's
/// values below its end (rounded up to whole rounds of lanes, at most
/// [`FIRST_CHUNK_POINTS_LIMIT`] trials), counted in pieces with the run's kernel.
fn first_chunk_points(spec: &RunSpec) -> Vec<(u64, u64)> {
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
    let sums = CheckpointSums {
        inner: observer,
        bounds: convergence::boundaries(
            plan.chunk_size(),
            plan.chunks(),
            cache_cell_chunks(plan.chunk_size()),
        ),
        sums: Vec::new(),
    }
    .with_buckets();
    let tally = super::run_all(spec, cache, &sums, cancel)?;
    let mut series = SeriesBuilder::new();
    for &(trials, inside) in &first {
        series.offer(inside, trials);
    }
    let mut inside = 0;
    for (bound, sum) in sums.bounds.iter().zip(&sums.sums) {
        inside += sum.load(Ordering::Relaxed);
        series.offer(inside, plan.trials_in(&(0..*bound)));
    }
    debug_assert_eq!(inside, tally.inside());
    Ok(Outcome {
        convergence: series.finish(tally.inside(), tally.trials()),
        tally,
        plan,
        stopped_by: StoppedBy::Trials,
        target_met: None,
        past_stop: ChunkSources::default(),
    })
}

/// Adds each chunk's count to the sum of the checkpoint interval it falls in.
struct CheckpointSums<'a> {
    inner: &'a dyn Observer,
    /// Increasing chunk boundaries; bucket `j` holds chunks `bounds[j-1]..bounds[j]`.
    bounds: Vec<u64>,
    sums: Vec<AtomicU64>,
}

impl CheckpointSums<'_> {
    fn with_buckets(mut self) -> Self {
        self.sums = self.bounds.iter().map(|_| AtomicU64::new(0)).collect();
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
            sum.fetch_add(event.inside, Ordering::Relaxed);
        }
    }
}

/// A slot's state: not yet counted.
const PENDING: u8 = 0;
/// A slot's state: computed in this run.
const COMPUTED: u8 = 1;
/// A slot's state: read from the cache.
const CACHED: u8 = 2;

/// One chunk of the current batch, as workers report it. A cached span of several chunks is
/// reported once: its first slot holds the span's count and length.
struct Slot {
    inside: AtomicU64,
    span: AtomicU64,
    state: AtomicU8,
}

/// The in-order scan of the prefix.
struct Scan {
    /// Chunks in the prefix (the next chunk to scan).
    next: u64,
    trials: u64,
    inside: u64,
    sources: ChunkSources,
    series: SeriesBuilder,
    /// Set once the prefix ends at a boundary the rule or the plan's end chose.
    stop: Option<StoppedBy>,
    /// The end of a cached span that might hold the stop inside it: its chunks must be counted
    /// one by one, without the cache, before the scan can pass it.
    recount: Option<u64>,
}

/// The observer and state of a growing run.
struct Grower<'a> {
    spec: &'a RunSpec,
    rule: Option<StoppingRule>,
    /// Clock time at which the budget is spent.
    deadline: Option<Duration>,
    started: Duration,
    clock: &'a dyn Clock,
    inner: &'a dyn Observer,
    cancel: &'a AtomicBool,
    /// Cancels the current batch: set on a stop, a spent budget or `cancel`.
    halt: AtomicBool,
    time_up: AtomicBool,
    /// Mirror of `Scan::next`, read without the lock.
    prefix: AtomicU64,
    /// Chunks per cache cell: convergence checkpoints sit on cell boundaries (no cached span
    /// crosses one), so a cached run and a computed one draw the same series.
    cell: u64,
    batch_start: AtomicU64,
    batch_end: AtomicU64,
    slots: Vec<Slot>,
    /// Every chunk reported, past the stop included.
    seen: Mutex<ChunkSources>,
    scan: Mutex<Scan>,
}

impl<'a> Grower<'a> {
    fn new(
        spec: &'a RunSpec,
        limits: &Limits,
        inner: &'a dyn Observer,
        cancel: &'a AtomicBool,
        clock: &'a dyn Clock,
    ) -> Self {
        let started = clock.now();
        let batch = batch_chunks(spec).min(spec.plan.chunks());
        Grower {
            spec,
            rule: limits.target,
            deadline: limits.max_time.map(|budget| started.saturating_add(budget)),
            started,
            clock,
            inner,
            cancel,
            halt: AtomicBool::new(false),
            time_up: AtomicBool::new(false),
            prefix: AtomicU64::new(0),
            cell: cache_cell_chunks(spec.plan.chunk_size()),
            batch_start: AtomicU64::new(0),
            batch_end: AtomicU64::new(0),
            slots: (0..batch)
                .map(|_| Slot {
                    inside: AtomicU64::new(0),
                    span: AtomicU64::new(1),
                    state: AtomicU8::new(PENDING),
                })
                .collect(),
            seen: Mutex::new(ChunkSources::default()),
            scan: Mutex::new(Scan {
                next: 0,
                trials: 0,
                inside: 0,
                sources: ChunkSources::default(),
                series: SeriesBuilder::new(),
                stop: None,
                recount: None,
            }),
        }
    }

    fn run(self, first: Vec<(u64, u64)>, cache: Option<&CacheSession>) -> Result<Outcome, Error> {
        let plan = self.spec.plan;
        {
            let mut scan = lock(&self.scan);
            for &(trials, inside) in &first {
                scan.series.offer(inside, trials);
            }
        }
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let (from, recount) = {
                let scan = lock(&self.scan);
                (scan.next, scan.recount)
            };
            let mut to = from
                .saturating_add(self.slots.len() as u64)
                .min(plan.chunks());
            // A cached span that may hold the stop is counted chunk by chunk, without the cache
            // (which would answer it as one span again).
            let batch_cache = match recount {
                Some(end) => {
                    to = to.min(end);
                    None
                }
                None => cache,
            };
            for slot in &self.slots {
                slot.state.store(PENDING, Ordering::Relaxed);
            }
            // A stop, a recount or a spent budget halted the last batch; this one starts afresh.
            self.halt.store(false, Ordering::Relaxed);
            self.batch_start.store(from, Ordering::Release);
            self.batch_end.store(to, Ordering::Release);
            match super::run(self.spec, from..to, batch_cache, &self, &self.halt) {
                Ok(_) | Err(Error::Cancelled) => {}
                Err(e) => return Err(e),
            }
            if self.cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            // Every completed chunk has been scanned; look once more in case a report raced.
            self.advance();
            let mut scan = lock(&self.scan);
            if scan.stop.is_some() || self.time_up.load(Ordering::Relaxed) {
                break;
            }
            match scan.recount {
                // The span is counted chunk by chunk now: back to the cache.
                Some(end) if recount == Some(end) && scan.next >= end => scan.recount = None,
                // A span to recount was found in this batch: count it next.
                Some(_) => continue,
                None => {}
            }
            if scan.next < to {
                // Halted without a stop, a spent budget or a cancel: cannot happen.
                return Err(Error::InvalidConfig(format!(
                    "chunks {}..{to} were not all counted",
                    scan.next
                )));
            }
            drop(scan);
            if self.budget_spent() {
                self.time_up.store(true, Ordering::Relaxed);
                break;
            }
        }
        self.finish()
    }

    fn finish(self) -> Result<Outcome, Error> {
        let elapsed = self.clock.now().saturating_sub(self.started);
        let time_up = self.time_up.load(Ordering::Relaxed);
        let seen = *lock(&self.seen);
        let scan = self
            .scan
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let plan =
            self.spec.plan.prefix(scan.next).ok_or_else(|| {
                Error::InvalidConfig("the run stopped before its first chunk".into())
            })?;
        let mut tally =
            Tally::of_range(self.spec.key(), &self.spec.plan, 0..scan.next, scan.inside)
                .map_err(|e| Error::InvalidConfig(e.to_string()))?;
        tally.sources = scan.sources;
        tally.elapsed = elapsed;
        let stopped_by = scan.stop.unwrap_or(if time_up {
            StoppedBy::MaxTime
        } else {
            StoppedBy::Trials
        });
        Ok(Outcome {
            // Met only as the rule judges a stop: the minimum sample counts, also at a cap.
            target_met: self.rule.map(|r| r.may_stop(scan.inside, scan.trials)),
            convergence: scan.series.finish(scan.inside, scan.trials),
            past_stop: seen - scan.sources,
            tally,
            plan,
            stopped_by,
        })
    }

    /// Whether the budget is spent and the prefix holds at least one chunk.
    fn budget_spent(&self) -> bool {
        match self.deadline {
            Some(deadline) => {
                self.prefix.load(Ordering::Relaxed) > 0 && self.clock.now() >= deadline
            }
            None => false,
        }
    }

    /// Scans the completed chunks that extend the prefix, in order, stopping at a boundary the
    /// rule or the plan's end chooses.
    fn advance(&self) {
        let start = self.batch_start.load(Ordering::Acquire);
        let end = self.batch_end.load(Ordering::Acquire);
        let plan = &self.spec.plan;
        let mut scan = lock(&self.scan);
        while scan.stop.is_none() && scan.next < end {
            let slot = &self.slots[(scan.next - start) as usize];
            let state = slot.state.load(Ordering::Acquire);
            if state == PENDING {
                break;
            }
            let span = slot.span.load(Ordering::Relaxed);
            let first = scan.next;
            let trials = plan.trials_in(&(first..first + span));
            let span_inside = slot.inside.load(Ordering::Relaxed);
            if span > 1
                && self
                    .rule
                    .is_some_and(|r| might_stop_inside(&r, scan.inside, scan.trials, trials))
            {
                // The stop may lie inside the span: count its chunks one by one.
                scan.recount = Some(first + span);
                self.halt.store(true, Ordering::Relaxed);
                break;
            }
            scan.next += span;
            scan.trials += trials;
            scan.inside += span_inside;
            if state == CACHED {
                scan.sources.cached_chunks += span;
            } else {
                scan.sources.computed_chunks += span;
                scan.sources.computed_trials += trials;
            }
            let (inside, trials) = (scan.inside, scan.trials);
            if scan.next.is_multiple_of(self.cell) || scan.next == plan.chunks() {
                scan.series.offer(inside, trials);
            }
            if self.rule.is_some_and(|r| r.may_stop(inside, trials)) {
                scan.stop = Some(StoppedBy::TargetError);
            } else if scan.next == plan.chunks() {
                scan.stop = Some(StoppedBy::Trials);
            }
        }
        self.prefix.store(scan.next, Ordering::Relaxed);
        if scan.stop.is_some() {
            self.halt.store(true, Ordering::Relaxed);
        }
        drop(scan);
        if self.budget_spent() {
            self.time_up.store(true, Ordering::Relaxed);
            self.halt.store(true, Ordering::Relaxed);
        }
    }
}

impl Observer for Grower<'_> {
    fn trials_done(&self, trials: u64) {
        self.inner.trials_done(trials);
        if self.cancel.load(Ordering::Relaxed) {
            self.halt.store(true, Ordering::Relaxed);
        } else if self.budget_spent() {
            self.time_up.store(true, Ordering::Relaxed);
            self.halt.store(true, Ordering::Relaxed);
        }
    }

    fn chunk_done(&self, event: &ChunkEvent) {
        self.inner.chunk_done(event);
        {
            let mut seen = lock(&self.seen);
            match event.source {
                ChunkSource::Cached => seen.cached_chunks += event.chunks,
                ChunkSource::Computed => {
                    seen.computed_chunks += 1;
                    seen.computed_trials += event.chunk.trials;
                }
            }
        }
        let start = self.batch_start.load(Ordering::Acquire);
        let Some(slot) = event
            .chunk
            .index
            .checked_sub(start)
            .and_then(|offset| self.slots.get(offset as usize))
        else {
            return;
        };
        slot.inside.store(event.inside, Ordering::Relaxed);
        slot.span.store(event.chunks.max(1), Ordering::Relaxed);
        let state = match event.source {
            ChunkSource::Cached => CACHED,
            ChunkSource::Computed => COMPUTED,
        };
        slot.state.store(state, Ordering::Release);
        self.advance();
    }
}

/// Whether a cached span of `trials` trials, following a prefix of
/// `before_trials` with `before_inside`, might hold a boundary where `rule` stops: its chunks'
/// own counts are unknown, so this bounds every inner prefix. Inner prefixes hold at most the
/// span's end trials and an inside fraction between `before_inside / end` and
/// `(before_inside + trials) / end`; the half-width falls with the trials and is unimodal in the
/// fraction, so its least possible value is at the end's trials and one end of that range.
fn might_stop_inside(
    rule: &StoppingRule,
    before_inside: u64,
    before_trials: u64,
    trials: u64,
) -> bool {
    let end = before_trials + trials;
    if end <= rule.min_trials() {
        return false;
    }
    let n = end as f64;
    let low = before_inside as f64 / n;
    let high = ((before_inside + trials) as f64 / n).min(1.0);
    half_width_at(low, n).min(half_width_at(high, n)) <= rule.target()
}

/// Chunks per batch for `spec` (see the constants).
fn batch_chunks(spec: &RunSpec) -> u64 {
    let workers = spec.workers.get() as u64;
    let by_chunks = BATCH_CHUNKS_PER_WORKER * workers;
    let by_trials = (BATCH_TRIALS_PER_WORKER * workers).div_ceil(spec.plan.chunk_size());
    by_chunks.max(by_trials).min(MAX_BATCH_CHUNKS)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data stays consistent if a worker panicked while holding the lock.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
