//! The statistics of an estimate made of whole chunks that are independent replicates (the
//! stratified method): the exact integer tally of the chunk counts ([`Replicates`]), π̂, the
//! standard error of the mean of the chunk estimates, the Student-t 95% interval, the bound that
//! replaces it when the spread cannot be estimated, and the stop of a precision target. Pure
//! functions.
//!
//! # The interval
//!
//! Chunk `j` of `n = 4^k` trials has inside count `c_j` and estimate `π̂_j = 4 c_j / n`; the
//! chunks are independent and identically distributed. Over `m` chunks:
//!
//! * `π̂ = 4 Σc / (m n)`, the mean of the chunk estimates;
//! * `std_error = (4 / (m n)) · sqrt((m Σc² − (Σc)²) / (m − 1))`, the standard error of that
//!   mean, where `m Σc² − (Σc)²` is computed exactly in integers (it is `m² (m − 1) s²` for the
//!   sample variance `s²` of the counts);
//! * the 95% interval `π̂ ± t(0.975; m − 1) · std_error`, Student-t with `m − 1` degrees of
//!   freedom ([`IntervalMethod::StudentT`]). Chunk estimates are close to normal (skew −0.01,
//!   excess kurtosis +0.04 at K = 64), and the t quantile keeps the coverage at 95% where the
//!   normal one gives 88% at m = 5 and 94% at m = 30.
//!
//! With one chunk, or no spread between chunks (every count equal), there is nothing to
//! estimate a spread from: the interval is then **Hoeffding's bound**
//! ([`IntervalMethod::Hoeffding`]), which holds for any distribution. Only the `B` cells whose
//! lattice points are partly inside vary ([`super::strata::boundary_cells`]); over `m` chunks
//! the count is a sum of `B·m` independent indicators plus a constant, so
//! `P(|Σc − E Σc| ≥ u) ≤ 2 exp(−2u² / (B m))`, and `u = sqrt(B m ln(40) / 2)` gives 95%. The
//! `std_error` reported with it is the bound `sqrt(B m / 4)` on the count's standard deviation,
//! in units of π.
//!
//! Like the plain interval, each covers the expected estimate `A / 2^62`, which is π + 9.3e-10
//! ([`crate::sampler`]).
//!
//! # Exact merging
//!
//! A count is at most `n ≤ 2^32`, so `Σc ≤` the trials (a u64) and `Σc² ≤ n Σc < 2^96` (a u128);
//! `m Σc² ≤ m n Σc` and `(Σc)²` both stay below 2^128. Merging adds the three sums: the result
//! does not depend on the order, the threads, the shards or the ranks that produced it.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::Z95;
use super::strata::boundary_cells;
use crate::sampler::Grid;

/// The fewest chunks at which a precision target may stop: fewer would let an early, lucky
/// small spread stop the run (at 20 the sequential rule's coverage is 94.6%, with a floor of 2
/// it is 88%).
pub const MIN_CHUNKS_FOR_TARGET: u64 = 20;

/// The chunk counts of a run as exact integer sums: `m`, `Σc` and `Σc²`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Replicates {
    /// `m`, the chunks counted.
    pub chunks: u64,
    /// `Σc`, the inside trials of all the chunks.
    pub inside: u64,
    /// `Σc²`, the sum of each chunk's inside count squared.
    pub inside_squares: u128,
}

impl Replicates {
    /// No chunks.
    pub const EMPTY: Replicates = Replicates {
        chunks: 0,
        inside: 0,
        inside_squares: 0,
    };

    /// One chunk with `inside` inside.
    pub fn of_chunk(inside: u64) -> Replicates {
        Replicates {
            chunks: 1,
            inside,
            inside_squares: u128::from(inside) * u128::from(inside),
        }
    }

    /// Adds one chunk with `inside` inside.
    pub fn push(&mut self, inside: u64) {
        *self += Replicates::of_chunk(inside);
    }

    /// The merge of two tallies, or `None` if a sum would overflow (never for counts of real
    /// chunks whose trials fit a u64; a guard for tallies read from outside).
    pub fn checked_add(self, other: Replicates) -> Option<Replicates> {
        Some(Replicates {
            chunks: self.chunks.checked_add(other.chunks)?,
            inside: self.inside.checked_add(other.inside)?,
            inside_squares: self.inside_squares.checked_add(other.inside_squares)?,
        })
    }

