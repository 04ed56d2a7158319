//! Reading archives: a memory-mapped file reader with block index, and a stream reader for pipes.
//!
//! Every length is checked against the bytes actually present before any column is viewed, and
//! every column is checked against its checksum, so a truncated or corrupt file is an error that
//! names the file and byte offset, never a crash or silently wrong flows.

use super::bloom::{AddrBloom, BLOOM_ENCODING, BLOOM_ID};
use super::format::*;
use super::members::AfterEnd;
use super::narrow::{ColumnScratch, NarrowColumn, NarrowValue, WidenKey};
use super::reference::{check_identity, parse_ref, ref_len, BlockRef, FileIdentity, REF_MAGIC};
use super::ArchiveError;
use crate::archive::mapped::GuardedMap;
use crate::model::block::{AddrBuf, AddrColumn, ColumnId, ColumnSet, FlowBlock, FlowBlockBuf};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    if version != FORMAT_VERSION {
        return Err(corrupt(
            8,
            format!(
                "format version {version} is not supported (this build reads {FORMAT_VERSION})"
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

/// Checks a whole block held in `b` (which starts at the block header, 8-aligned) and returns
/// its view: zero-copy, except narrow columns, widened into `scratch`. `file_offset` is where
/// `b` starts in the file, for messages.
pub fn view_block<'a>(
    name: &str,
    b: &'a [u8],
    file_offset: u64,
    scratch: &'a ColumnScratch,
) -> Result<(FlowBlock<'a>, BlockInfo), ArchiveError> {
    view_block_columns(name, b, file_offset, ColumnSet::ALL, scratch)
}

/// Like [`view_block`], but checks and views only the columns in `wanted`; the view is a
/// partial block (the other columns are empty) unless `wanted` is all of them. The block header
/// and column directory are always checked.
pub fn view_block_columns<'a>(
    name: &str,
    b: &'a [u8],
    file_offset: u64,
    wanted: ColumnSet,
    scratch: &'a ColumnScratch,
) -> Result<(FlowBlock<'a>, BlockInfo), ArchiveError> {
    let info = checked_head(name, b, file_offset)?;
    let cols = checked_columns(name, b, file_offset, &info, wanted)?;
    let n = info.flows as usize;
    let ctx = ColumnCtx {
        name,
        offset: file_offset,
        n,
        cols: &cols,
        wanted,
        scratch,
    };
    Ok((build_view(&ctx)?, info))
}

/// Checks every column of the block held in `b` (as [`view_block`] does, and `check` on its
/// header summary) and appends the flows of `rows` (each below the block's length) to `out`.
/// Narrow columns are widened for those rows only, so a sparse selection costs little more than
/// its rows. On an error nothing is appended.
pub fn gather_block_rows(
    name: &str,
    b: &[u8],
    file_offset: u64,
    rows: &[u32],
    out: &mut FlowBlockBuf,
    check: impl FnOnce(&BlockInfo) -> Result<(), ArchiveError>,
) -> Result<BlockInfo, ArchiveError> {
    let info = checked_head(name, b, file_offset)?;
    check(&info)?;
    let n = info.flows as usize;
    if let Some(&bad) = rows.iter().find(|&&r| r as usize >= n) {
        return Err(ArchiveError::corrupt(
            name,
            file_offset,
            format!("row {bad} asked of a block of {n} flows"),
        ));
    }
    let cols = checked_columns(name, b, file_offset, &info, ColumnSet::ALL)?;
    let ctx = ColumnCtx {
        name,
        offset: file_offset,
        n,
        cols: &cols,
        wanted: ColumnSet::ALL,
        // Narrow columns are read row by row below, never widened: this stays empty.
        scratch: &ColumnScratch::new(),
    };
    // Every column's source is checked first, so an error leaves `out` as it was.
    let sources = row_sources(&ctx)?;
    gather_rows(&sources, rows, out);
    Ok(info)
}

/// Where a column's values are, once checked: stored plainly, narrow, or all zero.
enum RowSource<'a, T> {
    Plain(&'a [T]),
    Narrow(NarrowColumn<'a>),
    Zero,
}

impl<T: NarrowValue> RowSource<'_, T> {
    fn gather_into(&self, rows: &[u32], out: &mut Vec<T>) {
        match self {
            RowSource::Plain(v) => out.extend(rows.iter().map(|&i| v[i as usize])),
            RowSource::Narrow(c) => c.gather_into(rows, out),
            RowSource::Zero => out.resize(out.len() + rows.len(), T::from_bits(0)),
        }
    }
}

/// Where an address column's values are, once checked.
enum AddrSource<'a> {
    Stored(AddrColumn<'a>),
    Narrow(NarrowColumn<'a>),
}

impl<'a> ColumnCtx<'_, 'a> {
    fn row_source<T: NarrowValue>(&self, id: ColumnId) -> Result<RowSource<'a, T>, ArchiveError> {
        let c = self.cols[id as usize].ok_or_else(|| self.missing(id, "is missing"))?;
        match c.enc {
            Encoding::Narrow => NarrowColumn::parse::<T>(c.data, c.width, self.n)
                .map(RowSource::Narrow)
                .ok_or_else(|| self.missing(id, "has a bad narrow width or length")),
            Encoding::Zero if c.data.is_empty() => Ok(RowSource::Zero),
            _ => self.scalar::<T>(id).map(RowSource::Plain),
        }
    }

    fn addr_source(&self, id: ColumnId) -> Result<AddrSource<'a>, ArchiveError> {
        let c = self.cols[id as usize].ok_or_else(|| self.missing(id, "is missing"))?;
        match c.enc {
            Encoding::Narrow => NarrowColumn::parse::<u32>(c.data, c.width, self.n)
                .map(AddrSource::Narrow)
                .ok_or_else(|| self.missing(id, "has a bad narrow width or length")),
            _ => self.addr(id).map(AddrSource::Stored),
        }
    }
}

