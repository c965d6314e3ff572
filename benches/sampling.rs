//! Trials per second of every sampling kernel this CPU runs (`kernel/scalar`, `kernel/portable`,
//! `kernel/avx2`, `kernel/avx512`, `kernel/neon`; the others are listed as skipped on stderr), of
//! a naive two-`f64` sampler for comparison, of each kernel's two methods side by side on whole
//! chunks of 4^10 trials (`method/plain/avx512`, `method/stratified/avx512`, ...), and of the
//! whole runner at 1 and N workers. Fixed seeds; criterion reports throughput in trials
//! ("elements") per second.
//!
//! ```sh
//! cargo bench --bench sampling                  # everything
//! cargo bench --bench sampling -- kernel/       # the kernels only
//! cargo bench --bench sampling -- kernel/avx    # the AVX2 and AVX-512 kernels side by side
//! cargo bench --bench sampling -- 'method/.*/avx512'  # one kernel, plain beside stratified
//! ```

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use piest::runner::{self, RunSpec, SLICE_TRIALS};
use piest::sampler::{Design, Grid, Kernel, LaneStates, Method};
use piest::{Plan, plan::DEFAULT_CHUNK_SIZE};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// One runner block: what a kernel counts between two looks at the cancellation flag.
const TRIALS: u64 = SLICE_TRIALS;

fn kernels(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernel");
    group.throughput(Throughput::Elements(TRIALS));
    group.measurement_time(Duration::from_secs(3));
    for kernel in Kernel::all() {
        let missing = kernel.missing_features();
        if !missing.is_empty() {
            eprintln!(
                "kernel/{kernel}: skipped, this CPU is missing: {}",
                missing.join(", ")
            );
            continue;
        }
        let mut states = LaneStates::for_chunk(1, 2);
        group.bench_function(kernel.name(), |b| {
            b.iter(|| kernel.count(Design::Plain, black_box(&mut states), 0, black_box(TRIALS)))
        });
    }
    #[cfg(target_arch = "x86_64")]
    if piest::sampler::avx2::is_supported() {
        // The other lane split: 8 lanes in ymm registers, 4 on the integer units.
        let mut states = LaneStates::for_chunk(1, 2);
        group.bench_function("avx2 8+4 split", |b| {
            b.iter(|| piest::sampler::avx2::count_split::<2>(black_box(&mut states), TRIALS))
        });
    }
    // What a first attempt looks like: two uniform f64 per trial from rand's SmallRng and a
    // floating-point test (not piest's algorithm; for the README's comparison only).
    let mut rng = SmallRng::seed_from_u64(1);
    group.bench_function("naive f64 (rand SmallRng)", |b| {
        b.iter(|| {
            let mut inside = 0u64;
            for _ in 0..TRIALS {
                let x: f64 = rng.random();
                let y: f64 = rng.random();
                inside += u64::from(x * x + y * y <= 1.0);
            }
            black_box(inside)
        })
    });
    group.finish();
}

/// Each kernel counting whole chunks of `4^K` trials with each method, interleaved kernel by
/// kernel so that a kernel's two figures are taken close together.
fn methods(c: &mut Criterion) {
    const K: u32 = 10;
    let grid = Grid::new(K).expect("a valid grid");
    let trials = grid.trials();
    let mut group = c.benchmark_group("method");
    group.throughput(Throughput::Elements(trials));
    group.measurement_time(Duration::from_secs(3));
    for kernel in Kernel::available() {
        if kernel == Kernel::Scalar {
            continue;
        }
        for method in Method::ALL {
            let design = method.design(trials).expect("4^K suits every method");
            let mut chunk = 0;
            group.bench_function(format!("{method}/{kernel}"), |b| {
                b.iter(|| {
                    chunk += 1;
                    let mut states = LaneStates::for_chunk(1, chunk);
                    kernel.count(design, black_box(&mut states), 0, black_box(trials))
                })
            });
        }
    }
    group.finish();
}

fn runner(c: &mut Criterion) {
    let trials = 1 << 28;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut group = c.benchmark_group("runner");
    group.throughput(Throughput::Elements(trials));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    let mut counts = vec![1];
    if cores > 1 {
        counts.push(cores);
    }
    for workers in counts {
        let spec = RunSpec {
            plan: Plan::new(trials, DEFAULT_CHUNK_SIZE).expect("valid plan"),
            seed: 7,
            workers: NonZeroUsize::new(workers).expect("at least one worker"),
            kernel: Kernel::best(),
            method: piest::sampler::Method::Plain,
        };
        let name = format!("{} worker{}", workers, if workers == 1 { "" } else { "s" });
        group.bench_function(name, |b| {
            b.iter(|| runner::run_all(&spec, None, &runner::Silent, &AtomicBool::new(false)))
        });
    }
    group.finish();
}

criterion_group!(benches, kernels, methods, runner);
criterion_main!(benches);
