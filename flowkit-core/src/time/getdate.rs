//! Dates of the filter language's `time-date` primitives (flow-tools' getdate forms).
//!
//! flow-tools hands the rest of the line to getdate.y, which reads almost any English text,
//! including relative forms (`yesterday`, `2 hours ago`) whose meaning changes with the day the
//! filter runs. We read the common absolute forms and reject the rest with a list of what works.
//! Civil times without a zone are taken in the zone the filter is compiled for (the process's
//! `TZ`, or UTC with `--utc`), as getdate takes them in local time.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

/// The forms accepted, for error messages and the documentation.
pub const ACCEPTED_FORMS: &str = "2010-11-09, 2010-11-09 14:20[:05], 2010-11-09T14:20:05Z, \
2010/11/09.14:20:05, 11/09/2010 2:20pm, Nov 9, 2010 14:20:05, 9 November 2010 14:20, \
Tue Nov 9 14:20:05 UTC 2010; a zone (UTC, GMT, Z, EST..PDT, +0100, -03:00) may \
follow the time, otherwise the time is local";

/// A point in time as written in a filter: either absolute, or a civil time read in the local zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateSpec {
    /// Seconds since the Unix epoch.
    Instant(i64),
    /// A wall-clock date and time, to be read in the filter's time zone.
    Civil(DateTime),
}

impl DateSpec {
    /// Seconds since the Unix epoch, reading a civil time in `tz`.
    pub fn unix_seconds(&self, tz: &TimeZone) -> i64 {
        match self {
            DateSpec::Instant(s) => *s,
            // As flow-tools' mktime: a fold's first instant, a gap read with the offset before it.
            DateSpec::Civil(dt) => super::resolve_local(*dt, tz)
                .and_then(|l| l.compatible(*dt))
                .map(|t| t.as_second())
                // Only out-of-range civil times fail; they were checked when parsed.
                .unwrap_or_else(|| {
                    dt.to_zoned(TimeZone::UTC)
                        .map_or(0, |z| z.timestamp().as_second())
                }),
        }
    }
}

/// Why a date could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateError(pub String);

fn fail(text: &str, why: &str) -> DateError {
    let relative = [
        "ago",
        "yesterday",
        "today",
        "tomorrow",
        "now",
        "last",
        "next",
        "this",
    ];
    let lower = text.to_ascii_lowercase();
    let note = if lower.split_whitespace().any(|w| relative.contains(&w)) {
        " (relative dates are not accepted: a filter must mean the same tomorrow)"
    } else {
        ""
    };
    DateError(format!(
        "cannot read the date `{text}`{why}{note}; use one of: {ACCEPTED_FORMS}"
    ))
}

/// Parses the text of a `time-date` line.
pub fn parse_date(text: &str) -> Result<DateSpec, DateError> {
    let s = text.trim();
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(DateSpec::Instant(ts.as_second()));
    }
    let tokens: Vec<String> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .flat_map(split_date_time)
        .collect();
    Parts::read(&tokens)
        .map_err(|why| fail(text, &why))?
        .finish()
        .map_err(|why| fail(text, &why))
}

/// Splits `2010-11-09T14:20:05` and `2010/11/09.14:20:05` into their date and time.
fn split_date_time(t: &str) -> Vec<String> {
    let split = t.char_indices().find(|&(i, c)| {
        matches!(c, 'T' | 't' | '.')
            && !t[..i].contains(':')
            && (t[..i].contains('/') || t[..i].matches('-').count() == 2)
            && t[i + 1..].contains(':')
    });
    match split {
        Some((i, _)) => vec![t[..i].to_string(), t[i + 1..].to_string()],
        None => vec![t.to_string()],
    }
}

#[derive(Default)]
struct Parts {
    year: Option<i64>,
    month: Option<i8>,
    day: Option<i8>,
    time: Option<(i8, i8, i8, i32)>,
    pm: Option<bool>,
    offset: Option<i32>,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

fn month_of(word: &str) -> Option<i8> {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(&w) && (w.len() == 3 || w.len() == m.len() || w == "sept"))
        .map(|i| i as i8 + 1)
}

fn is_weekday(word: &str) -> bool {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    w.len() >= 3 && WEEKDAYS.iter().any(|d| d.starts_with(&w))
}

