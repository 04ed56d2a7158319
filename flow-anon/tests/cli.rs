//! flow-anon as a user runs it: the addresses it writes are those nfdump's nfanon wrote for the
//! same files with the same key (IPv4); on the sample day the mapping is prefix-preserving,
//! one-to-one and the same in every run; keys in every accepted form, and bad ones refused.

use flowkit_core::model::record::FlowRecord;
use flowkit_core::pipeline::input::Input;
use flowkit_core::pipeline::scan::{ScanOptions, Scanner};
use flowkit_core::testing::testdata;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const DAY: &str = "2010-11-09/ft-v05.2010-11-09.000000+0000";
/// The key of the Crypto-PAn reference sample (testdata/anon/cryptopan-reference.txt).
const REFERENCE_KEY: &str = "0x1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202";

fn flow_anon(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-anon"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "status {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
}

fn read(path: &Path) -> Vec<FlowRecord> {
    let mut all = Vec::new();
    let mut scanner = Scanner::new(ScanOptions::default(), |m| panic!("{m}"));
    scanner
        .run(&[Input::File(path.to_path_buf())], &mut |batch| {
            for b in batch {
                all.extend((0..b.len).map(|i| b.get(i)));
            }
            Ok(())
        })
        .unwrap();
    all
}

fn key_file(dir: &Path) -> PathBuf {
    let k = dir.join("reference.key");
    std::fs::write(&k, format!("{REFERENCE_KEY}\n")).unwrap();
    k
}

#[test]
fn addresses_are_what_nfanon_wrote() {
    let t = tempfile::tempdir().unwrap();
    let key = key_file(t.path());
    for (name, original) in [
        (
            "netflow5-juniper-mx80",
            "nfdump/vendors/netflow5-juniper-mx80.nfcapd",
        ),
        (
            "netflow-9-cisco-asa-2",
            "nfdump/vendors/netflow-9-cisco-asa-2.nfcapd",
        ),
        (
            "ipfix-openbsd-pflow",
            "nfdump/vendors/ipfix-openbsd-pflow.nfcapd",
        ),
        (
            "softflowd-v5-sampled-lz4",
            "nfdump/softflowd-v5-sampled-lz4.nfcapd",
        ),
    ] {
        let out = t.path().join(format!("{name}.fk"));
        let original = testdata::path(original);
        ok(&flow_anon(&[
            "-K",
            key.to_str().unwrap(),
            original.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]));
        let ours = read(&out);
        let theirs = read(&testdata::path(&format!("anon/{name}.nfanon.nfcapd")));
        let before = read(&original);
        assert_eq!(ours.len(), theirs.len(), "{name}");
        assert_eq!(ours.len(), before.len(), "{name}");
        let mut next_hops = 0;
        let mut xlated = 0;
        for (i, ((o, t), b)) in ours.iter().zip(&theirs).zip(&before).enumerate() {
            let at = format!("{name} flow {i}");
            assert_eq!((o.src_addr, o.dst_addr), (t.src_addr, t.dst_addr), "{at}");
            assert_eq!(o.exporter, t.exporter, "{at}");
            assert_eq!((o.src_as, o.dst_as), (t.src_as, t.dst_as), "{at}");
            // nfanon maps an absent next hop (0.0.0.0) too; flow-anon keeps it absent.
            if b.next_hop.is_unspecified() {
                assert_eq!(o.next_hop, b.next_hop, "{at}");
            } else {
                assert_eq!(o.next_hop, t.next_hop, "{at}");
                next_hops += 1;
            }
            // Post-NAT addresses as nfanon wrote them (a Cisco ASA's NAT); absent ones stay
            // absent, as the next hop. MACs, which nfanon keeps, are dropped.
            for (ours, theirs, orig) in [
                (o.xlate_src_addr, t.xlate_src_addr, b.xlate_src_addr),
                (o.xlate_dst_addr, t.xlate_dst_addr, b.xlate_dst_addr),
            ] {
                match orig.is_unspecified() {
                    true => assert_eq!(ours, orig, "{at}"),
                    false => {
                        assert_eq!(ours, theirs, "{at}");
                        xlated += 1;
                    }
                }
            }
            assert_eq!((o.src_mac, o.dst_mac), (0, 0), "{at}");
            // Everything but the addresses, AS numbers and MACs is the original's.
            let restored = FlowRecord {
                src_addr: b.src_addr,
                dst_addr: b.dst_addr,
                xlate_src_addr: b.xlate_src_addr,
                xlate_dst_addr: b.xlate_dst_addr,
                src_mac: b.src_mac,
                dst_mac: b.dst_mac,
                next_hop: b.next_hop,
                exporter: b.exporter,
                src_as: b.src_as,
                dst_as: b.dst_as,
                ..o.clone()
            };
            assert_eq!(&restored, b, "{at}");
            assert_ne!(o.src_addr, b.src_addr, "{at}");
        }
        if name == "netflow5-juniper-mx80" {
            assert!(next_hops > 0, "the juniper sample has next hops");
        }
        if name == "netflow-9-cisco-asa-2" {
            assert!(xlated > 0, "the ASA sample has post-NAT addresses");
        }
    }
}

/// Length of the common prefix of two addresses of one family.
fn common_prefix(a: IpAddr, b: IpAddr) -> u32 {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) ^ u32::from(b)).leading_zeros(),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a) ^ u128::from(b)).leading_zeros(),
        _ => unreachable!("mixed families"),
    }
}

