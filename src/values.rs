//! The grammar of every value a user writes: whole numbers (counts, seeds, worker counts,
//! bounded numbers), durations, byte sizes and fractions. The command line and any other front
//! end validate with these functions, so that one text means one value everywhere and each
//! refusal is worded once ([`ValueError`]'s `Display` is the message a user sees).
//!
//! Whole numbers are digits with `_` between them (`100_000_000`), or decimal scientific
//! notation that denotes a whole number (`1e8`, `2.5e9`, `120e-1`), computed exactly, never
//! through a float. Durations are a number of seconds (`90`, `1e3`) or numbers with units
//! (`30s`, `1e3ms`, `1h 30m`); sizes are bytes with an optional unit (`50MB`, `1GiB`, `1e9`) and
//! must come to a whole number of bytes. This module reads nothing but its argument.

use std::fmt;
use std::num::NonZeroUsize;
use std::time::Duration;

/// Most worker threads accepted: far above any core count, low enough that a typo cannot ask
/// the OS for a million threads.
pub const MAX_WORKERS: usize = 1024;

/// What was wrong with a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Nothing but spaces.
    Empty,
    /// Not in the grammar at all (`abc`, `1,000`, `_1`, `nan`).
    NotANumber,
    /// An infinity.
    NotFinite,
    /// A fraction where a whole number is needed (`1.5`, `12e-1`, half a byte).
    NotWhole,
    /// Zero or negative where only a positive value is accepted (durations, fractions).
    NotPositive,
    /// Below the least value accepted.
    TooSmall {
        /// The least value accepted, as written in the message.
        least: String,
    },
    /// Above the largest value accepted.
    TooLarge {
        /// The largest value accepted, as written in the message.
        most: String,
    },
    /// A duration longer than can be represented.
    TooLong,
    /// A unit that is not one of the kind's units.
    UnknownUnit(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Empty => f.write_str("empty value"),
            Problem::NotANumber => f.write_str("not a number"),
            Problem::NotFinite => f.write_str("must be finite"),
            Problem::NotWhole => f.write_str("must be a whole number"),
            Problem::NotPositive => f.write_str("must be positive"),
            Problem::TooSmall { least } => write!(f, "must be at least {least}"),
            Problem::TooLarge { most } => write!(f, "too large: the most is {most}"),
            Problem::TooLong => write!(f, "too long: the most is {} seconds", u64::MAX),
            Problem::UnknownUnit(unit) => write!(f, "unknown unit '{unit}'"),
        }
    }
}

/// The kind of value that was expected: the second half of every message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// A positive whole number ([`count`]).
    Count,
    /// A whole number within bounds ([`whole`], [`workers`]).
    Whole { least: u64, most: u64 },
    /// A seed ([`seed`]).
    Seed,
    /// A positive duration ([`duration`]).
    Duration,
    /// A duration that may be zero ([`age`]).
    Age,
    /// A byte size ([`size`]).
    Size,
    /// A fraction above 0 and at most 1 ([`fraction`]).
    Fraction,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Count => {
                f.write_str("a positive whole number such as 100000000, 100_000_000 or 1e8")
            }
            Expected::Whole { least, most } => {
                write!(f, "a whole number from {least} to {most}")
            }
            Expected::Seed => write!(f, "a whole number from 0 to {} or 'random'", u64::MAX),
            Expected::Duration => {
                f.write_str("a positive duration such as 30s, 2m, 1h 30m or 90 (seconds)")
            }
            Expected::Age => f.write_str("an age such as 30d, 12h or 90min"),
            Expected::Size => f.write_str("a size such as 50MB, 500KiB, 1GiB or 1e9 (bytes)"),
            Expected::Fraction => f.write_str("a fraction above 0 and at most 1, such as 0.1"),
        }
    }
}

/// A value refused: what was wrong, and what was expected. `Display` is the whole message,
/// `"<problem>: expected <kind>"`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{problem}: expected {expected}")]
pub struct ValueError {
    pub problem: Problem,
    pub expected: Expected,
}

