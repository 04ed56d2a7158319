//! What flow-stat measures of a group (a top-N value or a group-by combination) besides its
//! flows, packets and octets: the time it spans, its rates (nfdump's `%td %bps %pps %bpp`), how
//! many distinct values of one field it saw; and the `--min` thresholds on any of them.
//!
//! The rates are computed as nfdump 1.7.1 prints them for an aggregated record: the duration is
//! the group's latest end minus its earliest start; bps is `octets × 8 / seconds` and pps
//! `packets / seconds`, both in floating point and cut to an integer, 0 when the duration is 0;
//! bpp is `octets / packets` in integer division, 0 without packets. The packets and octets are
//! the group's own (both directions of a biflow, scaled by sampling: [`crate::model::counts`]).
//! A group whose latest end is before its earliest start (records with end before start) has
//! duration 0, where nfdump wraps the difference round 2^64 ms; its rates are 0 in both.

use super::{Metric, Totals};
use crate::analyze::keys::FastSet;
use crate::model::block::FlowBlock;
use serde::Serialize;

/// What a group is ranked by (`--by`), shown with, or thresholded on (`--min`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    /// Number of flows.
    Flows,
    /// Packets.
    Packets,
    /// Octets.
    Octets,
    /// Milliseconds from the earliest start to the latest end.
    Duration,
    /// Bits per second over the duration.
    Bps,
    /// Packets per second over the duration.
    Pps,
    /// Octets per packet.
    Bpp,
    /// Distinct values of the `--distinct` field.
    Distinct,
}

impl Measure {
    /// The counter it is (flows, packets, octets), which time bins and summaries also have.
    pub fn metric(self) -> Option<Metric> {
        match self {
            Measure::Flows => Some(Metric::Flows),
            Measure::Packets => Some(Metric::Packets),
            Measure::Octets => Some(Metric::Octets),
            _ => None,
        }
    }

    /// True for the measures of the time a group spans: duration, bps, pps, bpp.
    pub fn is_timed(self) -> bool {
        matches!(
            self,
            Measure::Duration | Measure::Bps | Measure::Pps | Measure::Bpp
        )
    }
}

impl From<Metric> for Measure {
    fn from(m: Metric) -> Measure {
        match m {
            Metric::Flows => Measure::Flows,
            Metric::Packets => Measure::Packets,
            Metric::Octets => Measure::Octets,
        }
    }
}

impl std::str::FromStr for Measure {
    type Err = String;
    fn from_str(s: &str) -> Result<Measure, String> {
        Ok(match s {
            "flows" => Measure::Flows,
            "packets" => Measure::Packets,
            "octets" | "bytes" => Measure::Octets,
            "duration" => Measure::Duration,
            "bps" => Measure::Bps,
            "pps" => Measure::Pps,
            "bpp" => Measure::Bpp,
            "distinct" => Measure::Distinct,
            _ => {
                return Err(format!(
                    "{s:?}: use flows, packets, octets, duration, bps, pps, bpp or distinct"
                ))
            }
        })
    }
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Measure::Flows => "flows",
            Measure::Packets => "packets",
            Measure::Octets => "octets",
            Measure::Duration => "duration",
            Measure::Bps => "bps",
            Measure::Pps => "pps",
            Measure::Bpp => "bpp",
            Measure::Distinct => "distinct",
        })
    }
}

/// No distinct-value set (yet) for a tally.
const NO_SET: u32 = u32::MAX;

/// What a group has summed so far: its totals, the time it spans and (with `--distinct`) which
/// set of [`DistinctValues`] is its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    /// Flows, packets, octets.
    pub totals: Totals,
    /// Earliest start (UTC ms).
    pub first_ms: i64,
    /// Latest end (UTC ms).
    pub last_ms: i64,
    set: u32,
}

impl Default for Tally {
    fn default() -> Tally {
        Tally {
            totals: Totals::default(),
            first_ms: i64::MAX,
            last_ms: i64::MIN,
            set: NO_SET,
        }
    }
}

impl Tally {
    /// Adds one flow.
    #[inline]
    pub fn add(&mut self, packets: u64, octets: u64, start_ms: i64, end_ms: i64) {
        self.totals.add(packets, octets);
        self.first_ms = self.first_ms.min(start_ms);
        self.last_ms = self.last_ms.max(end_ms);
    }

