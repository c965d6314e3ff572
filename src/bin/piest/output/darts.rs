//! The darts picture of `piest darts`: the unit square, the quarter circle, and one SVG
//! `<circle>` per dart, inside and outside in two colours, with the estimate they make and its
//! 95% half-width in the title and the two counts, in their colours, under it (outside the
//! square, so no dart is hidden: the only `<circle>` elements are the darts).
//!
//! Stratified darts (one chunk, one dart per cell) add a line naming the grid, and the rounding
//! of the darts asked for up to `4^k`, and draw the cell lines when there are at most
//! [`MAX_GRID_LINES`] cells per axis; their title's interval is Hoeffding's bound.
//!
//! As for the other plots, text is SVG `<text>` in the generic `sans-serif` family: no system
//! font is loaded.

use indicatif::HumanCount;
use piest::darts::Darts;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width and height of the picture in pixels: a square plot area plus the title.
const SIZE: (u32, u32) = (720, 790);
/// Height of the title and counts above the square.
const HEADER: u32 = 80;
/// The extra height of the grid's line for stratified darts.
const GRID_LINE: u32 = 30;
/// The most cells per axis whose lines are drawn: beyond, they would cover the darts.
pub const MAX_GRID_LINES: u64 = 64;
/// Colour of the cell lines.
const CELL: RGBColor = RGBColor(190, 190, 190);
/// Points on the quarter circle's arc.
const ARC_POINTS: usize = 400;

/// Colour of the darts inside the quarter circle.
const INSIDE: RGBColor = RGBColor(31, 100, 200);
/// Colour of the darts outside it.
const OUTSIDE: RGBColor = RGBColor(235, 120, 20);

/// The title: the estimate ± its 95% half-width, the darts and the seed.
pub fn title(darts: &Darts) -> String {
    let bound = if darts.grid.is_some() {
        ", Hoeffding bound"
    } else {
        ""
    };
    format!(
        "π ≈ 4 × {} / {} = {:.4} ± {:.4} (95%{bound}), seed {}",
        HumanCount(darts.inside),
        HumanCount(darts.trials()),
        darts.pi(),
        darts.half_width(),
        darts.seed,
    )
}

/// For stratified darts, the line under the title: the grid, and the rounding of the darts
/// asked for up to a whole chunk when there was one. `None` for plain darts.
pub fn grid_line(darts: &Darts) -> Option<String> {
    let grid = darts.grid?;
    let k = grid.cells_per_axis();
    let mut line = format!("stratified: one chunk, a {k} × {k} grid, one dart per cell");
    if darts.requested != darts.trials() {
        line = format!(
            "{line} ({} darts rounded up to {grid})",
            HumanCount(darts.requested)
        );
    }
    Some(line)
}

/// Draws `darts` as an SVG document.
pub fn render(darts: &Darts) -> Result<String, String> {
    let mut svg = String::new();
    draw(darts, &mut svg).map_err(|e| format!("cannot draw the picture: {e}"))?;
    Ok(svg)
}

/// Dot radius in pixels: larger when there are few darts.
fn radius(n: u64) -> i32 {
    match n {
        0..=1_000 => 4,
        1_001..=5_000 => 3,
        5_001..=20_000 => 2,
        _ => 1,
    }
}

fn draw(darts: &Darts, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let grid_line = grid_line(darts);
    let extra = if grid_line.is_some() { GRID_LINE } else { 0 };
    let root = SVGBackend::with_string(svg, (SIZE.0, SIZE.1 + extra)).into_drawing_area();
    root.fill(&WHITE)?;
    let (header, body) = root.split_vertically(HEADER + extra);
    let inside = darts.inside;
    let outside = darts.trials() - inside;
    let centre = |x: i32, y: i32, text: String, size: u32, colour: RGBColor| {
        let style = ("sans-serif", size)
            .into_font()
            .color(&colour)
            .pos(Pos::new(HPos::Center, VPos::Center));
        header.draw(&Text::new(text, (x, y), style))
    };
    let w = SIZE.0 as i32;
    centre(w / 2, 26, title(darts), 22, BLACK)?;
    if let Some(line) = grid_line {
        centre(w / 2, 58, line, 16, BLACK)?;
    }
    let counts_y = 60 + extra as i32;
    centre(
        w / 3,
        counts_y,
        format!("inside: {}", HumanCount(inside)),
        17,
        INSIDE,
    )?;
    centre(
        2 * w / 3,
        counts_y,
        format!("outside: {}", HumanCount(outside)),
        17,
        OUTSIDE,
    )?;
    let mut chart = ChartBuilder::on(&body)
        .margin(20)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("x")
        .y_desc("y")
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|v| format!("{v:.1}"))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .axis_desc_style(("sans-serif", 16))
        .label_style(("sans-serif", 14))
        .disable_mesh()
        .draw()?;

    if let Some(grid) = darts.grid.filter(|g| g.cells_per_axis() <= MAX_GRID_LINES) {
        let k = grid.cells_per_axis();
        let lines = (1..k).flat_map(|i| {
            let at = i as f64 / k as f64;
            [
                PathElement::new([(at, 0.0), (at, 1.0)], CELL.stroke_width(1)),
                PathElement::new([(0.0, at), (1.0, at)], CELL.stroke_width(1)),
            ]
        });
        chart.draw_series(lines)?;
    }

    let r = radius(darts.trials());
    chart.draw_series(darts.points.iter().map(|d| {
        let colour = if d.inside { INSIDE } else { OUTSIDE };
        Circle::new((d.x, d.y), r, colour.filled())
    }))?;

    let arc = (0..=ARC_POINTS).map(|i| {
        let a = std::f64::consts::FRAC_PI_2 * i as f64 / ARC_POINTS as f64;
        (a.cos(), a.sin())
    });
    chart.draw_series(LineSeries::new(arc, BLACK.stroke_width(2)))?;
    chart.draw_series([Rectangle::new(
        [(0.0, 0.0), (1.0, 1.0)],
        BLACK.stroke_width(1),
    )])?;
    root.present()?;
    Ok(())
}
