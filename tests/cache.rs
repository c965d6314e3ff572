//! The result cache as a user meets it: reruns, longer runs, damaged entries, killed and
//! concurrent runs, unusable directories and the `piest cache` subcommands.

mod common;

use piest::Method;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use common::{Piest, json_of};
use piest::cache::BlockKey;
use serde_json::Value;

/// Runs `piest ARGS --json` in `env`; returns the report and stderr, asserting success.
fn run(env: &Piest, args: &[&str]) -> (Value, String) {
    env.json(args)
}

/// The count of an uncached run.
fn uncached(args: &[&str]) -> u64 {
    let (v, _) = run(&Piest::new(), &[args, &["--no-cache"]].concat());
    assert_eq!(v["cache"], Value::Null);
    v["inside"].as_u64().unwrap()
}

fn hits(v: &Value) -> u64 {
    assert_eq!(v["cached_chunks"], v["cache"]["hits"]);
    v["cached_chunks"].as_u64().unwrap()
}

fn cache_dir(env: &Piest) -> PathBuf {
    env.dir.path().join("cache")
}

/// The entry file of block `block` for `seed` and `chunk_size` (its name depends on the key).
fn entry(env: &Piest, seed: u64, chunk_size: u64, block: u64) -> PathBuf {
    let key = BlockKey::new(Method::Plain, seed, chunk_size, block);
    piest::cache::Cache::new(cache_dir(env))
        .entry_path(&key)
        .expect("the cache has a key")
}

/// `piest cache info --json` in `env`.
fn info(env: &Piest) -> Value {
    json_of(env.std_cmd().args(["cache", "info", "--json"])).0
}

/// 1,000,003 trials in chunks of 10,000: 100 whole chunks and a remainder of 3 trials.
const SHORT: &[&str] = &["-n", "1_000_003", "--chunk-size", "1e4", "-s", "5"];

#[test]
fn a_second_run_reads_every_chunk_and_gives_the_same_count() {
    let expected = uncached(SHORT);
    let env = Piest::new();
    let (first, stderr) = run(&env, SHORT);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(first["inside"], expected);
    assert_eq!(hits(&first), 0);
    assert_eq!(first["cache"]["misses"], 101);
    assert_eq!(first["cache"]["stored"], 101);
    assert_eq!(first["cache"]["dir"], cache_dir(&env).display().to_string());
    for workers in ["1", "3"] {
        let (again, stderr) = run(&env, &[SHORT, &["-w", workers]].concat());
        assert!(stderr.is_empty(), "{stderr}");
        assert_eq!(again["inside"], expected);
        assert_eq!(hits(&again), 101);
        assert_eq!(again["cache"]["misses"], 0);
    }
    // The human report says so, and -v marks each cached span: the 100 whole chunks are one
    // span of their cell, the 3-trial remainder another.
    let out = env.cmd().args(SHORT).arg("-v").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("· all from cache"), "{text}");
    assert!(!text.contains("trials/s"), "{text}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.lines().filter(|l| l.ends_with("(cached)")).count(),
        2
    );
}

#[test]
fn a_longer_run_reuses_exactly_the_whole_shared_chunks() {
    let env = Piest::new();
    run(&env, SHORT);
    let long = ["-n", "2e6", "--chunk-size", "1e4", "-s", "5"];
    let (v, _) = run(&env, &long);
    // Chunks 0..100 are shared; the short run's chunk 100 held 3 trials, not 10,000.
    assert_eq!(hits(&v), 100);
    assert_eq!(v["inside"], uncached(&long));
    // Two cached spans: the short run's chunks and the ones this run added.
    let out = env.cmd().args(long).arg("-v").output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.lines().filter(|l| l.ends_with("(cached)")).count(),
        2
    );
    // The short run's remainder record is kept beside the full chunk.
    assert_eq!(hits(&run(&env, SHORT).0), 101);
}

