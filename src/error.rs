//! The library's error type.

/// Everything that can stop an estimate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter is out of range (zero trials, zero workers, ...).
    #[error("{0}")]
    InvalidConfig(String),
    /// The worker thread pool could not be started.
    #[error("cannot start {workers} worker threads: {source}")]
    ThreadPool {
        /// Threads requested.
        workers: usize,
        /// Why rayon refused.
        source: rayon::ThreadPoolBuildError,
    },
    /// The run was cancelled through its cancellation flag.
    #[error("interrupted")]
    Cancelled,
}