/// A seed: a fixed one, or one to draw from the operating system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seed {
    Fixed(u64),
    /// `random`: draw one ([`Seed::resolve`]).
    Random,
}

impl Seed {
    /// The seed to run with, and whether it was drawn. A drawn seed is below 2^53, so that the
    /// JSON readers that hold every number as a double (jq, JavaScript) read it back exactly and
    /// a rerun with the seed they show gives the same answer.
    pub fn resolve(self) -> (u64, bool) {
        match self {
            Seed::Fixed(seed) => (seed, false),
            Seed::Random => (rand::random::<u64>() >> 11, true),
        }
    }
}

/// A decimal number as written: `significant × 10^exponent`, exact. `significant` has no
/// leading or trailing zeros (empty for zero); `truncated` says digits beyond what any value
/// here needs were dropped (the number then has a nonzero fractional tail).
struct Decimal {
    significant: String,
    exponent: i64,
    negative: bool,
    truncated: bool,
}

/// Most significant digits kept: enough for any u64 scaled by any unit in nanoseconds.
const KEPT_DIGITS: usize = 38;

impl Decimal {
    /// Parses `[+-]digits[.digits][e[+-]digits]`, `_` allowed only between two digits.
    fn parse(text: &str) -> Result<Decimal, Problem> {
        let s = text.trim();
        if s.is_empty() {
            return Err(Problem::Empty);
        }
        let lower = s.to_ascii_lowercase();
        let (negative, body) = match lower.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, lower.strip_prefix('+').unwrap_or(&lower)),
        };
        if matches!(body, "inf" | "infinity") {
            return Err(Problem::NotFinite);
        }
        let (mantissa, exponent) = match body.split_once('e') {
            Some((m, e)) => (m, Some(e)),
            None => (body, None),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits_ok = |part: &str| {
            let bytes = part.as_bytes();
            bytes.iter().enumerate().all(|(i, &b)| {
                b.is_ascii_digit()
                    || (b == b'_'
                        && i > 0
                        && bytes[i - 1].is_ascii_digit()
                        && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
            })
        };
        if (int_part.is_empty() && frac_part.is_empty())
            || !digits_ok(int_part)
            || !digits_ok(frac_part)
        {
            return Err(Problem::NotANumber);
        }
        let exponent: i64 = match exponent {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Problem::NotANumber);
                }
                // Beyond ±10^6 every value here is out of range or zero: keep arithmetic small.
                let magnitude = digits.parse::<i64>().unwrap_or(i64::MAX).min(1_000_000);
                if e.starts_with('-') {
                    -magnitude
                } else {
                    magnitude
                }
            }
        };
        let int_digits: String = int_part.chars().filter(|&c| c != '_').collect();
        let frac_digits: String = frac_part.chars().filter(|&c| c != '_').collect();
        let all = format!("{int_digits}{frac_digits}");
        let mut exponent = exponent - frac_digits.len() as i64;
        let leading = all.trim_start_matches('0');
        let significant = leading.trim_end_matches('0');
        exponent += (leading.len() - significant.len()) as i64;
        let mut significant = significant.to_owned();
        let mut truncated = false;
        if significant.len() > KEPT_DIGITS {
            exponent += (significant.len() - KEPT_DIGITS) as i64;
            significant.truncate(KEPT_DIGITS);
            truncated = true;
        }
        Ok(Decimal {
            significant,
            exponent,
            negative,
            truncated,
        })
    }

    fn is_zero(&self) -> bool {
        self.significant.is_empty()
    }

    /// `floor(self × factor)` and whether it is exact; `None` if it exceeds `u128`.
    fn times(&self, factor: u128) -> Option<(u128, bool)> {
        if self.is_zero() {
            return Some((0, !self.truncated));
        }
        let digits = self.significant.len() as i64;
        // The value is below 10^(digits + exponent) · factor; 10^39 > u128::MAX.
        if digits + self.exponent > 39 {
            return None;
        }
        let mut value: u128 = self.significant.parse().ok()?;
        value = value.checked_mul(factor)?;
        if self.exponent >= 0 {
            for _ in 0..self.exponent {
                value = value.checked_mul(10)?;
            }
            Some((value, !self.truncated))
        } else {
            let mut exact = !self.truncated;
            for _ in 0..-self.exponent {
                if value == 0 {
                    break;
                }
                exact &= value.is_multiple_of(10);
                value /= 10;
            }
            Some((value, exact))
        }
    }
}

