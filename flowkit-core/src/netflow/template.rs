//! Templates (v9 and IPFIX) and the plans they are compiled into.
//!
//! A template is compiled once, when it arrives, into a [`Layout`]: for templates whose fields
//! all have fixed lengths, a list of `(slot, offset, length)` operations for just the fields the
//! flow record uses; for templates with variable-length fields, the per-field lengths and slots,
//! walked record by record. Fields the record does not use, enterprise fields other than the
//! RFC 5103 reverse ones, and fields whose length does not fit their slot are skipped by length,
//! never read as something else.

use super::DecodeErrorKind;

/// The IANA private enterprise number of RFC 5103 reverse information elements.
pub const REVERSE_PEN: u32 = 29305;
/// The field length that marks an IPFIX variable-length field.
pub const VARLEN: u16 = 0xFFFF;

/// One field of a template as the exporter declared it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// Information element id (enterprise bit removed).
    pub id: u16,
    /// Private enterprise number; 0 for IANA elements.
    pub enterprise: u32,
    /// Declared length in bytes; [`VARLEN`] for variable-length fields.
    pub len: u16,
}

/// Where a field's value goes: a column of the flow record, a time or sampling input, or
/// nowhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Not used: skipped by length.
    Skip,
    /// sourceIPv4Address (8) or sourceIPv6Address (27).
    SrcAddr,
    /// destinationIPv4Address (12) or destinationIPv6Address (28).
    DstAddr,
    /// ipNextHopIPv4Address (15) or ipNextHopIPv6Address (62).
    NextHop,
    /// sourceTransportPort (7).
    SrcPort,
    /// destinationTransportPort (11).
    DstPort,
    /// protocolIdentifier (4).
    Protocol,
    /// tcpControlBits (6).
    TcpFlags,
    /// ipClassOfService (5).
    Tos,
    /// packetDeltaCount (2) or packetTotalCount (86); else initiatorPackets (298).
    Packets,
    /// octetDeltaCount (1) or octetTotalCount (85); else initiatorOctets (231).
    Octets,
    /// The reverse direction's packets of an RFC 5103 biflow; else responderPackets (299).
    RevPackets,
    /// The reverse direction's octets of an RFC 5103 biflow; else responderOctets (232).
    RevOctets,
    /// ingressInterface (10).
    InputIf,
    /// egressInterface (14).
    OutputIf,
    /// bgpSourceAsNumber (16).
    SrcAs,
    /// bgpDestinationAsNumber (17).
    DstAs,
    /// sourceIPv4PrefixLength (9) or sourceIPv6PrefixLength (29).
    SrcMask,
    /// destinationIPv4PrefixLength (13) or destinationIPv6PrefixLength (30).
    DstMask,
    /// samplingInterval (34) or samplerRandomInterval (50).
    SamplingInterval,
    /// samplerId (48) or selectorId (302): looked up in the options' sampler table.
    SamplerId,
    /// samplingPacketInterval (305).
    PacketInterval,
    /// samplingPacketSpace (306).
    PacketSpace,
    /// samplingSize (309).
    SamplingSize,
    /// samplingPopulation (310).
    SamplingPopulation,
    /// icmpTypeCodeIPv4/IPv6 (32, 139): `type << 8 | code`.
    IcmpTypeCode,
    /// icmpTypeIPv4/IPv6 (176, 178).
    IcmpType,
    /// icmpCodeIPv4/IPv6 (177, 179).
    IcmpCode,
    /// First/last switched, milliseconds of sysUpTime (v9 21/22, IPFIX flowStart/EndSysUpTime).
    StartUptime,
    /// Last switched (see `StartUptime`).
    EndUptime,
    /// flowStartSeconds (150).
    StartSecs,
    /// flowEndSeconds (151).
    EndSecs,
    /// flowStartMilliseconds (152).
    StartMillis,
    /// flowEndMilliseconds (153).
    EndMillis,
    /// dateTimeMicroseconds / dateTimeNanoseconds: NTP timestamps.
    StartNtp,
    /// The end time as an NTP timestamp (see `StartNtp`).
    EndNtp,
    /// flowStart/EndMicroseconds sent as 16 bytes (pmacct): 64-bit seconds, 64-bit µs.
    StartTimevalMicros,
    /// The end time as 16 bytes of seconds and µs (see `StartTimevalMicros`).
    EndTimevalMicros,
    /// flowStart/EndNanoseconds sent as 16 bytes: 64-bit seconds, 64-bit ns.
    StartTimespecNanos,
    /// The end time as 16 bytes of seconds and ns (see `StartTimespecNanos`).
    EndTimespecNanos,
    /// flowStartDeltaMicroseconds (158): µs before the export time.
    StartDeltaMicros,
    /// flowEndDeltaMicroseconds (159): µs before the export time.
    EndDeltaMicros,
    /// systemInitTimeMilliseconds (160).
    SysInitMillis,
    /// flowDurationMilliseconds (161).
    DurationMillis,
    /// flowDurationMicroseconds (162).
    DurationMicros,
    /// postNATSourceIPv4Address (225) or postNATSourceIPv6Address (281); NetFlow v9 40001 (ASA).
    XlateSrcAddr,
    /// postNATDestinationIPv4Address (226) or postNATDestinationIPv6Address (282); v9 40002.
    XlateDstAddr,
    /// postNAPTSourceTransportPort (227); NetFlow v9 40003 (ASA).
    XlateSrcPort,
    /// postNAPTDestinationTransportPort (228); NetFlow v9 40004 (ASA).
    XlateDstPort,
    /// flowId (148; Cisco ASA NSEL's connection id).
    FlowId,
    /// vlanId (58) or dot1qVlanId (243).
    SrcVlan,
    /// postVlanId (59) or postDot1qVlanId (254).
    DstVlan,
    /// flowEndReason (136).
    EndReason,
    /// sourceMacAddress (56), or postSourceMacAddress (81) in a template without 56.
    SrcMac,
    /// destinationMacAddress (80), or postDestinationMacAddress (57) in a template without 80.
    DstMac,
    /// mplsTopLabelStackSection (70).
    MplsLabel1,
    /// mplsLabelStackSection2 (71).
    MplsLabel2,
    /// mplsLabelStackSection3 (72).
    MplsLabel3,
    /// applicationId (95): 1 to 8 bytes, packed by [`crate::model::l2::app_id`].
    AppId,
}

