//! `-f 'fmt:%ts %td %pr %sap -> %dap %pkt %byt'`: nfdump 1.7.1's custom output format, printed
//! byte for byte as `nfdump -q -o fmt:...` prints it (with `-N` and `-6` as nfdump's).
//!
//! A format is text with `%` tokens; the text is printed as written. A token is `%` and the
//! letters after it. The tokens of fields are the field table's nfdump names
//! ([`crate::model::fields::FIELDS`]); [`COMPUTED`] adds the ones nfdump computes or spells
//! twice (`%td`, `%bps`, `%sap`, `%ipkt` ...), and [`NOT_CARRIED`] names those that print what
//! flowkit records do not hold (and [`REFUSED`] one nfdump prints wrong), so that they are
//! refused with a reason rather than printed wrong. docs/print-formats.md lists them all.

mod render;
#[cfg(test)]
mod tests;

use super::clock::{Civil, Clock};
use super::{text, PrintError};
use crate::filter::error::nearest;
use crate::model::block::{ColumnId, ColumnSet, FlowBlock};
use crate::model::fields::{Field, FieldValue, FIELDS};
use std::net::IpAddr;

/// A token computed from one or more fields, or another spelling of a field's token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Computed {
    /// `%tfs`: the start time, as `%ts`.
    FirstSeen,
    /// `%tsr`: the start time as seconds since the epoch with milliseconds.
    FirstSeenRaw,
    /// `%td`: end − start as `HH:MM:SS.mmm` (seconds with `-N`).
    Duration,
    /// `%tds`: end − start in seconds.
    DurationSeconds,
    /// `%sap`: source address and port.
    SrcAddrPort,
    /// `%dap`: destination address and port (ICMP type.code).
    DstAddrPort,
    /// `%sn`: source address masked to its prefix length, `/len`.
    SrcNet,
    /// `%dn`: destination network.
    DstNet,
    /// `%it`: ICMP type (0 for other protocols).
    IcmpType,
    /// `%ic`: ICMP code.
    IcmpCode,
    /// `%ipkt`: packets, as `%pkt`.
    InPackets,
    /// `%ibyt`: octets, as `%byt`.
    InBytes,
    /// `%stos`: source ToS, as `%tos` one column wider.
    SrcTos,
    /// `%fl`: flows aggregated in the record, always 1.
    Flows,
    /// `%eng`: engine type/id.
    Engine,
    /// `%bps`: bits per second.
    Bps,
    /// `%pps`: packets per second.
    Pps,
    /// `%bpp`: bytes per packet.
    Bpp,
    /// `%n`: a line break.
    NewLine,
}

/// Tokens computed from fields (or a second spelling of a field's token), with what they print.
#[rustfmt::skip]
pub const COMPUTED: &[(&str, Computed, &str)] = &[
    ("tfs", Computed::FirstSeen, "time of the first packet, as `%ts`"),
    ("tsr", Computed::FirstSeenRaw, "time of the first packet, seconds since 1970 with milliseconds (`1289260869.227`)"),
    ("td", Computed::Duration, "`end_ms` − `start_ms` as `HH:MM:SS.mmm`, `Nd HH:MM:SS.mmm` from a day up; seconds (`%16.3f`) with `-N`"),
    ("tds", Computed::DurationSeconds, "`end_ms` − `start_ms` in seconds (`%16.3f`)"),
    ("sap", Computed::SrcAddrPort, "`src_addr` `:` `src_port` (`.` for IPv6)"),
    ("dap", Computed::DstAddrPort, "`dst_addr` `:` `dst_port` (ICMP: type.code)"),
    ("sn", Computed::SrcNet, "`src_addr` cut to `src_mask` bits, `/src_mask`"),
    ("dn", Computed::DstNet, "`dst_addr` cut to `dst_mask` bits, `/dst_mask`"),
    ("it", Computed::IcmpType, "ICMP type: `dst_port` / 256 for ICMP and ICMPv6, else 0"),
    ("ic", Computed::IcmpCode, "ICMP code: `dst_port` % 256 for ICMP and ICMPv6, else 0"),
    ("ipkt", Computed::InPackets, "`packets`, as `%pkt`"),
    ("ibyt", Computed::InBytes, "`octets`, as `%byt`"),
    ("stos", Computed::SrcTos, "`tos`, 4 columns"),
    ("fl", Computed::Flows, "flows in the record: always 1 (a flowkit record is one flow)"),
    ("eng", Computed::Engine, "`engine_type/engine_id`"),
    ("bps", Computed::Bps, "bits per second: `octets` × 8 / duration (0 for a duration of 0)"),
    ("pps", Computed::Pps, "packets per second: `packets` / duration"),
    ("bpp", Computed::Bpp, "bytes per packet: `octets` / `packets` (0 without packets)"),
    ("n", Computed::NewLine, "a line break"),
];

