//! Every long command stops soon after SIGINT, SIGTERM or SIGHUP, stores what it completed and
//! dies by that signal; a second signal ends a process stuck in its clean-up at once. Each test
//! waits until the command is demonstrably busy (a `-v` line, its worker pool, a full pipe),
//! never a fixed time on Linux (elsewhere, without `/proc`, see `common::WITHOUT_PROC`). Each command is long by construction (hours of trials, an endless stream,
//! a read that never ends, more cached spans or files than it gets through before the signal),
//! and where the work it did can be seen the tests check in work that it stopped before the end:
//! files left, spans not judged, cached spans not read. The time from the signal to the end is
//! milliseconds on a quiet machine; the bound on it, [`PROMPTLY`], is generous.
#![cfg(unix)]

mod common;

use piest::Method;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Busy, Piest, interrupt, json_of};
use piest::cache::{BlockKey, Cache, CacheSession, Entry, Span};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// Time allowed from the signal to the end of the process. After the signal a command finishes
/// one slice of trials or one file, then stores what it completed: milliseconds. The bound is
/// generous because a loaded machine can stall a process for seconds; it names a command that
/// ignores the signal, which would run for hours or forever here.
const PROMPTLY: Duration = Duration::from_secs(10);

/// Interrupts a long estimate with `signal` once it has finished a chunk; checks that it stops
/// promptly, prints nothing on stdout and one line after its chunk lines, dies by the signal,
/// and stored the chunks it completed.
fn interrupted_estimate(signal: &str, number: i32, line: &str) {
    let env = Piest::new();
    let args = ["-n", "1e13", "-w", "2", "-v"];
    let out = interrupt(&env, &args, Busy::StderrLine("chunk"), signal);
    assert_eq!(out.status.signal(), Some(number), "{:?}", out.status);
    assert!(out.stdout.is_empty());
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.last(), Some(&line), "{}", out.stderr);
    let before = &lines[..lines.len() - 1];
    assert!(
        before.iter().all(|l| l.starts_with("chunk")),
        "{}",
        out.stderr
    );
    assert!(out.took < PROMPTLY, "took {:?}", out.took);
    // The completed chunks were stored before the process died.
    let (info, _) = json_of(env.std_cmd().args(["cache", "info"]).arg("--json"));
    assert!(info["chunks"].as_u64().unwrap() > 0, "{info}");
}

#[test]
fn ctrl_c_stores_completed_chunks_and_dies_by_sigint() {
    interrupted_estimate("INT", SIGINT, "piest: interrupted");
}

#[test]
fn sigterm_stores_completed_chunks_and_dies_by_sigterm() {
    interrupted_estimate("TERM", SIGTERM, "piest: interrupted by SIGTERM");
}

#[test]
fn sighup_stores_completed_chunks_and_dies_by_sighup() {
    interrupted_estimate("HUP", SIGHUP, "piest: interrupted by SIGHUP");
}

#[test]
fn ctrl_c_stops_a_fully_cached_rerun() {
    let env = Piest::new();
    // The cache holds 1,000 whole entries of one-trial chunks (their counts are made up: the
    // run only reads them), so the run below is read entirely from the cache, one -v line per
    // cached span: 256,000 of them, too many to finish before the signal.
    const BLOCKS: u64 = 1_000;
    let cache = Cache::new(env.dir.path().join("cache"));
    let session = CacheSession::open(cache, true);
    let cell = piest::plan::cache_cell_chunks(1);
    let block = piest::plan::cache_block_chunks(1);
    for b in 0..BLOCKS {
        let mut entry = Entry::empty(BlockKey::new(Method::Plain, 0, 1, b));
        for c in 0..block / cell {
            let first = b * block + c * cell;
            entry.insert(Span {
                first,
                end: first + cell,
                trials: 1,
                inside: cell * 3 / 4,
                squares: None,
            });
        }
        assert!(session.store(&entry));
    }
    let trials = (BLOCKS * block).to_string();
    let rerun = ["-n", &trials, "--chunk-size", "1", "-w", "1", "-v"];
    let out = interrupt(&env, &rerun, Busy::StderrContains("(cached)"), "INT");
    assert_eq!(out.status.signal(), Some(SIGINT), "{:?}", out.status);
    assert!(out.stdout.is_empty());
    assert!(
        !out.stderr.contains("(computed)"),
        "the rerun computed chunks"
    );
    assert_eq!(out.stderr.lines().last(), Some("piest: interrupted"));
    assert!(out.took < PROMPTLY, "took {:?}", out.took);
    // In work: it stopped before it had read every cached span.
    let read = out.stderr.matches("(cached)").count() as u64;
    let spans = BLOCKS * (block / cell);
    assert!(read < spans, "read all {spans} cached spans");
}

