//! `cache verify`: recomputes cached spans (all of them, or a reproducible random sample) and
//! reports and removes those whose count differs. The MAC proves who wrote an entry; only
//! recomputing proves the count right, which also checks the machine that computed it: the
//! count is a pure function of its key.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use super::Cache;
use super::entry::{BlockKey, Entry, Span};
use super::key::Secret;
use super::maintain::{Done, MaintenanceError, check, read_file};
use super::session::write_atomic;
use crate::runner::SLICE_TRIALS;
use crate::sampler::{Kernel, LaneStates, Method};

/// BLAKE3 key-derivation context of the sample choice.
const SAMPLE_CONTEXT: &str = "piest 2026-12-01 cache verify sample";

#[derive(Clone, Copy, Debug)]
pub struct VerifyOptions {
    /// Fraction of the spans to recompute, in (0, 1]; 1 checks everything.
    pub fraction: f64,
    /// Seed of the sample choice: the same seed picks the same spans of the same cache.
    pub sample_seed: u64,
    pub workers: NonZeroUsize,
    /// The kernel that recounts (all give identical counts).
    pub kernel: Kernel,
}

/// A cached span whose count (or `Σc²`) differs from the recomputed one (it has been removed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub entry: String,
    /// The sampling method of the entry (`plain`, `stratified`).
    pub method: &'static str,
    pub seed: u64,
    pub chunk_size: u64,
    /// First chunk of the span.
    pub first_chunk: u64,
    /// One past its last chunk.
    pub end_chunk: u64,
    /// Trials of each of its chunks.
    pub trials_per_chunk: u64,
    /// Inside count the cache held.
    pub cached: u64,
    /// Inside count recomputed now.
    pub computed: u64,
    /// For a stratified entry, `Σc²` of the span's chunks the cache held, as a decimal string
    /// (it may exceed 2^64); `null` for plain ones.
    pub cached_squares: Option<String>,
    /// The same recomputed now.
    pub computed_squares: Option<String>,
}

/// What `cache verify` found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub dir: String,
    /// Valid entries of a sampling algorithm this piest knows (every method's) read.
    pub entries: u64,
    /// Entry files that fail verification (damaged, forged, another cache's); not recomputed.
    pub invalid: u64,
    /// Valid entries of another sampling algorithm, which this piest cannot recompute.
    pub other_algorithm: u64,
    /// Spans recomputed.
    pub spans: u64,
    /// Chunks recomputed.
    pub chunks: u64,
    /// Trials recomputed.
    pub trials: u64,
    /// Spans whose count differs.
    pub differences: Vec<Difference>,
    /// Spans removed from their entries (the differing ones still there).
    pub removed_spans: u64,
    /// Entries rewritten without their differing spans.
    pub entries_rewritten: u64,
    /// Entries removed because no span was left.
    pub entries_removed: u64,
}

impl Cache {
    /// Recomputes the spans chosen by `options` on `options.workers` threads, reports those
    /// whose count differs and removes them from their entries. Needs the cache's key. Stops
    /// soon after `cancel` is set, still removing the differences found by then.
    pub fn verify(
        &self,
        options: &VerifyOptions,
        cancel: &AtomicBool,
    ) -> Result<VerifyReport, MaintenanceError> {
        let dir = self.entries_dir();
        let secret = Secret::load(&dir)?;
        let mut report = VerifyReport {
            dir: self.root().display().to_string(),
            ..VerifyReport::default()
        };
        let listing = self.list(cancel, &|| Done::Unchanged)?;
        let mut entries: Vec<(PathBuf, Entry)> = Vec::new();
        for file in listing.files.iter().filter(|f| !f.temp) {
            check(cancel, || Done::Unchanged)?;
            let Ok(bytes) = read_file(&file.path) else {
                report.invalid += 1;
                continue;
            };
            let name = file.path.file_name().map(|n| n.to_string_lossy());
            match Entry::decode_any(&bytes, &secret) {
                Ok(entry) if name.as_deref() == Some(entry.key.file_name(&secret).as_str()) => {
                    if entry.key.method().is_some() {
                        report.entries += 1;
                        entries.push((file.path.clone(), entry));
                    } else {
                        report.other_algorithm += 1;
                    }
                }
                _ => report.invalid += 1,
            }
        }
        let jobs: Vec<(usize, Span)> = entries
            .iter()
            .enumerate()
            .flat_map(|(i, (_, e))| {
                e.spans()
                    .iter()
                    .filter(|s| sampled(options, e, s))
                    .map(move |s| (i, *s))
            })
            .collect();
        let workers = options.workers.get();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("piest-verify-{i}"))
            .build()
            .map_err(|source| MaintenanceError::Workers { workers, source })?;
        let counts: Vec<Option<Span>> = pool.install(|| {
            jobs.par_iter()
                .map(|(i, span)| recount(options.kernel, &entries[*i].1.key, span, cancel))
                .collect()
        });
        let mut bad: Vec<Vec<Span>> = vec![Vec::new(); entries.len()];
        for ((i, span), count) in jobs.iter().zip(&counts) {
            let Some(count) = *count else { continue };
            report.spans += 1;
            report.chunks += span.chunks();
            report.trials = report.trials.saturating_add(span.total_trials());
            if count != *span {
                let (path, entry) = &entries[*i];
                report.differences.push(Difference {
                    entry: path.display().to_string(),
                    method: entry.key.method().map_or("", Method::name),
                    seed: entry.key.seed,
                    chunk_size: entry.key.chunk_size,
                    first_chunk: span.first,
                    end_chunk: span.end,
                    trials_per_chunk: span.trials,
                    cached: span.inside,
                    computed: count.inside,
                    cached_squares: span.squares.map(|q| q.to_string()),
                    computed_squares: count.squares.map(|q| q.to_string()),
                });
                bad[*i].push(*span);
            }
        }
        for ((path, entry), bad) in entries.iter().zip(&bad) {
            if !bad.is_empty() {
                remove_spans(path, entry, bad, &secret, &dir, &mut report);
            }
        }
        if cancel.load(Ordering::Relaxed) {
            return Err(MaintenanceError::Cancelled {
                done: Done::Verified(Box::new(report)),
            });
        }
        Ok(report)
    }
}

