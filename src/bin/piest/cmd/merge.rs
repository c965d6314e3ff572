//! `piest merge FILE...`: reads the parts of a split run, merges their counts exactly and prints
//! the estimate of the whole run (or refuses, with the merge's own exit status).

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use piest::merge::{MergeError, MergeReport, NamedPart};
use piest::part::{PartError, parse_all};

use crate::cli::MergeArgs;
use crate::config::Env;
use crate::output::{self, write_stdout};

/// `piest merge` refused its parts: mapped to [`crate::exit::ExitStatus::MergeRefused`].
#[derive(Debug, thiserror::Error)]
#[error("merge refused: {0}")]
pub struct MergeRefused(pub MergeError);

fn refused(file: &str, error: PartError) -> MergeRefused {
    MergeRefused(MergeError::BadPart {
        file: file.to_owned(),
        error,
    })
}

/// Reads every part named by `args`, merges them and prints the report.
pub fn run(args: &MergeArgs, env: &Env) -> anyhow::Result<()> {
    let mut parts = Vec::new();
    for path in &args.files {
        let (name, text) = read_input(&env.expand_home(path, "FILE")?)?;
        let found = parse_all(&text).map_err(|error| refused(&name, error))?;
        if found.is_empty() {
            return Err(refused(&name, PartError::NotJson("empty".into())).into());
        }
        let several = found.len() > 1;
        parts.extend(found.into_iter().enumerate().map(|(i, part)| NamedPart {
            // The second part of a file of several is `FILE #2`.
            name: if several {
                format!("{name} #{}", i + 1)
            } else {
                name.clone()
            },
            part,
        }));
    }
    let merged = piest::merge::merge(&parts, args.allow_partial).map_err(MergeRefused)?;
    let report = MergeReport::new(&merged);
    let text = if args.json {
        output::json(&report)
    } else {
        output::part::merge(&report)
    };
    write_stdout(text.as_bytes())
}

/// The name and text of a part file, or of stdin for `-`. A file that cannot be read is a
/// runtime error; one that is not UTF-8 text is not a part (a refusal).
fn read_input(path: &Path) -> anyhow::Result<(String, String)> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read parts from stdin")?;
        return Ok(("-".into(), text_of("-", bytes)?));
    }
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read '{name}'"))?;
    Ok((name.clone(), text_of(&name, bytes)?))
}

fn text_of(name: &str, bytes: Vec<u8>) -> Result<String, MergeRefused> {
    String::from_utf8(bytes).map_err(|_| refused(name, PartError::NotJson("not UTF-8 text".into())))
}
