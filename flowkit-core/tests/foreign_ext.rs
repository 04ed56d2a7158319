//! Real vendor exports (testdata/foreign: a Cisco ASA's NSEL, a Cisco 1941's and an ASR 1001-X's
//! NBAR ids, an EdgeRouter's MACs, a MikroTik's NAT, ...) decoded by flowkit's IPFIX / NetFlow v9
//! decoder give, flow by flow, the NAT addresses and ports, VLANs, flow id / NSEL connection id,
//! end reason, MACs, MPLS entries and application id that nfdump 1.7.1 stored for the same
//! datagrams (nfcapd 1.7.1 collected them; `nfdump -o fmt:` printed them: testdata/nfdump/ext/,
//! ext-l2/, made by make_ext.sh, and testdata/foreign/nfcapd/). Two hand-made captures whose
//! nfcapd files are in testdata/nfdump join them (nat-vlan: NAT, VLANs, end reasons, IPFIX
//! flowId; l2-ipfix: MPLS stacks, application ids): they carry what nfcapd 1.7.1 stores
//! differently from the packets, decided below.
//!
//! Flows are matched by order: nfcapd writes a datagram's flows in the order the datagram holds
//! them, as flowkit decodes them; every pair is checked to be the same flow (addresses, source
//! port) against nfdump's printout of the main columns, so a reordering fails loudly.

mod common;

use common::*;
use flowkit_core::model::l2::{app_id, app_id_text, mac_text, mpls_text};
use flowkit_core::model::record::FlowRecord;
use flowkit_core::testing::testdata as td;
use std::net::IpAddr;

/// The compared columns: nfdump's `%xsa|%xda|%xsp|%xdp|%svln|%dvln|%nfc|%end` and
/// `%ismc|%odmc|%idmc|%osmc|%mpls1|%mpls2|%mpls3|%nbid`, the four MACs as the record keeps
/// them (source: in-source, else out-source; destination: in-destination, else out-destination).
const COLUMNS: [&str; 14] = [
    "xsa", "xda", "xsp", "xdp", "svln", "dvln", "nfc", "end", "smac", "dmac", "mpls1", "mpls2",
    "mpls3", "nbid",
];

/// A documented difference: for the flows of `capture` that `applies` to, nfdump's `column` is
/// `nfdump(flow)`, not flowkit's value (which follows the packet and the RFC).
struct Decision {
    capture: &'static str,
    column: &'static str,
    applies: fn(&FlowRecord) -> bool,
    nfdump: fn(&FlowRecord) -> String,
    reason: &'static str,
}

/// The application id flowkit read from a 4-byte applicationId with its bytes reversed, as
/// nfcapd 1.7.1 stores it, packed and printed as nfdump prints it.
fn reversed_app_id(f: &FlowRecord) -> String {
    let b = f.app_id.to_be_bytes(); // engine in the top byte, 3-byte selector in the low ones
    let wire = [b[0], b[5], b[6], b[7]];
    let rev = [wire[3], wire[2], wire[1], wire[0]];
    app_id_text(app_id(&rev).unwrap())
}

const DECISIONS: &[Decision] = &[
    Decision {
        capture: "nat-vlan",
        column: "nfc",
        // The IPFIX message's flows (make_nat.py's 10.1.0.0/16 sources; the v9 ones are 172.16/
        // IPv6): template 256 carries flowId (148) as 8 bytes: 1001, 0x1_0000_0002, 0.
        applies: |f| matches!(f.src_addr, IpAddr::V4(a) if a.octets()[..2] == [10, 1]),
        nfdump: |_| "0".into(),
        reason: "nfcapd 1.7.1's IPFIX decoder has no element for flowId (148) and drops it (its \
                 v9 decoder keeps it as the NSEL connection id); flowkit keeps the exporter's \
                 flow id, as nfdump 1.7.5 and later do (EXflowId)",
    },
    Decision {
        capture: "l2-ipfix",
        column: "nbid",
        // The fixed-length template's ids: 4 bytes, engine 13 (testdata/l2/README.md); the
        // variable-length ones (engines 20 and 3) print the same in both.
        applies: |f| f.app_id >> 56 == 13,
        nfdump: reversed_app_id,
        reason: "nfcapd 1.7.1 stores a fixed-length IPFIX applicationId (95) with its bytes \
                 reversed (engine 13, selector 81 on the wire prints as 81..13); flowkit reads \
                 it as RFC 6759 lays it out: engine byte first, then the selector (13..81). \
                 NetFlow v9 ids (Cisco 1941, ASR 1001-X) are stored as sent and agree",
    },
];

/// flowkit's values of the compared columns.
fn ours(f: &FlowRecord) -> [String; 14] {
    [
        f.xlate_src_addr.to_string(),
        f.xlate_dst_addr.to_string(),
        f.xlate_src_port.to_string(),
        f.xlate_dst_port.to_string(),
        f.src_vlan.to_string(),
        f.dst_vlan.to_string(),
        f.flow_id.to_string(),
        f.end_reason.to_string(),
        mac_text(f.src_mac),
        mac_text(f.dst_mac),
        mpls_text(f.mpls_label1),
        mpls_text(f.mpls_label2),
        mpls_text(f.mpls_label3),
        app_id_text(f.app_id),
    ]
}

