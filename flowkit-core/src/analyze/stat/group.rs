//! `flow-stat --top KEY,KEY...`: totals grouped by any combination of up to five fields of the
//! field table (nfdump's `-A srcip,dstport`), an address optionally cut to a prefix
//! (`srcaddr/24`; `srcaddr/24/64` cuts IPv4 at 24 bits and IPv6 at 64), with the measures of
//! [`super::measure`] per group; `--biflow` folds both directions of a conversation into one
//! group.
//!
//! As nfdump's aggregation does, every flow is counted under the values its record holds: a
//! port key groups ICMP flows under the port fields their exporter filled (the ICMP type and
//! code in the destination port). (The single keys `srcport` and `dstport` of [`super::TopN`]
//! count only TCP, UDP and SCTP flows.)

use super::grouping::{GroupRef, Layout, Partial, Prepared, Spec, MAX_SHARDS};
use super::measure::{self, DistinctValues, Measure, Measured, Threshold};
use super::Totals;
use crate::analyze::keys::{addr_key, key_addr};
use crate::model::block::{ColumnId, ColumnSet, FlowBlock};
use crate::model::counts::CountNote;
use crate::model::fields::{lookup, Field, FieldKind, FieldValue};

/// Most keys a group-by takes.
pub const MAX_KEYS: usize = 5;

/// One key of a group-by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupKey {
    /// The field grouped by.
    pub field: &'static Field,
    /// For an address: prefix lengths kept of IPv4 and IPv6 addresses (32 and 128: whole).
    pub prefix: (u8, u8),
    /// The key as the user wrote it (the CSV column's name).
    pub written: String,
    /// For the time bin of `--bin` with `--top`: the bin's width in ms (0: not a bin); the
    /// value is the start of the bin holding the flow's start.
    pub bin_ms: i64,
}

/// Reads `--top` keys: comma-separated field names (any name of the field table), `pair` for
/// `srcaddr,dstaddr`, an address with `/N` (both families) or `/N/M` (IPv4, IPv6).
pub fn parse_group_keys(list: &str) -> Result<Vec<GroupKey>, String> {
    let mut keys = Vec::new();
    for word in list.split(',').map(str::trim) {
        if matches!(word, "pair" | "addr-pair" | "srcdst") {
            for name in ["srcaddr", "dstaddr"] {
                keys.push(GroupKey {
                    field: lookup(name).expect("in the table"),
                    prefix: (32, 128),
                    written: name.to_string(),
                    bin_ms: 0,
                });
            }
            continue;
        }
        let mut parts = word.split('/');
        let name = parts.next().unwrap_or_default();
        let field = lookup(name).ok_or_else(|| {
            format!("{word:?}: not a field (docs/print-formats.md lists them), nor pair")
        })?;
        match field.kind {
            FieldKind::TimeMs => {
                return Err(format!("{word:?}: a time is not a group key (use --bin)"))
            }
            _ if matches!(
                field.column,
                ColumnId::Packets | ColumnId::Octets | ColumnId::RevPackets | ColumnId::RevOctets
            ) =>
            {
                return Err(format!(
                    "{word:?}: a counter is summed, not grouped by (use --by)"
                ))
            }
            _ => {}
        }
        let lens: Vec<&str> = parts.collect();
        let prefix = match (field.kind, lens.as_slice()) {
            (_, []) => (32, 128),
            (FieldKind::Addr, [n]) => (len(word, n, 32)?, len(word, n, 128)?),
            (FieldKind::Addr, [n, m]) => (len(word, n, 32)?, len(word, m, 128)?),
            (FieldKind::Addr, _) => return Err(format!("{word:?}: use ADDR/N or ADDR/N/M")),
            _ => return Err(format!("{word:?}: only addresses take a prefix length")),
        };
        let key = GroupKey {
            field,
            prefix,
            written: word.to_string(),
            bin_ms: 0,
        };
        if keys.iter().any(|k: &GroupKey| k.field == key.field) {
            return Err(format!("{word:?}: {} is a key already", field.name));
        }
        keys.push(key);
    }
    if keys.len() > MAX_KEYS {
        return Err(format!("at most {MAX_KEYS} keys, not {}", keys.len()));
    }
    Ok(keys)
}

