//! Maintenance of a cache directory: `info` (what is there), `clear` (remove every entry) and
//! `prune` (remove entries that can never be used again, then by age and total size, least
//! recently used first, like joblib's `reduce_size`). Only names of the cache's shapes are ever
//! touched; of those, files that are not regular files are *strange*: counted and named, and
//! removed only when they cannot be anyone's data (links, FIFOs, sockets, empty folders), never
//! following a link. Every command looks at a cancel flag between files. Results are typed;
//! the binary words them.

use std::fs::DirEntry;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::entry::{Entry, MAX_ENTRY_BYTES, is_entry_name};
use super::key::{KeyError, Secret, open_regular};
use super::verify::VerifyReport;
use super::{Cache, CacheError, TAG_FILE, TEMP_PREFIX, TEMP_SUFFIX};
use crate::sampler::Method;

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
    /// No key (the next run creates one): no entry can ever be used again.
    Missing,
    /// A key this user cannot read; entries cannot be verified and runs do not use the cache.
    Unreadable,
    /// A file at the key's path that is not a key: the next run replaces it, so no entry can
    /// ever be used again.
    Damaged,
    /// A key someone besides this user, root and its groups could read or replace; entries are
    /// not verified and runs do not use the cache.
    Untrusted,
}

/// What a strange file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrangeKind {
    EmptyDirectory,
    Directory,
    SymbolicLink,
    Fifo,
    Socket,
    BlockDevice,
    CharacterDevice,
    /// Anything else that is not a regular file.
    Special,
    /// A regular file larger than an entry can be.
    TooLarge {
        bytes: u64,
    },
}

impl StrangeKind {
    /// Whether it cannot be anyone's data, so that `clear` and `prune` may remove it.
    pub fn removable(self) -> bool {
        matches!(
            self,
            StrangeKind::EmptyDirectory
                | StrangeKind::SymbolicLink
                | StrangeKind::Fifo
                | StrangeKind::Socket
        )
    }
}

impl std::fmt::Display for StrangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StrangeKind::EmptyDirectory => f.write_str("directory"),
            StrangeKind::Directory => f.write_str("non-empty directory"),
            StrangeKind::SymbolicLink => f.write_str("symbolic link"),
            StrangeKind::Fifo => f.write_str("FIFO"),
            StrangeKind::Socket => f.write_str("socket"),
            StrangeKind::BlockDevice => f.write_str("block device"),
            StrangeKind::CharacterDevice => f.write_str("character device"),
            StrangeKind::Special => f.write_str("special file"),
            StrangeKind::TooLarge { bytes } => write!(f, "{bytes} bytes"),
        }
    }
}

/// In JSON, the words of [`Display`](std::fmt::Display) ("directory", "FIFO", "4294967296 bytes").
impl Serialize for StrangeKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A file under an entry's (or temporary file's) name that is not a regular file of an entry's
/// size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Strange {
    pub path: String,
    pub kind: StrangeKind,
    /// Whether `clear` and `prune` remove it ([`StrangeKind::removable`]).
    pub removable: bool,
}

/// What `cache info` reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CacheInfo {
    pub dir: String,
    /// Whether the entries folder exists.
    pub exists: bool,
    pub entries: u64,
    /// Entry files that fail verification with the current key (damaged, forged, or stored
    /// under an earlier key), or every entry file when the key is missing or damaged: no run
    /// will use them; `prune` removes them.
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
    pub key: KeyState,
    /// Why the key cannot be used, when it cannot.
    pub key_problem: Option<String>,
    /// Entry files not checked because the key cannot be read or is not trusted.
    pub unverified: u64,
    /// Strange files under entry names (see [`Strange`]).
    pub strange: u64,
    /// The first few of them, named.
    pub strange_files: Vec<Strange>,
    /// Files of the previous format's folder (`v1/`), which is never read.
    pub old_format_files: u64,
    pub old_format_bytes: u64,
    /// The valid entries by sampling method, in [`Method::ALL`]'s order, then those of an
    /// algorithm this piest does not know.
    pub methods: Vec<MethodCoverage>,
}

/// What the valid entries of one sampling algorithm hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MethodCoverage {
    /// The method's name (`plain`, `stratified`), or `unknown`.
    pub method: String,
    /// The sampling algorithm's version string.
    pub algorithm: String,
    pub entries: u64,
    pub chunks: u64,
    pub trials: u64,
}

