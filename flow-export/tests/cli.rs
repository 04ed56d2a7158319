//! flow-export's command line: the partition tree, incremental runs, changed inputs, stdin.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

const DAY: &str = "testdata/2010-11-09/ft-v05.2010-11-09.000000+0000";

/// Runs flow-export --parquet --verbose; returns the exit code and stderr.
fn export(out: &Path, inputs: &[&Path], stdin: Option<&Path>) -> (i32, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flow-export"));
    c.args(["--parquet", "--verbose", "-o"])
        .arg(out)
        .args(inputs);
    c.stdin(match stdin {
        Some(p) => Stdio::from(std::fs::File::open(p).unwrap()),
        None => Stdio::null(),
    });
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Every file under `dir` (relative paths), sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = walk(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
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

fn parquet_files(dir: &Path) -> Vec<String> {
    files(dir)
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .collect()
}

#[test]
fn partitions_by_utc_hour_and_reruns_export_only_what_is_new() {
    let t = tempfile::tempdir().unwrap();
    let archive = t.path().join("archive");
    std::fs::create_dir_all(archive.join("2010-11-09")).unwrap();
    let day = archive.join("2010-11-09/ft-v05.2010-11-09.000000+0000");
    std::fs::copy(repo(DAY), &day).unwrap();
    let out = t.path().join("pq");

    let (code, err) = export(&out, &[&archive], None);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("inputs read 1, skipped (already exported) 0, flows 3498"),
        "{err}"
    );
    let first = parquet_files(&out);
    // The sample day starts 00:01 UTC and ends 23:48 UTC: 24 hours, one file each.
    assert_eq!(first.len(), 24, "{first:?}");
    for f in &first {
        let parts: Vec<&str> = f.split('/').collect();
        assert_eq!(parts.len(), 3, "{f}");
        assert_eq!(parts[0], "date=2010-11-09", "{f}");
        assert!(parts[1].starts_with("hour=") && parts[1].len() == 7, "{f}");
        assert!(parts[2].starts_with("part-"), "{f}");
    }
    // Nothing half-written is left, and only the state and lock files besides the parts.
    let others: Vec<String> = files(&out)
        .into_iter()
        .filter(|f| !f.ends_with(".parquet"))
        .collect();
    assert_eq!(others, ["_flowkit_export.json", "_flowkit_export.lock"]);

    // Again: nothing new, nothing written.
    let (code, err) = export(&out, &[&archive], None);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("inputs read 0, skipped (already exported) 1, flows 0"),
        "{err}"
    );
    assert_eq!(parquet_files(&out), first);

    // A new file in the tree: only it is read.
    std::fs::copy(repo(DAY), archive.join("2010-11-09/ft-v05.copy")).unwrap();
    let (code, err) = export(&out, &[&archive], None);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("inputs read 1, skipped (already exported) 1, flows 3498"),
        "{err}"
    );
    assert_eq!(parquet_files(&out).len(), 48);

    // An exported file that changed is an error naming it, and is not read again.
    let mut bytes = std::fs::read(&day).unwrap();
    bytes.extend_from_slice(&[0; 16]);
    std::fs::write(&day, bytes).unwrap();
    let (code, err) = export(&out, &[&archive], None);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("ft-v05.2010-11-09.000000+0000: changed since it was exported"),
        "{err}"
    );
    assert!(err.contains("flows 0"), "{err}");
    assert_eq!(parquet_files(&out).len(), 48);
}

#[test]
fn reads_a_flow_stream_on_stdin() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("pq");
    let (code, err) = export(&out, &[], Some(&repo(DAY)));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("inputs read 1, skipped (already exported) 0, flows 3498"),
        "{err}"
    );
    assert_eq!(parquet_files(&out).len(), 24);
}

#[test]
fn a_second_export_into_a_locked_tree_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("pq");
    std::fs::create_dir_all(&out).unwrap();
    let lock = std::fs::File::create(out.join("_flowkit_export.lock")).unwrap();
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(unsafe { libc_flock(lock.as_raw_fd()) }, 0);
    let (code, err) = export(&out, &[&repo(DAY)], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("another flow-export is writing"), "{err}");
}

extern "C" {
    fn flock(fd: i32, op: i32) -> i32;
}

/// `flock(fd, LOCK_EX | LOCK_NB)`.
unsafe fn libc_flock(fd: i32) -> i32 {
    flock(fd, 2 | 4)
}

