//! The detectors on small scenarios built here (other addresses, times and volumes than the
//! sample capture, and the cases that must not be reported), and on the sample data: the
//! scenario captures imported from export packets and the flow-tools archive.

use super::irc_after_ssh::{IrcAfterSsh, IrcAfterSshConfig};
use super::scan::{Scan, ScanConfig};
use super::ssh_bruteforce::{BruteForceConfig, SshBruteForce};
use super::*;
use crate::model::record::FlowRecord;
use std::net::IpAddr;

const T0: i64 = 1_614_816_000_000; // 2021-03-04 00:00 UTC
const MIN: i64 = 60_000;
const FSPA: u8 = 0x1b;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Flows of a made-up scenario.
#[derive(Default)]
struct Story {
    flows: Vec<FlowRecord>,
}

impl Story {
    #[allow(clippy::too_many_arguments)]
    fn flow(
        &mut self,
        src: &str,
        sp: u16,
        dst: &str,
        dp: u16,
        p: u8,
        t: i64,
        dur: i64,
        pk: u64,
        oc: u64,
        fl: u8,
    ) {
        self.flows.push(FlowRecord {
            start_ms: t,
            end_ms: t + dur,
            src_addr: ip(src),
            dst_addr: ip(dst),
            src_port: sp,
            dst_port: dp,
            protocol: p,
            tcp_flags: fl,
            packets: pk,
            octets: oc,
            ..FlowRecord::default()
        });
    }

    /// A TCP connection: the client's flow and the server's answer.
    #[allow(clippy::too_many_arguments)]
    fn conn(
        &mut self,
        cli: &str,
        cp: u16,
        srv: &str,
        sp: u16,
        t: i64,
        dur: i64,
        pk: (u64, u64),
        oc: (u64, u64),
    ) {
        self.flow(cli, cp, srv, sp, 6, t, dur, pk.0, oc.0, FSPA);
        self.flow(srv, sp, cli, cp, 6, t + 1, dur, pk.1, oc.1, FSPA);
    }

    /// A short failed SSH login: a handful of packets, a few kB, a second or two.
    fn attempt(&mut self, cli: &str, cp: u16, srv: &str, t: i64) {
        self.conn(cli, cp, srv, 22, t, 1_500, (9, 7), (1_400, 2_600));
    }

    /// An SSH session that moved real data.
    fn session(&mut self, cli: &str, cp: u16, srv: &str, t: i64, dur: i64, octets: u64) {
        self.conn(
            cli,
            cp,
            srv,
            22,
            t,
            dur,
            (400, 380),
            (octets / 3, octets - octets / 3),
        );
    }

    /// Runs a detector over the flows cut into blocks of 7, in the given order and reversed
    /// (flows reach a collector in any order); both runs must agree.
    fn hunt(&self, make: &dyn Fn() -> Box<dyn Detector>) -> Vec<Finding> {
        let run = |flows: &[FlowRecord]| {
            let bufs: Vec<FlowBlockBuf> = flows.chunks(7).map(FlowBlockBuf::from_records).collect();
            let views: Vec<FlowBlock<'_>> = bufs.iter().map(|b| b.view()).collect();
            run_on_blocks(make().as_mut(), &views)
        };
        let a = run(&self.flows);
        let mut rev = self.flows.clone();
        rev.reverse();
        let b = run(&rev);
        let key = |f: &Vec<Finding>| -> Vec<(String, IpAddr, Option<IpAddr>, String)> {
            f.iter()
                .map(|x| {
                    (
                        x.kind.to_string(),
                        x.subject,
                        x.peer,
                        format!("{:.6}", x.score),
                    )
                })
                .collect()
        };
        assert_eq!(
            key(&a),
            key(&b),
            "findings depend on the order of the flows"
        );
        a
    }
}

fn irc(cfg: IrcAfterSshConfig) -> impl Fn() -> Box<dyn Detector> {
    move || Box::new(IrcAfterSsh::new(cfg.clone()))
}

fn brute(cfg: BruteForceConfig) -> impl Fn() -> Box<dyn Detector> {
    move || Box::new(SshBruteForce::new(cfg.clone()))
}

fn scan(cfg: ScanConfig) -> impl Fn() -> Box<dyn Detector> {
    move || Box::new(Scan::new(cfg.clone()))
}

