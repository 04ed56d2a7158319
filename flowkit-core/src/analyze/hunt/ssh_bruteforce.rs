//! `ssh-bruteforce`: many short SSH connections (login attempts).
//!
//! From the SSH connection table ([`SshTable`]) this finds:
//! - `source`: a source with at least `min_attempts` attempts (per target and overall);
//! - `spray`: the same when its attempts went to at least `min_targets` targets (one source
//!   against many);
//! - `distributed`: a target that at least `min_sources` sources without a session on it tried
//!   at least `min_source_attempts` times each (many against one), with
//!   the sessions it accepted from the first attempt on;
//! - `success`: a session (real data) from a source after at least `min_attempts_before_success`
//!   of its attempts against the same target: a likely successful guess.

use super::ssh::{ConnClass, ConnKey, SshConfig, SshTable};
use super::{human, key_addr, utc, AddrKey, Detector, EvidenceBin, FastMap, FastSet, Finding};
use crate::model::block::{ColumnSet, FlowBlock};
use serde_json::{json, Map, Value};

/// Settings of the detector.
#[derive(Clone, Debug)]
pub struct BruteForceConfig {
    /// What a login attempt and a session are.
    pub ssh: SshConfig,
    /// Attempts from one source that make it a brute-forcer (default 5, fail2ban's maxretry).
    pub min_attempts: u64,
    /// Distinct targets that make a source a sprayer (default 5).
    pub min_targets: usize,
    /// Distinct sources (without a session on the target) that make attempts on it a
    /// distributed attack (default 20).
    pub min_sources: usize,
    /// Attempts a source must make on a target to count towards `min_sources` (default 2: a
    /// popular server sees many one-off short connections; guessers come back).
    pub min_source_attempts: u64,
    /// Attempts against a target before a session that make it a likely success (default 3).
    pub min_attempts_before_success: u64,
    /// Evidence flows shown per finding.
    pub max_evidence: usize,
}

impl Default for BruteForceConfig {
    fn default() -> Self {
        BruteForceConfig {
            ssh: SshConfig::default(),
            min_attempts: 5,
            min_targets: 5,
            min_sources: 20,
            min_source_attempts: 2,
            min_attempts_before_success: 3,
            max_evidence: 20,
        }
    }
}

/// Attempts of one side against the other: count, first and last start.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    attempts: u64,
    first: i64,
    last: i64,
}

impl Tally {
    fn add(&mut self, t: i64) {
        if self.attempts == 0 {
            self.first = t;
            self.last = t;
        }
        self.attempts += 1;
        self.first = self.first.min(t);
        self.last = self.last.max(t);
    }
}

#[derive(Default)]
struct Side {
    total: Tally,
    /// The other side → attempts with it.
    peers: FastMap<AddrKey, Tally>,
}

/// What the second pass collects evidence for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// Attempts from this source.
    Source,
    /// Attempts on this target, and the sessions it accepted.
    Target,
    /// Attempts from the source on the target, and the session.
    Success,
}

struct Pending {
    want: Want,
    kind: &'static str,
    subject: AddrKey,
    peer: Option<AddrKey>,
    score: f64,
    first: i64,
    last: i64,
    summary: String,
    facts: Map<String, Value>,
    evidence: EvidenceBin,
    /// For `Success`: the session.
    session: Option<ConnKey>,
}

/// The detector (see the module docs).
pub struct SshBruteForce {
    cfg: BruteForceConfig,
    table: SshTable,
    pending: Vec<Pending>,
    by_source: FastMap<AddrKey, usize>,
    by_target: FastMap<AddrKey, usize>,
    by_pair: FastMap<(AddrKey, AddrKey), Vec<usize>>,
    /// (client, server) pairs with a session.
    users: FastSet<(AddrKey, AddrKey)>,
}

/// A list of (address, attempts) for the facts, most attempts first.
fn ranked_peers(peers: &FastMap<AddrKey, Tally>, limit: usize) -> Vec<Value> {
    let mut v: Vec<(&AddrKey, &Tally)> = peers.iter().collect();
    v.sort_by(|a, b| {
        b.1.attempts
            .cmp(&a.1.attempts)
            .then(a.1.first.cmp(&b.1.first))
    });
    v.into_iter()
        .take(limit)
        .map(|(a, t)| {
            json!({
                "address": key_addr(*a).to_string(),
                "attempts": t.attempts,
                "first": utc(t.first),
                "last": utc(t.last),
            })
        })
        .collect()
}

