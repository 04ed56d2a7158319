//! flow-hunt writes every time of a report in one zone: the headers, the evidence, the facts and
//! the summaries the detectors compose, in text, CSV and JSON alike.

use std::process::Command;

/// Every time in `text`: the runs starting `2010-11-` up to a separator, a space between a date
/// and a clock kept.
fn times(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("2010-11-") {
        let tail = &rest[i..];
        let mut end = tail.find(['"', ',', ')', '\n', ' ']).unwrap_or(tail.len());
        // `2010-11-09 09:20:53.999-05:00`: the clock after the space belongs to it.
        if tail[end..].starts_with(' ') && tail[end + 1..].starts_with(|c: char| c.is_ascii_digit())
        {
            let more = tail[end + 1..]
                .find(['"', ',', ')', '\n', ' '])
                .unwrap_or(tail.len() - end - 1);
            end += 1 + more;
        }
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

fn run(args: &[&str], tz: &str) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_flow-hunt"))
        .args(args)
        .arg(flowkit_core::testing::testdata::path("2010-11-09"))
        .env_remove("FLOWKIT_FILTERS")
        .env("TZ", tz)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn every_time_of_a_report_is_in_the_display_zone() {
    for detector in ["irc-after-ssh", "ssh-bruteforce"] {
        for format in [None, Some("--csv"), Some("--json")] {
            let mut args = vec![detector];
            args.extend(format);
            let ny = run(&args, "America/New_York");
            let found = times(&ny);
            assert!(found.len() > 5, "{detector} {format:?}: {found:?}");
            for t in &found {
                // The sample day is in November 2010: EST everywhere.
                assert!(t.ends_with("-05:00"), "{detector} {format:?}: {t}");
                // And it reads back (jiff) to a time of that day.
                let ts: jiff::Timestamp = t.replacen(' ', "T", 1).parse().unwrap();
                let day = ts.to_zoned(jiff::tz::TimeZone::UTC).date();
                assert!(day.day() == 9 || day.day() == 10, "{t}");
            }
            args.push("--utc");
            let utc = run(&args, "America/New_York");
            let found_utc = times(&utc);
            assert_eq!(found_utc.len(), found.len(), "{detector} {format:?}");
            for (t, u) in found.iter().zip(&found_utc) {
                assert!(!u.contains("-05:00"), "{u}");
                let a: jiff::Timestamp = t.replacen(' ', "T", 1).parse().unwrap();
                // Text in UTC has no suffix; CSV/JSON end with Z.
                let b: jiff::Timestamp = if u.ends_with('Z') {
                    u.parse().unwrap()
                } else {
                    format!("{}Z", u.replacen(' ', "T", 1)).parse().unwrap()
                };
                assert_eq!(a, b, "{t} vs {u}");
            }
        }
    }
}
