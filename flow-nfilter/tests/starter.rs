//! The shipped generic filters (filters/filter.cfg, built in) on real flows: the sample day and
//! the vendors' nfcapd files of testdata/nfdump/vendors. What each definition should pass is
//! decided per flow from the peers' own printouts (flow-tools' `flow-print -f 5` of the day,
//! nfdump's `.truth.txt` of each vendor file) with the standard library's address tests and
//! the RFC blocks written out below, never with flowkit's filter code.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command;

/// One flow as a peer printed it.
struct Flow {
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    src_port: u16,
    dst_port: u16,
}

/// A port column: a number, or ICMP's `type.code` (kept as type * 256 + code, as flow-tools).
fn port(s: &str) -> u16 {
    match s.split_once('.') {
        Some((t, c)) => t.parse::<u16>().unwrap() * 256 + c.parse::<u16>().unwrap(),
        None => s.parse().unwrap(),
    }
}

/// The flows of nfdump's `|`-separated truth file (src, dst, sport, dport, protocol at 2..7).
fn nfdump_truth(name: &str) -> Vec<Flow> {
    let text = flowkit_core::testing::testdata::read_text(name).unwrap();
    text.lines()
        .map(|l| {
            let c: Vec<&str> = l.split('|').collect();
            Flow {
                src: c[2].parse().unwrap(),
                dst: c[3].parse().unwrap(),
                src_port: port(c[4]),
                dst_port: port(c[5]),
                protocol: c[6].parse().unwrap(),
            }
        })
        .collect()
}

/// The sample day's flows as flow-tools' `flow-print -f 5` printed them.
fn sample_day() -> Vec<Flow> {
    let text =
        flowkit_core::testing::testdata::read_text("flow-tools/expected/flow-print-f5.txt.gz")
            .unwrap();
    text.lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            Flow {
                src: w[3].parse().unwrap(),
                src_port: w[4].parse().unwrap(),
                dst: w[6].parse().unwrap(),
                dst_port: w[7].parse().unwrap(),
                protocol: w[8].parse().unwrap(),
            }
        })
        .collect()
}

