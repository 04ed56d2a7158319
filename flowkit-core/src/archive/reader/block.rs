//! One block's columns, checked (lengths against the bytes present, checksums) and viewed in
//! place, widened from narrow encodings, or gathered row by row; and its address Bloom filter.

use crate::archive::bloom::{AddrBloom, FrameBlooms, BLOOM_ENCODING, BLOOM_ID, FRAME_BLOOM_ID};
use crate::archive::format::*;
use crate::archive::narrow::{ColumnScratch, NarrowColumn, NarrowValue, WidenKey};
use crate::archive::ArchiveError;
use crate::model::block::{
    AddrBuf, AddrColumn, ColumnId, ColumnSet, FlowBlock, FlowBlockBuf, COLUMN_ID_LIMIT,
};

use super::*;

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

/// Checks the block held in `b` as stored, inflating nothing: its header, every column's span,
/// encoding and checksum (a compressed column's header too) and its Bloom filters (the block's,
/// and its frames'). What a tool
/// copying whole blocks on unchanged needs: the bytes are those the writer wrote, and the
/// reader that views them checks their values. Returns the block's header summary.
pub fn check_stored_block(
    name: &str,
    b: &[u8],
    file_offset: u64,
) -> Result<BlockInfo, ArchiveError> {
    let info = checked_head(name, b, file_offset)?;
    let cols = checked_columns(name, b, file_offset, &info, ColumnSet::ALL, None)?;
    check_shapes(name, file_offset, &cols, info.flows as usize)?;
    block_bloom(name, b, file_offset)?;
    block_frame_blooms(name, b, file_offset)?;
    Ok(info)
}

