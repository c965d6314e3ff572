//! The AVX2 kernel (x86-64 only, selected at run time): xoshiro256++ lanes advanced four at a
//! time in 256-bit registers, with the inside test done in vector registers too. Counts and
//! final states are identical to the reference kernel.
//!
//! # Design
//!
//! The [`LANES`] lanes are split into `V` groups of four that live in ymm registers and
//! `LANES − 4V` scalar lanes stepped on the general-purpose integer units in the same loop.
//!
//! * One vector step is 14 instructions for the generator, 5 of them shifts (AVX2 has no 64-bit
//!   rotate, so each rotate is two shifts and an or), and 7 for the inside test, none of them a
//!   shift: `vpshufd` moves each word's high half down, two `vpmuludq` give `x²` and `y²`, and
//!   the carry out of `x² + y²` becomes a signed `vpcmpgtq` after flipping bit 63 of `x²`
//!   (flipping it in one addend flips it in the sum). The all-ones "outside" masks are
//!   subtracted from a vector counter, so nothing leaves the vector registers inside the loop.
//! * A scalar lane is about 16 integer instructions (native rotates, `add`/`adc` for the carry)
//!   and needs four general-purpose registers of state.
//!
//! Measured on the AMD EPYC this project is developed on (family 25: four vector pipes that
//! each take a whole 256-bit operation, two of which shift), in core cycles per trial:
//!
//! | split | loop body per round of 12 trials | cycles/trial |
//! |---|---|---|
//! | 12 vector lanes (`V = 3`, the kernel) | 63 vector + 2 loop instructions, state in 12 ymm registers | ≈ 1.45 |
//! | 8 vector + 4 scalar (`V = 2`) | 42 vector + ~70 integer instructions, scalar state spilled | ≈ 2.25 |
//! | portable kernel (compiler, SSE2 baseline) | — | ≈ 4.4 |
//!
//! The 12-lane loop's floor on this CPU is 63 / 4 ≈ 15.75 cycles per round (1.31 per trial)
//! from the vector pipes alone; it runs at about 17.4. Moving one group's inside test to the
//! integer units (a vector store and 8 `imul`s) was 4–6% faster at best, bimodal from run to
//! run, and needed inline assembly to stop LLVM from vectorizing the scalar code again, so it
//! was left out. A CPU that splits 256-bit operations in two halves (AMD Zen 1) pays twice for
//! every vector instruction and may prefer `V = 2`; [`count_split`] keeps both splits tested and
//! benchmarked.

use core::arch::x86_64::{
    __m256i, _mm_cvtsi32_si128, _mm256_add_epi64, _mm256_andnot_si256, _mm256_cmpgt_epi64,
    _mm256_loadu_si256, _mm256_mul_epu32, _mm256_or_si256, _mm256_set1_epi64x,
    _mm256_setzero_si256, _mm256_shuffle_epi32, _mm256_slli_epi64, _mm256_srl_epi32,
    _mm256_srli_epi64, _mm256_storeu_si256, _mm256_sub_epi64, _mm256_xor_si256,
};

use super::{Grid, LANES, LaneStates, portable};

/// Vector groups of four lanes used by [`count`]; the other `LANES − 4 × BEST_VECTORS` lanes
/// are scalar.
pub const BEST_VECTORS: usize = 3;

/// The CPU features the kernel uses, by their `is_x86_feature_detected!` names: AVX2 for the
/// vectors, BMI2 for the scalar lanes' non-destructive shifts and rotates.
pub const FEATURES: [&str; 2] = ["avx2", "bmi2"];

/// The features in [`FEATURES`] this CPU lacks (empty: it runs the kernel).
pub fn missing_features() -> Vec<&'static str> {
    // `is_x86_feature_detected!` takes only literals, hence one line per feature.
    let present = [
        is_x86_feature_detected!("avx2"),
        is_x86_feature_detected!("bmi2"),
    ];
    FEATURES
        .into_iter()
        .zip(present)
        .filter(|&(_, present)| !present)
        .map(|(name, _)| name)
        .collect()
}

/// Whether this CPU can run the AVX2 kernel.
pub fn is_supported() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("bmi2")
}

/// Counts the inside trials among the next `trials` trials of `states` and advances them.
///
/// # Panics
///
/// If the CPU lacks AVX2 or BMI2 ([`is_supported`] is false).
pub fn count(states: &mut LaneStates, trials: u64) -> u64 {
    count_split::<BEST_VECTORS>(states, trials)
}

