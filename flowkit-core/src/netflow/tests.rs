//! Crafted datagrams: every malformed or tricky case is a clear error or a counted drop.

use super::*;
use crate::model::record::FlowRecord;
use std::net::{IpAddr, Ipv4Addr};

const T0: u32 = 1_289_311_200; // 2010-11-09 14:00:00 UTC

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

/// Builds an IPFIX message from sets (each `(set id, body)`), with a correct length.
fn ipfix(seq: u32, domain: u32, sets: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut m = vec![0, 10, 0, 0];
    m.extend_from_slice(&T0.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&domain.to_be_bytes());
    for (id, body) in sets {
        m.extend_from_slice(&id.to_be_bytes());
        m.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
        m.extend_from_slice(body);
    }
    let len = m.len() as u16;
    m[2..4].copy_from_slice(&len.to_be_bytes());
    m
}

/// Builds a NetFlow v9 datagram (sysUpTime 10 s at T0).
fn v9(seq: u32, source: u32, sets: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut m = vec![0, 9, 0, sets.len() as u8];
    m.extend_from_slice(&10_000u32.to_be_bytes());
    m.extend_from_slice(&T0.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&source.to_be_bytes());
    for (id, body) in sets {
        m.extend_from_slice(&id.to_be_bytes());
        m.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
        m.extend_from_slice(body);
    }
    m
}

/// A template record: id, then (ie, len) pairs (enterprise ones as (ie | 0x8000, len, pen)).
fn tpl(id: u16, fields: &[(u16, u16)]) -> Vec<u8> {
    let mut b = id.to_be_bytes().to_vec();
    b.extend_from_slice(&(fields.len() as u16).to_be_bytes());
    for (ie, len) in fields {
        b.extend_from_slice(&ie.to_be_bytes());
        b.extend_from_slice(&len.to_be_bytes());
    }
    b
}

/// Fields of a simple IPv4 flow template: src, dst, sport, dport, proto, packets, octets,
/// flowStartMilliseconds, flowEndMilliseconds.
const SIMPLE: &[(u16, u16)] = &[
    (8, 4),
    (12, 4),
    (7, 2),
    (11, 2),
    (4, 1),
    (2, 4),
    (1, 4),
    (152, 8),
    (153, 8),
];

fn simple_record(src: u8, sport: u16, packets: u32) -> Vec<u8> {
    let mut r = vec![10, 0, 0, src, 10, 0, 0, 99];
    r.extend_from_slice(&sport.to_be_bytes());
    r.extend_from_slice(&80u16.to_be_bytes());
    r.push(6);
    r.extend_from_slice(&packets.to_be_bytes());
    r.extend_from_slice(&(packets * 100).to_be_bytes());
    r.extend_from_slice(&(T0 as u64 * 1000 - 5000).to_be_bytes());
    r.extend_from_slice(&(T0 as u64 * 1000 - 1000).to_be_bytes());
    r
}

fn decode_all(
    d: &mut Decoder,
    dgrams: &[Vec<u8>],
    from: IpAddr,
) -> (Vec<FlowRecord>, Vec<DecodeError>) {
    let mut out = FlowBlockBuf::default();
    let mut errs = Vec::new();
    for g in dgrams {
        if let Err(e) = d.decode(g, from, T0 as i64 * 1000, &mut out) {
            errs.push(e);
        }
    }
    (out.view().records().collect(), errs)
}

#[test]
fn ipfix_flow_is_decoded_with_times_and_exporter() {
    let mut d = Decoder::default();
    let g = ipfix(
        0,
        7,
        &[(2, tpl(300, SIMPLE)), (300, simple_record(1, 1234, 3))],
    );
    let (flows, errs) = decode_all(&mut d, &[g], ip(1));
    assert!(errs.is_empty(), "{errs:?}");
    let f = &flows[0];
    assert_eq!(f.src_addr, "10.0.0.1".parse::<IpAddr>().unwrap());
    assert_eq!((f.src_port, f.dst_port, f.protocol), (1234, 80, 6));
    assert_eq!((f.packets, f.octets), (3, 300));
    assert_eq!(f.start_ms, T0 as i64 * 1000 - 5000);
    assert_eq!(f.end_ms, T0 as i64 * 1000 - 1000);
    assert_eq!((f.exporter, f.engine_id), (ip(1), 7));
}

