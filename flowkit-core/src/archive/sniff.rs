//! What an input holds, from its first bytes (a flowkit archive or stream, a flow-tools file,
//! an nfdump file, a JSON flow log), and the one interface the readers of other tools' files share.

use crate::archive::flowtools::FlowToolsReader;
use crate::archive::ArchiveError;
use crate::model::block::FlowBlockBuf;
use std::io::Read;

/// A reader of another tool's flow files (flow-tools, nfdump), a block of flows at a time.
pub trait ForeignFlows {
    /// Fills `out` (cleared first) with up to `max` flows; 0 at the end. On damage, the flows
    /// before it are in `out` and the error names the byte offset.
    fn next_block(&mut self, out: &mut FlowBlockBuf, max: usize) -> Result<usize, ArchiveError>;
}

impl<R: Read> ForeignFlows for FlowToolsReader<R> {
    fn next_block(&mut self, out: &mut FlowBlockBuf, max: usize) -> Result<usize, ArchiveError> {
        FlowToolsReader::next_block(self, out, max)
    }
}

impl<R: Read> ForeignFlows for crate::archive::nfdump::NfdumpReader<R> {
    fn next_block(&mut self, out: &mut FlowBlockBuf, max: usize) -> Result<usize, ArchiveError> {
        crate::archive::nfdump::NfdumpReader::next_block(self, out, max)
    }
}

/// What an input turned out to hold, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// A flowkit archive or stream.
    Flowkit,
    /// A flow-tools file or stream.
    FlowTools,
    /// An nfdump file (nfcapd's `nfcapd.YYYYMMDDhhmm`), see [`crate::archive::nfdump`].
    Nfdump,
    /// JSON lines, as Suricata's EVE and ulogd2's conntrack logs are ([`crate::logs`]); which
    /// one is told from the first line.
    JsonLines,
    /// Something else.
    Unknown,
}

/// Recognises an input from its first bytes.
pub fn sniff(prefix: &[u8]) -> InputFormat {
    let magic = crate::archive::format::FILE_MAGIC;
    // A file cut inside its magic is still recognised, so it is reported as truncated.
    let cut_magic =
        |m: &[u8]| !prefix.is_empty() && prefix.len() < m.len() && m.starts_with(prefix);
    if prefix.starts_with(magic) || cut_magic(magic) {
        InputFormat::Flowkit
    } else if prefix.starts_with(&[0xCF, 0x10]) || cut_magic(&[0xCF, 0x10]) {
        InputFormat::FlowTools
    } else if crate::archive::nfdump::sniff(prefix) {
        InputFormat::Nfdump
    } else if prefix.first() == Some(&b'{') {
        InputFormat::JsonLines
    } else {
        InputFormat::Unknown
    }
}
