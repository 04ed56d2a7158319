//! The record-at-a-time path: one flow built from a data record of any layout, and the
//! per-record inputs (times, ICMP type/code, sampling) the column path resolves the same way.

use super::FlowCtx;
use crate::model::record::FlowRecord;
use crate::netflow::options::Sampling;
use crate::netflow::template::{be_uint, Op, Slot};
use crate::netflow::v5::uptime_to_ms;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
#[inline(always)]
pub(super) fn addr(b: &[u8]) -> IpAddr {
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
pub(super) fn ntp_to_ms(v: u64) -> i64 {
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
pub(super) struct Extras {
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
    pub(super) fn take(&mut self, slot: Slot, b: &[u8]) {
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
    pub(super) fn times(&self, ctx: &FlowCtx) -> (i64, i64) {
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
    pub(super) fn icmp_port(&self, protocol: u8) -> Option<u16> {
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
    pub(super) fn interval(&self, sampling: &Sampling, default: u32) -> u32 {
        match self.interval {
            Some(v) => v,
            None if self.sampler.is_some() => sampling.interval(self.sampler),
            None => default,
        }
    }
}

/// Builds one flow from a data record (the general path: any layout, repeated fields).
#[inline]
pub(super) fn flow(
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
            Slot::XlateSrcAddr => set_addr(&mut r.xlate_src_addr, b),
            Slot::XlateDstAddr => set_addr(&mut r.xlate_dst_addr, b),
            Slot::XlateSrcPort => r.xlate_src_port = be_uint(b) as u16,
            Slot::XlateDstPort => r.xlate_dst_port = be_uint(b) as u16,
            Slot::FlowId => r.flow_id = be_uint(b),
            Slot::SrcVlan => r.src_vlan = be_uint(b) as u16,
            Slot::DstVlan => r.dst_vlan = be_uint(b) as u16,
            Slot::EndReason => r.end_reason = b[0],
            Slot::SrcMac => r.src_mac = be_uint(b),
            Slot::DstMac => r.dst_mac = be_uint(b),
            Slot::MplsLabel1 => r.mpls_label1 = be_uint(b) as u32,
            Slot::MplsLabel2 => r.mpls_label2 = be_uint(b) as u32,
            Slot::MplsLabel3 => r.mpls_label3 = be_uint(b) as u32,
            Slot::AppId => r.app_id = crate::model::l2::app_id(b).unwrap_or(0),
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
