//! The cache's secret: 32 random bytes in a file of the entries folder, from which entry file
//! names and entry MACs are derived. Created once by the first run, never replaced, readable by
//! its owner only unless someone widens it on purpose (see the trust model in [`super`]).

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// File name of the secret in the entries folder.
pub const KEY_FILE: &str = "key";

/// First word of the key file, so that a stray file is not mistaken for a key.
const KEY_HEADER: &str = "piest-cache-key-v2 ";

/// Exact size of a key file: the header, 64 hex digits and a newline.
const KEY_FILE_BYTES: usize = KEY_HEADER.len() + 64 + 1;

/// BLAKE3 key-derivation context of the subkey that names entries.
const NAME_CONTEXT: &str = "piest 2026-12-01 cache entry names v2";

/// BLAKE3 key-derivation context of the subkey that authenticates entries.
const MAC_CONTEXT: &str = "piest 2026-12-01 cache entry MAC v2";

/// Why the secret cannot be used; a run then goes on without the cache.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No key file (only when not asked to create one).
    #[error("the cache key {} does not exist", path.display())]
    Missing {
        /// The key file.
        path: PathBuf,
    },
    /// The key file exists but cannot be read (another user's key, say).
    #[error("cannot read the cache key {}: {source}", path.display())]
    Unreadable {
        /// The key file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Something is at the key's path that is not a key.
    #[error("the cache key {} is damaged or not a key ({why})", path.display())]
    Corrupt {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        why: &'static str,
    },
    /// No key exists and none can be written.
    #[error("cannot create the cache key {}: {source}", path.display())]
    Create {
        /// The key file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// The subkeys derived from a cache's secret. `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    names: [u8; 32],
    mac: [u8; 32],
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// The subkeys of the raw 32-byte secret `raw`.
    pub fn from_raw(raw: [u8; 32]) -> Self {
        Secret {
            names: blake3::derive_key(NAME_CONTEXT, &raw),
            mac: blake3::derive_key(MAC_CONTEXT, &raw),
        }
    }

    /// The key file of the entries folder `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(KEY_FILE)
    }

    /// Reads the secret of the entries folder `dir`; never creates one.
    pub fn load(dir: &Path) -> Result<Secret, KeyError> {
        let path = Secret::path(dir);
        let bytes = match read_small(&path, KEY_FILE_BYTES as u64) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(KeyError::Missing { path });
            }
            Err(source) => return Err(KeyError::Unreadable { path, source }),
        };
        parse(&bytes).map_err(|why| KeyError::Corrupt { path, why })
    }

    /// Reads the secret of `dir`, creating it first if there is none. Concurrent first runs
    /// (threads, processes, or nodes sharing the folder) all end with the same secret: each
    /// writes a complete candidate to a temporary file and hard-links it to the key's name,
    /// which fails if a key exists, and then everyone reads the key that won.
    pub fn load_or_create(dir: &Path) -> Result<Secret, KeyError> {
        match Secret::load(dir) {
            Err(KeyError::Missing { path }) => {
                create(dir, &path).map_err(|source| KeyError::Create {
                    path: path.clone(),
                    source,
                })?;
                Secret::load(dir)
            }
            other => other,
        }
    }

    /// The keyed hash that names an entry.
    pub(crate) fn name_hash(&self, key_bytes: &[u8]) -> blake3::Hash {
        blake3::keyed_hash(&self.names, key_bytes)
    }

    /// The MAC of an entry's contents.
    pub(crate) fn mac(&self, contents: &[u8]) -> blake3::Hash {
        blake3::keyed_hash(&self.mac, contents)
    }

    /// Whether `mac` authenticates `contents` (compared in constant time).
    pub(crate) fn mac_matches(&self, contents: &[u8], mac: &[u8]) -> bool {
        <[u8; 32]>::try_from(mac).is_ok_and(|mac| self.mac(contents) == blake3::Hash::from(mac))
    }
}

fn parse(bytes: &[u8]) -> Result<Secret, &'static str> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not text")?;
    let hex = text
        .strip_prefix(KEY_HEADER)
        .and_then(|rest| rest.strip_suffix('\n'))
        .ok_or("not a piest cache key")?;
    let hash = blake3::Hash::from_hex(hex).map_err(|_| "not 64 hex digits")?;
    Ok(Secret::from_raw(*hash.as_bytes()))
}

/// Writes a new random key to `path` unless one exists (then it keeps that one).
fn create(dir: &Path, path: &Path) -> io::Result<()> {
    let mut raw = [0u8; 32];
    rand::fill(&mut raw[..]);
    let contents = format!("{KEY_HEADER}{}\n", blake3::Hash::from(raw).to_hex());
    let builder = {
        let mut builder = tempfile::Builder::new();
        builder.prefix(".key-").suffix(".part");
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
        builder
    };
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(contents.as_bytes())?;
    match std::fs::hard_link(tmp.path(), path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        // A file system without hard links: create the name exclusively instead. A concurrent
        // reader may then see a short file for a moment (a damaged key, reported as such).
        Err(_) => {
            let mut options = File::options();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(path) {
                Ok(mut file) => file.write_all(contents.as_bytes()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
                Err(e) => Err(e),
            }
        }
    }
}

/// Opens `path` for reading without following a symbolic link or blocking on a FIFO, and
/// refuses anything but a regular file of at most `max` bytes (checked on the open file).
pub(crate) fn open_regular(path: &Path, max: u64) -> io::Result<File> {
    let mut options = File::options();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY,
    );
    #[cfg(not(unix))]
    {
        // No O_NOFOLLOW: look first (a race can only swap in another file of the folder).
        let meta = std::fs::symlink_metadata(path)?;
        if !meta.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    if meta.len() > max {
        return Err(io::Error::other(format!(
            "{} bytes, more than the {max} it may hold",
            meta.len()
        )));
    }
    Ok(file)
}

/// Reads a regular file of at most `max` bytes (see [`open_regular`]).
fn read_small(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path, max)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_created_once_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Secret::load(dir.path()),
            Err(KeyError::Missing { .. })
        ));
        let first = Secret::load_or_create(dir.path()).unwrap();
        assert_eq!(Secret::load_or_create(dir.path()).unwrap(), first);
        assert_eq!(Secret::load(dir.path()).unwrap(), first);
        let meta = std::fs::metadata(Secret::path(dir.path())).unwrap();
        assert_eq!(meta.len(), KEY_FILE_BYTES as u64);
        #[cfg(unix)]
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
            0o600
        );
        // Only the key is left: no temporary file.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_damaged_key_is_reported_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = Secret::path(dir.path());
        for bad in [&b""[..], b"piest-cache-key-v2 abc\n", b"\xff\xfe"] {
            std::fs::write(&path, bad).unwrap();
            let err = Secret::load_or_create(dir.path()).unwrap_err();
            assert!(matches!(err, KeyError::Corrupt { .. }), "{err}");
            assert_eq!(std::fs::read(&path).unwrap(), bad);
        }
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        let err = Secret::load_or_create(dir.path()).unwrap_err();
        assert!(matches!(err, KeyError::Unreadable { .. }), "{err}");
    }

    #[test]
    fn concurrent_first_runs_agree_on_one_key() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let barrier = std::sync::Barrier::new(8);
            let keys: Vec<Secret> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            Secret::load_or_create(dir.path()).unwrap()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert!(keys.iter().all(|k| *k == keys[0]));
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        }
    }
}
