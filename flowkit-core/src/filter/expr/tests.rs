//! Expressions: messages at the right column, the grammar's precedence, and the compiled form
//! against the record-by-record reference on random expressions and flows. (What they select
//! is compared with nfdump itself in tests/nfdump_expressions.rs.)

use super::*;
use crate::model::block::{ColumnSet, FlowBlockBuf};
use std::net::Ipv4Addr;

fn err(text: &str) -> String {
    Expression::parse(text).unwrap_err().to_string()
}

fn first_line(text: &str) -> String {
    err(text).lines().next().unwrap().to_string()
}

#[test]
fn mistakes_are_named_at_their_column() {
    assert_eq!(
        err("dst prot 22"),
        "unknown word `prot` at column 5; did you mean `port`?\n  dst prot 22\n      ^^^^"
    );
    for (text, want) in [
        ("prto tcp", "unknown word `prto` at column 1; did you mean `proto`?"),
        ("port 70000", "port 70000 is above 65535 at column 6"),
        ("port http", "expected a number (port), found `http` at column 6"),
        ("(port 22", "a `(` without its `)` at column 1; expected `)` at the end"),
        ("port 22)", "a `)` without its `(` at column 8"),
        ("port 22 host 10.0.0.1", "expected `and` or `or` before this at column 9"),
        ("host example.com", "`example.com` is not an IP address at column 6; flowkit does not look up host names"),
        ("net 10/16", "`10` gives 8 bits, fewer than the prefix length 16 at column 5"),
        ("net 10.1", "`10.1` needs a prefix length (`10.1/16`) at column 5"),
        ("net 10.0.0.0 255.0.255.0", "the mask 255.0.255.0 is not a prefix (its one bits are not contiguous) at column 14"),
        ("mpls label4 4", "`mpls label4` is not available at column 6; flowkit keeps the top three MPLS labels (label1 to label3)"),
        ("mpls eos 4", "`mpls eos` is not available at column 6; flowkit filters MPLS labels by value (`mpls label1 N`, `mpls any N`), not by their end-of-stack or experimental bits"),
        ("mpls label1 1048576", "MPLS label 1048576 is above 1048575 at column 13"),
        ("in mac 00:11:22:33:44:55", "`in mac` is not available at column 4; flowkit keeps one MAC per end (the exporter's in MAC, else its post one): use `src mac` or `dst mac`"),
        ("src mac 00:11:22:33:44", "`00:11:22:33:44` is not a MAC address (six hex bytes: 00:11:22:33:44:55) at column 9"),
        ("app 13", "`13` is not an application id at column 5 (ENGINE..SELECTOR such as 13..443, 20..PEN..SELECTOR, or `app engine N`)"),
        ("app engine 256", "classification engine id 256 is above 255 at column 12"),
        ("community-id 1:wCb3OG7yAFWelaUydu0D+125CLM", "`1:wCb3OG7yAFWelaUydu0D+125CLM` is not a Community ID at column 14 (version 1: `1:` and 28 base64 characters, such as 1:wCb3OG7yAFWelaUydu0D+125CLM=)"),
        ("vlan 4096", "VLAN id 4096 is above 4095 at column 6"),
        ("dst tos 4", "`dst tos` is not available at column 5; flowkit records keep one ToS byte, the source's (`tos`)"),
        ("in port 22", "`in` does not go with `port` at column 4"),
        ("src if 3", "`src` does not go with `if` at column 5"),
        ("flags SYN", "`Y` is not a TCP flag letter (F S R P A U, or X for all) at column 7"),
        ("flags 64", "TCP flags 64 is above 63 at column 7"),
        ("proto foo", "unknown protocol `foo` at column 7"),
        ("port in 22", "expected `[` to start a list at column 9"),
        ("packets >", "expected a number (packets) at the end at column 10"),
        ("", "an empty expression at column 1; write `any` to pass every flow"),
        ("port 'x'", "unexpected character `'` at column 6; flowkit's expressions have no quoted strings"),
        ("next as 3", "`next as` is not available at column 6; flowkit records do not carry BGP neighbour ASes"),
        (&format!("{}port 22", "(".repeat(300)), "more than 200 `not`s and parentheses nested at column 201"),
    ] {
        assert_eq!(first_line(text), want, "{text}");
    }
}

