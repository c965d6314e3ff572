//! The AVX-512 kernel (x86-64 only, selected at run time): the AVX2 kernel's layout, twelve
//! lanes in three 256-bit registers, with the instructions AVX-512 adds to 256-bit registers
//! (AVX-512VL). Counts and final states are identical to the reference kernel.
//!
//! # Design
//!
//! * **Generator, 9 vector instructions per four lanes** (the AVX2 kernel needs 14): both
//!   rotates are one `vprolq` each instead of two shifts and an or, and three of the five
//!   xors fold into `vpternlogq` (three-input xor): `s1 ^= s2 ^ s0`, `s2 ^= s0 ^ t` and
//!   `s0 ^= s3 ^ s1` read only values from before the step, so the update order of the
//!   reference collapses into independent instructions.
//! * **Inside test, 5 vector instructions per four lanes, none of them on the counter's
//!   critical path:** `vpshufd` moves each word's high half down, two `vpmuludq` give `x²` and
//!   `y²`, one `vpaddq` the wrapped sum, and an unsigned compare into a mask register
//!   (`vpcmpuq`) flags the words whose sum did not wrap (inside). The three 4-bit masks of a
//!   round go to a general register, where `popcnt` counts them: the count uses the integer
//!   units, which the vector loop leaves idle, instead of vector slots.
//!
//! That is 42 vector instructions per round of 12 trials against the AVX2 kernel's 63. The
//! registers stay 256 bits wide on purpose: on AMD Zen 4 a 512-bit instruction takes two
//! 256-bit slots, so wider registers alone gain nothing there, and older Intel servers
//! (Skylake-SP, Cascade Lake) lower their clock while 512-bit instructions run.
//!
//! On a Zen 4 EPYC (four vector pipes) the loop's floor is 42 / 4 = 10.5 cycles per round,
//! 0.875 per trial; it runs at about 0.98 core cycles per trial (11.7 per round), 1.48× the AVX2
//! kernel. Counting two chunks in one loop gave nothing more (0.98), and three chunks need 36
//! registers of state, more than the 32 there are.

use core::arch::x86_64::{
    __m256i, __mmask8, _MM_CMPINT_NLT, _mm_cvtsi32_si128, _mm256_add_epi64, _mm256_cmp_epu64_mask,
    _mm256_loadu_si256, _mm256_mul_epu32, _mm256_or_si256, _mm256_rol_epi64, _mm256_set1_epi64x,
    _mm256_shuffle_epi32, _mm256_slli_epi64, _mm256_srl_epi32, _mm256_storeu_si256,
    _mm256_ternarylogic_epi64, _mm256_xor_si256,
};

use super::{Grid, LANES, LaneStates, is_inside, portable};

/// The CPU features the kernel uses, by their `is_x86_feature_detected!` names.
pub const FEATURES: [&str; 3] = ["avx512f", "avx512vl", "popcnt"];

/// Whether this CPU has each feature of [`FEATURES`] (the standard library caches the answer).
fn detected() -> [bool; 3] {
    // `is_x86_feature_detected!` takes only literals, hence one line per feature.
    [
        is_x86_feature_detected!("avx512f"),
        is_x86_feature_detected!("avx512vl"),
        is_x86_feature_detected!("popcnt"),
    ]
}

/// The features in [`FEATURES`] this CPU lacks (empty: it runs the kernel).
pub fn missing_features() -> Vec<&'static str> {
    FEATURES
        .into_iter()
        .zip(detected())
        .filter(|&(_, present)| !present)
        .map(|(name, _)| name)
        .collect()
}

/// Whether this CPU can run the AVX-512 kernel (AVX-512F and VL, and POPCNT).
pub fn is_supported() -> bool {
    detected().into_iter().all(|present| present)
}

/// Counts the inside trials among the next `trials` trials of `states` and advances them.
///
/// # Panics
///
/// If this CPU cannot run the kernel ([`is_supported`] is false).
pub fn count(states: &mut LaneStates, trials: u64) -> u64 {
    assert!(
        is_supported(),
        "the avx512 kernel needs a CPU with {}",
        FEATURES.join(", ")
    );
    // SAFETY: the assertion above checked that the CPU has every feature the function enables.
    unsafe { count_avx512(states, trials) }
}

