//! Coverage of the 95% interval under the stopping rule of a precision target: over hundreds of
//! seeds, runs that stop by the rule must cover π about 95% of the time. A deliberately biased
//! rule, one that looks at the estimate's value and not only its half-width, is run against the
//! same check to show that its tolerance can fail.

use std::num::NonZeroUsize;
use std::sync::atomic::AtomicBool;

use piest::runner::{Limits, MonotonicClock, RunSpec, Silent, StoppedBy, run_until};
use piest::sampler::count_chunk;
use piest::stats::stopping::{StoppingRule, half_width};
use piest::{Kernel, Plan, stats};

const SEEDS: u64 = 300;
/// Small chunks: the rule looks at the run after every 200 trials, a hundred times or more.
const CHUNK: u64 = 200;
const MIN_TRIALS: u64 = 2_000;
/// About 26,000 trials at p = π/4.
const TARGET: f64 = 0.02;

fn covers(inside: u64, trials: u64) -> bool {
    let [low, high] = stats::wilson_interval(inside, trials, stats::Z95);
    low <= std::f64::consts::PI && std::f64::consts::PI <= high
}

/// Whether `covered` of `SEEDS` intervals is within four binomial standard deviations of 95%.
fn within_tolerance(covered: u64) -> bool {
    let k = SEEDS as f64;
    (covered as f64 - 0.95 * k).abs() < 4.0 * (k * 0.95 * 0.05).sqrt()
}

#[test]
fn intervals_at_the_rules_stop_cover_pi_at_the_nominal_rate() {
    let rule = StoppingRule::with_min_trials(TARGET, MIN_TRIALS).unwrap();
    let limits = Limits {
        target: Some(rule),
        max_time: None,
    };
    let mut covered = 0;
    let mut stops = Vec::new();
    for seed in 0..SEEDS {
        let spec = RunSpec {
            plan: Plan::new(u64::MAX, CHUNK).unwrap(),
            seed,
            workers: NonZeroUsize::new(2).unwrap(),
            kernel: Kernel::best(),
            method: piest::sampler::Method::Plain,
        };
        let clock = MonotonicClock::new();
        let out = run_until(
            &spec,
            &limits,
            None,
            &Silent,
            &AtomicBool::new(false),
            &clock,
        )
        .unwrap();
        assert_eq!(out.stopped_by, StoppedBy::TargetError);
        let (inside, trials) = (out.tally.inside(), out.tally.trials());
        assert!(half_width(inside, trials) <= TARGET);
        covered += u64::from(covers(inside, trials));
        stops.push(trials);
    }
    eprintln!("rule: {covered} of {SEEDS} intervals covered π");
    stops.sort_unstable();
    // The stop moves with the data: it is not one fixed length.
    assert!(stops[0] < stops[stops.len() - 1], "{stops:?}");
    assert!(within_tolerance(covered), "{covered} of {SEEDS} covered π");
}

#[test]
fn a_rule_that_looks_at_the_estimate_falls_outside_the_tolerance() {
    // "Stop once the target is met, or as soon as the interval excludes the value one expects":
    // sampling to a foregone conclusion. Scanned over the same chunks as the real rule.
    let rule = StoppingRule::with_min_trials(TARGET, MIN_TRIALS).unwrap();
    // A rounded value a user might expect: deliberately not the constant.
    #[allow(clippy::approx_constant)]
    let expected = 3.1416;
    let mut covered = 0;
    for seed in 0..SEEDS {
        let (mut inside, mut trials) = (0, 0);
        for chunk in 0.. {
            inside += count_chunk(Kernel::best(), seed, chunk, CHUNK);
            trials += CHUNK;
            if trials < MIN_TRIALS {
                continue;
            }
            let [low, high] = stats::wilson_interval(inside, trials, stats::Z95);
            if rule.may_stop(inside, trials) || !(low..=high).contains(&expected) {
                break;
            }
        }
        covered += u64::from(covers(inside, trials));
    }
    eprintln!("biased rule: {covered} of {SEEDS} intervals covered π");
    assert!(
        !within_tolerance(covered),
        "a biased rule passed: {covered} of {SEEDS} covered π"
    );
}
