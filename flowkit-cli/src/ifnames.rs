//! `--ifnames FILE`: the map of exporters' interface names a tool looks interfaces up in.

use crate::ToolError;
use flowkit_core::enrich::IfNames;
use std::path::PathBuf;
use std::sync::Arc;

/// The `--ifnames` option, shared by the tools that print or group by interface names.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct IfNamesArgs {
    /// A map of interface names: lines `EXPORTER IFINDEX NAME [DESCRIPTION...]` (EXPORTER an
    /// address or * for any; # starts a comment line; docs/enrichment.md). Repeatable. Adds
    /// in_if_name, out_if_name, in_if_desc, out_if_desc.
    #[arg(long = "ifnames", value_name = "FILE")]
    pub ifnames: Vec<PathBuf>,
}

impl IfNamesArgs {
    /// The maps, read (none given: `None`); a bad line is a usage error naming FILE:LINE:COLUMN.
    pub fn open(&self) -> Result<Option<Arc<IfNames>>, ToolError> {
        if self.ifnames.is_empty() {
            return Ok(None);
        }
        IfNames::open(&self.ifnames)
            .map(|m| Some(Arc::new(m)))
            .map_err(|e| ToolError::Usage(format!("--ifnames {e}")))
    }
}
