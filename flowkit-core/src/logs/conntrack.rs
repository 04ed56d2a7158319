//! ulogd2 NFCT JSON (netfilter conntrack events, one object a line) into connections, each
//! with its NAT translation, and from them flow records and NAT attribution.
//!
//! What the real ulogd 2.0.8 writes (testdata/other-logs/ulogd/FIELDS.md): the original
//! direction's addresses as `src_ip`/`dest_ip`, the reply direction's as
//! `reply.ip.saddr.str`/`reply.ip.daddr.str`, ports as `orig.l4.*`/`reply.l4.*`, counters as
//! `orig.raw.*`/`reply.raw.*` (layer-3 bytes), times as `flow.start.sec/usec` and
//! `flow.end.sec/usec` (UTC epoch), `ct.event` 1 (NEW) or 4 (DESTROY) and `ct.id`. Traps:
//! `timestamp` is the write time (zone-less on UTC hosts) and is never used; NEW events carry
//! zero counters and DESTROY ones too without kernel accounting; a DESTROY may lack the start
//! time, and its end is when the entry expired (last packet plus the idle timeout), which can
//! precede the start for very short flows (the duration is then 0); without IP2STR in the
//! ulogd stack there are no addresses at all.
//!
//! A NEW and its DESTROY (same `ct.id`, protocol and both tuples) make one connection; a
//! DESTROY alone (ulogd's hash mode writes only those) is one; a NEW never destroyed within the
//! input is one too, with no end ([`Connection::end_ms`] `None`).

use super::LineError;
use crate::model::record::{FlowRecord, UNSPECIFIED_V4};
use serde::Deserialize;
use std::collections::HashMap;
use std::io::BufRead;
use std::net::IpAddr;

/// One conntrack entry: both directions' tuples (they differ under NAT) and counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// Kernel conntrack id (reused over time).
    pub id: u32,
    /// IP protocol.
    pub protocol: u8,
    /// Original direction: the initiator (before source NAT).
    pub orig_src: IpAddr,
    /// Original direction: the address the initiator dialled (before destination NAT).
    pub orig_dst: IpAddr,
    /// Original source port (ICMP: 0).
    pub orig_sport: u16,
    /// Original destination port (ICMP: `type << 8 | code`).
    pub orig_dport: u16,
    /// Reply direction's source: who really answered (after destination NAT).
    pub reply_src: IpAddr,
    /// Reply direction's destination: where answers went (the public address after source NAT).
    pub reply_dst: IpAddr,
    /// Reply source port.
    pub reply_sport: u16,
    /// Reply destination port (the public port after source NAT).
    pub reply_dport: u16,
    /// Packets and layer-3 bytes from the initiator (0 when the log carried none).
    pub orig_packets: u64,
    /// See `orig_packets`.
    pub orig_octets: u64,
    /// Packets and bytes of the replies.
    pub reply_packets: u64,
    /// See `reply_packets`.
    pub reply_octets: u64,
    /// Start, UTC milliseconds, when known.
    pub start_ms: Option<i64>,
    /// When the entry was destroyed (expiry: last packet plus idle timeout), when seen.
    pub end_ms: Option<i64>,
}

impl Connection {
    /// Source NAT (masquerade) happened: answers went to another address or port than the
    /// initiator's.
    pub fn source_nat(&self) -> bool {
        self.reply_dst != self.orig_src || self.reply_dport != self.orig_sport
    }

    /// Destination NAT (port forwarding) happened: another host or port answered than the one
    /// dialled.
    /// ICMP has no ports (the original `dport` holds type and code, the reply's is 0), so
    /// only its addresses count.
    pub fn destination_nat(&self) -> bool {
        self.reply_src != self.orig_dst
            || (!is_icmp(self.protocol) && self.reply_sport != self.orig_dport)
    }