#[test]
fn data_before_its_template_is_held_then_decoded() {
    let mut d = Decoder::default();
    let data = ipfix(0, 1, &[(300, simple_record(1, 1, 1))]);
    let template = ipfix(1, 1, &[(2, tpl(300, SIMPLE))]);
    let (flows, errs) = decode_all(&mut d, std::slice::from_ref(&data), ip(1));
    assert!(flows.is_empty() && errs.is_empty());
    assert_eq!(d.stats().unknown_template, 1);
    assert_eq!(d.held_sets(), 1);
    let (flows, _) = decode_all(&mut d, &[template], ip(1));
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].src_port, 1);
    let s = d.stats();
    assert_eq!((s.held_decoded, s.held_dropped, s.flows), (1, 0, 1));

    // A set whose template never comes is dropped and counted at the end.
    let mut d = Decoder::default();
    decode_all(&mut d, &[data], ip(1));
    assert_eq!(d.drop_held(), 1);
    assert_eq!(d.stats().held_dropped, 1);
}

#[test]
fn held_data_is_bounded() {
    let cfg = DecoderConfig {
        max_held_sets_per_exporter: 2,
        ..DecoderConfig::default()
    };
    let mut d = Decoder::new(cfg);
    let dgrams: Vec<_> = (0..5)
        .map(|i| ipfix(i, 1, &[(300, simple_record(i as u8, 1, 1))]))
        .collect();
    decode_all(&mut d, &dgrams, ip(1));
    assert_eq!(d.held_sets(), 2);
    assert_eq!(d.stats().held_dropped, 3);
    // The two newest are decoded when the template comes.
    let (flows, _) = decode_all(&mut d, &[ipfix(5, 1, &[(2, tpl(300, SIMPLE))])], ip(1));
    let srcs: Vec<String> = flows.iter().map(|f| f.src_addr.to_string()).collect();
    assert_eq!(srcs, vec!["10.0.0.3", "10.0.0.4"]);
}

#[test]
fn withdrawal_and_withdraw_all_forget_templates() {
    let mut d = Decoder::default();
    let define = ipfix(0, 1, &[(2, tpl(300, SIMPLE))]);
    let data = ipfix(1, 1, &[(300, simple_record(1, 1, 1))]);
    let withdraw = ipfix(2, 1, &[(2, vec![1, 44, 0, 0])]); // template 300, count 0
    decode_all(&mut d, &[define.clone(), data.clone(), withdraw], ip(1));
    assert_eq!(d.stats().template_withdrawals, 1);
    let (flows, _) = decode_all(&mut d, std::slice::from_ref(&data), ip(1));
    assert!(flows.is_empty(), "data after withdrawal must not decode");
    assert_eq!(d.stats().unknown_template, 1);

    let withdraw_all = ipfix(3, 1, &[(2, vec![0, 2, 0, 0])]);
    let mut d = Decoder::default();
    decode_all(&mut d, &[define, withdraw_all], ip(1));
    assert_eq!(d.stats().template_withdrawals, 1);
    let (flows, _) = decode_all(&mut d, &[data], ip(1));
    assert!(flows.is_empty());
}

#[test]
fn a_changed_template_replaces_the_old() {
    let mut d = Decoder::default();
    let swapped: Vec<(u16, u16)> = [(12, 4), (8, 4)]
        .into_iter()
        .chain(SIMPLE[2..].iter().copied())
        .collect();
    let g1 = ipfix(
        0,
        1,
        &[(2, tpl(300, SIMPLE)), (300, simple_record(1, 1, 1))],
    );
    let g2 = ipfix(
        1,
        1,
        &[(2, tpl(300, &swapped)), (300, simple_record(1, 1, 1))],
    );
    // The changed one re-sent (a refresh: compared, not compiled again), then the first again.
    let g3 = ipfix(
        2,
        1,
        &[(2, tpl(300, &swapped)), (300, simple_record(1, 1, 1))],
    );
    let g4 = ipfix(
        3,
        1,
        &[(2, tpl(300, SIMPLE)), (300, simple_record(1, 1, 1))],
    );
    let (flows, _) = decode_all(&mut d, &[g1, g2, g3, g4], ip(1));
    let src: Vec<String> = flows.iter().map(|f| f.src_addr.to_string()).collect();
    assert_eq!(src, ["10.0.0.1", "10.0.0.99", "10.0.0.99", "10.0.0.1"]);
    // Every definition and refresh is counted.
    assert_eq!(d.stats().templates, 4);
}

#[test]
fn exporters_and_domains_reusing_a_template_id_do_not_mix() {
    let mut d = Decoder::default();
    let swapped: Vec<(u16, u16)> = [(12, 4), (8, 4)]
        .into_iter()
        .chain(SIMPLE[2..].iter().copied())
        .collect();
    let a = ipfix(0, 1, &[(2, tpl(300, SIMPLE))]);
    let b = ipfix(0, 1, &[(2, tpl(300, &swapped))]);
    let other_domain = ipfix(0, 2, &[(2, tpl(300, &swapped))]);
    let data = ipfix(1, 1, &[(300, simple_record(1, 1, 1))]);
    decode_all(&mut d, &[a], ip(1));
    decode_all(&mut d, &[b, other_domain], ip(2));
    let (fa, _) = decode_all(&mut d, std::slice::from_ref(&data), ip(1));
    let (fb, _) = decode_all(&mut d, &[data], ip(2));
    assert_eq!(fa[0].src_addr.to_string(), "10.0.0.1");
    assert_eq!(fb[0].src_addr.to_string(), "10.0.0.99");
    assert_eq!(d.exporter_stats().count(), 2);
}