fn roles(f: &Finding) -> Vec<&'static str> {
    f.evidence.iter().map(|e| e.role).collect()
}

// ---------------------------------------------------------------------------------------
// irc-after-ssh

const VICTIM: &str = "10.20.30.40";
const INTRUDER: &str = "198.51.100.7";

/// The break-in: a 10-minute session moving 300 kB from 09:00, IRC (6697, to a third host)
/// 20 minutes after it ends, and a back channel to the intruder on port 4444.
fn break_in(s: &mut Story, victim: &str, intruder: &str, t: i64) {
    s.session(intruder, 51000, victim, t, 10 * MIN, 300_000);
    s.conn(
        victim,
        40100,
        "203.0.113.9",
        6697,
        t + 30 * MIN,
        5 * MIN,
        (30, 28),
        (3_000, 9_000),
    );
    s.conn(
        victim,
        40101,
        intruder,
        4444,
        t + 32 * MIN,
        MIN,
        (12, 10),
        (1_000, 20_000),
    );
}

/// Background: browsing and DNS from the victim, brute force against it.
fn background(s: &mut Story, victim: &str) {
    for k in 0..40u16 {
        let t = T0 + k as i64 * 7 * MIN;
        s.conn(
            victim,
            33000 + k,
            &format!("93.184.216.{}", k % 9 + 1),
            443,
            t,
            4_000,
            (20, 30),
            (2_000, 40_000),
        );
        s.conn(
            victim,
            34000 + k,
            "9.9.9.9",
            53,
            t + 10,
            30,
            (1, 1),
            (60, 120),
        );
        s.attempt(&format!("45.{}.7.9", k % 5 + 1), 50000 + k, victim, t + 100);
    }
}

#[test]
fn irc_after_ssh_finds_the_break_in_and_ranks_it_first() {
    let mut s = Story::default();
    background(&mut s, VICTIM);
    break_in(&mut s, VICTIM, INTRUDER, T0 + 9 * 60 * MIN);
    // A weaker case elsewhere: a session, then IRC to an unrelated server 50 minutes later.
    s.session(
        "192.0.2.44",
        52000,
        "10.20.30.41",
        T0 + 3 * 60 * MIN,
        5 * MIN,
        80_000,
    );
    s.conn(
        "10.20.30.41",
        41000,
        "203.0.113.77",
        6667,
        T0 + 3 * 60 * MIN + 55 * MIN,
        MIN,
        (20, 20),
        (2_000, 2_000),
    );

    let f = s.hunt(&irc(IrcAfterSshConfig::default()));
    assert_eq!(f.len(), 2, "{f:#?}");
    assert_eq!((f[0].subject, f[0].peer), (ip(VICTIM), Some(ip(INTRUDER))));
    assert_eq!(f[0].kind, "irc-after-ssh");
    assert!(f[0].score > f[1].score);
    assert_eq!(
        (f[1].subject, f[1].peer),
        (ip("10.20.30.41"), Some(ip("192.0.2.44")))
    );
    let r = roles(&f[0]);
    assert_eq!(r.iter().filter(|r| **r == "ssh-session").count(), 2);
    assert_eq!(r.iter().filter(|r| **r == "irc").count(), 2);
    assert_eq!(r.iter().filter(|r| **r == "new-port").count(), 2);
    assert_eq!(f[0].facts["new_ports"], serde_json::json!([4444]));
    assert_eq!(f[0].facts["irc"][0]["server"], "203.0.113.9");
    let delay = f[0].facts["delay_s"].as_f64().unwrap();
    assert!((delay - 20.0 * 60.0).abs() < 0.01, "{delay}");
    // The victim's web browsing and DNS are not evidence.
    assert!(f[0]
        .evidence
        .iter()
        .all(|e| e.flow.dst_port != 443 && e.flow.src_port != 443));
}

