//! Renderers of the `piest cache` subcommands' results: human text, or JSON through
//! [`super::json`] with the fields of [`CacheInfo`], [`Cleared`], [`PruneReport`] and
//! [`VerifyReport`].

use bytesize::ByteSize;
use indicatif::HumanCount;
use piest::cache::{CacheInfo, Cleared, Done, KeyState, PruneReport, Removed, Swept, VerifyReport};

/// A byte count such as `1.2 MB`.
fn size(bytes: u64) -> String {
    ByteSize(bytes).display().si().to_string()
}

/// `n word` or `n words`, with thousands separators.
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", HumanCount(n), if n == 1 { one } else { many })
}

/// `piest cache info`, for example:
///
/// ```text
/// cache directory  /home/alice/.cache/piest
/// entries          94 (845.1 kB)
/// chunks           23,842, covering 100,000,000,000 trials of 1 seed
/// by method        plain: 23,842 chunks, 100,000,000,000 trials
/// ```
pub fn info(info: &CacheInfo) -> String {
    let mut out = format!("cache directory  {}\n", info.dir);
    if !info.exists {
        out.push_str("entries          0 (nothing stored yet)\n");
        return out;
    }
    out.push_str(&format!(
        "entries          {} ({})\n",
        HumanCount(info.entries),
        size(info.bytes)
    ));
    out.push_str(&format!(
        "chunks           {}, covering {} of {}\n",
        HumanCount(info.chunks),
        plural(info.trials, "trial", "trials"),
        plural(info.seeds, "seed", "seeds"),
    ));
    for (i, m) in info.methods.iter().enumerate() {
        let label = if i == 0 { "by method" } else { "" };
        out.push_str(&format!(
            "{label:<17}{}: {}, {}\n",
            if m.method == "unknown" {
                format!("unknown algorithm {}", m.algorithm.escape_debug())
            } else {
                m.method.clone()
            },
            plural(m.chunks, "chunk", "chunks"),
            plural(m.trials, "trial", "trials")
        ));
    }
    if info.invalid > 0 {
        let why = match info.key {
            KeyState::Missing | KeyState::Damaged => "stored under a key that is gone",
            _ => "damaged, forged, or stored under an earlier key",
        };
        out.push_str(&format!(
            "invalid          {} ({why}: never used again; prune removes them)\n",
            plural(info.invalid, "entry", "entries")
        ));
    }
    if info.temp_files > 0 {
        out.push_str(&format!(
            "temporary        {} (being written, or left by a killed run: prune removes \
             those older than an hour)\n",
            plural(info.temp_files, "file", "files")
        ));
    }
    let problem = info.key_problem.as_deref().unwrap_or("");
    match info.key {
        KeyState::Present => {}
        KeyState::Missing => out.push_str("key              none (the next run creates one)\n"),
        KeyState::Unreadable => out.push_str(&format!(
            "key              unreadable by this user: runs do not use this cache ({problem})\n"
        )),
        KeyState::Damaged => out.push_str(&format!(
            "key              damaged: the next run replaces it, and clear removes it ({problem})\n"
        )),
        KeyState::Untrusted => out.push_str(&format!(
            "key              {problem}: runs do not use this cache\n"
        )),
    }
    if info.unverified > 0 {
        out.push_str(&format!(
            "unverified       {} (not checked: the key cannot be read or is not trusted)\n",
            plural(info.unverified, "entry", "entries")
        ));
    }
    if info.strange > 0 {
        out.push_str(&format!(
            "strange          {} under entry names (never read; clear and prune remove those \
             marked removable):\n",
            plural(info.strange, "file", "files")
        ));
        for file in &info.strange_files {
            let removable = if file.removable { ", removable" } else { "" };
            out.push_str(&format!(
                "                   {} ({}{removable})\n",
                file.path, file.kind
            ));
        }
        let unnamed = info.strange.saturating_sub(info.strange_files.len() as u64);
        if unnamed > 0 {
            out.push_str(&format!(
                "                   and {} more\n",
                HumanCount(unnamed)
            ));
        }
    }
    if info.old_format_files > 0 {
        out.push_str(&format!(
            "old format       {} ({}) of an earlier piest, never read: clear and prune remove \
             them\n",
            plural(info.old_format_files, "file", "files"),
            size(info.old_format_bytes)
        ));
    }
    out
}

