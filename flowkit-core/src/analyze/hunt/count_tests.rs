//! Biflows and sampled flows in the detectors: a record's reverse counters are the other half
//! of its connection whichever side the exporter put first, and sampled volumes are scaled.

use super::scan::{Scan, ScanConfig};
use super::ssh::{ConnClass, SshConfig, SshTable};
use super::{run_on_blocks, tcp};
use crate::model::block::FlowBlockBuf;
use crate::FlowRecord;

fn ssh_flow(src: &str, dst: &str, sp: u16, dp: u16) -> FlowRecord {
    FlowRecord {
        start_ms: 1_000,
        end_ms: 31_000,
        src_addr: src.parse().unwrap(),
        dst_addr: dst.parse().unwrap(),
        src_port: sp,
        dst_port: dp,
        protocol: 6,
        tcp_flags: tcp::SYN | tcp::ACK | tcp::PSH | tcp::FIN,
        ..FlowRecord::default()
    }
}

#[test]
fn a_biflow_from_either_side_is_both_halves_of_its_connection() {
    let cfg = SshConfig::default();
    // Client first (as softflowd -b exports the initiator), then server first.
    let mut client_first = ssh_flow("10.0.0.2", "10.0.0.1", 40000, 22);
    (client_first.packets, client_first.octets) = (30, 9_000);
    (client_first.rev_packets, client_first.rev_octets) = (25, 30_000);
    let mut server_first = ssh_flow("10.0.0.1", "10.0.0.2", 22, 40000);
    (server_first.packets, server_first.octets) = (25, 30_000);
    (server_first.rev_packets, server_first.rev_octets) = (30, 9_000);
    for r in [client_first, server_first] {
        let buf = FlowBlockBuf::from_records(&[r]);
        let mut t = SshTable::default();
        t.observe(&cfg, &buf.view());
        let c = t.conns.values().next().unwrap();
        assert_eq!((c.fwd_packets, c.fwd_octets), (30, 9_000));
        assert_eq!((c.rev_packets, c.rev_octets), (25, 30_000));
        assert_eq!((c.fwd_flows, c.rev_flows), (1, 1));
        assert_eq!(cfg.classify(c), ConnClass::Session);
    }
}

#[test]
fn sampled_volumes_are_scaled_but_a_sampled_syn_stays_a_probe() {
    let mut session = ssh_flow("10.0.0.2", "10.0.0.1", 40000, 22);
    (session.packets, session.octets, session.sampling_interval) = (3, 900, 10);
    (session.rev_packets, session.rev_octets) = (2, 3_000);
    let mut syn = ssh_flow("10.0.0.3", "10.0.0.1", 40001, 22);
    (syn.packets, syn.octets, syn.sampling_interval) = (1, 40, 10);
    let buf = FlowBlockBuf::from_records(&[session, syn]);
    for raw in [false, true] {
        let cfg = SshConfig {
            raw_counts: raw,
            ..SshConfig::default()
        };
        let mut t = SshTable::default();
        t.observe(&cfg, &buf.view());
        let mut conns: Vec<_> = t.conns.iter().collect();
        conns.sort_by_key(|(k, _)| k.client);
        let (s, p) = (conns[0].1, conns[1].1);
        let k = if raw { 1 } else { 10 };
        assert_eq!((s.packets(), s.octets()), (5 * k, 3_900 * k));
        assert_eq!(p.fwd_packets, k);
        assert_eq!(cfg.classify(p), ConnClass::Probe, "raw {raw}");
        let want = if raw {
            ConnClass::Probe
        } else {
            ConnClass::Session
        };
        assert_eq!(cfg.classify(s), want, "raw {raw}");
    }
}

/// A horizontal sweep of biflow probes: the target whose record shows reverse packets and
/// the scanner's RST (it tore down a SYN/ACK) answered; one with reverse packets but no RST
/// from the scanner (the target refused with RST) did not; UDP answers count.
#[test]
fn biflow_probes_carry_their_answers() {
    let mut flows = Vec::new();
    for i in 1..=60u32 {
        for (proto, port) in [(6u8, 22u16), (17, 161)] {
            let mut r = ssh_flow(
                "10.9.9.9",
                &format!("10.0.{}.{}", i / 250, i % 250),
                6000,
                port,
            );
            (r.protocol, r.start_ms, r.end_ms) = (proto, i as i64, i as i64);
            (r.packets, r.octets, r.tcp_flags) = (1, 40, tcp::SYN);
            match (proto, i) {
                (6, 7) => (r.tcp_flags, r.packets, r.rev_packets) = (tcp::SYN | tcp::RST, 2, 1),
                (6, 8) => r.rev_packets = 1,
                (17, 9) => r.rev_packets = 1,
                _ => {}
            }
            flows.push(r);
        }
    }
    let buf = FlowBlockBuf::from_records(&flows);
    let mut det = Scan::new(ScanConfig::default());
    let found = run_on_blocks(&mut det, &[buf.view()]);
    let answered = |port: u64| {
        let f = found
            .iter()
            .find(|f| f.kind == "horizontal" && f.facts["port"] == port)
            .unwrap();
        f.facts["answered_by"].clone()
    };
    assert_eq!(answered(22), serde_json::json!(["10.0.0.7"]));
    assert_eq!(answered(161), serde_json::json!(["10.0.0.9"]));
}
