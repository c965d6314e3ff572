//! Turns the parsed command line and environment into a plain, validated [`Config`]. Rules that
//! involve several flags or the environment live here; clap types stop at this boundary.

use std::num::NonZeroUsize;

use piest::runner::RunSpec;
use piest::{Kernel, Plan};

use crate::cli::{EstimateArgs, SeedArg};

/// A mistake in the command line or environment: reported with exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// How the result is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The two-line human report.
    Human,
    /// One JSON object.
    Json,
    /// The estimate alone.
    Quiet,
}

/// Everything an estimate needs, validated.
#[derive(Debug)]
pub struct Config {
    /// What the library runs.
    pub spec: RunSpec,
    /// How the result is printed.
    pub format: Format,
    /// One line per chunk on stderr.
    pub verbose: bool,
    /// Whether the seed was drawn from the OS.
    pub random_seed: bool,
}

/// Builds the estimate's [`Config`]. `kernel_env` is the value of `PIEST_KERNEL`, if set.
pub fn estimate_config(
    args: &EstimateArgs,
    kernel_env: Option<&str>,
) -> Result<Config, UsageError> {
    let plan = Plan::new(args.trials, args.chunk_size).map_err(|e| UsageError(e.to_string()))?;
    let workers = args.workers.unwrap_or_else(default_workers);
    let (seed, random_seed) = match args.seed {
        SeedArg::Fixed(seed) => (seed, false),
        SeedArg::Random => (rand::random(), true),
    };
    let format = if args.json {
        Format::Json
    } else if args.quiet {
        Format::Quiet
    } else {
        Format::Human
    };
    Ok(Config {
        spec: RunSpec {
            plan,
            seed,
            workers,
            kernel: kernel_from_env(kernel_env)?,
        },
        format,
        verbose: args.verbose,
        random_seed,
    })
}

/// The number of cores this process may use (1 if the OS cannot tell).
pub fn default_workers() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// The kernel named by `PIEST_KERNEL` (`auto` or unset: the best this CPU supports).
pub fn kernel_from_env(value: Option<&str>) -> Result<Kernel, UsageError> {
    let name = value.map(str::trim).unwrap_or("auto");
    if name.is_empty() || name.eq_ignore_ascii_case("auto") {
        return Ok(Kernel::best());
    }
    let known: Vec<&str> = Kernel::all().iter().map(|k| k.name()).collect();
    let kernel = Kernel::all()
        .into_iter()
        .find(|k| k.name().eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            UsageError(format!(
                "invalid PIEST_KERNEL '{name}': expected auto, {}",
                known.join(", ")
            ))
        })?;
    if !Kernel::available().contains(&kernel) {
        return Err(UsageError(format!(
            "PIEST_KERNEL={name} is not supported by this CPU (available: {})",
            Kernel::available()
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(kernel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_names_round_trip_and_unknown_names_are_refused() {
        assert_eq!(kernel_from_env(None).unwrap(), Kernel::best());
        assert_eq!(kernel_from_env(Some("auto")).unwrap(), Kernel::best());
        assert_eq!(kernel_from_env(Some("scalar")).unwrap(), Kernel::Scalar);
        for kernel in Kernel::available() {
            assert_eq!(kernel_from_env(Some(kernel.name())).unwrap(), kernel);
        }
        let err = kernel_from_env(Some("gpu")).unwrap_err().to_string();
        assert!(err.contains("PIEST_KERNEL 'gpu'"), "{err}");
    }
}
