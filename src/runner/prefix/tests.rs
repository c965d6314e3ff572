//! Tests of the growing prefix: the stop, exactness against fixed runs, the cache, the budget.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::grow::{Grower, PIECE_MAX_CHUNKS, PIECE_TRIALS};
use super::*;
use crate::cache::{Cache, CacheSession};
use crate::plan::Plan;
use crate::runner::tests::{spec, whole};
use crate::runner::{Silent, run_all};
use crate::sampler::{Kernel, Method, chunk_words, count_chunk, is_inside};
use crate::stats::stopping::half_width;

/// A spec whose plan is "no cap": as many trials as 64 bits hold.
fn uncapped(chunk_size: u64, seed: u64, workers: usize) -> RunSpec {
    spec(u64::MAX, chunk_size, seed, workers)
}

fn target(e: f64, min_trials: u64) -> Limits {
    Limits {
        target: Some(StoppingRule::with_min_trials(e, min_trials).unwrap()),
        max_time: None,
    }
}

fn grow(spec: &RunSpec, limits: &Limits, cache: Option<&CacheSession>) -> Outcome {
    run_until(
        spec,
        limits,
        cache,
        &Silent,
        &AtomicBool::new(false),
        &MonotonicClock::new(),
    )
    .unwrap()
}

/// The stop the rule picks, found by scanning whole-chunk counts of the reference kernel.
fn reference_stop(chunk_size: u64, seed: u64, rule: &StoppingRule) -> (u64, u64) {
    let (mut trials, mut inside) = (0, 0);
    for k in 0.. {
        inside += count_chunk(Kernel::Scalar, seed, k, chunk_size);
        trials += chunk_size;
        if rule.may_stop(inside, trials) {
            return (k + 1, inside);
        }
    }
    unreachable!()
}

#[test]
fn a_target_stops_at_the_first_boundary_that_meets_it_at_any_worker_count() {
    let limits = target(0.02, 10_000);
    let rule = limits.target.unwrap();
    for seed in [0, 1, 2, 77] {
        let (chunks, inside) = reference_stop(1000, seed, &rule);
        for workers in [1, 2, 3] {
            let out = grow(&uncapped(1000, seed, workers), &limits, None);
            assert_eq!(out.stopped_by, StoppedBy::TargetError);
            assert_eq!(out.target_met, Some(true));
            assert_eq!((out.tally.chunks(), out.tally.inside()), (chunks, inside));
            assert!(out.tally.covers(&out.plan));
            let t = out.tally.trials();
            assert!(half_width(inside, t) <= 0.02);
            // One chunk fewer does not meet it (the stop is far above the minimum sample).
            assert!(t - 1000 >= 10_000);
            let before = inside - count_chunk(Kernel::Scalar, seed, chunks - 1, 1000);
            assert!(half_width(before, t - 1000) > 0.02, "seed {seed}");
            // A fixed run of that length counts the same.
            let fixed = whole(&spec(t, 1000, seed, workers));
            assert_eq!(fixed.inside(), inside);
        }
    }
}

#[test]
fn a_target_met_early_waits_for_the_minimum_sample() {
    // 0.5 is met after a few hundred trials; the minimum sample of 5,000 decides.
    let out = grow(&uncapped(700, 3, 2), &target(0.5, 5_000), None);
    assert_eq!(out.stopped_by, StoppedBy::TargetError);
    assert_eq!(out.tally.trials(), 5_600);
}

