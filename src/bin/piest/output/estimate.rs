//! Renderers of an estimate's [`Report`]: the two-line human text, the JSON object and the
//! bare estimate of `--quiet`.

use indicatif::HumanCount;
use piest::report::Report;

/// Decimals that show the 95% half-width with two significant digits (4 to 15).
fn decimals_for(half_width: f64) -> usize {
    if half_width.is_nan() || half_width <= 0.0 {
        return 4;
    }
    (1.0 - half_width.log10().floor()).clamp(4.0, 15.0) as usize
}

/// Formats a rate such as 1.92e9 with three significant digits.
pub fn rate(per_s: f64) -> String {
    format!("{per_s:.2e}")
}

/// The report as text, for example:
///
/// ```text
/// pi ≈ 3.14160   ±0.00033 (95%: 3.14127 … 3.14192)   std error 0.00016   error vs π: +0.00001
/// 100,000,000 trials · 24 chunks · 4 workers · seed 0 · 0.052 s · 1.92e9 trials/s
/// ```
pub fn human(report: &Report) -> String {
    let [low, high] = report.ci95;
    let half = (high - low) / 2.0;
    let d = decimals_for(half);
    let mut out = format!(
        "pi ≈ {pi:.d$}   ±{half:.d$} (95%: {low:.d$} … {high:.d$})   std error {se:.d$}   error vs π: {err:+.e$}\n",
        e = d + 2,
        pi = report.pi,
        se = report.std_error,
        err = report.error,
    );
    let plural =
        |n: u64, word: &str| format!("{} {word}{}", HumanCount(n), if n == 1 { "" } else { "s" });
    out.push_str(&format!(
        "{} · {} · {} · seed {} · {:.3} s",
        plural(report.trials, "trial"),
        plural(report.chunks, "chunk"),
        plural(report.workers as u64, "worker"),
        report.seed,
        report.elapsed_s,
    ));
    // A rate means something only when trials were sampled: a cached answer is read, not run.
    if report.cached_chunks == report.chunks {
        out.push_str(" · all from cache");
    } else {
        out.push_str(&format!(" · {} trials/s", rate(report.trials_per_s)));
        if report.cached_chunks > 0 {
            out.push_str(&format!(
                " · {} from cache",
                plural(report.cached_chunks, "chunk")
            ));
        }
    }
    out.push('\n');
    out
}

/// The report as one JSON object (the fields of [`Report`]).
pub fn json(report: &Report) -> String {
    super::json(report)
}

/// The estimate alone, for `--quiet`.
pub fn quiet(report: &Report) -> String {
    format!("{}\n", report.pi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_the_interval_width() {
        assert_eq!(decimals_for(0.00033), 5);
        assert_eq!(decimals_for(0.05), 4);
        assert_eq!(decimals_for(3.3e-7), 8);
        assert_eq!(decimals_for(0.0), 4);
        assert_eq!(decimals_for(f64::NAN), 4);
    }
}
