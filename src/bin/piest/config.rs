//! Turns the parsed command line and the environment into plain, validated configurations
//! ([`Config`], [`ScaleConfig`], the cache directory). Rules that involve several flags or the
//! environment live here, and [`Env::read`] is the only place the binary reads environment
//! variables, the cache location policy included. Clap types stop at this boundary.

use std::ffi::OsString;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use piest::part::ShardId;
use piest::plan::DEFAULT_CHUNK_SIZE;
use piest::runner::{Limits, RunSpec};
use piest::sampler::{Grid, Method};
use piest::scale::SweepSpec;
use piest::scheduler::{Launch, shard_from_env};
use piest::stats::stopping::StoppingRule;
use piest::stats::strata;
use piest::{Kernel, Plan};

use crate::cli::parse::MAX_WORKERS;
use crate::cli::{
    CacheArgs, CacheFlags, DartsArgs, EstimateArgs, PruneArgs, RunArgs, ScaleArgs, Seed, ShardArg,
    WorkerList,
};

/// Trials of an estimate or a sweep when `--trials` is not given (and no target or budget is).
pub const DEFAULT_TRIALS: u64 = 100_000_000;

/// Every environment variable piest reads, and what it means: the one table behind the
/// ENVIRONMENT section of the manual page (`piest man`).
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "PIEST_CACHE_DIR",
        "The result cache directory when --cache-dir is not given (a leading ~/ means $HOME; \
         any bytes a path may hold).",
    ),
    (
        "PIEST_KERNEL",
        "The sampling kernel: auto (the default: the fastest this CPU supports), scalar, \
         portable, avx2, avx512 or neon; one this CPU cannot run is refused. Every kernel gives \
         identical counts; --json reports which one ran.",
    ),
    (
        "PIEST_SHARD_COUNT",
        "The shard count for --shard auto (required in a Kubernetes Indexed Job: set it to the \
         Job's completions); it keeps a retried Slurm array task its index.",
    ),
    (
        "SLURM_ARRAY_TASK_ID",
        "With --shard auto, the shard of a Slurm job array task (with SLURM_ARRAY_TASK_COUNT, \
         SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_MAX).",
    ),
    (
        "JOB_COMPLETION_INDEX",
        "With --shard auto, the shard of a pod of a Kubernetes Indexed Job (with \
         PIEST_SHARD_COUNT).",
    ),
    (
        "OMPI_COMM_WORLD_SIZE",
        "With PMI_SIZE, PMIX_RANK, PMI_RANK, SLURM_STEP_NUM_TASKS, OMPI_COMM_WORLD_LOCAL_SIZE, \
         MPI_LOCALNRANKS, PMI_LOCAL_SIZE and SLURM_STEP_TASKS_PER_NODE: the launcher's tasks. \
         Several tasks of one mpirun or srun run one estimate across MPI ranks (with the mpi \
         feature) or are refused, since each would count the same chunks.",
    ),
    (
        "XDG_CACHE_HOME",
        "On Linux, the default cache directory is $XDG_CACHE_HOME/piest when it is set.",
    ),
    (
        "HOME",
        "The home directory: a path given as ~/x means $HOME/x, and the default cache \
         directory lies under it (~/.cache/piest on Linux, ~/Library/Caches/piest on macOS).",
    ),
];

/// The environment as piest uses it, read once at start-up.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// `PIEST_KERNEL`: the sampling kernel to force.
    pub kernel: Option<String>,
    /// `PIEST_CACHE_DIR`: the cache directory when `--cache-dir` is not given.
    pub cache_dir: Option<OsString>,
    /// The platform's per-user cache directory (piest's cache is its `piest` folder):
    /// `$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS, `%LOCALAPPDATA%`
    /// on Windows; `None` if the OS names no home.
    pub platform_cache: Option<PathBuf>,
    /// The home directory (`$HOME` if set and not empty, else the OS's record of the user): what
    /// a leading `~` in a path the user gives stands for.
    pub home: Option<PathBuf>,
    /// The scheduler's and MPI launcher's variables that are set, by name
    /// ([`piest::scheduler::ALL_VARS`]: `--shard auto`, MPI, the N-fold-run guard).
    pub scheduler: Vec<(&'static str, String)>,
}

