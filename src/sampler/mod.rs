//! The sampling algorithm: how a chunk's random words are derived from the seed and how each
//! word becomes one trial. Every kernel in this module gives bit-identical counts.
//!
//! # Algorithm `ALGORITHM` (version string [`ALGORITHM`])
//!
//! * **Streams.** The 12 lane states of chunk `c` are the first 12 × 32 bytes of the BLAKE3
//!   extendable output in key-derivation mode with context [`STREAM_CONTEXT`], over the 16 bytes
//!   `seed` (little-endian u64) ‖ `c` (little-endian u64). Each 32-byte piece seeds one
//!   xoshiro256++ lane through `rand_xoshiro`'s `from_seed` (four little-endian words; an all-zero
//!   piece, probability 2^-256, is remapped by `rand_xoshiro`). Hash-derived states are what
//!   NumPy's `SeedSequence` does too: every (seed, chunk) pair gets an independent uniformly
//!   random point of the 2^256 − 1 period, so two lanes overlap only if their starting points lie
//!   within one lane's length of each other: with 2^40 chunks of 12 lanes each drawing 2^40 words,
//!   that probability is below 2^-120. Deriving a chunk's states costs about a microsecond, so
//!   any chunk can be computed alone, in any order, on any worker.
//! * **Interleaving.** Trial `t` of a chunk (0 ≤ t < chunk trials) takes the `⌊t / 12⌋`-th
//!   output of lane `t mod 12`. A chunk whose size is not a multiple of 12 ends with a partial
//!   round that uses lanes `0..r`. The lane count is part of the algorithm, never of the CPU: it
//!   is what lets a SIMD kernel advance many independent generators at once.
//! * **Trial.** A 64-bit output `w` gives the integer point `x = w >> 32`, `y = w mod 2^32`, the
//!   lower-left corner of a cell of the 2^32 × 2^32 lattice on the unit square. The trial is
//!   *inside* iff `x² + y² < 2^64`, decided exactly in 64-bit integer arithmetic (both squares
//!   fit in 64 bits; the sum is inside iff it does not carry out of 64 bits).
//! * **Estimate.** π̂ = 4 · inside / trials, where inside is the sum over all chunks.
//!
//! # Stratified algorithm (version string [`STRATIFIED_ALGORITHM`])
//!
//! The same streams, interleaving, words and inside test; only the point a word gives differs
//! ([`Method::Stratified`], [`Grid`]).
//!
//! * **Chunks.** A stratified chunk has `n = 4^k` trials, `1 ≤ k ≤ 16`, and splits the square
//!   into `K × K` equal cells, `K = 2^k`: one trial per cell. Only whole chunks are counted.
//! * **Trial.** Trial `t` of the chunk (0 ≤ t < n, in the order above, from the same lane
//!   streams and the same 64-bit word `w`) lies in cell `(i, j) = (t >> k, t & (K − 1))` and
//!   takes the point `x = (i << (32 − k)) | (w >> (32 + k))`,
//!   `y = (j << (32 − k)) | ((w & 0xFFFF_FFFF) >> k)`: the cell's corner plus the top `32 − k`
//!   bits of each half of `w`. It is *inside* iff `x² + y² < 2^64`, the plain test.
//! * **Estimate.** Each chunk is one replicate: π̂ = 4 · Σc / (m · n) over `m` whole chunks with
//!   inside counts `c`, and its spread between chunks gives the standard error
//!   ([`crate::stats::replicates`]).
//!
//! Each dart is uniform on its cell's lattice points and the cells partition the lattice, so a
//! whole chunk's expected count is exactly the plain one's, `n · A / 2^64` (the same lattice
//! bias below). A part of a chunk is biased (cell (0, 0) is always inside), hence whole chunks
//! only. Only the cells the circle crosses vary, about `2K` of the `K²`: a chunk's count varies
//! about `0.26 · K` where a plain chunk's varies `0.17 · n`.
//!
//! # Lattice bias
//!
//! Each lattice point stands for the cell whose lower-left corner it is, so the expected inside
//! fraction is exactly `A / 2^64` with `A = #{(x, y) ∈ [0, 2^32)² : x² + y² < 2^64}`, and
//! `E[π̂] = 4A / 2^64 = A / 2^62` whatever the seed, chunk size or kernel. Counted exactly
//! (`cargo run --release --example lattice-count`, column by column along the circle):
//!
//! ```text
//! A           = 14488038920449089330
//! E[π̂]        = 3.14159265452108900059172147400943…
//! E[π̂] − π    = +9.3129576212907809e-10
//! ```
//!
//! (The Gauss circle estimate `A ≈ π·2^62 + 2^32` predicts `4 · 2^-32 ≈ 9.3132e-10`.) The
//! standard error of π̂ is `1.6422 / √trials`, which stays above the bias up to 3.1e18 trials
//! (a century at 1e9 trials/s); at 1e14 trials the bias is still 176 times smaller than the
//! standard error. The bias is deliberate: 32-bit coordinates let one 64-bit word make a trial
//! and keep the test exact.

