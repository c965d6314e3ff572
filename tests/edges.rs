//! Small edges a new user hits: `~` in paths, a stray number, the rate of cached runs, output
//! to a full disk, a plot that cannot be written whole, OS errors named once, ranges stated in
//! refusals, the interval as printed, and a flag given on both sides of a subcommand.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{Piest, assert_usage_errors, json_of};
use serde_json::Value;

/// Runs `piest ARGS` with `HOME` set to a fresh folder and the working directory another, with
/// `PIEST_CACHE_DIR` set to `cache_var` or unset; asserts success and that no folder named `~`
/// was made, and returns the home folder and stdout.
fn run_at_home(env: &Piest, cache_var: Option<&str>, args: &[&str]) -> (PathBuf, String) {
    let home = env.dir.path().join("home");
    let cwd = env.dir.path().join("cwd");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    let mut cmd = env.std_cmd();
    cmd.env("HOME", &home)
        .env_remove("XDG_CACHE_HOME")
        .current_dir(&cwd);
    match cache_var {
        Some(value) => cmd.env("PIEST_CACHE_DIR", value),
        None => cmd.env_remove("PIEST_CACHE_DIR"),
    };
    let out = cmd.args(args).output().expect("run piest");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    assert!(
        !cwd.join("~").exists(),
        "{args:?}: a folder named ~ was made"
    );
    (home, String::from_utf8(out.stdout).expect("UTF-8"))
}

/// Every path-valued flag and variable, as (command, flag or variable): the list the `~` tests
/// below are made from, and that [`every_path_flag_has_a_tilde_test`] checks against `--help`.
const PATH_INPUTS: &[(&str, &str)] = &[
    ("", "--cache-dir"),
    ("", "--plot"),
    ("", "PIEST_CACHE_DIR"),
    ("cache", "--cache-dir"),
    ("cache info", "--cache-dir"),
    ("darts", "--plot"),
    ("scale", "--plot"),
    ("merge", "FILE"),
    ("methods", "--plot"),
    ("methods", "--cache-dir"),
];

/// One test per entry of [`PATH_INPUTS`]: `~/` in it is `$HOME/`, never a folder named `~`.
macro_rules! tilde_tests {
    ($($name:ident: $command:literal $input:literal => $check:expr;)*) => {
        $(
            #[test]
            fn $name() {
                assert!(PATH_INPUTS.contains(&($command, $input)));
                let check: fn(&Piest) = $check;
                check(&Piest::new());
            }
        )*
        /// The inputs the tests above cover.
        const TESTED: &[(&str, &str)] = &[$(($command, $input)),*];
    };
}

const TINY: [&str; 4] = ["-n", "1000", "--chunk-size", "100"];

tilde_tests! {
    tilde_in_estimate_cache_dir: "" "--cache-dir" => |env| {
        let (home, _) = run_at_home(env, None, &[&TINY[..], &["--cache-dir=~/flag"]].concat());
        assert!(home.join("flag").is_dir());
    };
    tilde_in_estimate_plot: "" "--plot" => |env| {
        let (home, _) = run_at_home(env, None, &[&TINY[..], &["--no-cache", "--plot=~/e.svg"]].concat());
        assert!(home.join("e.svg").is_file());
    };
    tilde_in_piest_cache_dir: "" "PIEST_CACHE_DIR" => |env| {
        let (home, _) = run_at_home(env, Some("~/var"), &TINY);
        assert!(home.join("var").is_dir());
    };
    tilde_in_cache_cache_dir_before_the_action: "cache" "--cache-dir" => |env| {
        let (home, out) = run_at_home(env, None, &["cache", "--cache-dir=~/c", "info", "--json"]);
        let info: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(info["dir"], home.join("c").display().to_string());
    };
    tilde_in_cache_cache_dir_after_the_action: "cache info" "--cache-dir" => |env| {
        let (home, out) = run_at_home(env, None, &["cache", "info", "--json", "--cache-dir=~/c"]);
        let info: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(info["dir"], home.join("c").display().to_string());
    };
    tilde_in_darts_plot: "darts" "--plot" => |env| {
        let (home, _) = run_at_home(env, None, &["darts", "-n", "10", "--plot=~/d.svg"]);
        assert!(home.join("d.svg").is_file());
    };
    tilde_in_scale_plot: "scale" "--plot" => |env| {
        let args = ["scale", "-n", "1000", "-w", "1", "--runs", "1", "--warmup", "0", "--plot=~/p.svg"];
        let (home, _) = run_at_home(env, None, &args);
        assert!(home.join("p.svg").is_file());
    };
    tilde_in_methods_plot: "methods" "--plot" => |env| {
        let (home, _) = run_at_home(env, None, &["methods", "-n", "1e4", "--no-cache", "--plot=~/m.svg"]);
        assert!(home.join("m.svg").is_file());
    };
    tilde_in_methods_cache_dir: "methods" "--cache-dir" => |env| {
        let (home, _) = run_at_home(env, None, &["methods", "-n", "1e4", "--cache-dir=~/mc"]);
        assert!(home.join("mc").is_dir());
    };
    tilde_in_merge_files: "merge" "FILE" => |env| {
        let home = env.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let (part, _) = json_of(env.std_cmd().args(["-n", "1000", "--shard", "0/1", "--no-cache", "--json"]));
        std::fs::write(home.join("part.json"), part.to_string()).unwrap();
        let (_, out) = run_at_home(env, None, &["merge", "--json", "~/part.json"]);
        let merged: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(merged["trials"], 1000);
    };
}

