//! The portable kernel: all lanes advanced together in plain arrays, a shape the compiler's
//! auto-vectorizer handles on any target. Counts are identical to the reference kernel.

use super::{Grid, LANES, LaneStates, is_inside};

/// One xoshiro256++ step of every lane; returns each lane's output.
#[inline(always)]
fn step(s: &mut [[u64; LANES]; 4]) -> [u64; LANES] {
    std::array::from_fn(|l| step_lane(s, l))
}

/// One xoshiro256++ step of lane `l` alone; returns its output.
#[inline(always)]
pub(super) fn step_lane(s: &mut [[u64; LANES]; 4], l: usize) -> u64 {
    let out = s[0][l]
        .wrapping_add(s[3][l])
        .rotate_left(23)
        .wrapping_add(s[0][l]);
    let t = s[1][l] << 17;
    s[2][l] ^= s[0][l];
    s[3][l] ^= s[1][l];
    s[1][l] ^= s[2][l];
    s[0][l] ^= s[3][l];
    s[2][l] ^= t;
    s[3][l] = s[3][l].rotate_left(45);
    out
}

/// Counts the inside trials among the next `trials` trials of `states` and advances them.
pub fn count(states: &mut LaneStates, trials: u64) -> u64 {
    let rounds = trials / LANES as u64;
    // Below LANES, so lossless.
    let rest = (trials % LANES as u64) as usize;
    let mut s = states.s;
    // Per-lane counters keep the inner loop free of cross-lane reductions.
    let mut outside = [0u64; LANES];
    for _ in 0..rounds {
        let words = step(&mut s);
        for l in 0..LANES {
            outside[l] += u64::from(!is_inside(words[l]));
        }
    }
    let mut inside = rounds * LANES as u64 - outside.iter().sum::<u64>();
    for l in 0..rest {
        inside += u64::from(is_inside(step_lane(&mut s, l)));
    }
    states.s = s;
    inside
}

/// Counts the inside trials among trials `first_trial..first_trial + trials` of a stratified
/// chunk on `grid` whose lanes are at `states`, and advances them. `first_trial` is a multiple of
/// [`LANES`] unless `trials` is 0.
///
/// Most cells lie wholly inside or wholly outside the circle: only the darts of the about `2K`
/// cells the arc crosses can land either way. On grids of at least [`SORTED_MIN_CELLS`] cells
/// per axis the rounds go in runs in which no lane leaves its row of cells
/// ([`Grid::rounds_in_row`]), every lane moving 12 columns on per round, so along a run a lane
/// meets the cells wholly inside first and those wholly outside last. In each run the leading
/// rounds in which every lane's cell is wholly inside count 12 each and the trailing rounds in
/// which every lane's cell is wholly outside count nothing: the generators only step through
/// them ([`advance`]), and just the rounds between ([`rounds_to_test`]) test their darts
/// ([`count_rounds`]). On a grid of `4^10` cells 2% of the rounds are tested, on `4^11` 1%.
pub fn count_stratified(states: &mut LaneStates, grid: Grid, first_trial: u64, trials: u64) -> u64 {
    debug_assert!(trials == 0 || first_trial.is_multiple_of(LANES as u64));
    let lanes = LANES as u64;
    let rounds = trials / lanes;
    // Below LANES, so lossless.
    let rest = (trials % lanes) as usize;
    let mut s = states.s;
    let mut inside = 0;
    let mut t = first_trial;
    if grid.cells_per_axis() < SORTED_MIN_CELLS {
        inside += count_rounds(&mut s, grid, t, rounds);
        t += rounds * lanes;
    } else {
        let mut left = rounds;
        while left > 0 {
            let run = (grid.rounds_in_row(t) + 1).min(left);
            let tested = rounds_to_test(grid, t, run);
            advance(&mut s, tested.start);
            inside += tested.start * lanes;
            let first = t + tested.start * lanes;
            inside += count_rounds(&mut s, grid, first, tested.end - tested.start);
            advance(&mut s, run - tested.end);
            left -= run;
            t += run * lanes;
        }
    }
    for l in 0..rest {
        inside += u64::from(is_inside(grid.point(t + l as u64, step_lane(&mut s, l))));
    }
    states.s = s;
    inside
}

/// The fewest cells per axis ([`Grid::cells_per_axis`]) on which [`count_stratified`] sorts the
/// rounds. A row of cells is `K / 12` rounds; on shorter rows sorting cost more than it saved.
const SORTED_MIN_CELLS: u64 = 128;

/// The rounds of the run of `run` rounds from trial `t` (lane 0's; no lane leaves its row in the
/// run) that need their darts tested: before them every lane's cell is wholly inside the circle,
/// after them every lane's cell is wholly outside.
fn rounds_to_test(grid: Grid, t: u64, run: u64) -> std::ops::Range<u64> {
    let lanes = LANES as u64;
    let k = grid.k();
    let mut all_inside_until = run;
    let mut all_outside_from = 0;
    // The lanes' rows in order (two at most when `K > 12`), each row's columns worked out once.
    let mut row = None;
    for l in 0..lanes {
        let (i, j) = ((t + l) >> k, (t + l) & (grid.cells_per_axis() - 1));
        let (inside, outside) = match row {
            Some((r, columns)) if r == i => columns,
            _ => {
                let columns = settled_columns(grid, i);
                row = Some((i, columns));
                columns
            }
        };
        // The lane is in column j + 12 r in round r of the run.
        all_inside_until = all_inside_until.min(inside.saturating_sub(j).div_ceil(lanes));
        all_outside_from = all_outside_from.max(outside.saturating_sub(j).div_ceil(lanes));
    }
    all_inside_until..all_outside_from.clamp(all_inside_until, run)
}

