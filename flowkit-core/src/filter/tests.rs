//! Tests of the filter language as a whole: every primitive type and match field, the
//! AND/OR/invert semantics, variables, errors, flow-tools' own files, and a property test of
//! the compiled evaluation against the interpreter.

use super::*;
use crate::model::block::FlowBlockBuf;
use crate::model::record::FlowRecord;
use jiff::tz::TimeZone;
use std::net::IpAddr;

const T: i64 = 1_289_312_405_000; // 2010-11-09 14:20:05 UTC

fn utc() -> CompileOptions {
    CompileOptions { tz: TimeZone::UTC }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn base() -> FlowRecord {
    FlowRecord {
        start_ms: T,
        end_ms: T + 1000,
        src_addr: ip("192.0.2.1"),
        dst_addr: ip("198.51.100.1"),
        src_port: 40000,
        dst_port: 40001,
        protocol: 17,
        packets: 1,
        octets: 100,
        ..FlowRecord::default()
    }
}

fn load(text: &str, vars: &Variables) -> FilterFile {
    FilterFile::parse(text, "test.cfg", vars).unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
}

/// Runs definition `def` over `recs` both compiled (in one block, and one v6-widened block)
/// and interpreted; asserts they agree and returns which records passed.
fn run_with(file: &FilterFile, def: &str, recs: &[FlowRecord], opts: &CompileOptions) -> Vec<bool> {
    let compiled = file.compile(def, opts).unwrap_or_else(|e| panic!("{e}"));
    let interp = file.interpreter(def, opts).unwrap();
    let want: Vec<bool> = recs.iter().map(|r| interp.matches(r)).collect();
    let block = FlowBlockBuf::from_records(recs);
    let mut got = Vec::new();
    let n = compiled.select(&block.view(), &mut got);
    assert_eq!(got, want, "compiled and interpreted disagree for `{def}`");
    assert_eq!(n, want.iter().filter(|&&b| b).count());
    // The same flows in a block whose address columns are 16 bytes wide.
    let mut wide = recs.to_vec();
    wide.push(FlowRecord {
        src_addr: ip("2001:db8::dead"),
        ..base()
    });
    let wblock = FlowBlockBuf::from_records(&wide);
    compiled.select(&wblock.view(), &mut got);
    assert_eq!(
        &got[..recs.len()],
        &want[..],
        "wide block differs for `{def}`"
    );
    want
}

fn run(text: &str, def: &str, recs: &[FlowRecord]) -> Vec<bool> {
    run_with(&load(text, &Variables::new()), def, recs, &utc())
}

fn error_of(text: &str) -> Diagnostic {
    match FilterFile::parse(text, "test.cfg", &Variables::new()) {
        Err(FilterError::Located(d)) => *d,
        Err(e) => panic!("not located: {e}"),
        Ok(_) => panic!("no error for:\n{text}"),
    }
}

type Mutate = fn(&mut FlowRecord);

/// One match field: a primitive that permits something, a flow it passes and one it rejects.
struct Case {
    field: MatchField,
    primitive: &'static str,
    hit: Mutate,
    miss: Mutate,
}

fn cases() -> Vec<Case> {
    use MatchField::*;
    vec![
        Case {
            field: SrcAs,
            primitive: "type as\n permit 64512-65534,4200000000",
            hit: |r| r.src_as = 4_200_000_000,
            miss: |r| r.src_as = 100,
        },
        Case {
            field: DstAs,
            primitive: "type as\n permit 3356",
            hit: |r| r.dst_as = 3356,
            miss: |r| r.dst_as = 3357,
        },
        Case {
            field: SrcAddr,
            primitive: "type ip-address\n permit 10.1.2.3",
            hit: |r| r.src_addr = ip("10.1.2.3"),
            miss: |r| r.src_addr = ip("10.1.2.4"),
        },
        Case {
            field: DstAddr,
            primitive: "type ip-address-mask\n permit 10.0.0.0 255.0.0.0",
            hit: |r| r.dst_addr = ip("10.9.9.9"),
            miss: |r| r.dst_addr = ip("11.0.0.1"),
        },
        Case {
            field: ExporterAddr,
            primitive: "type ip-address-prefix\n permit 192.0.2.0/24",
            hit: |r| r.exporter = ip("192.0.2.77"),
            miss: |r| r.exporter = ip("192.0.3.1"),
        },
        Case {
            field: NextHopAddr,
            primitive: "type ip-address-prefix\n permit 2001:db8::/32",
            hit: |r| r.next_hop = ip("2001:db8::1"),
            miss: |r| r.next_hop = ip("2001:db9::1"),
        },
        Case {
            field: Protocol,
            primitive: "type ip-protocol\n permit tcp",
            hit: |r| r.protocol = 6,
            miss: |r| r.protocol = 17,
        },
        Case {
            field: SrcPrefixLen,
            primitive: "type ip-address-prefix-len\n permit 24-32",
            hit: |r| r.src_mask = 24,
            miss: |r| r.src_mask = 23,
        },
        Case {
            field: DstPrefixLen,
            primitive: "type ip-address-prefix-len\n permit 0",
            hit: |r| r.dst_mask = 0,
            miss: |r| r.dst_mask = 8,
        },
        Case {
            field: Tos,
            primitive: "type ip-tos\n mask 0xfc\n permit 0xb8",
            hit: |r| r.tos = 0xb9,
            miss: |r| r.tos = 0,
        },
        Case {
            field: TcpFlags,
            primitive: "type ip-tcp-flags\n mask 0x12\n permit 0x2",
            hit: |r| r.tcp_flags = 0x0a,
            miss: |r| r.tcp_flags = 0x12,
        },
        Case {
            field: SrcPort,
            primitive: "type ip-port\n permit ssh",
            hit: |r| r.src_port = 22,
            miss: |r| r.src_port = 23,
        },
        Case {
            field: DstPort,
            primitive: "type ip-port\n permit 8000-8099",
            hit: |r| r.dst_port = 8080,
            miss: |r| r.dst_port = 8100,
        },
        Case {
            field: InputIf,
            primitive: "type ifindex\n permit 1,5-10",
            hit: |r| r.input_if = 7,
            miss: |r| r.input_if = 4,
        },
        Case {
            field: OutputIf,
            primitive: "type ifindex\n permit 70000",
            hit: |r| r.output_if = 70000,
            miss: |r| r.output_if = 0,
        },
        Case {
            field: EngineId,
            primitive: "type engine\n permit 3",
            hit: |r| r.engine_id = 3,
            miss: |r| r.engine_id = 4,
        },
        Case {
            field: EngineType,
            primitive: "type engine\n permit 1",
            hit: |r| r.engine_type = 1,
            miss: |r| r.engine_type = 0,
        },
        Case {
            field: Octets,
            primitive: "type counter\n permit ge 1000",
            hit: |r| r.octets = 1000,
            miss: |r| r.octets = 999,
        },
        Case {
            field: Packets,
            primitive: "type counter\n permit gt 1",
            hit: |r| r.packets = 2,
            miss: |r| r.packets = 1,
        },
        Case {
            field: Duration,
            primitive: "type counter\n permit lt 1000",
            hit: |r| r.end_ms = r.start_ms + 999,
            miss: |r| r.end_ms = r.start_ms + 1000,
        },
        Case {
            field: StartTime,
            primitive: "type time\n permit ge 14:00",
            hit: |r| r.start_ms = T,
            miss: |r| r.start_ms = T - 20 * 60_000 - 5001,
        },
        Case {
            field: EndTime,
            primitive: "type time-date\n permit gt 2010-11-09 14:20:05",
            hit: |r| r.end_ms = T + 1000,
            miss: |r| r.end_ms = T + 999,
        },
        Case {
            field: SrcTag,
            primitive: "type tag\n permit 0x10",
            hit: |r| r.src_tag = 0x10,
            miss: |r| r.src_tag = 0x11,
        },
        Case {
            field: DstTag,
            primitive: "type tag-mask\n permit 0x100 0xf00",
            hit: |r| r.dst_tag = 0x1ff,
            miss: |r| r.dst_tag = 0x2ff,
        },
        Case {
            field: Pps,
            primitive: "type double\n permit gt 100",
            hit: |r| r.packets = 101,
            miss: |r| r.packets = 100,
        },
        Case {
            field: Bps,
            primitive: "type double\n permit ge 8000",
            hit: |r| r.octets = 1000,
            miss: |r| r.octets = 999,
        },
        Case {
            field: RandomSample,
            primitive: "type rate\n permit 1",
            hit: |_| {},
            miss: |_| {},
        },
    ]
}

#[test]
fn every_match_field_under_every_name() {
    let cases = cases();
    let carried: Vec<MatchField> = MatchField::ALL
        .iter()
        .copied()
        .filter(|f| f.carried())
        .collect();
    assert_eq!(cases.len(), carried.len(), "a case per carried field");
    for case in cases {
        for name in case.field.names() {
            let text = format!(
                "filter-primitive p\n {}\nfilter-definition d\n match {name} p\n",
                case.primitive
            );
            let mut hit = base();
            (case.hit)(&mut hit);
            let mut miss = base();
            (case.miss)(&mut miss);
            let got = run(&text, "d", &[hit, miss]);
            let want = if case.field == MatchField::RandomSample {
                vec![true, true]
            } else {
                vec![true, false]
            };
            assert_eq!(got, want, "{text}");
        }
    }
}

#[test]
fn every_primitive_type_is_accepted_by_some_field() {
    for kind in PrimitiveKind::ALL {
        assert!(
            MatchField::ALL.iter().any(|f| f.accepts().contains(kind)),
            "{kind:?}"
        );
        // Its documented example line parses.
        let text = format!(
            "filter-primitive p\n type {}\n {}\n",
            kind.keyword(),
            kind.example()
        );
        load(&text, &Variables::new());
    }
}

#[test]
fn fields_flowkit_does_not_carry_load_but_refuse_to_run() {
    for (field, kind) in [
        ("ip-shortcut-address", "type ip-address\n permit 10.0.0.1"),
        ("ip-marked-tos", "type ip-tos\n permit 0"),
        ("flows", "type counter\n permit gt 1"),
        ("extra-packets", "type counter\n permit gt 1"),
    ] {
        let text = format!("filter-primitive p\n {kind}\nfilter-definition d\n match {field} p\nfilter-definition ok\n invert\n");
        let f = load(&text, &Variables::new());
        let e = f.compile("d", &utc()).unwrap_err().to_string();
        assert!(e.contains(field) && e.contains("do not carry"), "{e}");
        f.compile("ok", &utc()).unwrap();
    }
}

#[test]
fn random_sample_is_deterministic_and_about_one_in_n() {
    let recs: Vec<FlowRecord> = (0..4000)
        .map(|i| FlowRecord {
            src_port: i as u16,
            packets: i,
            ..base()
        })
        .collect();
    let text = "filter-primitive r\n type rate\n permit 4\nfilter-primitive nr\n type rate\n deny 4\n\
                filter-definition keep\n match random-sample r\nfilter-definition drop\n match random-sample nr\n";
    let keep = run(text, "keep", &recs);
    let drop = run(text, "drop", &recs);
    let kept = keep.iter().filter(|&&b| b).count();
    assert!((800..1200).contains(&kept), "{kept}");
    assert!(
        keep.iter().zip(&drop).all(|(k, d)| k != d),
        "deny N drops exactly what permit N keeps"
    );
    assert_eq!(run(text, "keep", &recs), keep, "same input, same choice");
}

#[test]
fn and_or_invert_truth_table() {
    let prims = "filter-primitive A\n type ip-port\n permit 80\nfilter-primitive B\n type ip-protocol\n permit tcp\n";
    let recs: Vec<FlowRecord> = [(80, 6), (80, 17), (81, 6), (81, 17)]
        .iter()
        .map(|&(p, proto)| FlowRecord {
            dst_port: p,
            protocol: proto,
            ..base()
        })
        .collect();
    let table: &[(&str, [bool; 4])] = &[
        (
            "match ip-destination-port A\n match ip-protocol B",
            [true, false, false, false],
        ),
        (
            "match ip-destination-port A\n or\n match ip-protocol B",
            [true, true, true, false],
        ),
        (
            "invert\n match ip-destination-port A\n match ip-protocol B",
            [false, true, true, true],
        ),
        (
            "match ip-destination-port A\n or\n match ip-protocol B\n invert",
            [false, false, false, true],
        ),
        // invert is a flag, not a toggle.
        (
            "invert\n match ip-destination-port A\n invert\n match ip-protocol B\n invert",
            [false, true, true, true],
        ),
        // Leading and repeated `or` are harmless.
        (
            "or\n match ip-destination-port A\n or\n or\n match ip-protocol B",
            [true, true, true, false],
        ),
        // No match line, inverted, permits everything (flow-tools' empty definition denies all;
        // not inverted it is an error, see `an_empty_definition_is_an_error`).
        ("invert", [true; 4]),
        ("or\n invert", [true; 4]),
    ];
    for (body, want) in table {
        let text = format!("{prims}filter-definition d\n {body}\n");
        assert_eq!(run(&text, "d", &recs), want.to_vec(), "{body}");
    }
}

#[test]
fn winning_lines_per_primitive_type() {
    let recs = |f: fn(&mut FlowRecord, u64), vals: &[u64]| -> Vec<FlowRecord> {
        vals.iter()
            .map(|&v| {
                let mut r = base();
                f(&mut r, v);
                r
            })
            .collect()
    };
    // Buckets: the last line wins; unlisted values take the default.
    let ports = recs(|r, v| r.dst_port = v as u16, &[79, 80, 85, 90, 91]);
    let text = "filter-primitive p\n type ip-port\n permit 80-90\n deny 85\nfilter-definition d\n match ip-destination-port p\n";
    assert_eq!(
        run(text, "d", &ports),
        vec![false, true, false, true, false]
    );
    // `!` flips the listed values only: alone it denies all (default deny) ...
    let text = "filter-primitive p\n type ip-port\n permit !80\nfilter-definition d\n match ip-destination-port p\n";
    assert_eq!(run(text, "d", &ports), vec![false; 5]);
    // ... and means "all but 80" with `default permit`.
    let text = "filter-primitive p\n type ip-port\n permit !80\n default permit\nfilter-definition d\n match ip-destination-port p\n";
    assert_eq!(run(text, "d", &ports), vec![true, false, true, true, true]);
    // Addresses: the last line naming the address wins.
    let hosts = vec![FlowRecord {
        src_addr: ip("10.0.0.1"),
        ..base()
    }];
    let text = "filter-primitive p\n type ip-address\n permit 10.0.0.1\n deny 10.0.0.1\nfilter-definition d\n match ip-source-address p\n";
    assert_eq!(run(text, "d", &hosts), vec![false]);
    // Counters: the first true line wins.
    let pk = recs(|r, v| r.packets = v, &[5, 10, 19, 20, 100]);
    let text = "filter-primitive p\n type counter\n permit lt 10\n deny lt 20\n default permit\nfilter-definition d\n match packets p\n";
    assert_eq!(run(text, "d", &pk), vec![true, false, false, true, true]);
}

/// flow-tools' verified counts on 100,000 random flows (notes §1.9), rebuilt on our own random
/// flows with the relations they establish: mask lists are first-match, prefixes longest-match.
#[test]
fn flow_tools_verified_semantics_on_random_flows() {
    let mut rng = Rng(7);
    let recs: Vec<FlowRecord> = (0..20_000)
        .map(|_| {
            let src = if rng.below(4) == 0 {
                0x0a00_0000 | rng.below(1 << 20) as u32 // 10.0.0.0/12
            } else {
                rng.next() as u32
            };
            FlowRecord {
                src_addr: IpAddr::V4(src.into()),
                dst_port: if rng.below(2) == 0 {
                    80
                } else {
                    rng.next() as u16
                },
                packets: rng.below(40),
                ..base()
            }
        })
        .collect();
    let text = "filter-primitive m\n type ip-address-mask\n deny 10.0.0.0 255.0.0.0\n permit 10.0.0.0 255.240.0.0\n\
                filter-primitive p\n type ip-address-prefix\n deny 10/8\n permit 10.0/12\n\
                filter-primitive c\n type counter\n permit lt 10\n deny lt 20\n default permit\n\
                filter-primitive n80\n type ip-port\n permit !80\n\
                filter-primitive all-but-80\n type ip-port\n permit !80\n default permit\n\
                filter-definition mask\n match ip-source-address m\n\
                filter-definition prefix\n match ip-source-address p\n\
                filter-definition counter\n match packets c\n\
                filter-definition not80\n match ip-destination-port n80\n\
                filter-definition all-but-80\n match ip-destination-port all-but-80\n";
    let f = load(text, &Variables::new());
    let count = |d| {
        run_with(&f, d, &recs, &utc())
            .iter()
            .filter(|&&b| b)
            .count()
    };
    let in_10_12 = recs
        .iter()
        .filter(|r| matches!(r.src_addr, IpAddr::V4(a) if u32::from(a) >> 20 == 0x0a0))
        .count();
    assert_eq!(count("mask"), 0);
    assert_eq!(count("prefix"), in_10_12);
    assert!(in_10_12 > 4000);
    let small_or_big = recs
        .iter()
        .filter(|r| r.packets < 10 || r.packets >= 20)
        .count();
    assert_eq!(count("counter"), small_or_big);
    assert_eq!(count("not80"), 0);
    assert_eq!(
        count("all-but-80"),
        recs.iter().filter(|r| r.dst_port != 80).count()
    );
}

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

/// SplitMix64: a small deterministic generator for the property test's values.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

const V4_POOL: &[&str] = &[
    "10.0.0.1",
    "10.0.0.2",
    "10.1.2.3",
    "10.200.0.9",
    "192.168.1.1",
    "192.168.1.200",
    "172.16.5.4",
    "8.8.8.8",
    "0.0.0.0",
    "255.255.255.255",
];
const V6_POOL: &[&str] = &[
    "2001:db8::1",
    "2001:db8::2",
    "2001:db8:1::5",
    "fe80::1",
    "::1",
    "2a01:e35:1394:5bd0::7",
];
const PORT_POOL: &[u64] = &[0, 20, 21, 22, 53, 80, 443, 6667, 8080, 65535];

fn random_addr(rng: &mut Rng) -> IpAddr {
    match rng.below(10) {
        0 => ip(rng.pick::<&str>(V6_POOL)),
        1 => IpAddr::V4((rng.next() as u32).into()),
        _ => ip(rng.pick::<&str>(V4_POOL)),
    }
}

fn random_value(rng: &mut Rng, pool: &[u64], max: u64) -> u64 {
    if rng.chance(3) {
        rng.below(max.saturating_add(1).max(1))
    } else {
        *rng.pick(pool) % max.saturating_add(1).max(1)
    }
}

fn random_record(rng: &mut Rng) -> FlowRecord {
    // Around a DST change of the zone the test uses, so both time-of-day paths run.
    let start = 1_289_109_600_000 + rng.below(3 * 86_400_000) as i64; // from 2010-11-07 06:00 UTC
    let end =
        start + [0i64, 1, 999, 1000, 60_000, -5][rng.below(6) as usize] + rng.below(3000) as i64;
    let small = [0u64, 1, 2, 5, 10, 19, 20, 50, 51, 100, 1000, 1500];
    FlowRecord {
        start_ms: start,
        end_ms: end,
        src_addr: random_addr(rng),
        dst_addr: random_addr(rng),
        src_port: random_value(rng, PORT_POOL, 65535) as u16,
        dst_port: random_value(rng, PORT_POOL, 65535) as u16,
        protocol: random_value(rng, &[1, 6, 17, 47, 58], 255) as u8,
        tcp_flags: rng.below(256) as u8,
        tos: rng.below(256) as u8,
        packets: random_value(rng, &small, u64::MAX),
        octets: random_value(rng, &small, u64::MAX),
        input_if: random_value(rng, &[0, 1, 5, 10, 70000], u32::MAX as u64) as u32,
        output_if: random_value(rng, &[0, 1, 5, 10], 100) as u32,
        src_as: random_value(rng, &[0, 3356, 65000, 4_200_000_000], u32::MAX as u64) as u32,
        dst_as: random_value(rng, &[0, 3356, 65000], 70000) as u32,
        src_mask: rng.below(129) as u8,
        dst_mask: rng.below(33) as u8,
        next_hop: random_addr(rng),
        exporter: random_addr(rng),
        engine_type: rng.below(4) as u8,
        engine_id: rng.below(256) as u8,
        src_tag: random_value(rng, &[0, 0x10, 0x1ff, 0xff00], u32::MAX as u64) as u32,
        dst_tag: rng.below(0x400) as u32,
        ..FlowRecord::default()
    }
}

fn random_op(rng: &mut Rng) -> &'static str {
    rng.pick::<&str>(&["lt", "gt", "eq", "ne", "le", "ge", "LT", "Ge"])
}

