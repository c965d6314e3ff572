//! One cache block of a run: the chunks of the requested range that fall in the block, with the
//! result cache as an optional part. Without a [`CacheSession`] the chunks are simply computed.
//! With one, one look-up answers every chunk inside the entry's spans ([`crate::cache::Span`]:
//! runs of consecutive chunks with their total count); the missing chunks are computed, each
//! worker adding up the consecutive chunks it completes into a span (so the cache costs a few
//! nanoseconds per chunk, not a record), and the block is stored when its last chunk completes,
//! at most [`FLUSH_INTERVAL`] after its previous store, and when the run stops early.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::{ChunkSource, Observer, RunSpec, compute_chunk, report};
use crate::Error;
use crate::cache::{BlockKey, CacheSession, Entry, FLUSH_INTERVAL, Span};
use crate::plan::Chunk;
use crate::tally::SourceCounts;

/// Longest time a worker keeps the span it is adding to before handing it to its block (then
/// stored with the block's next store), looked at every [`HANDOFF_CHECK`] chunks.
const HANDOFF_INTERVAL: Duration = Duration::from_millis(25);

/// Chunks between two looks at the clock while a span grows: a clock read costs about as much
/// as 1/20 of a one-trial chunk, so it is not done per chunk.
const HANDOFF_CHECK: u64 = 256;

/// What a block (or several, once added) counted.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct BlockCount {
    pub inside: u64,
    /// `Σc²` of the chunks (what a stratified run's interval needs; the cache keeps it for
    /// stratified spans, so for a plain run it covers the computed chunks only and is unused).
    pub inside_squares: u128,
    pub sources: SourceCounts,
}

impl BlockCount {
    pub fn add(self, other: BlockCount) -> BlockCount {
        BlockCount {
            inside: self.inside + other.inside,
            inside_squares: self.inside_squares + other.inside_squares,
            sources: self.sources + other.sources,
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
) -> Result<BlockCount, Error> {
    let Some(cache) = cache else {
        return chunks
            .into_par_iter()
            .map(|index| {
                let inside = compute_chunk(spec, index, observer, cancel)?;
                Ok(computed(inside, spec.plan.chunk(index).trials))
            })
            .try_reduce(BlockCount::default, |a, b| Ok(a.add(b)));
    };
    let key = spec.block_key(block);
    let full_end = chunks.end.min(spec.plan.full_chunks()).max(chunks.start);
    let remainder = (full_end < chunks.end).then(|| (full_end, spec.plan.chunk(full_end).trials));
    let began = Instant::now();
    let cover = cache
        .load(&key)
        .unwrap_or_else(|| Entry::empty(key.clone()))
        .cover(chunks.start..full_end, remainder);
    let mut read = BlockCount::default();
    // Every span of the cover is read (a hit), also when the run stops before reporting it.
    cache.count(cover.hits.iter().map(Span::chunks).sum(), 0, 0);
    for span in &cover.hits {
        // A fully cached run must stop on request as promptly as a computed one.
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        read.inside += span.inside;
        read.inside_squares += span.squares.unwrap_or(0);
        read.sources.cached_chunks += span.chunks();
        observer.trials_done(span.total_trials());
        report(observer, span, began, ChunkSource::Cached);
    }
    let missing: u64 = cover.missing.iter().map(|r| r.end - r.start).sum();
    if missing == 0 {
        return Ok(read);
    }
    let pending = Mutex::new(Pending {
        entry: Entry::empty(key.clone()),
        unsaved: 0,
        left: missing,
        stored: 0,
        last_store: Instant::now(),
    });
    let sums = Mutex::new(BlockCount::default());
    // Per-split state taken by reference (no accumulator moved per chunk); dropping it at the
    // end of its split, also when cancelled, hands its span to the block.
    let result = cover
        .missing
        .par_iter()
        .flat_map(|r| r.clone().into_par_iter())
        .try_for_each_init(
            || Growing::new(&pending, cache, &key, &sums),
            |growing, index| {
                let inside = compute_chunk(spec, index, observer, cancel)?;
                growing.push(spec.plan.chunk(index), inside);
                Ok::<(), Error>(())
            },
        );
    // Also when cancelled: what is done is kept for the next run.
    let mut pending = lock(&pending);
    pending.store(cache);
    // Misses are the chunks computed (a cancelled run computes fewer than it missed).
    let computed = *sums.lock().unwrap_or_else(PoisonError::into_inner);
    cache.count(0, computed.sources.computed_chunks, pending.stored);
    result?;
    Ok(read.add(computed))
}

fn computed(inside: u64, trials: u64) -> BlockCount {
    BlockCount {
        inside,
        inside_squares: u128::from(inside) * u128::from(inside),
        sources: SourceCounts::computed(trials),
    }
}

/// The span one worker (one rayon split) is adding consecutive chunks to, handed to its block's
/// [`Pending`] when the next chunk does not continue it, when it has grown for
/// [`HANDOFF_INTERVAL`], and when dropped.
struct Growing<'a> {
    pending: &'a Mutex<Pending>,
    cache: &'a CacheSession,
    key: &'a BlockKey,
    span: Option<Span>,
    /// Where the span must end at the latest ([`BlockKey::next_break`] of its first chunk),
    /// worked out once per span rather than per chunk.
    span_limit: u64,
    since: Instant,
    /// What this worker computed, added to `sums` when dropped.
    own: BlockCount,
    /// The totals of the chunks computed for the block, added to by every worker.
    sums: &'a Mutex<BlockCount>,
}

impl<'a> Growing<'a> {
    fn new(
        pending: &'a Mutex<Pending>,
        cache: &'a CacheSession,
        key: &'a BlockKey,
        sums: &'a Mutex<BlockCount>,
    ) -> Self {
        Growing {
            pending,
            cache,
            key,
            span: None,
            span_limit: 0,
            since: Instant::now(),
            own: BlockCount::default(),
            sums,
        }
    }

