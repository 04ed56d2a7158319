//! Ad-hoc filter expressions in nfdump's syntax (`-e 'src net 10.0.0.0/8 and dst port 22'`),
//! compiled into the same tests as filter files ([`CompiledFilter`]).
//!
//! ```
//! use flowkit_core::filter::expr::Expression;
//! let e = Expression::parse("proto tcp and (dst port 22 or dst port 2222)").unwrap();
//! let filter = e.compile();
//! # let _ = filter;
//! let err = Expression::parse("dst prot 22").unwrap_err();
//! assert!(err.to_string().starts_with("unknown word `prot` at column 5; did you mean `port`?"));
//! ```
//!
//! Modules: [`lex`] (words and signs with their byte spans), `parse` (nfdump's grammar →
//! [`Node`]), `build` ([`Node`] → tests, with ORs and NOTs inside ANDs as nested filters), [`sql`] ([`Node`] →
//! one SQL boolean expression over the Parquet export, `--sql`).
//! What each word means, and where flowkit differs from nfdump 1.7, is in
//! docs/filter-language.md ("Expressions").

mod build;
pub(crate) use build::all_of;
pub mod lex;
mod parse;
pub mod sql;
mod words;

use super::ast::Span;
use super::eval::{derived, unsampled, DerivedKind};
use super::CompiledFilter;
use crate::model::record::FlowRecord;
use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;

/// A parsed expression: its text and its tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Expression {
    /// The text as given (errors and names quote it).
    pub text: String,
    /// The tree.
    pub root: Node,
}

/// A node of an expression's tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// `any`: every flow.
    Any,
    /// One test of one field.
    Leaf(Leaf),
    /// Every child holds.
    And(Vec<Node>),
    /// At least one child holds.
    Or(Vec<Node>),
    /// The child does not hold.
    Not(Box<Node>),
}

/// A number a flow carries or nfdump derives from it, as expressions name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumField {
    /// IP protocol (`proto`).
    Protocol,
    /// Type of service (`tos`).
    Tos,
    /// TCP flags (`flags N`).
    TcpFlags,
    /// Source port.
    SrcPort,
    /// Destination port.
    DstPort,
    /// Source AS.
    SrcAs,
    /// Destination AS.
    DstAs,
    /// Input interface (`in if`).
    InputIf,
    /// Output interface (`out if`).
    OutputIf,
    /// Source prefix length (`src mask`).
    SrcMask,
    /// Destination prefix length (`dst mask`).
    DstMask,
    /// Exporter engine type.
    EngineType,
    /// Exporter engine id.
    EngineId,
    /// Packets, sampling undone (`packets`, `in packets`).
    Packets,
    /// Octets, sampling undone (`bytes`, `in bytes`).
    Octets,
    /// A biflow's reverse packets, sampling undone (`out packets`).
    RevPackets,
    /// A biflow's reverse octets, sampling undone (`out bytes`).
    RevOctets,
    /// Duration in milliseconds, as nfdump computes it (`end - start` unsigned: huge when the
    /// end precedes the start).
    DurationMs,
    /// Packets per second, in whole numbers as nfdump computes them.
    Pps,
    /// Bits per second, in whole numbers as nfdump computes them.
    Bps,
    /// Bytes per packet, in whole numbers as nfdump computes them.
    Bpp,
    /// Source port after NAPT (`src xport`, `src nport`).
    XlateSrcPort,
    /// Destination port after NAPT (`dst xport`, `dst nport`).
    XlateDstPort,
    /// VLAN id on the way in (`src vlan`).
    SrcVlan,
    /// VLAN id on the way out (`dst vlan`).
    DstVlan,
    /// Source MAC address as its 48-bit value (`src mac`).
    SrcMac,
    /// Destination MAC address (`dst mac`).
    DstMac,
    /// The label (20 bits) of the top MPLS stack entry (`mpls label1`).
    MplsLabel1,
    /// The label of the second entry (`mpls label2`).
    MplsLabel2,
    /// The label of the third entry (`mpls label3`).
    MplsLabel3,
    /// The application id, packed as the archive keeps it (`app 13..443`).
    AppId,
}

