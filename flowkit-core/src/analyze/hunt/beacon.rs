//! `beacon`: one host connecting to one service (destination address, port and protocol) at
//! regular intervals, as malware checking in with its controller does.
//!
//! First pass: per pair (source address, destination address, destination port, protocol) the
//! start times of its connections. Between the passes: each pair's starts are sorted; starts
//! closer than `burst_ms` to the previous kept one are folded into it (a check-in that opens
//! two connections at once, or one flow seen by two exporters, is one check-in); the intervals
//! between consecutive check-ins give the median interval and the jitter, the median absolute
//! deviation of the intervals divided by their median (0 for a clock, about 0.7 for random,
//! Poisson-like, arrivals; robust to a missed or an extra check-in, unlike the coefficient of
//! variation). A pair is a beacon when it has at least `min_connections` check-ins, its
//! median interval is within `min_interval_ms ..= max_interval_ms`, its jitter is at most
//! `max_jitter` and at least `min_regular` of its intervals are within `max_jitter × median`
//! of the median (the MAD needs only half the intervals alike, which by chance a few random
//! ones are). Second pass: the earliest flows of each beacon as evidence.
//!
//! Not counted: flows that answer (TCP or UDP from a port below 1024 to one at or above it,
//! the server's side of the beacon's own connections) and TCP flows whose flags are exported
//! and hold no SYN (the continuation of a long connection that an exporter's active timeout cut
//! into pieces at regular intervals, which would look like a beacon otherwise).
//!
//! Score: `(1 + r) × log2(check-ins) / log2(min_connections)` with regularity
//! `r = 1 − jitter / max_jitter` (0 at the jitter threshold, 1 for a perfect clock): a pair
//! just at the thresholds scores about 1, a perfectly regular one twice that, and doubling the
//! check-ins' exponent adds as much as perfect regularity.
//!
//! Memory: every pair is kept with its start times (8 bytes each) until the end of the first
//! pass, so memory grows with the number of pairs plus the number of flows counted; at most
//! `max_starts` starts are kept per pair (the first read, which in an archive read in time
//! order are the earliest): a pair with more is judged on those, its flow count, first and last
//! times still cover all its flows.

use super::{
    addr_key, endpoint, human, human_ms, key_addr, proto, tcp, utc, AddrKey, Detector, EvidenceBin,
    FastMap, Finding,
};
use crate::model::block::{ColumnId, ColumnSet, FlowBlock};
use serde_json::{json, Map};

/// Settings of the detector.
#[derive(Clone, Debug)]
pub struct BeaconConfig {
    /// Check-ins a pair needs to be judged at all (default 8).
    pub min_connections: usize,
    /// Largest jitter (median absolute deviation of the intervals / their median) of a beacon
    /// (default 0.1).
    pub max_jitter: f64,
    /// Smallest fraction of the intervals within `max_jitter × median` of the median (default
    /// 0.75): the MAD needs only half the intervals alike, which a few random ones can be.
    pub min_regular: f64,
    /// Shortest median interval reported, ms (default 10 s).
    pub min_interval_ms: i64,
    /// Longest median interval reported, ms (default 1 day).
    pub max_interval_ms: i64,
    /// Starts closer than this to the previous check-in of the pair belong to it (default 1 s).
    pub burst_ms: i64,
    /// Start times kept per pair (default 10,000; see the module docs).
    pub max_starts: usize,
    /// Evidence flows shown per finding.
    pub max_evidence: usize,
}

impl Default for BeaconConfig {
    fn default() -> Self {
        BeaconConfig {
            min_connections: 8,
            max_jitter: 0.1,
            min_regular: 0.75,
            min_interval_ms: 10_000,
            max_interval_ms: 86_400_000,
            burst_ms: 1_000,
            max_starts: 10_000,
            max_evidence: 20,
        }
    }
}

impl BeaconConfig {
    /// Checks the settings hang together.
    pub fn check(&self) -> Result<(), super::ConfigError> {
        let bad = |m: &str| Err(super::ConfigError(m.to_string()));
        if self.min_connections < 3 {
            return bad("--min-connections must be at least 3 (two intervals)");
        }
        if !(self.max_jitter >= 0.0 && self.max_jitter.is_finite()) {
            return bad("--max-jitter must be a number of at least 0");
        }
        if !(0.0..=1.0).contains(&self.min_regular) {
            return bad("--min-regular is a fraction from 0 to 1");
        }
        if self.min_interval_ms > self.max_interval_ms {
            return bad("--min-interval is longer than --max-interval");
        }
        if self.max_starts < self.min_connections {
            return bad("the starts kept per pair must be at least --min-connections");
        }
        Ok(())
    }
}

