//! Byte layout of flowkit archives and streams (documented in docs/archive-format.md).
//!
//! Everything is little-endian. Offsets below are from the start of the structure.

use crate::model::block::ColumnId;

/// First eight bytes of every archive file and stream.
pub const FILE_MAGIC: &[u8; 8] = b"FLOWKIT\0";
/// Archive format version written by this code when it compresses columns (blocks may hold
/// [`Encoding::Packed`] columns; version 3: stored in frames of rows, which readers of version 2
/// refuse as bad headers, hence the new number).
pub const FORMAT_VERSION: u16 = 3;
/// Format version written when columns are compressed as one zstd frame each (no frames of rows):
/// what readers of version 2 read.
pub const FORMAT_VERSION_SINGLE_FRAME: u16 = 2;
/// Format version written when no column is compressed: what readers before version 2 read.
pub const FORMAT_VERSION_UNCOMPRESSED: u16 = 1;
/// Oldest format version this code reads.
pub const OLDEST_READABLE_VERSION: u16 = 1;
/// Written as a little-endian u16; reads back as this value only on a little-endian reader.
pub const BYTE_ORDER_MARK: u16 = 0x0102;
/// Fixed part of the file header, before the schema.
pub const HEADER_FIXED_LEN: usize = 64;

/// Header flag: the writer could not seek back, so counts and times in the header are unknown.
pub const FLAG_STREAM: u32 = 1;
/// Header flag: the writer closed the file and wrote the block index and trailer.
pub const FLAG_COMPLETE: u32 = 2;

/// Magic of a data block.
pub const BLOCK_MAGIC: &[u8; 4] = b"FKBK";
/// Magic of the end-of-data marker (a block header with no columns).
pub const END_MAGIC: &[u8; 4] = b"FKEN";
/// Magic of the block index.
pub const INDEX_MAGIC: &[u8; 4] = b"FKIX";
/// Magic of the trailer at the very end of a complete file.
pub const TRAILER_MAGIC: &[u8; 4] = b"FKTR";

/// Length of a block header (also of the end marker).
pub const BLOCK_HEADER_LEN: usize = 48;
/// Length of one column directory entry.
pub const COLUMN_ENTRY_LEN: usize = 24;
/// Length of one block index entry.
pub const INDEX_ENTRY_LEN: usize = 40;
/// Length of the trailer.
pub const TRAILER_LEN: usize = 32;

/// Most flows a block may hold; bounds the memory a reader allocates for one block.
pub const MAX_BLOCK_FLOWS: u32 = 1 << 20;
/// Default flows per block when writing.
pub const DEFAULT_BLOCK_FLOWS: usize = 8192;

/// How a column's values are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Encoding {
    /// Fixed-width little-endian integers, as wide as the column's type.
    Plain = 0,
    /// Addresses as 4-byte host-order IPv4 integers.
    AddrV4 = 1,
    /// Addresses as 16-byte network-order IPv6 (IPv4-mapped for IPv4).
    AddrV6 = 2,
    /// Every value is zero (addresses: 0.0.0.0); no payload. Most blocks have many such columns
    /// (tags, AS numbers, reverse counters of unidirectional flows ...).
    Zero = 3,
    /// Frame of reference: the payload is the column's smallest value (8 bytes, little-endian,
    /// as u64 bits) followed by every value's distance from it in 0, 1, 2 or 4 bytes (the width
    /// is the directory entry's byte 3; 0 means every value equals the base). Counters, times,
    /// interface and AS numbers of a block span far less than their type, so this about halves
    /// the bytes a scan reads (docs/archive-format.md).
    Narrow = 5,
    /// Compressed (format version 2): one of the forms above, transformed (delta, byte shuffle)
    /// and compressed with zstd; a header in the payload says which (`archive::packed`). Used
    /// where it saves at least a tenth of the column.
    Packed = 6,
}

impl Encoding {
    /// Decodes a stored encoding byte.
    pub fn from_u8(v: u8) -> Option<Encoding> {
        match v {
            0 => Some(Encoding::Plain),
            1 => Some(Encoding::AddrV4),
            2 => Some(Encoding::AddrV6),
            3 => Some(Encoding::Zero),
            5 => Some(Encoding::Narrow),
            6 => Some(Encoding::Packed),
            _ => None,
        }
    }
}

/// Bytes of a [`Encoding::Narrow`] column of `n` values `width` bytes wide (without padding).
pub fn narrow_len(n: usize, width: usize) -> usize {
    8 + n * width
}

/// Kind byte stored in the header schema for each column.
pub fn schema_kind(id: ColumnId) -> (u8, u8) {
    match id.width() {
        Some(w) => (0, w as u8),
        None => (1, 0),
    }
}

/// The first column id added after the first schema (ids 0..=25, what version 1 and early
/// version 2 files hold). A block without a column from here on is read as if it stored the
/// column all zero, so older archives read with the wider schema; a block missing a column of
/// the first schema is corrupt.
pub const FIRST_LATER_COLUMN: u16 = 26;

/// True for a column a block may lack (see [`FIRST_LATER_COLUMN`]).
pub fn added_later(id: ColumnId) -> bool {
    id as u16 >= FIRST_LATER_COLUMN
}

