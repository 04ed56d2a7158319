//! Encoding one block: every column in its smallest stored form (all zero, plain, narrow, or
//! compressed), the column directory with a checksum per column, and the address Bloom filter.

use super::format::*;
use super::packed::{self, InnerForm, DELTA, SHUFFLE};
use crate::model::block::{AddrColumn, ColumnId, FlowBlock, COLUMN_ID_LIMIT};

/// Zero bytes that pad a column to a multiple of 8.
static PAD: [u8; 8] = [0; 8];

/// Memory a writer keeps from block to block for the encoded forms of its columns.
#[derive(Default, Debug)]
pub struct BlockBufs {
    /// The address Bloom filter of the block.
    pub bloom: Vec<u64>,
    /// The address Bloom filters of the block's frames, when its columns are stored in frames.
    pub frame_bloom: Vec<u64>,
    /// Narrow columns (words, so their distances are aligned).
    pub narrow: Vec<u64>,
    /// Compressed columns.
    pub zipped: Vec<u8>,
    /// Blocks encoded so far, and each column's transform that won in the last block where all
    /// were tried: in between, only that one is tried (see [`RETRY_EVERY`]).
    pub choices: TransformChoices,
}

/// A writer's memory of which transform compressed each column best.
#[derive(Debug)]
pub struct TransformChoices {
    blocks: u64,
    best: [Option<u8>; COLUMN_ID_LIMIT],
}

impl Default for TransformChoices {
    fn default() -> Self {
        TransformChoices {
            blocks: 0,
            best: [None; COLUMN_ID_LIMIT],
        }
    }
}

/// Every this many blocks a writer tries all of a column's transforms again; in between it
/// uses the one that won last time (a stream's columns keep their character from block to
/// block), which takes about a third off an import's compression work.
const RETRY_EVERY: u64 = 8;

/// How a writer stores columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnOptions {
    /// Store columns narrow where a block's range allows (`archive::narrow`).
    pub narrow: bool,
    /// Compress columns at this zstd level where that saves at least a tenth (`archive::packed`).
    pub compress: Option<i32>,
    /// Rows a frame of compressed columns; 0: one frame a column (`archive::packed`).
    pub frame_rows: usize,
}

/// Inner forms shorter than this are never compressed: a zstd frame costs about a dozen bytes.
const MIN_PACKED_INNER: usize = 64;

/// The transforms tried on a column before compressing it; the smallest result is kept. Times
/// of a block written in time order differ little from one flow to the next, so they are stored
/// as deltas. Whether grouping value bytes by significance (the shuffle) pays depends on the data:
/// on real captures it helps ports and octet counters, on flow-gen's mix it hurts addresses and
/// ports, so both are tried (docs/performance.md). Single-byte columns have nothing to shuffle.
fn candidates(id: ColumnId, elem: usize) -> &'static [u8] {
    match (id, elem) {
        (ColumnId::StartMs | ColumnId::EndMs, _) => &[DELTA, DELTA | SHUFFLE],
        (_, 1) => &[0],
        _ => &[0, SHUFFLE],
    }
}

/// Appends to `zipped` the smallest packed form of `inner` (column `id`) among the transforms of
/// [`candidates`], when it saves at least a tenth of the inner form; returns where it lies.
fn pack_smallest(
    id: ColumnId,
    inner: &InnerForm<'_>,
    level: i32,
    frame_rows: usize,
    zipped: &mut Vec<u8>,
    choices: &mut TransformChoices,
) -> Option<std::ops::Range<usize>> {
    if inner.bytes.len() < MIN_PACKED_INNER {
        return None;
    }
    let start = zipped.len();
    let mut best: Option<(usize, u8)> = None;
    let elem = packed::value_layout(inner.enc, inner.width, inner.type_width)?.1;
    let all = candidates(id, elem);
    let remembered = choices.best[id as usize].filter(|t| all.contains(t));
    let one: [u8; 1];
    let tried = match remembered {
        Some(t) if !choices.blocks.is_multiple_of(RETRY_EVERY) => {
            one = [t];
            &one[..]
        }
        _ => all,
    };
    for &t in tried {
        let at = zipped.len();
        let Ok(len) = packed::pack(inner, t, level, frame_rows, zipped) else {
            zipped.truncate(at);
            continue;
        };
        match best {
            Some((b, _)) if b <= len => zipped.truncate(at),
            Some(_) => {
                zipped.copy_within(at..at + len, start);
                zipped.truncate(start + len);
                best = Some((len, t));
            }
            None => best = Some((len, t)),
        }
    }
    let (len, t) = best?;
    choices.best[id as usize] = Some(t);
    if len * 10 > inner.bytes.len() * 9 {
        zipped.truncate(start);
        return None;
    }
    Some(start..start + len)
}

