//! Writing archives and streams: header, column blocks, end marker, block index and trailer.

use super::encode::stored_layout;
pub use super::encode::{encode_block_parts, BlockBufs, ColumnOptions};
use super::format::*;
use super::write_behind::WriteBehindFile;
use crate::model::block::{AddrColumn, ColumnId, FlowBlock, FlowBlockBuf};
use crate::model::record::FlowRecord;
use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

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
    /// A durable file is also written behind (`archive::write_behind`): its pages are handed to
    /// the kernel for write-out every few MiB, so the final sync has little left to do.
    pub durable: bool,
    /// Store counters, times, interface and AS numbers and IPv4 addresses in the narrow
    /// frame-of-reference encoding where a block's range allows (about half the bytes; see
    /// `archive::narrow`). Off only to write files for readers older than that encoding.
    pub narrow: bool,
    /// Compress columns with zstd at this level where it saves at least a tenth of a column
    /// (`archive::packed`; format version 2); `None` writes version 1, which readers before
    /// version 2 read. Defaults to [`default_compression`].
    pub compress: Option<i32>,
    /// Re-encode whole blocks copied in ([`ArchiveWriter::write_raw_block`]) that are not stored
    /// as `compress` says (so `flow-cat old -o new` converts between versions 1 and 2). Off for a
    /// stream into a pipe: blocks then go on as they are stored, the cheapest for both ends, and
    /// the header says version 2 since they may be compressed.
    pub recode_raw_blocks: bool,
    /// Rows a frame of compressed columns (format version 3, `archive::packed`), each frame
    /// with its own address Bloom filter (`archive::bloom::FrameBlooms`); 0 stores each
    /// compressed column as one zstd frame (version 2). `None`, the default, chooses by level
    /// ([`frame_rows_for`]); the environment variable `FLOWKIT_FRAME_ROWS` sets it, for
    /// measuring. Frames let a filter that selects a few flows inflate only their frames and
    /// skip the others, at some size and full-read speed (docs/performance.md, "Storage").
    pub frame_rows: Option<usize>,
}

/// zstd level of `--compress on`: level 3, zstd's own default (docs/performance.md compares
/// levels: higher ones save little on flows and import slower).
pub const DEFAULT_COMPRESS_LEVEL: i32 = 3;

/// Rows a frame of compressed columns below [`ONE_FRAME_FROM_LEVEL`]: a filter that selects
/// a few hosts then inflates and reads about one frame a column where they are, not the block
/// (docs/performance.md, "Storage": the host filters within 1.16-1.23 times the CPU of an
/// uncompressed archive, against 1.9-2.2 with one frame a column).
pub const DEFAULT_FRAME_ROWS: usize = super::packed::FRAME_ROWS;

/// zstd levels from this one on (`--compress small` is 9) store each compressed column as one
/// frame (format version 2): the smallest files (about 13% smaller on flow-gen's mix), for
/// archives kept rather than searched.
pub const ONE_FRAME_FROM_LEVEL: i32 = 9;

/// The rows a frame of compressed columns at zstd `level` when not set
/// ([`WriterOptions::frame_rows`]): [`DEFAULT_FRAME_ROWS`], or 0 (one frame a column) from
/// [`ONE_FRAME_FROM_LEVEL`] on.
pub fn frame_rows_for(level: i32) -> usize {
    match level >= ONE_FRAME_FROM_LEVEL {
        true => 0,
        false => DEFAULT_FRAME_ROWS,
    }
}

/// The process-wide default compression (0: none), set once by a tool's `--compress` option.
/// None unless asked: compressed archives are 2.5 times smaller, but selective filters read
/// them 2 to 4 times slower (docs/performance.md, "Storage"), above the 1.5 times the scan
/// speed may cost; so compression is chosen, not imposed.
static DEFAULT_COMPRESSION: AtomicI32 = AtomicI32::new(0);

/// The compression [`WriterOptions::default`] uses: none unless [`set_default_compression`]
/// said otherwise.
pub fn default_compression() -> Option<i32> {
    Some(DEFAULT_COMPRESSION.load(Ordering::Relaxed)).filter(|&l| l != 0)
}

/// Set once a tool was told how to compress (its `--compress` option).
static COMPRESSION_CHOSEN: AtomicBool = AtomicBool::new(false);

/// Sets the compression every writer of this process uses by default (`None`: uncompressed,
/// version-1 files). Tools call it once, from their `--compress` option, before writing.
pub fn set_default_compression(level: Option<i32>) {
    DEFAULT_COMPRESSION.store(level.unwrap_or(0), Ordering::Relaxed);
    COMPRESSION_CHOSEN.store(true, Ordering::Relaxed);
}

