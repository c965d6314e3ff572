//! The tests of `tests/cache_trust.rs` (Unix users and modes).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::Piest;
use piest::Method;
use piest::cache::{BlockKey, Cache, CacheSession, Entry, Span};
use serde_json::Value;

/// The owner of the cache.
const VICTIM: u32 = 50_001;
/// Another user who can write the cache directory.
const MALLORY: u32 = 50_002;
/// A second member of the sharing group.
const MEMBER: u32 = 50_003;
/// The group that shares a cache on purpose.
const GROUP: u32 = 50_010;

/// 100 chunks of 1e4 trials, all in the first cell of block 0.
const ARGS: &[&str] = &["-n", "1e6", "--chunk-size", "1e4", "-s", "4", "--json"];

/// Whether these tests can switch users; says why not on stderr.
fn can_switch_users() -> bool {
    if !crate::common::is_root() {
        eprintln!("SKIPPED: not root, so no other users to share the cache with");
        return false;
    }
    let works = Command::new("setpriv")
        .args(["--reuid=50001", "--regid=50001", "--clear-groups", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        eprintln!("SKIPPED: setpriv cannot switch to another user here");
    }
    works
}

/// `setpriv` as `uid` (its own group, and `groups` besides), running `program ARGS`.
fn setpriv(uid: u32, groups: &[u32]) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.arg(format!("--reuid={uid}"))
        .arg(format!("--regid={uid}"));
    if groups.is_empty() {
        cmd.arg("--clear-groups");
    } else {
        let list: Vec<String> = groups.iter().map(u32::to_string).collect();
        cmd.arg(format!("--groups={}", list.join(",")));
    }
    cmd
}

/// Runs `piest ARGS` in `env` as `uid` with `groups`.
fn piest_as(env: &Piest, uid: u32, groups: &[u32], args: &[&str]) -> Output {
    let piest = env.std_cmd();
    let mut cmd = setpriv(uid, groups);
    cmd.arg(piest.get_program()).args(args);
    for (k, v) in piest.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.output().expect("run setpriv")
}

