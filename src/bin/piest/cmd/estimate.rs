//! `piest [OPTIONS]`: one estimate, with the result cache unless told otherwise: the whole run
//! in this process (with `--target-error` or `--max-time` the run chooses its own length), one
//! shard of it (`--shard`: a part for `piest merge`), or the whole run across MPI ranks (the
//! `mpi` build under an MPI launcher).

use std::io::{self, IsTerminal};
use std::sync::atomic::AtomicBool;

use piest::cache::{Cache, CacheSession};
use piest::part::{PartReport, ShardId};
use piest::report::Report;
use piest::runner::{MonotonicClock, Observer, RunSpec, StoppedBy, run_until};
use piest::stats::stopping::expected_trials;
use piest::stats::strata;
use piest::tally::Tally;

use crate::cli::EstimateArgs;
use crate::config::{self, CacheChoice, Env, Format, Mode};
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

    let spec = &config.spec;
    let show_bar = config.format == Format::Human && io::stderr().is_terminal();
    let cap = match config.mode {
        Mode::Shard(s) => spec
            .plan
            .shard(s.index, s.count)
            .map_or(0, |r| spec.plan.trials_in(&r)),
        Mode::Whole | Mode::Mpi => spec.plan.trials(),
    };
    let feedback = match (config.limits.target, config.trials_given) {
        // The bar's length is a guess for a target (the rule never uses it).
        (Some(rule), _) => Feedback::new(
            (match rule.grid() {
                None => expected_trials(rule.target()),
                Some(grid) => {
                    strata::predicted_chunks(grid, rule.target()).max(20.0) * grid.trials() as f64
                }
            } as u64)
                .clamp(1, cap),
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
    let cache = session.as_ref();
    let counted = match config.mode {
        // A fixed run is the prefix of all chunks: run_until takes the full-speed path for it.
        Mode::Whole => run_until(
            spec,
            &config.limits,
            cache,
            &feedback,
            cancel,
            &MonotonicClock::new(),
        )
        .map(|outcome| Counted::Whole(Box::new(outcome)))
        .map_err(anyhow::Error::from),
        Mode::Shard(shard) => spec
            .plan
            .shard(shard.index, shard.count)
            .and_then(|chunks| piest::runner::run(spec, chunks, cache, &feedback, cancel))
            .map(|tally| Counted::Shard(shard, tally))
            .map_err(anyhow::Error::from),
        Mode::Mpi => run_mpi(spec, cache, &feedback, cancel, env),
    };
    feedback.finish();
    // Completed chunks are stored (and the session's warnings shown) even when the run stopped.
    let summary = session.map(|session| {
        let summary = session.summary();
        warn(session.take_warnings());
        summary
    });
    let counted = match counted {
        // No answer: the budget ran out before a first chunk. Said here, not as an error: it is
        // the budget's outcome, with the status of a target not reached.
        Err(e) if matches!(e.downcast_ref(), Some(piest::Error::BudgetTooShort { .. })) => {
            if !config.quiet {
                stderr_line(&format!("piest: {e} (exit status 5)"));
            }
            return Err(TargetNotReached.into());
        }
        other => other?,
    };
    let workers = spec.workers.get();
    let kernel = spec.kernel.name();
    let report = match &counted {
        // Only rank 0 prints.
        Counted::OtherRank => return Ok(()),
        Counted::Whole(outcome) => {
            let past = outcome.past_stop.computed_chunks + outcome.past_stop.cached_chunks;
            if config.verbose && past > 0 {
                stderr_line(&format!(
                    "piest: {past} chunk(s) counted past the stop are left out of the answer \
                     (computed ones are cached)"
                ));
            }
            Report::of_outcome(outcome, &config.limits, workers, kernel)
        }
        Counted::Shard(_, tally) => Report::new(tally, workers, kernel),
        // Every rank runs a pool of the same size.
        Counted::Ranks(tally, ranks) => Report::new(
            tally,
            workers.saturating_mul(usize::try_from(*ranks).unwrap_or(usize::MAX)),
            kernel,
        ),
    }
    .with_cache(summary)
    .with_requested_trials(config.requested_trials);
    let text = match (&counted, config.format) {
        (Counted::OtherRank, _) => return Ok(()),
        (Counted::Whole(_), Format::Human) => output::estimate::human(&report),
        (Counted::Whole(_), Format::Json) => output::estimate::json(&report),
        (Counted::Shard(shard, t), Format::Json) => {
            output::json(&PartReport::new(*shard, &spec.plan, t, report.clone()))
        }
        (Counted::Shard(shard, _), Format::Human) => {
            output::part::shard(&report, *shard, &spec.plan)
        }
        (Counted::Ranks(_, ranks), Format::Human) => output::part::ranks(&report, *ranks),
        (Counted::Ranks(_, ranks), Format::Json) => output::json(&RankedReport {
            ranks: *ranks,
            report: report.clone(),
        }),
        (_, Format::Quiet) => output::estimate::quiet(&report),
    };
    // Needed to reproduce the run; JSON carries it in `seed`.
    if config.random_seed && config.format != Format::Json {
        stderr_line(&format!("piest: using random seed {}", spec.seed));
    }
    // The answer reaches stdout before the plot is drawn: a failing plot loses no result.
    write_stdout(text.as_bytes())?;
    if let Some(path) = &config.plot {
        let svg = output::estimate::plot::render(&report).map_err(anyhow::Error::msg)?;
        output::write_plot(path, svg.as_bytes())?;
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

/// What this process counted.
enum Counted {
    /// The whole run (or, with a target or a budget, the prefix it chose).
    Whole(Box<piest::runner::Outcome>),
    /// One shard of it.
    Shard(ShardId, Tally),
    /// The whole run, summed over this many MPI ranks (on every rank; rank 0 prints it).
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    Ranks(Tally, u64),
    /// An MPI rank other than 0: it took part and prints nothing.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    OtherRank,
}

/// A run's report with the number of MPI ranks that counted it (`ranks` in the JSON).
#[derive(serde::Serialize)]
struct RankedReport {
    /// MPI ranks.
    ranks: u64,
    #[serde(flatten)]
    report: Report,
}

/// Counts the whole plan across the MPI world, after the guard against a world of one under a
/// launcher that says more tasks.
#[cfg(feature = "mpi")]
fn run_mpi(
    spec: &RunSpec,
    cache: Option<&CacheSession>,
    observer: &dyn Observer,
    cancel: &AtomicBool,
    env: &Env,
) -> anyhow::Result<Counted> {
    let world = piest::runner::mpi::World::init()?;
    let (rank, ranks) = (world.rank(), world.size());
    piest::scheduler::Launch::from_env(&|name| env.scheduler_var(name))
        .check_world(ranks)
        .map_err(|e| config::UsageError(e.to_string()))?;
    let tally = world.run(spec, cache, observer, cancel)?;
    Ok(if rank == 0 {
        Counted::Ranks(tally, ranks)
    } else {
        Counted::OtherRank
    })
}

/// Without the `mpi` feature, [`Mode::Mpi`] is never chosen (see `config::estimate_config`).
#[cfg(not(feature = "mpi"))]
fn run_mpi(
    _: &RunSpec,
    _: Option<&CacheSession>,
    _: &dyn Observer,
    _: &AtomicBool,
    _: &Env,
) -> anyhow::Result<Counted> {
    anyhow::bail!("this piest is built without MPI (cargo build --release --features mpi)")
}