/// nfdump 1.7.1's named formats (`-o line`) that flowkit prints: also `%line` ... inside a
/// `fmt:` format, where nfdump puts their tokens in place.
pub const NAMED_FORMATS: &[(&str, &str)] = &[
    ("line", "%ts %td %pr %sap -> %dap %pkt %byt %fl"),
    ("long", "%ts %td %pr %sap -> %dap %flg %tos %pkt %byt %fl"),
    (
        "extended",
        "%ts %td %pr %sap -> %dap %flg %tos %pkt %byt %pps %bps %bpp %fl",
    ),
    (
        "biline",
        "%ts %td %pr %sap <-> %dap %opkt %ipkt %obyt %ibyt %fl",
    ),
    (
        "bilong",
        "%ts %td %pr %sap <-> %dap %flg %tos %opkt %ipkt %obyt %ibyt %fl",
    ),
];

/// nfdump 1.7.1 tokens flowkit refuses although its records carry what they print, with why.
pub const REFUSED: &[(&str, &str)] = &[(
    "ter",
    "nfdump 1.7.1 prints the end time in seconds with wrong milliseconds (the milliseconds \
     modulo 100) and flowkit does not copy the mistake; use %te",
)];

/// nfdump 1.7.1 tokens that print what flowkit records do not carry, with what that is.
#[rustfmt::skip]
pub const NOT_CARRIED: &[(&str, &str)] = &[
    ("tr", "the time the collector received the flow"), ("trr", "the time the collector received the flow"),
    ("nfv", "the NetFlow version"), ("cnt", "nfdump's count of flows read"), ("exp", "the exporter's nfdump sysid"),
    ("gsa", "a country from a GeoIP database"), ("gda", "a country from a GeoIP database"),
    ("gsap", "a country from a GeoIP database"), ("gdap", "a country from a GeoIP database"),
    ("sc", "a country from a GeoIP database"), ("dc", "a country from a GeoIP database"),
    ("sloc", "a location from a GeoIP database"), ("dloc", "a location from a GeoIP database"),
    ("nhb", "the BGP next hop"), ("nas", "the next adjacent AS"), ("pas", "the previous adjacent AS"),
    ("inam", "interface names"), ("onam", "interface names"),
    ("dtos", "the destination ToS"), ("dir", "the flow direction"), ("fwd", "the forwarding status"),
    ("bfd", "the biflow direction"),
    // One MAC per end: the in one (56/80), else the post one (81/57), as %ismc and %idmc.
    ("odmc", "MAC addresses after the exporter (a flow keeps one per end: %ismc, %idmc)"),
    ("osmc", "MAC addresses after the exporter (a flow keeps one per end: %ismc, %idmc)"),
    ("mpls", "all ten MPLS labels (flowkit keeps the top three: %mpls1 %mpls2 %mpls3)"),
    ("mpls4", "MPLS labels below the third"), ("mpls5", "MPLS labels below the third"),
    ("mpls6", "MPLS labels below the third"), ("mpls7", "MPLS labels below the third"),
    ("mpls8", "MPLS labels below the third"), ("mpls9", "MPLS labels below the third"),
    ("mpls10", "MPLS labels below the third"),
    ("lbl", "nfdump flow labels"), ("ipl", "packet payload"), ("opl", "packet payload"),
    ("nbnam", "NBAR application names"), ("ja3", "TLS fingerprints"),
    ("sni", "TLS server names"), ("odid", "the IPFIX observation domain"), ("opid", "the IPFIX observation point"),
    ("vrf", "VRF ids"), ("ivrf", "VRF ids"), ("ivrfnam", "VRF names"), ("evrf", "VRF ids"), ("evrfnam", "VRF names"),
    ("tevt", "NSEL event times"), ("evt", "NSEL events"), ("xevt", "NSEL events"),
    ("sgt", "NSEL security group tags"), ("msec", "NSEL event times"), ("iacl", "NSEL ACLs"), ("eacl", "NSEL ACLs"),
    ("xsap", "NAT translations"), ("xdap", "NAT translations"), ("uname", "NSEL user names"),
    ("nevt", "NAT events"), ("nsa", "NAT translations"), ("nda", "NAT translations"), ("nsp", "NAT translations"),
    ("ndp", "NAT translations"), ("nsap", "NAT translations"), ("ndap", "NAT translations"),
    ("pbstart", "NAT port blocks"), ("pbend", "NAT port blocks"), ("pbstep", "NAT port blocks"), ("pbsize", "NAT port blocks"),
    ("cl", "latencies"), ("sl", "latencies"), ("al", "latencies"),
    // nfdump's named formats of GeoIP countries and NSEL/NEL events.
    ("gline", "countries from a GeoIP database"), ("glong", "countries from a GeoIP database"),
    ("nsel", "NSEL events and NAT translations"), ("nel", "NAT events and translations"),
];

