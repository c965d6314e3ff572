//! An exact partial result: which chunks of which run were counted, and their integer counts.
//!
//! A [`Tally`] is what the runner returns for any set of chunks (a whole run, a range, a shard, a
//! prefix). It carries its [`TallyKey`] (algorithm, seed, chunk size: everything a chunk's count
//! depends on besides its index and trials) and the chunk ranges it covers. Two tallies of the same
//! key and disjoint chunks merge by adding integers, so a run split into parts in any way, run in
//! any order on any machines and merged in any order, gives exactly the count of the whole run.
//! Whether a tally *is* a whole run is judged against a plan ([`Tally::covers`]): a prefix of `k`
//! chunks is the whole of the plan of its own length ([`crate::Plan::prefix`]).

use std::fmt;
use std::ops::Range;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::sampler::Method;
use crate::stats::replicates::Replicates;

/// What a chunk's count depends on besides its index and trials.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TallyKey {
    /// Version string of the sampling algorithm ([`crate::ALGORITHM`] for runs of this build).
    pub algorithm: String,
    /// The seed every chunk's streams derive from.
    pub seed: u64,
    /// Trials per chunk of the plan the chunks were cut from.
    pub chunk_size: u64,
}

impl TallyKey {
    /// The key of plain runs of this build's algorithm.
    pub fn new(seed: u64, chunk_size: u64) -> Self {
        TallyKey::of_method(Method::Plain, seed, chunk_size)
    }

    /// The key of runs of `method` (its algorithm, [`Method::algorithm`]).
    pub fn of_method(method: Method, seed: u64, chunk_size: u64) -> Self {
        TallyKey {
            algorithm: method.algorithm().to_owned(),
            seed,
            chunk_size,
        }
    }

    /// The method whose algorithm the key names, if this build knows it.
    pub fn method(&self) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.algorithm() == self.algorithm)
    }
}

impl fmt::Display for TallyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {}, chunk size {}, algorithm {}",
            self.seed, self.chunk_size, self.algorithm
        )
    }
}

/// How many of a tally's chunks came from each [`crate::runner::ChunkSource`] (added up when
/// tallies merge).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCounts {
    /// Chunks whose count was read from the result cache.
    pub cached_chunks: u64,
    /// Chunks sampled in this run.
    pub computed_chunks: u64,
    /// Trials of the chunks sampled in this run (what a throughput figure may count).
    pub computed_trials: u64,
}

impl std::ops::Add for SourceCounts {
    type Output = SourceCounts;

    fn add(self, other: SourceCounts) -> SourceCounts {
        SourceCounts {
            cached_chunks: self.cached_chunks + other.cached_chunks,
            computed_chunks: self.computed_chunks + other.computed_chunks,
            computed_trials: self.computed_trials + other.computed_trials,
        }
    }
}

impl std::ops::AddAssign for SourceCounts {
    fn add_assign(&mut self, other: SourceCounts) {
        *self = *self + other;
    }
}

impl std::ops::Sub for SourceCounts {
    type Output = SourceCounts;

    /// What `self` counted beyond `other`, a part of it (saturating, never below zero).
    fn sub(self, other: SourceCounts) -> SourceCounts {
        SourceCounts {
            cached_chunks: self.cached_chunks.saturating_sub(other.cached_chunks),
            computed_chunks: self.computed_chunks.saturating_sub(other.computed_chunks),
            computed_trials: self.computed_trials.saturating_sub(other.computed_trials),
        }
    }
}

/// Why two tallies cannot be merged, or a tally cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TallyError {
    /// The tallies count different runs.
    #[error("different runs: {0} against {1}")]
    KeyMismatch(Box<TallyKey>, Box<TallyKey>),
    /// Both tallies count some chunks.
    #[error("chunks {}..{} are counted twice", .0.start, .0.end)]
    Overlap(Range<u64>),
    /// A sum does not fit in 64 bits.
    #[error("trial count overflows 64 bits")]
    Overflow,
    /// A tally's own numbers contradict each other.
    #[error("{0}")]
    Inconsistent(String),
}

