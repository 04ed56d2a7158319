//! Decoding NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) export datagrams into flows.
//!
//! A [`Decoder`] takes one export datagram at a time with the exporter's address and the time
//! it was received, and appends the flows it carries to a [`FlowBlockBuf`]. It keeps, per
//! exporter, the templates (keyed by exporter, source id / observation domain and template id),
//! the sampling and clock information that options data announce, data held while its template
//! is missing, and sequence numbers; all of it bounded by [`DecoderConfig`]. It is `Send`, so a
//! collector can own one per receiving thread.
//!
//! The decoder is hand-written over the datagram bytes (`from_be_bytes` on slices, templates
//! compiled once into `(slot, offset, length)` plans, no allocation per record): the crates
//! measured (netflow_parser, NetGauze) allocate per record, run about 8x slower, and mis-decode
//! in ways listed in docs/decoders.md. netflow_parser is kept as a test oracle only.
//!
//! Malformed input is a [`DecodeError`] naming the byte offset in the datagram, never a panic;
//! flows decoded from the sets before the damage stay in the output, and damage confined to one
//! set (a bad template record, a variable-length field running past its set) skips only that set.

mod cache;
pub mod encode;
pub mod exporter;
mod ipfix;
mod memory;
mod options;
pub mod pcap;
mod scope;
mod sets;
pub mod template;
mod v5;
mod v9;

use crate::model::block::FlowBlockBuf;
use std::collections::{HashMap, VecDeque};

/// The decoder's maps (exporters, domains, templates: looked up for every datagram and set).
/// foldhash, seeded per process, costs a fraction of std's SipHash on these small keys; the maps
/// are capped in size (`DecoderConfig`), so a flood of keys cannot grow a collision chain far.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use template::Template;

pub use cache::CacheError;
pub use memory::{ExporterUsage, MemoryUsage};
pub use options::Sampling;
pub use scope::{Scope, Source};

/// Where a [`Decoder`] appends flows: one buffer for every flow, or IPv4 and IPv6 flows apart.
/// Archive writers keep the two families in separate blocks, so flows decoded apart reach them
/// ready to write instead of being sorted row by row.
pub struct FlowOut<'a> {
    v4: &'a mut FlowBlockBuf,
    v6: Option<&'a mut FlowBlockBuf>,
}

impl<'a> FlowOut<'a> {
    /// Every flow into `out`, in the order of the datagrams.
    pub fn one(out: &'a mut FlowBlockBuf) -> Self {
        FlowOut { v4: out, v6: None }
    }

    /// IPv4 flows into `v4`, IPv6 flows (an IPv6 source or destination) into `v6`; each keeps
    /// the order of the datagrams.
    pub fn split(v4: &'a mut FlowBlockBuf, v6: &'a mut FlowBlockBuf) -> Self {
        FlowOut { v4, v6: Some(v6) }
    }

    /// Flows held, both families.
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.as_ref().map_or(0, |b| b.len())
    }

    /// True when no flow is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer for flows of one family.
    pub(crate) fn family(&mut self, v6: bool) -> &mut FlowBlockBuf {
        match &mut self.v6 {
            Some(b) if v6 => b,
            _ => self.v4,
        }
    }

    /// Appends one flow to the buffer of its family.
    pub(crate) fn push(&mut self, r: &crate::model::record::FlowRecord) {
        let v6 = r.src_addr.is_ipv6() || r.dst_addr.is_ipv6();
        self.family(v6).push(r);
    }
}