impl AddrSource<'_> {
    fn gather_into(&self, rows: &[u32], out: &mut AddrBuf) {
        match self {
            AddrSource::Stored(c) => out.extend_rows(c, rows),
            AddrSource::Narrow(c) => match out {
                AddrBuf::V4(v) => c.gather_into(rows, v),
                AddrBuf::V6(_) => {
                    let mut v4: Vec<u32> = Vec::with_capacity(rows.len());
                    c.gather_into(rows, &mut v4);
                    out.extend_all(&AddrColumn::V4(&v4));
                }
            },
        }
    }
}

macro_rules! gather_fns {
    (scalars: [$(($sv:ident, $sid:expr, $sf:ident, $st:ty)),* $(,)?],
     addrs: [$(($av:ident, $aid:expr, $af:ident)),* $(,)?]) => {
        /// The checked source of every column of a block.
        struct RowSources<'a> {
            $($sf: RowSource<'a, $st>,)*
            $($af: AddrSource<'a>,)*
        }

        fn row_sources<'a>(c: &ColumnCtx<'_, 'a>) -> Result<RowSources<'a>, ArchiveError> {
            Ok(RowSources {
                $($sf: c.row_source::<$st>(ColumnId::$sv)?,)*
                $($af: c.addr_source(ColumnId::$av)?,)*
            })
        }

        fn gather_rows(s: &RowSources<'_>, rows: &[u32], out: &mut FlowBlockBuf) {
            $(s.$sf.gather_into(rows, &mut out.$sf);)*
            $(s.$af.gather_into(rows, &mut out.$af);)*
        }
    };
}
crate::with_flow_columns!(gather_fns);

/// Checks the directory entries of the columns in `wanted` (known ids, encodings, spans and
/// checksums) of the block held in `b`, whose header is `info`.
fn checked_columns<'a>(
    name: &str,
    b: &'a [u8],
    file_offset: u64,
    info: &BlockInfo,
    wanted: ColumnSet,
) -> Result<[Option<StoredColumn<'a>>; 32], ArchiveError> {
    let total = info.total_len() as usize;
    let dir_end = BLOCK_HEADER_LEN + info.columns as usize * COLUMN_ENTRY_LEN;
    let payload = &b[dir_end..total];
    let payload_offset = file_offset + dir_end as u64;
    let mut cols: [Option<StoredColumn<'a>>; 32] = [None; 32];
    for k in 0..info.columns as usize {
        let e = BLOCK_HEADER_LEN + k * COLUMN_ENTRY_LEN;
        let entry_offset = file_offset + e as u64;
        let id = le_u16(b, e);
        let (off, len) = entry_span(name, b, e, entry_offset, payload.len())?;
        let Some(column) = ColumnId::from_u16(id) else {
            continue; // not a flow column (the address Bloom filter, or one from a later version)
        };
        if !wanted.contains(column) {
            continue;
        }
        let enc = Encoding::from_u8(b[e + 2]).ok_or_else(|| {
            ArchiveError::corrupt(
                name,
                entry_offset,
                format!("unknown column encoding {}", b[e + 2]),
            )
        })?;
        let data = &payload[off..off + len];
        let sum = le_u64(b, e + 16);
        if checksum(&payload[off..off + pad8(len)]) != sum {
            return Err(ArchiveError::corrupt(
                name,
                payload_offset + off as u64,
                format!("checksum mismatch in column {}", column.name()),
            ));
        }
        if let Some(slot) = cols.get_mut(id as usize) {
            *slot = Some(StoredColumn {
                enc,
                width: b[e + 3],
                checksum: sum,
                data,
            });
        }
    }
    Ok(cols)
}

/// The checked address Bloom filter of the block held in `b` (see [`super::bloom`]), or `None`
/// when the block has none (written before it existed, or by another writer).
pub fn block_bloom<'a>(
    name: &str,
    b: &'a [u8],
    file_offset: u64,
) -> Result<Option<AddrBloom<'a>>, ArchiveError> {
    let info = checked_head(name, b, file_offset)?;
    let dir_end = BLOCK_HEADER_LEN + info.columns as usize * COLUMN_ENTRY_LEN;
    let payload = &b[dir_end..info.total_len() as usize];
    for k in 0..info.columns as usize {
        let e = BLOCK_HEADER_LEN + k * COLUMN_ENTRY_LEN;
        if le_u16(b, e) != BLOOM_ID || b[e + 2] != BLOOM_ENCODING {
            continue;
        }
        let entry_offset = file_offset + e as u64;
        let (off, len) = entry_span(name, b, e, entry_offset, payload.len())?;
        let bad = |what: &str| {
            ArchiveError::corrupt(name, file_offset + (dir_end + off) as u64, what.to_string())
        };
        if checksum(&payload[off..off + pad8(len)]) != le_u64(b, e + 16) {
            return Err(bad("checksum mismatch in the address Bloom filter"));
        }
        let words: &[u64] = bytemuck::try_cast_slice(&payload[off..off + len])
            .map_err(|_| bad("misaligned Bloom filter"))?;
        return AddrBloom::from_words(words)
            .map(Some)
            .ok_or_else(|| bad("malformed address Bloom filter"));
    }
    Ok(None)
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