/// A whole number from `least` to `most` in the shared grammar (`1e3`, `1_000`, `2.5e9`).
pub fn whole(text: &str, least: u64, most: u64) -> Result<u64, ValueError> {
    whole_as(text, least, most, Expected::Whole { least, most })
}

fn whole_as(text: &str, least: u64, most: u64, expected: Expected) -> Result<u64, ValueError> {
    let fail = |problem| ValueError {
        problem,
        expected: expected.clone(),
    };
    let decimal = Decimal::parse(text).map_err(fail)?;
    if decimal.negative && !decimal.is_zero() {
        return Err(fail(Problem::TooSmall {
            least: least.to_string(),
        }));
    }
    let too_large = || {
        fail(Problem::TooLarge {
            most: most.to_string(),
        })
    };
    let (value, exact) = decimal.times(1).ok_or_else(too_large)?;
    if value > u128::from(most) {
        return Err(too_large());
    }
    if !exact {
        return Err(fail(Problem::NotWhole));
    }
    if value < u128::from(least) {
        return Err(fail(Problem::TooSmall {
            least: least.to_string(),
        }));
    }
    // `value ≤ most`, a u64.
    Ok(value as u64)
}

/// A positive whole count (trials, chunk size, words): 1 to `u64::MAX`.
pub fn count(text: &str) -> Result<u64, ValueError> {
    whole_as(text, 1, u64::MAX, Expected::Count)
}

/// A seed: a whole number from 0 to `u64::MAX` in the shared grammar, or `random`.
pub fn seed(text: &str) -> Result<Seed, ValueError> {
    if text.trim().eq_ignore_ascii_case("random") {
        return Ok(Seed::Random);
    }
    whole_as(text, 0, u64::MAX, Expected::Seed).map(Seed::Fixed)
}

/// A worker count: 1 to [`MAX_WORKERS`].
pub fn workers(text: &str) -> Result<NonZeroUsize, ValueError> {
    let n = whole(text, 1, MAX_WORKERS as u64)?;
    // 1 ≤ n ≤ MAX_WORKERS.
    Ok(NonZeroUsize::new(n as usize).unwrap_or(NonZeroUsize::MIN))
}

/// Splits `text` into (number, unit) pairs: `1h 30m` → `[("1", "h"), ("30", "m")]`. A number
/// is digits, `_`, `.` and an exponent (`e` followed by a digit or a sign).
fn components(text: &str) -> Option<Vec<(&str, &str)>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        let start = i;
        if matches!(bytes[i], b'+' | b'-') {
            i += 1;
        }
        while i < bytes.len() {
            let b = bytes[i];
            let exponent = (b == b'e' || b == b'E')
                && bytes
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_digit() || *n == b'+' || *n == b'-');
            if b.is_ascii_digit() || b == b'_' || b == b'.' {
                i += 1;
            } else if exponent {
                i += 2;
            } else {
                break;
            }
        }
        let number = &text[start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let unit_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !bytes[i].is_ascii_digit() {
            i += 1;
        }
        if number.is_empty() {
            return None;
        }
        out.push((number, &text[unit_start..i]));
    }
    Some(out)
}