/// Checks that every flow column of a block of `n` flows is there (those added to the schema
/// later read as zero when absent) and has the length its encoding gives for `n` flows, as a
/// view of the block would find: a block copied on unchanged must be one its reader accepts.
/// Compressed columns' headers were checked by [`checked_columns`], which bounds what they inflate to.
fn check_shapes(
    name: &str,
    file_offset: u64,
    cols: &[Option<StoredColumn<'_>>; COLUMN_ID_LIMIT],
    n: usize,
) -> Result<(), ArchiveError> {
    for id in ColumnSet::ALL.iter() {
        let why = match cols[id as usize] {
            None => Some("is missing"),
            Some(c) => {
                let fits = match c.enc {
                    Encoding::Packed => true,
                    Encoding::Zero => c.data.is_empty(),
                    enc => crate::archive::packed::inner_layout(enc, c.width, id.width(), n)
                        .is_some_and(|(_, _, len)| len == c.data.len()),
                };
                (!fits).then_some("has the wrong size or encoding")
            }
        };
        if let Some(why) = why {
            return Err(ArchiveError::corrupt(
                name,
                file_offset,
                format!("column {} {why}", id.name()),
            ));
        }
    }
    Ok(())
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
    let cols = checked_columns(name, b, file_offset, &info, wanted, Some(scratch))?;
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
/// its rows; compressed ones are inflated into `scratch` when given (where a view of the block
/// may have inflated some already). On an error nothing is appended.
pub fn gather_block_rows(
    name: &str,
    b: &[u8],
    file_offset: u64,
    rows: &[u32],
    out: &mut FlowBlockBuf,
    check: impl FnOnce(&BlockInfo) -> Result<(), ArchiveError>,
    scratch: Option<&ColumnScratch>,
) -> Result<BlockInfo, ArchiveError> {
    let all = RowsWanted {
        rows,
        columns: ColumnSet::ALL,
    };
    gather_block_columns(name, b, file_offset, all, out, check, scratch)
}

/// Which rows of a block to read, and which of their columns.
#[derive(Clone, Copy, Debug)]
pub struct RowsWanted<'r> {
    /// The rows, each below the block's length.
    pub rows: &'r [u32],
    /// Their columns to read.
    pub columns: ColumnSet,
}

/// [`gather_block_rows`] of the columns `want` names only: the others are neither checked nor
/// read, and left as they are in `out` (to be viewed as a partial block,
/// `FlowBlockBuf::view_columns`). A filter reading a few rows of a block reads only its own
/// columns of them.
pub fn gather_block_columns(
    name: &str,
    b: &[u8],
    file_offset: u64,
    want: RowsWanted<'_>,
    out: &mut FlowBlockBuf,
    check: impl FnOnce(&BlockInfo) -> Result<(), ArchiveError>,
    scratch: Option<&ColumnScratch>,
) -> Result<BlockInfo, ArchiveError> {
    let rows = want.rows;
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
    // Compressed columns are inflated whole into `scratch` (the scan's for this block, which
    // may hold those a filter already inflated) or this thread's gathering scratch (its memory
    // reused call after call); narrow ones are read row by row below, never widened.
    if let Some(scratch) = scratch {
        return gather_with(name, b, file_offset, want, out, info, scratch);
    }
    GATHER_SCRATCH.with(|s| {
        let mut scratch = s.take();
        scratch.clear();
        let r = gather_with(name, b, file_offset, want, out, info, &scratch);
        s.set(scratch);
        r
    })
}

thread_local! {
    /// Where [`gather_block_rows`] inflates compressed columns.
    static GATHER_SCRATCH: std::cell::Cell<ColumnScratch> = std::cell::Cell::new(ColumnScratch::new());
}

/// [`gather_block_rows`] once the header is checked. Compressed columns already inflated in
/// `scratch` are read there; the others are inflated into this thread's [`ROW_FRAMES`], of a
/// column stored in frames only the frames holding `rows`.
fn gather_with(
    name: &str,
    b: &[u8],
    file_offset: u64,
    want: RowsWanted<'_>,
    out: &mut FlowBlockBuf,
    info: BlockInfo,
    scratch: &ColumnScratch,
) -> Result<BlockInfo, ArchiveError> {
    let (rows, columns) = (want.rows, want.columns);
    let n = info.flows as usize;
    let cols = checked_columns_with(
        name,
        b,
        file_offset,
        &info,
        columns,
        Inflate::Cached(scratch),
    )?;
    ROW_FRAMES.with(|s| {
        let mut frames = s.take();
        frames.clear();
        let r = (|| {
            let mut cols = cols;
            for &id in ColumnId::ALL {
                let slot = &mut cols[id as usize];
                let Some(c) = slot.filter(|c| c.enc == Encoding::Packed) else {
                    continue;
                };
                // The stored bytes lie in `b`: where, for the message.
                let at = file_offset + (c.data.as_ptr() as usize - b.as_ptr() as usize) as u64;
                *slot = Some(
                    inflate(id, c, n, Some(rows), &frames)
                        .map_err(|why| ArchiveError::corrupt(name, at, why))?,
                );
            }
            let ctx = ColumnCtx {
                name,
                offset: file_offset,
                n,
                cols: &cols,
                wanted: columns,
                scratch: &frames,
            };
            // Every column's source is checked first, so an error leaves `out` as it was.
            let sources = row_sources(&ctx)?;
            gather_rows(&sources, rows, out);
            Ok(info)
        })();
        s.set(frames);
        r
    })
}

thread_local! {
    /// Where [`gather_with`] inflates the frames of compressed columns that hold the rows it
    /// gathers (cleared each time: only those frames are filled).
    static ROW_FRAMES: std::cell::Cell<ColumnScratch> = std::cell::Cell::new(ColumnScratch::new());
}

/// Where a column's values are, once checked: stored plainly, narrow, or all zero.
enum RowSource<'a, T> {
    Plain(&'a [T]),
    Narrow(NarrowColumn<'a>),
    Zero,
    /// A column not asked for: nothing gathered.
    Skip,
}

impl<T: NarrowValue> RowSource<'_, T> {
    fn gather_into(&self, rows: &[u32], out: &mut Vec<T>) {
        match self {
            RowSource::Plain(v) => out.extend(rows.iter().map(|&i| v[i as usize])),
            RowSource::Narrow(c) => c.gather_into(rows, out),
            RowSource::Zero => out.resize(out.len() + rows.len(), T::from_bits(0)),
            RowSource::Skip => {}
        }
    }
}

/// Where an address column's values are, once checked.
enum AddrSource<'a> {
    Stored(AddrColumn<'a>),
    Narrow(NarrowColumn<'a>),
    /// A column not asked for: nothing gathered.
    Skip,
}

impl<'a> ColumnCtx<'_, 'a> {
    fn row_source<T: NarrowValue>(&self, id: ColumnId) -> Result<RowSource<'a, T>, ArchiveError> {
        if !self.wanted.contains(id) {
            return Ok(RowSource::Skip);
        }
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
        if !self.wanted.contains(id) {
            return Ok(AddrSource::Skip);
        }
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
            AddrSource::Skip => {}
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
/// checksums) of the block held in `b`, whose header is `info`. Compressed columns among them are
/// inflated into `scratch` (after their stored bytes passed their checksum) and returned as
/// their inner form.
fn checked_columns<'a>(
    name: &str,
    b: &'a [u8],
    file_offset: u64,
    info: &BlockInfo,
    wanted: ColumnSet,
    scratch: Option<&'a ColumnScratch>,
) -> Result<[Option<StoredColumn<'a>>; COLUMN_ID_LIMIT], ArchiveError> {
    let how = scratch.map_or(Inflate::No, Inflate::All);
    checked_columns_with(name, b, file_offset, info, wanted, how)
}

/// What [`checked_columns_with`] does with compressed columns (after their checksum held).
#[derive(Clone, Copy)]
enum Inflate<'a> {
    /// Checks their header, inflates nothing.
    No,
    /// Inflates them into the scratch (unless there already).
    All(&'a ColumnScratch),
    /// Returns those the scratch holds inflated already as their inner form, and the others
    /// as stored (header checked), for the caller to inflate what it needs of them.
    Cached(&'a ColumnScratch),
}

/// [`checked_columns`], with compressed columns handled as `how` says.
fn checked_columns_with<'a>(
    name: &str,
    b: &'a [u8],
    file_offset: u64,
    info: &BlockInfo,
    wanted: ColumnSet,
    how: Inflate<'a>,
) -> Result<[Option<StoredColumn<'a>>; COLUMN_ID_LIMIT], ArchiveError> {
    let total = info.total_len() as usize;
    let dir_end = BLOCK_HEADER_LEN + info.columns as usize * COLUMN_ENTRY_LEN;
    let payload = &b[dir_end..total];
    let payload_offset = file_offset + dir_end as u64;
    let mut cols: [Option<StoredColumn<'a>>; COLUMN_ID_LIMIT] = [None; COLUMN_ID_LIMIT];
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
        let stored = StoredColumn {
            enc,
            width: b[e + 3],
            checksum: sum,
            data,
        };
        let stored = match (enc, how) {
            (Encoding::Packed, Inflate::All(scratch)) => {
                inflate(column, stored, info.flows as usize, None, scratch)
                    .map_err(|why| ArchiveError::corrupt(name, payload_offset + off as u64, why))?
            }
            (Encoding::Packed, Inflate::Cached(scratch)) => {
                already_inflated(column, stored, info.flows as usize, scratch)
                    .map_err(|why| ArchiveError::corrupt(name, payload_offset + off as u64, why))?
            }
            (Encoding::Packed, Inflate::No) => {
                crate::archive::packed::parse_header(data, column.width(), info.flows as usize)
                    .ok_or_else(|| {
                        ArchiveError::corrupt(
                            name,
                            payload_offset + off as u64,
                            format!("compressed column {} has a bad header", column.name()),
                        )
                    })?;
                stored
            }
            _ => stored,
        };
        if let Some(slot) = cols.get_mut(id as usize) {
            *slot = Some(stored);
        }
    }
    // Columns added to the schema after the first one may be absent (blocks written before
    // them): they read as all zero, as a writer that knew them would have stored them.
    for column in wanted.iter().filter(|c| added_later(*c)) {
        let slot = &mut cols[column as usize];
        if slot.is_none() {
            *slot = Some(StoredColumn {
                enc: Encoding::Zero,
                width: 0,
                checksum: 0,
                data: &[],
            });
        }
    }
    Ok(cols)
}

/// The inner form of the compressed column `c` (column `id` of a block of `n` flows, its stored
/// bytes checked against their checksum), inflated into `scratch` (of a column stored in frames,
/// with `rows`, only the frames holding them: see [`packed::inflate_rows`]); why not, when its
/// header does not fit the column or its frame does not inflate to the length the header gives.
///
/// [`packed::inflate_rows`]: crate::archive::packed::inflate_rows
fn inflate<'a>(
    id: ColumnId,
    c: StoredColumn<'_>,
    n: usize,
    rows: Option<&[u32]>,
    scratch: &'a ColumnScratch,
) -> Result<StoredColumn<'a>, String> {
    use crate::archive::packed;
    let tw = id.width();
    let h = packed::parse_header(c.data, tw, n)
        .ok_or_else(|| format!("compressed column {} has a bad header", id.name()))?;
    let key = WidenKey {
        id: id as u16,
        checksum: c.checksum,
        n,
    };
    let data = scratch
        .inflated(key, h.inner_len, |out| {
            packed::inflate_rows(c.data, &h, tw, n, rows, out)
        })
        .map_err(|why| format!("column {}: {why}", id.name()))?;
    Ok(StoredColumn {
        enc: h.inner,
        width: h.width,
        checksum: c.checksum,
        data,
    })
}