#[cfg(target_arch = "x86_64")]
pub mod avx2;
#[cfg(target_arch = "x86_64")]
pub mod avx512;
mod method;
#[cfg(target_arch = "aarch64")]
pub mod neon;
mod portable;
mod scalar;

pub use method::{ChunkSizeError, Design, Grid, Method, MethodError, STRATIFIED_ALGORITHM};

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// Version string of the sampling algorithm. Any change to the counts a seed produces must
/// change this string (it is part of every cache key and of the JSON report).
pub const ALGORITHM: &str = "piest-blake3-xoshiro256pp-x12-u32pair-v1";

/// BLAKE3 key-derivation context of the lane states (see the module docs).
pub const STREAM_CONTEXT: &str = "piest 2026-11-25 xoshiro256++ lane states v1";

/// Number of interleaved xoshiro256++ lanes per chunk: part of the algorithm, not of the CPU.
pub const LANES: usize = 12;

/// The state of a chunk's [`LANES`] generators, stored lane-minor (structure of arrays):
/// `s[j][l]` is word `j` of lane `l`'s xoshiro256++ state. This is the layout a SIMD kernel
/// loads directly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaneStates {
    /// State words, `s[word][lane]`.
    pub s: [[u64; LANES]; 4],
}

impl LaneStates {
    /// The lane states of chunk `chunk` for `seed` (see the module docs).
    pub fn for_chunk(seed: u64, chunk: u64) -> Self {
        let mut hasher = blake3::Hasher::new_derive_key(STREAM_CONTEXT);
        hasher.update(&seed.to_le_bytes());
        hasher.update(&chunk.to_le_bytes());
        let mut bytes = [0u8; 32 * LANES];
        hasher.finalize_xof().fill(&mut bytes);
        let mut states = LaneStates {
            s: [[0u64; LANES]; 4],
        };
        for (lane, piece) in bytes.chunks_exact(32).enumerate() {
            let mut seed_bytes = [0u8; 32];
            seed_bytes.copy_from_slice(piece);
            states.set_lane(lane, &Xoshiro256PlusPlus::from_seed(seed_bytes));
        }
        states
    }

    /// Lane `lane` as a `rand_xoshiro` generator in its current state.
    pub fn lane(&self, lane: usize) -> Xoshiro256PlusPlus {
        let mut bytes = [0u8; 32];
        for j in 0..4 {
            bytes[8 * j..8 * j + 8].copy_from_slice(&self.s[j][lane].to_le_bytes());
        }
        // A state reached from `from_seed` is never all zero, so `from_seed` keeps it unchanged.
        Xoshiro256PlusPlus::from_seed(bytes)
    }

    /// Replaces lane `lane` with the state of `rng`.
    pub fn set_lane(&mut self, lane: usize, rng: &Xoshiro256PlusPlus) {
        for (j, w) in state_words(rng).into_iter().enumerate() {
            self.s[j][lane] = w;
        }
    }
}

