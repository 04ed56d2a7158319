//! Compiling a definition: each `match` line becomes one typed [`Test`] over one column.
//!
//! Primitives are resolved into the set of values they permit, once: bucket lists into
//! lookup tables or bitsets, addresses into range sets (a top-16-bit directory for many IPv4
//! ranges), comparisons into ranges of the value's order. The winning-line rule of each type
//! (last line, first true line, longest prefix) is applied here by painting in the right order
//! (see [`intervals`](super::intervals)).

use super::ast::*;
use super::eval::*;
use super::intervals::{op_ranges, Painter, RangeSet};
use super::FilterFile;
use jiff::tz::TimeZone;
use std::net::IpAddr;

/// Settings that change what a filter means.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// The zone of `time` (time of day) and of `time-date` dates written without a zone.
    pub tz: TimeZone,
}

impl Default for CompileOptions {
    /// The process's zone (`TZ`), like flow-tools' localtime(); UTC when `TZ` names no zone
    /// (tools check it first with [`crate::time::zone`], an error there, and pass it here).
    fn default() -> Self {
        CompileOptions {
            tz: crate::time::zone(false).unwrap_or(TimeZone::UTC),
        }
    }
}

fn painter_for_buckets(p: &Primitive, max: u128) -> Painter {
    let mut painter = Painter::new(max);
    let masked = matches!(
        p.kind,
        Some(PrimitiveKind::IpTos | PrimitiveKind::IpTcpFlags)
    );
    for e in &p.entries {
        if let Value::Buckets { negate, ranges } = &e.value {
            let act = if *negate {
                e.action.flipped()
            } else {
                e.action
            };
            for &(lo, hi) in ranges {
                if masked {
                    for v in lo..=hi {
                        let m = (v & p.mask as u64) as u128;
                        painter.paint(m, m, act.permits());
                    }
                } else {
                    painter.paint(lo as u128, hi as u128, act.permits());
                }
            }
        }
    }
    painter
}

/// The values of an 8-bit field the primitive permits (masks applied).
fn u8_table(p: &Primitive) -> Box<[bool; 256]> {
    let ranges = painter_for_buckets(p, 255).permitted(p.default.permits());
    let mask = if matches!(
        p.kind,
        Some(PrimitiveKind::IpTos | PrimitiveKind::IpTcpFlags)
    ) {
        p.mask
    } else {
        0xff
    };
    let mut lut = Box::new([false; 256]);
    for (v, slot) in lut.iter_mut().enumerate() {
        let key = (v as u8 & mask) as u128;
        *slot = ranges.iter().any(|&(a, b)| a <= key && key <= b);
    }
    lut
}

fn port_bits(p: &Primitive) -> Box<[u64; 1024]> {
    let mut bits = Box::new([0u64; 1024]);
    for (a, b) in painter_for_buckets(p, u16::MAX as u128).permitted(p.default.permits()) {
        for v in a as usize..=b as usize {
            bits[v >> 6] |= 1 << (v & 63);
        }
    }
    bits
}

/// A port test; one permitted port (`permit 22`, the common case) is kept as that port, so the
/// test is a comparison the compiler vectorises rather than a bit lookup per flow.
pub(crate) fn port_test(col: PortCol, bits: Box<[u64; 1024]>) -> Test {
    let ones: u32 = bits.iter().map(|w| w.count_ones()).sum();
    let only = (ones == 1)
        .then(|| bits.iter().position(|&w| w != 0))
        .flatten()
        .map(|i| (i * 64) as u16 + bits[i].trailing_zeros() as u16);
    Test::Port { col, bits, only }
}

/// The values a bucket-list primitive permits, up to `max`.
fn bucket_set(p: &Primitive, max: u128) -> RangeSet {
    RangeSet::from_ranges(
        &painter_for_buckets(p, max).permitted(p.default.permits()),
        max,
    )
}

fn u32_set(p: &Primitive) -> RangeSet {
    let max = u32::MAX as u128;
    let mut painter = painter_for_buckets(p, max);
    for e in &p.entries {
        if let Value::Tag(t) = e.value {
            painter.paint(t as u128, t as u128, e.action.permits());
        }
    }
    RangeSet::from_ranges(&painter.permitted(p.default.permits()), max)
}

