//! `piest [OPTIONS]`: one estimate, with the result cache unless told otherwise; with
//! `--target-error` or `--max-time` the run chooses its own length.

use std::io::{self, IsTerminal};
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use piest::cache::{Cache, CacheSession};
use piest::report::Report;
use piest::runner::{MonotonicClock, StoppedBy, run_until};
use piest::stats::stopping::expected_trials;

use crate::cli::EstimateArgs;
use crate::config::{self, CacheChoice, Env, Format};
use crate::exit::TargetNotReached;
use crate::output::progress::Feedback;
use crate::output::{self, stderr_line, write_stdout};

/// Runs the estimate `args` describe and prints its report.
pub fn run(args: &EstimateArgs, env: &Env, cancel: &AtomicBool) -> anyhow::Result<()> {
    let config = config::estimate_config(args, env)?;
    let warn = |warnings: Vec<String>| {
        if !config.quiet {
            for warning in warnings {
                stderr_line(&format!("piest: warning: {warning}"));
            }
        }
    };

    let show_bar = config.format == Format::Human && io::stderr().is_terminal();
    let cap = config.spec.plan.trials();
    let feedback = match (config.limits.target, config.capped) {
        // The bar's length is a guess for a target (the rule never uses it).
        (Some(rule), _) => Feedback::new(
            (expected_trials(rule.target()) as u64).clamp(1, cap),
            show_bar,
            config.verbose,
        ),
        (None, false) if config.limits.max_time.is_some() => {
            Feedback::open_ended(show_bar, config.verbose)
        }
        _ => Feedback::new(cap, show_bar, config.verbose),
    };
    let session = match &config.cache {
        CacheChoice::On { dir, refresh } => Some(CacheSession::open(Cache::new(dir), !refresh)),
        CacheChoice::Off => None,
        CacheChoice::Unavailable(why) => {
            warn(vec![why.clone()]);
            None
        }
    };
    // A cache that cannot be opened is worth knowing about before a long run.
    if let Some(session) = &session {
        warn(session.take_warnings());
    }
    let spec = &config.spec;
    let clock = MonotonicClock::new();
    let outcome = run_until(
        spec,
        &config.limits,
        session.as_ref(),
        &feedback,
        cancel,
        &clock,
    );
    feedback.finish();
    // Completed chunks are stored (and the session's warnings shown) even when the run stopped.
    let summary = session.map(|session| {
        let summary = session.summary();
        warn(session.take_warnings());
        summary
    });
    let outcome = outcome?;
    if config.verbose && outcome.past_stop.computed_chunks + outcome.past_stop.cached_chunks > 0 {
        stderr_line(&format!(
            "piest: {} chunk(s) counted past the stop are left out of the answer (computed ones are cached)",
            outcome.past_stop.computed_chunks + outcome.past_stop.cached_chunks
        ));
    }
    let report = Report::of_outcome(
        &outcome,
        &config.limits,
        spec.workers.get(),
        spec.kernel.name(),
    )
    .with_cache(summary);

    let text = match config.format {
        Format::Human => output::estimate::human(&report),
        Format::Json => output::estimate::json(&report),
        Format::Quiet => output::estimate::quiet(&report),
    };
    // Needed to reproduce the run; JSON carries it in `seed`.
    if config.random_seed && config.format != Format::Json {
        stderr_line(&format!("piest: using random seed {}", report.seed));
    }
    // The answer reaches stdout before the plot is drawn: a failing plot loses no result.
    write_stdout(text.as_bytes())?;
    if let Some(path) = &config.plot {
        let svg = output::estimate::plot::render(&report).map_err(anyhow::Error::msg)?;
        std::fs::write(path, svg)
            .with_context(|| format!("cannot write --plot '{}'", path.display()))?;
    }
    if report.target_met == Some(false) {
        if !config.quiet {
            let by = match report.stopped_by {
                StoppedBy::MaxTime => "the --max-time budget ran out",
                _ => "the --trials cap",
            };
            stderr_line(&format!(
                "piest: --target-error {:e} was not reached before {by} (exit status 5)",
                report.target_error.unwrap_or(f64::NAN)
            ));
        }
        return Err(TargetNotReached.into());
    }
    Ok(())
}
