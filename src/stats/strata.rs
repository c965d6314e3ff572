//! The geometry of a stratified chunk and the rules that choose its size. Pure functions.
//!
//! # Which cells vary
//!
//! A stratified chunk throws one dart in each cell of a `K × K` grid ([`crate::sampler::Grid`]).
//! A cell whose lattice points all lie inside always counts 1, one whose points all lie outside
//! always 0; only the [`boundary_cells`] the arc crosses vary, with variance `p(1 − p)` for the
//! fraction `p` of the cell inside. Their sum ([`chunk_count_variance`], about `0.2586 K`) is
//! the variance of a chunk's count, known before any dart is thrown; the
//! per-dart variance relative to plain sampling is `16 Σp(1−p) / (n π(4 − π))`: 5.9e-3 at
//! `n = 4^8`, 1.5e-3 at `4^10`.
//!
//! # Choosing the chunk size
//!
//! Doubling `K` quadruples the trials of a chunk but divides its standard deviation of π̂ by
//! `2^1.5`: per trial, larger chunks are cheaper (the error falls as `N^-3/4` when the grid grows
//! with the trials `N`, against `N^-1/2` at a fixed size). The interval, though, comes from the
//! spread between chunks and needs enough of them, and chunks are also the unit of parallel
//! work. Hence:
//!
//! * **A number of trials** ([`grid_for_trials`]): the largest `4^k` that leaves at least
//!   [`MIN_CHUNKS`] = 20 chunks (`k = 1` below 80 trials, `k = 16` from 20 · 4^16 trials on);
//!   the trials are then rounded up to whole chunks ([`whole_chunks`]). 20 chunks give a t
//!   interval with 19 degrees of freedom (t = 2.09 against 1.96) and work for 20 workers; a
//!   machine with more cores wants an explicit smaller chunk size.
//! * **A precision target `E`** ([`grid_for_target`]): the chunk size whose predicted number of
//!   chunks to reach `E`, `m*(k) = (t(0.975; 29) · σ_k / E)²` with `σ_k` the predicted standard
//!   deviation of one chunk's π̂, is nearest [`TARGET_CHUNKS`] = 30 on a log scale. Each step of
//!   `k` changes `m*` eightfold, so `m*` falls in `[30/√8, 30·√8] ≈ [11, 85]`; the stop waits
//!   for at least 20 chunks ([`super::replicates::MIN_CHUNKS_FOR_TARGET`]). Every target in a
//!   band `2^1.5` wide maps to one `k`, so nearby targets share a chunk size and its cached
//!   chunks. π ± 1e-5 takes `4^11` (about 20 chunks), ± 1e-6 `4^13` (about 31 chunks, 2.1e9
//!   trials), ± 1e-7 `4^15` (about 49 chunks).
//! * **An explicit size** must be `4^k`; [`crate::sampler::Grid::for_chunk_size`] refuses any
//!   other, naming the nearest allowed sizes.

use super::replicates::t_quantile;
use crate::sampler::Grid;

/// The fewest chunks [`grid_for_trials`] leaves.
pub const MIN_CHUNKS: u64 = 20;

/// The number of chunks [`grid_for_target`] aims at.
pub const TARGET_CHUNKS: f64 = 30.0;

/// `B`: the cells of `grid` whose lattice points are partly inside the quarter circle, counted
/// exactly. A cell's points run from its corner `(i s, j s)` to `((i+1) s − 1, (j+1) s − 1)`,
/// `s = 2^(32 − k)`; since inside-ness falls with `x` and `y`, the cell is partly inside iff its
/// lowest point is inside and its highest is not. Row by row, in `O(K)`.
pub fn boundary_cells(grid: Grid) -> u64 {
    let cells = u128::from(grid.cells_per_axis());
    let side = 1u128 << (32 - grid.k());
    let r2 = 1u128 << 64;
    // How many j in 0..K have (j s + offset)² < r2 − x², i.e. j s + offset ≤ isqrt(r2 − x² − 1).
    let below = |x: u128, offset: u128| -> u128 {
        let room = (r2 - x * x - 1).isqrt();
        if room < offset {
            0
        } else {
            ((room - offset) / side + 1).min(cells)
        }
    };
    let partly: u128 = (0..cells)
        .map(|i| below(i * side, 0) - below((i + 1) * side - 1, side - 1))
        .sum();
    // At most K² ≤ 2^32.
    partly as u64
}

