//! Running a tool's scan over its inputs: damaged inputs reported on stderr as `tool: message`
//! and counted, a hint when stdin is a terminal, and stdin or FIFOs spooled for tools that read
//! their inputs twice.

use crate::args::InputArgs;
use crate::progress::{stdout_is_pipe, Progress};
use crate::report::{warn, ToolError};
use flowkit_core::filter::BlockPrune;
use flowkit_core::model::block::ColumnSet;
use flowkit_core::pipeline::input::Input;
use flowkit_core::pipeline::pipe::grow_pipe;
use flowkit_core::pipeline::scan::{Batch, PartialBatchFn, ScanOptions, ScanStats, Scanner};
use std::io::{self, IsTerminal};

/// One scan of a tool's inputs: which columns it reads, which blocks a filter rules out, whether
/// blocks only pass on as references, and whether damage is reported. Built with
/// [`Scan::columns`] or [`Scan::references`], then [`Scan::run`].
pub struct Scan {
    wanted: ColumnSet,
    prune: Option<BlockPrune>,
    refs_only: bool,
    stored_only: bool,
    quiet: bool,
    progress: Option<bool>,
}

impl Scan {
    /// A scan that checks and hands out only the columns in `wanted` (see
    /// [`Scanner::run_columns`]); the consumer gets whole blocks with
    /// [`flowkit_core::pipeline::scan::Batch::full`].
    pub fn columns(wanted: ColumnSet) -> Scan {
        Scan {
            wanted,
            prune: None,
            refs_only: false,
            stored_only: false,
            quiet: false,
            progress: None,
        }
    }

    /// A scan for a tool that passes every block on as a reference (`flow-cat` into a pipe to
    /// flowkit tools, see [`FlowOutput::sends_references`]): blocks of complete archive files are
    /// handed out from the files' indexes, unread (the reader of the references checks them).
    ///
    /// [`FlowOutput::sends_references`]: flowkit_core::pipeline::sink::FlowOutput::sends_references
    pub fn references() -> Scan {
        Scan {
            refs_only: true,
            ..Scan::columns(ColumnSet::EMPTY)
        }
    }

    /// A scan for a tool that copies every block on as it is stored (`flow-cat` into a file or a
    /// pipe to elsewhere): blocks are checked as stored, their columns neither inflated nor
    /// widened (see [`flowkit_core::pipeline::scan::ScanOptions::stored_only`]).
    pub fn stored() -> Scan {
        Scan {
            stored_only: true,
            ..Scan::columns(ColumnSet::EMPTY)
        }
    }

    /// Skips the blocks `prune` rules out (the blocks that cannot hold a flow a filter passes,
    /// by their address Bloom filters).
    pub fn pruned(self, prune: Option<BlockPrune>) -> Scan {
        Scan { prune, ..self }
    }

    /// Says nothing about damaged inputs (a second scan of inputs whose damage the first scan
    /// already reported); they are still counted.
    pub fn quiet(self) -> Scan {
        Scan {
            quiet: true,
            ..self
        }
    }

    /// Shows progress on stderr (when it is a terminal) even when stdout is a terminal too: for
    /// tools that print only once the scan is over (flow-stat, flow-hunt). Other scans show
    /// progress only when their output goes to a file (not a terminal, not a pipe to another
    /// tool that prints), so it never mixes with printed flows.
    pub fn progress_always(self) -> Scan {
        Scan {
            progress: Some(true),
            ..self
        }
    }

    /// Reads all inputs of `args`, reporting damaged inputs on stderr as `tool: message` (unless
    /// quiet) and hinting when stdin is a terminal. Damaged inputs do not stop the scan; output
    /// errors do. Returns the scanner's statistics (see [`crate::check_damage`]).
    pub fn run(
        self,
        tool: &str,
        args: &InputArgs,
        on_batch: &mut PartialBatchFn<'_>,
    ) -> Result<ScanStats, ToolError> {
        let mut opts: ScanOptions = args.scan_options().map_err(ToolError::Usage)?;
        opts.refs_only = self.refs_only;
        opts.stored_only = self.stored_only;
        opts.prune = self.prune.map(std::sync::Arc::new);
        let inputs = args.inputs().map_err(ToolError::Usage)?;
        if !self.quiet && inputs.contains(&Input::Stdin) {
            hint_if_terminal(tool);
        }
        let quiet = self.quiet;
        // By default only when the output goes to a file: a terminal or a pipe (to a tool printing on
        // the terminal) would mix the progress line with printed flows.
        let to_file = !io::stdout().is_terminal() && !stdout_is_pipe();
        let progress = if self.progress.unwrap_or(to_file) && !quiet {
            Progress::flows(tool)
        } else {
            Progress::off()
        };
        let mut scanner = Scanner::new(opts, |m| {
            if !quiet {
                progress.suspend(|| warn(tool, m))
            }
        });
        if progress.is_on() {
            let mut counted = |batch: &Batch<'_, '_>| {
                progress.add(batch.blocks.iter().map(|b| b.len as u64).sum());
                on_batch(batch)
            };
            scanner.run_columns(&inputs, self.wanted, &mut counted)?;
        } else {
            scanner.run_columns(&inputs, self.wanted, on_batch)?;
        }
        Ok(scanner.stats)
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
