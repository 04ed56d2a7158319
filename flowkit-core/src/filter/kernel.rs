//! The compiled form of one test ([`Test`]): what it reads and how it clears the rows it
//! rejects, over whole columns.

use super::eval::*;
use super::intervals::RangeSet;
use crate::model::block::{AddrColumn, ColumnId, FlowBlock};
use jiff::tz::TimeZone;

/// One compiled `match` line.
#[derive(Clone, Debug)]
pub(crate) enum Test {
    /// A 256-entry table over an 8-bit field (masks already applied).
    U8 { col: U8Col, lut: Box<[bool; 256]> },
    /// A 65536-bit set over a port; `only` is the port when the set holds just one.
    Port {
        col: PortCol,
        bits: Box<[u64; 1024]>,
        only: Option<u16>,
    },
    /// Ranges over a 32-bit field.
    U32 { col: U32Col, set: RangeSet },
    /// `tag-mask`: first matching `(tag, mask)` line wins.
    TagMask {
        col: U32Col,
        list: Vec<(u32, u32, bool)>,
        default: bool,
    },
    /// Ranges over a counter.
    U64 { col: U64Col, set: RangeSet },
    /// Ranges over the duration in milliseconds.
    Duration { set: RangeSet },
    /// Ranges over a time (keys of [`time_key`]).
    TimeMs { col: TimeCol, set: RangeSet },
    /// Ranges over the seconds since local midnight.
    TimeOfDay {
        col: TimeCol,
        tz: TimeZone,
        set: RangeSet,
    },
    /// Ranges over packets or bits per second (keys of [`f64_key`]).
    Rate { kind: RateKind, set: RangeSet },
    /// An address test.
    Addr { col: AddrCol, m: AddrMatcher },
    /// `random-sample`: passes when the flow's hash is 0 modulo `rate` (`permit`), or not (`deny`).
    Sample { rate: u64, permit: bool },
    /// Ranges over a counter with its flow's sampling undone ([`unsampled`]): nfdump's view of
    /// counters, used by expressions.
    Unsampled { col: U64Col, set: RangeSet },
    /// Ranges over a value nfdump derives per flow in whole numbers ([`derived`]).
    Derived { kind: DerivedKind, set: RangeSet },
    /// A filter inside the filter (an expression's OR or NOT within an AND): passes the rows
    /// it selects.
    Nested(Box<CompiledFilter>),
    /// The flow's Community ID is `id` (or, `negated`, is not).
    CommunityId { id: String, negated: bool },
}

impl Test {
    /// Rough cost per row, to run cheap and selective tests first.
    pub(crate) fn cost(&self) -> u8 {
        match self {
            Test::U8 { .. } | Test::Port { .. } => 1,
            Test::U32 { .. } | Test::U64 { .. } | Test::TimeMs { .. } => 2,
            Test::Addr { .. } | Test::Duration { .. } => 3,
            Test::TagMask { .. } => 4,
            Test::Rate { .. } => 5,
            Test::TimeOfDay { .. } => 6,
            Test::Unsampled { .. } => 3,
            Test::Derived { .. } => 4,
            Test::Sample { .. } => 7,
            Test::Nested(_) => 8,
            Test::CommunityId { .. } => 9,
        }
    }

    /// The columns the test reads.
    pub(crate) fn columns(&self) -> Vec<ColumnId> {
        match self {
            Test::U8 { col, .. } => vec![col.id()],
            Test::Port { col, .. } => vec![match col {
                PortCol::Src => ColumnId::SrcPort,
                PortCol::Dst => ColumnId::DstPort,
                PortCol::XlateSrc => ColumnId::XlateSrcPort,
                PortCol::XlateDst => ColumnId::XlateDstPort,
                PortCol::SrcVlan => ColumnId::SrcVlan,
                PortCol::DstVlan => ColumnId::DstVlan,
            }],
            Test::U32 { col, .. } | Test::TagMask { col, .. } => vec![col.id()],
            Test::U64 { col, .. } => vec![col.id()],
            Test::Unsampled { col, .. } => vec![col.id(), ColumnId::SamplingInterval],
            Test::Derived { kind, .. } => {
                let mut c = vec![ColumnId::StartMs, ColumnId::EndMs];
                match kind {
                    DerivedKind::Duration => {}
                    DerivedKind::Pps => c.push(ColumnId::Packets),
                    DerivedKind::Bps => c.push(ColumnId::Octets),
                    DerivedKind::Bpp => c.extend([ColumnId::Packets, ColumnId::Octets]),
                }
                if *kind != DerivedKind::Duration {
                    c.push(ColumnId::SamplingInterval);
                }
                c
            }
            Test::Nested(inner) => inner.columns(),
            Test::Duration { .. } => vec![ColumnId::StartMs, ColumnId::EndMs],
            Test::TimeMs { col, .. } | Test::TimeOfDay { col, .. } => vec![col.id()],
            Test::Rate { kind, .. } => vec![
                match kind {
                    RateKind::Pps => ColumnId::Packets,
                    RateKind::Bps => ColumnId::Octets,
                },
                ColumnId::StartMs,
                ColumnId::EndMs,
            ],
            Test::Addr { col, .. } => vec![col.id()],
            Test::CommunityId { .. } => vec![
                ColumnId::SrcAddr,
                ColumnId::DstAddr,
                ColumnId::SrcPort,
                ColumnId::DstPort,
                ColumnId::Protocol,
            ],
            Test::Sample { .. } => vec![
                ColumnId::StartMs,
                ColumnId::EndMs,
                ColumnId::SrcAddr,
                ColumnId::DstAddr,
                ColumnId::SrcPort,
                ColumnId::DstPort,
                ColumnId::Protocol,
                ColumnId::Packets,
                ColumnId::Octets,
            ],
        }
    }

