//! Where a program writes binary flows: a named archive file (published when complete), a dated
//! tree of files rotated by flow start time, or a stream on stdout (block references when its
//! reader is another flowkit tool on this host, see `archive::reference`).

use crate::archive::tree::{RotatingWriter, TreeLayout};
use crate::archive::writer::compression_chosen;
use crate::archive::{ArchiveFileWriter, ArchiveSummary, ArchiveWriter, WriterOptions};
use crate::model::block::{FlowBlock, FlowBlockBuf};
use crate::pipeline::pipe::grow_pipe;
use crate::pipeline::scan::Batch;
use std::io;
use std::path::Path;

/// Where a tool writes binary flows: a named file (published when complete), a dated tree of
/// files rotated by flow start time, or stdout.
pub enum FlowOutput {
    /// A file given with `-o`.
    File(ArchiveFileWriter),
    /// A directory given with `-o DIR/` (or an existing directory): a flow-tools-style dated tree.
    Tree(RotatingWriter),
    /// Standard output (a pipe or redirected file). With `refs`, its only readers are flowkit
    /// tools on this host, and whole blocks of archive files go as references.
    Stdout {
        /// The stream writer.
        writer: ArchiveWriter<io::BufWriter<io::Stdout>>,
        /// Whole blocks may be sent as references (see `archive::reference`).
        refs: bool,
        /// Blocks sent as references so far.
        sent_by_ref: u64,
    },
}

/// Files a tree output keeps open at once before publishing the oldest.
const TREE_MAX_OPEN: usize = 16;

/// True when `-o` names a directory: it exists as one, or ends with a path separator.
pub fn names_directory(path: &Path) -> bool {
    path.is_dir()
        || path
            .as_os_str()
            .to_string_lossy()
            .ends_with(std::path::MAIN_SEPARATOR)
}

/// Block references written to a pipe between flushes (each a few hundred bytes), so the
/// reading tool works alongside the writing one.
const REFS_PER_FLUSH: u64 = 8;

impl FlowOutput {
    /// Opens `-o FILE`, `-o DIR/` (a dated tree with flow-capture's defaults: 5-minute files named
    /// in local time, `YYYY/YYYY-MM/YYYY-MM-DD/` nesting), or stdout (a program's edge refuses a
    /// terminal first, where binary flows are useless). Flows keep their order (except across the
    /// files of a tree). An error opening a named file names it.
    pub fn open(path: Option<&Path>, creator: &str) -> io::Result<FlowOutput> {
        FlowOutput::open_as(path, writer_options(creator))
    }

    /// Like [`FlowOutput::open`], for a program that makes an archive of what it collected,
    /// imported or generated: files and trees keep IPv4 and IPv6 flows in separate blocks
    /// (`WriterOptions::split_families`); a stream on stdout keeps the order.
    pub fn open_archive(path: Option<&Path>, creator: &str) -> io::Result<FlowOutput> {
        match path {
            Some(_) => FlowOutput::open_as(path, WriterOptions::archive(creator)),
            None => FlowOutput::open_as(None, writer_options(creator)),
        }
    }

    /// A dated tree laid out as `layout` says (IPv4 and IPv6 flows in separate blocks).
    pub fn open_tree(layout: TreeLayout, creator: &str) -> FlowOutput {
        FlowOutput::Tree(RotatingWriter::new(layout, WriterOptions::archive(creator)))
    }

