//! How piest ends: every exit status in one enum, so that scripts can tell outcomes apart.
//!
//! | status | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | runtime error (I/O, a bug such as runs that disagree); the message says which |
//! | 2 | usage error: a bad flag, value or environment variable (one line on stderr, nothing on stdout) |
//! | 3 | `piest merge` refused its parts (different runs, duplicates or overlaps, missing shards, a file that is not a part) |
//! | 4 | `piest cache verify` found cached counts that differ from a recomputation (and removed them) |
//! | 5 | a precision target (`--target-error`) was not reached before the `--trials` cap or the `--max-time` budget; the answer is printed all the same |
//! | killed by SIGINT, SIGTERM or SIGHUP | the signal stopped the command; completed chunks were stored first. Shells show 128 + the signal number: 130, 143, 129 |
//!
//! On Unix a command that receives SIGINT, SIGTERM or SIGHUP stops, stores what it completed,
//! prints `piest: interrupted` and then dies by that same signal (default handler restored,
//! signal raised again), so a shell loop around piest stops as it would for any program; a
//! second signal during the clean-up ends the process at once. On Windows, Ctrl-C (and
//! Ctrl-Break, a closed console) cleans up the same way and then exits with status 130; a second Ctrl-C
//! exits with 130 at once.

use std::process::ExitCode;

use crate::signal::Signal;

/// The table above as data, `(status, meaning)`: the EXIT STATUS section of the manual page
/// (`piest man`). A test keeps it equal to the module docs.
pub const TABLE: &[(&str, &str)] = &[
    ("0", "success"),
    (
        "1",
        "runtime error (I/O, a bug such as runs that disagree); the message says which",
    ),
    (
        "2",
        "usage error: a bad flag, value or environment variable (one line on stderr, nothing on stdout)",
    ),
    (
        "3",
        "`piest merge` refused its parts (different runs, duplicates or overlaps, missing shards, a file that is not a part)",
    ),
    (
        "4",
        "`piest cache verify` found cached counts that differ from a recomputation (and removed them)",
    ),
    (
        "5",
        "a precision target (`--target-error`) was not reached before the `--trials` cap or the `--max-time` budget; the answer is printed all the same",
    ),
    (
        "killed by SIGINT, SIGTERM or SIGHUP",
        "the signal stopped the command; completed chunks were stored first. Shells show 128 + the signal number: 130, 143, 129",
    ),
];

/// A command's answer was printed, but its precision target was not reached: maps to
/// [`ExitStatus::TargetNotReached`]. The command has already said so on stderr.
#[derive(Debug, thiserror::Error)]
#[error("the target error was not reached")]
pub struct TargetNotReached;

/// Every way piest ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything asked for was done.
    Success,
    /// A runtime error: the message on stderr says what failed.
    Error,
    /// The command line or environment was wrong: one line on stderr, nothing on stdout.
    Usage,
    /// `piest merge` refused its parts: different runs, duplicated or overlapping parts, missing
    /// shards, or a file that is not a part.
    MergeRefused,
    /// `piest cache verify` found cached counts that differ from a recomputation.
    VerifyDifferences,
    /// A precision target was not reached before the `--trials` cap or the `--max-time`
    /// budget (the answer was printed).
    TargetNotReached,
    /// Stopped by a signal, after cleaning up: the process dies by that signal.
    Interrupted(Signal),
}

impl ExitStatus {
    /// The exit code: the table in the module docs. For [`ExitStatus::Interrupted`] it is the
    /// code a shell shows for death by the signal (128 + its number), used where the signal
    /// cannot be raised again.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Error => 1,
            ExitStatus::Usage => 2,
            ExitStatus::MergeRefused => 3,
            ExitStatus::VerifyDifferences => 4,
            ExitStatus::TargetNotReached => 5,
            ExitStatus::Interrupted(signal) => 128 + signal.number(),
        }
    }

    /// Ends the process with this status. An interrupted process dies by its signal where the
    /// platform allows it; otherwise it exits with [`ExitStatus::code`].
    pub fn exit(self) -> ExitCode {
        if let ExitStatus::Interrupted(signal) = self {
            signal.die();
        }
        ExitCode::from(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_documented_code() {
        let all = [
            (ExitStatus::Success, 0),
            (ExitStatus::Error, 1),
            (ExitStatus::Usage, 2),
            (ExitStatus::MergeRefused, 3),
            (ExitStatus::VerifyDifferences, 4),
            (ExitStatus::TargetNotReached, 5),
            (ExitStatus::Interrupted(Signal::Interrupt), 130),
            (ExitStatus::Interrupted(Signal::Terminate), 143),
            (ExitStatus::Interrupted(Signal::Hangup), 129),
        ];
        let docs = include_str!("exit.rs");
        for (i, (status, code)) in all.iter().enumerate() {
            assert_eq!(status.code(), *code, "{status:?}");
            for (other, other_code) in &all[i + 1..] {
                assert_ne!(code, other_code, "{status:?} and {other:?} share a code");
            }
            if *code < 128 {
                assert!(
                    docs.contains(&format!("//! | {code} |")),
                    "{code} not in the table"
                );
            }
        }
        // The manual page's table is the same table.
        for (code, meaning) in TABLE {
            assert!(
                docs.contains(&format!("//! | {code} | {meaning} |")),
                "row {code} of TABLE differs from the module docs"
            );
        }
        assert_eq!(
            TABLE.len(),
            all.len() - 2,
            "one row per status, signals in one row"
        );
        // The README carries the same table.
        let readme = include_str!("../../../README.md");
        for code in 0..=5 {
            assert!(
                readme.contains(&format!("| {code} |")),
                "{code} not in the README"
            );
        }
    }
}
