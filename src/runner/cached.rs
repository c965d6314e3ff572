//! The cached run: the same plan and pool as [`super::run`], with a cache look-up per block of
//! chunks before computing and the computed chunks stored as they complete.
//!
//! The plan's chunks are grouped in cache blocks of [`BLOCK_CHUNKS`]. Blocks run in parallel and
//! so do the chunks inside a block, so the parallel work stays one chunk however large a block
//! is. Per block: one look-up answers every chunk the entry holds; the missing chunks are
//! computed and buffered, and the block is stored when its last chunk completes, at most
//! [`FLUSH_INTERVAL`] after its previous store, and when the run stops early.

use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use rayon::prelude::*;

use super::{ChunkEvent, ChunkSource, Observer, Outcome, RunSpec, count_chunk};
use crate::Error;
use crate::cache::{BLOCK_CHUNKS, BlockKey, CacheSession, Entry, FLUSH_INTERVAL, Record};
use crate::plan::Chunk;

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
    let blocks = spec.plan.chunks().div_ceil(BLOCK_CHUNKS);
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
    let began = Instant::now();
    let entry = cache.load(&key);
    let mut inside = 0;
    let mut hits = 0;
    let mut missing = Vec::new();
    for index in first..end {
        let chunk = spec.plan.chunk(index);
        match entry.as_ref().and_then(|e| e.get(index, chunk.trials)) {
            Some(count) => {
                inside += count;
                hits += 1;
                observer.trials_done(chunk.trials);
                observer.chunk_done(&ChunkEvent {
                    chunk,
                    inside: count,
                    thread: rayon::current_thread_index().unwrap_or(0),
                    elapsed: began.elapsed(),
                    source: ChunkSource::Cached,
                });
            }
            None => missing.push(chunk),
        }
    }
    if missing.is_empty() {
        cache.count(hits, 0, 0);
        return Ok((inside, hits));
    }
    let pending = Mutex::new(Pending {
        entry: entry.unwrap_or_else(|| Entry::empty(key)),
        unsaved: 0,
        left: missing.len(),
        stored: 0,
        last_store: Instant::now(),
    });
    let computed = missing
        .par_iter()
        .map(|&chunk| {
            let began = Instant::now();
            let count = count_chunk(spec, chunk, observer, cancel)?;
            observer.chunk_done(&ChunkEvent {
                chunk,
                inside: count,
                thread: rayon::current_thread_index().unwrap_or(0),
                elapsed: began.elapsed(),
                source: ChunkSource::Computed,
            });
            lock(&pending).add(cache, chunk, count);
            Ok(count)
        })
        .try_reduce(|| 0, |a, b| Ok(a + b));
    // Also when cancelled: what is done is kept for the next run.
    let mut pending = lock(&pending);
    pending.store(cache);
    cache.count(hits, missing.len() as u64, pending.stored);
    Ok((inside + computed?, hits))
}

/// A block's completed chunks and when they were last stored.
struct Pending {
    /// Everything known about the block: the loaded entry plus the chunks computed since.
    entry: Entry,
    /// Chunks computed since the last store.
    unsaved: u64,
    /// Chunks of the block still to compute in this run.
    left: usize,
    /// Computed chunks stored so far.
    stored: u64,
    last_store: Instant,
}

impl Pending {
    /// Adds a computed chunk; stores the block if it is complete or the last store is old.
    fn add(&mut self, cache: &CacheSession, chunk: Chunk, inside: u64) {
        self.entry.insert(Record {
            index: chunk.index,
            trials: chunk.trials,
            inside,
        });
        self.unsaved += 1;
        self.left -= 1;
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
        if cache.store(&mut self.entry) {
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
