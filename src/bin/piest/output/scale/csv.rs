//! The CSV renderer of a worker-count sweep: a header and one row per worker count, times in
//! seconds and ratios as plain numbers (empty where a value is undefined), for spreadsheets.

use piest::scale::ScaleReport;

pub const COLUMNS: [&str; 13] = [
    "workers",
    "median_s",
    "mean_s",
    "min_s",
    "max_s",
    "stddev_s",
    "speedup",
    "efficiency",
    "serial_fraction",
    "amdahl_speedup",
    "above_cores",
    "runs",
    "inside",
];

/// The report as CSV text.
pub fn render(report: &ScaleReport) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
    for row in &report.rows {
        writer.write_record([
            row.workers.to_string(),
            row.median_s.to_string(),
            row.mean_s.to_string(),
            row.min_s.to_string(),
            row.max_s.to_string(),
            opt(row.stddev_s),
            row.speedup.to_string(),
            row.efficiency.to_string(),
            opt(row.serial_fraction),
            opt(row.amdahl_speedup),
            row.above_cores.to_string(),
            row.times_s.len().to_string(),
            report.inside.to_string(),
        ])?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    // Every field written above is ASCII, so this conversion cannot fail; stay total anyway.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
