//! `ddos`: many sources sending to one destination service within a time bin.
//!
//! First pass: per target (destination address, protocol, port, kind) and time bin
//! (`bin_ms`, aligned on the epoch, by flow start) the flows, packets and distinct sources
//! (at most `max_distinct` remembered per bin). The kind is `flood` for flows to a port (the
//! key's port is the destination port) and `reflection` for flows that look like answers, from
//! a port below 1024 to one at or above it (the key's port is the *source* port: a reflection
//! attack's DNS or NTP answers come from port 53 or 123 to whatever ports the victim never
//! used, so keying them on the destination port would scatter them). ICMP and other protocols
//! are floods keyed on their type and code (the destination port column).
//!
//! A bin is an attack bin when it has at least `min_sources` distinct sources and `min_flows`
//! flows. Every target with an attack bin is one finding, about all its attack bins; the score
//! is the peak distinct sources of a bin divided by `min_sources`. Second pass: the earliest
//! flows of the attack bins as evidence, and the distinct sources over all of them.
//!
//! Memory: one entry per target and bin seen, each with a hash set of its sources (empty sets
//! cost no allocation, one source a small table), so memory grows with targets × bins × the
//! sources per bin; a day of one-minute bins of a busy network is many entries. Narrow with
//! `-t/-T`, a filter or a longer bin.

use super::{
    addr_key, endpoint, human, key_addr, proto, utc, AddrKey, Detector, EvidenceBin, FastMap,
    FastSet, Finding,
};
use crate::model::block::{ColumnId, ColumnSet, FlowBlock};
use serde_json::{json, Map};

/// Settings of the detector.
#[derive(Clone, Debug)]
pub struct DdosConfig {
    /// Length of a time bin, ms (default 1 min).
    pub bin_ms: i64,
    /// Distinct sources in a bin that make it an attack bin (default 50).
    pub min_sources: usize,
    /// Flows in a bin that make it an attack bin (default 500).
    pub min_flows: u64,
    /// Distinct sources remembered per bin; counts stop growing there (default 65,536).
    pub max_distinct: usize,
    /// Evidence flows shown per finding.
    pub max_evidence: usize,
}

impl Default for DdosConfig {
    fn default() -> Self {
        DdosConfig {
            bin_ms: 60_000,
            min_sources: 50,
            min_flows: 500,
            max_distinct: 1 << 16,
            max_evidence: 20,
        }
    }
}