/// Lays out one block without copying its plain columns: the block header and column directory
/// go into `head` (cleared first), and the column payloads, each followed by its padding, are
/// pushed onto `parts` in file order (the Bloom filter, built into `bufs.bloom`, last). As `opts`
/// say, columns whose range allows are stored narrow (`archive::narrow`, in `bufs.narrow`), and
/// columns that compress well compressed (`archive::packed`, in `bufs.zipped`). The stored block
/// is `head` followed by `parts`, ready for one vectored write. Columns are checksummed where
/// they lie. Returns the block's summary.
pub fn encode_block_parts<'a>(
    block: &FlowBlock<'a>,
    bufs: &'a mut BlockBufs,
    opts: ColumnOptions,
    head: &mut Vec<u8>,
    parts: &mut Vec<&'a [u8]>,
) -> BlockInfo {
    let cols = ColumnId::ALL;
    // First every column's encoding; narrow ones are packed (their words in `bufs.narrow`),
    // compressed ones zipped (their bytes in `bufs.zipped`).
    enum Stored<'a> {
        Bytes(Encoding, &'a [u8]),
        Narrow(u8, std::ops::Range<usize>, usize),
        Zipped(std::ops::Range<usize>),
    }
    // `None`: a column added after the first schema that is all zero here gets no directory
    // entry at all (readers take a missing later column as zero, `format::FIRST_LATER_COLUMN`),
    // which saves 24 bytes a column in every block, most of a small block's directory.
    let mut stored: Vec<Option<Stored<'a>>> = Vec::with_capacity(cols.len());
    let BlockBufs {
        bloom,
        frame_bloom,
        narrow: words,
        zipped,
        choices,
    } = bufs;
    words.clear();
    zipped.clear();
    for &id in cols {
        let (enc, bytes) = column_bytes(block, id);
        let at = words.len();
        // One pass over the column finds whether it is all zero and, if not, its narrow form.
        let narrow = match pack_column(block, id, opts.narrow, words) {
            Shape::Zero => {
                stored.push((!added_later(id)).then_some(Stored::Bytes(Encoding::Zero, &[])));
                continue;
            }
            Shape::Narrow(width) => Some(width),
            Shape::Plain => None,
        };
        let inner = match narrow {
            Some(width) => InnerForm {
                bytes: &bytemuck::cast_slice(&words[at..])[..narrow_len(block.len, width as usize)],
                enc: Encoding::Narrow,
                width,
                type_width: id.width(),
            },
            None => InnerForm {
                bytes,
                enc,
                width: 0,
                type_width: id.width(),
            },
        };
        let zip = opts
            .compress
            .and_then(|level| pack_smallest(id, &inner, level, opts.frame_rows, zipped, choices));
        stored.push(Some(match (zip, narrow) {
            (Some(range), _) => {
                words.truncate(at); // the narrow form went into the compressed one
                Stored::Zipped(range)
            }
            (None, Some(width)) => Stored::Narrow(
                width,
                at..words.len(),
                narrow_len(block.len, width as usize),
            ),
            (None, None) => Stored::Bytes(enc, bytes),
        }));
    }
    choices.blocks += 1;
    let words: &'a [u64] = words;
    let zipped: &'a [u8] = zipped;
    // The flow columns, then the address Bloom filter (archive::bloom), then, where compressed
    // columns are stored in frames, the frames' filters.
    let framed = opts.compress.is_some() && opts.frame_rows > 0 && block.len > opts.frame_rows;
    let present = stored.iter().flatten().count();
    let entries = present + 1 + framed as usize;
    let dir_len = entries * COLUMN_ENTRY_LEN;
    head.clear();
    head.resize(BLOCK_HEADER_LEN + dir_len, 0);
    parts.clear();
    let mut off = 0usize;
    let mut put = |k: usize, id: u16, enc: u8, width: u8, bytes: &'a [u8]| {
        let pad = &PAD[..pad8(bytes.len()) - bytes.len()];
        // The checksum covers the padding too, so every byte of a block is checked.
        let sum = checksum_parts(bytes, pad);
        let e = BLOCK_HEADER_LEN + k * COLUMN_ENTRY_LEN;
        head[e..e + 2].copy_from_slice(&id.to_le_bytes());
        head[e + 2] = enc;
        head[e + 3] = width;
        head[e + 4..e + 8].copy_from_slice(&(off as u32).to_le_bytes());
        head[e + 8..e + 12].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
        head[e + 16..e + 24].copy_from_slice(&sum.to_le_bytes());
        off += bytes.len() + pad.len();
        parts.extend([bytes, pad].into_iter().filter(|p| !p.is_empty()));
    };
    let present_columns = cols.iter().zip(stored).filter_map(|(id, s)| Some((id, s?)));
    for (k, (&id, s)) in present_columns.enumerate() {
        match s {
            Stored::Bytes(enc, bytes) => put(k, id as u16, enc as u8, 0, bytes),
            Stored::Narrow(width, range, len) => {
                let bytes: &'a [u8] = &bytemuck::cast_slice(&words[range])[..len];
                put(k, id as u16, Encoding::Narrow as u8, width, bytes)
            }
            Stored::Zipped(range) => put(k, id as u16, Encoding::Packed as u8, 0, &zipped[range]),
        }
    }
    super::bloom::build(block, bloom);
    put(
        present,
        super::bloom::BLOOM_ID,
        super::bloom::BLOOM_ENCODING,
        0,
        bytemuck::cast_slice(bloom.as_slice()),
    );
    if framed {
        super::bloom::build_frames(block, opts.frame_rows, frame_bloom);
        put(
            present + 1,
            super::bloom::FRAME_BLOOM_ID,
            super::bloom::BLOOM_ENCODING,
            0,
            bytemuck::cast_slice(frame_bloom.as_slice()),
        );
    }
    let (min_start, max_start) = min_max(block.start_ms);
    let (_, max_end) = min_max(block.end_ms);
    let info = BlockInfo {
        flows: block.len as u32,
        columns: entries as u32,
        payload_len: off as u32,
        min_start_ms: min_start,
        max_start_ms: max_start,
        max_end_ms: max_end,
    };
    head[0..4].copy_from_slice(BLOCK_MAGIC);
    head[4..8].copy_from_slice(&info.columns.to_le_bytes());
    head[8..12].copy_from_slice(&info.flows.to_le_bytes());
    head[12..16].copy_from_slice(&info.payload_len.to_le_bytes());
    head[16..24].copy_from_slice(&info.min_start_ms.to_le_bytes());
    head[24..32].copy_from_slice(&info.max_start_ms.to_le_bytes());
    head[32..40].copy_from_slice(&info.max_end_ms.to_le_bytes());
    let c = checksum_parts(&head[..40], &head[BLOCK_HEADER_LEN..]);
    head[40..48].copy_from_slice(&c.to_le_bytes());
    info
}