/// An exact, mergeable count over a set of chunks of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    key: TallyKey,
    /// Sorted, disjoint and not touching (adjacent ranges are joined).
    ranges: Vec<Range<u64>>,
    trials: u64,
    inside: u64,
    /// `Σc²` over the chunks (stratified runs, whose chunks are replicates; 0 for plain runs).
    inside_squares: u128,
    /// Where the chunks' counts came from.
    pub sources: SourceCounts,
    /// Wall time of the run that produced the tally (the longest, after a merge).
    pub elapsed: Duration,
}

impl Tally {
    /// A tally of no chunks.
    pub fn empty(key: TallyKey) -> Self {
        Tally {
            key,
            ranges: Vec::new(),
            trials: 0,
            inside: 0,
            inside_squares: 0,
            sources: SourceCounts::default(),
            elapsed: Duration::ZERO,
        }
    }

    /// A tally of the chunks `range` of `plan`, holding `inside` of their trials. Checks that the
    /// range lies in the plan and that `inside` does not exceed the trials.
    pub fn of_range(
        key: TallyKey,
        plan: &Plan,
        range: Range<u64>,
        inside: u64,
    ) -> Result<Self, TallyError> {
        if key.chunk_size != plan.chunk_size() {
            return Err(TallyError::Inconsistent(format!(
                "chunk size {} is not the plan's {}",
                key.chunk_size,
                plan.chunk_size()
            )));
        }
        if range.end > plan.chunks() || range.start > range.end {
            return Err(TallyError::Inconsistent(format!(
                "chunks {}..{} are not in a plan of {} chunks",
                range.start,
                range.end,
                plan.chunks()
            )));
        }
        Tally::from_parts(key, vec![range.clone()], plan.trials_in(&range), inside)
    }

    /// The tally of the chunks `range` of `plan`, which the runner counted itself: the range
    /// lies in the plan and `inside` was summed from its chunks, so there is nothing to check.
    pub(crate) fn of_counted(
        key: TallyKey,
        plan: &Plan,
        range: Range<u64>,
        inside: u64,
        inside_squares: u128,
    ) -> Self {
        debug_assert!(range.start <= range.end && range.end <= plan.chunks());
        debug_assert_eq!(key.chunk_size, plan.chunk_size());
        let trials = plan.trials_in(&range);
        debug_assert!(inside <= trials);
        let mut tally = Tally::empty(key);
        if !range.is_empty() {
            tally.ranges.push(range);
        }
        tally.trials = trials;
        tally.inside = inside;
        tally.inside_squares = inside_squares;
        tally
    }

    /// A tally from its stored fields (as a part file holds them), checked for consistency:
    /// ranges disjoint (in any order), `inside ≤ trials`, and `trials` possible for the ranges
    /// (every chunk holds at least one trial and at most `chunk_size`).
    pub fn from_parts(
        key: TallyKey,
        mut ranges: Vec<Range<u64>>,
        trials: u64,
        inside: u64,
    ) -> Result<Self, TallyError> {
        ranges.sort_by_key(|r| r.start);
        let mut tally = Tally::empty(key);
        for range in ranges {
            if range.is_empty() {
                continue;
            }
            if let Some(last) = tally.ranges.last()
                && range.start < last.end
            {
                return Err(TallyError::Overlap(range.start..last.end.min(range.end)));
            }
            tally.push(range);
        }
        let chunks = tally.chunks();
        let most = u128::from(chunks) * u128::from(tally.key.chunk_size);
        if u128::from(trials) < u128::from(chunks) || u128::from(trials) > most {
            return Err(TallyError::Inconsistent(format!(
                "{trials} trials cannot fill {chunks} chunks of at most {} trials",
                tally.key.chunk_size
            )));
        }
        if inside > trials {
            return Err(TallyError::Inconsistent(format!(
                "{inside} inside is more than the {trials} trials"
            )));
        }
        tally.trials = trials;
        tally.inside = inside;
        Ok(tally)
    }

