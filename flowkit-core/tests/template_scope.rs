//! Templates scoped as RFC 7011 §8 and RFC 3954 say (exporter address, UDP source port,
//! observation domain / source id), one global memory cap on the decoder's state, flows with
//! times far from their export time counted, and the template cache that carries templates
//! across a collector restart.
//!
//! The datagrams come from the project's own encoder (the one flow-gen and flow-send use), which
//! is checked field for field against nfdump and tshark on real exports elsewhere; here two
//! "exporters" behind one address reuse template ids 256 and 257 for swapped layouts (IPv4 and
//! IPv6 records), so a decoder that mixes their templates decodes garbage or fails.

use flowkit_core::collect::import::Importer;
use flowkit_core::gen::{FlowGen, GenConfig};
use flowkit_core::netflow::encode::{ExportEncoder, ExportVersion};
use flowkit_core::netflow::exporter::PcapDatagramWriter;
use flowkit_core::netflow::{Decoder, DecoderConfig};
use flowkit_core::{FlowBlockBuf, FlowRecord};
use std::net::{IpAddr, SocketAddr, SocketAddrV4};

const NAT: &str = "192.0.2.7";

fn flows(seed: u64, n: u64) -> Vec<FlowRecord> {
    FlowGen::new(GenConfig {
        flows: n,
        seed,
        ipv6_permille: 300,
        ..GenConfig::default()
    })
    .collect()
}

/// The datagrams (and their export times) that carry `flows`.
fn datagrams(mut enc: ExportEncoder, flows: &[FlowRecord]) -> Vec<(Vec<u8>, i64)> {
    let mut out = Vec::new();
    let mut rest = flows;
    while !rest.is_empty() {
        let chunk;
        (chunk, rest) = rest.split_at(enc.fitting(rest));
        let export = chunk.iter().map(|f| f.end_ms).max().unwrap() + 1000;
        let mut d = Vec::new();
        enc.encode(chunk, export, &mut d).unwrap();
        out.push((d, export));
    }
    out
}

/// The two exporters' encoders: same domain, template ids 256/257 swapped.
fn encoders(version: ExportVersion, boot_ms: i64) -> [ExportEncoder; 2] {
    [
        ExportEncoder::new(version, boot_ms),
        ExportEncoder::new(version, boot_ms).with_template_ids(257, 256),
    ]
}

/// `want` as the decoder gives it: exporter address, engine type/id from the domain (1).
fn expected(want: &[FlowRecord], _got: &[FlowRecord]) -> Vec<FlowRecord> {
    want.iter()
        .map(|w| {
            let mut w = w.clone();
            w.exporter = NAT.parse().unwrap();
            (w.engine_type, w.engine_id) = (0, 1);
            w
        })
        .collect()
}

fn sorted(mut v: Vec<FlowRecord>) -> Vec<FlowRecord> {
    v.sort_by_cached_key(|r| format!("{r:?}"));
    v
}

/// Interleaves the two exporters' datagrams: A, B, A, B, ...
fn interleave(a: &[(Vec<u8>, i64)], b: &[(Vec<u8>, i64)]) -> Vec<(usize, Vec<u8>, i64)> {
    let mut out = Vec::new();
    for i in 0..a.len().max(b.len()) {
        for (k, side) in [a, b].iter().enumerate() {
            if let Some((d, t)) = side.get(i) {
                out.push((k, d.clone(), *t));
            }
        }
    }
    out
}

#[test]
fn two_exporters_behind_one_address_reusing_template_ids_decode_apart() {
    let (fa, fb) = (flows(1, 400), flows(2, 400));
    for version in [ExportVersion::Ipfix, ExportVersion::V9] {
        let boot = fa[0].start_ms.min(fb[0].start_ms) - 3_600_000;
        let [ea, eb] = encoders(version, boot);
        let all = interleave(&datagrams(ea, &fa), &datagrams(eb, &fb));
        let ports = [4000u16, 4001];
        let mut d = Decoder::default();
        let mut out = [FlowBlockBuf::default(), FlowBlockBuf::default()];
        for (k, g, t) in &all {
            let from = SocketAddr::new(NAT.parse().unwrap(), ports[*k]);
            let info = d.decode(g, from, *t, &mut out[*k]).unwrap();
            assert!(info.flows > 0);
        }
        for (k, want) in [&fa, &fb].into_iter().enumerate() {
            let got: Vec<FlowRecord> = out[k].view().records().collect();
            assert_eq!(got.len(), want.len(), "{version:?} exporter {k}");
            assert!(
                sorted(got.clone()) == sorted(expected(want, &got)),
                "{version:?} exporter {k}: flows differ from those encoded"
            );
        }
        let per: Vec<_> = d.exporter_stats().collect();
        assert_eq!(per.len(), 2, "{version:?}: one scope per source port");
        assert!(per
            .iter()
            .all(|(_, s)| s.sequence_gaps == 0 && s.malformed == 0));
        assert!(per.iter().all(|(_, s)| s.bad_times == 0));

        // The control: keyed by address alone (as before), the two garble each other.
        let mut d = Decoder::default();
        let mut out = FlowBlockBuf::default();
        let mut errors = 0;
        for (_, g, t) in &all {
            errors += d
                .decode(g, NAT.parse::<IpAddr>().unwrap(), *t, &mut out)
                .is_err() as usize;
        }
        let got: Vec<FlowRecord> = out.view().records().collect();
        let mut want = expected(&fa, &got);
        want.extend(expected(&fb, &got));
        assert!(
            errors > 0 || sorted(got) != sorted(want),
            "{version:?}: the control should garble"
        );
    }
}

