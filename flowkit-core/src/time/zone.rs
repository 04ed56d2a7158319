//! The zone civil times are read and printed in, worked out once per process.
//!
//! `TZ` is read as the C library reads it: unset means `/etc/localtime` (UTC without one), empty
//! means UTC, `NAME` or `:NAME` a zone of the tz database (`Europe/Paris`, `EST5EDT`), otherwise a
//! POSIX rule (`UTC0`, `<-03>3`, `EST5EDT,M3.2.0,M11.1.0`) or a path to a zone file. A `TZ` that
//! is none of these (`Mars/Base`) is an error naming it: printing such times in UTC, as the C
//! library does, would be silently wrong by the zone's offset.

use super::TimeError;
use jiff::tz::TimeZone;
use std::sync::OnceLock;

/// The zone civil times are read and printed in: UTC when `utc`, else the process's (`TZ`).
///
/// The process's zone is worked out on the first call and kept; an unknown `TZ` is an error
/// (with `utc`, `TZ` is not consulted).
pub fn zone(utc: bool) -> Result<TimeZone, TimeError> {
    if utc {
        return Ok(TimeZone::UTC);
    }
    static SYSTEM: OnceLock<Result<TimeZone, TimeError>> = OnceLock::new();
    SYSTEM.get_or_init(system_zone).clone()
}

/// The process's zone, read afresh (see [`zone`], which keeps it).
fn system_zone() -> Result<TimeZone, TimeError> {
    if let Some(tz) = named_system_zone() {
        return Ok(tz);
    }
    match TimeZone::try_system() {
        Ok(tz) => Ok(tz),
        Err(_) => match std::env::var_os("TZ") {
            Some(v) => Err(TimeError::UnknownZone {
                tz: v.to_string_lossy().into_owned(),
                why: format!(
                    "no such zone in the tz database ({}), no POSIX rule, no zone file",
                    std::env::var("TZDIR").unwrap_or_else(|_| ZONEINFO.into())
                ),
            }),
            // No TZ and no readable /etc/localtime: UTC, as the C library takes it.
            None => Ok(TimeZone::UTC),
        },
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
    use jiff::Timestamp;

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
        let ours = zone(false).unwrap();
        let jiffs = TimeZone::system();
        assert_eq!(ours.iana_name(), jiffs.iana_name());
        for secs in (0..2_000_000_000i64).step_by(86_400 * 7 + 3_600) {
            let t = Timestamp::from_second(secs).unwrap();
            assert_eq!(ours.to_offset(t), jiffs.to_offset(t), "at {t}");
        }
    }
}
