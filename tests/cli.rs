//! The binary as a user meets it: output formats, reproducibility, errors, signals.

mod common;

#[cfg(unix)]
use common::succeeds;
use common::{Piest, json};

const PI: f64 = std::f64::consts::PI;

#[test]
fn json_has_every_field_and_they_agree() {
    let v = json(&["--trials", "1e6", "--seed", "3", "--workers", "2"]);
    for field in [
        "pi",
        "trials",
        "inside",
        "seed",
        "workers",
        "chunks",
        "chunk_size",
        "std_error",
        "ci95",
        "abs_error",
        "elapsed_s",
        "trials_per_s",
        "algorithm",
        "cached_chunks",
        "kernel",
    ] {
        assert!(v.get(field).is_some(), "missing {field} in {v}");
    }
    let trials = v["trials"].as_u64().unwrap();
    let inside = v["inside"].as_u64().unwrap();
    let pi = v["pi"].as_f64().unwrap();
    assert_eq!(trials, 1_000_000);
    assert_eq!(pi, 4.0 * inside as f64 / trials as f64);
    let ci = v["ci95"].as_array().unwrap();
    assert_eq!(ci.len(), 2);
    let (low, high) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
    assert!(low < pi && pi < high, "{low} < {pi} < {high}");
    assert_eq!(v["abs_error"].as_f64().unwrap(), (pi - PI).abs());
    let p = inside as f64 / trials as f64;
    let se = 4.0 * (p * (1.0 - p) / trials as f64).sqrt();
    assert!((v["std_error"].as_f64().unwrap() - se).abs() < 1e-15);
    assert_eq!(v["seed"], 3);
    assert_eq!(v["workers"], 2);
    assert_eq!(v["chunk_size"], 4_194_304);
    assert_eq!(v["chunks"], 1);
    assert_eq!(v["cached_chunks"], 0);
    assert_eq!(v["algorithm"], piest::ALGORITHM);
}

#[test]
fn same_seed_gives_the_same_count_on_any_worker_count() {
    let run = |workers: &str| {
        json(&[
            "-n",
            "3e6",
            "--chunk-size",
            "100_000",
            "--seed",
            "11",
            "-w",
            workers,
        ])["inside"]
            .as_u64()
            .unwrap()
    };
    let one = run("1");
    for workers in ["2", "3", "4"] {
        assert_eq!(run(workers), one, "workers = {workers}");
    }
}

#[test]
fn count_matches_the_library_sum_of_chunks() {
    let v = json(&["-n", "1_000_003", "--chunk-size", "1e5", "--seed", "5"]);
    let plan = piest::Plan::new(1_000_003, 100_000).unwrap();
    let expected: u64 = plan
        .iter()
        .map(|c| piest::sampler::count_chunk(piest::Kernel::Scalar, 5, c.index, c.trials))
        .sum();
    assert_eq!(v["inside"].as_u64().unwrap(), expected);
    assert_eq!(v["chunks"], 11);
}

#[test]
fn different_seeds_give_different_counts() {
    let inside = |seed: &str| json(&["-n", "1e6", "-s", seed])["inside"].as_u64().unwrap();
    let counts: Vec<u64> = ["0", "1", "2", "18446744073709551615"]
        .iter()
        .map(|s| inside(s))
        .collect();
    for i in 0..counts.len() {
        for j in i + 1..counts.len() {
            assert_ne!(counts[i], counts[j], "seeds {i} and {j}");
        }
    }
}

#[test]
fn default_seed_is_fixed_and_random_seed_is_reported() {
    let a = json(&["-n", "1e5"]);
    let b = json(&["-n", "1e5"]);
    assert_eq!(a["inside"], b["inside"]);
    assert_eq!(a["seed"], 0);
    let r1 = json(&["-n", "1e5", "--seed", "random"]);
    let r2 = json(&["-n", "1e5", "--seed", "random"]);
    assert_ne!(r1["seed"], r2["seed"]);
    // The reported seed reproduces the run.
    let seed = r1["seed"].as_u64().unwrap().to_string();
    assert_eq!(
        json(&["-n", "1e5", "--seed", &seed])["inside"],
        r1["inside"]
    );
}

