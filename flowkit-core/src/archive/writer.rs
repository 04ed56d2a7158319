//! Writing archives and streams: header, column blocks, end marker, block index and trailer.

use super::format::*;
use crate::model::block::{AddrColumn, ColumnId, FlowBlock, FlowBlockBuf};
use crate::model::record::FlowRecord;
use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Options for a writer.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// Flows per block (the last block may hold fewer).
    pub block_flows: usize,
    /// Free text naming the writing program, stored in the header.
    pub creator: String,
    /// Gather flows with IPv6 addresses into blocks of their own, so IPv4 blocks keep 4-byte
    /// address columns whatever the share of IPv6 (one IPv6 flow would widen a whole block to 16
    /// bytes an address). Flows then keep their order within each family only: right for
    /// archives written by collectors and importers, not for tools that pass a stream on in order.
    pub split_families: bool,
    /// Sync a file to disk before publishing it (renaming it to its final name), so a crash of
    /// the machine never leaves a published file short. A collector wants it; a bulk import or
    /// a copy, which can simply be run again, would pay a disk flush per file for nothing.
    pub durable: bool,
    /// Store counters, times, interface and AS numbers and IPv4 addresses in the narrow
    /// frame-of-reference encoding where a block's range allows (about half the bytes; see
    /// `archive::narrow`). Off only to write files for readers older than that encoding.
    pub narrow: bool,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            block_flows: DEFAULT_BLOCK_FLOWS,
            creator: format!("flowkit {}", env!("CARGO_PKG_VERSION")),
            split_families: false,
            durable: false,
            narrow: true,
        }
    }
}

impl WriterOptions {
    /// Options for a program writing an archive of what it collected or imported: IPv4 and IPv6
    /// flows in separate blocks (see `split_families`).
    pub fn archive(creator: &str) -> Self {
        WriterOptions {
            creator: creator.to_string(),
            split_families: true,
            ..WriterOptions::default()
        }
    }
}

/// True when row `i` of `b` has an IPv6 (not IPv4-mapped) source, destination or next hop.
fn row_is_v6(b: &FlowBlock<'_>, i: usize) -> bool {
    b.src_addr.is_v6(i) || b.dst_addr.is_v6(i) || b.next_hop.is_v6(i)
}

/// Writes flows in the archive format to any byte sink (a file, stdout, a pipe).
///
/// Flows are gathered into blocks of `block_flows`; `finish` writes the last block, the end
/// marker, the block index and the trailer. The header written first carries `FLAG_STREAM`
/// (counts unknown); [`ArchiveFileWriter`] rewrites it with the totals when it can seek.
pub struct ArchiveWriter<W: Write> {
    out: W,
    pos: u64,
    opts: WriterOptions,
    pending: FlowBlockBuf,
    /// With `split_families`: pending flows with IPv6 addresses.
    pending6: FlowBlockBuf,
    index: Vec<IndexEntry>,
    total: u64,
    min_start: i64,
    max_end: i64,
    created_ms: i64,
    /// Block headers and other small encodings.
    scratch: Vec<u8>,
    /// The address Bloom filter of the block being written.
    bloom: Vec<u64>,
    /// The narrow-encoded columns of the block being written.
    packed: Vec<u64>,
}

impl<W: Write> ArchiveWriter<W> {
    /// Starts a stream on `out`, writing its header at once.
    pub fn new(mut out: W, opts: WriterOptions) -> io::Result<Self> {
        let created_ms = now_ms();
        let header = encode_header(
            FLAG_STREAM,
            0,
            i64::MAX,
            i64::MIN,
            created_ms,
            &opts.creator,
        );
        out.write_all(&header)?;
        Ok(ArchiveWriter {
            out,
            pos: header.len() as u64,
            opts,
            pending: FlowBlockBuf::default(),
            pending6: FlowBlockBuf::default(),
            index: Vec::new(),
            total: 0,
            min_start: i64::MAX,
            max_end: i64::MIN,
            created_ms,
            scratch: Vec::new(),
            bloom: Vec::new(),
            packed: Vec::new(),
        })
    }

    /// Appends one flow.
    pub fn push(&mut self, r: &FlowRecord) -> io::Result<()> {
        let v6 = self.opts.split_families
            && [r.src_addr, r.dst_addr, r.next_hop]
                .iter()
                .any(|a| a.is_ipv6());
        let full = {
            let p = if v6 {
                &mut self.pending6
            } else {
                &mut self.pending
            };
            p.push(r);
            p.len() >= self.opts.block_flows
        };
        if full {
            self.flush_one(v6)?;
        }
        Ok(())
    }