/// Whether `span` of `entry` is in the sample.
fn sampled(options: &VerifyOptions, entry: &Entry, span: &Span) -> bool {
    if options.fraction >= 1.0 {
        return true;
    }
    let mut hasher = blake3::Hasher::new_derive_key(SAMPLE_CONTEXT);
    for word in [
        options.sample_seed,
        entry.key.seed,
        entry.key.chunk_size,
        span.first,
        span.end,
        span.trials,
    ] {
        hasher.update(&word.to_le_bytes());
    }
    let mut word = [0; 8];
    word.copy_from_slice(&hasher.finalize().as_bytes()[..8]);
    (u64::from_le_bytes(word) as f64) < options.fraction * 2f64.powi(64)
}

/// `span` of an entry of `key` recomputed with the key's method (its count, and `Σc²` where the
/// key keeps squares), or `None` once `cancel` is set or when the key cannot be recomputed.
fn recount(kernel: Kernel, key: &BlockKey, span: &Span, cancel: &AtomicBool) -> Option<Span> {
    let design = key.method()?.design(key.chunk_size).ok()?;
    let squares = key.keeps_squares();
    let (inside, sum_of_squares) = (span.first..span.end)
        .into_par_iter()
        .map(|index| {
            let mut states = LaneStates::for_chunk(key.seed, index);
            let mut inside = 0;
            let mut left = span.trials;
            while left > 0 {
                if cancel.load(Ordering::Relaxed) {
                    return None;
                }
                let n = left.min(SLICE_TRIALS);
                inside += kernel.count(design, &mut states, span.trials - left, n);
                left -= n;
            }
            Some((inside, u128::from(inside) * u128::from(inside)))
        })
        .try_reduce(|| (0, 0), |a, b| Some((a.0 + b.0, a.1 + b.1)))?;
    Some(Span {
        inside,
        squares: squares.then_some(sum_of_squares),
        ..*span
    })
}

