use super::*;
use crate::model::block::ColumnId;
use crate::model::record::FlowRecord;
use std::net::{IpAddr, Ipv4Addr};

fn sample(n: u32) -> Vec<FlowRecord> {
    (0..n)
        .map(|i| FlowRecord {
            start_ms: 1_289_260_800_000 + i as i64 * 1000,
            end_ms: 1_289_260_800_000 + i as i64 * 1000 + 750,
            src_addr: if i % 5 == 4 {
                IpAddr::V6(format!("2001:db8::{i:x}").parse().unwrap())
            } else {
                IpAddr::V4(Ipv4Addr::from(0xbd16_24a5u32.wrapping_add(i)))
            },
            dst_addr: IpAddr::V4(Ipv4Addr::new(10, 0, (i >> 8) as u8, i as u8)),
            src_port: 1024 + i as u16,
            dst_port: 22,
            protocol: 6,
            tcp_flags: 0x1b,
            packets: 1 + i as u64,
            octets: 40 * (1 + i as u64),
            exporter: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ..FlowRecord::default()
        })
        .collect()
}

fn write_archive(recs: &[FlowRecord], block_flows: usize) -> Vec<u8> {
    write_archive_to(Vec::new(), recs, block_flows)
}

/// Writes `recs` in blocks of `block_flows` to `sink`; returns the sink.
fn write_archive_to<W: std::io::Write>(sink: W, recs: &[FlowRecord], block_flows: usize) -> W {
    let opts = WriterOptions {
        block_flows,
        ..WriterOptions::default()
    };
    let mut w = ArchiveWriter::new(sink, opts).unwrap();
    for r in recs {
        w.push(r).unwrap();
    }
    w.finish().unwrap().0
}

/// Reads every flow it can; returns the flows and the first error met.
fn read_all(bytes: &[u8]) -> (Vec<FlowRecord>, Option<ArchiveError>) {
    let f = match ArchiveFile::from_bytes("t.fk", bytes) {
        Ok(f) => f,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut out = Vec::new();
    for i in 0..f.blocks().len() {
        // The Bloom filter is read first, as a filtered scan does; it must check out too.
        if let Err(e) = f.block_bloom(i) {
            return (out, Some(e));
        }
        match f.block(i) {
            Ok(b) => out.extend(b.records()),
            Err(e) => return (out, Some(e)),
        }
    }
    let tail = f
        .tail_error()
        .map(|e| ArchiveError::corrupt("t.fk", e.offset().unwrap_or(0), e.to_string()));
    (out, tail)
}

#[test]
fn round_trip_with_index() {
    let recs = sample(25);
    let bytes = write_archive(&recs, 8);
    let f = ArchiveFile::from_bytes("t.fk", &bytes).unwrap();
    assert!(f.is_complete());
    assert_eq!(f.blocks().len(), 4);
    assert_eq!(f.flow_count(), 25);
    let (got, err) = read_all(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got, recs);
}

#[test]
fn stream_reader_reads_the_same_flows() {
    let recs = sample(19);
    let bytes = write_archive(&recs, 4);
    let mut r = StreamReader::new("stdin", &bytes[..3], &bytes[3..]).unwrap();
    let mut buf = AlignedBuf::default();
    let mut got = Vec::new();
    while let Some(item) = r.next_block_into(&mut buf).unwrap() {
        let StreamItem::Block(off) = item else {
            panic!("a written stream holds blocks, not references");
        };
        let scratch = ColumnScratch::new();
        let (b, _) = reader::view_block("stdin", buf.as_bytes(), off, &scratch).unwrap();
        got.extend(b.records());
    }
    assert_eq!(got, recs);
}

#[test]
fn block_references_round_trip_and_damage_is_caught() {
    let r = BlockRef {
        path: std::sync::Arc::new("/data/flows/2010/ft.2010-11-09.140000+0000".into()),
        identity: reference::FileIdentity {
            dev: 2049,
            ino: 123_456,
            size: 9_999_999,
            mtime_ns: 1_289_311_200_123_456_789,
        },
        offset: 4096,
        len: 700_000,
        flows: 8192,
        rows: None,
    };
    // The whole block, and some of its rows (first, last, around word edges).
    let some = r.select(&[0, 1, 63, 64, 65, 4000, 8191]);
    for r in [r, some] {
        let mut bytes = Vec::new();
        reference::encode_ref(&r, &mut bytes);
        assert_eq!(bytes.len() % 8, 0);
        assert_eq!(reference::parse_ref("s", &bytes, 0).unwrap(), r);
        for pos in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[pos] ^= 0x10;
            let len_ok = reference::ref_len("s", &bad, 0).is_ok_and(|n| n == bad.len());
            if len_ok {
                assert!(
                    reference::parse_ref("s", &bad, 0).is_err(),
                    "flip at {pos} unnoticed"
                );
            }
        }
    }
}

