//! The sweep itself: the same estimate timed at several worker counts,
//! with warm-up runs, rounds interleaved across worker counts (1, 2, 4, 1, 2, 4, …) so that a
//! machine that slows down or speeds up during the sweep does not bias one row, and a check that
//! every run counts the same inside points.
//!
//! Timing goes through the [`Executor`] trait so that tests can substitute a fake clock;
//! [`WallClock`] is the real one. Each timed run is a complete [`runner::run_all`]: building the
//! thread pool, sampling every chunk and summing, without the result cache. Nothing here prints;
//! progress goes to a [`SweepObserver`].

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::Error;
use crate::plan::Plan;
use crate::runner::{self, Observer, RunSpec, Silent};
use crate::sampler::{Kernel, Method};

/// What to sweep.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    /// The chunk plan every run uses.
    pub plan: Plan,
    /// The seed every run uses.
    pub seed: u64,
    /// The kernel every run uses.
    pub kernel: Kernel,
    /// The sampling method every run uses.
    pub method: Method,
    /// Worker counts to time, in the order of the report's rows.
    pub workers: Vec<NonZeroUsize>,
    /// Timed runs per worker count (at least 1).
    pub runs: usize,
    /// Untimed warm-up runs per worker count, before the timed ones.
    pub warmup: usize,
}

impl SweepSpec {
    /// The run with `workers` workers.
    pub fn run_spec(&self, workers: NonZeroUsize) -> RunSpec {
        RunSpec {
            plan: self.plan,
            seed: self.seed,
            workers,
            kernel: self.kernel,
            method: self.method,
        }
    }

    /// Runs in the whole sweep, warm-up included.
    pub fn total_runs(&self) -> usize {
        self.workers.len() * (self.runs + self.warmup)
    }
}

/// One run as an [`Executor`] measured it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measurement {
    /// Trials that landed inside the quarter circle.
    pub inside: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// Runs and times one estimate.
pub trait Executor {
    /// Runs `spec` to completion (or until `cancel` is set) and says how long it took.
    fn execute(
        &mut self,
        spec: &RunSpec,
        observer: &dyn Observer,
        cancel: &AtomicBool,
    ) -> Result<Measurement, Error>;
}

/// The real executor: wall-clock time around [`runner::run_all`], thread-pool start-up included.
#[derive(Clone, Copy, Debug, Default)]
pub struct WallClock;

impl Executor for WallClock {
    fn execute(
        &mut self,
        spec: &RunSpec,
        observer: &dyn Observer,
        cancel: &AtomicBool,
    ) -> Result<Measurement, Error> {
        let start = Instant::now();
        let tally = runner::run_all(spec, None, observer, cancel)?;
        Ok(Measurement {
            inside: tally.inside(),
            elapsed: start.elapsed(),
        })
    }
}

/// Where a run stands in the sweep, as told to a [`SweepObserver`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunInfo {
    /// Workers of this run.
    pub workers: NonZeroUsize,
    /// Whether it is an untimed warm-up run.
    pub warmup: bool,
    /// Position of the run in the sweep, from 0.
    pub index: usize,
    /// Runs in the whole sweep.
    pub total: usize,
}

/// Receives the sweep's progress. All methods have defaults that ignore it.
pub trait SweepObserver: Sync {
    /// A run is about to start.
    fn run_starting(&self, _run: &RunInfo) {}
    /// A run has finished.
    fn run_done(&self, _run: &RunInfo, _measurement: &Measurement) {}
    /// The observer handed to each run, for progress within it.
    fn trials(&self) -> &dyn Observer {
        &Silent
    }
}

/// [`Silent`] ignores a sweep's progress as it ignores a run's: one null observer for both.
impl SweepObserver for Silent {}

/// The timings of one worker count.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Workers of these runs.
    pub workers: NonZeroUsize,
    /// Warm-up run times, in the order they ran.
    pub warmup: Vec<Duration>,
    /// Timed run times, in the order they ran.
    pub times: Vec<Duration>,
}

/// A finished sweep.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// What was swept.
    pub spec: SweepSpec,
    /// The inside count every run agreed on.
    pub inside: u64,
    /// One series per worker count, in the order of `spec.workers`.
    pub series: Vec<Series>,
}

