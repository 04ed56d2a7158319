//! flow-nfilter as a user runs it: archives in, flows out; errors exit 2 and write nothing.

use flowkit_core::archive::{ArchiveFile, ArchiveFileWriter, ArchiveWriter, WriterOptions};
use flowkit_core::filter::{CompileOptions, FilterFile, Variables};
use flowkit_core::FlowRecord;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn flow_nfilter() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flow-nfilter"));
    c.env_remove("FLOWKIT_FILTERS").env("TZ", "UTC");
    c
}

fn records(n: u32) -> Vec<FlowRecord> {
    (0..n)
        .map(|i| FlowRecord {
            start_ms: 1_289_312_405_000 + i as i64,
            end_ms: 1_289_312_406_000 + i as i64,
            src_addr: IpAddr::V4((0x0a00_0000 + i % 300).into()),
            dst_addr: IpAddr::V4((0xc0a8_0000 + i % 7).into()),
            src_port: [22, 40000, 6667, 80][(i % 4) as usize],
            dst_port: [40001, 22, 443, 53, 6667][(i % 5) as usize],
            protocol: 6,
            packets: (i % 13) as u64,
            octets: 40 * (i % 13) as u64,
            ..FlowRecord::default()
        })
        .collect()
}

fn write_archive(dir: &Path, name: &str, recs: &[FlowRecord], block_flows: usize) -> PathBuf {
    let p = dir.join(name);
    let mut w = ArchiveFileWriter::create(
        &p,
        WriterOptions {
            block_flows,
            ..Default::default()
        },
    )
    .unwrap();
    for r in recs {
        w.writer().push(r).unwrap();
    }
    w.finish().unwrap();
    p
}

fn stream_bytes(recs: &[FlowRecord]) -> Vec<u8> {
    let mut w = ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
    for r in recs {
        w.push(r).unwrap();
    }
    w.finish().unwrap().0
}

fn flows_of(bytes: &[u8]) -> Vec<FlowRecord> {
    let f = ArchiveFile::from_bytes("output", bytes).unwrap();
    (0..f.blocks().len())
        .flat_map(|i| f.block(i).unwrap().records().collect::<Vec<_>>())
        .collect()
}