fn tree(text: &str) -> Node {
    Expression::parse(text).unwrap().root
}

fn port(field: NumField, p: u64) -> Node {
    Node::Leaf(Leaf::Number {
        field,
        ranges: vec![(p, p)],
    })
}

#[test]
fn or_binds_loosest_and_not_tightest() {
    let (a, b, c) = (
        port(NumField::SrcPort, 1),
        port(NumField::SrcPort, 2),
        port(NumField::SrcPort, 3),
    );
    assert_eq!(
        tree("src port 1 or src port 2 and src port 3"),
        Node::Or(vec![a.clone(), Node::And(vec![b.clone(), c.clone()])])
    );
    assert_eq!(
        tree("not src port 1 and src port 2"),
        Node::And(vec![Node::Not(Box::new(a.clone())), b.clone()])
    );
    assert_eq!(
        tree("(src port 1 || src port 2) && !src port 3"),
        Node::And(vec![
            Node::Or(vec![a.clone(), b.clone()]),
            Node::Not(Box::new(c.clone()))
        ])
    );
    // No direction means either end; `src and dst` both.
    assert_eq!(
        tree("port 1"),
        Node::Or(vec![a.clone(), port(NumField::DstPort, 1)])
    );
    assert_eq!(
        tree("src and dst port 1"),
        Node::And(vec![a, port(NumField::DstPort, 1)])
    );
    // Comparisons, words or signs; suffixes are powers of 1000.
    assert_eq!(tree("bytes gt 1k"), tree("bytes > 1000"));
    assert_eq!(
        tree("packets >= 2M"),
        Node::Leaf(Leaf::Number {
            field: NumField::Packets,
            ranges: vec![(2_000_000, u64::MAX)]
        })
    );
    assert_eq!(tree("proto 0x11"), tree("proto udp"));
    assert_eq!(tree("proto icmp6"), tree("proto 58"));
}

/// A small random number generator (xorshift), so the test needs no seed crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Flows drawn from small pools, so that random terms select some and not all.
fn random_flows(rng: &mut Rng, n: usize) -> Vec<FlowRecord> {
    let addrs: Vec<IpAddr> = vec![
        Ipv4Addr::new(10, 0, 0, 1).into(),
        Ipv4Addr::new(10, 0, 1, 2).into(),
        Ipv4Addr::new(192, 168, 1, 1).into(),
        "2001:db8::1".parse().unwrap(),
        "2001:db8:1::5".parse().unwrap(),
    ];
    (0..n)
        .map(|_| {
            let r = |rng: &mut Rng, m: u64| rng.next() % m;
            let start = 1_000_000 + r(rng, 10_000) as i64;
            FlowRecord {
                start_ms: start,
                end_ms: start + r(rng, 5_000) as i64 - 500,
                src_addr: addrs[r(rng, 5) as usize],
                dst_addr: addrs[r(rng, 5) as usize],
                src_port: [22, 53, 80, 443, 1024, 50_000][r(rng, 6) as usize],
                dst_port: [22, 53, 80, 443, 1024, 0x0800][r(rng, 6) as usize],
                protocol: [1, 6, 17, 58][r(rng, 4) as usize],
                tcp_flags: r(rng, 64) as u8,
                tos: r(rng, 3) as u8,
                packets: r(rng, 20),
                octets: r(rng, 20_000),
                rev_packets: r(rng, 5),
                rev_octets: r(rng, 3_000),
                input_if: r(rng, 3) as u32,
                output_if: r(rng, 3) as u32,
                src_as: r(rng, 3) as u32 * 100,
                dst_as: r(rng, 3) as u32 * 100,
                src_mask: [0, 16, 24][r(rng, 3) as usize],
                dst_mask: [0, 16, 24][r(rng, 3) as usize],
                next_hop: addrs[r(rng, 3) as usize],
                exporter: addrs[r(rng, 2) as usize],
                sampling_interval: [0, 1, 10][r(rng, 3) as usize],
                ..Default::default()
            }
        })
        .collect()
}