/// Zone abbreviations getdate knows and users still write.
fn zone_offset(word: &str) -> Option<i32> {
    let w = word.to_ascii_uppercase();
    let hours = match w.as_str() {
        "UTC" | "GMT" | "UT" | "Z" => 0,
        "EST" => -5,
        "EDT" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        _ => {
            let (sign, rest) = match w.as_bytes().first()? {
                b'+' => (1, &w[1..]),
                b'-' => (-1, &w[1..]),
                _ => return None,
            };
            let digits: String = rest.chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let h: i32 = digits[..2].parse().ok()?;
            let m: i32 = digits[2..].parse().ok()?;
            if h > 14 || m > 59 {
                return None;
            }
            return Some(sign * (h * 3600 + m * 60));
        }
    };
    Some(hours * 3600)
}

fn small(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 4 || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn full_year(y: i64, digits: usize) -> i64 {
    // getdate's rule for two-digit years.
    match (digits, y) {
        (2, 0..=68) => 2000 + y,
        (2, _) => 1900 + y,
        _ => y,
    }
}

impl Parts {
    fn read(tokens: &[String]) -> Result<Parts, String> {
        let mut p = Parts::default();
        let mut loose: Vec<(i64, usize)> = Vec::new(); // bare numbers: day and year
        for (i, t) in tokens.iter().enumerate() {
            let lower = t.to_ascii_lowercase();
            if i == 0 && is_weekday(t) && month_of(t).is_none() {
                continue;
            }
            if lower == "am" || lower == "pm" || lower == "a.m." || lower == "p.m." {
                p.set_pm(lower.starts_with('p'))?;
            } else if let Some(m) = month_of(t) {
                if p.month.replace(m).is_some() {
                    return Err(format!(" (two months: `{t}`)"));
                }
            } else if let Some(off) =
                zone_offset(t).filter(|_| p.time.is_some() || !t.starts_with('-'))
            {
                if p.offset.replace(off).is_some() {
                    return Err(format!(" (two zones: `{t}`)"));
                }
            } else if t.contains(':') {
                p.read_time(t)?;
            } else if t.contains('/') || t.matches('-').count() == 2 {
                p.read_numeric_date(t)?;
            } else if let Some(n) = small(t) {
                loose.push((n, t.len()));
            } else {
                return Err(format!(" (`{t}` is not a date, time or zone)"));
            }
        }
        for (n, digits) in loose {
            if p.day.is_none() && digits <= 2 && p.month.is_some() && (1..=31).contains(&n) {
                p.day = Some(n as i8);
            } else if p.year.is_none() {
                p.year = Some(full_year(n, digits));
            } else {
                return Err(format!(" (`{n}` is left over)"));
            }
        }
        Ok(p)
    }

    fn set_pm(&mut self, pm: bool) -> Result<(), String> {
        if self.pm.replace(pm).is_some() {
            return Err(" (am/pm given twice)".into());
        }
        Ok(())
    }

    fn read_time(&mut self, t: &str) -> Result<(), String> {
        let lower = t.to_ascii_lowercase();
        let (clock, pm) = if let Some(c) = lower.strip_suffix("pm") {
            (c.to_string(), Some(true))
        } else if let Some(c) = lower.strip_suffix("am") {
            (c.to_string(), Some(false))
        } else {
            (lower.clone(), None)
        };
        if let Some(pm) = pm {
            self.set_pm(pm)?;
        }
        let (clock, millis) = match clock.split_once('.') {
            Some((c, frac))
                if !frac.is_empty()
                    && frac.len() <= 3
                    && frac.chars().all(|c| c.is_ascii_digit()) =>
            {
                let ms: i32 = format!("{frac:0<3}").parse().unwrap_or(0);
                (c.to_string(), ms)
            }
            Some(_) => return Err(format!(" (bad time `{t}`)")),
            None => (clock, 0),
        };
        let nums: Vec<Option<i64>> = clock.split(':').map(small).collect();
        let bad = || format!(" (bad time `{t}`)");
        let (h, m, s) = match nums.as_slice() {
            [Some(h), Some(m)] => (*h, *m, 0),
            [Some(h), Some(m), Some(s)] => (*h, *m, *s),
            _ => return Err(bad()),
        };
        if h > 23 || m > 59 || s > 59 {
            return Err(bad());
        }
        if self
            .time
            .replace((h as i8, m as i8, s as i8, millis))
            .is_some()
        {
            return Err(format!(" (two times: `{t}`)"));
        }
        Ok(())
    }

    fn read_numeric_date(&mut self, t: &str) -> Result<(), String> {
        let bad = || format!(" (bad date `{t}`)");
        if self.month.is_some() || self.day.is_some() {
            return Err(format!(" (two dates: `{t}`)"));
        }
        let sep = if t.contains('/') { '/' } else { '-' };
        let parts: Vec<&str> = t.split(sep).collect();
        let nums: Vec<Option<i64>> = parts.iter().map(|x| small(x)).collect();
        let (y, m, d) = match (parts.as_slice(), nums.as_slice()) {
            // ISO order: 2010-11-09, 2010/11/09
            ([y, _, _], [Some(yv), Some(m), Some(d)]) if y.len() == 4 => (*yv, *m, *d),
            // US order: 11/09/2010, 3/31/92
            ([_, _, y], [Some(m), Some(d), Some(yv)]) if sep == '/' => {
                (full_year(*yv, y.len()), *m, *d)
            }
            _ => return Err(bad()),
        };
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return Err(bad());
        }
        self.year = Some(y);
        self.month = Some(m as i8);
        self.day = Some(d as i8);
        Ok(())
    }

    fn finish(self) -> Result<DateSpec, String> {
        let (Some(year), Some(month), Some(day)) = (self.year, self.month, self.day) else {
            return Err(" (it needs a day, a month and a year)".into());
        };
        let (mut h, m, s, ms) = self.time.unwrap_or((0, 0, 0, 0));
        if let Some(pm) = self.pm {
            if self.time.is_none() || !(1..=12).contains(&h) {
                return Err(" (am/pm needs a time from 1:00 to 12:59)".into());
            }
            h = match (pm, h) {
                (false, 12) => 0,
                (true, 12) => 12,
                (true, h) => h + 12,
                (false, h) => h,
            };
        }
        let year = i16::try_from(year).map_err(|_| " (year out of range)".to_string())?;
        let date = Date::new(year, month, day).map_err(|_| " (no such day)".to_string())?;
        let time = Time::new(h, m, s, ms * 1_000_000).map_err(|_| " (bad time)".to_string())?;
        let dt = DateTime::from_parts(date, time);
        match self.offset {
            None => Ok(DateSpec::Civil(dt)),
            Some(off) => {
                let offset = Offset::from_seconds(off).map_err(|_| " (bad zone)".to_string())?;
                let ts = dt
                    .to_zoned(TimeZone::fixed(offset))
                    .map_err(|_| " (out of range)".to_string())?;
                Ok(DateSpec::Instant(ts.timestamp().as_second()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_289_312_405; // 2010-11-09 14:20:05 UTC

    fn utc(text: &str) -> i64 {
        parse_date(text)
            .unwrap_or_else(|e| panic!("{text}: {}", e.0))
            .unix_seconds(&TimeZone::UTC)
    }

    #[test]
    fn absolute_forms() {
        for text in [
            "2010-11-09 14:20:05",
            "2010-11-09T14:20:05Z",
            "2010-11-09T16:20:05+02:00",
            "2010/11/09.14:20:05",
            "2010/11/09 14:20:05",
            "11/09/2010 14:20:05",
            "11/09/10 2:20:05pm",
            "11/09/10 2:20:05 PM",
            "Nov 9, 2010 14:20:05",
            "November 9 2010 14:20:05",
            "9 Nov 2010 14:20:05",
            "Tue Nov  9 14:20:05 UTC 2010",
            "Tue Nov 9 14:20:05 2010",
            "Nov 9, 2010 9:20:05 EST",
            "2010-11-09 15:20:05 +0100",
        ] {
            assert_eq!(utc(text), T, "{text}");
        }
        assert_eq!(utc("Dec 12, 2001"), 1_008_115_200);
        assert_eq!(utc("December 12, 2002 5:13:21"), 1_039_670_001);
        assert_eq!(utc("2010-11-09"), T - 14 * 3600 - 20 * 60 - 5);
        assert_eq!(utc("3/31/92 12:00am"), utc("1992-03-31 00:00:00"));
        assert_eq!(utc("3/31/92 12:30pm"), utc("1992-03-31 12:30"));
    }

    #[test]
    fn civil_times_follow_the_zone() {
        let d = parse_date("2010-11-09 11:20:05").unwrap();
        let brt = TimeZone::fixed(jiff::tz::offset(-3));
        assert_eq!(d.unix_seconds(&brt), T);
        let pst = parse_date("Nov 9 2010 6:20:05 PST").unwrap();
        assert_eq!(pst.unix_seconds(&brt), T);
    }

    #[test]
    fn relative_and_partial_forms_are_refused_with_the_list() {
        for text in [
            "yesterday",
            "2 hours ago",
            "12:15:00",
            "Nov 9",
            "1 month ago",
            "2010-13-01",
            "Feb 30 2010",
        ] {
            let e = parse_date(text).unwrap_err().0;
            assert!(e.contains("use one of: 2010-11-09"), "{text}: {e}");
        }
        assert!(parse_date("yesterday").unwrap_err().0.contains("relative"));
    }
}
