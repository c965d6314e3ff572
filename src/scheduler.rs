//! What a cluster scheduler or MPI launcher tells a process about its place in a job, read from
//! environment values that the caller passes in (the library never reads the environment).
//!
//! - [`shard_from_env`]: `--shard auto`, the shard a Slurm job-array task or a Kubernetes
//!   Indexed Job pod runs.
//! - [`Launch`]: whether an MPI launcher (or `srun`) started the process, how many tasks it
//!   says the job has, and how many share this node, for the MPI path and for the guard against
//!   a silent N-fold run.
//!
//! Every value is looked up through a function `name → Option<value>`, so tests pass plain maps.

use std::num::NonZeroUsize;

use crate::part::ShardId;

/// Variables that mean an MPI launcher started the process (any of them set).
pub const MPI_LAUNCHER_VARS: [&str; 4] =
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"];

/// Variables that state how many tasks the job step has, in the order they are trusted.
pub const TASK_COUNT_VARS: [&str; 3] = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"];

/// Variables that state how many of the job's tasks run on this node.
pub const LOCAL_COUNT_VARS: [&str; 4] = [
    "OMPI_COMM_WORLD_LOCAL_SIZE",
    "MPI_LOCALNRANKS",
    "PMI_LOCAL_SIZE",
    "SLURM_STEP_TASKS_PER_NODE",
];

/// Every variable this module may look up (what a caller should offer).
pub const ALL_VARS: [&str; 15] = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "JOB_COMPLETION_INDEX",
    "PIEST_SHARD_COUNT",
    "OMPI_COMM_WORLD_SIZE",
    "PMI_SIZE",
    "PMIX_RANK",
    "PMI_RANK",
    "SLURM_STEP_NUM_TASKS",
    "OMPI_COMM_WORLD_LOCAL_SIZE",
    "MPI_LOCALNRANKS",
    "PMI_LOCAL_SIZE",
    "SLURM_STEP_TASKS_PER_NODE",
];

