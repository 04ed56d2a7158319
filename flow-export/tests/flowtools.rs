//! `flow-export --flow-tools`: the flow-tools file it writes from the sample day prints, in
//! flowkit's flow-tools formats, exactly what flow-tools' own flow-print printed for the original
//! file; as a stream on stdout too; IPv6 flows are skipped and reported. A last test runs the
//! real flow-tools on the written file when `FLOW_TOOLS_BIN` names its bin directory (ignored
//! otherwise: flow-tools is not packaged for Debian 12).

use flowkit_core::archive::{ArchiveWriter, WriterOptions};
use flowkit_core::model::block::FlowBlockBuf;
use flowkit_core::model::record::FlowRecord;
use flowkit_core::pipeline::input::Input;
use flowkit_core::pipeline::scan::{ScanOptions, Scanner};
use flowkit_core::print::{PrintOptions, Printer};
use flowkit_core::testing::testdata;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const DAY: &str = "2010-11-09/ft-v05.2010-11-09.000000+0000";

fn flow_export(args: &[&str], inputs: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-export"))
        .args(args)
        .args(inputs)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "status {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every flow of `path`, read as any flowkit tool reads its inputs.
fn read(path: &Path) -> Vec<FlowRecord> {
    let mut all = Vec::new();
    let mut scanner = Scanner::new(ScanOptions::default(), |m| panic!("{m}"));
    scanner
        .run(&[Input::File(path.to_path_buf())], &mut |batch| {
            for b in batch {
                all.extend((0..b.len).map(|i| b.get(i)));
            }
            Ok(())
        })
        .unwrap();
    all
}

/// flowkit's flow-print output (flow-tools format `format`, UTC) for `flows`.
fn print(format: &str, flows: &[FlowRecord]) -> String {
    let printer = Printer::new(PrintOptions::new(format.parse().unwrap())).unwrap();
    let mut out = printer.header();
    let block = FlowBlockBuf::from_records(flows);
    let mut bufs = Vec::new();
    printer
        .write_batch(&[block.view()], &mut bufs, &mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

fn expected(name: &str) -> String {
    testdata::read_text(&format!("flow-tools/expected/{name}.gz")).unwrap()
}

#[test]
fn written_file_prints_what_flow_tools_printed() {
    let t = tempfile::tempdir().unwrap();
    for (z, b) in [("0", "little"), ("6", "little"), ("9", "big")] {
        let out = t.path().join(format!("day-z{z}-{b}.ft"));
        let o = flow_export(
            &[
                "--flow-tools",
                "-z",
                z,
                "-b",
                b,
                "-o",
                out.to_str().unwrap(),
            ],
            &[&testdata::path(DAY)],
        );
        ok(&o);
        assert!(
            o.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(bytes[..4], [0xCF, 0x10, if b == "big" { 2 } else { 1 }, 3]);
        let flows = read(&out);
        assert_eq!(flows.len(), 3498);
        assert_eq!(
            print("3", &flows),
            expected("flow-print.txt"),
            "-z {z} -b {b}"
        );
        assert_eq!(
            print("5", &flows),
            expected("flow-print-f5.txt"),
            "-z {z} -b {b}"
        );
    }
}

#[test]
fn stream_on_stdout_prints_what_flow_tools_printed() {
    let o = flow_export(&["--flow-tools", "--verbose"], &[&testdata::path(DAY)]);
    ok(&o);
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "flow-export: 3498 flows written as flow-tools v5\n"
    );
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("stream.ft");
    std::fs::write(&f, &o.stdout).unwrap();
    let flows = read(&f);
    let want = expected("flow-print-f1.head200.txt");
    let got = print("1", &flows);
    let n = want.lines().count();
    assert_eq!(
        got.lines().take(n).collect::<Vec<_>>(),
        want.lines().collect::<Vec<_>>()
    );
}

#[test]
fn ipv6_flows_are_skipped_and_reported() {
    let t = tempfile::tempdir().unwrap();
    let mut flows = read(&testdata::path(DAY))[..10].to_vec();
    let v6 = FlowRecord {
        src_addr: "2001:db8::1".parse().unwrap(),
        dst_addr: "2001:db8::2".parse().unwrap(),
        ..flows[0].clone()
    };
    flows.insert(3, v6.clone());
    flows.push(v6);
    let archive = t.path().join("mixed.fk");
    let mut w = ArchiveWriter::new(
        std::fs::File::create(&archive).unwrap(),
        WriterOptions::default(),
    )
    .unwrap();
    w.write_block(&FlowBlockBuf::from_records(&flows).view(), None)
        .unwrap();
    w.finish().unwrap();
    let out = t.path().join("v4.ft");
    let o = flow_export(&["--flow-tools", "-o", out.to_str().unwrap()], &[&archive]);
    ok(&o);
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "flow-export: warning: 2 IPv6 flows skipped (v5 records are IPv4 only)\n"
    );
    let v4: Vec<FlowRecord> = flows.into_iter().filter(|f| f.src_addr.is_ipv4()).collect();
    assert_eq!(read(&out), v4);
}

#[test]
fn usage_errors() {
    let o = flow_export(&["-o", "/tmp/x"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let o = flow_export(&["--flow-tools", "-z", "12"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let o = flow_export(&["--parquet"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--parquet needs -o DIR"));
}

/// flow-tools' own flow-print and flow-nfilter on the written file (run with
/// `FLOW_TOOLS_BIN=/path/to/flow-tools/bin cargo test -p flow-export -- --ignored`).
#[test]
#[ignore = "needs a flow-tools build: set FLOW_TOOLS_BIN to its bin directory"]
fn real_flow_tools_reads_the_written_file() {
    let bin = PathBuf::from(std::env::var_os("FLOW_TOOLS_BIN").expect("FLOW_TOOLS_BIN"));
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("day.ft");
    ok(&flow_export(
        &["--flow-tools", "-z", "6", "-o", out.to_str().unwrap()],
        &[&testdata::path(DAY)],
    ));
    for (args, want) in [
        (vec![], "flow-print.txt"),
        (vec!["-f", "5"], "flow-print-f5.txt"),
    ] {
        let o = Command::new(bin.join("flow-print"))
            .args(&args)
            .env("TZ", "UTC")
            .stdin(std::fs::File::open(&out).unwrap())
            .output()
            .unwrap();
        ok(&o);
        assert_eq!(String::from_utf8(o.stdout).unwrap(), expected(want));
    }
    let cfg = testdata::path("flow-tools/investigation.cfg");
    let line = format!(
        "set -o pipefail; B={b}; $B/flow-cat {f} | $B/flow-nfilter -f {c} -F ip-addr -v ADDR=189.22.36.165 \
         | $B/flow-nfilter -f {c} -F victim-browsing | $B/flow-nfilter -f {c} -F gt1packet | $B/flow-print",
        b = bin.display(),
        f = out.display(),
        c = cfg.display()
    );
    let o = Command::new("bash")
        .args(["-c", &line])
        .env("TZ", "UTC")
        .output()
        .unwrap();
    ok(&o);
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        expected("investigation.txt")
    );
}