/// A prefix length of at most `max` bits (`min(N, max)`: `/24` leaves IPv6 at 24 bits too).
fn len(word: &str, text: &str, max: u8) -> Result<u8, String> {
    let n: u8 = text
        .parse()
        .map_err(|_| format!("{word:?}: {text:?} is not a prefix length"))?;
    match n {
        0..=128 => Ok(n.min(max)),
        _ => Err(format!("{word:?}: prefix length {n} is above 128")),
    }
}

/// The value of one key for one flow, as a number (addresses as IPv6 numbers, IPv4 mapped).
pub(super) type Part = u128;

/// The fields that come as a source and a destination side, for `--biflow`.
const SIDES: [(ColumnId, ColumnId); 6] = [
    (ColumnId::SrcAddr, ColumnId::DstAddr),
    (ColumnId::SrcPort, ColumnId::DstPort),
    (ColumnId::SrcAs, ColumnId::DstAs),
    (ColumnId::InputIf, ColumnId::OutputIf),
    (ColumnId::SrcMask, ColumnId::DstMask),
    (ColumnId::SrcTag, ColumnId::DstTag),
];

/// Totals per combination of key values.
#[derive(Clone, Debug)]
pub struct GroupBy {
    keys: Vec<GroupKey>,
    layout: Layout,
    /// The groups, in shards with no group in two.
    parts: Vec<Partial>,
    /// Phase one of a sharded batch, block by block (kept for the next batch).
    prepared: Vec<Prepared>,
    /// With `--biflow`: the positions of each source key and its destination key.
    sides: Vec<(usize, usize)>,
    distinct: Option<DistinctValues>,
    min: Vec<Threshold>,
    /// Everything counted.
    pub counted: Totals,
    /// How packets and octets were counted (scaled by sampling, biflows).
    pub counts: CountNote,
}

