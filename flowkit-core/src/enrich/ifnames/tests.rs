//! The mapping file: lookups per exporter and through `*`, and every kind of bad line reported
//! at its file, line and column (counted by hand in the texts below).

use super::*;

const MAP: &str = "\
# exporter      ifindex name        description
10.0.0.1        1       ge-0/0/0    uplink to ISP A  (10G)
10.0.0.1        2       ge-0/0/1
  2001:db8::1   1       Gi0/1       core # 1, \"east\"
*               1       any-one     fallback for index 1
*\t7\tmgmt0

10.0.0.2        2       xe-1/0/0    DC row 4\r
";

fn map() -> IfNames {
    let mut m = IfNames::default();
    m.add("map.txt", MAP.as_bytes()).unwrap();
    m
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn err(text: &str) -> String {
    let mut m = IfNames::default();
    m.add("bad.txt", text.as_bytes()).unwrap_err().to_string()
}

#[test]
fn lookups_per_exporter_then_wildcard() {
    let m = map();
    assert_eq!(m.len(), 6);
    let a = ip("10.0.0.1");
    let i = m.lookup(a, 1).unwrap();
    assert_eq!(i.name, "ge-0/0/0");
    // Blanks inside the description are kept, trailing ones are not.
    assert_eq!(i.desc, "uplink to ISP A  (10G)");
    assert_eq!(m.lookup(a, 2).unwrap().desc, "");
    // Index 7 of this exporter: only the `*` line names it.
    assert_eq!(m.lookup(a, 7).unwrap().name, "mgmt0");
    assert!(m.lookup(a, 3).is_none());
    // Another exporter's index 1 falls back to `*`; its own index 2 is its own.
    let b = ip("10.0.0.2");
    assert_eq!(m.lookup(b, 1).unwrap().name, "any-one");
    assert_eq!(m.lookup(b, 2).unwrap().name, "xe-1/0/0");
    assert_eq!(m.lookup(b, 2).unwrap().desc, "DC row 4"); // CR of a CRLF line dropped
                                                          // IPv6 exporters; `#` after the first word is description text.
    let v6 = ip("2001:db8::1");
    assert_eq!(m.lookup(v6, 1).unwrap().name, "Gi0/1");
    assert_eq!(m.lookup(v6, 1).unwrap().desc, "core # 1, \"east\"");
    // An IPv4-mapped IPv6 exporter address is the IPv4 exporter.
    assert_eq!(m.lookup(ip("::ffff:10.0.0.1"), 1).unwrap().name, "ge-0/0/0");
    // An exporter the file does not know: only `*` lines.
    let c = ip("192.0.2.1");
    assert_eq!(m.lookup(c, 1).unwrap().name, "any-one");
    assert!(m.lookup(c, 2).is_none());
}

#[test]
fn values_of_the_four_fields() {
    let m = map();
    let a = ip("10.0.0.1");
    assert_eq!(m.value(IfField::InName, a, 1, 2), Some("ge-0/0/0"));
    assert_eq!(m.value(IfField::OutName, a, 1, 2), Some("ge-0/0/1"));
    assert_eq!(
        m.value(IfField::InDesc, a, 1, 2),
        Some("uplink to ISP A  (10G)")
    );
    // Named without a description: no description.
    assert_eq!(m.value(IfField::OutDesc, a, 1, 2), None);
    assert_eq!(m.value(IfField::OutName, a, 1, 99), None);
}

#[test]
fn field_names() {
    for f in IF_FIELDS {
        assert_eq!(IfField::parse(f.name()), Some(f));
    }
    assert_eq!(IfField::parse("InIfName"), Some(IfField::InName));
    assert_eq!(IfField::parse("out-if-desc"), Some(IfField::OutDesc));
    assert_eq!(IfField::parse("input_if"), None);
}

#[test]
fn bad_lines_name_file_line_and_column() {
    // Line 2, the exporter word starts at column 3.
    assert_eq!(
        err("# ok\n  10.0.0.300 1 x\n"),
        "bad.txt:2:3: \"10.0.0.300\" is not an exporter address (an IPv4 or IPv6 address, or *)"
    );
    // The index at column 10.
    assert_eq!(
        err("10.0.0.1 eth0 x\n"),
        "bad.txt:1:10: \"eth0\" is not an interface index (0 to 4294967295)"
    );
    assert_eq!(
        err("10.0.0.1 4294967296 x\n"),
        "bad.txt:1:10: \"4294967296\" is not an interface index (0 to 4294967295)"
    );
    assert_eq!(
        err("10.0.0.1 -1 x\n"),
        "bad.txt:1:10: \"-1\" is not an interface index (0 to 4294967295)"
    );
    // Missing words: the column just past the end of the line.
    assert_eq!(
        err("\n\n10.0.0.1\n"),
        "bad.txt:3:9: an interface index (SNMP ifIndex) must follow the exporter"
    );
    assert_eq!(
        err("*\t3"),
        "bad.txt:1:4: an interface name must follow the index"
    );
    // The same interface twice, also under `*`.
    assert_eq!(
        err("10.0.0.1 3 a\n# x\n 10.0.0.1  3 b\n"),
        "bad.txt:3:2: interface 3 of exporter 10.0.0.1 is named already, at bad.txt:1"
    );
    assert_eq!(
        err("* 3 a\n* 3 b\n"),
        "bad.txt:2:1: interface 3 of exporter * is named already, at bad.txt:1"
    );
    // Not UTF-8: the column of the first bad byte (after "1.2.3.4 1 é", 11 characters).
    let mut bytes = "1.2.3.4 1 é".as_bytes().to_vec();
    bytes.extend_from_slice(b"\xff\n");
    let mut m = IfNames::default();
    assert_eq!(
        m.add("bin.txt", &bytes).unwrap_err().to_string(),
        "bin.txt:1:12: not UTF-8 text"
    );
}

#[test]
fn files_are_merged_and_a_second_naming_across_files_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a.txt"), d.path().join("b.txt"));
    std::fs::write(&a, "10.0.0.1 1 one\n").unwrap();
    std::fs::write(&b, "10.0.0.1 2 two\n* 1 wild\n").unwrap();
    let m = IfNames::open(&[&a, &b]).unwrap();
    assert_eq!(m.len(), 3);
    assert_eq!(m.lookup(ip("10.0.0.1"), 2).unwrap().name, "two");
    std::fs::write(&b, "10.0.0.1 1 again\n").unwrap();
    let e = IfNames::open(&[&a, &b]).unwrap_err().to_string();
    let want = format!(
        "{}:1:1: interface 1 of exporter 10.0.0.1 is named already, at {}:1",
        b.display(),
        a.display()
    );
    assert_eq!(e, want);
    let missing = d.path().join("none.txt");
    let e = IfNames::open(&[&missing]).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}: ", missing.display())), "{e}");
}
