//! What the flow-capture tests share: running the built binary on 127.0.0.1, replaying real
//! export captures to it, and reading what it wrote.
#![allow(dead_code)] // each test file uses some of these

use flowkit_core::collect::import::Importer;
use flowkit_core::netflow::pcap::CaptureReader;
use flowkit_core::pipeline::input::expand_inputs;
use flowkit_core::pipeline::scan::{ScanOptions, Scanner};
use flowkit_core::{testing::testdata, FlowBlock, FlowRecord};
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Collector {
    pub child: Child,
    pub port: u16,
    pub log: Arc<Mutex<Vec<String>>>,
}

pub fn start(dir: &Path, extra: &[&str]) -> Collector {
    start_with(dir, extra, |_| {})
}

/// Starts flow-capture on 127.0.0.1 (any free port) writing under `dir`; `setup` may change the
/// command first (e.g. resource limits for the child).
pub fn start_with(dir: &Path, extra: &[&str], setup: impl FnOnce(&mut Command)) -> Collector {
    let mut args = vec![
        "-w",
        dir.to_str().unwrap(),
        "-p",
        "0",
        "-b",
        "127.0.0.1",
        "--utc",
    ];
    args.extend_from_slice(extra);
    start_args(&args, setup)
}

/// Starts flow-capture with exactly `args` (which must make it listen on 127.0.0.1) and waits
/// for its `listening on 127.0.0.1:PORT` line.
pub fn start_args(args: &[&str], setup: impl FnOnce(&mut Command)) -> Collector {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flow-capture"));
    setup(&mut cmd);
    let mut child = cmd.args(args).stderr(Stdio::piped()).spawn().unwrap();
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
    pub fn stop(mut self) -> Vec<String> {
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

    /// Kills the collector with SIGKILL (no chance to flush or publish); returns the log.
    pub fn kill9(mut self) -> Vec<String> {
        self.child.kill().unwrap(); // SIGKILL on Unix
        self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        self.log.lock().unwrap().clone()
    }

    /// The log so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// Reads every file under `dir` (with `tmp-` files when `include_tmp`, as `flow-cat -a` does);
/// returns the flows and the problems reported.
pub fn read_tree_with(dir: &Path, include_tmp: bool) -> (Vec<FlowRecord>, Vec<String>) {
    let inputs = expand_inputs(&[dir.display().to_string()], include_tmp).unwrap();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    Scanner::new(ScanOptions::default(), |m| problems.push(m.to_string()))
        .run(&inputs, &mut |batch: &[FlowBlock<'_>]| {
            batch.iter().for_each(|b| out.extend(b.records()));
            Ok(())
        })
        .unwrap();
    (out, problems)
}

pub fn capture_paths(names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|n| testdata::path(&format!("exports/{n}.pcap.gz")))
        .collect()
}

/// Sends the export packets of `captures` from `from` to the collector, paced.
pub fn send(captures: &[PathBuf], port: u16, from: &str) -> usize {
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

pub fn sorted(mut v: Vec<FlowRecord>) -> Vec<FlowRecord> {
    v.sort_by_cached_key(|r| format!("{r:?}"));
    v
}

pub fn read_tree(dir: &Path) -> Vec<FlowRecord> {
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

/// Names of the archive files under `dir` (hidden ones, such as the `.templates` cache, left
/// out as archive readers leave them out).
pub fn files(dir: &Path) -> Vec<String> {
    walk(dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect()
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
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

pub fn imported(captures: &[PathBuf]) -> Vec<FlowRecord> {
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
