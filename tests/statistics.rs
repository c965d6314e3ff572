//! Statistical checks of the sampler itself: over many seeds, the z-scores (π̂ − π)/SE of
//! independent runs must look standard normal. The same check is run against deliberately broken
//! samplers to prove that its tolerances can fail.

use std::num::NonZeroUsize;
use std::sync::atomic::AtomicBool;

use piest::runner::{self, RunSpec, Silent};
use piest::sampler::chunk_words;
use piest::{Kernel, Plan, stats};

const SEEDS: u64 = 400;
const TRIALS: u64 = 50_000;
const CHUNK: u64 = 5_000;

/// Summary of many runs: mean and variance of z, and how many 95% intervals held π.
#[derive(Debug)]
struct Verdict {
    mean: f64,
    variance: f64,
    covered: u64,
}

/// Collects z-scores and interval coverage of `(inside, trials)` results.
fn verdict(results: &[(u64, u64)]) -> Verdict {
    let pi = std::f64::consts::PI;
    let z: Vec<f64> = results
        .iter()
        .map(|&(inside, n)| (stats::pi_estimate(inside, n) - pi) / stats::std_error(inside, n))
        .collect();
    let k = z.len() as f64;
    let mean = z.iter().sum::<f64>() / k;
    let variance = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1.0);
    let covered = results
        .iter()
        .filter(|&&(inside, n)| {
            let [low, high] = stats::wilson_interval(inside, n, stats::Z95);
            low <= pi && pi <= high
        })
        .count() as u64;
    Verdict {
        mean,
        variance,
        covered,
    }
}

/// Whether the z-scores of `SEEDS` runs are consistent with N(0, 1), at about four standard
/// deviations of each statistic: mean within 4/√k, variance within 4·√(2/(k−1)), coverage within
/// four binomial standard deviations of 95%.
fn looks_standard_normal(v: &Verdict) -> bool {
    let k = SEEDS as f64;
    let mean_ok = v.mean.abs() < 4.0 / k.sqrt();
    let var_ok = (v.variance - 1.0).abs() < 4.0 * (2.0 / (k - 1.0)).sqrt();
    let expected = 0.95 * k;
    let sd = (k * 0.95 * 0.05).sqrt();
    let cover_ok = (v.covered as f64 - expected).abs() < 4.0 * sd;
    mean_ok && var_ok && cover_ok
}

fn piest_run(seed: u64) -> (u64, u64) {
    let spec = RunSpec {
        plan: Plan::new(TRIALS, CHUNK).unwrap(),
        seed,
        workers: NonZeroUsize::new(2).unwrap(),
        kernel: Kernel::best(),
        method: piest::sampler::Method::Plain,
    };
    let tally = runner::run_all(&spec, None, &Silent, &AtomicBool::new(false)).unwrap();
    (tally.inside(), TRIALS)
}

/// A sampler built from piest's own words but with a defect, for the negative controls.
fn broken_run(
    seed: u64,
    words_of: impl Fn(u64, u64) -> Vec<u64>,
    inside: impl Fn(u64) -> bool,
) -> (u64, u64) {
    let plan = Plan::new(TRIALS, CHUNK).unwrap();
    let count = plan
        .iter()
        .map(|c| {
            words_of(seed, c.index)
                .into_iter()
                .take(c.trials as usize)
                .filter(|&w| inside(w))
                .count() as u64
        })
        .sum();
    (count, TRIALS)
}

fn words(seed: u64, chunk: u64) -> Vec<u64> {
    chunk_words(seed, chunk).take(CHUNK as usize).collect()
}

#[test]
fn z_scores_over_many_seeds_are_standard_normal() {
    let results: Vec<(u64, u64)> = (0..SEEDS).map(piest_run).collect();
    let v = verdict(&results);
    assert!(looks_standard_normal(&v), "{v:?}");
}

#[test]
fn the_check_catches_one_stream_reused_for_every_chunk() {
    let results: Vec<(u64, u64)> = (0..SEEDS)
        .map(|s| broken_run(s, |seed, _chunk| words(seed, 0), piest::sampler::is_inside))
        .collect();
    let v = verdict(&results);
    assert!(!looks_standard_normal(&v), "a reused stream passed: {v:?}");
}

#[test]
fn the_check_catches_x_equal_to_y() {
    let diagonal = |w: u64| {
        let x = w >> 32;
        (x * x).checked_add(x * x).is_some()
    };
    let results: Vec<(u64, u64)> = (0..SEEDS).map(|s| broken_run(s, words, diagonal)).collect();
    let v = verdict(&results);
    assert!(!looks_standard_normal(&v), "x == y passed: {v:?}");
}

#[test]
fn the_check_catches_a_seed_that_is_ignored() {
    let results: Vec<(u64, u64)> = (0..SEEDS)
        .map(|_| broken_run(0, words, piest::sampler::is_inside))
        .collect();
    let v = verdict(&results);
    assert!(!looks_standard_normal(&v), "an ignored seed passed: {v:?}");
}

#[test]
fn the_check_catches_a_biased_inside_test() {
    // `<=` against a circle of radius √(2^64 + 2^56) instead of `<` 2^64: a 0.4% bias in p.
    let wide = |w: u64| {
        let (x, y) = (u128::from(w >> 32), u128::from(w & 0xFFFF_FFFF));
        x * x + y * y <= (1u128 << 64) + (1u128 << 56)
    };
    let results: Vec<(u64, u64)> = (0..SEEDS).map(|s| broken_run(s, words, wide)).collect();
    let v = verdict(&results);
    assert!(!looks_standard_normal(&v), "a biased test passed: {v:?}");
}