/// Why `--shard auto` cannot name a shard. Messages say what to set or run instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardEnvError {
    /// No scheduler variable is set.
    #[error(
        "--shard auto found no job array: it reads SLURM_ARRAY_TASK_ID (a Slurm job array) or \
         JOB_COMPLETION_INDEX (a Kubernetes Indexed Job); elsewhere use --shard K/N"
    )]
    NoScheduler,
    /// A variable is set but is not a whole number.
    #[error("{name}='{value}' is not a whole number")]
    NotANumber { name: &'static str, value: String },
    /// `PIEST_SHARD_COUNT` is 0.
    #[error("PIEST_SHARD_COUNT must be at least 1")]
    ZeroShardCount,
    /// `SLURM_ARRAY_TASK_ID` is set without `SLURM_ARRAY_TASK_COUNT` or `PIEST_SHARD_COUNT`.
    #[error(
        "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: set PIEST_SHARD_COUNT, or \
         use --shard K/N"
    )]
    SlurmCountMissing,
    /// `JOB_COMPLETION_INDEX` is set without `PIEST_SHARD_COUNT`.
    #[error(
        "JOB_COMPLETION_INDEX is set but PIEST_SHARD_COUNT is not: a Kubernetes pod is not told \
         the completions count, so set PIEST_SHARD_COUNT to spec.completions in the Job's env"
    )]
    KubernetesCountMissing,
    /// Both a Slurm task ID and a Kubernetes completion index are set: which one names the
    /// shard is a guess, and a wrong guess counts another shard's chunks.
    #[error(
        "both SLURM_ARRAY_TASK_ID ({slurm}) and JOB_COMPLETION_INDEX ({kubernetes}) are set: \
         --shard auto cannot tell which scheduler runs this task; unset one, or use --shard K/N"
    )]
    TwoSchedulers {
        /// `SLURM_ARRAY_TASK_ID`.
        slurm: u64,
        /// `JOB_COMPLETION_INDEX`.
        kubernetes: u64,
    },
    /// A Slurm array that is not one contiguous range of task IDs.
    #[error(
        "the Slurm job array is not a contiguous range (IDs {min} to {max} but {count} tasks): \
         submit --array=0-N-1 without a step, or give each task --shard K/N"
    )]
    NotContiguous {
        /// `SLURM_ARRAY_TASK_MIN`.
        min: u64,
        /// `SLURM_ARRAY_TASK_MAX`.
        max: u64,
        /// `SLURM_ARRAY_TASK_COUNT`.
        count: u64,
    },
    /// A task ID outside the array's own range of IDs: the variables contradict each other.
    #[error(
        "SLURM_ARRAY_TASK_ID={id} lies outside the array's IDs {min} to {max} \
         (SLURM_ARRAY_TASK_MIN/MAX): the scheduler's variables contradict each other; \
         use --shard K/N"
    )]
    OutsideArray {
        /// `SLURM_ARRAY_TASK_ID`.
        id: u64,
        /// `SLURM_ARRAY_TASK_MIN`.
        min: u64,
        /// `SLURM_ARRAY_TASK_MAX`.
        max: u64,
    },
    /// Without `PIEST_SHARD_COUNT`, an array that does not start at ID 0: part of an array
    /// (a re-submission) or a 1-based one, whose IDs are not the shard indices of its own size.
    #[error(
        "the Slurm job array starts at ID {min}, not 0 (IDs {min} to {max}): task IDs are shard \
         indices, so this looks like part of a larger array; set PIEST_SHARD_COUNT to the number \
         of shards of the whole run, or submit --array=0-N-1"
    )]
    NotWholeArray {
        /// `SLURM_ARRAY_TASK_MIN`.
        min: u64,
        /// `SLURM_ARRAY_TASK_MAX`, or the task ID when it is not set.
        max: u64,
    },
    /// An array of one task: almost always a retry of one shard, which must keep its index.
    #[error(
        "a Slurm job array of one task (ID {id}) looks like a retry of one shard: set \
         PIEST_SHARD_COUNT to the original number of shards, or use --shard {id}/N"
    )]
    LoneTask {
        /// `SLURM_ARRAY_TASK_ID`.
        id: u64,
    },
    /// An array whose IDs reach past the shard count (`--array=1-64` for 64 shards): some task
    /// would have no shard, and the IDs are not the shard indices.
    #[error(
        "the Slurm job array's IDs run to {max}, but there are only {count} shards (0 to {last}): \
         task IDs are shard indices, so submit --array=0-{last} (or a subset of it)",
        last = .count - 1
    )]
    ArrayPastCount {
        /// `SLURM_ARRAY_TASK_MAX` (or the task ID).
        max: u64,
        count: u64,
    },
    /// The index found is not below the count.
    #[error("{from} gives shard {index}, but there are only {count} shards (0 to {last})", last = .count - 1)]
    OutOfRange {
        /// Where the index came from.
        from: &'static str,
        index: u64,
        count: u64,
    },
}

/// Parses `K/N` (`0 ≤ K < N`), as `--shard` takes it.
pub fn parse_shard(text: &str) -> Result<ShardId, String> {
    const HINT: &str = "expected K/N with 0 ≤ K < N (e.g. 3/64), or auto";
    let (k, n) = text
        .trim()
        .split_once('/')
        .ok_or_else(|| format!("not a shard: {HINT}"))?;
    let number = |s: &str| {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("not a shard: {HINT}"));
        }
        s.parse::<u64>().map_err(|_| format!("too large: {HINT}"))
    };
    let (k, n) = (number(k)?, number(n)?);
    if n == 0 {
        return Err(format!("there must be at least one shard: {HINT}"));
    }
    ShardId::new(k, n).ok_or_else(|| format!("shard {k} of {n} does not exist: {HINT}"))
}

