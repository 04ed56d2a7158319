//! Evaluating compiled definitions over whole blocks, one column at a time.
//!
//! A compiled definition is an OR of AND-groups of typed [`Test`]s. Each test reads one column
//! (or two, for derived values such as duration) and clears the rows it rejects in a `bool` mask,
//! in tight loops the compiler vectorises. A group stops as soon as no row is left; later groups
//! only consider rows no earlier group selected.

use super::intervals::RangeSet;
pub(crate) use super::kernel::Test;
use crate::model::block::{AddrColumn, ColumnId, FlowBlock};
use rayon::prelude::*;

/// An 8-bit column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum U8Col {
    Protocol,
    Tos,
    TcpFlags,
    EngineType,
    EngineId,
    SrcMask,
    DstMask,
    EndReason,
}

/// A 16-bit column: ports (before and after NAPT) and VLAN ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PortCol {
    Src,
    Dst,
    XlateSrc,
    XlateDst,
    SrcVlan,
    DstVlan,
}

/// A 32-bit column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum U32Col {
    SrcAs,
    DstAs,
    InputIf,
    OutputIf,
    SrcTag,
    DstTag,
    MplsLabel1,
    MplsLabel2,
    MplsLabel3,
}

/// A 64-bit column: counters, MAC addresses, flow and application ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum U64Col {
    Packets,
    Octets,
    RevPackets,
    RevOctets,
    SrcMac,
    DstMac,
    FlowId,
    AppId,
}

impl U64Col {
    pub(crate) fn get<'a>(self, b: &FlowBlock<'a>) -> &'a [u64] {
        match self {
            U64Col::Packets => b.packets,
            U64Col::Octets => b.octets,
            U64Col::RevPackets => b.rev_packets,
            U64Col::RevOctets => b.rev_octets,
            U64Col::SrcMac => b.src_mac,
            U64Col::DstMac => b.dst_mac,
            U64Col::FlowId => b.flow_id,
            U64Col::AppId => b.app_id,
        }
    }

    pub(crate) fn id(self) -> ColumnId {
        match self {
            U64Col::Packets => ColumnId::Packets,
            U64Col::Octets => ColumnId::Octets,
            U64Col::RevPackets => ColumnId::RevPackets,
            U64Col::RevOctets => ColumnId::RevOctets,
            U64Col::SrcMac => ColumnId::SrcMac,
            U64Col::DstMac => ColumnId::DstMac,
            U64Col::FlowId => ColumnId::FlowId,
            U64Col::AppId => ColumnId::AppId,
        }
    }
}

/// An address column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddrCol {
    Src,
    Dst,
    NextHop,
    Exporter,
    XlateSrc,
    XlateDst,
}

/// Which end of the flow a time test reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeCol {
    Start,
    End,
}

/// Packets or bits per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RateKind {
    Pps,
    Bps,
}

/// What nfdump derives from a flow in whole numbers (its filter's `duration`, `pps`, `bps`,
/// `bpp`): from the forward direction's counters with sampling undone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DerivedKind {
    /// `end_ms - start_ms` as an unsigned number: a flow whose end precedes its start gets a
    /// huge duration, as in nfdump (flowkit's own `duration` is 0 then).
    Duration,
    /// `1000 * packets / duration_ms`, 0 for a zero duration.
    Pps,
    /// `8000 * octets / duration_ms`, 0 for a zero duration.
    Bps,
    /// `octets / packets`, 0 without packets.
    Bpp,
}

/// A counter with its flow's sampling undone (`sampling_interval` 0 and 1 mean unsampled).
#[inline]
pub(crate) fn unsampled(value: u64, sampling_interval: u32) -> u64 {
    value.saturating_mul(u64::from(sampling_interval.max(1)))
}

/// The value nfdump's filter derives (see [`DerivedKind`]) from the forward direction's
/// unsampled packets and octets and the flow's times.
#[inline]
pub(crate) fn derived(kind: DerivedKind, packets: u64, octets: u64, start: i64, end: i64) -> u64 {
    let per_ms = |x: u64, k: u128| match end.wrapping_sub(start) as u64 {
        0 => 0,
        d => (k * x as u128 / d as u128).min(u64::MAX as u128) as u64,
    };
    match kind {
        DerivedKind::Duration => end.wrapping_sub(start) as u64,
        DerivedKind::Pps => per_ms(packets, 1000),
        DerivedKind::Bps => per_ms(octets, 8000),
        DerivedKind::Bpp => octets.checked_div(packets).unwrap_or(0),
    }
}

