//! flow-stat's packets and octets on real sampled and biflow exports, against independent
//! views of the same packets: nfdump 1.7.1's CSV (`NAME.nfdump.csv.gz`: ipkt/ibyt forward,
//! opkt/obyt reverse, v5 counts already multiplied by the header's sampling interval) and
//! tshark's (`NAME.tshark.csv.gz`: the packets and octets each record carries, as exported).

use flowkit_core::archive::{ArchiveFileWriter, WriterOptions};
use flowkit_core::collect::import::Importer;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The 1-in-N interval the sampled exporters announce: softflowd v9 options data "Sampling
/// interval: 10", softflowd IPFIX "Sampling Packet Interval: 1" / "Space: 9", pmacct v9
/// "SamplerRandomInterval: 10", softflowd v5 header "SampleRate: 10" (tshark -V; also the
/// ratio of nfdump's v5 counts to tshark's, checked below).
const INTERVAL: u64 = 10;

/// Imports `testdata/exports/NAME.pcap.gz` into an archive under `dir`.
fn archive(dir: &Path, name: &str) -> PathBuf {
    let cap = flowkit_core::testing::testdata::path(&format!("exports/{name}.pcap.gz"));
    let out = dir.join(format!("{name}.fk"));
    let mut w = ArchiveFileWriter::create(&out, WriterOptions::default()).unwrap();
    let mut imp = Importer::default();
    imp.import_file(&cap, &mut |m| panic!("{name}: {m}"), &mut |_, b| {
        for r in b.records() {
            w.writer().push(&r)?;
        }
        Ok(())
    })
    .unwrap();
    w.finish().unwrap();
    out
}

/// Rows of a gzipped CSV under testdata/exports (no header).
fn rows(file: &str) -> Vec<Vec<String>> {
    flowkit_core::testing::testdata::read_text(&format!("exports/{file}"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|s| s.trim().to_string()).collect())
        .collect()
}

fn num(s: &str) -> u64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// nfdump's sums: (flows, ipkt, ibyt, opkt, obyt). Columns of the shipped reduced CSV.
fn nfdump_sums(name: &str) -> (u64, u64, u64, u64, u64) {
    let r = rows(&format!("{name}.nfdump.csv.gz"));
    let sum = |c: usize| r.iter().map(|x| num(&x[c])).sum::<u64>();
    (r.len() as u64, sum(10), sum(11), sum(12), sum(13))
}

/// tshark's sums of the exported (forward) packets and octets: (flows, packets, octets).
fn tshark_sums(name: &str) -> (u64, u64, u64) {
    let r = rows(&format!("{name}.tshark.csv.gz"));
    let sum = |c: usize| r.iter().map(|x| num(&x[c])).sum::<u64>();
    (r.len() as u64, sum(7), sum(8))
}

fn stat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-stat"))
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(stat(args))).expect("--json parses")
}

fn totals(v: &serde_json::Value) -> (u64, u64, u64) {
    (
        v["flows"].as_u64().unwrap(),
        v["packets"].as_u64().unwrap(),
        v["octets"].as_u64().unwrap(),
    )
}

