//! Suricata EVE JSON (one object a line) into flow records.
//!
//! - `event_type` `flow`: one record per line, both directions' counters (`*_toserver` forward,
//!   `*_toclient` as the reverse counters of a biflow), `flow.start`/`flow.end` as the times.
//! - `event_type` `netflow`: one record per line, one direction each (Suricata writes a second,
//!   swapped line when replies were seen).
//!
//! Both describe the same flows, so a file holding both would be counted twice: by default
//! ([`EveEvents::Auto`]) `flow` events are taken, and `netflow` ones only from an input that has
//! no `flow` event at all (they are held until the end of the input to know). Every other event
//! type (alert, dns, http, stats, ...) is skipped and counted by type.
//!
//! Traps handled (see the samples' FIELDS.md): `timestamp` is the logging time, not the flow's;
//! times are `YYYY-MM-DDTHH:MM:SS.ffffff±hhmm` (offset without a colon, the sensor's zone);
//! `proto` is a name; ICMP has no ports (its type and code go to the destination port, `type
//! << 8 | code`, as flowkit keeps them); IPv6 is written uncompressed. Bytes are as Suricata
//! counts them, link-layer headers included. `flow_id` is kept; Suricata's `app_proto` has no
//! field in flowkit's record; `community_id` is not read, as [`crate::enrich::community`]
//! computes the same value from the record.

use super::LineError;
use crate::model::record::{FlowRecord, UNSPECIFIED_V4};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::IpAddr;

/// Which events become records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EveEvents {
    /// `flow` events; `netflow` ones only from an input without any `flow` event.
    #[default]
    Auto,
    /// `flow` events only.
    Flow,
    /// `netflow` events only.
    Netflow,
}

/// What an EVE input held.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EveCounts {
    /// Lines read (blank ones included).
    pub lines: u64,
    /// Records made.
    pub flows: u64,
    /// `flow` events read.
    pub flow_events: u64,
    /// `netflow` events read.
    pub netflow_events: u64,
    /// `flow` or `netflow` events not imported because the other kind was chosen.
    pub not_chosen: u64,
    /// Events of other types, skipped, by type.
    pub other_events: BTreeMap<String, u64>,
    /// Lines that could not be read (reported one by one).
    pub malformed: u64,
}