#[test]
fn irc_after_ssh_works_for_ipv6_and_sessions_cut_into_pieces() {
    let mut s = Story::default();
    let (v, a) = ("2001:db8:1::10", "2001:db8:ff::66");
    // The exporter's active timeout cut the session into three records per direction, each
    // below the thresholds; together they move 60 kB in 15 minutes.
    for k in 0..3 {
        s.conn(
            a,
            60000,
            v,
            22,
            T0 + k * 5 * MIN,
            5 * MIN,
            (20, 18),
            (8_000, 12_000),
        );
    }
    s.conn(
        v,
        45000,
        a,
        6667,
        T0 + 20 * MIN,
        MIN,
        (10, 10),
        (900, 1_500),
    );
    let f = s.hunt(&irc(IrcAfterSshConfig::default()));
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].subject, f[0].peer), (ip(v), Some(ip(a))));
    assert_eq!(f[0].facts["ssh_sessions"][0]["octets"], 60_000);
    assert_eq!(
        roles(&f[0]).iter().filter(|r| **r == "ssh-session").count(),
        6
    );
}

#[test]
fn irc_after_ssh_leaves_out_what_is_not_a_break_in() {
    let cfg = IrcAfterSshConfig::default();
    // An SSH session with little data (a failed login), then IRC.
    let mut s = Story::default();
    s.conn(
        INTRUDER,
        51000,
        VICTIM,
        22,
        T0,
        3_000,
        (12, 10),
        (2_000, 3_000),
    );
    s.conn(
        VICTIM,
        40100,
        INTRUDER,
        6667,
        T0 + 5 * MIN,
        MIN,
        (30, 28),
        (3_000, 9_000),
    );
    assert!(s.hunt(&irc(cfg.clone())).is_empty(), "small session");

    // IRC before the SSH session.
    let mut s = Story::default();
    s.conn(
        VICTIM,
        40100,
        "203.0.113.9",
        6667,
        T0,
        MIN,
        (30, 28),
        (3_000, 9_000),
    );
    s.session(INTRUDER, 51000, VICTIM, T0 + 10 * MIN, 10 * MIN, 300_000);
    assert!(s.hunt(&irc(cfg.clone())).is_empty(), "IRC before SSH");

    // IRC 61 minutes after the session ended: outside the default window, inside a wider one.
    let mut s = Story::default();
    s.session(INTRUDER, 51000, VICTIM, T0, 10 * MIN, 300_000);
    s.conn(
        VICTIM,
        40100,
        "203.0.113.9",
        6667,
        T0 + 71 * MIN,
        MIN,
        (30, 28),
        (3_000, 9_000),
    );
    assert!(
        s.hunt(&irc(cfg.clone())).is_empty(),
        "IRC outside the window"
    );
    let wide = IrcAfterSshConfig {
        window_ms: 2 * 60 * MIN,
        ..cfg.clone()
    };
    assert_eq!(s.hunt(&irc(wide)).len(), 1);

    // Only the server's half of the SSH connection was exported: not judged.
    let mut s = Story::default();
    s.flow(
        VICTIM,
        22,
        INTRUDER,
        51000,
        6,
        T0,
        10 * MIN,
        400,
        200_000,
        FSPA,
    );
    s.conn(
        VICTIM,
        40100,
        INTRUDER,
        6667,
        T0 + 15 * MIN,
        MIN,
        (30, 28),
        (3_000, 9_000),
    );
    assert!(s.hunt(&irc(cfg.clone())).is_empty(), "one-sided SSH");
}

#[test]
fn irc_after_ssh_leaves_a_busy_server_alone() {
    // A shared development server: 30 users log in with real sessions all day; it fetches
    // packages over HTTPS and serves a web app to the same users, who browse it before and
    // after logging in. Nobody talks IRC, and the users' ports are not new.
    let mut s = Story::default();
    let srv = "172.16.5.5";
    for u in 0..30u16 {
        let user = format!("172.16.9.{}", u + 1);
        let t = T0 + u as i64 * 20 * MIN;
        s.conn(
            &user,
            20000 + u,
            srv,
            8080,
            t - 30 * MIN,
            MIN,
            (30, 40),
            (3_000, 50_000),
        );
        s.session(&user, 30000 + u, srv, t, 30 * MIN, 2_000_000);
        s.conn(
            &user,
            21000 + u,
            srv,
            8080,
            t + 40 * MIN,
            MIN,
            (30, 40),
            (3_000, 50_000),
        );
        s.conn(
            srv,
            36000 + u,
            "151.101.1.1",
            443,
            t + 5 * MIN,
            20_000,
            (200, 300),
            (10_000, 900_000),
        );
    }
    assert!(s.hunt(&irc(IrcAfterSshConfig::default())).is_empty());
    // IRC from it during two users' sessions: reported with each (flows cannot tell which
    // login led to it).
    s.conn(
        srv,
        47000,
        "203.0.113.9",
        6667,
        T0 + 30 * MIN,
        MIN,
        (10, 10),
        (900, 900),
    );
    let f = s.hunt(&irc(IrcAfterSshConfig::default()));
    let peers: Vec<Option<IpAddr>> = f.iter().map(|x| x.peer).collect();
    assert_eq!(peers.len(), 2, "{peers:?}");
    assert!(f
        .iter()
        .all(|x| x.subject == ip(srv) && x.facts["new_ports"] == serde_json::json!([])));
}