/// Rows of hours the input has moved past are written out early (memory stays bounded), and a
/// flow that comes later for such an hour still lands in that hour's file, as a row group of
/// its own: 3 partitions for 3 hours, every flow once.
#[test]
fn a_late_flow_for_a_past_hour_joins_its_file() {
    use flowkit_core::archive::{ArchiveFileWriter, WriterOptions};
    use flowkit_core::FlowRecord;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let hour0 = 1_700_000_000_000i64 / 3_600_000 * 3_600_000;
    let flow = |hour: i64, i: u32| FlowRecord {
        start_ms: hour0 + hour * 3_600_000 + i64::from(i),
        end_ms: hour0 + hour * 3_600_000 + i64::from(i) + 10,
        src_addr: std::net::Ipv4Addr::from(0x0a00_0000 + i).into(),
        dst_addr: std::net::Ipv4Addr::new(192, 0, 2, 1).into(),
        packets: 1,
        octets: 40,
        ..FlowRecord::default()
    };
    // Blocks of 100 flows: hour 0 (3 blocks), hour 1, hour 3, then one more flow of hour 0.
    let mut flows: Vec<FlowRecord> = (0..300).map(|i| flow(0, i)).collect();
    flows.extend((0..100).map(|i| flow(1, i)));
    flows.extend((0..100).map(|i| flow(3, i)));
    flows.push(flow(0, 999));
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.fk");
    let opts = WriterOptions {
        block_flows: 100,
        ..WriterOptions::default()
    };
    let mut w = ArchiveFileWriter::create(&input, opts).unwrap();
    for f in &flows {
        w.writer().push(f).unwrap();
    }
    w.finish().unwrap();
    let out = d.path().join("pq");
    let (code, err) = export(&out, &[&input], None);
    assert_eq!(code, 0, "{err}");
    let files = parquet_files(&out);
    assert_eq!(files.len(), 3, "{files:?}");
    let mut rows = Vec::new();
    for f in &files {
        let r = SerializedFileReader::new(std::fs::File::open(out.join(f)).unwrap()).unwrap();
        let groups: Vec<i64> = (r.metadata().row_groups().iter())
            .map(|g| g.num_rows())
            .collect();
        rows.push((f.split('/').take(2).collect::<Vec<_>>().join("/"), groups));
    }
    rows.sort();
    let day = |h: i64| {
        let t = jiff::Timestamp::from_millisecond(hour0 + h * 3_600_000).unwrap();
        let dt = t.to_zoned(jiff::tz::TimeZone::UTC).datetime();
        format!("date={}/hour={:02}", dt.date(), dt.hour())
    };
    let want = vec![
        (day(0), vec![300, 1]),
        (day(1), vec![100]),
        (day(3), vec![100]),
    ];
    assert_eq!(rows, want);
}

/// An export shows a progress line when stderr is a terminal (run under `script`, which gives
/// it one; `FLOWKIT_PROGRESS=now` skips the one-second wait), and says nothing extra when
/// stderr is a pipe.
#[test]
fn progress_only_on_a_terminal() {
    let t = tempfile::tempdir().unwrap();
    let day = repo(DAY);
    let bin = env!("CARGO_BIN_EXE_flow-export");
    for flow_tools in [false, true] {
        let out = t.path().join(format!("out-{flow_tools}"));
        let mode = if flow_tools {
            "--flow-tools"
        } else {
            "--parquet"
        };
        // Piped stderr: no progress line.
        let o = Command::new(bin)
            .args([mode, "-o"])
            .arg(&out)
            .arg(&day)
            .env("TERM", "xterm")
            .env("FLOWKIT_PROGRESS", "now")
            .output()
            .unwrap();
        assert!(o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("flows/s"), "{err}");
        if Command::new("script").arg("--version").output().is_err() {
            eprintln!("skipped the terminal half: `script` (util-linux) is not installed");
            return;
        }
        let line = format!(
            "'{bin}' {mode} -o '{}-tty' '{}'",
            out.display(),
            day.display()
        );
        let o = Command::new("script")
            .args(["-qfec", &line, "/dev/null"])
            .env("TERM", "xterm")
            .env("FLOWKIT_PROGRESS", "now")
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        let seen = String::from_utf8_lossy(&o.stdout);
        assert!(
            seen.contains("flow-export: ") && seen.contains("flows/s"),
            "{mode}: no progress line on the terminal:\n{seen}"
        );
    }
}
