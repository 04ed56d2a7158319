//! flowkit-core: everything the flowkit tools share.
//!
//! One module per concern: [`record`] (the flow model), [`block`] (columnar blocks),
//! [`decode`] (NetFlow v5/v9/IPFIX), [`capture`] (pcap/pcapng export captures), [`archive`],
//! and, as they land, the filter language and print formats.

#[cfg(target_endian = "big")]
compile_error!(
    "flowkit archives are little-endian and read zero-copy; big-endian hosts are not supported"
);

pub mod archive;
pub mod block;
pub mod capture;
pub mod cli;
pub mod collector;
pub mod counts;
pub mod decode;
pub mod export;
pub mod filter;
pub mod flowtools;
#[doc(hidden)]
pub mod fuzzing;
pub mod gen;
pub mod hunt;
pub mod import;
pub mod input;
pub mod input_forms;
pub mod mapped;
pub mod nfdump;
#[cfg(feature = "parquet")]
pub mod parquet_export;
pub mod print;
pub mod record;
pub mod stat;
#[doc(hidden)]
pub mod testdata;
pub mod time;

pub use block::{AddrColumn, ColumnId, ColumnSet, FlowBlock, FlowBlockBuf};
pub use record::FlowRecord;