#[test]
fn irc_after_ssh_does_not_count_the_client_using_the_hosts_services() {
    // After logging in, the admin's workstation uses the server's DNS, mail and web: the
    // server's ports are below 1024, so these are not the server reaching out.
    let mut s = Story::default();
    s.session(INTRUDER, 51000, VICTIM, T0, 10 * MIN, 300_000);
    s.conn(
        INTRUDER,
        40000,
        VICTIM,
        53,
        T0 + 12 * MIN,
        10,
        (1, 1),
        (70, 200),
    );
    s.conn(
        INTRUDER,
        40001,
        VICTIM,
        25,
        T0 + 13 * MIN,
        900,
        (12, 10),
        (9_000, 800),
    );
    s.conn(
        INTRUDER,
        40002,
        VICTIM,
        443,
        T0 + 14 * MIN,
        900,
        (12, 10),
        (900, 8_000),
    );
    assert!(s.hunt(&irc(IrcAfterSshConfig::default())).is_empty());
    // A connection from the server to the client's port 443 is new.
    s.conn(
        VICTIM,
        41000,
        INTRUDER,
        443,
        T0 + 15 * MIN,
        900,
        (12, 10),
        (900, 8_000),
    );
    let f = s.hunt(&irc(IrcAfterSshConfig::default()));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].kind, "new-ports-after-ssh");
    assert_eq!(f[0].facts["new_ports"], serde_json::json!([443]));
}

#[test]
fn irc_after_ssh_ports_are_configurable() {
    let mut s = Story::default();
    s.session(INTRUDER, 51000, VICTIM, T0, 10 * MIN, 300_000);
    s.conn(
        VICTIM,
        40100,
        "203.0.113.9",
        8001,
        T0 + 15 * MIN,
        MIN,
        (30, 28),
        (3_000, 9_000),
    );
    assert!(s.hunt(&irc(IrcAfterSshConfig::default())).is_empty());
    let cfg = IrcAfterSshConfig {
        irc_ports: PortSet::parse("8000-8010").unwrap(),
        ..IrcAfterSshConfig::default()
    };
    assert_eq!(s.hunt(&irc(cfg)).len(), 1);
    // SSH on another port.
    let mut s = Story::default();
    s.conn(
        INTRUDER,
        51000,
        VICTIM,
        2222,
        T0,
        10 * MIN,
        (400, 380),
        (100_000, 200_000),
    );
    s.conn(
        VICTIM,
        40100,
        "203.0.113.9",
        6667,
        T0 + 15 * MIN,
        MIN,
        (30, 28),
        (3_000, 9_000),
    );
    assert!(s.hunt(&irc(IrcAfterSshConfig::default())).is_empty());
    let mut cfg = IrcAfterSshConfig::default();
    cfg.ssh.ports = PortSet::parse("22,2222").unwrap();
    assert_eq!(s.hunt(&irc(cfg)).len(), 1);
}

// ---------------------------------------------------------------------------------------
// ssh-bruteforce

