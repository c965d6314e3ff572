//! `piest [OPTIONS]`: one estimate, with the result cache unless told otherwise.

use std::io::{self, IsTerminal};
use std::sync::atomic::AtomicBool;

use piest::cache::{Cache, CacheSession};
use piest::report::Report;

use crate::cli::EstimateArgs;
use crate::config::{self, CacheChoice, Env, Format};
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
    let feedback = Feedback::new(config.spec.plan.trials(), show_bar, config.verbose);
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
    let tally = piest::runner::run_all(spec, session.as_ref(), &feedback, cancel);
    feedback.finish();
    // Completed chunks are stored (and the session's warnings shown) even when the run stopped.
    let summary = session.map(|session| {
        let summary = session.summary();
        warn(session.take_warnings());
        summary
    });
    let report = Report::new(&tally?, spec.workers.get(), spec.kernel.name()).with_cache(summary);

    let text = match config.format {
        Format::Human => output::estimate::human(&report),
        Format::Json => output::estimate::json(&report),
        Format::Quiet => output::estimate::quiet(&report),
    };
    // Needed to reproduce the run; JSON carries it in `seed`.
    if config.random_seed && config.format != Format::Json {
        stderr_line(&format!("piest: using random seed {}", report.seed));
    }
    write_stdout(text.as_bytes())
}
