//! Sorting flows by keys (flow-sort): any field of the field table ([`crate::model::fields`])
//! plus `start`, `end` and `duration`, ascending or descending, stable (flows with equal keys
//! keep their input order).
//!
//! Keys are encoded as bytes that compare as the values do (big-endian numbers, signed ones with
//! the sign bit flipped, addresses as a family byte and 16 bytes; every byte inverted for a
//! descending sort), so one byte comparison orders flows by all keys at once.
//!
//! A [`Sorter`] keeps the flows it is given in memory up to a bound; above it, it writes sorted
//! runs to temporary archive files and merges them at the end. With a top-N bound it keeps only
//! the N first flows in a bounded heap (memory O(N) whatever the input).

use crate::archive::{ArchiveFile, ArchiveFileWriter, WriterOptions};
use crate::filter::error::did_you_mean;
use crate::model::block::{ColumnId, FlowBlock, FlowBlockBuf};
use crate::model::fields::{lookup, Field, FieldKind, FieldValue, FIELDS};
use crate::model::record::FlowRecord;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;

/// Flows handed out at once by [`Sorter::finish`].
const OUT_BLOCK: usize = 8192;

/// One sort key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// Time of the first packet.
    Start,
    /// Time of the last packet.
    End,
    /// Last minus first packet time, in milliseconds.
    Duration,
    /// A field of the field table.
    Field(&'static Field),
}

impl SortKey {
    /// The key's name as flowkit writes it (`start`, `duration`, or the field's name).
    pub fn name(&self) -> &'static str {
        match self {
            SortKey::Start => "start",
            SortKey::End => "end",
            SortKey::Duration => "duration",
            SortKey::Field(f) => f.name,
        }
    }

    /// Bytes of the encoded key.
    fn width(&self) -> usize {
        match self {
            SortKey::Field(f) if f.kind == FieldKind::Addr => 17,
            _ => 8,
        }
    }

    /// Appends the key of row `i` of `b`, encoded so that bytes compare as the values do.
    fn encode(&self, b: &FlowBlock<'_>, i: usize, out: &mut Vec<u8>) {
        let value = match self {
            SortKey::Start => FieldValue::Signed(b.start_ms[i]),
            SortKey::End => FieldValue::Signed(b.end_ms[i]),
            SortKey::Duration => FieldValue::Signed(b.end_ms[i].saturating_sub(b.start_ms[i])),
            SortKey::Field(f) => f.value(b, i),
        };
        match value {
            FieldValue::Signed(v) => out.extend_from_slice(&((v as u64) ^ (1 << 63)).to_be_bytes()),
            FieldValue::Unsigned(v) => out.extend_from_slice(&v.to_be_bytes()),
            FieldValue::Addr(IpAddr::V4(a)) => {
                out.push(0);
                out.extend_from_slice(&a.octets());
                out.extend_from_slice(&[0; 12]);
            }
            FieldValue::Addr(IpAddr::V6(a)) => {
                out.push(1);
                out.extend_from_slice(&a.octets());
            }
        }
    }
}

/// Why sort keys could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SortError {
    /// A key names no field (the message suggests the nearest name).
    #[error("{0}")]
    BadKey(String),
}

/// Reads a key list: names separated by commas, each `start`, `end`, `duration` (or nfdump's
/// `td`) or any name of the field table (flowkit's, flow-tools' or nfdump's). An unknown name is
/// an error suggesting the nearest one.
pub fn parse_keys(list: &str) -> Result<Vec<SortKey>, SortError> {
    let mut keys = Vec::new();
    for word in list.split(',').map(str::trim) {
        let key = match word.to_ascii_lowercase().as_str() {
            "start" => SortKey::Start,
            "end" => SortKey::End,
            "duration" | "td" | "%td" => SortKey::Duration,
            _ => match lookup(word) {
                Some(f) => SortKey::Field(f),
                None => return Err(SortError::BadKey(unknown_key(word))),
            },
        };
        keys.push(key);
    }
    Ok(keys)
}