/// Nanoseconds in one of a duration unit (humantime's names).
fn unit_nanos(unit: &str) -> Option<u128> {
    const S: u128 = 1_000_000_000;
    Some(match unit {
        "ns" | "nsec" => 1,
        "us" | "µs" | "usec" => 1_000,
        "ms" | "msec" => 1_000_000,
        "" | "s" | "sec" | "secs" | "second" | "seconds" => S,
        "m" | "min" | "mins" | "minute" | "minutes" => 60 * S,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600 * S,
        "d" | "day" | "days" => 86_400 * S,
        "w" | "week" | "weeks" => 7 * 86_400 * S,
        "M" | "month" | "months" => 2_630_016 * S,
        "y" | "year" | "years" => 31_557_600 * S,
        _ => return None,
    })
}

/// A duration as `expected` (positive or not): one number of seconds, or numbers with units
/// added up; rounded down to the nanosecond.
fn duration_as(text: &str, expected: Expected, positive: bool) -> Result<Duration, ValueError> {
    let fail = |problem| ValueError {
        problem,
        expected: expected.clone(),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(fail(Problem::Empty));
    }
    let lower = trimmed.to_ascii_lowercase();
    if matches!(lower.trim_start_matches(['+', '-']), "inf" | "infinity") {
        return Err(fail(if lower.starts_with('-') && positive {
            Problem::NotPositive
        } else if lower.starts_with('-') {
            Problem::TooSmall { least: "0".into() }
        } else {
            Problem::NotFinite
        }));
    }
    let parts = components(trimmed).ok_or_else(|| fail(Problem::NotANumber))?;
    // A bare number is seconds only when it stands alone (`90`, not `1h 30`).
    let bare_alone = parts.len() == 1 || parts.iter().all(|(_, unit)| !unit.is_empty());
    if !bare_alone {
        return Err(fail(Problem::NotANumber));
    }
    if !positive && parts.len() == 1 && parts[0].1.is_empty() {
        // An age without a unit is ambiguous (days? seconds?): ask for one.
        return Err(fail(Problem::UnknownUnit(String::new())));
    }
    let mut nanos: u128 = 0;
    for (number, unit) in parts {
        let decimal = Decimal::parse(number).map_err(fail)?;
        if decimal.negative && !decimal.is_zero() {
            return Err(fail(if positive {
                Problem::NotPositive
            } else {
                Problem::TooSmall { least: "0".into() }
            }));
        }
        let per = unit_nanos(unit)
            .or_else(|| unit_nanos(&unit.to_ascii_lowercase()))
            .ok_or_else(|| fail(Problem::UnknownUnit(unit.to_owned())))?;
        let (n, _) = decimal.times(per).ok_or_else(|| fail(Problem::TooLong))?;
        nanos = nanos.checked_add(n).ok_or_else(|| fail(Problem::TooLong))?;
    }
    let seconds = u64::try_from(nanos / 1_000_000_000).map_err(|_| fail(Problem::TooLong))?;
    let duration = Duration::new(seconds, (nanos % 1_000_000_000) as u32);
    if positive && duration.is_zero() {
        return Err(fail(Problem::NotPositive));
    }
    Ok(duration)
}

/// A positive duration (`--max-time`): `30s`, `2m`, `1h 30m`, `1e3ms`, or seconds (`90`,
/// `1e3`), at most `u64::MAX` seconds.
pub fn duration(text: &str) -> Result<Duration, ValueError> {
    duration_as(text, Expected::Duration, true)
}

/// An age (`--older-than`): a duration with units (`30d`, `12h`, `0s`), zero allowed.
pub fn age(text: &str) -> Result<Duration, ValueError> {
    duration_as(text, Expected::Age, false)
}

/// Bytes in one of a size unit: SI (`kB`, `MB` … `EB`, powers of 1000) or binary (`KiB` …
/// `EiB`, powers of 1024), case-insensitive; `K`, `M`, `G` … alone are SI.
fn unit_bytes(unit: &str) -> Option<u128> {
    let lower = unit.to_ascii_lowercase();
    let (prefix, binary) = match lower.strip_suffix("ib") {
        Some(prefix) => (prefix, true),
        None => (lower.strip_suffix('b').unwrap_or(&lower), false),
    };
    let power = match prefix {
        "" if !binary => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        "p" => 5,
        "e" => 6,
        _ => return None,
    };
    let base: u128 = if binary { 1024 } else { 1000 };
    Some(base.pow(power))
}

