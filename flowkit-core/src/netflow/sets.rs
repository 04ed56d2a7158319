//! The set walk shared by NetFlow v9 and IPFIX, and the data path from records to flows.

use super::ipfix::{self, Record};
use super::options::{self, Sampling};
use super::template::{be_uint, walk_records, ColumnPlan, Op, SimpleTimes, Slot, Template};
use super::{
    v5::uptime_to_ms, v9, DecodeError, DecodeErrorKind, DecodeStats, DecoderConfig, Domain,
    ExportHeader, Exporter, FlowOut, Held, TemplateKey,
};
use crate::model::block::{AddrBuf, FlowBlockBuf};
use crate::model::record::FlowRecord;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// Decodes a v9 datagram or the IPFIX message(s) of a datagram.
pub(super) fn decode(
    d: &[u8],
    exporter: IpAddr,
    recv_ms: i64,
    ex: &mut Exporter,
    cfg: &DecoderConfig,
    scratch: &mut Vec<Op>,
    out: &mut FlowOut<'_>,
) -> Result<ExportHeader, DecodeError> {
    let too_short = || DecodeError::at(0, DecodeErrorKind::TooShort { len: d.len() });
    if d[1] == 9 {
        let h = v9::header(d).ok_or_else(too_short)?;
        let mut w = Walk::new(exporter, recv_ms, h);
        w.sets(d, v9::HEADER_LEN, d.len(), ex, cfg, scratch, out);
        return w.error.map_or(Ok(h), Err);
    }
    // IPFIX over UDP carries one message per datagram; some exporters pack several.
    let first = ipfix::header(d).ok_or_else(too_short)?;
    let mut pos = 0;
    while pos < d.len() {
        let rest = &d[pos..];
        let Some(h) = ipfix::header(rest).filter(|_| rest[..2] == [0, 10]) else {
            let kind = DecodeErrorKind::TrailingBytes { len: rest.len() };
            return Err(DecodeError::at(pos, kind));
        };
        let len = u16::from_be_bytes([rest[2], rest[3]]) as usize;
        if len < ipfix::HEADER_LEN || len > rest.len() {
            let kind = DecodeErrorKind::MessageLength {
                len,
                avail: rest.len(),
            };
            return Err(DecodeError::at(pos + 2, kind));
        }
        let mut w = Walk::new(exporter, recv_ms, h);
        w.sets(d, pos + ipfix::HEADER_LEN, pos + len, ex, cfg, scratch, out);
        if let Some(e) = w.error {
            return Err(e);
        }
        pos += len;
    }
    Ok(first)
}

/// State of the walk over one message's sets.
struct Walk {
    exporter: IpAddr,
    recv_ms: i64,
    h: ExportHeader,
    error: Option<DecodeError>,
    /// Data records (flows and options) decoded, for the IPFIX sequence number.
    records: u64,
    /// Of those, flow records.
    flow_records: u64,
    /// A data set had no template (its record count is unknown).
    unknown: bool,
    /// Templates defined or changed by this message.
    new_keys: Vec<TemplateKey>,
}

impl Walk {
    fn new(exporter: IpAddr, recv_ms: i64, h: ExportHeader) -> Self {
        Walk {
            exporter,
            recv_ms,
            h,
            error: None,
            records: 0,
            flow_records: 0,
            unknown: false,
            new_keys: Vec::new(),
        }
    }

    fn note(&mut self, offset: usize, kind: DecodeErrorKind) {
        if self.error.is_none() {
            self.error = Some(DecodeError::at(offset, kind));
        }
    }

    /// Walks the sets in `d[start..end]`.
    #[allow(clippy::too_many_arguments)]
    fn sets(
        &mut self,
        d: &[u8],
        start: usize,
        end: usize,
        ex: &mut Exporter,
        cfg: &DecoderConfig,
        scratch: &mut Vec<Op>,
        out: &mut FlowOut<'_>,
    ) {
        let (version, domain) = (self.h.version, self.h.domain);
        if let Err(k) = ex.domain(cfg, version, domain) {
            let off = if version == 9 { 16 } else { start - 4 };
            self.note(off, k);
            return;
        }
        let (tpl_set, opt_set) = if version == 9 { (0, 1) } else { (2, 3) };
        let mut pos = start;
        while pos < end {
            let left = end - pos;
            if left < 4 {
                // v9 exporters may pad the datagram; an IPFIX message has an exact length.
                if version == 10 {
                    self.note(pos, DecodeErrorKind::TrailingBytes { len: left });
                }
                break;
            }
            let set_id = u16::from_be_bytes([d[pos], d[pos + 1]]);
            let len = u16::from_be_bytes([d[pos + 2], d[pos + 3]]) as usize;
            if len < 4 {
                if version == 9 && set_id == 0 && len == 0 && d[pos..end].iter().all(|&b| b == 0) {
                    break; // zero padding at the end of a v9 datagram
                }
                self.note(pos + 2, DecodeErrorKind::SetTooShort { set_id, len });
                break;
            }
            if len > left {
                let kind = DecodeErrorKind::SetOverrun {
                    set_id,
                    len,
                    avail: left,
                };
                self.note(pos + 2, kind);
                break;
            }
            let body = &d[pos + 4..pos + len];
            if set_id == tpl_set || set_id == opt_set {
                self.template_set(body, pos + 4, set_id == opt_set, ex, cfg);
            } else if set_id >= 256 {
                self.data_set(body, pos + 4, set_id, ex, cfg, scratch, out);
            }
            // Set ids 2..255 (v9) and 4..255 (IPFIX) are reserved: skipped by length.
            pos += len;
        }
        if version == 9 {
            let next = Some(self.h.sequence.wrapping_add(1));
            ex.check_sequence(version, domain, self.h.sequence, next);
        } else {
            let records = (!self.unknown).then_some(self.records as u32);
            ex.check_ipfix_sequence(domain, self.h.sequence, records, self.flow_records as u32);
        }
        if !self.new_keys.is_empty() && !ex.held.is_empty() {
            self.release_held(ex, cfg, scratch, out);
        }
    }