/// The four state words of a generator, from its serialized little-endian state.
fn state_words(rng: &Xoshiro256PlusPlus) -> [u64; 4] {
    let bytes = rng.state();
    std::array::from_fn(|j| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[8 * j..8 * j + 8]);
        u64::from_le_bytes(word)
    })
}

/// Which implementation of the algorithm counts the trials. All give identical counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// The reference: one `rand_xoshiro` generator per lane, stepped in trial order.
    Scalar,
    /// All lanes stepped together in plain arrays, left to the compiler's auto-vectorizer.
    Portable,
    /// Hand-written AVX2 intrinsics, chosen at run time on x86-64 CPUs with AVX2 and BMI2.
    Avx2,
    /// Hand-written AVX-512 intrinsics on 256-bit registers, chosen at run time on x86-64 CPUs
    /// with AVX-512F, AVX-512VL and POPCNT.
    Avx512,
    /// Hand-written NEON intrinsics, on every aarch64 CPU (NEON is part of the base
    /// architecture there).
    Neon,
}

/// Why a kernel name was refused by [`Kernel::from_name`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KernelError {
    /// No kernel has this name.
    #[error("unknown kernel '{name}': expected auto, {}", names(&Kernel::all()))]
    Unknown {
        /// The name as given.
        name: String,
    },
    /// The kernel exists but this CPU cannot run it.
    #[error(
        "the {} kernel cannot run on this CPU: {}; kernels this CPU runs: auto, {}",
        kernel.name(),
        lack_text(.missing),
        names(&Kernel::available())
    )]
    Unsupported {
        /// The kernel asked for.
        kernel: Kernel,
        /// What this CPU lacks (see [`Kernel::missing_features`]).
        missing: Vec<&'static str>,
    },
}