fn bucket_atom(rng: &mut Rng, kind: PrimitiveKind) -> String {
    let max = kind.bucket_max();
    match kind {
        PrimitiveKind::IpProtocol if rng.chance(3) => rng
            .pick(&["tcp", "udp", "icmp", "gre", "ipv6-icmp"])
            .to_string(),
        PrimitiveKind::IpPort if rng.chance(3) => rng
            .pick(&["ssh", "http", "https", "domain", "ircd", "ftp-data"])
            .to_string(),
        PrimitiveKind::IpPort => random_value(rng, PORT_POOL, max).to_string(),
        PrimitiveKind::As => random_value(rng, &[0, 3356, 65000, 4_200_000_000], max).to_string(),
        PrimitiveKind::IfIndex => random_value(rng, &[0, 1, 5, 10, 70000], max).to_string(),
        _ => {
            let v = rng.below(max + 1);
            if rng.chance(2) {
                format!("{v:#x}")
            } else {
                v.to_string()
            }
        }
    }
}

fn random_entry(rng: &mut Rng, kind: PrimitiveKind) -> String {
    use PrimitiveKind::*;
    let action = if rng.chance(3) { "deny" } else { "permit" };
    let value = match kind {
        k @ (As | IpProtocol | IpPort | IpAddressPrefixLen | IpTos | IpTcpFlags | IfIndex
        | Engine) => {
            let n = 1 + rng.below(3);
            let items: Vec<String> = (0..n)
                .map(|_| {
                    let a = bucket_atom(rng, k);
                    if rng.chance(3) && a.starts_with(|c: char| c.is_ascii_digit()) {
                        let lo = super::values::read_number(&a).unwrap().0;
                        let hi = lo + rng.below(300).min(k.bucket_max() - lo);
                        format!("{a}-{hi}")
                    } else {
                        a
                    }
                })
                .collect();
            format!(
                "{}{}",
                if rng.chance(5) { "!" } else { "" },
                items.join(",")
            )
        }
        IpAddress => random_addr(rng).to_string(),
        IpAddressMask => {
            let a = random_addr(rng);
            let (bits, width) = if a.is_ipv4() { (32, 32) } else { (128, 128) };
            let len = rng.below(bits + 1) as u32;
            let mask: IpAddr = if rng.chance(4) {
                // Not a prefix.
                if width == 32 {
                    IpAddr::V4((rng.next() as u32).into())
                } else {
                    IpAddr::V6(((rng.next() as u128) << 64 | rng.next() as u128).into())
                }
            } else if width == 32 {
                IpAddr::V4((u32::MAX.checked_shl(32 - len).unwrap_or(0)).into())
            } else {
                IpAddr::V6((u128::MAX.checked_shl(128 - len).unwrap_or(0)).into())
            };
            format!("{a} {mask}")
        }
        IpAddressPrefix => {
            let a = random_addr(rng);
            let max = if a.is_ipv4() { 32 } else { 128 };
            if a.is_ipv4() && rng.chance(6) {
                a.to_string() // classful guess
            } else {
                format!("{a}/{}", rng.below(max + 1))
            }
        }
        Tag => format!(
            "{:#x}",
            random_value(rng, &[0, 0x10, 0x1ff, 0xff00], u32::MAX as u64)
        ),
        TagMask => format!(
            "{:#x} {:#x}",
            rng.below(0x400),
            rng.pick(&[0xf00u32, 0xff, 0x3ff, 0x101, 0])
        ),
        Counter => format!(
            "{} {}",
            random_op(rng),
            rng.pick(&[0u64, 1, 2, 10, 19, 20, 50, 100, 1000, 1500, u64::MAX])
        ),
        Double => format!(
            "{} {}",
            random_op(rng),
            rng.pick(&["0", "0.5", "1", "10", "100.25", "1e3", "8000"])
        ),
        Time => format!(
            "{} {}:{:02}:{:02}",
            random_op(rng),
            rng.below(24),
            rng.below(60),
            rng.below(60)
        ),
        TimeDate => {
            let s = 1_289_109_600 + rng.below(3 * 86_400) as i64;
            let ts = jiff::Timestamp::from_second(s).unwrap();
            let text = if rng.chance(2) {
                ts.to_zoned(TimeZone::UTC)
                    .strftime("%Y-%m-%dT%H:%M:%SZ")
                    .to_string()
            } else {
                ts.to_zoned(TimeZone::UTC)
                    .strftime("%Y-%m-%d %H:%M:%S")
                    .to_string()
            };
            format!("{} {text}", random_op(rng))
        }
        Rate => (1 + rng.below(4)).to_string(),
    };
    format!("{action} {value}")
}

