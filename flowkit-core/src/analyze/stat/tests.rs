//! flow-stat's numbers against sums computed here independently (record by record), and
//! against nfdump's view of the story capture; the SVG parsed back as XML.

use super::*;
use crate::model::block::FlowBlockBuf;
use crate::model::record::FlowRecord;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// Deterministic pseudo-random flows over a day, IPv4 and IPv6 mixed.
fn random_flows(n: usize) -> Vec<FlowRecord> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|_| {
            let r = next();
            let src: IpAddr = if r % 11 == 0 {
                format!("2001:db8::{:x}", r % 7).parse().unwrap()
            } else {
                format!("10.0.{}.{}", r % 3, r % 13).parse().unwrap()
            };
            let dst: IpAddr = format!("192.0.2.{}", (r >> 8) % 17).parse().unwrap();
            let start = 1_600_000_000_000 + ((r >> 16) % 86_400_000) as i64;
            FlowRecord {
                start_ms: start,
                end_ms: start + ((r >> 40) % 5000) as i64,
                src_addr: src,
                dst_addr: dst,
                src_port: ((r >> 20) % 5) as u16 + 1000,
                dst_port: [22, 53, 80, 443][((r >> 24) % 4) as usize],
                protocol: [6, 6, 17, 1, 58][((r >> 28) % 5) as usize],
                packets: (r >> 32) % 100 + 1,
                octets: (r >> 36) % 100_000 + 40,
                ..FlowRecord::default()
            }
        })
        .collect()
}

fn blocks(flows: &[FlowRecord]) -> Vec<FlowBlockBuf> {
    flows.chunks(333).map(FlowBlockBuf::from_records).collect()
}

fn sums<'a>(it: impl Iterator<Item = &'a FlowRecord>) -> Totals {
    let mut t = Totals::default();
    for r in it {
        t.flows += 1;
        t.packets += r.packets;
        t.octets += r.octets;
    }
    t
}

#[test]
fn summary_top_and_bins_match_sums_computed_record_by_record() {
    let flows = random_flows(5000);
    let bufs = blocks(&flows);
    let mut summary = Summary::default();
    let mut bins = TimeBins::new(300_000);
    let keys = [
        TopKey::SrcAddr,
        TopKey::DstAddr,
        TopKey::SrcPort,
        TopKey::DstPort,
        TopKey::Protocol,
        TopKey::Pair,
    ];
    let mut tops: Vec<TopN> = keys.iter().map(|k| TopN::new(*k)).collect();
    for b in &bufs {
        let v = b.view();
        summary.observe(&v);
        bins.observe(&v);
        for t in &mut tops {
            // Each report reads only its columns.
            t.observe(&v.only(t.columns()));
        }
    }

    assert_eq!(summary.totals, sums(flows.iter()));
    assert_eq!(summary.first_ms, flows.iter().map(|r| r.start_ms).min());
    assert_eq!(summary.last_ms, flows.iter().map(|r| r.end_ms).max());
    let mut by_proto: BTreeMap<u8, Totals> = BTreeMap::new();
    for p in flows.iter().map(|r| r.protocol) {
        by_proto.insert(p, sums(flows.iter().filter(|r| r.protocol == p)));
    }
    let got: BTreeMap<u8, Totals> = summary.protocols().into_iter().collect();
    assert_eq!(got, by_proto);

    for (k, top) in keys.iter().zip(&tops) {
        let label = |r: &FlowRecord| -> Option<String> {
            let ports = matches!(r.protocol, 6 | 17 | 132);
            match k {
                TopKey::SrcAddr => Some(r.src_addr.to_string()),
                TopKey::DstAddr => Some(r.dst_addr.to_string()),
                TopKey::SrcPort => ports.then(|| r.src_port.to_string()),
                TopKey::DstPort => ports.then(|| r.dst_port.to_string()),
                TopKey::Protocol => Some(
                    crate::model::names::protocol(r.protocol)
                        .map_or(r.protocol.to_string(), str::to_string),
                ),
                TopKey::Pair => Some(format!("{} -> {}", r.src_addr, r.dst_addr)),
            }
        };
        let mut expected: HashMap<String, Totals> = HashMap::new();
        for r in &flows {
            if let Some(l) = label(r) {
                let t = expected.entry(l).or_default();
                t.flows += 1;
                t.packets += r.packets;
                t.octets += r.octets;
            }
        }
        for metric in [Metric::Flows, Metric::Packets, Metric::Octets] {
            let all = top.top(usize::MAX, metric.into());
            let got: HashMap<String, Totals> =
                all.iter().map(|(k, t)| (k.to_string(), t.totals)).collect();
            assert_eq!(got, expected, "{k} by {metric}");
            // Ranked: the metric never increases down the list, and top(5) is its head.
            assert!(all
                .windows(2)
                .all(|w| w[0].1.totals.get(metric) >= w[1].1.totals.get(metric)));
            let head: Vec<_> = top.top(5, metric.into());
            assert_eq!(head[..], all[..5.min(all.len())], "{k} by {metric}");
        }
    }

    let series = bins.series();
    let mut expected: BTreeMap<i64, Totals> = BTreeMap::new();
    for r in &flows {
        let t = expected
            .entry(r.start_ms - r.start_ms.rem_euclid(300_000))
            .or_default();
        t.flows += 1;
        t.packets += r.packets;
        t.octets += r.octets;
    }
    let nonempty: BTreeMap<i64, Totals> = series
        .iter()
        .filter(|(_, t)| t.flows > 0)
        .copied()
        .collect();
    assert_eq!(nonempty, expected);
    // Consecutive bins, none missing.
    assert!(series.windows(2).all(|w| w[1].0 - w[0].0 == 300_000));
}

