//! Warnings about a sweep's measurements, in the spirit of hyperfine's: what looks wrong and what
//! to do about it. They are data (an enum with [`Display`](std::fmt::Display)); the English is
//! written only when one is shown, and JSON keeps each warning as its sentence.

use std::fmt;

use serde::{Serialize, Serializer};

/// Medians shorter than this are dominated by thread start-up and timer noise (hyperfine warns
/// at the same bound).
pub const SHORT_RUN_S: f64 = 0.005;
/// A standard deviation above this fraction of the median is reported as a large spread.
pub const LARGE_SPREAD: f64 = 0.10;

/// One thing about a sweep's measurements worth a warning.
#[derive(Clone, Debug, PartialEq)]
pub enum Warning {
    /// A run has fewer chunks than the largest worker count: the extra workers idle.
    TooFewChunks {
        /// Chunks per run.
        chunks: u64,
        /// The largest worker count of the sweep.
        workers: usize,
    },
    /// A row's median is below [`SHORT_RUN_S`].
    ShortRuns {
        workers: usize,
        /// Its median time in seconds.
        median_s: f64,
    },
    /// Some timed runs of a row are statistical outliers.
    Outliers {
        workers: usize,
        /// Positions of the outliers among the row's timed runs, from 0.
        runs: Vec<usize>,
        /// Time of the first outlier in seconds.
        first_s: f64,
        /// The row's median time in seconds.
        median_s: f64,
        /// Whether the first outlier is the row's first run and the sweep had no warm-up: then
        /// a warm-up is the likely cure.
        cold_start: bool,
    },
    /// A row's standard deviation exceeds [`LARGE_SPREAD`] of its median.
    LargeSpread {
        workers: usize,
        /// Standard deviation as a fraction of the median.
        relative: f64,
    },
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `1 worker`, `4 workers`.
fn workers_name(workers: usize) -> String {
    format!("{workers} worker{}", plural(workers as u64))
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::TooFewChunks { chunks, workers } => write!(
                f,
                "each run has only {chunks} chunk{}, fewer than {workers} workers: the extra \
                 workers have nothing to do. Use a smaller --chunk-size or more --trials.",
                plural(*chunks)
            ),
            Warning::ShortRuns { workers, median_s } => write!(
                f,
                "{}: runs took less than 5 ms (median {:.2} ms), too short to time reliably: \
                 thread start-up and timer noise dominate. Use more --trials.",
                workers_name(*workers),
                median_s * 1e3
            ),
            Warning::Outliers {
                workers,
                runs,
                first_s,
                median_s,
                cold_start,
            } => {
                let advice = if *cold_start {
                    "The first run was far slower than the rest; consider --warmup 1 to fill \
                     caches and wake the CPU first."
                } else {
                    "Consider re-running on a quiet system without interference from other \
                     programs, or with more --runs."
                };
                let list = runs
                    .iter()
                    .map(|i| (i + 1).to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                write!(
                    f,
                    "{}: statistical outlier{} detected (run {list} took {first_s:.4} s, median \
                     {median_s:.4} s). {advice}",
                    workers_name(*workers),
                    plural(runs.len() as u64),
                )
            }
            Warning::LargeSpread { workers, relative } => write!(
                f,
                "{}: large spread between runs (standard deviation {:.0}% of the median); the \
                 machine may be busy. More --runs make the median more reliable.",
                workers_name(*workers),
                100.0 * relative
            ),
        }
    }
}

/// A warning is serialized as its sentence: the JSON `warnings` array stays a list of strings.
impl Serialize for Warning {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_read_as_sentences_and_serialize_as_strings() {
        let w = Warning::TooFewChunks {
            chunks: 1,
            workers: 4,
        };
        assert!(
            w.to_string()
                .starts_with("each run has only 1 chunk, fewer than 4")
        );
        let w = Warning::Outliers {
            workers: 1,
            runs: vec![0, 3],
            first_s: 2.0,
            median_s: 1.0,
            cold_start: true,
        };
        let text = w.to_string();
        assert!(
            text.starts_with("1 worker: statistical outliers detected (run 1, 4 took 2.0000 s")
        );
        assert!(text.contains("--warmup 1"), "{text}");
        assert_eq!(serde_json::to_value(&w).unwrap(), serde_json::json!(text));
    }
}
