//! Small edges a new user hits: `~` in paths, a stray number, the rate of cached runs, output
//! to a full disk, OS errors named once, ranges stated in refusals, the interval as printed,
//! and a flag given on both sides of a subcommand.

mod common;

use std::path::Path;
use std::process::Stdio;

use common::{Piest, assert_usage_errors, json_of};
use serde_json::Value;

/// Runs `piest ARGS` in `env` with `HOME` set to `home` and the working directory `cwd`, and
/// without `PIEST_CACHE_DIR` unless `cache_var` names one; asserts success, returns stdout.
fn run_at_home(
    env: &Piest,
    home: &Path,
    cwd: &Path,
    cache_var: Option<&str>,
    args: &[&str],
) -> String {
    let mut cmd = env.std_cmd();
    cmd.env("HOME", home)
        .env_remove("XDG_CACHE_HOME")
        .current_dir(cwd);
    match cache_var {
        Some(value) => cmd.env("PIEST_CACHE_DIR", value),
        None => cmd.env_remove("PIEST_CACHE_DIR"),
    };
    let out = cmd.args(args).output().expect("run piest");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    // (A sweep this short warns that it is too short to time; that is not the point here.)
    assert!(
        !stderr
            .lines()
            .any(|l| l.contains("warning") && l.contains("cache")),
        "{args:?}: {stderr}"
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn a_leading_tilde_is_the_home_directory_in_every_path_and_never_a_folder() {
    if cfg!(windows) {
        eprintln!("SKIPPED: on Windows the home directory is the profile folder, not HOME");
        return;
    }
    let env = Piest::new();
    let home = env.dir.path().join("home");
    let cwd = env.dir.path().join("cwd");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    let tiny = ["-n", "1000", "--chunk-size", "100"];

    run_at_home(
        &env,
        &home,
        &cwd,
        None,
        &[&tiny[..], &["--cache-dir=~/flag"]].concat(),
    );
    assert!(home.join("flag").is_dir(), "--cache-dir=~/flag");
    run_at_home(&env, &home, &cwd, Some("~/var"), &tiny);
    assert!(home.join("var").is_dir(), "PIEST_CACHE_DIR=~/var");
    let info = run_at_home(
        &env,
        &home,
        &cwd,
        None,
        &["cache", "info", "--json", "--cache-dir=~/flag"],
    );
    let info: Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["dir"], home.join("flag").display().to_string());
    run_at_home(
        &env,
        &home,
        &cwd,
        None,
        &[
            "scale",
            "-n",
            "1000",
            "-w",
            "1",
            "--runs",
            "1",
            "--warmup",
            "0",
            "--plot=~/p.svg",
        ],
    );
    assert!(home.join("p.svg").is_file(), "--plot=~/p.svg");
    // A part file to merge, named with a quoted ~ (no shell expanded it).
    let out = env
        .std_cmd()
        .env("HOME", &home)
        .current_dir(&cwd)
        .args(["merge", "~/missing-part.json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let expanded = home.join("missing-part.json").display().to_string();
    assert!(stderr.contains(&expanded), "{stderr}");
    assert!(!cwd.join("~").exists(), "a folder named ~ was created");

    // Without a home directory, `~` cannot be expanded: a usage error, not a folder named `~`.
    let out = env
        .std_cmd()
        .env_remove("HOME")
        .current_dir(&cwd)
        .args(["cache", "info", "--cache-dir=~/x"])
        .output()
        .unwrap();
    // (Where the OS still names a home directory without HOME, `~` is that directory.)
    if out.status.code() == Some(2) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("cannot expand '~'"), "{stderr}");
    }
    assert!(!cwd.join("~").exists(), "a folder named ~ was created");
}

#[test]
fn a_stray_number_is_an_unexpected_argument_with_a_suggestion() {
    assert_usage_errors(
        &[],
        &[
            (&["-w", "4", "100000000"], "unexpected argument '100000000'"),
            (&["-w", "4", "100000000"], "use '--trials 100000000'"),
            (&["1e8"], "use '--trials 1e8'"),
            (
                &["--json", "fast"],
                "unexpected argument 'fast' found (subcommands: scale",
            ),
        ],
    );
    // A real subcommand after an estimate's flag is still called a subcommand.
    assert_usage_errors(&[], &[(&["-n", "5", "scale"], "subcommand 'scale'")]);
}

const PREFIX: &[&str] = &["-n", "30_720_000", "--chunk-size", "1000", "-s", "3"];
const LONGER: &[&str] = &["-n", "40_000_000", "--chunk-size", "1000", "-s", "3"];

#[test]
fn a_fully_cached_run_has_no_rate_and_json_says_zero() {
    let env = Piest::new();
    let small = ["-n", "1e6", "--chunk-size", "1000"];
    env.json(&small);
    let (again, _) = env.json(&small);
    assert_eq!(again["cached_chunks"], again["chunks"]);
    assert!(again["trials_per_s"].is_number());
    assert_eq!(again["trials_per_s"].as_f64(), Some(0.0));
    let out = env.cmd().args(small).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("all from cache"), "{text}");
    assert!(!text.contains("trials/s"), "{text}");
}

