//! The renderers of `piest methods` ([`piest::compare::Comparison`]): a table with one row per
//! trial count and both methods side by side, CSV with one row per run, and the log–log plot
//! ([`svg`]). JSON is the comparison itself ([`super::json`]).

pub mod svg;

#[cfg(test)]
mod tests;

use indicatif::HumanCount;
use piest::compare::{Comparison, MethodPoint};
use piest::sampler::Method;

/// CSV column names, in order.
pub const COLUMNS: [&str; 11] = [
    "method",
    "requested_trials",
    "trials",
    "chunk_size",
    "chunks",
    "pi",
    "ci95_half_width",
    "ci_method",
    "abs_error",
    "elapsed_s",
    "cached_chunks",
];

/// The comparison as CSV: a header and one row per run, in the order counted.
pub fn csv(comparison: &Comparison) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for p in &comparison.points {
        writer.write_record([
            p.method.to_string(),
            p.requested_trials.to_string(),
            p.trials.to_string(),
            p.chunk_size.to_string(),
            p.chunks.to_string(),
            p.pi.to_string(),
            p.ci95_half_width.to_string(),
            p.ci_method.to_string(),
            p.abs_error.to_string(),
            p.elapsed_s.to_string(),
            p.cached_chunks.to_string(),
        ])?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    // Every field written above is ASCII, so this conversion cannot fail; stay total anyway.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A chunk size as `4^k` when it is one, else in digits.
pub fn chunk_name(size: u64) -> String {
    if size.is_power_of_two() && size.trailing_zeros().is_multiple_of(2) && size > 1 {
        format!("4^{}", size.trailing_zeros() / 2)
    } else {
        HumanCount(size).to_string()
    }
}

/// The table: one row per trial count, each method's 95% half-width and actual error, the
/// stratified chunks, and how many times narrower the stratified interval is; then each
/// method's fitted rate.
pub fn table(comparison: &Comparison) -> String {
    let header = [
        "trials",
        "plain ±95%",
        "plain |π̂−π|",
        "stratified ±95%",
        "stratified |π̂−π|",
        "stratified chunks",
        "narrower",
    ];
    let mut rows: Vec<[String; 7]> = Vec::new();
    let plain: Vec<&MethodPoint> = comparison.series(Method::Plain).collect();
    let strat: Vec<&MethodPoint> = comparison.series(Method::Stratified).collect();
    let mut requested: Vec<u64> = comparison
        .points
        .iter()
        .map(|p| p.requested_trials)
        .collect();
    requested.dedup();
    fn find<'a>(series: &[&'a MethodPoint], n: u64) -> Option<&'a MethodPoint> {
        series.iter().find(|p| p.requested_trials == n).copied()
    }
    let mut rounded = false;
    for n in requested {
        let (p, s) = (find(&plain, n), find(&strat, n));
        let e = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{v:.2e}"));
        let chunks = s.map_or_else(
            || "–".to_string(),
            |s| {
                rounded |= s.trials != s.requested_trials;
                format!("{} × {}", HumanCount(s.chunks), chunk_name(s.chunk_size))
            },
        );
        let ratio = match (p, s) {
            (Some(p), Some(s)) if s.ci95_half_width > 0.0 => {
                format!("{:.0}×", p.ci95_half_width / s.ci95_half_width)
            }
            _ => "–".to_string(),
        };
        rows.push([
            HumanCount(n).to_string(),
            e(p.map(|p| p.ci95_half_width)),
            e(p.map(|p| p.abs_error)),
            e(s.map(|s| s.ci95_half_width)),
            e(s.map(|s| s.abs_error)),
            chunks,
            ratio,
        ]);
    }
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(&" ".repeat(pad));
            out.push_str(cell);
        }
        out.push('\n');
        out
    };
    let mut text = format!(
        "Plain vs stratified sampling: one run per method and trial count, seed {}, {} workers\n\n",
        comparison.seed, comparison.workers
    );
    text.push_str(&line(&header.map(String::from)));
    for row in &rows {
        text.push_str(&line(row));
    }
    text.push('\n');
    if rounded {
        text.push_str(
            "stratified runs count whole chunks: the trials rounded up to chunks × 4^k\n",
        );
    }
    for method in Method::ALL {
        if let Some(fit) = comparison.fit(method) {
            text.push_str(&format!(
                "{}: the 95% half-width falls as n^{:.2} (least squares over {} runs)\n",
                method.name(),
                fit.exponent,
                fit.points
            ));
        }
    }
    let cached: u64 = comparison.points.iter().map(|p| p.cached_chunks).sum();
    let chunks: u64 = comparison.points.iter().map(|p| p.chunks).sum();
    text.push_str(&format!(
        "{} runs in {:.3} s · {} of {} chunks from the cache · kernel {}\n",
        comparison.points.len(),
        comparison.elapsed_s,
        HumanCount(cached),
        HumanCount(chunks),
        comparison.kernel
    ));
    text
}
