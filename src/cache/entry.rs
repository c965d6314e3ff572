//! One cache entry (format v2): the counts of one *block* of consecutive chunks, as *spans*
//! (a run of consecutive chunks of equal trials and their total inside count), its key, its
//! keyed file name, its binary on-disk format with a keyed MAC, and the checks that decide
//! whether a file may be trusted.
//!
//! A span of a stratified algorithm's entry also carries `Σc²`, the sum of its chunks' squared
//! counts (two more words on disk): a stratified run's interval comes from the spread between
//! chunks, and a span of several chunks must give it exactly. The header's algorithm says which
//! layout the spans have, so plain entries are byte for byte those of earlier piest versions.
//!
//! A block is [`BLOCK_CELLS`](crate::plan::BLOCK_CELLS) *cells*; a cell is [`cache_cell_chunks`]
//! consecutive chunks worth about [`CELL_TRIALS`](crate::plan::CELL_TRIALS) trials (one chunk
//! when chunks are that large). A span never crosses a cell boundary, so an entry holds about one
//! span per cell (32 bytes) whatever the chunk size, and a block covers about 2^30 trials at
//! every chunk size up to 2^22.

use std::ops::Range;

use super::key::Secret;
use crate::plan::{cache_block_chunks, cache_cell_chunks};
use crate::sampler::Method;
use crate::stats::convergence;

/// A stratified plan's first chunks, each kept as a span of its own: a target run stops in them
/// (the target rule aims at about 30 chunks, never fewer than 20), and its repeat must read each
/// chunk's count to find the same stop without counting anything again. 256 spans in block 0.
pub const SINGLE_STRATIFIED_CHUNKS: u64 = 256;

/// Most spans an entry may hold: two per cell (a prefix of it and the rest, or a run's
/// remainder chunk) and room for runs that stopped at different places.
pub const MAX_SPANS: usize = 2048;

/// Largest entry file: the header, [`MAX_SPANS`] of the widest spans and the MAC. Anything
/// larger is not an entry and is never read.
pub const MAX_ENTRY_BYTES: u64 = (HEADER_MAX + MAX_SPANS * SQUARED_SPAN_BYTES + MAC_BYTES) as u64;

/// Format name of the entries of this version (also the folder's meaning in the docs).
pub const FORMAT: &str = "piest-cache-entry-v2";

pub const ENTRY_SUFFIX: &str = ".entry";

/// First bytes of every entry file.
const MAGIC: &[u8; 16] = b"piest-cache-v2\n\0";

/// Longest algorithm name an entry may carry.
const MAX_ALGORITHM_BYTES: usize = 255;

/// Bytes of a header with the longest algorithm name: magic, name length and name, five words.
const HEADER_MAX: usize = MAGIC.len() + 4 + MAX_ALGORITHM_BYTES + 5 * 8;

/// Bytes of one span on disk: four little-endian words (first, end, trials, inside).
const SPAN_BYTES: usize = 32;

/// Bytes of one span that also carries `Σc²`: the four words, then `Σc²` as two words (low,
/// high).
const SQUARED_SPAN_BYTES: usize = 48;

const MAC_BYTES: usize = 32;

/// What identifies a block: everything that determines the counts of its chunks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BlockKey {
    /// Version string of the sampling algorithm ([`Method::algorithm`] for real runs).
    pub algorithm: String,
    pub seed: u64,
    /// Trials per chunk: chunk `i` of a plan with another chunk size holds other trials.
    pub chunk_size: u64,
    /// Block index: the block holds chunks `block · block_chunks ..` `(block + 1) · block_chunks`.
    pub block: u64,
}

impl BlockKey {
    /// The key of block `block` for `method`'s sampling algorithm.
    pub fn new(method: Method, seed: u64, chunk_size: u64, block: u64) -> Self {
        BlockKey {
            algorithm: method.algorithm().to_owned(),
            seed,
            chunk_size,
            block,
        }
    }