#[test]
fn variable_length_and_enterprise_fields() {
    let mut d = Decoder::default();
    // interfaceName (82) varlen, an unknown enterprise field, then RFC 5103 reverse octets
    // and packets, then the simple fields.
    let mut t = 300u16.to_be_bytes().to_vec();
    let n = 4 + SIMPLE.len() as u16;
    t.extend_from_slice(&n.to_be_bytes());
    t.extend_from_slice(&[0, 82, 0xFF, 0xFF]); // varlen
    t.extend_from_slice(&[0x80, 5, 0, 3, 0, 0, 0x12, 0x34]); // PEN 4660, 3 bytes
    t.extend_from_slice(&[0x80, 1, 0, 8, 0, 0, 0x72, 0x79]); // reverse octetDeltaCount
    t.extend_from_slice(&[0x80, 2, 0, 4, 0, 0, 0x72, 0x79]); // reverse packetDeltaCount
    for (ie, len) in SIMPLE {
        t.extend_from_slice(&ie.to_be_bytes());
        t.extend_from_slice(&len.to_be_bytes());
    }
    let rec = |name: &[u8], long: bool| {
        let mut r = Vec::new();
        if long {
            r.push(255);
            r.extend_from_slice(&(name.len() as u16).to_be_bytes());
        } else {
            r.push(name.len() as u8);
        }
        r.extend_from_slice(name);
        r.extend_from_slice(&[0xAA, 0xBB, 0xCC]);
        r.extend_from_slice(&777u64.to_be_bytes());
        r.extend_from_slice(&7u32.to_be_bytes());
        r.extend_from_slice(&simple_record(1, 443, 2));
        r
    };
    let mut body = rec(b"eth0", false);
    body.extend(rec(&[b'x'; 300], true));
    body.extend(rec(b"", false)); // an empty variable-length value is a record too
    body.extend_from_slice(&[0, 0]); // padding
    let g = ipfix(0, 1, &[(2, t), (300, body)]);
    let (flows, errs) = decode_all(&mut d, &[g], ip(1));
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(flows.len(), 3);
    for f in &flows {
        assert_eq!((f.src_port, f.packets, f.octets), (443, 2, 200));
        assert_eq!((f.rev_packets, f.rev_octets), (7, 777));
    }
}

#[test]
fn unknown_and_odd_length_fields_are_skipped_not_misread() {
    let mut d = Decoder::default();
    // srcport declared 4 bytes (cannot be a port), an unknown IE 999 of 5 bytes, then SIMPLE.
    let mut fields = vec![(7u16, 4u16), (999, 5)];
    fields.extend_from_slice(SIMPLE);
    let mut rec = vec![0xFF; 9];
    rec.extend(simple_record(3, 2222, 1));
    let g = ipfix(0, 1, &[(2, tpl(300, &fields)), (300, rec)]);
    let (flows, errs) = decode_all(&mut d, &[g], ip(1));
    assert!(errs.is_empty());
    assert_eq!(flows[0].src_port, 2222);
}

#[test]
fn options_data_never_yields_flows() {
    let mut d = Decoder::default();
    // Options template 400: scope samplerId (48, 1 byte); samplerRandomInterval (50, 4).
    let mut ot = vec![1, 144, 0, 2, 0, 1, 0, 48, 0, 1, 0, 50, 0, 4];
    ot.extend_from_slice(&[0, 0]); // padding
    let opts = vec![5, 0, 0, 0, 100];
    // Flow template with samplerId.
    let mut fields = SIMPLE.to_vec();
    fields.push((48, 1));
    let mut rec = simple_record(1, 1, 1);
    rec.push(5);
    let g = ipfix(
        0,
        1,
        &[(3, ot), (2, tpl(300, &fields)), (400, opts), (300, rec)],
    );
    let (flows, errs) = decode_all(&mut d, &[g], ip(1));
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(flows.len(), 1, "the options record is not a flow");
    assert_eq!(flows[0].sampling_interval, 100);
    assert_eq!(d.stats().options_records, 1);
}

