//! Snapshot tests of the `piest methods` renderers from a hand-built comparison: no clock, no
//! run. The half-widths follow each method's theory (plain `3.22/√n`, stratified `t · σ_k/√m`
//! at the chosen grid) and the errors a fixed pattern, so the plot's shape is the real one.

use std::num::NonZeroUsize;

use insta::assert_snapshot;
use piest::compare::{self, CompareSpec, Comparison, MethodPoint};
use piest::sampler::Method;
use piest::stats::replicates::t_quantile;
use piest::stats::strata::{chunk_std_dev, grid_for_trials};
use piest::{Kernel, stats};

use super::{csv, svg, table};

/// The comparison up to `max` trials, seed 0, 2 workers.
fn comparison(max: u64) -> Comparison {
    let spec = CompareSpec {
        max_trials: max,
        seed: 0,
        workers: NonZeroUsize::new(2).expect("2 > 0"),
        kernel: Kernel::Scalar,
    };
    let mut points = Vec::new();
    for (i, (method, n)) in compare::runs(max).into_iter().enumerate() {
        let plan = compare::plan(method, n).expect("a plan");
        let (trials, chunks) = (plan.trials(), plan.chunks());
        let (half_width, ci_method) = match method {
            Method::Plain => {
                let inside = (trials as f64 * std::f64::consts::FRAC_PI_4) as u64;
                (stats::stopping::half_width(inside, trials), "wilson")
            }
            Method::Stratified => {
                let sd = chunk_std_dev(grid_for_trials(n));
                (
                    t_quantile(chunks - 1) * sd / (chunks as f64).sqrt(),
                    "student-t",
                )
            }
        };
        // Seven significant digits: the same double on every platform, whose `ln`, `exp` and
        // `sqrt` behind the t quantile and the theory may differ in the last bit.
        let half_width: f64 = format!("{half_width:.6e}").parse().expect("a number");
        // Errors between a tenth of the half-width and the half-width, in a fixed pattern.
        let abs_error = half_width * [0.45, 0.1, 0.8, 0.3, 0.6, 0.2, 1.05][i % 7];
        points.push(MethodPoint {
            method: method.name(),
            requested_trials: n,
            trials,
            chunk_size: plan.chunk_size(),
            chunks,
            pi: std::f64::consts::PI + abs_error,
            ci95_half_width: half_width,
            ci_method,
            abs_error,
            elapsed_s: trials as f64 / 1.5e9,
            cached_chunks: 0,
        });
    }
    Comparison::new(&spec, points, 7.25)
}

fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

#[test]
fn methods_table() {
    assert_snapshot!(table(&comparison(10_000_000_000)));
}

#[test]
fn methods_csv() {
    let text = csv(&comparison(1_000_000)).expect("CSV");
    assert_eq!(text.lines().count(), 1 + 2 * 5);
    assert_snapshot!(text);
}

#[test]
fn methods_json() {
    assert_snapshot!(super::super::json(&comparison(30_000)));
}

#[test]
fn methods_svg_has_both_series_both_guides_and_log_axes() {
    let c = comparison(10_000_000_000);
    let text = svg::render(&c).expect("a plot");
    let doc = roxmltree::Document::parse(&text).expect("well-formed SVG");
    let texts = svg_texts(&text);
    for needle in [
        svg::title(&c),
        svg::X_LABEL.to_string(),
        svg::Y_LABEL.to_string(),
        svg::GUIDE_HALF.to_string(),
        svg::GUIDE_THREE_QUARTERS.to_string(),
        svg::half_width_label(&c, Method::Plain),
        svg::half_width_label(&c, Method::Stratified),
        svg::error_label(Method::Plain),
        svg::error_label(Method::Stratified),
        "n^-1/2".to_string(),
        "n^-3/4".to_string(),
    ] {
        assert!(texts.contains(&needle), "{needle}: {texts:?}");
    }
    // The fitted rates are the theory's.
    let plain = c.fit(Method::Plain).expect("a plain fit").exponent;
    let strat = c
        .fit(Method::Stratified)
        .expect("a stratified fit")
        .exponent;
    assert!((plain + 0.5).abs() < 0.01, "{plain}");
    assert!((strat + 0.75).abs() < 0.08, "{strat}");
    // Two dots per run: the half-width filled, the error open.
    let circles = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count();
    assert_eq!(
        circles,
        2 * c.points.len() + 2,
        "two per run and two in the legend"
    );
    // Log axes: the decade ticks are evenly spaced.
    let tick_positions = |labels: &[&str], attr: &str| -> Vec<f64> {
        labels
            .iter()
            .map(|label| {
                let node = doc
                    .descendants()
                    .find(|n| n.has_tag_name("text") && n.text().map(str::trim) == Some(*label))
                    .unwrap_or_else(|| panic!("tick {label}: {texts:?}"));
                node.attribute(attr)
                    .expect("a position")
                    .parse()
                    .expect("a number")
            })
            .collect()
    };
    for (labels, attr) in [
        (&["1e4", "1e5", "1e6", "1e7", "1e8", "1e9", "1e10"][..], "x"),
        (&["1e-2", "1e-3", "1e-4", "1e-5", "1e-6"][..], "y"),
    ] {
        let at = tick_positions(labels, attr);
        let steps: Vec<f64> = at.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            steps
                .iter()
                .all(|s| (s - steps[0]).abs() <= 1.5 && s.abs() > 20.0),
            "{attr} ticks {labels:?} at {at:?}"
        );
    }
    assert_snapshot!(texts.join("\n"));
}

#[test]
fn a_comparison_without_positive_widths_has_no_plot() {
    let mut c = comparison(30_000);
    for p in &mut c.points {
        p.ci95_half_width = 0.0;
    }
    assert!(svg::render(&c).is_err());
}