/// A row bitmap naming no row, or a row past the block's end, is refused even when its
/// checksum is right (a buggy writer, not a damaged pipe).
#[test]
fn block_references_to_no_rows_or_rows_past_the_block_are_refused() {
    let r = BlockRef {
        path: std::sync::Arc::new("/data/ft.x".into()),
        identity: reference::FileIdentity {
            dev: 1,
            ino: 2,
            size: 3,
            mtime_ns: 4,
        },
        offset: 0,
        len: 100,
        flows: 10,
        rows: None,
    };
    for rows in [&[][..], &[10], &[3, 12]] {
        let mut bytes = Vec::new();
        reference::encode_ref(&r.select(rows), &mut bytes);
        let e = reference::parse_ref("pipe", &bytes, 64)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("pipe") && e.contains("64") && e.contains("row bitmap"),
            "{e}"
        );
    }
    // A selection of a selection names rows of the block.
    let s = r.select(&[1, 4, 6, 9]).select(&[0, 2, 3]);
    assert_eq!(s.rows.as_deref(), Some(&[1, 6, 9][..]));
    assert_eq!(s.flows_passed(), 3);
}

#[test]
fn block_time_ranges_are_recorded() {
    let recs = sample(16);
    let bytes = write_archive(&recs, 8);
    let f = ArchiveFile::from_bytes("t.fk", &bytes).unwrap();
    let b0 = f.blocks()[0];
    assert_eq!(b0.min_start_ms, recs[0].start_ms);
    assert_eq!(b0.max_start_ms, recs[7].start_ms);
    assert_eq!(b0.max_end_ms, recs[7].end_ms);
    assert!(!b0.may_start_within(Some(recs[8].start_ms), None));
    assert!(b0.may_start_within(None, Some(recs[7].start_ms + 1)));
}

#[test]
fn truncation_at_every_byte_is_a_clean_error_or_a_prefix() {
    let recs = sample(12);
    let bytes = write_archive(&recs, 5);
    for cut in 0..bytes.len() {
        let (got, err) = read_all(&bytes[..cut]);
        assert!(got.len() <= recs.len());
        assert_eq!(got[..], recs[..got.len()], "cut at {cut}: flows differ");
        if got.len() < recs.len() {
            let err = err.unwrap_or_else(|| panic!("cut at {cut}: lost flows silently"));
            let msg = err.to_string();
            assert!(msg.starts_with("t.fk:"), "{msg}");
            if let Some(off) = err.offset() {
                assert!(off <= cut as u64, "cut at {cut}: error names byte {off}");
            }
        }
    }
}

#[test]
fn flipped_bytes_are_detected_or_harmless() {
    let recs = sample(12);
    let bytes = write_archive(&recs, 5);
    let f = ArchiveFile::from_bytes("t.fk", &bytes).unwrap();
    let blocks_start = f.blocks()[0].offset as usize;
    let last = f.blocks().last().unwrap();
    let blocks_end = (last.offset + last.len) as usize;
    let mut detected = 0;
    for pos in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[pos] ^= 0x20;
        let (got, err) = read_all(&bad);
        assert_eq!(
            got[..],
            recs[..got.len()],
            "flip at {pos}: wrong flows returned"
        );
        match err {
            Some(e) => {
                detected += 1;
                assert!(e.to_string().starts_with("t.fk:"));
            }
            None => {
                assert_eq!(got.len(), recs.len(), "flip at {pos}: flows lost silently");
                // Only the index and trailer may take a flip without an error (the reader then
                // walks the blocks instead); every byte of the header and of a block is checked.
                assert!(
                    pos >= blocks_end,
                    "flip at {pos} (blocks {blocks_start}..{blocks_end}) went unnoticed"
                );
            }
        }
    }
    assert!(
        detected > bytes.len() / 2,
        "only {detected} of {} flips detected",
        bytes.len()
    );
}