    fn open_as(path: Option<&Path>, opts: WriterOptions) -> io::Result<FlowOutput> {
        match path {
            Some(p) if names_directory(p) => Ok(FlowOutput::Tree(RotatingWriter::new(
                TreeLayout::new(p),
                WriterOptions {
                    split_families: true,
                    ..opts
                },
            ))),
            Some(p) => ArchiveFileWriter::create(p, opts)
                .map(FlowOutput::File)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display()))),
            None => {
                let out = io::stdout();
                grow_pipe(1);
                let refs = crate::archive::reference::stdout_feeds_flowkit();
                // A pipe into another flowkit tool here carries blocks for a moment: plain
                // columns spare both ends packing and widening. Anything else (a file, ssh,
                // gzip) gets narrow columns, as an archive would. Compressed columns only go to
                // a regular file (`tool > file`, kept like an archive) or where the user asked
                // with --compress: a pipe is transient, and compressing it would cost both ends
                // CPU for bytes nobody keeps.
                // Blocks copied whole go on as they are stored into a pipe (no inflating
                // and deflating again), as this writer's blocks into a file.
                let kept = stdout_is_regular_file() || compression_chosen();
                let compress = match refs {
                    true => None,
                    false if kept => opts.compress,
                    false => None,
                };
                let opts = WriterOptions {
                    narrow: opts.narrow && !refs,
                    compress,
                    recode_raw_blocks: kept,
                    ..opts
                };
                ArchiveWriter::new(io::BufWriter::with_capacity(1 << 20, out), opts).map(|writer| {
                    FlowOutput::Stdout {
                        writer,
                        refs,
                        sent_by_ref: 0,
                    }
                })
            }
        }
    }

    /// Appends the flows of `block` (all, or those selected).
    pub fn write_block(
        &mut self,
        block: &FlowBlock<'_>,
        selected: Option<&[bool]>,
    ) -> io::Result<()> {
        match self {
            FlowOutput::File(w) => w.writer().write_block(block, selected),
            FlowOutput::Stdout { writer, .. } => writer.write_block(block, selected),
            FlowOutput::Tree(w) => match selected {
                None => w.write_by_start(block, TREE_MAX_OPEN),
                Some(sel) => {
                    let mut picked = FlowBlockBuf::default();
                    picked.extend_selected(block, sel);
                    w.write_by_start(&picked.view(), TREE_MAX_OPEN)
                }
            },
        }
    }

    /// Appends a whole block whose stored bytes (checked, as a [`Batch`] gives them)
    /// are `raw`, copying them as they are (a dated tree re-encodes, splitting by time).
    pub fn write_raw_block(&mut self, raw: &[u8], block: &FlowBlock<'_>) -> io::Result<()> {
        match self {
            FlowOutput::File(w) => w.writer().write_raw_block(raw, block),
            FlowOutput::Stdout { writer, .. } => writer.write_raw_block(raw, block),
            FlowOutput::Tree(_) => self.write_block(block, None),
        }
    }

    /// True when the stored block `raw` would be copied as it is (not recoded, not split by time).
    fn copies_raw(&mut self, raw: &[u8]) -> bool {
        match self {
            FlowOutput::File(w) => w.writer().copies_raw(raw),
            FlowOutput::Stdout { writer, .. } => writer.copies_raw(raw),
            FlowOutput::Tree(_) => false,
        }
    }

    /// Copies the checked stored block `raw` of `flows` flows (see [`FlowOutput::copies_raw`]).
    fn write_stored(&mut self, raw: &[u8], flows: usize) -> io::Result<()> {
        match self {
            FlowOutput::File(w) => w.writer().write_stored(raw, flows),
            FlowOutput::Stdout { writer, .. } => writer.write_stored(raw, flows),
            FlowOutput::Tree(_) => unreachable!("a dated tree recodes every block"),
        }
    }

    /// Appends whole blocks of a batch, copying their stored bytes as they are where the batch
    /// has them (archives and streams read without a window or shift).
    pub fn write_batch(&mut self, batch: &Batch<'_, '_>) -> io::Result<()> {
        (0..batch.blocks.len()).try_for_each(|k| self.write_whole(batch, k, None))
    }

    /// True when whole blocks go out as references, so a tool passing blocks on need not check
    /// their columns itself (the reader checks what it reads): scan with [`crate::model::block::ColumnSet::EMPTY`].
    pub fn sends_references(&self) -> bool {
        matches!(self, FlowOutput::Stdout { refs: true, .. })
    }

    /// Appends block `k` of a batch whole: as a reference when this is a pipe to flowkit tools
    /// and the block has one, else its checked bytes as they are, else encoded. `full` is the
    /// block with every column when the caller already has it (else it is checked here; a
    /// damaged block is then skipped, the scan reporting it).
    pub fn write_whole(
        &mut self,
        batch: &Batch<'_, '_>,
        k: usize,
        full: Option<&FlowBlock<'_>>,
    ) -> io::Result<()> {
        if self.sends_references() {
            if let Some(Some(r)) = batch.refs.map(|refs| &refs[k]) {
                return self.send_ref(r);
            }
        }
        // A block stored as this output stores blocks goes on as it is, its columns checked as
        // stored: nothing inflated or widened only to be written back.
        if let (None, Some(raw)) = (full, batch.stored(k)) {
            if self.copies_raw(raw) {
                return self.write_stored(raw, batch.blocks[k].len);
            }
        }
        let block = match full {
            Some(b) => *b,
            None => match batch.full(k) {
                Some(b) => b,
                None => return Ok(()),
            },
        };
        match batch.raw {
            Some(raw) => self.write_raw_block(raw[k], &block),
            None => self.write_block(&block, None),
        }
    }

    /// True when rows selected from block `k` of `batch` can go on as a reference to them (a
    /// pipe into flowkit tools, and the block came with a reference), so the tool need not read
    /// them out of the block: see [`FlowOutput::write_rows_by_reference`].
    pub fn passes_rows_by_reference(&self, batch: &Batch<'_, '_>, k: usize) -> bool {
        self.sends_references() && batch.refs.is_some_and(|refs| refs[k].is_some())
    }

    /// Appends the flows `rows` (positions in the block, ascending) of block `k` of `batch` as a
    /// reference to them; only where [`FlowOutput::passes_rows_by_reference`] says so.
    pub fn write_rows_by_reference(
        &mut self,
        batch: &Batch<'_, '_>,
        k: usize,
        rows: &[u32],
    ) -> io::Result<()> {
        let r = batch
            .refs
            .and_then(|refs| refs[k].as_ref())
            .expect("checked by passes_rows_by_reference");
        self.send_ref(&r.select(rows))
    }

    fn send_ref(&mut self, r: &crate::archive::BlockRef) -> io::Result<()> {
        let FlowOutput::Stdout {
            writer,
            refs: true,
            sent_by_ref,
        } = self
        else {
            unreachable!("only a pipe into flowkit tools is sent references")
        };
        *sent_by_ref += 1;
        writer.write_ref(r)?;
        // References are small: without this a whole archive's worth would wait in the
        // output buffer, and the reader could not start until this tool ended.
        if *sent_by_ref % REFS_PER_FLUSH == 0 {
            writer.flush()?;
        }
        Ok(())
    }

    /// Blocks sent as references rather than bytes (0 unless writing to a pipe into flowkit).
    pub fn blocks_sent_by_reference(&self) -> u64 {
        match self {
            FlowOutput::Stdout { sent_by_ref, .. } => *sent_by_ref,
            _ => 0,
        }
    }

    /// Finishes the output (trailer, rename for files); returns the totals over all files written.
    pub fn finish(self) -> io::Result<ArchiveSummary> {
        match self {
            FlowOutput::File(w) => w.finish(),
            FlowOutput::Stdout { writer, .. } => writer.finish().map(|(_, s)| s),
            FlowOutput::Tree(w) => {
                let files = w.finish()?;
                Ok(files
                    .iter()
                    .fold(ArchiveSummary::empty(), |acc, (_, s)| acc.merge(s)))
            }
        }
    }
}

/// True when stdout is a regular file (`tool > file`).
fn stdout_is_regular_file() -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let fd = io::stdout();
        let Ok(owned) = fd.as_fd().try_clone_to_owned() else {
            return false;
        };
        std::fs::File::from(owned)
            .metadata()
            .is_ok_and(|m| m.file_type().is_file())
    }
    #[cfg(not(unix))]
    false
}

fn writer_options(creator: &str) -> WriterOptions {
    WriterOptions {
        creator: creator.to_string(),
        ..WriterOptions::default()
    }
}