/// Paints comparison lines so the first true line wins: the last line first.
fn first_true(
    p: &Primitive,
    max: u128,
    ranges_of: impl Fn(&Value) -> Vec<(u128, u128)>,
) -> RangeSet {
    let mut painter = Painter::new(max);
    for e in p.entries.iter().rev() {
        for (a, b) in ranges_of(&e.value) {
            painter.paint(a, b, e.action.permits());
        }
    }
    RangeSet::from_ranges(&painter.permitted(p.default.permits()), max)
}

fn counter_set(p: &Primitive) -> RangeSet {
    first_true(p, u64::MAX as u128, |v| match v {
        Value::Counter(op, n) => op_ranges(*op, *n as u128, u64::MAX as u128),
        _ => Vec::new(),
    })
}

fn double_set(p: &Primitive) -> RangeSet {
    first_true(p, u64::MAX as u128, |v| match v {
        Value::Double(op, f) => op_ranges(*op, f64_key(*f) as u128, u64::MAX as u128),
        _ => Vec::new(),
    })
}

fn time_of_day_set(p: &Primitive) -> RangeSet {
    first_true(p, 86_399, |v| match v {
        Value::TimeOfDay(op, s) => op_ranges(*op, *s as u128, 86_399),
        _ => Vec::new(),
    })
}

/// Ranges of start/end milliseconds for "whole seconds OP date" (flow-tools compares seconds).
fn time_date_set(p: &Primitive, tz: &TimeZone) -> RangeSet {
    let key = |ms: i64| time_key(ms) as u128;
    first_true(p, u64::MAX as u128, |v| {
        let Value::TimeDate(op, spec) = v else {
            return Vec::new();
        };
        let s = spec.unix_seconds(tz);
        let lo = s.saturating_mul(1000); // first ms of second s
        let hi = s.saturating_add(1).saturating_mul(1000).saturating_sub(1); // last ms of second s
        let (min, max) = (key(i64::MIN), key(i64::MAX));
        let below =
            |end: i64| -> Option<(u128, u128)> { (end > i64::MIN).then(|| (min, key(end - 1))) };
        let above = |start: i64| -> Option<(u128, u128)> {
            (start < i64::MAX).then(|| (key(start + 1), max))
        };
        let r: Vec<Option<(u128, u128)>> = match op {
            Op::Lt => vec![below(lo)],
            Op::Le => vec![Some((min, key(hi)))],
            Op::Gt => vec![above(hi)],
            Op::Ge => vec![Some((key(lo), max))],
            Op::Eq => vec![Some((key(lo), key(hi)))],
            Op::Ne => vec![below(lo), above(hi)],
        };
        r.into_iter().flatten().collect()
    })
}

fn bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u32::from(v) as u128,
        IpAddr::V6(v) => u128::from(v),
    }
}

fn is_prefix_mask(m: u128, width: u32) -> bool {
    let m = if width == 32 { m << 96 } else { m };
    m.leading_ones() + m.trailing_zeros() == 128
}

pub(crate) fn addr_matcher(p: &Primitive) -> AddrMatcher {
    match addr_painted(p) {
        Err(mask_list) => mask_list,
        Ok((v4, v6)) => AddrMatcher::Sets {
            few: few_addresses(&v4, &v6),
            v4: V4Set::new(&v4),
            v6,
        },
    }
}

/// The permitted IPv4 and IPv6 ranges of an address primitive, or `None` for an
/// `ip-address-mask` with a mask that is not a prefix (tested line by line instead).
pub(crate) fn addr_ranges(p: &Primitive) -> Option<AddrRanges> {
    addr_painted(p).ok()
}

/// Sorted disjoint permitted ranges: IPv4 (as `u32` values) and IPv6.
pub(crate) type AddrRanges = (Vec<(u128, u128)>, Vec<(u128, u128)>);

