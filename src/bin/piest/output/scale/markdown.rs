//! The Markdown renderer of a worker-count sweep: a table to paste into an issue or a README,
//! followed by one paragraph saying what was run and what the fit found.

use indicatif::HumanCount;
use piest::scale::ScaleReport;

use super::{
    HEADINGS, above_cores_note, agreement_line, amdahl_line, baseline_note, cells, unit_of,
};

/// The report as a Markdown table (numbers right-aligned) and a paragraph below it.
pub fn render(report: &ScaleReport) -> String {
    let unit = unit_of(report);
    let mut out = format!("| {} |\n", HEADINGS.join(" | "));
    out.push('|');
    for _ in HEADINGS {
        out.push_str(" ---: |");
    }
    out.push('\n');
    for row in &report.rows {
        let mut cells = cells(row, unit);
        if row.above_cores {
            cells[0] = format!("{} {}", cells[0], above_cores_note(report.cores));
        }
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push('\n');
    out.push_str(&format!(
        "{} trials in {} chunk{}, seed {}, kernel `{}`; {} timed run{} after {} warm-up per \
         worker count, interleaved; the cache is bypassed. ",
        HumanCount(report.trials),
        HumanCount(report.chunks),
        if report.chunks == 1 { "" } else { "s" },
        report.seed,
        report.kernel,
        report.runs,
        if report.runs == 1 { "" } else { "s" },
        report.warmup,
    ));
    if let Some(note) = baseline_note(report) {
        out.push_str(&format!("{}. ", capitalised(&note)));
    }
    out.push_str(&format!(
        "{}. {}.\n",
        amdahl_line(report),
        capitalised(&agreement_line(report))
    ));
    out
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capitalises_the_first_letter_only() {
        assert_eq!(capitalised("all 3 runs agree"), "All 3 runs agree");
        assert_eq!(capitalised(""), "");
    }
}
