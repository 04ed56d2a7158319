//! irc-after-ssh on made-up scenarios.

use super::*;

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
