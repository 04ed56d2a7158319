//! Who a datagram's state belongs to (its scope), the scopes a decoder has newly seen, and the
//! check of flow times against their export packet's time.

use super::{Decoder, FlowOut};
use crate::model::block::FlowBlockBuf;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Who sent a datagram: the scope of its templates, sequence numbers and counters. RFC 7011 §8
/// scopes IPFIX templates by transport session (for UDP the exporter's address and source
/// port) and observation domain; RFC 3954 scopes v9 templates by exporter address, port and
/// source id. Two exporters behind one NAT address differ only in port. A bare address (port 0)
/// stands for callers that do not know the port.
pub trait Source: Copy {
    /// The exporter's address (IPv4-mapped IPv6 made IPv4) and UDP source port.
    fn source(self) -> SocketAddr;
}

impl Source for IpAddr {
    fn source(self) -> SocketAddr {
        SocketAddr::new(self.to_canonical(), 0)
    }
}

impl Source for SocketAddr {
    fn source(self) -> SocketAddr {
        SocketAddr::new(self.ip().to_canonical(), self.port())
    }
}

/// A template scope first seen by a decoder: exporter address and port, export version and
/// source id / observation domain (v5: engine type << 8 | engine id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    /// Exporter address and UDP source port.
    pub source: SocketAddr,
    /// 5, 9 or 10.
    pub version: u16,
    /// Source id (v9), observation domain (IPFIX), engine type and id (v5).
    pub domain: u32,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.version {
            5 => "engine",
            9 => "source id",
            _ => "observation domain",
        };
        let v = if self.version == 10 {
            "IPFIX".to_string()
        } else {
            format!("NetFlow v{}", self.version)
        };
        write!(f, "{} {v} {what} {}", self.source, self.domain)
    }
}

/// 1990-01-01 00:00 UTC (ms): flow times before it are not believed.
const EARLIEST_MS: i64 = 631_152_000_000;
/// Two days (ms): flow times further past their export packet's time are not believed. Not
/// one: nfdump's nfreplay sends v9 headers a day behind the flows they carry (its flows are
/// right: nfdump's nfcapd and tshark show the same times), and long flows add their duration.
const AHEAD_MS: i64 = 2 * 86_400_000;

impl FlowOut<'_> {
    /// Flows held in each buffer.
    pub(super) fn lens(&self) -> (usize, usize) {
        (self.v4.len(), self.v6.as_ref().map_or(0, |b| b.len()))
    }

    /// Flows appended since `before` (see [`FlowOut::lens`]) whose start or end is before 1990
    /// or more than two days after `export_ms`.
    pub(super) fn count_bad_times(&self, before: (usize, usize), export_ms: i64) -> u64 {
        let (lo, hi) = (EARLIEST_MS, export_ms.saturating_add(AHEAD_MS));
        let bad = |b: &FlowBlockBuf, from: usize| {
            let (s, e) = (&b.start_ms[from..], &b.end_ms[from..]);
            // First whether any time is out, branch-free (subtractions and ors, which the
            // compiler vectorises even for SSE2): a time below `lo` or above `hi` makes one of
            // the differences negative, and so the sign of the or; even when a difference
            // wraps, the other one does not. Almost always nothing is out.
            if (out_of(s, lo, hi) | out_of(e, lo, hi)) >= 0 {
                return 0;
            }
            s.iter()
                .zip(e)
                .filter(|&(&s, &e)| s < lo || e < lo || s > hi || e > hi)
                .count() as u64
        };
        bad(self.v4, before.0) + self.v6.as_ref().map_or(0, |b| bad(b, before.1))
    }
}

impl Decoder {
    /// The scopes (exporter address and port, version, domain) first seen since the last call,
    /// in order, and how many more were seen but not remembered (over 1024 between calls).
    pub fn take_new_scopes(&mut self) -> (Vec<Scope>, u64) {
        (
            std::mem::take(&mut self.new_scopes),
            std::mem::take(&mut self.new_scopes_untold),
        )
    }

    /// Flows of the last datagram decoded whose times were counted in
    /// [`DecodeStats::bad_times`].
    pub fn last_bad_times(&self) -> u64 {
        self.last_bad_times
    }

    /// A number that changes whenever a template is defined, changed, withdrawn or evicted (to
    /// know when a template cache is out of date).
    pub fn template_generation(&self) -> u64 {
        self.template_generation
    }
}

/// Negative when a time of `col` is below `lo` or above `hi` (see [`FlowOut::count_bad_times`]).
#[inline]
fn out_of(col: &[i64], lo: i64, hi: i64) -> i64 {
    col.iter()
        .fold(0, |acc, &t| acc | t.wrapping_sub(lo) | hi.wrapping_sub(t))
}
