//! `flow-stat --top ... --min / --distinct / --biflow` against nfdump 1.7.1's view of the same
//! nfcapd files (`testdata/nfdump/groups/`, written by `testdata/nfdump/make_groups.sh`):
//! thresholds against nfdump's `-A` groups filtered here, distinct counts against counts made
//! from nfdump's listing of the flows, conversations against nfdump's bidirectional `-b`
//! aggregation and against its `-A srcip,dstip` groups folded here.

use flowkit_core::testing::testdata;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::process::{Command, Output};

const FILES: [&str; 6] = [
    "scenario-ipfix",
    "scenario-v9-lzo",
    "softflowd-ipfix-biflow-lz4",
    "softflowd-v5-sampled-lz4",
    "pmacct-v9-sampled-lzo",
    "pmacct-ipv6-ipfix",
];

/// The measures after the keys, as the goldens and flow-stat's CSV have them.
const MEASURES: [&str; 7] = [
    "flows", "packets", "octets", "duration", "bps", "pps", "bpp",
];

fn stat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-stat"))
        .args(args)
        .current_dir(testdata::dir().join("nfdump"))
        .output()
        .unwrap()
}

/// flow-stat's CSV: the header and the rows, without the rank.
fn table(args: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let o = stat(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut r = csv::Reader::from_reader(o.stdout.as_slice());
    let head: Vec<String> = r
        .headers()
        .unwrap()
        .iter()
        .skip(1)
        .map(String::from)
        .collect();
    let rows = r
        .records()
        .map(|row| row.unwrap().iter().skip(1).map(String::from).collect())
        .collect();
    (head, rows)
}

/// The named columns of `rows`, joined by commas.
fn columns(head: &[String], rows: &[Vec<String>], names: &[&str]) -> Vec<String> {
    let at: Vec<usize> = (names.iter())
        .map(|n| {
            head.iter()
                .position(|h| h == n)
                .unwrap_or_else(|| panic!("no {n}: {head:?}"))
        })
        .collect();
    let mut lines: Vec<String> = (rows.iter())
        .map(|r| {
            at.iter()
                .map(|&i| r[i].as_str())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    lines.sort();
    lines
}

/// A golden's lines split at commas, nfdump's wrapped durations (an end before the start,
/// wrapped round 2^64 ms) read as flow-stat's 0.
fn golden(name: &str, keys: usize) -> Vec<Vec<String>> {
    let text = testdata::read_text(&format!("nfdump/groups/{name}")).unwrap();
    let rows: Vec<Vec<String>> = (text.lines())
        .map(|l| {
            let mut cells: Vec<String> = l.split(',').map(String::from).collect();
            if cells.len() == keys + MEASURES.len() {
                let d = &mut cells[keys + 3];
                if d.parse::<u64>().map_or(true, |ms| ms > i64::MAX as u64) {
                    *d = "0".into();
                }
            }
            cells
        })
        .collect();
    assert!(!rows.is_empty(), "{name}");
    rows
}

fn number(cell: &str) -> u64 {
    cell.parse().unwrap_or_else(|_| panic!("{cell:?}"))
}

#[test]
fn thresholds_keep_the_groups_nfdump_has_over_them() {
    // (--min arguments, the same test on a golden row's measures [flows, packets, octets,
    // duration, bps, pps, bpp], written out here)
    type Keep = fn(&[u64]) -> bool;
    let cases: [(&[&str], Keep); 5] = [
        (&["--min", "octets=10k"], |m| m[2] >= 10_000),
        (&["--min", "flows=2", "--min", "packets=20"], |m| {
            m[0] >= 2 && m[1] >= 20
        }),
        (&["--min", "bps=1k"], |m| m[4] >= 1_000),
        (&["--min", "duration=60000", "--min", "pps=1"], |m| {
            m[3] >= 60_000 && m[5] >= 1
        }),
        (&["--min", "bpp=0.5k", "--min", "octets=100k"], |m| {
            m[6] >= 500 && m[2] >= 100_000
        }),
    ];
    let names: Vec<&str> = ["srcaddr", "dstport"].into_iter().chain(MEASURES).collect();
    for (args, keep) in cases {
        let (mut kept, mut all) = (0, 0);
        for file in FILES {
            let rows = golden(&format!("{file}.srcip+dstport.csv"), 2);
            let mut want: Vec<String> = (rows.iter())
                .filter(|r| keep(&r[2..].iter().map(|c| number(c)).collect::<Vec<_>>()))
                .map(|r| r.join(","))
                .collect();
            want.sort();
            let path = format!("{file}.nfcapd");
            let mut cli = vec!["--csv", "--count", "0", "--top", "srcaddr,dstport"];
            cli.extend(args);
            cli.push(&path);
            let (head, got) = table(&cli);
            assert_eq!(columns(&head, &got, &names), want, "{file} {args:?}");
            (kept, all) = (kept + want.len(), all + rows.len());
        }
        // Each case keeps some groups and drops others, over the six files.
        assert!(kept > 0 && kept < all, "{args:?}: {kept} of {all}");
    }
}

#[test]
fn thresholds_come_before_the_count() {
    for file in FILES {
        let rows = golden(&format!("{file}.srcip+dstport.csv"), 2);
        let mut want: Vec<u64> = (rows.iter())
            .filter(|r| number(&r[2]) >= 2)
            .map(|r| number(&r[4]))
            .collect();
        want.sort_unstable_by(|a, b| b.cmp(a));
        want.truncate(5);
        let path = format!("{file}.nfcapd");
        let (head, got) = table(&[
            "--csv",
            "--top",
            "srcip,dstport",
            "--min",
            "flows=2",
            "--by",
            "octets",
            "--count",
            "5",
            &path,
        ]);
        let at = head.iter().position(|h| h == "octets").unwrap();
        let got: Vec<u64> = got.iter().map(|r| number(&r[at])).collect();
        assert_eq!(got, want, "{file}");
    }
}

#[test]
fn distinct_counts_equal_counts_from_nfdumps_listing() {
    let mut most = 0;
    for file in FILES {
        let path = format!("{file}.nfcapd");
        for (keys, golden_keys) in [("srcaddr", "srcip"), ("srcaddr,dstaddr", "srcip+dstip")] {
            let n = keys.split(',').count();
            let want: Vec<String> =
                golden(&format!("{file}.{golden_keys}.distinct-dstport.csv"), n)
                    .iter()
                    .map(|r| r.join(","))
                    .collect();
            let (head, rows) = table(&[
                "--csv",
                "--count",
                "0",
                "--top",
                keys,
                "--distinct",
                "dstport",
                &path,
            ]);
            let mut names: Vec<&str> = keys.split(',').collect();
            names.push("distinct_dstport");
            let mut want = want;
            want.sort();
            assert_eq!(columns(&head, &rows, &names), want, "{file} {keys}");
            most = most.max(
                want.iter()
                    .map(|l| number(l.rsplit(',').next().unwrap()))
                    .max()
                    .unwrap(),
            );

            // --by distinct: the largest counts first.
            let mut counts: Vec<u64> = want
                .iter()
                .map(|l| number(l.rsplit(',').next().unwrap()))
                .collect();
            counts.sort_unstable_by(|a, b| b.cmp(a));
            counts.truncate(3);
            let (head, rows) = table(&[
                "--csv",
                "--count",
                "3",
                "--by",
                "distinct",
                "--top",
                keys,
                "--distinct",
                "dst_port",
                &path,
            ]);
            let at = head.iter().position(|h| h == "distinct_dst_port").unwrap();
            let got: Vec<u64> = rows.iter().map(|r| number(&r[at])).collect();
            assert_eq!(got, counts, "{file} {keys} --by distinct");
        }
    }
    assert!(most > 100, "a scanner's many ports are counted: {most}");
}

/// An address as flow-stat orders key values: IPv4 as IPv4-mapped IPv6, as a number.
fn addr_number(text: &str) -> u128 {
    match text.parse::<IpAddr>().unwrap() {
        IpAddr::V4(a) => u128::from(a.to_ipv6_mapped()),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// A conversation's two ends in one order whatever order they came in.
fn unordered(a: String, b: String) -> String {
    match a <= b {
        true => format!("{a}|{b}"),
        false => format!("{b}|{a}"),
    }
}

#[test]
fn conversations_equal_nfdump_bidirectional_aggregation() {
    let keys = "srcaddr,srcport,dstaddr,dstport,proto";
    let mut folded = 0;
    for file in FILES {
        let path = format!("{file}.nfcapd");
        let (head, rows) = table(&["--csv", "--count", "0", "--biflow", "--top", keys, &path]);
        assert_eq!(
            head[..12].join(","),
            format!("{keys},{}", MEASURES.join(","))
        );
        let mut got = Vec::new();
        for r in &rows {
            // The lower end first: address, then port.
            let low = (addr_number(&r[0]), number(&r[1]));
            let high = (addr_number(&r[2]), number(&r[3]));
            assert!(low <= high, "{file}: {r:?}");
            // nfdump folds TCP and UDP only.
            if r[4] == "tcp" || r[4] == "udp" {
                let ends = unordered(format!("{} {}", r[0], r[1]), format!("{} {}", r[2], r[3]));
                got.push(format!("{ends},{},{}", r[4], r[5..12].join(",")));
            }
        }
        got.sort();
        let mut want: Vec<String> = golden(&format!("{file}.bidir-5tuple.csv"), 5)
            .into_iter()
            .map(|r| {
                let ends = unordered(format!("{} {}", r[0], r[1]), format!("{} {}", r[2], r[3]));
                let proto = if r[4] == "6" { "tcp" } else { "udp" };
                format!("{ends},{proto},{}", r[5..].join(","))
            })
            .collect();
        want.sort();
        assert_eq!(got, want, "{file}");
        folded += want
            .iter()
            .filter(|l| number(l.split(',').nth(2).unwrap()) > 1)
            .count();
    }
    assert!(
        folded > 1000,
        "conversations of more than one flow: {folded}"
    );
}

#[test]
fn address_conversations_equal_nfdumps_address_pairs_folded() {
    for file in FILES {
        // nfdump -A srcip,dstip, both directions of each address pair summed here.
        let mut want: BTreeMap<String, [u64; 3]> = BTreeMap::new();
        for r in golden(&format!("{file}.srcip+dstip.csv"), 2) {
            let sums = want
                .entry(unordered(r[0].clone(), r[1].clone()))
                .or_default();
            for (s, c) in sums.iter_mut().zip(&r[2..5]) {
                *s += number(c);
            }
        }
        let path = format!("{file}.nfcapd");
        for keys in ["srcaddr,dstaddr", "pair"] {
            let (head, rows) = table(&["--csv", "--count", "0", "--biflow", "--top", keys, &path]);
            let mut got: BTreeMap<String, [u64; 3]> = BTreeMap::new();
            // `pair` is two columns too: one value per CSV cell.
            assert_eq!(head[..2], ["srcaddr", "dstaddr"], "{keys}");
            let at = head.iter().position(|h| h == "flows").unwrap();
            for r in rows {
                let (a, b) = (r[0].clone(), r[1].clone());
                assert!(addr_number(&a) <= addr_number(&b), "{file}: {a} {b}");
                let sums = [number(&r[at]), number(&r[at + 1]), number(&r[at + 2])];
                assert!(got.insert(unordered(a, b), sums).is_none(), "{file}: twice");
            }
            assert_eq!(got, want, "{file} {keys}");
        }
    }
}

#[test]
fn classic_keys_show_new_measures_only_when_named() {
    let head = |args: &[&str]| table(args).0.join(",");
    let f = "scenario-ipfix.nfcapd";
    assert_eq!(
        head(&["--csv", "--top", "srcaddr", f]),
        "srcaddr,flows,packets,octets,share_flows,counts"
    );
    assert_eq!(
        head(&["--csv", "--top", "srcaddr", "--by", "bps", f]),
        "srcaddr,flows,packets,octets,duration,bps,pps,bpp,share_flows,counts"
    );
    assert_eq!(
        head(&[
            "--csv",
            "--top",
            "dstport",
            "--distinct",
            "srcaddr",
            "--by",
            "octets",
            f
        ]),
        "dstport,flows,packets,octets,distinct_srcaddr,share_octets,counts"
    );
}

#[test]
fn bad_measure_arguments_are_usage_errors() {
    let f = "scenario-ipfix.nfcapd";
    for (args, says) in [
        (
            vec!["--top", "srcaddr,dstport", "--biflow"],
            "needs its other side",
        ),
        (
            vec!["--top", "srcaddr/24,dstaddr", "--biflow"],
            "same prefix length",
        ),
        (vec!["--top", "proto,tos", "--biflow"], "folds key pairs"),
        (vec!["--top", "srcaddr", "--biflow"], "folds key pairs"),
        (
            vec!["--top", "srcaddr", "--by", "distinct"],
            "--distinct FIELD",
        ),
        (
            vec!["--top", "srcaddr", "--min", "distinct=3"],
            "--distinct FIELD",
        ),
        (
            vec!["--top", "srcaddr", "--distinct", "colour"],
            "not a field",
        ),
        (
            vec!["--top", "srcaddr", "--min", "weight=3"],
            "use flows, packets",
        ),
        (
            vec!["--top", "srcaddr", "--min", "octets=1m"],
            "not an amount",
        ),
        (vec!["--bin", "5m", "--by", "bps"], "--bin counts flows"),
        (vec!["--min", "flows=2"], "--top"),
        (vec!["--biflow"], "--top"),
    ] {
        let mut args = args;
        args.push(f);
        let o = stat(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}
