//! The sampling methods ([`Method`]), the stratified chunk's grid ([`Grid`]) and the design a
//! kernel counts ([`Design`]: a method with what its chunk size fixes). The specification is in
//! the [module docs](super).

use std::fmt;
use std::str::FromStr;

use super::ALGORITHM;

/// Version string of the stratified algorithm (see the module docs of [`super`]). Any change to
/// the counts a seed produces with it must change this string.
pub const STRATIFIED_ALGORITHM: &str = "piest-blake3-xoshiro256pp-x12-u32pair-stratified-v1";

/// How a chunk's words become points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Method {
    /// Every dart anywhere in the square (the plain algorithm).
    #[default]
    Plain,
    /// One dart per cell of a `2^k × 2^k` grid: chunks of `4^k` trials.
    Stratified,
}

/// Why a method name was refused by [`Method::from_name`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MethodError {
    /// No method has this name.
    #[error("unknown method '{name}': expected {}", Method::ALL.map(Method::name).join(", "))]
    Unknown {
        /// The name as given.
        name: String,
    },
}

impl Method {
    /// Every method, the default first.
    pub const ALL: [Method; 2] = [Method::Plain, Method::Stratified];

    /// Short name, as `--method` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Method::Plain => "plain",
            Method::Stratified => "stratified",
        }
    }

    /// The version string of the method's algorithm: part of every cache key and report.
    pub fn algorithm(self) -> &'static str {
        match self {
            Method::Plain => ALGORITHM,
            Method::Stratified => STRATIFIED_ALGORITHM,
        }
    }

    /// The method a name gives (case and surrounding spaces ignored).
    pub fn from_name(name: &str) -> Result<Method, MethodError> {
        let trimmed = name.trim();
        Method::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| MethodError::Unknown {
                name: trimmed.into(),
            })
    }

    /// The design of chunks of `chunk_size` trials with this method: any size for plain, `4^k`
    /// for stratified.
    pub fn design(self, chunk_size: u64) -> Result<Design, ChunkSizeError> {
        match self {
            Method::Plain => Ok(Design::Plain),
            Method::Stratified => Grid::for_chunk_size(chunk_size).map(Design::Stratified),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Method {
    type Err = MethodError;

    fn from_str(name: &str) -> Result<Method, MethodError> {
        Method::from_name(name)
    }
}

/// The grid of a stratified chunk: `K = 2^k` cells per axis, `n = 4^k` trials, `1 ≤ k ≤ 16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grid {
    k: u32,
}

/// Why a stratified chunk size was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChunkSizeError {
    /// Not `4^k` for any `1 ≤ k ≤ 16`.
    #[error("a stratified chunk has 4^k trials (k = 1 to 16), not {}: {}", group(*.size), nearest(*.size))]
    NotPowerOfFour {
        /// The size as given.
        size: u64,
    },
}

impl ChunkSizeError {
    /// The allowed sizes nearest the refused one: the largest below it and the smallest above.
    pub fn nearest(&self) -> (Option<Grid>, Option<Grid>) {
        match *self {
            ChunkSizeError::NotPowerOfFour { size } => Grid::around(size),
        }
    }
}

/// `n` with a comma between groups of three digits.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The allowed sizes around `size`, in words.
fn nearest(size: u64) -> String {
    let show = |g: Grid| format!("4^{} = {}", g.k, group(g.trials()));
    match Grid::around(size) {
        (Some(below), Some(above)) => {
            format!("the nearest are {} and {}", show(below), show(above))
        }
        (None, Some(above)) => format!("the smallest is {}", show(above)),
        (Some(below), None) => format!("the largest is {}", show(below)),
        (None, None) => unreachable!("some grid is below or above any size"),
    }
}

impl Grid {
    /// The smallest `k`.
    pub const MIN_K: u32 = 1;
    /// The largest `k`: `4^16 = 2^32` trials, a cell still 2^16 lattice points wide.
    pub const MAX_K: u32 = 16;

    /// The grid with `2^k` cells per axis, if `MIN_K ≤ k ≤ MAX_K`.
    pub fn new(k: u32) -> Option<Grid> {
        (Grid::MIN_K..=Grid::MAX_K)
            .contains(&k)
            .then_some(Grid { k })
    }

    /// The grid of a chunk of `size` trials, which must be `4^k` with `1 ≤ k ≤ 16`.
    pub fn for_chunk_size(size: u64) -> Result<Grid, ChunkSizeError> {
        Grid::all()
            .find(|g| g.trials() == size)
            .ok_or(ChunkSizeError::NotPowerOfFour { size })
    }

