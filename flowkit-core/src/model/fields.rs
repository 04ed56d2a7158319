//! The one table of flow field names: CSV headers, JSON keys and Parquet columns are built
//! from it, `flow-stat --top` keys are looked up in it, and the names flow-tools and nfdump users
//! type (`srcaddr`, `%sa`, `dstip`) lead to the same field. `docs/print-formats.md` lists it
//! (a test keeps the two equal).
//!
//! Fields are in record order (the order of [`FlowRecord`](super::record::FlowRecord)'s members,
//! which JSON keys follow through serde; a test keeps that equal too).

use super::block::{ColumnId, FlowBlock};
use std::net::IpAddr;

/// What a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Milliseconds since the Unix epoch, UTC.
    TimeMs,
    /// An IPv4 or IPv6 address.
    Addr,
    /// An unsigned integer of this many bits.
    Unsigned(u8),
    /// A MAC address as its 48-bit value, written `aa:bb:cc:dd:ee:ff`.
    Mac,
    /// An MPLS label stack entry (24 bits), written `label-exp-bos`.
    Mpls,
    /// An application id packed by [`super::l2::app_id`], written `ENGINE..SELECTOR`.
    AppId,
}

impl FieldKind {
    /// The text a value of this kind is written as in CSV, JSON and keys, when it is not
    /// its number (MAC addresses, MPLS entries, application ids); `None` for plain numbers.
    pub fn text(self, v: u64) -> Option<String> {
        match self {
            FieldKind::Mac => Some(super::l2::mac_text(v)),
            FieldKind::Mpls => Some(super::l2::mpls_text(v as u32)),
            FieldKind::AppId => Some(super::l2::app_id_text(v)),
            _ => None,
        }
    }

    /// Appends [`FieldKind::text`] to `out` without allocating; false (nothing appended) for
    /// plain numbers.
    pub fn push_text(self, out: &mut Vec<u8>, v: u64) -> bool {
        match self {
            FieldKind::Mac => super::l2::push_mac_text(out, v),
            FieldKind::Mpls => super::l2::push_mpls_text(out, v as u32),
            FieldKind::AppId => super::l2::push_app_id_text(out, v),
            _ => return false,
        }
        true
    }

    /// Written as text (a JSON string): addresses, MACs, MPLS entries, application ids.
    pub fn is_text(self) -> bool {
        !matches!(self, FieldKind::TimeMs | FieldKind::Unsigned(_))
    }
}

/// One field of a flow record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// flowkit's name: the CSV column, JSON key and Parquet column.
    pub name: &'static str,
    /// The column of a block that holds it.
    pub column: ColumnId,
    /// What it holds.
    pub kind: FieldKind,
    /// flow-tools' name for it (its record member, as flow-export and flow-print's headers
    /// write it), or `""` when flow-tools has none.
    pub flowtools: &'static str,
    /// nfdump's `-o fmt:` token for it (without `%`), or `""` when nfdump has none.
    pub nfdump: &'static str,
    /// Other names a user may type for it (nfdump's `-A` aggregation names among them).
    pub aliases: &'static [&'static str],
    /// What it is, in a few words.
    pub about: &'static str,
}

const fn field(
    name: &'static str,
    column: ColumnId,
    kind: FieldKind,
    flowtools: &'static str,
    nfdump: &'static str,
    aliases: &'static [&'static str],
    about: &'static str,
) -> Field {
    Field {
        name,
        column,
        kind,
        flowtools,
        nfdump,
        aliases,
        about,
    }
}

use ColumnId as C;
use FieldKind::{Addr, AppId, Mac, Mpls, TimeMs, Unsigned};

