//! Reading archives: a memory-mapped file reader with block index, and a stream reader for pipes.
//!
//! Every length is checked against the bytes actually present before any column is viewed, and
//! every column is checked against its checksum, so a truncated or corrupt file is an error that
//! names the file and byte offset, never a crash or silently wrong flows.
//!
//! [`file`] reads mapped or read archive files through their block index; [`stream`] reads
//! pipes block by block; [`block`] checks and views one block's columns, whichever read it.

use crate::archive::format::*;
use crate::archive::mapped::GuardedMap;
use crate::archive::ArchiveError;

mod block;
mod file;
mod stream;

pub use block::{
    block_bloom, block_frame_blooms, check_stored_block, gather_block_columns, gather_block_rows,
    view_block, view_block_columns, RowsWanted,
};
pub use file::ArchiveFile;
pub use stream::{has_complete_block, StreamItem, StreamReader};

/// Parses and checks a file header at the start of `b`.
pub fn parse_header(name: &str, b: &[u8]) -> Result<ArchiveHeader, ArchiveError> {
    let corrupt = |offset: usize, what: String| ArchiveError::corrupt(name, offset as u64, what);
    if b.len() < HEADER_FIXED_LEN {
        if b.len() < 8 && !b.is_empty() && FILE_MAGIC.starts_with(b) {
            return Err(ArchiveError::truncated(name, b.len() as u64, "file magic"));
        }
        if b.len() < 8 || &b[..8] != FILE_MAGIC {
            return Err(ArchiveError::NotArchive {
                path: name.to_string(),
            });
        }
        return Err(ArchiveError::truncated(name, b.len() as u64, "file header"));
    }
    if &b[..8] != FILE_MAGIC {
        return Err(ArchiveError::NotArchive {
            path: name.to_string(),
        });
    }
    let version = le_u16(b, 8);
    if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(corrupt(
            8,
            format!(
                "format version {version} is not supported (this build reads \
                 {OLDEST_READABLE_VERSION} to {FORMAT_VERSION})"
            ),
        ));
    }
    if le_u16(b, 10) != BYTE_ORDER_MARK {
        return Err(corrupt(10, "byte order mark is not little-endian".into()));
    }
    let header_len = le_u32(b, 12) as usize;
    let schema_count = le_u16(b, 56) as usize;
    let creator_len = le_u16(b, 58) as usize;
    let body = HEADER_FIXED_LEN + schema_count * 4 + creator_len;
    if header_len != pad8(body) + 8 {
        return Err(corrupt(
            12,
            format!("header length {header_len} does not match its contents"),
        ));
    }
    if b.len() < header_len {
        return Err(ArchiveError::truncated(name, b.len() as u64, "file header"));
    }
    let stored = le_u64(b, header_len - 8);
    if checksum(&b[..header_len - 8]) != stored {
        return Err(corrupt(0, "header checksum mismatch".into()));
    }
    let schema = (0..schema_count)
        .map(|k| le_u16(b, HEADER_FIXED_LEN + k * 4))
        .collect();
    let cs = HEADER_FIXED_LEN + schema_count * 4;
    let creator = String::from_utf8_lossy(&b[cs..cs + creator_len]).into_owned();
    Ok(ArchiveHeader {
        version,
        flags: le_u32(b, 16),
        flow_count: le_u64(b, 24),
        min_start_ms: le_i64(b, 32),
        max_end_ms: le_i64(b, 40),
        created_ms: le_i64(b, 48),
        schema,
        creator,
        header_len,
    })
}

/// What a block header at some offset turned out to be.
enum BlockHead {
    Data(BlockInfo),
    End,
}

/// Parses the 48-byte block header at `b[..48]` and checks its directory checksum when
/// `b` also holds the directory.
fn parse_block_head(name: &str, b: &[u8], file_offset: u64) -> Result<BlockHead, ArchiveError> {
    if b.len() < BLOCK_HEADER_LEN {
        return Err(ArchiveError::truncated(
            name,
            file_offset + b.len() as u64,
            "block header",
        ));
    }
    let magic = &b[0..4];
    if magic == END_MAGIC {
        if checksum(&b[..40]) != le_u64(b, 40) {
            return Err(ArchiveError::corrupt(
                name,
                file_offset,
                "end marker checksum mismatch",
            ));
        }
        return Ok(BlockHead::End);
    }
    if magic != BLOCK_MAGIC {
        return Err(ArchiveError::corrupt(
            name,
            file_offset,
            format!("expected a block, found bytes {:02x?}", magic),
        ));
    }
    let info = BlockInfo {
        columns: le_u32(b, 4),
        flows: le_u32(b, 8),
        payload_len: le_u32(b, 12),
        min_start_ms: le_i64(b, 16),
        max_start_ms: le_i64(b, 24),
        max_end_ms: le_i64(b, 32),
    };
    // No column stores more than 16 bytes a flow (an IPv6 address), plus padding to 8 bytes: a
    // payload longer than that cannot be valid, and must not make a stream reader allocate it.
    let max_payload = (info.columns as u64).saturating_mul(16 * info.flows as u64 + 8);
    if info.columns > 1024
        || info.flows > MAX_BLOCK_FLOWS
        || !info.payload_len.is_multiple_of(8)
        || info.payload_len as u64 > max_payload
    {
        return Err(ArchiveError::corrupt(
            name,
            file_offset,
            "implausible block header",
        ));
    }
    Ok(BlockHead::Data(info))
}