fn addr_painted(p: &Primitive) -> Result<AddrRanges, AddrMatcher> {
    let mut v4 = Painter::new(u32::MAX as u128);
    let mut v6 = Painter::new(u128::MAX);
    let default = p.default.permits();
    match p.kind {
        Some(PrimitiveKind::IpAddress) => {
            for e in &p.entries {
                if let Value::Address(a) = e.value {
                    let painter = if a.is_ipv4() { &mut v4 } else { &mut v6 };
                    painter.paint(bits(a), bits(a), e.action.permits());
                }
            }
        }
        Some(PrimitiveKind::IpAddressPrefix) => {
            // Longest prefix wins: paint short prefixes first; a repeated prefix keeps its first line.
            let mut seen = std::collections::HashSet::new();
            let mut list: Vec<(ipnet::IpNet, bool)> = Vec::new();
            for e in &p.entries {
                if let Value::Prefix(n) = e.value {
                    if seen.insert(n) {
                        list.push((n, e.action.permits()));
                    }
                }
            }
            list.sort_by_key(|(n, _)| n.prefix_len());
            for (n, permit) in list {
                let painter = if n.addr().is_ipv4() { &mut v4 } else { &mut v6 };
                painter.paint(bits(n.network()), bits(n.broadcast()), permit);
            }
        }
        Some(PrimitiveKind::IpAddressMask) => {
            let entries: Vec<(IpAddr, IpAddr, bool)> = p
                .entries
                .iter()
                .filter_map(|e| match e.value {
                    Value::AddressMask { addr, mask } => Some((addr, mask, e.action.permits())),
                    _ => None,
                })
                .collect();
            let all_prefixes = entries
                .iter()
                .all(|(a, m, _)| is_prefix_mask(bits(*m), if a.is_ipv4() { 32 } else { 128 }));
            if !all_prefixes {
                let mut list4 = Vec::new();
                let mut list6 = Vec::new();
                for (a, m, permit) in entries {
                    match (a, m) {
                        (IpAddr::V4(a), IpAddr::V4(m)) => {
                            list4.push((u32::from(a), u32::from(m), permit))
                        }
                        _ => list6.push((bits(a), bits(m), permit)),
                    }
                }
                return Err(AddrMatcher::MaskList {
                    v4: list4,
                    v6: list6,
                    default,
                });
            }
            // First matching line wins: paint from the last line to the first.
            for (a, m, permit) in entries.into_iter().rev() {
                let (painter, full) = if a.is_ipv4() {
                    (&mut v4, u32::MAX as u128)
                } else {
                    (&mut v6, u128::MAX)
                };
                let net = bits(a);
                painter.paint(net, net | (!bits(m) & full), permit);
            }
        }
        _ => {}
    }
    Ok((v4.permitted(default), v6.permitted(default)))
}

/// Most addresses a test may permit and still be used to skip blocks by their address Bloom
/// filter (each costs a probe per block).
const FEW_ADDRESSES: u128 = 64;

/// The Bloom keys (`archive::bloom::key_of`) of the permitted addresses, when they are few.
fn few_addresses(v4: &[(u128, u128)], v6: &[(u128, u128)]) -> Option<Vec<u128>> {
    let count: u128 = v4
        .iter()
        .chain(v6)
        .map(|&(a, b)| (b - a).saturating_add(1))
        .fold(0u128, |n, c| n.saturating_add(c));
    if count > FEW_ADDRESSES {
        return None;
    }
    let key = crate::archive::bloom::key_of;
    let mut keys = Vec::new();
    for &(a, b) in v4 {
        keys.extend((a..=b).map(|x| key(IpAddr::V4((x as u32).into()))));
    }
    for &(a, b) in v6 {
        keys.extend((a..=b).map(|x| key(IpAddr::V6(x.into()))));
    }
    Some(keys)
}

