//! `flow-stat --ifnames FILE --top in_if_name`: groups folded by interface name, per exporter
//! and through `*` lines; totals worked out by hand from the flows below.

use flowkit_core::model::record::FlowRecord;
use flowkit_core::testing::testdata;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn stat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-stat"))
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

const MAP: &str = "\
10.0.0.1  1  ge-0/0/0  uplink
10.0.0.1  2  ge-0/0/1
10.0.0.2  1  xe-1/0/0  core
*         9  mgmt0     out of band
";

fn flow(exporter: &str, input_if: u32, octets: u64) -> FlowRecord {
    FlowRecord {
        start_ms: 1_700_000_000_000,
        end_ms: 1_700_000_001_000,
        exporter: exporter.parse::<IpAddr>().unwrap(),
        input_if,
        output_if: 1,
        protocol: 17,
        packets: 1,
        octets,
        ..FlowRecord::default()
    }
}

fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let map = dir.join("ifnames.txt");
    std::fs::write(&map, MAP).unwrap();
    let file = dir.join("flows.fk");
    let flows = [
        flow("10.0.0.1", 1, 1000), // ge-0/0/0
        flow("10.0.0.1", 1, 500),  // ge-0/0/0
        flow("10.0.0.2", 1, 300),  // xe-1/0/0
        flow("10.0.0.1", 9, 200),  // mgmt0 (*)
        flow("10.0.0.2", 9, 150),  // mgmt0 (*)
        flow("192.0.2.9", 1, 50),  // not in the map
        flow("192.0.2.9", 4, 25),  // not in the map
        flow("10.0.0.1", 2, 400),  // ge-0/0/1
    ];
    testdata::write_archive(&file, &flows);
    (map, file)
}

/// `(keys, flows, octets)` of each CSV row after the rank.
fn rows(o: &Output, keys: usize) -> Vec<(Vec<String>, u64, u64)> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut r = csv::Reader::from_reader(o.stdout.as_slice());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(head[0], "rank");
    assert_eq!(head[keys + 1], "flows");
    assert_eq!(head[keys + 3], "octets");
    r.records()
        .map(|row| {
            let row = row.unwrap();
            let k = (1..=keys).map(|i| row[i].to_string()).collect();
            (
                k,
                row[keys + 1].parse().unwrap(),
                row[keys + 3].parse().unwrap(),
            )
        })
        .collect()
}

fn row(keys: &[&str], flows: u64, octets: u64) -> (Vec<String>, u64, u64) {
    (keys.iter().map(|k| k.to_string()).collect(), flows, octets)
}

#[test]
fn groups_by_interface_name_by_octets() {
    let d = tempfile::tempdir().unwrap();
    let (map, file) = setup(d.path());
    let (m, f) = (map.to_str().unwrap(), file.to_str().unwrap());
    let base = ["--ifnames", m, "--by", "octets", "--count", "0", "--csv"];
    let o = stat(&[&base[..], &["--top", "in_if_name", f]].concat());
    assert_eq!(
        rows(&o, 1),
        [
            row(&["ge-0/0/0"], 2, 1500),
            row(&["ge-0/0/1"], 1, 400),
            row(&["mgmt0"], 2, 350),
            row(&["xe-1/0/0"], 1, 300),
            row(&["-"], 2, 75),
        ]
    );
    // With the exporter beside it, each exporter's interfaces apart.
    let o = stat(&[&base[..], &["--top", "router,in_if_name", f]].concat());
    assert_eq!(
        rows(&o, 2),
        [
            row(&["10.0.0.1", "ge-0/0/0"], 2, 1500),
            row(&["10.0.0.1", "ge-0/0/1"], 1, 400),
            row(&["10.0.0.2", "xe-1/0/0"], 1, 300),
            row(&["10.0.0.1", "mgmt0"], 1, 200),
            row(&["10.0.0.2", "mgmt0"], 1, 150),
            row(&["192.0.2.9", "-"], 2, 75),
        ]
    );
    // The index beside the name keeps interfaces the map does not name apart.
    let o = stat(
        &[
            &base[..],
            &["--top", "in_if_name,input_if", "--min", "octets=20", f],
        ]
        .concat(),
    );
    let got = rows(&o, 2);
    assert_eq!(got.len(), 6);
    assert_eq!(got[4], row(&["-", "1"], 1, 50));
    assert_eq!(got[5], row(&["-", "4"], 1, 25));
    // Output interfaces: every flow leaves by index 1.
    let o = stat(&[&base[..], &["--top", "out_if_name", f]].concat());
    assert_eq!(
        rows(&o, 1),
        [
            row(&["ge-0/0/0"], 4, 2100),
            row(&["xe-1/0/0"], 2, 450),
            row(&["-"], 2, 75),
        ]
    );
}

#[test]
fn interface_keys_need_the_map_and_no_bins() {
    let d = tempfile::tempdir().unwrap();
    let (map, file) = setup(d.path());
    let (m, f) = (map.to_str().unwrap(), file.to_str().unwrap());
    let bad = d.path().join("bad.txt");
    std::fs::write(&bad, "# ok\n10.0.0.1 1\n").unwrap();
    let b = bad.to_str().unwrap();
    let want_bad = format!("--ifnames {b}:2:11: an interface name must follow the index");
    for (args, says) in [
        (
            vec!["--top", "in_if_name", f],
            "in_if_name needs --ifnames FILE",
        ),
        (
            vec!["--ifnames", m, "--top", "in_if_name", "--bin", "1h", f],
            "no --bin",
        ),
        (
            vec!["--ifnames", b, "--top", "in_if_name", f],
            want_bad.as_str(),
        ),
    ] {
        let o = stat(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