/// Parses the header of the block in `b` and checks its length and its header + directory
/// checksum.
fn checked_head(name: &str, b: &[u8], file_offset: u64) -> Result<BlockInfo, ArchiveError> {
    let info = match parse_block_head(name, b, file_offset)? {
        BlockHead::Data(info) => info,
        BlockHead::End => {
            return Err(ArchiveError::corrupt(
                name,
                file_offset,
                "unexpected end marker",
            ))
        }
    };
    let total = info.total_len() as usize;
    if b.len() < total {
        return Err(ArchiveError::truncated(
            name,
            file_offset + b.len() as u64,
            format!("block at byte {file_offset} needs {total} bytes"),
        ));
    }
    let dir_end = BLOCK_HEADER_LEN + info.columns as usize * COLUMN_ENTRY_LEN;
    let mut summed = Vec::with_capacity(dir_end - 8);
    summed.extend_from_slice(&b[..40]);
    summed.extend_from_slice(&b[BLOCK_HEADER_LEN..dir_end]);
    if checksum(&summed) != le_u64(b, 40) {
        return Err(ArchiveError::corrupt(
            name,
            file_offset,
            "block header checksum mismatch",
        ));
    }
    Ok(info)
}

/// The (offset, length) in the payload of directory entry `e`, checked to lie inside it.
fn entry_span(
    name: &str,
    b: &[u8],
    e: usize,
    entry_offset: u64,
    payload_len: usize,
) -> Result<(usize, usize), ArchiveError> {
    let off = le_u32(b, e + 4) as usize;
    let len = le_u32(b, e + 8) as usize;
    if !off.is_multiple_of(8)
        || off
            .checked_add(pad8(len))
            .is_none_or(|end| end > payload_len)
    {
        return Err(ArchiveError::corrupt(
            name,
            entry_offset,
            "column lies outside its block",
        ));
    }
    Ok((off, len))
}

/// Where a block sits in a file, with what the index (or its header) says of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockEntry {
    /// Byte offset of the block header.
    pub offset: u64,
    /// Bytes of the block: header, column directory and payload.
    pub len: u64,
    /// Flows in the block.
    pub flows: u32,
    /// Earliest flow start in the block.
    pub min_start_ms: i64,
    /// Latest flow start in the block.
    pub max_start_ms: i64,
    /// Latest flow end in the block.
    pub max_end_ms: i64,
}

impl BlockEntry {
    fn from_info(offset: u64, info: &BlockInfo) -> BlockEntry {
        BlockEntry {
            offset,
            len: info.total_len(),
            flows: info.flows,
            min_start_ms: info.min_start_ms,
            max_start_ms: info.max_start_ms,
            max_end_ms: info.max_end_ms,
        }
    }

    /// True when some flow in the block may start inside `[from, to)`.
    pub fn may_start_within(&self, from: Option<i64>, to: Option<i64>) -> bool {
        from.is_none_or(|f| self.max_start_ms >= f) && to.is_none_or(|t| self.min_start_ms < t)
    }

    /// True when the block's own header says what this entry says.
    fn agrees_with(&self, info: &BlockInfo) -> bool {
        *self == BlockEntry::from_info(self.offset, info)
    }
}

/// Bytes of a whole file: a read-only memory map, or an owned 8-aligned copy.
pub enum FileBytes {
    /// Mapped (only finished files are), guarded against the file shrinking while it is read
    /// (see [`crate::archive::mapped`] and docs/archive-format.md).
    Mapped(GuardedMap),
    /// Read into memory (pipes, `--no-mmap`, or when mapping fails).
    Owned(AlignedBuf),
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m.bytes(),
            FileBytes::Owned(b) => b.as_bytes(),
        }
    }
}

/// A byte buffer whose start is 8-aligned, so columns can be viewed in place.
#[derive(Default)]
pub struct AlignedBuf {
    words: Vec<u64>,
    len: usize,
}

impl AlignedBuf {
    /// The bytes held.
    pub fn as_bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[..self.len]
    }

    /// Resizes to `len` bytes and returns them for filling. Bytes past the old length hold
    /// whatever the buffer held there before (zero when it never grew that far): the buffer keeps
    /// its largest size, so refilling it block after block never clears memory again.
    pub fn resize(&mut self, len: usize) -> &mut [u8] {
        let words = len.div_ceil(8);
        if self.words.len() < words {
            self.words.resize(words, 0);
        }
        self.len = len;
        &mut bytemuck::cast_slice_mut(&mut self.words)[..len]
    }

    /// Copies `bytes` into a new aligned buffer.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut b = AlignedBuf::default();
        b.resize(bytes.len()).copy_from_slice(bytes);
        b
    }
}
