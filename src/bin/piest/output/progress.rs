//! Live feedback while a run goes on: an indicatif progress bar (only on a terminal, and only
//! once a run has lasted longer than a blink), the `--verbose` per-chunk lines, and the bar across
//! a `piest scale` sweep. This is the
//! only module that uses indicatif's bars; the library reports through [`Observer`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use piest::runner::{ChunkEvent, ChunkSource, Observer};
use piest::scale::{RunInfo, SweepObserver};

/// A run shorter than this never shows a bar.
const SHOW_AFTER: Duration = Duration::from_millis(300);

/// Progress bar and verbose lines for one run, fed by the runner's worker threads.
pub struct Feedback {
    bar: Option<ProgressBar>,
    shown: AtomicBool,
    started: Instant,
    verbose: bool,
}

impl Feedback {
    /// Feedback for a run of `total` trials; `bar` says whether a progress bar may be drawn.
    pub fn new(total: u64, bar: bool, verbose: bool) -> Self {
        Self::with_template(
            total,
            bar,
            verbose,
            "{bar:30.cyan/blue} {percent:>3}%  {human_pos}/{human_len} trials  {rate} trials/s  ETA {eta}",
        )
    }

    /// Feedback for a run whose length is not known in advance (a time budget): trials done,
    /// the rate and the time so far.
    pub fn open_ended(bar: bool, verbose: bool) -> Self {
        Self::with_template(
            u64::MAX,
            bar,
            verbose,
            "{spinner} {human_pos} trials  {rate} trials/s  {elapsed}",
        )
    }

    fn with_template(total: u64, bar: bool, verbose: bool, template: &str) -> Self {
        let bar = bar.then(|| {
            let style = ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key(
                    "rate",
                    |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.2e}", state.per_sec());
                    },
                );
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
                .with_style(style)
        });
        Feedback {
            bar,
            shown: AtomicBool::new(false),
            started: Instant::now(),
            verbose,
        }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Observer for Feedback {
    fn trials_done(&self, trials: u64) {
        let Some(bar) = &self.bar else { return };
        bar.inc(trials);
        if !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() >= SHOW_AFTER
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    fn chunk_done(&self, event: &ChunkEvent) {
        if !self.verbose {
            return;
        }
        let how = match event.source {
            ChunkSource::Computed => "computed",
            ChunkSource::Cached => "cached",
        };
        // A cached span of several chunks is one line naming its chunk range.
        let which = if event.chunks > 1 {
            let last = event.chunk.index + (event.chunks - 1);
            format!("chunks {}..={last}", event.chunk.index)
        } else {
            format!("chunk {:>6}", event.chunk.index)
        };
        let line = format!(
            "{which}: {:>13} trials on worker {:>2} in {:>9.3} ms ({how})",
            HumanCount(event.chunk.trials).to_string(),
            event.thread,
            event.elapsed.as_secs_f64() * 1e3,
        );
        match &self.bar {
            Some(bar) if self.shown.load(Ordering::Relaxed) => bar.println(line),
            _ => super::stderr_line(&line),
        }
    }
}

/// A progress bar across a whole `piest scale` sweep (only on a terminal, only once the sweep
/// has lasted longer than a blink), counting the trials of every run, warm-up included.
pub struct SweepFeedback {
    trials: Feedback,
}

impl SweepFeedback {
    /// Feedback for `runs` runs of `trials` trials each; `bar` says whether a bar may be drawn.
    pub fn new(runs: usize, trials: u64, bar: bool) -> Self {
        let total = trials.saturating_mul(runs as u64);
        let mut feedback = Feedback::new(total, bar, false);
        feedback.bar = feedback.bar.map(|b| {
            let style =
                ProgressStyle::with_template("{bar:30.cyan/blue} {percent:>3}%  {msg}  ETA {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            b.with_style(style)
        });
        SweepFeedback { trials: feedback }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.trials.finish();
    }
}

impl SweepObserver for SweepFeedback {
    fn run_starting(&self, run: &RunInfo) {
        if let Some(bar) = &self.trials.bar {
            let kind = if run.warmup { "warm-up" } else { "timed" };
            let workers = run.workers.get();
            bar.set_message(format!(
                "run {}/{} ({kind}, {workers} worker{})",
                run.index + 1,
                run.total,
                if workers == 1 { "" } else { "s" }
            ));
        }
    }

    fn trials(&self) -> &dyn Observer {
        &self.trials
    }
}
