//! flow-cat into a real pipe: another flowkit tool reading it gets block references (and the same
//! flows); any other reader, or FLOWKIT_PIPE_REFS=0, gets the blocks themselves.

use flowkit_core::archive::{ArchiveFile, ArchiveFileWriter, WriterOptions};
use flowkit_core::gen::{FlowGen, GenConfig};
use flowkit_core::FlowRecord;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const FLOW_CAT: &str = env!("CARGO_BIN_EXE_flow-cat");

fn archive(dir: &Path) -> (PathBuf, Vec<FlowRecord>) {
    let recs: Vec<FlowRecord> = FlowGen::new(GenConfig {
        flows: 20_000,
        ..GenConfig::default()
    })
    .collect();
    let p = dir.join("ft.2024-06-03.000000+0000");
    let mut w = ArchiveFileWriter::create(
        &p,
        WriterOptions {
            block_flows: 1000,
            ..WriterOptions::default()
        },
    )
    .unwrap();
    recs.iter().for_each(|r| w.writer().push(r).unwrap());
    w.finish().unwrap();
    (p, recs)
}

fn flows(p: &Path) -> Vec<FlowRecord> {
    let f = ArchiveFile::open(p, true).unwrap();
    (0..f.blocks().len())
        .flat_map(|i| f.block(i).unwrap().records().collect::<Vec<_>>())
        .collect()
}

/// Runs `flow-cat -v INPUT | [middle |] flow-cat -o OUT` from a shell, as a user would; returns
/// the first flow-cat's stderr.
fn pipeline(input: &Path, out: &Path, middle: Option<&str>, env: &[(&str, &str)]) -> String {
    let mid = middle.map(|m| format!("{m} | ")).unwrap_or_default();
    let line = format!(
        "'{FLOW_CAT}' -v '{}' | {mid}'{FLOW_CAT}' -o '{}'",
        input.display(),
        out.display()
    );
    let o = Command::new("sh")
        .args(["-c", &line])
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let log = String::from_utf8(o.stderr).unwrap();
    assert!(o.status.success(), "{line}: {log}");
    log
}

#[test]
fn a_flowkit_reader_gets_references_others_get_blocks() {
    let d = tempfile::tempdir().unwrap();
    let (input, recs) = archive(d.path());

    let out = d.path().join("via-refs.fk");
    let log = pipeline(&input, &out, None, &[]);
    assert!(log.contains("20 blocks passed by reference"), "{log}");
    assert_eq!(flows(&out), recs);

    let out = d.path().join("via-cat.fk");
    let log = pipeline(&input, &out, Some("cat"), &[]);
    assert!(!log.contains("by reference"), "{log}");
    assert_eq!(flows(&out), recs);

    let out = d.path().join("refs-off.fk");
    let log = pipeline(&input, &out, None, &[("FLOWKIT_PIPE_REFS", "0")]);
    assert!(!log.contains("by reference"), "{log}");
    assert_eq!(flows(&out), recs);
}

/// flow-cat sends references to blocks it has not read; a damaged block is then caught by the
/// tool that reads the references, which names the file and offset and keeps the flows before it.
#[test]
fn a_damaged_block_passed_by_reference_is_caught_by_its_reader() {
    let d = tempfile::tempdir().unwrap();
    let (input, recs) = archive(d.path());
    let f = ArchiveFile::open(&input, true).unwrap();
    let b = f.blocks()[10];
    drop(f);
    let mut bytes = std::fs::read(&input).unwrap();
    let at = (b.offset + b.len / 2) as usize; // inside one of the block's flow columns
    bytes[at] ^= 0x5a;
    // Same size and name, but written anew: references are made to this file.
    std::fs::write(&input, &bytes).unwrap();
    let out = d.path().join("out.fk");
    let line = format!(
        "'{FLOW_CAT}' -v '{}' | '{FLOW_CAT}' -o '{}'",
        input.display(),
        out.display()
    );
    let o = Command::new("sh").args(["-c", &line]).output().unwrap();
    let log = String::from_utf8(o.stderr).unwrap();
    assert!(log.contains("20 blocks passed by reference"), "{log}");
    assert!(log.contains(&*input.to_string_lossy()), "{log}");
    assert!(log.contains("corrupt at byte"), "{log}");
    assert!(!o.status.success(), "damage is an error: {log}");
    assert_eq!(flows(&out), recs[..10_000]);
}

/// `flow-cat -o FILE` copies blocks stored as it stores them byte for byte, their columns
/// checked as stored but never inflated (a compressed archive costs no decompression); a damaged
/// column is still caught there, named with the file and offset, and the flows before it kept.
#[test]
fn blocks_copied_as_stored_are_identical_and_damage_is_still_caught() {
    for compress in [None, Some(3)] {
        let d = tempfile::tempdir().unwrap();
        let (plain, recs) = archive(d.path());
        let input = d.path().join("in.fk");
        let mut w = ArchiveFileWriter::create(
            &input,
            WriterOptions {
                block_flows: 1000,
                compress,
                ..WriterOptions::default()
            },
        )
        .unwrap();
        flows(&plain)
            .iter()
            .for_each(|r| w.writer().push(r).unwrap());
        w.finish().unwrap();
        let level = if compress.is_some() { "on" } else { "none" };
        let cat = |out: &Path| {
            Command::new(FLOW_CAT)
                .args(["--compress", level, "-o"])
                .arg(out)
                .arg(&input)
                .output()
                .unwrap()
        };

        let out = d.path().join("out.fk");
        let o = cat(&out);
        assert!(o.status.success(), "{o:?}");
        let (a, b) = (
            ArchiveFile::open(&input, true).unwrap(),
            ArchiveFile::open(&out, true).unwrap(),
        );
        assert_eq!(a.blocks().len(), 20);
        assert_eq!(b.blocks().len(), 20);
        for i in 0..20 {
            assert_eq!(
                a.block_bytes(i),
                b.block_bytes(i),
                "block {i} ({compress:?})"
            );
        }
        assert_eq!(flows(&out), recs);
        drop((a, b));

        let f = ArchiveFile::open(&input, true).unwrap();
        let blk = f.blocks()[10];
        drop(f);
        let mut bytes = std::fs::read(&input).unwrap();
        bytes[(blk.offset + blk.len / 2) as usize] ^= 0x5a; // inside one of the block's columns
        std::fs::write(&input, &bytes).unwrap();
        let out = d.path().join("damaged.fk");
        let o = cat(&out);
        let log = String::from_utf8(o.stderr).unwrap();
        assert!(!o.status.success(), "damage is an error: {log}");
        assert!(log.contains(&*input.to_string_lossy()), "{log}");
        assert!(log.contains("corrupt at byte"), "{log}");
        assert!(
            flows(&out) == recs[..10_000],
            "the flows before the damaged block, and only those ({compress:?}): {log}"
        );
    }
}