fn run(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

/// What the library's reference interpreter keeps of `recs` for the built-in definition `def`.
fn expected(def: &str, vars: &[&str], recs: &[FlowRecord]) -> Vec<FlowRecord> {
    let built_in = concat!(env!("CARGO_MANIFEST_DIR"), "/../filters/filter.cfg");
    expected_from(Path::new(built_in), def, vars, recs)
}

/// The sample day's own filter file (testdata/filter.cfg: ip-addr, victim-browsing, gt1packet).
fn sample_filters() -> PathBuf {
    flowkit_core::testing::testdata::path("filter.cfg")
}

/// What the library's reference interpreter keeps of `recs` for definition `def` of `cfg`.
fn expected_from(cfg: &Path, def: &str, vars: &[&str], recs: &[FlowRecord]) -> Vec<FlowRecord> {
    let text = std::fs::read_to_string(cfg).unwrap();
    let mut v = Variables::new();
    for b in vars {
        v.bind(b).unwrap();
    }
    let file = FilterFile::parse(&text, "filter.cfg", &v).unwrap();
    let interp = file
        .interpreter(
            def,
            &CompileOptions {
                tz: jiff::tz::TimeZone::UTC,
            },
        )
        .unwrap();
    recs.iter().filter(|r| interp.matches(r)).cloned().collect()
}

#[test]
fn filters_archive_files_and_streams_keeping_order() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(30_000);
    // Small blocks so the batch is split across threads.
    let a = write_archive(dir.path(), "a.fk", &recs[..20_000], 1000);
    let b = write_archive(dir.path(), "b.fk", &recs[20_000..], 1000);
    let want = expected("ssh", &[], &recs);
    assert!(!want.is_empty() && want.len() < recs.len());

    // Files as arguments, output with -o.
    let out = dir.path().join("out.fk");
    let o = run(
        flow_nfilter()
            .args(["-F", "ssh", "-o"])
            .arg(&out)
            .arg(&a)
            .arg(&b),
        b"",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(flows_of(&std::fs::read(&out).unwrap()), want);

    // A stream on stdin, a stream on stdout.
    let o = run(flow_nfilter().args(["-F", "ssh"]), &stream_bytes(&recs));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(flows_of(&o.stdout), want);

    // Variables, and a definition keeping everything or nothing.
    let vars = ["ADDR=10.0.0.7"];
    let o = run(
        flow_nfilter()
            .args(["-F", "ip-addr", "-v", vars[0]])
            .arg(&a),
        b"",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        flows_of(&o.stdout),
        expected("ip-addr", &vars, &recs[..20_000])
    );
    let o = run(flow_nfilter().args(["-F", "udp"]).arg(&a), b"");
    assert!(o.status.success());
    assert!(flows_of(&o.stdout).is_empty());
}

#[test]
fn count_and_print_in_one_process_agree_with_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(30_000);
    let a = write_archive(dir.path(), "a.fk", &recs, 1000);
    let want = expected("ssh", &[], &recs);

    let o = run(flow_nfilter().args(["-F", "ssh", "--count"]).arg(&a), b"");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        format!("{}\n", want.len())
    );

    // --print csv: the permitted flows, in order, as flow-print -f csv prints them.
    let o = run(
        flow_nfilter().args(["-F", "ssh", "--print", "csv"]).arg(&a),
        b"",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut rdr = csv::Reader::from_reader(&o.stdout[..]);
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (src, sport, dport, pkts) = (
        col("src_addr"),
        col("src_port"),
        col("dst_port"),
        col("packets"),
    );
    let rows: Vec<_> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), want.len());
    for (row, r) in rows.iter().zip(&want) {
        assert_eq!(row[src], r.src_addr.to_string());
        assert_eq!(row[sport], r.src_port.to_string());
        assert_eq!(row[dport], r.dst_port.to_string());
        assert_eq!(row[pkts], r.packets.to_string());
    }

    // Byte for byte what the printer makes of the permitted flows (as flow-print would).
    let printer = flowkit_core::print::Printer::new(flowkit_core::print::PrintOptions {
        tz: jiff::tz::TimeZone::UTC,
        ..flowkit_core::print::PrintOptions::new(flowkit_core::print::Format::Csv)
    })
    .unwrap();
    let mut text = printer.header();
    let block = flowkit_core::FlowBlockBuf::from_records(&want);
    printer.format_block(&block.view(), &mut text);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&text)
    );

    // A bad format is a usage error with nothing on stdout.
    let o = run(
        flow_nfilter().args(["-F", "ssh", "--print", "7"]).arg(&a),
        b"",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}

