//! Turning command-line inputs (files, directories, globs, `-`/stdin) into batches of blocks.
//!
//! Every reading tool goes through [`Scanner`]: it finds the files (directories recursively, in
//! name order, which is time order for dated trees), recognises flowkit archives and streams,
//! skips blocks outside a time window using their recorded time ranges, applies a clock shift,
//! and hands out batches of blocks that a tool may process in parallel. A damaged file is
//! reported and skipped after its last good block; the scan goes on with the next input.
//!
//! The scanner's work is split by input kind: [`files`] reads archive files (mapped or read,
//! grouped when small, pruned by zone maps and Bloom filters), [`stream`] reads streams (stdin,
//! FIFOs, spooled pipes), following block references and reading flow-tools and nfdump files
//! through [`crate::archive::sniff`]. Both hand each batch they find to [`batch`], the one
//! place blocks are read, checked, handed to the consumer and learnt from.

use crate::archive::bloom::{AddrBloom, FrameBlooms};
use crate::archive::sniff::{sniff, ForeignFlows, InputFormat};
use crate::archive::{ArchiveError, ArchiveFile, BlockRef, ColumnScratch};
use crate::filter::BlockPrune;
use crate::model::block::{ColumnSet, FlowBlock, FlowBlockBuf};
use crate::pipeline::input::Input;
use rayon::prelude::*;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// How to read inputs.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Keep flows starting at or after this time (UTC ms, after the shift).
    pub from_ms: Option<i64>,
    /// Keep flows starting before this time (UTC ms, after the shift).
    pub to_ms: Option<i64>,
    /// Added to every start and end time before anything else sees them (sensor clock skew).
    pub time_shift_ms: i64,
    /// Read files into memory instead of mapping them.
    pub no_mmap: bool,
    /// Also read `tmp*` files (unfinished files of a running collector).
    pub include_tmp: bool,
    /// Blocks of an archive file handed out per batch (work for the thread pool): eight a
    /// thread, so a batch's one join is spread over much work.
    pub batch_blocks: usize,
    /// Blocks carried in a stream (a pipe, or another format's reader) per batch: four a
    /// thread, so the stage after a pipe starts sooner and holds less (measured: a three-stage
    /// chain is faster and smaller with four than with eight). A batch of block references
    /// (blocks read from their files) may hold `batch_blocks`, like a file scan's.
    pub stream_batch_blocks: usize,
    /// Skip blocks whose address Bloom filter shows they hold no flow a filter can pass (see
    /// `filter::BlockPrune`); such blocks are never handed out.
    pub prune: Option<Arc<BlockPrune>>,
    /// How blocks of mapped archive files are read.
    pub block_read: BlockRead,
    /// The consumer passes whole blocks on as references (see `archive::reference`) and reads
    /// no column: blocks of complete archive files are then handed out from their file's index
    /// without being read, as views with no columns (the tool reading the references checks
    /// the blocks). Only without a time window or shift, which need the start times.
    pub refs_only: bool,
    /// The consumer copies whole blocks on as they are stored and reads no column (`flow-cat`
    /// into a file or another host's pipe): blocks are checked as stored (header, checksums and
    /// encodings of every column; nothing inflated or widened, see
    /// [`crate::archive::reader::check_stored_block`]) and handed out as views with no columns
    /// beside their stored bytes ([`Batch::stored`]). Only without a time window or shift.
    pub stored_only: bool,
    /// Files that hold a copy of a pipe (a spool of stdin or a FIFO, for a tool that reads its
    /// input twice), with the name of what they copied: read as that stream, under that name.
    pub spooled: Vec<(PathBuf, String)>,
}

/// How a scan reads the blocks of a mapped archive file (including files that block references
/// in a stream point into).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BlockRead {
    /// Viewed in place while the scan needs few of their bytes (a filter's columns, a count);
    /// copied out (see [`ArchiveFile::read_block_into`]) when it needs every column, or once its
    /// consumer asks for whole blocks of most batches (printing what a filter selected).
    #[default]
    Auto,
    /// Always viewed in place in the map.
    Map,
    /// Always copied out.
    Copy,
}