/// What one `%` token prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// A field of the table, by its nfdump token.
    Field(&'static Field),
    /// A computed token.
    Computed(Computed),
}

/// How nfdump writes the field of a field token; `None` for a field whose nfdump token has no
/// known layout (a new token in the table must be given one here; a test checks every one).
fn field_layout(column: ColumnId) -> Option<Layout> {
    use ColumnId::*;
    Some(match column {
        StartMs | EndMs => Layout::Time,
        SrcAddr | DstAddr | NextHop | Exporter | XlateSrcAddr | XlateDstAddr => Layout::Addr,
        // nfdump prints `%xsp`/`%xdp` as `%6u`, as `%sp`.
        XlateSrcPort | XlateDstPort => Layout::Right(6),
        // `%5u` and `%3u` in nfdump 1.7.
        SrcVlan | DstVlan => Layout::Right(5),
        EndReason => Layout::Right(3),
        // `%.2x:` x 6, `%8u-%1u-%1u`, `%2u..%u` in nfdump 1.7.
        SrcMac | DstMac => Layout::Mac,
        MplsLabel1 | MplsLabel2 | MplsLabel3 => Layout::Mpls,
        AppId => Layout::AppId,
        // `%nfc`: nfdump prints the NSEL connection id (u32) as `%10u`; flow ids wider than
        // that (IPFIX flowId is 64 bits) print whole.
        FlowId => Layout::Right(10),
        SrcPort | InputIf | OutputIf | SrcAs | DstAs => Layout::Right(6),
        DstPort => Layout::DstPort,
        Protocol => Layout::Protocol,
        TcpFlags => Layout::Flags,
        Tos => Layout::Right(3),
        SrcMask | DstMask => Layout::Right(5),
        Packets | Octets | RevPackets | RevOctets => Layout::Counter,
        _ => return None,
    })
}

/// The ways nfdump writes a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// `YYYY-MM-DD HH:MM:SS.mmm` in the display zone.
    Time,
    /// An address in 16 columns (39 with `-6`), long IPv6 condensed.
    Addr,
    /// A number right-justified in this many columns.
    Right(usize),
    /// The destination port or ICMP type.code in 6 columns.
    DstPort,
    /// The protocol name in 5 columns.
    Protocol,
    /// `CEUAPRSF`.
    Flags,
    /// A counter, `1.2 M` style (plain with `-N`), in 8 columns, sampling undone.
    Counter,
    /// `aa:bb:cc:dd:ee:ff`.
    Mac,
    /// An MPLS entry as `label-exp-bos`, the label in 8 columns.
    Mpls,
    /// An application id as `ENGINE..SELECTOR`, the engine in 2 columns.
    AppId,
}

