//! EVE files written by the real Suricata 7.0.10 (testdata/other-logs/suricata, see its
//! FIELDS.md): every `flow` or `netflow` event becomes the record its JSON says, read here a
//! second way (as a generic JSON value), other events are skipped and counted, a file with both
//! kinds is not counted twice, and a broken line is reported with its line and column.

use super::*;
use crate::testing::testdata;
use serde_json::Value;

fn read(name: &str, events: EveEvents) -> (Vec<FlowRecord>, EveCounts, Vec<String>) {
    let text = testdata::read_text(&format!("other-logs/suricata/{name}")).unwrap();
    read_text(&text, name, events)
}

fn read_text(
    text: &str,
    name: &str,
    events: EveEvents,
) -> (Vec<FlowRecord>, EveCounts, Vec<String>) {
    let mut flows = Vec::new();
    let mut errors = Vec::new();
    let counts = read_eve(
        text.as_bytes(),
        name,
        events,
        &mut |e| errors.push(e.to_string()),
        &mut |r| {
            flows.push(r);
            Ok(())
        },
    )
    .unwrap();
    (flows, counts, errors)
}

/// The record an event's JSON describes, read from a generic JSON value.
fn expected(v: &Value) -> FlowRecord {
    let s = |k: &str| v[k].as_str().unwrap().to_string();
    let n = |x: &Value| x.as_u64().unwrap();
    let proto = match v["proto"].as_str().unwrap() {
        "TCP" => 6,
        "UDP" => 17,
        "ICMP" => 1,
        "IPv6-ICMP" => 58,
        "SCTP" => 132,
        p => panic!("protocol {p} not in the samples' list"),
    };
    let icmp = proto == 1 || proto == 58;
    let kind = v["event_type"].as_str().unwrap();
    let body = &v[kind];
    let (p, o, rp, ro) = if kind == "flow" {
        (
            n(&body["pkts_toserver"]),
            n(&body["bytes_toserver"]),
            n(&body["pkts_toclient"]),
            n(&body["bytes_toclient"]),
        )
    } else {
        (n(&body["pkts"]), n(&body["bytes"]), 0, 0)
    };
    // `2021-07-14T07:41:49.641158+0000`: civil time, then the offset.
    let time = |t: &str| -> i64 {
        let (civil, off) = t.split_at(t.len() - 5);
        let dt: jiff::civil::DateTime = civil.parse().unwrap();
        let sign = if &off[..1] == "-" { -1 } else { 1 };
        let secs = sign
            * (off[1..3].parse::<i32>().unwrap() * 3600 + off[3..5].parse::<i32>().unwrap() * 60);
        let tz = jiff::tz::TimeZone::fixed(jiff::tz::Offset::from_seconds(secs).unwrap());
        dt.to_zoned(tz).unwrap().timestamp().as_millisecond()
    };
    FlowRecord {
        start_ms: time(body["start"].as_str().unwrap()),
        end_ms: time(body["end"].as_str().unwrap()),
        src_addr: s("src_ip").parse().unwrap(),
        dst_addr: s("dest_ip").parse().unwrap(),
        src_port: if icmp {
            0
        } else {
            v["src_port"].as_u64().unwrap() as u16
        },
        dst_port: if icmp {
            (v["icmp_type"].as_u64().unwrap_or(0) << 8 | v["icmp_code"].as_u64().unwrap_or(0))
                as u16
        } else {
            v["dest_port"].as_u64().unwrap() as u16
        },
        protocol: proto,
        tcp_flags: v["tcp"]["tcp_flags"]
            .as_str()
            .map_or(0, |h| u8::from_str_radix(h, 16).unwrap()),
        packets: p,
        octets: o,
        rev_packets: rp,
        rev_octets: ro,
        exporter: UNSPECIFIED_V4,
        flow_id: v["flow_id"].as_u64().unwrap(),
        // The outer tag (FIELDS.md: outer first).
        src_vlan: v["vlan"][0].as_u64().unwrap_or(0) as u16,
        // FIELDS.md's reasons as IPFIX flowEndReason: idle timeout 1, end detected 3, forced 4.
        end_reason: match body["reason"].as_str() {
            Some("timeout") => 1,
            Some("tcp_reuse") => 3,
            Some("forced" | "shutdown") => 4,
            _ => 0,
        },
        ..FlowRecord::default()
    }
}

