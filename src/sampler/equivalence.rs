//! Every kernel against the reference: identical inside counts and identical final lane states
//! over random seeds, chunk indices, lengths (0, 1, partial rounds, many rounds) and ways of
//! cutting a chunk into calls (starting mid-round too), for every kernel this CPU runs and every
//! AVX2 lane split, for the plain and the stratified methods; and small stratified chunks against
//! a brute-force reading of the specification. Kernels this CPU cannot run are listed by
//! `kernels_this_cpu_runs_and_skips` (run it with `--nocapture` to see the list).

use super::*;
use proptest::prelude::*;

/// A way to count trials (`design`, states, first trial, trials), with a name for failure
/// messages.
type Counter = (
    String,
    Box<dyn Fn(Design, &mut LaneStates, u64, u64) -> u64>,
);

/// Every kernel this CPU runs other than the reference, and, for plain pieces from a round's
/// start, the AVX2 kernel's other lane splits (only the fastest is a [`Kernel`], but all must
/// agree).
fn counters(splits: bool) -> Vec<Counter> {
    Kernel::available()
        .into_iter()
        .filter(|&k| k != Kernel::Scalar)
        .map(|k| -> Counter {
            (
                k.name().into(),
                Box::new(move |d, s, f, n| k.count(d, s, f, n)),
            )
        })
        .chain(if splits { lane_splits() } else { Vec::new() })
        .collect()
}

/// Each lane split of the AVX2 kernel, where the CPU runs it (plain only).
#[cfg(target_arch = "x86_64")]
fn lane_splits() -> Vec<Counter> {
    let mut splits: Vec<Counter> = Vec::new();
    if avx2::is_supported() {
        splits.push((
            "avx2 8+4".into(),
            Box::new(|_, s, _, n| avx2::count_split::<2>(s, n)),
        ));
        splits.push((
            "avx2 12+0".into(),
            Box::new(|_, s, _, n| avx2::count_split::<3>(s, n)),
        ));
    }
    splits
}

/// No other splits off x86-64.
#[cfg(not(target_arch = "x86_64"))]
fn lane_splits() -> Vec<Counter> {
    Vec::new()
}

/// Counts `calls` trials of plain chunk `chunk` in successive calls from its fresh states with
/// every counter and with the reference, and compares each call's count and the final states.
/// Every call but the last must be whole rounds (the lane splits count from a round's start).
fn check(seed: u64, chunk: u64, calls: &[u64]) -> Result<(), TestCaseError> {
    check_design(Design::Plain, seed, chunk, 0, calls, true)
}

/// Counts `calls` trials of a chunk of `design` in successive pieces starting at trial `first`
/// (from chunk `chunk`'s fresh states, which the count does not care are not the states after
/// `first` trials) with every counter and with the reference, and compares each piece's count
/// and the final states.
fn check_design(
    design: Design,
    seed: u64,
    chunk: u64,
    first: u64,
    calls: &[u64],
    splits: bool,
) -> Result<(), TestCaseError> {
    let start = LaneStates::for_chunk(seed, chunk);
    let run = |count: &dyn Fn(Design, &mut LaneStates, u64, u64) -> u64| {
        let mut states = start.clone();
        let mut at = first;
        let counts: Vec<u64> = calls
            .iter()
            .map(|&n| {
                let c = count(design, &mut states, at, n);
                at += n;
                c
            })
            .collect();
        (counts, states)
    };
    let (expected, expected_states) = run(&|d, s, f, n| Kernel::Scalar.count(d, s, f, n));
    for (name, count) in counters(splits) {
        let (got, states) = run(&*count);
        prop_assert_eq!(
            &got,
            &expected,
            "{} counts, {:?} from {} calls {:?}",
            name,
            design,
            first,
            calls
        );
        prop_assert_eq!(
            &states,
            &expected_states,
            "{} states, {:?} from {} calls {:?}",
            name,
            design,
            first,
            calls
        );
    }
    Ok(())
}

/// The stratified count of the first `trials` trials of a chunk, straight from the
/// specification: one word at a time from [`chunk_words`], its cell, its point and the test in
/// 128-bit arithmetic.
fn brute_force_stratified(k: u32, seed: u64, chunk: u64, trials: u64) -> u64 {
    let cells = 1u64 << k;
    chunk_words(seed, chunk)
        .zip(0..trials)
        .filter(|&(w, t)| {
            let (i, j) = (t / cells, t % cells);
            let x = i * (1 << (32 - k)) + (w >> 32) / (1 << k);
            let y = j * (1 << (32 - k)) + (w % (1 << 32)) / (1 << k);
            u128::from(x) * u128::from(x) + u128::from(y) * u128::from(y) < 1u128 << 64
        })
        .count() as u64
}

