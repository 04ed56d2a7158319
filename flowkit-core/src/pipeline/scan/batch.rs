//! The step every scan repeats, whatever its input: read and check a batch of blocks in
//! parallel, hand the good ones to the consumer, learn how it uses them. The scan of archive files
//! ([`super::files`]) and the scan of a stream ([`super::stream`]) differ only in how they find
//! a batch's blocks and what they do when a file is damaged; both call [`Scanner::read_batch`].

use crate::archive::reader::{check_stored_block, gather_block_rows, view_block_columns};
use crate::archive::{AlignedBuf, ArchiveError, ArchiveFile, BlockRef, ColumnScratch};
use crate::model::block::{ColumnSet, FlowBlockBuf};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use super::*;

/// Where a block of a batch is.
pub(super) enum Slot<'s> {
    /// Carried in the stream `name`, read into `bytes`, which began at stream offset `offset`.
    Held {
        name: &'s str,
        bytes: &'s [u8],
        offset: u64,
    },
    /// Block `block` of an archive file (mapped, or read into memory): all of it, or some `rows`
    /// (those a block reference names, or those of the frames a filter's frame Bloom filters
    /// leave). Of some rows, only the scan's columns are read at first, and [`Batch::full`] and
    /// [`Batch::gather`] read the others of those rows. `reference` lets a flowkit reader on this
    /// host find it again (a reference to those rows).
    Stored {
        file: &'s ArchiveFile,
        block: usize,
        rows: Option<&'s [u32]>,
        reference: Option<BlockRef>,
    },
}

impl Slot<'_> {
    fn file(&self) -> Option<&ArchiveFile> {
        match self {
            Slot::Stored { file, .. } => Some(file),
            Slot::Held { .. } => None,
        }
    }

    fn rows(&self) -> Option<&[u32]> {
        match self {
            Slot::Stored { rows, .. } => *rows,
            Slot::Held { .. } => None,
        }
    }

    /// Where the stored block ends in its file (for comparing with where a file was cut).
    fn end(&self) -> u64 {
        match self {
            Slot::Stored { file, block, .. } => {
                let b = file.blocks()[*block];
                b.offset + b.len
            }
            Slot::Held { .. } => 0,
        }
    }
}

/// Buffers a scan reuses batch after batch and input after input, so it holds at most a
/// batch's worth.
#[derive(Default)]
pub(super) struct BatchPools {
    /// Blocks copied out of their files (see [`BlockRead`]).
    pub(super) copies: Vec<AlignedBuf>,
    /// Where blocks' narrow columns are widened, one per block.
    pub(super) scratch: Vec<ColumnScratch>,
    /// Where some rows of a block (named by a reference, or of the frames a prune test leaves)
    /// are read out, the scan's columns only, one per block.
    pub(super) rows: Vec<FlowBlockBuf>,
    /// Where every column of those rows is read when the consumer asks for them whole (made
    /// anew each batch: a consumer seldom asks).
    pub(super) whole_rows: Vec<OnceLock<FlowBlockBuf>>,
}

/// What became of a batch handed to [`Scanner::read_batch`].
pub(super) struct Delivered {
    /// Blocks handed to the consumer: the first ones of the batch.
    pub(super) count: usize,
    /// The first block that could not be read (or lies past where its file was cut), and why; no
    /// block from there on was handed on.
    pub(super) failure: Option<(usize, ArchiveError)>,
    /// For each block handed on, whether it was copied out of its file (else viewed in place).
    pub(super) copied: Vec<bool>,
}