    /// Every grid, smallest first.
    pub fn all() -> impl DoubleEndedIterator<Item = Grid> {
        (Grid::MIN_K..=Grid::MAX_K).map(|k| Grid { k })
    }

    /// The largest grid with fewer trials than `size` and the smallest with more.
    pub fn around(size: u64) -> (Option<Grid>, Option<Grid>) {
        (
            Grid::all().rev().find(|g| g.trials() < size),
            Grid::all().find(|g| g.trials() > size),
        )
    }

    /// `k`: the grid has `2^k` cells per axis.
    pub fn k(self) -> u32 {
        self.k
    }

    /// `K = 2^k`, cells per axis.
    pub fn cells_per_axis(self) -> u64 {
        1 << self.k
    }

    /// `n = 4^k`: the trials of a chunk, one per cell.
    pub fn trials(self) -> u64 {
        1 << (2 * self.k)
    }

    /// The point of trial `t` of the chunk drawn from word `w`, as a word `x << 32 | y` that
    /// [`super::is_inside`] tests: the specification's formulas, term by term.
    #[inline(always)]
    pub fn point(self, t: u64, w: u64) -> u64 {
        let k = self.k;
        let (i, j) = (t >> k, t & (self.cells_per_axis() - 1));
        let x = (i << (32 - k)) | (w >> (32 + k));
        let y = (j << (32 - k)) | ((w & 0xFFFF_FFFF) >> k);
        x << 32 | y
    }

    /// The corner of trial `t`'s cell as the bits [`Grid::point`] ORs into the word:
    /// `i << (64 − k) | j << (32 − k)`. The SIMD kernels add [`Grid::round_step`] to it each
    /// round.
    #[inline(always)]
    pub(super) fn corner(self, t: u64) -> u64 {
        let k = self.k;
        let (i, j) = (t >> k, t & (self.cells_per_axis() - 1));
        (i << (64 - k)) | (j << (32 - k))
    }

    /// What one round of [`super::LANES`] trials adds to a lane's [`Grid::corner`] while it stays
    /// in its row of cells.
    pub(super) fn round_step(self) -> u64 {
        (super::LANES as u64) << (32 - self.k)
    }

    /// The bits between the column and row fields of a [`Grid::corner`] (bits 32 to 64 − k).
    /// Set before adding [`Grid::round_step`], they carry a column that passes `K` into the row
    /// (one row at most, since `K ≥ 16 >` [`super::LANES`] where the SIMD kernels use it);
    /// cleared after.
    pub(super) fn gap(self) -> u64 {
        ((1u64 << (32 - self.k)) - 1) << 32
    }

    /// How many rounds starting at trial `t` (lane 0's trial, `t` a multiple of
    /// [`super::LANES`]) can each be followed by adding [`Grid::round_step`] to every lane's
    /// corner with no lane leaving its row: the rounds before the next one that needs the carry.
    #[inline]
    pub(super) fn rounds_in_row(self, t: u64) -> u64 {
        let lanes = super::LANES as u64;
        let next_row = ((t >> self.k) + 1) << self.k;
        // The update after the round at t moves trial t + l to t + l + 12 for every lane l; it
        // stays in the row iff no row starts in (t, t + 23].
        let room = next_row - t;
        if room >= 2 * lanes {
            (room - 2 * lanes) / lanes + 1
        } else {
            0
        }
    }
}

impl fmt::Display for Grid {
    /// `4^k`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "4^{}", self.k)
    }
}

/// What a kernel counts: the method, with the grid a stratified chunk size fixes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Design {
    /// The plain algorithm.
    #[default]
    Plain,
    /// The stratified algorithm on this grid (chunks of `grid.trials()` trials).
    Stratified(Grid),
}

impl Design {
    /// The method.
    pub fn method(self) -> Method {
        match self {
            Design::Plain => Method::Plain,
            Design::Stratified(_) => Method::Stratified,
        }
    }

