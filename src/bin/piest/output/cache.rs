//! Renderers of the `piest cache` subcommands' results: human text, or JSON through
//! [`super::json`] with the fields of [`CacheInfo`], [`Removed`] and [`Pruned`].

use bytesize::ByteSize;
use indicatif::HumanCount;
use piest::cache::{CacheInfo, Pruned, Removed};

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
    if info.invalid > 0 {
        out.push_str(&format!(
            "invalid          {} (recomputed and replaced when next used)\n",
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

/// `piest cache clear`: `removed 94 entries (845.1 kB) from DIR`.
pub fn cleared(removed: &Removed) -> String {
    format!("removed {} from {}\n", removed_files(removed), removed.dir)
}

/// `piest cache prune`: `removed 2 entries (18.0 kB), kept 92 entries (827.1 kB) in DIR`.
pub fn pruned(pruned: &Pruned) -> String {
    format!(
        "removed {}, kept {} ({}) in {}\n",
        removed_files(&pruned.removed),
        plural(pruned.kept_entries, "entry", "entries"),
        size(pruned.kept_bytes),
        pruned.removed.dir
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_and_prune_say_what_they_removed() {
        let removed = Removed {
            dir: "/c".into(),
            entries: 2,
            bytes: 18_400,
            temp_files: 1,
        };
        assert_eq!(
            cleared(&removed),
            "removed 2 entries and 1 temporary file (18.4 kB) from /c\n"
        );
        let p = Pruned {
            removed: Removed {
                temp_files: 0,
                entries: 1,
                ..removed
            },
            kept_entries: 1,
            kept_bytes: 9_000,
        };
        assert_eq!(
            pruned(&p),
            "removed 1 entry (18.4 kB), kept 1 entry (9.0 kB) in /c\n"
        );
    }
}