/// The kernel proper: the lanes as three vector groups of four, all state in 12 ymm registers.
#[target_feature(enable = "avx512f,avx512vl,popcnt")]
fn count_avx512(states: &mut LaneStates, trials: u64) -> u64 {
    let rounds = trials / LANES as u64;
    // Below LANES, so lossless.
    let rest = (trials % LANES as u64) as usize;

    // v[j][g]: word j of lanes 4g..4g+4.
    let mut v: [[__m256i; 3]; 4] = std::array::from_fn(|j| {
        std::array::from_fn(|g| {
            let lanes = &states.s[j][4 * g..4 * g + 4];
            // SAFETY: `lanes` is four consecutive u64 (32 bytes, the unaligned load's width).
            unsafe { _mm256_loadu_si256(lanes.as_ptr().cast()) }
        })
    });

    let mut inside = 0u64;
    for _ in 0..rounds {
        let m: [__mmask8; 3] = std::array::from_fn(|g| inside_mask(step(&mut v, g)));
        // The three 4-bit masks in one word, for one popcnt per round instead of three. They
        // sit 8 bits apart, not 4: packed tight, groups 0 and 1 look to LLVM like the 8-bit
        // mask of one 512-bit compare, and it rewrites their whole step into zmm instructions
        // plus two `vinserti64x4` per round (measured 12% slower).
        let bits = u32::from(m[0]) | u32::from(m[1]) << 8 | u32::from(m[2]) << 16;
        inside += u64::from(bits.count_ones());
    }

    let mut s = states.s;
    for (j, words) in v.iter().enumerate() {
        for (g, &vector) in words.iter().enumerate() {
            let lanes = &mut s[j][4 * g..4 * g + 4];
            // SAFETY: `lanes` is four consecutive u64 (32 bytes, the unaligned store's width).
            unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), vector) };
        }
    }
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
/// The plain loop with three more vector instructions per four lanes, as in the AVX2 kernel
/// ([`super::avx2::count_stratified`] explains the corners and the carry): `vpsrld`, `vpor`,
/// `vpaddq`; the round that carries a column into a row merges the gap in with one
/// `vpternlogq`.
///
/// # Panics
///
/// If this CPU cannot run the kernel ([`is_supported`] is false).
pub fn count_stratified(states: &mut LaneStates, grid: Grid, first_trial: u64, trials: u64) -> u64 {
    assert!(
        is_supported(),
        "the avx512 kernel needs a CPU with {}",
        FEATURES.join(", ")
    );
    assert!(grid.k() >= 4, "the column carry needs K > LANES");
    debug_assert!(trials == 0 || first_trial.is_multiple_of(LANES as u64));
    // SAFETY: the assertion above checked that the CPU has every feature the function enables.
    unsafe { count_stratified_avx512(states, grid, first_trial, trials) }
}

/// The stratified kernel proper: 12 ymm registers of state, three of corners.
#[target_feature(enable = "avx512f,avx512vl,popcnt")]
fn count_stratified_avx512(states: &mut LaneStates, grid: Grid, first: u64, trials: u64) -> u64 {
    let lanes = LANES as u64;
    let rounds = trials / lanes;
    // Below LANES, so lossless.
    let rest = (trials % lanes) as usize;

    let mut v: [[__m256i; 3]; 4] = std::array::from_fn(|j| {
        std::array::from_fn(|g| {
            let lanes = &states.s[j][4 * g..4 * g + 4];
            // SAFETY: `lanes` is four consecutive u64 (32 bytes, the unaligned load's width).
            unsafe { _mm256_loadu_si256(lanes.as_ptr().cast()) }
        })
    });
    let mut corner: [__m256i; 3] = std::array::from_fn(|g| {
        let c: [u64; 4] = std::array::from_fn(|e| grid.corner(first + (4 * g + e) as u64));
        // SAFETY: `c` is 32 bytes, the unaligned load's width.
        unsafe { _mm256_loadu_si256(c.as_ptr().cast()) }
    });
    // Bit patterns as the intrinsics take them (i64 lanes).
    let step_by = _mm256_set1_epi64x(grid.round_step() as i64);
    let gap = _mm256_set1_epi64x(grid.gap() as i64);
    // k ≤ 16, lossless.
    let shift = _mm_cvtsi32_si128(grid.k() as i32);

    let mut inside = 0u64;
    let mut t = first;
    let mut left = rounds;
    while left > 0 {
        let in_row = grid.rounds_in_row(t).min(left);
        for _ in 0..in_row {
            let m: [__mmask8; 3] = std::array::from_fn(|g| {
                let w = step(&mut v, g);
                let point = _mm256_or_si256(_mm256_srl_epi32(w, shift), corner[g]);
                corner[g] = _mm256_add_epi64(corner[g], step_by);
                inside_mask(point)
            });
            // 8 bits apart, as in the plain loop.
            let bits = u32::from(m[0]) | u32::from(m[1]) << 8 | u32::from(m[2]) << 16;
            inside += u64::from(bits.count_ones());
        }
        left -= in_row;
        t += in_row * lanes;
        if left > 0 {
            let m: [__mmask8; 3] = std::array::from_fn(|g| {
                let w = step(&mut v, g);
                let point = _mm256_or_si256(_mm256_srl_epi32(w, shift), corner[g]);
                let carried = _mm256_add_epi64(_mm256_or_si256(corner[g], gap), step_by);
                // carried & !gap
                corner[g] = _mm256_ternarylogic_epi64::<AND_NOT_B>(carried, gap, carried);
                inside_mask(point)
            });
            let bits = u32::from(m[0]) | u32::from(m[1]) << 8 | u32::from(m[2]) << 16;
            inside += u64::from(bits.count_ones());
            left -= 1;
            t += lanes;
        }
    }

    let mut s = states.s;
    for (j, words) in v.iter().enumerate() {
        for (g, &vector) in words.iter().enumerate() {
            let lanes = &mut s[j][4 * g..4 * g + 4];
            // SAFETY: `lanes` is four consecutive u64 (32 bytes, the unaligned store's width).
            unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), vector) };
        }
    }
    // The partial last round: lanes 0..rest, one step each, exactly as the reference.
    for l in 0..rest {
        let word = portable::step_lane(&mut s, l);
        inside += u64::from(is_inside(grid.point(t + l as u64, word)));
    }
    states.s = s;
    inside
}

