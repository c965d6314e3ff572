//! The command line grammar: one clap-derive struct per command, the flags an estimate and a
//! sweep share declared once ([`RunArgs`]) and flattened into both, and each flag validated
//! while parsing by the value parsers in [`parse`]. Nothing here touches threads, files or the
//! sampler.

use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand};
use piest::plan::DEFAULT_CHUNK_SIZE;
use piest::sampler::Method;

pub mod parse;

pub use parse::{ShardArg, WorkerList};
use parse::{
    parse_chunk_range, parse_darts, parse_method, parse_runs, parse_shard, parse_target_error,
    parse_warmup, parse_worker_list, plot_path,
};
pub use piest::values::Seed;
use piest::values::{age, count, duration, fraction, seed, size, whole, workers};

const EXAMPLES: &str = "\
Examples:
  piest --trials 1e8 --workers 4      estimate π from 100,000,000 trials on 4 threads
  piest -n 2.5e9 --seed 7 --json      one JSON object, seed 7
  piest -n 1e9 --seed random          a fresh seed from the OS (printed in the report)
  piest -n 1e8 -v                     one line per chunk on stderr
  piest -n 1e10; piest -n 1e10        the second run reads every chunk from the result cache
  piest --target-error 1e-5           keep going until the 95% half-width is below 0.00001
  piest --max-time 30s                as many whole chunks as 30 seconds allow
  piest -n 1e10 --plot conv.svg       the estimate and its 95% band converging onto π
  piest darts --plot darts.svg        the first 2,000 darts of the run, drawn
  piest methods --plot methods.svg    plain vs stratified: error against trials, log–log
  piest cache prune --max-size 50MB   keep the result cache small
  piest scale -n 1e9 -w 1,2,4         speed-up at 1, 2 and 4 workers (see piest scale --help)
  piest completions bash > ~/.local/share/bash-completion/completions/piest
                                      install tab completion for bash (also zsh, fish, …)
  piest man > ~/.local/share/man/man1/piest.1
                                      install the manual page (`man piest`)

The count depends only on --trials, --seed, --chunk-size and --method: any --workers gives the same
answer.
Chunk counts are cached on disk (see `piest cache --help`): a cached run gives the same answer.
A run split with --shard K/N over many machines merges exactly with `piest merge`.
A run stopped by --target-error or --max-time equals the fixed run of the trials it reports.
Exit status 5: the target error was not reached before the --trials cap or the --max-time budget,
or the budget ran out before the first chunk.

Paths given to piest (--cache-dir, PIEST_CACHE_DIR, --plot, merge files) may start with ~/ for
$HOME.";

