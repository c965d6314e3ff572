//! The worker-count sweep behind `piest scale`, in three steps:
//!
//! - [`sweep`](mod@sweep): the same estimate timed at several worker counts, warm-up first, rounds
//!   interleaved, every run checked to count the same inside points;
//! - [`stats`]: pure functions on timings (median, spread, outliers) and the scaling figures
//!   built on them (speed-up, efficiency, Karp–Flatt, the Amdahl fit);
//! - [`report`]: the analysis that turns a [`Sweep`] into a [`ScaleReport`], the data model every
//!   renderer reads, with its [`Warning`]s about the measurements.
//!
//! Nothing here prints: progress goes to a [`SweepObserver`], and renderers read the report
//! without computing any statistic of their own.

pub mod report;
pub mod stats;
pub mod sweep;
pub mod warning;

pub use report::{Amdahl, Baseline, ScaleReport, ScaleRow};
pub use sweep::{
    Executor, Measurement, RunInfo, Series, Sweep, SweepObserver, SweepSpec, WallClock, sweep,
};
pub use warning::Warning;