#[test]
fn the_series_is_monotone_and_ends_at_the_answer_and_matches_a_fixed_run() {
    let out = grow(&uncapped(1000, 5, 2), &target(0.02, 10_000), None);
    let series = &out.convergence;
    // Points in the first chunk, then at cache-cell boundaries (none here: a cell is 4,194
    // chunks of 1,000 trials), then the answer.
    assert!(series.len() >= 5, "{series:?}");
    assert!(series.windows(2).all(|w| w[0].trials < w[1].trials));
    let last = series.last().unwrap();
    assert_eq!(last.trials, out.tally.trials());
    assert_eq!(
        last.pi,
        crate::stats::pi_estimate(out.tally.inside(), last.trials)
    );
    // The fixed run of the same length draws the same series.
    let fixed_spec = spec(out.tally.trials(), 1000, 5, 3);
    let fixed = grow(&fixed_spec, &Limits::default(), None);
    assert_eq!(fixed.stopped_by, StoppedBy::Trials);
    assert_eq!(&fixed.convergence, series);
    // Points inside the first chunk are exact prefixes of the run's trials.
    let first = series[0];
    assert_eq!(first.trials, 108);
    let inside = chunk_words(5, 0)
        .take(108)
        .filter(|&w| is_inside(w))
        .count() as u64;
    assert_eq!(first.pi, crate::stats::pi_estimate(inside, 108));
}

#[test]
fn a_fixed_run_reports_its_whole_plan_with_checkpoint_sums() {
    let s = spec(1_234_567, 10_000, 9, 3);
    let out = grow(&s, &Limits::default(), None);
    assert_eq!(out.tally, {
        let mut t = whole(&s);
        t.elapsed = out.tally.elapsed;
        t
    });
    let series = &out.convergence;
    assert_eq!(series.last().unwrap().trials, 1_234_567);
    for point in series {
        if point.trials >= 10_000 {
            let k = point.trials.div_ceil(10_000);
            let inside: u64 = (0..k)
                .map(|c| count_chunk(Kernel::Scalar, 9, c, s.plan.chunk(c).trials))
                .sum();
            assert_eq!(point.pi, crate::stats::pi_estimate(inside, point.trials));
        }
    }
}

#[test]
fn the_cache_serves_a_repeat_and_a_tighter_target_reuses_the_prefix() {
    // Chunks of a whole cache cell: the cache keeps each chunk's own count.
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let s = uncapped(crate::plan::CELL_TRIALS, 4, 2);
    let loose = target(1e-3, 1_000_000);
    let session = CacheSession::open(cache.clone(), true);
    let first = grow(&s, &loose, Some(&session));
    assert_eq!(first.tally.sources.cached_chunks, 0);
    let session = CacheSession::open(cache.clone(), true);
    let again = grow(&s, &loose, Some(&session));
    assert_eq!(again.tally.inside(), first.tally.inside());
    assert_eq!(again.tally.sources.computed_trials, 0);
    assert_eq!(again.tally.sources.cached_chunks, first.tally.chunks());
    let session = CacheSession::open(cache.clone(), true);
    let tight = grow(&s, &target(4e-4, 1_000_000), Some(&session));
    assert!(tight.tally.chunks() > first.tally.chunks());
    assert!(tight.tally.sources.cached_chunks >= first.tally.chunks());
    assert_eq!(
        tight.tally.inside(),
        grow(&s, &target(4e-4, 1_000_000), None).tally.inside()
    );
}

#[test]
fn a_cached_span_that_may_hold_the_stop_is_counted_again_chunk_by_chunk() {
    // Chunks of 1,000 trials: the cache keeps one count per span of chunks within a cell of
    // 4,194 chunks, so the stop may fall inside a cached span.
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let s = uncapped(1000, 4, 2);
    let uncached = grow(&s, &target(0.01, 2_000), None);
    // A longer run leaves the stop's chunks inside one cached span.
    let session = CacheSession::open(cache.clone(), true);
    grow(&s, &target(0.005, 2_000), Some(&session));
    let session = CacheSession::open(cache.clone(), true);
    let again = grow(&s, &target(0.01, 2_000), Some(&session));
    assert_eq!(again.tally.inside(), uncached.tally.inside());
    assert_eq!(again.tally.chunks(), uncached.tally.chunks());
    // At most the one span (a cell) is counted again.
    assert!(again.tally.sources.computed_trials <= crate::plan::CELL_TRIALS);
}