/// Private space: RFC 1918, IPv6 unique local (fc00::/7) and link-local (fe80::/10).
fn private(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => v.is_private(),
        IpAddr::V6(v) => {
            (v.segments()[0] & 0xfe00) == 0xfc00 || (v.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

fn in_v4(a: &Ipv4Addr, net: [u8; 4], len: u32) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(*a) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn in_v6(a: &Ipv6Addr, net: &str, len: u32) -> bool {
    let net: Ipv6Addr = net.parse().unwrap();
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    u128::from(*a) & mask == u128::from(net) & mask
}

/// Team Cymru's traditional bogons that are not private space (RFC 6890's special blocks).
fn bogon_public(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => {
            v.octets()[0] == 0
                || in_v4(v, [100, 64, 0, 0], 10)
                || v.is_loopback()
                || v.is_link_local()
                || in_v4(v, [192, 0, 0, 0], 24)
                || v.is_documentation()
                || in_v4(v, [198, 18, 0, 0], 15)
                || v.octets()[0] >= 224
        }
        IpAddr::V6(v) => {
            in_v6(v, "::", 8)
                || in_v6(v, "100::", 64)
                || in_v6(v, "2001:db8::", 32)
                || in_v6(v, "fec0::", 10)
                || v.is_multicast()
        }
    }
}

fn multicast(a: &IpAddr) -> bool {
    a.is_multicast()
}

fn either_port(f: &Flow, ports: &[u16]) -> bool {
    ports.contains(&f.src_port) || ports.contains(&f.dst_port)
}

fn ntp(f: &Flow) -> bool {
    f.protocol == 17 && either_port(f, &[123])
}

fn known_good(f: &Flow) -> bool {
    let test_net_1 = |a: &IpAddr| matches!(a, IpAddr::V4(v) if in_v4(v, [192, 0, 2, 0], 24));
    test_net_1(&f.src)
        || test_net_1(&f.dst)
        || multicast(&f.dst)
        || f.dst == IpAddr::V4(Ipv4Addr::BROADCAST)
        || ntp(f)
}

/// Whether a flow should pass a definition.
type Passes = fn(&Flow) -> bool;

/// Each definition checked and what it should pass.
fn definitions() -> Vec<(&'static str, Passes)> {
    vec![
        ("rfc1918", |f| private(&f.src) && private(&f.dst)),
        ("rfc1918-src", |f| private(&f.src)),
        ("rfc1918-dst", |f| private(&f.dst)),
        ("not-rfc1918", |f| !(private(&f.src) && private(&f.dst))),
        ("bogon-src", |f| bogon_public(&f.src) || private(&f.src)),
        ("bogon-src-public", |f| bogon_public(&f.src)),
        ("multicast", |f| multicast(&f.dst)),
        ("ntp", ntp),
        ("dns", |f| either_port(f, &[53, 853])),
        ("ssh", |f| either_port(f, &[22])),
        ("web", |f| {
            either_port(f, &[80, 443, 8000, 8008, 8080, 8443])
        }),
        ("snmp", |f| either_port(f, &[161, 162])),
        ("known-good", known_good),
        ("not-known-good", |f| !known_good(f)),
    ]
}

/// `flow-nfilter -F def --count input` with the built-in file (run where no filter.cfg is).
fn count(def: &str, input: &std::path::Path) -> usize {
    let o = Command::new(env!("CARGO_BIN_EXE_flow-nfilter"))
        .args(["-F", def, "--count"])
        .arg(input)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("FLOWKIT_FILTERS")
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{def}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap().trim().parse().unwrap()
}

#[test]
fn starter_definitions_pass_what_the_peers_flows_say() {
    let mut cases = vec![("2010-11-09".to_string(), sample_day())];
    let names = flowkit_core::testing::testdata::names_ending("nfdump/vendors", ".nfcapd");
    assert!(names.len() >= 10, "{names:?}");
    for n in names {
        let truth = format!("nfdump/vendors/{}", n.replace(".nfcapd", ".truth.txt"));
        cases.push((format!("nfdump/vendors/{n}"), nfdump_truth(&truth)));
    }
    let mut seen = std::collections::BTreeMap::new();
    for (input, flows) in &cases {
        let path = flowkit_core::testing::testdata::path(input);
        for (def, passes) in definitions() {
            let want = flows.iter().filter(|f| passes(f)).count();
            assert_eq!(count(def, &path), want, "{def} on {input}");
            *seen.entry(def).or_insert(0) += want;
        }
    }
    // The data exercises every definition both ways (some flows pass, some do not), except
    // public bogons and multicast, which no real capture here has (bogons: see the boundary
    // test below).
    let total: usize = cases.iter().map(|(_, f)| f.len()).sum();
    for (def, n) in seen {
        if !["bogon-src-public", "multicast"].contains(&def) {
            assert!(n > 0 && n < total, "{def}: {n} of {total} flows pass");
        }
    }
}

/// Sources on both sides of each bogon block's edges, from 8.8.8.8: which pass bogon-src-public
/// and bogon-src is written out by hand.
#[test]
fn bogon_blocks_end_where_the_rfcs_say() {
    let cases: &[(&str, bool, bool)] = &[
        // (source, bogon-src-public, bogon-src)
        ("0.255.255.255", true, true),
        ("1.0.0.0", false, false),
        ("100.63.255.255", false, false),
        ("100.64.0.0", true, true),
        ("100.127.255.255", true, true),
        ("100.128.0.0", false, false),
        ("127.0.0.1", true, true),
        ("169.254.10.1", true, true),
        ("172.15.255.255", false, false),
        ("172.16.0.1", false, true),
        ("172.31.255.255", false, true),
        ("172.32.0.0", false, false),
        ("192.0.0.8", true, true),
        ("192.0.1.1", false, false),
        ("192.0.2.1", true, true),
        ("192.168.1.1", false, true),
        ("198.17.255.255", false, false),
        ("198.19.255.255", true, true),
        ("198.20.0.0", false, false),
        ("203.0.113.9", true, true),
        ("223.255.255.255", false, false),
        ("224.0.0.1", true, true),
        ("255.255.255.255", true, true),
        ("::1", true, true),
        ("2001:db8::1", true, true),
        ("2001:db9::1", false, false),
        ("fd00::1", false, true),
        ("fec0::1", true, true),
        ("2a01:e35::1", false, false),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (src, public, any) in cases {
        let src: IpAddr = src.parse().unwrap();
        let dst: IpAddr = if src.is_ipv4() {
            "8.8.8.8".parse().unwrap()
        } else {
            "2001:4860:4860::8888".parse().unwrap()
        };
        let path = dir.path().join(format!("{src}.fk").replace(':', "_"));
        let flow = flowkit_core::FlowRecord {
            src_addr: src,
            dst_addr: dst,
            protocol: 6,
            packets: 1,
            octets: 40,
            ..Default::default()
        };
        flowkit_core::testing::testdata::write_archive(&path, &[flow]);
        assert_eq!(count("bogon-src-public", &path), *public as usize, "{src}");
        assert_eq!(count("bogon-src", &path), *any as usize, "{src}");
    }
}

/// The sample's investigation filters are not in the built-in file: a user outside testdata/
/// is told so, with the file's name.
#[test]
fn the_samples_filters_are_not_built_in() {
    let o = Command::new(env!("CARGO_BIN_EXE_flow-nfilter"))
        .args(["-F", "victim-browsing", "--check"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("FLOWKIT_FILTERS")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("<built-in filters/filter.cfg>"), "{err}");
    assert!(err.contains("victim-browsing"), "{err}");
}