/// A checked column of a block: its encoding, width byte, checksum and stored bytes.
#[derive(Clone, Copy)]
struct StoredColumn<'a> {
    enc: Encoding,
    width: u8,
    checksum: u64,
    data: &'a [u8],
}

struct ColumnCtx<'c, 'a> {
    name: &'c str,
    offset: u64,
    n: usize,
    cols: &'c [Option<StoredColumn<'a>>; 32],
    wanted: ColumnSet,
    scratch: &'a ColumnScratch,
}

impl<'a> ColumnCtx<'_, 'a> {
    fn missing(&self, id: ColumnId, why: &str) -> ArchiveError {
        ArchiveError::corrupt(
            self.name,
            self.offset,
            format!("column {} {why}", id.name()),
        )
    }

    fn scalar<T: NarrowValue>(&self, id: ColumnId) -> Result<&'a [T], ArchiveError> {
        if !self.wanted.contains(id) {
            return Ok(&[]);
        }
        let c = self.cols[id as usize].ok_or_else(|| self.missing(id, "is missing"))?;
        match c.enc {
            Encoding::Zero if c.data.is_empty() => Ok(&bytemuck::cast_slice(&ZEROS[..])[..self.n]),
            Encoding::Narrow => self.widened::<T>(id, &c),
            Encoding::Plain if c.data.len() == self.n * std::mem::size_of::<T>() => {
                bytemuck::try_cast_slice(c.data).map_err(|_| self.missing(id, "is misaligned"))
            }
            _ => Err(self.missing(id, "has the wrong size or encoding")),
        }
    }

    /// A narrow column widened into the scratch (once per scratch).
    fn widened<T: NarrowValue>(
        &self,
        id: ColumnId,
        c: &StoredColumn<'a>,
    ) -> Result<&'a [T], ArchiveError> {
        let key = WidenKey {
            id: id as u16,
            checksum: c.checksum,
            n: self.n,
        };
        self.scratch
            .widened::<T>(key, c.data, c.width)
            .ok_or_else(|| self.missing(id, "has a bad narrow width or length"))
    }

    fn addr(&self, id: ColumnId) -> Result<AddrColumn<'a>, ArchiveError> {
        if !self.wanted.contains(id) {
            return Ok(AddrColumn::V4(&[]));
        }
        let c = self.cols[id as usize].ok_or_else(|| self.missing(id, "is missing"))?;
        let (enc, data) = (c.enc, c.data);
        let bad = || self.missing(id, "has the wrong size or encoding");
        match enc {
            Encoding::Zero if data.is_empty() => {
                Ok(AddrColumn::V4(&bytemuck::cast_slice(&ZEROS[..])[..self.n]))
            }
            // IPv4 addresses (an exporter, a next hop) stored narrow, as their integers.
            Encoding::Narrow => self.widened::<u32>(id, &c).map(AddrColumn::V4),
            Encoding::AddrV4 if data.len() == self.n * 4 => bytemuck::try_cast_slice(data)
                .map(AddrColumn::V4)
                .map_err(|_| bad()),
            Encoding::AddrV6 if data.len() == self.n * 16 => bytemuck::try_cast_slice(data)
                .map(AddrColumn::V6)
                .map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

macro_rules! build_view_fn {
    (scalars: [$(($sv:ident, $sid:expr, $sf:ident, $st:ty)),* $(,)?],
     addrs: [$(($av:ident, $aid:expr, $af:ident)),* $(,)?]) => {
        fn build_view<'a>(c: &ColumnCtx<'_, 'a>) -> Result<FlowBlock<'a>, ArchiveError> {
            Ok(FlowBlock {
                len: c.n,
                $($sf: c.scalar::<$st>(ColumnId::$sv)?,)*
                $($af: c.addr(ColumnId::$av)?,)*
            })
        }
    };
}
crate::with_flow_columns!(build_view_fn);

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

/// An archive file opened for reading, with its block list.
pub struct ArchiveFile {
    name: String,
    bytes: FileBytes,
    header: ArchiveHeader,
    blocks: Vec<BlockEntry>,
    complete: bool,
    tail_error: Option<ArchiveError>,
    /// The block walk stopped at a block reference or at a flow-tools stream written after the
    /// archive: the file must be read as a stream (see [`ArchiveFile::read_as_stream`]).
    stream_only: bool,
    /// Where the file is and which file it is, when opened from disk (for block references).
    origin: Option<(Arc<PathBuf>, FileIdentity)>,
    /// The open file behind a map, for copying blocks out with positioned reads.
    file: Option<std::fs::File>,
    /// Where [`ArchiveFile::block`] and [`ArchiveFile::block_columns`] widen narrow columns;
    /// it keeps them while the file is open (scans pass a scratch of their own per batch).
    scratch: ColumnScratch,
}

impl ArchiveFile {
    /// Opens `path`, memory-mapping it unless `no_mmap` (then it is read into memory).
    pub fn open(path: &Path, no_mmap: bool) -> Result<ArchiveFile, ArchiveError> {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| ArchiveError::io(&name, e))?;
        // Only finished files are mapped (writers publish by rename and never modify a published
        // file); every length is checked against the map's size before use, and a file that
        // another program truncates while it is mapped is caught by the guard (crate::archive::mapped).
        let bytes = if no_mmap {
            None
        } else {
            GuardedMap::map(&file).ok()
        };
        let bytes = match bytes {
            Some(m) => {
                #[cfg(unix)]
                let _ = m.mmap().advise(memmap2::Advice::Sequential);
                FileBytes::Mapped(m)
            }
            None => {
                let mut v = Vec::new();
                (&file)
                    .read_to_end(&mut v)
                    .map_err(|e| ArchiveError::io(&name, e))?;
                FileBytes::Owned(AlignedBuf::from_bytes(&v))
            }
        };
        let mapped = matches!(bytes, FileBytes::Mapped(_));
        let mut f = ArchiveFile::from_file_bytes(name, bytes)?;
        // The header and index were read from the map: were they still the file's?
        f.check_unchanged()?;
        let meta = file.metadata().map_err(|e| ArchiveError::io(&f.name, e))?;
        if let Ok(abs) = std::path::absolute(path) {
            f.origin = Some((Arc::new(abs), FileIdentity::of(&meta)));
        }
        if mapped {
            f.file = Some(file);
        }
        Ok(f)
    }

    /// Checks that a mapped file still backs every mapped byte (nobody truncated it since it
    /// was opened; see [`crate::archive::mapped`]). Readers call it after each batch of blocks. Always
    /// `Ok` for files read into memory.
    pub fn check_unchanged(&self) -> Result<(), ArchiveError> {
        match &self.bytes {
            FileBytes::Mapped(m) => m
                .check()
                .map_err(|s| ArchiveError::truncated(&self.name, s.offset, s.to_string())),
            FileBytes::Owned(_) => Ok(()),
        }
    }

    /// Opens the file a block reference names, checking it is still the file referred to.
    pub fn open_referenced(r: &BlockRef, no_mmap: bool) -> Result<ArchiveFile, ArchiveError> {
        let f = ArchiveFile::open(&r.path, no_mmap)?;
        let now = f.origin.as_ref().map(|(_, id)| *id);
        if let Some(now) = now {
            check_identity(&r.path, &now, &r.identity).map_err(|what| {
                ArchiveError::Unsupported {
                    path: f.name.clone(),
                    what,
                }
            })?;
        }
        Ok(f)
    }

    /// A reference to block `i` that a flowkit reader on this host can follow (for complete,
    /// published files opened from disk only).
    pub fn block_ref(&self, i: usize) -> Option<BlockRef> {
        let (path, identity) = self.origin.as_ref()?;
        let published = path
            .file_name()
            .is_some_and(|n| !n.to_string_lossy().starts_with("tmp"));
        if !self.complete || !published || self.tail_error.is_some() {
            return None;
        }
        let e = self.blocks[i];
        Some(BlockRef {
            path: Arc::clone(path),
            identity: *identity,
            offset: e.offset,
            len: e.len,
            flows: e.flows,
            rows: None,
        })
    }

    /// The index of the block starting at byte `offset`, if there is one.
    pub fn block_at(&self, offset: u64) -> Option<usize> {
        self.blocks.binary_search_by_key(&offset, |b| b.offset).ok()
    }

    /// Opens an archive held in memory (tests, fuzzing).
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<ArchiveFile, ArchiveError> {
        ArchiveFile::from_file_bytes(
            name.to_string(),
            FileBytes::Owned(AlignedBuf::from_bytes(bytes)),
        )
    }

    fn from_file_bytes(name: String, bytes: FileBytes) -> Result<ArchiveFile, ArchiveError> {
        let header = parse_header(&name, &bytes)?;
        let mut f = ArchiveFile {
            name,
            bytes,
            header,
            blocks: Vec::new(),
            complete: false,
            tail_error: None,
            stream_only: false,
            origin: None,
            file: None,
            scratch: ColumnScratch::new(),
        };
        match f.read_index() {
            Some(blocks) => {
                f.blocks = blocks;
                f.complete = true;
            }
            None => f.scan_blocks(),
        }
        Ok(f)
    }

    /// Uses the trailer and index when they are present and consistent. Block headers are not
    /// touched here (that would map a page of every block at open); each is checked against its
    /// entry when the block is read.
    fn read_index(&self) -> Option<Vec<BlockEntry>> {
        let b: &[u8] = &self.bytes;
        if b.len() < self.header.header_len + TRAILER_LEN {
            return None;
        }
        let t = b.len() - TRAILER_LEN;
        if &b[t..t + 4] != TRAILER_MAGIC {
            return None;
        }
        let index_offset = usize::try_from(le_u64(b, t + 8)).ok()?;
        if index_offset < self.header.header_len + BLOCK_HEADER_LEN
            || index_offset.checked_add(8).is_none_or(|end| end > t)
        {
            return None;
        }
        let index = &b[index_offset..t];
        if &index[..4] != INDEX_MAGIC || checksum(index) != le_u64(b, t + 16) {
            return None;
        }
        let n = le_u32(index, 4) as usize;
        if index.len() != 8 + n.checked_mul(INDEX_ENTRY_LEN)? {
            return None;
        }
        // Blocks are contiguous from the header to the end marker just before the index.
        let end_marker = (index_offset - BLOCK_HEADER_LEN) as u64;
        let mut out = Vec::with_capacity(n);
        for k in 0..n {
            let e = 8 + k * INDEX_ENTRY_LEN;
            let offset = le_u64(index, e);
            let next = if k + 1 < n {
                le_u64(index, e + INDEX_ENTRY_LEN)
            } else {
                end_marker
            };
            let expected = out
                .last()
                .map_or(self.header.header_len as u64, |p: &BlockEntry| {
                    p.offset + p.len
                });
            if offset != expected || next <= offset {
                return None;
            }
            out.push(BlockEntry {
                offset,
                len: next - offset,
                flows: le_u32(index, e + 8),
                min_start_ms: le_i64(index, e + 16),
                max_start_ms: le_i64(index, e + 24),
                max_end_ms: le_i64(index, e + 32),
            });
        }
        if n == 0 && end_marker != self.header.header_len as u64 {
            return None;
        }
        Some(out)
    }

    /// Walks blocks from the header on, for files without a usable index (unfinished or damaged);
    /// stops at the end marker or the first problem, which is kept as the tail error.
    fn scan_blocks(&mut self) {
        let b: &[u8] = &self.bytes;
        let mut off = self.header.header_len as u64;
        loop {
            let rest = &b[off as usize..];
            match parse_block_head(&self.name, rest, off) {
                Ok(BlockHead::End) => {
                    // Another archive may follow (files concatenated with `cat`).
                    match super::members::after_end_in_bytes(&self.name, b, off as usize) {
                        Ok(AfterEnd::Done) => {
                            self.complete = true;
                            return;
                        }
                        Ok(AfterEnd::Other(p)) => {
                            self.stream_only = true;
                            self.tail_error = Some(ArchiveError::corrupt(
                                &self.name,
                                p as u64,
                                "a flow-tools or nfdump stream follows the archive: read it as a stream",
                            ));
                            return;
                        }
                        Ok(AfterEnd::Next(p)) => match parse_header(&self.name, &b[p..]) {
                            Ok(h) => off = (p + h.header_len) as u64,
                            Err(e) => {
                                self.tail_error = Some(e);
                                return;
                            }
                        },
                        Err(e) => {
                            self.tail_error = Some(e);
                            return;
                        }
                    }
                }
                Ok(BlockHead::Data(info)) => {
                    if (rest.len() as u64) < info.total_len() {
                        self.tail_error = Some(ArchiveError::truncated(
                            &self.name,
                            b.len() as u64,
                            format!("block at byte {off} is incomplete"),
                        ));
                        return;
                    }
                    self.blocks.push(BlockEntry::from_info(off, &info));
                    off += info.total_len();
                }
                Err(e) => {
                    self.stream_only = rest.starts_with(REF_MAGIC);
                    self.tail_error = Some(if rest.is_empty() {
                        ArchiveError::truncated(&self.name, off, "file ends without its end marker")
                    } else {
                        e
                    });
                    return;
                }
            }
        }
    }

    /// The file's name as given when opened.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parsed header.
    pub fn header(&self) -> &ArchiveHeader {
        &self.header
    }

    /// Blocks found, in file order.
    pub fn blocks(&self) -> &[BlockEntry] {
        &self.blocks
    }

    /// True when the file ended cleanly (end marker or trailer found).
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The problem that stopped the block walk of an incomplete or damaged file, if any;
    /// the blocks before it are readable.
    pub fn tail_error(&self) -> Option<&ArchiveError> {
        self.tail_error.as_ref()
    }

    /// True when the file must be read as a stream ([`StreamReader`], as `input::Scanner` does):
    /// it holds block references (a stream saved from a pipe between flowkit tools, e.g. a
    /// spool of stdin), or a flow-tools stream written after the archive (`cat a.fk b.ft`).
    pub fn read_as_stream(&self) -> bool {
        self.stream_only
    }

    /// Total flows in the blocks found.
    pub fn flow_count(&self) -> u64 {
        self.blocks.iter().map(|b| b.flows as u64).sum()
    }

    /// Tells the kernel this process is done with blocks `first..=last` for now, so their pages
    /// leave this process's resident set (they stay in the page cache and are mapped again if
    /// touched). Keeps a scan's memory bounded whatever the archive's size.
    pub fn release(&self, first: usize, last: usize) {
        #[cfg(unix)]
        if let FileBytes::Mapped(m) = &self.bytes {
            let m = m.mmap();
            let start = self.blocks[first].offset as usize;
            let e = self.blocks[last];
            let end = (e.offset + e.len) as usize;
            // SAFETY: the map is read-only and shared, never written through, so dropping its
            // page-table entries loses nothing: a later access maps the file's pages again.
            let _ = unsafe {
                m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }

    /// The checked address Bloom filter of block `i`, when it has one (see `archive::bloom`).
    pub fn block_bloom(&self, i: usize) -> Result<Option<AddrBloom<'_>>, ArchiveError> {
        let e = self.blocks[i];
        block_bloom(&self.name, self.block_bytes(i), e.offset)
    }

    /// The stored bytes of block `i` (unchecked: check them with [`ArchiveFile::block`] first).
    pub fn block_bytes(&self, i: usize) -> &[u8] {
        let e = self.blocks[i];
        &self.bytes[e.offset as usize..(e.offset + e.len) as usize]
    }

    /// True when [`ArchiveFile::read_block_into`] copies blocks with positioned reads of the
    /// file (a mapped file on a Unix system) rather than out of memory already held.
    pub fn reads_blocks_from_disk(&self) -> bool {
        cfg!(unix) && self.file.is_some()
    }

    /// Copies block `i`'s stored bytes into `buf` (unchecked: view them with
    /// [`ArchiveFile::view_copied`]). A scan that needs (nearly) every byte of its blocks does
    /// less work this way than through the map: the kernel copies from its page cache through its
    /// own large-page mapping, where touching a map costs a page fault per 64 KiB, a TLB miss per
    /// 4 KiB and the unmapping afterwards (docs/performance.md: about half the CPU time for a full
    /// read). A file that shrank is reported as truncated where it now ends.
    pub fn read_block_into(&self, i: usize, buf: &mut AlignedBuf) -> Result<(), ArchiveError> {
        let e = self.blocks[i];
        #[cfg(unix)]
        if let Some(file) = &self.file {
            use std::os::unix::fs::FileExt;
            let dst = buf.resize(e.len as usize);
            let mut got = 0;
            while got < dst.len() {
                match file.read_at(&mut dst[got..], e.offset + got as u64) {
                    Ok(0) => {
                        let at = e.offset + got as u64;
                        return Err(ArchiveError::truncated(
                            &self.name,
                            at,
                            format!(
                                "the file shrank while it was being read; nothing from byte {at} \
                                 on is trusted"
                            ),
                        ));
                    }
                    Ok(n) => got += n,
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(err) => return Err(ArchiveError::io(&self.name, err)),
                }
            }
            return Ok(());
        }
        buf.resize(e.len as usize)
            .copy_from_slice(self.block_bytes(i));
        Ok(())
    }

    /// Checks the copy of block `i` held in `bytes` (see [`ArchiveFile::read_block_into`]) as
    /// [`ArchiveFile::block_columns`] checks the stored block, and views the columns in `wanted`.
    /// Narrow columns are widened into `scratch`.
    pub fn view_copied<'b>(
        &self,
        i: usize,
        bytes: &'b [u8],
        wanted: ColumnSet,
        scratch: &'b ColumnScratch,
    ) -> Result<FlowBlock<'b>, ArchiveError> {
        let e = self.blocks[i];
        self.as_indexed(
            i,
            view_block_columns(&self.name, bytes, e.offset, wanted, scratch)?,
        )
    }

    /// The checked view of block `i`, once its header agrees with the block index.
    fn as_indexed<'b>(
        &self,
        i: usize,
        (view, info): (FlowBlock<'b>, BlockInfo),
    ) -> Result<FlowBlock<'b>, ArchiveError> {
        self.agrees_with_index(i, &info).map(|()| view)
    }

    /// An error unless block `i`'s header summary `info` agrees with the block index.
    fn agrees_with_index(&self, i: usize, info: &BlockInfo) -> Result<(), ArchiveError> {
        let e = self.blocks[i];
        match e.agrees_with(info) {
            true => Ok(()),
            false => Err(ArchiveError::corrupt(
                &self.name,
                e.offset,
                "block header disagrees with the block index",
            )),
        }
    }

    /// Block `i`'s stored bytes in the file (mapped or read) and the file offset where they end.
    fn stored_block(&self, i: usize) -> (&[u8], usize) {
        let e = self.blocks[i];
        let (start, end) = (e.offset as usize, (e.offset + e.len) as usize);
        (&self.bytes[start..end], end)
    }

    /// Checks block `i` and returns its view (zero-copy but for narrow columns, which are
    /// widened into memory the file keeps while it is open: for reading a few blocks; scans use
    /// [`ArchiveFile::block_columns_with`]).
    pub fn block(&self, i: usize) -> Result<FlowBlock<'_>, ArchiveError> {
        self.block_columns(i, ColumnSet::ALL)
    }

    /// Checks block `i`'s header and the columns in `wanted`, and returns a view of those
    /// (a partial block unless `wanted` is all columns); narrow columns are widened as in
    /// [`ArchiveFile::block`].
    pub fn block_columns(
        &self,
        i: usize,
        wanted: ColumnSet,
    ) -> Result<FlowBlock<'_>, ArchiveError> {
        self.block_columns_with(i, wanted, &self.scratch)
    }

    /// Checks every column of block `i` (as [`ArchiveFile::block`] does) and appends the flows
    /// of `rows` to `out`, widening narrow columns for those rows only; from `copied`, the
    /// block's copy (see [`ArchiveFile::read_block_into`]), or else from the map. On an error
    /// nothing is appended.
    pub fn gather_rows(
        &self,
        i: usize,
        copied: Option<&[u8]>,
        rows: &[u32],
        out: &mut FlowBlockBuf,
    ) -> Result<(), ArchiveError> {
        let offset = self.blocks[i].offset;
        let agrees = |info: &BlockInfo| self.agrees_with_index(i, info);
        if let Some(bytes) = copied {
            return gather_block_rows(&self.name, bytes, offset, rows, out, agrees).map(|_| ());
        }
        let (bytes, end) = self.stored_block(i);
        let had = out.len();
        let r = gather_block_rows(&self.name, bytes, offset, rows, out, agrees);
        if let Err(shrunk) = self.shrink_before(end) {
            out.truncate(had); // what was read may hold zeros from vanished pages
            return Err(shrunk);
        }
        r.map(|_| ())
    }

    /// An error when a page of the map before byte `end` faulted (the file shrank under it): a
    /// read of those pages saw zeros, and the shrink is what to report.
    fn shrink_before(&self, end: usize) -> Result<(), ArchiveError> {
        if let FileBytes::Mapped(m) = &self.bytes {
            if m.faulted() {
                if let Err(s) = m
                    .check()
                    .map(|_| ())
                    .or_else(|s| match s.offset < end as u64 {
                        true => Err(s),
                        false => Ok(()),
                    })
                {
                    return Err(ArchiveError::truncated(&self.name, s.offset, s.to_string()));
                }
            }
        }
        Ok(())
    }

    /// [`ArchiveFile::block_columns`], widening narrow columns into `scratch`.
    pub fn block_columns_with<'b>(
        &'b self,
        i: usize,
        wanted: ColumnSet,
        scratch: &'b ColumnScratch,
    ) -> Result<FlowBlock<'b>, ArchiveError> {
        let (bytes, end) = self.stored_block(i);
        let checked = view_block_columns(&self.name, bytes, self.blocks[i].offset, wanted, scratch);
        // A page that faulted (the file shrank) reads as zeros: report that, not what the zeros
        // look like, and never hand out a view of them.
        self.shrink_before(end)?;
        self.as_indexed(i, checked?)
    }
}

