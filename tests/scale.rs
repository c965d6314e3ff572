//! `piest scale` as a user meets it: worker lists, every output format, the plot, errors, signals.

mod common;

use common::{Piest, succeeds};

/// Small sweeps: 200,000 trials in 10 chunks take about a millisecond a run.
const SMALL: [&str; 4] = ["--trials", "2e5", "--chunk-size", "2e4"];

/// Runs `piest scale SMALL ARGS` and returns its stdout; it must succeed.
fn scale(args: &[&str]) -> String {
    let env = Piest::new();
    let out = succeeds(env.std_cmd().arg("scale").args(SMALL).args(args));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn json_has_every_raw_timing_and_one_agreed_count() {
    let text = scale(&["-w", "1,2,3", "--runs", "3", "--warmup", "2", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&text).expect("one JSON object");
    for key in [
        "trials",
        "seed",
        "chunk_size",
        "chunks",
        "kernel",
        "algorithm",
        "inside",
        "pi",
        "runs",
        "warmup",
        "order",
        "cache",
        "cores",
        "baseline",
        "rows",
        "amdahl",
        "warnings",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["all_runs_agree"], true);
    assert_eq!(v["cache"], "bypassed");
    assert_eq!(v["order"], "interleaved");
    assert_eq!(v["trials"], 200_000);
    assert_eq!(v["chunks"], 10);
    let rows = v["rows"].as_array().unwrap();
    let workers: Vec<u64> = rows
        .iter()
        .map(|r| r["workers"].as_u64().unwrap())
        .collect();
    assert_eq!(workers, [1, 2, 3]);
    for row in rows {
        assert_eq!(row["times_s"].as_array().unwrap().len(), 3, "{row}");
        assert_eq!(row["warmup_times_s"].as_array().unwrap().len(), 2, "{row}");
        let (min, median, max) = (
            row["min_s"].as_f64().unwrap(),
            row["median_s"].as_f64().unwrap(),
            row["max_s"].as_f64().unwrap(),
        );
        assert!(0.0 < min && min <= median && median <= max, "{row}");
        let p = row["workers"].as_f64().unwrap();
        let speedup = row["speedup"].as_f64().unwrap();
        assert!((row["efficiency"].as_f64().unwrap() - speedup / p).abs() < 1e-12);
    }
    assert_eq!(rows[0]["speedup"], 1.0);
    assert!(rows[0]["serial_fraction"].is_null());
    assert!(rows[1]["serial_fraction"].is_f64());
    assert_eq!(v["baseline"]["workers"], 1);
    // The agreed count is the count of a plain estimate with the same trials, seed and chunks.
    let plain = common::json(&SMALL);
    assert_eq!(v["inside"], plain["inside"]);
}

#[test]
fn csv_and_markdown_have_one_row_per_worker_count() {
    let csv_text = scale(&["-w", "1..=3", "--runs", "2", "--csv"]);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "workers");
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 3, "{csv_text}");
    let inside = headers.iter().position(|h| h == "inside").unwrap();
    assert!(records.iter().all(|r| r[inside] == records[0][inside]));
    let workers: Vec<&str> = records.iter().map(|r| &r[0]).collect();
    assert_eq!(workers, ["1", "2", "3"]);

    let md = scale(&["-w", "1,2,4..6", "--runs", "2", "--markdown"]);
    let table: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert!(table[0].starts_with("| workers | median |"), "{md}");
    assert!(table[1].starts_with("| ---: |"), "{md}");
    let rows: Vec<&str> = table[2..].to_vec();
    assert_eq!(rows.len(), 4, "1, 2, 4, 5:\n{md}");
    assert!(
        rows[0].starts_with("| 1 |") && rows[3].starts_with("| 5"),
        "{md}"
    );
    assert!(md.contains("cache is bypassed"), "{md}");
}

#[test]
fn table_is_aligned_and_states_how_it_was_measured() {
    let text = scale(&["-w", "2,1", "--runs", "2"]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("200,000 trials"), "{text}");
    assert!(lines[0].contains("interleaved") && lines[0].contains("cache bypassed"));
    assert!(lines[1].starts_with("workers") && lines[1].contains("serial fraction"));
    assert!(lines[2].trim_start().starts_with("1 "), "{text}");
    assert!(lines[3].trim_start().starts_with("2 "), "{text}");
    // Right-aligned columns: the median column ends at the same place on every line.
    let end_of_median = |l: &str| l.find(" ms").or_else(|| l.find(" µs"));
    assert_eq!(end_of_median(lines[2]), end_of_median(lines[3]), "{text}");
    assert!(text.contains("Amdahl fit"), "{text}");
    assert!(text.contains("all 6 runs agree: inside = "), "{text}");
}

