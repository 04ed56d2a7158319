//! A plain interpreter of definitions, one record at a time, straight from the parsed file.
//!
//! It follows flow-tools' evaluation literally (lib/ftfil.c): walk the AND-groups, for each match
//! line walk the primitive's lines in order and apply its winning-line rule, fall back to the
//! default. It shares nothing with the compiled path but the parsed file, and serves as the
//! reference the compiled evaluation is tested against. Too slow for real work.

use super::ast::*;
use super::compile::CompileOptions;
use super::eval::{duration_ms, per_second, sample_hash};
use super::FilterFile;
use crate::model::block::addr_to_v6_bytes;
use crate::model::l2::mpls_label;
use crate::model::record::FlowRecord;
use ipnet::{Ipv4Net, Ipv6Net};
use jiff::tz::TimeZone;
use prefix_trie::PrefixMap;
use std::collections::HashMap;
use std::net::IpAddr;

/// Longest-prefix tables of one `ip-address-prefix` primitive, IPv4 and IPv6.
type PrefixTables = (PrefixMap<Ipv4Net, bool>, PrefixMap<Ipv6Net, bool>);

/// Evaluates one definition per record.
pub struct Interpreter<'f> {
    file: &'f FilterFile,
    def: &'f Definition,
    tz: TimeZone,
    /// Longest-prefix tables of the `ip-address-prefix` primitives, by primitive index.
    tries: HashMap<usize, PrefixTables>,
}

impl<'f> Interpreter<'f> {
    pub(crate) fn new(file: &'f FilterFile, def: &'f Definition, opts: &CompileOptions) -> Self {
        let mut tries = HashMap::new();
        for item in def.groups.iter().flatten() {
            let p = &file.primitives[item.primitive];
            if p.kind != Some(PrimitiveKind::IpAddressPrefix) {
                continue;
            }
            tries.entry(item.primitive).or_insert_with(|| {
                let mut v4 = PrefixMap::new();
                let mut v6 = PrefixMap::new();
                for e in &p.entries {
                    let permit = e.action.permits();
                    // A repeated prefix keeps its first line (flow-tools ignores the later one).
                    match e.value {
                        Value::Prefix(ipnet::IpNet::V4(n)) if v4.get(&n).is_none() => {
                            v4.insert(n, permit);
                        }
                        Value::Prefix(ipnet::IpNet::V6(n)) if v6.get(&n).is_none() => {
                            v6.insert(n, permit);
                        }
                        _ => {}
                    }
                }
                (v4, v6)
            });
        }
        Interpreter {
            file,
            def,
            tz: opts.tz.clone(),
            tries,
        }
    }

    /// Whether the definition permits `r`.
    pub fn matches(&self, r: &FlowRecord) -> bool {
        let pass = self
            .def
            .groups
            .iter()
            .any(|g| g.iter().all(|m| self.item(m, r)));
        pass != self.def.invert
    }

    fn item(&self, m: &MatchItem, r: &FlowRecord) -> bool {
        use MatchField::*;
        let p = &self.file.primitives[m.primitive];
        match m.field {
            SrcAs => buckets(p, r.src_as as u64),
            DstAs => buckets(p, r.dst_as as u64),
            Protocol => buckets(p, r.protocol as u64),
            SrcPrefixLen => buckets(p, r.src_mask as u64),
            DstPrefixLen => buckets(p, r.dst_mask as u64),
            Tos => buckets(p, r.tos as u64),
            TcpFlags => buckets(p, r.tcp_flags as u64),
            SrcPort => buckets(p, r.src_port as u64),
            DstPort => buckets(p, r.dst_port as u64),
            InputIf => buckets(p, r.input_if as u64),
            OutputIf => buckets(p, r.output_if as u64),
            EngineId => buckets(p, r.engine_id as u64),
            EngineType => buckets(p, r.engine_type as u64),
            SrcAddr => self.address(m.primitive, p, r.src_addr),
            DstAddr => self.address(m.primitive, p, r.dst_addr),
            ExporterAddr => self.address(m.primitive, p, r.exporter),
            NextHopAddr => self.address(m.primitive, p, r.next_hop),
            XlateSrcAddr => self.address(m.primitive, p, r.xlate_src_addr),
            XlateDstAddr => self.address(m.primitive, p, r.xlate_dst_addr),
            XlateSrcPort => buckets(p, r.xlate_src_port as u64),
            XlateDstPort => buckets(p, r.xlate_dst_port as u64),
            SrcVlan => buckets(p, r.src_vlan as u64),
            DstVlan => buckets(p, r.dst_vlan as u64),
            EndReason => buckets(p, r.end_reason as u64),
            SrcMac => buckets(p, r.src_mac),
            DstMac => buckets(p, r.dst_mac),
            MplsLabel1 => buckets(p, mpls_label(r.mpls_label1).into()),
            MplsLabel2 => buckets(p, mpls_label(r.mpls_label2).into()),
            MplsLabel3 => buckets(p, mpls_label(r.mpls_label3).into()),
            Application => buckets(p, r.app_id),
            FlowId => first_true(p, |v| match v {
                Value::Counter(op, n) => op.holds(r.flow_id, *n),
                _ => false,
            }),
            SrcTag => tag(p, r.src_tag),
            DstTag => tag(p, r.dst_tag),
            Packets => first_true(p, |v| match v {
                Value::Counter(op, n) => op.holds(r.packets, *n),
                _ => false,
            }),
            Octets => first_true(p, |v| match v {
                Value::Counter(op, n) => op.holds(r.octets, *n),
                _ => false,
            }),
            Duration => {
                let d = duration_ms(r.start_ms, r.end_ms);
                first_true(p, |v| match v {
                    Value::Counter(op, n) => op.holds(d, *n),
                    _ => false,
                })
            }
            StartTime => self.time(p, r.start_ms),
            EndTime => self.time(p, r.end_ms),
            Pps | Bps => {
                let d = duration_ms(r.start_ms, r.end_ms);
                let x = if m.field == Pps {
                    per_second(r.packets as f64, d)
                } else {
                    per_second(r.octets as f64 * 8.0, d)
                };
                first_true(p, |v| match v {
                    Value::Double(op, f) => op.holds(x, *f),
                    _ => false,
                })
            }
            RandomSample => {
                let rate = p.entries.iter().rev().find_map(|e| match e.value {
                    Value::Rate(n) => Some((n, e.action)),
                    _ => None,
                });
                match rate {
                    None => p.default.permits(),
                    Some((n, action)) => {
                        let h = sample_hash(
                            r.start_ms,
                            r.end_ms,
                            addr_to_v6_bytes(r.src_addr),
                            addr_to_v6_bytes(r.dst_addr),
                            r.src_port,
                            r.dst_port,
                            r.protocol,
                            r.packets,
                            r.octets,
                        );
                        h.is_multiple_of(n) == action.permits()
                    }
                }
            }
            ShortcutAddr | MarkedTos | Flows | ExtraPackets => {
                unreachable!("fields not carried are refused before interpreting")
            }
        }
    }