/// Prints which kernels the equivalence tests run on this CPU and which they skip, and why:
/// `.ci/run` runs this test with `--nocapture` so that the list reaches the log.
#[test]
fn kernels_this_cpu_runs_and_skips() {
    for kernel in Kernel::all() {
        let missing = kernel.missing_features();
        if missing.is_empty() {
            println!("equivalence: {kernel:<8} tested against the reference");
        } else {
            println!(
                "equivalence: {kernel:<8} SKIPPED, this CPU is missing: {}",
                missing.join(", ")
            );
        }
    }
    assert!(Kernel::available().contains(&Kernel::best()));
}

#[test]
fn every_kernel_runs_on_this_machine_as_reported() {
    let available = Kernel::available();
    assert_eq!(available[0], Kernel::Scalar);
    assert!(available.contains(&Kernel::best()));
    assert!(available.contains(&Kernel::Portable));
    #[cfg(target_arch = "x86_64")]
    assert_eq!(
        available.contains(&Kernel::Avx2),
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("bmi2")
    );
    #[cfg(target_arch = "x86_64")]
    assert_eq!(
        available.contains(&Kernel::Avx512),
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("popcnt")
    );
    #[cfg(target_arch = "aarch64")]
    assert_eq!(Kernel::best(), Kernel::Neon);
    let mut names: Vec<&str> = Kernel::all().iter().map(|k| k.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Kernel::all().len(), "names are unique");
}

#[test]
fn edge_lengths_match_the_reference() {
    let lane = LANES as u64;
    let lengths = [
        0,
        1,
        2,
        lane - 1,
        lane,
        lane + 1,
        2 * lane - 1,
        2 * lane,
        2 * lane + 1,
        3 * lane + 5,
        1000 * lane + 7,
    ];
    for (seed, chunk) in [(0, 0), (1, 7), (u64::MAX, u64::MAX)] {
        for n in lengths {
            check(seed, chunk, &[n]).unwrap();
            // Whole rounds first, then the rest (how the runner counts a chunk in blocks).
            check(seed, chunk, &[n / lane * lane, n % lane]).unwrap();
            check(seed, chunk, &[lane, n]).unwrap();
            check(seed, chunk, &[0, lane, 0, 3 * lane, n]).unwrap();
        }
    }
}

#[test]
fn unknown_and_unsupported_kernel_names_are_refused() {
    assert_eq!(Kernel::from_name("auto"), Ok(Kernel::best()));
    assert_eq!(Kernel::from_name(" AUTO "), Ok(Kernel::best()));
    assert_eq!(Kernel::from_name(""), Ok(Kernel::best()));
    for kernel in Kernel::all() {
        let parsed = Kernel::from_name(&kernel.name().to_uppercase());
        if kernel.is_supported() {
            assert_eq!(parsed, Ok(kernel));
        } else {
            let err = parsed.unwrap_err();
            let text = err.to_string();
            assert_eq!(
                err,
                KernelError::Unsupported {
                    kernel,
                    missing: kernel.missing_features()
                }
            );
            assert!(text.contains(kernel.name()), "{text}");
            assert!(text.contains(kernel.missing_features()[0]), "{text}");
            assert!(!text.contains('\n'), "one line: {text}");
        }
    }
    let err = Kernel::from_name("gpu").unwrap_err();
    assert_eq!(err, KernelError::Unknown { name: "gpu".into() });
    assert_eq!(
        err.to_string(),
        "unknown kernel 'gpu': expected auto, scalar, portable, avx2, avx512, neon"
    );
}

#[test]
fn unsupported_kernels_are_explained_in_one_line() {
    let err = KernelError::Unsupported {
        kernel: Kernel::Avx512,
        missing: vec!["avx512f", "avx512vl"],
    };
    let text = err.to_string();
    assert!(
        text.starts_with("the avx512 kernel cannot run on this CPU: it lacks avx512f, avx512vl;"),
        "{text}"
    );
    let err = KernelError::Unsupported {
        kernel: Kernel::Neon,
        missing: vec!["aarch64 CPU"],
    };
    assert!(
        err.to_string()
            .starts_with("the neon kernel cannot run on this CPU: it needs an aarch64 CPU;"),
        "{err}"
    );
}

