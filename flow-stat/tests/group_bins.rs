//! `flow-stat --top KEYS --bin DURATION`: every bin's groups against the records of the file
//! (read with flowkit's nfdump reader) grouped per bin here, in a HashMap.

use flowkit_core::archive::nfdump::NfdumpReader;
use flowkit_core::model::block::FlowBlockBuf;
use flowkit_core::model::record::FlowRecord;
use flowkit_core::testing::testdata;
use std::collections::{BTreeMap, HashMap};
use std::process::Command;

/// `(bin, srcaddr, dstport)` to flows, packets, octets (both directions, as exported).
type Groups = BTreeMap<(String, String, String), (u64, u64, u64)>;

/// The bin column as CSV writes times: ISO 8601 with the offset (`Z` with --utc).
fn bin_text(ms: i64) -> String {
    let t = jiff::Timestamp::from_millisecond(ms).unwrap();
    t.to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Every record of an nfcapd file, read with flowkit's reader.
fn read(file: &std::path::Path) -> Vec<FlowRecord> {
    let data = std::fs::read(file).unwrap();
    let mut r = NfdumpReader::new("t.nfcapd", &[], data.as_slice()).unwrap();
    let (mut buf, mut records) = (FlowBlockBuf::default(), Vec::new());
    while r.next_block(&mut buf, 4096).unwrap() > 0 {
        records.extend(buf.view().records());
    }
    records
}

#[test]
fn groups_per_bin_equal_the_records_grouped_per_bin() {
    let width = 300_000;
    for name in [
        "scenario-ipfix",
        "pmacct-ipv6-ipfix",
        "softflowd-ipfix-biflow-lz4",
    ] {
        let file = testdata::path(&format!("nfdump/{name}.nfcapd"));
        let records = read(&file);
        assert!(!records.is_empty(), "{name}");
        let mut want: Groups = BTreeMap::new();
        for r in &records {
            let bin = r.start_ms.div_euclid(width) * width;
            let key = (
                bin_text(bin),
                r.src_addr.to_string(),
                r.dst_port.to_string(),
            );
            let g = want.entry(key).or_default();
            g.0 += 1;
            g.1 += r.packets + r.rev_packets;
            g.2 += r.octets + r.rev_octets;
        }

        let o = Command::new(env!("CARGO_BIN_EXE_flow-stat"))
            .args(["--top", "srcaddr,dstport", "--bin", "5m", "--count", "0"])
            .args(["--csv", "--utc", "--raw-counts"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut r = csv::Reader::from_reader(o.stdout.as_slice());
        let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(head[..4], ["bin", "rank", "srcaddr", "dstport"]);
        let mut got: Groups = BTreeMap::new();
        // Per bin: ranks 1, 2, ... and flows never rising.
        let mut last: HashMap<String, (u64, u64)> = HashMap::new();
        for row in r.records() {
            let row = row.unwrap();
            let n = |i: usize| row[i].parse::<u64>().unwrap();
            let (rank, flows) = (n(1), n(4));
            let prev = last.insert(row[0].to_string(), (rank, flows));
            match prev {
                None => assert_eq!(rank, 1, "{row:?}"),
                Some((r, f)) => assert!(rank == r + 1 && flows <= f, "{row:?}"),
            }
            let key = (row[0].to_string(), row[2].to_string(), row[3].to_string());
            assert!(got.insert(key, (flows, n(5), n(6))).is_none(), "{row:?}");
        }
        assert_eq!(got, want, "{name}");
    }
}

fn run(args: &[&str], file: &std::path::Path) -> Vec<u8> {
    let o = Command::new(env!("CARGO_BIN_EXE_flow-stat"))
        .args(args)
        .args(["--utc", "--raw-counts"])
        .arg(file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

/// `dstport` per 5-minute bin (bin start ms) to flows, from the records.
fn flows_per_bin(records: &[FlowRecord]) -> BTreeMap<i64, HashMap<String, u64>> {
    let mut m: BTreeMap<i64, HashMap<String, u64>> = BTreeMap::new();
    for r in records {
        let bin = r.start_ms.div_euclid(300_000) * 300_000;
        *m.entry(bin)
            .or_default()
            .entry(r.dst_port.to_string())
            .or_default() += 1;
    }
    m
}

#[test]
fn json_bins_and_the_plot_equal_the_records_grouped_per_bin() {
    let file = testdata::path("nfdump/scenario-ipfix.nfcapd");
    let want = flows_per_bin(&read(&file));
    assert!(want.len() > 2);

    // JSON: every group of every bin.
    let j: serde_json::Value = serde_json::from_slice(&run(
        &["--top", "dstport", "--bin", "5m", "--count", "0", "--json"],
        &file,
    ))
    .unwrap();
    assert_eq!(j["bin_ms"], 300_000);
    assert_eq!(j["keys"], serde_json::json!(["dstport"]));
    let mut got: BTreeMap<i64, HashMap<String, u64>> = BTreeMap::new();
    for bin in j["bins"].as_array().unwrap() {
        let t: jiff::Timestamp = bin["bin"].as_str().unwrap().parse().unwrap();
        let groups = got.entry(t.as_millisecond()).or_default();
        for row in bin["top"].as_array().unwrap() {
            let port = row["key"]["dstport"].as_str().unwrap().to_string();
            groups.insert(port, row["flows"].as_u64().unwrap());
        }
        assert_eq!(bin["distinct"], groups.len());
    }
    assert_eq!(got, want);

    // The plot of each bin's top 1: one line per port that led some bin, its flows in every
    // bin (0 where it had none).
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("top.svg");
    let svg_arg = svg.to_str().unwrap();
    run(
        &[
            "--top", "dstport", "--bin", "5m", "--count", "1", "--plot", svg_arg,
        ],
        &file,
    );
    let doc = std::fs::read_to_string(&svg).unwrap();
    let attr = |line: &str, name: &str| -> String {
        let at = line.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        line[at..at + line[at..].find('"').unwrap()].to_string()
    };
    let lines: Vec<&str> = doc.lines().filter(|l| l.starts_with("<polyline")).collect();
    let leaders: std::collections::BTreeSet<String> = want
        .values()
        .filter_map(|g| {
            let max = g.values().max()?;
            let top: Vec<&String> = g.iter().filter(|e| e.1 == max).map(|e| e.0).collect();
            (top.len() == 1).then(|| top[0].clone())
        })
        .collect();
    let labels: Vec<String> = lines.iter().map(|l| attr(l, "data-label")).collect();
    assert!(!lines.is_empty() && lines.len() <= 10, "{doc}");
    for port in &leaders {
        assert!(
            labels.contains(port),
            "{port} led a bin but has no line: {labels:?}"
        );
    }
    let first = *want.keys().next().unwrap();
    let last = *want.keys().last().unwrap();
    for line in &lines {
        let port = attr(line, "data-label");
        assert_eq!(attr(line, "data-start"), first.to_string());
        assert_eq!(attr(line, "data-bin-ms"), "300000");
        let values: Vec<u64> = (attr(line, "data-values").split(','))
            .map(|v| v.parse().unwrap())
            .collect();
        let expect: Vec<u64> = (first..=last)
            .step_by(300_000)
            .map(|t| {
                want.get(&t)
                    .and_then(|g| g.get(&port))
                    .copied()
                    .unwrap_or(0)
            })
            .collect();
        assert_eq!(values, expect, "{port}");
    }
}