/// The end of `piest --help`: [`EXAMPLES`], then the environment variables from
/// [`crate::config::VARIABLES`] (piest's own in full, the rest by name).
fn after_help() -> String {
    const INDENT: usize = 22;
    const WIDTH: usize = 100;
    let mut text = format!("{EXAMPLES}\n\nEnvironment:\n");
    let (own, others): (Vec<_>, Vec<_>) = crate::config::VARIABLES
        .iter()
        .partition(|(name, _)| name.starts_with("PIEST_"));
    for (name, meaning) in own {
        let mut line = format!("  {name:<w$}", w = INDENT - 2);
        for word in meaning.split_whitespace() {
            if line.len() + 1 + word.len() > WIDTH && line.trim().len() > name.len() {
                text.push_str(line.trim_end());
                text.push('\n');
                line = " ".repeat(INDENT);
            } else if !line.ends_with(' ') {
                line.push(' ');
            }
            line.push_str(word);
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    let names: Vec<&str> = others.iter().map(|(name, _)| *name).collect();
    text.push_str(&format!(
        "  Also read: {} (see `piest man`)",
        names.join(", ")
    ));
    text
}

/// piest: a fast, reproducible Monte Carlo estimate of π with its standard error and 95% interval.
#[derive(Debug, Parser)]
#[command(name = "piest", version, after_help = after_help(), args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// The estimate's options (used when no subcommand is given).
    #[command(flatten)]
    pub estimate: EstimateArgs,
    /// A subcommand instead of an estimate.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The flags that determine the count, shared by an estimate and a sweep: the count is a pure
/// function of these three.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Number of random points to throw (per run, for a sweep): a positive whole number, written
    /// 100000000, 100_000_000, 1e8 or 2.5e9. Default 1e8; with --target-error or --max-time, no
    /// limit unless given [example: --trials 1e9]
    #[arg(short = 'n', long, value_name = "N", value_parser = count, allow_hyphen_values = true)]
    pub trials: Option<u64>,

    #[command(flatten)]
    pub seed: SeedArgs,

    #[command(flatten)]
    pub chunk: ChunkArgs,

    /// The sampling method.
    #[command(flatten)]
    pub method: MethodArgs,
}

/// `--method`, shared by every command that counts darts.
#[derive(Debug, Args)]
pub struct MethodArgs {
    /// How darts are thrown: `plain` (each anywhere in the square) or `stratified` (one per cell
    /// of a K×K grid, chunks of 4^k trials, only whole chunks; the interval comes from the
    /// spread between chunks). Part of what determines the answer (default plain)
    /// [example: --method stratified]
    #[arg(long, value_name = "plain|stratified", default_value = "plain", value_parser = parse_method)]
    pub method: Method,
}

/// `--seed`, shared by every command that draws random streams.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Seed of the random streams: a whole number (default 0, so a repeat run gives the same
    /// answer; 1e3 and 1_000 are 1000) or `random` for a fresh one from the OS, shown in the
    /// report or on stderr [example: --seed 42]
    #[arg(short, long, value_name = "SEED|random", default_value = "0", value_parser = seed, allow_hyphen_values = true)]
    pub seed: Seed,
}

/// `--chunk-size`, shared by every command whose random streams are cut into chunks.
#[derive(Debug, Args)]
pub struct ChunkArgs {
    /// Trials per chunk, the unit of parallel work and of random streams (default 4194304 =
    /// 2^22; with --method stratified a power of four, 4^1 to 4^16, chosen by default from
    /// --trials or --target-error). Part of what determines the answer (and which darts or
    /// words come first); a run cannot keep more workers busy than it has chunks
    /// [example: --chunk-size 1e6]
    #[arg(long, value_name = "N", value_parser = count, allow_hyphen_values = true)]
    pub chunk_size: Option<u64>,
}

impl ChunkArgs {
    /// The chunk size given, else the default ([`DEFAULT_CHUNK_SIZE`]).
    pub fn size(&self) -> u64 {
        self.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE)
    }
}

#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// Trials, seed and chunk size.
    #[command(flatten)]
    pub run: RunArgs,

    /// Worker threads (default: the number of available cores). Changes the speed, never the
    /// answer [example: --workers 4]
    #[arg(short, long, value_name = "N", value_parser = workers, allow_hyphen_values = true)]
    pub workers: Option<NonZeroUsize>,

    /// Print one JSON object on stdout instead of text [example: --json]
    #[arg(long)]
    pub json: bool,

    /// Print only the estimate (only the JSON with --json); no progress bar, no warnings
    /// [example: -q]
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print one line per chunk on stderr: index, trials, worker thread, time, and whether it
    /// was computed or read from the cache [example: -v]
    #[arg(short, long)]
    pub verbose: bool,

    /// Run only shard K of N (0 ≤ K < N) of the chunks and print a part for `piest merge`, or
    /// `auto`: the shard of a Slurm job-array task or a Kubernetes Indexed Job pod. Every shard
    /// needs the same --seed N (--seed random is refused: the parts would not merge). Not with
    /// --target-error or --max-time (each part would stop on its own data or clock) or --plot
    /// [example: --shard 3/64]
    #[arg(long, value_name = "K/N|auto", value_parser = parse_shard, allow_hyphen_values = true,
          conflicts_with_all = ["target_error", "max_time", "plot"])]
    pub shard: Option<ShardArg>,

    /// Keep adding chunks, in order, until the 95% interval's half-width on π (the "±") is at
    /// most E: stops at the first chunk boundary, after at least 1e6 trials (with --method
    /// stratified: at least 20 chunks, Student-t half-width), that meets it. E is an absolute
    /// error (1e-5 means π ± 0.00001, about 1e11 trials plain); at least 1e-8
    /// [example: --target-error 1e-4]
    #[arg(long, value_name = "E", value_parser = parse_target_error, allow_hyphen_values = true)]
    pub target_error: Option<f64>,

    /// Stop at whole chunks once this much time has passed (30s, 2m, 1h 30m, 1e3ms, or a
    /// number of seconds such as 90 or 1e3). The answer equals the fixed run of the trials it
    /// reports, but how many that is depends on the machine; a budget spent before the first
    /// chunk is counted gives no answer (exit status 5) [example: --max-time 30s]
    #[arg(long, value_name = "DURATION", value_parser = duration, allow_hyphen_values = true)]
    pub max_time: Option<Duration>,

    /// Also draw the estimate and its 95% band against trials (log axis) into an SVG file
    /// [example: --plot convergence.svg]
    #[arg(long, value_name = "FILE.svg", value_parser = plot_path())]
    pub plot: Option<PathBuf>,

    /// How the result cache is used.
    #[command(flatten)]
    pub cache: CacheFlags,
}

