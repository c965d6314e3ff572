//! A cache session: the cache as one run uses it. It reads and stores block entries for the
//! runner, keeps the hit, miss and store counts, and collects warnings instead of failing. A
//! problem with one entry (damaged, forged, unreadable, not a file, impossible to replace) costs
//! that block only; only a cache that cannot be opened at all (no folder, no usable key, a key
//! that is not trusted) is off for the whole run.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::entry::{BlockKey, Entry, Invalid, MAX_ENTRY_BYTES};
use super::key::{KeyError, Secret, open_regular};
use super::{Cache, TEMP_PREFIX, TEMP_SUFFIX, file_kind};

/// Longest time a block's completed chunks wait in memory before they are stored (unless the
/// run is killed). Storing a block costs about a tenth of a millisecond, so this bounds both the
/// work a `kill -9` can lose and the cost of storing (well below 1% of a run).
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// Entries with a problem warned about one by one; further ones are counted in one last warning.
const MAX_ENTRY_WARNINGS: usize = 3;

/// What the cache did during one run, for the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CacheSummary {
    pub dir: String,
    /// Chunks whose count was read from the cache.
    pub hits: u64,
    /// Chunks that were computed (every chunk with `refresh`).
    pub misses: u64,
    /// Computed chunks that were written to the cache.
    pub stored: u64,
    /// Whether existing entries were ignored and overwritten (`--refresh`).
    pub refresh: bool,
    /// Entry files written (each store of a block counts once).
    pub entries_written: u64,
    /// Bytes of the entry files written.
    pub bytes_written: u64,
    /// Problems met (the run went on without the cache where needed); empty when all went well.
    pub warnings: Vec<String>,
}

/// The outcome of reading one entry file.
enum OnDisk {
    /// No such file.
    Missing,
    /// A valid entry, with its open file.
    Found(Entry, File),
    /// Something that is not a valid entry of the key (or cannot be read): a miss.
    Unusable(Invalid),
}

/// Warnings and the bookkeeping that keeps each one to a single line.
#[derive(Default)]
struct Notes {
    warnings: Vec<String>,
    taken: usize,
    entries_seen: HashSet<PathBuf>,
    /// Entries with a problem beyond the first few, not warned about one by one.
    unreported: u64,
    /// Whether the warning that counts the `unreported` entries has been added.
    unreported_warned: bool,
}

/// An opened cache: its entries folder and secret.
struct Opened {
    dir: PathBuf,
    secret: Secret,
}

/// The cache as one run uses it; shared by the runner's worker threads.
pub struct CacheSession {
    cache: Cache,
    read: bool,
    opened: Option<Opened>,
    hits: AtomicU64,
    misses: AtomicU64,
    stored: AtomicU64,
    entries_written: AtomicU64,
    bytes_written: AtomicU64,
    notes: Mutex<Notes>,
}