impl U8Col {
    pub(crate) fn get<'a>(self, b: &FlowBlock<'a>) -> &'a [u8] {
        match self {
            U8Col::Protocol => b.protocol,
            U8Col::Tos => b.tos,
            U8Col::TcpFlags => b.tcp_flags,
            U8Col::EngineType => b.engine_type,
            U8Col::EngineId => b.engine_id,
            U8Col::SrcMask => b.src_mask,
            U8Col::DstMask => b.dst_mask,
            U8Col::EndReason => b.end_reason,
        }
    }

    pub(crate) fn id(self) -> ColumnId {
        match self {
            U8Col::Protocol => ColumnId::Protocol,
            U8Col::Tos => ColumnId::Tos,
            U8Col::TcpFlags => ColumnId::TcpFlags,
            U8Col::EngineType => ColumnId::EngineType,
            U8Col::EngineId => ColumnId::EngineId,
            U8Col::SrcMask => ColumnId::SrcMask,
            U8Col::DstMask => ColumnId::DstMask,
            U8Col::EndReason => ColumnId::EndReason,
        }
    }
}

impl PortCol {
    pub(crate) fn get<'a>(self, b: &FlowBlock<'a>) -> &'a [u16] {
        match self {
            PortCol::Src => b.src_port,
            PortCol::Dst => b.dst_port,
            PortCol::XlateSrc => b.xlate_src_port,
            PortCol::XlateDst => b.xlate_dst_port,
            PortCol::SrcVlan => b.src_vlan,
            PortCol::DstVlan => b.dst_vlan,
        }
    }
}

impl U32Col {
    pub(crate) fn get<'a>(self, b: &FlowBlock<'a>) -> &'a [u32] {
        match self {
            U32Col::SrcAs => b.src_as,
            U32Col::DstAs => b.dst_as,
            U32Col::InputIf => b.input_if,
            U32Col::OutputIf => b.output_if,
            U32Col::SrcTag => b.src_tag,
            U32Col::DstTag => b.dst_tag,
            U32Col::MplsLabel1 => b.mpls_label1,
            U32Col::MplsLabel2 => b.mpls_label2,
            U32Col::MplsLabel3 => b.mpls_label3,
        }
    }

    pub(crate) fn id(self) -> ColumnId {
        match self {
            U32Col::SrcAs => ColumnId::SrcAs,
            U32Col::DstAs => ColumnId::DstAs,
            U32Col::InputIf => ColumnId::InputIf,
            U32Col::OutputIf => ColumnId::OutputIf,
            U32Col::SrcTag => ColumnId::SrcTag,
            U32Col::DstTag => ColumnId::DstTag,
            U32Col::MplsLabel1 => ColumnId::MplsLabel1,
            U32Col::MplsLabel2 => ColumnId::MplsLabel2,
            U32Col::MplsLabel3 => ColumnId::MplsLabel3,
        }
    }
}

impl AddrCol {
    pub(crate) fn get<'a>(self, b: &FlowBlock<'a>) -> AddrColumn<'a> {
        match self {
            AddrCol::Src => b.src_addr,
            AddrCol::Dst => b.dst_addr,
            AddrCol::NextHop => b.next_hop,
            AddrCol::Exporter => b.exporter,
            AddrCol::XlateSrc => b.xlate_src_addr,
            AddrCol::XlateDst => b.xlate_dst_addr,
        }
    }

    pub(crate) fn id(self) -> ColumnId {
        match self {
            AddrCol::Src => ColumnId::SrcAddr,
            AddrCol::Dst => ColumnId::DstAddr,
            AddrCol::NextHop => ColumnId::NextHop,
            AddrCol::Exporter => ColumnId::Exporter,
            AddrCol::XlateSrc => ColumnId::XlateSrcAddr,
            AddrCol::XlateDst => ColumnId::XlateDstAddr,
        }
    }
}