/// Runs `piest ARGS` as `uid`; returns its JSON and stderr, failing unless it succeeds.
fn json_as(env: &Piest, uid: u32, groups: &[u32], args: &[&str]) -> (Value, String) {
    let out = piest_as(env, uid, groups, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?} as {uid}: {stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

/// Runs a shell command as `uid`, failing unless it succeeds.
fn shell_as(uid: u32, groups: &[u32], script: &str) {
    let out = setpriv(uid, groups)
        .args(["sh", "-c", script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{script}: {out:?}");
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// An environment whose temporary folder other users can enter, and its cache directory
/// created with `mode` (owned by root).
fn shared_env(mode: u32) -> (Piest, PathBuf) {
    let env = Piest::new();
    chmod(env.dir.path(), 0o755);
    let root = env.dir.path().join("cache");
    std::fs::create_dir(&root).unwrap();
    chmod(&root, mode);
    (env, root)
}

/// What an attacker prepares: a cache folder of her own, with a key everyone can read and an
/// entry signed with it that says every one of [`ARGS`]'s trials fell inside (π = 4). Made by
/// root in `dir/forge` and handed to `owner`; returns the folder (`dir/forge/v2`).
fn forged_entries(dir: &Path, owner: u32) -> PathBuf {
    let cache = Cache::new(dir.join("forge"));
    let session = CacheSession::open(cache.clone(), true);
    let mut entry = Entry::empty(BlockKey::new(Method::Plain, 4, 10_000, 0));
    entry.insert(Span {
        first: 0,
        end: 100,
        trials: 10_000,
        inside: 1_000_000,
        squares: None,
    });
    assert!(session.store(&entry));
    let v2 = cache.entries_dir();
    chmod(&v2.join("key"), 0o644);
    let mut paths = vec![cache.root().to_path_buf(), v2.clone()];
    paths.extend(std::fs::read_dir(&v2).unwrap().map(|e| e.unwrap().path()));
    for path in paths {
        std::os::unix::fs::lchown(&path, Some(owner), Some(owner)).unwrap();
    }
    v2
}

/// The answer of [`ARGS`] computed without a cache.
fn honest(env: &Piest) -> Value {
    let args = [ARGS, &["--no-cache"]].concat();
    json_as(env, VICTIM, &[], &args).0
}

#[test]
fn a_key_planted_in_a_world_writable_cache_directory_is_refused() {
    if !can_switch_users() {
        return;
    }
    let (env, root) = shared_env(0o777);
    let honest = honest(&env);
    // The owner's first run already refuses a directory anyone can replace things in.
    let (first, stderr) = json_as(&env, VICTIM, &[], ARGS);
    assert_eq!(first["inside"], honest["inside"]);
    assert!(stderr.contains("writable by every user"), "{stderr}");
    // Mallory moves whatever is there away and puts her own key and entries in its place.
    let forged = forged_entries(env.dir.path(), MALLORY);
    let script = format!(
        "mv {root}/v2 {root}/old 2>/dev/null; mv {forged} {root}/v2",
        root = root.display(),
        forged = forged.display()
    );
    shell_as(MALLORY, &[], &script);
    let (v, stderr) = json_as(&env, VICTIM, &[], ARGS);
    assert_eq!(v["inside"], honest["inside"], "{v}");
    assert_eq!(v["cached_chunks"], 0);
    assert!(stderr.contains("not trusting the cache key"), "{stderr}");
    assert_eq!(v["cache"]["warnings"].as_array().unwrap().len(), 1, "{v}");
}

#[test]
fn a_key_planted_in_a_sticky_folder_before_the_first_run_is_refused() {
    if !can_switch_users() {
        return;
    }
    let (env, root) = shared_env(0o1777);
    let honest = honest(&env);
    let forged = forged_entries(env.dir.path(), MALLORY);
    shell_as(
        MALLORY,
        &[],
        &format!("mv {} {}/v2", forged.display(), root.display()),
    );
    let (v, stderr) = json_as(&env, VICTIM, &[], ARGS);
    assert_eq!(v["inside"], honest["inside"], "{v}");
    assert_eq!(v["cached_chunks"], 0);
    assert!(
        stderr.contains(&format!("owned by user {MALLORY}")),
        "{stderr}"
    );
    // `cache info` says why, and counts the entries as unverified rather than judging them.
    let (info, _) = json_as(&env, VICTIM, &[], &["cache", "info", "--json"]);
    assert_eq!(info["key"], "untrusted", "{info}");
    assert_eq!(info["unverified"], 1, "{info}");
}

#[test]
fn a_cache_shared_by_a_group_is_used_by_every_member() {
    if !can_switch_users() {
        return;
    }
    // The documented set-up: a setgid folder of the group, the entries folder group-writable
    // and the key group-readable after the first run.
    let (env, root) = shared_env(0o2770);
    std::os::unix::fs::chown(&root, Some(0), Some(GROUP)).unwrap();
    chmod(&root, 0o2770);
    let (first, stderr) = json_as(&env, VICTIM, &[GROUP], ARGS);
    assert!(stderr.is_empty(), "{stderr}");
    shell_as(
        VICTIM,
        &[GROUP],
        &format!("chmod g+w {0}/v2 && chmod g+r {0}/v2/key", root.display()),
    );
    let (v, stderr) = json_as(&env, MEMBER, &[GROUP], ARGS);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(v["inside"], first["inside"]);
    assert_eq!(v["cached_chunks"], 100, "{v}");
    // What the second member stores, the first reads.
    let other_seed = [&ARGS[..4], &["-s", "5", "--json"]].concat();
    let (stored, _) = json_as(&env, MEMBER, &[GROUP], &other_seed);
    let (read, stderr) = json_as(&env, VICTIM, &[GROUP], &other_seed);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(
        (read["inside"].clone(), read["cached_chunks"].as_u64()),
        (stored["inside"].clone(), Some(100))
    );
    // Someone outside the group cannot use it, and is told so.
    let out = piest_as(&env, MALLORY, &[], ARGS);
    assert!(out.status.success());
    assert!(!out.stderr.is_empty());
}

#[test]
fn in_a_shared_sticky_folder_another_users_entry_costs_that_entry_only() {
    if !can_switch_users() {
        return;
    }
    let (env, root) = shared_env(0o1777);
    let entries = root.join("v2");
    std::fs::create_dir(&entries).unwrap();
    chmod(&entries, 0o1777);
    // 1.1e9 trials: 263 chunks of 2^22, so blocks 0 (256 chunks) and 1 (7 chunks).
    let args = ["-n", "1.1e9", "-w", "2", "--json"];
    let (honest, _) = json_as(&env, VICTIM, &[], &args);
    // Root puts a file of its own, unreadable to others, where block 0's entry is: the larger
    // of the two entries (root cannot compute the name: it does not trust the user's key).
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(&entries)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "entry"))
        .map(|p| (std::fs::metadata(&p).unwrap().len(), p))
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    let block0 = &files[1].1;
    std::fs::remove_file(block0).unwrap();
    std::fs::write(block0, b"root's").unwrap();
    chmod(block0, 0o600);
    let seed = honest["seed"].to_string();
    let (v, _) = json_as(&env, VICTIM, &[], &[&args[..], &["-s", &seed]].concat());
    assert_eq!(v["inside"], honest["inside"]);
    // Block 1 read; block 0 recomputed, its replacement refused, and one warning about it.
    assert_eq!(v["cached_chunks"], 7);
    assert_eq!(v["cache"]["warnings"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(std::fs::read(block0).unwrap(), b"root's");
}