/// Limits on what a decoder keeps, so memory stays bounded whatever exporters send.
#[derive(Clone, Debug)]
pub struct DecoderConfig {
    /// Exporter scopes (address and source port) tracked at once; a new one takes the place of
    /// one silent for longer than `max_held_age_ms`, else its datagrams are refused and counted.
    pub max_exporters: usize,
    /// Templates (data and options) kept per exporter, over all its domains.
    pub max_templates_per_exporter: usize,
    /// Source ids / observation domains tracked per exporter.
    pub max_domains_per_exporter: usize,
    /// Fields a template may declare.
    pub max_template_fields: usize,
    /// Data sets held per exporter while their template is missing.
    pub max_held_sets_per_exporter: usize,
    /// Bytes of data sets held per exporter while their template is missing.
    pub max_held_bytes_per_exporter: usize,
    /// Held data older than this (by receive time) is dropped.
    pub max_held_age_ms: i64,
    /// Sampler ids remembered per exporter domain.
    pub max_samplers_per_domain: usize,
    /// Bytes of state (templates, domains, held data, exporters) kept over all exporters; past
    /// it the least recently used state is evicted and counted (see [`MemoryUsage`]).
    pub max_memory: usize,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig {
            max_exporters: 4096,
            max_templates_per_exporter: 1024,
            max_domains_per_exporter: 256,
            max_template_fields: 512,
            max_held_sets_per_exporter: 256,
            max_held_bytes_per_exporter: 1 << 20,
            max_held_age_ms: 30 * 60 * 1000,
            max_samplers_per_domain: 256,
            max_memory: 256 << 20,
        }
    }
}

/// Counters of what a decoder saw, in total or for one exporter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Datagrams given to the decoder.
    pub datagrams: u64,
    /// Flows produced.
    pub flows: u64,
    /// Datagrams (or held sets) with a decoding error.
    pub malformed: u64,
    /// Template and options-template records received (including refreshes).
    pub templates: u64,
    /// Templates withdrawn (IPFIX).
    pub template_withdrawals: u64,
    /// Data sets that arrived before their template.
    pub unknown_template: u64,
    /// Of those, sets decoded later when their template came.
    pub held_decoded: u64,
    /// Of those, sets dropped: held limits, age, or their template never came.
    pub held_dropped: u64,
    /// Options data records (exporter, sampling, clock information; never flows).
    pub options_records: u64,
    /// Sequence numbers that did not follow the previous datagram of the same exporter and
    /// domain (lost, reordered or restarted export).
    pub sequence_gaps: u64,
    /// Datagrams refused because too many exporters are tracked.
    pub refused: u64,
    /// Flows whose start or end time is before 1990 or more than two days after their export
    /// packet's time: kept, but their times are not to be trusted.
    pub bad_times: u64,
    /// Templates evicted to stay under the memory cap ([`DecoderConfig::max_memory`]).
    pub evicted_templates: u64,
    /// Held data sets evicted to stay under the memory cap (also counted in `held_dropped`).
    pub evicted_held: u64,
    /// Exporter scopes (address and port) whose whole state was evicted for the memory cap.
    pub evicted_exporters: u64,
}

impl DecodeStats {
    /// Adds `o`'s counters to these.
    pub fn add(&mut self, o: &DecodeStats) {
        self.datagrams += o.datagrams;
        self.flows += o.flows;
        self.malformed += o.malformed;
        self.templates += o.templates;
        self.template_withdrawals += o.template_withdrawals;
        self.unknown_template += o.unknown_template;
        self.held_decoded += o.held_decoded;
        self.held_dropped += o.held_dropped;
        self.options_records += o.options_records;
        self.sequence_gaps += o.sequence_gaps;
        self.refused += o.refused;
        self.bad_times += o.bad_times;
        self.evicted_templates += o.evicted_templates;
        self.evicted_held += o.evicted_held;
        self.evicted_exporters += o.evicted_exporters;
    }

    /// True when something was lost or damaged (malformed, dropped held data, sequence gaps,
    /// refused exporters, flows with untrustworthy times, state evicted for memory).
    pub fn has_losses(&self) -> bool {
        self.malformed > 0
            || self.held_dropped > 0
            || self.sequence_gaps > 0
            || self.refused > 0
            || self.bad_times > 0
            || self.evicted_templates + self.evicted_held + self.evicted_exporters > 0
    }
}

