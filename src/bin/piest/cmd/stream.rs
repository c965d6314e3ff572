//! `piest stream`: the sampler's words as raw little-endian u64, until done or the pipe closes.

use std::io;
use std::sync::atomic::AtomicBool;

use anyhow::Context;

use crate::cli::StreamArgs;
use crate::output::stream::{Words, write};

/// Writes the words `args` select to stdout.
pub fn run(args: &StreamArgs, cancel: &AtomicBool) -> anyhow::Result<()> {
    let out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let words = Words {
        seed: args.seed,
        chunks: args.chunks.clone(),
        chunk_size: args.chunk.size(),
        limit: args.words,
    };
    match write(&words, out, cancel) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(piest::Error::Cancelled.into()),
        other => other.context("cannot write to stdout"),
    }
}
