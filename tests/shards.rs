//! Split runs through the CLI: `--shard K/N|auto`, `piest merge`, and the exactness of the merge
//! against a single run.

mod common;

use std::path::{Path, PathBuf};

use common::{Piest, assert_usage_errors, json_of};
use serde_json::Value;

/// 40 chunks of 250,000 trials: small enough to run often, enough chunks for 7 shards.
const TRIALS: &str = "1e7";
const CHUNK: &str = "250000";

/// Writes the parts of `n` shards of the test run into `dir`; returns their paths.
fn write_parts(env: &Piest, dir: &Path, n: u64, extra: &[&str]) -> Vec<PathBuf> {
    (0..n)
        .map(|k| {
            let shard = format!("{k}/{n}");
            let out = env
                .std_cmd()
                .args([
                    "-n",
                    TRIALS,
                    "--chunk-size",
                    CHUNK,
                    "--seed",
                    "11",
                    "-w",
                    "2",
                ])
                .args(["--shard", &shard, "--json"])
                .args(extra)
                .output()
                .expect("run piest");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let path = dir.join(format!("part-{k}-of-{n}.json"));
            std::fs::write(&path, &out.stdout).expect("write part");
            path
        })
        .collect()
}

fn merge(env: &Piest, args: &[&str], files: &[PathBuf]) -> std::process::Output {
    env.std_cmd()
        .arg("merge")
        .args(args)
        .args(files)
        .output()
        .expect("run piest merge")
}

fn single_run(env: &Piest) -> Value {
    let args = [
        "-n",
        TRIALS,
        "--chunk-size",
        CHUNK,
        "--seed",
        "11",
        "--no-cache",
    ];
    env.json(&args).0
}

#[test]
fn merged_shards_equal_the_single_run_bit_for_bit() {
    let env = Piest::new();
    let whole = single_run(&env);
    // 40 chunks: 50 shards leaves ten of them empty.
    for n in [1, 2, 3, 7, 50] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut parts = write_parts(&env, dir.path(), n, &["--no-cache"]);
        parts.reverse();
        let out = merge(&env, &["--json"], &parts);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let merged: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        for field in [
            "pi",
            "std_error",
            "ci95",
            "inside",
            "trials",
            "chunks",
            "seed",
        ] {
            assert_eq!(merged[field], whole[field], "n = {n}: {field}");
        }
        let bits = |v: &Value| v.as_f64().map(f64::to_bits);
        assert_eq!(bits(&merged["pi"]), bits(&whole["pi"]), "n = {n}");
        assert_eq!(bits(&merged["std_error"]), bits(&whole["std_error"]));
        assert_eq!(merged["complete"], true);
        assert_eq!(merged["parts"], n);
        eprintln!(
            "merged {n} shards: inside {} of {} (single run: {})",
            merged["inside"], merged["trials"], whole["inside"]
        );
    }
}

#[test]
fn a_part_is_an_estimate_of_its_own_chunks_with_what_merge_needs() {
    let env = Piest::new();
    let (part, _) = env.json(&["-n", TRIALS, "--chunk-size", CHUNK, "--shard", "1/3"]);
    assert_eq!(part["format"], "piest-part");
    assert_eq!(part["format_version"], 1);
    assert_eq!(part["shard"]["index"], 1);
    assert_eq!(part["shard"]["count"], 3);
    assert_eq!(part["total_trials"], 10_000_000);
    assert_eq!(part["chunk_ranges"], serde_json::json!([[13, 26]]));
    assert_eq!(part["trials"], 13 * 250_000);
    assert!(part["pi"].as_f64().is_some());
    let empty = env.json(&["-n", "1000", "--shard", "0/4"]).0;
    assert!(empty["pi"].is_null(), "{empty}");
    let text = env
        .cmd()
        .args(["-n", TRIALS, "--chunk-size", CHUNK, "--shard", "1/3"])
        .output()
        .expect("run piest");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.starts_with("shard 1 of 3"), "{text}");
    assert!(text.contains("not a final estimate"), "{text}");
}

