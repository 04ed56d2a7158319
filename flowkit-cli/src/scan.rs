//! Running a tool's scan over its inputs: damaged inputs reported on stderr as `tool: message`
//! and counted, a hint when stdin is a terminal, and stdin or FIFOs spooled for tools that read
//! their inputs twice.

use crate::args::InputArgs;
use crate::report::{warn, ToolError};
use flowkit_core::model::block::{ColumnSet, FlowBlock};
use flowkit_core::pipeline::input::Input;
use flowkit_core::pipeline::pipe::grow_pipe;
use flowkit_core::pipeline::scan::{PartialBatchFn, ScanOptions, ScanStats, Scanner};
use std::io::{self, IsTerminal};

/// Reads all inputs with a scanner that reports damaged inputs on stderr. Returns the scanner's
/// statistics. Damaged inputs do not stop the scan; output errors do.
pub fn scan_inputs(
    tool: &str,
    args: &InputArgs,
    on_batch: &mut dyn FnMut(&[FlowBlock<'_>]) -> io::Result<()>,
) -> Result<ScanStats, ToolError> {
    scan_inputs_columns(tool, args, ColumnSet::ALL, &mut |batch| {
        on_batch(batch.blocks)
    })
}

/// Like [`scan_inputs`], but checks and hands out only the columns in `wanted` (see
/// [`Scanner::run_columns`]); the consumer gets whole blocks with [`flowkit_core::pipeline::scan::Batch::full`].
pub fn scan_inputs_columns(
    tool: &str,
    args: &InputArgs,
    wanted: ColumnSet,
    on_batch: &mut PartialBatchFn<'_>,
) -> Result<ScanStats, ToolError> {
    scan_inputs_filtered(tool, args, wanted, None, on_batch)
}

/// A scan for a tool that passes every block on as a reference (`flow-cat` into a pipe to
/// flowkit tools, see [`FlowOutput::sends_references`]): blocks of complete archive files are
/// handed out from the files' indexes, unread (the reader of the references checks them).
pub fn scan_inputs_for_refs(
    tool: &str,
    args: &InputArgs,
    on_batch: &mut PartialBatchFn<'_>,
) -> Result<ScanStats, ToolError> {
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
    prune: Option<flowkit_core::filter::BlockPrune>,
    on_batch: &mut PartialBatchFn<'_>,
) -> Result<ScanStats, ToolError> {
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
) -> Result<ScanStats, ToolError> {
    let inputs = args.inputs().map_err(ToolError::Usage)?;
    if inputs.contains(&Input::Stdin) {
        hint_if_terminal(tool);
    }
    let mut scanner = Scanner::new(opts, |m| warn(tool, m));
    scanner.run_columns(&inputs, wanted, on_batch)?;
    Ok(scanner.stats)
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
) -> Result<ScanStats, ToolError> {
    let opts = args.scan_options().map_err(ToolError::Usage)?;
    let inputs = args.inputs().map_err(ToolError::Usage)?;
    let mut scanner = Scanner::new(opts, |_| {});
    scanner.run_columns(&inputs, wanted, on_batch)?;
    Ok(scanner.stats)
}
