//! The sample traffic story as softflowd exported it and flow-tools archived it, checked against nfdump.

use super::*;

// ---------------------------------------------------------------------------------------
// The sample data: the traffic story as softflowd exported it (v5, v9, IPFIX) and as
// flow-tools archived it.

/// The flows of `testdata/{rel}.pcap.gz` as flow-import decodes them.
fn imported(rel: &str) -> Vec<FlowRecord> {
    let bytes = std::fs::read(crate::testing::testdata::path(&format!("{rel}.pcap.gz"))).unwrap();
    let name = rel.rsplit('/').next().unwrap();
    let mut pcap = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut pcap).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.pcap"));
    std::fs::write(&path, pcap).unwrap();
    let mut imp = crate::collect::import::Importer::default();
    let mut out = Vec::new();
    imp.import_file(&path, &mut |m| panic!("{m}"), &mut |_, b| {
        out.extend(b.records());
        Ok(())
    })
    .unwrap();
    out
}

fn archived() -> Vec<FlowRecord> {
    let mut out = Vec::new();
    let inputs = crate::pipeline::input::expand_inputs(
        &[crate::testing::testdata::path("2010-11-09")
            .display()
            .to_string()],
        false,
    )
    .unwrap();
    let mut sc = crate::pipeline::scan::Scanner::new(Default::default(), |m| panic!("{m}"));
    sc.run(&inputs, &mut |blocks| {
        for b in blocks {
            out.extend(b.records());
        }
        Ok(())
    })
    .unwrap();
    out
}

/// One flow as nfdump decoded it: (src, sport, dst, dport, proto, packets).
type NfFlow = (IpAddr, u16, IpAddr, u16, u8, u64);

/// What nfdump decoded from the same capture.
fn nfdump(name: &str) -> Vec<NfFlow> {
    crate::testing::testdata::read_text(&format!("exports/{name}.nfdump.csv.gz"))
        .unwrap()
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            // ts,te,td,sa,da,sp,dp,pr,flg,stos,ipkt,...
            (
                c[3].parse().unwrap(),
                c[5].parse().unwrap(),
                c[4].parse().unwrap(),
                c[6].parse::<f64>().unwrap() as u16,
                match c[7] {
                    "TCP" => 6,
                    "UDP" => 17,
                    "ICMP" => 1,
                    p => p.parse().unwrap_or(0),
                },
                c[10].parse().unwrap(),
            )
        })
        .collect()
}

fn hunt_all(flows: &[FlowRecord], det: &mut dyn Detector) -> Vec<Finding> {
    let bufs: Vec<FlowBlockBuf> = flows.chunks(1000).map(FlowBlockBuf::from_records).collect();
    let views: Vec<FlowBlock<'_>> = bufs.iter().map(|b| b.view()).collect();
    run_on_blocks(det, &views)
}

