//! The command line: one clap-derive struct, its subcommands and the value parsers that
//! validate each flag while parsing. Nothing here touches threads, files or the sampler.

use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use piest::plan::DEFAULT_CHUNK_SIZE;

pub mod scale;
pub use scale::{ScaleArgs, WorkerList};

/// Most worker threads accepted: far above any core count piest is run on, low enough that a
/// typo cannot ask the OS for a million threads.
pub const MAX_WORKERS: usize = 1024;

const EXAMPLES: &str = "\
Examples:
  piest --trials 1e8 --workers 4      estimate π from 100,000,000 trials on 4 threads
  piest -n 2.5e9 --seed 7 --json      one JSON object, seed 7
  piest -n 1e9 --seed random          a fresh seed from the OS (printed in the report)
  piest -n 1e8 -v                     one line per chunk on stderr
  piest -n 1e10; piest -n 1e10        the second run reads every chunk from the result cache
  piest cache prune --max-size 50MB   keep the result cache small
  piest scale -n 1e9 -w 1,2,4         speed-up at 1, 2 and 4 workers (see piest scale --help)

The count depends only on --trials, --seed and --chunk-size: any --workers gives the same answer.
Chunk counts are cached on disk (see `piest cache --help`): a cached run gives the same answer.
A run split with --shard K/N on many machines merges exactly with `piest merge` (see the README).

Environment:
  PIEST_CACHE_DIR     the cache directory when --cache-dir is not given
  PIEST_KERNEL        auto (default), scalar, portable or avx2: force a sampling kernel; all
                      give identical counts, `--json` reports which one ran
  PIEST_SHARD_COUNT   the shard count for --shard auto (required in a Kubernetes Indexed Job:
                      set it to `completions`); it keeps a retried Slurm task its index";

/// piest: a fast, reproducible Monte Carlo estimate of π with its standard error and 95% interval.
#[derive(Debug, Parser)]
#[command(name = "piest", version, after_help = EXAMPLES, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// The estimate's options (used when no subcommand is given).
    #[command(flatten)]
    pub estimate: EstimateArgs,
    /// A subcommand instead of an estimate.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options of an estimate.
#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// Number of random points to throw: a positive whole number, written 100000000,
    /// 100_000_000, 1e8 or 2.5e9 [example: --trials 1e9]
    #[arg(short = 'n', long, value_name = "N", default_value = "1e8", value_parser = parse_trials, allow_hyphen_values = true)]
    pub trials: u64,

    /// Worker threads (default: the number of available cores). Changes the speed, never the
    /// answer [example: --workers 4]
    #[arg(short, long, value_name = "N", value_parser = parse_workers, allow_hyphen_values = true)]
    pub workers: Option<NonZeroUsize>,

    /// Seed of the random streams: a whole number (default 0, so a repeat run gives the same
    /// answer) or `random` for a fresh one from the OS, shown in the report [example: --seed 42]
    #[arg(short, long, value_name = "SEED|random", default_value = "0", value_parser = parse_seed, allow_hyphen_values = true)]
    pub seed: SeedArg,

    /// Trials per chunk, the unit of parallel work and of random streams (default 4194304 =
    /// 2^22). Part of what determines the answer [example: --chunk-size 1e6]
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CHUNK_SIZE, value_parser = parse_chunk_size, allow_hyphen_values = true)]
    pub chunk_size: u64,

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
    /// `auto`: the shard of a Slurm job-array task or a Kubernetes Indexed Job pod
    /// [example: --shard 3/64]
    #[arg(long, value_name = "K/N|auto", value_parser = parse_shard_arg)]
    pub shard: Option<ShardArg>,

    /// How the result cache is used.
    #[command(flatten)]
    pub cache: CacheFlags,
}

/// The `--shard` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardArg {
    /// An explicit shard.
    Fixed(piest::part::ShardId),
    /// Read from the scheduler's environment.
    Auto,
}