impl Env {
    /// Reads every variable piest looks at, from the process environment.
    pub fn read() -> Result<Self, UsageError> {
        Env::from_vars(&|name| std::env::var_os(name))
    }

    /// Reads every variable piest looks at through `var` (the process environment in
    /// [`Env::read`], a table in tests). A variable read as text (not a path) that is not valid
    /// UTF-8 is a usage error naming it, never silently ignored.
    pub fn from_vars(var: &dyn Fn(&str) -> Option<OsString>) -> Result<Self, UsageError> {
        let text = |name: &str| -> Result<Option<String>, UsageError> {
            var(name)
                .map(|value| {
                    value.into_string().map_err(|value| {
                        UsageError(format!(
                            "{name} is not valid UTF-8 ('{}'): set it to text such as the \
                             documented values, or unset it",
                            value.to_string_lossy()
                        ))
                    })
                })
                .transpose()
        };
        let mut scheduler = Vec::new();
        for name in piest::scheduler::ALL_VARS {
            if let Some(value) = text(name)? {
                scheduler.push((name, value));
            }
        }
        let home = var("HOME")
            .filter(|home| !home.is_empty())
            .map(PathBuf::from)
            .or_else(dirs::home_dir);
        Ok(Env {
            kernel: text("PIEST_KERNEL")?,
            cache_dir: var("PIEST_CACHE_DIR"),
            platform_cache: dirs::cache_dir(),
            home,
            scheduler,
        })
    }

    /// The value of a scheduler or launcher variable read by [`Env::read`].
    pub fn scheduler_var(&self, name: &str) -> Option<String> {
        self.scheduler
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }

    /// The cache directory: `flag` (`--cache-dir`) if given, else `PIEST_CACHE_DIR` if set and
    /// not empty, else the platform's cache location. A leading `~` in the first two is the
    /// home directory ([`Env::expand_home`]).
    pub fn cache_location(&self, flag: Option<&Path>) -> Result<Option<PathBuf>, UsageError> {
        piest::cache::location::default_location(
            flag.map(|path| (path, "--cache-dir")),
            self.cache_dir.as_deref(),
            self.platform_cache.as_deref(),
            self.home.as_deref(),
        )
        .map_err(|e| UsageError(e.to_string()))
    }

    /// `path` with a leading `~` replaced by the home directory
    /// ([`piest::cache::location::expand_home`]); `source` names the flag or variable.
    pub fn expand_home(&self, path: &Path, source: &str) -> Result<PathBuf, UsageError> {
        piest::cache::location::expand_home(path, self.home.as_deref(), source)
            .map_err(|e| UsageError(e.to_string()))
    }
}

/// A mistake in the command line or environment: reported with exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The two-line human report.
    Human,
    Json,
    /// The estimate alone.
    Quiet,
}

/// Everything an estimate needs, validated.
#[derive(Debug)]
pub struct Config {
    pub spec: RunSpec,
    pub format: Format,
    /// One line per chunk on stderr.
    pub verbose: bool,
    /// `--quiet`: no warnings on stderr, whatever the format.
    pub quiet: bool,
    /// Whether the seed was drawn from the OS.
    pub random_seed: bool,
    pub cache: CacheChoice,
    pub mode: Mode,
    /// When the run may stop before its plan's end (`--target-error`, `--max-time`).
    pub limits: Limits,
    /// Whether `--trials` was given: with a target or a budget it is a cap, else there is none.
    pub trials_given: bool,
    /// `--trials` as given, when the plan counts another number (a stratified run rounds it
    /// up to whole chunks).
    pub requested_trials: Option<u64>,
    /// Where to draw the convergence plot, if anywhere.
    pub plot: Option<PathBuf>,
}

/// Which chunks an estimate counts, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The whole run, in this process.
    Whole,
    /// One shard: the output is a part for `piest merge`.
    Shard(ShardId),
    /// The whole run across the ranks of an MPI world (the `mpi` build under an MPI launcher).
    Mpi,
}

