//! Reading nfdump files (what nfcapd writes: `nfcapd.YYYYMMDDhhmm`), so sites that kept years
//! of nfdump data can read it with every flowkit tool.
//!
//! Supported: file layout version 2 (nfdump 1.7.x), data blocks of V3 records, uncompressed or
//! compressed with LZO, bzip2, LZ4 or ZSTD. Exporter records give each flow's exporter address
//! and sampler records its sampling interval. Layout version 1 (nfdump 1.6) is recognised and
//! refused with a clear error. The mapping of fields, and what is not kept, is in docs/nfdump.md.
//!
//! The layout is nfdump's own (`nffileV2.h`, `nfxV3.h`, `nffile.c` in nfdump's sources); this is
//! an independent reading of it. Files are little-endian (nfdump writes host order and the
//! magic 0xA50C tells the byte order; big-endian files are refused).

pub mod codec;
pub mod header;
pub mod v3;

use crate::archive::ArchiveError;
use crate::model::block::FlowBlockBuf;
use crate::model::record::FlowRecord;
use codec::Compression;
use header::{
    BlockHeader, FileHeader, BLOCK_HEADER_LEN, BLOCK_TYPE_2, BLOCK_TYPE_3, FLAG_BLOCK_UNCOMPRESSED,
    HEADER_V2_LEN, LAYOUT_VERSION_1, LAYOUT_VERSION_2, MAGIC, MAX_BLOCK,
};
use std::io::Read;
use v3::Exporters;

/// True when `prefix` (the first bytes of an input, possibly fewer than 4) may start an nfdump
/// file: the magic, then layout version 1 or 2.
pub fn sniff(prefix: &[u8]) -> bool {
    let full = [MAGIC[0], MAGIC[1]];
    match prefix.len() {
        0 => false,
        1 | 2 => full.starts_with(prefix),
        3 => prefix[..2] == full && matches!(prefix[2], 1 | 2),
        _ => prefix[..2] == full && matches!(prefix[2..4], [1, 0] | [2, 0]),
    }
}

/// Reads the flows of an nfdump file or stream, a block of flows at a time.
pub struct NfdumpReader<R: Read> {
    name: String,
    header: FileHeader,
    codec: Compression,
    r: R,
    /// Bytes of the input consumed so far (the file offset of the next read).
    pos: u64,
    exporters: Exporters,
    /// Raw payload of the block being read, and its decompressed records.
    raw: Vec<u8>,
    data: Vec<u8>,
    /// Where the current block's header starts in the file.
    block_at: u64,
    /// Records of the current block still to read, and where the next one starts in `data`.
    left: u32,
    cursor: usize,
    blocks_read: u32,
    /// The truncation that ends a cut uncompressed block, reported after its whole records.
    pending: Option<ArchiveError>,
    done: bool,
}

impl<R: Read> NfdumpReader<R> {
    /// Reads the file header (after `prefix`, bytes already taken from `r`).
    pub fn new(name: &str, prefix: &[u8], mut r: R) -> Result<Self, ArchiveError> {
        let mut head = [0u8; HEADER_V2_LEN];
        let have = prefix.len().min(HEADER_V2_LEN);
        head[..have].copy_from_slice(&prefix[..have]);
        let got = crate::model::io::read_full(&mut r, &mut head[have..])
            .map_err(|e| ArchiveError::io(name, e))?;
        let len = have + got;
        if len >= 2 && head[..2] == [MAGIC[1], MAGIC[0]] {
            return Err(ArchiveError::Unsupported {
                path: name.to_string(),
                what: "big-endian nfdump file (magic a50c) is not supported".to_string(),
            });
        }
        if len >= 2 && head[..2] != MAGIC {
            return Err(ArchiveError::corrupt(
                name,
                0,
                format!(
                    "not an nfdump file: magic {:02x}{:02x} (0ca5 expected)",
                    head[0], head[1]
                ),
            ));
        }
        if len >= 4 && header::u16_at(&head, 2) == LAYOUT_VERSION_1 {
            return Err(ArchiveError::Unsupported {
                path: name.to_string(),
                what: "nfdump 1.6 file (layout version 1) is not supported; nfdump 1.7 files \
                       (layout version 2) are: convert with nfdump 1.7's `nfdump -r FILE -w NEW`"
                    .to_string(),
            });
        }
        if len < HEADER_V2_LEN {
            return Err(ArchiveError::truncated(
                name,
                len as u64,
                format!("nfdump file header is {HEADER_V2_LEN} bytes, the file has {len}"),
            ));
        }
        let header = FileHeader::parse_v2(&head);
        if header.version != LAYOUT_VERSION_2 {
            return Err(ArchiveError::Unsupported {
                path: name.to_string(),
                what: format!(
                    "nfdump layout version {} is not supported (2 is)",
                    header.version
                ),
            });
        }
        if header.encryption != 0 {
            return Err(ArchiveError::Unsupported {
                path: name.to_string(),
                what: format!("encrypted nfdump file (encryption {})", header.encryption),
            });
        }
        let codec = header.codec().ok_or_else(|| {
            ArchiveError::corrupt(
                name,
                16,
                format!(
                    "unknown nfdump compression {} (0 none, 1 LZO, 2 bzip2, 3 LZ4, 4 ZSTD are known)",
                    header.compression
                ),
            )
        })?;
        Ok(NfdumpReader {
            name: name.to_string(),
            header,
            codec,
            r,
            pos: HEADER_V2_LEN as u64,
            exporters: Exporters::default(),
            raw: Vec::new(),
            data: Vec::new(),
            block_at: 0,
            left: 0,
            cursor: 0,
            blocks_read: 0,
            pending: None,
            done: false,
        })
    }