/// `--print fmt:...` prints the permitted flows as nfdump prints them: nfdump 1.7.1's own line
/// format output of the capture (testdata/nfdump/fmt), its UDP lines.
#[test]
fn print_fmt_is_nfdump_s_lines_of_the_permitted_flows() {
    let nfdump =
        flowkit_core::testing::testdata::read_text("nfdump/fmt/scenario-v9-lzo.line.txt.gz")
            .unwrap();
    let want: String = nfdump
        .lines()
        .filter(|l| l[41..].starts_with("UDP "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(want.lines().count() > 100);
    let capture = flowkit_core::testing::testdata::path("nfdump/scenario-v9-lzo.nfcapd");
    let line = "fmt:%ts %td %pr %sap -> %dap %pkt %byt %fl";
    let o = run(
        flow_nfilter()
            .args(["-F", "udp", "--print", line])
            .arg(&capture),
        b"",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8(o.stdout).unwrap(), want);
}

#[test]
fn filter_file_from_option_environment_and_default_definition() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(100);
    let a = write_archive(dir.path(), "a.fk", &recs, 8192);
    let cfg = dir.path().join("mine.cfg");
    std::fs::write(
        &cfg,
        "filter-primitive big\n type counter\n permit gt 10\nfilter-definition default\n match packets big\n",
    )
    .unwrap();
    let want: Vec<FlowRecord> = recs.iter().filter(|r| r.packets > 10).cloned().collect();
    let o = run(flow_nfilter().arg("-f").arg(&cfg).arg(&a), b"");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(flows_of(&o.stdout), want);
    let o = run(flow_nfilter().env("FLOWKIT_FILTERS", &cfg).arg(&a), b"");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(flows_of(&o.stdout), want);
}

#[test]
fn check_lists_definitions_and_what_they_need() {
    let o = run(flow_nfilter().arg("--check"), b"");
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.starts_with("<built-in filters/filter.cfg>: ok,"),
        "{text}"
    );
    for line in [
        "ip-addr ",
        "[needs -v ADDR]",
        "bogon-src ",
        "not-known-good ",
        "counter, 1 line, default deny",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
}

/// Every user error: a clear message, exit status 2, and not a byte on stdout.
#[test]
fn errors_exit_2_with_a_clear_message_and_empty_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_archive(dir.path(), "a.fk", &records(10), 8192);
    let cfg = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let syntax = cfg("syntax.cfg", "filter-primitive p\n  type ip-port\n  permit 22\nfilter-definition d\n  match ip-destination-port p\n  orr\n");
    let unknown_prim = cfg("prim.cfg", "filter-primitive irc-ports\n  type ip-port\n  permit 6667\nfilter-definition d\n  match ip-destination-port irc-portz\n");
    let wrong_type = cfg("type.cfg", "filter-primitive a\n  type ip-address\n  permit 10.0.0.1\nfilter-definition d\n  match ip-destination-port a\n");
    let s = |p: &PathBuf| p.display().to_string();
    let syntax_at = format!(
        "{}:6:3: unknown statement `orr`; did you mean `or`?",
        s(&syntax)
    );
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (
            vec!["-f".into(), s(&syntax), "-F".into(), "d".into()],
            vec![&syntax_at, "6 |   orr", "  |   ^-^"],
        ),
        (
            vec!["-f".into(), s(&unknown_prim), "-F".into(), "d".into()],
            vec![":5:29: unknown filter-primitive `irc-portz`", "did you mean `irc-ports`?", "^-------^"],
        ),
        (
            vec!["-f".into(), s(&wrong_type), "-F".into(), "d".into()],
            vec![":5:29: `match ip-destination-port` needs a primitive of type ip-port; `a` (line 1) is of type ip-address"],
        ),
        (vec!["-F".into(), "ip-adr".into(), "-v".into(), "ADDR=1.2.3.4".into()], vec!["no filter-definition named `ip-adr`", "did you mean `ip-addr`?"]),
        (vec!["-F".into(), "ip-addr".into()], vec!["definition `ip-addr` needs variable ADDR", "give -v ADDR=VALUE"]),
        (vec!["-F".into(), "ip-addr".into(), "-v".into(), "ADDR".into()], vec!["bad variable binding `ADDR`", "NAME=VALUE"]),
        (vec!["-F".into(), "ip-addr".into(), "-v".into(), "ADDR=10.0.0.300".into()], vec![":50:10:", "(from variable ADDR = `10.0.0.300`)", "0 to 255"]),
        (vec![], vec!["no -F DEFINITION given", "--check"]),
        (vec!["-f".into(), "/nonexistent/filters.cfg".into(), "-F".into(), "x".into()], vec!["/nonexistent/filters.cfg"]),
    ];
    for (args, needles) in cases {
        let o = run(flow_nfilter().args(&args).arg(&a), b"");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?} wrote to stdout");
        assert!(err.starts_with("flow-nfilter: "), "{args:?}: {err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: `{n}` missing from:\n{err}");
        }
    }
}

#[test]
fn warns_about_variables_the_file_never_uses() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_archive(dir.path(), "a.fk", &records(10), 8192);
    let o = run(
        flow_nfilter()
            .args(["-F", "ip-addr", "-v", "ADDR=10.0.0.1", "-v", "ADR=1.1.1.1"])
            .arg(&a),
        b"",
    );
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: variable ADR is not used") && err.contains("did you mean `ADDR`?"),
        "{err}"
    );
}

#[test]
fn a_filter_reading_no_column_copies_every_block() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(5000);
    let a = write_archive(dir.path(), "a.fk", &recs, 1000);
    let cfg = dir.path().join("all.cfg");
    std::fs::write(&cfg, "filter-definition everything\n  invert\n").unwrap();
    let o = run(
        flow_nfilter()
            .arg("-f")
            .arg(&cfg)
            .args(["-F", "everything"])
            .arg(&a),
        b"",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(flows_of(&o.stdout), recs);
}

