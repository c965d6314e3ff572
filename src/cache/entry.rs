//! One cache entry: the counts of the chunks of one *block* of consecutive chunks
//! ([`crate::plan::cache_block_chunks`]), its key, its file name and its on-disk format, and the checks that decide whether a
//! file may be trusted.

use serde::{Deserialize, Serialize};

/// Format name written into every entry; a different format is never read.
pub const FORMAT: &str = "piest-cache-entry-v1";

/// BLAKE3 key-derivation context of entry keys (file names).
const KEY_CONTEXT: &str = "piest 2026-11-25 cache entry key v1";

/// BLAKE3 key-derivation context of entry checksums.
const CHECKSUM_CONTEXT: &str = "piest 2026-11-25 cache entry checksum v1";

/// What identifies a block: everything that determines the counts of its chunks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockKey {
    /// Version string of the sampling algorithm ([`crate::ALGORITHM`] for real runs).
    pub algorithm: String,
    /// Seed of the run.
    pub seed: u64,
    /// Trials per chunk: chunk `i` of a plan with another chunk size holds other trials.
    pub chunk_size: u64,
    /// Block index: the block holds chunks `block · B ..` `(block + 1) · B` where `B` is
    /// [`BlockKey::block_chunks`].
    pub block: u64,
}

impl BlockKey {
    /// The key of block `block` for the current sampling algorithm.
    pub fn new(seed: u64, chunk_size: u64, block: u64) -> Self {
        BlockKey {
            algorithm: crate::ALGORITHM.to_owned(),
            seed,
            chunk_size,
            block,
        }
    }

    /// Chunks per block for this key's chunk size.
    pub fn block_chunks(&self) -> u64 {
        crate::plan::cache_block_chunks(self.chunk_size)
    }

    /// The first chunk index of the block and one past its last (saturating at `u64::MAX`).
    pub fn chunk_range(&self) -> (u64, u64) {
        let first = self.block.saturating_mul(self.block_chunks());
        (first, first.saturating_add(self.block_chunks()))
    }

    /// The BLAKE3 hash of the key fields and the block length, as 64 hex digits.
    pub fn hash_hex(&self) -> String {
        let mut hasher = blake3::Hasher::new_derive_key(KEY_CONTEXT);
        self.hash_into(&mut hasher);
        hasher.finalize().to_hex().to_string()
    }

    /// The entry's file name: `<hash>.json`.
    pub fn file_name(&self) -> String {
        format!("{}.json", self.hash_hex())
    }

    /// Feeds an unambiguous encoding of the key into `hasher` (the algorithm is length-prefixed).
    fn hash_into(&self, hasher: &mut blake3::Hasher) {
        hasher.update(&(self.algorithm.len() as u64).to_le_bytes());
        hasher.update(self.algorithm.as_bytes());
        for word in [self.seed, self.chunk_size, self.block_chunks(), self.block] {
            hasher.update(&word.to_le_bytes());
        }
    }
}

/// Whether `name` has the shape of an entry file name (64 lowercase hex digits, `.json`).
pub fn is_entry_name(name: &str) -> bool {
    name.strip_suffix(".json")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// The count of one chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Chunk index in the plan.
    pub index: u64,
    /// Trials of the chunk: the chunk size, or fewer for a plan's last (remainder) chunk.
    pub trials: u64,
    /// Inside count of those trials.
    pub inside: u64,
}

/// The known counts of one block, sorted by `(index, trials)`. Each chunk index has at most one
/// full record (`trials == chunk_size`) and at most one remainder record (fewer trials): a
/// remainder chunk of a shorter run is the prefix of the full chunk, not the same count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The block.
    pub key: BlockKey,
    records: Vec<Record>,
}

/// Why a file is not a valid entry (shown in the warning).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// The JSON shape of an entry file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    format: String,
    algorithm: String,
    seed: u64,
    chunk_size: u64,
    block_chunks: u64,
    block: u64,
    /// `[index, trials, inside]` per chunk.
    chunks: Vec<[u64; 3]>,
    /// BLAKE3 (hex) of everything above; see [`Entry::checksum`].
    checksum: String,
}

impl Entry {
    /// An entry with no records.
    pub fn empty(key: BlockKey) -> Self {
        Entry {
            key,
            records: Vec::new(),
        }
    }

    /// The records, sorted by `(index, trials)`.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The inside count of chunk `index` with `trials` trials, if known.
    pub fn get(&self, index: u64, trials: u64) -> Option<u64> {
        self.records
            .binary_search_by_key(&(index, trials), |r| (r.index, r.trials))
            .ok()
            .map(|i| self.records[i].inside)
    }

