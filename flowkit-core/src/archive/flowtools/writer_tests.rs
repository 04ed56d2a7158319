//! The writer against flow-tools' own files: the records it writes for the flows of a real
//! flow-capture file are that file's records byte for byte (times compared as flow-tools'
//! `ftltime` computes them), and what it writes reads back as the flows it was given.

use super::*;
use crate::archive::flowtools::FlowToolsReader;
use crate::model::block::FlowBlockBuf;
use crate::testing::testdata;
use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const V5RAW: &str = "flow-tools/variants/v5raw/ft-v05.2026-11-22.165925+0000";
const V5BIG: &str = "flow-tools/variants/v5big/ft-v05.2026-11-22.165931+0000";
const DAY: &str = "2010-11-09/ft-v05.2010-11-09.000000+0000";

/// Every flow of a flow-tools file, read with our reader.
fn flows_of(bytes: &[u8]) -> (crate::archive::flowtools::FlowToolsHeader, Vec<FlowRecord>) {
    let mut r = FlowToolsReader::new("test", &[], bytes).unwrap();
    let mut out = Vec::new();
    let mut buf = FlowBlockBuf::default();
    while r.next_block(&mut buf, 1000).unwrap() > 0 {
        out.extend(buf.view().records());
    }
    (r.header().clone(), out)
}

fn write(flows: &[FlowRecord], opts: FtWriteOptions) -> (Vec<u8>, u64, FtLosses) {
    let mut w = FlowToolsWriter::new(Cursor::new(Vec::new()), opts).unwrap();
    for f in flows {
        w.write_record(f).unwrap();
    }
    let (c, n, l) = w.finish_file().unwrap();
    (c.into_inner(), n, l)
}

/// The record bytes of a flow-tools file (inflated when its header says compressed).
fn records(bytes: &[u8]) -> Vec<Vec<u8>> {
    let h = crate::archive::flowtools::read_header("test", &[], &mut &bytes[..]).unwrap();
    let mut data = bytes[h.header_len..].to_vec();
    if h.is_compressed() {
        let mut z = flate2::read::ZlibDecoder::new(&bytes[h.header_len..]);
        data.clear();
        std::io::Read::read_to_end(&mut z, &mut data).unwrap();
    }
    assert_eq!(data.len() % 64, 0);
    data.chunks_exact(64).map(<[u8]>::to_vec).collect()
}

fn uptime_field(rec: &[u8], off: usize, big: bool) -> u64 {
    let b: [u8; 4] = rec[off..off + 4].try_into().unwrap();
    let v = if big {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    };
    v as u64
}

/// flow-tools' `ftltime` (lib/ftio.c): absolute ms of sysUpTime `t` in a record.
fn ftltime(rec: &[u8], off: usize, big: bool) -> u64 {
    let u = |o: usize| {
        let b: [u8; 4] = rec[o..o + 4].try_into().unwrap();
        let v = if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        };
        v as u64
    };
    u(0) * 1000 + u(4) / 1_000_000 - u(8) + u(off)
}

fn same_records_as_flow_capture(file: &str, big: bool) {
    let theirs = std::fs::read(testdata::path(file)).unwrap();
    let (_, flows) = flows_of(&theirs);
    assert_eq!(flows.len(), 3498);
    let opts = FtWriteOptions {
        big_endian: big,
        ..FtWriteOptions::default()
    };
    let (ours, n, losses) = write(&flows, opts);
    assert_eq!(n, 3498);
    assert!(losses.is_empty(), "{losses}");
    let (a, b) = (records(&theirs), records(&ours));
    assert_eq!(a.len(), b.len());
    for (i, (t, o)) in a.iter().zip(&b).enumerate() {
        // Exporter address to AS numbers: flow-capture's bytes. Bytes 40-47 (First, Last)
        // are compared as times, byte 55 is padding.
        assert_eq!(t[12..40], o[12..40], "record {i}, addresses and counters");
        assert_eq!(
            t[48..55],
            o[48..55],
            "record {i}, ports, protocol, tos, flags"
        );
        assert_eq!(t[56..64], o[56..64], "record {i}, engine, masks, AS");
        // First and Last give the same absolute times in flow-tools' arithmetic.
        assert_eq!(ftltime(t, 40, big), ftltime(o, 40, big), "record {i} start");
        assert_eq!(ftltime(t, 44, big), ftltime(o, 44, big), "record {i} end");
    }
    // One sysUpTime clock for the file, as one router's: flow-stat's "Duration of data" is
    // the largest Last minus the smallest First.
    let span = |rs: &[Vec<u8>]| {
        let first = rs.iter().map(|r| uptime_field(r, 40, big)).min().unwrap();
        let last = rs.iter().map(|r| uptime_field(r, 44, big)).max().unwrap();
        last - first
    };
    assert_eq!(span(&a), span(&b));
}

#[test]
fn little_endian_records_are_flow_captures_own() {
    same_records_as_flow_capture(V5RAW, false);
}

#[test]
fn big_endian_records_are_flow_captures_own() {
    same_records_as_flow_capture(V5BIG, true);
}

