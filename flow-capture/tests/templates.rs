//! flow-capture on 127.0.0.1: templates scoped by exporter address and UDP source port, one log
//! line per new exporter, and the template cache that lets a restarted collector decode data
//! at once. The datagrams come from the project's encoder (flow-gen / flow-send's), two
//! "exporters" on one address reusing template ids 256 and 257 for swapped layouts.

mod common;

use common::*;
use flowkit_core::gen::{FlowGen, GenConfig};
use flowkit_core::netflow::encode::{ExportEncoder, ExportVersion};
use flowkit_core::FlowRecord;
use std::net::UdpSocket;
use std::time::Duration;

fn flows(seed: u64, n: u64) -> Vec<FlowRecord> {
    FlowGen::new(GenConfig {
        flows: n,
        seed,
        ipv6_permille: 300,
        ..GenConfig::default()
    })
    .collect()
}

fn datagrams(mut enc: ExportEncoder, flows: &[FlowRecord]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = flows;
    while !rest.is_empty() {
        let chunk;
        (chunk, rest) = rest.split_at(enc.fitting(rest));
        let export = chunk.iter().map(|f| f.end_ms).max().unwrap() + 1000;
        let mut d = Vec::new();
        enc.encode(chunk, export, &mut d).unwrap();
        out.push(d);
    }
    out
}

/// What the collector should write for `flows` from 127.0.0.1 (domain 1).
fn expected(flows: &[FlowRecord]) -> Vec<FlowRecord> {
    flows
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f.exporter = "127.0.0.1".parse().unwrap();
            (f.engine_type, f.engine_id) = (0, 1);
            f
        })
        .collect()
}

fn send_paced(socket: &UdpSocket, port: u16, d: &[u8]) {
    socket.send_to(d, ("127.0.0.1", port)).unwrap();
    std::thread::sleep(Duration::from_micros(300));
}

