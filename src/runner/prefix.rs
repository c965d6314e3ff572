//! Runs that decide their own length: a prefix of chunks that grows in index order until a
//! precision target is met, a time budget is spent or the plan's last chunk (the trial cap) is
//! reached, with the convergence series of the run.
//!
//! Workers share one `State` under one lock. A worker takes the next *piece* (a few
//! consecutive chunks inside one cache cell, one chunk when chunks are large), counts it without
//! the lock, and hands back each chunk's count; the prefix is then scanned chunk by chunk in
//! index order, and the stopping rule reads it at every boundary ([`PrefixCounts`],
//! [`StoppingRule::stops_at`]). Because pieces go out in index order, every worker extends the
//! answer, and work past the stop is at most about a piece per worker (completed pieces waiting
//! for an earlier one are bounded: the others wait rather than run ahead). The answer is the
//! tally of exactly the chunks before the stop: the same as a fixed run of that length, at any
//! worker count, whether its chunks were computed or read from the cache. Chunks counted past
//! the stop are left out of it and stored in the cache.
//!
//! The cache is used as in a fixed run: one look-up per block, a cached span handed out as it
//! is (and taken by the worker that asked, at once), computed pieces joined into the block's
//! entry and stored when the block is done, every [`FLUSH_INTERVAL`] and when the run ends. A
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

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{ChunkEvent, ChunkSource, Observer, RunSpec};
use crate::Error;
use crate::cache::{BlockKey, CacheSession, Entry, FLUSH_INTERVAL, Span};
use crate::plan::{Chunk, Plan, cache_cell_chunks};
use crate::sampler::{LANES, LaneStates};
use crate::stats::convergence::{self, ConvergencePoint, SeriesBuilder};
use crate::stats::stopping::{PrefixCounts, StoppingRule};
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
    let first = first_chunk_points(spec);
    if limits.is_fixed() {
        return run_fixed(spec, first, cache, observer, cancel);
    }
    Grower::new(spec, limits, cache, observer, cancel, clock, &first).run()
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
            inside += spec.kernel.count(&mut states, t - done);
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
        past_stop: SourceCounts::default(),
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

/// Chunks in one piece at most: a piece's per-chunk counts wait in memory until the scan
/// reaches them.
const PIECE_MAX_CHUNKS: u64 = 4096;

/// Trials in one piece at least, where chunks allow (a few dozen microseconds of work), so
/// that taking the lock twice per piece costs nothing measurable at small chunk sizes.
const PIECE_TRIALS: u64 = 1 << 17;

/// Completed pieces waiting for an earlier one at most, per worker: when one worker is held up
/// (preempted, or counting a cached span again), the others wait rather than run far ahead of
/// the prefix, so work past a stop stays a few pieces per worker.
const WAITING_PER_WORKER: usize = 4;

/// How long a worker that may not take a piece waits before it looks again (the budget and the
/// cancel flag are also read then).
const IDLE_LOOK: Duration = Duration::from_millis(5);

/// Chunks handed out together to one worker: consecutive, all inside one cache cell, all of
/// one size (the plan's remainder chunk is a piece of its own).
struct Piece {
    chunks: Range<u64>,
    /// Chunks of a cached span counted again: neither a miss nor stored.
    again: bool,
}

/// A piece whose counts are known.
enum Counts {
    /// Computed: each chunk's count, in order.
    Chunks(Vec<u64>),
    /// Read from the cache: one count for the span.
    Span(u64),
}

/// What the scan has not reached yet: a completed piece.
struct Done {
    end: u64,
    counts: Counts,
}

/// The cache entry of one block as this run fills it.
struct Pending {
    entry: Entry,
    /// Chunks joined since the last store.
    unsaved: u64,
    /// Pieces of the block handed out and not yet back.
    out: u64,
    last_store: Instant,
}

/// Everything the workers share, under one lock: what to hand out next, what came back, the
/// prefix scanned so far and the cache entries being filled.
struct State {
    /// The next chunk to hand out: chunks below it are out, back or scanned.
    next: u64,
    /// Chunks of a cached span to count again one by one, handed out before `next`.
    recount: Range<u64>,
    /// Completed pieces past the prefix, by first chunk.
    done: BTreeMap<u64, Done>,
    /// The prefix: what the stopping rule reads.
    prefix: PrefixCounts,
    /// Where the prefix's chunks came from.
    sources: SourceCounts,
    series: SeriesBuilder,
    /// Set once the prefix ends at a boundary the rule or the plan's end chose.
    stop: Option<StoppedBy>,
    /// Every chunk that came back, past the stop included.
    seen: SourceCounts,
    /// The cache's answer for the block `next` is in: its spans not yet handed out.
    cover: Option<(u64, VecDeque<Span>)>,
    pending: BTreeMap<u64, Pending>,
}