/// The message for a key that names nothing.
fn unknown_key(word: &str) -> String {
    if word.is_empty() {
        return "empty sort key (give field names separated by commas, e.g. -k octets,start)"
            .into();
    }
    let mut names: Vec<&str> = vec!["start", "end", "duration"];
    for f in &FIELDS {
        names.push(f.name);
        names.extend(
            [f.flowtools, f.nfdump]
                .into_iter()
                .filter(|n| !n.is_empty()),
        );
        names.extend(f.aliases.iter().copied());
    }
    let main: Vec<&str> = ["start", "end", "duration"]
        .into_iter()
        .chain(FIELDS.iter().map(|f| f.name))
        .collect();
    format!(
        "unknown sort key {word:?}{}; keys are {} (or their flow-tools and nfdump names, \
         docs/print-formats.md)",
        did_you_mean(word, names),
        main.join(", ")
    )
}

/// The order flows are sorted in: keys, most significant first, and the direction.
#[derive(Clone, Debug)]
pub struct SortOrder {
    /// The keys, most significant first.
    pub keys: Vec<SortKey>,
    /// Largest first (ties still keep their input order).
    pub descending: bool,
}

impl SortOrder {
    /// Bytes of an encoded key of all keys.
    fn width(&self) -> usize {
        self.keys.iter().map(SortKey::width).sum()
    }

    /// Appends the encoded keys of row `i` of `b` to `out`.
    fn encode(&self, b: &FlowBlock<'_>, i: usize, out: &mut Vec<u8>) {
        let from = out.len();
        for k in &self.keys {
            k.encode(b, i, out);
        }
        if self.descending {
            out[from..].iter_mut().for_each(|x| *x = !*x);
        }
    }
}

/// How a [`Sorter`] works.
#[derive(Clone, Debug)]
pub struct SortOptions {
    /// The order.
    pub order: SortOrder,
    /// Keep only the first N flows of the order (memory O(N)).
    pub top: Option<usize>,
    /// About how many bytes of flows a full sort keeps in memory before it writes a sorted run
    /// to a temporary file (at least one flow a run).
    pub memory: usize,
    /// Where runs go (a temporary directory is made in it); `None`: the system's temporary
    /// directory (`TMPDIR`).
    pub spill_dir: Option<PathBuf>,
}

/// What a sort did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SortSummary {
    /// Flows given to the sorter.
    pub flows_in: u64,
    /// Flows handed out.
    pub flows_out: u64,
    /// Sorted runs written to temporary files (0: sorted in memory).
    pub runs: usize,
}

/// Sorts flows given block by block ([`Sorter::push`]); [`Sorter::finish`] hands them out in
/// order.
pub struct Sorter {
    mode: Mode,
    flows_in: u64,
}

enum Mode {
    Full(Box<FullSort>),
    Top(TopN),
}

impl Sorter {
    /// A sorter working as `opts` says.
    pub fn new(opts: SortOptions) -> Sorter {
        let mode = match opts.top {
            Some(n) => Mode::Top(TopN {
                order: opts.order,
                n,
                heap: BinaryHeap::new(),
                seq: 0,
                key: Vec::new(),
            }),
            None => {
                let stride = opts.order.width();
                let max_rows = (opts.memory / (row_bytes() + stride)).max(1);
                Mode::Full(Box::new(FullSort {
                    order: opts.order,
                    stride,
                    max_rows,
                    rows: FlowBlockBuf::default(),
                    keys: Vec::new(),
                    runs: Vec::new(),
                    dir: None,
                    spill_dir: opts.spill_dir,
                }))
            }
        };
        Sorter { mode, flows_in: 0 }
    }

    /// Takes the flows of `b` (a block with every column). Fails only when a run cannot be
    /// written.
    pub fn push(&mut self, b: &FlowBlock<'_>) -> io::Result<()> {
        self.flows_in += b.len as u64;
        match &mut self.mode {
            Mode::Full(s) => s.push(b),
            Mode::Top(t) => {
                t.push(b);
                Ok(())
            }
        }
    }