#[test]
fn flip_inside_a_column_names_its_offset() {
    let recs = sample(10);
    let bytes = write_archive(&recs, 10);
    let f = ArchiveFile::from_bytes("t.fk", &bytes).unwrap();
    let block_off = f.blocks()[0].offset as usize;
    let payload = block_off
        + format::BLOCK_HEADER_LEN
        + format::le_u32(&bytes, block_off + 4) as usize * format::COLUMN_ENTRY_LEN;
    let mut bad = bytes.clone();
    bad[payload + 3] ^= 1; // inside start_ms, the first column
    let f = ArchiveFile::from_bytes("t.fk", &bad).unwrap();
    let e = f.block(0).unwrap_err();
    assert_eq!(e.offset(), Some(payload as u64));
    assert!(e.to_string().contains("start_ms"), "{e}");
}

#[test]
fn not_an_archive_is_named() {
    let e = ArchiveFile::from_bytes(
        "x.txt",
        b"hello world, this is not a flow archive at all....................",
    )
    .err()
    .unwrap();
    assert_eq!(e.to_string(), "x.txt: not a flowkit archive");
}

#[test]
fn file_writer_publishes_by_rename() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a/b/ft.2010-11-09.000000+0000");
    let mut w = ArchiveFileWriter::create(&target, WriterOptions::default()).unwrap();
    for r in sample(7) {
        w.writer().push(&r).unwrap();
    }
    assert!(!target.exists());
    assert!(writer::temp_name(&target).exists());
    let s = w.finish().unwrap();
    assert_eq!(s.flows, 7);
    assert!(target.exists() && !writer::temp_name(&target).exists());
    let f = ArchiveFile::open(&target, false).unwrap();
    assert_eq!(f.header().flow_count, 7);
    assert!(f.header().is_complete());
    assert_eq!(f.flow_count(), 7);
}

#[test]
fn all_zero_columns_take_no_space_and_read_back_as_zeros() {
    let recs = sample(100);
    let mut with_tags = recs.clone();
    // One non-zero value too far from zero to store narrow makes the column plain again.
    with_tags[50].src_tag = 70_000;
    let write = |recs: &[FlowRecord], compress: Option<i32>| {
        let opts = WriterOptions {
            block_flows: 100,
            compress,
            ..WriterOptions::default()
        };
        let mut w = ArchiveWriter::new(Vec::new(), opts).unwrap();
        recs.iter().for_each(|r| w.push(r).unwrap());
        w.finish().unwrap().0
    };
    // Uncompressed (version 1): the column costs exactly its plain bytes.
    let plain = write(&with_tags, None);
    assert_eq!(
        plain.len() - write(&recs, None).len(),
        100 * 4,
        "src_tag stored only when non-zero"
    );
    // Compressed, the zero column still costs nothing (and the other one less than plain).
    let (plain, zero) = (write(&with_tags, Some(3)), write(&recs, Some(3)));
    assert!(zero.len() < plain.len() && plain.len() - zero.len() < 100 * 4);
    let (got, err) = read_all(&zero);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got, recs);
    let f = ArchiveFile::from_bytes("t.fk", &zero).unwrap();
    let b = f.block(0).unwrap();
    assert_eq!(b.src_tag, &[0u32; 100][..]);
    assert!(matches!(b.next_hop, crate::AddrColumn::V4(v) if v.len() == 100));
}

#[test]
fn raw_blocks_copied_into_another_archive_read_back_the_same() {
    let recs = sample(30);
    let bytes = write_archive(&recs, 7);
    let f = ArchiveFile::from_bytes("t.fk", &bytes).unwrap();
    let mut w = ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
    w.push(&recs[0]).unwrap(); // a pending flow is flushed first, keeping the order
    for i in 0..f.blocks().len() {
        let view = f.block(i).unwrap();
        w.write_raw_block(f.block_bytes(i), &view).unwrap();
    }
    let (out, summary) = w.finish().unwrap();
    assert_eq!(summary.flows, 31);
    let (got, err) = read_all(&out);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got[0], recs[0]);
    assert_eq!(got[1..], recs[..]);
    let g = ArchiveFile::from_bytes("u.fk", &out).unwrap();
    assert!(g.is_complete());
    assert_eq!(g.blocks()[1].min_start_ms, recs[0].start_ms);
}

