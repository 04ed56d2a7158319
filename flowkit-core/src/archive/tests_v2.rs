//! Format version 2 (compressed columns): version-1 files still read, compressed and
//! uncompressed files hold the same flows, blocks are skipped without inflating, and damaged
//! compressed columns are errors naming the file and offset.

use super::format::{self, Encoding};
use super::*;
use crate::gen::{FlowGen, GenConfig};
use crate::model::block::{ColumnId, ColumnSet, FlowBlockBuf};
use crate::model::record::FlowRecord;
use crate::testing::testdata;

/// Every flow of an archive held in `bytes`, read block by block.
fn flows_of(name: &str, bytes: &[u8]) -> Vec<FlowRecord> {
    let f = ArchiveFile::from_bytes(name, bytes).unwrap();
    assert!(f.tail_error().is_none(), "{:?}", f.tail_error());
    (0..f.blocks().len())
        .flat_map(|i| f.block(i).unwrap().records().collect::<Vec<_>>())
        .collect()
}

/// `recs` written as a file with `compress`, its bytes.
fn written(recs: &[FlowRecord], compress: Option<i32>, split: bool) -> Vec<u8> {
    written_in_frames(recs, compress, split, 0)
}

/// [`written`], compressed columns in frames of `frame_rows` rows (0: one frame).
fn written_in_frames(
    recs: &[FlowRecord],
    compress: Option<i32>,
    split: bool,
    frame_rows: usize,
) -> Vec<u8> {
    let opts = WriterOptions {
        compress,
        split_families: split,
        frame_rows: Some(frame_rows),
        ..WriterOptions::default()
    };
    let mut w = ArchiveWriter::new(Vec::new(), opts).unwrap();
    recs.iter().for_each(|r| w.push(r).unwrap());
    w.finish().unwrap().0
}

/// The flows of the sample flow-tools file, read by the flow-tools reader.
fn sample_day() -> Vec<FlowRecord> {
    let bytes = std::fs::read(testdata::path("2010-11-09/ft-v05.2010-11-09.000000+0000")).unwrap();
    let mut r = flowtools::FlowToolsReader::new("day", &[], &bytes[..]).unwrap();
    let (mut out, mut buf) = (Vec::new(), FlowBlockBuf::default());
    while r.next_block(&mut buf, 1000).unwrap() > 0 {
        out.extend(buf.view().records());
    }
    out
}

fn sorted(mut v: Vec<FlowRecord>) -> Vec<FlowRecord> {
    v.sort_by_key(|r| format!("{r:?}"));
    v
}

/// `flows` flows of flow-gen's default mix, `ipv6_permille` of them IPv6.
fn generated(flows: u64, ipv6_permille: u32) -> Vec<FlowRecord> {
    FlowGen::new(GenConfig {
        flows,
        ipv6_permille,
        ..GenConfig::default()
    })
    .collect()
}

/// Files written by format version 1 (committed in testdata/archive-v1/, made before version 2
/// by `flow-cat 2010-11-09/ft-v05.2010-11-09.000000+0000 -o day.v1.fk` and
/// `flow-gen -n 10000 -o gen-10000.v1.fk`) read back as the flows of their inputs, the same
/// flows a version-2 file written now holds.
#[test]
fn version_1_files_still_read_as_their_inputs_and_as_version_2() {
    let cases = [
        ("archive-v1/day.v1.fk", sample_day()),
        (
            "archive-v1/gen-10000.v1.fk",
            generated(10_000, GenConfig::default().ipv6_permille),
        ),
    ];
    for (rel, input) in cases {
        let v1 = std::fs::read(testdata::path(rel)).unwrap();
        let f = ArchiveFile::from_bytes(rel, &v1).unwrap();
        assert_eq!(f.header().version, 1, "{rel}");
        let from_v1 = flows_of(rel, &v1);
        let v2 = written(&input, Some(3), true);
        let f2 = ArchiveFile::from_bytes("v2", &v2).unwrap();
        assert_eq!(f2.header().version, 2);
        assert!(
            v2.len() * 2 < v1.len(),
            "{rel}: {} vs {} bytes",
            v2.len(),
            v1.len()
        );
        let from_v2 = flows_of("v2", &v2);
        // Archives keep IPv4 and IPv6 flows in blocks of their own: compare as sets of flows.
        assert_eq!(from_v1.len(), input.len(), "{rel}");
        assert_eq!(
            sorted(from_v1),
            sorted(input.clone()),
            "{rel}: v1 vs its input"
        );
        assert_eq!(
            sorted(from_v2),
            sorted(input),
            "{rel}: v2 vs the same input"
        );
    }
}

