//! The darts behind an estimate: the exact points of a plan's first trials, for drawing.
//!
//! Trial `t` of chunk `c` is the word the sampler's algorithm gives it ([`crate::sampler`]:
//! lane `t mod 12` of chunk `c`'s streams), turned into the lower-left corner
//! `(x, y) = (w >> 32, w mod 2^32) / 2^32` of its lattice cell, and it is inside exactly when
//! the kernels count it inside. So the inside count of [`throw`] equals the `inside` of an
//! estimate of the same trials, seed and chunk size.
//!
//! [`throw_stratified`] throws one stratified chunk instead: `4^k` darts, one in each cell of
//! its `2^k × 2^k` grid ([`crate::sampler::Grid::point`]), the chunk an estimate with
//! `--method stratified --chunk-size 4^k` counts first. Its interval comes from
//! [`crate::stats::replicates`]: one chunk has no spread to estimate, so it is Hoeffding's bound.

use crate::Error;
use crate::plan::Plan;
use crate::sampler::{Grid, chunk_words, is_inside};
use crate::stats;
use crate::stats::replicates::{ReplicateSummary, Replicates};

/// One trial as a point of the unit square.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dart {
    /// Horizontal coordinate in `[0, 1)`.
    pub x: f64,
    /// Vertical coordinate in `[0, 1)`.
    pub y: f64,
    /// Whether the trial counts as inside the quarter circle (the kernels' exact test).
    pub inside: bool,
}

impl Dart {
    /// The dart of the sampler's word `w`.
    pub fn from_word(w: u64) -> Self {
        const SCALE: f64 = 1.0 / 4_294_967_296.0;
        Dart {
            x: (w >> 32) as f64 * SCALE,
            y: (w & 0xFFFF_FFFF) as f64 * SCALE,
            inside: is_inside(w),
        }
    }
}

/// The darts of a run: every point of its plan, and the estimate they make.
#[derive(Clone, Debug, PartialEq)]
pub struct Darts {
    /// The seed of the streams.
    pub seed: u64,
    /// Trials per chunk of the plan.
    pub chunk_size: u64,
    /// The grid of a stratified chunk (one dart per cell); `None` for plain darts.
    pub grid: Option<Grid>,
    /// The darts asked for; fewer than the points when a stratified chunk rounded them up.
    pub requested: u64,
    /// The points, in plan order (chunk after chunk, trials in order within a chunk).
    pub points: Vec<Dart>,
    /// How many points are inside.
    pub inside: u64,
}

impl Darts {
    /// Trials thrown.
    pub fn trials(&self) -> u64 {
        self.points.len() as u64
    }

    /// The estimate of π from these points.
    pub fn pi(&self) -> f64 {
        stats::pi_estimate(self.inside, self.trials())
    }

    /// The 95% interval for π from these points: Wilson's for plain darts, Hoeffding's bound
    /// for a stratified chunk.
    pub fn ci95(&self) -> [f64; 2] {
        match self.stratified_summary() {
            Some(s) => s.interval,
            None => stats::wilson_interval(self.inside, self.trials(), stats::Z95),
        }
    }

    /// The 95% half-width of the estimate (for a stratified chunk, of Hoeffding's bound).
    pub fn half_width(&self) -> f64 {
        match self.stratified_summary() {
            Some(s) => s.half_width,
            None => stats::stopping::half_width(self.inside, self.trials()),
        }
    }

    /// The summary of a stratified chunk as one replicate; `None` for plain darts.
    pub fn stratified_summary(&self) -> Option<ReplicateSummary> {
        self.grid
            .and_then(|g| Replicates::of_chunk(self.inside).summary(g))
    }
}

/// The largest stratified chunk [`throw_stratified`] throws: `4^8 = 65,536` darts, a 256 × 256
/// grid.
pub const MAX_STRATIFIED_K: u32 = 8;

/// The grid of the stratified chunk that holds at least `darts` darts: `4^k` rounded up, at
/// least `4^1`; `None` above `4^`[`MAX_STRATIFIED_K`].
pub fn stratified_grid(darts: u64) -> Option<Grid> {
    Grid::all()
        .take_while(|g| g.k() <= MAX_STRATIFIED_K)
        .find(|g| g.trials() >= darts)
}