/// What a worker gets when it asks for work.
enum Claim {
    Work(Piece),
    /// Nothing to take now: completed pieces wait for an earlier one.
    Wait,
    /// The run is over (a stop, the plan's end, a spent budget, a cancel).
    Over,
}

/// A growing run: the state, the flag that halts pieces in flight, and the run's constants.
struct Grower<'a> {
    spec: &'a RunSpec,
    rule: Option<StoppingRule>,
    cache: Option<&'a CacheSession>,
    inner: &'a dyn Observer,
    cancel: &'a AtomicBool,
    clock: &'a dyn Clock,
    started: Duration,
    budget: Option<Duration>,
    /// Clock time at which the budget is spent.
    deadline: Option<Duration>,
    /// Chunks per cache cell: pieces and stored spans never cross a cell, and convergence
    /// points sit on cell boundaries, so a cached run and a computed one draw the same series.
    cell: u64,
    piece_chunks: u64,
    /// Set when the run is over: pieces in flight stop within a slice and are dropped.
    halt: AtomicBool,
    time_up: AtomicBool,
    state: Mutex<State>,
    back: Condvar,
}

impl<'a> Grower<'a> {
    fn new(
        spec: &'a RunSpec,
        limits: &Limits,
        cache: Option<&'a CacheSession>,
        inner: &'a dyn Observer,
        cancel: &'a AtomicBool,
        clock: &'a dyn Clock,
        first: &[(u64, u64)],
    ) -> Self {
        let started = clock.now();
        let chunk_size = spec.plan.chunk_size();
        let mut series = SeriesBuilder::new();
        for &(trials, inside) in first {
            series.offer(inside, trials);
        }
        Grower {
            spec,
            rule: limits.target,
            cache,
            inner,
            cancel,
            clock,
            started,
            budget: limits.max_time,
            deadline: limits.max_time.map(|budget| started.saturating_add(budget)),
            cell: cache_cell_chunks(chunk_size),
            piece_chunks: (PIECE_TRIALS / chunk_size).clamp(1, PIECE_MAX_CHUNKS),
            halt: AtomicBool::new(false),
            time_up: AtomicBool::new(false),
            state: Mutex::new(State {
                next: 0,
                recount: 0..0,
                done: BTreeMap::new(),
                prefix: PrefixCounts::default(),
                sources: SourceCounts::default(),
                series,
                stop: None,
                seen: SourceCounts::default(),
                cover: None,
                pending: BTreeMap::new(),
            }),
            back: Condvar::new(),
        }
    }

    fn run(self) -> Result<Outcome, Error> {
        let pool = super::pool(self.spec.workers)?;
        pool.broadcast(|_| self.work());
        {
            let mut state = lock(&self.state);
            // Completed chunks are kept, also past the stop and when cancelled.
            let blocks: Vec<u64> = state.pending.keys().copied().collect();
            for block in blocks {
                self.store(&mut state, block);
            }
        }
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let elapsed = self.clock.now().saturating_sub(self.started);
        let state = self
            .state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        // Workers leave at a stop, a cancel (above) or a spent budget: no other way.
        let stopped_by = state.stop.unwrap_or(StoppedBy::MaxTime);
        let prefix = state.prefix;
        let Some(plan) = self.spec.plan.prefix(prefix.chunks) else {
            return Err(Error::BudgetTooShort {
                budget: self.budget.unwrap_or_default(),
                chunk_trials: self.spec.plan.chunk(0).trials,
            });
        };
        let mut tally = Tally::of_counted(
            self.spec.key(),
            &self.spec.plan,
            0..prefix.chunks,
            prefix.inside,
        );
        tally.sources = state.sources;
        tally.elapsed = elapsed;
        Ok(Outcome {
            // Met only as the rule judges a stop: the minimum sample counts, also at a cap.
            target_met: self.rule.map(|r| r.stops_at(&prefix)),
            convergence: state.series.finish(prefix.inside, prefix.trials),
            past_stop: state.seen - state.sources,
            tally,
            plan,
            stopped_by,
        })
    }

    /// One worker: takes the next piece, counts it, hands it back, until the run is over.
    fn work(&self) {
        loop {
            let piece = {
                let mut state = lock(&self.state);
                loop {
                    match self.claim(&mut state) {
                        Claim::Work(piece) => break Some(piece),
                        Claim::Over => break None,
                        Claim::Wait => {
                            state = self
                                .back
                                .wait_timeout(state, IDLE_LOOK)
                                .unwrap_or_else(PoisonError::into_inner)
                                .0;
                        }
                    }
                }
            };
            let Some(piece) = piece else {
                self.back.notify_all();
                return;
            };
            let mut counts = Vec::with_capacity((piece.chunks.end - piece.chunks.start) as usize);
            for index in piece.chunks.clone() {
                match super::compute_chunk(self.spec, index, self, &self.halt) {
                    Ok(inside) => counts.push(inside),
                    Err(_) => break,
                }
            }
            let mut state = lock(&self.state);
            if counts.is_empty() {
                self.give_up(&mut state, &piece);
            } else {
                // Halted in flight, the chunks it completed still count (and are stored).
                let piece = Piece {
                    chunks: piece.chunks.start..piece.chunks.start + counts.len() as u64,
                    ..piece
                };
                self.complete(&mut state, &piece, counts);
            }
            drop(state);
            self.back.notify_all();
        }
    }

