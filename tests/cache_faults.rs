//! Faults and attacks the cache must contain: strange files where entries belong, planted links,
//! forged and copied entries, concurrent first runs, a damaged key, maintenance that cannot
//! remove files, a damaged tag, a file-size limit, the cost of caching one-trial chunks, and
//! cancelling maintenance of a large cache. Other users sharing a cache: `tests/cache_trust.rs`.

mod common;

use piest::Method;
use std::num::NonZeroUsize;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[cfg(unix)]
use common::is_root;
use common::{Piest, json_of};
use piest::cache::{BlockKey, Cache, CacheSession, Entry, FLUSH_INTERVAL, MaintenanceError, Span};
use piest::runner::{Silent, run_all};
use piest::{Kernel, Plan, RunSpec};

fn spec(trials: u64, chunk_size: u64, seed: u64) -> RunSpec {
    RunSpec {
        plan: Plan::new(trials, chunk_size).unwrap(),
        seed,
        workers: NonZeroUsize::new(2).unwrap(),
        kernel: Kernel::best(),
        method: piest::sampler::Method::Plain,
    }
}

/// One chunk of 2^22 trials per cell: blocks of 256 chunks, each block's entry holding one span
/// per chunk. Block `b`'s entry holds chunk `256 b` with inside count `b`.
fn span_of(block: u64) -> Entry {
    let key = BlockKey::new(Method::Plain, 1, 1 << 22, block);
    let first = key.chunk_range().0;
    let mut entry = Entry::empty(key);
    entry.insert(Span {
        first,
        end: first + 1,
        trials: 1 << 22,
        inside: block,
        squares: None,
    });
    entry
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
        // A read that blocks on a FIFO or device never returns; the 4 writes and reads of small
        // files take milliseconds. The bound is generous because a loaded machine can stall
        // this thread for seconds: it is there to name the hang, not to time the work.
        assert!(started.elapsed() < GENEROUS, "{kind}: blocked");
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
        .entry_path(&BlockKey::new(Method::Plain, 4, 10_000, 0))
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
        .entry_path(&BlockKey::new(Method::Plain, 4, 10_000, 0))
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

#[cfg(unix)]
#[test]
fn a_damaged_key_is_replaced_once_by_concurrent_runs_and_cleared() {
    let args = ["-n", "1e6", "--chunk-size", "1e4", "--json"];
    for bad in [&b""[..], b"piest-cache-key-v2 0123\n", b"\x00garbage"] {
        let env = Piest::new();
        json_of(env.std_cmd().args(args).args(["-s", "0"]));
        let key = env.dir.path().join("cache/v2/key");
        std::fs::write(&key, bad).unwrap();
        // The entry of seed 0 is now an orphan: its name came from the old key.
        let info = json_of(env.std_cmd().args(["cache", "info", "--json"])).0;
        assert_eq!(
            (info["key"].as_str(), info["invalid"].as_u64()),
            (Some("damaged"), Some(1))
        );
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
        let mut replaced = 0;
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{out:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            replaced += stderr.matches("has been replaced").count();
            assert_eq!(
                stderr.lines().count(),
                stderr.matches("has been replaced").count()
            );
        }
        assert_eq!(replaced, 1, "one run replaced the key, with one warning");
        let info = json_of(env.std_cmd().args(["cache", "info", "--json"])).0;
        assert_eq!(
            (
                info["key"].as_str(),
                info["entries"].as_u64(),
                info["invalid"].as_u64()
            ),
            (Some("present"), Some(4), Some(1)),
            "{info}"
        );
        // prune removes the orphan and agrees with info on what is left.
        let pruned = json_of(
            env.std_cmd()
                .args(["cache", "prune", "--max-size", "1TB", "--json"]),
        )
        .0;
        assert_eq!(
            (
                pruned["invalid_removed"].as_u64(),
                pruned["kept_entries"].as_u64()
            ),
            (Some(1), Some(4))
        );
        // clear removes a damaged key; the next run makes a new one and warns about nothing.
        std::fs::write(&key, bad).unwrap();
        let cleared = json_of(env.std_cmd().args(["cache", "clear", "--json"])).0;
        assert_eq!(cleared["damaged_key_removed"], true);
        assert!(!key.exists());
        let (v, stderr) = json_of(env.std_cmd().args(args).args(["-s", "0"]));
        assert!(stderr.is_empty(), "{stderr}");
        assert_eq!(v["cached_chunks"], 0);
    }
}

#[test]
fn after_the_key_is_deleted_info_and_prune_agree() {
    let env = Piest::new();
    for seed in ["1", "2", "3"] {
        json_of(
            env.std_cmd()
                .args(["-n", "1e6", "--chunk-size", "1e4", "--json", "-s", seed]),
        );
    }
    std::fs::remove_file(env.dir.path().join("cache/v2/key")).unwrap();
    let info = json_of(env.std_cmd().args(["cache", "info", "--json"])).0;
    assert_eq!(
        (info["entries"].as_u64(), info["invalid"].as_u64()),
        (Some(0), Some(3))
    );
    let text = env.std_cmd().args(["cache", "info"]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("never used again"), "{text}");
    assert!(!text.contains("replaced when next used"), "{text}");
    let pruned = json_of(
        env.std_cmd()
            .args(["cache", "prune", "--max-size", "1TB", "--json"]),
    )
    .0;
    assert_eq!(
        (
            pruned["invalid_removed"].as_u64(),
            pruned["kept_entries"].as_u64()
        ),
        (Some(3), Some(0))
    );
}

#[cfg(not(unix))]
#[test]
fn maintenance_that_cannot_remove_files_fails_and_says_why() {
    eprintln!("SKIPPED: a cache the user cannot change is made with Unix modes or a second user");
}

#[cfg(unix)]
#[test]
fn maintenance_that_cannot_remove_files_fails_and_says_why() {
    let env = Piest::new();
    json_of(
        env.std_cmd()
            .args(["-n", "1e6", "--chunk-size", "1e4", "--json", "-s", "1"]),
    );
    let root = env.dir.path().join("cache");
    // A cache this user cannot change: root's cache as another user, or a read-only folder.
    let as_other = is_root();
    use std::os::unix::fs::PermissionsExt;
    let mode = |m| std::fs::Permissions::from_mode(m);
    if as_other {
        std::fs::set_permissions(env.dir.path(), mode(0o755)).unwrap();
    } else {
        std::fs::set_permissions(root.join("v2"), mode(0o555)).unwrap();
    }
    for action in [
        &["cache", "clear"][..],
        &["cache", "prune", "--max-size", "0"],
    ] {
        let mut cmd = if as_other {
            let mut cmd = Command::new("setpriv");
            cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
            cmd.arg(env.std_cmd().get_program());
            cmd.env("PIEST_CACHE_DIR", &root);
            cmd
        } else {
            env.std_cmd()
        };
        let out = cmd.args(action).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{action:?}: {stdout}{stderr}");
        assert!(stderr.contains("could not remove 1 file"), "{stderr}");
        assert!(stderr.contains("denied"), "{stderr}");
        assert!(stdout.contains("failing to remove"), "{stdout}");
        assert!(!stdout.contains("kept 0 entries"), "{stdout}");
    }
    if !as_other {
        std::fs::set_permissions(root.join("v2"), mode(0o755)).unwrap();
    }
    let info = json_of(env.std_cmd().args(["cache", "info", "--json"])).0;
    assert_eq!(info["entries"], 1);
}

#[test]
fn an_empty_cachedir_tag_is_rewritten() {
    let env = Piest::new();
    let args = ["-n", "1e5", "-s", "1"];
    json_of(env.std_cmd().args(args).arg("--json"));
    let tag = env.dir.path().join("cache/v2/CACHEDIR.TAG");
    let whole = std::fs::read(&tag).unwrap();
    assert!(whole.starts_with(b"Signature: 8a477f597d28d172789f06886806bc55"));
    std::fs::write(&tag, b"").unwrap();
    json_of(env.std_cmd().args(args).arg("--json"));
    assert_eq!(std::fs::read(&tag).unwrap(), whole);
}

#[cfg(not(unix))]
#[test]
fn a_file_size_limit_is_a_cache_warning() {
    eprintln!("SKIPPED: file-size limits (ulimit -f, SIGXFSZ) are Unix");
}

#[cfg(unix)]
#[test]
fn a_file_size_limit_is_a_cache_warning() {
    // 2e8 trials: 48 chunks of 2^22, one entry of 48 spans (about 1.6 kB), more than the limit
    // of one block (512 or 1024 bytes, by shell); the key, the tag and an early store of a few
    // spans fit.
    let env = Piest::new();
    let piest = env.std_cmd();
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "ulimit -f 1 && exec \"$0\" \"$@\""])
        .arg(piest.get_program())
        .args(["-n", "2e8", "-s", "3", "--json"]);
    for (k, v) in piest.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let (v, stderr) = json_of(&mut cmd);
    let (honest, _) = json_of(
        env.std_cmd()
            .args(["-n", "2e8", "-s", "3", "--json", "--no-cache"]),
    );
    assert_eq!(v["inside"], honest["inside"]);
    assert!(stderr.contains("cannot write cache entry"), "{stderr}");
    assert!(stderr.contains("too large"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(env.dir.path().join("cache/v2"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
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
    assert!(piest::plan::cache_block_chunks(1) >= 1_000_000_000);
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

/// How late a cancelled command may end. The work after the flag is one file or one slice of
/// trials (milliseconds); the tests below check in work that it stopped (what it had removed,
/// what was left, what it judged), and this bound only names a command that never looks at the
/// flag. It is generous because a loaded machine can stall a thread for seconds.
const GENEROUS: Duration = Duration::from_secs(10);

/// Runs `f` with a flag set as soon as `ready()` (polled every 2 ms on another thread) says so;
/// returns `f`'s result and the time from the flag to the end of `f`.
fn cancelled_when<T>(
    ready: impl Fn() -> bool + Sync,
    f: impl FnOnce(&AtomicBool) -> T,
) -> (T, Duration) {
    let cancel = AtomicBool::new(false);
    let finished = AtomicBool::new(false);
    let set_at = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !finished.load(Ordering::Relaxed) {
                if ready() {
                    *set_at.lock().unwrap() = Some(Instant::now());
                    cancel.store(true, Ordering::Relaxed);
                    return;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let result = f(&cancel);
        finished.store(true, Ordering::Relaxed);
        let ended = Instant::now();
        let set = set_at.lock().unwrap().unwrap_or(ended);
        (result, ended.saturating_duration_since(set))
    })
}

/// Runs `f` with a flag set 20 ms in.
fn cancelled<T>(f: impl FnOnce(&AtomicBool) -> T) -> (T, Duration) {
    let started = Instant::now();
    cancelled_when(|| started.elapsed() >= Duration::from_millis(20), f)
}

/// Entry-named files in `cache`'s entries folder.
fn entries_left(cache: &Cache) -> u64 {
    std::fs::read_dir(cache.entries_dir()).map_or(0, |d| {
        d.filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".entry"))
            .count() as u64
    })
}

const CROWD: u64 = 20_000;

#[test]
fn maintenance_of_a_large_cache_stops_soon_after_cancel() {
    let (_dir, cache) = crowded(CROWD as usize);
    // A flag set before the call: not one file is looked at.
    let set = AtomicBool::new(true);
    let info = cache.info_cancellable(&set);
    assert!(
        matches!(info, Err(MaintenanceError::Cancelled { .. })),
        "{info:?}"
    );
    let (info, late) = cancelled(|c| cache.info_cancellable(c).map(|_| ()));
    assert!(
        matches!(info, Err(MaintenanceError::Cancelled { .. })),
        "{info:?}"
    );
    assert!(late < GENEROUS, "{late:?}");

    // Prune and clear: the flag goes up once a thousand files are gone, in the middle of the
    // removals; a command that ignored it would remove all of them.
    let now = std::time::SystemTime::now();
    type Removal<'a> = &'a dyn Fn(&AtomicBool) -> Result<(), MaintenanceError>;
    let removals: [(&str, Removal); 2] = [
        ("prune", &|c| {
            cache.prune_cancellable(Some(0), None, now, c).map(|_| ())
        }),
        ("clear", &|c| cache.clear_cancellable(c).map(|_| ())),
    ];
    for (name, removal) in removals {
        let before = entries_left(&cache);
        assert!(before > 2_000, "{name}: {before} files left to remove");
        let (result, late) = cancelled_when(|| entries_left(&cache) < before - 1_000, removal);
        assert!(late < GENEROUS, "{name}: {late:?}");
        let Err(MaintenanceError::Cancelled { done }) = result else {
            panic!("{name}: {result:?}")
        };
        let left = entries_left(&cache);
        assert!(left > 0, "{name} ran to the end after the flag");
        // The error says how much was removed, and the rest is still there, whole.
        let removed = match done {
            piest::cache::Done::Removed(c) => c.removed.entries,
            _ => 0,
        };
        assert_eq!(before - left, removed, "{name}");
        assert_eq!(cache.info().unwrap().invalid, left, "{name}");
    }
}

#[test]
fn verify_stops_soon_after_cancel() {
    // One span of 2^22 one-trial chunks: about a second to recompute.
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let mut entry = Entry::empty(BlockKey::new(Method::Plain, 1, 1, 0));
    entry.insert(Span {
        first: 0,
        end: 1 << 22,
        trials: 1,
        inside: 0,
        squares: None,
    });
    assert!(CacheSession::open(cache.clone(), true).store(&entry));
    let options = piest::cache::VerifyOptions {
        fraction: 1.0,
        sample_seed: 0,
        workers: NonZeroUsize::new(2).unwrap(),
        kernel: Kernel::best(),
    };
    // On Linux the flag goes up once verify's worker threads exist, in the middle of the
    // recomputation; elsewhere 20 ms in, which may also be before it.
    let linux = cfg!(target_os = "linux");
    let started = Instant::now();
    let recomputing = || {
        if linux {
            verify_threads_running()
        } else {
            started.elapsed() >= Duration::from_millis(20)
        }
    };
    let (result, late) = cancelled_when(recomputing, |c| cache.verify(&options, c));
    assert!(late < GENEROUS, "{late:?}");
    // In work: the span being recomputed when the flag went up was dropped, not finished.
    let Err(MaintenanceError::Cancelled { done }) = result else {
        panic!("{result:?}")
    };
    match done {
        piest::cache::Done::Verified(report) => {
            assert_eq!((report.spans, report.chunks), (0, 0), "{report:?}")
        }
        piest::cache::Done::Unchanged if !linux => {}
        other => panic!("{other:?}"),
    }
    // Nothing was judged, so nothing was removed.
    assert_eq!(cache.info().unwrap().chunks, 1 << 22);
}

/// Whether a thread of this process is one of verify's workers (Linux `/proc`).
fn verify_threads_running() -> bool {
    std::fs::read_dir("/proc/self/task").is_ok_and(|tasks| {
        tasks.filter_map(Result::ok).any(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.starts_with("piest-verify"))
        })
    })
}