    /// Adds another group's totals and time span (not its distinct values): for regrouping.
    pub fn absorb(&mut self, o: &Tally) {
        self.totals.flows += o.totals.flows;
        self.totals.packets += o.totals.packets;
        self.totals.octets += o.totals.octets;
        self.first_ms = self.first_ms.min(o.first_ms);
        self.last_ms = self.last_ms.max(o.last_ms);
    }

    /// Milliseconds from the earliest start to the latest end; 0 when the end is earlier.
    pub fn duration_ms(&self) -> u64 {
        self.last_ms.saturating_sub(self.first_ms).max(0) as u64
    }

    /// Every measure, with `distinct` values of the `--distinct` field (0 without one).
    pub fn measured(&self, distinct: u64) -> Measured {
        let t = self.totals;
        let duration_ms = self.duration_ms();
        Measured {
            totals: t,
            duration_ms,
            bps: per_second(t.octets.saturating_mul(8), duration_ms),
            pps: per_second(t.packets, duration_ms),
            bpp: t.octets.checked_div(t.packets).unwrap_or(0),
            distinct,
        }
    }
}

/// `count` per second over `duration_ms`, as nfdump computes it: `count / (ms / 1000.0)` in
/// floating point, cut to an integer; 0 for a zero duration.
fn per_second(count: u64, duration_ms: u64) -> u64 {
    if duration_ms == 0 {
        return 0;
    }
    (count as f64 / (duration_ms as f64 / 1000.0)) as u64
}

/// A group's measures, as reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Measured {
    /// Flows, packets, octets.
    pub totals: Totals,
    /// Milliseconds from the earliest start to the latest end.
    pub duration_ms: u64,
    /// Bits per second.
    pub bps: u64,
    /// Packets per second.
    pub pps: u64,
    /// Octets per packet.
    pub bpp: u64,
    /// Distinct values of the `--distinct` field (0 without one).
    pub distinct: u64,
}

impl Measured {
    /// The value of `measure`.
    pub fn get(&self, measure: Measure) -> u64 {
        match measure {
            Measure::Flows => self.totals.flows,
            Measure::Packets => self.totals.packets,
            Measure::Octets => self.totals.octets,
            Measure::Duration => self.duration_ms,
            Measure::Bps => self.bps,
            Measure::Pps => self.pps,
            Measure::Bpp => self.bpp,
            Measure::Distinct => self.distinct,
        }
    }
}

/// `--min MEASURE=VALUE`: a group is listed only when its `measure` is at least `value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threshold {
    /// What is compared.
    pub measure: Measure,
    /// The least value kept.
    pub value: u64,
}

impl std::str::FromStr for Threshold {
    type Err = String;
    /// `octets=1M`, `flows=10`, `bps=1.5k`: the value with an optional 1000-based suffix.
    fn from_str(s: &str) -> Result<Threshold, String> {
        let (name, value) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?}: use MEASURE=VALUE (octets=1M)"))?;
        Ok(Threshold {
            measure: name.trim().parse()?,
            value: parse_amount(value.trim())?,
        })
    }
}

/// True when `m` meets every threshold.
pub fn passes(m: &Measured, min: &[Threshold]) -> bool {
    min.iter().all(|t| m.get(t.measure) >= t.value)
}

/// A whole number with an optional 1000-based suffix: `k`/`K` (10^3), `M` (10^6), `G` (10^9),
/// `T` (10^12); a fraction is allowed where the result is whole (`1.5k`).
pub fn parse_amount(text: &str) -> Result<u64, String> {
    let bad = || format!("{text:?}: not an amount (digits, then k, M, G or T)");
    let (digits, scale) = match text.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => {
            let scale: u64 = match c {
                'k' | 'K' => 1_000,
                'M' => 1_000_000,
                'G' => 1_000_000_000,
                'T' => 1_000_000_000_000,
                _ => return Err(bad()),
            };
            (&text[..at], scale)
        }
        _ => (text, 1),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > 12 {
        return Err(bad());
    }
    let too_big = || format!("{text:?}: too large");
    let whole: u64 = whole.parse().map_err(|_| too_big())?;
    let mut value = whole.checked_mul(scale).ok_or_else(too_big)?;
    if !fraction.is_empty() {
        let denominator = 10u64.pow(fraction.len() as u32);
        let numerator: u64 = fraction.parse().map_err(|_| bad())?;
        let part = (numerator as u128) * (scale as u128);
        if !part.is_multiple_of(denominator as u128) {
            return Err(format!("{text:?}: not a whole number"));
        }
        value = value
            .checked_add((part / denominator as u128) as u64)
            .ok_or_else(too_big)?;
    }
    Ok(value)
}