    fn template_set(
        &mut self,
        body: &[u8],
        body_off: usize,
        options: bool,
        ex: &mut Exporter,
        cfg: &DecoderConfig,
    ) {
        let (version, domain) = (self.h.version, self.h.domain);
        let mut off = 0;
        while off < body.len() {
            let rest = &body[off..];
            let at = body_off + off;
            let (record, used) = if version == 9 {
                let parsed = if options {
                    v9::options_template_record(rest, cfg)
                } else {
                    v9::template_record(rest, cfg)
                };
                match parsed {
                    Some((r, used)) => (Record::Define(r), used),
                    None => break,
                }
            } else {
                match ipfix::template_record(rest, options, cfg) {
                    Some(x) => x,
                    None => break,
                }
            };
            off += used;
            match record {
                Record::Define(Ok(def)) => {
                    let key = (version, domain, def.id);
                    let known = match ex.templates.get(&key) {
                        Some(old) if old.same_definition(&def) => {
                            ex.stats.templates += 1; // a refresh: nothing to compile
                            continue;
                        }
                        known => known.is_some(),
                    };
                    let t = match def.compile() {
                        Ok(t) => t,
                        Err(kind) => {
                            self.note(at, kind);
                            continue;
                        }
                    };
                    ex.stats.templates += 1;
                    if !known && ex.templates.len() >= cfg.max_templates_per_exporter {
                        let max = cfg.max_templates_per_exporter;
                        self.note(at, DecodeErrorKind::TemplateLimit { id: t.id, max });
                        continue;
                    }
                    ex.insert_template(key, Arc::new(t));
                    self.new_keys.push(key);
                }
                Record::Define(Err(kind)) => self.note(at, kind),
                Record::Withdraw(id) => {
                    if ex.remove_template(&(version, domain, id)) {
                        ex.stats.template_withdrawals += 1;
                    }
                }
                Record::WithdrawAll(which) => {
                    let want_options = which == 3;
                    let n = ex.remove_templates(|k, t| {
                        k.0 == version && k.1 == domain && t.options == want_options
                    });
                    ex.stats.template_withdrawals += n as u64;
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn data_set(
        &mut self,
        body: &[u8],
        body_off: usize,
        set_id: u16,
        ex: &mut Exporter,
        cfg: &DecoderConfig,
        scratch: &mut Vec<Op>,
        out: &mut FlowOut<'_>,
    ) {
        let key = (self.h.version, self.h.domain, set_id);
        // Borrowed, not cloned: an `Arc` clone and drop per set is two atomic operations, and
        // each waits for the stores of the set decoded before it.
        let Some(t) = ex.templates.get(&key) else {
            ex.stats.unknown_template += 1;
            self.unknown = true;
            let held = Held {
                key,
                header: self.h,
                body: body.to_vec(),
                recv_ms: self.recv_ms,
            };
            ex.hold(cfg, held);
            return;
        };
        let dom = ex
            .domains
            .get_mut(&(key.0, key.1))
            .expect("domain created before the walk");
        let r = data(
            t,
            body,
            &self.h,
            self.exporter,
            dom,
            cfg,
            scratch,
            out,
            &mut ex.stats,
        );
        let options = t.options;
        match r {
            Ok(n) => {
                self.records += n as u64;
                if !options {
                    self.flow_records += n as u64;
                }
            }
            Err((o, kind)) => self.note(body_off + o, kind),
        }
        if options {
            ex.count_samplers(); // options data may have grown a sampler table
        }
    }

    fn release_held(
        &mut self,
        ex: &mut Exporter,
        cfg: &DecoderConfig,
        scratch: &mut Vec<Op>,
        out: &mut FlowOut<'_>,
    ) {
        let mut i = 0;
        while i < ex.held.len() {
            if !self.new_keys.contains(&ex.held[i].key) {
                i += 1;
                continue;
            }
            let Some(h) = ex.held.remove(i) else { break };
            ex.held_bytes -= h.body.len();
            ex.stats.held_decoded += 1;
            let (Some(t), Some(dom)) = (
                ex.templates.get(&h.key).cloned(),
                ex.domains.get_mut(&(h.key.0, h.key.1)),
            ) else {
                continue;
            };
            let r = data(
                &t,
                &h.body,
                &h.header,
                self.exporter,
                dom,
                cfg,
                scratch,
                out,
                &mut ex.stats,
            );
            if r.is_err() {
                ex.stats.malformed += 1;
            }
        }
        ex.count_samplers();
    }
}

/// Decodes the records of one data set with its template: flows into `out`, or options
/// records into the domain's state. Returns the records decoded.
#[allow(clippy::too_many_arguments)]
fn data(
    t: &Template,
    body: &[u8],
    h: &ExportHeader,
    exporter: IpAddr,
    dom: &mut Domain,
    cfg: &DecoderConfig,
    scratch: &mut Vec<Op>,
    out: &mut FlowOut<'_>,
    stats: &mut DecodeStats,
) -> Result<usize, (usize, DecodeErrorKind)> {
    if t.options {
        let r = walk_records(&t.layout, body, scratch, |rec, ops| {
            let o = options::read(rec, ops);
            dom.sampling.learn(&o, cfg.max_samplers_per_domain);
            if o.sys_init_ms.is_some() {
                dom.sys_init_ms = o.sys_init_ms;
            }
            stats.options_records += 1;
        });
        return r;
    }
    let ctx = FlowCtx {
        version: h.version,
        export_ms: h.export_ms,
        uptime_ms: h.uptime_ms,
        sys_init_ms: dom.sys_init_ms,
    };
    let base = FlowRecord {
        exporter,
        engine_type: (h.domain >> 8) as u8,
        engine_id: h.domain as u8,
        sampling_interval: dom.sampling.interval(None),
        ..FlowRecord::default()
    };
    let sampling = &dom.sampling;
    if let Some(plan) = &t.columns {
        let out = out.family(plan.v6);
        return Ok(columns(plan, body, &base, &ctx, sampling, out));
    }
    walk_records(&t.layout, body, scratch, |rec, ops| {
        out.push(&flow(rec, ops, &base, &ctx, sampling));
    })
}

/// The header and domain facts a record's times are relative to.
#[derive(Debug)]
pub(super) struct FlowCtx {
    pub(super) version: u16,
    pub(super) export_ms: i64,
    pub(super) uptime_ms: Option<u32>,
    pub(super) sys_init_ms: Option<i64>,
}

#[inline(always)]
fn addr(b: &[u8]) -> IpAddr {
    if b.len() == 4 {
        IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    } else {
        let mut a = [0u8; 16];
        a.copy_from_slice(b);
        IpAddr::V6(Ipv6Addr::from(a))
    }
}

#[inline(always)]
fn set_addr(slot: &mut IpAddr, b: &[u8]) {
    if b.iter().any(|&x| x != 0) || slot.is_unspecified() {
        *slot = addr(b);
    }
}

/// NTP timestamp (seconds since 1900, 32-bit fraction) to UTC ms.
#[inline(always)]
fn ntp_to_ms(v: u64) -> i64 {
    const NTP_TO_UNIX: i64 = 2_208_988_800;
    let secs = (v >> 32) as i64 - NTP_TO_UNIX;
    let frac_ms = ((v & 0xFFFF_FFFF) * 1000) >> 32;
    secs * 1000 + frac_ms as i64
}

/// 16-byte (64-bit seconds, 64-bit fraction in 1/`per_ms` ms) time, as pmacct sends
/// flowStart/EndMicroseconds, to UTC ms.
#[inline(always)]
fn pair_to_ms(b: &[u8], per_ms: u64) -> i64 {
    let secs = be_uint(&b[..8]) as i64;
    let frac = be_uint(&b[8..16]) / per_ms;
    secs.saturating_mul(1000).saturating_add(frac as i64)
}

/// The per-record inputs that are not plain columns: times, ICMP type/code, sampling.
#[derive(Default)]
struct Extras {
    start_abs: Option<i64>,
    end_abs: Option<i64>,
    start_up: Option<u32>,
    end_up: Option<u32>,
    start_delta: Option<u64>,
    end_delta: Option<u64>,
    sys_init: Option<i64>,
    duration: Option<i64>,
    icmp: Option<u16>,
    icmp_type: Option<u8>,
    icmp_code: Option<u8>,
    sampler: Option<u64>,
    interval: Option<u32>,
}

impl Extras {
    /// Takes a value for a non-column slot (others are ignored).
    #[inline(always)]
    fn take(&mut self, slot: Slot, b: &[u8]) {
        match slot {
            Slot::SamplingInterval => self.interval = Some(be_uint(b) as u32),
            Slot::SamplerId => self.sampler = Some(be_uint(b)),
            Slot::IcmpTypeCode => self.icmp = Some(be_uint(b) as u16),
            Slot::IcmpType => self.icmp_type = Some(b[0]),
            Slot::IcmpCode => self.icmp_code = Some(b[0]),
            Slot::StartUptime => self.start_up = Some(be_uint(b) as u32),
            Slot::EndUptime => self.end_up = Some(be_uint(b) as u32),
            Slot::StartSecs => self.start_abs = Some((be_uint(b) as i64).saturating_mul(1000)),
            Slot::EndSecs => self.end_abs = Some((be_uint(b) as i64).saturating_mul(1000)),
            Slot::StartMillis => self.start_abs = Some(be_uint(b) as i64),
            Slot::EndMillis => self.end_abs = Some(be_uint(b) as i64),
            Slot::StartNtp => self.start_abs = Some(ntp_to_ms(be_uint(b))),
            Slot::EndNtp => self.end_abs = Some(ntp_to_ms(be_uint(b))),
            Slot::StartTimevalMicros => self.start_abs = Some(pair_to_ms(b, 1000)),
            Slot::EndTimevalMicros => self.end_abs = Some(pair_to_ms(b, 1000)),
            Slot::StartTimespecNanos => self.start_abs = Some(pair_to_ms(b, 1_000_000)),
            Slot::EndTimespecNanos => self.end_abs = Some(pair_to_ms(b, 1_000_000)),
            Slot::StartDeltaMicros => self.start_delta = Some(be_uint(b)),
            Slot::EndDeltaMicros => self.end_delta = Some(be_uint(b)),
            Slot::SysInitMillis => self.sys_init = Some(be_uint(b) as i64),
            Slot::DurationMillis => self.duration = Some(be_uint(b) as i64),
            Slot::DurationMicros => self.duration = Some(be_uint(b) as i64 / 1000),
            _ => {}
        }
    }

    /// Start and end (UTC ms). Absolute fields first, then sysUpTime-relative ones (v9:
    /// against the header's uptime; IPFIX: against systemInitTimeMilliseconds), then deltas
    /// before the export time.
    #[inline(always)]
    fn times(&self, ctx: &FlowCtx) -> (i64, i64) {
        let sys_init = self.sys_init.or(ctx.sys_init_ms);
        let up = |u: u32| -> Option<i64> {
            match (ctx.version, sys_init, ctx.uptime_ms) {
                (10, Some(init), _) => Some(init.saturating_add(u as i64)),
                (_, _, Some(uptime)) => Some(uptime_to_ms(ctx.export_ms, uptime, u)),
                (_, Some(init), None) => Some(init.saturating_add(u as i64)),
                _ => None,
            }
        };
        let mut start = self
            .start_abs
            .or_else(|| self.start_up.and_then(up))
            .or_else(|| {
                self.start_delta
                    .map(|d| ctx.export_ms.saturating_sub((d / 1000) as i64))
            });
        let mut end = self
            .end_abs
            .or_else(|| self.end_up.and_then(up))
            .or_else(|| {
                self.end_delta
                    .map(|d| ctx.export_ms.saturating_sub((d / 1000) as i64))
            });
        if start.is_none() && end.is_none() {
            if let (Some(s), Some(e)) = (self.start_up, self.end_up) {
                // sysUpTime-relative IPFIX times with no known system init time: keep the
                // duration and take the flow to end at the export.
                end = Some(ctx.export_ms);
                start = Some(ctx.export_ms - e.wrapping_sub(s) as i32 as i64);
            }
        }
        match (start, end, self.duration) {
            (Some(s), None, Some(d)) => end = Some(s.saturating_add(d)),
            (None, Some(e), Some(d)) => start = Some(e.saturating_sub(d)),
            _ => {}
        }
        let start_ms = start.or(end).unwrap_or(ctx.export_ms);
        (start_ms, end.unwrap_or(start_ms))
    }

    /// `type << 8 | code` for an ICMP flow whose record carries them.
    #[inline(always)]
    fn icmp_port(&self, protocol: u8) -> Option<u16> {
        if protocol != 1 && protocol != 58 {
            return None;
        }
        self.icmp.or_else(|| {
            (self.icmp_type.is_some() || self.icmp_code.is_some()).then(|| {
                (self.icmp_type.unwrap_or(0) as u16) << 8 | self.icmp_code.unwrap_or(0) as u16
            })
        })
    }

    /// The flow's sampling interval: its own field, its sampler's, or the domain's.
    #[inline(always)]
    fn interval(&self, sampling: &Sampling, default: u32) -> u32 {
        match self.interval {
            Some(v) => v,
            None if self.sampler.is_some() => sampling.interval(self.sampler),
            None => default,
        }
    }
}

/// Builds one flow from a data record (the general path: any layout, repeated fields).
#[inline]
fn flow(
    rec: &[u8],
    ops: &[Op],
    base: &FlowRecord,
    ctx: &FlowCtx,
    sampling: &Sampling,
) -> FlowRecord {
    let mut r = base.clone();
    let mut x = Extras::default();
    for op in ops {
        let b = &rec[op.offset as usize..op.offset as usize + op.len as usize];
        match op.slot {
            // Templates may carry both IPv4 and IPv6 fields (Procera): an all-zero one does
            // not replace an address already read.
            Slot::SrcAddr => set_addr(&mut r.src_addr, b),
            Slot::DstAddr => set_addr(&mut r.dst_addr, b),
            Slot::NextHop => set_addr(&mut r.next_hop, b),
            Slot::SrcPort => r.src_port = be_uint(b) as u16,
            Slot::DstPort => r.dst_port = be_uint(b) as u16,
            Slot::Protocol => r.protocol = b[0],
            Slot::TcpFlags => r.tcp_flags = be_uint(b) as u8,
            Slot::Tos => r.tos = b[0],
            Slot::Packets => r.packets = be_uint(b),
            Slot::Octets => r.octets = be_uint(b),
            Slot::RevPackets => r.rev_packets = be_uint(b),
            Slot::RevOctets => r.rev_octets = be_uint(b),
            Slot::InputIf => r.input_if = be_uint(b) as u32,
            Slot::OutputIf => r.output_if = be_uint(b) as u32,
            Slot::SrcAs => r.src_as = be_uint(b) as u32,
            Slot::DstAs => r.dst_as = be_uint(b) as u32,
            Slot::SrcMask => r.src_mask = b[0],
            Slot::DstMask => r.dst_mask = b[0],
            slot => x.take(slot, b),
        }
    }
    (r.start_ms, r.end_ms) = x.times(ctx);
    if let Some(p) = x.icmp_port(r.protocol) {
        r.dst_port = p;
    }
    r.sampling_interval = x.interval(sampling, r.sampling_interval);
    r
}

/// The column-at-a-time path for fixed-length templates that name each column at most once
/// (all real exporters' flow templates): each used column is filled for every record of the
/// set in one tight loop, unused ones with the set's constant, and only times, ICMP and
/// sampling are resolved record by record.
pub(super) fn columns(
    plan: &ColumnPlan,
    body: &[u8],
    base: &FlowRecord,
    ctx: &FlowCtx,
    sampling: &Sampling,
    out: &mut FlowBlockBuf,
) -> usize {
    let recs = Records::new(body, plan.record_len);
    let n = recs.n;
    if n == 0 {
        return 0;
    }
    let first = out.len();
    for k in &plan.kernels {
        (k.fill)(out, recs, k.op.offset as usize, k.op.len as usize);
    }
    let written = plan.written;
    macro_rules! fill {
        ($($slot:ident => $col:ident),* ; $($always:ident),*) => {
            $(if written & (1 << Slot::$slot as u64) == 0 {
                out.$col.extend(std::iter::repeat_n(base.$col, n));
            })*
            $(out.$always.extend(std::iter::repeat_n(base.$always, n));)*
        };
    }
    fill!(SrcPort => src_port, DstPort => dst_port, Protocol => protocol,
        TcpFlags => tcp_flags, Tos => tos, Packets => packets, Octets => octets,
        RevPackets => rev_packets, RevOctets => rev_octets, InputIf => input_if,
        OutputIf => output_if, SrcAs => src_as, DstAs => dst_as, SrcMask => src_mask,
        DstMask => dst_mask;
        engine_type, engine_id, src_tag, dst_tag);
    // Written out, not as a loop over an array of (slot, column, address): that array,
    // built on the stack for every set, cost a store-forwarding stall on each read.
    if written & (1 << Slot::SrcAddr as u64) == 0 {
        fill_addr(&mut out.src_addr, base.src_addr, n);
    }
    if written & (1 << Slot::DstAddr as u64) == 0 {
        fill_addr(&mut out.dst_addr, base.dst_addr, n);
    }
    if written & (1 << Slot::NextHop as u64) == 0 {
        fill_addr(&mut out.next_hop, base.next_hop, n);
    }
    fill_addr(&mut out.exporter, base.exporter, n);
    out.start_ms.reserve(n);
    out.end_ms.reserve(n);
    out.sampling_interval.reserve(n);
    if let Some(simple) = &plan.simple {
        let up = uptime_base(ctx);
        if up.is_some() || !simple.uses_uptime() {
            simple_times(simple, up, recs, first, out);
            out.sampling_interval
                .extend(std::iter::repeat_n(base.sampling_interval, n));
            return n;
        }
    }
    for (i, rec) in recs.body.chunks_exact(recs.rl).enumerate() {
        let mut x = Extras::default();
        for op in &plan.per_record {
            x.take(
                op.slot,
                &rec[op.offset as usize..op.offset as usize + op.len as usize],
            );
        }
        let (s, e) = x.times(ctx);
        out.start_ms.push(s);
        out.end_ms.push(e);
        out.sampling_interval
            .push(x.interval(sampling, base.sampling_interval));
        if plan.icmp {
            if let Some(p) = x.icmp_port(out.protocol[first + i]) {
                out.dst_port[first + i] = p;
            }
        }
    }
    n
}

/// The whole records of a data set: `n` records of `rl` bytes, exactly `body`.
#[derive(Clone, Copy)]
pub(crate) struct Records<'a> {
    body: &'a [u8],
    n: usize,
    rl: usize,
}

impl<'a> Records<'a> {
    /// The records of `body` (trailing bytes too short for a record are padding).
    fn new(body: &'a [u8], rl: usize) -> Records<'a> {
        let n = body.len() / rl;
        Records {
            body: &body[..n * rl],
            n,
            rl,
        }
    }

    /// The `W` bytes at offset `off` of each record, in order.
    ///
    /// Hand-written with one bounds check for the whole column instead of one per value: with
    /// the ten to thirty records of a typical set, the per-value checks (and the record stride
    /// worked out by `chunks_exact`, which divides) were a third of the decoder's instructions.
    #[inline(always)]
    fn field<const W: usize>(self, off: usize) -> impl ExactSizeIterator<Item = [u8; W]> + 'a {
        assert!(off + W <= self.rl);
        let (base, rl) = (self.body.as_ptr(), self.rl);
        (0..self.n).map(move |i| {
            // SAFETY: i < n, so i * rl + off + W <= (n - 1) * rl + rl = n * rl = body.len()
            // (`new` cut body to n * rl); [u8; W] has no alignment requirement.
            unsafe { base.add(i * rl + off).cast::<[u8; W]>().read() }
        })
    }

    /// The `len`-byte field at offset `off` of each record, in order (any width).
    fn slices(self, off: usize, len: usize) -> impl ExactSizeIterator<Item = &'a [u8]> {
        let (body, rl) = (self.body, self.rl);
        (0..self.n).map(move |i| &body[i * rl + off..i * rl + off + len])
    }
}

/// How one column of a plan is filled: `(out, records, offset, length)`.
type FillFn = fn(&mut FlowBlockBuf, Records<'_>, usize, usize);

/// A column operation of a plan bound, when the template is compiled, to the loop that fills
/// its column at its width: a set then pays no dispatch on the column or the width.
#[derive(Clone, Copy)]
pub(crate) struct ColumnKernel {
    /// The field read.
    pub(crate) op: Op,
    fill: FillFn,
}

impl PartialEq for ColumnKernel {
    fn eq(&self, o: &Self) -> bool {
        self.op == o.op // `fill` is a function of `op`
    }
}

impl Eq for ColumnKernel {}

impl std::fmt::Debug for ColumnKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.op.fmt(f)
    }
}

impl ColumnKernel {
    /// The kernel of a column operation; `None` for a slot that is not a plain column of the
    /// flow record (times, ICMP, sampling: resolved record by record).
    pub(crate) fn new(op: Op) -> Option<ColumnKernel> {
        macro_rules! int {
            ($col:ident, $ty:ty) => {
                match op.len {
                    1 => |o: &mut FlowBlockBuf, r: Records<'_>, off, _| {
                        o.$col.extend(r.field::<1>(off).map(|b| b[0] as $ty))
                    },
                    2 => |o: &mut FlowBlockBuf, r: Records<'_>, off, _| {
                        o.$col
                            .extend(r.field(off).map(|b| u16::from_be_bytes(b) as $ty))
                    },
                    4 => |o: &mut FlowBlockBuf, r: Records<'_>, off, _| {
                        o.$col
                            .extend(r.field(off).map(|b| u32::from_be_bytes(b) as $ty))
                    },
                    8 => |o: &mut FlowBlockBuf, r: Records<'_>, off, _| {
                        o.$col
                            .extend(r.field(off).map(|b| u64::from_be_bytes(b) as $ty))
                    },
                    _ => |o: &mut FlowBlockBuf, r: Records<'_>, off, len| {
                        o.$col.extend(r.slices(off, len).map(|b| be_uint(b) as $ty))
                    },
                }
            };
        }
        let fill: FillFn = match op.slot {
            Slot::SrcAddr => |o, r, off, len| addr_col(&mut o.src_addr, r, off, len),
            Slot::DstAddr => |o, r, off, len| addr_col(&mut o.dst_addr, r, off, len),
            Slot::NextHop => |o, r, off, len| addr_col(&mut o.next_hop, r, off, len),
            Slot::SrcPort => int!(src_port, u16),
            Slot::DstPort => int!(dst_port, u16),
            Slot::Protocol => int!(protocol, u8),
            Slot::TcpFlags => int!(tcp_flags, u8),
            Slot::Tos => int!(tos, u8),
            Slot::Packets => int!(packets, u64),
            Slot::Octets => int!(octets, u64),
            Slot::RevPackets => int!(rev_packets, u64),
            Slot::RevOctets => int!(rev_octets, u64),
            Slot::InputIf => int!(input_if, u32),
            Slot::OutputIf => int!(output_if, u32),
            Slot::SrcAs => int!(src_as, u32),
            Slot::DstAs => int!(dst_as, u32),
            Slot::SrcMask => int!(src_mask, u8),
            Slot::DstMask => int!(dst_mask, u8),
            _ => return None,
        };
        Some(ColumnKernel { op, fill })
    }
}

