//! The stopping rule of a precision target: when a run that grows chunk by chunk may stop.
//! Pure functions.
//!
//! # The rule
//!
//! A target `E` is an absolute error on the estimate of π: the 95% interval's half-width,
//! `(high − low) / 2` of the Wilson interval ([`super::wilson_interval`]), the number the human
//! report shows after "±". The run looks at its prefix at every chunk boundary, in index order,
//! and stops at the **first boundary whose prefix holds at least the minimum sample and whose
//! half-width is at most `E`**. The decision reads the counts alone: never the true value of π,
//! never a value of p assumed in advance.
//!
//! This is the fixed-width sequential rule of Chow and Robbins (1965): sample until the interval
//! computed from the data is narrow enough. Stopping on the interval's *width* (which depends on
//! the data only through p̂(1 − p̂), a quantity that hardly moves near p = π/4) keeps the
//! interval's coverage at its nominal 95% as the width goes to zero; stopping on the estimate's
//! *value* (for example "stop as soon as the interval excludes some expected value") does not,
//! and the statistical tests show both. The Wilson interval never has zero width (its `z²/4n²`
//! term plays the part of Chow and Robbins' `1/n`), and the minimum sample ([`MIN_TRIALS`])
//! keeps a lucky start from stopping a run early.
//!
//! # Limits on the target
//!
//! The sampler's lattice bias is `+9.3e-10` ([`crate::sampler`]); an interval much narrower
//! than a few times that would no longer be honest about the error, so targets below
//! [`MIN_TARGET`] are refused. A target whose trial count could not be counted in 64 bits would
//! be refused too (at [`MIN_TARGET`] the count is about 1e17, so the floor already excludes it).

use super::replicates::{MIN_CHUNKS_FOR_TARGET, Replicates};
use super::{Z95, wilson_interval};
use crate::sampler::Grid;

/// The minimum sample: a run with a precision target never stops before this many trials
/// (in practice, before the first chunk boundary at or above it).
pub const MIN_TRIALS: u64 = 1_000_000;

/// The smallest target accepted: about ten times the sampler's lattice bias (9.3e-10).
pub const MIN_TARGET: f64 = 1e-8;

/// The 95% half-width of the estimate of π after `trials` trials with `inside` inside:
/// half the width of the Wilson interval. `trials` must be at least 1.
pub fn half_width(inside: u64, trials: u64) -> f64 {
    let [low, high] = wilson_interval(inside, trials, Z95);
    (high - low) / 2.0
}

/// The 95% half-width at an inside fraction `p` of `n` trials, for fractions that are not a
/// ratio of counts (bounds); equal to [`half_width`] at `p = inside / n`.
pub fn half_width_at(p: f64, n: f64) -> f64 {
    let z2 = Z95 * Z95;
    let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // The Wilson interval is clipped to [0, 4] at the extremes; the half-width is no wider.
    4.0 * half
}

/// Why a target is refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TargetError {
    /// Zero, negative or not a number.
    #[error("the target error must be a positive number (such as 1e-4), not {0}")]
    NotPositive(f64),
    /// Too close to the sampler's lattice bias to be honest.
    #[error(
        "a target error of {0:e} is below the smallest accepted, {MIN_TARGET:e}: the sampler's \
         lattice bias (9.3e-10) must stay far below the interval (and {MIN_TARGET:e} already \
         takes about 1e17 trials)"
    )]
    BelowLatticeBias(f64),
    /// The trials it needs might not fit in 64 bits.
    #[error("a target error of {0:e} may need more than 2^64 trials")]
    TooManyTrials(f64),
}

/// The rule that says when a growing run may stop (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StoppingRule {
    target: f64,
    min_trials: u64,
    /// For a stratified run, its chunks' grid: the rule then reads the spread between chunks
    /// ([`Replicates::target_met`]) instead of the Wilson half-width.
    grid: Option<Grid>,
}

