//! The `piest` binary: parses the command line, reads the environment once, runs one command
//! and ends as its outcome says ([`exit::Ending`]: the outcome as data, and its exit status).

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
use crate::exit::Ending;
use crate::signal::Interrupt;

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
    let cancel = interrupt.flag();
    let once = match cli.command {
        Some(Command::Cache(_)) => cli::cache_dir_once(std::env::args_os()).map_err(UsageError),
        _ => Ok(()),
    };
    let result = once
        .and_then(|()| Env::read())
        .map_err(anyhow::Error::from)
        .and_then(|env| match cli.command {
            Some(Command::Scale(args)) => cmd::scale::run(&args, &env, cancel),
            Some(Command::Stream(args)) => cmd::stream::run(&args, cancel),
            Some(Command::Cache(args)) => cmd::cache::run(&args, &env, cancel),
            Some(Command::Completions(args)) => cmd::completions::run(&args),
            Some(Command::Man) => cmd::man::run(),
            Some(Command::Merge(args)) => cmd::merge::run(&args, &env),
            Some(Command::Darts(args)) => cmd::darts::run(&args, &env),
            Some(Command::Methods(args)) => cmd::methods::run(&args, &env, cancel),
            None => cmd::estimate::run(&cli.estimate, &env, cancel),
        });
    Ending::new(result, interrupt.received()).exit()
}
