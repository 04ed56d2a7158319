//! Flow statistics: a summary (totals, time range, by protocol), top-N talkers by a key, and
//! counts in time bins — what flow-stat prints and plots ([`svg`]).
//!
//! Each report is an accumulator fed block by block; memory grows with the number of keys
//! (addresses, ports, pairs or bins), not of flows.
//!
//! Packets and octets are counted as [`crate::model::counts`] says: both directions of a biflow (the
//! reverse ones under the record's own key, as nfdump's `-s srcip` does), times the sampling
//! interval unless the report was made with `raw_counts(true)`; each report's `counts` note
//! says what was done.

pub mod flowtools;
pub mod geo_group;
pub mod group;
mod grouping;
pub mod measure;
pub mod output;
pub mod svg;
mod table;

use crate::analyze::keys::{addr_key, key_addr, AddrKey, FastMap};
use crate::model::block::{ColumnId, ColumnSet, FlowBlock};
use crate::model::counts::{self, CountNote};
use measure::{DistinctValues, Measure, Measured, Tally, Threshold};
use serde::Serialize;
use std::collections::BTreeMap;

/// Flows, packets and octets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Flows.
    pub flows: u64,
    /// Packets.
    pub packets: u64,
    /// Octets.
    pub octets: u64,
}

impl Totals {
    #[inline]
    fn add(&mut self, packets: u64, octets: u64) {
        self.flows += 1;
        self.packets += packets;
        self.octets += octets;
    }

    /// The value of `metric`.
    pub fn get(&self, metric: Metric) -> u64 {
        match metric {
            Metric::Flows => self.flows,
            Metric::Packets => self.packets,
            Metric::Octets => self.octets,
        }
    }
}

/// What to count or rank by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Number of flows.
    Flows,
    /// Packets.
    Packets,
    /// Octets.
    Octets,
}

impl std::str::FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Metric, String> {
        match s {
            "flows" => Ok(Metric::Flows),
            "packets" => Ok(Metric::Packets),
            "octets" | "bytes" => Ok(Metric::Octets),
            _ => Err(format!("{s:?}: use flows, packets or octets")),
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Metric::Flows => "flows",
            Metric::Packets => "packets",
            Metric::Octets => "octets",
        })
    }
}

const TOTAL_COLUMNS: [ColumnId; 3] = [ColumnId::StartMs, ColumnId::Packets, ColumnId::Octets];

/// The columns every report reads: start time, and what [`counts::volume`] needs.
fn total_columns() -> ColumnSet {
    ColumnSet::of(&TOTAL_COLUMNS).union(counts::columns())
}

/// Totals, time range and a breakdown by protocol.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Everything.
    pub totals: Totals,
    /// Earliest flow start (UTC ms).
    pub first_ms: Option<i64>,
    /// Latest flow end (UTC ms).
    pub last_ms: Option<i64>,
    /// How packets and octets were counted (scaled by sampling, biflows).
    pub counts: CountNote,
    by_protocol: Box<[Totals; 256]>,
}

impl Default for Summary {
    fn default() -> Self {
        Summary {
            totals: Totals::default(),
            first_ms: None,
            last_ms: None,
            counts: CountNote::default(),
            by_protocol: Box::new([Totals::default(); 256]),
        }
    }
}

impl Summary {
    /// Counts packets and octets as exported (`raw`) instead of scaled by sampling interval.
    pub fn raw_counts(mut self, raw: bool) -> Self {
        self.counts.raw = raw;
        self
    }

    /// The columns [`Summary::observe`] reads.
    pub fn columns() -> ColumnSet {
        total_columns()
            .with(ColumnId::EndMs)
            .with(ColumnId::Protocol)
    }

    /// Adds a block.
    pub fn observe(&mut self, b: &FlowBlock<'_>) {
        let (totals, by_protocol) = (&mut self.totals, &mut self.by_protocol);
        self.counts.each_volume(b, |i, p, o| {
            totals.add(p, o);
            by_protocol[b.protocol[i] as usize].add(p, o);
        });
        if let Some((lo, hi)) = b.time_range() {
            self.first_ms = Some(self.first_ms.map_or(lo, |f| f.min(lo)));
            self.last_ms = Some(self.last_ms.map_or(hi, |l| l.max(hi)));
        }
    }