/// The variance of one chunk's inside count, `Σ p(1 − p)` over the cells, with `p` each cell's
/// area inside the quarter disc (the lattice's fractions differ from the areas by about 2^-32).
pub fn chunk_count_variance(grid: Grid) -> f64 {
    let cells = grid.cells_per_axis();
    let h = 1.0 / cells as f64;
    let mut sum = 0.0;
    for i in 0..cells {
        let (x0, x1) = (i as f64 * h, (i + 1) as f64 * h);
        // Only the cells between the arc's heights at x1 and x0 can be partly inside.
        let low = ((1.0 - x1 * x1).max(0.0).sqrt() / h).floor() as u64;
        let high = (((1.0 - x0 * x0).max(0.0).sqrt() / h).ceil() as u64).min(cells);
        for j in low..high {
            let p = area_inside(x0, x1, j as f64 * h, (j + 1) as f64 * h) / (h * h);
            sum += p * (1.0 - p);
        }
    }
    sum
}

/// The area of `[x0, x1] × [y0, y1]` (within the unit square) inside the unit disc.
fn area_inside(x0: f64, x1: f64, y0: f64, y1: f64) -> f64 {
    // ∫ sqrt(1 − x²) dx.
    let f = |x: f64| (x * (1.0 - x * x).max(0.0).sqrt() + x.asin()) / 2.0;
    let clip = |x: f64| x.clamp(x0, x1);
    // The arc is above y1 left of a and above y0 left of b.
    let a = clip((1.0 - y1 * y1).max(0.0).sqrt());
    let b = clip((1.0 - y0 * y0).max(0.0).sqrt());
    (y1 - y0) * (a - x0) + (f(b) - f(a)) - y0 * (b - a)
}

/// The predicted standard deviation of one chunk's estimate `4c/n`.
pub fn chunk_std_dev(grid: Grid) -> f64 {
    4.0 * chunk_count_variance(grid).sqrt() / grid.trials() as f64
}

/// The grid for a run of `trials` trials: the largest `4^k` leaving at least [`MIN_CHUNKS`]
/// chunks (see the module docs).
pub fn grid_for_trials(trials: u64) -> Grid {
    Grid::all()
        .rev()
        .find(|g| g.trials().saturating_mul(MIN_CHUNKS) <= trials)
        .unwrap_or(smallest())
}

/// The grid for a precision target `target` (a 95% half-width of π): predicted to reach it in
/// about [`TARGET_CHUNKS`] chunks (see the module docs). A target that is not a positive number
/// gets the largest grid.
pub fn grid_for_target(target: f64) -> Grid {
    let q = t_quantile(TARGET_CHUNKS as u64 - 1);
    let distance = |g: &Grid| {
        let chunks = (q * chunk_std_dev(*g) / target).powi(2);
        (chunks / TARGET_CHUNKS).ln().abs()
    };
    if !(target > 0.0 && target.is_finite()) {
        return Grid::all().last().unwrap_or(smallest());
    }
    Grid::all()
        .min_by(|a, b| distance(a).total_cmp(&distance(b)))
        .unwrap_or(smallest())
}

/// The number of chunks the target is predicted to need with `grid`.
pub fn predicted_chunks(grid: Grid, target: f64) -> f64 {
    (t_quantile(TARGET_CHUNKS as u64 - 1) * chunk_std_dev(grid) / target).powi(2)
}

/// The chunks that cover `trials` trials: rounded up, at least one.
pub fn whole_chunks(trials: u64, grid: Grid) -> u64 {
    trials.div_ceil(grid.trials()).max(1)
}

/// The whole chunks within a cap of `trials`: rounded down.
pub fn chunks_within(trials: u64, grid: Grid) -> u64 {
    trials / grid.trials()
}

