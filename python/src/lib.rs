//! `piest._piest`: the Python binding's native module. Each function checks its arguments
//! ([`convert`]), runs the library with the GIL released and Ctrl-C honoured ([`wait`]), and
//! returns the library's JSON report, which the `piest` package turns into frozen dataclasses.
//! The binding reads the environment the command line reads (`PIEST_CACHE_DIR`, `PIEST_KERNEL`,
//! the platform's cache directory), so a notebook and a shell share one cache.

mod convert;
mod wait;

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use piest::cache::{Cache, CacheSession};
use piest::merge::{MergeReport, NamedPart};
use piest::part::PartReport;
use piest::plan::DEFAULT_CHUNK_SIZE;
use piest::report::Report;
use piest::runner::{Limits, MonotonicClock, RunSpec};
use piest::sampler::Grid;
use piest::scale::{ScaleReport, SweepSpec};
use piest::stats::stopping::StoppingRule;
use piest::stats::strata;
use piest::{Method, Plan, runner};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// Most runs (and warm-up runs) per worker count in a sweep, as `piest scale --runs` allows.
const MAX_RUNS: u64 = 10_000;

/// Trials when none are given and the run has no target or budget, as on the command line.
const DEFAULT_TRIALS: u64 = 100_000_000;

fn library_error(e: piest::Error) -> PyErr {
    match &e {
        piest::Error::InvalidConfig(_)
        | piest::Error::ChunkSize(_)
        | piest::Error::PartialChunk { .. } => PyValueError::new_err(e.to_string()),
        piest::Error::Cancelled => PyKeyboardInterrupt::new_err("interrupted"),
        _ => PyRuntimeError::new_err(e.to_string()),
    }
}

fn default_workers() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// The plan of `trials` in chunks of `chunk_size` (default [`DEFAULT_CHUNK_SIZE`]).
fn plan(trials: u64, chunk_size: Option<&Bound<'_, PyAny>>) -> PyResult<Plan> {
    let chunk_size = match chunk_size {
        Some(c) => convert::count("chunk_size", c)?,
        None => DEFAULT_CHUNK_SIZE,
    };
    Plan::new(trials, chunk_size).map_err(library_error)
}

/// The plan of a stratified run and the trials asked for when the plan counts another number,
/// by the command line's rules: the chunk size is `chunk_size` (which must be `4^k`), else
/// chosen from the target, else from `trials` (default 1e8); a run that grows (`grows`: a target
/// or a budget) without either takes 4^11 = 2^22. A fixed run's trials are rounded up to whole
/// chunks; a growing run's cap down, to the last whole chunk within it.
fn stratified_plan(
    trials: Option<u64>,
    chunk_size: Option<&Bound<'_, PyAny>>,
    target: Option<f64>,
    grows: bool,
) -> PyResult<(Plan, Option<u64>)> {
    let grid = match (chunk_size, target, trials) {
        (Some(size), _, _) => {
            let n = convert::count("chunk_size", size)?;
            Grid::for_chunk_size(n).map_err(|e| {
                PyValueError::new_err(format!(
                    "invalid chunk_size {}: {e}",
                    size.repr().map(|r| r.to_string()).unwrap_or_default()
                ))
            })?
        }
        (None, Some(target), _) => strata::grid_for_target(target),
        (None, None, Some(trials)) => strata::grid_for_trials(trials),
        (None, None, None) if grows => strata::grid_for_trials(20 * DEFAULT_CHUNK_SIZE),
        (None, None, None) => strata::grid_for_trials(DEFAULT_TRIALS),
    };
    let n = grid.trials();
    let (chunks, requested) = match (grows, trials) {
        (true, None) => (u64::MAX / n, None),
        (true, Some(cap)) => (strata::chunks_within(cap, grid), None),
        (false, trials) => {
            let requested = trials.unwrap_or(DEFAULT_TRIALS);
            (strata::whole_chunks(requested, grid), Some(requested))
        }
    };
    let given = trials.unwrap_or_default();
    if chunks == 0 {
        return Err(PyValueError::new_err(format!(
            "trials={given} is less than one stratified chunk of {n} trials ({grid}): give at \
             least {n}, or a smaller chunk_size"
        )));
    }
    let total = chunks.checked_mul(n).ok_or_else(|| {
        PyValueError::new_err(format!(
            "trials={given} rounded up to whole chunks of {n} does not fit in 64 bits"
        ))
    })?;
    let plan = Plan::new(total, n).map_err(library_error)?;
    Ok((plan, requested.filter(|&r| r != total)))
}