#[test]
fn without_one_worker_the_baseline_is_named() {
    let text = scale(&["-w", "2,3", "--runs", "1", "--warmup", "0"]);
    assert!(
        text.contains("no 1-worker row: speed-ups are against 2 workers"),
        "{text}"
    );
}

#[test]
fn plot_is_well_formed_svg_with_its_axes_and_legend_in_text() {
    let env = Piest::new();
    let path = env.dir.path().join("scale.svg");
    succeeds(
        env.std_cmd()
            .arg("scale")
            .args(SMALL)
            .args(["-w", "1,2,4", "--runs", "2", "--plot"])
            .arg(&path),
    );
    let svg = std::fs::read_to_string(&path).expect("the plot was written");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect();
    for needle in [
        "workers",
        "speed-up",
        "ideal: speed-up = workers",
        "measured: median",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(needle)),
            "{needle}: {texts:?}"
        );
    }
    for tick in ["1", "2", "4"] {
        assert!(texts.iter().any(|t| t == tick), "x tick {tick}: {texts:?}");
    }
    assert!(texts.iter().any(|t| t.ends_with('×')), "y ticks: {texts:?}");
    // The labels name a generic font family, so they render without any particular font.
    let families: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.attribute("font-family"))
        .collect();
    assert!(!families.is_empty() && families.iter().all(|f| *f == "sans-serif"));
}

#[test]
fn bad_scale_input_exits_2_with_one_line_and_no_stdout() {
    let cases: &[(&[&str], &str)] = &[
        (&["-w", "0"], "at least 1"),
        (&["-w", "a,b"], "worker count 'a'"),
        (&["-w", "4..2"], "empty range '4..2'"),
        (&["-w", ""], "empty list"),
        (&["-w", "1,,2"], "empty item"),
        (&["-w", "5000"], "the most is 1024"),
        (&["--runs", "0"], "--runs"),
        (&["--warmup", "-1"], "--warmup"),
        (&["--trials", "1.5"], "'1.5'"),
        (&["--plot", "scale.png"], ".svg"),
        (&["--plot", "no/such/dir/scale.svg"], "does not exist"),
        (&["--json", "--csv"], "--csv"),
        (&["--markdown", "--json"], "--json"),
        // A sweep bypasses the cache and has no per-chunk lines: it accepts no such flags.
        (&["--no-cache"], "--no-cache"),
        (&["--cache-dir", "/tmp"], "--cache-dir"),
        (&["-v"], "-v"),
    ];
    common::assert_usage_errors(&["scale"], cases);
}

#[test]
fn help_documents_every_scale_flag_with_an_example() {
    common::assert_help_examples(
        &["scale"],
        &[
            "--trials",
            "--workers",
            "--runs",
            "--warmup",
            "--seed",
            "--chunk-size",
            "--json",
            "--csv",
            "--markdown",
            "--plot",
        ],
    );
    let env = Piest::new();
    let top = env.cmd().arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&top.stdout).contains("scale"));
}

#[test]
fn a_fit_from_one_worker_count_says_it_is_an_extrapolation_with_its_interval() {
    let text = scale(&["-w", "1,2", "--runs", "4", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&text).expect("one JSON object");
    let fit = &v["amdahl"];
    if fit.is_null() {
        eprintln!(
            "SKIPPED: this machine has {} core(s); an Amdahl fit needs a row of 2 to cores workers",
            v["cores"]
        );
        return;
    }
    assert_eq!(fit["fit_workers"], serde_json::json!([2]));
    assert_eq!(fit["extrapolation"], true);
    let f = fit["serial_fraction"].as_f64().expect("a fraction");
    let ci = fit["serial_fraction_ci95"].as_array().expect("an interval");
    let (low, high) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
    assert!(low <= f && f <= high, "{low} ≤ {f} ≤ {high}");
    assert!(fit["max_speedup_ci95"].is_array());
    let table = scale(&["-w", "1,2", "--runs", "4"]);
    assert!(table.contains("over 2 workers only"), "{table}");
    assert!(table.contains("(95%: "), "{table}");
}
