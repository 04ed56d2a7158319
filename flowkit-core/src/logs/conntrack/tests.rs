//! NFCT JSON written by the real ulogd 2.0.8 (testdata/other-logs/ulogd, see its FIELDS.md):
//! each DESTROY is the connection its JSON says (read a second way, as a generic JSON value),
//! NEWs pair with their DESTROYs or stand alone, lines without addresses are named and
//! counted, and source NAT is found as the log shows it.

use super::*;
use crate::testing::testdata;
use serde_json::Value;

fn text(name: &str) -> String {
    testdata::read_text(&format!("other-logs/ulogd/{name}")).unwrap()
}

fn read(text: &str, name: &str) -> (Vec<Connection>, ConntrackCounts, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let counts = read_conntrack(
        text.as_bytes(),
        name,
        &mut |e| errors.push(e.to_string()),
        &mut |c| {
            out.push(c);
            Ok(())
        },
    )
    .unwrap();
    (out, counts, errors)
}

/// The connection a DESTROY line describes, read from a generic JSON value; `start` from its
/// NEW when the DESTROY has none.
fn expected(v: &Value, new_start: Option<i64>) -> Connection {
    let a = |k: &str| v[k].as_str().unwrap().parse::<IpAddr>().unwrap();
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    let ms = |s: &str, u: &str| {
        v[s].as_i64()
            .map(|s| s * 1000 + v[u].as_i64().unwrap_or(0) / 1000)
    };
    Connection {
        id: n("ct.id") as u32,
        protocol: n("orig.ip.protocol") as u8,
        orig_src: a("src_ip"),
        orig_dst: a("dest_ip"),
        orig_sport: n("orig.l4.sport") as u16,
        orig_dport: if v["icmp.type"].is_u64() {
            (n("icmp.type") << 8 | n("icmp.code")) as u16
        } else {
            n("orig.l4.dport") as u16
        },
        reply_src: a("reply.ip.saddr.str"),
        reply_dst: a("reply.ip.daddr.str"),
        reply_sport: n("reply.l4.sport") as u16,
        reply_dport: n("reply.l4.dport") as u16,
        orig_packets: n("orig.raw.pktcount"),
        orig_octets: n("orig.raw.pktlen"),
        reply_packets: n("reply.raw.pktcount"),
        reply_octets: n("reply.raw.pktlen"),
        start_ms: ms("flow.start.sec", "flow.start.usec").or(new_start),
        end_ms: ms("flow.end.sec", "flow.end.usec"),
    }
}

fn lines(name: &str, event: u64) -> Vec<Value> {
    text(name)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["ct.event"] == event)
        .collect()
}

#[test]
fn destroys_are_their_connections_and_pair_with_their_news() {
    for name in [
        "nfct-events-new-destroy-utc.json",
        "nfct-eventv1-device-europe-berlin.json",
        "nfct-acct-off-tstamp-off-events.json",
        "nfct-hash-destroy-only-utc.json",
        "nfct-acct-off-tstamp-off-hash.json",
    ] {
        let (conns, counts, errors) = read(&text(name), name);
        assert!(errors.is_empty(), "{name}: {errors:?}");
        let news = lines(name, 1);
        let want: Vec<Connection> = lines(name, 4)
            .iter()
            .map(|d| {
                let start = news
                    .iter()
                    .find(|n| n["ct.id"] == d["ct.id"] && n["orig.l4.sport"] == d["orig.l4.sport"])
                    .and_then(|n| {
                        n["flow.start.sec"]
                            .as_i64()
                            .map(|s| s * 1000 + n["flow.start.usec"].as_i64().unwrap() / 1000)
                    });
                expected(d, start)
            })
            .collect();
        assert_eq!(want.len(), 15, "{name}");
        assert_eq!(conns, want, "{name}");
        assert_eq!(counts.connections, 15);
        assert_eq!(counts.never_destroyed, 0);
        assert_eq!(counts.new_events, news.len() as u64);
    }
    // Accounting on: some connections carried traffic both ways.
    let (conns, _, _) = read(&text("nfct-events-new-destroy-utc.json"), "x");
    assert!(conns
        .iter()
        .any(|c| c.orig_octets > 0 && c.reply_octets > 0));
}