    /// The method whose algorithm this key names, if this piest knows it.
    pub fn method(&self) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.algorithm() == self.algorithm)
    }

    /// Whether this key's spans carry `Σc²` (a stratified algorithm's chunks are replicates).
    pub fn keeps_squares(&self) -> bool {
        self.algorithm == crate::sampler::STRATIFIED_ALGORITHM
    }

    fn span_bytes(&self) -> usize {
        if self.keeps_squares() {
            SQUARED_SPAN_BYTES
        } else {
            SPAN_BYTES
        }
    }

    /// Chunks per block for this key's chunk size ([`cache_block_chunks`]).
    pub fn block_chunks(&self) -> u64 {
        cache_block_chunks(self.chunk_size)
    }

    /// Chunks per cell for this key's chunk size ([`cache_cell_chunks`]).
    pub fn cell_chunks(&self) -> u64 {
        cache_cell_chunks(self.chunk_size)
    }

    /// The first chunk boundary after chunk `index` that no span crosses: the next cell
    /// boundary, and for a key that keeps squares also every boundary of the first
    /// [`SINGLE_STRATIFIED_CHUNKS`] and the next boundary of a convergence point
    /// ([`convergence::next_boundary`]), so that a run reading stratified spans still has each
    /// chunk count it puts in a point or may stop at.
    pub fn next_break(&self, index: u64) -> u64 {
        let cell = self.cell_chunks();
        let next_cell = (index / cell).saturating_add(1).saturating_mul(cell);
        if !self.keeps_squares() {
            return next_cell;
        }
        if index < SINGLE_STRATIFIED_CHUNKS {
            return index + 1;
        }
        convergence::next_boundary(self.chunk_size, index).map_or(next_cell, |p| p.min(next_cell))
    }

    /// Whether spans break at the boundary before chunk `index` ([`BlockKey::next_break`]).
    pub fn breaks_at(&self, index: u64) -> bool {
        index == 0 || self.next_break(index - 1) == index
    }

    /// The first chunk index of the block and one past its last (saturating at `u64::MAX`).
    pub fn chunk_range(&self) -> (u64, u64) {
        let first = self.block.saturating_mul(self.block_chunks());
        (first, first.saturating_add(self.block_chunks()))
    }

    /// The entry's file name: 64 hex digits of a hash keyed by the cache's secret, then
    /// [`ENTRY_SUFFIX`]. Without the secret, the name of a block's entry cannot be guessed.
    pub fn file_name(&self, secret: &Secret) -> String {
        let mut bytes = Vec::with_capacity(64);
        self.encode_into(&mut bytes);
        format!("{}{ENTRY_SUFFIX}", secret.name_hash(&bytes).to_hex())
    }

    /// Appends an unambiguous encoding of the key (the algorithm length-prefixed) to `out`.
    fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.algorithm.len() as u32).to_le_bytes());
        out.extend_from_slice(self.algorithm.as_bytes());
        for word in [self.seed, self.chunk_size, self.block_chunks(), self.block] {
            out.extend_from_slice(&word.to_le_bytes());
        }
    }
}

/// Whether `name` has the shape of an entry file name (64 lowercase hex digits, `.entry`).
pub fn is_entry_name(name: &str) -> bool {
    name.strip_suffix(ENTRY_SUFFIX)
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// A run of consecutive chunks `first..end` of `trials` trials each and their total inside
/// count. A *full* span has `trials` equal to the chunk size; a *remainder* span is the single
/// last chunk of a plan, with fewer trials (a prefix of the full chunk, another count).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// First chunk index.
    pub first: u64,
    /// One past the last chunk index.
    pub end: u64,
    /// Trials of each chunk.
    pub trials: u64,
    /// Inside count of all the span's trials.
    pub inside: u64,
    /// `Σc²` over the span's chunks, for a key that keeps squares
    /// ([`BlockKey::keeps_squares`]); `None` for any other.
    pub squares: Option<u128>,
}

impl Span {
    /// A span of one chunk `index` of `trials` trials with `inside` inside, carrying its square
    /// when `squares` is set.
    pub fn chunk(index: u64, trials: u64, inside: u64, squares: bool) -> Span {
        Span {
            first: index,
            end: index + 1,
            trials,
            inside,
            squares: squares.then(|| u128::from(inside) * u128::from(inside)),
        }
    }

    /// The span of `self` followed by `next` (which must start where `self` ends), or `None` if
    /// their sums overflow.
    pub fn then(&self, next: &Span) -> Option<Span> {
        let squares = match (self.squares, next.squares) {
            (Some(a), Some(b)) => Some(Some(a.checked_add(b)?)),
            (None, None) => Some(None),
            _ => None,
        }?;
        Some(Span {
            first: self.first,
            end: next.end,
            trials: self.trials,
            inside: self.inside.checked_add(next.inside)?,
            squares,
        })
    }

    pub fn chunks(&self) -> u64 {
        self.end - self.first
    }