/// `vpternlogq` truth table of `a & !b` (bit `4a + 2b + c` of the immediate is the result).
const AND_NOT_B: i32 = 0x30;

/// `vpternlogq` truth table of `a ^ b ^ c` (bit `4a + 2b + c` of the immediate is the result).
const XOR3: i32 = 0x96;

/// One xoshiro256++ step of the four lanes in vector group `g`; returns their outputs.
#[target_feature(enable = "avx512f,avx512vl")]
#[inline]
fn step(v: &mut [[__m256i; 3]; 4], g: usize) -> __m256i {
    let [s0, s1, s2, s3] = [v[0][g], v[1][g], v[2][g], v[3][g]];
    let out = _mm256_add_epi64(_mm256_rol_epi64::<23>(_mm256_add_epi64(s0, s3)), s0);
    let t = _mm256_slli_epi64::<17>(s1);
    // The reference's sequence `s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t` written in
    // terms of the old words, so that no update waits for another.
    let s3x = _mm256_xor_si256(s3, s1);
    let new_s1 = _mm256_ternarylogic_epi64::<XOR3>(s1, s2, s0);
    let new_s2 = _mm256_ternarylogic_epi64::<XOR3>(s2, s0, t);
    let new_s0 = _mm256_ternarylogic_epi64::<XOR3>(s0, s3, s1);
    let new_s3 = _mm256_rol_epi64::<45>(s3x);
    [v[0][g], v[1][g], v[2][g], v[3][g]] = [new_s0, new_s1, new_s2, new_s3];
    out
}

/// Bit `i` set iff element `i` of `w` is *inside* (`x² + y² < 2^64`, the sum does not wrap).
#[target_feature(enable = "avx512f,avx512vl")]
#[inline]
fn inside_mask(w: __m256i) -> __mmask8 {
    // x (the high half) moved to the low half of each element, where vpmuludq reads it.
    let x = _mm256_shuffle_epi32::<0b11_11_01_01>(w);
    let xx = _mm256_mul_epu32(x, x);
    let yy = _mm256_mul_epu32(w, w);
    // The wrapped sum is at least x² (unsigned) iff it did not carry out of 64 bits.
    _mm256_cmp_epu64_mask::<_MM_CMPINT_NLT>(_mm256_add_epi64(xx, yy), xx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_inside_test_is_exact_at_the_boundary() {
        if !is_supported() {
            eprintln!("skipped: this CPU lacks {}", missing_features().join(", "));
            return;
        }
        let words = super::super::tests::boundary_words();
        for quad in words.chunks(4) {
            let mut w = [0u64; 4];
            w[..quad.len()].copy_from_slice(quad);
            // SAFETY: the CPU has the kernel's features (checked above); `w` is 32 bytes.
            let mask = unsafe { inside_mask_checked(_mm256_loadu_si256(w.as_ptr().cast())) };
            for (i, word) in w.iter().enumerate() {
                assert_eq!(mask >> i & 1 == 1, is_inside(*word), "{word:#x}");
            }
            assert_eq!(mask >> 4, 0, "only four elements");
        }
    }

    /// [`inside_mask`] behind the feature gate, for the test.
    #[target_feature(enable = "avx512f,avx512vl")]
    fn inside_mask_checked(w: __m256i) -> __mmask8 {
        inside_mask(w)
    }
}
