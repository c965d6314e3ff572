//! The `piest` binary: parses the command line, reads the environment once, runs one command
//! and maps its outcome to an exit status ([`exit::ExitStatus`]: the table of every status).

mod cli;
mod cmd;
mod config;
mod exit;
mod output;
mod signal;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::config::{Env, UsageError};
use crate::exit::{ExitStatus, TargetNotReached};
use crate::output::{error_message, stderr_line};
use crate::signal::{Interrupt, Signal};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return clap_failure(&err).exit(),
    };
    // `stream` holds nothing to store: it keeps the default signal actions, so that the kernel
    // ends it at once even while it is blocked writing to a pipe nobody reads.
    let interrupt = match cli.command {
        Some(Command::Stream(_)) => Interrupt::default_actions(),
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
    let progress = match &result {
        Err(err) => match err.downcast_ref() {
            Some(cancelled @ piest::cache::MaintenanceError::Cancelled { .. }) => cancelled
                .to_string()
                .strip_prefix("interrupted")
                .map(str::to_owned),
            _ => None,
        },
        Ok(()) => None,
    };
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

/// Help and version go to stdout with status 0 (1 if stdout cannot take them, as for any other
/// output); a usage error becomes one line and status 2.
fn clap_failure(err: &clap::Error) -> ExitStatus {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // `--version --verbose` (or -v) adds the algorithm and the kernels this CPU runs.
            let verbose = err.kind() == ErrorKind::DisplayVersion
                && std::env::args_os().any(|a| a == "-v" || a == "--verbose");
            let details = if verbose {
                output::version::details()
            } else {
                String::new()
            };
            let printed = err.print().and_then(|()| {
                let mut out = io::stdout().lock();
                out.write_all(details.as_bytes())?;
                out.flush()
            });
            match printed {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    stderr_line(&format!("piest: error: cannot write to stdout: {e}"));
                    ExitStatus::Error
                }
                _ => ExitStatus::Success,
            }
        }
        // `piest cache` alone: clap would print the whole help; one line says what is missing.
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            stderr_line("piest: error: a subcommand is required (see --help for the list)");
            ExitStatus::Usage
        }
        // `piest -w 4 100000000`: clap takes a stray word for a subcommand; say what it is.
        _ if matches!(
            err.get(ContextKind::InvalidSubcommand),
            Some(ContextValue::String(word)) if Cli::command().find_subcommand(word).is_none()
        ) =>
        {
            let Some(ContextValue::String(word)) = err.get(ContextKind::InvalidSubcommand) else {
                return ExitStatus::Usage;
            };
            stderr_line(&format!("piest: error: {}", stray_word(word)));
            ExitStatus::Usage
        }
        // One line: clap's first, with its indented continuation (the missing argument, the
        // possible values, a tip) joined on.
        _ => {
            let rendered = err.render().to_string();
            let mut lines = rendered.lines().skip_while(|l| l.trim().is_empty());
            let mut line = lines.next().unwrap_or("invalid usage").trim().to_owned();
            for more in lines.take_while(|l| l.starts_with(' ') && !l.trim().is_empty()) {
                line.push(' ');
                line.push_str(more.trim());
            }
            stderr_line(&format!("piest: {line}"));
            ExitStatus::Usage
        }
    }
}

/// The message for a word on the command line that is neither a flag, a flag's value nor a
/// subcommand: a number is most likely a trial count.
fn stray_word(word: &str) -> String {
    if cli::parse::parse_count(word).is_ok() {
        format!(
            "unexpected argument '{word}' found; to set the number of trials, use '--trials {word}'"
        )
    } else {
        let names: Vec<String> = Cli::command()
            .get_subcommands()
            .filter(|sub| !sub.is_hide_set())
            .map(|sub| sub.get_name().to_owned())
            .collect();
        format!(
            "unexpected argument '{word}' found (subcommands: {}; see --help)",
            names.join(", ")
        )
    }
}
