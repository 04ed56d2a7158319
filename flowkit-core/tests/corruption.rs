//! Damaged files: a real archive and real flow-tools files, truncated at random offsets and with
//! random bytes flipped, read through the same path as every tool (`Scanner`, memory-mapped and
//! read into memory). Reading gives exactly the original flows up to a reported error that names
//! the file and a byte offset, never a panic and never a flow that was not written. And a mapped
//! file that another program truncates while it is being read (SIGBUS territory) is reported the
//! same way instead of killing the reader.
//!
//! The flows are the 3,498 real NetFlow v5 flows of the sample flow-tools archive (flow-capture
//! 0.68.5), written to our archive format with small blocks so a file has many of them.

use flowkit_core::archive::flowtools::FlowToolsReader;
use flowkit_core::archive::{ArchiveFileWriter, WriterOptions};
use flowkit_core::pipeline::input::Input;
use flowkit_core::pipeline::scan::{BlockRead, ScanOptions, Scanner};
use flowkit_core::{testing::testdata, FlowBlock, FlowBlockBuf, FlowRecord};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SAMPLE_FT: &str = "2010-11-09/ft-v05.2010-11-09.000000+0000";
const SAMPLE_FT_RAW: &str = "flow-tools/variants/v5raw/ft-v05.2026-11-22.165925+0000";

/// The real flows, read once with the flow-tools reader.
fn real_flows() -> &'static [FlowRecord] {
    static FLOWS: OnceLock<Vec<FlowRecord>> = OnceLock::new();
    FLOWS.get_or_init(|| {
        let bytes = std::fs::read(testdata::path(SAMPLE_FT)).unwrap();
        let mut r = FlowToolsReader::new("sample", &[], &bytes[..]).unwrap();
        let mut out = Vec::new();
        let mut buf = FlowBlockBuf::default();
        while r.next_block(&mut buf, 1000).unwrap() > 0 {
            out.extend(buf.view().records());
        }
        assert_eq!(out.len(), 3498);
        out
    })
}

/// The real flows as a finished archive with 256-flow blocks (14 blocks), in memory: compressed
/// (format version 2, the default) or not (version 1).
fn real_archive(compressed: bool) -> &'static [u8] {
    static BYTES: [OnceLock<Vec<u8>>; 2] = [OnceLock::new(), OnceLock::new()];
    BYTES[usize::from(compressed)].get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a");
        let compress = compressed.then_some(3);
        write_archive_as(&p, real_flows(), 256, compress);
        std::fs::read(&p).unwrap()
    })
}

fn write_archive(path: &Path, flows: &[FlowRecord], block_flows: usize) {
    write_archive_as(path, flows, block_flows, WriterOptions::default().compress)
}

fn write_archive_as(path: &Path, flows: &[FlowRecord], block_flows: usize, compress: Option<i32>) {
    let opts = WriterOptions {
        block_flows,
        compress,
        ..WriterOptions::default()
    };
    let mut w = ArchiveFileWriter::create(path, opts).unwrap();
    for r in flows {
        w.writer().push(r).unwrap();
    }
    w.finish().unwrap();
}

/// The ways a file's blocks can be read: into memory whole (`--no-mmap`), viewed in the map, or
/// copied out of the file block by block.
const READ_WAYS: [(bool, BlockRead); 3] = [
    (true, BlockRead::Auto),
    (false, BlockRead::Map),
    (false, BlockRead::Copy),
];

/// Reads `path` as every tool does, the `way`-th of [`READ_WAYS`]; returns the flows handed out
/// and the problems reported.
fn scan(path: &Path, way: usize, batch_blocks: usize) -> (Vec<FlowRecord>, Vec<String>) {
    let (no_mmap, block_read) = READ_WAYS[way];
    let opts = ScanOptions {
        no_mmap,
        block_read,
        batch_blocks,
        ..ScanOptions::default()
    };
    let mut problems = Vec::new();
    let mut flows = Vec::new();
    Scanner::new(opts, |m| problems.push(m.to_string()))
        .run(&[Input::File(path.to_path_buf())], &mut |batch| {
            batch.iter().for_each(|b| flows.extend(b.records()));
            Ok(())
        })
        .unwrap();
    (flows, problems)
}