/// The shard of `--shard auto`, from a Slurm job array or a Kubernetes Indexed Job (see
/// `docs/cluster.md` for the rules). A task ID or a pod's index *is* the shard index, whatever
/// part of the array runs, so a retry or a re-submitted half of an array runs the shards it ran
/// the first time. `PIEST_SHARD_COUNT`, when set, is the shard count; without it only a whole
/// array `0..COUNT-1` names one, and anything else is refused rather than remapped.
pub fn shard_from_env(var: &dyn Fn(&str) -> Option<String>) -> Result<ShardId, ShardEnvError> {
    let number = |name: &'static str| -> Result<Option<u64>, ShardEnvError> {
        match var(name) {
            None => Ok(None),
            Some(value) => {
                value
                    .trim()
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| ShardEnvError::NotANumber {
                        name,
                        value: value.clone(),
                    })
            }
        }
    };
    let forced = number("PIEST_SHARD_COUNT")?;
    if forced == Some(0) {
        return Err(ShardEnvError::ZeroShardCount);
    }
    let checked = |source, index, count| {
        ShardId::new(index, count).ok_or(ShardEnvError::OutOfRange {
            from: source,
            index,
            count,
        })
    };
    let completion = number("JOB_COMPLETION_INDEX")?;
    if let (Some(slurm), Some(kubernetes)) = (number("SLURM_ARRAY_TASK_ID")?, completion) {
        return Err(ShardEnvError::TwoSchedulers { slurm, kubernetes });
    }
    if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
        let count = number("SLURM_ARRAY_TASK_COUNT")?;
        let min = number("SLURM_ARRAY_TASK_MIN")?;
        let max = number("SLURM_ARRAY_TASK_MAX")?;
        if min.is_some_and(|min| id < min) || max.is_some_and(|max| id > max) {
            return Err(ShardEnvError::OutsideArray {
                id,
                min: min.unwrap_or(id),
                max: max.unwrap_or(id),
            });
        }
        // The highest ID of the array, as far as this task can tell.
        let top = max.unwrap_or(id);
        let n = match (forced, count) {
            // The count of the whole run is given: any subset of its IDs (the whole array, half
            // of it again, one retried task) runs the same shards.
            (Some(n), _) => n,
            (None, None) => return Err(ShardEnvError::SlurmCountMissing),
            (None, Some(1)) => return Err(ShardEnvError::LoneTask { id }),
            // Without the count, only a whole array 0..COUNT-1 tells it.
            (None, Some(count)) => {
                let min = min.unwrap_or(0);
                if min != 0 {
                    return Err(ShardEnvError::NotWholeArray { min, max: top });
                }
                if max.is_some_and(|max| max.checked_add(1) != Some(count)) {
                    return Err(ShardEnvError::NotContiguous {
                        min,
                        max: top,
                        count,
                    });
                }
                count
            }
        };
        if top >= n {
            return Err(ShardEnvError::ArrayPastCount { max: top, count: n });
        }
        return checked("SLURM_ARRAY_TASK_ID", id, n);
    }
    if let Some(index) = completion {
        let count = forced.ok_or(ShardEnvError::KubernetesCountMissing)?;
        return checked("JOB_COMPLETION_INDEX", index, count);
    }
    Err(ShardEnvError::NoScheduler)
}

/// What the environment says about the launcher of this process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Launch {
    /// Whether an MPI launcher set its variables ([`MPI_LAUNCHER_VARS`]).
    pub mpi_launcher: bool,
    /// The task count a launcher states ([`TASK_COUNT_VARS`]), with the variable that says it.
    pub tasks: Option<(&'static str, u64)>,
    /// Tasks on this node ([`LOCAL_COUNT_VARS`]; Slurm's `2(x3)` form is read as its first
    /// number).
    pub local_tasks: Option<u64>,
}

impl Launch {
    /// Reads the launcher's variables through `var`.
    pub fn from_env(var: &dyn Fn(&str) -> Option<String>) -> Self {
        let positive = |name: &str| {
            var(name).and_then(|v| {
                let digits: String = v.trim().chars().take_while(char::is_ascii_digit).collect();
                digits.parse::<u64>().ok().filter(|n| *n > 0)
            })
        };
        Launch {
            mpi_launcher: MPI_LAUNCHER_VARS.iter().any(|name| var(name).is_some()),
            tasks: TASK_COUNT_VARS
                .iter()
                .find_map(|name| positive(name).map(|n| (*name, n))),
            local_tasks: LOCAL_COUNT_VARS.iter().find_map(|name| positive(name)),
        }
    }

