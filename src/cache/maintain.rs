//! Maintenance of a cache directory: `info` (what is there), `clear` (remove every entry) and
//! `prune` (remove entries by age and total size, least recently used first, like joblib's
//! `reduce_size`). Only files named like entries or temporary entries are ever touched.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::entry::{Entry, is_entry_name};
use super::{Cache, CacheError, MAX_ENTRY_BYTES, TEMP_PREFIX, TEMP_SUFFIX};

/// A temporary file older than this is a leftover of a killed writer, which `prune` removes
/// (a live writer renames its temporary file within milliseconds).
const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// What `cache info` reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CacheInfo {
    /// The cache directory.
    pub dir: String,
    /// Whether the entries folder exists.
    pub exists: bool,
    /// Valid entries.
    pub entries: u64,
    /// Entry files that fail verification (they are recomputed and replaced when next used).
    pub invalid: u64,
    /// Bytes of all entry and temporary files.
    pub bytes: u64,
    /// Chunks whose counts the valid entries hold (a chunk with both a full and a remainder
    /// record counts once).
    pub chunks: u64,
    /// Trials those chunks cover (each chunk counted with its longest record).
    pub trials: u64,
    /// Distinct seeds among the valid entries.
    pub seeds: u64,
    /// Temporary files (entries being written, or left by a killed writer).
    pub temp_files: u64,
}

/// What `cache clear` or `cache prune` removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// The cache directory.
    pub dir: String,
    /// Entry files removed.
    pub entries: u64,
    /// Bytes of the files removed.
    pub bytes: u64,
    /// Temporary files removed.
    pub temp_files: u64,
}

/// What `cache prune` removed and kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pruned {
    /// What was removed.
    pub removed: Removed,
    /// Entry files kept.
    pub kept_entries: u64,
    /// Bytes of the entry files kept.
    pub kept_bytes: u64,
}

/// One file of the entries folder that piest owns.
struct Owned {
    path: PathBuf,
    temp: bool,
    bytes: u64,
    modified: SystemTime,
}

impl Cache {
    /// Counts and checks every entry.
    pub fn info(&self) -> Result<CacheInfo, CacheError> {
        let files = self.owned_files()?;
        let mut info = CacheInfo {
            dir: self.root().display().to_string(),
            exists: self.entries_dir().is_dir(),
            entries: 0,
            invalid: 0,
            bytes: files.iter().map(|f| f.bytes).sum(),
            chunks: 0,
            trials: 0,
            seeds: 0,
            temp_files: files.iter().filter(|f| f.temp).count() as u64,
        };
        let mut seeds = std::collections::HashSet::new();
        for file in files.iter().filter(|f| !f.temp) {
            if file.bytes > MAX_ENTRY_BYTES {
                info.invalid += 1;
                continue;
            }
            let bytes = match std::fs::read(&file.path) {
                Ok(bytes) => bytes,
                // Removed by another process since the listing.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                // One unreadable file (another user's, say) is counted, not fatal to `info`.
                Err(_) => {
                    info.invalid += 1;
                    continue;
                }
            };
            let name = file.path.file_name().map(|n| n.to_string_lossy());
            match Entry::decode_any(&bytes) {
                // An entry stored under another key's name is as invalid as a damaged one.
                Ok(entry) if name.as_deref() == Some(entry.key.file_name().as_str()) => {
                    info.entries += 1;
                    seeds.insert(entry.key.seed);
                    let records = entry.records();
                    for (i, r) in records.iter().enumerate() {
                        // Records are sorted by (index, trials): the last of an index is longest.
                        if records.get(i + 1).is_none_or(|next| next.index != r.index) {
                            info.chunks += 1;
                            info.trials = info.trials.saturating_add(r.trials);
                        }
                    }
                }
                _ => info.invalid += 1,
            }
        }
        info.seeds = seeds.len() as u64;
        Ok(info)
    }

    /// Removes every entry and temporary file.
    pub fn clear(&self) -> Result<Removed, CacheError> {
        let mut removed = self.removed();
        for file in self.owned_files()? {
            remove(&file, &mut removed)?;
        }
        Ok(removed)
    }

    /// Removes the entries not used for `older_than` (by modification time, which a read
    /// refreshes), then the least recently used until the rest takes at most `max_bytes`, and
    /// temporary files left by killed writers. `now` is the current time.
    pub fn prune(
        &self,
        max_bytes: Option<u64>,
        older_than: Option<Duration>,
        now: SystemTime,
    ) -> Result<Pruned, CacheError> {
        let age = |f: &Owned| now.duration_since(f.modified).unwrap_or(Duration::ZERO);
        let mut removed = self.removed();
        let mut kept = Vec::new();
        for file in self.owned_files()? {
            let expired = if file.temp {
                age(&file) > STALE_TEMP_AGE
            } else {
                older_than.is_some_and(|limit| age(&file) > limit)
            };
            match (expired, file.temp) {
                (true, _) => remove(&file, &mut removed)?,
                (false, false) => kept.push(file),
                (false, true) => {}
            }
        }
        // Oldest first; the name breaks ties so that the choice does not depend on listing order.
        kept.sort_by(|a, b| a.modified.cmp(&b.modified).then(a.path.cmp(&b.path)));
        let mut kept_bytes: u64 = kept.iter().map(|f| f.bytes).sum();
        let mut first_kept = 0;
        if let Some(max) = max_bytes {
            while kept_bytes > max && first_kept < kept.len() {
                remove(&kept[first_kept], &mut removed)?;
                kept_bytes -= kept[first_kept].bytes;
                first_kept += 1;
            }
        }
        Ok(Pruned {
            removed,
            kept_entries: (kept.len() - first_kept) as u64,
            kept_bytes,
        })
    }