#[test]
fn v9_uptime_times_and_options_sampling() {
    let mut d = Decoder::default();
    // v9 template: src, dst, FIRST_SWITCHED, LAST_SWITCHED, packets, protocol, ICMP type.
    let t = tpl(
        256,
        &[(8, 4), (12, 4), (22, 4), (21, 4), (2, 4), (4, 1), (32, 2)],
    );
    // Options template 257: scope System (type 1, 4 bytes); SAMPLING_INTERVAL (34, 4).
    let ot = vec![1, 1, 0, 4, 0, 4, 0, 1, 0, 4, 0, 34, 0, 4];
    let opts = vec![0, 0, 0, 0, 0, 0, 0, 50];
    let mut rec = vec![10, 0, 0, 1, 10, 0, 0, 2];
    rec.extend_from_slice(&4_000u32.to_be_bytes()); // 6 s before export (uptime 10 s)
    rec.extend_from_slice(&9_500u32.to_be_bytes());
    rec.extend_from_slice(&1u32.to_be_bytes());
    rec.push(1); // ICMP
    rec.extend_from_slice(&[8, 0]); // echo request
    let g = v9(0, 3, &[(0, t), (1, ot), (257, opts), (256, rec)]);
    let (flows, errs) = decode_all(&mut d, &[g], ip(1));
    assert!(errs.is_empty(), "{errs:?}");
    let f = &flows[0];
    assert_eq!(f.start_ms, T0 as i64 * 1000 - 6_000);
    assert_eq!(f.end_ms, T0 as i64 * 1000 - 500);
    assert_eq!(f.dst_port, 8 << 8);
    assert_eq!(f.sampling_interval, 50);
    assert_eq!((f.engine_type, f.engine_id), (0, 3));
}

#[test]
fn malformed_sets_are_errors_with_offsets_keeping_earlier_sets() {
    let good = (300u16, simple_record(1, 1, 1));
    let define = (2u16, tpl(300, SIMPLE));
    let mut d = Decoder::default();
    // A set length that lies (runs past the message).
    let mut g = ipfix(
        0,
        1,
        &[define.clone(), good.clone(), (300, simple_record(2, 2, 2))],
    );
    let last_set = g.len() - (simple_record(2, 2, 2).len() + 4);
    g[last_set + 3] = 200;
    let (flows, errs) = decode_all(&mut d, &[g], ip(1));
    assert_eq!(flows.len(), 1, "the set before the damage is kept");
    assert_eq!(errs[0].offset, last_set + 2);
    assert!(
        matches!(errs[0].kind, DecodeErrorKind::SetOverrun { .. }),
        "{errs:?}"
    );

    // A set length shorter than its header.
    let mut g = ipfix(1, 1, std::slice::from_ref(&good));
    g[18] = 0;
    g[19] = 2;
    let (_, errs) = decode_all(&mut d, &[g], ip(1));
    assert_eq!(errs[0].offset, 18);
    assert!(matches!(errs[0].kind, DecodeErrorKind::SetTooShort { .. }));

    // A message length that lies.
    let mut g = ipfix(2, 1, std::slice::from_ref(&good));
    g[3] = g[3].wrapping_add(40);
    let (_, errs) = decode_all(&mut d, std::slice::from_ref(&g), ip(1));
    assert!(matches!(
        errs[0].kind,
        DecodeErrorKind::MessageLength { .. }
    ));
    assert_eq!(errs[0].offset, 2);

    // Truncated anywhere: an error or fewer flows, never a panic.
    let full = ipfix(3, 1, &[define, good]);
    for cut in 0..full.len() {
        let mut d = Decoder::default();
        let _ = decode_all(&mut d, &[full[..cut].to_vec()], ip(1));
        assert!(d.stats().flows == 0 || cut == full.len());
    }
}

#[test]
fn bad_templates_are_errors_and_the_rest_is_kept() {
    let mut d = Decoder::default();
    // v9 template with zero fields, then a good one in the same set.
    let mut set = tpl(256, &[]);
    set.extend(tpl(257, &[(8, 4)]));
    let g = v9(0, 1, &[(0, set)]);
    let (_, errs) = decode_all(&mut d, &[g], ip(1));
    assert_eq!(errs[0].kind, DecodeErrorKind::EmptyTemplate { id: 256 });
    assert_eq!(errs[0].offset, 24);
    assert_eq!(d.stats().templates, 1, "the good template after it is kept");

    // A huge field count that the set cannot hold.
    let g = ipfix(0, 1, &[(2, vec![1, 44, 0xFF, 0xFF, 0, 8, 0, 4])]);
    let (_, errs) = decode_all(&mut d, &[g], ip(1));
    assert!(matches!(
        errs[0].kind,
        DecodeErrorKind::TooManyFields { count: 65535, .. }
    ));
    let g = ipfix(0, 1, &[(2, vec![1, 44, 0, 40, 0, 8, 0, 4])]);
    let (_, errs) = decode_all(&mut d, &[g], ip(1));
    assert!(matches!(
        errs[0].kind,
        DecodeErrorKind::TemplateOverrun { count: 40, .. }
    ));
    // Zero-length records, reserved ids, bad scope.
    let g = ipfix(0, 1, &[(2, tpl(300, &[(8, 0)]))]);
    let (_, errs) = decode_all(&mut d, &[g], ip(1));
    assert_eq!(errs[0].kind, DecodeErrorKind::ZeroLengthRecord { id: 300 });
    let g = ipfix(0, 1, &[(2, tpl(7, &[(8, 4)]))]);
    let (_, errs) = decode_all(&mut d, &[g], ip(1));
    assert_eq!(errs[0].kind, DecodeErrorKind::ReservedTemplateId { id: 7 });
    let g = ipfix(0, 1, &[(3, vec![1, 44, 0, 1, 0, 0, 0, 8, 0, 4])]);
    let (_, errs) = decode_all(&mut d, &[g], ip(1));
    assert!(matches!(errs[0].kind, DecodeErrorKind::BadScope { .. }));
}