/// Compressed, uncompressed and re-encoded (`flow-cat old -o new` copies raw blocks only when
/// they are stored as the writer would) files hold the same flows in the same order.
#[test]
fn compressed_and_uncompressed_files_hold_the_same_flows() {
    let recs = generated(20_000, 100);
    let plain = written(&recs, None, false);
    assert_eq!(
        ArchiveFile::from_bytes("p", &plain)
            .unwrap()
            .header()
            .version,
        1
    );
    for level in [1, 3, 9] {
        let packed = written(&recs, Some(level), false);
        assert!(packed.len() < plain.len() / 2, "level {level}");
        assert_eq!(flows_of("z", &packed), recs, "level {level}");
    }
    // Raw blocks of one kind into a writer of the other are encoded anew.
    for (from, to) in [(None, Some(3)), (Some(3), None)] {
        let src = written(&recs, from, false);
        let opts = WriterOptions {
            compress: to,
            ..WriterOptions::default()
        };
        let out = blocks_copied_into(&src, opts);
        let g = ArchiveFile::from_bytes("out", &out).unwrap();
        let packed = (0..g.blocks().len()).any(|i| has_packed(g.block_bytes(i)));
        assert_eq!(packed, to.is_some(), "{from:?} -> {to:?}");
        assert_eq!(flows_of("out", &out), recs);
    }
}

/// The file a writer with `opts` makes of every block of the file `src`, each handed to it whole
/// with its stored bytes (as `flow-cat src -o out` does): copied as stored, or encoded anew.
fn blocks_copied_into(src: &[u8], opts: WriterOptions) -> Vec<u8> {
    let f = ArchiveFile::from_bytes("src", src).unwrap();
    let mut w = ArchiveWriter::new(Vec::new(), opts).unwrap();
    for i in 0..f.blocks().len() {
        w.write_raw_block(f.block_bytes(i), &f.block(i).unwrap())
            .unwrap();
    }
    w.finish().unwrap().0
}

/// Where the directory entries of the block `b` say a compressed column is: (entry offset,
/// payload offset, length) of each.
fn packed_entries(b: &[u8]) -> Vec<(usize, usize, usize)> {
    let cols = format::le_u32(b, 4) as usize;
    let dir_end = format::BLOCK_HEADER_LEN + cols * format::COLUMN_ENTRY_LEN;
    (0..cols)
        .map(|k| format::BLOCK_HEADER_LEN + k * format::COLUMN_ENTRY_LEN)
        .filter(|&e| b[e + 2] == Encoding::Packed as u8)
        .map(|e| {
            let off = format::le_u32(b, e + 4) as usize;
            (e, dir_end + off, format::le_u32(b, e + 8) as usize)
        })
        .collect()
}

fn has_packed(b: &[u8]) -> bool {
    !packed_entries(b).is_empty()
}

/// Makes the checksums of a block's directory entry `e` and of its header agree with its
/// (changed) bytes again, as a writer that produced them would have.
fn reseal(b: &mut [u8], e: usize) {
    let cols = format::le_u32(b, 4) as usize;
    let dir_end = format::BLOCK_HEADER_LEN + cols * format::COLUMN_ENTRY_LEN;
    let (off, len) = (
        format::le_u32(b, e + 4) as usize,
        format::le_u32(b, e + 8) as usize,
    );
    let at = dir_end + off;
    let sum = format::checksum(&b[at..at + format::pad8(len)]);
    b[e + 16..e + 24].copy_from_slice(&sum.to_le_bytes());
    let mut summed = b[..40].to_vec();
    summed.extend_from_slice(&b[format::BLOCK_HEADER_LEN..dir_end]);
    let c = format::checksum(&summed);
    b[40..48].copy_from_slice(&c.to_le_bytes());
}