impl Scanner<'_> {
    /// Reads the columns this scan wants of every block of `slots` (one parallel task a block:
    /// copying it out of its file, reading and checking it, so a batch costs one join), hands the
    /// blocks before the first damaged one to the consumer, and learns from how many it then
    /// asked for whole. A mapped file found cut short since it was opened (another program
    /// truncated it) counts as damaged from its first block past the cut: those blocks may hold
    /// zeros read from vanished pages.
    pub(super) fn read_batch(
        &mut self,
        slots: &[Slot<'_>],
        pools: &mut BatchPools,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<Delivered, ScanError> {
        let columns = self.wanted;
        // Blocks copied on as stored are checked as stored, nothing inflated or widened.
        let as_stored = self.opts.stored_only && columns == ColumnSet::EMPTY;
        let no_columns = |file: &ArchiveFile, block: usize| {
            FlowBlock::without_columns(file.blocks()[block].flows as usize)
        };
        let copy: Vec<bool> = slots
            .iter()
            .map(|s| match s {
                Slot::Stored {
                    file, rows: None, ..
                } => self.copy_blocks_of(file, columns),
                _ => false,
            })
            .collect();
        let BatchPools {
            copies,
            scratch,
            rows,
            whole_rows,
        } = pools;
        let copying = copy.iter().filter(|&&c| c).count();
        if copies.len() < copying {
            copies.resize_with(copying, AlignedBuf::default);
        }
        let mut spare = copies.iter_mut();
        let mut bufs: Vec<Option<&mut AlignedBuf>> = copy
            .iter()
            .map(|&c| if c { spare.next() } else { None })
            .collect();
        let scratch = scratch_for(scratch, slots.len());
        if rows.len() < slots.len() {
            rows.resize_with(slots.len(), FlowBlockBuf::default);
        }
        whole_rows.clear();
        whole_rows.resize_with(slots.len(), OnceLock::new);
        let whole_rows = &whole_rows[..];
        // Some rows of a block give those rows, the wanted columns checked: `full` and `gather`
        // below read the others of those rows.
        let (copied, results): (Vec<Option<&AlignedBuf>>, Vec<_>) = slots
            .par_iter()
            .zip(bufs.par_iter_mut())
            .zip(scratch)
            .zip(rows[..slots.len()].par_iter_mut())
            .map(
                |(((slot, buf), scratch), picked)| match (slot, buf.take()) {
                    (
                        Slot::Held {
                            name,
                            bytes,
                            offset,
                        },
                        _,
                    ) if as_stored => (
                        None,
                        check_stored_block(name, bytes, *offset)
                            .map(|info| FlowBlock::without_columns(info.flows as usize)),
                    ),
                    (
                        Slot::Held {
                            name,
                            bytes,
                            offset,
                        },
                        _,
                    ) => (
                        None,
                        view_block_columns(name, bytes, *offset, columns, scratch).map(|(v, _)| v),
                    ),
                    (
                        Slot::Stored {
                            file,
                            block,
                            rows: Some(rows),
                            ..
                        },
                        _,
                    ) => {
                        picked.clear();
                        let read =
                            file.gather_columns(*block, None, rows, columns, picked, Some(scratch));
                        let picked: &FlowBlockBuf = picked;
                        (
                            None,
                            read.map(|()| picked.view_columns(rows.len(), columns)),
                        )
                    }
                    (Slot::Stored { file, block, .. }, Some(buf)) => {
                        let read = file.read_block_into(*block, buf);
                        let buf: &AlignedBuf = buf;
                        let view = read.and_then(|()| match as_stored {
                            true => file
                                .check_stored(*block, Some(buf.as_bytes()))
                                .map(|()| no_columns(file, *block)),
                            false => file.view_copied(*block, buf.as_bytes(), columns, scratch),
                        });
                        (Some(buf), view)
                    }
                    (Slot::Stored { file, block, .. }, None) if as_stored => (
                        None,
                        file.check_stored(*block, None)
                            .map(|()| no_columns(file, *block)),
                    ),
                    (Slot::Stored { file, block, .. }, None) => {
                        (None, file.block_columns_with(*block, columns, scratch))
                    }
                },
            )
            .unzip();
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
        // A file cut short since it was opened: hand out only its blocks that end before the
        // cut, then report (this also explains a block that failed on the zeros). One check a
        // file of the batch (each is a system call); files come in order, so the first one found
        // cut short is the earliest.
        let same_file = |a: &Slot<'_>, b: &Slot<'_>| match (a.file(), b.file()) {
            (Some(x), Some(y)) => std::ptr::eq(x, y),
            _ => false,
        };
        let shrunk = (0..slots.len())
            .filter(|&k| k == 0 || !same_file(&slots[k - 1], &slots[k]))
            .find_map(|k| {
                let e = slots[k].file()?.check_unchanged().err()?;
                let cut = e.offset().unwrap_or(0);
                (k..slots.len())
                    .take_while(|&j| j == k || same_file(&slots[j - 1], &slots[j]))
                    .find(|&j| slots[j].end() > cut)
                    .map(|j| (j, e))
            });
        if let Some((k, e)) = shrunk.filter(|(k, _)| *k <= views.len()) {
            views.truncate(k);
            failure = Some((k, e));
        }
        let count = views.len();
        self.stats.blocks_copied += copied[..count].iter().flatten().count() as u64;
        let view = |k: usize, cols: ColumnSet| match (&slots[k], copied[k]) {
            (
                Slot::Held {
                    name,
                    bytes,
                    offset,
                },
                _,
            ) => view_block_columns(name, bytes, *offset, cols, &scratch[k]).map(|(v, _)| v),
            (
                Slot::Stored {
                    file,
                    block,
                    rows: Some(rows),
                    ..
                },
                _,
            ) => {
                if let Some(done) = whole_rows[k].get() {
                    return Ok(done.view());
                }
                let mut buf = FlowBlockBuf::default();
                file.gather_rows(*block, None, rows, &mut buf, None)?;
                Ok(whole_rows[k].get_or_init(|| buf).view())
            }
            (Slot::Stored { file, block, .. }, Some(buf)) => {
                file.view_copied(*block, buf.as_bytes(), cols, &scratch[k])
            }
            (Slot::Stored { file, block, .. }, None) => {
                file.block_columns_with(*block, cols, &scratch[k])
            }
        };
        // Requests for the rest of a block, of blocks that could have been copied out whole
        // (some rows of a block never are): what `learn_block_use` learns from.
        let whole = AtomicUsize::new(0);
        let asked = |k: usize| {
            if slots[k].rows().is_none() {
                whole.fetch_add(1, Ordering::Relaxed);
            }
        };
        let full = |k: usize| {
            asked(k);
            view(k, ColumnSet::ALL)
        };
        let gather = |k: usize, rows: &[u32], out: &mut FlowBlockBuf| {
            asked(k);
            match (&slots[k], copied[k]) {
                (
                    Slot::Held {
                        name,
                        bytes,
                        offset,
                    },
                    _,
                ) => gather_block_rows(
                    name,
                    bytes,
                    *offset,
                    rows,
                    out,
                    |_| Ok(()),
                    Some(&scratch[k]),
                )
                .map(|_| ()),
                // Rows of some rows of a block: those rows' positions in the block.
                (
                    Slot::Stored {
                        file,
                        block,
                        rows: Some(some),
                        ..
                    },
                    _,
                ) => {
                    let at: Option<Vec<u32>> = rows
                        .iter()
                        .map(|&r| some.get(r as usize).copied())
                        .collect();
                    let Some(at) = at else {
                        let (n, offset) = (some.len(), file.blocks()[*block].offset);
                        let why = format!("a row past the {n} flows read of the block was asked");
                        return Err(ArchiveError::corrupt(file.name(), offset, why));
                    };
                    file.gather_rows(*block, None, &at, out, Some(&scratch[k]))
                }
                (Slot::Stored { file, block, .. }, copy) => file.gather_rows(
                    *block,
                    copy.map(|b| b.as_bytes()),
                    rows,
                    out,
                    Some(&scratch[k]),
                ),
            }
        };
        // The stored bytes of each block, unless some block is part of one (a consumer copying
        // those bytes on would pass the whole block).
        let raw: Option<Vec<&[u8]>> =
            slots[..count].iter().all(|s| s.rows().is_none()).then(|| {
                (0..count)
                    .map(|k| match (&slots[k], copied[k]) {
                        (Slot::Held { bytes, .. }, _) => *bytes,
                        (Slot::Stored { .. }, Some(buf)) => buf.as_bytes(),
                        (Slot::Stored { file, block, .. }, None) => file.block_bytes(*block),
                    })
                    .collect()
            });
        let refs: Vec<Option<BlockRef>> = slots[..count]
            .iter()
            .map(|s| match s {
                Slot::Held { .. } => None,
                Slot::Stored { reference, .. } => reference.clone(),
            })
            .collect();
        self.emit(
            &views,
            raw.as_deref().map(|blocks| StoredBytes {
                blocks,
                checked: as_stored,
            }),
            Some(&refs),
            &full,
            &gather,
            on_batch,
        )?;
        // Only blocks of files read from disk can be copied out: learn from those.
        if columns != ColumnSet::ALL
            && slots
                .iter()
                .any(|s| s.file().is_some_and(ArchiveFile::reads_blocks_from_disk))
        {
            let whole_slots = slots[..count].iter().filter(|s| s.rows().is_none()).count();
            self.learn_block_use(whole.into_inner(), whole_slots);
        }
        Ok(Delivered {
            count,
            failure,
            copied: copy[..count].to_vec(),
        })
    }
}