#[test]
fn merge_refuses_bad_sets_naming_the_files_with_status_3() {
    let env = Piest::new();
    let dir = tempfile::tempdir().expect("temporary directory");
    let parts = write_parts(&env, dir.path(), 3, &[]);
    let other = |name: &str, args: &[&str]| {
        let out = env
            .std_cmd()
            .args(args)
            .args(["--shard", "2/3", "--json"])
            .output()
            .expect("run piest");
        let path = dir.path().join(name);
        std::fs::write(&path, out.stdout).expect("write");
        path
    };
    let base = ["-n", TRIALS, "--chunk-size", CHUNK, "--seed", "11"];
    let trials = other(
        "trials.json",
        &["-n", "2e7", "--chunk-size", CHUNK, "--seed", "11"],
    );
    let seed = other(
        "seed.json",
        &["-n", TRIALS, "--chunk-size", CHUNK, "--seed", "12"],
    );
    let chunk = other(
        "chunk.json",
        &["-n", TRIALS, "--chunk-size", "300000", "--seed", "11"],
    );
    let overlap = {
        let out = env
            .std_cmd()
            .args(base)
            .args(["--shard", "1/2", "--json"])
            .output()
            .expect("run piest");
        let path = dir.path().join("half.json");
        std::fs::write(&path, out.stdout).expect("write");
        path
    };
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let part0 = std::fs::read_to_string(&parts[0]).expect("read");
    let truncated = write("truncated.json", &part0[..part0.len() / 2]);
    let not_json = write("notes.txt", "pi is about 3\n");
    let foreign = write(
        "package.json",
        r#"{"name": "left-pad", "version": "1.3.0"}"#,
    );
    let estimate = write(
        "estimate.json",
        &String::from_utf8(
            env.cmd()
                .args(base)
                .arg("--json")
                .output()
                .expect("run")
                .stdout,
        )
        .expect("UTF-8"),
    );
    let version = write(
        "v2.json",
        &part0.replace("\"format_version\": 1", "\"format_version\": 2"),
    );
    let replace = |name: &str, from: &str, to: &str| {
        assert!(part0.contains(from), "{from}");
        write(name, &part0.replacen(from, to, 1))
    };
    // The last "inside" would win in serde_json: a forged count no reader should see.
    let inside = part0
        .lines()
        .find(|l| l.trim_start().starts_with("\"inside\""))
        .expect("an inside line")
        .to_owned();
    let twice = replace(
        "twice.json",
        &inside,
        &format!("{inside}\n  \"inside\": 0,"),
    );
    let kernel = part0
        .lines()
        .find(|l| l.trim_start().starts_with("\"kernel\""))
        .expect("a kernel line")
        .to_owned();
    let no_kernel = replace("no-kernel.json", &kernel, "");
    let escape = replace("escape.json", &kernel, "  \"kernel\": \"\\u001b[31mavx2\",");
    let p = |i: usize| parts[i].clone();
    let cases: Vec<(Vec<PathBuf>, Vec<&str>)> = vec![
        (
            vec![p(0), p(1), p(2), twice],
            vec!["twice.json", "\"inside\" appears twice"],
        ),
        (
            vec![p(1), p(2), no_kernel],
            vec!["no-kernel.json", "missing field `kernel`"],
        ),
        (
            vec![p(1), p(2), escape],
            vec!["escape.json", "is not one of piest's kernels"],
        ),
        (
            vec![p(0), p(1), trials.clone()],
            vec!["trials.json", "different runs", "trials"],
        ),
        (vec![p(0), p(1), seed], vec!["seed.json", "seed 12 vs 11"]),
        (
            vec![p(0), p(1), chunk],
            vec!["chunk.json", "chunk size 300000 vs 250000"],
        ),
        (vec![p(0), p(1), p(2), p(1)], vec!["both shard 1/3"]),
        (
            vec![p(0), p(1), overlap],
            vec!["half.json", "both count chunks"],
        ),
        (vec![p(1)], vec!["missing shards 0, 2 of 3"]),
        (vec![p(0), truncated], vec!["truncated.json", "cut short"]),
        (vec![p(0), not_json], vec!["notes.txt", "not JSON"]),
        (
            vec![p(0), foreign],
            vec!["package.json", "not a piest part"],
        ),
        (vec![estimate], vec!["estimate.json", "not a piest part"]),
        (vec![p(0), version], vec!["v2.json", "format version 2"]),
    ];
    for (files, needles) in cases {
        let out = merge(&env, &[], &files);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{files:?}: {stderr}");
        assert!(out.stdout.is_empty());
        assert!(!stderr.contains('\u{1b}'), "{stderr}");
        for needle in needles {
            assert!(
                stderr.contains(needle),
                "{files:?}: {needle} not in {stderr}"
            );
        }
    }
    // An unreadable file is a runtime error, not a refusal.
    let out = merge(&env, &[], &[dir.path().join("absent.json")]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_partial_merge_says_so_and_stdin_takes_concatenated_parts() {
    let env = Piest::new();
    let dir = tempfile::tempdir().expect("temporary directory");
    let parts = write_parts(&env, dir.path(), 7, &[]);
    let some = [parts[0].clone(), parts[3].clone()];
    let out = merge(&env, &["--allow-partial"], &some);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("PARTIAL estimate"), "{text}");
    assert!(text.contains("missing shards 1, 2, 4, 5, 6"), "{text}");
    let (partial, _) = json_of(
        env.std_cmd()
            .args(["merge", "--allow-partial", "--json"])
            .args(&some),
    );
    assert_eq!(partial["complete"], false);
    assert_eq!(
        partial["missing_shards"],
        serde_json::json!([1, 2, 4, 5, 6])
    );
    // Every part on stdin, one after another.
    let mut all = Vec::new();
    for path in &parts {
        all.extend(std::fs::read(path).expect("read part"));
    }
    let mut child = env
        .std_cmd()
        .args(["merge", "--json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start piest merge");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&all)
        .expect("write parts");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let merged: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(merged["inside"], single_run(&env)["inside"]);
}

#[test]
fn bad_shard_values_are_usage_errors() {
    assert_usage_errors(
        &["-n", "1e6"],
        &[
            (&["--shard", "3/3"], "does not exist"),
            (&["--shard", "0/0"], "at least one shard"),
            (&["--shard", "-1/4"], "not a shard"),
            (&["--shard", "1"], "K/N"),
            (&["--shard", "x/y"], "not a shard"),
            (&["--shard", "auto"], "found no job array"),
            // Every shard would draw its own seed: the parts could never merge.
            (&["--shard", "0/2", "--seed", "random"], "same --seed N"),
        ],
    );
    // A sweep cannot honour a shard: the flag is not part of its grammar.
    assert_usage_errors(&["scale"], &[(&["--shard", "0/2"], "--shard")]);
}

/// Runs `piest --shard auto` with `vars` set; returns its part's shard, or its error line.
fn auto(vars: &[(&str, &str)]) -> Result<(u64, u64), String> {
    let env = Piest::new();
    let out = env
        .std_cmd()
        .args(["-n", "1e6", "--no-cache", "--shard", "auto", "--json"])
        .envs(vars.iter().copied())
        .output()
        .expect("run piest");
    if !out.status.success() {
        assert_eq!(out.status.code(), Some(2));
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let part: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let n = |v: &Value| v.as_u64().expect("a number");
    Ok((n(&part["shard"]["index"]), n(&part["shard"]["count"])))
}

#[test]
fn shard_auto_reads_slurm_arrays_and_kubernetes_indexed_jobs() {
    let array = [
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
    ];
    assert_eq!(auto(&array), Ok((2, 4)));
    let offset = [
        ("SLURM_ARRAY_TASK_ID", "7"),
        ("SLURM_ARRAY_TASK_COUNT", "8"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_MAX", "8"),
    ];
    // A 1-based array's IDs are not shard indices: refused before any work, with the fix.
    assert!(auto(&offset).unwrap_err().contains("not 0"));
    let mut forced_offset = offset.to_vec();
    forced_offset.push(("PIEST_SHARD_COUNT", "8"));
    assert!(auto(&forced_offset).unwrap_err().contains("--array=0-7"));
    let stepped = [
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
        ("SLURM_ARRAY_TASK_MAX", "6"),
    ];
    assert!(
        auto(&stepped)
            .unwrap_err()
            .contains("not a contiguous range")
    );
    // A retried task (sbatch --array=3) keeps its index only with the count given.
    let retry = [
        ("SLURM_ARRAY_TASK_ID", "3"),
        ("SLURM_ARRAY_TASK_COUNT", "1"),
        ("SLURM_ARRAY_TASK_MIN", "3"),
        ("SLURM_ARRAY_TASK_MAX", "3"),
    ];
    assert!(auto(&retry).unwrap_err().contains("PIEST_SHARD_COUNT"));
    let mut forced = retry.to_vec();
    forced.push(("PIEST_SHARD_COUNT", "64"));
    assert_eq!(auto(&forced), Ok((3, 64)));
    // Half an array submitted again (--array=32-63 of 64 shards): task 40 is shard 40 of 64
    // with the count, and refused without it (never shard 8 of 32).
    let half = [
        ("SLURM_ARRAY_TASK_ID", "40"),
        ("SLURM_ARRAY_TASK_COUNT", "32"),
        ("SLURM_ARRAY_TASK_MIN", "32"),
        ("SLURM_ARRAY_TASK_MAX", "63"),
    ];
    assert!(auto(&half).unwrap_err().contains("PIEST_SHARD_COUNT"));
    let mut forced_half = half.to_vec();
    forced_half.push(("PIEST_SHARD_COUNT", "64"));
    assert_eq!(auto(&forced_half), Ok((40, 64)));
    // A task ID below the array's lowest: the variables contradict each other.
    let below = [
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
        ("SLURM_ARRAY_TASK_MIN", "3"),
        ("SLURM_ARRAY_TASK_MAX", "6"),
        ("PIEST_SHARD_COUNT", "8"),
    ];
    let err = auto(&below).unwrap_err();
    assert!(err.contains("lies outside the array's IDs 3 to 6"), "{err}");
    let pod = [("JOB_COMPLETION_INDEX", "3"), ("PIEST_SHARD_COUNT", "5")];
    assert_eq!(auto(&pod), Ok((3, 5)));
    assert!(
        auto(&[("JOB_COMPLETION_INDEX", "3")])
            .unwrap_err()
            .contains("completions")
    );
    assert!(auto(&[]).unwrap_err().contains("found no job array"));
}

#[test]
fn a_kubernetes_indexed_job_emulated_by_processes_merges_exactly() {
    let env = Piest::new();
    let dir = tempfile::tempdir().expect("temporary directory");
    let manifest = std::fs::read_to_string("examples/kubernetes/piest-job.yaml").expect("manifest");
    let completions = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("completions: "))
        .and_then(|n| n.parse::<u64>().ok())
        .expect("completions in the manifest");
    // The pods run at once, each told only its index and the count from the manifest.
    let children: Vec<(u64, std::process::Child)> = (0..completions)
        .map(|i| {
            let child = env
                .std_cmd()
                .args([
                    "-n",
                    TRIALS,
                    "--chunk-size",
                    CHUNK,
                    "--seed",
                    "11",
                    "-w",
                    "1",
                ])
                .args(["--shard", "auto", "--json"])
                .env("JOB_COMPLETION_INDEX", i.to_string())
                .env("PIEST_SHARD_COUNT", completions.to_string())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("start a pod");
            (i, child)
        })
        .collect();
    let parts: Vec<PathBuf> = children
        .into_iter()
        .map(|(i, child)| {
            let out = child.wait_with_output().expect("wait for a pod");
            assert!(out.status.success());
            let path = dir.path().join(format!("part-{i}.json"));
            std::fs::write(&path, out.stdout).expect("write part");
            path
        })
        .collect();
    let out = merge(&env, &["--json"], &parts);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let whole = single_run(&env);
    assert_eq!(merged["inside"], whole["inside"]);
    assert_eq!(merged["pi"], whole["pi"]);
    assert_eq!(merged["shard_count"], completions);
}

#[test]
fn shard_cache_entries_serve_a_later_whole_run() {
    // 1e10 trials make 10 cache blocks: two shards own whole blocks... but too slow for a test.
    // Small chunks keep it fast: 4e6 trials in chunks of 1000 are 4000 chunks, 16 blocks.
    let env = Piest::new();
    let args = ["-n", "4e6", "--chunk-size", "1000", "--seed", "3"];
    for k in 0..2 {
        let shard = format!("{k}/2");
        let (part, _) = env.json(&[&args[..], &["--shard", &shard]].concat());
        assert_eq!(part["cached_chunks"], 0);
    }
    let (whole, _) = env.json(&args);
    assert_eq!(whole["cached_chunks"], whole["chunks"], "{whole}");
    let fresh = Piest::new().json(&[&args[..], &["--no-cache"]].concat()).0;
    assert_eq!(whole["inside"], fresh["inside"]);
}

#[test]
fn a_launcher_of_several_tasks_is_refused_without_mpi() {
    if cfg!(feature = "mpi") {
        eprintln!("skipped: this build has the mpi feature (tests/engines.rs covers it)");
        return;
    }
    for (name, value) in [
        ("OMPI_COMM_WORLD_SIZE", "4"),
        ("PMI_SIZE", "2"),
        ("SLURM_STEP_NUM_TASKS", "2"),
    ] {
        let env = Piest::new();
        let out = env
            .std_cmd()
            .args(["-n", "1e6"])
            .env(name, value)
            .output()
            .expect("run piest");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains("without MPI"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    // One task under a launcher is an ordinary run.
    let env = Piest::new();
    let out = env
        .std_cmd()
        .args(["-n", "1e6", "--json"])
        .env("SLURM_STEP_NUM_TASKS", "1")
        .output()
        .expect("run piest");
    assert!(out.status.success());
}

#[test]
fn cache_maintenance_ignores_nfs_leftovers() {
    // NFS renames a file removed while open to .nfsXXXX; it is not piest's to count or remove.
    let env = Piest::new();
    env.json(&["-n", "1e6", "--chunk-size", "1000"]);
    let cache = env.dir.path().join("cache");
    let entries = std::fs::read_dir(&cache)
        .expect("cache dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .expect("an entries folder");
    let nfs = entries.join(".nfs000000000012345600000001");
    std::fs::write(&nfs, "held open elsewhere").expect("write");
    let (info, _) = json_of(env.std_cmd().args(["cache", "info", "--json"]));
    assert_eq!(info["invalid"], 0, "{info}");
    assert_eq!(info["temp_files"], 0, "{info}");
    json_of(env.std_cmd().args(["cache", "clear", "--json"]));
    assert!(nfs.exists(), "cache clear removed an NFS placeholder");
}

/// Runs `examples/slurm/piest-shards.sbatch` in bash as one task of a job array, without Slurm:
/// the array's variables are set as Slurm sets them. Returns whether the task succeeded.
#[cfg(unix)]
fn sbatch_task(dir: &Path, id: u64, ids: std::ops::RangeInclusive<u64>) -> bool {
    let env = Piest::new();
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("examples/slurm/piest-shards.sbatch");
    for name in piest::scheduler::ALL_VARS {
        cmd.env_remove(name);
    }
    let count = ids.end() - ids.start() + 1;
    let out = cmd
        .env("PIEST", assert_cmd::cargo::cargo_bin!("piest"))
        .env("PIEST_CACHE_DIR", env.dir.path().join("cache"))
        .env("TRIALS", "4e6")
        .env("SEED", "11")
        .env("PARTS", dir)
        .env("PIEST_SHARD_COUNT", "4")
        .env("SLURM_ARRAY_TASK_ID", id.to_string())
        .env("SLURM_ARRAY_TASK_COUNT", count.to_string())
        .env("SLURM_ARRAY_TASK_MIN", ids.start().to_string())
        .env("SLURM_ARRAY_TASK_MAX", ids.end().to_string())
        .output()
        .expect("run bash");
    out.status.success()
}

/// The names of the parts in `dir`, sorted.
#[cfg(unix)]
fn part_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read the parts directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("part-"))
        .collect();
    names.sort();
    names
}

#[cfg(unix)]
#[test]
fn the_documented_slurm_retry_replaces_only_the_failed_shards_part() {
    if std::process::Command::new("bash")
        .arg("-c")
        .arg("true")
        .status()
        .is_err()
    {
        eprintln!("SKIPPED: bash is not installed; the batch script cannot run");
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let parts = dir.path().join("parts");
    // --array=0-3, then shard 2's part is lost and retried alone (--array=2).
    for id in 0..4 {
        assert!(sbatch_task(&parts, id, 0..=3), "task {id}");
    }
    let want: Vec<String> = (0..4).map(|k| format!("part-{k}-of-4.json")).collect();
    assert_eq!(part_names(&parts), want);
    let shard_1 = std::fs::read(parts.join("part-1-of-4.json")).expect("part 1");
    std::fs::remove_file(parts.join("part-2-of-4.json")).expect("lose part 2");
    assert!(sbatch_task(&parts, 2, 2..=2));
    // Half the array again (--array=2-3): the same shards, under the same names.
    for id in 2..4 {
        assert!(sbatch_task(&parts, id, 2..=3), "task {id}");
    }
    // A 1-based submission is refused by every task and writes no part.
    for id in 1..5 {
        assert!(!sbatch_task(&parts, id, 1..=4), "task {id} of --array=1-4");
    }
    assert_eq!(part_names(&parts), want);
    assert_eq!(
        std::fs::read(parts.join("part-1-of-4.json")).expect("part 1"),
        shard_1
    );
    let env = Piest::new();
    let files: Vec<PathBuf> = want.iter().map(|n| parts.join(n)).collect();
    let out = merge(&env, &["--json"], &files);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let (whole, _) = env.json(&["-n", "4e6", "--seed", "11", "--no-cache"]);
    assert_eq!(merged["inside"], whole["inside"]);
}

#[test]
fn an_empty_shard_and_a_merge_of_empty_parts_say_there_is_no_estimate() {
    let env = Piest::new();
    // One chunk in two shards: shard 0 holds none.
    let run = [
        "-n",
        "10",
        "--chunk-size",
        "10",
        "--no-cache",
        "--shard",
        "0/2",
    ];
    let quiet = env.cmd().args(run).arg("-q").output().expect("run piest");
    assert!(quiet.status.success());
    let text = String::from_utf8_lossy(&quiet.stdout);
    assert_eq!(text, "no estimate (0 trials counted)\n");
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("part-0-of-2.json");
    let part = env
        .cmd()
        .args(run)
        .arg("--json")
        .output()
        .expect("run piest");
    std::fs::write(&path, &part.stdout).expect("write part");
    let part_text = String::from_utf8_lossy(&part.stdout).into_owned();
    let human = merge(&env, &["--allow-partial"], std::slice::from_ref(&path));
    let json = merge(&env, &["--allow-partial", "--json"], &[path]);
    assert!(human.status.success() && json.status.success());
    let human = String::from_utf8_lossy(&human.stdout).into_owned();
    assert!(human.contains("no estimate"), "{human}");
    let json_text = String::from_utf8_lossy(&json.stdout).into_owned();
    for text in [&human, &json_text, &part_text] {
        // Rust prints NaN and inf (-inf) for non-finite floats; no word of these texts is one.
        let mut words = text.split(|c: char| !c.is_ascii_alphanumeric());
        assert!(words.all(|w| w != "NaN" && w != "inf"), "{text}");
    }
    let merged: Value = serde_json::from_str(&json_text).expect("JSON");
    assert_eq!(merged["has_estimate"], false);
    assert!(merged["pi"].is_null() && merged["std_error"].is_null());
}

/// The stratified run the shard tests split: 1e6 trials rounded up to 62 chunks of 4^7.
const STRATIFIED: [&str; 8] = [
    "--method",
    "stratified",
    "-n",
    "1e6",
    "--chunk-size",
    "16384",
    "--seed",
    "5",
];

/// Writes the parts of `n` shards of the stratified test run; returns their paths.
fn write_stratified_parts(env: &Piest, dir: &Path, n: u64) -> Vec<PathBuf> {
    (0..n)
        .map(|k| {
            let (part, _) = json_of(env.std_cmd().args(STRATIFIED).args([
                "--shard",
                &format!("{k}/{n}"),
                "--no-cache",
                "--json",
            ]));
            let path = dir.join(format!("part-{k}-of-{n}.json"));
            std::fs::write(&path, part.to_string()).expect("write part");
            path
        })
        .collect()
}

#[test]
fn merged_stratified_shards_equal_the_single_run_bit_for_bit() {
    let env = Piest::new();
    let (whole, _) = env.json(&STRATIFIED);
    assert_eq!(whole["ci_method"], "student-t");
    for n in [1, 2, 3, 7] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let parts = write_stratified_parts(&env, dir.path(), n);
        let first: Value =
            serde_json::from_str(&std::fs::read_to_string(&parts[0]).expect("part")).expect("JSON");
        assert_eq!(first["method"], "stratified");
        assert_eq!(first["requested_trials"], 1_000_000);
        assert!(first["inside_squares"].is_string(), "{first}");
        let out = merge(&env, &["--json"], &parts);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let merged: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        for field in [
            "pi",
            "std_error",
            "ci95",
            "ci95_half_width",
            "ci_method",
            "inside",
            "trials",
            "requested_trials",
            "chunks",
            "method",
            "algorithm",
        ] {
            assert_eq!(merged[field], whole[field], "n = {n}: {field}");
        }
    }
}

#[test]
fn merge_refuses_mixed_methods_and_forged_squares_with_status_3() {
    let env = Piest::new();
    let dir = tempfile::tempdir().expect("temporary directory");
    let stratified = write_stratified_parts(&env, dir.path(), 2);
    // A plain part of the same trials, seed and chunk size.
    let (plain, _) = json_of(env.std_cmd().args([
        "-n",
        "1015808",
        "--chunk-size",
        "16384",
        "--seed",
        "5",
        "--shard",
        "1/2",
        "--no-cache",
        "--json",
    ]));
    let plain_path = dir.path().join("plain.json");
    std::fs::write(&plain_path, plain.to_string()).expect("write part");
    let out = merge(&env, &[], &[stratified[0].clone(), plain_path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("method plain vs stratified"), "{stderr}");
    // Squares the counts cannot give are refused.
    let text = std::fs::read_to_string(&stratified[1]).expect("part");
    let mut forged: Value = serde_json::from_str(&text).expect("JSON");
    forged["inside_squares"] = Value::String("1".into());
    let forged_path = dir.path().join("forged.json");
    std::fs::write(&forged_path, forged.to_string()).expect("write part");
    let out = merge(&env, &[], &[stratified[0].clone(), forged_path]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("squared counts"), "{stderr}");
}
