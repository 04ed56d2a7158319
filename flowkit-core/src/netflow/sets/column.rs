//! The column-at-a-time path: each used column of a fixed-length template filled for every
//! record of a set in one loop, by kernels bound to the column and width when it is compiled.

use super::record::{addr, ntp_to_ms, Extras};
use super::FlowCtx;
use crate::model::block::{AddrBuf, FlowBlockBuf};
use crate::model::record::FlowRecord;
use crate::netflow::options::Sampling;
use crate::netflow::template::{be_uint, ColumnPlan, Op, SimpleTimes, Slot};
use crate::netflow::v5::uptime_to_ms;
use std::net::IpAddr;
/// The column-at-a-time path for fixed-length templates that name each column at most once
/// (all real exporters' flow templates): each used column is filled for every record of the
/// set in one tight loop, unused ones with the set's constant, and only times, ICMP and
/// sampling are resolved record by record.
pub(in crate::netflow) fn columns(
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
        DstMask => dst_mask, XlateSrcPort => xlate_src_port, XlateDstPort => xlate_dst_port,
        FlowId => flow_id, SrcVlan => src_vlan, DstVlan => dst_vlan, EndReason => end_reason,
        SrcMac => src_mac, DstMac => dst_mac, MplsLabel1 => mpls_label1,
        MplsLabel2 => mpls_label2, MplsLabel3 => mpls_label3, AppId => app_id;
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
    if written & (1 << Slot::XlateSrcAddr as u64) == 0 {
        fill_addr(&mut out.xlate_src_addr, base.xlate_src_addr, n);
    }
    if written & (1 << Slot::XlateDstAddr as u64) == 0 {
        fill_addr(&mut out.xlate_dst_addr, base.xlate_dst_addr, n);
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
            Slot::XlateSrcAddr => |o, r, off, len| addr_col(&mut o.xlate_src_addr, r, off, len),
            Slot::XlateDstAddr => |o, r, off, len| addr_col(&mut o.xlate_dst_addr, r, off, len),
            Slot::XlateSrcPort => int!(xlate_src_port, u16),
            Slot::XlateDstPort => int!(xlate_dst_port, u16),
            Slot::FlowId => int!(flow_id, u64),
            Slot::SrcVlan => int!(src_vlan, u16),
            Slot::DstVlan => int!(dst_vlan, u16),
            Slot::EndReason => int!(end_reason, u8),
            Slot::SrcMac => int!(src_mac, u64),
            Slot::DstMac => int!(dst_mac, u64),
            Slot::MplsLabel1 => int!(mpls_label1, u32),
            Slot::MplsLabel2 => int!(mpls_label2, u32),
            Slot::MplsLabel3 => int!(mpls_label3, u32),
            Slot::AppId => |o: &mut FlowBlockBuf, r: Records<'_>, off, len| {
                o.app_id.extend(
                    r.slices(off, len)
                        .map(|b| crate::model::l2::app_id(b).unwrap_or(0)),
                )
            },
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