/// The result cache options of an estimate.
#[derive(Debug, Args)]
pub struct CacheFlags {
    /// Result cache directory (default: $PIEST_CACHE_DIR, else the platform cache directory,
    /// $XDG_CACHE_HOME/piest or ~/.cache/piest on Linux) [example: --cache-dir /tmp/piest]
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Neither read nor write the result cache [example: --no-cache]
    #[arg(long, conflicts_with = "refresh")]
    pub no_cache: bool,

    /// Compute every chunk, ignoring the result cache, and overwrite its entries
    /// [example: --refresh]
    #[arg(long)]
    pub refresh: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Time the estimate at several worker counts: speed-up, efficiency, serial fraction and an
    /// Amdahl fit [example: piest scale -n 1e9 -w 1,2,4]
    #[command(after_help = SCALE_EXAMPLES)]
    Scale(ScaleArgs),
    /// Write the exact random words the sampler consumes, as raw little-endian 64-bit words on
    /// stdout, for external test batteries (dieharder, PractRand): lanes interleaved, chunk after
    /// chunk [example: piest stream --seed 1 --chunks 0..8 | dieharder -g 200 -a]
    #[command(hide = true)]
    Stream(StreamArgs),

    /// Inspect or shrink the result cache of chunk counts [example: piest cache info]
    Cache(CacheArgs),

    /// Combine the parts written by `piest --shard K/N --json` into the estimate of the whole
    /// run, bit-identical to a single run's [example: piest merge part-*.json]
    Merge(MergeArgs),

    /// Print a tab-completion script for a shell on stdout [example: piest completions bash >
    /// ~/.local/share/bash-completion/completions/piest]
    Completions(CompletionsArgs),

    /// Print the manual page (roff) on stdout [example: piest man >
    /// ~/.local/share/man/man1/piest.1]
    Man,

    /// Draw the first N darts of a run on the unit square: the very points an estimate of N
    /// trials with the same seed and chunk size counts [example: piest darts --plot darts.svg]
    #[command(after_help = DARTS_EXAMPLES)]
    Darts(DartsArgs),

    /// Compare the sampling methods: one run of each at 1e4, 3e4, 1e5, … trials up to N, with
    /// its 95% half-width and actual error |estimate − π| (stratified error falls as n^-3/4, plain as
    /// n^-1/2) [example: piest methods -n 1e9 --plot methods.svg]
    #[command(after_help = METHODS_EXAMPLES)]
    Methods(MethodsArgs),
}

/// Options of `piest methods`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("format").args(["json", "csv"])))]
pub struct MethodsArgs {
    /// The largest trial count: each method runs at 1e4, 3e4, 1e5, 3e5, … trials up to N, and at
    /// N [example: -n 1e10]
    #[arg(short = 'n', long, value_name = "N", default_value = "1e9", value_parser = count, allow_hyphen_values = true)]
    pub trials: u64,