    /// Trials in the span (bounded by a cell, or one chunk, for a valid span).
    pub fn total_trials(&self) -> u64 {
        self.trials.saturating_mul(self.chunks())
    }

    /// Whether `other` covers the same chunks with the same trials (it may differ in count).
    fn same_place(&self, other: &Span) -> bool {
        (self.first, self.end, self.trials) == (other.first, other.end, other.trials)
    }
}

/// The known spans of one block, sorted, never two at the same place (chunks and trials).
/// Spans of different runs may overlap: a look-up picks disjoint ones ([`Entry::cover`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: BlockKey,
    spans: Vec<Span>,
}

/// Why a file is not a valid entry (shown in the warning).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// What a block's entry answers for the chunks a run needs: spans to use, chunks to compute.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cover {
    /// Disjoint spans that together answer as many of the needed chunks as the entry can.
    pub hits: Vec<Span>,
    /// Chunk ranges not answered, in order.
    pub missing: Vec<Range<u64>>,
}

impl Entry {
    pub fn empty(key: BlockKey) -> Self {
        Entry {
            key,
            spans: Vec::new(),
        }
    }

    /// The spans, sorted.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Whether `span` is plausible for this block: inside the block and between two breaks
    /// ([`BlockKey::next_break`]), 1 ≤ trials ≤ chunk size, a remainder only for a single chunk
    /// (and never of a stratified chunk, which is counted whole only), inside ≤ its trials, and
    /// `Σc²` present exactly when the key keeps squares and possible for the span's counts.
    pub fn accepts(&self, span: &Span) -> bool {
        let squares_fit = match span.squares {
            None => !self.key.keeps_squares(),
            Some(q) => self.key.keeps_squares() && squares_possible(span, q),
        };
        let (first, end) = self.key.chunk_range();
        let full = span.trials == self.key.chunk_size;
        span.first < span.end
            && first <= span.first
            && span.end <= end
            && span.end <= self.key.next_break(span.first)
            && (1..=self.key.chunk_size).contains(&span.trials)
            && (full || (span.chunks() == 1 && !self.key.keeps_squares()))
            && u128::from(span.inside) <= u128::from(span.trials) * u128::from(span.chunks())
            && squares_fit
    }

    /// Adds `span`, replacing a span at the same place. `span` must be plausible.
    pub fn insert(&mut self, span: Span) {
        debug_assert!(self.accepts(&span));
        let at = self.position(&span);
        match self.spans.get(at) {
            Some(s) if s.same_place(&span) => self.spans[at] = span,
            _ => self.spans.insert(at, span),
        }
    }

    /// Adds a span computed by this run, joining it with this run's full spans that end where
    /// it starts or start where it ends, unless spans break there ([`BlockKey::breaks_at`]).
    /// The entry must hold only disjoint spans (one run's), so that joined counts are exact sums.
    pub fn join(&mut self, span: Span) {
        debug_assert!(self.accepts(&span));
        let full = span.trials == self.key.chunk_size;
        let at = self.position(&span);
        let mut joined = span;
        let mut next = at;
        if full && at > 0 {
            let before = self.spans[at - 1];
            let adjacent = before.trials == span.trials
                && before.end == span.first
                && !self.key.breaks_at(span.first);
            if let Some(both) = before.then(&joined).filter(|_| adjacent) {
                joined = both;
                self.spans.remove(at - 1);
                next -= 1;
            }
        }
        let after = self.spans.get(next).copied().filter(|after| {
            full && after.trials == span.trials
                && after.first == span.end
                && !self.key.breaks_at(span.end)
        });
        if let Some(both) = after.and_then(|after| joined.then(&after)) {
            joined = both;
            self.spans.remove(next);
        }
        self.insert(joined);
    }

    /// Removes the span equal to `span` (same place and count); returns whether there was one.
    pub fn remove(&mut self, span: &Span) -> bool {
        let at = self.position(span);
        if self.spans.get(at) == Some(span) {
            self.spans.remove(at);
            true
        } else {
            false
        }
    }

    fn position(&self, span: &Span) -> usize {
        self.spans
            .partition_point(|s| (s.first, s.end, s.trials) < (span.first, span.end, span.trials))
    }

