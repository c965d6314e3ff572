//! The exact lattice bias of piest's inside test.
//!
//! A trial's word gives the lattice point (x, y) ∈ [0, 2^32)², inside iff x² + y² < 2^64, so
//! the expected estimate is exactly `E[π̂] = 4A / 2^64` with
//! `A = #{(x, y) : x² + y² < 2^64} = Σ_x (isqrt(2^64 − 1 − x²) + 1)`. This counts A exactly
//! (2^32 columns, a few seconds in a release build on two threads) and prints the bias
//! `E[π̂] − π`.
//!
//! ```sh
//! cargo run --release --example lattice-count
//! ```

/// ⌊π · 2^126⌋ (π to 38 significant digits, as a 128-bit fixed-point number).
const PI_TIMES_2_POW_126: u128 = 0xc90f_daa2_2168_c234_c4c6_628b_80dc_1cd1;

/// The number of points (x, y) ∈ [0, 2^bits)² with x² + y² < 2^(2·bits), for `x` in `xs`.
///
/// Walks the boundary: the largest inside `y` only falls as `x` grows, so each column costs a
/// few additions instead of a square root.
fn count_columns(bits: u32, xs: std::ops::Range<u64>) -> u128 {
    let limit = 1u128 << (2 * bits);
    let Some(first) = xs.clone().next() else {
        return 0;
    };
    // Largest y in range with first² + y² < limit (y² ≤ limit − 1 − first²).
    let mut y = ((limit - 1 - u128::from(first) * u128::from(first)) as u64)
        .isqrt()
        .min((1 << bits) - 1);
    let mut total = 0u128;
    for x in xs {
        let xx = u128::from(x) * u128::from(x);
        while xx + u128::from(y) * u128::from(y) >= limit {
            y -= 1;
        }
        total += u128::from(y) + 1;
    }
    total
}

/// The count over all columns, split over the available cores.
fn lattice_count(bits: u32) -> u128 {
    let side = 1u64 << bits;
    let threads = std::thread::available_parallelism().map_or(1, usize::from) as u64;
    let step = side.div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || count_columns(bits, t * step..((t + 1) * step).min(side))))
            .collect();
        parts.into_iter().map(|p| p.join().unwrap_or(0)).sum()
    })
}

fn main() {
    // The walk against brute force on small lattices first.
    for bits in 1..=10 {
        let side = 1u64 << bits;
        let brute = (0..side)
            .flat_map(|x| (0..side).map(move |y| (x, y)))
            .filter(|&(x, y)| x * x + y * y < 1 << (2 * bits))
            .count() as u128;
        assert_eq!(lattice_count(bits), brute, "{bits}-bit lattice");
    }
    assert_eq!(
        (PI_TIMES_2_POW_126 >> 64) as f64 / (1u64 << 62) as f64,
        std::f64::consts::PI
    );

    let started = std::time::Instant::now();
    let a = lattice_count(32);
    // E[π̂] − π = 4A/2^64 − π = (A · 2^64 − π · 2^126) / 2^126.
    let diff = (a << 64) as i128 - PI_TIMES_2_POW_126 as i128;
    let bias = diff as f64 / 2f64.powi(126);
    println!("A = {a}");
    println!("E[pi_hat] = 4A / 2^64 = A / 2^62");
    println!("E[pi_hat] - pi = {bias:.6e}");
    println!(
        "(4 · 2^-32 = {:.6e}, the Gauss circle estimate)",
        4.0 / 2f64.powi(32)
    );
    println!("counted in {:.1} s", started.elapsed().as_secs_f64());
}
