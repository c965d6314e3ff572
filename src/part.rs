//! The *part*: what one shard of a split run writes (`piest --shard K/N --json`), and the checks
//! that turn a part read back from a file into an exact [`Tally`].
//!
//! A part is a JSON object holding every field of an estimate's JSON ([`Report`], with `trials`
//! and `inside` the part's own; an empty shard's `pi` is `null`) plus what a merge needs: a format
//! marker and version, the shard's index and count, the whole run's trials (`total_trials`), the
//! chunk ranges counted and how they were obtained. Readers ignore fields they do not know, so
//! fields may be added without a new version; a change of meaning needs a new
//! [`FORMAT_VERSION`], and a part of another version is refused, never guessed at.
//!
//! Parts are read strictly, because a merge repeats what they say: an object that holds a key
//! twice (serde_json would keep the last), a missing or unknown `kernel`, control characters in a
//! string the merge reads or prints, or a sampling `method` this build does not run are refused.
//! A part carries no signature: whoever can edit a part can change the merge, within these checks.
//!
//! Extending the format: a new field is added (never removed, renamed or retyped), and a field
//! that changes what the counts mean (such as `method`) is one this reader refuses unless it
//! knows the value, so an old reader never merges counts it misreads.
//!
//! A stratified part (`"method": "stratified"`, the stratified algorithm) also carries
//! `inside_squares`, the exact `Σc²` of its chunks as a decimal string, and `requested_trials`
//! when the run rounded `--trials` up to whole chunks; its `chunks` is `m`. The sums are checked
//! against each other ([`crate::stats::replicates::Replicates::is_consistent`]) and merge by
//! addition, so the merged report is the single run's to the bit. A part without a `method` is
//! plain; a method whose algorithm is another's is refused; parts of different methods do not
//! merge.
//!
//! [`Part::tally`] trusts nothing in the file: the ranges must lie in the plan of `total_trials`
//! and `chunk_size`, be the ranges [`Plan::shard`] gives the named shard, hold exactly the trials
//! the plan gives them, and `inside` may not exceed `trials`.

use std::ops::Range;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::report::Report;
use crate::sampler::{Kernel, Method};
use crate::tally::{SourceCounts, Tally, TallyKey};

mod strict;

/// The sampling method of a part without a `method` field (parts written before there was a
/// choice).
pub const METHOD: &str = "plain";

/// The value of a part's `format` field.
pub const FORMAT: &str = "piest-part";

/// The version of the part format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Which shard of how many a part is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardId {
    /// Shard index, `0 ≤ index < count`.
    pub index: u64,
    /// Number of shards the run was split into.
    pub count: u64,
}

impl ShardId {
    /// Shard `index` of `count`; `None` unless `index < count`.
    pub fn new(index: u64, count: u64) -> Option<Self> {
        (index < count).then_some(ShardId { index, count })
    }
}

impl std::fmt::Display for ShardId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The JSON of a part as written: the shard's [`Report`] with the fields a merge needs.
#[derive(Clone, Debug, Serialize)]
pub struct PartReport {
    /// Always [`FORMAT`]: tells a part from an estimate or another program's JSON.
    pub format: &'static str,
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Which shard this is.
    pub shard: ShardId,
    /// Trials of the whole run the shard is part of (`trials` is the shard's own).
    pub total_trials: u64,
    /// The chunk ranges counted, `[start, end)`, sorted.
    pub chunk_ranges: Vec<[u64; 2]>,
    /// Chunks sampled by this shard (the rest came from the cache).
    pub computed_chunks: u64,
    /// Trials of the chunks sampled by this shard.
    pub computed_trials: u64,
    /// Whether the shard counted any trial: `false` for an empty shard (more shards than
    /// chunks), whose `pi`, `std_error`, `error` and `abs_error` are then `null`.
    pub has_estimate: bool,
    /// `Σc²`, the sum of each chunk's inside count squared, as a decimal string (it may exceed
    /// 2^64, and JSON readers keep 53 bits of a number): stratified parts only, whose interval
    /// comes from the spread between chunks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inside_squares: Option<String>,
    /// The shard's estimate, as a run's JSON has it.
    #[serde(flatten)]
    pub report: Report,
}

