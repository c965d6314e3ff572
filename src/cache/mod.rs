//! The result cache: chunk counts kept on disk so that a chunk already computed for the same
//! (sampling algorithm, seed, chunk size, chunk index, chunk trials) is never computed again —
//! `joblib.Memory` for piest, made safe, bounded, incremental and unforgeable.
//!
//! This module owns where the cache lives, its keys, its secret, the entry format, atomic
//! writes, verification and the maintenance commands (`info`, `clear`, `prune`, `verify`). It
//! never decides whether caching is on: the caller hands the runner a [`CacheSession`] or none.
//!
//! # Granularity: spans, cells and blocks
//!
//! The chunk stays the unit of randomness and of parallel work, but the cache keeps counts per
//! *span*: a run of consecutive chunks and their total inside count. Spans never cross a *cell*
//! of [`cell_chunks`] chunks (about [`CELL_TRIALS`] = 2^22 trials; one chunk at the default
//! chunk size and above), and one entry file holds one *block* of [`BLOCK_CELLS`] = 256 cells.
//! So whatever the chunk size, an entry covers about 2^30 ≈ 1.07e9 trials (more for chunks
//! above 2^22) in about 8 KB, and a run stores a few spans per cell, not a record per chunk: at
//! `--chunk-size 1`, 1e9 trials are one entry of 8 KB instead of 3.9 million files.
//!
//! A span answers a look-up only as a whole, for exactly its chunks and trials. A rerun, or a
//! longer run (a tighter precision target), reuses every span inside what it needs, which is
//! every span of the shorter run: it computes only what lies past them. A shorter run cannot
//! split a longer run's span within a cell (it computes that cell's prefix and stores it as a
//! span of its own, so the next such run finds it). A plan's last chunk with fewer trials is a
//! *remainder* span of its own: a prefix of the full chunk, with another count.
//!
//! # Keys, secret and verification
//!
//! Each cache directory has a secret: 32 random bytes in `v2/key`, created by the first run that
//! finds none (never replaced: a temporary file hard-linked to the name, so concurrent first
//! runs, and nodes sharing the directory over NFS, agree on one key), mode 0600 on Unix. From it
//! derive two BLAKE3 keys: one names entries (a keyed hash of the algorithm, seed, chunk size,
//! block layout and block index), one authenticates them (a keyed MAC over the whole file: the
//! key fields and every span). A file that is empty, truncated, damaged, implausible (more
//! inside than trials, a span outside its block or across a cell), fails its MAC or holds
//! another key is a miss, reported once as a warning, recomputed and replaced: never returned.
//! A key that is missing and cannot be created, damaged or unreadable turns the cache off for
//! the run with one warning.
//!
//! # Trust model
//!
//! Anyone who can read the key can forge entries; no one else can. Without the key, a user who
//! can write the directory (a shared cache, a misconfigured mode) can delete entries, or plant
//! files that are misses, but cannot make piest return a wrong count: entry names cannot be
//! guessed, and a planted entry fails its MAC. An entry copied from another cache directory is
//! rejected for the same reason: it was authenticated with that cache's key. To share a cache on
//! purpose, make the key readable by a group (`chmod g+r v2/key`, and the folder group-writable):
//! every member of the group is then trusted to write correct counts. `cache verify` recomputes
//! entries and catches what the MAC cannot: a trusted writer's mistake or faulty hardware.
//!
//! # Layout
//!
//! ```text
//! <cache dir>/                     --cache-dir, else $PIEST_CACHE_DIR, else ~/.cache/piest
//!   v2/                            entries of format v2
//!     CACHEDIR.TAG                 tells backup tools that this folder is a cache
//!     key                          the secret: "piest-cache-key-v2 <64 hex digits>"
//!     <64 hex digits>.entry        one block, binary little-endian: magic, algorithm, seed,
//!                                    chunk size, block chunks, block, span count, spans
//!                                    [first, end, trials, inside], 32-byte MAC
//!     .tmp-<random>.part           an entry being written (a killed writer may leave one)
//!   v1/                            the previous format (JSON, unkeyed checksum): never read;
//!                                    `info` counts its files, `clear` and `prune` remove them
//! ```
//!
//! Maintenance touches only names of these shapes, so pointing `--cache-dir` at a folder that
//! holds other files never loses them. `clear` and `prune` keep the key: nodes sharing the
//! directory keep agreeing, and a key widened on purpose keeps its mode.
//!
//! # Strange files
//!
//! Whatever sits where an entry belongs and is not a regular file of at most
//! [`MAX_ENTRY_BYTES`] (a folder, a symbolic link or a loop of them, a FIFO, a device, a sparse
//! file of gigabytes, another user's file that cannot be read or replaced) is a miss for that
//! block only: it is inspected without following links (`O_NOFOLLOW`), opening FIFOs without
//! blocking (`O_NONBLOCK`), and never read past the size an entry can have. Storing over it
//! renames a new file onto the name (which replaces a link itself, not its target) or fails,
//! costing that entry only. piest creates files only inside `v2/`, each with an exclusive
//! create, so no planted link makes it write elsewhere. `info` names such files; `clear` and
//! `prune` remove the ones that cannot be anyone's data (links, FIFOs, sockets, empty folders)
//! and report the others.
//!
//! # Writes, crashes and concurrent processes
//!
//! A run buffers the spans it completes per block and stores a block when all of its chunks
//! are done, at most [`FLUSH_INTERVAL`] after an earlier store of that block, and when the run
//! stops (cancelled or failed). A store reads the current file, merges its spans with those
//! already there and writes the result to a temporary file in the same folder, which is then
//! renamed over the entry: a reader sees the old entry or the new one, never a mix. A process
//! killed at any moment (Ctrl-C or `kill -9`) leaves only whole entries and loses at most the
//! last fraction of a second of work. Entries are not `fsync`ed: the cache survives process
//! crashes, not power loss, and after a power loss a damaged entry is detected and recomputed
//! like any other.
//!
//! Several processes may share one cache. If two store the same block at the same moment, the
//! later rename wins and the other's new spans are missing from the file: a lost chance to
//! cache, never a wrong count, because every span is a pure function of its key. In a sticky,
//! world-writable shared folder, a rename over another user's entry is refused: that entry is
//! not updated, every other one is.
//!
//! # Failures and cancellation
//!
//! A cache that cannot be used never fails a run: the session records warnings (one per entry,
//! the first few spelled out) and the run goes on computing. The library never prints; the
//! caller shows [`CacheSummary::warnings`]. The maintenance commands take a cancel flag, look
//! at it between files, and stop with [`MaintenanceError::Cancelled`] (every file whole or gone).

