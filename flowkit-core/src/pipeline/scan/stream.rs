//! The scanner over streams (stdin, FIFOs, spooled pipes): flowkit streams member after member,
//! block references followed into the files they name, and flow-tools and nfdump files.

use super::batch::{BatchPools, Slot};
use crate::archive::flowtools::FlowToolsReader;
use crate::archive::format::DEFAULT_BLOCK_FLOWS;
use crate::archive::reader::block_bloom;
use crate::archive::{AlignedBuf, ArchiveError, ArchiveFile, BlockRef, StreamItem, StreamReader};
use crate::model::block::{FlowBlock, FlowBlockBuf};
use std::collections::HashMap;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;

use super::*;

impl<'w> Scanner<'w> {
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
        let got = crate::model::io::read_full(&mut r, &mut prefix).map_err(ScanError::Output)?;
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
                InputFormat::JsonLines => {
                    match crate::pipeline::logs::LogFlows::read(name, &prefix, r) {
                        Ok(log) => self.run_log(log, on_batch)?,
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

    /// Reads a flowkit stream: blocks carried in it and block references (followed into the
    /// files they name), a batch at a time; a damaged stream is reported after the flows before
    /// the damage have been handed on.
    pub(super) fn run_stream<R: Read>(
        &mut self,
        s: &mut StreamReader<R>,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        let mut pools = std::mem::take(&mut self.pools);
        let r = self.run_stream_with(s, &mut pools, on_batch);
        self.pools = pools;
        r
    }

    fn run_stream_with<R: Read>(
        &mut self,
        s: &mut StreamReader<R>,
        pools: &mut BatchPools,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        self.stats.files += 1;
        let name = s.name().to_string();
        // Blocks carried in the stream fill at most `n` buffers a batch; references (blocks
        // read from their files, like a file scan's) may make a batch as large as a file scan's.
        let n = self.opts.stream_batch_blocks.max(1);
        let n_items = self.opts.batch_blocks.max(n);
        let mut bufs: Vec<AlignedBuf> = (0..n).map(|_| AlignedBuf::default()).collect();
        // Files that block references of this stream point into, opened once each.
        let mut referenced: HashMap<Arc<PathBuf>, Arc<ArchiveFile>> = HashMap::new();
        let mut holding = HeldPages::default();
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
            while items.len() < n_items && used < n {
                match s.next_block_into(&mut bufs[used]) {
                    Ok(Some(StreamItem::Block(off))) => {
                        if self.block_ruled_out(prune.as_deref(), || {
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
                            if self.block_ruled_out(prune.as_deref(), || file.block_bloom(i)) {
                                self.stats.blocks_pruned += 1;
                                continue;
                            }
                            // Of a block in frames, only the rows of the frames whose filters
                            // the prune test cannot rule out, as when reading the file itself.
                            let passed = r.flows_passed();
                            let r = match prune.as_deref() {
                                Some(p) => match narrowed_by_frames(
                                    p,
                                    self.frame_filters(file.block_frame_blooms(i)),
                                    file.blocks()[i].flows as usize,
                                    r,
                                ) {
                                    Some(r) => r,
                                    None => {
                                        self.stats.blocks_pruned += 1;
                                        continue;
                                    }
                                },
                                None => r,
                            };
                            self.stats.flows_pruned += passed - r.flows_passed();
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
            let slots: Vec<Slot<'_>> = items
                .iter()
                .map(|it| match it {
                    StreamSlot::Buf(b, off) => Slot::Held {
                        name: &name,
                        bytes: bufs[*b].as_bytes(),
                        offset: *off,
                    },
                    StreamSlot::Ref(f, i, r) => Slot::Stored {
                        file: &files[*f],
                        block: *i,
                        rows: r.rows.as_deref(),
                        reference: Some(r.clone()),
                    },
                })
                .collect();
            let delivered = self.read_batch(&slots, pools, on_batch)?;
            drop(slots);
            // A block that failed comes before whatever the stream itself failed on.
            if let Some((_, e)) = delivered.failure {
                failure = Some(e);
            }
            let ended = ended || failure.is_some();
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

    /// Opens (once) the file a block reference points into and finds the block.
    pub(super) fn follow(
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
    pub(super) fn run_flow_tools<R: Read>(
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

    /// Reads the flows of a JSON flow log, then reports its malformed lines.
    pub(super) fn run_log(
        &mut self,
        mut log: crate::pipeline::logs::LogFlows,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        let problems = std::mem::take(&mut log.problems);
        self.run_foreign(log, &|e| e.to_string(), on_batch)?;
        for p in &problems {
            self.report(p);
        }
        Ok(())
    }

    /// Reads another tool's flow file (flow-tools, nfdump) through its reader, a batch of
    /// blocks at a time; a damaged one is reported (through `within`) after the flows before
    /// the damage have been handed on. Returns the reader when its flows ended cleanly.
    pub(super) fn run_foreign<F: ForeignFlows>(
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
}
