//! Decode throughput (flows/s per core) for NetFlow v5, v9 and IPFIX.
//!
//! `cargo bench -p flowkit-core --bench decode` — divan prints time per iteration and
//! item throughput (flows/s). Two inputs: the shipped captures of the shared traffic story
//! (softflowd v5/v9/IPFIX, datagrams pre-extracted, so pcap parsing is not timed) and
//! synthetic full datagrams (v5: 30 records; v9/IPFIX: one 18-field template, 30 records of
//! 45 bytes, as in shared/notes/rust-crates.md). Each iteration decodes every datagram into a
//! reused `FlowBlockBuf` (cleared when it reaches 64k flows, as a writer would drain it).

use divan::counter::ItemsCount;
use divan::Bencher;
use flowkit_core::netflow::pcap::CaptureReader;
use flowkit_core::netflow::Decoder;
use flowkit_core::FlowBlockBuf;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};

fn main() {
    divan::main();
}

const EXPORTER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

fn capture_datagrams(name: &str) -> Vec<Vec<u8>> {
    let path = format!(
        "{}/../testdata/exports/{name}.pcap.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let gz = std::fs::read(&path).expect("capture");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut bytes)
        .expect("gunzip");
    let mut r = CaptureReader::from_bytes(name, bytes).expect("pcap");
    let mut out = Vec::new();
    while let Some(d) = r.next_datagram().expect("pcap") {
        out.push(d.payload.to_vec());
    }
    out
}

fn count_flows(dgrams: &[Vec<u8>]) -> usize {
    let mut d = Decoder::default();
    let mut out = FlowBlockBuf::default();
    for g in dgrams {
        let _ = d.decode(g, EXPORTER, 0, &mut out);
    }
    out.len()
}

fn run(bencher: Bencher, dgrams: Vec<Vec<u8>>) {
    let flows = count_flows(&dgrams);
    let mut d = Decoder::default();
    let mut out = FlowBlockBuf::default();
    // Templates learned once, as a running collector has them.
    for g in &dgrams {
        let _ = d.decode(g, EXPORTER, 0, &mut out);
    }
    out.clear();
    bencher.counter(ItemsCount::new(flows)).bench_local(|| {
        for g in &dgrams {
            let _ = d.decode(divan::black_box(g), EXPORTER, 0, &mut out);
            if out.len() >= 65_536 {
                out.clear();
            }
        }
    });
}

#[divan::bench(args = ["scenario-v5", "scenario-v9", "scenario-ipfix", "pmacct-ipfix"])]
fn capture(bencher: Bencher, name: &str) {
    run(bencher, capture_datagrams(name));
}

/// 18 fields, 45 bytes: src, dst, nexthop, sport, dport, proto, tos, flags, packets, octets,
/// in, out, src as, dst as, masks, start and end (sysUpTime).
const FIELDS: [(u16, u16); 18] = [
    (8, 4),
    (12, 4),
    (15, 4),
    (7, 2),
    (11, 2),
    (4, 1),
    (5, 1),
    (6, 1),
    (2, 4),
    (1, 4),
    (10, 2),
    (14, 2),
    (16, 2),
    (17, 2),
    (9, 1),
    (13, 1),
    (22, 4),
    (21, 4),
];

fn record(i: u32) -> Vec<u8> {
    let mut r = Vec::with_capacity(45);
    r.extend_from_slice(&(0x0A00_0000 + i).to_be_bytes());
    r.extend_from_slice(&(0xC0A8_0000 + i * 7).to_be_bytes());
    r.extend_from_slice(&[10, 0, 0, 1]);
    r.extend_from_slice(&((1024 + i) as u16).to_be_bytes());
    r.extend_from_slice(&443u16.to_be_bytes());
    r.extend_from_slice(&[6, 0, 0x1B]);
    r.extend_from_slice(&(i % 50 + 1).to_be_bytes());
    r.extend_from_slice(&(i * 100 + 40).to_be_bytes());
    r.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 0, 24, 24]);
    r.extend_from_slice(&(50_000 + i).to_be_bytes());
    r.extend_from_slice(&(59_000 + i).to_be_bytes());
    r
}

fn template_set(v9: bool) -> Vec<u8> {
    let mut s = vec![0, if v9 { 0 } else { 2 }, 0, 0, 1, 0, 0, FIELDS.len() as u8];
    for (ie, len) in FIELDS {
        s.extend_from_slice(&ie.to_be_bytes());
        s.extend_from_slice(&len.to_be_bytes());
    }
    let len = s.len() as u16;
    s[2..4].copy_from_slice(&len.to_be_bytes());
    s
}

fn datagram(v9: bool, seq: u32, with_template: bool) -> Vec<u8> {
    let mut g = if v9 {
        let mut h = vec![0, 9, 0, 30];
        h.extend_from_slice(&60_000u32.to_be_bytes());
        h.extend_from_slice(&1_289_311_200u32.to_be_bytes());
        h.extend_from_slice(&seq.to_be_bytes());
        h.extend_from_slice(&0u32.to_be_bytes());
        h
    } else {
        let mut h = vec![0, 10, 0, 0];
        h.extend_from_slice(&1_289_311_200u32.to_be_bytes());
        h.extend_from_slice(&(seq * 30).to_be_bytes());
        h.extend_from_slice(&0u32.to_be_bytes());
        h
    };
    if with_template {
        g.extend(template_set(v9));
    }
    let mut set = vec![1, 0, 0, 0];
    for i in 0..30 {
        set.extend(record(seq * 30 + i));
    }
    let len = set.len() as u16;
    set[2..4].copy_from_slice(&len.to_be_bytes());
    g.extend(set);
    if !v9 {
        let len = g.len() as u16;
        g[2..4].copy_from_slice(&len.to_be_bytes());
    }
    g
}

fn v5_datagram(seq: u32) -> Vec<u8> {
    let mut g = vec![0, 5, 0, 30];
    g.extend_from_slice(&60_000u32.to_be_bytes());
    g.extend_from_slice(&1_289_311_200u32.to_be_bytes());
    g.extend_from_slice(&0u32.to_be_bytes());
    g.extend_from_slice(&(seq * 30).to_be_bytes());
    g.extend_from_slice(&[0, 0, 0, 0]);
    for i in 0..30u32 {
        let mut r = Vec::with_capacity(48);
        r.extend_from_slice(&(0x0A00_0000 + i).to_be_bytes());
        r.extend_from_slice(&(0xC0A8_0000 + i * 7).to_be_bytes());
        r.extend_from_slice(&[10, 0, 0, 1, 0, 1, 0, 2]);
        r.extend_from_slice(&(i % 50 + 1).to_be_bytes());
        r.extend_from_slice(&(i * 100 + 40).to_be_bytes());
        r.extend_from_slice(&(50_000 + i).to_be_bytes());
        r.extend_from_slice(&(59_000 + i).to_be_bytes());
        r.extend_from_slice(&((1024 + i) as u16).to_be_bytes());
        r.extend_from_slice(&[1, 187, 0, 0x1B, 6, 0, 0, 0, 0, 0, 24, 24, 0, 0]);
        g.extend(r);
    }
    g
}

#[divan::bench(args = ["v5", "v9", "ipfix"])]
fn synthetic(bencher: Bencher, version: &str) {
    let dgrams: Vec<Vec<u8>> = (0..2000)
        .map(|i| match version {
            "v5" => v5_datagram(i),
            "v9" => datagram(true, i, i % 100 == 0),
            _ => datagram(false, i, i % 100 == 0),
        })
        .collect();
    run(bencher, dgrams);
}