/// The path-valued flags `--help` shows (value names DIR, FILE, FILE.svg) of each command.
fn path_flags_in_help(command: &str) -> Vec<(String, String)> {
    let mut args: Vec<&str> = command.split_whitespace().collect();
    args.push("--help");
    let help = Piest::new().cmd().args(&args).output().unwrap().stdout;
    let help = String::from_utf8_lossy(&help).into_owned();
    let mut found = Vec::new();
    for line in help.lines().map(str::trim) {
        let is_path = ["<DIR>", "<FILE>", "<FILE.svg>", "[FILE]"]
            .iter()
            .any(|value| line.contains(value));
        if !is_path {
            continue;
        }
        let flag = line
            .split([' ', ','])
            .find(|word| word.starts_with("--"))
            .map(str::to_owned)
            .unwrap_or_else(|| "FILE".to_owned());
        found.push((command.to_owned(), flag));
    }
    found
}

/// The subcommands `piest --help` lists (but `help`).
fn subcommands_in_help() -> Vec<String> {
    let help = Piest::new().cmd().arg("--help").output().unwrap().stdout;
    let help = String::from_utf8_lossy(&help).into_owned();
    help.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .filter(|name| name != "help")
        .collect()
}

#[test]
fn every_path_flag_has_a_tilde_test() {
    const COMMANDS: [&str; 11] = [
        "",
        "cache",
        "cache info",
        "cache clear",
        "cache prune",
        "cache verify",
        "darts",
        "scale",
        "merge",
        "stream",
        "methods",
    ];
    // A new subcommand must join the list (completions and man take no path).
    for listed in subcommands_in_help() {
        assert!(
            COMMANDS.contains(&listed.as_str())
                || ["completions", "man"].contains(&listed.as_str()),
            "`piest {listed}` is not in this test's list of commands"
        );
    }
    for command in COMMANDS {
        for (command, flag) in path_flags_in_help(command) {
            // The cache actions share one global --cache-dir: `cache info` stands for them all.
            let command = if command.starts_with("cache ") {
                "cache info".to_owned()
            } else {
                command
            };
            assert!(
                TESTED.iter().any(|(c, f)| *c == command && *f == flag),
                "`piest {command} {flag}` takes a path but has no ~ test"
            );
        }
    }
    // The help was read: the estimate's two path flags at least were found in it.
    assert!(
        path_flags_in_help("").len() >= 2,
        "no path flag found in --help"
    );
    // And the help of the estimate names the variable that is a path.
    assert!(TESTED.contains(&("", "PIEST_CACHE_DIR")));
    assert_eq!(TESTED.len(), PATH_INPUTS.len());
}

#[test]
fn a_home_that_does_not_exist_is_still_what_tilde_means() {
    let env = Piest::new();
    let home = env.dir.path().join("no-such-home");
    let (v, _) = json_of(env.std_cmd().env("HOME", &home).args([
        "cache",
        "info",
        "--json",
        "--cache-dir=~/x",
    ]));
    assert_eq!(v["dir"], home.join("x").display().to_string());
    assert!(!home.exists(), "cache info made the home directory");
}

