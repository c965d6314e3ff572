//! The convergence series of an estimate: the estimate and its 95% interval at a few dozen
//! log-spaced prefixes of the run. Pure functions and data.
//!
//! Checkpoints sit on a fixed grid of trial counts, [`PER_DECADE`] per decade from
//! [`FIRST_POINT`] (100, 177, 316, 562, 1000, ...). A prefix is known exactly only where the
//! run's counts are known: at chunk boundaries, and inside the first chunk (whose trials the
//! runner can count in pieces). So a grid value below the first chunk boundary becomes a point
//! at that many trials (rounded up to whole rounds of the sampler's lanes), and a grid value
//! above it becomes a point at the first chunk boundary at or above it. The run's last
//! boundary is always the last point, so the series ends at the reported estimate. A run of
//! 1.8e19 trials has at most 71 points; nothing is kept per chunk.

use serde::Serialize;

use super::replicates::Replicates;
use super::{Z95, pi_estimate, wilson_interval};
use crate::sampler::Grid;

/// Grid points per decade of trials.
pub const PER_DECADE: u32 = 4;

/// The first grid value: 100 trials.
pub const FIRST_POINT: u64 = 100;

/// 10^(r/4) for r = 0..4, times 1000, rounded: the grid's mantissas.
const MANTISSAS: [u128; PER_DECADE as usize] = [1000, 1778, 3162, 5623];

/// One point of the series: the estimate of a prefix of the run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ConvergencePoint {
    /// Trials in the prefix.
    pub trials: u64,
    /// The prefix's estimate of π.
    pub pi: f64,
    /// The prefix's 95% interval for π, `[low, high]`: Wilson for a plain run, the report's
    /// (Student-t from the spread between chunks) for a stratified one.
    pub ci95: [f64; 2],
}

impl ConvergencePoint {
    /// The point of a prefix of `trials` trials (at least 1) with `inside` inside.
    pub fn new(inside: u64, trials: u64) -> Self {
        ConvergencePoint {
            trials,
            pi: pi_estimate(inside, trials),
            ci95: wilson_interval(inside, trials, Z95),
        }
    }
}

impl ConvergencePoint {
    /// The point of a stratified prefix of whole chunks of `grid` with sums `r`: its estimate
    /// and interval as the report gives them ([`Replicates::summary`]); `None` below two chunks
    /// (no spread to estimate) or for inconsistent sums.
    pub fn of_replicates(r: &Replicates, grid: Grid) -> Option<Self> {
        if r.chunks < 2 {
            return None;
        }
        let s = r.summary(grid)?;
        Some(ConvergencePoint {
            trials: r.chunks.checked_mul(grid.trials())?,
            pi: s.pi,
            ci95: s.interval,
        })
    }
}

/// Grid value `j`: `FIRST_POINT · 10^(j / PER_DECADE)`, rounded; `None` past `u64::MAX`.
pub fn grid(j: u32) -> Option<u64> {
    let decades = j / PER_DECADE;
    let mantissa = MANTISSAS[(j % PER_DECADE) as usize];
    let scale = 10u128.checked_pow(decades)?;
    let value = u128::from(FIRST_POINT)
        .checked_mul(mantissa)?
        .checked_mul(scale)?
        / 1000;
    u64::try_from(value).ok()
}

/// The grid values strictly below `limit`, in order.
pub fn grid_below(limit: u64) -> impl Iterator<Item = u64> {
    (0..)
        .map_while(grid)
        .take_while(move |&value| value < limit)
}

/// The first chunk boundary after chunk `after` that answers a grid value in plans of
/// `chunk_size` trials per chunk (the boundaries [`boundaries`] gives at step 1, whatever the
/// plan's length); `None` past the grid. A stratified cache span never crosses one, so a run
/// that reads it still reaches every point of its series.
pub fn next_boundary(chunk_size: u64, after: u64) -> Option<u64> {
    (0..)
        .map_while(grid)
        .map(|value| value.div_ceil(chunk_size.max(1)).max(1))
        .find(|&k| k > after)
}

/// Builds the series from prefixes fed in increasing order of trials: each grid value is
/// answered by the first prefix at or above it.
#[derive(Clone, Debug, Default)]
pub struct SeriesBuilder {
    points: Vec<ConvergencePoint>,
    /// Index of the next grid value to answer.
    next: u32,
    /// The chunks' grid of a stratified run: points only at whole chunks, from two on, with
    /// the t interval ([`SeriesBuilder::offer_replicates`]).
    grid: Option<Grid>,
}

impl SeriesBuilder {
    /// An empty series.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty series of a stratified run with chunks of `grid` (`None`: a plain run).
    pub fn for_grid(grid: Option<Grid>) -> Self {
        SeriesBuilder {
            grid,
            ..Self::default()
        }
    }

    /// Offers the prefix of `trials` trials in whole chunks with sums `r`: as
    /// [`SeriesBuilder::offer`], with the stratified point ([`ConvergencePoint::of_replicates`])
    /// when the series has a grid.
    pub fn offer_replicates(&mut self, r: &Replicates, trials: u64) {
        let Some(grid) = self.grid else {
            return self.offer(r.inside, trials);
        };
        if self.answers(trials)
            && let Some(point) = ConvergencePoint::of_replicates(r, grid)
        {
            self.push_point(point);
        }
    }