/// `4^1`.
fn smallest() -> Grid {
    Grid::all().next().expect("there is a smallest grid")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(k: u32) -> Grid {
        Grid::new(k).unwrap()
    }

    /// `B` straight from the definition: every cell's lowest and highest lattice point.
    fn brute_force_boundary_cells(g: Grid) -> u64 {
        let k = g.k();
        let s = 1u128 << (32 - k);
        let inside = |x: u128, y: u128| x * x + y * y < 1u128 << 64;
        let mut b = 0;
        for i in 0..u128::from(g.cells_per_axis()) {
            for j in 0..u128::from(g.cells_per_axis()) {
                let low = inside(i * s, j * s);
                let high = inside((i + 1) * s - 1, (j + 1) * s - 1);
                b += u64::from(low && !high);
            }
        }
        b
    }

    #[test]
    fn boundary_cells_match_the_brute_force_count() {
        for k in 1..=9 {
            let g = grid(k);
            assert_eq!(boundary_cells(g), brute_force_boundary_cells(g), "k {k}");
        }
        // A 2 × 2 grid: every cell but (0, 0) straddles the arc.
        assert_eq!(boundary_cells(grid(1)), 3);
        // The arc crosses at most 2K − 1 cells (it moves monotonically through the grid), a
        // few fewer where it passes exactly through a corner's neighbourhood.
        for k in 1..=16 {
            let (b, cells) = (boundary_cells(grid(k)), grid(k).cells_per_axis());
            assert!(b < 2 * cells && b + 8 >= 2 * cells - 1, "k {k}: {b}");
        }
        assert_eq!(boundary_cells(grid(16)), 131_067);
    }

    #[test]
    fn the_chunk_variance_matches_the_known_constant() {
        // Σ p(1 − p) ≈ 0.2586 K at K = 2048, and near it for every large K.
        let per_column = |k| chunk_count_variance(grid(k)) / grid(k).cells_per_axis() as f64;
        assert!((per_column(11) - 0.2586).abs() < 2e-4, "{}", per_column(11));
        for k in 8..=16 {
            assert!(
                (0.25..0.265).contains(&per_column(k)),
                "k {k}: {}",
                per_column(k)
            );
        }
        // Below the bound B/4, about half of it.
        for k in 1..=12 {
            let g = grid(k);
            let v = chunk_count_variance(g);
            assert!(v <= boundary_cells(g) as f64 / 4.0 + 1e-9, "k {k}");
            assert!(v > 0.0);
        }
        // A 2 × 2 grid, by hand: the corner cell's area inside is π/4 − 3/4 + ... computed
        // directly from the three straddling cells' areas.
        let quarter = std::f64::consts::PI / 4.0;
        let a11 = area_inside(0.5, 1.0, 0.5, 1.0);
        let a10 = area_inside(0.5, 1.0, 0.0, 0.5);
        assert!((0.25 + 2.0 * a10 + a11 - quarter).abs() < 1e-12);
    }

    #[test]
    fn areas_sum_to_the_quarter_disc() {
        for k in [1, 3, 6] {
            let cells = 1u64 << k;
            let h = 1.0 / cells as f64;
            let total: f64 = (0..cells)
                .flat_map(|i| (0..cells).map(move |j| (i, j)))
                .map(|(i, j)| {
                    area_inside(
                        i as f64 * h,
                        (i + 1) as f64 * h,
                        j as f64 * h,
                        (j + 1) as f64 * h,
                    )
                })
                .sum();
            assert!(
                (total - std::f64::consts::PI / 4.0).abs() < 1e-12,
                "k {k}: {total}"
            );
        }
    }

    #[test]
    fn the_trials_rule_leaves_at_least_twenty_chunks() {
        assert_eq!(grid_for_trials(0), grid(1));
        assert_eq!(grid_for_trials(79), grid(1));
        assert_eq!(grid_for_trials(80), grid(1));
        assert_eq!(grid_for_trials(319), grid(1));
        assert_eq!(grid_for_trials(320), grid(2));
        assert_eq!(grid_for_trials(1_000_000_000), grid(12));
        assert_eq!(grid_for_trials(20 << 24), grid(12));
        assert_eq!(grid_for_trials((20 << 24) - 1), grid(11));
        assert_eq!(grid_for_trials(u64::MAX), grid(16));
        for trials in [100, 5_000, 1 << 20, 123_456_789, 1 << 40] {
            let g = grid_for_trials(trials);
            assert!(whole_chunks(trials, g) >= MIN_CHUNKS, "{trials}");
            if let Some(bigger) = Grid::new(g.k() + 1) {
                assert!(trials / bigger.trials() < MIN_CHUNKS, "{trials}");
            }
        }
        assert_eq!(whole_chunks(1000, grid(2)), 63);
        assert_eq!(whole_chunks(0, grid(2)), 1);
        assert_eq!(chunks_within(1000, grid(2)), 62);
    }

    #[test]
    fn the_target_rule_aims_at_about_thirty_chunks_and_nearby_targets_share_it() {
        assert_eq!(grid_for_target(1e-5), grid(11));
        assert_eq!(grid_for_target(1e-6), grid(13));
        assert_eq!(grid_for_target(1e-7), grid(15));
        for target in [1e-3, 3e-4, 1e-4, 1e-5, 2e-6, 1e-6, 1e-7] {
            let g = grid_for_target(target);
            let m = predicted_chunks(g, target);
            assert!((10.0..=86.0).contains(&m), "{target}: k {} m {m}", g.k());
        }
        // Targets within a few percent share their grid.
        let g = grid_for_target(1e-6);
        assert_eq!(grid_for_target(1.05e-6), g);
        assert_eq!(grid_for_target(0.95e-6), g);
        // Smaller targets never get smaller chunks.
        let mut last = grid(1);
        for e in (0..60).map(|i| 10f64.powf(-2.0 - i as f64 * 0.1)) {
            let g = grid_for_target(e);
            assert!(g >= last, "{e}");
            last = g;
        }
        assert_eq!(grid_for_target(f64::NAN), grid(16));
        assert_eq!(grid_for_target(0.0), grid(16));
        assert_eq!(grid_for_target(1.0), grid(1));
    }
}
