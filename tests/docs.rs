//! `piest completions` and `piest man`: generated from the CLI definition, and usable by the
//! tools that read them (bash, groff).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::Piest;

/// The stdout of a successful `piest ARGS`.
fn stdout_of(args: &[&str]) -> String {
    let out = Piest::new().cmd().args(args).output().expect("run piest");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    assert!(stderr.is_empty(), "{args:?}: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Whether `program` can be run; if not, says so on stderr (the test is then skipped), unless
/// this is CI (`CI` set and not empty), which installs it, where the test fails instead.
fn have(program: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none_or(|ci| ci.is_empty()),
            "{program} is missing in CI"
        );
        eprintln!("SKIPPED: {program} is not installed");
    }
    found
}

/// What the bash completion offers for the command line `words` (the last word is the one being
/// completed), with the script sourced the way bash-completion would.
fn bash_completions(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let words_q: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let line = words.join(" ");
    let program = format!(
        "source '{}'
COMP_WORDS=({})
COMP_CWORD={}
COMP_LINE='{line}'
COMP_POINT=${{#COMP_LINE}}
_piest piest '{}' '{}'
printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        words_q.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len().saturating_sub(2)],
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn the_bash_completion_completes_flags_and_subcommands() {
    if !have("bash") {
        return;
    }
    let env = Piest::new();
    let script = env.dir.path().join("piest.bash");
    std::fs::write(&script, stdout_of(&["completions", "bash"])).expect("write the script");
    assert_eq!(bash_completions(&script, &["piest", "--tr"]), ["--trials"]);
    assert_eq!(bash_completions(&script, &["piest", "ca"]), ["cache"]);
    assert_eq!(
        bash_completions(&script, &["piest", "scale", "--ru"]),
        ["--runs"]
    );
    assert_eq!(
        bash_completions(&script, &["piest", "cache", "pr"]),
        ["prune"]
    );
    let shells = bash_completions(&script, &["piest", "completions", ""]);
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        assert!(shells.iter().any(|s| s == shell), "{shell}: {shells:?}");
    }
}

#[test]
fn every_shell_gets_a_script_that_knows_the_flags() {
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains("trials"), "{shell}");
        assert!(script.contains("cache"), "{shell}");
    }
    common::assert_usage_errors(&["completions"], &[(&["tcsh"], "tcsh"), (&[], "SHELL")]);
}

#[test]
fn the_man_page_renders_without_warnings_and_covers_commands_environment_and_exit_statuses() {
    let page = stdout_of(&["man"]);
    assert!(
        page.is_ascii(),
        "non-ASCII characters must be groff escapes"
    );
    if have("groff") {
        let mut groff = Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run groff");
        let mut stdin = groff.stdin.take().expect("stdin");
        stdin.write_all(page.as_bytes()).expect("feed groff");
        drop(stdin);
        let out = groff.wait_with_output().expect("groff");
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{warnings}");
        assert!(warnings.is_empty(), "groff warns:\n{warnings}");
    }
    // roff writes a hyphen as `\-`.
    let text = page.replace("\\-", "-");
    for needle in [
        ".SH SYNOPSIS",
        ".SH OPTIONS",
        "--trials",
        ".SS \"piest scale\"",
        ".SS \"piest stream\"",
        ".SS \"piest cache\"",
        ".SS \"piest cache info\"",
        ".SS \"piest cache clear\"",
        ".SS \"piest cache prune\"",
        ".SS \"piest cache verify\"",
        ".SS \"piest merge\"",
        ".SS \"piest completions\"",
        ".SS \"piest man\"",
        "--max-size",
        ".SH ENVIRONMENT",
        "PIEST_CACHE_DIR",
        "PIEST_KERNEL",
        ".SH \"EXIT STATUS\"",
        "SIGINT",
        "runtime error",
        "usage error",
        "cache verify",
    ] {
        assert!(text.contains(needle), "the manual page lacks {needle}");
    }
    for code in 0..=5 {
        assert!(
            text.contains(&format!(".TP\n\\fB{code}\\fR\n")),
            "exit status {code}"
        );
    }
}

#[test]
fn help_names_the_completions_and_man_commands_and_how_to_install_them() {
    let help = stdout_of(&["--help"]);
    for needle in [
        "completions",
        "man",
        "piest completions bash >",
        "piest man >",
    ] {
        assert!(help.contains(needle), "{needle}");
    }
}

#[test]
fn cache_verify_documents_every_flag_with_an_example() {
    common::assert_help_examples(
        &["cache", "verify"],
        &[
            "--sample ",
            "--sample-seed",
            "--workers",
            "--cache-dir",
            "--json",
        ],
    );
}
