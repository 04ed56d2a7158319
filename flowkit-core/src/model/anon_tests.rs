//! Crypto-PAn against published vectors: the 100 addresses of the reference implementation's
//! sample trace (IPv4), and IPv6 addresses as the independent yacryptopan maps them.

use super::*;
use crate::testing::testdata;

/// (key, [(address, anonymised)]) of a vector file under testdata/anon.
fn vectors(name: &str) -> ([u8; KEY_LEN], Vec<(IpAddr, IpAddr)>) {
    let text = testdata::read_text(&format!("anon/{name}")).unwrap();
    let mut key = None;
    let mut pairs = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut w = line.split_whitespace();
        let (a, b) = (w.next().unwrap(), w.next().unwrap());
        if a == "key" {
            key = Some(parse_key(b.as_bytes()).unwrap());
        } else {
            pairs.push((a.parse().unwrap(), b.parse().unwrap()));
        }
    }
    (key.unwrap(), pairs)
}

#[test]
fn reference_sample_trace_ipv4() {
    let (key, pairs) = vectors("cryptopan-reference.txt");
    assert_eq!(pairs.len(), 100);
    let pan = CryptoPan::new(&key);
    for (a, want) in pairs {
        assert_eq!(pan.anonymize(a), want, "{a}");
    }
}

#[test]
fn ipv6_as_yacryptopan_computes_it() {
    let (key, pairs) = vectors("yacryptopan-ipv6.txt");
    assert!(pairs.len() >= 20);
    let pan = CryptoPan::new(&key);
    for (a, want) in pairs {
        assert_eq!(pan.anonymize(a), want, "{a}");
    }
}

/// An IPv6 address whose first 32 bits are an IPv4 address of the reference trace gets that
/// address's published anonymisation as its first 32 bits (one pad for both lengths).
#[test]
fn ipv6_prefix_of_an_ipv4_address_anonymises_as_the_reference() {
    let (key, pairs) = vectors("cryptopan-reference.txt");
    let pan = CryptoPan::new(&key);
    for (a, want) in pairs {
        let (IpAddr::V4(a), IpAddr::V4(want)) = (a, want) else {
            unreachable!()
        };
        let v6 = Ipv6Addr::from((u32::from(a) as u128) << 96 | 0xdead_beef);
        let got = u128::from(pan.anonymize_v6(v6));
        assert_eq!((got >> 96) as u32, u32::from(want), "{a}");
    }
}

#[test]
fn keys_in_nfanon_forms_and_bad_keys() {
    let (key, _) = vectors("cryptopan-reference.txt");
    let hex = "1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202";
    assert_eq!(parse_key(format!("0x{hex}\n").as_bytes()).unwrap(), key);
    assert_eq!(parse_key(hex.to_uppercase().as_bytes()).unwrap(), key);
    assert_eq!(parse_key(&key).unwrap(), key);
    let text = "32-char-str-for-AES-key-and-pad.";
    assert_eq!(
        &parse_key(format!("{text}\n").as_bytes()).unwrap(),
        text.as_bytes()
    );
    for bad in ["short", "0x1234", &format!("0x{}", "g".repeat(64))] {
        assert!(parse_key(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn anonymizer_keeps_unspecified_and_maps_every_address_field() {
    let (key, pairs) = vectors("cryptopan-reference.txt");
    let mut anon = Anonymizer::new(&key);
    let mut r = FlowRecord {
        src_addr: pairs[0].0,
        dst_addr: pairs[1].0,
        next_hop: pairs[2].0,
        exporter: pairs[3].0,
        xlate_src_addr: pairs[4].0,
        xlate_dst_addr: pairs[0].0,
        src_mac: 0x0011_2233_4455,
        dst_mac: 0x6677_8899_aabb,
        src_port: 1234,
        octets: 99,
        src_as: 65001,
        dst_as: 4_200_000_000,
        ..FlowRecord::default()
    };
    let unchanged = r.clone();
    anon.record(&mut r);
    assert_eq!(
        [r.src_addr, r.dst_addr, r.next_hop, r.exporter],
        [pairs[0].1, pairs[1].1, pairs[2].1, pairs[3].1]
    );
    assert_eq!(
        [r.xlate_src_addr, r.xlate_dst_addr],
        [pairs[4].1, pairs[0].1]
    );
    assert_eq!((r.src_mac, r.dst_mac), (0, 0));
    assert_eq!((r.src_port, r.octets), (1234, 99));
    assert_eq!((r.src_as, r.dst_as), (0, 0));
    let mut z = FlowRecord {
        next_hop: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        ..unchanged
    };
    anon.record(&mut z);
    assert_eq!(z.exporter, pairs[3].1);
    assert_eq!(z.next_hop, IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    assert_eq!(anon.flows, 2);
    anon.keep_as = true;
    let mut k = unchanged.clone();
    anon.record(&mut k);
    assert_eq!((k.src_as, k.dst_as), (65001, 4_200_000_000));
}
