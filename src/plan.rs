//! Chunk planning: how a run's trials are cut into chunks, which chunks one part of a split run
//! covers, and how chunks are grouped into cache blocks.
//!
//! A chunk is the unit of randomness (one set of lane streams, see [`crate::sampler`]) and of
//! parallel work. Chunk `i` holds `chunk_size` trials, except the last, which takes the
//! remainder. Chunks are computed on the fly, so a plan costs the same memory for 1e3 and 1e19
//! trials.
//!
//! A *cache block* is the group of consecutive chunks one result-cache entry holds
//! ([`cache_block_chunks`]: 256 *cells* of about 2^22 trials, [`cache_cell_chunks`]). It is
//! defined here, once, because the cache, shards and MPI ranks
//! all cut along it: a shard that owns whole blocks never shares a cache entry with another.
//!
//! # Shards
//!
//! [`Plan::shard`] gives shard `k` of `n` one contiguous range of chunks. Two goals pull apart:
//! shards that own whole cache blocks never race on one entry of a shared cache (and a later
//! whole run reuses their entries as they are), while shards of a small run must stay balanced.
//! The rule: when the plan has at least [`SHARD_MIN_BLOCKS`] blocks per shard, shards own whole
//! blocks (they then differ by at most one block in [`SHARD_MIN_BLOCKS`], 12.5%); otherwise they
//! own whole chunks and differ by at most one chunk. Either way the boundaries are
//! `⌊k · units / n⌋`, computed in 128 bits, so they cannot overflow near 2^64 chunks.

use std::ops::Range;

use crate::Error;

/// Default trials per chunk: 2^22 = 4,194,304 (a few milliseconds of work). Small enough that
/// 1e8 trials make 24 chunks and keep 4 workers busy, large enough that per-chunk overhead
/// (stream derivation, scheduling: a few microseconds) is far below 1% at any trial count.
pub const DEFAULT_CHUNK_SIZE: u64 = 1 << 22;

/// Fewest cache blocks per shard for shards to own whole blocks (see the module docs).
pub const SHARD_MIN_BLOCKS: u64 = 8;

/// Trials a cache cell covers (at most, and at least half of it when chunks are smaller): the
/// granularity at which cached counts are kept. One chunk of the default size.
pub const CELL_TRIALS: u64 = 1 << 22;

/// Cells per cache block, so per cache entry: one entry covers `BLOCK_CELLS · CELL_TRIALS` =
/// 2^30 ≈ 1.07e9 trials (more when chunks are larger than a cell).
pub const BLOCK_CELLS: u64 = 256;

/// Chunks per cache cell for `chunk_size`: `max(1, CELL_TRIALS / chunk_size)`.
pub fn cache_cell_chunks(chunk_size: u64) -> u64 {
    (CELL_TRIALS / chunk_size.max(1)).max(1)
}

