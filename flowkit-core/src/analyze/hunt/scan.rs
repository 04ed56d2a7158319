//! `scan`: sources that touch many addresses (horizontal) or many ports of one address
//! (vertical) with probes: flows of few packets that start a conversation and get nowhere.
//!
//! In the spirit of flow-tools' flow-dscan (which flags a source with more than 64 ports below
//! 1024 on one host, or a long list of destinations), with two differences: only *probes*
//! count, so a busy server's answers and a client's real conversations never add up to a scan;
//! and each finding says who answered (the hosts and ports the scanner now knows are open).
//!
//! A probe is a flow of at most `max_probe_packets` packets that is not an answer:
//! - TCP without ACK (SYN, FIN, NULL and Xmas probes; answers always carry ACK; when the
//!   exporter gives no TCP flags, none is seen), and not from a port below 1024 to one above
//!   (a service answering; this also misses probes sent from a low source port to high ports);
//! - UDP, unless from a port below 1024 to one above;
//! - ICMP and ICMPv6 echo, timestamp and address-mask requests.
//!
//! Horizontal: per source, protocol and destination port, the distinct destinations probed.
//! Vertical: per source, destination and protocol, the distinct ports probed.
//!
//! A probe's size is its exported (forward) packet count, never scaled by a sampling interval:
//! a sampled one-packet flow is not a ten-packet one. An RFC 5103 biflow probe carries the
//! target's answer in its reverse counters (its reverse TCP flags are not kept): a UDP or ICMP
//! probe with reverse packets was answered; a TCP probe with reverse packets whose own flags
//! hold RST (the scanner reset the handshake the target began with SYN/ACK, as a SYN scan
//! does) found an open port; one without RST was refused or ignored and is not an answer.

use super::{
    addr_key, human_ms, key_addr, proto, tcp, AddrKey, Detector, EvidenceBin, FastMap, FastSet,
    Finding,
};
use crate::model::block::{ColumnId, ColumnSet, FlowBlock};
use serde_json::{json, Map, Value};

/// Settings of the detector.
#[derive(Clone, Debug)]
pub struct ScanConfig {
    /// A probe has at most this many packets (default 3: SYN, a retry, RST).
    pub max_probe_packets: u64,
    /// Distinct destinations probed on one port that make a horizontal scan (default 50).
    pub min_targets: usize,
    /// Distinct ports probed on one destination that make a vertical scan (default 50).
    pub min_ports: usize,
    /// A horizontal candidate whose targets answered more often than this fraction is a
    /// client of a real service (a resolver, a crawler), not a scanner (default 0.8; 1 keeps all).
    pub max_answered: f64,
    /// Evidence flows shown per finding.
    pub max_evidence: usize,
    /// Distinct destinations or ports remembered per key; counts stop growing there.
    pub max_distinct: usize,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            max_probe_packets: 3,
            min_targets: 50,
            min_ports: 50,
            max_answered: 0.8,
            max_evidence: 20,
            max_distinct: 1 << 16,
        }
    }
}

/// Source ports remembered per key (to show a fixed source port, the mark of a raw-socket tool).
const MAX_SRC_PORTS: usize = 16;

/// A set that stays a short vector while small: most keys (a client and a server) see one
/// or two values, and a hash set each would cost far more than the values.
enum SmallSet<T> {
    Few(Vec<T>),
    Many(FastSet<T>),
}

/// Values a [`SmallSet`] keeps in its vector.
const FEW: usize = 8;

impl<T: std::hash::Hash + Eq + Copy> SmallSet<T> {
    fn len(&self) -> usize {
        match self {
            SmallSet::Few(v) => v.len(),
            SmallSet::Many(s) => s.len(),
        }
    }

    fn contains(&self, x: &T) -> bool {
        match self {
            SmallSet::Few(v) => v.contains(x),
            SmallSet::Many(s) => s.contains(x),
        }
    }

    fn insert(&mut self, x: T) {
        match self {
            SmallSet::Few(v) if v.contains(&x) => {}
            SmallSet::Few(v) if v.len() < FEW => v.push(x),
            SmallSet::Few(v) => {
                let mut s: FastSet<T> = v.drain(..).collect();
                s.insert(x);
                *self = SmallSet::Many(s);
            }
            SmallSet::Many(s) => {
                s.insert(x);
            }
        }
    }

    fn to_vec(&self) -> Vec<T> {
        match self {
            SmallSet::Few(v) => v.clone(),
            SmallSet::Many(s) => s.iter().copied().collect(),
        }
    }
}

/// Probes of one key: the distinct values (destinations or ports), counts and times.
struct Agg<T> {
    distinct: SmallSet<T>,
    probes: u64,
    first: i64,
    last: i64,
}