    /// Appends the flows of `block` (all, or those whose `selected` entry is true), in order.
    pub fn write_block(
        &mut self,
        block: &FlowBlock<'_>,
        selected: Option<&[bool]>,
    ) -> io::Result<()> {
        let mixed = self.opts.split_families
            && [block.src_addr, block.dst_addr, block.next_hop]
                .iter()
                .any(|c| matches!(c, AddrColumn::V6(_)));
        let Some(selected) = selected else {
            // Every row: a full block of one family goes out as it is; otherwise runs of rows
            // of one family are copied a column slice at a time.
            if !mixed {
                if self.pending.is_empty() && block.len >= self.opts.block_flows {
                    return self.emit(block);
                }
                return self.append_range(block, 0..block.len, false);
            }
            let mut a = 0;
            while a < block.len {
                let v6 = row_is_v6(block, a);
                let mut b = a + 1;
                while b < block.len && row_is_v6(block, b) == v6 {
                    b += 1;
                }
                self.append_range(block, a..b, v6)?;
                a = b;
            }
            return Ok(());
        };
        let rows = crate::model::block::selected_rows(selected);
        if !mixed {
            return self.append(block, &rows, false);
        }
        let (v6, v4): (Vec<u32>, Vec<u32>) =
            rows.iter().partition(|&&i| row_is_v6(block, i as usize));
        self.append(block, &v4, false)?;
        self.append(block, &v6, true)
    }

    /// Appends `rows` of `block` to the pending flows of one family, emitting full blocks.
    fn append(&mut self, block: &FlowBlock<'_>, rows: &[u32], v6: bool) -> io::Result<()> {
        self.fill_pending(v6, rows.len(), |p, r| p.extend_rows(block, &rows[r]))
    }

    /// Appends rows `range` of `block` to the pending flows of one family, a column slice at a
    /// time, emitting full blocks.
    fn append_range(
        &mut self,
        block: &FlowBlock<'_>,
        range: std::ops::Range<usize>,
        v6: bool,
    ) -> io::Result<()> {
        let first = range.start;
        self.fill_pending(v6, range.len(), |p, r| {
            p.extend_all(&block.slice(first + r.start..first + r.end))
        })
    }

    /// Moves `n` flows into the pending block of one family, at most what it has room for at a
    /// time (`put` copies flows `range` of the `n`), emitting each block that fills.
    fn fill_pending(
        &mut self,
        v6: bool,
        n: usize,
        mut put: impl FnMut(&mut FlowBlockBuf, std::ops::Range<usize>),
    ) -> io::Result<()> {
        let mut a = 0;
        while a < n {
            let p = if v6 {
                &mut self.pending6
            } else {
                &mut self.pending
            };
            let room = self.opts.block_flows.saturating_sub(p.len()).max(1);
            let b = n.min(a + room);
            put(p, a..b);
            if p.len() >= self.opts.block_flows {
                self.flush_one(v6)?;
            }
            a = b;
        }
        Ok(())
    }

    /// Appends a block given as the checked bytes of a block of another archive or stream
    /// (as a reader hands them out after checking them), without decoding and encoding it again.
    pub fn write_raw_block(&mut self, bytes: &[u8], block: &FlowBlock<'_>) -> io::Result<()> {
        self.flush_pending()?;
        if block.len == 0 {
            return Ok(());
        }
        let info = BlockInfo {
            flows: block.len as u32,
            columns: le_u32(bytes, 4),
            payload_len: le_u32(bytes, 12),
            min_start_ms: le_i64(bytes, 16),
            max_start_ms: le_i64(bytes, 24),
            max_end_ms: le_i64(bytes, 32),
        };
        debug_assert_eq!(info.total_len(), bytes.len() as u64);
        self.out.write_all(bytes)?;
        self.index.push(IndexEntry {
            offset: self.pos,
            info,
        });
        self.pos += bytes.len() as u64;
        self.total += block.len as u64;
        self.min_start = self.min_start.min(info.min_start_ms);
        self.max_end = self.max_end.max(info.max_end_ms);
        Ok(())
    }

    /// Appends a reference to a block of an archive file, or to some of its rows (see
    /// `archive::reference`), for a reader on this host that maps the file itself. Only for
    /// streams between flowkit tools.
    pub fn write_ref(&mut self, r: &super::reference::BlockRef) -> io::Result<()> {
        self.flush_pending()?;
        self.scratch.clear();
        super::reference::encode_ref(r, &mut self.scratch);
        self.out.write_all(&self.scratch)?;
        self.pos += self.scratch.len() as u64;
        self.total += r.flows_passed();
        Ok(())
    }

