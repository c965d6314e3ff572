//! Merging parts into the estimate of the whole run (`piest merge`).
//!
//! The parts' integer counts are added ([`Tally::merge`]) and the report is built by
//! [`Report::new`], the constructor a single run uses, so `pi`, `std_error` and `ci95` are
//! bit-identical to the single run's: never an average of the parts' estimates.
//!
//! A set of parts is refused, with an error naming the files, when a part is unreadable or
//! contradicts itself ([`crate::part`]), when parts belong to different runs (trials, seed, chunk
//! size or algorithm), when two parts are the same shard or count the same chunks, and when
//! shards are missing, unless the caller allows a partial result; a partial result says which
//! shards and chunks it lacks.
//!
//! Fields the parts may disagree on: `elapsed_s` is the slowest part's wall time (the parts are
//! assumed to have run at the same time), `compute_s` the sum of the parts' wall times,
//! `workers` the sum of the parts' worker threads, `kernel` the distinct kernels joined by `+`
//! (`avx2+portable`), `cached_chunks` the sum; the merged report has no cache summary (each part's
//! own is in its file).

use std::ops::Range;
use std::time::Duration;

use serde::Serialize;

use crate::part::{Part, PartError, ShardId, show_ranges};
use crate::plan::Plan;
use crate::report::Report;
use crate::tally::{Tally, TallyError};

/// A part with the name of the file it came from (`-` for stdin, `FILE #2` for the second part
/// of a file holding several).
#[derive(Clone, Debug)]
pub struct NamedPart {
    /// Where the part came from, as the user would name it.
    pub name: String,
    /// The part.
    pub part: Part,
}

/// Why a set of parts cannot be merged. Every variant names the files involved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// No parts were given.
    #[error("no parts to merge")]
    NoParts,
    /// A file is not a usable part.
    #[error("'{file}': {error}")]
    BadPart {
        /// The file.
        file: String,
        /// What is wrong with it.
        error: PartError,
    },
    /// Two parts belong to different runs.
    #[error("'{file}' and '{other}' are parts of different runs: {what}")]
    DifferentRuns {
        /// The part that differs.
        file: String,
        /// The first part, which the others are compared with.
        other: String,
        /// Which settings differ, with both values.
        what: String,
    },
    /// Two parts are the same shard.
    #[error("'{file}' and '{other}' are both shard {shard}")]
    Duplicate {
        /// The second copy.
        file: String,
        /// The first copy.
        other: String,
        /// The shard.
        shard: ShardId,
    },
    /// Two parts count the same chunks (shards of different counts that overlap).
    #[error("'{file}' and '{other}' both count chunks {}..{}", chunks.start, chunks.end)]
    Overlap {
        /// One part.
        file: String,
        /// The other.
        other: String,
        /// Chunks counted by both.
        chunks: Range<u64>,
    },
    /// Some shards are missing.
    #[error(
        "incomplete: {} (chunks {} of {chunks} not counted); run the missing shards, or use \
         --allow-partial for a partial estimate",
        missing_shards_text(.shards, .count),
        show_ranges(.missing)
    )]
    Missing {
        /// The missing shard indices, when all parts agree on the shard count.
        shards: Vec<u64>,
        /// That shard count (0 when the parts disagree on it).
        count: u64,
        /// The chunks not counted.
        missing: Vec<Range<u64>>,
        /// Chunks of the whole run.
        chunks: u64,
    },
    /// A sum does not fit in 64 bits (impossible for parts of one plan; a forged file).
    #[error("'{file}': counts overflow 64 bits")]
    Overflow {
        /// The part whose addition overflowed.
        file: String,
    },
}