/// Builds the estimate's [`Config`]. With `--target-error` or `--max-time` the plan has no trial
/// cap (as many trials as 64 bits count) unless `--trials` is given.
pub fn estimate_config(args: &EstimateArgs, env: &Env) -> Result<Config, UsageError> {
    let target = args
        .target_error
        .map(StoppingRule::new)
        .transpose()
        .map_err(|e| UsageError(format!("invalid --target-error: {e}")))?;
    let limits = Limits {
        target,
        max_time: args.max_time,
    };
    let open_ended = !limits.is_fixed() && args.run.trials.is_none();
    let method = args.run.method.method;
    let (plan, requested_trials) = match method {
        Method::Plain => {
            let trials = if open_ended {
                u64::MAX
            } else {
                args.run.trials.unwrap_or(DEFAULT_TRIALS)
            };
            let plan =
                Plan::new(trials, args.run.chunk.size()).map_err(|e| UsageError(e.to_string()))?;
            (plan, None)
        }
        Method::Stratified => stratified_plan(&args.run, args.target_error, !limits.is_fixed())?,
    };
    let limits = match (method, limits.target) {
        (Method::Stratified, Some(rule)) => {
            let grid = Grid::for_chunk_size(plan.chunk_size())
                .map_err(|e| UsageError(format!("invalid --chunk-size: {e}")))?;
            let rule = StoppingRule::stratified(rule.target(), grid)
                .map_err(|e| UsageError(format!("invalid --target-error: {e}")))?;
            Limits {
                target: Some(rule),
                ..limits
            }
        }
        _ => limits,
    };
    let plot = args
        .plot
        .as_deref()
        .map(|path| plot_path(path, env))
        .transpose()?;
    let launch = Launch::from_env(&|name| env.scheduler_var(name));
    let mode = mode(args.shard, &launch, env)?;
    if mode == Mode::Mpi && !limits.is_fixed() {
        // Each rank would stop on its own data or clock: the answer would depend on the ranks.
        return Err(UsageError(
            "--target-error and --max-time cannot run across MPI ranks yet: run them in one \
             process, or give --trials"
                .into(),
        ));
    }
    // Ranks that share a node share its cores.
    let workers = args
        .workers
        .unwrap_or_else(|| launch.threads_per_task(default_workers()));
    if matches!(mode, Mode::Shard(_)) && matches!(args.run.seed.seed, Seed::Random) {
        // Every shard would draw its own seed, and `piest merge` would refuse the set.
        return Err(UsageError(
            "--shard with --seed random: every shard would draw its own seed and the parts \
             would not merge; give every shard the same --seed N"
                .into(),
        ));
    }
    let (seed, random_seed) = args.run.seed.seed.resolve();
    let format = if args.json {
        Format::Json
    } else if args.quiet {
        Format::Quiet
    } else {
        Format::Human
    };
    Ok(Config {
        spec: RunSpec {
            plan,
            seed,
            workers,
            kernel: kernel_from_env(env.kernel.as_deref())?,
            method,
        },
        format,
        verbose: args.verbose,
        quiet: args.quiet,
        random_seed,
        cache: cache_choice(&args.cache, env)?,
        mode,
        limits,
        trials_given: args.run.trials.is_some(),
        requested_trials,
        plot,
    })
}

/// Decides the [`Mode`] from `--shard` and the launcher, refusing what would count the same
/// chunks several times: several tasks of one `srun` or `mpirun` without MPI between them, or
/// with `--shard` (every task would run the same shard).
fn mode(shard: Option<ShardArg>, launch: &Launch, env: &Env) -> Result<Mode, UsageError> {
    let shard = match shard {
        None => None,
        Some(ShardArg::Fixed(id)) => Some(id),
        Some(ShardArg::Auto) => Some(
            shard_from_env(&|name| env.scheduler_var(name))
                .map_err(|e| UsageError(e.to_string()))?,
        ),
    };
    if let Some((name, n)) = launch.many_tasks() {
        if shard.is_some() {
            return Err(UsageError(format!(
                "--shard under a launcher of {n} tasks ({name}={n}): every task would run the \
                 same shard; start one task per shard (a job array), or run without --shard \
                 under MPI"
            )));
        }
        if !cfg!(feature = "mpi") {
            launch
                .refuse_without_mpi()
                .map_err(|e| UsageError(e.to_string()))?;
        }
        if !launch.mpi_launcher {
            // `srun -n 2` without --mpi=pmix: the tasks cannot form one MPI world.
            launch
                .check_world(1)
                .map_err(|e| UsageError(e.to_string()))?;
        }
    }
    Ok(match shard {
        Some(id) => Mode::Shard(id),
        None if cfg!(feature = "mpi") && launch.mpi_launcher => Mode::Mpi,
        None => Mode::Whole,
    })
}