impl StoppingRule {
    /// The rule for `target` (a half-width on π) with the documented minimum sample
    /// [`MIN_TRIALS`]. Refuses targets that are not positive, below [`MIN_TARGET`], or whose
    /// trial count might not fit in 64 bits.
    pub fn new(target: f64) -> Result<Self, TargetError> {
        Self::with_min_trials(target, MIN_TRIALS)
    }

    /// The rule with another minimum sample (tests use small ones to study many short runs).
    pub fn with_min_trials(target: f64, min_trials: u64) -> Result<Self, TargetError> {
        if target.is_nan() || target <= 0.0 {
            return Err(TargetError::NotPositive(target));
        }
        if target < MIN_TARGET {
            return Err(TargetError::BelowLatticeBias(target));
        }
        if trials_bound(target).is_none() {
            return Err(TargetError::TooManyTrials(target));
        }
        Ok(StoppingRule {
            target,
            min_trials,
            grid: None,
        })
    }

    /// The rule of a stratified run whose chunks have `grid`: it stops at the first chunk
    /// boundary with at least [`MIN_CHUNKS_FOR_TARGET`] chunks whose Student-t half-width is at
    /// most `target` ([`Replicates::target_met`]); its minimum sample is those chunks' trials.
    /// Refuses the targets [`StoppingRule::new`] refuses.
    pub fn stratified(target: f64, grid: Grid) -> Result<Self, TargetError> {
        let rule = StoppingRule::new(target)?;
        Ok(StoppingRule {
            min_trials: MIN_CHUNKS_FOR_TARGET.saturating_mul(grid.trials()),
            grid: Some(grid),
            ..rule
        })
    }

    /// The grid of a stratified rule; `None` for the plain one.
    pub fn grid(&self) -> Option<Grid> {
        self.grid
    }

    /// The target half-width.
    pub fn target(&self) -> f64 {
        self.target
    }

    /// The minimum sample.
    pub fn min_trials(&self) -> u64 {
        self.min_trials
    }

    /// Whether the half-width of a prefix of `trials` trials with `inside` inside meets the
    /// target (whatever its length).
    pub fn is_met(&self, inside: u64, trials: u64) -> bool {
        trials > 0 && half_width(inside, trials) <= self.target
    }

    /// Whether a run may stop at a boundary whose prefix holds `trials` trials with `inside`
    /// inside: at least the minimum sample, and the target met.
    pub fn may_stop(&self, inside: u64, trials: u64) -> bool {
        trials >= self.min_trials && self.is_met(inside, trials)
    }

    /// Whether a run may stop at the boundary that ends `prefix`: the one question a growing
    /// run asks at every chunk boundary, in index order.
    pub fn stops_at(&self, prefix: &PrefixCounts) -> bool {
        match self.grid {
            None => self.may_stop(prefix.inside, prefix.trials),
            Some(grid) => prefix.replicates().target_met(grid, self.target),
        }
    }

    /// Whether some boundary inside a span of `chunks` chunks of `trials` trials in all, whose
    /// own counts are unknown (one cached span following `before`), might be a stop. When this says yes, the runner counts the span's chunks one by one.
    ///
    /// Plain: inner prefixes hold fewer trials than the span's end and an inside fraction
    /// between `before.inside / end` and `(before.inside + trials) / end`; the half-width falls
    /// with the trials and is unimodal in the fraction, so its least possible value is at the
    /// end's trials and one end of that range.
    ///
    /// Stratified: only boundaries with at least [`MIN_CHUNKS_FOR_TARGET`] chunks may stop, and
    /// the half-width there is at least [`Replicates::least_half_width`] at the last inner
    /// boundary.
    pub fn might_stop_within(&self, before: &PrefixCounts, chunks: u64, trials: u64) -> bool {
        if let Some(grid) = self.grid {
            let last_inner = before.chunks + chunks.saturating_sub(1);
            if chunks < 2 || last_inner < MIN_CHUNKS_FOR_TARGET {
                return false;
            }
            let least = before.replicates().least_half_width(grid, last_inner);
            // A margin far wider than the rounding of the two computations.
            return least * (1.0 - 1e-9) <= self.target;
        }
        let end = before.trials + trials;
        // Inner boundaries hold fewer trials than the end: none reaches the minimum sample.
        if end <= self.min_trials {
            return false;
        }
        let n = end as f64;
        let low = before.inside as f64 / n;
        let high = ((before.inside + trials) as f64 / n).min(1.0);
        half_width_at(low, n).min(half_width_at(high, n)) <= self.target
    }
}

