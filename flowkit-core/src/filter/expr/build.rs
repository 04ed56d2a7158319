//! An expression's tree as a [`CompiledFilter`]: each leaf one column test (built as filter
//! files build theirs), ANDs as AND-groups, ORs as alternative groups, NOTs as inversions; an OR
//! or NOT inside an AND becomes a nested filter ([`Test::Nested`]). Parts that are always true
//! or always false are folded away, so `a and (b or c)` costs what the same filter file costs.

use super::{AddrField, Leaf, Node, NumField};
use crate::filter::ast::{Action, Entry, Primitive, PrimitiveKind, Span, Value};
use crate::filter::compile::{addr_matcher, constant, port_test};
use crate::filter::eval::{
    AddrCol, AddrMatcher, CompiledFilter, DerivedKind, PortCol, U32Col, U64Col, U8Col, V4Set,
};
use crate::filter::intervals::RangeSet;
use crate::filter::kernel::Test;

/// Compiles `root` under `name`.
pub(super) fn compile(root: &Node, name: String) -> CompiledFilter {
    let mut f = node(root, false);
    f.name = name;
    f
}

/// A filter that passes every flow (`true`) or none.
fn always(pass: bool) -> CompiledFilter {
    CompiledFilter {
        name: String::new(),
        groups: if pass { vec![Vec::new()] } else { Vec::new() },
        invert: false,
    }
}

/// `Some(pass)` when the filter gives the same answer for every flow.
fn fixed(f: &CompiledFilter) -> Option<bool> {
    match f.groups.as_slice() {
        [] => Some(f.invert),
        [g] if g.is_empty() => Some(!f.invert),
        _ => None,
    }
}

/// `n` compiled; `negated` compiles `not n` instead, pushed down to the leaves (De Morgan), each
/// of which has an exact complement, so that no inverted filter is needed.
fn node(n: &Node, negated: bool) -> CompiledFilter {
    match n {
        Node::Any => always(!negated),
        Node::Leaf(l) => {
            let t = leaf_test(l, negated);
            match constant(&t) {
                Some(pass) => always(pass),
                None => CompiledFilter {
                    name: String::new(),
                    groups: vec![vec![t]],
                    invert: false,
                },
            }
        }
        Node::And(c) if !negated => all_of(c.iter().map(|n| node(n, false))),
        Node::And(c) => any_of(c.iter().map(|n| node(n, true))),
        Node::Or(c) if !negated => any_of(c.iter().map(|n| node(n, false))),
        Node::Or(c) => all_of(c.iter().map(|n| node(n, true))),
        Node::Not(c) => node(c, !negated),
    }
}

/// The filter passing what every one of `parts` passes.
pub(crate) fn all_of(parts: impl IntoIterator<Item = CompiledFilter>) -> CompiledFilter {
    let mut tests = Vec::new();
    for f in parts {
        match fixed(&f) {
            Some(false) => return always(false),
            Some(true) => {}
            None if !f.invert && f.groups.len() == 1 => {
                tests.extend(f.groups.into_iter().flatten())
            }
            None => tests.push(Test::Nested(Box::new(f))),
        }
    }
    tests.sort_by_key(Test::cost);
    CompiledFilter {
        name: String::new(),
        groups: vec![tests],
        invert: false,
    }
}

/// The filter passing what any one of `parts` passes.
fn any_of(parts: impl IntoIterator<Item = CompiledFilter>) -> CompiledFilter {
    let mut groups = Vec::new();
    for f in parts {
        match fixed(&f) {
            Some(true) => return always(true),
            Some(false) => {}
            None if !f.invert => groups.extend(f.groups),
            None => groups.push(vec![Test::Nested(Box::new(f))]),
        }
    }
    CompiledFilter {
        name: String::new(),
        groups,
        invert: false,
    }
}

/// The 256-entry table of an 8-bit field.
fn u8_lut(pass: impl Fn(u64) -> bool) -> Box<[bool; 256]> {
    let mut lut = Box::new([false; 256]);
    for (v, slot) in lut.iter_mut().enumerate() {
        *slot = pass(v as u64);
    }
    lut
}

fn in_ranges(ranges: &[(u64, u64)], v: u64) -> bool {
    ranges.iter().any(|&(a, b)| a <= v && v <= b)
}

fn range_set(ranges: &[(u64, u64)], max: u64) -> RangeSet {
    let r: Vec<(u128, u128)> = ranges
        .iter()
        .map(|&(a, b)| (a as u128, b as u128))
        .collect();
    RangeSet::from_ranges(&r, max as u128)
}

/// The ranges of `0..=max` outside sorted disjoint `ranges`.
fn complement(ranges: &[(u64, u64)], max: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut next = 0u64; // first value not yet covered
    for &(a, b) in ranges {
        if a > next {
            out.push((next, a - 1));
        }
        match b.checked_add(1) {
            Some(n) => next = next.max(n),
            None => return out,
        }
    }
    if next <= max {
        out.push((next, max));
    }
    out
}

