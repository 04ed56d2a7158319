//! Columns added after the first schema (post-NAT addresses and ports, flow id): they round-trip
//! in every encoding, cost nothing where all zero, and files written before them (the committed
//! version-1 files, whose blocks lack them) read them as zero, whole or column by column.

use super::format::{le_u16, BLOCK_HEADER_LEN, COLUMN_ENTRY_LEN, FIRST_LATER_COLUMN};
use super::*;
use crate::model::block::{AddrColumn, ColumnId, ColumnSet, FlowBlockBuf};
use crate::model::record::FlowRecord;
use crate::testing::testdata;
use std::net::IpAddr;

/// NATed flows: IPv4 sources translated to one public address, every tenth to an IPv6 one
/// (NAT64-style), and destination NAT on every third.
fn natted(n: u32) -> Vec<FlowRecord> {
    (0..n)
        .map(|i| FlowRecord {
            start_ms: 1_764_860_000_000 + i as i64 * 10,
            end_ms: 1_764_860_000_500 + i as i64 * 10,
            src_addr: format!("10.0.{}.{}", i / 250, i % 250 + 1).parse().unwrap(),
            dst_addr: "203.0.113.80".parse().unwrap(),
            src_port: 30_000 + i as u16,
            dst_port: 443,
            protocol: 6,
            packets: 3,
            octets: 180,
            xlate_src_addr: if i % 10 == 9 {
                format!("2001:db8::{i:x}").parse().unwrap()
            } else {
                "198.51.100.7".parse().unwrap()
            },
            xlate_src_port: 40_000 + i as u16,
            xlate_dst_addr: if i % 3 == 0 {
                "192.168.1.80".parse().unwrap()
            } else {
                "0.0.0.0".parse().unwrap()
            },
            xlate_dst_port: if i % 3 == 0 { 8443 } else { 0 },
            flow_id: 1_878_049_420 + i as u64,
            ..FlowRecord::default()
        })
        .collect()
}

fn write(recs: &[FlowRecord], compress: Option<i32>, narrow: bool) -> Vec<u8> {
    let opts = WriterOptions {
        compress,
        narrow,
        block_flows: 1000,
        ..WriterOptions::default()
    };
    let mut w = ArchiveWriter::new(Vec::new(), opts).unwrap();
    recs.iter().for_each(|r| w.push(r).unwrap());
    w.finish().unwrap().0
}

fn read(bytes: &[u8]) -> Vec<FlowRecord> {
    let f = ArchiveFile::from_bytes("t.fk", bytes).unwrap();
    (0..f.blocks().len())
        .flat_map(|i| f.block(i).unwrap().records().collect::<Vec<_>>())
        .collect()
}

#[test]
fn nat_columns_round_trip_in_every_encoding() {
    let recs = natted(2500);
    for (compress, narrow) in [(None, false), (None, true), (Some(3), true)] {
        let got = read(&write(&recs, compress, narrow));
        assert_eq!(got.len(), recs.len());
        // Blocks keep IPv4 and IPv6 flows apart only by src/dst: order is kept here.
        assert_eq!(got, recs, "compress {compress:?}, narrow {narrow}");
    }
    // Gathering a few rows reads the new columns too.
    let bytes = write(&recs, Some(3), true);
    let f = ArchiveFile::from_bytes("t.fk", &bytes).unwrap();
    let mut out = FlowBlockBuf::default();
    f.gather_rows(0, None, &[9, 300], &mut out, None).unwrap();
    assert_eq!(out.view().get(0), recs[9]);
    assert_eq!(out.view().get(1), recs[300]);
}

#[test]
fn all_zero_later_columns_have_no_directory_entry() {
    let mut recs = natted(1000);
    let plain: Vec<FlowRecord> = recs
        .iter()
        .map(|r| FlowRecord {
            xlate_src_addr: "0.0.0.0".parse().unwrap(),
            xlate_dst_addr: "0.0.0.0".parse().unwrap(),
            xlate_src_port: 0,
            xlate_dst_port: 0,
            flow_id: 0,
            ..r.clone()
        })
        .collect();
    // Without NAT fields every column added later is all zero, so none has an entry (24 bytes
    // each a block), in every encoding; the first schema's columns keep theirs, zero or not
    // (older readers need them), and the flows read back with zeros there.
    for (compress, narrow) in [(None, false), (None, true), (Some(3), true)] {
        let bytes = write(&plain, compress, narrow);
        let mut columns: Vec<u16> = directory_ids(&bytes, 0)
            .into_iter()
            .filter(|&id| id < 0x8000) // not the Bloom filters
            .collect();
        columns.sort_unstable();
        let first_schema: Vec<u16> = (0..FIRST_LATER_COLUMN).collect();
        assert_eq!(columns, first_schema, "{compress:?}");
        assert_eq!(read(&bytes), plain, "{compress:?} {narrow}");
    }
    // One later column filled (the flow id) has its entry, the others still none: the block
    // is exactly one entry and that column's payload larger.
    let one: Vec<FlowRecord> = plain
        .iter()
        .zip(&recs)
        .map(|(p, r)| FlowRecord {
            flow_id: r.flow_id,
            ..p.clone()
        })
        .collect();
    let (bytes, without) = (write(&one, None, false), write(&plain, None, false));
    let later: Vec<u16> = directory_ids(&bytes, 0)
        .into_iter()
        .filter(|id| (FIRST_LATER_COLUMN..0x8000).contains(id))
        .collect();
    assert_eq!(later, [ColumnId::FlowId as u16]);
    assert_eq!(bytes.len() - without.len(), COLUMN_ENTRY_LEN + 1000 * 8);
    assert_eq!(read(&bytes), one);
    // Blocks with and without the entry in one file (the flow id in the first 1000 flows only)
    // read back as written, and each passes the check a stored copy (`flow-cat`) makes.
    let mixed: Vec<FlowRecord> = one[..1000].iter().chain(&plain[..1000]).cloned().collect();
    let bytes = write(&mixed, Some(3), true);
    let has_flow_id = |i| directory_ids(&bytes, i).contains(&(ColumnId::FlowId as u16));
    assert!(has_flow_id(0) && !has_flow_id(1));
    assert_eq!(read(&bytes), mixed);
    let f = ArchiveFile::from_bytes("t.fk", &bytes).unwrap();
    for i in 0..f.blocks().len() {
        f.check_stored(i, None).unwrap();
    }
    recs.truncate(1);
    assert_eq!(read(&write(&recs, None, false)), recs);
}

