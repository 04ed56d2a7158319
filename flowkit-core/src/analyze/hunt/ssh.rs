//! SSH connections rebuilt from unidirectional flows, and what each one was: a probe, a login
//! attempt, or a session that moved real data. Shared by `irc-after-ssh` and `ssh-bruteforce`.
//!
//! A TCP flow to an SSH port is the client→server half of a connection; a flow from an SSH
//! port is the server→client half. Both halves (and the pieces an exporter's active timeout cut
//! a long connection into) add up under one key: server, client, server port, client port.
//! An RFC 5103 biflow carries both halves in one record: its reverse counters go to the other
//! half. Sampled flows count their packets and octets times the sampling interval unless
//! `raw_counts` ([`crate::model::counts`]) for the data a connection moved; whether the client sent
//! enough packets for a login attempt is judged on the exported packets (a sampled one-packet
//! SYN is not a ten-packet attempt).

use super::{addr_key, proto, AddrKey, ConfigError, FastMap, PortSet};
use crate::model::block::{ColumnId, ColumnSet, FlowBlock};
use crate::model::counts;

/// What makes an SSH connection a login attempt or a real session.
#[derive(Clone, Debug)]
pub struct SshConfig {
    /// The SSH server ports (default 22).
    pub ports: PortSet,
    /// A session moved real data: at least this many packets, both directions together.
    pub session_min_packets: u64,
    /// ... and at least this many octets, both directions together.
    pub session_min_octets: u64,
    /// ... and lasted at least this long (ms).
    pub session_min_duration_ms: i64,
    /// Fewer client→server packets than this (as exported, never scaled by sampling) is a
    /// probe (a scan's SYN), not a login attempt, unless the connection moved a session's data.
    pub attempt_min_packets: u64,
    /// A login attempt is over within this time (ms); longer small connections are neither.
    pub attempt_max_duration_ms: i64,
    /// Packets and octets as exported, not multiplied by the sampling interval.
    pub raw_counts: bool,
}

impl Default for SshConfig {
    fn default() -> Self {
        SshConfig {
            ports: PortSet::parse("22").expect("valid"),
            session_min_packets: 40,
            session_min_octets: 20_000,
            session_min_duration_ms: 5_000,
            attempt_min_packets: 4,
            attempt_max_duration_ms: 60_000,
            raw_counts: false,
        }
    }
}

impl SshConfig {
    /// Checks the thresholds make sense together.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.attempt_min_packets == 0 {
            return Err(ConfigError(
                "the minimum packets of a login attempt must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// The columns [`SshTable::observe`] reads.
    pub fn columns() -> ColumnSet {
        ColumnSet::of(&[
            ColumnId::StartMs,
            ColumnId::EndMs,
            ColumnId::SrcAddr,
            ColumnId::DstAddr,
            ColumnId::SrcPort,
            ColumnId::DstPort,
            ColumnId::Protocol,
        ])
        .union(counts::columns())
    }

    /// The connection row `i` of `b` belongs to, and whether it is the client→server half;
    /// `None` unless it is TCP to or from an SSH port.
    #[inline]
    pub fn conn_of(&self, b: &FlowBlock<'_>, i: usize) -> Option<(ConnKey, bool)> {
        if b.protocol[i] != proto::TCP {
            return None;
        }
        let (sp, dp) = (b.src_port[i], b.dst_port[i]);
        if self.ports.contains(dp) {
            Some((
                ConnKey {
                    server: addr_key(&b.dst_addr, i),
                    client: addr_key(&b.src_addr, i),
                    server_port: dp,
                    client_port: sp,
                },
                true,
            ))
        } else if self.ports.contains(sp) {
            Some((
                ConnKey {
                    server: addr_key(&b.src_addr, i),
                    client: addr_key(&b.dst_addr, i),
                    server_port: sp,
                    client_port: dp,
                },
                false,
            ))
        } else {
            None
        }
    }

    /// What a connection was. Connections without a client→server flow are not judged
    /// ([`ConnClass::Other`]): the client's side tells an attempt from a probe.
    pub fn classify(&self, c: &Conn) -> ConnClass {
        if c.fwd_flows == 0 {
            return ConnClass::Other;
        }
        let duration = c.end_ms - c.start_ms;
        // The data moved (scaled when sampled) makes a session first: a sampled session may
        // have fewer exported client packets than an attempt needs.
        if c.packets() >= self.session_min_packets
            && c.octets() >= self.session_min_octets
            && duration >= self.session_min_duration_ms
        {
            ConnClass::Session
        } else if c.fwd_exported_packets < self.attempt_min_packets {
            ConnClass::Probe
        } else if duration <= self.attempt_max_duration_ms {
            ConnClass::Attempt
        } else {
            ConnClass::Other
        }
    }
}

/// One SSH connection: server, client and their ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnKey {
    /// The SSH server.
    pub server: AddrKey,
    /// The client.
    pub client: AddrKey,
    /// The server's (SSH) port.
    pub server_port: u16,
    /// The client's port.
    pub client_port: u16,
}

/// The totals of one SSH connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct Conn {
    /// First packet seen (UTC ms).
    pub start_ms: i64,
    /// Last packet seen (UTC ms).
    pub end_ms: i64,
    /// Client→server packets (scaled by the sampling interval unless raw counts).
    pub fwd_packets: u64,
    /// Client→server packets as exported, never scaled: what tells a probe from an attempt.
    pub fwd_exported_packets: u64,
    /// Client→server octets.
    pub fwd_octets: u64,
    /// Server→client packets.
    pub rev_packets: u64,
    /// Server→client octets.
    pub rev_octets: u64,
    /// Client→server flow records.
    pub fwd_flows: u32,
    /// Server→client flow records.
    pub rev_flows: u32,
}

