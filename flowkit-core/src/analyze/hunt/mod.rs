//! Hunting: detectors that turn flows into ranked findings with their evidence flows.
//!
//! Each detector ([`irc_after_ssh`], [`ssh_bruteforce`], [`scan`], [`beacon`], [`ddos`],
//! [`exfil`]) reads
//! the flows twice: the first pass ([`Detector::observe`]) aggregates per key (per SSH
//! connection, per scanning source and port, ...) and keeps no flow, so memory grows with the
//! number of keys, not of flows (`beacon` also keeps each pair's start times, 8 bytes a flow,
//! capped per pair; `ddos` the distinct sources per target and bin); [`Detector::plan`] then
//! decides which keys are findings; the second pass ([`Detector::collect`]) keeps the evidence
//! flows of just those findings, at most `max_evidence` each (the earliest). Tools read their inputs twice (a stream on stdin is
//! spooled to a temporary file first, see `flowkit_cli::spool_stdin`).
//!
//! The logic, thresholds and scores of every detector are explained in `docs/hunting.md`.

pub mod beacon;
pub mod ddos;
pub mod exfil;
pub mod irc_after_ssh;
pub mod output;
pub mod scan;
pub mod ssh;
pub mod ssh_bruteforce;
mod suppress;

#[cfg(test)]
mod count_tests;
#[cfg(test)]
mod tests;

pub use suppress::{Suppress, SuppressError};

use crate::analyze::keys::{addr_key, human, human_ms, key_addr, AddrKey, FastMap, FastSet};
use crate::model::block::{ColumnSet, FlowBlock, FlowBlockBuf};
use crate::model::record::FlowRecord;
use serde::Serialize;
use std::collections::BinaryHeap;
use std::net::IpAddr;

/// TCP flag bits as NetFlow carries them.
pub mod tcp {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// IP protocol numbers the detectors care about.
pub mod proto {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
}

/// A bad detector setting (a port list, a threshold).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// A set of ports, e.g. the IRC ports `6660-6669,6697,7000`.
#[derive(Clone)]
pub struct PortSet {
    bits: Box<[u64; 1024]>,
    text: String,
}

impl PortSet {
    /// Parses a list of ports and ranges: `22`, `6660-6669,6697,7000`.
    pub fn parse(text: &str) -> Result<PortSet, ConfigError> {
        let mut bits = Box::new([0u64; 1024]);
        let bad = |what: &str| {
            ConfigError(format!(
                "bad port list {text:?}: {what} (use e.g. 22 or 6660-6669,6697,7000)"
            ))
        };
        let mut any = false;
        for part in text.split(',').map(str::trim) {
            let (lo, hi) = match part.split_once('-') {
                Some((a, b)) => (a.trim(), b.trim()),
                None => (part, part),
            };
            let lo: u16 = lo.parse().map_err(|_| bad(&format!("{part:?}")))?;
            let hi: u16 = hi.parse().map_err(|_| bad(&format!("{part:?}")))?;
            if lo > hi {
                return Err(bad(&format!("{part:?} runs backwards")));
            }
            for p in lo..=hi {
                bits[p as usize >> 6] |= 1 << (p & 63);
            }
            any = true;
        }
        if !any {
            return Err(bad("empty"));
        }
        Ok(PortSet {
            bits,
            text: text.to_string(),
        })
    }

    /// True when `port` is in the set.
    #[inline]
    pub fn contains(&self, port: u16) -> bool {
        self.bits[port as usize >> 6] & (1 << (port & 63)) != 0
    }
}

impl std::fmt::Display for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PortSet({})", self.text)
    }
}

/// One flow shown as evidence of a finding, with what it is evidence of.
#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    /// What the flow is: `ssh-session`, `irc`, `attempt`, `probe`, `answer`, ...
    pub role: &'static str,
    /// The flow as read.
    pub flow: FlowRecord,
}