    fn removed(&self) -> Removed {
        Removed {
            dir: self.root().display().to_string(),
            ..Removed::default()
        }
    }

    /// The entry and temporary files of the entries folder (none if it does not exist).
    fn owned_files(&self) -> Result<Vec<Owned>, CacheError> {
        let dir = self.entries_dir();
        let listing = match std::fs::read_dir(&dir) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(error("list", &dir, source)),
        };
        let mut files = Vec::new();
        for item in listing {
            let item = item.map_err(|source| error("list", &dir, source))?;
            let name = item.file_name();
            let Some(name) = name.to_str() else { continue };
            let temp = name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX);
            if !temp && !is_entry_name(name) {
                continue;
            }
            let path = item.path();
            let meta = match item.metadata() {
                Ok(meta) if meta.is_file() => meta,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(error("inspect", &path, source)),
            };
            files.push(Owned {
                path,
                temp,
                bytes: meta.len(),
                modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            });
        }
        Ok(files)
    }
}

/// Removes `file`, counting it; a file already gone (another process) is not an error.
fn remove(file: &Owned, removed: &mut Removed) -> Result<(), CacheError> {
    match std::fs::remove_file(&file.path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(error("remove", &file.path, source)),
    }
    removed.bytes += file.bytes;
    if file.temp {
        removed.temp_files += 1;
    } else {
        removed.entries += 1;
    }
    Ok(())
}

fn error(action: &'static str, path: &std::path::Path, source: std::io::Error) -> CacheError {
    CacheError {
        action,
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BlockKey, CacheSession, Record};
    use super::*;

    /// A cache with `blocks` full entries of 4 chunks of 10 trials each for seed 1, the entry of
    /// block `b` last used `10 · (blocks − b)` hours ago (block 0 oldest).
    fn cache_with(blocks: u64, now: SystemTime) -> (tempfile::TempDir, Cache) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let session = CacheSession::open(cache.clone(), true);
        for block in 0..blocks {
            let mut entry = Entry::empty(BlockKey::new(1, 10, block));
            for i in 0..4 {
                entry.insert(Record {
                    index: block * 256 + i,
                    trials: 10,
                    inside: 7,
                });
            }
            assert!(session.store(&mut entry));
            let file = std::fs::File::options()
                .write(true)
                .open(cache.entry_path(&entry.key))
                .unwrap();
            let hours = 10 * (blocks - block);
            file.set_modified(now - Duration::from_secs(3600 * hours))
                .unwrap();
        }
        (dir, cache)
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
        // Swap two entries' contents: both are now invalid.
        let a = cache.entry_path(&BlockKey::new(1, 10, 0));
        let b = cache.entry_path(&BlockKey::new(1, 10, 1));
        let (bytes_a, bytes_b) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        std::fs::write(&a, bytes_b).unwrap();
        std::fs::write(&b, bytes_a).unwrap();
        let info = cache.info().unwrap();
        assert_eq!((info.entries, info.invalid), (1, 2));
        assert!(entries.join("notes.txt").exists());
    }

    #[test]
    fn clear_removes_entries_and_temporary_files_only() {
        let (_dir, cache) = cache_with(3, SystemTime::now());
        let entries = cache.entries_dir();
        std::fs::write(entries.join(".tmp-abc.part"), b"half").unwrap();
        std::fs::write(entries.join("notes.txt"), b"mine").unwrap();
        let removed = cache.clear().unwrap();
        assert_eq!((removed.entries, removed.temp_files), (3, 1));
        assert!(removed.bytes > 0);
        assert_eq!(cache.info().unwrap().entries, 0);
        assert!(entries.join("notes.txt").exists());
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
        assert!(!cache.entry_path(&BlockKey::new(1, 10, 1)).exists());
        assert!(cache.entry_path(&BlockKey::new(1, 10, 2)).exists());
    }

    #[test]
    fn prune_by_size_removes_the_least_recently_used_first() {
        let now = SystemTime::now();
        let (_dir, cache) = cache_with(4, now);
        let one = std::fs::metadata(cache.entry_path(&BlockKey::new(1, 10, 0)))
            .unwrap()
            .len();
        let pruned = cache.prune(Some(2 * one + one / 2), None, now).unwrap();
        assert_eq!((pruned.removed.entries, pruned.kept_entries), (2, 2));
        assert!(pruned.kept_bytes <= 2 * one + one / 2);
        for (block, kept) in [(0, false), (1, false), (2, true), (3, true)] {
            assert_eq!(
                cache.entry_path(&BlockKey::new(1, 10, block)).exists(),
                kept
            );
        }
        // Limits that hold already remove nothing; zero removes everything.
        assert_eq!(
            cache
                .prune(Some(1 << 30), None, now)
                .unwrap()
                .removed
                .entries,
            0
        );
        assert_eq!(cache.prune(Some(0), None, now).unwrap().kept_entries, 0);
    }

    #[test]
    fn a_missing_cache_is_empty_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("none"));
        let info = cache.info().unwrap();
        assert!(!info.exists);
        assert_eq!(info.entries, 0);
        assert_eq!(cache.clear().unwrap().entries, 0);
        assert_eq!(
            cache
                .prune(Some(0), None, SystemTime::now())
                .unwrap()
                .kept_entries,
            0
        );
    }
}