/// The compressed column `c` (as [`inflate`] takes it) as its inner form when `scratch` holds it
/// inflated whole already, else as stored; why not, when its header does not fit the column.
fn already_inflated<'a>(
    id: ColumnId,
    c: StoredColumn<'a>,
    n: usize,
    scratch: &'a ColumnScratch,
) -> Result<StoredColumn<'a>, String> {
    use crate::archive::packed;
    let h = packed::parse_header(c.data, id.width(), n)
        .ok_or_else(|| format!("compressed column {} has a bad header", id.name()))?;
    let key = WidenKey {
        id: id as u16,
        checksum: c.checksum,
        n,
    };
    Ok(match scratch.inflated_already(key, h.inner_len) {
        Some(data) => StoredColumn {
            enc: h.inner,
            width: h.width,
            checksum: c.checksum,
            data,
        },
        None => c,
    })
}

/// The checked address Bloom filter of the block held in `b` (see [`super::bloom`]), or `None`
/// when the block has none (written before it existed, or by another writer).
pub fn block_bloom<'a>(
    name: &str,
    b: &'a [u8],
    file_offset: u64,
) -> Result<Option<AddrBloom<'a>>, ArchiveError> {
    let what = "address Bloom filter";
    extra_filter(name, b, file_offset, BLOOM_ID, what, |w, _| {
        AddrBloom::from_words(w)
    })
}

