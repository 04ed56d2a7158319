//! `flow-stat --top KEY,KEY...` against nfdump's own aggregation of the same nfcapd files:
//! `testdata/nfdump/groups/` holds what nfdump 1.7.1 printed for `-A KEYS` (see
//! `testdata/nfdump/make_groups.sh`); every group, with its flows, packets, octets, duration,
//! bps, pps and bpp, must be the same.

use flowkit_core::testing::testdata;
use std::process::Command;

/// (nfdump's -A, the same keys for flow-stat)
const AGGREGATIONS: [(&str, &str); 5] = [
    ("srcip,dstport", "srcip,dstport"),
    ("srcip,dstip", "srcip,dstip"),
    ("srcip,dstip,dstport", "sa,da,%dp"),
    ("dstip,srcport", "dst_addr,src-port"),
    // nfdump's srcip4/24 leaves IPv6 sources at /64 here.
    ("srcip4/24,dstport", "srcaddr/24/64,dstport"),
];

const FILES: [&str; 6] = [
    "scenario-ipfix",
    "scenario-v9-lzo",
    "softflowd-ipfix-biflow-lz4",
    "softflowd-v5-sampled-lz4",
    "pmacct-v9-sampled-lzo",
    "pmacct-ipv6-ipfix",
];

/// The groups flow-stat finds, one line each as make_groups.sh writes nfdump's: keys, flows,
/// packets, octets, duration, bps, pps, bpp.
fn flow_stat_groups(file: &str, keys: &str) -> Vec<String> {
    let o = Command::new(env!("CARGO_BIN_EXE_flow-stat"))
        .args(["--csv", "--count", "0", "--top", keys, file])
        .current_dir(testdata::dir().join("nfdump"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut r = csv::Reader::from_reader(o.stdout.as_slice());
    let n = keys.split(',').count();
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        head[1..=n].join(","),
        keys,
        "key columns are named as written"
    );
    assert_eq!(
        head[n + 1..n + 8].join(","),
        "flows,packets,octets,duration,bps,pps,bpp"
    );
    let mut lines: Vec<String> = r
        .records()
        .map(|row| {
            let row = row.unwrap();
            row.iter().skip(1).take(n + 7).collect::<Vec<_>>().join(",")
        })
        .collect();
    lines.sort();
    lines
}

/// A golden line as flow-stat writes it: nfdump's duration of a group whose latest end is before
/// its earliest start (records with end before start) is the negative difference wrapped round
/// 2^64 ms; flow-stat says 0 (its rates are 0 in both).
fn as_flowkit(line: &str, keys: usize) -> String {
    let mut cells: Vec<&str> = line.split(',').collect();
    let duration = &mut cells[keys + 3];
    if duration
        .parse::<u64>()
        .map_or(true, |ms| ms > i64::MAX as u64)
    {
        *duration = "0";
    }
    cells.join(",")
}

#[test]
fn groups_equal_nfdump_aggregation() {
    for file in FILES {
        for (nfdump, ours) in AGGREGATIONS {
            let name = format!("{file}.{}.csv", nfdump.replace('/', "-").replace(',', "+"));
            let want = testdata::read_text(&format!("nfdump/groups/{name}")).unwrap();
            let keys = nfdump.split(',').count();
            let mut want: Vec<String> = want.lines().map(|l| as_flowkit(l, keys)).collect();
            want.sort();
            assert!(!want.is_empty(), "{name}");
            let got = flow_stat_groups(&format!("{file}.nfcapd"), ours);
            assert_eq!(got.len(), want.len(), "{name}: number of groups");
            assert_eq!(got, want, "{name}");
        }
    }
}

#[test]
fn bad_group_keys_are_usage_errors() {
    for (keys, says) in [
        ("srcaddr,bogus", "not a field"),
        ("start_ms", "a time is not a group key"),
        ("srcaddr,octets", "a counter is summed"),
        ("dstport/24", "only addresses take a prefix length"),
        ("srcaddr/129", "above 128"),
        ("sa,srcaddr", "src_addr is a key already"),
        ("sa,da,sp,dp,proto,tos", "at most 5 keys"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_flow-stat"))
            .args(["--top", keys, "scenario-ipfix.nfcapd"])
            .current_dir(testdata::dir().join("nfdump"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{keys}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{keys}: {err}");
        assert!(o.stdout.is_empty(), "{keys}");
    }
}