    /// The flow record of the original direction, the replies as its reverse counters, the
    /// kernel's id as `flow_id`. The addresses are the pre-NAT ones; the translation goes into
    /// the `xlate_*` fields a side at a time: the source pair (the reply's destination) when
    /// source NAT happened, the destination pair (the reply's source) when destination NAT
    /// did, and zero for a side not translated (so NAT-free logs cost nothing there).
    /// Without a start the end is used, and the other way round.
    pub fn record(&self) -> FlowRecord {
        let start = self.start_ms.or(self.end_ms).unwrap_or(0);
        let end = self.end_ms.unwrap_or(start).max(start);
        let (xlate_src_addr, xlate_src_port) = match self.source_nat() {
            true => (self.reply_dst, self.reply_dport),
            false => (UNSPECIFIED_V4, 0),
        };
        let (xlate_dst_addr, xlate_dst_port) = match self.destination_nat() {
            true => (self.reply_src, self.reply_sport),
            false => (UNSPECIFIED_V4, 0),
        };
        FlowRecord {
            start_ms: start,
            end_ms: end,
            src_addr: self.orig_src,
            dst_addr: self.orig_dst,
            src_port: self.orig_sport,
            dst_port: self.orig_dport,
            protocol: self.protocol,
            packets: self.orig_packets,
            octets: self.orig_octets,
            rev_packets: self.reply_packets,
            rev_octets: self.reply_octets,
            exporter: UNSPECIFIED_V4,
            xlate_src_addr,
            xlate_dst_addr,
            xlate_src_port,
            xlate_dst_port,
            flow_id: self.id as u64,
            ..FlowRecord::default()
        }
    }

    /// The connection a flow record describes, as [`Connection::record`] made it (or as an
    /// IPFIX/NSEL exporter's NAT fields give it): a side whose `xlate_*` address is unspecified
    /// was not translated, so the reply tuple is the original one swapped. Both times are
    /// known (a record has them); the id is the record's `flow_id`, cut to 32 bits.
    pub fn from_record(r: &FlowRecord) -> Connection {
        let (reply_dst, reply_dport) = match r.xlate_src_addr.is_unspecified() {
            true => (r.src_addr, r.src_port),
            false => (r.xlate_src_addr, r.xlate_src_port),
        };
        let (reply_src, reply_sport) = match r.xlate_dst_addr.is_unspecified() {
            true if is_icmp(r.protocol) => (r.dst_addr, 0),
            true => (r.dst_addr, r.dst_port),
            false => (r.xlate_dst_addr, r.xlate_dst_port),
        };
        Connection {
            id: r.flow_id as u32,
            protocol: r.protocol,
            orig_src: r.src_addr,
            orig_dst: r.dst_addr,
            orig_sport: r.src_port,
            orig_dport: r.dst_port,
            reply_src,
            reply_dst,
            reply_sport,
            reply_dport,
            orig_packets: r.packets,
            orig_octets: r.octets,
            reply_packets: r.rev_packets,
            reply_octets: r.rev_octets,
            start_ms: Some(r.start_ms),
            end_ms: Some(r.end_ms),
        }
    }

    /// Whether this connection held public `addr` (and `port`, protocol `protocol`, if given)
    /// at time `at_ms` (if given): its start is at or before `at_ms` and its end (expiry) at or
    /// after it, or not seen.
    pub fn held(
        &self,
        addr: IpAddr,
        port: Option<u16>,
        protocol: Option<u8>,
        at_ms: Option<i64>,
    ) -> bool {
        if self.reply_dst != addr || port.is_some_and(|p| p != self.reply_dport) {
            return false;
        }
        if protocol.is_some_and(|p| p != self.protocol) {
            return false;
        }
        match at_ms {
            None => true,
            Some(t) => {
                self.start_ms.or(self.end_ms).is_none_or(|s| s <= t)
                    && self.end_ms.is_none_or(|e| e >= t)
            }
        }
    }
}

