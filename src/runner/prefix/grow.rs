//! The growing run behind [`super::run_until`] with a target or a budget: pieces of chunks
//! handed out in index order under one lock, counted without it, scanned in order (see the
//! parent module's docs).

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{Clock, Limits, Outcome, StoppedBy};
use crate::Error;
use crate::cache::{BlockKey, CacheSession, Entry, FLUSH_INTERVAL, Span};
use crate::runner::{ChunkEvent, ChunkSource, Observer, RunSpec};
use crate::sampler::{Design, Grid, Method};
use crate::stats::convergence::SeriesBuilder;
use crate::stats::stopping::{PrefixCounts, StoppingRule, half_width_at};
use crate::tally::{SourceCounts, Tally};

/// Chunks in one piece at most: a piece's per-chunk counts wait in memory until the scan
/// reaches them.
pub(super) const PIECE_MAX_CHUNKS: u64 = 4096;

/// Trials in one piece at least, where chunks allow (a few dozen microseconds of work), so
/// that taking the lock twice per piece costs nothing measurable at small chunk sizes.
pub(super) const PIECE_TRIALS: u64 = 1 << 17;

/// Completed pieces waiting for an earlier one at most, per worker: when one worker is held up
/// (preempted, or counting a cached span again), the others wait rather than run far ahead of
/// the prefix, so work past a stop stays a few pieces per worker.
pub(super) const WAITING_PER_WORKER: usize = 4;

/// Relative margin under the target at which a stop is taken as expected (see
/// `Grower::stop_expected_before`): the half-width's relative change between two boundaries,
/// from the inside fraction alone, is about 1e-5.
const EXPECTED_STOP_MARGIN: f64 = 1e-3;

/// How long a worker that may not take a piece waits before it looks again (the budget and the
/// cancel flag are also read then).
const IDLE_LOOK: Duration = Duration::from_millis(5);

/// Chunks handed out together to one worker: consecutive, never across a break of cache spans
/// ([`BlockKey::next_break`]: a cell boundary, and for stratified runs a convergence point's
/// boundary too), all of one size (the plan's remainder chunk is a piece of its own).
struct Piece {
    chunks: Range<u64>,
    /// Chunks of a cached span counted again: neither a miss nor stored.
    again: bool,
}

/// A piece whose counts are known.
enum Counts {
    /// Computed: each chunk's count, in order.
    Chunks(Vec<u64>),
    /// Read from the cache: the span's sums.
    Span(Span),
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
pub(super) struct Grower<'a> {
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
    /// The cache key of block 0: where pieces and stored spans break
    /// ([`BlockKey::next_break`]), the same in every block. Plain convergence points sit on cell
    /// boundaries, stratified ones on the breaks of their spans, so a cached run and a computed
    /// one draw the same series.
    pub(super) breaks: BlockKey,
    pub(super) piece_chunks: u64,
    /// Set when the run is over: pieces in flight stop within a slice and are dropped.
    halt: AtomicBool,
    time_up: AtomicBool,
    state: Mutex<State>,
    back: Condvar,
}

impl<'a> Grower<'a> {
    pub(super) fn new(
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
        let mut series = SeriesBuilder::for_grid(spec.design().ok().and_then(grid_of));
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
            breaks: spec.block_key(0),
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

    pub(super) fn run(self) -> Result<Outcome, Error> {
        let pool = crate::runner::pool(self.spec.workers)?;
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
            match self.spec.method {
                Method::Plain => 0,
                Method::Stratified => prefix.inside_squares,
            },
        );
        tally.sources = state.sources;
        tally.elapsed = elapsed;
        Ok(Outcome {
            // Met only as the rule judges a stop: the minimum sample counts, also at a cap.
            target_met: self.rule.map(|r| r.stops_at(&prefix)),
            convergence: state
                .series
                .finish_replicates(&prefix.replicates(), prefix.trials),
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
                match crate::runner::compute_chunk(self.spec, index, self, &self.halt) {
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
            if self.stop_expected_before(state) {
                return Claim::Wait;
            }
            let next = state.next;
            let mut end = self
                .breaks
                .next_break(next)
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
                        entry: Entry::empty(self.spec.block_key(block)),
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

    /// Whether the rule will almost surely stop at or before `next` once the pieces out are
    /// back: the half-width at `next`'s boundary, at the inside fraction seen so far, is below
    /// the target by a margin far wider than the fraction moves between boundaries. A worker
    /// then waits instead of counting a piece past the stop (a chunk of work for nothing, which
    /// on a busy machine also slows the pieces that are needed). Scheduling only: the answer
    /// is the same either way, and once the prefix reaches `next` without a stop, work goes on.
    fn stop_expected_before(&self, state: &State) -> bool {
        let Some(rule) = self.rule else { return false };
        if rule.grid().is_some() {
            // A stratified stop depends on the spread, not on the inside fraction.
            return false;
        }
        let prefix = &state.prefix;
        if prefix.chunks >= state.next || prefix.trials == 0 {
            return false;
        }
        let trials = self.spec.plan.trials_in(&(0..state.next));
        let p = prefix.inside as f64 / prefix.trials as f64;
        trials >= rule.min_trials()
            && half_width_at(p, trials as f64) <= rule.target() * (1.0 - EXPECTED_STOP_MARGIN)
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
            let key = self.spec.block_key(block);
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
        self.inner.trials_done(span.total_trials());
        crate::runner::report(self.inner, &span, Instant::now(), ChunkSource::Cached);
        state.seen.cached_chunks += span.chunks();
        state.next = span.end;
        state.done.insert(
            span.first,
            Done {
                end: span.end,
                counts: Counts::Span(span),
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
                let keeps_squares = pending.entry.key.keeps_squares();
                pending.entry.join(Span {
                    first: piece.chunks.start,
                    end: piece.chunks.end,
                    trials,
                    inside: counts.iter().sum(),
                    squares: keeps_squares
                        .then(|| counts.iter().map(|&c| u128::from(c) * u128::from(c)).sum()),
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
                Counts::Span(span) => {
                    let trials = plan.trials_in(&(first..done.end));
                    let chunks = done.end - first;
                    if chunks > 1
                        && self
                            .rule
                            .is_some_and(|r| r.might_stop_within(&state.prefix, chunks, trials))
                    {
                        // The stop may lie inside: its chunks are counted again, one by one.
                        state.recount = first..done.end;
                        break;
                    }
                    let squares = span.squares.unwrap_or(0);
                    state.prefix.push_span(chunks, span.inside, squares, trials);
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
        // A stratified point may be any chunk boundary: cached spans break at those that make
        // points.
        let step = match self.spec.method {
            Method::Plain => self.breaks.cell_chunks(),
            Method::Stratified => 1,
        };
        if prefix.chunks.is_multiple_of(step) || prefix.chunks == end {
            state
                .series
                .offer_replicates(&prefix.replicates(), prefix.trials);
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

/// The grid of a stratified design.
pub(super) fn grid_of(design: Design) -> Option<Grid> {
    match design {
        Design::Plain => None,
        Design::Stratified(grid) => Some(grid),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data stays consistent if a worker panicked while holding the lock.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
