//! Dated directory trees of archive files, rotated by time, as flow-tools' flow-capture lays them out.
//!
//! A file covers one rotation interval and is named `<prefix>.YYYY-MM-DD.HHMMSS+hhmm` after the
//! start of its interval in the chosen zone, inside `YYYY/YYYY-MM/YYYY-MM-DD/` (nesting level 3,
//! the default; other levels as flow-capture's `-N`).

use super::{ArchiveFileWriter, ArchiveSummary, WriterOptions};
use crate::model::block::{FlowBlock, FlowBlockBuf};
use crate::time::Clock;
use jiff::tz::TimeZone;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// How files are laid out under the output directory.
#[derive(Clone, Debug)]
pub struct TreeLayout {
    /// Root directory.
    pub root: PathBuf,
    /// File name prefix (`ft` by default, so `ft*` globs match flow-tools' and our files).
    pub prefix: String,
    /// flow-capture nesting: 0 none, 1 `YYYY/`, 2 `YYYY/YYYY-MM/`, 3 `YYYY/YYYY-MM/YYYY-MM-DD/`,
    /// -1 `YYYY-MM-DD/`, -2 `YYYY-MM/YYYY-MM-DD/`, -3 as 3.
    pub nest: i8,
    /// Seconds per file.
    pub rotate_secs: u64,
    /// Zone for names and day boundaries.
    pub tz: TimeZone,
}

impl TreeLayout {
    /// A layout with flow-capture's defaults: prefix `ft`, nesting 3, 5-minute files, local zone
    /// (UTC when `TZ` names no zone; tools check it with [`crate::time::zone`] and set `tz`).
    pub fn new(root: &Path) -> Self {
        TreeLayout {
            root: root.to_path_buf(),
            prefix: "ft".into(),
            nest: 3,
            rotate_secs: 300,
            tz: crate::time::zone(false).unwrap_or(TimeZone::UTC),
        }
    }

    /// Start (UTC ms) of the interval holding `t_ms`; intervals are aligned to the zone's day.
    pub fn interval_start(&self, t_ms: i64) -> i64 {
        let offset_ms = Clock::new(self.tz.clone()).civil(t_ms).offset_secs as i64 * 1000;
        let local = t_ms + offset_ms;
        let step = self.rotate_secs.max(1) as i64 * 1000;
        local.div_euclid(step) * step - offset_ms
    }

    /// The path of the file for the interval starting at `start_ms`.
    pub fn path_for(&self, start_ms: i64) -> PathBuf {
        let z = Clock::new(self.tz.clone()).civil(start_ms);
        let (y, m, d) = (z.year, z.month, z.day);
        let mut dir = self.root.clone();
        let year = format!("{y:04}");
        let month = format!("{y:04}-{m:02}");
        let day = format!("{y:04}-{m:02}-{d:02}");
        match self.nest {
            1 => dir.push(&year),
            2 => {
                dir.push(&year);
                dir.push(&month);
            }
            3 | -3 => {
                dir.push(&year);
                dir.push(&month);
                dir.push(&day);
            }
            -1 => dir.push(&day),
            -2 => {
                dir.push(&month);
                dir.push(&day);
            }
            _ => {}
        }
        let secs = z.offset_secs;
        let sign = if secs < 0 { '-' } else { '+' };
        let (oh, om) = (secs.abs() / 3600, secs.abs() % 3600 / 60);
        dir.push(format!(
            "{}.{day}.{:02}{:02}{:02}{sign}{oh:02}{om:02}",
            self.prefix, z.hour, z.minute, z.second
        ));
        dir
    }
}

/// Writes flows into the files of a [`TreeLayout`], choosing the file by a time the caller gives
/// (the receive time of the export packet, as a collector would). Files stay open until
/// [`RotatingWriter::close_before`] or [`RotatingWriter::finish`]; a late flow for an interval whose file
/// was already closed goes to a new file with a `-N` suffix, never into a published file.
pub struct RotatingWriter {
    layout: TreeLayout,
    opts: WriterOptions,
    open: BTreeMap<i64, ArchiveFileWriter>,
    closed: BTreeMap<i64, u32>,
    finished: Vec<(PathBuf, ArchiveSummary)>,
    /// `tmp-` files whose finishing failed (a full disk): left for recovery.
    failed: Vec<PathBuf>,
}

impl RotatingWriter {
    /// A writer for `layout`.
    pub fn new(layout: TreeLayout, opts: WriterOptions) -> Self {
        RotatingWriter {
            layout,
            opts,
            open: BTreeMap::new(),
            closed: BTreeMap::new(),
            finished: Vec::new(),
            failed: Vec::new(),
        }
    }

