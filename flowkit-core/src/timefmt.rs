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
        named_system_zone().unwrap_or_else(TimeZone::system)
    }
}

/// Where zone files are looked up by name (jiff's first choice too, when `TZDIR` is unset).
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// The system zone read straight from its file when `TZ` names one, or is unset and
/// `/etc/localtime` links to one: the zone `TimeZone::system` finds there, without the walk of
/// the whole zoneinfo tree that jiff's database makes on its first lookup (about 1.4 ms at every
/// tool's start, three times in a pipe chain). `None` leaves everything else to jiff.
fn named_system_zone() -> Option<TimeZone> {
    let tz = match std::env::var("TZ") {
        Ok(v) => Some(v),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => return None,
    };
    // The link matters only without TZ: not read otherwise.
    let link = tz
        .is_none()
        .then(|| std::fs::read_link("/etc/localtime").ok())
        .flatten();
    let name = system_zone_name(
        tz.as_deref(),
        link.as_deref().and_then(|p| p.to_str()),
        std::env::var_os("TZDIR").is_some(),
    )?;
    let data = std::fs::read(std::path::Path::new(ZONEINFO).join(name)).ok()?;
    TimeZone::tzif(name, &data).ok()
}

/// The zone name to read from [`ZONEINFO`], given `TZ` (if set), where `/etc/localtime` links
/// (if it is a link), and whether `TZDIR` is set. `None` whenever jiff would read anything but
/// that file: an empty `TZ` (UTC), a POSIX rule jiff accepts (`UTC0`, `<-03>3`; `EST5EDT`, which
/// jiff does not take as a rule, is a name), an absolute path, a name that leaves the directory,
/// or a link outside a zoneinfo directory.
fn system_zone_name<'a>(
    tz: Option<&'a str>,
    localtime_link: Option<&'a str>,
    tzdir: bool,
) -> Option<&'a str> {
    if tzdir {
        return None;
    }
    let name = match tz {
        // `:NAME` is a name; otherwise a POSIX rule, when jiff can read it as one, wins.
        Some(v) => match v.strip_prefix(':') {
            Some(name) => name,
            None if TimeZone::posix(v).is_ok() => return None,
            None => v,
        },
        None => {
            let link = localtime_link?;
            &link[link.rfind("zoneinfo/")? + "zoneinfo/".len()..]
        }
    };
    let plain = |c: &str| !c.is_empty() && c != "." && c != "..";
    (name.split('/').all(plain)).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_289_311_200_000; // 2010-11-09 14:00:00 UTC

    #[test]
    fn zone_names_are_read_only_where_jiff_would_read_that_file() {
        let link = Some("/usr/share/zoneinfo/America/Sao_Paulo");
        assert_eq!(
            system_zone_name(None, link, false),
            Some("America/Sao_Paulo")
        );
        assert_eq!(
            system_zone_name(None, Some("../usr/share/zoneinfo/Etc/UTC"), false),
            Some("Etc/UTC")
        );
        assert_eq!(
            system_zone_name(Some("Europe/Berlin"), link, false),
            Some("Europe/Berlin")
        );
        assert_eq!(
            system_zone_name(Some(":Europe/Berlin"), None, false),
            Some("Europe/Berlin")
        );
        assert_eq!(system_zone_name(Some("UTC"), None, false), Some("UTC"));
        // A DST abbreviation without its rule is no POSIX rule jiff accepts: a name, as for jiff.
        assert_eq!(
            system_zone_name(Some("EST5EDT"), None, false),
            Some("EST5EDT")
        );
        assert_eq!(system_zone_name(Some(":UTC0"), None, false), Some("UTC0"));
        // POSIX rules, paths, escapes, TZDIR, no link: left to jiff.
        let rules = ["UTC0", "<-03>3", "EST5EDT,M3.2.0,M11.1.0"];
        for tz in rules
            .into_iter()
            .chain(["", ":", "/etc/localtime", "../etc/passwd", "a//b"])
        {
            assert_eq!(system_zone_name(Some(tz), link, false), None, "{tz:?}");
        }
        assert_eq!(system_zone_name(Some("Europe/Berlin"), link, true), None);
        assert_eq!(system_zone_name(None, None, false), None);
        assert_eq!(
            system_zone_name(None, Some("/etc/zones/local"), false),
            None
        );
    }

    /// Whatever this machine's TZ and /etc/localtime say, the zone read directly is the one jiff
    /// finds: same name, same offsets across decades and DST changes.
    #[test]
    fn the_system_zone_is_the_one_jiff_finds() {
        let ours = zone(false);
        let jiffs = TimeZone::system();
        assert_eq!(ours.iana_name(), jiffs.iana_name());
        for secs in (0..2_000_000_000i64).step_by(86_400 * 7 + 3_600) {
            let t = Timestamp::from_second(secs).unwrap();
            assert_eq!(ours.to_offset(t), jiffs.to_offset(t), "at {t}");
        }
    }

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
