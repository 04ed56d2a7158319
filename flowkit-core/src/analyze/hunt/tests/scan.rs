//! The scan detector, suppress lists, port sets and evidence on made-up scenarios.

use super::*;

// ---------------------------------------------------------------------------------------
// scan

#[test]
fn scan_finds_horizontal_and_vertical_scans_and_who_answered() {
    let mut s = Story::default();
    let scanner = "203.0.113.50";
    // Horizontal: SMB on 120 hosts of 10.7.0.0/16 from port 40000; three answer SYN-ACK,
    // ten answer RST (closed).
    for h in 0..120u16 {
        let dst = format!("10.7.{}.{}", h / 100, h % 100 + 1);
        let t = T0 + h as i64 * 50;
        s.flow(scanner, 40000, &dst, 445, 6, t, 0, 1, 44, 0x02);
        if h % 40 == 0 {
            s.flow(&dst, 445, scanner, 40000, 6, t + 2, 0, 1, 44, 0x12);
        } else if h % 12 == 1 {
            s.flow(&dst, 445, scanner, 40000, 6, t + 2, 0, 1, 40, 0x14);
        }
    }
    // Vertical over UDP: 70 ports of one host, two retries each; port 161 answers.
    let box_ = "10.7.5.5";
    for p in 100..170u16 {
        s.flow(
            "192.0.2.99",
            53535,
            box_,
            p,
            17,
            T0 + MIN + p as i64 * 20,
            500,
            2,
            80,
            0,
        );
    }
    s.flow(
        box_,
        161,
        "192.0.2.99",
        53535,
        17,
        T0 + MIN + 161 * 20 + 5,
        0,
        1,
        120,
        0,
    );
    // A ping sweep of 60 hosts; 20 reply.
    for h in 0..60u16 {
        let dst = format!("10.8.0.{}", h + 1);
        s.flow(
            "192.0.2.200",
            0,
            &dst,
            8,
            1,
            T0 + 2 * MIN + h as i64,
            0,
            1,
            84,
            0,
        );
        s.flow(
            "192.0.2.200",
            0,
            &dst,
            0x0800,
            1,
            T0 + 2 * MIN + h as i64,
            0,
            1,
            84,
            0,
        );
        if h % 3 == 0 {
            s.flow(
                &dst,
                0,
                "192.0.2.200",
                0,
                1,
                T0 + 2 * MIN + h as i64 + 1,
                0,
                1,
                84,
                0,
            );
        }
    }
    let f = s.hunt(&scan(ScanConfig::default()));
    let kinds: Vec<(&str, IpAddr)> = f.iter().map(|x| (x.kind, x.subject)).collect();
    assert_eq!(f.len(), 3, "{kinds:?}");
    assert_eq!((f[0].kind, f[0].subject), ("horizontal", ip(scanner)));
    assert_eq!(f[0].facts["targets"], 120);
    assert_eq!(f[0].facts["answered"], 3);
    assert_eq!(f[0].facts["source_ports"][0]["port"], 40000);
    assert!(f[0].summary.contains("all from source port 40000"));
    assert_eq!(roles(&f[0]).iter().filter(|r| **r == "answer").count(), 3);
    let v = f.iter().find(|x| x.kind == "vertical").unwrap();
    assert_eq!((v.subject, v.peer), (ip("192.0.2.99"), Some(ip(box_))));
    assert_eq!(v.facts["ports"], 70);
    assert_eq!(v.facts["open_ports"], serde_json::json!([161]));
    let icmp = f.iter().find(|x| x.subject == ip("192.0.2.200")).unwrap();
    assert_eq!(
        (icmp.kind, icmp.facts["targets"].clone()),
        ("horizontal", 60.into())
    );
    assert_eq!(icmp.facts["answered"], 20);
}

