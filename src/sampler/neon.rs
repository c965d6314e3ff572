//! The NEON kernel (aarch64 only; NEON is part of the base architecture there, so no run-time
//! detection is needed): the twelve lanes as six pairs in 128-bit registers. Counts and final
//! states are identical to the reference kernel.
//!
//! # Design
//!
//! * **Generator, 12 instructions per pair of lanes.** NEON has no 64-bit vector rotate, but a
//!   rotate is two instructions, not three: `shl` by `r` and then `sri` (shift right and insert)
//!   by `64 − r` fills the low bits in place. The five xors stay five `eor` (the three-input
//!   `eor3` belongs to the optional SHA3 extension, which the base architecture lacks).
//! * **Inside test, 6 instructions per pair.** `uzp1`/`uzp2` split two pairs' words into their
//!   low halves (`y`) and high halves (`x`), and the widening multiplies `umull`/`umull2` square
//!   them straight into 64-bit elements. The carry out of `x² + y²` is an unsigned compare of
//!   the wrapped sum against `x²` (`cmhi`), whose all-ones "outside" masks are subtracted from
//!   vector counters: nothing leaves the vector registers inside the loop.
//!
//! Per round of 12 trials, from the release build's disassembly (`aarch64-linux-gnu-objdump -d`;
//! LLVM writes each rotate as `shl` + `usra` and the carry test as `mvn` + `cmhi`, the same
//! counts):
//!
//! | kernel | instructions per 12 trials | of which |
//! |---|---|---|
//! | `neon` | 126 | 108 NEON (72 generator, 36 inside test), 11 spill loads/stores, 5 moves, 2 loop |
//! | `portable` (compiled for aarch64) | 253 | 168 integer (24 `umull`), 77 loads/stores, 6 moves, 2 loop |
//!
//! The portable kernel stays scalar on aarch64: its 48 state words do not fit in 31 general
//! registers, hence the loads and stores. How the NEON kernel compares depends on the core,
//! unmeasured so far: with four 128-bit NEON pipes (Apple M-series, Neoverse V1 in Graviton 3)
//! its floor is 108 / 4 = 27 cycles per round, about 2.25 cycles per trial. Apple's cores also
//! decode 8 instructions and run 6 integer operations per cycle, which takes the portable
//! kernel to roughly 32 cycles per round, so the gain there may be only 1.2×; a 4-wide core
//! with fewer integer units (Neoverse V1, N1) leaves the portable kernel near 45–60 cycles, and
//! Neoverse N1 (Graviton 2) has only two NEON pipes (54 cycles).

use core::arch::aarch64::{
    uint64x2_t, vaddq_u64, vaddvq_u64, vbicq_u64, vcgtq_u64, vdupq_n_s32, vdupq_n_u64, veorq_u64,
    vget_low_u32, vld1q_u64, vmull_high_u32, vmull_u32, vorrq_u64, vreinterpretq_u32_u64,
    vreinterpretq_u64_u32, vshlq_n_u64, vshlq_u32, vsriq_n_u64, vst1q_u64, vsubq_u64, vuzp1q_u32,
    vuzp2q_u32,
};

use super::{Grid, LANES, LaneStates, is_inside, portable};

/// Pairs of lanes, one 128-bit register each.
const PAIRS: usize = LANES / 2;

/// Counts the inside trials among the next `trials` trials of `states` and advances them.
pub fn count(states: &mut LaneStates, trials: u64) -> u64 {
    // SAFETY: NEON is part of the base aarch64 architecture: every aarch64 CPU has it.
    unsafe { count_neon(states, trials) }
}

/// The kernel proper, compiled with NEON enabled (which the intrinsics ask of their callers).
#[target_feature(enable = "neon")]
fn count_neon(states: &mut LaneStates, trials: u64) -> u64 {
    let rounds = trials / LANES as u64;
    // Below LANES, so lossless.
    let rest = (trials % LANES as u64) as usize;

    // v[j][p]: word j of lanes 2p and 2p + 1.
    let mut v: [[uint64x2_t; PAIRS]; 4] = std::array::from_fn(|j| {
        std::array::from_fn(|p| {
            let lanes = &states.s[j][2 * p..2 * p + 2];
            // SAFETY: `lanes` is two consecutive u64 (16 bytes, the load's width).
            unsafe { vld1q_u64(lanes.as_ptr()) }
        })
    });

    // Two counters, so that consecutive subtractions do not wait on each other.
    let mut outside = [vdupq_n_u64(0); 2];
    for _ in 0..rounds {
        for p in (0..PAIRS).step_by(2) {
            let a = step(&mut v, p);
            let b = step(&mut v, p + 1);
            let [ma, mb] = outside_masks(a, b);
            outside[0] = vsubq_u64(outside[0], ma);
            outside[1] = vsubq_u64(outside[1], mb);
        }
    }

    let mut s = states.s;
    for (j, words) in v.iter().enumerate() {
        for (p, &pair) in words.iter().enumerate() {
            let lanes = &mut s[j][2 * p..2 * p + 2];
            // SAFETY: `lanes` is two consecutive u64 (16 bytes, the store's width).
            unsafe { vst1q_u64(lanes.as_mut_ptr(), pair) };
        }
    }
    let outside = vaddvq_u64(vaddq_u64(outside[0], outside[1]));
    let mut inside = rounds * LANES as u64 - outside;
    // The partial last round: lanes 0..rest, one step each, exactly as the reference.
    for l in 0..rest {
        inside += u64::from(is_inside(portable::step_lane(&mut s, l)));
    }
    states.s = s;
    inside
}