impl BlockRead {
    /// The mode `FLOWKIT_BLOCK_READ` (`map`, `copy` or `auto`) asks for, else `Auto`: a knob for
    /// measuring the two ways against each other.
    pub fn from_env() -> BlockRead {
        match std::env::var("FLOWKIT_BLOCK_READ").as_deref() {
            Ok("map") => BlockRead::Map,
            Ok("copy") => BlockRead::Copy,
            _ => BlockRead::Auto,
        }
    }
}

/// Bytes of a mapped file a scan reads before it gives their pages back to the kernel. Each
/// release costs the other cores a TLB flush, so a file smaller than this (a collector's
/// five-minute file) is released once, when it is closed; a large one keeps the scan's resident
/// memory bounded by about this much.
const RELEASE_BYTES: u64 = 32 << 20;

/// The blocks of one referenced file whose mapped pages a stream scan may still hold: given
/// back to the kernel (one `madvise` for the run) when they span [`RELEASE_BYTES`] or the
/// references move on to another file, not block by block (each call is a TLB flush on every
/// core the process runs on).
#[derive(Default)]
struct HeldPages {
    held: Option<(Arc<ArchiveFile>, usize, usize)>,
}

impl HeldPages {
    /// Notes that block `i` of `file` is being read.
    fn hold(&mut self, file: &Arc<ArchiveFile>, i: usize) {
        match &mut self.held {
            Some((f, first, last)) if Arc::ptr_eq(f, file) && i >= *first => *last = (*last).max(i),
            _ => {
                self.release();
                self.held = Some((Arc::clone(file), i, i));
            }
        }
    }

    /// Gives back the pages held if they span `RELEASE_BYTES` (the blocks are done with).
    fn release_if_large(&mut self) {
        if let Some((f, first, last)) = &self.held {
            let (a, b) = (f.blocks()[*first], f.blocks()[*last]);
            if b.offset + b.len - a.offset >= RELEASE_BYTES {
                self.release();
            }
        }
    }

    fn release(&mut self) {
        if let Some((f, first, last)) = self.held.take() {
            f.release(first, last);
        }
    }
}

/// The frames of a block that a prune test's look at their Bloom filters leaves to read (see
/// [`kept_frames`]): one flag a frame, so a scan can hold it for every block of a large file
/// before reading any, and list the rows only for the blocks of the batch at hand.
struct KeptFrames {
    keep: Vec<bool>,
    rows_per_frame: usize,
    /// The block's flows.
    n: usize,
}

impl KeptFrames {
    /// The rows of the kept frames, ascending.
    fn rows(&self) -> Vec<u32> {
        let r = self.rows_per_frame;
        (0..self.keep.len())
            .filter(|&k| self.keep[k])
            .flat_map(|k| (k * r) as u32..((k + 1) * r).min(self.n) as u32)
            .collect()
    }

    /// How many rows the kept frames hold.
    fn rows_kept(&self) -> usize {
        let r = self.rows_per_frame;
        (0..self.keep.len())
            .filter(|&k| self.keep[k])
            .map(|k| ((k + 1) * r).min(self.n) - k * r)
            .sum()
    }
}

/// The frames of a block of `n` flows whose Bloom filters (`frames`) `prune` cannot rule out,
/// when it rules out some (possibly all); `None` when the block is to be read whole: every frame
/// may hold a passing flow, or it has no frames' filters.
fn kept_frames(
    prune: &BlockPrune,
    frames: Option<FrameBlooms<'_>>,
    n: usize,
) -> Option<KeptFrames> {
    let frames = frames?;
    let keep: Vec<bool> = (0..frames.frames())
        .map(|k| prune.may_match(&frames.frame(k)))
        .collect();
    if keep.iter().all(|&k| k) {
        return None;
    }
    Some(KeptFrames {
        keep,
        rows_per_frame: frames.rows_per_frame(),
        n,
    })
}