#[test]
fn limits_bound_templates_and_exporters() {
    let cfg = DecoderConfig {
        max_templates_per_exporter: 2,
        max_exporters: 1,
        ..DecoderConfig::default()
    };
    let mut d = Decoder::new(cfg);
    let sets: Vec<_> = (300..305).map(|id| (2u16, tpl(id, SIMPLE))).collect();
    let (_, errs) = decode_all(&mut d, &[ipfix(0, 1, &sets)], ip(1));
    assert!(matches!(
        errs[0].kind,
        DecodeErrorKind::TemplateLimit { id: 302, max: 2 }
    ));
    let (_, errs) = decode_all(&mut d, &[ipfix(0, 1, &sets)], ip(2));
    assert!(matches!(
        errs[0].kind,
        DecodeErrorKind::ExporterLimit { max: 1 }
    ));
    assert_eq!(d.stats().refused, 1);
}

#[test]
fn sequence_gaps_are_counted_per_exporter_and_domain() {
    let mut d = Decoder::default();
    let t = (2u16, tpl(300, SIMPLE));
    let r = |i| (300u16, simple_record(i, 1, 1));
    // Domain 1: 0 (template + 1 record), 1, then 5 (3 records lost).
    let g = [
        ipfix(0, 1, &[t.clone(), r(1)]),
        ipfix(1, 1, &[r(2)]),
        ipfix(5, 1, &[r(3)]),
    ];
    // Domain 2 interleaved, continuous.
    let h = [ipfix(100, 2, &[t, r(4)]), ipfix(101, 2, &[r(5)])];
    decode_all(
        &mut d,
        &[
            g[0].clone(),
            h[0].clone(),
            g[1].clone(),
            h[1].clone(),
            g[2].clone(),
        ],
        ip(1),
    );
    assert_eq!(d.stats().sequence_gaps, 1);

    // v9 counts packets; v5 counts flows.
    let mut d = Decoder::default();
    decode_all(
        &mut d,
        &[v9(7, 0, &[]), v9(8, 0, &[]), v9(10, 0, &[])],
        ip(1),
    );
    assert_eq!(d.stats().sequence_gaps, 1);
}

fn v5_datagram(count: u16, seq: u32, sampling: u16) -> Vec<u8> {
    let mut g = vec![0, 5];
    g.extend_from_slice(&count.to_be_bytes());
    g.extend_from_slice(&60_000u32.to_be_bytes()); // uptime 60 s
    g.extend_from_slice(&T0.to_be_bytes());
    g.extend_from_slice(&500_000_000u32.to_be_bytes());
    g.extend_from_slice(&seq.to_be_bytes());
    g.extend_from_slice(&[1, 2]);
    g.extend_from_slice(&sampling.to_be_bytes());
    for i in 0..count {
        let mut r = vec![10, 0, 0, i as u8, 10, 0, 0, 200, 0, 0, 0, 0, 0, 1, 0, 2];
        r.extend_from_slice(&5u32.to_be_bytes());
        r.extend_from_slice(&500u32.to_be_bytes());
        r.extend_from_slice(&50_000u32.to_be_bytes());
        r.extend_from_slice(&59_000u32.to_be_bytes());
        r.extend_from_slice(&[0, 53, 0, 53, 0, 0x12, 17, 0, 0, 1, 0, 2, 24, 16, 0, 0]);
        g.extend(r);
    }
    g
}

