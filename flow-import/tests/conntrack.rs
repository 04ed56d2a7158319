//! `flow-import` of ulogd2 conntrack JSON written by the real ulogd 2.0.8
//! (testdata/other-logs/ulogd): one flow per connection, as the library reads it; a log
//! without addresses is named line by line and imports nothing.

use flowkit_core::archive::ArchiveFile;
use flowkit_core::logs::conntrack::read_conntrack;
use flowkit_core::FlowRecord;
use std::path::{Path, PathBuf};
use std::process::Command;

fn log(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../testdata/other-logs/ulogd/{name}"))
}

fn sorted(v: &[FlowRecord]) -> Vec<String> {
    let mut s: Vec<String> = v.iter().map(|r| format!("{r:?}")).collect();
    s.sort();
    s
}

#[test]
fn connections_import_as_flows() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "nfct-events-new-destroy-utc.json",
        "nfct-hash-destroy-only-utc.json",
    ] {
        let out = dir.path().join(format!("{name}.fk"));
        let o = Command::new(env!("CARGO_BIN_EXE_flow-import"))
            .args([log(name).to_str().unwrap(), "-o", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut want = Vec::new();
        let f = std::io::BufReader::new(std::fs::File::open(log(name)).unwrap());
        read_conntrack(f, "x", &mut |e| panic!("{e}"), &mut |c| {
            want.push(c.record());
            Ok(())
        })
        .unwrap();
        assert_eq!(want.len(), 15);
        let a = ArchiveFile::open(&out, false).unwrap();
        let got: Vec<FlowRecord> = (0..a.blocks().len())
            .flat_map(|i| a.block(i).unwrap().records().collect::<Vec<_>>())
            .collect();
        assert_eq!(sorted(&got), sorted(&want), "{name}");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_flow-import"))
        .args(["--check", log("nfct-no-ip2str-utc.json").to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("nfct-no-ip2str-utc.json:1: no `src_ip`"),
        "{err}"
    );
    assert!(err.contains("malformed lines 30"), "{err}");
}