/// What a stream holds next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamItem {
    /// A block, now in the caller's buffer; it started at this stream offset.
    Block(u64),
    /// A reference to a block of an archive file on this host (see `archive::reference`).
    Ref(BlockRef),
}

/// True when the archive file at `path` holds at least one complete block after a valid header
/// (reads only the header and the first block header): an unfinished file without one holds no
/// flows and can be removed.
pub fn has_complete_block(path: &Path) -> bool {
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut head = vec![0u8; 64 << 10];
    let got = read_full(&mut f, &mut head).unwrap_or(0);
    head.truncate(got);
    let Ok(h) = parse_header("", &head) else {
        return false;
    };
    match head
        .get(h.header_len..)
        .map(|b| parse_block_head("", b, h.header_len as u64))
    {
        Some(Ok(BlockHead::Data(info))) => len >= h.header_len as u64 + info.total_len(),
        _ => false,
    }
}

/// Reads a flowkit stream (or file) sequentially from any reader, one block at a time.
pub struct StreamReader<R: Read> {
    name: String,
    r: R,
    header: ArchiveHeader,
    offset: u64,
    done: bool,
    /// After the end marker: the first bytes of the next member and their offset (see
    /// `archive::members`), when another member follows.
    next: Option<(Vec<u8>, u64)>,
}

