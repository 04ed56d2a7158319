//! flow-import reads nfdump files: the archive it writes holds the flows the library's nfdump
//! reader gets (which its own tests compare with nfdump's printout); damage keeps what came
//! before and says where.

use flowkit_core::archive::format::DEFAULT_BLOCK_FLOWS;
use flowkit_core::archive::nfdump::NfdumpReader;
use flowkit_core::archive::ArchiveFile;
use flowkit_core::model::record::FlowRecord;
use flowkit_core::FlowBlockBuf;
use std::path::{Path, PathBuf};
use std::process::Command;

fn nfdump_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/nfdump")
        .join(name)
}

fn library_flows(bytes: &[u8]) -> Vec<FlowRecord> {
    let mut r = NfdumpReader::new("x", &[], bytes).expect("nfdump file");
    let mut buf = FlowBlockBuf::default();
    let mut out = Vec::new();
    while r.next_block(&mut buf, DEFAULT_BLOCK_FLOWS).expect("intact") > 0 {
        out.extend(buf.view().records());
    }
    out
}

fn read_archive(path: &Path) -> Vec<FlowRecord> {
    let f = ArchiveFile::open(path, false).expect("archive");
    (0..f.blocks().len())
        .flat_map(|i| f.block(i).expect("block").records().collect::<Vec<_>>())
        .collect()
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flow-import"))
        .args(args)
        .output()
        .expect("run flow-import");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn nfdump_files_import_by_magic_with_every_flow() {
    let d = tempfile::tempdir().unwrap();
    for name in [
        "scenario-ipfix-lz4.nfcapd",
        "softflowd-v5-sampled-lz4.nfcapd",
    ] {
        let src = nfdump_file(name);
        let out = d.path().join(format!("{name}.fk"));
        let (code, err) = run(&["-v", src.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("nfdump files 1"), "{err}");
        let want = library_flows(&std::fs::read(&src).unwrap());
        assert!(want.len() > 1000);
        // The archive keeps IPv4 and IPv6 flows in separate blocks: compare as sets.
        let key = |v: Vec<FlowRecord>| {
            let mut k: Vec<String> = v.iter().map(|r| format!("{r:?}")).collect();
            k.sort();
            k
        };
        let (got, want) = (key(read_archive(&out)), key(want));
        assert_eq!(got.len(), want.len(), "{name}");
        if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
            panic!("{name} flow {i}:\n{:?}\n{:?}", got[i], want[i]);
        }
    }
}

#[test]
fn damaged_nfdump_file_keeps_the_flows_before_and_says_where() {
    let d = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(nfdump_file("scenario-ipfix.nfcapd")).unwrap();
    let cut = d.path().join("nfcapd.201011090000");
    std::fs::write(&cut, &bytes[..100_000]).unwrap();
    let out = d.path().join("o.fk");
    let (code, err) = run(&[cut.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("nfcapd.201011090000: truncated at byte 100000"),
        "{err}"
    );
    assert!(err.contains("damaged files 1"), "{err}");
    // The file's one (uncompressed) data block was cut: its whole records before the cut are
    // imported, and they are the file's first flows.
    let kept = read_archive(&out);
    let all = library_flows(&bytes);
    assert!(kept.len() > 500 && kept.len() < all.len(), "{}", kept.len());
    let key = |v: &[FlowRecord]| {
        let mut k: Vec<String> = v.iter().map(|r| format!("{r:?}")).collect();
        k.sort();
        k
    };
    assert_eq!(key(&kept), key(&all[..kept.len()]));
}

#[test]
fn format_nfdump_on_something_else_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("not.pcap");
    std::fs::write(&p, b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00 and more").unwrap();
    let (code, err) = run(&["--format", "nfdump", p.to_str().unwrap(), "--check"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not an nfdump file"), "{err}");
}
