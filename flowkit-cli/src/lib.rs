//! flowkit-cli: the edge every flowkit tool shares, so each tool's `main` is its own arguments
//! and one call. Options declared once for clap ([`InputArgs`], [`FilterArgs`]), the scan that
//! reports damaged inputs ([`Scan`]), the flow output that refuses a
//! terminal ([`open_output`]), errors reported once with an exit status ([`exit_with`]),
//! progress on a terminal ([`Progress`]), and each tool's `main` with its man pages and shell
//! completions ([`tool_main`]).
//! The library underneath, `flowkit-core`, knows nothing of any of this.

pub mod args;
pub mod count;
pub mod docs;
pub mod geo;
pub mod ifnames;
pub mod output;
pub mod progress;
pub mod report;
pub mod scan;

pub use args::{
    duration_secs, zone, FilterArgs, InputArgs, BUILT_IN_FILTERS, BUILT_IN_FILTERS_NAME,
    LOCAL_FILTERS,
};
pub use count::CountArgs;
pub use docs::{tool_main, tool_main_with};
pub use flowkit_core::pipeline::sink::{names_directory, FlowOutput};
pub use geo::GeoArgs;
pub use ifnames::IfNamesArgs;
pub use output::{open_archive_output, open_output, CompressArgs, CompressLevel};
pub use progress::Progress;
pub use report::{check_damage, exit_with, parse_size, warn, ToolError};
pub use scan::{hint_if_terminal, spool_stdin, Scan};