/// True when [`set_default_compression`] was called: the user chose, so a stream into a pipe
/// is compressed as asked rather than left uncompressed (`pipeline::sink`).
pub fn compression_chosen() -> bool {
    COMPRESSION_CHOSEN.load(Ordering::Relaxed)
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            block_flows: DEFAULT_BLOCK_FLOWS,
            creator: format!("flowkit {}", env!("CARGO_PKG_VERSION")),
            split_families: false,
            durable: false,
            narrow: true,
            compress: default_compression(),
            recode_raw_blocks: true,
            frame_rows: std::env::var("FLOWKIT_FRAME_ROWS")
                .ok()
                .and_then(|v| v.parse().ok()),
        }
    }
}

impl WriterOptions {
    /// The rows a frame of compressed columns these options give (0: one frame a column, or
    /// not compressed).
    pub fn frames(&self) -> usize {
        match (self.compress, self.frame_rows) {
            (None, _) => 0,
            (Some(_), Some(rows)) => rows,
            (Some(level), None) => frame_rows_for(level),
        }
    }

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
    /// The encoded columns of the block being written.
    bufs: BlockBufs,
}

impl<W: Write> ArchiveWriter<W> {
    /// Starts a stream on `out`, writing its header at once.
    pub fn new(mut out: W, opts: WriterOptions) -> io::Result<Self> {
        let created_ms = now_ms();
        let header = encode_header(FLAG_STREAM, 0, i64::MAX, i64::MIN, created_ms, &opts);
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
            bufs: BlockBufs::default(),
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

    /// Appends the flows of `buf` as [`ArchiveWriter::write_block`] does, and leaves `buf`
    /// empty. A batch of IPv4 flows smaller than a block that arrives while none is pending
    /// becomes the pending block itself, uncopied (`buf` gets the empty buffer it replaces):
    /// what an importer hands over at the end of each output interval.
    pub fn write_buf(&mut self, buf: &mut FlowBlockBuf) -> io::Result<()> {
        let view = buf.view();
        let wide = [view.src_addr, view.dst_addr, view.next_hop]
            .iter()
            .any(|c| matches!(c, AddrColumn::V6(_)));
        if !wide && self.pending.is_empty() && view.len < self.opts.block_flows {
            std::mem::swap(&mut self.pending, buf);
        } else {
            self.write_block(&view, None)?;
        }
        buf.clear();
        Ok(())
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
    /// (as a reader hands them out after checking them), without decoding and encoding it again
    /// when it is stored as this writer would store it: a block with compressed columns into a
    /// compressing writer, one without into a writer that does not compress. Otherwise (an
    /// uncompressed archive copied into a compressed one, or the reverse) `block` is encoded
    /// anew, so `flow-cat old -o new` converts between the versions.
    pub fn write_raw_block(&mut self, bytes: &[u8], block: &FlowBlock<'_>) -> io::Result<()> {
        if !self.copies_raw(bytes) {
            return self.write_block(block, None);
        }
        self.write_stored(bytes, block.len)
    }

    /// True when [`ArchiveWriter::write_raw_block`] copies the stored block `bytes` as they are
    /// (it is stored as this writer stores blocks: compressed or not, in frames with their
    /// Bloom filters or not), so the caller needs no view of its columns. A block in frames
    /// never goes into a file whose header says version 2, which readers of version 2 read.
    pub fn copies_raw(&self, bytes: &[u8]) -> bool {
        if !self.opts.recode_raw_blocks {
            return true;
        }
        let frames = self.opts.frames();
        let flows = le_u32(bytes, 8) as usize;
        let want_framed = frames > 0 && flows > frames;
        let stored = stored_layout(bytes);
        stored.packed == self.opts.compress.is_some()
            && stored.framed == want_framed
            && stored.frame_filters == want_framed
    }

    /// Appends the stored block `bytes` of `flows` flows as it is: only where
    /// [`ArchiveWriter::copies_raw`] says so, and once the bytes are checked (see
    /// [`crate::archive::reader::check_stored_block`]).
    pub fn write_stored(&mut self, bytes: &[u8], flows: usize) -> io::Result<()> {
        debug_assert!(self.copies_raw(bytes));
        self.flush_pending()?;
        if flows == 0 {
            return Ok(());
        }
        let info = BlockInfo {
            flows: flows as u32,
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
        self.total += flows as u64;
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
        let opts = ColumnOptions {
            narrow: self.opts.narrow,
            compress: self.opts.compress,
            frame_rows: self.opts.frames(),
        };
        let info = encode_block_parts(block, &mut self.bufs, opts, &mut self.scratch, &mut parts);
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
    inner: ArchiveWriter<io::BufWriter<WriteBehindFile>>,
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
        // A durable file (a collector's) is written behind, so writeback never comes in bursts.
        let f = WriteBehindFile::new(f, opts.durable);
        let inner = ArchiveWriter::new(io::BufWriter::with_capacity(64 << 10, f), opts)?;
        Ok(ArchiveFileWriter {
            inner,
            tmp,
            target: target.to_path_buf(),
        })
    }

    /// The writer to push flows into.
    pub fn writer(&mut self) -> &mut ArchiveWriter<io::BufWriter<WriteBehindFile>> {
        &mut self.inner
    }

    /// Finishes the file: totals in the header, fsync (when `durable`), rename to the final name.
    pub fn finish(self) -> io::Result<ArchiveSummary> {
        let opts = self.inner.opts.clone();
        let durable = self.inner.opts.durable;
        let (buf, summary) = self.inner.finish()?;
        let mut f = buf.into_inner().map_err(|e| e.into_error())?.into_file();
        let header = encode_header(
            FLAG_COMPLETE,
            summary.flows,
            summary.min_start_ms,
            summary.max_end_ms,
            summary.created_ms,
            &opts,
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

/// Encodes a file header (fixed part, schema, creator, checksum): format version 1 when no block
/// can hold compressed columns (the writer does not compress and recodes blocks copied in), else 2.
fn encode_header(
    flags: u32,
    flows: u64,
    min_start: i64,
    max_end: i64,
    created_ms: i64,
    opts: &WriterOptions,
) -> Vec<u8> {
    let creator = &opts.creator;
    let creator = &creator.as_bytes()[..creator.len().min(1024)];
    let version = match (opts.compress, opts.recode_raw_blocks) {
        (None, true) => FORMAT_VERSION_UNCOMPRESSED,
        (Some(_), true) if opts.frames() == 0 => FORMAT_VERSION_SINGLE_FRAME,
        _ => FORMAT_VERSION,
    };
    let schema = ColumnId::ALL;
    let body = HEADER_FIXED_LEN + schema.len() * 4 + creator.len();
    let header_len = pad8(body) + 8;
    let mut h = Vec::with_capacity(header_len);
    h.extend_from_slice(FILE_MAGIC);
    h.extend_from_slice(&version.to_le_bytes());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches handed over as buffers (`write_buf`, which takes a small IPv4 batch as the
    /// pending block uncopied) store exactly the bytes the same batches copied in
    /// (`write_block`) store, and read back to the flows written, each family in its order.
    #[test]
    fn buffers_taken_whole_store_what_copies_store() {
        let recs: Vec<FlowRecord> = (0..2500u32)
            .map(|i| FlowRecord {
                start_ms: 1_700_000_000_000 + i as i64 * 7,
                end_ms: 1_700_000_000_030 + i as i64 * 7,
                src_addr: if i % 97 == 5 {
                    format!("2001:db8::{i:x}").parse().unwrap()
                } else {
                    format!("10.1.{}.{}", i / 200, i % 200).parse().unwrap()
                },
                dst_addr: format!("192.0.2.{}", i % 13).parse().unwrap(),
                src_port: 1024 + i as u16,
                dst_port: 443,
                protocol: 6,
                packets: 1 + i as u64 % 5,
                octets: 40 + i as u64 * 3,
                ..FlowRecord::default()
            })
            .collect();
        let opts = WriterOptions {
            block_flows: 100,
            ..WriterOptions::archive("t")
        };
        let mut copied = ArchiveWriter::new(Vec::new(), opts.clone()).unwrap();
        let mut taken = ArchiveWriter::new(Vec::new(), opts).unwrap();
        // Batches smaller than a block, of one block and larger; some hold an IPv6 flow.
        let sizes = [1usize, 99, 100, 150, 37, 300, 5, 64, 2];
        let (mut at, mut k) = (0, 0);
        while at < recs.len() {
            let end = (at + sizes[k % sizes.len()]).min(recs.len());
            let batch = FlowBlockBuf::from_records(&recs[at..end]);
            copied.write_block(&batch.view(), None).unwrap();
            let mut buf = batch.clone();
            taken.write_buf(&mut buf).unwrap();
            assert!(buf.is_empty());
            (at, k) = (end, k + 1);
        }
        let a = copied.finish().unwrap().0;
        let b = taken.finish().unwrap().0;
        // Only the creation time in the header (and the header's checksum) may differ.
        let header_len = u32::from_le_bytes(a[12..16].try_into().unwrap()) as usize;
        assert_eq!(a.len(), b.len());
        assert_eq!(a[header_len..], b[header_len..]);
        let f = crate::archive::ArchiveFile::from_bytes("t.fk", &b).unwrap();
        let back: Vec<FlowRecord> = (0..f.blocks().len())
            .flat_map(|i| f.block(i).unwrap().records().collect::<Vec<_>>())
            .collect();
        let family = |v6: bool| move |r: &&FlowRecord| r.src_addr.is_ipv6() == v6;
        for v6 in [false, true] {
            let want: Vec<_> = recs.iter().filter(family(v6)).collect();
            let got: Vec<_> = back.iter().filter(family(v6)).collect();
            assert_eq!(got, want, "IPv6: {v6}");
        }
        assert_eq!(back.len(), recs.len());
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
