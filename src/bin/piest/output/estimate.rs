//! Renderers of an estimate's [`Report`]: the two-line human text (a third says what stopped
//! a run with a target or a time budget), the JSON object, the bare estimate of `--quiet`, and
//! the convergence [`plot`].

pub mod plot;

use std::time::Duration;

use indicatif::HumanCount;
use piest::report::Report;
use piest::runner::StoppedBy;

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

/// How far the 95% interval reaches below and above the estimate, as shown: `±0.00033` when
/// both distances print the same at `d` decimals, else `−1.1493/+0.9273`. The Wilson interval
/// is not centred on the estimate; for a small run a single ± would misstate one side (an
/// estimate of 4 has nothing above it).
fn reach(pi: f64, [low, high]: [f64; 2], d: usize) -> String {
    let below = format!("{:.d$}", (pi - low).max(0.0));
    let above = format!("{:.d$}", (high - pi).max(0.0));
    if below == above {
        format!("±{below}")
    } else {
        format!("−{below}/+{above}")
    }
}

/// The report as text, for example:
///
/// ```text
/// pi ≈ 3.14160   ±0.00033 (95%: 3.14127 … 3.14192)   std error 0.00016   error vs π: +0.00001
/// 100,000,000 trials · 24 chunks · 4 workers · seed 0 · 0.052 s · 1.92e9 trials/s
/// ```
///
/// or, for a run too small for the interval to be symmetric at the shown precision:
///
/// ```text
/// pi ≈ 2.4000   −1.1493/+0.9273 (95%: 1.2507 … 3.3273)   std error 0.6197   error vs π: -0.741593
/// ```
pub fn human(report: &Report) -> String {
    let [low, high] = report.ci95;
    let d = decimals_for((high - low) / 2.0);
    let mut out = format!(
        "pi ≈ {pi:.d$}   {reach} (95%: {low:.d$} … {high:.d$})   std error {se:.d$}   error vs π: {err:+.e$}\n",
        reach = reach(report.pi, report.ci95, d),
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
    if let Some(line) = method_line(report) {
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(line) = stop_line(report) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// What a stratified run counted and how its interval was made, with the trials asked for if
/// they were rounded; `None` for a plain run.
fn method_line(report: &Report) -> Option<String> {
    if report.method == "plain" {
        return None;
    }
    let interval = match report.ci_method {
        "student-t" => format!(
            "Student-t interval from the spread between {} chunks",
            HumanCount(report.chunks)
        ),
        "hoeffding" => "Hoeffding bound (one chunk, or no spread between chunks)".to_owned(),
        other => format!("{other} interval"),
    };
    let mut line = format!(
        "{} · whole chunks of {} trials · {interval}",
        report.method,
        HumanCount(report.chunk_size)
    );
    if let Some(requested) = report.requested_trials {
        line.push_str(&format!(
            " · --trials {} rounded up to whole chunks",
            HumanCount(requested)
        ));
    }
    Some(line)
}

/// What stopped a run that had a target or a budget, in words; `None` for a fixed run.
fn stop_line(report: &Report) -> Option<String> {
    if report.target_error.is_none() && report.max_time_s.is_none() {
        return None;
    }
    let trials = HumanCount(report.trials);
    let target = report.target_error.map(|e| format!("--target-error {e:e}"));
    let budget = report
        .max_time_s
        .map(|s| format!("--max-time {}", humantime::format_duration(whole_ms(s))));
    // Below the minimum sample the target is not met whatever the interval: say why.
    let half = match report.min_trials {
        Some(min) if report.trials < min => format!(
            "±{:.2e}, below the minimum sample of {} trials",
            report.ci95_half_width,
            HumanCount(min)
        ),
        _ => format!("±{:.2e}", report.ci95_half_width),
    };
    let line = match (report.stopped_by, &target, report.target_met) {
        (StoppedBy::TargetError, Some(target), _) => format!(
            "stopped: {target} met ({half}) at the first chunk boundary past {} trials that meets it",
            HumanCount(report.min_trials.unwrap_or(0))
        ),
        (StoppedBy::MaxTime, _, met) => {
            let budget = budget.unwrap_or_else(|| "the time budget".into());
            let unmet = match (&target, met) {
                (Some(target), Some(false)) => format!(", before {target} was met ({half})"),
                _ => String::new(),
            };
            format!(
                "stopped: {budget} ran out{unmet}; the answer equals a fixed run of --trials {}",
                report.trials
            )
        }
        (_, Some(target), Some(false)) => {
            format!("stopped: the --trials cap of {trials} came before {target} was met ({half})")
        }
        (_, Some(target), _) => {
            format!("stopped: the --trials cap of {trials}; {target} met ({half})")
        }
        (_, None, _) => format!("stopped: the --trials cap of {trials} came first"),
    };
    Some(line)
}

/// A duration of `seconds`, rounded to milliseconds for display.
fn whole_ms(seconds: f64) -> Duration {
    Duration::from_millis((seconds * 1e3).round() as u64)
}

/// The report as one JSON object (the fields of [`Report`]).
pub fn json(report: &Report) -> String {
    super::json(report)
}

/// The estimate alone, for `--quiet`; `no estimate` when no trial was counted (an empty
/// shard), never `NaN`.
pub fn quiet(report: &Report) -> String {
    if report.trials == 0 {
        return "no estimate (0 trials counted)\n".into();
    }
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

    #[test]
    fn the_reach_is_one_figure_only_when_both_sides_show_the_same() {
        assert_eq!(reach(3.14160, [3.14127, 3.14193], 5), "±0.00033");
        assert_eq!(reach(4.0, [0.8262, 4.0], 4), "−3.1738/+0.0000");
        assert_eq!(reach(2.4, [1.2507, 3.3273], 4), "−1.1493/+0.9273");
    }
}
