//! Maintenance of a cache directory: `info` (what is there), `clear` (remove every entry) and
//! `prune` (remove entries by age and total size, least recently used first, like joblib's
//! `reduce_size`). Only names of the cache's shapes are ever touched; of those, files that are
//! not regular files are *strange*: counted and named, and removed only when they cannot be
//! anyone's data (links, FIFOs, sockets, empty folders), never following a link. Every command
//! looks at a cancel flag between files.

use std::fs::DirEntry;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::entry::{Entry, MAX_ENTRY_BYTES, is_entry_name};
use super::key::{KeyError, Secret, open_regular};
use super::verify::VerifyReport;
use super::{Cache, CacheError, TAG_FILE, TEMP_PREFIX, TEMP_SUFFIX, file_kind};

/// A temporary file older than this is a leftover of a killed writer, which `prune` removes
/// (a live writer renames its temporary file within milliseconds).
const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// Strange files and failed removals named one by one in a report; the rest are counted.
const MAX_NAMED: usize = 20;

/// The state of the cache's secret, as `info` found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// A valid key: entries were verified.
    Present,
    /// No key yet (the next run creates one); entries cannot be verified.
    Missing,
    /// A key this user cannot read; entries cannot be verified and runs do not use the cache.
    Unreadable,
    /// Something at the key's path that is not a key; runs do not use the cache.
    Damaged,
}

/// A file under an entry's (or temporary file's) name that is not a regular file of an entry's
/// size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Strange {
    /// The file.
    pub path: String,
    /// What it is ("directory", "symbolic link", "FIFO", "4294967296 bytes", ...).
    pub kind: String,
    /// Whether `clear` and `prune` remove it (it cannot be anyone's data).
    pub removable: bool,
}

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
    /// Chunks whose counts the valid entries hold (a chunk in several spans counts once).
    pub chunks: u64,
    /// Trials those chunks cover (a chunk with a full and a remainder span counts as full).
    pub trials: u64,
    /// Distinct seeds among the valid entries.
    pub seeds: u64,
    /// Temporary files (entries being written, or left by a killed writer).
    pub temp_files: u64,
    /// The cache's secret.
    pub key: KeyState,
    /// Entry files not checked because there is no readable key.
    pub unverified: u64,
    /// Strange files under entry names (see [`Strange`]).
    pub strange: u64,
    /// The first few of them, named.
    pub strange_files: Vec<Strange>,
    /// Files of the previous format's folder (`v1/`), which is never read.
    pub old_format_files: u64,
    /// Bytes of those files.
    pub old_format_bytes: u64,
}

/// A file that `clear` or `prune` left in place, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotRemoved {
    /// The file.
    pub path: String,
    /// Why: what it is, or the OS error of the removal.
    pub why: String,
}

/// What `cache clear` or `cache prune` removed of the entries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// The cache directory.
    pub dir: String,
    /// Entry files removed.
    pub entries: u64,
    /// Bytes of the files removed (entries, temporary files, the old format's files).
    pub bytes: u64,
    /// Temporary files removed.
    pub temp_files: u64,
}

/// What `cache clear` or `cache prune` did besides entries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Swept {
    /// Strange files removed (links, FIFOs, sockets, empty folders under entry names).
    pub strange: u64,
    /// Files of the previous format's folder removed.
    pub old_format_files: u64,
    /// Files left in place (strange files that may be someone's data, failed removals).
    pub not_removed: u64,
    /// The first few of them, named.
    pub not_removed_files: Vec<NotRemoved>,
}

/// What `cache clear` removed (serialized as one flat object).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Cleared {
    /// Entries and temporary files.
    #[serde(flatten)]
    pub removed: Removed,
    /// Strange and old files, and what was left.
    #[serde(flatten)]
    pub swept: Swept,
}

/// What `cache prune` removed and kept (serialized as [`Pruned`] plus [`Swept`]'s fields).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// Entries removed and kept.
    #[serde(flatten)]
    pub pruned: Pruned,
    /// Strange and old files, and what was left.
    #[serde(flatten)]
    pub swept: Swept,
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

