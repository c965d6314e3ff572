//! The aligned text table of a worker-count sweep, the default output of `piest scale`.

use piest::scale::ScaleReport;

use super::{
    HEADINGS, above_cores_note, agreement_line, amdahl_line, baseline_note, cells, header_line,
    unit_of,
};

/// The report as an aligned table with a header line and the fit and agreement lines, e.g.
///
/// ```text
/// workers     median        min        max   std dev  speed-up  efficiency  serial fraction
///       1  171.20 ms  170.90 ms  175.00 ms   1.60 ms     1.00×        100%                –
///       2   86.10 ms   85.90 ms   88.20 ms   0.90 ms     1.99×         99%            0.006
/// ```
pub fn render(report: &ScaleReport) -> String {
    let unit = unit_of(report);
    let mut table: Vec<Vec<String>> = vec![HEADINGS.iter().map(|h| h.to_string()).collect()];
    for row in &report.rows {
        let mut cells = cells(row, unit).to_vec();
        if row.above_cores {
            cells.push(above_cores_note(report.cores));
        }
        table.push(cells);
    }
    let columns = HEADINGS.len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            table
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = header_line(report);
    out.push('\n');
    for row in &table {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            match widths.get(c) {
                Some(&w) => line.push_str(&format!("{cell:>w$}")),
                None => line.push_str(cell),
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if let Some(note) = baseline_note(report) {
        out.push_str(&note);
        out.push('\n');
    }
    out.push_str(&amdahl_line(report));
    out.push('\n');
    out.push_str(&agreement_line(report));
    out.push('\n');
    out
}