/// Kernel names joined by commas, for messages.
fn names(kernels: &[Kernel]) -> String {
    kernels
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a CPU lacks, in words: features, or a whole architecture.
fn lack_text(missing: &[&str]) -> String {
    match missing {
        [arch] if arch.ends_with(" CPU") => format!("it needs an {arch}"),
        _ => format!("it lacks {}", missing.join(", ")),
    }
}

impl Kernel {
    /// The fastest kernel this CPU supports: what `auto` chooses.
    pub fn best() -> Self {
        [Kernel::Avx512, Kernel::Avx2, Kernel::Neon]
            .into_iter()
            .find(|k| k.is_supported())
            .unwrap_or(Kernel::Portable)
    }

    /// Every kernel piest has, whether or not this CPU can run it, the reference first.
    pub fn all() -> Vec<Kernel> {
        vec![
            Kernel::Scalar,
            Kernel::Portable,
            Kernel::Avx2,
            Kernel::Avx512,
            Kernel::Neon,
        ]
    }

    /// Kernels this CPU can run, the reference first (the order of [`Kernel::all`]).
    pub fn available() -> Vec<Kernel> {
        Kernel::all()
            .into_iter()
            .filter(|k| k.is_supported())
            .collect()
    }

    /// Whether this CPU can run the kernel.
    pub fn is_supported(self) -> bool {
        self.missing_features().is_empty()
    }

    /// What this CPU lacks to run the kernel: CPU feature names as
    /// `is_x86_feature_detected!` spells them, or the architecture the kernel needs (such as
    /// `"aarch64 CPU"`). Empty when the kernel runs here.
    pub fn missing_features(self) -> Vec<&'static str> {
        match self {
            Kernel::Scalar | Kernel::Portable => Vec::new(),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => avx2::missing_features(),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => avx512::missing_features(),
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx2 | Kernel::Avx512 => vec!["x86-64 CPU"],
            #[cfg(target_arch = "aarch64")]
            Kernel::Neon => Vec::new(),
            #[cfg(not(target_arch = "aarch64"))]
            Kernel::Neon => vec!["aarch64 CPU"],
        }
    }

    /// Short name, as accepted by `PIEST_KERNEL` and reported as `kernel` in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Portable => "portable",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
            Kernel::Neon => "neon",
        }
    }

    /// The kernel a `PIEST_KERNEL`-style setting names: a kernel's [`name`](Kernel::name), or
    /// `auto` (or nothing but spaces) for [`Kernel::best`]; case and surrounding spaces are
    /// ignored. A kernel this CPU cannot run is refused, naming what the CPU lacks.
    pub fn from_name(name: &str) -> Result<Kernel, KernelError> {
        let name = name.trim();
        if name.is_empty() || name.eq_ignore_ascii_case("auto") {
            return Ok(Kernel::best());
        }
        let kernel = Kernel::all()
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| KernelError::Unknown { name: name.into() })?;
        let missing = kernel.missing_features();
        if missing.is_empty() {
            Ok(kernel)
        } else {
            Err(KernelError::Unsupported { kernel, missing })
        }
    }

    /// Counts the inside trials among trials `first_trial..first_trial + trials` of a chunk of
    /// `design` whose lanes are at `states` (the states after the chunk's first `first_trial`
    /// trials), advancing them exactly as the reference does. A chunk may be counted in any
    /// pieces, each starting where the last ended: the kernel finishes a partial round lane by
    /// lane, and a stratified piece knows its cells from `first_trial`.
    ///
    /// # Panics
    ///
    /// If this CPU cannot run the kernel ([`Kernel::is_supported`] is false), or a stratified
    /// piece ends past its chunk (`first_trial + trials > grid.trials()`).
    pub fn count(
        self,
        design: Design,
        states: &mut LaneStates,
        first_trial: u64,
        trials: u64,
    ) -> u64 {
        if let Design::Stratified(grid) = design {
            assert!(
                first_trial
                    .checked_add(trials)
                    .is_some_and(|end| end <= grid.trials()),
                "trials {first_trial}..+{trials} are not all in a stratified chunk of {}",
                grid.trials()
            );
        }
        if self == Kernel::Scalar {
            return scalar::count(states, design, first_trial, trials);
        }
        // Finish a partial round lane by lane, as the reference does.
        let lanes = LANES as u64;
        let phase = first_trial % lanes;
        let head = if phase == 0 {
            0
        } else {
            (lanes - phase).min(trials)
        };
        let mut inside = 0;
        for t in first_trial..first_trial + head {
            // Below LANES, so lossless.
            let word = portable::step_lane(&mut states.s, (t % lanes) as usize);
            inside += u64::from(is_inside(design.point(t, word)));
        }
        let (first, trials) = (first_trial + head, trials - head);
        inside
            + match design {
                Design::Plain => self.count_plain(states, trials),
                Design::Stratified(grid) => self.count_stratified(states, grid, first, trials),
            }
    }

    /// The plain count of whole rounds (and a last partial one) from a round's start.
    fn count_plain(self, states: &mut LaneStates, trials: u64) -> u64 {
        match self {
            Kernel::Scalar => scalar::count(states, Design::Plain, 0, trials),
            Kernel::Portable => portable::count(states, trials),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => avx2::count(states, trials),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => avx512::count(states, trials),
            #[cfg(target_arch = "aarch64")]
            Kernel::Neon => neon::count(states, trials),
            other => panic!("the {} kernel cannot run on this CPU", other.name()),
        }
    }

    /// The stratified count from a round's start `first` (a multiple of [`LANES`] unless
    /// `trials` is 0). Grids below [`SIMD_MIN_K`] (chunks of at most 64 trials) go to the
    /// portable kernel: the SIMD kernels' carry from column to row assumes `K > LANES`.
    fn count_stratified(self, states: &mut LaneStates, grid: Grid, first: u64, trials: u64) -> u64 {
        if grid.k() < SIMD_MIN_K {
            return portable::count_stratified(states, grid, first, trials);
        }
        match self {
            Kernel::Scalar => scalar::count(states, Design::Stratified(grid), first, trials),
            Kernel::Portable => portable::count_stratified(states, grid, first, trials),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => avx2::count_stratified(states, grid, first, trials),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => avx512::count_stratified(states, grid, first, trials),
            #[cfg(target_arch = "aarch64")]
            Kernel::Neon => neon::count_stratified(states, grid, first, trials),
            other => panic!("the {} kernel cannot run on this CPU", other.name()),
        }
    }
}