/// Throws every trial of `plan` for `seed`: the very points an estimate of the plan counts.
/// Holds one point per trial, so keep plans small (the command line allows 100,000).
pub fn throw(plan: &Plan, seed: u64) -> Result<Darts, Error> {
    let n = usize::try_from(plan.trials())
        .map_err(|_| Error::InvalidConfig("too many darts to hold in memory".into()))?;
    let mut points = Vec::new();
    points
        .try_reserve_exact(n)
        .map_err(|_| Error::InvalidConfig(format!("cannot hold {n} darts in memory")))?;
    for chunk in plan.iter() {
        let words = chunk_words(seed, chunk.index).take(chunk.trials as usize);
        points.extend(words.map(Dart::from_word));
    }
    let inside = points.iter().filter(|d| d.inside).count() as u64;
    Ok(Darts {
        seed,
        chunk_size: plan.chunk_size(),
        grid: None,
        requested: plan.trials(),
        points,
        inside,
    })
}

/// Throws the first stratified chunk of `seed` that holds at least `darts` darts: `4^k` darts
/// (see [`stratified_grid`]), one per cell, the very points `piest --method stratified -n 4^k
/// --chunk-size 4^k --seed seed` counts.
pub fn throw_stratified(darts: u64, seed: u64) -> Result<Darts, Error> {
    let grid = stratified_grid(darts).ok_or_else(|| {
        Error::InvalidConfig(format!(
            "at most 4^{MAX_STRATIFIED_K} = {} stratified darts, not {darts}",
            1u64 << (2 * MAX_STRATIFIED_K)
        ))
    })?;
    let points: Vec<Dart> = chunk_words(seed, 0)
        .zip(0..grid.trials())
        .map(|(w, t)| Dart::from_word(grid.point(t, w)))
        .collect();
    let inside = points.iter().filter(|d| d.inside).count() as u64;
    Ok(Darts {
        seed,
        chunk_size: grid.trials(),
        grid: Some(grid),
        requested: darts,
        points,
        inside,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::{Design, Kernel, count_chunk, count_design_chunk};

    #[test]
    fn darts_count_what_the_kernels_count() {
        for (trials, chunk) in [(2_000, 4_194_304), (2_000, 300), (1_001, 7), (5, 1)] {
            let plan = Plan::new(trials, chunk).unwrap();
            let darts = throw(&plan, 11).unwrap();
            let expected: u64 = plan
                .iter()
                .map(|c| count_chunk(Kernel::best(), 11, c.index, c.trials))
                .sum();
            assert_eq!(darts.trials(), trials);
            assert_eq!(darts.inside, expected, "{trials} in chunks of {chunk}");
        }
    }

    #[test]
    fn points_lie_in_the_unit_square_and_inside_means_inside() {
        let darts = throw(&Plan::new(5_000, 1000).unwrap(), 3).unwrap();
        for d in &darts.points {
            assert!((0.0..1.0).contains(&d.x) && (0.0..1.0).contains(&d.y));
            // The exact test and the real circle agree away from the rim.
            let r2 = d.x * d.x + d.y * d.y;
            if (r2 - 1.0).abs() > 1e-9 {
                assert_eq!(d.inside, r2 < 1.0);
            }
        }
        assert!((darts.pi() - std::f64::consts::PI).abs() < 0.1);
        let [lo, hi] = darts.ci95();
        assert!((darts.half_width() - (hi - lo) / 2.0).abs() < 1e-15);
    }

    #[test]
    fn stratified_darts_count_what_the_kernels_count_one_per_cell() {
        for (asked, k) in [(1, 1), (4, 1), (5, 2), (1000, 5), (1024, 5), (65_536, 8)] {
            let darts = throw_stratified(asked, 7).unwrap();
            let grid = darts.grid.unwrap();
            assert_eq!(grid.k(), k, "{asked} darts");
            assert_eq!((darts.trials(), darts.requested), (grid.trials(), asked));
            let expected = count_design_chunk(
                Kernel::best(),
                Design::Stratified(grid),
                7,
                0,
                grid.trials(),
            );
            assert_eq!(darts.inside, expected, "{asked} darts");
            // One dart in each cell.
            let cells = grid.cells_per_axis();
            let mut seen = vec![false; grid.trials() as usize];
            for d in &darts.points {
                let (i, j) = ((d.x * cells as f64) as u64, (d.y * cells as f64) as u64);
                assert!(!std::mem::replace(
                    &mut seen[(i * cells + j) as usize],
                    true
                ));
            }
            let s = darts.stratified_summary().unwrap();
            assert_eq!(s.method.name(), "hoeffding");
            assert_eq!(darts.half_width(), s.half_width);
        }
        assert!(throw_stratified(65_537, 0).is_err());
        assert_eq!(stratified_grid(0).map(Grid::k), Some(1));
    }

    #[test]
    fn corners_map_exactly() {
        assert_eq!(
            Dart::from_word(0),
            Dart {
                x: 0.0,
                y: 0.0,
                inside: true
            }
        );
        let far = Dart::from_word(u64::MAX);
        assert!(!far.inside && far.x < 1.0 && far.y < 1.0);
    }
}