/// What a maintenance command had done when it stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Done {
    /// Nothing that changed the cache (`info`, or a stop before the first removal).
    Nothing,
    /// Files removed (`clear`, `prune`).
    Removed(Box<Cleared>),
    /// Chunks verified, and differing spans removed (`verify`).
    Verified(Box<VerifyReport>),
}

impl Done {
    /// ", after removing …" when something was removed, else nothing.
    fn progress(&self) -> String {
        let (entries, bytes, other) = match self {
            Done::Nothing => return String::new(),
            Done::Removed(c) => (
                c.removed.entries,
                c.removed.bytes,
                c.removed.temp_files + c.swept.strange + c.swept.old_format_files,
            ),
            Done::Verified(v) => (v.entries_removed, 0, v.removed_spans),
        };
        if entries + other == 0 {
            return String::new();
        }
        format!(
            "; it had removed {entries} entr{} ({bytes} bytes) and {other} other file{} or span{}",
            if entries == 1 { "y" } else { "ies" },
            if other == 1 { "" } else { "s" },
            if other == 1 { "" } else { "s" },
        )
    }
}

/// Why a maintenance command stopped before its end. The cache is consistent either way: every
/// file is whole or gone.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    /// The cancel flag was set.
    #[error("interrupted{}", done.progress())]
    Cancelled {
        /// What had been done.
        done: Done,
    },
    /// A folder could not be listed (single files that cannot be removed do not stop it).
    #[error("{source}{}", done.progress())]
    Failed {
        /// The failure.
        source: CacheError,
        /// What had been done.
        done: Done,
    },
    /// `verify` needs the cache's key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// `verify` could not start its worker threads.
    #[error("cannot start {workers} worker threads: {source}")]
    Workers {
        /// Threads requested.
        workers: usize,
        /// Why rayon refused.
        source: rayon::ThreadPoolBuildError,
    },
}

/// One name of the entries folder that piest owns.
pub(super) struct Owned {
    pub(super) path: PathBuf,
    pub(super) temp: bool,
    bytes: u64,
    modified: SystemTime,
}

/// The entries folder, sorted out.
#[derive(Default)]
pub(super) struct Listing {
    pub(super) owned: Vec<Owned>,
    strange: Vec<Strange>,
}

/// Stops with [`MaintenanceError::Cancelled`] if `cancel` is set.
pub(crate) fn check(
    cancel: &AtomicBool,
    done: impl FnOnce() -> Done,
) -> Result<(), MaintenanceError> {
    if cancel.load(Ordering::Relaxed) {
        Err(MaintenanceError::Cancelled { done: done() })
    } else {
        Ok(())
    }
}

impl Cache {
    /// Counts and checks every entry ([`Cache::info_cancellable`] without a cancel flag).
    pub fn info(&self) -> Result<CacheInfo, MaintenanceError> {
        self.info_cancellable(&AtomicBool::new(false))
    }

    /// Counts and checks every entry, names strange files and counts the old format's files;
    /// stops soon after `cancel` is set.
    pub fn info_cancellable(&self, cancel: &AtomicBool) -> Result<CacheInfo, MaintenanceError> {
        let dir = self.entries_dir();
        let listing = self.list(cancel, &|| Done::Nothing)?;
        let (key, secret) = match Secret::load(&dir) {
            Ok(secret) => (KeyState::Present, Some(secret)),
            Err(KeyError::Missing { .. }) => (KeyState::Missing, None),
            Err(KeyError::Corrupt { .. }) => (KeyState::Damaged, None),
            Err(_) => (KeyState::Unreadable, None),
        };
        let (old_files, old_bytes) = self.old_format(cancel, &|| Done::Nothing, None)?;
        let mut info = CacheInfo {
            dir: self.root().display().to_string(),
            exists: dir.is_dir(),
            entries: 0,
            invalid: 0,
            bytes: listing.owned.iter().map(|f| f.bytes).sum(),
            chunks: 0,
            trials: 0,
            seeds: 0,
            temp_files: listing.owned.iter().filter(|f| f.temp).count() as u64,
            key,
            unverified: 0,
            strange: listing.strange.len() as u64,
            strange_files: listing.strange.iter().take(MAX_NAMED).cloned().collect(),
            old_format_files: old_files,
            old_format_bytes: old_bytes,
        };
        let mut seeds = std::collections::HashSet::new();
        for file in listing.owned.iter().filter(|f| !f.temp) {
            check(cancel, || Done::Nothing)?;
            let Some(secret) = &secret else {
                info.unverified += 1;
                continue;
            };
            let bytes = match read_file(&file.path) {
                Ok(bytes) => bytes,
                // Removed by another process since the listing.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                // One unreadable file (another user's, say) is counted, not fatal to `info`.
                Err(_) => {
                    info.invalid += 1;
                    continue;
                }
            };
            let name = file.path.file_name().map(|n| n.to_string_lossy());
            match Entry::decode_any(&bytes, secret) {
                // An entry stored under another key's name is as invalid as a damaged one.
                Ok(entry) if name.as_deref() == Some(entry.key.file_name(secret).as_str()) => {
                    info.entries += 1;
                    seeds.insert(entry.key.seed);
                    let (chunks, trials) = coverage(&entry);
                    info.chunks = info.chunks.saturating_add(chunks);
                    info.trials = info.trials.saturating_add(trials);
                }
                _ => info.invalid += 1,
            }
        }
        info.seeds = seeds.len() as u64;
        Ok(info)
    }