impl PartReport {
    /// The part of `tally`, shard `shard` of a run of `plan`, reported as `report` (which must
    /// be [`Report::new`] of the same tally).
    pub fn new(shard: ShardId, plan: &Plan, tally: &Tally, report: Report) -> Self {
        PartReport {
            format: FORMAT,
            format_version: FORMAT_VERSION,
            shard,
            total_trials: plan.trials(),
            chunk_ranges: tally.ranges().iter().map(|r| [r.start, r.end]).collect(),
            computed_chunks: tally.sources.computed_chunks,
            computed_trials: tally.sources.computed_trials,
            has_estimate: report.trials > 0,
            inside_squares: (tally.key().method() == Some(Method::Stratified))
                .then(|| tally.inside_squares().to_string()),
            report,
        }
    }
}

/// A part as read back: the fields a merge uses (everything else in the file is ignored).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Part {
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// Which shard this is.
    pub shard: ShardId,
    /// Trials of the whole run.
    pub total_trials: u64,
    /// Version string of the sampling algorithm.
    pub algorithm: String,
    /// The run's seed.
    pub seed: u64,
    /// The run's chunk size.
    pub chunk_size: u64,
    /// The chunk ranges counted.
    pub chunk_ranges: Vec<[u64; 2]>,
    /// The shard's trials.
    pub trials: u64,
    /// The shard's inside count.
    pub inside: u64,
    /// Chunks read from the cache.
    #[serde(default)]
    pub cached_chunks: u64,
    /// Chunks sampled.
    #[serde(default)]
    pub computed_chunks: u64,
    /// Trials sampled.
    #[serde(default)]
    pub computed_trials: u64,
    /// The shard's wall time in seconds.
    #[serde(default)]
    pub elapsed_s: f64,
    /// The shard's worker threads.
    #[serde(default)]
    pub workers: usize,
    /// The shard's kernel: one of [`Kernel::all`]'s names.
    pub kernel: String,
    /// The sampling method; absent in parts written before there was a choice (plain).
    #[serde(default)]
    pub method: Option<String>,
    /// `Σc²` as a decimal string: present in stratified parts only.
    #[serde(default)]
    pub inside_squares: Option<String>,
    /// The `--trials` asked for, when the run counted another number (stratified runs round it
    /// up to whole chunks).
    #[serde(default)]
    pub requested_trials: Option<u64>,
}

/// Why a text is not a usable part. The caller adds the file's name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PartError {
    /// Not JSON at all, or cut short.
    #[error("not JSON ({0})")]
    NotJson(String),
    /// JSON, but not a piest part (no `format` marker).
    #[error("not a piest part: no \"format\": \"{FORMAT}\" field (is it a whole run's JSON?)")]
    NotAPart,
    /// A piest part of a format this build does not read.
    #[error("part format version {found}, but this piest reads version {FORMAT_VERSION}")]
    Version {
        /// The version in the file.
        found: String,
    },
    /// A part counted by a sampling algorithm this build does not run: its report would be
    /// labelled with the wrong algorithm.
    #[error(
        "counted by algorithm {found}, but this piest runs {}",
        Method::ALL.map(Method::algorithm).join(" and ")
    )]
    Algorithm {
        /// The part's algorithm.
        found: String,
    },
    /// A part counted by a sampling method this build does not run.
    #[error(
        "counted by sampling method {found:?}, but this piest runs {}",
        Method::ALL.map(Method::name).join(", ")
    )]
    Method {
        /// The part's method (control characters escaped).
        found: String,
    },
    /// A part naming a kernel piest does not have (or none).
    #[error(
        "kernel {found:?} is not one of piest's kernels ({})",
        Kernel::all().iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
    )]
    Kernel {
        /// The part's kernel.
        found: String,
    },
    /// A part whose fields are missing, mistyped, repeated or contradict each other.
    #[error("damaged part: {0}")]
    Damaged(String),
}

