//! The value parsers of the command line: each flag's text becomes a typed value or a message
//! saying what was wrong and what would be right. One parser per kind of value: counts, seeds,
//! worker counts (alone or in a sweep's list), sizes, ages, chunk ranges, plot paths.

use std::num::NonZeroUsize;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

/// Most worker threads accepted: far above any core count piest is run on, low enough that a
/// typo cannot ask the OS for a million threads.
pub const MAX_WORKERS: usize = 1024;

/// Most runs (or warm-up runs) per worker count: far more than any useful sweep, few enough that
/// a typo cannot start a sweep that never ends.
pub const MAX_RUNS: usize = 10_000;

/// The `--seed` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedArg {
    /// A fixed seed.
    Fixed(u64),
    /// Draw a seed from the operating system.
    Random,
}

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

/// A worker count, the `--workers` of an estimate and each count of a sweep's list: a whole
/// number from 1 to [`MAX_WORKERS`].
pub fn parse_workers(text: &str) -> Result<NonZeroUsize, String> {
    let t = text.trim();
    let n: usize = t.parse().map_err(|_| {
        format!("'{t}' is not a worker count: expected a whole number from 1 to {MAX_WORKERS}")
    })?;
    match NonZeroUsize::new(n) {
        None => Err(format!("worker counts must be at least 1, not '{t}'")),
        Some(_) if n > MAX_WORKERS => Err(format!("at most {MAX_WORKERS} workers, not '{t}'")),
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

/// `--sample`: a fraction above 0 and at most 1 (`0.1`, `1e-3`, `1`).
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    const HINT: &str = "expected a fraction above 0 and at most 1, such as 0.1";
    match text.trim().parse::<f64>() {
        Ok(f) if f > 0.0 && f <= 1.0 => Ok(f),
        Ok(_) => Err(format!("out of range: {HINT}")),
        Err(_) => Err(format!("not a number: {HINT}")),
    }
}

/// `--older-than`: a duration such as `30d`, `12h` or `1w 2d`.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|_| "not an age: expected a duration such as 30d, 12h or 90min".to_owned())
}

/// The largest chunk index `--chunks` accepts: ranges end before `u64::MAX`, so the last index
/// is one less.
pub const LAST_CHUNK: u64 = u64::MAX - 1;

