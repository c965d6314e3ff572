//! The plot of `piest methods`: the 95% half-width (filled dots joined by a line) and the actual
//! error `|π̂ − π|` (open circles) of each method against trials, both axes logarithmic, with
//! dashed guide lines of slope −1/2 and −3/4 beside the plain and stratified half-widths (each
//! 2.5 times above the line of its slope that fits its method's points best, so a reader sees at
//! once which rate each method follows without the guide hiding the points).
//!
//! As for the other plots, text is SVG `<text>` in the generic `sans-serif` family: no system
//! font is loaded.

use piest::compare::Comparison;
use piest::sampler::Method;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width and height of the plot in pixels.
const SIZE: (u32, u32) = (960, 640);

/// Label of the x axis.
pub const X_LABEL: &str = "trials n (log scale)";
/// Label of the y axis.
pub const Y_LABEL: &str = "error of π̂ (log scale)";
/// Legend of the n^-1/2 guide line.
pub const GUIDE_HALF: &str = "guide: ∝ n^-1/2";
/// Legend of the n^-3/4 guide line.
pub const GUIDE_THREE_QUARTERS: &str = "guide: ∝ n^-3/4";

/// How far above the fit of its method's half-widths a guide line is drawn (a factor).
const GUIDE_OFFSET: f64 = 2.5;

/// Colour of the plain method.
const PLAIN: RGBColor = RGBColor(220, 110, 20);
/// Colour of the stratified method.
const STRATIFIED: RGBColor = RGBColor(30, 90, 190);
/// Colour of the guide lines.
const GUIDE: RGBColor = RGBColor(110, 110, 110);

/// The title.
pub fn title(comparison: &Comparison) -> String {
    format!(
        "Monte Carlo π: plain vs stratified darts (seed {})",
        comparison.seed
    )
}

/// The legend of `method`'s half-width series, with its fitted rate when there is one.
pub fn half_width_label(comparison: &Comparison, method: Method) -> String {
    match comparison.fit(method) {
        Some(fit) => format!(
            "{}: 95% half-width (fit n^{:.2})",
            method.name(),
            fit.exponent
        ),
        None => format!("{}: 95% half-width", method.name()),
    }
}

/// The legend of `method`'s actual errors.
pub fn error_label(method: Method) -> String {
    format!("{}: actual error |π̂ − π|", method.name())
}

/// Draws `comparison` as an SVG document. Fails when no run has a positive half-width.
pub fn render(comparison: &Comparison) -> Result<String, String> {
    let mut svg = String::new();
    draw(comparison, &mut svg).map_err(|e| format!("cannot draw the plot: {e}"))?;
    Ok(svg)
}

/// The constant `c` of the guide `c · n^-slope` that fits `method`'s half-widths best (least
/// squares on the log scale): the geometric mean of `hw · n^slope`.
fn guide_constant(comparison: &Comparison, method: Method, slope: f64) -> Option<f64> {
    let logs: Vec<f64> = comparison
        .series(method)
        .filter(|p| p.ci95_half_width > 0.0 && p.trials > 0)
        .map(|p| p.ci95_half_width.ln() + slope * (p.trials as f64).ln())
        .collect();
    (!logs.is_empty()).then(|| (logs.iter().sum::<f64>() / logs.len() as f64).exp())
}