    /// Whether these sums can come from `chunks` chunks of `chunk_trials` trials: each count at
    /// most `chunk_trials`, so `Σc ≤ m n` and `Σc² ≤ n Σc`, and `(Σc)² ≤ m Σc²`
    /// (Cauchy–Schwarz). A check for tallies read from outside (parts, caches).
    pub fn is_consistent(&self, chunk_trials: u64) -> bool {
        let (m, s, q) = (
            u128::from(self.chunks),
            u128::from(self.inside),
            self.inside_squares,
        );
        let n = u128::from(chunk_trials);
        let lower = s * s; // below 2^128: s < 2^64
        s <= m * n
            && n.checked_mul(s).is_some_and(|bound| q <= bound)
            && m.checked_mul(q).is_some_and(|mq| lower <= mq)
    }

    /// `m Σc² − (Σc)²`, exactly: `m² (m − 1)` times the sample variance of the counts. `None` if
    /// the sums are not consistent (see [`Replicates::is_consistent`]).
    pub fn spread(&self) -> Option<u128> {
        let s = u128::from(self.inside);
        u128::from(self.chunks)
            .checked_mul(self.inside_squares)?
            .checked_sub(s * s)
    }

    /// The estimate `4 Σc / (m n)` for chunks of `grid.trials()` (NaN with no chunks).
    pub fn pi(&self, grid: Grid) -> f64 {
        4.0 * self.inside as f64 / (self.chunks as f64 * grid.trials() as f64)
    }

    /// The estimate, its standard error and 95% interval (see the module docs); `None` with no
    /// chunks or inconsistent sums.
    pub fn summary(&self, grid: Grid) -> Option<ReplicateSummary> {
        if self.chunks == 0 {
            return None;
        }
        let pi = self.pi(grid);
        let spread = self.spread()?;
        let (std_error, half_width, method) = if self.chunks >= 2 && spread > 0 {
            let se = t_std_error(spread, self.chunks, grid);
            (
                se,
                t_quantile(self.chunks - 1) * se,
                IntervalMethod::StudentT,
            )
        } else {
            let b = boundary_cells(grid) as f64;
            let m = self.chunks as f64;
            let scale = 4.0 / (m * grid.trials() as f64);
            let se = scale * (b * m / 4.0).sqrt();
            let half = scale * (b * m * 40f64.ln() / 2.0).sqrt();
            (se, half, IntervalMethod::Hoeffding)
        };
        Some(ReplicateSummary {
            pi,
            std_error,
            half_width,
            interval: [(pi - half_width).max(0.0), (pi + half_width).min(4.0)],
            method,
        })
    }

    /// The least 95% half-width that any prefix of `chunks` chunks (at least these, at least
    /// 2) beginning with these can have, however the chunks after these fall: the sum of
    /// squared deviations `spread / m` never falls as chunks are added, and both the t
    /// quantile and `1 / sqrt(m (m − 1))` fall with `m`, so
    /// `t(chunks − 1) · (4/n) · sqrt(SS / (chunks (chunks − 1)))` bounds every prefix up to
    /// `chunks` from below. 0 when these chunks have no spread (a later bound may be a Hoeffding
    /// one, or the spread may still be 0).
    pub fn least_half_width(&self, grid: Grid, chunks: u64) -> f64 {
        let m = self.chunks;
        let Some(spread) = self.spread().filter(|&s| s > 0 && m >= 2) else {
            return 0.0;
        };
        let (big_m, ss) = (chunks.max(m) as f64, spread as f64 / m as f64);
        t_quantile(chunks.max(m) - 1) * 4.0 / grid.trials() as f64
            * (ss / (big_m * (big_m - 1.0))).sqrt()
    }

    /// Whether a run with precision target `target` (a 95% half-width) stops after these chunks:
    /// at least [`MIN_CHUNKS_FOR_TARGET`] and a half-width of at most `target`.
    pub fn target_met(&self, grid: Grid, target: f64) -> bool {
        self.chunks >= MIN_CHUNKS_FOR_TARGET
            && self.summary(grid).is_some_and(|s| s.half_width <= target)
    }
}

impl std::ops::Add for Replicates {
    type Output = Replicates;

    /// The exact merge (component-wise sums).
    fn add(self, other: Replicates) -> Replicates {
        Replicates {
            chunks: self.chunks + other.chunks,
            inside: self.inside + other.inside,
            inside_squares: self.inside_squares + other.inside_squares,
        }
    }
}

impl std::ops::AddAssign for Replicates {
    fn add_assign(&mut self, other: Replicates) {
        *self = *self + other;
    }
}

/// Which interval a [`ReplicateSummary`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntervalMethod {
    /// Student-t with `m − 1` degrees of freedom from the spread between chunks.
    StudentT,
    /// Hoeffding's bound over the boundary cells: one chunk, or no spread.
    Hoeffding,
}