    /// What the counted chunks depend on.
    pub fn key(&self) -> &TallyKey {
        &self.key
    }

    /// The chunk ranges counted: sorted, disjoint, adjacent ranges joined.
    pub fn ranges(&self) -> &[Range<u64>] {
        &self.ranges
    }

    /// Trials counted.
    pub fn trials(&self) -> u64 {
        self.trials
    }

    /// Trials that landed inside the quarter circle.
    pub fn inside(&self) -> u64 {
        self.inside
    }

    /// `Σc²`, the sum of each chunk's inside count squared: kept for stratified runs (whose
    /// chunks are replicates), 0 for plain ones.
    pub fn inside_squares(&self) -> u128 {
        self.inside_squares
    }

    /// The chunk counts as replicates: `m`, `Σc`, `Σc²` (meaningful for stratified runs).
    pub fn replicates(&self) -> Replicates {
        Replicates {
            chunks: self.chunks(),
            inside: self.inside,
            inside_squares: self.inside_squares,
        }
    }

    /// The same tally with `Σc²` set (as a part file holds it), checked against the counts: the
    /// key must be a stratified one whose chunks are all whole, and the sums consistent
    /// ([`Replicates::is_consistent`]).
    pub fn with_inside_squares(mut self, inside_squares: u128) -> Result<Self, TallyError> {
        if self.key.method() != Some(Method::Stratified) {
            if inside_squares == 0 {
                return Ok(self);
            }
            return Err(TallyError::Inconsistent(format!(
                "a sum of squared counts belongs to stratified runs, not to {}",
                self.key.algorithm
            )));
        }
        let whole = u128::from(self.chunks()) * u128::from(self.key.chunk_size);
        if u128::from(self.trials) != whole {
            return Err(TallyError::Inconsistent(format!(
                "{} trials are not {} whole stratified chunks of {}",
                self.trials,
                self.chunks(),
                self.key.chunk_size
            )));
        }
        self.inside_squares = inside_squares;
        if !self.replicates().is_consistent(self.key.chunk_size) {
            return Err(TallyError::Inconsistent(format!(
                "the sum of squared counts {inside_squares} cannot come from {} chunks with {} \
                 inside",
                self.chunks(),
                self.inside
            )));
        }
        Ok(self)
    }

    /// Chunks counted.
    pub fn chunks(&self) -> u64 {
        self.ranges.iter().map(|r| r.end - r.start).sum()
    }

    /// Whether this tally is exactly the whole of `plan`: the same chunk size, every chunk of
    /// the plan and nothing else, and the plan's trials.
    pub fn covers(&self, plan: &Plan) -> bool {
        self.key.chunk_size == plan.chunk_size()
            && self.ranges == [plan.all()]
            && self.trials == plan.trials()
    }

    /// The chunks of `0..chunks` this tally does not cover.
    pub fn missing(&self, chunks: u64) -> Vec<Range<u64>> {
        let mut gaps = Vec::new();
        let mut next = 0;
        for r in &self.ranges {
            if r.start > next {
                gaps.push(next..r.start.min(chunks));
            }
            next = next.max(r.end);
        }
        if next < chunks {
            gaps.push(next..chunks);
        }
        gaps.retain(|g| !g.is_empty());
        gaps
    }

    /// Adds `other`'s chunks and counts to this tally. Exact: integers are added. Refuses
    /// another key, chunks counted by both, and sums that overflow; on error `self` is unchanged.
    pub fn merge(&mut self, other: &Tally) -> Result<(), TallyError> {
        if self.key != other.key {
            return Err(TallyError::KeyMismatch(
                Box::new(self.key.clone()),
                Box::new(other.key.clone()),
            ));
        }
        if let Some(overlap) = first_overlap(&self.ranges, &other.ranges) {
            return Err(TallyError::Overlap(overlap));
        }
        let trials = self
            .trials
            .checked_add(other.trials)
            .ok_or(TallyError::Overflow)?;
        let inside = self
            .inside
            .checked_add(other.inside)
            .ok_or(TallyError::Overflow)?;
        let inside_squares = self
            .inside_squares
            .checked_add(other.inside_squares)
            .ok_or(TallyError::Overflow)?;
        let mut all: Vec<Range<u64>> = self.ranges.iter().chain(&other.ranges).cloned().collect();
        all.sort_by_key(|r| r.start);
        self.ranges.clear();
        for r in all {
            self.push(r);
        }
        self.trials = trials;
        self.inside = inside;
        self.inside_squares = inside_squares;
        self.sources += other.sources;
        self.elapsed = self.elapsed.max(other.elapsed);
        Ok(())
    }