/// Everything `piest darts` needs, validated.
#[derive(Debug)]
pub struct DartsConfig {
    /// The darts' plan: `-n` trials in chunks of `--chunk-size` (plain darts).
    pub plan: Plan,
    /// `--method`: plain darts of `plan`, or one stratified chunk of at least `-n` darts.
    pub method: piest::sampler::Method,
    pub seed: u64,
    /// Whether the seed was drawn from the OS.
    pub random_seed: bool,
    /// The SVG file to draw.
    pub plot: PathBuf,
}

pub fn darts_config(args: &DartsArgs, env: &Env) -> Result<DartsConfig, UsageError> {
    let plan = Plan::new(args.trials, args.chunk.size()).map_err(|e| UsageError(e.to_string()))?;
    if args.method.method == piest::sampler::Method::Stratified {
        let max = piest::darts::MAX_STRATIFIED_K;
        if piest::darts::stratified_grid(args.trials).is_none() {
            return Err(UsageError(format!(
                "--method stratified draws one chunk of at most 4^{max} = {} darts, not {}",
                1u64 << (2 * max),
                args.trials
            )));
        }
        if args.chunk.chunk_size.is_some() {
            return Err(UsageError(
                "--chunk-size is for plain darts: stratified darts are one chunk of -n rounded \
                 up to 4^k"
                    .into(),
            ));
        }
    }
    let plot = args.plot.as_deref().ok_or_else(|| {
        UsageError("piest darts draws a picture: name its file with --plot FILE.svg".into())
    })?;
    let plot = plot_path(plot, env)?;
    let (seed, random_seed) = args.seed.seed.resolve();
    Ok(DartsConfig {
        plan,
        method: args.method.method,
        seed,
        random_seed,
        plot,
    })
}

/// Whether and how an estimate uses the result cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheChoice {
    /// `--no-cache`: read and write nothing.
    Off,
    /// Use the cache in `dir`; `refresh` recomputes every chunk and overwrites its entry.
    On {
        dir: PathBuf,
        /// `--refresh`.
        refresh: bool,
    },
    /// Caching was asked for but no directory can be named (no home directory, no
    /// `PIEST_CACHE_DIR`): the run goes on without it, with this warning.
    Unavailable(String),
}

/// Decides the cache use of an estimate from its flags and the environment.
pub fn cache_choice(flags: &CacheFlags, env: &Env) -> Result<CacheChoice, UsageError> {
    if flags.no_cache {
        return Ok(CacheChoice::Off);
    }
    Ok(match env.cache_location(flags.cache_dir.as_deref())? {
        Some(dir) => CacheChoice::On {
            dir,
            refresh: flags.refresh,
        },
        None => CacheChoice::Unavailable(
            "no cache directory (no home directory is known): set PIEST_CACHE_DIR or \
             --cache-dir; running without the cache"
                .into(),
        ),
    })
}

/// The directory `piest cache ...` works on: `--cache-dir`, else `PIEST_CACHE_DIR`, else the
/// default.
pub fn cache_dir(args: &CacheArgs, env: &Env) -> Result<PathBuf, UsageError> {
    env.cache_location(args.cache_dir.as_deref())?
        .ok_or_else(|| {
            UsageError(
                "no cache directory (no home directory is known): use --cache-dir DIR".into(),
            )
        })
}