const TERMS: &[&str] = &[
    "any",
    "port 22",
    "src port > 1023",
    "dst port in [ 53 80 ]",
    "src or dst port 443",
    "src and dst port < 1024",
    "host 10.0.0.1",
    "src net 10.0.0.0/16",
    "dst net 2001:db8::/32",
    "ip in [ 192.168.1.1 2001:db8:1::/48 ]",
    "net 10/8",
    "proto tcp",
    "proto udp",
    "ipv6",
    "inet",
    "flags S",
    "flags SA",
    "flags > 16",
    "packets > 10",
    "bytes < 5k",
    "out packets > 2",
    "out bytes 0",
    "duration > 1000",
    "pps > 3",
    "bps < 20000",
    "bpp > 1000",
    "tos 1",
    "if 2",
    "in if 1",
    "out if 0",
    "src as 100",
    "as in [ 200 ]",
    "dst as > 0",
    "src mask 24",
    "mask 16",
    "next ip 10.0.0.1",
    "router ip 10.0.1.2",
    "icmp-type 8",
    "icmp-code 0",
    "flows 1",
    "flows > 1",
];

/// A random expression of up to `depth` levels.
fn random_expression(rng: &mut Rng, depth: u32) -> String {
    match if depth == 0 { 0 } else { rng.next() % 5 } {
        0 | 1 => rng.pick(TERMS).to_string(),
        2 => format!("not {}", random_expression(rng, depth - 1)),
        3 => format!(
            "({} and {})",
            random_expression(rng, depth - 1),
            random_expression(rng, depth - 1)
        ),
        _ => format!(
            "({} or {} or {})",
            random_expression(rng, depth - 1),
            random_expression(rng, depth - 1),
            random_expression(rng, depth - 1)
        ),
    }
}

#[test]
fn compiled_expressions_agree_with_the_reference() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let flows = random_flows(&mut rng, 3000);
    let mut buf = FlowBlockBuf::default();
    for f in &flows {
        buf.push(f);
    }
    let block = buf.view();
    let mut seen_some = 0;
    for round in 0..400 {
        let text = random_expression(&mut rng, 4);
        let e = Expression::parse(&text).unwrap_or_else(|err| panic!("{text}: {err}"));
        let want: Vec<bool> = flows.iter().map(|f| e.root.matches(f)).collect();
        // Evaluated over a block holding only the columns the filter says it reads.
        let f = e.compile();
        let partial = block.only(ColumnSet::of(&f.columns()));
        let mut got = Vec::new();
        let n = f.select(&partial, &mut got);
        assert_eq!(got, want, "round {round}: {text}");
        assert_eq!(n, want.iter().filter(|&&b| b).count());
        if n > 0 && n < flows.len() {
            seen_some += 1;
        }
        // Two filters joined (-F NAME -e EXPR) pass what both pass.
        let other = Expression::parse(rng.pick(TERMS)).unwrap();
        let both = e.compile().and(other.compile());
        let mut joined = Vec::new();
        both.select(&block.only(ColumnSet::of(&both.columns())), &mut joined);
        let want_both: Vec<bool> = flows
            .iter()
            .zip(&want)
            .map(|(f, &w)| w && other.root.matches(f))
            .collect();
        assert_eq!(
            joined, want_both,
            "round {round}: {text} and {}",
            other.text
        );
    }
    assert!(
        seen_some > 100,
        "too few selective expressions: {seen_some}"
    );
}

/// Each term alone selects some of the random flows and not all (so the agreement above means
/// something), and reads only the columns it names.
#[test]
fn terms_are_selective_and_read_their_columns() {
    let mut rng = Rng(42);
    let flows = random_flows(&mut rng, 3000);
    let mut buf = FlowBlockBuf::default();
    for f in &flows {
        buf.push(f);
    }
    let block = buf.view();
    for term in TERMS {
        let e = Expression::parse(term).unwrap();
        let f = e.compile();
        let n = f.select(&block, &mut Vec::new());
        match *term {
            "any" | "flows 1" => assert_eq!(n, flows.len(), "{term}"),
            "flows > 1" => assert_eq!(n, 0, "{term}"),
            _ => assert!(n > 0 && n < flows.len(), "{term}: {n} of {}", flows.len()),
        }
    }
    let cols = Expression::parse("dst port 22 and host 10.0.0.1")
        .unwrap()
        .compile()
        .columns();
    use crate::model::block::ColumnId;
    let mut want = vec![ColumnId::SrcAddr, ColumnId::DstAddr, ColumnId::DstPort];
    want.sort_by_key(|id| *id as u16);
    assert_eq!(cols, want);
}