#[test]
fn flow_import_keeps_exporters_on_one_address_apart_by_source_port() {
    let (fa, fb) = (flows(3, 300), flows(4, 300));
    let [ea, eb] = encoders(ExportVersion::Ipfix, 0);
    let all = interleave(&datagrams(ea, &fa), &datagrams(eb, &fb));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nat.pcap");
    let to: SocketAddrV4 = "198.51.100.1:2055".parse().unwrap();
    let from = |port| SocketAddrV4::new(NAT.parse().unwrap(), port);
    let mut w =
        PcapDatagramWriter::new(std::fs::File::create(&path).unwrap(), from(4000), to).unwrap();
    for (k, g, t) in &all {
        w.set_from(from(4000 + *k as u16));
        w.write(*t, g).unwrap();
    }
    drop(w.into_inner());
    let mut imp = Importer::default();
    let mut got = Vec::new();
    let mut warnings = Vec::new();
    imp.import_file(&path, &mut |m| warnings.push(m.to_string()), &mut |_, b| {
        got.extend(b.records());
        Ok(())
    })
    .unwrap();
    let s = imp.finish();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(!s.has_losses(), "{s}");
    let mut want = expected(&fa, &got);
    want.extend(expected(&fb, &got));
    assert_eq!(got.len(), want.len());
    assert!(
        sorted(got) == sorted(want),
        "flows differ from those encoded"
    );
}

/// An IPFIX message (export time `secs`) with one template set of `n` templates of `fields`
/// fields each, from id `first`, and a data set for a template that never comes.
fn flood_message(secs: u32, domain: u32, first: u16, n: u16, fields: u16) -> Vec<u8> {
    let mut m = vec![0, 10, 0, 0];
    m.extend_from_slice(&secs.to_be_bytes());
    m.extend_from_slice(&0u32.to_be_bytes());
    m.extend_from_slice(&domain.to_be_bytes());
    let mut set = Vec::new();
    for t in 0..n {
        set.extend_from_slice(&(first + t).to_be_bytes());
        set.extend_from_slice(&fields.to_be_bytes());
        for f in 0..fields {
            set.extend_from_slice(&(1000 + f).to_be_bytes());
            set.extend_from_slice(&4u16.to_be_bytes());
        }
    }
    m.extend_from_slice(&2u16.to_be_bytes());
    m.extend_from_slice(&((set.len() + 4) as u16).to_be_bytes());
    m.extend_from_slice(&set);
    m.extend_from_slice(&60000u16.to_be_bytes());
    m.extend_from_slice(&404u16.to_be_bytes());
    m.extend_from_slice(&[0xAB; 400]);
    let len = m.len() as u16;
    m[2..4].copy_from_slice(&len.to_be_bytes());
    m
}