/// The limits of `piest cache prune`: at least one of size and age.
pub fn prune_limits(args: &PruneArgs) -> Result<(Option<u64>, Option<Duration>), UsageError> {
    if args.max_size.is_none() && args.older_than.is_none() {
        return Err(UsageError(
            "cache prune needs --max-size SIZE and/or --older-than AGE (e.g. --max-size 50MB)"
                .into(),
        ));
    }
    Ok((args.max_size, args.older_than))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaleFormat {
    Table,
    /// One JSON object with every raw timing.
    Json,
    /// CSV, one row per worker count.
    Csv,
    Markdown,
}

/// Everything `piest scale` needs, validated.
#[derive(Debug)]
pub struct ScaleConfig {
    pub sweep: SweepSpec,
    pub format: ScaleFormat,
    /// Where to draw the SVG plot, if anywhere.
    pub plot: Option<PathBuf>,
    /// Cores available to this process.
    pub cores: NonZeroUsize,
    /// Whether the seed was drawn from the OS.
    pub random_seed: bool,
}

/// Builds the sweep's [`ScaleConfig`]; a `--plot` path whose directory does not exist is
/// refused now, not after the sweep.
pub fn scale_config(args: &ScaleArgs, env: &Env) -> Result<ScaleConfig, UsageError> {
    let method = args.run.method.method;
    let plan = match method {
        Method::Plain => plan(&args.run)?,
        Method::Stratified => stratified_plan(&args.run, None, false)?.0,
    };
    let cores = default_workers();
    let plot = args
        .plot
        .as_deref()
        .map(|path| plot_path(path, env))
        .transpose()?;
    let (seed, random_seed) = args.run.seed.seed.resolve();
    let format = if args.json {
        ScaleFormat::Json
    } else if args.csv {
        ScaleFormat::Csv
    } else if args.markdown {
        ScaleFormat::Markdown
    } else {
        ScaleFormat::Table
    };
    Ok(ScaleConfig {
        sweep: SweepSpec {
            plan,
            seed,
            kernel: kernel_from_env(env.kernel.as_deref())?,
            method,
            workers: worker_counts(args.workers.as_ref(), cores),
            runs: args.runs,
            warmup: args.warmup,
        },
        format,
        plot,
        cores,
        random_seed,
    })
}

/// The worker counts a `--workers` value names on a machine with `cores` cores. Without one:
/// 1, 2, 4, … up to twice the cores, plus the core count and twice it, so that the whole machine
/// and its oversubscription are always measured (6 cores: 1, 2, 4, 6, 8, 12).
pub fn worker_counts(list: Option<&WorkerList>, cores: NonZeroUsize) -> Vec<NonZeroUsize> {
    let cores = cores.get().min(MAX_WORKERS);
    let twice = (2 * cores).min(MAX_WORKERS);
    let powers_up_to = |limit: usize| {
        std::iter::successors(Some(1usize), |p| p.checked_mul(2)).take_while(move |p| *p <= limit)
    };
    let mut counts: Vec<usize> = match list {
        Some(WorkerList::Counts(counts)) => counts.iter().map(|c| c.get()).collect(),
        Some(WorkerList::PowersOfTwo(limit)) => {
            powers_up_to(limit.map_or(twice, NonZeroUsize::get)).collect()
        }
        None => powers_up_to(twice).chain([cores, twice]).collect(),
    };
    counts.sort_unstable();
    counts.dedup();
    counts.into_iter().filter_map(NonZeroUsize::new).collect()
}

/// The `--plot` file with `~` expanded, checked before the run: its directory exists, and it is
/// a regular file or does not exist yet. A FIFO, a device or a socket is refused without being
/// opened, so no command can block in `open()` before its signal handlers can end it; a
/// regular file is opened for writing (not truncated, removed again if new), so a plot that
/// cannot be written is known before a long run rather than after it.
pub fn plot_path(path: &Path, env: &Env) -> Result<PathBuf, UsageError> {
    let path = env.expand_home(path, "--plot")?;
    let invalid = |why: String| UsageError(format!("invalid --plot '{}': {why}", path.display()));
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        // Say what is wrong with the folder: missing, a file, or out of reach.
        let why = match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => None,
            Ok(_) => Some(format!("'{}' is not a directory", dir.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Some(format!("directory '{}' does not exist", dir.display()))
            }
            Err(e) => Some(format!("cannot reach directory '{}': {e}", dir.display())),
        };
        if let Some(why) = why {
            return Err(invalid(why));
        }
    }
    let existed = match std::fs::metadata(&path) {
        Ok(meta) if meta.is_dir() => return Err(invalid("it is a directory".into())),
        Ok(meta) if !meta.is_file() => {
            return Err(invalid(
                "it is not a regular file (a FIFO, device or socket): name an .svg file to write"
                    .into(),
            ));
        }
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(invalid(format!("cannot be read: {e}"))),
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    // Should the path become a FIFO after the check, opening it still does not block.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    match options.open(&path) {
        Ok(_) => {
            if !existed {
                let _ = std::fs::remove_file(&path);
            }
            Ok(path)
        }
        Err(e) => Err(invalid(format!("cannot be written: {e}"))),
    }
}

