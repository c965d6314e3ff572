//! The runner: counts any set of chunks of a [`Plan`] on a dedicated rayon pool of exactly
//! `workers` threads and returns an exact, mergeable [`Tally`].
//!
//! There is one parallel loop ([`run`]). It walks the requested chunks block by block (cache
//! blocks, [`crate::plan::cache_block_chunks`]); blocks run in parallel, and so do the chunks
//! inside a block, so the parallel work stays one chunk however large a block is. The result
//! cache is an optional part of that loop (`block`): with a [`CacheSession`], a block's entry
//! answers the chunks it holds and the computed chunks are stored as they complete. One helper
//! (`compute_chunk`) counts a chunk and reports it. Progress and per-chunk events go to an
//! [`Observer`] supplied by the caller; a shared flag cancels the run between slices of about a
//! millisecond of work. Runs that choose their own length (a precision target, a time budget)
//! grow a prefix of chunks on top of this loop ([`prefix`]).

use std::num::NonZeroUsize;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::Error;
use crate::cache::{BlockKey, CacheSession, Span};
use crate::plan::{Chunk, Plan};
use crate::sampler::{Design, Kernel, LANES, LaneStates, Method};
use crate::tally::{SourceCounts, Tally, TallyKey};

mod block;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod prefix;

pub use prefix::{Clock, Limits, MonotonicClock, Outcome, StoppedBy, run_until};

/// Trials counted between two looks at the cancellation flag and two progress reports: a
/// multiple of the lane count (so a chunk can be counted in pieces) worth about a millisecond.
pub const SLICE_TRIALS: u64 = LANES as u64 * (1 << 16);

/// What to estimate and how.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// The chunk plan (trials and chunk size).
    pub plan: Plan,
    /// The seed all chunk streams derive from.
    pub seed: u64,
    /// Worker threads in the pool.
    pub workers: NonZeroUsize,
    /// The kernel that counts trials (all give identical counts).
    pub kernel: Kernel,
    /// How a chunk's words become points: plain, or stratified (chunks of `4^k` trials, whole
    /// chunks only).
    pub method: Method,
}

impl RunSpec {
    /// The key of every tally of this run: its method's algorithm, seed and chunk size.
    pub fn key(&self) -> TallyKey {
        TallyKey::of_method(self.method, self.seed, self.plan.chunk_size())
    }

    /// The cache key of block `block` of this run's plan.
    pub fn block_key(&self, block: u64) -> BlockKey {
        BlockKey::new(self.method, self.seed, self.plan.chunk_size(), block)
    }

    /// What the kernels count: the method with the grid the chunk size fixes. Refuses a
    /// stratified chunk size that is not `4^k` and stratified trials that are not whole chunks.
    pub fn design(&self) -> Result<Design, Error> {
        let design = self.method.design(self.plan.chunk_size())?;
        if self.method == Method::Stratified && self.plan.full_chunks() != self.plan.chunks() {
            return Err(Error::PartialChunk {
                trials: self.plan.trials(),
                chunk_size: self.plan.chunk_size(),
            });
        }
        Ok(design)
    }
}

/// Where a chunk's count came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkSource {
    /// Sampled in this run.
    Computed,
    /// Read from the result cache.
    Cached,
}

/// A finished chunk, or a run of consecutive chunks read from the cache at once, as reported to
/// [`Observer::chunk_done`].
#[derive(Clone, Copy, Debug)]
pub struct ChunkEvent {
    /// The chunk; for a cached run of chunks, the first one, with the trials of them all.
    pub chunk: Chunk,
    /// Chunks the event covers: 1 for a computed chunk, more for a cached span (the cache keeps
    /// one count per span of consecutive chunks, see [`crate::cache`]).
    pub chunks: u64,
    /// Its inside count.
    pub inside: u64,
    /// `Σc²` over its chunks: a computed chunk's count squared; for a cached span, what the
    /// cache keeps (stratified spans only: `None` for a plain one).
    pub inside_squares: Option<u128>,
    /// Index of the pool thread that ran it.
    pub thread: usize,
    /// Time it took.
    pub elapsed: Duration,
    /// Whether it was computed or read from the cache.
    pub source: ChunkSource,
}