/// nfdump's NSEL/NEL words test the post-NAT fields, by direction; the compiled filter and the
/// record-by-record reference agree, and a filter file's `ip-xlate-*` lines select the same.
#[test]
fn nat_terms_test_the_translated_fields() {
    let natted = crate::FlowRecord {
        src_addr: "10.0.0.5".parse().unwrap(),
        dst_addr: "203.0.113.80".parse().unwrap(),
        src_port: 5555,
        dst_port: 443,
        protocol: 6,
        xlate_src_addr: "198.51.100.7".parse().unwrap(),
        xlate_src_port: 40013,
        xlate_dst_addr: "192.168.1.80".parse().unwrap(),
        xlate_dst_port: 8443,
        src_vlan: 100,
        ..crate::FlowRecord::default()
    };
    let plain = crate::FlowRecord {
        src_addr: "198.51.100.7".parse().unwrap(),
        src_port: 40013,
        ..natted.clone()
    };
    let plain = crate::FlowRecord {
        xlate_src_addr: "0.0.0.0".parse().unwrap(),
        xlate_src_port: 0,
        xlate_dst_addr: "0.0.0.0".parse().unwrap(),
        xlate_dst_port: 0,
        src_vlan: 0,
        dst_vlan: 7,
        ..plain
    };
    let b = FlowBlockBuf::from_records(&[natted.clone(), plain.clone()]);
    for (text, want) in [
        ("src xip 198.51.100.7", [true, false]),
        ("xip 198.51.100.7", [true, false]),
        ("nip 192.168.1.80", [true, false]),
        ("dst xip 198.51.100.7", [false, false]),
        ("src nip 198.51.100.7 and src xport 40013", [true, false]),
        ("xnet 198.51.100.0/24", [true, false]),
        ("xip in [ 192.0.2.1 192.168.1.0/24 ]", [true, false]),
        ("dst nport 8443", [true, false]),
        ("src xport > 40000", [true, false]),
        ("xport 0", [false, true]),
        ("src vlan 100", [true, false]),
        ("vlan 7", [false, true]),
        ("src ip 198.51.100.7", [false, true]),
        ("not src xip 198.51.100.7", [false, true]),
    ] {
        let e = Expression::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let f = e.compile();
        use crate::model::block::ColumnId::*;
        let cols = f.columns();
        assert_eq!(
            [XlateSrcAddr, XlateDstAddr, XlateSrcPort, XlateDstPort]
                .iter()
                .any(|c| cols.contains(c)),
            !text.starts_with("src ip") && !text.contains("vlan"),
            "{text}: {cols:?}"
        );
        let mut got = Vec::new();
        f.select(&b.view().only(ColumnSet::of(&cols)), &mut got);
        assert_eq!(got, want, "{text} (compiled)");
        let by_record = [e.root.matches(&natted), e.root.matches(&plain)];
        assert_eq!(by_record, want, "{text} (reference)");
    }
    // A filter file's primitives on the same fields.
    let file = "filter-primitive pub\n  type ip-address-prefix\n  permit 198.51.100.0/24\n\
        filter-primitive p\n  type ip-port\n  permit 40013\n\
        filter-definition nat\n  match ip-xlate-source-address pub\n  match xlate-src-ip-port p\n";
    let ff = crate::filter::FilterFile::parse(file, "t", &crate::filter::Variables::new()).unwrap();
    let opts = crate::filter::CompileOptions::default();
    let f = ff.compile("nat", &opts).unwrap();
    let mut got = Vec::new();
    f.select(&b.view(), &mut got);
    assert_eq!(got, [true, false]);
    let interp = ff.interpreter("nat", &opts).unwrap();
    assert_eq!(
        [interp.matches(&natted), interp.matches(&plain)],
        [true, false]
    );
}