/// The reference `r` to block `i` of `file`, narrowed to the rows of the frames whose Bloom
/// filters `prune` cannot rule out (see [`kept_frames`]): unchanged when none is ruled out (or the
/// block has no frames' filters), `None` when every row it passes is.
fn narrowed_by_frames(
    prune: &BlockPrune,
    frames: Option<FrameBlooms<'_>>,
    n: usize,
    r: BlockRef,
) -> Option<BlockRef> {
    let Some(keep) = kept_frames(prune, frames, n).map(|k| k.rows()) else {
        return Some(r);
    };
    // Positions, among the rows `r` passes, of those in a kept frame (both lists ascending).
    let picked: Vec<u32> = match &r.rows {
        None => keep,
        Some(rows) => {
            let mut kept = keep.iter().peekable();
            (0..rows.len() as u32)
                .filter(|&p| {
                    let row = rows[p as usize];
                    while kept.next_if(|&&k| k < row).is_some() {}
                    kept.peek() == Some(&&row)
                })
                .collect()
        }
    };
    match picked.len() {
        0 => None,
        m if m as u64 == r.flows_passed() => Some(r),
        _ => Some(r.select(&picked)),
    }
}

/// Keeps the blocks of `items` that `prune` cannot rule out, their Bloom filters read in
/// parallel; a block without one, or with a damaged one, is kept (the filter then sees its flows).
/// Returns how many were dropped, and the damage found (for the caller to report).
fn retain_unpruned<'a, T: Sync>(
    items: &mut Vec<T>,
    prune: &BlockPrune,
    bloom: impl Fn(&T) -> Result<Option<AddrBloom<'a>>, ArchiveError> + Sync,
) -> (u64, Vec<ArchiveError>) {
    let keep: Vec<Result<bool, ArchiveError>> = items
        .par_iter()
        .map(|it| ruled_out(prune, || bloom(it)).map(|out| !out))
        .collect();
    let before = items.len();
    let mut damaged = Vec::new();
    let mut keep = keep.into_iter();
    items.retain(|_| match keep.next() {
        Some(Ok(k)) => k,
        Some(Err(e)) => {
            damaged.push(e);
            true
        }
        None => true,
    });
    ((before - items.len()) as u64, damaged)
}

/// Whether a block's address Bloom filter (`bloom`) rules the block out for `prune`: false
/// without a filter, an error when the filter is damaged (the block must then be read).
fn ruled_out<'b>(
    prune: &BlockPrune,
    bloom: impl FnOnce() -> Result<Option<AddrBloom<'b>>, ArchiveError>,
) -> Result<bool, ArchiveError> {
    Ok(bloom()?.is_some_and(|b| !prune.may_match(&b)))
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            from_ms: None,
            to_ms: None,
            time_shift_ms: 0,
            no_mmap: false,
            include_tmp: false,
            batch_blocks: 8 * rayon::current_num_threads().max(1),
            stream_batch_blocks: 4 * rayon::current_num_threads().max(1),
            prune: None,
            block_read: BlockRead::Auto,
            refs_only: false,
            stored_only: false,
            spooled: Vec::new(),
        }
    }
}

/// Counts of what a scan did (printed by `-v`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Files (and streams) opened.
    pub files: u64,
    /// Blocks read and checked.
    pub blocks_read: u64,
    /// Blocks skipped because their time range lies outside the window.
    pub blocks_skipped: u64,
    /// Blocks skipped because their address Bloom filter rules out every flow a filter passes
    /// (or their frames' filters rule out every frame).
    pub blocks_pruned: u64,
    /// Flows of the blocks read that were skipped because their frame's address Bloom filter
    /// rules out every flow a filter passes (blocks stored in frames: `archive::bloom`).
    pub flows_pruned: u64,
    /// Of the blocks read, those copied out of their file rather than viewed in its map (see
    /// [`BlockRead`]).
    pub blocks_copied: u64,
    /// Flows read: those of the blocks read, less the rows of frames pruned ([`flows_pruned`]).
    ///
    /// [`flows_pruned`]: ScanStats::flows_pruned
    pub flows_read: u64,
    /// Flows handed to the tool (after the time window).
    pub flows_out: u64,
    /// Problems reported (damaged or unreadable inputs).
    pub errors: u64,
}

