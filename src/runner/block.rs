//! One cache block of a run: the chunks of the requested range that fall in the block, with the
//! result cache as an optional part. With a [`CacheSession`], one look-up answers every chunk
//! the block's entry holds; the others are computed and buffered, and the block is stored when
//! its last chunk completes, at most [`FLUSH_INTERVAL`] after its previous store, and when the
//! run stops early. Without a session the chunks are simply computed.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use rayon::prelude::*;

use super::{ChunkSource, Observer, RunSpec, compute_chunk, report};
use crate::Error;
use crate::cache::{BlockKey, CacheSession, Entry, FLUSH_INTERVAL, Record};
use crate::tally::ChunkSources;

/// What a block (or several, once added) counted.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Counted {
    pub inside: u64,
    pub sources: ChunkSources,
}

impl Counted {
    pub fn add(self, other: Counted) -> Counted {
        Counted {
            inside: self.inside + other.inside,
            sources: ChunkSources {
                cached_chunks: self.sources.cached_chunks + other.sources.cached_chunks,
                computed_chunks: self.sources.computed_chunks + other.sources.computed_chunks,
                computed_trials: self.sources.computed_trials + other.sources.computed_trials,
            },
        }
    }
}

/// Counts the chunks `chunks` (all inside cache block `block`) of `spec`'s plan.
pub(super) fn run(
    spec: &RunSpec,
    block: u64,
    chunks: Range<u64>,
    cache: Option<&CacheSession>,
    observer: &dyn Observer,
    cancel: &AtomicBool,
) -> Result<Counted, Error> {
    let Some(cache) = cache else {
        return chunks
            .into_par_iter()
            .map(|index| {
                let inside = compute_chunk(spec, index, observer, cancel)?;
                Ok(computed(inside, spec.plan.chunk(index).trials))
            })
            .try_reduce(Counted::default, |a, b| Ok(a.add(b)));
    };
    let key = BlockKey::new(spec.seed, spec.plan.chunk_size(), block);
    let began = Instant::now();
    let entry = cache.load(&key);
    let known = |index: u64| {
        let trials = spec.plan.chunk(index).trials;
        entry.as_ref().and_then(|e| e.get(index, trials))
    };
    let missing = chunks.clone().filter(|&i| known(i).is_none()).count();
    let pending = Mutex::new(Pending {
        entry: entry.clone().unwrap_or_else(|| Entry::empty(key)),
        unsaved: 0,
        left: missing,
        stored: 0,
        last_store: Instant::now(),
    });
    let counted = chunks
        .clone()
        .into_par_iter()
        .map(|index| {
            let chunk = spec.plan.chunk(index);
            if let Some(inside) = known(index) {
                // A fully cached run must stop on request as promptly as a computed one.
                if cancel.load(Ordering::Relaxed) {
                    return Err(Error::Cancelled);
                }
                observer.trials_done(chunk.trials);
                report(observer, chunk, inside, began, ChunkSource::Cached);
                let sources = ChunkSources {
                    cached_chunks: 1,
                    ..ChunkSources::default()
                };
                return Ok(Counted { inside, sources });
            }
            let inside = compute_chunk(spec, index, observer, cancel)?;
            lock(&pending).add(cache, index, chunk.trials, inside);
            Ok(computed(inside, chunk.trials))
        })
        .try_reduce(Counted::default, |a, b| Ok(a.add(b)));
    // Also when cancelled: what is done is kept for the next run.
    let mut pending = lock(&pending);
    pending.store(cache);
    let hits = (chunks.end - chunks.start) - missing as u64;
    cache.count(hits, missing as u64, pending.stored);
    counted
}