#[test]
fn scan_leaves_out_servers_clients_and_what_is_below_the_thresholds() {
    let mut s = Story::default();
    // A busy web server answering 500 clients with small flows (SYN-ACK, short replies).
    for c in 0..500u16 {
        let cli = format!("100.{}.{}.{}", c / 250, c % 250, 7);
        s.flow(
            &cli,
            50000 + c,
            "10.0.0.80",
            443,
            6,
            T0 + c as i64,
            10,
            2,
            120,
            0x12 | 0x02,
        );
        s.flow(
            "10.0.0.80",
            443,
            &cli,
            50000 + c,
            6,
            T0 + c as i64,
            10,
            2,
            120,
            0x12,
        );
    }
    // Answers from a service port that an exporter (or a generator) marked SYN only.
    for c in 0..100u16 {
        s.flow(
            "10.0.0.82",
            8443 - 8000,
            &format!("100.8.0.{}", c + 1),
            40000 + c,
            6,
            T0 + c as i64,
            0,
            1,
            40,
            0x02,
        );
    }
    // The same, from an exporter without TCP flags.
    for c in 0..300u16 {
        s.flow(
            "10.0.0.81",
            443,
            &format!("100.9.{}.{}", c / 200, c % 200 + 1),
            50000 + c,
            6,
            T0 + c as i64,
            10,
            2,
            120,
            0,
        );
    }
    // A resolver querying 200 name servers, one packet each; nearly all answer.
    for n in 0..200u16 {
        let ns = format!("198.51.{}.{}", n / 100, n % 100 + 1);
        s.flow(
            "10.0.0.53",
            33000 + n,
            &ns,
            53,
            17,
            T0 + n as i64 * 10,
            0,
            1,
            70,
            0,
        );
        if n % 20 != 0 {
            s.flow(
                &ns,
                53,
                "10.0.0.53",
                33000 + n,
                17,
                T0 + n as i64 * 10 + 3,
                0,
                1,
                300,
                0,
            );
        }
    }
    // A client with real conversations to 100 hosts.
    for h in 0..100u16 {
        s.conn(
            "10.0.0.9",
            40000 + h,
            &format!("93.184.{}.1", h),
            443,
            T0 + h as i64 * 1000,
            3000,
            (12, 14),
            (1_500, 30_000),
        );
    }
    // Just below the thresholds: 49 hosts, 49 ports.
    for h in 0..49u16 {
        s.flow(
            "192.0.2.1",
            6000,
            &format!("10.5.0.{}", h + 1),
            23,
            6,
            T0 + h as i64,
            0,
            1,
            40,
            0x02,
        );
        s.flow(
            "192.0.2.2",
            6000,
            "10.5.0.1",
            1000 + h,
            6,
            T0 + h as i64,
            0,
            1,
            40,
            0x02,
        );
    }
    let f = s.hunt(&scan(ScanConfig::default()));
    assert!(
        f.is_empty(),
        "{:#?}",
        f.iter().map(|x| &x.summary).collect::<Vec<_>>()
    );
    // The resolver is reported once answers do not excuse it; the near-misses with lower
    // thresholds.
    let cfg = ScanConfig {
        max_answered: 1.0,
        min_targets: 49,
        min_ports: 49,
        ..ScanConfig::default()
    };
    let f = s.hunt(&scan(cfg));
    let mut who: Vec<IpAddr> = f.iter().map(|x| x.subject).collect();
    who.sort();
    assert_eq!(who, vec![ip("10.0.0.53"), ip("192.0.2.1"), ip("192.0.2.2")]);
}

#[test]
fn suppress_lists_hide_known_scanners() {
    let mut s = Story::default();
    for h in 0..100u16 {
        s.flow(
            "10.0.0.250",
            41000,
            &format!("10.6.0.{}", h + 1),
            22,
            6,
            T0 + h as i64,
            0,
            1,
            40,
            0x02,
        );
        s.flow(
            "192.0.2.66",
            41000,
            &format!("10.6.0.{}", h + 1),
            3389,
            6,
            T0 + h as i64,
            0,
            1,
            40,
            0x02,
        );
    }
    let bufs = [FlowBlockBuf::from_records(&s.flows)];
    let views: Vec<FlowBlock<'_>> = bufs.iter().map(|b| b.view()).collect();
    let hunt_with = |sup: Suppress| {
        let mut det = Scan::new(ScanConfig::default());
        let mut narrowing = Narrowing::new(None, sup);
        for v in &views {
            narrowing.apply(v, &mut |b| det.observe(b));
        }
        det.plan();
        for v in &views {
            narrowing.apply(v, &mut |b| det.collect(b));
        }
        det.findings()
    };
    assert_eq!(hunt_with(Suppress::default()).len(), 2);
    let mut sup = Suppress::default();
    sup.add_src("10.0.0.0/24").unwrap();
    let f = hunt_with(sup);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].subject, ip("192.0.2.66"));
    // A file: only RDP to that network is suppressed.
    let mut sup = Suppress::default();
    sup.add_file(
        "# known\n\ndst 10.6.0.0/16 tcp - 3389  # the RDP farm\n",
        "sup.txt",
    )
    .unwrap();
    let f = hunt_with(sup);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].subject, ip("10.0.0.250"));
    // Errors name the file and line.
    let mut sup = Suppress::default();
    let e = sup
        .add_file("src 10.0.0.1\nsrc 10.0.0.300\n", "sup.txt")
        .unwrap_err();
    assert!(e.to_string().starts_with("sup.txt:2: "), "{e}");
    let e = sup
        .add_file("dst 10.0.0.1 tcp 70000\n", "sup.txt")
        .unwrap_err();
    assert!(e.to_string().contains("not a port"), "{e}");
    let e = sup.add_file("both 10.0.0.1\n", "sup.txt").unwrap_err();
    assert!(e.to_string().contains("src or dst"), "{e}");
}

#[test]
fn port_sets_parse_lists_and_ranges() {
    let p = PortSet::parse("6660-6669, 6697,7000").unwrap();
    assert!(p.contains(6660) && p.contains(6669) && p.contains(6697) && p.contains(7000));
    assert!(!p.contains(6670) && !p.contains(22));
    for bad in ["", "70000", "10-5", "ssh", "1,,2"] {
        assert!(PortSet::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn evidence_keeps_the_earliest_and_counts_the_rest() {
    let recs: Vec<FlowRecord> = (0..10)
        .map(|i| FlowRecord {
            start_ms: 1000 - i * 10,
            ..FlowRecord::default()
        })
        .collect();
    let b = FlowBlockBuf::from_records(&recs);
    let v = b.view();
    let mut bin = EvidenceBin::new(3);
    for i in 0..v.len {
        bin.offer("x", &v, i);
    }
    bin.pin("y", &v, 0);
    let (kept, omitted) = bin.into_sorted();
    let starts: Vec<i64> = kept.iter().map(|e| e.flow.start_ms).collect();
    assert_eq!(starts, vec![910, 920, 930, 1000]);
    assert_eq!(omitted, 7);
}