    /// Writes what is pending as a block now (e.g. so a pipe reader sees it without waiting).
    pub fn flush_pending(&mut self) -> io::Result<()> {
        self.flush_one(false)?;
        self.flush_one(true)
    }

    /// Writes the pending flows of one family (IPv6 when `v6`) as a block.
    fn flush_one(&mut self, v6: bool) -> io::Result<()> {
        let slot = if v6 {
            &mut self.pending6
        } else {
            &mut self.pending
        };
        if slot.is_empty() {
            return Ok(());
        }
        let mut pending = std::mem::take(slot);
        let r = self.emit(&pending.view());
        pending.clear();
        if v6 {
            self.pending6 = pending;
        } else {
            self.pending = pending;
        }
        r
    }

    /// Flushes pending data to the underlying writer (a block boundary for readers).
    pub fn flush(&mut self) -> io::Result<()> {
        self.flush_pending()?;
        self.out.flush()
    }

    /// Flows written so far (including pending ones).
    pub fn flows(&self) -> u64 {
        self.total + self.pending.len() as u64 + self.pending6.len() as u64
    }

    fn emit(&mut self, block: &FlowBlock<'_>) -> io::Result<()> {
        if block.len == 0 {
            return Ok(());
        }
        let mut parts = Vec::with_capacity(2 * ColumnId::ALL.len() + 3);
        let packed = self.opts.narrow.then_some(&mut self.packed);
        let info = encode_block_parts(
            block,
            &mut self.bloom,
            packed,
            &mut self.scratch,
            &mut parts,
        );
        parts.insert(0, &self.scratch);
        write_all_parts(&mut self.out, &parts)?;
        self.index.push(IndexEntry {
            offset: self.pos,
            info,
        });
        self.pos += info.total_len();
        self.total += block.len as u64;
        self.min_start = self.min_start.min(info.min_start_ms);
        self.max_end = self.max_end.max(info.max_end_ms);
        Ok(())
    }

    /// Writes the last block, the end marker, the index and the trailer; returns the sink.
    pub fn finish(mut self) -> io::Result<(W, ArchiveSummary)> {
        self.flush_pending()?;
        let tail = encode_tail(self.pos, &self.index, self.total);
        self.out.write_all(&tail)?;
        self.out.flush()?;
        let summary = ArchiveSummary {
            flows: self.total,
            blocks: self.index.len() as u64,
            min_start_ms: self.min_start,
            max_end_ms: self.max_end,
            created_ms: self.created_ms,
            bytes: self.pos + tail.len() as u64,
        };
        Ok((self.out, summary))
    }
}

/// Totals of a finished archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchiveSummary {
    /// Flows written.
    pub flows: u64,
    /// Blocks written.
    pub blocks: u64,
    /// Earliest start (i64::MAX if no flow).
    pub min_start_ms: i64,
    /// Latest end (i64::MIN if no flow).
    pub max_end_ms: i64,
    /// Creation time written in the header.
    pub created_ms: i64,
    /// Bytes written.
    pub bytes: u64,
}

impl ArchiveSummary {
    /// The totals of nothing written.
    pub fn empty() -> Self {
        ArchiveSummary {
            flows: 0,
            blocks: 0,
            min_start_ms: i64::MAX,
            max_end_ms: i64::MIN,
            created_ms: 0,
            bytes: 0,
        }
    }

    /// The totals of this and `other` together (e.g. over the files of a tree).
    pub fn merge(&self, other: &ArchiveSummary) -> ArchiveSummary {
        ArchiveSummary {
            flows: self.flows + other.flows,
            blocks: self.blocks + other.blocks,
            min_start_ms: self.min_start_ms.min(other.min_start_ms),
            max_end_ms: self.max_end_ms.max(other.max_end_ms),
            created_ms: self.created_ms.max(other.created_ms),
            bytes: self.bytes + other.bytes,
        }
    }
}

/// Writes one archive file safely: data goes to a hidden temporary name beside the target,
/// and only a complete, synced file is renamed into place, so readers never see half a file.
pub struct ArchiveFileWriter {
    inner: ArchiveWriter<io::BufWriter<File>>,
    tmp: PathBuf,
    target: PathBuf,
}

