//! The binary's side of split runs: `piest merge`, and the estimate of one shard or across MPI
//! ranks (the flows; the library counts, the renderers in `output::part` format).

use std::io::Read;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use piest::cache::CacheSession;
use piest::merge::{MergeError, MergeReport, NamedPart};
use piest::part::{PartReport, ShardId, parse_all};
use piest::report::Report;
use piest::runner::{Observer, RunSpec};
#[cfg(feature = "mpi")]
use serde::Serialize;

use crate::cli::MergeArgs;
use crate::config::Format;
use crate::output;

/// `piest merge` refused its parts: reported with its own exit status (3).
#[derive(Debug, thiserror::Error)]
#[error("merge refused: {0}")]
pub struct MergeRefused(pub MergeError);

/// `piest merge FILE...`: reads every part, merges them exactly and prints the estimate.
pub fn merge(args: &MergeArgs) -> anyhow::Result<String> {
    let mut parts = Vec::new();
    for path in &args.files {
        let (name, text) = read_input(path)?;
        let found = parse_all(&text).map_err(|error| {
            MergeRefused(MergeError::BadPart {
                file: name.clone(),
                error,
            })
        })?;
        if found.is_empty() {
            return Err(MergeRefused(MergeError::BadPart {
                file: name,
                error: piest::part::PartError::NotJson("empty".into()),
            })
            .into());
        }
        let several = found.len() > 1;
        parts.extend(found.into_iter().enumerate().map(|(i, part)| NamedPart {
            name: if several {
                format!("{name} #{}", i + 1)
            } else {
                name.clone()
            },
            part,
        }));
    }
    let merged = piest::merge::merge(&parts, args.allow_partial).map_err(MergeRefused)?;
    let report = MergeReport::new(&merged);
    Ok(if args.json {
        output::json::render(&report)
    } else {
        output::part::merge(&report)
    })
}

/// The name and text of a part file, or of stdin for `-`.
fn read_input(path: &Path) -> anyhow::Result<(String, String)> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read parts from stdin")?;
        return Ok(("-".into(), text));
    }
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read '{name}'"))?;
    // Bytes that are not UTF-8 are not JSON: say so as for any other file that is not a part.
    let text = String::from_utf8(bytes).map_err(|_| {
        MergeRefused(MergeError::BadPart {
            file: name.clone(),
            error: piest::part::PartError::NotJson("not UTF-8 text".into()),
        })
    })?;
    Ok((name, text))
}

/// Counts shard `shard` of `spec`'s plan and renders its part.
pub fn shard(
    spec: &RunSpec,
    shard: ShardId,
    session: Option<&CacheSession>,
    observer: &dyn Observer,
    cancel: &AtomicBool,
    finish: &dyn Fn(Report) -> Report,
    format: Format,
) -> anyhow::Result<String> {
    let chunks = spec.plan.shard(shard.index, shard.count)?;
    let tally = piest::runner::run(spec, chunks.clone(), session, observer, cancel);
    let tally = tally?;
    let report = finish(Report::new(&tally, spec.workers.get(), spec.kernel.name()));
    Ok(match format {
        Format::Json => output::json::render(&PartReport::new(shard, &spec.plan, &tally, report)),
        Format::Human => output::part::shard(&report, shard, &chunks, spec.plan.chunks()),
        Format::Quiet => format!("{}\n", report.pi),
    })
}

/// A run's report with the number of MPI ranks that counted it.
#[cfg(feature = "mpi")]
#[derive(Serialize)]
struct RankedReport {
    /// MPI ranks.
    ranks: u64,
    #[serde(flatten)]
    report: Report,
}

/// Counts the whole plan across the MPI world; returns the text to print (on rank 0 only).
#[cfg(feature = "mpi")]
pub fn mpi(
    spec: &RunSpec,
    session: Option<&CacheSession>,
    observer: &dyn Observer,
    cancel: &AtomicBool,
    finish: &dyn Fn(Report) -> Report,
    format: Format,
    env: crate::config::EnvLookup<'_>,
) -> anyhow::Result<Option<String>> {
    let world = piest::runner::mpi::World::init()?;
    let (rank, ranks) = (world.rank(), world.size());
    piest::scheduler::Launch::from_env(env)
        .check_world(ranks)
        .map_err(crate::config::UsageError)?;
    let tally = world.run(spec, session, observer, cancel)?;
    if rank != 0 {
        return Ok(None);
    }
    // The threads of every rank: this rank's count times the ranks (ranks get equal pools).
    let workers = spec
        .workers
        .get()
        .saturating_mul(usize::try_from(ranks).unwrap_or(1));
    let report = finish(Report::new(&tally, workers, spec.kernel.name()));
    Ok(Some(match format {
        Format::Json => output::json::render(&RankedReport { ranks, report }),
        Format::Human => format!("{}{ranks} MPI ranks\n", output::human::render(&report)),
        Format::Quiet => format!("{}\n", report.pi),
    }))
}

/// Without the `mpi` feature the MPI mode is never chosen (see `config::mode`).
#[cfg(not(feature = "mpi"))]
pub fn mpi(
    _: &RunSpec,
    _: Option<&CacheSession>,
    _: &dyn Observer,
    _: &AtomicBool,
    _: &dyn Fn(Report) -> Report,
    _: Format,
    _: crate::config::EnvLookup<'_>,
) -> anyhow::Result<Option<String>> {
    anyhow::bail!("this piest is built without MPI (cargo build --features mpi)")
}
