//! Presentation: renderers of a [`piest::report::Report`] (human text, JSON), of the
//! `piest cache` results, of a sweep's [`piest::report::scale::ScaleReport`] (table, JSON, CSV,
//! Markdown, SVG plot) and the live progress shown while a run goes on. Nothing here runs
//! estimates.

pub mod cache;
pub mod csv;
pub mod human;
pub mod json;
pub mod markdown;
pub mod part;
pub mod progress;
pub mod scale_table;
pub mod stream;
pub mod svg;

/// Writes one line to stderr. A closed or full stderr is not worth a crash: the line is dropped.
pub fn stderr_line(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
