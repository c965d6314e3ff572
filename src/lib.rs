//! piest: a fast, reproducible, statistically honest Monte Carlo estimator of π.
//!
//! The library runs estimates and never prints. A run is described by a [`RunSpec`]: the trials
//! are cut into chunks ([`plan`]), each chunk draws from its own xoshiro256++ lane streams
//! ([`sampler`]), any set of chunks runs on a rayon pool ([`runner`]) into an exact, mergeable
//! [`Tally`] ([`tally`]), and the result is summarised with its standard error and 95% interval
//! ([`stats`], [`report`]). Chunk counts can be kept in an
//! on-disk result cache ([`cache`]) so that a rerun reads them instead of computing them.
//! A run can also choose its own length: until a precision target is met or a time budget is
//! spent ([`runner::prefix`], [`stats::stopping`]), with the estimate's convergence series
//! ([`stats::convergence`]). [`darts`] gives the points of a plan's first trials, for drawing.
//! [`scale`] times the same run at several worker counts to measure speed-up; [`compare`] runs
//! each sampling method at a series of trial counts to show how fast its error falls.
//!
//! ```
//! use std::num::NonZeroUsize;
//! use std::sync::atomic::AtomicBool;
//! use piest::{Kernel, Plan, RunSpec, runner};
//!
//! let spec = RunSpec {
//!     plan: Plan::new(1_000_000, piest::plan::DEFAULT_CHUNK_SIZE).unwrap(),
//!     seed: 42,
//!     workers: NonZeroUsize::new(2).unwrap(),
//!     kernel: Kernel::best(),
//!     method: piest::sampler::Method::Plain,
//! };
//! let tally = runner::run_all(&spec, None, &runner::Silent, &AtomicBool::new(false)).unwrap();
//! assert!(tally.covers(&spec.plan));
//! let pi = piest::stats::pi_estimate(tally.inside(), tally.trials());
//! assert!((pi - std::f64::consts::PI).abs() < 0.01);
//! ```

pub mod cache;
pub mod compare;
pub mod darts;
pub mod error;
pub mod merge;
pub mod part;
pub mod plan;
pub mod report;
pub mod runner;
pub mod sampler;
pub mod scale;
pub mod scheduler;
pub mod stats;
pub mod tally;
pub mod values;

pub use error::Error;
pub use plan::Plan;
pub use runner::{Observer, RunSpec};
pub use sampler::{ALGORITHM, Kernel, Method};
pub use tally::{Tally, TallyKey};