impl<R: Read> StreamReader<R> {
    /// Reads and checks the stream header. `prefix` holds bytes already read from `r`
    /// (e.g. to sniff the format); they are treated as the stream's first bytes.
    pub fn new(name: &str, prefix: &[u8], r: R) -> Result<Self, ArchiveError> {
        StreamReader::new_at(name, prefix, r, 0)
    }

    /// Like [`StreamReader::new`] for a stream member that starts at byte `base` of the data
    /// (offsets in messages count from the start of the data).
    pub fn new_at(name: &str, prefix: &[u8], mut r: R, base: u64) -> Result<Self, ArchiveError> {
        let mut head = prefix.to_vec();
        fill_to(&mut r, &mut head, HEADER_FIXED_LEN, name)?;
        if head.len() < HEADER_FIXED_LEN {
            return Err(parse_header(name, &head).err().unwrap_or_else(|| {
                ArchiveError::truncated(name, head.len() as u64, "stream header")
            }));
        }
        let schema_count = le_u16(&head, 56) as usize;
        let creator_len = le_u16(&head, 58) as usize;
        let want = pad8(HEADER_FIXED_LEN + schema_count * 4 + creator_len) + 8;
        fill_to(&mut r, &mut head, want, name)?;
        let header = parse_header(name, &head)?;
        let extra = head.len() - header.header_len;
        if extra != 0 {
            return Err(ArchiveError::corrupt(
                name,
                header.header_len as u64,
                "internal: over-read the header",
            ));
        }
        Ok(StreamReader {
            name: name.to_string(),
            r,
            offset: base + header.header_len as u64,
            header,
            done: false,
            next: None,
        })
    }