/// A file that `clear` or `prune` left in place, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotRemoved {
    pub path: String,
    /// What it is (a strange file kept on purpose), or the OS error of the removal.
    pub why: String,
    /// Whether its removal failed (rather than the file being kept on purpose).
    pub failed: bool,
}

/// What `cache clear` or `cache prune` removed of the entries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    pub dir: String,
    /// Entry files removed.
    pub entries: u64,
    /// Bytes of the files removed (entries, temporary files, the old format's files).
    pub bytes: u64,
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
    /// Of those, the removals that failed: the command could not do all it was asked.
    pub failed: u64,
    /// The first few files left, named.
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
    /// Whether a damaged key was removed (the next run creates a new one).
    pub damaged_key_removed: bool,
}

/// What `cache prune` removed and kept (serialized as [`Pruned`] plus [`Swept`]'s fields).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    #[serde(flatten)]
    pub pruned: Pruned,
    #[serde(flatten)]
    pub swept: Swept,
}

/// What `cache prune` removed and kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pruned {
    pub removed: Removed,
    /// Of the entries removed, those no run can use (see [`CacheInfo::invalid`]).
    pub invalid_removed: u64,
    /// Entry files kept (including those whose removal failed).
    pub kept_entries: u64,
    pub kept_bytes: u64,
}

/// What a maintenance command had done when it stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Done {
    /// Nothing that changed the cache (`info`, or a stop before the first removal).
    Unchanged,
    /// Files removed (`clear`, `prune`).
    Removed(Box<Cleared>),
    /// Chunks verified, and differing spans removed (`verify`).
    Verified(Box<VerifyReport>),
}

/// Why a maintenance command stopped before its end. The cache is consistent either way: every
/// file is whole or gone. What had been done is in `done`, for the caller to report.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    /// The cancel flag was set.
    #[error("interrupted")]
    Cancelled { done: Done },
    /// A folder could not be listed (single files that cannot be removed do not stop it).
    #[error("{source}")]
    Failed { source: CacheError, done: Done },
    /// `verify` needs the cache's key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// `verify` could not start its worker threads.
    #[error("cannot start {workers} worker threads: {source}")]
    Workers {
        workers: usize,
        source: rayon::ThreadPoolBuildError,
    },
}

/// The key as maintenance uses it to sort entries.
enum KeyView {
    Valid(Secret),
    /// Missing or damaged: the next run makes a new key, so every entry is an orphan.
    Gone,
    /// Unreadable or not trusted: entries cannot be judged.
    Unknown,
}

/// What an entry file is worth under the key.
enum Judged {
    Valid(Entry),
    Invalid,
    Unverified,
    /// Removed by another process since the listing.
    Vanished,
}

/// A regular file under an entry's name, or under a temporary file's name (`temp`: an entry
/// being written, or left by a killed writer).
pub(super) struct EntryFile {
    pub(super) path: PathBuf,
    pub(super) temp: bool,
    bytes: u64,
    modified: SystemTime,
}