#[test]
fn v5_records_truncation_and_sampling() {
    let mut d = Decoder::default();
    let g = v5_datagram(3, 0, 0x4000 | 64);
    let (flows, errs) = decode_all(&mut d, std::slice::from_ref(&g), ip(1));
    assert!(errs.is_empty());
    assert_eq!(flows.len(), 3);
    let f = &flows[2];
    assert_eq!(f.src_addr.to_string(), "10.0.0.2");
    assert_eq!(f.start_ms, T0 as i64 * 1000 + 500 - 10_000);
    assert_eq!(f.end_ms, T0 as i64 * 1000 + 500 - 1_000);
    assert_eq!((f.input_if, f.output_if, f.src_as, f.dst_as), (1, 2, 1, 2));
    assert_eq!((f.src_mask, f.dst_mask, f.tcp_flags), (24, 16, 0x12));
    assert_eq!(
        (f.engine_type, f.engine_id, f.sampling_interval),
        (1, 2, 64)
    );
    // Cut in the third record: two flows kept, an error naming where the third starts.
    let (flows, errs) = decode_all(&mut d, &[g[..24 + 2 * 48 + 10].to_vec()], ip(1));
    assert_eq!(flows.len(), 2);
    assert_eq!(errs[0].offset, 24 + 2 * 48);
    assert_eq!(
        errs[0].kind,
        DecodeErrorKind::V5Truncated { count: 3, held: 2 }
    );
    // The flow sequence continues by 3 flows: the truncated datagram's successor is a gap.
    decode_all(&mut d, &[v5_datagram(1, 3, 0), v5_datagram(1, 9, 0)], ip(1));
    assert_eq!(d.stats().sequence_gaps, 2);
}

#[test]
fn garbage_never_panics() {
    // Deterministic pseudo-random datagrams with valid-looking headers.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut d = Decoder::default();
    let mut out = FlowBlockBuf::default();
    let base = [
        ipfix(
            0,
            1,
            &[(2, tpl(300, SIMPLE)), (300, simple_record(1, 1, 1))],
        ),
        v9(
            0,
            1,
            &[(0, tpl(256, SIMPLE)), (256, simple_record(1, 1, 1))],
        ),
        v5_datagram(2, 0, 0),
    ];
    for i in 0..20_000 {
        let mut g = base[i % 3].clone();
        let flips = 1 + (next() % 6) as usize;
        for _ in 0..flips {
            let at = (next() as usize) % g.len();
            g[at] = next() as u8;
        }
        let cut = (next() as usize) % (g.len() + 1);
        g.truncate(cut.max(g.len() / 2));
        let _ = d.decode(&g, ip((i % 7) as u8), T0 as i64 * 1000, &mut out);
        out.clear();
    }
    assert!(d.stats().datagrams == 20_000);
}

#[test]
fn decoder_is_send() {
    fn is_send<T: Send>() {}
    is_send::<Decoder>();
}