/// Every field of a flow record, in record order.
#[rustfmt::skip]
pub const FIELDS: [Field; 40] = [
    field("start_ms", C::StartMs, TimeMs, "first", "ts", &[], "Time of the first packet."),
    field("end_ms", C::EndMs, TimeMs, "last", "te", &[], "Time of the last packet."),
    field("src_addr", C::SrcAddr, Addr, "srcaddr", "sa", &["srcip", "src"], "Source address."),
    field("dst_addr", C::DstAddr, Addr, "dstaddr", "da", &["dstip", "dst"], "Destination address."),
    field("src_port", C::SrcPort, Unsigned(16), "srcport", "sp", &[], "Source port."),
    field("dst_port", C::DstPort, Unsigned(16), "dstport", "dp", &[], "Destination port."),
    field("protocol", C::Protocol, Unsigned(8), "prot", "pr", &["proto"], "IP protocol."),
    field("tcp_flags", C::TcpFlags, Unsigned(8), "tcp_flags", "flg", &["flags", "tcpflags"], "TCP flags seen, ORed."),
    field("tos", C::Tos, Unsigned(8), "tos", "tos", &[], "Type of service byte."),
    field("packets", C::Packets, Unsigned(64), "dpkts", "pkt", &["ipkt"], "Packets (as exported, before sampling is undone)."),
    field("octets", C::Octets, Unsigned(64), "doctets", "byt", &["ibyt", "bytes"], "Octets (as exported)."),
    field("rev_packets", C::RevPackets, Unsigned(64), "", "opkt", &[], "Packets in the reverse direction of a biflow (RFC 5103)."),
    field("rev_octets", C::RevOctets, Unsigned(64), "", "obyt", &[], "Octets in the reverse direction of a biflow."),
    field("input_if", C::InputIf, Unsigned(32), "input", "in", &["inif"], "Input interface (SNMP ifIndex)."),
    field("output_if", C::OutputIf, Unsigned(32), "output", "out", &["outif"], "Output interface."),
    field("src_as", C::SrcAs, Unsigned(32), "src_as", "sas", &["srcas"], "Source AS."),
    field("dst_as", C::DstAs, Unsigned(32), "dst_as", "das", &["dstas"], "Destination AS."),
    field("src_mask", C::SrcMask, Unsigned(8), "src_mask", "smk", &[], "Source prefix length."),
    field("dst_mask", C::DstMask, Unsigned(8), "dst_mask", "dmk", &[], "Destination prefix length."),
    field("next_hop", C::NextHop, Addr, "nexthop", "nh", &["next"], "Next-hop router address."),
    field("exporter", C::Exporter, Addr, "exaddr", "ra", &["router"], "Address of the exporter."),
    field("engine_type", C::EngineType, Unsigned(8), "engine_type", "", &[], "Exporter engine type."),
    field("engine_id", C::EngineId, Unsigned(8), "engine_id", "", &[], "Exporter engine id."),
    field("sampling_interval", C::SamplingInterval, Unsigned(32), "", "", &[], "One packet in N was sampled (0 or 1: not sampled)."),
    field("src_tag", C::SrcTag, Unsigned(32), "src_tag", "", &[], "Source tag (flow-tools v1005, flow-tag)."),
    field("dst_tag", C::DstTag, Unsigned(32), "dst_tag", "", &[], "Destination tag."),
    field("xlate_src_addr", C::XlateSrcAddr, Addr, "", "xsa", &["xsrcip", "xlate_srcaddr"], "Source address after NAT (0.0.0.0: not translated)."),
    field("xlate_dst_addr", C::XlateDstAddr, Addr, "", "xda", &["xdstip", "xlate_dstaddr"], "Destination address after NAT (0.0.0.0: not translated)."),
    field("xlate_src_port", C::XlateSrcPort, Unsigned(16), "", "xsp", &["xsrcport", "xlate_srcport"], "Source port after NAPT (0: not translated)."),
    field("xlate_dst_port", C::XlateDstPort, Unsigned(16), "", "xdp", &["xdstport", "xlate_dstport"], "Destination port after NAPT (0: not translated)."),
    field("flow_id", C::FlowId, Unsigned(64), "", "nfc", &["flowid"], "The exporter's flow id (IPFIX flowId; conntrack's ct.id)."),
    field("src_vlan", C::SrcVlan, Unsigned(16), "", "svln", &["srcvlan"], "VLAN id on the way in (IPFIX vlanId)."),
    field("dst_vlan", C::DstVlan, Unsigned(16), "", "dvln", &["dstvlan"], "VLAN id on the way out (IPFIX postVlanId)."),
    field("end_reason", C::EndReason, Unsigned(8), "", "end", &["flowendreason"], "Why the flow ended (IPFIX flowEndReason: 1 idle, 2 active timeout, 3 end detected, 4 forced, 5 lack of resources)."),
    field("src_mac", C::SrcMac, Mac, "", "ismc", &["srcmac", "insrcmac"], "Source MAC address (IPFIX sourceMacAddress, else postSourceMacAddress)."),
    field("dst_mac", C::DstMac, Mac, "", "idmc", &["dstmac", "indstmac"], "Destination MAC address (IPFIX destinationMacAddress, else postDestinationMacAddress)."),
    field("mpls_label1", C::MplsLabel1, Mpls, "", "mpls1", &["mpls1_label"], "Top MPLS label stack entry, label-exp-bos (IPFIX mplsTopLabelStackSection)."),
    field("mpls_label2", C::MplsLabel2, Mpls, "", "mpls2", &["mpls2_label"], "Second MPLS label stack entry (mplsLabelStackSection2)."),
    field("mpls_label3", C::MplsLabel3, Mpls, "", "mpls3", &["mpls3_label"], "Third MPLS label stack entry (mplsLabelStackSection3)."),
    field("app_id", C::AppId, AppId, "", "nbid", &["appid", "application_id"], "Application id, ENGINE..SELECTOR (IPFIX applicationId; Cisco NBAR)."),
];