/// Every token flowkit prints: the field table's nfdump tokens, then [`COMPUTED`].
pub fn tokens() -> impl Iterator<Item = (&'static str, Token)> {
    FIELDS
        .iter()
        .filter(|f| !f.nfdump.is_empty())
        .map(|f| (f.nfdump, Token::Field(f)))
        .chain(COMPUTED.iter().map(|&(t, c, _)| (t, Token::Computed(c))))
}

/// One piece of a format: text printed as written, or a token.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Token(Token),
}

/// A parsed `fmt:` format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NfdumpFormat {
    /// The format as given: `fmt:` and the text, or a named format.
    source: String,
    pieces: Vec<Piece>,
    /// A named format with nfdump's `6` suffix (`long6`): IPv6 addresses whole, as `-6`.
    long_v6: bool,
}

impl NfdumpFormat {
    /// Reads an `-f` value that is one of nfdump's `-o` values flowkit prints: `fmt:TEXT` (any
    /// case), `%...` (nfdump takes a format starting with `%` without `fmt:`), or a named format
    /// (`line`, `long`, `extended`, `biline`, `bilong`, any case, with `6` appended for whole
    /// IPv6 addresses); `None` for other values.
    pub fn from_arg(arg: &str) -> Option<Result<NfdumpFormat, PrintError>> {
        if arg.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("fmt:")) {
            return Some(NfdumpFormat::parse(arg, 4));
        }
        if arg.starts_with('%') {
            return Some(NfdumpFormat::parse(arg, 0));
        }
        let (name, long_v6) = match arg.strip_suffix('6') {
            Some(name) => (name, true),
            None => (arg, false),
        };
        let (_, format) = NAMED_FORMATS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        Some(NfdumpFormat::parse(format, 0).map(|f| NfdumpFormat {
            source: arg.to_string(),
            long_v6,
            ..f
        }))
    }

    /// Parses `arg` from byte `from` on (after `fmt:`). Errors name the token and its column in
    /// `arg`, counted from 1.
    fn parse(arg: &str, from: usize) -> Result<NfdumpFormat, PrintError> {
        let format = &arg[from..];
        if format.is_empty() {
            return Err(PrintError::FmtEmpty);
        }
        let mut pieces = Vec::new();
        let mut rest = format;
        while !rest.is_empty() {
            let Some(after) = rest.strip_prefix('%') else {
                let end = rest.find('%').unwrap_or(rest.len());
                pieces.push(Piece::Text(rest[..end].to_string()));
                rest = &rest[end..];
                continue;
            };
            let column = arg[..arg.len() - rest.len()].chars().count() + 1;
            // nfdump ends a token at the first character that is not a letter (only its
            // `%mpls1`..`%mpls10` carry digits).
            let mut len = after
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(after.len());
            if &after[..len] == "mpls" {
                len += after[len..]
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(after.len() - len);
            }
            let name = &after[..len];
            match NAMED_FORMATS.iter().find(|(n, _)| *n == name) {
                // Its tokens, in place (they are all known).
                Some((_, named)) => pieces.extend(NfdumpFormat::parse(named, 0)?.pieces),
                None => pieces.push(Piece::Token(token(name, column)?)),
            }
            rest = &after[len..];
        }
        Ok(NfdumpFormat {
            source: arg.to_string(),
            pieces,
            long_v6: false,
        })
    }

    /// The format as given (`fmt:%ts %sa`, `%ts %sa`, `long6`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the format itself asks for whole IPv6 addresses (a named format ending in `6`).
    pub fn long_v6(&self) -> bool {
        self.long_v6
    }

    /// The block columns its tokens read.
    pub fn columns(&self) -> ColumnSet {
        use ColumnId::*;
        self.pieces.iter().fold(ColumnSet::EMPTY, |set, p| {
            let ids: &[ColumnId] = match p {
                Piece::Text(_) => &[],
                Piece::Token(Token::Field(f)) => match field_layout(f.column) {
                    Some(Layout::Counter) => &[f.column, SamplingInterval],
                    Some(Layout::DstPort | Layout::Flags) => &[f.column, Protocol],
                    _ => std::slice::from_ref(&f.column),
                },
                Piece::Token(Token::Computed(c)) => match c {
                    Computed::FirstSeen | Computed::FirstSeenRaw => &[StartMs],
                    Computed::Duration | Computed::DurationSeconds => &[StartMs, EndMs],
                    Computed::SrcAddrPort => &[SrcAddr, SrcPort],
                    Computed::DstAddrPort => &[DstAddr, DstPort, Protocol],
                    Computed::SrcNet => &[SrcAddr, SrcMask],
                    Computed::DstNet => &[DstAddr, DstMask],
                    Computed::IcmpType | Computed::IcmpCode => &[DstPort, Protocol],
                    Computed::InPackets => &[Packets, SamplingInterval],
                    Computed::InBytes => &[Octets, SamplingInterval],
                    Computed::SrcTos => &[Tos],
                    Computed::Flows | Computed::NewLine => &[],
                    Computed::Engine => &[EngineType, EngineId],
                    Computed::Bps | Computed::Pps => {
                        &[StartMs, EndMs, Packets, Octets, SamplingInterval]
                    }
                    Computed::Bpp => &[Packets, Octets, SamplingInterval],
                },
            };
            ids.iter().fold(set, |s, &c| s.with(c))
        })
    }
}