/// What was removed: `2 entries and 1 temporary file (18.4 kB)`.
fn removed_files(removed: &Removed) -> String {
    let mut text = plural(removed.entries, "entry", "entries");
    if removed.temp_files > 0 {
        text.push_str(&format!(
            " and {}",
            plural(removed.temp_files, "temporary file", "temporary files")
        ));
    }
    format!("{text} ({})", size(removed.bytes))
}

/// What a stopped `clear`, `prune` or `verify` had done, to follow `interrupted`: `; it had
/// removed 120 entries (1.0 MB) and 2 other files or spans`, or nothing.
pub fn progress(done: &Done) -> String {
    let (entries, bytes, other) = match done {
        Done::Unchanged => return String::new(),
        Done::Removed(c) => (
            c.removed.entries,
            Some(c.removed.bytes),
            c.removed.temp_files + c.swept.strange + c.swept.old_format_files,
        ),
        Done::Verified(v) => (v.entries_removed, None, v.removed_spans),
    };
    if entries + other == 0 {
        return String::new();
    }
    let bytes = bytes.map(|b| format!(" ({})", size(b))).unwrap_or_default();
    // Plain numbers: a script may read them.
    format!(
        "; it had removed {entries} {}{bytes} and {other} {}",
        if entries == 1 { "entry" } else { "entries" },
        if other == 1 {
            "other file or span"
        } else {
            "other files or spans"
        }
    )
}

/// The lines about strange files, the old format's files and files left in place, after the
/// line about entries.
fn swept(swept: &Swept) -> String {
    let mut out = String::new();
    if swept.strange > 0 {
        out.push_str(&format!(
            "removed {} under entry names (links, FIFOs, sockets, empty folders)\n",
            plural(swept.strange, "strange file", "strange files")
        ));
    }
    if swept.old_format_files > 0 {
        out.push_str(&format!(
            "removed {} of the old format\n",
            plural(swept.old_format_files, "file", "files")
        ));
    }
    if swept.not_removed > 0 {
        let failed = match swept.failed {
            0 => String::new(),
            1 if swept.not_removed == 1 => ", failing to remove it".to_owned(),
            n if n == swept.not_removed => ", failing to remove them".to_owned(),
            n => format!(", failing to remove {}", HumanCount(n)),
        };
        out.push_str(&format!(
            "left {} in place{failed}:\n",
            plural(swept.not_removed, "file", "files")
        ));
        for file in &swept.not_removed_files {
            out.push_str(&format!("  {} ({})\n", file.path, file.why));
        }
        let unnamed = swept
            .not_removed
            .saturating_sub(swept.not_removed_files.len() as u64);
        if unnamed > 0 {
            out.push_str(&format!("  and {} more\n", HumanCount(unnamed)));
        }
    }
    out
}

/// `piest cache clear`: `removed 94 entries (845.1 kB) from DIR`, then what else it removed
/// or left.
pub fn cleared(cleared: &Cleared) -> String {
    let key = if cleared.damaged_key_removed {
        "removed the damaged key (the next run creates a new one)\n"
    } else {
        ""
    };
    format!(
        "removed {} from {}\n{key}{}",
        removed_files(&cleared.removed),
        cleared.removed.dir,
        swept(&cleared.swept)
    )
}