/// One finding: a host (and maybe its peer) that a detector flags, with a score to rank by,
/// what it found in words and as data, and the evidence flows.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// 1 for the highest score (set by [`rank`]).
    pub rank: usize,
    /// The detector that found it (`irc-after-ssh`, `ssh-bruteforce`, `scan`).
    pub detector: &'static str,
    /// What kind of finding (e.g. `horizontal`, `vertical`, `source`, `success`).
    pub kind: &'static str,
    /// Strength of the finding; findings are ranked by it (see docs/hunting.md).
    pub score: f64,
    /// The host the finding is about (the compromised host, the scanner, the attacker ...).
    pub subject: IpAddr,
    /// The other side, when there is one (the SSH client, the scanned host, the target ...).
    pub peer: Option<IpAddr>,
    /// Start of the first flow behind the finding (UTC ms).
    pub first_ms: i64,
    /// End of the last flow behind the finding (UTC ms).
    pub last_ms: i64,
    /// One or two sentences an analyst reads first.
    pub summary: String,
    /// The numbers behind the finding, by name.
    pub facts: serde_json::Map<String, serde_json::Value>,
    /// Evidence flows, by start time.
    pub evidence: Vec<Evidence>,
    /// Evidence flows left out beyond the limit.
    pub evidence_omitted: u64,
}

/// Sorts findings by score (highest first; ties by time, then subject) and numbers them.
pub fn rank(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.first_ms.cmp(&b.first_ms))
            .then(a.subject.cmp(&b.subject))
            .then(a.peer.cmp(&b.peer))
    });
    for (i, f) in findings.iter_mut().enumerate() {
        f.rank = i + 1;
    }
}