fn check_story(flows: &[FlowRecord], truth: Option<&[NfFlow]>) {
    let victim = ip("189.22.36.165");
    let intruder = ip("79.115.103.225");

    let f = hunt_all(flows, &mut IrcAfterSsh::new(IrcAfterSshConfig::default()));
    assert!(!f.is_empty());
    assert_eq!((f[0].subject, f[0].peer), (victim, Some(intruder)));
    let ssh = f[0]
        .evidence
        .iter()
        .filter(|e| e.role == "ssh-session")
        .count();
    let irc: Vec<&Evidence> = f[0].evidence.iter().filter(|e| e.role == "irc").collect();
    assert_eq!(ssh, 2, "both halves of the session");
    assert_eq!(irc.len(), 4, "two IRC connections, both halves");
    assert!(irc
        .iter()
        .all(|e| e.flow.src_port == 6667 || e.flow.dst_port == 6667));
    assert_eq!(f[0].facts["new_ports"], serde_json::json!([8888]));

    let f = hunt_all(flows, &mut SshBruteForce::new(BruteForceConfig::default()));
    let dist = f
        .iter()
        .find(|x| x.kind == "distributed")
        .expect("distributed finding");
    assert_eq!(dist.subject, victim);
    let listed: Vec<IpAddr> = dist.facts["by_source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["address"].as_str().unwrap().parse().unwrap())
        .collect();
    // The sweepers knocked with single SYNs: scanners, not guessers; the intruder logged in.
    assert!(listed
        .iter()
        .all(|a| !a.to_string().starts_with("61.174.51.")));
    assert!(!listed.contains(&intruder));
    assert_eq!(
        dist.facts["sessions_accepted"][0]["client"],
        "79.115.103.225"
    );
    let sources: std::collections::BTreeSet<IpAddr> = f
        .iter()
        .filter(|x| x.kind == "source")
        .map(|x| x.subject)
        .collect();
    if let Some(truth) = truth {
        // nfdump's view: clients with flows of 4+ packets to the victim's port 22.
        let mut per: std::collections::BTreeMap<IpAddr, u64> = Default::default();
        for r in truth
            .iter()
            .filter(|r| r.2 == victim && r.3 == 22 && r.4 == 6 && r.5 >= 4)
        {
            *per.entry(r.0).or_default() += 1;
        }
        per.remove(&intruder);
        let expected: std::collections::BTreeSet<IpAddr> = per
            .iter()
            .filter(|(_, n)| **n >= 5)
            .map(|(a, _)| *a)
            .collect();
        assert_eq!(sources, expected);
        let all: std::collections::BTreeSet<IpAddr> = per.keys().copied().collect();
        assert_eq!(
            listed
                .iter()
                .copied()
                .collect::<std::collections::BTreeSet<_>>(),
            all
        );
    } else {
        assert!(sources.len() > 20);
    }

    let f = hunt_all(flows, &mut Scan::new(ScanConfig::default()));
    let mut horizontal: Vec<IpAddr> = f
        .iter()
        .filter(|x| x.kind == "horizontal")
        .map(|x| x.subject)
        .collect();
    horizontal.sort();
    let sweepers: Vec<IpAddr> = (200..=203).map(|h| ip(&format!("61.174.51.{h}"))).collect();
    assert_eq!(horizontal, sweepers);
    for x in f.iter().filter(|x| x.kind == "horizontal") {
        assert_eq!(x.facts["port"], 22);
        assert_eq!(x.facts["source_ports"][0]["port"], 6000);
        assert_eq!(x.facts["targets"], 254);
        assert_eq!(x.facts["answered_by"], serde_json::json!(["189.22.36.165"]));
    }
    let v: Vec<&Finding> = f.iter().filter(|x| x.kind == "vertical").collect();
    assert_eq!(v.len(), 1);
    assert_eq!(
        (v[0].subject, v[0].peer),
        (ip("45.155.205.233"), Some(victim))
    );
    assert_eq!(v[0].facts["ports"], 200);
    if let Some(truth) = truth {
        // nfdump's view of the sweep: sources with 50+ destinations on port 22 from port 6000.
        let mut per: std::collections::BTreeMap<IpAddr, std::collections::BTreeSet<IpAddr>> =
            Default::default();
        for r in truth.iter().filter(|r| r.1 == 6000 && r.3 == 22) {
            per.entry(r.0).or_default().insert(r.2);
        }
        let expected: Vec<IpAddr> = per
            .iter()
            .filter(|(_, d)| d.len() >= 50)
            .map(|(a, _)| *a)
            .collect();
        assert_eq!(horizontal, expected);
    }
}

#[test]
fn the_story_as_softflowd_exported_it_v5() {
    check_story(
        &imported("exports/scenario-v5"),
        Some(&nfdump("scenario-v5")),
    );
}

#[test]
fn the_story_as_softflowd_exported_it_v9() {
    check_story(
        &imported("exports/scenario-v9"),
        Some(&nfdump("scenario-v9")),
    );
}

#[test]
fn the_story_as_softflowd_exported_it_ipfix() {
    check_story(
        &imported("exports/scenario-ipfix"),
        Some(&nfdump("scenario-ipfix")),
    );
}

#[test]
fn another_variant_of_the_story_exported_by_softflowd() {
    // Other seed, victim and intruder (testdata/README.md): nothing is tuned to one capture.
    let flows = imported("hunt/variant-ipfix");
    let (victim, intruder) = (ip("172.31.9.20"), ip("203.0.113.66"));
    let f = hunt_all(&flows, &mut IrcAfterSsh::new(IrcAfterSshConfig::default()));
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].subject, f[0].peer), (victim, Some(intruder)));
    assert_eq!(roles(&f[0]).iter().filter(|r| **r == "irc").count(), 4);
    let f = hunt_all(&flows, &mut SshBruteForce::new(BruteForceConfig::default()));
    assert_eq!((f[0].kind, f[0].subject), ("distributed", victim));
    assert_eq!(f[0].facts["sessions_accepted"][0]["client"], "203.0.113.66");
    let f = hunt_all(&flows, &mut Scan::new(ScanConfig::default()));
    let mut who: Vec<(&str, IpAddr)> = f.iter().map(|x| (x.kind, x.subject)).collect();
    who.sort();
    let mut expected: Vec<(&str, IpAddr)> = (200..=203)
        .map(|h| ("horizontal", ip(&format!("61.174.51.{h}"))))
        .collect();
    expected.push(("vertical", ip("45.155.205.233")));
    assert_eq!(who, expected);
    assert!(f
        .iter()
        .filter(|x| x.kind == "horizontal")
        .all(|x| x.facts["answered_by"] == serde_json::json!(["172.31.9.20"])));
}

#[test]
fn the_story_as_flow_tools_archived_it() {
    check_story(&archived(), None);
}