    /// Hands out the flows in order, in blocks, to `emit`; an error of `emit` or of reading the
    /// runs back stops it.
    pub fn finish(
        self,
        emit: &mut dyn FnMut(&FlowBlock<'_>) -> io::Result<()>,
    ) -> io::Result<SortSummary> {
        let mut out = Emitter {
            buf: FlowBlockBuf::default(),
            emit,
            flows: 0,
        };
        let runs = match self.mode {
            Mode::Full(s) => s.finish(&mut out)?,
            Mode::Top(t) => {
                t.finish(&mut out)?;
                0
            }
        };
        out.flush()?;
        Ok(SortSummary {
            flows_in: self.flows_in,
            flows_out: out.flows,
            runs,
        })
    }
}

/// Bytes a flow takes in memory at most (every column; addresses 16 bytes) plus its index.
fn row_bytes() -> usize {
    let cols: usize = ColumnId::ALL.iter().map(|c| c.width().unwrap_or(16)).sum();
    cols + std::mem::size_of::<u32>()
}

/// Gathers flows into blocks for the consumer.
struct Emitter<'e> {
    buf: FlowBlockBuf,
    emit: &'e mut dyn FnMut(&FlowBlock<'_>) -> io::Result<()>,
    flows: u64,
}

impl Emitter<'_> {
    fn rows(&mut self, b: &FlowBlock<'_>, rows: &[u32]) -> io::Result<()> {
        for chunk in rows.chunks(OUT_BLOCK) {
            self.buf.extend_rows(b, chunk);
            self.flush_if_full()?;
        }
        Ok(())
    }

    fn row(&mut self, b: &FlowBlock<'_>, i: usize) -> io::Result<()> {
        self.buf.push_row(b, i);
        self.flush_if_full()
    }

    fn record(&mut self, r: &FlowRecord) -> io::Result<()> {
        self.buf.push(r);
        self.flush_if_full()
    }

    fn flush_if_full(&mut self) -> io::Result<()> {
        match self.buf.len() >= OUT_BLOCK {
            true => self.flush(),
            false => Ok(()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.flows += self.buf.len() as u64;
        (self.emit)(&self.buf.view())?;
        self.buf.clear();
        Ok(())
    }
}

/// A full sort: flows in memory, sorted runs in temporary files above the bound.
struct FullSort {
    order: SortOrder,
    stride: usize,
    max_rows: usize,
    rows: FlowBlockBuf,
    keys: Vec<u8>,
    runs: Vec<PathBuf>,
    dir: Option<tempfile::TempDir>,
    spill_dir: Option<PathBuf>,
}

impl FullSort {
    fn push(&mut self, b: &FlowBlock<'_>) -> io::Result<()> {
        let mut from = 0;
        while from < b.len {
            let room = self.max_rows - self.rows.len();
            let to = b.len.min(from + room);
            let part = b.slice(from..to);
            for i in 0..part.len {
                self.order.encode(&part, i, &mut self.keys);
            }
            self.rows.extend_all(&part);
            if self.rows.len() >= self.max_rows {
                self.spill()?;
            }
            from = to;
        }
        Ok(())
    }

    /// The rows in memory in sorted order (stable: equal keys by position).
    fn sorted(&self) -> Vec<u32> {
        let s = self.stride;
        let mut idx: Vec<u32> = (0..self.rows.len() as u32).collect();
        let key = |i: u32| &self.keys[i as usize * s..(i as usize + 1) * s];
        idx.sort_unstable_by(|&a, &b| key(a).cmp(key(b)).then(a.cmp(&b)));
        idx
    }

    /// Writes the rows in memory, sorted, as the next run.
    fn spill(&mut self) -> io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        if self.dir.is_none() {
            let base = match &self.spill_dir {
                Some(d) => d.clone(),
                None => std::env::temp_dir(),
            };
            let dir = tempfile::Builder::new()
                .prefix(".flowkit-sort-")
                .tempdir_in(&base)
                .map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!(
                            "cannot make a directory for sorted runs in {}: {e}",
                            base.display()
                        ),
                    )
                })?;
            self.dir = Some(dir);
        }
        let dir = self.dir.as_ref().expect("made above").path();
        let path = dir.join(format!("run-{:06}.fk", self.runs.len()));
        // Plain columns: the merge reads them straight from the map, widening nothing (and
        // inflating nothing: a run file lives for one sort).
        let opts = WriterOptions {
            creator: "flow-sort run".into(),
            narrow: false,
            compress: None,
            ..WriterOptions::default()
        };
        let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        let mut w = ArchiveFileWriter::create(&path, opts).map_err(named)?;
        let idx = self.sorted();
        let view = self.rows.view();
        let mut buf = FlowBlockBuf::default();
        for chunk in idx.chunks(OUT_BLOCK) {
            buf.clear();
            buf.extend_rows(&view, chunk);
            w.writer().write_block(&buf.view(), None).map_err(named)?;
        }
        w.finish().map_err(named)?;
        self.runs.push(path);
        self.rows.clear();
        self.keys.clear();
        Ok(())
    }

    fn finish(mut self, out: &mut Emitter<'_>) -> io::Result<usize> {
        if self.runs.is_empty() {
            let idx = self.sorted();
            out.rows(&self.rows.view(), &idx)?;
            return Ok(0);
        }
        self.spill()?;
        merge(&self.order, &self.runs, out)?;
        Ok(self.runs.len())
    }
}

