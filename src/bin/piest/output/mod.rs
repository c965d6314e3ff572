//! Presentation: renderers grouped by the report they render ([`estimate`], [`part`],
//! [`cache`], [`scale`], [`stream`], [`darts`],
//! [`methods`]) and the live [`progress`] shown while a run goes on. Renderers read
//! report data and format it; none runs an estimate or computes a statistic.

pub mod cache;
pub mod darts;
pub mod estimate;
pub mod man;
pub mod methods;
pub mod part;
pub mod progress;
pub mod scale;
pub mod stream;
pub mod version;

#[cfg(test)]
mod tests;

use std::io::{self, Write};

use anyhow::Context;
use serde::Serialize;

/// Writes one line to stderr. A closed or full stderr is not worth a crash: the line is dropped.
pub fn stderr_line(text: &str) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

/// Writes to stdout; a closed pipe (`piest | head -c0`) is not an error worth a message.
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if !closed_pipe(&e) => Err(e).context("cannot write to stdout"),
        _ => Ok(()),
    }
}

/// Writes a plot: the file is created or truncated, never opened in a way that blocks (a FIFO
/// put where the plot goes after the check before the run is refused, not waited on), and only
/// a regular file is written. A write that fails part way (a full disk, a file-size limit)
/// leaves no partial picture: a file this call created is removed, one that was there is left
/// empty.
pub fn write_plot(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let context = || format!("cannot write --plot '{}'", path.display());
    let existed = path.symlink_metadata().is_ok();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let mut file = options.open(path).with_context(context)?;
    if !file.metadata().with_context(context)?.is_file() {
        return Err(anyhow::anyhow!("it is not a regular file")).with_context(context);
    }
    let written = file
        .set_len(0)
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.flush());
    if written.is_err() {
        let _ = file.set_len(0);
        drop(file);
        if !existed {
            let _ = std::fs::remove_file(path);
        }
    }
    written.with_context(context)
}

/// Whether a write failed because its reader went away. Rust maps Windows' `ERROR_BROKEN_PIPE`
/// (109) and `ERROR_NO_DATA` (232) to `BrokenPipe` but not `ERROR_PIPE_NOT_CONNECTED` (233),
/// which a pipe closed before the first write gives.
pub fn closed_pipe(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::BrokenPipe || (cfg!(windows) && err.raw_os_error() == Some(233))
}

/// The message of `err` and of each error that caused it, joined by `: `, leaving out a cause
/// whose text the message already contains (a library error that shows its OS error and also
/// returns it as its source would otherwise name that OS error twice).
pub fn error_message(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// Any report as one pretty-printed JSON object followed by a newline.
pub fn json<T: Serialize>(report: &T) -> String {
    // Serializing plain structs of numbers and strings cannot fail; keep a readable fallback.
    let mut text = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize report: {e}\"}}"));
    text.push('\n');
    text
}