/// The cache directory: `cache_dir` if given, else `PIEST_CACHE_DIR`, else the platform's.
fn cache_location(cache_dir: Option<PathBuf>) -> PyResult<Option<PathBuf>> {
    let var = std::env::var_os(piest::cache::location::ENV_VAR);
    piest::cache::location::default_location(
        cache_dir.as_deref().map(|p| (p, "cache_dir")),
        var.as_deref(),
        dirs::cache_dir().as_deref(),
        dirs::home_dir().as_deref(),
    )
    .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// One estimate (or, with `shard`, one part of it). Returns its JSON report and the cache's
/// warnings.
#[pyfunction]
#[pyo3(signature = (trials, workers, seed, chunk_size, method, cache_dir, cache, refresh,
                    target_error, max_time, progress, shard))]
#[allow(clippy::too_many_arguments)]
fn estimate(
    py: Python<'_>,
    trials: Option<Bound<'_, PyAny>>,
    workers: Option<Bound<'_, PyAny>>,
    seed: Bound<'_, PyAny>,
    chunk_size: Option<Bound<'_, PyAny>>,
    method: Bound<'_, PyAny>,
    cache_dir: Option<PathBuf>,
    cache: bool,
    refresh: bool,
    target_error: Option<Bound<'_, PyAny>>,
    max_time: Option<Bound<'_, PyAny>>,
    progress: Option<Bound<'_, PyAny>>,
    shard: Option<Bound<'_, PyAny>>,
) -> PyResult<(String, Vec<String>)> {
    let trials = trials
        .as_ref()
        .map(|t| convert::count("trials", t))
        .transpose()?;
    let workers = match &workers {
        Some(w) => convert::workers(w)?,
        None => default_workers(),
    };
    let (seed, _) = convert::seed(&seed)?;
    let limits = Limits {
        target: target_error
            .as_ref()
            .map(convert::target_error)
            .transpose()?,
        max_time: max_time.as_ref().map(convert::max_time).transpose()?,
    };
    let shard = shard.as_ref().map(convert::shard).transpose()?;
    if shard.is_some() && !limits.is_fixed() {
        return Err(PyValueError::new_err(
            "a part counts a fixed shard: target_error and max_time apply to a whole estimate",
        ));
    }
    let method = convert::method(&method)?;
    let kernel = convert::kernel(std::env::var("PIEST_KERNEL").ok().as_deref())?;
    let (plan, requested_trials, limits) = match method {
        Method::Plain => {
            let trials = match trials {
                None if !limits.is_fixed() => u64::MAX,
                t => t.unwrap_or(DEFAULT_TRIALS),
            };
            (plan(trials, chunk_size.as_ref())?, None, limits)
        }
        Method::Stratified => {
            let target = limits.target.map(|rule| rule.target());
            let (plan, requested) =
                stratified_plan(trials, chunk_size.as_ref(), target, !limits.is_fixed())?;
            let limits = match limits.target {
                Some(rule) => {
                    let grid = Grid::for_chunk_size(plan.chunk_size())
                        .map_err(|e| PyValueError::new_err(e.to_string()))?;
                    let rule = StoppingRule::stratified(rule.target(), grid).map_err(|e| {
                        PyValueError::new_err(format!(
                            "invalid target_error {}: {e}",
                            rule.target()
                        ))
                    })?;
                    Limits {
                        target: Some(rule),
                        ..limits
                    }
                }
                None => limits,
            };
            (plan, requested, limits)
        }
    };
    let spec = RunSpec {
        plan,
        seed,
        workers,
        kernel,
        method,
    };
    let mut warnings = Vec::new();
    let session = if cache {
        match cache_location(cache_dir)? {
            Some(dir) => Some(CacheSession::open(Cache::new(dir), !refresh)),
            None => {
                warnings.push(
                    "no cache directory is known (no home directory): running without the \
                     cache; pass cache_dir= or set PIEST_CACHE_DIR"
                        .to_owned(),
                );
                None
            }
        }
    } else {
        None
    };
    let chunks = match shard {
        Some(s) => Some(spec.plan.shard(s.index, s.count).map_err(library_error)?),
        None => None,
    };
    let total = match (&chunks, limits.is_fixed()) {
        (Some(range), _) => Some(spec.plan.trials_in(range)),
        (None, true) => Some(spec.plan.trials()),
        (None, false) if spec.plan.trials() != u64::MAX => Some(spec.plan.trials()),
        _ => None,
    };
    let report = progress.map(|callable| wait::Report { callable, total });
    let observer = wait::Progress::default();
    let cancel = AtomicBool::new(false);
    let counted = wait::run(py, &cancel, &observer, report.as_ref(), || match &chunks {
        Some(range) => runner::run(&spec, range.clone(), session.as_ref(), &observer, &cancel)
            .map(Counted::Part),
        None => runner::run_until(
            &spec,
            &limits,
            session.as_ref(),
            &observer,
            &cancel,
            &MonotonicClock::new(),
        )
        .map(|o| Counted::Whole(Box::new(o))),
    });
    let summary = session.map(|s| {
        let summary = s.summary();
        warnings.extend(s.take_warnings());
        summary
    });
    let counted = counted?.map_err(library_error)?;
    let (w, k) = (spec.workers.get(), spec.kernel.name());
    let json = match (counted, shard) {
        (Counted::Part(tally), Some(s)) => {
            let report = Report::new(&tally, w, k)
                .with_cache(summary)
                .with_requested_trials(requested_trials);
            serde_json::to_string(&PartReport::new(s, &spec.plan, &tally, report))
        }
        (Counted::Whole(outcome), _) => {
            let report = Report::of_outcome(&outcome, &limits, w, k)
                .with_cache(summary)
                .with_requested_trials(requested_trials);
            serde_json::to_string(&report)
        }
        (Counted::Part(_), None) => unreachable!("a part is counted only for a shard"),
    }
    .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok((json, warnings))
}

