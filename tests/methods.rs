//! `--method` as a user meets it: the stratified method through the command line (the count
//! against the library, the same on every worker count and kernel, the report's interval), and
//! its usage errors.

mod common;

use common::{Piest, json, json_of};
use piest::Kernel;
use piest::sampler::{Design, Grid, count_design_chunk};
use piest::stats::replicates::Replicates;

/// The replicate sums of chunks `0..chunks` of `4^k` trials for `seed`, from the sampler.
fn replicates(seed: u64, k: u32, chunks: u64) -> Replicates {
    let g = Grid::new(k).expect("a grid");
    let mut r = Replicates::EMPTY;
    for c in 0..chunks {
        r.push(count_design_chunk(
            Kernel::Scalar,
            Design::Stratified(g),
            seed,
            c,
            g.trials(),
        ));
    }
    r
}

#[test]
fn a_stratified_run_is_the_library_sum_of_its_chunks_with_a_t_interval() {
    let v = json(&[
        "--method",
        "stratified",
        "-n",
        "24e4",
        "--chunk-size",
        "4096",
        "--seed",
        "3",
    ]);
    // 240,000 trials rounded up to 59 chunks of 4^6.
    let r = replicates(3, 6, 59);
    assert_eq!(v["trials"], 59 * 4096);
    assert_eq!(v["requested_trials"], 240_000);
    assert_eq!(v["chunks"], 59);
    assert_eq!(v["chunk_size"], 4096);
    assert_eq!(v["inside"], r.inside);
    assert_eq!(v["method"], "stratified");
    assert_eq!(v["algorithm"], piest::sampler::STRATIFIED_ALGORITHM);
    assert_eq!(v["ci_method"], "student-t");
    let s = r.summary(Grid::new(6).unwrap()).unwrap();
    assert_eq!(v["pi"].as_f64(), Some(s.pi));
    assert_eq!(v["std_error"].as_f64(), Some(s.std_error));
    assert_eq!(v["ci95_half_width"].as_f64(), Some(s.half_width));
    assert_eq!(v["ci95"][0].as_f64(), Some(s.interval[0]));
    assert_eq!(v["ci95"][1].as_f64(), Some(s.interval[1]));
}

#[test]
fn one_chunk_gives_the_hoeffding_bound_and_plain_is_the_default() {
    let v = json(&["--method", "stratified", "-n", "256", "--chunk-size", "256"]);
    assert_eq!(
        (v["chunks"].as_u64(), v["ci_method"].as_str()),
        (Some(1), Some("hoeffding"))
    );
    assert!(v.get("requested_trials").is_none());
    let plain = json(&["-n", "1e5"]);
    assert_eq!(plain["method"], "plain");
    assert_eq!(plain["ci_method"], "wilson");
    let named = json(&["-n", "1e5", "--method", "plain"]);
    assert_eq!(
        (&plain["inside"], &plain["ci95"]),
        (&named["inside"], &named["ci95"])
    );
}

#[test]
fn stratified_counts_are_the_same_on_any_worker_count_and_kernel() {
    let env = Piest::new();
    let mut seen = Vec::new();
    for kernel in Kernel::available() {
        for workers in ["1", "2", "3"] {
            let out = env
                .cmd()
                .env("PIEST_KERNEL", kernel.name())
                .args([
                    "--method",
                    "stratified",
                    "-n",
                    "3e6",
                    "--chunk-size",
                    "65536",
                ])
                .args(["--workers", workers, "--json", "--no-cache"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            seen.push((v["inside"].clone(), v["std_error"].clone()));
        }
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
    assert_eq!(seen[0].0, replicates(0, 8, 46).inside);
}

#[test]
fn the_chunk_size_comes_from_the_trials_when_not_given() {
    // The largest 4^k leaving at least 20 chunks: 1e8 / 20 = 5e6 → 4^11 = 4,194,304.
    let v = json(&["--method", "stratified", "-n", "1e8", "--no-cache"]);
    assert_eq!(v["chunk_size"], 1u64 << 22);
    assert_eq!(v["chunks"], 24);
    assert_eq!(v["trials"], 24u64 << 22);
    let small = json(&["--method", "stratified", "-n", "1000"]);
    // 1000 / 20 = 50 → 4^2 = 16, and 1000 = 62.5 chunks → 63.
    assert_eq!(
        (small["chunk_size"].as_u64(), small["chunks"].as_u64()),
        (Some(16), Some(63))
    );
}

#[test]
fn bad_methods_and_chunk_sizes_are_usage_errors() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--method", "jittered"],
            "unknown method 'jittered': expected plain, stratified",
        ),
        (&["--method", ""], "expected plain, stratified"),
        (
            &["--method", "stratified", "--chunk-size", "1e6"],
            "4^10 = 1,048,576",
        ),
        (
            &["--method", "stratified", "--chunk-size", "1e6"],
            "4^9 = 262,144",
        ),
        (
            &["--method", "stratified", "--chunk-size", "2"],
            "the smallest is 4^1 = 4",
        ),
        (
            &[
                "--method",
                "stratified",
                "--max-time",
                "1s",
                "-n",
                "100",
                "--chunk-size",
                "256",
            ],
            "less than one stratified chunk",
        ),
    ];
    common::assert_usage_errors(&[], cases);
}