/// `--distinct FIELD`: the distinct values of one field each group saw, counted exactly with
/// one hash set per group (memory grows with groups × distinct values).
#[derive(Clone, Debug)]
pub struct DistinctValues {
    key: super::group::GroupKey,
    sets: Vec<FastSet<u128>>,
}

impl DistinctValues {
    /// Counts the distinct values of the field `name` (any name of the field table).
    pub fn new(name: &str) -> Result<DistinctValues, String> {
        let field = crate::model::fields::lookup(name)
            .ok_or_else(|| format!("{name:?}: not a field (docs/print-formats.md lists them)"))?;
        Ok(DistinctValues {
            key: super::group::GroupKey {
                field,
                prefix: (32, 128),
                written: name.to_string(),
                bin_ms: 0,
            },
            sets: Vec::new(),
        })
    }

    /// The column's name: `distinct_` and the field as the user wrote it.
    pub fn column_name(&self) -> String {
        format!("distinct_{}", self.key.written)
    }

    /// The block column read.
    pub fn column(&self) -> crate::model::block::ColumnId {
        self.key.field.column
    }

    /// Adds row `i`'s value to the set of `tally`'s group.
    #[inline]
    pub fn add(&mut self, tally: &mut Tally, b: &FlowBlock<'_>, i: usize) {
        if tally.set == NO_SET {
            tally.set = self.sets.len() as u32;
            self.sets.push(FastSet::default());
        }
        let value = super::group::part(&self.key, b, i);
        self.sets[tally.set as usize].insert(value);
    }

    /// How many distinct values `tally`'s group saw.
    pub fn count(&self, tally: &Tally) -> u64 {
        self.sets
            .get(tally.set as usize)
            .map_or(0, |s| s.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_1000_based() {
        for (text, want) in [
            ("0", 0),
            ("10", 10),
            ("1k", 1_000),
            ("1K", 1_000),
            ("1M", 1_000_000),
            ("3G", 3_000_000_000),
            ("2T", 2_000_000_000_000),
            ("1.5k", 1_500),
            ("0.25M", 250_000),
        ] {
            assert_eq!(parse_amount(text), Ok(want), "{text}");
        }
        for text in [
            "",
            "k",
            "1m",
            "1.5",
            "1.0001k",
            "-1",
            "1e3",
            "1 k",
            "99999999999999999999",
        ] {
            assert!(parse_amount(text).is_err(), "{text}");
        }
    }

    #[test]
    fn thresholds_name_a_measure() {
        let t: Threshold = "octets=1M".parse().unwrap();
        assert_eq!((t.measure, t.value), (Measure::Octets, 1_000_000));
        let t: Threshold = "bytes=2k".parse().unwrap();
        assert_eq!((t.measure, t.value), (Measure::Octets, 2_000));
        assert!("weight=3".parse::<Threshold>().is_err());
        assert!("flows".parse::<Threshold>().is_err());
    }

    /// Rates as nfdump's String_bps/String_pps/String_bpp compute them (numbers from nfdump
    /// 1.7.1's output on testdata/nfdump/scenario-ipfix.nfcapd and softflowd-v5-sampled-lz4).
    #[test]
    fn rates_are_nfdumps() {
        let mut t = Tally::default();
        t.add(5, 1000, 1_289_268_004_351, 1_289_268_004_351 + 40_000);
        t.add(7, 938, 1_289_268_010_000, 1_289_268_067_999);
        let m = t.measured(0);
        // 72.167.161.47 port 21: 2 flows, 12 packets, 1938 octets, 63.648 s.
        assert_eq!((m.duration_ms, m.bps, m.pps, m.bpp), (63_648, 243, 0, 161));
        let mut t = Tally::default();
        t.add(10, 400, 0, 3_540);
        assert_eq!(t.measured(0).pps, 2);
        assert_eq!(t.measured(0).bps, 903);
        // Zero duration, no packets: zeros, not a division by zero.
        let mut t = Tally::default();
        t.add(0, 0, 5, 5);
        let m = t.measured(0);
        assert_eq!((m.duration_ms, m.bps, m.pps, m.bpp), (0, 0, 0, 0));
        // An end before the start is no duration (nfdump wraps it round 2^64).
        let mut t = Tally::default();
        t.add(1, 118, 1_000, 970);
        let m = t.measured(0);
        assert_eq!((m.duration_ms, m.bps, m.bpp), (0, 0, 118));
    }
}