/// A compressed column whose checksum holds but whose frame or header is damaged (a writer bug,
/// or damage made to look whole) is an error naming the file and the column's byte offset,
/// never a panic, never more bytes than the block's flows need (a frame that inflates to more is
/// refused), never wrong flows.
#[test]
fn damaged_compressed_columns_are_errors_naming_file_and_offset() {
    let recs = generated(3000, 0);
    let good = written(&recs, Some(3), false);
    let f = ArchiveFile::from_bytes("good", &good).unwrap();
    let block_at = f.blocks()[0].offset as usize;
    let block_len = f.blocks()[0].len as usize;
    let entries = packed_entries(&good[block_at..block_at + block_len]);
    assert!(entries.len() >= 5, "{} compressed columns", entries.len());
    let mut damaged = 0;
    for &(e, at, len) in &entries {
        // (what is changed in the column's bytes, relative to its start)
        let changes: [(usize, u8); 6] = [
            (0, 0x40),       // inner encoding
            (4, 0x01),       // inner length
            (5, 0x10),       // inner length, far larger (a would-be bomb)
            (8, 0xff),       // zstd magic
            (len / 2, 0x5a), // frame body
            (len - 1, 0x01), // frame checksum / last byte
        ];
        for (rel, mask) in changes {
            let mut bytes = good.clone();
            let b = &mut bytes[block_at..block_at + block_len];
            b[at + rel] ^= mask;
            reseal(b, e);
            let file = ArchiveFile::from_bytes("bad.fk", &bytes).unwrap();
            match file.block(0) {
                Err(err) => {
                    damaged += 1;
                    let msg = err.to_string();
                    assert!(msg.starts_with("bad.fk: corrupt at byte "), "{msg}");
                    assert_eq!(err.offset(), Some((block_at + at) as u64), "{msg}");
                }
                // A flipped literal can inflate to other values of the right length: the
                // column checksum (resealed here) is what catches that in a real file.
                Ok(view) => assert_eq!(view.len, recs.len()),
            }
        }
    }
    assert!(damaged >= entries.len() * 4, "{damaged} errors");
}

/// Block skipping reads no compressed byte: a scan for a time window or an absent address gets
/// its answer from the block index and the Bloom filter, which stay uncompressed; and a view of
/// a few columns inflates only those.
#[test]
fn zone_maps_and_bloom_filters_need_no_inflating() {
    let recs = generated(3000, 0);
    let mut bytes = written(&recs, Some(3), false);
    let f = ArchiveFile::from_bytes("z", &bytes).unwrap();
    let e = f.blocks()[0];
    let (block_at, block_len) = (e.offset as usize, e.len as usize);
    let bloom = f.block_bloom(0).unwrap().expect("a Bloom filter");
    assert!(recs.iter().all(|r| bloom.may_contain(r.src_addr)));
    // Wreck every compressed column's frame (its checksum resealed, so only inflating notices):
    // the index, the block header and the Bloom filter still read.
    let b = &mut bytes[block_at..block_at + block_len];
    for (ent, at, len) in packed_entries(b) {
        if format::le_u16(b, ent) == ColumnId::SrcPort as u16 {
            continue; // one column left whole, to view alone
        }
        b[at + 8..at + len].fill(0xee);
        reseal(b, ent);
    }
    let g = ArchiveFile::from_bytes("z", &bytes).unwrap();
    assert_eq!(
        g.blocks()[0].min_start_ms,
        recs.iter().map(|r| r.start_ms).min().unwrap()
    );
    assert!(g.block_bloom(0).unwrap().is_some());
    assert!(
        g.block(0).is_err(),
        "the wrecked columns are noticed when inflated"
    );
    let only = ColumnSet::EMPTY.with(ColumnId::SrcPort);
    let view = g.block_columns(0, only).unwrap();
    let ports: Vec<u16> = recs.iter().map(|r| r.src_port).collect();
    assert_eq!(view.src_port, &ports[..]);
}

/// Files written by format version 2 before compressed columns were stored in frames of rows
/// (committed in testdata/archive-v2/, made by that version's `flow-gen -n 10000 --compress
/// default -o gen-10000.v2.fk` and `flow-cat 2010-11-09/ft-v05.2010-11-09.000000+0000
/// --compress default -o day.v2.fk`) read back as the flows of their inputs, whole blocks and
/// gathered rows alike.
#[test]
fn version_2_files_still_read_as_their_inputs() {
    let cases = [
        ("archive-v2/day.v2.fk", sample_day()),
        (
            "archive-v2/gen-10000.v2.fk",
            generated(10_000, GenConfig::default().ipv6_permille),
        ),
    ];
    for (rel, input) in cases {
        let bytes = std::fs::read(testdata::path(rel)).unwrap();
        let f = ArchiveFile::from_bytes(rel, &bytes).unwrap();
        assert_eq!(f.header().version, 2, "{rel}");
        // Their compressed columns are single zstd frames (codec 1), the layout before frames.
        let b = f.block_bytes(0);
        let entries = packed_entries(b);
        assert!(!entries.is_empty(), "{rel}");
        assert!(entries.iter().all(|&(_, at, _)| b[at + 3] == 1), "{rel}");
        assert_eq!(sorted(flows_of(rel, &bytes)), sorted(input), "{rel}");
        for i in 0..f.blocks().len() {
            let whole: Vec<FlowRecord> = f.block(i).unwrap().records().collect();
            let rows = [0, whole.len() as u32 / 2, whole.len() as u32 - 1];
            let mut out = FlowBlockBuf::default();
            f.gather_rows(i, None, &rows, &mut out, None).unwrap();
            let want: Vec<FlowRecord> = rows.iter().map(|&r| whole[r as usize].clone()).collect();
            assert_eq!(out.view().records().collect::<Vec<_>>(), want, "{rel}");
        }
    }
}