#[test]
fn a_stratified_run_is_the_same_with_the_cache_cold_warm_and_refreshed() {
    let env = Piest::new();
    let args = [
        "--method",
        "stratified",
        "-n",
        "2e6",
        "--chunk-size",
        "4096",
        "--seed",
        "8",
    ];
    let (cold, _) = env.json(&args);
    let (warm, _) = env.json(&args);
    let mut refresh = args.to_vec();
    refresh.push("--refresh");
    let (refreshed, _) = env.json(&refresh);
    let mut off = args.to_vec();
    off.push("--no-cache");
    let (uncached, _) = env.json(&off);
    for v in [&cold, &warm, &refreshed, &uncached] {
        assert_eq!(v["inside"], replicates(8, 6, 489).inside);
        for field in [
            "std_error",
            "ci95_half_width",
            "ci95",
            "ci_method",
            "convergence",
        ] {
            assert_eq!(v[field], uncached[field], "{field}");
        }
    }
    // 489 chunks of 4^6 = 4,096 trials: less than a cell of 1,024 chunks, so the cache keeps
    // spans of several chunks with their Σc², which give the interval exactly.
    let hits = |v: &serde_json::Value| (v["cached_chunks"].clone(), v["cache"]["misses"].clone());
    assert_eq!(hits(&cold), (0.into(), 489.into()));
    assert_eq!(hits(&warm), (489.into(), 0.into()));
    assert_eq!(hits(&refreshed), (0.into(), 489.into()));
    assert!(uncached["cache"].is_null());
    // Every cached span recomputed agrees, Σc² included.
    let (verified, _) = env.json(&["cache", "verify"]);
    assert_eq!(verified["chunks"], 489);
    assert_eq!(verified["differences"], serde_json::json!([]));
}

#[test]
fn a_repeated_stratified_target_run_reads_exactly_its_answer_at_the_chosen_chunk_size() {
    let env = Piest::new();
    // The rule's chunk sizes for these are 4^6 to 4^9, below a cache cell: the first chunks of
    // a stratified plan are kept one span each, so the stop is found again without counting.
    for target in ["1e-3", "3e-4", "1e-4"] {
        let args = ["--method", "stratified", "--target-error", target];
        let (cold, _) = env.json(&args);
        let (warm, _) = env.json(&args);
        let chunks = cold["trials"].as_u64().unwrap() / cold["chunk_size"].as_u64().unwrap();
        assert!(cold["chunk_size"].as_u64().unwrap() < 1 << 22, "{cold}");
        assert_eq!(warm["trials"], cold["trials"]);
        assert_eq!(warm["ci95_half_width"], cold["ci95_half_width"]);
        assert_eq!(warm["cached_chunks"], chunks, "{target}");
        assert_eq!(warm["cache"]["hits"], chunks, "{target}");
        assert_eq!(warm["cache"]["misses"], 0, "{target}");
    }
}

#[test]
fn a_stratified_target_run_reads_the_cache_and_stops_where_the_cold_run_did() {
    let env = Piest::new();
    let args = [
        "--method",
        "stratified",
        "--target-error",
        "2e-4",
        "--chunk-size",
        "1024",
        "--seed",
        "3",
    ];
    let (cold, _) = env.json(&args);
    let (warm, _) = env.json(&args);
    let mut off = args.to_vec();
    off.push("--no-cache");
    let (uncached, _) = env.json(&off);
    for field in [
        "inside",
        "trials",
        "ci95_half_width",
        "convergence",
        "target_met",
    ] {
        assert_eq!(cold[field], uncached[field], "{field}");
        assert_eq!(warm[field], uncached[field], "{field}");
    }
    // Spans whose inner boundaries cannot be the stop are read (here the first cell and more:
    // spans break at the cell's 4,096 chunks and at the convergence points' boundaries); those
    // that may hold it are counted again chunk by chunk.
    let chunks = uncached["trials"].as_u64().unwrap() / 1024;
    let cached = warm["cached_chunks"].as_u64().unwrap();
    assert!(4096 < cached && cached < chunks, "{cached} of {chunks}");
}

#[test]
fn a_sweep_takes_the_method_and_agrees_on_the_stratified_count() {
    let env = Piest::new();
    let (v, _) = json_of(env.std_cmd().args([
        "scale",
        "--method",
        "stratified",
        "-n",
        "1e6",
        "--chunk-size",
        "4096",
        "--workers",
        "1,2",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--json",
    ]));
    assert_eq!(v["inside"], replicates(0, 6, 245).inside, "{v}");
}

#[test]
fn a_stratified_target_is_the_fixed_run_of_its_length_and_a_cap_is_never_exceeded() {
    let env = Piest::new();
    let (target, _) = env.json(&[
        "--method",
        "stratified",
        "--target-error",
        "1e-3",
        "-w",
        "3",
    ]);
    assert_eq!(target["stopped_by"], "target_error");
    assert_eq!(target["target_met"], true);
    assert!(target["chunks"].as_u64().unwrap() >= 20);
    assert!(target["ci95_half_width"].as_f64().unwrap() <= 1e-3);
    let n = target["trials"].as_u64().unwrap().to_string();
    let size = target["chunk_size"].as_u64().unwrap().to_string();
    let (fixed, _) = env.json(&["--method", "stratified", "-n", &n, "--chunk-size", &size]);
    for field in ["inside", "pi", "std_error", "ci95", "ci_method"] {
        assert_eq!(target[field], fixed[field], "{field}");
    }
    // A cap that is not whole chunks stops at the last whole chunk within it.
    let out = env
        .cmd()
        .args([
            "--method",
            "stratified",
            "--target-error",
            "1e-7",
            "--chunk-size",
            "1024",
        ])
        .args(["-n", "30000", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "the target is not met");
    let capped: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(capped["trials"], 29 * 1024);
    assert_eq!(capped["stopped_by"], "trials");
    assert_eq!(capped["target_met"], false);
}
