//! Shared helpers for the CLI tests: every test runs the built binary in a clean environment.

#![allow(dead_code)]

use assert_cmd::Command;

/// The `piest` binary with every `PIEST_*` variable (and every scheduler variable) cleared and the cache (if any) pointed at a
/// fresh temporary directory, so tests never see the user's environment or each other's files.
pub struct Piest {
    /// Keeps the temporary directory alive as long as the command.
    pub dir: tempfile::TempDir,
}

impl Piest {
    /// A fresh environment.
    pub fn new() -> Self {
        Piest {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    /// A command for the binary in this environment.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// The same as [`Piest::cmd`], as a plain `std::process::Command` (to spawn and signal).
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("piest"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PIEST_") {
                cmd.env_remove(key);
            }
        }
        // A scheduler's or MPI launcher's variables would change what an estimate does.
        for name in piest::scheduler::ALL_VARS {
            cmd.env_remove(name);
        }
        cmd.env("PIEST_CACHE_DIR", self.dir.path().join("cache"));
        default_signal_actions(&mut cmd);
        cmd
    }
}

/// Gives the child the default actions of the signals the tests send. A command started in the
/// background by a non-interactive shell (`cargo test &` in a script, `nohup`) inherits SIGINT,
/// SIGQUIT and SIGHUP ignored, and a piest command that keeps the default actions (`stream`,
/// `merge`) would keep ignoring them: the signal tests would then test the test's parent.
#[cfg(unix)]
fn default_signal_actions(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec the closure calls only `signal`, which is async-signal-safe,
    // and allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            for signal in [libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGHUP] {
                if libc::signal(signal, libc::SIG_DFL) == libc::SIG_ERR {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn default_signal_actions(_: &mut std::process::Command) {}

impl Piest {
    /// Runs `piest ARGS --json` in this environment; returns the parsed stdout and the stderr,
    /// failing the test unless it succeeds.
    pub fn json(&self, args: &[&str]) -> (serde_json::Value, String) {
        json_of(self.std_cmd().args(args).arg("--json"))
    }
}

/// Runs `cmd`, fails the test unless it succeeds, and returns its stdout parsed as one JSON
/// object and its stderr.
pub fn json_of(cmd: &mut std::process::Command) -> (serde_json::Value, String) {
    let out = succeeds(cmd);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    (value, stderr)
}

/// Whether the tests run as root (which ignores file modes, and may start daemons and switch
/// users).
pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n")
}

/// Runs `cmd` and fails the test, showing the command and its stderr, unless it succeeds;
/// returns its output.
pub fn succeeds(cmd: &mut std::process::Command) -> std::process::Output {
    let out = cmd.output().expect("run piest");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `piest ARGS --json` in a fresh environment and parses its stdout.
pub fn json(args: &[&str]) -> serde_json::Value {
    Piest::new().json(args).0
}

/// Asserts that `piest PREFIX ARGS` is a usage error for each `(ARGS, needle)`: exit status 2,
/// nothing on stdout, and one line on stderr that contains `needle` (no panic).
pub fn assert_usage_errors(prefix: &[&str], cases: &[(&[&str], &str)]) {
    for (args, needle) in cases {
        let env = Piest::new();
        let out = env
            .cmd()
            .args(prefix)
            .args(*args)
            .output()
            .expect("run piest");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?}: not one line: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Asserts that `piest ARGS --help` documents each of `flags` with an `[example: ...]` in its
/// Options section; returns the whole help text.
pub fn assert_help_examples(args: &[&str], flags: &[&str]) -> String {
    let out = Piest::new()
        .cmd()
        .args(args)
        .arg("--help")
        .output()
        .expect("run piest");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).expect("UTF-8 help");
    let options = help.split("Options:").nth(1).expect("an Options section");
    for flag in flags {
        let section = options
            .split(flag)
            .nth(1)
            .unwrap_or_else(|| panic!("{flag} missing"));
        let until_next = section.split("\n  -").next().unwrap_or_default();
        assert!(
            until_next.contains("[example:"),
            "{flag} has no example:\n{until_next}"
        );
    }
    help
}

/// How [`interrupt`] knows that the command is busy, so that the signal interrupts real work.
pub enum Busy {
    /// A line on stderr starting with this (a `-v` chunk line).
    StderrLine(&'static str),
    /// A line on stderr containing this (such as `(cached)` of a `-v` line).
    StderrContains(&'static str),
    /// The process runs at least this many threads (its worker pool has started). Read from
    /// `/proc` on Linux; elsewhere see [`wait_without_proc`].
    Threads(usize),
    /// One of the process's threads is blocked writing to a full pipe (its stdout that nobody
    /// reads). Read from `/proc` on Linux; elsewhere see [`wait_without_proc`].
    BlockedOnWrite,
    /// The process has made at least this many read system calls (`syscr` of `/proc/PID/io`
    /// on Linux; elsewhere see [`wait_without_proc`]).
    Reads(u64),
    /// This returns true (a file appeared or went away); checked every 2 ms.
    When(Box<dyn Fn() -> bool>),
}

/// How long a signal test waits off Linux where it would wait for a sign seen in `/proc` (a
/// thread count, a blocked write, read calls): without `/proc` a test cannot see those from
/// outside the process. It is enough for piest to install its signal handlers and start its
/// work on an idle machine. A signal that comes earlier makes the test fail (the process dies
/// by the signal's default action, without its `interrupted` line), so a slow start is a
/// visible failure; only `stream`, which keeps the default actions, would then pass having
/// been stopped before its pipe was full. Signs on stderr and [`Busy::When`] need no wait.
pub const WITHOUT_PROC: std::time::Duration = std::time::Duration::from_millis(300);

/// Off Linux, waits [`WITHOUT_PROC`] instead of for `sign`, and says so in the test's log.
pub fn wait_without_proc(sign: &str) {
    eprintln!("no /proc: waiting {WITHOUT_PROC:?} instead of for {sign}");
    std::thread::sleep(WITHOUT_PROC);
}

/// The read system calls process `pid` has made so far (Linux `/proc`; 0 if unknown).
pub fn read_calls(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/io"))
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("syscr:").map(|n| n.trim().parse().ok()))
        })
        .flatten()
        .unwrap_or(0)
}

/// Whether a thread of process `pid` sleeps in the kernel's pipe write (Linux `/proc`).
pub fn blocked_on_pipe_write(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.filter_map(Result::ok).any(|task| {
        std::fs::read_to_string(task.path().join("wchan")).is_ok_and(|w| w.contains("pipe_write"))
    })
}

/// What [`interrupt`] saw.
pub struct Interrupted {
    /// How the process ended.
    pub status: std::process::ExitStatus,
    /// Its stdout.
    pub stdout: Vec<u8>,
    /// Its stderr, every line of it.
    pub stderr: String,
    /// Time from the signal to the end of the process.
    pub took: std::time::Duration,
}

/// Starts `piest ARGS` in `env`, waits until it is `busy`, sends it `signal` (a name for
/// `kill -s`, such as `INT`) and waits for it to end; fails the test if it has not ended 30 s
/// after the signal (the callers hold it to a tighter bound).
pub fn interrupt(env: &Piest, args: &[&str], busy: Busy, signal: &str) -> Interrupted {
    use std::io::{BufRead, BufReader, Read};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};
    let mut child = env
        .std_cmd()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start piest");
    let stderr = child.stderr.take().expect("piped stderr");
    let (lines, seen) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
            let _ = lines.send(line);
        }
        all
    });
    let started = Instant::now();
    match busy {
        Busy::StderrLine(prefix) => loop {
            let line = seen
                .recv_timeout(Duration::from_secs(30))
                .expect("no progress line within 30 s");
            if line.starts_with(prefix) {
                break;
            }
        },
        Busy::StderrContains(needle) => loop {
            let line = seen
                .recv_timeout(Duration::from_secs(30))
                .expect("no such line within 30 s");
            if line.contains(needle) {
                break;
            }
        },
        Busy::BlockedOnWrite => {
            if cfg!(target_os = "linux") {
                while !blocked_on_pipe_write(child.id()) {
                    assert!(started.elapsed() < Duration::from_secs(30), "never blocked");
                    std::thread::sleep(Duration::from_millis(2));
                }
            } else {
                wait_without_proc("a blocked write");
            }
        }
        Busy::Reads(n) => {
            if cfg!(target_os = "linux") {
                while read_calls(child.id()) < n {
                    assert!(started.elapsed() < Duration::from_secs(30), "never read");
                    std::thread::sleep(Duration::from_millis(1));
                }
            } else {
                wait_without_proc("read calls");
            }
        }
        Busy::When(ready) => {
            while !ready() {
                assert!(started.elapsed() < Duration::from_secs(30), "never ready");
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        Busy::Threads(n) => {
            let tasks = format!("/proc/{}/task", child.id());
            if cfg!(target_os = "linux") {
                while std::fs::read_dir(&tasks).map_or(0, Iterator::count) < n {
                    assert!(started.elapsed() < Duration::from_secs(30), "never busy");
                    std::thread::sleep(Duration::from_millis(2));
                }
            } else {
                wait_without_proc("the worker threads");
            }
        }
    }
    let sent = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for piest") {
            break status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(30),
            "still running 30 s after SIG{signal}"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = sent.elapsed();
    let mut stdout = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_end(&mut stdout).expect("read stdout");
    }
    let stderr = reader.join().expect("stderr reader");
    Interrupted {
        status,
        stdout,
        stderr,
        took,
    }
}
