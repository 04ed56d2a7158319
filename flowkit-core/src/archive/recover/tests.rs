//! Recovery of unfinished files: the 3,498 real flows of the shipped flow-tools file written in
//! blocks and left unfinished (as a killed writer leaves them), cut at many places and damaged.

use super::*;
use crate::archive::{writer, ArchiveFileWriter, WriterOptions};
use crate::model::record::FlowRecord;
use crate::pipeline::input::Input;
use crate::pipeline::scan::{ScanOptions, Scanner};
use crate::testing::testdata;

/// The real flows of the shipped flow-tools archive.
fn real_flows() -> Vec<FlowRecord> {
    let mut all = Vec::new();
    let mut scanner = Scanner::new(ScanOptions::default(), |m| panic!("{m}"));
    scanner
        .run(
            &[Input::File(testdata::path(
                "2010-11-09/ft-v05.2010-11-09.000000+0000",
            ))],
            &mut |batch| {
                batch.iter().for_each(|b| all.extend(b.records()));
                Ok(())
            },
        )
        .unwrap();
    assert_eq!(all.len(), 3498);
    all
}

/// Writes `flows` to `target` in blocks of `per_block`, each flushed to the file, and leaves
/// the file unfinished (the writer dropped, as a killed process leaves it). Returns the `tmp-`
/// path and the file's length after each block (where each whole block ends).
fn unfinished(target: &Path, flows: &[FlowRecord], per_block: usize) -> (PathBuf, Vec<u64>) {
    let opts = WriterOptions {
        block_flows: per_block,
        ..WriterOptions::archive("test")
    };
    let mut w = ArchiveFileWriter::create(target, opts).unwrap();
    let tmp = writer::temp_name(target);
    let mut ends = Vec::new();
    for chunk in flows.chunks(per_block) {
        for r in chunk {
            w.writer().push(r).unwrap();
        }
        w.writer().flush().unwrap();
        ends.push(std::fs::metadata(&tmp).unwrap().len());
    }
    drop(w);
    (tmp, ends)
}

/// Reads a published file through its index: it must be finished and every block must check.
fn read_published(p: &Path) -> Vec<FlowRecord> {
    let f = ArchiveFile::open(p, false).unwrap();
    assert!(
        f.is_complete() && f.tail_error().is_none(),
        "{}",
        p.display()
    );
    assert!(f.header().is_complete());
    let mut out = Vec::new();
    for i in 0..f.blocks().len() {
        out.extend(f.block(i).unwrap().records());
    }
    assert_eq!(f.header().flow_count, out.len() as u64);
    out
}

#[test]
fn every_whole_block_before_a_cut_is_published_and_nothing_else() {
    let flows = real_flows();
    let per = 500;
    let d = tempfile::tempdir().unwrap();
    let (tmp, ends) = unfinished(&d.path().join("ft.2010-11-09.000000+0000"), &flows, per);
    let whole = std::fs::read(&tmp).unwrap();
    let header_len = parse_header("", &whole).unwrap().header_len as u64;
    // Cuts inside the header, at and around every block boundary, and inside blocks.
    let mut cuts: Vec<u64> = vec![0, 5, header_len - 1, header_len];
    for &e in &ends {
        cuts.extend([e - 1, e, e + 1, e - 3000]);
    }
    cuts.retain(|&c| c <= whole.len() as u64);
    for cut in cuts {
        let target = d
            .path()
            .join(format!("cut-{cut}/ft.2010-11-09.000000+0000"));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let t = writer::temp_name(&target);
        std::fs::write(&t, &whole[..cut as usize]).unwrap();
        let r = recover_file(&t, false).unwrap();
        let blocks = ends.iter().filter(|&&e| e <= cut).count();
        let want = &flows[..(blocks * per).min(flows.len())];
        assert_eq!(r.blocks, blocks as u64, "cut {cut}: {r}");
        assert_eq!(r.flows, want.len() as u64, "cut {cut}");
        assert_eq!(r.bad_blocks, 0);
        let kept_end = if blocks == 0 {
            // A header cut short is dropped too; a whole one is not counted.
            if cut < header_len {
                0
            } else {
                header_len
            }
        } else {
            ends[blocks - 1]
        };
        assert_eq!(r.bytes_dropped, cut - kept_end, "cut {cut}");
        assert!(!t.exists(), "cut {cut}: the tmp- file is gone");
        if blocks == 0 {
            assert!(r.published.is_none(), "cut {cut}: nothing to publish");
            assert_eq!(
                std::fs::read_dir(target.parent().unwrap()).unwrap().count(),
                0
            );
        } else {
            assert_eq!(r.published.as_deref(), Some(target.as_path()));
            assert_eq!(read_published(&target), want, "cut {cut}");
        }
    }
}

