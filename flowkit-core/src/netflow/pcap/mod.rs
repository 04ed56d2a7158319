//! Reading export packets from pcap and pcapng captures: UDP payloads with their source
//! address and capture time.
//!
//! File framing is `pcap-file`'s slice parsers (so errors can name the byte offset); the link,
//! IP and UDP headers are read here (Ethernet with 802.1Q/802.1ad tags, Linux cooked SLL and
//! SLL2, raw IP, BSD null/loopback; IPv4 and IPv6; UDP on any port). Frames that are not UDP,
//! IP fragments (not reassembled) and frames cut short by the snap length are counted and
//! skipped. A capture that ends in the middle of a packet, or whose framing is corrupt, is an
//! error naming the packet number; the packets before it have been delivered.
//!
//! The public types are here; the reader with its pcap and pcapng framing is in `reader.rs`,
//! its window onto the file in `window.rs`, and the link, IP and UDP headers in `frame.rs`.

mod frame;
mod reader;
#[cfg(test)]
mod tests;
mod window;

pub use reader::CaptureReader;

use std::fmt;
use std::net::SocketAddr;

/// One UDP datagram found in a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// Packet number in the capture, from 1 (as Wireshark numbers frames).
    pub packet: u64,
    /// Capture time, UTC ms.
    pub ts_ms: i64,
    /// Sender (the exporter).
    pub src: SocketAddr,
    /// Receiver (the collector).
    pub dst: SocketAddr,
    /// The UDP payload.
    pub payload: &'a [u8],
}

/// What a capture held besides UDP datagrams.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Packets (frames) read.
    pub packets: u64,
    /// UDP datagrams delivered.
    pub udp: u64,
    /// IP packets that are not UDP.
    pub not_udp: u64,
    /// Of `not_udp`, the TCP segments (to say what a capture of traffic, not exports, holds).
    pub tcp: u64,
    /// Frames of an unknown link type or non-IP protocol, or with broken headers.
    pub undecodable: u64,
    /// IP fragments (not reassembled).
    pub fragments: u64,
    /// UDP datagrams cut short by the capture's snap length.
    pub truncated: u64,
}

impl CaptureStats {
    /// Adds `o`'s counts to these (totals over several captures).
    pub fn add(&mut self, o: &CaptureStats) {
        self.packets += o.packets;
        self.udp += o.udp;
        self.not_udp += o.not_udp;
        self.tcp += o.tcp;
        self.undecodable += o.undecodable;
        self.fragments += o.fragments;
        self.truncated += o.truncated;
    }
}

impl fmt::Display for CaptureStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} packets, {} UDP datagrams, {} not UDP, {} undecodable, {} fragments, {} cut short",
            self.packets, self.udp, self.not_udp, self.undecodable, self.fragments, self.truncated
        )
    }
}

/// Why a capture could not be read (further).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// Opening or reading the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file starts with neither a pcap nor a pcapng header.
    #[error("{path}: not a pcap or pcapng capture ({why})")]
    NotCapture {
        /// The file.
        path: String,
        /// What the parser said.
        why: String,
    },
    /// The capture is cut off or corrupt at a packet.
    #[error("{path}: packet {packet} (byte {offset}): {what}")]
    Corrupt {
        /// The file.
        path: String,
        /// Number of the packet that could not be read.
        packet: u64,
        /// Byte offset of its record in the file.
        offset: u64,
        /// What is wrong.
        what: String,
    },
}
