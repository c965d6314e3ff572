//! The darts behind an estimate: the exact points of a plan's first trials, for drawing.
//!
//! Trial `t` of chunk `c` is the word the sampler's algorithm gives it ([`crate::sampler`]:
//! lane `t mod 12` of chunk `c`'s streams), turned into the lower-left corner
//! `(x, y) = (w >> 32, w mod 2^32) / 2^32` of its lattice cell, and it is inside exactly when
//! the kernels count it inside. So the inside count of [`throw`] equals the `inside` of an
//! estimate of the same trials, seed and chunk size.

use crate::Error;
use crate::plan::Plan;
use crate::sampler::{chunk_words, is_inside};
use crate::stats;

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

    /// The 95% Wilson interval for π from these points.
    pub fn ci95(&self) -> [f64; 2] {
        stats::wilson_interval(self.inside, self.trials(), stats::Z95)
    }

    /// The 95% half-width of the estimate.
    pub fn half_width(&self) -> f64 {
        stats::stopping::half_width(self.inside, self.trials())
    }
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
        points,
        inside,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::{Kernel, count_chunk};

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