/// A size in bytes (`--max-size`): a number with an optional unit (`50MB`, `1.5GB`, `500KiB`,
/// `1e9`) that comes to a whole number of bytes, at most `u64::MAX`.
pub fn size(text: &str) -> Result<u64, ValueError> {
    let fail = |problem| ValueError {
        problem,
        expected: Expected::Size,
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(fail(Problem::Empty));
    }
    let parts = components(trimmed).ok_or_else(|| fail(Problem::NotANumber))?;
    let [(number, unit)] = parts[..] else {
        return Err(fail(Problem::NotANumber));
    };
    let decimal = Decimal::parse(number).map_err(fail)?;
    if decimal.negative && !decimal.is_zero() {
        return Err(fail(Problem::TooSmall { least: "0".into() }));
    }
    let per = unit_bytes(unit).ok_or_else(|| fail(Problem::UnknownUnit(unit.to_owned())))?;
    let too_large = || {
        fail(Problem::TooLarge {
            most: format!("{} bytes", u64::MAX),
        })
    };
    let (bytes, exact) = decimal.times(per).ok_or_else(too_large)?;
    let bytes = u64::try_from(bytes).map_err(|_| too_large())?;
    if !exact {
        return Err(fail(Problem::NotWhole));
    }
    Ok(bytes)
}

