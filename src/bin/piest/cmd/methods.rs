//! `piest methods`: one run of each sampling method at a series of trial counts, through the
//! runner and the result cache like any estimate, printed as a table, JSON or CSV, and drawn on
//! log–log axes with `--plot`.

use std::io::{self, IsTerminal};
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use piest::cache::{Cache, CacheSession};
use piest::compare::{self, CompareSpec};

use crate::cli::MethodsArgs;
use crate::config::{self, CacheChoice, Env};
use crate::output::progress::Feedback;
use crate::output::{self, stderr_line, write_stdout};

/// Runs the comparison `args` describe, prints it and draws the plot if asked.
pub fn run(args: &MethodsArgs, env: &Env, cancel: &AtomicBool) -> anyhow::Result<()> {
    let (seed, random_seed) = args.seed.seed.resolve();
    let spec = CompareSpec {
        max_trials: args.trials,
        seed,
        workers: args.workers.unwrap_or_else(config::default_workers),
        kernel: config::kernel_from_env(env.kernel.as_deref())?,
    };
    // Checked before the runs, so a bad path costs nothing.
    let plot = args
        .plot
        .as_deref()
        .map(|p| config::plot_path(p, env))
        .transpose()?;
    let warn = |warnings: Vec<String>| {
        for warning in warnings {
            stderr_line(&format!("piest: warning: {warning}"));
        }
    };
    let session = match config::cache_choice(&args.cache, env)? {
        CacheChoice::On { dir, refresh } => Some(CacheSession::open(Cache::new(&dir), !refresh)),
        CacheChoice::Off => None,
        CacheChoice::Unavailable(why) => {
            warn(vec![why]);
            None
        }
    };
    if let Some(session) = &session {
        warn(session.take_warnings());
    }
    if random_seed && !args.json {
        stderr_line(&format!("piest: using random seed {seed}"));
    }
    let feedback = Feedback::new(
        compare::total_trials(spec.max_trials).max(1),
        io::stderr().is_terminal(),
        false,
    );
    let compared = compare::run(&spec, session.as_ref(), &feedback, cancel);
    feedback.finish();
    // Completed chunks are stored (and the session's warnings shown) even when the runs stopped.
    let summary = session.map(|session| {
        let summary = session.summary();
        warn(session.take_warnings());
        summary
    });
    let comparison = compared?.with_cache(summary);
    let text = if args.json {
        output::json(&comparison)
    } else if args.csv {
        output::methods::csv(&comparison).context("cannot write CSV")?
    } else {
        output::methods::table(&comparison)
    };
    // The results reach stdout before the plot is drawn: a failing plot loses no result.
    write_stdout(text.as_bytes())?;
    if let Some(path) = &plot {
        let svg = output::methods::svg::render(&comparison).map_err(anyhow::Error::msg)?;
        output::write_plot(path, svg.as_bytes())?;
    }
    Ok(())
}
