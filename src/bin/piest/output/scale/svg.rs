//! The SVG plot of a worker-count sweep: measured speed-up (median, with the range from the
//! slowest to the fastest run) against the ideal line and the fitted Amdahl curve, with the
//! machine's core count marked.
//!
//! plotters is built without its font features, so it never loads a system font: labels are
//! written as SVG `<text>` elements in the generic `sans-serif` family, which any SVG viewer
//! renders with whatever font it has.

use indicatif::HumanCount;
use piest::scale::ScaleReport;
use plotters::prelude::*;

/// Width and height of the plot in pixels.
const SIZE: (u32, u32) = (800, 520);
/// Points on the Amdahl curve: enough for a smooth line at this width.
const CURVE_POINTS: usize = 200;

pub const X_LABEL: &str = "workers";
pub const Y_LABEL: &str = "speed-up";

/// Draws `report` as an SVG document.
pub fn render(report: &ScaleReport) -> Result<String, String> {
    let mut svg = String::new();
    draw(report, &mut svg).map_err(|e| format!("cannot draw the plot: {e}"))?;
    Ok(svg)
}

fn draw(report: &ScaleReport, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let max_workers = report.rows.iter().map(|r| r.workers).max().unwrap_or(1) as f64;
    let fastest_speedup = report
        .rows
        .iter()
        .map(|r| r.speedup_range[1])
        .filter(|s| s.is_finite())
        .fold(0.0, f64::max);
    let x_max = (max_workers * 1.08).max(2.0);
    let y_max = (max_workers.max(fastest_speedup) * 1.08).max(2.0);

    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let caption = format!(
        "piest scale: {} trials, {} runs per worker count",
        HumanCount(report.trials),
        report.runs
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 22))
        .margin(18)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
    let whole = |v: &f64| {
        // Only whole worker counts get a label; plotters may place ticks at halves.
        if (v - v.round()).abs() < 1e-9 {
            format!("{v:.0}")
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .x_desc(X_LABEL)
        .y_desc(Y_LABEL)
        .x_labels((max_workers as usize + 1).min(17))
        .x_label_formatter(&whole)
        .y_label_formatter(&|v| {
            if (v - v.round()).abs() < 1e-9 {
                format!("{v:.0}×")
            } else {
                format!("{v:.1}×")
            }
        })
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 15))
        .bold_line_style(RGBColor(225, 225, 225))
        .max_light_lines(0)
        .draw()?;

    let grey = RGBColor(120, 120, 120);
    chart
        .draw_series(DashedLineSeries::new(
            [(0.0, 0.0), (x_max, x_max)],
            8,
            5,
            grey.stroke_width(2),
        ))?
        .label("ideal: speed-up = workers")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey.stroke_width(2)));

    if report.cores as f64 <= x_max {
        let c = report.cores as f64;
        let soft = RGBColor(200, 160, 60);
        chart.draw_series(DashedLineSeries::new(
            [(c, 0.0), (c, y_max)],
            4,
            4,
            soft.stroke_width(1),
        ))?;
        let text = format!(
            "{} core{}",
            report.cores,
            if report.cores == 1 { "" } else { "s" }
        );
        chart.draw_series([Text::new(
            text,
            (c + x_max * 0.01, y_max * 0.04),
            ("sans-serif", 14).into_font().color(&soft),
        )])?;
    }

    if let Some(fit) = &report.amdahl {
        let blue = RGBColor(40, 90, 200);
        let curve = (0..=CURVE_POINTS).map(|i| {
            let p = 1.0 + (x_max - 1.0) * i as f64 / CURVE_POINTS as f64;
            (p, fit.speedup_at(p))
        });
        let (fraction, limit) = super::fit_figures(fit);
        let from = if fit.extrapolation {
            ", extrapolated from one worker count"
        } else {
            ""
        };
        chart
            .draw_series(LineSeries::new(curve, blue.stroke_width(2)))?
            .label(format!("Amdahl fit: {fraction}, {limit}{from}"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], blue.stroke_width(2)));
    }

    let red = RGBColor(200, 40, 40);
    let measured: Vec<(f64, f64)> = report
        .rows
        .iter()
        .map(|r| (r.workers as f64, r.speedup))
        .collect();
    chart.draw_series(report.rows.iter().map(|r| {
        let p = r.workers as f64;
        let [lo, hi] = r.speedup_range;
        PathElement::new([(p, lo), (p, hi)], red.stroke_width(1))
    }))?;
    chart.draw_series(LineSeries::new(
        measured.iter().copied(),
        red.stroke_width(2),
    ))?;
    chart
        .draw_series(
            measured
                .iter()
                .map(|&point| Circle::new(point, 4, red.filled())),
        )?
        .label("measured: median (bars: fastest to slowest run)")
        .legend(move |(x, y)| Circle::new((x + 10, y), 4, red.filled()));

    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .draw()?;
    root.present()?;
    Ok(())
}