/// Compiles one `match` line. `None` means the line passes every flow.
pub(crate) fn compile_item(
    field: MatchField,
    p: &Primitive,
    opts: &CompileOptions,
) -> Option<Test> {
    use MatchField::*;
    let u8t = |col| Test::U8 {
        col,
        lut: u8_table(p),
    };
    let test = match field {
        Protocol => u8t(U8Col::Protocol),
        Tos => u8t(U8Col::Tos),
        TcpFlags => u8t(U8Col::TcpFlags),
        EngineType => u8t(U8Col::EngineType),
        EngineId => u8t(U8Col::EngineId),
        SrcPrefixLen => u8t(U8Col::SrcMask),
        DstPrefixLen => u8t(U8Col::DstMask),
        SrcPort => port_test(PortCol::Src, port_bits(p)),
        DstPort => port_test(PortCol::Dst, port_bits(p)),
        XlateSrcPort => port_test(PortCol::XlateSrc, port_bits(p)),
        XlateDstPort => port_test(PortCol::XlateDst, port_bits(p)),
        // Number lists as wide as u32 (`as`, `ifindex`): values past the column's type never
        // match, which the painters' clamping gives.
        SrcVlan => port_test(PortCol::SrcVlan, port_bits(p)),
        DstVlan => port_test(PortCol::DstVlan, port_bits(p)),
        EndReason => u8t(U8Col::EndReason),
        SrcMac | DstMac => Test::U64 {
            col: if field == SrcMac {
                U64Col::SrcMac
            } else {
                U64Col::DstMac
            },
            set: bucket_set(p, (1 << 48) - 1),
        },
        // A label is an entry's top 20 bits: each permitted range of labels is the range of
        // entries holding them (the expressions' `mpls label1`, the same test).
        MplsLabel1 | MplsLabel2 | MplsLabel3 => {
            let col = match field {
                MplsLabel1 => U32Col::MplsLabel1,
                MplsLabel2 => U32Col::MplsLabel2,
                _ => U32Col::MplsLabel3,
            };
            let labels = painter_for_buckets(p, (1 << 20) - 1).permitted(p.default.permits());
            let labels: Vec<(u64, u64)> =
                labels.iter().map(|&(a, b)| (a as u64, b as u64)).collect();
            let entries: Vec<(u128, u128)> = crate::filter::expr::mpls_entry_ranges(&labels)
                .into_iter()
                .map(|(a, b)| (a as u128, b as u128))
                .collect();
            Test::U32 {
                col,
                set: RangeSet::from_ranges(&entries, u32::MAX as u128),
            }
        }
        Application => Test::U64 {
            col: U64Col::AppId,
            set: bucket_set(p, u64::MAX as u128),
        },
        FlowId => Test::U64 {
            col: U64Col::FlowId,
            set: counter_set(p),
        },
        SrcAs | DstAs | InputIf | OutputIf | SrcTag | DstTag => {
            let col = match field {
                SrcAs => U32Col::SrcAs,
                DstAs => U32Col::DstAs,
                InputIf => U32Col::InputIf,
                OutputIf => U32Col::OutputIf,
                SrcTag => U32Col::SrcTag,
                _ => U32Col::DstTag,
            };
            if p.kind == Some(PrimitiveKind::TagMask) {
                let list = p
                    .entries
                    .iter()
                    .filter_map(|e| match e.value {
                        Value::TagMask { tag, mask } => Some((tag, mask, e.action.permits())),
                        _ => None,
                    })
                    .collect();
                Test::TagMask {
                    col,
                    list,
                    default: p.default.permits(),
                }
            } else {
                Test::U32 {
                    col,
                    set: u32_set(p),
                }
            }
        }
        SrcAddr | DstAddr | ExporterAddr | NextHopAddr | XlateSrcAddr | XlateDstAddr => {
            let col = match field {
                SrcAddr => AddrCol::Src,
                DstAddr => AddrCol::Dst,
                ExporterAddr => AddrCol::Exporter,
                XlateSrcAddr => AddrCol::XlateSrc,
                XlateDstAddr => AddrCol::XlateDst,
                _ => AddrCol::NextHop,
            };
            Test::Addr {
                col,
                m: addr_matcher(p),
            }
        }
        Packets => Test::U64 {
            col: U64Col::Packets,
            set: counter_set(p),
        },
        Octets => Test::U64 {
            col: U64Col::Octets,
            set: counter_set(p),
        },
        Duration => Test::Duration {
            set: counter_set(p),
        },
        StartTime | EndTime => {
            let col = if field == StartTime {
                TimeCol::Start
            } else {
                TimeCol::End
            };
            if p.kind == Some(PrimitiveKind::Time) {
                Test::TimeOfDay {
                    col,
                    tz: opts.tz.clone(),
                    set: time_of_day_set(p),
                }
            } else {
                Test::TimeMs {
                    col,
                    set: time_date_set(p, &opts.tz),
                }
            }
        }
        Pps => Test::Rate {
            kind: RateKind::Pps,
            set: double_set(p),
        },
        Bps => Test::Rate {
            kind: RateKind::Bps,
            set: double_set(p),
        },
        RandomSample => {
            let (rate, permit) = p
                .entries
                .iter()
                .rev()
                .find_map(|e| match e.value {
                    Value::Rate(n) => Some((n, e.action.permits())),
                    _ => None,
                })
                // A rate primitive without a rate line: flow-tools' rate 0 would divide by zero;
                // treat it as its default.
                .unwrap_or((1, p.default.permits()));
            Test::Sample { rate, permit }
        }
        ShortcutAddr | MarkedTos | Flows | ExtraPackets => {
            unreachable!("fields not carried are refused before compiling")
        }
    };
    match constant(&test) {
        Some(true) => None,
        _ => Some(test),
    }
}