fn computed(inside: u64, trials: u64) -> Counted {
    Counted {
        inside,
        sources: ChunkSources::computed(trials),
    }
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
    fn add(&mut self, cache: &CacheSession, index: u64, trials: u64, inside: u64) {
        self.entry.insert(Record {
            index,
            trials,
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

fn lock(pending: &Mutex<Pending>) -> MutexGuard<'_, Pending> {
    // A worker that panicked while holding the lock leaves a consistent entry behind.
    pending.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{spec, whole};
    use super::super::{Silent, run_all};
    use super::*;
    use crate::cache::{Cache, CacheSummary};
    use crate::tally::Tally;

    fn cached(spec: &RunSpec, cache: &Cache, read: bool) -> (Tally, CacheSummary) {
        let session = CacheSession::open(cache.clone(), read);
        let tally = run_all(spec, Some(&session), &Silent, &AtomicBool::new(false)).unwrap();
        (tally, session.summary())
    }

    #[test]
    fn cached_runs_give_the_uncached_count_and_reuse_whole_shared_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        // 600 chunks of 1000 trials and a remainder of 7: three blocks.
        let short = spec(600_007, 1000, 4, 2);
        let expected = whole(&short).inside();
        let (first, summary) = cached(&short, &cache, true);
        assert_eq!((first.inside(), first.sources.cached_chunks), (expected, 0));
        assert_eq!((summary.misses, summary.stored), (601, 601));
        let (again, summary) = cached(&short, &cache, true);
        assert_eq!(
            (again.inside(), again.sources.cached_chunks),
            (expected, 601)
        );
        assert_eq!(again.sources.computed_trials, 0);
        assert_eq!((summary.hits, summary.misses, summary.stored), (601, 0, 0));
        // A longer run shares the 600 whole chunks, not the 7-trial remainder.
        let long = spec(900_000, 1000, 4, 3);
        let expected_long = whole(&long).inside();
        let (longer, _) = cached(&long, &cache, true);
        assert_eq!(
            (longer.inside(), longer.sources.cached_chunks),
            (expected_long, 600)
        );
        assert_eq!(longer.sources.computed_trials, 300_000);
        // The short run's remainder is still cached beside the full chunk 600.
        assert_eq!(cached(&short, &cache, true).0.sources.cached_chunks, 601);
        assert!(cached(&long, &cache, true).1.warnings.is_empty());
    }

    #[test]
    fn another_seed_or_chunk_size_misses_and_refresh_reads_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let hits = |s: &RunSpec, read: bool| cached(s, &cache, read).0.sources.cached_chunks;
        hits(&spec(50_000, 1000, 1, 2), true);
        assert_eq!(hits(&spec(50_000, 1000, 2, 2), true), 0);
        assert_eq!(hits(&spec(50_000, 500, 1, 2), true), 0);
        let (refreshed, summary) = cached(&spec(50_000, 1000, 1, 2), &cache, false);
        assert_eq!((refreshed.sources.cached_chunks, summary.misses), (0, 50));
        assert_eq!(hits(&spec(50_000, 1000, 1, 1), true), 50);
    }

    #[test]
    fn a_cancelled_run_keeps_what_it_completed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let spec = spec(10_000_000, 100_000, 3, 2);
        struct CancelAfter<'a>(&'a AtomicBool, std::sync::atomic::AtomicU64);
        impl Observer for CancelAfter<'_> {
            fn chunk_done(&self, _: &super::super::ChunkEvent) {
                use std::sync::atomic::Ordering;
                if self.1.fetch_add(1, Ordering::Relaxed) >= 20 {
                    self.0.store(true, Ordering::Relaxed);
                }
            }
        }
        let cancel = AtomicBool::new(false);
        let observer = CancelAfter(&cancel, 0.into());
        let session = CacheSession::open(cache.clone(), true);
        let result = run_all(&spec, Some(&session), &observer, &cancel);
        assert!(matches!(result, Err(Error::Cancelled)));
        let stored = session.summary().stored;
        assert!(stored >= 20, "stored {stored}");
        let (rerun, _) = cached(&spec, &cache, true);
        assert_eq!(rerun.sources.cached_chunks, stored);
        assert_eq!(rerun.inside(), whole(&spec).inside());
    }

    #[test]
    fn a_shard_starting_inside_a_block_shares_the_entry_with_its_neighbour() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        // 300 chunks: blocks 0..256 and 256..300; shards cut inside block 0.
        let s = spec(300_000, 1000, 5, 2);
        let session = CacheSession::open(cache.clone(), true);
        let cancel = AtomicBool::new(false);
        let mut merged = Tally::empty(s.key());
        for k in 0..3 {
            let range = s.plan.shard(k, 3).unwrap();
            merged
                .merge(&super::super::run(&s, range, Some(&session), &Silent, &cancel).unwrap())
                .unwrap();
        }
        assert_eq!(merged.inside(), whole(&s).inside());
        assert_eq!(cached(&s, &cache, true).0.sources.cached_chunks, 300);
    }
}
