//! flow-nat over archives: the conntrack logs of testdata/other-logs/ulogd imported as flows
//! (as flow-import does: `Connection::record` into an archive) give, for every source-NATed
//! connection of the log (found from the raw JSON), the same answer byte for byte as the log
//! read directly: exact times, windows, shifts, the inside host's mappings, CSV.

use flowkit_core::logs::conntrack::read_conntrack;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn log(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../testdata/other-logs/ulogd/{name}"))
}

fn flow_nat(args: &[&str], input: &Path) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_flow-nat"))
        .args(args)
        .arg(input)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    (o.status.code(), String::from_utf8(o.stdout).unwrap())
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

/// (inside, public, protocol, end seconds) of each source-NATed DESTROY of the log.
fn natted(path: &Path) -> Vec<(String, String, String, f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut all = Vec::new();
    for v in text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
    {
        if v["ct.event"] != 4 {
            continue;
        }
        let port = |k: &str| v[k].as_u64().unwrap_or(0);
        let inside = format!(
            "{}:{}",
            v["src_ip"].as_str().unwrap(),
            port("orig.l4.sport")
        );
        let public = format!(
            "{}:{}",
            v["reply.ip.daddr.str"].as_str().unwrap(),
            port("reply.l4.dport")
        );
        if inside != public {
            let end = v["flow.end.sec"].as_f64().unwrap();
            all.push((inside, public, v["orig.ip.protocol"].to_string(), end));
        }
    }
    all
}

#[test]
fn archives_answer_as_the_logs_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for name in [
        "nfct-events-new-destroy-utc.json",
        "nfct-hash-destroy-only-utc.json",
    ] {
        let path = log(name);
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        let archive = import(&path, &sub);
        for (inside, public, proto, end) in natted(&path) {
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
                let from_log = flow_nat(q, &path);
                let from_archive = flow_nat(q, &archive);
                assert_eq!(from_archive, from_log, "{name} {q:?}");
                // A directory of archives answers too.
                assert_eq!(flow_nat(q, &sub), from_log, "{name} {q:?} (directory)");
            }
            let (code, out) = flow_nat(&queries[0], &archive);
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
