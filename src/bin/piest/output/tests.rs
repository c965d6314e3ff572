//! Snapshot tests of every renderer, from hand-built reports: no clock, no run. A change of what
//! users see shows up as a reviewed diff of a `.snap` file under `snapshots/` (`cargo insta
//! review`, or `INSTA_UPDATE=always cargo test` and `git diff`). Each JSON snapshot also pins that
//! report's JSON shape: fields may be added, never removed, renamed or retyped.

use std::num::NonZeroUsize;
use std::time::Duration;

use insta::assert_snapshot;
use piest::cache::{
    CacheInfo, CacheSummary, Cleared, Difference, KeyState, MethodCoverage, NotRemoved,
    PruneReport, Pruned, Removed, Strange, StrangeKind, Swept, VerifyReport,
};
use piest::plan::Plan;
use piest::report::Report;
use piest::runner::StoppedBy;
use piest::scale::{ScaleReport, Series, Sweep, SweepSpec};
use piest::stats::convergence::ConvergencePoint;
use piest::{Kernel, stats};

use super::{cache, estimate, part, scale};

/// An estimate of 100,000,000 trials in 24 chunks, `cached` of them from the cache.
fn estimate_report(cached_chunks: u64, cache: Option<CacheSummary>) -> Report {
    let (trials, inside) = (100_000_000, 78_534_477);
    let pi = stats::pi_estimate(inside, trials);
    let elapsed_s = 0.0291;
    Report {
        pi,
        trials,
        requested_trials: None,
        inside,
        seed: 0,
        workers: 4,
        chunks: 24,
        chunk_size: 4_194_304,
        std_error: stats::std_error(inside, trials),
        ci95: stats::wilson_interval(inside, trials, stats::Z95),
        ci_method: "wilson",
        ci95_half_width: stats::stopping::half_width(inside, trials),
        error: pi - std::f64::consts::PI,
        abs_error: (pi - std::f64::consts::PI).abs(),
        elapsed_s,
        trials_per_s: trials as f64 / elapsed_s,
        algorithm: piest::ALGORITHM,
        method: "plain",
        kernel: "avx2".into(),
        cached_chunks,
        cache,
        stopped_by: StoppedBy::Trials,
        target_error: None,
        target_met: None,
        min_trials: None,
        max_time_s: None,
        convergence: None,
    }
}

/// The same estimate as the answer of `--target-error 1e-3` with `stopped_by`, `met` and,
/// for a budget, `--max-time 30s`; with a short convergence series.
fn target_report(stopped_by: StoppedBy, met: bool, budget: bool) -> Report {
    let series = [
        (108, 85),
        (1_000, 789),
        (100_000, 78_541),
        (4_194_304, 3_294_221),
    ]
    .into_iter()
    .map(|(n, inside)| ConvergencePoint::new(inside, n))
    .chain([ConvergencePoint::new(78_534_477, 100_000_000)])
    .collect();
    Report {
        stopped_by,
        target_error: Some(if met { 1e-3 } else { 1e-4 }),
        target_met: Some(met),
        min_trials: Some(1_000_000),
        max_time_s: budget.then_some(30.0),
        convergence: Some(series),
        ..estimate_report(0, None)
    }
}

#[test]
fn estimate_human_target_met() {
    assert_snapshot!(estimate::human(&target_report(
        StoppedBy::TargetError,
        true,
        false
    )));
}

#[test]
fn estimate_human_cap_before_target() {
    assert_snapshot!(estimate::human(&target_report(
        StoppedBy::Trials,
        false,
        false
    )));
}

#[test]
fn estimate_human_budget_before_target() {
    assert_snapshot!(estimate::human(&target_report(
        StoppedBy::MaxTime,
        false,
        true
    )));
}

#[test]
fn estimate_json_target_met() {
    assert_snapshot!(estimate::json(&target_report(
        StoppedBy::TargetError,
        true,
        false
    )));
}

/// The texts of an SVG document, in order.
fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

