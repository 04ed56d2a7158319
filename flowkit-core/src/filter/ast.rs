//! The parsed filter file: primitives, definitions and their values, with the place each came from.

use super::error::Diagnostic;
use super::timedate::DateSpec;
use std::net::IpAddr;

/// A byte range in the original (unexpanded) filter file text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// What a `permit` or `deny` line (or `default`) says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The flow passes this primitive.
    Permit,
    /// The flow fails this primitive.
    Deny,
}

impl Action {
    /// True for [`Action::Permit`].
    pub fn permits(self) -> bool {
        self == Action::Permit
    }

    /// The opposite action (what `!` does to a listed value).
    pub fn flipped(self) -> Action {
        match self {
            Action::Permit => Action::Deny,
            Action::Deny => Action::Permit,
        }
    }

    /// The keyword.
    pub fn name(self) -> &'static str {
        match self {
            Action::Permit => "permit",
            Action::Deny => "deny",
        }
    }
}

/// The comparison of a `counter`, `double`, `time` or `time-date` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `lt`: less than.
    Lt,
    /// `gt`: greater than.
    Gt,
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `le`: less or equal.
    Le,
    /// `ge`: greater or equal.
    Ge,
}

impl Op {
    /// Parses `lt gt eq ne le ge` (any case).
    pub fn from_keyword(s: &str) -> Option<Op> {
        Some(match s.to_ascii_lowercase().as_str() {
            "lt" => Op::Lt,
            "gt" => Op::Gt,
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "le" => Op::Le,
            "ge" => Op::Ge,
            _ => return None,
        })
    }

    /// The keyword.
    pub fn name(self) -> &'static str {
        match self {
            Op::Lt => "lt",
            Op::Gt => "gt",
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Le => "le",
            Op::Ge => "ge",
        }
    }

    /// Applies the comparison `value OP operand`.
    pub fn holds<T: PartialOrd>(self, value: T, operand: T) -> bool {
        match self {
            Op::Lt => value < operand,
            Op::Gt => value > operand,
            Op::Eq => value == operand,
            Op::Ne => value != operand,
            Op::Le => value <= operand,
            Op::Ge => value >= operand,
        }
    }
}

/// Generates [`PrimitiveKind`] with its keyword table.
macro_rules! primitive_kinds {
    ($(($v:ident, $kw:literal, $doc:literal)),* $(,)?) => {
        /// The `type` of a filter-primitive: decides the syntax of its values and how they match.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum PrimitiveKind {
            $(#[doc = $doc] $v,)*
        }

        impl PrimitiveKind {
            /// Every type, in the order flow-tools documents them.
            pub const ALL: &'static [PrimitiveKind] = &[$(PrimitiveKind::$v,)*];

            /// The keyword used on the `type` line.
            pub fn keyword(self) -> &'static str {
                match self { $(PrimitiveKind::$v => $kw,)* }
            }

            /// The type named by a `type` line (any case).
            pub fn from_keyword(s: &str) -> Option<PrimitiveKind> {
                let s = s.to_ascii_lowercase();
                match s.as_str() { $($kw => Some(PrimitiveKind::$v),)* _ => None }
            }
        }
    };
}

primitive_kinds! {
    (As, "as", "Autonomous system numbers: lists and ranges (`permit 3356,64512-65534`)."),
    (IpProtocol, "ip-protocol", "IP protocol numbers or names (`permit tcp,udp`)."),
    (IpPort, "ip-port", "TCP/UDP ports or service names (`permit 80,443,8000-8099`)."),
    (IpAddressPrefixLen, "ip-address-prefix-len", "Prefix lengths (`permit 24-32`)."),
    (IpTos, "ip-tos", "Type-of-service byte, with an optional `mask`."),
    (IpTcpFlags, "ip-tcp-flags", "TCP flags byte, with an optional `mask`."),
    (IfIndex, "ifindex", "SNMP interface indexes."),
    (Engine, "engine", "Exporter engine type or id (0-255)."),
    (IpAddress, "ip-address", "Single addresses (`permit 10.1.2.3`, `permit 2001:db8::1`)."),
    (IpAddressMask, "ip-address-mask", "Address and mask pairs, first matching line wins (`permit 10.0.0.0 255.0.0.0`)."),
    (IpAddressPrefix, "ip-address-prefix", "Prefixes, longest match wins (`permit 10.0.0.0/8`)."),
    (Tag, "tag", "flow-tools tags (exact values)."),
    (TagMask, "tag-mask", "flow-tools tags under a mask, first matching line wins."),
    (Counter, "counter", "Comparisons with a whole number, first true line wins (`permit gt 1`)."),
    (Double, "double", "Comparisons with a real number, first true line wins (`permit lt 32.5`)."),
    (Time, "time", "Comparisons with a time of day (`permit ge 22:30`)."),
    (TimeDate, "time-date", "Comparisons with a date and time (`permit gt 2010-11-09 14:00`)."),
    (Rate, "rate", "Pass one flow in N (`permit 100`)."),
    (MacAddress, "mac-address", "MAC addresses and ranges of them (`permit 00:11:22:33:44:55`; flowkit extension)."),
    (Application, "application", "Application ids as nfdump prints them, ENGINE..SELECTOR (`permit 13..443`; flowkit extension)."),
}

