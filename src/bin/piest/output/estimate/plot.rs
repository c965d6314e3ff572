//! The convergence plot of an estimate: the estimate of π against trials on a log axis, with
//! its 95% band narrowing onto the line y = π, drawn from the report's convergence series.
//!
//! As for the sweep's plot, plotters is built without its font features: labels are SVG
//! `<text>` elements in the generic `sans-serif` family, so no system font is ever loaded.

use indicatif::HumanCount;
use piest::report::Report;
use plotters::prelude::*;

/// Width and height of the plot in pixels.
const SIZE: (u32, u32) = (860, 540);

/// Label of the x axis.
pub const X_LABEL: &str = "trials (log scale)";
/// Label of the y axis.
pub const Y_LABEL: &str = "estimate of π";

/// Draws the convergence series of `report` as an SVG document. Fails on a report without a
/// series (a merge of parts).
pub fn render(report: &Report) -> Result<String, String> {
    let mut svg = String::new();
    draw(report, &mut svg).map_err(|e| format!("cannot draw the plot: {e}"))?;
    Ok(svg)
}

/// The title: seed, trials and the estimate with its 95% half-width.
pub fn title(report: &Report) -> String {
    format!(
        "piest: π ≈ {:.prec$} ± {:.1e} (95%) from {} trials, seed {}",
        report.pi,
        report.ci95_half_width,
        HumanCount(report.trials),
        report.seed,
        prec = decimals(report.ci95_half_width),
    )
}

/// Decimals that show a half-width's leading digit and one more.
fn decimals(half_width: f64) -> usize {
    if half_width.is_nan() || half_width <= 0.0 {
        return 4;
    }
    (1.0 - half_width.log10().floor()).clamp(2.0, 12.0) as usize
}

fn draw(report: &Report, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let series = report
        .convergence
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or("this report has no convergence series")?;
    let pi = std::f64::consts::PI;
    let first = series[0].trials as f64;
    let last = series[series.len() - 1].trials as f64;
    // At least a decade wide, so a one-point series still has an axis.
    let x_min = first.min(last / 10.0).max(1.0);
    let x_max = last.max(x_min * 10.0);
    let (mut y_min, mut y_max) = (pi, pi);
    for p in series {
        y_min = y_min.min(p.ci95[0]);
        y_max = y_max.max(p.ci95[1]);
    }
    let pad = ((y_max - y_min) * 0.06).max(1e-12);
    let (y_min, y_max) = ((y_min - pad).max(0.0), (y_max + pad).min(4.0));

    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title(report), ("sans-serif", 21))
        .margin(18)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d((x_min..x_max).log_scale(), y_min..y_max)?;
    let y_decimals = decimals((y_max - y_min) / 20.0);
    chart
        .configure_mesh()
        .x_desc(X_LABEL)
        .y_desc(Y_LABEL)
        .x_label_formatter(&|v| format!("{v:.0e}"))
        .y_label_formatter(&|v| format!("{v:.y_decimals$}"))
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 14))
        .bold_line_style(RGBColor(225, 225, 225))
        .max_light_lines(0)
        .draw()?;

    let band = RGBColor(120, 160, 230);
    let mut outline: Vec<(f64, f64)> = series
        .iter()
        .map(|p| (p.trials as f64, p.ci95[1]))
        .collect();
    outline.extend(series.iter().rev().map(|p| (p.trials as f64, p.ci95[0])));
    chart
        .draw_series([Polygon::new(outline, band.mix(0.35).filled())])?
        .label("95% interval (Wilson)")
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 6), (x + 20, y + 6)], band.mix(0.35).filled())
        });

    let grey = RGBColor(90, 90, 90);
    chart
        .draw_series(DashedLineSeries::new(
            [(x_min, pi), (x_max, pi)],
            8,
            5,
            grey.stroke_width(2),
        ))?
        .label("π")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey.stroke_width(2)));

    let blue = RGBColor(30, 70, 170);
    chart
        .draw_series(LineSeries::new(
            series.iter().map(|p| (p.trials as f64, p.pi)),
            blue.stroke_width(2),
        ))?
        .label("estimate")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], blue.stroke_width(2)));

    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .draw()?;
    root.present()?;
    Ok(())
}
