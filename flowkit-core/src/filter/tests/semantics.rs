//! What each match field, primitive type and combination selects (against flow-tools' verified semantics).

use super::*;

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
            field: XlateSrcAddr,
            primitive: "type ip-address-prefix\n permit 198.51.100.0/24",
            hit: |r| r.xlate_src_addr = "198.51.100.7".parse().unwrap(),
            miss: |r| r.src_addr = "198.51.100.7".parse().unwrap(),
        },
        Case {
            field: XlateDstAddr,
            primitive: "type ip-address\n permit 2001:db8::80",
            hit: |r| r.xlate_dst_addr = "2001:db8::80".parse().unwrap(),
            miss: |r| r.dst_addr = "2001:db8::80".parse().unwrap(),
        },
        Case {
            field: XlateSrcPort,
            primitive: "type ip-port\n permit 40013",
            hit: |r| r.xlate_src_port = 40013,
            miss: |r| r.src_port = 40013,
        },
        Case {
            field: XlateDstPort,
            primitive: "type ip-port\n permit 8443",
            hit: |r| r.xlate_dst_port = 8443,
            miss: |r| r.dst_port = 8443,
        },
        Case {
            field: SrcVlan,
            primitive: "type ifindex\n permit 100,200-300",
            hit: |r| r.src_vlan = 250,
            miss: |r| r.dst_vlan = 250,
        },
        Case {
            field: DstVlan,
            primitive: "type as\n permit 3136",
            hit: |r| r.dst_vlan = 3136,
            miss: |r| r.src_vlan = 3136,
        },
        Case {
            field: EndReason,
            primitive: "type engine\n permit 1-2",
            hit: |r| r.end_reason = 2,
            miss: |r| r.end_reason = 3,
        },
        Case {
            field: FlowId,
            primitive: "type counter\n permit eq 742819709",
            hit: |r| r.flow_id = 742_819_709,
            miss: |r| r.flow_id = 742_819_710,
        },
        Case {
            field: SrcMac,
            primitive:
                "type mac-address\n permit 00:11:22:33:44:55,0a:00:00:00:00:00-0a:00:00:00:00:ff",
            hit: |r| r.src_mac = 0x0a00_0000_0042,
            miss: |r| r.dst_mac = 0x0011_2233_4455,
        },
        Case {
            field: DstMac,
            primitive: "type mac-address\n deny 00:11:22:33:44:55\n default permit",
            hit: |r| r.dst_mac = 0x0011_2233_4456,
            miss: |r| r.dst_mac = 0x0011_2233_4455,
        },
        Case {
            // Label 16 (entry 16 << 4 | exp 0 | bottom of stack 1); label 17 is not listed.
            field: MplsLabel1,
            primitive: "type as\n permit 16,100-200",
            hit: |r| r.mpls_label1 = 16 << 4 | 1,
            miss: |r| r.mpls_label1 = 17 << 4 | 1,
        },
        Case {
            field: MplsLabel2,
            primitive: "type ifindex\n permit 1048575",
            hit: |r| r.mpls_label2 = 0xfffff << 4 | 0xf,
            miss: |r| r.mpls_label3 = 0xfffff << 4 | 0xf,
        },
        Case {
            field: MplsLabel3,
            primitive: "type as\n deny 0\n default permit",
            hit: |r| r.mpls_label3 = 3 << 4 | 1,
            miss: |r| r.mpls_label3 = 0xf,
        },
        Case {
            // Engine 13 selector 443 is 13 << 56 | 443; engine 20's ids carry an enterprise
            // number in bits 24..56 (`20..3539..257`).
            field: Application,
            primitive: "type application\n permit 13..443,20..3539..257-20..3539..300",
            hit: |r| r.app_id = 20 << 56 | 3539 << 24 | 263,
            miss: |r| r.app_id = 13 << 56 | 444,
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
