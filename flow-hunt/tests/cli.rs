//! flow-hunt as a user runs it on the sample archive: findings, formats, stdin, filters, errors.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn archive() -> PathBuf {
    flowkit_core::testing::testdata::path("2010-11-09")
}

fn hunt(args: &[&str]) -> Output {
    hunt_stdin(args, None)
}

fn hunt_stdin(args: &[&str], stdin: Option<Vec<u8>>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flow-hunt"))
        .args(args)
        .env_remove("FLOWKIT_FILTERS")
        .env("TZ", "UTC")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(data) = stdin {
        let mut input = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
    }
    child.wait_with_output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "status {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(o)).expect("--json parses")
}

#[test]
fn irc_after_ssh_on_the_sample_archive() {
    let a = archive();
    let text = ok(&hunt(&["irc-after-ssh", a.to_str().unwrap()]));
    let first = text.lines().find(|l| l.starts_with("#1 ")).unwrap();
    assert!(
        first.contains("189.22.36.165") && first.contains("peer 79.115.103.225"),
        "{text}"
    );
    assert!(text.contains("ssh-session  2010-11-09 14:20:53"), "{text}");
    assert!(text.contains("79.115.103.225:6667"), "{text}");
    assert!(!text.contains("#2 "), "{text}");

    let j = json(&hunt(&["irc-after-ssh", "--json", a.to_str().unwrap()]));
    let f = &j["findings"][0];
    assert_eq!(j["detector"], "irc-after-ssh");
    assert_eq!(f["subject"], "189.22.36.165");
    assert_eq!(f["peer"], "79.115.103.225");
    assert_eq!(f["first"], "2010-11-09T14:20:53.999Z");
    let roles: Vec<&str> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["role"].as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"ssh-session") && roles.contains(&"irc") && roles.contains(&"new-port")
    );
    let irc = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["role"] == "irc")
        .unwrap();
    assert_eq!(irc["flow"]["protocol"], 6);

    let csv = ok(&hunt(&["irc-after-ssh", "--csv", a.to_str().unwrap()]));
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("rank,detector,kind,score,subject,peer,"));
    assert_eq!(lines.clone().count(), 12, "{csv}");
    assert!(lines.all(|l| l.starts_with("1,irc-after-ssh,irc-after-ssh,")));
}

