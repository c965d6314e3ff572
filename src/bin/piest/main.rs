//! The `piest` binary: parses the command line, reads the environment once, runs one command
//! and maps its outcome to an exit status ([`exit::ExitStatus`]: the table of every status).

mod cli;
mod cmd;
mod config;
mod exit;
mod output;
mod signal;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::config::{Env, UsageError};
use crate::exit::{ExitStatus, TargetNotReached};
use crate::output::stderr_line;
use crate::signal::{Interrupt, Signal};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return clap_failure(&err).exit(),
    };
    let interrupt = Interrupt::install();
    let env = Env::read();
    let cancel = interrupt.flag();
    let result = match cli.command {
        Some(Command::Scale(args)) => cmd::scale::run(&args, &env, cancel),
        Some(Command::Stream(args)) => cmd::stream::run(&args, cancel),
        Some(Command::Cache(args)) => cmd::cache::run(&args, &env),
        Some(Command::Darts(args)) => cmd::darts::run(&args),
        None => cmd::estimate::run(&cli.estimate, &env, cancel),
    };
    let status = match (interrupt.received(), result) {
        (Some(signal), _) => ExitStatus::Interrupted(signal),
        (None, Ok(())) => ExitStatus::Success,
        (None, Err(err)) if is_cancelled(&err) => ExitStatus::Interrupted(Signal::Interrupt),
        // The command printed its answer and said why it falls short.
        (None, Err(err)) if err.is::<TargetNotReached>() => ExitStatus::TargetNotReached,
        (None, Err(err)) => {
            stderr_line(&format!("piest: error: {err:#}"));
            match err.downcast_ref::<UsageError>() {
                Some(_) => ExitStatus::Usage,
                None => ExitStatus::Error,
            }
        }
    };
    if let ExitStatus::Interrupted(signal) = status {
        stderr_line(match signal {
            Signal::Interrupt => "piest: interrupted",
            Signal::Terminate => "piest: interrupted by SIGTERM",
            Signal::Hangup => "piest: interrupted by SIGHUP",
        });
    }
    status.exit()
}

fn is_cancelled(err: &anyhow::Error) -> bool {
    matches!(err.downcast_ref(), Some(piest::Error::Cancelled))
}

/// Help and version go to stdout with status 0; a usage error becomes one line and status 2.
fn clap_failure(err: &clap::Error) -> ExitStatus {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitStatus::Success
        }
        // `piest cache` alone: clap would print the whole help; one line says what is missing.
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            stderr_line("piest: error: a subcommand is required (see --help for the list)");
            ExitStatus::Usage
        }
        _ => {
            let rendered = err.render().to_string();
            let line = rendered
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid usage");
            stderr_line(&format!("piest: {}", line.trim()));
            ExitStatus::Usage
        }
    }
}