#[test]
fn a_partly_cached_run_rates_only_the_trials_it_computed() {
    // JSON: the rate is exactly the computed trials over the elapsed time.
    let env = Piest::new();
    env.json(PREFIX);
    let (v, _) = env.json(LONGER);
    let cached = v["cached_chunks"].as_u64().unwrap();
    let chunks = v["chunks"].as_u64().unwrap();
    assert!(cached > 0 && cached < chunks, "not partly cached: {v}");
    let trials = v["trials"].as_u64().unwrap();
    let computed = (trials - cached * 1000) as f64;
    let rate = v["trials_per_s"].as_f64().unwrap();
    let elapsed = v["elapsed_s"].as_f64().unwrap();
    assert!((rate * elapsed - computed).abs() <= computed * 1e-9, "{v}");

    // Text: the same run in another cache reuses as much, and its rate agrees with the computed
    // trials over the printed time (to the precision printed), far from all trials over it.
    let env = Piest::new();
    env.json(PREFIX);
    let out = env.cmd().args(LONGER).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let facts: Vec<&str> = text.lines().nth(1).unwrap().split(" · ").collect();
    let field = |suffix: &str| -> f64 {
        let fact = facts
            .iter()
            .find(|f| f.ends_with(suffix))
            .unwrap_or_else(|| panic!("{text}"));
        fact.trim_end_matches(suffix)
            .trim()
            .replace(',', "")
            .parse()
            .unwrap()
    };
    assert_eq!(field("chunks from cache") as u64, cached, "{text}");
    let (rate, shown) = (field("trials/s"), field(" s"));
    let (fastest, slowest) = (
        computed / (shown - 0.0005).max(1e-4),
        computed / (shown + 0.0005),
    );
    assert!(
        rate <= fastest * 1.01 && rate >= slowest * 0.99,
        "{rate} trials/s is not {computed} computed trials in {shown} s: {text}"
    );
}

