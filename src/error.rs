//! The library's error type.

/// Everything that can stop an estimate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter is out of range (zero trials, zero workers, ...).
    #[error("{0}")]
    InvalidConfig(String),
    /// A stratified run's chunk size is not `4^k`.
    #[error(transparent)]
    ChunkSize(#[from] crate::sampler::ChunkSizeError),
    /// A stratified run's trials are not whole chunks (only whole chunks are ever counted).
    #[error(
        "a stratified run counts whole chunks: {trials} trials are not a multiple of the chunk \
         size {chunk_size}"
    )]
    PartialChunk {
        /// Trials asked for.
        trials: u64,
        /// Trials per chunk.
        chunk_size: u64,
    },
    /// A precision target's rule was made for another method or chunk grid than the run's
    /// (a caller's mistake: [`crate::stats::stopping::StoppingRule::stratified`] takes the run's
    /// grid).
    #[error("the stopping rule is for {rule}, but the run is {run}")]
    RuleMismatch {
        /// What the rule was made for.
        rule: String,
        /// What the run counts.
        run: String,
    },
    /// The worker thread pool could not be started.
    #[error("cannot start {workers} worker threads: {source}")]
    ThreadPool {
        /// Threads requested.
        workers: usize,
        /// Why rayon refused.
        source: rayon::ThreadPoolBuildError,
    },
    /// A time budget ran out before the first chunk was counted: there is no answer. A chunk
    /// size whose first chunk takes longer than the budget cannot meet it.
    #[error(
        "the time budget of {budget:?} ran out before the first chunk of {chunk_trials} trials \
         was counted: no estimate (a smaller --chunk-size or a longer --max-time gives one)"
    )]
    BudgetTooShort {
        /// The budget asked for.
        budget: std::time::Duration,
        /// Trials of the first chunk.
        chunk_trials: u64,
    },
    /// A run was asked for chunks its plan does not have (a caller's mistake: shards and
    /// prefixes are cut from the plan).
    #[error("chunks {}..{} are not in a plan of {plan_chunks} chunks", .chunks.start, .chunks.end)]
    ChunksOutsidePlan {
        /// The chunks asked for.
        chunks: std::ops::Range<u64>,
        /// Chunks in the plan.
        plan_chunks: u64,
    },
    /// MPI was initialised before this run tried to (feature `mpi`).
    #[error("MPI is already initialised")]
    MpiAlreadyInitialised,
    /// The MPI ranks were given different estimates (feature `mpi`): each range is the lowest
    /// and highest value over the ranks.
    #[error(
        "the MPI ranks run different estimates (seeds {}..={}, trials {}..={}, chunk sizes \
         {}..={}, methods {}): give every rank the same arguments",
        .seeds.0, .seeds.1, .trials.0, .trials.1, .chunk_sizes.0, .chunk_sizes.1,
        if *.same_method { "the same" } else { "differ" }
    )]
    RanksDisagree {
        /// Lowest and highest seed.
        seeds: (u64, u64),
        /// Lowest and highest trials.
        trials: (u64, u64),
        /// Lowest and highest chunk size.
        chunk_sizes: (u64, u64),
        /// Whether every rank runs the same method.
        same_method: bool,
    },
    /// The ranks' summed counts do not make the plan (feature `mpi`): a rank counted other
    /// chunks than its shard, which is a bug.
    #[error(
        "the MPI ranks counted {chunks} chunks of {trials} trials, not the plan's \
         {plan_chunks} of {plan_trials}"
    )]
    RanksMiscounted {
        /// Chunks summed over the ranks.
        chunks: u64,
        /// Trials summed over the ranks.
        trials: u64,
        /// The plan's chunks.
        plan_chunks: u64,
        /// The plan's trials.
        plan_trials: u64,
    },
    /// Summed counts that are not a tally (a rank's numbers contradict each other).
    #[error("inconsistent counts: {0}")]
    Tally(#[from] crate::tally::TallyError),
    /// The run was cancelled through its cancellation flag.
    #[error("interrupted")]
    Cancelled,
    /// Two runs of the same trials and seed counted different numbers of inside points. The count
    /// must not depend on the worker count or on the run, so this is always a bug.
    #[error(
        "runs disagree: {workers} worker(s) counted {inside} inside, but {first_workers} worker(s) \
         counted {first_inside} in the first run; the count must not depend on the worker count \
         or on the run, so this is a bug in piest"
    )]
    CountMismatch {
        /// Worker count of the first run.
        first_workers: usize,
        /// Inside count of the first run.
        first_inside: u64,
        /// Worker count of the run that disagrees.
        workers: usize,
        /// Inside count of the run that disagrees.
        inside: u64,
    },
}