impl std::fmt::Display for ScanStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "files {}, blocks read {} ({} copied), blocks skipped {}, blocks pruned {}, flows pruned {}, flows read {}, flows out {}, errors {}",
            self.files,
            self.blocks_read,
            self.blocks_copied,
            self.blocks_skipped,
            self.blocks_pruned,
            self.flows_pruned,
            self.flows_read,
            self.flows_out,
            self.errors
        )
    }
}

/// A problem that stops a scan (as opposed to a damaged input, which is reported and skipped).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The tool's consumer failed (e.g. writing the output).
    #[error("{0}")]
    Output(#[source] io::Error),
    /// An argument named nothing readable.
    #[error("{0}")]
    BadInput(String),
}

/// Reads inputs and hands their blocks to a consumer, batch by batch, in input order.
pub struct Scanner<'w> {
    opts: ScanOptions,
    /// Columns the current run checks and hands out.
    wanted: ColumnSet,
    /// What the scan has done so far.
    pub stats: ScanStats,
    warn: Box<dyn FnMut(&str) + 'w>,
    /// With [`BlockRead::Auto`]: copy blocks out of mapped files (the consumer has been asking
    /// for whole blocks).
    copying: bool,
    /// Buffers reused batch after batch and input after input (see [`batch::BatchPools`]).
    pools: batch::BatchPools,
    /// The stream being read comes through a pipe (stdin, a FIFO): when it stops early, the
    /// program writing it stopped (see `input_forms::report_stream_error`).
    pub(crate) piped: bool,
}

/// What follows a stream that ended cleanly: the first bytes of the next, their offset, and the
/// reader to read it from.
type NextMember<R> = (Vec<u8>, u64, R);

/// The consumer of batches: gets blocks in input order; an error stops the scan.
pub type BatchFn<'a> = dyn FnMut(&[FlowBlock<'_>]) -> io::Result<()> + 'a;

/// The consumer of batches of possibly partial blocks (see [`Scanner::run_columns`]).
pub type PartialBatchFn<'a> = dyn FnMut(&Batch<'_, '_>) -> io::Result<()> + 'a;

/// Gives block `k` of a batch with every column checked.
type FullFn<'b, 'a> = dyn Fn(usize) -> Result<FlowBlock<'a>, ArchiveError> + Sync + 'b;

/// The stored bytes of a batch's blocks, and whether every column of them was checked as stored
/// (see [`ScanOptions::stored_only`]).
#[derive(Clone, Copy)]
struct StoredBytes<'b, 'a> {
    blocks: &'b [&'a [u8]],
    checked: bool,
}

/// Appends rows of block `k` of a batch, every column checked, to a buffer (nothing on an error).
type GatherFn<'b> =
    dyn Fn(usize, &[u32], &mut FlowBlockBuf) -> Result<(), ArchiveError> + Sync + 'b;