#[test]
fn split_families_keeps_ipv4_blocks_narrow_and_every_flow() {
    // sample() puts an IPv6 source on every fifth flow.
    let recs = sample(40);
    let opts = WriterOptions {
        block_flows: 8,
        split_families: true,
        ..WriterOptions::default()
    };
    let mut w = ArchiveWriter::new(Vec::new(), opts).unwrap();
    // Half pushed one by one, half written as a (mixed, hence wide) block.
    for r in &recs[..20] {
        w.push(r).unwrap();
    }
    let block = crate::FlowBlockBuf::from_records(&recs[20..]);
    w.write_block(&block.view(), None).unwrap();
    let (bytes, summary) = w.finish().unwrap();
    assert_eq!(summary.flows, 40);
    let f = ArchiveFile::from_bytes("t.fk", &bytes).unwrap();
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for i in 0..f.blocks().len() {
        let b = f.block(i).unwrap();
        let wide = matches!(b.src_addr, crate::AddrColumn::V6(_));
        let recs: Vec<_> = b.records().collect();
        assert!(
            recs.iter().all(|r| r.src_addr.is_ipv6() == wide),
            "block {i} mixes families"
        );
        if wide {
            v6.extend(recs)
        } else {
            v4.extend(recs)
        }
    }
    // Each family keeps its order; together they are every flow written.
    let want4: Vec<_> = recs
        .iter()
        .filter(|r| r.src_addr.is_ipv4())
        .cloned()
        .collect();
    let want6: Vec<_> = recs
        .iter()
        .filter(|r| r.src_addr.is_ipv6())
        .cloned()
        .collect();
    assert_eq!(v4, want4);
    assert_eq!(v6, want6);
}

/// Found by the `archive` fuzz target: a stream whose block header announces a huge block made
/// the stream reader allocate it (2 GiB) before reading a byte of it.
#[test]
fn a_block_announcing_more_than_its_columns_can_hold_is_corrupt_not_allocated() {
    let recs = sample(3);
    let mut bytes = write_archive(&recs, 3);
    let f = ArchiveFile::from_bytes("t.fk", &bytes).unwrap();
    let b = f.blocks()[0].offset as usize;
    // payload_len: 0xFFFF_FFF8 for 3 flows.
    bytes[b + 12..b + 16].copy_from_slice(&0xFFFF_FFF8u32.to_le_bytes());
    let mut r = StreamReader::new("s", &[], &bytes[..]).unwrap();
    let mut buf = AlignedBuf::default();
    let e = r.next_block_into(&mut buf).unwrap_err();
    assert!(e.to_string().contains("implausible block header"), "{e}");
    assert!(buf.as_bytes().len() <= format::BLOCK_HEADER_LEN);
}

/// A plausible but large block (2^20 flows) in a stream that ends early: the buffer grows only
/// with the bytes that arrive.
#[test]
fn a_stream_cut_inside_a_large_block_allocates_only_what_arrived() {
    let recs = sample(3);
    let mut bytes = write_archive(&recs, 3);
    let f = ArchiveFile::from_bytes("t.fk", &bytes).unwrap();
    let b = f.blocks()[0].offset as usize;
    bytes[b + 8..b + 12].copy_from_slice(&format::MAX_BLOCK_FLOWS.to_le_bytes());
    bytes[b + 12..b + 16].copy_from_slice(&(400u32 << 20).to_le_bytes());
    let mut r = StreamReader::new("s", &[], &bytes[..]).unwrap();
    let mut buf = AlignedBuf::default();
    let e = r.next_block_into(&mut buf).unwrap_err();
    assert!(e.to_string().contains("incomplete"), "{e}");
    assert!(buf.as_bytes().len() <= 1 << 20, "{}", buf.as_bytes().len());
}

