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
            let args: Vec<String> = std::env::args_os()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            stderr_line(&format!("piest: error: {}", stray_word(word, &args)));
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
            // `piest --cache-dir X cache info`: the estimate's flags come before no subcommand.
            if let (ErrorKind::ArgumentConflict, Some(ContextValue::String(sub))) =
                (err.kind(), err.get(ContextKind::InvalidSubcommand))
            {
                line.push_str(&format!(
                    "; give a subcommand's own flags after it (see piest {sub} --help)"
                ));
            }
            stderr_line(&format!("piest: {line}"));
            ExitStatus::Usage
        }
    }
}

/// The message for a word on the command line that is neither a flag, a flag's value nor a
/// subcommand: a number given to an estimate is most likely a trial count; otherwise the message
/// lists the subcommands of the command the word was given to (`piest cache frob` names `info`,
/// `clear`, ..., not `scale` or `merge`).
fn stray_word(word: &str, args: &[String]) -> String {
    // The subcommands named before the stray word, as clap descended into them.
    let mut command = Cli::command();
    let mut path = vec!["piest".to_owned()];
    for arg in args.iter().take_while(|a| a.as_str() != word) {
        if let Some(sub) = command.find_subcommand(arg).cloned() {
            path.push(sub.get_name().to_owned());
            command = sub;
        }
    }
    let names: Vec<String> = command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .map(|sub| sub.get_name().to_owned())
        .collect();
    if path.len() == 1 && piest::values::count(word).is_ok() {
        format!(
            "unexpected argument '{word}' found; to set the number of trials, use '--trials {word}'"
        )
    } else if names.is_empty() {
        format!(
            "unexpected argument '{word}' found (see {} --help)",
            path.join(" ")
        )
    } else {
        let (label, help) = if path.len() == 1 {
            ("subcommands".to_owned(), "--help".to_owned())
        } else {
            let path = path.join(" ");
            (format!("{path} takes"), format!("{path} --help"))
        };
        format!(
            "unexpected argument '{word}' found ({label}: {}; see {help})",
            names.join(", ")
        )
    }
}
