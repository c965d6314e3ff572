//! The per-dart variance of stratified sampling relative to plain, measured against the theory:
//! for several chunk sizes `4^k`, the sample variance of many chunks' inside counts, as
//! `16 Var(c) / (n π(4 − π))`, beside `16 Σp(1 − p) / (n π(4 − π))` from the cells' areas
//! (`piest::stats::strata::chunk_count_variance`), and the same for plain chunks of the same
//! size.
//!
//! ```sh
//! cargo run --release --example stratified-variance [-- CHUNKS]
//! ```

use piest::Kernel;
use piest::sampler::{Design, Grid, count_design_chunk};
use piest::stats::replicates::Replicates;
use piest::stats::strata::chunk_count_variance;

fn main() {
    let chunks: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let plain_per_dart = std::f64::consts::PI * (4.0 - std::f64::consts::PI);
    println!(
        "kernel {}, {chunks} chunks per size, seed 1",
        Kernel::best()
    );
    println!("chunk   K      ratio measured  ratio theory  measured/theory  plain ratio (≈1)");
    for k in [4, 6, 8, 10, 11] {
        let grid = Grid::new(k).expect("a valid grid");
        let n = grid.trials();
        let variance = |design: Design| {
            let mut r = Replicates::EMPTY;
            for c in 0..chunks {
                r.push(count_design_chunk(Kernel::best(), design, 1, c, n));
            }
            let m = r.chunks as f64;
            r.spread().expect("consistent sums") as f64 / (m * (m - 1.0))
        };
        let per_dart = |v: f64| 16.0 * v / (n as f64 * plain_per_dart);
        let measured = per_dart(variance(Design::Stratified(grid)));
        let theory = per_dart(chunk_count_variance(grid));
        let plain = per_dart(variance(Design::Plain));
        println!(
            "{grid:<6} {:<6} {measured:<15.3e} {theory:<13.3e} {:<16.3} {plain:.3}",
            grid.cells_per_axis(),
            measured / theory
        );
    }
}