/// The field a user named: flowkit's name, flow-tools' or nfdump's (with or without `%`), or
/// an alias; any case, `-` taken as `_` (`src-port` is `src_port`).
pub fn lookup(name: &str) -> Option<&'static Field> {
    let n = name
        .strip_prefix('%')
        .unwrap_or(name)
        .to_ascii_lowercase()
        .replace('-', "_");
    FIELDS.iter().find(|f| {
        f.name == n
            || (!f.flowtools.is_empty() && f.flowtools == n)
            || (!f.nfdump.is_empty() && f.nfdump == n)
            || f.aliases.contains(&n.as_str())
    })
}

/// The field a column holds.
pub fn of_column(c: ColumnId) -> &'static Field {
    FIELDS
        .iter()
        .find(|f| f.column == c)
        .expect("every column is a field")
}

/// One value of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldValue {
    /// A time or other signed number.
    Signed(i64),
    /// An unsigned number.
    Unsigned(u64),
    /// An address.
    Addr(IpAddr),
}

impl Field {
    /// The field's value in row `i` of `b` (the block must hold the field's column).
    pub fn value(&self, b: &FlowBlock<'_>, i: usize) -> FieldValue {
        macro_rules! pick {
            (scalars: [$(($sv:ident, $sid:expr, $sf:ident, $st:ty)),* $(,)?],
             addrs: [$(($av:ident, $aid:expr, $af:ident)),* $(,)?]) => {
                // Start and end are the signed scalars; the macro lists them with the others.
                #[allow(unreachable_patterns)]
                match self.column {
                    ColumnId::StartMs => FieldValue::Signed(b.start_ms[i]),
                    ColumnId::EndMs => FieldValue::Signed(b.end_ms[i]),
                    $(ColumnId::$av => FieldValue::Addr(b.$af.get(i)),)*
                    $(ColumnId::$sv => FieldValue::Unsigned(b.$sf[i] as u64),)*
                }
            };
        }
        crate::with_flow_columns!(pick)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::block::FlowBlockBuf;
    use crate::model::record::FlowRecord;

    /// Every column of the block is one field, once.
    #[test]
    fn every_column_is_one_field() {
        for &c in ColumnId::ALL {
            assert_eq!(FIELDS.iter().filter(|f| f.column == c).count(), 1, "{c:?}");
        }
        assert_eq!(FIELDS.len(), ColumnId::ALL.len());
    }

    /// The record's members (and so the JSON keys serde writes) are the table's names, in order.
    #[test]
    fn record_members_follow_the_table() {
        // In written order (a serde_json map would sort them): no value holds a comma.
        let json = serde_json::to_string(&FlowRecord::default()).unwrap();
        let keys: Vec<&str> = json
            .trim_matches(|c| c == '{' || c == '}')
            .split(',')
            .map(|kv| kv.split(':').next().unwrap().trim_matches('"'))
            .collect();
        let names: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        assert_eq!(keys, names);
    }

    /// No name leads to two fields.
    #[test]
    fn names_are_unambiguous() {
        let mut seen = std::collections::HashMap::new();
        for f in &FIELDS {
            let names = [f.name, f.flowtools, f.nfdump]
                .into_iter()
                .chain(f.aliases.iter().copied())
                .filter(|n| !n.is_empty());
            for n in names {
                if let Some(other) = seen.insert(n, f.name) {
                    assert_eq!(other, f.name, "{n} names {other} and {}", f.name);
                }
                assert_eq!(lookup(n).map(|g| g.name), Some(f.name), "{n}");
            }
        }
        assert_eq!(lookup("%SA").map(|f| f.name), Some("src_addr"));
        assert_eq!(lookup("Dst-Port").map(|f| f.name), Some("dst_port"));
        assert!(lookup("srcadr").is_none());
    }

    /// Values read through the table are the record's.
    #[test]
    fn values_are_the_records() {
        let r = FlowRecord {
            start_ms: -5,
            src_addr: "2001:db8::1".parse().unwrap(),
            dst_port: 443,
            octets: u64::MAX,
            sampling_interval: 100,
            ..FlowRecord::default()
        };
        let mut b = FlowBlockBuf::default();
        b.push(&r);
        let v = b.view();
        let get = |n: &str| lookup(n).unwrap().value(&v, 0);
        assert_eq!(get("start_ms"), FieldValue::Signed(-5));
        assert_eq!(get("sa"), FieldValue::Addr(r.src_addr));
        assert_eq!(get("dstport"), FieldValue::Unsigned(443));
        assert_eq!(get("octets"), FieldValue::Unsigned(u64::MAX));
        assert_eq!(get("sampling_interval"), FieldValue::Unsigned(100));
    }

    /// docs/print-formats.md lists every field with every name, as the table has them.
    #[test]
    fn the_documented_table_is_this_one() {
        let doc = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/print-formats.md"
        ))
        .unwrap();
        let code = |n: &str, pre: &str| match n {
            "" => "—".to_string(),
            n => format!("`{pre}{n}`"),
        };
        for f in &FIELDS {
            let also: Vec<String> = f.aliases.iter().map(|a| code(a, "")).collect();
            let also = match also.is_empty() {
                true => "—".to_string(),
                false => also.join(", "),
            };
            let row = format!(
                "| `{}` | {} | {} | {also} | {} |",
                f.name,
                code(f.flowtools, ""),
                code(f.nfdump, "%"),
                f.about
            );
            assert!(
                doc.contains(&row),
                "docs/print-formats.md lacks the row\n{row}"
            );
        }
        let section = doc.split("## Field names").nth(1).unwrap();
        let section = section.split("\n## ").next().unwrap();
        let rows = section.lines().filter(|l| l.starts_with("| `")).count();
        assert_eq!(rows, FIELDS.len(), "rows for fields the table lacks");
    }
}
