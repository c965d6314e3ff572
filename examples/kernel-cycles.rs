//! Cycles per trial of each kernel, for profiling on a machine without hardware counters.
//!
//! Times one block of trials many times with the time-stamp counter and keeps the fastest and
//! the median run; a dependent chain of one-cycle additions converts TSC ticks to core cycles
//! (the TSC runs at a fixed rate, the core may not). The fastest block is the figure that other
//! processes on a shared machine disturb least. Rows marked `S` are the stratified method (a
//! 4^10-trial chunk) of the kernel above them. A naive sampler (two `f64` per trial from
//! `rand`'s `SmallRng`) is timed alongside for comparison.
//!
//! ```sh
//! cargo run --release --example kernel-cycles [-- REPEATS]
//! ```

#[cfg(target_arch = "x86_64")]
fn main() {
    use piest::sampler::{Design, Grid, Kernel, LaneStates, avx2, avx512};
    use rand::rngs::SmallRng;
    use rand::{RngExt, SeedableRng};
    use std::hint::black_box;

    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    // One runner block for the fast kernels; an eighth of it for the slow reference.
    let block = 12 << 16;
    let tsc_hz = tsc_ticks_per_second();
    println!(
        "TSC: {:.4} GHz; fastest of {repeats} timed blocks per kernel",
        tsc_hz / 1e9
    );
    println!(
        "core clock: {:.4} GHz (TSC rate × core cycles per TSC tick from the add chain)",
        tsc_hz * core_cycles_per_tsc_tick() / 1e9
    );

    let time = |name: &str, trials: u64, f: &dyn Fn(&mut LaneStates, u64) -> u64| {
        let mut states = LaneStates::for_chunk(1, 2);
        let mut ticks = Vec::with_capacity(repeats);
        let mut ratios = Vec::with_capacity(repeats);
        for _ in 0..repeats {
            // Calibrate next to each timing: the core clock drifts with load and temperature.
            ratios.push(core_cycles_per_tsc_tick());
            let start = tsc();
            black_box(f(black_box(&mut states), black_box(trials)));
            ticks.push(tsc() - start);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let ratio = median(&mut ratios);
        let mut ticks: Vec<f64> = ticks.iter().map(|&t| t as f64 / trials as f64).collect();
        let ticks_min = ticks.iter().copied().fold(f64::MAX, f64::min);
        let ticks_median = median(&mut ticks);
        println!(
            "{name:<11} TSC ticks/trial min {ticks_min:.3} median {ticks_median:.3}   \
             core cycles/trial ≈ {:.3} (core/TSC {ratio:.3})   {:.3e} trials/s",
            ticks_min * ratio,
            tsc_hz / ticks_min
        );
    };
    // Rows marked S count the first `block` trials of a 4^10-trial stratified chunk, each
    // kernel right after its plain row.
    let strat = Design::Stratified(Grid::new(10).expect("a valid grid"));
    time("scalar", block / 8, &|s, n| {
        Kernel::Scalar.count(Design::Plain, s, 0, n)
    });
    time("portable", block, &|s, n| {
        Kernel::Portable.count(Design::Plain, s, 0, n)
    });
    time("portable S", block, &|s, n| {
        Kernel::Portable.count(strat, s, 0, n)
    });
    if avx2::is_supported() {
        time("avx2", block, &|s, n| avx2::count_split::<3>(s, n));
        time("avx2 S", block, &|s, n| Kernel::Avx2.count(strat, s, 0, n));
        time("avx2 8+4", block, &|s, n| avx2::count_split::<2>(s, n));
    }
    if avx512::is_supported() {
        time("avx512", block, &|s, n| avx512::count(s, n));
        time("avx512 S", block, &|s, n| {
            Kernel::Avx512.count(strat, s, 0, n)
        });
    } else {
        println!(
            "avx512      skipped: this CPU lacks {}",
            avx512::missing_features().join(", ")
        );
    }
    // For comparison, not piest's algorithm: two uniform f64 per trial from rand's SmallRng.
    let rng = std::cell::RefCell::new(SmallRng::seed_from_u64(1));
    time("naive f64", block / 8, &|_, n| {
        let mut rng = rng.borrow_mut();
        let mut inside = 0;
        for _ in 0..n {
            let (x, y): (f64, f64) = (rng.random(), rng.random());
            inside += u64::from(x * x + y * y <= 1.0);
        }
        inside
    });
}

#[cfg(target_arch = "x86_64")]
fn tsc() -> u64 {
    // SAFETY: RDTSC is available on every x86-64 CPU.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// The TSC's rate, against the OS clock over a tenth of a second.
#[cfg(target_arch = "x86_64")]
fn tsc_ticks_per_second() -> f64 {
    let (start, ticks) = (std::time::Instant::now(), tsc());
    std::thread::sleep(std::time::Duration::from_millis(100));
    (tsc() - ticks) as f64 / start.elapsed().as_secs_f64()
}

/// Core cycles per TSC tick, from a chain of dependent additions (one cycle each).
#[cfg(target_arch = "x86_64")]
fn core_cycles_per_tsc_tick() -> f64 {
    const ITERATIONS: u64 = 100_000;
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = tsc();
        let mut x = 0u64;
        // SAFETY: only register arithmetic on the two operands.
        unsafe {
            core::arch::asm!(
                "2:",
                "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                "dec {n}",
                "jnz 2b",
                x = inout(reg) x,
                n = inout(reg) ITERATIONS => _,
                options(nomem, nostack),
            );
        }
        std::hint::black_box(x);
        best = best.min((tsc() - start) as f64);
    }
    (8 * ITERATIONS) as f64 / best
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    eprintln!("kernel-cycles reads the x86-64 time-stamp counter; nothing to do on this target");
}
