//! NAT attribution: which connections of a NAT gateway's log used a public address and port
//! (or an inside host) around a time, ranked by how well their lifetime fits that time.
//!
//! A public port is reused: one internal host holds it now, another one a minute later. Clocks
//! disagree: the gateway's log, the server's log and the complaint may be seconds or minutes
//! apart. So a query has a time, a window around it, and a shift applied to the log's times
//! first; every connection alive in the window is a candidate, ranked first by its distance
//! from the time (0 when alive at it), then by how much of the window it covers, then by start.

use super::conntrack::Connection;
use crate::model::block::FlowBlock;
use std::net::IpAddr;

/// Which side of the translation a query names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The public (post-source-NAT) address and port: who was behind it?
    Public,
    /// The internal host (and port): which public mappings did it use?
    Inside,
}

/// What to look for in a NAT log.
#[derive(Clone, Copy, Debug)]
pub struct NatQuery {
    /// The side `addr` and `port` name.
    pub side: Side,
    /// The address.
    pub addr: IpAddr,
    /// The port, if known.
    pub port: Option<u16>,
    /// Only this protocol (a public port number is reused across protocols).
    pub protocol: Option<u8>,
    /// The time asked about (UTC ms), if any.
    pub at_ms: Option<i64>,
    /// How far either side of `at_ms` a connection may lie and still be a candidate, ms.
    pub window_ms: i64,
    /// Added to the log's times first, ms: the log's clock was this far behind.
    pub shift_ms: i64,
}

/// A connection that fits a query, with its times shifted.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The connection, `start_ms`/`end_ms` already shifted.
    pub conn: Connection,
    /// How far its lifetime lies from the time asked about, ms: 0 when alive at it, negative
    /// when it ended before, positive when it started after (0 without a time).
    pub offset_ms: i64,
    /// How much of the window `[at - window, at + window]` its lifetime covers, ms (0 without
    /// a time, or with an open end).
    pub overlap_ms: i64,
}

impl NatQuery {
    /// The candidate `c` makes for this query, if it is one.
    pub fn candidate(&self, c: &Connection) -> Option<Candidate> {
        let (addr, port) = match self.side {
            Side::Public => (c.reply_dst, c.reply_dport),
            Side::Inside => (c.orig_src, c.orig_sport),
        };
        if addr != self.addr || self.port.is_some_and(|p| p != port) {
            return None;
        }
        if self.protocol.is_some_and(|p| p != c.protocol) {
            return None;
        }
        let mut conn = c.clone();
        conn.start_ms = conn.start_ms.map(|t| t.saturating_add(self.shift_ms));
        conn.end_ms = conn.end_ms.map(|t| t.saturating_add(self.shift_ms));
        let Some(at) = self.at_ms else {
            return Some(Candidate {
                conn,
                offset_ms: 0,
                overlap_ms: 0,
            });
        };
        // Unknown ends are open: a NEW never destroyed in the log may still be alive.
        let start = conn.start_ms.or(conn.end_ms).unwrap_or(i64::MIN);
        let end = conn.end_ms.unwrap_or(i64::MAX).max(start);
        let offset_ms = if end < at {
            end - at
        } else if start > at {
            start - at
        } else {
            0
        };
        if offset_ms.unsigned_abs() > self.window_ms.unsigned_abs() {
            return None;
        }
        let (lo, hi) = (at - self.window_ms, at + self.window_ms);
        let overlap_ms = (end.min(hi) - start.max(lo)).max(0);
        Some(Candidate {
            conn,
            offset_ms,
            overlap_ms,
        })
    }
}

impl NatQuery {
    /// Appends the candidates among the flows of `b` (archived conntrack connections, or NAT
    /// flows of an IPFIX/NSEL exporter): each flow is the connection
    /// [`Connection::from_record`] makes of it. Only flows whose address on the asked side is
    /// `addr` are materialised, so a scan of a day's archive costs an address compare a flow.
    pub fn block_candidates(&self, b: &FlowBlock<'_>, out: &mut Vec<Candidate>) {
        for i in 0..b.len {
            let side = match self.side {
                Side::Public => match b.xlate_src_addr.get(i) {
                    a if a.is_unspecified() => b.src_addr.get(i),
                    a => a,
                },
                Side::Inside => b.src_addr.get(i),
            };
            if side != self.addr {
                continue;
            }
            out.extend(self.candidate(&Connection::from_record(&b.get(i))));
        }
    }
}

