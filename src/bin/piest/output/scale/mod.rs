//! Renderers of a worker-count sweep's [`ScaleReport`]: the aligned [`table`] (the default),
//! [`csv`], [`markdown`], the [`svg`] plot and JSON; and the number formats and sentences they
//! share, so a figure reads the same in every format.

pub mod csv;
pub mod markdown;
pub mod svg;
pub mod table;

use indicatif::HumanCount;
use piest::scale::{Amdahl, ScaleReport, ScaleRow};

/// The report as one JSON object with every raw timing (the fields of [`ScaleReport`]).
pub fn json(report: &ScaleReport) -> String {
    super::json(report)
}

/// Column headings of the table, in order.
pub const HEADINGS: [&str; 8] = [
    "workers",
    "median",
    "min",
    "max",
    "std dev",
    "speed-up",
    "efficiency",
    "serial fraction",
];

/// A time unit chosen once per table, so that a column reads in one unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unit {
    name: &'static str,
    per_second: f64,
    decimals: usize,
}

impl Unit {
    /// The largest unit in which the shortest of `seconds` is at least 1.
    pub fn for_times(seconds: impl IntoIterator<Item = f64>) -> Self {
        let shortest = seconds.into_iter().fold(f64::INFINITY, f64::min);
        if shortest >= 1.0 {
            Unit {
                name: "s",
                per_second: 1.0,
                decimals: 3,
            }
        } else if shortest >= 1e-3 {
            Unit {
                name: "ms",
                per_second: 1e3,
                decimals: 2,
            }
        } else {
            Unit {
                name: "µs",
                per_second: 1e6,
                decimals: 1,
            }
        }
    }

    /// `seconds` in this unit, with the unit's name.
    pub fn format(&self, seconds: f64) -> String {
        format!(
            "{:.*} {}",
            self.decimals,
            seconds * self.per_second,
            self.name
        )
    }
}

/// The unit for a report's times, chosen by the shortest median: a column of medians around a
/// second reads in seconds even when one fast run dipped below it.
pub fn unit_of(report: &ScaleReport) -> Unit {
    Unit::for_times(report.rows.iter().map(|r| r.median_s))
}

/// A speed-up such as `1.98×` (fewer decimals for large values).
pub fn times(value: f64) -> String {
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.decimals$}×")
}

/// The table cells of one row, in the order of [`HEADINGS`].
pub fn cells(row: &ScaleRow, unit: Unit) -> [String; 8] {
    [
        row.workers.to_string(),
        unit.format(row.median_s),
        unit.format(row.min_s),
        unit.format(row.max_s),
        row.stddev_s
            .map_or_else(|| "–".into(), |sd| unit.format(sd)),
        times(row.speedup),
        format!("{:.0}%", 100.0 * row.efficiency),
        row.serial_fraction
            .map_or_else(|| "–".into(), |e| format!("{e:.3}")),
    ]
}

/// The note after a row above the core count.
pub fn above_cores_note(cores: usize) -> String {
    format!("(above {cores} core{})", if cores == 1 { "" } else { "s" })
}

/// One line on the baseline, when it is not a measured 1-worker row.
pub fn baseline_note(report: &ScaleReport) -> Option<String> {
    let b = &report.baseline;
    b.assumed_ideal.then(|| {
        format!(
            "no 1-worker row: speed-ups are against {w} workers, assumed to scale perfectly \
             (speed-up = {w} × T({w}) / T(p))",
            w = b.workers
        )
    })
}

/// The Amdahl fit in one sentence.
pub fn amdahl_line(report: &ScaleReport) -> String {
    let cores = report.cores;
    let machine = format!(
        "machine has {cores} core{}",
        if cores == 1 { "" } else { "s" }
    );
    let Some(fit) = &report.amdahl else {
        let needs = match cores {
            1 => "a machine with more than one core".to_string(),
            2 => "a measured row with 2 workers".to_string(),
            _ => format!("a measured row with 2 to {cores} workers"),
        };
        return format!("Amdahl fit: none (it needs {needs}); {machine}");
    };
    let over = fit
        .fit_workers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let (fraction, limit) = fit_figures(fit);
    let only = if fit.extrapolation { " only" } else { "" };
    let extrapolated = if fit.extrapolation && fit.max_speedup.is_some() {
        " (an extrapolation from one worker count, not a measurement)"
    } else {
        ""
    };
    format!("Amdahl fit over {over} workers{only}: {fraction} → {limit}{extrapolated}; {machine}")
}

/// The fit's serial fraction and limit in words, each with its 95% interval, or why there is
/// none: `serial fraction 1.2% (95%: 0.8% to 1.6%)`, `max speed-up 83× (95%: 62× to 125×)`.
pub fn fit_figures(fit: &Amdahl) -> (String, String) {
    let percent = |f: f64| format!("{:.1}", 100.0 * f);
    let fraction = match fit.serial_fraction_ci95 {
        Some([low, high]) => format!(
            "serial fraction {}% (95%: {}% to {}%)",
            percent(fit.serial_fraction),
            percent(low),
            percent(high)
        ),
        None => format!(
            "serial fraction {}% (no interval: one run per worker count)",
            percent(fit.serial_fraction)
        ),
    };
    let interval = match fit.max_speedup_ci95 {
        Some([Some(low), Some(high)]) => format!(" (95%: {} to {})", times(low), times(high)),
        Some([Some(low), None]) => format!(" (95%: {} to no limit)", times(low)),
        _ => String::new(),
    };
    let limit = match fit.max_speedup {
        Some(max) => format!("max speed-up {}{interval}", times(max)),
        None => format!("no limit measured (scaling at least linear){interval}"),
    };
    (fraction, limit)
}

/// The determinism line: how many runs agreed on which count.
pub fn agreement_line(report: &ScaleReport) -> String {
    let runs = report.total_runs;
    let who = if runs == 1 {
        "the only run".to_string()
    } else {
        format!("all {runs} runs agree")
    };
    format!(
        "{who}: inside = {} (π ≈ {:.8})",
        HumanCount(report.inside),
        report.pi
    )
}

/// The header line: what was run, how often and how.
pub fn header_line(report: &ScaleReport) -> String {
    format!(
        "{} trials · {} chunk{} · seed {} · {} timed run{} + {} warm-up per worker count, \
         interleaved · cache bypassed",
        HumanCount(report.trials),
        HumanCount(report.chunks),
        if report.chunks == 1 { "" } else { "s" },
        report.seed,
        report.runs,
        if report.runs == 1 { "" } else { "s" },
        report.warmup,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_the_shortest_time() {
        assert_eq!(Unit::for_times([2.0, 1.5]).format(1.5), "1.500 s");
        assert_eq!(Unit::for_times([2.0, 0.0856]).format(2.0), "2000.00 ms");
        assert_eq!(Unit::for_times([0.0004]).format(0.0004), "400.0 µs");
    }

    #[test]
    fn speedups_keep_about_three_digits() {
        assert_eq!(times(1.0), "1.00×");
        assert_eq!(times(12.34), "12.3×");
        assert_eq!(times(160.4), "160×");
    }
}
