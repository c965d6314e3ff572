//! Where the cache lives when the caller names no directory: one policy for every front end
//! (the command line, the Python binding), so that a shell and a notebook on one machine share
//! one cache. Pure functions: the caller reads the environment and hands the values in.

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

/// The folder piest's cache takes under the platform's cache directory.
pub const FOLDER: &str = "piest";

/// The environment variable that names the cache directory (read by the front ends, not here).
pub const ENV_VAR: &str = "PIEST_CACHE_DIR";

/// A `~` in a cache path that cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot expand '~' in {given_in} '{}': no home directory is known (set HOME or give an \
     absolute path)",
    path.display()
)]
pub struct NoHome {
    /// The flag or variable the path came from (`--cache-dir`, `PIEST_CACHE_DIR`, ...).
    pub given_in: String,
    /// The path as given.
    pub path: PathBuf,
}

/// The cache directory: `explicit` (`--cache-dir`, `cache_dir=`) if given, else `env_var` (the
/// value of [`ENV_VAR`]) if set and not empty, else [`FOLDER`] under `platform_cache` (the OS's
/// per-user cache directory: `$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on
/// macOS, `%LOCALAPPDATA%` on Windows); `None` when none of them is known. A leading `~` in the
/// first two is `home` ([`expand_home`]); `explicit_name` names the first in that error.
pub fn default_location(
    explicit: Option<(&Path, &str)>,
    env_var: Option<&OsStr>,
    platform_cache: Option<&Path>,
    home: Option<&Path>,
) -> Result<Option<PathBuf>, NoHome> {
    if let Some((path, name)) = explicit {
        return expand_home(path, home, name).map(Some);
    }
    if let Some(var) = env_var.filter(|v| !v.is_empty()) {
        return expand_home(Path::new(var), home, ENV_VAR).map(Some);
    }
    Ok(platform_cache.map(|dir| dir.join(FOLDER)))
}

/// `path` with a leading `~` or `~/` replaced by `home`, as a shell would have done had the path
/// not been quoted or written as `--flag=~/x`: piest never creates a directory literally named
/// `~`. `~user` is left alone (it would need the user database). `source` names the flag or
/// variable for the error when no home directory is known.
pub fn expand_home(path: &Path, home: Option<&Path>, source: &str) -> Result<PathBuf, NoHome> {
    let mut parts = path.components();
    let rest = match parts.next() {
        Some(Component::Normal(first)) if first == "~" => parts.as_path(),
        _ => return Ok(path.to_path_buf()),
    };
    match home {
        Some(home) if !home.as_os_str().is_empty() => Ok(home.join(rest)),
        _ => Err(NoHome {
            given_in: source.to_owned(),
            path: path.to_path_buf(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_explicit_path_wins_then_the_variable_then_the_platform() {
        let (home, platform) = (Path::new("/h"), Path::new("/p"));
        let at = |explicit, var: Option<&str>| {
            default_location(explicit, var.map(OsStr::new), Some(platform), Some(home)).unwrap()
        };
        assert_eq!(
            at(Some((Path::new("~/x"), "--cache-dir")), Some("/v")),
            Some(PathBuf::from("/h/x"))
        );
        assert_eq!(at(None, Some("/v")), Some(PathBuf::from("/v")));
        assert_eq!(at(None, Some("")), Some(PathBuf::from("/p/piest")));
        assert_eq!(
            default_location(None, None, None, Some(home)).unwrap(),
            None
        );
    }

    #[test]
    fn a_tilde_without_a_home_is_an_error_naming_its_source() {
        let err = default_location(None, Some(OsStr::new("~/c")), None, None).unwrap_err();
        assert!(err.to_string().contains("PIEST_CACHE_DIR '~/c'"), "{err}");
        assert_eq!(
            expand_home(Path::new("~user/c"), None, "x").unwrap(),
            PathBuf::from("~user/c")
        );
    }
}
