//! flow-capture end to end on 127.0.0.1: real export captures replayed to the running binary
//! must give exactly the flows flow-import decodes from the same captures.

use flowkit_core::capture::CaptureReader;
use flowkit_core::import::Importer;
use flowkit_core::input::{expand_inputs, ScanOptions, Scanner};
use flowkit_core::{testdata, FlowBlock, FlowRecord};
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Collector {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

fn start(dir: &Path, extra: &[&str]) -> Collector {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flow-capture"))
        .args([
            "-w",
            dir.to_str().unwrap(),
            "-p",
            "0",
            "-b",
            "127.0.0.1",
            "--utc",
        ])
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let lines = BufReader::new(child.stderr.take().unwrap());
    let sink = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in lines.lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let port = loop {
        let found = log.lock().unwrap().iter().find_map(|l| {
            l.split("listening on 127.0.0.1:")
                .nth(1)
                .and_then(|r| r.split(',').next())
                .and_then(|p| p.parse::<u16>().ok())
        });
        if let Some(p) = found {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "no listening line: {:?}",
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    Collector { child, port, log }
}

impl Collector {
    /// Sends SIGTERM and waits for a clean exit; returns the log.
    fn stop(mut self) -> Vec<String> {
        // SAFETY: kill(2) on our own child's pid.
        let r = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(r, 0);
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "exit {status}: {:?}",
            self.log.lock().unwrap()
        );
        // The stderr reader ends with the process; give it a moment to drain.
        std::thread::sleep(Duration::from_millis(50));
        self.log.lock().unwrap().clone()
    }
}

fn capture_paths(names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|n| testdata::path(&format!("exports/{n}.pcap.gz")))
        .collect()
}

/// Sends the export packets of `captures` from `from` to the collector, paced.
fn send(captures: &[PathBuf], port: u16, from: &str) -> usize {
    let socket = UdpSocket::bind(from).unwrap();
    let mut n = 0;
    for c in captures {
        let mut r = CaptureReader::open(c).unwrap();
        while let Some(d) = r.next_datagram().unwrap() {
            socket.send_to(d.payload, ("127.0.0.1", port)).unwrap();
            n += 1;
            std::thread::sleep(Duration::from_micros(300));
        }
    }
    n
}

fn sorted(mut v: Vec<FlowRecord>) -> Vec<FlowRecord> {
    v.sort_by_cached_key(|r| format!("{r:?}"));
    v
}

fn read_tree(dir: &Path) -> Vec<FlowRecord> {
    let inputs = expand_inputs(&[dir.display().to_string()], false).unwrap();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    Scanner::new(ScanOptions::default(), |m| problems.push(m.to_string()))
        .run(&inputs, &mut |batch: &[FlowBlock<'_>]| {
            batch.iter().for_each(|b| out.extend(b.records()));
            Ok(())
        })
        .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    out
}

fn files(dir: &Path) -> Vec<String> {
    walk(dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn imported(captures: &[PathBuf]) -> Vec<FlowRecord> {
    let mut imp = Importer::default();
    let mut out = Vec::new();
    for c in captures {
        imp.import_file(c, &mut |m| panic!("{m}"), &mut |_, b| {
            out.extend(b.records());
            Ok(())
        })
        .unwrap();
    }
    out
}

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