    /// The protocols seen, most flows first.
    pub fn protocols(&self) -> Vec<(u8, Totals)> {
        let mut v: Vec<(u8, Totals)> = (0..=255u8)
            .map(|p| (p, self.by_protocol[p as usize]))
            .filter(|(_, t)| t.flows > 0)
            .collect();
        v.sort_by(|a, b| b.1.flows.cmp(&a.1.flows).then(a.0.cmp(&b.0)));
        v
    }
}

/// What top-N ranks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TopKey {
    /// Source address.
    SrcAddr,
    /// Destination address.
    DstAddr,
    /// Source port (TCP, UDP and SCTP flows).
    SrcPort,
    /// Destination port (TCP, UDP and SCTP flows).
    DstPort,
    /// IP protocol.
    Protocol,
    /// Source and destination address.
    Pair,
}

impl std::str::FromStr for TopKey {
    type Err = String;
    /// A key by any name of the field table ([`crate::model::fields::lookup`]: `srcaddr`,
    /// `src_addr`, `srcip`, `%sa`...), or `pair` (also `addr-pair`, `srcdst`).
    fn from_str(s: &str) -> Result<TopKey, String> {
        use crate::model::block::ColumnId;
        if matches!(
            s.replace('_', "-").as_str(),
            "pair" | "addr-pair" | "srcdst"
        ) {
            return Ok(TopKey::Pair);
        }
        Ok(match crate::model::fields::lookup(s).map(|f| f.column) {
            Some(ColumnId::SrcAddr) => TopKey::SrcAddr,
            Some(ColumnId::DstAddr) => TopKey::DstAddr,
            Some(ColumnId::SrcPort) => TopKey::SrcPort,
            Some(ColumnId::DstPort) => TopKey::DstPort,
            Some(ColumnId::Protocol) => TopKey::Protocol,
            _ => {
                return Err(format!(
                    "{s:?}: use srcaddr, dstaddr, srcport, dstport, proto or pair"
                ))
            }
        })
    }
}

impl std::fmt::Display for TopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TopKey::SrcAddr => "srcaddr",
            TopKey::DstAddr => "dstaddr",
            TopKey::SrcPort => "srcport",
            TopKey::DstPort => "dstport",
            TopKey::Protocol => "proto",
            TopKey::Pair => "pair",
        })
    }
}

impl TopKey {
    /// The key's columns in CSV and JSON, one value in each: `pair` is two addresses
    /// (`srcaddr`, `dstaddr`; with `--biflow` the lower end first), every other key one.
    pub fn columns(&self) -> Vec<String> {
        match self {
            TopKey::Pair => vec!["srcaddr".into(), "dstaddr".into()],
            other => vec![other.to_string()],
        }
    }
}

/// A value of a top-N key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyValue {
    /// An address.
    Addr(AddrKey),
    /// A port.
    Port(u16),
    /// A protocol.
    Protocol(u8),
    /// Source and destination address.
    Pair(AddrKey, AddrKey),
    /// Two addresses that talked, either way (`--biflow`): the lower first.
    Conversation(AddrKey, AddrKey),
}

impl std::fmt::Display for KeyValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            KeyValue::Addr(a) => write!(f, "{}", key_addr(a)),
            KeyValue::Port(p) => write!(f, "{p}"),
            KeyValue::Protocol(p) => match crate::model::names::protocol(p) {
                Some(n) => write!(f, "{n}"),
                None => write!(f, "{p}"),
            },
            KeyValue::Pair(s, d) => write!(f, "{} -> {}", key_addr(s), key_addr(d)),
            KeyValue::Conversation(a, b) => write!(f, "{} <-> {}", key_addr(a), key_addr(b)),
        }
    }
}

impl KeyValue {
    /// The value as [`TopKey::columns`] splits it: a pair's (or conversation's) two addresses
    /// apart, every other value as displayed.
    pub fn parts(&self) -> Vec<String> {
        match *self {
            KeyValue::Pair(a, b) | KeyValue::Conversation(a, b) => {
                vec![key_addr(a).to_string(), key_addr(b).to_string()]
            }
            other => vec![other.to_string()],
        }
    }
}