impl std::fmt::Display for EveCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EVE lines {}, flows {} (flow events {}, netflow events {}, {} of them not \
             imported: the other kind describes the same flows), malformed lines {}",
            self.lines,
            self.flows,
            self.flow_events,
            self.netflow_events,
            self.not_chosen,
            self.malformed
        )?;
        if !self.other_events.is_empty() {
            let other: Vec<String> = (self.other_events.iter())
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            write!(f, ", other events skipped: {}", other.join(", "))?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct Event {
    event_type: Option<String>,
    src_ip: Option<String>,
    dest_ip: Option<String>,
    src_port: Option<u16>,
    dest_port: Option<u16>,
    proto: Option<String>,
    icmp_type: Option<u8>,
    icmp_code: Option<u8>,
    flow_id: Option<u64>,
    vlan: Option<Vec<u16>>,
    ether: Option<EtherPart>,
    flow: Option<FlowPart>,
    netflow: Option<NetflowPart>,
    tcp: Option<TcpPart>,
}

/// `ether` (with `ethernet: yes`): every MAC address seen in the flow, each way.
#[derive(Deserialize)]
struct EtherPart {
    src_macs: Option<Vec<String>>,
    dest_macs: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct FlowPart {
    pkts_toserver: u64,
    pkts_toclient: u64,
    bytes_toserver: u64,
    bytes_toclient: u64,
    start: String,
    end: String,
    reason: Option<String>,
}

#[derive(Deserialize)]
struct NetflowPart {
    pkts: u64,
    bytes: u64,
    start: String,
    end: String,
}

#[derive(Deserialize)]
struct TcpPart {
    tcp_flags: Option<String>,
}

/// Whether `first_line` looks like EVE JSON (an object with an `event_type`).
pub fn sniff(first_line: &[u8]) -> bool {
    let s = String::from_utf8_lossy(first_line);
    s.trim_start().starts_with('{') && s.contains("\"event_type\"")
}

/// An EVE time (`2021-07-14T07:41:49.641158+0000`, also with `+00:00` or `Z`) in UTC
/// milliseconds (sub-millisecond digits dropped toward the past).
pub fn parse_time(s: &str) -> Result<i64, String> {
    let ts = jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", s)
        .and_then(|t| t.to_timestamp())
        .or_else(|_| s.parse::<jiff::Timestamp>())
        .map_err(|_| format!("`{s}` is not an EVE time (YYYY-MM-DDTHH:MM:SS.ffffff+hhmm)"))?;
    Ok(ts.as_millisecond())
}

/// The protocol number of an EVE `proto` name (`TCP`, `UDP`, `ICMP`, `IPv6-ICMP`, ...) or
/// decimal string.
fn protocol(name: &str) -> Option<u8> {
    name.parse()
        .ok()
        .or_else(|| crate::model::names::protocol_number(name))
}

/// The record of one `flow` or `netflow` event.
fn record(e: &Event) -> Result<FlowRecord, String> {
    let addr = |v: &Option<String>, key: &str| -> Result<IpAddr, String> {
        let s = v.as_deref().ok_or_else(|| format!("no `{key}`"))?;
        s.parse()
            .map_err(|_| format!("`{key}` `{s}` is not an address"))
    };
    let proto_name = e.proto.as_deref().ok_or("no `proto`")?;
    let protocol =
        protocol(proto_name).ok_or_else(|| format!("unknown protocol name `{proto_name}`"))?;
    let icmp = matches!(protocol, 1 | 58);
    let tcp_flags = match e.tcp.as_ref().and_then(|t| t.tcp_flags.as_deref()) {
        Some(h) => u8::from_str_radix(h, 16).map_err(|_| format!("tcp_flags `{h}` is not hex"))?,
        None => 0,
    };
    let (packets, octets, rev_packets, rev_octets, start, end, reason) = match (&e.flow, &e.netflow)
    {
        (Some(f), _) if e.event_type.as_deref() == Some("flow") => (
            f.pkts_toserver,
            f.bytes_toserver,
            f.pkts_toclient,
            f.bytes_toclient,
            &f.start,
            &f.end,
            f.reason.as_deref(),
        ),
        (_, Some(n)) => (n.pkts, n.bytes, 0, 0, &n.start, &n.end, None),
        _ => return Err("no `flow` or `netflow` object".into()),
    };
    // The first MAC seen each way (`ether` lists all of them).
    let mac = |list: Option<&Vec<String>>, key: &str| -> Result<u64, String> {
        match list.and_then(|l| l.first()) {
            None => Ok(0),
            Some(m) => crate::model::l2::parse_mac(m)
                .ok_or_else(|| format!("`ether.{key}` `{m}` is not a MAC address")),
        }
    };
    let ether = e.ether.as_ref();
    Ok(FlowRecord {
        start_ms: parse_time(start)?,
        end_ms: parse_time(end)?,
        src_addr: addr(&e.src_ip, "src_ip")?,
        dst_addr: addr(&e.dest_ip, "dest_ip")?,
        src_port: if icmp { 0 } else { e.src_port.unwrap_or(0) },
        dst_port: if icmp {
            u16::from(e.icmp_type.unwrap_or(0)) << 8 | u16::from(e.icmp_code.unwrap_or(0))
        } else {
            e.dest_port.unwrap_or(0)
        },
        protocol,
        tcp_flags,
        packets,
        octets,
        rev_packets,
        rev_octets,
        exporter: UNSPECIFIED_V4,
        flow_id: e.flow_id.unwrap_or(0),
        src_vlan: e
            .vlan
            .as_ref()
            .and_then(|v| v.first().copied())
            .unwrap_or(0),
        src_mac: mac(ether.and_then(|x| x.src_macs.as_ref()), "src_macs")?,
        dst_mac: mac(ether.and_then(|x| x.dest_macs.as_ref()), "dest_macs")?,
        end_reason: reason.map_or(0, end_reason),
        ..FlowRecord::default()
    })
}

/// IPFIX's flowEndReason (136) for Suricata's `flow.reason`: `timeout` is an idle timeout (1);
/// `forced` and `shutdown` (the engine stopped, or the pcap ended) a forced end (4); `tcp_reuse`
/// (a new connection on the same addresses and ports ended the old one) an end of flow detected
/// (3); anything else (`unknown`) none (0).
fn end_reason(reason: &str) -> u8 {
    match reason {
        "timeout" => 1,
        "tcp_reuse" => 3,
        "forced" | "shutdown" => 4,
        _ => 0,
    }
}

/// Reads EVE lines from `input` (named `origin` in messages), handing each record to `sink`
/// and each malformed line to `bad`; returns the counts. Only a failing read or sink is an
/// error.
pub fn read_eve<R: BufRead>(
    input: R,
    origin: &str,
    events: EveEvents,
    bad: &mut impl FnMut(&LineError),
    sink: &mut impl FnMut(FlowRecord) -> std::io::Result<()>,
) -> std::io::Result<EveCounts> {
    let mut counts = EveCounts::default();
    // netflow records, for Auto
    let mut held: Vec<FlowRecord> = Vec::new();
    // On the thread pool: the JSON, and the record of each event the reader wants.
    let parse = |text: &[u8]| -> Result<(String, Option<Result<FlowRecord, String>>), _> {
        let e: Event = serde_json::from_slice(text).map_err(|err| {
            let what = err.to_string();
            let what = what.split(" at line ").next().unwrap_or_default();
            (err.column(), format!("not an EVE JSON object: {what}"))
        })?;
        let kind = e.event_type.clone().unwrap_or_default();
        let wanted = match kind.as_str() {
            "flow" => events != EveEvents::Netflow,
            "netflow" => events != EveEvents::Flow,
            _ => false,
        };
        Ok((kind, wanted.then(|| record(&e))))
    };
    counts.lines = super::parse_lines(input, parse, |line, parsed| {
        let mut report = |column: Option<usize>, message: String| {
            counts.malformed += 1;
            bad(&LineError {
                origin: origin.to_string(),
                line,
                column,
                message,
            });
        };
        let (kind, rec) = match parsed {
            Ok(x) => x,
            Err((column, message)) => {
                report(Some(column), message);
                return Ok(());
            }
        };
        match kind.as_str() {
            "flow" => counts.flow_events += 1,
            "netflow" => counts.netflow_events += 1,
            _ => {
                let key = if kind.is_empty() { "(none)" } else { &kind };
                *counts.other_events.entry(key.to_string()).or_default() += 1;
                return Ok(());
            }
        }
        let r = match rec {
            None => {
                counts.not_chosen += 1;
                return Ok(());
            }
            Some(Ok(r)) => r,
            Some(Err(m)) => {
                report(None, format!("{kind} event: {m}"));
                return Ok(());
            }
        };
        if kind == "netflow" && events == EveEvents::Auto {
            held.push(r);
            Ok(())
        } else {
            counts.flows += 1;
            sink(r)
        }
    })?;
    if counts.flow_events == 0 {
        for r in held {
            counts.flows += 1;
            sink(r)?;
        }
    } else {
        counts.not_chosen += held.len() as u64;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests;
