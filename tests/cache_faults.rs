//! Faults and attacks the cache must contain: strange files where entries belong, planted links,
//! another user's files in a shared sticky folder, forged and copied entries, concurrent first
//! runs, the cost of caching one-trial chunks, and cancelling maintenance of a large cache.
//! Cases that need an unprivileged user run through `setpriv` when the tests run as root, and
//! say so on stderr when they cannot run.

mod common;

use std::num::NonZeroUsize;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::Piest;
use piest::cache::{BlockKey, Cache, CacheSession, Entry, FLUSH_INTERVAL, MaintenanceError, Span};
use piest::runner::{Silent, run_all};
use piest::{Kernel, Plan, RunSpec};
use serde_json::Value;

fn spec(trials: u64, chunk_size: u64, seed: u64) -> RunSpec {
    RunSpec {
        plan: Plan::new(trials, chunk_size).unwrap(),
        seed,
        workers: NonZeroUsize::new(2).unwrap(),
        kernel: Kernel::best(),
    }
}

/// One chunk of 2^22 trials per cell: blocks of 256 chunks, each block's entry holding one span
/// per chunk. Block `b`'s entry holds chunk `256 b` with inside count `b`.
fn span_of(block: u64) -> Entry {
    let key = BlockKey::new(1, 1 << 22, block);
    let first = key.chunk_range().0;
    let mut entry = Entry::empty(key);
    entry.insert(Span {
        first,
        end: first + 1,
        trials: 1 << 22,
        inside: block,
    });
    entry
}

fn json_of(cmd: &mut Command) -> (Value, String) {
    let out = cmd.output().expect("run piest");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{cmd:?} failed: {stderr}");
    (
        serde_json::from_slice(&out.stdout).expect("one JSON object"),
        stderr,
    )
}

/// A symbolic link at `link` to `target`; `None`, saying why, off Unix: the cache opens its
/// files without following links (`O_NOFOLLOW`) on Unix only, so elsewhere a planted link is
/// followed (an entry read through it is still checked by its MAC).
fn symlink(target: &Path, link: &Path) -> Option<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(target, link).unwrap();
        Some(())
    }
    #[cfg(not(unix))]
    {
        let _ = (target, link);
        eprintln!("SKIPPED: links are refused by the cache on Unix only");
        None
    }
}

/// Puts a strange file of kind `kind` at `path`; `None` if this system cannot make one.
fn plant(kind: &str, path: &Path, outside: &Path) -> Option<()> {
    match kind {
        "empty directory" => std::fs::create_dir(path).unwrap(),
        "non-empty directory" => {
            std::fs::create_dir(path).unwrap();
            std::fs::write(path.join("data"), b"someone's").unwrap();
        }
        "link to a valid entry" => symlink(outside, path)?,
        "dangling link" => symlink(&outside.with_extension("none"), path)?,
        "link loop" => symlink(path, path)?,
        "FIFO" => {
            let ok = Command::new("mkfifo").arg(path).status().ok()?.success();
            ok.then_some(())?
        }
        "device" => {
            let ok = Command::new("mknod")
                .arg(path)
                .args(["c", "1", "3"])
                .status()
                .ok()?;
            ok.success().then_some(())?
        }
        "sparse 4 GiB file" => std::fs::File::create(path)
            .unwrap()
            .set_len(4 << 30)
            .unwrap(),
        _ => unreachable!(),
    }
    Some(())
}

