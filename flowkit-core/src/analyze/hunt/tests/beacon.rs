//! The beacon detector: a planted beacon among generated background traffic, a pair with as
//! many connections at random intervals, and the periodic things that are not beacons.

use super::super::beacon::rhythm;
use super::*;
use crate::gen::{FlowGen, GenConfig, SplitMix64};

const SEC: i64 = 1_000;
const INFECTED: &str = "10.1.2.3";
const C2: &str = "198.51.100.7";
const BUSY: &str = "10.1.2.4";
const SITE: &str = "198.51.100.8";

/// Background traffic from the generator over two hours from `T0`.
fn background(flows: u64) -> Story {
    let gen = FlowGen::new(GenConfig {
        flows,
        seed: 7,
        start_ms: T0,
        span_ms: 2 * 60 * MIN,
        ..GenConfig::default()
    });
    Story {
        flows: gen.collect(),
    }
}

/// A connection to `dst:443` from a fresh client port: the client's flow and the answer.
fn https(s: &mut Story, src: &str, dst: &str, n: u16, t: i64) {
    s.conn(src, 40_000 + n, dst, 443, t, 800, (8, 7), (900, 4_000));
}

/// The infected host checks in every 300 s ± 2 s, 20 times; the busy host makes 20
/// connections at random intervals (uniform 30 s to 570 s, the same mean).
fn planted(s: &mut Story) {
    let mut rng = SplitMix64::new(99);
    let mut t = T0 + 5 * MIN;
    for n in 0..20u16 {
        let wobble = rng.below(4 * SEC as u64 + 1) as i64 - 2 * SEC;
        https(s, INFECTED, C2, n, t + wobble);
        t += 300 * SEC;
    }
    let mut t = T0 + 3 * MIN;
    for n in 0..20u16 {
        https(s, BUSY, SITE, n, t);
        t += 30 * SEC + rng.below(540 * SEC as u64) as i64;
    }
}

#[test]
fn a_planted_beacon_is_found_first_and_random_connections_are_not() {
    let mut s = background(5_000);
    planted(&mut s);
    let f = s.hunt(&beacon(BeaconConfig::default()));
    assert!(!f.is_empty());
    let b = &f[0];
    assert_eq!((b.subject, b.peer), (ip(INFECTED), Some(ip(C2))), "{f:#?}");
    assert_eq!(b.rank, 1);
    assert_eq!(b.facts["port"], 443);
    assert_eq!(b.facts["protocol"], 6);
    assert_eq!(b.facts["checkins"], 20);
    let interval = b.facts["interval_s"].as_f64().unwrap();
    assert!((interval - 300.0).abs() <= 2.0, "{interval}");
    // 19 intervals of 300 s ± 4 s: the deviation is a few seconds at most.
    let jitter = b.facts["jitter"].as_f64().unwrap();
    assert!(jitter < 0.02, "{jitter}");
    assert!(b.summary.contains("every 30"), "{}", b.summary);
    // Evidence: the beacon's own flows (not the answers), the earliest first, 20 at most.
    assert_eq!(b.evidence.len(), 20);
    assert_eq!(b.evidence_omitted, 0);
    for e in &b.evidence {
        assert_eq!(e.role, "check-in");
        assert_eq!((e.flow.src_addr, e.flow.dst_addr), (ip(INFECTED), ip(C2)));
        assert_eq!(e.flow.dst_port, 443);
    }
    assert!(b
        .evidence
        .windows(2)
        .all(|w| w[0].flow.start_ms <= w[1].flow.start_ms));
    // The random pair, its answers and the beacon's answers are not reported.
    for x in &f {
        assert_ne!(x.subject, ip(BUSY), "{x:#?}");
        assert_ne!(x.subject, ip(C2), "{x:#?}");
        assert_ne!(x.subject, ip(SITE), "{x:#?}");
    }
    // It is left out for its jitter alone: with no jitter limit it is there, far above the
    // threshold (uniform intervals have a MAD of a quarter of their range, 135 s of 300 s).
    let any = s.hunt(&beacon(BeaconConfig {
        max_jitter: 10.0,
        ..BeaconConfig::default()
    }));
    let busy = any.iter().find(|x| x.subject == ip(BUSY)).unwrap();
    assert_eq!(busy.facts["checkins"], 20);
    let jitter = busy.facts["jitter"].as_f64().unwrap();
    assert!(jitter > 0.25, "{jitter}");
}

#[test]
fn more_checkins_and_less_jitter_rank_higher() {
    let mut s = Story::default();
    // A: every 60 s exactly, 40 times. B: every 60 s ± 3 s, 40 times. C: every 60 s, 10 times.
    let mut rng = SplitMix64::new(5);
    for n in 0..40u16 {
        let t = T0 + n as i64 * 60 * SEC;
        https(&mut s, "10.0.0.1", C2, n, t);
        let wobble = rng.below(6 * SEC as u64 + 1) as i64 - 3 * SEC;
        https(&mut s, "10.0.0.2", C2, n, t + wobble);
        if n < 10 {
            https(&mut s, "10.0.0.3", C2, n, t);
        }
    }
    let f = s.hunt(&beacon(BeaconConfig::default()));
    let order: Vec<IpAddr> = f.iter().map(|x| x.subject).collect();
    assert_eq!(
        order,
        vec![ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3")],
        "{f:#?}"
    );
    // A perfect clock at the thresholds' count: (1 + 1) × log2(40) / log2(8).
    let want = 2.0 * 40f64.log2() / 3.0;
    assert!((f[0].score - want).abs() < 1e-9, "{}", f[0].score);
    assert_eq!(f[0].facts["jitter"], 0.0);
}

#[test]
fn a_missed_checkin_and_a_double_connection_do_not_hide_a_beacon() {
    let mut s = Story::default();
    for n in 0..15u16 {
        let t = T0 + n as i64 * 600 * SEC;
        if n == 7 {
            continue; // asleep once
        }
        https(&mut s, INFECTED, C2, n, t);
        if n % 4 == 0 {
            // A second connection 300 ms later: the same check-in.
            https(&mut s, INFECTED, C2, 100 + n, t + 300);
        }
    }
    let f = s.hunt(&beacon(BeaconConfig::default()));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].facts["checkins"], 14);
    assert_eq!(f[0].facts["interval_s"], 600.0);
    assert_eq!(f[0].facts["longest_interval_s"], 1200.0);
    assert_eq!(f[0].facts["flows"], 18);
}