/// Runs the sweep: `spec.warmup` rounds of warm-up, then `spec.runs` timed rounds, each round
/// running every worker count once in order. Stops with [`Error::CountMismatch`] as soon as a run
/// counts differently from the first, and with [`Error::Cancelled`] soon after `cancel` is set.
pub fn sweep(
    spec: &SweepSpec,
    executor: &mut dyn Executor,
    observer: &dyn SweepObserver,
    cancel: &AtomicBool,
) -> Result<Sweep, Error> {
    if spec.workers.is_empty() {
        return Err(Error::InvalidConfig("no worker counts to time".into()));
    }
    if spec.runs == 0 {
        return Err(Error::InvalidConfig(
            "at least one timed run is needed".into(),
        ));
    }
    let mut series: Vec<Series> = spec
        .workers
        .iter()
        .map(|&workers| Series {
            workers,
            warmup: Vec::with_capacity(spec.warmup),
            times: Vec::with_capacity(spec.runs),
        })
        .collect();
    let total = spec.total_runs();
    let mut first: Option<(usize, u64)> = None;
    let rounds = (0..spec.warmup)
        .map(|_| true)
        .chain((0..spec.runs).map(|_| false));
    let mut index = 0;
    for warmup in rounds {
        for row in series.iter_mut() {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let info = RunInfo {
                workers: row.workers,
                warmup,
                index,
                total,
            };
            observer.run_starting(&info);
            let run = spec.run_spec(row.workers);
            let measured = executor.execute(&run, observer.trials(), cancel)?;
            match first {
                None => first = Some((row.workers.get(), measured.inside)),
                Some((first_workers, first_inside)) if first_inside != measured.inside => {
                    return Err(Error::CountMismatch {
                        first_workers,
                        first_inside,
                        workers: row.workers.get(),
                        inside: measured.inside,
                    });
                }
                Some(_) => {}
            }
            if warmup {
                row.warmup.push(measured.elapsed);
            } else {
                row.times.push(measured.elapsed);
            }
            observer.run_done(&info, &measured);
            index += 1;
        }
    }
    Ok(Sweep {
        spec: spec.clone(),
        inside: first.map_or(0, |(_, inside)| inside),
        series,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn workers(list: &[usize]) -> Vec<NonZeroUsize> {
        list.iter()
            .map(|&w| NonZeroUsize::new(w).unwrap())
            .collect()
    }

    fn spec(list: &[usize], runs: usize, warmup: usize) -> SweepSpec {
        SweepSpec {
            plan: Plan::new(1000, 100).unwrap(),
            seed: 1,
            kernel: Kernel::Scalar,
            method: Method::Plain,
            workers: workers(list),
            runs,
            warmup,
        }
    }

    /// A fake executor: a run with `p` workers takes `(f + (1 − f)/p)` seconds plus the call's
    /// position in milliseconds, so each timing tells which call produced it. Records the order
    /// of calls and can be told to miscount on one call.
    struct Fake {
        serial_fraction: f64,
        calls: Vec<usize>,
        miscount_on: Option<usize>,
    }

    impl Fake {
        fn new(serial_fraction: f64) -> Self {
            Fake {
                serial_fraction,
                calls: Vec::new(),
                miscount_on: None,
            }
        }
    }

    impl Executor for Fake {
        fn execute(
            &mut self,
            spec: &RunSpec,
            _: &dyn Observer,
            _: &AtomicBool,
        ) -> Result<Measurement, Error> {
            let call = self.calls.len();
            self.calls.push(spec.workers.get());
            let p = spec.workers.get() as f64;
            let f = self.serial_fraction;
            let seconds = f + (1.0 - f) / p + call as f64 * 1e-3;
            Ok(Measurement {
                inside: if self.miscount_on == Some(call) {
                    7
                } else {
                    785
                },
                elapsed: Duration::from_secs_f64(seconds),
            })
        }
    }

    #[test]
    fn rounds_interleave_worker_counts_with_warmup_first() {
        let mut fake = Fake::new(0.0);
        let done = sweep(
            &spec(&[1, 2, 4], 2, 1),
            &mut fake,
            &Silent,
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(fake.calls, vec![1, 2, 4, 1, 2, 4, 1, 2, 4]);
        assert_eq!(done.inside, 785);
        let ms = |d: &Duration| (d.as_secs_f64() * 1e3).round() as u64;
        // Perfect scaling: 1 s / p, plus the call's position in milliseconds.
        let row = &done.series[1];
        assert_eq!(row.workers.get(), 2);
        assert_eq!(row.warmup.iter().map(ms).collect::<Vec<_>>(), vec![501]);
        assert_eq!(row.times.iter().map(ms).collect::<Vec<_>>(), vec![504, 507]);
        assert_eq!(
            done.series[2].times.iter().map(ms).collect::<Vec<_>>(),
            vec![255, 258]
        );
    }

    #[test]
    fn a_count_that_differs_stops_the_sweep_as_a_bug() {
        let mut fake = Fake::new(0.0);
        fake.miscount_on = Some(4);
        let err = sweep(
            &spec(&[1, 2, 3], 3, 0),
            &mut fake,
            &Silent,
            &AtomicBool::new(false),
        )
        .unwrap_err();
        assert_eq!(fake.calls.len(), 5, "stops at the first disagreement");
        match err {
            Error::CountMismatch {
                first_workers,
                first_inside,
                workers,
                inside,
            } => assert_eq!(
                (first_workers, first_inside, workers, inside),
                (1, 785, 2, 7)
            ),
            other => panic!("{other:?}"),
        }
        let text = Error::CountMismatch {
            first_workers: 1,
            first_inside: 785,
            workers: 2,
            inside: 7,
        }
        .to_string();
        assert!(text.contains("bug"), "{text}");
    }

    #[test]
    fn warmup_counts_are_checked_too() {
        let mut fake = Fake::new(0.0);
        fake.miscount_on = Some(1);
        let result = sweep(
            &spec(&[1, 2], 1, 1),
            &mut fake,
            &Silent,
            &AtomicBool::new(false),
        );
        assert!(matches!(result, Err(Error::CountMismatch { .. })));
    }

    #[test]
    fn cancel_stops_before_the_next_run() {
        let mut fake = Fake::new(0.0);
        let result = sweep(
            &spec(&[1, 2], 3, 0),
            &mut fake,
            &Silent,
            &AtomicBool::new(true),
        );
        assert!(matches!(result, Err(Error::Cancelled)));
        assert!(fake.calls.is_empty());
    }

    #[test]
    fn observer_sees_every_run_in_order() {
        #[derive(Default)]
        struct Log(Mutex<Vec<(usize, bool, usize, usize)>>);
        impl SweepObserver for Log {
            fn run_starting(&self, run: &RunInfo) {
                let entry = (run.workers.get(), run.warmup, run.index, run.total);
                self.0.lock().unwrap().push(entry);
            }
        }
        let log = Log::default();
        let mut fake = Fake::new(0.5);
        sweep(
            &spec(&[2, 1], 1, 1),
            &mut fake,
            &log,
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(
            log.0.into_inner().unwrap(),
            vec![
                (2, true, 0, 4),
                (1, true, 1, 4),
                (2, false, 2, 4),
                (1, false, 3, 4)
            ]
        );
    }

    #[test]
    fn empty_sweeps_are_refused() {
        let mut fake = Fake::new(0.0);
        let no = AtomicBool::new(false);
        assert!(sweep(&spec(&[], 1, 0), &mut fake, &Silent, &no).is_err());
        assert!(sweep(&spec(&[1], 0, 0), &mut fake, &Silent, &no).is_err());
    }

    #[test]
    fn the_wall_clock_times_a_real_run() {
        let spec = spec(&[2], 1, 0).run_spec(NonZeroUsize::new(2).unwrap());
        let m = WallClock
            .execute(&spec, &Silent, &AtomicBool::new(false))
            .unwrap();
        let direct = runner::run_all(&spec, None, &Silent, &AtomicBool::new(false)).unwrap();
        assert_eq!(m.inside, direct.inside());
        assert!(m.elapsed > Duration::ZERO);
    }
}