    /// Whether the launcher says the job has more than one task.
    pub fn many_tasks(&self) -> Option<(&'static str, u64)> {
        self.tasks.filter(|(_, n)| *n > 1)
    }

    /// Worker threads for one task: the cores divided by the tasks on this node (at least 1).
    pub fn threads_per_task(&self, cores: NonZeroUsize) -> NonZeroUsize {
        let local = self
            .local_tasks
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(1);
        NonZeroUsize::new(cores.get() / local.max(1)).unwrap_or(NonZeroUsize::MIN)
    }

    /// The guard against a silent N-fold run by a build without MPI: under a launcher that says
    /// more than one task, each task would print a whole estimate.
    pub fn refuse_without_mpi(&self) -> Result<(), LaunchError> {
        match self.many_tasks() {
            Some((var, tasks)) => Err(LaunchError::WithoutMpi { var, tasks }),
            None => Ok(()),
        }
    }

    /// The guard for an MPI build whose MPI world has `world_size` processes: a world of one
    /// under a launcher that says more tasks means the launcher and the MPI library do not
    /// talk (another MPI's mpirun, or `srun` without `--mpi=pmix`).
    pub fn check_world(&self, world_size: u64) -> Result<(), LaunchError> {
        match self.many_tasks() {
            Some((var, tasks)) if world_size == 1 => Err(LaunchError::WorldOfOne { var, tasks }),
            _ => Ok(()),
        }
    }
}

