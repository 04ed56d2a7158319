//! How many results a tool keeps (flow-sort's first N flows, flow-hunt's findings): `--count N`,
//! named as flow-stat names its top-N count. `-n` is not taken for it: in flowkit, as in
//! flow-tools, `-n` is flow-print's and flow-stat's symbolic names (and flow-capture's
//! rotations, flow-gen's flow count), so `-n N` here gets a one-line note naming `--count`.

use crate::report::ToolError;

/// The `--count N` option (also `--top N`, its earlier name), and the refused `-n`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct CountArgs {
    /// Keep only the first N (0 or none: all).
    #[arg(long = "count", alias = "top", value_name = "N")]
    pub count: Option<usize>,
    /// nfdump's `-n N`: refused with a note naming --count.
    #[arg(short = 'n', hide = true, value_name = "N", allow_hyphen_values = true)]
    pub nfdump_n: Option<String>,
}

impl CountArgs {
    /// The count asked for (`None`: all; `--count 0` is all too), or the note on `-n`.
    pub fn count(&self) -> Result<Option<usize>, ToolError> {
        if let Some(n) = &self.nfdump_n {
            return Err(ToolError::Usage(format!(
                "-n {n}: the number to keep is --count {n} here (in flowkit, as in flow-tools, \
                 -n means symbolic names: flow-print -n, flow-stat -f N -n)"
            )));
        }
        Ok(self.count.filter(|&n| n > 0))
    }
}