/// The plan of a stratified run and, if it differs from the plan's trials, the `--trials` asked
/// for. The chunk size is `--chunk-size`, which must be `4^k`, else chosen by the documented
/// rules ([`strata`]): from the target `target` if there is one, else from `--trials` (or the
/// default trials); a run without either that grows (`--max-time` alone) takes 4^11 = 2^22, the
/// plain default. A fixed run's trials are rounded up to whole chunks; a growing run's cap
/// (`grows`) down, to the last whole chunk within it.
fn stratified_plan(
    run: &RunArgs,
    target: Option<f64>,
    grows: bool,
) -> Result<(Plan, Option<u64>), UsageError> {
    let grid = match (run.chunk.chunk_size, target, run.trials) {
        (Some(size), _, _) => Grid::for_chunk_size(size)
            .map_err(|e| UsageError(format!("invalid --chunk-size: {e}")))?,
        (None, Some(target), _) => strata::grid_for_target(target),
        (None, None, Some(trials)) => strata::grid_for_trials(trials),
        (None, None, None) if grows => strata::grid_for_trials(20 * DEFAULT_CHUNK_SIZE),
        (None, None, None) => strata::grid_for_trials(DEFAULT_TRIALS),
    };
    let n = grid.trials();
    let (chunks, requested) = match (grows, run.trials) {
        (true, None) => (u64::MAX / n, None),
        (true, Some(cap)) => (strata::chunks_within(cap, grid), None),
        (false, trials) => {
            let requested = trials.unwrap_or(DEFAULT_TRIALS);
            (strata::whole_chunks(requested, grid), Some(requested))
        }
    };
    if chunks == 0 {
        return Err(UsageError(format!(
            "--trials {} is less than one stratified chunk of {n} trials ({grid}): give at least \
             {n}, or a smaller --chunk-size",
            run.trials.unwrap_or_default()
        )));
    }
    let trials = chunks.checked_mul(n).ok_or_else(|| {
        UsageError(format!(
            "--trials {} rounded up to whole chunks of {n} does not fit in 64 bits",
            run.trials.unwrap_or_default()
        ))
    })?;
    let plan = Plan::new(trials, n).map_err(|e| UsageError(e.to_string()))?;
    Ok((plan, requested.filter(|&r| r != trials)))
}

/// The chunk plan of `--trials` and `--chunk-size`.
fn plan(run: &RunArgs) -> Result<Plan, UsageError> {
    Plan::new(run.trials.unwrap_or(DEFAULT_TRIALS), run.chunk.size())
        .map_err(|e| UsageError(e.to_string()))
}