    /// Removes every entry ([`Cache::clear_cancellable`] without a cancel flag).
    pub fn clear(&self) -> Result<Removed, MaintenanceError> {
        Ok(self.clear_cancellable(&AtomicBool::new(false))?.removed)
    }

    /// Removes every entry and temporary file, the removable strange files and the old format's
    /// files; keeps the key. Stops soon after `cancel` is set, saying what it had removed.
    pub fn clear_cancellable(&self, cancel: &AtomicBool) -> Result<Cleared, MaintenanceError> {
        let mut done = self.cleared();
        let listing = self.list(cancel, &|| Done::Nothing)?;
        for file in &listing.owned {
            check(cancel, || Done::Removed(Box::new(done.clone())))?;
            remove(file, &mut done);
        }
        self.remove_strange(&listing.strange, &mut done, cancel)?;
        self.remove_old_format(&mut done, cancel)?;
        Ok(done)
    }

    /// Prunes ([`Cache::prune_cancellable`] without a cancel flag).
    pub fn prune(
        &self,
        max_bytes: Option<u64>,
        older_than: Option<Duration>,
        now: SystemTime,
    ) -> Result<Pruned, MaintenanceError> {
        let report = self.prune_cancellable(max_bytes, older_than, now, &AtomicBool::new(false))?;
        Ok(report.pruned)
    }

    /// Removes the entries not used for `older_than` (by modification time, which a read
    /// refreshes), then the least recently used until the rest takes at most `max_bytes`, and
    /// temporary files left by killed writers, removable strange files and the old format's
    /// files. `now` is the current time. Stops soon after `cancel` is set.
    pub fn prune_cancellable(
        &self,
        max_bytes: Option<u64>,
        older_than: Option<Duration>,
        now: SystemTime,
        cancel: &AtomicBool,
    ) -> Result<PruneReport, MaintenanceError> {
        let age = |f: &Owned| now.duration_since(f.modified).unwrap_or(Duration::ZERO);
        let mut done = self.cleared();
        let mut kept = Vec::new();
        let listing = self.list(cancel, &|| Done::Nothing)?;
        for file in listing.owned {
            check(cancel, || Done::Removed(Box::new(done.clone())))?;
            let expired = if file.temp {
                age(&file) > STALE_TEMP_AGE
            } else {
                older_than.is_some_and(|limit| age(&file) > limit)
            };
            match (expired, file.temp) {
                (true, _) => {
                    remove(&file, &mut done);
                }
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
                check(cancel, || Done::Removed(Box::new(done.clone())))?;
                if remove(&kept[first_kept], &mut done) {
                    kept_bytes -= kept[first_kept].bytes;
                }
                first_kept += 1;
            }
        }
        self.remove_strange(&listing.strange, &mut done, cancel)?;
        self.remove_old_format(&mut done, cancel)?;
        Ok(PruneReport {
            pruned: Pruned {
                removed: done.removed,
                kept_entries: (kept.len() - first_kept) as u64,
                kept_bytes,
            },
            swept: done.swept,
        })
    }