/// `piest cache prune`: `removed 2 entries (18.0 kB), kept 92 entries (827.1 kB) in DIR`, then
/// how many of those removed no run could use, and what else it removed or left.
pub fn pruned(report: &PruneReport) -> String {
    let pruned = &report.pruned;
    let invalid = match pruned.invalid_removed {
        0 => String::new(),
        n => format!(
            "{} of the entries removed could never be used again (damaged, forged, or stored \
             under a key that is gone)\n",
            HumanCount(n)
        ),
    };
    format!(
        "removed {}, kept {} ({}) in {}\n{invalid}{}",
        removed_files(&pruned.removed),
        plural(pruned.kept_entries, "entry", "entries"),
        size(pruned.kept_bytes),
        pruned.removed.dir,
        swept(&report.swept)
    )
}

/// `piest cache verify`, for example:
///
/// ```text
/// recomputed 94 spans (23,842 chunks, 100,000,000,000 trials) of 94 entries in DIR: all agree
/// ```
pub fn verified(report: &VerifyReport) -> String {
    let mut out = format!(
        "recomputed {} ({}, {}) of {} in {}",
        plural(report.spans, "span", "spans"),
        plural(report.chunks, "chunk", "chunks"),
        plural(report.trials, "trial", "trials"),
        plural(report.entries, "entry", "entries"),
        report.dir
    );
    if report.differences.is_empty() {
        out.push_str(": all agree\n");
    } else {
        out.push_str(&format!(
            ": {} DIFFER (removed; the next run recomputes them):\n",
            HumanCount(report.differences.len() as u64)
        ));
        for d in &report.differences {
            out.push_str(&format!(
                "  {} · seed {} · chunk size {} · chunks {}..{}: cached {} inside, recomputed {}",
                d.method, d.seed, d.chunk_size, d.first_chunk, d.end_chunk, d.cached, d.computed
            ));
            if let (Some(cached), Some(computed)) = (&d.cached_squares, &d.computed_squares)
                && cached != computed
            {
                out.push_str(&format!("; squares {cached}, recomputed {computed}"));
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "rewrote {}, removed {}\n",
            plural(report.entries_rewritten, "entry", "entries"),
            plural(report.entries_removed, "emptied entry", "emptied entries")
        ));
    }
    if report.invalid > 0 {
        out.push_str(&format!(
            "skipped {} that fail their check (damaged, forged, or stored under an earlier \
             key: never used again; prune removes them)\n",
            plural(report.invalid, "entry", "entries")
        ));
    }
    if report.other_algorithm > 0 {
        out.push_str(&format!(
            "skipped {} of another sampling algorithm\n",
            plural(report.other_algorithm, "entry", "entries")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use piest::cache::Pruned;

    #[test]
    fn a_stopped_command_says_what_it_had_removed() {
        assert_eq!(progress(&Done::Unchanged), "");
        let mut cleared = Cleared::default();
        assert_eq!(progress(&Done::Removed(Box::new(cleared.clone()))), "");
        cleared.removed.entries = 3272;
        cleared.removed.bytes = 52_400;
        cleared.swept.strange = 1;
        assert_eq!(
            progress(&Done::Removed(Box::new(cleared))),
            "; it had removed 3272 entries (52.4 kB) and 1 other file or span"
        );
    }

    #[test]
    fn clear_and_prune_say_what_they_removed() {
        let removed = Removed {
            dir: "/c".into(),
            entries: 2,
            bytes: 18_400,
            temp_files: 1,
        };
        let cleared_ = Cleared {
            removed: removed.clone(),
            swept: Swept::default(),
            damaged_key_removed: false,
        };
        assert_eq!(
            cleared(&cleared_),
            "removed 2 entries and 1 temporary file (18.4 kB) from /c\n"
        );
        let report = PruneReport {
            pruned: Pruned {
                removed: Removed {
                    temp_files: 0,
                    entries: 1,
                    ..removed
                },
                invalid_removed: 0,
                kept_entries: 1,
                kept_bytes: 9_000,
            },
            swept: Swept::default(),
        };
        assert_eq!(
            pruned(&report),
            "removed 1 entry (18.4 kB), kept 1 entry (9.0 kB) in /c\n"
        );
    }
}
