//! Python values to the library's typed values, with the command line's words: every argument
//! check of the binding lives here (counts, seeds, workers, shards, durations, methods, the
//! kernel variable). A value of the wrong type is a `TypeError`; a value out of range or
//! malformed is a `ValueError` naming the argument, worded as the command line's message.

use std::num::NonZeroUsize;
use std::time::Duration;

use piest::part::ShardId;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString, PyTuple};

/// Most worker threads accepted, as on the command line.
pub const MAX_WORKERS: usize = 1024;

/// The sampling methods the library implements.
pub const METHODS: &[&str] = &["plain"];

const COUNT_HINT: &str = "expected a positive whole number such as 100000000, 100_000_000 or 1e8";

fn invalid(name: &str, value: &Bound<'_, PyAny>, why: impl std::fmt::Display) -> PyErr {
    let shown = value
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "?".into());
    PyValueError::new_err(format!("invalid {name} {shown}: {why}"))
}

fn wrong_type(name: &str, value: &Bound<'_, PyAny>, expected: &str) -> PyErr {
    let type_name = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    PyTypeError::new_err(format!("{name} must be {expected}, not {type_name}"))
}

/// A positive whole count (`trials`, `chunk_size`): an int, a float that is a whole number
/// (`1e8`), or a string as the command line takes it (`"1e8"`, `"100_000_000"`).
pub fn count(name: &str, value: &Bound<'_, PyAny>) -> PyResult<u64> {
    if value.is_instance_of::<PyBool>() {
        return Err(wrong_type(name, value, "an int, a float or a str"));
    }
    if value.is_instance_of::<PyInt>() {
        if value.lt(0)? {
            return Err(invalid(
                name,
                value,
                format!("must be positive: {COUNT_HINT}"),
            ));
        }
        let n: u64 = value.extract().map_err(|_| {
            invalid(
                name,
                value,
                format!("too large: the most is {} (about 1.8e19)", u64::MAX),
            )
        })?;
        return match n {
            0 => Err(invalid(name, value, "must be at least 1")),
            n => Ok(n),
        };
    }
    if value.is_instance_of::<PyFloat>() {
        let f: f64 = value.extract()?;
        return float_count(f).map_err(|why| invalid(name, value, why));
    }
    if let Ok(text) = value.cast::<PyString>() {
        return text_count(&text.to_cow()?).map_err(|why| invalid(name, value, why));
    }
    Err(wrong_type(name, value, "an int, a float or a str"))
}

fn float_count(f: f64) -> Result<u64, String> {
    if !f.is_finite() {
        return Err(format!("not a finite number: {COUNT_HINT}"));
    }
    if f < 0.0 {
        return Err(format!("must be positive: {COUNT_HINT}"));
    }
    if f.fract() != 0.0 {
        return Err(format!("must be a whole number: {COUNT_HINT}"));
    }
    if f >= 18_446_744_073_709_551_616.0 {
        return Err(format!(
            "too large: the most is {} (about 1.8e19)",
            u64::MAX
        ));
    }
    match f as u64 {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

fn text_count(text: &str) -> Result<u64, String> {
    let s = text.trim();
    if s.starts_with('-') {
        return Err(format!("must be positive: {COUNT_HINT}"));
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if !plain.is_empty() && plain.chars().all(|c| c.is_ascii_digit()) {
        return match plain.parse::<u64>() {
            Ok(0) => Err("must be at least 1".into()),
            Ok(n) => Ok(n),
            Err(_) => Err(format!(
                "too large: the most is {} (about 1.8e19)",
                u64::MAX
            )),
        };
    }
    match plain.parse::<f64>() {
        // Exact for the whole numbers a float holds exactly, which `1e8`-style counts are.
        Ok(f) if f.is_finite() => float_count(f),
        Ok(_) => Err(format!("not a finite number: {COUNT_HINT}")),
        Err(_) => Err(format!("not a number: {COUNT_HINT}")),
    }
}

/// A worker count: an int from 1 to [`MAX_WORKERS`].
pub fn workers(value: &Bound<'_, PyAny>) -> PyResult<NonZeroUsize> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(wrong_type("workers", value, "an int"));
    }
    let n: i128 = value.extract().unwrap_or(i128::MAX);
    match usize::try_from(n).ok().and_then(NonZeroUsize::new) {
        None if n < 1 => Err(invalid(
            "workers",
            value,
            format!("worker counts must be at least 1, not '{n}'"),
        )),
        Some(w) if w.get() <= MAX_WORKERS => Ok(w),
        _ => Err(invalid(
            "workers",
            value,
            format!("at most {MAX_WORKERS} workers, not '{n}'"),
        )),
    }
}

/// A seed: an int from 0 to 2^64 − 1, a string of digits, or `"random"` (drawn from the OS).
/// Returns the seed and whether it was drawn.
pub fn seed(value: &Bound<'_, PyAny>) -> PyResult<(u64, bool)> {
    let range = format!("must be a whole number from 0 to {} or 'random'", u64::MAX);
    if value.is_instance_of::<PyBool>() {
        return Err(wrong_type("seed", value, "an int or a str"));
    }
    if value.is_instance_of::<PyInt>() {
        return value
            .extract::<u64>()
            .map(|s| (s, false))
            .map_err(|_| invalid("seed", value, range));
    }
    if let Ok(text) = value.cast::<PyString>() {
        let text = text.to_cow()?;
        let text = text.trim();
        if text.eq_ignore_ascii_case("random") {
            return Ok((rand::random(), true));
        }
        let digits: String = text.chars().filter(|&c| c != '_').collect();
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid("seed", value, range));
        }
        return digits.parse().map(|s| (s, false)).map_err(|_| {
            invalid(
                "seed",
                value,
                format!("too large: the most is {}", u64::MAX),
            )
        });
    }
    Err(wrong_type("seed", value, "an int or a str"))
}