/// Found by the `archive` fuzz target: a trailer whose index offset is near 2^64 overflowed the
/// bounds check (a panic with overflow checks; in a release build the check wrapped and slicing
/// the index panicked).
#[test]
fn a_trailer_pointing_past_the_end_of_memory_is_ignored() {
    let recs = sample(5);
    let mut bytes = write_archive(&recs, 2);
    let t = bytes.len() - format::TRAILER_LEN;
    bytes[t + 8..t + 16].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
    let f = ArchiveFile::from_bytes("t.fk", &bytes).unwrap();
    // The index is not used; the blocks are walked instead, and all flows read.
    let (got, err) = read_all(&bytes);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got, recs);
    assert!(f.is_complete());
}

/// A sink that takes at most `step` bytes a call and counts its calls, as a pipe or a
/// signal-interrupted write may.
struct Trickle {
    bytes: Vec<u8>,
    step: usize,
    calls: usize,
}

impl std::io::Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(7) {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(self.step);
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn blocks_written_in_pieces_by_a_slow_sink_read_back_whole() {
    // Block sizes that leave u8/u16/u32 columns unpadded and padded (checksums over padding).
    let recs = sample(301);
    for block_flows in [1, 3, 8, 64, 301] {
        let reference = write_archive(&recs, block_flows);
        for step in [1, 5, 4096] {
            let sink = Trickle {
                bytes: Vec::new(),
                step,
                calls: 0,
            };
            let bytes = write_archive_to(sink, &recs, block_flows).bytes;
            assert_eq!(
                bytes.len(),
                reference.len(),
                "block_flows {block_flows} step {step}"
            );
            let (back, err) = read_all(&bytes);
            assert!(err.is_none(), "{err:?}");
            assert_eq!(back, recs);
        }
    }
}

#[test]
fn a_block_laid_out_in_parts_checksums_each_column_with_its_padding() {
    // 77 flows: u8, u16 and u32 columns all need padding, plain or narrow.
    let recs = sample(77);
    let mut buf = crate::model::block::FlowBlockBuf::default();
    for r in &recs {
        buf.push(r);
    }
    let block = buf.view();
    for (narrow, compress) in [
        (false, None),
        (true, None),
        (true, Some(3)),
        (false, Some(1)),
    ] {
        let (mut bufs, mut head, mut parts) =
            (writer::BlockBufs::default(), Vec::new(), Vec::new());
        let opts = writer::ColumnOptions {
            narrow,
            compress,
            frame_rows: 0,
        };
        let info = writer::encode_block_parts(&block, &mut bufs, opts, &mut head, &mut parts);
        let mut laid = head.clone();
        parts.iter().for_each(|p| laid.extend_from_slice(p));
        assert_eq!(laid.len() as u64, info.total_len());
        // Each column's checksum in the directory is that of its bytes and padding in one piece.
        let payload =
            &laid[format::BLOCK_HEADER_LEN + info.columns as usize * format::COLUMN_ENTRY_LEN..];
        let (mut narrow_columns, mut packed_columns) = (0, 0);
        for k in 0..info.columns as usize {
            let e = format::BLOCK_HEADER_LEN + k * format::COLUMN_ENTRY_LEN;
            let off = format::le_u32(&laid, e + 4) as usize;
            let len = format::le_u32(&laid, e + 8) as usize;
            let sum = format::le_u64(&laid, e + 16);
            narrow_columns += usize::from(laid[e + 2] == format::Encoding::Narrow as u8);
            packed_columns += usize::from(laid[e + 2] == format::Encoding::Packed as u8);
            assert_eq!(
                sum,
                format::checksum(&payload[off..off + format::pad8(len)]),
                "column {k}, narrow {narrow}, compress {compress:?}"
            );
        }
        // Times, counters and the exporter narrow (or compressed); nothing when asked for plain
        // columns; some columns compressed when asked.
        assert_eq!(
            narrow_columns + packed_columns > 0,
            narrow || compress.is_some()
        );
        assert_eq!(
            narrow_columns > 0,
            narrow,
            "the exporter stays narrow (8 bytes)"
        );
        assert_eq!(packed_columns > 0, compress.is_some());
        let scratch = ColumnScratch::new();
        let (back, _) = reader::view_block("t.fk", &laid, 0, &scratch).unwrap();
        assert_eq!(back.records().collect::<Vec<_>>(), recs);
    }
}

/// Flows whose fields take extreme values and every width of range, in blocks of 1 to 300:
/// narrow and plain files hold the same flows, and the narrow one is smaller.
#[test]
fn narrow_and_plain_files_hold_the_same_flows() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let spans = [0u64, 1, 255, 256, 65_535, 65_536, u32::MAX as u64, u64::MAX];
    let mut recs = Vec::new();
    for (k, &span) in spans.iter().enumerate() {
        for i in 0..150u64 {
            let v = |r: u64| {
                if span == 0 {
                    0
                } else {
                    r % span.saturating_add(1).max(1)
                }
            };
            recs.push(FlowRecord {
                start_ms: i64::MIN
                    .wrapping_add(v(next()) as i64)
                    .wrapping_add(k as i64),
                end_ms: 1_289_260_800_000i64.wrapping_add(v(next()) as i64),
                packets: v(next()),
                octets: u64::MAX - v(next()),
                input_if: v(next()) as u32,
                output_if: u32::MAX.wrapping_sub(v(next()) as u32),
                src_as: i as u32 * 7,
                dst_port: next() as u16,
                src_addr: IpAddr::V4(Ipv4Addr::from(v(next()) as u32)),
                dst_addr: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i as u32)),
                exporter: IpAddr::V4(Ipv4Addr::new(192, 0, 2, (i % 3) as u8)),
                next_hop: if i == 77 {
                    "2001:db8::1".parse().unwrap()
                } else {
                    IpAddr::V4(Ipv4Addr::UNSPECIFIED)
                },
                ..FlowRecord::default()
            });
        }
    }
    for block_flows in [1, 2, 7, 150, 300] {
        let write = |narrow: bool| {
            let opts = WriterOptions {
                block_flows,
                narrow,
                ..WriterOptions::default()
            };
            let mut w = ArchiveWriter::new(Vec::new(), opts).unwrap();
            recs.iter().for_each(|r| w.push(r).unwrap());
            w.finish().unwrap().0
        };
        let (narrow, plain) = (write(true), write(false));
        assert!(narrow.len() <= plain.len(), "blocks of {block_flows}");
        if block_flows >= 7 {
            assert!(narrow.len() < plain.len(), "blocks of {block_flows}");
        }
        for bytes in [&narrow, &plain] {
            let (got, err) = read_all(bytes);
            assert!(err.is_none(), "{err:?}");
            assert_eq!(got, recs, "blocks of {block_flows}");
        }
    }
}