#[test]
fn pieces_of_a_long_connection_and_out_of_range_intervals_are_not_beacons() {
    let mut s = Story::default();
    // One SSH connection exported every 30 min by the active timeout: only the first piece has SYN.
    for n in 0..12i64 {
        let flags = if n == 0 { FSPA } else { 0x18 };
        s.flow(
            "10.0.0.9",
            50_000,
            "10.0.0.10",
            22,
            6,
            T0 + n * 30 * MIN,
            30 * MIN,
            500,
            60_000,
            flags,
        );
    }
    // A chatty client every 2 s (below --min-interval) and one every 2 days (above the max).
    for n in 0..30u16 {
        https(&mut s, "10.0.0.11", C2, n, T0 + n as i64 * 2 * SEC);
        https(
            &mut s,
            "10.0.0.12",
            C2,
            n,
            T0 + n as i64 * 2 * 24 * 60 * MIN,
        );
    }
    // Seven check-ins, one fewer than --min-connections.
    for n in 0..7u16 {
        https(&mut s, "10.0.0.13", C2, n, T0 + n as i64 * 5 * MIN);
    }
    assert!(s.hunt(&beacon(BeaconConfig::default())).is_empty());
    // With the interval range and count widened, the clocks are found (the SSH pieces never).
    let f = s.hunt(&beacon(BeaconConfig {
        min_interval_ms: 1_000,
        max_interval_ms: 3 * 86_400_000,
        min_connections: 7,
        ..BeaconConfig::default()
    }));
    let mut who: Vec<IpAddr> = f.iter().map(|x| x.subject).collect();
    who.sort();
    assert_eq!(who, vec![ip("10.0.0.11"), ip("10.0.0.12"), ip("10.0.0.13")]);
}

#[test]
fn jitter_is_the_median_absolute_deviation_over_the_median() {
    // Intervals 100, 100, 110, 90 s: median 100, deviations 0, 0, 10, 10, MAD 5.
    let mut starts = vec![310 * SEC, 0, 100 * SEC, 200 * SEC, 400 * SEC];
    let r = rhythm(&mut starts, SEC, 0.1).unwrap();
    assert_eq!(r.checkins, 5);
    assert_eq!(r.median_ms, 100_000.0);
    assert_eq!(r.mad_ms, 5_000.0);
    assert!((r.jitter - 0.05).abs() < 1e-12);
    assert_eq!(r.regular_fraction, 1.0);
    assert_eq!((r.min_ms, r.max_ms), (90 * SEC, 110 * SEC));
    // Starts within the burst window are one check-in; two check-ins have no rhythm.
    let mut two = vec![0, 200, 900, 60 * SEC];
    assert!(rhythm(&mut two, SEC, 0.1).is_none());
}

#[test]
fn starts_beyond_the_cap_are_counted_but_not_judged() {
    let mut s = Story::default();
    for n in 0..50u16 {
        https(&mut s, INFECTED, C2, n, T0 + n as i64 * 60 * SEC);
    }
    let f = s.hunt(&beacon(BeaconConfig {
        max_starts: 10,
        ..BeaconConfig::default()
    }));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].facts["checkins"], 10);
    assert_eq!(f[0].facts["flows"], 50);
    assert_eq!(f[0].facts["starts_capped"], true);
    // The span runs from the first start to the last (all 50 flows), the finding's times
    // to the end of the last flow (800 ms long).
    assert_eq!(f[0].facts["span_s"], 49.0 * 60.0);
    assert_eq!(f[0].last_ms - f[0].first_ms, 49 * 60 * SEC + 800);
}

#[test]
fn half_alike_intervals_are_not_enough() {
    // Ten check-ins: five intervals of 300 s and four of 250, 350, 420 and 190 s. Deviations
    // from the median (300 s): 0 five times, 50, 50, 120, 110: MAD 0, jitter 0, yet only 5 of
    // the 9 intervals (56 %) are within 30 s of the median.
    let gaps = [300, 250, 300, 350, 300, 420, 300, 190, 300];
    let mut t = T0;
    let mut s = Story::default();
    https(&mut s, INFECTED, C2, 0, t);
    for (n, g) in gaps.iter().enumerate() {
        t += g * SEC;
        https(&mut s, INFECTED, C2, n as u16 + 1, t);
    }
    assert!(s.hunt(&beacon(BeaconConfig::default())).is_empty());
    let f = s.hunt(&beacon(BeaconConfig {
        min_regular: 0.5,
        ..BeaconConfig::default()
    }));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].facts["jitter"], 0.0);
    assert_eq!(f[0].facts["regular_fraction"], 0.556);
}