/// Reads every part in `text`: one JSON object, or several one after another (as `cat part-*.json`
/// gives on stdin). An empty text holds no parts.
pub fn parse_all(text: &str) -> Result<Vec<Part>, PartError> {
    let mut parts = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<strict::StrictValue>() {
        let value = value.map_err(|e| {
            if e.is_eof() {
                PartError::NotJson(format!("cut short: {e}"))
            } else if e.is_data() {
                // Well-formed JSON that a part may not be: a key given twice.
                PartError::Damaged(e.to_string())
            } else if text.trim_start().starts_with("shard ") {
                // The text report of a shard: the part is what `--json` prints.
                PartError::NotJson(format!(
                    "{e}: this is a shard's text report; write parts with `piest --shard K/N \
                     --json`"
                ))
            } else {
                PartError::NotJson(e.to_string())
            }
        })?;
        parts.push(from_value(value.0)?);
    }
    Ok(parts)
}

/// One part from a parsed JSON value: checks the marker and version before the fields.
fn from_value(value: serde_json::Value) -> Result<Part, PartError> {
    let serde_json::Value::Object(map) = &value else {
        return Err(PartError::NotAPart);
    };
    if map.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(PartError::NotAPart);
    }
    match map.get("format_version") {
        Some(v) if v.as_u64() == Some(u64::from(FORMAT_VERSION)) => {}
        Some(v) => {
            return Err(PartError::Version {
                found: v.to_string(),
            });
        }
        None => {
            return Err(PartError::Version {
                found: "missing".into(),
            });
        }
    }
    let part: Part =
        serde_json::from_value(value).map_err(|e| PartError::Damaged(e.to_string()))?;
    part.check_strings()?;
    Ok(part)
}

/// Whether `text` holds a control character (a terminal escape sequence starts with one).
fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

impl Part {
    /// Refuses the strings a merge compares or prints unless they are what piest writes.
    fn check_strings(&self) -> Result<(), PartError> {
        if has_control(&self.algorithm) {
            return Err(PartError::Damaged(format!(
                "the algorithm {:?} holds control characters",
                self.algorithm
            )));
        }
        if !Kernel::all().iter().any(|k| k.name() == self.kernel) {
            return Err(PartError::Kernel {
                found: self.kernel.clone(),
            });
        }
        match &self.method {
            Some(method) if !Method::ALL.iter().any(|m| m.name() == method) => {
                Err(PartError::Method {
                    found: method.clone(),
                })
            }
            _ => Ok(()),
        }
    }

    /// The part's sampling method ([`METHOD`] when it names none).
    pub fn method(&self) -> Method {
        self.method
            .as_deref()
            .and_then(|name| Method::ALL.into_iter().find(|m| m.name() == name))
            .unwrap_or_default()
    }
}

impl Part {
    /// What the part's chunks depend on.
    pub fn key(&self) -> TallyKey {
        TallyKey {
            algorithm: self.algorithm.clone(),
            seed: self.seed,
            chunk_size: self.chunk_size,
        }
    }

    /// The plan of the whole run the part belongs to.
    pub fn plan(&self) -> Result<Plan, PartError> {
        Plan::new(self.total_trials, self.chunk_size).map_err(|e| PartError::Damaged(e.to_string()))
    }

