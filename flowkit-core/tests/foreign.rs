//! Captures from another project's test suite (testdata/foreign: logstash-codec-netflow's
//! datagrams from many vendors, some deliberately invalid), decoded by flowkit: never a panic,
//! flow counts equal nfdump's and tshark's where those two agree, and where they disagree
//! (or flowkit differs from both) the decision below says which is right from the packets.
//! Where tshark decoded every flow, addresses, ports, protocol, packets and octets are also
//! compared with its rows.

mod common;

use common::*;

/// Cases whose count is decided here rather than by nfdump and tshark agreeing.
const DECISIONS: &[(&str, usize, &str)] = &[
    (
        "netflow-5-invalid-01",
        30,
        "the v5 header announces 55582 records, the datagram holds 30 complete ones: tshark \
         decodes them, nfdump drops the datagram; flowkit keeps the 30 and reports the packet",
    ),
    (
        "netflow-5-invalid-02",
        30,
        "as invalid-01 with a count of 163",
    ),
    (
        "netflow-5-valid-01",
        2,
        "the header count is 2 (tshark: 2, logstash: 2); nfdump decodes all 30 record slots \
         of the datagram, 28 of them beyond the announced count",
    ),
    (
        "netflow-9-cisco-wlc",
        19,
        "tshark decodes none (it does not know the WLC template's fields), nfdump 19",
    ),
    (
        "netflow-9-h3c",
        16,
        "tshark stops after the first record, nfdump and logstash count 16",
    ),
    (
        "netflow-9-invalid-01",
        2,
        "tshark gives up on the datagram; nfdump and flowkit decode the 2 well-formed records",
    ),
    (
        "ipfix",
        12,
        "the datagram packs three IPFIX messages (lengths 484, 64, 240; sequence 6, 7, 12) \
         with 6 + 1 + 5 flows; nfdump and tshark read only the first message",
    ),
    (
        "ipfix-netscaler-with-variable-length-fields-2",
        6,
        "the data datagram comes before its template and again after it: flowkit holds the \
         first and decodes it when the template arrives (3 + 3); nfdump and tshark drop data \
         that arrives before its template",
    ),
];

/// Cases where tshark's field values are not comparable (it decodes a different IE as the
/// counter, or fewer records).
const TSHARK_VALUES_DIFFER: &[(&str, &str)] = &[(
    "ipfix-procera",
    "Procera's template carries IPv4 and IPv6 address fields; tshark shows the IPv4 ones, \
     all zero in the ICMPv6 records, where flowkit keeps the non-zero IPv6 addresses",
)];

fn count_lines(text: &str) -> usize {
    if text.contains("No matching flows") {
        0
    } else {
        text.lines().filter(|l| !l.trim().is_empty()).count()
    }
}

#[test]
fn foreign_captures_decode_as_decided() {
    let dir = testdata().join("foreign");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("testdata/foreign")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".pcap").map(str::to_string))
        .collect();
    names.sort();
    assert!(names.len() >= 50, "{} cases", names.len());
    let mut failures = Vec::new();
    for name in &names {
        let (flows, summary, msgs) = import_bytes(name, read(&dir.join(format!("{name}.pcap"))));
        let nf = std::fs::read_to_string(dir.join(format!("{name}.nfdump.csv"))).expect("csv");
        let ts_text = std::fs::read_to_string(dir.join(format!("{name}.tshark.csv"))).expect("csv");
        let (nfdump, tshark) = (count_lines(&nf), count_lines(&ts_text));
        let want = match DECISIONS.iter().find(|d| d.0 == name) {
            Some(d) => d.1,
            None => {
                assert_eq!(nfdump, tshark, "{name}: nfdump and tshark disagree: decide");
                nfdump
            }
        };
        if flows.len() != want {
            failures.push(format!("{name}: {} flows, want {want}", flows.len()));
        }
        // Every reported problem names the capture and the packet.
        for m in &msgs {
            assert!(m.starts_with(&format!("{name}: packet ")), "{m}");
        }
        // Flows with times far from their packet's export time are reported and counted (kept):
        // netscaler-2's packet 2 is exported 2016-10-27 with flows of 2016-11-11 (tshark shows
        // the same flow times); nprobe's header clock and flows are in 1970.
        let (times, malformed): (Vec<&String>, Vec<&String>) = msgs
            .iter()
            .partition(|m| m.contains("flows with times before 1990"));
        let bad_times = match name.as_str() {
            "ipfix-netscaler-with-variable-length-fields-2" => 3,
            "netflow-9-nprobe-dpi-l7" => 1,
            _ => 0,
        };
        assert_eq!(summary.decode.bad_times, bad_times, "{name}");
        assert_eq!(times.is_empty(), bad_times == 0, "{name}: {times:?}");
        assert_eq!(summary.malformed_packets as usize, malformed.len().min(50));
        if tshark == flows.len() && tshark > 0 && !TSHARK_VALUES_DIFFER.iter().any(|t| t.0 == name)
        {
            // tshark leaves fields empty that a record does not carry (ports of ICMP
            // templates, counters of exporters that send other IEs): those match anything.
            // ICMP destination ports are not compared: flowkit puts ICMP type/code there
            // (type << 8 | code, the v5 convention) where tshark shows the port field.
            let mut ours: Vec<Option<[String; 7]>> = flows
                .iter()
                .map(|f| {
                    Some([
                        f.src_addr.to_string(),
                        f.dst_addr.to_string(),
                        f.src_port.to_string(),
                        f.dst_port.to_string(),
                        f.protocol.to_string(),
                        f.packets.to_string(),
                        f.octets.to_string(),
                    ])
                })
                .collect();
            for r in csv_rows(ts_text.as_bytes()) {
                let want = &r[2..9];
                let icmp = want[4] == "1" || want[4] == "58";
                let hit = ours.iter_mut().find(|o| {
                    o.as_ref().is_some_and(|o| {
                        (0..7).all(|i| want[i].is_empty() || (icmp && i == 3) || want[i] == o[i])
                    })
                });
                match hit {
                    Some(h) => *h = None,
                    None => failures.push(format!("{name}: no flow matches tshark's {r:?}")),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn invalid_v5_is_reported_with_packet_number_and_offset() {
    let dir = testdata().join("foreign");
    let (_, _, msgs) = import_bytes(
        "netflow-5-invalid-01",
        read(&dir.join("netflow-5-invalid-01.pcap")),
    );
    assert_eq!(msgs.len(), 1);
    assert!(
        msgs[0].starts_with(
            "netflow-5-invalid-01: packet 1: damaged v5 from 127.0.0.1:9995: byte 1464:"
        ),
        "{}",
        msgs[0]
    );
}
