//! flow-nat on conntrack logs written by the real ulogd 2.0.8 (testdata/other-logs/ulogd): for
//! every source-NATed connection of the log (found here from the raw JSON), asking for its
//! public address and port at a time within it names its internal host, and only it; the same
//! logs imported as flows (as flow-import does: `Connection::record` into an archive) give the
//! same answers byte for byte: exact times, windows, shifts, inside hosts, CSV.

use flowkit_core::logs::conntrack::read_conntrack;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn log(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../testdata/other-logs/ulogd/{name}"))
        .display()
        .to_string()
}

fn flow_nat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-nat"))
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

#[test]
fn public_ports_name_their_internal_hosts() {
    let mut checked = 0;
    for name in [
        "nfct-events-new-destroy-utc.json",
        "nfct-hash-destroy-only-utc.json",
    ] {
        let path = log(name);
        let text = std::fs::read_to_string(&path).unwrap();
        for v in text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
        {
            if v["ct.event"] != 4 {
                continue;
            }
            let (inside, isport) = (
                v["src_ip"].as_str().unwrap(),
                v["orig.l4.sport"].as_u64().unwrap_or(0),
            );
            let (public, pport) = (
                v["reply.ip.daddr.str"].as_str().unwrap(),
                v["reply.l4.dport"].as_u64().unwrap_or(0),
            );
            if (inside, isport) == (public, pport) {
                continue; // no source NAT
            }
            let at = format!("@{}", v["flow.end.sec"].as_i64().unwrap());
            let proto = v["orig.ip.protocol"].to_string();
            let o = flow_nat(&[
                "--utc",
                "--at",
                &at,
                "--proto",
                &proto,
                &format!("{public}:{pport}"),
                &path,
            ]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let out = String::from_utf8(o.stdout).unwrap();
            let lines: Vec<&str> = out.lines().collect();
            assert_eq!(lines.len(), 1, "{name} {public}:{pport}: {out}");
            assert!(
                lines[0].contains(&format!(
                    "internal {inside}:{isport} -> public {public}:{pport}"
                )),
                "{out}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 6, "{checked} NATed connections checked");
}

#[test]
fn nothing_held_exits_1_and_bad_arguments_2() {
    let path = log("nfct-hash-destroy-only-utc.json");
    let o = flow_nat(&["192.0.2.1:1", &path]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no connection in the log held 192.0.2.1:1")
    );
    let o = flow_nat(&["127.0.0.3:99999", &path]);
    assert_eq!(o.status.code(), Some(2));
    let o = flow_nat(&["--at", "yesterday-ish", "127.0.0.3", &path]);
    assert_eq!(o.status.code(), Some(2));
}

/// A source-NATed connection of a log, from its DESTROY line's raw JSON.
struct Natted {
    inside: String,
    public: String,
    proto: String,
    start_s: f64,
    end_s: f64,
}

fn natted(path: &str) -> Vec<Natted> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut all = Vec::new();
    for v in text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
    {
        if v["ct.event"] != 4 {
            continue;
        }
        let inside = format!(
            "{}:{}",
            v["src_ip"].as_str().unwrap(),
            v["orig.l4.sport"].as_u64().unwrap_or(0)
        );
        let public = format!(
            "{}:{}",
            v["reply.ip.daddr.str"].as_str().unwrap(),
            v["reply.l4.dport"].as_u64().unwrap_or(0)
        );
        if inside == public {
            continue;
        }
        let secs = |k: &str| {
            v[format!("{k}.sec")].as_f64().unwrap()
                + v[format!("{k}.usec")].as_f64().unwrap_or(0.0) / 1e6
        };
        all.push(Natted {
            inside,
            public,
            proto: v["orig.ip.protocol"].to_string(),
            start_s: secs("flow.start"),
            end_s: secs("flow.end"),
        });
    }
    all
}

#[test]
fn window_shift_and_inside_queries_on_the_real_log() {
    let path = log("nfct-events-new-destroy-utc.json");
    let all = natted(&path);
    assert!(all.len() >= 3);
    for c in &all {
        let want = format!("internal {} -> public {}", c.inside, c.public);
        // 30 s after its end: not held at that instant by it, but within a 1-minute window,
        // after every connection alive at that time.
        let at = format!("@{}", (c.end_s + 30.0).floor());
        let o = flow_nat(&["--utc", "--at", &at, "--proto", &c.proto, &c.public, &path]);
        let exact = String::from_utf8(o.stdout).unwrap();
        assert!(!exact.contains(&want), "{exact}");
        let o = flow_nat(&[
            "--utc", "--at", &at, "--window", "1m", "--proto", &c.proto, &c.public, &path,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8(o.stdout).unwrap();
        let line = out
            .lines()
            .find(|l| l.contains(&want))
            .unwrap_or_else(|| panic!("{out}"));
        assert!(line.contains(" before --at]"), "{line}");
        let marked: Vec<bool> = out.lines().map(|l| l.ends_with("--at]")).collect();
        assert!(
            marked.windows(2).all(|w| w[0] <= w[1]),
            "alive ones first: {out}"
        );

        // The gateway's clock 100 s behind: asking at mid-life + 100 s with --time-shift 100
        // names it, as asking at mid-life does unshifted.
        let mid = (c.start_s + c.end_s) / 2.0;
        let at = format!("@{:.3}", mid + 100.0);
        let o = flow_nat(&[
            "--utc",
            "--time-shift",
            "100",
            "--at",
            &at,
            "--proto",
            &c.proto,
            &c.public,
            &path,
        ]);
        let out = String::from_utf8(o.stdout).unwrap();
        assert!(
            out.lines().next().is_some_and(|l| l.contains(&want)),
            "{out}"
        );

        // And the other way round: the inside host's mappings include this one.
        let o = flow_nat(&["--utc", "--inside", &c.inside, &path]);
        let out = String::from_utf8(o.stdout).unwrap();
        assert!(out.contains(&want), "{out}");
        assert!(out
            .lines()
            .all(|l| l.contains(&format!("internal {} ", c.inside))));
    }
    let o = flow_nat(&["--inside", "192.0.2.1", &path]);
    assert_eq!(o.status.code(), Some(1));
    let o = flow_nat(&["--window", "1m", "127.0.0.3", &path]);
    assert_eq!(o.status.code(), Some(2), "--window needs --at");
}

#[test]
fn csv_and_json_carry_what_the_text_lines_say() {
    let path = log("nfct-events-new-destroy-utc.json");
    let text = flow_nat(&["--utc", "127.0.0.3", &path]);
    let lines = String::from_utf8(text.stdout).unwrap();
    let csv_out = flow_nat(&["--utc", "--csv", "127.0.0.3", &path]);
    assert!(csv_out.status.success());
    let mut r = csv::Reader::from_reader(csv_out.stdout.as_slice());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        head[3..7],
        [
            "internal_addr",
            "internal_port",
            "public_addr",
            "public_port"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), lines.lines().count());
    for (row, line) in rows.iter().zip(lines.lines()) {
        let pair = format!(
            "internal {}:{} -> public {}:{}",
            &row[3], &row[4], &row[5], &row[6]
        );
        assert!(line.contains(&pair), "{line} / {row:?}");
        assert!(line.starts_with(&row[0]), "{line} / {row:?}");
        assert!(line.contains(&format!("ct.id {}", &row[15])), "{line}");
    }
    let j: Value =
        serde_json::from_slice(&flow_nat(&["--utc", "--json", "127.0.0.3", &path]).stdout).unwrap();
    let conns = j["connections"].as_array().unwrap();
    assert_eq!(conns.len(), rows.len());
    assert_eq!(conns[0]["public_addr"], "127.0.0.3");
    assert!(conns[0]["public_port"].is_u64());
    assert!(conns[0]["offset_ms"].is_null(), "no --at, no offset");
}

/// The log's connections written as flows into `dir/nat.fk`.
fn import(path: &Path, dir: &Path) -> PathBuf {
    let mut flows = Vec::new();
    let text = std::fs::read(path).unwrap();
    read_conntrack(&text[..], "log", &mut |e| panic!("{e}"), &mut |c| {
        flows.push(c.record());
        Ok(())
    })
    .unwrap();
    let out = dir.join("nat.fk");
    flowkit_core::testing::testdata::write_archive(&out, &flows);
    out
}

/// flow-nat's exit status and output for `args` followed by `input`.
fn flow_nat_on(args: &[&str], input: &Path) -> (Option<i32>, String) {
    let mut all: Vec<&str> = args.to_vec();
    let input = input.display().to_string();
    all.push(&input);
    let o = flow_nat(&all);
    (o.status.code(), String::from_utf8(o.stdout).unwrap())
}

#[test]
fn archives_answer_as_the_logs_do_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for name in [
        "nfct-events-new-destroy-utc.json",
        "nfct-hash-destroy-only-utc.json",
    ] {
        let path = PathBuf::from(log(name));
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        let archive = import(&path, &sub);
        for c in natted(&log(name)) {
            let (inside, public, proto, end) = (c.inside, c.public, c.proto, c.end_s.floor());
            let exact = format!("@{end}");
            let after = format!("@{}", end + 30.0);
            let queries: Vec<Vec<&str>> = vec![
                vec!["--utc", "--at", &exact, "--proto", &proto, &public],
                vec!["--utc", "--at", &after, "--window", "1m", &public],
                vec!["--utc", "--time-shift", "-20", "--at", &exact, &public],
                vec!["--utc", "--inside", &inside],
                vec!["--utc", "--csv", "--at", &exact, &public],
            ];
            for q in &queries {
                let from_log = flow_nat_on(q, &path);
                let from_archive = flow_nat_on(q, &archive);
                assert_eq!(from_archive, from_log, "{name} {q:?}");
                // A directory of archives answers too.
                assert_eq!(flow_nat_on(q, &sub), from_log, "{name} {q:?} (directory)");
            }
            let (code, out) = flow_nat_on(&queries[0], &archive);
            assert_eq!(code, Some(0));
            assert_eq!(out.lines().count(), 1, "{out}");
            assert!(
                out.contains(&format!("internal {inside} -> public {public}")),
                "{out}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 6, "{checked} NATed connections checked");
}