#[test]
fn a_block_failing_its_checksum_is_never_published() {
    let flows = real_flows();
    let per = 1000;
    let d = tempfile::tempdir().unwrap();
    let target = d.path().join("ft.2010-11-09.000000+0000");
    let (tmp, ends) = unfinished(&target, &flows, per);
    // A flipped byte in the middle of the second block's payload.
    let mut bytes = std::fs::read(&tmp).unwrap();
    let at = ((ends[0] + ends[1]) / 2) as usize;
    bytes[at] ^= 0x40;
    std::fs::write(&tmp, &bytes).unwrap();
    let r = recover_file(&tmp, true).unwrap();
    assert_eq!(r.bad_blocks, 1, "{r}");
    assert_eq!(r.blocks, ends.len() as u64 - 1);
    let got = read_published(&target);
    let want: Vec<FlowRecord> = flows[..per]
        .iter()
        .chain(&flows[2 * per..])
        .cloned()
        .collect();
    assert_eq!(got, want);
    assert_eq!(r.bytes_dropped, ends[1] - ends[0]);
}

#[test]
fn a_file_held_by_a_running_writer_is_left_alone() {
    let flows = real_flows();
    let d = tempfile::tempdir().unwrap();
    let target = d.path().join("ft.2010-11-09.000000+0000");
    let mut w = ArchiveFileWriter::create(&target, WriterOptions::default()).unwrap();
    for r in &flows[..100] {
        w.writer().push(r).unwrap();
    }
    w.writer().flush().unwrap();
    let tmp = writer::temp_name(&target);
    let before = std::fs::read(&tmp).unwrap();
    let mut seen = Vec::new();
    let sum = recover_tree(d.path(), false, &mut |o| seen.push(format!("{o:?}"))).unwrap();
    assert_eq!((sum.files, sum.skipped), (0, 1), "{seen:?}");
    assert!(seen[0].contains("running writer"), "{seen:?}");
    assert_eq!(std::fs::read(&tmp).unwrap(), before);
    // Once the writer is gone, the file is recovered.
    drop(w);
    let sum = recover_tree(d.path(), false, &mut |_| {}).unwrap();
    assert_eq!((sum.files, sum.published, sum.flows), (1, 1, 100));
    assert_eq!(read_published(&target), flows[..100]);
}

#[test]
fn finished_but_unrenamed_files_other_programs_files_and_taken_names() {
    let flows = real_flows();
    let d = tempfile::tempdir().unwrap();
    // Killed between finishing and renaming: published as it is, nothing dropped.
    let done = d.path().join("a/ft.2010-11-09.000000+0000");
    let mut w = ArchiveFileWriter::create(&done, WriterOptions::default()).unwrap();
    flows.iter().for_each(|r| w.writer().push(r).unwrap());
    w.finish().unwrap();
    let tmp = writer::temp_name(&done);
    std::fs::rename(&done, &tmp).unwrap();
    // A published file already has the name of this one: the recovered one gets a suffix.
    let taken = d.path().join("b/ft.2010-11-09.000000+0000");
    let (tmp2, _) = unfinished(&taken, &flows[..10], 5);
    std::fs::create_dir_all(taken.parent().unwrap()).unwrap();
    std::fs::write(&taken, b"someone else's").unwrap();
    // A tmp- file of another program.
    let other = d.path().join("c/tmp-v05.2010-11-09.000000+0000");
    std::fs::create_dir_all(other.parent().unwrap()).unwrap();
    std::fs::write(&other, b"\x00\x01flow-tools data").unwrap();
    let sum = recover_tree(d.path(), true, &mut |_| {}).unwrap();
    assert_eq!((sum.files, sum.published, sum.skipped), (2, 2, 1), "{sum}");
    assert_eq!(sum.bytes_dropped, 0);
    assert_eq!(read_published(&done), flows);
    assert!(!tmp.exists() && !tmp2.exists());
    assert_eq!(std::fs::read(&taken).unwrap(), b"someone else's");
    assert_eq!(
        read_published(&taken.with_file_name("ft.2010-11-09.000000+0000-1")),
        flows[..10]
    );
    assert_eq!(
        std::fs::read(&other).unwrap(),
        b"\x00\x01flow-tools data",
        "left alone"
    );
}