impl TimeCol {
    pub(crate) fn get<'a>(self, b: &FlowBlock<'a>) -> &'a [i64] {
        match self {
            TimeCol::Start => b.start_ms,
            TimeCol::End => b.end_ms,
        }
    }

    pub(crate) fn id(self) -> ColumnId {
        match self {
            TimeCol::Start => ColumnId::StartMs,
            TimeCol::End => ColumnId::EndMs,
        }
    }
}

/// Order-preserving map of a signed time to an unsigned key.
#[inline]
pub(crate) fn time_key(ms: i64) -> u64 {
    (ms as u64) ^ (1 << 63)
}

/// Order-preserving map of a (non-NaN) real to an unsigned key.
#[inline]
pub(crate) fn f64_key(f: f64) -> u64 {
    let b = f.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// Duration in milliseconds as flowkit defines it (0 when the end precedes the start).
#[inline]
pub(crate) fn duration_ms(start: i64, end: i64) -> u64 {
    end.saturating_sub(start).max(0) as u64
}

/// Packets (or bits) per second as flow-tools computes them: 0 for a zero duration.
#[inline]
pub(crate) fn per_second(amount: f64, duration_ms: u64) -> f64 {
    if duration_ms == 0 {
        0.0
    } else {
        amount / (duration_ms as f64 / 1000.0)
    }
}

/// The deterministic stand-in for flow-tools' `rand()` in `random-sample`: a hash of the flow's
/// identity and counters, so the same flow always gets the same decision, in any order or thread.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sample_hash(
    start_ms: i64,
    end_ms: i64,
    src: [u8; 16],
    dst: [u8; 16],
    src_port: u16,
    dst_port: u16,
    protocol: u8,
    packets: u64,
    octets: u64,
) -> u64 {
    let mut buf = [0u8; 69];
    buf[0..8].copy_from_slice(&start_ms.to_le_bytes());
    buf[8..16].copy_from_slice(&end_ms.to_le_bytes());
    buf[16..32].copy_from_slice(&src);
    buf[32..48].copy_from_slice(&dst);
    buf[48..50].copy_from_slice(&src_port.to_le_bytes());
    buf[50..52].copy_from_slice(&dst_port.to_le_bytes());
    buf[52] = protocol;
    buf[53..61].copy_from_slice(&packets.to_le_bytes());
    buf[61..69].copy_from_slice(&octets.to_le_bytes());
    twox_hash::XxHash3_64::oneshot(&buf)
}

/// IPv4 addresses as a set: a few ranges, or a table indexed by the top 16 bits.
#[derive(Clone, Debug)]
pub(crate) enum V4Set {
    Ranges(RangeSet),
    Table(Box<V4Table>),
}

/// A directory on the top 16 bits over one flat array of low-16-bit ranges: the ranges of
/// top `t` are `ranges[starts[t]..starts[t + 1]]` (a whole /16 is the one range `0..=ffff`).
/// Flat, so that a lookup touches two adjacent directory words and one short run of a single
/// array: 100,000 scattered prefixes stay in cache (one allocation per /16 did not).
#[derive(Clone, Debug)]
pub(crate) struct V4Table {
    starts: Vec<u32>,
    ranges: Vec<(u16, u16)>,
}

impl V4Set {
    /// Builds the set from sorted disjoint ranges of IPv4 addresses.
    pub fn new(ranges: &[(u128, u128)]) -> V4Set {
        if ranges.len() <= 2 {
            return V4Set::Ranges(RangeSet::from_ranges(ranges, u32::MAX as u128));
        }
        let mut starts = Vec::with_capacity((1 << 16) + 1);
        let mut flat: Vec<(u16, u16)> = Vec::new();
        let mut next = 0usize; // first range not yet placed
        for top in 0..=0xffffu32 {
            starts.push(flat.len() as u32);
            let (lo, hi) = (top << 16, top << 16 | 0xffff);
            // Ranges are sorted and disjoint: those touching this /16 follow one another.
            while next < ranges.len() && (ranges[next].1 as u32) < lo {
                next += 1;
            }
            let mut i = next;
            while i < ranges.len() && (ranges[i].0 as u32) <= hi {
                let (a, b) = (ranges[i].0 as u32, ranges[i].1 as u32);
                flat.push(((a.max(lo) & 0xffff) as u16, (b.min(hi) & 0xffff) as u16));
                if b > hi {
                    break; // continues into the next /16
                }
                i += 1;
            }
            next = i;
        }
        starts.push(flat.len() as u32);
        V4Set::Table(Box::new(V4Table {
            starts,
            ranges: flat,
        }))
    }