// `ColumnPlan::written` holds a bit per slot.
const _: () = assert!((Slot::AppId as u32) < 64);

/// One compiled operation: read `len` bytes at `offset` of the record into `slot`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// Destination.
    pub slot: Slot,
    /// Byte offset in the record.
    pub offset: u32,
    /// Length in bytes.
    pub len: u16,
}

/// How to cut a data set into records and find the used fields in each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Every record has the same length; `ops` hold absolute offsets.
    Fixed {
        /// Bytes per record.
        record_len: usize,
        /// Operations for the used fields.
        ops: Vec<Op>,
    },
    /// Some fields are variable-length: each record is walked field by field.
    Variable {
        /// Declared length and slot of every field.
        fields: Vec<(u16, Slot)>,
        /// The smallest possible record (a variable field takes at least its length byte).
        min_len: usize,
    },
}

/// A template (data or options) with its compiled layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// Template id.
    pub id: u16,
    /// Fields in order (for options templates, scope fields first).
    pub fields: Vec<FieldSpec>,
    /// Options template: its records describe the exporter, never flows.
    pub options: bool,
    /// Number of scope fields of an options template.
    pub scope_fields: u16,
    /// The compiled layout.
    pub layout: Layout,
    /// The column-at-a-time plan, for fixed-length flow templates that name each column once.
    pub columns: Option<ColumnPlan>,
}

/// A fixed-length flow template split into column operations (one loop per column over the
/// set's records) and per-record operations (times, ICMP, sampling).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnPlan {
    /// Bytes per record.
    pub record_len: usize,
    /// Operations that fill one column each, bound to the loops that fill their columns.
    pub(crate) kernels: Vec<super::sets::ColumnKernel>,
    /// The columns the operations fill, a bit per [`Slot`]; the others take the set's constant.
    pub written: u64,
    /// Operations resolved record by record.
    pub per_record: Vec<Op>,
    /// The template carries ICMP type/code, which replaces the destination port of ICMP flows.
    pub icmp: bool,
    /// Set when the per-record operations are only a start and an end time each read on its
    /// own (and perhaps one ICMP type/code field), so times can be filled column by column too.
    pub simple: Option<SimpleTimes>,
    /// The template's source or destination address is IPv6: its flows are IPv6 flows.
    pub v6: bool,
}