/// The checksum of `a` followed by `b`, without joining them.
fn checksum_parts(a: &[u8], b: &[u8]) -> u64 {
    if b.is_empty() {
        return checksum(a);
    }
    let mut h = twox_hash::XxHash3_64::with_seed(0);
    std::hash::Hasher::write(&mut h, a);
    std::hash::Hasher::write(&mut h, b);
    std::hash::Hasher::finish(&h)
}

/// True when every byte is zero (a column stored with no payload): 256 bytes at a time are
/// OR-ed together (a loop the compiler turns into vector instructions), stopping at the first
/// run that is not zero.
fn all_zero(bytes: &[u8]) -> bool {
    let (words, tail): (&[[u8; 8]], &[u8]) = bytes.as_chunks();
    words
        .chunks(32)
        .all(|run| run.iter().fold(0, |acc, w| acc | u64::from_ne_bytes(*w)) == 0)
        && tail.iter().all(|&b| b == 0)
}

/// Smallest and largest value (`(i64::MAX, i64::MIN)` for none).
fn min_max(v: &[i64]) -> (i64, i64) {
    super::narrow::min_max(v).unwrap_or((i64::MAX, i64::MIN))
}

macro_rules! column_bytes_fn {
    (scalars: [$(($sv:ident, $sid:expr, $sf:ident, $st:ty)),* $(,)?],
     addrs: [$(($av:ident, $aid:expr, $af:ident)),* $(,)?]) => {
        /// The stored bytes of one column of `block`.
        fn column_bytes<'a>(block: &FlowBlock<'a>, id: ColumnId) -> (Encoding, &'a [u8]) {
            match id {
                $(ColumnId::$sv => (Encoding::Plain, bytemuck::cast_slice(block.$sf)),)*
                $(ColumnId::$av => addr_bytes(&block.$af),)*
            }
        }
    };
}
crate::with_flow_columns!(column_bytes_fn);

