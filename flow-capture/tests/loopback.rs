//! flow-capture end to end on 127.0.0.1: real export captures replayed to the running binary
//! must give exactly the flows flow-import decodes from the same captures.

mod common;

use common::*;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::Duration;

#[test]
fn replayed_captures_give_the_flows_flow_import_gives() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(dir.path(), &[]);
    let v5 = capture_paths(&["scenario-v5"]);
    let rest = capture_paths(&["pmacct-ipfix", "scenario-v9"]);
    send(&v5, c.port, "127.0.0.1:0");
    // A datagram that is not NetFlow must be reported and must not stop the collector.
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"not netflow", ("127.0.0.1", c.port))
        .unwrap();
    send(&rest, c.port, "127.0.0.1:0");
    std::thread::sleep(Duration::from_millis(300));
    let log = c.stop();
    let all: Vec<PathBuf> = v5.into_iter().chain(rest).collect();
    let want = imported(&all);
    assert_eq!(want.len(), 3498 + 2144 + 3518);
    let got = read_tree(dir.path());
    assert_eq!(got.len(), want.len(), "{log:?}");
    assert!(
        sorted(got) == sorted(want),
        "flows differ from flow-import's"
    );
    assert!(
        log.iter().any(|l| l.contains("unsupported export version")),
        "{log:?}"
    );
    let exit = log.iter().find(|l| l.contains("exit:")).expect("exit line");
    assert!(exit.contains("1 malformed"), "{exit}");
    assert!(files(dir.path()).iter().all(|f| f.starts_with("ft.")));
}

#[test]
fn exporters_outside_the_allow_list_are_counted_and_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(dir.path(), &["--allow", "127.0.0.2"]);
    let v5 = capture_paths(&["scenario-v5"]);
    let refused = send(&v5, c.port, "127.0.0.1:0");
    send(&v5, c.port, "127.0.0.2:0");
    std::thread::sleep(Duration::from_millis(300));
    let log = c.stop();
    let got = read_tree(dir.path());
    assert_eq!(got.len(), 3498);
    assert!(got.iter().all(|r| r.exporter.to_string() == "127.0.0.2"));
    let exit = log.iter().find(|l| l.contains("exit:")).expect("exit line");
    assert!(exit.contains(&format!("{refused} not allowed")), "{exit}");
    // The start-up lines say where it listens and whom it accepts.
    assert!(
        log.iter().any(|l| l.contains("listening on 127.0.0.1:")),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|l| l.ends_with("accepting exporters only from 127.0.0.2/32")),
        "{log:?}"
    );
    assert!(!log.iter().any(|l| l.contains("no allow-list")), "{log:?}");
}

#[test]
fn files_rotate_and_every_published_file_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let c = start(dir.path(), &["--rotate", "1s", "--flush", "1s"]);
    let v5 = capture_paths(&["scenario-v5"]);
    send(&v5, c.port, "127.0.0.1:0");
    std::thread::sleep(Duration::from_millis(1500));
    // Between the two sends, the first interval's file has been published (final name).
    let between = files(dir.path());
    assert!(between.iter().any(|f| f.starts_with("ft.")), "{between:?}");
    send(&v5, c.port, "127.0.0.1:0");
    std::thread::sleep(Duration::from_millis(300));
    c.stop();
    let names = files(dir.path());
    assert!(names.len() >= 2, "{names:?}");
    assert!(names.iter().all(|f| f.starts_with("ft.")), "{names:?}");
    assert_eq!(read_tree(dir.path()).len(), 2 * 3498);
}