#[test]
fn another_seed_or_chunk_size_misses() {
    let env = Piest::new();
    run(&env, SHORT);
    let (v, _) = run(&env, &["-n", "1_000_003", "--chunk-size", "1e4", "-s", "6"]);
    assert_eq!(hits(&v), 0);
    let (v, _) = run(&env, &["-n", "1_000_003", "--chunk-size", "2e4", "-s", "5"]);
    assert_eq!(hits(&v), 0);
}

#[test]
fn refresh_recomputes_and_no_cache_touches_nothing() {
    let env = Piest::new();
    let (v, _) = run(&env, &[SHORT, &["--no-cache"]].concat());
    assert_eq!(v["cache"], Value::Null);
    assert!(!cache_dir(&env).exists(), "--no-cache created the cache");
    run(&env, SHORT);
    let (v, _) = run(&env, &[SHORT, &["--refresh"]].concat());
    assert_eq!(hits(&v), 0);
    assert_eq!(v["cache"]["misses"], 101);
    assert_eq!(v["cache"]["refresh"], true);
    assert_eq!(hits(&run(&env, SHORT).0), 101);
}

/// 600 chunks of 10,000 trials: one entry (cells of 419 chunks, blocks of 256 cells).
const ONE_BLOCK: &[&str] = &["-n", "6e6", "--chunk-size", "1e4", "-s", "2"];

/// The same for seed 3: another entry to swap with.
const OTHER_SEED: &[&str] = &["-n", "6e6", "--chunk-size", "1e4", "-s", "3"];

#[test]
fn damaged_entries_are_detected_recomputed_and_repaired() {
    let expected = uncached(ONE_BLOCK);
    type Damage = fn(&Path, &Path);
    let damages: [(&str, Damage); 5] = [
        ("truncate", |a, _| {
            let bytes = std::fs::read(a).unwrap();
            std::fs::write(a, &bytes[..bytes.len() / 2]).unwrap();
        }),
        ("empty", |a, _| std::fs::write(a, b"").unwrap()),
        ("garble", |a, _| {
            let mut bytes = std::fs::read(a).unwrap();
            let mid = bytes.len() / 2;
            bytes[mid..mid + 8].copy_from_slice(b"\x00\xffjunk\x01\x02");
            std::fs::write(a, bytes).unwrap();
        }),
        ("change a count", |a, _| {
            // A plausible count one lower in the first span: only the MAC can tell.
            let mut bytes = std::fs::read(a).unwrap();
            let at = 16 + 4 + piest::ALGORITHM.len() + 5 * 8 + 3 * 8;
            bytes[at] = bytes[at].wrapping_sub(1);
            std::fs::write(a, bytes).unwrap();
        }),
        ("swap", |a, b| {
            let (bytes_a, bytes_b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
            std::fs::write(a, bytes_b).unwrap();
            std::fs::write(b, bytes_a).unwrap();
        }),
    ];
    for (name, damage) in damages {
        let env = Piest::new();
        run(&env, ONE_BLOCK);
        run(&env, OTHER_SEED);
        damage(&entry(&env, 2, 10_000, 0), &entry(&env, 3, 10_000, 0));
        let (v, stderr) = run(&env, ONE_BLOCK);
        assert_eq!(v["inside"], expected, "{name}");
        assert_eq!(hits(&v), 0, "{name}");
        let warnings: Vec<&str> = stderr.lines().collect();
        assert_eq!(warnings.len(), 1, "{name}: {stderr}");
        assert!(
            warnings
                .iter()
                .all(|w| w.starts_with("piest: warning: cache entry ") && w.contains("invalid")),
            "{name}: {stderr}"
        );
        assert_eq!(
            v["cache"]["warnings"].as_array().unwrap().len(),
            warnings.len()
        );
        // Repaired: the next run reads everything and warns about nothing.
        let (v, stderr) = run(&env, ONE_BLOCK);
        assert_eq!(
            (v["inside"].as_u64(), hits(&v)),
            (Some(expected), 600),
            "{name}"
        );
        assert!(stderr.is_empty(), "{name}: {stderr}");
        let invalid = u64::from(name == "swap");
        assert_eq!(info(&env)["invalid"], invalid, "{name}");
    }
}

#[test]
fn a_killed_run_leaves_whole_entries_and_the_rerun_resumes() {
    // 1e11 trials in chunks of 1e6 on one worker: 100,000 chunks, a minute of work or more
    // even on a fast machine, so the run is still going when its first entry appears (an entry
    // is stored at most a tenth of a second after its first chunks complete). One worker counts
    // the blocks in order, so that entry is the first block's.
    let long = ["-n", "1e11", "--chunk-size", "1e6", "-s", "9", "-w", "1"];
    let env = Piest::new();
    let mut child = env
        .std_cmd()
        .args(long)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it as soon as it has stored something.
    let entries = cache_dir(&env).join("v2");
    let started = Instant::now();
    let has_entry = || {
        std::fs::read_dir(&entries).is_ok_and(|mut d| {
            d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".entry")))
        })
    };
    while !has_entry() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "nothing stored"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run finished before it was killed");
    // The first 1e9 trials of the same run read what the killed run stored.
    let short = ["-n", "1e9", "--chunk-size", "1e6", "-s", "9", "-w", "2"];
    let (v, stderr) = run(&env, &short);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(v["inside"], uncached(&short));
    assert!(hits(&v) > 0, "{v}");
    assert_eq!(info(&env)["invalid"], 0);
}