macro_rules! pack_column_fn {
    (scalars: [$(($sv:ident, $sid:expr, $sf:ident, $st:ty)),* $(,)?],
     addrs: [$(($av:ident, $aid:expr, $af:ident)),* $(,)?]) => {
        /// How column `id` of `block` is stored: nothing when all zero; else, with `narrow`,
        /// appended to `out` in the narrow encoding when that is smaller than its plain form
        /// (IPv6 address columns never are).
        fn pack_column(
            block: &FlowBlock<'_>,
            id: ColumnId,
            narrow: bool,
            out: &mut Vec<u64>,
        ) -> Shape {
            match id {
                $(ColumnId::$sv => shape_of(block.$sf, narrow, out),)*
                $(ColumnId::$av => match block.$af {
                    AddrColumn::V4(v) => shape_of(v, narrow, out),
                    AddrColumn::V6(v) if all_zero(bytemuck::cast_slice(v)) => Shape::Zero,
                    AddrColumn::V6(_) => Shape::Plain,
                },)*
            }
        }
    };
}
crate::with_flow_columns!(pack_column_fn);

/// How a column is stored, apart from compression.
enum Shape {
    /// Every value is zero: no payload.
    Zero,
    /// Narrow, this many bytes a value (appended to the writer's words).
    Narrow(u8),
    /// As it is.
    Plain,
}

/// [`pack_column`] of one column's values: their smallest and largest value (one pass) say
/// whether they are all zero, and give the narrow form's base and width.
fn shape_of<T: super::narrow::NarrowValue>(v: &[T], narrow: bool, out: &mut Vec<u64>) -> Shape {
    let Some((lo, hi)) = super::narrow::min_max(v) else {
        return Shape::Zero;
    };
    if lo.bits() == 0 && hi.bits() == 0 {
        return Shape::Zero;
    }
    if !narrow {
        return Shape::Plain;
    }
    super::narrow::pack_range(v, lo, hi, out).map_or(Shape::Plain, Shape::Narrow)
}

fn addr_bytes<'a>(col: &AddrColumn<'a>) -> (Encoding, &'a [u8]) {
    match *col {
        AddrColumn::V4(v) => (Encoding::AddrV4, bytemuck::cast_slice(v)),
        AddrColumn::V6(v) => (Encoding::AddrV6, bytemuck::cast_slice(v)),
    }
}

