//! Exporting flows as hive-partitioned Parquet (`flow-export --parquet -o DIR`), for the
//! engines a site already runs (DuckDB, Spark, Trino, ClickHouse); see `docs/scale-out.md`.
//!
//! One row per flow, in `DIR/date=YYYY-MM-DD/hour=HH/part-RUN-N.parquet`, partitioned by the
//! flow's start time in UTC (never the local zone), zstd-compressed. A file being written is
//! `.part-RUN-N.tmp` (hidden, not `*.parquet`, so no reader picks it up) and is renamed when
//! complete. Exports are incremental: `DIR/_flowkit_export.json` ([`state`]) records each input
//! file exported (path, size, modification time), and a later run over the same tree reads
//! only the files not recorded, so a cron job keeps the Parquet tree in step with an archive.

pub mod schema;
pub mod state;

use crate::model::block::{ColumnSet, FlowBlock};
use crate::pipeline::input::Input;
use crate::pipeline::scan::{ScanError, ScanOptions, Scanner};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use schema::Rows;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Rows gathered per partition before they go to the Parquet writer as one batch.
const BATCH_ROWS: usize = 64 * 1024;
/// Rows per Parquet row group (engines prune row groups by their min/max statistics).
const ROW_GROUP_ROWS: usize = 1 << 20;
/// Partition files open at once; the least recently used is finished when another is needed
/// (a later flow of its hour goes to a new part file).
const MAX_OPEN: usize = 24;

/// Settings of an export.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// The root of the Parquet tree.
    pub out_dir: PathBuf,
    /// zstd level (1-22).
    pub zstd_level: i32,
    /// Re-read inputs the state file says were exported (their flows are written again).
    pub full: bool,
    /// Write ports, AS numbers, counters and end times as `BYTE_STREAM_SPLIT` (smaller files;
    /// only readers of Parquet format 2.11, 2024, and later read integers so encoded).
    pub byte_stream_split: bool,
}

/// What an export did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Input files read (and stdin, when read).
    pub inputs_read: u64,
    /// Input files skipped because the state file records them as exported.
    pub inputs_skipped: u64,
    /// Flows written.
    pub flows: u64,
    /// Parquet files written.
    pub files: u64,
    /// Bytes of Parquet written.
    pub bytes: u64,
    /// Problems with inputs (damaged blocks, changed files), reported on stderr.
    pub errors: u64,
}

impl std::fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "inputs read {}, skipped (already exported) {}, flows {}, parquet files {}, bytes {}, errors {}",
            self.inputs_read, self.inputs_skipped, self.flows, self.files, self.bytes, self.errors
        )
    }
}

/// One open part file of a partition.
struct Part {
    writer: ArrowWriter<File>,
    rows: Rows,
    tmp: PathBuf,
    done: PathBuf,
    last_use: u64,
}

/// The partitions being written: part files by UTC hour (hours since the epoch).
struct Writer {
    dir: PathBuf,
    run: String,
    props: WriterProperties,
    schema: std::sync::Arc<arrow_schema::Schema>,
    open: HashMap<i64, Part>,
    finished: Vec<(PathBuf, PathBuf)>,
    seq: u64,
    tick: u64,
    flows: u64,
    /// The latest start hour seen so far.
    latest_hour: i64,
}

fn io_err(what: &str, path: &Path, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("{what} {}: {e}", path.display()))
}

/// `date=YYYY-MM-DD/hour=HH` of an hour since the epoch (UTC).
pub fn partition_of(hour: i64) -> Result<String, String> {
    let ts = jiff::Timestamp::from_second(hour.saturating_mul(3600))
        .map_err(|e| format!("a flow starting at hour {hour} since 1970 has no date: {e}"))?;
    let dt = ts.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    Ok(format!("date={}/hour={:02}", dt.date(), dt.hour()))
}

impl Writer {
    fn part(&mut self, hour: i64) -> std::io::Result<&mut Part> {
        self.tick += 1;
        if !self.open.contains_key(&hour) {
            if self.open.len() >= MAX_OPEN {
                let oldest = self
                    .open
                    .iter()
                    .min_by_key(|(_, p)| p.last_use)
                    .map(|(h, _)| *h);
                if let Some(h) = oldest {
                    self.finish(h)?;
                }
            }
            let part_dir = self
                .dir
                .join(partition_of(hour).map_err(std::io::Error::other)?);
            std::fs::create_dir_all(&part_dir)
                .map_err(|e| io_err("cannot create", &part_dir, e))?;
            self.seq += 1;
            let stem = format!("part-{}-{:05}", self.run, self.seq);
            let tmp = part_dir.join(format!(".{stem}.tmp"));
            let done = part_dir.join(format!("{stem}.parquet"));
            let file = File::create(&tmp).map_err(|e| io_err("cannot create", &tmp, e))?;
            let writer = ArrowWriter::try_new(file, self.schema.clone(), Some(self.props.clone()))
                .map_err(|e| io_err("cannot write", &tmp, e))?;
            self.open.insert(
                hour,
                Part {
                    writer,
                    rows: Rows::with_capacity(BATCH_ROWS),
                    tmp,
                    done,
                    last_use: 0,
                },
            );
        }
        let tick = self.tick;
        let p = self
            .open
            .get_mut(&hour)
            .ok_or_else(|| std::io::Error::other("no partition"))?;
        p.last_use = tick;
        Ok(p)
    }