#[test]
fn compressed_file_reads_back_with_count_times_and_flags() {
    let (_, flows) = flows_of(&std::fs::read(testdata::path(DAY)).unwrap());
    let opts = FtWriteOptions {
        level: 6,
        streaming: false,
        comments: Some("flowkit test".into()),
        ..FtWriteOptions::default()
    };
    let (bytes, _, _) = write(&flows, opts);
    // Bytes 0-3 as flow-tools' header starts: magic, little endian, stream version 3.
    assert_eq!(bytes[..4], [0xCF, 0x10, 1, 3]);
    let (h, back) = flows_of(&bytes);
    assert_eq!(back, flows);
    assert_eq!(h.export_version, 5);
    assert_eq!(h.flows, Some(3498));
    assert!(h.is_done() && h.is_compressed());
    assert_eq!(h.flags & FLAG_STREAMING, 0);
    assert_eq!(h.comments.as_deref(), Some("flowkit test"));
    let first = flows.iter().map(|f| f.start_ms).min().unwrap() / 1000;
    let last = flows.iter().map(|f| f.end_ms).max().unwrap() / 1000;
    assert_eq!(h.cap_start, Some(first as u32));
    assert_eq!(h.cap_end, Some(last as u32));
    assert_eq!(h.header_len % 4, 0);
}

#[test]
fn stream_has_no_count_and_concatenates() {
    let (_, flows) = flows_of(&std::fs::read(testdata::path(DAY)).unwrap());
    let mut w = FlowToolsWriter::new(Vec::new(), FtWriteOptions::default()).unwrap();
    for f in &flows[..100] {
        w.write_record(f).unwrap();
    }
    let (bytes, n, _) = w.finish().unwrap();
    assert_eq!(n, 100);
    let (h, back) = flows_of(&bytes);
    assert_eq!(h.flows, None);
    assert_eq!(h.flags, FLAG_STREAMING);
    assert_eq!(back, flows[..100]);
}

fn flow(src: IpAddr, dst: IpAddr) -> FlowRecord {
    FlowRecord {
        start_ms: 1_289_260_800_250,
        end_ms: 1_289_260_805_999,
        src_addr: src,
        dst_addr: dst,
        packets: 3,
        octets: 180,
        protocol: 6,
        ..FlowRecord::default()
    }
}

#[test]
fn what_v5_cannot_hold_is_skipped_or_clamped_and_counted() {
    let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    let b = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
    let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    let plain = flow(a, b);
    let big = FlowRecord {
        packets: 1 << 33,
        octets: 5,
        src_as: 4_200_000_000,
        input_if: 70_000,
        exporter: v6,
        rev_octets: 9,
        ..plain.clone()
    };
    let before_1970 = FlowRecord {
        start_ms: -5000,
        end_ms: -1000,
        ..plain.clone()
    };
    let backwards = FlowRecord {
        start_ms: plain.end_ms,
        end_ms: plain.start_ms,
        ..plain.clone()
    };
    let input = [
        plain.clone(),
        flow(v6, b),
        flow(a, v6),
        big,
        before_1970,
        backwards.clone(),
    ];
    let (bytes, n, l) = write(&input, FtWriteOptions::default());
    assert_eq!(n, 3);
    assert_eq!(l.skipped_ipv6, 2);
    assert_eq!(l.skipped_time, 1);
    assert_eq!(l.skipped(), 3);
    assert_eq!(
        (l.counters_clamped, l.as_trans, l.ifindex_clamped),
        (1, 1, 1)
    );
    assert_eq!((l.v6_exporter_or_next_hop, l.fields_dropped), (1, 1));
    let shown = l.to_string();
    assert!(shown.contains("2 IPv6 flows skipped"), "{shown}");
    let (_, back) = flows_of(&bytes);
    assert_eq!(back[0], plain);
    assert_eq!(back[1].packets, u32::MAX as u64);
    assert_eq!(back[1].src_as, 23456);
    assert_eq!(back[1].input_if, 65535);
    assert_eq!(back[1].exporter, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    assert_eq!(back[1].rev_octets, 0);
    assert_eq!(back[2], backwards);
}

#[test]
fn times_follow_ftltime_to_the_millisecond() {
    let mut l = FtLosses::default();
    let f = flow(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
    );
    let t = v5_times(&f, f.start_ms - 1000, &mut l).unwrap();
    assert_eq!((t.first, t.last), (1000, 1000 + 5749));
    let abs =
        |x: u32| t.secs as i64 * 1000 + (t.nsecs / 1_000_000) as i64 - t.uptime as i64 + x as i64;
    assert_eq!(abs(t.first), f.start_ms);
    assert_eq!(abs(t.last), f.end_ms);
    // A flow longer than 2^32 ms keeps its end; the start moves up.
    let long = FlowRecord {
        start_ms: 0,
        end_ms: 5_000_000_000,
        ..f
    };
    let t = v5_times(&long, -1, &mut l).unwrap();
    assert_eq!((t.uptime, t.first, t.last), (u32::MAX, 0, u32::MAX));
    assert_eq!(l.duration_clamped, 1);
}
