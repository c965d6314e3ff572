//! Statistics of an estimate: the standard error of π̂ and its 95% interval. Pure functions.
//!
//! Each trial is a Bernoulli draw with p = π/4, so π̂ = 4·inside/n has standard error
//! `4·sqrt(p̂(1−p̂)/n)`. The 95% interval is the Wilson score interval for p, scaled by 4: unlike
//! the normal (Wald) interval it stays inside [0, 4] and keeps its coverage at small n.
//!
//! The statistics of timing sweeps (speed-up, Karp–Flatt, Amdahl fit) are in
//! [`crate::scale::stats`], beside the sweep they analyse. The stopping rule of a precision
//! target is in [`stopping`], the convergence series of an estimate in [`convergence`]. The
//! stratified method's statistics (chunks as replicates, the Student-t interval, the chunk-size
//! rules) are in [`replicates`] and [`strata`].

pub mod convergence;
pub mod replicates;
pub mod stopping;
pub mod strata;

/// The two-sided 95% normal quantile, Φ⁻¹(0.975).
pub const Z95: f64 = 1.959_963_984_540_054;

/// The point estimate 4·inside/trials.
pub fn pi_estimate(inside: u64, trials: u64) -> f64 {
    4.0 * inside as f64 / trials as f64
}

/// Standard error of π̂: `4·sqrt(p(1−p)/n)` with `p = inside/trials`.
pub fn std_error(inside: u64, trials: u64) -> f64 {
    let n = trials as f64;
    let p = inside as f64 / n;
    4.0 * (p * (1.0 - p) / n).sqrt()
}

/// Wilson score interval for π at normal quantile `z` (use [`Z95`] for 95%): `[low, high]`.
pub fn wilson_interval(inside: u64, trials: u64, z: f64) -> [f64; 2] {
    let n = trials as f64;
    let p = inside as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    [
        4.0 * (centre - half).max(0.0),
        4.0 * (centre + half).min(1.0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn std_error_matches_the_binomial_formula() {
        // p = 0.75, n = 10000: 4·sqrt(0.75·0.25/10000) = 4·0.00433013 = 0.0173205
        assert!(close(std_error(7500, 10_000), 0.017_320_508, 1e-9));
        assert_eq!(std_error(0, 10), 0.0);
        assert_eq!(std_error(10, 10), 0.0);
    }

    #[test]
    fn wilson_matches_a_textbook_value() {
        // Wilson 95% for 81/263 (a published example): [0.2553, 0.3662] for p.
        let [lo, hi] = wilson_interval(81, 263, Z95);
        assert!(close(lo / 4.0, 0.2553, 5e-4), "{lo}");
        assert!(close(hi / 4.0, 0.3662, 5e-4), "{hi}");
    }

    #[test]
    fn wilson_approaches_the_normal_interval_for_large_n() {
        let (inside, n) = (785_398_163, 1_000_000_000);
        let [lo, hi] = wilson_interval(inside, n, Z95);
        let pi = pi_estimate(inside, n);
        let se = std_error(inside, n);
        // They differ by the Wilson centre shift, about 4·z²/(2n)·(1 − 2p) ≈ 4e-9 here.
        assert!(close(lo, pi - Z95 * se, 2e-8));
        assert!(close(hi, pi + Z95 * se, 2e-8));
    }

    #[test]
    fn wilson_bounds_solve_the_score_equation() {
        // Each bound p satisfies |p̂ − p| = z·sqrt(p(1−p)/n).
        for (inside, n) in [(3, 10), (81, 263), (7_854, 10_000)] {
            let phat = inside as f64 / n as f64;
            for bound in wilson_interval(inside, n, Z95) {
                let p = bound / 4.0;
                let score = Z95 * (p * (1.0 - p) / n as f64).sqrt();
                assert!(close((phat - p).abs(), score, 1e-12), "{inside}/{n}");
            }
        }
    }

    #[test]
    fn wilson_stays_in_range_at_the_extremes() {
        let [lo, hi] = wilson_interval(0, 5, Z95);
        assert_eq!(lo, 0.0);
        assert!(hi > 0.0 && hi < 4.0);
        let [lo, hi] = wilson_interval(5, 5, Z95);
        assert!(lo > 0.0 && lo < 4.0);
        assert_eq!(hi, 4.0);
    }

    #[test]
    fn interval_contains_the_estimate_and_shrinks_with_n() {
        let [a, b] = wilson_interval(785, 1000, Z95);
        let [c, d] = wilson_interval(78_500, 100_000, Z95);
        assert!(a < 3.1 && 3.2 < b);
        assert!(d - c < (b - a) / 9.0);
    }
}
