//! `piest scale`: time the estimate at several worker counts and print the comparison.

use std::io::{self, IsTerminal};
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use piest::scale::ScaleReport;

use crate::cli::ScaleArgs;
use crate::config::{self, Env, ScaleFormat};
use crate::output::progress::SweepFeedback;
use crate::output::{self, stderr_line, write_stdout};

/// Runs the sweep `args` describe, prints its report and draws the plot if asked.
pub fn run(args: &ScaleArgs, env: &Env, cancel: &AtomicBool) -> anyhow::Result<()> {
    let config = config::scale_config(args, env)?;
    if config.random_seed {
        stderr_line(&format!("piest: using random seed {}", config.sweep.seed));
    }

    let feedback = SweepFeedback::new(
        config.sweep.total_runs(),
        config.sweep.plan.trials(),
        io::stderr().is_terminal(),
    );
    let swept = piest::scale::sweep(
        &config.sweep,
        &mut piest::scale::WallClock,
        &feedback,
        cancel,
    );
    feedback.finish();
    let report = ScaleReport::new(&swept?, config.cores.get());

    for warning in &report.warnings {
        stderr_line(&format!("piest: warning: {warning}"));
    }
    let text = match config.format {
        ScaleFormat::Table => output::scale::table::render(&report),
        ScaleFormat::Json => output::scale::json(&report),
        ScaleFormat::Csv => output::scale::csv::render(&report).context("cannot write CSV")?,
        ScaleFormat::Markdown => output::scale::markdown::render(&report),
    };
    // The results reach stdout before the plot is drawn: a failing plot loses no measurement.
    write_stdout(text.as_bytes())?;
    if let Some(path) = &config.plot {
        let svg = output::scale::svg::render(&report).map_err(anyhow::Error::msg)?;
        output::write_plot(path, svg.as_bytes())?;
    }
    Ok(())
}
