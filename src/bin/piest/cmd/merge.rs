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

/// Most bytes read from one input: a part takes a few kilobytes, so anything far larger (a
/// stray glob match, `/dev/zero`) is refused instead of read into memory.
const MAX_INPUT_BYTES: u64 = 64 << 20;

/// The name and text of a part file, or of stdin for `-`. A file that cannot be read is a
/// runtime error; one that is not UTF-8 text, or too large to be parts, is not a part (a
/// refusal).
fn read_input(path: &Path) -> anyhow::Result<(String, String)> {
    let (name, bytes) = if path.as_os_str() == "-" {
        let bytes =
            read_bounded(std::io::stdin().lock()).context("cannot read parts from stdin")?;
        ("-".to_owned(), bytes)
    } else {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).with_context(|| format!("cannot read '{name}'"))?;
        let bytes = read_bounded(file).with_context(|| format!("cannot read '{name}'"))?;
        (name, bytes)
    };
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(refused(
            &name,
            PartError::NotJson(format!(
                "more than {} MiB: too large to be piest parts",
                MAX_INPUT_BYTES >> 20
            )),
        )
        .into());
    }
    Ok((name.clone(), text_of(&name, bytes)?))
}

/// Reads at most one byte more than [`MAX_INPUT_BYTES`] (enough to tell that it is too large).
fn read_bounded(reader: impl Read) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn text_of(name: &str, bytes: Vec<u8>) -> Result<String, MergeRefused> {
    String::from_utf8(bytes).map_err(|_| refused(name, PartError::NotJson("not UTF-8 text".into())))
}