    #[inline]
    fn contains(&self, a: u32) -> bool {
        match self {
            V4Set::Ranges(r) => r.contains(a as u64),
            V4Set::Table(t) => t.contains(a),
        }
    }
}

impl V4Table {
    #[inline]
    fn contains(&self, a: u32) -> bool {
        let top = (a >> 16) as usize;
        let c = &self.ranges[self.starts[top] as usize..self.starts[top + 1] as usize];
        let lo = (a & 0xffff) as u16;
        match c {
            [] => false,
            [(x, y)] => *x <= lo && lo <= *y,
            _ => {
                let i = c.partition_point(|r| r.0 <= lo);
                i > 0 && lo <= c[i - 1].1
            }
        }
    }
}

/// How an address test decides.
#[derive(Clone, Debug)]
pub(crate) enum AddrMatcher {
    /// Permitted ranges per family (IPv6 as sorted disjoint ranges); `few` lists the permitted
    /// addresses' Bloom keys when there are only a few (for skipping blocks, [`BlockPrune`]).
    Sets {
        v4: V4Set,
        v6: Vec<(u128, u128)>,
        few: Option<Vec<u128>>,
    },
    /// `ip-address-mask` with masks that are not prefixes: first matching line wins.
    MaskList {
        v4: Vec<(u32, u32, bool)>,
        v6: Vec<(u128, u128, bool)>,
        default: bool,
    },
}

impl AddrMatcher {
    #[inline]
    fn v4(&self, a: u32) -> bool {
        match self {
            AddrMatcher::Sets { v4, .. } => v4.contains(a),
            AddrMatcher::MaskList { v4, default, .. } => v4
                .iter()
                .find(|(net, mask, _)| a & mask == *net)
                .map_or(*default, |e| e.2),
        }
    }

    #[inline]
    fn v6(&self, a: u128) -> bool {
        match self {
            AddrMatcher::Sets { v6, .. } => {
                let i = v6.partition_point(|r| r.0 <= a);
                i > 0 && a <= v6[i - 1].1
            }
            AddrMatcher::MaskList { v6, default, .. } => v6
                .iter()
                .find(|(net, mask, _)| a & mask == *net)
                .map_or(*default, |e| e.2),
        }
    }

    pub(crate) fn and_into(&self, mask: &mut [bool], col: AddrColumn<'_>) {
        match col {
            AddrColumn::V4(c) => match self {
                AddrMatcher::Sets {
                    v4: V4Set::Ranges(r),
                    ..
                } => r.and_into(mask, c, u64::from),
                // A table or list lookup costs a few memory reads: only rows still in play
                // are looked up (an `or` group after a selective first group, or a second test
                // of a group, sees few of them). The table's loop is its own, with no choice
                // of matcher left inside it.
                AddrMatcher::Sets {
                    v4: V4Set::Table(t),
                    ..
                } => {
                    for (m, &a) in mask.iter_mut().zip(c) {
                        if *m {
                            *m = t.contains(a);
                        }
                    }
                }
                _ => {
                    for (m, &a) in mask.iter_mut().zip(c) {
                        if *m {
                            *m = self.v4(a);
                        }
                    }
                }
            },
            AddrColumn::V6(c) => match self {
                AddrMatcher::Sets {
                    v4: V4Set::Ranges(r),
                    v6,
                    ..
                } if v6.is_empty() => {
                    // Only IPv4 rows (stored IPv4-mapped, ::ffff:a.b.c.d) can pass: give the
                    // others a key outside every IPv4 range, then test keys in one tight loop.
                    let keys: Vec<u64> = c
                        .iter()
                        .map(|a| {
                            let k = u128::from_be_bytes(*a);
                            if k >> 32 == 0xffff {
                                k as u32 as u64
                            } else {
                                u64::MAX
                            }
                        })
                        .collect();
                    match r {
                        RangeSet::All => {
                            for (m, &k) in mask.iter_mut().zip(&keys) {
                                *m &= k != u64::MAX;
                            }
                        }
                        _ => r.and_into(mask, &keys, |k| k),
                    }
                }
                AddrMatcher::Sets { v4, v6, .. } => {
                    for (m, a) in mask.iter_mut().zip(c) {
                        if !*m {
                            continue;
                        }
                        let k = u128::from_be_bytes(*a);
                        *m = if k >> 32 == 0xffff {
                            v4.contains(k as u32)
                        } else {
                            let i = v6.partition_point(|r| r.0 <= k);
                            i > 0 && k <= v6[i - 1].1
                        };
                    }
                }
                AddrMatcher::MaskList { .. } => {
                    for (m, a) in mask.iter_mut().zip(c) {
                        if *m {
                            let k = u128::from_be_bytes(*a);
                            *m = if k >> 32 == 0xffff {
                                self.v4(k as u32)
                            } else {
                                self.v6(k)
                            };
                        }
                    }
                }
            },
        }
    }
}

