//! `piest man`: the manual page in roff, generated from the CLI definition.

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::Cli;
use crate::output::{self, write_stdout};

/// Writes the manual page to stdout.
pub fn run() -> anyhow::Result<()> {
    let page = output::man::render(Cli::command()).context("cannot render the manual page")?;
    write_stdout(page.as_bytes())
}