enum Counted {
    Whole(Box<runner::Outcome>),
    Part(piest::Tally),
}

/// The inside count of `trials` plain darts (or of one shard of them), without the cache.
#[pyfunction]
#[pyo3(signature = (trials, seed, shard, workers))]
fn count(
    py: Python<'_>,
    trials: Bound<'_, PyAny>,
    seed: Bound<'_, PyAny>,
    shard: Option<Bound<'_, PyAny>>,
    workers: Bound<'_, PyAny>,
) -> PyResult<u64> {
    let spec = RunSpec {
        plan: plan(convert::count("trials", &trials)?, None)?,
        seed: convert::seed(&seed)?.0,
        workers: convert::workers(&workers)?,
        kernel: convert::kernel(std::env::var("PIEST_KERNEL").ok().as_deref())?,
        method: Method::Plain,
    };
    let chunks = match shard.as_ref().map(convert::shard).transpose()? {
        Some(s) => spec.plan.shard(s.index, s.count).map_err(library_error)?,
        None => spec.plan.all(),
    };
    let observer = wait::Progress::default();
    let cancel = AtomicBool::new(false);
    let tally = wait::run(py, &cancel, &observer, None, || {
        runner::run(&spec, chunks, None, &observer, &cancel)
    })?
    .map_err(library_error)?;
    Ok(tally.inside())
}