/// The column ids in the directory of block `i` of the archive `bytes`, in order.
fn directory_ids(bytes: &[u8], i: usize) -> Vec<u16> {
    let f = ArchiveFile::from_bytes("t.fk", bytes).unwrap();
    let e = f.blocks()[i];
    let block = &bytes[e.offset as usize..(e.offset + e.len) as usize];
    (0..le_u32_at(block, 4) as usize)
        .map(|k| le_u16(block, BLOCK_HEADER_LEN + k * COLUMN_ENTRY_LEN))
        .collect()
}

fn le_u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// The version-1 files of testdata/archive-v1 were written with the first schema: their
/// blocks have no column from id 26 on, and reading them gives zeros there, for a whole
/// block, for a scan of the new columns only, and for gathered rows.
#[test]
fn files_written_before_the_nat_columns_read_them_as_zero() {
    for rel in ["archive-v1/day.v1.fk", "archive-v1/gen-10000.v1.fk"] {
        let bytes = std::fs::read(testdata::path(rel)).unwrap();
        let f = ArchiveFile::from_bytes(rel, &bytes).unwrap();
        let later = ColumnSet::of(&[
            ColumnId::XlateSrcAddr,
            ColumnId::XlateDstAddr,
            ColumnId::XlateSrcPort,
            ColumnId::XlateDstPort,
            ColumnId::FlowId,
            ColumnId::SrcMac,
            ColumnId::DstMac,
            ColumnId::MplsLabel1,
            ColumnId::MplsLabel3,
            ColumnId::AppId,
        ]);
        for i in 0..f.blocks().len() {
            let e = f.blocks()[i];
            let ids = directory_ids(&bytes, i);
            assert!(
                ids.iter()
                    .all(|&id| !(FIRST_LATER_COLUMN..0x8000).contains(&id)),
                "{rel}: {ids:?}"
            );
            let b = f.block_columns(i, later).unwrap();
            assert!(b.is_consistent() || b.start_ms.is_empty());
            assert_eq!(b.xlate_src_port.len(), e.flows as usize);
            assert!(b.xlate_src_port.iter().all(|&p| p == 0));
            assert!(b.flow_id.iter().all(|&v| v == 0));
            assert_eq!(b.src_mac.len(), e.flows as usize);
            assert!(b.src_mac.iter().chain(b.dst_mac).all(|&v| v == 0));
            assert!(b.mpls_label1.iter().chain(b.mpls_label3).all(|&v| v == 0));
            assert!(b.app_id.iter().all(|&v| v == 0));
            assert!(matches!(b.xlate_src_addr, AddrColumn::V4(v) if v.iter().all(|&a| a == 0)));
            let whole = f.block(i).unwrap();
            assert!(whole
                .records()
                .all(|r| r.xlate_dst_addr == IpAddr::from([0, 0, 0, 0])));
            let mut out = FlowBlockBuf::default();
            f.gather_rows(i, None, &[0], &mut out, None).unwrap();
            assert_eq!(out.view().get(0), whole.get(0));
        }
    }
}

/// MAC, MPLS and application-id columns (ids 34-39) round-trip in every encoding, and the same
/// flows without them cost nothing: no payload and no directory entry.
#[test]
fn l2_columns_round_trip_and_cost_nothing_when_zero() {
    let recs: Vec<FlowRecord> = natted(2500)
        .into_iter()
        .enumerate()
        .map(|(i, r)| FlowRecord {
            src_mac: 0x0200_5e10_0000 + (i % 7) as u64,
            dst_mac: 0x0011_2233_4455,
            mpls_label1: ((16 + i % 3) as u32) << 4 | 1,
            mpls_label2: if i % 2 == 0 { 1000 << 4 } else { 0 },
            mpls_label3: 0xff_ffff,
            app_id: crate::model::l2::app_id(&[13, 0, 0, (i % 200) as u8]).unwrap(),
            ..r
        })
        .collect();
    for (compress, narrow) in [(None, false), (None, true), (Some(3), true)] {
        assert_eq!(
            read(&write(&recs, compress, narrow)),
            recs,
            "{compress:?} {narrow}"
        );
    }
    let plain: Vec<FlowRecord> = natted(2500);
    let bare = FlowRecord {
        src_mac: 0,
        dst_mac: 0,
        mpls_label1: 0,
        mpls_label2: 0,
        mpls_label3: 0,
        app_id: 0,
        ..plain[0].clone()
    };
    assert_eq!(bare, plain[0]);
    // Filled, 2500 flows x (8 + 8 + 4 x 3 + 8) bytes and six directory entries in each of the
    // three blocks; all zero, neither.
    let (with, without) = (write(&recs, None, false), write(&plain, None, false));
    assert_eq!(
        with.len() - without.len(),
        2500 * 36 + 3 * 6 * COLUMN_ENTRY_LEN
    );
}
