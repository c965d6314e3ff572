//! Shared helpers for the CLI tests: every test runs the built binary in a clean environment.

#![allow(dead_code)]

use assert_cmd::Command;

/// The `piest` binary with every `PIEST_*` variable cleared and the cache (if any) pointed at a
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
        cmd.env("PIEST_CACHE_DIR", self.dir.path().join("cache"));
        cmd
    }
}

/// Runs `piest ARGS --json` and parses its stdout.
pub fn json(args: &[&str]) -> serde_json::Value {
    let env = Piest::new();
    let out = env
        .cmd()
        .args(args)
        .arg("--json")
        .output()
        .expect("run piest");
    assert!(
        out.status.success(),
        "piest {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

/// Starts `piest ARGS`, sends it SIGINT after 300 ms, and returns its output; fails the test if
/// it is still running 5 s after the signal.
pub fn interrupted(args: &[&str]) -> std::process::Output {
    use std::time::{Duration, Instant};
    let env = Piest::new();
    let mut child = env
        .std_cmd()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start piest");
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    loop {
        if child.try_wait().expect("wait for piest").is_some() {
            return child.wait_with_output().expect("collect output");
        }
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