/// The token called `name` (after `%`), or why there is none.
fn token(name: &str, column: usize) -> Result<Token, PrintError> {
    if let Some((_, t)) = tokens().find(|(t, _)| *t == name) {
        if let Token::Field(f) = t {
            if field_layout(f.column).is_none() {
                return Err(PrintError::FmtRefused {
                    token: name.to_string(),
                    column,
                    reason: "flowkit does not know how nfdump lays this field out",
                });
            }
        }
        return Ok(t);
    }
    if let Some((_, what)) = NOT_CARRIED.iter().find(|(t, _)| *t == name) {
        return Err(PrintError::FmtNotCarried {
            token: name.to_string(),
            column,
            what,
        });
    }
    if let Some((_, reason)) = REFUSED.iter().find(|(t, _)| *t == name) {
        return Err(PrintError::FmtRefused {
            token: name.to_string(),
            column,
            reason,
        });
    }
    let known: Vec<&str> = tokens().map(|(t, _)| t).collect();
    let hint = match nearest(name, known) {
        Some(t) => format!("; did you mean %{t}?"),
        None => String::new(),
    };
    Err(PrintError::FmtUnknownToken {
        token: name.to_string(),
        column,
        hint,
    })
}

/// nfdump's options that change how tokens are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FmtOptions {
    /// `-N`: plain numbers (counters, protocol numbers, durations in seconds).
    pub plain_numbers: bool,
    /// `-6`: IPv6 addresses whole, address columns 39 wide.
    pub long_v6: bool,
}

/// The addresses of one flow as its line is written: `%sn`/`%dn` cut them to their networks for
/// the rest of the line, as nfdump's `ApplyNetMaskBits` changes its record in place.
#[derive(Default)]
struct LineAddrs {
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
}

/// Appends one line per flow of `b` in `format`.
pub(crate) fn format_block(
    format: &NfdumpFormat,
    opts: FmtOptions,
    b: &FlowBlock<'_>,
    clock: &mut Clock,
    out: &mut Vec<u8>,
) {
    let opts = FmtOptions {
        long_v6: opts.long_v6 || format.long_v6,
        ..opts
    };
    for i in 0..b.len {
        let mut addrs = LineAddrs::default();
        for piece in &format.pieces {
            match piece {
                Piece::Text(s) => out.extend_from_slice(s.as_bytes()),
                Piece::Token(Token::Field(f)) => field(f, opts, b, i, &mut addrs, clock, out),
                Piece::Token(Token::Computed(c)) => {
                    computed(*c, opts, b, i, &mut addrs, clock, out)
                }
            }
        }
        out.push(b'\n');
    }
}

