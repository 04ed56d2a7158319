//! Reading the times and durations users type on command lines (`-t`, `-T`, `--rotate`), and
//! turning a local wall time into an instant when the zone's clocks fold or skip.

use super::{clock::push_rfc3339, zone_name, Clock, TimeError};
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use jiff::Timestamp;

/// The accepted forms of a time argument, for error messages.
pub const TIME_HINT: &str = "use YYYY-MM-DD[( |T)HH:MM[:SS[.mmm]]][Z|±HH:MM] (local time \
without Z or an offset; UTC with --utc), flow-tools' MM/DD/YYYY[ HH:MM[:SS]] and its filter \
dates ('Nov 9, 2010 14:20', '11/09/2010 2:20pm'), nfdump's YYYY/MM/DD.HH:MM:SS, or epoch \
seconds (@1289311200 or 1289311200)";

/// A time read from an argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// UTC milliseconds since the epoch.
    pub ms: i64,
    /// Said on stderr by the tool: which instant an ambiguous local time was taken as.
    pub note: Option<String>,
}

/// A local wall time read in a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Local {
    /// One instant.
    Unique(Timestamp),
    /// Clocks went back: the wall time happened twice.
    Fold {
        /// The first time (the offset before the change).
        earlier: Timestamp,
        /// The second.
        later: Timestamp,
    },
    /// Clocks moved forward over it: the wall time never happened.
    Gap {
        /// The offset before the gap.
        before: Offset,
        /// The offset after it.
        after: Offset,
    },
}

impl Local {
    /// The instant flow-tools (the C library's `mktime`) and jiff's `compatible` rule take: the
    /// earlier of a fold, and for a gap the wall time read with the offset before it (02:30 in a
    /// 02:00 -> 03:00 gap is 03:30). The filter language's `time-date` keeps this.
    pub fn compatible(self, dt: DateTime) -> Option<Timestamp> {
        match self {
            Local::Unique(t) | Local::Fold { earlier: t, .. } => Some(t),
            Local::Gap { before, .. } => before.to_timestamp(dt).ok(),
        }
    }
}

/// Reads the wall time `dt` in `tz`; `None` only outside jiff's range.
pub fn resolve_local(dt: DateTime, tz: &TimeZone) -> Option<Local> {
    let amb = tz.to_ambiguous_timestamp(dt);
    Some(match amb.offset() {
        AmbiguousOffset::Unambiguous { offset } => Local::Unique(offset.to_timestamp(dt).ok()?),
        AmbiguousOffset::Fold { before, after } => Local::Fold {
            earlier: before.to_timestamp(dt).ok()?,
            later: after.to_timestamp(dt).ok()?,
        },
        AmbiguousOffset::Gap { before, after } => Local::Gap { before, after },
    })
}

/// Parses an absolute time to UTC milliseconds. Times without `Z` or an offset are read in
/// `tz`: one that falls twice (a DST fold) is taken as the first, with a note saying so and how
/// to write the second; one that never happened (a DST gap) is an error, since any instant
/// picked for it would move a window's edge by the size of the gap.
pub fn parse_time(text: &str, tz: &TimeZone) -> Result<Parsed, TimeError> {
    let bad = || TimeError::BadArgument {
        what: "time",
        text: text.to_string(),
        hint: TIME_HINT,
    };
    let s = text.trim();
    let epoch = s.strip_prefix('@').or_else(|| {
        // A bare number is epoch seconds when it is long enough not to be mistaken for a year.
        (s.len() >= 9 && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')).then_some(s)
    });
    if let Some(e) = epoch {
        let ms = epoch_ms(e).ok_or_else(bad)?;
        Timestamp::from_millisecond(ms).map_err(|_| bad())?;
        return Ok(Parsed { ms, note: None });
    }
    // The numeric forms here; flow-tools' getdate forms (`Nov 9, 2010 14:20`, `11/09/2010
    // 2:20pm`, `Tue Nov 9 14:20:05 UTC 2010`) through the filter language's reader, so both
    // accept the same times.
    // A numeric date with a two-digit year (`09/11/10`) is refused: which part is the day
    // differs by country, and the century is a guess.
    let first = s.split([' ', '.']).next().unwrap_or("");
    let short_year =
        first.split('/').count() == 3 && first.rsplit('/').next().is_some_and(|y| y.len() <= 2);
    let (dt, offset) = match civil_and_offset(s) {
        Some(v) => v,
        None if short_year => return Err(bad()),
        None => match super::getdate::parse_date(s).map_err(|_| bad())? {
            super::getdate::DateSpec::Instant(secs) => {
                let ms = secs.checked_mul(1000).ok_or_else(bad)?;
                Timestamp::from_millisecond(ms).map_err(|_| bad())?;
                return Ok(Parsed { ms, note: None });
            }
            super::getdate::DateSpec::Civil(dt) => (dt, None),
        },
    };
    if let Some(off) = offset {
        let ts = off.to_timestamp(dt).map_err(|_| bad())?;
        return Ok(Parsed {
            ms: ts.as_millisecond(),
            note: None,
        });
    }
    match resolve_local(dt, tz).ok_or_else(bad)? {
        Local::Unique(t) => Ok(Parsed {
            ms: t.as_millisecond(),
            note: None,
        }),
        Local::Fold { earlier, later } => {
            let mut clock = Clock::new(tz.clone());
            let show = |t: Timestamp, clock: &mut Clock| {
                let mut out = Vec::new();
                push_rfc3339(&mut out, &clock.civil(t.as_millisecond()));
                String::from_utf8(out).unwrap_or_default()
            };
            let first = show(earlier, &mut clock);
            let second = show(later, &mut clock);
            let note = format!(
                "{text:?} happened twice in {} (clocks went back); took the first, {first}; \
                 for the second write '{s} {}'",
                zone_name(tz),
                &second[second.len() - 6..],
            );
            Ok(Parsed {
                ms: earlier.as_millisecond(),
                note: Some(note),
            })
        }
        Local::Gap { before, after } => Err(TimeError::Gap {
            text: text.to_string(),
            zone: zone_name(tz),
            before: super::offset_text(before),
            after: super::offset_text(after),
            example: format!("{s} {}", super::offset_text(before)),
        }),
    }
}

/// `SECONDS[.FRACTION]` as milliseconds, exactly (a fraction finer than a millisecond rounds).
fn epoch_ms(s: &str) -> Option<i64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let mut digits: Vec<u8> = frac.bytes().take(4).map(|b| b - b'0').collect();
    digits.resize(4, 0);
    let tenth_ms = digits.iter().fold(0i64, |a, &d| a * 10 + d as i64);
    let ms = secs.checked_mul(1000)?.checked_add((tenth_ms + 5) / 10)?;
    Some(if neg { -ms } else { ms })
}

