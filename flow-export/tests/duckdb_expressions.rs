//! DuckDB over flow-export's Parquet selects exactly the flows `flow-nfilter -e EXPR` does, for
//! expressions translated by `--sql duckdb` (filter::expr::sql): the 99 expressions of
//! testdata/nfdump/expressions.txt on nfdump captures with IPv6, biflows and sampled flows, and
//! the arithmetic's edge cases (an end before the start, a zero duration, zero packets,
//! saturating counters and rates) on made-up flows. The same rows, compared column by column.
//! Needs Python's duckdb package (`pip install duckdb`; CI's .ci/run installs it): without it
//! the test fails, loudly.

use flowkit_core::filter::expr::sql::expr_to_sql;
use flowkit_core::filter::expr::Expression;
use flowkit_core::filter::sql::Dialect;
use flowkit_core::pipeline::input::Input;
use flowkit_core::pipeline::scan::{ScanOptions, Scanner};
use flowkit_core::{FlowBlockBuf, FlowRecord};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn read_flows(input: &Path) -> FlowBlockBuf {
    let mut all = FlowBlockBuf::default();
    let mut scanner = Scanner::new(ScanOptions::default(), |m| panic!("scan: {m}"));
    scanner
        .run(&[Input::File(input.to_path_buf())], &mut |blocks| {
            for b in blocks {
                all.extend_all(b);
            }
            Ok(())
        })
        .unwrap();
    all
}

/// `input` exported to Parquet in `out` by flow-export.
fn export(input: &Path, out: &Path) {
    export_with(input, out, &[]);
}

/// `input` exported to Parquet in `out` by flow-export with `args`.
fn export_with(input: &Path, out: &Path, args: &[&str]) {
    let st = Command::new(env!("CARGO_BIN_EXE_flow-export"))
        .args(args)
        .arg("--parquet")
        .arg("-o")
        .arg(out)
        .arg(input)
        .status()
        .unwrap();
    assert!(st.success(), "{}: flow-export --parquet", input.display());
}

/// The key of expression `i` (expressions.txt has some text twice, spaced differently).
fn key(i: usize, e: &Expression) -> String {
    format!("{i:02} {}", e.text)
}

fn row(r: &FlowRecord) -> serde_json::Value {
    serde_json::json!([
        r.start_ms,
        r.end_ms,
        r.src_addr.to_string(),
        r.dst_addr.to_string(),
        r.src_port,
        r.dst_port,
        r.protocol,
        r.tcp_flags,
        r.packets,
        r.octets,
        r.rev_packets,
        r.rev_octets
    ])
}