#[test]
fn ctrl_c_stops_a_stratified_run_and_a_stratified_target_run() {
    let env = Piest::new();
    // Hours of whole chunks of 4^10: busy once a chunk line is out.
    for extra in [&["-n", "1e14"][..], &["--target-error", "1e-8"][..]] {
        let args = [
            &[
                "--method",
                "stratified",
                "--chunk-size",
                "1048576",
                "-w",
                "2",
                "-v",
            ][..],
            extra,
        ]
        .concat();
        let out = interrupt(&env, &args, Busy::StderrLine("chunk"), "INT");
        assert_eq!(out.status.signal(), Some(SIGINT), "{:?}", out.status);
        assert!(out.stdout.is_empty());
        assert_eq!(
            out.stderr.lines().last(),
            Some("piest: interrupted"),
            "{}",
            out.stderr
        );
        assert!(out.took < PROMPTLY, "took {:?}", out.took);
    }
}

#[test]
fn ctrl_c_stops_a_sweep_promptly_and_it_dies_by_sigint() {
    let env = Piest::new();
    // Busy once the first run's worker pool (one worker beside the main thread) exists.
    let args = ["scale", "-n", "1e13", "-w", "1,2"];
    let out = interrupt(&env, &args, Busy::Threads(2), "INT");
    assert_eq!(out.status.signal(), Some(SIGINT));
    assert!(out.stdout.is_empty());
    assert_eq!(out.stderr.trim(), "piest: interrupted");
    assert!(out.took < PROMPTLY, "took {:?}", out.took);
}

