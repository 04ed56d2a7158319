//! `-e '[in|out] if name X'` with `--ifnames FILE`: the flows whose interface the map names X,
//! exactly those flow-print prints as X. Counted by hand from the (exporter, input_if,
//! output_if) pairs of real archives, checked against the printed name columns for every name
//! of the map, the `*` override, the errors, and the SQL.

use flowkit_core::testing::testdata;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

fn flow_nfilter(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-nfilter"))
        .env_remove("FLOWKIT_FILTERS")
        .env("TZ", "UTC")
        .args(args)
        .output()
        .unwrap()
}

/// Real archives whose flows carry these (exporter, input_if, output_if), as
/// `flow-print -f csv --fields ra,input_if,output_if FILE | sort | uniq -c` counts them:
/// gen-10000.v2.fk 5617 × (127.0.0.1, 2, 1) and 4383 × (127.0.0.1, 1, 2);
/// ipfix-openbsd-pflow 14 × (33.0.243.129, 1, 1) and 12 × (33.0.243.129, 2, 2);
/// netflow-9-cisco-asa-2 19 × (33.0.243.129, 3, 4); netflow5-juniper-mx80 29 ×
/// (33.0.243.129, 542, 536).
const INPUTS: [&str; 4] = [
    "archive-v2/gen-10000.v2.fk",
    "anon/ipfix-openbsd-pflow.nfanon.nfcapd",
    "anon/netflow-9-cisco-asa-2.nfanon.nfcapd",
    "anon/netflow5-juniper-mx80.nfanon.nfcapd",
];

/// `*` names 1 and 2 for every exporter; 33.0.243.129's own lines override both (its 2 is
/// Gi0/1 too, its 1 another name).
const MAP: &str = "\
# exporter    ifindex name                  description
*             1       Gi0/1                 any exporter's first
*             2       GigabitEthernet0/0/2
33.0.243.129  1       xe-0/0/0.100          pflow one
33.0.243.129  2       Gi0/1
33.0.243.129  3       inside                ASA inside
33.0.243.129  542     ge-1/0/0
";

fn write_map(dir: &Path) -> String {
    let p = dir.join("ifnames.txt");
    std::fs::write(&p, MAP).unwrap();
    p.display().to_string()
}

/// The `exporter,in_if_name,out_if_name` rows flow-nfilter passes for `expr`, as the printer
/// (flow-print's) prints them with the map.
fn rows(map: &str, expr: &str) -> Vec<(String, String, String)> {
    let inputs: Vec<String> = INPUTS
        .iter()
        .map(|p| testdata::path(p).display().to_string())
        .collect();
    let mut args = vec!["--ifnames", map, "-e", expr, "--print", "csv"];
    args.extend(["--fields", "ra,in_if_name,out_if_name"]);
    args.extend(inputs.iter().map(String::as_str));
    let o = flow_nfilter(&args);
    assert!(
        o.status.success(),
        "{expr}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8(o.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("exporter,in_if_name,out_if_name"));
    lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            assert_eq!(c.len(), 3, "{l}");
            (c[0].to_string(), c[1].to_string(), c[2].to_string())
        })
        .collect()
}

#[test]
fn names_select_the_hand_counted_flows() {
    let d = tempfile::tempdir().unwrap();
    let map = write_map(d.path());
    for (expr, want) in [
        // 127.0.0.1 in 1 (*), 33.0.243.129 in 2 (own line).
        ("in if name Gi0/1", 4383 + 12),
        // 127.0.0.1 out 1, 33.0.243.129 out 2.
        ("out if name Gi0/1", 5617 + 12),
        // Every flow of 127.0.0.1 has 1 on one side; 33.0.243.129's 2 -> 2.
        ("if name Gi0/1", 10000 + 12),
        // * 2 applies to 127.0.0.1 only: 33.0.243.129's own line for 2 overrides it.
        ("in if name GigabitEthernet0/0/2", 5617),
        ("in if name xe-0/0/0.100", 14),
        ("out if name xe-0/0/0.100", 14),
        ("in if name inside", 19),
        ("out if name inside", 0),
        ("in if name ge-1/0/0", 29),
        ("not in if name Gi0/1", 5617 + 14 + 19 + 29),
        ("in if name Gi0/1 and out if name Gi0/1", 12),
    ] {
        assert_eq!(rows(&map, expr).len(), want, "{expr}");
    }
}

