//! nfdump's filter grammar (1.7, `grammar.y`) read by recursive descent: `or` binds loosest,
//! then `and`, then `not`; a term starts with a keyword, optionally after a direction (`src`,
//! `dst`, `src or dst`, `src and dst`, `in`, `out`).
//!
//! Hand-written rather than a pest grammar: the language is a handful of keyword-led terms whose
//! next word decides everything, and each mistake gets its own message at its own column
//! (`unknown word `prot` at column 5; did you mean `port`?`), which a generated parser's
//! "expected one of ..." cannot say as well.

use super::lex::{tokens, Tok, Token};
use super::words::{KEYWORDS, NOT_CARRIED, SUBJECTS};
use super::{AddrField, ExprError, Leaf, Node, NumField};
use crate::enrich::{GeoIp, IfNames};
use crate::filter::ast::{Op, Span};
use crate::filter::error::did_you_mean;
use crate::filter::intervals::op_ranges;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr};

mod ifname;
mod terms;

/// Which end(s) of the flow a term names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    /// No direction written.
    Unspec,
    Src,
    Dst,
    /// `src or dst`.
    Either,
    /// `src and dst`.
    Both,
    In,
    Out,
}

impl Dir {
    fn word(self) -> &'static str {
        match self {
            Dir::Unspec => "",
            Dir::Src => "src",
            Dir::Dst => "dst",
            Dir::Either => "src or dst",
            Dir::Both => "src and dst",
            Dir::In => "in",
            Dir::Out => "out",
        }
    }
}

/// Parses a whole expression; `geo` answers `geo`/`country` terms and `ifnames` `if name`
/// terms (without them those terms are errors).
pub(crate) fn parse(
    text: &str,
    geo: Option<&GeoIp>,
    ifnames: Option<&IfNames>,
) -> Result<Node, ExprError> {
    let mut p = Parser {
        text,
        toks: tokens(text)?,
        pos: 0,
        depth: 0,
        geo,
        ifnames,
    };
    if p.toks.is_empty() {
        return Err(p.error(
            Span::new(0, text.len()),
            "an empty expression",
            "; write `any` to pass every flow",
        ));
    }
    let root = p.or()?;
    if let Some(t) = p.toks.get(p.pos) {
        let msg = match t.tok {
            Tok::Close => "a `)` without its `(`",
            _ => "expected `and` or `or` before this",
        };
        return Err(p.error(t.span, msg, ""));
    }
    Ok(root)
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<Token>,
    pos: usize,
    /// `not`s and `(`s open around the current place.
    depth: usize,
    /// The country database `geo CC` looks networks up in.
    geo: Option<&'a GeoIp>,
    /// The interface names `if name X` looks interfaces up in.
    ifnames: Option<&'a IfNames>,
}

/// Most `not`s and parentheses nested in one another (deeper would only exhaust the stack).
const MAX_DEPTH: usize = 200;

/// A leaf node.
fn leaf(l: Leaf) -> Node {
    Node::Leaf(l)
}

/// `field` in the ranges `op n` selects.
fn compare(field: NumField, op: Op, n: u64) -> Node {
    let ranges = op_ranges(op, n as u128, field.max() as u128)
        .into_iter()
        .map(|(a, b)| (a as u64, b as u64))
        .collect();
    leaf(Leaf::Number { field, ranges })
}

/// `field` equal to one of `values`.
fn one_of(field: NumField, values: &[u64]) -> Node {
    let mut ranges: Vec<(u64, u64)> = values.iter().map(|&v| (v, v)).collect();
    ranges.sort_unstable();
    ranges.dedup();
    leaf(Leaf::Number { field, ranges })
}

/// A number as nfdump's scanner reads one: decimal with an optional `k m g t` (powers of 1000),
/// or hexadecimal after `0x`.
fn number(word: &str) -> Option<u64> {
    if let Some(hex) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok();
    }
    let (digits, scale) = match word.char_indices().last()? {
        (i, c) if c.is_ascii_digit() => (&word[..=i], 1u64),
        (i, c) => {
            let scale = match c.to_ascii_lowercase() {
                'k' => 1_000,
                'm' => 1_000_000,
                'g' => 1_000_000_000,
                't' => 1_000_000_000_000,
                _ => return None,
            };
            (&word[..i], scale)
        }
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(scale)
}

