//! Trials per second of every sampling kernel this CPU runs (`kernel/scalar`, `kernel/portable`,
//! `kernel/avx2`, `kernel/avx512`, `kernel/neon`; the others are listed as skipped on stderr), of
//! a naive two-`f64` sampler for comparison, and of the whole runner at 1 and N workers. Fixed
//! seeds; criterion reports throughput in trials ("elements") per second.
//!
//! ```sh
//! cargo bench --bench sampling                # everything
//! cargo bench --bench sampling -- kernel/     # the kernels only
//! cargo bench --bench sampling -- kernel/avx  # the AVX2 and AVX-512 kernels side by side
//! ```

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use piest::runner::{self, RunSpec, SLICE_TRIALS};
use piest::sampler::{Kernel, LaneStates};
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
            b.iter(|| kernel.count(black_box(&mut states), black_box(TRIALS)))
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
        };
        let name = format!("{} worker{}", workers, if workers == 1 { "" } else { "s" });
        group.bench_function(name, |b| {
            b.iter(|| runner::run_all(&spec, None, &runner::Silent, &AtomicBool::new(false)))
        });
    }
    group.finish();
}

criterion_group!(benches, kernels, runner);
criterion_main!(benches);
