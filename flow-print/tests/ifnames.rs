//! `flow-print --ifnames FILE`: interface names and descriptions from a mapping file, per
//! exporter and through `*`, in CSV and JSON; bad lines and missing maps are errors. Expected
//! rows are written out by hand from the map and the flows below.

use flowkit_core::model::record::FlowRecord;
use flowkit_core::testing::testdata;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn print(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-print"))
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

const MAP: &str = "\
# exporter  ifindex  name      description
10.0.0.1    1        ge-0/0/0  uplink, \"ISP A\"
10.0.0.1    2        ge-0/0/1
10.0.0.2    1        xe-1/0/0  core
*           9        mgmt0     out of band
";

fn flow(exporter: &str, input_if: u32, output_if: u32) -> FlowRecord {
    FlowRecord {
        start_ms: 1_700_000_000_000,
        end_ms: 1_700_000_001_000,
        exporter: exporter.parse::<IpAddr>().unwrap(),
        input_if,
        output_if,
        protocol: 6,
        packets: 1,
        octets: 40,
        ..FlowRecord::default()
    }
}

/// The map and an archive of four flows in `dir`.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let map = dir.join("ifnames.txt");
    std::fs::write(&map, MAP).unwrap();
    let file = dir.join("flows.fk");
    let flows = [
        flow("10.0.0.1", 1, 2),
        flow("10.0.0.2", 1, 9),
        flow("192.0.2.9", 1, 3),
        flow("10.0.0.1", 9, 1),
    ];
    testdata::write_archive(&file, &flows);
    (map, file)
}

#[test]
fn csv_columns_per_exporter_and_wildcard() {
    let d = tempfile::tempdir().unwrap();
    let (map, file) = setup(d.path());
    let o = print(&[
        "-f",
        "csv",
        "--ifnames",
        map.to_str().unwrap(),
        "--fields",
        "exporter,input_if,in_if_name,out_if_name,in_if_desc,out_if_desc",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "exporter,input_if,in_if_name,out_if_name,in_if_desc,out_if_desc\n\
         10.0.0.1,1,ge-0/0/0,ge-0/0/1,\"uplink, \"\"ISP A\"\"\",\n\
         10.0.0.2,1,xe-1/0/0,mgmt0,core,out of band\n\
         192.0.2.9,1,,,,\n\
         10.0.0.1,9,mgmt0,ge-0/0/0,out of band,\"uplink, \"\"ISP A\"\"\"\n"
    );
    // Without --fields: every column of the full CSV, then the four.
    let o = print(&[
        "-f",
        "csv",
        "--ifnames",
        map.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    assert!(
        head.ends_with(",in_if_name,out_if_name,in_if_desc,out_if_desc"),
        "{head}"
    );
    assert!(head.starts_with("start,end,"), "{head}");
    let first = lines.next().unwrap();
    assert!(
        first.ends_with(",ge-0/0/0,ge-0/0/1,\"uplink, \"\"ISP A\"\"\","),
        "{first}"
    );
}

#[test]
fn json_gives_null_where_the_map_names_nothing() {
    let d = tempfile::tempdir().unwrap();
    let (map, file) = setup(d.path());
    let o = print(&[
        "-f",
        "json",
        "--ifnames",
        map.to_str().unwrap(),
        "--fields",
        "ra,in_if_name,out_if_desc",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "{\"exporter\":\"10.0.0.1\",\"in_if_name\":\"ge-0/0/0\",\"out_if_desc\":null}\n\
         {\"exporter\":\"10.0.0.2\",\"in_if_name\":\"xe-1/0/0\",\"out_if_desc\":\"out of band\"}\n\
         {\"exporter\":\"192.0.2.9\",\"in_if_name\":null,\"out_if_desc\":null}\n\
         {\"exporter\":\"10.0.0.1\",\"in_if_name\":\"mgmt0\",\"out_if_desc\":\"uplink, \\\"ISP A\\\"\"}\n"
    );
}

#[test]
fn bad_maps_and_missing_maps_are_errors() {
    let d = tempfile::tempdir().unwrap();
    let (_, file) = setup(d.path());
    let bad = d.path().join("bad.txt");
    std::fs::write(&bad, "10.0.0.1 1 ge-0/0/0\n10.0.0.1 x1 ge-0/0/1\n").unwrap();
    let f = file.to_str().unwrap();
    let b = bad.to_str().unwrap();
    let want_bad = format!("--ifnames {b}:2:10: \"x1\" is not an interface index");
    for (args, says) in [
        (vec!["-f", "csv", "--ifnames", b, f], want_bad.as_str()),
        (
            vec!["-f", "csv", "--fields", "in_if_name", f],
            "in_if_name needs --ifnames FILE",
        ),
        (
            vec!["-f", "3", "--ifnames", b, f],
            "\"x1\" is not an interface index",
        ),
    ] {
        let o = print(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    // A good map with a fixed-column format: refused, said why.
    let good = d.path().join("good.txt");
    std::fs::write(&good, "* 1 x\n").unwrap();
    let o = print(&["-f", "3", "--ifnames", good.to_str().unwrap(), f]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--ifnames adds columns to csv and json"),
        "{err}"
    );
}