#[test]
fn bad_input_exits_2_with_a_message_naming_the_problem_and_no_stdout() {
    let cases: &[(&[&str], &str)] = &[
        (&["--trials", "0"], "'0'"),
        (&["--trials", "-5"], "'-5'"),
        (&["--trials", "1.5"], "'1.5'"),
        (&["--trials", "abc"], "'abc'"),
        (&["--trials", "1e30"], "'1e30'"),
        (&["--trials", "nan"], "'nan'"),
        (&["--trials", "inf"], "'inf'"),
        (&["--trials", ""], "--trials"),
        (&["--workers", "0"], "'0'"),
        (&["--workers", "many"], "'many'"),
        (&["--seed", "-1"], "'-1'"),
        (&["--seed", "banana"], "'banana'"),
        (&["--chunk-size", "0"], "'0'"),
        (&["--quiet", "--verbose"], "--verbose"),
        (&["--no-such-flag"], "--no-such-flag"),
    ];
    common::assert_usage_errors(&[], cases);
}

/// One grammar for every value: what one count-like flag accepts, every one does; what one
/// refuses, every one refuses, with a message about the value (never "unexpected argument").
#[test]
fn one_grammar_for_every_value() {
    let env = Piest::new();
    let count_flags: &[&[&str]] = &[
        &["-n", "1e3", "--no-cache", "--seed"],
        &["-n", "1e3", "--no-cache", "-w"],
        &["--no-cache", "--trials"],
        &["-n", "1e3", "--no-cache", "--chunk-size"],
        &["scale", "-n", "1e3", "-w", "1", "--warmup", "0", "--runs"],
        &["scale", "-n", "1e3", "-w", "1", "--runs", "1", "--warmup"],
        &["stream", "--chunks", "0", "--chunk-size", "1e3", "--words"],
        &["stream", "--chunks", "0", "--words", "10", "--seed"],
        &["darts", "--plot", "x.svg", "-n"],
        &["cache", "verify", "--sample-seed"],
    ];
    // A cache for `cache verify` to check.
    assert!(
        env.cmd()
            .args(["-n", "1e3", "-q"])
            .output()
            .unwrap()
            .status
            .success()
    );
    for flag in count_flags {
        let ok = env
            .std_cmd()
            .current_dir(env.dir.path())
            .args(*flag)
            .arg("1e0")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&ok.stderr);
        assert!(ok.status.success(), "{flag:?} 1e0: {stderr}");
        let bad: &[(&[&str], &str)] = &[
            (&["_1"], "not a number"),
            (&["1_"], "not a number"),
            (&["1.5"], "whole number"),
        ];
        common::assert_usage_errors(flag, bad);
    }
    let cases: &[(&[&str], &str)] = &[
        (&["--max-time", "18446744073709551616s"], "too long"),
        (&["--max-time", "1e20"], "too long"),
        (&["--max-time", "-1"], "must be positive"),
        (&["cache", "prune", "--max-size", "17EiB"], "too large"),
        (&["cache", "prune", "--max-size", "16EiB"], "too large"),
        (&["cache", "prune", "--max-size", "0.5B"], "whole number"),
        (
            &["cache", "prune", "--max-size", "18446744073709551616"],
            "too large",
        ),
        (&["cache", "prune", "--max-size", "-1"], "at least 0"),
        (&["cache", "verify", "--sample", "-0.5"], "must be positive"),
        (&["stream", "--words", "-1"], "at least 1"),
        (&["stream", "--chunks", "-1"], "chunk index '-1'"),
        (&["scale", "--runs", "-1"], "from 1 to 10000"),
    ];
    common::assert_usage_errors(&[], cases);
    // A duration in seconds and the same with its unit are one value.
    for budget in ["1e19", "1e19s"] {
        let out = env
            .cmd()
            .args(["-n", "1000", "--no-cache", "-q", "--max-time", budget])
            .output()
            .unwrap();
        assert!(out.status.success(), "{budget}");
    }
}