#[cfg(unix)]
#[test]
fn an_empty_home_is_not_a_home_and_tilde_never_becomes_a_relative_path() {
    let env = Piest::new();
    let cwd = env.dir.path().join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let out = env
        .std_cmd()
        .env("HOME", "")
        .current_dir(&cwd)
        .args(["cache", "info", "--json", "--cache-dir=~/x"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        // The OS's record of the user names a home: `~` is that absolute directory.
        Some(0) => {
            let v: Value = serde_json::from_str(&stdout).unwrap();
            let dir = v["dir"].as_str().unwrap();
            assert!(Path::new(dir).is_absolute() && dir.ends_with("/x"), "{dir}");
        }
        // No home is known at all: a usage error naming the flag.
        Some(2) => assert!(
            stderr.contains("cannot expand '~' in --cache-dir"),
            "{stderr}"
        ),
        other => panic!("{other:?}: {stderr}"),
    }
    assert!(!cwd.join("~").exists() && !cwd.join("x").exists());
}

#[cfg(target_os = "linux")]
#[test]
fn the_default_cache_follows_xdg_cache_home() {
    let env = Piest::new();
    let xdg = env.dir.path().join("xdg");
    let (v, _) = json_of(
        env.std_cmd()
            .env_remove("PIEST_CACHE_DIR")
            .env("XDG_CACHE_HOME", &xdg)
            .args(["cache", "info", "--json"]),
    );
    assert_eq!(v["dir"], xdg.join("piest").display().to_string());
}

#[test]
fn a_stray_number_is_an_unexpected_argument_with_a_suggestion() {
    assert_usage_errors(
        &[],
        &[
            (&["-w", "4", "100000000"], "unexpected argument '100000000'"),
            (&["-w", "4", "100000000"], "use '--trials 100000000'"),
            (&["1e8"], "use '--trials 1e8'"),
            (
                &["--json", "fast"],
                "unexpected argument 'fast' found (subcommands: scale",
            ),
        ],
    );
    // Inside a subcommand, the stray word is measured against that subcommand's own actions,
    // and a number there is not a trial count.
    assert_usage_errors(
        &[],
        &[
            (
                &["cache", "frob"],
                "unexpected argument 'frob' found (piest cache takes: info, clear, prune, verify;",
            ),
            (&["cache", "5"], "(piest cache takes: info, clear"),
            (
                &["cache", "--cache-dir", "/tmp", "frob"],
                "(piest cache takes: info",
            ),
        ],
    );
    // A real subcommand after an estimate's flag is still called a subcommand, and the line
    // says where a subcommand's flags go.
    assert_usage_errors(
        &[],
        &[
            (&["-n", "5", "scale"], "subcommand 'scale'"),
            (
                &["--cache-dir", "/tmp", "cache", "info"],
                "give a subcommand's own flags after it (see piest cache --help)",
            ),
        ],
    );
}

const PREFIX: &[&str] = &["-n", "30_720_000", "--chunk-size", "1000", "-s", "3"];
const LONGER: &[&str] = &["-n", "40_000_000", "--chunk-size", "1000", "-s", "3"];

#[test]
fn a_fully_cached_run_has_no_rate_and_json_says_zero() {
    let env = Piest::new();
    let small = ["-n", "1e6", "--chunk-size", "1000"];
    env.json(&small);
    let (again, _) = env.json(&small);
    assert_eq!(again["cached_chunks"], again["chunks"]);
    assert!(again["trials_per_s"].is_number());
    assert_eq!(again["trials_per_s"].as_f64(), Some(0.0));
    let out = env.cmd().args(small).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("all from cache"), "{text}");
    assert!(!text.contains("trials/s"), "{text}");
}

#[test]
fn a_partly_cached_run_rates_only_the_trials_it_computed() {
    // JSON: the rate is exactly the computed trials over the elapsed time.
    let env = Piest::new();
    env.json(PREFIX);
    let (v, _) = env.json(LONGER);
    let cached = v["cached_chunks"].as_u64().unwrap();
    let chunks = v["chunks"].as_u64().unwrap();
    assert!(cached > 0 && cached < chunks, "not partly cached: {v}");
    let trials = v["trials"].as_u64().unwrap();
    let computed = (trials - cached * 1000) as f64;
    let rate = v["trials_per_s"].as_f64().unwrap();
    let elapsed = v["elapsed_s"].as_f64().unwrap();
    assert!((rate * elapsed - computed).abs() <= computed * 1e-9, "{v}");

    // Text: the same run in another cache reuses as much, and its rate agrees with the computed
    // trials over the printed time (to the precision printed), far from all trials over it.
    let env = Piest::new();
    env.json(PREFIX);
    let out = env.cmd().args(LONGER).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let facts: Vec<&str> = text.lines().nth(1).unwrap().split(" · ").collect();
    let field = |suffix: &str| -> f64 {
        let fact = facts
            .iter()
            .find(|f| f.ends_with(suffix))
            .unwrap_or_else(|| panic!("{text}"));
        fact.trim_end_matches(suffix)
            .trim()
            .replace(',', "")
            .parse()
            .unwrap()
    };
    assert_eq!(field("chunks from cache") as u64, cached, "{text}");
    let (rate, shown) = (field("trials/s"), field(" s"));
    let (fastest, slowest) = (
        computed / (shown - 0.0005).max(1e-4),
        computed / (shown + 0.0005),
    );
    assert!(
        rate <= fastest * 1.01 && rate >= slowest * 0.99,
        "{rate} trials/s is not {computed} computed trials in {shown} s: {text}"
    );
}