#[test]
fn a_cap_before_the_target_is_reported_as_such() {
    let s = spec(50_000, 1000, 6, 2);
    let out = grow(&s, &target(0.001, 10_000), None);
    assert_eq!(out.stopped_by, StoppedBy::Trials);
    assert_eq!(out.target_met, Some(false));
    assert!(out.tally.covers(&s.plan));
    // A cap below the minimum sample never meets the target, however narrow its interval: the
    // rule stops only at or above the minimum sample.
    let small = spec(3_000, 1000, 6, 2);
    let out = grow(&small, &target(0.5, 10_000), None);
    assert_eq!(
        (out.stopped_by, out.target_met),
        (StoppedBy::Trials, Some(false))
    );
}

/// A clock that moves one tick per completed chunk, so budgets are counted in chunks.
struct Ticks(AtomicU64);

impl Clock for Ticks {
    fn now(&self) -> Duration {
        Duration::from_secs(self.0.load(Ordering::SeqCst))
    }
}

impl Observer for Ticks {
    fn chunk_done(&self, _: &ChunkEvent) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn budget(limits: Limits, seconds: u64) -> Limits {
    Limits {
        max_time: Some(Duration::from_secs(seconds)),
        ..limits
    }
}

#[test]
fn a_spent_budget_stops_at_whole_chunks_with_the_fixed_answer_and_every_worker_advances_it() {
    for workers in [1, 2, 3, 4] {
        for seconds in [1, 40, 300] {
            // Chunks of at least PIECE_TRIALS: one chunk per piece.
            let s = uncapped(PIECE_TRIALS, 8, workers);
            let ticks = Ticks(AtomicU64::new(0));
            let limits = budget(Limits::default(), seconds);
            let out = match run_until(&s, &limits, None, &ticks, &AtomicBool::new(false), &ticks) {
                Ok(out) => out,
                // One tick: another worker's chunk may end the budget while chunk 0 is out.
                Err(Error::BudgetTooShort { .. }) if seconds == 1 && workers > 1 => continue,
                Err(e) => panic!("{e}"),
            };
            assert_eq!(out.stopped_by, StoppedBy::MaxTime);
            assert_eq!(out.target_met, None);
            // No more chunks than were completed before the budget ran out, and chunks are
            // handed out in index order, so every one completed in time is in the answer but
            // those still out when it ran out (one per worker) and those completed past one of
            // them (at most WAITING_PER_WORKER per worker: a slow thread, as under a scheduler
            // that starves one, holds the others back no further).
            let chunks = out.tally.chunks();
            let done = ticks.0.load(Ordering::SeqCst);
            let lost = workers as u64 * (1 + super::grow::WAITING_PER_WORKER as u64);
            assert!(
                chunks >= 1 && chunks <= done && chunks + lost >= seconds,
                "{chunks} chunks in {seconds} ticks ({done} completed, {workers} workers)"
            );
            let fixed = whole(&spec(out.tally.trials(), PIECE_TRIALS, 8, 2));
            assert_eq!(fixed.inside(), out.tally.inside());
            assert_eq!(
                out.plan,
                Plan::new(chunks * PIECE_TRIALS, PIECE_TRIALS).unwrap()
            );
        }
    }
}

#[test]
fn a_budget_spent_before_the_first_chunk_gives_no_answer() {
    // The budget is spent at the start: the first chunk (of more trials than 64 bits count in
    // a lifetime) is halted within a slice.
    let s = uncapped(u64::MAX / 2, 1, 2);
    let ticks = Ticks(AtomicU64::new(0));
    let limits = budget(Limits::default(), 0);
    let result = run_until(&s, &limits, None, &ticks, &AtomicBool::new(false), &ticks);
    assert!(
        matches!(result, Err(Error::BudgetTooShort { chunk_trials, .. }) if chunk_trials == u64::MAX / 2),
        "{result:?}"
    );
}

#[test]
fn the_target_or_the_budget_whichever_comes_first() {
    let s = uncapped(1000, 2, 2);
    let ticks = Ticks(AtomicU64::new(0));
    let quick = budget(target(0.02, 10_000), 1_000_000);
    let out = run_until(&s, &quick, None, &ticks, &AtomicBool::new(false), &ticks).unwrap();
    assert_eq!(out.stopped_by, StoppedBy::TargetError);
    let ticks = Ticks(AtomicU64::new(0));
    let slow = budget(target(0.001, 10_000), 50);
    let out = run_until(&s, &slow, None, &ticks, &AtomicBool::new(false), &ticks).unwrap();
    assert_eq!(
        (out.stopped_by, out.target_met),
        (StoppedBy::MaxTime, Some(false))
    );
}

#[test]
fn cancelling_a_growing_run_returns_no_answer() {
    let s = uncapped(100_000, 1, 2);
    let cancel = AtomicBool::new(true);
    let limits = target(1e-5, 10_000);
    let result = run_until(&s, &limits, None, &Silent, &cancel, &MonotonicClock::new());
    assert!(matches!(result, Err(Error::Cancelled)));
    struct CancelLater<'a>(&'a AtomicBool, AtomicU64);
    impl Observer for CancelLater<'_> {
        fn chunk_done(&self, _: &ChunkEvent) {
            if self.1.fetch_add(1, Ordering::Relaxed) == 30 {
                self.0.store(true, Ordering::Relaxed);
            }
        }
    }
    let cancel = AtomicBool::new(false);
    let observer = CancelLater(&cancel, AtomicU64::new(0));
    let result = run_until(
        &s,
        &limits,
        None,
        &observer,
        &cancel,
        &MonotonicClock::new(),
    );
    assert!(matches!(result, Err(Error::Cancelled)));
}

