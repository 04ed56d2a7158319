//! Turning command-line inputs (files, directories, globs, `-`/stdin) into batches of blocks.
//!
//! Every reading tool goes through [`Scanner`]: it finds the files (directories recursively, in
//! name order, which is time order for dated trees), recognises flowkit archives and streams,
//! skips blocks outside a time window using their recorded time ranges, applies a clock shift,
//! and hands out batches of blocks that a tool may process in parallel. A damaged file is
//! reported and skipped after its last good block; the scan goes on with the next input.

use crate::archive::bloom::AddrBloom;
use crate::archive::flowtools::FlowToolsReader;
use crate::archive::format::DEFAULT_BLOCK_FLOWS;
use crate::archive::reader::{block_bloom, gather_block_rows, view_block_columns};
use crate::archive::{
    AlignedBuf, ArchiveError, ArchiveFile, BlockRef, ColumnScratch, StreamItem, StreamReader,
};
use crate::filter::BlockPrune;
use crate::model::block::{ColumnSet, FlowBlock, FlowBlockBuf};
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// One input named on the command line, after expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input (a stream from another tool).
    Stdin,
    /// A file.
    File(PathBuf),
}

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

/// Keeps the blocks of `items` that `prune` cannot rule out, their Bloom filters read in
/// parallel; a block without one, or with a damaged one, is kept (the filter then sees its flows).
/// Returns how many were dropped.
fn retain_unpruned<'a, T: Sync>(
    items: &mut Vec<T>,
    prune: &BlockPrune,
    bloom: impl Fn(&T) -> Result<Option<AddrBloom<'a>>, ArchiveError> + Sync,
) -> u64 {
    let keep: Vec<bool> = items
        .par_iter()
        .map(|it| !matches!(bloom(it), Ok(Some(b)) if !prune.may_match(&b)))
        .collect();
    let before = items.len();
    let mut keep = keep.into_iter();
    items.retain(|_| keep.next().unwrap_or(true));
    (before - items.len()) as u64
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
    /// Blocks skipped because their address Bloom filter rules out every flow a filter passes.
    pub blocks_pruned: u64,
    /// Of the blocks read, those copied out of their file rather than viewed in its map (see
    /// [`BlockRead`]).
    pub blocks_copied: u64,
    /// Flows in the blocks read.
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
            "files {}, blocks read {} ({} copied), blocks skipped {}, blocks pruned {}, flows read {}, flows out {}, errors {}",
            self.files,
            self.blocks_read,
            self.blocks_copied,
            self.blocks_skipped,
            self.blocks_pruned,
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

/// Expands command-line arguments: `-` is stdin, directories are walked recursively (hidden and
/// `tmp*` files skipped unless `include_tmp`), quoted globs are expanded; no argument means stdin.
pub fn expand_inputs(args: &[String], include_tmp: bool) -> Result<Vec<Input>, ScanError> {
    if args.is_empty() {
        return Ok(vec![Input::Stdin]);
    }
    let mut out = Vec::new();
    for a in args {
        if a == "-" {
            out.push(Input::Stdin);
            continue;
        }
        let p = Path::new(a);
        if p.is_dir() {
            let mut files: Vec<PathBuf> = walkdir::WalkDir::new(p)
                .follow_links(true)
                .max_depth(64)
                .into_iter()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_file())
                .filter(|e| wanted_name(e.file_name(), include_tmp))
                .map(|e| e.into_path())
                .collect();
            files.sort();
            out.extend(files.into_iter().map(Input::File));
        } else if p.exists() {
            out.push(Input::File(p.to_path_buf()));
        } else if a.contains(['*', '?', '[']) {
            let mut found: Vec<PathBuf> = glob::glob(a)
                .map_err(|e| ScanError::BadInput(format!("{a}: bad pattern: {e}")))?
                .filter_map(|r| r.ok())
                .filter(|p| p.is_file())
                .collect();
            if found.is_empty() {
                return Err(ScanError::BadInput(format!("{a}: no file matches")));
            }
            found.sort();
            out.extend(found.into_iter().map(Input::File));
        } else {
            return Err(ScanError::BadInput(format!(
                "{a}: no such file or directory"
            )));
        }
    }
    Ok(out)
}

fn wanted_name(name: &std::ffi::OsStr, include_tmp: bool) -> bool {
    let n = name.to_string_lossy();
    !n.starts_with('.') && (include_tmp || !n.starts_with("tmp"))
}

/// A reader of another tool's flow files (flow-tools, nfdump), a block of flows at a time.
pub trait ForeignFlows {
    /// Fills `out` (cleared first) with up to `max` flows; 0 at the end. On damage, the flows
    /// before it are in `out` and the error names the byte offset.
    fn next_block(&mut self, out: &mut FlowBlockBuf, max: usize) -> Result<usize, ArchiveError>;
}

impl<R: Read> ForeignFlows for FlowToolsReader<R> {
    fn next_block(&mut self, out: &mut FlowBlockBuf, max: usize) -> Result<usize, ArchiveError> {
        FlowToolsReader::next_block(self, out, max)
    }
}

impl<R: Read> ForeignFlows for crate::archive::nfdump::NfdumpReader<R> {
    fn next_block(&mut self, out: &mut FlowBlockBuf, max: usize) -> Result<usize, ArchiveError> {
        crate::archive::nfdump::NfdumpReader::next_block(self, out, max)
    }
}

/// What an input turned out to hold, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// A flowkit archive or stream.
    Flowkit,
    /// A flow-tools file or stream.
    FlowTools,
    /// An nfdump file (nfcapd's `nfcapd.YYYYMMDDhhmm`), see [`crate::archive::nfdump`].
    Nfdump,
    /// Something else.
    Unknown,
}

/// Recognises an input from its first bytes.
pub fn sniff(prefix: &[u8]) -> InputFormat {
    let magic = crate::archive::format::FILE_MAGIC;
    // A file cut inside its magic is still recognised, so it is reported as truncated.
    let cut_magic =
        |m: &[u8]| !prefix.is_empty() && prefix.len() < m.len() && m.starts_with(prefix);
    if prefix.starts_with(magic) || cut_magic(magic) {
        InputFormat::Flowkit
    } else if prefix.starts_with(&[0xCF, 0x10]) || cut_magic(&[0xCF, 0x10]) {
        InputFormat::FlowTools
    } else if crate::archive::nfdump::sniff(prefix) {
        InputFormat::Nfdump
    } else {
        InputFormat::Unknown
    }
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
    /// Buffers for blocks copied out of files, kept from batch to batch and file to file.
    copies: Vec<AlignedBuf>,
    /// The stream being read comes through a pipe (stdin, a FIFO): when it stops early, the
    /// program writing it stopped (see `input_forms::report_stream_error`).
    pub(crate) piped: bool,
    /// Where blocks' narrow columns are widened, one per block of a batch, reused.
    scratch: Vec<ColumnScratch>,
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

/// Appends rows of block `k` of a batch, every column checked, to a buffer (nothing on an error).
type GatherFn<'b> =
    dyn Fn(usize, &[u32], &mut FlowBlockBuf) -> Result<(), ArchiveError> + Sync + 'b;

/// A batch of blocks, in input order, as a scan hands them to a consumer. When the scan asked
/// for some columns only, the blocks are partial (only those columns checked and present); a
/// consumer that then needs whole rows (to write out the flows a filter selected) asks for
/// [`Batch::full`] of just those blocks.
pub struct Batch<'b, 'a> {
    /// The blocks.
    pub blocks: &'b [FlowBlock<'a>],
    /// The checked bytes of each block as stored (archives and streams read without a time
    /// window or shift), so a tool that passes whole blocks on can copy them as they are.
    pub raw: Option<&'b [&'a [u8]]>,
    /// For each block, a reference a flowkit reader on this host can follow instead of the
    /// bytes (whole blocks of published archive files; see `archive::reference`).
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

/// Where a block of a stream batch is: in buffer `b` (read at a stream offset), or block `i`
/// of the `f`-th referenced file of the batch (all of it, or the rows the reference names).
enum StreamSlot {
    Buf(usize, u64),
    Ref(usize, usize, BlockRef),
}

