//! What a flow's packets and octets count: the estimate of the traffic (exported counts times
//! the sampling interval, both directions of an RFC 5103 biflow) or what the exporter sent.
//!
//! nfdump multiplies a sampled flow's counters by its sampling interval when it collects them
//! (packets × (interval + space) / interval, both directions) and adds a biflow's reverse
//! counters to every total; flowkit keeps the exported counters in the record
//! ([`crate::FlowRecord::packets`], `sampling_interval` beside them) and scales where it sums,
//! so `--raw-counts` can still show what was exported. [`CountNote`] tracks what was done to
//! the flows summed, for the line every report prints about it.

use crate::model::block::{ColumnId, ColumnSet, FlowBlock};
use serde_json::{json, Value};

/// The columns [`volume`] and [`CountNote::observe`] read besides packets and octets.
pub fn columns() -> ColumnSet {
    ColumnSet::of(&[
        ColumnId::Packets,
        ColumnId::Octets,
        ColumnId::RevPackets,
        ColumnId::RevOctets,
        ColumnId::SamplingInterval,
    ])
}

/// The factor row `i`'s counters are multiplied by: its sampling interval when it is over 1
/// and `raw` is false, else 1.
#[inline]
pub fn scale(b: &FlowBlock<'_>, i: usize, raw: bool) -> u64 {
    match b.sampling_interval[i] {
        n if n > 1 && !raw => n as u64,
        _ => 1,
    }
}

/// Packets and octets of row `i`, both directions (forward and RFC 5103 reverse), multiplied
/// by the sampling interval unless `raw`. Saturates rather than wrapping.
#[inline]
pub fn volume(b: &FlowBlock<'_>, i: usize, raw: bool) -> (u64, u64) {
    let k = scale(b, i, raw);
    (
        b.packets[i]
            .saturating_add(b.rev_packets[i])
            .saturating_mul(k),
        b.octets[i]
            .saturating_add(b.rev_octets[i])
            .saturating_mul(k),
    )
}

/// Forward and reverse packets and octets of row `i`, each multiplied by the sampling interval
/// unless `raw`: `(packets, octets, rev_packets, rev_octets)`.
#[inline]
pub fn directions(b: &FlowBlock<'_>, i: usize, raw: bool) -> (u64, u64, u64, u64) {
    let k = scale(b, i, raw);
    (
        b.packets[i].saturating_mul(k),
        b.octets[i].saturating_mul(k),
        b.rev_packets[i].saturating_mul(k),
        b.rev_octets[i].saturating_mul(k),
    )
}

/// How the flows of a report were counted, to say so beside its numbers: how many were
/// sampled (and at which intervals), whether they were scaled, how many were biflows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CountNote {
    /// Exported counts, not scaled (`--raw-counts`).
    pub raw: bool,
    /// Flows counted.
    pub flows: u64,
    /// Flows with a sampling interval over 1.
    pub sampled: u64,
    /// Smallest sampling interval over 1 seen (0 when none).
    pub min_interval: u32,
    /// Largest sampling interval seen.
    pub max_interval: u32,
    /// Flows with reverse (RFC 5103 biflow) packets or octets.
    pub biflows: u64,
}

impl CountNote {
    /// A note for counts that are scaled (`raw` false) or as exported.
    pub fn new(raw: bool) -> CountNote {
        CountNote {
            raw,
            ..CountNote::default()
        }
    }

    /// Adds the flows `other` noted (counted the same way).
    pub fn merge(&mut self, other: &CountNote) {
        self.flows += other.flows;
        self.sampled += other.sampled;
        self.biflows += other.biflows;
        self.min_interval = match (self.min_interval, other.min_interval) {
            (0, m) | (m, 0) => m,
            (a, b) => a.min(b),
        };
        self.max_interval = self.max_interval.max(other.max_interval);
    }

    /// Adds row `i` of `b`.
    #[inline]
    pub fn add(&mut self, b: &FlowBlock<'_>, i: usize) {
        self.flows += 1;
        self.add_interval(b.sampling_interval[i]);
        if b.rev_packets[i] | b.rev_octets[i] != 0 {
            self.biflows += 1;
        }
    }

    #[inline]
    fn add_interval(&mut self, n: u32) {
        if n > 1 {
            self.sampled += 1;
            self.min_interval = if self.min_interval == 0 {
                n
            } else {
                self.min_interval.min(n)
            };
            self.max_interval = self.max_interval.max(n);
        }
    }

    /// Adds every row of `b`; true when every row counts as exported (one-way, and unsampled
    /// or `raw`), so a caller may sum the plain columns.
    pub fn observe(&mut self, b: &FlowBlock<'_>) -> bool {
        self.flows += b.len as u64;
        // Whole-column passes (vectorised) first; rows only where something was sampled.
        let sampled = b.sampling_interval.iter().filter(|&&n| n > 1).count();
        if sampled > 0 {
            self.flows -= b.len as u64;
            for &n in b.sampling_interval.iter() {
                self.flows += 1;
                self.add_interval(n);
            }
        }
        let biflows = b
            .rev_packets
            .iter()
            .zip(b.rev_octets.iter())
            .filter(|(p, o)| **p | **o != 0)
            .count();
        self.biflows += biflows as u64;
        biflows == 0 && (sampled == 0 || self.raw)
    }