/// Removes the spans `bad` from the entry at `path` (read again: another run may have stored
/// since), rewriting it, or removing it when nothing is left.
fn remove_spans(
    path: &std::path::Path,
    listed: &Entry,
    bad: &[Span],
    secret: &Secret,
    dir: &std::path::Path,
    report: &mut VerifyReport,
) {
    let current = read_file(path)
        .ok()
        .and_then(|bytes| Entry::decode(&bytes, &listed.key, secret).ok());
    let Some(mut entry) = current else { return };
    let before = entry.spans().len();
    for span in bad {
        entry.remove(span);
    }
    let removed = (before - entry.spans().len()) as u64;
    if removed == 0 {
        return;
    }
    let written = if entry.is_empty() {
        std::fs::remove_file(path).is_ok()
    } else {
        write_atomic(dir, path, &entry.encode(secret)).is_ok()
    };
    if written {
        report.removed_spans += removed;
        if entry.is_empty() {
            report.entries_removed += 1;
        } else {
            report.entries_rewritten += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CacheSession;
    use crate::sampler::count_chunk;

    fn options(fraction: f64) -> VerifyOptions {
        VerifyOptions {
            fraction,
            sample_seed: 1,
            workers: NonZeroUsize::new(2).unwrap(),
            kernel: Kernel::best(),
        }
    }

    /// A cache with one entry of seed 3, chunk size 1000: cells 0 and 1 whole, one wrong span.
    fn cache_with_a_wrong_span() -> (tempfile::TempDir, Cache, BlockKey) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let session = CacheSession::open(cache.clone(), true);
        let key = BlockKey::new(Method::Plain, 3, 1000, 0);
        let cell = key.cell_chunks();
        let mut entry = Entry::empty(key.clone());
        for c in 0..3 {
            let inside: u64 = (c * cell..(c + 1) * cell)
                .map(|i| count_chunk(Kernel::Scalar, 3, i, 1000))
                .sum();
            entry.insert(Span {
                first: c * cell,
                end: (c + 1) * cell,
                trials: 1000,
                inside: if c == 1 { inside + 1 } else { inside },
                squares: None,
            });
        }
        assert!(session.store(&entry));
        (dir, cache, key)
    }

    #[test]
    fn verify_finds_and_removes_exactly_the_wrong_span() {
        let (_dir, cache, key) = cache_with_a_wrong_span();
        let cell = key.cell_chunks();
        let report = cache
            .verify(&options(1.0), &AtomicBool::new(false))
            .unwrap();
        assert_eq!(
            (report.entries, report.spans, report.chunks),
            (1, 3, 3 * cell)
        );
        assert_eq!(report.differences.len(), 1);
        let d = &report.differences[0];
        assert_eq!(
            (d.first_chunk, d.end_chunk, d.cached),
            (cell, 2 * cell, d.computed + 1)
        );
        assert_eq!((report.removed_spans, report.entries_rewritten), (1, 1));
        // What is left is right.
        let again = cache
            .verify(&options(1.0), &AtomicBool::new(false))
            .unwrap();
        assert_eq!((again.spans, again.differences.len()), (2, 0));
    }

    #[test]
    fn verify_recomputes_stratified_spans_with_their_squares() {
        use crate::sampler::{Design, Grid, count_design_chunk};
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let session = CacheSession::open(cache.clone(), true);
        // Chunks of 4^5 = 1,024 trials: spans of chunks 256..309 and 309..550 (between series
        // points, past the single chunks at the start), both right; then the second with its
        // Σc² changed by a count moved between two of its chunks (Σc kept).
        let grid = Grid::new(5).unwrap();
        let key = BlockKey::new(Method::Stratified, 3, grid.trials(), 0);
        let design = Design::Stratified(grid);
        let count = |i| count_design_chunk(Kernel::Scalar, design, 3, i, grid.trials());
        let span = |chunks: std::ops::Range<u64>, shift: u64| {
            let mut counts: Vec<u64> = chunks.clone().map(count).collect();
            counts[0] += shift;
            counts[1] -= shift;
            Span {
                first: chunks.start,
                end: chunks.end,
                trials: grid.trials(),
                inside: counts.iter().sum(),
                squares: Some(counts.iter().map(|&c| u128::from(c * c)).sum()),
            }
        };
        let mut entry = Entry::empty(key.clone());
        entry.insert(span(256..309, 0));
        entry.insert(span(309..550, 5));
        assert!(session.store(&entry));
        let report = cache
            .verify(&options(1.0), &AtomicBool::new(false))
            .unwrap();
        assert_eq!((report.entries, report.spans, report.chunks), (1, 2, 294));
        let [d] = &report.differences[..] else {
            panic!("{report:?}")
        };
        assert_eq!(
            (d.method, d.first_chunk, d.cached),
            ("stratified", 309, d.computed)
        );
        assert_ne!(d.cached_squares, d.computed_squares);
        let right = span(309..550, 0).squares.map(|q| q.to_string());
        assert_eq!(d.computed_squares, right);
        let again = cache
            .verify(&options(1.0), &AtomicBool::new(false))
            .unwrap();
        assert_eq!((again.spans, again.differences.len()), (1, 0));
    }

    #[test]
    fn a_sample_is_reproducible_and_a_set_flag_cancels() {
        let (_dir, cache, _key) = cache_with_a_wrong_span();
        let none = cache
            .verify(&options(1e-12), &AtomicBool::new(false))
            .unwrap();
        assert_eq!(none.spans, 0);
        let err = cache
            .verify(&options(1.0), &AtomicBool::new(true))
            .unwrap_err();
        assert!(matches!(err, MaintenanceError::Cancelled { .. }), "{err}");
        assert_eq!(
            cache.info().unwrap().chunks,
            3 * BlockKey::new(Method::Plain, 3, 1000, 0).cell_chunks()
        );
    }
}
