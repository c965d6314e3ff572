//! Whether a cache's key can be trusted: nobody but the running user, root and the members of
//! the running user's groups may be able to read the key, or to replace it or any folder on the
//! way to it. The rule (stated for users in the README's trust model):
//!
//! - every folder in which a name on the way to `v2/key` is looked up (from `/`, following
//!   symbolic links, whose own folders are checked too), `v2` itself and the key are owned by
//!   the running user or root, or else have one of the user's groups and sit in a folder that
//!   nobody outside the user, root and the user's groups can write (so one of those put them
//!   there);
//! - none of those folders is writable by every user or by a group the user is not in, unless
//!   it has the sticky bit (others may then add names, which the first rule refuses, but not
//!   replace ours);
//! - the key is readable and writable by no other user, and by no group the user is not in.
//!
//! Mode bits only: access control lists are not read. On other platforms nothing is checked.

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

/// Why a cache is not trusted: someone outside the running user, root and the user's groups
/// could read its key or replace a file on the way to it.
#[derive(Debug, thiserror::Error)]
pub enum Distrust {
    #[error("{} is owned by user {uid}", path.display())]
    Owner { path: PathBuf, uid: u32 },
    #[error("{} is writable by every user (mode {mode:04o}, not sticky)", path.display())]
    WorldWritable { path: PathBuf, mode: u32 },
    #[error("{} is writable by group {gid}, which this user is not in (mode {mode:04o}, not sticky)", path.display())]
    GroupWritable { path: PathBuf, gid: u32, mode: u32 },
    #[error("the key is readable or writable by every user (mode {mode:04o})")]
    KeyWorld { mode: u32 },
    #[error(
        "the key is readable or writable by group {gid}, which this user is not in (mode {mode:04o})"
    )]
    KeyGroup { gid: u32, mode: u32 },
    #[error("cannot inspect {}: {source}", path.display())]
    Inspect { path: PathBuf, source: io::Error },
    #[error("too many symbolic links on the way to {}", path.display())]
    Links { path: PathBuf },
}

/// Checks the folders on the way to the entries folder `dir` (nothing to check past one that
/// does not exist) and, if given, the owner of the key file in it (metadata taken from the open
/// file, so that it is the file read).
#[cfg(unix)]
pub(crate) fn check(dir: &Path, key: Option<&Metadata>) -> Result<(), Distrust> {
    let me = User::current();
    let Some(dir_meta) = me.walk(dir)? else {
        return Ok(());
    };
    if let Some(key) = key {
        me.owner(&dir.join(super::KEY_FILE), key, Some(&dir_meta))?;
    }
    Ok(())
}