/// Counts the inside trials among trials `first_trial..first_trial + trials` of a stratified
/// chunk on `grid` (`k ≥ 4`) whose lanes are at `states`, and advances them. `first_trial` is a
/// multiple of [`LANES`] unless `trials` is 0.
///
/// The plain loop with three more instructions per pair of lanes, as in the AVX2 kernel
/// ([`Grid`]'s corners and their carry are explained there): `ushl` by `−k` shifts both 32-bit
/// halves of each word, `orr` puts in the cell's corner, `add` moves it on by a round.
pub fn count_stratified(states: &mut LaneStates, grid: Grid, first_trial: u64, trials: u64) -> u64 {
    assert!(grid.k() >= 4, "the column carry needs K > LANES");
    debug_assert!(trials == 0 || first_trial.is_multiple_of(LANES as u64));
    // SAFETY: NEON is part of the base aarch64 architecture: every aarch64 CPU has it.
    unsafe { count_stratified_neon(states, grid, first_trial, trials) }
}

/// The stratified kernel proper.
#[target_feature(enable = "neon")]
fn count_stratified_neon(states: &mut LaneStates, grid: Grid, first: u64, trials: u64) -> u64 {
    let lanes = LANES as u64;
    let rounds = trials / lanes;
    // Below LANES, so lossless.
    let rest = (trials % lanes) as usize;

    let mut v: [[uint64x2_t; PAIRS]; 4] = std::array::from_fn(|j| {
        std::array::from_fn(|p| {
            let lanes = &states.s[j][2 * p..2 * p + 2];
            // SAFETY: `lanes` is two consecutive u64 (16 bytes, the load's width).
            unsafe { vld1q_u64(lanes.as_ptr()) }
        })
    });
    let mut corner: [uint64x2_t; PAIRS] = std::array::from_fn(|p| {
        let c: [u64; 2] = std::array::from_fn(|e| grid.corner(first + (2 * p + e) as u64));
        // SAFETY: `c` is 16 bytes, the load's width.
        unsafe { vld1q_u64(c.as_ptr()) }
    });
    let step_by = vdupq_n_u64(grid.round_step());
    let gap = vdupq_n_u64(grid.gap());
    // A negative count shifts right; k ≤ 16, lossless.
    let shift = vdupq_n_s32(-(grid.k() as i32));
    let point = |w: uint64x2_t, c: uint64x2_t| {
        vorrq_u64(
            vreinterpretq_u64_u32(vshlq_u32(vreinterpretq_u32_u64(w), shift)),
            c,
        )
    };

    let mut outside = [vdupq_n_u64(0); 2];
    let mut t = first;
    let mut left = rounds;
    while left > 0 {
        let in_row = grid.rounds_in_row(t).min(left);
        for _ in 0..in_row {
            for p in (0..PAIRS).step_by(2) {
                let a = point(step(&mut v, p), corner[p]);
                let b = point(step(&mut v, p + 1), corner[p + 1]);
                corner[p] = vaddq_u64(corner[p], step_by);
                corner[p + 1] = vaddq_u64(corner[p + 1], step_by);
                let [ma, mb] = outside_masks(a, b);
                outside[0] = vsubq_u64(outside[0], ma);
                outside[1] = vsubq_u64(outside[1], mb);
            }
        }
        left -= in_row;
        t += in_row * lanes;
        if left > 0 {
            for p in (0..PAIRS).step_by(2) {
                let a = point(step(&mut v, p), corner[p]);
                let b = point(step(&mut v, p + 1), corner[p + 1]);
                for q in [p, p + 1] {
                    let carried = vaddq_u64(vorrq_u64(corner[q], gap), step_by);
                    corner[q] = vbicq_u64(carried, gap);
                }
                let [ma, mb] = outside_masks(a, b);
                outside[0] = vsubq_u64(outside[0], ma);
                outside[1] = vsubq_u64(outside[1], mb);
            }
            left -= 1;
            t += lanes;
        }
    }

    let mut s = states.s;
    for (j, words) in v.iter().enumerate() {
        for (p, &pair) in words.iter().enumerate() {
            let lanes = &mut s[j][2 * p..2 * p + 2];
            // SAFETY: `lanes` is two consecutive u64 (16 bytes, the store's width).
            unsafe { vst1q_u64(lanes.as_mut_ptr(), pair) };
        }
    }
    let outside = vaddvq_u64(vaddq_u64(outside[0], outside[1]));
    let mut inside = rounds * lanes - outside;
    // The partial last round: lanes 0..rest, one step each, exactly as the reference.
    for l in 0..rest {
        let word = portable::step_lane(&mut s, l);
        inside += u64::from(is_inside(grid.point(t + l as u64, word)));
    }
    states.s = s;
    inside
}