/// The frames (rows 1024 to 3071 of a block of 3000 flows) of every compressed column, as
/// (start, end) in the block `b`.
fn later_frames(b: &[u8]) -> Vec<(usize, usize, usize)> {
    packed_entries(b)
        .into_iter()
        .map(|(e, at, len)| {
            assert_eq!(b[at + 3], 2, "stored in frames");
            assert_eq!(format::le_u32(b, at + 8), 1024);
            let prefix = if b[at] == Encoding::Narrow as u8 {
                8
            } else {
                0
            };
            let table = at + 12 + prefix;
            let first = table + 3 * 4;
            (e, first + format::le_u32(b, table) as usize, at + len)
        })
        .collect()
}

/// 3,000 IPv4 flow-gen flows, and their file compressed at zstd 3 in frames of 1024 rows (one
/// block of three frames).
fn one_block_in_frames() -> (Vec<FlowRecord>, Vec<u8>) {
    let recs = generated(3000, 0);
    let file = written_in_frames(&recs, Some(3), false, 1024);
    (recs, file)
}

/// Format version 3 (asked for with `WriterOptions::frame_rows`) stores a compressed column of
/// more rows than a frame in frames, here of 1024 rows: gathering a few rows (a filter printing what it selected) inflates only their frames
/// and gives the rows of the input, with or without the filter's columns inflated already;
/// damage anywhere in the column is still found first, by its checksum.
#[test]
fn framed_columns_gather_only_the_frames_of_their_rows() {
    let (recs, good) = one_block_in_frames();
    let f = ArchiveFile::from_bytes("f", &good).unwrap();
    assert_eq!(f.header().version, 3);
    let (at, len) = (f.blocks()[0].offset as usize, f.blocks()[0].len as usize);
    let frames = later_frames(&good[at..at + len]);
    assert!(frames.len() >= 5, "{} compressed columns", frames.len());
    // Wreck every frame but the first of every compressed column, checksums resealed.
    let mut wrecked = good.clone();
    let b = &mut wrecked[at..at + len];
    for &(e, from, to) in &frames {
        b[from..to].fill(0xee);
        reseal(b, e);
    }
    let g = ArchiveFile::from_bytes("w", &wrecked).unwrap();
    assert!(g.block(0).is_err(), "inflating the wrecked frames fails");
    let rows = [0u32, 7, 512, 1023];
    let want: Vec<FlowRecord> = rows.iter().map(|&r| recs[r as usize].clone()).collect();
    let mut out = FlowBlockBuf::default();
    g.gather_rows(0, None, &rows, &mut out, None).unwrap();
    assert_eq!(out.view().records().collect::<Vec<_>>(), want);
    // A row in a wrecked frame is an error, and appends nothing.
    let mut out = FlowBlockBuf::default();
    assert!(g.gather_rows(0, None, &[3, 1024], &mut out, None).is_err());
    assert_eq!(out.len(), 0);
    // From the intact file: rows in every frame, with a filter's columns inflated already.
    let scratch = ColumnScratch::new();
    let only = ColumnSet::EMPTY
        .with(ColumnId::SrcAddr)
        .with(ColumnId::DstPort);
    f.block_columns_with(0, only, &scratch).unwrap();
    let rows = [5u32, 1500, 2047, 2048, 2999];
    let want: Vec<FlowRecord> = rows.iter().map(|&r| recs[r as usize].clone()).collect();
    for scratch in [Some(&scratch), None] {
        let mut out = FlowBlockBuf::default();
        f.gather_rows(0, None, &rows, &mut out, scratch).unwrap();
        assert_eq!(out.view().records().collect::<Vec<_>>(), want);
    }
    // Damage not resealed, in a frame holding none of the rows: the checksum finds it.
    let mut damaged = good.clone();
    let (_, from, _) = frames[0];
    damaged[at + from] ^= 0x20;
    let d = ArchiveFile::from_bytes("d", &damaged).unwrap();
    let mut out = FlowBlockBuf::default();
    let err = d.gather_rows(0, None, &[0], &mut out, None).unwrap_err();
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
}

