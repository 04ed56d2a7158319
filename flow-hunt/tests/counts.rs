//! flow-hunt's volumes on real sampled and biflow exports, against nfdump 1.7.1's and
//! tshark's views of the same packets (`testdata/exports/NAME.{nfdump,tshark}.csv.gz`).

use flowkit_core::archive::{ArchiveFileWriter, WriterOptions};
use flowkit_core::collect::import::Importer;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The sampled exporters announce 1 in 10 (see flow-stat/tests/counts.rs).
const INTERVAL: u64 = 10;
const VICTIM: &str = "189.22.36.165";
const ATTACKER: &str = "79.115.103.225";

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

fn rows(file: &str) -> Vec<Vec<String>> {
    flowkit_core::testing::testdata::read_text(&format!("exports/{file}"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|s| s.trim().to_string()).collect())
        .collect()
}

fn num(s: &str) -> u64 {
    s.parse().unwrap()
}

fn hunt(args: &[&str]) -> serde_json::Value {
    let o = Command::new(env!("CARGO_BIN_EXE_flow-hunt"))
        .args(args)
        .env_remove("FLOWKIT_FILTERS")
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("--json parses")
}

/// The attacker's SSH session as irc-after-ssh reports it: (client port, packets, octets).
fn session(a: &str, raw: bool) -> (u64, u64, u64) {
    let mut args = vec!["irc-after-ssh", "--json", a];
    if raw {
        // Exported counts of a sampled session fall below the default session thresholds
        // (that is the point of scaling): lower them to see the session anyway.
        args.extend([
            "--raw-counts",
            "--session-min-packets",
            "1",
            "--session-min-octets",
            "1",
        ]);
    }
    let j = hunt(&args);
    let f = &j["findings"][0];
    assert_eq!(
        (f["subject"].as_str(), f["peer"].as_str()),
        (Some(VICTIM), Some(ATTACKER))
    );
    let s = &f["facts"]["ssh_sessions"][0];
    (
        s["client_port"].as_u64().unwrap(),
        s["packets"].as_u64().unwrap(),
        s["octets"].as_u64().unwrap(),
    )
}

/// Both directions of one SSH connection in a CSV with addresses at `sa`/`da`, ports at
/// `sp`/`dp` and the given counter columns summed.
fn connection(
    rows: &[Vec<String>],
    (sa, da, sp, dp): (usize, usize, usize, usize),
    port: u64,
    counters: &[usize],
) -> Vec<u64> {
    let port = port.to_string();
    let mine = |r: &Vec<String>| {
        (r[sa] == ATTACKER && r[da] == VICTIM && r[sp] == port && r[dp] == "22")
            || (r[sa] == VICTIM && r[da] == ATTACKER && r[sp] == "22" && r[dp] == port)
    };
    counters
        .iter()
        .map(|&c| rows.iter().filter(|r| mine(r)).map(|r| num(&r[c])).sum())
        .collect()
}

/// nfdump's reduced CSV: sa 3, da 4, sp 5, dp 6, ipkt 10, ibyt 11, opkt 12, obyt 13.
const NF: (usize, usize, usize, usize) = (3, 4, 5, 6);
/// tshark's CSV: sa 2, da 3, sp 4, dp 5, pkts 7, bytes 8.
const TS: (usize, usize, usize, usize) = (2, 3, 4, 5);

#[test]
fn a_biflow_session_counts_both_directions() {
    let dir = tempfile::tempdir().unwrap();
    let name = "softflowd-ipfix-biflow";
    let a = archive(dir.path(), name);
    let a = a.to_str().unwrap();
    let (port, packets, octets) = session(a, false);
    let nf = connection(
        &rows(&format!("{name}.nfdump.csv.gz")),
        NF,
        port,
        &[10, 11, 12, 13],
    );
    assert!(nf[2] > 0, "the session's record has reverse counters");
    assert_eq!((packets, octets), (nf[0] + nf[2], nf[1] + nf[3]));
    // The same connection exported one way per record (softflowd without -b) adds up the same.
    let uni = connection(&rows("scenario-ipfix.nfdump.csv.gz"), NF, port, &[10, 11]);
    assert_eq!((packets, octets), (uni[0], uni[1]));
    assert_eq!(
        session(a, true),
        (port, packets, octets),
        "unsampled: raw is the same"
    );
}

