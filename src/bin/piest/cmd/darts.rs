//! `piest darts`: draw the first N darts of a run, the very points an estimate of N trials with
//! the same seed and chunk size counts, or one stratified chunk (`--method stratified`).

use crate::cli::DartsArgs;
use crate::config::{self, Env};
use crate::output::{self, stderr_line};

/// Throws the darts `args` describe and draws them into the `--plot` file.
pub fn run(args: &DartsArgs, env: &Env) -> anyhow::Result<()> {
    let config = config::darts_config(args, env)?;
    if config.random_seed {
        stderr_line(&format!("piest: using random seed {}", config.seed));
    }
    let darts = match config.method {
        piest::sampler::Method::Plain => piest::darts::throw(&config.plan, config.seed)?,
        piest::sampler::Method::Stratified => {
            piest::darts::throw_stratified(config.plan.trials(), config.seed)?
        }
    };
    if darts.requested != darts.trials() {
        stderr_line(&format!(
            "piest: {} stratified darts rounded up to a whole chunk of {} (4^{})",
            darts.requested,
            darts.trials(),
            darts.grid.map_or(0, |g| g.k())
        ));
    }
    let svg = output::darts::render(&darts).map_err(anyhow::Error::msg)?;
    output::write_plot(&config.plot, svg.as_bytes())
}