/// What a stopping rule reads of a growing run: its chunk counts, pushed one chunk at a time in
/// index order. A rule that needs more of the counts than their sums (such as their spread
/// between chunks) gets its statistics here, updated in [`PrefixCounts::push`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrefixCounts {
    /// Chunks in the prefix.
    pub chunks: u64,
    /// Trials in the prefix.
    pub trials: u64,
    /// Trials inside the quarter circle.
    pub inside: u64,
    /// `Σc²` over the chunks (what a stratified run's spread comes from).
    pub inside_squares: u128,
}

impl PrefixCounts {
    /// Appends the next chunk: `trials` trials, `inside` of them inside.
    pub fn push(&mut self, inside: u64, trials: u64) {
        self.chunks += 1;
        self.trials += trials;
        self.inside += inside;
        self.inside_squares += u128::from(inside) * u128::from(inside);
    }

    /// Appends `chunks` chunks known only by their sums (a cached span): `inside`, and `Σc²`
    /// where the cache keeps it (stratified spans; 0 for plain ones, whose rule never reads it).
    pub fn push_span(&mut self, chunks: u64, inside: u64, squares: u128, trials: u64) {
        self.chunks += chunks;
        self.trials += trials;
        self.inside += inside;
        self.inside_squares += squares;
    }

    /// The prefix's sums as replicates (meaningful for stratified runs only).
    pub fn replicates(&self) -> Replicates {
        Replicates {
            chunks: self.chunks,
            inside: self.inside,
            inside_squares: self.inside_squares,
        }
    }
}

/// The most trials the target can need, whatever p is: the half-width on π is at most
/// `2z/√n` (p(1 − p) ≤ 1/4), plus Wilson's small-n term, so `n = (2z/E)² + 2z²` (with a
/// margin for rounding) always meets it. `None` when that does not fit in 64 bits.
pub fn trials_bound(target: f64) -> Option<u64> {
    let n = (2.0 * Z95 / target).powi(2) * (1.0 + 1e-6) + 2.0 * Z95 * Z95 + 1.0;
    // u64::MAX as f64 rounds up to 2^64, so `<` keeps the conversion in range.
    (n.is_finite() && n < u64::MAX as f64).then(|| n.ceil() as u64)
}

