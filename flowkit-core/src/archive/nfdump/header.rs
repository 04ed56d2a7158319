//! The nfdump file header (layout version 2, nfdump 1.7) and the data block header.

use super::codec::Compression;

/// The file magic, 0xA50C, as it appears on disk in a little-endian file.
pub const MAGIC: [u8; 2] = [0x0C, 0xA5];
/// Layout version of nfdump 1.6 files (common records with extension maps).
pub const LAYOUT_VERSION_1: u16 = 1;
/// Layout version of nfdump 1.7 files (V3 records with extension elements).
pub const LAYOUT_VERSION_2: u16 = 2;
/// Length of a layout-2 file header.
pub const HEADER_V2_LEN: usize = 40;
/// Length of a data block header.
pub const BLOCK_HEADER_LEN: usize = 12;
/// The largest block nfdump reads or writes (its `BUFFSIZE`, 5 MiB), header included.
pub const MAX_BLOCK: usize = 5 * 1024 * 1024;

/// Block type of nfdump 1.6 data (common records, extension maps).
pub const BLOCK_TYPE_2: u16 = 2;
/// Block type of nfdump 1.7 data (V3 records).
pub const BLOCK_TYPE_3: u16 = 3;
/// Block flag: this block is stored uncompressed whatever the file's compression.
pub const FLAG_BLOCK_UNCOMPRESSED: u16 = 0x1;

/// What a layout-2 header says about its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileHeader {
    /// Layout version (2).
    pub version: u16,
    /// nfdump version that wrote the file (e.g. 0x01070100 for 1.7.1).
    pub nfd_version: u32,
    /// When the file was created, Unix seconds.
    pub created: i64,
    /// Raw compression byte (see [`Compression::from_byte`]).
    pub compression: u8,
    /// Encryption byte; nonzero is not supported (nfdump itself refuses it).
    pub encryption: u8,
    /// Number of appendix blocks (ident and statistics) at `off_appendix`.
    pub appendix_blocks: u16,
    /// Program that wrote the file (1 nfcapd, 4 nfdump, ...).
    pub creator: u32,
    /// Byte offset of the appendix; 0 while a collector still writes the file.
    pub off_appendix: u64,
    /// Largest block the writer used.
    pub block_size: u32,
    /// Data blocks in the file (0 while the file is being written).
    pub num_blocks: u32,
}

impl FileHeader {
    /// Parses a layout-2 header from its 40 bytes.
    pub fn parse_v2(b: &[u8; HEADER_V2_LEN]) -> FileHeader {
        FileHeader {
            version: u16_at(b, 2),
            nfd_version: u32_at(b, 4),
            created: u64_at(b, 8) as i64,
            compression: b[16],
            encryption: b[17],
            appendix_blocks: u16_at(b, 18),
            creator: u32_at(b, 20),
            off_appendix: u64_at(b, 24),
            block_size: u32_at(b, 32),
            num_blocks: u32_at(b, 36),
        }
    }

    /// The codec of the data blocks, or `None` for a compression byte nfdump does not define.
    pub fn codec(&self) -> Option<Compression> {
        Compression::from_byte(self.compression)
    }
}

/// A data block header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockHeader {
    /// Records in the block.
    pub num_records: u32,
    /// Bytes of payload after this header (compressed size for a compressed block).
    pub size: u32,
    /// Block type (3 for nfdump 1.7 records).
    pub block_type: u16,
    /// Flags (`FLAG_BLOCK_*`).
    pub flags: u16,
}

impl BlockHeader {
    /// Parses a block header from its 12 bytes.
    pub fn parse(b: &[u8; BLOCK_HEADER_LEN]) -> BlockHeader {
        BlockHeader {
            num_records: u32_at(b, 0),
            size: u32_at(b, 4),
            block_type: u16_at(b, 8),
            flags: u16_at(b, 10),
        }
    }
}

/// Little-endian u16 at `off` (the caller has checked the length).
#[inline]
pub(crate) fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

/// Little-endian u32 at `off`.
#[inline]
pub(crate) fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap_or([0; 4]))
}

/// Little-endian u64 at `off`.
#[inline]
pub(crate) fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap_or([0; 8]))
}