/// IPFIX NAT fields (RFC 7659 / IANA IEs 225-228, 281, 282) and flowId (148), in a message
/// built byte by byte: a fixed-length IPv4 template (the column path), the same fields behind
/// a variable-length one (the record path), an IPv6 template, and NetFlow v9 (Cisco ASA NSEL
/// uses the same element ids).
#[test]
fn nat_fields_and_flow_id_are_decoded() {
    #[rustfmt::skip]
    let v4_fields: &[(u16, u16)] = &[
        (8, 4), (12, 4), (7, 2), (11, 2), (4, 1),
        (225, 4), (226, 4), (227, 2), (228, 2), (148, 8), (152, 8), (153, 8),
    ];
    #[rustfmt::skip]
    let mut v4_record: Vec<u8> = vec![
        10, 0, 0, 5,            // sourceIPv4Address 10.0.0.5
        203, 0, 113, 80,        // destinationIPv4Address 203.0.113.80
        0x15, 0xb3,             // sourceTransportPort 5555
        0x01, 0xbb,             // destinationTransportPort 443
        6,                      // TCP
        198, 51, 100, 7,        // postNATSourceIPv4Address 198.51.100.7
        192, 168, 1, 80,        // postNATDestinationIPv4Address 192.168.1.80
        0x9c, 0x4d,             // postNAPTSourceTransportPort 40013
        0x20, 0xfb,             // postNAPTDestinationTransportPort 8443
        0, 0, 0, 0, 0x6f, 0xf0, 0xc3, 0x8c, // flowId 1878049676
    ];
    v4_record.extend_from_slice(&(T0 as u64 * 1000 - 5000).to_be_bytes());
    v4_record.extend_from_slice(&(T0 as u64 * 1000 - 1000).to_be_bytes());
    let check_v4 = |f: &FlowRecord| {
        assert_eq!(f.src_addr, "10.0.0.5".parse::<IpAddr>().unwrap());
        assert_eq!((f.src_port, f.dst_port), (5555, 443));
        assert_eq!(f.xlate_src_addr, "198.51.100.7".parse::<IpAddr>().unwrap());
        assert_eq!(f.xlate_dst_addr, "192.168.1.80".parse::<IpAddr>().unwrap());
        assert_eq!((f.xlate_src_port, f.xlate_dst_port), (40013, 8443));
        assert_eq!(f.flow_id, 1_878_049_676);
        assert_eq!(f.start_ms, T0 as i64 * 1000 - 5000);
    };
    // Fixed layout: the column kernels.
    let mut d = Decoder::default();
    let g = ipfix(0, 1, &[(2, tpl(256, v4_fields)), (256, v4_record.clone())]);
    let (flows, errs) = decode_all(&mut d, &[g], ip(1));
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(flows.len(), 1);
    check_v4(&flows[0]);
    // A variable-length interfaceName (82) first: the record-at-a-time path.
    let mut var_fields = vec![(82u16, 0xffffu16)];
    var_fields.extend_from_slice(v4_fields);
    let mut var_record = vec![4, b'e', b't', b'h', b'0'];
    var_record.extend_from_slice(&v4_record);
    let g = ipfix(0, 2, &[(2, tpl(257, &var_fields)), (257, var_record)]);
    let (flows, errs) = decode_all(&mut Decoder::default(), &[g], ip(1));
    assert!(errs.is_empty(), "{errs:?}");
    check_v4(&flows[0]);
    // NetFlow v9 (template set 0), the same fields and bytes.
    let g = v9(0, 3, &[(0, tpl(258, v4_fields)), (258, v4_record)]);
    let (flows, errs) = decode_all(&mut Decoder::default(), &[g], ip(1));
    assert!(errs.is_empty(), "{errs:?}");
    check_v4(&flows[0]);
    // IPv6: postNATSourceIPv6Address (281) and postNATDestinationIPv6Address (282).
    #[rustfmt::skip]
    let v6_fields: &[(u16, u16)] = &[(27, 16), (28, 16), (281, 16), (282, 16), (227, 2), (152, 8), (153, 8)];
    let mut r = Vec::new();
    r.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]); // fd00::5
    r.extend_from_slice(&[
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50,
    ]); // 2001:db8::50
    r.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]); // 2001:db8::7
    r.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]); // fd00::80
    r.extend_from_slice(&[0x9c, 0x40]); // 40000
    r.extend_from_slice(&(T0 as u64 * 1000 - 5000).to_be_bytes());
    r.extend_from_slice(&(T0 as u64 * 1000 - 1000).to_be_bytes());
    let g = ipfix(0, 4, &[(2, tpl(259, v6_fields)), (259, r)]);
    let (flows, errs) = decode_all(&mut Decoder::default(), &[g], ip(1));
    assert!(errs.is_empty(), "{errs:?}");
    let f = &flows[0];
    assert_eq!(f.xlate_src_addr, "2001:db8::7".parse::<IpAddr>().unwrap());
    assert_eq!(f.xlate_dst_addr, "fd00::80".parse::<IpAddr>().unwrap());
    assert_eq!((f.xlate_src_port, f.xlate_dst_port), (40000, 0));
    // A 16-byte postNATSourceIPv4Address does not fit and is skipped, not misread.
    let odd = ipfix(0, 5, &[(2, tpl(260, &[(225, 16), (152, 8)]))]);
    let mut rec = vec![1u8; 16];
    rec.extend_from_slice(&(T0 as u64 * 1000).to_be_bytes());
    let data = ipfix(1, 5, &[(260, rec)]);
    let (flows, errs) = decode_all(&mut Decoder::default(), &[odd, data], ip(1));
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(
        flows[0].xlate_src_addr,
        "0.0.0.0".parse::<IpAddr>().unwrap()
    );
}

/// vlanId (58), postVlanId (59) and flowEndReason (136), from bytes written by hand.
#[test]
fn vlans_and_end_reason_are_decoded() {
    let fields: &[(u16, u16)] = &[(8, 4), (58, 2), (59, 2), (136, 1), (152, 8), (153, 8)];
    let mut rec = vec![10, 0, 0, 9, 0x00, 0x64, 0x0f, 0xfe, 0x02]; // VLAN 100, 4094, active timeout
    rec.extend_from_slice(&(T0 as u64 * 1000 - 5000).to_be_bytes());
    rec.extend_from_slice(&(T0 as u64 * 1000).to_be_bytes());
    let g = ipfix(0, 1, &[(2, tpl(256, fields)), (256, rec)]);
    let (flows, errs) = decode_all(&mut Decoder::default(), &[g], ip(1));
    assert!(errs.is_empty(), "{errs:?}");
    let f = &flows[0];
    assert_eq!((f.src_vlan, f.dst_vlan, f.end_reason), (100, 4094, 2));
}