/// How sysUpTime-relative times of a set become UTC ms, as [`Extras::times`] resolves them for
/// records without a systemInitTimeMilliseconds field of their own. `None` when the set has
/// nothing to anchor them to (such records take the general path's fallbacks).
#[derive(Clone, Copy)]
enum UptimeBase {
    /// Against the header's export time and uptime (NetFlow v9).
    Header { export_ms: i64, uptime: u32 },
    /// Added to the system init time (IPFIX).
    Init(i64),
}

fn uptime_base(ctx: &FlowCtx) -> Option<UptimeBase> {
    match (ctx.version, ctx.sys_init_ms, ctx.uptime_ms) {
        (10, Some(init), _) => Some(UptimeBase::Init(init)),
        (_, _, Some(uptime)) => Some(UptimeBase::Header {
            export_ms: ctx.export_ms,
            uptime,
        }),
        (_, Some(init), None) => Some(UptimeBase::Init(init)),
        _ => None,
    }
}

/// Fills the start and end columns (and ICMP type/code) of a plan with [`SimpleTimes`], a
/// column at a time. Gives what [`Extras::times`] gives when both times are present.
fn simple_times(
    simple: &SimpleTimes,
    up: Option<UptimeBase>,
    recs: Records<'_>,
    first: usize,
    out: &mut FlowBlockBuf,
) {
    for (op, col) in [
        (simple.start, &mut out.start_ms),
        (simple.end, &mut out.end_ms),
    ] {
        let (off, len) = (op.offset as usize, op.len as usize);
        match op.slot {
            Slot::StartSecs | Slot::EndSecs => {
                extend_be(col, recs, off, len, |v| (v as i64).saturating_mul(1000))
            }
            Slot::StartMillis | Slot::EndMillis => extend_be(col, recs, off, len, |v| v as i64),
            Slot::StartNtp | Slot::EndNtp => extend_be(col, recs, off, len, ntp_to_ms),
            _ => match up.expect("checked by the caller") {
                UptimeBase::Header { export_ms, uptime } => extend_be(col, recs, off, len, |v| {
                    uptime_to_ms(export_ms, uptime, v as u32)
                }),
                UptimeBase::Init(init) => extend_be(col, recs, off, len, |v| {
                    init.saturating_add(v as u32 as i64)
                }),
            },
        }
    }
    if let Some(op) = simple.icmp {
        let (off, len) = (op.offset as usize, op.len as usize);
        let protocols = &out.protocol[first..];
        let ports = &mut out.dst_port[first..];
        for ((rec, &proto), port) in recs.body.chunks_exact(recs.rl).zip(protocols).zip(ports) {
            if proto == 1 || proto == 58 {
                *port = be_uint(&rec[off..off + len]) as u16;
            }
        }
    }
}

