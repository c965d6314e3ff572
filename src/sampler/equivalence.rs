//! Every kernel against the reference: identical inside counts and identical final lane states
//! over random seeds, chunk indices, lengths (0, 1, partial rounds, many rounds) and ways of
//! cutting a chunk into calls, for every kernel this CPU runs and every AVX2 lane split. Kernels this CPU cannot run are listed by
//! `kernels_this_cpu_runs_and_skips` (run it with `--nocapture` to see the list).

use super::*;
use proptest::prelude::*;

/// A way to count trials, with a name for failure messages.
type Counter = (String, Box<dyn Fn(&mut LaneStates, u64) -> u64>);

/// Every kernel this CPU runs other than the reference, and the AVX2 kernel's other lane
/// splits (only the fastest is a [`Kernel`], but all must agree).
fn counters() -> Vec<Counter> {
    Kernel::available()
        .into_iter()
        .filter(|&k| k != Kernel::Scalar)
        .map(|k| -> Counter { (k.name().into(), Box::new(move |s, n| k.count(s, n))) })
        .chain(lane_splits())
        .collect()
}

/// Each lane split of the AVX2 kernel, where the CPU runs it.
#[cfg(target_arch = "x86_64")]
fn lane_splits() -> Vec<Counter> {
    let mut splits: Vec<Counter> = Vec::new();
    if avx2::is_supported() {
        splits.push(("avx2 8+4".into(), Box::new(avx2::count_split::<2>)));
        splits.push(("avx2 12+0".into(), Box::new(avx2::count_split::<3>)));
    }
    splits
}

/// No other splits off x86-64.
#[cfg(not(target_arch = "x86_64"))]
fn lane_splits() -> Vec<Counter> {
    Vec::new()
}

/// Counts `calls` trials in successive calls from chunk `chunk`'s fresh states with every
/// counter and with the reference, and compares each call's count and the final states.
fn check(seed: u64, chunk: u64, calls: &[u64]) -> Result<(), TestCaseError> {
    let start = LaneStates::for_chunk(seed, chunk);
    let mut expected_states = start.clone();
    let expected: Vec<u64> = calls
        .iter()
        .map(|&n| Kernel::Scalar.count(&mut expected_states, n))
        .collect();
    for (name, count) in counters() {
        let mut states = start.clone();
        let got: Vec<u64> = calls.iter().map(|&n| count(&mut states, n)).collect();
        prop_assert_eq!(&got, &expected, "{} counts, calls {:?}", name, calls);
        prop_assert_eq!(
            &states,
            &expected_states,
            "{} states, calls {:?}",
            name,
            calls
        );
    }
    Ok(())
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
        let pieces: u64 = calls.iter().map(|&n| Kernel::best().count(&mut states, n)).sum();
        prop_assert_eq!(pieces, count_chunk(Kernel::Scalar, seed, chunk, whole));
    }
}