/// How a stored block keeps its columns (see [`stored_layout`]).
pub(crate) struct StoredLayout {
    /// Some column is compressed.
    pub(crate) packed: bool,
    /// Some compressed column is in frames of rows (format version 3).
    pub(crate) framed: bool,
    /// The block carries its frames' address Bloom filters.
    pub(crate) frame_filters: bool,
}

/// How the stored block `bytes` (checked, as a reader hands it out) keeps its columns, from its
/// directory and its compressed columns' headers.
pub(crate) fn stored_layout(bytes: &[u8]) -> StoredLayout {
    let columns = le_u32(bytes, 4) as usize;
    let payload = BLOCK_HEADER_LEN + columns * COLUMN_ENTRY_LEN;
    let mut layout = StoredLayout {
        packed: false,
        framed: false,
        frame_filters: false,
    };
    for k in 0..columns {
        let e = BLOCK_HEADER_LEN + k * COLUMN_ENTRY_LEN;
        if le_u16(bytes, e) == super::bloom::FRAME_BLOOM_ID {
            layout.frame_filters = true;
        } else if bytes.get(e + 2) == Some(&(Encoding::Packed as u8)) {
            layout.packed = true;
            let codec = payload + le_u32(bytes, e + 4) as usize + 3;
            layout.framed |= bytes.get(codec) == Some(&super::packed::CODEC_ZSTD_FRAMES);
        }
    }
    layout
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column is stored as all zero exactly when every value is zero (found from its
    /// smallest and largest value instead of a pass over its bytes): signed values below zero,
    /// the largest values of each type and a single non-zero value anywhere are not zero.
    #[test]
    fn zero_columns_are_found_from_their_range() {
        fn shape<T: super::super::narrow::NarrowValue>(v: &[T]) -> &'static str {
            match shape_of(v, true, &mut Vec::new()) {
                Shape::Zero => "zero",
                Shape::Narrow(_) => "narrow",
                Shape::Plain => "plain",
            }
        }
        assert_eq!(shape::<u64>(&[]), "zero");
        for len in [1usize, 7, 8, 9, 100] {
            assert_eq!(shape(&vec![0u64; len]), "zero");
            assert_eq!(shape(&vec![0i64; len]), "zero");
            assert_eq!(shape(&vec![0u8; len]), "zero");
            for at in [0, len / 2, len - 1] {
                let mut v = vec![0i64; len];
                v[at] = -1;
                assert_ne!(shape(&v), "zero", "len {len} at {at}");
                v[at] = i64::MIN;
                assert_ne!(shape(&v), "zero", "len {len} at {at}");
                let mut v = vec![0u32; len];
                v[at] = u32::MAX;
                assert_ne!(shape(&v), "zero", "len {len} at {at}");
                let mut v = vec![0u8; len];
                v[at] = 1;
                assert_ne!(shape(&v), "zero", "len {len} at {at}");
            }
        }
    }

    /// The lane-wise and run-wise helpers give what their plain definitions give, at lengths
    /// around their chunk sizes and with the decisive value anywhere.
    #[test]
    fn all_zero_and_min_max_match_their_definitions() {
        for len in [0usize, 1, 3, 4, 5, 7, 8, 9, 31, 255, 256, 257, 1000] {
            let zeros = vec![0u8; len];
            assert!(all_zero(&zeros));
            for at in [0, len / 2, len.saturating_sub(1)] {
                if len == 0 {
                    continue;
                }
                let mut b = zeros.clone();
                b[at] = 0x40;
                assert!(!all_zero(&b), "len {len} at {at}");
            }
            let v: Vec<i64> = (0..len as i64)
                .map(|i| (i * 7919 % 1009 - 500) * 1_000_003)
                .collect();
            let want = (
                v.iter().copied().min().unwrap_or(i64::MAX),
                v.iter().copied().max().unwrap_or(i64::MIN),
            );
            assert_eq!(min_max(&v), want, "len {len}");
        }
    }
}