/// A batch of blocks, in input order, as a scan hands them to a consumer. When the scan asked
/// for some columns only, the blocks are partial (only those columns checked and present); a
/// consumer that then needs whole rows (to write out the flows a filter selected) asks for
/// [`Batch::full`] of just those blocks. A block may also be some rows of a stored block (those a
/// block reference names, or those of the frames a prune test leaves): `full` and `gather` then
/// give those rows, and its reference, if any, refers to just them.
pub struct Batch<'b, 'a> {
    /// The blocks.
    pub blocks: &'b [FlowBlock<'a>],
    /// The checked bytes of each block as stored (archives and streams read without a time
    /// window or shift), so a tool that passes whole blocks on can copy them as they are; `None`
    /// when some block of the batch is some rows of a stored block.
    pub raw: Option<&'b [&'a [u8]]>,
    /// Every block's stored bytes were checked as stored (see [`ScanOptions::stored_only`]).
    stored_checked: bool,
    /// For each block, a reference a flowkit reader on this host can follow instead of the
    /// bytes (blocks of published archive files, or the rows of them the block is; see
    /// `archive::reference`).
    pub refs: Option<&'b [Option<BlockRef>]>,
    full: &'b FullFn<'b, 'a>,
    gather: &'b GatherFn<'b>,
    problems: &'b std::sync::Mutex<Vec<ArchiveError>>,
}

impl<'b, 'a> Batch<'b, 'a> {
    /// Block `k` with every column, checked. `None` when one of its other columns is damaged;
    /// the scan then reports the damage, and the consumer skips the block.
    pub fn full(&self, k: usize) -> Option<FlowBlock<'a>> {
        let b = self.blocks[k];
        if b.columns() == ColumnSet::ALL {
            return Some(b);
        }
        match (self.full)(k) {
            Ok(v) => Some(v),
            Err(e) => {
                self.problem(e);
                None
            }
        }
    }

    /// The stored bytes of block `k` when they can be copied on as they are without viewing its
    /// columns: the batch has them, and every column of the block was checked (as stored, or
    /// viewed whole). `None` otherwise: then ask for [`Batch::full`].
    pub fn stored(&self, k: usize) -> Option<&'a [u8]> {
        let raw = self.raw?[k];
        (self.stored_checked || self.blocks[k].columns() == ColumnSet::ALL).then_some(raw)
    }

    /// Appends the flows `rows` of block `k`, with every column checked, to `out`. Cheaper than
    /// [`Batch::full`] for a few rows of a block: narrow columns are widened for those rows only.
    /// `false` when one of the block's columns is damaged (nothing appended; the scan reports
    /// the damage, as for [`Batch::full`]).
    pub fn gather(&self, k: usize, rows: &[u32], out: &mut FlowBlockBuf) -> bool {
        let b = self.blocks[k];
        if b.columns() == ColumnSet::ALL {
            out.extend_rows(&b, rows);
            return true;
        }
        match (self.gather)(k, rows, out) {
            Ok(()) => true,
            Err(e) => {
                self.problem(e);
                false
            }
        }
    }

    fn problem(&self, e: ArchiveError) {
        self.problems
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }
}

/// Files a stream's block references keep open at once (between batches).
const MAX_REFERENCED_OPEN: usize = 4;

/// Where a block of a stream batch is while the batch is read: in buffer `b` (read at a stream
/// offset), or block `i` of the `f`-th referenced file of the batch (all of it, or the rows the
/// reference names).
enum StreamSlot {
    Buf(usize, u64),
    Ref(usize, usize, BlockRef),
}

/// A full-block provider for batches whose blocks are already complete.
fn already_full<'a>(_: usize) -> Result<FlowBlock<'a>, ArchiveError> {
    unreachable!("Batch::full only asks for partial blocks")
}

/// One cleared scratch per block of a batch, where its narrow columns are widened (see
/// `archive::narrow`), from `pool`, whose memory is reused batch after batch: a scan holds at
/// most a batch's worth.
fn scratch_for(pool: &mut Vec<ColumnScratch>, blocks: usize) -> &[ColumnScratch] {
    if pool.len() < blocks {
        pool.resize_with(blocks, ColumnScratch::new);
    }
    pool[..blocks].iter_mut().for_each(ColumnScratch::clear);
    &pool[..blocks]
}

