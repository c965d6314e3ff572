//! The scalar kernel ([`Kernel::Scalar`](super::Kernel::Scalar)), the reference: one
//! `rand_xoshiro` generator per lane, stepped in trial order. It is the algorithm written as
//! plainly as possible; every faster kernel is tested against it.

use super::{LANES, LaneStates, is_inside};
use rand_xoshiro::rand_core::Rng;

/// Counts the inside trials among the next `trials` trials of `states` and advances them.
pub fn count(states: &mut LaneStates, trials: u64) -> u64 {
    let mut lanes: [_; LANES] = std::array::from_fn(|l| states.lane(l));
    let mut inside = 0;
    for t in 0..trials {
        // `t % LANES` is below LANES, so the index conversion is lossless.
        let lane = (t % LANES as u64) as usize;
        inside += u64::from(is_inside(lanes[lane].next_u64()));
    }
    for (l, rng) in lanes.iter().enumerate() {
        states.set_lane(l, rng);
    }
    inside
}
