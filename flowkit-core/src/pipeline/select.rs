//! Selecting flows with a compiled filter and passing them on: per block, whole (by reference
//! or as its checked bytes), as a reference to the selected rows, or as the selected rows read
//! out; in parallel over a batch. flow-nfilter is these functions between a scan and an output.

use crate::filter::CompiledFilter;
use crate::model::block::{selected_rows, FlowBlock, FlowBlockBuf};
use crate::pipeline::scan::Batch;
use crate::pipeline::sink::FlowOutput;
use crate::print::Printer;
use rayon::prelude::*;
use std::io::{self, Write};

/// What a block gives the output once filtered. (A view is a few hundred bytes of slices, held
/// for one block; boxing it would allocate once a block.)
#[allow(clippy::large_enum_variant)]
pub enum Picked<'a> {
    /// Every flow: the whole block (which may then go on by reference or as its bytes).
    Whole(FlowBlock<'a>),
    /// Every flow, to go on by reference (the reader checks the columns this filter did not read).
    WholeByRef,
    /// Some flows, read out of the block with every column into the caller's buffer.
    Rows,
    /// Some flows (these positions in the block), to go on as a reference to them: nothing is
    /// read out here.
    RowsByRef(Vec<u32>),
}

/// Filters block `k` of `batch`: `Whole` when every flow passes, `Rows` when some do (gathered
/// into `picked`, cleared first: only their rows are read out of the block's other columns),
/// `None` when none does or a column is damaged (which the scan reports). With `by_ref` (the
/// output can pass this block's flows on by reference) nothing more is read: `WholeByRef` or
/// `RowsByRef`.
pub fn pick<'a>(
    filter: &CompiledFilter,
    batch: &Batch<'_, 'a>,
    k: usize,
    by_ref: bool,
    rows: &mut Vec<bool>,
    picked: &mut FlowBlockBuf,
) -> Option<Picked<'a>> {
    let count = filter.select(&batch.blocks[k], rows);
    match count {
        0 => None,
        _ if count == batch.blocks[k].len && by_ref => Some(Picked::WholeByRef),
        _ if count == batch.blocks[k].len => batch.full(k).map(Picked::Whole),
        // By reference however few are selected: the reader reads only the columns it uses of
        // those rows (measured 2026-12-07, 3 M flows, 0.8% of each block selected: the chain's
        // CPU 75 -> 64 ms into a narrow CSV, 63 -> 43 ms into flow-print; from a compressed archive
        // 244 -> 166 ms, the reader inflating the frames of its 9 columns, not of all 40). Until
        // the reader read every column of such rows, a sparse selection went as flows.
        _ if by_ref => Some(Picked::RowsByRef(selected_rows(rows))),
        _ => {
            picked.clear();
            batch
                .gather(k, &selected_rows(rows), picked)
                .then_some(Picked::Rows)
        }
    }
}

/// Filters the blocks of a batch in parallel (block `k` passed on by reference when
/// `by_ref[k]`); each comes back with the buffer its `Rows` are in.
pub fn select_batch<'a>(
    filter: &CompiledFilter,
    batch: &Batch<'_, 'a>,
    by_ref: &[bool],
) -> Vec<(Option<Picked<'a>>, FlowBlockBuf)> {
    (0..batch.blocks.len())
        .into_par_iter()
        .map_init(Vec::new, |rows, k| {
            let mut picked = FlowBlockBuf::default();
            (pick(filter, batch, k, by_ref[k], rows, &mut picked), picked)
        })
        .collect()
}

/// What [`write_selected`] passed on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Passed {
    /// Flows passed.
    pub flows: u64,
    /// Whole blocks passed as references.
    pub whole_refs: u64,
    /// Blocks whose selected rows passed as a reference to them.
    pub rows_refs: u64,
}

/// Filters the blocks of `batch` in parallel and writes what passes to `out`, in block order:
/// by reference where `out` takes references (see [`FlowOutput::passes_rows_by_reference`]),
/// else as bytes or rows. Adds to `passed`.
pub fn write_selected(
    filter: &CompiledFilter,
    batch: &Batch<'_, '_>,
    out: &mut FlowOutput,
    passed: &mut Passed,
) -> io::Result<()> {
    let by_ref: Vec<bool> = (0..batch.blocks.len())
        .map(|k| out.passes_rows_by_reference(batch, k))
        .collect();
    for (k, (picked, rows)) in select_batch(filter, batch, &by_ref).iter().enumerate() {
        match picked {
            Some(Picked::Whole(block)) => {
                passed.flows += block.len as u64;
                out.write_whole(batch, k, Some(block))?
            }
            Some(Picked::WholeByRef) => {
                passed.flows += batch.blocks[k].len as u64;
                passed.whole_refs += 1;
                out.write_whole(batch, k, None)?
            }
            Some(Picked::Rows) => {
                passed.flows += rows.len() as u64;
                out.write_block(&rows.view(), None)?
            }
            Some(Picked::RowsByRef(rows)) => {
                passed.flows += rows.len() as u64;
                passed.rows_refs += 1;
                out.write_rows_by_reference(batch, k, rows)?
            }
            None => {}
        }
    }
    Ok(())
}

/// Filters and formats the blocks of `batch` with `printer`, then writes the texts in block
/// order to `out`. One parallel task a block (filter, complete the rows, format: a join per
/// batch, not one per step); `texts` holds one buffer a block between batches.
pub fn print_selected(
    filter: &CompiledFilter,
    printer: &Printer,
    batch: &Batch<'_, '_>,
    texts: &mut Vec<Vec<u8>>,
    out: &mut impl Write,
) -> io::Result<()> {
    let n = batch.blocks.len();
    if texts.len() < n {
        texts.resize_with(n, Vec::new);
    }
    texts[..n].par_iter_mut().enumerate().for_each_init(
        || (Vec::new(), FlowBlockBuf::default()),
        |(rows, picked), (k, text)| {
            text.clear();
            match pick(filter, batch, k, false, rows, picked) {
                Some(Picked::Whole(block)) => printer.format_block(&block, text),
                Some(Picked::Rows) => printer.format_block(&picked.view(), text),
                Some(Picked::WholeByRef | Picked::RowsByRef(_)) => {
                    unreachable!("nothing goes by reference when printing")
                }
                None => {}
            }
        },
    );
    texts[..n].iter().try_for_each(|t| out.write_all(t))
}
