//! The runner: executes a [`Plan`] on a dedicated rayon pool of exactly `workers` threads and
//! sums the chunk counts. Progress and per-chunk events go to an [`Observer`] supplied by the
//! caller; a shared flag cancels the run between blocks of about a millisecond of work.
//! [`run`] computes every chunk; [`run_cached`] reads and stores chunk counts in the result cache
//! ([`crate::cache`]) and gives the same count.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::Error;
use crate::plan::{Chunk, Plan};
use crate::sampler::{Kernel, LANES, LaneStates};

mod cached;

pub use cached::run_cached;

/// Trials counted between two looks at the cancellation flag and two progress reports: a
/// multiple of the lane count (so a chunk can be counted in pieces) worth about a millisecond.
pub const BLOCK_TRIALS: u64 = LANES as u64 * (1 << 16);

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

/// The result of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Trials that landed inside the quarter circle.
    pub inside: u64,
    /// Chunks whose count came from the cache.
    pub cached_chunks: u64,
    /// Wall time of the run, pool start-up included.
    pub elapsed: Duration,
}

/// Runs `spec`, reporting to `observer`; returns [`Error::Cancelled`] soon after `cancel` is set.
pub fn run(spec: &RunSpec, observer: &dyn Observer, cancel: &AtomicBool) -> Result<Outcome, Error> {
    let start = Instant::now();
    let pool = pool(spec.workers)?;
    let inside = pool.install(|| {
        (0..spec.plan.chunks())
            .into_par_iter()
            .map(|index| {
                let chunk = spec.plan.chunk(index);
                let began = Instant::now();
                let inside = count_chunk(spec, chunk, observer, cancel)?;
                observer.chunk_done(&ChunkEvent {
                    chunk,
                    chunks: 1,
                    inside,
                    thread: rayon::current_thread_index().unwrap_or(0),
                    elapsed: began.elapsed(),
                    source: ChunkSource::Computed,
                });
                Ok(inside)
            })
            .try_reduce(|| 0, |a, b| Ok(a + b))
    })?;
    Ok(Outcome {
        inside,
        cached_chunks: 0,
        elapsed: start.elapsed(),
    })
}

/// A dedicated rayon pool of exactly `workers` threads (never the global pool).
fn pool(workers: NonZeroUsize) -> Result<rayon::ThreadPool, Error> {
    let workers = workers.get();
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|i| format!("piest-worker-{i}"))
        .build()
        .map_err(|source| Error::ThreadPool { workers, source })
}

/// Counts one chunk in blocks of [`BLOCK_TRIALS`], checking `cancel` before each block.
fn count_chunk(
    spec: &RunSpec,
    chunk: Chunk,
    observer: &dyn Observer,
    cancel: &AtomicBool,
) -> Result<u64, Error> {
    let mut states = LaneStates::for_chunk(spec.seed, chunk.index);
    let mut inside = 0;
    let mut left = chunk.trials;
    while left > 0 {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let n = left.min(BLOCK_TRIALS);
        inside += spec.kernel.count(&mut states, n);
        observer.trials_done(n);
        left -= n;
    }
    Ok(inside)
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
        }
    }

    #[test]
    fn count_is_the_sum_of_whole_chunk_counts_for_any_worker_count() {
        let plan = Plan::new(1_000_003, 100_000).unwrap();
        let expected: u64 = plan
            .iter()
            .map(|c| count_chunk(Kernel::Scalar, 9, c.index, c.trials))
            .sum();
        for workers in [1, 2, 3, 5] {
            let got = run(
                &spec(1_000_003, 100_000, 9, workers),
                &Silent,
                &AtomicBool::new(false),
            )
            .unwrap();
            assert_eq!(got.inside, expected, "workers = {workers}");
        }
    }

    #[test]
    fn chunks_longer_than_a_block_are_counted_in_blocks_identically() {
        let trials = 2 * BLOCK_TRIALS + 5;
        let whole = count_chunk(Kernel::Scalar, 3, 0, trials);
        let got = run(
            &spec(trials, trials, 3, 1),
            &Silent,
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(got.inside, whole);
    }

    #[test]
    fn a_set_cancel_flag_stops_the_run() {
        let result = run(
            &spec(1 << 30, 1 << 20, 0, 2),
            &Silent,
            &AtomicBool::new(true),
        );
        assert!(matches!(result, Err(Error::Cancelled)));
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
        run(&spec(50_000, 7_000, 1, 2), &record, &AtomicBool::new(false)).unwrap();
        assert_eq!(record.trials.load(Ordering::Relaxed), 50_000);
        let mut seen = record.chunks.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, (0..8).collect::<Vec<_>>());
    }
}