#[test]
fn pieces_stay_in_one_cell_and_a_plan_smaller_than_a_piece_runs() {
    let nz = |n| NonZeroUsize::new(n).unwrap();
    let mut s = uncapped(1, 0, 2);
    s.workers = nz(3);
    let cancel = AtomicBool::new(false);
    let clock = MonotonicClock::new();
    let limits = Limits::default();
    let g = Grower::new(&s, &limits, None, &Silent, &cancel, &clock, &[]);
    assert_eq!(g.piece_chunks, PIECE_MAX_CHUNKS);
    let s = uncapped(1 << 22, 0, 2);
    let g = Grower::new(&s, &limits, None, &Silent, &cancel, &clock, &[]);
    assert_eq!((g.piece_chunks, g.breaks.cell_chunks()), (1, 1));
    // A run whose whole plan is smaller than a piece.
    let out = grow(&spec(2_500, 1000, 1, 2), &target(1.0, 1), None);
    assert_eq!(out.tally.chunks(), 1);
    let _ = run_all;
}

/// The kinds of run whose cache figures must mean the same thing.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Fixed,
    Target,
    Budget,
}

/// The spec of `plan` with `method` (a stratified plan must be whole chunks of `4^k`).
fn with_method(plan: RunSpec, method: Method) -> RunSpec {
    RunSpec { method, ..plan }
}

/// A target that stops after a few dozen chunks of `chunk_size` for `method`.
fn some_target(method: Method, chunk_size: u64) -> Limits {
    match method {
        Method::Plain => target(1e-3, 1_000_000),
        Method::Stratified => {
            let grid = crate::sampler::Grid::for_chunk_size(chunk_size).unwrap();
            // About 0.8 times the predicted half-width of 20 chunks: 20 to 40 chunks.
            let spread = crate::stats::strata::chunk_std_dev(grid);
            let e = 0.8 * crate::stats::replicates::t_quantile(19) * spread / 20f64.sqrt();
            Limits {
                target: Some(StoppingRule::stratified(e, grid).unwrap()),
                max_time: None,
            }
        }
    }
}