fn events_of(name: &str, kind: &str) -> Vec<Value> {
    testdata::read_text(&format!("other-logs/suricata/{name}"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["event_type"] == kind)
        .collect()
}

const FILES: [&str; 5] = [
    "eve-flow.json",
    "eve-netflow.json",
    "eve-full-decode-teredo-01.json",
    "eve-full-ethernet-eve.json",
    "eve-live-loopback-lo.json",
];

#[test]
fn every_flow_event_is_its_record() {
    let mut total = 0;
    for name in FILES {
        let (flows, counts, errors) = read(name, EveEvents::Auto);
        assert!(errors.is_empty(), "{name}: {errors:?}");
        let flow_events = events_of(name, "flow");
        // A file with flow events gives those; one without, its netflow events.
        let want: Vec<FlowRecord> = if flow_events.is_empty() {
            events_of(name, "netflow").iter().map(expected).collect()
        } else {
            flow_events.iter().map(expected).collect()
        };
        assert!(!want.is_empty(), "{name}");
        assert_eq!(flows, want, "{name}");
        assert_eq!(counts.flows, want.len() as u64);
        let lines = testdata::read_text(&format!("other-logs/suricata/{name}"))
            .unwrap()
            .lines()
            .count() as u64;
        let other: u64 = counts.other_events.values().sum();
        assert_eq!(
            counts.flow_events + counts.netflow_events + other,
            lines,
            "{name}"
        );
        if counts.flow_events > 0 {
            assert_eq!(counts.not_chosen, counts.netflow_events, "{name}");
        }
        total += flows.len();
    }
    assert_eq!(total, 232 + 358 + 12 + 13 + 15);
    // Times carry their offset; ICMP keeps type and code; IPv6 is read uncompressed.
    let (flows, _, _) = read("eve-flow.json", EveEvents::Auto);
    assert!(flows
        .iter()
        .any(|f| f.protocol == 1 && f.dst_port == 8 << 8));
    assert!(flows.iter().any(|f| f.src_addr.is_ipv6()));
}

#[test]
fn the_kind_asked_for_is_the_kind_imported() {
    let name = "eve-live-loopback-lo.json";
    let (flows, counts, _) = read(name, EveEvents::Netflow);
    assert_eq!(
        flows,
        events_of(name, "netflow")
            .iter()
            .map(expected)
            .collect::<Vec<_>>()
    );
    assert_eq!(counts.not_chosen, counts.flow_events);
    let (flows, _, _) = read(name, EveEvents::Flow);
    assert_eq!(flows.len(), 15);
    // The live file's other events are skipped and counted by type.
    let (_, counts, _) = read("eve-full-ethernet-eve.json", EveEvents::Auto);
    assert!(!counts.other_events.is_empty(), "{counts:?}");
    // Both kinds of file concatenated: the flow events only, never both.
    let both = format!(
        "{}{}",
        testdata::read_text("other-logs/suricata/eve-netflow.json").unwrap(),
        testdata::read_text("other-logs/suricata/eve-flow.json").unwrap()
    );
    let (flows, counts, _) = read_text(&both, "both", EveEvents::Auto);
    assert_eq!(flows.len(), 232);
    assert_eq!(counts.not_chosen, 358);
}

#[test]
fn broken_lines_are_reported_counted_and_skipped() {
    let good = testdata::read_text("other-logs/suricata/eve-flow.json").unwrap();
    let mut lines: Vec<String> = good.lines().take(5).map(String::from).collect();
    lines[1] = lines[1][..40].to_string(); // cut short
    lines[3] = lines[3]
        .replace("\"proto\":\"TCP\"", "\"proto\":\"NOPE\"")
        .replace("\"proto\":\"UDP\"", "\"proto\":\"NOPE\"")
        .replace("\"proto\":\"ICMP\"", "\"proto\":\"NOPE\"");
    let text = lines.join("\n") + "\n";
    let (flows, counts, errors) = read_text(&text, "cut.json", EveEvents::Auto);
    assert_eq!(flows.len(), 3);
    assert_eq!(counts.malformed, 2);
    assert_eq!(
        errors[0],
        "cut.json:2:40: not an EVE JSON object: EOF while parsing a string"
    );
    assert_eq!(
        errors[1],
        "cut.json:4: flow event: unknown protocol name `NOPE`"
    );
}

#[test]
fn times_read_with_any_offset() {
    assert_eq!(parse_time("1970-01-01T00:00:01.000999+0000"), Ok(1000));
    assert_eq!(parse_time("1970-01-01T05:30:00.000000+0530"), Ok(0));
    assert_eq!(parse_time("1969-12-31T20:00:00.500000-0400"), Ok(500));
    assert_eq!(parse_time("1970-01-01T00:00:00.002Z"), Ok(2));
    assert!(parse_time("yesterday").is_err());
}

#[test]
fn vlan_reason_flow_id_and_macs_are_kept() {
    // The samples' one VLAN-tagged flow (FIELDS.md: bug-4376's outer tag 3136) and their
    // reasons, read as records: real values, not only zeros.
    let (flows, _, _) = read("eve-flow.json", EveEvents::Auto);
    assert_eq!(flows.iter().filter(|f| f.src_vlan == 3136).count(), 1);
    // `grep -c "\"reason\":\"timeout\""` and `..shutdown..` on the file: 16 and 216.
    assert_eq!(flows.iter().filter(|f| f.end_reason == 1).count(), 16);
    assert_eq!(flows.iter().filter(|f| f.end_reason == 4).count(), 216);
    assert!(flows.iter().all(|f| f.flow_id != 0));
    // `ether` (with `ethernet: yes`, FIELDS.md): the first MAC of each list; a bad one is named.
    let line = |ether: &str| {
        format!(
            "{{\"flow_id\":7,\"event_type\":\"flow\",\"src_ip\":\"10.0.0.1\",\"src_port\":1,\
             \"dest_ip\":\"10.0.0.2\",\"dest_port\":2,\"proto\":\"UDP\",{ether}\"flow\":\
             {{\"pkts_toserver\":1,\"pkts_toclient\":0,\"bytes_toserver\":60,\"bytes_toclient\":0,\
             \"start\":\"2021-07-14T07:41:49.641158+0000\",\"end\":\"2021-07-14T07:41:49.641158+0000\",\
             \"reason\":\"tcp_reuse\"}}}}\n"
        )
    };
    let text = line("\"ether\":{\"src_macs\":[\"00:1b:21:3c:9d:f8\",\"00:00:5e:00:53:01\"],\"dest_macs\":[\"02:42:ac:11:00:02\"]},")
        + &line("\"ether\":{\"src_macs\":[\"00:1b:21\"]},");
    let (flows, counts, errors) = read_text(&text, "mac.json", EveEvents::Auto);
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].src_mac, 0x001b_213c_9df8);
    assert_eq!(flows[0].dst_mac, 0x0242_ac11_0002);
    assert_eq!((flows[0].flow_id, flows[0].end_reason), (7, 3));
    assert_eq!(counts.malformed, 1);
    assert_eq!(
        errors,
        ["mac.json:2: flow event: `ether.src_macs` `00:1b:21` is not a MAC address"]
    );
}