/// The per-record work of a plan whose times need no fallbacks: one start and one end field,
/// each absolute (seconds, milliseconds, NTP) or sysUpTime-relative, and at most an
/// `icmpTypeCode` field. Most exporters' templates have this shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimpleTimes {
    /// The start time field.
    pub start: Op,
    /// The end time field.
    pub end: Op,
    /// The `icmpTypeCode` field, if any.
    pub icmp: Option<Op>,
}

impl SimpleTimes {
    /// A time is relative to sysUpTime, so the set needs an uptime or system init time.
    pub fn uses_uptime(&self) -> bool {
        self.start.slot == Slot::StartUptime || self.end.slot == Slot::EndUptime
    }

    fn new(per_record: &[Op]) -> Option<SimpleTimes> {
        use Slot::*;
        let (mut start, mut end, mut icmp) = (None, None, None);
        for op in per_record {
            let place = match op.slot {
                StartSecs | StartMillis | StartNtp | StartUptime => &mut start,
                EndSecs | EndMillis | EndNtp | EndUptime => &mut end,
                IcmpTypeCode => &mut icmp,
                _ => return None,
            };
            if place.replace(*op).is_some() {
                return None;
            }
        }
        Some(SimpleTimes {
            start: start?,
            end: end?,
            icmp,
        })
    }
}

impl ColumnPlan {
    fn new(record_len: usize, ops: &[Op]) -> Option<ColumnPlan> {
        let mut plan = ColumnPlan {
            record_len,
            kernels: Vec::new(),
            written: 0,
            per_record: Vec::new(),
            icmp: false,
            simple: None,
            v6: false,
        };
        for op in ops {
            if let Some(kernel) = super::sets::ColumnKernel::new(*op) {
                if plan.written & (1 << op.slot as u64) != 0 {
                    return None; // a column named twice: the general path decides
                }
                plan.written |= 1 << op.slot as u64;
                plan.v6 |= matches!(op.slot, Slot::SrcAddr | Slot::DstAddr) && op.len == 16;
                plan.kernels.push(kernel);
            } else {
                plan.icmp |= matches!(
                    op.slot,
                    Slot::IcmpTypeCode | Slot::IcmpType | Slot::IcmpCode
                );
                plan.per_record.push(*op);
            }
        }
        plan.simple = SimpleTimes::new(&plan.per_record);
        Some(plan)
    }
}

/// A template record as read, before it is compiled: an exporter re-sends the same templates
/// every few packets, and comparing is much cheaper than compiling (a tenth of decoding a
/// capture that re-sends its templates every 20 packets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateDef {
    /// Template id.
    pub id: u16,
    /// Fields in order (for options templates, scope fields first).
    pub fields: Vec<FieldSpec>,
    /// Options template.
    pub options: bool,
    /// Number of scope fields of an options template.
    pub scope_fields: u16,
    /// Scope fields use NetFlow v9 scope types (see [`Template::compile`]).
    pub v9_scope: bool,
}

impl TemplateDef {
    /// Compiles the template.
    pub fn compile(self) -> Result<Template, DecodeErrorKind> {
        Template::compile(
            self.id,
            self.fields,
            self.options,
            self.scope_fields,
            self.v9_scope,
        )
    }
}