/// Merges parts (each the JSON of a part) as `piest merge` does; returns the merge's JSON.
#[pyfunction]
#[pyo3(signature = (parts, allow_partial))]
fn merge(parts: Vec<String>, allow_partial: bool) -> PyResult<String> {
    let mut named = Vec::new();
    for (i, text) in parts.iter().enumerate() {
        let name = format!("part #{}", i + 1);
        let read = piest::part::parse_all(text)
            .map_err(|e| PyValueError::new_err(format!("'{name}': {e}")))?;
        named.extend(read.into_iter().map(|part| NamedPart {
            name: name.clone(),
            part,
        }));
    }
    let merged = piest::merge::merge(&named, allow_partial)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    serde_json::to_string(&MergeReport::new(&merged))
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// Times the estimate at several worker counts (`piest scale`); returns the sweep's JSON.
#[pyfunction]
#[pyo3(signature = (trials, workers, seed, chunk_size, method, runs, warmup))]
#[allow(clippy::too_many_arguments)]
fn scale(
    py: Python<'_>,
    trials: Option<Bound<'_, PyAny>>,
    workers: Option<Vec<Bound<'_, PyAny>>>,
    seed: Bound<'_, PyAny>,
    chunk_size: Option<Bound<'_, PyAny>>,
    method: Bound<'_, PyAny>,
    runs: Bound<'_, PyAny>,
    warmup: Bound<'_, PyAny>,
) -> PyResult<String> {
    let trials = trials
        .as_ref()
        .map(|t| convert::count("trials", t))
        .transpose()?;
    let method = convert::method(&method)?;
    let plan = match method {
        Method::Plain => plan(trials.unwrap_or(DEFAULT_TRIALS), chunk_size.as_ref())?,
        Method::Stratified => stratified_plan(trials, chunk_size.as_ref(), None, false)?.0,
    };
    let cores = default_workers();
    let workers = match workers {
        Some(list) => list
            .iter()
            .map(convert::workers)
            .collect::<PyResult<Vec<_>>>()?,
        None => (1..=cores.get()).filter_map(NonZeroUsize::new).collect(),
    };
    let spec = SweepSpec {
        plan,
        seed: convert::seed(&seed)?.0,
        kernel: convert::kernel(std::env::var("PIEST_KERNEL").ok().as_deref())?,
        method,
        workers,
        runs: convert::whole("runs", &runs, 1, MAX_RUNS)? as usize,
        warmup: convert::whole("warmup", &warmup, 0, MAX_RUNS)? as usize,
    };
    let observer = wait::Progress::default();
    let cancel = AtomicBool::new(false);
    let swept = wait::run(py, &cancel, &observer, None, || {
        piest::scale::sweep(
            &spec,
            &mut piest::scale::WallClock,
            &runner::Silent,
            &cancel,
        )
    })?
    .map_err(library_error)?;
    serde_json::to_string(&ScaleReport::new(&swept, cores.get()))
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// The points of a plan's trials: `(x, y, inside)` lists and the inside count.
#[pyfunction]
#[pyo3(signature = (n, seed, chunk_size))]
#[allow(clippy::type_complexity)]
fn darts(
    n: Bound<'_, PyAny>,
    seed: Bound<'_, PyAny>,
    chunk_size: Option<Bound<'_, PyAny>>,
) -> PyResult<(u64, u64, Vec<f64>, Vec<f64>, Vec<bool>)> {
    let plan = plan(convert::count("n", &n)?, chunk_size.as_ref())?;
    let seed = convert::seed(&seed)?.0;
    let thrown = piest::darts::throw(&plan, seed).map_err(library_error)?;
    Ok((
        seed,
        thrown.inside,
        thrown.points.iter().map(|d| d.x).collect(),
        thrown.points.iter().map(|d| d.y).collect(),
        thrown.points.iter().map(|d| d.inside).collect(),
    ))
}

/// `_piest._panic_for_tests()`, for the tests only: a small run whose observer panics on a
/// library worker thread, where a bug in the library would panic. The panic crosses the worker
/// pool and the waiting thread and surfaces as `pyo3_runtime.PanicException`; the interpreter,
/// and the next call, go on. Nothing else calls it.
#[pyfunction(name = "_panic_for_tests")]
fn panic_for_tests(py: Python<'_>) -> PyResult<u64> {
    struct Panics;
    impl piest::Observer for Panics {
        fn trials_done(&self, _trials: u64) {
            panic!("a panic on a worker thread, for the tests");
        }
    }
    let spec = RunSpec {
        plan: Plan::new(1000, 100).map_err(library_error)?,
        seed: 0,
        workers: NonZeroUsize::MIN.saturating_add(1),
        kernel: piest::Kernel::best(),
        method: Method::Plain,
    };
    let cancel = AtomicBool::new(false);
    let tally = wait::run(py, &cancel, &wait::Progress::default(), None, || {
        runner::run(&spec, spec.plan.all(), None, &Panics, &cancel)
    })?
    .map_err(library_error)?;
    Ok(tally.inside())
}

#[pymodule(gil_used = false)]
fn _piest(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(estimate, m)?)?;
    m.add_function(wrap_pyfunction!(count, m)?)?;
    m.add_function(wrap_pyfunction!(merge, m)?)?;
    m.add_function(wrap_pyfunction!(scale, m)?)?;
    m.add_function(wrap_pyfunction!(darts, m)?)?;
    // Private: set, not added, so it stays out of the module's `__all__` and its stubs.
    m.setattr("_panic_for_tests", wrap_pyfunction!(panic_for_tests, m)?)?;
    m.add("ALGORITHM", piest::ALGORITHM)?;
    m.add("METHODS", Method::ALL.map(Method::name).to_vec())?;
    m.add("DEFAULT_CHUNK_SIZE", DEFAULT_CHUNK_SIZE)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
