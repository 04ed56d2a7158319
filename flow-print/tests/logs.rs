//! Flow logs read directly (`flow-print eve.json`, `cat conntrack.json | flow-print`): the flows
//! printed are those `flow-import`'s readers make of the log (themselves tested against the raw
//! JSON in flowkit-core), from a path and from stdin; a malformed line is reported with its file
//! and line, counted (exit 1), and the other lines' flows are printed.

use flowkit_core::logs::{conntrack, eve};
use flowkit_core::model::record::FlowRecord;
use flowkit_core::testing::testdata;
use std::io::Write;
use std::process::{Command, Output, Stdio};

const FIELDS: &str = "start_ms,end_ms,sa,da,sp,dp,prot,packets,octets,rev_packets,rev_octets";

fn print(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flow-print"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(bytes) = stdin {
        let mut w = child.stdin.take().unwrap();
        let bytes = bytes.to_vec();
        std::thread::spawn(move || w.write_all(&bytes));
    }
    child.wait_with_output().unwrap()
}

fn rows(r: &FlowRecord) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{},{}",
        r.start_ms,
        r.end_ms,
        r.src_addr,
        r.dst_addr,
        r.src_port,
        r.dst_port,
        r.protocol,
        r.packets,
        r.octets,
        r.rev_packets,
        r.rev_octets
    )
}

/// What flow-import's readers make of a log.
fn imported(path: &std::path::Path) -> Vec<FlowRecord> {
    let text = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    if eve::sniff(&text) {
        eve::read_eve(
            text.as_slice(),
            "t",
            eve::EveEvents::Auto,
            &mut |_| {},
            &mut |r| {
                out.push(r);
                Ok(())
            },
        )
        .unwrap();
    } else {
        conntrack::read_conntrack(text.as_slice(), "t", &mut |_| {}, &mut |c| {
            out.push(c.record());
            Ok(())
        })
        .unwrap();
    }
    out
}

#[test]
fn logs_print_as_flow_import_reads_them_from_paths_and_stdin() {
    for name in [
        "suricata/eve-flow.json",
        "suricata/eve-netflow.json",
        "suricata/eve-live-loopback-lo.json",
        "ulogd/nfct-events-new-destroy-utc.json",
        "ulogd/nfct-hash-destroy-only-utc.json",
    ] {
        let path = testdata::path(&format!("other-logs/{name}"));
        let want: Vec<String> = imported(&path).iter().map(rows).collect();
        assert!(!want.is_empty(), "{name}");
        let p = path.to_str().unwrap();
        let from_path = print(&["-f", "csv", "--fields", FIELDS, p], None);
        let bytes = std::fs::read(&path).unwrap();
        let from_stdin = print(&["-f", "csv", "--fields", FIELDS], Some(&bytes));
        for (how, o) in [("path", from_path), ("stdin", from_stdin)] {
            assert!(
                o.status.success(),
                "{name} {how}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let text = String::from_utf8(o.stdout).unwrap();
            let got: Vec<&str> = text.lines().skip(1).collect();
            assert_eq!(got, want, "{name} from {how}");
        }
    }
}

#[test]
fn a_malformed_line_is_reported_and_the_rest_printed() {
    let good =
        std::fs::read_to_string(testdata::path("other-logs/suricata/eve-flow.json")).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let mut text = lines[..3].join("\n");
    text.push_str("\n{\"event_type\": \"flow\", broken\n");
    text.push_str(&lines[3..].join("\n"));
    text.push('\n');
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("eve.json");
    std::fs::write(&f, &text).unwrap();
    let full = print(
        &["-f", "csv", "--fields", FIELDS, good_path().as_str()],
        None,
    );
    let o = print(
        &["-f", "csv", "--fields", FIELDS, f.to_str().unwrap()],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("eve.json:4:"), "{err}");
    assert_eq!(o.stdout, full.stdout, "every good line's flow is printed");
}

fn good_path() -> String {
    testdata::path("other-logs/suricata/eve-flow.json")
        .display()
        .to_string()
}