impl Template {
    /// Compiles a template. `v9_scope` says the scope fields use NetFlow v9 scope types (System,
    /// Interface, ...) rather than information elements, so they are skipped.
    pub fn compile(
        id: u16,
        fields: Vec<FieldSpec>,
        options: bool,
        scope_fields: u16,
        v9: bool,
    ) -> Result<Template, DecodeErrorKind> {
        if fields.is_empty() {
            return Err(DecodeErrorKind::EmptyTemplate { id });
        }
        let slots: Vec<Slot> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if options && v9 && i < scope_fields as usize {
                    Slot::Skip
                } else if options {
                    option_slot(f)
                } else {
                    flow_slot(f, v9)
                }
            })
            .collect();
        let slots = if options {
            slots
        } else {
            prefer_primary(&fields, slots)
        };
        let layout = if fields.iter().any(|f| f.len == VARLEN) {
            let min_len = fields
                .iter()
                .map(|f| if f.len == VARLEN { 1 } else { f.len as usize })
                .sum();
            Layout::Variable {
                fields: fields
                    .iter()
                    .zip(&slots)
                    .map(|(f, s)| (f.len, *s))
                    .collect(),
                min_len,
            }
        } else {
            let mut ops = Vec::new();
            let mut offset = 0usize;
            for (f, &slot) in fields.iter().zip(&slots) {
                if slot != Slot::Skip {
                    ops.push(Op {
                        slot,
                        offset: offset as u32,
                        len: f.len,
                    });
                }
                offset += f.len as usize;
            }
            if offset == 0 {
                return Err(DecodeErrorKind::ZeroLengthRecord { id });
            }
            if offset > u16::MAX as usize {
                return Err(DecodeErrorKind::RecordTooLong { id, len: offset });
            }
            Layout::Fixed {
                record_len: offset,
                ops,
            }
        };
        let columns = match &layout {
            Layout::Fixed { record_len, ops } if !options => ColumnPlan::new(*record_len, ops),
            _ => None,
        };
        Ok(Template {
            id,
            fields,
            options,
            scope_fields,
            layout,
            columns,
        })
    }

    /// True when `other` declares the same fields (a refresh, not a change).
    pub fn same_definition(&self, other: &TemplateDef) -> bool {
        self.fields == other.fields
            && self.options == other.options
            && self.scope_fields == other.scope_fields
    }
}

/// The slot of a data-template field, or `Skip` when the record has no place for it or its
/// length does not fit.
fn flow_slot(f: &FieldSpec, v9: bool) -> Slot {
    let len = f.len;
    let int = |max: u16, slot: Slot| {
        if (1..=max).contains(&len) {
            slot
        } else {
            Slot::Skip
        }
    };
    let exact = |want: u16, slot: Slot| if len == want { slot } else { Slot::Skip };
    if f.enterprise == REVERSE_PEN {
        return match f.id {
            1 | 85 => int(8, Slot::RevOctets),
            2 | 86 => int(8, Slot::RevPackets),
            _ => Slot::Skip,
        };
    }
    if f.enterprise != 0 {
        return Slot::Skip;
    }
    match f.id {
        1 | 85 => int(8, Slot::Octets),
        2 | 86 => int(8, Slot::Packets),
        // NetFlow v9 OUT_BYTES / OUT_PKTS (IPFIX 23/24 are post-NAT counters: not reverse).
        23 if v9 => int(8, Slot::RevOctets),
        24 if v9 => int(8, Slot::RevPackets),
        4 => exact(1, Slot::Protocol),
        5 => exact(1, Slot::Tos),
        6 => int(2, Slot::TcpFlags),
        7 => int(2, Slot::SrcPort),
        11 => int(2, Slot::DstPort),
        8 => exact(4, Slot::SrcAddr),
        12 => exact(4, Slot::DstAddr),
        15 => exact(4, Slot::NextHop),
        27 => exact(16, Slot::SrcAddr),
        28 => exact(16, Slot::DstAddr),
        62 => exact(16, Slot::NextHop),
        9 | 29 => exact(1, Slot::SrcMask),
        13 | 30 => exact(1, Slot::DstMask),
        10 => int(4, Slot::InputIf),
        14 => int(4, Slot::OutputIf),
        16 => int(4, Slot::SrcAs),
        17 => int(4, Slot::DstAs),
        // engineType/engineId (38/39) in records are not used: like nfdump, the engine is
        // the header's source id / observation domain (nfreplay copies the original
        // exporter's engine fields into its records, which would mix two exporters).
        34 | 50 => int(4, Slot::SamplingInterval),
        48 | 302 => int(8, Slot::SamplerId),
        32 | 139 => exact(2, Slot::IcmpTypeCode),
        176 | 178 => exact(1, Slot::IcmpType),
        177 | 179 => exact(1, Slot::IcmpCode),
        22 => exact(4, Slot::StartUptime),
        21 => exact(4, Slot::EndUptime),
        150 => exact(4, Slot::StartSecs),
        151 => exact(4, Slot::EndSecs),
        152 => exact(8, Slot::StartMillis),
        153 => exact(8, Slot::EndMillis),
        154 | 156 if len == 8 => Slot::StartNtp,
        155 | 157 if len == 8 => Slot::EndNtp,
        154 => exact(16, Slot::StartTimevalMicros),
        155 => exact(16, Slot::EndTimevalMicros),
        156 => exact(16, Slot::StartTimespecNanos),
        157 => exact(16, Slot::EndTimespecNanos),
        158 => exact(4, Slot::StartDeltaMicros),
        159 => exact(4, Slot::EndDeltaMicros),
        160 => exact(8, Slot::SysInitMillis),
        161 => exact(4, Slot::DurationMillis),
        162 => exact(4, Slot::DurationMicros),
        225 => exact(4, Slot::XlateSrcAddr),
        226 => exact(4, Slot::XlateDstAddr),
        281 => exact(16, Slot::XlateSrcAddr),
        282 => exact(16, Slot::XlateDstAddr),
        227 => int(2, Slot::XlateSrcPort),
        228 => int(2, Slot::XlateDstPort),
        // Cisco ASA NSEL before IANA ids were assigned (ASA 8.4/8.5: NF_F_XLATE_*_84 in nfdump's
        // netflow_v9.h): NetFlow v9 field types above 32767, so never an IPFIX IANA element
        // (IPFIX reads the top bit as the enterprise bit, and enterprise fields stop above).
        40001 => exact(4, Slot::XlateSrcAddr),
        40002 => exact(4, Slot::XlateDstAddr),
        40003 => int(2, Slot::XlateSrcPort),
        40004 => int(2, Slot::XlateDstPort),
        148 => int(8, Slot::FlowId),
        58 => int(2, Slot::SrcVlan),
        59 => int(2, Slot::DstVlan),
        // dot1qVlanId / postDot1qVlanId (RFC 7133): the 802.1Q tag's VLAN id (a Cisco 1941
        // sends 243 and no 58). A template with both fills the VLAN from the later one, as
        // nfdump's v9 decoder does.
        243 => int(2, Slot::SrcVlan),
        254 => int(2, Slot::DstVlan),
        136 => exact(1, Slot::EndReason),
        // Firewall session counters (see `prefer_primary`).
        231 => int(8, Slot::Octets),
        232 => int(8, Slot::RevOctets),
        298 => int(8, Slot::Packets),
        299 => int(8, Slot::RevPackets),
        56 | 81 => exact(6, Slot::SrcMac),
        80 | 57 => exact(6, Slot::DstMac),
        70 => int(3, Slot::MplsLabel1),
        71 => int(3, Slot::MplsLabel2),
        72 => int(3, Slot::MplsLabel3),
        95 if len == VARLEN || (1..=8).contains(&len) => Slot::AppId,
        _ => Slot::Skip,
    }
}

