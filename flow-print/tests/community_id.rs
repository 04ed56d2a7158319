//! `--fields community_id`: the Community ID of each flow, as Corelight's reference
//! implementation (PyPI `communityid` 1.5.0, testdata/community-id/make.py) computes it from
//! the Suricata EVE samples' own fields (addresses, ports, ICMP type and code; TCP, UDP, SCTP,
//! ICMP and ICMPv6 over IPv4 and IPv6), matched by Suricata's `flow_id`; and of every flow of
//! the sample day's flow-tools file (NetFlow v5: both directions of a connection, ICMP type and
//! code in the destination port; testdata/community-id/tuples.py).

use flowkit_core::testing::testdata;
use std::process::Command;

/// The `flow_id,community_id` rows, sorted (flow-print writes them in the log's order too,
/// but the check should not depend on it).
fn by_flow_id(csv: &str) -> Vec<(String, String)> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("flow_id,community_id"));
    let mut rows: Vec<(String, String)> = lines
        .map(|l| {
            let (id, cid) = l.split_once(',').unwrap();
            (id.to_string(), cid.to_string())
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn community_ids_are_those_of_the_reference_implementation() {
    let mut compared = 0;
    for name in [
        "eve-flow",
        "eve-full-decode-teredo-01",
        "eve-live-loopback-lo",
        "eve-full-ethernet-eve",
    ] {
        let log = testdata::path(&format!("other-logs/suricata/{name}.json"));
        let out = Command::new(env!("CARGO_BIN_EXE_flow-print"))
            .args(["-f", "csv", "--fields", "flow_id,cid"])
            .arg(&log)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {out:?}");
        let ours = by_flow_id(&String::from_utf8(out.stdout).unwrap());
        let path = testdata::path(&format!("community-id/{name}.community-id.csv"));
        let theirs = by_flow_id(&std::fs::read_to_string(path).unwrap());
        assert_eq!(ours, theirs, "{name}");
        compared += theirs.len();
    }
    assert_eq!(compared, 232 + 12 + 15 + 13);
}

/// JSON writes the hash as a string (the first flow's, from the reference file).
#[test]
fn json_writes_the_id_as_a_string() {
    let log = testdata::path("other-logs/suricata/eve-flow.json");
    let out = Command::new(env!("CARGO_BIN_EXE_flow-print"))
        .args(["-f", "json", "--fields", "community_id"])
        .arg(&log)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        r#"{"community_id":"1:nkRJLswZk7fwZUdbnepeiosYNyE="}"#
    );
}

#[test]
fn the_sample_days_ids_are_those_of_the_reference_implementation() {
    let out = Command::new(env!("CARGO_BIN_EXE_flow-print"))
        .args(["-f", "csv", "--fields", "sa,da,prot,sp,dp,community_id"])
        .arg(testdata::path("2010-11-09"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let want = testdata::read_text("community-id/sample-day.community-id.csv.gz").unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
    assert_eq!(want.lines().count(), 3498 + 1);
}