    /// Writes `block` (or its selected rows) to the file for time `t_ms`.
    pub fn write(
        &mut self,
        t_ms: i64,
        block: &FlowBlock<'_>,
        selected: Option<&[bool]>,
    ) -> io::Result<()> {
        self.file_for(t_ms)?.writer().write_block(block, selected)
    }

    /// Writes the flows of `buf` to the file for time `t_ms`, possibly without copying them
    /// (see [`super::ArchiveWriter::write_buf`]); leaves `buf` empty.
    pub fn write_buf(&mut self, t_ms: i64, buf: &mut FlowBlockBuf) -> io::Result<()> {
        self.file_for(t_ms)?.writer().write_buf(buf)
    }

    /// The open file for time `t_ms`, created when there is none.
    fn file_for(&mut self, t_ms: i64) -> io::Result<&mut ArchiveFileWriter> {
        let key = self.layout.interval_start(t_ms);
        match self.open.entry(key) {
            std::collections::btree_map::Entry::Occupied(e) => Ok(e.into_mut()),
            std::collections::btree_map::Entry::Vacant(e) => {
                let first = self.closed.get(&key).copied().unwrap_or(0);
                let path = free_path(&self.layout.path_for(key), first);
                Ok(e.insert(ArchiveFileWriter::create(&path, self.opts.clone())?))
            }
        }
    }

    /// Writes each flow of `block` to the file of the interval its start time falls in. Runs of
    /// flows in one interval are written together; files of intervals before the one a run starts
    /// in stay open (late flows still land in them) up to `max_open` files, then the oldest is
    /// published.
    pub fn write_by_start(&mut self, block: &FlowBlock<'_>, max_open: usize) -> io::Result<()> {
        let step = self.layout.rotate_secs.max(1) as i64 * 1000;
        let mut a = 0;
        while a < block.len {
            let key = self.layout.interval_start(block.start_ms[a]);
            let mut b = a + 1;
            while b < block.len && (key..key + step).contains(&block.start_ms[b]) {
                b += 1;
            }
            self.write(key, &block.slice(a..b), None)?;
            self.limit_open(max_open.max(1))?;
            a = b;
        }
        Ok(())
    }

    /// Finishes (publishes) every open file whose interval ends at or before `t_ms`;
    /// returns how many were published.
    pub fn close_before(&mut self, t_ms: i64) -> io::Result<usize> {
        let step = self.layout.rotate_secs.max(1) as i64 * 1000;
        let done: Vec<i64> = self
            .open
            .keys()
            .copied()
            .take_while(|&k| k + step <= t_ms)
            .collect();
        let n = done.len();
        for k in done {
            self.close_key(k)?;
        }
        Ok(n)
    }

    /// Writes every open file's pending flows to disk as complete blocks, so a crash loses
    /// at most what arrived since.
    pub fn flush_all(&mut self) -> io::Result<()> {
        for w in self.open.values_mut() {
            w.writer().flush()?;
        }
        Ok(())
    }

    /// Gives up the open files after a write error, without publishing them; their `tmp-` files
    /// keep every block that reached the disk. Returns the `tmp-` files left behind (those open,
    /// and those whose finishing failed), for `archive::recover` to finish and publish.
    pub fn abandon(self) -> Vec<PathBuf> {
        let mut left = self.failed;
        for w in self.open.into_values() {
            left.push(super::writer::temp_name(w.target()));
            drop(w); // closes the file (and its lock) before anyone recovers it
        }
        left
    }

    /// The files published so far, in the order they were finished.
    pub fn published(&self) -> &[(PathBuf, ArchiveSummary)] {
        &self.finished
    }

    fn close_key(&mut self, k: i64) -> io::Result<()> {
        if let Some(w) = self.open.remove(&k) {
            let path = w.target().to_path_buf();
            let s = w.finish().inspect_err(|_| {
                self.failed.push(super::writer::temp_name(&path));
            })?;
            *self.closed.entry(k).or_insert(0) += 1;
            self.finished.push((path, s));
        }
        Ok(())
    }

    /// How files are laid out.
    pub fn layout(&self) -> &TreeLayout {
        &self.layout
    }

    /// Number of files currently open.
    pub fn open_files(&self) -> usize {
        self.open.len()
    }

    /// Closes the oldest open files until at most `max` remain (bounds open descriptors).
    pub fn limit_open(&mut self, max: usize) -> io::Result<()> {
        while self.open.len() > max {
            let k = *self.open.keys().next().expect("non-empty");
            self.close_key(k)?;
        }
        Ok(())
    }

