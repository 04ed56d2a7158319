//! Tests of parsing and formatting civil times, across DST changes.
//!
//! Expected instants come from jiff reading the text independently (or from the tz database's
//! documented changes: New York left EDT at 2010-11-07 06:00 UTC, entered it 2010-03-14 07:00
//! UTC), never from our own formatter's output.

use super::*;
use jiff::Timestamp;

const T: i64 = 1_289_311_200_000; // 2010-11-09 14:00:00 UTC

fn ny() -> TimeZone {
    TimeZone::get("America/New_York").unwrap()
}

fn ms(t: &str) -> i64 {
    t.parse::<Timestamp>().unwrap().as_millisecond()
}

fn at(text: &str, tz: &TimeZone) -> i64 {
    let p = parse_time(text, tz).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(p.note, None, "{text}");
    p.ms
}

#[test]
fn every_argument_form() {
    let utc = TimeZone::UTC;
    for text in [
        "2010-11-09 14:00",
        "2010-11-09 14:00:00",
        "2010-11-09T14:00:00",
        "2010-11-09T14:00",
        "2010/11/09.14:00:00",
        "11/09/2010 14:00:00",
        "11/09/2010 14:00",
        "2010-11-09T14:00:00Z",
        "2010-11-09 14:00Z",
        "2010-11-09T16:00:00+02:00",
        "2010-11-09 16:00 +02:00",
        "2010-11-09 16:00:00+0200",
        "2010-11-09 09:00 -05",
        "@1289311200",
        "1289311200",
        "@1289311200.000",
    ] {
        assert_eq!(at(text, &utc), T, "{text}");
    }
    assert_eq!(at("2010-11-09T14:00:00.500", &utc), T + 500);
    assert_eq!(at("@1289311200.25", &utc), T + 250);
    assert_eq!(at("2010-11-09", &utc), T - 14 * 3_600_000);
    assert_eq!(at("11/09/2010", &utc), T - 14 * 3_600_000);
    let brt = TimeZone::fixed(jiff::tz::offset(-3));
    assert_eq!(at("2010-11-09 11:00", &brt), T);
    assert_eq!(at("11/09/2010 11:00:00", &brt), T);
    // An offset or Z wins over the zone.
    assert_eq!(at("2010-11-09T14:00:00Z", &brt), T);
    for bad in [
        "yesterday-ish",
        "2010",
        "2010-13-01",
        "2010-11-09 25:00",
        "2010-11-09 14:00 +99:00",
        "09/11/10",
        "",
        "@",
        "@12x",
    ] {
        let e = parse_time(bad, &utc).unwrap_err().to_string();
        assert!(e.contains("MM/DD/YYYY"), "{bad}: {e}");
    }
}

#[test]
fn a_local_time_that_happened_twice_is_the_first_with_a_note() {
    let tz = ny();
    let p = parse_time("2010-11-07 01:30", &tz).unwrap();
    assert_eq!(p.ms, ms("2010-11-07T05:30:00Z")); // EDT, -04:00
    let note = p.note.expect("a note");
    assert!(note.contains("America/New_York"), "{note}");
    assert!(note.contains("2010-11-07T01:30:00.000-04:00"), "{note}");
    assert!(note.contains("'2010-11-07 01:30 -05:00'"), "{note}");
    // The second, as the note says to write it.
    assert_eq!(
        at("2010-11-07 01:30 -05:00", &tz),
        ms("2010-11-07T06:30:00Z")
    );
    assert_eq!(
        at("2010-11-07 01:30 -04:00", &tz),
        ms("2010-11-07T05:30:00Z")
    );
    // Just outside the fold: one instant each, no note.
    assert_eq!(at("2010-11-07 00:59:59", &tz), ms("2010-11-07T04:59:59Z"));
    assert_eq!(at("2010-11-07 02:00", &tz), ms("2010-11-07T07:00:00Z"));
}

