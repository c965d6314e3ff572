//! Running library work without holding the GIL, and with Ctrl-C. The work runs on a scoped
//! thread; the calling thread waits for it in slices of [`SLICE`] with the GIL released, and
//! between slices takes the GIL to run Python's signal handlers and the progress callable.
//! A `KeyboardInterrupt` (or any exception a handler raises) sets the run's cancel flag, waits
//! for the work to stop (the runner stores the chunks completed so far) and is raised. Signals
//! reach only the main thread: a call from another thread cannot be interrupted by Ctrl-C.
//! When the call returns, no thread it started is left.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use piest::runner::{ChunkEvent, Observer};
use pyo3::panic::PanicException;
use pyo3::prelude::*;

/// How long the calling thread waits between two looks at Python's signals: the latency of
/// Ctrl-C, and nothing else (a finished run wakes the caller at once).
pub const SLICE: Duration = Duration::from_millis(25);

/// Least time between two calls of the progress callable.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Counts the trials done, for the progress callable (called from the calling thread only).
#[derive(Default)]
pub struct Progress {
    pub done: AtomicU64,
}

impl Observer for Progress {
    fn trials_done(&self, trials: u64) {
        self.done.fetch_add(trials, Ordering::Relaxed);
    }
    fn chunk_done(&self, event: &ChunkEvent) {
        if event.source == piest::runner::ChunkSource::Cached {
            self.done.fetch_add(event.chunk.trials, Ordering::Relaxed);
        }
    }
}

/// A progress callable and the total it reports against (`None`: open-ended).
pub struct Report<'py> {
    pub callable: Bound<'py, PyAny>,
    pub total: Option<u64>,
}

/// Runs `work` on a scoped thread while the caller waits without the GIL (see the module docs).
pub fn run<T: Send>(
    py: Python<'_>,
    cancel: &AtomicBool,
    progress: &Progress,
    report: Option<&Report<'_>>,
    work: impl FnOnce() -> T + Send,
) -> PyResult<T> {
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel(1);
        let worker = scope.spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = tx.send(result);
        });
        let mut rx = Some(rx);
        let mut shown = (Instant::now(), u64::MAX);
        let outcome = loop {
            let receiver = rx.take().expect("the receiver is put back every slice");
            let (receiver, got) = py.detach(move || {
                let got = receiver.recv_timeout(SLICE);
                (receiver, got)
            });
            rx = Some(receiver);
            match got {
                Ok(result) => break Ok(result),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    break Err(PanicException::new_err("piest's worker thread ended early"));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Err(interrupt) = py.check_signals() {
                cancel.store(true, Ordering::Relaxed);
                break Err(interrupt);
            }
            if let Some(report) = report {
                let done = progress.done.load(Ordering::Relaxed);
                if shown.1 != done && shown.0.elapsed() >= PROGRESS_INTERVAL {
                    shown = (Instant::now(), done);
                    if let Err(e) = call(report, done) {
                        cancel.store(true, Ordering::Relaxed);
                        break Err(e);
                    }
                }
            }
        };
        // Whatever happened, the work has stopped (or stops at the flag) before the call returns:
        // the runner stores what it completed.
        py.detach(|| {
            let _ = worker.join();
        });
        let result = outcome?;
        let value = result.map_err(|payload| {
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            PanicException::new_err(text)
        })?;
        if let Some(report) = report {
            call(report, progress.done.load(Ordering::Relaxed))?;
        }
        Ok(value)
    })
}

fn call(report: &Report<'_>, done: u64) -> PyResult<()> {
    let done = report.total.map_or(done, |t| done.min(t));
    report.callable.call1((done, report.total))?;
    Ok(())
}