    /// What is on disk (`self`) after a run that computed `ours` stores them: our spans, plus
    /// the stored spans they do not supersede. A full span inside one of ours is superseded (an
    /// earlier store of this run, or what `--refresh` recomputes), as is a remainder of a chunk
    /// we have a remainder for. Beyond [`MAX_SPANS`] the shortest stored spans are dropped.
    pub fn merged_with(&self, ours: &Entry) -> Entry {
        let cs = self.key.chunk_size;
        let superseded = |s: &Span| {
            ours.spans.iter().any(|o| {
                if s.trials == cs {
                    o.trials == cs && o.first <= s.first && s.end <= o.end
                } else {
                    o.trials != cs && o.first == s.first
                }
            })
        };
        let mut kept: Vec<Span> = self
            .spans
            .iter()
            .filter(|s| !superseded(s))
            .copied()
            .collect();
        let room = MAX_SPANS.saturating_sub(ours.spans.len());
        if kept.len() > room {
            kept.sort_by_key(|s| std::cmp::Reverse(s.total_trials()));
            kept.truncate(room);
        }
        let mut merged = Entry::empty(self.key.clone());
        merged.spans = kept;
        merged.spans.sort_unstable();
        for span in ours.spans.iter().take(MAX_SPANS) {
            merged.insert(*span);
        }
        merged
    }

    /// Which spans answer the full chunks `full` (each of the key's chunk size) and the
    /// remainder chunk `remainder` (index, trials), if any: disjoint spans covering as many of
    /// these chunks as possible, and the chunk ranges left to compute.
    pub fn cover(&self, full: Range<u64>, remainder: Option<(u64, u64)>) -> Cover {
        let cs = self.key.chunk_size;
        // Weighted interval scheduling over the candidate spans, by chunks covered.
        let mut candidates: Vec<Span> = self
            .spans
            .iter()
            .filter(|s| s.trials == cs && full.start <= s.first && s.end <= full.end)
            .copied()
            .collect();
        candidates.sort_by_key(|s| (s.end, s.first));
        let mut best = vec![0u64; candidates.len() + 1];
        let mut take = vec![false; candidates.len()];
        for (i, s) in candidates.iter().enumerate() {
            let before = candidates[..i].partition_point(|c| c.end <= s.first);
            let with = best[before] + s.chunks();
            take[i] = with > best[i];
            best[i + 1] = best[i].max(with);
        }
        let mut hits = Vec::new();
        let mut i = candidates.len();
        while i > 0 {
            if take[i - 1] {
                let s = candidates[i - 1];
                hits.push(s);
                i = candidates[..i - 1].partition_point(|c| c.end <= s.first);
            } else {
                i -= 1;
            }
        }
        hits.reverse();
        let mut missing = Vec::new();
        let mut at = full.start;
        for s in &hits {
            if s.first > at {
                missing.push(at..s.first);
            }
            at = s.end;
        }
        if at < full.end {
            missing.push(at..full.end);
        }
        if let Some((index, trials)) = remainder {
            let found = self
                .spans
                .iter()
                .find(|s| s.first == index && s.end == index + 1 && s.trials == trials);
            match found {
                Some(s) => hits.push(*s),
                None => match missing.last_mut() {
                    Some(last) if last.end == index => last.end = index + 1,
                    _ => missing.push(index..index + 1),
                },
            }
        }
        Cover { hits, missing }
    }

    /// The entry as file contents, authenticated with `secret`.
    pub fn encode(&self, secret: &Secret) -> Vec<u8> {
        let span_bytes = self.key.span_bytes();
        let mut out = Vec::with_capacity(HEADER_MAX + self.spans.len() * span_bytes + MAC_BYTES);
        out.extend_from_slice(MAGIC);
        self.key.encode_into(&mut out);
        out.extend_from_slice(&(self.spans.len() as u64).to_le_bytes());
        for s in &self.spans {
            for word in [s.first, s.end, s.trials, s.inside] {
                out.extend_from_slice(&word.to_le_bytes());
            }
            if self.key.keeps_squares() {
                let q = s.squares.unwrap_or_default();
                for word in [q as u64, (q >> 64) as u64] {
                    out.extend_from_slice(&word.to_le_bytes());
                }
            }
        }
        let mac = secret.mac(&out);
        out.extend_from_slice(mac.as_bytes());
        out
    }

    /// Reads file contents that claim to be the entry of `expected`; any doubt is an error.
    pub fn decode(bytes: &[u8], expected: &BlockKey, secret: &Secret) -> Result<Entry, Invalid> {
        let entry = Entry::decode_any(bytes, secret)?;
        if entry.key != *expected {
            return Err(Invalid(format!(
                "holds another key (seed {}, chunk size {}, block {}, algorithm {})",
                entry.key.seed, entry.key.chunk_size, entry.key.block, entry.key.algorithm
            )));
        }
        Ok(entry)
    }