impl CacheSession {
    /// Opens `cache` for a run, creating its folder and secret if missing. `read` false
    /// (`--refresh`) computes every chunk and overwrites the entries. A cache that cannot be
    /// opened (folder or key missing and impossible to create, key unreadable or not trusted)
    /// leaves the session unusable, with one warning: the run then computes everything, stores
    /// nothing. A damaged key is replaced, with one warning.
    pub fn open(cache: Cache, read: bool) -> Self {
        let mut notes = Notes::default();
        // Nothing is created where it could not be trusted.
        let trusted = super::trust::check_folders(&cache.entries_dir()).map_err(|source| {
            KeyError::Untrusted {
                path: Secret::path(&cache.entries_dir()),
                source,
            }
            .to_string()
        });
        let opened = match trusted
            .and_then(|()| cache.create().map_err(|e| e.to_string()))
            .and_then(|dir| match Secret::load_or_create(&dir) {
                Ok((secret, replaced)) => {
                    if let Some(replaced) = replaced {
                        notes.warnings.push(replaced.to_string());
                    }
                    Ok(Opened { dir, secret })
                }
                Err(e) => Err(e.to_string()),
            }) {
            Ok(opened) => Some(opened),
            Err(e) => {
                notes
                    .warnings
                    .push(format!("{e}; running without the cache"));
                None
            }
        };
        CacheSession {
            cache,
            read,
            opened,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            stored: AtomicU64::new(0),
            entries_written: AtomicU64::new(0),
            bytes_written: AtomicU64::new(0),
            notes: Mutex::new(notes),
        }
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Whether the cache could be opened (if not, nothing is read or stored).
    pub fn is_usable(&self) -> bool {
        self.opened.is_some()
    }

    /// The path of `key`'s entry, if the cache is open.
    pub fn entry_path(&self, key: &BlockKey) -> Option<PathBuf> {
        let opened = self.opened.as_ref()?;
        Some(opened.dir.join(key.file_name(&opened.secret)))
    }

    /// The stored entry of `key`, if it exists, is valid and reading is on. Reading a valid
    /// entry marks it as recently used (its modification time), which is what `prune` ages by.
    pub fn load(&self, key: &BlockKey) -> Option<Entry> {
        let opened = self.opened.as_ref().filter(|_| self.read)?;
        let path = opened.dir.join(key.file_name(&opened.secret));
        match read_entry(&path, key, &opened.secret) {
            OnDisk::Missing => None,
            OnDisk::Found(entry, file) => {
                // Best effort: a cache on a read-only medium, or another user's entry, is
                // still worth reading.
                let _ = file.set_modified(SystemTime::now());
                Some(entry)
            }
            OnDisk::Unusable(why) => {
                self.entry_problem(
                    &path,
                    format!(
                        "cache entry {} is invalid ({why}); recomputing its chunks",
                        path.display()
                    ),
                );
                None
            }
        }
    }

    /// Stores the spans `ours` computed by this run: merges them with the entry on disk (another
    /// run may have stored other spans; see [`Entry::merged_with`]) and writes the result
    /// atomically unless the file holds it already. Returns whether the file now holds `ours`.
    /// A failure costs this entry only: one warning, and later stores are tried as usual.
    pub fn store(&self, ours: &Entry) -> bool {
        let Some(opened) = self.opened.as_ref() else {
            return false;
        };
        let path = opened.dir.join(ours.key.file_name(&opened.secret));
        let merged = match read_entry(&path, &ours.key, &opened.secret) {
            OnDisk::Found(on_disk, _) => {
                let merged = on_disk.merged_with(ours);
                if merged == on_disk {
                    return true;
                }
                merged
            }
            // A damaged entry (already warned about when loaded) is replaced by ours.
            OnDisk::Unusable(_) | OnDisk::Missing => ours.clone(),
        };
        let bytes = merged.encode(&opened.secret);
        match write_atomic(&opened.dir, &path, &bytes) {
            Ok(()) => {
                self.entries_written.fetch_add(1, Ordering::Relaxed);
                self.bytes_written
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                true
            }
            Err(e) => {
                self.entry_problem(
                    &path,
                    format!(
                        "cannot write cache entry {}: {e}; its chunks are not cached",
                        path.display()
                    ),
                );
                false
            }
        }
    }

    /// Adds to the counts of chunks read, computed and stored.
    pub fn count(&self, hits: u64, misses: u64, stored: u64) {
        self.hits.fetch_add(hits, Ordering::Relaxed);
        self.misses.fetch_add(misses, Ordering::Relaxed);
        self.stored.fetch_add(stored, Ordering::Relaxed);
    }

    /// Warnings recorded since the last call, for showing as they come.
    pub fn take_warnings(&self) -> Vec<String> {
        let mut notes = self.notes();
        let new = notes.warnings[notes.taken..].to_vec();
        notes.taken = notes.warnings.len();
        new
    }

    /// The counts and every warning so far. Call it when the run is over: it also adds the
    /// warning that counts entries with problems beyond the first few.
    pub fn summary(&self) -> CacheSummary {
        let mut notes = self.notes();
        if notes.unreported > 0 && !notes.unreported_warned {
            notes.unreported_warned = true;
            let n = notes.unreported;
            notes.warnings.push(format!(
                "{n} more cache entr{} could not be used and {} recomputed",
                if n == 1 { "y" } else { "ies" },
                if n == 1 {
                    "its chunks were"
                } else {
                    "their chunks were"
                }
            ));
        }
        CacheSummary {
            dir: self.cache.root().display().to_string(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            stored: self.stored.load(Ordering::Relaxed),
            refresh: !self.read,
            entries_written: self.entries_written.load(Ordering::Relaxed),
            bytes_written: self.bytes_written.load(Ordering::Relaxed),
            warnings: notes.warnings.clone(),
        }
    }

    /// Records a problem with one entry: one warning per file, the first few spelled out.
    fn entry_problem(&self, path: &Path, warning: String) {
        let mut notes = self.notes();
        if !notes.entries_seen.insert(path.to_path_buf()) {
            return;
        }
        if notes.entries_seen.len() <= MAX_ENTRY_WARNINGS {
            notes.warnings.push(warning);
        } else {
            notes.unreported += 1;
        }
    }

    fn notes(&self) -> std::sync::MutexGuard<'_, Notes> {
        // A panic elsewhere cannot leave the notes inconsistent: keep using them.
        self.notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Reads and checks the entry file at `path`, which should hold `key`'s entry. Whatever is
/// there that is not a small regular file (a folder, a symbolic link, a FIFO, a device, a file
/// of gigabytes) is a miss, found without following a link, blocking or reading more than an
/// entry can hold. A found entry comes with its open file, so that its modification time can be
/// updated without a reopen.
fn read_entry(path: &Path, key: &BlockKey, secret: &Secret) -> OnDisk {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return OnDisk::Missing,
        Err(e) => return OnDisk::Unusable(Invalid(format!("cannot be inspected: {e}"))),
        Ok(meta) if !meta.is_file() => {
            return OnDisk::Unusable(Invalid(format!("a {}", file_kind(&meta.file_type()))));
        }
        Ok(meta) if meta.len() > MAX_ENTRY_BYTES => {
            return OnDisk::Unusable(Invalid(format!(
                "{} bytes, too large to be an entry",
                meta.len()
            )));
        }
        Ok(_) => {}
    }
    let file = match open_regular(path, MAX_ENTRY_BYTES) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return OnDisk::Missing,
        Err(e) => return OnDisk::Unusable(Invalid(format!("cannot be read: {e}"))),
    };
    let mut bytes = Vec::new();
    if let Err(e) = (&file).take(MAX_ENTRY_BYTES + 1).read_to_end(&mut bytes) {
        return OnDisk::Unusable(Invalid(format!("cannot be read: {e}")));
    }
    match Entry::decode(&bytes, key, secret) {
        Ok(entry) => OnDisk::Found(entry, file),
        Err(why) => OnDisk::Unusable(why),
    }
}

/// Writes `bytes` to `path` atomically: a new temporary file in `dir` (the same file system,
/// created exclusively, so never through a planted link), then a rename over `path`, which
/// replaces whatever name is there (a link itself, never its target).
pub(super) fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
    // Readable by everyone, like any cache file: the counts are no secret, and a cache folder
    // may be shared. What keeps entries honest is the MAC, not the mode.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Span;
    use super::*;
    use crate::sampler::Method;