/// A random filter file with one definition `d` over random primitives.
fn random_filter(rng: &mut Rng) -> String {
    let kinds = PrimitiveKind::ALL;
    let mut text = String::new();
    let nprims = 1 + rng.below(4) as usize;
    let mut prim_kinds = Vec::new();
    for i in 0..nprims {
        let kind = *rng.pick(kinds);
        prim_kinds.push(kind);
        text.push_str(&format!(
            "filter-primitive p{i}\n  type {}\n",
            kind.keyword()
        ));
        if matches!(kind, PrimitiveKind::IpTos | PrimitiveKind::IpTcpFlags) && rng.chance(2) {
            text.push_str(&format!("  mask {:#x}\n", rng.below(256)));
        }
        let entries = if kind == PrimitiveKind::Rate {
            rng.below(2)
        } else {
            rng.below(5)
        };
        for _ in 0..entries {
            text.push_str(&format!("  {}\n", random_entry(rng, kind)));
        }
        if rng.chance(3) {
            text.push_str(&format!(
                "  default {}\n",
                if rng.chance(2) { "permit" } else { "deny" }
            ));
        }
    }
    text.push_str("filter-definition d\n");
    let invert = rng.chance(3);
    if invert {
        text.push_str("  invert\n");
    }
    // Without match lines only an inverted definition loads (it passes everything).
    let groups = if invert && rng.chance(8) {
        0
    } else {
        1 + rng.below(3)
    };
    for g in 0..groups {
        if g > 0 {
            text.push_str("  or\n");
        }
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(nprims as u64) as usize;
            let fields: Vec<&'static str> = MatchField::ALL
                .iter()
                .filter(|f| f.carried() && f.accepts().contains(&prim_kinds[i]))
                .flat_map(|f| f.names().iter().copied())
                .collect();
            text.push_str(&format!("  match {} p{i}\n", rng.pick(&fields)));
        }
    }
    text
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, ..Default::default() })]

    /// For random flows and random definitions, the compiled block evaluation selects exactly
    /// what the per-record interpreter selects.
    #[test]
    fn compiled_evaluation_equals_the_interpreter(seed in proptest::prelude::any::<u64>()) {
        let mut rng = Rng(seed);
        let text = random_filter(&mut rng);
        let file = FilterFile::parse(&text, "random.cfg", &Variables::new())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let recs: Vec<FlowRecord> = (0..100).map(|_| random_record(&mut rng)).collect();
        let v4_only: Vec<FlowRecord> = recs
            .iter()
            .filter(|r| [r.src_addr, r.dst_addr, r.next_hop, r.exporter].iter().all(IpAddr::is_ipv4))
            .cloned()
            .collect();
        let ny = CompileOptions { tz: TimeZone::posix("EST5EDT,M3.2.0,M11.1.0").unwrap() };
        for opts in [utc(), ny] {
            let compiled = file.compile("d", &opts).unwrap();
            let interp = file.interpreter("d", &opts).unwrap();
            for set in [&recs, &v4_only] {
                let want: Vec<bool> = set.iter().map(|r| interp.matches(r)).collect();
                let block = FlowBlockBuf::from_records(set.iter());
                let mut got = Vec::new();
                compiled.select(&block.view(), &mut got);
                proptest::prop_assert_eq!(got, want, "{}", text);
            }
        }
    }
}