/// Protocols whose flows have ports.
fn has_ports(p: u8) -> bool {
    matches!(p, 6 | 17 | 132)
}

/// Totals per value of a key, to rank the top talkers.
#[derive(Clone, Debug)]
pub struct TopN {
    key: TopKey,
    map: FastMap<KeyValue, Tally>,
    conversations: bool,
    distinct: Option<DistinctValues>,
    min: Vec<Threshold>,
    /// Everything counted (flows without ports are left out of port keys).
    pub counted: Totals,
    /// How packets and octets were counted (scaled by sampling, biflows).
    pub counts: CountNote,
}

impl TopN {
    /// Totals by `key`.
    pub fn new(key: TopKey) -> TopN {
        TopN {
            key,
            map: FastMap::default(),
            conversations: false,
            distinct: None,
            min: Vec::new(),
            counted: Totals::default(),
            counts: CountNote::default(),
        }
    }

    /// Counts packets and octets as exported (`raw`) instead of scaled by sampling interval.
    pub fn raw_counts(mut self, raw: bool) -> Self {
        self.counts.raw = raw;
        self
    }

    /// Folds A -> B and B -> A into one conversation (`--biflow`); only `pair` has two ends.
    pub fn fold_directions(mut self) -> Result<Self, String> {
        if self.key != TopKey::Pair {
            return Err(format!(
                "--biflow folds key pairs (pair, or srcaddr,dstaddr...), not {}",
                self.key
            ));
        }
        self.conversations = true;
        Ok(self)
    }

    /// Also counts each value's distinct values of a field (`--distinct`).
    pub fn count_distinct(mut self, distinct: DistinctValues) -> Self {
        self.distinct = Some(distinct);
        self
    }

    /// Lists only values meeting every threshold (`--min`).
    pub fn at_least(mut self, min: Vec<Threshold>) -> Self {
        self.min = min;
        self
    }

    /// The key.
    pub fn key(&self) -> TopKey {
        self.key
    }

    /// The `--distinct` column's name, if one is counted.
    pub fn distinct_column(&self) -> Option<String> {
        self.distinct.as_ref().map(DistinctValues::column_name)
    }

    /// The columns [`TopN::observe`] reads.
    pub fn columns(&self) -> ColumnSet {
        let mut set = total_columns().with(ColumnId::EndMs);
        if let Some(d) = &self.distinct {
            set = set.with(d.column());
        }
        match self.key {
            TopKey::SrcAddr => set.with(ColumnId::SrcAddr),
            TopKey::DstAddr => set.with(ColumnId::DstAddr),
            TopKey::SrcPort => set.with(ColumnId::SrcPort).with(ColumnId::Protocol),
            TopKey::DstPort => set.with(ColumnId::DstPort).with(ColumnId::Protocol),
            TopKey::Protocol => set.with(ColumnId::Protocol),
            TopKey::Pair => set.with(ColumnId::SrcAddr).with(ColumnId::DstAddr),
        }
    }

    /// Adds a block.
    pub fn observe(&mut self, b: &FlowBlock<'_>) {
        let (key, map, counted) = (self.key, &mut self.map, &mut self.counted);
        let (conversations, distinct) = (self.conversations, &mut self.distinct);
        self.counts.each_volume(b, |i, p, o| {
            let k = match key {
                TopKey::SrcAddr => KeyValue::Addr(addr_key(&b.src_addr, i)),
                TopKey::DstAddr => KeyValue::Addr(addr_key(&b.dst_addr, i)),
                TopKey::SrcPort if has_ports(b.protocol[i]) => KeyValue::Port(b.src_port[i]),
                TopKey::DstPort if has_ports(b.protocol[i]) => KeyValue::Port(b.dst_port[i]),
                TopKey::SrcPort | TopKey::DstPort => return,
                TopKey::Protocol => KeyValue::Protocol(b.protocol[i]),
                TopKey::Pair => {
                    let (s, d) = (addr_key(&b.src_addr, i), addr_key(&b.dst_addr, i));
                    match conversations {
                        true => KeyValue::Conversation(s.min(d), s.max(d)),
                        false => KeyValue::Pair(s, d),
                    }
                }
            };
            let tally = map.entry(k).or_default();
            tally.add(p, o, b.start_ms[i], b.end_ms[i]);
            if let Some(d) = distinct.as_mut() {
                d.add(tally, b, i);
            }
            counted.add(p, o);
        });
    }