/// nfdump's MAC and MPLS words test `src_mac`/`dst_mac` and the labels of the three entries
/// (label = entry >> 4, whatever the exp and bottom-of-stack bits); compiled and record by
/// record agree, and each reads only its columns.
#[test]
fn mac_and_mpls_terms_test_their_fields() {
    let a = crate::FlowRecord {
        src_mac: 0x0011_2233_4455,
        dst_mac: 0x6677_8899_aabb,
        mpls_label1: 16 << 4 | 5 << 1,
        mpls_label2: 1000 << 4 | 1,
        ..crate::FlowRecord::default()
    };
    let b = crate::FlowRecord {
        src_mac: 0x6677_8899_aabb,
        dst_mac: 0,
        mpls_label1: 17 << 4 | 15,
        mpls_label3: 16 << 4 | 1,
        ..crate::FlowRecord::default()
    };
    let blk = FlowBlockBuf::from_records(&[a.clone(), b.clone()]);
    use crate::model::block::ColumnId::*;
    for (text, want, col) in [
        ("src mac 00:11:22:33:44:55", [true, false], SrcMac),
        ("mac 66:77:88:99:AA:BB", [true, true], SrcMac),
        ("dst mac 66:77:88:99:aa:bb", [true, false], DstMac),
        ("src and dst mac 66:77:88:99:aa:bb", [false, false], DstMac),
        ("not dst mac 0:0:0:0:0:0", [true, false], DstMac),
        ("mpls label1 16", [true, false], MplsLabel1),
        ("mpls label1 > 16", [false, true], MplsLabel1),
        ("mpls label1 <= 17", [true, true], MplsLabel1),
        ("mpls label2 1000", [true, false], MplsLabel2),
        ("mpls label3 eq 16", [false, true], MplsLabel3),
        ("not mpls label1 17", [true, false], MplsLabel1),
        ("mpls any 16", [true, true], MplsLabel3),
        ("mpls any 1000", [true, false], MplsLabel2),
    ] {
        let e = Expression::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let f = e.compile();
        let cols = f.columns();
        assert!(cols.contains(&col), "{text}: {cols:?}");
        let mut got = Vec::new();
        f.select(&blk.view().only(ColumnSet::of(&cols)), &mut got);
        assert_eq!(got, want, "{text} (compiled)");
        assert_eq!([e.root.matches(&a), e.root.matches(&b)], want, "{text}");
    }
}

/// `community-id` (the value from Corelight's reference implementation for TCP
/// 1.2.3.4:1122 -> 5.6.7.8:3344) passes both directions of the connection and nothing else,
/// compiled as record by record, alone, negated and inside `and`/`or`; its base64 (`+ / =`)
/// is one word, ended by a blank or `)`.
#[test]
fn community_id_passes_both_directions() {
    let flow = |src: &str, dst: &str, sp: u16, dp: u16| crate::FlowRecord {
        src_addr: src.parse().unwrap(),
        dst_addr: dst.parse().unwrap(),
        protocol: 6,
        src_port: sp,
        dst_port: dp,
        ..crate::FlowRecord::default()
    };
    let flows = [
        flow("1.2.3.4", "5.6.7.8", 1122, 3344),
        flow("5.6.7.8", "1.2.3.4", 3344, 1122),
        flow("1.2.3.4", "5.6.7.8", 1122, 3345),
    ];
    let blk = FlowBlockBuf::from_records(&flows);
    let id = "1:wCb3OG7yAFWelaUydu0D+125CLM=";
    for (text, want) in [
        (format!("community-id {id}"), [true, true, false]),
        (format!("not community-id {id}"), [false, false, true]),
        (format!("(community-id {id})"), [true, true, false]),
        (
            format!("community-id {id} and src port 1122"),
            [true, false, false],
        ),
        (
            format!("port 3345 or (community-id {id})"),
            [true, true, true],
        ),
        (
            format!("not (community-id {id} or port 3345)"),
            [false, false, false],
        ),
    ] {
        let e = Expression::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let f = e.compile();
        let mut got = Vec::new();
        f.select(&blk.view().only(ColumnSet::of(&f.columns())), &mut got);
        assert_eq!(got, want, "{text} (compiled)");
        let reference: Vec<bool> = flows.iter().map(|r| e.root.matches(r)).collect();
        assert_eq!(reference, want, "{text}");
    }
}
