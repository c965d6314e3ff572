//! Renderers of split runs: the human text of one shard's part and of `piest merge`'s report
//! (their JSON is [`super::json`] of [`piest::part::PartReport`] and
//! [`piest::merge::MergeReport`]), and of a run across MPI ranks.

use piest::merge::MergeReport;
use piest::part::ShardId;
use piest::report::Report;

use super::estimate;

/// A shard's report: which shard it is, that it is not a final estimate, then the part's own
/// estimate (its trials only).
pub fn shard(report: &Report, shard: ShardId, plan: &piest::Plan) -> String {
    let chunks = plan.shard(shard.index, shard.count).unwrap_or(0..0);
    let total = plan.chunks();
    let mut out = format!(
        "shard {} of {} (chunks {}..{} of {total}): not a final estimate; write all {} parts \
         with --json and combine them with `piest merge`\n",
        shard.index, shard.count, chunks.start, chunks.end, shard.count
    );
    if report.trials == 0 {
        out.push_str("this shard holds no chunks (more shards than chunks): nothing to count\n");
    } else {
        out.push_str(&estimate::human(report));
    }
    out
}

/// `piest merge`'s report: the estimate, and how it was put together. A partial merge says so
/// first, with what is missing.
pub fn merge(merged: &MergeReport) -> String {
    let mut out = String::new();
    if !merged.complete {
        let shards = if merged.missing_shards.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = merged.missing_shards.iter().map(u64::to_string).collect();
            format!("missing shards {}; ", list.join(", "))
        };
        out.push_str(&format!(
            "PARTIAL estimate, not the requested run: {shards}{} of {} trials counted\n",
            merged.report.trials, merged.total_trials
        ));
    }
    if merged.has_estimate {
        out.push_str(&estimate::human(&merged.report));
    } else {
        // No trial counted: π, its error and its interval do not exist (never print NaN).
        out.push_str("no estimate: the parts hold no trials (every one is an empty shard)\n");
    }
    let count = merged
        .shard_count
        .map_or(String::new(), |n| format!(" (shards of {n})"));
    out.push_str(&format!(
        "merged {} part{}{count} · slowest part {:.3} s · {:.3} s of part wall time in all\n",
        merged.parts,
        if merged.parts == 1 { "" } else { "s" },
        merged.report.elapsed_s,
        merged.compute_s,
    ));
    out
}

/// A run across MPI ranks: the estimate, then the rank count.
pub fn ranks(report: &Report, ranks: u64) -> String {
    format!("{}{ranks} MPI ranks\n", estimate::human(report))
}