#[test]
fn a_local_time_that_never_happened_is_an_error() {
    let tz = ny();
    let e = parse_time("2010-03-14 02:30", &tz).unwrap_err();
    assert!(matches!(e, TimeError::Gap { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("does not exist in America/New_York"), "{msg}");
    // The suggested text is accepted, and is 03:30 EDT.
    let example = msg.split('\'').nth(1).expect("an example");
    assert_eq!(at(example, &tz), ms("2010-03-14T07:30:00Z"));
    assert_eq!(at("2010-03-14 03:00", &tz), ms("2010-03-14T07:00:00Z"));
    assert_eq!(at("2010-03-14 01:59", &tz), ms("2010-03-14T06:59:00Z"));
}

#[test]
fn the_filter_language_keeps_mktimes_choices() {
    // flow-tools reads time-date through mktime: a fold's first instant, a gap moved forward.
    let tz = ny();
    let fold = getdate::parse_date("2010-11-07 01:30").unwrap();
    assert_eq!(fold.unix_seconds(&tz) * 1000, ms("2010-11-07T05:30:00Z"));
    let gap = getdate::parse_date("2010-03-14 02:30").unwrap();
    assert_eq!(gap.unix_seconds(&tz) * 1000, ms("2010-03-14T07:30:00Z"));
}

/// Every 15 minutes over the November 2010 change in New York, the ISO text, read back by jiff,
/// is the same instant, and its offset is the one in force then.
#[test]
fn iso_round_trips_across_the_new_york_fall_back() {
    let tz = ny();
    let change = ms("2010-11-07T06:00:00Z");
    let mut seen = std::collections::BTreeSet::new();
    for i in -16..16 {
        let t = change + i * 15 * 60_000 + 123;
        let s = iso(t, &tz);
        let z: jiff::Zoned = s.parse::<Timestamp>().unwrap().to_zoned(tz.clone());
        assert_eq!(z.timestamp().as_millisecond(), t, "{s}");
        let want = if t < change { "-04:00" } else { "-05:00" };
        assert!(s.ends_with(want), "{s}");
        assert!(seen.insert(s.clone()), "{s} twice");
        // The text form carries the offset too and reads back to the same instant.
        let txt = text(t, &tz);
        assert_eq!(txt.replace(' ', "T"), s);
        assert_eq!(at(&txt, &tz), t, "{txt}");
    }
}

#[test]
fn zero_offset_zones_write_their_offset_only_utc_writes_z() {
    let london = TimeZone::get("Europe/London").unwrap();
    let t = ms("2010-11-09T14:20:53.999Z");
    assert_eq!(iso(t, &london), "2010-11-09T14:20:53.999+00:00");
    assert_eq!(iso(t, &TimeZone::UTC), "2010-11-09T14:20:53.999Z");
    let summer = ms("2010-07-01T12:00:00Z");
    assert_eq!(iso(summer, &london), "2010-07-01T13:00:00.000+01:00");
    assert!(is_utc(&TimeZone::UTC));
    assert!(is_utc(&TimeZone::get("Etc/UTC").unwrap()));
    assert!(!is_utc(&london));
    assert!(!is_utc(&TimeZone::get("Africa/Abidjan").unwrap()));
    assert_eq!(text(t, &TimeZone::UTC), "2010-11-09 14:20:53.999");
    assert_eq!(text(t, &london), "2010-11-09 14:20:53.999+00:00");
}

#[test]
fn time_of_day_in_a_zone() {
    let t = 1_289_312_405_000; // 2010-11-09 14:20:05 UTC
    assert_eq!(time_of_day(t, &TimeZone::UTC), 14 * 3600 + 20 * 60 + 5);
    let brt = TimeZone::fixed(jiff::tz::offset(-3));
    assert_eq!(time_of_day(t, &brt), 11 * 3600 + 20 * 60 + 5);
    assert_eq!(time_of_day(-1, &TimeZone::UTC), 86_399);
    // A block across a DST change gets per-flow offsets.
    let ny = TimeZone::posix("EST5EDT,M3.2.0,M11.1.0").unwrap();
    let before = 1_288_504_800_000; // 2010-10-31 06:00 UTC = 02:00 EDT
    let after = 1_289_127_600_000; // 2010-11-07 11:00 UTC = 06:00 EST
    assert_eq!(
        times_of_day(&[before, after], &ny),
        vec![2 * 3600, 6 * 3600]
    );
}

#[test]
fn arguments_take_the_filter_languages_date_forms_too() {
    let tz = ny();
    // Each getdate form against the instant it names (New York, EST in November 2010).
    for (text, utc) in [
        ("Nov 9, 2010 14:20:05", "2010-11-09T19:20:05Z"),
        ("11/09/2010 2:20pm", "2010-11-09T19:20:00Z"),
        ("9 November 2010 14:20", "2010-11-09T19:20:00Z"),
        ("Tue Nov 9 14:20:05 UTC 2010", "2010-11-09T14:20:05Z"),
        ("2010/11/09.14:20:05", "2010-11-09T19:20:05Z"),
    ] {
        assert_eq!(at(text, &tz), ms(utc), "{text}");
    }
    // The command line's rules for folds and gaps hold for those forms as well.
    let p = parse_time("Nov 7, 2010 01:30", &tz).unwrap();
    assert_eq!(p.ms, ms("2010-11-07T05:30:00Z"));
    assert!(p.note.is_some());
    assert!(matches!(
        parse_time("Mar 14, 2010 02:30", &tz),
        Err(TimeError::Gap { .. })
    ));
    // Relative English stays refused.
    assert!(parse_time("yesterday", &tz).is_err());
}