/// [`count`] with `V` vector groups of four lanes and `LANES − 4V` scalar lanes (`V` is 2 or 3).
/// Every split gives the same counts; only the speed differs.
///
/// # Panics
///
/// If the CPU lacks AVX2 or BMI2.
pub fn count_split<const V: usize>(states: &mut LaneStates, trials: u64) -> u64 {
    const {
        assert!(
            V >= 2 && V <= 3,
            "2 or 3 vector groups: at most 4 scalar lanes"
        )
    };
    assert!(
        is_supported(),
        "the avx2 kernel needs a CPU with AVX2 and BMI2"
    );
    // SAFETY: the assertion above checked that the CPU has the features the function enables.
    unsafe { count_avx2::<V>(states, trials) }
}

/// The kernel proper. Generic over the split so that every candidate compiles to the same
/// straight-line loop: with `V` and the scalar lane count known, LLVM keeps all state in
/// registers (12 ymm for `V = 3`).
#[target_feature(enable = "avx2,bmi2")]
fn count_avx2<const V: usize>(states: &mut LaneStates, trials: u64) -> u64 {
    let rounds = trials / LANES as u64;
    // Below LANES, so lossless.
    let rest = (trials % LANES as u64) as usize;

    let mut v: [[__m256i; V]; 4] = std::array::from_fn(|j| {
        std::array::from_fn(|g| {
            let lanes = &states.s[j][4 * g..4 * g + 4];
            // SAFETY: `lanes` is four consecutive u64 (32 bytes, the unaligned load's width).
            unsafe { _mm256_loadu_si256(lanes.as_ptr().cast()) }
        })
    });
    // Scalar lanes 4V..LANES, lane-major in a small local of their own: indexed only by
    // constants in the loop, so LLVM keeps the words in registers. Slots past the last lane
    // (all four when V = 3) are never stepped; the modulo only keeps their index in range.
    let mut scalar: [[u64; 4]; 4] =
        std::array::from_fn(|k| std::array::from_fn(|j| states.s[j][(4 * V + k) % LANES]));

    let sign = _mm256_set1_epi64x(i64::MIN);
    let mut outside_v = _mm256_setzero_si256();
    let mut outside_s = 0u64;
    for _ in 0..rounds {
        for g in 0..V {
            let w = step_vector(&mut v, g);
            outside_v = _mm256_sub_epi64(outside_v, outside_mask(w, sign));
        }
        for lane in scalar.iter_mut().take(LANES - 4 * V) {
            outside_s += u64::from(!super::is_inside(step_scalar(lane)));
        }
    }

    let mut s = states.s;
    for (k, lane) in scalar.iter().enumerate().take(LANES - 4 * V) {
        for (j, &word) in lane.iter().enumerate() {
            s[j][4 * V + k] = word;
        }
    }

    for (j, words) in v.iter().enumerate() {
        for (g, &vector) in words.iter().enumerate() {
            let lanes = &mut s[j][4 * g..4 * g + 4];
            // SAFETY: `lanes` is four consecutive u64 (32 bytes, the unaligned store's width).
            unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), vector) };
        }
    }
    let mut per_element = [0u64; 4];
    // SAFETY: `per_element` is 32 bytes, the unaligned store's width.
    unsafe { _mm256_storeu_si256(per_element.as_mut_ptr().cast(), outside_v) };
    let outside: u64 = per_element.iter().sum::<u64>() + outside_s;

    let mut inside = rounds * LANES as u64 - outside;
    // The partial last round: lanes 0..rest, one step each, exactly as the reference.
    for l in 0..rest {
        inside += u64::from(super::is_inside(portable::step_lane(&mut s, l)));
    }
    states.s = s;
    inside
}

/// Counts the inside trials among trials `first_trial..first_trial + trials` of a stratified
/// chunk on `grid` (`k ≥ 4`) whose lanes are at `states`, and advances them. `first_trial` is a
/// multiple of [`LANES`] unless `trials` is 0.
///
/// The loop is the plain one's body with three more vector instructions per four lanes: `vpsrld` by
/// `k` shifts both 32-bit halves of each word at once (the top `32 − k` bits of `x` and `y`,
/// clean), `vpor` puts in the cell's corner, and `vpaddq` moves each lane's corner on by 12
/// trials. A lane that passes the end of its row of cells needs a carry from the column into the
/// row: the loop runs the rounds in which no lane does so ([`Grid::rounds_in_row`]) and gives the
/// round after them the carry (two more instructions, once per `K / 12` rounds).
///
/// # Panics
///
/// If the CPU lacks AVX2 or BMI2 ([`is_supported`] is false).
pub fn count_stratified(states: &mut LaneStates, grid: Grid, first_trial: u64, trials: u64) -> u64 {
    assert!(
        is_supported(),
        "the avx2 kernel needs a CPU with AVX2 and BMI2"
    );
    assert!(grid.k() >= 4, "the column carry needs K > LANES");
    debug_assert!(trials == 0 || first_trial.is_multiple_of(LANES as u64));
    // SAFETY: the assertion above checked that the CPU has the features the function enables.
    unsafe { count_stratified_avx2(states, grid, first_trial, trials) }
}