    /// The file's header.
    pub fn header(&self) -> &FileHeader {
        &self.header
    }

    /// Appends up to `max` flows to `out` (cleared first); returns how many. 0 means the end.
    /// Damage (a truncated or malformed block, an unknown block type, a bad record) is an error
    /// naming the byte offset; the flows before it have been appended. Reading stops there.
    pub fn next_block(
        &mut self,
        out: &mut FlowBlockBuf,
        max: usize,
    ) -> Result<usize, ArchiveError> {
        out.clear();
        let max = max.max(1);
        let mut n = 0;
        let mut rec = FlowRecord::default();
        while n < max && !self.done {
            if self.left == 0 {
                if let Some(e) = self.pending.take() {
                    self.done = true;
                    return Err(e);
                }
                let res = self.load_block();
                if let Err(e) = res {
                    self.done = true;
                    return Err(e);
                }
                continue;
            }
            match self.next_record(&mut rec) {
                Ok(true) => {
                    out.push(&rec);
                    n += 1;
                }
                Ok(false) => {}
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        }
        Ok(n)
    }

    /// Reads `buf.len()` bytes; `Ok(false)` at a clean end (nothing read).
    fn read_exact_or_end(&mut self, buf: &mut [u8], what: &str) -> Result<bool, ArchiveError> {
        let got = crate::model::io::read_full(&mut self.r, buf)
            .map_err(|e| ArchiveError::io(&self.name, e))?;
        let at = self.pos;
        self.pos += got as u64;
        match got {
            0 => Ok(false),
            g if g == buf.len() => Ok(true),
            g => Err(ArchiveError::truncated(
                &self.name,
                at + g as u64,
                format!("{what} of {} bytes ends after {g}", buf.len()),
            )),
        }
    }

    /// Reads the next data block into `data`, or marks the end.
    fn load_block(&mut self) -> Result<(), ArchiveError> {
        let off_appendix = self.header.off_appendix;
        if off_appendix != 0 && self.pos >= off_appendix {
            // The appendix (ident and statistics records) holds no flows.
            self.done = true;
            return self.check_count();
        }
        let at = self.pos;
        let mut bh = [0u8; BLOCK_HEADER_LEN];
        if !self.read_exact_or_end(&mut bh, "block header")? {
            self.done = true;
            if off_appendix != 0 {
                return Err(ArchiveError::truncated(
                    &self.name,
                    at,
                    format!(
                        "data ends before the appendix the header places at byte {off_appendix}"
                    ),
                ));
            }
            return self.check_count();
        }
        let b = BlockHeader::parse(&bh);
        if b.size == 0 || b.size as usize > MAX_BLOCK - BLOCK_HEADER_LEN {
            return Err(ArchiveError::corrupt(
                &self.name,
                at,
                format!(
                    "bad block header: payload size {} (1 to {} bytes expected)",
                    b.size,
                    MAX_BLOCK - BLOCK_HEADER_LEN
                ),
            ));
        }
        let mut raw = std::mem::take(&mut self.raw);
        raw.resize(b.size as usize, 0);
        let got = crate::model::io::read_full(&mut self.r, &mut raw)
            .map_err(|e| ArchiveError::io(&self.name, e))?;
        self.pos += got as u64;
        raw.truncate(got);
        self.raw = raw;
        if got < b.size as usize {
            let err = ArchiveError::truncated(
                &self.name,
                self.pos,
                format!("block payload of {} bytes ends after {got}", b.size),
            );
            let plain = self.codec == Compression::None || b.flags & FLAG_BLOCK_UNCOMPRESSED != 0;
            if !(plain && b.block_type == BLOCK_TYPE_3 && got > 0) {
                return Err(err);
            }
            // An uncompressed block cut short still holds whole records before the cut.
            self.data.clear();
            self.data.extend_from_slice(&self.raw);
            self.block_at = at;
            self.left = b.num_records;
            self.cursor = 0;
            self.pending = Some(err);
            return Ok(());
        }
        self.blocks_read += 1;
        match b.block_type {
            BLOCK_TYPE_3 => {}
            BLOCK_TYPE_2 => {
                return Err(ArchiveError::Unsupported {
                    path: self.name.clone(),
                    what: format!(
                        "block at byte {at} holds nfdump 1.6 records (block type 2), which are not supported"
                    ),
                })
            }
            t => {
                return Err(ArchiveError::corrupt(
                    &self.name,
                    at,
                    format!("bad block header: unknown block type {t} (3 expected)"),
                ))
            }
        }
        let codec = if b.flags & FLAG_BLOCK_UNCOMPRESSED != 0 {
            Compression::None
        } else {
            self.codec
        };
        codec::decompress(codec, &self.raw, MAX_BLOCK, &mut self.data).map_err(|e| {
            ArchiveError::corrupt(
                &self.name,
                at,
                format!(
                    "block of {} bytes ({} compressed): {e}",
                    b.size,
                    codec.name()
                ),
            )
        })?;
        self.block_at = at;
        self.left = b.num_records;
        self.cursor = 0;
        Ok(())
    }

    /// At the end of the data: the number of blocks must be what the header says.
    fn check_count(&self) -> Result<(), ArchiveError> {
        let want = self.header.num_blocks;
        if want != 0 && self.blocks_read != want {
            return Err(ArchiveError::truncated(
                &self.name,
                self.pos,
                format!(
                    "data ends after {} blocks; the header says {want}",
                    self.blocks_read
                ),
            ));
        }
        Ok(())
    }

    /// Where record data at `cursor` is, for messages.
    fn record_at(&self) -> (u64, String) {
        let inside = match self.codec {
            Compression::None => String::new(),
            c => format!(" (byte {} of the {} block's data)", self.cursor, c.name()),
        };
        match self.codec {
            Compression::None => (
                self.block_at + (BLOCK_HEADER_LEN + self.cursor) as u64,
                inside,
            ),
            _ => (self.block_at, inside),
        }
    }

    /// Decodes the next record of the block; `Ok(true)` when it was a flow (in `rec`).
    fn next_record(&mut self, rec: &mut FlowRecord) -> Result<bool, ArchiveError> {
        self.left -= 1;
        let d = &self.data[self.cursor..];
        let bad = |s: &Self, what: String| {
            let (off, inside) = s.record_at();
            ArchiveError::corrupt(&s.name, off, format!("{what}{inside}"))
        };
        let short = d.len() < 4 || (header::u16_at(d, 2) as usize) > d.len();
        if short && self.pending.is_some() {
            self.left = 0;
            return Ok(false); // the cut: next_block reports it
        }
        if d.len() < 4 {
            let what = format!(
                "block ends {} records short of the {} it announces",
                self.left + 1,
                "count"
            );
            return Err(bad(self, what));
        }
        let ty = header::u16_at(d, 0);
        let size = header::u16_at(d, 2) as usize;
        if size < 4 || size > d.len() {
            let what = format!(
                "record of type {ty} has size {size}, but {} bytes are left in the block",
                d.len()
            );
            return Err(bad(self, what));
        }
        let body = &d[..size];
        let result = match ty {
            v3::V3_RECORD => v3::decode_v3(body, &self.exporters, rec).map(|()| true),
            v3::EXPORTER_INFO => self.exporters.add_exporter(body).map(|()| false),
            v3::SAMPLER => self.exporters.add_sampler(body).map(|()| false),
            v3::SAMPLER_LEGACY => self.exporters.add_legacy_sampler(body).map(|()| false),
            // nfdump 1.6 flow records (common records, legacy records) are flows we cannot read
            // here: refuse rather than drop them silently.
            1 | 5 | 6 | 10 => Err(format!(
                "nfdump 1.6 flow record (type {ty}) is not supported"
            )),
            // Exporter statistics, NBAR/interface/VRF names and anything newer hold no flows.
            _ => Ok(false),
        };
        match result {
            Ok(flow) => {
                self.cursor += size;
                Ok(flow)
            }
            Err(e) => Err(bad(self, e)),
        }
    }
}

#[cfg(test)]
mod tests;