    /// Removes the previous format's files, counting them.
    fn remove_old_format(
        &self,
        done: &mut Cleared,
        cancel: &AtomicBool,
    ) -> Result<(), MaintenanceError> {
        let so_far = done.clone();
        let (files, bytes) = self.old_format(
            cancel,
            &|| Done::Removed(Box::new(so_far.clone())),
            Some(done),
        )?;
        done.swept.old_format_files = files;
        done.removed.bytes += bytes;
        Ok(())
    }

    fn cleared(&self) -> Cleared {
        let mut done = Cleared::default();
        done.removed.dir = self.root().display().to_string();
        done
    }

    /// Removes the strange files that cannot be anyone's data; reports the others.
    fn remove_strange(
        &self,
        strange: &[Strange],
        done: &mut Cleared,
        cancel: &AtomicBool,
    ) -> Result<(), MaintenanceError> {
        for s in strange {
            check(cancel, || Done::Removed(Box::new(done.clone())))?;
            let path = Path::new(&s.path);
            if !s.removable {
                not_removed(done, path, s.kind.clone());
                continue;
            }
            // Neither call follows a link: a link is removed itself, and `remove_dir` of a
            // folder that filled up since the listing fails.
            let result = if s.kind == "directory" {
                std::fs::remove_dir(path)
            } else {
                std::fs::remove_file(path)
            };
            match result {
                Ok(()) => done.swept.strange += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => not_removed(done, path, e.to_string()),
            }
        }
        Ok(())
    }

    /// Counts (and with `remove`, removes) the previous format's files: its entries, temporary
    /// files and tag, and then its folder if that leaves it empty. Returns (files, bytes).
    fn old_format(
        &self,
        cancel: &AtomicBool,
        done: &dyn Fn() -> Done,
        mut remove: Option<&mut Cleared>,
    ) -> Result<(u64, u64), MaintenanceError> {
        let dir = self.old_entries_dir();
        let Some(items) = read_dir(&dir, done)? else {
            return Ok((0, 0));
        };
        let (mut files, mut bytes) = (0, 0);
        for item in items {
            check(cancel, done)?;
            let item = item.map_err(|source| failed("list", &dir, source, done()))?;
            let name = item.file_name();
            let Some(name) = name.to_str() else { continue };
            let old_entry = name.strip_suffix(".json").is_some_and(|h| {
                h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            });
            if !(old_entry || is_temp_name(name) || name == TAG_FILE) {
                continue;
            }
            let Ok(kind) = item.file_type() else { continue };
            if !(kind.is_file() || kind.is_symlink()) {
                continue;
            }
            let len = if kind.is_file() {
                item.metadata().map_or(0, |m| m.len())
            } else {
                0
            };
            match remove.as_deref_mut() {
                None => {}
                Some(removed) => match std::fs::remove_file(item.path()) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => {
                        not_removed(removed, &item.path(), e.to_string());
                        continue;
                    }
                },
            }
            files += 1;
            bytes += len;
        }
        if remove.is_some() {
            // Only if nothing else is left in it: other files there are someone's.
            let _ = std::fs::remove_dir(&dir);
        }
        Ok((files, bytes))
    }

    /// The entries folder sorted into piest's files and strange files (nothing if it does not
    /// exist). Never follows a link.
    pub(super) fn list(
        &self,
        cancel: &AtomicBool,
        done: &dyn Fn() -> Done,
    ) -> Result<Listing, MaintenanceError> {
        let dir = self.entries_dir();
        let mut listing = Listing::default();
        let Some(items) = read_dir(&dir, done)? else {
            return Ok(listing);
        };
        for item in items {
            check(cancel, done)?;
            let item = item.map_err(|source| failed("list", &dir, source, done()))?;
            let name = item.file_name();
            let Some(name) = name.to_str() else { continue };
            let temp = is_temp_name(name);
            if !temp && !is_entry_name(name) {
                continue;
            }
            let path = item.path();
            // `DirEntry::metadata` does not follow links.
            let meta = match item.metadata() {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => return Err(failed("inspect", &path, source, done())),
            };
            if meta.is_file() && meta.len() <= MAX_ENTRY_BYTES {
                listing.owned.push(Owned {
                    path,
                    temp,
                    bytes: meta.len(),
                    modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                });
                continue;
            }
            listing.strange.push(strange(&item, &meta));
        }
        Ok(listing)
    }
}

