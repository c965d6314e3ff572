//! The `piest scale` subcommand's options and the parsers of its worker lists, run counts and
//! plot path.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{ArgGroup, Args};
use piest::plan::DEFAULT_CHUNK_SIZE;

use super::{MAX_WORKERS, SeedArg, parse_chunk_size, parse_seed, parse_trials};

/// Most runs (or warm-up runs) per worker count: far more than any useful sweep, few enough that
/// a typo cannot start a sweep that never ends.
pub const MAX_RUNS: usize = 10_000;

const HINT: &str = "expected a list such as 1,2,4, a range such as 1..=8, or powers-of-two[:N]";

/// Examples shown at the end of `piest scale --help`.
pub const EXAMPLES: &str = "\
Examples:
  piest scale --trials 1e9 --workers 1,2,4           time 1, 2 and 4 workers, 5 runs each
  piest scale -w 1..=8 --runs 10 --markdown          a Markdown table to paste in an issue
  piest scale -w powers-of-two:32 --plot scale.svg   1, 2, 4, …, 32 workers, with a plot
  piest scale --json > sweep.json                    every raw timing as JSON

Runs are interleaved across worker counts (1, 2, 4, 1, 2, 4, …) after the warm-up, and every
run must count the same inside points. Each timing covers one whole run, thread-pool start-up
included; the result cache is not used.";

/// Options of `piest scale`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("format").args(["json", "csv", "markdown"])))]
pub struct ScaleArgs {
    /// Random points per run, as for an estimate [example: --trials 1e9]
    #[arg(short = 'n', long, value_name = "N", default_value = "1e8", value_parser = parse_trials, allow_hyphen_values = true)]
    pub trials: u64,

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

    /// Seed of every run, as for an estimate: a whole number or `random` [example: --seed 42]
    #[arg(short, long, value_name = "SEED|random", default_value = "0", value_parser = parse_seed, allow_hyphen_values = true)]
    pub seed: SeedArg,

    /// Trials per chunk, as for an estimate (default 4194304 = 2^22). A run cannot keep more
    /// workers busy than it has chunks [example: --chunk-size 1e6]
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CHUNK_SIZE, value_parser = parse_chunk_size, allow_hyphen_values = true)]
    pub chunk_size: u64,

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
    #[arg(long, value_name = "FILE.svg", value_parser = parse_plot_path)]
    pub plot: Option<PathBuf>,
}

/// The `--workers` value of `piest scale`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkerList {
    /// These worker counts: increasing, without repeats.
    Counts(Vec<NonZeroUsize>),
    /// 1, 2, 4, … up to the given count (default: twice the cores).
    PowersOfTwo(Option<NonZeroUsize>),
}

/// Parses `--workers`: comma-separated items, each a count `4`, a range `1..=8` or `1..8` (end
/// excluded, as in Rust and `--chunks`); or `powers-of-two` / `powers-of-two:N`. Counts run from
/// 1 to [`MAX_WORKERS`]; the result is sorted and repeats are dropped.
pub fn parse_worker_list(text: &str) -> Result<WorkerList, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("empty list: {HINT}"));
    }
    let lower = s.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("powers-of-two") {
        return match rest.strip_prefix(':') {
            None if rest.is_empty() => Ok(WorkerList::PowersOfTwo(None)),
            Some(n) => Ok(WorkerList::PowersOfTwo(Some(count(n)?))),
            None => Err(format!("'{s}' is not a worker list: {HINT}")),
        };
    }
    let mut counts = Vec::new();
    for item in s.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(format!("empty item in '{s}': {HINT}"));
        }
        let (first, last) = if let Some((a, b)) = item.split_once("..=") {
            (count(a)?, count(b)?.get())
        } else if let Some((a, b)) = item.split_once("..") {
            // `A..B` excludes B; `A..` has no end to stop at.
            let end = count(b).map_err(|e| format!("{e} (in range '{item}')"))?;
            (count(a)?, end.get() - 1)
        } else {
            let n = count(item)?;
            (n, n.get())
        };
        if last < first.get() {
            return Err(format!(
                "empty range '{item}': the end must not be below the start"
            ));
        }
        counts.extend((first.get()..=last).filter_map(NonZeroUsize::new));
    }
    counts.sort_unstable();
    counts.dedup();
    Ok(WorkerList::Counts(counts))
}