/// Where one run is in the merge.
struct Cursor<'a> {
    file: &'a ArchiveFile,
    next_block: usize,
    view: FlowBlock<'a>,
    row: usize,
}

impl Cursor<'_> {
    /// Moves to the next row, loading blocks as needed (an empty view before the first); false
    /// at the end of the run.
    fn advance(&mut self) -> io::Result<bool> {
        self.row += 1;
        while self.row >= self.view.len {
            if self.next_block >= self.file.blocks().len() {
                return Ok(false);
            }
            self.view = self.file.block(self.next_block).map_err(io::Error::other)?;
            self.next_block += 1;
            self.row = 0;
        }
        Ok(true)
    }
}

/// Merges sorted runs: the smallest key first, a tie to the earlier run (which holds earlier
/// flows), so the merge is as stable as the sort of each run.
fn merge(order: &SortOrder, runs: &[PathBuf], out: &mut Emitter<'_>) -> io::Result<()> {
    let files: Vec<ArchiveFile> = runs
        .iter()
        .map(|p| ArchiveFile::open(p, false).map_err(io::Error::other))
        .collect::<io::Result<_>>()?;
    let mut cursors: Vec<Cursor<'_>> = Vec::with_capacity(files.len());
    let mut heap = BinaryHeap::with_capacity(files.len());
    for (r, file) in files.iter().enumerate() {
        let mut c = Cursor {
            file,
            next_block: 0,
            view: FlowBlock::without_columns(0),
            row: 0,
        };
        if c.advance()? {
            let mut key = Vec::with_capacity(order.width());
            order.encode(&c.view, c.row, &mut key);
            heap.push(Reverse((key, r)));
        }
        cursors.push(c);
    }
    while let Some(Reverse((mut key, r))) = heap.pop() {
        let c = &mut cursors[r];
        out.row(&c.view, c.row)?;
        if c.advance()? {
            key.clear();
            order.encode(&c.view, c.row, &mut key);
            heap.push(Reverse((key, r)));
        }
    }
    Ok(())
}

/// The first N flows: a max-heap of the kept ones, its top the last of them.
struct TopN {
    order: SortOrder,
    n: usize,
    heap: BinaryHeap<Kept>,
    seq: u64,
    key: Vec<u8>,
}

/// A flow kept by a top-N sort, ordered by its key and then its input position.
struct Kept {
    key: Vec<u8>,
    flow: FlowRecord,
}