/// `--shard`: `K/N` or `auto`.
pub fn parse_shard_arg(text: &str) -> Result<ShardArg, String> {
    if text.trim().eq_ignore_ascii_case("auto") {
        return Ok(ShardArg::Auto);
    }
    piest::scheduler::parse_shard(text).map(ShardArg::Fixed)
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

/// The `--seed` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedArg {
    /// A fixed seed.
    Fixed(u64),
    /// Draw a seed from the operating system.
    Random,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Time the estimate at several worker counts: speed-up, efficiency, serial fraction and an
    /// Amdahl fit [example: piest scale -n 1e9 -w 1,2,4]
    #[command(after_help = scale::EXAMPLES)]
    Scale(ScaleArgs),
    /// Write the exact random words the sampler consumes, as raw little-endian 64-bit words on
    /// stdout, for external test batteries (dieharder, PractRand): lanes interleaved, chunk after
    /// chunk [example: piest stream --seed 1 --chunks 0..8 | dieharder -g 200 -a]
    #[command(hide = true)]
    Stream(StreamArgs),

    /// Inspect or shrink the result cache of chunk counts [example: piest cache info]
    Cache(CacheArgs),

    /// Combine the parts written by `piest --shard K/N --json` into the estimate of the whole run,
    /// bit-identical to a single run's [example: piest merge part-*.json]
    Merge(MergeArgs),
}

/// Options of `piest merge`.
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

/// Options of `piest cache`.
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: CacheAction,

    /// Result cache directory (default: $PIEST_CACHE_DIR, else the platform cache directory)
    /// [example: --cache-dir /tmp/piest]
    #[arg(long, value_name = "DIR", global = true)]
    pub cache_dir: Option<PathBuf>,

    /// Print one JSON object instead of text [example: --json]
    #[arg(long, global = true)]
    pub json: bool,
}

/// `piest cache` subcommands.
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
}

/// Options of `piest cache prune` (at least one is required).
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Largest total size to keep: 50MB, 1.5GB (powers of 1000), 500KiB, 1GiB (powers of 1024)
    /// or plain bytes [example: --max-size 50MB]
    #[arg(long, value_name = "SIZE", value_parser = parse_size, allow_hyphen_values = true)]
    pub max_size: Option<u64>,

    /// Remove entries not used for longer than this: 30d, 12h, 90min, 2w [example: --older-than 30d]
    #[arg(long, value_name = "AGE", value_parser = parse_age, allow_hyphen_values = true)]
    pub older_than: Option<Duration>,
}

/// Options of `piest stream`.
#[derive(Debug, Args)]
pub struct StreamArgs {
    /// Seed whose streams to write [example: --seed 42]
    #[arg(short, long, default_value = "0", value_parser = parse_u64_seed)]
    pub seed: u64,

    /// Chunks to write: `A..B` (B excluded), `A..=B`, `A..` (no end) or one index `A`
    /// [example: --chunks 0..16]
    #[arg(long, value_name = "RANGE", default_value = "0..", value_parser = parse_chunk_range)]
    pub chunks: Range<u64>,

    /// Stop after this many words in all (default: every word of the chunks)
    /// [example: --words 1e9]
    #[arg(long, value_name = "N", value_parser = parse_trials)]
    pub words: Option<u64>,

    /// Trials (words) per chunk, as for an estimate [example: --chunk-size 1e6]
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CHUNK_SIZE, value_parser = parse_chunk_size, allow_hyphen_values = true)]
    pub chunk_size: u64,
}

/// Parses a positive whole count: digits with optional `_` separators, or decimal scientific
/// notation that denotes a whole number (`1e8`, `2.5e9`). The result is exact, never rounded.
pub fn parse_count(text: &str) -> Result<u64, String> {
    const HINT: &str = "expected a positive whole number such as 100000000, 100_000_000 or 1e8";
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("empty value: {HINT}"));
    }
    let lower = s.to_ascii_lowercase();
    if [
        "nan",
        "inf",
        "+inf",
        "-inf",
        "infinity",
        "+infinity",
        "-infinity",
    ]
    .contains(&lower.as_str())
    {
        return Err(format!("not a finite number: {HINT}"));
    }
    if lower.starts_with('-') {
        return Err(format!("must be positive: {HINT}"));
    }
    let body = lower.strip_prefix('+').unwrap_or(&lower);
    let (mantissa, exponent) = match body.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |part: &str| {
        part.chars().all(|c| c.is_ascii_digit() || c == '_')
            && !part.starts_with('_')
            && !part.ends_with('_')
    };
    if (int_part.is_empty() && frac_part.is_empty())
        || !digits_ok(int_part)
        || !digits_ok(frac_part)
    {
        return Err(format!("not a number: {HINT}"));
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!("not a number: {HINT}"));
            }
            // An exponent beyond ±1000 is out of range either way; keep the arithmetic small.
            e.parse::<i64>()
                .unwrap_or(if e.starts_with('-') { -1000 } else { 1000 })
                .clamp(-1000, 1000)
        }
    };
    let too_large = || format!("too large: the most is {} (about 1.8e19)", u64::MAX);
    let int_digits: String = int_part.chars().filter(|&c| c != '_').collect();
    let frac_digits: String = frac_part.chars().filter(|&c| c != '_').collect();
    // Drop zeros that do not change the value, so only significant digits are counted.
    let frac_digits = frac_digits.trim_end_matches('0');
    let all = format!("{int_digits}{frac_digits}");
    let significant = all.trim_start_matches('0');
    if significant.is_empty() {
        return Err("must be at least 1".into());
    }
    // value = significant · 10^(exponent − fraction digits)
    let scale = exponent - frac_digits.len() as i64;
    if significant.len() as i64 + scale > 20 {
        return Err(too_large());
    }
    let mut value: u128 = significant.parse().map_err(|_| too_large())?;
    if scale >= 0 {
        for _ in 0..scale {
            value *= 10;
        }
    } else {
        for _ in 0..-scale {
            if !value.is_multiple_of(10) {
                return Err(format!("must be a whole number: {HINT}"));
            }
            value /= 10;
        }
    }
    u64::try_from(value).map_err(|_| too_large())
}