#[test]
fn help_and_version_fail_on_a_full_disk_like_any_output() {
    if !Path::new("/dev/full").exists() {
        eprintln!("SKIPPED: no /dev/full");
        return;
    }
    for args in [
        &["--help"][..],
        &["--version"],
        &["-h"],
        &["scale", "--help"],
        &["man"],
        &["completions", "bash"],
        &["-n", "1000", "--no-cache"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Piest::new()
            .std_cmd()
            .args(args)
            .stdout(Stdio::from(full))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("piest: error: cannot write to stdout"),
            "{args:?}: {stderr}"
        );
        assert_eq!(
            stderr.matches("os error 28").count(),
            1,
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn an_os_error_is_named_once() {
    let env = Piest::new();
    let file = env.dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let plot_dir = env.dir.path().join("taken.svg");
    std::fs::create_dir(&plot_dir).unwrap();
    let file = file.display().to_string();
    let plot = plot_dir.display().to_string();
    let file_as_cache = [
        vec!["cache", "info", "--cache-dir", &file],
        vec!["cache", "clear", "--cache-dir", &file],
        vec!["cache", "prune", "--max-size", "1", "--cache-dir", &file],
    ];
    // Windows reports a path through a file as missing, not as "not a directory".
    let file_as_cache = if cfg!(windows) {
        eprintln!("SKIPPED: a file as --cache-dir reads as an empty cache on Windows");
        Vec::new()
    } else {
        file_as_cache.to_vec()
    };
    for args in file_as_cache {
        let out = env.cmd().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        let line = stderr.lines().last().unwrap_or_default();
        assert!(
            line.starts_with("piest: error: cannot "),
            "{args:?}: {stderr}"
        );
        assert_eq!(line.matches("(os error").count(), 1, "{args:?}: {stderr}");
    }
    // A --plot that cannot be written is refused before the run, not after it.
    for args in [
        vec![
            "scale", "-n", "1000", "-w", "1", "--runs", "1", "--warmup", "0", "--plot", &plot,
        ],
        vec!["-n", "1000", "--plot", &plot],
    ] {
        let out = env.cmd().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains("is a directory"), "{args:?}: {stderr}");
    }
}

#[test]
fn merge_refuses_an_input_too_large_to_be_parts() {
    let out = Piest::new()
        .cmd()
        .args(["merge", "/dev/zero"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("too large to be piest parts"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn refusals_state_the_real_range() {
    assert_usage_errors(
        &["scale"],
        &[
            (&["--runs", "0"], "from 1 to 10000"),
            (&["--runs", "10001"], "from 1 to 10000"),
            (&["--runs", "many"], "from 1 to 10000"),
            (&["--warmup", "10001"], "from 0 to 10000"),
        ],
    );
    let last = "the last chunk index is 18446744073709551614";
    assert_usage_errors(
        &["stream"],
        &[
            (&["--chunks", "18446744073709551615"], last),
            (&["--chunks", "0..=18446744073709551615"], last),
            (&["--chunks", "18446744073709551615.."], last),
            (&["--chunks", "0..18446744073709551616"], last),
            (&["--chunks", "9..3"], "empty chunk range"),
        ],
    );
    // The last index itself is accepted.
    let out = Piest::new()
        .cmd()
        .args([
            "stream",
            "--chunks",
            "18446744073709551614",
            "--chunk-size",
            "4",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), 32);
}

/// The numbers of a report's first line: the estimate, then the interval's reach.
fn first_line(env: &Piest, args: &[&str]) -> (Value, String) {
    let (v, _) = json_of(env.std_cmd().args(args).arg("--json"));
    let out = env.cmd().args(args).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    (v, text.lines().next().unwrap_or_default().to_owned())
}

#[test]
fn the_interval_is_shown_around_the_estimate_it_qualifies() {
    let env = Piest::new();
    // 10 trials: the Wilson interval is far from symmetric about the estimate.
    let (v, line) = first_line(&env, &["-n", "10", "--no-cache"]);
    let pi = v["pi"].as_f64().unwrap();
    let [low, high] = [
        v["ci95"][0].as_f64().unwrap(),
        v["ci95"][1].as_f64().unwrap(),
    ];
    assert!(!line.contains('±'), "{line}");
    let reach = format!("−{:.4}/+{:.4}", pi - low, high - pi);
    assert!(
        line.contains(&format!(
            "pi ≈ {pi:.4}   {reach} (95%: {low:.4} … {high:.4})"
        )),
        "{line}"
    );
    // 1e7 trials: symmetric to the printed precision, one ± figure.
    let (_, line) = first_line(&env, &["-n", "1e7", "--no-cache"]);
    assert!(line.contains('±') && !line.contains('/'), "{line}");
}

#[test]
fn a_cache_directory_given_on_both_sides_of_the_action_is_refused_unless_the_same() {
    let env = Piest::new();
    let a = env.dir.path().join("a").display().to_string();
    let b = env.dir.path().join("b").display().to_string();
    assert_usage_errors(
        &["cache", "--cache-dir", &a],
        &[
            (&["clear", "--cache-dir", &b], "--cache-dir given twice"),
            (&["info", "--cache-dir", &b], "give one"),
            (
                &["prune", "--max-size", "1", "--cache-dir", &b],
                "--cache-dir given twice",
            ),
        ],
    );
    for args in [
        vec!["cache", "--cache-dir", &a, "info", "--cache-dir", &a],
        vec!["cache", "--cache-dir", &a, "info"],
        vec!["cache", "info", "--cache-dir", &a],
    ] {
        let (v, _) = json_of(env.std_cmd().args(&args).arg("--json"));
        assert_eq!(v["dir"], a.as_str(), "{args:?}");
    }
}