impl ArchiveFileWriter {
    /// Creates `target`'s parent directories and starts writing `target` (under a temporary name).
    /// Refuses a target that exists and is not a regular file (`/dev/null`, a FIFO, a
    /// directory): the rename at the end would replace it.
    pub fn create(target: &Path, opts: WriterOptions) -> io::Result<Self> {
        if std::fs::metadata(target).is_ok_and(|m| !m.is_file()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file (an archive file is written beside its name and renamed \
                 over it): leave out -o to write a stream to stdout",
            ));
        }
        if let Some(parent) = target.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)?;
            }
        }
        let tmp = temp_name(target);
        let f = File::create(&tmp)?;
        lock_exclusive(&f);
        // Small writes (header, index) are gathered; a block (hundreds of KiB) is larger than
        // the buffer, so it goes from its columns to the file in one vectored write, uncopied.
        let inner = ArchiveWriter::new(io::BufWriter::with_capacity(64 << 10, f), opts)?;
        Ok(ArchiveFileWriter {
            inner,
            tmp,
            target: target.to_path_buf(),
        })
    }

    /// The writer to push flows into.
    pub fn writer(&mut self) -> &mut ArchiveWriter<io::BufWriter<File>> {
        &mut self.inner
    }

    /// Finishes the file: totals in the header, fsync (when `durable`), rename to the final name.
    pub fn finish(self) -> io::Result<ArchiveSummary> {
        let creator = self.inner.opts.creator.clone();
        let durable = self.inner.opts.durable;
        let (buf, summary) = self.inner.finish()?;
        let mut f = buf.into_inner().map_err(|e| e.into_error())?;
        let header = encode_header(
            FLAG_COMPLETE,
            summary.flows,
            summary.min_start_ms,
            summary.max_end_ms,
            summary.created_ms,
            &creator,
        );
        f.seek(SeekFrom::Start(0))?;
        f.write_all(&header)?;
        if durable {
            f.sync_all()?;
        }
        drop(f);
        std::fs::rename(&self.tmp, &self.target)?;
        Ok(summary)
    }

    /// The name the file will have once finished.
    pub fn target(&self) -> &Path {
        &self.target
    }
}

/// Takes an advisory exclusive lock (`flock`) on a file being written, held until it is closed
/// (or the process dies): recovery (`archive::recover`) leaves a locked `tmp-` file alone, so it
/// never publishes the file of a writer that is still running. Best effort: a filesystem without
/// locks only loses that protection.
fn lock_exclusive(f: &File) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor we own; it only sets a lock.
        let _ = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    }
    #[cfg(not(unix))]
    let _ = f;
}