    /// Ends a stratified series at the run's sums `r` (see [`SeriesBuilder::finish`]).
    pub fn finish_replicates(mut self, r: &Replicates, trials: u64) -> Vec<ConvergencePoint> {
        match self.grid {
            None => self.finish(r.inside, trials),
            Some(grid) => {
                if let Some(point) = ConvergencePoint::of_replicates(r, grid) {
                    self.push_point(point);
                }
                self.points
            }
        }
    }

    /// Whether a prefix of `trials` answers one or more grid values (consuming them).
    fn answers(&mut self, trials: u64) -> bool {
        let mut answered = false;
        while let Some(value) = grid(self.next) {
            if value > trials {
                break;
            }
            answered = true;
            self.next += 1;
        }
        answered
    }

    fn push_point(&mut self, point: ConvergencePoint) {
        match self.points.last() {
            Some(last) if last.trials >= point.trials => {}
            _ => self.points.push(point),
        }
    }

    /// Offers the prefix of `trials` trials with `inside` inside; it becomes a point if it is
    /// the first at or above one or more grid values. Prefixes must come in increasing order.
    pub fn offer(&mut self, inside: u64, trials: u64) {
        if self.answers(trials) {
            self.push(inside, trials);
        }
    }

    /// Ends the series at the run's last prefix, which becomes the last point.
    pub fn finish(mut self, inside: u64, trials: u64) -> Vec<ConvergencePoint> {
        if trials > 0 {
            self.push(inside, trials);
        }
        self.points
    }

    fn push(&mut self, inside: u64, trials: u64) {
        self.push_point(ConvergencePoint::new(inside, trials));
    }
}

/// The chunk boundaries (chunk counts `k`, the prefix of chunks `0..k`) that answer the grid
/// values in a plan of `chunks` chunks of `chunk_size`, when only boundaries at multiples of
/// `step` chunks (and the last) are offered, plus the last boundary: where a run of known length
/// must take its checkpoint sums. Matches what [`SeriesBuilder`] keeps when fed those boundaries.
pub fn boundaries(chunk_size: u64, chunks: u64, step: u64) -> Vec<u64> {
    let step = step.max(1);
    let mut out: Vec<u64> = (0..)
        .map_while(grid)
        .map(|value| {
            value
                .div_ceil(chunk_size)
                .div_ceil(step)
                .max(1)
                .saturating_mul(step)
        })
        .take_while(|&k| k < chunks)
        .collect();
    out.push(chunks);
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_has_four_points_per_decade() {
        let first: Vec<u64> = (0..9).map(|j| grid(j).unwrap()).collect();
        assert_eq!(first, [100, 177, 316, 562, 1000, 1778, 3162, 5623, 10_000]);
        assert_eq!(grid(68), Some(10_000_000_000_000_000_000));
        assert_eq!(grid(69), Some(17_780_000_000_000_000_000));
        assert_eq!(grid(70), None);
        assert_eq!(grid_below(1000).count(), 4);
        assert_eq!(grid_below(u64::MAX).count(), 70);
    }

    #[test]
    fn a_builder_keeps_the_first_prefix_at_or_above_each_grid_value() {
        let mut b = SeriesBuilder::new();
        for k in 1..=25u64 {
            b.offer(k * 78, k * 100);
        }
        let points = b.finish(25 * 78, 2_500);
        let trials: Vec<u64> = points.iter().map(|p| p.trials).collect();
        assert_eq!(trials, [100, 200, 400, 600, 1000, 1800, 2500]);
        assert_eq!(points.last().unwrap().pi, 4.0 * 78.0 / 100.0);
    }

    #[test]
    fn boundaries_agree_with_the_builder() {
        for (chunk_size, chunks) in [(100, 25), (1, 5000), (4_194_304, 24), (7, 1), (1000, 1)] {
            let mut b = SeriesBuilder::new();
            for k in 1..=chunks {
                b.offer(0, k * chunk_size);
            }
            let kept: Vec<u64> = b
                .finish(0, chunks * chunk_size)
                .iter()
                .map(|p| p.trials / chunk_size)
                .collect();
            assert_eq!(
                kept,
                boundaries(chunk_size, chunks, 1),
                "{chunk_size} {chunks}"
            );
        }
    }

    #[test]
    fn boundaries_on_a_coarser_step_agree_with_the_builder_fed_that_step() {
        let (chunk_size, chunks, step) = (100, 1000, 7);
        let mut b = SeriesBuilder::new();
        for k in (1..=chunks).filter(|k| k % step == 0 || *k == chunks) {
            b.offer(0, k * chunk_size);
        }
        let kept: Vec<u64> = b
            .finish(0, chunks * chunk_size)
            .iter()
            .map(|p| p.trials / chunk_size)
            .collect();
        assert_eq!(kept, boundaries(chunk_size, chunks, step));
    }

    #[test]
    fn a_finished_series_ends_at_the_last_prefix_once() {
        let mut b = SeriesBuilder::new();
        b.offer(80, 100);
        let points = b.finish(80, 100);
        assert_eq!(points.len(), 1);
        assert_eq!(points[0], ConvergencePoint::new(80, 100));
        assert!(SeriesBuilder::new().finish(0, 0).is_empty());
    }
}
