//! `irc-after-ssh`: a host accepted an inbound SSH session that moved real data, and soon after
//! opened connections to IRC ports, or to the SSH client itself on ports the two had not used
//! before: the shape of a break-in followed by a bot or a back channel.
//!
//! First pass: the SSH connection table ([`SshTable`]). Plan: the sessions ([`ConnClass::Session`]),
//! grouped by server and client. Second pass: for each group, the server's connections to IRC
//! ports and its connections with the client on other ports that start during a session or up
//! to `window` after it ends. For the latter, the server's own port must be 1024 or above (a
//! connection to a service of the server, such as its DNS or mail, is the client using it), and
//! neither port may have been used by the pair before the first session.

use super::ssh::{Conn, ConnClass, ConnKey, SshConfig, SshTable};
use super::{
    addr_key, endpoint, human, human_ms, key_addr, utc, AddrKey, Detector, Evidence, EvidenceBin,
    FastMap, FastSet, Finding, PortSet,
};
use crate::model::block::{ColumnSet, FlowBlock};
use serde_json::{json, Map, Value};

/// Settings of the detector.
#[derive(Clone, Debug)]
pub struct IrcAfterSshConfig {
    /// What counts as an SSH session that moved real data.
    pub ssh: SshConfig,
    /// IRC ports (default 6660-6669, 6697, 7000).
    pub irc_ports: PortSet,
    /// How long after a session ends a follow-up still counts (ms; default 60 minutes).
    pub window_ms: i64,
    /// Also report connections with the SSH client on new ports (default on).
    pub new_ports: bool,
    /// Evidence flows shown per finding.
    pub max_evidence: usize,
}

impl Default for IrcAfterSshConfig {
    fn default() -> Self {
        IrcAfterSshConfig {
            ssh: SshConfig::default(),
            irc_ports: PortSet::parse("6660-6669,6697,7000").expect("valid"),
            window_ms: 60 * 60_000,
            new_ports: true,
            max_evidence: 20,
        }
    }
}

/// Distinct connections remembered per group (beyond, they are counted in the evidence only).
const MAX_CONNS: usize = 10_000;
/// Ports remembered as used by a pair before its first session.
const MAX_SEEN_PORTS: usize = 4096;

struct Session {
    key: ConnKey,
    conn: Conn,
}

/// Sessions from one client to one server, and what followed.
struct Group {
    host: AddrKey,
    peer: AddrKey,
    sessions: Vec<Session>,
    first_start: i64,
    span: (i64, i64),
    /// Distinct IRC connections: (server, server port, host port) → first start.
    irc: FastMap<(AddrKey, u16, u16), i64>,
    /// Connections with the peer on other ports: (host port, peer port) → first start.
    others: FastMap<(u16, u16), i64>,
    /// Flows of those connections, kept until we know which ports are new.
    other_flows: Vec<(u16, u16, Evidence)>,
    other_total: u64,
    seen_before: FastSet<u16>,
    evidence: EvidenceBin,
    /// End of the last session or follow-up flow.
    last_end: i64,
}

impl Group {
    fn in_window(&self, t: i64, window: i64) -> bool {
        self.sessions
            .iter()
            .any(|s| t >= s.conn.start_ms && t <= s.conn.end_ms + window)
    }
}

/// The detector (see the module docs).
pub struct IrcAfterSsh {
    cfg: IrcAfterSshConfig,
    table: SshTable,
    groups: Vec<Group>,
    by_host: FastMap<AddrKey, Vec<usize>>,
    sessions: FastMap<ConnKey, usize>,
}

impl IrcAfterSsh {
    /// A detector with these settings.
    pub fn new(cfg: IrcAfterSshConfig) -> IrcAfterSsh {
        IrcAfterSsh {
            cfg,
            table: SshTable::default(),
            groups: Vec::new(),
            by_host: FastMap::default(),
            sessions: FastMap::default(),
        }
    }

