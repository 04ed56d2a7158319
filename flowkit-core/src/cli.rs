//! What every flowkit tool shares at its edge: input options, flow output, error reporting.

use crate::archive::tree::{RotatingWriter, TreeLayout};
use crate::archive::{ArchiveFileWriter, ArchiveSummary, ArchiveWriter, WriterOptions};
use crate::filter::{error as filter_error, CompileOptions, CompiledFilter, FilterFile, Variables};
use crate::model::block::{ColumnSet, FlowBlock, FlowBlockBuf};
use crate::pipeline::input::{
    expand_inputs, Input, PartialBatchFn, ScanError, ScanOptions, Scanner,
};
use crate::time;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

/// Input options common to the tools that read flows (flow-cat, flow-nfilter, flow-print ...).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct InputArgs {
    /// Archive files, directories (read recursively, in name order) or globs; none or `-` reads stdin.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Keep flows that start at or after TIME: '2010-11-09 14:00' (local time unless --utc),
    /// '2010-11-09T14:00:00-05:00', '2010-11-09 14:00Z', '11/09/2010 14:00:00', '2010-11-09',
    /// or epoch seconds '@1289311200' (see docs/time.md).
    #[arg(short = 't', long = "start", value_name = "TIME")]
    pub start: Option<String>,
    /// Keep flows that start before TIME.
    #[arg(short = 'T', long = "end", value_name = "TIME")]
    pub end: Option<String>,
    /// Add SECONDS (may be negative or fractional) to every flow time first, to correct a sensor's clock.
    #[arg(
        long = "time-shift",
        value_name = "SECONDS",
        allow_hyphen_values = true
    )]
    pub time_shift: Option<f64>,
    /// Read and print civil times in UTC instead of the local zone (TZ).
    #[arg(long)]
    pub utc: bool,
    /// Read files with read(2) instead of mapping them.
    #[arg(long = "no-mmap")]
    pub no_mmap: bool,
    /// Also read tmp* files (unfinished files of a running collector).
    #[arg(short = 'a', long = "all")]
    pub include_tmp: bool,
    /// Inputs copied to temporary files by [`spool_stdin`]: (spool path, what it holds, e.g.
    /// `(stdin)`); they are read as the stream they hold, under that name.
    #[arg(skip)]
    pub spooled: Vec<(String, String)>,
}

impl InputArgs {
    /// Builds scan options, parsing the time arguments (a note on stderr, once, for a local
    /// time that happened twice).
    pub fn scan_options(&self) -> Result<ScanOptions, String> {
        let tz = time::zone(self.utc).map_err(|e| e.to_string())?;
        let parse = |flag: &str, s: &Option<String>| -> Result<Option<i64>, String> {
            let Some(t) = s.as_deref() else {
                return Ok(None);
            };
            let p = time::parse_time(t, &tz).map_err(|e| format!("{flag}: {e}"))?;
            if let Some(n) = p.note {
                note_once(&format!("note: {flag} {n}"));
            }
            Ok(Some(p.ms))
        };
        Ok(ScanOptions {
            from_ms: parse("-t", &self.start)?,
            to_ms: parse("-T", &self.end)?,
            time_shift_ms: self.time_shift.map_or(0, |s| (s * 1000.0).round() as i64),
            no_mmap: self.no_mmap,
            include_tmp: self.include_tmp,
            block_read: crate::pipeline::input::BlockRead::from_env(),
            spooled: self
                .spooled
                .iter()
                .map(|(p, n)| (PathBuf::from(p), n.clone()))
                .collect(),
            ..ScanOptions::default()
        })
    }

    /// Expands the inputs.
    pub fn inputs(&self) -> Result<Vec<Input>, String> {
        expand_inputs(&self.inputs, self.include_tmp).map_err(|e| e.to_string())
    }
}

/// The filter file shipped with flowkit (`filters/filter.cfg`), used when neither `-f` nor
/// `$FLOWKIT_FILTERS` names one.
pub const BUILT_IN_FILTERS: &str = include_str!("../../filters/filter.cfg");
/// The name the built-in filter file is reported under.
pub const BUILT_IN_FILTERS_NAME: &str = "<built-in filters/filter.cfg>";

/// The filter options of the tools that select flows with flow-tools' filter language
/// (flow-nfilter, and flow-hunt to exclude known-good traffic first).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct FilterArgs {
    /// Filter file [default: $FLOWKIT_FILTERS, else the built-in filters/filter.cfg].
    #[arg(short = 'f', long = "filters", value_name = "FILE")]
    pub filters: Option<PathBuf>,
    /// The definition to apply [default: the one named `default`].
    #[arg(short = 'F', long = "definition", value_name = "DEFINITION")]
    pub definition: Option<String>,
    /// Give a variable used as @NAME, @{NAME} or @{NAME:-default} in the file (repeatable).
    #[arg(short = 'v', long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
}

