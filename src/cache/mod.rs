//! The result cache: counts of spans of chunks kept on disk, keyed by what determines them and
//! authenticated with the cache's secret key, so that a chunk computed once is read, never
//! recomputed, and a cache can only cost a recomputation, never change a count. What it
//! promises to users (layout, trust model, sharing, maintenance) is the README's "Result cache"
//! section; this module owns the mechanism and never decides whether caching is on (the caller
//! hands the runner a [`CacheSession`] or none).
//!
//! - [`key`]: the secret (`v2/key`), created once, replaced only under a lock when damaged;
//!   [`trust`]: whether anyone besides the user, root and the user's groups could read or
//!   replace it (then the cache is off).
//! - [`entry`]: one file per block of [`BLOCK_CELLS`](crate::plan::BLOCK_CELLS) cells of about
//!   [`CELL_TRIALS`](crate::plan::CELL_TRIALS) trials, holding spans (consecutive chunks and
//!   their inside count) and a keyed MAC; its name is a keyed hash of the block's key, so files
//!   of another key are never looked up.
//! - [`session`]: a run's reads (never following links or blocking: `O_NOFOLLOW`,
//!   `O_NONBLOCK`, never reading past [`MAX_ENTRY_BYTES`]) and stores (merge with the file, write
//!   a temporary file, rename it over the entry); every problem is one warning and costs its
//!   entry only.
//! - [`maintain`], [`verify`]: `info`, `clear`, `prune` and `verify`, touching only names of the
//!   cache's shapes, with a cancel flag looked at between files.

mod entry;
mod key;
pub mod location;
mod maintain;
mod session;
mod trust;
mod verify;

use std::fs::FileType;
use std::path::{Path, PathBuf};

pub use entry::{
    BlockKey, Cover, ENTRY_SUFFIX, Entry, FORMAT, Invalid, MAX_ENTRY_BYTES, MAX_SPANS, Span,
    is_entry_name,
};
pub use key::{KEY_FILE, KeyError, Replaced, Secret};
pub use maintain::{
    CacheInfo, Cleared, Done, KeyState, MaintenanceError, MethodCoverage, NotRemoved, PruneReport,
    Pruned, Removed, Strange, StrangeKind, Swept,
};
pub use session::{CacheSession, CacheSummary, FLUSH_INTERVAL};
pub use trust::Distrust;
pub use verify::{Difference, VerifyOptions, VerifyReport};

/// The folder under the cache directory that holds the entries of this format.
const ENTRIES_DIR: &str = "v2";

/// The folder of the previous format, which is never read.
const OLD_ENTRIES_DIR: &str = "v1";

/// Name of an entry being written: `.tmp-<random>.part`.
const TEMP_PREFIX: &str = ".tmp-";
const TEMP_SUFFIX: &str = ".part";

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
    pub path: PathBuf,
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

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn entries_dir(&self) -> PathBuf {
        self.root.join(ENTRIES_DIR)
    }

    /// The folder of the previous format (never read).
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
        // The tag is a courtesy to backup tools; failing to write it changes nothing else. A
        // tag that is not one (left empty by a full disk) is replaced by a rename, which never
        // writes through a planted link.
        let tag = dir.join(TAG_FILE);
        let signature = CACHEDIR_TAG.lines().next().unwrap_or_default().as_bytes();
        let is_tag = key::open_regular(&tag, CACHEDIR_TAG.len() as u64).is_ok_and(|file| {
            let mut start = Vec::new();
            let mut file = std::io::Read::take(file, signature.len() as u64);
            std::io::Read::read_to_end(&mut file, &mut start).is_ok() && start == signature
        });
        let blocked = std::fs::symlink_metadata(&tag).is_ok_and(|m| m.is_dir());
        if !is_tag && !blocked {
            let _ = session::write_atomic(&dir, &tag, CACHEDIR_TAG.as_bytes());
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
