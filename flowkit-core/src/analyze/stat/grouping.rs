//! How [`super::group::GroupBy`] accumulates its groups: in shards by a hash of the key, one
//! set of tables per shard ([`Partial`]) and one shard per worker thread, so no group is in two
//! shards and memory stays bounded by the groups. A batch of blocks is added in two phases: the
//! threads compute every row's key, hash and shard, block by block, and list each block's rows
//! per shard ([`Prepared`]); then each thread adds the rows of its own shard (with one thread,
//! one shard, the same two phases).
//!
//! A group whose key values are narrow is keyed by the values packed into one integer (a `u64`
//! or `u128`, as the keys' widths need: an IPv4 address takes 32 bits, a port 16, a protocol 8);
//! an IPv6 address does not pack, and its group is keyed by the general array of 128-bit
//! values. Packed groups are in a [`PackedTable`] (one cache line a group, slots prefetched
//! rows ahead), the others in a hash map. Which one a group is in depends only on its values,
//! so no group is in both, and the packing keeps the order of the values (the first key in the
//! highest bits), so groups rank as their values compare.

use super::group::{bin_start, part, GroupKey, Part, MAX_KEYS};
use super::measure::{DistinctValues, Tally};
use super::table::{hash_bits, shard_of, PackedKey, PackedTable};
use super::Totals;
use crate::analyze::keys::{addr_key, FastMap};
use crate::model::block::{AddrColumn, ColumnId, FlowBlock};
use crate::model::counts::{volume, CountNote};

/// How the key values pack into one integer: each key's width in bits, first key highest.
#[derive(Clone, Debug)]
pub(super) struct Layout {
    widths: [u32; MAX_KEYS],
    addr: [bool; MAX_KEYS],
    n: usize,
    /// Total bits (0: the keys do not pack).
    bits: u32,
}

impl Layout {
    /// The packing of `keys`.
    pub(super) fn new(keys: &[GroupKey]) -> Layout {
        let mut l = Layout {
            widths: [0; MAX_KEYS],
            addr: [false; MAX_KEYS],
            n: keys.len(),
            bits: 0,
        };
        for (j, k) in keys.iter().enumerate() {
            match (k.bin_ms > 0).then_some(64).or(width(k.field.column)) {
                Some(w) => {
                    l.widths[j] = w;
                    l.addr[j] = is_addr(k.field.column);
                    l.bits += w;
                }
                None => {
                    l.bits = 0;
                    return l;
                }
            }
        }
        if l.bits > 128 {
            l.bits = 0;
        }
        l
    }

    /// The key values of a packed key, as the general path has them.
    pub(super) fn unpack(&self, mut v: u128) -> [Part; MAX_KEYS] {
        let mut out = [0; MAX_KEYS];
        for j in (0..self.n).rev() {
            let w = self.widths[j];
            let x = v & ((1u128 << w) - 1);
            v >>= w;
            out[j] = if self.addr[j] {
                0xffff_0000_0000 | x
            } else {
                x
            };
        }
        out
    }
}

fn is_addr(c: ColumnId) -> bool {
    matches!(
        c,
        ColumnId::SrcAddr | ColumnId::DstAddr | ColumnId::NextHop | ColumnId::Exporter
    )
}

/// Bits a key's value takes packed: addresses 32 (IPv4 only), the others their column's width.
fn width(c: ColumnId) -> Option<u32> {
    use ColumnId::*;
    Some(match c {
        SrcAddr | DstAddr | NextHop | Exporter => 32,
        SrcPort | DstPort => 16,
        Protocol | TcpFlags | Tos | SrcMask | DstMask | EngineType | EngineId => 8,
        InputIf | OutputIf | SrcAs | DstAs | SamplingInterval | SrcTag | DstTag => 32,
        _ => return None,
    })
}

/// The groups whose values pack, by packed key.
#[derive(Clone, Debug)]
enum PackedGroups {
    None,
    U64(PackedTable<u64>),
    U128(PackedTable<u128>),
}

/// The groups by their general key values, in arrays as long as the keys need: a fifth key
/// makes every key 16 bytes longer, so it is only used when given.
#[derive(Clone, Debug)]
enum WideGroups {
    UpToFour(FastMap<[Part; 4], Tally>),
    Five(FastMap<[Part; MAX_KEYS], Tally>),
}