#[test]
fn two_exporters_on_one_address_reusing_template_ids_are_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(dir.path(), &[]);
    let (fa, fb) = (flows(11, 300), flows(12, 300));
    let ga = datagrams(ExportEncoder::new(ExportVersion::Ipfix, 0), &fa);
    let gb = datagrams(
        ExportEncoder::new(ExportVersion::Ipfix, 0).with_template_ids(257, 256),
        &fb,
    );
    let (sa, sb) = (
        UdpSocket::bind("127.0.0.1:0").unwrap(),
        UdpSocket::bind("127.0.0.1:0").unwrap(),
    );
    for i in 0..ga.len().max(gb.len()) {
        if let Some(d) = ga.get(i) {
            send_paced(&sa, c.port, d);
        }
        if let Some(d) = gb.get(i) {
            send_paced(&sb, c.port, d);
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let log = c.stop();
    let got = read_tree(dir.path());
    let mut want = expected(&fa);
    want.extend(expected(&fb));
    assert_eq!(got.len(), want.len(), "{log:?}");
    assert!(sorted(got) == sorted(want), "flows differ from those sent");
    for s in [&sa, &sb] {
        let line = format!(
            "new exporter: {} IPFIX observation domain 1",
            s.local_addr().unwrap()
        );
        let n = log.iter().filter(|l| l.ends_with(&line)).count();
        assert_eq!(n, 1, "{line:?} once in {log:?}");
    }
    let exit = log.iter().find(|l| l.contains("exit:")).expect("exit line");
    assert!(
        exit.contains("0 malformed") && exit.contains("0 sequence gaps"),
        "{exit}"
    );
}

#[test]
fn a_restarted_collector_decodes_data_with_the_cached_templates() {
    let dir = tempfile::tempdir().unwrap();
    let fl = flows(13, 600);
    let all = datagrams(
        ExportEncoder::new(ExportVersion::V9, fl[0].start_ms - 60_000),
        &fl,
    );
    // Datagram 0 carries the templates; the next one that does is datagram 20.
    assert!(all.len() > 12);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    // 1-second files: the two runs write files of their own.
    let c = start(dir.path(), &["--flush", "1s", "--rotate", "1s"]);
    for d in &all[..2] {
        send_paced(&socket, c.port, d);
    }
    // The cache is written at the next flush; then the collector dies without a clean exit.
    std::thread::sleep(Duration::from_millis(2500));
    let first = c.kill9();
    let cache = std::fs::read_to_string(dir.path().join(".templates")).expect("cache written");
    assert!(
        cache.contains(&format!(
            "T {} 9 1 256 data 0 ",
            socket.local_addr().unwrap()
        )),
        "{cache}\n{first:?}"
    );
    // Restarted, the same exporter (address and port) sends data only.
    let c = start(dir.path(), &["--rotate", "1s"]);
    for d in &all[2..12] {
        send_paced(&socket, c.port, d);
    }
    std::thread::sleep(Duration::from_millis(300));
    let log = c.stop();
    assert!(
        log.iter()
            .any(|l| l.contains("2 templates of 1 exporters loaded")),
        "{log:?}"
    );
    let exit = log.iter().find(|l| l.contains("exit:")).expect("exit line");
    assert!(exit.contains("0 sets before their template"), "{exit}");
    // What both runs wrote (the first run's flushed `tmp-` files too: it was killed): every
    // flow sent, those after the restart decoded with the cached templates.
    let (got, _) = read_tree_with(dir.path(), true);
    let count = |d: &Vec<u8>| u16::from_be_bytes([d[2], d[3]]) as usize;
    let before = count(&all[0]) - 2 + count(&all[1]); // datagram 0 counts its 2 templates
    let after: usize = all[2..12].iter().map(count).sum();
    assert_eq!(got.len(), before + after, "{log:?}");
    let want = expected(&fl[..before + after]);
    assert!(sorted(got) == sorted(want), "flows differ from those sent");
}

/// Real exporters' datagrams: pmacct and softflowd both use observation domain / source id 0
/// and template ids 1024, 1025, 2048 and 2049, with other layouts (pmacct's v9 IPv4 records are
/// 57 bytes, softflowd's 58). Replayed interleaved from two source ports of 127.0.0.1, each
/// capture must give exactly the flows flow-import decodes from it alone.
#[test]
fn real_exporters_on_one_address_reusing_template_ids_are_kept_apart() {
    use flowkit_core::netflow::pcap::CaptureReader;
    for pair in [
        ["pmacct-v9", "softflowd-v9-ether"],
        ["pmacct-ipfix", "softflowd-ipfix-milli"],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let c = start(dir.path(), &[]);
        let paths = capture_paths(&pair);
        let mut readers: Vec<CaptureReader> = paths
            .iter()
            .map(|p| CaptureReader::open(p).unwrap())
            .collect();
        let sockets = [
            UdpSocket::bind("127.0.0.1:0").unwrap(),
            UdpSocket::bind("127.0.0.1:0").unwrap(),
        ];
        let mut live = [true, true];
        while live.iter().any(|&l| l) {
            for k in 0..2 {
                if !live[k] {
                    continue;
                }
                match readers[k].next_datagram().unwrap() {
                    Some(d) => send_paced(&sockets[k], c.port, d.payload),
                    None => live[k] = false,
                }
            }
        }
        std::thread::sleep(Duration::from_millis(300));
        let log = c.stop();
        let got = read_tree(dir.path());
        let want = imported(&paths[..1])
            .into_iter()
            .chain(imported(&paths[1..]))
            .collect::<Vec<_>>();
        assert_eq!(got.len(), want.len(), "{pair:?}: {log:?}");
        assert!(sorted(got) == sorted(want), "{pair:?}: flows differ");
        let exit = log.iter().find(|l| l.contains("exit:")).expect("exit line");
        assert!(exit.contains(" 0 malformed"), "{pair:?}: {exit}");
    }
}
