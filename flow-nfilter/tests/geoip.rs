//! `flow-nfilter --geoip FILE -e '[src|dst] geo CC'`: the flows selected are those whose address
//! the JSON behind MaxMind's test database places in the country, and no others.

use flowkit_core::model::record::FlowRecord;
use flowkit_core::testing::{geoip, testdata};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::process::{Command, Output};

fn nfilter(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-nfilter"))
        .args(args)
        .env_remove("FLOWKIT_FILTERS")
        .output()
        .unwrap()
}

/// The (source, destination) pairs of `--print csv --fields sa,da` output.
fn pairs(csv_text: &[u8]) -> BTreeSet<(IpAddr, IpAddr)> {
    let mut r = csv::Reader::from_reader(csv_text);
    r.records()
        .map(|row| {
            let row = row.unwrap();
            (row[0].parse().unwrap(), row[1].parse().unwrap())
        })
        .collect()
}

#[test]
fn geo_terms_select_the_flows_the_json_places_in_the_country() {
    let nets = geoip::source("GeoIP2-Country-Test");
    let addrs = geoip::probes(&nets);
    let n = addrs.len();
    let flows: Vec<FlowRecord> = (0..n)
        .map(|i| FlowRecord {
            start_ms: 1_700_000_000_000 + i as i64,
            end_ms: 1_700_000_000_100 + i as i64,
            src_addr: addrs[i],
            dst_addr: addrs[(i * 7 + 3) % n],
            protocol: 17,
            packets: 1,
            octets: 80,
            ..FlowRecord::default()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("geo.fk");
    testdata::write_archive(&file, &flows);
    let file = file.to_str().unwrap();
    let cdb = testdata::path("geoip/GeoIP2-Country-Test.mmdb");
    let cdb = cdb.to_str().unwrap();
    let country = |ip: IpAddr| geoip::country(&nets, ip);
    let codes: BTreeSet<String> = addrs.iter().filter_map(|a| country(*a)).collect();
    assert!(codes.len() >= 5, "{codes:?}");
    let is = |ip: IpAddr, c: &str| country(ip).as_deref() == Some(c);
    let mut checked = 0;
    for c in codes.iter().take(8) {
        let other = codes.iter().find(|o| *o != c).unwrap();
        for (expr, keep) in [
            (
                format!("src geo {c}"),
                Box::new(|f: &FlowRecord| is(f.src_addr, c)) as Box<dyn Fn(&FlowRecord) -> bool>,
            ),
            (
                format!("dst country in [{} {}]", c.to_lowercase(), other),
                Box::new(|f: &FlowRecord| is(f.dst_addr, c) || is(f.dst_addr, other)),
            ),
            (
                format!("geo {c}"),
                Box::new(|f: &FlowRecord| is(f.src_addr, c) || is(f.dst_addr, c)),
            ),
            (
                format!("not src geo {c} and proto udp"),
                Box::new(|f: &FlowRecord| !is(f.src_addr, c)),
            ),
        ] {
            let o = nfilter(&[
                "--geoip", cdb, "-e", &expr, "--print", "csv", "--fields", "sa,da", file,
            ]);
            assert!(
                o.status.success(),
                "{expr}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let want: BTreeSet<(IpAddr, IpAddr)> = flows
                .iter()
                .filter(|f| keep(f))
                .map(|f| (f.src_addr, f.dst_addr))
                .collect();
            assert_eq!(pairs(&o.stdout), want, "{expr}");
            checked += usize::from(!want.is_empty());
        }
    }
    assert!(checked >= 16, "{checked}");
}

#[test]
fn geo_without_a_database_or_with_a_bad_code_is_a_usage_error() {
    let sample = testdata::path("2010-11-09").display().to_string();
    let cdb = testdata::path("geoip/GeoIP2-Country-Test.mmdb");
    let adb = testdata::path("geoip/GeoLite2-ASN-Test.mmdb");
    for (args, says) in [
        (
            vec!["-e", "src geo DE", sample.as_str()],
            "`geo` needs a country database at column 5",
        ),
        (
            vec![
                "--geoip",
                cdb.to_str().unwrap(),
                "-e",
                "dst geo D1",
                &sample,
            ],
            "`D1` is not a country code",
        ),
        (
            vec!["--geoip", adb.to_str().unwrap(), "-e", "geo DE", &sample],
            "needs --geoip with a Country or City database",
        ),
    ] {
        let o = nfilter(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
