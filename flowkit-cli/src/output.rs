//! Opening a tool's binary flow output (`-o FILE`, `-o DIR/`, or stdout), refusing a terminal.

use crate::report::ToolError;
use flowkit_core::pipeline::sink::FlowOutput;
use std::io::{self, IsTerminal};
use std::path::PathBuf;

/// Opens `-o FILE`, `-o DIR/` or stdout for a tool that passes flows on (see
/// [`FlowOutput::open`]); binary flows on a terminal are refused.
pub fn open_output(path: Option<&PathBuf>, creator: &str) -> Result<FlowOutput, ToolError> {
    refuse_terminal(path)?;
    FlowOutput::open(path.map(|p| p.as_path()), creator).map_err(|e| open_error(path, e))
}

/// Opens the output of a program that makes an archive (see [`FlowOutput::open_archive`]).
pub fn open_archive_output(path: Option<&PathBuf>, creator: &str) -> Result<FlowOutput, ToolError> {
    refuse_terminal(path)?;
    FlowOutput::open_archive(path.map(|p| p.as_path()), creator).map_err(|e| open_error(path, e))
}

fn refuse_terminal(path: Option<&PathBuf>) -> Result<(), ToolError> {
    if path.is_none() && io::stdout().is_terminal() {
        return Err(ToolError::Usage(
            "refusing to write binary flows to a terminal; pipe into flow-print or use -o FILE"
                .into(),
        ));
    }
    Ok(())
}

/// A file that cannot be created is the user's to fix (exit 2); stdout failing is an output error.
fn open_error(path: Option<&PathBuf>, e: io::Error) -> ToolError {
    match path {
        Some(_) => ToolError::Usage(e.to_string()),
        None => ToolError::Output(e),
    }
}
