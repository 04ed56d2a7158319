//! DuckDB over flow-export's Parquet selects exactly the flows flow-nfilter does, for every
//! definition of the shipped filter files translated by `flow-nfilter --sql duckdb`, with the
//! same flows, packets and octets in every partition. Needs Python's duckdb package
//! (`pip install duckdb`; CI's .ci/run installs it): without it the test fails, loudly.

use flowkit_core::collect::import::Importer;
use flowkit_core::filter::sql::{to_sql, Dialect, SqlError};
use flowkit_core::filter::{CompileOptions, FilterFile, Variables};
use flowkit_core::pipeline::input::Input;
use flowkit_core::pipeline::scan::{ScanOptions, Scanner};
use flowkit_core::{FlowBlockBuf, FlowRecord};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// The repo's IPv6 IPFIX capture (pmacct) imported into an archive file.
fn ipv6_archive(dir: &Path) -> PathBuf {
    let out = dir.join("ipv6.fk");
    let mut w = flowkit_cli::open_output(Some(&out), "test").unwrap();
    let mut imp = Importer::default();
    imp.import_file(
        &repo("testdata/captures/pmacct-ipv6-ipfix.nsec.pcap"),
        &mut |m| panic!("import: {m}"),
        &mut |_, b| w.write_block(b, None),
    )
    .unwrap();
    w.finish().unwrap();
    out
}

fn read_flows(inputs: &[PathBuf]) -> FlowBlockBuf {
    let mut all = FlowBlockBuf::default();
    let mut scanner = Scanner::new(ScanOptions::default(), |m| panic!("scan: {m}"));
    let inputs: Vec<Input> = inputs.iter().cloned().map(Input::File).collect();
    scanner
        .run(&inputs, &mut |blocks| {
            for b in blocks {
                all.extend_all(b);
            }
            Ok(())
        })
        .unwrap();
    all
}

type Totals = BTreeMap<(String, String), (u64, u64, u64)>;

fn partition(r: &FlowRecord) -> (String, String) {
    let z = jiff::Timestamp::from_millisecond(r.start_ms)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC);
    (z.date().to_string(), format!("{:02}", z.hour()))
}

#[test]
fn duckdb_counts_match_flow_nfilter_for_every_shipped_definition() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = vec![
        repo("testdata/2010-11-09/ft-v05.2010-11-09.000000+0000"),
        ipv6_archive(dir.path()),
    ];
    let out = dir.path().join("parquet");
    let st = Command::new(env!("CARGO_BIN_EXE_flow-export"))
        .arg("--parquet")
        .arg("-o")
        .arg(&out)
        .args(&inputs)
        .env("TZ", "America/New_York") // partitions are by UTC whatever TZ says
        .status()
        .unwrap();
    assert!(st.success());
    let flows = read_flows(&inputs);
    let view = flows.view();
    let v6 = (0..view.len).filter(|&i| view.src_addr.is_v6(i)).count();
    assert_eq!(
        view.len,
        3498 + 20,
        "the sample day and pmacct's 20 IPFIX flows"
    );
    assert_eq!(v6, 20);

    let opts = CompileOptions {
        tz: jiff::tz::TimeZone::UTC,
    };
    let mut vars = Variables::new();
    for b in ["ADDR=189.22.36.165", "PORT=53", "PROT=udp", "H=8.8.8.8"] {
        vars.bind(b).unwrap();
    }
    let mut queries = BTreeMap::new();
    let mut want: BTreeMap<String, Totals> = BTreeMap::new();
    let mut refused = Vec::new();
    for cfg in [
        "filters/filter.cfg",
        "testdata/filters/flow-tools-filter.cfg",
        "testdata/filters/notes-examples.cfg",
        "testdata/filters/sql-coverage.cfg",
    ] {
        let text = std::fs::read_to_string(repo(cfg)).unwrap();
        let file = FilterFile::parse(&text, cfg, &vars).unwrap();
        for d in &file.definitions {
            let key = format!("{cfg}:{}", d.name);
            let Ok(filter) = file.compile(&d.name, &opts) else {
                refused.push(format!("{key} (not usable)"));
                continue;
            };
            match to_sql(&file, &d.name, &opts, Dialect::DuckDb) {
                Ok(sql) => {
                    queries.insert(key.clone(), sql);
                }
                Err(SqlError::Untranslatable { primitive, .. }) => {
                    refused.push(format!("{key} (primitive {primitive})"));
                    continue;
                }
                Err(e) => panic!("{key}: {e}"),
            }
            let mut sel = Vec::new();
            filter.select(&view, &mut sel);
            let t = want.entry(key).or_default();
            for i in (0..view.len).filter(|&i| sel[i]) {
                let r = view.get(i);
                let e = t.entry(partition(&r)).or_default();
                *e = (e.0 + 1, e.1 + r.packets, e.2 + r.octets);
            }
        }
    }
    eprintln!("translated {}, not translated: {refused:?}", queries.len());
    assert!(
        queries.len() >= 60,
        "{} definitions translated",
        queries.len()
    );

    let req = serde_json::json!({ "dir": out, "queries": queries });
    let mut child = Command::new("python3")
        .arg(repo("flow-export/tests/duckdb_query.py"))
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
    let mut nonzero = 0;
    for (key, w) in &want {
        let rows = got[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key}: no result"));
        let g: Totals = rows
            .iter()
            .map(|r| {
                let n = |k: usize| r[k].as_u64().unwrap();
                let s = |k: usize| r[k].as_str().unwrap().to_string();
                ((s(0), s(1)), (n(2), n(3), n(4)))
            })
            .collect();
        assert_eq!(&g, w, "{key}: {}", queries[key]);
        if !w.is_empty() {
            nonzero += 1;
        }
    }
    eprintln!("{nonzero} definitions select some flow");
    assert!(nonzero >= 40, "only {nonzero} definitions select any flow");
    // Every flow's addresses (text and 16 bytes) and times, against the records.
    let hex = |a: std::net::IpAddr| -> String {
        let b = match a {
            std::net::IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
            std::net::IpAddr::V6(v) => v.octets(),
        };
        b.iter().map(|x| format!("{x:02X}")).collect()
    };
    let mut want_rows: Vec<serde_json::Value> = (0..view.len)
        .map(|i| {
            let r = view.get(i);
            serde_json::json!([
                r.start_ms,
                r.end_ms,
                r.src_port,
                r.dst_port,
                r.protocol,
                r.src_addr.to_string(),
                r.dst_addr.to_string(),
                r.next_hop.to_string(),
                r.exporter.to_string(),
                hex(r.src_addr),
                hex(r.dst_addr),
                hex(r.next_hop),
                hex(r.exporter),
                r.start_ms,
                r.end_ms
            ])
        })
        .collect();
    want_rows.sort_by_key(|v| v.to_string());
    let mut got_rows = got["__rows__"].as_array().unwrap().clone();
    got_rows.sort_by_key(|v| v.to_string());
    assert_eq!(got_rows.len(), want_rows.len());
    for (g, w) in got_rows.iter().zip(&want_rows) {
        assert_eq!(g, w);
    }
    // The schema engines see: UTC timestamps, 16-byte addresses, signed integers.
    let schema: BTreeMap<String, String> = got["__schema__"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_str().unwrap().into(), r[1].as_str().unwrap().into()))
        .collect();
    assert_eq!(schema["start"], "TIMESTAMP WITH TIME ZONE");
    assert_eq!(schema["src_addr"], "BLOB");
    assert_eq!(schema["octets"], "BIGINT");
    assert_eq!(schema["src_addr_text"], "VARCHAR");
}