/// The stratified kernel proper, in two passes over the rounds: lanes 0..8 (two groups), then
/// lanes 8..12. Each lane's stream is its own, so groups can run their rounds one after the
/// other. With all three groups in one loop, as the plain kernel has them, the corners and
/// constants need more than the 16 ymm registers and LLVM spilled state words every round
/// (0.43× the plain speed in a criterion run). In core cycles per trial on the Zen 4 EPYC
/// (`examples/kernel-cycles`, fastest of 300 blocks of a 4^10 chunk), against 1.42 for plain:
/// one group per pass 1.94, two groups then one 1.75 (0.81×).
#[target_feature(enable = "avx2,bmi2")]
fn count_stratified_avx2(states: &mut LaneStates, grid: Grid, first: u64, trials: u64) -> u64 {
    let lanes = LANES as u64;
    let rounds = trials / lanes;
    // Below LANES, so lossless.
    let rest = (trials % lanes) as usize;

    let mut s = states.s;
    // Lanes 0..8 as two groups in one pass, lanes 8..12 alone in a second.
    let mut outside = 0u64;
    outside += group_pass::<2>(&mut s, 0, grid, first, rounds);
    outside += group_pass::<1>(&mut s, 2, grid, first, rounds);

    let mut inside = rounds * lanes - outside;
    // The partial last round: lanes 0..rest, one step each, exactly as the reference.
    let t = first + rounds * lanes;
    for l in 0..rest {
        let word = portable::step_lane(&mut s, l);
        inside += u64::from(super::is_inside(grid.point(t + l as u64, word)));
    }
    states.s = s;
    inside
}

/// `rounds` rounds of the `G` groups of four lanes from group `g0` on, from trial `first` (lane
/// 0's) of a stratified chunk; advances their states in `s` and returns their outside count.
#[target_feature(enable = "avx2,bmi2")]
fn group_pass<const G: usize>(
    s: &mut [[u64; LANES]; 4],
    g0: usize,
    grid: Grid,
    first: u64,
    rounds: u64,
) -> u64 {
    let lanes = LANES as u64;
    // Bit patterns as the intrinsics take them (i64 lanes).
    let step = _mm256_set1_epi64x(grid.round_step() as i64);
    let gap = _mm256_set1_epi64x(grid.gap() as i64);
    // k ≤ 16, lossless.
    let shift = _mm_cvtsi32_si128(grid.k() as i32);
    let sign = _mm256_set1_epi64x(i64::MIN);

    let mut v: [[__m256i; G]; 4] = std::array::from_fn(|j| {
        std::array::from_fn(|g| {
            let lanes = &s[j][4 * (g0 + g)..4 * (g0 + g) + 4];
            // SAFETY: `lanes` is four consecutive u64 (32 bytes, the unaligned load's width).
            unsafe { _mm256_loadu_si256(lanes.as_ptr().cast()) }
        })
    });
    let mut corner: [__m256i; G] = std::array::from_fn(|g| {
        let c: [u64; 4] = std::array::from_fn(|e| grid.corner(first + (4 * (g0 + g) + e) as u64));
        // SAFETY: `c` is 32 bytes, the unaligned load's width.
        unsafe { _mm256_loadu_si256(c.as_ptr().cast()) }
    });
    let mut counted = _mm256_setzero_si256();
    let mut t = first;
    let mut left = rounds;
    while left > 0 {
        let in_row = grid.rounds_in_row(t).min(left);
        for _ in 0..in_row {
            for (g, c) in corner.iter_mut().enumerate() {
                let w = step_vector(&mut v, g);
                let point = _mm256_or_si256(_mm256_srl_epi32(w, shift), *c);
                counted = _mm256_sub_epi64(counted, outside_mask(point, sign));
                *c = _mm256_add_epi64(*c, step);
            }
        }
        left -= in_row;
        t += in_row * lanes;
        if left > 0 {
            for (g, c) in corner.iter_mut().enumerate() {
                let w = step_vector(&mut v, g);
                let point = _mm256_or_si256(_mm256_srl_epi32(w, shift), *c);
                counted = _mm256_sub_epi64(counted, outside_mask(point, sign));
                let carried = _mm256_add_epi64(_mm256_or_si256(*c, gap), step);
                *c = _mm256_andnot_si256(gap, carried);
            }
            left -= 1;
            t += lanes;
        }
    }
    for (j, words) in v.iter().enumerate() {
        for (g, &vector) in words.iter().enumerate() {
            let lanes = &mut s[j][4 * (g0 + g)..4 * (g0 + g) + 4];
            // SAFETY: `lanes` is four consecutive u64 (32 bytes, the unaligned store's width).
            unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), vector) };
        }
    }
    let mut per_element = [0u64; 4];
    // SAFETY: `per_element` is 32 bytes, the unaligned store's width.
    unsafe { _mm256_storeu_si256(per_element.as_mut_ptr().cast(), counted) };
    per_element.iter().sum()
}