#[test]
fn the_story_counts_as_nfdump_counted_it() {
    // flow-import's decoder on the softflowd v5 capture; nfdump's CSV of the same packets.
    let bytes = std::fs::read(crate::testing::testdata::path(
        "exports/scenario-v5.pcap.gz",
    ))
    .unwrap();
    let mut pcap = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut pcap).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario-v5.pcap");
    std::fs::write(&path, pcap).unwrap();
    let mut summary = Summary::default();
    let mut top = TopN::new(TopKey::SrcAddr);
    let mut bins = TimeBins::new(3_600_000);
    crate::collect::import::Importer::default()
        .import_file(&path, &mut |m| panic!("{m}"), &mut |_, b| {
            summary.observe(b);
            top.observe(b);
            bins.observe(b);
            Ok(())
        })
        .unwrap();

    let csv = crate::testing::testdata::read_text("exports/scenario-v5.nfdump.csv.gz").unwrap();
    let mut total = Totals::default();
    let mut per_src: HashMap<String, Totals> = HashMap::new();
    let mut per_proto: HashMap<String, u64> = HashMap::new();
    let mut per_hour: BTreeMap<String, u64> = BTreeMap::new();
    for line in csv.lines() {
        let c: Vec<&str> = line.split(',').collect();
        let (pk, oc): (u64, u64) = (c[10].parse().unwrap(), c[11].parse().unwrap());
        for t in [&mut total, per_src.entry(c[3].to_string()).or_default()] {
            t.flows += 1;
            t.packets += pk;
            t.octets += oc;
        }
        *per_proto.entry(c[7].to_lowercase()).or_default() += 1;
        *per_hour.entry(c[0][..13].to_string()).or_default() += 1;
    }
    assert_eq!(summary.totals, total);
    let protos: HashMap<String, u64> = summary
        .protocols()
        .into_iter()
        .map(|(p, t)| (KeyValue::Protocol(p).to_string(), t.flows))
        .collect();
    assert_eq!(protos, per_proto);
    let got: HashMap<String, Totals> = top
        .top(usize::MAX, measure::Measure::Flows)
        .into_iter()
        .map(|(k, t)| (k.to_string(), t.totals))
        .collect();
    assert_eq!(got, per_src);
    let hours: BTreeMap<String, u64> = bins
        .series()
        .into_iter()
        .filter(|(_, t)| t.flows > 0)
        .map(|(t, v)| {
            (
                crate::analyze::hunt::utc(t)[..13].replace('T', " "),
                v.flows,
            )
        })
        .collect();
    assert_eq!(hours, per_hour);
}

