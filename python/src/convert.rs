//! Python values to the library's typed values. The grammar and the words are the library's
//! ([`piest::values`], [`Method::from_name`], [`piest::scheduler::parse_shard`],
//! [`piest::Kernel::from_name`]), the very functions the command line parses its flags with, so
//! one value means the same and is refused in the same words on both fronts. What is
//! particular to Python stays here: a value of the wrong type is a `TypeError`; a value the
//! library refuses is a `ValueError` reading `invalid <argument> <repr>: <the library's
//! message>` (the command line says `invalid value '<text>' for '<flag>': <the same message>`).
//!
//! Numbers reach the grammar as the text Python writes for them: an int as its digits, a float
//! as its `repr` (the shortest text that reads back as that float: `1e8` is `100000000.0`,
//! `2.5e9` is `2500000000.0`), so `estimate(2.5e9)` and `piest -n 2.5e9` count the same trials.

use std::num::NonZeroUsize;
use std::time::Duration;

use piest::part::ShardId;
use piest::sampler::Method;
use piest::values;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString, PyTuple};

/// `invalid <name> <repr>: <why>`, the `ValueError` of a refused value.
fn invalid(name: &str, value: &Bound<'_, PyAny>, why: impl std::fmt::Display) -> PyErr {
    let shown = value
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "(an int too long to show)".into());
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

/// The digits of an int. Beyond `i128` the text is `i128::MAX` (or `MIN`) instead: every value
/// the grammar accepts lies far inside, so the refusal (too large, too small) is the same, and
/// Python would refuse to write an int of more than 4300 digits.
fn int_text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    match value.extract::<i128>() {
        Ok(n) => Ok(n.to_string()),
        Err(_) if value.lt(0)? => Ok(i128::MIN.to_string()),
        Err(_) => Ok(i128::MAX.to_string()),
    }
}

/// The text of a number for the shared grammar: an int's digits, a float's `repr`; `None` for
/// any other type (a `bool` included: `True` is no count).
fn number_text(value: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if value.is_instance_of::<PyBool>() {
        Ok(None)
    } else if value.is_instance_of::<PyInt>() {
        int_text(value).map(Some)
    } else if value.is_instance_of::<PyFloat>() {
        Ok(Some(value.repr()?.to_string()))
    } else {
        Ok(None)
    }
}

/// The text of a number or a str, or a `TypeError` saying what `name` takes.
fn text(name: &str, value: &Bound<'_, PyAny>, expected: &str) -> PyResult<String> {
    if let Some(text) = number_text(value)? {
        return Ok(text);
    }
    if !value.is_instance_of::<PyBool>()
        && let Ok(s) = value.cast::<PyString>()
    {
        return Ok(s.to_cow()?.into_owned());
    }
    Err(wrong_type(name, value, expected))
}

/// A positive whole count (`trials`, `chunk_size`, `n`): an int, a float that is a whole number
/// (`1e8`), or a string as the command line takes it (`"1e8"`, `"100_000_000"`).
pub fn count(name: &str, value: &Bound<'_, PyAny>) -> PyResult<u64> {
    let text = text(name, value, "an int, a float or a str")?;
    values::count(&text).map_err(|e| invalid(name, value, e))
}

/// A worker count: an int from 1 to [`values::MAX_WORKERS`].
pub fn workers(value: &Bound<'_, PyAny>) -> PyResult<NonZeroUsize> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(wrong_type("workers", value, "an int"));
    }
    values::workers(&int_text(value)?).map_err(|e| invalid("workers", value, e))
}

/// A whole number from `least` to `most` (`runs`, `warmup`): an int.
pub fn whole(name: &str, value: &Bound<'_, PyAny>, least: u64, most: u64) -> PyResult<u64> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(wrong_type(name, value, "an int"));
    }
    values::whole(&int_text(value)?, least, most).map_err(|e| invalid(name, value, e))
}

/// A seed: an int from 0 to 2^64 − 1, a string in the shared grammar, or `"random"` (drawn from
/// the OS, as the command line draws it). Returns the seed and whether it was drawn.
pub fn seed(value: &Bound<'_, PyAny>) -> PyResult<(u64, bool)> {
    if value.is_instance_of::<PyFloat>() {
        // A float seed would be a float's decimal text: refuse the type, not the value.
        return Err(wrong_type("seed", value, "an int or a str"));
    }
    let text = text("seed", value, "an int or a str")?;
    Ok(values::seed(&text)
        .map_err(|e| invalid("seed", value, e))?
        .resolve())
}

/// A shard: a `(k, n)` tuple of ints or the command line's `"K/N"`, with `0 ≤ k < n`; a tuple
/// is read as the text `k/n`, so both forms are refused in the same words.
pub fn shard(value: &Bound<'_, PyAny>) -> PyResult<ShardId> {
    let text = if let Ok(text) = value.cast::<PyString>() {
        text.to_cow()?.into_owned()
    } else if let Ok(pair) = value.cast::<PyTuple>()
        && pair.len() == 2
    {
        let mut parts = Vec::with_capacity(2);
        for item in pair.iter() {
            if item.is_instance_of::<PyBool>() || !item.is_instance_of::<PyInt>() {
                return Err(wrong_type(
                    "shard",
                    value,
                    "a (k, n) tuple of ints or a 'K/N' str",
                ));
            }
            parts.push(int_text(&item)?);
        }
        parts.join("/")
    } else {
        return Err(wrong_type("shard", value, "a (k, n) tuple or a 'K/N' str"));
    };
    piest::scheduler::parse_shard(&text).map_err(|why| invalid("shard", value, why))
}

/// A precision target: a positive number the stopping rule accepts.
pub fn target_error(value: &Bound<'_, PyAny>) -> PyResult<piest::stats::stopping::StoppingRule> {
    // The command line's hint for `--target-error`; the range check is the library's.
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
    let text = text("max_time", value, "seconds or a duration str")?;
    values::duration(&text).map_err(|e| invalid("max_time", value, e))
}

/// A sampling method by name (`"plain"`, `"stratified"`, any case).
pub fn method(name: &Bound<'_, PyAny>) -> PyResult<Method> {
    let Ok(text) = name.cast::<PyString>() else {
        return Err(wrong_type("method", name, "a str"));
    };
    Method::from_name(&text.to_cow()?).map_err(|e| invalid("method", name, e))
}

/// The kernel `PIEST_KERNEL` names (`auto` or unset: the best this CPU supports).
pub fn kernel(var: Option<&str>) -> PyResult<piest::Kernel> {
    piest::Kernel::from_name(var.unwrap_or("auto"))
        .map_err(|e| PyValueError::new_err(format!("PIEST_KERNEL: {e}")))
}