    fn other_flow(&mut self, g: usize, hport: u16, pport: u16, b: &FlowBlock<'_>, i: usize) {
        let start = b.start_ms[i];
        let window = self.cfg.window_ms;
        let grp = &mut self.groups[g];
        if start < grp.first_start {
            for p in [hport, pport] {
                if grp.seen_before.len() < MAX_SEEN_PORTS {
                    grp.seen_before.insert(p);
                }
            }
        } else if hport >= 1024 && grp.in_window(start, window) {
            // (A connection to a service port of the host is the client using it, not the
            // host reaching out.)
            let key = (hport, pport);
            if grp.others.len() < MAX_CONNS || grp.others.contains_key(&key) {
                let first = grp.others.entry(key).or_insert(start);
                *first = (*first).min(start);
            }
            grp.other_total += 1;
            if grp.other_flows.len() < 4 * self.cfg.max_evidence.max(1) {
                grp.other_flows.push((
                    hport,
                    pport,
                    Evidence {
                        role: "new-port",
                        flow: b.get(i),
                    },
                ));
            }
        }
    }

    fn irc_flow(
        &mut self,
        g: usize,
        server: AddrKey,
        sport: u16,
        hport: u16,
        b: &FlowBlock<'_>,
        i: usize,
    ) {
        let start = b.start_ms[i];
        let grp = &mut self.groups[g];
        if !grp.in_window(start, self.cfg.window_ms) {
            return;
        }
        let key = (server, sport, hport);
        if grp.irc.len() < MAX_CONNS || grp.irc.contains_key(&key) {
            let first = grp.irc.entry(key).or_insert(start);
            *first = (*first).min(start);
        }
        grp.last_end = grp.last_end.max(b.end_ms[i]);
        grp.evidence.pin("irc", b, i);
    }