/// `--trials` / `--words`: see [`parse_count`].
pub fn parse_trials(text: &str) -> Result<u64, String> {
    parse_count(text)
}

/// `--chunk-size`: a positive whole count, as `--trials`.
pub fn parse_chunk_size(text: &str) -> Result<u64, String> {
    parse_count(text)
}

/// `--workers` of an estimate: a whole number from 1 to [`MAX_WORKERS`].
pub fn parse_workers(text: &str) -> Result<NonZeroUsize, String> {
    let n: usize = text
        .trim()
        .parse()
        .map_err(|_| format!("must be a whole number from 1 to {MAX_WORKERS}"))?;
    match NonZeroUsize::new(n) {
        None => Err("must be at least 1".into()),
        Some(_) if n > MAX_WORKERS => Err(format!("at most {MAX_WORKERS} workers")),
        Some(n) => Ok(n),
    }
}

/// `--seed`: a whole number from 0 to 2^64 − 1 (with optional `_` separators), or `random`.
pub fn parse_seed(text: &str) -> Result<SeedArg, String> {
    if text.trim().eq_ignore_ascii_case("random") {
        return Ok(SeedArg::Random);
    }
    parse_u64_seed(text)
        .map(SeedArg::Fixed)
        .map_err(|e| format!("{e} or 'random'"))
}

/// A fixed seed: a whole number from 0 to 2^64 − 1.
pub fn parse_u64_seed(text: &str) -> Result<u64, String> {
    let s = text.trim();
    let digits: String = s.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("must be a whole number from 0 to {}", u64::MAX));
    }
    digits
        .parse()
        .map_err(|_| format!("too large: the most is {}", u64::MAX))
}

/// `--max-size`: a byte count with an optional SI (`MB`) or binary (`MiB`) unit.
pub fn parse_size(text: &str) -> Result<u64, String> {
    const HINT: &str = "expected a size such as 50MB, 500KiB or 1GiB";
    let s = text.trim();
    if s.is_empty() || !s.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("not a size: {HINT}"));
    }
    s.parse::<bytesize::ByteSize>()
        .map(|size| size.as_u64())
        .map_err(|_| format!("not a size: {HINT}"))
}

/// `--older-than`: a duration such as `30d`, `12h` or `1w 2d`.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|_| "not an age: expected a duration such as 30d, 12h or 90min".to_owned())
}

