//! flow-stat as a user runs it on the sample archive; numbers checked against sums computed
//! here from the same flows read by the library's scanner.

use flowkit_core::FlowRecord;
use std::collections::HashMap;
use std::process::{Command, Output};

fn flows() -> Vec<FlowRecord> {
    let inputs = flowkit_core::pipeline::input::expand_inputs(&[path()], false).unwrap();
    let mut out = Vec::new();
    let mut sc = flowkit_core::pipeline::scan::Scanner::new(Default::default(), |m| panic!("{m}"));
    sc.run(&inputs, &mut |blocks| {
        for b in blocks {
            out.extend(b.records());
        }
        Ok(())
    })
    .unwrap();
    out
}

fn path() -> String {
    flowkit_core::testing::testdata::path("2010-11-09")
        .display()
        .to_string()
}

fn stat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-stat"))
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let o = stat(args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("--json parses")
}

#[test]
fn summary_top_and_bins_add_up() {
    let recs = flows();
    let p = path();
    let s = json(&["--json", &p]);
    assert_eq!(s["flows"], recs.len());
    assert_eq!(s["packets"], recs.iter().map(|r| r.packets).sum::<u64>());
    assert_eq!(s["octets"], recs.iter().map(|r| r.octets).sum::<u64>());
    assert_eq!(
        s["first_start_ms"],
        recs.iter().map(|r| r.start_ms).min().unwrap()
    );
    let tcp = recs.iter().filter(|r| r.protocol == 6).count();
    let p0 = &s["protocols"][0];
    assert_eq!(
        (p0["name"].as_str(), p0["flows"].as_u64()),
        (Some("tcp"), Some(tcp as u64))
    );

    let t = json(&[
        "--json", "--top", "dstport", "--by", "octets", "--count", "3", &p,
    ]);
    let mut per: HashMap<u16, u64> = HashMap::new();
    for r in recs.iter().filter(|r| matches!(r.protocol, 6 | 17)) {
        *per.entry(r.dst_port).or_default() += r.octets;
    }
    let mut best: Vec<(u16, u64)> = per.into_iter().collect();
    best.sort_by_key(|b| std::cmp::Reverse(b.1));
    let got: Vec<(u16, u64)> = t["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["key"].as_str().unwrap().parse().unwrap(),
                x["octets"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, best[..3]);

    let b = json(&["--json", "--bin", "1h", &p]);
    let bins = b["bins"].as_array().unwrap();
    assert_eq!(bins.len(), 24);
    let sum: u64 = bins.iter().map(|x| x["flows"].as_u64().unwrap()).sum();
    assert_eq!(sum, recs.len() as u64);
    let h18 = recs
        .iter()
        .filter(|r| (r.start_ms / 3_600_000) % 24 == 18)
        .count() as u64;
    assert_eq!(bins[18]["flows"], h18);
}

#[test]
fn text_csv_and_plots() {
    let p = path();
    let o = stat(&["--top", "srcaddr", "--count", "2", &p]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.lines().nth(2).unwrap().contains("189.22.36.165"),
        "{text}"
    );
    let o = stat(&["--csv", "--bin", "6h", &p]);
    let csv = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        csv.lines().next(),
        Some("start,start_ms,flows,packets,octets,counts")
    );
    assert_eq!(csv.lines().count(), 5);

    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("bins.svg");
    let o = stat(&["--bin", "5m", "--plot", svg.to_str().unwrap(), &p]);
    assert!(o.status.success());
    let doc = std::fs::read_to_string(&svg).unwrap();
    let xml = roxmltree::Document::parse(&doc).unwrap();
    let series = xml
        .descendants()
        .find(|n| n.attribute("class") == Some("series"))
        .unwrap();
    let values: Vec<u64> = series
        .attribute("data-values")
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(values.iter().sum::<u64>(), flows().len() as u64);
    // The spike: the vertical scan's 200 probes and answers at 18:20.
    let peak = xml
        .descendants()
        .find(|n| n.attribute("class") == Some("peak"))
        .unwrap();
    assert_eq!(
        peak.attribute("data-value").unwrap(),
        values.iter().max().unwrap().to_string()
    );

    let bars = dir.path().join("top.svg");
    let o = stat(&[
        "--top",
        "pair",
        "--by",
        "octets",
        "--count",
        "4",
        "--plot",
        bars.to_str().unwrap(),
        &p,
    ]);
    assert!(o.status.success());
    let doc = std::fs::read_to_string(&bars).unwrap();
    let xml = roxmltree::Document::parse(&doc).unwrap();
    let keys: Vec<&str> = xml
        .descendants()
        .filter(|n| n.attribute("class") == Some("bar"))
        .map(|n| n.attribute("data-key").unwrap())
        .collect();
    assert_eq!(keys.len(), 4);
    assert_eq!(keys[0], "189.22.36.165 -> 79.115.103.225");
}