impl<T> Default for Agg<T> {
    fn default() -> Self {
        Agg {
            distinct: SmallSet::Few(Vec::new()),
            probes: 0,
            first: 0,
            last: 0,
        }
    }
}

impl<T: std::hash::Hash + Eq + Copy> Agg<T> {
    fn add(&mut self, item: T, t: i64, cap: usize) {
        if self.probes == 0 {
            self.first = t;
            self.last = t;
        }
        self.probes += 1;
        self.first = self.first.min(t);
        self.last = self.last.max(t);
        if self.distinct.len() < cap {
            self.distinct.insert(item);
        }
    }
}

/// Counts source ports (of a finding's probes, in the second pass), the first few distinct.
fn count_port(ports: &mut FastMap<u16, u64>, sport: u16) {
    if ports.len() < MAX_SRC_PORTS || ports.contains_key(&sport) {
        *ports.entry(sport).or_default() += 1;
    }
}

type HKey = (AddrKey, u8, u16);
type VKey = (AddrKey, AddrKey, u8);

struct Horizontal {
    agg: Agg<AddrKey>,
    answered: FastSet<AddrKey>,
    src_ports: FastMap<u16, u64>,
    evidence: EvidenceBin,
}

struct Vertical {
    agg: Agg<u16>,
    open: FastSet<u16>,
    src_ports: FastMap<u16, u64>,
    evidence: EvidenceBin,
}

/// The detector (see the module docs).
pub struct Scan {
    cfg: ScanConfig,
    horizontal: FastMap<HKey, Agg<AddrKey>>,
    vertical: FastMap<VKey, Agg<u16>>,
    h_found: FastMap<HKey, Horizontal>,
    v_found: FastMap<VKey, Vertical>,
}

/// ICMP types that ask (echo, timestamp, address mask) for IPv4 and IPv6.
fn icmp_request(protocol: u8, ty: u8) -> bool {
    match protocol {
        proto::ICMP => matches!(ty, 8 | 13 | 17),
        proto::ICMPV6 => ty == 128,
        _ => false,
    }
}

/// The ICMP echo reply type answering request type `ty`.
fn icmp_reply_type(protocol: u8, ty: u8) -> u8 {
    match (protocol, ty) {
        (proto::ICMPV6, _) => 129,
        (_, 13) => 14,
        (_, 17) => 18,
        _ => 0,
    }
}

fn protocol_name(p: u8) -> String {
    crate::model::names::protocol(p)
        .map(str::to_uppercase)
        .unwrap_or_else(|| format!("protocol {p}"))
}

impl Scan {
    /// A detector with these settings.
    pub fn new(cfg: ScanConfig) -> Scan {
        Scan {
            cfg,
            horizontal: FastMap::default(),
            vertical: FastMap::default(),
            h_found: FastMap::default(),
            v_found: FastMap::default(),
        }
    }

    /// True when row `i` is a probe (see the module docs).
    #[inline]
    pub fn is_probe(&self, b: &FlowBlock<'_>, i: usize) -> bool {
        if b.packets[i] > self.cfg.max_probe_packets {
            return false;
        }
        let (sp, dp) = (b.src_port[i], b.dst_port[i]);
        let answer_by_ports = sp < 1024 && dp >= 1024;
        match b.protocol[i] {
            proto::TCP => !answer_by_ports && b.tcp_flags[i] & tcp::ACK == 0,
            proto::UDP => !answer_by_ports,
            p @ (proto::ICMP | proto::ICMPV6) => icmp_request(p, (dp >> 8) as u8),
            _ => false,
        }
    }