    /// Finishes every open file; returns all files written, in the order they were finished.
    pub fn finish(mut self) -> io::Result<Vec<(PathBuf, ArchiveSummary)>> {
        let keys: Vec<i64> = self.open.keys().copied().collect();
        for k in keys {
            self.close_key(k)?;
        }
        Ok(self.finished)
    }
}

/// `base`, or `base-N` for the first N from `first` on, such that neither the file nor its
/// temporary name exists: a published file, or the unfinished file of a crashed run, is never
/// overwritten.
fn free_path(base: &Path, first: u32) -> PathBuf {
    let name = base
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    (first..)
        .map(|n| {
            if n == 0 {
                base.to_path_buf()
            } else {
                base.with_file_name(format!("{name}-{n}"))
            }
        })
        .find(|p| !p.exists() && !super::writer::temp_name(p).exists())
        .expect("some suffix is free")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::FlowRecord;

    const T: i64 = 1_289_311_200_000; // 2010-11-09 14:00:00 UTC

    fn layout(root: &Path, nest: i8) -> TreeLayout {
        TreeLayout {
            nest,
            tz: TimeZone::UTC,
            ..TreeLayout::new(root)
        }
    }

    #[test]
    fn names_follow_flow_capture() {
        let l = layout(Path::new("/a"), 3);
        assert_eq!(l.interval_start(T + 299_999), T);
        assert_eq!(
            l.path_for(T),
            PathBuf::from("/a/2010/2010-11/2010-11-09/ft.2010-11-09.140000+0000")
        );
        let l = layout(Path::new("/a"), -1);
        assert_eq!(
            l.path_for(T + 300_000),
            PathBuf::from("/a/2010-11-09/ft.2010-11-09.140500+0000")
        );
        let brt = TreeLayout {
            tz: TimeZone::fixed(jiff::tz::offset(-3)),
            rotate_secs: 86400,
            ..layout(Path::new("/a"), 0)
        };
        // Day files start at local midnight.
        assert_eq!(brt.interval_start(T), T - 11 * 3_600_000);
        assert_eq!(
            brt.path_for(brt.interval_start(T)),
            PathBuf::from("/a/ft.2010-11-09.000000-0300")
        );
    }

    #[test]
    fn flows_are_filed_by_their_start_time() {
        let d = tempfile::tempdir().unwrap();
        let mut w = RotatingWriter::new(layout(d.path(), 0), WriterOptions::default());
        let starts = [T, T + 1, T + 299_999, T + 300_000, T + 900_000, T + 2];
        let recs: Vec<_> = starts
            .iter()
            .map(|&s| FlowRecord {
                start_ms: s,
                end_ms: s,
                ..FlowRecord::default()
            })
            .collect();
        let b = FlowBlockBuf::from_records(&recs);
        w.write_by_start(&b.view(), 8).unwrap();
        let files = w.finish().unwrap();
        let mut got: Vec<(String, Vec<i64>)> = files
            .iter()
            .map(|(p, _)| {
                let f = crate::archive::ArchiveFile::open(p, true).unwrap();
                let starts = (0..f.blocks().len())
                    .flat_map(|i| f.block(i).unwrap().start_ms.to_vec())
                    .collect();
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    starts,
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                (
                    "ft.2010-11-09.140000+0000".into(),
                    vec![T, T + 1, T + 299_999, T + 2]
                ),
                ("ft.2010-11-09.140500+0000".into(), vec![T + 300_000]),
                ("ft.2010-11-09.141500+0000".into(), vec![T + 900_000]),
            ]
        );
    }

    #[test]
    fn rotates_and_never_reopens_a_published_file() {
        let d = tempfile::tempdir().unwrap();
        let mut w = RotatingWriter::new(layout(d.path(), -1), WriterOptions::default());
        let b = FlowBlockBuf::from_records(&[FlowRecord::default()]);
        w.write(T, &b.view(), None).unwrap();
        w.write(T + 400_000, &b.view(), None).unwrap();
        w.close_before(T + 400_000).unwrap();
        assert_eq!(w.open_files(), 1);
        w.write(T + 1, &b.view(), None).unwrap(); // late flow for the closed interval
        let files = w.finish().unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            vec![
                "ft.2010-11-09.140000+0000",
                "ft.2010-11-09.140000+0000-1",
                "ft.2010-11-09.140500+0000"
            ]
        );
        assert!(files.iter().all(|(p, s)| p.exists() && s.flows == 1));
        // A restarted writer in the same interval starts a new file instead of overwriting.
        let mut again = RotatingWriter::new(layout(d.path(), -1), WriterOptions::default());
        again.write(T, &b.view(), None).unwrap();
        let more = again.finish().unwrap();
        assert!(
            more[0].0.ends_with("ft.2010-11-09.140000+0000-2"),
            "{:?}",
            more[0].0
        );
    }
}