/// A group's key as ranked: packed, or the general values.
#[derive(Clone, Copy, Debug)]
pub(super) enum GroupRef<'a> {
    /// Packed values, with their layout.
    Packed(u128, &'a Layout),
    /// The values.
    Wide(&'a [Part]),
}

impl GroupRef<'_> {
    /// The key values.
    pub(super) fn values(&self) -> [Part; MAX_KEYS] {
        match *self {
            GroupRef::Packed(v, l) => l.unpack(v),
            GroupRef::Wide(w) => {
                let mut out = [0; MAX_KEYS];
                out[..w.len()].copy_from_slice(w);
                out
            }
        }
    }
}

impl PartialEq for GroupRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for GroupRef<'_> {}

impl PartialOrd for GroupRef<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GroupRef<'_> {
    /// As the values compare, key by key (packing keeps their order).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (GroupRef::Packed(a, _), GroupRef::Packed(b, _)) => a.cmp(b),
            _ => self.values().cmp(&other.values()),
        }
    }
}

/// What every worker reads: the keys, the `--biflow` sides and the packing.
pub(super) struct Spec<'a> {
    /// The keys.
    pub keys: &'a [GroupKey],
    /// Positions of each source key and its destination key (`--biflow`).
    pub sides: &'a [(usize, usize)],
    /// The packing.
    pub layout: &'a Layout,
}

/// One shard's groups and counters.
#[derive(Clone, Debug)]
pub(super) struct Partial {
    packed: PackedGroups,
    wide: WideGroups,
    /// Distinct values per group (`--distinct`).
    pub distinct: Option<DistinctValues>,
    /// Everything counted since last taken.
    pub counted: Totals,
}

impl Partial {
    /// No groups yet.
    pub(super) fn new(spec: &Spec<'_>, distinct: Option<DistinctValues>) -> Partial {
        Partial {
            packed: match spec.layout.bits {
                0 => PackedGroups::None,
                1..=64 => PackedGroups::U64(PackedTable::default()),
                _ => PackedGroups::U128(PackedTable::default()),
            },
            wide: match spec.keys.len() {
                0..=4 => WideGroups::UpToFour(FastMap::default()),
                _ => WideGroups::Five(FastMap::default()),
            },
            distinct,
            counted: Totals::default(),
        }
    }

    /// Groups held.
    pub(super) fn len(&self) -> usize {
        let packed = match &self.packed {
            PackedGroups::None => 0,
            PackedGroups::U64(m) => m.len(),
            PackedGroups::U128(m) => m.len(),
        };
        packed
            + match &self.wide {
                WideGroups::UpToFour(m) => m.len(),
                WideGroups::Five(m) => m.len(),
            }
    }

    /// Calls `f` with every group.
    pub(super) fn each<'a>(&'a self, layout: &'a Layout, mut f: impl FnMut(GroupRef<'a>, &Tally)) {
        match &self.packed {
            PackedGroups::None => {}
            PackedGroups::U64(m) => m
                .iter()
                .for_each(|(k, t)| f(GroupRef::Packed(k.into(), layout), t)),
            PackedGroups::U128(m) => m
                .iter()
                .for_each(|(k, t)| f(GroupRef::Packed(k, layout), t)),
        }
        match &self.wide {
            WideGroups::UpToFour(m) => m
                .iter()
                .for_each(|(k, t)| f(GroupRef::Wide(&k[..layout.n]), t)),
            WideGroups::Five(m) => m.iter().for_each(|(k, t)| f(GroupRef::Wide(k), t)),
        }
    }

    /// Adds the rows of `b` that `prep` puts in shard `shard` (phase two of
    /// [`Prepared::fill`]).
    pub(super) fn add_shard(
        &mut self,
        shard: usize,
        spec: &Spec<'_>,
        b: &FlowBlock<'_>,
        prep: &Prepared,
    ) {
        let Some(rows) = prep.shards.get(shard) else {
            return;
        };
        let mut acc = Acc {
            spec,
            b,
            plain: prep.plain,
            raw: prep.counts.raw,
            distinct: &mut self.distinct,
            counted: &mut self.counted,
        };
        match &mut self.packed {
            PackedGroups::None => {}
            PackedGroups::U64(t) => acc.packed(t, &rows.narrow, rows),
            PackedGroups::U128(t) => acc.packed(t, &rows.bits, rows),
        }
        match &mut self.wide {
            WideGroups::UpToFour(w) => acc.wide(w, &rows.wide),
            WideGroups::Five(w) => acc.wide(w, &rows.wide),
        }
    }
}