impl GroupBy {
    /// Totals by `keys` (from [`parse_group_keys`]).
    pub fn new(keys: Vec<GroupKey>) -> GroupBy {
        GroupBy {
            layout: Layout::new(&keys),
            parts: Vec::new(),
            prepared: Vec::new(),
            keys,
            sides: Vec::new(),
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

    /// Folds A -> B and B -> A into one group (`--biflow`): every key with a source and a
    /// destination side (addresses, ports, AS, interfaces, masks, tags) needs its other side
    /// among the keys, with the same prefix; a group is keyed with the lower end first (the
    /// source-side values, in key order, compared as numbers with the destination-side ones).
    pub fn fold_directions(mut self) -> Result<Self, String> {
        let position = |c: ColumnId| self.keys.iter().position(|k| k.field.column == c);
        let mut sides = Vec::new();
        for (src, dst) in SIDES {
            match (position(src), position(dst)) {
                (None, None) => {}
                (Some(s), Some(d)) if self.keys[s].prefix != self.keys[d].prefix => {
                    return Err(format!(
                        "--biflow: {} and {} need the same prefix length",
                        self.keys[s].written, self.keys[d].written
                    ))
                }
                (Some(s), Some(d)) => sides.push((s, d)),
                (Some(k), None) | (None, Some(k)) => {
                    return Err(format!(
                        "--biflow: {} needs its other side among the keys",
                        self.keys[k].written
                    ))
                }
            }
        }
        if sides.is_empty() {
            return Err(
                "--biflow folds key pairs (srcaddr,dstaddr; srcport,dstport; srcas,dstas; \
                        input,output...): give both sides of one"
                    .into(),
            );
        }
        self.sides = sides;
        Ok(self)
    }

    /// Groups per time bin `width_ms` wide (by flow start; `--bin` with `--top`): the bin is
    /// a key before the others, so at most four others. Rank with [`GroupBy::top_per_bin`].
    pub fn per_bin(mut self, width_ms: i64) -> Result<Self, String> {
        if self.keys.len() >= MAX_KEYS {
            return Err(format!(
                "--bin with --top takes at most {} keys",
                MAX_KEYS - 1
            ));
        }
        let field = lookup("start_ms").expect("in the table");
        self.keys.insert(
            0,
            GroupKey {
                field,
                prefix: (32, 128),
                written: "bin".into(),
                bin_ms: width_ms.max(1),
            },
        );
        for (s, d) in &mut self.sides {
            *s += 1;
            *d += 1;
        }
        self.layout = Layout::new(&self.keys);
        Ok(self)
    }

    /// True when grouped per time bin ([`GroupBy::per_bin`]).
    pub fn binned(&self) -> bool {
        self.keys.first().is_some_and(|k| k.bin_ms > 0)
    }

    /// Also counts each group's distinct values of a field (`--distinct`).
    pub fn count_distinct(mut self, distinct: DistinctValues) -> Self {
        self.distinct = Some(distinct);
        self
    }

    /// Lists only groups meeting every threshold (`--min`).
    pub fn at_least(mut self, min: Vec<Threshold>) -> Self {
        self.min = min;
        self
    }

    /// The keys.
    pub fn keys(&self) -> &[GroupKey] {
        &self.keys
    }

    /// The `--distinct` column's name, if one is counted.
    pub fn distinct_column(&self) -> Option<String> {
        self.distinct.as_ref().map(DistinctValues::column_name)
    }

    /// The columns [`GroupBy::observe`] reads.
    pub fn columns(&self) -> ColumnSet {
        let set = super::total_columns().with(ColumnId::EndMs);
        let set = match &self.distinct {
            Some(d) => set.with(d.column()),
            None => set,
        };
        self.keys.iter().fold(set, |s, k| s.with(k.field.column))
    }

    /// Adds a block.
    pub fn observe(&mut self, b: &FlowBlock<'_>) {
        self.observe_batch(std::slice::from_ref(b));
    }

    /// Adds blocks. The groups are sharded by a hash of their key, one table per shard and as
    /// many shards as worker threads: the threads first compute every row's key, hash and
    /// shard (block by block), then each adds the rows of its shard, so no two threads hold the
    /// same group and nothing is merged.
    pub fn observe_batch(&mut self, blocks: &[FlowBlock<'_>]) {
        use rayon::prelude::*;
        let spec = Spec {
            keys: &self.keys,
            sides: &self.sides,
            layout: &self.layout,
        };
        let raw = self.counts.raw;
        if self.parts.is_empty() {
            let shards = rayon::current_num_threads().clamp(1, MAX_SHARDS);
            self.parts = (0..shards)
                .map(|_| Partial::new(&spec, self.distinct.clone()))
                .collect();
        }
        let shards = self.parts.len();
        if self.prepared.len() < blocks.len() {
            self.prepared.resize(blocks.len(), Prepared::default());
        }
        let prepared = &mut self.prepared[..blocks.len()];
        (prepared.par_iter_mut().zip(blocks.par_iter())).for_each_init(
            || (Vec::new(), Vec::new()),
            |scratch, (p, b)| p.fill(&spec, b, shards, raw, scratch),
        );
        let prepared = &self.prepared[..blocks.len()];
        (self.parts.par_iter_mut().enumerate()).for_each(|(s, part)| {
            for (p, b) in prepared.iter().zip(blocks) {
                part.add_shard(s, &spec, b, p);
            }
        });
        for p in prepared {
            self.counts.merge(&p.counts);
        }
        for p in &mut self.parts {
            let t = std::mem::take(&mut p.counted);
            self.counted.flows += t.flows;
            self.counted.packets += t.packets;
            self.counted.octets += t.octets;
        }
    }

    /// Distinct combinations seen.
    pub fn distinct(&self) -> usize {
        self.parts.iter().map(Partial::len).sum()
    }

    /// Per time bin, in time order: the `n` groups (all when `n` is 0) meeting the thresholds
    /// with the most `by`, ranked as [`GroupBy::top`] ranks; the keys without the bin.
    pub fn top_per_bin(&self, n: usize, by: Measure) -> Vec<BinTop> {
        let mut bins: std::collections::BTreeMap<i64, (usize, Totals, Vec<_>)> = Default::default();
        for part in &self.parts {
            let distinct = |t: &measure::Tally| part.distinct.as_ref().map_or(0, |d| d.count(t));
            part.each(&self.layout, |k, t| {
                let bin = bins.entry(k.values()[0] as u64 as i64).or_default();
                bin.0 += 1;
                bin.1.flows += t.totals.flows;
                bin.1.packets += t.totals.packets;
                bin.1.octets += t.totals.octets;
                let m = t.measured(distinct(t));
                if measure::passes(&m, &self.min) {
                    bin.2.push((k, m));
                }
            });
        }
        (bins.into_iter())
            .map(|(start_ms, (groups, counted, mut v))| {
                super::rank(&mut v, n, by);
                let rows = v.into_iter().map(|(k, t)| {
                    let texts = self.keys.iter().zip(k.values()).skip(1);
                    (texts.map(|(key, p)| text(key, p)).collect(), t)
                });
                BinTop {
                    start_ms,
                    groups,
                    counted,
                    rows: rows.collect(),
                }
            })
            .collect()
    }

    /// What a plot of the top `n` per bin draws: every group in the top `n` of some bin,
    /// ranked by its `by` summed over the bins, at most `max` of them; each with its `by` in
    /// every bin from the first to the last (0 where it had none). Labels are the key values
    /// joined by spaces.
    pub fn top_series(&self, n: usize, by: Measure, max: usize) -> TopSeries {
        let bin_ms = self.keys.first().map_or(1, |k| k.bin_ms.max(1));
        let bins = self.top_per_bin(0, by);
        let mut chosen: std::collections::HashSet<String> = Default::default();
        let mut values: std::collections::HashMap<String, std::collections::HashMap<i64, u64>> =
            Default::default();
        for bin in &bins {
            for (i, (k, m)) in bin.rows.iter().enumerate() {
                let label = k.join(" ");
                if n == 0 || i < n {
                    chosen.insert(label.clone());
                }
                values
                    .entry(label)
                    .or_default()
                    .insert(bin.start_ms, m.get(by));
            }
        }
        let mut ranked: Vec<(u64, String)> = chosen
            .into_iter()
            .map(|l| (values[&l].values().sum::<u64>(), l))
            .collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let in_top = ranked.len();
        let (first, last) = match (bins.first(), bins.last()) {
            (Some(a), Some(b)) => (a.start_ms, b.start_ms),
            _ => (0, -1),
        };
        let starts: Vec<i64> = (0..)
            .map(|i| first + i * bin_ms)
            .take_while(|t| *t <= last)
            .collect();
        let series = (ranked.into_iter().take(max))
            .map(|(_, label)| {
                let v = &values[&label];
                let points = starts.iter().map(|t| (*t, v.get(t).copied().unwrap_or(0)));
                (label, points.collect())
            })
            .collect();
        TopSeries {
            bin_ms,
            in_top,
            series,
        }
    }

    /// The `n` combinations (all when `n` is 0) meeting the thresholds with the most `by`;
    /// ties: more flows, then the lower values. Each comes as one value per key.
    pub fn top(&self, n: usize, by: Measure) -> Vec<(Vec<KeyText>, Measured)> {
        let mut v: Vec<(GroupRef<'_>, Measured)> = Vec::with_capacity(self.distinct());
        for part in &self.parts {
            let distinct = |t: &measure::Tally| part.distinct.as_ref().map_or(0, |d| d.count(t));
            part.each(&self.layout, |k, t| {
                let m = t.measured(distinct(t));
                if measure::passes(&m, &self.min) {
                    v.push((k, m));
                }
            });
        }
        super::rank(&mut v, n, by);
        v.into_iter()
            .map(|(k, t)| {
                let texts = self
                    .keys
                    .iter()
                    .zip(k.values())
                    .map(|(key, p)| text(key, p));
                (texts.collect(), t)
            })
            .collect()
    }
}

impl GroupBy {
    /// Every group, thresholds not applied: its key values written out and its tally, for regrouping ([`super::geo_group`]).
    pub(super) fn each_text(&self, mut f: impl FnMut(Vec<KeyText>, &measure::Tally)) {
        for part in &self.parts {
            part.each(&self.layout, |k, t| {
                let texts = self
                    .keys
                    .iter()
                    .zip(k.values())
                    .map(|(key, p)| text(key, p));
                f(texts.collect(), t)
            });
        }
    }

    /// The `--min` thresholds.
    pub(super) fn thresholds(&self) -> &[Threshold] {
        &self.min
    }
}

/// A key value written out: an address (the network's, with a prefix), a protocol's name or
/// a number.
pub type KeyText = String;

/// The value of `key` in row `i` of `b` as a number (an address cut to the key's prefix).
pub(super) fn part(key: &GroupKey, b: &FlowBlock<'_>, i: usize) -> Part {
    if key.bin_ms > 0 {
        return bin_start(b.start_ms[i], key.bin_ms) as u64 as Part;
    }
    if let Some(col) = b.addr_column(key.field.column) {
        let a = addr_key(col, i);
        return match a >> 32 == 0xffff {
            true => {
                let keep = u32::MAX.checked_shl(32 - key.prefix.0 as u32).unwrap_or(0);
                0xffff_0000_0000 | (a as u32 & keep) as u128
            }
            false => {
                a & u128::MAX
                    .checked_shl(128 - key.prefix.1 as u32)
                    .unwrap_or(0)
            }
        };
    }
    match key.field.value(b, i) {
        FieldValue::Unsigned(v) => v as Part,
        FieldValue::Signed(v) => v as u64 as Part,
        FieldValue::Addr(_) => 0,
    }
}

/// The start of the bin `width_ms` wide holding `start_ms` (bins aligned to the epoch).
#[inline]
pub(super) fn bin_start(start_ms: i64, width_ms: i64) -> i64 {
    start_ms.div_euclid(width_ms) * width_ms
}

/// The top groups of one time bin ([`GroupBy::top_per_bin`]).
#[derive(Clone, Debug, PartialEq)]
pub struct BinTop {
    /// Start of the bin (UTC ms).
    pub start_ms: i64,
    /// Groups in the bin.
    pub groups: usize,
    /// Everything counted in the bin.
    pub counted: Totals,
    /// The top groups, as [`GroupBy::top`] has them (without the bin).
    pub rows: Vec<(Vec<KeyText>, Measured)>,
}

/// The lines of a top-N-per-bin plot ([`GroupBy::top_series`]).
#[derive(Clone, Debug)]
pub struct TopSeries {
    /// Width of a bin, ms.
    pub bin_ms: i64,
    /// Groups that were in some bin's top N (more than the series when capped).
    pub in_top: usize,
    /// Label and `(bin start, value)` of each line drawn, largest total first.
    pub series: Vec<(String, Vec<(i64, u64)>)>,
}

fn text(key: &GroupKey, p: Part) -> KeyText {
    match key.field.kind {
        FieldKind::Addr => key_addr(p).to_string(),
        k if k.is_text() => k.text(p as u64).unwrap_or_default(),
        _ if key.field.column == ColumnId::Protocol => {
            super::KeyValue::Protocol(p as u8).to_string()
        }
        _ => p.to_string(),
    }
}