    fn push(&mut self, chunk: Chunk, inside: u64) {
        self.own = self.own.add(computed(inside, chunk.trials));
        let next = Span::chunk(chunk.index, chunk.trials, inside, self.key.keeps_squares());
        if let Some(span) = &mut self.span {
            let continues = span.trials == chunk.trials
                && span.end == chunk.index
                && chunk.index < self.span_limit
                && (span.chunks() % HANDOFF_CHECK != 0 || self.since.elapsed() < HANDOFF_INTERVAL);
            if let Some(joined) = span.then(&next).filter(|_| continues) {
                *span = joined;
                return;
            }
        }
        self.hand_over();
        self.span_limit = self.key.next_break(chunk.index);
        self.span = Some(next);
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
        let mut sums = self.sums.lock().unwrap_or_else(PoisonError::into_inner);
        *sums = sums.add(self.own);
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
    fn stratified_runs_read_their_counts_and_squares_at_every_chunk_size_and_worker_count() {
        use super::super::tests::stratified;
        // Chunks of 4^5 (4,096 to a cell: spans of many chunks), 4^11 (one cell) and 4^12.
        for (k, chunks) in [(5, 700), (11, 3), (12, 2)] {
            let dir = tempfile::tempdir().unwrap();
            let cache = Cache::new(dir.path());
            let expected = whole(&stratified(chunks, k, 6, 2)).replicates();
            for workers in [1, 2, 3] {
                let s = stratified(chunks, k, 6, workers);
                let (tally, summary) = cached(&s, &cache, workers != 3);
                assert_eq!(tally.replicates(), expected, "4^{k}, {workers} workers");
                let hits = if workers == 2 { chunks } else { 0 };
                assert_eq!((summary.hits, tally.sources.cached_chunks), (hits, hits));
            }
            // Another method's entries are other entries.
            let plain = RunSpec {
                method: crate::sampler::Method::Plain,
                ..stratified(chunks, k, 6, 2)
            };
            assert_eq!(cached(&plain, &cache, true).0.sources.cached_chunks, 0);
        }
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