    fn finding(&self, g: &Group) -> Option<Finding> {
        let cfg = &self.cfg;
        let new_conns: Vec<(&(u16, u16), &i64)> = g
            .others
            .iter()
            .filter(|((h, p), _)| !g.seen_before.contains(h) && !g.seen_before.contains(p))
            .collect();
        if g.irc.is_empty() && new_conns.is_empty() {
            return None;
        }
        let host = key_addr(g.host);
        let peer = key_addr(g.peer);
        let first_follow = g
            .irc
            .values()
            .chain(new_conns.iter().map(|(_, t)| *t))
            .copied()
            .min()
            .unwrap_or(g.first_start);
        // The session the first follow-up came after (or during).
        let led = g
            .sessions
            .iter()
            .filter(|s| s.conn.start_ms <= first_follow)
            .max_by_key(|s| s.conn.start_ms)
            .unwrap_or(&g.sessions[0]);
        let delay = (first_follow - led.conn.end_ms).max(0);
        let irc_from_peer = g.irc.keys().any(|(srv, _, _)| *srv == g.peer);
        let octets: u64 = g.sessions.iter().map(|s| s.conn.octets()).sum();
        let packets: u64 = g.sessions.iter().map(|s| s.conn.packets()).sum();

        let promptness = 2.0 * (1.0 - delay as f64 / cfg.window_ms.max(1) as f64).clamp(0.0, 1.0);
        let size = (octets as f64 / cfg.ssh.session_min_octets.max(1) as f64)
            .log10()
            .clamp(0.0, 1.0);
        let score = 3.0 * g.irc.len().min(3) as f64
            + 2.0 * new_conns.len().min(3) as f64
            + if irc_from_peer { 3.0 } else { 0.0 }
            + promptness
            + size;

        // Words.
        let mut irc_servers: Vec<(AddrKey, u16)> = g.irc.keys().map(|(s, p, _)| (*s, *p)).collect();
        irc_servers.sort();
        irc_servers.dedup();
        let mut new_ports: Vec<u16> = new_conns.iter().map(|((_, p), _)| *p).collect();
        new_ports.sort();
        new_ports.dedup();
        let session_words = if g.sessions.len() == 1 {
            format!(
                "an SSH session from {peer} ({}, {} packets, {} octets)",
                human_ms(led.conn.end_ms - led.conn.start_ms),
                human(packets),
                human(octets)
            )
        } else {
            format!(
                "{} SSH sessions from {peer} ({} packets, {} octets)",
                g.sessions.len(),
                human(packets),
                human(octets)
            )
        };
        let when = if first_follow <= led.conn.end_ms {
            "while it was open".to_string()
        } else {
            format!("{} after it ended", human_ms(delay))
        };
        let mut then = Vec::new();
        if !g.irc.is_empty() {
            let list: Vec<String> = irc_servers
                .iter()
                .take(5)
                .map(|(s, p)| endpoint(key_addr(*s), *p))
                .collect();
            then.push(format!(
                "{} IRC connection{} ({}{})",
                g.irc.len(),
                if g.irc.len() == 1 { "" } else { "s" },
                list.join(", "),
                if irc_servers.len() > 5 { ", ..." } else { "" }
            ));
        }
        if !new_conns.is_empty() {
            let list: Vec<String> = new_ports.iter().take(8).map(|p| p.to_string()).collect();
            then.push(format!(
                "{} connection{} with {peer} on new port{} {}{}",
                new_conns.len(),
                if new_conns.len() == 1 { "" } else { "s" },
                if new_ports.len() == 1 { "" } else { "s" },
                list.join(", "),
                if new_ports.len() > 8 { ", ..." } else { "" }
            ));
        }
        let summary = format!(
            "{host} accepted {session_words}; {when} it had {}.",
            then.join(" and ")
        );

        // Numbers.
        let mut facts = Map::new();
        let sessions: Vec<Value> = g
            .sessions
            .iter()
            .map(|s| {
                json!({
                    "client": key_addr(s.key.client).to_string(),
                    "client_port": s.key.client_port,
                    "server_port": s.key.server_port,
                    "start": utc(s.conn.start_ms),
                    "end": utc(s.conn.end_ms),
                    "duration_s": (s.conn.end_ms - s.conn.start_ms) as f64 / 1000.0,
                    "packets": s.conn.packets(),
                    "octets": s.conn.octets(),
                })
            })
            .collect();
        facts.insert("ssh_sessions".into(), Value::Array(sessions));
        let mut irc: Vec<Value> = Vec::new();
        for (srv, port) in &irc_servers {
            let conns: Vec<&i64> = g
                .irc
                .iter()
                .filter(|((s, p, _), _)| s == srv && p == port)
                .map(|(_, t)| t)
                .collect();
            irc.push(json!({
                "server": key_addr(*srv).to_string(),
                "port": port,
                "connections": conns.len(),
                "first": utc(**conns.iter().min().expect("one at least")),
            }));
        }
        facts.insert("irc".into(), Value::Array(irc));
        facts.insert("new_ports".into(), json!(new_ports));
        facts.insert("new_port_connections".into(), json!(new_conns.len()));
        facts.insert("first_follow_up".into(), json!(utc(first_follow)));
        facts.insert("delay_s".into(), json!(delay as f64 / 1000.0));

        let mut bin = g.evidence.clone();
        let mut last = g.last_end;
        for (h, p, ev) in &g.other_flows {
            if !g.seen_before.contains(h) && !g.seen_before.contains(p) {
                last = last.max(ev.flow.end_ms);
                bin.pin_evidence(ev.clone());
            }
        }
        let unkept = g.other_total - g.other_flows.len() as u64;
        let (evidence, omitted) = bin.into_sorted();
        Some(Finding {
            rank: 0,
            detector: "irc-after-ssh",
            kind: if g.irc.is_empty() {
                "new-ports-after-ssh"
            } else {
                "irc-after-ssh"
            },
            score,
            subject: host,
            peer: Some(peer),
            first_ms: g.first_start,
            last_ms: last,
            summary,
            facts,
            evidence,
            evidence_omitted: omitted + unkept,
        })
    }
}

