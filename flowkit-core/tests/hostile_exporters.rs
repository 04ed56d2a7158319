//! Hostile exporters against a running collector (`collect::run` on 127.0.0.1, in process):
//! a template flood over many observation domains and source ids, data for templates that never
//! come, sequence numbers that jump, an exporter flood, and datagrams from addresses outside
//! `--allow`, all interleaved with a well-behaved exporter replaying a real capture.
//!
//! Promised: the decoder never holds more than its configured limits (templates, domains, held
//! sets and bytes per exporter, exporters), the well-behaved exporter's flows all arrive (exactly
//! the flows flow-import decodes from the same capture), and every datagram is accounted for:
//! received = not allowed + queue full + decoded + refused, and every data set that came before
//! its template was decoded later or counted as dropped.

use flowkit_core::archive::tree::TreeLayout;
use flowkit_core::collect::import::Importer;
use flowkit_core::collect::{self, CollectorConfig, CollectorStats};
use flowkit_core::netflow::pcap::CaptureReader;
use flowkit_core::netflow::DecoderConfig;
use flowkit_core::pipeline::input::expand_inputs;
use flowkit_core::pipeline::scan::{ScanOptions, Scanner};
use flowkit_core::{testing::testdata, FlowBlock, FlowRecord};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const GOOD: &str = "127.0.0.1";
const CAPTURE: &str = "exports/scenario-ipfix.pcap.gz";

fn limits() -> DecoderConfig {
    DecoderConfig {
        max_exporters: 8,
        max_templates_per_exporter: 32,
        max_domains_per_exporter: 4,
        max_held_sets_per_exporter: 16,
        max_held_bytes_per_exporter: 16 << 10,
        ..DecoderConfig::default()
    }
}

fn now_secs() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

/// An IPFIX message (export time now) from sets `(set id, body)`.
fn ipfix(seq: u32, domain: u32, sets: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut m = vec![0, 10, 0, 0];
    m.extend_from_slice(&now_secs().to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&domain.to_be_bytes());
    for (id, body) in sets {
        m.extend_from_slice(&id.to_be_bytes());
        m.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
        m.extend_from_slice(body);
    }
    let len = m.len() as u16;
    m[2..4].copy_from_slice(&len.to_be_bytes());
    m
}

/// A NetFlow v9 datagram from sets.
fn v9(seq: u32, source: u32, sets: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut m = vec![0, 9, 0, sets.len() as u8];
    m.extend_from_slice(&10_000u32.to_be_bytes());
    m.extend_from_slice(&now_secs().to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(&source.to_be_bytes());
    for (id, body) in sets {
        m.extend_from_slice(&id.to_be_bytes());
        m.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
        m.extend_from_slice(body);
    }
    m
}

/// Template records `ids`, each src/dst IPv4, ports, protocol, packets, octets.
fn templates(ids: impl Iterator<Item = u16>) -> Vec<u8> {
    let fields: [(u16, u16); 7] = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (2, 4), (1, 4)];
    let mut b = Vec::new();
    for id in ids {
        b.extend_from_slice(&id.to_be_bytes());
        b.extend_from_slice(&(fields.len() as u16).to_be_bytes());
        for (ie, len) in fields {
            b.extend_from_slice(&ie.to_be_bytes());
            b.extend_from_slice(&len.to_be_bytes());
        }
    }
    b
}

/// `n` records of the template above.
fn records(n: usize) -> Vec<u8> {
    let mut b = Vec::new();
    for i in 0..n {
        b.extend_from_slice(&[10, 0, 0, i as u8, 10, 0, 1, 1, 0x30, 0x39, 0, 80, 6]);
        b.extend_from_slice(&3u32.to_be_bytes());
        b.extend_from_slice(&180u32.to_be_bytes());
    }
    b
}

/// The hostile traffic, as (sender address, datagram).
fn hostile() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    // 1. Template flood: 100 messages over 50 domains, each defining 40 templates (2,000 per
    //    domain and 200,000 in all), and the same from v9 source ids.
    for k in 0..100u32 {
        let domain = k % 50;
        let base = 256 + (k as u16 * 40) % 60_000;
        out.push((
            "127.0.0.2",
            ipfix(k, domain, &[(2, templates(base..base + 40))]),
        ));
        out.push((
            "127.0.0.2",
            v9(k, domain, &[(0, templates(base..base + 40))]),
        ));
    }
    // 2. Data for templates that never come: 200 sets of 20 records each, to 200 template ids.
    for k in 0..200u32 {
        out.push((
            "127.0.0.3",
            ipfix(k * 20, 1, &[(40_000 + k as u16, records(20))]),
        ));
    }
    // 3. Sequence numbers that jump (each message a "gap"), with valid flows.
    out.push(("127.0.0.4", ipfix(0, 7, &[(2, templates(300..301))])));
    for k in 1..=50u32 {
        out.push((
            "127.0.0.4",
            ipfix(k.wrapping_mul(2_654_435_761), 7, &[(300, records(5))]),
        ));
    }
    // 4. An exporter flood: 20 more exporters (the limit is 8 in all).
    for k in 0..20u8 {
        let addr: &'static str = Box::leak(format!("127.0.1.{}", k + 1).into_boxed_str());
        out.push((addr, ipfix(0, 1, &[(2, templates(256..257))])));
    }
    // 5. Not allowed.
    for k in 0..30u32 {
        out.push(("127.0.0.9", ipfix(k, 1, &[(2, templates(256..258))])));
    }
    out
}

fn capture_datagrams() -> Vec<Vec<u8>> {
    let mut r = CaptureReader::open(&testdata::path(CAPTURE)).unwrap();
    let mut out = Vec::new();
    while let Some(d) = r.next_datagram().unwrap() {
        out.push(d.payload.to_vec());
    }
    out
}