/// Summary, top-N (every value) and bins all count the same packets and octets.
fn all_reports(a: &str, raw: bool) -> (u64, u64, u64) {
    let mut base = vec!["--json", a];
    if raw {
        base.push("--raw-counts");
    }
    let s = json(&base);
    let want = totals(&s);
    let mut top = base.clone();
    top.extend(["--top", "srcaddr", "--count", "100000"]);
    let t = json(&top);
    assert_eq!(totals(&t["counted"]), want, "top counted");
    let rows = t["top"].as_array().unwrap();
    let sum = |k: &str| rows.iter().map(|r| r[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(
        (sum("flows"), sum("packets"), sum("octets")),
        want,
        "top rows"
    );
    let mut bins = base.clone();
    bins.extend(["--bin", "1h"]);
    let b = json(&bins);
    let list = b["bins"].as_array().unwrap();
    let sum = |k: &str| list.iter().map(|r| r[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!((sum("flows"), sum("packets"), sum("octets")), want, "bins");
    for v in [&s, &t, &b] {
        assert_eq!(v["counts"]["raw"], raw);
    }
    want
}

#[test]
fn sampled_v5_totals_are_nfdumps_scaled_and_tsharks_raw() {
    let dir = tempfile::tempdir().unwrap();
    let name = "softflowd-v5-sampled";
    let a = archive(dir.path(), name);
    let a = a.to_str().unwrap();
    let (nf_flows, ipkt, ibyt, _, _) = nfdump_sums(name);
    let (ts_flows, pkts, octs) = tshark_sums(name);
    // nfdump 1.7.1 multiplies v5 counts by the header's interval: tshark's times INTERVAL.
    assert_eq!((ipkt, ibyt), (pkts * INTERVAL, octs * INTERVAL));
    assert_eq!(all_reports(a, false), (nf_flows, ipkt, ibyt));
    assert_eq!(all_reports(a, true), (ts_flows, pkts, octs));

    let text = ok(stat(&[a]));
    assert!(
        text.contains(&format!(
            "note: packets and octets scaled by sampling interval (1 in 10) for {nf_flows} of \
             {nf_flows} flows; --raw-counts for exported values"
        )),
        "{text}"
    );
    let raw = ok(stat(&["--raw-counts", a]));
    assert!(
        raw.contains("note: packets and octets as exported (--raw-counts)"),
        "{raw}"
    );
    let csv = ok(stat(&["--csv", "--top", "dstport", a]));
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",counts"), "{csv}");
    assert!(
        lines.all(|l| l.contains("scaled by sampling interval (1 in 10)")),
        "{csv}"
    );
    let j = json(&[a, "--json"]);
    assert_eq!(j["counts"]["scaled"], true);
    assert_eq!(j["counts"]["sampled_flows"], nf_flows);
    assert_eq!(j["counts"]["sampling_interval_max"], INTERVAL);
}

/// nfdump 1.7.1 does not scale these: it takes an options template as a sampler only when
/// it holds samplingInterval (34) without samplingAlgorithm (35), or a sampling space
/// interval (306, or 50 mapped to it) without a sampler id (302/48) or algorithm (304/49/35)
/// (netflow_v9.c and ipfix.c of 1.7.1). softflowd sends 34+35 (v9) and 304+305+306 (IPFIX),
/// pmacct 48+49+50, so nfdump 1.7.1 keeps their exported counts; 1.7.2 fixed it ("Refine
/// sampling to fix #410") and multiplies by (interval + space) / interval. So its CSV shows
/// the exported counts, and the scaled totals are those times the announced interval.
#[test]
fn sampled_v9_and_ipfix_totals_scale_the_exported_counts() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "softflowd-v9-sampled",
        "softflowd-ipfix-sampled",
        "pmacct-v9-sampled",
    ] {
        let a = archive(dir.path(), name);
        let a = a.to_str().unwrap();
        let (flows, ipkt, ibyt, opkt, obyt) = nfdump_sums(name);
        assert_eq!((opkt, obyt), (0, 0), "{name}: no biflows");
        let (ts_flows, pkts, octs) = tshark_sums(name);
        assert_eq!(
            (ts_flows, pkts, octs),
            (flows, ipkt, ibyt),
            "{name}: views agree"
        );
        assert_eq!(all_reports(a, true), (flows, ipkt, ibyt), "{name} raw");
        assert_eq!(
            all_reports(a, false),
            (flows, ipkt * INTERVAL, ibyt * INTERVAL),
            "{name} scaled"
        );
    }
}

#[test]
fn biflow_totals_add_the_reverse_direction_as_nfdump_does() {
    let dir = tempfile::tempdir().unwrap();
    let name = "softflowd-ipfix-biflow";
    let a = archive(dir.path(), name);
    let a = a.to_str().unwrap();
    let (flows, ipkt, ibyt, opkt, obyt) = nfdump_sums(name);
    assert!(opkt > 0 && obyt > 0);
    let want = (flows, ipkt + opkt, ibyt + obyt);
    assert_eq!(all_reports(a, false), want);
    assert_eq!(all_reports(a, true), want, "no sampling: raw is the same");
    let biflows = rows(&format!("{name}.nfdump.csv.gz"))
        .iter()
        .filter(|r| num(&r[12]) + num(&r[13]) > 0)
        .count() as u64;
    let j = json(&[a, "--json"]);
    assert_eq!(j["counts"]["biflows"], biflows);
    assert_eq!(j["counts"]["scaled"], false);
    let text = ok(stat(&[a]));
    assert!(
        text.contains(&format!(
            "note: packets and octets include the reverse direction of {biflows} biflows"
        )),
        "{text}"
    );

    // Top-N by source address: a record's reverse counts stay under its own source address
    // (nfdump -s srcip sums ipkt+opkt per sa). Every address's totals match.
    let mut by_src: HashMap<String, (u64, u64, u64)> = HashMap::new();
    for r in rows(&format!("{name}.nfdump.csv.gz")) {
        let e = by_src.entry(r[3].clone()).or_default();
        e.0 += 1;
        e.1 += num(&r[10]) + num(&r[12]);
        e.2 += num(&r[11]) + num(&r[13]);
    }
    let t = json(&[a, "--json", "--top", "srcaddr", "--count", "100000"]);
    let got: HashMap<String, (u64, u64, u64)> = t["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap().to_string(), totals(r)))
        .collect();
    assert_eq!(got, by_src);
}

#[test]
fn unsampled_one_way_flows_say_nothing_more() {
    let p = flowkit_core::testing::testdata::path("2010-11-09");
    let text = ok(stat(&[p.to_str().unwrap()]));
    assert!(!text.contains("note:"), "{text}");
    let j = json(&["--json", p.to_str().unwrap()]);
    assert_eq!(j["counts"]["sampled_flows"], 0);
    assert_eq!(j["counts"]["biflows"], 0);
    let csv = ok(stat(&["--csv", p.to_str().unwrap()]));
    assert!(
        csv.lines().skip(1).all(|l| l.ends_with(",exported")),
        "{csv}"
    );
}