    fn entry(key: &BlockKey, chunks: &[(u64, u64)]) -> Entry {
        let mut e = Entry::empty(key.clone());
        for &(index, inside) in chunks {
            e.join(Span {
                first: index,
                end: index + 1,
                trials: key.chunk_size,
                inside,
                squares: None,
            });
        }
        e
    }

    #[test]
    fn stored_entries_are_loaded_and_merged_with_what_is_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let session = CacheSession::open(Cache::new(dir.path()), true);
        let key = BlockKey::new(Method::Plain, 1, 1 << 22, 0);
        assert_eq!(session.load(&key), None);
        assert!(session.store(&entry(&key, &[(0, 5), (1, 6)])));
        // Another writer with other chunks: the file ends up with the union.
        assert!(session.store(&entry(&key, &[(2, 7)])));
        let loaded = session.load(&key).unwrap();
        assert_eq!(loaded, entry(&key, &[(0, 5), (1, 6), (2, 7)]));
        assert!(session.take_warnings().is_empty());
        let summary = session.summary();
        assert_eq!(summary.entries_written, 2);
        // Nothing but the tag, the key, its lock and the entry: no stray temporary files.
        let names: Vec<String> = std::fs::read_dir(session.cache().entries_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 4, "{names:?}");
    }

    #[test]
    fn refresh_reads_nothing_and_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let key = BlockKey::new(Method::Plain, 1, 1 << 22, 0);
        CacheSession::open(Cache::new(dir.path()), true).store(&entry(&key, &[(0, 5)]));
        let session = CacheSession::open(Cache::new(dir.path()), false);
        assert_eq!(session.load(&key), None);
        assert!(session.store(&entry(&key, &[(0, 4)])));
        let reread = CacheSession::open(Cache::new(dir.path()), true).load(&key);
        assert_eq!(
            reread.unwrap(),
            entry(&key, &[(0, 4)]),
            "refresh overwrites"
        );
        assert!(session.summary().refresh);
    }

    #[test]
    fn an_invalid_entry_is_warned_about_once_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let session = CacheSession::open(Cache::new(dir.path()), true);
        let key = BlockKey::new(Method::Plain, 1, 1 << 22, 0);
        let path = session.entry_path(&key).unwrap();
        std::fs::write(&path, b"piest-cache").unwrap();
        assert_eq!(session.load(&key), None);
        assert!(session.store(&entry(&key, &[(0, 5)])));
        let warnings = session.take_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("truncated"), "{warnings:?}");
        assert_eq!(session.load(&key), Some(entry(&key, &[(0, 5)])));
    }

    #[test]
    fn many_bad_entries_make_a_few_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let session = CacheSession::open(Cache::new(dir.path()), true);
        for block in 0..10 {
            let key = BlockKey::new(Method::Plain, 1, 1 << 22, block);
            std::fs::write(session.entry_path(&key).unwrap(), b"").unwrap();
            assert_eq!(session.load(&key), None);
        }
        let warnings = session.summary().warnings;
        assert_eq!(warnings.len(), MAX_ENTRY_WARNINGS + 1, "{warnings:?}");
        assert!(warnings[MAX_ENTRY_WARNINGS].starts_with("7 more cache entries"));
    }

    #[test]
    fn a_directory_that_cannot_be_created_disables_the_session_with_one_warning() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"not a directory").unwrap();
        let session = CacheSession::open(Cache::new(file.join("cache")), true);
        let key = BlockKey::new(Method::Plain, 1, 10, 0);
        assert!(!session.is_usable());
        assert_eq!(session.load(&key), None);
        assert!(!session.store(&entry(&key, &[(0, 5)])));
        let warnings = session.summary().warnings;
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("cannot create cache directory"));
    }

    #[test]
    fn failing_writes_cost_only_their_entries() {
        let dir = tempfile::tempdir().unwrap();
        let session = CacheSession::open(Cache::new(dir.path()), true);
        let keys: Vec<BlockKey> = (0..4)
            .map(|b| BlockKey::new(Method::Plain, 1, 1 << 22, b))
            .collect();
        // A non-empty folder where block 1's entry belongs: its rename fails.
        let blocked = session.entry_path(&keys[1]).unwrap();
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("x"), b"").unwrap();
        for (b, key) in keys.iter().enumerate() {
            let b = b as u64;
            assert_eq!(session.store(&entry(key, &[(b * 256, 5)])), b != 1, "{b}");
        }
        for (b, key) in keys.iter().enumerate() {
            assert_eq!(session.load(key).is_some(), b != 1, "{b}");
        }
        // One warning for the one entry, though both its store and its load failed.
        let warnings = session.summary().warnings;
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("cannot write cache entry"),
            "{warnings:?}"
        );
    }
}