/// Source, destination, destination port, protocol.
type Key = (AddrKey, AddrKey, u16, u8);

#[derive(Default)]
struct Pair {
    starts: Vec<i64>,
    flows: u64,
    first: i64,
    last: i64,
}

/// What the intervals of a pair say.
#[derive(Clone, Debug, PartialEq)]
pub struct Rhythm {
    /// Check-ins (starts after folding bursts).
    pub checkins: usize,
    /// Median interval between check-ins, ms.
    pub median_ms: f64,
    /// Median absolute deviation of the intervals from the median, ms.
    pub mad_ms: f64,
    /// `mad_ms / median_ms`.
    pub jitter: f64,
    /// Fraction of the intervals within `max_jitter × median` of the median.
    pub regular_fraction: f64,
    /// Shortest and longest interval, ms.
    pub min_ms: i64,
    /// Longest interval, ms.
    pub max_ms: i64,
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// The rhythm of start times `starts` (any order): bursts closer than `burst_ms` folded,
/// `None` with fewer than three check-ins.
pub fn rhythm(starts: &mut [i64], burst_ms: i64, max_jitter: f64) -> Option<Rhythm> {
    starts.sort_unstable();
    let mut checkins: Vec<i64> = Vec::with_capacity(starts.len());
    for &t in starts.iter() {
        match checkins.last() {
            Some(&prev) if t - prev < burst_ms => {}
            _ => checkins.push(t),
        }
    }
    if checkins.len() < 3 {
        return None;
    }
    let gaps: Vec<i64> = checkins.windows(2).map(|w| w[1] - w[0]).collect();
    let mut iv: Vec<f64> = gaps.iter().map(|&g| g as f64).collect();
    iv.sort_by(f64::total_cmp);
    let med = median(&iv);
    let mut dev: Vec<f64> = iv.iter().map(|x| (x - med).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mad = median(&dev);
    let jitter = if med > 0.0 { mad / med } else { f64::INFINITY };
    let within = dev.iter().filter(|d| **d <= max_jitter * med).count();
    Some(Rhythm {
        checkins: checkins.len(),
        median_ms: med,
        mad_ms: mad,
        jitter,
        regular_fraction: within as f64 / dev.len() as f64,
        min_ms: *gaps.iter().min().unwrap_or(&0),
        max_ms: *gaps.iter().max().unwrap_or(&0),
    })
}

struct Found {
    pair: Pair,
    /// Some starts were not kept (`max_starts`).
    capped: bool,
    /// End of the last flow of the pair (second pass).
    last_end: i64,
    rhythm: Rhythm,
    evidence: EvidenceBin,
}

/// The detector (see the module docs).
pub struct Beacon {
    cfg: BeaconConfig,
    pairs: FastMap<Key, Pair>,
    found: FastMap<Key, Found>,
}

impl Beacon {
    /// A detector with these settings.
    pub fn new(cfg: BeaconConfig) -> Beacon {
        Beacon {
            cfg,
            pairs: FastMap::default(),
            found: FastMap::default(),
        }
    }

    /// True when row `i` may be a check-in (not an answer, not the rest of a TCP connection).
    #[inline]
    pub fn counts(b: &FlowBlock<'_>, i: usize) -> bool {
        let p = b.protocol[i];
        let answer = b.src_port[i] < 1024 && b.dst_port[i] >= 1024;
        match p {
            proto::TCP => !answer && (b.tcp_flags[i] == 0 || b.tcp_flags[i] & tcp::SYN != 0),
            proto::UDP => !answer,
            _ => true,
        }
    }

    fn key(b: &FlowBlock<'_>, i: usize) -> Key {
        (
            addr_key(&b.src_addr, i),
            addr_key(&b.dst_addr, i),
            b.dst_port[i],
            b.protocol[i],
        )
    }

    fn finding(&self, key: &Key, f: Found) -> Finding {
        let cfg = &self.cfg;
        let (src, dst, port, p) = *key;
        let r = &f.rhythm;
        let regularity = if cfg.max_jitter > 0.0 {
            (1.0 - r.jitter / cfg.max_jitter).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let score = (1.0 + regularity) * (r.checkins as f64).log2()
            / (cfg.min_connections.max(2) as f64).log2();
        let proto_name = crate::model::names::protocol(p)
            .map(str::to_uppercase)
            .unwrap_or_else(|| format!("protocol {p}"));
        let target = match p {
            proto::TCP | proto::UDP => format!("{} {proto_name}", endpoint(key_addr(dst), port)),
            _ => format!("{} {proto_name}", key_addr(dst)),
        };
        let summary = format!(
            "{} connected to {target} {} times, every {} (jitter {:.3}, {:.0}% of intervals \
             regular), from {} to {} ({}, {} flows).",
            key_addr(src),
            r.checkins,
            interval_words(r.median_ms),
            r.jitter,
            r.regular_fraction * 100.0,
            utc(f.pair.first),
            utc(f.pair.last),
            human_ms(f.pair.last - f.pair.first),
            human(f.pair.flows),
        );
        let mut facts = Map::new();
        facts.insert("protocol".into(), json!(p));
        facts.insert("port".into(), json!(port));
        facts.insert("checkins".into(), json!(r.checkins));
        facts.insert("flows".into(), json!(f.pair.flows));
        facts.insert("interval_s".into(), json!(round3(r.median_ms / 1000.0)));
        facts.insert("mad_s".into(), json!(round3(r.mad_ms / 1000.0)));
        facts.insert("jitter".into(), json!(round3(r.jitter)));
        facts.insert("regular_fraction".into(), json!(round3(r.regular_fraction)));
        facts.insert(
            "shortest_interval_s".into(),
            json!(r.min_ms as f64 / 1000.0),
        );
        facts.insert("longest_interval_s".into(), json!(r.max_ms as f64 / 1000.0));
        facts.insert(
            "span_s".into(),
            json!((f.pair.last - f.pair.first) as f64 / 1000.0),
        );
        facts.insert("starts_capped".into(), json!(f.capped));
        let (evidence, omitted) = f.evidence.into_sorted();
        Finding {
            rank: 0,
            detector: "beacon",
            kind: "beacon",
            score,
            subject: key_addr(src),
            peer: Some(key_addr(dst)),
            first_ms: f.pair.first,
            last_ms: f.last_end,
            summary,
            facts,
            evidence,
            evidence_omitted: omitted,
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `300 s`, `15.0 min`, `2.00 h`.
fn interval_words(ms: f64) -> String {
    let s = ms / 1000.0;
    if s < 600.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.2} h", s / 3600.0)
    }
}

impl Detector for Beacon {
    fn name(&self) -> &'static str {
        "beacon"
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
        ])
    }

    fn observe(&mut self, b: &FlowBlock<'_>) {
        let cap = self.cfg.max_starts;
        for i in 0..b.len {
            if !Beacon::counts(b, i) {
                continue;
            }
            let t = b.start_ms[i];
            let pair = self.pairs.entry(Beacon::key(b, i)).or_default();
            if pair.flows == 0 {
                pair.first = t;
                pair.last = t;
            }
            pair.flows += 1;
            pair.first = pair.first.min(t);
            pair.last = pair.last.max(t);
            if pair.starts.len() < cap {
                pair.starts.push(t);
            }
        }
    }

    fn plan(&mut self) {
        let cfg = &self.cfg;
        for (k, mut pair) in std::mem::take(&mut self.pairs) {
            if pair.starts.len() < cfg.min_connections {
                continue;
            }
            let Some(r) = rhythm(&mut pair.starts, cfg.burst_ms, cfg.max_jitter) else {
                continue;
            };
            if r.checkins < cfg.min_connections
                || r.jitter > cfg.max_jitter
                || r.regular_fraction < cfg.min_regular
                || r.median_ms < cfg.min_interval_ms as f64
                || r.median_ms > cfg.max_interval_ms as f64
            {
                continue;
            }
            let capped = (pair.starts.len() as u64) < pair.flows;
            pair.starts = Vec::new();
            self.found.insert(
                k,
                Found {
                    last_end: pair.last,
                    pair,
                    capped,
                    rhythm: r,
                    evidence: EvidenceBin::new(cfg.max_evidence),
                },
            );
        }
    }

    fn collect(&mut self, b: &FlowBlock<'_>) {
        if self.found.is_empty() {
            return;
        }
        for i in 0..b.len {
            if !Beacon::counts(b, i) {
                continue;
            }
            if let Some(f) = self.found.get_mut(&Beacon::key(b, i)) {
                f.last_end = f.last_end.max(b.end_ms[i]);
                f.evidence.offer("check-in", b, i);
            }
        }
    }

    fn findings(&mut self) -> Vec<Finding> {
        let mut all: Vec<(Key, Found)> = std::mem::take(&mut self.found).into_iter().collect();
        all.sort_by_key(|(k, _)| *k);
        all.into_iter().map(|(k, f)| self.finding(&k, f)).collect()
    }
}
