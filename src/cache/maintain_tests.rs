//! Unit tests of `info`, `clear` and `prune` on hand-made contents.

use super::super::{BlockKey, CacheSession, Span};
use super::*;
use crate::sampler::Method;

/// A cache with `blocks` entries of one cell's worth of spans for seed 1 (chunk size 10), the
/// entry of block `b` last used `10 · (blocks − b)` hours ago (block 0 oldest).
fn cache_with(blocks: u64, now: SystemTime) -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let session = CacheSession::open(cache.clone(), true);
    for block in 0..blocks {
        let key = BlockKey::new(Method::Plain, 1, 10, block);
        let first = key.chunk_range().0;
        let mut entry = Entry::empty(key);
        entry.insert(Span {
            first,
            end: first + 4,
            trials: 10,
            inside: 28,
            squares: None,
        });
        assert!(session.store(&entry));
        let path = session.entry_path(&entry.key).unwrap();
        let file = std::fs::File::options().write(true).open(path).unwrap();
        let hours = 10 * (blocks - block);
        file.set_modified(now - Duration::from_secs(3600 * hours))
            .unwrap();
    }
    (dir, cache)
}

fn path(cache: &Cache, block: u64) -> PathBuf {
    cache
        .entry_path(&BlockKey::new(Method::Plain, 1, 10, block))
        .unwrap()
}

#[test]
fn info_counts_entries_chunks_trials_and_invalid_files() {
    let now = SystemTime::now();
    let (_dir, cache) = cache_with(3, now);
    let entries = cache.entries_dir();
    // Unrelated files are neither counted nor touched.
    std::fs::write(entries.join("notes.txt"), b"mine").unwrap();
    let info = cache.info().unwrap();
    assert_eq!((info.entries, info.invalid, info.chunks), (3, 0, 12));
    assert_eq!((info.trials, info.seeds, info.temp_files), (120, 1, 0));
    assert_eq!(
        (info.key, info.strange, info.old_format_files),
        (KeyState::Present, 0, 0)
    );
    // Swap two entries' contents: both are now invalid.
    let (a, b) = (path(&cache, 0), path(&cache, 1));
    let (bytes_a, bytes_b) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    std::fs::write(&a, bytes_b).unwrap();
    std::fs::write(&b, bytes_a).unwrap();
    let info = cache.info().unwrap();
    assert_eq!((info.entries, info.invalid), (1, 2));
    assert!(entries.join("notes.txt").exists());
    // Without the key no entry can be used again: all are invalid, and prune removes them.
    std::fs::remove_file(entries.join(super::super::KEY_FILE)).unwrap();
    let info = cache.info().unwrap();
    assert_eq!(
        (info.key, info.entries, info.unverified, info.invalid),
        (KeyState::Missing, 0, 0, 3)
    );
    let pruned = cache.prune(None, None, now).unwrap();
    assert_eq!((pruned.invalid_removed, pruned.kept_entries), (3, 0));
    assert_eq!(cache.info().unwrap().invalid, 0);
}

#[test]
fn clear_removes_entries_temporary_and_old_files_only_and_keeps_the_key() {
    let (_dir, cache) = cache_with(3, SystemTime::now());
    let entries = cache.entries_dir();
    std::fs::write(entries.join(".tmp-abc.part"), b"half").unwrap();
    std::fs::write(entries.join("notes.txt"), b"mine").unwrap();
    let old = cache.old_entries_dir();
    std::fs::create_dir(&old).unwrap();
    std::fs::write(old.join(format!("{}.json", "a".repeat(64))), b"{}").unwrap();
    std::fs::write(old.join(TAG_FILE), b"Signature").unwrap();
    let info = cache.info().unwrap();
    assert_eq!((info.old_format_files, info.old_format_bytes), (2, 11));
    let cleared = cache.clear_cancellable(&AtomicBool::new(false)).unwrap();
    let (removed, swept) = (&cleared.removed, &cleared.swept);
    assert_eq!((removed.entries, removed.temp_files), (3, 1));
    assert_eq!((swept.old_format_files, swept.not_removed), (2, 0));
    assert!(!old.exists(), "the emptied old folder is removed");
    assert_eq!(cache.info().unwrap().entries, 0);
    assert!(entries.join("notes.txt").exists());
    assert!(entries.join(super::super::KEY_FILE).exists());
    assert_eq!(cache.clear().unwrap().entries, 0);
}

#[test]
fn prune_by_age_removes_entries_unused_for_longer() {
    let now = SystemTime::now();
    let (_dir, cache) = cache_with(4, now);
    // Ages 40, 30, 20 and 10 hours.
    let pruned = cache
        .prune(None, Some(Duration::from_secs(25 * 3600)), now)
        .unwrap();
    assert_eq!((pruned.removed.entries, pruned.kept_entries), (2, 2));
    assert!(!path(&cache, 1).exists());
    assert!(path(&cache, 2).exists());
}

#[test]
fn prune_by_size_removes_the_least_recently_used_first() {
    let now = SystemTime::now();
    let (_dir, cache) = cache_with(4, now);
    let one = std::fs::metadata(path(&cache, 0)).unwrap().len();
    let pruned = cache.prune(Some(2 * one + one / 2), None, now).unwrap();
    assert_eq!((pruned.removed.entries, pruned.kept_entries), (2, 2));
    assert!(pruned.kept_bytes <= 2 * one + one / 2);
    for (block, kept) in [(0, false), (1, false), (2, true), (3, true)] {
        assert_eq!(path(&cache, block).exists(), kept);
    }
    // Limits that hold already remove nothing; zero removes everything.
    let big = cache.prune(Some(1 << 30), None, now).unwrap();
    assert_eq!(big.removed.entries, 0);
    assert_eq!(cache.prune(Some(0), None, now).unwrap().kept_entries, 0);
}

#[test]
fn a_missing_cache_is_empty_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path().join("none"));
    let info = cache.info().unwrap();
    assert!(!info.exists);
    assert_eq!((info.entries, info.key), (0, KeyState::Missing));
    assert_eq!(cache.clear().unwrap().entries, 0);
    let pruned = cache.prune(Some(0), None, SystemTime::now()).unwrap();
    assert_eq!(pruned.kept_entries, 0);
}

#[test]
fn a_set_cancel_flag_stops_every_command_before_it_removes_anything() {
    let (_dir, cache) = cache_with(3, SystemTime::now());
    let cancel = AtomicBool::new(true);
    let now = SystemTime::now();
    for err in [
        cache.info_cancellable(&cancel).map(|_| ()).unwrap_err(),
        cache.clear_cancellable(&cancel).map(|_| ()).unwrap_err(),
        cache
            .prune_cancellable(Some(0), None, now, &cancel)
            .map(|_| ())
            .unwrap_err(),
    ] {
        assert!(matches!(err, MaintenanceError::Cancelled { .. }), "{err}");
        assert_eq!(err.to_string(), "interrupted");
    }
    assert_eq!(cache.info().unwrap().entries, 3);
}