impl Detector for IrcAfterSsh {
    fn name(&self) -> &'static str {
        "irc-after-ssh"
    }

    fn columns(&self) -> ColumnSet {
        SshConfig::columns()
    }

    fn observe(&mut self, b: &FlowBlock<'_>) {
        self.table.observe(&self.cfg.ssh, b);
    }

    fn plan(&mut self) {
        let mut sessions: Vec<(ConnKey, Conn)> = self
            .table
            .conns
            .iter()
            .filter(|(_, c)| self.cfg.ssh.classify(c) == ConnClass::Session)
            .map(|(k, c)| (*k, *c))
            .collect();
        sessions.sort_by_key(|(k, c)| (k.server, k.client, c.start_ms, *k));
        let mut by_pair: FastMap<(AddrKey, AddrKey), usize> = FastMap::default();
        let window = self.cfg.window_ms;
        for (key, conn) in sessions {
            let g = *by_pair.entry((key.server, key.client)).or_insert_with(|| {
                self.groups.push(Group {
                    host: key.server,
                    peer: key.client,
                    sessions: Vec::new(),
                    first_start: conn.start_ms,
                    span: (conn.start_ms, conn.end_ms),
                    irc: FastMap::default(),
                    others: FastMap::default(),
                    other_flows: Vec::new(),
                    other_total: 0,
                    seen_before: FastSet::default(),
                    evidence: EvidenceBin::new(self.cfg.max_evidence),
                    last_end: conn.end_ms,
                });
                self.groups.len() - 1
            });
            let grp = &mut self.groups[g];
            grp.first_start = grp.first_start.min(conn.start_ms);
            grp.span = (grp.span.0.min(conn.start_ms), grp.span.1.max(conn.end_ms));
            grp.last_end = grp.last_end.max(conn.end_ms);
            grp.sessions.push(Session { key, conn });
            self.sessions.insert(key, g);
        }
        for (g, grp) in self.groups.iter_mut().enumerate() {
            grp.span = (grp.span.0 - window, grp.span.1 + window);
            self.by_host.entry(grp.host).or_default().push(g);
        }
    }

    fn collect(&mut self, b: &FlowBlock<'_>) {
        if self.groups.is_empty() {
            return;
        }
        for i in 0..b.len {
            if let Some((key, _)) = self.cfg.ssh.conn_of(b, i) {
                if let Some(&g) = self.sessions.get(&key) {
                    self.groups[g].evidence.pin("ssh-session", b, i);
                } else if let Some(gs) = self.by_host.get(&key.server) {
                    // Other SSH connections between the pair near the sessions: context.
                    let t = b.start_ms[i];
                    for &g in gs {
                        let grp = &mut self.groups[g];
                        if grp.peer == key.client && t >= grp.span.0 && t <= grp.span.1 {
                            grp.evidence.offer("ssh", b, i);
                        }
                    }
                }
                continue;
            }
            let src = addr_key(&b.src_addr, i);
            let dst = addr_key(&b.dst_addr, i);
            if src == dst {
                continue;
            }
            let (sp, dp) = (b.src_port[i], b.dst_port[i]);
            let (irc_dp, irc_sp) = (
                self.cfg.irc_ports.contains(dp),
                self.cfg.irc_ports.contains(sp),
            );
            if let Some(gs) = self.by_host.get(&src).cloned() {
                for g in gs {
                    if irc_dp {
                        self.irc_flow(g, dst, dp, sp, b, i);
                    } else if self.cfg.new_ports && dst == self.groups[g].peer {
                        self.other_flow(g, sp, dp, b, i);
                    }
                }
            }
            if let Some(gs) = self.by_host.get(&dst).cloned() {
                for g in gs {
                    if irc_sp {
                        self.irc_flow(g, src, sp, dp, b, i);
                    } else if self.cfg.new_ports && src == self.groups[g].peer {
                        self.other_flow(g, dp, sp, b, i);
                    }
                }
            }
        }
    }

    fn findings(&mut self) -> Vec<Finding> {
        self.groups.iter().filter_map(|g| self.finding(g)).collect()
    }
}