/// Elements that fill a column only when no other field of the template fills it.
///
/// The post-MAC elements (81 postSourceMacAddress, 57 postDestinationMacAddress) fill the MAC
/// fields only when the template lacks the plain ones (56, 80): flowkit keeps one MAC per end,
/// the one the flow arrived with where the exporter sends it. softflowd sends 56 and 57 (NetFlow
/// v9's IN_SRC_MAC and OUT_DST_MAC), pmacct 56 and 80.
///
/// initiatorOctets / responderOctets (231, 232) and initiatorPackets / responderPackets (298,
/// 299) are a firewall session's two directions (a Cisco ASA's NSEL sends 231/232 and no
/// octetDeltaCount): they fill octets / rev_octets and packets / rev_packets, as nfdump does,
/// when the template has no other counter for that column.
const FALLBACKS: [u16; 6] = [81, 57, 231, 232, 298, 299];

fn prefer_primary(fields: &[FieldSpec], mut slots: Vec<Slot>) -> Vec<Slot> {
    let fallback = |f: &FieldSpec| f.enterprise == 0 && FALLBACKS.contains(&f.id);
    let primary = |slot: Slot, slots: &[Slot]| {
        fields
            .iter()
            .zip(slots)
            .any(|(f, s)| *s == slot && !fallback(f))
    };
    let skip: Vec<bool> = fields
        .iter()
        .zip(&slots)
        .map(|(f, s)| fallback(f) && *s != Slot::Skip && primary(*s, &slots))
        .collect();
    for (s, skip) in slots.iter_mut().zip(skip) {
        if skip {
            *s = Slot::Skip;
        }
    }
    slots
}