/// applicationId (95) of variable length: 1 to 8 bytes are packed (RFC 6759: engine first),
/// a longer one is left out (0), never cut; MPLS entries of fewer than 3 bytes are read as
/// numbers. NetFlow v9 carries the same ids (IN_SRC_MAC 56, OUT_DST_MAC 57, MPLS_LABEL_1 70).
#[test]
fn application_ids_and_short_mpls_entries_are_decoded() {
    let fields: &[(u16, u16)] = &[(8, 4), (95, 0xffff), (70, 2), (152, 8), (153, 8)];
    let times = |rec: &mut Vec<u8>| {
        rec.extend_from_slice(&(T0 as u64 * 1000 - 5000).to_be_bytes());
        rec.extend_from_slice(&(T0 as u64 * 1000).to_be_bytes());
    };
    let mut recs = vec![10, 0, 0, 9, 4, 13, 0, 1, 0xbb, 0x01, 0x01]; // 13..443, label 16 bos
    times(&mut recs);
    recs.extend_from_slice(&[10, 0, 0, 10, 9, 20, 0, 0, 0x0d, 0xd3, 0, 0, 1, 2, 0, 0]);
    times(&mut recs);
    let g = ipfix(0, 1, &[(2, tpl(256, fields)), (256, recs)]);
    let (flows, errs) = decode_all(&mut Decoder::default(), &[g], ip(1));
    assert!(errs.is_empty(), "{errs:?}");
    let text = |v| crate::model::l2::app_id_text(v);
    assert_eq!(text(flows[0].app_id), "13..443");
    assert_eq!(crate::model::l2::mpls_text(flows[0].mpls_label1), "16-0-1");
    assert_eq!(flows[1].app_id, 0, "9 bytes do not fit");
    // NetFlow v9: IN_SRC_MAC and OUT_DST_MAC (softflowd's pair) fill src_mac and dst_mac.
    let fields: &[(u16, u16)] = &[(8, 4), (56, 6), (57, 6), (21, 4), (22, 4)];
    let mut rec = vec![
        10, 0, 0, 9, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0, 0x11, 0x22, 0x33, 0x44, 0x55,
    ];
    rec.extend_from_slice(&[0, 0, 0x27, 0x10, 0, 0, 0x13, 0x88]);
    let g = v9(0, 1, &[(0, tpl(300, fields)), (300, rec)]);
    let (flows, errs) = decode_all(&mut Decoder::default(), &[g], ip(1));
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(
        (flows[0].src_mac, flows[0].dst_mac),
        (0x6677_8899_aabb, 0x0011_2233_4455)
    );
}

/// NetFlow v9 fields nfdump's v9 decoder also reads: a Cisco ASA 8.4's NSEL NAT fields (40001
/// xlate source address, 40002 destination, 40003/40004 ports; IANA 225-228 came later) and
/// dot1qVlanId / postDot1qVlanId (243/254, a Cisco 1941's VLAN). Fixed template (the column
/// path) and the same fields behind a variable-length one (the record path).
#[test]
fn v9_nsel_84_nat_fields_and_dot1q_vlans_are_decoded() {
    #[rustfmt::skip]
    let fields: &[(u16, u16)] = &[
        (8, 4), (12, 4), (40001, 4), (40002, 4), (40003, 2), (40004, 2), (243, 2), (254, 2),
        (152, 8),
    ];
    #[rustfmt::skip]
    let mut rec: Vec<u8> = vec![
        192, 168, 14, 1,    // source 192.168.14.1
        2, 2, 2, 11,        // destination 2.2.2.11
        198, 51, 100, 7,    // 40001 xlate source 198.51.100.7
        192, 0, 2, 80,      // 40002 xlate destination 192.0.2.80
        0x44, 0x8d,         // 40003 xlate source port 17549
        0x01, 0xbb,         // 40004 xlate destination port 443
        0x03, 0x68,         // 243 dot1qVlanId 872
        0x00, 0x0a,         // 254 postDot1qVlanId 10
    ];
    rec.extend_from_slice(&(T0 as u64 * 1000 - 5000).to_be_bytes());
    let check = |flows: &[FlowRecord]| {
        let f = &flows[0];
        assert_eq!(f.xlate_src_addr, "198.51.100.7".parse::<IpAddr>().unwrap());
        assert_eq!(f.xlate_dst_addr, "192.0.2.80".parse::<IpAddr>().unwrap());
        assert_eq!((f.xlate_src_port, f.xlate_dst_port), (17549, 443));
        assert_eq!((f.src_vlan, f.dst_vlan), (872, 10));
    };
    let g = v9(0, 1, &[(0, tpl(300, fields)), (300, rec.clone())]);
    let (flows, errs) = decode_all(&mut Decoder::default(), &[g], ip(1));
    assert!(errs.is_empty(), "{errs:?}");
    check(&flows);
    // A variable-length field (v9 has none, but the decoder shares the IPFIX record walker):
    // the same values through the record-at-a-time path.
    let mut var_fields = vec![(82u16, 0xffffu16)];
    var_fields.extend_from_slice(fields);
    let mut var_rec = vec![3, b'g', b'i', b'0'];
    var_rec.extend_from_slice(&rec);
    let g = v9(0, 2, &[(0, tpl(301, &var_fields)), (301, var_rec)]);
    let (flows, errs) = decode_all(&mut Decoder::default(), &[g], ip(1));
    assert!(errs.is_empty(), "{errs:?}");
    check(&flows);
}
