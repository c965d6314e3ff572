//! `piest completions SHELL`: a tab-completion script generated from the CLI definition.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::output::write_stdout;

/// Writes the completion script for the shell `args` names to stdout.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<()> {
    // Generated into memory first, so that a failing stdout is one error, not a panic.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "piest", &mut script);
    write_stdout(&script)
}