    fn address(&self, index: usize, p: &Primitive, a: IpAddr) -> bool {
        match p.kind {
            Some(PrimitiveKind::IpAddress) => {
                let mut result = None;
                for e in &p.entries {
                    if e.value == Value::Address(a) {
                        result = Some(e.action); // last line wins
                    }
                }
                result.map_or(p.default.permits(), Action::permits)
            }
            Some(PrimitiveKind::IpAddressMask) => first_true(p, |v| match (v, a) {
                (
                    Value::AddressMask {
                        addr: IpAddr::V4(net),
                        mask: IpAddr::V4(mask),
                    },
                    IpAddr::V4(x),
                ) => u32::from(x) & u32::from(*mask) == u32::from(*net),
                (
                    Value::AddressMask {
                        addr: IpAddr::V6(net),
                        mask: IpAddr::V6(mask),
                    },
                    IpAddr::V6(x),
                ) => u128::from(x) & u128::from(*mask) == u128::from(*net),
                _ => false,
            }),
            _ => {
                let (v4, v6) = &self.tries[&index];
                let hit = match a {
                    IpAddr::V4(x) => v4
                        .get_lpm(&Ipv4Net::new(x, 32).expect("/32 is valid"))
                        .map(|(_, p)| *p),
                    IpAddr::V6(x) => v6
                        .get_lpm(&Ipv6Net::new(x, 128).expect("/128 is valid"))
                        .map(|(_, p)| *p),
                };
                hit.unwrap_or(p.default.permits())
            }
        }
    }

    fn time(&self, p: &Primitive, ms: i64) -> bool {
        if p.kind == Some(PrimitiveKind::Time) {
            let tod = crate::time::time_of_day(ms, &self.tz);
            first_true(p, |v| match v {
                Value::TimeOfDay(op, s) => op.holds(tod, *s),
                _ => false,
            })
        } else {
            let secs = ms.div_euclid(1000);
            first_true(p, |v| match v {
                Value::TimeDate(op, spec) => op.holds(secs, spec.unix_seconds(&self.tz)),
                _ => false,
            })
        }
    }
}

/// Bucket lists: the last line listing the value wins; `!` flips the line for its values.
fn buckets(p: &Primitive, v: u64) -> bool {
    let masked = matches!(
        p.kind,
        Some(PrimitiveKind::IpTos | PrimitiveKind::IpTcpFlags)
    );
    let mask = p.mask as u64;
    let mut result = None;
    for e in &p.entries {
        if let Value::Buckets { negate, ranges } = &e.value {
            let listed = ranges.iter().any(|&(lo, hi)| {
                if masked {
                    (lo..=hi).any(|x| x & mask == v & mask)
                } else {
                    lo <= v && v <= hi
                }
            });
            if listed {
                result = Some(if *negate {
                    e.action.flipped()
                } else {
                    e.action
                });
            }
        }
    }
    result.map_or(p.default.permits(), Action::permits)
}

/// `tag` (last exact line wins) and `tag-mask` (first matching line wins).
fn tag(p: &Primitive, v: u32) -> bool {
    if p.kind == Some(PrimitiveKind::TagMask) {
        return first_true(p, |x| match x {
            Value::TagMask { tag, mask } => v & mask == *tag,
            _ => false,
        });
    }
    let mut result = None;
    for e in &p.entries {
        if e.value == Value::Tag(v) {
            result = Some(e.action);
        }
    }
    result.map_or(p.default.permits(), Action::permits)
}

/// Lists: the first line whose test holds wins.
fn first_true(p: &Primitive, holds: impl Fn(&Value) -> bool) -> bool {
    p.entries
        .iter()
        .find(|e| holds(&e.value))
        .map_or(p.default.permits(), |e| e.action.permits())
}
