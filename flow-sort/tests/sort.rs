//! flow-sort on the sample day (testdata/2010-11-09, 3498 flows): its output is checked against
//! a stable sort done here with std on the field values flowkit-core reads from the same file.

use flowkit_core::archive::flowtools::FlowToolsReader;
use flowkit_core::archive::ArchiveFile;
use flowkit_core::model::block::FlowBlockBuf;
use flowkit_core::model::fields::{lookup, FieldValue};
use flowkit_core::testing::testdata;
use flowkit_core::FlowRecord;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const FLOW_SORT: &str = env!("CARGO_BIN_EXE_flow-sort");

fn day_file() -> PathBuf {
    testdata::path("2010-11-09/ft-v05.2010-11-09.000000+0000")
}

/// The day's flows in file order, read with flowkit-core's flow-tools reader.
fn day() -> Vec<FlowRecord> {
    let f = std::fs::File::open(day_file()).unwrap();
    let mut r = FlowToolsReader::new("day", &[], std::io::BufReader::new(f)).unwrap();
    let mut buf = FlowBlockBuf::default();
    let mut all = Vec::new();
    while r.next_block(&mut buf, 1000).unwrap() > 0 {
        all.extend(buf.view().records());
    }
    assert_eq!(all.len(), 3498);
    all
}

/// One key's value of a flow, as the test computes it.
fn value(key: &str, r: &FlowRecord) -> FieldValue {
    match key {
        "start" => FieldValue::Signed(r.start_ms),
        "end" => FieldValue::Signed(r.end_ms),
        "duration" => FieldValue::Signed(r.end_ms - r.start_ms),
        name => {
            let mut b = FlowBlockBuf::default();
            b.push(r);
            lookup(name).unwrap().value(&b.view(), 0)
        }
    }
}

/// `flows` sorted by `keys` (comma-separated) with std's stable sort, largest first if `desc`.
fn std_sort(flows: &[FlowRecord], keys: &str, desc: bool) -> Vec<FlowRecord> {
    let mut keyed: Vec<(Vec<FieldValue>, &FlowRecord)> = flows
        .iter()
        .map(|r| (keys.split(',').map(|k| value(k, r)).collect(), r))
        .collect();
    keyed.sort_by(|a, b| match desc {
        false => a.0.cmp(&b.0),
        true => b.0.cmp(&a.0),
    });
    keyed.into_iter().map(|(_, r)| r.clone()).collect()
}

fn run(args: &[&str], stdin: Option<&Path>) -> Output {
    let mut cmd = Command::new(FLOW_SORT);
    cmd.args(args).env("TZ", "UTC").stdout(Stdio::piped());
    match stdin {
        Some(p) => cmd.stdin(std::fs::File::open(p).unwrap()),
        None => cmd.stdin(Stdio::null()),
    };
    cmd.output().unwrap()
}

/// Runs flow-sort with `args` writing to an archive file, and reads the flows back.
fn sorted(args: &[&str], stdin: Option<&Path>) -> (Vec<FlowRecord>, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.fk");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-o", out.to_str().unwrap()]);
    let o = run(&all, stdin);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "flow-sort {args:?}: {err}");
    let f = ArchiveFile::open(&out, true).unwrap();
    let flows = (0..f.blocks().len())
        .flat_map(|i| f.block(i).unwrap().records().collect::<Vec<_>>())
        .collect();
    (flows, err)
}

const CASES: &[(&str, bool)] = &[
    ("octets", true),
    ("octets", false),
    ("srcaddr,dstport", false),
    ("start", false),
    ("duration", true),
    ("prot,dp,packets", true),
    ("end,%sa", false),
];

#[test]
fn sorted_as_a_stable_std_sort_of_the_values() {
    let flows = day();
    let dir = testdata::path("2010-11-09");
    for &(keys, desc) in CASES {
        let want = std_sort(&flows, keys, desc);
        let mut args = vec!["-k", keys, dir.to_str().unwrap()];
        if desc {
            args.push("-r");
        }
        let (got, _) = sorted(&args, None);
        assert_eq!(got.len(), want.len(), "{keys}");
        assert!(
            got == want,
            "-k {keys} (descending {desc}) differs from std's sort"
        );
    }
}

