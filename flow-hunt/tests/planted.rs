//! `flow-hunt beacon`, `ddos` and `exfil` on an archive written here: generated background
//! traffic, a planted beacon, a host with as many connections at random intervals, a SYN flood
//! and a 600 MB upload.

use flowkit_core::gen::{FlowGen, GenConfig, SplitMix64};
use flowkit_core::model::record::FlowRecord;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const T0: i64 = 1_717_372_800_000; // 2024-06-03 00:00 UTC
const SEC: i64 = 1_000;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn conn(out: &mut Vec<FlowRecord>, src: &str, sport: u16, dst: &str, t: i64) {
    let base = FlowRecord {
        start_ms: t,
        end_ms: t + 700,
        protocol: 6,
        tcp_flags: 0x1b,
        packets: 8,
        octets: 1_200,
        ..FlowRecord::default()
    };
    out.push(FlowRecord {
        src_addr: ip(src),
        dst_addr: ip(dst),
        src_port: sport,
        dst_port: 8443,
        ..base.clone()
    });
    out.push(FlowRecord {
        src_addr: ip(dst),
        dst_addr: ip(src),
        src_port: 8443,
        dst_port: sport,
        start_ms: t + 1,
        octets: 5_000,
        ..base
    });
}

/// Background, a beacon from 10.9.8.7 to 203.0.113.9:8443 every 120 s ± 1 s (30 times), and
/// 10.9.8.6 to 203.0.113.10:8443 30 times at random intervals of 10 s to 230 s.
fn archive(dir: &Path) -> PathBuf {
    let mut flows: Vec<FlowRecord> = FlowGen::new(GenConfig {
        flows: 3_000,
        seed: 3,
        start_ms: T0,
        span_ms: 90 * 60 * SEC,
        ..GenConfig::default()
    })
    .collect();
    let mut rng = SplitMix64::new(11);
    for n in 0..30u16 {
        let wobble = rng.below(2 * SEC as u64 + 1) as i64 - SEC;
        conn(
            &mut flows,
            "10.9.8.7",
            50_000 + n,
            "203.0.113.9",
            T0 + 60 * SEC + n as i64 * 120 * SEC + wobble,
        );
    }
    let mut t = T0 + 30 * SEC;
    for n in 0..30u16 {
        conn(&mut flows, "10.9.8.6", 51_000 + n, "203.0.113.10", t);
        t += 10 * SEC + rng.below(220 * SEC as u64) as i64;
    }
    // A SYN flood on 203.0.113.50:80: 80 sources, 8 SYNs each, one every 90 ms from 00:45.
    for n in 0..80u32 {
        for k in 0..8u32 {
            flows.push(FlowRecord {
                start_ms: T0 + 45 * 60 * SEC + (n * 8 + k) as i64 * 90,
                src_addr: ip(&format!("198.18.{}.{}", n / 200, n % 200 + 1)),
                dst_addr: ip("203.0.113.50"),
                src_port: 30_000 + k as u16,
                dst_port: 80,
                protocol: 6,
                tcp_flags: 0x02,
                packets: 1,
                octets: 60,
                ..FlowRecord::default()
            });
        }
    }
    // 10.9.8.5 uploads 30 × 20 MB to 198.51.100.99:443 from 01:05, at random intervals (not
    // a beacon).
    let mut t = T0 + 65 * 60 * SEC;
    for n in 0..30u16 {
        t += 1 + rng.below(40 * SEC as u64) as i64;
        flows.push(FlowRecord {
            start_ms: t,
            end_ms: t + 900,
            src_addr: ip("10.9.8.5"),
            dst_addr: ip("198.51.100.99"),
            src_port: 41_000 + n,
            dst_port: 443,
            protocol: 6,
            tcp_flags: 0x1b,
            packets: 14_000,
            octets: 20_000_000,
            ..FlowRecord::default()
        });
    }
    flows.sort_by_key(|f| f.start_ms);
    let out = dir.join("beacon.fk");
    flowkit_core::testing::testdata::write_archive(&out, &flows);
    out
}

