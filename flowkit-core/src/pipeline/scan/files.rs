//! The scanner over archive files: mapped or read, small files grouped into one batch, blocks
//! chosen by time window and pruned by zone maps and Bloom filters, blocks copied or referenced.

use super::batch::{BatchPools, Delivered, Slot};
use crate::archive::{ArchiveError, ArchiveFile, BlockRef};
use crate::model::block::{ColumnSet, FlowBlock, FlowBlockBuf};
use std::collections::HashMap;
use std::io;
use std::path::Path;

use super::*;

impl<'w> Scanner<'w> {
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
    pub(super) fn run_path_grouped(
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
            Ok((mut f, _)) => crate::model::io::read_full(&mut f, &mut prefix),
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
            InputFormat::FlowTools | InputFormat::Nfdump | InputFormat::JsonLines => {
                self.run_group(group, on_batch)?;
                let file = std::fs::File::open(path).map_err(ScanError::Output)?;
                self.run_reader(&name, io::BufReader::with_capacity(1 << 20, file), on_batch)
            }
            InputFormat::Unknown => {
                self.run_group(group, on_batch)?;
                self.report(&format!(
                    "{name}: unknown content at byte 0: not a flowkit archive, flow-tools or \
                     nfdump file, nor an EVE or conntrack JSON log, skipped"
                ));
                Ok(())
            }
        }
    }

    /// Scans the small archive files gathered in `group` together (emptying it): a collector's
    /// five-minute files often hold one or two blocks each, and scanned one by one each would be
    /// a parallel step of one or two blocks, the threads idle while the next file is opened.
    /// Flows keep the files' order; damage in one file skips the rest of that file only.
    pub(super) fn run_group(
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
    pub(super) fn wanted_blocks(&mut self, f: &ArchiveFile) -> Vec<usize> {
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
    pub(super) fn by_index(&self) -> bool {
        self.opts.refs_only
            && self.wanted == ColumnSet::EMPTY
            && self.opts.from_ms.is_none()
            && self.opts.to_ms.is_none()
            && self.opts.time_shift_ms == 0
    }

    /// Hands out the `wanted` blocks of each file, in order, a batch at a time (a batch may span
    /// files), viewed in place or copied (see [`BlockRead`]). A damaged file is reported and its
    /// remaining blocks skipped; the other files go on.
    pub(super) fn run_files(
        &mut self,
        files: &[(ArchiveFile, Vec<usize>)],
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        let mut pools = std::mem::take(&mut self.pools);
        let r = self.run_files_with(files, &mut pools, on_batch);
        self.pools = pools;
        r
    }

    fn run_files_with(
        &mut self,
        files: &[(ArchiveFile, Vec<usize>)],
        pools: &mut BatchPools,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        // (file, block) of every block to hand out, in order; a file whose damage was found
        // loses its remaining entries.
        let mut items: Vec<(usize, usize)> = files
            .iter()
            .enumerate()
            .flat_map(|(fi, (_, w))| w.iter().map(move |&i| (fi, i)))
            .collect();
        // Of a block stored in frames, only the rows of the frames whose filters a prune test
        // cannot rule out (the others hold no flow the filter passes); a block with none left
        // is not read at all. The frames are kept here for every block, their rows listed a
        // batch at a time below (a list of rows for every block of a large file would take
        // about 4 bytes a flow).
        let mut some_frames: HashMap<(usize, usize), KeptFrames> = HashMap::new();
        if let Some(prune) = self.opts.prune.clone() {
            let before = items.len();
            items.retain(|&(fi, i)| {
                let f = &files[fi].0;
                let frames = self.frame_filters(f.block_frame_blooms(i));
                match kept_frames(&prune, frames, f.blocks()[i].flows as usize) {
                    Some(kept) if kept.rows_kept() == 0 => false,
                    Some(kept) => {
                        some_frames.insert((fi, i), kept);
                        true
                    }
                    None => true,
                }
            });
            self.stats.blocks_pruned += (before - items.len()) as u64;
        }
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
                    self.deliver_unread(chunk, files, refs, pools, on_batch)?;
                    pos += chunk.len();
                    continue;
                }
            }
            let some_rows: Vec<Option<Vec<u32>>> = chunk
                .iter()
                .map(|k| some_frames.get(k).map(KeptFrames::rows))
                .collect();
            let slots: Vec<Slot<'_>> = chunk
                .iter()
                .zip(&some_rows)
                .map(|(&(fi, i), rows)| Slot::Stored {
                    file: &files[fi].0,
                    block: i,
                    rows: rows.as_deref(),
                    reference: files[fi].0.block_ref(i).map(|r| match rows {
                        Some(rows) => r.select(rows),
                        None => r,
                    }),
                })
                .collect();
            let Delivered {
                count: delivered,
                failure,
                copied,
            } = self.read_batch(&slots, pools, on_batch)?;
            drop(slots);
            self.stats.flows_pruned += chunk[..delivered]
                .iter()
                .zip(&some_rows)
                .filter_map(|(&(fi, i), s)| {
                    let n = files[fi].0.blocks()[i].flows as usize;
                    s.as_ref().map(|s| (n - s.len()) as u64)
                })
                .sum::<u64>();
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
                let copied = &copied;
                let mapped = || (0..delivered).filter(move |&j| chunk[j].0 == fi && !copied[j]);
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

    /// Hands out the blocks `chunk` names by reference, from their files' indexes: nothing of
    /// them is read here (see [`ScanOptions::refs_only`]).
    fn deliver_unread(
        &mut self,
        chunk: &[(usize, usize)],
        files: &[(ArchiveFile, Vec<usize>)],
        refs: Vec<BlockRef>,
        pools: &mut BatchPools,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<(), ScanError> {
        let file = |k: usize| &files[chunk[k].0].0;
        let views: Vec<FlowBlock<'_>> = (0..chunk.len())
            .map(|k| FlowBlock::without_columns(file(k).blocks()[chunk[k].1].flows as usize))
            .collect();
        let raw: Vec<&[u8]> = (0..chunk.len())
            .map(|k| file(k).block_bytes(chunk[k].1))
            .collect();
        let refs: Vec<Option<BlockRef>> = refs.into_iter().map(Some).collect();
        let scratch = scratch_for(&mut pools.scratch, chunk.len());
        let full = |k: usize| file(k).block_columns_with(chunk[k].1, ColumnSet::ALL, &scratch[k]);
        let gather = |k: usize, rows: &[u32], out: &mut FlowBlockBuf| {
            file(k).gather_rows(chunk[k].1, None, rows, out, Some(&scratch[k]))
        };
        self.emit(
            &views,
            Some(StoredBytes {
                blocks: &raw,
                checked: false,
            }),
            Some(&refs),
            &full,
            &gather,
            on_batch,
        )
    }

    /// Drops the blocks of `f` that the prune test rules out (see [`retain_unpruned`]).
    pub(super) fn prune_blocks(&mut self, f: &ArchiveFile, mut wanted: Vec<usize>) -> Vec<usize> {
        if let Some(prune) = self.opts.prune.clone() {
            let (pruned, damaged) = retain_unpruned(&mut wanted, &prune, |&i| f.block_bloom(i));
            self.stats.blocks_pruned += pruned;
            for e in &damaged {
                self.report_damaged_bloom(e);
            }
        }
        wanted
    }
}
