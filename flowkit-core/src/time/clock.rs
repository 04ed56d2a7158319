//! Civil times for printing, fast: the zone's offset is looked up once per stretch between two
//! of its transitions and the calendar date once per day, so a flow costs a few integer divisions.
//!
//! The zone rules (tzdb, POSIX TZ strings) are jiff's; only the caching is ours. This is the
//! formatter behind every civil time flowkit prints ([`super::iso`] and [`super::text`] too).

use jiff::{tz::TimeZone, Timestamp};

/// A broken-down civil time (no allocation, no zone name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// Year (jiff's range, -9999..=9999).
    pub year: i16,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of month, 1..=31.
    pub day: u8,
    /// Hour, 0..=23.
    pub hour: u8,
    /// Minute, 0..=59.
    pub minute: u8,
    /// Second, 0..=59.
    pub second: u8,
    /// Millisecond, 0..=999.
    pub millis: u16,
    /// Offset from UTC in seconds.
    pub offset_secs: i32,
    /// The zone is UTC itself ([`super::is_utc`]): written `Z`, not `+00:00`.
    pub zulu: bool,
}

/// Converts UTC milliseconds to civil times in one zone, caching offsets and dates.
#[derive(Clone, Debug)]
pub struct Clock {
    tz: TimeZone,
    zulu: bool,
    /// UTC seconds `[lo, hi)` over which `offset` holds.
    lo: i64,
    hi: i64,
    offset: i32,
    /// The local day number (days since 1970-01-01) whose date is cached.
    day: i64,
    date: (i16, u8, u8),
}

impl Clock {
    /// A clock printing in `tz`.
    pub fn new(tz: TimeZone) -> Clock {
        Clock {
            zulu: super::is_utc(&tz),
            tz,
            lo: 0,
            hi: 0,
            offset: 0,
            day: i64::MIN,
            date: (1970, 1, 1),
        }
    }

    /// The zone this clock prints in.
    pub fn zone(&self) -> &TimeZone {
        &self.tz
    }

    #[inline]
    fn offset_at(&mut self, secs: i64) -> i32 {
        if secs >= self.lo && secs < self.hi {
            return self.offset;
        }
        let clamped = secs.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second() - 1);
        let ts = Timestamp::from_second(clamped).unwrap_or(Timestamp::UNIX_EPOCH);
        self.offset = self.tz.to_offset(ts).seconds();
        let after = Timestamp::from_second(clamped + 1).unwrap_or(ts);
        self.lo = match self.tz.preceding(after).next() {
            Some(t) => t.timestamp().as_second(),
            None => i64::MIN,
        };
        self.hi = match self.tz.following(ts).next() {
            Some(t) => t.timestamp().as_second(),
            None => i64::MAX,
        };
        if self.lo > secs || self.hi <= secs {
            // Outside jiff's range: do not cache.
            self.lo = 0;
            self.hi = 0;
        }
        self.offset
    }

    #[inline]
    fn date_of(&mut self, day: i64) -> (i16, u8, u8) {
        if day != self.day {
            let secs = day.saturating_mul(86_400).clamp(
                Timestamp::MIN.as_second(),
                Timestamp::MAX.as_second() - 86_400,
            );
            let d = Timestamp::from_second(secs)
                .unwrap_or(Timestamp::UNIX_EPOCH)
                .to_zoned(TimeZone::UTC)
                .date();
            self.day = day;
            self.date = (d.year(), d.month() as u8, d.day() as u8);
        }
        self.date
    }

    /// The civil time of `ms` (UTC milliseconds since the epoch).
    #[inline]
    pub fn civil(&mut self, ms: i64) -> Civil {
        let secs = ms.div_euclid(1000);
        let millis = ms.rem_euclid(1000) as u16;
        let offset = self.offset_at(secs);
        let local = secs.saturating_add(offset as i64);
        let day = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400) as u32;
        let (year, month, d) = self.date_of(day);
        Civil {
            year,
            month,
            day: d,
            hour: (sod / 3600) as u8,
            minute: (sod / 60 % 60) as u8,
            second: (sod % 60) as u8,
            millis,
            offset_secs: offset,
            zulu: self.zulu,
        }
    }
}

/// Two ASCII digits of `v` (0..=99).
#[inline]
pub(crate) fn two(v: u8) -> [u8; 2] {
    [b'0' + v / 10 % 10, b'0' + v % 10]
}

/// Three ASCII digits of `v` (0..=999).
#[inline]
pub(crate) fn three(v: u16) -> [u8; 3] {
    [
        b'0' + (v / 100 % 10) as u8,
        b'0' + (v / 10 % 10) as u8,
        b'0' + (v % 10) as u8,
    ]
}

/// Appends flow-tools' `MMDD.HH:MM:SS.mmm` (no year).
#[inline]
pub fn push_mmdd(out: &mut Vec<u8>, c: &Civil) {
    let m = two(c.month);
    let d = two(c.day);
    let h = two(c.hour);
    let mi = two(c.minute);
    let s = two(c.second);
    let ms = three(c.millis);
    out.extend_from_slice(&[
        m[0], m[1], d[0], d[1], b'.', h[0], h[1], b':', mi[0], mi[1], b':', s[0], s[1], b'.',
        ms[0], ms[1], ms[2],
    ]);
}

