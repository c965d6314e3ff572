//! How piest ends: every exit status in one enum ([`ExitStatus`], its table [`TABLE`], also the
//! manual's and the README's), and how a command's outcome becomes one ([`Ending`]), so that
//! scripts can tell outcomes apart.
//!
//! On Unix a command that receives SIGINT, SIGTERM or SIGHUP stops, stores what it completed,
//! prints `piest: interrupted` and then dies by that same signal (default handler restored,
//! signal raised again), so a shell loop around piest stops as it would for any program; a
//! second signal during the clean-up ends the process at once. On Windows, Ctrl-C (and
//! Ctrl-Break, a closed console) cleans up the same way and then exits with status 130; a second Ctrl-C
//! exits with 130 at once.

use std::process::ExitCode;

use piest::cache::{Done, MaintenanceError};

use crate::cmd::cache::VerifyDifferences;
use crate::cmd::merge::MergeRefused;
use crate::config::UsageError;
use crate::output::{error_message, stderr_line};
use crate::signal::Signal;

/// Every exit status, `(status, meaning)`: the EXIT STATUS section of the manual page
/// (`piest man`) and the README's table (a test keeps them equal, row by row).
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
        "a precision target (`--target-error`) was not reached before the `--trials` cap or the `--max-time` budget (the answer is printed all the same), or a `--max-time` budget ran out before the first chunk was counted (no answer)",
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

/// How a command ended, as data: each variant is one exit status and what is said on stderr.
#[derive(Debug)]
pub enum Ending {
    /// Everything asked for was done.
    Success,
    /// The answer was printed, and why it falls short of its target already said.
    TargetNotReached,
    /// Stopped by a signal (or the cancel flag without one: as Ctrl-C); `done` is what a stopped
    /// maintenance command had already changed.
    Interrupted {
        signal: Signal,
        /// What had been done, if anything.
        done: Option<Done>,
    },
    /// Failed with this status; the error is the message.
    Failed(ExitStatus, anyhow::Error),
}

impl Ending {
    /// The ending of a command that returned `result` after `signal` (if one was received).
    pub fn new(result: anyhow::Result<()>, signal: Option<Signal>) -> Ending {
        let err = match result {
            Ok(()) => {
                return match signal {
                    Some(signal) => Ending::Interrupted { signal, done: None },
                    None => Ending::Success,
                };
            }
            Err(err) => err,
        };
        let done = match err.downcast_ref() {
            Some(MaintenanceError::Cancelled { done }) => Some(Some(done.clone())),
            _ => matches!(err.downcast_ref(), Some(piest::Error::Cancelled)).then_some(None),
        };
        if let Some(signal) = signal {
            return Ending::Interrupted {
                signal,
                done: done.flatten(),
            };
        }
        if let Some(done) = done {
            return Ending::Interrupted {
                signal: Signal::Interrupt,
                done,
            };
        }
        if err.is::<TargetNotReached>() {
            return Ending::TargetNotReached;
        }
        let status = if err.is::<UsageError>() {
            ExitStatus::Usage
        } else if err.is::<MergeRefused>() {
            ExitStatus::MergeRefused
        } else if err.is::<VerifyDifferences>() {
            ExitStatus::VerifyDifferences
        } else {
            ExitStatus::Error
        };
        Ending::Failed(status, err)
    }

    pub fn status(&self) -> ExitStatus {
        match self {
            Ending::Success => ExitStatus::Success,
            Ending::TargetNotReached => ExitStatus::TargetNotReached,
            Ending::Interrupted { signal, .. } => ExitStatus::Interrupted(*signal),
            Ending::Failed(status, _) => *status,
        }
    }

    /// The line said on stderr, if any: `piest: error: …`, or `piest: interrupted …` with what
    /// a maintenance command had removed.
    pub fn line(&self) -> Option<String> {
        match self {
            Ending::Success | Ending::TargetNotReached => None,
            Ending::Failed(_, err) => Some(format!("piest: error: {}", error_message(err))),
            Ending::Interrupted { signal, done } => {
                let by = match signal {
                    Signal::Interrupt => "",
                    Signal::Terminate => " by SIGTERM",
                    Signal::Hangup => " by SIGHUP",
                };
                let after = done
                    .as_ref()
                    .map(crate::output::cache::progress)
                    .unwrap_or_default();
                Some(format!("piest: interrupted{by}{after}"))
            }
        }
    }

    /// Says the line and ends the process with the status.
    pub fn exit(self) -> ExitCode {
        if let Some(line) = self.line() {
            stderr_line(&line);
        }
        self.status().exit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_code_and_one_row() {
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
        for (i, (status, code)) in all.iter().enumerate() {
            assert_eq!(status.code(), *code, "{status:?}");
            for (other, other_code) in &all[i + 1..] {
                assert_ne!(code, other_code, "{status:?} and {other:?} share a code");
            }
            if *code < 128 {
                assert_eq!(TABLE[usize::from(*code)].0, code.to_string(), "{status:?}");
            }
        }
        assert_eq!(
            TABLE.len(),
            all.len() - 2,
            "one row per status, signals in one row"
        );
    }

    #[test]
    fn the_readme_table_is_the_table_row_by_row() {
        let readme = include_str!("../../../README.md");
        let section = readme
            .split("### Exit status\n")
            .nth(1)
            .expect("the README has an Exit status section");
        let rows: Vec<(String, String)> = section
            .lines()
            .skip_while(|line| line.trim().is_empty())
            .take_while(|line| line.starts_with('|'))
            .skip(2) // the header and its rule
            .map(|line| {
                let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
                (
                    cells.first().unwrap_or(&"").trim().to_owned(),
                    cells[1..].join(" | ").trim().to_owned(),
                )
            })
            .collect();
        let table: Vec<(String, String)> = TABLE
            .iter()
            .map(|(status, meaning)| (status.to_string(), meaning.to_string()))
            .collect();
        assert_eq!(rows, table);
    }

    #[test]
    fn endings_map_to_statuses() {
        let failed = |err: anyhow::Error| Ending::new(Err(err), None).status();
        assert_eq!(Ending::new(Ok(()), None).status(), ExitStatus::Success);
        assert_eq!(failed(UsageError("x".into()).into()), ExitStatus::Usage);
        assert_eq!(
            failed(anyhow::Error::from(UsageError("x".into())).context("while y")),
            ExitStatus::Usage
        );
        assert_eq!(
            failed(VerifyDifferences { spans: 1 }.into()),
            ExitStatus::VerifyDifferences
        );
        assert_eq!(
            failed(TargetNotReached.into()),
            ExitStatus::TargetNotReached
        );
        assert_eq!(failed(anyhow::anyhow!("disk full")), ExitStatus::Error);
        assert_eq!(
            failed(piest::Error::Cancelled.into()),
            ExitStatus::Interrupted(Signal::Interrupt)
        );
        let stopped = Ending::new(Err(anyhow::anyhow!("any")), Some(Signal::Terminate));
        assert_eq!(
            stopped.line().as_deref(),
            Some("piest: interrupted by SIGTERM")
        );
        let cancelled = MaintenanceError::Cancelled {
            done: Done::Unchanged,
        };
        let ending = Ending::new(Err(cancelled.into()), Some(Signal::Hangup));
        assert_eq!(ending.status(), ExitStatus::Interrupted(Signal::Hangup));
        assert_eq!(
            ending.line().as_deref(),
            Some("piest: interrupted by SIGHUP")
        );
        assert_eq!(Ending::new(Ok(()), None).line(), None);
    }
}