/// One worker count of a list: a whole number from 1 to [`MAX_WORKERS`].
fn count(text: &str) -> Result<NonZeroUsize, String> {
    let t = text.trim();
    let n: usize = t
        .parse()
        .map_err(|_| format!("'{t}' is not a worker count: {HINT}"))?;
    match NonZeroUsize::new(n) {
        None => Err(format!("worker counts must be at least 1, not '{t}'")),
        Some(_) if n > MAX_WORKERS => Err(format!("at most {MAX_WORKERS} workers, not '{t}'")),
        Some(n) => Ok(n),
    }
}

/// `--runs`: a whole number from 1 to [`MAX_RUNS`].
pub fn parse_runs(text: &str) -> Result<usize, String> {
    match parse_small(text)? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

/// `--warmup`: a whole number from 0 to [`MAX_RUNS`].
pub fn parse_warmup(text: &str) -> Result<usize, String> {
    parse_small(text)
}

fn parse_small(text: &str) -> Result<usize, String> {
    let n: usize = text
        .trim()
        .parse()
        .map_err(|_| format!("must be a whole number from 0 to {MAX_RUNS}"))?;
    if n > MAX_RUNS {
        return Err(format!("at most {MAX_RUNS}"));
    }
    Ok(n)
}

/// `--plot`: a path ending in `.svg`, the only format drawn.
pub fn parse_plot_path(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    let is_svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    if !is_svg || path.file_stem().is_none() {
        return Err("must name an .svg file such as scale.svg (the plot is drawn as SVG)".into());
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(text: &str) -> Vec<usize> {
        match parse_worker_list(text) {
            Ok(WorkerList::Counts(c)) => c.into_iter().map(NonZeroUsize::get).collect(),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn lists_ranges_and_mixes() {
        assert_eq!(counts("1,2,4"), [1, 2, 4]);
        assert_eq!(counts(" 4, 1 ,2 "), [1, 2, 4]);
        assert_eq!(counts("1..=8"), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(counts("1..8"), [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(counts("1,2,4..=6,2"), [1, 2, 4, 5, 6]);
        assert_eq!(counts("3"), [3]);
        assert_eq!(counts("2..=2"), [2]);
        assert_eq!(counts("1024"), [1024]);
    }

    #[test]
    fn powers_of_two() {
        assert_eq!(
            parse_worker_list("powers-of-two"),
            Ok(WorkerList::PowersOfTwo(None))
        );
        assert_eq!(
            parse_worker_list("Powers-Of-Two:16"),
            Ok(WorkerList::PowersOfTwo(NonZeroUsize::new(16)))
        );
    }

    #[test]
    fn bad_lists_are_refused_with_a_reason() {
        for (text, reason) in [
            ("", "empty list"),
            ("  ", "empty list"),
            ("0", "at least 1"),
            ("0..=4", "at least 1"),
            ("a,b", "'a' is not a worker count"),
            ("1,,2", "empty item"),
            ("1,2,", "empty item"),
            ("4..2", "empty range '4..2'"),
            ("4..=3", "empty range"),
            ("2..2", "empty range"),
            ("1..", "is not a worker count"),
            ("-1", "not a worker count"),
            ("1.5", "not a worker count"),
            ("2000", "at most 1024"),
            ("1..=5000", "at most 1024"),
            ("powers-of-two:0", "at least 1"),
            ("powers-of-two:x", "not a worker count"),
            ("powers-of-twelve", "not a worker count"),
            ("powers-of-twofold", "not a worker list"),
        ] {
            let err = parse_worker_list(text).expect_err(text);
            assert!(err.contains(reason), "{text}: {err}");
        }
    }

    #[test]
    fn runs_warmup_and_plot_paths() {
        assert_eq!(parse_runs("5"), Ok(5));
        assert!(parse_runs("0").unwrap_err().contains("at least 1"));
        assert!(parse_runs("x").is_err());
        assert!(parse_runs("100000").unwrap_err().contains("at most"));
        assert_eq!(parse_warmup("0"), Ok(0));
        assert!(parse_warmup("-1").is_err());
        assert!(parse_plot_path("out/scale.SVG").is_ok());
        assert!(parse_plot_path("scale.png").unwrap_err().contains(".svg"));
        assert!(parse_plot_path("scale").is_err());
        assert!(parse_plot_path("").is_err());
    }
}