#[test]
fn news_without_destroy_still_make_connections() {
    let all = text("nfct-events-new-destroy-utc.json");
    let news: String = all
        .lines()
        .filter(|l| l.contains("\"ct.event\": 1"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (conns, counts, _) = read(&news, "new-only");
    assert_eq!(conns.len(), 15);
    assert_eq!(counts.never_destroyed, 15);
    assert!(conns
        .iter()
        .all(|c| c.end_ms.is_none() && c.start_ms.is_some()));
    // Their records have a zero duration and zero counters (NEW events carry none).
    assert!(conns
        .iter()
        .all(|c| c.record().end_ms == c.record().start_ms && c.record().packets == 0));
}

#[test]
fn lines_without_addresses_are_named_and_counted() {
    let name = "nfct-no-ip2str-utc.json";
    let (conns, counts, errors) = read(&text(name), name);
    assert!(conns.is_empty());
    assert_eq!(counts.malformed, 30);
    assert_eq!(
        errors[0],
        format!("{name}:1: no `src_ip` (ulogd's stack needs IP2STR for addresses)")
    );
    let (_, counts, errors) = read("{\"ct.event\": 4,\n", "cut");
    assert_eq!(counts.malformed, 1);
    assert!(errors[0].starts_with("cut:1:"), "{errors:?}");
}

/// The column of a JSON error counts from the start of the line as it is in the file, leading
/// blanks included, so an editor's column finds the byte.
#[test]
fn error_columns_count_leading_blanks() {
    let text = "{\"ct.event\": x}\n  \t{\"ct.event\":x}  \n";
    // The column of the `x` that is no JSON value, in each line as it is in the file.
    let want: Vec<usize> = text.lines().map(|l| l.find('x').unwrap() + 1).collect();
    assert_eq!(want, [14, 16]);
    let (_, counts, errors) = read(text, "cols");
    assert_eq!(counts.malformed, 2);
    for (k, col) in want.iter().enumerate() {
        let at = format!("cols:{}:{col}: ", k + 1);
        assert!(errors[k].starts_with(&at), "{at} {errors:?}");
    }
}

#[test]
fn source_nat_is_attributed_to_the_internal_host() {
    for name in [
        "nfct-events-new-destroy-utc.json",
        "nfct-hash-destroy-only-utc.json",
    ] {
        let (conns, _, _) = read(&text(name), name);
        let natted: Vec<&Connection> = conns.iter().filter(|c| c.source_nat()).collect();
        assert!(!natted.is_empty(), "{name}: the samples include SNAT");
        for c in natted {
            // Independently from the JSON: the public side is the reply's destination.
            let public: IpAddr = c.reply_dst;
            assert_ne!((public, c.reply_dport), (c.orig_src, c.orig_sport));
            let mid = c.start_ms.unwrap();
            assert!(c.held(public, Some(c.reply_dport), Some(c.protocol), Some(mid)));
            let holders: Vec<&Connection> = conns
                .iter()
                .filter(|o| o.held(public, Some(c.reply_dport), Some(c.protocol), Some(mid)))
                .collect();
            assert_eq!(
                holders,
                vec![c],
                "{name}: one internal host held the port then"
            );
            assert!(!c.held(
                public,
                Some(c.reply_dport),
                Some(c.protocol),
                Some(mid - 3_600_000)
            ));
            let other = if c.protocol == 6 { 17 } else { 6 };
            assert!(!c.held(public, Some(c.reply_dport), Some(other), Some(mid)));
        }
    }
}

/// Every DESTROY's flow record carries the translation its JSON line says (read as a generic
/// JSON value): the reply's destination as the post-NAT source when it differs from the
/// original source, the reply's source as the post-NAT destination when it differs from the
/// address dialled, zero otherwise; and the connection comes back from the record.
#[test]
fn records_keep_the_translation_and_give_the_connection_back() {
    let (mut snat, mut dnat) = (0, 0);
    for name in [
        "nfct-events-new-destroy-utc.json",
        "nfct-hash-destroy-only-utc.json",
        "nfct-eventv1-device-europe-berlin.json",
    ] {
        let (conns, _, _) = read(&text(name), name);
        for v in lines(name, 4) {
            let s = |k: &str| v[k].as_str().unwrap().to_string();
            let n = |k: &str| v[k].as_u64().unwrap_or(0);
            let c = conns
                .iter()
                .find(|c| c.id as u64 == n("ct.id") && c.orig_sport as u64 == n("orig.l4.sport"))
                .unwrap();
            let r = c.record();
            let (inside, public) = (
                (s("src_ip"), n("orig.l4.sport")),
                (s("reply.ip.daddr.str"), n("reply.l4.dport")),
            );
            if inside != public {
                snat += 1;
                assert_eq!(r.xlate_src_addr.to_string(), public.0, "{name}");
                assert_eq!(r.xlate_src_port as u64, public.1);
            } else {
                assert_eq!(r.xlate_src_addr.to_string(), "0.0.0.0");
                assert_eq!(r.xlate_src_port, 0);
            }
            let icmp = v["icmp.type"].is_u64();
            let dialled = (s("dest_ip"), n("orig.l4.dport"));
            let answered = (s("reply.ip.saddr.str"), n("reply.l4.sport"));
            if dialled.0 != answered.0 || (!icmp && dialled.1 != answered.1) {
                dnat += 1;
                assert_eq!(r.xlate_dst_addr.to_string(), answered.0, "{name}");
                assert_eq!(r.xlate_dst_port as u64, answered.1);
            } else {
                assert_eq!(r.xlate_dst_addr.to_string(), "0.0.0.0");
            }
            assert_eq!(r.flow_id, n("ct.id"));
            if c.start_ms.is_some() && c.end_ms >= c.start_ms {
                assert_eq!(&Connection::from_record(&r), c, "{name}");
            }
        }
    }
    assert!(snat >= 6 && dnat >= 2, "{snat} SNAT, {dnat} DNAT seen");
}