/// Chunks per cache block (one result-cache entry) for plans of `chunk_size` trials per chunk:
/// [`BLOCK_CELLS`] cells, so about 2^30 ≈ 1.07e9 trials at every chunk size up to 2^22.
pub fn cache_block_chunks(chunk_size: u64) -> u64 {
    BLOCK_CELLS * cache_cell_chunks(chunk_size)
}

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

    /// The indices of every chunk: `0..chunks()`.
    pub fn all(&self) -> Range<u64> {
        0..self.chunks()
    }

    /// Trials in the chunks `range` (which must lie within `0..chunks()`).
    pub fn trials_in(&self, range: &Range<u64>) -> u64 {
        debug_assert!(range.end <= self.chunks());
        if range.is_empty() {
            return 0;
        }
        let last = self.chunk(range.end - 1).trials;
        (range.end - 1 - range.start) * self.chunk_size + last
    }

    /// The plan of the first `chunks` chunks: a run stopped after them reports exactly what a
    /// fixed run of this plan reports. `None` if `chunks` is 0 or above [`Plan::chunks`].
    pub fn prefix(&self, chunks: u64) -> Option<Plan> {
        if chunks == 0 || chunks > self.chunks() {
            return None;
        }
        Some(Plan {
            trials: self.trials_in(&(0..chunks)),
            chunk_size: self.chunk_size,
        })
    }

    /// Chunks per cache block for this plan's chunk size (see [`cache_block_chunks`]).
    pub fn block_chunks(&self) -> u64 {
        cache_block_chunks(self.chunk_size)
    }

    /// Shard `k` of `n`: one contiguous range of chunks; the `n` shards partition the plan (see
    /// the module docs for how). A shard may be empty when `n` exceeds the chunk count.
    pub fn shard(&self, k: u64, n: u64) -> Result<Range<u64>, Error> {
        if n == 0 || k >= n {
            return Err(Error::InvalidConfig(format!(
                "shard {k} of {n} does not exist: shards are numbered 0 to N-1"
            )));
        }
        let chunks = self.chunks();
        let block = self.block_chunks();
        let blocks = chunks.div_ceil(block);
        // ⌊k · units / n⌋ in 128 bits: k · units may exceed 2^64.
        let cut = |i: u64, units: u64| (u128::from(i) * u128::from(units) / u128::from(n)) as u64;
        if u128::from(blocks) >= u128::from(n) * u128::from(SHARD_MIN_BLOCKS) {
            let first = cut(k, blocks).saturating_mul(block).min(chunks);
            let end = cut(k + 1, blocks).saturating_mul(block).min(chunks);
            Ok(first..end)
        } else {
            Ok(cut(k, chunks)..cut(k + 1, chunks))
        }
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

    #[test]
    fn prefixes_are_plans_of_their_own_length() {
        let plan = Plan::new(1_000, 300).unwrap();
        assert_eq!(plan.prefix(2), Some(Plan::new(600, 300).unwrap()));
        assert_eq!(plan.prefix(4), Some(plan));
        assert_eq!(plan.prefix(0), None);
        assert_eq!(plan.prefix(5), None);
        assert_eq!(plan.trials_in(&(1..4)), 700);
        assert_eq!(plan.trials_in(&(2..2)), 0);
    }

    #[test]
    fn small_runs_shard_by_chunk_and_large_runs_by_whole_block() {
        // 5e9 trials are 1193 chunks, 4.7 blocks: three shards split the chunks evenly.
        let small = Plan::new(5_000_000_000, DEFAULT_CHUNK_SIZE).unwrap();
        let sizes: Vec<u64> = (0..3)
            .map(|k| small.shard(k, 3).unwrap())
            .map(|r| r.end - r.start)
            .collect();
        assert_eq!(sizes, vec![397, 398, 398]);
        // 1e13 trials in 64 shards: whole blocks of 256 chunks, except the very end.
        let large = Plan::new(10_000_000_000_000, DEFAULT_CHUNK_SIZE).unwrap();
        for k in 0..64 {
            let r = large.shard(k, 64).unwrap();
            assert_eq!(r.start % 256, 0, "shard {k} starts inside a block");
            if k < 63 {
                assert_eq!(r.end % 256, 0, "shard {k} ends inside a block");
            }
        }
        assert!(small.shard(3, 3).is_err());
        assert!(small.shard(0, 0).is_err());
    }

    #[test]
    fn shards_near_two_to_the_64_chunks_do_not_overflow() {
        let plan = Plan::new(u64::MAX, 1).unwrap();
        let n = 1_000_003;
        let mut next = 0;
        for k in [0, 1, n / 2, n - 2, n - 1] {
            let r = plan.shard(k, n).unwrap();
            if k == 0 {
                assert_eq!(r.start, 0);
            }
            assert!(r.start <= r.end);
            next = r.end;
        }
        assert_eq!(next, u64::MAX);
    }

    proptest! {
        #[test]
        fn shards_partition_the_chunks(
            trials in 1u64..50_000_000,
            chunk in prop_oneof![1u64..100, 100u64..100_000],
            n in 1u64..3_000,
        ) {
            let plan = Plan::new(trials, chunk).unwrap();
            let chunks = plan.chunks();
            let mut next = 0;
            let mut trials_seen = 0;
            for k in 0..n {
                let r = plan.shard(k, n).unwrap();
                prop_assert_eq!(r.start, next, "shard {} of {} is not contiguous", k, n);
                prop_assert!(r.end >= r.start);
                trials_seen += plan.trials_in(&r);
                next = r.end;
            }
            prop_assert_eq!(next, chunks);
            prop_assert_eq!(trials_seen, trials);
        }

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