/// One xoshiro256++ step of one lane held as its four state words; returns its output.
#[inline(always)]
fn step_scalar(s: &mut [u64; 4]) -> u64 {
    let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
    super::portable::next_state(s);
    out
}

/// `v` rotated left by `L` bits in each 64-bit element (`R` = 64 − `L`).
#[target_feature(enable = "avx2")]
#[inline]
fn rotl<const L: i32, const R: i32>(v: __m256i) -> __m256i {
    _mm256_or_si256(_mm256_slli_epi64::<L>(v), _mm256_srli_epi64::<R>(v))
}

/// One xoshiro256++ step of the four lanes in vector group `g`; returns their outputs.
#[target_feature(enable = "avx2")]
#[inline]
fn step_vector<const V: usize>(v: &mut [[__m256i; V]; 4], g: usize) -> __m256i {
    let [s0, s1, s2, s3] = [v[0][g], v[1][g], v[2][g], v[3][g]];
    let out = _mm256_add_epi64(rotl::<23, 41>(_mm256_add_epi64(s0, s3)), s0);
    let t = _mm256_slli_epi64::<17>(s1);
    let s2 = _mm256_xor_si256(s2, s0);
    let s3 = _mm256_xor_si256(s3, s1);
    let s1 = _mm256_xor_si256(s1, s2);
    let s0 = _mm256_xor_si256(s0, s3);
    let s2 = _mm256_xor_si256(s2, t);
    let s3 = rotl::<45, 19>(s3);
    [v[0][g], v[1][g], v[2][g], v[3][g]] = [s0, s1, s2, s3];
    out
}

/// All ones in each element whose word is *outside* (`x² + y² ≥ 2^64`), zero otherwise.
/// `sign` has only bit 63 set in each element.
#[target_feature(enable = "avx2")]
#[inline]
fn outside_mask(w: __m256i, sign: __m256i) -> __m256i {
    // x (the high half) moved to the low half of each element, where vpmuludq reads it.
    let x = _mm256_shuffle_epi32::<0b11_11_01_01>(w);
    let xx = _mm256_mul_epu32(x, x);
    let yy = _mm256_mul_epu32(w, w);
    // x² + y² carries out of 64 bits iff the wrapped sum is below x² (unsigned). Flipping bit
    // 63 of both sides turns that into a signed compare, and flipping it in x² alone flips it
    // in the sum too.
    let xx_flipped = _mm256_xor_si256(xx, sign);
    let sum_flipped = _mm256_add_epi64(xx_flipped, yy);
    _mm256_cmpgt_epi64(xx_flipped, sum_flipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_inside_test_is_exact_at_the_boundary() {
        if !is_supported() {
            eprintln!("skipped: this CPU lacks AVX2 or BMI2");
            return;
        }
        let words = super::super::tests::boundary_words();
        for quad in words.chunks(4) {
            let mut w = [0u64; 4];
            w[..quad.len()].copy_from_slice(quad);
            // SAFETY: AVX2 is available (checked above); the arrays are 32 bytes each.
            let mask = unsafe {
                let v = _mm256_loadu_si256(w.as_ptr().cast());
                let m = outside_mask_checked(v);
                let mut out = [0u64; 4];
                _mm256_storeu_si256(out.as_mut_ptr().cast(), m);
                out
            };
            for (word, m) in w.iter().zip(mask) {
                assert_eq!(m == u64::MAX, !super::super::is_inside(*word), "{word:#x}");
                assert!(m == 0 || m == u64::MAX);
            }
        }
    }

    /// [`outside_mask`] behind the feature gate, for the test.
    #[target_feature(enable = "avx2")]
    fn outside_mask_checked(w: __m256i) -> __m256i {
        outside_mask(w, _mm256_set1_epi64x(i64::MIN))
    }
}