/// Compares, for every flow set (its Parquet export and its flows) and every expression,
/// DuckDB's rows under the translation with the flows flow-nfilter's compiled filter selects
/// (itself checked against the tree's record-by-record reference). Returns the pairs compared
/// and how many of them select some flow.
fn compare(
    sets: &BTreeMap<String, (PathBuf, FlowBlockBuf)>,
    exprs: &[Expression],
) -> (usize, usize) {
    let queries: BTreeMap<String, String> = exprs
        .iter()
        .enumerate()
        .map(|(i, e)| (key(i, e), expr_to_sql(e, Dialect::DuckDb).unwrap()))
        .collect();
    let mut want: BTreeMap<&str, BTreeMap<String, Vec<serde_json::Value>>> = BTreeMap::new();
    for (name, (_, flows)) in sets {
        let view = flows.view();
        assert!(view.len > 0, "{name}: no flows");
        let per = want.entry(name).or_default();
        for (k, e) in exprs.iter().enumerate() {
            let mut sel = Vec::new();
            e.compile().select(&view, &mut sel);
            assert_eq!(sel.len(), view.len);
            let mut rows = Vec::new();
            for (i, &passed) in sel.iter().enumerate() {
                let r = view.get(i);
                assert_eq!(passed, e.root.matches(&r), "{name}: `{}` row {i}", e.text);
                if passed {
                    rows.push(row(&r));
                }
            }
            rows.sort_by_key(|v| v.to_string());
            per.insert(key(k, e), rows);
        }
    }
    let dirs: BTreeMap<&String, &PathBuf> = sets.iter().map(|(n, (d, _))| (n, d)).collect();
    let req = serde_json::json!({ "dirs": dirs, "queries": queries });
    let mut child = Command::new("python3")
        .arg(repo("flow-export/tests/duckdb_expr_query.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the DuckDB check");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(req.to_string().as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "DuckDB check failed (is the duckdb Python package installed? pip install duckdb)"
    );
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (mut compared, mut nonempty) = (0, 0);
    for (name, per) in &want {
        for (expr, w) in per {
            let mut g = got[name][expr]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: `{expr}`: no result"))
                .clone();
            g.sort_by_key(|v| v.to_string());
            assert_eq!(&g, w, "{name}: `{expr}`: {}", queries[expr]);
            compared += 1;
            if !w.is_empty() {
                nonempty += 1;
            }
        }
    }
    eprintln!("{compared} (flows, expression) pairs compared, {nonempty} selecting some flow");
    (compared, nonempty)
}

fn parse_all<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<Expression> {
    texts
        .into_iter()
        .map(|l| Expression::parse(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

const FILES: &[&str] = &[
    "scenario-ipfix",
    "softflowd-ipfix-biflow-lz4",
    "softflowd-v5-sampled-lz4",
    "pmacct-v9-sampled-lzo",
    "pmacct-ipv6-ipfix",
];

#[test]
fn duckdb_selects_the_rows_flow_nfilter_e_selects_for_every_expression() {
    let text = std::fs::read_to_string(repo("testdata/nfdump/expressions.txt")).unwrap();
    let exprs = parse_all(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#')),
    );
    assert_eq!(exprs.len(), 99);
    let dir = tempfile::tempdir().unwrap();
    let mut sets = BTreeMap::new();
    let mut sampled = 0;
    for name in FILES {
        let input = repo(&format!("testdata/nfdump/{name}.nfcapd"));
        let out = dir.path().join(name);
        export(&input, &out);
        let flows = read_flows(&input);
        let view = flows.view();
        sampled += (0..view.len)
            .filter(|&i| view.get(i).sampling_interval > 1)
            .count();
        sets.insert(name.to_string(), (out, flows));
    }
    assert!(sampled > 0, "some flows are sampled");
    let (compared, nonempty) = compare(&sets, &exprs);
    assert_eq!(compared, FILES.len() * 99);
    assert!(nonempty >= 250, "only {nonempty} pairs select any flow");
}

/// `--byte-stream-split` files (ports, AS numbers, counters and end times so encoded) select
/// in DuckDB what flow-nfilter selects, for every expression: the values read back are those
/// of the flows.
#[test]
fn byte_stream_split_columns_read_back_in_duckdb() {
    let text = std::fs::read_to_string(repo("testdata/nfdump/expressions.txt")).unwrap();
    let exprs = parse_all(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#')),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut sets = BTreeMap::new();
    for name in FILES {
        let input = repo(&format!("testdata/nfdump/{name}.nfcapd"));
        let out = dir.path().join(name);
        export_with(&input, &out, &["--byte-stream-split"]);
        sets.insert(name.to_string(), (out, read_flows(&input)));
    }
    let (compared, nonempty) = compare(&sets, &exprs);
    assert_eq!(compared, FILES.len() * exprs.len());
    assert!(nonempty >= 250, "only {nonempty} pairs select any flow");
}

/// Flows at the edges of the arithmetic: nfdump's unsigned duration of an end before the
/// start, zero durations and packets (division by zero), sampling of 0, 1 and 2^32 - 1, and
/// counters whose unsampled values or rates pass 2^64 - 1 (where flowkit saturates).
fn edge_flows() -> Vec<FlowRecord> {
    let base = 1_600_000_000_000i64;
    let v6: IpAddr = "2001:db8::1".parse().unwrap();
    let v4: IpAddr = "10.1.2.3".parse().unwrap();
    let mut out = Vec::new();
    let timings = [
        (0, 0),
        (0, 1),
        (0, 999),
        (0, 1000),
        (0, 86_400_000),
        (5000, 0),
        (1, 0),
    ];
    let counts = [
        (0, 0),
        (0, 500),
        (1, 84),
        (10, 1000),
        (1 << 40, 1 << 50),
        (i64::MAX as u64, i64::MAX as u64),
    ];
    for (k, &(s, e)) in timings.iter().enumerate() {
        for (j, &(p, o)) in counts.iter().enumerate() {
            for (m, sampling) in [0, 1, 1000, u32::MAX].into_iter().enumerate() {
                out.push(FlowRecord {
                    start_ms: base + s,
                    end_ms: base + e,
                    src_addr: if (k + j + m) % 2 == 0 { v4 } else { v6 },
                    dst_addr: if (k + j) % 2 == 0 { v4 } else { v6 },
                    src_port: (k * 100 + j * 10 + m) as u16,
                    protocol: 6,
                    tcp_flags: (k * 7 + j * 3 + m) as u8 & 63,
                    packets: p,
                    octets: o,
                    rev_packets: p / 2,
                    rev_octets: o / 3,
                    sampling_interval: sampling,
                    ..FlowRecord::default()
                });
            }
        }
    }
    out
}

#[test]
fn duckdb_agrees_at_the_edges_of_the_arithmetic() {
    let flows = FlowBlockBuf::from_records(&edge_flows());
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("edges.fk");
    let mut w = flowkit_cli::open_output(Some(&archive), "test").unwrap();
    w.write_block(&flows.view(), None).unwrap();
    w.finish().unwrap();
    let out = dir.path().join("parquet");
    export(&archive, &out);
    let exprs = parse_all([
        "duration > 1000",
        "duration >= 18446744073709550000",
        "duration = 18446744073709551615",
        "duration < 1000",
        "duration = 0",
        "not duration > 0",
        "pps = 0",
        "pps > 0",
        "pps > 1000000",
        "pps >= 18446744073709551615",
        "pps > 9223372036854775807",
        "bps > 8000",
        "bps >= 18446744073709551615",
        "bpp = 0",
        "bpp = 84",
        "bpp > 10 and bpp < 200",
        "packets = 0",
        "packets > 1000",
        "packets > 9223372036854775807",
        "packets >= 18446744073709551615",
        "bytes >= 18446744073709551615",
        "out packets > 9223372036854775807",
        "out bytes > 100000 and ipv6",
        "ipv4 and not flags S",
        "ipv6 or flags SA",
        "src net 2001:db8::/32 and not dst ip 10.1.2.3",
        "src port > 300 and src port < 400",
    ]);
    let mut sets = BTreeMap::new();
    sets.insert("edges".to_string(), (out, flows));
    let (compared, nonempty) = compare(&sets, &exprs);
    assert_eq!(compared, exprs.len());
    assert!(
        nonempty >= exprs.len() - 2,
        "only {nonempty} select any flow"
    );
}

/// MAC, MPLS and application terms over the Parquet columns `src_mac`/`dst_mac` (the 48-bit
/// value), `mpls_label1..3` (the 24-bit entry; a label is a range of entries) and `app_id` (the
/// packed id; an engine is a range of them), on the hand-made IPFIX
/// capture of testdata/l2 and pmacct's capture with MACs.
#[test]
fn duckdb_selects_macs_and_mpls_labels_as_flow_nfilter_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut sets = BTreeMap::new();
    for (name, pcap) in [
        ("l2", "testdata/l2/l2-ipfix.pcap"),
        (
            "pmacct-mac",
            "testdata/exports/pmacct-ipfix-usec-mac.pcap.gz",
        ),
    ] {
        let archive = dir.path().join(format!("{name}.fk"));
        let mut w = flowkit_cli::open_output(Some(&archive), "test").unwrap();
        let mut imp = flowkit_core::collect::import::Importer::default();
        imp.import_file(&repo(pcap), &mut |m| panic!("import: {m}"), &mut |_, b| {
            w.write_block(b, None)
        })
        .unwrap();
        w.finish().unwrap();
        let out = dir.path().join(name);
        export(&archive, &out);
        sets.insert(name.to_string(), (out, read_flows(&archive)));
    }
    let exprs = parse_all([
        "src mac 02:00:5e:10:00:03",
        "mac 02:00:5e:10:01:03",
        "dst mac 02:00:5e:10:05:03",
        "src mac 66:77:88:99:aa:bb and dst mac 00:11:22:33:44:55",
        "not mac 00:11:22:33:44:55",
        "mpls label1 17",
        "mpls label1 > 20",
        "mpls label1 < 300 and mpls label2 > 1003",
        "mpls label3 200008",
        "mpls any 1004",
        "not mpls label1 0",
        "app engine 20",
        "app 3..53",
        "not app engine 0",
        "app 13..81 or app 20..3539..263",
    ]);
    let (compared, nonempty) = compare(&sets, &exprs);
    assert_eq!(compared, 2 * exprs.len());
    assert!(nonempty >= exprs.len(), "only {nonempty} select any flow");
}