    /// Reads file contents as whatever entry they claim to be, checking the layout, the MAC
    /// under `secret`, span order and plausibility (not the file name: see [`Entry::decode`]).
    pub fn decode_any(bytes: &[u8], secret: &Secret) -> Result<Entry, Invalid> {
        if bytes.is_empty() {
            return Err(Invalid("empty file".into()));
        }
        if bytes.len() < MAGIC.len() && MAGIC.starts_with(bytes) {
            return Err(Invalid("truncated".into()));
        }
        if !bytes.starts_with(MAGIC) {
            return Err(Invalid(format!("not a {FORMAT} file")));
        }
        let mut reader = Reader {
            bytes,
            at: MAGIC.len(),
        };
        let algorithm_len = reader.u32()? as usize;
        if algorithm_len > MAX_ALGORITHM_BYTES {
            return Err(Invalid("bad header".into()));
        }
        let algorithm = String::from_utf8(reader.take(algorithm_len)?.to_vec())
            .map_err(|_| Invalid("bad header".into()))?;
        let [seed, chunk_size, stored_block_chunks, block, count] = [(); 5].map(|()| reader.u64());
        let (seed, chunk_size, stored_block_chunks, block, count) =
            (seed?, chunk_size?, stored_block_chunks?, block?, count?);
        if count > MAX_SPANS as u64 {
            return Err(Invalid("too many spans".into()));
        }
        let mut entry = Entry::empty(BlockKey {
            algorithm,
            seed,
            chunk_size,
            block,
        });
        let body_end = reader.at + count as usize * entry.key.span_bytes();
        if bytes.len() < body_end + MAC_BYTES {
            return Err(Invalid("truncated".into()));
        }
        if bytes.len() > body_end + MAC_BYTES {
            return Err(Invalid("trailing bytes".into()));
        }
        if !secret.mac_matches(&bytes[..body_end], &bytes[body_end..]) {
            return Err(Invalid(
                "MAC mismatch: damaged, forged or written with another cache's key".into(),
            ));
        }
        if chunk_size == 0 || stored_block_chunks != cache_block_chunks(chunk_size) {
            return Err(Invalid("bad block layout".into()));
        }
        if entry.key.keeps_squares() && Method::Stratified.design(chunk_size).is_err() {
            return Err(Invalid("bad block layout".into()));
        }
        for _ in 0..count {
            let [first, end, trials, inside] = [(); 4].map(|()| reader.u64());
            let squares = if entry.key.keeps_squares() {
                let (low, high) = (reader.u64()?, reader.u64()?);
                Some(u128::from(high) << 64 | u128::from(low))
            } else {
                None
            };
            entry.spans.push(Span {
                first: first?,
                end: end?,
                trials: trials?,
                inside: inside?,
                squares,
            });
        }
        if let Some(bad) = entry.spans.iter().find(|s| !entry.accepts(s)) {
            return Err(Invalid(format!(
                "implausible span of chunks {}..{}",
                bad.first, bad.end
            )));
        }
        let ordered = entry
            .spans
            .windows(2)
            .all(|w| (w[0].first, w[0].end, w[0].trials) < (w[1].first, w[1].end, w[1].trials));
        if !ordered {
            return Err(Invalid("spans out of order or repeated".into()));
        }
        Ok(entry)
    }
}

/// Whether `squares` can be `Σc²` of `span`'s chunks: one chunk's square is its count squared;
/// for `m` chunks of `n` trials with total `c`, `c²/m ≤ Σc² ≤ n·c` (Cauchy–Schwarz, and each
/// `c_i ≤ n`).
fn squares_possible(span: &Span, squares: u128) -> bool {
    let c = u128::from(span.inside);
    let m = u128::from(span.chunks());
    if m == 1 {
        return squares == c * c;
    }
    let at_least = squares.checked_mul(m).is_none_or(|qm| qm >= c * c);
    at_least && squares <= u128::from(span.trials) * c
}