fn hunt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-hunt"))
        .args(args)
        .env_remove("FLOWKIT_FILTERS")
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "status {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn beacon_on_an_archive_finds_the_planted_beacon_first() {
    let dir = tempfile::tempdir().unwrap();
    let a = archive(dir.path());
    let a = a.to_str().unwrap();

    let text = ok(&hunt(&["beacon", a]));
    let first = text.lines().find(|l| l.starts_with("#1 ")).unwrap();
    assert!(
        first.contains("10.9.8.7") && first.contains("203.0.113.9"),
        "{text}"
    );
    assert!(text.contains("203.0.113.9:8443 TCP 30 times"), "{text}");
    assert!(!text.contains("10.9.8.6"), "{text}");

    let j: serde_json::Value = serde_json::from_str(&ok(&hunt(&["beacon", "--json", a]))).unwrap();
    assert_eq!(j["detector"], "beacon");
    let f = &j["findings"][0];
    assert_eq!(f["subject"], "10.9.8.7");
    assert_eq!(f["peer"], "203.0.113.9");
    assert_eq!(f["facts"]["checkins"], 30);
    assert_eq!(f["facts"]["port"], 8443);
    let interval = f["facts"]["interval_s"].as_f64().unwrap();
    assert!((interval - 120.0).abs() <= 1.0, "{interval}");
    assert!(f["facts"]["jitter"].as_f64().unwrap() < 0.02);
    let ev = f["evidence"].as_array().unwrap();
    assert_eq!(ev.len(), 20);
    assert_eq!(f["evidence_omitted"], 10);
    let findings = j["findings"].as_array().unwrap();
    assert!(findings.iter().all(|x| x["subject"] != "10.9.8.6"));

    // CSV: one row per evidence flow of each finding.
    let csv = ok(&hunt(&[
        "beacon",
        "--csv",
        "--count",
        "1",
        "--max-evidence",
        "5",
        a,
    ]));
    assert_eq!(csv.lines().count(), 1 + 5, "{csv}");

    // With the jitter limit lifted, the random host shows up; above the interval range it
    // does not.
    let loose = ok(&hunt(&["beacon", "--max-jitter", "5", a]));
    assert!(loose.contains("10.9.8.6"), "{loose}");
    let none = ok(&hunt(&["beacon", "--min-interval", "10m", a]));
    assert_eq!(none, "beacon: no findings\n");
}

#[test]
fn ddos_on_an_archive_finds_the_flood() {
    let dir = tempfile::tempdir().unwrap();
    let a = archive(dir.path());
    let a = a.to_str().unwrap();
    let j: serde_json::Value = serde_json::from_str(&ok(&hunt(&["ddos", "--json", a]))).unwrap();
    assert_eq!(j["detector"], "ddos");
    let all = j["findings"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{j:#}");
    let f = &all[0];
    assert_eq!(
        (&f["kind"], &f["subject"]),
        (&"flood".into(), &"203.0.113.50".into())
    );
    assert_eq!(f["facts"]["port"], 80);
    assert_eq!(f["facts"]["sources"], 80);
    assert_eq!(f["facts"]["flows"], 640);
    assert_eq!(f["facts"]["peak_bin"], "2024-06-03T00:45:00.000Z");
    // Fewer sources than --min-sources: nothing.
    let none = ok(&hunt(&["ddos", "--min-sources", "81", a]));
    assert_eq!(none, "ddos: no findings\n");
    let o = hunt(&["ddos", "--bin", "0", a]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn exfil_on_an_archive_finds_the_upload() {
    let dir = tempfile::tempdir().unwrap();
    let a = archive(dir.path());
    let a = a.to_str().unwrap();
    let j: serde_json::Value = serde_json::from_str(&ok(&hunt(&["exfil", "--json", a]))).unwrap();
    assert_eq!(j["detector"], "exfil");
    let all = j["findings"].as_array().unwrap();
    assert_eq!(all.len(), 1, "{j:#}");
    let f = &all[0];
    assert_eq!(
        (&f["kind"], &f["subject"]),
        (&"above-peers".into(), &"10.9.8.5".into())
    );
    assert_eq!(f["facts"]["octets"], 600_000_000u64);
    assert_eq!(f["facts"]["flows"], 30);
    assert_eq!(f["facts"]["peak_bin"], "2024-06-03T01:00:00.000Z");
    assert_eq!(f["facts"]["top_destinations"][0]["addr"], "198.51.100.99");
    assert_eq!(f["evidence"].as_array().unwrap().len(), 20);
    // Above the upload's size, or with 10.9.8.5 outside: nothing.
    let none = ok(&hunt(&["exfil", "--min-octets", "601M", a]));
    assert_eq!(none, "exfil: no findings\n");
    let none = ok(&hunt(&["exfil", "--inside", "192.168.0.0/16", a]));
    assert!(!none.contains("10.9.8.5"), "{none}");
    for bad in [
        ["--inside", "10.0.0.0/33"],
        ["--min-octets", "lots"],
        ["--factor", "0.5"],
    ] {
        let o = hunt(&["exfil", bad[0], bad[1], a]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(bad[0]),
            "{bad:?}"
        );
    }
}

#[test]
fn beacon_rejects_bad_thresholds() {
    for (args, why) in [
        (vec!["beacon", "--min-connections", "2"], "at least 3"),
        (vec!["beacon", "--max-jitter=-1"], "max-jitter"),
        (
            vec!["beacon", "--min-interval", "2d", "--max-interval", "1d"],
            "longer",
        ),
        (vec!["beacon", "--burst", "x"], "--burst"),
        (vec!["beacon", "--min-regular", "2"], "min-regular"),
    ] {
        let mut args = args.clone();
        args.push("/nonexistent");
        let o = hunt(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(why), "{args:?}: {err}");
    }
}