/// A row gatherer for batches whose blocks are already complete.
fn already_gathered(_: usize, _: &[u32], _: &mut FlowBlockBuf) -> Result<(), ArchiveError> {
    unreachable!("Batch::gather only asks for rows of partial blocks")
}

impl<'w> Scanner<'w> {
    /// A scanner that reports damaged inputs through `warn` (one line each, without newline).
    pub fn new(opts: ScanOptions, warn: impl FnMut(&str) + 'w) -> Self {
        Scanner {
            opts,
            wanted: ColumnSet::ALL,
            stats: ScanStats::default(),
            warn: Box::new(warn),
            copying: false,
            pools: batch::BatchPools::default(),
            piped: false,
        }
    }

    /// Whether blocks of `f` are copied out for a scan of the columns `columns`.
    fn copy_blocks_of(&self, f: &ArchiveFile, columns: ColumnSet) -> bool {
        f.reads_blocks_from_disk()
            && match self.opts.block_read {
                BlockRead::Map => false,
                BlockRead::Copy => true,
                BlockRead::Auto => columns == ColumnSet::ALL || self.copying,
            }
    }

    /// With [`BlockRead::Auto`], learns from a batch of `blocks` blocks of which the consumer
    /// asked for `whole` in full: copy once most are wanted whole, view in place again once few
    /// are.
    fn learn_block_use(&mut self, whole: usize, blocks: usize) {
        if 2 * whole > blocks {
            self.copying = true;
        } else if 4 * whole < blocks {
            self.copying = false;
        }
    }