/// The column test of one leaf, or (`negated`) of its complement.
fn leaf_test(l: &Leaf, negated: bool) -> Test {
    use NumField::*;
    match l {
        Leaf::CommunityId(id) => Test::CommunityId {
            id: id.clone(),
            negated,
        },
        Leaf::FlagsAll(m) => Test::U8 {
            col: U8Col::TcpFlags,
            lut: u8_lut(|v| (v as u8 & m == *m) != negated),
        },
        Leaf::Family { v6 } => {
            let v6 = *v6 != negated;
            Test::Addr {
                col: AddrCol::Src,
                m: AddrMatcher::Sets {
                    v4: V4Set::Ranges(if v6 { RangeSet::Empty } else { RangeSet::All }),
                    v6: if v6 { vec![(0, u128::MAX)] } else { Vec::new() },
                    few: None,
                },
            }
        }
        Leaf::Addr { field, nets } => {
            // Listed networks permitted, the rest denied; negated, the other way round.
            let (listed, rest) = if negated {
                (Action::Deny, Action::Permit)
            } else {
                (Action::Permit, Action::Deny)
            };
            let p = Primitive {
                name: String::new(),
                span: Span::default(),
                kind: Some(PrimitiveKind::IpAddressPrefix),
                kind_span: None,
                default: rest,
                mask: 0xff,
                entries: nets
                    .iter()
                    .map(|n| Entry {
                        action: listed,
                        value: Value::Prefix(*n),
                        span: Span::default(),
                    })
                    .collect(),
                missing: Vec::new(),
                warnings: Vec::new(),
            };
            let col = match field {
                AddrField::Src => AddrCol::Src,
                AddrField::Dst => AddrCol::Dst,
                AddrField::NextHop => AddrCol::NextHop,
                AddrField::Exporter => AddrCol::Exporter,
                AddrField::XlateSrc => AddrCol::XlateSrc,
                AddrField::XlateDst => AddrCol::XlateDst,
            };
            Test::Addr {
                col,
                m: addr_matcher(&p),
            }
        }
        Leaf::Number { field, ranges } => {
            let ranges = &if negated {
                complement(ranges, field.max())
            } else {
                ranges.clone()
            };
            let u8t = |col| Test::U8 {
                col,
                lut: u8_lut(|v| in_ranges(ranges, v)),
            };
            let port = |col| {
                let mut bits = Box::new([0u64; 1024]);
                for &(a, b) in ranges {
                    for v in a..=b.min(65_535) {
                        bits[(v >> 6) as usize] |= 1 << (v & 63);
                    }
                }
                port_test(col, bits)
            };
            let u32t = |col| Test::U32 {
                col,
                set: range_set(ranges, u32::MAX as u64),
            };
            let mpls = |col| Test::U32 {
                col,
                set: range_set(&super::mpls_entry_ranges(ranges), u32::MAX as u64),
            };
            let u64t = |col| Test::U64 {
                col,
                set: range_set(ranges, u64::MAX),
            };
            let counter = |col| Test::Unsampled {
                col,
                set: range_set(ranges, u64::MAX),
            };
            let derived = |kind| Test::Derived {
                kind,
                set: range_set(ranges, u64::MAX),
            };
            match field {
                Protocol => u8t(U8Col::Protocol),
                Tos => u8t(U8Col::Tos),
                TcpFlags => u8t(U8Col::TcpFlags),
                SrcMask => u8t(U8Col::SrcMask),
                DstMask => u8t(U8Col::DstMask),
                EngineType => u8t(U8Col::EngineType),
                EngineId => u8t(U8Col::EngineId),
                SrcPort => port(PortCol::Src),
                DstPort => port(PortCol::Dst),
                XlateSrcPort => port(PortCol::XlateSrc),
                XlateDstPort => port(PortCol::XlateDst),
                SrcVlan => port(PortCol::SrcVlan),
                DstVlan => port(PortCol::DstVlan),
                SrcAs => u32t(U32Col::SrcAs),
                DstAs => u32t(U32Col::DstAs),
                InputIf => u32t(U32Col::InputIf),
                OutputIf => u32t(U32Col::OutputIf),
                MplsLabel1 => mpls(U32Col::MplsLabel1),
                MplsLabel2 => mpls(U32Col::MplsLabel2),
                MplsLabel3 => mpls(U32Col::MplsLabel3),
                SrcMac => u64t(U64Col::SrcMac),
                DstMac => u64t(U64Col::DstMac),
                AppId => u64t(U64Col::AppId),
                Packets => counter(U64Col::Packets),
                Octets => counter(U64Col::Octets),
                RevPackets => counter(U64Col::RevPackets),
                RevOctets => counter(U64Col::RevOctets),
                DurationMs => derived(DerivedKind::Duration),
                Pps => derived(DerivedKind::Pps),
                Bps => derived(DerivedKind::Bps),
                Bpp => derived(DerivedKind::Bpp),
            }
        }
    }
}
