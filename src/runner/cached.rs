//! The cached run: the same plan and pool as [`super::run`], with a cache look-up per block of
//! chunks before computing and the computed chunks stored as they complete.
//!
//! The plan's chunks are grouped in cache blocks ([`crate::cache::block_chunks`]). Blocks run in
//! parallel and so do the chunks inside a block, so the parallel work stays one chunk however
//! large a block is. Per block: one look-up answers every chunk inside the entry's spans; the
//! missing chunks are computed, each worker adding up the consecutive chunks it completes into
//! a span (so the cache costs a few nanoseconds per chunk, not a record), and the block is
//! stored when its last chunk completes, at most [`FLUSH_INTERVAL`] after its previous store,
//! and when the run stops early.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::{ChunkEvent, ChunkSource, Observer, Outcome, RunSpec, count_chunk};
use crate::Error;
use crate::cache::{BlockKey, CacheSession, Entry, FLUSH_INTERVAL, Span, block_chunks};
use crate::plan::Chunk;

/// Longest time a worker keeps the span it is adding to before handing it to its block (then
/// stored with the block's next store), looked at every [`HANDOFF_CHECK`] chunks.
const HANDOFF_INTERVAL: Duration = Duration::from_millis(25);

/// Chunks between two looks at the clock while a span grows: a clock read costs about as much
/// as 1/20 of a one-trial chunk, so it is not done per chunk.
const HANDOFF_CHECK: u64 = 256;

/// Runs `spec` like [`super::run`], reading chunk counts from `cache` where it has them and
/// storing the others. The count is the same as without the cache; [`Outcome::cached_chunks`]
/// says how many chunks were read. Cache problems never fail the run: they become warnings in
/// `cache` (see [`CacheSession::summary`]). Returns [`Error::Cancelled`] soon after `cancel` is
/// set, once the chunks completed so far are stored.
pub fn run_cached(
    spec: &RunSpec,
    cache: &CacheSession,
    observer: &dyn Observer,
    cancel: &AtomicBool,
) -> Result<Outcome, Error> {
    let start = Instant::now();
    let pool = super::pool(spec.workers)?;
    let blocks = spec
        .plan
        .chunks()
        .div_ceil(block_chunks(spec.plan.chunk_size()));
    let (inside, cached_chunks) = pool.install(|| {
        (0..blocks)
            .into_par_iter()
            .map(|block| run_block(spec, cache, block, observer, cancel))
            .try_reduce(|| (0, 0), |a, b| Ok((a.0 + b.0, a.1 + b.1)))
    })?;
    Ok(Outcome {
        inside,
        cached_chunks,
        elapsed: start.elapsed(),
    })
}

/// Runs the plan's chunks of cache block `block`; returns (inside count, chunks read).
fn run_block(
    spec: &RunSpec,
    cache: &CacheSession,
    block: u64,
    observer: &dyn Observer,
    cancel: &AtomicBool,
) -> Result<(u64, u64), Error> {
    let key = BlockKey::new(spec.seed, spec.plan.chunk_size(), block);
    let (first, end) = key.chunk_range();
    let end = end.min(spec.plan.chunks());
    let full_end = end.min(spec.plan.full_chunks());
    let remainder = (full_end < end).then(|| (full_end, spec.plan.chunk(full_end).trials));
    let began = Instant::now();
    let cover = cache
        .load(&key)
        .unwrap_or_else(|| Entry::empty(key.clone()))
        .cover(first..full_end, remainder);
    let mut inside = 0;
    let mut hits = 0;
    for span in &cover.hits {
        inside += span.inside;
        hits += span.chunks();
        observer.trials_done(span.total_trials());
        observer.chunk_done(&ChunkEvent {
            chunk: Chunk {
                index: span.first,
                trials: span.total_trials(),
            },
            chunks: span.chunks(),
            inside: span.inside,
            thread: rayon::current_thread_index().unwrap_or(0),
            elapsed: began.elapsed(),
            source: ChunkSource::Cached,
        });
    }
    let missing: u64 = cover.missing.iter().map(|r| r.end - r.start).sum();
    if missing == 0 {
        cache.count(hits, 0, 0);
        return Ok((inside, hits));
    }
    let pending = Mutex::new(Pending {
        entry: Entry::empty(key.clone()),
        unsaved: 0,
        left: missing,
        stored: 0,
        last_store: Instant::now(),
    });
    let cell = key.cell_chunks();
    let computed = AtomicU64::new(0);
    // Per-split state taken by reference (no accumulator moved per chunk); dropping it at the
    // end of its split, also when cancelled, hands its span to the block.
    let result = cover
        .missing
        .par_iter()
        .flat_map(|r| r.clone().into_par_iter())
        .try_for_each_init(
            || Growing::new(&pending, cache, cell, &computed),
            |growing, index| {
                let chunk = spec.plan.chunk(index);
                let began = Instant::now();
                let count = count_chunk(spec, chunk, observer, cancel)?;
                observer.chunk_done(&ChunkEvent {
                    chunk,
                    chunks: 1,
                    inside: count,
                    thread: rayon::current_thread_index().unwrap_or(0),
                    elapsed: began.elapsed(),
                    source: ChunkSource::Computed,
                });
                growing.push(chunk, count);
                Ok::<(), Error>(())
            },
        );
    let mut pending = lock(&pending);
    pending.store(cache);
    cache.count(hits, missing, pending.stored);
    result?;
    Ok((inside + computed.load(Ordering::Relaxed), hits))
}