/// For row `i` of `grid`: the cells of columns `0..a` lie wholly inside the circle and those of
/// columns `b..K` wholly outside, `(a, b)` (`a ≤ b`). Exact, in the integers of [`is_inside`].
fn settled_columns(grid: Grid, i: u64) -> (u64, u64) {
    let cells = grid.cells_per_axis();
    let side = 1u64 << (32 - grid.k());
    // The largest y with x² + y² < 2^64 (x < 2^32, so x² fits).
    let highest_inside = |x: u64| (u64::MAX - x * x).isqrt();
    // A cell's lattice points run from (i s, j s) to ((i+1) s − 1, (j+1) s − 1), s = `side`,
    // and inside-ness falls as x or y grows. Wholly inside: the top point is inside,
    // (j+1) s − 1 ≤ highest_inside((i+1) s − 1).
    let inside = ((highest_inside((i + 1) * side - 1) + 1) / side).min(cells);
    // Wholly outside: the bottom point is not, j s > highest_inside(i s).
    let outside = (highest_inside(i * side) / side + 1).min(cells);
    (inside, outside)
}

/// `rounds` rounds of every lane's generator, the words unused. Lane by lane, two lanes at a
/// time: each pair's eight state words stay in registers, and the two lanes' chains of dependent
/// steps overlap.
fn advance(s: &mut [[u64; LANES]; 4], rounds: u64) {
    if rounds == 0 {
        return;
    }
    for l in (0..LANES).step_by(2) {
        let mut a: [u64; 4] = std::array::from_fn(|j| s[j][l]);
        let mut b: [u64; 4] = std::array::from_fn(|j| s[j][l + 1]);
        for _ in 0..rounds {
            next_state(&mut a);
            next_state(&mut b);
        }
        for j in 0..4 {
            (s[j][l], s[j][l + 1]) = (a[j], b[j]);
        }
    }
}

/// The xoshiro256++ state transition of one generator's words, as in [`step_lane`], without the
/// output.
#[inline(always)]
pub(super) fn next_state(s: &mut [u64; 4]) {
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
}

/// Counts the inside darts of `rounds` rounds from trial `first` (a multiple of [`LANES`]) on
/// `grid`, testing every one, and advances the generators.
#[inline(always)]
fn count_rounds(s: &mut [[u64; LANES]; 4], grid: Grid, first: u64, rounds: u64) -> u64 {
    let k = grid.k();
    // The low 32 − k bits of each half: `w >> k` masked is `(w >> 32 >> k) << 32 | (w mod 2^32) >> k`.
    let halves = ((1u64 << (32 - k)) - 1) * 0x1_0000_0001;
    let mut outside = [0u64; LANES];
    let mut t = first;
    for _ in 0..rounds {
        let words = step(s);
        for l in 0..LANES {
            let point = (words[l] >> k) & halves | grid.corner(t + l as u64);
            outside[l] += u64::from(!is_inside(point));
        }
        t += LANES as u64;
    }
    rounds * LANES as u64 - outside.iter().sum::<u64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether cell (i, j) of `grid` lies wholly inside the circle and whether wholly outside,
    /// from its top and bottom lattice points: inside-ness falls as x or y grows.
    fn settled(grid: Grid, i: u64, j: u64) -> (bool, bool) {
        let side = 1u64 << (32 - grid.k());
        let top = ((i + 1) * side - 1) << 32 | ((j + 1) * side - 1);
        let bottom = (i * side) << 32 | (j * side);
        (is_inside(top), !is_inside(bottom))
    }

    #[test]
    fn settled_columns_are_exact() {
        for grid in Grid::all() {
            let cells = grid.cells_per_axis();
            for i in 0..cells {
                let (a, b) = settled_columns(grid, i);
                assert!(a <= b && b <= cells, "{grid} row {i}: {a}, {b}");
                let columns: Vec<u64> = if grid.k() <= 8 {
                    (0..cells).collect()
                } else {
                    // Inside-ness is monotone along a row: the columns at the bounds decide.
                    [a.saturating_sub(1), a, b.saturating_sub(1), b]
                        .into_iter()
                        .filter(|&j| j < cells)
                        .collect()
                };
                for j in columns {
                    let (inside, outside) = settled(grid, i, j);
                    assert_eq!(j < a, inside, "{grid} cell ({i}, {j}) wholly inside");
                    assert_eq!(j >= b, outside, "{grid} cell ({i}, {j}) wholly outside");
                }
            }
        }
    }

    #[test]
    fn untested_rounds_are_settled() {
        let lanes = LANES as u64;
        for k in 7..=10 {
            let grid = Grid::new(k).unwrap();
            let cells = grid.cells_per_axis();
            // Runs as whole chunks and pieces starting a few rounds in form them.
            for start in [0, 12, 60] {
                let mut t = start;
                while t + lanes <= grid.trials() {
                    let run = (grid.rounds_in_row(t) + 1).min((grid.trials() - t) / lanes);
                    let tested = rounds_to_test(grid, t, run);
                    for r in (0..tested.start).chain(tested.end..run) {
                        for l in 0..lanes {
                            let trial = t + r * lanes + l;
                            let (i, j) = (trial >> k, trial & (cells - 1));
                            let (inside, outside) = settled(grid, i, j);
                            assert!(
                                if r < tested.start { inside } else { outside },
                                "{grid} run from {t}: round {r} lane {l} in cell ({i}, {j})"
                            );
                        }
                    }
                    t += run * lanes;
                }
            }
        }
    }
}