/// `--chunks`: `A..B`, `A..=B`, `A..` or `A`, with `A < end`.
pub fn parse_chunk_range(text: &str) -> Result<Range<u64>, String> {
    const HINT: &str = "expected A..B, A..=B, A.. or A (chunk indices)";
    let index = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("not a chunk range: {HINT}"))
    };
    let range = if let Some((a, b)) = text.split_once("..=") {
        let end = index(b)?
            .checked_add(1)
            .ok_or_else(|| format!("not a chunk range: {HINT}"))?;
        index(a)?..end
    } else if let Some((a, b)) = text.split_once("..") {
        let end = if b.trim().is_empty() {
            u64::MAX
        } else {
            index(b)?
        };
        index(a)?..end
    } else {
        let a = index(text)?;
        a..a.saturating_add(1)
    };
    if range.is_empty() {
        return Err(format!("empty chunk range: {HINT}"));
    }
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn counts_in_every_documented_form() {
        for (text, value) in [
            ("100000000", 100_000_000),
            ("100_000_000", 100_000_000),
            ("1e8", 100_000_000),
            ("1E8", 100_000_000),
            ("1e+8", 100_000_000),
            ("2.5e9", 2_500_000_000),
            ("2.50e9", 2_500_000_000),
            ("0.5e1", 5),
            ("1", 1),
            ("007", 7),
            ("1.0", 1),
            ("18446744073709551615", u64::MAX),
            ("1.8446744073709551615e19", u64::MAX),
            ("1e19", 10_000_000_000_000_000_000),
        ] {
            assert_eq!(parse_count(text), Ok(value), "{text}");
        }
        // 1e8 is exactly 10^8, not a rounded float.
        assert_eq!(parse_count("1e8").unwrap(), 10u64.pow(8));
        assert_eq!(parse_count("120e-1"), Ok(12));
    }

    #[test]
    fn bad_counts_are_refused_with_a_reason() {
        for (text, reason) in [
            ("0", "at least 1"),
            ("0e5", "at least 1"),
            ("0.0", "at least 1"),
            ("-5", "positive"),
            ("1.5", "whole number"),
            ("12e-1", "whole number"),
            ("abc", "not a number"),
            ("1e30", "too large"),
            ("18446744073709551616", "too large"),
            ("1e999999999999", "too large"),
            ("nan", "not a finite number"),
            ("NaN", "not a finite number"),
            ("inf", "not a finite number"),
            ("-inf", "not a finite number"),
            ("", "empty"),
            ("  ", "empty"),
            ("1e", "not a number"),
            ("e8", "not a number"),
            (".", "not a number"),
            ("1_", "not a number"),
            ("1,000", "not a number"),
            ("0x10", "not a number"),
            ("1e8.5", "not a number"),
        ] {
            let err = parse_count(text).expect_err(text);
            assert!(err.contains(reason), "{text}: {err}");
        }
    }

    #[test]
    fn tiny_exponents_never_turn_a_fraction_into_a_count() {
        assert!(parse_count("1e-999999").is_err());
        assert!(parse_count("5e-1").is_err());
    }

    #[test]
    fn workers_are_validated() {
        assert_eq!(parse_workers("4").unwrap().get(), 4);
        assert!(parse_workers("0").unwrap_err().contains("at least 1"));
        assert!(parse_workers("-1").is_err());
        assert!(parse_workers("two").is_err());
        assert!(parse_workers("100000").unwrap_err().contains("at most"));
    }

    #[test]
    fn seeds_are_numbers_or_random() {
        assert_eq!(parse_seed("42"), Ok(SeedArg::Fixed(42)));
        assert_eq!(parse_seed("random"), Ok(SeedArg::Random));
        assert_eq!(
            parse_seed("18446744073709551615"),
            Ok(SeedArg::Fixed(u64::MAX))
        );
        assert!(
            parse_seed("18446744073709551616")
                .unwrap_err()
                .contains("too large")
        );
        assert!(parse_seed("-1").is_err());
        assert!(parse_seed("").is_err());
    }

    #[test]
    fn sizes_take_si_and_binary_units() {
        for (text, bytes) in [
            ("50MB", 50_000_000),
            ("50 MB", 50_000_000),
            ("1GiB", 1 << 30),
            ("500KiB", 500 << 10),
            ("1.5GB", 1_500_000_000),
            ("1234", 1234),
            ("0", 0),
        ] {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
        for text in ["", "MB", "-5MB", "50XB", "1e9", "fifty"] {
            assert!(parse_size(text).unwrap_err().contains("50MB"), "{text}");
        }
    }

    #[test]
    fn ages_are_human_durations() {
        assert_eq!(parse_age("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_age("1w 2d"), Ok(Duration::from_secs(9 * 86_400)));
        for text in ["", "30", "-1d", "soon", "3x"] {
            assert!(parse_age(text).unwrap_err().contains("30d"), "{text}");
        }
    }

    #[test]
    fn chunk_ranges() {
        assert_eq!(parse_chunk_range("0..8"), Ok(0..8));
        assert_eq!(parse_chunk_range("2..=3"), Ok(2..4));
        assert_eq!(parse_chunk_range("5.."), Ok(5..u64::MAX));
        assert_eq!(parse_chunk_range("7"), Ok(7..8));
        assert!(parse_chunk_range("4..2").is_err());
        assert!(parse_chunk_range("3..3").is_err());
        assert!(parse_chunk_range("a..b").is_err());
    }
}