#[test]
fn ssh_bruteforce_and_scan_on_the_sample_archive() {
    let a = archive();
    let j = json(&hunt(&[
        "ssh-bruteforce",
        "--json",
        "--max-evidence",
        "2",
        a.to_str().unwrap(),
    ]));
    let f = j["findings"].as_array().unwrap();
    assert_eq!(f[0]["kind"], "distributed");
    assert_eq!(f[0]["subject"], "189.22.36.165");
    assert_eq!(f[0]["facts"]["sources"], 120);
    assert!(f[1..].iter().all(|x| x["kind"] == "source"));
    assert_eq!(
        f[0]["evidence"].as_array().unwrap().len(),
        2 + 2,
        "2 attempts, 2 session flows"
    );

    let text = ok(&hunt(&["scan", "--count", "5", a.to_str().unwrap()]));
    for s in 200..=203 {
        assert!(
            text.contains(&format!("61.174.51.{s} probed 254 addresses on TCP port 22 (254 probes, all from source port 6000")),
            "{text}"
        );
    }
    assert!(
        text.contains("45.155.205.233 probed 200 TCP ports of 189.22.36.165"),
        "{text}"
    );
    // -n keeps the best.
    let j = json(&hunt(&[
        "scan",
        "--json",
        "--count",
        "2",
        a.to_str().unwrap(),
    ]));
    assert_eq!(j["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn a_stream_on_stdin_is_read_twice() {
    // The flow-tools file itself as a stream.
    let file = std::fs::read_dir(archive())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(file).unwrap();
    let j = json(&hunt_stdin(
        &["irc-after-ssh", "--json"],
        Some(bytes.clone()),
    ));
    assert_eq!(j["findings"][0]["subject"], "189.22.36.165");
    assert!(!j["findings"][0]["evidence"].as_array().unwrap().is_empty());
    let j = json(&hunt_stdin(&["scan", "--json", "-"], Some(bytes)));
    assert_eq!(j["findings"].as_array().unwrap().len(), 5);
    // An empty input holds not even a stream header (a flowkit tool always writes one): no
    // findings, and it is reported as empty, as an empty file is.
    let o = hunt_stdin(&["scan"], Some(Vec::new()));
    assert!(!o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout), "scan: no findings\n");
    assert!(String::from_utf8_lossy(&o.stderr).contains("(stdin): empty: "));
}

#[test]
fn filters_and_suppress_lists_narrow_the_flows_first() {
    let a = archive();
    let a = a.to_str().unwrap();
    // The sample's own filter file (testdata/filter.cfg; the built-in one is generic).
    let sample = flowkit_core::testing::testdata::path("filter.cfg");
    let sample = sample.to_str().unwrap();
    // Keep only flows of more than one packet: the single-SYN sweeps are gone, the vertical
    // scan (one-packet probes) too.
    let out = ok(&hunt(&["scan", "-f", sample, "-F", "gt1packet", a]));
    assert_eq!(out, "scan: no findings\n");
    // Known-good traffic out: the victim's browsing does not matter to irc-after-ssh.
    let j = json(&hunt(&[
        "irc-after-ssh",
        "--json",
        "-f",
        sample,
        "-F",
        "victim-browsing",
        a,
    ]));
    assert_eq!(j["findings"][0]["subject"], "189.22.36.165");
    // A filter file of one's own with a variable.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mine.cfg");
    std::fs::write(
        &cfg,
        "filter-primitive h\n  type ip-address\n  permit @HOST\n\
         filter-definition not-h\n  invert\n  match ip-source-address h\n  or\n  match ip-destination-address h\n",
    )
    .unwrap();
    let j = json(&hunt(&[
        "irc-after-ssh",
        "--json",
        "-f",
        cfg.to_str().unwrap(),
        "-F",
        "not-h",
        "-v",
        "HOST=79.115.103.225",
        a,
    ]));
    assert_eq!(j["findings"].as_array().unwrap().len(), 0);
    // Suppress the sweepers' network.
    let j = json(&hunt(&[
        "scan",
        "--json",
        "--suppress-src",
        "61.174.51.0/24",
        a,
    ]));
    let f = j["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["subject"], "45.155.205.233");
    let sup = dir.path().join("dscan.suppress");
    std::fs::write(
        &sup,
        "src 45.155.205.233\nsrc 61.174.51.200/30 tcp 6000 22\n",
    )
    .unwrap();
    let j = json(&hunt(&[
        "scan",
        "--json",
        "--suppress-file",
        sup.to_str().unwrap(),
        a,
    ]));
    assert_eq!(j["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn thresholds_change_what_is_found() {
    let a = archive();
    let a = a.to_str().unwrap();
    // A session must now move 200 kB: the intruder's 157 kB no longer counts.
    let out = ok(&hunt(&[
        "irc-after-ssh",
        "--session-min-octets",
        "200000",
        a,
    ]));
    assert_eq!(out, "irc-after-ssh: no findings\n");
    let j = json(&hunt(&["scan", "--json", "--min-targets", "300", a]));
    assert_eq!(j["findings"].as_array().unwrap().len(), 1);
    let j = json(&hunt(&[
        "ssh-bruteforce",
        "--json",
        "--min-attempts",
        "6",
        "--min-sources",
        "500",
        a,
    ]));
    let f = j["findings"].as_array().unwrap();
    assert!(
        !f.is_empty()
            && f.iter()
                .all(|x| x["kind"] == "source" && x["facts"]["attempts"] == 6)
    );
}

#[test]
fn bad_arguments_exit_2_and_say_why() {
    let a = archive();
    let a = a.to_str().unwrap();
    for (args, words) in [
        (
            vec!["irc-after-ssh", "--irc-ports", "6660-66x", a],
            "bad port list",
        ),
        (vec!["irc-after-ssh", "--window", "soon", a], "--window"),
        (vec!["scan", "--max-answered", "2", a], "fraction"),
        (
            vec!["scan", "-F", "no-such-definition", a],
            "no-such-definition",
        ),
        (
            vec!["scan", "--suppress-src", "10.0.0.300", a],
            "not an address",
        ),
        (vec!["scan", "/no/such/file"], "no such file"),
        (
            vec!["ssh-bruteforce", "--min-attempts", "0", a],
            "at least 1",
        ),
    ] {
        let o = hunt(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.starts_with("flow-hunt: ") && err.contains(words),
            "{args:?}: {err}"
        );
        assert!(o.stdout.is_empty());
    }
    // A damaged input is reported, the rest is read, and the exit status says so.
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk");
    std::fs::write(&junk, b"not flows at all").unwrap();
    let o = hunt(&["irc-after-ssh", a, junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("junk").count(), 1, "reported once: {err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("#1 irc-after-ssh"));
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    use std::io::Read;
    let a = archive();
    for format in ["--csv", "--json"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flow-hunt"))
            .args(["ssh-bruteforce", format, a.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // stdout is closed here, as `| head -c 16` would.
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}");
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