    #[command(flatten)]
    pub seed: SeedArgs,

    /// Worker threads of every run (default: the number of available cores) [example: -w 2]
    #[arg(short, long, value_name = "N", value_parser = workers, allow_hyphen_values = true)]
    pub workers: Option<NonZeroUsize>,

    /// Print one JSON object instead of the table [example: --json]
    #[arg(long)]
    pub json: bool,

    /// Print CSV instead of the table: one row per run [example: --csv]
    #[arg(long)]
    pub csv: bool,

    /// Also draw the half-widths and errors against trials on log–log axes, with n^-1/2 and
    /// n^-3/4 guide lines, into an SVG file [example: --plot methods.svg]
    #[arg(long, value_name = "FILE.svg", value_parser = plot_path())]
    pub plot: Option<PathBuf>,

    #[command(flatten)]
    pub cache: CacheFlags,
}

/// Examples shown at the end of `piest methods --help`.
pub const METHODS_EXAMPLES: &str = "\
Examples:
  piest methods                                 1e4 … 1e9 trials, both methods, as a table
  piest methods -n 1e10 --plot methods.svg      up to 1e10 trials, and the log–log plot
  piest methods -n 1e8 --csv > methods.csv      one CSV row per run

Plain runs use the default chunk size; stratified runs the chunk size `piest --method stratified
-n N` chooses for each N (the largest 4^k leaving at least 20 chunks), rounded up to whole
chunks, so the grid grows with the trials. Each run is an ordinary estimate: the result cache
serves a repeat. The exponents under the table are least-squares slopes of the half-width.";

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Part files, in any order; `-` reads parts from stdin (several may follow one another)
    /// [example: part-*.json]
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// Print one JSON object instead of text [example: --json]
    #[arg(long)]
    pub json: bool,

    /// Combine an incomplete set of parts into a partial estimate that says which shards it
    /// lacks, instead of refusing it [example: --allow-partial]
    #[arg(long)]
    pub allow_partial: bool,
}

#[derive(Debug, Args)]
#[command(after_help = COMPLETIONS_EXAMPLES)]
pub struct CompletionsArgs {
    /// The shell to complete for: bash, zsh, fish, elvish or powershell [example: bash]
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// Where each shell looks for completions, shown at the end of `piest completions --help`.
pub const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  piest completions bash > ~/.local/share/bash-completion/completions/piest
  piest completions zsh > ~/.zfunc/_piest        (with fpath+=(~/.zfunc) before compinit)
  piest completions fish > ~/.config/fish/completions/piest.fish
  piest completions elvish >> ~/.config/elvish/rc.elv
  piest completions powershell >> $PROFILE";

#[derive(Debug, Args)]
pub struct DartsArgs {
    /// Darts to throw: the first N trials of the run, at most 100000 [example: -n 5000]
    #[arg(short = 'n', long, value_name = "N", default_value = "2000", value_parser = parse_darts, allow_hyphen_values = true)]
    pub trials: u64,

    #[command(flatten)]
    pub seed: SeedArgs,

    #[command(flatten)]
    pub chunk: ChunkArgs,

    /// The sampling method: stratified darts are one chunk of N rounded up to 4^k (at most
    /// 4^8 = 65536), one dart in each cell of its 2^k × 2^k grid.
    #[command(flatten)]
    pub method: MethodArgs,

    /// The SVG file to draw (required) [example: --plot darts.svg]
    #[arg(long, value_name = "FILE.svg", value_parser = plot_path())]
    pub plot: Option<PathBuf>,
}

/// Examples shown at the end of `piest darts --help`.
pub const DARTS_EXAMPLES: &str = "\
Examples:
  piest darts --plot darts.svg                  2,000 darts of seed 0
  piest darts -n 1e4 --seed 7 --plot d.svg      10,000 darts of seed 7
  piest darts --method stratified -n 1024 --plot s.svg
                                                a 32 × 32 grid, one dart per cell

Each dart is one trial: inside the quarter circle (blue) or outside (orange). The title gives the
estimate 4·inside/N and its 95% half-width; `piest -n N --seed S --chunk-size C` counts exactly
the same inside points. Stratified darts are the first chunk of
`piest --method stratified -n 4^k --chunk-size 4^k --seed S`, with the same inside count; one
chunk has no spread between chunks, so its half-width is Hoeffding's bound.";

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("format").args(["json", "csv", "markdown"])))]
pub struct ScaleArgs {
    /// Trials, seed and chunk size of every run.
    #[command(flatten)]
    pub run: RunArgs,