impl StreamSlot {
    /// The rows of a referenced block this slot stands for, when not all of them.
    fn rows(&self) -> Option<&[u32]> {
        match self {
            StreamSlot::Ref(_, _, r) => r.rows.as_deref(),
            StreamSlot::Buf(..) => None,
        }
    }
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
            copies: Vec::new(),
            piped: false,
            scratch: Vec::new(),
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
        raw: Option<&[&'a [u8]]>,
        refs: Option<&[Option<BlockRef>]>,
        full: &FullFn<'_, 'a>,
        gather: &GatherFn<'_>,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        let problems = std::sync::Mutex::new(Vec::new());
        let batch = Batch {
            blocks,
            raw: raw.filter(|r| r.len() == blocks.len()),
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

    /// Reads one file.
    pub fn run_path(
        &mut self,
        path: &Path,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        let mut group = Vec::new();
        self.run_path_grouped(path, &mut group, on_batch)?;
        self.run_group(&mut group, on_batch)
    }

    /// Reads one file; a small complete archive joins `group`, whose files are scanned together
    /// (see [`Scanner::run_group`]) once their blocks fill a batch, before any other input is
    /// read, or at the end. (Every file in a group has a block to read, so a group holds at most
    /// a batch's worth of files open.)
    fn run_path_grouped(
        &mut self,
        path: &Path,
        group: &mut Vec<(ArchiveFile, Vec<usize>)>,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        let name = path.display().to_string();
        let mut prefix = [0u8; 8];
        let opened = std::fs::File::open(path).and_then(|f| f.metadata().map(|m| (f, m)));
        if let Some((_, stands_for)) = self.opts.spooled.iter().find(|(p, _)| p == path) {
            let (f, stands_for) = (opened.map_err(ScanError::Output)?.0, stands_for.clone());
            self.run_group(group, on_batch)?;
            return crate::pipeline::forms::run_piped(self, &stands_for, f, on_batch);
        }
        let got = match opened {
            // A FIFO (`<(flow-cat ...)`), a terminal or a device is read once, as a stream.
            Ok((f, meta)) if !meta.is_file() => {
                self.run_group(group, on_batch)?;
                return crate::pipeline::forms::run_piped(self, &name, f, on_batch);
            }
            Ok((mut f, _)) => crate::archive::reader::read_full(&mut f, &mut prefix),
            Err(e) => Err(e),
        };
        let got = match got {
            Ok(n) => n,
            Err(e) => {
                self.report(&format!("{name}: {e}"));
                return Ok(());
            }
        };
        if got == 0 {
            self.report(&crate::pipeline::forms::empty_input(&name, false));
            return Ok(());
        }
        match sniff(&prefix[..got]) {
            InputFormat::Flowkit => match ArchiveFile::open(path, self.opts.no_mmap) {
                // A stream saved from a pipe between flowkit tools (a spool of stdin), or an
                // archive with a flow-tools stream after it: read sequentially, as a stream.
                Ok(f) if f.read_as_stream() => {
                    drop(f);
                    self.run_group(group, on_batch)?;
                    let file = std::fs::File::open(path).map_err(ScanError::Output)?;
                    self.run_reader(&name, io::BufReader::with_capacity(1 << 20, file), on_batch)
                }
                Ok(f) => {
                    let wanted = self.wanted_blocks(&f);
                    let batch = self.opts.batch_blocks.max(1);
                    if wanted.is_empty() && f.tail_error().is_none() {
                        return Ok(()); // nothing to read (a time window or prune test): closed now
                    }
                    if f.tail_error().is_some() || wanted.len() >= batch || self.by_index() {
                        self.run_group(group, on_batch)?;
                        self.run_files(&[(f, wanted)], on_batch)
                    } else {
                        group.push((f, wanted));
                        match group.iter().map(|(_, w)| w.len()).sum::<usize>() >= batch {
                            true => self.run_group(group, on_batch),
                            false => Ok(()),
                        }
                    }
                }
                Err(e) => {
                    self.run_group(group, on_batch)?;
                    self.report(&e.to_string());
                    Ok(())
                }
            },
            InputFormat::FlowTools | InputFormat::Nfdump => {
                self.run_group(group, on_batch)?;
                let file = std::fs::File::open(path).map_err(ScanError::Output)?;
                self.run_reader(&name, io::BufReader::with_capacity(1 << 20, file), on_batch)
            }
            InputFormat::Unknown => {
                self.run_group(group, on_batch)?;
                self.report(&format!(
                    "{name}: not a flowkit archive, flow-tools or nfdump file, skipped"
                ));
                Ok(())
            }
        }
    }

    /// Scans the small archive files gathered in `group` together (emptying it): a collector's
    /// five-minute files often hold one or two blocks each, and scanned one by one each would be
    /// a parallel step of one or two blocks, the threads idle while the next file is opened.
    /// Flows keep the files' order; damage in one file skips the rest of that file only.
    fn run_group(
        &mut self,
        group: &mut Vec<(ArchiveFile, Vec<usize>)>,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        if group.is_empty() {
            return Ok(());
        }
        let files = std::mem::take(group);
        self.run_files(&files, on_batch)
    }

    /// Reads an opened archive file, skipping blocks outside the time window.
    pub fn run_archive(
        &mut self,
        f: ArchiveFile,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        let wanted = self.wanted_blocks(&f);
        self.run_files(&[(f, wanted)], on_batch)
    }

    /// The blocks of `f` the scan reads: those the time window and the prune test leave (counted
    /// in the stats, as is the file).
    fn wanted_blocks(&mut self, f: &ArchiveFile) -> Vec<usize> {
        self.stats.files += 1;
        let shift = self.opts.time_shift_ms;
        let from = self.opts.from_ms.map(|t| t.saturating_sub(shift));
        let to = self.opts.to_ms.map(|t| t.saturating_sub(shift));
        let wanted: Vec<usize> = (0..f.blocks().len())
            .filter(|&i| f.blocks()[i].may_start_within(from, to))
            .collect();
        self.stats.blocks_skipped += (f.blocks().len() - wanted.len()) as u64;
        self.prune_blocks(f, wanted)
    }

    /// Whether blocks are handed out from their files' indexes, unread (see
    /// [`ScanOptions::refs_only`]).
    fn by_index(&self) -> bool {
        self.opts.refs_only
            && self.wanted == ColumnSet::EMPTY
            && self.opts.from_ms.is_none()
            && self.opts.to_ms.is_none()
            && self.opts.time_shift_ms == 0
    }

    /// Hands out the `wanted` blocks of each file, in order, a batch at a time (a batch may span
    /// files), viewed in place or copied (see [`BlockRead`]).
    fn run_files(
        &mut self,
        files: &[(ArchiveFile, Vec<usize>)],
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        let mut copies = std::mem::take(&mut self.copies);
        let mut scratch = std::mem::take(&mut self.scratch);
        let r = self.run_files_with(files, &mut copies, &mut scratch, on_batch);
        self.copies = copies;
        self.scratch = scratch;
        r
    }

    fn run_files_with(
        &mut self,
        files: &[(ArchiveFile, Vec<usize>)],
        copies: &mut Vec<AlignedBuf>,
        scratch_pool: &mut Vec<ColumnScratch>,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        let columns = self.wanted;
        // (file, block) of every block to hand out, in order; a file whose damage was found
        // loses its remaining entries.
        let mut items: Vec<(usize, usize)> = files
            .iter()
            .enumerate()
            .flat_map(|(fi, (_, w))| w.iter().map(move |&i| (fi, i)))
            .collect();
        // Per file, the first block whose pages this scan may still hold (see `RELEASE_BYTES`).
        let mut unreleased: Vec<Option<usize>> =
            files.iter().map(|(_, w)| w.first().copied()).collect();
        let by_index = self.by_index();
        // Files whose damage was reported (their remaining blocks skipped, no further report).
        let mut abandoned = vec![false; files.len()];
        let mut pos = 0;
        while pos < items.len() {
            let chunk = &items[pos..(pos + self.opts.batch_blocks.max(1)).min(items.len())];
            let file = |k: usize| &files[chunk[k].0].0;
            if by_index {
                if let Some(refs) = (0..chunk.len())
                    .map(|k| file(k).block_ref(chunk[k].1))
                    .collect::<Option<Vec<_>>>()
                {
                    // Passed on by reference: nothing of the blocks is read here.
                    let views: Vec<FlowBlock<'_>> = (0..chunk.len())
                        .map(|k| {
                            FlowBlock::without_columns(file(k).blocks()[chunk[k].1].flows as usize)
                        })
                        .collect();
                    let raw: Vec<&[u8]> = (0..chunk.len())
                        .map(|k| file(k).block_bytes(chunk[k].1))
                        .collect();
                    let refs: Vec<Option<BlockRef>> = refs.into_iter().map(Some).collect();
                    let scratch = scratch_for(scratch_pool, chunk.len());
                    let full = |k: usize| {
                        file(k).block_columns_with(chunk[k].1, ColumnSet::ALL, &scratch[k])
                    };
                    let gather = |k: usize, rows: &[u32], out: &mut FlowBlockBuf| {
                        file(k).gather_rows(chunk[k].1, None, rows, out)
                    };
                    self.emit(&views, Some(&raw), Some(&refs), &full, &gather, on_batch)?;
                    pos += chunk.len();
                    continue;
                }
            }
            let copy: Vec<bool> = (0..chunk.len())
                .map(|k| self.copy_blocks_of(file(k), columns))
                .collect();
            // Where this batch's narrow columns are widened, one per block.
            let scratch = scratch_for(scratch_pool, chunk.len());
            if copies.len() < chunk.len() {
                copies.resize_with(chunk.len(), AlignedBuf::default);
            }
            // Copying, reading and checking a block are one task, so a batch costs one join.
            let (bufs, results): (Vec<&AlignedBuf>, Vec<Result<FlowBlock<'_>, ArchiveError>>) =
                copies[..chunk.len()]
                    .par_iter_mut()
                    .zip(chunk.par_iter().zip(scratch).zip(&copy))
                    .map(|(buf, ((&(fi, i), scratch), &copy))| {
                        let f = &files[fi].0;
                        if !copy {
                            let buf: &AlignedBuf = buf;
                            return (buf, f.block_columns_with(i, columns, scratch));
                        }
                        let read = f.read_block_into(i, buf);
                        let buf: &AlignedBuf = buf;
                        let view =
                            read.and_then(|()| f.view_copied(i, buf.as_bytes(), columns, scratch));
                        (buf, view)
                    })
                    .unzip();
            self.stats.blocks_copied += copy
                .iter()
                .zip(&results)
                .take_while(|(_, r)| r.is_ok())
                .filter(|(&c, _)| c)
                .count() as u64;
            let view = |k: usize, cols: ColumnSet| match copy[k] {
                true => file(k).view_copied(chunk[k].1, bufs[k].as_bytes(), cols, &scratch[k]),
                false => file(k).block_columns_with(chunk[k].1, cols, &scratch[k]),
            };
            let mut views = Vec::with_capacity(results.len());
            let mut failure = None;
            for r in results {
                match r {
                    Ok(v) => views.push(v),
                    Err(e) => {
                        failure = Some((views.len(), e));
                        break;
                    }
                }
            }
            // A mapped file that shrank since it was opened (another program truncated it):
            // blocks past the cut may hold zeros read from vanished pages; hand out only the
            // blocks that end before it, then report.
            // (One check a file of the batch: each is a system call.)
            // Files come in order, so the first one found cut short is the earliest.
            let shrunk = (0..chunk.len())
                .filter(|&k| k == 0 || chunk[k - 1].0 != chunk[k].0)
                .find_map(|k| {
                    let e = file(k).check_unchanged().err()?;
                    let cut = e.offset().unwrap_or(0);
                    (k..chunk.len())
                        .take_while(|&j| chunk[j].0 == chunk[k].0)
                        .find(|&j| {
                            let b = file(j).blocks()[chunk[j].1];
                            b.offset + b.len > cut
                        })
                        .map(|j| (j, e))
                });
            if let Some((k, e)) = shrunk {
                views.truncate(k);
                failure = Some((k, e)); // also explains a block that failed on the zeros
            }
            let whole = AtomicUsize::new(0);
            let full = |k: usize| {
                whole.fetch_add(1, Ordering::Relaxed);
                view(k, ColumnSet::ALL)
            };
            let gather = |k: usize, rows: &[u32], out: &mut FlowBlockBuf| {
                whole.fetch_add(1, Ordering::Relaxed);
                let copied = copy[k].then(|| bufs[k].as_bytes());
                file(k).gather_rows(chunk[k].1, copied, rows, out)
            };
            let raw: Vec<&[u8]> = (0..views.len())
                .map(|k| match copy[k] {
                    true => bufs[k].as_bytes(),
                    false => file(k).block_bytes(chunk[k].1),
                })
                .collect();
            let refs: Vec<Option<BlockRef>> = (0..views.len())
                .map(|k| file(k).block_ref(chunk[k].1))
                .collect();
            let delivered = views.len();
            self.emit(&views, Some(&raw), Some(&refs), &full, &gather, on_batch)?;
            if columns != ColumnSet::ALL {
                self.learn_block_use(whole.into_inner(), views.len());
            }
            drop(views);
            // ... and if a file shrank into this batch's blocks while the consumer was reading
            // them in the map, say so: the flows just handed on may include zeros from vanished
            // pages. (Copied blocks were whole and checked before they were handed on.)
            // (Once a file, for the files whose delivered blocks were read in the map.)
            let mut late: Vec<(usize, ArchiveError, u64)> = Vec::new();
            let failed_file = failure.as_ref().map(|(at, _)| chunk[*at].0);
            for fi in (0..delivered).map(|k| chunk[k].0) {
                if late.iter().any(|(f, ..)| *f == fi) || failed_file == Some(fi) {
                    continue;
                }
                let copy = &copy;
                let mapped = || (0..delivered).filter(move |&j| chunk[j].0 == fi && !copy[j]);
                let Some(end) = mapped()
                    .map(|j| {
                        let b = files[fi].0.blocks()[chunk[j].1];
                        b.offset + b.len
                    })
                    .max()
                else {
                    continue;
                };
                if let Some(e) = files[fi]
                    .0
                    .check_unchanged()
                    .err()
                    .filter(|e| e.offset().unwrap_or(0) < end)
                {
                    let flows = mapped()
                        .map(|j| files[fi].0.blocks()[chunk[j].1].flows as u64)
                        .sum();
                    late.push((fi, e, flows));
                }
            }
            let abandoning = !late.is_empty() || failure.is_some();
            for (fi, e, flows) in late {
                abandoned[fi] = true;
                self.report(&format!(
                    "{e} (the file shrank while its last {flows} flows were being processed: \
                     they may be wrong; rest of file skipped)"
                ));
            }
            // Pages of a large file are given back every `RELEASE_BYTES` it is read.
            for &(fi, i) in &chunk[..delivered] {
                if let Some(first) = unreleased[fi] {
                    let (a, b) = (files[fi].0.blocks()[first], files[fi].0.blocks()[i]);
                    if b.offset + b.len - a.offset >= RELEASE_BYTES {
                        files[fi].0.release(first, i);
                        let w = &files[fi].1;
                        unreleased[fi] = w.get(w.partition_point(|&j| j <= i)).copied();
                    }
                }
            }
            let mut next = pos + delivered;
            if let Some((at, e)) = failure {
                self.report(&format!(
                    "{e} (flows before it were read; rest of file skipped)"
                ));
                abandoned[chunk[at].0] = true;
                next += 1;
            }
            if abandoning {
                let rest = items.split_off(next.min(items.len()));
                items.extend(rest.into_iter().filter(|&(fi, _)| !abandoned[fi]));
            }
            pos = next;
        }
        for (f, _) in files
            .iter()
            .zip(&abandoned)
            .filter(|(_, &a)| !a)
            .map(|(f, _)| f)
        {
            if let Some(e) = f.tail_error() {
                let msg = format!(
                    "{e} (incomplete file; its {} complete flows were read)",
                    f.flow_count()
                );
                self.report(&msg);
            }
        }
        Ok(())
    }

    /// Reads a stream (stdin, or a file read sequentially). Streams or archives written one
    /// after another are read whole (see `archive::members`).
    pub fn run_reader(
        &mut self,
        name: &str,
        r: impl Read,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        self.piped = name == "(stdin)";
        let r = self.run_read(name, r, on_batch);
        self.piped = false;
        r
    }

    /// [`Scanner::run_reader`] with `self.piped` set by the caller.
    pub(crate) fn run_read(
        &mut self,
        name: &str,
        mut r: impl Read,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        let mut prefix = [0u8; 8];
        let got =
            crate::archive::reader::read_full(&mut r, &mut prefix).map_err(ScanError::Output)?;
        if got == 0 {
            self.report(&crate::pipeline::forms::empty_input(name, self.piped));
            return Ok(());
        }
        let (mut prefix, mut base) = (prefix[..got].to_vec(), 0u64);
        let mut r: Box<dyn Read + '_> = Box::new(r);
        // Streams and archives written one after another are read in turn (see
        // `archive::members`), flowkit or flow-tools.
        loop {
            let next = match sniff(&prefix) {
                InputFormat::Flowkit => {
                    let mut stream = match StreamReader::new_at(name, &prefix, r, base) {
                        Ok(s) => s,
                        Err(e) => {
                            self.report_stream_error(&e);
                            return Ok(());
                        }
                    };
                    self.run_stream(&mut stream, on_batch)?;
                    stream.into_next()
                }
                InputFormat::FlowTools => self
                    .run_flow_tools(name, &prefix, r, base, on_batch)?
                    .map(|(p, at, rest)| (p, at, Box::new(rest) as Box<dyn Read + '_>)),
                InputFormat::Nfdump => {
                    let reader = crate::archive::nfdump::NfdumpReader::new(name, &prefix, r);
                    match reader {
                        Ok(reader) => {
                            self.run_foreign(reader, &|e| e.to_string(), on_batch)?;
                        }
                        Err(e) => self.report(&e.to_string()),
                    }
                    None
                }
                InputFormat::Unknown if base > 0 => {
                    let e = crate::archive::members::unexpected(name, base, &prefix);
                    self.report(&e.to_string());
                    return Ok(());
                }
                InputFormat::Unknown => {
                    let hint = if name == "(stdin)" {
                        " (pipe flows from flow-cat, flow-import or flow-nfilter, or name archive files)"
                    } else {
                        ""
                    };
                    self.report(&format!("{name}: not a flowkit or flow-tools stream{hint}"));
                    return Ok(());
                }
            };
            match next {
                Some((p, at, rest)) => (prefix, base, r) = (p, at, rest),
                None => return Ok(()),
            }
        }
    }

    fn run_stream<R: Read>(
        &mut self,
        s: &mut StreamReader<R>,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        self.stats.files += 1;
        let name = s.name().to_string();
        // Blocks carried in the stream fill at most `n` buffers a batch; references (blocks
        // read from their files, like a file scan's) may make a batch as large as a file scan's.
        let n = self.opts.stream_batch_blocks.max(1);
        let n_items = self.opts.batch_blocks.max(n);
        let mut bufs: Vec<AlignedBuf> = (0..n_items).map(|_| AlignedBuf::default()).collect();
        // Files that block references of this stream point into, opened once each.
        let mut referenced: HashMap<Arc<PathBuf>, Arc<ArchiveFile>> = HashMap::new();
        let mut holding = HeldPages::default();
        let mut scratch_pool: Vec<ColumnScratch> = Vec::new();
        // Where the rows named by references to parts of blocks are read out, one per block of
        // a batch, reused.
        let mut rows_pool: Vec<FlowBlockBuf> = Vec::new();
        loop {
            let mut items: Vec<StreamSlot> = Vec::with_capacity(n);
            let mut files: Vec<Arc<ArchiveFile>> = Vec::new();
            let mut used = 0;
            let mut failure = None;
            let mut ended = false;
            // Blocks the prune test rules out are dropped as they arrive, so a batch holds
            // blocks of real work (a selective filter over a stream of references would
            // otherwise pay a parallel step for every few blocks it reads).
            // The Bloom filter is read (and its checksum checked) only when there is a prune
            // test: this runs on the one thread reading the stream, before the batch's work is
            // spread over the others.
            let prune = self.opts.prune.clone();
            fn ruled_out<'b>(
                prune: Option<&BlockPrune>,
                bloom: impl FnOnce() -> Result<Option<AddrBloom<'b>>, ArchiveError>,
            ) -> bool {
                prune.is_some_and(|p| matches!(bloom(), Ok(Some(b)) if !p.may_match(&b)))
            }
            while items.len() < n_items && used < n {
                match s.next_block_into(&mut bufs[used]) {
                    Ok(Some(StreamItem::Block(off))) => {
                        if ruled_out(prune.as_deref(), || {
                            block_bloom(&name, bufs[used].as_bytes(), off)
                        }) {
                            self.stats.blocks_pruned += 1;
                            continue;
                        }
                        items.push(StreamSlot::Buf(used, off));
                        used += 1;
                    }
                    Ok(Some(StreamItem::Ref(r))) => match self.follow(&r, &mut referenced) {
                        Ok((file, i)) => {
                            holding.hold(&file, i);
                            if ruled_out(prune.as_deref(), || file.block_bloom(i)) {
                                self.stats.blocks_pruned += 1;
                                continue;
                            }
                            files.push(file);
                            items.push(StreamSlot::Ref(files.len() - 1, i, r));
                        }
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    },
                    Ok(None) => {
                        ended = true;
                        break;
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            let columns = self.wanted;
            // Referenced blocks being copied out (see [`BlockRead`]) each get a spare buffer;
            // copying, reading and checking a block are one task, so a batch costs one join.
            let copy: Vec<bool> = items
                .iter()
                .map(|it| {
                    it.rows().is_none()
                        && matches!(it, StreamSlot::Ref(f, ..) if self.copy_blocks_of(&files[*f], columns))
                })
                .collect();
            let (held, spare) = bufs.split_at_mut(used);
            let held: &[AlignedBuf] = held;
            let mut spare = spare.iter_mut();
            let mut slots: Vec<Option<&mut AlignedBuf>> = copy
                .iter()
                .map(|&c| if c { spare.next() } else { None })
                .collect();
            let files_ref = &files;
            let name_ref = &name;
            let scratch = scratch_for(&mut scratch_pool, items.len());
            if rows_pool.len() < items.len() {
                rows_pool.resize_with(items.len(), FlowBlockBuf::default);
            }
            // A reference to some rows of a block gives those rows, every column checked: the
            // block is complete, so `full` and `gather` below are never asked for it.
            let (copied, results): (Vec<Option<&AlignedBuf>>, Vec<_>) = items
                .par_iter()
                .zip(slots.par_iter_mut())
                .zip(scratch)
                .zip(rows_pool[..items.len()].par_iter_mut())
                .map(
                    |(((it, slot), scratch), picked)| match (it, slot.take(), it.rows()) {
                        (StreamSlot::Ref(f, i, _), _, Some(rows)) => {
                            picked.clear();
                            let read = files_ref[*f].gather_rows(*i, None, rows, picked);
                            let picked: &FlowBlockBuf = picked;
                            (None, read.map(|()| picked.view()))
                        }
                        (StreamSlot::Ref(f, i, _), Some(buf), None) => {
                            let file = &files_ref[*f];
                            let read = file.read_block_into(*i, buf);
                            let buf: &AlignedBuf = buf;
                            let view = read.and_then(|()| {
                                file.view_copied(*i, buf.as_bytes(), columns, scratch)
                            });
                            (Some(buf), view)
                        }
                        (StreamSlot::Ref(f, i, _), None, None) => {
                            (None, files_ref[*f].block_columns_with(*i, columns, scratch))
                        }
                        (StreamSlot::Buf(b, off), ..) => (
                            None,
                            view_block_columns(
                                name_ref,
                                held[*b].as_bytes(),
                                *off,
                                columns,
                                scratch,
                            )
                            .map(|(v, _)| v),
                        ),
                    },
                )
                .unzip();
            let view = |k: usize, cols: ColumnSet| match (&items[k], copied[k]) {
                (StreamSlot::Buf(b, off), _) => {
                    view_block_columns(&name, held[*b].as_bytes(), *off, cols, &scratch[k])
                        .map(|(v, _)| v)
                }
                (StreamSlot::Ref(f, i, _), Some(buf)) => {
                    files[*f].view_copied(*i, buf.as_bytes(), cols, &scratch[k])
                }
                (StreamSlot::Ref(f, i, _), None) => {
                    files[*f].block_columns_with(*i, cols, &scratch[k])
                }
            };
            let mut views = Vec::with_capacity(results.len());
            for r in results {
                match r {
                    Ok(v) => views.push(v),
                    Err(e) => {
                        // This block comes before whatever the stream itself failed on.
                        failure = Some(e);
                        break;
                    }
                }
            }
            self.stats.blocks_copied += copied[..views.len()].iter().flatten().count() as u64;
            let ended = ended || failure.is_some();
            let whole = AtomicUsize::new(0);
            let full = |k: usize| {
                whole.fetch_add(1, Ordering::Relaxed);
                view(k, ColumnSet::ALL)
            };
            let gather = |k: usize, rows: &[u32], out: &mut FlowBlockBuf| {
                whole.fetch_add(1, Ordering::Relaxed);
                match (&items[k], copied[k]) {
                    (StreamSlot::Buf(b, off), _) => {
                        gather_block_rows(&name, held[*b].as_bytes(), *off, rows, out, |_| Ok(()))
                            .map(|_| ())
                    }
                    (StreamSlot::Ref(f, i, _), copy) => {
                        files[*f].gather_rows(*i, copy.map(|b| b.as_bytes()), rows, out)
                    }
                }
            };
            // The stored bytes of each block, unless some block is part of one (a consumer
            // copying those bytes on would pass the whole block).
            let raw: Option<Vec<&[u8]>> = items[..views.len()]
                .iter()
                .all(|it| it.rows().is_none())
                .then(|| {
                    (0..views.len())
                        .map(|k| match (&items[k], copied[k]) {
                            (StreamSlot::Buf(b, _), _) => held[*b].as_bytes(),
                            (StreamSlot::Ref(..), Some(buf)) => buf.as_bytes(),
                            (StreamSlot::Ref(f, i, _), None) => files[*f].block_bytes(*i),
                        })
                        .collect()
                });
            let refs: Vec<Option<BlockRef>> = items[..views.len()]
                .iter()
                .map(|it| match it {
                    StreamSlot::Buf(..) => None,
                    StreamSlot::Ref(_, _, r) => Some(r.clone()),
                })
                .collect();
            self.emit(
                &views,
                raw.as_deref(),
                Some(&refs),
                &full,
                &gather,
                on_batch,
            )?;
            if columns != ColumnSet::ALL && files.iter().any(|f| f.reads_blocks_from_disk()) {
                self.learn_block_use(whole.into_inner(), views.len());
            }
            drop(views);
            // A referenced file that shrank while it was read (see run_archive): the flows just
            // handed on may include zeros from vanished pages; say so and stop.
            let shrunk = files.iter().find_map(|f| f.check_unchanged().err());
            if let Some(e) = shrunk {
                self.report(&format!(
                    "{e} (a file this stream refers to shrank while its blocks were being \
                     processed: the last flows may be wrong; rest of stream skipped)"
                ));
                return Ok(());
            }
            drop(files);
            holding.release_if_large();
            if let Some(e) = failure {
                self.report_stream_error(&e);
                return Ok(());
            }
            if ended {
                return Ok(());
            }
        }
    }

    /// Drops the blocks of `f` that the prune test rules out (see [`retain_unpruned`]).
    fn prune_blocks(&mut self, f: &ArchiveFile, mut wanted: Vec<usize>) -> Vec<usize> {
        if let Some(prune) = &self.opts.prune {
            self.stats.blocks_pruned += retain_unpruned(&mut wanted, prune, |&i| f.block_bloom(i));
        }
        wanted
    }

    /// Opens (once) the file a block reference points into and finds the block.
    fn follow(
        &mut self,
        r: &BlockRef,
        open: &mut HashMap<Arc<PathBuf>, Arc<ArchiveFile>>,
    ) -> Result<(Arc<ArchiveFile>, usize), ArchiveError> {
        let file = match open.get(&r.path) {
            Some(f) => Arc::clone(f),
            None => {
                // References come file after file: keep only the last few open (a batch in
                // progress holds its own handles), so a stream over thousands of files keeps
                // few maps.
                if open.len() >= MAX_REFERENCED_OPEN {
                    open.clear();
                }
                let f = Arc::new(ArchiveFile::open_referenced(r, self.opts.no_mmap)?);
                open.insert(Arc::clone(&r.path), Arc::clone(&f));
                f
            }
        };
        let i = file
            .block_at(r.offset)
            .filter(|&i| file.blocks()[i].len == r.len && file.blocks()[i].flows == r.flows)
            .ok_or_else(|| {
                ArchiveError::corrupt(
                    file.name(),
                    r.offset,
                    "a block reference names no block of this file",
                )
            })?;
        Ok((file, i))
    }

    /// Reads a flow-tools file or stream, a batch of blocks at a time; a damaged one is reported
    /// after the flows before the damage have been handed on.
    /// When its records end cleanly and more data follows, returns that data's first bytes, its
    /// offset and the reader (see [`FlowToolsReader::into_next`]). `base`: where the stream
    /// starts in the data, for messages about a stream that follows another.
    fn run_flow_tools<R: Read>(
        &mut self,
        name: &str,
        prefix: &[u8],
        r: R,
        base: u64,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<Option<NextMember<io::BufReader<R>>>, ScanError> {
        let within = |e: &ArchiveError| match base {
            0 => e.to_string(),
            _ => format!("{e} (of the flow-tools stream starting at byte {base})"),
        };
        let reader = match FlowToolsReader::new(name, prefix, r) {
            Ok(reader) => reader,
            Err(e) => {
                self.report(&within(&e));
                return Ok(None);
            }
        };
        Ok(self
            .run_foreign(reader, &within, on_batch)?
            .and_then(|reader| reader.into_next()))
    }

    /// Reads another tool's flow file (flow-tools, nfdump) through its reader, a batch of
    /// blocks at a time; a damaged one is reported (through `within`) after the flows before
    /// the damage have been handed on. Returns the reader when its flows ended cleanly.
    fn run_foreign<F: ForeignFlows>(
        &mut self,
        mut reader: F,
        within: &dyn Fn(&ArchiveError) -> String,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<Option<F>, ScanError> {
        self.stats.files += 1;
        let n = self.opts.stream_batch_blocks.max(1);
        let mut bufs: Vec<FlowBlockBuf> = (0..n).map(|_| FlowBlockBuf::default()).collect();
        loop {
            let mut filled = 0;
            let mut failure = None;
            for buf in bufs.iter_mut() {
                match reader.next_block(buf, DEFAULT_BLOCK_FLOWS) {
                    Ok(0) => break,
                    Ok(_) => filled += 1,
                    Err(e) => {
                        // The flows before the damage are in `buf`; keep them.
                        filled += usize::from(!buf.is_empty());
                        failure = Some(e);
                        break;
                    }
                }
            }
            let views: Vec<FlowBlock<'_>> = bufs[..filled].iter().map(|b| b.view()).collect();
            self.emit(
                &views,
                None,
                None,
                &already_full,
                &already_gathered,
                on_batch,
            )?;
            if let Some(e) = failure {
                self.report(&format!("{} (flows before it were read)", within(&e)));
                return Ok(None);
            }
            if filled < n {
                return Ok(Some(reader));
            }
        }
    }

    /// Applies the time window and shift, then hands the batch on.
    fn emit<'a>(
        &mut self,
        views: &[FlowBlock<'a>],
        raw: Option<&[&'a [u8]]>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{ArchiveFileWriter, WriterOptions};
    use crate::model::record::FlowRecord;

    fn write(dir: &Path, name: &str, starts: &[i64]) -> PathBuf {
        let p = dir.join(name);
        let mut w = ArchiveFileWriter::create(
            &p,
            WriterOptions {
                block_flows: 2,
                ..Default::default()
            },
        )
        .unwrap();
        for &s in starts {
            let r = FlowRecord {
                start_ms: s,
                end_ms: s + 10,
                ..FlowRecord::default()
            };
            w.writer().push(&r).unwrap();
        }
        w.finish().unwrap();
        p
    }

    fn collect(scanner: &mut Scanner<'_>, inputs: &[Input]) -> Vec<i64> {
        let mut starts = Vec::new();
        scanner
            .run(inputs, &mut |batch| {
                for b in batch {
                    starts.extend_from_slice(b.start_ms);
                }
                Ok(())
            })
            .unwrap();
        starts
    }

    #[test]
    fn directories_are_walked_in_name_order_skipping_tmp() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "2010/2010-11/2010-11-09/ft.2010-11-09.010000+0000",
            &[3000, 4000],
        );
        write(
            d.path(),
            "2010/2010-11/2010-11-09/ft.2010-11-09.000000+0000",
            &[1000, 2000],
        );
        write(
            d.path(),
            "2010/2010-11/2010-11-09/tmp-ft.2010-11-09.020000+0000",
            &[5000],
        );
        let inputs = expand_inputs(&[d.path().display().to_string()], false).unwrap();
        assert_eq!(inputs.len(), 2);
        let mut s = Scanner::new(ScanOptions::default(), |_| {});
        assert_eq!(collect(&mut s, &inputs), vec![1000, 2000, 3000, 4000]);
        let with_tmp = expand_inputs(&[d.path().display().to_string()], true).unwrap();
        assert_eq!(with_tmp.len(), 3);
    }

    #[test]
    fn time_window_skips_blocks_and_trims_flows() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "a", &[10, 20, 30, 40, 50, 60]);
        let opts = ScanOptions {
            from_ms: Some(30),
            to_ms: Some(50),
            ..Default::default()
        };
        let mut s = Scanner::new(opts, |_| {});
        assert_eq!(collect(&mut s, &[Input::File(p)]), vec![30, 40]);
        assert_eq!(s.stats.blocks_skipped, 2);
        assert_eq!(s.stats.blocks_read, 1);
    }

    #[test]
    fn time_shift_applies_before_the_window() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "a", &[10, 20, 30]);
        let opts = ScanOptions {
            time_shift_ms: 100,
            from_ms: Some(115),
            ..Default::default()
        };
        let mut s = Scanner::new(opts, |_| {});
        assert_eq!(collect(&mut s, &[Input::File(p)]), vec![120, 130]);
    }

    /// Batches and flows a scan of `inputs` hands out with `batch_blocks` blocks a batch.
    fn batches_of(inputs: &[Input], batch_blocks: usize) -> (Vec<Vec<i64>>, Vec<String>) {
        let mut warnings = Vec::new();
        let mut batches = Vec::new();
        let opts = ScanOptions {
            batch_blocks,
            ..ScanOptions::default()
        };
        {
            let mut s = Scanner::new(opts, |m| warnings.push(m.to_string()));
            s.run(inputs, &mut |blocks| {
                batches.push(blocks.iter().flat_map(|b| b.start_ms.to_vec()).collect());
                Ok(())
            })
            .unwrap();
            assert_eq!(s.stats.files as usize, inputs.len());
        }
        (batches, warnings)
    }

    #[test]
    fn small_files_are_scanned_in_batches_across_files() {
        let d = tempfile::tempdir().unwrap();
        // Ten files of one block (two flows) each, then one of three blocks, then one more small.
        let mut inputs: Vec<Input> = (0..10)
            .map(|i| Input::File(write(d.path(), &format!("f{i:02}"), &[2 * i, 2 * i + 1])))
            .collect();
        inputs.push(Input::File(write(d.path(), "g", &[20, 21, 22, 23, 24, 25])));
        inputs.push(Input::File(write(d.path(), "h", &[26])));
        let (batches, warnings) = batches_of(&inputs, 4);
        assert!(warnings.is_empty(), "{warnings:?}");
        let flows: Vec<i64> = batches.concat();
        assert_eq!(flows, (0..27).collect::<Vec<i64>>());
        // Four one-block files a batch (not one file a batch); the last two one-block files and
        // the three-block one fill a batch and leave one block; the last file alone.
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [8, 8, 8, 2, 1], "{batches:?}");
        // Without grouping (one block a batch) the flows are the same.
        assert_eq!(batches_of(&inputs, 1).0.concat(), flows);
    }

    #[test]
    fn files_with_nothing_to_read_are_not_held_open() {
        let d = tempfile::tempdir().unwrap();
        // Many small files the window rules out, between two it keeps: a group never holds them.
        let mut inputs = vec![Input::File(write(d.path(), "a", &[100, 110]))];
        for i in 0..50 {
            inputs.push(Input::File(write(d.path(), &format!("n{i:02}"), &[1, 2])));
        }
        inputs.push(Input::File(write(d.path(), "z", &[120])));
        let opts = ScanOptions {
            from_ms: Some(100),
            ..ScanOptions::default()
        };
        let mut s = Scanner::new(opts, |_| {});
        let mut held = Vec::new();
        let mut group = Vec::new();
        for input in &inputs {
            let Input::File(p) = input else {
                unreachable!()
            };
            s.run_path_grouped(p, &mut group, &mut |_| Ok(())).unwrap();
            held.push(group.len());
        }
        // Only "a" and then "z" wait in the group; the fifty others were closed as they came.
        assert_eq!(held.iter().max(), Some(&2), "{held:?}");
        assert!(held[..51].iter().all(|&n| n == 1), "{held:?}");
        assert_eq!(
            collect(&mut Scanner::new(s.opts.clone(), |_| {}), &inputs),
            vec![100, 110, 120]
        );
    }

    #[test]
    fn damage_in_one_of_several_small_files_skips_only_the_rest_of_that_file() {
        let d = tempfile::tempdir().unwrap();
        let a = write(d.path(), "a", &[1, 2]);
        let bad = write(d.path(), "b", &[3, 4, 5, 6, 7]);
        let c = write(d.path(), "c", &[8, 9]);
        // Damage the second of b's three blocks in place.
        let blk = ArchiveFile::open(&bad, false).unwrap().blocks()[1];
        let mut bytes = std::fs::read(&bad).unwrap();
        bytes[(blk.offset + blk.len) as usize - 20] ^= 0x40;
        std::fs::write(&bad, &bytes).unwrap();
        let inputs = [Input::File(a), Input::File(bad.clone()), Input::File(c)];
        for batch_blocks in [16, 3, 1] {
            let (batches, warnings) = batches_of(&inputs, batch_blocks);
            assert_eq!(
                batches.concat(),
                [1, 2, 3, 4, 8, 9],
                "{batch_blocks} a batch"
            );
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(
                warnings[0].starts_with(&bad.display().to_string()),
                "{warnings:?}"
            );
            assert!(warnings[0].contains("rest of file skipped"), "{warnings:?}");
        }
    }

    #[test]
    fn damaged_file_is_reported_and_the_scan_goes_on() {
        let d = tempfile::tempdir().unwrap();
        let bad = write(d.path(), "a", &[1, 2, 3, 4]);
        let good = write(d.path(), "b", &[5]);
        let mut bytes = std::fs::read(&bad).unwrap();
        bytes.truncate(bytes.len() - 168 - 20); // tail is 168 bytes: cut into the last block
        std::fs::write(&bad, &bytes).unwrap();
        let mut warnings = Vec::new();
        let got = {
            let mut s = Scanner::new(ScanOptions::default(), |m| warnings.push(m.to_string()));
            collect(&mut s, &[Input::File(bad.clone()), Input::File(good)])
        };
        assert_eq!(got, vec![1, 2, 5]);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].starts_with(&bad.display().to_string()),
            "{}",
            warnings[0]
        );
        assert!(warnings[0].contains("byte"), "{}", warnings[0]);
    }

    #[test]
    fn partial_scans_check_only_the_columns_asked_for() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "a", &[10, 20, 30, 40]); // two blocks of two flows
                                                         // Damage the end_ms column of the second block (its first value byte).
        let f = ArchiveFile::open(&p, true).unwrap();
        let b1 = f.blocks()[1];
        let dir = crate::archive::format::BLOCK_HEADER_LEN
            + crate::archive::format::le_u32(&std::fs::read(&p).unwrap(), b1.offset as usize + 4)
                as usize
                * crate::archive::format::COLUMN_ENTRY_LEN;
        let bytes = std::fs::read(&p).unwrap();
        let e = b1.offset as usize + crate::archive::format::BLOCK_HEADER_LEN + 24; // entry 1: end_ms
        let end_off = u32::from_le_bytes(bytes[e + 4..e + 8].try_into().unwrap()) as usize;
        let mut bad = bytes.clone();
        bad[b1.offset as usize + dir + end_off] ^= 1;
        std::fs::write(&p, &bad).unwrap();

        let mut warnings = Vec::new();
        let mut seen = Vec::new();
        let mut whole = Vec::new();
        {
            let mut s = Scanner::new(ScanOptions::default(), |m| warnings.push(m.to_string()));
            let wanted = ColumnSet::of(&[crate::ColumnId::StartMs]);
            s.run_columns(&[Input::File(p.clone())], wanted, &mut |batch| {
                for (k, b) in batch.blocks.iter().enumerate() {
                    assert!(b.end_ms.is_empty(), "unrequested column handed out");
                    seen.extend_from_slice(b.start_ms);
                    if let Some(full) = batch.full(k) {
                        whole.extend_from_slice(full.end_ms);
                    }
                }
                Ok(())
            })
            .unwrap();
        }
        // The damaged column is not read by a scan of start_ms alone ...
        assert_eq!(seen, vec![10, 20, 30, 40]);
        // ... and asking for the whole damaged block reports it and skips only that block.
        assert_eq!(whole, vec![20, 30]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("end_ms"), "{}", warnings[0]);
    }

