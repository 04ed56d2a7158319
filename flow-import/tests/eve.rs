//! `flow-import` of Suricata EVE JSON written by the real Suricata 7.0.10
//! (testdata/other-logs/suricata): into a file and a dated tree, the same flows the library
//! reader gives; a broken line is named with its file and line, counted, and the rest imported.

use flowkit_core::archive::ArchiveFile;
use flowkit_core::logs::eve::{read_eve, EveEvents};
use flowkit_core::FlowRecord;
use std::path::Path;
use std::process::Command;

fn eve(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../testdata/other-logs/suricata/{name}"))
}

fn library(path: &Path) -> Vec<FlowRecord> {
    let mut out = Vec::new();
    let f = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    read_eve(f, "x", EveEvents::Auto, &mut |e| panic!("{e}"), &mut |r| {
        out.push(r);
        Ok(())
    })
    .unwrap();
    out
}

fn read_archive(path: &Path) -> Vec<FlowRecord> {
    let f = ArchiveFile::open(path, false).expect("archive");
    (0..f.blocks().len())
        .flat_map(|i| f.block(i).expect("block").records().collect::<Vec<_>>())
        .collect()
}

fn flow_import(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flow-import"))
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

#[test]
fn eve_files_import_as_the_reader_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "eve-flow.json",
        "eve-netflow.json",
        "eve-live-loopback-lo.json",
    ] {
        let out = dir.path().join(format!("{name}.fk"));
        let o = flow_import(&[
            eve(name).to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-v",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let want = library(&eve(name));
        assert!(!want.is_empty());
        // The archive keeps IPv4 and IPv6 flows in blocks of their own: compare as multisets.
        let sorted = |v: Vec<FlowRecord>| {
            let mut s: Vec<String> = v.iter().map(|r| format!("{r:?}")).collect();
            s.sort();
            s
        };
        assert_eq!(sorted(read_archive(&out)), sorted(want.clone()), "{name}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&format!("flows {}", want.len())), "{err}");
    }
    // `--eve-events netflow` on a file with both kinds: the netflow lines (27), not the 15 flows.
    let out = dir.path().join("netflow.fk");
    let o = flow_import(&[
        eve("eve-live-loopback-lo.json").to_str().unwrap(),
        "--eve-events",
        "netflow",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert_eq!(read_archive(&out).len(), 27);
}

#[test]
fn a_broken_line_is_named_counted_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(eve("eve-flow.json")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[6] = "{\"event_type\":\"flow\",";
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("bad.fk");
    let o = flow_import(&[bad.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{}:7:", bad.display())) && err.contains("malformed lines 1"),
        "{err}"
    );
    assert_eq!(read_archive(&out).len(), 231);
}

/// Several EVE files in one run: their counts add up in one summary line; a file named with
/// `--format eve` that cannot be opened is named, counted as unreadable, and the others are
/// still imported (the run warns but succeeds).
#[test]
fn totals_add_up_over_files_and_an_unreadable_one_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("all.fk");
    let missing = dir.path().join("missing.json");
    let (a, b) = (eve("eve-flow.json"), eve("eve-netflow.json"));
    let o = flow_import(&[
        "--format",
        "eve",
        a.to_str().unwrap(),
        missing.to_str().unwrap(),
        b.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let (na, nb) = (library(&a).len(), library(&b).len());
    assert_eq!(read_archive(&out).len(), na + nb);
    assert!(err.contains(&format!("{}: ", missing.display())), "{err}");
    assert!(
        err.contains("warning: EVE files 2 (unreadable 1): ")
            && err.contains(&format!("flows {}", na + nb)),
        "{err}"
    );
}
