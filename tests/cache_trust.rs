//! The cache shared between real users: another user who can write the cache directory cannot
//! change an answer (a planted key and entries are refused, with a warning), another user's
//! file in a shared sticky folder costs its entry only, and a cache shared on purpose by a group
//! is used by every member. Each user is a numeric id switched to with `setpriv` (no account
//! needed), which takes root: as anyone else these tests say so on stderr and do nothing.

mod common;

#[cfg(unix)]
#[path = "cache_trust/unix.rs"]
mod unix;

#[cfg(not(unix))]
#[test]
fn users_sharing_a_cache_are_unix_only() {
    eprintln!("SKIPPED: the cache's trust rule reads Unix owners and modes; Windows checks none");
}
