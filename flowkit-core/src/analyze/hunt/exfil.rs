//! `exfil`: an inside host sending far more data out than it usually does, or than its peers do.
//!
//! A flow is **outbound** when one end is inside (`inside` prefixes, by default the private
//! ranges) and the other is not; its outbound octets are what the inside end sent: the forward
//! octets when the source is inside, the reverse (RFC 5103) octets when the destination is.
//! Counters are scaled by the sampling interval unless `raw_counts`.
//!
//! First pass: per inside host and time bin (`bin_ms`, aligned on the epoch, by flow start) the
//! outbound octets, packets and flows. Plan: the **peer baseline** is the median of all hosts'
//! non-empty bins; a host's **own baseline** is the median of its other non-empty bins, used
//! when it has at least `min_history` of them (a host seen in fewer bins is judged against its
//! peers). A bin is flagged when its octets reach `min_octets` and `factor` times the baseline.
//! Each host with flagged bins is one finding; the score is the largest ratio of a flagged bin's
//! octets to `factor` × its baseline (so at least 1). Second pass: the host's largest outbound
//! flows in the flagged bins as evidence, and the destinations that received the most.
//!
//! Memory: one entry per inside host and bin with outbound traffic (24 bytes plus the map's
//! overhead), and in the second pass one entry per destination of a flagged host.

use super::{addr_key, human, key_addr, utc, AddrKey, Detector, Evidence, FastMap, Finding};
use crate::analyze::keys::ip_key;
use crate::model::block::{ColumnId, ColumnSet, FlowBlock};
use crate::model::counts;
use ipnet::IpNet;
use serde_json::{json, Map};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Settings of the detector.
#[derive(Clone, Debug)]
pub struct ExfilConfig {
    /// The inside networks (default: 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7).
    pub inside: Vec<IpNet>,
    /// Length of a time bin, ms (default 1 h).
    pub bin_ms: i64,
    /// Outbound octets a bin needs before it can be flagged (default 100 MB).
    pub min_octets: u64,
    /// How many times its baseline a bin's octets must be (default 10).
    pub factor: f64,
    /// Other non-empty bins a host needs for its own baseline (default 3).
    pub min_history: usize,
    /// Packets and octets as exported, not multiplied by the sampling interval.
    pub raw_counts: bool,
    /// Evidence flows shown per finding (the largest).
    pub max_evidence: usize,
}

/// The private and shared address ranges: RFC 1918, RFC 6598 and IPv6 unique local.
pub const PRIVATE_NETS: [&str; 5] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
];

impl Default for ExfilConfig {
    fn default() -> Self {
        ExfilConfig {
            inside: PRIVATE_NETS.iter().map(|n| n.parse().unwrap()).collect(),
            bin_ms: 3_600_000,
            min_octets: 100_000_000,
            factor: 10.0,
            min_history: 3,
            raw_counts: false,
            max_evidence: 20,
        }
    }
}

impl ExfilConfig {
    /// Checks the settings hang together.
    pub fn check(&self) -> Result<(), super::ConfigError> {
        if self.bin_ms <= 0 {
            return Err(super::ConfigError("--bin must be longer than 0".into()));
        }
        if self.factor.is_nan() || self.factor < 1.0 {
            return Err(super::ConfigError("--factor must be at least 1".into()));
        }
        if self.inside.is_empty() {
            return Err(super::ConfigError("no --inside network given".into()));
        }
        Ok(())
    }
}

/// Parses an `--inside` network: `10.0.0.0/8`, `2001:db8::/32`, or one address.
pub fn parse_inside(text: &str) -> Result<IpNet, super::ConfigError> {
    let t = text.trim();
    t.parse::<IpNet>()
        .or_else(|_| t.parse::<std::net::IpAddr>().map(IpNet::from))
        .map(|n| n.trunc())
        .map_err(|_| {
            super::ConfigError(format!(
                "--inside {text:?}: not a network (use e.g. 10.0.0.0/8 or 2001:db8::/32)"
            ))
        })
}

/// Inside networks as ranges of address keys (IPv4 as IPv4-mapped, as [`addr_key`] gives).
struct Inside(Vec<(AddrKey, AddrKey)>);

impl Inside {
    fn new(nets: &[IpNet]) -> Inside {
        Inside(
            nets.iter()
                .map(|n| (ip_key(n.network()), ip_key(n.broadcast())))
                .collect(),
        )
    }

    #[inline]
    fn contains(&self, k: AddrKey) -> bool {
        self.0.iter().any(|&(lo, hi)| (lo..=hi).contains(&k))
    }
}

#[derive(Default, Clone, Copy)]
struct Bin {
    octets: u64,
    packets: u64,
    flows: u64,
}

/// A flagged bin: number, octets, flows, baseline, whether the baseline is the host's own.
#[derive(Clone, Copy, Debug)]
struct Flagged {
    bin: i64,
    octets: u64,
    flows: u64,
    baseline: u64,
    own: bool,
}