/// A narrow column whose width byte or length is not one the encoding allows, or a column that
/// is not there, is reported as corrupt, naming the column, even when the block's checksums were
/// made to match.
#[test]
fn a_bad_narrow_width_or_a_missing_column_is_corruption() {
    let recs = sample(64);
    let bytes = write_archive(&recs, 64);
    let f = ArchiveFile::from_bytes("t.fk", &bytes).unwrap();
    let start = f.blocks()[0].offset as usize;
    let columns = format::le_u32(&bytes, start + 4) as usize;
    // The packets column (1..=64) is narrow, one byte a flow.
    let k = (0..columns)
        .find(|&k| {
            let e = start + format::BLOCK_HEADER_LEN + k * format::COLUMN_ENTRY_LEN;
            format::le_u16(&bytes, e) == ColumnId::Packets as u16
        })
        .unwrap();
    let e = start + format::BLOCK_HEADER_LEN + k * format::COLUMN_ENTRY_LEN;
    assert_eq!(bytes[e + 2], format::Encoding::Narrow as u8);
    assert_eq!(bytes[e + 3], 1);
    // Re-seals the block header's checksum over the header and column directory, so only the
    // change made is wrong.
    let reseal = |bad: &mut Vec<u8>| {
        let dir_end = start + format::BLOCK_HEADER_LEN + columns * format::COLUMN_ENTRY_LEN;
        let mut summed = bad[start..start + 40].to_vec();
        summed.extend_from_slice(&bad[start + format::BLOCK_HEADER_LEN..dir_end]);
        let c = format::checksum(&summed);
        bad[start + 40..start + 48].copy_from_slice(&c.to_le_bytes());
    };
    for width in [2u8, 3, 8] {
        let mut bad = bytes.clone();
        bad[e + 3] = width;
        reseal(&mut bad);
        let f = ArchiveFile::from_bytes("t.fk", &bad).unwrap();
        let err = f.block(0).unwrap_err().to_string();
        assert!(
            err.contains("t.fk: corrupt at byte") && err.contains("column packets"),
            "width {width}: {err}"
        );
        // Checking the block as stored (flow-cat copying it on without inflating) refuses it too.
        let err = f.check_stored(0, None).unwrap_err().to_string();
        assert!(
            err.contains("t.fk: corrupt at byte") && err.contains("column packets"),
            "width {width}, as stored: {err}"
        );
    }
    // A column the block does not have (its entry's id made one no reader knows) is missing,
    // whether the block is viewed or checked as stored.
    let mut bad = bytes.clone();
    bad[e..e + 2].copy_from_slice(&0x7ff0u16.to_le_bytes());
    reseal(&mut bad);
    let f = ArchiveFile::from_bytes("t.fk", &bad).unwrap();
    for err in [
        f.block(0).unwrap_err().to_string(),
        f.check_stored(0, None).unwrap_err().to_string(),
    ] {
        assert!(err.contains("column packets is missing"), "{err}");
    }
}