/// The smallest `k` the SIMD kernels count stratified chunks with themselves (`K = 16`).
const SIMD_MIN_K: u32 = 4;

impl std::fmt::Display for Kernel {
    /// The kernel's [`name`](Kernel::name), padded as the format asks.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// Whether the trial drawn from word `w` falls inside the quarter circle (exact test).
#[inline(always)]
pub fn is_inside(w: u64) -> bool {
    let x = w >> 32;
    let y = w & 0xFFFF_FFFF;
    !(x * x).overflowing_add(y * y).1
}

/// Counts the inside trials of a whole plain chunk: `trials` trials of chunk `chunk` for `seed`.
pub fn count_chunk(kernel: Kernel, seed: u64, chunk: u64, trials: u64) -> u64 {
    count_design_chunk(kernel, Design::Plain, seed, chunk, trials)
}

/// Counts the inside trials of the first `trials` trials of chunk `chunk` for `seed` with
/// `design` (a whole stratified chunk has `grid.trials()`).
///
/// # Panics
///
/// As [`Kernel::count`].
pub fn count_design_chunk(
    kernel: Kernel,
    design: Design,
    seed: u64,
    chunk: u64,
    trials: u64,
) -> u64 {
    let mut states = LaneStates::for_chunk(seed, chunk);
    kernel.count(design, &mut states, 0, trials)
}

/// The words chunk `chunk` consumes, in consumption order (lanes interleaved). Unbounded:
/// take as many as the chunk has trials.
pub fn chunk_words(seed: u64, chunk: u64) -> impl Iterator<Item = u64> {
    let states = LaneStates::for_chunk(seed, chunk);
    let mut lanes: Vec<Xoshiro256PlusPlus> = (0..LANES).map(|l| states.lane(l)).collect();
    (0usize..).map(move |t| lanes[t % LANES].next_u64())
}

#[cfg(test)]
mod equivalence;

#[cfg(test)]
mod tests {
    use super::*;

    /// Words on both sides of the circle: for each x, the largest y inside and the next y.
    pub(super) fn boundary_words() -> Vec<u64> {
        let mut words = vec![0, u64::MAX, 0xFFFF_FFFF_0000_0000, 0xFFFF_FFFF];
        for x in [
            0u64,
            1,
            2,
            3,
            1 << 16,
            3_037_000_499,
            3_037_000_500,
            (1 << 32) - 1,
        ]
        .into_iter()
        .chain((0..200).map(|i| i * 21_474_836 + 12_345))
        {
            // Largest y with x² + y² < 2^64, i.e. y² ≤ 2^64 − 1 − x².
            let y = (u64::MAX - x * x).isqrt().min((1 << 32) - 1);
            words.push(x << 32 | y);
            if y < (1 << 32) - 1 {
                words.push(x << 32 | (y + 1));
            }
        }
        words
    }

    #[test]
    fn lane_states_are_the_documented_blake3_output() {
        for (seed, chunk) in [(0u64, 0u64), (0, 1), (7, 23), (u64::MAX, u64::MAX)] {
            let mut input = seed.to_le_bytes().to_vec();
            input.extend_from_slice(&chunk.to_le_bytes());
            // derive_key mode over `input`, extended to 12 × 32 bytes.
            let mut out = [0u8; 32 * LANES];
            blake3::Hasher::new_derive_key(STREAM_CONTEXT)
                .update(&input)
                .finalize_xof()
                .fill(&mut out);
            let states = LaneStates::for_chunk(seed, chunk);
            for lane in 0..LANES {
                let piece: [u8; 32] = out[32 * lane..32 * lane + 32].try_into().unwrap();
                assert_eq!(states.lane(lane), Xoshiro256PlusPlus::from_seed(piece));
                assert_eq!(
                    states.s[0][lane],
                    u64::from_le_bytes(piece[..8].try_into().unwrap())
                );
            }
        }
    }