    /// The next piece in index order, with cached spans on the way taken as they are.
    fn claim(&self, state: &mut State) -> Claim {
        let plan = &self.spec.plan;
        loop {
            if state.stop.is_some() || self.over() {
                return Claim::Over;
            }
            if !state.recount.is_empty() {
                let first = state.recount.start;
                let end = state.recount.end.min(first + self.piece_chunks);
                state.recount.start = end;
                return Claim::Work(Piece {
                    chunks: first..end,
                    again: true,
                });
            }
            if state.next >= plan.chunks() {
                // Everything is out; the last pieces are on their way back.
                return Claim::Wait;
            }
            if state.done.len() >= WAITING_PER_WORKER * self.spec.workers.get() {
                return Claim::Wait;
            }
            let next = state.next;
            let mut end = (next / self.cell + 1)
                .saturating_mul(self.cell)
                .min(next.saturating_add(self.piece_chunks))
                .min(plan.chunks());
            if next < plan.full_chunks() {
                end = end.min(plan.full_chunks());
            }
            if let Some(cache) = self.cache {
                let hits = self.cover(state, cache, next);
                match hits.front().copied() {
                    Some(span) if span.first == next => {
                        hits.pop_front();
                        self.take_span(state, cache, span);
                        continue;
                    }
                    Some(span) => end = end.min(span.first),
                    None => {}
                }
                let block = next / plan.block_chunks();
                state
                    .pending
                    .entry(block)
                    .or_insert_with(|| Pending {
                        entry: Entry::empty(BlockKey::new(
                            self.spec.seed,
                            plan.chunk_size(),
                            block,
                        )),
                        unsaved: 0,
                        out: 0,
                        last_store: Instant::now(),
                    })
                    .out += 1;
            }
            state.next = end;
            return Claim::Work(Piece {
                chunks: next..end,
                again: false,
            });
        }
    }