    /// The part's exact tally, after checking every stored number against the plan (see the
    /// module docs). Timings and sources are carried over as stored.
    pub fn tally(&self) -> Result<Tally, PartError> {
        let damaged = |why: String| PartError::Damaged(why);
        let plan = self.plan()?;
        if self.shard.index >= self.shard.count {
            return Err(damaged(format!(
                "shard {} does not exist (shards are numbered 0 to N-1)",
                self.shard
            )));
        }
        let expected = plan
            .shard(self.shard.index, self.shard.count)
            .map_err(|e| damaged(e.to_string()))?;
        let ranges: Vec<Range<u64>> = self.chunk_ranges.iter().map(|[a, b]| *a..*b).collect();
        let expected_ranges: Vec<Range<u64>> = if expected.is_empty() {
            Vec::new()
        } else {
            vec![expected.clone()]
        };
        if ranges != expected_ranges {
            return Err(damaged(format!(
                "chunks {} are not those of shard {} of a {}-trial run (chunks {}..{})",
                show_ranges(&ranges),
                self.shard,
                plan.trials(),
                expected.start,
                expected.end
            )));
        }
        let trials = plan.trials_in(&expected);
        if self.trials != trials {
            return Err(damaged(format!(
                "{} trials, but its chunks hold {trials}",
                self.trials
            )));
        }
        if self.key().method() != Some(self.method()) {
            return Err(PartError::Algorithm {
                found: self.algorithm.clone(),
            });
        }
        let squares = match (self.method(), &self.inside_squares) {
            (Method::Plain, None) => 0,
            (Method::Plain, Some(_)) => {
                return Err(damaged("a plain part with inside_squares".into()));
            }
            (Method::Stratified, None) => {
                return Err(damaged("a stratified part without inside_squares".into()));
            }
            (Method::Stratified, Some(text)) => text
                .parse::<u128>()
                .ok()
                .filter(|_| text.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| damaged(format!("inside_squares {text:?} is not a whole number")))?,
        };
        let mut tally = Tally::from_parts(self.key(), ranges, self.trials, self.inside)
            .and_then(|t| t.with_inside_squares(squares))
            .map_err(|e| damaged(e.to_string()))?;
        let computed_ok = self
            .cached_chunks
            .checked_add(self.computed_chunks)
            .is_some_and(|c| c == tally.chunks())
            && self.computed_trials <= self.trials;
        if !computed_ok {
            return Err(damaged(format!(
                "{} cached and {} computed chunks ({} trials) do not make its {} chunks",
                self.cached_chunks,
                self.computed_chunks,
                self.computed_trials,
                tally.chunks()
            )));
        }
        tally.sources = SourceCounts {
            cached_chunks: self.cached_chunks,
            computed_chunks: self.computed_chunks,
            computed_trials: self.computed_trials,
        };
        tally.elapsed = Duration::try_from_secs_f64(self.elapsed_s)
            .map_err(|_| damaged(format!("elapsed_s {} is not a duration", self.elapsed_s)))?;
        Ok(tally)
    }
}

