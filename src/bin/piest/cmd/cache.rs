//! `piest cache info|clear|prune|verify`: look at, shrink or check the result cache. Every action
//! stops soon after Ctrl-C (the library looks at the flag between files and between slices of a
//! recomputation).

use std::sync::atomic::AtomicBool;

use piest::cache::{Cache, Swept, VerifyOptions};

use crate::cli::{CacheAction, CacheArgs};
use crate::config::{self, Env};
use crate::output::{self, write_stdout};

/// `cache verify` found cached counts that differ from their recomputation (they were removed):
/// the report is printed, and the process ends with
/// [`crate::exit::ExitStatus::VerifyDifferences`].
#[derive(Debug, thiserror::Error)]
#[error(
    "cache verify found {spans} cached span{s} whose count differs from a recomputation \
     (removed: the next run recomputes {them}); this machine or a trusted writer produced a \
     wrong count",
    s = if *spans == 1 { "" } else { "s" },
    them = if *spans == 1 { "it" } else { "them" }
)]
pub struct VerifyDifferences {
    pub spans: usize,
}

/// `cache clear` or `cache prune` could not remove files it should have (a read-only cache, say):
/// the report naming them is printed, and the process ends with status 1.
#[derive(Debug, thiserror::Error)]
#[error(
    "cache {action} could not remove {files} file{s} (first {first}); the cache is not as asked",
    s = if *files == 1 { "" } else { "s" }
)]
pub struct Incomplete {
    action: &'static str,
    files: u64,
    first: String,
}

impl Incomplete {
    fn check(action: &'static str, swept: &Swept) -> anyhow::Result<()> {
        if swept.failed == 0 {
            return Ok(());
        }
        let first = swept
            .not_removed_files
            .iter()
            .find(|f| f.failed)
            .map(|f| format!("{}: {}", f.path, f.why))
            .unwrap_or_default();
        Err(Incomplete {
            action,
            files: swept.failed,
            first,
        }
        .into())
    }
}

/// Runs the cache action `args` names and prints its result.
pub fn run(args: &CacheArgs, env: &Env, cancel: &AtomicBool) -> anyhow::Result<()> {
    let cache = Cache::new(config::cache_dir(args, env)?);
    // Every action has one result: JSON with --json, else its text renderer.
    fn render<T: serde::Serialize>(json: bool, value: &T, text: fn(&T) -> String) -> String {
        if json {
            output::json(value)
        } else {
            text(value)
        }
    }
    let text = match &args.action {
        CacheAction::Info => {
            let info = cache.info_cancellable(cancel)?;
            render(args.json, &info, output::cache::info)
        }
        CacheAction::Clear => {
            let cleared = cache.clear_cancellable(cancel)?;
            write_stdout(render(args.json, &cleared, output::cache::cleared).as_bytes())?;
            return Incomplete::check("clear", &cleared.swept);
        }
        CacheAction::Prune(prune) => {
            let (max_size, older_than) = config::prune_limits(prune)?;
            let now = std::time::SystemTime::now();
            let pruned = cache.prune_cancellable(max_size, older_than, now, cancel)?;
            write_stdout(render(args.json, &pruned, output::cache::pruned).as_bytes())?;
            return Incomplete::check("prune", &pruned.swept);
        }
        CacheAction::Verify(verify) => {
            let options = VerifyOptions {
                fraction: verify.sample.unwrap_or(1.0),
                sample_seed: verify.sample_seed,
                workers: verify.workers.unwrap_or_else(config::default_workers),
                kernel: config::kernel_from_env(env.kernel.as_deref())?,
            };
            let report = cache.verify(&options, cancel)?;
            if report.spans == 0 && report.entries > 0 {
                // A sample so small that it picked nothing checked nothing: not "all agree".
                // `{:?}` writes a tiny fraction as 1e-300, where `{}` spells out every digit.
                return Err(config::UsageError(format!(
                    "--sample {:?} picked none of the cached spans of {} entr{}, so nothing was \
                     checked: give a larger fraction (1 checks every span)",
                    options.fraction,
                    report.entries,
                    if report.entries == 1 { "y" } else { "ies" }
                ))
                .into());
            }
            let text = render(args.json, &report, output::cache::verified);
            write_stdout(text.as_bytes())?;
            return match report.differences.len() {
                0 => Ok(()),
                spans => Err(VerifyDifferences { spans }.into()),
            };
        }
    };
    write_stdout(text.as_bytes())
}