fn missing_shards_text(shards: &[u64], count: &u64) -> String {
    if *count == 0 {
        return "parts of different shard counts leave chunks uncounted".into();
    }
    const SHOWN: usize = 20;
    let mut list: Vec<String> = shards.iter().take(SHOWN).map(u64::to_string).collect();
    if shards.len() > SHOWN {
        list.push(format!("… ({} in all)", shards.len()));
    }
    format!(
        "missing shard{} {} of {count}",
        if shards.len() == 1 { "" } else { "s" },
        list.join(", ")
    )
}

/// The parts added up: an exact tally and what is known about how it was made.
#[derive(Clone, Debug)]
pub struct Merged {
    /// The exact sum of the parts.
    pub tally: Tally,
    /// The whole run's plan.
    pub plan: Plan,
    /// Parts merged.
    pub parts: usize,
    /// The shard count, when every part names the same one.
    pub shard_count: Option<u64>,
    /// Shards absent from the set (with `shard_count`).
    pub missing_shards: Vec<u64>,
    /// Chunks of the plan no part counted.
    pub missing_chunks: Vec<Range<u64>>,
    /// Sum of the parts' wall times.
    pub compute: Duration,
    /// Sum of the parts' worker threads.
    pub workers: usize,
    /// The distinct kernels of the parts, sorted.
    pub kernels: Vec<String>,
    /// The `--trials` the run was asked for, when it counts another number (the parts agree).
    pub requested_trials: Option<u64>,
}

impl Merged {
    /// Whether every chunk of the run is counted.
    pub fn complete(&self) -> bool {
        self.missing_chunks.is_empty()
    }
}

/// Merges `parts` (in any order). With `allow_partial`, missing shards are reported in the result
/// instead of refused; every other problem is refused either way.
pub fn merge(parts: &[NamedPart], allow_partial: bool) -> Result<Merged, MergeError> {
    let first = parts.first().ok_or(MergeError::NoParts)?;
    let plan = first.part.plan().map_err(|error| MergeError::BadPart {
        file: first.name.clone(),
        error,
    })?;
    if first.part.key().method().is_none() {
        return Err(MergeError::BadPart {
            file: first.name.clone(),
            error: PartError::Algorithm {
                found: first.part.algorithm.clone(),
            },
        });
    }
    let mut tally = Tally::empty(first.part.key());
    // Who counted which chunks, to name both files of an overlap.
    let mut owners: Vec<(Range<u64>, &str)> = Vec::new();
    let mut seen: Vec<(ShardId, &str)> = Vec::new();
    let mut compute = Duration::ZERO;
    let mut workers = 0usize;
    let mut kernels: Vec<String> = Vec::new();
    for named in parts {
        let file = named.name.as_str();
        let part = &named.part;
        let bad = |error| MergeError::BadPart {
            file: file.to_owned(),
            error,
        };
        let part_tally = part.tally().map_err(bad)?;
        let what = differences(&first.part, part);
        if !what.is_empty() {
            return Err(MergeError::DifferentRuns {
                file: file.to_owned(),
                other: first.name.clone(),
                what,
            });
        }
        if let Some((_, other)) = seen.iter().find(|(s, _)| *s == part.shard) {
            return Err(MergeError::Duplicate {
                file: file.to_owned(),
                other: (*other).to_owned(),
                shard: part.shard,
            });
        }
        tally.merge(&part_tally).map_err(|e| match e {
            TallyError::Overlap(chunks) => {
                let other = owners
                    .iter()
                    .find(|(r, _)| r.start < chunks.end && chunks.start < r.end)
                    .map_or("another part", |(_, name)| name);
                MergeError::Overlap {
                    file: file.to_owned(),
                    other: other.to_owned(),
                    chunks,
                }
            }
            // Keys were compared above; what is left is arithmetic.
            _ => MergeError::Overflow {
                file: file.to_owned(),
            },
        })?;
        owners.extend(part_tally.ranges().iter().map(|r| (r.clone(), file)));
        seen.push((part.shard, file));
        compute = compute.saturating_add(part_tally.elapsed);
        workers = workers.saturating_add(part.workers);
        if !kernels.contains(&part.kernel) {
            kernels.push(part.kernel.clone());
        }
    }
    kernels.sort();
    let count = first.part.shard.count;
    let shard_count = parts
        .iter()
        .all(|p| p.part.shard.count == count)
        .then_some(count);
    let missing_chunks = tally.missing(plan.chunks());
    let missing_shards = match shard_count {
        Some(n) if !missing_chunks.is_empty() => (0..n)
            .filter(|k| !seen.iter().any(|(s, _)| s.index == *k))
            // An empty shard (more shards than chunks) misses nothing.
            .filter(|k| plan.shard(*k, n).is_ok_and(|r| !r.is_empty()))
            .collect(),
        _ => Vec::new(),
    };
    if !missing_chunks.is_empty() && !allow_partial {
        return Err(MergeError::Missing {
            shards: missing_shards,
            count: shard_count.unwrap_or(0),
            missing: missing_chunks,
            chunks: plan.chunks(),
        });
    }
    Ok(Merged {
        tally,
        plan,
        parts: parts.len(),
        shard_count,
        missing_shards,
        missing_chunks,
        compute,
        workers,
        kernels,
        requested_trials: first.part.requested_trials,
    })
}

