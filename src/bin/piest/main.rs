//! The `piest` binary: parses the command line, reads the environment once, runs one command
//! and maps its outcome to an exit status ([`exit::ExitStatus`]: the table of every status).

mod cli;
mod cmd;
mod config;
mod exit;
mod output;
mod signal;
mod usage;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::config::{Env, UsageError};
use crate::exit::{ExitStatus, TargetNotReached};
use crate::output::{error_message, stderr_line};
use crate::signal::{Interrupt, Signal};

fn main() -> ExitCode {
    signal::ignore_file_size_limit();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage::clap_failure(&err).exit(),
    };
    // `stream` and `merge` hold nothing to store: they keep the default signal actions, so that
    // the kernel ends them at once even while blocked on a pipe (writing words nobody reads, or
    // reading parts from a terminal or a pipe that stays open).
    let interrupt = match cli.command {
        Some(Command::Stream(_) | Command::Merge(_)) => Interrupt::default_actions(),
        _ => Interrupt::install(),
    };
    let env = Env::read();
    let cancel = interrupt.flag();
    let result = match cli.command {
        Some(Command::Scale(args)) => cmd::scale::run(&args, &env, cancel),
        Some(Command::Stream(args)) => cmd::stream::run(&args, cancel),
        Some(Command::Cache(args)) => cmd::cache::run(&args, &env, cancel),
        Some(Command::Completions(args)) => cmd::completions::run(&args),
        Some(Command::Man) => cmd::man::run(),
        Some(Command::Merge(args)) => cmd::merge::run(&args, &env),
        Some(Command::Darts(args)) => cmd::darts::run(&args),
        None => cmd::estimate::run(&cli.estimate, &env, cancel),
    };
    // What a stopped maintenance command had already done ("; it had removed 3 entries ...").
    let progress = result
        .as_ref()
        .err()
        .map(cmd::cache::stopped_progress)
        .filter(|p| !p.is_empty());
    let status = match (interrupt.received(), result) {
        (Some(signal), _) => ExitStatus::Interrupted(signal),
        (None, Ok(())) => ExitStatus::Success,
        (None, Err(err)) if is_cancelled(&err) => ExitStatus::Interrupted(Signal::Interrupt),
        // The command printed its answer and said why it falls short.
        (None, Err(err)) if err.is::<TargetNotReached>() => ExitStatus::TargetNotReached,
        (None, Err(err)) => {
            stderr_line(&format!("piest: error: {}", error_message(&err)));
            if err.downcast_ref::<UsageError>().is_some() {
                ExitStatus::Usage
            } else if err.downcast_ref::<cmd::merge::MergeRefused>().is_some() {
                ExitStatus::MergeRefused
            } else if err
                .downcast_ref::<cmd::cache::VerifyDifferences>()
                .is_some()
            {
                ExitStatus::VerifyDifferences
            } else {
                ExitStatus::Error
            }
        }
    };
    if let ExitStatus::Interrupted(signal) = status {
        let line = match signal {
            Signal::Interrupt => "piest: interrupted",
            Signal::Terminate => "piest: interrupted by SIGTERM",
            Signal::Hangup => "piest: interrupted by SIGHUP",
        };
        stderr_line(&format!("{line}{}", progress.unwrap_or_default()));
    }
    status.exit()
}

fn is_cancelled(err: &anyhow::Error) -> bool {
    matches!(err.downcast_ref(), Some(piest::Error::Cancelled))
        || matches!(
            err.downcast_ref(),
            Some(piest::cache::MaintenanceError::Cancelled { .. })
        )
}
