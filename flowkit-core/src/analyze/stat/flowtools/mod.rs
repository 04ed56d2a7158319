//! flow-tools' `flow-stat -f N` reports (0..32), printed byte for byte as flow-tools 0.68.5
//! prints them, so scripts that parse flow-stat's output keep working.
//!
//! [`report`] holds the table of reports (names, keys, layouts), [`accum`] the accumulators
//! fed from column blocks, [`format`] the printing, [`rows`] the same reports as rows for CSV and JSON. flowkit keeps absolute flow times, not
//! the exporter's sysUptime and export time; see `docs/hunting.md` for the two places where
//! that shows (f0's realtime lines and f13/f14's x values).

pub mod accum;
pub mod format;
pub mod header;
pub mod report;
pub mod rows;
pub mod symbols;

pub use accum::StatReport;
pub use report::{Options, RecordFields, FORMATS, FORMAT_NAMES};

#[cfg(test)]
mod tests;