impl DdosConfig {
    /// Checks the settings hang together.
    pub fn check(&self) -> Result<(), super::ConfigError> {
        if self.bin_ms <= 0 {
            return Err(super::ConfigError("--bin must be longer than 0".into()));
        }
        if self.min_sources == 0 || self.min_flows == 0 {
            return Err(super::ConfigError(
                "--min-sources and --min-flows must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// Destination, protocol, port, reflection.
type Target = (AddrKey, u8, u16, bool);

#[derive(Default)]
struct Bin {
    sources: FastSet<AddrKey>,
    flows: u64,
    packets: u64,
}

struct Found {
    /// Attack bins: bin number → (distinct sources, flows, packets).
    bins: Vec<(i64, usize, u64, u64)>,
    sources: FastSet<AddrKey>,
    first: i64,
    last: i64,
    evidence: EvidenceBin,
}

/// The detector (see the module docs).
pub struct Ddos {
    cfg: DdosConfig,
    bins: FastMap<(Target, i64), Bin>,
    found: FastMap<Target, Found>,
}

impl Ddos {
    /// A detector with these settings.
    pub fn new(cfg: DdosConfig) -> Ddos {
        Ddos {
            cfg,
            bins: FastMap::default(),
            found: FastMap::default(),
        }
    }

    /// The target and bin of row `i`.
    fn key(&self, b: &FlowBlock<'_>, i: usize) -> (Target, i64) {
        let p = b.protocol[i];
        let (sp, dp) = (b.src_port[i], b.dst_port[i]);
        let reflected = matches!(p, proto::TCP | proto::UDP) && sp < 1024 && dp >= 1024;
        let port = if reflected { sp } else { dp };
        (
            (addr_key(&b.dst_addr, i), p, port, reflected),
            b.start_ms[i].div_euclid(self.cfg.bin_ms),
        )
    }

    fn finding(&self, t: &Target, f: Found) -> Finding {
        let cfg = &self.cfg;
        let (dst, p, port, reflected) = *t;
        let peak = f
            .bins
            .iter()
            .max_by_key(|b| (b.1, b.2, std::cmp::Reverse(b.0)))
            .copied()
            .unwrap_or_default();
        let flows: u64 = f.bins.iter().map(|b| b.2).sum();
        let packets: u64 = f.bins.iter().map(|b| b.3).sum();
        let proto_name = crate::model::names::protocol(p)
            .map(str::to_uppercase)
            .unwrap_or_else(|| format!("protocol {p}"));
        let target = match (p, reflected) {
            (proto::TCP | proto::UDP, false) => {
                format!("{} {proto_name}", endpoint(key_addr(dst), port))
            }
            (_, true) => format!("{} with {proto_name} from port {port}", key_addr(dst)),
            _ => format!("{} {proto_name}", key_addr(dst)),
        };
        let bin_s = cfg.bin_ms / 1000;
        let summary = format!(
            "{} sources sent {} flows ({} packets) to {target} in {} bin(s) of {bin_s} s; \
             peak {} sources and {} flows in the bin from {}.",
            human(f.sources.len() as u64),
            human(flows),
            human(packets),
            f.bins.len(),
            peak.1,
            human(peak.2),
            utc(peak.0 * cfg.bin_ms),
        );
        let mut facts = Map::new();
        facts.insert("protocol".into(), json!(p));
        facts.insert("port".into(), json!(port));
        facts.insert("bin_s".into(), json!(cfg.bin_ms as f64 / 1000.0));
        facts.insert("bins".into(), json!(f.bins.len()));
        facts.insert("sources".into(), json!(f.sources.len()));
        facts.insert("flows".into(), json!(flows));
        facts.insert("packets".into(), json!(packets));
        facts.insert("peak_bin".into(), json!(utc(peak.0 * cfg.bin_ms)));
        facts.insert("peak_sources".into(), json!(peak.1));
        facts.insert("peak_flows".into(), json!(peak.2));
        let (evidence, omitted) = f.evidence.into_sorted();
        Finding {
            rank: 0,
            detector: "ddos",
            kind: if reflected { "reflection" } else { "flood" },
            score: peak.1 as f64 / cfg.min_sources as f64,
            subject: key_addr(dst),
            peer: None,
            first_ms: f.first,
            last_ms: f.last,
            summary,
            facts,
            evidence,
            evidence_omitted: omitted,
        }
    }
}

impl Detector for Ddos {
    fn name(&self) -> &'static str {
        "ddos"
    }

    fn columns(&self) -> ColumnSet {
        ColumnSet::of(&[
            ColumnId::StartMs,
            ColumnId::SrcAddr,
            ColumnId::DstAddr,
            ColumnId::SrcPort,
            ColumnId::DstPort,
            ColumnId::Protocol,
            ColumnId::Packets,
        ])
    }

    fn observe(&mut self, b: &FlowBlock<'_>) {
        let cap = self.cfg.max_distinct.max(1);
        for i in 0..b.len {
            let key = self.key(b, i);
            let bin = self.bins.entry(key).or_default();
            bin.flows += 1;
            bin.packets += b.packets[i];
            if bin.sources.len() < cap {
                bin.sources.insert(addr_key(&b.src_addr, i));
            }
        }
    }

    fn plan(&mut self) {
        let cfg = &self.cfg;
        for ((t, n), bin) in std::mem::take(&mut self.bins) {
            if bin.sources.len() < cfg.min_sources || bin.flows < cfg.min_flows {
                continue;
            }
            let f = self.found.entry(t).or_insert_with(|| Found {
                bins: Vec::new(),
                sources: FastSet::default(),
                first: i64::MAX,
                last: i64::MIN,
                evidence: EvidenceBin::new(cfg.max_evidence),
            });
            f.bins.push((n, bin.sources.len(), bin.flows, bin.packets));
        }
        for f in self.found.values_mut() {
            f.bins.sort_unstable();
        }
    }

    fn collect(&mut self, b: &FlowBlock<'_>) {
        if self.found.is_empty() {
            return;
        }
        let cap = self.cfg.max_distinct.max(1);
        for i in 0..b.len {
            let (t, n) = self.key(b, i);
            let Some(f) = self.found.get_mut(&t) else {
                continue;
            };
            if f.bins.binary_search_by_key(&n, |x| x.0).is_err() {
                continue;
            }
            let s = b.start_ms[i];
            f.first = f.first.min(s);
            f.last = f.last.max(b.end_ms[i].max(s));
            if f.sources.len() < cap {
                f.sources.insert(addr_key(&b.src_addr, i));
            }
            f.evidence.offer("attack", b, i);
        }
    }

    fn findings(&mut self) -> Vec<Finding> {
        let mut all: Vec<(Target, Found)> = std::mem::take(&mut self.found).into_iter().collect();
        all.sort_by_key(|(k, _)| *k);
        all.into_iter().map(|(k, f)| self.finding(&k, f)).collect()
    }
}