#[test]
fn a_stream_blocked_on_a_full_pipe_dies_by_the_signal() {
    // stdout is a pipe the test does not read until the process has ended.
    for (signal, number) in [("INT", SIGINT), ("TERM", SIGTERM), ("HUP", SIGHUP)] {
        let env = Piest::new();
        let out = interrupt(&env, &["stream"], Busy::BlockedOnWrite, signal);
        assert_eq!(
            out.status.signal(),
            Some(number),
            "{signal}: {:?}",
            out.status
        );
        assert!(out.took < PROMPTLY, "{signal}: took {:?}", out.took);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
}

#[test]
fn a_merge_waiting_for_parts_on_stdin_dies_by_ctrl_c() {
    if !cfg!(target_os = "linux") {
        eprintln!("SKIPPED: waiting for a blocked read needs Linux /proc");
        return;
    }
    // stdin is a pipe the test keeps open and never writes: merge blocks reading it.
    let env = Piest::new();
    let mut child = env
        .std_cmd()
        .args(["merge", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start piest");
    let started = Instant::now();
    let blocked_reading = |pid: u32| {
        std::fs::read_dir(format!("/proc/{pid}/task")).is_ok_and(|tasks| {
            tasks.filter_map(Result::ok).any(|task| {
                std::fs::read_to_string(task.path().join("wchan"))
                    .is_ok_and(|w| w.contains("pipe_read"))
            })
        })
    };
    while !blocked_reading(child.id()) {
        assert!(started.elapsed() < Duration::from_secs(30), "never blocked");
        std::thread::sleep(Duration::from_millis(2));
    }
    let sent = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-s", "INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(sent.elapsed() < PROMPTLY, "still reading after Ctrl-C");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(status.signal(), Some(SIGINT), "{status:?}");
}

#[test]
fn a_second_ctrl_c_ends_a_process_stuck_in_its_clean_up() {
    // A verbose run whose stderr nobody reads blocks on its chunk lines: the first Ctrl-C sets
    // the flag, which the blocked workers cannot look at; the second ends the process.
    let env = Piest::new();
    let mut child = env
        .std_cmd()
        .args(["-n", "1e13", "-w", "2", "-v"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start piest");
    let started = Instant::now();
    if cfg!(target_os = "linux") {
        while !common::blocked_on_pipe_write(child.id()) {
            assert!(started.elapsed() < Duration::from_secs(30), "never blocked");
            std::thread::sleep(Duration::from_millis(2));
        }
    } else {
        common::wait_without_proc("a blocked write");
    }
    let kill = |signal: &str| {
        let status = std::process::Command::new("kill")
            .args(["-s", signal, &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    };
    kill("INT");
    // Two signals pending at once would be delivered as one: wait until the first is taken.
    while sigint_pending(child.id()) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "SIGINT never delivered"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // The process may not end after the first signal: that is what the second is for.
    let sent = Instant::now();
    kill("INT");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            sent.elapsed() < PROMPTLY,
            "still running after a second Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(status.signal(), Some(SIGINT), "{status:?}");
}

/// Whether SIGINT is pending for process `pid` or one of its threads (Linux `/proc`; elsewhere
/// the answer is no).
fn sigint_pending(pid: u32) -> bool {
    let bit = 1u64 << (SIGINT - 1);
    let pending = |status: String| {
        status.lines().any(|line| {
            let mask = line
                .strip_prefix("ShdPnd:")
                .or_else(|| line.strip_prefix("SigPnd:"));
            mask.and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
                .is_some_and(|m| m & bit != 0)
        })
    };
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks
        .filter_map(Result::ok)
        .any(|task| std::fs::read_to_string(task.path().join("status")).is_ok_and(pending))
}

/// Files in the crowded caches: tens of thousands, as a long-used shared cache may hold.
const CROWD: usize = 40_000;

/// Fills `env`'s cache with `CROWD` files named like entries (not valid ones: cheap to make),
/// beside its key; returns the entries folder.
fn crowd(env: &Piest) -> std::path::PathBuf {
    let cache = Cache::new(env.dir.path().join("cache"));
    CacheSession::open(cache.clone(), true);
    let dir = cache.entries_dir();
    for i in 0..CROWD {
        std::fs::write(dir.join(format!("{i:064x}.entry")), b"piest-cache-v2\n\0").unwrap();
    }
    dir
}

/// Entry-named files left in `dir`.
fn entries_left(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| {
        d.filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".entry"))
            .count()
    })
}

/// Checks that a cache command stopped by SIGINT died by it promptly, printing nothing on
/// stdout and one line on stderr.
fn assert_stopped(out: &common::Interrupted) -> String {
    assert_eq!(
        out.status.signal(),
        Some(SIGINT),
        "{:?}: {}",
        out.status,
        out.stderr
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.took < PROMPTLY, "took {:?}", out.took);
    let line = out.stderr.trim_end().to_owned();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(line.starts_with("piest: interrupted"), "{line}");
    line
}

#[test]
fn ctrl_c_stops_cache_info_on_a_crowded_cache() {
    let env = Piest::new();
    crowd(&env);
    // Busy once it has read a few thousand of the files.
    let out = interrupt(&env, &["cache", "info"], Busy::Reads(5_000), "INT");
    assert_stopped(&out);
}

#[test]
fn ctrl_c_stops_cache_clear_and_prune_on_a_crowded_cache_and_says_what_they_removed() {
    for action in [&["clear"][..], &["prune", "--max-size", "0"]] {
        let env = Piest::new();
        let dir = crowd(&env);
        let watched = dir.clone();
        // Busy once files are going away.
        let busy = Busy::When(Box::new(move || entries_left(&watched) < CROWD - 1_000));
        let args = [&["cache"][..], action].concat();
        let out = interrupt(&env, &args, busy, "INT");
        let line = assert_stopped(&out);
        // Every file is whole or gone, and the line says how many went.
        let left = entries_left(&dir);
        assert!(left > 0, "{action:?} ran to the end before the signal");
        let removed = CROWD - left;
        assert!(
            line.contains(&format!("it had removed {removed} entries")),
            "{action:?}: {line} ({removed} removed)"
        );
    }
}

#[test]
fn ctrl_c_stops_cache_verify() {
    let env = Piest::new();
    // Four spans (one per cache cell) of 2^22 one-trial chunks each: seconds to recompute.
    let mut entry = Entry::empty(BlockKey::new(Method::Plain, 1, 1, 0));
    for cell in 0..4 {
        entry.insert(Span {
            first: cell << 22,
            end: (cell + 1) << 22,
            trials: 1,
            inside: 0,
            squares: None,
        });
    }
    let cache = Cache::new(env.dir.path().join("cache"));
    assert!(CacheSession::open(cache, true).store(&entry));
    let args = ["cache", "verify", "--workers", "2"];
    let out = interrupt(&env, &args, Busy::Threads(3), "INT");
    assert_stopped(&out);
    // Nothing was judged, so nothing was removed.
    let (info, _) = json_of(env.std_cmd().args(["cache", "info", "--json"]));
    assert_eq!(info["chunks"], 4 << 22);
}