/// Flows with equal keys keep their input order, ascending and descending.
#[test]
fn ties_keep_input_order() {
    let flows = day();
    let file = day_file();
    for rev in [false, true] {
        let mut args = vec!["-k", "protocol", file.to_str().unwrap()];
        if rev {
            args.push("--reverse");
        }
        let (got, _) = sorted(&args, None);
        let protos: Vec<u8> = got.iter().map(|r| r.protocol).collect();
        let mut want_protos = protos.clone();
        want_protos.sort();
        if rev {
            want_protos.reverse();
        }
        assert_eq!(protos, want_protos, "not sorted by protocol");
        for p in [1u8, 6, 17] {
            let here: Vec<&FlowRecord> = got.iter().filter(|r| r.protocol == p).collect();
            let input: Vec<&FlowRecord> = flows.iter().filter(|r| r.protocol == p).collect();
            assert!(here.len() > 1, "protocol {p} has ties");
            assert!(
                here == input,
                "protocol {p}: ties out of input order (reverse {rev})"
            );
        }
    }
}

/// `--count N` is the head of the full sort, for N below, at and above the flow count.
#[test]
fn top_n_is_the_head_of_the_full_sort() {
    let file = day_file();
    let f = file.to_str().unwrap();
    for (keys, rev) in [("octets", true), ("prot,start", false), ("dstaddr", true)] {
        let mut base = vec!["-k", keys, f];
        if rev {
            base.push("-r");
        }
        let (full, _) = sorted(&base, None);
        for n in [1usize, 10, 3498, 5000] {
            let ns = n.to_string();
            let mut args = base.clone();
            args.extend(["--count", &ns]);
            let (top, _) = sorted(&args, None);
            assert!(top == full[..n.min(full.len())], "-k {keys} --count {n}");
        }
    }
}

/// With a tiny --memory the sort spills sorted runs and merges them: same flows as in memory,
/// whatever the input form (file, directory, stdin).
#[test]
fn spilled_runs_merge_to_the_in_memory_sort() {
    let file = day_file();
    let f = file.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().to_str().unwrap();
    for (keys, rev) in [
        ("octets", true),
        ("sa,dp,start", false),
        ("duration", false),
    ] {
        let mut base = vec!["-v", "-k", keys];
        if rev {
            base.push("-r");
        }
        let mut mem = base.clone();
        mem.push(f);
        let (in_memory, log) = sorted(&mem, None);
        assert!(log.contains("sorted in memory"), "{log}");
        let mut spill = base.clone();
        spill.extend(["--memory", "64K", "--temp-dir", t, f]);
        let (spilled, log) = sorted(&spill, None);
        assert!(log.contains("sorted runs merged"), "{log}");
        assert!(!log.contains(" 1 sorted runs"), "several runs: {log}");
        assert!(spilled == in_memory, "-k {keys}: spilled sort differs");
        let mut piped = base.clone();
        piped.extend(["--memory", "100K", "--temp-dir", t]);
        let (from_stdin, _) = sorted(&piped, Some(&file));
        assert!(
            from_stdin == in_memory,
            "-k {keys}: stdin spilled sort differs"
        );
    }
    // The runs' directory is removed when the sort ends.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// `--print csv --fields` prints the sorted flows (the octets column is the std sort's).
#[test]
fn print_writes_the_sorted_flows_as_text() {
    let flows = day();
    let want: Vec<String> = std_sort(&flows, "octets", true)
        .iter()
        .take(20)
        .map(|r| format!("{},{}", r.octets, r.src_addr))
        .collect();
    let f = day_file();
    let o = run(
        &[
            "-k",
            "byt",
            "-r",
            "--count",
            "20",
            "--print",
            "csv",
            "--fields",
            "octets,sa",
        ],
        Some(&f),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("octets,src_addr"));
    assert_eq!(lines.collect::<Vec<_>>(), want);
}

#[test]
fn a_bad_key_exits_2_suggesting_the_nearest_field() {
    let f = day_file();
    let o = run(&["-k", "octets,dstprot", f.to_str().unwrap()], None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("\"dstprot\""), "{err}");
    assert!(err.contains("did you mean `dstport`?"), "{err}");
    assert!(o.stdout.is_empty());
    // flow-tools' field numbers get a note naming the long option.
    let o = run(&["-r", "5", f.to_str().unwrap()], None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--key"), "{err}");
}

/// `-n N` (nfdump's top N) is refused with a note naming `--count N`: in flowkit, as in
/// flow-tools, `-n` is symbolic names. `--top N`, the earlier name, still works.
#[test]
fn dash_n_names_count_and_top_is_count() {
    let f = day_file();
    let f = f.to_str().unwrap();
    let o = run(&["-k", "octets", "-n", "5", f], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--count 5") && err.contains("symbolic names"),
        "{err}"
    );
    let (by_count, _) = sorted(&["-k", "octets", "--count", "5", f], None);
    let (by_top, _) = sorted(&["-k", "octets", "--top", "5", f], None);
    assert_eq!(by_count.len(), 5);
    assert_eq!(by_count, by_top);
}