/// A counter as nfdump holds it: flowkit keeps counters as exported with the sampling
/// interval, nfcapd stores them multiplied by it.
fn scaled(b: &FlowBlock<'_>, i: usize, counter: &[u64]) -> u64 {
    counter[i].wrapping_mul(b.sampling_interval[i].max(1) as u64)
}

/// The source address of row `i` as the line has it so far.
fn src_addr(b: &FlowBlock<'_>, i: usize, addrs: &mut LineAddrs) -> IpAddr {
    *addrs.src.get_or_insert_with(|| b.src_addr.get(i))
}

/// The destination address of row `i` as the line has it so far.
fn dst_addr(b: &FlowBlock<'_>, i: usize, addrs: &mut LineAddrs) -> IpAddr {
    *addrs.dst.get_or_insert_with(|| b.dst_addr.get(i))
}

/// `YYYY-MM-DD HH:MM:SS.mmm`.
fn push_time(out: &mut Vec<u8>, c: &Civil) {
    use super::clock::{three, two};
    text::push_u64(out, c.year.max(0) as u64);
    for (sep, v) in [(b'-', c.month), (b'-', c.day), (b' ', c.hour)] {
        out.push(sep);
        out.extend_from_slice(&two(v));
    }
    for v in [c.minute, c.second] {
        out.push(b':');
        out.extend_from_slice(&two(v));
    }
    out.push(b'.');
    out.extend_from_slice(&three(c.millis));
}

/// Appends field token `f` of row `i`.
fn field(
    f: &Field,
    opts: FmtOptions,
    b: &FlowBlock<'_>,
    i: usize,
    addrs: &mut LineAddrs,
    clock: &mut Clock,
    out: &mut Vec<u8>,
) {
    let Some(layout) = field_layout(f.column) else {
        unreachable!("parse refuses tokens without a layout");
    };
    match layout {
        Layout::Time => {
            let ms = if f.column == ColumnId::StartMs {
                b.start_ms[i]
            } else {
                b.end_ms[i]
            };
            push_time(out, &clock.civil(ms));
        }
        Layout::Addr => {
            let a = match f.column {
                ColumnId::SrcAddr => src_addr(b, i, addrs),
                ColumnId::DstAddr => dst_addr(b, i, addrs),
                _ => match f.value(b, i) {
                    FieldValue::Addr(a) => a,
                    _ => unreachable!("address columns hold addresses"),
                },
            };
            render::addr(out, a, opts.long_v6);
        }
        Layout::Right(width) => match f.value(b, i) {
            FieldValue::Unsigned(v) => text::right_u64(out, v, width),
            FieldValue::Signed(v) => text::right_u64(out, v as u64, width),
            FieldValue::Addr(_) => unreachable!("numbers are not addresses"),
        },
        Layout::DstPort => {
            let start = out.len();
            render::dst_port(out, b.dst_port[i], b.protocol[i]);
            render::right_align_from(out, start, 6);
        }
        Layout::Protocol => render::protocol(out, b.protocol[i], opts.plain_numbers),
        Layout::Flags => render::tcp_flags(out, b.tcp_flags[i], b.protocol[i]),
        Layout::Counter => {
            let column = match f.column {
                ColumnId::Packets => b.packets,
                ColumnId::Octets => b.octets,
                ColumnId::RevPackets => b.rev_packets,
                _ => b.rev_octets,
            };
            render::counter(out, scaled(b, i, column), opts.plain_numbers);
        }
        Layout::Mac | Layout::Mpls | Layout::AppId => {
            let FieldValue::Unsigned(v) = f.value(b, i) else {
                unreachable!("MAC, MPLS and application id columns hold numbers")
            };
            let text = f.kind.text(v).unwrap_or_default();
            let pad = match layout {
                // Right-aligns the label (`%8u`) or the engine (`%2u`).
                Layout::Mpls => 12,
                Layout::AppId => text.find("..").map_or(0, |k| text.len() - k + 2),
                _ => 0,
            };
            let start = out.len();
            out.extend_from_slice(text.as_bytes());
            render::right_align_from(out, start, pad);
        }
    }
}