    /// Distinct values seen.
    pub fn distinct(&self) -> usize {
        self.map.len()
    }

    /// The `n` values (all when `n` is 0) meeting the thresholds with the most `by` (ties: more
    /// flows, then the lower value).
    pub fn top(&self, n: usize, by: Measure) -> Vec<(KeyValue, Measured)> {
        let distinct = |t: &Tally| self.distinct.as_ref().map_or(0, |d| d.count(t));
        let mut v: Vec<(KeyValue, Measured)> = (self.map.iter())
            .map(|(k, t)| (*k, t.measured(distinct(t))))
            .filter(|(_, m)| measure::passes(m, &self.min))
            .collect();
        rank(&mut v, n, by);
        v
    }
}

/// Keeps the `n` entries of `v` (all when `n` is 0) with the most `by`, most first; ties: more
/// flows, then the lower key.
fn rank<K: Ord>(v: &mut Vec<(K, Measured)>, n: usize, by: Measure) {
    let order = |a: &(K, Measured), b: &(K, Measured)| {
        b.1.get(by)
            .cmp(&a.1.get(by))
            .then(b.1.totals.flows.cmp(&a.1.totals.flows))
            .then(a.0.cmp(&b.0))
    };
    if n > 0 && n < v.len() {
        v.select_nth_unstable_by(n, order);
        v.truncate(n);
    }
    v.sort_by(order);
}

/// Most bins [`TimeBins::series`] fills empty ones in for.
pub const MAX_FILLED_BINS: i64 = 1_000_000;

/// Totals per time bin (a flow counts in the bin of its start).
#[derive(Clone, Debug)]
pub struct TimeBins {
    width_ms: i64,
    bins: BTreeMap<i64, Totals>,
    /// How packets and octets were counted (scaled by sampling, biflows).
    pub counts: CountNote,
}

impl TimeBins {
    /// Bins `width_ms` wide, aligned to multiples of the width since the epoch (UTC).
    pub fn new(width_ms: i64) -> TimeBins {
        TimeBins {
            width_ms: width_ms.max(1),
            bins: BTreeMap::new(),
            counts: CountNote::default(),
        }
    }

    /// Counts packets and octets as exported (`raw`) instead of scaled by sampling interval.
    pub fn raw_counts(mut self, raw: bool) -> Self {
        self.counts.raw = raw;
        self
    }

    /// The bin width (ms).
    pub fn width_ms(&self) -> i64 {
        self.width_ms
    }

    /// The columns [`TimeBins::observe`] reads.
    pub fn columns() -> ColumnSet {
        total_columns()
    }

    /// Adds a block.
    pub fn observe(&mut self, b: &FlowBlock<'_>) {
        let (width, bins) = (self.width_ms, &mut self.bins);
        self.counts.each_volume(b, |i, p, o| {
            let bin = b.start_ms[i].div_euclid(width) * width;
            bins.entry(bin).or_default().add(p, o);
        });
    }

    /// Every bin from the first to the last with flows, empty ones included (a gap in
    /// traffic is as telling as a spike) unless that makes more than [`MAX_FILLED_BINS`].
    pub fn series(&self) -> Vec<(i64, Totals)> {
        let (Some((&lo, _)), Some((&hi, _))) =
            (self.bins.first_key_value(), self.bins.last_key_value())
        else {
            return Vec::new();
        };
        if (hi - lo) / self.width_ms >= MAX_FILLED_BINS {
            return self.bins.iter().map(|(t, v)| (*t, *v)).collect();
        }
        let mut out = Vec::with_capacity(((hi - lo) / self.width_ms + 1) as usize);
        let mut t = lo;
        while t <= hi {
            out.push((t, self.bins.get(&t).copied().unwrap_or_default()));
            t += self.width_ms;
        }
        out
    }
}

#[cfg(test)]
mod tests;
