//! The value parsers of the command line that are particular to it: shards, chunk ranges, a
//! sweep's worker list, target errors, darts and plot paths. Every plain value (counts, seeds,
//! worker counts, durations, sizes, fractions) is parsed by [`piest::values`], the grammar every
//! front end shares; each parser here builds on it.

use std::ffi::OsString;
use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::PathBuf;

use piest::values::{self, ValueError};

pub use piest::values::MAX_WORKERS;

/// Most runs (or warm-up runs) per worker count: far more than any useful sweep, few enough that
/// a typo cannot start a sweep that never ends.
pub const MAX_RUNS: u64 = 10_000;

/// The `--shard` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardArg {
    /// An explicit shard `K/N`.
    Fixed(piest::part::ShardId),
    /// Read from the scheduler's environment (`auto`).
    Auto,
}

/// `--shard`: `K/N` with `0 ≤ K < N`, or `auto`.
pub fn parse_shard(text: &str) -> Result<ShardArg, String> {
    if text.trim().eq_ignore_ascii_case("auto") {
        return Ok(ShardArg::Auto);
    }
    piest::scheduler::parse_shard(text).map(ShardArg::Fixed)
}

/// The largest chunk index `--chunks` accepts: ranges end before `u64::MAX`, so the last index
/// is one less.
pub const LAST_CHUNK: u64 = u64::MAX - 1;

/// `--chunks`: `A..B`, `A..=B`, `A..` or `A`, with `A < end`, each index in the shared
/// grammar (`0..1e6`). Indices run from 0 to [`LAST_CHUNK`]; `A..` runs to the last.
pub fn parse_chunk_range(text: &str) -> Result<Range<u64>, String> {
    const HINT: &str = "expected A..B, A..=B, A.. or A (chunk indices)";
    let index = |s: &str| {
        values::whole(s, 0, LAST_CHUNK).map_err(|e| format!("chunk index '{}': {e}", s.trim()))
    };
    let range = if let Some((a, b)) = text.split_once("..=") {
        // An inclusive end: the index itself must exist.
        index(a)?..index(b)? + 1
    } else if let Some((a, b)) = text.split_once("..") {
        let end = if b.trim().is_empty() {
            u64::MAX
        } else {
            values::whole(b, 0, u64::MAX)
                .map_err(|e| format!("chunk range end '{}': {e}", b.trim()))?
        };
        index(a)?..end
    } else {
        let a = index(text)?;
        a..a + 1
    };
    if range.is_empty() {
        return Err(format!(
            "empty chunk range: the start must come before the end ({HINT})"
        ));
    }
    Ok(range)
}

/// What a sweep's `--workers` list may look like.
const LIST_HINT: &str =
    "expected a list such as 1,2,4, a range such as 1..=8, or powers-of-two[:N]";

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
    let worker = |item: &str| {
        values::workers(item).map_err(|e| format!("worker count '{}': {e}", item.trim()))
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("empty list: {LIST_HINT}"));
    }
    let lower = s.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("powers-of-two") {
        return match rest.strip_prefix(':') {
            None if rest.is_empty() => Ok(WorkerList::PowersOfTwo(None)),
            Some(n) => Ok(WorkerList::PowersOfTwo(Some(worker(n)?))),
            None => Err(format!("'{s}' is not a worker list: {LIST_HINT}")),
        };
    }
    let mut counts = Vec::new();
    for item in s.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(format!("empty item in '{s}': {LIST_HINT}"));
        }
        let (first, last) = if let Some((a, b)) = item.split_once("..=") {
            (worker(a)?, worker(b)?.get())
        } else if let Some((a, b)) = item.split_once("..") {
            // `A..B` excludes B; `A..` has no end to stop at.
            if b.trim().is_empty() {
                return Err(format!(
                    "range '{item}' has no end: write A..B (B excluded) or A..=B"
                ));
            }
            (worker(a)?, worker(b)?.get() - 1)
        } else {
            let n = worker(item)?;
            (n, n.get())
        };
        if last < first.get() {
            return Err(format!(
                "empty range '{item}': it holds no worker count (A..B excludes B; A..=B includes it)"
            ));
        }
        counts.extend((first.get()..=last).filter_map(NonZeroUsize::new));
    }
    counts.sort_unstable();
    counts.dedup();
    Ok(WorkerList::Counts(counts))
}

/// `--runs`: a whole number from 1 to [`MAX_RUNS`].
pub fn parse_runs(text: &str) -> Result<usize, ValueError> {
    values::whole(text, 1, MAX_RUNS).map(|n| n as usize)
}

/// `--warmup`: a whole number from 0 to [`MAX_RUNS`].
pub fn parse_warmup(text: &str) -> Result<usize, ValueError> {
    values::whole(text, 0, MAX_RUNS).map(|n| n as usize)
}

/// `--target-error`: a positive number such as `1e-5` or `0.0001`, no smaller than
/// [`piest::stats::stopping::MIN_TARGET`].
pub fn parse_target_error(text: &str) -> Result<f64, String> {
    const HINT: &str = "expected a positive number such as 1e-4 or 0.001 (a half-width on π)";
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("not a number: {HINT}"))?;
    if value.is_nan() {
        return Err(format!("not a number: {HINT}"));
    }
    if value.is_infinite() && value > 0.0 {
        return Err(format!("must be finite: {HINT}"));
    }
    if value <= 0.0 {
        return Err(format!("must be positive: {HINT}"));
    }
    piest::stats::stopping::StoppingRule::new(value).map_err(|e| e.to_string())?;
    Ok(value)
}

