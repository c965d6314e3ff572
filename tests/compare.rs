//! `piest methods` (the comparison of the methods, [`piest::compare`]) as a user meets it: both methods at every trial count, each run the very
//! estimate `piest --method M -n N --chunk-size C` gives, served by the cache on a repeat, as
//! JSON, CSV and a log–log plot; usage errors, help, and Ctrl-C.

mod common;

#[cfg(unix)]
use common::{Busy, interrupt};
use common::{Piest, assert_help_examples, assert_usage_errors};
use serde_json::Value;

fn u(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {v}"))
}

fn f(v: &Value, field: &str) -> f64 {
    v[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field} in {v}"))
}

#[test]
fn every_run_is_the_estimate_of_its_method_trials_and_chunk_size() {
    let env = Piest::new();
    let (v, _) = env.json(&["methods", "-n", "1e5", "--seed", "3", "-w", "2"]);
    let points = v["points"].as_array().expect("points");
    let methods: Vec<(&str, u64)> = points
        .iter()
        .map(|p| (p["method"].as_str().unwrap(), u(p, "requested_trials")))
        .collect();
    assert_eq!(
        methods,
        [
            ("plain", 10_000),
            ("stratified", 10_000),
            ("plain", 30_000),
            ("stratified", 30_000),
            ("plain", 100_000),
            ("stratified", 100_000),
        ]
    );
    for p in points {
        let method = p["method"].as_str().unwrap();
        let (trials, chunk) = (u(p, "trials").to_string(), u(p, "chunk_size").to_string());
        let (e, _) = Piest::new().json(&[
            "--method",
            method,
            "-n",
            &trials,
            "--chunk-size",
            &chunk,
            "--seed",
            "3",
            "--no-cache",
        ]);
        assert_eq!(f(p, "pi"), f(&e, "pi"), "{p}");
        assert_eq!(f(p, "ci95_half_width"), f(&e, "ci95_half_width"), "{p}");
        assert_eq!(p["ci_method"], e["ci_method"], "{p}");
        assert_eq!(u(p, "chunks"), u(&e, "chunks"), "{p}");
        if method == "stratified" {
            // The chunk size of a run of that many trials: the largest 4^k leaving 20 chunks.
            let n = u(p, "requested_trials");
            let c = u(p, "chunk_size");
            assert!(
                c.is_power_of_two() && c.trailing_zeros().is_multiple_of(2),
                "{p}"
            );
            assert!(20 * c <= n && 20 * 4 * c > n, "{p}");
            assert_eq!(p["ci_method"], "student-t", "{p}");
        } else {
            assert_eq!(u(p, "trials"), u(p, "requested_trials"));
        }
    }
    let fits = v["fits"].as_array().expect("fits");
    assert_eq!(fits.len(), 2, "{v}");
    // A repeat reads chunks from the cache (whole chunks: a plain run of 1e7 trials has two)
    // and gives the same numbers.
    let (first, _) = env.json(&["methods", "-n", "1e7", "--seed", "3", "-w", "2"]);
    let (again, _) = env.json(&["methods", "-n", "1e7", "--seed", "3", "-w", "1"]);
    let cached: u64 = again["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| u(p, "cached_chunks"))
        .sum();
    assert!(cached >= 2, "{again}");
    assert!(again["cache"]["hits"].as_u64().unwrap() >= 2, "{again}");
    for (a, b) in first["points"]
        .as_array()
        .unwrap()
        .iter()
        .zip(again["points"].as_array().unwrap())
    {
        assert!(u(b, "cached_chunks") <= u(b, "chunks"), "{b}");
        assert_eq!(
            (f(a, "pi"), f(a, "abs_error")),
            (f(b, "pi"), f(b, "abs_error"))
        );
        assert_eq!(f(a, "ci95_half_width"), f(b, "ci95_half_width"));
    }
    let (cold, _) = env.json(&["methods", "-n", "3e4", "--no-cache"]);
    assert!(cold["cache"].is_null());
}

#[test]
fn the_table_csv_and_plot_show_both_methods() {
    let env = Piest::new();
    let plot = env.dir.path().join("methods.svg");
    let out = env
        .cmd()
        .args(["methods", "-n", "3e5", "--plot"])
        .arg(&plot)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    for needle in ["plain ±95%", "stratified ±95%", "300,000", "falls as n^"] {
        assert!(table.contains(needle), "{needle}: {table}");
    }
    let svg = std::fs::read_to_string(&plot).expect("the plot");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    for needle in [
        "plain: 95% half-width",
        "stratified: 95% half-width",
        "plain: actual error |π̂ − π|",
        "stratified: actual error |π̂ − π|",
        "guide: ∝ n^-1/2",
        "guide: ∝ n^-3/4",
        "trials n (log scale)",
        "error of π̂ (log scale)",
        "1e5",
    ] {
        assert!(
            texts.iter().any(|t| t.starts_with(needle)),
            "{needle}: {texts:?}"
        );
    }
    let circles = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count();
    // 2 methods × 4 counts × (half-width, error), and 2 legend marks.
    assert_eq!(circles, 18);

    let out = env
        .cmd()
        .args(["methods", "-n", "3e4", "--csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 4, "{csv}");
    assert!(lines[0].starts_with("method,requested_trials,trials,chunk_size,chunks,pi,"));
    assert!(lines[2].starts_with("stratified,10000,"), "{csv}");
}

#[test]
fn bad_input_is_a_usage_error_and_every_flag_has_an_example() {
    assert_usage_errors(
        &["methods"],
        &[
            (&["-n", "0"], "at least 1"),
            (&["-n", "abc"], "not a number"),
            (&["--json", "--csv"], "cannot be used with"),
            (&["--plot", "m.png"], ".svg"),
            (&["--plot", "/no/such/dir/m.svg"], "does not exist"),
            (&["-w", "0"], "--workers"),
        ],
    );
    assert_help_examples(
        &["methods"],
        &[
            "--trials",
            "--seed",
            "--workers",
            "--json",
            "--csv",
            "--plot",
            "--cache-dir",
            "--no-cache",
            "--refresh",
        ],
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_comparison_promptly() {
    use std::os::unix::process::ExitStatusExt;
    let env = Piest::new();
    // Busy once the first run's pool (one worker beside the main thread) exists.
    let out = interrupt(
        &env,
        &["methods", "-n", "1e13", "-w", "1"],
        Busy::Threads(2),
        "INT",
    );
    assert_eq!(out.status.signal(), Some(libc::SIGINT));
    assert!(out.stdout.is_empty());
    assert_eq!(out.stderr.trim(), "piest: interrupted");
    // Generous: a loaded machine; the run itself would take hours.
    assert!(
        out.took < std::time::Duration::from_secs(10),
        "took {:?}",
        out.took
    );
}

#[test]
fn a_tilde_in_the_plot_and_cache_paths_means_home() {
    let env = Piest::new();
    let home = env.dir.path().join("home");
    let cwd = env.dir.path().join("cwd");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    let out = env
        .std_cmd()
        .env("HOME", &home)
        .env_remove("PIEST_CACHE_DIR")
        .env_remove("XDG_CACHE_HOME")
        .current_dir(&cwd)
        .args(["methods", "-n", "1e4", "--plot=~/m.svg", "--cache-dir=~/c"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(home.join("m.svg").is_file());
    assert!(home.join("c").is_dir());
    assert!(!cwd.join("~").exists(), "a folder named ~ was made");
}