/// Most shards.
pub(super) const MAX_SHARDS: usize = 0x7f;

/// Phase one of an accumulation: each row's packed key, its hash and its shard (a hash of its
/// key, so every group is in exactly one shard), computed for every block in parallel; in
/// phase two each worker adds the rows of its shard ([`Partial::add_shard`]).
#[derive(Clone, Debug, Default)]
pub(super) struct Prepared {
    /// The rows of each shard.
    shards: Vec<ShardRows>,
    /// How the block's packets and octets are counted.
    pub counts: CountNote,
    /// True when every row counts its packets and octets as exported (no reverse counters,
    /// nothing scaled): they are read as they are.
    plain: bool,
}

/// One block's rows of one shard.
#[derive(Clone, Debug, Default)]
struct ShardRows {
    /// Packed keys (in `narrow` when they take up to 64 bits, else in `bits`), their hashes
    /// and their rows.
    narrow: Vec<u64>,
    bits: Vec<u128>,
    hashes: Vec<u64>,
    rows: Vec<u32>,
    /// Rows keyed by the general values.
    wide: Vec<u32>,
}

impl Prepared {
    /// Computes the rows of `b` into `shards` shards (`cols` and `unpacked`: scratch).
    pub(super) fn fill(
        &mut self,
        spec: &Spec<'_>,
        b: &FlowBlock<'_>,
        shards: usize,
        raw: bool,
        scratch: &mut (Vec<Vec<u64>>, Vec<bool>),
    ) {
        let (cols, unpacked) = scratch;
        cols.resize(spec.keys.len(), Vec::new());
        self.counts = CountNote::new(raw);
        self.plain = self.counts.observe(b);
        self.shards.resize_with(shards, ShardRows::default);
        for s in &mut self.shards {
            s.narrow.clear();
            s.bits.clear();
            s.hashes.clear();
            s.rows.clear();
            s.wide.clear();
        }
        let packs = spec.layout.bits > 0;
        let narrow = spec.layout.bits <= 64;
        let any = !packs || extract(spec, b, cols, unpacked);
        let n = spec.keys.len();
        let general = |i: usize| !packs || (any && unpacked[i]);
        for i in 0..b.len {
            if general(i) {
                let mut k = [0; MAX_KEYS];
                for (slot, key) in k.iter_mut().zip(spec.keys) {
                    *slot = part(key, b, i);
                }
                fold(&mut k[..n], spec.sides);
                let h = k
                    .iter()
                    .fold(0, |h, &p| mix(h ^ p as u64 ^ (p >> 64) as u64));
                self.shards[(h % shards as u64) as usize]
                    .wide
                    .push(i as u32);
            } else {
                let bits = packed_bits(spec, cols, i);
                let h = hash_bits(bits);
                let s = &mut self.shards[shard_of(h, shards)];
                match narrow {
                    true => s.narrow.push(bits as u64),
                    false => s.bits.push(bits),
                }
                s.hashes.push(h);
                s.rows.push(i as u32);
            }
        }
    }
}