#[test]
fn estimate_convergence_svg_texts() {
    let report = target_report(StoppedBy::TargetError, true, false);
    let svg = estimate::plot::render(&report).expect("a plot");
    let texts = svg_texts(&svg);
    for expected in [
        estimate::plot::X_LABEL,
        estimate::plot::Y_LABEL,
        "95% interval (Wilson)",
        "π",
        "estimate",
    ] {
        assert!(texts.iter().any(|t| t == expected), "{expected}: {texts:?}");
    }
    assert!(
        texts[0].contains("100,000,000 trials, seed 0"),
        "{}",
        texts[0]
    );
    assert_snapshot!(texts.join("\n"));
    // A report without a series (a merge of parts) has no plot.
    assert!(estimate::plot::render(&estimate_report(0, None)).is_err());
}

#[test]
fn darts_svg_texts_and_circles() {
    let plan = Plan::new(1_500, 400).expect("a plan");
    let darts = piest::darts::throw(&plan, 3).expect("darts");
    let svg = super::darts::render(&darts).expect("a picture");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let circles = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count();
    assert_eq!(circles, 1_500);
    let texts = svg_texts(&svg);
    assert_eq!(texts[0], super::darts::title(&darts));
    assert!(texts[0].contains(&format!("{:.4} ± {:.4}", darts.pi(), darts.half_width())));
    assert_snapshot!(texts.join("\n"));
}

fn cache_summary(hits: u64, warnings: Vec<String>) -> CacheSummary {
    CacheSummary {
        dir: "/home/alice/.cache/piest".into(),
        hits,
        misses: 24 - hits,
        stored: 24 - hits,
        refresh: false,
        entries_written: 1,
        bytes_written: 7_764,
        warnings,
    }
}

#[test]
fn estimate_human_computed() {
    assert_snapshot!(estimate::human(&estimate_report(0, None)));
}

/// A stratified estimate: 24 chunks of 4^11 (1e8 asked, rounded up), their counts spread as a
/// real run's are (within ±30 of 3,294,199; a chunk of 4^11 varies by about 23).
fn stratified_report() -> Report {
    use piest::sampler::{Grid, Method};
    use piest::stats::replicates::Replicates;
    let grid = Grid::new(11).expect("a grid");
    let mut r = Replicates::EMPTY;
    for j in 0..24u64 {
        r.push(3_294_199 + (j * 7919) % 61 - 30);
    }
    let s = r.summary(grid).expect("consistent sums");
    Report {
        pi: s.pi,
        trials: 24 << 22,
        requested_trials: Some(100_000_000),
        inside: r.inside,
        chunks: 24,
        std_error: s.std_error,
        ci95: s.interval,
        ci_method: s.method.name(),
        ci95_half_width: s.half_width,
        error: s.pi - std::f64::consts::PI,
        abs_error: (s.pi - std::f64::consts::PI).abs(),
        algorithm: Method::Stratified.algorithm(),
        method: Method::Stratified.name(),
        ..estimate_report(0, None)
    }
}

#[test]
fn estimate_human_stratified() {
    assert_snapshot!(estimate::human(&stratified_report()));
}

#[test]
fn estimate_json_stratified() {
    assert_snapshot!(estimate::json(&stratified_report()));
}

#[test]
fn estimate_human_partly_cached() {
    assert_snapshot!(estimate::human(&estimate_report(
        10,
        Some(cache_summary(10, vec![]))
    )));
}

#[test]
fn estimate_human_all_cached() {
    assert_snapshot!(estimate::human(&estimate_report(
        24,
        Some(cache_summary(24, vec![]))
    )));
}