#[test]
fn a_template_flood_from_many_ports_and_domains_stays_under_the_memory_cap() {
    let cap = 2 << 20;
    let mut d = Decoder::new(DecoderConfig {
        max_memory: cap,
        ..DecoderConfig::default()
    });
    // A well-behaved exporter among the flood, on the same address.
    let good_flows = flows(5, 2000);
    let good = datagrams(ExportEncoder::new(ExportVersion::Ipfix, 0), &good_flows);
    let good_from: SocketAddr = format!("{NAT}:2055").parse().unwrap();
    let mut good_out = FlowBlockBuf::default();
    let mut junk = FlowBlockBuf::default();
    let mut now = 1_717_372_800_000i64;
    let mut sent_good = 0;
    let mut flood = 0u32;
    for port in 10_000u16..10_400 {
        for domain in 0..8u32 {
            now += 1;
            let from = SocketAddr::new(NAT.parse().unwrap(), port);
            let m = flood_message((now / 1000) as u32, domain, 256, 20, 60);
            let _ = d.decode(&m, from, now, &mut junk);
            flood += 1;
            let m = d.memory();
            assert!(
                m.bytes <= m.cap,
                "over the cap after {flood} datagrams: {m:?}"
            );
            if flood.is_multiple_of(10) && sent_good < good.len() {
                let (g, _) = &good[sent_good];
                d.decode(g, good_from, now, &mut good_out).unwrap();
                sent_good += 1;
            }
        }
    }
    while sent_good < good.len() {
        let (g, t) = &good[sent_good];
        d.decode(g, good_from, *t, &mut good_out).unwrap();
        sent_good += 1;
    }
    let m = d.memory();
    assert!(m.peak <= cap && m.bytes <= cap, "{m:?}");
    assert_eq!(m.bytes, d.memory_recount(), "the running total drifted");
    let s = d.stats();
    // 400 scopes of 8 domains of 20 templates of 60 fields (about 45 MB) cannot all stay.
    assert!(s.evicted_exporters > 300, "{s}");
    assert!(s.evicted_templates > 20_000, "{s}");
    assert!(
        s.evicted_held > 0 && s.held_dropped >= s.evicted_held,
        "{s}"
    );
    assert_eq!(s.datagrams, flood as u64 + good.len() as u64);
    // The exporter heard every few datagrams kept its templates: every flow decoded.
    assert_eq!(good_out.len(), good_flows.len());
    assert!(s.has_losses());
    assert!(s.to_string().contains("evicted for the memory cap"), "{s}");
}

#[test]
fn flows_with_times_far_from_their_export_time_are_kept_and_counted() {
    let base = flows(6, 60);
    let mut enc = ExportEncoder::new(ExportVersion::Ipfix, 0);
    let export = base.iter().map(|f| f.end_ms).max().unwrap() + 1000;
    let mut fl = base.clone();
    // 1985, three days after the export, a day after it (nfreplay's headers run a day behind
    // its flows: not counted).
    fl[0].start_ms = 473_385_600_000;
    fl[1].end_ms = export + 3 * 86_400_000;
    fl[2].end_ms = export + 86_400_000 + 3_600_000;
    let mut d = Decoder::default();
    let mut out = FlowBlockBuf::default();
    let from: SocketAddr = format!("{NAT}:2055").parse().unwrap();
    let mut rest = &fl[..];
    while !rest.is_empty() {
        let chunk;
        (chunk, rest) = rest.split_at(enc.fitting(rest));
        let mut g = Vec::new();
        enc.encode(chunk, export, &mut g).unwrap();
        d.decode(&g, from, export, &mut out).unwrap();
    }
    assert_eq!(out.len(), fl.len(), "flows are kept");
    let s = d.stats();
    assert_eq!(s.bad_times, 2, "{s}");
    let (who, per) = d.exporter_stats().next().unwrap();
    assert_eq!((who, per.bad_times), (from, 2));
    assert!(
        s.has_losses() && s.to_string().contains("2 flows with times"),
        "{s}"
    );
}

#[test]
fn templates_saved_and_loaded_decode_data_without_a_template() {
    let (fa, fb) = (flows(7, 200), flows(8, 200));
    for version in [ExportVersion::Ipfix, ExportVersion::V9] {
        let boot = fa[0].start_ms.min(fb[0].start_ms) - 3_600_000;
        let [ea, eb] = encoders(version, boot);
        let (ga, gb) = (datagrams(ea, &fa), datagrams(eb, &fb));
        let from = |k: u16| SocketAddr::new(NAT.parse().unwrap(), 4000 + k);
        // The first datagram of each carries the templates.
        let mut d = Decoder::default();
        let mut out = [FlowBlockBuf::default(), FlowBlockBuf::default()];
        d.decode(&ga[0].0, from(0), ga[0].1, &mut out[0]).unwrap();
        d.decode(&gb[0].0, from(1), gb[0].1, &mut out[1]).unwrap();
        // A scope that only sent templates (a flood) is not worth caching.
        let flood = flood_message((ga[0].1 / 1000) as u32, 1, 256, 20, 8);
        let _ = d.decode(&flood, from(9), ga[0].1, &mut out[0]);
        let text = d.save_templates();
        assert_eq!(text.lines().filter(|l| l.starts_with("T ")).count(), 4);
        // A restarted decoder gets the rest (no template until the 20th datagram).
        let mut d2 = Decoder::default();
        assert_eq!(d2.load_templates(&text, 0).unwrap(), 4);
        assert_eq!(d2.save_templates(), text, "round trip");
        for (k, g) in [(0usize, &ga), (1, &gb)] {
            for (dg, t) in &g[1..] {
                d2.decode(dg, from(k as u16), *t, &mut out[k]).unwrap();
            }
        }
        assert_eq!(d2.stats().unknown_template, 0, "{version:?}");
        for (k, want) in [&fa, &fb].into_iter().enumerate() {
            let got: Vec<FlowRecord> = out[k].view().records().collect();
            assert!(
                sorted(got.clone()) == sorted(expected(want, &got)),
                "{version:?} exporter {k}"
            );
        }
    }
    // A damaged cache names the line; the lines before it stay loaded.
    let mut d = Decoder::default();
    let bad = "# flowkit template cache 1\nT 192.0.2.7:4000 10 1 256 data 0 8/4 12/4\nT x\n";
    let e = d.load_templates(bad, 0).unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert_eq!(d.save_templates().lines().count(), 2);
    assert!(d.load_templates("something else\n", 0).is_err());
}

