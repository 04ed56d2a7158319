//! flowkit-core: flow records and everything done with them, as a library (no argument parsing,
//! no process exit, no terminal handling: the tools' edge is the `flowkit-cli` crate).
//!
//! One module per concern, layered without cycles (docs/architecture.md draws the map):
//! - [`model`]: the flow record, the column block every tool works on, counters;
//! - [`time`]: parsing and printing times and zones;
//! - [`netflow`]: NetFlow v5/v9 and IPFIX decoding and encoding, pcap/pcapng captures;
//! - [`archive`]: flowkit archives (column blocks, zone maps, block references), dated trees,
//!   and reading flow-tools and nfdump files;
//! - [`filter`]: the flow-tools filter language, compiled; [`print`]: flow-tools' output formats;
//! - [`pipeline`]: inputs of every form in, binary flows out;
//! - [`analyze`]: flow-stat reports and hunts; [`collect`]: collector and importer;
//!   [`export`]: Parquet; [`gen`]: synthetic flows for tests and benchmarks.
//!
//! `examples/count_matches.rs` uses it as a library: it reads flows of any input form, compiles
//! a flow-tools filter definition and counts the flows it passes
//! (`cargo run -p flowkit-core --example count_matches -- testdata/filter.cfg gt1packet
//! testdata/2010-11-09`).

#[cfg(target_endian = "big")]
compile_error!(
    "flowkit archives are little-endian and read zero-copy; big-endian hosts are not supported"
);

pub mod analyze;
pub mod archive;
pub mod collect;
pub mod enrich;
pub mod export;
pub mod filter;
pub mod gen;
pub mod logs;
pub mod model;
pub mod netflow;
pub mod pipeline;
pub mod print;
#[cfg(any(test, feature = "testing"))]
#[doc(hidden)]
pub mod testing;
pub mod time;

pub use model::block::{AddrColumn, ColumnId, ColumnSet, FlowBlock, FlowBlockBuf};
pub use model::record::FlowRecord;