/// Orders candidates best first: nearest the time, then covering more of the window, then the
/// earlier start, then the kernel's id.
pub fn rank(candidates: &mut [Candidate]) {
    candidates.sort_by(|a, b| {
        (a.offset_ms.unsigned_abs().cmp(&b.offset_ms.unsigned_abs()))
            .then(b.overlap_ms.cmp(&a.overlap_ms))
            .then(a.conn.start_ms.cmp(&b.conn.start_ms))
            .then(a.conn.id.cmp(&b.conn.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(id: u32, inside: &str, port: u16, start: i64, end: Option<i64>) -> Connection {
        Connection {
            id,
            protocol: 6,
            orig_src: inside.parse().unwrap(),
            orig_dst: "203.0.113.80".parse().unwrap(),
            orig_sport: port,
            orig_dport: 443,
            reply_src: "203.0.113.80".parse().unwrap(),
            reply_dst: "198.51.100.7".parse().unwrap(),
            reply_sport: 443,
            reply_dport: 40000,
            orig_packets: 1,
            orig_octets: 60,
            reply_packets: 1,
            reply_octets: 60,
            start_ms: Some(start),
            end_ms: end,
        }
    }

    fn query(at: i64, window: i64, shift: i64) -> NatQuery {
        NatQuery {
            side: Side::Public,
            addr: "198.51.100.7".parse().unwrap(),
            port: Some(40000),
            protocol: Some(6),
            at_ms: Some(at),
            window_ms: window,
            shift_ms: shift,
        }
    }

    /// Public port 40000 held by .5 from 0 to 100 s, by .6 from 130 to 200 s, by .7 from
    /// 500 s on (never destroyed in the log).
    fn log() -> Vec<Connection> {
        vec![
            conn(1, "10.0.0.5", 5555, 0, Some(100_000)),
            conn(2, "10.0.0.6", 6666, 130_000, Some(200_000)),
            conn(3, "10.0.0.7", 7777, 500_000, None),
        ]
    }

    fn ids(q: &NatQuery) -> Vec<(u32, i64)> {
        let mut v: Vec<Candidate> = log().iter().filter_map(|c| q.candidate(c)).collect();
        rank(&mut v);
        v.iter().map(|c| (c.conn.id, c.offset_ms)).collect()
    }

    #[test]
    fn the_holder_at_the_time_comes_first_and_the_window_widens() {
        assert_eq!(ids(&query(50_000, 0, 0)), vec![(1, 0)]);
        // Between two holders: none exactly, both within a minute, the nearer first.
        assert_eq!(ids(&query(120_000, 0, 0)), vec![]);
        assert_eq!(
            ids(&query(120_000, 60_000, 0)),
            vec![(2, 10_000), (1, -20_000)]
        );
        // An open end is alive from its start on.
        assert_eq!(ids(&query(10_000_000, 0, 0)), vec![(3, 0)]);
    }

    #[test]
    fn a_shift_moves_the_log_not_the_question() {
        // The log's clock was 40 s behind: at 135 s (true time) the log said 95 s, so .5 held
        // it then (its shifted lifetime is 40..140 s); unshifted, .6 would be named.
        assert_eq!(ids(&query(135_000, 0, 40_000)), vec![(1, 0)]);
        assert_eq!(ids(&query(135_000, 0, 0)), vec![(2, 0)]);
    }

    #[test]
    fn inside_queries_list_the_mappings_of_a_host() {
        let q = NatQuery {
            side: Side::Inside,
            addr: "10.0.0.6".parse().unwrap(),
            port: None,
            at_ms: None,
            ..query(0, 0, 0)
        };
        assert_eq!(ids(&q), vec![(2, 0)]);
        let q = NatQuery { port: Some(1), ..q };
        assert_eq!(ids(&q), vec![]);
    }
}