    /// Whether `record` is a full chunk (as opposed to a remainder).
    fn is_full(&self, record: &Record) -> bool {
        record.trials == self.key.chunk_size
    }

    /// The position of the record of chunk `index` that is full (or a remainder), if any.
    fn slot(&self, index: u64, full: bool) -> Option<usize> {
        let start = self.records.partition_point(|r| r.index < index);
        // At most two records share an index: the remainder, then the full chunk.
        (start..self.records.len().min(start + 2))
            .find(|&i| self.records[i].index == index && self.is_full(&self.records[i]) == full)
    }

    /// Adds `record`, replacing the record of the same index and kind (full or remainder).
    /// `record` must belong to this block (see [`Entry::accepts`]).
    pub fn insert(&mut self, record: Record) {
        debug_assert!(self.accepts(&record));
        if let Some(i) = self.slot(record.index, self.is_full(&record)) {
            self.records.remove(i);
        }
        let at = self
            .records
            .partition_point(|r| (r.index, r.trials) < (record.index, record.trials));
        self.records.insert(at, record);
    }

    /// Adds every record of `other` (same key) that this entry lacks; records already here win.
    pub fn fill_from(&mut self, other: &Entry) {
        for record in &other.records {
            if self.slot(record.index, self.is_full(record)).is_none() {
                self.insert(*record);
            }
        }
    }

    /// Whether `record` is plausible for this block: its index in the block, 1 ≤ trials ≤ chunk
    /// size, inside ≤ trials.
    pub fn accepts(&self, record: &Record) -> bool {
        let (first, end) = self.key.chunk_range();
        (first..end).contains(&record.index)
            && (1..=self.key.chunk_size).contains(&record.trials)
            && record.inside <= record.trials
    }

    /// BLAKE3 over the format, the key and every record, as 64 hex digits.
    fn checksum(&self) -> String {
        let mut hasher = blake3::Hasher::new_derive_key(CHECKSUM_CONTEXT);
        hasher.update(FORMAT.as_bytes());
        self.key.hash_into(&mut hasher);
        hasher.update(&(self.records.len() as u64).to_le_bytes());
        for r in &self.records {
            for word in [r.index, r.trials, r.inside] {
                hasher.update(&word.to_le_bytes());
            }
        }
        hasher.finalize().to_hex().to_string()
    }

