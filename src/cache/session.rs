//! A cache session: the cache as one run uses it. It reads and stores block entries for the
//! runner, keeps the hit, miss and store counts, and collects warnings instead of failing: the
//! first problem that makes the cache unusable turns reading or writing off for the rest of the
//! run, and the run goes on computing.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::entry::{BlockKey, Entry, Invalid};
use super::{Cache, MAX_ENTRY_BYTES, TEMP_PREFIX, TEMP_SUFFIX};

/// Longest time a block's completed chunks wait in memory before they are stored (unless the
/// run is killed). Storing a block costs about a tenth of a millisecond, so this bounds both the
/// work a `kill -9` can lose and the cost of storing (well below 1% of a run).
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// Invalid entries warned about one by one; further ones are counted in one last warning.
const MAX_INVALID_WARNINGS: usize = 3;

/// What the cache did during one run, for the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CacheSummary {
    /// The cache directory.
    pub dir: String,
    /// Chunks whose count was read from the cache.
    pub hits: u64,
    /// Chunks that were computed (every chunk with `refresh`).
    pub misses: u64,
    /// Computed chunks that were written to the cache.
    pub stored: u64,
    /// Whether existing entries were ignored and overwritten (`--refresh`).
    pub refresh: bool,
    /// Problems met (the run went on without the cache where needed); empty when all went well.
    pub warnings: Vec<String>,
}

/// The outcome of reading one entry file.
enum OnDisk {
    /// No such file.
    Missing,
    /// A valid entry, with its open file.
    Found(Entry, File),
    /// A file that is not a valid entry of the key.
    Invalid(Invalid),
    /// The file could not be read.
    Failed(io::Error),
}

/// Warnings and the bookkeeping that keeps each one to a single line.
#[derive(Default)]
struct Notes {
    warnings: Vec<String>,
    taken: usize,
    invalid_seen: HashSet<String>,
    invalid_unreported: u64,
    tallied: bool,
}

/// The cache as one run uses it; shared by the runner's worker threads.
pub struct CacheSession {
    cache: Cache,
    read: bool,
    usable: bool,
    reads_off: AtomicBool,
    writes_off: AtomicBool,
    hits: AtomicU64,
    misses: AtomicU64,
    stored: AtomicU64,
    notes: Mutex<Notes>,
}

impl CacheSession {
    /// Opens `cache` for a run, creating its folder. `read` false (`--refresh`) computes every
    /// chunk and overwrites the entries. A folder that cannot be created leaves the session
    /// unusable, with a warning: the run then computes everything and stores nothing.
    pub fn open(cache: Cache, read: bool) -> Self {
        let mut notes = Notes::default();
        let usable = match cache.create() {
            Ok(()) => true,
            Err(e) => {
                notes
                    .warnings
                    .push(format!("{e}; running without the cache"));
                false
            }
        };
        CacheSession {
            cache,
            read,
            usable,
            reads_off: AtomicBool::new(false),
            writes_off: AtomicBool::new(false),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            stored: AtomicU64::new(0),
            notes: Mutex::new(notes),
        }
    }

    /// The cache this session uses.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// The stored entry of `key`, if it exists, is valid and reading is on. Reading a valid
    /// entry marks it as recently used (its modification time), which is what `prune` ages by.
    pub fn load(&self, key: &BlockKey) -> Option<Entry> {
        if !self.usable || !self.read || self.reads_off.load(Ordering::Relaxed) {
            return None;
        }
        let path = self.cache.entry_path(key);
        match read_entry(&path, key) {
            OnDisk::Missing => None,
            OnDisk::Found(entry, file) => {
                // Best effort: a cache on a read-only medium is still worth reading.
                let _ = file.set_modified(SystemTime::now());
                Some(entry)
            }
            OnDisk::Invalid(why) => {
                self.invalid(&path, &why);
                None
            }
            OnDisk::Failed(e) => {
                if !self.reads_off.swap(true, Ordering::Relaxed) {
                    self.warn(format!(
                        "cannot read cache entry {}: {e}; not reading the cache for this run",
                        path.display()
                    ));
                }
                None
            }
        }
    }