impl fmt::Display for DecodeStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} datagrams, {} flows, {} malformed, {} templates ({} withdrawn), \
             {} sets before their template ({} decoded later, {} dropped), \
             {} options records, {} sequence gaps",
            self.datagrams,
            self.flows,
            self.malformed,
            self.templates,
            self.template_withdrawals,
            self.unknown_template,
            self.held_decoded,
            self.held_dropped,
            self.options_records,
            self.sequence_gaps
        )?;
        if self.refused > 0 {
            write!(f, ", {} refused (too many exporters)", self.refused)?;
        }
        if self.bad_times > 0 {
            write!(
                f,
                ", {} flows with times before 1990 or over two days after their export time",
                self.bad_times
            )?;
        }
        if self.evicted_templates + self.evicted_held + self.evicted_exporters > 0 {
            write!(
                f,
                ", evicted for the memory cap: {} exporters, {} templates, {} held sets",
                self.evicted_exporters, self.evicted_templates, self.evicted_held
            )?;
        }
        Ok(())
    }
}

/// A datagram, or part of it, that could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset}: {kind}")]
pub struct DecodeError {
    /// Byte offset in the datagram where the problem is.
    pub offset: usize,
    /// What is wrong.
    pub kind: DecodeErrorKind,
}

/// What is wrong with a datagram.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// Too short for the header of its version.
    #[error("{len}-byte datagram is too short for a NetFlow/IPFIX header")]
    TooShort {
        /// Datagram length.
        len: usize,
    },
    /// Not NetFlow v5, v9 or IPFIX.
    #[error("unsupported export version {0}")]
    UnsupportedVersion(u16),
    /// A v5 header announces more records than the datagram holds.
    #[error("v5 header announces {count} records but the datagram holds {held}")]
    V5Truncated {
        /// Records announced.
        count: u16,
        /// Complete records present (decoded).
        held: usize,
    },
    /// A v5 header announces no records.
    #[error("v5 header announces no records")]
    V5Empty,
    /// An IPFIX message length disagrees with the datagram.
    #[error("IPFIX message length {len} does not fit the {avail} bytes left in the datagram")]
    MessageLength {
        /// Length in the message header.
        len: usize,
        /// Bytes available.
        avail: usize,
    },
    /// A set length smaller than a set header.
    #[error("set {set_id} has length {len}, shorter than its 4-byte header")]
    SetTooShort {
        /// Set (flowset) id.
        set_id: u16,
        /// Declared length.
        len: usize,
    },
    /// A set length that runs past the end of the datagram.
    #[error("set {set_id} has length {len} but only {avail} bytes are left")]
    SetOverrun {
        /// Set (flowset) id.
        set_id: u16,
        /// Declared length.
        len: usize,
        /// Bytes left in the datagram.
        avail: usize,
    },
    /// Bytes after the last set that cannot be a set.
    #[error("{len} stray bytes after the last set")]
    TrailingBytes {
        /// How many.
        len: usize,
    },
    /// A template with no fields (v9), or an options template without scope.
    #[error("template {id} has no fields")]
    EmptyTemplate {
        /// Template id.
        id: u16,
    },
    /// A template whose records would be empty.
    #[error("template {id} describes zero-length records")]
    ZeroLengthRecord {
        /// Template id.
        id: u16,
    },
    /// A template whose records are longer than any set.
    #[error("template {id} describes {len}-byte records, longer than a set can be")]
    RecordTooLong {
        /// Template id.
        id: u16,
        /// Record length.
        len: usize,
    },
    /// A template that declares more fields than its set holds.
    #[error("template {id} declares {count} fields, more than its set holds")]
    TemplateOverrun {
        /// Template id.
        id: u16,
        /// Declared field count.
        count: usize,
    },
    /// A template with more fields than the configured limit.
    #[error("template {id} declares {count} fields (limit {max})")]
    TooManyFields {
        /// Template id.
        id: u16,
        /// Declared field count.
        count: usize,
        /// Configured limit.
        max: usize,
    },
    /// A template id below 256 in a template record.
    #[error("template id {id} is reserved (data templates start at 256)")]
    ReservedTemplateId {
        /// The id.
        id: u16,
    },
    /// An options template whose scope is inconsistent.
    #[error("options template {id}: bad scope ({why})")]
    BadScope {
        /// Template id.
        id: u16,
        /// What is wrong.
        why: &'static str,
    },
    /// A variable-length field that runs past its set.
    #[error("variable-length field runs past the end of its set")]
    VarlenOverrun,
    /// The exporter has as many templates as allowed.
    #[error("template {id} refused: the exporter already has {max} templates")]
    TemplateLimit {
        /// Template id.
        id: u16,
        /// Configured limit.
        max: usize,
    },
    /// The exporter uses more domains than allowed.
    #[error("domain {domain} refused: the exporter already uses {max} domains")]
    DomainLimit {
        /// Source id / observation domain.
        domain: u32,
        /// Configured limit.
        max: usize,
    },
    /// The exporter is one too many.
    #[error("exporter refused: {max} exporters are already tracked")]
    ExporterLimit {
        /// Configured limit.
        max: usize,
    },
}

