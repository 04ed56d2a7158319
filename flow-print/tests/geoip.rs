//! `flow-print --geoip`: the country and AS columns of flows whose addresses are the networks
//! of MaxMind's test databases, against the JSON those databases were built from.

use flowkit_core::model::record::FlowRecord;
use flowkit_core::testing::{geoip, testdata};
use std::net::IpAddr;
use std::process::{Command, Output};

fn print(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-print"))
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
fn country_and_as_columns_equal_the_source_json() {
    let countries = geoip::source("GeoIP2-Country-Test");
    let asns = geoip::source("GeoLite2-ASN-Test");
    let (a, b) = (geoip::probes(&countries), geoip::probes(&asns));
    let n = a.len().max(b.len());
    let flows: Vec<FlowRecord> = (0..n)
        .map(|i| FlowRecord {
            start_ms: 1_700_000_000_000 + i as i64,
            end_ms: 1_700_000_000_100 + i as i64,
            src_addr: a[i % a.len()],
            dst_addr: b[i % b.len()],
            protocol: 6,
            packets: 1,
            octets: 40,
            ..FlowRecord::default()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("geo.fk");
    testdata::write_archive(&file, &flows);
    let (cdb, adb) = (db("GeoIP2-Country-Test"), db("GeoLite2-ASN-Test"));
    let o = print(&[
        "-f",
        "csv",
        "--geoip",
        &cdb,
        "--geoip",
        &adb,
        "--fields",
        "sa,da,src_country,dst_country,src_asn,dst_asn,src_as_org,dst_as_org",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut r = csv::Reader::from_reader(o.stdout.as_slice());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        head,
        [
            "src_addr",
            "dst_addr",
            "src_country",
            "dst_country",
            "src_asn",
            "dst_asn",
            "src_as_org",
            "dst_as_org"
        ]
    );
    let (mut rows, mut with_org_comma) = (0, 0);
    for row in r.records() {
        let row = row.unwrap();
        let (s, d): (IpAddr, IpAddr) = (row[0].parse().unwrap(), row[1].parse().unwrap());
        let cell = |v: Option<String>| v.unwrap_or_default();
        assert_eq!(row[2], cell(geoip::country(&countries, s)), "{row:?}");
        assert_eq!(row[3], cell(geoip::country(&countries, d)), "{row:?}");
        let (sa, da) = (geoip::asn(&asns, s), geoip::asn(&asns, d));
        assert_eq!(
            row[4],
            cell(sa.as_ref().map(|a| a.0.to_string())),
            "{row:?}"
        );
        assert_eq!(
            row[5],
            cell(da.as_ref().map(|a| a.0.to_string())),
            "{row:?}"
        );
        assert_eq!(row[6], cell(sa.map(|a| a.1)), "{row:?}");
        assert_eq!(row[7], cell(da.clone().map(|a| a.1)), "{row:?}");
        with_org_comma += usize::from(row[7].contains(','));
        rows += 1;
    }
    assert_eq!(rows, n);
    assert!(
        with_org_comma > 0,
        "an organisation with a comma is read back whole"
    );

    // JSON without --fields: every field, then the looked-up ones; null where no answer.
    let o = print(&["-f", "json", "--geoip", &cdb, file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    for (line, f) in text.lines().zip(&flows) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["src_addr"], f.src_addr.to_string());
        let want = geoip::country(&countries, f.dst_addr);
        assert_eq!(v["dst_country"], serde_json::json!(want), "{line}");
        assert!(v.get("src_asn").is_none(), "no ASN database given: {line}");
    }
}

#[test]
fn geo_columns_without_their_database_are_usage_errors() {
    let sample = testdata::path("2010-11-09").display().to_string();
    let adb = db("GeoLite2-ASN-Test");
    for (args, says) in [
        (
            vec!["-f", "csv", "--fields", "sa,src_country", sample.as_str()],
            "src_country needs --geoip",
        ),
        (
            vec![
                "-f",
                "csv",
                "--geoip",
                &adb,
                "--fields",
                "dst_country",
                &sample,
            ],
            "dst_country needs --geoip with a Country or City database",
        ),
        (
            vec!["-f", "5", "--geoip", &adb, &sample],
            "--geoip adds columns",
        ),
        (
            vec!["--geoip", "/nonexistent.mmdb", "-f", "csv", &sample],
            "/nonexistent.mmdb",
        ),
    ] {
        let o = print(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