/// Addresses listed in the facts of one finding at most.
const MAX_LISTED: usize = 1000;

impl SshBruteForce {
    /// A detector with these settings.
    pub fn new(cfg: BruteForceConfig) -> SshBruteForce {
        SshBruteForce {
            cfg,
            table: SshTable::default(),
            pending: Vec::new(),
            by_source: FastMap::default(),
            by_target: FastMap::default(),
            by_pair: FastMap::default(),
            users: FastSet::default(),
        }
    }

    fn push(&mut self, p: Pending) -> usize {
        self.pending.push(p);
        self.pending.len() - 1
    }
}

impl Detector for SshBruteForce {
    fn name(&self) -> &'static str {
        "ssh-bruteforce"
    }

    fn columns(&self) -> ColumnSet {
        SshConfig::columns()
    }

    fn observe(&mut self, b: &FlowBlock<'_>) {
        self.table.observe(&self.cfg.ssh, b);
    }

    fn plan(&mut self) {
        let cfg = self.cfg.clone();
        let mut sources: FastMap<AddrKey, Side> = FastMap::default();
        let mut targets: FastMap<AddrKey, Side> = FastMap::default();
        let mut sessions: Vec<(ConnKey, i64, i64, u64, u64)> = Vec::new();
        for (k, c) in &self.table.conns {
            match cfg.ssh.classify(c) {
                ConnClass::Attempt => {
                    let s = sources.entry(k.client).or_default();
                    s.total.add(c.start_ms);
                    s.peers.entry(k.server).or_default().add(c.start_ms);
                    let t = targets.entry(k.server).or_default();
                    t.total.add(c.start_ms);
                    t.peers.entry(k.client).or_default().add(c.start_ms);
                }
                ConnClass::Session => {
                    sessions.push((*k, c.start_ms, c.end_ms, c.packets(), c.octets()))
                }
                _ => {}
            }
        }
        sessions.sort_by_key(|s| (s.1, s.0));

        // Sources.
        let mut srcs: Vec<(&AddrKey, &Side)> = sources
            .iter()
            .filter(|(_, s)| s.total.attempts >= cfg.min_attempts)
            .collect();
        srcs.sort_by_key(|(a, _)| **a);
        let mut new = Vec::new();
        for (src, side) in srcs {
            let n = side.total.attempts;
            let targets_n = side.peers.len();
            let spray = targets_n >= cfg.min_targets;
            let mut score = n as f64 / cfg.min_attempts as f64;
            if spray {
                score += targets_n as f64 / cfg.min_targets as f64;
            }
            let top = side
                .peers
                .iter()
                .max_by(|a, b| a.1.attempts.cmp(&b.1.attempts).then(b.0.cmp(a.0)))
                .map(|(a, _)| *a);
            let summary = if targets_n == 1 {
                format!(
                    "{} made {n} SSH login attempts (short connections) against {}.",
                    key_addr(*src),
                    key_addr(top.expect("one target")),
                )
            } else {
                format!(
                    "{} made {n} SSH login attempts against {targets_n} targets{}.",
                    key_addr(*src),
                    if spray {
                        " (one source against many)"
                    } else {
                        ""
                    }
                )
            };
            let mut facts = Map::new();
            facts.insert("attempts".into(), json!(n));
            facts.insert("targets".into(), json!(targets_n));
            facts.insert(
                "by_target".into(),
                Value::Array(ranked_peers(&side.peers, MAX_LISTED)),
            );
            new.push((
                Want::Source,
                Pending {
                    want: Want::Source,
                    kind: if spray { "spray" } else { "source" },
                    subject: *src,
                    peer: if targets_n == 1 { top } else { None },
                    score,
                    first: side.total.first,
                    last: side.total.last,
                    summary,
                    facts,
                    evidence: EvidenceBin::new(cfg.max_evidence),
                    session: None,
                },
            ));
        }

        // Targets. A source that also logged in to the target (a session) is a user who
        // mistyped or ran quick commands, not a guesser; a session after many of its attempts
        // is reported as a `success` below.
        self.users = sessions.iter().map(|s| (s.0.client, s.0.server)).collect();
        let users = &self.users;
        let mut guessed: Vec<(AddrKey, Side, usize)> = targets
            .iter()
            .filter_map(|(tgt, side)| {
                let mut g = Side::default();
                for (src, t) in &side.peers {
                    if !users.contains(&(*src, *tgt)) {
                        g.peers.insert(*src, *t);
                        g.total.attempts += t.attempts;
                        if g.total.attempts == t.attempts {
                            g.total.first = t.first;
                            g.total.last = t.last;
                        }
                        g.total.first = g.total.first.min(t.first);
                        g.total.last = g.total.last.max(t.last);
                    }
                }
                let repeat = g
                    .peers
                    .values()
                    .filter(|t| t.attempts >= cfg.min_source_attempts)
                    .count();
                (repeat >= cfg.min_sources).then_some((*tgt, g, repeat))
            })
            .collect();
        guessed.sort_by_key(|(a, _, _)| *a);
        for (tgt, side, repeat) in &guessed {
            let n_src = side.peers.len();
            let accepted: Vec<&(ConnKey, i64, i64, u64, u64)> = sessions
                .iter()
                .filter(|s| s.0.server == *tgt && s.1 >= side.total.first)
                .collect();
            let mut score = *repeat as f64 / cfg.min_sources as f64;
            if !accepted.is_empty() {
                score += 2.0;
            }
            let mut summary = format!(
                "{} was tried by {n_src} sources ({} SSH login attempts; {repeat} sources came \
                 back {} times or more).",
                key_addr(*tgt),
                side.total.attempts,
                cfg.min_source_attempts,
            );
            if !accepted.is_empty() {
                let who: Vec<String> = accepted
                    .iter()
                    .take(3)
                    .map(|s| {
                        let tried = targets[tgt]
                            .peers
                            .get(&s.0.client)
                            .map_or(0, |t| t.attempts);
                        format!(
                            "{} at {} ({} octets{})",
                            key_addr(s.0.client),
                            utc(s.1),
                            human(s.4),
                            if tried > 0 {
                                format!(", after {tried} of its attempts")
                            } else {
                                String::new()
                            }
                        )
                    })
                    .collect();
                summary.push_str(&format!(
                    " Meanwhile it accepted {} real SSH session{}: {}{}.",
                    accepted.len(),
                    if accepted.len() == 1 { "" } else { "s" },
                    who.join("; "),
                    if accepted.len() > 3 { "; ..." } else { "" }
                ));
            }
            let mut facts = Map::new();
            facts.insert("sources".into(), json!(n_src));
            facts.insert("repeat_sources".into(), json!(repeat));
            facts.insert("attempts".into(), json!(side.total.attempts));
            facts.insert(
                "by_source".into(),
                Value::Array(ranked_peers(&side.peers, MAX_LISTED)),
            );
            let acc: Vec<Value> = accepted
                .iter()
                .map(|s| {
                    json!({
                        "client": key_addr(s.0.client).to_string(),
                        "start": utc(s.1),
                        "end": utc(s.2),
                        "packets": s.3,
                        "octets": s.4,
                    })
                })
                .collect();
            facts.insert("sessions_accepted".into(), Value::Array(acc));
            new.push((
                Want::Target,
                Pending {
                    want: Want::Target,
                    kind: "distributed",
                    subject: *tgt,
                    peer: None,
                    score,
                    first: side.total.first,
                    last: side.total.last,
                    summary,
                    facts,
                    evidence: EvidenceBin::new(cfg.max_evidence),
                    session: None,
                },
            ));
        }

        // Successes: a session after attempts from the same source on the same target.
        let mut attempt_times: FastMap<(AddrKey, AddrKey), Vec<i64>> = sessions
            .iter()
            .filter(|s| {
                sources
                    .get(&s.0.client)
                    .is_some_and(|side| side.peers.contains_key(&s.0.server))
            })
            .map(|s| ((s.0.client, s.0.server), Vec::new()))
            .collect();
        if !attempt_times.is_empty() {
            for (k, c) in &self.table.conns {
                if let Some(v) = attempt_times.get_mut(&(k.client, k.server)) {
                    if cfg.ssh.classify(c) == ConnClass::Attempt {
                        v.push(c.start_ms);
                    }
                }
            }
        }
        for (k, start, end, packets, octets) in &sessions {
            let Some(tally) = sources.get(&k.client).and_then(|s| s.peers.get(&k.server)) else {
                continue;
            };
            let before = attempt_times
                .get(&(k.client, k.server))
                .map_or(0, |v| v.iter().filter(|&&t| t < *start).count())
                as u64;
            if before < cfg.min_attempts_before_success.max(1) {
                continue;
            }
            let mut facts = Map::new();
            facts.insert("attempts_before".into(), json!(before));
            facts.insert("attempts".into(), json!(tally.attempts));
            facts.insert(
                "session".into(),
                json!({
                    "client_port": k.client_port,
                    "server_port": k.server_port,
                    "start": utc(*start),
                    "end": utc(*end),
                    "packets": packets,
                    "octets": octets,
                }),
            );
            new.push((
                Want::Success,
                Pending {
                    want: Want::Success,
                    kind: "success",
                    subject: k.client,
                    peer: Some(k.server),
                    score: 10.0 + (before as f64 / cfg.min_attempts.max(1) as f64).min(10.0),
                    first: tally.first,
                    last: *end,
                    summary: format!(
                        "{} logged in to {} over SSH ({} packets, {} octets) after {before} \
                         short attempts: a likely successful guess.",
                        key_addr(k.client),
                        key_addr(k.server),
                        human(*packets),
                        human(*octets)
                    ),
                    facts,
                    evidence: EvidenceBin::new(cfg.max_evidence),
                    session: Some(*k),
                },
            ));
        }
        for (want, p) in new {
            let (s, peer) = (p.subject, p.peer);
            let idx = self.push(p);
            match want {
                Want::Source => {
                    self.by_source.insert(s, idx);
                }
                Want::Target => {
                    self.by_target.insert(s, idx);
                }
                Want::Success => {
                    self.by_pair
                        .entry((s, peer.expect("success has a target")))
                        .or_default()
                        .push(idx);
                }
            }
        }
    }

    fn collect(&mut self, b: &FlowBlock<'_>) {
        if self.pending.is_empty() {
            return;
        }
        for i in 0..b.len {
            let Some((key, _)) = self.cfg.ssh.conn_of(b, i) else {
                continue;
            };
            let Some(class) = self.table.class_of(&self.cfg.ssh, &key) else {
                continue;
            };
            let role = match class {
                ConnClass::Attempt => "attempt",
                ConnClass::Session => "ssh-session",
                _ => continue,
            };
            if class == ConnClass::Attempt {
                if let Some(&p) = self.by_source.get(&key.client) {
                    self.pending[p].evidence.offer(role, b, i);
                }
            }
            if let Some(&p) = self.by_target.get(&key.server) {
                let pd = &mut self.pending[p];
                if class == ConnClass::Attempt {
                    if !self.users.contains(&(key.client, key.server)) {
                        pd.evidence.offer(role, b, i);
                    }
                } else if b.start_ms[i] >= pd.first {
                    pd.evidence.pin(role, b, i);
                }
            }
            if let Some(ps) = self.by_pair.get(&(key.client, key.server)) {
                for &p in ps {
                    let pd = &mut self.pending[p];
                    debug_assert_eq!(pd.want, Want::Success);
                    if class == ConnClass::Attempt {
                        pd.evidence.offer(role, b, i);
                    } else if pd.session == Some(key) {
                        pd.evidence.pin(role, b, i);
                    }
                }
            }
        }
    }

    fn findings(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.pending)
            .into_iter()
            .map(|p| {
                let (evidence, omitted) = p.evidence.into_sorted();
                Finding {
                    rank: 0,
                    detector: "ssh-bruteforce",
                    kind: p.kind,
                    score: p.score,
                    subject: key_addr(p.subject),
                    peer: p.peer.map(key_addr),
                    first_ms: p.first,
                    last_ms: p.last,
                    summary: p.summary,
                    facts: p.facts,
                    evidence,
                    evidence_omitted: omitted,
                }
            })
            .collect()
    }
}