/// Appends `f(value)` for the `len`-byte big-endian field at `off` of each record. The width
/// is matched once per call, not per value, so each arm is a tight loop over
/// [`Records::field`].
#[inline(always)]
fn extend_be<T>(v: &mut Vec<T>, recs: Records<'_>, off: usize, len: usize, f: impl Fn(u64) -> T) {
    match len {
        1 => v.extend(recs.field::<1>(off).map(|b| f(b[0] as u64))),
        2 => v.extend(recs.field(off).map(|b| f(u16::from_be_bytes(b) as u64))),
        4 => v.extend(recs.field(off).map(|b| f(u32::from_be_bytes(b) as u64))),
        8 => v.extend(recs.field(off).map(|b| f(u64::from_be_bytes(b)))),
        _ => v.extend(recs.slices(off, len).map(|b| f(be_uint(b)))),
    }
}

/// Appends `n` copies of an address.
fn fill_addr(col: &mut AddrBuf, a: IpAddr, n: usize) {
    match (col, a) {
        (AddrBuf::V4(v), IpAddr::V4(a4)) => v.extend(std::iter::repeat_n(u32::from(a4), n)),
        (col, a) => {
            for _ in 0..n {
                col.push(a);
            }
        }
    }
}

/// Fills an address column from offset `off` of each record.
fn addr_col(col: &mut AddrBuf, recs: Records<'_>, off: usize, len: usize) {
    match (col, len) {
        (AddrBuf::V4(v), 4) => {
            v.extend(recs.field(off).map(u32::from_be_bytes));
        }
        // A column already wide (the batch holds IPv6 flows): IPv4 addresses IPv4-mapped,
        // IPv6 ones as they are, as `AddrBuf::push` stores them.
        (AddrBuf::V6(v), 4) => {
            v.extend(
                recs.field::<4>(off)
                    .map(|[a, b, c, d]| [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d]),
            );
        }
        (AddrBuf::V6(v), 16) => {
            v.extend(recs.field::<16>(off));
        }
        (col, _) => {
            for b in recs.slices(off, len) {
                col.push(addr(b));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netflow::template::FieldSpec;

    /// The column-at-a-time path and the record path give the same flows.
    #[test]
    fn column_and_record_paths_agree() {
        let f = |id, len| FieldSpec {
            id,
            enterprise: 0,
            len,
        };
        // IPv6 and IPv4 mixed per template, ICMP type/code, sampler id, uptime times.
        let fields = vec![
            f(27, 16),
            f(12, 4),
            f(7, 2),
            f(11, 2),
            f(4, 1),
            f(32, 2),
            f(2, 4),
            f(1, 8),
            f(22, 4),
            f(21, 4),
            f(48, 1),
            f(999, 3),
        ];
        let t = Template::compile(300, fields, false, 0, true).unwrap();
        assert!(t.columns.is_some());
        let mut body = Vec::new();
        for i in 0..7u8 {
            body.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i]);
            body.extend_from_slice(&[
                10,
                0,
                0,
                i,
                0,
                80 + i,
                1,
                187,
                if i % 2 == 0 { 1 } else { 6 },
            ]);
            body.extend_from_slice(&[3, i, 0, 0, 0, i + 1]);
            body.extend_from_slice(&(i as u64 * 1000).to_be_bytes());
            body.extend_from_slice(&(1000 * i as u32).to_be_bytes());
            body.extend_from_slice(&(1500 * i as u32).to_be_bytes());
            body.extend_from_slice(&[i % 3, 9, 9, 9]);
        }
        body.extend_from_slice(&[0, 0, 0]); // padding
        let mut sampling = Sampling::default();
        sampling.by_sampler.insert(1, 10);
        sampling.by_sampler.insert(2, 20);
        sampling.default_interval = Some(5);
        let ctx = FlowCtx {
            version: 9,
            export_ms: 1_289_311_200_000,
            uptime_ms: Some(60_000),
            sys_init_ms: None,
        };
        let base = FlowRecord {
            exporter: "192.0.2.1".parse().unwrap(),
            engine_id: 4,
            sampling_interval: 5,
            ..FlowRecord::default()
        };
        let mut by_columns = FlowBlockBuf::default();
        let n = columns(
            t.columns.as_ref().unwrap(),
            &body,
            &base,
            &ctx,
            &sampling,
            &mut by_columns,
        );
        let mut by_records = FlowBlockBuf::default();
        walk_records(&t.layout, &body, &mut Vec::new(), |rec, ops| {
            by_records.push(&flow(rec, ops, &base, &ctx, &sampling));
        })
        .unwrap();
        assert_eq!(n, 7);
        let a: Vec<_> = by_columns.view().records().collect();
        let b: Vec<_> = by_records.view().records().collect();
        assert_eq!(a, b);
        assert_eq!(
            a[2].dst_port,
            3 << 8 | 2,
            "ICMP type/code replaces the port"
        );
        assert_eq!(a[1].dst_port, 443);
        assert_eq!(
            a.iter().map(|r| r.sampling_interval).collect::<Vec<_>>(),
            vec![5, 10, 20, 5, 10, 20, 5]
        );
    }

    /// Templates whose times the column path fills without per-record logic (one start and
    /// one end field of any kind, perhaps ICMP type/code) give what the record path gives, in
    /// every kind of header context, including uptimes that wrapped or lie ahead.
    #[test]
    fn simple_time_columns_agree_with_the_record_path() {
        let f = |id, len| FieldSpec {
            id,
            enterprise: 0,
            len,
        };
        // (start IE, end IE, field length): uptime, seconds, milliseconds, NTP.
        let starts = [(22, 4), (150, 4), (152, 8), (156, 8)];
        let ends = [(21, 4), (151, 4), (153, 8), (157, 8)];
        let contexts = [
            (9, Some(60_000), None),
            (9, Some(5), None), // uptime just after boot: record times ahead of it or wrapped
            (10, None, Some(1_289_000_000_000)),
            (10, Some(60_000), None),
            (10, None, None), // IPFIX uptimes with nothing to anchor them
        ];
        for (start, end) in starts
            .iter()
            .flat_map(|s| ends.iter().map(move |e| (*s, *e)))
        {
            for icmp in [false, true] {
                let mut fields = vec![f(8, 4), f(4, 1), f(11, 2), f(2, 3), f(1, 8)];
                fields.push(f(start.0, start.1));
                fields.push(f(end.0, end.1));
                if icmp {
                    fields.push(f(32, 2));
                }
                let t = Template::compile(300, fields, false, 0, true).unwrap();
                let plan = t.columns.as_ref().unwrap();
                assert!(plan.simple.is_some(), "{start:?} {end:?} {icmp}");
                let mut body = Vec::new();
                for i in 0..9u32 {
                    body.extend_from_slice(&(0x0a00_0000 + i).to_be_bytes());
                    body.push(if i % 3 == 0 { 1 } else { 17 });
                    body.extend_from_slice(&(53 + i as u16).to_be_bytes());
                    body.extend_from_slice(&[0, 1, i as u8]);
                    body.extend_from_slice(&(1000 * i as u64).to_be_bytes());
                    for (ie, len) in [start, end] {
                        let v: u64 = match ie {
                            22 | 21 => u64::from(i.wrapping_mul(7919).wrapping_sub(3)),
                            150 | 151 => 1_289_300_000 + u64::from(i),
                            152 | 153 => 1_289_300_000_000 + u64::from(i) * 1111,
                            _ => ((3_498_300_000 + u64::from(i)) << 32) | u64::from(i) << 28,
                        };
                        body.extend_from_slice(&v.to_be_bytes()[8 - len as usize..]);
                    }
                    if icmp {
                        body.extend_from_slice(&[3, i as u8]);
                    }
                }
                for (version, uptime_ms, sys_init_ms) in contexts {
                    let ctx = FlowCtx {
                        version,
                        export_ms: 1_289_311_200_000,
                        uptime_ms,
                        sys_init_ms,
                    };
                    let base = FlowRecord {
                        exporter: "192.0.2.1".parse().unwrap(),
                        sampling_interval: 5,
                        ..FlowRecord::default()
                    };
                    let sampling = Sampling::default();
                    let mut by_columns = FlowBlockBuf::default();
                    let n = columns(plan, &body, &base, &ctx, &sampling, &mut by_columns);
                    let mut by_records = FlowBlockBuf::default();
                    walk_records(&t.layout, &body, &mut Vec::new(), |rec, ops| {
                        by_records.push(&flow(rec, ops, &base, &ctx, &sampling));
                    })
                    .unwrap();
                    assert_eq!(n, 9);
                    let a: Vec<_> = by_columns.view().records().collect();
                    let b: Vec<_> = by_records.view().records().collect();
                    assert_eq!(a, b, "{start:?} {end:?} icmp {icmp} {ctx:?}");
                    assert_eq!(a[3].packets, 0x0103);
                }
            }
        }
    }
}