impl PrimitiveKind {
    /// Whether `permit`/`deny` take a bucket list (`[!]a,b-c`).
    pub fn is_bucket(self) -> bool {
        use PrimitiveKind::*;
        matches!(
            self,
            As | IpProtocol
                | IpPort
                | IpAddressPrefixLen
                | IpTos
                | IpTcpFlags
                | IfIndex
                | Engine
                | MacAddress
                | Application
        )
    }

    /// The largest value a bucket list may name.
    pub fn bucket_max(self) -> u64 {
        use PrimitiveKind::*;
        match self {
            As | IfIndex => u32::MAX as u64,
            MacAddress => (1 << 48) - 1,
            Application => u64::MAX,
            IpPort => u16::MAX as u64,
            IpAddressPrefixLen => 128,
            _ => u8::MAX as u64,
        }
    }

    /// A short example of a value line, for messages and documentation.
    pub fn example(self) -> &'static str {
        use PrimitiveKind::*;
        match self {
            As => "permit 3356,64512-65534",
            IpProtocol => "permit tcp,udp",
            IpPort => "permit 80,443,8000-8099",
            IpAddressPrefixLen => "permit 24-32",
            IpTos => "permit 0x10",
            IpTcpFlags => "permit 0x02",
            IfIndex => "permit 1,5-10",
            Engine => "permit 0",
            IpAddress => "permit 10.1.2.3",
            IpAddressMask => "permit 10.0.0.0 255.0.0.0",
            IpAddressPrefix => "permit 10.0.0.0/8",
            Tag => "permit 0x10",
            TagMask => "permit 0x10 0xff",
            Counter => "permit gt 1",
            Double => "permit lt 32.5",
            Time => "permit ge 22:30",
            TimeDate => "permit gt 2010-11-09 14:00:00",
            Rate => "permit 100",
            MacAddress => "permit 00:11:22:33:44:55",
            Application => "permit 13..443",
        }
    }
}

/// The value of one `permit`/`deny` line, already checked for its primitive's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A bucket list: inclusive ranges; `negate` (a leading `!`) flips the line's action for them.
    Buckets {
        /// The line started with `!`.
        negate: bool,
        /// Inclusive ranges, in the order written.
        ranges: Vec<(u64, u64)>,
    },
    /// One address (`ip-address`).
    Address(IpAddr),
    /// An address under a mask (`ip-address-mask`); `addr` is already masked.
    AddressMask {
        /// Network part (host bits cleared).
        addr: IpAddr,
        /// The mask (same family as `addr`).
        mask: IpAddr,
    },
    /// A prefix (`ip-address-prefix`); host bits are already cleared.
    Prefix(ipnet::IpNet),
    /// One tag (`tag`).
    Tag(u32),
    /// A tag under a mask (`tag-mask`); `tag` is already masked.
    TagMask {
        /// The tag value (bits outside the mask cleared).
        tag: u32,
        /// The mask.
        mask: u32,
    },
    /// A counter comparison.
    Counter(Op, u64),
    /// A real-number comparison.
    Double(Op, f64),
    /// A time-of-day comparison; seconds since midnight.
    TimeOfDay(Op, u32),
    /// A date comparison.
    TimeDate(Op, DateSpec),
    /// A sampling rate (one flow in N).
    Rate(u64),
}

/// One `permit` or `deny` line.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// `permit` or `deny`.
    pub action: Action,
    /// What the line lists.
    pub value: Value,
    /// Where the value is written.
    pub span: Span,
}

/// A variable a primitive or definition needs but that has neither a `-v` value nor a default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingVariable {
    /// The variable's name.
    pub name: String,
    /// Where it is referenced.
    pub span: Span,
}