    /// Stores `entry`: adds the records already on disk that `entry` lacks (another process may
    /// have stored some), then writes it atomically unless the file already holds all of it.
    /// Returns whether the file now holds `entry`'s records.
    pub fn store(&self, entry: &mut Entry) -> bool {
        if !self.usable || self.writes_off.load(Ordering::Relaxed) {
            return false;
        }
        let path = self.cache.entry_path(&entry.key);
        match read_entry(&path, &entry.key) {
            OnDisk::Found(on_disk, _) => {
                entry.fill_from(&on_disk);
                if *entry == on_disk {
                    return true;
                }
            }
            // A damaged entry is replaced by this one.
            OnDisk::Invalid(why) => self.invalid(&path, &why),
            // Nothing to keep; the write below says whether the folder is usable.
            OnDisk::Missing | OnDisk::Failed(_) => {}
        }
        match write_atomic(&self.cache.entries_dir(), &path, &entry.encode()) {
            Ok(()) => true,
            Err(e) => {
                if !self.writes_off.swap(true, Ordering::Relaxed) {
                    self.warn(format!(
                        "cannot write cache entry {}: {e}; this run's results are not cached",
                        path.display()
                    ));
                }
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
    /// warning that counts invalid entries beyond the first few.
    pub fn summary(&self) -> CacheSummary {
        let mut notes = self.notes();
        if notes.invalid_unreported > 0 && !notes.tallied {
            notes.tallied = true;
            let n = notes.invalid_unreported;
            notes.warnings.push(format!(
                "{n} more invalid cache entr{} recomputed and replaced",
                if n == 1 { "y was" } else { "ies were" }
            ));
        }
        CacheSummary {
            dir: self.cache.root().display().to_string(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            stored: self.stored.load(Ordering::Relaxed),
            refresh: !self.read,
            warnings: notes.warnings.clone(),
        }
    }

    /// Records an invalid entry: one warning per file, the first few spelled out.
    fn invalid(&self, path: &Path, why: &Invalid) {
        let mut notes = self.notes();
        if !notes.invalid_seen.insert(path.display().to_string()) {
            return;
        }
        if notes.invalid_seen.len() <= MAX_INVALID_WARNINGS {
            notes.warnings.push(format!(
                "cache entry {} is invalid ({why}); recomputing its chunks and replacing it",
                path.display()
            ));
        } else {
            notes.invalid_unreported += 1;
        }
    }

    fn warn(&self, warning: String) {
        self.notes().warnings.push(warning);
    }

    fn notes(&self) -> std::sync::MutexGuard<'_, Notes> {
        // A panic elsewhere cannot leave the notes inconsistent: keep using them.
        self.notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Reads and checks the entry file at `path`, which should hold `key`'s entry. A found entry
/// comes with its open file, so that its modification time can be updated without a reopen.
fn read_entry(path: &Path, key: &BlockKey) -> OnDisk {
    // Something else under an entry's name (a folder, a FIFO that would block the open) is
    // treated like a damaged entry: recomputed and replaced.
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            return OnDisk::Invalid(Invalid("not a regular file".into()));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return OnDisk::Missing,
        _ => {}
    }
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return OnDisk::Missing,
        // One entry this user may not read (another user's, in a shared cache) is that entry's
        // problem only: recompute its block rather than stop reading the cache.
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            return OnDisk::Invalid(Invalid(format!("cannot be read: {e}")));
        }
        Err(e) => return OnDisk::Failed(e),
    };
    let mut bytes = Vec::new();
    if let Err(e) = (&mut file)
        .take(MAX_ENTRY_BYTES + 1)
        .read_to_end(&mut bytes)
    {
        return OnDisk::Failed(e);
    }
    if bytes.len() as u64 > MAX_ENTRY_BYTES {
        return OnDisk::Invalid(Invalid("too large to be an entry".into()));
    }
    match Entry::decode(&bytes, key) {
        Ok(entry) => OnDisk::Found(entry, file),
        Err(why) => OnDisk::Invalid(why),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in `dir` (the same file system), then
/// a rename over `path`.
fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    // Readable by everyone, like any cache file, so a cache folder can be shared between users.
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Record;
    use super::*;

    fn entry(key: &BlockKey, records: &[(u64, u64)]) -> Entry {
        let mut e = Entry::empty(key.clone());
        for &(index, inside) in records {
            e.insert(Record {
                index,
                trials: key.chunk_size,
                inside,
            });
        }
        e
    }

    #[test]
    fn stored_entries_are_loaded_and_merged_with_what_is_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let session = CacheSession::open(Cache::new(dir.path()), true);
        let key = BlockKey::new(1, 10, 0);
        assert_eq!(session.load(&key), None);
        assert!(session.store(&mut entry(&key, &[(0, 5), (1, 6)])));
        // Another writer with other chunks: the file ends up with the union.
        assert!(session.store(&mut entry(&key, &[(2, 7)])));
        let loaded = session.load(&key).unwrap();
        assert_eq!(loaded, entry(&key, &[(0, 5), (1, 6), (2, 7)]));
        assert!(session.take_warnings().is_empty());
        // No stray temporary files.
        let names: Vec<String> = std::fs::read_dir(session.cache().entries_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn refresh_reads_nothing_but_still_stores() {
        let dir = tempfile::tempdir().unwrap();
        let key = BlockKey::new(1, 10, 0);
        CacheSession::open(Cache::new(dir.path()), true).store(&mut entry(&key, &[(0, 5)]));
        let session = CacheSession::open(Cache::new(dir.path()), false);
        assert_eq!(session.load(&key), None);
        assert!(session.store(&mut entry(&key, &[(0, 4)])));
        let reread = CacheSession::open(Cache::new(dir.path()), true).load(&key);
        assert_eq!(reread.unwrap().get(0, 10), Some(4), "refresh overwrites");
        assert!(session.summary().refresh);
    }

    #[test]
    fn an_invalid_entry_is_warned_about_once_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let session = CacheSession::open(Cache::new(dir.path()), true);
        let key = BlockKey::new(1, 10, 0);
        let path = session.cache().entry_path(&key);
        std::fs::write(&path, b"{\"format\": ").unwrap();
        assert_eq!(session.load(&key), None);
        assert!(session.store(&mut entry(&key, &[(0, 5)])));
        let warnings = session.take_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("truncated"), "{warnings:?}");
        assert_eq!(session.load(&key).unwrap().get(0, 10), Some(5));
    }

    #[test]
    fn many_invalid_entries_make_a_few_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let session = CacheSession::open(Cache::new(dir.path()), true);
        for block in 0..10 {
            let key = BlockKey::new(1, 10, block);
            std::fs::write(session.cache().entry_path(&key), b"").unwrap();
            assert_eq!(session.load(&key), None);
        }
        let warnings = session.summary().warnings;
        assert_eq!(warnings.len(), MAX_INVALID_WARNINGS + 1, "{warnings:?}");
        assert!(warnings[MAX_INVALID_WARNINGS].starts_with("7 more invalid cache entries"));
    }

    #[test]
    fn a_directory_that_cannot_be_created_disables_the_session_with_one_warning() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"not a directory").unwrap();
        let session = CacheSession::open(Cache::new(file.join("cache")), true);
        let key = BlockKey::new(1, 10, 0);
        assert_eq!(session.load(&key), None);
        assert!(!session.store(&mut entry(&key, &[(0, 5)])));
        let warnings = session.summary().warnings;
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("cannot create cache directory"));
    }

    #[test]
    fn a_failing_write_turns_writing_off_with_one_warning() {
        let dir = tempfile::tempdir().unwrap();
        let session = CacheSession::open(Cache::new(dir.path()), true);
        // The folder disappears under the run and a file takes its place.
        let entries = session.cache().entries_dir();
        std::fs::remove_dir_all(&entries).unwrap();
        std::fs::write(&entries, b"in the way").unwrap();
        for block in 0..3 {
            let key = BlockKey::new(1, 10, block);
            assert!(!session.store(&mut entry(&key, &[(block * 256, 5)])));
        }
        let warnings = session.take_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("cannot write cache entry"),
            "{warnings:?}"
        );
    }
}
