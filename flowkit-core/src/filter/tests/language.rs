//! The filter file language: names, order, variables, errors and warnings, the shipped files.

use super::*;

#[test]
fn names_and_keywords_ignore_case_and_namespaces_are_separate() {
    let text = "FILTER-PRIMITIVE Web\n TYPE IP-PORT\n PERMIT HTTP,Https\n DEFAULT DENY\n\
                Filter-Definition Web\n MATCH IP-DESTINATION-PORT wEB\n";
    let recs = vec![
        FlowRecord {
            dst_port: 443,
            ..base()
        },
        FlowRecord {
            dst_port: 22,
            ..base()
        },
    ];
    assert_eq!(run(text, "web", &recs), vec![true, false]);
}

#[test]
fn definitions_may_use_primitives_defined_later() {
    let text = "filter-definition d\n match packets late\nfilter-primitive late\n type counter\n permit gt 1\n";
    let recs = vec![
        FlowRecord {
            packets: 2,
            ..base()
        },
        base(),
    ];
    assert_eq!(run(text, "d", &recs), vec![true, false]);
}

#[test]
fn crlf_trailing_comments_and_blank_lines() {
    let text = "# a comment with @NOVAR in it\r\n\r\nfilter-primitive p   # web\r\n\ttype ip-port\r\n  permit 80 # http\r\nfilter-definition d\r\n  match ip-destination-port p\r\n";
    let recs = vec![
        FlowRecord {
            dst_port: 80,
            ..base()
        },
        base(),
    ];
    assert_eq!(run(text, "d", &recs), vec![true, false]);
}