impl Conn {
    /// Packets both ways.
    pub fn packets(&self) -> u64 {
        self.fwd_packets + self.rev_packets
    }

    /// Octets both ways.
    pub fn octets(&self) -> u64 {
        self.fwd_octets + self.rev_octets
    }
}

/// What an SSH connection was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnClass {
    /// Too few client packets for a login (a scan's SYN, a refused connection).
    Probe,
    /// A short connection: a login attempt (failed, as a rule).
    Attempt,
    /// A connection that moved real data: someone logged in and worked.
    Session,
    /// Neither (a long idle connection, or only the server's half seen).
    Other,
}

/// Every SSH connection of the flows observed (112 bytes of key and totals each).
#[derive(Default)]
pub struct SshTable {
    /// The connections.
    pub conns: FastMap<ConnKey, Conn>,
}

impl SshTable {
    /// Adds the SSH flows of a block.
    pub fn observe(&mut self, cfg: &SshConfig, b: &FlowBlock<'_>) {
        for i in 0..b.len {
            let Some((key, fwd)) = cfg.conn_of(b, i) else {
                continue;
            };
            let (s, e) = (b.start_ms[i], b.end_ms[i].max(b.start_ms[i]));
            let c = self.conns.entry(key).or_insert(Conn {
                start_ms: s,
                end_ms: e,
                ..Conn::default()
            });
            c.start_ms = c.start_ms.min(s);
            c.end_ms = c.end_ms.max(e);
            let (p, o, rp, ro) = counts::directions(b, i, cfg.raw_counts);
            // A biflow's reverse counters are the other half of the connection.
            let (fp, fo, bp, bo) = if fwd { (p, o, rp, ro) } else { (rp, ro, p, o) };
            c.fwd_exported_packets += if fwd { b.packets[i] } else { b.rev_packets[i] };
            let biflow = rp | ro != 0;
            if fwd || biflow {
                c.fwd_flows += 1;
            }
            if !fwd || biflow {
                c.rev_flows += 1;
            }
            c.fwd_packets += fp;
            c.fwd_octets += fo;
            c.rev_packets += bp;
            c.rev_octets += bo;
        }
    }

    /// The class of a connection, if it was observed.
    pub fn class_of(&self, cfg: &SshConfig, key: &ConnKey) -> Option<ConnClass> {
        self.conns.get(key).map(|c| cfg.classify(c))
    }
}
