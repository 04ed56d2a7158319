//! Suppress lists, as flow-dscan has them: flows from listed sources or to listed destinations
//! (optionally only of one protocol and ports) are ignored by the detectors.
//!
//! A line of a suppress file: `src|dst ADDRESS[/LEN] [PROTOCOL|- [SRCPORT|- [DSTPORT|-]]]`;
//! `#` starts a comment. Lists are short (known scanners, resolvers, bastions), so entries are
//! tested one by one; a prefix trie (as the filter uses) would pay off only past hundreds.

use crate::model::block::{ColumnId, ColumnSet, FlowBlock};
use ipnet::IpNet;
use std::net::IpAddr;

/// A suppress list that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{origin}:{line}: {what}")]
pub struct SuppressError {
    origin: String,
    line: usize,
    what: String,
}

#[derive(Clone, Debug)]
struct Rule {
    net: IpNet,
    protocol: Option<u8>,
    src_port: Option<u16>,
    dst_port: Option<u16>,
}

impl Rule {
    fn matches(&self, addr: IpAddr, b: &FlowBlock<'_>, i: usize) -> bool {
        self.net.contains(&addr)
            && self.protocol.is_none_or(|p| b.protocol[i] == p)
            && self.src_port.is_none_or(|p| b.src_port[i] == p)
            && self.dst_port.is_none_or(|p| b.dst_port[i] == p)
    }

    fn needs_ports(&self) -> bool {
        self.protocol.is_some() || self.src_port.is_some() || self.dst_port.is_some()
    }
}

/// Sources and destinations whose flows the detectors ignore.
#[derive(Clone, Debug, Default)]
pub struct Suppress {
    src: Vec<Rule>,
    dst: Vec<Rule>,
}

fn parse_net(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
        .map(|n| n.trunc())
}

impl Suppress {
    /// True when nothing is suppressed.
    pub fn is_empty(&self) -> bool {
        self.src.is_empty() && self.dst.is_empty()
    }

    /// Ignores every flow from `prefix` (an address or ADDRESS/LEN).
    pub fn add_src(&mut self, prefix: &str) -> Result<(), SuppressError> {
        self.add_line(&format!("src {prefix}"), "--suppress-src", 1)
    }

    /// Ignores every flow to `prefix`.
    pub fn add_dst(&mut self, prefix: &str) -> Result<(), SuppressError> {
        self.add_line(&format!("dst {prefix}"), "--suppress-dst", 1)
    }

    /// Adds the lines of a suppress file.
    pub fn add_file(&mut self, text: &str, origin: &str) -> Result<(), SuppressError> {
        for (n, line) in text.lines().enumerate() {
            self.add_line(line, origin, n + 1)?;
        }
        Ok(())
    }

    fn add_line(&mut self, line: &str, origin: &str, n: usize) -> Result<(), SuppressError> {
        let err = |what: String| SuppressError {
            origin: origin.to_string(),
            line: n,
            what,
        };
        let text = line.split('#').next().unwrap_or("");
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.is_empty() {
            return Ok(());
        }
        if words.len() < 2 || words.len() > 5 {
            return Err(err(format!(
                "{:?}: expected `src|dst ADDRESS[/LEN] [PROTOCOL|- [SRCPORT|- [DSTPORT|-]]]`",
                text.trim()
            )));
        }
        let net = parse_net(words[1])
            .ok_or_else(|| err(format!("{:?} is not an address or prefix", words[1])))?;
        let field = |k: usize| words.get(k).copied().filter(|w| *w != "-");
        let protocol = match field(2) {
            None => None,
            Some(w) => Some(
                w.parse::<u8>()
                    .ok()
                    .or_else(|| crate::model::names::protocol_number(w))
                    .ok_or_else(|| err(format!("{w:?} is not a protocol")))?,
            ),
        };
        let port = |k: usize| -> Result<Option<u16>, SuppressError> {
            field(k)
                .map(|w| {
                    w.parse::<u16>()
                        .map_err(|_| err(format!("{w:?} is not a port")))
                })
                .transpose()
        };
        let rule = Rule {
            net,
            protocol,
            src_port: port(3)?,
            dst_port: port(4)?,
        };
        match words[0] {
            "src" => self.src.push(rule),
            "dst" => self.dst.push(rule),
            w => return Err(err(format!("{w:?}: a line starts with src or dst"))),
        }
        Ok(())
    }

    /// The columns the lists test.
    pub fn columns(&self) -> ColumnSet {
        if self.is_empty() {
            return ColumnSet::EMPTY;
        }
        let mut set = ColumnSet::of(&[ColumnId::SrcAddr, ColumnId::DstAddr]);
        if self.src.iter().chain(&self.dst).any(Rule::needs_ports) {
            set = set
                .with(ColumnId::Protocol)
                .with(ColumnId::SrcPort)
                .with(ColumnId::DstPort);
        }
        set
    }

    /// True when row `i` of `b` is suppressed.
    pub fn suppressed(&self, b: &FlowBlock<'_>, i: usize) -> bool {
        (!self.src.is_empty() && {
            let a = b.src_addr.get(i);
            self.src.iter().any(|r| r.matches(a, b, i))
        }) || (!self.dst.is_empty() && {
            let a = b.dst_addr.get(i);
            self.dst.iter().any(|r| r.matches(a, b, i))
        })
    }

    /// Sets the suppressed rows of `rows` to false; returns how many it changed.
    pub fn clear_suppressed(&self, b: &FlowBlock<'_>, rows: &mut [bool]) -> usize {
        if self.is_empty() {
            return 0;
        }
        let mut n = 0;
        for (i, keep) in rows.iter_mut().enumerate() {
            if *keep && self.suppressed(b, i) {
                *keep = false;
                n += 1;
            }
        }
        n
    }
}