/// A `filter-primitive` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Primitive {
    /// The name as written (compared without regard to case).
    pub name: String,
    /// Where the name is written on the `filter-primitive` line.
    pub span: Span,
    /// The `type`, once given.
    pub kind: Option<PrimitiveKind>,
    /// Where the type is written.
    pub kind_span: Option<Span>,
    /// What flows listed by no line get (`default`, deny unless changed).
    pub default: Action,
    /// The `mask` of an `ip-tos` or `ip-tcp-flags` primitive (0xff when not given).
    pub mask: u8,
    /// The `permit`/`deny` lines in file order.
    pub entries: Vec<Entry>,
    /// Variables its lines reference without a value; the primitive is unusable until they are given.
    pub missing: Vec<MissingVariable>,
    /// Things that work but probably do not mean what was written (shown when the primitive is used).
    pub warnings: Vec<Diagnostic>,
}

/// Generates [`MatchField`] with its keyword tables.
macro_rules! match_fields {
    ($(($v:ident, [$($kw:literal),+], [$($k:ident),*], $carried:expr, $doc:literal)),* $(,)?) => {
        /// The flow field a `match` line tests.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum MatchField {
            $(#[doc = $doc] $v,)*
        }

        impl MatchField {
            /// Every field, in the order flow-tools documents them.
            pub const ALL: &'static [MatchField] = &[$(MatchField::$v,)*];

            /// The names a `match` line may use: the documented one first, then the aliases.
            pub fn names(self) -> &'static [&'static str] {
                match self { $(MatchField::$v => &[$($kw),+],)* }
            }

            /// The primitive types the field accepts.
            pub fn accepts(self) -> &'static [PrimitiveKind] {
                match self { $(MatchField::$v => &[$(PrimitiveKind::$k),*],)* }
            }

            /// Whether flowkit records carry the field (flow-tools only has some in v7/v8 records).
            pub fn carried(self) -> bool {
                match self { $(MatchField::$v => $carried,)* }
            }
        }
    };
}