#[test]
fn a_sampled_session_is_scaled_unless_raw_counts() {
    let dir = tempfile::tempdir().unwrap();
    // v5: nfdump's counts are scaled, tshark's as exported.
    let name = "softflowd-v5-sampled";
    let a = archive(dir.path(), name);
    let a = a.to_str().unwrap();
    let (port, packets, octets) = session(a, false);
    let nf = connection(&rows(&format!("{name}.nfdump.csv.gz")), NF, port, &[10, 11]);
    assert_eq!((packets, octets), (nf[0], nf[1]));
    let ts = connection(&rows(&format!("{name}.tshark.csv.gz")), TS, port, &[7, 8]);
    assert_eq!(session(a, true), (port, ts[0], ts[1]));
    assert_eq!((packets, octets), (ts[0] * INTERVAL, ts[1] * INTERVAL));

    // IPFIX: nfdump 1.7.1 leaves these counts as exported (flow-stat/tests/counts.rs).
    let name = "softflowd-ipfix-sampled";
    let a = archive(dir.path(), name);
    let a = a.to_str().unwrap();
    let (port, packets, octets) = session(a, false);
    let nf = connection(&rows(&format!("{name}.nfdump.csv.gz")), NF, port, &[10, 11]);
    assert_eq!((packets, octets), (nf[0] * INTERVAL, nf[1] * INTERVAL));
    assert_eq!(session(a, true), (port, nf[0], nf[1]));
    // As exported, the session is too small for the default thresholds: the break-in is missed.
    let raw = hunt(&["irc-after-ssh", "--json", "--raw-counts", a]);
    assert_eq!(raw["findings"].as_array().unwrap().len(), 0);
    assert_eq!(raw["counts"]["scaled"], false);
    let j = hunt(&["irc-after-ssh", "--json", a]);
    assert_eq!(j["counts"]["scaled"], true);
    assert_eq!(j["counts"]["sampling_interval_max"], INTERVAL);
}

/// The /24 sweepers (61.174.51.200-203) send one SYN per address: sampled 1 in 10, such a
/// flow still has one exported packet, a probe, not a ten-packet login attempt.
#[test]
fn sampled_probes_are_not_scaled_into_login_attempts() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "softflowd-v5-sampled",
        "softflowd-ipfix-sampled",
        "pmacct-v9-sampled",
    ] {
        let a = archive(dir.path(), name);
        let j = hunt(&["ssh-bruteforce", "--json", a.to_str().unwrap()]);
        for f in j["findings"].as_array().unwrap() {
            let s = f["subject"].as_str().unwrap();
            assert!(!s.starts_with("61.174.51."), "{name}: {f}");
        }
    }
}

/// A biflow probe carries the target's answer in its reverse counters: the sweep's answers are
/// the targets whose records nfdump shows with reverse packets, as the one-way capture shows
/// them answering with SYN/ACK.
#[test]
fn a_biflow_scan_sees_who_answered() {
    let dir = tempfile::tempdir().unwrap();
    let a = archive(dir.path(), "softflowd-ipfix-biflow");
    let j = hunt(&["scan", "--json", a.to_str().unwrap()]);
    let nf = rows("softflowd-ipfix-biflow.nfdump.csv.gz");
    let mut checked = 0;
    for f in j["findings"].as_array().unwrap() {
        if f["kind"] != "horizontal" {
            continue;
        }
        let scanner = f["subject"].as_str().unwrap();
        let want: BTreeSet<&str> = nf
            .iter()
            .filter(|r| r[3] == scanner && r[6] == "22" && num(&r[12]) > 0)
            .map(|r| r[4].as_str())
            .collect();
        let got: BTreeSet<&str> = f["facts"]["answered_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(got, want, "{scanner}");
        assert_eq!(got, [VICTIM].into(), "{scanner}");
        let uni = rows("scenario-ipfix.nfdump.csv.gz");
        let one_way: BTreeSet<&str> = uni
            .iter()
            .filter(|r| r[4] == scanner && r[5] == "22" && r[8].contains('A') && r[8].contains('S'))
            .map(|r| r[3].as_str())
            .collect();
        assert_eq!(got, one_way, "{scanner}: the one-way capture's SYN/ACKs");
        checked += 1;
    }
    assert_eq!(checked, 4, "the four /24 sweeps");
}