#[test]
fn bruteforce_finds_sources_sprayers_distributed_attacks_and_a_success() {
    let mut s = Story::default();
    let target = "10.9.8.7";
    // A loud source: 12 attempts, then a session: a likely successful guess.
    for k in 0..12u16 {
        s.attempt("185.220.1.5", 40000 + k, target, T0 + k as i64 * 10_000);
    }
    s.session("185.220.1.5", 41000, target, T0 + 5 * MIN, 20 * MIN, 90_000);
    // A sprayer: two attempts on each of 15 hosts of a /24.
    for h in 1..=15u16 {
        for k in 0..2u16 {
            s.attempt(
                "203.0.113.200",
                42000 + h * 2 + k,
                &format!("10.9.9.{h}"),
                T0 + (h * 2 + k) as i64 * 3_000,
            );
        }
    }
    // A botnet: 30 sources, 2 attempts each, against one host; meanwhile a user logs in.
    let bot_target = "10.9.8.100";
    for b in 0..30u16 {
        for k in 0..2u16 {
            s.attempt(
                &format!("100.64.{}.{}", b / 10, b % 10 + 1),
                43000 + k,
                bot_target,
                T0 + (b * 2 + k) as i64 * MIN,
            );
        }
    }
    s.session(
        "10.9.1.1",
        44000,
        bot_target,
        T0 + 90 * MIN,
        15 * MIN,
        50_000,
    );

    let f = s.hunt(&brute(BruteForceConfig::default()));
    let kinds: Vec<(&str, IpAddr)> = f.iter().map(|x| (x.kind, x.subject)).collect();
    assert_eq!(f[0].kind, "success", "{kinds:?}");
    assert_eq!(
        (f[0].subject, f[0].peer),
        (ip("185.220.1.5"), Some(ip(target)))
    );
    assert_eq!(f[0].facts["attempts_before"], 12);
    assert!(roles(&f[0]).contains(&"ssh-session") && roles(&f[0]).contains(&"attempt"));

    let find = |kind: &str, who: &str| f.iter().find(|x| x.kind == kind && x.subject == ip(who));
    let src = find("source", "185.220.1.5").expect("source finding");
    assert_eq!(src.facts["attempts"], 12);
    assert_eq!(src.peer, Some(ip(target)));
    let spray = find("spray", "203.0.113.200").expect("spray finding");
    assert_eq!(
        (
            spray.facts["attempts"].clone(),
            spray.facts["targets"].clone()
        ),
        (30.into(), 15.into())
    );
    let dist = find("distributed", bot_target).expect("distributed finding");
    assert_eq!(dist.facts["sources"], 30);
    assert_eq!(dist.facts["by_source"].as_array().unwrap().len(), 30);
    assert_eq!(dist.facts["sessions_accepted"][0]["client"], "10.9.1.1");
    assert!(roles(dist).contains(&"ssh-session"));
    // The bots made 2 attempts each: below the per-source threshold.
    assert!(find("source", "100.64.0.1").is_none());
    // Nothing else.
    assert_eq!(f.len(), 4, "{kinds:?}");
}

#[test]
fn bruteforce_leaves_out_scans_users_and_long_quiet_connections() {
    let mut s = Story::default();
    let srv = "10.1.1.1";
    // A SYN sweep on port 22: one packet per address (a scan, not login attempts).
    for h in 1..=200u16 {
        s.flow(
            "198.18.0.9",
            6000,
            &format!("10.1.1.{}", h % 250 + 1),
            22,
            6,
            T0 + h as i64,
            0,
            1,
            40,
            0x02,
        );
    }
    // A busy server: 40 users log in (real sessions) and each also runs a few quick commands
    // (short connections), like git or ansible over SSH.
    for u in 0..40u16 {
        let user = format!("10.2.{}.{}", u / 20, u % 20 + 1);
        let t = T0 + u as i64 * 15 * MIN;
        s.session(&user, 50000 + u, srv, t, 20 * MIN, 400_000);
        for k in 0..2u16 {
            s.attempt(&user, 51000 + u * 4 + k, srv, t + 30 * MIN + k as i64 * MIN);
        }
    }
    // A popular server (git over SSH): 300 clients, one short connection each.
    for c in 0..300u16 {
        s.attempt(
            &format!("198.19.{}.{}", c / 200, c % 200 + 1),
            53000 + c,
            "10.1.1.2",
            T0 + c as i64 * MIN,
        );
    }
    // A monitoring host keeps a quiet SSH connection open for hours.
    s.conn(
        "10.3.0.5",
        52000,
        srv,
        22,
        T0,
        5 * 60 * MIN,
        (90, 80),
        (9_000, 9_000),
    );
    let f = s.hunt(&brute(BruteForceConfig::default()));
    assert!(f.is_empty(), "{f:#?}");
}

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