/// The entries folder, sorted out.
#[derive(Default)]
pub(super) struct Listing {
    pub(super) files: Vec<EntryFile>,
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
        let listing = self.list(cancel, &|| Done::Unchanged)?;
        let (key, view, key_problem) = key_view(&dir);
        let (old_files, old_bytes) = self.old_format(cancel, &|| Done::Unchanged, None)?;
        let mut info = CacheInfo {
            dir: self.root().display().to_string(),
            exists: dir.is_dir(),
            entries: 0,
            invalid: 0,
            bytes: listing.files.iter().map(|f| f.bytes).sum(),
            chunks: 0,
            trials: 0,
            seeds: 0,
            temp_files: listing.files.iter().filter(|f| f.temp).count() as u64,
            key,
            key_problem,
            unverified: 0,
            strange: listing.strange.len() as u64,
            strange_files: listing.strange.iter().take(MAX_NAMED).cloned().collect(),
            old_format_files: old_files,
            old_format_bytes: old_bytes,
            methods: Vec::new(),
        };
        let mut seeds = std::collections::HashSet::new();
        // By position in Method::ALL (unknown algorithms last), then algorithm.
        let mut methods = std::collections::BTreeMap::new();
        for file in listing.files.iter().filter(|f| !f.temp) {
            check(cancel, || Done::Unchanged)?;
            match judge(file, &view) {
                Judged::Valid(entry) => {
                    info.entries += 1;
                    seeds.insert(entry.key.seed);
                    let (chunks, trials) = coverage(&entry);
                    info.chunks = info.chunks.saturating_add(chunks);
                    info.trials = info.trials.saturating_add(trials);
                    let method = entry.key.method();
                    let order = method.and_then(|m| Method::ALL.iter().position(|&a| a == m));
                    let share = methods
                        .entry((
                            order.unwrap_or(Method::ALL.len()),
                            entry.key.algorithm.clone(),
                        ))
                        .or_insert_with(|| MethodCoverage {
                            method: method.map_or("unknown", Method::name).to_owned(),
                            algorithm: entry.key.algorithm.clone(),
                            entries: 0,
                            chunks: 0,
                            trials: 0,
                        });
                    share.entries += 1;
                    share.chunks = share.chunks.saturating_add(chunks);
                    share.trials = share.trials.saturating_add(trials);
                }
                Judged::Invalid => info.invalid += 1,
                Judged::Unverified => info.unverified += 1,
                Judged::Vanished => {}
            }
        }
        info.seeds = seeds.len() as u64;
        info.methods = methods.into_values().collect();
        Ok(info)
    }

    /// Removes every entry ([`Cache::clear_cancellable`] without a cancel flag).
    pub fn clear(&self) -> Result<Removed, MaintenanceError> {
        Ok(self.clear_cancellable(&AtomicBool::new(false))?.removed)
    }

    /// Removes every entry and temporary file, the removable strange files, the old format's
    /// files and a damaged key; keeps a valid key (nodes sharing the directory keep agreeing,
    /// and a key widened on purpose keeps its mode). Stops soon after `cancel` is set.
    pub fn clear_cancellable(&self, cancel: &AtomicBool) -> Result<Cleared, MaintenanceError> {
        let mut done = self.cleared();
        let listing = self.list(cancel, &|| Done::Unchanged)?;
        for file in &listing.files {
            check(cancel, || Done::Removed(Box::new(done.clone())))?;
            remove(file, &mut done);
        }
        self.remove_strange(&listing.strange, &mut done, cancel)?;
        self.remove_old_format(&mut done, cancel)?;
        let dir = self.entries_dir();
        match Secret::remove_damaged(&dir) {
            Ok(removed) => done.damaged_key_removed = removed,
            Err(e) => not_removed(&mut done, &Secret::path(&dir), e.to_string(), true),
        }
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

    /// Removes the entries no run can use (invalid under the key, or every entry when the key
    /// is missing or damaged), those not used for `older_than` (by modification time, which a
    /// read refreshes), then the least recently used until the rest takes at most `max_bytes`,
    /// and temporary files left by killed writers, removable strange files and the old
    /// format's files. `now` is the current time. Stops soon after `cancel` is set.
    pub fn prune_cancellable(
        &self,
        max_bytes: Option<u64>,
        older_than: Option<Duration>,
        now: SystemTime,
        cancel: &AtomicBool,
    ) -> Result<PruneReport, MaintenanceError> {
        let age = |f: &EntryFile| now.duration_since(f.modified).unwrap_or(Duration::ZERO);
        let mut done = self.cleared();
        let mut invalid_removed = 0;
        let mut kept = Vec::new();
        let (_, view, _) = key_view(&self.entries_dir());
        let listing = self.list(cancel, &|| Done::Unchanged)?;
        for file in listing.files {
            check(cancel, || Done::Removed(Box::new(done.clone())))?;
            if file.temp {
                if age(&file) > STALE_TEMP_AGE {
                    remove(&file, &mut done);
                }
                continue;
            }
            let useless = match judge(&file, &view) {
                Judged::Vanished => continue,
                Judged::Invalid => true,
                Judged::Valid(_) | Judged::Unverified => false,
            };
            let expired = older_than.is_some_and(|limit| age(&file) > limit);
            if useless || expired {
                if remove(&file, &mut done) {
                    invalid_removed += u64::from(useless);
                    continue;
                }
                if !file.path.exists() {
                    continue;
                }
            }
            kept.push(file);
        }
        // Oldest first; the name breaks ties so that the choice does not depend on listing order.
        kept.sort_by(|a, b| a.modified.cmp(&b.modified).then(a.path.cmp(&b.path)));
        let mut kept_bytes: u64 = kept.iter().map(|f| f.bytes).sum();
        let mut kept_entries = kept.len() as u64;
        if let Some(max) = max_bytes {
            for file in &kept {
                if kept_bytes <= max {
                    break;
                }
                check(cancel, || Done::Removed(Box::new(done.clone())))?;
                if remove(file, &mut done) || !file.path.exists() {
                    kept_bytes -= file.bytes;
                    kept_entries -= 1;
                }
            }
        }
        self.remove_strange(&listing.strange, &mut done, cancel)?;
        self.remove_old_format(&mut done, cancel)?;
        Ok(PruneReport {
            pruned: Pruned {
                removed: done.removed,
                invalid_removed,
                kept_entries,
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
                not_removed(done, path, s.kind.to_string(), false);
                continue;
            }
            // Neither call follows a link: a link is removed itself, and `remove_dir` of a
            // folder that filled up since the listing fails.
            let result = if s.kind == StrangeKind::EmptyDirectory {
                std::fs::remove_dir(path)
            } else {
                std::fs::remove_file(path)
            };
            match result {
                Ok(()) => done.swept.strange += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => not_removed(done, path, e.to_string(), true),
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
                        not_removed(removed, &item.path(), e.to_string(), true);
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
                listing.files.push(EntryFile {
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
    let what = if kind.is_file() {
        StrangeKind::TooLarge { bytes: meta.len() }
    } else if kind.is_dir() {
        if std::fs::read_dir(&path).is_ok_and(|mut d| d.next().is_none()) {
            StrangeKind::EmptyDirectory
        } else {
            StrangeKind::Directory
        }
    } else if kind.is_symlink() {
        StrangeKind::SymbolicLink
    } else {
        special_kind(&kind)
    };
    Strange {
        path: path.display().to_string(),
        kind: what,
        removable: what.removable(),
    }
}

/// What a file that is neither a regular file, a folder nor a link is.
fn special_kind(kind: &std::fs::FileType) -> StrangeKind {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return StrangeKind::Fifo;
        }
        if kind.is_socket() {
            return StrangeKind::Socket;
        }
        if kind.is_block_device() {
            return StrangeKind::BlockDevice;
        }
        if kind.is_char_device() {
            return StrangeKind::CharacterDevice;
        }
    }
    let _ = kind;
    StrangeKind::Special
}

/// The key of the entries folder `dir` as maintenance sees it, and why it cannot be used.
fn key_view(dir: &Path) -> (KeyState, KeyView, Option<String>) {
    match Secret::load(dir) {
        Ok(secret) => (KeyState::Present, KeyView::Valid(secret), None),
        Err(KeyError::Missing { .. }) => (KeyState::Missing, KeyView::Gone, None),
        Err(e @ KeyError::Corrupt { .. }) => {
            (KeyState::Damaged, KeyView::Gone, Some(e.to_string()))
        }
        Err(e @ KeyError::Untrusted { .. }) => {
            (KeyState::Untrusted, KeyView::Unknown, Some(e.to_string()))
        }
        Err(e) => (KeyState::Unreadable, KeyView::Unknown, Some(e.to_string())),
    }
}

/// Reads and checks the entry file `file` under `view`.
fn judge(file: &EntryFile, view: &KeyView) -> Judged {
    let secret = match view {
        KeyView::Valid(secret) => secret,
        KeyView::Gone => return Judged::Invalid,
        KeyView::Unknown => return Judged::Unverified,
    };
    let bytes = match read_file(&file.path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Judged::Vanished,
        // One unreadable file (another user's, say) is counted, not fatal.
        Err(_) => return Judged::Invalid,
    };
    let name = file.path.file_name().map(|n| n.to_string_lossy());
    match Entry::decode_any(&bytes, secret) {
        // An entry stored under another key's name is as invalid as a damaged one.
        Ok(entry) if name.as_deref() == Some(entry.key.file_name(secret).as_str()) => {
            Judged::Valid(entry)
        }
        _ => Judged::Invalid,
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
fn remove(file: &EntryFile, done: &mut Cleared) -> bool {
    match std::fs::remove_file(&file.path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return false,
        Err(e) => {
            not_removed(done, &file.path, e.to_string(), true);
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

/// Notes a file left in place: on purpose, or because its removal `failed`.
fn not_removed(done: &mut Cleared, path: &Path, why: String, failed: bool) {
    let swept = &mut done.swept;
    swept.not_removed += 1;
    swept.failed += u64::from(failed);
    if swept.not_removed_files.len() < MAX_NAMED {
        swept.not_removed_files.push(NotRemoved {
            path: path.display().to_string(),
            why,
            failed,
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