    fn horizontal_finding(&self, key: &HKey, h: Horizontal) -> Option<Finding> {
        let cfg = &self.cfg;
        let (src, p, port) = *key;
        let targets = h.agg.distinct.len();
        let answered = h.answered.len();
        if answered as f64 > cfg.max_answered * targets as f64 {
            return None;
        }
        let what = if matches!(p, proto::ICMP | proto::ICMPV6) {
            format!("with {} type {}", protocol_name(p), port >> 8)
        } else {
            format!("on {} port {port}", protocol_name(p))
        };
        let mut answered_list: Vec<AddrKey> = h.answered.iter().copied().collect();
        answered_list.sort();
        let shown: Vec<String> = answered_list
            .iter()
            .take(5)
            .map(|a| key_addr(*a).to_string())
            .collect();
        let answers = match answered {
            0 => "none answered".to_string(),
            n => format!(
                "{n} answered: {}{}",
                shown.join(", "),
                if n > 5 { ", ..." } else { "" }
            ),
        };
        let summary = format!(
            "{} probed {targets} addresses {what} ({} probes{}, over {}); {answers}.",
            key_addr(src),
            h.agg.probes,
            src_port_words(&h.src_ports, h.agg.probes, p),
            human_ms(h.agg.last - h.agg.first),
        );
        let mut facts = Map::new();
        facts.insert("protocol".into(), json!(p));
        facts.insert("port".into(), json!(port));
        facts.insert("targets".into(), json!(targets));
        facts.insert("probes".into(), json!(h.agg.probes));
        facts.insert("answered".into(), json!(answered));
        facts.insert(
            "answered_by".into(),
            json!(answered_list
                .iter()
                .take(1000)
                .map(|a| key_addr(*a).to_string())
                .collect::<Vec<_>>()),
        );
        facts.insert("source_ports".into(), src_ports_json(&h.src_ports));
        let (evidence, omitted) = h.evidence.into_sorted();
        Some(Finding {
            rank: 0,
            detector: "scan",
            kind: "horizontal",
            score: targets as f64 / cfg.min_targets.max(1) as f64,
            subject: key_addr(src),
            peer: None,
            first_ms: h.agg.first,
            last_ms: h.agg.last,
            summary,
            facts,
            evidence,
            evidence_omitted: omitted,
        })
    }

    fn vertical_finding(&self, key: &VKey, v: Vertical) -> Finding {
        let (src, dst, p) = *key;
        let ports = v.agg.distinct.len();
        let mut list: Vec<u16> = v.agg.distinct.to_vec();
        list.sort();
        let mut open: Vec<u16> = v.open.iter().copied().collect();
        open.sort();
        let open_words = match open.len() {
            0 => "none answered as open".to_string(),
            n => format!(
                "open: {}{}",
                open.iter()
                    .take(10)
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if n > 10 { ", ..." } else { "" }
            ),
        };
        let summary = format!(
            "{} probed {ports} {} ports of {} ({}-{}, {} probes{}, over {}); {open_words}.",
            key_addr(src),
            protocol_name(p),
            key_addr(dst),
            list.first().copied().unwrap_or(0),
            list.last().copied().unwrap_or(0),
            v.agg.probes,
            src_port_words(&v.src_ports, v.agg.probes, p),
            human_ms(v.agg.last - v.agg.first),
        );
        let mut facts = Map::new();
        facts.insert("protocol".into(), json!(p));
        facts.insert("ports".into(), json!(ports));
        facts.insert("lowest_port".into(), json!(list.first()));
        facts.insert("highest_port".into(), json!(list.last()));
        facts.insert("probes".into(), json!(v.agg.probes));
        facts.insert("open_ports".into(), json!(open));
        facts.insert("source_ports".into(), src_ports_json(&v.src_ports));
        let (evidence, omitted) = v.evidence.into_sorted();
        Finding {
            rank: 0,
            detector: "scan",
            kind: "vertical",
            score: ports as f64 / self.cfg.min_ports.max(1) as f64,
            subject: key_addr(src),
            peer: Some(key_addr(dst)),
            first_ms: v.agg.first,
            last_ms: v.agg.last,
            summary,
            facts,
            evidence,
            evidence_omitted: omitted,
        }
    }
}

/// `, all from source port 6000` when one source port carries most probes.
fn src_port_words(ports: &FastMap<u16, u64>, probes: u64, p: u8) -> String {
    if !matches!(p, proto::TCP | proto::UDP) {
        return String::new();
    }
    let Some((port, n)) = ports
        .iter()
        .max_by_key(|(p, n)| (**n, std::cmp::Reverse(**p)))
    else {
        return String::new();
    };
    if *n == probes {
        format!(", all from source port {port}")
    } else if *n * 2 > probes {
        format!(", {n} from source port {port}")
    } else {
        String::new()
    }
}

fn src_ports_json(ports: &FastMap<u16, u64>) -> Value {
    let mut v: Vec<(&u16, &u64)> = ports.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    Value::Array(
        v.into_iter()
            .take(5)
            .map(|(p, n)| json!({"port": p, "probes": n}))
            .collect(),
    )
}