/// An IPv4 address written with fewer than four parts (`10`, `172.16`), as nfdump's `net`
/// takes them; the missing parts are 0. `None` when not such an address.
fn partial_v4(word: &str) -> Option<(Ipv4Addr, u64)> {
    let parts: Vec<&str> = word.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut b = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        b[i] = p.parse().ok()?;
    }
    Some((Ipv4Addr::from(b), (parts.len() * 8) as u64))
}

impl Parser<'_> {
    fn error(&self, span: Span, message: &str, hint: &str) -> ExprError {
        ExprError {
            text: self.text.to_string(),
            span,
            message: message.to_string(),
            hint: hint.to_string(),
        }
    }

    /// Where the expression ends (for "expected ... at the end").
    fn end_span(&self) -> Span {
        Span::new(self.text.len(), self.text.len())
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    /// The lowercased word at `pos + ahead`, if that token is a word.
    fn peek_word(&self, ahead: usize) -> Option<String> {
        match self.toks.get(self.pos + ahead) {
            Some(Token {
                tok: Tok::Word(w), ..
            }) => Some(w.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.peek_word(0).as_deref() == Some(word) {
            self.pos += 1;
            return true;
        }
        false
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek() == Some(tok) {
            self.pos += 1;
            return true;
        }
        false
    }

    /// The next token, which must be a word: as written, and its span.
    fn word(&mut self, what: &str) -> Result<(String, Span), ExprError> {
        match self.toks.get(self.pos) {
            Some(Token {
                tok: Tok::Word(w),
                span,
            }) => {
                self.pos += 1;
                Ok((w.clone(), *span))
            }
            Some(t) => Err(self.error(t.span, &format!("expected {what}"), "")),
            None => Err(self.error(self.end_span(), &format!("expected {what} at the end"), "")),
        }
    }

    fn or(&mut self) -> Result<Node, ExprError> {
        let mut v = vec![self.and()?];
        while self.eat(&Tok::Or) || self.eat_word("or") {
            v.push(self.and()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Node::Or(v)
        })
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        let mut v = vec![self.unary()?];
        while self.eat(&Tok::And) || self.eat_word("and") {
            v.push(self.unary()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Node::And(v)
        })
    }

    fn unary(&mut self) -> Result<Node, ExprError> {
        if self.depth >= MAX_DEPTH {
            let at = self.toks.get(self.pos).map_or(self.end_span(), |t| t.span);
            return Err(self.error(
                at,
                &format!("more than {MAX_DEPTH} `not`s and parentheses nested"),
                "",
            ));
        }
        self.depth += 1;
        let node = self.unary_inner();
        self.depth -= 1;
        node
    }

    fn unary_inner(&mut self) -> Result<Node, ExprError> {
        if self.eat(&Tok::Not) || self.eat_word("not") {
            return Ok(Node::Not(Box::new(self.unary()?)));
        }
        if let Some(Token {
            tok: Tok::Open,
            span,
        }) = self.toks.get(self.pos).cloned()
        {
            self.pos += 1;
            let inner = self.or()?;
            if !self.eat(&Tok::Close) {
                let hint = match self.toks.get(self.pos) {
                    Some(t) => {
                        let col = self.text[..t.span.start].chars().count() + 1;
                        format!("; expected `)`, `and` or `or` at column {col}")
                    }
                    None => "; expected `)` at the end".to_string(),
                };
                return Err(self.error(span, "a `(` without its `)`", &hint));
            }
            return Ok(inner);
        }
        self.term()
    }

    /// An error for a word that cannot stand here: one flowkit cannot evaluate, or an unknown
    /// one (with the nearest of the words that can: after a direction, only its subjects).
    fn unknown(&self, word: &str, span: Span, after_direction: bool) -> ExprError {
        let lower = word.to_ascii_lowercase();
        if let Some((_, what)) = NOT_CARRIED.iter().find(|(w, _)| *w == lower) {
            return self.error(
                span,
                &format!("`{word}` is not available"),
                &format!("; flowkit records do not carry {what}"),
            );
        }
        let words = if after_direction { SUBJECTS } else { KEYWORDS };
        self.error(
            span,
            &format!("unknown word `{word}`"),
            &did_you_mean(&lower, words.iter().copied()),
        )
    }

    /// An optional comparison (`=`, `==`, `eq`, `<`, `lt`, `>`, `gt`, `<=`, `le`, `>=`, `ge`);
    /// none means equal.
    fn comparison(&mut self) -> Op {
        if let Some(Tok::Cmp(op)) = self.peek() {
            let op = *op;
            self.pos += 1;
            return op;
        }
        let op = match self.peek_word(0).as_deref() {
            Some("eq") => Op::Eq,
            Some("lt") => Op::Lt,
            Some("gt") => Op::Gt,
            Some("le") => Op::Le,
            Some("ge") => Op::Ge,
            _ => return Op::Eq,
        };
        self.pos += 1;
        op
    }

    /// A number no larger than `max` (`what` names it in messages).
    fn number(&mut self, what: &str, max: u64) -> Result<u64, ExprError> {
        let (w, span) = self.word(&format!("a number ({what})"))?;
        let n = number(&w).ok_or_else(|| {
            self.error(
                span,
                &format!("expected a number ({what}), found `{w}`"),
                "",
            )
        })?;
        if n > max {
            return Err(self.error(span, &format!("{what} {n} is above {max}"), ""));
        }
        Ok(n)
    }

    /// `[COMP] NUMBER` over `field`.
    fn compared(&mut self, field: NumField, what: &str) -> Result<Node, ExprError> {
        let op = self.comparison();
        let n = self.number(what, field.max())?;
        Ok(compare(field, op, n))
    }

    /// `[ N N, N ... ]`
    fn number_list(&mut self, what: &str, max: u64) -> Result<Vec<u64>, ExprError> {
        self.list_open()?;
        let mut v = Vec::new();
        while !self.eat(&Tok::ListClose) {
            if self.eat(&Tok::Comma) {
                continue;
            }
            v.push(self.number(what, max)?);
        }
        Ok(v)
    }

    fn list_open(&mut self) -> Result<(), ExprError> {
        if self.eat(&Tok::ListOpen) {
            return Ok(());
        }
        let at = self.toks.get(self.pos).map_or(self.end_span(), |t| t.span);
        Err(self.error(at, "expected `[` to start a list", ""))
    }

    /// An address, or with `net` a network: `A`, `A/N`, or (IPv4, `net` only) `A MASK`.
    fn network(&mut self, net: bool) -> Result<IpNet, ExprError> {
        let (w, span) = self.word("an IP address")?;
        let full: Option<IpAddr> = w.parse().ok();
        let (addr, written_bits) = match (full, net) {
            (Some(a), _) => (a, if a.is_ipv4() { 32 } else { 128 }),
            (None, true) => match partial_v4(&w) {
                Some((a, bits)) => (IpAddr::V4(a), bits),
                None => return Err(self.not_an_address(&w, span)),
            },
            (None, false) => return Err(self.not_an_address(&w, span)),
        };
        let max: u64 = if addr.is_ipv4() { 32 } else { 128 };
        let len = if self.eat(&Tok::Slash) {
            let n = self.number("prefix length", max)?;
            if n > written_bits {
                return Err(self.error(
                    span,
                    &format!("`{w}` gives {written_bits} bits, fewer than the prefix length {n}"),
                    "",
                ));
            }
            n as u8
        } else if let (true, IpAddr::V4(_), Some(Ok(IpAddr::V4(m)))) =
            (net, addr, self.peek_word(0).map(|m| m.parse::<IpAddr>()))
        {
            let bits = u32::from(m);
            if bits.leading_ones() + bits.trailing_zeros() != 32 {
                let span = self.toks[self.pos].span;
                return Err(self.error(
                    span,
                    &format!("the mask {m} is not a prefix (its one bits are not contiguous)"),
                    "",
                ));
            }
            self.pos += 1;
            bits.leading_ones() as u8
        } else if net && written_bits < max {
            return Err(self.error(
                span,
                &format!("`{w}` needs a prefix length (`{w}/{written_bits}`)"),
                "",
            ));
        } else {
            max as u8
        };
        Ok(IpNet::new(addr, len)
            .expect("length checked against the family")
            .trunc())
    }

    fn not_an_address(&self, w: &str, span: Span) -> ExprError {
        let hint = if w.chars().any(|c| c.is_ascii_alphabetic()) && !w.contains(':') {
            "; flowkit does not look up host names"
        } else {
            ""
        };
        self.error(span, &format!("`{w}` is not an IP address"), hint)
    }

    /// `CC` or `in [CC CC ...]` after `geo`: the networks of those countries in the database.
    fn country_networks(&mut self, span: Span) -> Result<Vec<IpNet>, ExprError> {
        let Some(geo) = self.geo else {
            return Err(self.error(
                span,
                "`geo` needs a country database",
                "; give --geoip FILE.mmdb (a GeoIP2/GeoLite2 Country or City database)",
            ));
        };
        let mut codes = Vec::new();
        let mut code = |p: &mut Self, w: String, at: Span| match w.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                codes.push([a.to_ascii_uppercase(), b.to_ascii_uppercase()]);
                Ok(())
            }
            _ => Err(p.error(
                at,
                &format!("`{w}` is not a country code"),
                "; use ISO 3166 two-letter codes such as DE or BR",
            )),
        };
        if self.eat_word("in") {
            self.list_open()?;
            while !self.eat(&Tok::ListClose) {
                if self.eat(&Tok::Comma) {
                    continue;
                }
                let (w, at) = self.word("a country code or `]`")?;
                code(self, w, at)?;
            }
        } else {
            let (w, at) = self.word("a country code such as DE")?;
            code(self, w, at)?;
        }
        geo.country_networks(&codes)
            .map_err(|e| self.error(span, &e.to_string(), ""))
    }

    /// `[ A A/N, ... ]`
    fn network_list(&mut self) -> Result<Vec<IpNet>, ExprError> {
        self.list_open()?;
        let mut v = Vec::new();
        while !self.eat(&Tok::ListClose) {
            if self.eat(&Tok::Comma) {
                continue;
            }
            v.push(self.network(false)?);
        }
        Ok(v)
    }

    fn term(&mut self) -> Result<Node, ExprError> {
        let (w, span) = self.word("a filter term such as `host 10.0.0.1` or `dst port 22`")?;
        let lower = w.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "any" => Node::Any,
            "ipv4" | "inet" => leaf(Leaf::Family { v6: false }),
            "ipv6" | "inet6" => leaf(Leaf::Family { v6: true }),
            "proto" => {
                let (p, pspan) = self.word("a protocol name or number")?;
                let n = number(&p)
                    .or_else(|| protocol_by_name(&p))
                    .ok_or_else(|| self.error(pspan, &format!("unknown protocol `{p}`"), ""))?;
                if n > 255 {
                    return Err(self.error(pspan, &format!("protocol {n} is above 255"), ""));
                }
                one_of(NumField::Protocol, &[n])
            }
            "flags" => self.flags()?,
            "mpls" => self.mpls()?,
            "app" => self.app()?,
            "community-id" => self.community_id()?,
            "icmp-type" | "icmp-code" => {
                let n = self.number(&lower, 255)?;
                // flowkit keeps ICMP type and code in the destination port: type << 8 | code.
                let ranges = if lower == "icmp-type" {
                    vec![(n << 8, n << 8 | 0xff)]
                } else {
                    (0..=255u64).map(|t| (t << 8 | n, t << 8 | n)).collect()
                };
                Node::And(vec![
                    one_of(NumField::Protocol, &[1, 58]),
                    leaf(Leaf::Number {
                        field: NumField::DstPort,
                        ranges,
                    }),
                ])
            }
            "engine-type" => self.compared(NumField::EngineType, "engine type")?,
            "engine-id" => self.compared(NumField::EngineId, "engine id")?,
            "duration" => self.compared(NumField::DurationMs, "milliseconds")?,
            "pps" => self.compared(NumField::Pps, "packets per second")?,
            "bps" => self.compared(NumField::Bps, "bits per second")?,
            "bpp" => self.compared(NumField::Bpp, "bytes per packet")?,
            "flows" => {
                // Every flowkit record is one flow (nfdump counts aggregated records here).
                let op = self.comparison();
                let n = self.number("flow count", u64::MAX)?;
                if op.holds(1, n) {
                    Node::Any
                } else {
                    Node::Not(Box::new(Node::Any))
                }
            }
            "next" | "router" => {
                let (what, wspan) = self.word("`ip`")?;
                if !what.eq_ignore_ascii_case("ip") {
                    return Err(match (lower.as_str(), what.to_ascii_lowercase().as_str()) {
                        ("next", "as") => self.error(
                            wspan,
                            "`next as` is not available",
                            "; flowkit records do not carry BGP neighbour ASes",
                        ),
                        _ => self.error(wspan, &format!("expected `ip` after `{w}`"), ""),
                    });
                }
                let field = if lower == "next" {
                    AddrField::NextHop
                } else {
                    AddrField::Exporter
                };
                let nets = if lower == "next" && self.eat_word("in") {
                    self.network_list()?
                } else {
                    vec![self.network(false)?]
                };
                leaf(Leaf::Addr { field, nets })
            }
            "src" | "dst" | "in" | "out" => {
                let joined = matches!(self.peek(), Some(Tok::Or | Tok::And))
                    || matches!(self.peek_word(0).as_deref(), Some("or" | "and"));
                let other = if lower == "src" { "dst" } else { "src" };
                let dir = if matches!(lower.as_str(), "src" | "dst")
                    && joined
                    && self.peek_word(1).as_deref() == Some(other)
                {
                    let either = self.eat(&Tok::Or) || self.eat_word("or");
                    if !either {
                        self.pos += 1; // `and` or `&&`
                    }
                    self.pos += 1; // the other end
                    if either {
                        Dir::Either
                    } else {
                        Dir::Both
                    }
                } else {
                    match lower.as_str() {
                        "src" => Dir::Src,
                        "dst" => Dir::Dst,
                        "in" => Dir::In,
                        _ => Dir::Out,
                    }
                };
                let (s, sspan) = self.word(&format!("what `{}` qualifies", dir.word()))?;
                self.subject(dir, &s, sspan)?
            }
            _ => self.subject(Dir::Unspec, &w, span)?,
        })
    }

    /// The part after a direction: `ip`, `net`, `port`, `as`, `mask`, `if`, `tos`, `packets`,
    /// `bytes`.
    fn subject(&mut self, dir: Dir, word: &str, span: Span) -> Result<Node, ExprError> {
        let lower = word.to_ascii_lowercase();
        let wrong_dir = |p: &Self| {
            p.error(
                span,
                &format!("`{}` does not go with `{lower}`", dir.word()),
                "",
            )
        };
        // A test of the source end, the destination end, or both as the direction says.
        let ends = |p: &Self, src: Node, dst: Node| -> Result<Node, ExprError> {
            Ok(match dir {
                Dir::Src => src,
                Dir::Dst => dst,
                Dir::Unspec | Dir::Either => Node::Or(vec![src, dst]),
                Dir::Both => Node::And(vec![src, dst]),
                Dir::In | Dir::Out => return Err(wrong_dir(p)),
            })
        };
        let addr = |nets: Vec<IpNet>, field| {
            leaf(Leaf::Addr {
                field,
                nets: nets.clone(),
            })
        };
        match lower.as_str() {
            // nfdump's NSEL/NEL words `xip`/`nip`, `xnet` test the address after NAT.
            "ip" | "host" | "net" | "xip" | "nip" | "xnet" => {
                let net = matches!(lower.as_str(), "net" | "xnet");
                let (src, dst) = match lower.as_str() {
                    "xip" | "nip" | "xnet" => (AddrField::XlateSrc, AddrField::XlateDst),
                    _ => (AddrField::Src, AddrField::Dst),
                };
                let nets = if !net && self.eat_word("in") {
                    self.network_list()?
                } else {
                    vec![self.network(net)?]
                };
                ends(self, addr(nets.clone(), src), addr(nets, dst))
            }
            // nfdump's `[src|dst] mac M` (either end without a direction). nfdump 1.7 keeps
            // four MACs (in and out of each end); flowkit one per end, so its `in`/`out`
            // qualifiers are refused rather than read as something they are not.
            "mac" => {
                if matches!(dir, Dir::In | Dir::Out) {
                    return Err(self.error(
                        span,
                        &format!("`{} mac` is not available", dir.word()),
                        "; flowkit keeps one MAC per end (the exporter's in MAC, else its \
                         post one): use `src mac` or `dst mac`",
                    ));
                }
                let (m, mspan) = self.word("a MAC address such as 00:11:22:33:44:55")?;
                let v = crate::model::l2::parse_mac(&m).ok_or_else(|| {
                    self.error(
                        mspan,
                        &format!("`{m}` is not a MAC address (six hex bytes: 00:11:22:33:44:55)"),
                        "",
                    )
                })?;
                ends(
                    self,
                    one_of(NumField::SrcMac, &[v]),
                    one_of(NumField::DstMac, &[v]),
                )
            }
            // nfdump's `[src|dst] vlan N` (either end without a direction).
            "vlan" => {
                let n = self.number("VLAN id", 4095)?;
                ends(
                    self,
                    one_of(NumField::SrcVlan, &[n]),
                    one_of(NumField::DstVlan, &[n]),
                )
            }
            // `xport`/`nport` (nfdump's NSEL/NEL words): the port after NAPT.
            "port" | "as" | "xport" | "nport" => {
                let (src, dst, what, max) = match lower.as_str() {
                    "port" => (NumField::SrcPort, NumField::DstPort, "port", 65_535),
                    "as" => (
                        NumField::SrcAs,
                        NumField::DstAs,
                        "AS number",
                        u32::MAX as u64,
                    ),
                    _ => (
                        NumField::XlateSrcPort,
                        NumField::XlateDstPort,
                        "port",
                        65_535,
                    ),
                };
                if self.eat_word("in") {
                    let list = self.number_list(what, max)?;
                    ends(self, one_of(src, &list), one_of(dst, &list))
                } else {
                    let op = self.comparison();
                    let n = self.number(what, max)?;
                    ends(self, compare(src, op, n), compare(dst, op, n))
                }
            }
            "geo" | "country" => {
                let nets = self.country_networks(span)?;
                ends(
                    self,
                    addr(nets.clone(), AddrField::Src),
                    addr(nets, AddrField::Dst),
                )
            }
            "mask" => {
                let n = self.number("prefix length", 255)?;
                ends(
                    self,
                    one_of(NumField::SrcMask, &[n]),
                    one_of(NumField::DstMask, &[n]),
                )
            }
            "if" if matches!(self.peek_word(0).as_deref(), Some("name" | "desc")) => {
                let what = match self.peek_word(0).as_deref() {
                    Some("name") => ifname::IfText::Name,
                    _ => ifname::IfText::Desc,
                };
                self.pos += 1;
                match dir {
                    Dir::Unspec | Dir::In | Dir::Out => self.if_name(dir, span, what),
                    _ => Err(wrong_dir(self)),
                }
            }
            "if" => {
                let n = self.number("interface index", u32::MAX as u64)?;
                let (i, o) = (
                    one_of(NumField::InputIf, &[n]),
                    one_of(NumField::OutputIf, &[n]),
                );
                Ok(match dir {
                    Dir::Unspec => Node::Or(vec![i, o]),
                    Dir::In => i,
                    Dir::Out => o,
                    _ => return Err(wrong_dir(self)),
                })
            }
            "tos" => match dir {
                Dir::Unspec | Dir::Src => self.compared(NumField::Tos, "ToS"),
                _ => Err(self.error(
                    span,
                    "`dst tos` is not available",
                    "; flowkit records keep one ToS byte, the source's (`tos`)",
                )),
            },
            "packets" | "bytes" => {
                let (fwd, rev) = if lower == "packets" {
                    (NumField::Packets, NumField::RevPackets)
                } else {
                    (NumField::Octets, NumField::RevOctets)
                };
                match dir {
                    Dir::Unspec | Dir::In => self.compared(fwd, &lower),
                    Dir::Out => self.compared(rev, &lower),
                    _ => Err(wrong_dir(self)),
                }
            }
            _ => Err(self.unknown(word, span, dir != Dir::Unspec)),
        }
    }
}

/// A protocol by nfdump's or IANA's name (`tcp`, `udp`, `icmp`, `icmp6`, `ipv6-icmp`, ...).
fn protocol_by_name(name: &str) -> Option<u64> {
    if name.eq_ignore_ascii_case("icmp6") || name.eq_ignore_ascii_case("icmpv6") {
        return Some(58);
    }
    crate::model::names::protocol_number(name).map(u64::from)
}