/// Rows gathered from a block (narrow columns widened for those rows only) are the rows of
/// the whole block's view, from the map or from a copy, for every kind of selection.
#[test]
fn gathered_rows_are_the_rows_of_the_block() {
    let recs = sample(300);
    let bytes = write_archive(&recs, 128);
    let f = ArchiveFile::from_bytes("t.fk", &bytes).unwrap();
    let mut copy = AlignedBuf::default();
    for i in 0..f.blocks().len() {
        let block = f.block(i).unwrap();
        let n = block.len as u32;
        let selections: [Vec<u32>; 5] = [
            vec![],
            vec![0],
            vec![n - 1],
            (0..n).step_by(7).collect(),
            (0..n).collect(),
        ];
        f.read_block_into(i, &mut copy).unwrap();
        for rows in &selections {
            let mut want = crate::model::block::FlowBlockBuf::default();
            want.extend_rows(&block, rows);
            for copied in [None, Some(copy.as_bytes())] {
                let mut got = crate::model::block::FlowBlockBuf::default();
                got.push(&recs[0]); // gathering appends
                f.gather_rows(i, copied, rows, &mut got, None).unwrap();
                let got: Vec<_> = got.view().records().skip(1).collect();
                assert_eq!(got, want.view().records().collect::<Vec<_>>());
            }
        }
    }
}

/// A damaged column that a filter did not read is caught when rows are gathered: an error
/// naming the file, the byte and the column, and nothing appended.
#[test]
fn gathering_from_a_damaged_block_appends_nothing() {
    let recs = sample(64);
    let bytes = write_archive(&recs, 64);
    let f = ArchiveFile::from_bytes("t.fk", &bytes).unwrap();
    let start = f.blocks()[0].offset as usize;
    let columns = format::le_u32(&bytes, start + 4) as usize;
    let dir_end = start + format::BLOCK_HEADER_LEN + columns * format::COLUMN_ENTRY_LEN;
    let e = (0..columns)
        .map(|k| start + format::BLOCK_HEADER_LEN + k * format::COLUMN_ENTRY_LEN)
        .find(|&e| format::le_u16(&bytes, e) == ColumnId::Octets as u16)
        .unwrap();
    let mut bad = bytes.clone();
    bad[dir_end + format::le_u32(&bytes, e + 4) as usize + 9] ^= 0x40;
    let f = ArchiveFile::from_bytes("t.fk", &bad).unwrap();
    let mut out = crate::model::block::FlowBlockBuf::default();
    out.push(&recs[5]);
    let err = f
        .gather_rows(0, None, &[1, 2, 3], &mut out, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("t.fk: corrupt at byte") && err.contains("column octets"),
        "{err}"
    );
    assert_eq!(out.len(), 1);
    let err = f.gather_rows(0, None, &[64], &mut out, None).unwrap_err();
    assert!(err.to_string().contains("row 64"), "{err}");
    assert_eq!(out.len(), 1);
}