/// A definition compiled for evaluation over blocks. Cheap to share between threads.
#[derive(Clone, Debug)]
pub struct CompiledFilter {
    pub(crate) name: String,
    /// AND-groups; an empty group passes every flow.
    pub(crate) groups: Vec<Vec<Test>>,
    pub(crate) invert: bool,
}

/// A test of a block's address Bloom filter (`archive::bloom`) that is false only when no flow
/// of the block can pass the filter: every AND-group of the definition has a match on the
/// source or destination address permitting only a few addresses, and none of them is in the
/// block. Derived only where that is certain (never for `invert`ed definitions).
#[derive(Clone, Debug)]
pub struct BlockPrune {
    /// Per group, the Bloom keys one of its address tests permits.
    groups: Vec<Vec<u128>>,
}

impl BlockPrune {
    /// False when the block whose filter is `bloom` holds no flow the filter passes.
    pub fn may_match(&self, bloom: &crate::archive::bloom::AddrBloom<'_>) -> bool {
        self.groups
            .iter()
            .any(|keys| keys.iter().any(|&k| bloom.may_contain_key(k)))
    }
}

impl CompiledFilter {
    /// The block test of this filter, when one can be derived (see [`BlockPrune`]).
    pub fn block_prune(&self) -> Option<BlockPrune> {
        if self.invert {
            return None;
        }
        let groups = self
            .groups
            .iter()
            .map(|tests| {
                tests
                    .iter()
                    .filter_map(|t| match t {
                        Test::Addr {
                            col: AddrCol::Src | AddrCol::Dst,
                            m: AddrMatcher::Sets { few: Some(k), .. },
                        } => Some(k),
                        _ => None,
                    })
                    .min_by_key(|k| k.len())
                    .cloned()
            })
            .collect::<Option<Vec<_>>>()?;
        Some(BlockPrune { groups })
    }
}

/// The rows of one block a filter selected.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// One entry per flow of the block.
    pub rows: Vec<bool>,
    /// How many are true.
    pub count: usize,
}

impl CompiledFilter {
    /// The filter passing what both `self` and `other` pass (`-F NAME -e EXPR`).
    pub fn and(self, other: CompiledFilter) -> CompiledFilter {
        let name = format!("{} and {}", self.name, other.name);
        let mut f = super::expr::all_of([self, other]);
        f.name = name;
        f
    }

    /// The definition's name as written in the file.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The columns the filter reads (a reader may skip the others).
    pub fn columns(&self) -> Vec<ColumnId> {
        let mut c: Vec<ColumnId> = self
            .groups
            .iter()
            .flatten()
            .flat_map(Test::columns)
            .collect();
        c.sort_by_key(|id| *id as u16);
        c.dedup();
        c
    }