/// Appends computed token `c` of row `i`.
fn computed(
    c: Computed,
    opts: FmtOptions,
    b: &FlowBlock<'_>,
    i: usize,
    addrs: &mut LineAddrs,
    clock: &mut Clock,
    out: &mut Vec<u8>,
) {
    let duration = || render::duration_secs(b.start_ms[i], b.end_ms[i]);
    match c {
        Computed::FirstSeen => push_time(out, &clock.civil(b.start_ms[i])),
        Computed::FirstSeenRaw => {
            let ms = b.start_ms[i] as u64;
            text::push_u64(out, ms / 1000);
            out.push(b'.');
            out.extend_from_slice(&super::clock::three((ms % 1000) as u16));
        }
        Computed::Duration if opts.plain_numbers => render::seconds(out, duration()),
        Computed::Duration => render::duration_of(out, b.start_ms[i], b.end_ms[i]),
        Computed::DurationSeconds => render::seconds(out, duration()),
        Computed::SrcAddrPort => {
            let a = src_addr(b, i, addrs);
            render::addr(out, a, opts.long_v6);
            out.push(render::port_separator(a));
            text::left_u64(out, b.src_port[i] as u64, 5);
        }
        Computed::DstAddrPort => {
            let a = dst_addr(b, i, addrs);
            render::addr(out, a, opts.long_v6);
            out.push(render::port_separator(a));
            let start = out.len();
            render::dst_port(out, b.dst_port[i], b.protocol[i]);
            text::pad_from(out, start, 5);
        }
        Computed::SrcNet => {
            let net = render::network(src_addr(b, i, addrs), b.src_mask[i]);
            addrs.src = Some(net);
            render::addr(out, net, opts.long_v6);
            out.push(b'/');
            text::left_u64(out, b.src_mask[i] as u64, 2);
        }
        Computed::DstNet => {
            let net = render::network(dst_addr(b, i, addrs), b.dst_mask[i]);
            addrs.dst = Some(net);
            render::addr(out, net, opts.long_v6);
            out.push(b'/');
            text::left_u64(out, b.dst_mask[i] as u64, 2);
        }
        Computed::IcmpType | Computed::IcmpCode => {
            let port = b.dst_port[i];
            let v = match (render::is_icmp(b.protocol[i]), c) {
                (false, _) => 0,
                (true, Computed::IcmpType) => port >> 8,
                (true, _) => port & 0xff,
            };
            text::right_u64(out, v as u64, 6);
        }
        Computed::InPackets => render::counter(out, scaled(b, i, b.packets), opts.plain_numbers),
        Computed::InBytes => render::counter(out, scaled(b, i, b.octets), opts.plain_numbers),
        Computed::SrcTos => text::right_u64(out, b.tos[i] as u64, 4),
        Computed::Flows => text::right_u64(out, 1, 5),
        Computed::Engine => {
            text::right_u64(out, b.engine_type[i] as u64, 3);
            out.push(b'/');
            text::left_u64(out, b.engine_id[i] as u64, 3);
        }
        Computed::Bps | Computed::Pps => {
            let d = duration();
            let v = if d == 0.0 {
                0
            } else if c == Computed::Bps {
                ((scaled(b, i, b.octets) << 3) as f64 / d) as u64
            } else {
                (scaled(b, i, b.packets) as f64 / d) as u64
            };
            render::counter(out, v, opts.plain_numbers);
        }
        Computed::Bpp => {
            let packets = scaled(b, i, b.packets);
            let bpp = match packets {
                0 => 0,
                p => (scaled(b, i, b.octets) / p) as u32,
            };
            text::right_u64(out, bpp as u64, 6);
        }
        Computed::NewLine => out.push(b'\n'),
    }
}