/// Cases per property: `PROPTEST_CASES` when set (the emulated aarch64 CI step runs fewer),
/// else 64.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn every_kernel_matches_the_reference(
        seed in any::<u64>(),
        chunk in any::<u64>(),
        trials in prop_oneof![0u64..40, 0u64..5_000, 0u64..60_000],
    ) {
        check(seed, chunk, &[trials])?;
    }

    #[test]
    fn counting_in_pieces_changes_nothing(
        seed in any::<u64>(),
        chunk in any::<u64>(),
        rounds in proptest::collection::vec(0u64..300, 0..5),
        last in 0u64..2_000,
    ) {
        // Every call but the last is a whole number of rounds, as `Kernel::count` requires.
        let mut calls: Vec<u64> = rounds.iter().map(|r| r * LANES as u64).collect();
        calls.push(last);
        check(seed, chunk, &calls)?;
        // And the count in pieces is the count of the whole chunk.
        let whole: u64 = calls.iter().sum();
        let mut states = LaneStates::for_chunk(seed, chunk);
        let mut at = 0;
        let pieces: u64 = calls
            .iter()
            .map(|&n| {
                at += n;
                Kernel::best().count(Design::Plain, &mut states, at - n, n)
            })
            .sum();
        prop_assert_eq!(pieces, count_chunk(Kernel::Scalar, seed, chunk, whole));
    }
}

#[test]
fn small_stratified_chunks_match_the_specification() {
    for k in 1..=6 {
        let grid = Grid::new(k).unwrap();
        for (seed, chunk) in [(0, 0), (1, 7), (u64::MAX, 3)] {
            let expected = brute_force_stratified(k, seed, chunk, grid.trials());
            for kernel in Kernel::available() {
                let got = count_design_chunk(
                    kernel,
                    Design::Stratified(grid),
                    seed,
                    chunk,
                    grid.trials(),
                );
                assert_eq!(got, expected, "{kernel} k {k} seed {seed} chunk {chunk}");
            }
        }
    }
}

#[test]
fn stratified_edge_pieces_match_the_reference() {
    for k in [1, 2, 3, 4, 5, 7, 12, 16] {
        let grid = Grid::new(k).unwrap();
        let n = grid.trials();
        let design = Design::Stratified(grid);
        // The end of the chunk (4^k ≡ 4 mod 12: a partial round), a start mid-round, the last
        // rows of the largest grids.
        let tail = n.min(1000);
        for (first, calls) in [
            (0, vec![n.min(5000)]),
            (n - tail, vec![tail]),
            (n - tail, vec![1, 11, 5, tail.saturating_sub(17)]),
            (n - 4, vec![4]),
            (n - 4, vec![3, 1]),
            (n - tail, vec![tail / 2, 0, tail - tail / 2]),
        ] {
            // Clipped to the chunk (the smallest has 4 trials).
            let mut left = n - first;
            let calls: Vec<u64> = calls
                .iter()
                .map(|&c| {
                    let c = c.min(left);
                    left -= c;
                    c
                })
                .collect();
            check_design(design, 4, 9, first, &calls, false).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn every_kernel_counts_stratified_pieces_as_the_reference(
        seed in any::<u64>(),
        chunk in any::<u64>(),
        k in 1u32..=16,
        start in any::<u64>(),
        pieces in proptest::collection::vec(0u64..3_000, 1..5),
    ) {
        let grid = Grid::new(k).unwrap();
        let n = grid.trials();
        let total: u64 = pieces.iter().sum::<u64>().min(n);
        // Pieces that fit the chunk, cut anywhere (mid-round too), starting anywhere.
        let mut left = total;
        let calls: Vec<u64> = pieces.iter().map(|&p| { let c = p.min(left); left -= c; c }).collect();
        let first = start % (n - total + 1);
        check_design(Design::Stratified(grid), seed, chunk, first, &calls, false)?;
    }

    #[test]
    fn every_kernel_counts_plain_pieces_cut_anywhere_as_the_reference(
        seed in any::<u64>(),
        chunk in any::<u64>(),
        first in 0u64..100,
        calls in proptest::collection::vec(0u64..3_000, 1..5),
    ) {
        check_design(Design::Plain, seed, chunk, first, &calls, false)?;
    }

    #[test]
    fn whole_stratified_chunks_match_the_specification(
        seed in any::<u64>(),
        chunk in any::<u64>(),
        k in 1u32..=7,
    ) {
        let grid = Grid::new(k).unwrap();
        let expected = brute_force_stratified(k, seed, chunk, grid.trials());
        for kernel in Kernel::available() {
            let got = count_design_chunk(kernel, Design::Stratified(grid), seed, chunk, grid.trials());
            prop_assert_eq!(got, expected, "{} k {}", kernel, k);
        }
    }
}