/// `v` rotated left by `L` bits in each element (`R` = 64 − `L`): `shl`, then `sri` inserts the
/// bits shifted out at the bottom.
#[target_feature(enable = "neon")]
#[inline]
fn rotl<const L: i32, const R: i32>(v: uint64x2_t) -> uint64x2_t {
    vsriq_n_u64::<R>(vshlq_n_u64::<L>(v), v)
}

/// One xoshiro256++ step of the lane pair `p`; returns its two outputs.
#[target_feature(enable = "neon")]
#[inline]
fn step(v: &mut [[uint64x2_t; PAIRS]; 4], p: usize) -> uint64x2_t {
    let [s0, s1, s2, s3] = [v[0][p], v[1][p], v[2][p], v[3][p]];
    let out = vaddq_u64(rotl::<23, 41>(vaddq_u64(s0, s3)), s0);
    let t = vshlq_n_u64::<17>(s1);
    let s2 = veorq_u64(s2, s0);
    let s3 = veorq_u64(s3, s1);
    let s1 = veorq_u64(s1, s2);
    let s0 = veorq_u64(s0, s3);
    let s2 = veorq_u64(s2, t);
    let s3 = rotl::<45, 19>(s3);
    [v[0][p], v[1][p], v[2][p], v[3][p]] = [s0, s1, s2, s3];
    out
}

/// All ones in each element of `a` and of `b` whose word is *outside* (`x² + y² ≥ 2^64`), zero
/// otherwise.
#[target_feature(enable = "neon")]
#[inline]
fn outside_masks(a: uint64x2_t, b: uint64x2_t) -> [uint64x2_t; 2] {
    let (a, b) = (vreinterpretq_u32_u64(a), vreinterpretq_u32_u64(b));
    // Little-endian elements: the even 32-bit elements are the low halves (y), the odd ones the
    // high halves (x), in the order a0, a1, b0, b1.
    let y = vuzp1q_u32(a, b);
    let x = vuzp2q_u32(a, b);
    let xx = [
        vmull_u32(vget_low_u32(x), vget_low_u32(x)),
        vmull_high_u32(x, x),
    ];
    let yy = [
        vmull_u32(vget_low_u32(y), vget_low_u32(y)),
        vmull_high_u32(y, y),
    ];
    // x² + y² carries out of 64 bits iff the wrapped sum is below x² (unsigned).
    [0, 1].map(|i| vcgtq_u64(xx[i], vaddq_u64(xx[i], yy[i])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_inside_test_is_exact_at_the_boundary() {
        let words = super::super::tests::boundary_words();
        for quad in words.chunks(4) {
            let mut w = [0u64; 4];
            w[..quad.len()].copy_from_slice(quad);
            // SAFETY: `w` is 32 bytes, two 16-byte loads.
            let (a, b) = unsafe { (vld1q_u64(w.as_ptr()), vld1q_u64(w[2..].as_ptr())) };
            let mut masks = [0u64; 4];
            // SAFETY: every aarch64 CPU has NEON.
            let [ma, mb] = unsafe { outside_masks(a, b) };
            // SAFETY: `masks` is 32 bytes, two 16-byte stores.
            unsafe {
                vst1q_u64(masks.as_mut_ptr(), ma);
                vst1q_u64(masks[2..].as_mut_ptr(), mb);
            }
            for (word, m) in w.iter().zip(masks) {
                assert_eq!(m == u64::MAX, !is_inside(*word), "{word:#x}");
                assert!(m == 0 || m == u64::MAX);
            }
        }
    }
}