/// The slot of an options-template field: only what describes sampling and the exporter's
/// clock is kept.
fn option_slot(f: &FieldSpec) -> Slot {
    if f.enterprise != 0 || f.len == VARLEN || f.len == 0 || f.len > 8 {
        return Slot::Skip;
    }
    match (f.id, f.len) {
        (34 | 50, 1..=4) => Slot::SamplingInterval,
        (48 | 302, _) => Slot::SamplerId,
        (305, 1..=4) => Slot::PacketInterval,
        (306, 1..=4) => Slot::PacketSpace,
        (309, 1..=4) => Slot::SamplingSize,
        (310, 1..=4) => Slot::SamplingPopulation,
        (160, 8) => Slot::SysInitMillis,
        _ => Slot::Skip,
    }
}

/// Reads an unsigned big-endian integer of 1 to 8 bytes (RFC 7011 reduced-size encoding).
#[inline(always)]
pub fn be_uint(b: &[u8]) -> u64 {
    match b.len() {
        1 => b[0] as u64,
        2 => u16::from_be_bytes([b[0], b[1]]) as u64,
        4 => u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64,
        8 => u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        _ => b.iter().fold(0u64, |acc, &x| (acc << 8) | x as u64),
    }
}

/// Cuts a set body into records and calls `f(record, ops)` for each. Trailing bytes too short
/// for a record are padding. A variable-length field that runs past the set is an error at
/// its byte offset in `body`; the records before it have been delivered.
pub fn walk_records(
    layout: &Layout,
    body: &[u8],
    scratch: &mut Vec<Op>,
    mut f: impl FnMut(&[u8], &[Op]),
) -> Result<usize, (usize, DecodeErrorKind)> {
    match layout {
        Layout::Fixed { record_len, ops } => {
            let mut n = 0;
            for rec in body.chunks_exact(*record_len) {
                f(rec, ops);
                n += 1;
            }
            Ok(n)
        }
        Layout::Variable { fields, min_len } => {
            let mut pos = 0usize;
            let mut n = 0;
            while body.len() - pos >= *min_len {
                scratch.clear();
                let mut off = pos;
                for &(decl, slot) in fields {
                    let len = if decl == VARLEN {
                        let Some(&l) = body.get(off) else {
                            return Err((off, DecodeErrorKind::VarlenOverrun));
                        };
                        off += 1;
                        if l == 255 {
                            let Some(b) = body.get(off..off + 2) else {
                                return Err((off, DecodeErrorKind::VarlenOverrun));
                            };
                            off += 2;
                            u16::from_be_bytes([b[0], b[1]]) as usize
                        } else {
                            l as usize
                        }
                    } else {
                        decl as usize
                    };
                    if off + len > body.len() {
                        return Err((off, DecodeErrorKind::VarlenOverrun));
                    }
                    if slot != Slot::Skip && fits(slot, len) {
                        scratch.push(Op {
                            slot,
                            offset: (off - pos) as u32,
                            len: len as u16,
                        });
                    }
                    off += len;
                }
                f(&body[pos..off], scratch);
                n += 1;
                pos = off;
            }
            Ok(n)
        }
    }
}