    /// A stream holding references to the blocks of `file` (as flow-cat sends into a pipe).
    fn stream_of_refs(file: &Path) -> Vec<u8> {
        let f = ArchiveFile::open(file, false).unwrap();
        let mut w =
            crate::archive::ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
        for i in 0..f.blocks().len() {
            w.write_ref(
                &f.block_ref(i)
                    .expect("a published file's blocks have references"),
            )
            .unwrap();
        }
        w.finish().unwrap().0
    }

    fn scan_stream(bytes: &[u8]) -> (Vec<i64>, Vec<String>) {
        let mut warnings = Vec::new();
        let mut starts = Vec::new();
        {
            let mut s = Scanner::new(ScanOptions::default(), |m| warnings.push(m.to_string()));
            s.run_reader("(stdin)", bytes, &mut |batch| {
                for b in batch.blocks {
                    starts.extend_from_slice(b.start_ms);
                }
                assert!(batch.refs.is_some_and(|r| r.iter().all(|r| r.is_some())));
                Ok(())
            })
            .unwrap();
        }
        (starts, warnings)
    }

    /// Scans `input` (a file, or a stream of references to one) for start_ms only, reading its
    /// blocks `block_read`'s way; a consumer that `wants_whole` blocks asks for every one in
    /// full. Returns the start and end times seen and the scan's counts.
    fn partial_scan(
        input: &[u8],
        file: Option<&Path>,
        block_read: BlockRead,
        wants_whole: bool,
    ) -> (Vec<i64>, Vec<i64>, ScanStats) {
        let opts = ScanOptions {
            block_read,
            batch_blocks: 3,
            stream_batch_blocks: 3,
            ..ScanOptions::default()
        };
        let (mut starts, mut ends) = (Vec::new(), Vec::new());
        let mut s = Scanner::new(opts, |m| panic!("{m}"));
        let wanted = ColumnSet::of(&[crate::ColumnId::StartMs]);
        let mut consume = |batch: &Batch<'_, '_>| {
            for (k, b) in batch.blocks.iter().enumerate() {
                starts.extend_from_slice(b.start_ms);
                if wants_whole {
                    ends.extend_from_slice(batch.full(k).unwrap().end_ms);
                }
            }
            Ok(())
        };
        match file {
            Some(p) => s.run_columns(&[Input::File(p.to_path_buf())], wanted, &mut consume),
            None => {
                s.wanted = wanted;
                s.run_reader("(stdin)", input, &mut consume)
            }
        }
        .unwrap();
        (starts, ends, s.stats)
    }