/// The flows as `flow-cat 2010-11-09/ft*` writes them: the real flow-cat when the workspace built
/// it next to flow-nfilter, else the library doing what flow-cat does.
fn flow_cat_investigation_day() -> Vec<u8> {
    use flowkit_core::pipeline::input::Input;
    use flowkit_core::pipeline::scan::{ScanOptions, Scanner};
    let ft = flowkit_core::testing::testdata::path("2010-11-09/ft-v05.2010-11-09.000000+0000");
    let flow_cat = Path::new(env!("CARGO_BIN_EXE_flow-nfilter")).with_file_name("flow-cat");
    if flow_cat.exists() {
        let o = Command::new(flow_cat)
            .current_dir(flowkit_core::testing::testdata::dir())
            .arg("2010-11-09/ft*")
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(o.status.success());
        return o.stdout;
    }
    let mut w = ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
    let mut scanner = Scanner::new(ScanOptions::default(), |m| panic!("{m}"));
    scanner
        .run(&[Input::File(ft)], &mut |batch| {
            batch.iter().try_for_each(|b| w.write_block(b, None))
        })
        .unwrap();
    w.finish().unwrap().0
}

/// `flow-cat 2010-11-09/ft* | flow-nfilter -F ip-addr -v ADDR=189.22.36.165 | flow-nfilter -F
/// victim-browsing | flow-nfilter -F gt1packet` selects the flows flow-tools selected (864, as a
/// multiset of addresses, ports, protocol, octets and packets), run in testdata/ as the README
/// runs it (the sample's testdata/filter.cfg found in the current directory, even with
/// $FLOWKIT_FILTERS naming another file) and with the published filter file; the first stage
/// may also read the flow-tools file itself.
#[test]
fn investigation_pipeline_selects_what_flow_tools_selected() {
    let want = {
        let text =
            flowkit_core::testing::testdata::read_text("flow-tools/expected/investigation.txt.gz")
                .unwrap();
        let mut v: Vec<String> = text
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        v.sort();
        v
    };
    assert_eq!(want.len(), 864);
    let key = |r: &FlowRecord| {
        format!(
            "{} {} {} {} {} {} {}",
            r.src_addr, r.dst_addr, r.protocol, r.src_port, r.dst_port, r.octets, r.packets
        )
    };
    let published = flowkit_core::testing::testdata::path("flow-tools/investigation.cfg");
    let stream = flow_cat_investigation_day();
    let elsewhere = tempfile::tempdir().unwrap();
    let other_cfg = elsewhere.path().join("other.cfg");
    std::fs::write(&other_cfg, "filter-definition default\n  invert\n").unwrap();
    let in_testdata = || {
        let mut c = flow_nfilter();
        c.current_dir(flowkit_core::testing::testdata::dir())
            .env("FLOWKIT_FILTERS", &other_cfg);
        c
    };
    for file_args in [
        vec![],
        vec!["-f".to_string(), published.display().to_string()],
    ] {
        for first_from_file in [false, true] {
            let mut first = in_testdata();
            first
                .args(&file_args)
                .args(["-F", "ip-addr", "-v", "ADDR=189.22.36.165"]);
            let o = if first_from_file {
                run(first.arg("2010-11-09/ft*"), b"")
            } else {
                run(&mut first, &stream)
            };
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let o = run(
                in_testdata()
                    .args(&file_args)
                    .args(["-F", "victim-browsing"]),
                &o.stdout,
            );
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let o = run(
                in_testdata().args(&file_args).args(["-F", "gt1packet"]),
                &o.stdout,
            );
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let flows = flows_of(&o.stdout);
            let mut got: Vec<String> = flows.iter().map(key).collect();
            got.sort();
            assert_eq!(
                got, want,
                "{file_args:?} first stage from file: {first_from_file}"
            );
            let intruder: IpAddr = "79.115.103.225".parse().unwrap();
            assert!(
                flows
                    .iter()
                    .any(|r| r.src_addr == intruder && r.dst_port == 22),
                "intruder's SSH"
            );
            assert!(
                flows
                    .iter()
                    .any(|r| r.dst_addr == intruder && r.dst_port == 6667),
                "IRC"
            );
        }
    }
}

