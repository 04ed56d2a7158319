//! `flow-stat --top KEYS --bin DURATION`: every bin's groups against the records of the file
//! (read with flowkit's nfdump reader) grouped per bin here, in a HashMap.

use flowkit_core::archive::nfdump::NfdumpReader;
use flowkit_core::model::block::FlowBlockBuf;
use flowkit_core::model::record::FlowRecord;
use flowkit_core::testing::testdata;
use std::collections::{BTreeMap, HashMap};
use std::process::Command;

/// `(bin, srcaddr, dstport)` to flows, packets, octets (both directions, as exported).
type Groups = BTreeMap<(String, String, String), (u64, u64, u64)>;

fn bin_text(ms: i64) -> String {
    let t = jiff::Timestamp::from_millisecond(ms).unwrap();
    t.to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// Every record of an nfcapd file, read with flowkit's reader.
fn read(file: &std::path::Path) -> Vec<FlowRecord> {
    let data = std::fs::read(file).unwrap();
    let mut r = NfdumpReader::new("t.nfcapd", &[], data.as_slice()).unwrap();
    let (mut buf, mut records) = (FlowBlockBuf::default(), Vec::new());
    while r.next_block(&mut buf, 4096).unwrap() > 0 {
        records.extend(buf.view().records());
    }
    records
}

#[test]
fn groups_per_bin_equal_the_records_grouped_per_bin() {
    let width = 300_000;
    for name in [
        "scenario-ipfix",
        "pmacct-ipv6-ipfix",
        "softflowd-ipfix-biflow-lz4",
    ] {
        let file = testdata::path(&format!("nfdump/{name}.nfcapd"));
        let records = read(&file);
        assert!(!records.is_empty(), "{name}");
        let mut want: Groups = BTreeMap::new();
        for r in &records {
            let bin = r.start_ms.div_euclid(width) * width;
            let key = (
                bin_text(bin),
                r.src_addr.to_string(),
                r.dst_port.to_string(),
            );
            let g = want.entry(key).or_default();
            g.0 += 1;
            g.1 += r.packets + r.rev_packets;
            g.2 += r.octets + r.rev_octets;
        }

        let o = Command::new(env!("CARGO_BIN_EXE_flow-stat"))
            .args(["--top", "srcaddr,dstport", "--bin", "5m", "--count", "0"])
            .args(["--csv", "--utc", "--raw-counts"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut r = csv::Reader::from_reader(o.stdout.as_slice());
        let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(head[..4], ["bin", "rank", "srcaddr", "dstport"]);
        let mut got: Groups = BTreeMap::new();
        // Per bin: ranks 1, 2, ... and flows never rising.
        let mut last: HashMap<String, (u64, u64)> = HashMap::new();
        for row in r.records() {
            let row = row.unwrap();
            let n = |i: usize| row[i].parse::<u64>().unwrap();
            let (rank, flows) = (n(1), n(4));
            let prev = last.insert(row[0].to_string(), (rank, flows));
            match prev {
                None => assert_eq!(rank, 1, "{row:?}"),
                Some((r, f)) => assert!(rank == r + 1 && flows <= f, "{row:?}"),
            }
            let key = (row[0].to_string(), row[2].to_string(), row[3].to_string());
            assert!(got.insert(key, (flows, n(5), n(6))).is_none(), "{row:?}");
        }
        assert_eq!(got, want, "{name}");
    }
}