/// A sample so small that it picks no span checks nothing: refused, not "all agree".
#[test]
fn a_verify_sample_that_picks_nothing_is_refused() {
    let env = Piest::new();
    let out = env.cmd().args(["-n", "1e5", "-q"]).output().unwrap();
    assert!(out.status.success());
    let out = env
        .cmd()
        .args(["cache", "verify", "--sample", "1e-300"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing was checked"), "{stderr}");
    // The fraction is named as it was written, not as 300 decimal digits.
    assert!(stderr.contains("--sample 1e-300 picked none"), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// A variable piest reads as text that is not UTF-8 is refused by name, never ignored; a path
/// variable may hold any bytes, as a path flag may.
#[cfg(unix)]
#[test]
fn a_text_variable_that_is_not_utf8_is_a_usage_error_naming_it() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let env = Piest::new();
    let bad = OsStr::from_bytes(b"scal\xff");
    for name in ["PIEST_KERNEL", "PIEST_SHARD_COUNT"] {
        let out = env
            .cmd()
            .env(name, bad)
            .args(["-n", "100"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("{name} is not valid UTF-8")),
            "{stderr}"
        );
    }
    let dir = env.dir.path().join(OsStr::from_bytes(b"caf\xe9"));
    let out = env
        .cmd()
        .env("PIEST_CACHE_DIR", &dir)
        .args(["-n", "100", "-q"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(dir.is_dir());
    let plot = env.dir.path().join(OsStr::from_bytes(b"p\xe9.svg"));
    succeeds(
        env.std_cmd()
            .args(["darts", "-n", "10", "--plot"])
            .arg(&plot),
    );
    assert!(plot.is_file());
}

#[test]
fn bad_kernel_variable_is_a_usage_error() {
    let env = Piest::new();
    let out = env
        .cmd()
        .env("PIEST_KERNEL", "gpu")
        .args(["-n", "100"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PIEST_KERNEL"));
}

#[test]
fn a_kernel_this_cpu_cannot_run_is_refused_naming_what_it_lacks() {
    let env = Piest::new();
    for kernel in piest::Kernel::all() {
        let missing = kernel.missing_features();
        if missing.is_empty() {
            continue;
        }
        let out = env
            .cmd()
            .env("PIEST_KERNEL", kernel.name())
            .args(["-n", "100"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", kernel.name());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(missing[0]), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn version_verbose_lists_the_kernels_this_cpu_runs() {
    let env = Piest::new();
    let out = env.cmd().args(["--version", "--verbose"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("piest "), "{text}");
    assert!(text.contains(piest::ALGORITHM), "{text}");
    let best = piest::Kernel::best().name();
    assert!(text.contains(&format!("(auto: {best})")), "{text}");
    let plain = env.cmd().arg("--version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&plain.stdout).lines().count(), 1);
}

#[test]
fn every_kernel_gives_the_same_count_through_the_cli() {
    let env = Piest::new();
    let mut counts = Vec::new();
    for kernel in piest::Kernel::available() {
        let out = env
            .cmd()
            .env("PIEST_KERNEL", kernel.name())
            .args(["-n", "2_000_001", "--chunk-size", "300_000", "--json"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["kernel"], kernel.name());
        counts.push(v["inside"].as_u64().unwrap());
    }
    assert!(counts.windows(2).all(|w| w[0] == w[1]), "{counts:?}");
}

#[test]
fn human_report_shows_estimate_interval_and_run_facts() {
    let env = Piest::new();
    let out = env.cmd().args(["-n", "1e8", "-w", "2"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("pi ≈ 3.14"), "{text}");
    assert!(lines[0].contains("(95%"), "{text}");
    assert!(lines[0].contains("error vs π"), "{text}");
    assert!(
        lines[1].starts_with("100,000,000 trials · 24 chunks · 2 workers · seed 0 · "),
        "{text}"
    );
    assert!(lines[1].ends_with("trials/s"), "{text}");
    assert!(out.stderr.is_empty(), "no progress bar on a pipe");
}

#[test]
fn quiet_prints_only_the_estimate() {
    let env = Piest::new();
    let out = env.cmd().args(["-n", "1e6", "-q"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let pi: f64 = text.trim().parse().expect("a bare number");
    assert_eq!(pi, json(&["-n", "1e6"])["pi"].as_f64().unwrap());
    assert!(out.stderr.is_empty());
}

#[test]
fn verbose_prints_one_line_per_chunk() {
    let env = Piest::new();
    let out = env
        .cmd()
        .args(["-n", "1e6", "--chunk-size", "1e5", "-v", "-w", "2"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("chunk")).collect();
    assert_eq!(lines.len(), 10, "{stderr}");
    for i in 0..10 {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("chunk {i:>6}:"))),
            "chunk {i}: {stderr}"
        );
    }
    assert!(
        lines
            .iter()
            .all(|l| l.contains("100,000 trials on worker") && l.contains(" ms "))
    );
}

#[test]
fn help_documents_every_flag_with_an_example() {
    common::assert_help_examples(
        &[],
        &[
            "--trials",
            "--workers",
            "--seed",
            "--chunk-size",
            "--json",
            "--quiet",
            "--verbose",
            "--cache-dir",
            "--no-cache",
            "--refresh",
        ],
    );
}

#[test]
fn stream_writes_the_words_the_sampler_consumes() {
    let env = Piest::new();
    let out = env
        .cmd()
        .args([
            "stream",
            "--seed",
            "9",
            "--chunks",
            "3..5",
            "--chunk-size",
            "30",
            "--words",
            "50",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), 50 * 8);
    let words: Vec<u64> = out
        .stdout
        .chunks_exact(8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let mut expected: Vec<u64> = piest::sampler::chunk_words(9, 3).take(30).collect();
    expected.extend(piest::sampler::chunk_words(9, 4).take(20));
    assert_eq!(words, expected);
}

#[test]
fn stream_stops_cleanly_when_the_reader_goes_away() {
    use std::io::Read;
    use std::process::Stdio;
    let env = Piest::new();
    let mut child = env
        .std_cmd()
        .args(["stream", "--chunks", "0.."])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut buf = vec![0u8; 1 << 20];
    child.stdout.take().unwrap().read_exact(&mut buf).unwrap();
    // stdout is dropped here: the pipe closes.
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_missing_subcommand_is_a_one_line_usage_error() {
    let env = Piest::new();
    let out = env.cmd().arg("cache").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("subcommand is required"), "{stderr}");
}

#[test]
fn quiet_silences_warnings_in_json_too() {
    let env = Piest::new();
    let file = env.dir.path().join("file");
    std::fs::write(&file, "not a directory").unwrap();
    let out = env
        .cmd()
        .args(["-n", "1e5", "--json", "-q", "--cache-dir"])
        .arg(file.join("cache"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["trials"], 100_000);
}

#[test]
fn a_random_seed_is_shown_even_with_quiet() {
    let env = Piest::new();
    let out = env
        .cmd()
        .args(["-n", "1e5", "-q", "--seed", "random"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let seed = stderr
        .trim()
        .strip_prefix("piest: using random seed ")
        .unwrap_or_else(|| panic!("{stderr}"));
    // The printed seed reproduces the printed estimate.
    let again = env
        .cmd()
        .args(["-n", "1e5", "-q", "--seed", seed])
        .output()
        .unwrap();
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn a_closed_stderr_does_not_crash_a_verbose_run() {
    use std::process::Stdio;
    let env = Piest::new();
    let mut child = env
        .std_cmd()
        .args([
            "-n",
            "3e8",
            "--chunk-size",
            "1e5",
            "-v",
            "--no-cache",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end at once: the run's 3,000 chunk lines meet a broken pipe.
    drop(child.stderr.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["chunks"], 3000);
}

#[test]
fn stream_refuses_a_random_seed_with_a_consistent_message() {
    let env = Piest::new();
    let out = env
        .cmd()
        .args(["stream", "--seed", "random"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("whole number"), "{stderr}");
    assert!(!stderr.contains("or 'random'"), "{stderr}");
}