    #[test]
    fn scans_copy_blocks_out_once_their_consumer_wants_them_whole() {
        let d = tempfile::tempdir().unwrap();
        let starts: Vec<i64> = (0..40).map(|i| i * 100).collect();
        let ends: Vec<i64> = starts.iter().map(|s| s + 10).collect();
        let p = write(d.path(), "a", &starts); // 20 blocks of 2 flows
        let refs = stream_of_refs(&p);
        for file in [Some(p.as_path()), None] {
            let input = if file.is_some() { &[][..] } else { &refs[..] };
            // A consumer that wants whole blocks: the first batch is viewed in the map, the
            // rest copied out; the flows are those of reading in place throughout.
            let mapped = partial_scan(input, file, BlockRead::Map, true);
            let auto = partial_scan(input, file, BlockRead::Auto, true);
            let copied = partial_scan(input, file, BlockRead::Copy, true);
            assert_eq!((&mapped.0, &mapped.1), (&starts, &ends));
            assert_eq!((&auto.0, &auto.1), (&starts, &ends));
            assert_eq!((&copied.0, &copied.1), (&starts, &ends));
            assert_eq!(mapped.2.blocks_copied, 0);
            assert_eq!(auto.2.blocks_copied, 20 - 3, "{file:?}");
            assert_eq!(copied.2.blocks_copied, 20);
            // One that needs only the column it asked for: nothing is copied.
            let few = partial_scan(input, file, BlockRead::Auto, false);
            assert_eq!((&few.0, few.1.len()), (&starts, 0));
            assert_eq!(few.2.blocks_copied, 0, "{file:?}");
        }
    }