/// Why a launcher's tasks cannot run one estimate: each would compute the whole run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LaunchError {
    /// Several tasks, but this build has no MPI.
    #[error(
        "{var}={tasks}: started as {tasks} tasks, but this piest is built without MPI, so each \
         task would compute the whole run; build with `cargo build --release --features mpi`, \
         or run one task per shard with --shard K/N and `piest merge`"
    )]
    WithoutMpi {
        /// The variable that states the task count.
        var: &'static str,
        tasks: u64,
    },
    /// Several tasks, but an MPI world of one.
    #[error(
        "{var}={tasks} says {tasks} tasks, but MPI sees a world of 1: each task would compute \
         the whole run. Use the mpirun of the MPI piest was built with, or `srun --mpi=pmix` \
         under Slurm (see `srun --mpi=list`), or --shard K/N with `piest merge`"
    )]
    WorldOfOne {
        /// The variable that states the task count.
        var: &'static str,
        tasks: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    fn shard(pairs: &[(&str, &str)]) -> Result<ShardId, ShardEnvError> {
        shard_from_env(&env(pairs))
    }

    #[test]
    fn shard_values_parse_and_bad_ones_say_why() {
        assert_eq!(
            parse_shard("3/64"),
            Ok(ShardId {
                index: 3,
                count: 64
            })
        );
        assert_eq!(parse_shard(" 0/1 "), Ok(ShardId { index: 0, count: 1 }));
        for (text, why) in [
            ("4/4", "does not exist"),
            ("0/0", "at least one"),
            ("-1/4", "not a shard"),
            ("1/", "not a shard"),
            ("3", "not a shard"),
            ("a/b", "not a shard"),
            ("1/99999999999999999999", "too large"),
        ] {
            assert!(parse_shard(text).unwrap_err().contains(why), "{text}");
        }
    }

    #[test]
    fn a_slurm_task_id_beside_a_completion_index_is_refused() {
        let both = [
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("JOB_COMPLETION_INDEX", "2"),
            ("PIEST_SHARD_COUNT", "4"),
        ];
        assert_eq!(
            shard(&both),
            Err(ShardEnvError::TwoSchedulers {
                slurm: 1,
                kubernetes: 2
            })
        );
        // Either alone names the shard.
        assert_eq!(shard(&both[..2]).map(|s| s.index), Ok(1));
        assert_eq!(shard(&both[2..]).map(|s| s.index), Ok(2));
    }

    #[test]
    fn slurm_task_ids_are_the_shard_indices() {
        let ok = |pairs: &[(&str, &str)], index, count| {
            assert_eq!(shard(pairs), Ok(ShardId { index, count }), "{pairs:?}");
        };
        ok(
            &[
                ("SLURM_ARRAY_TASK_ID", "5"),
                ("SLURM_ARRAY_TASK_COUNT", "8"),
            ],
            5,
            8,
        );
        let whole = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "7"),
        ];
        ok(&whole, 3, 8);
        // --array=1-8 without the count: its IDs are not the indices of 8 shards.
        let one_based = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "8"),
        ];
        let err = shard(&one_based).unwrap_err();
        assert!(matches!(
            err,
            ShardEnvError::NotWholeArray { min: 1, max: 8 }
        ));
        assert!(err.to_string().contains("PIEST_SHARD_COUNT"), "{err}");
        // With the count it is refused too: task 8 would have no shard, task 3 is shard 3.
        let mut forced = one_based.to_vec();
        forced.push(("PIEST_SHARD_COUNT", "8"));
        let err = shard(&forced).unwrap_err();
        assert_eq!(err, ShardEnvError::ArrayPastCount { max: 8, count: 8 });
        assert!(err.to_string().contains("--array=0-7"), "{err}");
        // --array=0-14:2 has 8 tasks over 15 IDs: not a range of shards.
        let stepped = [
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "14"),
        ];
        assert!(matches!(
            shard(&stepped),
            Err(ShardEnvError::NotContiguous { .. })
        ));
    }

    #[test]
    fn half_an_array_again_runs_the_same_shards_or_is_refused() {
        // The second half of a 64-shard array submitted again as --array=32-63.
        let half = [
            ("SLURM_ARRAY_TASK_ID", "40"),
            ("SLURM_ARRAY_TASK_COUNT", "32"),
            ("SLURM_ARRAY_TASK_MIN", "32"),
            ("SLURM_ARRAY_TASK_MAX", "63"),
        ];
        let err = shard(&half).unwrap_err();
        assert_eq!(err, ShardEnvError::NotWholeArray { min: 32, max: 63 });
        let mut forced = half.to_vec();
        forced.push(("PIEST_SHARD_COUNT", "64"));
        assert_eq!(
            shard(&forced),
            Ok(ShardId {
                index: 40,
                count: 64
            })
        );
    }

    #[test]
    fn a_task_id_outside_the_array_is_refused_by_name() {
        let below = [
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "3"),
            ("SLURM_ARRAY_TASK_MAX", "6"),
        ];
        for extra in [None, Some(("PIEST_SHARD_COUNT", "8"))] {
            let mut pairs = below.to_vec();
            pairs.extend(extra);
            let err = shard(&pairs).unwrap_err();
            assert_eq!(
                err,
                ShardEnvError::OutsideArray {
                    id: 2,
                    min: 3,
                    max: 6
                }
            );
            let text = err.to_string();
            assert!(
                text.contains("SLURM_ARRAY_TASK_ID=2 lies outside"),
                "{text}"
            );
            assert!(!text.contains("18446744073709551615"), "{text}");
        }
        let above = [
            ("SLURM_ARRAY_TASK_ID", "9"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MAX", "3"),
        ];
        assert!(matches!(
            shard(&above),
            Err(ShardEnvError::OutsideArray { id: 9, .. })
        ));
    }

    #[test]
    fn a_retried_task_keeps_its_index_or_is_refused() {
        // sbatch --array=3 makes an array of one: never "shard 0 of 1".
        let retry = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
            ("SLURM_ARRAY_TASK_MIN", "3"),
            ("SLURM_ARRAY_TASK_MAX", "3"),
        ];
        let err = shard(&retry).unwrap_err();
        assert_eq!(err, ShardEnvError::LoneTask { id: 3 });
        assert!(err.to_string().contains("PIEST_SHARD_COUNT"), "{err}");
        let mut forced = retry.to_vec();
        forced.push(("PIEST_SHARD_COUNT", "64"));
        assert_eq!(
            shard(&forced),
            Ok(ShardId {
                index: 3,
                count: 64
            })
        );
        let too_far = [
            ("SLURM_ARRAY_TASK_ID", "64"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
            ("PIEST_SHARD_COUNT", "64"),
        ];
        assert_eq!(
            shard(&too_far),
            Err(ShardEnvError::ArrayPastCount { max: 64, count: 64 })
        );
    }

    #[test]
    fn kubernetes_needs_the_count_from_the_manifest() {
        assert_eq!(
            shard(&[("JOB_COMPLETION_INDEX", "2"), ("PIEST_SHARD_COUNT", "4")]),
            Ok(ShardId { index: 2, count: 4 })
        );
        let err = shard(&[("JOB_COMPLETION_INDEX", "2")]).unwrap_err();
        assert!(err.to_string().contains("completions"), "{err}");
        assert!(shard(&[("JOB_COMPLETION_INDEX", "4"), ("PIEST_SHARD_COUNT", "4")]).is_err());
        assert!(shard(&[("JOB_COMPLETION_INDEX", "x"), ("PIEST_SHARD_COUNT", "4")]).is_err());
        assert!(shard(&[("JOB_COMPLETION_INDEX", "1"), ("PIEST_SHARD_COUNT", "0")]).is_err());
    }

    #[test]
    fn no_scheduler_is_a_clear_refusal() {
        let err = shard(&[("PIEST_SHARD_COUNT", "4")]).unwrap_err();
        assert_eq!(err, ShardEnvError::NoScheduler);
        assert!(err.to_string().contains("--shard K/N"));
    }

    #[test]
    fn launchers_are_recognised_and_threads_split_per_node() {
        let cores = NonZeroUsize::new(16).unwrap();
        let plain = Launch::from_env(&env(&[]));
        assert_eq!(plain, Launch::default());
        assert_eq!(plain.threads_per_task(cores).get(), 16);
        assert!(plain.refuse_without_mpi().is_ok());
        let ompi = Launch::from_env(&env(&[
            ("OMPI_COMM_WORLD_SIZE", "8"),
            ("OMPI_COMM_WORLD_LOCAL_SIZE", "3"),
        ]));
        assert!(ompi.mpi_launcher);
        assert_eq!(ompi.tasks, Some(("OMPI_COMM_WORLD_SIZE", 8)));
        assert_eq!(ompi.threads_per_task(cores).get(), 5);
        assert!(
            ompi.refuse_without_mpi()
                .unwrap_err()
                .to_string()
                .contains("--features mpi")
        );
        assert_eq!(
            ompi.check_world(1),
            Err(LaunchError::WorldOfOne {
                var: "OMPI_COMM_WORLD_SIZE",
                tasks: 8
            })
        );
        assert!(
            ompi.check_world(1)
                .unwrap_err()
                .to_string()
                .contains("world of 1")
        );
        assert!(ompi.check_world(8).is_ok());
        // A plain srun -n 2 sets no MPI variable, but Slurm says two tasks.
        let srun = Launch::from_env(&env(&[
            ("SLURM_STEP_NUM_TASKS", "2"),
            ("SLURM_STEP_TASKS_PER_NODE", "2(x1)"),
        ]));
        assert!(!srun.mpi_launcher);
        assert_eq!(srun.local_tasks, Some(2));
        assert!(srun.refuse_without_mpi().is_err());
        // One task under a launcher is fine; more ranks than cores still get a thread.
        let one = Launch::from_env(&env(&[("PMI_SIZE", "1"), ("PMI_RANK", "0")]));
        assert!(one.mpi_launcher && one.refuse_without_mpi().is_ok());
        let crowded = Launch::from_env(&env(&[("MPI_LOCALNRANKS", "40")]));
        assert_eq!(crowded.threads_per_task(cores).get(), 1);
    }
}
