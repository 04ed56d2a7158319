//! flow-print as a user runs it: files and pipes in, text out, compared with flow-tools' own
//! output for the same flows; time zones checked against the C library (GNU date).

use flowkit_core::archive::{ArchiveWriter, WriterOptions};
use flowkit_core::pipeline::input::Input;
use flowkit_core::pipeline::scan::{ScanOptions, Scanner};
use flowkit_core::testing::testdata;
use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};

const FT_FILE: &str = "2010-11-09/ft-v05.2010-11-09.000000+0000";

fn flow_print(args: &[&str], tz: &str, stdin: Option<Vec<u8>>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flow-print"))
        .args(args)
        .current_dir(testdata::dir())
        .env("TZ", tz)
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
        let mut sin = child.stdin.take().unwrap();
        std::thread::spawn(move || sin.write_all(&data));
    }
    child.wait_with_output().unwrap()
}

fn ok_stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "status {:?}, stderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn expected(name: &str) -> String {
    testdata::read_text(&format!("flow-tools/expected/{name}.gz")).unwrap()
}

/// What `flow-cat 2010-11-09/ft*` writes: the flows of the flow-tools file as a flowkit stream
/// (made with the library, as flow-cat does).
fn flow_cat_stream() -> Vec<u8> {
    let mut w = ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
    let mut scanner = Scanner::new(ScanOptions::default(), |m| panic!("{m}"));
    scanner
        .run(&[Input::File(testdata::path(FT_FILE))], &mut |batch| {
            batch.iter().try_for_each(|b| w.write_block(b, None))
        })
        .unwrap();
    w.finish().unwrap().0
}

#[test]
fn pipe_from_flow_cat_prints_what_flow_tools_printed() {
    let out = flow_print(&[], "UTC", Some(flow_cat_stream()));
    assert_eq!(ok_stdout(&out), expected("flow-print.txt"));
}

#[test]
fn file_arguments_glob_and_flow_tools_stdin_print_the_same() {
    let want = expected("flow-print.txt");
    // A quoted glob, as in `flow-print '2010-11-09/ft*'`, expanded by the tool.
    assert_eq!(
        ok_stdout(&flow_print(&["2010-11-09/ft*"], "UTC", None)),
        want
    );
    // The raw flow-tools file on stdin, as in `flow-print < ft-v05...` (flow-tools' own usage).
    let raw = std::fs::read(testdata::path(FT_FILE)).unwrap();
    assert_eq!(ok_stdout(&flow_print(&[], "UTC", Some(raw))), want);
}

#[test]
fn f5_in_utc_equals_flow_tools_and_local_time_equals_the_c_library() {
    let want = expected("flow-print-f5.txt");
    assert_eq!(
        ok_stdout(&flow_print(&["-f", "5", FT_FILE], "UTC", None)),
        want
    );
    // --utc wins over TZ.
    let ny = "America/New_York";
    let utc = ok_stdout(&flow_print(&["-f", "5", "--utc", FT_FILE], ny, None));
    assert_eq!(utc, want);

    // In New York time every start and end is what the C library's localtime says (GNU date),
    // and the rest of every line is unchanged.
    let local = ok_stdout(&flow_print(&["-f", "5", FT_FILE], ny, None));
    let csv = ok_stdout(&flow_print(&["-f", "csv", "--utc", FT_FILE], "UTC", None));
    let mut stamps = String::new();
    for row in csv.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        for ms in [f[2], f[3]] {
            let ms: i64 = ms.parse().unwrap();
            stamps.push_str(&format!("@{}\n", ms.div_euclid(1000)));
        }
    }
    let Ok(mut date) = Command::new("date")
        .args(["-f", "-", "+%m%d.%H:%M:%S"])
        .env("TZ", ny)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    else {
        eprintln!("no date(1); local time compared with UTC output only");
        return;
    };
    let mut sin = date.stdin.take().unwrap();
    std::thread::spawn(move || sin.write_all(stamps.as_bytes()));
    let civil = String::from_utf8(date.wait_with_output().unwrap().stdout).unwrap();
    let mut civil = civil.lines();
    let mut lines = 0;
    for (l, u) in local.lines().zip(want.lines()).skip(2) {
        let (start, end) = (civil.next().unwrap(), civil.next().unwrap());
        assert_eq!(&l[..13], start, "{l}");
        assert_eq!(&l[13..14], ".");
        assert_eq!(&l[14..18], &u[14..18], "milliseconds");
        assert_eq!(&l[18..31], end, "{l}");
        assert_eq!(&l[31..], &u[31..]);
        lines += 1;
    }
    assert_eq!(lines, 3498);
    assert!(local
        .lines()
        .nth(2)
        .unwrap()
        .starts_with("1108.19:01:09.227"));
}

#[test]
fn closed_pipe_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flow-print"))
        .args(["-f", "5", FT_FILE])
        .current_dir(testdata::dir())
        .env("TZ", "UTC")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take()); // like `| head -c 100`
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(first.starts_with(b"Start             End"));
}

#[test]
fn formats_without_our_fields_and_unknown_formats_exit_2() {
    let o = flow_print(&["-f", "7", FT_FILE], "UTC", None);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let msg = String::from_utf8_lossy(&o.stderr);
    assert!(msg.contains("router_sc"), "{msg}");
    let o = flow_print(&["-f", "xml", FT_FILE], "UTC", None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such format"));
    let o = flow_print(&["no-such-file"], "UTC", None);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "nothing printed before the error");
}

#[test]
fn header_comments_names_and_csv_from_the_binary() {
    let p = ok_stdout(&flow_print(&["-p", "-n", FT_FILE], "UTC", None));
    let (comments, rest): (Vec<&str>, Vec<&str>) = p.lines().partition(|l| l.starts_with('#'));
    assert!(comments
        .iter()
        .any(|l| l.contains("format:") && l.ends_with('3')));
    assert_eq!(rest.len(), 3499);
    assert!(rest[1].contains(" tcp   44025    ssh "), "{}", rest[1]);
    let csv = ok_stdout(&flow_print(&["-f", "csv", FT_FILE], "UTC", None));
    assert_eq!(csv.lines().count(), 3499);
    assert!(csv.starts_with("start,end,start_ms,end_ms,src_addr,"));
}

#[test]
fn damaged_input_is_reported_after_its_good_flows() {
    let raw = std::fs::read(testdata::path(
        "flow-tools/variants/v5raw/ft-v05.2026-11-22.165925+0000",
    ))
    .unwrap();
    let cut = &raw[..raw.len() - 1000];
    let o = flow_print(&[], "UTC", Some(cut.to_vec()));
    assert_eq!(o.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&o.stderr);
    assert!(msg.contains("(stdin)") && msg.contains("byte"), "{msg}");
    let text = String::from_utf8(o.stdout).unwrap();
    let want = expected("flow-print.txt");
    assert!(text.lines().count() > 3000);
    assert!(
        want.starts_with(&text),
        "the flows before the damage print as usual"
    );
}