    const PINNED_SEED0_CHUNK0: [u64; 2] = [14_676_499_207_023_941_373, 10_046_198_339_017_132_564];

    #[test]
    fn stream_context_pins_the_first_words() {
        // Pinned output of seed 0, chunk 0: changing the derivation or the kernel's word use
        // must also change ALGORITHM.
        let words: Vec<u64> = chunk_words(0, 0).take(2).collect();
        assert_eq!(words, PINNED_SEED0_CHUNK0);
        assert_eq!(count_chunk(Kernel::Scalar, 0, 0, 1_000_000), 785_100);
    }

    #[test]
    fn different_chunks_and_seeds_give_different_streams() {
        let first = |seed, chunk| chunk_words(seed, chunk).take(64).collect::<Vec<_>>();
        let a = first(0, 0);
        assert_ne!(a, first(0, 1));
        assert_ne!(a, first(1, 0));
        assert_ne!(first(0, 1), first(1, 0));
        // No word of the first lanes of one chunk shows up in a neighbour's first words.
        let b = first(0, 1);
        assert!(a.iter().all(|w| !b.contains(w)));
    }

    #[test]
    fn lanes_within_a_chunk_differ() {
        let s = LaneStates::for_chunk(5, 5);
        for a in 0..LANES {
            for b in a + 1..LANES {
                assert_ne!(s.lane(a), s.lane(b));
            }
        }
    }

    #[test]
    fn words_are_interleaved_across_lanes() {
        let states = LaneStates::for_chunk(3, 4);
        let mut lane0 = states.lane(0);
        let mut lane1 = states.lane(1);
        let words: Vec<u64> = chunk_words(3, 4).take(2 * LANES).collect();
        assert_eq!(words[0], lane0.next_u64());
        assert_eq!(words[1], lane1.next_u64());
        assert_eq!(words[LANES], lane0.next_u64());
        assert_eq!(words[LANES + 1], lane1.next_u64());
    }

    #[test]
    fn reference_count_matches_the_words_it_consumes() {
        let trials = 10_007;
        let expected = chunk_words(11, 2)
            .take(trials)
            .filter(|&w| is_inside(w))
            .count() as u64;
        assert_eq!(count_chunk(Kernel::Scalar, 11, 2, trials as u64), expected);
    }

    #[test]
    fn inside_test_is_exact_at_the_boundary() {
        // x = 2^32 − 1, y = 0: x² < 2^64, inside.
        assert!(is_inside(0xFFFF_FFFF_0000_0000));
        // x = y = 2^31 · √2 rounded up: 3037000500² · 2 = 18446744073709551616 + ... > 2^64.
        let r = 3_037_000_500u64; // r² = 9223372037000250000 > 2^63
        assert!(!is_inside((r << 32) | r));
        let r = 3_037_000_499u64; // r² = 9223372030926249001 < 2^63
        assert!(is_inside((r << 32) | r));
        // x² + y² = 2^64 exactly is outside: 2^64 = (2^32 − 0)² is out of range, so use the
        // largest sum that fits instead.
        assert!(is_inside(0));
        assert!(!is_inside(u64::MAX));
    }

    #[test]
    fn a_partial_round_leaves_later_lanes_untouched() {
        let mut states = LaneStates::for_chunk(1, 1);
        let before = states.clone();
        Kernel::Scalar.count(Design::Plain, &mut states, 0, 5);
        for lane in 0..LANES {
            assert_eq!(
                states.lane(lane) == before.lane(lane),
                lane >= 5,
                "lane {lane}"
            );
        }
    }
}
