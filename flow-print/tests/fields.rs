//! `--fields`: the chosen CSV columns and JSON keys are those of the full `-f csv` / `-f json`
//! output (whose values the library's tests check against the records), in the order asked,
//! named by any of flowkit's, flow-tools' and nfdump's names; bad lists are usage errors.

use flowkit_core::testing::testdata;
use std::process::{Command, Output};

fn flow_print(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-print"))
        .args(args)
        .current_dir(testdata::dir())
        .env("TZ", "America/Sao_Paulo")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// (as typed, the column it must give)
const CHOSEN: [(&str, &str); 9] = [
    ("end", "end"),
    ("sa", "src_addr"),
    ("%dp", "dst_port"),
    ("prot", "protocol"),
    ("doctets", "octets"),
    ("start_ms", "start_ms"),
    ("Exporter", "exporter"),
    ("tcp-flags", "tcp_flags"),
    ("dstip", "dst_addr"),
];

#[test]
fn chosen_csv_columns_are_those_of_the_full_csv() {
    let list: Vec<&str> = CHOSEN.iter().map(|c| c.0).collect();
    let list = list.join(",");
    let full = stdout(&flow_print(&["-f", "csv", "2010-11-09"]));
    let some = stdout(&flow_print(&["-f", "csv", "--fields", &list, "2010-11-09"]));
    let mut full = csv::Reader::from_reader(full.as_bytes());
    let mut some = csv::Reader::from_reader(some.as_bytes());
    let want: Vec<&str> = CHOSEN.iter().map(|c| c.1).collect();
    assert_eq!(some.headers().unwrap().iter().collect::<Vec<_>>(), want);
    let at: Vec<usize> = want
        .iter()
        .map(|w| {
            full.headers()
                .unwrap()
                .iter()
                .position(|h| h == *w)
                .unwrap()
        })
        .collect();
    let (mut rows, full_rows) = (some.records(), full.records());
    let mut n = 0;
    for f in full_rows {
        let f = f.unwrap();
        let s = rows.next().expect("a row for every flow").unwrap();
        let picked: Vec<&str> = at.iter().map(|&i| &f[i]).collect();
        assert_eq!(s.iter().collect::<Vec<_>>(), picked);
        n += 1;
    }
    assert!(rows.next().is_none());
    assert!(n > 1000, "{n} flows");
}

#[test]
fn chosen_json_keys_are_those_of_the_full_json() {
    let full = stdout(&flow_print(&["-f", "json", "2010-11-09"]));
    let some = stdout(&flow_print(&[
        "-f",
        "json",
        "--fields",
        "start,da,%sp,pkt,next_hop,sampling_interval",
        "2010-11-09",
    ]));
    let keys = [
        "start",
        "dst_addr",
        "src_port",
        "packets",
        "next_hop",
        "sampling_interval",
    ];
    assert_eq!(full.lines().count(), some.lines().count());
    for (f, s) in full.lines().zip(some.lines()) {
        let f: serde_json::Value = serde_json::from_str(f).unwrap();
        let s: serde_json::Value = serde_json::from_str(s).unwrap();
        let s = s.as_object().unwrap();
        assert_eq!(s.len(), keys.len());
        for k in keys {
            assert_eq!(s[k], f[k], "{k}");
        }
    }
    // Keys in the order asked.
    let first = some.lines().next().unwrap();
    let order: Vec<usize> = keys
        .iter()
        .map(|k| first.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{first}");
}

#[test]
fn bad_field_lists_are_usage_errors() {
    for (args, says) in [
        (
            vec!["-f", "csv", "--fields", "sa,bogus"],
            "unknown field \"bogus\"",
        ),
        (
            vec!["-f", "csv", "--fields", "sa,srcaddr"],
            "names src_addr a second time",
        ),
        (
            vec!["-f", "5", "--fields", "sa"],
            "format 5 has fixed columns",
        ),
    ] {
        let o = flow_print(&[args.as_slice(), &["2010-11-09"]].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.starts_with("flow-print: "), "{err}");
        assert!(err.contains(says), "{err}");
        assert!(o.stdout.is_empty());
    }
}