    /// Appends a range that starts at or after the last one ends, joining adjacent ranges.
    fn push(&mut self, range: Range<u64>) {
        match self.ranges.last_mut() {
            Some(last) if last.end == range.start => last.end = range.end,
            _ => self.ranges.push(range),
        }
    }
}

/// The first chunks present in both sorted, disjoint range lists.
fn first_overlap(a: &[Range<u64>], b: &[Range<u64>]) -> Option<Range<u64>> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let start = a[i].start.max(b[j].start);
        let end = a[i].end.min(b[j].end);
        if start < end {
            return Some(start..end);
        }
        if a[i].end <= b[j].end {
            i += 1;
        } else {
            j += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::single_range_in_vec_init)]
    use super::*;
    use proptest::prelude::*;

    fn key() -> TallyKey {
        TallyKey::new(7, 10)
    }

    fn plan() -> Plan {
        Plan::new(95, 10).unwrap()
    }

    #[test]
    fn adjacent_parts_merge_into_the_whole_plan() {
        let plan = plan();
        let mut a = Tally::of_range(key(), &plan, 0..4, 31).unwrap();
        let b = Tally::of_range(key(), &plan, 4..10, 44).unwrap();
        assert!(!a.covers(&plan));
        a.merge(&b).unwrap();
        assert_eq!(a.ranges(), &[0..10]);
        assert_eq!((a.trials(), a.inside()), (95, 75));
        assert!(a.covers(&plan));
        assert!(a.missing(10).is_empty());
    }

    #[test]
    fn overlapping_or_foreign_tallies_are_refused_and_leave_the_tally_unchanged() {
        let plan = plan();
        let mut a = Tally::of_range(key(), &plan, 2..6, 30).unwrap();
        let before = a.clone();
        let overlapping = Tally::of_range(key(), &plan, 5..7, 15).unwrap();
        assert_eq!(a.merge(&overlapping), Err(TallyError::Overlap(5..6)));
        let other_seed = Tally::of_range(TallyKey::new(8, 10), &plan, 6..7, 8).unwrap();
        assert!(matches!(
            a.merge(&other_seed),
            Err(TallyError::KeyMismatch(..))
        ));
        assert_eq!(a, before);
        assert_eq!(a.missing(10), vec![0..2, 6..10]);
    }

    #[test]
    fn a_prefix_is_the_whole_of_the_plan_of_its_length() {
        let plan = Plan::new(1_000, 300).unwrap();
        let prefix = Tally::of_range(TallyKey::new(1, 300), &plan, 0..2, 400).unwrap();
        assert!(!prefix.covers(&plan));
        assert!(prefix.covers(&plan.prefix(2).unwrap()));
    }

    #[test]
    fn impossible_parts_are_refused() {
        let k = key();
        assert!(Tally::from_parts(k.clone(), vec![0..2], 25, 3).is_err());
        assert!(Tally::from_parts(k.clone(), vec![0..2], 1, 0).is_err());
        assert!(Tally::from_parts(k.clone(), vec![0..2], 20, 21).is_err());
        assert!(Tally::from_parts(k.clone(), vec![3..5, 4..6], 40, 1).is_err());
        assert!(Tally::from_parts(k.clone(), vec![3..5, 0..1], 31, 1).is_err());
        let unsorted = Tally::from_parts(k.clone(), vec![3..5, 0..1], 30, 1).unwrap();
        assert_eq!(unsorted.ranges(), &[0..1, 3..5]);
        assert!(Tally::of_range(k.clone(), &plan(), 0..11, 0).is_err());
        let t = Tally::from_parts(k, vec![0..2, 2..3, 5..6], 40, 1).unwrap();
        assert_eq!(t.ranges(), &[0..3, 5..6]);
    }

    #[test]
    fn sums_that_overflow_are_refused() {
        let k = TallyKey::new(0, u64::MAX);
        let mut a = Tally::from_parts(k.clone(), vec![0..1], u64::MAX, 1).unwrap();
        let b = Tally::from_parts(k, vec![1..2], 5, 1).unwrap();
        assert_eq!(a.merge(&b), Err(TallyError::Overflow));
    }

    #[test]
    fn stratified_tallies_merge_their_squares_exactly_and_check_them() {
        let plan = Plan::new(64, 16).unwrap();
        let k = TallyKey::of_method(Method::Stratified, 1, 16);
        assert_eq!(k.method(), Some(Method::Stratified));
        let a = Tally::of_range(k.clone(), &plan, 0..2, 25)
            .unwrap()
            .with_inside_squares(12 * 12 + 13 * 13)
            .unwrap();
        let b = Tally::of_range(k.clone(), &plan, 2..4, 26)
            .unwrap()
            .with_inside_squares(2 * 13 * 13)
            .unwrap();
        let mut whole = b.clone();
        whole.merge(&a).unwrap();
        let mut expected = Replicates::EMPTY;
        for c in [12, 13, 13, 13] {
            expected.push(c);
        }
        assert_eq!(whole.replicates(), expected);
        // Squares the counts cannot give, squares on a plain tally, partial chunks: refused.
        let part = Tally::of_range(k.clone(), &plan, 0..2, 25).unwrap();
        assert!(part.clone().with_inside_squares(1).is_err());
        assert!(part.with_inside_squares(u128::MAX).is_err());
        let plain = Tally::of_range(TallyKey::new(1, 16), &plan, 0..2, 25).unwrap();
        assert!(plain.clone().with_inside_squares(313).is_err());
        assert!(plain.with_inside_squares(0).is_ok());
        let short = Tally::from_parts(k, vec![0..2], 30, 25).unwrap();
        assert!(short.with_inside_squares(313).is_err());
        assert_eq!(TallyKey::new(1, 16).method(), Some(Method::Plain));
    }

    proptest! {
        /// Any partition of a plan's chunks into pieces, merged in any order, gives the whole
        /// plan's tally.
        #[test]
        fn any_partition_merged_in_any_order_is_the_whole(
            trials in 1u64..5_000,
            chunk in 1u64..300,
            cuts in proptest::collection::vec(any::<u64>(), 0..12),
            order in any::<u64>(),
        ) {
            let plan = Plan::new(trials, chunk).unwrap();
            let k = TallyKey::new(3, chunk);
            let n = plan.chunks();
            let mut bounds: Vec<u64> = cuts.iter().map(|c| c % (n + 1)).collect();
            bounds.extend([0, n]);
            bounds.sort_unstable();
            bounds.dedup();
            // A made-up but fixed count per chunk: merging must add exactly these.
            let count = |r: &Range<u64>| r.clone().map(|i| (i * 7919) % (plan.chunk(i).trials + 1)).sum::<u64>();
            let mut parts: Vec<Tally> = bounds
                .windows(2)
                .map(|w| Tally::of_range(k.clone(), &plan, w[0]..w[1], count(&(w[0]..w[1]))).unwrap())
                .collect();
            // A deterministic shuffle driven by `order`.
            let len = parts.len();
            for i in 0..len {
                parts.swap(i, (order.rotate_left(i as u32) as usize) % len);
            }
            let mut whole = Tally::empty(k.clone());
            for p in &parts {
                whole.merge(p).unwrap();
            }
            prop_assert!(whole.covers(&plan));
            prop_assert_eq!(whole.inside(), count(&plan.all()));
            prop_assert_eq!(whole.trials(), trials);
        }
    }
}