/// `Some(pass)` when the test gives the same answer for every flow.
pub(crate) fn constant(t: &Test) -> Option<bool> {
    let of_set = |s: &RangeSet| match s {
        RangeSet::Empty => Some(false),
        RangeSet::All => Some(true),
        _ => None,
    };
    match t {
        Test::U8 { lut, .. } => lut.iter().all(|&b| b == lut[0]).then_some(lut[0]),
        Test::Port { bits, .. } => {
            if bits.iter().all(|&w| w == 0) {
                Some(false)
            } else if bits.iter().all(|&w| w == u64::MAX) {
                Some(true)
            } else {
                None
            }
        }
        Test::U32 { set, .. }
        | Test::U64 { set, .. }
        | Test::Duration { set }
        | Test::TimeMs { set, .. }
        | Test::TimeOfDay { set, .. }
        | Test::Rate { set, .. }
        | Test::Unsampled { set, .. }
        | Test::Derived { set, .. } => of_set(set),
        Test::Nested(_) => None,
        Test::TagMask { list, default, .. } => list.is_empty().then_some(*default),
        Test::Addr { m, .. } => match m {
            AddrMatcher::Sets {
                v4: V4Set::Ranges(r),
                v6,
                ..
            } => match (of_set(r), v6.as_slice()) {
                (Some(false), []) => Some(false),
                (Some(true), [(0, u128::MAX)]) => Some(true),
                _ => None,
            },
            AddrMatcher::MaskList { v4, v6, default } => {
                (v4.is_empty() && v6.is_empty()).then_some(*default)
            }
            _ => None,
        },
        Test::Sample { rate, permit } => (*rate == 1).then_some(*permit),
        Test::CommunityId { .. } => None,
    }
}

/// Compiles definition `d` of `file`; the caller has checked variables and fields.
pub(crate) fn compile_definition(
    file: &FilterFile,
    d: &Definition,
    opts: &CompileOptions,
) -> CompiledFilter {
    let mut groups = Vec::new();
    'groups: for g in &d.groups {
        let mut tests = Vec::new();
        for item in g {
            let p = &file.primitives[item.primitive];
            if let Some(t) = compile_item(item.field, p, opts) {
                if constant(&t) == Some(false) {
                    continue 'groups; // this alternative never passes
                }
                tests.push(t);
            }
        }
        tests.sort_by_key(Test::cost);
        groups.push(tests);
    }
    // An alternative that passes everything makes the others irrelevant.
    if groups.iter().any(Vec::is_empty) {
        groups = vec![Vec::new()];
    }
    CompiledFilter {
        name: d.name.clone(),
        groups,
        invert: d.invert,
    }
}
