//! `-e 'community-id 1:...'` selects the flows whose Community ID is that one: both directions
//! of a connection. Counted against the IDs Corelight's reference implementation gave every flow
//! of the sample day (testdata/community-id/sample-day.community-id.csv.gz).

use flowkit_core::testing::testdata;
use std::collections::BTreeMap;
use std::process::Command;

fn count(expr: &str) -> u64 {
    let out = Command::new(env!("CARGO_BIN_EXE_flow-nfilter"))
        .args(["-e", expr, "--count"])
        .arg(testdata::path("2010-11-09"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{expr}: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn ids_select_the_flows_the_reference_gave_them() {
    let text = testdata::read_text("community-id/sample-day.community-id.csv.gz").unwrap();
    // id -> (flows, protocol)
    let mut ids: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let e = ids
            .entry(cols[5].to_string())
            .or_insert((0, cols[2].into()));
        e.0 += 1;
    }
    let total: u64 = ids.values().map(|v| v.0).sum();
    assert_eq!(total, 3498);
    // A connection seen both ways, one seen one way, and an ICMP and a UDP one.
    let mut picks: Vec<&String> = Vec::new();
    for (want_n, want_proto) in [(2, "6"), (1, "6"), (2, "17"), (1, "1")] {
        let (id, _) = ids
            .iter()
            .find(|(_, (n, p))| *n == want_n && p == want_proto)
            .unwrap_or_else(|| panic!("no id of {want_n} flows, protocol {want_proto}"));
        picks.push(id);
    }
    for id in picks {
        let n = ids[id].0;
        assert_eq!(count(&format!("community-id {id}")), n, "{id}");
        assert_eq!(
            count(&format!("not community-id {id}")),
            total - n,
            "not {id}"
        );
        assert_eq!(
            count(&format!("(community-id {id}) or proto icmp")),
            n + 30 - if ids[id].1 == "1" { n } else { 0 },
            "{id} or icmp"
        );
    }
}

#[test]
fn a_malformed_id_and_sql_are_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_flow-nfilter"))
        .args(["-e", "community-id 1:abc", "--count"])
        .arg(testdata::path("2010-11-09"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("`1:abc` is not a Community ID at column 14"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_flow-nfilter"))
        .args([
            "-e",
            "community-id 1:wCb3OG7yAFWelaUydu0D+125CLM=",
            "--sql",
            "spark",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("`community-id` has no SQL form"), "{err}");
}