#[test]
fn batches_keep_block_order() {
    let file = load(
        "filter-primitive p\n type counter\n permit gt 5\nfilter-definition d\n match packets p\n",
        &Variables::new(),
    );
    let f = file.compile("d", &utc()).unwrap();
    let bufs: Vec<FlowBlockBuf> = (0..8)
        .map(|b| {
            let recs: Vec<FlowRecord> = (0..100)
                .map(|i| FlowRecord {
                    packets: (b * 100 + i) % 11,
                    ..base()
                })
                .collect();
            FlowBlockBuf::from_records(&recs)
        })
        .collect();
    let views: Vec<_> = bufs.iter().map(|b| b.view()).collect();
    let mut out = Vec::new();
    let total = f.select_batch(&views, &mut out);
    let mut sum = 0;
    for (v, s) in views.iter().zip(&out) {
        let mut one = Vec::new();
        assert_eq!(f.select(v, &mut one), s.count);
        assert_eq!(one, s.rows);
        sum += s.count;
    }
    assert_eq!(total, sum);
    assert_eq!(f.columns(), vec![crate::model::block::ColumnId::Packets]);
}

/// Skipping blocks by their address Bloom filter (`CompiledFilter::block_prune`) never skips a
/// block holding a flow the filter passes, for random definitions over random small blocks.
#[test]
fn block_pruning_never_skips_a_selected_flow() {
    use crate::archive::bloom::{build, AddrBloom};
    let (mut applicable, mut pruned) = (0, 0);
    for seed in 0..4000u64 {
        let mut rng = Rng(seed);
        let text = random_filter(&mut rng);
        let file = FilterFile::parse(&text, "random.cfg", &Variables::new())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let compiled = file.compile("d", &utc()).unwrap();
        let Some(prune) = compiled.block_prune() else {
            continue;
        };
        applicable += 1;
        for _ in 0..4 {
            let n = 1 + rng.below(12) as usize;
            let recs: Vec<FlowRecord> = (0..n).map(|_| random_record(&mut rng)).collect();
            let block = FlowBlockBuf::from_records(&recs);
            let mut words = Vec::new();
            build(&block.view(), &mut words);
            let bloom = AddrBloom::from_words(&words).unwrap();
            let mut rows = Vec::new();
            let selected = compiled.select(&block.view(), &mut rows);
            if !prune.may_match(&bloom) {
                pruned += 1;
                assert_eq!(
                    selected, 0,
                    "a block with selected flows was skipped:\n{text}"
                );
            }
        }
    }
    assert!(
        applicable > 100 && pruned > 100,
        "{applicable} filters, {pruned} blocks pruned"
    );
}

