//! Differential test: the shipped export captures decoded by flowkit and by netflow_parser 1.0
//! (a dev-dependency only: it allocates per record and runs about 8x slower, see
//! docs/decoders.md), through its `AutoScopedParser` (templates per exporter and source id /
//! observation domain), one datagram at a time. Flows are compared as a multiset of
//! (source, destination, ports, protocol, packets, octets).
//!
//! netflow_parser's known problems, none of which these captures trigger: its plain parser
//! keys templates by id only (two domains reusing an id are mis-decoded silently), its
//! `netflow_common` view counts options records as flows, an empty variable-length value
//! drops the record, an all-scope options template drops the whole message, and data before
//! its template is lost unless pending flows are configured (flowkit holds it).

mod common;

use common::*;
use flowkit_core::netflow::pcap::CaptureReader;
use netflow_parser::variable_versions::field_value::FieldValue;
use netflow_parser::variable_versions::ipfix::lookup::{IANAIPFixField, IPFixField};
use netflow_parser::variable_versions::ipfix::FlowSetBody as IpfixBody;
use netflow_parser::variable_versions::v9::lookup::V9Field;
use netflow_parser::variable_versions::v9::FlowSetBody as V9Body;
use netflow_parser::{AutoScopedParser, NetflowPacket};
use std::collections::HashMap;
use std::net::IpAddr;

/// (src, dst, sport, dport, proto, packets, octets), ICMP type/code in dport as flowkit does.
type Key = (IpAddr, IpAddr, u16, u16, u8, u64, u64);

#[derive(Default)]
struct Partial {
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    sport: u16,
    dport: u16,
    icmp: Option<u16>,
    proto: u8,
    packets: u64,
    octets: u64,
}

impl Partial {
    fn num(v: &FieldValue) -> u64 {
        match v {
            FieldValue::ProtocolType(p) => u8::from(*p) as u64,
            v => v.as_u64().unwrap_or(0),
        }
    }

    fn addr(v: &FieldValue) -> Option<IpAddr> {
        IpAddr::try_from(v).ok().filter(|a| !a.is_unspecified())
    }

    fn key(self) -> Option<Key> {
        let dport = match (self.proto, self.icmp) {
            (1 | 58, Some(t)) => t,
            _ => self.dport,
        };
        Some((
            self.src?,
            self.dst?,
            self.sport,
            dport,
            self.proto,
            self.packets,
            self.octets,
        ))
    }
}

fn oracle_flows(bytes: Vec<u8>) -> Vec<Key> {
    let mut r = CaptureReader::from_bytes("oracle", bytes).expect("capture");
    let mut parser = AutoScopedParser::new();
    let mut keys = Vec::new();
    while let Some(g) = r.next_datagram().expect("capture") {
        let result = parser.parse_from_source(g.src, g.payload);
        for p in result.packets {
            match p {
                NetflowPacket::V5(v5) => {
                    for f in v5.flowsets {
                        keys.push((
                            IpAddr::V4(f.src_addr),
                            IpAddr::V4(f.dst_addr),
                            f.src_port,
                            f.dst_port,
                            f.protocol_number,
                            f.d_pkts as u64,
                            f.d_octets as u64,
                        ));
                    }
                }
                NetflowPacket::V9(v9) => {
                    for fs in v9.flowsets {
                        let V9Body::Data(d) = fs.body else { continue };
                        for rec in d.fields {
                            let mut p = Partial::default();
                            for (field, v) in &rec {
                                match field {
                                    V9Field::Ipv4SrcAddr | V9Field::Ipv6SrcAddr => {
                                        p.src = Partial::addr(v).or(p.src)
                                    }
                                    V9Field::Ipv4DstAddr | V9Field::Ipv6DstAddr => {
                                        p.dst = Partial::addr(v).or(p.dst)
                                    }
                                    V9Field::L4SrcPort => p.sport = Partial::num(v) as u16,
                                    V9Field::L4DstPort => p.dport = Partial::num(v) as u16,
                                    V9Field::Protocol => p.proto = Partial::num(v) as u8,
                                    V9Field::InPkts => p.packets = Partial::num(v),
                                    V9Field::InBytes => p.octets = Partial::num(v),
                                    V9Field::IcmpType => p.icmp = Some(Partial::num(v) as u16),
                                    _ => {}
                                }
                            }
                            keys.extend(p.key());
                        }
                    }
                }
                NetflowPacket::IPFix(ipfix) => {
                    for fs in ipfix.flowsets {
                        let IpfixBody::Data(d) = fs.body else {
                            continue;
                        };
                        for rec in d.fields {
                            let mut p = Partial::default();
                            for (field, v) in &rec {
                                let IPFixField::IANA(f) = field else { continue };
                                match f {
                                    IANAIPFixField::SourceIpv4address
                                    | IANAIPFixField::SourceIpv6address => {
                                        p.src = Partial::addr(v).or(p.src)
                                    }
                                    IANAIPFixField::DestinationIpv4address
                                    | IANAIPFixField::DestinationIpv6address => {
                                        p.dst = Partial::addr(v).or(p.dst)
                                    }
                                    IANAIPFixField::SourceTransportPort => {
                                        p.sport = Partial::num(v) as u16
                                    }
                                    IANAIPFixField::DestinationTransportPort => {
                                        p.dport = Partial::num(v) as u16
                                    }
                                    IANAIPFixField::ProtocolIdentifier => {
                                        p.proto = Partial::num(v) as u8
                                    }
                                    IANAIPFixField::PacketDeltaCount => p.packets = Partial::num(v),
                                    IANAIPFixField::OctetDeltaCount => p.octets = Partial::num(v),
                                    IANAIPFixField::IcmpTypeCodeIpv4
                                    | IANAIPFixField::IcmpTypeCodeIpv6 => {
                                        p.icmp = Some(Partial::num(v) as u16)
                                    }
                                    _ => {}
                                }
                            }
                            keys.extend(p.key());
                        }
                    }
                }
                _ => {}
            }
        }
    }
    keys
}

#[test]
fn flowkit_and_netflow_parser_agree_on_every_export_capture() {
    let dir = testdata().join("exports");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("testdata/exports")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".pcap.gz").map(str::to_string)
        })
        .collect();
    names.sort();
    let mut failures = Vec::new();
    for name in &names {
        let bytes = read(&dir.join(format!("{name}.pcap.gz")));
        let (flows, _, _) = import_bytes(name, bytes.clone());
        let theirs = oracle_flows(bytes);
        assert!(
            theirs.len() > 10,
            "{name}: the oracle decoded {} flows",
            theirs.len()
        );
        let mut count: HashMap<Key, i64> = HashMap::new();
        for f in &flows {
            let k = (
                f.src_addr, f.dst_addr, f.src_port, f.dst_port, f.protocol, f.packets, f.octets,
            );
            *count.entry(k).or_default() += 1;
        }
        for k in theirs.iter() {
            *count.entry(*k).or_default() -= 1;
        }
        let diff: Vec<_> = count.iter().filter(|(_, &n)| n != 0).take(4).collect();
        if flows.len() != theirs.len() || !diff.is_empty() {
            failures.push(format!(
                "{name}: flowkit {} flows, netflow_parser {}; e.g. {diff:?}",
                flows.len(),
                theirs.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