#[test]
fn a_strange_file_where_an_entry_belongs_costs_that_entry_only() {
    let kinds = [
        ("empty directory", true),
        ("non-empty directory", false),
        ("link to a valid entry", true),
        ("dangling link", true),
        ("link loop", true),
        ("FIFO", true),
        ("device", false),
        ("sparse 4 GiB file", false),
    ];
    for (kind, removable) in kinds {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("cache"));
        let session = CacheSession::open(cache.clone(), true);
        // A valid entry of block 1 kept outside the cache, which a link must not reach.
        let outside = dir.path().join("outside.entry");
        let path = session.entry_path(&span_of(1).key).unwrap();
        assert!(session.store(&span_of(1)));
        std::fs::rename(&path, &outside).unwrap();
        if plant(kind, &path, &outside).is_none() {
            eprintln!("SKIPPED: cannot make a {kind} here (mkfifo, mknod or links refused)");
            continue;
        }
        let started = Instant::now();
        for block in [0, 2, 3] {
            assert!(session.store(&span_of(block)), "{kind}");
        }
        for block in 0..4 {
            let loaded = session.load(&span_of(block).key);
            assert_eq!(
                loaded,
                (block != 1).then(|| span_of(block)),
                "{kind}: {block}"
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{kind}: blocked"
        );
        let info = cache.info().unwrap();
        assert_eq!((info.strange, info.entries), (1, 3), "{kind}");
        assert_eq!(info.strange_files[0].path, path.display().to_string());
        assert_eq!(info.strange_files[0].removable, removable, "{kind}");
        // A rename replaces anything but a folder (a link itself, never its target).
        let folder = kind.contains("directory");
        assert_eq!(session.store(&span_of(1)), !folder, "{kind}");
        assert_eq!(session.load(&span_of(1).key).is_some(), !folder, "{kind}");
        let warnings = session.summary().warnings;
        assert_eq!(warnings.len(), 1, "{kind}: {warnings:?}");
        if folder {
            let cleared = cache.clear_cancellable(&AtomicBool::new(false)).unwrap();
            assert_eq!(cleared.removed.entries, 3, "{kind}");
            assert_eq!(cleared.swept.strange, u64::from(removable), "{kind}");
            assert_eq!(cleared.swept.not_removed, u64::from(!removable), "{kind}");
            assert_eq!(path.exists(), !removable, "{kind}");
        } else {
            let info = cache.info().unwrap();
            assert_eq!((info.strange, info.entries), (0, 4), "{kind}");
        }
        assert!(outside.exists(), "{kind}: the link's target was touched");
    }
}

#[test]
fn a_planted_link_never_makes_piest_write_outside_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path().join("cache"));
    let entries = cache.entries_dir();
    std::fs::create_dir_all(&entries).unwrap();
    let target = dir.path().join("victim");
    if symlink(&target, &entries.join("CACHEDIR.TAG")).is_none() {
        return;
    }
    let session = CacheSession::open(cache.clone(), true);
    assert!(session.is_usable());
    assert!(session.store(&span_of(0)));
    assert!(
        !target.exists(),
        "the tag was written through a dangling link"
    );
    // An entries folder that is a link elsewhere is refused, with one warning.
    let other = Cache::new(dir.path().join("other"));
    std::fs::create_dir(other.root()).unwrap();
    std::fs::create_dir(dir.path().join("elsewhere")).unwrap();
    symlink(&dir.path().join("elsewhere"), &other.entries_dir()).expect("a link");
    let session = CacheSession::open(other, true);
    assert!(!session.is_usable());
    assert!(!session.store(&span_of(0)));
    assert_eq!(session.summary().warnings.len(), 1);
    assert_eq!(
        std::fs::read_dir(dir.path().join("elsewhere"))
            .unwrap()
            .count(),
        0
    );
}

