//! ssh-bruteforce on made-up scenarios.

use super::*;

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