impl FilterArgs {
    /// True when the user asked for a filter (`-f` or `-F`).
    pub fn given(&self) -> bool {
        self.filters.is_some() || self.definition.is_some()
    }

    /// The filter file's name (for messages) and text: `-f FILE`, else `$FLOWKIT_FILTERS`, else
    /// the built-in file.
    pub fn source(&self) -> Result<(String, String), ToolError> {
        let path = self.filters.clone().or_else(|| {
            std::env::var_os("FLOWKIT_FILTERS")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        match path {
            None => Ok((
                BUILT_IN_FILTERS_NAME.to_string(),
                BUILT_IN_FILTERS.to_string(),
            )),
            Some(p) => {
                let origin = p.display().to_string();
                let bytes =
                    std::fs::read(&p).map_err(|e| ToolError::Usage(format!("{origin}: {e}")))?;
                let text = FilterFile::text_from_bytes(bytes, &origin)
                    .map_err(|e| ToolError::Usage(e.to_string()))?;
                Ok((origin, text))
            }
        }
    }

    /// Reads and parses the filter file with the `-v` bindings, warning (as `tool`) about
    /// variables the file does not use.
    pub fn load(&self, tool: &str) -> Result<FilterFile, ToolError> {
        let (origin, text) = self.source()?;
        let mut vars = Variables::new();
        for b in &self.vars {
            vars.bind(b).map_err(|e| ToolError::Usage(e.to_string()))?;
        }
        let file = FilterFile::parse(&text, &origin, &vars)
            .map_err(|e| ToolError::Usage(e.to_string()))?;
        for name in vars.names() {
            if !file.referenced_variables.contains(name) {
                let hint = filter_error::did_you_mean(
                    name,
                    file.referenced_variables.iter().map(String::as_str),
                );
                warn(
                    tool,
                    &format!("warning: variable {name} is not used by {origin}{hint}"),
                );
            }
        }
        Ok(file)
    }

    /// The definition to apply: `-F`, else the file's `default`.
    pub fn definition_name<'f>(&'f self, file: &FilterFile) -> Result<&'f str, ToolError> {
        match &self.definition {
            Some(n) => Ok(n.as_str()),
            None if file.definition_index("default").is_some() => Ok("default"),
            None => Err(ToolError::Usage(format!(
                "no -F DEFINITION given and {} has no definition named `default` \
                 (`flow-nfilter --check` lists the definitions)",
                file.origin
            ))),
        }
    }

    /// Loads the file and compiles the definition to apply, printing the warnings of the
    /// primitives it uses; `None` when no filter was asked for.
    pub fn compile(&self, tool: &str, utc: bool) -> Result<Option<CompiledFilter>, ToolError> {
        if !self.given() {
            return Ok(None);
        }
        let file = self.load(tool)?;
        let name = self.definition_name(&file)?;
        let opts = CompileOptions {
            tz: time::zone(utc).map_err(|e| ToolError::Usage(e.to_string()))?,
        };
        let filter = file
            .compile(name, &opts)
            .map_err(|e| ToolError::Usage(e.to_string()))?;
        let def = file
            .definition(name)
            .map_err(|e| ToolError::Usage(e.to_string()))?;
        for w in file.warnings_of(def) {
            warn(tool, &format!("warning: {w}"));
        }
        Ok(Some(filter))
    }
}

/// Bytes we ask the kernel to buffer in a pipe between two tools (Linux's unprivileged maximum);
/// the 64 KiB default costs a context switch every few blocks.
const PIPE_BYTES: i32 = 1 << 20;

/// Enlarges the pipe on `fd` (stdin 0 or stdout 1) when it is one; anything else is left alone.
pub fn grow_pipe(fd: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: fcntl on a descriptor we own by convention (0 or 1); F_SETPIPE_SZ fails harmlessly
    // with EBADF/EINVAL when the descriptor is not a pipe.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, PIPE_BYTES);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = fd;
}

/// Prints `tool: message` on stderr.
pub fn warn(tool: &str, msg: &str) {
    eprintln!("{tool}: {msg}");
}

/// Prints `program: message` on stderr the first time this process is given `msg` (options
/// are parsed more than once by some tools).
fn note_once(msg: &str) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if seen.iter().any(|m| m == msg) {
        return;
    }
    seen.push(msg.to_string());
    let program = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "flowkit".into());
    warn(&program, msg);
}