/// The v1 checksum: what anyone could compute from the source before the key existed.
fn v1_forgery(seed: u64, chunk_size: u64, chunks: u64) -> (String, String) {
    let mut key = blake3::Hasher::new_derive_key("piest 2026-11-25 cache entry key v1");
    let mut sum = blake3::Hasher::new_derive_key("piest 2026-11-25 cache entry checksum v1");
    sum.update(b"piest-cache-entry-v1");
    for h in [&mut key, &mut sum] {
        h.update(&(piest::ALGORITHM.len() as u64).to_le_bytes());
        h.update(piest::ALGORITHM.as_bytes());
        for word in [seed, chunk_size, 256, 0] {
            h.update(&word.to_le_bytes());
        }
    }
    sum.update(&chunks.to_le_bytes());
    let mut records = Vec::new();
    for index in 0..chunks {
        // Every trial inside: π = 4.
        for word in [index, chunk_size, chunk_size] {
            sum.update(&word.to_le_bytes());
        }
        records.push(format!("[{index},{chunk_size},{chunk_size}]"));
    }
    let text = format!(
        "{{\"format\":\"piest-cache-entry-v1\",\"algorithm\":\"{}\",\"seed\":{seed},\
         \"chunk_size\":{chunk_size},\"block_chunks\":256,\"block\":0,\"chunks\":[{}],\
         \"checksum\":\"{}\"}}\n",
        piest::ALGORITHM,
        records.join(","),
        sum.finalize().to_hex()
    );
    (format!("{}.json", key.finalize().to_hex()), text)
}

#[test]
fn forged_and_copied_entries_are_rejected() {
    let args = ["-n", "1e6", "--chunk-size", "1e4", "-s", "4", "--json"];
    let env = Piest::new();
    let (honest, _) = json_of(env.std_cmd().args(args).arg("--no-cache"));
    let root = env.dir.path().join("cache");
    // An entry written with a correct checksum under the v1 scheme, in the v1 folder and (as if
    // the attacker could guess it) under the v2 name.
    let (name, forged) = v1_forgery(4, 10_000, 100);
    std::fs::create_dir_all(root.join("v1")).unwrap();
    std::fs::write(root.join("v1").join(name), &forged).unwrap();
    json_of(env.std_cmd().args(args)); // creates the key and the entry
    let path = Cache::new(&root)
        .entry_path(&BlockKey::new(4, 10_000, 0))
        .unwrap();
    std::fs::write(&path, &forged).unwrap();
    let (v, stderr) = json_of(env.std_cmd().args(args));
    assert_eq!(
        (v["inside"].clone(), v["cached_chunks"].as_u64()),
        (honest["inside"].clone(), Some(0))
    );
    assert!(stderr.contains("is invalid"), "{stderr}");
    // An entry copied from another cache (another key), under this cache's name for the block.
    let other = Piest::new();
    json_of(other.std_cmd().args(args));
    let theirs = Cache::new(other.dir.path().join("cache"))
        .entry_path(&BlockKey::new(4, 10_000, 0))
        .unwrap();
    assert_ne!(
        theirs.file_name(),
        path.file_name(),
        "names depend on the key"
    );
    std::fs::copy(&theirs, &path).unwrap();
    let (v, stderr) = json_of(env.std_cmd().args(args));
    assert_eq!(
        (v["inside"].clone(), v["cached_chunks"].as_u64()),
        (honest["inside"].clone(), Some(0))
    );
    assert!(stderr.contains("MAC mismatch"), "{stderr}");
    // info reports the old folder, clear removes it.
    let info = json_of(env.std_cmd().args(["cache", "info", "--json"])).0;
    assert_eq!(info["old_format_files"], 1);
    assert_eq!(info["key"], "present");
    json_of(env.std_cmd().args(["cache", "clear", "--json"]));
    assert!(!root.join("v1").exists());
}