/// An evidence flow held by its outbound octets (largest kept), ties by time and arrival.
struct Held {
    key: (u64, Reverse<i64>, Reverse<u64>),
    ev: Evidence,
}

impl PartialEq for Held {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Held {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.key.cmp(&o.key)
    }
}

struct Found {
    bins: Vec<Flagged>,
    first: i64,
    last: i64,
    destinations: FastMap<AddrKey, u64>,
    evidence: BinaryHeap<Reverse<Held>>,
    seen: u64,
}

/// The detector (see the module docs).
pub struct Exfil {
    cfg: ExfilConfig,
    inside: Inside,
    bins: FastMap<(AddrKey, i64), Bin>,
    peer_baseline: u64,
    found: FastMap<AddrKey, Found>,
}

/// The median of `v` (the lower middle one for an even count); 0 when empty.
fn median(v: &mut [u64]) -> u64 {
    if v.is_empty() {
        return 0;
    }
    let mid = (v.len() - 1) / 2;
    *v.select_nth_unstable(mid).1
}

impl Exfil {
    /// A detector with these settings.
    pub fn new(cfg: ExfilConfig) -> Exfil {
        Exfil {
            inside: Inside::new(&cfg.inside),
            cfg,
            bins: FastMap::default(),
            peer_baseline: 0,
            found: FastMap::default(),
        }
    }

    /// The inside host of row `i` and the octets and packets it sent out, if the flow is
    /// outbound and moved any.
    #[inline]
    fn outbound(&self, b: &FlowBlock<'_>, i: usize) -> Option<(AddrKey, AddrKey, u64, u64)> {
        let (s, d) = (addr_key(&b.src_addr, i), addr_key(&b.dst_addr, i));
        let (si, di) = (self.inside.contains(s), self.inside.contains(d));
        let (p, o, rp, ro) = counts::directions(b, i, self.cfg.raw_counts);
        match (si, di) {
            (true, false) if o > 0 => Some((s, d, o, p)),
            (false, true) if ro > 0 => Some((d, s, ro, rp)),
            _ => None,
        }
    }

    fn finding(&self, host: AddrKey, f: Found) -> Finding {
        let cfg = &self.cfg;
        let ratio = |x: &Flagged| x.octets as f64 / (x.baseline.max(1) as f64 * cfg.factor);
        let peak = *f
            .bins
            .iter()
            .max_by(|a, b| ratio(a).total_cmp(&ratio(b)).then(b.bin.cmp(&a.bin)))
            .expect("a finding has flagged bins");
        let octets: u64 = f.bins.iter().map(|b| b.octets).sum();
        let flows: u64 = f.bins.iter().map(|b| b.flows).sum();
        let mut dests: Vec<(AddrKey, u64)> = f.destinations.into_iter().collect();
        dests.sort_by_key(|&(k, o)| (Reverse(o), k));
        dests.truncate(5);
        let top = dests
            .iter()
            .map(|&(k, o)| format!("{} ({})", key_addr(k), human(o)))
            .collect::<Vec<_>>()
            .join(", ");
        let against = if peak.own {
            "its own median bin"
        } else {
            "its peers' median bin"
        };
        let summary = format!(
            "{} sent {} octets out in {} flows over {} bin(s) of {} s; peak {} octets in the bin \
             from {}, {:.0}× {against} ({} octets). Top destinations: {top}.",
            key_addr(host),
            human(octets),
            human(flows),
            f.bins.len(),
            cfg.bin_ms / 1000,
            human(peak.octets),
            utc(peak.bin * cfg.bin_ms),
            peak.octets as f64 / peak.baseline.max(1) as f64,
            human(peak.baseline),
        );
        let mut facts = Map::new();
        facts.insert("bin_s".into(), json!(cfg.bin_ms as f64 / 1000.0));
        facts.insert("bins".into(), json!(f.bins.len()));
        facts.insert("octets".into(), json!(octets));
        facts.insert("flows".into(), json!(flows));
        facts.insert("peak_bin".into(), json!(utc(peak.bin * cfg.bin_ms)));
        facts.insert("peak_octets".into(), json!(peak.octets));
        facts.insert("baseline".into(), json!(peak.baseline));
        facts.insert(
            "baseline_kind".into(),
            json!(if peak.own { "own" } else { "peers" }),
        );
        facts.insert("peer_baseline".into(), json!(self.peer_baseline));
        facts.insert(
            "top_destinations".into(),
            json!(dests
                .iter()
                .map(|&(k, o)| json!({"addr": key_addr(k).to_string(), "octets": o}))
                .collect::<Vec<_>>()),
        );
        let mut evidence: Vec<Evidence> = f.evidence.into_iter().map(|h| h.0.ev).collect();
        evidence.sort_by(|a, b| {
            (a.flow.start_ms, a.flow.end_ms, Reverse(a.flow.octets)).cmp(&(
                b.flow.start_ms,
                b.flow.end_ms,
                Reverse(b.flow.octets),
            ))
        });
        Finding {
            rank: 0,
            detector: "exfil",
            kind: if peak.own {
                "above-own-baseline"
            } else {
                "above-peers"
            },
            score: ratio(&peak),
            subject: key_addr(host),
            peer: None,
            first_ms: f.first,
            last_ms: f.last,
            summary,
            facts,
            evidence_omitted: f.seen - evidence.len() as u64,
            evidence,
        }
    }
}