    /// Sets `selected[i]` for every flow of `block` the definition permits; returns how many.
    pub fn select(&self, block: &FlowBlock<'_>, selected: &mut Vec<bool>) -> usize {
        let n = block.len;
        selected.clear();
        selected.resize(n, false);
        let mut group_mask: Vec<bool> = Vec::new();
        for (gi, tests) in self.groups.iter().enumerate() {
            let mask: &mut [bool] = if gi == 0 {
                selected.fill(true);
                selected
            } else {
                group_mask.clear();
                group_mask.extend(selected.iter().map(|s| !s));
                if !group_mask.contains(&true) {
                    break; // every flow already passed
                }
                &mut group_mask
            };
            for (ti, t) in tests.iter().enumerate() {
                t.and_into(block, mask);
                if ti + 1 < tests.len() && !mask.contains(&true) {
                    break;
                }
            }
            if gi > 0 {
                for (s, g) in selected.iter_mut().zip(&group_mask) {
                    *s |= *g;
                }
            }
        }
        if self.invert {
            selected.iter_mut().for_each(|s| *s = !*s);
        }
        selected.iter().filter(|&&s| s).count()
    }

    /// Selects the flows of every block, blocks in parallel; `out[i]` belongs to `blocks[i]`.
    /// Returns the total selected.
    pub fn select_batch(&self, blocks: &[FlowBlock<'_>], out: &mut Vec<Selection>) -> usize {
        out.resize_with(blocks.len(), Selection::default);
        out.truncate(blocks.len());
        blocks
            .par_iter()
            .zip(out.par_iter_mut())
            .map(|(b, s)| {
                s.count = self.select(b, &mut s.rows);
                s.count
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test of one port compares; the bit set it came from gives the same answer for every
    /// port value, and sets of none or several ports keep the bit lookup.
    #[test]
    fn a_single_port_test_agrees_with_its_bit_set() {
        let mut block = crate::model::block::FlowBlockBuf::default();
        for v in 0..=u16::MAX {
            block.push(&crate::model::record::FlowRecord {
                dst_port: v,
                ..Default::default()
            });
        }
        let view = block.view();
        for ports in [vec![], vec![0u16], vec![22], vec![65_535], vec![22, 80]] {
            let mut bits = Box::new([0u64; 1024]);
            for &p in &ports {
                bits[p as usize >> 6] |= 1 << (p & 63);
            }
            let fast = super::super::compile::port_test(PortCol::Dst, bits.clone());
            let Test::Port { only, .. } = &fast else {
                panic!("a port test");
            };
            assert_eq!(*only, (ports.len() == 1).then(|| ports[0]), "{ports:?}");
            let slow = Test::Port {
                col: PortCol::Dst,
                bits,
                only: None,
            };
            let (mut a, mut b) = (vec![true; view.len], vec![true; view.len]);
            fast.and_into(&view, &mut a);
            slow.and_into(&view, &mut b);
            assert_eq!(a, b, "{ports:?}");
            assert_eq!(a.iter().filter(|&&x| x).count(), ports.len());
        }
    }

    #[test]
    fn keys_keep_order() {
        let times = [i64::MIN, -1000, -1, 0, 1, 1_289_312_405_000, i64::MAX];
        assert!(times.windows(2).all(|w| time_key(w[0]) < time_key(w[1])));
        let reals = [-1e300, -2.5, -0.0, 0.5, 1.0, 3e10, f64::MAX];
        assert!(reals.windows(2).all(|w| f64_key(w[0]) < f64_key(w[1])));
    }

    #[test]
    fn v4_tables_agree_with_ranges() {
        let ranges: Vec<(u128, u128)> = vec![
            (0x0a00_0000, 0x0aff_ffff),
            (0xc0a8_0101, 0xc0a8_0101),
            (0xc0a8_01f0, 0xc0a8_0210),
            (0xffff_fff0, 0xffff_ffff),
        ];
        let set = V4Set::new(&ranges);
        assert!(matches!(set, V4Set::Table(_)));
        for a in [
            0u32,
            0x09ff_ffff,
            0x0a00_0000,
            0x0a12_3456,
            0x0aff_ffff,
            0x0b00_0000,
            0xc0a8_0100,
            0xc0a8_0101,
            0xc0a8_0102,
            0xc0a8_01ef,
            0xc0a8_01f0,
            0xc0a8_01ff,
            0xc0a8_0200,
            0xc0a8_0210,
            0xc0a8_0211,
            0xffff_ffef,
            0xffff_fff0,
            u32::MAX,
        ] {
            let want = ranges.iter().any(|&(x, y)| (x..=y).contains(&(a as u128)));
            assert_eq!(set.contains(a), want, "{a:#x}");
        }
    }
}
