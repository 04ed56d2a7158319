//! Parsing the times and durations users type on command lines (`-t`, `-T`, `--rotate`).

use jiff::{civil::DateTime, tz::TimeZone, Timestamp};

/// A time or duration argument that could not be understood.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {what} {text:?}: {hint}")]
pub struct TimeArgError {
    what: &'static str,
    text: String,
    hint: &'static str,
}

const TIME_HINT: &str = "use YYYY-MM-DD[ HH:MM[:SS[.mmm]]] (local time unless --utc), \
YYYY/MM/DD.HH:MM:SS, an RFC 3339 time with offset, or @UNIXSECONDS";

/// Parses an absolute time to UTC milliseconds. Civil times are taken in `tz`.
pub fn parse_time(text: &str, tz: &TimeZone) -> Result<i64, TimeArgError> {
    let err = || TimeArgError {
        what: "time",
        text: text.to_string(),
        hint: TIME_HINT,
    };
    let s = text.trim();
    if let Some(secs) = s.strip_prefix('@') {
        let v: f64 = secs.parse().map_err(|_| err())?;
        return Ok((v * 1000.0).round() as i64);
    }
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    let normalized: String = {
        // Accept nfdump's 2010/11/09.14:00:00 and ISO's T separator.
        let mut t = s.replace('/', "-");
        if let Some(i) = t.find(['.', 'T']) {
            if t[..i].matches('-').count() == 2 && t[i + 1..].contains(':') {
                t.replace_range(i..i + 1, " ");
            }
        }
        t
    };
    let dt = if normalized.contains(' ') || normalized.contains(':') {
        let with_secs = if normalized.matches(':').count() == 1 {
            format!("{normalized}:00")
        } else {
            normalized
        };
        with_secs.parse::<DateTime>().map_err(|_| err())?
    } else {
        format!("{normalized}T00:00:00")
            .parse::<DateTime>()
            .map_err(|_| err())?
    };
    let zoned = dt.to_zoned(tz.clone()).map_err(|_| err())?;
    Ok(zoned.timestamp().as_millisecond())
}

/// Parses a duration such as `300`, `90s`, `5m`, `1h`, `1d` to seconds.
pub fn parse_duration_secs(text: &str) -> Result<u64, TimeArgError> {
    let err = || TimeArgError {
        what: "duration",
        text: text.to_string(),
        hint: "use a number of seconds, or a number followed by s, m, h or d",
    };
    let s = text.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: u64 = num.parse().map_err(|_| err())?;
    let mult = match unit {
        "s" | "sec" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(err()),
    };
    n.checked_mul(mult).filter(|&v| v > 0).ok_or_else(err)
}

/// The zone civil times are read and printed in: UTC when `utc`, else the process's (TZ).
pub fn zone(utc: bool) -> TimeZone {
    if utc {
        TimeZone::UTC
    } else {
        TimeZone::system()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_289_311_200_000; // 2010-11-09 14:00:00 UTC

    #[test]
    fn civil_times_in_the_given_zone() {
        let utc = TimeZone::UTC;
        assert_eq!(parse_time("2010-11-09 14:00", &utc).unwrap(), T);
        assert_eq!(parse_time("2010-11-09 14:00:00", &utc).unwrap(), T);
        assert_eq!(parse_time("2010/11/09.14:00:00", &utc).unwrap(), T);
        assert_eq!(
            parse_time("2010-11-09T14:00:00.500", &utc).unwrap(),
            T + 500
        );
        assert_eq!(parse_time("2010-11-09", &utc).unwrap(), T - 14 * 3_600_000);
        let brt = TimeZone::fixed(jiff::tz::offset(-3));
        assert_eq!(parse_time("2010-11-09 11:00", &brt).unwrap(), T);
    }

    #[test]
    fn absolute_forms() {
        let utc = TimeZone::UTC;
        assert_eq!(parse_time("2010-11-09T16:00:00+02:00", &utc).unwrap(), T);
        assert_eq!(parse_time("@1289311200", &utc).unwrap(), T);
        assert!(parse_time("yesterday-ish", &utc).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("300").unwrap(), 300);
        assert_eq!(parse_duration_secs("5m").unwrap(), 300);
        assert_eq!(parse_duration_secs("1h").unwrap(), 3600);
        assert!(parse_duration_secs("0").is_err());
        assert!(parse_duration_secs("5 weeks").is_err());
    }
}