/// Reads all inputs with a scanner that reports damaged inputs on stderr. Returns the scanner's
/// statistics. Damaged inputs do not stop the scan; output errors do.
pub fn scan_inputs(
    tool: &str,
    args: &InputArgs,
    on_batch: &mut dyn FnMut(&[FlowBlock<'_>]) -> io::Result<()>,
) -> Result<crate::pipeline::input::ScanStats, ToolError> {
    scan_inputs_columns(tool, args, ColumnSet::ALL, &mut |batch| {
        on_batch(batch.blocks)
    })
}

/// Like [`scan_inputs`], but checks and hands out only the columns in `wanted` (see
/// [`Scanner::run_columns`]); the consumer gets whole blocks with [`crate::pipeline::input::Batch::full`].
pub fn scan_inputs_columns(
    tool: &str,
    args: &InputArgs,
    wanted: ColumnSet,
    on_batch: &mut PartialBatchFn<'_>,
) -> Result<crate::pipeline::input::ScanStats, ToolError> {
    scan_inputs_filtered(tool, args, wanted, None, on_batch)
}

/// A scan for a tool that passes every block on as a reference (`flow-cat` into a pipe to
/// flowkit tools, see [`FlowOutput::sends_references`]): blocks of complete archive files are
/// handed out from the files' indexes, unread (the reader of the references checks them).
pub fn scan_inputs_for_refs(
    tool: &str,
    args: &InputArgs,
    on_batch: &mut PartialBatchFn<'_>,
) -> Result<crate::pipeline::input::ScanStats, ToolError> {
    let mut opts = args.scan_options().map_err(ToolError::Usage)?;
    opts.refs_only = true;
    run_scan(tool, args, opts, ColumnSet::EMPTY, on_batch)
}

/// Like [`scan_inputs_columns`], skipping the blocks `prune` rules out (the blocks of a filter's
/// scan that cannot hold a flow it passes, by their address Bloom filters).
pub fn scan_inputs_filtered(
    tool: &str,
    args: &InputArgs,
    wanted: ColumnSet,
    prune: Option<crate::filter::BlockPrune>,
    on_batch: &mut PartialBatchFn<'_>,
) -> Result<crate::pipeline::input::ScanStats, ToolError> {
    let mut opts = args.scan_options().map_err(ToolError::Usage)?;
    opts.prune = prune.map(std::sync::Arc::new);
    run_scan(tool, args, opts, wanted, on_batch)
}

fn run_scan(
    tool: &str,
    args: &InputArgs,
    opts: ScanOptions,
    wanted: ColumnSet,
    on_batch: &mut PartialBatchFn<'_>,
) -> Result<crate::pipeline::input::ScanStats, ToolError> {
    let inputs = args.inputs().map_err(ToolError::Usage)?;
    if inputs.contains(&Input::Stdin) {
        hint_if_terminal(tool);
    }
    let mut scanner = Scanner::new(opts, |m| warn(tool, m));
    match scanner.run_columns(&inputs, wanted, on_batch) {
        Ok(()) => Ok(scanner.stats),
        Err(ScanError::Output(e)) => Err(ToolError::Output(e)),
        Err(ScanError::BadInput(m)) => Err(ToolError::Usage(m)),
    }
}

/// Makes inputs readable twice (for tools that scan twice, like flow-hunt): stdin and any
/// input that is not a regular file or directory (a FIFO, `<(flow-cat ...)`) are copied to
/// temporary files (removed when the returned guards drop), which are named instead. A spool
/// of a pipe between flowkit tools keeps its block references; the scanner follows them.
pub fn spool_stdin(args: &InputArgs) -> Result<(InputArgs, Vec<tempfile::TempPath>), ToolError> {
    let mut spooled = args.clone();
    let mut guards = Vec::new();
    if args.inputs.is_empty() {
        spooled.inputs = vec!["-".to_string()];
    }
    for a in spooled.inputs.iter_mut() {
        let once = a == "-" || std::fs::metadata(&*a).is_ok_and(|m| !m.is_file() && !m.is_dir());
        if !once {
            continue;
        }
        let spool_err =
            |e: io::Error| ToolError::Usage(format!("cannot spool {a} to a temporary file: {e}"));
        let mut file = tempfile::Builder::new()
            .prefix(".flowkit-spool-")
            .tempfile()
            .map_err(spool_err)?;
        if a == "-" {
            grow_pipe(0);
            let argv0 = std::env::args().next().unwrap_or_default();
            hint_if_terminal(argv0.rsplit('/').next().unwrap_or("flowkit"));
            io::copy(&mut io::stdin().lock(), file.as_file_mut())
        } else {
            std::fs::File::open(&*a).and_then(|mut f| io::copy(&mut f, file.as_file_mut()))
        }
        .map_err(spool_err)?;
        // An empty copy is kept too: it is reported as empty, like the input (a FIFO cannot be
        // opened again once its writer has gone).
        let path = file.into_temp_path();
        let name = if a == "-" {
            "(stdin)".to_string()
        } else {
            a.clone()
        };
        *a = path.to_string_lossy().into_owned();
        spooled.spooled.push((a.clone(), name));
        guards.push(path);
    }
    Ok((spooled, guards))
}

/// Tells a user whose stdin is a terminal that the tool waits for flows there, instead of
/// waiting silently (one line on stderr).
pub fn hint_if_terminal(tool: &str) {
    if io::stdin().is_terminal() {
        warn(
            tool,
            "reading flows from standard input (a terminal); give a file or pipe flows in",
        );
    }
}

/// Like [`scan_inputs_columns`], but silent about damaged inputs (for a second scan of inputs
/// whose damage the first scan already reported).
pub fn rescan_inputs_columns(
    args: &InputArgs,
    wanted: ColumnSet,
    on_batch: &mut PartialBatchFn<'_>,
) -> Result<crate::pipeline::input::ScanStats, ToolError> {
    let opts = args.scan_options().map_err(ToolError::Usage)?;
    let inputs = args.inputs().map_err(ToolError::Usage)?;
    let mut scanner = Scanner::new(opts, |_| {});
    match scanner.run_columns(&inputs, wanted, on_batch) {
        Ok(()) => Ok(scanner.stats),
        Err(ScanError::Output(e)) => Err(ToolError::Output(e)),
        Err(ScanError::BadInput(m)) => Err(ToolError::Usage(m)),
    }
}

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
pub fn names_directory(path: &std::path::Path) -> bool {
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
    /// in local time, `YYYY/YYYY-MM/YYYY-MM-DD/` nesting), or stdout — refusing a terminal, where
    /// binary flows are useless. Flows keep their order (except across the files of a tree).
    pub fn open(path: Option<&PathBuf>, creator: &str) -> Result<FlowOutput, ToolError> {
        FlowOutput::open_as(path, writer_options(creator))
    }

    /// Like [`FlowOutput::open`], for a program that makes an archive of what it collected,
    /// imported or generated: files and trees keep IPv4 and IPv6 flows in separate blocks
    /// (`WriterOptions::split_families`); a stream on stdout keeps the order.
    pub fn open_archive(path: Option<&PathBuf>, creator: &str) -> Result<FlowOutput, ToolError> {
        match path {
            Some(_) => FlowOutput::open_as(path, WriterOptions::archive(creator)),
            None => FlowOutput::open_as(None, writer_options(creator)),
        }
    }

    /// A dated tree laid out as `layout` says (IPv4 and IPv6 flows in separate blocks).
    pub fn open_tree(layout: TreeLayout, creator: &str) -> FlowOutput {
        FlowOutput::Tree(RotatingWriter::new(layout, WriterOptions::archive(creator)))
    }

    fn open_as(path: Option<&PathBuf>, opts: WriterOptions) -> Result<FlowOutput, ToolError> {
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
                .map_err(|e| ToolError::Usage(format!("{}: {e}", p.display()))),
            None => {
                let out = io::stdout();
                if out.is_terminal() {
                    return Err(ToolError::Usage(
                        "refusing to write binary flows to a terminal; pipe into flow-print or use -o FILE".into(),
                    ));
                }
                grow_pipe(1);
                let refs = crate::archive::reference::stdout_feeds_flowkit();
                // A pipe into another flowkit tool here carries blocks for a moment: plain
                // columns spare both ends packing and widening. Anything else (a file, ssh,
                // gzip) gets narrow columns, as an archive would.
                let opts = WriterOptions {
                    narrow: opts.narrow && !refs,
                    ..opts
                };
                ArchiveWriter::new(io::BufWriter::with_capacity(1 << 20, out), opts)
                    .map(|writer| FlowOutput::Stdout {
                        writer,
                        refs,
                        sent_by_ref: 0,
                    })
                    .map_err(ToolError::Output)
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

    /// Appends a whole block whose stored bytes (checked, as a [`crate::pipeline::input::Batch`] gives them)
    /// are `raw`, copying them as they are (a dated tree re-encodes, splitting by time).
    pub fn write_raw_block(&mut self, raw: &[u8], block: &FlowBlock<'_>) -> io::Result<()> {
        match self {
            FlowOutput::File(w) => w.writer().write_raw_block(raw, block),
            FlowOutput::Stdout { writer, .. } => writer.write_raw_block(raw, block),
            FlowOutput::Tree(_) => self.write_block(block, None),
        }
    }

    /// Appends whole blocks of a batch, copying their stored bytes as they are where the batch
    /// has them (archives and streams read without a window or shift).
    pub fn write_batch(&mut self, batch: &crate::pipeline::input::Batch<'_, '_>) -> io::Result<()> {
        (0..batch.blocks.len()).try_for_each(|k| self.write_whole(batch, k, None))
    }

    /// True when whole blocks go out as references, so a tool passing blocks on need not check
    /// their columns itself (the reader checks what it reads): scan with [`ColumnSet::EMPTY`].
    pub fn sends_references(&self) -> bool {
        matches!(self, FlowOutput::Stdout { refs: true, .. })
    }

    /// Appends block `k` of a batch whole: as a reference when this is a pipe to flowkit tools
    /// and the block has one, else its checked bytes as they are, else encoded. `full` is the
    /// block with every column when the caller already has it (else it is checked here; a
    /// damaged block is then skipped, the scan reporting it).
    pub fn write_whole(
        &mut self,
        batch: &crate::pipeline::input::Batch<'_, '_>,
        k: usize,
        full: Option<&FlowBlock<'_>>,
    ) -> io::Result<()> {
        if self.sends_references() {
            if let Some(Some(r)) = batch.refs.map(|refs| &refs[k]) {
                return self.send_ref(r);
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
    pub fn passes_rows_by_reference(
        &self,
        batch: &crate::pipeline::input::Batch<'_, '_>,
        k: usize,
    ) -> bool {
        self.sends_references() && batch.refs.is_some_and(|refs| refs[k].is_some())
    }

    /// Appends the flows `rows` (positions in the block, ascending) of block `k` of `batch` as a
    /// reference to them; only where [`FlowOutput::passes_rows_by_reference`] says so.
    pub fn write_rows_by_reference(
        &mut self,
        batch: &crate::pipeline::input::Batch<'_, '_>,
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
    pub fn finish(self) -> Result<ArchiveSummary, ToolError> {
        match self {
            FlowOutput::File(w) => w.finish().map_err(ToolError::Output),
            FlowOutput::Stdout { writer, .. } => {
                writer.finish().map(|(_, s)| s).map_err(ToolError::Output)
            }
            FlowOutput::Tree(w) => {
                let files = w.finish().map_err(ToolError::Output)?;
                Ok(files
                    .iter()
                    .fold(ArchiveSummary::empty(), |acc, (_, s)| acc.merge(s)))
            }
        }
    }
}

fn writer_options(creator: &str) -> WriterOptions {
    WriterOptions {
        creator: creator.to_string(),
        ..WriterOptions::default()
    }
}

/// An error at a tool's edge, with the exit status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// Bad arguments or configuration: exit 2.
    #[error("{0}")]
    Usage(String),
    /// Writing the output failed: exit 1 (a closed pipe exits quietly with 0).
    #[error("{0}")]
    Output(io::Error),
    /// Some inputs were damaged and skipped: exit 1 after finishing.
    #[error("{0} input problem(s) reported above")]
    DamagedInputs(u64),
}

/// Reports `result` the flowkit way and exits: a message on stderr and status 2 for usage errors,
/// 1 for failures, 0 on success or when the reader of our output went away (`| head`).
pub fn exit_with(tool: &str, result: Result<(), ToolError>) -> ! {
    let code = match result {
        Ok(()) => 0,
        Err(ToolError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e @ ToolError::Usage(_)) => {
            warn(tool, &e.to_string());
            2
        }
        Err(e) => {
            warn(tool, &e.to_string());
            1
        }
    };
    let _ = io::stderr().flush();
    std::process::exit(code)
}

/// Turns a scan's error count into the tool's result.
pub fn check_damage(stats: &crate::pipeline::input::ScanStats) -> Result<(), ToolError> {
    if stats.errors > 0 {
        Err(ToolError::DamagedInputs(stats.errors))
    } else {
        Ok(())
    }
}

/// Parses a size in bytes: a number with an optional K, M or G suffix (powers of 1024; `KiB`,
/// `MiB`, `GiB` and `B` also accepted), e.g. `256M` for `--max-memory`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("{text:?}: not a size (use e.g. 512K, 256M, 2G)")),
    };
    num.parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("{text:?}: not a size (use e.g. 512K, 256M, 2G)"))
}