    /// Clears `mask[i]` for every row of `b` the test rejects.
    pub(crate) fn and_into(&self, b: &FlowBlock<'_>, mask: &mut [bool]) {
        match self {
            Test::U8 { col, lut } => {
                for (m, &v) in mask.iter_mut().zip(col.get(b)) {
                    *m &= lut[v as usize];
                }
            }
            Test::Port {
                col,
                only: Some(port),
                ..
            } => {
                for (m, &v) in mask.iter_mut().zip(col.get(b)) {
                    *m &= v == *port;
                }
            }
            Test::Port { col, bits, .. } => {
                for (m, &v) in mask.iter_mut().zip(col.get(b)) {
                    *m &= (bits[(v >> 6) as usize] >> (v & 63)) & 1 != 0;
                }
            }
            Test::U32 { col, set } => set.and_into(mask, col.get(b), u64::from),
            Test::TagMask { col, list, default } => {
                for (m, &v) in mask.iter_mut().zip(col.get(b)) {
                    if *m {
                        *m = list
                            .iter()
                            .find(|(t, k, _)| v & k == *t)
                            .map_or(*default, |e| e.2);
                    }
                }
            }
            Test::U64 { col, set } => set.and_into(mask, col.get(b), |v| v),
            Test::Unsampled { col, set } => {
                let c = col.get(b);
                if b.sampling_interval.iter().all(|&s| s <= 1) {
                    // No sampled flow in the block (the common case): the counters as they are.
                    set.and_into(mask, c, |v| v);
                } else {
                    let values: Vec<u64> = (c.iter().zip(b.sampling_interval))
                        .map(|(&v, &s)| unsampled(v, s))
                        .collect();
                    set.and_into(mask, &values, |v| v);
                }
            }
            Test::Derived { kind, set } => {
                let values: Vec<u64> = (0..b.len)
                    .map(|i| {
                        // Only the columns `columns()` names are at hand in a partial block.
                        let s = || b.sampling_interval[i];
                        let (packets, octets) = match kind {
                            DerivedKind::Duration => (0, 0),
                            DerivedKind::Bps => (0, unsampled(b.octets[i], s())),
                            DerivedKind::Pps => (unsampled(b.packets[i], s()), 0),
                            DerivedKind::Bpp => {
                                (unsampled(b.packets[i], s()), unsampled(b.octets[i], s()))
                            }
                        };
                        derived(*kind, packets, octets, b.start_ms[i], b.end_ms[i])
                    })
                    .collect();
                set.and_into(mask, &values, |v| v);
            }
            Test::Nested(inner) => {
                let mut passed = Vec::new();
                inner.select(b, &mut passed);
                for (m, p) in mask.iter_mut().zip(passed) {
                    *m &= p;
                }
            }
            Test::Duration { set } => {
                let d: Vec<u64> = b
                    .start_ms
                    .iter()
                    .zip(b.end_ms)
                    .map(|(&s, &e)| duration_ms(s, e))
                    .collect();
                set.and_into(mask, &d, |v| v);
            }
            Test::TimeMs { col, set } => set.and_into(mask, col.get(b), time_key),
            Test::TimeOfDay { col, tz, set } => {
                let tod = crate::time::times_of_day(col.get(b), tz);
                set.and_into(mask, &tod, u64::from);
            }
            Test::Rate { kind, set } => {
                let amount = match kind {
                    RateKind::Pps => b.packets,
                    RateKind::Bps => b.octets,
                };
                let keys: Vec<u64> = (0..b.len)
                    .map(|i| {
                        let a = match kind {
                            RateKind::Pps => amount[i] as f64,
                            RateKind::Bps => amount[i] as f64 * 8.0,
                        };
                        f64_key(per_second(a, duration_ms(b.start_ms[i], b.end_ms[i])))
                    })
                    .collect();
                set.and_into(mask, &keys, |v| v);
            }
            Test::Addr { col, m } => m.and_into(mask, col.get(b)),
            Test::CommunityId { id, negated } => {
                use crate::enrich::community::{community_id, FiveTuple, DEFAULT_SEED};
                for (i, m) in mask.iter_mut().enumerate() {
                    if *m {
                        let t = FiveTuple::of_row(b, i);
                        let same = community_id(&t, DEFAULT_SEED).as_deref() == Some(id.as_str());
                        *m = same != *negated;
                    }
                }
            }
            Test::Sample { rate, permit } => {
                for (i, m) in mask.iter_mut().enumerate() {
                    if *m {
                        let h = sample_hash(
                            b.start_ms[i],
                            b.end_ms[i],
                            addr_bytes(&b.src_addr, i),
                            addr_bytes(&b.dst_addr, i),
                            b.src_port[i],
                            b.dst_port[i],
                            b.protocol[i],
                            b.packets[i],
                            b.octets[i],
                        );
                        *m = h.is_multiple_of(*rate) == *permit;
                    }
                }
            }
        }
    }
}

fn addr_bytes(c: &AddrColumn<'_>, i: usize) -> [u8; 16] {
    match c {
        AddrColumn::V4(v) => std::net::Ipv4Addr::from(v[i]).to_ipv6_mapped().octets(),
        AddrColumn::V6(v) => v[i],
    }
}