/// Whether a value of `len` bytes (known only per record for variable-length fields) can go
/// into `slot`.
fn fits(slot: Slot, len: usize) -> bool {
    use Slot::*;
    match slot {
        SrcAddr | DstAddr | NextHop | XlateSrcAddr | XlateDstAddr => len == 4 || len == 16,
        Protocol | Tos | SrcMask | DstMask | IcmpType | IcmpCode | EndReason => len == 1,
        SrcMac | DstMac => len == 6,
        MplsLabel1 | MplsLabel2 | MplsLabel3 => (1..=3).contains(&len),
        AppId => (1..=8).contains(&len),
        SrcPort | DstPort | TcpFlags | XlateSrcPort | XlateDstPort | SrcVlan | DstVlan => {
            (1..=2).contains(&len)
        }
        IcmpTypeCode => len == 2,
        InputIf | OutputIf | SrcAs | DstAs | SamplingInterval | PacketInterval | PacketSpace
        | SamplingSize | SamplingPopulation => (1..=4).contains(&len),
        StartUptime | EndUptime | StartSecs | EndSecs | StartDeltaMicros | EndDeltaMicros
        | DurationMillis | DurationMicros => len == 4,
        StartMillis | EndMillis | StartNtp | EndNtp | SysInitMillis => len == 8,
        StartTimevalMicros | EndTimevalMicros | StartTimespecNanos | EndTimespecNanos => len == 16,
        Packets | Octets | RevPackets | RevOctets | SamplerId | FlowId => (1..=8).contains(&len),
        Skip => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: u16, len: u16) -> FieldSpec {
        FieldSpec {
            id,
            enterprise: 0,
            len,
        }
    }

    #[test]
    fn fixed_layout_keeps_only_used_fields_with_fitting_lengths() {
        let t = Template::compile(
            300,
            vec![f(8, 4), f(999, 3), f(7, 2), f(12, 8), f(2, 4)],
            false,
            0,
            false,
        )
        .unwrap();
        let Layout::Fixed { record_len, ops } = &t.layout else {
            panic!("fixed expected")
        };
        assert_eq!(*record_len, 21);
        // The unknown field and the 8-byte "IPv4 address" are skipped by length.
        let slots: Vec<_> = ops.iter().map(|o| (o.slot, o.offset)).collect();
        assert_eq!(
            slots,
            vec![(Slot::SrcAddr, 0), (Slot::SrcPort, 7), (Slot::Packets, 17)]
        );
    }

    /// Firewall session counters and post-MACs fill a column only when no other field does.
    #[test]
    fn fallback_elements_yield_to_the_primary_ones() {
        let slots = |fields: Vec<FieldSpec>| {
            let t = Template::compile(300, fields, false, 0, true).unwrap();
            let Layout::Fixed { ops, .. } = t.layout else {
                panic!("fixed expected")
            };
            ops.iter().map(|o| (o.slot, o.offset)).collect::<Vec<_>>()
        };
        // A Cisco ASA's NSEL: initiator/responder octets and no octetDeltaCount.
        assert_eq!(
            slots(vec![f(231, 4), f(232, 4), f(298, 4), f(299, 4)]),
            vec![
                (Slot::Octets, 0),
                (Slot::RevOctets, 4),
                (Slot::Packets, 8),
                (Slot::RevPackets, 12)
            ]
        );
        // Beside octetDeltaCount (1) and v9 OUT_PKTS (24), sourceMacAddress (56): skipped.
        assert_eq!(
            slots(vec![
                f(231, 4),
                f(1, 4),
                f(299, 4),
                f(24, 4),
                f(81, 6),
                f(56, 6)
            ]),
            vec![
                (Slot::Octets, 4),
                (Slot::RevPackets, 12),
                (Slot::SrcMac, 22)
            ]
        );
    }

    #[test]
    fn variable_layout_reads_both_length_forms() {
        let t = Template::compile(
            300,
            vec![f(82, VARLEN), f(7, 2), f(83, VARLEN), f(11, 2)],
            false,
            0,
            false,
        )
        .unwrap();
        let mut body = vec![3, b'e', b't', b'h', 0, 80, 255, 0, 2, b'x', b'y', 1, 187];
        body.extend_from_slice(&[0, 0]); // padding shorter than min_len 6? no: 2 bytes < 6
        let mut scratch = Vec::new();
        let mut seen = Vec::new();
        let n = walk_records(&t.layout, &body, &mut scratch, |rec, ops| {
            let src = ops.iter().find(|o| o.slot == Slot::SrcPort).unwrap();
            let dst = ops.iter().find(|o| o.slot == Slot::DstPort).unwrap();
            let o = |op: &Op| be_uint(&rec[op.offset as usize..][..op.len as usize]);
            seen.push((o(src), o(dst)));
        })
        .unwrap();
        assert_eq!(n, 1);
        assert_eq!(seen, vec![(80, 443)]);
    }

    #[test]
    fn variable_field_past_the_set_is_an_error_with_offset() {
        let t = Template::compile(300, vec![f(7, 2), f(82, VARLEN)], false, 0, false).unwrap();
        let body = [0, 80, 200, 1, 2];
        let err = walk_records(&t.layout, &body, &mut Vec::new(), |_, _| {}).unwrap_err();
        assert_eq!(err, (3, DecodeErrorKind::VarlenOverrun));
    }

    #[test]
    fn zero_length_and_empty_templates_are_rejected() {
        assert_eq!(
            Template::compile(300, vec![], false, 0, true).unwrap_err(),
            DecodeErrorKind::EmptyTemplate { id: 300 }
        );
        assert_eq!(
            Template::compile(300, vec![f(1, 0), f(2, 0)], false, 0, true).unwrap_err(),
            DecodeErrorKind::ZeroLengthRecord { id: 300 }
        );
    }
}