#[test]
fn concurrent_runs_share_one_cache_and_all_count_exactly() {
    let env = Piest::new();
    let args = |seed: &'static str| ["-n", "1e8", "--chunk-size", "1e5", "-s", seed, "-w", "2"];
    let seeds = ["1", "1", "1", "2"];
    let children: Vec<_> = seeds
        .iter()
        .map(|seed| {
            env.std_cmd()
                .args(args(seed))
                .arg("--json")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let expected = [uncached(&args("1")), uncached(&args("2"))];
    for (seed, child) in seeds.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && stderr.is_empty(), "{stderr}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            v["inside"],
            expected[usize::from(*seed == "2")],
            "seed {seed}"
        );
    }
    let info = info(&env);
    assert_eq!(
        (info["invalid"].as_u64(), info["temp_files"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(info["seeds"], 2);
    for (i, seed) in ["1", "2"].into_iter().enumerate() {
        let (v, _) = run(&env, &args(seed));
        assert_eq!(v["inside"], expected[i]);
        // Each process stores every block whole when it completes it, so whichever rename
        // came last, every chunk is there.
        assert_eq!(hits(&v), 1000, "seed {seed}");
    }
}

#[test]
fn an_unusable_cache_directory_warns_once_and_the_run_goes_on() {
    let expected = uncached(SHORT);
    let env = Piest::new();
    let file = env.dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let under_file = file.join("cache");
    let by_flag = [SHORT, &["--cache-dir", under_file.to_str().unwrap()]].concat();
    let mut by_env = env.std_cmd();
    by_env
        .args(SHORT)
        .arg("--json")
        .env("PIEST_CACHE_DIR", &under_file);
    for (v, stderr) in [run(&env, &by_flag), json_of(&mut by_env)] {
        assert_eq!(v["inside"], expected);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("piest: warning: cannot create cache directory")
                && stderr.contains("running without the cache"),
            "{stderr}"
        );
        assert_eq!(v["cache"]["stored"], 0);
        assert_eq!(v["cache"]["warnings"].as_array().unwrap().len(), 1);
    }
    // -q means no warnings.
    let out = env.cmd().args(&by_flag).arg("-q").output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty());
}

#[test]
fn cache_info_clear_and_prune_on_known_contents() {
    let env = Piest::new();
    // Seeds 0, 1 and 2: one entry each, of 100, 200 and 100 chunks.
    run(&env, &["-n", "1e6", "--chunk-size", "1e4", "-s", "0"]);
    run(&env, &["-n", "2e6", "--chunk-size", "1e4", "-s", "1"]);
    run(&env, &["-n", "1e6", "--chunk-size", "1e4", "-s", "2"]);
    let v = info(&env);
    assert_eq!(v["dir"], cache_dir(&env).display().to_string());
    assert_eq!(
        (v["entries"].as_u64(), v["chunks"].as_u64()),
        (Some(3), Some(400))
    );
    assert_eq!(
        (v["trials"].as_u64(), v["seeds"].as_u64()),
        (Some(4_000_000), Some(3))
    );
    let bytes = v["bytes"].as_u64().unwrap();
    assert!(bytes > 3 * 100, "{v}");
    let text =
        String::from_utf8(env.cmd().args(["cache", "info"]).output().unwrap().stdout).unwrap();
    assert!(text.contains("entries          3 ("), "{text}");
    assert!(
        text.contains("400, covering 4,000,000 trials of 3 seeds"),
        "{text}"
    );

    // Age: the seed-0 entry was last used two days ago.
    let old = entry(&env, 0, 10_000, 0);
    let two_days = SystemTime::now() - Duration::from_secs(2 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(two_days)
        .unwrap();
    let prune = |args: &[&str]| {
        json_of(
            env.std_cmd()
                .args([&["cache", "prune", "--json"], args].concat()),
        )
        .0
    };
    let v = prune(&["--older-than", "3d"]);
    assert_eq!(v["removed"]["entries"], 0);
    let v = prune(&["--older-than", "1d"]);
    assert_eq!(
        (v["removed"]["entries"].as_u64(), v["kept_entries"].as_u64()),
        (Some(1), Some(2))
    );
    assert!(!old.exists());
    // Size: the least recently used goes first (seed 1's entry, made older by hand).
    let older = entry(&env, 1, 10_000, 0);
    let an_hour = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&older)
        .unwrap()
        .set_modified(an_hour)
        .unwrap();
    let newer = entry(&env, 2, 10_000, 0);
    let newer_bytes = std::fs::metadata(&newer).unwrap().len();
    let v = prune(&["--max-size", &format!("{newer_bytes}B")]);
    assert_eq!(
        (v["removed"]["entries"].as_u64(), v["kept_entries"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(!older.exists() && newer.exists());

    // Clear removes the rest and says so; unrelated files stay.
    std::fs::write(cache_dir(&env).join("v2").join("mine.txt"), b"keep").unwrap();
    let out = env.cmd().args(["cache", "clear"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("removed 1 entry ("), "{text}");
    assert!(
        text.trim_end()
            .ends_with(&cache_dir(&env).display().to_string()),
        "{text}"
    );
    assert_eq!(info(&env)["entries"], 0);
    assert!(cache_dir(&env).join("v2").join("mine.txt").exists());
}

#[test]
fn bad_cache_arguments_exit_2_with_one_line() {
    let cases: &[(&[&str], &str)] = &[
        (&["cache", "prune"], "--max-size"),
        (&["cache", "prune", "--max-size", "lots"], "'lots'"),
        (&["cache", "prune", "--max-size", "-5MB"], "'-5MB'"),
        (&["cache", "prune", "--older-than", "soon"], "'soon'"),
        (&["cache", "frobnicate"], "frobnicate"),
        (&["-n", "1e5", "--no-cache", "--refresh"], "--refresh"),
        (
            &["cache", "verify", "--sample", "0"],
            "above 0 and at most 1",
        ),
        (
            &["cache", "verify", "--sample", "1.5"],
            "above 0 and at most 1",
        ),
        (&["cache", "verify", "--sample-seed", "x"], "'x'"),
        (&["cache", "verify", "--workers", "0"], "at least 1"),
    ];
    common::assert_usage_errors(&[], cases);
}

#[test]
fn cache_verify_recomputes_reports_and_removes_counts_that_differ() {
    use piest::cache::{Cache, CacheSession, Entry, Span};
    let env = Piest::new();
    let args = ["-n", "1e6", "--chunk-size", "1e4", "-s", "9"];
    let (first, _) = run(&env, &args);
    let verify = |extra: &[&str]| {
        env.std_cmd()
            .args(["cache", "verify", "--json"])
            .args(extra)
            .output()
            .unwrap()
    };
    // An honest cache: everything agrees, status 0.
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["differences"], serde_json::json!([]));
    assert_eq!(report["chunks"], 100);
    assert_eq!(report["trials"], 1_000_000);

    // A trusted writer (one that holds the key) stores a wrong count for another seed's run.
    let mut wrong = Entry::empty(BlockKey::new(Method::Plain, 10, 10_000, 0));
    wrong.insert(Span {
        first: 0,
        end: 100,
        trials: 10_000,
        inside: 1,
        squares: None,
    });
    let cache = Cache::new(cache_dir(&env));
    assert!(CacheSession::open(cache, true).store(&wrong));
    let out = verify(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let differences = report["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{report}");
    assert_eq!(differences[0]["seed"], 10);
    assert_eq!(differences[0]["cached"], 1);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("1 cached span whose count differs"),
        "{stderr}"
    );

    // It was removed: the next verification agrees, and the runs give their true counts.
    assert_eq!(
        verify(&["--sample", "0.5", "--sample-seed", "3"])
            .status
            .code(),
        Some(0)
    );
    let (honest, _) = run(&env, &["-n", "1e6", "--chunk-size", "1e4", "-s", "10"]);
    assert_eq!(
        honest["inside"],
        uncached(&["-n", "1e6", "--chunk-size", "1e4", "-s", "10"])
    );
    let (again, _) = run(&env, &args);
    assert_eq!(again["inside"], first["inside"]);
}

#[test]
fn cache_figures_of_growing_runs_agree_with_the_report() {
    let env = Piest::new();
    let figures = |v: &Value| {
        let c = &v["cache"];
        let n = |f: &str| c[f].as_u64().unwrap();
        (n("hits"), n("misses"), n("stored"))
    };
    let target = ["--target-error", "1e-3", "-w", "2"];
    // Cold: nothing read; every chunk computed (a few past the stop too) is stored.
    let (cold, _) = run(&env, &target);
    let (hits, misses, stored) = figures(&cold);
    assert_eq!(hits, 0, "{cold}");
    assert!(misses >= cold["chunks"].as_u64().unwrap(), "{cold}");
    assert_eq!(stored, misses, "{cold}");
    // A repeat reads every chunk of the answer, computes nothing and shows no rate.
    let (warm, _) = run(&env, &target);
    let chunks = warm["chunks"].as_u64().unwrap();
    assert_eq!(warm["inside"], cold["inside"]);
    assert_eq!(figures(&warm), (chunks, 0, 0), "{warm}");
    assert_eq!(warm["cached_chunks"], chunks);
    assert_eq!(warm["trials_per_s"], 0.0);
    // Below a cell the stop may lie inside a cached span, counted again chunk by chunk: those
    // chunks are hits (read) and computed, not misses; the rate counts only computed trials.
    let small = ["--target-error", "1e-3", "-w", "2", "--chunk-size", "1000"];
    let (cold, _) = run(&env, &small);
    let (warm, _) = run(&env, &small);
    assert_eq!(warm["inside"], cold["inside"]);
    let (hits, misses, stored) = figures(&warm);
    let cached = warm["cached_chunks"].as_u64().unwrap();
    assert!(hits >= cached, "{warm}");
    assert_eq!(stored, misses, "{warm}");
    let all_cached = cached == warm["chunks"].as_u64().unwrap();
    assert_eq!(all_cached, warm["trials_per_s"] == 0.0, "{warm}");
}