/// `--chunks`: `A..B`, `A..=B`, `A..` or `A`, with `A < end`. Indices run from 0 to
/// [`LAST_CHUNK`]; `A..` runs to the last.
pub fn parse_chunk_range(text: &str) -> Result<Range<u64>, String> {
    const HINT: &str = "expected A..B, A..=B, A.. or A (chunk indices)";
    let index = |s: &str| {
        let s = s.trim();
        match s.parse::<u64>() {
            Ok(i) => Ok(i),
            Err(_) if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) => Err(format!(
                "chunk index {s} is too large: the last chunk index is {LAST_CHUNK}"
            )),
            Err(_) => Err(format!("not a chunk range: {HINT}")),
        }
    };
    // An inclusive end, or a single index: the index itself must exist.
    let last = |i: u64| {
        if i > LAST_CHUNK {
            Err(format!(
                "chunk index {i} is too large: the last chunk index is {LAST_CHUNK}"
            ))
        } else {
            Ok(i + 1)
        }
    };
    let range = if let Some((a, b)) = text.split_once("..=") {
        index(a)?..last(index(b)?)?
    } else if let Some((a, b)) = text.split_once("..") {
        let end = if b.trim().is_empty() {
            u64::MAX
        } else {
            index(b)?
        };
        index(a)?..end
    } else {
        let a = index(text)?;
        a..last(a)?
    };
    if range.start > LAST_CHUNK {
        return Err(format!(
            "chunk index {} is too large: the last chunk index is {LAST_CHUNK}",
            range.start
        ));
    }
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
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("empty list: {LIST_HINT}"));
    }
    let lower = s.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("powers-of-two") {
        return match rest.strip_prefix(':') {
            None if rest.is_empty() => Ok(WorkerList::PowersOfTwo(None)),
            Some(n) => Ok(WorkerList::PowersOfTwo(Some(parse_workers(n)?))),
            None => Err(format!("'{s}' is not a worker list: {LIST_HINT}")),
        };
    }
    let mut counts = Vec::new();
    for item in s.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(format!("empty item in '{s}': {LIST_HINT}"));
        }
        let (first, last) = if let Some((a, b)) = item.split_once("..=") {
            (parse_workers(a)?, parse_workers(b)?.get())
        } else if let Some((a, b)) = item.split_once("..") {
            // `A..B` excludes B; `A..` has no end to stop at.
            if b.trim().is_empty() {
                return Err(format!(
                    "range '{item}' has no end: write A..B (B excluded) or A..=B"
                ));
            }
            let end = parse_workers(b).map_err(|e| format!("{e} (in range '{item}')"))?;
            (parse_workers(a)?, end.get() - 1)
        } else {
            let n = parse_workers(item)?;
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
pub fn parse_runs(text: &str) -> Result<usize, String> {
    parse_small(text, 1)
}

/// `--warmup`: a whole number from 0 to [`MAX_RUNS`].
pub fn parse_warmup(text: &str) -> Result<usize, String> {
    parse_small(text, 0)
}

/// A whole number from `least` to [`MAX_RUNS`]; every refusal states that range.
fn parse_small(text: &str, least: usize) -> Result<usize, String> {
    let range = format!("expected a whole number from {least} to {MAX_RUNS}");
    let t = text.trim();
    let digits = !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    match t.parse::<usize>() {
        Ok(n) if n < least => Err(format!("too few: {range}")),
        Ok(n) if n > MAX_RUNS => Err(format!("too many: {range}")),
        Ok(n) => Ok(n),
        Err(_) if digits => Err(format!("too many: {range}")),
        Err(_) => Err(format!("not a number: {range}")),
    }
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

/// `--max-time`: a positive duration, `30s`, `2m`, `1h 30m`, or a bare number of seconds.
pub fn parse_max_time(text: &str) -> Result<Duration, String> {
    const HINT: &str = "expected a positive duration such as 30s, 2m, 1h or 90 (seconds)";
    let s = text.trim();
    let duration = match s.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 => {
            Duration::try_from_secs_f64(seconds).map_err(|_| format!("too long: {HINT}"))?
        }
        Ok(seconds) if seconds.is_nan() => return Err(format!("not a duration: {HINT}")),
        Ok(seconds) if seconds.is_infinite() && seconds > 0.0 => {
            return Err(format!("must be finite: {HINT}"));
        }
        Ok(_) => return Err(format!("must be positive: {HINT}")),
        Err(_) if s.starts_with('-') => return Err(format!("must be positive: {HINT}")),
        Err(_) => humantime::parse_duration(s).map_err(|_| format!("not a duration: {HINT}"))?,
    };
    if duration.is_zero() {
        return Err(format!("must be positive: {HINT}"));
    }
    Ok(duration)
}

/// Most darts `piest darts` draws: 100,000 `<circle>` elements make an SVG of about 10 MB.
pub const MAX_DARTS: u64 = 100_000;

/// `piest darts -n`: a count as `--trials`, at most [`MAX_DARTS`].
pub fn parse_darts(text: &str) -> Result<u64, String> {
    let n = parse_count(text)?;
    if n > MAX_DARTS {
        return Err(format!(
            "at most {MAX_DARTS} darts (one SVG circle each); for more trials run an estimate"
        ));
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
    fn max_times_are_positive_durations_or_seconds() {
        assert_eq!(parse_max_time("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_max_time("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_max_time("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_max_time("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_max_time("0.5"), Ok(Duration::from_millis(500)));
        for (text, reason) in [
            ("0", "positive"),
            ("0s", "positive"),
            ("-5", "positive"),
            ("-5s", "positive"),
            ("abc", "not a duration"),
            ("5 parsecs", "not a duration"),
            ("", "not a duration"),
            ("nan", "not a duration"),
            ("inf", "finite"),
            ("1e300", "too long"),
        ] {
            let err = parse_max_time(text).expect_err(text);
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
    fn fractions_lie_above_zero_and_at_most_one() {
        assert_eq!(parse_fraction("0.1"), Ok(0.1));
        assert_eq!(parse_fraction("1"), Ok(1.0));
        assert_eq!(parse_fraction("1e-3"), Ok(0.001));
        for bad in ["0", "-0.5", "1.5", "nan", "inf", "x", ""] {
            assert!(parse_fraction(bad).is_err(), "{bad}");
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
        for bad in [
            max.clone(),
            format!("0..={max}"),
            format!("{max}.."),
            "0..99999999999999999999".into(),
        ] {
            let err = parse_chunk_range(&bad).unwrap_err();
            assert!(
                err.contains("the last chunk index is 18446744073709551614"),
                "{bad}: {err}"
            );
        }
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
            ("a,b", "'a' is not a worker count"),
            ("1,,2", "empty item"),
            ("1,2,", "empty item"),
            ("4..2", "empty range '4..2'"),
            ("4..=3", "empty range"),
            ("2..2", "empty range"),
            ("1..", "has no end"),
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
        // Every refusal states the real range.
        for bad in ["0", "x", "100000", "99999999999999999999999", "-1"] {
            let err = parse_runs(bad).unwrap_err();
            assert!(err.contains("from 1 to 10000"), "{bad}: {err}");
        }
        assert!(parse_warmup("x").unwrap_err().contains("from 0 to 10000"));
        assert_eq!(parse_warmup("0"), Ok(0));
        assert!(parse_warmup("-1").is_err());
        assert!(parse_plot_path("out/scale.SVG").is_ok());
        assert!(parse_plot_path("scale.png").unwrap_err().contains(".svg"));
        assert!(parse_plot_path("scale").is_err());
        assert!(parse_plot_path("").is_err());
    }
}