mod entry;
mod key;
pub mod location;
mod maintain;
mod session;
mod verify;

use std::fs::FileType;
use std::path::{Path, PathBuf};

pub use crate::plan::{
    BLOCK_CELLS, CELL_TRIALS, cache_block_chunks as block_chunks, cache_cell_chunks as cell_chunks,
};
pub use entry::{
    BlockKey, Cover, ENTRY_SUFFIX, Entry, FORMAT, Invalid, MAX_ENTRY_BYTES, MAX_SPANS, Span,
    is_entry_name,
};
pub use key::{KEY_FILE, KeyError, Secret};
pub use maintain::{
    CacheInfo, Cleared, Done, KeyState, MaintenanceError, NotRemoved, PruneReport, Pruned, Removed,
    Strange, Swept,
};
pub use session::{CacheSession, CacheSummary, FLUSH_INTERVAL};
pub use verify::{Difference, VerifyOptions, VerifyReport};

/// Name of the folder under the cache directory that holds the entries of this format.
const ENTRIES_DIR: &str = "v2";

/// Name of the folder of the previous format, which is never read (see the layout above).
const OLD_ENTRIES_DIR: &str = "v1";

/// File name prefix of entries being written.
const TEMP_PREFIX: &str = ".tmp-";

/// File name suffix of entries being written.
const TEMP_SUFFIX: &str = ".part";

/// Name of the cache directory tag.
const TAG_FILE: &str = "CACHEDIR.TAG";

/// Contents of `CACHEDIR.TAG` (<https://bford.info/cachedir/>).
const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by piest.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";

/// A cache operation that failed, naming the path.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {source}", path.display())]
pub struct CacheError {
    /// What was being done ("read", "remove", ...).
    pub action: &'static str,
    /// The file or folder.
    pub path: PathBuf,
    /// The underlying error.
    pub source: std::io::Error,
}

/// A cache directory. Creating the handle touches nothing on disk.
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache in `root` (the directory named by `--cache-dir`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Cache { root: root.into() }
    }

    /// The cache directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder holding the entries.
    pub fn entries_dir(&self) -> PathBuf {
        self.root.join(ENTRIES_DIR)
    }

    /// The folder of the previous format (never read; see the layout in the module docs).
    pub fn old_entries_dir(&self) -> PathBuf {
        self.root.join(OLD_ENTRIES_DIR)
    }

    /// The path of `key`'s entry, which depends on the cache's secret (read, never created).
    pub fn entry_path(&self, key: &BlockKey) -> Result<PathBuf, KeyError> {
        let dir = self.entries_dir();
        let secret = Secret::load(&dir)?;
        Ok(dir.join(key.file_name(&secret)))
    }

    /// Creates the entries folder (and its `CACHEDIR.TAG`) if missing; returns the folder. The
    /// entries folder must be a real folder, not a link to somewhere else.
    pub fn create(&self) -> Result<PathBuf, CacheError> {
        let dir = self.entries_dir();
        let failed = |source| CacheError {
            action: "create cache directory",
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(failed)?;
        let meta = std::fs::symlink_metadata(&dir).map_err(failed)?;
        if !meta.is_dir() {
            return Err(failed(std::io::Error::other(format!(
                "it is a {}, not a folder",
                file_kind(&meta.file_type())
            ))));
        }
        // The tag is a courtesy to backup tools; failing to write it changes nothing else. An
        // exclusive create never writes through a planted (even dangling) link.
        if let Ok(mut tag) = std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(dir.join(TAG_FILE))
        {
            let _ = std::io::Write::write_all(&mut tag, CACHEDIR_TAG.as_bytes());
        }
        Ok(dir)
    }
}

/// What kind of file `kind` is, in words.
pub(crate) fn file_kind(kind: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "FIFO";
        }
        if kind.is_socket() {
            return "socket";
        }
        if kind.is_block_device() {
            return "block device";
        }
        if kind.is_char_device() {
            return "character device";
        }
    }
    if kind.is_symlink() {
        "symbolic link"
    } else if kind.is_dir() {
        "directory"
    } else if kind.is_file() {
        "regular file"
    } else {
        "special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_in_a_versioned_folder() {
        let cache = Cache::new("/c");
        assert_eq!(cache.entries_dir(), Path::new("/c/v2"));
        assert_eq!(cache.old_entries_dir(), Path::new("/c/v1"));
    }
}