/// Ranges of MPLS labels as ranges of the stored 24-bit entries (`label << 4 | exp << 1 |
/// bos`): label `a..=b` is entry `a * 16 ..= b * 16 + 15`, whatever the other bits.
pub(crate) fn mpls_entry_ranges(ranges: &[(u64, u64)]) -> Vec<(u64, u64)> {
    ranges.iter().map(|&(a, b)| (a << 4, b << 4 | 15)).collect()
}

impl NumField {
    /// The largest value the field can have.
    pub fn max(self) -> u64 {
        use NumField::*;
        match self {
            Protocol | Tos | TcpFlags | SrcMask | DstMask | EngineType | EngineId => 255,
            SrcPort | DstPort | XlateSrcPort | XlateDstPort | SrcVlan | DstVlan => 65_535,
            SrcAs | DstAs | InputIf | OutputIf => u32::MAX as u64,
            SrcMac | DstMac => (1 << 48) - 1,
            MplsLabel1 | MplsLabel2 | MplsLabel3 => (1 << 20) - 1,
            _ => u64::MAX,
        }
    }

    /// The field's value in flow `r`.
    pub fn value(self, r: &FlowRecord) -> u64 {
        use NumField::*;
        let s = r.sampling_interval;
        let (packets, octets) = (unsampled(r.packets, s), unsampled(r.octets, s));
        let derive = |kind| derived(kind, packets, octets, r.start_ms, r.end_ms);
        match self {
            Protocol => r.protocol.into(),
            Tos => r.tos.into(),
            TcpFlags => r.tcp_flags.into(),
            SrcPort => r.src_port.into(),
            DstPort => r.dst_port.into(),
            SrcAs => r.src_as.into(),
            DstAs => r.dst_as.into(),
            InputIf => r.input_if.into(),
            OutputIf => r.output_if.into(),
            SrcMask => r.src_mask.into(),
            DstMask => r.dst_mask.into(),
            EngineType => r.engine_type.into(),
            EngineId => r.engine_id.into(),
            Packets => packets,
            Octets => octets,
            RevPackets => unsampled(r.rev_packets, s),
            RevOctets => unsampled(r.rev_octets, s),
            DurationMs => derive(DerivedKind::Duration),
            Pps => derive(DerivedKind::Pps),
            Bps => derive(DerivedKind::Bps),
            Bpp => derive(DerivedKind::Bpp),
            XlateSrcPort => r.xlate_src_port.into(),
            XlateDstPort => r.xlate_dst_port.into(),
            SrcVlan => r.src_vlan.into(),
            DstVlan => r.dst_vlan.into(),
            SrcMac => r.src_mac,
            DstMac => r.dst_mac,
            MplsLabel1 => crate::model::l2::mpls_label(r.mpls_label1).into(),
            MplsLabel2 => crate::model::l2::mpls_label(r.mpls_label2).into(),
            MplsLabel3 => crate::model::l2::mpls_label(r.mpls_label3).into(),
            AppId => r.app_id,
        }
    }
}

/// An address a flow carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrField {
    /// Source address.
    Src,
    /// Destination address.
    Dst,
    /// Next-hop router (`next ip`).
    NextHop,
    /// The exporter (`router ip`).
    Exporter,
    /// Source address after NAT (`src xip`, `src nip`).
    XlateSrc,
    /// Destination address after NAT (`dst xip`, `dst nip`).
    XlateDst,
}

impl AddrField {
    /// The field's value in flow `r`.
    pub fn value(self, r: &FlowRecord) -> IpAddr {
        match self {
            AddrField::Src => r.src_addr,
            AddrField::Dst => r.dst_addr,
            AddrField::NextHop => r.next_hop,
            AddrField::Exporter => r.exporter,
            AddrField::XlateSrc => r.xlate_src_addr,
            AddrField::XlateDst => r.xlate_dst_addr,
        }
    }
}

/// One test of one field.
#[derive(Clone, Debug, PartialEq)]
pub enum Leaf {
    /// The field's value lies in one of these inclusive ranges.
    Number {
        /// The field.
        field: NumField,
        /// Sorted inclusive ranges.
        ranges: Vec<(u64, u64)>,
    },
    /// The address lies in one of these networks (hosts are /32 or /128).
    Addr {
        /// The field.
        field: AddrField,
        /// The networks.
        nets: Vec<IpNet>,
    },
    /// An IPv6 flow (`ipv6`, `true`) or an IPv4 one (`ipv4`, `false`), by its source address.
    Family {
        /// IPv6 wanted.
        v6: bool,
    },
    /// Every one of these TCP flags is set (`flags SA`).
    FlagsAll(u8),
    /// The flow's Community ID (seed 0) is this one (`community-id 1:...`): both directions of
    /// a connection, as Zeek and Suricata log it ([`crate::enrich::community`]).
    CommunityId(String),
}