/// A block in frames carries its frames' address Bloom filters; damage there is corruption
/// naming the file and offset (found by a check of the block as stored, as `flow-cat` makes),
/// whether the checksum catches it or, resealed, the filters' own shape does.
#[test]
fn damaged_frame_filters_are_errors_naming_the_offset() {
    let (_, good) = one_block_in_frames();
    let f = ArchiveFile::from_bytes("f", &good).unwrap();
    let frames = f
        .block_frame_blooms(0)
        .unwrap()
        .expect("a block in frames has them");
    assert_eq!((frames.rows_per_frame(), frames.frames()), (1024, 3));
    f.check_stored(0, None).unwrap();
    // The directory entry of the frames' filters, and where its words are.
    let (at, len) = (f.blocks()[0].offset as usize, f.blocks()[0].len as usize);
    let b = &good[at..at + len];
    let cols = format::le_u32(b, 4) as usize;
    let dir_end = format::BLOCK_HEADER_LEN + cols * format::COLUMN_ENTRY_LEN;
    let e = (0..cols)
        .map(|k| format::BLOCK_HEADER_LEN + k * format::COLUMN_ENTRY_LEN)
        .find(|&e| format::le_u16(b, e) == bloom::FRAME_BLOOM_ID)
        .unwrap();
    let words = dir_end + format::le_u32(b, e + 4) as usize;
    for (reseal_it, want) in [
        (
            false,
            "checksum mismatch in the frames' address Bloom filters",
        ),
        (true, "malformed frames' address Bloom filters"),
    ] {
        let mut bad = good.clone();
        bad[at + words] = 0; // R = 0 in the low bytes of the first word (1024 = 0x400)
        bad[at + words + 1] = 0;
        if reseal_it {
            reseal(&mut bad[at..at + len], e);
        }
        let g = ArchiveFile::from_bytes("g", &bad).unwrap();
        let err = g.check_stored(0, None).unwrap_err().to_string();
        assert!(err.contains(want), "{err}");
        assert!(err.contains(&format!("byte {}", at + words)), "{err}");
        assert!(g.block_frame_blooms(0).is_err());
    }
}

/// Blocks copied whole into a writer (`flow-cat old -o new --compress ...`) keep their stored
/// form only when the writer stores blocks so: a block in frames never lands in a file whose
/// header says version 2 (readers of version 2 would refuse it), and a block of one frame a
/// column going into a writer of frames is encoded anew, with its frames' Bloom filters.
#[test]
fn blocks_copied_whole_keep_their_frames_only_where_the_writer_makes_frames() {
    let recs = generated(20_000, 100);
    let framed = |b: &[u8]| {
        packed_entries(b)
            .iter()
            .any(|&(_, at, _)| b[at + 3] == super::packed::CODEC_ZSTD_FRAMES)
    };
    let filters = |b: &[u8]| {
        let cols = format::le_u32(b, 4) as usize;
        (0..cols).any(|k| {
            let e = format::BLOCK_HEADER_LEN + k * format::COLUMN_ENTRY_LEN;
            format::le_u16(b, e) == bloom::FRAME_BLOOM_ID
        })
    };
    // (source frame rows, target frame rows, the target's version); all at zstd 3.
    for (from, to, version) in [(1024, 0, 2), (0, 1024, 3), (1024, 1024, 3), (0, 0, 2)] {
        let src = written_in_frames(&recs, Some(3), false, from);
        let f = ArchiveFile::from_bytes("src", &src).unwrap();
        let opts = WriterOptions {
            compress: Some(3),
            frame_rows: Some(to),
            ..WriterOptions::default()
        };
        let out = blocks_copied_into(&src, opts);
        let g = ArchiveFile::from_bytes("out", &out).unwrap();
        let what = format!("frames of {from} -> {to}");
        assert_eq!(g.header().version, version, "{what}");
        for i in 0..g.blocks().len() {
            let b = g.block_bytes(i);
            let long = to > 0 && g.blocks()[i].flows as usize > to;
            assert_eq!((framed(b), filters(b)), (long, long), "{what}, block {i}");
        }
        assert_eq!(flows_of("out", &out), recs, "{what}");
        if from == to {
            assert_eq!(
                &out[g.header().header_len..],
                &src[f.header().header_len..],
                "{what}: copied as stored"
            );
        }
    }
}
