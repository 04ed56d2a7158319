//! An archive file read through its block index (mapped, or read into memory), with its
//! trailer, index and tail checked, and blocks handed out by number.

use crate::archive::bloom::{AddrBloom, FrameBlooms};
use crate::archive::format::*;
use crate::archive::mapped::GuardedMap;
use crate::archive::members::AfterEnd;
use crate::archive::narrow::ColumnScratch;
use crate::archive::reference::{check_identity, BlockRef, FileIdentity, REF_MAGIC};
use crate::archive::ArchiveError;
use crate::model::block::{ColumnSet, FlowBlock, FlowBlockBuf};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::*;

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
                    match crate::archive::members::after_end_in_bytes(&self.name, b, off as usize) {
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

    /// The checked address Bloom filters of block `i`'s frames, when it has them (see
    /// `archive::bloom::FrameBlooms`).
    pub fn block_frame_blooms(&self, i: usize) -> Result<Option<FrameBlooms<'_>>, ArchiveError> {
        let e = &self.blocks[i];
        block_frame_blooms(&self.name, self.block_bytes(i), e.offset)
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

    /// Checks block `i` as stored, inflating nothing ([`check_stored_block`]), and its header
    /// against the index: for copying it on unchanged. `copy` is its copy when one was read
    /// ([`ArchiveFile::read_block_into`]); otherwise the file's own bytes are checked.
    pub fn check_stored(&self, i: usize, copy: Option<&[u8]>) -> Result<(), ArchiveError> {
        let e = self.blocks[i];
        let info = match copy {
            Some(bytes) => check_stored_block(&self.name, bytes, e.offset)?,
            None => {
                let (bytes, end) = self.stored_block(i);
                let checked = check_stored_block(&self.name, bytes, e.offset);
                self.shrink_before(end)?;
                checked?
            }
        };
        self.agrees_with_index(i, &info)
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
    /// block's copy (see [`ArchiveFile::read_block_into`]), or else from the map. Compressed
    /// columns are inflated into `scratch` when given (the scan's scratch of this block, where a
    /// filter's columns may be inflated already). On an error nothing is appended.
    pub fn gather_rows(
        &self,
        i: usize,
        copied: Option<&[u8]>,
        rows: &[u32],
        out: &mut FlowBlockBuf,
        scratch: Option<&ColumnScratch>,
    ) -> Result<(), ArchiveError> {
        self.gather_columns(i, copied, rows, ColumnSet::ALL, out, scratch)
    }

    /// [`ArchiveFile::gather_rows`] of the columns in `columns` only: the others are neither
    /// checked nor read, and left as they are in `out` (see `reader::gather_block_columns`).
    pub fn gather_columns(
        &self,
        i: usize,
        copied: Option<&[u8]>,
        rows: &[u32],
        columns: ColumnSet,
        out: &mut FlowBlockBuf,
        scratch: Option<&ColumnScratch>,
    ) -> Result<(), ArchiveError> {
        let offset = self.blocks[i].offset;
        let agrees = |info: &BlockInfo| self.agrees_with_index(i, info);
        let (name, want) = (&self.name, RowsWanted { rows, columns });
        if let Some(bytes) = copied {
            return gather_block_columns(name, bytes, offset, want, out, agrees, scratch)
                .map(|_| ());
        }
        let (bytes, end) = self.stored_block(i);
        let had = out.len();
        let r = gather_block_columns(name, bytes, offset, want, out, agrees, scratch);
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
