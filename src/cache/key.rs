//! The cache's secret: 32 random bytes in a file of the entries folder, from which entry file
//! names and entry MACs are derived. Created once by the first run, readable by its owner only
//! unless someone widens it on purpose, trusted only as [`super::trust`] allows. A damaged key
//! is replaced under a lock, after checking again that it is still damaged, so that concurrent
//! runs end with one key.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::trust::{self, Distrust};

/// File name of the secret in the entries folder.
pub const KEY_FILE: &str = "key";

/// The file locked while a key is created, replaced or removed.
pub(crate) const LOCK_FILE: &str = "key.lock";

/// First word of the key file, so that a stray file is not mistaken for a key.
const KEY_HEADER: &str = "piest-cache-key-v2 ";

/// Exact size of a key file: the header, 64 hex digits and a newline.
const KEY_FILE_BYTES: usize = KEY_HEADER.len() + 64 + 1;

/// BLAKE3 key-derivation context of the subkey that names entries.
const NAME_CONTEXT: &str = "piest 2026-12-01 cache entry names v2";

/// BLAKE3 key-derivation context of the subkey that authenticates entries.
const MAC_CONTEXT: &str = "piest 2026-12-01 cache entry MAC v2";

/// Longest wait for the lock: it is held for the few system calls that write a key.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// Why the secret cannot be used; a run then goes on without the cache.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No key file (only when not asked to create one).
    #[error("the cache key {} does not exist", path.display())]
    Missing { path: PathBuf },
    /// The key file exists but cannot be read (another user's key, say).
    #[error("cannot read the cache key {}: {source}", path.display())]
    Unreadable { path: PathBuf, source: io::Error },
    /// Something at the key's path that is a file but not a key.
    #[error("the cache key {} is damaged ({why})", path.display())]
    Corrupt { path: PathBuf, why: &'static str },
    /// No key exists and none can be written.
    #[error("cannot create the cache key {}: {source}", path.display())]
    Create { path: PathBuf, source: io::Error },
    /// Someone besides the user, root and the user's groups could read or replace the key.
    #[error("not trusting the cache key {}: {source}", path.display())]
    Untrusted { path: PathBuf, source: Distrust },
    /// The lock that guards creating and replacing the key cannot be taken.
    #[error("cannot lock {}: {source}", path.display())]
    Lock { path: PathBuf, source: io::Error },
}

/// A damaged key that was replaced by a new one.
#[derive(Debug, thiserror::Error)]
#[error(
    "the cache key {} was damaged ({why}) and has been replaced: entries stored under the old \
     key are never used again (`piest cache prune` and `clear` remove them)",
    path.display()
)]
pub struct Replaced {
    pub path: PathBuf,
    pub why: &'static str,
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