fn draw(comparison: &Comparison, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let points = &comparison.points;
    let widths = points
        .iter()
        .map(|p| p.ci95_half_width)
        .filter(|v| *v > 0.0 && v.is_finite());
    let (w_min, w_max) = widths.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if w_max <= 0.0 {
        return Err("no run has a positive half-width".into());
    }
    let errors = points
        .iter()
        .map(|p| p.abs_error)
        .filter(|v| *v > 0.0 && v.is_finite());
    let (e_min, e_max) = errors.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    // A lucky run's error may be far below every interval: the axis stops a thousandth below
    // the smallest half-width, and smaller errors sit on it.
    let y_min = e_min.min(w_min).max(w_min / 1000.0) / 1.6;
    let y_max = w_max.max(e_max) * 1.6;
    let trials = points.iter().map(|p| p.trials as f64);
    let (t_min, t_max) = trials.fold((f64::INFINITY, 1.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    // At least a decade wide, so a one-point comparison still has an axis.
    let x_min = (t_min / 1.25).max(1.0).min(t_max / 10.0);
    let x_max = t_max * 1.25;

    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title(comparison), ("sans-serif", 26))
        .margin(20)
        .x_label_area_size(56)
        .y_label_area_size(90)
        .build_cartesian_2d((x_min..x_max).log_scale(), (y_min..y_max).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(X_LABEL)
        .y_desc(Y_LABEL)
        .x_label_formatter(&|v| format!("{v:.0e}"))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .axis_desc_style(("sans-serif", 20))
        .label_style(("sans-serif", 17))
        .bold_line_style(RGBColor(225, 225, 225))
        .max_light_lines(0)
        .draw()?;

    for (slope, label, method) in [
        (0.5, GUIDE_HALF, Method::Plain),
        (0.75, GUIDE_THREE_QUARTERS, Method::Stratified),
    ] {
        let Some(c) = guide_constant(comparison, method, slope) else {
            continue;
        };
        // Beside its method's points rather than on them, which would hide it.
        let c = c * GUIDE_OFFSET;
        // The part of c · n^-slope inside the plot area.
        let at = |y: f64| (c / y).powf(1.0 / slope);
        let (from, to) = (x_min.max(at(y_max)), x_max.min(at(y_min)));
        if from >= to {
            continue;
        }
        let line = [from, to].map(|n| (n, c * n.powf(-slope)));
        let dash = if slope == 0.5 { (12, 6) } else { (4, 5) };
        chart
            .draw_series(DashedLineSeries::new(
                line,
                dash.0,
                dash.1,
                GUIDE.stroke_width(2),
            ))?
            .label(label)
            .legend(move |(x, y)| {
                // The line's own dashes, in the legend's 24 pixels.
                let [a, b, c] = if slope == 0.5 {
                    [(0, 9), (15, 24), (24, 24)]
                } else {
                    [(0, 4), (9, 13), (18, 22)]
                };
                let dash = |(x0, x1): (i32, i32)| {
                    PathElement::new([(x0, 0), (x1, 0)], GUIDE.stroke_width(2))
                };
                EmptyElement::at((x, y)) + dash(a) + dash(b) + dash(c)
            });
        // Its name on the plot, above the line four fifths of the way along it.
        let n = (from.ln() + 0.8 * (to.ln() - from.ln())).exp();
        let style = ("sans-serif", 19)
            .into_font()
            .color(&GUIDE)
            .pos(Pos::new(HPos::Left, VPos::Bottom));
        let name = if slope == 0.5 { "n^-1/2" } else { "n^-3/4" };
        chart.draw_series([Text::new(name, (n, c * n.powf(-slope) * 1.15), style)])?;
    }

    for (method, colour) in [(Method::Plain, PLAIN), (Method::Stratified, STRATIFIED)] {
        let series: Vec<(f64, f64, f64)> = comparison
            .series(method)
            .map(|p| (p.trials as f64, p.ci95_half_width, p.abs_error.max(y_min)))
            .collect();
        if series.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(
                series.iter().map(|&(n, w, _)| (n, w)),
                colour.stroke_width(3),
            ))?
            .label(half_width_label(comparison, method))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], colour.stroke_width(3)));
        chart.draw_series(
            series
                .iter()
                .map(|&(n, w, _)| Circle::new((n, w), 5, colour.filled())),
        )?;
        chart
            .draw_series(
                series
                    .iter()
                    .map(|&(n, _, e)| Circle::new((n, e), 5, colour.stroke_width(2))),
            )?
            .label(error_label(method))
            .legend(move |(x, y)| Circle::new((x + 12, y), 5, colour.stroke_width(2)));
    }

    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .draw()?;
    root.present()?;
    Ok(())
}