/// The byte offset a problem names (`... at byte N ...`).
fn named_offset(msg: &str) -> Option<u64> {
    let rest = msg.split("at byte ").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Whether a problem starts `FILE:LINE:COL:`, as a JSON log's reader names a bad line.
fn names_line_and_column(msg: &str, file: &str) -> bool {
    let Some(rest) = msg.strip_prefix(file).and_then(|r| r.strip_prefix(':')) else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let mut number = || {
        parts
            .next()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    number() && number()
}

/// The promise: a prefix of the original flows; fewer than all only with a reported problem
/// that names the file and a byte offset within it; never a flow that was not written.
fn check_prefix(
    original: &[FlowRecord],
    got: &[FlowRecord],
    problems: &[String],
    path: &Path,
    len: usize,
) -> Result<(), TestCaseError> {
    prop_assert!(got.len() <= original.len());
    prop_assert!(
        got == &original[..got.len()],
        "flows that were not written, or out of order"
    );
    let name = path.display().to_string();
    for p in problems {
        prop_assert!(
            p.starts_with(&name),
            "problem does not name the file: {}",
            p
        );
    }
    if got.len() < original.len() {
        prop_assert!(
            !problems.is_empty(),
            "{} flows lost silently",
            original.len() - got.len()
        );
        // A flip that turns the magic's first byte into `{` makes the file a JSON log to the
        // sniffer; its reader names `FILE:LINE:COL`, which places the damage as well.
        let line_col = problems.iter().any(|p| names_line_and_column(p, &name));
        let off = problems.iter().find_map(|p| named_offset(p));
        prop_assert!(
            off.is_some() || line_col,
            "no byte offset named: {:?}",
            problems
        );
        prop_assert!(
            off.is_none_or(|o| o <= len as u64),
            "offset past the end: {:?}",
            problems
        );
    }
    Ok(())
}

fn damaged_file(dir: &Path, bytes: &[u8]) -> PathBuf {
    let p = dir.join("ft.2010-11-09.000000+0000");
    std::fs::write(&p, bytes).unwrap();
    p
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn truncated_archive_reads_a_prefix_and_names_the_offset(cut in 0.0f64..1.0, way in 0..READ_WAYS.len(), compressed: bool) {
        let bytes = real_archive(compressed);
        let cut = (cut * bytes.len() as f64) as usize;
        let d = tempfile::tempdir().unwrap();
        let p = damaged_file(d.path(), &bytes[..cut]);
        let (got, problems) = scan(&p, way, 3);
        check_prefix(real_flows(), &got, &problems, &p, cut)?;
    }

    #[test]
    fn flipped_archive_bytes_read_a_prefix_and_name_the_offset(
        flips in prop::collection::vec((0.0f64..1.0, 1u8..=255), 1..5),
        cut in prop::option::of(0.5f64..1.0),
        way in 0..READ_WAYS.len(),
        compressed: bool,
    ) {
        let mut bytes = real_archive(compressed).to_vec();
        for (at, mask) in flips {
            let at = (at * bytes.len() as f64) as usize;
            bytes[at] ^= mask;
        }
        if let Some(c) = cut {
            bytes.truncate((c * bytes.len() as f64) as usize);
        }
        let d = tempfile::tempdir().unwrap();
        let p = damaged_file(d.path(), &bytes);
        let (got, problems) = scan(&p, way, 3);
        check_prefix(real_flows(), &got, &problems, &p, bytes.len())?;
    }

    #[test]
    fn truncated_flow_tools_files_read_a_prefix_and_name_the_offset(
        cut in 0.0f64..1.0,
        compressed in any::<bool>(),
    ) {
        let rel = if compressed { SAMPLE_FT } else { SAMPLE_FT_RAW };
        let bytes = std::fs::read(testdata::path(rel)).unwrap();
        let original = flow_tools_flows(&bytes);
        let cut = (cut * bytes.len() as f64) as usize;
        let d = tempfile::tempdir().unwrap();
        let p = damaged_file(d.path(), &bytes[..cut]);
        let (got, problems) = scan(&p, 1, 2);
        check_prefix(&original, &got, &problems, &p, cut)?;
    }

    /// flow-tools files carry no checksums, so a flipped byte in an uncompressed record changes
    /// that flow without any sign (flow-tools cannot tell either). What is promised: no panic,
    /// problems name the file, and a compressed file (zlib's Adler-32 covers the records) either
    /// reads exactly the original flows or reports a problem.
    #[test]
    fn flipped_flow_tools_bytes_never_panic(
        flips in prop::collection::vec((0.0f64..1.0, 1u8..=255), 1..4),
        compressed in any::<bool>(),
    ) {
        let rel = if compressed { SAMPLE_FT } else { SAMPLE_FT_RAW };
        let mut bytes = std::fs::read(testdata::path(rel)).unwrap();
        let original = flow_tools_flows(&bytes);
        for (at, mask) in flips {
            let at = (at * bytes.len() as f64) as usize;
            bytes[at] ^= mask;
        }
        let d = tempfile::tempdir().unwrap();
        let p = damaged_file(d.path(), &bytes);
        let (got, problems) = scan(&p, 1, 2);
        let name = p.display().to_string();
        for m in &problems {
            prop_assert!(m.starts_with(&name), "{}", m);
        }
        if compressed && problems.is_empty() {
            prop_assert!(got == original, "a damaged compressed file gave other flows silently");
        }
    }
}

/// Every possible flip of every byte of the 8-byte magic, read every way: the file is then not
/// recognised, or taken for another kind (a `{` makes it a JSON log), and either way the
/// problem names the file and where (a byte offset, or line and column); no flow comes out.
/// Random flips found byte 0 unnamed once (CI, 2026-12-06); this tries all 2,040 flips.
#[test]
fn every_flip_of_the_magic_is_reported_with_a_place() {
    let original = real_archive(false);
    let d = tempfile::tempdir().unwrap();
    for at in 0..8 {
        for mask in 1u8..=255 {
            let mut bytes = original.to_vec();
            bytes[at] ^= mask;
            let p = damaged_file(d.path(), &bytes);
            for way in 0..READ_WAYS.len() {
                let (got, problems) = scan(&p, way, 3);
                assert!(got.is_empty(), "flows from a file with a damaged magic");
                check_prefix(real_flows(), &got, &problems, &p, bytes.len())
                    .unwrap_or_else(|e| panic!("byte {at} ^ {mask:#04x}, way {way}: {e}"));
            }
        }
    }
}

fn flow_tools_flows(bytes: &[u8]) -> Vec<FlowRecord> {
    let mut r = FlowToolsReader::new("x", &[], bytes).unwrap();
    let mut out = Vec::new();
    let mut buf = FlowBlockBuf::default();
    while r.next_block(&mut buf, 1000).unwrap() > 0 {
        out.extend(buf.view().records());
    }
    out
}

fn truncate(path: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

/// A mapped archive truncated by another handle between two batches of a scan: the scan goes on
/// to hand out the blocks that are still whole, then reports the file and where it now ends;
/// the process is not killed by SIGBUS.
#[test]
fn archive_truncated_while_mapped_between_batches_is_reported() {
    for way in [BlockRead::Map, BlockRead::Copy] {
        truncated_between_batches(way);
    }
}

fn truncated_between_batches(block_read: BlockRead) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("ft.2010-11-09.000000+0000");
    let flows = real_flows();
    // 64 flows a block: a block is ~4 KB, so the cut below lies pages away from the blocks read.
    write_archive(&p, flows, 64);
    let f = flowkit_core::archive::ArchiveFile::open(&p, true).unwrap();
    let blocks = f.blocks().to_vec();
    drop(f);
    assert!(blocks.len() > 40);
    // Cut in the middle of block 30, after the scan has handed out block 0.
    let cut = blocks[30].offset + blocks[30].len / 2;
    let mut got = Vec::new();
    let mut problems = Vec::new();
    let mut batches = 0;
    {
        let opts = ScanOptions {
            batch_blocks: 1,
            block_read,
            ..ScanOptions::default()
        };
        let mut s = Scanner::new(opts, |m| problems.push(m.to_string()));
        s.run(&[Input::File(p.clone())], &mut |batch: &[FlowBlock<
            '_,
        >]| {
            batch.iter().for_each(|b| got.extend(b.records()));
            batches += 1;
            if batches == 1 {
                truncate(&p, cut);
            }
            Ok(())
        })
        .unwrap();
    }
    assert_eq!(
        got.len(),
        30 * 64,
        "the whole blocks before the cut are read"
    );
    assert_eq!(got[..], flows[..got.len()]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let m = &problems[0];
    assert!(m.starts_with(&p.display().to_string()), "{m}");
    assert!(m.contains("shrank"), "{m}");
    assert_eq!(named_offset(m), Some(cut), "{m}");
}

/// The same file truncated while the consumer is reading a batch (the worst moment: the bytes
/// it reads vanish under it): the reader is not killed, and the scan reports that the flows just
/// handed on may be wrong. Blocks copied out of the file were whole and checked when handed on:
/// then only the shrink is reported, when the next batch is read.
#[test]
fn archive_truncated_while_a_batch_is_being_read_is_reported() {
    for way in [BlockRead::Map, BlockRead::Copy] {
        truncated_during_a_batch(way);
    }
}

fn truncated_during_a_batch(block_read: BlockRead) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("a");
    let flows = real_flows();
    write_archive(&p, flows, 64);
    let mut problems = Vec::new();
    let mut seen = 0usize;
    {
        let opts = ScanOptions {
            batch_blocks: 1,
            block_read,
            ..ScanOptions::default()
        };
        let mut s = Scanner::new(opts, |m| problems.push(m.to_string()));
        s.run(&[Input::File(p.clone())], &mut |batch: &[FlowBlock<
            '_,
        >]| {
            seen += 1;
            if seen == 3 {
                truncate(&p, 0);
            }
            // Reads every column of the batch (after the cut: zero pages, not SIGBUS).
            let sum: u64 = batch
                .iter()
                .map(|b| b.octets.iter().sum::<u64>() + b.src_port.len() as u64)
                .sum();
            std::hint::black_box(sum);
            Ok(())
        })
        .unwrap();
    }
    assert_eq!(seen, 3);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("shrank"), "{}", problems[0]);
    assert_eq!(
        problems[0].contains("may be wrong"),
        block_read == BlockRead::Map,
        "{}",
        problems[0]
    );
}

/// A capture truncated while it is imported: an error naming the file and offset.
#[test]
fn capture_truncated_while_read_is_reported() {
    use flowkit_core::netflow::exporter::{loopback_endpoints, PcapDatagramWriter};
    use flowkit_core::netflow::pcap::CaptureReader;
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("c.pcap");
    let (from, to) = loopback_endpoints();
    let mut w = PcapDatagramWriter::new(std::fs::File::create(&p).unwrap(), from, to).unwrap();
    for i in 0..2000u32 {
        w.write(1_717_400_000_000 + i as i64, &[0x55; 1000])
            .unwrap();
    }
    drop(w.into_inner());
    let mut r = CaptureReader::open(&p).unwrap();
    for _ in 0..10 {
        assert!(r.next_datagram().unwrap().is_some());
    }
    truncate(&p, 100_000);
    let mut read = 10;
    let err = loop {
        match r.next_datagram() {
            Ok(Some(_)) => read += 1,
            Ok(None) => panic!("end of a truncated capture went unnoticed"),
            Err(e) => break e.to_string(),
        }
    };
    assert!(read < 2000);
    assert!(err.starts_with(&p.display().to_string()), "{err}");
    assert!(err.contains("shrank"), "{err}");
}
