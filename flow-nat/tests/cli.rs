//! flow-nat on conntrack logs written by the real ulogd 2.0.8 (testdata/other-logs/ulogd): for
//! every source-NATed connection of the log (found here from the raw JSON), asking for its
//! public address and port at a time within it names its internal host, and only it.

use serde_json::Value;
use std::path::Path;
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
