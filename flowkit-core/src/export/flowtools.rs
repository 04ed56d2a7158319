//! Exporting flows as one flow-tools v5 file or stream (`flow-export --flow-tools`), for
//! flow-tools and the scripts built on it. The format and what v5 cannot carry:
//! [`crate::archive::flowtools::writer`].

use crate::archive::flowtools::{FlowToolsWriter, FtLosses, FtWriteOptions};
use crate::model::block::ColumnSet;
use crate::pipeline::input::Input;
use crate::pipeline::scan::{ScanError, ScanOptions, Scanner};
use std::io::{self, Write};
use std::path::Path;

/// Where the flow-tools data goes.
pub enum FtTarget<'a> {
    /// A file, written beside its final name and renamed into place when complete; its header
    /// gets the flow count, capture times and the DONE flag.
    File(&'a Path),
    /// A stream (stdout, a pipe): header flagged streaming, no flow count.
    Stream(Box<dyn Write + 'a>),
}

/// What an export did.
#[derive(Clone, Debug, Default)]
pub struct FtExportSummary {
    /// Flows written.
    pub flows: u64,
    /// What v5 records could not carry.
    pub losses: FtLosses,
    /// Damaged inputs reported (and skipped).
    pub errors: u64,
}

impl std::fmt::Display for FtExportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} flows written as flow-tools v5", self.flows)?;
        if !self.losses.is_empty() {
            write!(f, "; {}", self.losses)?;
        }
        Ok(())
    }
}

/// Reads every input in order and writes its flows as flow-tools v5 records to `target`.
/// Damaged inputs are reported through `warn` and counted; output errors stop the export (a
/// file target is then not created). `on_flows` is given the number of flows of each block
/// written (a tool's progress line).
pub fn export_flowtools(
    inputs: &[Input],
    scan: ScanOptions,
    opts: FtWriteOptions,
    target: FtTarget<'_>,
    warn: &mut dyn FnMut(&str),
    on_flows: &mut dyn FnMut(u64),
) -> Result<FtExportSummary, ScanError> {
    let mut scanner = Scanner::new(scan, warn);
    let (flows, losses) = match target {
        FtTarget::Stream(out) => {
            let opts = FtWriteOptions {
                streaming: true,
                ..opts
            };
            let mut w = FlowToolsWriter::new(out, opts).map_err(ScanError::Output)?;
            run(&mut scanner, inputs, &mut w, on_flows)?;
            let (mut out, n, l) = w.finish().map_err(ScanError::Output)?;
            out.flush().map_err(ScanError::Output)?;
            (n, l)
        }
        FtTarget::File(path) => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let tmp = tempfile::Builder::new()
                .prefix(".flowkit-ft-")
                .tempfile_in(dir)
                .map_err(|e| {
                    ScanError::BadInput(format!("cannot create a file in {}: {e}", dir.display()))
                })?;
            let opts = FtWriteOptions {
                streaming: false,
                ..opts
            };
            let mut w = FlowToolsWriter::new(tmp, opts).map_err(ScanError::Output)?;
            run(&mut scanner, inputs, &mut w, on_flows)?;
            let (tmp, n, l) = w.finish_file().map_err(ScanError::Output)?;
            tmp.as_file().sync_all().map_err(ScanError::Output)?;
            tmp.persist(path).map_err(|e| ScanError::Output(e.error))?;
            (n, l)
        }
    };
    Ok(FtExportSummary {
        flows,
        losses,
        errors: scanner.stats.errors,
    })
}

fn run<W: Write>(
    scanner: &mut Scanner<'_>,
    inputs: &[Input],
    w: &mut FlowToolsWriter<W>,
    on_flows: &mut dyn FnMut(u64),
) -> Result<(), ScanError> {
    scanner.run_columns(inputs, ColumnSet::ALL, &mut |batch| {
        for k in 0..batch.blocks.len() {
            if let Some(b) = batch.full(k) {
                w.write_block(&b)?;
                on_flows(b.len as u64);
            }
        }
        Ok::<(), io::Error>(())
    })
}
