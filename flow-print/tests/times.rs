//! flow-print's `-t`/`-T` forms and zones across New York's 2010-11-07 fall back (06:00 UTC)
//! and the 2010-03-14 spring forward (07:00 UTC): expected instants are written in UTC here and
//! read by jiff, never taken from our output.

use flowkit_core::archive::{ArchiveWriter, WriterOptions};
use flowkit_core::FlowRecord;
use std::io::Write;
use std::process::{Command, Output, Stdio};

const CHANGE: i64 = 1_289_109_600_000; // 2010-11-07T06:00:00Z

fn ms(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .as_millisecond()
}

/// One flow every 10 minutes from 04:00 to 08:00 UTC.
fn stream() -> Vec<u8> {
    let mut w = ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
    for i in 0..24i64 {
        let start_ms = CHANGE - 2 * 3_600_000 + i * 600_000;
        w.push(&FlowRecord {
            start_ms,
            end_ms: start_ms + 500,
            protocol: 17,
            ..FlowRecord::default()
        })
        .unwrap();
    }
    w.finish().unwrap().0
}

fn print(args: &[&str], tz: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flow-print"))
        .args(args)
        .env("TZ", tz)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // An early exit (a usage error) closes the pipe: not our concern here.
    let _ = child.stdin.take().unwrap().write_all(&stream());
    child.wait_with_output().unwrap()
}

/// The `start_ms` column of `-f csv` output.
fn starts(o: &Output) -> Vec<i64> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn every_time_form_selects_the_same_window() {
    // 05:00 to 07:00 UTC, written in each accepted form.
    let from = ms("2010-11-07T05:00:00Z");
    let to = ms("2010-11-07T07:00:00Z");
    let want: Vec<i64> = (0..24)
        .map(|i| CHANGE - 2 * 3_600_000 + i * 600_000)
        .filter(|&t| t >= from && t < to)
        .collect();
    assert_eq!(want.len(), 12);
    let ny = "America/New_York";
    for (t, tt, tz) in [
        ("2010-11-07 05:00", "2010-11-07 07:00", "UTC"),
        ("2010-11-07T05:00:00Z", "2010-11-07T07:00:00Z", ny),
        ("2010-11-07 05:00Z", "2010-11-07 07:00 Z", ny),
        (
            "2010-11-07 01:00:00-04:00",
            "2010-11-07 02:00:00 -05:00",
            ny,
        ),
        ("2010-11-07T01:00-0400", "2010-11-07T02:00-05", ny),
        ("@1289106000", "1289113200", ny),
        ("11/07/2010 05:00:00", "11/07/2010 07:00:00", "UTC"),
        ("2010/11/07.05:00:00", "2010/11/07.07:00:00", "UTC"),
        // Local times outside the fold: 00:00 EDT is 04:00 UTC, 02:00 EST is 07:00 UTC.
        ("2010-11-07 00:59:59.999", "2010-11-07 02:00", ny),
    ] {
        let o = print(&["-f", "csv", "-t", t, "-T", tt], tz);
        let got = starts(&o);
        let expect: Vec<i64> = if t.starts_with("2010-11-07 00:59") {
            (0..24)
                .map(|i| CHANGE - 2 * 3_600_000 + i * 600_000)
                .filter(|&x| x >= ms("2010-11-07T04:59:59.999Z") && x < to)
                .collect()
        } else {
            want.clone()
        };
        assert_eq!(got, expect, "-t {t:?} -T {tt:?} in {tz}");
        assert!(
            o.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // A date alone is its midnight.
    let o = print(&["-f", "csv", "-T", "2010-11-07"], "UTC");
    assert!(starts(&o).is_empty());
}

#[test]
fn an_hour_that_happened_twice_is_the_first_with_a_note() {
    let o = print(
        &[
            "-f",
            "csv",
            "-t",
            "2010-11-07 01:30",
            "-T",
            "2010-11-07 01:30 -05:00",
        ],
        "America/New_York",
    );
    let got = starts(&o);
    // 01:30 EDT (05:30 UTC) up to 01:30 EST (06:30 UTC).
    assert_eq!(got.first(), Some(&ms("2010-11-07T05:30:00Z")));
    assert_eq!(got.last(), Some(&ms("2010-11-07T06:20:00Z")));
    assert_eq!(got.len(), 6);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("note: -t \"2010-11-07 01:30\" happened twice"),
        "{err}"
    );
    assert!(err.contains("'2010-11-07 01:30 -05:00'"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn an_hour_that_never_happened_is_an_error() {
    let o = print(&["-f", "csv", "-t", "2010-03-14 02:30"], "America/New_York");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("does not exist in America/New_York"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn zones_utc_z_london_offsets_and_unknown_zones() {
    let first = |o: &Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.lines()
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        first(&print(&["-f", "csv", "--utc"], "America/New_York")),
        "2010-11-07T04:00:00.000Z"
    );
    assert_eq!(
        first(&print(&["-f", "csv"], "Europe/London")),
        "2010-11-07T04:00:00.000+00:00"
    );
    // Zone names as the C library takes them: a legacy name, `:NAME`, a POSIX rule.
    for tz in ["EST5EDT", ":America/New_York", "EST5EDT,M3.2.0,M11.1.0"] {
        assert_eq!(
            first(&print(&["-f", "csv"], tz)),
            "2010-11-07T00:00:00.000-04:00",
            "TZ={tz}"
        );
    }
    let o = print(&["-f", "csv"], "Mars/Base");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown time zone TZ=\"Mars/Base\""), "{err}");
    // --utc does not consult TZ.
    assert_eq!(
        first(&print(&["-f", "csv", "--utc"], "Mars/Base")),
        "2010-11-07T04:00:00.000Z"
    );
}