#[test]
fn variables_defaults_missing_and_repeated() {
    let text = "filter-primitive a\n type ip-address\n permit @{ADDR:-10.0.0.1}\n\
                filter-primitive port\n type ip-port\n permit @PORT\n\
                filter-definition host\n match ip-source-address a\n\
                filter-definition port\n match ip-destination-port port\n\
                filter-definition both\n match ip-source-address a\n match ip-destination-port port\n";
    let recs = vec![
        FlowRecord {
            src_addr: ip("10.0.0.1"),
            ..base()
        },
        FlowRecord {
            src_addr: ip("10.0.0.2"),
            dst_port: 22,
            ..base()
        },
    ];
    // The default applies without -v; a definition needing an unset variable says so, the others work.
    let f = load(text, &Variables::new());
    assert_eq!(run_with(&f, "host", &recs, &utc()), vec![true, false]);
    for d in ["port", "both"] {
        let e = f.compile(d, &utc()).unwrap_err();
        assert!(matches!(e, FilterError::MissingVariable { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("needs variable PORT") && msg.contains("-v PORT=VALUE"),
            "{msg}"
        );
        assert!(msg.contains("test.cfg:6:9"), "{msg}");
    }
    // Given values replace defaults; a repeated -v takes the last value; lists work.
    let mut vars = Variables::new();
    vars.bind("ADDR=10.0.0.9").unwrap();
    vars.bind("ADDR=10.0.0.2").unwrap();
    vars.bind("PORT=22,80").unwrap();
    let f = load(text, &vars);
    assert_eq!(run_with(&f, "host", &recs, &utc()), vec![false, true]);
    assert_eq!(run_with(&f, "port", &recs, &utc()), vec![false, true]);
    assert_eq!(run_with(&f, "both", &recs, &utc()), vec![false, true]);
}

#[test]
fn errors_inside_a_variable_point_at_the_reference() {
    let mut vars = Variables::new();
    vars.bind("PORT=80x").unwrap();
    let text = "filter-primitive p\n  type ip-port\n  permit 22,@{PORT}\n";
    let e = FilterFile::parse(text, "v.cfg", &vars).unwrap_err();
    let d = e.diagnostic().unwrap();
    assert_eq!((d.line, d.column), (3, 13), "{e}");
    assert!(d.message.contains("PORT = `80x`"), "{e}");
    assert!(e.to_string().contains("^-----^"), "{e}");
    // Text after a long value still gets the column as written.
    vars.bind("PORT=8080808080").unwrap();
    let e = FilterFile::parse(
        "filter-definition d\n  match @{PORT}x y z\n",
        "v.cfg",
        &vars,
    )
    .unwrap_err();
    let d = e.diagnostic().unwrap();
    assert_eq!((d.line, d.column), (2, 20), "{e}");
    let e =
        FilterFile::parse("filter-definition d\n  match @{PORT}x y\n", "v.cfg", &vars).unwrap_err();
    let d = e.diagnostic().unwrap();
    assert_eq!((d.line, d.column), (2, 9), "{e}");
    assert!(
        d.message.contains("unknown match field `8080808080x`"),
        "{e}"
    );
    let e = FilterFile::parse(
        "filter-definition d\n  match packets @{PORT} zz\n",
        "v.cfg",
        &vars,
    )
    .unwrap_err();
    let d = e.diagnostic().unwrap();
    assert_eq!(
        (d.line, d.column, d.message.as_str()),
        (2, 25, "unexpected `zz`: expected end of line"),
        "{e}"
    );
}

#[test]
fn errors_name_the_place_and_suggest() {
    let d = error_of("filter-definition d\n  match packets p\n  orr\n");
    assert_eq!((d.line, d.column), (3, 3));
    assert!(
        d.message
            .contains("unknown statement `orr`; did you mean `or`?"),
        "{d}"
    );
    let shown = d.to_string();
    assert!(
        shown.starts_with("test.cfg:3:3: unknown statement"),
        "{shown}"
    );
    assert!(shown.contains("3 |   orr\n"), "{shown}");
    assert!(shown.contains("  |   ^-^"), "{shown}");

    let d = error_of("filter-primitive irc-ports\n type ip-port\n permit 6667\nfilter-definition d\n  match ip-destination-port irc-portz\n");
    assert_eq!((d.line, d.column), (5, 29));
    assert!(
        d.message.contains("unknown filter-primitive `irc-portz`")
            && d.message.contains("did you mean `irc-ports`?"),
        "{d}"
    );

    let d = error_of("filter-primitive a\n type ip-address\n permit 10.0.0.1\nfilter-definition d\n match ip-source-port a\n");
    assert!(
        d.message.contains("needs a primitive of type ip-port") && d.message.contains("ip-address"),
        "{d}"
    );
    assert_eq!((d.line, d.column), (5, 23));

    let d = error_of("filter-primitive a\n type ip-prot\n");
    assert!(d.message.contains("did you mean `ip-protocol`?"), "{d}");
    let d = error_of("filter-definition d\n match ip-destination-prot x\n");
    assert!(d.message.contains("did you mean"), "{d}");
    let d = error_of("filter-primitive a\n type as\nfilter-primitive A\n type as\n");
    assert!(d.message.contains("already defined at line 1"), "{d}");
    let d = error_of("filter-primitive a\n permit 1\n");
    assert!(d.message.contains("before the primitive's `type`"), "{d}");
    let d = error_of("permit 1\n");
    assert!(d.message.contains("belongs in a filter-primitive"), "{d}");
    let d = error_of("filter-definition d\n or x\n");
    assert_eq!((d.line, d.column), (2, 5));
    assert!(d.message.contains("unexpected `x`"), "{d}");
    let d = error_of("filter-primitive a\n type ip-port\n permit 80 443\n");
    assert_eq!((d.line, d.column), (3, 12));
    let d = error_of("filter-primitive a\n type counter\n mask 0xff\n");
    assert!(d.message.contains("only for ip-tos"), "{d}");
    let d = error_of("filter-primitive a\n");
    assert!(d.message.contains("no `type`"), "{d}");
    let d = error_of("filter-primitive a\n type ip-address\n permit @{ADDR\n");
    assert!(d.message.contains("closing"), "{d}");
    let d = error_of("filter-primitive @NAME\n");
    assert!(d.message.contains("variable NAME has no value"), "{d}");

    let f = load("filter-definition ip-addr\n invert\n", &Variables::new());
    let e = f.compile("ip-adr", &utc()).unwrap_err().to_string();
    assert!(
        e.contains("no filter-definition named `ip-adr`") && e.contains("did you mean `ip-addr`?"),
        "{e}"
    );
}

#[test]
fn warnings_for_lines_flow_tools_reads_differently() {
    let text =
        "filter-primitive p\n type ip-address-prefix\n permit 10.0.2.3/12\n permit 10.0.0.0\n\
                filter-primitive t\n type ip-tos\n mask 0xA0\n permit 0xE0\n\
                filter-definition d\n match ip-source-address p\n match ip-tos t\n";
    let f = load(text, &Variables::new());
    let d = f.definition("d").unwrap();
    let w: Vec<String> = f.warnings_of(d).iter().map(|w| w.message.clone()).collect();
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(w[0].contains("host bits"), "{w:?}");
    assert!(w[1].contains("classful /8"), "{w:?}");
    assert!(w[2].contains("outside mask"), "{w:?}");
    // The masked value means what it evidently should: ToS 0xE0 under mask 0xA0 is 0xA0.
    let recs = vec![
        FlowRecord {
            src_addr: ip("10.15.0.1"),
            tos: 0xE0,
            ..base()
        },
        FlowRecord {
            src_addr: ip("10.15.0.1"),
            tos: 0x40,
            ..base()
        },
    ];
    assert_eq!(run_with(&f, "d", &recs, &utc()), vec![true, false]);
}

fn testdata(name: &str) -> String {
    crate::testing::testdata::read_text(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn flow_tools_files_load_unchanged() {
    for (name, vars) in [
        ("filters/flow-tools-filter.cfg", vec![]),
        ("flow-tools/investigation.cfg", vec!["ADDR=189.22.36.165"]),
        ("filter.cfg", vec!["ADDR=189.22.36.165"]),
        ("filters/notes-examples.cfg", vec!["H=10.1.2.3"]),
        (
            "../filters/filter.cfg",
            vec!["ADDR=10.0.0.1", "PORT=22", "PROT=6"],
        ),
    ] {
        let mut v = Variables::new();
        for b in vars {
            v.bind(b).unwrap();
        }
        let f = FilterFile::parse(&testdata(name), name, &v).unwrap_or_else(|e| panic!("{e}"));
        assert!(!f.definitions.is_empty());
        for d in &f.definitions {
            f.compile(&d.name, &utc())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

/// The investigation's filters on every flow of the shared capture (as flow-tools' flow-print
/// printed them) select exactly the 864 flows flow-tools' flow-nfilter selected.
#[test]
fn investigation_selects_what_flow_tools_selected() {
    let f5 = testdata("flow-tools/expected/flow-print-f5.txt.gz");
    let time = |s: &str| -> i64 {
        // MMDD.HH:MM:SS.mmm in UTC, year 2010
        let dt = format!("2010-{}-{}T{}Z", &s[0..2], &s[2..4], &s[5..]);
        dt.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    };
    let recs: Vec<FlowRecord> = f5
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            FlowRecord {
                start_ms: time(w[0]),
                end_ms: time(w[1]),
                input_if: w[2].parse().unwrap(),
                src_addr: ip(w[3]),
                src_port: w[4].parse().unwrap(),
                output_if: w[5].parse().unwrap(),
                dst_addr: ip(w[6]),
                dst_port: w[7].parse().unwrap(),
                protocol: w[8].parse().unwrap(),
                tcp_flags: w[9].parse().unwrap(),
                packets: w[10].parse().unwrap(),
                octets: w[11].parse().unwrap(),
                ..FlowRecord::default()
            }
        })
        .collect();
    assert_eq!(recs.len(), 3498);
    let mut vars = Variables::new();
    vars.bind("ADDR=189.22.36.165").unwrap();
    let file = load(&testdata("flow-tools/investigation.cfg"), &vars);
    let mut flows = recs;
    for def in ["ip-addr", "victim-browsing", "gt1packet"] {
        let keep = run_with(&file, def, &flows, &utc());
        flows = flows
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(r, _)| r)
            .collect();
    }
    let key = |src: &str, dst: &str, p: &str, sp: &str, dp: &str, o: &str, n: &str| {
        format!("{src} {dst} {p} {sp} {dp} {o} {n}")
    };
    let mut got: Vec<String> = flows
        .iter()
        .map(|r| {
            key(
                &r.src_addr.to_string(),
                &r.dst_addr.to_string(),
                &r.protocol.to_string(),
                &r.src_port.to_string(),
                &r.dst_port.to_string(),
                &r.octets.to_string(),
                &r.packets.to_string(),
            )
        })
        .collect();
    let expected = testdata("flow-tools/expected/investigation.txt.gz");
    let mut want: Vec<String> = expected
        .lines()
        .skip(1)
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            key(w[0], w[1], w[2], w[3], w[4], w[5], w[6])
        })
        .collect();
    got.sort();
    want.sort();
    assert_eq!(want.len(), 864);
    assert_eq!(got, want);
    let ssh = flows
        .iter()
        .any(|r| r.src_addr == ip("79.115.103.225") && r.dst_port == 22);
    let irc = flows
        .iter()
        .any(|r| r.dst_addr == ip("79.115.103.225") && r.dst_port == 6667);
    assert!(ssh && irc);
}