    /// Worker counts to time: a list `1,2,4`, a range `1..=8` (or `1..8`, 8 excluded), a mix
    /// `1,2,4..=6`, or `powers-of-two[:N]` (1, 2, 4, … up to N, by default twice the cores).
    /// Default: 1, 2, 4, … up to twice the cores, plus the core count and twice it
    /// [example: --workers 1,2,4]
    #[arg(short, long, value_name = "LIST", value_parser = parse_worker_list, allow_hyphen_values = true)]
    pub workers: Option<WorkerList>,

    /// Timed runs per worker count [example: --runs 10]
    #[arg(short, long, value_name = "N", default_value = "5", value_parser = parse_runs, allow_hyphen_values = true)]
    pub runs: usize,

    /// Untimed warm-up runs per worker count, before the timed ones [example: --warmup 0]
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_warmup, allow_hyphen_values = true)]
    pub warmup: usize,

    /// Print one JSON object with every raw timing instead of the table [example: --json]
    #[arg(long)]
    pub json: bool,

    /// Print CSV, one row per worker count, instead of the table [example: --csv]
    #[arg(long)]
    pub csv: bool,

    /// Print a Markdown table instead of the aligned one [example: --markdown]
    #[arg(long)]
    pub markdown: bool,

    /// Also draw measured speed-up against ideal and Amdahl's law into an SVG file
    /// [example: --plot scale.svg]
    #[arg(long, value_name = "FILE.svg", value_parser = plot_path())]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub action: CacheAction,

    /// Result cache directory (default: $PIEST_CACHE_DIR, else the platform cache directory),
    /// before or after the action, once [example: --cache-dir /tmp/piest]
    #[arg(long, value_name = "DIR", global = true)]
    pub cache_dir: Option<PathBuf>,

    /// Print one JSON object instead of text [example: --json]
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Show the cache directory, its entries, bytes, chunks and trials covered
    /// [example: piest cache info]
    Info,
    /// Remove every cache entry, without asking [example: piest cache clear]
    Clear,
    /// Remove entries unused for longer than --older-than, then the least recently used until
    /// the cache takes at most --max-size [example: piest cache prune --max-size 50MB]
    Prune(PruneArgs),
    /// Recompute cached counts (all, or a random sample), report and remove any that differ;
    /// exit status 4 if any did [example: piest cache verify --sample 0.1]
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Fraction of the cached spans to recompute, above 0 and at most 1 (default 1: all); a
    /// sample that picks no span is refused [example: --sample 0.1]
    #[arg(long, value_name = "FRACTION", value_parser = fraction, allow_hyphen_values = true)]
    pub sample: Option<f64>,

    /// Seed of the sample's choice: the same seed picks the same spans of the same cache
    /// [example: --sample-seed 7]
    #[arg(long, value_name = "SEED", default_value = "0", value_parser = fixed_seed, allow_hyphen_values = true)]
    pub sample_seed: u64,

    /// Worker threads (default: the number of available cores) [example: --workers 4]
    #[arg(short, long, value_name = "N", value_parser = workers, allow_hyphen_values = true)]
    pub workers: Option<NonZeroUsize>,
}

/// Options of `piest cache prune` (at least one is required).
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Largest total size to keep: 50MB, 1.5GB (powers of 1000), 500KiB, 1GiB (powers of 1024)
    /// or plain bytes (1e9); it must come to whole bytes [example: --max-size 50MB]
    #[arg(long, value_name = "SIZE", value_parser = size, allow_hyphen_values = true)]
    pub max_size: Option<u64>,

    /// Remove entries not used for longer than this: 30d, 12h, 90min, 2w [example: --older-than 30d]
    #[arg(long, value_name = "AGE", value_parser = age, allow_hyphen_values = true)]
    pub older_than: Option<Duration>,
}