/// A run so small that its Wilson interval is far from symmetric about the estimate.
#[test]
fn estimate_human_tiny_run() {
    for (trials, inside) in [(10, 10), (10, 6)] {
        let pi = stats::pi_estimate(inside, trials);
        let report = Report {
            pi,
            trials,
            inside,
            chunks: 1,
            workers: 1,
            std_error: stats::std_error(inside, trials),
            ci95: stats::wilson_interval(inside, trials, stats::Z95),
            error: pi - std::f64::consts::PI,
            abs_error: (pi - std::f64::consts::PI).abs(),
            elapsed_s: 0.0004,
            trials_per_s: trials as f64 / 0.0004,
            ..estimate_report(0, None)
        };
        assert_snapshot!(
            format!("estimate_human_tiny_run_{inside}_of_{trials}"),
            estimate::human(&report)
        );
    }
}

#[test]
fn error_messages_name_each_cause_once() {
    let os = std::io::Error::from_raw_os_error(20);
    // A library error that shows its OS error and also returns it as its source.
    #[derive(Debug, thiserror::Error)]
    #[error("cannot list /c/v1: {source}")]
    struct Listing {
        source: std::io::Error,
    }
    let err = anyhow::Error::new(Listing { source: os });
    let message = super::error_message(&err);
    assert_eq!(message.matches("os error 20").count(), 1, "{message}");
    assert!(message.starts_with("cannot list /c/v1: "), "{message}");
    // A context that adds something keeps both.
    let err = anyhow::Error::new(std::io::Error::from_raw_os_error(28)).context("cannot write x");
    let message = super::error_message(&err);
    assert!(message.starts_with("cannot write x: "), "{message}");
    assert_eq!(message.matches("os error 28").count(), 1, "{message}");
}

/// The report of a shard or merge that counted nothing (more shards than chunks).
fn empty_report() -> Report {
    let tally = piest::tally::Tally::empty(piest::tally::TallyKey::new(0, 4_194_304));
    Report::new(&tally, 2, "avx2")
}

/// A merge's report of `report`, with shards 1 and 3 of 4 missing when `partial`.
fn merge_report(report: Report, partial: bool) -> piest::merge::MergeReport {
    piest::merge::MergeReport {
        complete: !partial,
        total_trials: 100_000_000,
        parts: if partial { 2 } else { 4 },
        shard_count: Some(4),
        missing_shards: if partial { vec![1, 3] } else { Vec::new() },
        missing_chunks: if partial {
            vec![[6, 12], [18, 24]]
        } else {
            Vec::new()
        },
        compute_s: 0.1164,
        has_estimate: report.trials > 0,
        report,
    }
}

#[test]
fn merge_text_complete() {
    assert_snapshot!(part::merge(&merge_report(estimate_report(0, None), false)));
}

#[test]
fn merge_text_partial() {
    let report = Report {
        trials: 50_000_000,
        inside: 39_267_238,
        chunks: 12,
        ..estimate_report(0, None)
    };
    assert_snapshot!(part::merge(&merge_report(report, true)));
}

#[test]
fn merge_text_of_empty_parts_only() {
    assert_snapshot!(part::merge(&merge_report(empty_report(), true)));
}

#[test]
fn merge_json_of_empty_parts_only() {
    assert_snapshot!(super::json(&merge_report(empty_report(), true)));
}

#[test]
fn shard_text_of_an_empty_shard() {
    let plan = Plan::new(4_194_304, 4_194_304).unwrap();
    let shard = piest::part::ShardId::new(0, 2).unwrap();
    assert_snapshot!(part::shard(&empty_report(), shard, &plan));
}

#[test]
fn no_renderer_of_an_estimate_prints_nan_or_infinity() {
    let empty = empty_report();
    let plan = Plan::new(4_194_304, 4_194_304).unwrap();
    let shard = piest::part::ShardId::new(0, 2).unwrap();
    let mut texts = vec![
        estimate::quiet(&empty),
        part::shard(&empty, shard, &plan),
        part::merge(&merge_report(empty.clone(), true)),
        super::json(&merge_report(empty.clone(), true)),
    ];
    let tally = piest::tally::Tally::empty(piest::tally::TallyKey::new(0, 4_194_304));
    texts.push(super::json(&piest::part::PartReport::new(
        shard, &plan, &tally, empty,
    )));
    for text in texts {
        // Rust prints NaN and inf (-inf) for non-finite floats; no word of these texts is one.
        let mut words = text.split(|c: char| !c.is_ascii_alphanumeric());
        assert!(words.all(|w| w != "NaN" && w != "inf"), "{text}");
    }
}