#[test]
fn bad_arguments_exit_2() {
    let p = path();
    for args in [
        vec!["--top", "color", p.as_str()],
        vec!["--bin", "soon", p.as_str()],
        vec!["--plot", "x.svg", p.as_str()],
        vec!["--by", "weight", "--top", "pair", p.as_str()],
        // Top groups per bin: at most four keys besides the bin.
        vec![
            "--top",
            "pair,proto,srcport,dstport",
            "--bin",
            "5m",
            p.as_str(),
        ],
    ] {
        let o = stat(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(!o.stderr.is_empty());
    }
}

/// The summary's CSV is one row per protocol; the `total` row comes only with `--total`, and
/// equals the flows read.
#[test]
fn summary_csv_has_a_total_row_only_when_asked() {
    let all = flows();
    let p = path();
    let rows = |args: &[&str]| -> Vec<Vec<String>> {
        let o = stat(args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut r = csv::Reader::from_reader(o.stdout.as_slice());
        r.records()
            .map(|x| x.unwrap().iter().map(String::from).collect())
            .collect()
    };
    let plain = rows(&["--csv", &p]);
    assert!(plain.iter().all(|r| r[1] != "total"), "{plain:?}");
    let sum: u64 = plain.iter().map(|r| r[2].parse::<u64>().unwrap()).sum();
    assert_eq!(sum, all.len() as u64);
    let with = rows(&["--csv", "--total", &p]);
    assert_eq!(with.len(), plain.len() + 1);
    let last = with.last().unwrap();
    assert_eq!(last[1], "total");
    assert_eq!(last[2], all.len().to_string());
    let octets: u64 = all.iter().map(|f| f.octets + f.rev_octets).sum();
    assert_eq!(last[4], octets.to_string());
    // --total is for CSV.
    assert_eq!(stat(&["--total", &p]).status.code(), Some(2));
}

/// `--top pair` in CSV and JSON: one address per column (`srcaddr`, `dstaddr`), the same rows
/// and counts as the text table's `A -> B`, and the counts those of the flows themselves.
#[test]
fn pair_is_two_columns_in_csv_and_json() {
    let p = path();
    let args = ["--top", "pair", "--count", "20", p.as_str()];
    let text = stat(&args);
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    let from_text: Vec<(String, String, u64, u64, u64)> = text
        .lines()
        .skip(2)
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(w[2], "->", "{l}");
            let n = |i: usize| w[i].parse::<u64>().unwrap();
            (w[1].to_string(), w[3].to_string(), n(4), n(5), n(6))
        })
        .collect();
    assert_eq!(from_text.len(), 20);

    let csv_out = stat(&[&["--csv"][..], &args].concat());
    assert!(csv_out.status.success());
    let mut r = csv::Reader::from_reader(csv_out.stdout.as_slice());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        head[..6],
        ["rank", "srcaddr", "dstaddr", "flows", "packets", "octets"]
    );
    let from_csv: Vec<(String, String, u64, u64, u64)> = r
        .records()
        .map(|row| {
            let row = row.unwrap();
            let n = |i: usize| row[i].parse::<u64>().unwrap();
            (row[1].to_string(), row[2].to_string(), n(3), n(4), n(5))
        })
        .collect();
    assert_eq!(from_csv, from_text);

    let doc = json(&[&["--json"][..], &args].concat());
    let from_json: Vec<(String, String, u64, u64, u64)> = doc["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let n = |k: &str| t[k].as_u64().unwrap();
            let a = |k: &str| t["key"][k].as_str().unwrap().to_string();
            (
                a("srcaddr"),
                a("dstaddr"),
                n("flows"),
                n("packets"),
                n("octets"),
            )
        })
        .collect();
    assert_eq!(from_json, from_text);

    // Each pair's counts are its flows' sums.
    let mut sums: HashMap<(String, String), (u64, u64, u64)> = HashMap::new();
    for f in flows() {
        let s = sums
            .entry((f.src_addr.to_string(), f.dst_addr.to_string()))
            .or_default();
        s.0 += 1;
        s.1 += f.packets;
        s.2 += f.octets;
    }
    for (a, b, fl, pk, oc) in from_text {
        assert_eq!(sums[&(a.clone(), b.clone())], (fl, pk, oc), "{a} -> {b}");
    }
}