/// `--method`: a method's name ([`piest::sampler::Method::from_name`]).
pub fn parse_method(text: &str) -> Result<piest::sampler::Method, String> {
    piest::sampler::Method::from_name(text).map_err(|e| e.to_string())
}

/// Most darts `piest darts` draws: 100,000 `<circle>` elements make an SVG of about 10 MB.
pub const MAX_DARTS: u64 = 100_000;

/// `piest darts -n`: a count as `--trials`, at most [`MAX_DARTS`].
pub fn parse_darts(text: &str) -> Result<u64, String> {
    let n = values::count(text).map_err(|e| e.to_string())?;
    if n > MAX_DARTS {
        return Err(format!(
            "at most {MAX_DARTS} darts (one SVG circle each); for more trials run an estimate"
        ));
    }
    Ok(n)
}

/// `--plot`: a path ending in `.svg`, the only format drawn. Any bytes the OS allows in a path
/// are accepted, as for every other path.
pub fn parse_plot_path(text: OsString) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    let is_svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    if !is_svg || path.file_stem().is_none() {
        return Err("must name an .svg file such as scale.svg (the plot is drawn as SVG)".into());
    }
    Ok(path)
}

/// The clap value parser of `--plot`: [`parse_plot_path`] on the raw argument.
pub fn plot_path() -> impl clap::builder::TypedValueParser<Value = PathBuf> {
    use clap::builder::TypedValueParser;
    clap::builder::OsStringValueParser::new().try_map(parse_plot_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_errors_are_positive_numbers_above_the_floor() {
        assert_eq!(parse_target_error("1e-5"), Ok(1e-5));
        assert_eq!(parse_target_error(" 0.001 "), Ok(0.001));
        for (text, reason) in [
            ("0", "positive"),
            ("-1e-3", "positive"),
            ("abc", "not a number"),
            ("nan", "not a number"),
            ("inf", "finite"),
            ("-inf", "positive"),
            ("1e400", "finite"),
            ("1e-9", "lattice bias"),
            ("", "not a number"),
        ] {
            let err = parse_target_error(text).expect_err(text);
            assert!(err.contains(reason), "{text}: {err}");
        }
    }

    #[test]
    fn darts_are_counted_up_to_the_limit() {
        assert_eq!(parse_darts("2000"), Ok(2000));
        assert_eq!(parse_darts("1e5"), Ok(100_000));
        assert!(parse_darts("100001").unwrap_err().contains("at most"));
        assert!(parse_darts("0").is_err());
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
        // At the top of the u64 range the reason is the index, not the form of the range.
        let max = u64::MAX.to_string();
        assert_eq!(
            parse_chunk_range(&format!("{LAST_CHUNK}")),
            Ok(LAST_CHUNK..u64::MAX)
        );
        assert_eq!(
            parse_chunk_range(&format!("0..={LAST_CHUNK}")),
            Ok(0..u64::MAX)
        );
        for bad in [max.clone(), format!("0..={max}"), format!("{max}..")] {
            let err = parse_chunk_range(&bad).unwrap_err();
            assert!(
                err.contains("too large: the most is 18446744073709551614"),
                "{bad}: {err}"
            );
        }
        assert!(
            parse_chunk_range("0..99999999999999999999")
                .unwrap_err()
                .contains("too large")
        );
        // Indices are whole numbers in the shared grammar.
        assert_eq!(parse_chunk_range("1e3..2e3"), Ok(1000..2000));
        assert!(parse_chunk_range("_1..2").is_err());
        assert!(parse_chunk_range("4..2").unwrap_err().contains("empty"));
    }

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
            ("a,b", "worker count 'a': not a number"),
            ("1,,2", "empty item"),
            ("1,2,", "empty item"),
            ("4..2", "empty range '4..2'"),
            ("4..=3", "empty range"),
            ("2..2", "empty range"),
            ("1..", "has no end"),
            ("-1", "at least 1"),
            ("1.5", "whole number"),
            ("_1", "not a number"),
            ("2000", "the most is 1024"),
            ("1..=5000", "the most is 1024"),
            ("powers-of-two:0", "at least 1"),
            ("powers-of-two:x", "not a number"),
            ("powers-of-twelve", "worker count 'powers-of-twelve'"),
            ("powers-of-twofold", "not a worker list"),
        ] {
            let err = parse_worker_list(text).expect_err(text);
            assert!(err.contains(reason), "{text}: {err}");
        }
    }

    #[test]
    fn runs_warmup_and_plot_paths() {
        assert_eq!(parse_runs("5"), Ok(5));
        // Every refusal states the real range.
        for bad in ["0", "x", "100000", "99999999999999999999999", "-1"] {
            let err = parse_runs(bad).unwrap_err().to_string();
            assert!(err.contains("from 1 to 10000"), "{bad}: {err}");
        }
        assert!(
            parse_warmup("x")
                .unwrap_err()
                .to_string()
                .contains("from 0 to 10000")
        );
        assert_eq!(parse_runs("1e2"), Ok(100));
        assert_eq!(parse_warmup("0"), Ok(0));
        assert!(parse_warmup("-1").is_err());
        let plot = |p: &str| parse_plot_path(p.into());
        assert!(plot("out/scale.SVG").is_ok());
        assert!(plot("scale.png").unwrap_err().contains(".svg"));
        assert!(plot("scale").is_err());
        assert!(plot("").is_err());
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let bytes = OsString::from_vec(b"caf\xe9.svg".to_vec());
            assert!(parse_plot_path(bytes).is_ok());
        }
    }
}