    #[test]
    fn block_references_in_a_stream_read_the_referenced_file() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "a", &[10, 20, 30, 40, 50]);
        let refs = stream_of_refs(&p);
        assert!(
            refs.len() < 600,
            "references, not blocks: {} bytes",
            refs.len()
        );
        let (starts, warnings) = scan_stream(&refs);
        assert_eq!(starts, vec![10, 20, 30, 40, 50]);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    /// A stream mixing whole-block references, references to some rows of a block (as
    /// flow-nfilter sends a selection) and one to rows of a block already selected from gives
    /// exactly those rows, in order, complete; a consumer passing them on gets no raw bytes (they
    /// would be the whole block) but the references, selection included.
    #[test]
    fn references_to_rows_give_those_rows_and_no_raw_bytes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ft.2024-06-03.000000+0000");
        let mut w = ArchiveFileWriter::create(
            &p,
            WriterOptions {
                block_flows: 10,
                ..Default::default()
            },
        )
        .unwrap();
        for i in 0..30i64 {
            let r = FlowRecord {
                start_ms: i,
                end_ms: 1000 + i,
                packets: 7 * i as u64,
                ..FlowRecord::default()
            };
            w.writer().push(&r).unwrap();
        }
        w.finish().unwrap();
        let f = ArchiveFile::open(&p, false).unwrap();
        let whole = f.block_ref(0).unwrap();
        let some = f.block_ref(1).unwrap().select(&[0, 3, 9]);
        let fewer = f
            .block_ref(2)
            .unwrap()
            .select(&[1, 2, 5, 8])
            .select(&[0, 3]);
        assert_eq!(fewer.rows.as_deref(), Some(&[21 - 20, 28 - 20][..]));
        let mut stream =
            crate::archive::ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
        for r in [&whole, &some, &fewer] {
            stream.write_ref(r).unwrap();
        }
        let (bytes, summary) = stream.finish().unwrap();
        assert_eq!(summary.flows, 10 + 3 + 2);
        let (mut starts, mut ends, mut packets) = (Vec::new(), Vec::new(), Vec::new());
        let mut passed_on = Vec::new();
        let mut s = Scanner::new(ScanOptions::default(), |m| panic!("{m}"));
        s.wanted = ColumnSet::of(&[crate::ColumnId::StartMs]);
        s.run_reader("(stdin)", &bytes[..], &mut |batch| {
            assert!(batch.raw.is_none(), "raw bytes would pass whole blocks on");
            for (k, b) in batch.blocks.iter().enumerate() {
                starts.extend_from_slice(b.start_ms);
                let full = batch.full(k).unwrap();
                ends.extend_from_slice(full.end_ms);
                packets.extend_from_slice(full.packets);
                passed_on.push(batch.refs.unwrap()[k].clone().unwrap());
            }
            Ok(())
        })
        .unwrap();
        let want: Vec<i64> = (0..10).chain([10, 13, 19, 21, 28]).collect();
        assert_eq!(starts, want);
        assert_eq!(ends, want.iter().map(|s| s + 1000).collect::<Vec<_>>());
        assert_eq!(
            packets,
            want.iter().map(|&s| 7 * s as u64).collect::<Vec<_>>()
        );
        assert_eq!(passed_on, vec![whole, some, fewer]);
        assert_eq!(s.stats.flows_read, 15);
    }

    /// A reference to rows of a block whose columns were damaged since: the reader reports the
    /// block (file and byte) and keeps the flows before it.
    #[test]
    fn references_to_rows_of_a_damaged_block_are_reported() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "ft.a", &[10, 20, 30, 40, 50, 60]);
        let f = ArchiveFile::open(&p, false).unwrap();
        let refs: Vec<BlockRef> = (0..3)
            .map(|i| f.block_ref(i).unwrap().select(&[1]))
            .collect();
        let b = f.blocks()[1];
        drop(f);
        let mut stream =
            crate::archive::ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
        refs.iter().for_each(|r| stream.write_ref(r).unwrap());
        let bytes = stream.finish().unwrap().0;
        // Damage block 1 in place (same inode, size and time: the reference still holds).
        let mut file = std::fs::read(&p).unwrap();
        let meta = std::fs::metadata(&p).unwrap();
        file[(b.offset + b.len) as usize - 20] ^= 0x40;
        {
            use std::io::{Seek, Write};
            let mut h = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
            h.seek(std::io::SeekFrom::Start(0)).unwrap();
            h.write_all(&file).unwrap();
            h.set_modified(meta.modified().unwrap()).unwrap();
        }
        let mut warnings = Vec::new();
        let mut starts = Vec::new();
        {
            let opts = ScanOptions {
                stream_batch_blocks: 1,
                batch_blocks: 1,
                ..ScanOptions::default()
            };
            let mut s = Scanner::new(opts, |m| warnings.push(m.to_string()));
            s.run_reader("(stdin)", &bytes[..], &mut |batch| {
                batch
                    .blocks
                    .iter()
                    .for_each(|b| starts.extend_from_slice(b.start_ms));
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(starts, vec![20]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains(&*p.to_string_lossy()),
            "{}",
            warnings[0]
        );
        assert!(warnings[0].contains("corrupt"), "{}", warnings[0]);
    }

    /// A host filter's prune test drops the same blocks of a stream of references (as they
    /// arrive) as of the file itself, and the blocks left give the same flows; a scan for a
    /// tool that passes blocks on by reference hands out every block unread, with references.
    #[test]
    fn pruned_reference_streams_and_unread_reference_scans() {
        use crate::filter::{CompileOptions, FilterFile, Variables};
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ft.2024-06-03.000000+0000");
        let mut w = ArchiveFileWriter::create(
            &p,
            WriterOptions {
                block_flows: 4,
                ..Default::default()
            },
        )
        .unwrap();
        // 30 blocks of 4 flows; host 10.0.0.7 is in blocks 1, 17 and 29 only.
        for i in 0..120u32 {
            let host = if [5, 70, 119].contains(&i) {
                7
            } else {
                100 + i
            };
            let r = FlowRecord {
                start_ms: i as i64,
                end_ms: i as i64 + 1,
                src_addr: std::net::Ipv4Addr::from(0x0a00_0000 + host).into(),
                dst_addr: std::net::Ipv4Addr::new(192, 0, 2, 1).into(),
                ..FlowRecord::default()
            };
            w.writer().push(&r).unwrap();
        }
        w.finish().unwrap();
        let text = "filter-primitive h\n type ip-address\n permit 10.0.0.7\n\
                    filter-definition host\n match ip-source-address h\n";
        let filters = FilterFile::parse(text, "t.cfg", &Variables::new()).unwrap();
        let opts = CompileOptions {
            tz: jiff::tz::TimeZone::UTC,
        };
        let prune = filters
            .compile("host", &opts)
            .unwrap()
            .block_prune()
            .unwrap();
        let refs = stream_of_refs(&p);
        let wanted = ColumnSet::of(&[crate::ColumnId::StartMs]);
        let mut results = Vec::new();
        for from_refs in [false, true] {
            let opts = ScanOptions {
                prune: Some(Arc::new(prune.clone())),
                stream_batch_blocks: 2,
                batch_blocks: 2,
                ..ScanOptions::default()
            };
            let mut s = Scanner::new(opts, |m| panic!("{m}"));
            let mut starts = Vec::new();
            let mut consume = |batch: &Batch<'_, '_>| {
                batch
                    .blocks
                    .iter()
                    .for_each(|b| starts.extend_from_slice(b.start_ms));
                Ok(())
            };
            if from_refs {
                s.wanted = wanted;
                s.run_reader("(stdin)", &refs[..], &mut consume).unwrap();
            } else {
                s.run_columns(&[Input::File(p.clone())], wanted, &mut consume)
                    .unwrap();
            }
            results.push((starts, s.stats.blocks_pruned));
        }
        assert_eq!(results[0], results[1]);
        let (starts, pruned) = &results[0];
        assert!(starts.contains(&5) && starts.contains(&70) && starts.contains(&119));
        assert!(
            *pruned >= 20,
            "most of the 30 blocks are ruled out: {pruned}"
        );

        // Passing blocks on by reference: every block, unread, each with its reference.
        let opts = ScanOptions {
            refs_only: true,
            ..ScanOptions::default()
        };
        let mut s = Scanner::new(opts, |m| panic!("{m}"));
        let (mut flows, mut with_refs) = (0, 0);
        s.run_columns(&[Input::File(p.clone())], ColumnSet::EMPTY, &mut |batch| {
            for (k, b) in batch.blocks.iter().enumerate() {
                assert!(b.start_ms.is_empty(), "not read");
                flows += b.len;
                with_refs += batch.refs.is_some_and(|r| r[k].is_some()) as usize;
                assert_eq!(
                    batch.full(k).unwrap().len,
                    b.len,
                    "readable whole on demand"
                );
            }
            Ok(())
        })
        .unwrap();
        assert_eq!((flows, with_refs), (120, 30));
    }

    #[test]
    fn a_reference_to_a_changed_file_is_refused_naming_it() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "a", &[10, 20, 30]);
        let refs = stream_of_refs(&p);
        // The file is replaced (as a new collection would): same name, another file.
        std::fs::remove_file(&p).unwrap();
        write(d.path(), "a", &[10, 20, 30]);
        let (starts, warnings) = scan_stream(&refs);
        assert!(starts.is_empty());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains(&*p.to_string_lossy()),
            "{}",
            warnings[0]
        );
        assert!(
            warnings[0].contains("FLOWKIT_PIPE_REFS=0"),
            "{}",
            warnings[0]
        );
    }

    #[test]
    fn missing_inputs_are_errors() {
        assert!(expand_inputs(&["/nonexistent/x".into()], false).is_err());
        assert!(expand_inputs(&["/nonexistent/*.fk".into()], false).is_err());
        assert_eq!(expand_inputs(&[], false).unwrap(), vec![Input::Stdin]);
    }
}
