//! The scalar kernel ([`Kernel::Scalar`](super::Kernel::Scalar)), the reference: one
//! `rand_xoshiro` generator per lane, stepped in trial order. It is the algorithm written as
//! plainly as possible; every faster kernel is tested against it.

use super::{Design, LANES, LaneStates, is_inside};
use rand_xoshiro::rand_core::Rng;

/// Counts the inside trials among trials `first_trial..first_trial + trials` of a chunk whose
/// lanes are at `states`, and advances them.
pub fn count(states: &mut LaneStates, design: Design, first_trial: u64, trials: u64) -> u64 {
    match design {
        // Apart so that the plain loop stays as it always was.
        Design::Plain => count_points(states, first_trial, trials, |_, w| w),
        Design::Stratified(grid) => {
            count_points(states, first_trial, trials, |t, w| grid.point(t, w))
        }
    }
}

/// The count with trial `t`'s word `w` made into a point by `point(t, w)`.
#[inline(always)]
fn count_points(
    states: &mut LaneStates,
    first_trial: u64,
    trials: u64,
    point: impl Fn(u64, u64) -> u64,
) -> u64 {
    let mut lanes: [_; LANES] = std::array::from_fn(|l| states.lane(l));
    let mut inside = 0;
    for t in first_trial..first_trial + trials {
        // `t % LANES` is below LANES, so the index conversion is lossless.
        let lane = (t % LANES as u64) as usize;
        inside += u64::from(is_inside(point(t, lanes[lane].next_u64())));
    }
    for (l, rng) in lanes.iter().enumerate() {
        states.set_lane(l, rng);
    }
    inside
}