/// The temporary name used while writing `target`: `tmp-` prefixed, in the same directory,
/// so readers walking a directory skip it (as flow-tools' flow-cat skips `tmp*`).
pub fn temp_name(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!("tmp-{name}"))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Encodes a file header (fixed part, schema, creator, checksum).
fn encode_header(
    flags: u32,
    flows: u64,
    min_start: i64,
    max_end: i64,
    created_ms: i64,
    creator: &str,
) -> Vec<u8> {
    let creator = &creator.as_bytes()[..creator.len().min(1024)];
    let schema = ColumnId::ALL;
    let body = HEADER_FIXED_LEN + schema.len() * 4 + creator.len();
    let header_len = pad8(body) + 8;
    let mut h = Vec::with_capacity(header_len);
    h.extend_from_slice(FILE_MAGIC);
    h.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    h.extend_from_slice(&BYTE_ORDER_MARK.to_le_bytes());
    h.extend_from_slice(&(header_len as u32).to_le_bytes());
    h.extend_from_slice(&flags.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(&flows.to_le_bytes());
    h.extend_from_slice(&min_start.to_le_bytes());
    h.extend_from_slice(&max_end.to_le_bytes());
    h.extend_from_slice(&created_ms.to_le_bytes());
    h.extend_from_slice(&(schema.len() as u16).to_le_bytes());
    h.extend_from_slice(&(creator.len() as u16).to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    for &id in schema {
        let (kind, width) = schema_kind(id);
        h.extend_from_slice(&(id as u16).to_le_bytes());
        h.push(kind);
        h.push(width);
    }
    h.extend_from_slice(creator);
    h.resize(header_len - 8, 0);
    let c = checksum(&h);
    h.extend_from_slice(&c.to_le_bytes());
    h
}

/// Zero bytes that pad a column to a multiple of 8.
static PAD: [u8; 8] = [0; 8];

/// Lays out one block without copying its plain columns: the block header and column directory
/// go into `head` (cleared first), and the column payloads, each followed by its padding, are
/// pushed onto `parts` in file order (the Bloom filter, built into `bloom`, last). With `packed`,
/// columns whose range allows are stored narrow (`archive::narrow`), encoded into `packed`. The
/// stored block is `head` followed by `parts`, ready for one vectored write. Columns are
/// checksummed where they lie. Returns the block's summary.
pub fn encode_block_parts<'a>(
    block: &FlowBlock<'a>,
    bloom: &'a mut Vec<u64>,
    packed: Option<&'a mut Vec<u64>>,
    head: &mut Vec<u8>,
    parts: &mut Vec<&'a [u8]>,
) -> BlockInfo {
    let cols = ColumnId::ALL;
    // First every column's encoding; narrow ones are packed (their words in `packed`).
    enum Stored<'a> {
        Bytes(Encoding, &'a [u8]),
        Packed(u8, std::ops::Range<usize>, usize),
    }
    let mut stored: Vec<Stored<'a>> = Vec::with_capacity(cols.len());
    let mut words = packed;
    if let Some(w) = words.as_deref_mut() {
        w.clear();
    }
    for &id in cols {
        let (enc, bytes) = column_bytes(block, id);
        if all_zero(bytes) {
            stored.push(Stored::Bytes(Encoding::Zero, &[]));
            continue;
        }
        let narrow = words.as_deref_mut().and_then(|w| {
            let at = w.len();
            pack_column(block, id, w).map(|width| {
                Stored::Packed(width, at..w.len(), narrow_len(block.len, width as usize))
            })
        });
        stored.push(narrow.unwrap_or(Stored::Bytes(enc, bytes)));
    }
    let packed: Option<&'a [u64]> = words.map(|w| &**w);
    // The flow columns, then the address Bloom filter (archive::bloom).
    let entries = cols.len() + 1;
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
    for (k, (&id, s)) in cols.iter().zip(stored).enumerate() {
        match s {
            Stored::Bytes(enc, bytes) => put(k, id as u16, enc as u8, 0, bytes),
            Stored::Packed(width, words, len) => {
                let words = &packed.expect("packed columns have words")[words];
                let bytes: &'a [u8] = &bytemuck::cast_slice(words)[..len];
                put(k, id as u16, Encoding::Narrow as u8, width, bytes)
            }
        }
    }
    super::bloom::build(block, bloom);
    put(
        cols.len(),
        super::bloom::BLOOM_ID,
        super::bloom::BLOOM_ENCODING,
        0,
        bytemuck::cast_slice(bloom.as_slice()),
    );
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

/// Writes all of `parts` with vectored writes (what `Write::write_all_vectored`, not yet
/// stable, does): a block goes from its columns to the sink without being copied first.
fn write_all_parts(out: &mut impl Write, parts: &[&[u8]]) -> io::Result<()> {
    let mut slices: Vec<io::IoSlice<'_>> = parts.iter().map(|p| io::IoSlice::new(p)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match out.write_vectored(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => io::IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
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
        /// Appends column `id` of `block` to `out` in the narrow encoding and returns its width,
        /// when that is smaller than its plain form (IPv6 address columns never are).
        fn pack_column(block: &FlowBlock<'_>, id: ColumnId, out: &mut Vec<u64>) -> Option<u8> {
            match id {
                $(ColumnId::$sv => super::narrow::pack(block.$sf, out),)*
                $(ColumnId::$av => match block.$af {
                    AddrColumn::V4(v) => super::narrow::pack(v, out),
                    AddrColumn::V6(_) => None,
                },)*
            }
        }
    };
}
crate::with_flow_columns!(pack_column_fn);

fn addr_bytes<'a>(col: &AddrColumn<'a>) -> (Encoding, &'a [u8]) {
    match *col {
        AddrColumn::V4(v) => (Encoding::AddrV4, bytemuck::cast_slice(v)),
        AddrColumn::V6(v) => (Encoding::AddrV6, bytemuck::cast_slice(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// A device or FIFO given as the output file is refused and left as it was (the rename that
    /// publishes a finished file once replaced `/dev/null` with a regular file).
    #[test]
    fn special_files_are_refused_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for target in [fifo.as_path(), d.path(), Path::new("/dev/null")] {
            let e = ArchiveFileWriter::create(target, WriterOptions::default())
                .err()
                .expect("refused");
            assert_eq!(
                e.kind(),
                io::ErrorKind::InvalidInput,
                "{}",
                target.display()
            );
        }
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert!(std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
        assert_eq!(
            std::fs::read_dir(d.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