fn read_tree(dir: &std::path::Path) -> Vec<FlowRecord> {
    let inputs = expand_inputs(&[dir.display().to_string()], false).unwrap();
    let mut out = Vec::new();
    Scanner::new(ScanOptions::default(), |m| panic!("{m}"))
        .run(&inputs, &mut |batch: &[FlowBlock<'_>]| {
            batch.iter().for_each(|b| out.extend(b.records()));
            Ok(())
        })
        .unwrap();
    out
}

fn sorted(mut v: Vec<FlowRecord>) -> Vec<FlowRecord> {
    v.sort_by_cached_key(|r| format!("{r:?}"));
    v
}

#[test]
fn hostile_exporters_are_bounded_counted_and_do_not_hurt_a_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let socket = collect::bind("127.0.0.1:0".parse().unwrap(), 8 << 20).unwrap();
    let port = socket.local_addr().unwrap().port();
    let mut cfg = CollectorConfig::new(TreeLayout {
        tz: jiff::tz::TimeZone::UTC,
        ..TreeLayout::new(dir.path())
    });
    cfg.decoder = limits();
    // Everyone but 127.0.0.9 (127.0.1.0/24 holds the exporter flood).
    cfg.allow = [
        "127.0.0.1/32",
        "127.0.0.2/31",
        "127.0.0.4/32",
        "127.0.1.0/24",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let run = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut log = Vec::new();
            let stats = collect::run(socket, cfg, stop, &mut |m| log.push(m.to_string()));
            (stats, log)
        })
    };

    // The good exporter first (so it is tracked before the exporter flood), then everything
    // interleaved, paced so no socket buffer overflows.
    let good = capture_datagrams();
    let bad = hostile();
    let mut sockets: std::collections::HashMap<&str, UdpSocket> = Default::default();
    let dest: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut send = |from: &'static str, d: &[u8]| {
        let s = sockets
            .entry(from)
            .or_insert_with(|| UdpSocket::bind((from, 0)).unwrap());
        s.send_to(d, dest).unwrap();
        std::thread::sleep(Duration::from_micros(150));
    };
    let (first, rest) = good.split_at(5);
    first.iter().for_each(|d| send(GOOD, d));
    let step = bad.len() / rest.len() + 1;
    let mut bad_iter = bad.iter();
    for g in rest {
        send(GOOD, g);
        for (from, d) in bad_iter.by_ref().take(step) {
            send(from, d);
        }
    }
    for (from, d) in bad_iter {
        send(from, d);
    }
    let sent = (good.len() + bad.len()) as u64;
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    let (stats, log) = run.join().unwrap();
    let stats: CollectorStats = stats.unwrap();
    eprintln!("{}", log.last().unwrap());

    // Memory: never over the limits.
    let l = limits();
    let p = stats.peak_usage;
    assert!(stats.exporters <= l.max_exporters, "{stats}");
    assert!(p.templates <= l.max_templates_per_exporter, "{p:?}");
    assert!(p.domains <= l.max_domains_per_exporter, "{p:?}");
    assert!(p.held_sets <= l.max_held_sets_per_exporter, "{p:?}");
    assert!(p.held_bytes <= l.max_held_bytes_per_exporter, "{p:?}");
    // ... and the limits were reached, so they were what bounded it.
    assert_eq!(p.templates, l.max_templates_per_exporter, "{p:?}");
    assert_eq!(p.domains, l.max_domains_per_exporter, "{p:?}");
    assert_eq!(p.held_sets, l.max_held_sets_per_exporter, "{p:?}");

    // Every datagram accounted for.
    assert_eq!(stats.kernel_drops, Some(0), "{stats}");
    assert_eq!(stats.received, sent, "{stats}");
    assert_eq!(
        stats.received,
        stats.not_allowed + stats.queue_full + stats.decode.datagrams + stats.decode.refused,
        "{stats}"
    );
    assert_eq!(stats.not_allowed, 30);
    assert_eq!(
        stats.decode.refused,
        20 - (l.max_exporters as u64 - 4),
        "{stats}"
    );
    let d = stats.decode;
    assert_eq!(
        d.unknown_template,
        d.held_decoded + d.held_dropped,
        "{stats}"
    );
    let unknown = stats.of_address("127.0.0.3".parse().unwrap());
    assert_eq!(unknown.unknown_template, 200);
    assert_eq!(unknown.held_dropped, 200);
    let flood = stats.of_address("127.0.0.2".parse().unwrap());
    assert!(
        flood.malformed > 0,
        "template refusals are counted: {flood:?}"
    );
    let jumpy = stats.of_address("127.0.0.4".parse().unwrap());
    assert_eq!(jumpy.sequence_gaps, 50, "{jumpy:?}");
    assert_eq!(jumpy.flows, 250, "flows after a sequence jump are kept");

    // The good exporter: exactly the flows flow-import decodes from the same capture.
    let mut imp = Importer::default();
    let mut want = Vec::new();
    imp.import_file(
        &testdata::path(CAPTURE),
        &mut |m| panic!("{m}"),
        &mut |_, b| {
            want.extend(b.records());
            Ok(())
        },
    )
    .unwrap();
    let good_ip: IpAddr = GOOD.parse().unwrap();
    let got: Vec<FlowRecord> = read_tree(dir.path())
        .into_iter()
        .filter(|r| r.exporter == good_ip)
        .collect();
    assert_eq!(got.len(), want.len());
    assert!(
        sorted(got) == sorted(want),
        "the good exporter's flows differ"
    );
    let good_stats = stats.of_address(good_ip);
    assert_eq!(good_stats.malformed, 0);
    assert_eq!(good_stats.held_dropped, 0);
}
