//! The exfil detector: planted uploads among background traffic, judged against the host's
//! own history or its peers', and the heavy but usual senders that must not be reported.

use super::*;
use crate::gen::{FlowGen, GenConfig};

const HOUR: i64 = 60 * MIN;
const MB: u64 = 1_000_000;

fn upload(s: &mut Story, host: &str, dst: &str, t: i64, flows: u64, octets_each: u64) {
    for k in 0..flows {
        let t = t + k as i64 * 1000;
        s.flow(
            host,
            40000 + k as u16,
            dst,
            443,
            6,
            t,
            500,
            octets_each / 1400,
            octets_each,
            FSPA,
        );
    }
}

fn story() -> Story {
    let mut s = Story {
        flows: FlowGen::new(GenConfig {
            flows: 5_000,
            seed: 11,
            start_ms: T0,
            span_ms: 8 * HOUR,
            ..GenConfig::default()
        })
        .collect(),
    };
    for h in 0..8 {
        let t = T0 + h * HOUR + 5 * MIN;
        // The victim's usual 2 MB an hour, and the backup server's usual 1 GB an hour.
        upload(&mut s, "10.9.9.1", "198.51.100.1", t, 2, MB);
        upload(&mut s, "10.9.9.3", "198.51.100.20", t, 10, 100 * MB);
        // A host with 1 MB an hour that once sends 50 MB: far above itself, below 100 MB.
        upload(&mut s, "10.9.9.4", "198.51.100.1", t, 1, MB);
    }
    // The victim sends 3 GB out in hour 5, to two places.
    upload(
        &mut s,
        "10.9.9.1",
        "198.51.100.7",
        T0 + 5 * HOUR + 20 * MIN,
        20,
        100 * MB,
    );
    upload(
        &mut s,
        "10.9.9.1",
        "203.0.113.50",
        T0 + 5 * HOUR + 40 * MIN,
        10,
        100 * MB,
    );
    upload(
        &mut s,
        "10.9.9.4",
        "198.51.100.1",
        T0 + 2 * HOUR + 30 * MIN,
        1,
        50 * MB,
    );
    // A host never seen before sends 400 MB: judged against its peers.
    upload(
        &mut s,
        "10.9.9.2",
        "203.0.113.9",
        T0 + 3 * HOUR,
        4,
        100 * MB,
    );
    // An outside client pulls 500 MB from an inside server: the reverse half of a biflow.
    s.flows.push(FlowRecord {
        start_ms: T0 + 6 * HOUR,
        end_ms: T0 + 6 * HOUR + 60_000,
        src_addr: ip("198.51.100.30"),
        dst_addr: ip("10.9.9.5"),
        src_port: 50000,
        dst_port: 22,
        protocol: 6,
        packets: 9_000,
        octets: 400_000,
        rev_packets: 350_000,
        rev_octets: 500 * MB,
        ..FlowRecord::default()
    });
    // A sampled flow, 1 in 10: 20 MB exported, 200 MB estimated.
    s.flows.push(FlowRecord {
        start_ms: T0 + 7 * HOUR,
        end_ms: T0 + 7 * HOUR + 1000,
        src_addr: ip("10.9.9.6"),
        dst_addr: ip("203.0.113.77"),
        src_port: 40000,
        dst_port: 443,
        protocol: 6,
        packets: 14_000,
        octets: 20 * MB,
        sampling_interval: 10,
        ..FlowRecord::default()
    });
    s
}

#[test]
fn planted_uploads_are_found_against_own_or_peer_baselines() {
    let s = story();
    let f = s.hunt(&exfil(ExfilConfig::default()));
    let mut what: Vec<(IpAddr, &str)> = f.iter().map(|x| (x.subject, x.kind)).collect();
    what.sort();
    assert_eq!(
        what,
        vec![
            (ip("10.9.9.1"), "above-own-baseline"),
            (ip("10.9.9.2"), "above-peers"),
            (ip("10.9.9.5"), "above-peers"),
            (ip("10.9.9.6"), "above-peers"),
        ],
        "{f:#?}"
    );
    let victim = f.iter().find(|x| x.subject == ip("10.9.9.1")).unwrap();
    // Bin 5 holds the usual 2 MB and the 3 GB; the other seven bins 2 MB each.
    assert_eq!(victim.facts["bins"], 1);
    assert_eq!(victim.facts["octets"], 3_002_000_000u64);
    assert_eq!(victim.facts["flows"], 32);
    assert_eq!(victim.facts["baseline"], 2_000_000);
    assert_eq!(victim.facts["baseline_kind"], "own");
    assert_eq!(victim.facts["peak_bin"], "2021-03-04T05:00:00.000Z");
    assert!(
        (victim.score - 3_002.0 / 20.0).abs() < 1e-9,
        "{}",
        victim.score
    );
    let top = &victim.facts["top_destinations"];
    assert_eq!(top[0]["addr"], "198.51.100.7");
    assert_eq!(top[0]["octets"], 2_000_000_000u64);
    assert_eq!(top[1]["addr"], "203.0.113.50");
    assert_eq!(top[1]["octets"], 1_000_000_000u64);
    // Evidence: the 20 largest flows, all 100 MB uploads, none of the usual 1 MB ones.
    assert_eq!(victim.evidence.len(), 20);
    assert_eq!(victim.evidence_omitted, 12);
    assert!(victim
        .evidence
        .iter()
        .all(|e| e.flow.octets == 100 * MB && e.role == "upload"));

    let biflow = f.iter().find(|x| x.subject == ip("10.9.9.5")).unwrap();
    assert_eq!(biflow.facts["octets"], 500 * MB);
    assert_eq!(biflow.facts["top_destinations"][0]["addr"], "198.51.100.30");
    let sampled = f.iter().find(|x| x.subject == ip("10.9.9.6")).unwrap();
    assert_eq!(sampled.facts["octets"], 200 * MB);
}

#[test]
fn raw_counts_and_thresholds_change_what_is_flagged() {
    let s = story();
    // Exported counts: the sampled flow is 20 MB, below the minimum.
    let raw = s.hunt(&exfil(ExfilConfig {
        raw_counts: true,
        ..ExfilConfig::default()
    }));
    assert!(raw.iter().all(|x| x.subject != ip("10.9.9.6")), "{raw:#?}");
    assert_eq!(raw.len(), 3);
    // A lower minimum reaches the 50 MB outlier, judged against its own 1 MB hours.
    let low = s.hunt(&exfil(ExfilConfig {
        min_octets: 40 * MB,
        ..ExfilConfig::default()
    }));
    let h4 = low.iter().find(|x| x.subject == ip("10.9.9.4"));
    let h4 = h4.unwrap_or_else(|| panic!("10.9.9.4 not flagged: {low:#?}"));
    assert_eq!(h4.kind, "above-own-baseline");
    assert_eq!(h4.facts["baseline"], MB);
    // The backup server stays quiet: its hours are all alike.
    assert!(low.iter().all(|x| x.subject != ip("10.9.9.3")));
    // With every address inside, nothing is outbound.
    let none = s.hunt(&exfil(ExfilConfig {
        inside: vec!["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()],
        ..ExfilConfig::default()
    }));
    assert!(none.is_empty(), "{none:#?}");
}
