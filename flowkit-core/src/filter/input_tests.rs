//! Filter files as they arrive: bytes that are not UTF-8, a byte order mark, a NUL byte, an empty
//! definition, and files of 100,000 primitives and definitions.

use super::*;
use crate::model::block::FlowBlockBuf;
use crate::model::record::FlowRecord;
use jiff::tz::TimeZone;
use std::net::IpAddr;

fn utc() -> CompileOptions {
    CompileOptions { tz: TimeZone::UTC }
}

fn located(r: Result<FilterFile, FilterError>) -> Diagnostic {
    match r {
        Err(FilterError::Located(d)) => *d,
        Err(e) => panic!("not located: {e}"),
        Ok(_) => panic!("no error"),
    }
}

fn parse(text: &str) -> Result<FilterFile, FilterError> {
    FilterFile::parse(text, "t.cfg", &Variables::new())
}

#[test]
fn bytes_that_are_not_utf8_are_located() {
    // Latin-1 `é` (0xe9) in the third line, after ` permit 8`: line 3, column 10.
    let bytes = b"filter-primitive p\n type ip-port\n permit 8\xe90\n".to_vec();
    let e = FilterFile::text_from_bytes(bytes, "latin1.cfg").unwrap_err();
    let d = e.diagnostic().expect("located");
    assert_eq!((d.origin.as_str(), d.line, d.column), ("latin1.cfg", 3, 10));
    assert!(
        d.message.contains("not UTF-8") && d.message.contains("0xe9"),
        "{d}"
    );
    assert!(d.message.contains("byte offset 42"), "{d}");
    assert!(
        e.to_string().starts_with("latin1.cfg:3:10: not UTF-8"),
        "{e}"
    );
    // A sequence cut off at the end of the file.
    let e =
        FilterFile::text_from_bytes(b"filter-primitive \xe2\x82".to_vec(), "cut.cfg").unwrap_err();
    let d = e.diagnostic().expect("located");
    assert_eq!((d.line, d.column), (1, 18), "{d}");
    assert!(d.message.contains("0xe2 0x82"), "{d}");
    // UTF-8 text passes unchanged (names may hold any character but a blank).
    let ok = "filter-primitive café\n type ip-port\n permit 80\n";
    assert_eq!(
        FilterFile::text_from_bytes(ok.as_bytes().to_vec(), "ok.cfg").unwrap(),
        ok
    );
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let text = "\u{feff}filter-primitive web\n type ip-port\n permit 80\n\
                filter-definition d\n match ip-destination-port web\n";
    let f = parse(text).unwrap();
    assert_eq!(f.primitives[0].name, "web");
    f.compile("d", &utc()).unwrap();
    // Through the bytes path too, and columns on line 1 count from after the mark.
    let bytes = "\u{feff}filter-primitiv web\n".as_bytes().to_vec();
    let text = FilterFile::text_from_bytes(bytes, "bom.cfg").unwrap();
    let d = located(FilterFile::parse(&text, "bom.cfg", &Variables::new()));
    assert_eq!((d.line, d.column), (1, 1), "{d}");
    assert!(
        d.message.contains("unknown statement `filter-primitiv`"),
        "{d}"
    );
    // A mark anywhere else is not skipped: it is part of a word.
    let d = located(parse("filter-primitive web\n\u{feff}type ip-port\n"));
    assert_eq!((d.line, d.column), (2, 1), "{d}");
}

#[test]
fn a_nul_byte_is_located() {
    let d = located(parse("filter-primitive p\n type ip-port\n permit 80\0\n"));
    assert_eq!((d.origin.as_str(), d.line, d.column), ("t.cfg", 3, 11));
    assert!(d.message.contains("NUL byte"), "{d}");
    // Also in a comment: the file is not text.
    let d = located(parse("# \0\n"));
    assert_eq!((d.line, d.column), (1, 3), "{d}");
}

#[test]
fn an_empty_definition_is_an_error() {
    let prims = "filter-primitive web\n type ip-port\n permit 80\n";
    for body in ["", " or\n", " or\n or\n"] {
        let text = format!("{prims}filter-definition web-only\n match ip-destination-port web\nfilter-definition empty\n{body}");
        let d = located(parse(&text));
        assert_eq!((d.line, d.column), (6, 19), "{d}");
        assert!(
            d.message
                .contains("filter-definition `empty` has no `match` lines"),
            "{d}"
        );
    }
    // `invert` alone passes every flow, as in flow-tools; it says so outright, so it loads.
    let f = parse(&format!("{prims}filter-definition all\n invert\n")).unwrap();
    let c = f.compile("all", &utc()).unwrap();
    let block = FlowBlockBuf::from_records(&[FlowRecord::default()]);
    assert_eq!(c.select(&block.view(), &mut Vec::new()), 1);
    // Match lines that await a variable: reported when the definition is chosen.
    let f = parse(&format!("{prims}filter-definition v\n match @FIELD web\n")).unwrap();
    assert!(f
        .compile("v", &utc())
        .unwrap_err()
        .to_string()
        .contains("FIELD"));
}

fn ip_of(i: u32) -> IpAddr {
    IpAddr::V4((0x0a00_0000 + i).into())
}

/// 100,000 primitives, a definition each, and one definition using them all (a file of that
/// size took minutes to load when names were looked up by a linear search).
#[test]
fn a_file_of_100k_primitives_and_definitions_loads_and_selects_right() {
    const N: u32 = 100_000;
    let mut text = String::with_capacity(12 << 20);
    for i in 0..N {
        let a = ip_of(i);
        text.push_str(&format!(
            "filter-primitive p{i}\n type ip-address-prefix\n permit {a}/32\n\
             filter-definition d{i}\n match ip-source-address p{i}\n"
        ));
    }
    text.push_str("filter-definition all-of-them\n");
    for i in 0..N {
        if i > 0 {
            text.push_str(" or\n");
        }
        text.push_str(&format!(" match ip-source-address P{i}\n"));
    }
    let f = FilterFile::parse(&text, "big.cfg", &Variables::new()).unwrap();
    assert_eq!(
        (f.primitives.len(), f.definitions.len()),
        (100_000, 100_001)
    );
    let all = f.definition("all-of-them").unwrap();
    assert_eq!(f.primitives_of(all).len(), 100_000);
    let recs: Vec<FlowRecord> = [0, 1, 77_777, N - 1, N, 1 << 20]
        .iter()
        .map(|&i| FlowRecord {
            src_addr: ip_of(i),
            ..FlowRecord::default()
        })
        .collect();
    let block = FlowBlockBuf::from_records(&recs);
    let mut got = Vec::new();
    f.compile("all-of-them", &utc())
        .unwrap()
        .select(&block.view(), &mut got);
    assert_eq!(got, [true, true, true, true, false, false]);
    f.compile("D77777", &utc())
        .unwrap()
        .select(&block.view(), &mut got);
    assert_eq!(got, [false, false, true, false, false, false]);
    // A duplicate name at the end is found (and located) among 100,000.
    text.push_str("filter-primitive p99999\n");
    let d = located(FilterFile::parse(&text, "big.cfg", &Variables::new()));
    assert!(d.message.contains("already defined at line 499996"), "{d}");
}
