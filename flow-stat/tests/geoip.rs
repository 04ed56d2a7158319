//! `flow-stat --geoip FILE --top src_country,dst_asn`: groups folded by looked-up values, against
//! the flows grouped here by what the JSON behind MaxMind's test databases says.

use flowkit_core::model::record::FlowRecord;
use flowkit_core::testing::{geoip, testdata};
use std::collections::BTreeMap;
use std::process::{Command, Output};

fn stat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-stat"))
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

fn db(name: &str) -> String {
    testdata::path(&format!("geoip/{name}.mmdb"))
        .display()
        .to_string()
}

#[test]
fn groups_by_country_and_as_equal_the_source_json() {
    let countries = geoip::source("GeoIP2-Country-Test");
    let asns = geoip::source("GeoLite2-ASN-Test");
    let (a, b) = (geoip::probes(&countries), geoip::probes(&asns));
    // Each address sends several flows, so groups fold many addresses and flows.
    let flows: Vec<FlowRecord> = (0..3 * a.len())
        .map(|i| FlowRecord {
            start_ms: 1_700_000_000_000 + i as i64 * 1000,
            end_ms: 1_700_000_000_500 + i as i64 * 1000,
            src_addr: a[i % a.len()],
            dst_addr: b[(i * 5) % b.len()],
            protocol: 6,
            packets: 1 + (i % 7) as u64,
            octets: 100 + (i % 13) as u64 * 10,
            ..FlowRecord::default()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("geo.fk");
    testdata::write_archive(&file, &flows);

    let mut want: BTreeMap<(String, String), (u64, u64, u64)> = BTreeMap::new();
    for f in &flows {
        let c = geoip::country(&countries, f.src_addr).unwrap_or("-".into());
        let n = geoip::asn(&asns, f.dst_addr).map_or("-".into(), |x| x.0.to_string());
        let g = want.entry((c, n)).or_default();
        g.0 += 1;
        g.1 += f.packets;
        g.2 += f.octets;
    }
    assert!(want.len() > 20, "{}", want.len());

    let (cdb, adb) = (db("GeoIP2-Country-Test"), db("GeoLite2-ASN-Test"));
    let o = stat(&[
        "--geoip",
        &cdb,
        "--geoip",
        &adb,
        "--top",
        "src_country,dst_asn",
        "--count",
        "0",
        "--csv",
        "--raw-counts",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut r = csv::Reader::from_reader(o.stdout.as_slice());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        head[..6],
        [
            "rank",
            "src_country",
            "dst_asn",
            "flows",
            "packets",
            "octets"
        ]
    );
    let mut got = BTreeMap::new();
    for row in r.records() {
        let row = row.unwrap();
        let n = |i: usize| row[i].parse::<u64>().unwrap();
        got.insert((row[1].to_string(), row[2].to_string()), (n(3), n(4), n(5)));
    }
    assert_eq!(got, want);

    // Thresholds apply to the folded groups.
    let o = stat(&[
        "--geoip",
        &cdb,
        "--top",
        "src_country",
        "--min",
        "flows=30",
        "--count",
        "0",
        "--json",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut per_country: BTreeMap<String, u64> = BTreeMap::new();
    for ((c, _), v) in &want {
        *per_country.entry(c.clone()).or_default() += v.0;
    }
    let expect: BTreeMap<String, u64> = per_country.into_iter().filter(|x| x.1 >= 30).collect();
    let listed: BTreeMap<String, u64> = (j["top"].as_array().unwrap().iter())
        .map(|r| {
            (
                r["key"]["src_country"].as_str().unwrap().to_string(),
                r["flows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, expect);
}

#[test]
fn looked_up_keys_need_their_database_and_no_bins() {
    let sample = testdata::path("2010-11-09").display().to_string();
    let (cdb, adb) = (db("GeoIP2-Country-Test"), db("GeoLite2-ASN-Test"));
    for (args, says) in [
        (
            vec!["--top", "src_country", sample.as_str()],
            "need --geoip",
        ),
        (
            vec!["--geoip", &adb, "--top", "dst_country", &sample],
            "dst_country needs --geoip with a Country or City database",
        ),
        (
            vec![
                "--geoip",
                &cdb,
                "--top",
                "src_country",
                "--bin",
                "1h",
                &sample,
            ],
            "no --bin",
        ),
    ] {
        let o = stat(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