#[test]
fn the_time_series_svg_is_xml_with_the_series() {
    let points: Vec<(i64, u64)> = (0..288)
        .map(|i| {
            (
                1_289_260_800_000 + i * 300_000,
                if i == 220 { 410 } else { (i % 7) as u64 },
            )
        })
        .collect();
    let doc = svg::time_series(
        "flows <& over> time",
        "flows",
        &points,
        300_000,
        &jiff::tz::TimeZone::UTC,
    );
    let xml = roxmltree::Document::parse(&doc).expect("valid XML");
    let root = xml.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let title = root.children().find(|n| n.has_tag_name("title")).unwrap();
    assert_eq!(title.text(), Some("flows <& over> time"));
    let line = root
        .descendants()
        .find(|n| n.attribute("class") == Some("series"))
        .expect("a series");
    let values: Vec<u64> = line
        .attribute("data-values")
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(values, points.iter().map(|p| p.1).collect::<Vec<_>>());
    let coords: Vec<(f64, f64)> = line
        .attribute("points")
        .unwrap()
        .split(' ')
        .map(|xy| {
            let (x, y) = xy.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect();
    assert_eq!(coords.len(), 288);
    // Time goes right; the tallest bin is drawn highest (SVG y grows downwards).
    assert!(coords.windows(2).all(|w| w[1].0 > w[0].0));
    let highest = coords
        .iter()
        .enumerate()
        .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
        .unwrap()
        .0;
    assert_eq!(highest, 220);
    let peak = root
        .descendants()
        .find(|n| n.attribute("class") == Some("peak"))
        .unwrap();
    assert_eq!(peak.attribute("data-value"), Some("410"));
    // Hour ticks labelled in the zone.
    let labels: Vec<&str> = root.descendants().filter_map(|n| n.text()).collect();
    assert!(
        labels.contains(&"03:00") && labels.contains(&"21:00"),
        "{labels:?}"
    );
}

#[test]
fn the_bar_chart_svg_is_xml_with_one_bar_per_talker() {
    let bars = vec![
        ("189.22.36.165 -> 79.115.103.225".to_string(), 119_133),
        ("a&b <c>".to_string(), 63_913),
        ("10.0.0.1".to_string(), 0),
    ];
    let doc = svg::bar_chart("top 3 pair by octets", "octets", &bars);
    let xml = roxmltree::Document::parse(&doc).expect("valid XML");
    let rects: Vec<roxmltree::Node<'_, '_>> = xml
        .descendants()
        .filter(|n| n.attribute("class") == Some("bar"))
        .collect();
    assert_eq!(rects.len(), 3);
    for (r, (label, v)) in rects.iter().zip(&bars) {
        assert_eq!(r.attribute("data-key"), Some(label.as_str()));
        assert_eq!(r.attribute("data-value"), Some(v.to_string().as_str()));
    }
    let w: Vec<f64> = rects
        .iter()
        .map(|r| r.attribute("width").unwrap().parse().unwrap())
        .collect();
    assert!(w[0] > w[1] && w[1] > w[2] && w[2] == 0.0);
    assert!((w[1] / w[0] - 63_913.0 / 119_133.0).abs() < 0.01);
    // An empty chart is still a document.
    roxmltree::Document::parse(&svg::bar_chart("nothing", "flows", &[])).unwrap();
    roxmltree::Document::parse(&svg::time_series(
        "nothing",
        "flows",
        &[],
        60_000,
        &jiff::tz::TimeZone::UTC,
    ))
    .unwrap();
}

/// Group-by totals, time spans and distinct counts against a HashMap of the records, with the
/// blocks summed by one thread, and in four shards by four threads (IPv4 groups met in IPv4-only and in mixed blocks).
#[test]
fn group_by_matches_groups_computed_record_by_record() {
    use group::{parse_group_keys, GroupBy};
    let mut flows = random_flows(6000);
    let v4: Vec<FlowRecord> = (flows.iter())
        .filter(|r| r.src_addr.is_ipv4())
        .cloned()
        .collect();
    let mut bufs = blocks(&flows);
    bufs.extend(blocks(&v4));
    flows.extend(v4);
    let views: Vec<_> = bufs.iter().map(FlowBlockBuf::view).collect();
    // The key as numbers, IPv4 mapped, to order a biflow's ends as the group-by does.
    let num = |a: IpAddr| match a {
        IpAddr::V4(v) => u128::from(v.to_ipv6_mapped()),
        IpAddr::V6(v) => u128::from(v),
    };
    for (threads, biflow) in [(1, false), (4, false), (1, true), (4, true)] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let list = if biflow {
            "srcaddr,dstaddr"
        } else {
            "srcaddr,dstaddr,dstport"
        };
        let mut g = GroupBy::new(parse_group_keys(list).unwrap())
            .count_distinct(measure::DistinctValues::new("srcport").unwrap());
        if biflow {
            g = g.fold_directions().unwrap();
        }
        pool.install(|| views.chunks(7).for_each(|c| g.observe_batch(c)));
        let got = g.top(0, Measure::Flows);

        type Expected = (Totals, i64, i64, std::collections::HashSet<u16>);
        let mut expected: HashMap<Vec<String>, Expected> = HashMap::new();
        for r in &flows {
            let key = match biflow {
                false => vec![
                    r.src_addr.to_string(),
                    r.dst_addr.to_string(),
                    r.dst_port.to_string(),
                ],
                true => {
                    let (a, b) = match num(r.dst_addr) < num(r.src_addr) {
                        true => (r.dst_addr, r.src_addr),
                        false => (r.src_addr, r.dst_addr),
                    };
                    vec![a.to_string(), b.to_string()]
                }
            };
            let e = expected.entry(key).or_insert((
                Totals::default(),
                i64::MAX,
                i64::MIN,
                Default::default(),
            ));
            e.0.flows += 1;
            e.0.packets += r.packets;
            e.0.octets += r.octets;
            e.1 = e.1.min(r.start_ms);
            e.2 = e.2.max(r.end_ms);
            e.3.insert(r.src_port);
        }
        assert_eq!(
            got.len(),
            expected.len(),
            "{threads} threads, biflow {biflow}"
        );
        assert_eq!(g.distinct(), expected.len());
        assert_eq!(g.counted, sums(flows.iter()));
        for (key, m) in &got {
            let e = &expected[key];
            assert_eq!(m.totals, e.0, "{key:?}");
            assert_eq!(m.duration_ms, (e.2 - e.1) as u64, "{key:?}");
            assert_eq!(m.distinct, e.3.len() as u64, "{key:?}");
        }
        assert!(got
            .windows(2)
            .all(|w| w[0].1.totals.flows >= w[1].1.totals.flows));
    }
}

/// Top groups per time bin against the records grouped per bin here (a HashMap per bin,
/// ranked by flows).
#[test]
fn group_by_per_bin_matches_groups_computed_per_bin() {
    use group::{parse_group_keys, GroupBy};
    let flows = random_flows(6000);
    let bufs = blocks(&flows);
    let width = 3_600_000;
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut g = GroupBy::new(parse_group_keys("srcaddr,dstport").unwrap())
            .per_bin(width)
            .unwrap();
        assert!(g.binned());
        pool.install(|| (bufs.iter()).for_each(|b| g.observe(&b.view())));
        let n = 3;
        let got = g.top_per_bin(n, Measure::Flows);

        let mut expected: BTreeMap<i64, HashMap<(String, String), Totals>> = BTreeMap::new();
        for r in &flows {
            let bin = r.start_ms.div_euclid(width) * width;
            let key = (r.src_addr.to_string(), r.dst_port.to_string());
            let t = expected.entry(bin).or_default().entry(key).or_default();
            t.flows += 1;
            t.packets += r.packets;
            t.octets += r.octets;
        }
        assert_eq!(
            got.iter().map(|b| b.start_ms).collect::<Vec<_>>(),
            expected.keys().copied().collect::<Vec<_>>()
        );
        for (bin, want) in got.iter().zip(expected.values()) {
            assert_eq!(bin.groups, want.len());
            assert_eq!(bin.counted, sums_of(want.values()));
            // Each listed group has its own totals; none left out has more flows.
            for (k, m) in &bin.rows {
                assert_eq!(k.len(), 2);
                assert_eq!(m.totals, want[&(k[0].clone(), k[1].clone())], "{k:?}");
            }
            let mut flows: Vec<u64> = want.values().map(|t| t.flows).collect();
            flows.sort_unstable_by(|a, b| b.cmp(a));
            let listed: Vec<u64> = bin.rows.iter().map(|(_, m)| m.totals.flows).collect();
            assert_eq!(listed, flows[..n.min(flows.len())]);
        }
    }
}

