//! flow-stat's times across New York's 2010-11-07 fall back (clocks went from 02:00 EDT back to
//! 01:00 EST at 06:00 UTC): the two 01:00 hours are two labelled bins, and CSV/JSON times read
//! back (with jiff) to the bins' own UTC milliseconds.

use flowkit_core::archive::{ArchiveWriter, WriterOptions};
use flowkit_core::FlowRecord;
use std::io::Write;
use std::process::{Command, Output, Stdio};

const CHANGE: i64 = 1_289_109_600_000; // 2010-11-07T06:00:00Z

/// One flow a minute from 04:00 to 08:00 UTC (00:00 EDT to 03:00 EST).
fn stream() -> Vec<u8> {
    let mut w = ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
    for i in 0..240i64 {
        let start_ms = CHANGE - 2 * 3_600_000 + i * 60_000;
        w.push(&FlowRecord {
            start_ms,
            end_ms: start_ms + 500,
            protocol: 6,
            packets: 1,
            octets: 40,
            ..FlowRecord::default()
        })
        .unwrap();
    }
    w.finish().unwrap().0
}

fn stat(args: &[&str], tz: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flow-stat"))
        .args(args)
        .env("TZ", tz)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&stream()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn ms(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .as_millisecond()
}

#[test]
fn hour_bins_across_the_fall_back_are_told_apart() {
    let o = stat(&["--bin", "1h"], "America/New_York");
    let text = String::from_utf8(o.stdout).unwrap();
    let labels: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split("  ").next().unwrap().trim())
        .collect();
    assert_eq!(
        labels,
        [
            "2010-11-07 00:00:00.000-04:00",
            "2010-11-07 01:00:00.000-04:00",
            "2010-11-07 01:00:00.000-05:00",
            "2010-11-07 02:00:00.000-05:00",
        ]
    );
    // Each label, read back, is its bin: an hour apart from the last, from 04:00 UTC on.
    for (i, l) in labels.iter().enumerate() {
        assert_eq!(
            ms(&l.replace(' ', "T")),
            CHANGE - 2 * 3_600_000 + i as i64 * 3_600_000
        );
    }
}

#[test]
fn csv_and_json_bins_carry_their_offsets_and_read_back() {
    let o = stat(&["--bin", "30m", "--csv"], "America/New_York");
    let text = String::from_utf8(o.stdout).unwrap();
    let mut n = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let start_ms: i64 = f[1].parse().unwrap();
        assert_eq!(ms(f[0]), start_ms, "{line}");
        let want = if start_ms < CHANGE {
            "-04:00"
        } else {
            "-05:00"
        };
        assert!(f[0].ends_with(want), "{line}");
        n += 1;
    }
    assert_eq!(n, 8);

    let o = stat(&["--bin", "1h", "--json"], "Europe/London");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for b in v["bins"].as_array().unwrap() {
        let s = b["start"].as_str().unwrap();
        assert!(s.ends_with("+00:00"), "{s}");
        assert_eq!(ms(s), b["start_ms"].as_i64().unwrap());
    }
    let o = stat(&["--json", "--utc"], "America/New_York");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["first_start"], "2010-11-07T04:00:00.000Z");
}

#[test]
fn an_unknown_zone_is_an_error_naming_it() {
    let o = Command::new(env!("CARGO_BIN_EXE_flow-stat"))
        .arg("/dev/null")
        .env("TZ", "Mars/Base")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown time zone TZ=\"Mars/Base\""), "{err}");
}