impl PartialEq for Kept {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Kept {}

impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Kept {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

impl TopN {
    fn push(&mut self, b: &FlowBlock<'_>) {
        if self.n == 0 {
            return;
        }
        for i in 0..b.len {
            self.key.clear();
            self.order.encode(b, i, &mut self.key);
            // The input position last: a later flow with an equal key comes after.
            self.key.extend_from_slice(&self.seq.to_be_bytes());
            self.seq += 1;
            if self.heap.len() < self.n {
                self.heap.push(Kept {
                    key: self.key.clone(),
                    flow: b.get(i),
                });
            } else if let Some(mut last) = self.heap.peek_mut() {
                if self.key < last.key {
                    last.key.clone_from(&self.key);
                    last.flow = b.get(i);
                }
            }
        }
    }

    fn finish(self, out: &mut Emitter<'_>) -> io::Result<()> {
        for k in self.heap.into_sorted_vec() {
            out.record(&k.flow)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flows(n: usize) -> FlowBlockBuf {
        let mut b = FlowBlockBuf::default();
        for i in 0..n {
            b.push(&FlowRecord {
                start_ms: (i as i64 * 7919) % 101 - 50,
                end_ms: 1000,
                octets: (i as u64 * 31) % 17,
                src_addr: if i % 5 == 0 {
                    format!("2001:db8::{i:x}").parse().unwrap()
                } else {
                    format!("10.0.{}.{}", i / 256, i % 256).parse().unwrap()
                },
                ..FlowRecord::default()
            });
        }
        b
    }

    fn sort(
        b: &FlowBlockBuf,
        keys: &str,
        descending: bool,
        top: Option<usize>,
        memory: usize,
    ) -> Vec<FlowRecord> {
        let mut s = Sorter::new(SortOptions {
            order: SortOrder {
                keys: parse_keys(keys).unwrap(),
                descending,
            },
            top,
            memory,
            spill_dir: None,
        });
        // In pieces, so runs and heaps see several blocks.
        let v = b.view();
        for from in (0..v.len).step_by(37) {
            s.push(&v.slice(from..v.len.min(from + 37))).unwrap();
        }
        let mut got = Vec::new();
        let summary = s
            .finish(&mut |blk| {
                got.extend(blk.records());
                Ok(())
            })
            .unwrap();
        assert_eq!(summary.flows_in, b.len() as u64);
        assert_eq!(summary.flows_out, got.len() as u64);
        // 5000 bytes hold a few dozen flows: the sort spills many runs; 1 GiB none.
        let spills = top.is_none() && memory < 10_000;
        assert_eq!(summary.runs > 1, spills, "runs {}", summary.runs);
        got
    }

    /// Sorted as std's stable sort on the field values sorts; runs, heaps and memory agree.
    #[test]
    fn agrees_with_a_stable_sort_of_the_values() {
        let b = flows(1000);
        let v = b.view();
        for (keys, desc) in [
            ("octets", false),
            ("octets,start", true),
            ("sa", false),
            ("duration,sa", true),
        ] {
            let parsed = parse_keys(keys).unwrap();
            let mut want: Vec<usize> = (0..v.len).collect();
            let val = |i: usize| -> Vec<FieldValue> {
                parsed
                    .iter()
                    .map(|k| match k {
                        SortKey::Field(f) => f.value(&v, i),
                        SortKey::Start => FieldValue::Signed(v.start_ms[i]),
                        SortKey::End => FieldValue::Signed(v.end_ms[i]),
                        SortKey::Duration => FieldValue::Signed(v.end_ms[i] - v.start_ms[i]),
                    })
                    .collect()
            };
            want.sort_by(|&a, &c| match desc {
                false => val(a).cmp(&val(c)),
                true => val(c).cmp(&val(a)),
            });
            let want: Vec<FlowRecord> = want.iter().map(|&i| v.get(i)).collect();
            assert_eq!(sort(&b, keys, desc, None, 1 << 30), want, "{keys}");
            assert_eq!(sort(&b, keys, desc, None, 5000), want, "{keys} spilled");
            assert_eq!(sort(&b, keys, desc, Some(10), 0), want[..10], "{keys} top");
            assert_eq!(sort(&b, keys, desc, Some(5000), 0), want, "{keys} top all");
        }
        assert!(sort(&b, "octets", false, Some(0), 0).is_empty());
    }

    #[test]
    fn unknown_keys_suggest_the_nearest() {
        let e = parse_keys("octest").unwrap_err().to_string();
        assert!(e.contains("did you mean `octets`?"), "{e}");
        assert!(parse_keys("octets,").is_err());
        assert_eq!(parse_keys("%byt,td").unwrap()[1], SortKey::Duration);
    }
}
