//! DuckDB over flow-export's Parquet selects exactly the flows `flow-nfilter -e EXPR` does, for
//! every expression of testdata/nfdump/expressions.txt translated by `--sql duckdb`
//! (filter::expr::sql), on nfdump captures with IPv6, biflows and sampled flows: the same rows,
//! compared column by column. Needs Python's duckdb package (`pip install duckdb`; CI's .ci/run
//! installs it): without it the test fails, loudly.

use flowkit_core::filter::expr::sql::expr_to_sql;
use flowkit_core::filter::expr::Expression;
use flowkit_core::filter::sql::Dialect;
use flowkit_core::pipeline::input::Input;
use flowkit_core::pipeline::scan::{ScanOptions, Scanner};
use flowkit_core::FlowBlockBuf;
use std::collections::BTreeMap;
use std::io::Write;
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

/// The key of expression `i` (expressions.txt has some text twice, spaced differently).
fn key(i: usize, e: &Expression) -> String {
    format!("{i:02} {}", e.text)
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
    let exprs: Vec<Expression> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| Expression::parse(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(exprs.len(), 99);
    let queries: BTreeMap<String, String> = exprs
        .iter()
        .enumerate()
        .map(|(i, e)| (key(i, e), expr_to_sql(e, Dialect::DuckDb)))
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let mut dirs = BTreeMap::new();
    let mut want: BTreeMap<&str, BTreeMap<String, Vec<serde_json::Value>>> = BTreeMap::new();
    let mut sampled = 0;
    for name in FILES {
        let input = repo(&format!("testdata/nfdump/{name}.nfcapd"));
        let out = dir.path().join(name);
        let st = Command::new(env!("CARGO_BIN_EXE_flow-export"))
            .arg("--parquet")
            .arg("-o")
            .arg(&out)
            .arg(&input)
            .status()
            .unwrap();
        assert!(st.success(), "{name}: flow-export --parquet");
        dirs.insert(name.to_string(), out);
        let flows = read_flows(&input);
        let view = flows.view();
        assert!(view.len > 0, "{name}: no flows");
        sampled += (0..view.len)
            .filter(|&i| view.get(i).sampling_interval > 1)
            .count();
        let per = want.entry(name).or_default();
        for (k, e) in exprs.iter().enumerate() {
            // What flow-nfilter -e selects (the compiled filter), checked against the tree's
            // record-by-record reference.
            let mut sel = Vec::new();
            e.compile().select(&view, &mut sel);
            assert_eq!(sel.len(), view.len);
            let mut rows = Vec::new();
            for (i, &passed) in sel.iter().enumerate() {
                let r = view.get(i);
                assert_eq!(passed, e.root.matches(&r), "{name}: `{}` row {i}", e.text);
                if passed {
                    rows.push(serde_json::json!([
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
                    ]));
                }
            }
            rows.sort_by_key(|v| v.to_string());
            per.insert(key(k, e), rows);
        }
    }
    assert!(sampled > 0, "some flows are sampled");

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
    eprintln!("{compared} (file, expression) pairs compared, {nonempty} selecting some flow");
    assert_eq!(compared, FILES.len() * 99);
    assert!(nonempty >= 250, "only {nonempty} pairs select any flow");
}