/// All-zero memory that zero-encoded columns are viewed from: wide enough for the widest
/// fixed-width column (8 bytes) of the largest block. Allocated zeroed on first use (calloc:
/// reading it touches only the kernel's shared zero page); a `static` array of zeros lands in
/// .rodata and put 8 MiB into every binary.
pub static ZEROS: std::sync::LazyLock<Box<[u64]>> =
    std::sync::LazyLock::new(|| vec![0; MAX_BLOCK_FLOWS as usize].into_boxed_slice());

/// Rounds `n` up to a multiple of 8.
pub fn pad8(n: usize) -> usize {
    (n + 7) & !7
}

/// Checksum used for headers, column data and the index (xxh3, 64 bits; `twox-hash` picks AVX2
/// at run time where the CPU has it, about 1.5x the SSE2 speed of a portable build).
pub fn checksum(bytes: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(bytes)
}

/// Reads a little-endian u16 at `off` (caller checked the length).
pub fn le_u16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

/// Reads a little-endian u32 at `off` (caller checked the length).
pub fn le_u32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().expect("4 bytes"))
}

/// Reads a little-endian u64 at `off` (caller checked the length).
pub fn le_u64(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().expect("8 bytes"))
}

/// Reads a little-endian i64 at `off` (caller checked the length).
pub fn le_i64(b: &[u8], off: usize) -> i64 {
    le_u64(b, off) as i64
}

/// Summary fields of a block header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    /// Flows in the block.
    pub flows: u32,
    /// Columns in the block's directory.
    pub columns: u32,
    /// Bytes of column data after the directory.
    pub payload_len: u32,
    /// Earliest flow start in the block.
    pub min_start_ms: i64,
    /// Latest flow start in the block.
    pub max_start_ms: i64,
    /// Latest flow end in the block.
    pub max_end_ms: i64,
}

impl BlockInfo {
    /// Total bytes of the block: header, directory and payload.
    pub fn total_len(&self) -> u64 {
        BLOCK_HEADER_LEN as u64
            + self.columns as u64 * COLUMN_ENTRY_LEN as u64
            + self.payload_len as u64
    }
}

/// Summary of a file, from its header (and trailer when complete).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveHeader {
    /// Format version of the file.
    pub version: u16,
    /// Header flags (`FLAG_*`).
    pub flags: u32,
    /// Flows in the file (0 for streams, where it is unknown).
    pub flow_count: u64,
    /// Earliest flow start (i64::MAX when unknown or empty).
    pub min_start_ms: i64,
    /// Latest flow end (i64::MIN when unknown or empty).
    pub max_end_ms: i64,
    /// When the file was created, UTC ms.
    pub created_ms: i64,
    /// Column ids the writer declared.
    pub schema: Vec<u16>,
    /// Free text naming the program that wrote the file.
    pub creator: String,
    /// Length of the header in bytes (offset of the first block).
    pub header_len: usize,
}

impl ArchiveHeader {
    /// True when the writer finished the file (index and trailer present).
    pub fn is_complete(&self) -> bool {
        self.flags & FLAG_COMPLETE != 0
    }

    /// True for a stream header, whose counts are unknown.
    pub fn is_stream(&self) -> bool {
        self.flags & FLAG_STREAM != 0
    }
}

/// One block index entry: the block's offset and what its header says of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// Byte offset of the block header.
    pub offset: u64,
    /// The block's summary.
    pub info: BlockInfo,
}

/// The end of a finished file, to write at byte `end` (just after the last block): end marker,
/// block index and trailer for the `total` flows of `index`. Shared by the writer and by the
/// recovery of unfinished files (`archive::recover`), so both finish a file the same way.
pub fn encode_tail(end: u64, index: &[IndexEntry], total: u64) -> Vec<u8> {
    let mut tail =
        Vec::with_capacity(BLOCK_HEADER_LEN + 8 + index.len() * INDEX_ENTRY_LEN + TRAILER_LEN);
    let mut marker = [0u8; BLOCK_HEADER_LEN];
    marker[0..4].copy_from_slice(END_MAGIC);
    marker[16..24].copy_from_slice(&total.to_le_bytes());
    let c = checksum(&marker[..40]);
    marker[40..48].copy_from_slice(&c.to_le_bytes());
    tail.extend_from_slice(&marker);
    let index_offset = end + tail.len() as u64;
    let index_start = tail.len();
    tail.extend_from_slice(INDEX_MAGIC);
    tail.extend_from_slice(&(index.len() as u32).to_le_bytes());
    for e in index {
        tail.extend_from_slice(&e.offset.to_le_bytes());
        tail.extend_from_slice(&e.info.flows.to_le_bytes());
        tail.extend_from_slice(&0u32.to_le_bytes());
        tail.extend_from_slice(&e.info.min_start_ms.to_le_bytes());
        tail.extend_from_slice(&e.info.max_start_ms.to_le_bytes());
        tail.extend_from_slice(&e.info.max_end_ms.to_le_bytes());
    }
    let index_sum = checksum(&tail[index_start..]);
    tail.extend_from_slice(TRAILER_MAGIC);
    tail.extend_from_slice(&0u32.to_le_bytes());
    tail.extend_from_slice(&index_offset.to_le_bytes());
    tail.extend_from_slice(&index_sum.to_le_bytes());
    tail.extend_from_slice(&total.to_le_bytes());
    tail
}
