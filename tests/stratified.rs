//! Statistical checks of the stratified method's interval: over many seeds, the Student-t 95%
//! interval from the spread between chunks must cover π about 95% of the time, at a fixed number
//! of chunks and at the stop of a precision target; the same check of a rule known to be wrong
//! (the normal quantile, stopping as early as two chunks) must fail, to prove the check can.
//! Chunks are counted with the sampler directly. The seeds are fixed: each check is one
//! deterministic draw whose tolerance is three binomial standard deviations.

use piest::Kernel;
use piest::sampler::{Design, Grid, count_design_chunk};
use piest::stats::Z95;
use piest::stats::replicates::{MIN_CHUNKS_FOR_TARGET, Replicates};

const PI: f64 = std::f64::consts::PI;

/// Chunks of 4^5 = 1024 trials: a 32 × 32 grid.
fn grid() -> Grid {
    Grid::new(5).expect("a valid grid")
}

/// The inside counts of chunks `0..chunks` for `seed`.
fn chunk_counts(seed: u64, chunks: u64) -> Vec<u64> {
    let g = grid();
    (0..chunks)
        .map(|c| count_design_chunk(Kernel::best(), Design::Stratified(g), seed, c, g.trials()))
        .collect()
}

/// Three binomial standard deviations of the number of covering intervals out of `runs`.
fn three_sd(runs: u64) -> f64 {
    3.0 * (runs as f64 * 0.95 * 0.05).sqrt()
}

#[test]
fn the_t_interval_covers_pi_95_percent_of_the_time_at_thirty_chunks() {
    const SEEDS: u64 = 400;
    let covered = (0..SEEDS)
        .filter(|&seed| {
            let mut r = Replicates::EMPTY;
            for c in chunk_counts(seed, 30) {
                r.push(c);
            }
            let s = r.summary(grid()).expect("30 chunks");
            s.interval[0] <= PI && PI <= s.interval[1]
        })
        .count() as u64;
    let expected = 0.95 * SEEDS as f64;
    println!("fixed m = 30: {covered}/{SEEDS} intervals cover π (expected {expected})");
    assert!(
        (covered as f64 - expected).abs() <= three_sd(SEEDS),
        "{covered}/{SEEDS}"
    );
}

/// Where a sequential rule stops a run: the first `m ≥ floor` whose half-width (from
/// `half_width`) is at most `target`, or the last chunk. Returns whether its interval covers π.
fn stops_covering(
    counts: &[u64],
    floor: u64,
    target: f64,
    half_width: impl Fn(&Replicates) -> f64,
) -> bool {
    let g = grid();
    let mut r = Replicates::EMPTY;
    for &c in counts {
        r.push(c);
        if r.chunks >= floor && half_width(&r) <= target {
            break;
        }
    }
    (r.pi(g) - PI).abs() <= half_width(&r)
}

/// Target runs over `seeds` seeds with a rule; the number whose interval at the stop covers π.
fn sequential_coverage(seeds: u64, floor: u64, half_width: &dyn Fn(&Replicates) -> f64) -> u64 {
    // About 30 chunks expected at the stop: σ of one chunk's π̂ ≈ 0.0109 at 4^5.
    let target = 0.004;
    (0..seeds)
        .filter(|&i| stops_covering(&chunk_counts(10_000 + i, 400), floor, target, half_width))
        .count() as u64
}