    /// The method's algorithm version string.
    pub fn algorithm(self) -> &'static str {
        self.method().algorithm()
    }

    /// The point of trial `t` of a chunk drawn from word `w`, as a word `x << 32 | y`: `w`
    /// itself for plain, [`Grid::point`] for stratified.
    #[inline(always)]
    pub fn point(self, t: u64, w: u64) -> u64 {
        match self {
            Design::Plain => w,
            Design::Stratified(grid) => grid.point(t, w),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_and_print_by_name() {
        for m in Method::ALL {
            assert_eq!(Method::from_name(m.name()), Ok(m));
            assert_eq!(m.name().to_uppercase().parse::<Method>(), Ok(m));
            assert_eq!(m.to_string(), m.name());
        }
        assert_eq!(Method::from_name(" Stratified "), Ok(Method::Stratified));
        let err = Method::from_name("jittered").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown method 'jittered': expected plain, stratified"
        );
        assert_eq!(Method::default(), Method::Plain);
    }

    #[test]
    fn algorithms_are_distinct_and_plain_is_unchanged() {
        assert_eq!(Method::Plain.algorithm(), ALGORITHM);
        assert_eq!(
            ALGORITHM, "piest-blake3-xoshiro256pp-x12-u32pair-v1",
            "the plain algorithm's name never changes"
        );
        assert_ne!(Method::Stratified.algorithm(), ALGORITHM);
        assert!(STRATIFIED_ALGORITHM.ends_with("-stratified-v1"));
    }

    #[test]
    fn chunk_sizes_must_be_powers_of_four() {
        for k in 1..=16 {
            let g = Grid::for_chunk_size(1 << (2 * k)).unwrap();
            assert_eq!(
                (g.k(), g.cells_per_axis(), g.trials()),
                (k, 1 << k, 1 << (2 * k))
            );
            assert_eq!(Grid::new(k), Some(g));
            assert_eq!(
                Method::Stratified.design(g.trials()),
                Ok(Design::Stratified(g))
            );
        }
        assert_eq!(Grid::new(0), None);
        assert_eq!(Grid::new(17), None);
        assert_eq!(Method::Plain.design(1000), Ok(Design::Plain));
        for bad in [0, 1, 2, 3, 8, 1000, 1 << 33, 1 << 34, u64::MAX] {
            assert!(Grid::for_chunk_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_refused_chunk_size_names_the_nearest_allowed_ones() {
        let err = Method::Stratified.design(1_000_000).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a stratified chunk has 4^k trials (k = 1 to 16), not 1,000,000: \
             the nearest are 4^9 = 262,144 and 4^10 = 1,048,576"
        );
        assert_eq!(err.nearest(), (Grid::new(9), Grid::new(10)));
        let small = Grid::for_chunk_size(2).unwrap_err().to_string();
        assert!(small.ends_with("not 2: the smallest is 4^1 = 4"), "{small}");
        let large = Grid::for_chunk_size(1 << 40).unwrap_err().to_string();
        assert!(
            large.ends_with("the largest is 4^16 = 4,294,967,296"),
            "{large}"
        );
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
    }

    #[test]
    fn the_point_follows_the_formulas() {
        let g = Grid::new(2).unwrap();
        // Trial 6 of a 4 × 4 grid: cell (1, 2).
        let w = 0xFFFF_FFFF_FFFF_FFFF;
        let p = g.point(6, w);
        assert_eq!(p >> 32, (1 << 30) | (0xFFFF_FFFF >> 2));
        assert_eq!(p & 0xFFFF_FFFF, (2 << 30) | (0xFFFF_FFFF >> 2));
        assert_eq!(g.point(0, 0), 0);
        // The corner and the shifted halves make the point.
        for t in 0..16 {
            for w in [0, 1, 0x1234_5678_9ABC_DEF0, u64::MAX] {
                let halves = ((w >> 32) >> 2) << 32 | (w & 0xFFFF_FFFF) >> 2;
                assert_eq!(g.point(t, w), halves | g.corner(t));
            }
        }
    }

    #[test]
    fn rounds_in_row_never_cross_a_row_and_stop_just_before_one() {
        for k in 4..=8 {
            let g = Grid::new(k).unwrap();
            for t in (0..g.trials()).step_by(12) {
                let free = g.rounds_in_row(t);
                let moves = |r: u64| {
                    let base = t + 12 * r;
                    (0..12).all(|l| {
                        let a = g.corner(base + l);
                        a.wrapping_add(g.round_step()) == g.corner(base + l + 12)
                    })
                };
                assert!((0..free).all(moves), "k {k} t {t}");
                assert!(!moves(free), "k {k} t {t} free {free}");
                // The update that needs the carry gets it through the gap.
                let base = t + 12 * free;
                for l in 0..12 {
                    let c = g.corner(base + l);
                    let next = ((c | g.gap()).wrapping_add(g.round_step())) & !g.gap();
                    assert_eq!(next, g.corner(base + l + 12), "k {k} t {base} l {l}");
                }
            }
        }
    }
}