/// For every name of the map, both ways: the flows the filter passes are exactly the flows
/// the printer names so.
#[test]
fn filter_by_name_is_what_print_prints() {
    let d = tempfile::tempdir().unwrap();
    let map = write_map(d.path());
    let all = rows(&map, "any");
    assert_eq!(all.len(), 10000 + 26 + 19 + 29);
    let names = [
        "Gi0/1",
        "GigabitEthernet0/0/2",
        "xe-0/0/0.100",
        "inside",
        "ge-1/0/0",
    ];
    for name in names {
        for dir in ["in", "out"] {
            let col = |r: &(String, String, String)| {
                if dir == "in" {
                    r.1.clone()
                } else {
                    r.2.clone()
                }
            };
            let got = rows(&map, &format!("{dir} if name {name}"));
            assert!(got.iter().all(|r| col(r) == name), "{dir} {name}");
            let mut want: BTreeMap<(String, String, String), usize> = BTreeMap::new();
            for r in all.iter().filter(|r| col(r) == name) {
                *want.entry(r.clone()).or_default() += 1;
            }
            let mut have: BTreeMap<(String, String, String), usize> = BTreeMap::new();
            for r in got {
                *have.entry(r).or_default() += 1;
            }
            assert_eq!(have, want, "{dir} {name}");
        }
    }
}

#[test]
fn mistakes_exit_2_with_the_reason() {
    let d = tempfile::tempdir().unwrap();
    let map = write_map(d.path());
    let day = testdata::path("2010-11-09").display().to_string();
    for (args, want) in [
        (
            vec!["--ifnames", &map, "-e", "in if name Gi0/2", &day],
            "-e: no interface is named `Gi0/2` (in_if_name) in --ifnames at column 12; did you mean `Gi0/1`?",
        ),
        (
            vec!["-e", "out if name Gi0/1", &day],
            "-e: `if name` needs a map of interface names at column 5; give --ifnames FILE",
        ),
        (
            vec!["--ifnames", "/nonexistent/ifnames.txt", "-e", "in if name Gi0/1", &day],
            "--ifnames /nonexistent/ifnames.txt: ",
        ),
    ] {
        let o = flow_nfilter(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8(o.stderr).unwrap();
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

/// `--sql duckdb`: the name becomes the same SQL as the exporter and index tests written out
/// by hand from the map.
#[test]
fn sql_is_that_of_the_tests_written_out() {
    let d = tempfile::tempdir().unwrap();
    let map = write_map(d.path());
    for (expr, by_hand) in [
        (
            "in if name Gi0/1",
            "(router ip 33.0.243.129 and in if 2) or (in if 1 and not router ip 33.0.243.129)",
        ),
        ("out if name inside", "router ip 33.0.243.129 and out if 3"),
        (
            "out if name GigabitEthernet0/0/2",
            "out if 2 and not router ip 33.0.243.129",
        ),
    ] {
        let sql = |args: &[&str]| {
            let o = flow_nfilter(args);
            assert!(o.status.success(), "{args:?}: {o:?}");
            String::from_utf8(o.stdout).unwrap()
        };
        let got = sql(&["--ifnames", &map, "-e", expr, "--sql", "duckdb"]);
        let want = sql(&["-e", by_hand, "--sql", "duckdb"]);
        assert_eq!(got, want, "{expr}");
        assert!(
            got.contains("exporter = X'00000000000000000000ffff2100f381'"),
            "{got}"
        );
    }
}
