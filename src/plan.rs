//! Chunk planning: how a run's trials are cut into chunks. A chunk is the unit of randomness
//! (one set of lane streams, see [`crate::sampler`]) and of parallel work. Chunk `i` holds
//! `chunk_size` trials, except the last, which takes the remainder. Chunks are computed on the
//! fly, so a plan costs the same memory for 1e3 and 1e19 trials.

use crate::Error;

/// Default trials per chunk: 2^22 = 4,194,304 (a few milliseconds of work). Small enough that
/// 1e8 trials make 24 chunks and keep 4 workers busy, large enough that per-chunk overhead
/// (stream derivation, scheduling: a few microseconds) is far below 1% at any trial count.
pub const DEFAULT_CHUNK_SIZE: u64 = 1 << 22;

/// One chunk of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// Position of the chunk in the plan; selects its random streams.
    pub index: u64,
    /// Trials in this chunk.
    pub trials: u64,
}

/// A validated split of `trials` into chunks of `chunk_size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    trials: u64,
    chunk_size: u64,
}

impl Plan {
    /// Plans `trials` trials in chunks of `chunk_size`; both must be at least 1.
    pub fn new(trials: u64, chunk_size: u64) -> Result<Self, Error> {
        if trials == 0 {
            return Err(Error::InvalidConfig("trials must be at least 1".into()));
        }
        if chunk_size == 0 {
            return Err(Error::InvalidConfig("chunk size must be at least 1".into()));
        }
        Ok(Plan { trials, chunk_size })
    }

    /// Total trials.
    pub fn trials(&self) -> u64 {
        self.trials
    }

    /// Trials per chunk (all chunks but possibly the last).
    pub fn chunk_size(&self) -> u64 {
        self.chunk_size
    }

    /// Number of chunks: `ceil(trials / chunk_size)`.
    pub fn chunks(&self) -> u64 {
        self.trials.div_ceil(self.chunk_size)
    }

    /// Number of chunks that hold exactly `chunk_size` trials.
    pub fn full_chunks(&self) -> u64 {
        self.trials / self.chunk_size
    }

    /// Chunk `index`, which must be below [`Plan::chunks`].
    pub fn chunk(&self, index: u64) -> Chunk {
        debug_assert!(index < self.chunks());
        let start = index * self.chunk_size;
        Chunk {
            index,
            trials: self.chunk_size.min(self.trials - start),
        }
    }

    /// All chunks in order.
    pub fn iter(&self) -> impl Iterator<Item = Chunk> + '_ {
        (0..self.chunks()).map(|i| self.chunk(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn default_plan_for_1e8_has_24_chunks_with_a_remainder() {
        let plan = Plan::new(100_000_000, DEFAULT_CHUNK_SIZE).unwrap();
        assert_eq!(plan.chunks(), 24);
        assert_eq!(plan.full_chunks(), 23);
        assert_eq!(plan.chunk(23).trials, 100_000_000 - 23 * DEFAULT_CHUNK_SIZE);
        assert_eq!(plan.chunk(0).trials, DEFAULT_CHUNK_SIZE);
    }

    #[test]
    fn exact_multiple_has_no_remainder_chunk() {
        let plan = Plan::new(40, 10).unwrap();
        let sizes: Vec<u64> = plan.iter().map(|c| c.trials).collect();
        assert_eq!(sizes, vec![10, 10, 10, 10]);
    }

    #[test]
    fn chunk_larger_than_trials_gives_one_chunk() {
        let plan = Plan::new(7, 1000).unwrap();
        assert_eq!(
            plan.iter().collect::<Vec<_>>(),
            vec![Chunk {
                index: 0,
                trials: 7
            }]
        );
    }

    #[test]
    fn largest_trial_count_plans_without_overflow() {
        let plan = Plan::new(u64::MAX, DEFAULT_CHUNK_SIZE).unwrap();
        let last = plan.chunk(plan.chunks() - 1);
        assert_eq!(u64::MAX - last.index * DEFAULT_CHUNK_SIZE, last.trials);
        assert_eq!(last.trials, u64::MAX % DEFAULT_CHUNK_SIZE);
    }

    #[test]
    fn zero_trials_or_chunk_size_is_refused() {
        assert!(Plan::new(0, 10).is_err());
        assert!(Plan::new(10, 0).is_err());
    }

    proptest! {
        #[test]
        fn chunk_sizes_sum_to_trials(trials in 1u64..1_000_000, chunk in 1u64..5_000) {
            let plan = Plan::new(trials, chunk).unwrap();
            let chunks: Vec<Chunk> = plan.iter().collect();
            prop_assert_eq!(chunks.len() as u64, plan.chunks());
            prop_assert_eq!(chunks.iter().map(|c| c.trials).sum::<u64>(), trials);
            for (i, c) in chunks.iter().enumerate() {
                prop_assert_eq!(c.index, i as u64);
                prop_assert!(c.trials >= 1 && c.trials <= chunk);
                if (i as u64) + 1 < plan.chunks() {
                    prop_assert_eq!(c.trials, chunk);
                }
            }
        }
    }
}