/// The run settings in which `part` differs from `first`, as `trials 100 vs 200, seed ...`.
fn differences(first: &Part, part: &Part) -> String {
    let mut what = Vec::new();
    if part.total_trials != first.total_trials {
        what.push(format!(
            "trials {} vs {}",
            part.total_trials, first.total_trials
        ));
    }
    if part.seed != first.seed {
        what.push(format!("seed {} vs {}", part.seed, first.seed));
    }
    if part.chunk_size != first.chunk_size {
        what.push(format!(
            "chunk size {} vs {}",
            part.chunk_size, first.chunk_size
        ));
    }
    if part.requested_trials != first.requested_trials {
        let show = |r: Option<u64>| r.map_or("none".to_owned(), |r| r.to_string());
        what.push(format!(
            "requested trials {} vs {}",
            show(part.requested_trials),
            show(first.requested_trials)
        ));
    }
    if part.method() != first.method() {
        what.push(format!("method {} vs {}", part.method(), first.method()));
    }
    if part.algorithm != first.algorithm {
        what.push(format!(
            "algorithm {} vs {}",
            part.algorithm, first.algorithm
        ));
    }
    what.join(", ")
}

/// What `piest merge` reports: the estimate (built as a single run's), and how complete it is.
#[derive(Clone, Debug, Serialize)]
pub struct MergeReport {
    /// Whether every chunk of the run is counted: only then is this the run's estimate.
    pub complete: bool,
    /// Trials of the whole run (equal to `trials` when complete).
    pub total_trials: u64,
    /// Parts merged.
    pub parts: usize,
    /// The shard count the parts name (`null` if they name different counts).
    pub shard_count: Option<u64>,
    /// Shards missing from a partial merge (`[]` when complete).
    pub missing_shards: Vec<u64>,
    /// Chunk ranges `[start, end)` no part counted (`[]` when complete).
    pub missing_chunks: Vec<[u64; 2]>,
    /// Sum of the parts' wall times in seconds (`elapsed_s` is the slowest part's).
    pub compute_s: f64,
    /// Whether the parts hold any trial: `false` for a partial merge of empty parts only, whose
    /// `pi`, `std_error`, `error` and `abs_error` are then `null` (there is no estimate).
    pub has_estimate: bool,
    /// The estimate of the merged counts, with the fields described in the module docs.
    #[serde(flatten)]
    pub report: Report,
}