/// The span one worker (one rayon split) is adding consecutive chunks to, handed to its block's [`Pending`] when
/// the next chunk does not continue it, when it has grown for [`HANDOFF_INTERVAL`], and when
/// dropped.
struct Growing<'a> {
    pending: &'a Mutex<Pending>,
    cache: &'a CacheSession,
    cell: u64,
    span: Option<Span>,
    since: Instant,
    /// Inside count of every chunk this worker computed, added to `sum` when dropped.
    total: u64,
    sum: &'a AtomicU64,
}

impl<'a> Growing<'a> {
    fn new(
        pending: &'a Mutex<Pending>,
        cache: &'a CacheSession,
        cell: u64,
        sum: &'a AtomicU64,
    ) -> Self {
        Growing {
            pending,
            cache,
            cell,
            span: None,
            since: Instant::now(),
            total: 0,
            sum,
        }
    }

    fn push(&mut self, chunk: Chunk, inside: u64) {
        self.total += inside;
        if let Some(span) = &mut self.span {
            let continues = span.trials == chunk.trials
                && span.end == chunk.index
                && !chunk.index.is_multiple_of(self.cell)
                && (span.chunks() % HANDOFF_CHECK != 0 || self.since.elapsed() < HANDOFF_INTERVAL);
            if continues {
                span.end += 1;
                span.inside += inside;
                return;
            }
        }
        self.hand_over();
        self.span = Some(Span {
            first: chunk.index,
            end: chunk.index + 1,
            trials: chunk.trials,
            inside,
        });
    }

    fn hand_over(&mut self) {
        if let Some(span) = self.span.take() {
            lock(self.pending).add(self.cache, span);
        }
        self.since = Instant::now();
    }
}

impl Drop for Growing<'_> {
    fn drop(&mut self) {
        self.hand_over();
        self.sum.fetch_add(self.total, Ordering::Relaxed);
    }
}

/// A block's completed spans and when they were last stored.
struct Pending {
    /// The spans computed in this run (joined where adjacent).
    entry: Entry,
    /// Chunks computed since the last store.
    unsaved: u64,
    /// Chunks of the block still to compute in this run.
    left: u64,
    /// Computed chunks stored so far.
    stored: u64,
    last_store: Instant,
}

impl Pending {
    /// Adds a computed span; stores the block if it is complete or the last store is old.
    fn add(&mut self, cache: &CacheSession, span: Span) {
        self.entry.join(span);
        self.unsaved += span.chunks();
        self.left -= span.chunks();
        if self.left == 0 || self.last_store.elapsed() >= FLUSH_INTERVAL {
            self.store(cache);
        }
    }