#[test]
fn target_runs_stopped_by_the_t_rule_cover_pi_and_the_normal_rule_with_a_floor_of_two_does_not() {
    const SEEDS: u64 = 300;
    let floor = SEEDS as f64 * 0.95 - three_sd(SEEDS);
    let g = grid();
    // The rule piest uses: the summary's half-width, from 20 chunks on.
    let t_rule = |r: &Replicates| r.summary(g).map_or(f64::INFINITY, |s| s.half_width);
    let covered = sequential_coverage(SEEDS, MIN_CHUNKS_FOR_TARGET, &t_rule);
    println!("t, floor 20: {covered}/{SEEDS} cover π at the stop (need ≥ {floor:.1})");
    assert!(covered as f64 >= floor, "{covered}/{SEEDS}");

    // The negative control: 1.96 standard errors, stopping from two chunks on.
    let z_rule = |r: &Replicates| r.summary(g).map_or(f64::INFINITY, |s| Z95 * s.std_error);
    let naive = sequential_coverage(SEEDS, 2, &z_rule);
    println!("z, floor 2 (negative control): {naive}/{SEEDS} cover π at the stop");
    assert!(
        (naive as f64) < floor,
        "the check must be able to fail: {naive}/{SEEDS}"
    );
}

#[test]
fn the_spread_between_chunks_is_the_predicted_one() {
    // The sample variance of 2000 chunk counts against Σ p(1 − p) from the cells' areas:
    // within 4 standard errors of a variance (√(2/(m−1)) relative, plus the kurtosis term).
    let g = grid();
    let mut r = Replicates::EMPTY;
    for c in chunk_counts(77, 2000) {
        r.push(c);
    }
    let m = r.chunks as f64;
    let variance = r.spread().expect("consistent") as f64 / (m * (m - 1.0));
    let predicted = piest::stats::strata::chunk_count_variance(g);
    println!("chunk count variance {variance:.3}, predicted {predicted:.3}");
    assert!(
        (variance / predicted - 1.0).abs() < 4.0 * (2.0 / (m - 1.0)).sqrt() * 1.2,
        "{variance} against {predicted}"
    );
}

/// The same check through the runner: `--target-error` runs (2 workers) stop where the t rule
/// does, their reports' intervals cover π within three binomial SDs of 95% or above, and on the
/// very same seeds the negative control (normal quantile, stopping from two chunks on) fails.
#[test]
fn target_runs_through_the_runner_cover_pi_at_their_stop() {
    use piest::report::Report;
    use piest::runner::prefix::{Limits, MonotonicClock, run_until};
    use piest::runner::{RunSpec, Silent};
    use piest::sampler::Method;
    use piest::stats::stopping::StoppingRule;
    use std::num::NonZeroUsize;
    use std::sync::atomic::AtomicBool;

    const SEEDS: u64 = 300;
    let g = grid();
    let n = g.trials();
    let target = 0.004;
    let limits = Limits {
        target: Some(StoppingRule::stratified(target, g).expect("a valid target")),
        max_time: None,
    };
    let mut covered = 0;
    let mut naive = 0;
    for i in 0..SEEDS {
        let seed = 10_000 + i;
        let spec = RunSpec {
            plan: piest::Plan::new(400 * n, n).expect("a plan"),
            seed,
            workers: NonZeroUsize::new(2).expect("two"),
            kernel: Kernel::best(),
            method: Method::Stratified,
        };
        let cancel = AtomicBool::new(false);
        let out = run_until(
            &spec,
            &limits,
            None,
            &Silent,
            &cancel,
            &MonotonicClock::new(),
        )
        .expect("a run");
        let report = Report::of_outcome(&out, &limits, 2, "best");
        assert_eq!(report.ci_method, "student-t");
        if (report.pi - PI).abs() <= report.ci95_half_width {
            covered += 1;
        }
        let counts = chunk_counts(seed, 400);
        let z_rule = |r: &Replicates| r.summary(g).map_or(f64::INFINITY, |s| Z95 * s.std_error);
        if stops_covering(&counts, 2, target, z_rule) {
            naive += 1;
        }
    }
    let floor = SEEDS as f64 * 0.95 - three_sd(SEEDS);
    println!("runner, t, floor 20: {covered}/{SEEDS} cover π at the stop (need ≥ {floor:.1})");
    println!("z, floor 2 (negative control): {naive}/{SEEDS}");
    assert!(covered as f64 >= floor, "{covered}/{SEEDS}");
    assert!(
        (naive as f64) < floor,
        "the check must be able to fail: {naive}/{SEEDS}"
    );
}