/// Receives progress from worker threads. All methods have empty defaults.
pub trait Observer: Sync {
    /// `trials` more trials are done (called often: keep it cheap).
    fn trials_done(&self, _trials: u64) {}
    /// A chunk is finished.
    fn chunk_done(&self, _event: &ChunkEvent) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// Counts the chunks `chunks` of `spec`'s plan (any range within it: the whole plan, a shard,
/// a prefix), reading and storing chunk counts in `cache` when one is given. The count never
/// depends on the workers, the cache or the kernel. Cache problems never fail the run: they
/// become warnings in the session. Returns [`Error::Cancelled`] soon after `cancel` is set, once
/// the chunks completed so far are stored.
pub fn run(
    spec: &RunSpec,
    chunks: Range<u64>,
    cache: Option<&CacheSession>,
    observer: &dyn Observer,
    cancel: &AtomicBool,
) -> Result<Tally, Error> {
    if chunks.start > chunks.end || chunks.end > spec.plan.chunks() {
        return Err(Error::ChunksOutsidePlan {
            chunks,
            plan_chunks: spec.plan.chunks(),
        });
    }
    spec.design()?;
    let start = Instant::now();
    let pool = pool(spec.workers)?;
    let per_block = spec.plan.block_chunks();
    let blocks = if chunks.is_empty() {
        0..0
    } else {
        chunks.start / per_block..(chunks.end - 1) / per_block + 1
    };
    let counted = pool.install(|| {
        blocks
            .into_par_iter()
            .map(|b| {
                let first = (b * per_block).max(chunks.start);
                let end = b
                    .saturating_add(1)
                    .saturating_mul(per_block)
                    .min(chunks.end);
                block::run(spec, b, first..end, cache, observer, cancel)
            })
            .try_reduce(block::BlockCount::default, |a, b| Ok(a.add(b)))
    })?;
    let squares = match spec.method {
        Method::Plain => 0,
        Method::Stratified => counted.inside_squares,
    };
    let mut tally = Tally::of_counted(spec.key(), &spec.plan, chunks, counted.inside, squares);
    tally.sources = counted.sources;
    tally.elapsed = start.elapsed();
    Ok(tally)
}

/// Counts the whole plan of `spec`: [`run`] over every chunk.
pub fn run_all(
    spec: &RunSpec,
    cache: Option<&CacheSession>,
    observer: &dyn Observer,
    cancel: &AtomicBool,
) -> Result<Tally, Error> {
    run(spec, spec.plan.all(), cache, observer, cancel)
}

/// A dedicated rayon pool of exactly `workers` threads (never the global pool), used through
/// `Deref` like a [`rayon::ThreadPool`]. Dropping it waits until its threads have exited
/// (rayon's own drop does not), so no thread of a run outlives it: a process may `fork` after a
/// run (Python's `multiprocessing`) without a child inheriting a pool whose threads are gone.
pub struct Pool {
    pool: Option<rayon::ThreadPool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl std::ops::Deref for Pool {
    type Target = rayon::ThreadPool;
    fn deref(&self) -> &rayon::ThreadPool {
        self.pool.as_ref().expect("the pool lives until dropped")
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Ends the pool's threads once their work is done, then waits for them.
        drop(self.pool.take());
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Starts a [`Pool`] of exactly `workers` threads.
pub fn pool(workers: NonZeroUsize) -> Result<Pool, Error> {
    let workers = workers.get();
    let mut threads = Vec::with_capacity(workers);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .spawn_handler(|thread| {
            let name = format!("piest-worker-{}", thread.index());
            threads.push(
                std::thread::Builder::new()
                    .name(name)
                    .spawn(|| thread.run())?,
            );
            Ok(())
        })
        .build()
        .map_err(|source| Error::ThreadPool { workers, source })?;
    Ok(Pool {
        pool: Some(pool),
        threads,
    })
}

/// Samples chunk `index` of `spec`'s plan and reports it to `observer`: the one place a chunk is
/// computed. Counts in slices of [`SLICE_TRIALS`], checking `cancel` before each.
fn compute_chunk(
    spec: &RunSpec,
    index: u64,
    observer: &dyn Observer,
    cancel: &AtomicBool,
) -> Result<u64, Error> {
    let began = Instant::now();
    let chunk = spec.plan.chunk(index);
    let design = spec.design()?;
    let mut states = LaneStates::for_chunk(spec.seed, chunk.index);
    let mut inside = 0;
    let mut left = chunk.trials;
    while left > 0 {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let n = left.min(SLICE_TRIALS);
        inside += spec
            .kernel
            .count(design, &mut states, chunk.trials - left, n);
        observer.trials_done(n);
        left -= n;
    }
    let span = Span::chunk(chunk.index, chunk.trials, inside, true);
    report(observer, &span, began, ChunkSource::Computed);
    Ok(inside)
}

/// Sends the event of a finished chunk or a cached span.
fn report(observer: &dyn Observer, span: &Span, began: Instant, source: ChunkSource) {
    observer.chunk_done(&ChunkEvent {
        chunk: Chunk {
            index: span.first,
            trials: span.total_trials(),
        },
        chunks: span.chunks(),
        inside: span.inside,
        inside_squares: span.squares,
        thread: rayon::current_thread_index().unwrap_or(0),
        elapsed: began.elapsed(),
        source,
    });
}

impl SourceCounts {
    fn computed(trials: u64) -> Self {
        SourceCounts {
            cached_chunks: 0,
            computed_chunks: 1,
            computed_trials: trials,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sampler::count_chunk;

    /// A spec with the best kernel, for the runner's tests.
    pub(crate) fn spec(trials: u64, chunk_size: u64, seed: u64, workers: usize) -> RunSpec {
        RunSpec {
            plan: Plan::new(trials, chunk_size).unwrap(),
            seed,
            workers: NonZeroUsize::new(workers).unwrap(),
            kernel: Kernel::best(),
            method: Method::Plain,
        }
    }

    /// Runs the whole plan without a cache.
    pub(crate) fn whole(spec: &RunSpec) -> Tally {
        run_all(spec, None, &Silent, &AtomicBool::new(false)).unwrap()
    }

    #[test]
    fn count_is_the_sum_of_whole_chunk_counts_for_any_worker_count() {
        let plan = Plan::new(1_000_003, 100_000).unwrap();
        let expected: u64 = plan
            .iter()
            .map(|c| count_chunk(Kernel::Scalar, 9, c.index, c.trials))
            .sum();
        for workers in [1, 2, 3, 5] {
            let got = whole(&spec(1_000_003, 100_000, 9, workers));
            assert_eq!(got.inside(), expected, "workers = {workers}");
            assert!(got.covers(&plan));
            assert_eq!(got.sources.computed_trials, 1_000_003);
        }
    }

    /// A stratified spec with the best kernel.
    pub(crate) fn stratified(chunks: u64, k: u32, seed: u64, workers: usize) -> RunSpec {
        let n = 1u64 << (2 * k);
        RunSpec {
            method: Method::Stratified,
            ..spec(chunks * n, n, seed, workers)
        }
    }

    #[test]
    fn stratified_runs_count_whole_chunks_and_their_squares_for_any_worker_count() {
        use crate::sampler::{Grid, count_design_chunk};
        use crate::stats::replicates::Replicates;
        let grid = Grid::new(9).unwrap();
        let design = Design::Stratified(grid);
        let mut expected = Replicates::EMPTY;
        for chunk in 0..37 {
            expected.push(count_design_chunk(
                Kernel::Scalar,
                design,
                5,
                chunk,
                grid.trials(),
            ));
        }
        for workers in [1, 2, 3] {
            let got = whole(&stratified(37, 9, 5, workers));
            assert_eq!(got.replicates(), expected, "workers = {workers}");
            assert_eq!(got.key().method(), Some(Method::Stratified));
            assert_eq!(got.key().algorithm, crate::sampler::STRATIFIED_ALGORITHM);
        }
        // Chunks longer than a slice are counted in slices, each knowing its cells.
        let big = Grid::new(10).unwrap();
        let one = whole(&stratified(2, 10, 5, 2));
        let by_hand: u64 = (0..2)
            .map(|c| {
                count_design_chunk(Kernel::Scalar, Design::Stratified(big), 5, c, big.trials())
            })
            .sum();
        assert!(big.trials() > SLICE_TRIALS);
        assert_eq!(one.inside(), by_hand);
        // Plain runs of the same chunks count something else, and keep no squares.
        let plain = whole(&spec(37 << 18, 1 << 18, 5, 2));
        assert_ne!(plain.inside(), expected.inside);
        assert_eq!(plain.inside_squares(), 0);
    }

    #[test]
    fn stratified_runs_refuse_partial_chunks_and_other_sizes() {
        let cancel = AtomicBool::new(false);
        let partial = RunSpec {
            method: Method::Stratified,
            ..spec(1000, 256, 0, 1)
        };
        assert!(matches!(
            run_all(&partial, None, &Silent, &cancel),
            Err(Error::PartialChunk { .. })
        ));
        let odd = RunSpec {
            method: Method::Stratified,
            ..spec(1000, 100, 0, 1)
        };
        assert!(matches!(
            run_all(&odd, None, &Silent, &cancel),
            Err(Error::ChunkSize(_))
        ));
    }

    #[test]
    fn chunks_longer_than_a_slice_are_counted_in_slices_identically() {
        let trials = 2 * SLICE_TRIALS + 5;
        let full = count_chunk(Kernel::Scalar, 3, 0, trials);
        assert_eq!(whole(&spec(trials, trials, 3, 1)).inside(), full);
    }

    #[test]
    fn a_dropped_pool_has_joined_its_threads() {
        let p = pool(NonZeroUsize::new(3).unwrap()).unwrap();
        let threads = p.broadcast(|_| std::thread::current().id());
        assert_eq!(threads.len(), 3);
        let handles: Vec<_> = p.threads.iter().map(|t| t.thread().id()).collect();
        drop(p);
        // Every thread that ran the pool's work is one of the joined handles.
        assert!(threads.iter().all(|id| handles.contains(id)));
    }

    #[test]
    fn a_set_cancel_flag_stops_the_run() {
        let result = run_all(
            &spec(1 << 30, 1 << 20, 0, 2),
            None,
            &Silent,
            &AtomicBool::new(true),
        );
        assert!(matches!(result, Err(Error::Cancelled)));
    }

    #[test]
    fn chunks_outside_the_plan_are_refused() {
        let s = spec(1000, 100, 0, 1);
        let cancel = AtomicBool::new(false);
        assert!(run(&s, 5..11, None, &Silent, &cancel).is_err());
        let empty = run(&s, 4..4, None, &Silent, &cancel).unwrap();
        assert_eq!((empty.trials(), empty.inside(), empty.chunks()), (0, 0, 0));
    }

    #[test]
    fn observer_sees_every_trial_and_chunk() {
        use std::sync::Mutex;
        use std::sync::atomic::AtomicU64;
        #[derive(Default)]
        struct Record {
            trials: AtomicU64,
            chunks: Mutex<Vec<u64>>,
        }
        impl Observer for Record {
            fn trials_done(&self, n: u64) {
                self.trials.fetch_add(n, Ordering::Relaxed);
            }
            fn chunk_done(&self, e: &ChunkEvent) {
                self.chunks.lock().unwrap().push(e.chunk.index);
            }
        }
        let record = Record::default();
        let s = spec(50_000, 7_000, 1, 2);
        run_all(&s, None, &record, &AtomicBool::new(false)).unwrap();
        assert_eq!(record.trials.load(Ordering::Relaxed), 50_000);
        let mut seen = record.chunks.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, (0..8).collect::<Vec<_>>());
    }

    mod partitions {
        use super::*;
        use crate::cache::Cache;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(24))]
            /// Any partition of a plan's chunks, run in any order (with or without a cache,
            /// which the parts share) and merged in any order, gives the whole run's count.
            #[test]
            fn any_partition_run_and_merged_in_any_order_is_the_whole_run(
                trials in 1u64..400_000,
                chunk in prop_oneof![1u64..40, 40u64..60_000],
                seed in any::<u64>(),
                cuts in proptest::collection::vec(any::<u64>(), 0..6),
                order in any::<u64>(),
                cached in any::<bool>(),
            ) {
                let s = spec(trials, chunk, seed, 2);
                let n = s.plan.chunks();
                // Few chunks at chunk size 1 would make this slow: cap the plan's chunks.
                prop_assume!(n <= 20_000);
                let expected: u64 = s
                    .plan
                    .iter()
                    .map(|c| count_chunk(Kernel::Scalar, seed, c.index, c.trials))
                    .sum();
                let mut bounds: Vec<u64> = cuts.iter().map(|c| c % (n + 1)).collect();
                bounds.extend([0, n]);
                bounds.sort_unstable();
                bounds.dedup();
                let mut parts: Vec<Range<u64>> = bounds.windows(2).map(|w| w[0]..w[1]).collect();
                let len = parts.len();
                for i in 0..len {
                    parts.swap(i, (order.rotate_left(i as u32) as usize) % len);
                }
                let dir = tempfile::tempdir().unwrap();
                let session = CacheSession::open(Cache::new(dir.path()), true);
                let cache = cached.then_some(&session);
                let cancel = AtomicBool::new(false);
                let tallies: Vec<Tally> = parts
                    .iter()
                    .map(|r| run(&s, r.clone(), cache, &Silent, &cancel).unwrap())
                    .collect();
                let mut merged = Tally::empty(s.key());
                for t in tallies.iter().rev() {
                    merged.merge(t).unwrap();
                }
                prop_assert!(merged.covers(&s.plan));
                prop_assert_eq!(merged.inside(), expected);
                if cached {
                    // The parts' entries now serve the whole run.
                    let again = run_all(&s, Some(&session), &Silent, &cancel).unwrap();
                    prop_assert_eq!(again.inside(), expected);
                    prop_assert_eq!(again.sources.cached_chunks, n);
                }
            }
        }
    }
}