/// Little-endian fields read from the front of a byte slice.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Invalid> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| Invalid("truncated".into()))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, Invalid> {
        let mut word = [0; 4];
        word.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(word))
    }

    fn u64(&mut self) -> Result<u64, Invalid> {
        let mut word = [0; 8];
        word.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(byte: u8) -> Secret {
        Secret::from_raw([byte; 32])
    }

    /// Block 1 at chunk size 100_000: 41 chunks per cell, 10,496 per block.
    fn key(block: u64) -> BlockKey {
        BlockKey::new(Method::Plain, 7, 100_000, block)
    }

    fn full(first: u64, end: u64, inside: u64) -> Span {
        Span {
            first,
            end,
            trials: 100_000,
            inside,
            squares: None,
        }
    }

    fn sample() -> Entry {
        let mut e = Entry::empty(key(1));
        let base = key(1).chunk_range().0;
        e.insert(full(base, base + 41, 3_200_000));
        e.insert(full(base + 41, base + 50, 700_000));
        e.insert(Span {
            first: base + 50,
            end: base + 51,
            trials: 40,
            inside: 30,
            squares: None,
        });
        e
    }

    #[test]
    fn the_layout_follows_the_chunk_size() {
        assert_eq!(
            (cache_cell_chunks(1), cache_block_chunks(1)),
            (1 << 22, 1 << 30)
        );
        assert_eq!(
            (cache_cell_chunks(1000), cache_block_chunks(1000)),
            (4194, 256 * 4194)
        );
        assert_eq!(
            (cache_cell_chunks(1 << 22), cache_block_chunks(1 << 22)),
            (1, 256)
        );
        assert_eq!(
            (cache_cell_chunks(1 << 40), cache_block_chunks(1 << 40)),
            (1, 256)
        );
        for chunk_size in [1, 3, 1000, 10_000, 1 << 21, (1 << 22) - 1, 1 << 22] {
            let trials = cache_block_chunks(chunk_size) * chunk_size;
            assert!(trials > 1 << 29 && trials <= 1 << 30, "{chunk_size}");
        }
    }

    #[test]
    fn entries_round_trip_and_stay_small() {
        let s = secret(1);
        let e = sample();
        let bytes = e.encode(&s);
        assert_eq!(Entry::decode(&bytes, &key(1), &s).unwrap(), e);
        // A whole block: one span per cell.
        let mut whole = Entry::empty(BlockKey::new(Method::Plain, 7, 1, 0));
        for cell in 0..crate::plan::BLOCK_CELLS {
            whole.join(Span {
                first: cell << 22,
                end: (cell + 1) << 22,
                trials: 1,
                inside: 3 << 20,
                squares: None,
            });
        }
        assert_eq!(whole.spans().len(), 256);
        let len = whole.encode(&s).len();
        assert_eq!(len, 16 + 4 + crate::ALGORITHM.len() + 40 + 256 * 32 + 32);
        assert!((len as u64) < MAX_ENTRY_BYTES);
    }

    #[test]
    fn join_adds_up_adjacent_spans_within_a_cell_only() {
        let mut e = Entry::empty(key(0));
        for i in [3, 1, 2, 0, 40, 41, 42] {
            e.join(full(i, i + 1, 10 + i));
        }
        // Chunks 0..4 join; 40 ends cell 0 and 41 starts cell 1, so they stay apart.
        assert_eq!(
            e.spans(),
            &[full(0, 4, 46), full(40, 41, 50), full(41, 43, 103)][..]
        );
    }

    #[test]
    fn cover_picks_the_most_chunks_from_disjoint_spans() {
        let e = sample();
        let base = key(1).chunk_range().0;
        // The whole stored run, and its remainder.
        let c = e.cover(base..base + 50, Some((base + 50, 40)));
        assert_eq!(c.hits.len(), 3);
        assert!(c.missing.is_empty());
        // A longer run: the remainder is another chunk; the rest is computed.
        let c = e.cover(base..base + 60, None);
        assert_eq!(c.hits, vec![full(base, base + 41, 3_200_000), e.spans()[1]]);
        assert_eq!(c.missing, vec![base + 50..base + 60]);
        // A shorter run inside the first cell cannot use a span it does not contain.
        let c = e.cover(base..base + 30, Some((base + 30, 7)));
        assert!(c.hits.is_empty());
        assert_eq!(c.missing, vec![base..base + 31]);
        // Overlapping spans: the larger disjoint cover wins.
        let mut o = Entry::empty(key(0));
        o.insert(full(0, 30, 1));
        o.insert(full(0, 10, 1));
        o.insert(full(10, 41, 1));
        assert_eq!(
            o.cover(0..41, None).hits,
            vec![full(0, 10, 1), full(10, 41, 1)]
        );
    }

    #[test]
    fn merging_keeps_other_runs_and_drops_what_ours_supersede() {
        let disk = sample();
        let base = key(1).chunk_range().0;
        let mut ours = Entry::empty(key(1));
        ours.insert(full(base + 41, base + 82, 1));
        ours.insert(Span {
            first: base + 50,
            end: base + 51,
            trials: 20,
            inside: 15,
            squares: None,
        });
        let merged = disk.merged_with(&ours);
        assert_eq!(
            merged.spans(),
            &[
                full(base, base + 41, 3_200_000),
                full(base + 41, base + 82, 1),
                ours.spans()[1],
            ][..]
        );
        assert_eq!(disk.merged_with(&Entry::empty(key(1))), disk);
    }

    /// Block 0 of stratified chunks of 4^6 = 4,096 trials: 1,024 chunks per cell.
    fn stratified_key() -> BlockKey {
        BlockKey::new(Method::Stratified, 7, 4096, 0)
    }

    fn chunk(index: u64, inside: u64) -> Span {
        Span::chunk(index, 4096, inside, true)
    }

    #[test]
    fn stratified_spans_carry_their_squares_and_break_at_series_points() {
        let s = secret(1);
        let key = stratified_key();
        assert!(key.keeps_squares() && !BlockKey::new(Method::Plain, 7, 4096, 0).keeps_squares());
        assert_eq!(key.method(), Some(Method::Stratified));
        // Every chunk up to 256 alone; then series points of chunks of 4,096 trials (435 and
        // 772: 1,778,000 and 3,162,000 trials), then the cell's end at 1,024, then points.
        let breaks: Vec<u64> = std::iter::successors(Some(250), |&i| {
            Some(key.next_break(i)).filter(|&b| b <= 4096)
        })
        .collect();
        assert_eq!(
            breaks,
            [
                250, 251, 252, 253, 254, 255, 256, 435, 772, 1024, 1373, 2048, 2442, 3072, 4096
            ]
        );
        let plain = BlockKey::new(Method::Plain, 7, 4096, 0);
        assert_eq!((plain.next_break(0), plain.next_break(1024)), (1024, 2048));
        let mut e = Entry::empty(key.clone());
        let counts: Vec<u64> = (250..800).map(|i| 3200 + i % 7).collect();
        for (i, &c) in (250..).zip(&counts) {
            e.join(chunk(i, c));
        }
        // Joined between breaks only, each span with the sum of its chunks' squares.
        let firsts: Vec<u64> = e.spans().iter().map(|s| s.first).collect();
        assert_eq!(firsts, [250, 251, 252, 253, 254, 255, 256, 435, 772]);
        let span = e.spans()[7];
        let squares: u128 = counts[435 - 250..772 - 250]
            .iter()
            .map(|&c| u128::from(c * c))
            .sum();
        assert_eq!((span.end, span.squares), (772, Some(squares)));
        // Two more words a span on disk, and back.
        let bytes = e.encode(&s);
        let plain_len = 16 + 4 + crate::ALGORITHM.len() + 40 + 9 * 32 + 32;
        let algorithm_longer = crate::sampler::STRATIFIED_ALGORITHM.len() - crate::ALGORITHM.len();
        assert_eq!(bytes.len(), plain_len + algorithm_longer + 9 * 16);
        assert_eq!(Entry::decode(&bytes, &key, &s).unwrap(), e);
    }

    #[test]
    fn every_series_point_of_a_stratified_run_is_a_break() {
        for k in [1, 4, 5, 8, 11, 13, 16] {
            let key = BlockKey::new(Method::Stratified, 0, 1 << (2 * k), 0);
            for chunks in [1, 7, 300, 5_000, 1 << 20] {
                // The last is the plan's end, which no span a run reads crosses.
                let points = convergence::boundaries(key.chunk_size, chunks, 1);
                for &b in &points[..points.len() - 1] {
                    assert!(key.breaks_at(b), "4^{k}: boundary {b} of {chunks} chunks");
                }
            }
        }
    }

    #[test]
    fn impossible_squares_are_refused_even_with_a_good_mac() {
        let s = secret(1);
        let strat = stratified_key();
        let decode = |spans: &[Span]| {
            let mut e = Entry::empty(strat.clone());
            e.spans = spans.to_vec();
            Entry::decode(&e.encode(&s), &strat, &s)
        };
        let one = chunk(0, 3000);
        assert!(decode(&[one]).is_ok());
        let two = chunk(300, 3000).then(&chunk(301, 3100)).unwrap();
        assert!(decode(&[two]).is_ok());
        let cases = [
            // One chunk's square is its count squared.
            Span {
                squares: Some(9_000_001),
                ..one
            },
            // Below (Σc)²/m: no counts have that little spread.
            Span {
                squares: Some(6100 * 6100 / 2 - 1),
                ..two
            },
            // Above n·Σc: some chunk would hold more than its trials.
            Span {
                squares: Some(4096 * 6100 + 1),
                ..two
            },
            // Squares missing, or on a plain key's span.
            Span {
                squares: None,
                ..one
            },
            // A span of two of the first chunks, and one across a series point's boundary.
            chunk(4, 3000).then(&chunk(5, 3000)).unwrap(),
            chunk(434, 3000).then(&chunk(435, 3000)).unwrap(),
            // A remainder of a stratified chunk.
            Span {
                trials: 100,
                inside: 50,
                squares: Some(2500),
                ..one
            },
        ];
        for bad in cases {
            let err = decode(&[bad]).unwrap_err().0;
            assert!(err.contains("implausible"), "{bad:?}: {err}");
        }
        // A plain entry has no room for squares on disk, and takes no span that has them.
        let with_squares = Span {
            squares: Some(1),
            ..full(0, 1, 1)
        };
        assert!(!Entry::empty(key(0)).accepts(&with_squares));
        // A stratified key whose chunk size is not 4^k is no layout of this piest's.
        let odd = Entry::empty(BlockKey::new(Method::Stratified, 7, 1000, 0));
        let err = Entry::decode(&odd.encode(&s), &odd.key, &s).unwrap_err().0;
        assert!(err.contains("layout"), "{err}");
    }

    #[test]
    fn names_depend_on_the_secret_and_every_key_field() {
        let base = key(3);
        let mut other_algorithm = base.clone();
        other_algorithm.algorithm = "piest-some-other-algorithm".into();
        let names = [
            base.file_name(&secret(1)),
            base.file_name(&secret(2)),
            BlockKey::new(Method::Plain, 8, 100_000, 3).file_name(&secret(1)),
            BlockKey::new(Method::Plain, 7, 100_001, 3).file_name(&secret(1)),
            BlockKey::new(Method::Plain, 7, 100_000, 4).file_name(&secret(1)),
            other_algorithm.file_name(&secret(1)),
        ];
        for (i, a) in names.iter().enumerate() {
            assert!(is_entry_name(a), "{a}");
            for b in &names[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert!(!is_entry_name("CACHEDIR.TAG"));
        assert!(!is_entry_name(&format!("{}.entry", "A".repeat(64))));
    }

    #[test]
    fn every_kind_of_damage_and_forgery_is_refused() {
        let s = secret(1);
        let good = sample().encode(&s);
        let mut count_changed = good.clone();
        // The inside count of the first span (header, then first, end, trials, inside).
        let at = 16 + 4 + crate::ALGORITHM.len() + 40 + 24;
        count_changed[at] ^= 1;
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (Vec::new(), "empty"),
            (good[..8].to_vec(), "truncated"),
            (good[..good.len() - 1].to_vec(), "truncated"),
            ([&good[..], b"x"].concat(), "trailing"),
            (b"{\"format\":\"piest-cache-entry-v1\"}".to_vec(), "not a"),
            (count_changed, "MAC"),
            (sample().encode(&secret(2)), "MAC"),
        ];
        for (bytes, reason) in cases {
            let err = Entry::decode(&bytes, &key(1), &s).unwrap_err().0;
            assert!(err.contains(reason), "{reason}: {err}");
        }
        let other = Entry::empty(key(2)).encode(&s);
        let err = Entry::decode(&other, &key(1), &s).unwrap_err().0;
        assert!(err.contains("another key"), "{err}");
    }

    #[test]
    fn implausible_or_unordered_spans_are_refused_even_with_a_good_mac() {
        let s = secret(1);
        let mut e = sample();
        e.spans.swap(0, 1);
        let err = Entry::decode(&e.encode(&s), &key(1), &s).unwrap_err().0;
        assert!(err.contains("order"), "{err}");
        let mut e = sample();
        e.spans[0].inside = 41 * 100_000 + 1;
        let err = Entry::decode(&e.encode(&s), &key(1), &s).unwrap_err().0;
        assert!(err.contains("implausible"), "{err}");
        let mut e = Entry::empty(key(0));
        e.spans.push(full(40, 42, 1)); // crosses a cell boundary
        let err = Entry::decode(&e.encode(&s), &key(0), &s).unwrap_err().0;
        assert!(err.contains("implausible"), "{err}");
    }
}