/// Runs `kind` of `method` at `chunk_size` against `cache`; returns the outcome and the
/// session's figures.
fn figures(
    kind: Kind,
    method: Method,
    chunk_size: u64,
    cache: &Cache,
) -> (Outcome, crate::cache::CacheSummary) {
    let session = CacheSession::open(cache.clone(), true);
    let cancel = AtomicBool::new(false);
    let ticks = Ticks(AtomicU64::new(0));
    // A stratified plan counts whole chunks only.
    let remainder = if method == Method::Plain { 7 } else { 0 };
    let uncapped = with_method(uncapped(chunk_size, 3, 2), method);
    let uncapped = RunSpec {
        plan: Plan::new(uncapped.plan.full_chunks() * chunk_size, chunk_size).unwrap(),
        ..uncapped
    };
    let out = match kind {
        Kind::Fixed => run_until(
            &with_method(spec(10 * chunk_size + remainder, chunk_size, 3, 2), method),
            &Limits::default(),
            Some(&session),
            &Silent,
            &cancel,
            &MonotonicClock::new(),
        ),
        Kind::Target => run_until(
            &uncapped,
            &some_target(method, chunk_size),
            Some(&session),
            &Silent,
            &cancel,
            &MonotonicClock::new(),
        ),
        // Ticks count completed chunks (and cached spans): a budget of whole chunks.
        Kind::Budget => run_until(
            &uncapped,
            // More ticks than the other worker can complete while chunk 0 is out (it waits once
            // WAITING_PER_WORKER pieces are done), so the budget always leaves an answer.
            &budget(Limits::default(), 16),
            Some(&session),
            &ticks,
            &cancel,
            &ticks,
        ),
    }
    .unwrap();
    (out, session.summary())
}

/// The definitions of the README's cache figures, for one run.
fn check_definitions(kind: Kind, chunk_size: u64, out: &Outcome, c: &crate::cache::CacheSummary) {
    let answer = out.tally.sources;
    let past = out.past_stop;
    let at = format!("{kind:?} at chunk size {chunk_size}: {answer:?} past {past:?} {c:?}");
    // The answer's chunks were read or computed.
    assert_eq!(
        answer.cached_chunks + answer.computed_chunks,
        out.tally.chunks(),
        "{at}"
    );
    // Hits: chunks read, the answer's and those past the stop, plus the chunks of a span
    // counted again one by one to find the stop (read, then computed without being a miss).
    let again = c.hits - answer.cached_chunks - past.cached_chunks;
    // Misses: chunks the cache did not hold, computed: the answer's and those past the stop.
    assert_eq!(
        c.misses + again,
        answer.computed_chunks + past.computed_chunks,
        "{at}"
    );
    // Stored: every miss, when no write fails.
    assert_eq!(c.stored, c.misses, "{at}");
    match kind {
        Kind::Fixed => assert_eq!(
            (c.hits, past),
            (answer.cached_chunks, SourceCounts::default())
        ),
        // A cached span of several chunks that may hold the stop is counted again (the bound
        // cannot rule out a stop inside it from its total alone).
        Kind::Target => {}
        Kind::Budget => assert_eq!(again, 0, "{at}"),
    }
    if chunk_size >= crate::plan::CELL_TRIALS {
        assert_eq!(again, 0, "{at}");
    }
}

