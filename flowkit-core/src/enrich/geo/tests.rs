//! Lookups in MaxMind's test databases against the JSON those databases were built from
//! ([`crate::testing::geoip`]): for the first and last address of every network in the JSON,
//! the most specific network of the JSON holding it decides the answer.

use super::*;
use crate::testing::{geoip, testdata};

#[test]
fn countries_equal_the_source_json() {
    let nets = geoip::source("GeoIP2-Country-Test");
    let geo = GeoIp::open(&[testdata::path("geoip/GeoIP2-Country-Test.mmdb")]).unwrap();
    assert!(geo.check(GeoField::SrcCountry).is_ok());
    assert!(geo.check(GeoField::SrcAsn).is_err());
    let mut answered = 0;
    for ip in geoip::probes(&nets) {
        let want = geoip::country(&nets, ip);
        let got = geo
            .country(ip)
            .map(|c| String::from_utf8(c.to_vec()).unwrap());
        assert_eq!(got, want, "{ip}");
        answered += usize::from(got.is_some());
    }
    assert!(answered > 50, "{answered}");
    // Outside every network: no answer.
    assert_eq!(geo.country("10.1.2.3".parse().unwrap()), None);
}

#[test]
fn as_numbers_and_organisations_equal_the_source_json() {
    let nets = geoip::source("GeoLite2-ASN-Test");
    let geo = GeoIp::open(&[testdata::path("geoip/GeoLite2-ASN-Test.mmdb")]).unwrap();
    let mut answered = 0;
    for ip in geoip::probes(&nets) {
        let want = geoip::asn(&nets, ip);
        assert_eq!(geo.asn(ip), want, "{ip}");
        answered += usize::from(want.is_some());
    }
    assert!(answered > 50, "{answered}");
}

#[test]
fn bad_files_and_missing_kinds_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.mmdb");
    std::fs::write(&junk, b"not a database").unwrap();
    let e = GeoIp::open(&[&junk]).unwrap_err().to_string();
    assert!(e.contains("junk.mmdb") && e.contains("MaxMind DB"), "{e}");
    let e = GeoIp::open(&[dir.path().join("none.mmdb")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("none.mmdb"), "{e}");
    let geo = GeoIp::open(&[testdata::path("geoip/GeoLite2-ASN-Test.mmdb")]).unwrap();
    let e = geo.check(GeoField::DstCountry).unwrap_err().to_string();
    assert_eq!(
        e,
        "dst_country needs --geoip with a Country or City database"
    );
    assert_eq!(geo.fields().len(), 4);
}

#[test]
fn names_parse_in_every_spelling() {
    for (name, f) in [
        ("src_country", GeoField::SrcCountry),
        ("srccountry", GeoField::SrcCountry),
        ("dc", GeoField::DstCountry),
        ("DST-ASN", GeoField::DstAsn),
        ("src_as_org", GeoField::SrcAsOrg),
    ] {
        assert_eq!(GeoField::parse(name), Some(f), "{name}");
    }
    assert_eq!(GeoField::parse("src_city"), None);
}