impl DecodeError {
    pub(crate) fn at(offset: usize, kind: DecodeErrorKind) -> Self {
        DecodeError { offset, kind }
    }
}

/// What one datagram held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatagramInfo {
    /// Export version (5, 9 or 10).
    pub version: u16,
    /// The export time in the header (UTC ms).
    pub export_ms: i64,
    /// Flows appended to the output (including held data it released).
    pub flows: usize,
}

/// The export header fields shared by all versions, read without decoding the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportHeader {
    /// 5, 9 or 10.
    pub version: u16,
    /// Export time (UTC ms): v5 unix_secs + unix_nsecs, v9 unix_secs, IPFIX export time.
    pub export_ms: i64,
    /// Sequence number.
    pub sequence: u32,
    /// v9 source id or IPFIX observation domain (v5: engine type << 8 | engine id).
    pub domain: u32,
    /// sysUpTime in ms (v5, v9).
    pub uptime_ms: Option<u32>,
}

/// Reads the header of an export datagram (any supported version), e.g. to choose the file a
/// datagram's flows go to by the exporter's clock.
pub fn peek_header(d: &[u8]) -> Option<ExportHeader> {
    match d.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]))? {
        5 => v5::header(d),
        9 => v9::header(d),
        10 => ipfix::header(d),
        _ => None,
    }
}

/// Key of a template: (version, domain, template id) within one exporter.
pub(crate) type TemplateKey = (u16, u32, u16);

/// What the decoder keeps about one source id / observation domain of an exporter.
#[derive(Clone, Debug, Default)]
pub(crate) struct Domain {
    /// The sequence number the next datagram should carry, when known (v5, v9).
    pub next_seq: Option<u32>,
    /// IPFIX: the previous message's sequence number and data records (when all were known).
    pub last_ipfix: Option<(u32, Option<u32>)>,
    /// Sampling announced by options data.
    pub sampling: Sampling,
    /// systemInitTimeMilliseconds announced by options data.
    pub sys_init_ms: Option<i64>,
}

/// A data set held until its template arrives.
#[derive(Clone, Debug)]
pub(crate) struct Held {
    pub key: TemplateKey,
    pub header: ExportHeader,
    pub body: Vec<u8>,
    pub recv_ms: i64,
}

