//! The `piest` binary: parses the command line, runs the library, prints the result and maps
//! every failure to a one-line message and an exit status (0 ok, 1 runtime error, 2 usage error,
//! 130 interrupted).

mod cli;
mod cluster;
mod config;
mod output;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use clap::Parser;
use piest::cache::{Cache, CacheSession};
use piest::report::Report;
use piest::report::scale::ScaleReport;

use crate::cli::{CacheAction, CacheArgs, Cli, Command, ScaleArgs, StreamArgs};
use crate::config::{CacheChoice, Format, ScaleFormat, UsageError};
use crate::output::progress::{Feedback, SweepFeedback};
use crate::output::stderr_line;

/// Set by the Ctrl-C handler; the runner stops soon after.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return clap_failure(&err),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let status = exit_status(&err);
            if status == 130 {
                stderr_line("piest: interrupted");
            } else {
                stderr_line(&format!("piest: error: {err:#}"));
            }
            ExitCode::from(status)
        }
    }
}

/// Help and version go to stdout with status 0; a usage error becomes one line and status 2.
fn clap_failure(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        // `piest cache` alone: clap would print the whole help; one line says what is missing.
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            stderr_line("piest: error: a subcommand is required (see --help for the list)");
            ExitCode::from(2)
        }
        _ => {
            let rendered = err.render().to_string();
            let line = rendered
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid usage");
            stderr_line(&format!("piest: {}", line.trim()));
            ExitCode::from(2)
        }
    }
}

/// The exit status for a failure.
fn exit_status(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<cluster::MergeRefused>().is_some() {
        3
    } else if matches!(
        err.downcast_ref::<piest::Error>(),
        Some(piest::Error::Cancelled)
    ) {
        130
    } else if err.downcast_ref::<UsageError>().is_some() {
        2
    } else {
        1
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // Ctrl-C sets a flag that every long command checks, so it ends with a message and 130.
    // Without a handler Ctrl-C still ends the process (status 130 from the shell): no harm.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    match cli.command {
        Some(Command::Scale(args)) => scale(&args),
        Some(Command::Stream(args)) => stream(&args),
        Some(Command::Cache(args)) => cache_command(&args),
        Some(Command::Merge(args)) => write_stdout(cluster::merge(&args)?.as_bytes()),
        None => estimate(&cli.estimate),
    }
}

fn estimate(args: &cli::EstimateArgs) -> anyhow::Result<()> {
    let kernel_env = std::env::var("PIEST_KERNEL").ok();
    let config = config::estimate_config(args, kernel_env.as_deref(), &config::process_env)?;

    let cache_env = std::env::var_os("PIEST_CACHE_DIR");
    let cache = config::cache_choice(&args.cache, cache_env.as_deref());
    let warn = |warnings: Vec<String>| {
        if !config.quiet {
            for warning in warnings {
                stderr_line(&format!("piest: warning: {warning}"));
            }
        }
    };

    let show_bar = config.format == Format::Human && io::stderr().is_terminal();
    let plan = &config.spec.plan;
    let to_count = match config.mode {
        config::Mode::Shard(s) => plan
            .shard(s.index, s.count)
            .map_or(0, |r| plan.trials_in(&r)),
        _ => plan.trials(),
    };
    let feedback = Feedback::new(to_count, show_bar, config.verbose);
    let session = match cache {
        CacheChoice::On { dir, refresh } => Some(CacheSession::open(Cache::new(dir), !refresh)),
        CacheChoice::Off => None,
        CacheChoice::Unavailable(why) => {
            warn(vec![why]);
            None
        }
    };
    // A cache that cannot be opened is worth knowing about before a long run.
    if let Some(session) = &session {
        warn(session.take_warnings());
    }
    let spec = &config.spec;
    // The cache's summary joins the report once the run is over; its warnings are printed then.
    let finish = |report: Report| {
        let summary = session.as_ref().map(|session| {
            let summary = session.summary();
            warn(session.take_warnings());
            summary
        });
        report.with_cache(summary)
    };
    let text = match config.mode {
        config::Mode::Shard(shard) => {
            let text = cluster::shard(
                spec,
                shard,
                session.as_ref(),
                &feedback,
                &INTERRUPTED,
                &finish,
                config.format,
            );
            feedback.finish();
            text?
        }
        config::Mode::Mpi => {
            let text = cluster::mpi(
                spec,
                session.as_ref(),
                &feedback,
                &INTERRUPTED,
                &finish,
                config.format,
                &config::process_env,
            );
            feedback.finish();
            match text? {
                Some(text) => text,
                // Only rank 0 prints.
                None => return Ok(()),
            }
        }
        config::Mode::Whole => {
            let tally = piest::runner::run_all(spec, session.as_ref(), &feedback, &INTERRUPTED);
            feedback.finish();
            let report = finish(Report::new(&tally?, spec.workers.get(), spec.kernel.name()));
            match config.format {
                Format::Human => output::human::render(&report),
                Format::Json => output::json::render(&report),
                Format::Quiet => format!("{}\n", report.pi),
            }
        }
    };
    // Needed to reproduce the run; JSON carries it in `seed`.
    if config.random_seed && config.format != Format::Json {
        stderr_line(&format!("piest: using random seed {}", spec.seed));
    }
    write_stdout(text.as_bytes())
}