    /// Writes the rows held for `p` as a batch, making room for `next` more.
    fn flush(
        schema: &std::sync::Arc<arrow_schema::Schema>,
        p: &mut Part,
        next: usize,
    ) -> std::io::Result<()> {
        if p.rows.is_empty() {
            return Ok(());
        }
        let batch = p
            .rows
            .take_batch(schema, next)
            .map_err(|e| io_err("cannot build a batch for", &p.tmp, e))?;
        p.writer
            .write(&batch)
            .map_err(|e| io_err("cannot write", &p.tmp, e))
    }

    /// Writes out the rows held for partitions more than an hour behind `latest` (the latest
    /// start hour seen) as a row group each, keeping their files open. Input in time order
    /// rarely goes back that far, so the held rows of past hours would otherwise sit in memory
    /// until the end: 1.15 GB for 3 M flows over 24 hours, against 0.17 GB this way, and the
    /// CPU time of clearing that much fresh memory (40% less CPU in all). A flow that does come
    /// later for such an hour (IPv6 blocks fill more slowly and lag) starts a smaller row group
    /// in the same file.
    fn flush_behind(&mut self, latest: i64) -> std::io::Result<()> {
        for (_, p) in self.open.iter_mut().filter(|(h, _)| **h < latest - 1) {
            Self::flush(&self.schema, p, 0)?;
            p.writer
                .flush()
                .map_err(|e| io_err("cannot write", &p.tmp, e))?;
        }
        Ok(())
    }

    /// Completes the part file of `hour` (still under its temporary name).
    fn finish(&mut self, hour: i64) -> std::io::Result<()> {
        if let Some(mut p) = self.open.remove(&hour) {
            Self::flush(&self.schema, &mut p, 0)?;
            p.writer
                .close()
                .map_err(|e| io_err("cannot finish", &p.tmp, e))?;
            self.finished.push((p.tmp, p.done));
        }
        Ok(())
    }

    fn write_block(&mut self, b: &FlowBlock<'_>) -> std::io::Result<()> {
        // Rows by hour, in order; blocks are mostly within one or two hours.
        let mut by_hour: Vec<(i64, Vec<u32>)> = Vec::new();
        for i in 0..b.len {
            let h = b.start_ms[i].div_euclid(3_600_000);
            match by_hour.iter_mut().find(|(x, _)| *x == h) {
                Some((_, rows)) => rows.push(i as u32),
                None => by_hour.push((h, vec![i as u32])),
            }
        }
        let latest = by_hour.iter().map(|(h, _)| *h).max().unwrap_or(i64::MIN);
        if latest > self.latest_hour {
            self.latest_hour = latest;
            self.flush_behind(latest)?;
        }
        for (h, rows) in by_hour {
            let schema = self.schema.clone();
            let p = self.part(h)?;
            // Batches stay within the room made for them.
            if p.rows.len() + rows.len() > BATCH_ROWS {
                Self::flush(&schema, p, BATCH_ROWS)?;
            }
            p.rows.push(b, &rows).map_err(|o| {
                std::io::Error::other(format!(
                    "a flow's {} is {}, above the largest signed 64-bit value the Parquet \
                     column holds",
                    o.column, o.value
                ))
            })?;
            self.flows += rows.len() as u64;
        }
        Ok(())
    }

    /// Completes every part file and renames them to `*.parquet`; returns files and bytes.
    fn publish(mut self) -> std::io::Result<(u64, u64)> {
        let hours: Vec<i64> = self.open.keys().copied().collect();
        for h in hours {
            self.finish(h)?;
        }
        let mut bytes = 0;
        for (tmp, done) in &self.finished {
            bytes += std::fs::metadata(tmp).map(|m| m.len()).unwrap_or(0);
            std::fs::rename(tmp, done).map_err(|e| io_err("cannot rename", tmp, e))?;
        }
        Ok((self.finished.len() as u64, bytes))
    }