    /// The entry as file contents: one line of JSON.
    pub fn encode(&self) -> Vec<u8> {
        let file = EntryFile {
            format: FORMAT.to_owned(),
            algorithm: self.key.algorithm.clone(),
            seed: self.key.seed,
            chunk_size: self.key.chunk_size,
            block_chunks: self.key.block_chunks(),
            block: self.key.block,
            chunks: self
                .records
                .iter()
                .map(|r| [r.index, r.trials, r.inside])
                .collect(),
            checksum: self.checksum(),
        };
        // A struct of numbers and strings always serializes.
        let mut bytes = serde_json::to_vec(&file).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Reads file contents that claim to be the entry of `expected`; any doubt is an error.
    pub fn decode(bytes: &[u8], expected: &BlockKey) -> Result<Entry, Invalid> {
        let entry = Entry::decode_any(bytes)?;
        if entry.key != *expected {
            return Err(Invalid(format!(
                "holds another key (seed {}, chunk size {}, block {}, algorithm {})",
                entry.key.seed, entry.key.chunk_size, entry.key.block, entry.key.algorithm
            )));
        }
        Ok(entry)
    }

    /// Reads file contents as whatever entry they claim to be, checking format, record order,
    /// plausibility and checksum (not the file name: see [`Entry::decode`]).
    pub fn decode_any(bytes: &[u8]) -> Result<Entry, Invalid> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Invalid("empty file".into()));
        }
        let file: EntryFile = serde_json::from_slice(bytes).map_err(|e| {
            Invalid(if e.is_eof() {
                "truncated".to_owned()
            } else {
                format!("not a valid entry ({e})")
            })
        })?;
        if file.format != FORMAT {
            return Err(Invalid(format!("unknown format '{}'", file.format)));
        }
        if file.chunk_size == 0
            || file.block_chunks != crate::plan::cache_block_chunks(file.chunk_size)
        {
            return Err(Invalid("bad block layout".into()));
        }
        let mut entry = Entry::empty(BlockKey {
            algorithm: file.algorithm,
            seed: file.seed,
            chunk_size: file.chunk_size,
            block: file.block,
        });
        entry.records = file
            .chunks
            .iter()
            .map(|&[index, trials, inside]| Record {
                index,
                trials,
                inside,
            })
            .collect();
        if let Some(bad) = entry.records.iter().find(|r| !entry.accepts(r)) {
            return Err(Invalid(format!(
                "implausible record for chunk {}",
                bad.index
            )));
        }
        // Sorted by (index, trials), and two records of one index must be remainder then full.
        let ordered = entry.records.windows(2).all(|w| {
            (w[0].index, w[0].trials) < (w[1].index, w[1].trials)
                && (w[0].index != w[1].index || entry.is_full(&w[1]))
        });
        if !ordered {
            return Err(Invalid("records out of order or repeated".into()));
        }
        if entry.checksum() != file.checksum {
            return Err(Invalid("checksum mismatch".into()));
        }
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(block: u64) -> BlockKey {
        BlockKey::new(7, 100, block)
    }

    fn sample() -> Entry {
        let mut e = Entry::empty(key(1));
        for index in [256, 300, 511] {
            e.insert(Record {
                index,
                trials: 100,
                inside: 70 + index % 10,
            });
        }
        e.insert(Record {
            index: 300,
            trials: 40,
            inside: 30,
        });
        e
    }

    #[test]
    fn entries_round_trip_and_answer_exact_lookups_only() {
        let e = sample();
        let back = Entry::decode(&e.encode(), &key(1)).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.get(300, 100), Some(70));
        assert_eq!(back.get(300, 40), Some(30));
        assert_eq!(back.get(300, 41), None);
        assert_eq!(back.get(257, 100), None);
        assert_eq!(back.records().len(), 4);
    }

    #[test]
    fn insert_keeps_one_full_and_one_remainder_record_per_chunk() {
        let mut e = sample();
        e.insert(Record {
            index: 300,
            trials: 50,
            inside: 40,
        });
        assert_eq!(
            e.get(300, 40),
            None,
            "the newer remainder replaces the older"
        );
        assert_eq!(e.get(300, 50), Some(40));
        assert_eq!(e.get(300, 100), Some(70));
        assert_eq!(e.records().len(), 4);
    }

    #[test]
    fn fill_from_adds_only_missing_records() {
        let mut a = Entry::empty(key(1));
        a.insert(Record {
            index: 256,
            trials: 100,
            inside: 1,
        });
        a.fill_from(&sample());
        assert_eq!(a.get(256, 100), Some(1));
        assert_eq!(a.get(511, 100), Some(71));
        assert_eq!(a.records().len(), 4);
    }

    #[test]
    fn keys_differ_in_every_field_and_file_names_are_recognised() {
        let base = key(3);
        let mut other_algorithm = base.clone();
        other_algorithm.algorithm = "piest-some-other-algorithm".into();
        let names = [
            base.file_name(),
            BlockKey::new(8, 100, 3).file_name(),
            BlockKey::new(7, 101, 3).file_name(),
            BlockKey::new(7, 100, 4).file_name(),
            other_algorithm.file_name(),
        ];
        for (i, a) in names.iter().enumerate() {
            assert!(is_entry_name(a), "{a}");
            for b in &names[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert!(!is_entry_name("CACHEDIR.TAG"));
        assert!(!is_entry_name(&format!("{}.json", "A".repeat(64))));
    }

    #[test]
    fn every_kind_of_damage_is_refused() {
        let good = sample().encode();
        let text = String::from_utf8(good.clone()).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (Vec::new(), "empty"),
            (b"\n".to_vec(), "empty"),
            (good[..good.len() / 2].to_vec(), "truncated"),
            (b"\x00\xff garbage".to_vec(), "not a valid entry"),
            (
                text.replacen("[300,100,70]", "[300,100,71]", 1).into(),
                "checksum",
            ),
            (
                text.replacen("\"seed\":7", "\"seed\":8", 1).into(),
                "checksum",
            ),
            (
                text.replacen("[511,100,71]", "[511,100,171]", 1).into(),
                "implausible",
            ),
            (
                text.replacen(FORMAT, "piest-cache-entry-v0", 1).into(),
                "format",
            ),
        ];
        for (bytes, reason) in cases {
            let err = Entry::decode(&bytes, &key(1)).unwrap_err().0;
            assert!(err.contains(reason), "{reason}: {err}");
        }
        // A valid entry of another key is refused under this key.
        let other = Entry::empty(key(2)).encode();
        let err = Entry::decode(&other, &key(1)).unwrap_err().0;
        assert!(err.contains("another key"), "{err}");
        // Also when only the algorithm differs.
        let mut k = key(1);
        k.algorithm = "piest-some-other-algorithm".into();
        assert!(Entry::decode(&Entry::empty(k).encode(), &key(1)).is_err());
    }

    #[test]
    fn records_out_of_order_are_refused_even_with_a_matching_checksum() {
        let mut e = sample();
        e.records.swap(0, 1);
        let err = Entry::decode(&e.encode(), &key(1)).unwrap_err().0;
        assert!(err.contains("order"), "{err}");
    }
}