/// Splits a date-time argument into its wall time and its offset, if one is written.
fn civil_and_offset(s: &str) -> Option<(DateTime, Option<Offset>)> {
    let (date, rest) = split_date(s)?;
    let rest = rest.trim_start_matches([' ', 'T', 't', '.']);
    // The offset: `Z`, or a sign after the time (a date alone has no time but may have one).
    let (clock, offset) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c.trim_end(), Some(Offset::UTC))
    } else if let Some(i) = rest.rfind(['+', '-']) {
        (rest[..i].trim_end(), Some(parse_offset(&rest[i..])?))
    } else if let Some(c) = rest.strip_suffix(" UTC") {
        (c.trim_end(), Some(Offset::UTC))
    } else {
        (rest, None)
    };
    let time = if clock.is_empty() {
        Time::midnight()
    } else {
        let colons = clock.matches(':').count();
        let full = if colons == 1 {
            format!("{clock}:00")
        } else {
            clock.to_string()
        };
        if !(1..=2).contains(&colons) || !full.as_bytes()[0].is_ascii_digit() {
            return None;
        }
        full.parse::<Time>().ok()?
    };
    Some((date.to_datetime(time), offset))
}

/// The date at the start of `s` (`YYYY-MM-DD`, `YYYY/MM/DD`, or flow-tools' `MM/DD/YYYY`) and
/// what follows it.
fn split_date(s: &str) -> Option<(Date, &str)> {
    let end = s.find([' ', 'T', 't']).unwrap_or(s.len());
    // nfdump's `2010/11/09.14:00:00`: the date ends at the dot before the time.
    let end = match s[..end].find('.') {
        Some(dot) if s[dot..].contains(':') => dot,
        _ => end,
    };
    let head = &s[..end];
    let parts: Vec<&str> = head.split(['-', '/']).collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let num = |p: &str| -> Option<i16> {
        p.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| p.parse().ok())?
    };
    let (y, m, d) = if parts[0].len() == 4 {
        (num(parts[0])?, num(parts[1])?, num(parts[2])?)
    } else if parts[2].len() == 4 && head.contains('/') {
        // flow-tools' and date(1)'s MM/DD/YYYY.
        (num(parts[2])?, num(parts[0])?, num(parts[1])?)
    } else {
        return None;
    };
    let date = Date::new(y, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()?;
    Some((date, &s[end..]))
}

/// `±HH`, `±HHMM` or `±HH:MM`.
fn parse_offset(s: &str) -> Option<Offset> {
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = match digits.len() {
        2 | 4 => digits.to_string(),
        5 if digits.as_bytes()[2] == b':' => digits.replace(':', ""),
        _ => return None,
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Some(0), |m| m.parse().ok())?;
    if h > 25 || m > 59 {
        return None;
    }
    Offset::from_seconds(sign * (h * 3600 + m * 60)).ok()
}

/// Parses a duration such as `300`, `90s`, `5m`, `1h`, `1d` to seconds.
pub fn parse_duration_secs(text: &str) -> Result<u64, TimeError> {
    let err = || TimeError::BadArgument {
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