/// ICMP or ICMPv6: conntrack gives them no ports.
fn is_icmp(protocol: u8) -> bool {
    protocol == 1 || protocol == 58
}

/// What a conntrack log held.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConntrackCounts {
    /// Lines read.
    pub lines: u64,
    /// NEW events.
    pub new_events: u64,
    /// DESTROY events.
    pub destroy_events: u64,
    /// Connections made (pairs, lone DESTROYs, NEWs never destroyed).
    pub connections: u64,
    /// NEWs without their DESTROY in the input (end unknown).
    pub never_destroyed: u64,
    /// Lines that could not be read (reported one by one).
    pub malformed: u64,
}

impl std::fmt::Display for ConntrackCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "conntrack lines {}, connections {} (NEW events {}, DESTROY events {}, {} never \
             destroyed), malformed lines {}",
            self.lines,
            self.connections,
            self.new_events,
            self.destroy_events,
            self.never_destroyed,
            self.malformed
        )
    }
}

#[derive(Deserialize)]
struct Line {
    #[serde(rename = "orig.ip.protocol")]
    protocol: Option<u8>,
    #[serde(rename = "orig.l4.sport")]
    orig_sport: Option<u16>,
    #[serde(rename = "orig.l4.dport")]
    orig_dport: Option<u16>,
    #[serde(rename = "reply.l4.sport")]
    reply_sport: Option<u16>,
    #[serde(rename = "reply.l4.dport")]
    reply_dport: Option<u16>,
    #[serde(rename = "orig.raw.pktcount", default)]
    orig_packets: u64,
    #[serde(rename = "orig.raw.pktlen", default)]
    orig_octets: u64,
    #[serde(rename = "reply.raw.pktcount", default)]
    reply_packets: u64,
    #[serde(rename = "reply.raw.pktlen", default)]
    reply_octets: u64,
    #[serde(rename = "ct.id")]
    id: Option<u32>,
    #[serde(rename = "ct.event")]
    event: Option<u8>,
    #[serde(rename = "flow.start.sec")]
    start_sec: Option<u32>,
    #[serde(rename = "flow.start.usec", default)]
    start_usec: u32,
    #[serde(rename = "flow.end.sec")]
    end_sec: Option<u32>,
    #[serde(rename = "flow.end.usec", default)]
    end_usec: u32,
    #[serde(rename = "icmp.type")]
    icmp_type: Option<u8>,
    #[serde(rename = "icmp.code")]
    icmp_code: Option<u8>,
    src_ip: Option<String>,
    dest_ip: Option<String>,
    #[serde(rename = "reply.ip.saddr.str")]
    reply_src: Option<String>,
    #[serde(rename = "reply.ip.daddr.str")]
    reply_dst: Option<String>,
}

/// Whether `first_line` looks like ulogd2 NFCT JSON.
pub fn sniff(first_line: &[u8]) -> bool {
    let s = String::from_utf8_lossy(first_line);
    s.trim_start().starts_with('{') && s.contains("\"ct.event\"")
}

