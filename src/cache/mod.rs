//! The result cache: chunk counts kept on disk so that a chunk already computed for the same
//! (sampling algorithm, seed, chunk size, chunk index, chunk trials) is never computed again —
//! `joblib.Memory` for piest, made safe, bounded and incremental.
//!
//! This module owns the layout of a cache directory it is given, its keys, the entry format, atomic writes,
//! verification and the maintenance commands (`info`, `clear`, `prune`). It never decides
//! whether caching is on: the caller hands the runner a [`CacheSession`] or none.
//!
//! # Granularity: one entry per block of chunks
//!
//! The chunk stays the unit of randomness and of parallel work (2^22 trials, a few
//! milliseconds), but one file per chunk would mean 238,419 files for 1e12 trials. Instead the
//! chunks are grouped in *blocks* of [`crate::plan::cache_block_chunks`] = 256 consecutive chunks, and each block
//! has one entry file holding a record `[index, trials, inside]` per known chunk. At the default
//! chunk size an entry covers 2^30 trials: 1e11 trials are 94 entries of about 6 KB, 1e12 trials
//! 932 entries, and a fully cached 1e11 rerun reads 94 small files.
//!
//! # Keys and verification
//!
//! An entry's file name is the BLAKE3 hash (key-derivation mode) of the sampling algorithm's
//! version string, the seed, the chunk size, the block length and the block index. A change of
//! the algorithm therefore changes every key, and old results are never returned. Each entry
//! also stores those key fields, its records and a BLAKE3 checksum over all of it; a file that
//! is empty, truncated, not JSON, out of order, implausible (inside > trials, an index outside
//! its block), fails its checksum or holds another key (contents swapped between files) is
//! reported once as a warning, recomputed and replaced: never returned.
//!
//! A record answers a look-up only for the exact chunk index *and* trial count. A shorter run's
//! last chunk holds fewer trials (it is a prefix of the full chunk, with another count), so a
//! longer run reuses exactly the whole chunks the two runs share. Each index keeps at most one
//! full record and one remainder record, so alternating between two trial counts stays cached.
//!
//! # Layout
//!
//! ```text
//! <cache dir>/                     chosen by the caller (the binary: --cache-dir, else
//!                                  $PIEST_CACHE_DIR, else ~/.cache/piest)
//!   v1/                            entries of format v1 (a future format gets its own folder)
//!     CACHEDIR.TAG                 tells backup tools that this folder is a cache
//!     <64 hex digits>.json         one block: {"format", "algorithm", "seed", "chunk_size",
//!                                    "block_chunks", "block", "chunks": [[index, trials,
//!                                    inside], ...], "checksum"}
//!     .tmp-<random>.part           an entry being written (a killed writer may leave one)
//! ```
//!
//! Maintenance touches only files of these shapes, so pointing `--cache-dir` at a folder that
//! holds other files never loses them.
//!
//! # Writes, crashes and concurrent processes
//!
//! A run buffers the chunks it completes per block and stores a block when all of its chunks
//! are done, at most [`FLUSH_INTERVAL`] after an earlier store of that block, and when the run
//! stops (cancelled or failed). A store reads the current file, adds its records to those
//! already there and writes the result to a temporary file in the same folder, which is then
//! renamed over the entry: a reader sees the old entry or the new one, never a mix. A process
//! killed at any moment (Ctrl-C or `kill -9`) leaves only whole entries and loses at most the
//! last fraction of a second of work. Entries are not `fsync`ed: the cache survives process
//! crashes, not power loss, and after a power loss a damaged entry is detected and recomputed
//! like any other.
//!
//! Several processes may share one cache. If two store the same block at the same moment, the
//! later rename wins and the other's new records are missing from the file: a lost chance to
//! cache, never a wrong count, because every record is a pure function of its key.
//!
//! # Failures
//!
//! A cache that cannot be used (the folder cannot be created, a path component is a file, the
//! disk is full) never fails a run: the session records one warning, stops writing (or reading)
//! and the run goes on computing. The library never prints; the caller shows
//! [`CacheSummary::warnings`].

mod entry;
mod maintain;
mod session;

use std::path::{Path, PathBuf};

pub use entry::{BlockKey, Entry, FORMAT, Invalid, Record};
pub use maintain::{CacheInfo, Pruned, Removed};
pub use session::{CacheSession, CacheSummary, FLUSH_INTERVAL};

/// Name of the folder under the cache directory that holds the entries of this format.
const ENTRIES_DIR: &str = "v1";

/// Largest entry file read: a full block takes about 6 KB (35 KB at most), so anything larger
/// is not an entry (and is not worth reading into memory).
const MAX_ENTRY_BYTES: u64 = 1 << 20;

/// File name prefix of entries being written.
const TEMP_PREFIX: &str = ".tmp-";

/// File name suffix of entries being written.
const TEMP_SUFFIX: &str = ".part";

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

    /// The path of `key`'s entry.
    pub fn entry_path(&self, key: &BlockKey) -> PathBuf {
        self.entries_dir().join(key.file_name())
    }

    /// Creates the entries folder (and its `CACHEDIR.TAG`) if missing.
    pub fn create(&self) -> Result<(), CacheError> {
        let dir = self.entries_dir();
        std::fs::create_dir_all(&dir).map_err(|source| CacheError {
            action: "create cache directory",
            path: dir.clone(),
            source,
        })?;
        let tag = dir.join("CACHEDIR.TAG");
        if !tag.exists() {
            // The tag is a courtesy to backup tools; failing to write it changes nothing else.
            let _ = std::fs::write(&tag, CACHEDIR_TAG);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_in_a_versioned_folder_under_their_hash() {
        let cache = Cache::new("/c");
        let key = BlockKey::new(1, 2, 3);
        assert_eq!(
            cache.entry_path(&key),
            Path::new("/c/v1").join(key.file_name())
        );
    }
}