/// Everything kept about one exporter.
#[derive(Debug, Default)]
pub(crate) struct Exporter {
    pub stats: DecodeStats,
    pub templates: FastMap<TemplateKey, Arc<Template>>,
    pub domains: FastMap<(u16, u32), Domain>,
    pub held: VecDeque<Held>,
    pub held_bytes: usize,
    /// Bytes of the templates (see [`Template::footprint`]), for the memory cap.
    pub tpl_bytes: usize,
    /// Receive time of the latest datagram (UTC ms): the least recent exporter is evicted first.
    pub last_ms: i64,
    /// Domains created since the decoder last collected them (new scopes to report).
    pub new_domains: Vec<(u16, u32)>,
    /// Loaded from a template cache: kept in the next cache even before it gives flows.
    pub from_cache: bool,
    /// Slots of the domains' sampler tables (see [`Exporter::count_samplers`]).
    pub sampler_slots: usize,
}

impl Exporter {
    fn usage(&self) -> ExporterUsage {
        ExporterUsage {
            templates: self.templates.len(),
            domains: self.domains.len(),
            held_sets: self.held.len(),
            held_bytes: self.held_bytes,
        }
    }

    /// The domain state, created on first use within the configured limit.
    pub fn domain(
        &mut self,
        cfg: &DecoderConfig,
        version: u16,
        domain: u32,
    ) -> Result<&mut Domain, DecodeErrorKind> {
        let n = self.domains.len();
        match self.domains.entry((version, domain)) {
            std::collections::hash_map::Entry::Occupied(e) => Ok(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(e) => {
                if n >= cfg.max_domains_per_exporter {
                    Err(DecodeErrorKind::DomainLimit {
                        domain,
                        max: cfg.max_domains_per_exporter,
                    })
                } else {
                    self.new_domains.push((version, domain));
                    Ok(e.insert(Domain::default()))
                }
            }
        }
    }

    /// Checks and advances the sequence number of a domain.
    pub fn check_sequence(&mut self, version: u16, domain: u32, seq: u32, next: Option<u32>) {
        if let Some(d) = self.domains.get_mut(&(version, domain)) {
            if let Some(want) = d.next_seq {
                if want != seq {
                    self.stats.sequence_gaps += 1;
                }
            }
            d.next_seq = next;
        }
    }

    /// Checks an IPFIX message's sequence number. RFC 7011 numbers a message by the data
    /// records sent before it; softflowd numbers it by the flow records sent up to and including
    /// it. Either continuation is accepted; anything else is a gap.
    pub fn check_ipfix_sequence(
        &mut self,
        domain: u32,
        seq: u32,
        records: Option<u32>,
        flows: u32,
    ) {
        let Some(d) = self.domains.get_mut(&(10, domain)) else {
            return;
        };
        if let Some((last, last_records)) = d.last_ipfix {
            let rfc = last_records.map(|n| last.wrapping_add(n));
            let inclusive = [
                Some(last.wrapping_add(flows)),
                records.map(|n| last.wrapping_add(n)),
            ];
            if rfc != Some(seq) && !inclusive.contains(&Some(seq)) {
                self.stats.sequence_gaps += 1;
            }
        }
        d.last_ipfix = Some((seq, records));
    }

    /// Holds a data set until its template comes, within the limits (oldest dropped first).
    pub fn hold(&mut self, cfg: &DecoderConfig, h: Held) {
        if h.body.len() > cfg.max_held_bytes_per_exporter || cfg.max_held_sets_per_exporter == 0 {
            self.stats.held_dropped += 1;
            return;
        }
        while self.held.len() >= cfg.max_held_sets_per_exporter
            || self.held_bytes + h.body.len() > cfg.max_held_bytes_per_exporter
        {
            self.drop_oldest_held();
        }
        self.held_bytes += h.body.len();
        self.held.push_back(h);
    }

    fn drop_oldest_held(&mut self) {
        if let Some(old) = self.held.pop_front() {
            self.held_bytes -= old.body.len();
            self.stats.held_dropped += 1;
        }
    }

    /// Drops held data received before `cutoff_ms`.
    pub fn expire_held(&mut self, cutoff_ms: i64) {
        while self.held.front().is_some_and(|h| h.recv_ms < cutoff_ms) {
            self.drop_oldest_held();
        }
    }
}

/// A stateful NetFlow v5 / v9 / IPFIX decoder. See the module documentation.
#[derive(Debug, Default)]
pub struct Decoder {
    config: DecoderConfig,
    exporters: FastMap<SocketAddr, Exporter>,
    refused: u64,
    scratch: Vec<template::Op>,
    /// Bytes of state accounted now, and the most ever (see [`memory`]).
    memory: usize,
    peak_memory: usize,
    /// Counters of exporters evicted for memory, and eviction counts.
    evicted: DecodeStats,
    /// Scopes first seen, not yet taken by [`Decoder::take_new_scopes`] (at most
    /// [`MAX_NEW_SCOPES`]; more are counted in `new_scopes_untold`).
    new_scopes: Vec<Scope>,
    new_scopes_untold: u64,
    /// Bumped whenever a template is defined, changed, withdrawn or evicted.
    template_generation: u64,
    /// Flows with untrustworthy times in the last datagram decoded.
    last_bad_times: u64,
}

/// New scopes a decoder remembers until they are taken.
const MAX_NEW_SCOPES: usize = 1024;

impl Decoder {
    /// A decoder with the given limits.
    pub fn new(config: DecoderConfig) -> Self {
        Decoder {
            config,
            ..Decoder::default()
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// Decodes one export datagram from `exporter`, received at `recv_ms` (UTC ms; used to age
    /// held data), appending its flows to `out`.
    ///
    /// On error, the flows of the sets before the damage (and of later sets when the damage
    /// was confined to one set) are in `out`; the error names the first problem's byte offset.
    pub fn decode(
        &mut self,
        datagram: &[u8],
        exporter: impl Source,
        recv_ms: i64,
        out: &mut FlowBlockBuf,
    ) -> Result<DatagramInfo, DecodeError> {
        self.decode_into(datagram, exporter, recv_ms, &mut FlowOut::one(out))
    }

    /// [`Decoder::decode`] into one buffer or a buffer per address family (see [`FlowOut`]).
    pub fn decode_into(
        &mut self,
        datagram: &[u8],
        exporter: impl Source,
        recv_ms: i64,
        out: &mut FlowOut<'_>,
    ) -> Result<DatagramInfo, DecodeError> {
        let source = exporter.source();
        let exporter = source.ip();
        if self.exporters.len() >= self.config.max_exporters
            && !self.exporters.contains_key(&source)
        {
            self.evict_stale_exporter(recv_ms);
        }
        let n_exporters = self.exporters.len();
        let max_exporters = self.config.max_exporters;
        let mut created = false;
        let ex = match self.exporters.entry(source) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                if n_exporters >= max_exporters {
                    self.refused += 1;
                    return Err(DecodeError::at(
                        0,
                        DecodeErrorKind::ExporterLimit { max: max_exporters },
                    ));
                }
                created = true;
                e.insert(Exporter::default())
            }
        };
        let bytes_before = if created { 0 } else { ex.bytes(&self.config) };
        let tpl_before = (ex.templates.len(), ex.tpl_bytes);
        ex.last_ms = ex.last_ms.max(recv_ms);
        ex.stats.datagrams += 1;
        let before = out.len();
        let lens_before = out.lens();
        let result = match datagram.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])) {
            None => Err(DecodeError::at(
                0,
                DecodeErrorKind::TooShort {
                    len: datagram.len(),
                },
            )),
            Some(5) => v5::decode(datagram, exporter, ex, &self.config, out),
            Some(9) | Some(10) => {
                ex.expire_held(recv_ms.saturating_sub(self.config.max_held_age_ms));
                sets::decode(
                    datagram,
                    exporter,
                    recv_ms,
                    ex,
                    &self.config,
                    &mut self.scratch,
                    out,
                )
            }
            Some(v) => Err(DecodeError::at(0, DecodeErrorKind::UnsupportedVersion(v))),
        };
        let flows = out.len() - before;
        ex.stats.flows += flows as u64;
        self.last_bad_times = match peek_header(datagram) {
            Some(h) if flows > 0 => out.count_bad_times(lens_before, h.export_ms),
            _ => 0,
        };
        ex.stats.bad_times += self.last_bad_times;
        if (ex.templates.len(), ex.tpl_bytes) != tpl_before {
            self.template_generation += 1;
        }
        for (version, domain) in ex.new_domains.drain(..) {
            if self.new_scopes.len() < MAX_NEW_SCOPES {
                self.new_scopes.push(Scope {
                    source,
                    version,
                    domain,
                });
            } else {
                self.new_scopes_untold += 1;
            }
        }
        if result.is_err() {
            ex.stats.malformed += 1;
        }
        let bytes_after = ex.bytes(&self.config);
        self.account(created, bytes_before, bytes_after, source);
        result.map(|h| DatagramInfo {
            version: h.version,
            export_ms: h.export_ms,
            flows,
        })
    }

    /// Totals over all exporters (those evicted for memory included).
    pub fn stats(&self) -> DecodeStats {
        let mut s = DecodeStats {
            refused: self.refused,
            ..self.evicted
        };
        for e in self.exporters.values() {
            s.add(&e.stats);
        }
        s
    }

    /// Counters of each exporter scope (address and source port) tracked now.
    pub fn exporter_stats(&self) -> impl Iterator<Item = (SocketAddr, &DecodeStats)> {
        self.exporters.iter().map(|(a, e)| (*a, &e.stats))
    }

    /// Exporters currently tracked (at most [`DecoderConfig::max_exporters`]).
    pub fn exporters(&self) -> usize {
        self.exporters.len()
    }

    /// What the decoder holds for each exporter, to check against the [`DecoderConfig`] limits
    /// (the hostile-exporter tests and the fuzz target do).
    pub fn usage(&self) -> impl Iterator<Item = (SocketAddr, ExporterUsage)> + '_ {
        self.exporters.iter().map(|(a, e)| (*a, e.usage()))
    }

    /// What the decoder holds for one exporter, if it is tracked.
    pub fn exporter_usage(&self, exporter: impl Source) -> Option<ExporterUsage> {
        self.exporters.get(&exporter.source()).map(Exporter::usage)
    }

    /// True when every exporter's usage is within the configured limits.
    pub fn within_limits(&self) -> bool {
        let c = &self.config;
        self.exporters.len() <= c.max_exporters
            && self.usage().all(|(_, u)| {
                u.templates <= c.max_templates_per_exporter
                    && u.domains <= c.max_domains_per_exporter
                    && u.held_sets <= c.max_held_sets_per_exporter
                    && u.held_bytes <= c.max_held_bytes_per_exporter
            })
    }

    /// Data sets currently held waiting for their template.
    pub fn held_sets(&self) -> usize {
        self.exporters.values().map(|e| e.held.len()).sum()
    }

    /// Drops all held data (e.g. at the end of a capture), counting it as dropped; returns how
    /// many sets were dropped.
    pub fn drop_held(&mut self) -> u64 {
        let mut n = 0;
        for e in self.exporters.values_mut() {
            while !e.held.is_empty() {
                let b = e.held.front().map_or(0, memory::held_cost);
                e.drop_oldest_held();
                self.memory -= b;
                n += 1;
            }
        }
        n
    }

    /// Forgets everything about `exporter` (templates, sampling, held data, counters).
    pub fn forget_exporter(&mut self, exporter: impl Source) {
        if let Some(e) = self.exporters.remove(&exporter.source()) {
            self.memory -= e.bytes(&self.config) + memory::EXPORTER_COST;
            self.template_generation += 1;
        }
    }
}

#[cfg(test)]
mod tests;
