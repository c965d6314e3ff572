//! `piest cache info|clear|prune`: look at or shrink the result cache.

use crate::cli::{CacheAction, CacheArgs};
use crate::config::{self, Env};
use crate::output::{self, write_stdout};
use piest::cache::Cache;

/// Runs the cache action `args` names and prints its result.
pub fn run(args: &CacheArgs, env: &Env) -> anyhow::Result<()> {
    let cache = Cache::new(config::cache_dir(args.cache_dir.as_deref(), env)?);
    // Every action has one result: JSON with --json, else its text renderer.
    fn render<T: serde::Serialize>(json: bool, value: &T, text: fn(&T) -> String) -> String {
        if json {
            output::json(value)
        } else {
            text(value)
        }
    }
    let text = match &args.action {
        CacheAction::Info => render(args.json, &cache.info()?, output::cache::info),
        CacheAction::Clear => render(args.json, &cache.clear()?, output::cache::cleared),
        CacheAction::Prune(prune) => {
            let (max_size, older_than) = config::prune_limits(prune)?;
            let pruned = cache.prune(max_size, older_than, std::time::SystemTime::now())?;
            render(args.json, &pruned, output::cache::pruned)
        }
    };
    write_stdout(text.as_bytes())
}