/// A fraction above 0 and at most 1 (`--sample`): `0.1`, `1e-3`, `1`.
pub fn fraction(text: &str) -> Result<f64, ValueError> {
    let fail = |problem| ValueError {
        problem,
        expected: Expected::Fraction,
    };
    let decimal = Decimal::parse(text).map_err(fail)?;
    // The grammar was checked above; the float is the nearest to the text.
    let value: f64 = text
        .trim()
        .replace('_', "")
        .parse()
        .map_err(|_| fail(Problem::NotANumber))?;
    if decimal.negative || decimal.is_zero() || value <= 0.0 {
        return Err(fail(Problem::NotPositive));
    }
    if value > 1.0 {
        return Err(fail(Problem::TooLarge { most: "1".into() }));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawn_seed_survives_a_json_reader_that_holds_doubles() {
        for _ in 0..1000 {
            let (seed, drawn) = Seed::Random.resolve();
            assert!(drawn);
            assert_eq!(seed as f64 as u64, seed, "{seed} is not exact as a double");
        }
        assert_eq!(Seed::Fixed(u64::MAX).resolve(), (u64::MAX, false));
    }

    fn problem<T: fmt::Debug>(result: Result<T, ValueError>) -> Problem {
        result.expect_err("refused").problem
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
            ("+7", 7),
            ("007", 7),
            ("1.0", 1),
            ("120e-1", 12),
            ("18446744073709551615", u64::MAX),
            ("1.8446744073709551615e19", u64::MAX),
            ("1e19", 10_000_000_000_000_000_000),
            ("1_0.5_0e1", 105),
        ] {
            assert_eq!(count(text), Ok(value), "{text}");
        }
    }

    #[test]
    fn bad_counts_name_their_problem() {
        let small = || Problem::TooSmall { least: "1".into() };
        let large = || Problem::TooLarge {
            most: u64::MAX.to_string(),
        };
        for (text, expected) in [
            ("0", small()),
            ("0e5", small()),
            ("0.0", small()),
            ("-5", small()),
            ("1.5", Problem::NotWhole),
            ("12e-1", Problem::NotWhole),
            ("5e-1", Problem::NotWhole),
            ("1e-999999", Problem::NotWhole),
            (
                "1.000000000000000000000000000000000000000001",
                Problem::NotWhole,
            ),
            ("1e30", large()),
            ("18446744073709551616", large()),
            ("1e999999999999", large()),
            ("1.5e30", large()),
            ("nan", Problem::NotANumber),
            ("inf", Problem::NotFinite),
            ("-inf", Problem::NotFinite),
            ("", Problem::Empty),
            ("  ", Problem::Empty),
            ("abc", Problem::NotANumber),
            ("1e", Problem::NotANumber),
            ("e8", Problem::NotANumber),
            (".", Problem::NotANumber),
            ("_1", Problem::NotANumber),
            ("1_", Problem::NotANumber),
            ("1_.5", Problem::NotANumber),
            ("1e_5", Problem::NotANumber),
            ("1,000", Problem::NotANumber),
            ("0x10", Problem::NotANumber),
            ("1e8.5", Problem::NotANumber),
        ] {
            assert_eq!(problem(count(text)), expected, "{text}");
        }
    }

    #[test]
    fn one_grammar_for_seeds_workers_and_bounded_numbers() {
        assert_eq!(seed("1e3"), Ok(Seed::Fixed(1000)));
        assert_eq!(seed("0"), Ok(Seed::Fixed(0)));
        assert_eq!(seed(" Random "), Ok(Seed::Random));
        assert_eq!(seed("18446744073709551615"), Ok(Seed::Fixed(u64::MAX)));
        for bad in ["_1", "1_", "-1", "", "1.5", "18446744073709551616"] {
            assert!(seed(bad).is_err(), "{bad}");
        }
        assert_eq!(workers("1e3").map(NonZeroUsize::get), Ok(1000));
        assert_eq!(workers("1_024").map(NonZeroUsize::get), Ok(1024));
        for bad in ["0", "1025", "_1", "two", "1.5"] {
            assert!(workers(bad).is_err(), "{bad}");
        }
        assert_eq!(whole("0", 0, 10), Ok(0));
        assert_eq!(whole("1e1", 0, 10), Ok(10));
        assert_eq!(
            problem(whole("11", 0, 10)),
            Problem::TooLarge { most: "10".into() }
        );
    }

    #[test]
    fn messages_say_what_was_wrong_and_what_was_expected() {
        assert_eq!(
            count("1.5").unwrap_err().to_string(),
            "must be a whole number: expected a positive whole number such as 100000000, \
             100_000_000 or 1e8"
        );
        assert_eq!(
            workers("0").unwrap_err().to_string(),
            "must be at least 1: expected a whole number from 1 to 1024"
        );
        assert!(seed("x").unwrap_err().to_string().ends_with("or 'random'"));
    }

    #[test]
    fn durations_with_and_without_units() {
        let secs = Duration::from_secs;
        for (text, value) in [
            ("30s", secs(30)),
            ("2m", secs(120)),
            ("1h 30m", secs(5400)),
            ("1h30m", secs(5400)),
            ("90", secs(90)),
            ("0.5", Duration::from_millis(500)),
            ("1e3", secs(1000)),
            ("1e3ms", secs(1)),
            ("1e19", secs(10_000_000_000_000_000_000)),
            ("1e19s", secs(10_000_000_000_000_000_000)),
            ("18446744073709551615s", secs(u64::MAX)),
            ("1.5 minutes", secs(90)),
        ] {
            assert_eq!(duration(text), Ok(value), "{text}");
        }
        for (text, expected) in [
            ("18446744073709551616s", Problem::TooLong),
            ("18446744073709551616", Problem::TooLong),
            ("1e20", Problem::TooLong),
            ("1e300", Problem::TooLong),
            ("inf", Problem::NotFinite),
            ("nan", Problem::NotANumber),
            ("abc", Problem::NotANumber),
            ("5 parsecs", Problem::UnknownUnit("parsecs".into())),
            ("1h 30", Problem::NotANumber),
            ("", Problem::Empty),
        ] {
            assert_eq!(problem(duration(text)), expected, "{text}");
        }
        for zero_or_less in ["0", "0s", "-5", "-5s", "0.1ns", "-inf"] {
            assert_eq!(
                problem(duration(zero_or_less)),
                Problem::NotPositive,
                "{zero_or_less}"
            );
        }
    }

    #[test]
    fn ages_need_a_unit_and_may_be_zero() {
        assert_eq!(age("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(age("1w 2d"), Ok(Duration::from_secs(9 * 86_400)));
        assert_eq!(age("0s"), Ok(Duration::ZERO));
        for bad in ["", "30", "-1d", "soon", "3x"] {
            assert!(age(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_come_to_whole_bytes_within_u64() {
        for (text, bytes) in [
            ("50MB", 50_000_000),
            ("50 MB", 50_000_000),
            ("50mb", 50_000_000),
            ("1GiB", 1 << 30),
            ("500KiB", 500 << 10),
            ("1.5GB", 1_500_000_000),
            ("1234", 1234),
            ("1234B", 1234),
            ("1e9", 1_000_000_000),
            ("0", 0),
            ("15EiB", 15 << 60),
            ("18446744073709551615", u64::MAX),
        ] {
            assert_eq!(size(text), Ok(bytes), "{text}");
        }
        let large = || Problem::TooLarge {
            most: format!("{} bytes", u64::MAX),
        };
        for (text, expected) in [
            ("16EiB", large()),
            ("17EiB", large()),
            ("18446744073709551616", large()),
            ("1e300", large()),
            ("0.5B", Problem::NotWhole),
            ("0.3KiB", Problem::NotWhole),
            ("-5MB", Problem::TooSmall { least: "0".into() }),
            ("50XB", Problem::UnknownUnit("XB".into())),
            ("MB", Problem::NotANumber),
            ("", Problem::Empty),
            ("1 MB 2 MB", Problem::NotANumber),
        ] {
            assert_eq!(problem(size(text)), expected, "{text}");
        }
    }

    #[test]
    fn fractions_lie_above_zero_and_at_most_one() {
        assert_eq!(fraction("0.1"), Ok(0.1));
        assert_eq!(fraction("1"), Ok(1.0));
        assert_eq!(fraction("1e-3"), Ok(0.001));
        for bad in ["0", "-0.5", "1.5", "nan", "inf", "x", "", "1e-400"] {
            assert!(fraction(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_way_of_writing_a_whole_number_gives_it_exactly(n in 1u64.., zeros in 0u32..6) {
            let plain = n.to_string();
            proptest::prop_assert_eq!(count(&plain), Ok(n));
            // With `_` every three digits from the right.
            let grouped: String = plain
                .chars()
                .rev()
                .enumerate()
                .flat_map(|(i, c)| (i > 0 && i % 3 == 0).then_some('_').into_iter().chain([c]))
                .collect::<Vec<char>>()
                .into_iter()
                .rev()
                .collect();
            proptest::prop_assert_eq!(count(&grouped), Ok(n));
            // As a mantissa with a decimal point and an exponent: d.ddd…e(len−1).
            let scientific = format!("{}.{}e{}", &plain[..1], &plain[1..], plain.len() - 1);
            proptest::prop_assert_eq!(count(&scientific), Ok(n));
            // Trailing zeros moved into the exponent, when the value allows it.
            if let Some(scaled) = 10u64.checked_pow(zeros).and_then(|p| n.checked_mul(p)) {
                proptest::prop_assert_eq!(count(&format!("{n}e{zeros}")), Ok(scaled));
            }
            // A nonzero fractional part is never a whole number.
            proptest::prop_assert_eq!(
                problem(count(&format!("{n}.5"))),
                Problem::NotWhole
            );
            // The seed and size grammars agree with the count grammar.
            proptest::prop_assert_eq!(seed(&grouped), Ok(Seed::Fixed(n)));
            proptest::prop_assert_eq!(size(&grouped), Ok(n));
        }
    }
}