/// About how many trials a target takes when p = π/4: `(4z·√(p(1 − p)) / E)²`. Only for
/// display (the progress bar's length, a hint): the rule itself never assumes p.
pub fn expected_trials(target: f64) -> f64 {
    let p = std::f64::consts::FRAC_PI_4;
    (4.0 * Z95 * (p * (1.0 - p)).sqrt() / target).powi(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stratified_span_that_holds_a_stop_is_always_counted_again() {
        use crate::sampler::{Design, Kernel, count_design_chunk};
        // Real chunk counts; every span (start, length) of a 120-chunk run is asked whether it
        // might hold a stop, and each that does hold one must get a yes.
        let grid = Grid::new(4).unwrap();
        let design = Design::Stratified(grid);
        let (mut yes, mut no, mut holding) = (0, 0, 0);
        for seed in 0..6 {
            let counts: Vec<u64> = (0..120)
                .map(|i| count_design_chunk(Kernel::Scalar, design, seed, i, grid.trials()))
                .collect();
            let prefix = |m: usize| {
                let mut p = PrefixCounts::default();
                for &c in &counts[..m] {
                    p.push(c, grid.trials());
                }
                p
            };
            // A target met somewhere between 20 and 120 chunks for these counts.
            let full = prefix(120).replicates().summary(grid).unwrap().half_width;
            let rule = StoppingRule::stratified(full * 1.3, grid).unwrap();
            for start in 1..110 {
                for len in 2..=10 {
                    let before = prefix(start);
                    let holds = (start + 1..start + len).any(|m| rule.stops_at(&prefix(m)));
                    let trials = len as u64 * grid.trials();
                    let says = rule.might_stop_within(&before, len as u64, trials);
                    assert!(!holds || says, "seed {seed}: chunks {start}..+{len}");
                    holding += u32::from(holds);
                    if says {
                        yes += 1;
                    } else {
                        no += 1;
                    }
                }
            }
        }
        // The bound also rules spans out (about half of these, most far from the stop), or it
        // would be no use.
        assert!(3 * no > no + yes, "{no} ruled out, {yes} counted again");
        assert!(holding > 100, "only {holding} spans hold a stop");
    }

    #[test]
    fn the_t_quantile_never_rises_with_the_degrees_of_freedom() {
        // The bound of a span's inner boundaries relies on it, across statrs and the expansion.
        use super::super::replicates::t_quantile;
        let q: Vec<f64> = (1..=5000).map(t_quantile).collect();
        assert!(
            q.windows(2).all(|w| w[1] <= w[0]),
            "t quantiles rise somewhere"
        );
    }

    #[test]
    fn half_width_is_half_the_wilson_interval() {
        let [lo, hi] = wilson_interval(785_398, 1_000_000, Z95);
        assert_eq!(half_width(785_398, 1_000_000), (hi - lo) / 2.0);
        // About 1.96 · 1.6422 / √n on π.
        let hw = half_width(785_398, 1_000_000);
        assert!((hw - 3.2187e-3).abs() < 1e-6, "{hw}");
    }

    #[test]
    fn targets_are_validated() {
        assert!(matches!(
            StoppingRule::new(0.0),
            Err(TargetError::NotPositive(_))
        ));
        assert!(matches!(
            StoppingRule::new(-1e-3),
            Err(TargetError::NotPositive(_))
        ));
        assert!(matches!(
            StoppingRule::new(f64::NAN),
            Err(TargetError::NotPositive(_))
        ));
        assert!(matches!(
            StoppingRule::new(5e-9),
            Err(TargetError::BelowLatticeBias(_))
        ));
        assert!(StoppingRule::new(MIN_TARGET).is_ok());
        assert!(StoppingRule::new(10.0).is_ok());
        let message = StoppingRule::new(1e-9).unwrap_err().to_string();
        assert!(message.contains("lattice bias"), "{message}");
    }

    #[test]
    fn the_trial_bound_always_meets_the_target_and_fits_at_the_floor() {
        for target in [1e-2, 1e-4, 1e-6, MIN_TARGET] {
            let n = trials_bound(target).unwrap();
            // The worst case p = 1/2.
            assert!(half_width(n / 2, n) <= target, "{target}");
            assert!(expected_trials(target) < n as f64);
        }
        assert_eq!(trials_bound(1e-12), None);
        assert_eq!(trials_bound(0.0), None);
        // The example: 1e-5 takes about 1e11 trials.
        let n = expected_trials(1e-5);
        assert!((1.0e11..1.1e11).contains(&n), "{n}");
    }

    #[test]
    fn the_rule_waits_for_the_minimum_sample() {
        let rule = StoppingRule::with_min_trials(0.1, 10_000).unwrap();
        // 7854 of 10,000 inside: half-width ≈ 0.032, below 0.1.
        assert!(rule.is_met(7_854, 10_000));
        assert!(rule.may_stop(7_854, 10_000));
        assert!(rule.is_met(1_571, 2_000));
        assert!(!rule.may_stop(1_571, 2_000));
        // A lucky start (all inside) has a narrow interval: the minimum sample keeps it going.
        let tight = StoppingRule::with_min_trials(0.05, 10_000).unwrap();
        assert!(tight.is_met(200, 200));
        assert!(!tight.may_stop(200, 200));
        assert_eq!(rule.target(), 0.1);
        assert_eq!(rule.min_trials(), 10_000);
    }
}