/// The seed to use, and whether it was drawn from the OS (`--seed random`).
/// The number of cores this process may use (1 if the OS cannot tell).
pub fn default_workers() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// The kernel named by `PIEST_KERNEL` (`auto` or unset: the best this CPU supports).
pub fn kernel_from_env(value: Option<&str>) -> Result<Kernel, UsageError> {
    Kernel::from_name(value.unwrap_or("auto")).map_err(|e| UsageError(format!("PIEST_KERNEL: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_flags_decide_the_cache_use() {
        let flags = |no_cache, refresh, dir: Option<&str>| CacheFlags {
            cache_dir: dir.map(PathBuf::from),
            no_cache,
            refresh,
        };
        let env = Env {
            cache_dir: Some("/env".into()),
            platform_cache: Some("/home/.cache".into()),
            ..Env::default()
        };
        assert_eq!(
            cache_choice(&flags(true, false, Some("/d")), &env).unwrap(),
            CacheChoice::Off
        );
        assert_eq!(
            cache_choice(&flags(false, true, Some("/d")), &env).unwrap(),
            CacheChoice::On {
                dir: "/d".into(),
                refresh: true
            }
        );
        assert_eq!(
            cache_choice(&flags(false, false, None), &env).unwrap(),
            CacheChoice::On {
                dir: "/env".into(),
                refresh: false
            }
        );
        let homeless = Env::default();
        assert!(matches!(
            cache_choice(&flags(false, false, None), &homeless).unwrap(),
            CacheChoice::Unavailable(_)
        ));
    }

    #[test]
    fn cache_location_prefers_the_flag_then_the_variable_then_the_platform() {
        let mut env = Env {
            cache_dir: Some("/env".into()),
            platform_cache: Some("/platform".into()),
            ..Env::default()
        };
        let flag = Some(Path::new("/flag"));
        let location = |env: &Env, flag| env.cache_location(flag).unwrap();
        assert_eq!(location(&env, flag), Some("/flag".into()));
        assert_eq!(location(&env, None), Some("/env".into()));
        env.cache_dir = Some("".into());
        assert_eq!(location(&env, None), Some("/platform/piest".into()));
        env.cache_dir = None;
        assert_eq!(location(&env, None), Some("/platform/piest".into()));
        env.platform_cache = None;
        assert_eq!(location(&env, None), None);
    }

    #[test]
    fn a_leading_tilde_is_the_home_directory() {
        let env = Env {
            cache_dir: Some("~/from-env".into()),
            home: Some("/home/ada".into()),
            ..Env::default()
        };
        let expand = |p: &str| env.expand_home(Path::new(p), "--cache-dir").unwrap();
        assert_eq!(expand("~"), PathBuf::from("/home/ada"));
        assert_eq!(expand("~/x"), PathBuf::from("/home/ada/x"));
        assert_eq!(expand("~/x/y"), PathBuf::from("/home/ada/x/y"));
        // Only a whole leading `~` component is the home directory.
        assert_eq!(expand("~x/y"), PathBuf::from("~x/y"));
        assert_eq!(expand("./~/x"), PathBuf::from("./~/x"));
        assert_eq!(expand("/a/~"), PathBuf::from("/a/~"));
        assert_eq!(
            env.cache_location(Some(Path::new("~/flag"))).unwrap(),
            Some("/home/ada/flag".into())
        );
        assert_eq!(
            env.cache_location(None).unwrap(),
            Some("/home/ada/from-env".into())
        );
        let homeless = Env::default();
        let err = homeless
            .expand_home(Path::new("~/x"), "PIEST_CACHE_DIR")
            .unwrap_err()
            .to_string();
        assert!(err.contains("PIEST_CACHE_DIR '~/x'"), "{err}");
    }

    /// `Env::from_vars` over a table, recording every name it asks for.
    fn env_from(table: &[(&str, OsString)]) -> (Result<Env, UsageError>, Vec<String>) {
        let asked = std::cell::RefCell::new(Vec::new());
        let env = Env::from_vars(&|name| {
            asked.borrow_mut().push(name.to_owned());
            table
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        });
        (env, asked.into_inner())
    }

    /// Whether `name` is documented in [`VARIABLES`], as a row or in a row's meaning.
    fn documented(name: &str) -> bool {
        VARIABLES
            .iter()
            .any(|(v, meaning)| *v == name || meaning.contains(name))
    }

    #[test]
    fn every_variable_read_is_documented_and_every_documented_one_is_read() {
        let (_, asked) = env_from(&[]);
        for name in &asked {
            assert!(documented(name), "{name} is read but not in VARIABLES");
        }
        // XDG_CACHE_HOME is read by `dirs` for the platform's cache location (tested through
        // the binary in tests/edges.rs); every other row is asked for here.
        for (name, _) in VARIABLES.iter().filter(|(n, _)| *n != "XDG_CACHE_HOME") {
            assert!(
                asked.iter().any(|a| a == name),
                "{name} is documented but not read"
            );
        }
    }

    #[test]
    fn each_variable_set_is_seen() {
        let value = |text: &str| OsString::from(text);
        for name in piest::scheduler::ALL_VARS {
            let (env, _) = env_from(&[(name, value("3"))]);
            assert_eq!(
                env.unwrap().scheduler_var(name).as_deref(),
                Some("3"),
                "{name}"
            );
        }
        let (env, _) = env_from(&[
            ("PIEST_KERNEL", value("scalar")),
            ("PIEST_CACHE_DIR", value("/c")),
            ("HOME", value("/home/ada")),
        ]);
        let env = env.unwrap();
        assert_eq!(env.kernel.as_deref(), Some("scalar"));
        assert_eq!(env.cache_dir, Some(value("/c")));
        assert_eq!(env.home, Some(PathBuf::from("/home/ada")));
    }

    #[cfg(unix)]
    #[test]
    fn a_text_variable_that_is_not_utf8_is_refused_by_name() {
        use std::os::unix::ffi::OsStringExt;
        let bad = || OsString::from_vec(vec![b's', 0xff]);
        for name in ["PIEST_KERNEL", "PIEST_SHARD_COUNT", "SLURM_ARRAY_TASK_ID"] {
            let (env, _) = env_from(&[(name, bad())]);
            let err = env.unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("{name} is not valid UTF-8")),
                "{err}"
            );
        }
        // A path is a path: the cache directory may hold any bytes.
        let (env, _) = env_from(&[("PIEST_CACHE_DIR", bad())]);
        assert_eq!(env.unwrap().cache_dir, Some(bad()));
    }

    #[test]
    fn prune_needs_a_limit() {
        let args = |max_size, older_than| PruneArgs {
            max_size,
            older_than,
        };
        assert!(prune_limits(&args(None, None)).is_err());
        assert_eq!(prune_limits(&args(Some(5), None)).unwrap(), (Some(5), None));
    }

    #[test]
    fn default_worker_counts_reach_twice_the_cores_and_include_the_cores() {
        let nz = |n| NonZeroUsize::new(n).unwrap();
        let counts = |list: Option<&WorkerList>, cores| -> Vec<usize> {
            worker_counts(list, nz(cores))
                .into_iter()
                .map(NonZeroUsize::get)
                .collect()
        };
        assert_eq!(counts(None, 1), [1, 2]);
        assert_eq!(counts(None, 2), [1, 2, 4]);
        assert_eq!(counts(None, 6), [1, 2, 4, 6, 8, 12]);
        assert_eq!(counts(None, 8), [1, 2, 4, 8, 16]);
        let powers = WorkerList::PowersOfTwo(None);
        assert_eq!(counts(Some(&powers), 6), [1, 2, 4, 8]);
        let powers = WorkerList::PowersOfTwo(Some(nz(20)));
        assert_eq!(counts(Some(&powers), 2), [1, 2, 4, 8, 16]);
        let list = WorkerList::Counts(vec![nz(3), nz(5)]);
        assert_eq!(counts(Some(&list), 2), [3, 5]);
    }

    #[test]
    fn kernel_names_round_trip_and_unknown_names_are_refused() {
        assert_eq!(kernel_from_env(None).unwrap(), Kernel::best());
        assert_eq!(kernel_from_env(Some("auto")).unwrap(), Kernel::best());
        assert_eq!(kernel_from_env(Some("scalar")).unwrap(), Kernel::Scalar);
        for kernel in Kernel::available() {
            assert_eq!(kernel_from_env(Some(kernel.name())).unwrap(), kernel);
        }
        let err = kernel_from_env(Some("gpu")).unwrap_err().to_string();
        assert!(
            err.starts_with("PIEST_KERNEL: unknown kernel 'gpu'"),
            "{err}"
        );
    }
}