#[test]
fn estimate_quiet_of_an_empty_shard() {
    assert_snapshot!(estimate::quiet(&empty_report()));
}

#[test]
fn estimate_quiet() {
    assert_snapshot!(estimate::quiet(&estimate_report(0, None)));
}

#[test]
fn estimate_json_with_cache() {
    let warning =
        "cache entry /home/alice/.cache/piest/v2/0a.entry is invalid (MAC mismatch)".into();
    assert_snapshot!(estimate::json(&estimate_report(
        10,
        Some(cache_summary(10, vec![warning]))
    )));
}

#[test]
fn estimate_json_without_cache() {
    assert_snapshot!(estimate::json(&estimate_report(0, None)));
}

fn cache_info(exists: bool) -> CacheInfo {
    CacheInfo {
        dir: "/home/alice/.cache/piest".into(),
        exists,
        entries: if exists { 94 } else { 0 },
        invalid: if exists { 2 } else { 0 },
        bytes: if exists { 845_123 } else { 0 },
        chunks: if exists { 23_842 } else { 0 },
        trials: if exists { 100_000_000_000 } else { 0 },
        seeds: if exists { 1 } else { 0 },
        temp_files: if exists { 1 } else { 0 },
        key: if exists {
            KeyState::Present
        } else {
            KeyState::Missing
        },
        key_problem: None,
        unverified: 0,
        strange: if exists { 1 } else { 0 },
        strange_files: if exists {
            vec![Strange {
                path: "/home/alice/.cache/piest/v2/1f.entry".into(),
                kind: StrangeKind::Fifo,
                removable: true,
            }]
        } else {
            vec![]
        },
        old_format_files: 0,
        old_format_bytes: 0,
        methods: if exists {
            let share = |method: &str, algorithm: &str, entries, chunks, trials| MethodCoverage {
                method: method.into(),
                algorithm: algorithm.into(),
                entries,
                chunks,
                trials,
            };
            vec![
                share("plain", piest::ALGORITHM, 93, 23_782, 99_748_347_904),
                share(
                    "stratified",
                    piest::sampler::STRATIFIED_ALGORITHM,
                    1,
                    60,
                    251_652_096,
                ),
            ]
        } else {
            vec![]
        },
    }
}

fn removed() -> Removed {
    Removed {
        dir: "/home/alice/.cache/piest".into(),
        entries: 2,
        bytes: 18_400,
        temp_files: 1,
    }
}

/// What `clear` or `prune` did besides entries: nothing, or a strange file removed, old files
/// removed and one left in place.
fn swept(busy: bool) -> Swept {
    if !busy {
        return Swept::default();
    }
    Swept {
        strange: 1,
        old_format_files: 3,
        not_removed: 3,
        failed: 1,
        not_removed_files: vec![
            NotRemoved {
                path: "/home/alice/.cache/piest/v2/2e.entry".into(),
                why: StrangeKind::Directory.to_string(),
                failed: false,
            },
            NotRemoved {
                path: "/home/alice/.cache/piest/v2/3d.entry".into(),
                why: "Read-only file system (os error 30)".into(),
                failed: true,
            },
        ],
    }
}

#[test]
fn a_single_file_left_in_place_is_it_not_them() {
    let one = Swept {
        not_removed: 1,
        failed: 1,
        not_removed_files: vec![NotRemoved {
            path: "/home/alice/.cache/piest/v2/3d.entry".into(),
            why: "Permission denied (os error 13)".into(),
            failed: true,
        }],
        ..Swept::default()
    };
    let text = super::cache::cleared(&Cleared {
        removed: removed(),
        swept: one,
        damaged_key_removed: false,
    });
    assert!(
        text.contains("left 1 file in place, failing to remove it:"),
        "{text}"
    );
}