#[test]
fn host_filters_prune_blocks_without_the_host_and_inverted_ones_never() {
    use crate::archive::bloom::{build, AddrBloom};
    let text = "filter-primitive h\n type ip-address\n permit 10.1.2.3\n permit 2001:db8::7\n\
                filter-definition host\n match ip-source-address h\n or\n match ip-destination-address h\n\
                filter-definition not-host\n invert\n match ip-source-address h\n\
                filter-definition host-or-any\n match ip-source-address h\n or\n match packets any\n\
                filter-primitive any\n type counter\n permit ge 0\n";
    let file = load(text, &Variables::new());
    let bloom_of = |addrs: &[&str]| {
        let recs: Vec<FlowRecord> = addrs
            .iter()
            .map(|a| FlowRecord {
                src_addr: ip(a),
                dst_addr: ip("192.0.2.1"),
                ..base()
            })
            .collect();
        let mut words = Vec::new();
        build(&FlowBlockBuf::from_records(&recs).view(), &mut words);
        words
    };
    let prune = file.compile("host", &utc()).unwrap().block_prune().unwrap();
    let with = bloom_of(&["10.1.2.3", "10.9.9.9"]);
    let with6 = bloom_of(&["2001:db8::7"]);
    let without = bloom_of(&["10.1.2.4", "2001:db8::8"]);
    assert!(prune.may_match(&AddrBloom::from_words(&with).unwrap()));
    assert!(prune.may_match(&AddrBloom::from_words(&with6).unwrap()));
    assert!(!prune.may_match(&AddrBloom::from_words(&without).unwrap()));
    assert!(file
        .compile("not-host", &utc())
        .unwrap()
        .block_prune()
        .is_none());
    assert!(file
        .compile("host-or-any", &utc())
        .unwrap()
        .block_prune()
        .is_none());
}
