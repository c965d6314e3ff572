//! MPI: one run split across the ranks of an MPI world (feature `mpi`).
//!
//! Rank `r` of `n` counts the chunks of [`Plan::shard`]`(r, n)` on its own rayon pool (with the
//! cache as usual); the ranks' integer counts are then summed exactly with one `MPI_Allreduce`,
//! so every rank holds the whole run's tally and the answer equals a single process's for any
//! rank count (a stratified run's `Σc²` too, in two 64-bit halves: MPI has no 128-bit sum).
//! Chunks are assigned statically: a rank twice as slow as the others makes the run
//! take twice as long (the docs say how to avoid that).
//!
//! Cancellation: a rank whose run is cancelled (or fails) returns before any collective and
//! abandons MPI without finalizing ([`World::run`] consumes the world), so nothing waits in a
//! reduce for it; the caller then ends the process (by the signal), and the launcher ends the
//! other ranks.
//!
//! Whether to initialise MPI at all, and the guard against a world of one under a launcher that
//! says more tasks, are decided from the environment by the caller ([`crate::scheduler::Launch`]).

use std::ops::Range;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use ::mpi::collective::SystemOperation;
use ::mpi::environment::Universe;
use ::mpi::traits::{Communicator, CommunicatorCollectives};

use crate::Error;
use crate::cache::CacheSession;
use crate::runner::{Observer, RunSpec};
use crate::sampler::Method;
use crate::tally::{SourceCounts, Tally};

/// An initialised MPI world.
pub struct World {
    universe: Universe,
}

impl World {
    /// Initialises MPI (only rayon's worker threads run besides the main thread, and they never
    /// call MPI: `MPI_THREAD_FUNNELED`). Fails if MPI was already initialised.
    pub fn init() -> Result<World, Error> {
        ::mpi::initialize_with_threading(::mpi::Threading::Funneled)
            .map(|(universe, _)| World { universe })
            .ok_or(Error::MpiAlreadyInitialised)
    }

    /// This process's rank.
    pub fn rank(&self) -> u64 {
        u64::try_from(self.universe.world().rank()).unwrap_or(0)
    }

    /// Processes in the world.
    pub fn size(&self) -> u64 {
        u64::try_from(self.universe.world().size()).unwrap_or(1)
    }

    /// The chunks this rank counts.
    pub fn chunks(&self, spec: &RunSpec) -> Result<Range<u64>, Error> {
        spec.plan.shard(self.rank(), self.size())
    }

    /// Counts this rank's chunks, then sums every rank's counts: returns the whole run's tally
    /// on every rank (its `elapsed` is the slowest rank's wall time), or this rank's own error
    /// without entering any collective and without finalising MPI.
    pub fn run(
        self,
        spec: &RunSpec,
        cache: Option<&CacheSession>,
        observer: &dyn Observer,
        cancel: &AtomicBool,
    ) -> Result<Tally, Error> {
        let local = match self
            .chunks(spec)
            .and_then(|chunks| super::run(spec, chunks, cache, observer, cancel))
        {
            Ok(local) => local,
            Err(e) => {
                // Finalising would wait for ranks still counting: leave MPI as it is.
                std::mem::forget(self.universe);
                return Err(e);
            }
        };
        let world = self.universe.world();
        // MPI has no 128-bit sum: Σc² (below 2^96 for the whole run, since Σc < 2^64 and each
        // c ≤ 2^32) goes as its low 32 bits and the rest. The low halves sum below 2^64 for
        // fewer than 2^32 ranks; the high ones sum to at most the total's high part, below
        // 2^64. Recombined, the sum is exact.
        let sums_of = |t: &Tally| {
            let q = t.inside_squares();
            [
                t.trials(),
                t.inside(),
                t.chunks(),
                t.sources.cached_chunks,
                t.sources.computed_chunks,
                t.sources.computed_trials,
                (q & 0xFFFF_FFFF) as u64,
                u64::try_from(q >> 32).unwrap_or(u64::MAX),
            ]
        };
        let mut sums = [0u64; 8];
        world.all_reduce_into(&sums_of(&local)[..], &mut sums[..], SystemOperation::sum());
        // Every rank must run the same plan and seed: compare them by min and max.
        let method = match spec.method {
            Method::Plain => 0,
            Method::Stratified => 1,
        };
        let settings = [
            spec.seed,
            spec.plan.trials(),
            spec.plan.chunk_size(),
            method,
            u64::try_from(local.elapsed.as_nanos()).unwrap_or(u64::MAX),
        ];
        let (mut low, mut high) = ([0u64; 5], [0u64; 5]);
        world.all_reduce_into(&settings[..], &mut low[..], SystemOperation::min());
        world.all_reduce_into(&settings[..], &mut high[..], SystemOperation::max());
        if low[..4] != high[..4] {
            return Err(Error::RanksDisagree {
                seeds: (low[0], high[0]),
                trials: (low[1], high[1]),
                chunk_sizes: (low[2], high[2]),
                same_method: low[3] == high[3],
            });
        }
        let [
            trials,
            inside,
            chunks,
            cached_chunks,
            computed_chunks,
            computed_trials,
            squares_low,
            squares_high,
        ] = sums;
        if trials != spec.plan.trials() || chunks != spec.plan.chunks() {
            return Err(Error::RanksMiscounted {
                chunks,
                trials,
                plan_chunks: spec.plan.chunks(),
                plan_trials: spec.plan.trials(),
            });
        }
        let squares = (u128::from(squares_high) << 32) + u128::from(squares_low);
        let mut tally = Tally::of_range(spec.key(), &spec.plan, spec.plan.all(), inside)?
            .with_inside_squares(squares)?;
        tally.sources = SourceCounts {
            cached_chunks,
            computed_chunks,
            computed_trials,
        };
        tally.elapsed = Duration::from_nanos(high[3]);
        Ok(tally)
    }
}