    /// Reads the secret of the entries folder `dir` if it can be trusted; never creates one.
    pub fn load(dir: &Path) -> Result<Secret, KeyError> {
        let path = Secret::path(dir);
        let untrusted = |source| KeyError::Untrusted {
            path: path.clone(),
            source,
        };
        let file = match open_nofollow(&path) {
            Ok(file) => file,
            Err(e) => {
                trust::check(dir, None).map_err(untrusted)?;
                let link =
                    std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
                return Err(if e.kind() == io::ErrorKind::NotFound {
                    KeyError::Missing { path }
                } else if link {
                    // A key is never a link: replaced like any damaged key.
                    KeyError::Corrupt {
                        path,
                        why: "a symbolic link",
                    }
                } else {
                    KeyError::Unreadable { path, source: e }
                });
            }
        };
        let unreadable = |source| KeyError::Unreadable {
            path: path.clone(),
            source,
        };
        let meta = file.metadata().map_err(unreadable)?;
        trust::check(dir, Some(&meta)).map_err(untrusted)?;
        if meta.is_dir() {
            return Err(unreadable(io::Error::other("a directory")));
        }
        if !meta.is_file() {
            // A FIFO, socket or device: nobody's key, replaced like any damaged key.
            return Err(KeyError::Corrupt {
                path: path.clone(),
                why: "not a regular file",
            });
        }
        let mut bytes = Vec::new();
        file.take(KEY_FILE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(unreadable)?;
        let secret = parse(&bytes).map_err(|why| KeyError::Corrupt {
            path: path.clone(),
            why,
        })?;
        trust::check_access(&meta).map_err(untrusted)?;
        Ok(secret)
    }

    /// Reads the secret of `dir`, creating it if there is none and replacing it if it is
    /// damaged (then also returning what was wrong). Concurrent runs (threads, processes, or
    /// nodes sharing the folder) all end with the same secret: a key is created by hard-linking
    /// a complete candidate to the key's name, which fails if a key exists, and replaced only
    /// under the lock after reading it again.
    pub fn load_or_create(dir: &Path) -> Result<(Secret, Option<Replaced>), KeyError> {
        match Secret::load(dir) {
            Err(KeyError::Missing { .. } | KeyError::Corrupt { .. }) => {}
            other => return other.map(|secret| (secret, None)),
        }
        let path = Secret::path(dir);
        // Held until this function returns.
        let lock = lock(dir);
        match Secret::load(dir) {
            Err(KeyError::Missing { .. }) => {
                // Without a lock (a file system without locks) a hard link is still safe.
                create(dir, &path, None).map_err(|source| KeyError::Create {
                    path: path.clone(),
                    source,
                })?;
                Ok((Secret::load(dir)?, None))
            }
            Err(KeyError::Corrupt { why, .. }) => {
                let _held = lock.map_err(|source| KeyError::Lock {
                    path: dir.join(LOCK_FILE),
                    source,
                })?;
                let old = std::fs::symlink_metadata(&path).ok();
                create(dir, &path, old.as_ref()).map_err(|source| KeyError::Create {
                    path: path.clone(),
                    source,
                })?;
                Ok((Secret::load(dir)?, Some(Replaced { path, why })))
            }
            other => other.map(|secret| (secret, None)),
        }
    }

    /// Removes the key of `dir` if it is damaged (under the lock, after reading it again);
    /// returns whether it did.
    pub fn remove_damaged(dir: &Path) -> Result<bool, KeyError> {
        if !matches!(Secret::load(dir), Err(KeyError::Corrupt { .. })) {
            return Ok(false);
        }
        let _lock = lock(dir).map_err(|source| KeyError::Lock {
            path: dir.join(LOCK_FILE),
            source,
        })?;
        let path = Secret::path(dir);
        if !matches!(Secret::load(dir), Err(KeyError::Corrupt { .. })) {
            return Ok(false);
        }
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(KeyError::Unreadable { path, source }),
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
    if bytes.is_empty() {
        return Err("empty");
    }
    if bytes.len() > KEY_FILE_BYTES {
        return Err("too long");
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "not text")?;
    let hex = text
        .strip_prefix(KEY_HEADER)
        .and_then(|rest| rest.strip_suffix('\n'))
        .ok_or("not a piest cache key")?;
    let hash = blake3::Hash::from_hex(hex).map_err(|_| "not 64 hex digits")?;
    Ok(Secret::from_raw(*hash.as_bytes()))
}

/// Takes the lock of `dir`'s key, waiting at most [`LOCK_WAIT`]; held until the file is closed.
fn lock(dir: &Path) -> io::Result<File> {
    let path = dir.join(LOCK_FILE);
    let mut options = File::options();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = match options.open(&path) {
        // Another member's lock file of a shared cache: a read-only open locks as well.
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => open_nofollow(&path)?,
        other => other?,
    };
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    let step = Duration::from_millis(10);
    for _ in 0..LOCK_WAIT.as_millis() / step.as_millis() {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => std::thread::sleep(step),
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("held by another process for {} s", LOCK_WAIT.as_secs()),
    ))
}

/// Writes a new random key to `path`. With `replacing` (the damaged key's metadata) it renames
/// the new key over the damaged one, keeping its group's access when the new file has the same
/// group (a shared cache); otherwise it links it to the name unless a key exists (then it
/// keeps that one).
fn create(dir: &Path, path: &Path, replacing: Option<&std::fs::Metadata>) -> io::Result<()> {
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
    if let Some(old) = replacing {
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            if tmp.as_file().metadata()?.gid() == old.gid() {
                let mode = 0o600 | (old.mode() & 0o040);
                tmp.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(mode))?;
            }
        }
        #[cfg(not(unix))]
        let _ = old;
        // Windows refuses to replace a file another process has open (a run reading the key
        // at that moment) with "access denied": try again for a moment before giving up.
        let mut tries = if cfg!(windows) { 100 } else { 1 };
        loop {
            tries -= 1;
            match tmp.persist(path) {
                Ok(_) => return Ok(()),
                Err(e) if tries > 0 && e.error.kind() == io::ErrorKind::PermissionDenied => {
                    tmp = e.file;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(e.error),
            }
        }
    }
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

/// Opens `path` for reading without following a symbolic link or blocking on a FIFO.
fn open_nofollow(path: &Path) -> io::Result<File> {
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
        if meta.file_type().is_symlink() {
            return Err(io::Error::other("a symbolic link"));
        }
    }
    options.open(path)
}