impl Leaf {
    /// Whether flow `r` passes the test (the reference the compiled tests are checked against).
    pub fn matches(&self, r: &FlowRecord) -> bool {
        match self {
            Leaf::Number { field, ranges } => {
                let v = field.value(r);
                ranges.iter().any(|&(a, b)| a <= v && v <= b)
            }
            Leaf::Addr { field, nets } => {
                let a = field.value(r);
                nets.iter().any(|n| n.contains(&a))
            }
            Leaf::Family { v6 } => r.src_addr.is_ipv6() == *v6,
            Leaf::FlagsAll(m) => r.tcp_flags & m == *m,
            Leaf::CommunityId(id) => {
                use crate::enrich::community::{community_id, FiveTuple, DEFAULT_SEED};
                community_id(&FiveTuple::from(r), DEFAULT_SEED).as_deref() == Some(id.as_str())
            }
        }
    }
}

impl Node {
    /// Whether flow `r` passes, evaluated record by record (the reference for the compiled form).
    pub fn matches(&self, r: &FlowRecord) -> bool {
        match self {
            Node::Any => true,
            Node::Leaf(l) => l.matches(r),
            Node::And(c) => c.iter().all(|n| n.matches(r)),
            Node::Or(c) => c.iter().any(|n| n.matches(r)),
            Node::Not(c) => !c.matches(r),
        }
    }
}

impl Expression {
    /// Parses an expression in nfdump's filter syntax; an error names the column.
    pub fn parse(text: &str) -> Result<Expression, ExprError> {
        Expression::parse_with(text, None)
    }

    /// Parses an expression whose `[src|dst] geo CC` (or `country`) terms become the networks
    /// the country database `geo` places in those countries (without one they are errors).
    pub fn parse_with(
        text: &str,
        geo: Option<&crate::enrich::GeoIp>,
    ) -> Result<Expression, ExprError> {
        Expression::parse_using(text, Lookups { geo, ifnames: None })
    }

    /// Parses an expression whose terms that need outside data look it up in `lookups`:
    /// `geo CC` in the country database, `[in|out] if name X` in the interface names (each
    /// without its data is an error).
    pub fn parse_using(text: &str, lookups: Lookups<'_>) -> Result<Expression, ExprError> {
        Ok(Expression {
            text: text.to_string(),
            root: parse::parse(text, lookups.geo, lookups.ifnames)?,
        })
    }

    /// Compiles the expression to column tests, named `-e 'TEXT'` in messages.
    pub fn compile(&self) -> CompiledFilter {
        build::compile(&self.root, format!("-e '{}'", self.text))
    }
}

/// The outside data some terms are resolved against while parsing.
#[derive(Clone, Copy, Default)]
pub struct Lookups<'a> {
    /// The country database `[src|dst] geo CC` looks networks up in (`--geoip`).
    pub geo: Option<&'a crate::enrich::GeoIp>,
    /// The interface names `[in|out] if name X` looks interfaces up in (`--ifnames`).
    pub ifnames: Option<&'a crate::enrich::IfNames>,
}

/// An expression that cannot be parsed: what is wrong and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    /// The expression.
    pub text: String,
    /// The bytes at fault.
    pub span: Span,
    /// What is wrong (`unknown word `prot``).
    pub message: String,
    /// A suggestion after the column (`; did you mean `port`?`), or empty.
    pub hint: String,
}

impl ExprError {
    /// The 1-based column (in characters) of the first byte at fault.
    pub fn column(&self) -> usize {
        let at = self.span.start.min(self.text.len());
        self.text[..at].chars().count() + 1
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let col = self.column();
        let width = self.text
            [self.span.start.min(self.text.len())..self.span.end.min(self.text.len())]
            .chars()
            .count()
            .max(1);
        write!(
            f,
            "{} at column {col}{}\n  {}\n  {}{}",
            self.message,
            self.hint,
            self.text,
            " ".repeat(col - 1),
            "^".repeat(width)
        )
    }
}

impl std::error::Error for ExprError {}

#[cfg(test)]
mod tests;