    /// Stores the block if any chunk is unsaved. Runs under the block's lock, so one process
    /// never races itself on an entry.
    fn store(&mut self, cache: &CacheSession) {
        if self.unsaved == 0 {
            return;
        }
        if cache.store(&self.entry) {
            self.stored += self.unsaved;
        }
        self.unsaved = 0;
        self.last_store = Instant::now();
    }
}

fn lock(pending: &Mutex<Pending>) -> std::sync::MutexGuard<'_, Pending> {
    // A worker that panicked while holding the lock leaves a consistent entry behind.
    pending.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::runner::tests::spec;
    use crate::runner::{Silent, run};

    fn cached(spec: &RunSpec, cache: &Cache, read: bool) -> (Outcome, crate::cache::CacheSummary) {
        let session = CacheSession::open(cache.clone(), read);
        let outcome = run_cached(spec, &session, &Silent, &AtomicBool::new(false)).unwrap();
        (outcome, session.summary())
    }

    #[test]
    fn cached_runs_give_the_uncached_count_and_reuse_whole_shared_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        // 600 chunks of 1000 trials and a remainder of 7: three blocks.
        let short = spec(600_007, 1000, 4, 2);
        let expected = run(&short, &Silent, &AtomicBool::new(false))
            .unwrap()
            .inside;
        let (first, summary) = cached(&short, &cache, true);
        assert_eq!((first.inside, first.cached_chunks), (expected, 0));
        assert_eq!((summary.misses, summary.stored), (601, 601));
        let (again, summary) = cached(&short, &cache, true);
        assert_eq!((again.inside, again.cached_chunks), (expected, 601));
        assert_eq!((summary.hits, summary.misses, summary.stored), (601, 0, 0));
        // A longer run shares the 600 whole chunks, not the 7-trial remainder.
        let long = spec(900_000, 1000, 4, 3);
        let expected_long = run(&long, &Silent, &AtomicBool::new(false)).unwrap().inside;
        let (longer, _) = cached(&long, &cache, true);
        assert_eq!((longer.inside, longer.cached_chunks), (expected_long, 600));
        // The short run's remainder is still cached beside the full chunk 600.
        assert_eq!(cached(&short, &cache, true).0.cached_chunks, 601);
        assert!(cached(&long, &cache, true).1.warnings.is_empty());
    }

    #[test]
    fn another_seed_or_chunk_size_misses_and_refresh_reads_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        cached(&spec(50_000, 1000, 1, 2), &cache, true);
        assert_eq!(
            cached(&spec(50_000, 1000, 2, 2), &cache, true)
                .0
                .cached_chunks,
            0
        );
        assert_eq!(
            cached(&spec(50_000, 500, 1, 2), &cache, true)
                .0
                .cached_chunks,
            0
        );
        let (refreshed, summary) = cached(&spec(50_000, 1000, 1, 2), &cache, false);
        assert_eq!((refreshed.cached_chunks, summary.misses), (0, 50));
        assert_eq!(
            cached(&spec(50_000, 1000, 1, 1), &cache, true)
                .0
                .cached_chunks,
            50
        );
    }

    #[test]
    fn a_cancelled_run_keeps_what_it_completed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let spec = spec(10_000_000, 100_000, 3, 2);
        struct CancelAfter<'a>(&'a AtomicBool, std::sync::atomic::AtomicU64);
        impl Observer for CancelAfter<'_> {
            fn chunk_done(&self, _: &ChunkEvent) {
                use std::sync::atomic::Ordering;
                if self.1.fetch_add(1, Ordering::Relaxed) >= 20 {
                    self.0.store(true, Ordering::Relaxed);
                }
            }
        }
        let cancel = AtomicBool::new(false);
        let observer = CancelAfter(&cancel, 0.into());
        let session = CacheSession::open(cache.clone(), true);
        let result = run_cached(&spec, &session, &observer, &cancel);
        assert!(matches!(result, Err(Error::Cancelled)));
        let stored = session.summary().stored;
        assert!(stored >= 20, "stored {stored}");
        let (rerun, _) = cached(&spec, &cache, true);
        assert_eq!(rerun.cached_chunks, stored);
        let expected = run(&spec, &Silent, &AtomicBool::new(false)).unwrap().inside;
        assert_eq!(rerun.inside, expected);
    }
}