    /// Removes the temporary files of a failed export.
    fn abandon(self) {
        for p in self.open.values() {
            let _ = std::fs::remove_file(&p.tmp);
        }
        for (tmp, _) in &self.finished {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Exports the flows of `inputs` (read with `scan`) into the Parquet tree of `opts`, reading only
/// inputs not yet exported (unless `opts.full`); `warn` is given each message about a damaged or
/// changed input, `on_flows` the number of flows of each batch read (a tool's progress line).
/// Damaged inputs are reported, their readable flows exported, and counted in
/// [`ExportSummary::errors`].
pub fn export(
    inputs: Vec<Input>,
    scan: ScanOptions,
    opts: &ExportOptions,
    warn: &mut dyn FnMut(&str),
    on_flows: &mut dyn FnMut(u64),
) -> Result<ExportSummary, ScanError> {
    std::fs::create_dir_all(&opts.out_dir).map_err(|e| {
        ScanError::BadInput(format!("cannot create {}: {e}", opts.out_dir.display()))
    })?;
    let _lock = state::lock(&opts.out_dir).map_err(ScanError::BadInput)?;
    let mut st = state::State::load(&opts.out_dir).map_err(ScanError::BadInput)?;
    let mut summary = ExportSummary::default();
    let mut todo: Vec<(Input, Option<state::FileId>)> = Vec::new();
    for i in inputs {
        match &i {
            Input::Stdin => todo.push((i, None)),
            Input::File(p) => {
                let id = state::FileId::of(p).map_err(ScanError::BadInput)?;
                match st.check(&id) {
                    state::Seen::New => todo.push((i, Some(id))),
                    _ if opts.full => todo.push((i, Some(id))),
                    state::Seen::Same => summary.inputs_skipped += 1,
                    state::Seen::Changed(why) => {
                        warn(&format!(
                            "{}: changed since it was exported ({why}); its flows are already \
                                 in {}: not read again (remove its entry from {} or use --full \
                                 into a fresh directory to export it anew)",
                            p.display(),
                            opts.out_dir.display(),
                            state::STATE_FILE
                        ));
                        summary.errors += 1;
                    }
                }
            }
        }
    }
    let level = ZstdLevel::try_new(opts.zstd_level)
        .map_err(|e| ScanError::BadInput(format!("--zstd-level: {e}")))?;
    let props = writer_properties(level, opts.byte_stream_split);
    let mut w = Writer {
        dir: opts.out_dir.clone(),
        run: st.run().to_string(),
        props,
        schema: schema::schema(),
        open: HashMap::new(),
        finished: Vec::new(),
        seq: 0,
        tick: 0,
        flows: 0,
        latest_hour: i64::MIN,
    };
    let mut scanner = Scanner::new(scan, warn);
    let mut exported = Vec::new();
    for (input, id) in todo {
        let before = scanner.stats.errors;
        let r = scanner.run_columns(std::slice::from_ref(&input), ColumnSet::ALL, &mut |batch| {
            for b in batch.blocks {
                w.write_block(b)?;
                on_flows(b.len as u64);
            }
            Ok(())
        });
        match r {
            Ok(()) => {}
            Err(e) => {
                w.abandon();
                return Err(e);
            }
        }
        summary.inputs_read += 1;
        if let Some(id) = id {
            exported.push((id, scanner.stats.errors - before));
        }
    }
    summary.flows = w.flows;
    summary.errors += scanner.stats.errors;
    let (files, bytes) = w.publish().map_err(ScanError::Output)?;
    summary.files = files;
    summary.bytes = bytes;
    for (id, errors) in exported {
        st.record(id, errors);
    }
    st.save(&opts.out_dir).map_err(ScanError::Output)?;
    Ok(summary)
}

/// Columns whose values are drawn from a wide range with little repetition (ports, AS numbers):
/// a dictionary of them is large and its bit-packed indices (15-16 bits on generated flows) are
/// no smaller than the values, while the plain values' bytes are left for zstd to squeeze.
const WIDE: [&str; 6] = [
    "src_port",
    "dst_port",
    "xlate_src_port",
    "xlate_dst_port",
    "src_as",
    "dst_as",
];
/// Counters: dictionary-encoded by default (smaller than plain on generated flows).
const COUNTERS: [&str; 4] = ["packets", "octets", "rev_packets", "rev_octets"];

/// The writer settings of an export: zstd at `level`, per-column encodings (measured on
/// generated flows in `docs/scale-out.md`), and `BYTE_STREAM_SPLIT` for the wide columns,
/// counters and end times when `byte_stream_split`.
fn writer_properties(level: ZstdLevel, byte_stream_split: bool) -> WriterProperties {
    use parquet::basic::Encoding;
    use parquet::schema::types::ColumnPath;
    let mut props = WriterProperties::builder();
    let mut set = |cols: &[&str], encoding: Encoding| {
        for col in cols {
            let path = ColumnPath::from(*col);
            props = std::mem::take(&mut props)
                .set_column_dictionary_enabled(path.clone(), false)
                .set_column_encoding(path, encoding);
        }
    };
    // Times rise within a batch (rows are sorted by start): delta-encoded they take a few bits
    // a row, where a dictionary would give up on them.
    set(&["start", "start_ms"], Encoding::DELTA_BINARY_PACKED);
    if byte_stream_split {
        // A byte of each value per stream: the high bytes of ports, AS numbers, counters and
        // (durations being short) end times repeat, and zstd takes them to a few bits.
        set(&WIDE, Encoding::BYTE_STREAM_SPLIT);
        set(&COUNTERS, Encoding::BYTE_STREAM_SPLIT);
        set(&["end", "end_ms"], Encoding::BYTE_STREAM_SPLIT);
    } else {
        set(&WIDE, Encoding::PLAIN);
        set(&["end", "end_ms"], Encoding::DELTA_BINARY_PACKED);
    }
    props
        .set_compression(Compression::ZSTD(level))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("flowkit flow-export {}", env!("CARGO_PKG_VERSION")))
        .build()
}