/// Describes a strange file and whether it may be removed.
fn strange(item: &DirEntry, meta: &std::fs::Metadata) -> Strange {
    let kind = meta.file_type();
    let path = item.path();
    let (what, removable) = if kind.is_file() {
        (format!("{} bytes", meta.len()), false)
    } else if kind.is_dir() {
        let empty = std::fs::read_dir(&path).is_ok_and(|mut d| d.next().is_none());
        let what = if empty {
            "directory"
        } else {
            "non-empty directory"
        };
        (what.to_owned(), empty)
    } else {
        let what = file_kind(&kind);
        let removable = matches!(what, "symbolic link" | "FIFO" | "socket");
        (what.to_owned(), removable)
    };
    Strange {
        path: path.display().to_string(),
        kind: what,
        removable,
    }
}

/// Whether `name` is a temporary file's (an entry's or a key's being written).
fn is_temp_name(name: &str) -> bool {
    (name.starts_with(TEMP_PREFIX) || name.starts_with(".key-")) && name.ends_with(TEMP_SUFFIX)
}

/// The listing of `dir`, `None` if it does not exist.
fn read_dir(
    dir: &Path,
    done: &dyn Fn() -> Done,
) -> Result<Option<std::fs::ReadDir>, MaintenanceError> {
    match std::fs::read_dir(dir) {
        Ok(items) => Ok(Some(items)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(failed("list", dir, source, done())),
    }
}

/// Reads an entry file without following links or reading more than an entry can hold.
pub(crate) fn read_file(path: &Path) -> io::Result<Vec<u8>> {
    let file = open_regular(path, MAX_ENTRY_BYTES)?;
    let mut bytes = Vec::new();
    file.take(MAX_ENTRY_BYTES + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The chunks a valid entry answers and their trials: the union of its full spans, plus the
/// remainder chunks outside it.
fn coverage(entry: &Entry) -> (u64, u64) {
    let cs = entry.key.chunk_size;
    let (mut chunks, mut trials) = (0u64, 0u64);
    let mut reach = 0u64;
    let mut full: Vec<(u64, u64)> = Vec::new();
    for s in entry.spans().iter().filter(|s| s.trials == cs) {
        let start = s.first.max(reach);
        if s.end > start {
            chunks += s.end - start;
            trials = trials.saturating_add((s.end - start).saturating_mul(cs));
            full.push((start, s.end));
            reach = s.end;
        }
    }
    for s in entry.spans().iter().filter(|s| s.trials != cs) {
        if !full.iter().any(|&(a, b)| (a..b).contains(&s.first)) {
            chunks += 1;
            trials = trials.saturating_add(s.trials);
        }
    }
    (chunks, trials)
}

/// Removes `file`, counting it, or noting why not; a file already gone (another process) is
/// neither. Returns whether it was removed.
fn remove(file: &Owned, done: &mut Cleared) -> bool {
    match std::fs::remove_file(&file.path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return false,
        Err(e) => {
            not_removed(done, &file.path, e.to_string());
            return false;
        }
    }
    let removed = &mut done.removed;
    removed.bytes += file.bytes;
    if file.temp {
        removed.temp_files += 1;
    } else {
        removed.entries += 1;
    }
    true
}

fn not_removed(done: &mut Cleared, path: &Path, why: String) {
    let swept = &mut done.swept;
    swept.not_removed += 1;
    if swept.not_removed_files.len() < MAX_NAMED {
        swept.not_removed_files.push(NotRemoved {
            path: path.display().to_string(),
            why,
        });
    }
}

fn failed(action: &'static str, path: &Path, source: io::Error, done: Done) -> MaintenanceError {
    MaintenanceError::Failed {
        source: CacheError {
            action,
            path: path.to_path_buf(),
            source,
        },
        done,
    }
}

#[cfg(test)]
#[path = "maintain_tests.rs"]
mod tests;