/// `flow-nfilter | flow-nfilter | flow-nfilter -o OUT` through real pipes: the first two pass
/// their selections on as references to rows of the archive's blocks (the second one's rows of
/// rows), and the last writes exactly the flows the two definitions keep, as with references
/// turned off or a non-flowkit reader (`cat`) in between.
#[test]
fn selections_go_through_pipes_as_references_to_rows() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(12_000);
    // A published file (references are only made to those).
    let a = write_archive(dir.path(), "ft.2010-11-09.140000+0000", &recs, 1000);
    let sample = sample_filters();
    let want = expected_from(&sample, "gt1packet", &[], &expected("ssh", &[], &recs));
    assert!(!want.is_empty() && want.len() < recs.len() / 2);
    let bin = env!("CARGO_BIN_EXE_flow-nfilter");
    for (middle, env_refs) in [("", "1"), ("cat | ", "1"), ("", "0")] {
        let out = dir
            .path()
            .join(format!("out-{}-{env_refs}.fk", middle.len()));
        let line = format!(
            "'{bin}' -F ssh --verbose '{}' | {middle}'{bin}' -f '{}' -F gt1packet --verbose | \
             '{bin}' -F tcp -o '{}'",
            a.display(),
            sample.display(),
            out.display()
        );
        let o = Command::new("sh")
            .args(["-c", &line])
            .env_remove("FLOWKIT_FILTERS")
            .env("FLOWKIT_PIPE_REFS", env_refs)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{line}: {log}");
        assert_eq!(
            flows_of(&std::fs::read(&out).unwrap()),
            want,
            "{line}: {log}"
        );
        let by_ref =
            log.contains("0 whole blocks and 12 blocks' selected rows passed by reference");
        assert_eq!(
            by_ref,
            middle.is_empty() && env_refs == "1",
            "{line}: {log}"
        );
        if by_ref {
            // The second tool got rows of every block and passed rows of those on.
            assert_eq!(
                log.matches("12 blocks' selected rows passed by reference")
                    .count(),
                2,
                "{log}"
            );
        }
    }
}

/// `--print csv --fields`: the chosen columns of `--print csv`, in the order asked.
#[test]
fn print_fields_are_columns_of_the_full_print() {
    let day = flowkit_core::testing::testdata::dir().join("2010-11-09");
    let day = day.to_str().unwrap();
    let sample = sample_filters();
    let sample = sample.to_str().unwrap();
    let args = ["-f", sample, "-F", "gt1packet", "--utc", "--print", "csv"];
    let full = run(flow_nfilter().args(args).arg(day), b"");
    let some = run(
        flow_nfilter()
            .args(args)
            .args(["--fields", "dp,start,sa", day]),
        b"",
    );
    assert!(full.status.success() && some.status.success());
    let mut full = csv::Reader::from_reader(full.stdout.as_slice());
    let mut some = csv::Reader::from_reader(some.stdout.as_slice());
    let want = ["dst_port", "start", "src_addr"];
    assert_eq!(some.headers().unwrap().iter().collect::<Vec<_>>(), want);
    let at: Vec<usize> = (want.iter())
        .map(|w| {
            full.headers()
                .unwrap()
                .iter()
                .position(|h| h == *w)
                .unwrap()
        })
        .collect();
    let full: Vec<Vec<String>> = (full.records())
        .map(|r| {
            at.iter()
                .map(|&i| r.as_ref().unwrap()[i].to_string())
                .collect()
        })
        .collect();
    let some: Vec<Vec<String>> = (some.records())
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(some, full);
    assert!(some.len() > 1000, "{} flows", some.len());
}

/// `--check`, `--sql` and `--count` into a pipe closed early (`| head -c 1`): exit 0 and no
/// panic, as every other output of the tools.
#[test]
fn a_closed_pipe_is_not_a_panic() {
    let bin = env!("CARGO_BIN_EXE_flow-nfilter");
    let day = flowkit_core::testing::testdata::path("2010-11-09");
    for args in [
        "--check".to_string(),
        "-F bogon-src --sql duckdb".to_string(),
        format!("-F tcp --count '{}'", day.display()),
    ] {
        let line = format!("set -o pipefail; '{bin}' {args} | (exec 0<&-; true)");
        let o = Command::new("bash")
            .args(["-c", &line])
            .env_remove("FLOWKIT_FILTERS")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args}: {err}");
        assert!(o.status.success(), "{args}: {err}");
    }
}
