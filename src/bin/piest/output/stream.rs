//! The raw renderer of `piest stream`: the words the sampler consumes, as little-endian u64.

use std::io::{self, Write};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use piest::sampler;

/// Which words to write: `chunk_size` words of each chunk in `chunks`, at most `limit` in all.
pub struct Words {
    pub seed: u64,
    /// Chunk indices, in order.
    pub chunks: Range<u64>,
    /// Words (trials) per chunk.
    pub chunk_size: u64,
    /// Stop after this many words in all.
    pub limit: Option<u64>,
}

/// Words written per `write_all`: 64 KiB.
const BATCH: u64 = 8192;

/// Writes `words` to `out` in consumption order (lanes interleaved, chunk after chunk). Stops
/// with an `Interrupted` error soon after `cancel` is set; a closed reader shows up as the
/// writer's `BrokenPipe` error.
pub fn write(words: &Words, mut out: impl Write, cancel: &AtomicBool) -> io::Result<()> {
    let mut left = words.limit.unwrap_or(u64::MAX);
    let mut buf = Vec::with_capacity(8 * BATCH as usize);
    for chunk in words.chunks.clone() {
        let count = words.chunk_size.min(left);
        let mut iter = sampler::chunk_words(words.seed, chunk);
        let mut done = 0;
        while done < count {
            let n = (count - done).min(BATCH);
            buf.clear();
            for w in iter.by_ref().take(n as usize) {
                buf.extend_from_slice(&w.to_le_bytes());
            }
            out.write_all(&buf)?;
            done += n;
            if cancel.load(Ordering::Relaxed) {
                return Err(io::Error::from(io::ErrorKind::Interrupted));
            }
        }
        left -= count;
        if left == 0 {
            break;
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_chunk_after_chunk_up_to_the_limit() {
        let words = Words {
            seed: 4,
            chunks: 2..5,
            chunk_size: 10,
            limit: Some(25),
        };
        let mut out = Vec::new();
        write(&words, &mut out, &AtomicBool::new(false)).unwrap();
        let got: Vec<u64> = out
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        let mut expected: Vec<u64> = sampler::chunk_words(4, 2).take(10).collect();
        expected.extend(sampler::chunk_words(4, 3).take(10));
        expected.extend(sampler::chunk_words(4, 4).take(5));
        assert_eq!(got, expected);
    }

    #[test]
    fn a_set_cancel_flag_stops_the_stream() {
        let words = Words {
            seed: 0,
            chunks: 0..u64::MAX,
            chunk_size: 1 << 20,
            limit: None,
        };
        let err = write(&words, io::sink(), &AtomicBool::new(true)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Interrupted);
    }
}