fn cleared(busy: bool) -> Cleared {
    Cleared {
        removed: removed(),
        swept: swept(busy),
        damaged_key_removed: busy,
    }
}

fn pruned(busy: bool) -> PruneReport {
    PruneReport {
        pruned: Pruned {
            removed: removed(),
            invalid_removed: if busy { 1 } else { 0 },
            kept_entries: 92,
            kept_bytes: 827_100,
        },
        swept: swept(busy),
    }
}

/// A verification of 94 entries, with `differences` spans that differed.
fn verified(differences: usize) -> VerifyReport {
    VerifyReport {
        dir: "/home/alice/.cache/piest".into(),
        entries: 94,
        invalid: 2,
        other_algorithm: 1,
        spans: 94,
        chunks: 23_842,
        trials: 100_000_000_000,
        differences: (0..differences as u64)
            .map(|i| Difference {
                entry: format!("/home/alice/.cache/piest/v2/{i:02x}.entry"),
                method: if i == 1 { "stratified" } else { "plain" },
                seed: 0,
                chunk_size: 4_194_304,
                first_chunk: 256 * i,
                end_chunk: 256 * (i + 1),
                trials_per_chunk: 4_194_304,
                cached: 843_314_856,
                computed: 843_314_857 + i,
                cached_squares: (i == 1).then(|| "711179942361660736".to_owned()),
                computed_squares: (i == 1).then(|| "711179944048290449".to_owned()),
            })
            .collect(),
        removed_spans: differences as u64,
        entries_rewritten: 0,
        entries_removed: differences as u64,
    }
}

#[test]
fn cache_info_text() {
    assert_snapshot!(cache::info(&cache_info(true)));
}

#[test]
fn cache_info_text_of_an_empty_cache() {
    assert_snapshot!(cache::info(&cache_info(false)));
}

#[test]
fn cache_info_json() {
    assert_snapshot!(super::json(&cache_info(true)));
}

/// A cache whose key this user cannot read, with many strange files and old ones.
#[test]
fn cache_info_text_of_a_troubled_cache() {
    let info = CacheInfo {
        key: KeyState::Unreadable,
        key_problem: Some(
            "cannot read the cache key /home/alice/.cache/piest/v2/key: Permission denied \
             (os error 13)"
                .into(),
        ),
        entries: 0,
        chunks: 0,
        trials: 0,
        seeds: 0,
        methods: vec![],
        invalid: 0,
        unverified: 96,
        strange: 25,
        old_format_files: 12,
        old_format_bytes: 120_000,
        ..cache_info(true)
    };
    assert_snapshot!(cache::info(&info));
}

/// A cache in a folder other users can write, whose entries piest does not use.
#[test]
fn cache_info_text_of_an_untrusted_cache() {
    let info = CacheInfo {
        key: KeyState::Untrusted,
        key_problem: Some(
            "not trusting the cache key /srv/cache/v2/key: /srv/cache is writable by every \
             user (mode 0777, not sticky)"
                .into(),
        ),
        entries: 0,
        chunks: 0,
        trials: 0,
        seeds: 0,
        methods: vec![],
        invalid: 0,
        unverified: 94,
        strange: 0,
        strange_files: vec![],
        temp_files: 0,
        ..cache_info(true)
    };
    assert_snapshot!(cache::info(&info));
}

/// A cache whose key was deleted: its entries are counted as invalid, as prune removes them.
#[test]
fn cache_info_text_without_a_key() {
    let info = CacheInfo {
        key: KeyState::Missing,
        entries: 0,
        chunks: 0,
        trials: 0,
        seeds: 0,
        methods: vec![],
        invalid: 94,
        strange: 0,
        strange_files: vec![],
        temp_files: 0,
        ..cache_info(true)
    };
    assert_snapshot!(cache::info(&info));
}

#[test]
fn cache_clear_text() {
    assert_snapshot!(cache::cleared(&cleared(false)));
}