/// Refuses `--cache-dir` given more than once on a `piest cache` command line. The flag is
/// global to the actions, and clap keeps only the occurrence after the action: two values must
/// not let one silently win, so the words of the command line are counted here.
pub fn cache_dir_once<I: IntoIterator<Item = std::ffi::OsString>>(args: I) -> Result<(), String> {
    let given = args
        .into_iter()
        .take_while(|arg| arg != "--")
        .filter(|arg| {
            arg == "--cache-dir"
                || arg
                    .to_str()
                    .is_some_and(|arg| arg.starts_with("--cache-dir="))
        })
        .count();
    if given > 1 {
        return Err(format!(
            "--cache-dir given {given} times: give it once, before or after the action"
        ));
    }
    Ok(())
}

/// A seed that cannot be `random`: a whole number from 0 to 2^64 − 1.
fn fixed_seed(text: &str) -> Result<u64, piest::values::ValueError> {
    whole(text, 0, u64::MAX)
}

#[derive(Debug, Args)]
pub struct StreamArgs {
    /// Seed whose streams to write: a whole number, as for an estimate (`random` has no place
    /// here: the words would not say which seed made them) [example: --seed 42]
    #[arg(short, long, value_name = "SEED", default_value = "0", value_parser = fixed_seed, allow_hyphen_values = true)]
    pub seed: u64,

    /// Chunks to write: `A..B` (B excluded), `A..=B`, `A..` (no end) or one index `A`
    /// [example: --chunks 0..16]
    #[arg(long, value_name = "RANGE", default_value = "0..", value_parser = parse_chunk_range, allow_hyphen_values = true)]
    pub chunks: Range<u64>,

    /// Stop after this many words in all (default: every word of the chunks)
    /// [example: --words 1e9]
    #[arg(long, value_name = "N", value_parser = count, allow_hyphen_values = true)]
    pub words: Option<u64>,

    #[command(flatten)]
    pub chunk: ChunkArgs,
}

/// Examples shown at the end of `piest scale --help`.
pub const SCALE_EXAMPLES: &str = "\
Examples:
  piest scale --trials 1e9 --workers 1,2,4           time 1, 2 and 4 workers, 5 runs each
  piest scale -w 1..=8 --runs 10 --markdown          a Markdown table to paste in an issue
  piest scale -w powers-of-two:32 --plot scale.svg   1, 2, 4, …, 32 workers, with a plot
  piest scale --json > sweep.json                    every raw timing as JSON

Runs are interleaved across worker counts (1, 2, 4, 1, 2, 4, …) after the warm-up, and every
run must count the same inside points. Each timing covers one whole run, thread-pool start-up
included; the result cache is not used.";

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_sweep_does_not_accept_the_flags_it_cannot_honour() {
        for flag in [
            "--no-cache",
            "--refresh",
            "--cache-dir",
            "--verbose",
            "--quiet",
        ] {
            let err = Cli::try_parse_from(["piest", "scale", flag, "x"]).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{flag}"
            );
        }
    }

    #[test]
    fn shared_flags_mean_the_same_in_an_estimate_and_a_sweep() {
        let args = ["-n", "2.5e9", "--seed", "7", "--chunk-size", "1e6"];
        let estimate = Cli::try_parse_from(["piest"].into_iter().chain(args)).unwrap();
        let sweep = Cli::try_parse_from(["piest", "scale"].into_iter().chain(args)).unwrap();
        let Some(Command::Scale(scale)) = sweep.command else {
            panic!("not a sweep")
        };
        for run in [&estimate.estimate.run, &scale.run] {
            assert_eq!(run.trials, Some(2_500_000_000));
            assert_eq!(run.seed.seed, Seed::Fixed(7));
            assert_eq!(run.chunk.chunk_size, Some(1_000_000));
            assert_eq!(run.method.method, Method::Plain);
        }
    }
}