    /// The stream header.
    pub fn header(&self) -> &ArchiveHeader {
        &self.header
    }

    /// Reads the next block into `buf`; returns its offset, or `None` at the end marker.
    /// A stream that stops before its end marker is an error naming the offset.
    pub fn next_block_into(
        &mut self,
        buf: &mut AlignedBuf,
    ) -> Result<Option<StreamItem>, ArchiveError> {
        if self.done {
            return Ok(None);
        }
        let start = self.offset;
        let head = buf.resize(BLOCK_HEADER_LEN);
        let got = read_full(&mut self.r, head).map_err(|e| ArchiveError::io(&self.name, e))?;
        if got < BLOCK_HEADER_LEN {
            return Err(ArchiveError::truncated(
                &self.name,
                start + got as u64,
                "stream ends without its end marker",
            ));
        }
        if &buf.as_bytes()[..4] == REF_MAGIC {
            let total = ref_len(&self.name, buf.as_bytes(), start)?;
            let mut record = buf.as_bytes().to_vec();
            record.resize(total, 0);
            let got = read_full(&mut self.r, &mut record[BLOCK_HEADER_LEN..])
                .map_err(|e| ArchiveError::io(&self.name, e))?;
            if got < total - BLOCK_HEADER_LEN {
                return Err(ArchiveError::truncated(
                    &self.name,
                    start + (BLOCK_HEADER_LEN + got) as u64,
                    format!("block reference at byte {start} is incomplete"),
                ));
            }
            self.offset += total as u64;
            return parse_ref(&self.name, &record, start).map(|r| Some(StreamItem::Ref(r)));
        }
        let info = match parse_block_head(&self.name, buf.as_bytes(), start)? {
            BlockHead::End => {
                self.done = true;
                let after = start + BLOCK_HEADER_LEN as u64;
                let (head, at) =
                    super::members::after_end_in_stream(&self.name, &mut self.r, after)?;
                self.next = (!head.is_empty()).then_some((head, at));
                return Ok(None);
            }
            BlockHead::Data(info) => info,
        };
        let total = info.total_len() as usize;
        // The buffer grows with the bytes that actually arrive (doubling, from 1 MiB), so a
        // damaged header announcing a huge block costs no more memory than the stream holds.
        let mut have = BLOCK_HEADER_LEN;
        while have < total {
            let want = (2 * have).max(1 << 20).min(total);
            let all = buf.resize(want); // keeps the bytes already read
            let got = read_full(&mut self.r, &mut all[have..])
                .map_err(|e| ArchiveError::io(&self.name, e))?;
            have += got;
            if have < want {
                return Err(ArchiveError::truncated(
                    &self.name,
                    start + have as u64,
                    format!("block at byte {start} is incomplete"),
                ));
            }
        }
        self.offset += total as u64;
        Ok(Some(StreamItem::Block(start)))
    }

    /// The stream's name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// After the end marker, when more data follows (another archive or stream written after
    /// this one): its first bytes, their offset and the reader, to read it on with
    /// [`StreamReader::new_at`] (or another format's reader).
    pub fn into_next(self) -> Option<(Vec<u8>, u64, R)> {
        let (head, at) = self.next?;
        Some((head, at, self.r))
    }
}

fn fill_to(
    r: &mut impl Read,
    v: &mut Vec<u8>,
    want: usize,
    name: &str,
) -> Result<(), ArchiveError> {
    if v.len() >= want {
        return Ok(());
    }
    let have = v.len();
    v.resize(want, 0);
    let got = read_full(r, &mut v[have..]).map_err(|e| ArchiveError::io(name, e))?;
    v.truncate(have + got);
    Ok(())
}

/// Reads until `buf` is full or the reader ends; returns the bytes read.
pub fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