/// nfdump's values of the compared columns from one line of each printout.
fn theirs(ext: &str, l2: &str) -> [String; 14] {
    let e: Vec<&str> = ext.split('|').collect();
    let m: Vec<&str> = l2.split('|').collect();
    assert_eq!((e.len(), m.len()), (8, 8), "{ext} / {l2}");
    let zero = "00:00:00:00:00:00";
    let side = |inner: &str, outer: &str| if inner != zero { inner } else { outer }.to_string();
    // nfdump prints IPv6 in full (-6); the record's text is RFC 5952's.
    let addr = |s: &str| s.parse::<IpAddr>().unwrap().to_string();
    [
        addr(e[0]),
        addr(e[1]),
        e[2].into(),
        e[3].into(),
        e[4].into(),
        e[5].into(),
        e[6].into(),
        e[7].into(),
        side(m[0], m[3]),
        side(m[2], m[1]),
        m[4].into(),
        m[5].into(),
        m[6].into(),
        m[7].into(),
    ]
}

/// One capture: the pcap, nfdump's two printouts, and nfdump's main columns for the same flows
/// (`sa` and `da` at `key_cols`, then the source port when `key_cols` names one).
struct Case {
    name: String,
    pcap: String,
    ext: String,
    l2: String,
    keys: String,
    key_cols: (usize, usize, Option<usize>),
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let truth = (2, 3, Some(4)); // ts|te|sa|da|sp|... (testdata/nfdump/README.md)
    for n in td::names_ending("nfdump/vendors", ".nfcapd") {
        let name = n.trim_end_matches(".nfcapd").to_string();
        if !td::path(&format!("foreign/{name}.pcap")).exists() {
            continue;
        }
        cases.push(Case {
            pcap: format!("foreign/{name}.pcap"),
            ext: format!("nfdump/ext/{name}.txt.gz"),
            l2: format!("nfdump/ext-l2/{name}.txt.gz"),
            keys: format!("nfdump/vendors/{name}.truth.txt"),
            key_cols: truth,
            name,
        });
    }
    // Vendor captures whose nfcapd file is not among testdata/nfdump's (see its README).
    for n in td::names_ending("foreign/nfcapd", ".nfcapd") {
        let name = n.trim_end_matches(".nfcapd").to_string();
        cases.push(Case {
            pcap: format!("foreign/{name}.pcap"),
            ext: format!("foreign/nfcapd/{name}.ext.txt"),
            l2: format!("foreign/nfcapd/{name}.ext-l2.txt"),
            keys: format!("foreign/nfcapd/{name}.truth.txt"),
            key_cols: truth,
            name,
        });
    }
    cases.push(Case {
        name: "nat-vlan".into(),
        pcap: "nfdump/nat-vlan.pcap".into(),
        ext: "nfdump/ext/nat-vlan.txt.gz".into(),
        l2: "nfdump/ext-l2/nat-vlan.txt.gz".into(),
        keys: "nfdump/nat-vlan.truth.txt".into(),
        key_cols: truth,
    });
    cases.push(Case {
        name: "l2-ipfix".into(),
        pcap: "l2/l2-ipfix.pcap".into(),
        ext: "nfdump/ext/l2-ipfix.txt.gz".into(),
        l2: "nfdump/ext-l2/l2-ipfix.txt.gz".into(),
        keys: "l2/l2-ipfix.nfdump.csv".into(), // sa,da,...
        key_cols: (0, 1, None),
    });
    cases
}