    /// The frames' Bloom filters of a block, when it has them; damaged ones are reported (the
    /// block is then read whole, every flow seen by the filter) and give `None`.
    fn frame_filters<'f>(
        &mut self,
        frames: Result<Option<FrameBlooms<'f>>, ArchiveError>,
    ) -> Option<FrameBlooms<'f>> {
        frames.unwrap_or_else(|e| {
            self.report_damaged_bloom(&e);
            None
        })
    }

    /// Whether `prune` rules a block out by its address Bloom filter (`bloom`); a damaged filter
    /// is reported (counted, naming the file and offset) and the block kept, so its flows are
    /// all read and the answer stays right.
    fn block_ruled_out<'b>(
        &mut self,
        prune: Option<&BlockPrune>,
        bloom: impl FnOnce() -> Result<Option<AddrBloom<'b>>, ArchiveError>,
    ) -> bool {
        let Some(prune) = prune else {
            return false;
        };
        ruled_out(prune, bloom).unwrap_or_else(|e| {
            self.report_damaged_bloom(&e);
            false
        })
    }

    /// Reports a block's damaged address Bloom filter (its own or its frames').
    fn report_damaged_bloom(&mut self, e: &ArchiveError) {
        self.report(&format!("{e} (the block's flows were all read instead)"));
    }

    pub(crate) fn report(&mut self, msg: &str) {
        self.stats.errors += 1;
        (self.warn)(msg);
    }

    /// Reads every input in order, calling `on_batch` with its blocks (every column checked).
    pub fn run(&mut self, inputs: &[Input], on_batch: &mut BatchFn<'_>) -> Result<(), ScanError> {
        self.run_columns(inputs, ColumnSet::ALL, &mut |batch| on_batch(batch.blocks))
    }

    /// Reads every input in order, checking and handing out only the columns in `wanted`
    /// (archives only; other inputs give whole blocks): a filter over two address columns then
    /// reads 8 bytes a flow instead of ~60-100. With a time window or shift, whole blocks are read.
    pub fn run_columns(
        &mut self,
        inputs: &[Input],
        wanted: ColumnSet,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        let o = &self.opts;
        self.wanted = if o.from_ms.is_some() || o.to_ms.is_some() || o.time_shift_ms != 0 {
            ColumnSet::ALL
        } else {
            wanted
        };
        // Small archive files waiting to be scanned together (see `run_group`).
        let mut group = Vec::new();
        for input in inputs {
            match input {
                Input::Stdin => {
                    self.run_group(&mut group, on_batch)?;
                    crate::pipeline::pipe::grow_pipe(0);
                    let stdin = io::stdin();
                    self.run_reader("(stdin)", stdin.lock(), on_batch)?;
                }
                Input::File(p) => self.run_path_grouped(p, &mut group, on_batch)?,
            }
        }
        self.run_group(&mut group, on_batch)
    }

    /// Hands a batch to the consumer, then reports any damage it found in other columns.
    fn deliver<'a>(
        &mut self,
        blocks: &[FlowBlock<'a>],
        raw: Option<StoredBytes<'_, 'a>>,
        refs: Option<&[Option<BlockRef>]>,
        full: &FullFn<'_, 'a>,
        gather: &GatherFn<'_>,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        let problems = std::sync::Mutex::new(Vec::new());
        let batch = Batch {
            blocks,
            raw: raw.map(|r| r.blocks).filter(|r| r.len() == blocks.len()),
            stored_checked: raw.is_some_and(|r| r.checked),
            refs: refs.filter(|r| r.len() == blocks.len()),
            full,
            gather,
            problems: &problems,
        };
        let r = on_batch(&batch).map_err(ScanError::Output);
        for e in problems.into_inner().unwrap_or_else(|p| p.into_inner()) {
            self.report(&format!("{e} (the flows of that block were skipped)"));
        }
        r
    }

    /// Applies the time window and shift, then hands the batch on.
    fn emit<'a>(
        &mut self,
        views: &[FlowBlock<'a>],
        raw: Option<StoredBytes<'_, 'a>>,
        refs: Option<&[Option<BlockRef>]>,
        full: &FullFn<'_, 'a>,
        gather: &GatherFn<'_>,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        if views.is_empty() {
            return Ok(());
        }
        self.stats.blocks_read += views.len() as u64;
        let read: u64 = views.iter().map(|v| v.len as u64).sum();
        self.stats.flows_read += read;
        let (from, to, shift) = (self.opts.from_ms, self.opts.to_ms, self.opts.time_shift_ms);
        if from.is_none() && to.is_none() && shift == 0 {
            self.stats.flows_out += read;
            return self.deliver(views, raw, refs, full, gather, on_batch);
        }
        let owned: Vec<Option<FlowBlockBuf>> = views
            .par_iter()
            .map(|v| window_and_shift(v, from, to, shift))
            .collect();
        let out: Vec<FlowBlock<'_>> = views
            .iter()
            .zip(owned.iter())
            .map(|(v, o)| o.as_ref().map_or(*v, |b| b.view()))
            .filter(|v| v.len > 0)
            .collect();
        self.stats.flows_out += out.iter().map(|v| v.len as u64).sum::<u64>();
        if out.is_empty() {
            return Ok(());
        }
        // With a window or shift every column was read, so the blocks are already whole.
        self.deliver(&out, None, None, &already_full, &already_gathered, on_batch)
    }
}

/// Returns a shifted/trimmed copy of the block, or `None` when the block passes unchanged.
fn window_and_shift(
    v: &FlowBlock<'_>,
    from: Option<i64>,
    to: Option<i64>,
    shift: i64,
) -> Option<FlowBlockBuf> {
    let keep = |s: i64| {
        let s = s + shift;
        from.is_none_or(|f| s >= f) && to.is_none_or(|t| s < t)
    };
    if shift == 0 && v.start_ms.iter().all(|&s| keep(s)) {
        return None;
    }
    let mut b = FlowBlockBuf::default();
    for i in 0..v.len {
        if keep(v.start_ms[i]) {
            b.push_row(v, i);
        }
    }
    if shift != 0 {
        b.start_ms.iter_mut().for_each(|t| *t += shift);
        b.end_ms.iter_mut().for_each(|t| *t += shift);
    }
    Some(b)
}

mod batch;
mod files;
mod stream;
#[cfg(test)]
mod tests;