/// A shard: a `(k, n)` tuple or the command line's `"K/N"`, with `0 ≤ k < n`.
pub fn shard(value: &Bound<'_, PyAny>) -> PyResult<ShardId> {
    if let Ok(text) = value.cast::<PyString>() {
        return piest::scheduler::parse_shard(&text.to_cow()?)
            .map_err(|why| invalid("shard", value, why));
    }
    if let Ok(pair) = value.cast::<PyTuple>()
        && pair.len() == 2
    {
        let k: u64 = pair.get_item(0)?.extract().map_err(|_| bad_shard(value))?;
        let n: u64 = pair.get_item(1)?.extract().map_err(|_| bad_shard(value))?;
        return ShardId::new(k, n).ok_or_else(|| bad_shard(value));
    }
    Err(wrong_type("shard", value, "a (k, n) tuple or a 'K/N' str"))
}

fn bad_shard(value: &Bound<'_, PyAny>) -> PyErr {
    invalid(
        "shard",
        value,
        "expected (k, n) with 0 ≤ k < n, such as (3, 64)",
    )
}

/// A precision target: a positive number the stopping rule accepts.
pub fn target_error(value: &Bound<'_, PyAny>) -> PyResult<piest::stats::stopping::StoppingRule> {
    const HINT: &str = "expected a positive number such as 1e-4 or 0.001 (a half-width on π)";
    if value.is_instance_of::<PyBool>()
        || !(value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>())
    {
        return Err(wrong_type("target_error", value, "a float"));
    }
    let t: f64 = value.extract()?;
    let why = if t.is_nan() {
        format!("not a number: {HINT}")
    } else if t.is_infinite() && t > 0.0 {
        format!("must be finite: {HINT}")
    } else if t <= 0.0 {
        format!("must be positive: {HINT}")
    } else {
        return piest::stats::stopping::StoppingRule::new(t)
            .map_err(|e| invalid("target_error", value, e));
    };
    Err(invalid("target_error", value, why))
}

/// A time budget: seconds (an int or a float) or the command line's duration (`"30s"`, `"2m"`,
/// `"1h 30m"`, `"90"`).
pub fn max_time(value: &Bound<'_, PyAny>) -> PyResult<Duration> {
    const HINT: &str = "expected a positive duration such as 30s, 2m, 1h or 90 (seconds)";
    let seconds = |s: f64| -> Result<Duration, String> {
        if s.is_nan() {
            Err(format!("not a duration: {HINT}"))
        } else if s.is_infinite() && s > 0.0 {
            Err(format!("must be finite: {HINT}"))
        } else if s <= 0.0 {
            Err(format!("must be positive: {HINT}"))
        } else {
            Duration::try_from_secs_f64(s).map_err(|_| format!("too long: {HINT}"))
        }
    };
    let parsed = if value.is_instance_of::<PyBool>() {
        return Err(wrong_type("max_time", value, "seconds or a duration str"));
    } else if value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>() {
        seconds(value.extract()?)
    } else if let Ok(text) = value.cast::<PyString>() {
        let s = text.to_cow()?;
        let s = s.trim();
        match s.parse::<f64>() {
            Ok(f) => seconds(f),
            Err(_) if s.starts_with('-') => Err(format!("must be positive: {HINT}")),
            Err(_) => humantime::parse_duration(s).map_err(|_| format!("not a duration: {HINT}")),
        }
    } else {
        return Err(wrong_type("max_time", value, "seconds or a duration str"));
    };
    match parsed {
        Ok(d) if d.is_zero() => Err(invalid(
            "max_time",
            value,
            format!("must be positive: {HINT}"),
        )),
        Ok(d) => Ok(d),
        Err(why) => Err(invalid("max_time", value, why)),
    }
}

/// A sampling method the library implements.
pub fn method(value: &str) -> PyResult<&'static str> {
    METHODS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(value.trim()))
        .copied()
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "invalid method '{value}': expected one of {}",
                METHODS.join(", ")
            ))
        })
}

/// The kernel `PIEST_KERNEL` names (`auto` or unset: the best this CPU supports).
pub fn kernel(var: Option<&str>) -> PyResult<piest::Kernel> {
    piest::Kernel::from_name(var.unwrap_or("auto"))
        .map_err(|e| PyValueError::new_err(format!("PIEST_KERNEL: {e}")))
}