/// A multiplicative mix whose high bits decide a shard.
#[inline]
fn mix(x: u64) -> u64 {
    let m = (x as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((m >> 64) as u64 ^ m as u64) >> 7
}

/// Row `i`'s packed key (its values in `cols`, `--biflow` sides folded).
#[inline]
fn packed_bits(spec: &Spec<'_>, cols: &[Vec<u64>], i: usize) -> u128 {
    let mut k = [0u64; MAX_KEYS];
    for (slot, col) in k.iter_mut().zip(cols) {
        *slot = col[i];
    }
    let n = spec.keys.len();
    fold(&mut k[..n], spec.sides);
    let mut bits = 0u128;
    for (&v, &w) in k[..n].iter().zip(&spec.layout.widths) {
        bits = bits << w | v as u128;
    }
    bits
}

/// Fills `cols` with each key's packable value per row of `b` and `unpacked` with the rows
/// whose values do not pack (an IPv6 address); true when there is such a row.
fn extract(
    spec: &Spec<'_>,
    b: &FlowBlock<'_>,
    cols: &mut [Vec<u64>],
    unpacked: &mut Vec<bool>,
) -> bool {
    let mut any = false;
    for (key, col) in spec.keys.iter().zip(cols.iter_mut()) {
        col.clear();
        if key.bin_ms > 0 {
            let w = key.bin_ms;
            col.extend(b.start_ms.iter().map(|&s| bin_start(s, w) as u64));
            continue;
        }
        match b.addr_column(key.field.column) {
            Some(AddrColumn::V4(v)) => {
                let keep = u32::MAX.checked_shl(32 - key.prefix.0 as u32).unwrap_or(0);
                col.extend(v.iter().map(|&a| (a & keep) as u64));
            }
            Some(a @ AddrColumn::V6(_)) => {
                if !any {
                    unpacked.clear();
                    unpacked.resize(b.len, false);
                    any = true;
                }
                let keep = u32::MAX.checked_shl(32 - key.prefix.0 as u32).unwrap_or(0);
                for (i, u) in unpacked.iter_mut().enumerate() {
                    let k = addr_key(a, i);
                    match k >> 32 == 0xffff {
                        true => col.push((k as u32 & keep) as u64),
                        false => {
                            *u = true;
                            col.push(0);
                        }
                    }
                }
            }
            None => scalar(b, key.field.column, col),
        }
    }
    any
}

/// The values of the fixed-width column `column` of `b`, as `u64`.
fn scalar(b: &FlowBlock<'_>, column: ColumnId, out: &mut Vec<u64>) {
    macro_rules! pick {
        (scalars: [$(($sv:ident, $sid:expr, $sf:ident, $st:ty)),* $(,)?],
         addrs: [$($addrs:tt)*]) => {
            #[allow(unreachable_patterns)]
            match column {
                $(ColumnId::$sv => out.extend(b.$sf.iter().map(|&v| v as u64)),)*
                _ => out.resize(b.len, 0),
            }
        };
    }
    crate::with_flow_columns!(pick)
}

/// One block's accumulation into one shard, borrowed apart from the tables.
struct Acc<'s, 'b, 'p> {
    spec: &'s Spec<'s>,
    b: &'s FlowBlock<'b>,
    plain: bool,
    raw: bool,
    distinct: &'p mut Option<DistinctValues>,
    counted: &'p mut Totals,
}

/// How many rows ahead of the one added a slot is prefetched: enough for the misses of a table
/// in memory to overlap, few enough to be in cache still when the row comes (32 took 3% less
/// CPU than 12 on 30 M flows into 1.26 M groups; 4 and 24 to 40 were tried).
const AHEAD: usize = 32;

impl Acc<'_, '_, '_> {
    /// Adds row `i` to `tally`.
    #[inline]
    fn add(&mut self, tally: &mut Tally, i: usize) {
        let b = self.b;
        let (p, o) = match self.plain {
            true => (b.packets[i], b.octets[i]),
            false => volume(b, i, self.raw),
        };
        tally.add(p, o, b.start_ms[i], b.end_ms[i]);
        if let Some(d) = self.distinct.as_mut() {
            d.add(tally, b, i);
        }
        self.counted.add(p, o);
    }

    /// Adds the rows whose keys pack, prefetching the slots of the rows ahead.
    fn packed<K: PackedKey>(&mut self, table: &mut PackedTable<K>, keys: &[K], rows: &ShardRows) {
        for (j, ((&key, &h), &i)) in (keys.iter().zip(&rows.hashes)).zip(&rows.rows).enumerate() {
            if let Some(&ahead) = rows.hashes.get(j + AHEAD) {
                table.prefetch(ahead);
            }
            let tally = table.tally(key, h);
            self.add(tally, i as usize);
        }
    }

    /// Adds the rows keyed by the general values.
    fn wide<const N: usize>(&mut self, wide: &mut FastMap<[Part; N], Tally>, rows: &[u32]) {
        for &i in rows {
            let i = i as usize;
            let mut k = [0; N];
            for (slot, key) in k.iter_mut().zip(self.spec.keys) {
                *slot = part(key, self.b, i);
            }
            fold(&mut k[..self.spec.keys.len()], self.spec.sides);
            let tally = wide.entry(k).or_default();
            self.add(tally, i);
        }
    }
}

/// With `--biflow` sides: puts the lower end first (the source values, in key order, compared
/// with the destination ones).
#[inline]
fn fold<T: Ord + Copy>(k: &mut [T], sides: &[(usize, usize)]) {
    if sides.is_empty() {
        return;
    }
    let src = sides.iter().map(|&(s, _)| k[s]);
    let dst = sides.iter().map(|&(_, d)| k[d]);
    if dst.lt(src) {
        for &(s, d) in sides {
            k.swap(s, d);
        }
    }
}