#[test]
fn help_and_version_fail_on_a_full_disk_like_any_output() {
    if !Path::new("/dev/full").exists() {
        eprintln!("SKIPPED: no /dev/full");
        return;
    }
    for args in [
        &["--help"][..],
        &["--version"],
        &["-h"],
        &["scale", "--help"],
        &["man"],
        &["completions", "bash"],
        &["-n", "1000", "--no-cache"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Piest::new()
            .std_cmd()
            .args(args)
            .stdout(Stdio::from(full))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("piest: error: cannot write to stdout"),
            "{args:?}: {stderr}"
        );
        assert_eq!(
            stderr.matches("os error 28").count(),
            1,
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn an_os_error_is_named_once() {
    let env = Piest::new();
    let file = env.dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let plot_dir = env.dir.path().join("taken.svg");
    std::fs::create_dir(&plot_dir).unwrap();
    let file = file.display().to_string();
    let plot = plot_dir.display().to_string();
    let file_as_cache = [
        vec!["cache", "info", "--cache-dir", &file],
        vec!["cache", "clear", "--cache-dir", &file],
        vec!["cache", "prune", "--max-size", "1", "--cache-dir", &file],
    ];
    // Windows reports a path through a file as missing, not as "not a directory".
    let file_as_cache = if cfg!(windows) {
        eprintln!("SKIPPED: a file as --cache-dir reads as an empty cache on Windows");
        Vec::new()
    } else {
        file_as_cache.to_vec()
    };
    for args in file_as_cache {
        let out = env.cmd().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        let line = stderr.lines().last().unwrap_or_default();
        assert!(
            line.starts_with("piest: error: cannot "),
            "{args:?}: {stderr}"
        );
        assert_eq!(line.matches("(os error").count(), 1, "{args:?}: {stderr}");
    }
    // A --plot that cannot be written is refused before the run, not after it.
    for args in [
        vec![
            "scale", "-n", "1000", "-w", "1", "--runs", "1", "--warmup", "0", "--plot", &plot,
        ],
        vec!["-n", "1000", "--plot", &plot],
    ] {
        let out = env.cmd().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains("is a directory"), "{args:?}: {stderr}");
    }
}

#[test]
fn merge_refuses_an_input_too_large_to_be_parts() {
    let out = Piest::new()
        .cmd()
        .args(["merge", "/dev/zero"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("too large to be piest parts"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn refusals_state_the_real_range() {
    assert_usage_errors(
        &["scale"],
        &[
            (&["--runs", "0"], "from 1 to 10000"),
            (&["--runs", "10001"], "from 1 to 10000"),
            (&["--runs", "many"], "from 1 to 10000"),
            (&["--warmup", "10001"], "from 0 to 10000"),
        ],
    );
    let last = "too large: the most is 18446744073709551614";
    assert_usage_errors(
        &["stream"],
        &[
            (&["--chunks", "18446744073709551615"], last),
            (&["--chunks", "0..=18446744073709551615"], last),
            (&["--chunks", "18446744073709551615.."], last),
            (&["--chunks", "0..18446744073709551616"], "too large"),
            (&["--chunks", "9..3"], "empty chunk range"),
        ],
    );
    // The last index itself is accepted.
    let out = Piest::new()
        .cmd()
        .args([
            "stream",
            "--chunks",
            "18446744073709551614",
            "--chunk-size",
            "4",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), 32);
}

/// The numbers of a report's first line: the estimate, then the interval's reach.
fn first_line(env: &Piest, args: &[&str]) -> (Value, String) {
    let (v, _) = json_of(env.std_cmd().args(args).arg("--json"));
    let out = env.cmd().args(args).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    (v, text.lines().next().unwrap_or_default().to_owned())
}

#[test]
fn the_interval_is_shown_around_the_estimate_it_qualifies() {
    let env = Piest::new();
    // 10 trials: the Wilson interval is far from symmetric about the estimate.
    let (v, line) = first_line(&env, &["-n", "10", "--no-cache"]);
    let pi = v["pi"].as_f64().unwrap();
    let [low, high] = [
        v["ci95"][0].as_f64().unwrap(),
        v["ci95"][1].as_f64().unwrap(),
    ];
    assert!(!line.contains('±'), "{line}");
    let reach = format!("−{:.4}/+{:.4}", pi - low, high - pi);
    assert!(
        line.contains(&format!(
            "pi ≈ {pi:.4}   {reach} (95%: {low:.4} … {high:.4})"
        )),
        "{line}"
    );
    // 1e7 trials: symmetric to the printed precision, one ± figure.
    let (_, line) = first_line(&env, &["-n", "1e7", "--no-cache"]);
    assert!(line.contains('±') && !line.contains('/'), "{line}");
}

#[test]
fn a_cache_directory_given_twice_is_refused() {
    let env = Piest::new();
    let a = env.dir.path().join("a").display().to_string();
    let b = env.dir.path().join("b").display().to_string();
    assert_usage_errors(
        &["cache", "--cache-dir", &a],
        &[
            (&["clear", "--cache-dir", &b], "--cache-dir given 2 times"),
            (&["info", "--cache-dir", &a], "give it once"),
            (&["info", &format!("--cache-dir={b}")], "give it once"),
            (
                &["prune", "--max-size", "1", "--cache-dir", &b],
                "--cache-dir given 2 times",
            ),
        ],
    );
    for args in [
        vec!["cache", "--cache-dir", &a, "info"],
        vec!["cache", "info", "--cache-dir", &a],
    ] {
        let (v, _) = json_of(env.std_cmd().args(&args).arg("--json"));
        assert_eq!(v["dir"], a.as_str(), "{args:?}");
    }
}

/// A FIFO as `--plot` (estimate, darts, sweep) is refused before the run, without opening it:
/// opening a FIFO for writing blocks until a reader comes, where no signal handler can end it.
#[cfg(unix)]
#[test]
fn a_fifo_as_plot_is_refused_without_blocking() {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let env = Piest::new();
    let fifo = env.dir.path().join("plot.svg");
    let name = CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: `name` is a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo");
    let plot = format!("--plot={}", fifo.display());
    for args in [
        vec!["-n", "1000", "--no-cache", &plot],
        vec!["darts", "-n", "10", &plot],
        vec!["scale", "-n", "1000", "-w", "1", "--runs", "1", &plot],
    ] {
        let mut child = env
            .std_cmd()
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A process blocked in open() never exits: give up after a minute (far beyond a refusal
        // on any machine, however loaded) instead of hanging the suite.
        let mut waited = 0;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(waited < 600, "{args:?}: still blocked after a minute");
            std::thread::sleep(std::time::Duration::from_millis(100));
            waited += 1;
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{args:?}: {stderr}");
    }
}

/// A `--plot` path through a regular file names the file as not a directory, instead of saying
/// a folder that is there does not exist.
#[test]
fn a_plot_inside_a_file_says_the_file_is_not_a_directory() {
    let env = Piest::new();
    let file = env.dir.path().join("notes.txt");
    std::fs::write(&file, b"a file, not a folder\n").unwrap();
    let plot = file.join("conv.svg");
    let plot = plot.to_str().unwrap();
    for prefix in [&[][..], &["darts"][..]] {
        assert_usage_errors(
            prefix,
            &[(
                &["-n", "1000", "--plot", plot],
                "notes.txt' is not a directory",
            )],
        );
    }
}

#[cfg(unix)]
#[test]
fn a_plot_that_cannot_be_written_whole_leaves_no_partial_picture() {
    // A file-size limit of one block: the picture (several kB) cannot be written whole.
    let env = Piest::new();
    let plot = env.dir.path().join("e.svg");
    let piest = env.std_cmd();
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", "ulimit -f 1 && exec \"$0\" \"$@\""])
        .arg(piest.get_program())
        .args(["-n", "1e6", "--no-cache", "--plot"])
        .arg(&plot);
    for (k, v) in piest.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write --plot"), "{stderr}");
    assert!(!plot.exists(), "a partial picture was left");
    // A picture that was there is left empty, not half overwritten.
    std::fs::write(&plot, b"<svg/>").unwrap();
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&plot).unwrap(), b"");
}
