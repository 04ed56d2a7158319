//! The ddos detector: a planted flood and a reflection among background traffic, and the busy
//! services that stay below the thresholds.

use super::*;
use crate::gen::{FlowGen, GenConfig};

const VICTIM: &str = "192.0.2.80";

fn source(n: u32) -> String {
    format!("100.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255)
}

#[test]
fn a_planted_flood_and_reflection_are_found_and_busy_services_are_not() {
    let mut s = Story {
        flows: FlowGen::new(GenConfig {
            flows: 5_000,
            seed: 9,
            start_ms: T0,
            span_ms: 60 * MIN,
            ..GenConfig::default()
        })
        .collect(),
    };
    // Flood: 300 sources, 4 SYNs each, to port 80 within the minute from T0 + 10 min.
    for n in 0..300u32 {
        for k in 0..4i64 {
            let t = T0 + 10 * MIN + (n as i64 * 4 + k) * 40;
            s.flow(
                &source(n),
                1024 + k as u16,
                VICTIM,
                80,
                6,
                t,
                0,
                1,
                60,
                0x02,
            );
        }
    }
    // Reflection: 150 resolvers answer from port 53 to the victim's random ports, 8 each,
    // one every 100 ms over the two minutes from T0 + 20 min (75 resolvers, 600 flows each).
    for n in 0..150u32 {
        for k in 0..8i64 {
            let t = T0 + 20 * MIN + (n as i64 * 8 + k) * 100;
            let dp = 2000 + ((n * 8 + k as u32) * 7919 % 60000) as u16;
            s.flow(&source(5000 + n), 53, VICTIM, dp, 17, t, 0, 1, 3000, 0);
        }
    }
    // Busy but not an attack: 30 clients, 30 flows each in one minute (sources too few), and
    // 100 clients with two flows each (flows too few).
    for n in 0..30u32 {
        for k in 0..30i64 {
            let t = T0 + 30 * MIN + (n as i64 * 30 + k) * 60;
            s.flow(
                &source(9000 + n),
                40000,
                "192.0.2.81",
                443,
                6,
                t,
                100,
                10,
                3000,
                FSPA,
            );
        }
    }
    for n in 0..100u32 {
        for k in 0..2i64 {
            let t = T0 + 40 * MIN + (n as i64 * 2 + k) * 250;
            s.flow(
                &source(20000 + n),
                40000,
                "192.0.2.82",
                443,
                6,
                t,
                100,
                10,
                3000,
                FSPA,
            );
        }
    }
    let f = s.hunt(&ddos(DdosConfig::default()));
    let what: Vec<(&str, IpAddr)> = f.iter().map(|x| (x.kind, x.subject)).collect();
    assert_eq!(
        what,
        vec![("flood", ip(VICTIM)), ("reflection", ip(VICTIM))],
        "{f:#?}"
    );
    let flood = &f[0];
    assert_eq!(flood.facts["port"], 80);
    assert_eq!(flood.facts["sources"], 300);
    assert_eq!(flood.facts["flows"], 1200);
    assert_eq!(flood.facts["peak_sources"], 300);
    assert_eq!(flood.facts["bins"], 1);
    assert!((flood.score - 300.0 / 50.0).abs() < 1e-9);
    assert_eq!(flood.evidence.len(), 20);
    assert_eq!(flood.evidence_omitted, 1180);
    assert!(flood.evidence.iter().all(|e| e.flow.dst_port == 80));
    let refl = &f[1];
    assert_eq!(refl.facts["port"], 53);
    assert_eq!(refl.facts["protocol"], 17);
    assert_eq!(refl.facts["bins"], 2);
    assert_eq!(refl.facts["peak_sources"], 75);
    assert_eq!(refl.facts["sources"], 150);
    assert_eq!(refl.facts["flows"], 1200);
    assert!(refl.summary.contains("from port 53"), "{}", refl.summary);

    // Lower thresholds reach the busy services.
    let low = s.hunt(&ddos(DdosConfig {
        min_sources: 30,
        min_flows: 200,
        ..DdosConfig::default()
    }));
    for who in ["192.0.2.81", "192.0.2.82"] {
        assert!(low.iter().any(|x| x.subject == ip(who)), "{who}");
    }
}
