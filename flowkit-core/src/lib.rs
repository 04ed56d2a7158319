//! flowkit-core: everything the flowkit tools share.
//!
//! One module per concern: [`record`] (the flow model), [`block`] (columnar blocks),
//! [`decode`] (NetFlow v5/v9/IPFIX), [`capture`] (pcap/pcapng export captures), [`archive`],
//! and, as they land, the filter language and print formats.

#[cfg(target_endian = "big")]
compile_error!(
    "flowkit archives are little-endian and read zero-copy; big-endian hosts are not supported"
);

pub mod analyze;
pub mod archive;
pub mod cli;
pub mod collect;
pub mod export;
pub mod filter;
pub mod gen;
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