/// Opens `path` for reading (see [`open_nofollow`]) and refuses anything but a regular file of
/// at most `max` bytes (checked on the open file).
pub(crate) fn open_regular(path: &Path, max: u64) -> io::Result<File> {
    let file = open_nofollow(path)?;
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
        let first = Secret::load_or_create(dir.path()).unwrap().0;
        assert_eq!(Secret::load_or_create(dir.path()).unwrap().0, first);
        assert_eq!(Secret::load(dir.path()).unwrap(), first);
        let meta = std::fs::metadata(Secret::path(dir.path())).unwrap();
        assert_eq!(meta.len(), KEY_FILE_BYTES as u64);
        #[cfg(unix)]
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
            0o600
        );
        // Only the key and its lock are left: no temporary file.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_damaged_key_is_replaced_once_and_a_folder_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = Secret::path(dir.path());
        let long = [b'a'; KEY_FILE_BYTES + 1];
        for bad in [&b""[..], b"piest-cache-key-v2 abc\n", b"\xff\xfe", &long] {
            std::fs::write(&path, bad).unwrap();
            assert!(matches!(
                Secret::load(dir.path()),
                Err(KeyError::Corrupt { .. })
            ));
            let (secret, replaced) = Secret::load_or_create(dir.path()).unwrap();
            assert!(replaced.is_some());
            let (again, replaced) = Secret::load_or_create(dir.path()).unwrap();
            assert_eq!((again, replaced.is_none()), (secret, true));
            assert_eq!(std::fs::read(&path).unwrap().len(), KEY_FILE_BYTES);
        }
        // Only the key and the lock are left: no temporary file.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        // A valid key is never removed as damaged; a damaged one is.
        assert!(!Secret::remove_damaged(dir.path()).unwrap());
        std::fs::write(&path, b"").unwrap();
        assert!(Secret::remove_damaged(dir.path()).unwrap());
        assert!(!path.exists());
        std::fs::create_dir(&path).unwrap();
        let err = Secret::load_or_create(dir.path()).unwrap_err();
        assert!(matches!(err, KeyError::Unreadable { .. }), "{err}");
        assert!(!Secret::remove_damaged(dir.path()).unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_or_a_link_where_the_key_belongs_is_replaced_and_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let path = Secret::path(dir.path());
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, b"not a key").unwrap();
        let plant: [(&str, &dyn Fn()); 2] = [
            ("fifo", &|| {
                let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            }),
            ("link", &|| {
                std::os::unix::fs::symlink(&elsewhere, &path).unwrap()
            }),
        ];
        for (what, plant) in plant {
            plant();
            let err = Secret::load(dir.path()).unwrap_err();
            assert!(matches!(err, KeyError::Corrupt { .. }), "{what}: {err}");
            let (_, replaced) = Secret::load_or_create(dir.path()).unwrap();
            assert!(replaced.is_some(), "{what}");
            assert!(
                std::fs::symlink_metadata(&path).unwrap().is_file(),
                "{what}"
            );
            std::fs::remove_file(&path).unwrap();
            plant();
            assert!(Secret::remove_damaged(dir.path()).unwrap(), "{what}");
            assert!(std::fs::symlink_metadata(&path).is_err(), "{what}");
        }
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"not a key");
    }

    #[test]
    fn concurrent_runs_replace_a_damaged_key_once() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(Secret::path(dir.path()), b"piest-cache-key-v2 ").unwrap();
            let barrier = std::sync::Barrier::new(8);
            let keys: Vec<(Secret, bool)> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            let (key, replaced) = Secret::load_or_create(dir.path()).unwrap();
                            (key, replaced.is_some())
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert!(keys.iter().all(|k| k.0 == keys[0].0));
            assert_eq!(keys.iter().filter(|k| k.1).count(), 1, "replaced once");
        }
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
                            Secret::load_or_create(dir.path()).unwrap().0
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert!(keys.iter().all(|k| *k == keys[0]));
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        }
    }
}