    /// The cache's spans for the rest of the block `next` is in, looked up once per block.
    fn cover<'s>(
        &self,
        state: &'s mut State,
        cache: &CacheSession,
        next: u64,
    ) -> &'s mut VecDeque<Span> {
        let plan = &self.spec.plan;
        let per_block = plan.block_chunks();
        let block = next / per_block;
        if state.cover.as_ref().is_none_or(|(b, _)| *b != block) {
            let key = BlockKey::new(self.spec.seed, plan.chunk_size(), block);
            let end = block
                .saturating_add(1)
                .saturating_mul(per_block)
                .min(plan.chunks());
            let full_end = end.min(plan.full_chunks()).max(next);
            let remainder = (full_end < end).then(|| (full_end, plan.chunk(full_end).trials));
            let hits = cache
                .load(&key)
                .map(|entry| entry.cover(next..full_end, remainder).hits)
                .unwrap_or_default();
            state.cover = Some((block, hits.into()));
        }
        &mut state.cover.as_mut().expect("just set").1
    }

    /// A cached span handed out: it is back at once.
    fn take_span(&self, state: &mut State, cache: &CacheSession, span: Span) {
        cache.count(span.chunks(), 0, 0);
        let first = Chunk {
            index: span.first,
            trials: span.total_trials(),
        };
        self.inner.trials_done(span.total_trials());
        super::report(
            self.inner,
            first,
            span.chunks(),
            span.inside,
            Instant::now(),
            ChunkSource::Cached,
        );
        state.seen.cached_chunks += span.chunks();
        state.next = span.end;
        state.done.insert(
            span.first,
            Done {
                end: span.end,
                counts: Counts::Span(span.inside),
            },
        );
        self.scan(state);
    }

    /// A computed piece is back: stored (unless counted again), then scanned.
    fn complete(&self, state: &mut State, piece: &Piece, counts: Vec<u64>) {
        let plan = &self.spec.plan;
        let chunks = piece.chunks.end - piece.chunks.start;
        let trials = plan.chunk(piece.chunks.start).trials;
        state.seen += SourceCounts {
            cached_chunks: 0,
            computed_chunks: chunks,
            computed_trials: plan.trials_in(&piece.chunks),
        };
        if piece.again {
            // Read as a span (a hit), now computed.
            state.seen.cached_chunks -= chunks;
        } else if let Some(cache) = self.cache {
            cache.count(0, chunks, 0);
            let per_block = plan.block_chunks();
            let block = piece.chunks.start / per_block;
            let handed_out = state.next >= (block + 1).saturating_mul(per_block).min(plan.chunks());
            if let Some(pending) = state.pending.get_mut(&block) {
                pending.entry.join(Span {
                    first: piece.chunks.start,
                    end: piece.chunks.end,
                    trials,
                    inside: counts.iter().sum(),
                });
                pending.unsaved += chunks;
                pending.out -= 1;
                if (pending.out == 0 && handed_out)
                    || pending.last_store.elapsed() >= FLUSH_INTERVAL
                {
                    self.store(state, block);
                }
            }
        }
        state.done.insert(
            piece.chunks.start,
            Done {
                end: piece.chunks.end,
                counts: Counts::Chunks(counts),
            },
        );
        self.scan(state);
    }

    /// A piece halted in flight: nothing of it is kept.
    fn give_up(&self, state: &mut State, piece: &Piece) {
        if !piece.again && self.cache.is_some() {
            let block = piece.chunks.start / self.spec.plan.block_chunks();
            if let Some(pending) = state.pending.get_mut(&block) {
                pending.out -= 1;
            }
        }
    }

    /// Stores block `block`'s computed spans, if any are unsaved; the block is forgotten once
    /// no piece of it is out.
    fn store(&self, state: &mut State, block: u64) {
        let Some(cache) = self.cache else { return };
        let Some(pending) = state.pending.get_mut(&block) else {
            return;
        };
        if pending.unsaved > 0 {
            if cache.store(&pending.entry) {
                cache.count(0, 0, pending.unsaved);
            }
            pending.unsaved = 0;
            pending.last_store = Instant::now();
        }
        if pending.out == 0 {
            state.pending.remove(&block);
        }
    }

    /// Extends the prefix with the pieces that continue it, chunk by chunk in index order,
    /// until the rule or the plan's end stops it.
    fn scan(&self, state: &mut State) {
        let plan = &self.spec.plan;
        while state.stop.is_none() {
            let first = state.prefix.chunks;
            let Some(done) = state.done.remove(&first) else {
                break;
            };
            match done.counts {
                Counts::Span(inside) => {
                    let trials = plan.trials_in(&(first..done.end));
                    let chunks = done.end - first;
                    if chunks > 1
                        && self
                            .rule
                            .is_some_and(|r| r.might_stop_within(&state.prefix, trials))
                    {
                        // The stop may lie inside: its chunks are counted again, one by one.
                        state.recount = first..done.end;
                        break;
                    }
                    state.prefix.push_span(chunks, inside, trials);
                    state.sources.cached_chunks += chunks;
                    self.boundary(state);
                }
                Counts::Chunks(counts) => {
                    for (index, inside) in (first..done.end).zip(counts) {
                        let trials = plan.chunk(index).trials;
                        state.prefix.push(inside, trials);
                        state.sources.computed_chunks += 1;
                        state.sources.computed_trials += trials;
                        self.boundary(state);
                        if state.stop.is_some() {
                            break;
                        }
                    }
                }
            }
        }
        if state.stop.is_some() {
            self.halt.store(true, Ordering::Relaxed);
        }
    }

    /// The prefix has reached a chunk boundary: a convergence point, and the stop checks.
    fn boundary(&self, state: &mut State) {
        let prefix = state.prefix;
        let end = self.spec.plan.chunks();
        if prefix.chunks.is_multiple_of(self.cell) || prefix.chunks == end {
            state.series.offer(prefix.inside, prefix.trials);
        }
        if self.rule.is_some_and(|r| r.stops_at(&prefix)) {
            state.stop = Some(StoppedBy::TargetError);
        } else if prefix.chunks == end {
            state.stop = Some(StoppedBy::Trials);
        }
    }

    /// Whether the run must end now: cancelled, or the budget spent (which halts every piece in
    /// flight, including those that would extend the prefix).
    fn over(&self) -> bool {
        if self.halt.load(Ordering::Relaxed) {
            return true;
        }
        let spent = self.deadline.is_some_and(|d| self.clock.now() >= d);
        if spent {
            self.time_up.store(true, Ordering::Relaxed);
        }
        if spent || self.cancel.load(Ordering::Relaxed) {
            self.halt.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }
}

impl Observer for Grower<'_> {
    fn trials_done(&self, trials: u64) {
        self.inner.trials_done(trials);
        self.over();
    }

    fn chunk_done(&self, event: &ChunkEvent) {
        self.inner.chunk_done(event);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data stays consistent if a worker panicked while holding the lock.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