impl Detector for Exfil {
    fn name(&self) -> &'static str {
        "exfil"
    }

    fn columns(&self) -> ColumnSet {
        ColumnSet::of(&[ColumnId::StartMs, ColumnId::SrcAddr, ColumnId::DstAddr])
            .union(counts::columns())
    }

    fn observe(&mut self, b: &FlowBlock<'_>) {
        for i in 0..b.len {
            if let Some((host, _, o, p)) = self.outbound(b, i) {
                let bin = self
                    .bins
                    .entry((host, b.start_ms[i].div_euclid(self.cfg.bin_ms)))
                    .or_default();
                bin.octets = bin.octets.saturating_add(o);
                bin.packets = bin.packets.saturating_add(p);
                bin.flows += 1;
            }
        }
    }

    fn plan(&mut self) {
        let cfg = self.cfg.clone();
        let bins = std::mem::take(&mut self.bins);
        let mut all: Vec<u64> = bins.values().map(|b| b.octets).collect();
        self.peer_baseline = median(&mut all);
        let mut per_host: FastMap<AddrKey, Vec<(i64, Bin)>> = FastMap::default();
        for ((host, n), bin) in bins {
            per_host.entry(host).or_default().push((n, bin));
        }
        for (host, mut v) in per_host {
            v.sort_unstable_by_key(|x| x.0);
            let mut flagged = Vec::new();
            for (j, &(n, bin)) in v.iter().enumerate() {
                if bin.octets < cfg.min_octets {
                    continue;
                }
                let mut others: Vec<u64> = v
                    .iter()
                    .enumerate()
                    .filter(|&(k, _)| k != j)
                    .map(|(_, x)| x.1.octets)
                    .collect();
                let own = others.len() >= cfg.min_history;
                let baseline = if own {
                    median(&mut others)
                } else {
                    self.peer_baseline
                };
                if bin.octets as f64 >= cfg.factor * baseline as f64 {
                    flagged.push(Flagged {
                        bin: n,
                        octets: bin.octets,
                        flows: bin.flows,
                        baseline,
                        own,
                    });
                }
            }
            if !flagged.is_empty() {
                self.found.insert(
                    host,
                    Found {
                        bins: flagged,
                        first: i64::MAX,
                        last: i64::MIN,
                        destinations: FastMap::default(),
                        evidence: BinaryHeap::new(),
                        seen: 0,
                    },
                );
            }
        }
    }

    fn collect(&mut self, b: &FlowBlock<'_>) {
        if self.found.is_empty() {
            return;
        }
        let cap = self.cfg.max_evidence;
        for i in 0..b.len {
            let Some((host, dst, o, _)) = self.outbound(b, i) else {
                continue;
            };
            let Some(f) = self.found.get_mut(&host) else {
                continue;
            };
            let n = b.start_ms[i].div_euclid(self.cfg.bin_ms);
            if !f.bins.iter().any(|x| x.bin == n) {
                continue;
            }
            let s = b.start_ms[i];
            f.first = f.first.min(s);
            f.last = f.last.max(b.end_ms[i].max(s));
            *f.destinations.entry(dst).or_default() += o;
            f.seen += 1;
            if cap == 0 {
                continue;
            }
            // Ties in octets go to the earlier flow, then to the one ending first, then to the
            // lower source port, so the evidence does not depend on the order of the flows.
            let tie = (b.end_ms[i] as u64) ^ u64::from(b.src_port[i]) << 48;
            let key = (o, Reverse(s), Reverse(tie));
            if f.evidence.len() >= cap && f.evidence.peek().is_some_and(|min| min.0.key >= key) {
                continue;
            }
            if f.evidence.len() >= cap {
                f.evidence.pop();
            }
            f.evidence.push(Reverse(Held {
                key,
                ev: Evidence {
                    role: "upload",
                    flow: b.get(i),
                },
            }));
        }
    }

    fn findings(&mut self) -> Vec<Finding> {
        let mut all: Vec<(AddrKey, Found)> = std::mem::take(&mut self.found).into_iter().collect();
        all.sort_by_key(|(k, _)| *k);
        all.into_iter().map(|(k, f)| self.finding(k, f)).collect()
    }
}