/// Appends RFC 3339 with milliseconds and the offset (`Z` only when the zone is UTC itself):
/// `2010-11-09T14:20:01.250Z`, `2010-11-09T09:20:01.250-05:00`, `2010-11-09T14:20:01.250+00:00`
/// (Europe/London in winter).
#[inline]
pub fn push_rfc3339(out: &mut Vec<u8>, c: &Civil) {
    let y = c.year;
    if (0..=9999).contains(&y) {
        let y = y as u16;
        out.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
        ]);
    } else {
        // RFC 3339 has no negative years; ISO 8601's expanded form keeps the text parseable.
        out.push(if y < 0 { b'-' } else { b'+' });
        let a = y.unsigned_abs();
        out.extend_from_slice(&[
            b'0',
            b'0',
            b'0' + (a / 1000 % 10) as u8,
            b'0' + (a / 100 % 10) as u8,
            b'0' + (a / 10 % 10) as u8,
            b'0' + (a % 10) as u8,
        ]);
    }
    let m = two(c.month);
    let d = two(c.day);
    let h = two(c.hour);
    let mi = two(c.minute);
    let s = two(c.second);
    let ms = three(c.millis);
    out.extend_from_slice(&[
        b'-', m[0], m[1], b'-', d[0], d[1], b'T', h[0], h[1], b':', mi[0], mi[1], b':', s[0], s[1],
        b'.', ms[0], ms[1], ms[2],
    ]);
    if c.zulu {
        out.push(b'Z');
    } else {
        let o = c.offset_secs.unsigned_abs();
        let oh = two((o / 3600).min(99) as u8);
        let om = two((o / 60 % 60) as u8);
        out.push(if c.offset_secs < 0 { b'-' } else { b'+' });
        out.extend_from_slice(&[oh[0], oh[1], b':', om[0], om[1]]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jiff_civil(ms: i64, tz: &TimeZone) -> Civil {
        let z = Timestamp::from_millisecond(ms)
            .unwrap()
            .to_zoned(tz.clone());
        Civil {
            year: z.year(),
            month: z.month() as u8,
            day: z.day() as u8,
            hour: z.hour() as u8,
            minute: z.minute() as u8,
            second: z.second() as u8,
            millis: z.millisecond() as u16,
            offset_secs: z.offset().seconds(),
            zulu: crate::time::is_utc(tz),
        }
    }

    #[test]
    fn cached_conversion_agrees_with_jiff_across_dst_changes() {
        let zones = [
            TimeZone::UTC,
            TimeZone::get("America/New_York").unwrap(),
            TimeZone::get("Australia/Lord_Howe").unwrap(), // 30-minute DST
            TimeZone::get("America/Sao_Paulo").unwrap(),
            TimeZone::fixed(jiff::tz::offset(-3)),
        ];
        // Every 17 minutes and 3 ms over two years, forwards then backwards (cache hits and misses).
        let start = 1_262_304_000_000i64; // 2010-01-01
        let step = 17 * 60_000 + 3;
        let times: Vec<i64> = (0..62_000).map(|i| start + i * step).collect();
        for tz in &zones {
            let mut clock = Clock::new(tz.clone());
            for &t in times.iter().chain(times.iter().rev()) {
                assert_eq!(clock.civil(t), jiff_civil(t, tz), "{t} in {tz:?}");
            }
        }
    }

    #[test]
    fn text_forms() {
        let mut clock = Clock::new(TimeZone::UTC);
        let c = clock.civil(1_289_312_401_250); // 2010-11-09 14:20:01.250 UTC
        let mut out = Vec::new();
        push_mmdd(&mut out, &c);
        out.push(b' ');
        push_rfc3339(&mut out, &c);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1109.14:20:01.250 2010-11-09T14:20:01.250Z"
        );
        let mut ny = Clock::new(TimeZone::get("America/New_York").unwrap());
        let mut out = Vec::new();
        push_rfc3339(&mut out, &ny.civil(1_289_312_401_250));
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "2010-11-09T09:20:01.250-05:00");
        assert_eq!(
            text.parse::<Timestamp>().unwrap().as_millisecond(),
            1_289_312_401_250
        );
    }

    #[test]
    fn times_before_the_epoch_and_far_away_do_not_panic() {
        let mut clock = Clock::new(TimeZone::get("Europe/Berlin").unwrap());
        let mut out = Vec::new();
        for ms in [
            -1,
            i64::MIN,
            i64::MAX,
            -62_000_000_000_000,
            253_402_300_800_000,
        ] {
            let c = clock.civil(ms);
            push_rfc3339(&mut out, &c);
            push_mmdd(&mut out, &c);
        }
        assert_eq!(clock.civil(-1).year, 1970);
        assert_eq!(clock.civil(-1).millis, 999);
    }
}
