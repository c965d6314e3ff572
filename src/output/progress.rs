//! Live feedback while a run goes on: an indicatif progress bar (only on a terminal, and only
//! once a run has lasted longer than a blink) and the `--verbose` per-chunk lines. This is the
//! only module that uses indicatif's bars; the library reports through [`Observer`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use piest::runner::{ChunkEvent, ChunkSource, Observer};

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
        let bar = bar.then(|| {
            let style = ProgressStyle::with_template(
                "{bar:30.cyan/blue} {percent:>3}%  {human_pos}/{human_len} trials  {rate} trials/s  ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.2e}", state.per_sec());
            });
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden()).with_style(style)
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
        let line = format!(
            "chunk {:>6}: {:>13} trials on worker {:>2} in {:>9.3} ms ({how})",
            event.chunk.index,
            HumanCount(event.chunk.trials).to_string(),
            event.thread,
            event.elapsed.as_secs_f64() * 1e3,
        );
        match &self.bar {
            Some(bar) if self.shown.load(Ordering::Relaxed) => bar.println(line),
            _ => eprintln!("{line}"),
        }
    }
}