/// Ranges as `a..b, c..d` (or `none`).
pub fn show_ranges(ranges: &[Range<u64>]) -> String {
    if ranges.is_empty() {
        return "none".into();
    }
    ranges
        .iter()
        .map(|r| format!("{}..{}", r.start, r.end))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A part of shard `k` of `n` of a run of 95 trials in chunks of 10, as JSON text.
    pub(crate) fn part_json(k: u64, n: u64) -> String {
        let plan = Plan::new(95, 10).unwrap();
        let range = plan.shard(k, n).unwrap();
        let inside = plan.trials_in(&range) * 3 / 4;
        let mut tally =
            Tally::of_range(TallyKey::new(7, 10), &plan, range.clone(), inside).unwrap();
        tally.sources = SourceCounts {
            cached_chunks: 0,
            computed_chunks: range.end - range.start,
            computed_trials: plan.trials_in(&range),
        };
        let report = Report::new(&tally, 2, "portable");
        let part = PartReport::new(ShardId::new(k, n).unwrap(), &plan, &tally, report);
        serde_json::to_string_pretty(&part).unwrap()
    }

    #[test]
    fn a_written_part_reads_back_as_its_tally() {
        let text = part_json(1, 3);
        let parts = parse_all(&text).unwrap();
        assert_eq!(parts.len(), 1);
        let tally = parts[0].tally().unwrap();
        assert_eq!(tally.ranges(), std::slice::from_ref(&(3..6)));
        assert_eq!((tally.trials(), tally.inside()), (30, 22));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        for field in [
            "pi",
            "std_error",
            "ci95",
            "elapsed_s",
            "kernel",
            "total_trials",
        ] {
            assert!(value.get(field).is_some(), "{field} missing");
        }
    }

    #[test]
    fn an_empty_shard_has_a_null_pi_and_no_ranges() {
        let text = part_json(12, 20);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        // JSON holds no NaN: no estimate is null, and says so.
        for field in ["pi", "std_error", "error", "abs_error"] {
            assert!(value[field].is_null(), "{field}: {}", value[field]);
        }
        assert_eq!(value["has_estimate"], false);
        assert_eq!(value["trials"], 0);
        assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
        let tally = parse_all(&text).unwrap()[0].tally().unwrap();
        assert_eq!(tally.chunks(), 0);
    }

    #[test]
    fn concatenated_parts_are_all_read() {
        let text = format!("{}\n{}", part_json(0, 2), part_json(1, 2));
        assert_eq!(parse_all(&text).unwrap().len(), 2);
        assert!(parse_all("").unwrap().is_empty());
    }

    #[test]
    fn texts_that_are_not_parts_are_told_apart() {
        let text = part_json(0, 2);
        let cut = &text[..text.len() / 2];
        assert!(matches!(parse_all(cut), Err(PartError::NotJson(m)) if m.contains("cut short")));
        assert!(matches!(parse_all("pi = 3"), Err(PartError::NotJson(_))));
        let report = "shard 0 of 3 (chunks 0..1 of 3): not a final estimate\n";
        assert!(matches!(parse_all(report), Err(PartError::NotJson(m)) if m.contains("--json")));
        assert_eq!(parse_all(r#"{"pi": 3.14}"#), Err(PartError::NotAPart));
        assert_eq!(parse_all("[1, 2]"), Err(PartError::NotAPart));
        let v2 = text.replace("\"format_version\": 1", "\"format_version\": 2");
        assert!(matches!(parse_all(&v2), Err(PartError::Version { found }) if found == "2"));
        let mistyped = text.replace("\"seed\": 7", "\"seed\": \"seven\"");
        assert!(matches!(parse_all(&mistyped), Err(PartError::Damaged(_))));
    }

    #[test]
    fn repeated_keys_unknown_kernels_and_control_characters_are_refused() {
        let text = part_json(1, 3);
        let edit = |from: &str, to: &str| {
            assert!(text.contains(from), "{from}");
            parse_all(&text.replacen(from, to, 1))
        };
        // serde_json alone would merge with the second "inside".
        let err = edit("\"inside\": 22", "\"inside\": 22, \"inside\": 30").unwrap_err();
        assert!(matches!(&err, PartError::Damaged(m) if m.contains("\"inside\" appears twice")));
        let err = edit("\"kernel\": \"portable\",", "").unwrap_err();
        assert!(
            matches!(&err, PartError::Damaged(m) if m.contains("kernel")),
            "{err}"
        );
        for kernel in ["", "auto", "AVX2", "avx2+portable", "\\u001b[2Javx2"] {
            let err = edit("\"portable\"", &format!("\"{kernel}\"")).unwrap_err();
            assert!(matches!(err, PartError::Kernel { .. }), "{kernel}: {err}");
            assert!(!err.to_string().contains('\u{1b}'), "{err}");
        }
        let escape = "\"piest-blake3\\u001b]0;x\\u0007\"";
        let algorithm = format!("\"{}\"", crate::ALGORITHM);
        let err = edit(&algorithm, escape).unwrap_err();
        assert!(
            matches!(&err, PartError::Damaged(m) if m.contains("control")),
            "{err}"
        );
        assert!(!err.to_string().chars().any(char::is_control), "{err}");
        // A method this build does not run is refused; one whose algorithm is another's is
        // read but its counts are not taken.
        let with = |method: &str| edit("\"method\": \"plain\"", &format!("\"method\": {method}"));
        assert!(matches!(
            with("\"jittered\""),
            Err(PartError::Method { .. })
        ));
        assert!(with("\"plain\"").is_ok());
        let mislabelled = with("\"stratified\"").unwrap();
        assert!(matches!(
            mislabelled[0].tally(),
            Err(PartError::Algorithm { .. })
        ));
    }

    #[test]
    fn stored_numbers_that_contradict_the_plan_are_refused() {
        let text = part_json(1, 3);
        let edit = |from: &str, to: &str| {
            assert!(text.contains(from), "{from}");
            parse_all(&text.replace(from, to)).unwrap()[0].tally()
        };
        // More inside than trials, trials the ranges cannot hold, ranges of another shard.
        assert!(edit("\"inside\": 22", "\"inside\": 31").is_err());
        assert!(edit("\"trials\": 30", "\"trials\": 31").is_err());
        assert!(edit("\"index\": 1", "\"index\": 2").is_err());
        assert!(edit("\"index\": 1", "\"index\": 3").is_err());
        assert!(edit("\"total_trials\": 95", "\"total_trials\": 0").is_err());
        assert!(edit("\"computed_chunks\": 3", "\"computed_chunks\": 4").is_err());
        assert!(edit("\"inside\": 22", "\"inside\": 21").is_ok());
    }
}