#[test]
fn vendor_exports_decode_to_the_extension_columns_nfdump_stored() {
    let cases = cases();
    // The ten vendor captures of testdata/nfdump/vendors, and the ASA one of foreign/nfcapd.
    assert!(cases.len() >= 13, "{} captures", cases.len());
    let mut failures = Vec::new();
    let mut used = vec![0usize; DECISIONS.len()];
    let mut all: Vec<(String, FlowRecord)> = Vec::new();
    for c in &cases {
        let (flows, _, msgs) = import_bytes(&c.name, read(&td::path(&c.pcap)));
        assert!(msgs.is_empty(), "{}: {msgs:?}", c.name);
        let text = |rel: &str| td::read_text(rel).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let (ext, l2, keys) = (text(&c.ext), text(&c.l2), text(&c.keys));
        let ext: Vec<&str> = ext.lines().collect();
        let l2: Vec<&str> = l2.lines().collect();
        let sep = if c.keys.ends_with(".csv") { ',' } else { '|' };
        let keys: Vec<Vec<&str>> = keys.lines().map(|l| l.split(sep).collect()).collect();
        assert_eq!(flows.len(), ext.len(), "{}: flow count", c.name);
        assert_eq!((l2.len(), keys.len()), (ext.len(), ext.len()), "{}", c.name);
        for (i, f) in flows.iter().enumerate() {
            // The same flow: addresses, and the source port (nfdump zeroes ICMP's).
            let k = &keys[i];
            let (sa, da, sp) = c.key_cols;
            let icmp = f.protocol == 1 || f.protocol == 58;
            let same = f.src_addr == k[sa].trim().parse::<IpAddr>().unwrap()
                && f.dst_addr == k[da].trim().parse::<IpAddr>().unwrap()
                && sp.is_none_or(|sp| icmp || k[sp] == f.src_port.to_string());
            assert!(same, "{} flow {i}: ours {f:?}\nnfdump {k:?}", c.name);
            if c.key_cols.2.is_some() && c.name != "nat-vlan" {
                // Counters too (ASA NSEL sends them as initiator/responder octets, 231/232).
                let scale = u64::from(f.sampling_interval.max(1));
                let got = [f.packets, f.octets, f.rev_packets, f.rev_octets].map(|v| v * scale);
                let want = [9, 10, 11, 12].map(|j| k[j].parse::<u64>().unwrap());
                if got != want {
                    failures.push(format!(
                        "{} flow {i} counters: ours {got:?} nfdump {want:?}",
                        c.name
                    ));
                }
            }
            let (o, w) = (ours(f), theirs(ext[i], l2[i]));
            for col in 0..COLUMNS.len() {
                let decided = DECISIONS.iter().position(|d| {
                    d.capture == c.name && d.column == COLUMNS[col] && (d.applies)(f)
                });
                let want = match decided {
                    Some(d) => {
                        used[d] += 1;
                        (DECISIONS[d].nfdump)(f)
                    }
                    None => o[col].clone(),
                };
                if want != w[col] {
                    failures.push(format!(
                        "{} flow {i} {}: ours {}{} nfdump {} ({} -> {})",
                        c.name,
                        COLUMNS[col],
                        o[col],
                        decided.map_or(String::new(), |d| format!(
                            " (decided: nfdump {want}, as {})",
                            DECISIONS[d].reason
                        )),
                        w[col],
                        f.src_addr,
                        f.dst_addr
                    ));
                }
            }
        }
        all.extend(flows.into_iter().map(|f| (c.name.clone(), f)));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for (d, n) in DECISIONS.iter().zip(&used) {
        assert!(*n > 0, "decision {}/{} never applied", d.capture, d.column);
    }
    // The packets' own values where a decision says nfdump stores something else: make_nat.py's
    // IPFIX flow ids, l2-ipfix's engine-13 ids (selectors 81 to 88, testdata/l2/README.md).
    let of = |name: &'static str| all.iter().filter(move |(n, _)| n == name).map(|(_, f)| f);
    let ids: Vec<u64> = of("nat-vlan").take(3).map(|f| f.flow_id).collect();
    assert_eq!(ids, [1001, 0x1_0000_0002, 0]);
    let nbar: Vec<String> = of("l2-ipfix")
        .filter(|f| f.app_id >> 56 == 13)
        .map(|f| app_id_text(f.app_id))
        .collect();
    assert_eq!(
        nbar,
        (81..=88).map(|s| format!("13..{s}")).collect::<Vec<_>>()
    );
    // Real values were compared, not only zeros, and from the vendors' own packets (the counts
    // are those of nfdump's printouts).
    let count = |name: &'static str, p: fn(&FlowRecord) -> bool| of(name).filter(|f| p(f)).count();
    fn nat(f: &FlowRecord) -> bool {
        !f.xlate_src_addr.is_unspecified()
    }
    // A Cisco ASA 8.4: NAT as v9 fields 40001-40004, connection ids (148).
    let asa = "netflow-9-cisco-asa";
    assert_eq!(count(asa, |f| nat(f) && f.flow_id != 0), 14);
    assert_eq!(
        count(asa, |f| f.xlate_src_port != 0 || f.xlate_dst_port != 0),
        13
    );
    // A newer ASA: IANA NAT ids (225-228; 281/282 in v9), connection ids, and bytes only as
    // initiator/responder octets (231/232).
    let asa2 = "netflow-9-cisco-asa-2";
    assert_eq!(count(asa2, |f| nat(f) && f.flow_id > 700_000_000), 19);
    assert_eq!(count(asa2, |f| f.octets != 0 && f.rev_octets != 0), 15);
    assert_eq!(count("ipfix-mikrotik-routeros-6-39-2", nat), 28);
    // A Cisco 1941: dot1qVlanId (243), source MACs, NBAR ids; an ASR 1001-X's NBAR ids.
    let c1941 = "netflow-9-cisco-1941-k9-release-15-1";
    assert_eq!(count(c1941, |f| f.src_vlan != 0), 13);
    assert_eq!(count(c1941, |f| f.src_mac != 0 && f.app_id != 0), 29);
    assert_eq!(count("netflow-9-cisco-asr1001-x", |f| f.app_id != 0), 25);
    // An EdgeRouter: 56/80 in one template, 81/57 in the other.
    let edge = "netflow-9-ubiquiti-edgerouter-with-mpls-labels";
    assert_eq!(count(edge, |f| f.src_mac != 0 && f.dst_mac != 0), 10);
    assert!(count("l2-ipfix", |f| f.mpls_label3 != 0) >= 6);
    assert!(count("nat-vlan", |f| f.end_reason != 0 && f.dst_vlan != 0) >= 2);
}