match_fields! {
    (SrcAs, ["source-as", "src-as"], [As], true, "Source AS."),
    (DstAs, ["destination-as", "dst-as"], [As], true, "Destination AS."),
    (SrcAddr, ["ip-source-address", "src-ip-addr"], [IpAddress, IpAddressMask, IpAddressPrefix], true, "Source address."),
    (DstAddr, ["ip-destination-address", "dst-ip-addr"], [IpAddress, IpAddressMask, IpAddressPrefix], true, "Destination address."),
    (ExporterAddr, ["ip-exporter-address", "exporter-ip-addr"], [IpAddress, IpAddressMask, IpAddressPrefix], true, "Address of the exporter."),
    (NextHopAddr, ["ip-nexthop-address", "nexthop-ip-addr"], [IpAddress, IpAddressMask, IpAddressPrefix], true, "Next-hop address."),
    (ShortcutAddr, ["ip-shortcut-address", "shortcut-ip-addr"], [IpAddress, IpAddressMask, IpAddressPrefix], false, "Shortcut router address (NetFlow v7 only; not carried)."),
    (Protocol, ["ip-protocol"], [IpProtocol], true, "IP protocol."),
    (SrcPrefixLen, ["ip-source-address-prefix-len", "src-ip-addr-prefix-len"], [IpAddressPrefixLen], true, "Source prefix length."),
    (DstPrefixLen, ["ip-destination-address-prefix-len", "dst-ip-addr-prefix-len"], [IpAddressPrefixLen], true, "Destination prefix length."),
    (Tos, ["ip-tos"], [IpTos], true, "Type of service."),
    (MarkedTos, ["ip-marked-tos"], [IpTos], false, "Marked type of service (NetFlow v8 only; not carried)."),
    (TcpFlags, ["ip-tcp-flags"], [IpTcpFlags], true, "TCP flags."),
    (SrcPort, ["ip-source-port", "src-ip-port"], [IpPort], true, "Source port."),
    (DstPort, ["ip-destination-port", "dst-ip-port"], [IpPort], true, "Destination port."),
    (InputIf, ["input-interface", "src-ifindex"], [IfIndex], true, "Input interface."),
    (OutputIf, ["output-interface", "dst-ifindex"], [IfIndex], true, "Output interface."),
    (EngineId, ["engine-id"], [Engine], true, "Exporter engine id."),
    (EngineType, ["engine-type"], [Engine], true, "Exporter engine type."),
    (Flows, ["flows"], [Counter], false, "Flows in an aggregate (NetFlow v8 only; not carried)."),
    (Octets, ["octets"], [Counter], true, "Octets."),
    (Packets, ["packets"], [Counter], true, "Packets."),
    (ExtraPackets, ["extra-packets"], [Counter], false, "Extra packets (NetFlow v8 only; not carried)."),
    (Duration, ["duration"], [Counter], true, "Duration in milliseconds."),
    (StartTime, ["start-time"], [Time, TimeDate], true, "Time of the first packet."),
    (EndTime, ["end-time"], [Time, TimeDate], true, "Time of the last packet."),
    (SrcTag, ["source-tag", "src-tag"], [Tag, TagMask], true, "Source tag."),
    (DstTag, ["destination-tag", "dst-tag"], [Tag, TagMask], true, "Destination tag."),
    (Pps, ["pps"], [Double], true, "Packets per second."),
    (Bps, ["bps"], [Double], true, "Bits per second."),
    (RandomSample, ["random-sample"], [Rate], true, "No field: samples one flow in N."),
    (XlateSrcAddr, ["ip-xlate-source-address", "xlate-src-ip-addr"], [IpAddress, IpAddressMask, IpAddressPrefix], true, "Source address after NAT (flowkit extension)."),
    (XlateDstAddr, ["ip-xlate-destination-address", "xlate-dst-ip-addr"], [IpAddress, IpAddressMask, IpAddressPrefix], true, "Destination address after NAT (flowkit extension)."),
    (XlateSrcPort, ["ip-xlate-source-port", "xlate-src-ip-port"], [IpPort], true, "Source port after NAPT (flowkit extension)."),
    (XlateDstPort, ["ip-xlate-destination-port", "xlate-dst-ip-port"], [IpPort], true, "Destination port after NAPT (flowkit extension)."),
    (SrcVlan, ["source-vlan", "src-vlan"], [As, IfIndex], true, "VLAN id on the way in, from a number list (flowkit extension)."),
    (DstVlan, ["destination-vlan", "dst-vlan"], [As, IfIndex], true, "VLAN id on the way out, from a number list (flowkit extension)."),
    (EndReason, ["end-reason"], [As, IfIndex, Engine], true, "Why the exporter ended the flow (IPFIX flowEndReason: 1 idle, 2 active timeout, 3 end detected, 4 forced, 5 lack of resources), from a number list (flowkit extension)."),
    (FlowId, ["flow-id"], [Counter], true, "The exporter's flow id (IPFIX flowId, NSEL connection id, conntrack ct.id, EVE flow_id), by comparison (flowkit extension)."),
    (SrcMac, ["source-mac", "src-mac"], [MacAddress], true, "Source MAC address (IPFIX sourceMacAddress 56; EVE's first `ether` source; flowkit extension)."),
    (DstMac, ["destination-mac", "dst-mac"], [MacAddress], true, "Destination MAC address (IPFIX destinationMacAddress 80 / postDestinationMacAddress 57; flowkit extension)."),
    (MplsLabel1, ["mpls-label1", "mpls-top-label"], [As, IfIndex], true, "Label (20 bits) of the top MPLS label stack entry, from a number list (flowkit extension)."),
    (MplsLabel2, ["mpls-label2"], [As, IfIndex], true, "Label of the second MPLS label stack entry (flowkit extension)."),
    (MplsLabel3, ["mpls-label3"], [As, IfIndex], true, "Label of the third MPLS label stack entry (flowkit extension)."),
    (Application, ["application", "app-id"], [Application], true, "Application id (IPFIX applicationId 95, RFC 6759; Cisco NBAR), ENGINE..SELECTOR (flowkit extension)."),
}

impl MatchField {
    /// The field named on a `match` line (any case, documented name or alias).
    pub fn from_keyword(s: &str) -> Option<MatchField> {
        let s = s.to_ascii_lowercase();
        MatchField::ALL
            .iter()
            .copied()
            .find(|f| f.names().contains(&s.as_str()))
    }

    /// The documented name.
    pub fn name(self) -> &'static str {
        self.names()[0]
    }
}

/// One `match FIELD PRIMITIVE` line.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchItem {
    /// The field tested.
    pub field: MatchField,
    /// Where the field name is written.
    pub field_span: Span,
    /// The primitive's name as written.
    pub primitive_name: String,
    /// Where the primitive's name is written.
    pub primitive_span: Span,
    /// Index of the primitive in [`FilterFile::primitives`](super::FilterFile), once resolved.
    pub primitive: usize,
}

/// A `filter-definition` block: an OR of AND-groups of match lines, optionally inverted.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    /// The name as written (compared without regard to case).
    pub name: String,
    /// Where the name is written.
    pub span: Span,
    /// The AND-groups, split by `or`; empty groups are not kept.
    pub groups: Vec<Vec<MatchItem>>,
    /// An `invert` line was given.
    pub invert: bool,
    /// Variables its own lines reference without a value.
    pub missing: Vec<MissingVariable>,
}