impl IntervalMethod {
    /// The name the JSON report's `ci_method` gives it.
    pub fn name(self) -> &'static str {
        match self {
            IntervalMethod::StudentT => "student-t",
            IntervalMethod::Hoeffding => "hoeffding",
        }
    }
}

/// An estimate from replicate chunks (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplicateSummary {
    /// π̂ = 4 Σc / (m n).
    pub pi: f64,
    /// The standard error of π̂ (for the Hoeffding bound: its bound on the standard deviation).
    pub std_error: f64,
    /// Half the width of the 95% interval before clipping to [0, 4].
    pub half_width: f64,
    /// The 95% interval, `[low, high]`, within [0, 4].
    pub interval: [f64; 2],
    /// Which interval it is.
    pub method: IntervalMethod,
}

/// The standard error of the mean of `chunks` chunk estimates whose counts have
/// `m Σc² − (Σc)² = spread`: `(4 / (m n)) · sqrt(spread / (m − 1))`. `chunks` ≥ 2.
fn t_std_error(spread: u128, chunks: u64, grid: Grid) -> f64 {
    let m = chunks as f64;
    4.0 / (m * grid.trials() as f64) * (spread as f64 / (m - 1.0)).sqrt()
}

/// The 97.5% quantile of Student's t with `dof` ≥ 1 degrees of freedom: the factor of a
/// two-sided 95% interval. From `statrs` up to 1000 degrees of freedom; beyond, where its
/// inverse loses digits (1.8266 at 10^7), the Cornish–Fisher expansion
/// `z + (z³ + z)/(4ν) + (5z⁵ + 16z³ + 3z)/(96ν²)`, whose next term is below 3e-9 there.
pub fn t_quantile(dof: u64) -> f64 {
    if dof > 1000 {
        let (z, nu) = (Z95, dof as f64);
        let (z3, z5) = (z.powi(3), z.powi(5));
        return z + (z3 + z) / (4.0 * nu) + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * nu * nu);
    }
    // Location 0, scale 1 and a positive finite number of degrees of freedom are valid.
    StudentsT::new(0.0, 1.0, dof as f64).map_or(Z95, |t| t.inverse_cdf(0.975))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(k: u32) -> Grid {
        Grid::new(k).unwrap()
    }

    fn of(counts: &[u64]) -> Replicates {
        let mut r = Replicates::EMPTY;
        for &c in counts {
            r.push(c);
        }
        r
    }

    #[test]
    fn t_quantiles_match_published_tables() {
        for (dof, q) in [
            (1, 12.706_204_736),
            (2, 4.302_652_730),
            (9, 2.262_157_163),
            (19, 2.093_024_054),
            (29, 2.045_229_642),
            (100, 1.983_971_519),
        ] {
            assert!(
                (t_quantile(dof) - q).abs() < 1e-6,
                "{dof}: {}",
                t_quantile(dof)
            );
        }
        // Both sides of the switch to the expansion agree, and it tends to the normal quantile.
        assert!((t_quantile(1000) - 1.962_339_081).abs() < 1e-8);
        assert!((t_quantile(1001) - 1.962_336_703).abs() < 1e-8);
        assert!((t_quantile(100_000) - 1.959_987_7).abs() < 1e-7);
        assert!((t_quantile(u64::MAX) - Z95).abs() < 1e-15);
    }

    #[test]
    fn the_interval_from_integer_sums_equals_the_direct_computation() {
        let g = grid(4);
        let n = g.trials() as f64;
        for counts in [
            vec![200, 201],
            vec![199, 201, 200, 202, 198],
            vec![201, 200, 200, 200, 199, 203, 201, 200, 198, 200, 202],
        ] {
            let s = of(&counts).summary(g).unwrap();
            let est: Vec<f64> = counts.iter().map(|&c| 4.0 * c as f64 / n).collect();
            let m = est.len() as f64;
            let mean = est.iter().sum::<f64>() / m;
            let var = est.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (m - 1.0);
            let se = (var / m).sqrt();
            let half = t_quantile(counts.len() as u64 - 1) * se;
            assert_eq!(s.method, IntervalMethod::StudentT);
            assert!((s.pi - mean).abs() < 1e-15, "{counts:?}");
            assert!(
                (s.std_error - se).abs() < 1e-12 * se.max(1e-300),
                "{counts:?}"
            );
            assert!((s.half_width - half).abs() < 1e-12, "{counts:?}");
            assert!((s.interval[0] - (mean - half)).abs() < 1e-12);
            assert!((s.interval[1] - (mean + half)).abs() < 1e-12);
        }
    }

    #[test]
    fn the_spread_is_exact_where_f64_is_not() {
        // Counts near 2^32 whose squares lose their low bits in f64.
        let g = grid(16);
        let big = (1u64 << 32) - 5;
        let r = of(&[big, big + 1, big, big + 2]);
        // m Σc² − (Σc)² = m² (m − 1) s²; the counts' offsets 0, 1, 0, 2 have sum 3, sum of
        // squares 5: 4·5 − 3² = 11.
        assert_eq!(r.spread(), Some(11));
        let s = r.summary(g).unwrap();
        let expected = 4.0 / (4.0 * g.trials() as f64) * (11.0f64 / 3.0).sqrt();
        assert!((s.std_error - expected).abs() < 1e-24);
    }

    #[test]
    fn one_chunk_or_no_spread_gives_the_hoeffding_bound() {
        let g = grid(5);
        let one = of(&[800]).summary(g).unwrap();
        assert_eq!(one.method, IntervalMethod::Hoeffding);
        let b = boundary_cells(g) as f64;
        let n = g.trials() as f64;
        assert!((one.half_width - 4.0 / n * (b * 40f64.ln() / 2.0).sqrt()).abs() < 1e-15);
        assert!((one.std_error - 2.0 * b.sqrt() / n).abs() < 1e-15);
        let flat = of(&[800; 9]).summary(g).unwrap();
        assert_eq!(flat.method, IntervalMethod::Hoeffding);
        // Over m chunks the bound shrinks as 1/√m.
        assert!((flat.half_width * 3.0 - one.half_width).abs() < 1e-12);
        assert!(flat.interval[0] < flat.pi && flat.pi < flat.interval[1]);
        assert_eq!(Replicates::EMPTY.summary(g), None);
        assert_eq!(IntervalMethod::StudentT.name(), "student-t");
        assert_eq!(IntervalMethod::Hoeffding.name(), "hoeffding");
    }

    #[test]
    fn merging_is_exact_and_order_free() {
        let counts = [3u64, 4, 4, 2, 3, 4, 3, 3];
        let whole = of(&counts);
        let (a, b) = counts.split_at(3);
        assert_eq!(of(a) + of(b), whole);
        assert_eq!(of(b) + of(a), whole);
        assert_eq!(of(a).checked_add(of(b)), Some(whole));
        let full = Replicates {
            chunks: u64::MAX,
            ..Replicates::EMPTY
        };
        assert_eq!(full.checked_add(of(&[1])), None);
        assert!(whole.is_consistent(4));
        assert!(!whole.is_consistent(3), "a count of 4 in chunks of 3");
        let forged = Replicates {
            inside_squares: 1,
            ..whole
        };
        assert!(!forged.is_consistent(4));
        assert_eq!(forged.spread(), None);
        assert_eq!(forged.summary(grid(1)), None);
    }

    #[test]
    fn the_least_half_width_bounds_every_longer_prefix_from_below() {
        use crate::sampler::{Design, Kernel, count_design_chunk};
        let g = grid(4);
        let design = Design::Stratified(g);
        for seed in 0..20 {
            let counts: Vec<u64> = (0..60)
                .map(|i| count_design_chunk(Kernel::Scalar, design, seed, i, g.trials()))
                .collect();
            for m0 in 2..40 {
                let before = of(&counts[..m0]);
                // Exact at its own length: the t half-width of these chunks (with a spread).
                if before.spread() > Some(0) {
                    let own = before.summary(g).unwrap().half_width;
                    let least = before.least_half_width(g, m0 as u64);
                    assert!((least - own).abs() <= 1e-12 * own, "{least} {own}");
                }
                for end in m0 + 1..=60 {
                    let least = before.least_half_width(g, end as u64);
                    for m in m0 + 1..=end {
                        let actual = of(&counts[..m]).summary(g).unwrap().half_width;
                        assert!(least <= actual, "seed {seed}: {m0}..{m} of {end}");
                    }
                }
            }
        }
        // No spread yet: nothing is known.
        assert_eq!(of(&[5, 5]).least_half_width(g, 30), 0.0);
        assert_eq!(of(&[5]).least_half_width(g, 30), 0.0);
    }

    #[test]
    fn a_target_waits_for_the_minimum_chunks() {
        let g = grid(4);
        let mut r = Replicates::EMPTY;
        for i in 0..MIN_CHUNKS_FOR_TARGET - 1 {
            r.push(200 + i % 3);
            assert!(!r.target_met(g, 1.0), "{i}");
        }
        r.push(201);
        assert!(r.target_met(g, 1.0));
        assert!(!r.target_met(g, 1e-9));
    }
}
