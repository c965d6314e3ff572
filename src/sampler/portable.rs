//! The portable kernel: all lanes advanced together in plain arrays, a shape the compiler's
//! auto-vectorizer handles on any target. Counts are identical to the reference kernel.

use super::{Grid, LANES, LaneStates, is_inside};

/// One xoshiro256++ step of every lane; returns each lane's output.
#[inline(always)]
fn step(s: &mut [[u64; LANES]; 4]) -> [u64; LANES] {
    std::array::from_fn(|l| step_lane(s, l))
}

/// One xoshiro256++ step of lane `l` alone; returns its output.
#[inline(always)]
pub(super) fn step_lane(s: &mut [[u64; LANES]; 4], l: usize) -> u64 {
    let out = s[0][l]
        .wrapping_add(s[3][l])
        .rotate_left(23)
        .wrapping_add(s[0][l]);
    let t = s[1][l] << 17;
    s[2][l] ^= s[0][l];
    s[3][l] ^= s[1][l];
    s[1][l] ^= s[2][l];
    s[0][l] ^= s[3][l];
    s[2][l] ^= t;
    s[3][l] = s[3][l].rotate_left(45);
    out
}

/// Counts the inside trials among the next `trials` trials of `states` and advances them.
pub fn count(states: &mut LaneStates, trials: u64) -> u64 {
    let rounds = trials / LANES as u64;
    // Below LANES, so lossless.
    let rest = (trials % LANES as u64) as usize;
    let mut s = states.s;
    // Per-lane counters keep the inner loop free of cross-lane reductions.
    let mut outside = [0u64; LANES];
    for _ in 0..rounds {
        let words = step(&mut s);
        for l in 0..LANES {
            outside[l] += u64::from(!is_inside(words[l]));
        }
    }
    let mut inside = rounds * LANES as u64 - outside.iter().sum::<u64>();
    for l in 0..rest {
        inside += u64::from(is_inside(step_lane(&mut s, l)));
    }
    states.s = s;
    inside
}

/// Counts the inside trials among trials `first_trial..first_trial + trials` of a stratified
/// chunk on `grid` whose lanes are at `states`, and advances them. `first_trial` is a multiple of
/// [`LANES`] unless `trials` is 0.
pub fn count_stratified(states: &mut LaneStates, grid: Grid, first_trial: u64, trials: u64) -> u64 {
    debug_assert!(trials == 0 || first_trial.is_multiple_of(LANES as u64));
    let rounds = trials / LANES as u64;
    // Below LANES, so lossless.
    let rest = (trials % LANES as u64) as usize;
    let k = grid.k();
    // The low 32 − k bits of each half: `w >> k` masked is `(w >> 32 >> k) << 32 | (w mod 2^32) >> k`.
    let halves = ((1u64 << (32 - k)) - 1) * 0x1_0000_0001;
    let mut s = states.s;
    let mut outside = [0u64; LANES];
    let mut t = first_trial;
    for _ in 0..rounds {
        let words = step(&mut s);
        for l in 0..LANES {
            let point = (words[l] >> k) & halves | grid.corner(t + l as u64);
            outside[l] += u64::from(!is_inside(point));
        }
        t += LANES as u64;
    }
    let mut inside = rounds * LANES as u64 - outside.iter().sum::<u64>();
    for l in 0..rest {
        inside += u64::from(is_inside(grid.point(t + l as u64, step_lane(&mut s, l))));
    }
    states.s = s;
    inside
}
