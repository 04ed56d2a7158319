//! Unit tests of the flow-stat report engine (the byte-for-byte comparison with flow-tools'
//! own outputs is in flow-stat/tests/flowtools_goldens.rs).

use super::*;
use crate::model::block::FlowBlockBuf;
use crate::model::record::FlowRecord;
use std::net::{IpAddr, Ipv4Addr};

fn flow(src: [u8; 4], mask: u8, octets: u64, packets: u64) -> FlowRecord {
    FlowRecord {
        start_ms: 1_000,
        end_ms: 1_500,
        src_addr: IpAddr::V4(Ipv4Addr::from(src)),
        dst_addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        src_mask: mask,
        octets,
        packets,
        protocol: 6,
        ..FlowRecord::default()
    }
}

fn run(format: usize, sort_order: i32, flows: &[FlowRecord]) -> String {
    let mut buf = FlowBlockBuf::default();
    for f in flows {
        buf.push(f);
    }
    let mut r = StatReport::new(Options {
        format,
        sort_order,
        cc: '#',
        ..Options::default()
    });
    r.observe(&buf.view()).unwrap();
    let mut out = Vec::new();
    r.write(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn prefixes_drop_trailing_zero_octets_and_mask_host_bits() {
    let out = run(
        24,
        0,
        &[
            flow([212, 242, 7, 9], 16, 100, 1),
            flow([10, 1, 2, 3], 0, 1, 1),
        ],
    );
    let lines: Vec<&str> = out.lines().skip(3).collect();
    assert_eq!(lines[0].split_whitespace().next(), Some("212.242/16"));
    // A length of 0 keeps the whole address (flow-tools' ipv4_len2mask).
    assert_eq!(lines[1].split_whitespace().next(), Some("10.1.2.3/0"));
}

#[test]
fn descending_sort_puts_ties_last_seen_first() {
    let flows = [
        flow([1, 1, 1, 1], 0, 5, 1),
        flow([2, 2, 2, 2], 0, 5, 1),
        flow([3, 3, 3, 3], 0, 9, 1),
    ];
    let out = run(9, 3, &flows); // -S 2: octets
    let keys: Vec<&str> = out
        .lines()
        .skip(3)
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(keys, ["3.3.3.3", "2.2.2.2", "1.1.1.1"]);
    let out = run(9, -3, &flows); // -s 2
    let keys: Vec<&str> = out
        .lines()
        .skip(3)
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(keys, ["1.1.1.1", "2.2.2.2", "3.3.3.3"]);
}

#[test]
fn ipv6_addresses_are_an_error_in_address_reports() {
    let mut f = flow([1, 1, 1, 1], 0, 5, 1);
    f.src_addr = "2001:db8::1".parse().unwrap();
    let mut buf = FlowBlockBuf::default();
    buf.push(&f);
    let mut r = StatReport::new(Options {
        format: 9,
        cc: '#',
        ..Options::default()
    });
    let err = r.observe(&buf.view()).unwrap_err();
    assert!(err.contains("2001:db8::1"), "{err}");
}

#[test]
fn record_fields_follow_the_flowtools_version() {
    let v1 = RecordFields::of_flowtools_version(1);
    assert!(!v1.serve(19) && !v1.serve(24) && !v1.serve(28) && v1.serve(27));
    let v5 = RecordFields::of_flowtools_version(5);
    assert!(v5.serve(19) && !v5.serve(30));
    assert!(RecordFields::of_flowtools_version(1005).serve(32));
}

#[test]
fn a_32_bit_as_is_an_error_in_flowtools_16_bit_tables() {
    let mut f = flow([1, 1, 1, 1], 0, 5, 1);
    f.src_as = 4_200_000_000;
    let mut buf = FlowBlockBuf::default();
    buf.push(&f);
    let mut r = StatReport::new(Options {
        format: 19,
        cc: '#',
        ..Options::default()
    });
    let err = r.observe(&buf.view()).unwrap_err();
    assert!(err.contains("4200000000"), "{err}");
    // The AS pair report is a hash: it keeps the whole number.
    let out = run(21, 0, &[f]);
    assert!(out.contains("4200000000"), "{out}");
}

#[test]
fn octets_above_32_bits_are_kept_whole() {
    let out = run(3, 0, &[flow([1, 1, 1, 1], 0, 5_000_000_000, 1)]);
    assert!(
        out.lines().nth(3).unwrap().starts_with("5000000000"),
        "{out}"
    );
}

#[test]
fn numbers_wider_than_flowtools_columns_are_never_cut() {
    // flow-tools prints `%-10.10s`; its counters fit, flowkit's 64-bit ones may not.
    let out = run(3, 0, &[flow([1, 1, 1, 1], 0, 123_456_789_012, 1)]);
    assert!(
        out.lines().nth(3).unwrap().starts_with("123456789012  "),
        "{out}"
    );
}