/// Real exporters that reuse template ids (pmacct and softflowd: domain 0, ids 1024/1025/2048/
/// 2049, other layouts) interleaved from one address: keyed by address and port, each gives the
/// flows it gives alone; keyed by address alone (the control), they garble.
#[test]
fn real_exporters_reusing_template_ids_decode_apart() {
    use flowkit_core::netflow::pcap::CaptureReader;
    use flowkit_core::testing::testdata;
    let read = |name: &str| {
        let mut r =
            CaptureReader::open(&testdata::path(&format!("exports/{name}.pcap.gz"))).unwrap();
        let mut v = Vec::new();
        while let Some(d) = r.next_datagram().unwrap() {
            v.push((d.payload.to_vec(), d.ts_ms));
        }
        v
    };
    for pair in [
        ["pmacct-v9", "softflowd-v9-ether"],
        ["pmacct-ipfix", "softflowd-ipfix-milli"],
    ] {
        let (a, b) = (read(pair[0]), read(pair[1]));
        let all = interleave(&a, &b);
        let alone = |dgrams: &[(Vec<u8>, i64)]| {
            let mut d = Decoder::default();
            let mut out = FlowBlockBuf::default();
            for (g, t) in dgrams {
                d.decode(g, NAT.parse::<IpAddr>().unwrap(), *t, &mut out)
                    .unwrap();
            }
            out.view().records().collect::<Vec<_>>()
        };
        let mut want = alone(&a);
        want.extend(alone(&b));
        let mut d = Decoder::default();
        let mut out = FlowBlockBuf::default();
        for (k, g, t) in &all {
            let from = SocketAddr::new(NAT.parse().unwrap(), 4000 + *k as u16);
            d.decode(g, from, *t, &mut out).unwrap();
        }
        let got: Vec<FlowRecord> = out.view().records().collect();
        assert_eq!(got.len(), want.len(), "{pair:?}");
        assert!(
            sorted(got) == sorted(want.clone()),
            "{pair:?}: flows differ"
        );
        // The control.
        let mut d = Decoder::default();
        let mut out = FlowBlockBuf::default();
        for (_, g, t) in &all {
            let _ = d.decode(g, NAT.parse::<IpAddr>().unwrap(), *t, &mut out);
        }
        let mixed: Vec<FlowRecord> = out.view().records().collect();
        assert!(
            sorted(mixed) != sorted(want),
            "{pair:?}: the control should garble"
        );
    }
}

/// At the exporter limit, a new scope replaces one silent for longer than the held-data age
/// (an exporter restarted on a new source port), counted as evicted; while every scope is
/// recent, the new one is refused and counted.
#[test]
fn a_new_source_port_replaces_a_long_silent_scope_at_the_exporter_limit() {
    let mut d = Decoder::new(DecoderConfig {
        max_exporters: 2,
        ..DecoderConfig::default()
    });
    let fl = flows(9, 40);
    let g = datagrams(ExportEncoder::new(ExportVersion::Ipfix, 0), &fl);
    let (dg, t) = &g[0];
    let at = |port| SocketAddr::new(NAT.parse().unwrap(), port);
    let mut out = FlowBlockBuf::default();
    d.decode(dg, at(1), *t, &mut out).unwrap();
    d.decode(dg, at(2), *t, &mut out).unwrap();
    assert!(
        d.decode(dg, at(3), *t + 60_000, &mut out).is_err(),
        "all recent: refused"
    );
    let later = *t + 31 * 60_000;
    d.decode(dg, at(2), later, &mut out).unwrap();
    d.decode(dg, at(3), later, &mut out).unwrap();
    let s = d.stats();
    assert_eq!((s.refused, s.evicted_exporters), (1, 1), "{s}");
    let mut left: Vec<u16> = d.exporter_stats().map(|(a, _)| a.port()).collect();
    left.sort();
    assert_eq!(left, [2, 3]);
    assert_eq!(
        s.datagrams, 4,
        "the evicted scope's counters stay in the totals"
    );
    assert_eq!(d.memory().bytes, d.memory_recount());
}