#[test]
fn new_key_gives_a_prefix_preserving_repeatable_mapping_of_the_day() {
    let t = tempfile::tempdir().unwrap();
    let key = t.path().join("new.key");
    ok(&flow_anon(&["--new-key", key.to_str().unwrap()]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = flow_anon(&["--new-key", key.to_str().unwrap()]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing key is not replaced"
    );
    let day = testdata::path(DAY);
    let run = |out: &str| {
        let p = t.path().join(out);
        ok(&flow_anon(&[
            "-K",
            key.to_str().unwrap(),
            day.to_str().unwrap(),
            "-o",
            p.to_str().unwrap(),
        ]));
        p
    };
    let (a, b) = (run("a.fk"), run("b.fk"));
    assert_eq!(read(&a), read(&b), "same key, same output");
    let before = read(&day);
    let after = read(&a);
    let mut map: HashMap<IpAddr, IpAddr> = HashMap::new();
    for (x, y) in before.iter().zip(&after) {
        for (o, n) in [(x.src_addr, y.src_addr), (x.dst_addr, y.dst_addr)] {
            assert_eq!(*map.entry(o).or_insert(n), n, "{o} mapped two ways");
        }
    }
    let pairs: Vec<(IpAddr, IpAddr)> = map.into_iter().collect();
    assert!(pairs.len() > 100, "{}", pairs.len());
    let mut seen = std::collections::HashSet::new();
    for (i, (o1, n1)) in pairs.iter().enumerate() {
        assert!(seen.insert(*n1), "two addresses map to {n1}");
        for (o2, n2) in &pairs[i + 1..] {
            assert_eq!(
                common_prefix(*o1, *o2),
                common_prefix(*n1, *n2),
                "{o1} {o2}"
            );
        }
    }
}

#[test]
fn key_forms_and_refusals() {
    let t = tempfile::tempdir().unwrap();
    let day = testdata::path(DAY);
    let by_file = t.path().join("f.fk");
    let key = key_file(t.path());
    ok(&flow_anon(&[
        "-K",
        key.to_str().unwrap(),
        "-r",
        day.to_str().unwrap(),
        "-w",
        by_file.to_str().unwrap(),
    ]));
    // nfanon's way: the key itself on the command line works, with a note.
    let by_arg = t.path().join("a.fk");
    let o = flow_anon(&[
        "-K",
        REFERENCE_KEY,
        day.to_str().unwrap(),
        "-o",
        by_arg.to_str().unwrap(),
    ]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("visible to other users"));
    assert_eq!(read(&by_file), read(&by_arg));
    // A 32-byte key file of raw bytes is the key as it is.
    let raw = t.path().join("raw.key");
    std::fs::write(&raw, [7u8; 32]).unwrap();
    ok(&flow_anon(&[
        "-K",
        raw.to_str().unwrap(),
        day.to_str().unwrap(),
        "-o",
        t.path().join("r.fk").to_str().unwrap(),
    ]));
    let bad = t.path().join("bad.key");
    std::fs::write(&bad, "0x1234\n").unwrap();
    for args in [
        vec!["-K", bad.to_str().unwrap(), day.to_str().unwrap()],
        vec!["-K", "nonsense", day.to_str().unwrap()],
        vec![day.to_str().unwrap()],
    ] {
        let o = flow_anon(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
}