#[test]
fn concurrent_first_processes_agree_on_one_key() {
    let env = Piest::new();
    let args = ["-n", "1e6", "--chunk-size", "1e4", "--json"];
    let children: Vec<_> = (0..4)
        .map(|seed| {
            env.std_cmd()
                .args(args)
                .args(["-s", &seed.to_string()])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
    }
    let info = json_of(env.std_cmd().args(["cache", "info", "--json"])).0;
    assert_eq!(
        (info["entries"].as_u64(), info["invalid"].as_u64()),
        (Some(4), Some(0))
    );
}

/// Runs `piest ARGS` as user and group 65534 (nobody), through `setpriv`; `None` (and a note on
/// stderr) where that is impossible.
#[cfg(unix)]
fn as_nobody(env: &Piest, args: &[&str]) -> Option<std::process::Output> {
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
    let piest = env.std_cmd();
    cmd.arg(piest.get_program()).args(args);
    for (k, v) in piest.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd.output().ok()?;
    if !out.status.success() && out.stderr.starts_with(b"setpriv") {
        return None;
    }
    Some(out)
}

#[cfg(not(unix))]
#[test]
fn in_a_shared_sticky_folder_another_users_entry_costs_that_entry_only() {
    eprintln!("SKIPPED: sticky folders and a second user are Unix permissions");
}

#[cfg(unix)]
#[test]
fn in_a_shared_sticky_folder_another_users_entry_costs_that_entry_only() {
    // Only root can switch to another user.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n");
    if root.ok() != Some(true) {
        eprintln!("SKIPPED: not root, so no second user to share the cache with");
        return;
    }
    let env = Piest::new();
    let dir = env.dir.path().join("cache");
    let entries = dir.join("v2");
    std::fs::create_dir_all(&entries).unwrap();
    use std::os::unix::fs::PermissionsExt;
    for p in [env.dir.path(), &dir, &entries] {
        let mode = if p == env.dir.path() { 0o755 } else { 0o1777 };
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    // 1.1e9 trials: 263 chunks of 2^22, so blocks 0 (256 chunks) and 1 (7 chunks).
    let args = ["-n", "1.1e9", "-w", "2", "--json"];
    let Some(first) = as_nobody(&env, &args) else {
        eprintln!("SKIPPED: setpriv cannot run piest as user 65534 here");
        return;
    };
    assert!(first.status.success(), "{first:?}");
    let honest: Value = serde_json::from_slice(&first.stdout).unwrap();
    // Root puts a file of its own, unreadable to others, where block 0's entry is.
    let block0 =
        Cache::new(&dir).entry_path(&BlockKey::new(honest["seed"].as_u64().unwrap(), 1 << 22, 0));
    let block0 = block0.unwrap();
    std::fs::remove_file(&block0).unwrap();
    std::fs::write(&block0, b"root's").unwrap();
    std::fs::set_permissions(&block0, std::fs::Permissions::from_mode(0o600)).unwrap();
    let seed = honest["seed"].to_string();
    let again = as_nobody(&env, &[&args[..], &["-s", &seed]].concat()).unwrap();
    assert!(again.status.success(), "{again:?}");
    let v: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(v["inside"], honest["inside"]);
    // Block 1 read; block 0 recomputed, its replacement refused, and one warning about it.
    assert_eq!(v["cached_chunks"], 7);
    assert_eq!(v["cache"]["warnings"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(std::fs::read(&block0).unwrap(), b"root's");
}

#[test]
fn one_trial_chunks_cost_one_small_entry() {
    // 2^19 one-trial chunks, all in cell 0 of block 0.
    let trials = 1 << 19;
    let spec = spec(trials, 1, 6);
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let session = CacheSession::open(cache.clone(), true);
    let started = Instant::now();
    let outcome = run_all(&spec, Some(&session), &Silent, &AtomicBool::new(false)).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        outcome.inside(),
        run_all(&spec, None, &Silent, &AtomicBool::new(false))
            .unwrap()
            .inside()
    );
    let summary = session.summary();
    assert_eq!((summary.misses, summary.stored), (trials, trials));
    // One entry of one span: header, 32 bytes, MAC.
    let one_span = (16 + 4 + piest::ALGORITHM.len() + 40 + 32 + 32) as u64;
    let info = cache.info().unwrap();
    assert_eq!(
        (info.entries, info.chunks, info.bytes),
        (1, trials, one_span)
    );
    // Stores: at most one per flush interval, plus the last; each at most a few spans.
    let stores = elapsed.as_millis() / FLUSH_INTERVAL.as_millis() + 2;
    assert!(summary.entries_written as u128 <= stores, "{summary:?}");
    assert!(summary.bytes_written <= summary.entries_written * (one_span + 8 * 32));
    // Per 1e9 trials: a block holds 2^30 one-trial chunks, so at most two entries (when not
    // aligned) of 256 spans each.
    assert!(piest::cache::block_chunks(1) >= 1_000_000_000);
    // A rerun reads the whole run as one span.
    let session = CacheSession::open(cache, true);
    let again = run_all(&spec, Some(&session), &Silent, &AtomicBool::new(false)).unwrap();
    assert_eq!(
        (
            again.sources.cached_chunks,
            session.summary().entries_written
        ),
        (trials, 0)
    );
}

/// A cache folder with `n` files named like entries (not valid ones: cheap to make).
fn crowded(n: usize) -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    CacheSession::open(cache.clone(), true);
    for i in 0..n {
        let name = format!("{:064x}.entry", i);
        std::fs::write(cache.entries_dir().join(name), b"piest-cache-v2\n\0").unwrap();
    }
    (dir, cache)
}

/// Runs `f` with a flag set 20 ms in; returns its result and the time from the flag to the end.
fn cancelled<T>(f: impl FnOnce(&AtomicBool) -> T + Send) -> (T, Duration) {
    let cancel = AtomicBool::new(false);
    let set_at = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(20));
            *set_at.lock().unwrap() = Some(Instant::now());
            cancel.store(true, Ordering::Relaxed);
        });
        let result = f(&cancel);
        let ended = Instant::now();
        let set = set_at.lock().unwrap().unwrap_or(ended);
        (result, ended.saturating_duration_since(set))
    })
}