/// The checked address Bloom filters of the frames of the block held in `b` (see
/// [`super::bloom::FrameBlooms`]), or `None` when the block has none (its columns are not stored
/// in frames, or it was written before they existed).
pub fn block_frame_blooms<'a>(
    name: &str,
    b: &'a [u8],
    file_offset: u64,
) -> Result<Option<FrameBlooms<'a>>, ArchiveError> {
    let what = "frames' address Bloom filters";
    extra_filter(
        name,
        b,
        file_offset,
        FRAME_BLOOM_ID,
        what,
        FrameBlooms::from_words,
    )
}

/// The block's directory entry `id` (a Bloom filter, encoding `BLOOM_ENCODING`, called `what`
/// in errors) read by `parse` from its u64 words and the block's flow count, its checksum
/// checked first; `None` when the block has no such entry. A bad checksum, misaligned words or
/// words `parse` refuses are corruption at the entry's bytes.
fn extra_filter<'a, T>(
    name: &str,
    b: &'a [u8],
    file_offset: u64,
    id: u16,
    what: &str,
    parse: impl FnOnce(&'a [u64], usize) -> Option<T>,
) -> Result<Option<T>, ArchiveError> {
    let info = checked_head(name, b, file_offset)?;
    let dir_end = BLOCK_HEADER_LEN + info.columns as usize * COLUMN_ENTRY_LEN;
    let payload = &b[dir_end..info.total_len() as usize];
    for k in 0..info.columns as usize {
        let e = BLOCK_HEADER_LEN + k * COLUMN_ENTRY_LEN;
        if le_u16(b, e) != id || b[e + 2] != BLOOM_ENCODING {
            continue;
        }
        let entry_offset = file_offset + e as u64;
        let (off, len) = entry_span(name, b, e, entry_offset, payload.len())?;
        let at = file_offset + (dir_end + off) as u64;
        let bad = |why: &str| ArchiveError::corrupt(name, at, format!("{why} {what}"));
        if checksum(&payload[off..off + pad8(len)]) != le_u64(b, e + 16) {
            return Err(bad("checksum mismatch in the"));
        }
        let words: &[u64] =
            bytemuck::try_cast_slice(&payload[off..off + len]).map_err(|_| bad("misaligned"))?;
        return parse(words, info.flows as usize)
            .map(Some)
            .ok_or_else(|| bad("malformed"));
    }
    Ok(None)
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
    cols: &'c [Option<StoredColumn<'a>>; COLUMN_ID_LIMIT],
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