impl MergeReport {
    /// The report of `merged`.
    pub fn new(merged: &Merged) -> Self {
        let report = Report::new(&merged.tally, merged.workers, &merged.kernels.join("+"))
            .with_requested_trials(merged.requested_trials);
        MergeReport {
            complete: merged.complete(),
            total_trials: merged.plan.trials(),
            parts: merged.parts,
            shard_count: merged.shard_count,
            missing_shards: merged.missing_shards.clone(),
            missing_chunks: merged
                .missing_chunks
                .iter()
                .map(|r| [r.start, r.end])
                .collect(),
            compute_s: merged.compute.as_secs_f64(),
            has_estimate: report.trials > 0,
            report,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::part::{PartReport, parse_all};
    use crate::tally::{SourceCounts, TallyKey};

    const TRIALS: u64 = 1_000;
    const CHUNK: u64 = 30;

    /// A fixed made-up count per chunk: merging must add exactly these.
    fn count(plan: &Plan, r: &Range<u64>) -> u64 {
        r.clone()
            .map(|i| (i * 7919) % (plan.chunk(i).trials + 1))
            .sum()
    }

    fn part_with(trials: u64, seed: u64, k: u64, n: u64, kernel: &str) -> NamedPart {
        let plan = Plan::new(trials, CHUNK).unwrap();
        let range = plan.shard(k, n).unwrap();
        let mut tally = Tally::of_range(
            TallyKey::new(seed, CHUNK),
            &plan,
            range.clone(),
            count(&plan, &range),
        )
        .unwrap();
        tally.sources = SourceCounts {
            cached_chunks: 0,
            computed_chunks: range.end - range.start,
            computed_trials: plan.trials_in(&range),
        };
        tally.elapsed = Duration::from_millis(10 * (k + 1));
        let report = Report::new(&tally, 2, kernel);
        let text = serde_json::to_string(&PartReport::new(
            ShardId::new(k, n).unwrap(),
            &plan,
            &tally,
            report,
        ))
        .unwrap();
        NamedPart {
            name: format!("part-{k}-of-{n}.json"),
            part: parse_all(&text).unwrap().remove(0),
        }
    }

    fn part(k: u64, n: u64) -> NamedPart {
        part_with(TRIALS, 7, k, n, "avx2")
    }

    fn whole() -> Report {
        let plan = Plan::new(TRIALS, CHUNK).unwrap();
        let tally = Tally::of_range(
            TallyKey::new(7, CHUNK),
            &plan,
            plan.all(),
            count(&plan, &plan.all()),
        )
        .unwrap();
        Report::new(&tally, 2, "avx2")
    }

    #[test]
    fn merged_shards_report_exactly_what_the_whole_run_reports() {
        let whole = whole();
        for n in [1, 2, 3, 7, 34, 50] {
            let mut parts: Vec<NamedPart> = (0..n).map(|k| part(k, n)).collect();
            parts.reverse();
            let merged = merge(&parts, false).unwrap();
            let report = MergeReport::new(&merged);
            assert!(report.complete);
            assert_eq!(report.report.inside, whole.inside, "n = {n}");
            assert_eq!(report.report.pi.to_bits(), whole.pi.to_bits());
            assert_eq!(report.report.std_error.to_bits(), whole.std_error.to_bits());
            assert_eq!(
                report.report.ci95.map(f64::to_bits),
                whole.ci95.map(f64::to_bits)
            );
            assert_eq!(report.report.workers, 2 * n as usize);
            assert_eq!(
                report.report.elapsed_s,
                Duration::from_millis(10 * n).as_secs_f64()
            );
        }
    }

    #[test]
    fn parts_of_different_runs_are_refused_naming_the_setting() {
        let a = part(0, 2);
        for (b, what) in [
            (
                part_with(TRIALS + 1, 7, 1, 2, "avx2"),
                "trials 1001 vs 1000",
            ),
            (part_with(TRIALS, 8, 1, 2, "avx2"), "seed 8 vs 7"),
        ] {
            let err = merge(&[a.clone(), b], false).unwrap_err();
            assert!(matches!(err, MergeError::DifferentRuns { .. }), "{err}");
            assert!(err.to_string().contains(what), "{err}");
            assert!(err.to_string().contains("part-0-of-2.json"), "{err}");
        }
        let mut other_algorithm = part(1, 2);
        other_algorithm.part.algorithm = "piest-other-v9".into();
        let err = merge(&[a, other_algorithm], false).unwrap_err();
        assert!(
            err.to_string().contains("algorithm piest-other-v9"),
            "{err}"
        );
    }

    #[test]
    fn duplicated_and_overlapping_parts_are_refused() {
        let mut copy = part(1, 3);
        copy.name = "copy.json".into();
        let err = merge(&[part(0, 3), part(1, 3), copy], false).unwrap_err();
        assert!(matches!(err, MergeError::Duplicate { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("'copy.json' and 'part-1-of-3.json'"),
            "{err}"
        );
        let err = merge(&[part(0, 2), part(1, 3)], false).unwrap_err();
        assert!(matches!(err, MergeError::Overlap { .. }), "{err}");
        assert!(err.to_string().contains("part-0-of-2.json"), "{err}");
    }

    #[test]
    fn missing_shards_are_named_and_allowed_only_when_asked() {
        let parts = [part(0, 7), part(3, 7), part(6, 7)];
        let err = merge(&parts, false).unwrap_err();
        assert!(
            err.to_string().contains("missing shards 1, 2, 4, 5 of 7"),
            "{err}"
        );
        let merged = merge(&parts, true).unwrap();
        assert!(!merged.complete());
        assert!(MergeReport::new(&merged).has_estimate);
        assert_eq!(merged.missing_shards, [1, 2, 4, 5]);
        let report = MergeReport::new(&merged);
        assert!(!report.complete);
        assert_eq!(report.total_trials, TRIALS);
        assert!(report.report.trials < TRIALS);
        // Parts of different counts that leave a gap: the chunks are named instead.
        let err = merge(&[part(0, 2), part(2, 3)], false).unwrap_err();
        assert!(err.to_string().contains("different shard counts"), "{err}");
        assert!(matches!(merge(&[], false), Err(MergeError::NoParts)));
    }

    #[test]
    fn a_complete_set_with_empty_shards_misses_nothing() {
        // 34 chunks in 40 shards: 6 shards are empty, and their absence loses nothing.
        let plan = Plan::new(TRIALS, CHUNK).unwrap();
        let parts: Vec<NamedPart> = (0..40)
            .filter(|k| !plan.shard(*k, 40).unwrap().is_empty())
            .map(|k| part(k, 40))
            .collect();
        assert!(parts.len() < 40);
        assert!(merge(&parts, false).unwrap().complete());
    }

    #[test]
    fn a_partial_merge_of_empty_parts_has_no_estimate_and_no_nan_in_json() {
        // 34 chunks in 40 shards: shards 0, 7, ... hold none (whichever are empty).
        let plan = Plan::new(TRIALS, CHUNK).unwrap();
        let empty: Vec<NamedPart> = (0..40)
            .filter(|k| plan.shard(*k, 40).unwrap().is_empty())
            .map(|k| part(k, 40))
            .collect();
        assert!(!empty.is_empty());
        let report = MergeReport::new(&merge(&empty, true).unwrap());
        assert!(!report.has_estimate && !report.complete);
        let json = serde_json::to_string(&report).unwrap();
        assert!(!json.contains("NaN") && !json.contains("inf"), "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        for field in ["pi", "std_error", "error", "abs_error"] {
            assert!(value[field].is_null(), "{field}");
        }
        assert_eq!(value["has_estimate"], false);
    }

    #[test]
    fn kernels_that_differ_are_all_reported() {
        let merged = merge(&[part_with(TRIALS, 7, 0, 2, "portable"), part(1, 2)], false).unwrap();
        assert_eq!(MergeReport::new(&merged).report.kernel, "avx2+portable");
    }
}