    /// Calls `f(row, packets, octets)` for every row of `b` with its counted volume
    /// ([`volume`]), and adds the rows to the note.
    #[inline]
    pub fn each_volume(&mut self, b: &FlowBlock<'_>, mut f: impl FnMut(usize, u64, u64)) {
        if self.observe(b) {
            for i in 0..b.len {
                f(i, b.packets[i], b.octets[i]);
            }
        } else {
            let raw = self.raw;
            for i in 0..b.len {
                let (p, o) = volume(b, i, raw);
                f(i, p, o);
            }
        }
    }

    /// True when the counts were multiplied by a sampling interval somewhere.
    pub fn scaled(&self) -> bool {
        !self.raw && self.sampled > 0
    }

    fn intervals(&self) -> String {
        if self.min_interval == self.max_interval {
            format!("1 in {}", self.max_interval)
        } else {
            format!("1 in {} to 1 in {}", self.min_interval, self.max_interval)
        }
    }

    /// Sentences on how the packets and octets were counted; none when every flow was
    /// unsampled and one-way (the counts are then simply what was exported).
    pub fn lines(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.sampled > 0 && !self.raw {
            v.push(format!(
                "packets and octets scaled by sampling interval ({}) for {} of {} flows; \
                 --raw-counts for exported values",
                self.intervals(),
                self.sampled,
                self.flows
            ));
        } else if self.sampled > 0 {
            v.push(format!(
                "packets and octets as exported (--raw-counts): {} of {} flows were sampled \
                 ({}), so the traffic was about that many times larger",
                self.sampled,
                self.flows,
                self.intervals()
            ));
        }
        if self.biflows > 0 {
            v.push(format!(
                "packets and octets include the reverse direction of {} biflows (RFC 5103), \
                 counted under the flow's own source and destination",
                self.biflows
            ));
        }
        v
    }

    /// The note as one CSV cell: `exported` when there is nothing to say, else the sentences.
    pub fn csv_cell(&self) -> String {
        let l = self.lines();
        if l.is_empty() {
            "exported".into()
        } else {
            l.join("; ")
        }
    }

    /// The note as JSON: `{"scaled", "raw", "sampled_flows", "sampling_interval_min",
    /// "sampling_interval_max", "biflows", "note"}`.
    pub fn json(&self) -> Value {
        json!({
            "scaled": self.scaled(),
            "raw": self.raw,
            "flows": self.flows,
            "sampled_flows": self.sampled,
            "sampling_interval_min": self.min_interval,
            "sampling_interval_max": self.max_interval,
            "biflows": self.biflows,
            "note": self.lines().join("; "),
        })
    }

    /// Writes each sentence as a `note:` line (nothing when there is nothing to say).
    pub fn write_text(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        for l in self.lines() {
            writeln!(out, "note: {l}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::block::FlowBlockBuf;
    use crate::FlowRecord;

    fn rec(p: u64, o: u64, rp: u64, ro: u64, n: u32) -> FlowRecord {
        FlowRecord {
            packets: p,
            octets: o,
            rev_packets: rp,
            rev_octets: ro,
            sampling_interval: n,
            ..FlowRecord::default()
        }
    }

    #[test]
    fn volumes_add_directions_and_scale_unless_raw() {
        let recs = [
            rec(3, 300, 0, 0, 0),
            rec(3, 300, 0, 0, 1),
            rec(2, 100, 1, 40, 10),
            rec(u64::MAX, 1, 1, 0, 2),
        ];
        let buf = FlowBlockBuf::from_records(&recs);
        let b = buf.view();
        assert_eq!(volume(&b, 0, false), (3, 300));
        assert_eq!(volume(&b, 1, false), (3, 300), "interval 1 is unsampled");
        assert_eq!(volume(&b, 2, false), (30, 1400));
        assert_eq!(volume(&b, 2, true), (3, 140));
        assert_eq!(directions(&b, 2, false), (20, 1000, 10, 400));
        assert_eq!(volume(&b, 3, false).0, u64::MAX, "saturates");
        let mut n = CountNote::new(false);
        assert!(!n.observe(&b));
        let mut by_rows = CountNote::new(false);
        for i in 0..b.len {
            by_rows.add(&b, i);
        }
        assert_eq!(by_rows, n);
        let mut seen = Vec::new();
        CountNote::new(true).each_volume(&b, |i, p, o| seen.push((i, p, o)));
        assert_eq!(seen[2], (2, 3, 140));
        let plain = FlowBlockBuf::from_records(&recs[..2]);
        let mut m = CountNote::new(false);
        assert!(m.observe(&plain.view()), "one-way, unsampled");
        assert_eq!(m.flows, 2);
        assert_eq!((n.flows, n.sampled, n.biflows), (4, 2, 2));
        assert_eq!((n.min_interval, n.max_interval), (2, 10));
        assert!(n.scaled());
        assert!(n.lines()[0].contains("(1 in 2 to 1 in 10) for 2 of 4 flows"));
        assert!(n.lines()[1].contains("reverse direction of 2 biflows"));
        n.raw = true;
        assert!(!n.scaled());
        assert!(n.lines()[0].starts_with("packets and octets as exported (--raw-counts)"));
        assert_eq!(CountNote::new(false).csv_cell(), "exported");
        assert!(CountNote::new(false).lines().is_empty());
    }
}