/// The connection a line describes, and whether it was a NEW event.
fn connection(l: &Line) -> Result<(Connection, bool), String> {
    let addr = |v: &Option<String>, key: &str| -> Result<IpAddr, String> {
        let s = v
            .as_deref()
            .ok_or_else(|| format!("no `{key}` (ulogd's stack needs IP2STR for addresses)"))?;
        s.parse()
            .map_err(|_| format!("`{key}` `{s}` is not an address"))
    };
    let new = match l.event {
        Some(1) => true,
        Some(4) => false,
        Some(e) => return Err(format!("ct.event {e} is neither NEW (1) nor DESTROY (4)")),
        None => return Err("no `ct.event`".into()),
    };
    let protocol = l.protocol.ok_or("no `orig.ip.protocol`")?;
    let icmp = l
        .icmp_type
        .map(|t| u16::from(t) << 8 | u16::from(l.icmp_code.unwrap_or(0)));
    // ulogd writes u32 seconds and microseconds (a larger number is a malformed line).
    let ms =
        |sec: Option<u32>, usec: u32| sec.map(|s| i64::from(s) * 1000 + i64::from(usec) / 1000);
    Ok((
        Connection {
            id: l.id.ok_or("no `ct.id`")?,
            protocol,
            orig_src: addr(&l.src_ip, "src_ip")?,
            orig_dst: addr(&l.dest_ip, "dest_ip")?,
            orig_sport: l.orig_sport.unwrap_or(0),
            orig_dport: l.orig_dport.or(icmp).unwrap_or(0),
            reply_src: addr(&l.reply_src, "reply.ip.saddr.str")?,
            reply_dst: addr(&l.reply_dst, "reply.ip.daddr.str")?,
            reply_sport: l.reply_sport.unwrap_or(0),
            reply_dport: l.reply_dport.unwrap_or(0),
            orig_packets: l.orig_packets,
            orig_octets: l.orig_octets,
            reply_packets: l.reply_packets,
            reply_octets: l.reply_octets,
            start_ms: ms(l.start_sec, l.start_usec),
            end_ms: if new { None } else { ms(l.end_sec, l.end_usec) },
        },
        new,
    ))
}

/// The identity pairing a NEW with its DESTROY.
type Key = (u32, u8, IpAddr, IpAddr, u16, u16, IpAddr, IpAddr, u16, u16);

fn key(c: &Connection) -> Key {
    (
        c.id,
        c.protocol,
        c.orig_src,
        c.orig_dst,
        c.orig_sport,
        c.orig_dport,
        c.reply_src,
        c.reply_dst,
        c.reply_sport,
        c.reply_dport,
    )
}

/// Reads NFCT JSON lines from `input` (named `origin` in messages), handing each connection to
/// `sink` (a DESTROY's when it comes, NEWs never destroyed at the end) and each malformed line
/// to `bad`. Only a failing read or sink is an error.
pub fn read_conntrack<R: BufRead>(
    input: R,
    origin: &str,
    bad: &mut impl FnMut(&LineError),
    sink: &mut impl FnMut(Connection) -> std::io::Result<()>,
) -> std::io::Result<ConntrackCounts> {
    let mut counts = ConntrackCounts::default();
    // NEWs awaiting their DESTROY, in arrival order (so the leftovers come out in order).
    let mut open: HashMap<Key, (u64, Connection)> = HashMap::new();
    let parse = |text: &[u8]| {
        serde_json::from_slice::<Line>(text)
            .map_err(|e| {
                let what = e.to_string();
                let what = what
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
                    .to_string();
                (Some(e.column()), format!("not an NFCT JSON object: {what}"))
            })
            .and_then(|l| connection(&l).map_err(|m| (None, m)))
    };
    counts.lines = super::parse_lines(input, parse, |line, parsed| {
        let (c, new) = match parsed {
            Ok(x) => x,
            Err((column, message)) => {
                counts.malformed += 1;
                bad(&LineError {
                    origin: origin.to_string(),
                    line,
                    column,
                    message,
                });
                return Ok(());
            }
        };
        if new {
            counts.new_events += 1;
            open.insert(key(&c), (line, c));
            return Ok(());
        }
        counts.destroy_events += 1;
        let mut c = c;
        if let Some((_, n)) = open.remove(&key(&c)) {
            // The DESTROY has the counters and the end; the NEW the start, if the DESTROY
            // lacks one.
            c.start_ms = c.start_ms.or(n.start_ms);
        }
        counts.connections += 1;
        sink(c)
    })?;
    let mut rest: Vec<(u64, Connection)> = open.into_values().collect();
    rest.sort_by_key(|(line, _)| *line);
    for (_, c) in rest {
        counts.connections += 1;
        counts.never_destroyed += 1;
        sink(c)?;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests;