/// A detector: aggregates in a first pass, decides its findings, collects their evidence in a
/// second pass over the same flows.
pub trait Detector {
    /// The detector's name as `flow-hunt` takes it.
    fn name(&self) -> &'static str;
    /// The columns the first pass reads.
    fn columns(&self) -> ColumnSet;
    /// First pass: aggregates a block of flows.
    fn observe(&mut self, block: &FlowBlock<'_>);
    /// Between the passes: decides which keys are findings.
    fn plan(&mut self);
    /// Second pass: keeps the evidence flows of the findings (every column is present).
    fn collect(&mut self, block: &FlowBlock<'_>);
    /// The findings, unranked.
    fn findings(&mut self) -> Vec<Finding>;
}

/// Runs a detector over blocks held in memory (both passes); returns ranked findings.
/// Tools scan their inputs instead; this is for tests and library users.
pub fn run_on_blocks(detector: &mut dyn Detector, blocks: &[FlowBlock<'_>]) -> Vec<Finding> {
    for b in blocks {
        detector.observe(b);
    }
    detector.plan();
    for b in blocks {
        detector.collect(b);
    }
    let mut f = detector.findings();
    rank(&mut f);
    f
}

/// Flows of a finding kept as evidence: the earliest `cap` by start time, and a count of all.
#[derive(Clone, Debug)]
pub struct EvidenceBin {
    cap: usize,
    seq: u64,
    heap: BinaryHeap<Held>,
    pinned: Vec<Evidence>,
    /// Flows offered.
    pub total: u64,
}

#[derive(Clone, Debug)]
struct Held {
    start: i64,
    seq: u64,
    ev: Evidence,
}

impl PartialEq for Held {
    fn eq(&self, o: &Self) -> bool {
        (self.start, self.seq) == (o.start, o.seq)
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
        (self.start, self.seq).cmp(&(o.start, o.seq))
    }
}

impl EvidenceBin {
    /// A bin keeping at most `cap` flows.
    pub fn new(cap: usize) -> EvidenceBin {
        EvidenceBin {
            cap,
            seq: 0,
            heap: BinaryHeap::new(),
            pinned: Vec::new(),
            total: 0,
        }
    }

    /// Offers row `i` of `b` (every column present) as evidence of kind `role`.
    pub fn offer(&mut self, role: &'static str, b: &FlowBlock<'_>, i: usize) {
        self.offer_with(b.start_ms[i], || Evidence {
            role,
            flow: b.get(i),
        });
    }

    /// Keeps row `i` of `b` whatever its time (up to `cap` such flows): the flows a finding
    /// is about (a session, an answer to a scan) besides the earliest ones.
    pub fn pin(&mut self, role: &'static str, b: &FlowBlock<'_>, i: usize) {
        if self.pinned.len() < self.cap {
            self.pinned.push(Evidence {
                role,
                flow: b.get(i),
            });
        } else {
            self.total += 1;
        }
    }

    /// Like [`EvidenceBin::pin`], for a flow already materialised.
    pub fn pin_evidence(&mut self, ev: Evidence) {
        if self.pinned.len() < self.cap {
            self.pinned.push(ev);
        } else {
            self.total += 1;
        }
    }

    /// Offers a flow already materialised.
    pub fn push(&mut self, ev: Evidence) {
        self.offer_with(ev.flow.start_ms, || ev);
    }

    fn offer_with(&mut self, start: i64, make: impl FnOnce() -> Evidence) {
        self.total += 1;
        if self.heap.len() >= self.cap {
            match self.heap.peek() {
                Some(top) if top.start > start => {}
                _ => return,
            }
        }
        self.seq += 1;
        self.heap.push(Held {
            start,
            seq: self.seq,
            ev: make(),
        });
        if self.heap.len() > self.cap {
            self.heap.pop();
        }
    }

    /// The flows kept, by start time, and how many were left out.
    pub fn into_sorted(self) -> (Vec<Evidence>, u64) {
        let kept = self.heap.into_sorted_vec();
        let omitted = self.total - kept.len() as u64;
        let mut all: Vec<Evidence> = kept.into_iter().map(|h| h.ev).collect();
        all.extend(self.pinned);
        all.sort_by_key(|e| (e.flow.start_ms, e.flow.end_ms));
        (all, omitted)
    }
}

/// Narrows blocks before a detector sees them: the `-F` filter (known-good traffic out) and
/// the suppress lists.
#[derive(Default)]
pub struct Narrowing {
    /// The compiled `-F` definition, if any.
    pub filter: Option<crate::filter::CompiledFilter>,
    /// Flows from or to these are ignored.
    pub suppress: Suppress,
    rows: Vec<bool>,
    buf: FlowBlockBuf,
}

impl Narrowing {
    /// A narrowing by `filter` and `suppress`.
    pub fn new(filter: Option<crate::filter::CompiledFilter>, suppress: Suppress) -> Narrowing {
        Narrowing {
            filter,
            suppress,
            ..Narrowing::default()
        }
    }

    /// The columns the narrowing reads.
    pub fn columns(&self) -> ColumnSet {
        let mut set = self.suppress.columns();
        if let Some(f) = &self.filter {
            set = set.union(ColumnSet::of(&f.columns()));
        }
        set
    }

    /// Calls `f` with the flows of `b` that pass (all of `b` when nothing is left out).
    pub fn apply(&mut self, b: &FlowBlock<'_>, f: &mut dyn FnMut(&FlowBlock<'_>)) {
        if self.filter.is_none() && self.suppress.is_empty() {
            return f(b);
        }
        self.rows.clear();
        let kept = match &self.filter {
            Some(flt) => flt.select(b, &mut self.rows),
            None => {
                self.rows.resize(b.len, true);
                b.len
            }
        };
        let kept = kept - self.suppress.clear_suppressed(b, &mut self.rows);
        if kept == b.len {
            return f(b);
        }
        if kept == 0 {
            return;
        }
        self.buf.clear();
        self.buf.extend_selected(b, &self.rows);
        f(&self.buf.view());
    }
}

/// A UTC time for the facts of a finding (RFC 3339, milliseconds); the reports rewrite these in
/// the display zone ([`output`]).
pub fn utc(ms: i64) -> String {
    crate::time::iso(ms, &jiff::tz::TimeZone::UTC)
}

/// `addr:port` (IPv6 addresses in brackets).
pub fn endpoint(a: IpAddr, port: u16) -> String {
    match a {
        IpAddr::V4(_) => format!("{a}:{port}"),
        IpAddr::V6(_) => format!("[{a}]:{port}"),
    }
}