impl Detector for Scan {
    fn name(&self) -> &'static str {
        "scan"
    }

    fn columns(&self) -> ColumnSet {
        ColumnSet::of(&[
            ColumnId::StartMs,
            ColumnId::SrcAddr,
            ColumnId::DstAddr,
            ColumnId::SrcPort,
            ColumnId::DstPort,
            ColumnId::Protocol,
            ColumnId::TcpFlags,
            ColumnId::Packets,
            ColumnId::RevPackets,
        ])
    }

    fn observe(&mut self, b: &FlowBlock<'_>) {
        let cap = self.cfg.max_distinct.max(1);
        for i in 0..b.len {
            if !self.is_probe(b, i) {
                continue;
            }
            let src = addr_key(&b.src_addr, i);
            let dst = addr_key(&b.dst_addr, i);
            let p = b.protocol[i];
            let (dp, t) = (b.dst_port[i], b.start_ms[i]);
            self.horizontal
                .entry((src, p, dp))
                .or_default()
                .add(dst, t, cap);
            if matches!(p, proto::TCP | proto::UDP) {
                self.vertical
                    .entry((src, dst, p))
                    .or_default()
                    .add(dp, t, cap);
            }
        }
    }

    fn plan(&mut self) {
        let cfg = &self.cfg;
        for (k, agg) in std::mem::take(&mut self.horizontal) {
            if agg.distinct.len() >= cfg.min_targets.max(1) {
                self.h_found.insert(
                    k,
                    Horizontal {
                        agg,
                        answered: FastSet::default(),
                        src_ports: FastMap::default(),
                        evidence: EvidenceBin::new(cfg.max_evidence),
                    },
                );
            }
        }
        for (k, agg) in std::mem::take(&mut self.vertical) {
            if agg.distinct.len() >= cfg.min_ports.max(1) {
                self.v_found.insert(
                    k,
                    Vertical {
                        agg,
                        open: FastSet::default(),
                        src_ports: FastMap::default(),
                        evidence: EvidenceBin::new(cfg.max_evidence),
                    },
                );
            }
        }
    }

    fn collect(&mut self, b: &FlowBlock<'_>) {
        if self.h_found.is_empty() && self.v_found.is_empty() {
            return;
        }
        for i in 0..b.len {
            let src = addr_key(&b.src_addr, i);
            let dst = addr_key(&b.dst_addr, i);
            let p = b.protocol[i];
            let (sp, dp) = (b.src_port[i], b.dst_port[i]);
            if self.is_probe(b, i) {
                let answered =
                    b.rev_packets[i] > 0 && (p != proto::TCP || b.tcp_flags[i] & tcp::RST != 0);
                if let Some(h) = self.h_found.get_mut(&(src, p, dp)) {
                    count_port(&mut h.src_ports, sp);
                    if answered {
                        h.answered.insert(dst);
                        h.evidence.pin("answer", b, i);
                    } else {
                        h.evidence.offer("probe", b, i);
                    }
                }
                if let Some(v) = self.v_found.get_mut(&(src, dst, p)) {
                    count_port(&mut v.src_ports, sp);
                    if answered {
                        v.open.insert(dp);
                        v.evidence.pin("answer", b, i);
                    } else {
                        v.evidence.offer("probe", b, i);
                    }
                }
                continue;
            }
            // Answers: from a probed host and port back to the scanner.
            let open = match p {
                proto::TCP => b.tcp_flags[i] & tcp::SYN != 0,
                proto::UDP => true,
                _ => false,
            };
            if matches!(p, proto::ICMP | proto::ICMPV6) {
                let ty = (dp >> 8) as u8;
                for req in [8u8, 13, 17, 128] {
                    if icmp_reply_type(p, req) != ty || !icmp_request(p, req) {
                        continue;
                    }
                    if let Some(h) = self.h_found.get_mut(&(dst, p, (req as u16) << 8)) {
                        if h.agg.distinct.contains(&src) {
                            h.answered.insert(src);
                            h.evidence.pin("answer", b, i);
                        }
                    }
                }
                continue;
            }
            if !open {
                continue;
            }
            if let Some(h) = self.h_found.get_mut(&(dst, p, sp)) {
                if h.agg.distinct.contains(&src) {
                    h.answered.insert(src);
                    h.evidence.pin("answer", b, i);
                }
            }
            if let Some(v) = self.v_found.get_mut(&(dst, src, p)) {
                if v.agg.distinct.contains(&sp) {
                    v.open.insert(sp);
                    v.evidence.pin("answer", b, i);
                }
            }
        }
    }

    fn findings(&mut self) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut hs: Vec<(HKey, Horizontal)> =
            std::mem::take(&mut self.h_found).into_iter().collect();
        hs.sort_by_key(|(k, _)| *k);
        for (k, h) in hs {
            out.extend(self.horizontal_finding(&k, h));
        }
        let mut vs: Vec<(VKey, Vertical)> = std::mem::take(&mut self.v_found).into_iter().collect();
        vs.sort_by_key(|(k, _)| *k);
        for (k, v) in vs {
            out.push(self.vertical_finding(&k, v));
        }
        out
    }
}
