//! What clap reports instead of a command: help and version on stdout (status 0, or 1 when
//! stdout cannot take them), and every usage error as one line on stderr with status 2, a stray
//! number taken for a trial count.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit::ExitStatus;
use crate::output::{self, stderr_line};

/// Help and version go to stdout with status 0 (1 if stdout cannot take them, as for any other
/// output); a usage error becomes one line and status 2.
pub fn clap_failure(err: &clap::Error) -> ExitStatus {
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
                Err(e) if !output::closed_pipe(&e) => {
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
    if piest::values::count(word).is_ok() {
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
