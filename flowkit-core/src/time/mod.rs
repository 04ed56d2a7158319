//! Civil time: the one place flowkit parses and formats wall-clock times.
//!
//! - [`zone`]: the zone times are read and printed in (`TZ`, or UTC with `--utc`), worked out
//!   once per process; an unknown `TZ` is an error.
//! - [`parse_time`]: every `-t`/`-T` form (flow-tools' `MM/DD/YYYY HH:MM:SS`, ISO 8601 with or
//!   without `T`, `Z` or an offset, a date alone, epoch seconds), with local times that fall in a
//!   DST fold or gap handled by [`resolve_local`].
//! - [`getdate`]: the wider getdate-like forms of the filter language's `time-date` primitive
//!   (flow-tools' semantics), resolving local times through the same [`resolve_local`].
//! - Formatting: [`iso`] (ISO 8601 / RFC 3339 with milliseconds and an explicit offset, `Z` only
//!   in UTC; what every CSV and JSON output writes), [`text`] (the same for reading, with a space
//!   for the `T`), and [`clock`], the cached fast path that prints millions of rows, including
//!   flow-tools' `MMDD.HH:MM:SS.mmm`. [`iso`] and [`text`] are written by [`clock`], so there is
//!   one implementation of each form.
//!
//! The zone rules themselves (tzdb files, POSIX `TZ` strings) are jiff's.

pub mod clock;
pub mod getdate;
mod parse;
mod zone;

#[cfg(test)]
mod tests;

pub use clock::{Civil, Clock};
pub use parse::{parse_duration_secs, parse_time, resolve_local, Parsed};
pub use zone::zone;

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// A time argument, or the zone, that could not be understood.
#[derive(Clone, Debug, thiserror::Error)]
pub enum TimeError {
    /// A time or duration argument in no accepted form.
    #[error("cannot read {what} {text:?}: {hint}")]
    BadArgument {
        /// `time` or `duration`.
        what: &'static str,
        /// The argument as given.
        text: String,
        /// The accepted forms.
        hint: &'static str,
    },
    /// A local time that the zone skips (clocks moved forward over it).
    #[error(
        "{text:?} does not exist in {zone}: clocks moved forward over it (offset {before} to \
         {after}); give a time outside the gap, or an offset (e.g. '{example}')"
    )]
    Gap {
        /// The argument as given.
        text: String,
        /// The zone's name.
        zone: String,
        /// The offset before the gap, `±HH:MM`.
        before: String,
        /// The offset after it.
        after: String,
        /// The same wall time with the offset in force before the gap.
        example: String,
    },
    /// `TZ` names no zone and is no rule.
    #[error(
        "unknown time zone TZ={tz:?}: {why}; use a tz database name such as Europe/Paris or \
         America/New_York, a POSIX rule such as EST5EDT,M3.2.0,M11.1.0, or --utc"
    )]
    UnknownZone {
        /// The value of `TZ`.
        tz: String,
        /// Where it was looked for.
        why: String,
    },
}

/// Whether `tz` is UTC itself (no offset ever): the only zone whose times are written with `Z`.
/// Any other zone writes its offset, `+00:00` included (Europe/London in winter), so one column
/// never mixes `Z` and offsets.
pub fn is_utc(tz: &TimeZone) -> bool {
    let epoch = jiff::Timestamp::UNIX_EPOCH;
    tz.to_offset(epoch).seconds() == 0
        && tz.following(jiff::Timestamp::MIN).next().is_none()
        && tz.preceding(jiff::Timestamp::MAX).next().is_none()
}

/// A zone's name for messages: its tz database name, or `TZ`'s rule, or `the local zone`.
pub fn zone_name(tz: &TimeZone) -> String {
    match tz.iana_name() {
        Some(n) => n.to_string(),
        None if is_utc(tz) => "UTC".into(),
        None => match std::env::var("TZ") {
            Ok(v) if !v.is_empty() => format!("TZ={v}"),
            _ => "the local zone".into(),
        },
    }
}

/// An offset as ISO 8601 writes it: `-05:00`, `+00:00`, `+05:45`.
pub fn offset_text(o: jiff::tz::Offset) -> String {
    let s = o.seconds();
    let a = s.unsigned_abs();
    let sign = if s < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60)
}

/// `ms` (UTC milliseconds since the epoch) as ISO 8601 / RFC 3339 in `tz`, with milliseconds and
/// the offset: `2010-11-07T01:30:00.000-04:00`, `2010-11-09T14:20:53.999Z` in UTC. What every
/// CSV and JSON output writes; jq, pandas and DuckDB read it without guessing a zone.
pub fn iso(ms: i64, tz: &TimeZone) -> String {
    let mut out = Vec::with_capacity(32);
    clock::push_rfc3339(&mut out, &Clock::new(tz.clone()).civil(ms));
    String::from_utf8(out).unwrap_or_default()
}

/// `ms` for reading in text reports: `2010-11-09 14:20:53.999` in UTC, with the offset in any
/// other zone (`2010-11-07 01:00:00.000-04:00`), so the two 01:00 hours of a DST change differ.
/// The text is also a time `-t` accepts.
pub fn text(ms: i64, tz: &TimeZone) -> String {
    let c = Clock::new(tz.clone()).civil(ms);
    let mut out = Vec::with_capacity(32);
    clock::push_rfc3339(&mut out, &c);
    if c.zulu {
        out.pop();
    }
    if let Some(t) = out.iter().position(|&b| b == b'T') {
        out[t] = b' ';
    }
    String::from_utf8(out).unwrap_or_default()
}

/// A short label for a plot's axis: `11-07 01:00` (`date`), `01:00`, or `01:00:30` (`seconds`).
pub fn short(ms: i64, tz: &TimeZone, date: bool, seconds: bool) -> String {
    let c = Clock::new(tz.clone()).civil(ms);
    let mut s = String::with_capacity(14);
    if date {
        s.push_str(&format!("{:02}-{:02} ", c.month, c.day));
    }
    s.push_str(&format!("{:02}:{:02}", c.hour, c.minute));
    if seconds {
        s.push_str(&format!(":{:02}", c.second));
    }
    s
}

/// Seconds since local midnight of a time in `tz` (the filter's `time` primitive, as flow-tools'
/// localtime()) (UTC for times outside the calendar).
pub fn time_of_day(ms: i64, tz: &TimeZone) -> u32 {
    let secs = ms.div_euclid(1000);
    let offset = Timestamp::from_second(secs)
        .map(|t| tz.to_offset(t).seconds() as i64)
        .unwrap_or(0);
    (secs + offset).rem_euclid(86_400) as u32
}

/// Times of day ([`time_of_day`]) for a column of times (the filter's `time` primitive): one offset for the block when the zone does not change offset
/// within it (the usual case), else one lookup per flow.
pub fn times_of_day(times: &[i64], tz: &TimeZone) -> Vec<u32> {
    let (Some(&min), Some(&max)) = (times.iter().min(), times.iter().max()) else {
        return Vec::new();
    };
    let constant = (|| {
        let lo = Timestamp::from_second(min.div_euclid(1000)).ok()?;
        let hi = Timestamp::from_second(max.div_euclid(1000)).ok()?;
        let off = tz.to_offset(lo).seconds() as i64;
        match tz.following(lo).next() {
            Some(t) if t.timestamp() <= hi => None,
            _ => Some(off),
        }
    })();
    match constant {
        Some(off) => times
            .iter()
            .map(|&ms| (ms.div_euclid(1000) + off).rem_euclid(86_400) as u32)
            .collect(),
        None => times.iter().map(|&ms| time_of_day(ms, tz)).collect(),
    }
}