/// `piest cache info|clear|prune`.
fn cache_command(args: &CacheArgs) -> anyhow::Result<()> {
    let env = std::env::var_os("PIEST_CACHE_DIR");
    let cache = Cache::new(config::cache_dir(
        args.cache_dir.as_deref(),
        env.as_deref(),
    )?);
    // Every action has one result: JSON with --json, else its text renderer.
    fn render<T: serde::Serialize>(json: bool, value: &T, text: fn(&T) -> String) -> String {
        if json {
            output::json::render(value)
        } else {
            text(value)
        }
    }
    let text = match &args.action {
        CacheAction::Info => render(args.json, &cache.info()?, output::cache::info),
        CacheAction::Clear => render(args.json, &cache.clear()?, output::cache::cleared),
        CacheAction::Prune(prune) => {
            let (max_size, older_than) = config::prune_limits(prune)?;
            let pruned = cache.prune(max_size, older_than, std::time::SystemTime::now())?;
            render(args.json, &pruned, output::cache::pruned)
        }
    };
    write_stdout(text.as_bytes())
}

/// `piest scale`: times the estimate at several worker counts and prints the comparison.
fn scale(args: &ScaleArgs) -> anyhow::Result<()> {
    let kernel_env = std::env::var("PIEST_KERNEL").ok();
    let config = config::scale_config(args, kernel_env.as_deref())?;
    if let Some(path) = &config.plot {
        check_plot_directory(path)?;
    }
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
        &INTERRUPTED,
    );
    feedback.finish();
    let report = ScaleReport::new(&swept?, config.cores.get());

    for warning in &report.warnings {
        stderr_line(&format!("piest: warning: {warning}"));
    }
    let text = match config.format {
        ScaleFormat::Table => output::scale_table::render(&report),
        ScaleFormat::Json => output::json::render(&report),
        ScaleFormat::Csv => output::csv::render(&report).context("cannot write CSV")?,
        ScaleFormat::Markdown => output::markdown::render(&report),
    };
    // The results reach stdout before the plot is drawn: a failing plot loses no measurement.
    write_stdout(text.as_bytes())?;
    if let Some(path) = &config.plot {
        let svg = output::svg::render(&report).map_err(anyhow::Error::msg)?;
        std::fs::write(path, svg)
            .with_context(|| format!("cannot write --plot '{}'", path.display()))?;
    }
    Ok(())
}

/// Refuses a `--plot` path whose directory does not exist before the sweep, not after it.
fn check_plot_directory(path: &std::path::Path) -> Result<(), UsageError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => return Ok(()),
    };
    if dir.is_dir() {
        Ok(())
    } else {
        Err(UsageError(format!(
            "invalid --plot '{}': directory '{}' does not exist",
            path.display(),
            dir.display()
        )))
    }
}

/// Writes to stdout; a closed pipe (`piest | head -c0`) is not an error worth a message.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e).context("cannot write to stdout"),
        _ => Ok(()),
    }
}

/// `piest stream`: the sampler's words as raw little-endian u64, until done or the pipe closes.
fn stream(args: &StreamArgs) -> anyhow::Result<()> {
    let out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let words = output::stream::Words {
        seed: args.seed,
        chunks: args.chunks.clone(),
        chunk_size: args.chunk_size,
        limit: args.words,
    };
    match output::stream::write(&words, out, &INTERRUPTED) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(piest::Error::Cancelled.into()),
        other => other.context("cannot write to stdout"),
    }
}