fn sums_of<'a>(it: impl Iterator<Item = &'a Totals>) -> Totals {
    it.fold(Totals::default(), |mut a, t| {
        a.flows += t.flows;
        a.packets += t.packets;
        a.octets += t.octets;
        a
    })
}

/// The parallel path (two and three shards, one per thread) gives the very groups of the
/// one-thread path, on many blocks where every group comes back in many of them: 120,000
/// flows in over 30,000 groups of `srcaddr,dstport` (tables that grow many times), IPv6 rows
/// (keyed by the general values) among them; each group's flows also checked against a count
/// made here record by record.
#[test]
fn group_by_in_parallel_equals_group_by_on_one_thread() {
    use group::{parse_group_keys, GroupBy};
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let flows: Vec<FlowRecord> = (0..120_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let src: IpAddr = match x % 50 {
                0 => format!("2001:db8::{:x}", x % 97).parse().unwrap(),
                _ => format!("10.{}.{}.{}", x % 3, (x >> 8) % 101, (x >> 16) % 67)
                    .parse()
                    .unwrap(),
            };
            FlowRecord {
                start_ms: 1_600_000_000_000 + ((x >> 24) % 86_400_000) as i64,
                end_ms: 1_600_000_000_000 + ((x >> 24) % 86_400_000) as i64 + 10,
                src_addr: src,
                dst_addr: "192.0.2.1".parse().unwrap(),
                dst_port: [53, 443][((x >> 40) % 2) as usize],
                src_port: ((x >> 44) % 9) as u16,
                protocol: 17,
                packets: (x >> 48) % 10 + 1,
                octets: (x >> 52) % 1000 + 40,
                ..FlowRecord::default()
            }
        })
        .collect();
    let bufs: Vec<FlowBlockBuf> = flows.chunks(1000).map(FlowBlockBuf::from_records).collect();
    let views: Vec<_> = bufs.iter().map(FlowBlockBuf::view).collect();
    let groups = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut g = GroupBy::new(parse_group_keys("srcaddr,dstport").unwrap())
            .count_distinct(measure::DistinctValues::new("srcport").unwrap());
        pool.install(|| views.chunks(16).for_each(|c| g.observe_batch(c)));
        assert_eq!(g.counted, sums(flows.iter()), "{threads} threads");
        g.top(0, Measure::Octets)
    };
    let one = groups(1);
    let mut by_record: HashMap<(String, u16), u64> = HashMap::new();
    for r in &flows {
        *by_record
            .entry((r.src_addr.to_string(), r.dst_port))
            .or_default() += 1;
    }
    assert!(one.len() > 30_000 && one.len() == by_record.len());
    for (k, m) in &one {
        assert_eq!(
            m.totals.flows,
            by_record[&(k[0].clone(), k[1].parse().unwrap())]
        );
    }
    assert_eq!(groups(2), one);
    assert_eq!(groups(3), one);
}