#[test]
fn cache_figures_mean_the_same_in_every_kind_of_run() {
    // Chunk sizes below a cell (spans of many chunks), at a cell and above it.
    let cell = crate::plan::CELL_TRIALS;
    for (method, chunk_size) in [
        (Method::Plain, 100_000),
        (Method::Plain, cell),
        (Method::Plain, 2 * cell),
        (Method::Stratified, 1 << 16),
        (Method::Stratified, cell),
        (Method::Stratified, 4 * cell),
    ] {
        for kind in [Kind::Fixed, Kind::Target, Kind::Budget] {
            let dir = tempfile::tempdir().unwrap();
            let cache = Cache::new(dir.path());
            let figures = |cache: &Cache| figures(kind, method, chunk_size, cache);
            // Cold: nothing read.
            let (cold, c) = figures(&cache);
            check_definitions(kind, chunk_size, &cold, &c);
            assert_eq!((c.hits, cold.tally.sources.cached_chunks), (0, 0));
            // Warm: the same run again reads what the first stored.
            let (warm, c) = figures(&cache);
            check_definitions(kind, chunk_size, &warm, &c);
            assert!(c.hits >= cold.tally.chunks().min(warm.tally.chunks()));
            if !matches!(kind, Kind::Budget) {
                assert_eq!(warm.tally.replicates(), cold.tally.replicates());
                assert_eq!(warm.convergence, cold.convergence);
                // Every chunk of the answer was stored: what the repeat computes of it, it read
                // and counted again (a span that may hold the stop).
                let again =
                    c.hits - warm.tally.sources.cached_chunks - warm.past_stop.cached_chunks;
                assert!(
                    warm.tally.sources.computed_chunks <= again,
                    "{kind:?} {method} {chunk_size}: {c:?} {warm:?}"
                );
                if again == 0 {
                    // Nothing counted again: what the repeat misses lies past the stop.
                    assert_eq!(
                        c.misses, warm.past_stop.computed_chunks,
                        "{kind:?} {method}"
                    );
                }
            }
            if matches!(kind, Kind::Fixed) {
                assert_eq!(warm.tally.sources.cached_chunks, warm.tally.chunks());
            }
            // Partial: a cache holding only the first chunks of the run.
            let dir = tempfile::tempdir().unwrap();
            let cache = Cache::new(dir.path());
            let short = with_method(spec(3 * chunk_size, chunk_size, 3, 2), method);
            let session = CacheSession::open(cache.clone(), true);
            run_all(&short, Some(&session), &Silent, &AtomicBool::new(false)).unwrap();
            let (partial, c) = figures(&cache);
            check_definitions(kind, chunk_size, &partial, &c);
            assert_eq!(
                partial.tally.sources.cached_chunks,
                partial.tally.chunks().min(3),
                "{kind:?} {chunk_size}"
            );
        }
    }
}

#[test]
fn warm_stratified_runs_over_spans_of_many_chunks_answer_as_cold_ones() {
    // Chunks of 4^5: 4,096 to a cell, so past the first 256 chunks the cache keeps spans of many
    // chunks (between series points); the target stops past them, inside such a span.
    let grid = crate::sampler::Grid::new(5).unwrap();
    let n = grid.trials();
    let strat = |plan: RunSpec| with_method(plan, Method::Stratified);
    let spread = crate::stats::strata::chunk_std_dev(grid);
    let e = crate::stats::replicates::t_quantile(599) * spread / 600f64.sqrt();
    let limits = Limits {
        target: Some(StoppingRule::stratified(e, grid).unwrap()),
        max_time: None,
    };
    for seed in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let fixed = strat(spec(900 * n, n, seed, 2));
        let target = strat(spec(5_000 * n, n, seed, 2));
        let run = |s: &RunSpec, limits: &Limits, cached: bool| {
            let session = CacheSession::open(cache.clone(), true);
            let out = grow(s, limits, cached.then_some(&session));
            (out, session.summary())
        };
        for (s, limits) in [(&fixed, Limits::default()), (&target, limits)] {
            let (uncached, _) = run(s, &limits, false);
            let (cold, _) = run(s, &limits, true);
            let (warm, c) = run(s, &limits, true);
            for out in [&cold, &warm] {
                assert_eq!(out.tally.replicates(), uncached.tally.replicates());
                assert_eq!(out.convergence, uncached.convergence);
                assert_eq!(out.stopped_by, uncached.stopped_by);
            }
            let chunks = uncached.tally.chunks();
            assert!(chunks > 300, "{chunks}");
            // Read: at least the first 256 chunks, one span each.
            assert!(warm.tally.sources.cached_chunks >= 256, "{c:?}");
            if limits.is_fixed() {
                assert_eq!(warm.tally.sources.cached_chunks, chunks);
            }
        }
    }
}