#[test]
fn cache_clear_text_with_strange_and_old_files() {
    assert_snapshot!(cache::cleared(&cleared(true)));
}

#[test]
fn cache_clear_json() {
    assert_snapshot!(super::json(&cleared(true)));
}

#[test]
fn cache_prune_text() {
    assert_snapshot!(cache::pruned(&pruned(false)));
}

#[test]
fn cache_prune_text_with_strange_and_old_files() {
    assert_snapshot!(cache::pruned(&pruned(true)));
}

#[test]
fn cache_prune_json() {
    assert_snapshot!(super::json(&pruned(true)));
}

#[test]
fn cache_verify_text_all_agree() {
    assert_snapshot!(cache::verified(&verified(0)));
}

#[test]
fn cache_verify_text_with_differences() {
    assert_snapshot!(cache::verified(&verified(2)));
}

#[test]
fn cache_verify_json() {
    assert_snapshot!(super::json(&verified(1)));
}

/// A sweep on 2 cores at 1, 2 and 4 workers: near-linear to 2, a plateau at 4 (the workers share
/// the cores), one warm-up and three timed runs each. Times are whole microseconds, so every
/// figure derived from them is exact enough to print the same on any machine.
fn sweep(rows: &[(usize, [f64; 3])], warmup: usize) -> Sweep {
    let nz = |n| NonZeroUsize::new(n).expect("a worker count");
    let seconds = |s: &f64| Duration::from_secs_f64(*s);
    Sweep {
        spec: SweepSpec {
            plan: Plan::new(10_000_000_000, 4_194_304).expect("a plan"),
            seed: 0,
            kernel: Kernel::Scalar,
            method: piest::sampler::Method::Plain,
            workers: rows.iter().map(|(w, _)| nz(*w)).collect(),
            runs: 3,
            warmup,
        },
        inside: 7_853_953_190,
        series: rows
            .iter()
            .map(|(w, times)| Series {
                workers: nz(*w),
                warmup: vec![Duration::from_millis(5_100); warmup],
                times: times.iter().map(seconds).collect(),
            })
            .collect(),
    }
}

fn scale_report() -> ScaleReport {
    let rows = [
        (1, [4.810, 4.663, 5.176]),
        (2, [2.696, 2.528, 2.738]),
        (4, [2.617, 2.449, 2.688]),
    ];
    ScaleReport::new(&sweep(&rows, 1), 2)
}

/// No 1-worker row (an assumed baseline), runs too short to time, an outlier after no warm-up
/// and a large spread: every warning at once.
fn noisy_scale_report() -> ScaleReport {
    let rows = [(2, [0.004, 0.0041, 0.009]), (3, [0.0035, 0.0036, 0.0034])];
    let mut sweep = sweep(&rows, 0);
    sweep.spec.plan = Plan::new(8_000_000, 4_194_304).expect("a plan");
    sweep.inside = 6_283_157;
    ScaleReport::new(&sweep, 8)
}

#[test]
fn scale_table() {
    assert_snapshot!(scale::table::render(&scale_report()));
}

#[test]
fn scale_table_with_an_assumed_baseline() {
    assert_snapshot!(scale::table::render(&noisy_scale_report()));
}

#[test]
fn scale_warnings() {
    let report = noisy_scale_report();
    let lines: Vec<String> = report.warnings.iter().map(ToString::to_string).collect();
    assert_snapshot!(lines.join("\n"));
}

#[test]
fn scale_markdown() {
    assert_snapshot!(scale::markdown::render(&scale_report()));
}

#[test]
fn scale_csv() {
    assert_snapshot!(scale::csv::render(&scale_report()).expect("CSV"));
}

#[test]
fn scale_json() {
    assert_snapshot!(scale::json(&scale_report()));
}

#[test]
fn scale_json_with_warnings() {
    assert_snapshot!(scale::json(&noisy_scale_report()));
}

#[test]
fn scale_svg_texts() {
    let svg = scale::svg::render(&scale_report()).expect("a plot");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    assert_snapshot!(texts.join("\n"));
}