/// Checks who may read or write a valid key besides its owner (a damaged one is replaced
/// instead).
#[cfg(unix)]
pub(crate) fn check_access(key: &Metadata) -> Result<(), Distrust> {
    use std::os::unix::fs::MetadataExt;
    let mode = key.mode() & 0o7777;
    if mode & 0o006 != 0 {
        return Err(Distrust::KeyWorld { mode });
    }
    if mode & 0o060 != 0 && !User::current().in_group(key.gid()) {
        return Err(Distrust::KeyGroup {
            gid: key.gid(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn check_access(_key: &Metadata) -> Result<(), Distrust> {
    Ok(())
}

/// Checks the folders on the way to `dir` (nothing past one that does not exist yet): whether
/// piest may create the cache there.
pub(crate) fn check_folders(dir: &Path) -> Result<(), Distrust> {
    check(dir, None)
}

#[cfg(not(unix))]
pub(crate) fn check(_dir: &Path, _key: Option<&Metadata>) -> Result<(), Distrust> {
    Ok(())
}

/// The running user: its effective user id and groups.
#[cfg(unix)]
struct User {
    uid: u32,
    groups: Vec<u32>,
}

/// Most symbolic links followed on the way to the cache (as the kernel's limit).
#[cfg(unix)]
const MAX_LINKS: usize = 40;

#[cfg(unix)]
impl User {
    fn current() -> Self {
        // SAFETY: these calls only read the process's credentials; `getgroups` writes at most
        // `len` ids into a buffer of that length.
        let (uid, mut groups) = unsafe { (libc::geteuid(), vec![libc::getegid()]) };
        let len = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
        if len > 0 {
            let mut more = vec![0 as libc::gid_t; len as usize];
            let got = unsafe { libc::getgroups(len, more.as_mut_ptr()) };
            if got > 0 {
                more.truncate(got as usize);
                groups.extend(more);
            }
        }
        User { uid, groups }
    }

    fn in_group(&self, gid: u32) -> bool {
        self.groups.contains(&gid)
    }

    /// Whether someone outside this user, root and its groups can change the folder `meta`.
    fn others_can_write(&self, meta: &Metadata) -> bool {
        use std::os::unix::fs::MetadataExt;
        meta.mode() & 0o002 != 0 || (meta.mode() & 0o020 != 0 && !self.in_group(meta.gid()))
    }

    /// The ownership rule for `path` (metadata `meta`) found in the folder `parent`.
    fn owner(
        &self,
        path: &Path,
        meta: &Metadata,
        parent: Option<&Metadata>,
    ) -> Result<(), Distrust> {
        use std::os::unix::fs::MetadataExt;
        let uid = meta.uid();
        let placed_by_us = parent.is_some_and(|p| !self.others_can_write(p));
        if uid == self.uid || uid == 0 || (self.in_group(meta.gid()) && placed_by_us) {
            return Ok(());
        }
        Err(Distrust::Owner {
            path: path.to_path_buf(),
            uid,
        })
    }

    /// The rules for a folder on the way.
    fn folder(
        &self,
        path: &Path,
        meta: &Metadata,
        parent: Option<&Metadata>,
    ) -> Result<(), Distrust> {
        use std::os::unix::fs::MetadataExt;
        self.owner(path, meta, parent)?;
        let mode = meta.mode() & 0o7777;
        if mode & 0o1000 != 0 {
            return Ok(());
        }
        if mode & 0o002 != 0 {
            return Err(Distrust::WorldWritable {
                path: path.to_path_buf(),
                mode,
            });
        }
        if mode & 0o020 != 0 && !self.in_group(meta.gid()) {
            return Err(Distrust::GroupWritable {
                path: path.to_path_buf(),
                gid: meta.gid(),
                mode,
            });
        }
        Ok(())
    }

    /// Resolves `dir` name by name, as the kernel does, checking every folder a name is looked
    /// up in and every link followed; returns the metadata of `dir` (a folder, checked too), or
    /// `None` if a name on the way does not exist.
    fn walk(&self, dir: &Path) -> Result<Option<Metadata>, Distrust> {
        use std::collections::VecDeque;
        use std::ffi::OsString;
        use std::path::Component;
        let inspect = |path: &Path| {
            std::fs::symlink_metadata(path).map_err(|source| Distrust::Inspect {
                path: path.to_path_buf(),
                source,
            })
        };
        let absolute = std::path::absolute(dir).map_err(|source| Distrust::Inspect {
            path: dir.to_path_buf(),
            source,
        })?;
        fn push_front(names: &mut VecDeque<OsString>, path: &Path) {
            let parts: Vec<OsString> = path
                .components()
                .filter_map(|c| match c {
                    Component::Normal(n) => Some(n.to_owned()),
                    Component::ParentDir => Some(OsString::from("..")),
                    _ => None,
                })
                .collect();
            for part in parts.into_iter().rev() {
                names.push_front(part);
            }
        }
        let mut names: VecDeque<OsString> = VecDeque::new();
        push_front(&mut names, &absolute);
        let mut current = PathBuf::from("/");
        let mut meta = inspect(&current)?;
        self.folder(&current, &meta, None)?;
        // The metadata of the folders above `current`, for `..`.
        let mut above: Vec<Metadata> = Vec::new();
        let mut links = 0;
        while let Some(name) = names.pop_front() {
            if name == ".." {
                if let Some(up) = above.pop() {
                    current.pop();
                    meta = up;
                }
                continue;
            }
            let path = current.join(&name);
            let found = match std::fs::symlink_metadata(&path) {
                Ok(found) => found,
                // Nothing there to trust; creating the cache fails and says so.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                    ) =>
                {
                    return Ok(None);
                }
                Err(source) => return Err(Distrust::Inspect { path, source }),
            };
            if found.file_type().is_symlink() {
                self.owner(&path, &found, Some(&meta))?;
                links += 1;
                if links > MAX_LINKS {
                    return Err(Distrust::Links { path });
                }
                let target = std::fs::read_link(&path).map_err(|source| Distrust::Inspect {
                    path: path.clone(),
                    source,
                })?;
                if target.is_absolute() {
                    current = PathBuf::from("/");
                    above.clear();
                    meta = inspect(&current)?;
                }
                push_front(&mut names, &target);
                continue;
            }
            self.folder(&path, &found, Some(&meta))?;
            above.push(std::mem::replace(&mut meta, found));
            current = path;
        }
        Ok(Some(meta))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::super::{KeyError, Secret};
    use super::*;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn load(dir: &Path) -> Result<(), Distrust> {
        match Secret::load(dir) {
            Ok(_) => Ok(()),
            Err(KeyError::Untrusted { source, .. }) => Err(source),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn modes_that_let_others_replace_or_read_the_key_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let v2 = tmp.path().join("cache/v2");
        std::fs::create_dir_all(&v2).unwrap();
        Secret::load_or_create(&v2).unwrap();
        let key = v2.join(super::super::KEY_FILE);
        assert!(load(&v2).is_ok());
        chmod(&v2, 0o777);
        assert!(matches!(load(&v2), Err(Distrust::WorldWritable { .. })));
        chmod(&v2, 0o1777);
        assert!(load(&v2).is_ok(), "sticky: others cannot replace our key");
        chmod(tmp.path().join("cache").as_path(), 0o777);
        assert!(matches!(load(&v2), Err(Distrust::WorldWritable { .. })));
        chmod(tmp.path().join("cache").as_path(), 0o755);
        chmod(&key, 0o644);
        assert!(matches!(load(&v2), Err(Distrust::KeyWorld { .. })));
        // Group access is fine for a group of ours (the running user's own group here).
        chmod(&key, 0o660);
        chmod(&v2, 0o770);
        assert!(load(&v2).is_ok());
        // A damaged key is not judged by its mode: it is replaced, and the new one is private.
        std::fs::write(&key, b"").unwrap();
        chmod(&key, 0o666);
        let (_, replaced) = Secret::load_or_create(&v2).unwrap();
        assert!(replaced.is_some());
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o007, 0);
        assert!(load(&v2).is_ok());
    }

    #[test]
    fn a_link_in_a_folder_others_can_write_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        std::fs::create_dir_all(real.join("v2")).unwrap();
        Secret::load_or_create(&real.join("v2")).unwrap();
        let open = tmp.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::os::unix::fs::symlink(&real, open.join("cache")).unwrap();
        let through = open.join("cache/v2");
        assert!(load(&through).is_ok());
        // Whoever can write `open` could point the link elsewhere.
        chmod(&open, 0o777);
        let err = load(&through).unwrap_err();
        assert!(
            matches!(err, Distrust::WorldWritable { ref path, .. } if *path == open),
            "{err}"
        );
    }

    #[test]
    fn a_folder_writable_by_a_group_of_others_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let v2 = tmp.path().join("v2");
        std::fs::create_dir(&v2).unwrap();
        Secret::load_or_create(&v2).unwrap();
        chmod(&v2, 0o770);
        // Only root can give a folder a group it is not in.
        if std::os::unix::fs::chown(&v2, None, Some(54_321)).is_err() {
            eprintln!("SKIPPED: cannot give a folder another group (not root)");
            return;
        }
        if User::current().in_group(54_321) {
            eprintln!("SKIPPED: this user is in group 54321");
            return;
        }
        assert!(matches!(
            load(&v2),
            Err(Distrust::GroupWritable { gid: 54_321, .. })
        ));
        chmod(&v2, 0o750);
        assert!(load(&v2).is_ok());
        // A key readable by that group is refused.
        std::os::unix::fs::chown(v2.join("key"), None, Some(54_321)).unwrap();
        chmod(&v2.join("key"), 0o640);
        assert!(matches!(load(&v2), Err(Distrust::KeyGroup { .. })));
    }
}