#[test]
fn maintenance_of_a_large_cache_stops_soon_after_cancel() {
    let (_dir, cache) = crowded(20_000);
    let now = std::time::SystemTime::now();
    let (info, late) = cancelled(|c| cache.info_cancellable(c).map(|_| ()));
    assert!(
        matches!(info, Err(MaintenanceError::Cancelled { .. })),
        "{info:?}"
    );
    assert!(late < Duration::from_millis(300), "{late:?}");
    let (prune, late) = cancelled(|c| {
        // Listing and sorting 20,000 files takes longer than 20 ms on a loaded machine too.
        cache.prune_cancellable(Some(0), None, now, c).map(|_| ())
    });
    assert!(
        matches!(prune, Err(MaintenanceError::Cancelled { .. })),
        "{prune:?}"
    );
    assert!(late < Duration::from_millis(300), "{late:?}");
    let (clear, late) = cancelled(|c| cache.clear_cancellable(c).map(|_| ()));
    assert!(late < Duration::from_millis(300), "{late:?}");
    let Err(MaintenanceError::Cancelled { done }) = clear else {
        panic!("{clear:?}")
    };
    // The error says how much was removed, and the rest is still there, whole.
    let removed = match done {
        piest::cache::Done::Removed(c) => c.removed.entries,
        _ => 0,
    };
    assert_eq!(cache.info().unwrap().invalid + removed, 20_000);
}

#[test]
fn verify_stops_soon_after_cancel() {
    // One span of 2^22 one-trial chunks: about a second to recompute.
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let mut entry = Entry::empty(BlockKey::new(1, 1, 0));
    entry.insert(Span {
        first: 0,
        end: 1 << 22,
        trials: 1,
        inside: 0,
    });
    assert!(CacheSession::open(cache.clone(), true).store(&entry));
    let options = piest::cache::VerifyOptions {
        fraction: 1.0,
        sample_seed: 0,
        workers: NonZeroUsize::new(2).unwrap(),
        kernel: Kernel::best(),
    };
    let (result, late) = cancelled(|c| cache.verify(&options, c));
    assert!(
        matches!(result, Err(MaintenanceError::Cancelled { .. })),
        "{result:?}"
    );
    assert!(late < Duration::from_millis(300), "{late:?}");
    // Nothing was judged, so nothing was removed.
    assert_eq!(cache.info().unwrap().chunks, 1 << 22);
}