#[test]
fn a_stratified_target_stops_at_the_first_boundary_with_enough_chunks_and_equals_the_fixed_run() {
    use crate::sampler::{Design, Grid, Method, count_design_chunk};
    use crate::stats::replicates::{MIN_CHUNKS_FOR_TARGET, Replicates};
    let grid = Grid::new(5).unwrap();
    let n = grid.trials();
    let e = 2e-3;
    let limits = Limits {
        target: Some(StoppingRule::stratified(e, grid).unwrap()),
        max_time: None,
    };
    for seed in [0, 1, 2, 77] {
        // The stop by hand: chunk by chunk with the reference kernel.
        let mut r = Replicates::EMPTY;
        let stop = (0..)
            .find(|&c| {
                r.push(count_design_chunk(
                    Kernel::Scalar,
                    Design::Stratified(grid),
                    seed,
                    c,
                    n,
                ));
                r.target_met(grid, e)
            })
            .unwrap()
            + 1;
        assert!(stop >= MIN_CHUNKS_FOR_TARGET);
        for workers in [1, 2, 3] {
            let s = RunSpec {
                method: Method::Stratified,
                ..spec(u64::MAX / n * n, n, seed, workers)
            };
            let out = grow(&s, &limits, None);
            assert_eq!(out.stopped_by, StoppedBy::TargetError, "seed {seed}");
            assert_eq!(out.tally.replicates(), r, "seed {seed} workers {workers}");
            assert_eq!(out.target_met, Some(true));
            // The fixed run of its length gives the same tally, squares included.
            let fixed = RunSpec {
                method: Method::Stratified,
                ..spec(stop * n, n, seed, workers)
            };
            assert_eq!(whole(&fixed).replicates(), r);
        }
    }
    // A rule for another grid (or a plain rule) is refused, not misread.
    let other = Limits {
        target: Some(StoppingRule::stratified(e, Grid::new(6).unwrap()).unwrap()),
        max_time: None,
    };
    let s = RunSpec {
        method: Method::Stratified,
        ..spec(1 << 20, n, 0, 1)
    };
    let refused = run_until(
        &s,
        &other,
        None,
        &Silent,
        &AtomicBool::new(false),
        &MonotonicClock::new(),
    );
    assert!(matches!(refused, Err(Error::RuleMismatch { .. })));
}

#[test]
fn a_stratified_series_has_points_only_at_whole_chunks_from_two_on_with_the_t_interval() {
    use crate::sampler::{Design, Grid, Method, count_design_chunk};
    use crate::stats::replicates::Replicates;
    let grid = Grid::new(4).unwrap();
    let n = grid.trials();
    let chunks = 3000;
    let s = RunSpec {
        method: Method::Stratified,
        ..spec(chunks * n, n, 9, 3)
    };
    let fixed = run_until(
        &s,
        &Limits::default(),
        None,
        &Silent,
        &AtomicBool::new(false),
        &MonotonicClock::new(),
    )
    .unwrap();
    let mut prefix = vec![Replicates::EMPTY];
    for c in 0..chunks {
        let mut r = *prefix.last().unwrap();
        r.push(count_design_chunk(
            Kernel::Scalar,
            Design::Stratified(grid),
            9,
            c,
            n,
        ));
        prefix.push(r);
    }
    let series = &fixed.convergence;
    assert!(series.len() > 5, "{}", series.len());
    for p in series {
        assert_eq!(p.trials % n, 0);
        let m = p.trials / n;
        assert!(m >= 2);
        let s = prefix[m as usize].summary(grid).unwrap();
        assert_eq!((p.pi, p.ci95), (s.pi, s.interval), "at {m} chunks");
    }
    assert_eq!(series.last().unwrap().trials, chunks * n);
    // A growing run that stops at the end draws the same series.
    let grown = grow(&s, &budget(Limits::default(), 3600), None);
    assert_eq!(&grown.convergence, series);
}
