//! flow-tools' flow-print formats, byte for byte for what a flowkit record holds.
//!
//! Widths, justification, hex and the quirks (format 4 drops trailing zero octets of a prefix,
//! format 5 keeps only the low three TCP flag bits, formats 1 and 2 skip flows without packets)
//! follow flow-tools 0.68.5's `src/flow-print.c` and `lib/fmt.c`. Where flow-tools would cut a value
//! to its column (`%-15.15s`), flowkit prints the whole value and the rest of the line moves right:
//! this only happens for values flow-tools never had (IPv6 addresses, 32-bit AS numbers or
//! interfaces, 64-bit counters), so flow-tools' own data prints identically. Symbolic names (`-n`)
//! are cut like flow-tools cuts them.

use super::clock::{push_mmdd, Clock};
use super::text::{self, left, left_hex, left_u64, pad_from, right_u64};
use crate::model::block::{AddrColumn, FlowBlock};
use crate::model::names;

/// What the formats need to know besides the flows.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TextOptions {
    /// Symbolic protocol and port names (`-n`).
    pub names: bool,
    /// Wide columns (`-w`, formats 3, 4 and 9).
    pub wide: bool,
}

/// The flow-tools formats flowkit prints.
pub(crate) const SUPPORTED: [u8; 8] = [0, 1, 2, 3, 4, 5, 6, 9];

/// What a flow-tools format `n` that flowkit cannot print would need: a description of the
/// format and the record fields it lacks. `None` for formats flowkit prints.
pub(crate) fn missing_fields(n: u8) -> Option<(&'static str, &'static str)> {
    match n {
        7 => Some((
            "1 line, 132 columns, NetFlow v7",
            "the v7 router shortcut (router_sc)",
        )),
        8 => Some((
            "1 line, 132 columns, NetFlow v6",
            "the v6 peer next hop and input/output encapsulation sizes (peer_nexthop, in_encaps, out_encaps)",
        )),
        10..=14 | 18..=23 => Some((
            "a NetFlow v8 aggregation",
            "the number of flows aggregated in a record (dFlows) of v8 aggregation records",
        )),
        15..=17 => Some((
            "a NetFlow v8 Catalyst aggregation",
            "the v8.6-8.8 router shortcut, extra packets and marked ToS (router_sc, extra_pkts, marked_tos)",
        )),
        24 => Some((
            "the full Catalyst line",
            "the v7 router shortcut (router_sc)",
        )),
        _ => None,
    }
}

/// The header flow-tools prints before the flows of format `n`.
pub(crate) fn header(n: u8, wide: bool) -> &'static str {
    match (n, wide) {
        (0, _) => "Sif  SrcIPaddress     Dif  DstIPaddress      Pr SrcP DstP  Pkts       Octets\n",
        (1, _) => concat!(
            "Sif  SrcIPaddress     DIf  DstIPaddress      Pr SrcP DstP  Pkts  Octets\n",
            " StartTime          EndTime             Active   B/Pk Ts Fl\n\n"
        ),
        (2, _) => concat!(
            "Sif SrcIPaddress     DIf DstIPaddress    Pr SrcP DstP Pkts       Octets\n",
            " StartTime          EndTime             Active   B/Pk Ts Fl\n\n"
        ),
        (3, false) => "srcIP            dstIP            prot  srcPort  dstPort  octets      packets\n",
        (3, true) => "srcIP            dstIP            prot   srcPort           dstPort           octets      packets\n",
        (4, false) => "srcIP              dstIP              prot  srcAS  dstAS  octets      packets\n",
        (4, true) => "Sif  Dif  srcIP               dstIP               prot   srcAS             dstAS             octets      packets\n",
        (5, _) => "Start             End               Sif   SrcIPaddress    SrcP  DIf   DstIPaddress    DstP    P Fl Pkts       Octets\n\n",
        (6, _) => "   Source           Destination              Packets               Bytes\n",
        (9, false) => "srcTag      dstTag      srcIP            dstIP            octets      packets\n",
        (9, true) => "srcTag             dstTag             srcIP            dstIP            octets      packets\n",
        _ => "",
    }
}

/// Formats the flows of `block` in format `n` (one of [`SUPPORTED`]) onto `out`. Returns the
/// number of flows skipped because they have no packets (formats 1 and 2 divide by it).
pub(crate) fn format_block(
    n: u8,
    opts: TextOptions,
    b: &FlowBlock<'_>,
    clock: &mut Clock,
    out: &mut Vec<u8>,
) -> u64 {
    match n {
        0 => {
            format0(b, out);
            0
        }
        1 => format1(b, clock, out, false),
        2 => format1(b, clock, out, true),
        3 => {
            format3(b, opts, out);
            0
        }
        4 => {
            format4(b, opts, out);
            0
        }
        5 => {
            format5(b, clock, out);
            0
        }
        6 => {
            format6(b, out);
            0
        }
        9 => {
            format9(b, opts, out);
            0
        }
        _ => 0,
    }
}

/// `%-W.Ws` of an address: padded to `width`, never cut (IPv6 may be longer).
#[inline]
fn addr_col(out: &mut Vec<u8>, col: &AddrColumn<'_>, i: usize, width: usize) {
    let start = out.len();
    text::addr(out, col, i);
    pad_from(out, start, width);
}

/// A protocol column: the number, or with `-n` its name cut like flow-tools' `fmt_uint16s(.., 5,
/// ..)` does (4 characters at most), padded to `width`.
#[inline]
fn proto_col(out: &mut Vec<u8>, p: u8, names: bool, width: usize) {
    match names.then(|| names::protocol(p)).flatten() {
        Some(name) => left(out, &name.as_bytes()[..name.len().min(4).min(width)], width),
        None => left_u64(out, p as u64, width),
    }
}

/// A port column: the number, or with `-n` its service name cut to 15 characters (flow-tools'
/// `fmt_uint16s(.., 16, ..)`) and to the column, padded to `width`.
#[inline]
fn port_col(out: &mut Vec<u8>, proto: u8, port: u16, names: bool, width: usize) {
    match names.then(|| names::port(proto, port)).flatten() {
        Some(name) => left(
            out,
            &name.as_bytes()[..name.len().min(15).min(width)],
            width,
        ),
        None => left_u64(out, port as u64, width),
    }
}

/// `%-5.5s` etc. of a number: padded, never cut.
#[inline]
fn num_col(out: &mut Vec<u8>, v: u64, width: usize) {
    left_u64(out, v, width);
}

/// flow-tools' `fmt_ipv4prefix`: `a.b.c.d/len` without trailing zero octets (`10.1.0.0` with
/// length 16 prints `10.1/16`; lengths over 32 print as 0). IPv6 prints as `addr/len`.
#[inline]
fn prefix(out: &mut Vec<u8>, col: &AddrColumn<'_>, i: usize, mask: u8) {
    match text::v4_of(col, i) {
        Some(a) => {
            let e = a.to_be_bytes();
            text::push_u64(out, e[0] as u64);
            for k in 1..4 {
                if e[k..].iter().all(|&x| x == 0) {
                    break;
                }
                out.push(b'.');
                text::push_u64(out, e[k] as u64);
            }
            out.push(b'/');
            text::push_u64(out, if mask > 32 { 0 } else { mask as u64 });
        }
        None => {
            text::addr(out, col, i);
            out.push(b'/');
            text::push_u64(out, mask as u64);
        }
    }
}

/// Format 0: one line a flow, format 1's first line.
fn format0(b: &FlowBlock<'_>, out: &mut Vec<u8>) {
    for i in 0..b.len {
        interfaces_line(out, b, i, b.packets[i], b.octets[i], &FULL_LINE);
    }
}

/// Formats 1 (all flows) and 2 (`syn_only`: TCP flows of exactly two 40-byte SYN-only packets).
fn format1(b: &FlowBlock<'_>, clock: &mut Clock, out: &mut Vec<u8>, syn_only: bool) -> u64 {
    let mut skipped = 0;
    for i in 0..b.len {
        let (pkts, octets) = (b.packets[i], b.octets[i]);
        if pkts == 0 {
            skipped += 1;
            continue;
        }
        if syn_only {
            if b.protocol[i] != 6 || b.tcp_flags[i] != 2 || pkts != 2 || octets != pkts * 40 {
                continue;
            }
            interfaces_line(out, b, i, pkts, octets, &SYN_ONLY_LINE);
        } else {
            interfaces_line(out, b, i, pkts, octets, &FULL_LINE);
        }
        // " MMDD.HH:MM:SS.mmm  MMDD.HH:MM:SS.mmm  %5lu.%-3.3lu %-3lu %2.2x %2.2x\n\n"
        out.push(b' ');
        push_mmdd(out, &clock.civil(b.start_ms[i]));
        out.extend_from_slice(b"  ");
        push_mmdd(out, &clock.civil(b.end_ms[i]));
        out.extend_from_slice(b"  ");
        let active = (b.end_ms[i] - b.start_ms[i]).max(0) as u64;
        right_u64(out, active / 1000, 5);
        out.push(b'.');
        out.extend_from_slice(&super::clock::three((active % 1000) as u16));
        out.push(b' ');
        left_u64(out, octets / pkts, 3);
        out.push(b' ');
        text::hex(out, b.tos[i] as u64, 2);
        out.push(b' ');
        text::hex(out, b.tcp_flags[i] as u64, 2);
        out.extend_from_slice(b"\n\n");
    }
    skipped
}

fn format3(b: &FlowBlock<'_>, o: TextOptions, out: &mut Vec<u8>) {
    // "%-15.15s  %-15.15s  %-4.4s  %-7.7s  %-7.7s  %-10lu  %-10lu\n"
    // wide: "%-15.15s  %-15.15s  %-5.5s  %-16.16s  %-16.16s  %-10lu  %-10lu\n"
    let (wp, wport) = if o.wide { (5, 16) } else { (4, 7) };
    out.reserve(b.len * 82);
    for i in 0..b.len {
        let p = b.protocol[i];
        addr_col(out, &b.src_addr, i, 15);
        out.extend_from_slice(b"  ");
        addr_col(out, &b.dst_addr, i, 15);
        out.extend_from_slice(b"  ");
        proto_col(out, p, o.names, wp);
        out.extend_from_slice(b"  ");
        port_col(out, p, b.src_port[i], o.names, wport);
        out.extend_from_slice(b"  ");
        port_col(out, p, b.dst_port[i], o.names, wport);
        out.extend_from_slice(b"  ");
        left_u64(out, b.octets[i], 10);
        out.extend_from_slice(b"  ");
        left_u64(out, b.packets[i], 10);
        out.push(b'\n');
    }
}

fn format4(b: &FlowBlock<'_>, o: TextOptions, out: &mut Vec<u8>) {
    // "%-18.18s %-18.18s %-4.4s  %-5.5s  %-5.5s  %-10lu  %-10lu\n"
    // wide: "%4.4x %4.4x %-18.18s  %-18.18s  %-5.5s  %-16.16s  %-16.16s  %-10lu  %-10lu\n"
    for i in 0..b.len {
        if o.wide {
            text::hex(out, b.input_if[i] as u64, 4);
            out.push(b' ');
            text::hex(out, b.output_if[i] as u64, 4);
            out.push(b' ');
        }
        let sep: &[u8] = if o.wide { b"  " } else { b" " };
        let start = out.len();
        prefix(out, &b.src_addr, i, b.src_mask[i]);
        pad_from(out, start, 18);
        out.extend_from_slice(sep);
        let start = out.len();
        prefix(out, &b.dst_addr, i, b.dst_mask[i]);
        pad_from(out, start, 18);
        out.extend_from_slice(sep);
        proto_col(out, b.protocol[i], o.names, if o.wide { 5 } else { 4 });
        out.extend_from_slice(b"  ");
        let was = if o.wide { 16 } else { 5 };
        num_col(out, b.src_as[i] as u64, was);
        out.extend_from_slice(b"  ");
        num_col(out, b.dst_as[i] as u64, was);
        out.extend_from_slice(b"  ");
        left_u64(out, b.octets[i], 10);
        out.extend_from_slice(b"  ");
        left_u64(out, b.packets[i], 10);
        out.push(b'\n');
    }
}

fn format5(b: &FlowBlock<'_>, clock: &mut Clock, out: &mut Vec<u8>) {
    // "MMDD.HH:MM:SS.mmm MMDD.HH:MM:SS.mmm "
    // "%-5u %-15.15s %-5u %-5u %-15.15s %-5u %-3u %-2d %-10lu %-10lu\n"
    out.reserve(b.len * 120);
    for i in 0..b.len {
        push_mmdd(out, &clock.civil(b.start_ms[i]));
        out.push(b' ');
        push_mmdd(out, &clock.civil(b.end_ms[i]));
        out.push(b' ');
        left_u64(out, b.input_if[i] as u64, 5);
        out.push(b' ');
        addr_col(out, &b.src_addr, i, 15);
        out.push(b' ');
        left_u64(out, b.src_port[i] as u64, 5);
        out.push(b' ');
        left_u64(out, b.output_if[i] as u64, 5);
        out.push(b' ');
        addr_col(out, &b.dst_addr, i, 15);
        out.push(b' ');
        left_u64(out, b.dst_port[i] as u64, 5);
        out.push(b' ');
        left_u64(out, b.protocol[i] as u64, 3);
        out.push(b' ');
        left_u64(out, (b.tcp_flags[i] & 0x7) as u64, 2);
        out.push(b' ');
        left_u64(out, b.packets[i], 10);
        out.push(b' ');
        left_u64(out, b.octets[i], 10);
        out.push(b'\n');
    }
}

fn format6(b: &FlowBlock<'_>, out: &mut Vec<u8>) {
    // " %-15.15s  %-15.15s  %17lu  %18lu\n"
    for i in 0..b.len {
        out.push(b' ');
        addr_col(out, &b.src_addr, i, 15);
        out.extend_from_slice(b"  ");
        addr_col(out, &b.dst_addr, i, 15);
        out.extend_from_slice(b"  ");
        right_u64(out, b.packets[i], 17);
        out.extend_from_slice(b"  ");
        right_u64(out, b.octets[i], 18);
        out.push(b'\n');
    }
}

fn format9(b: &FlowBlock<'_>, o: TextOptions, out: &mut Vec<u8>) {
    // "%-10.10s  %-10.10s  %-15.15s  %-15.15s  %-10lu  %-10lu\n" with tags as "0x%-8.8lx"
    // wide: "%-15.15s  %-15.15s  %-15.15s  %-15.15s  %-10lu  %-10lu\n"
    let wt = if o.wide { 15 } else { 10 };
    for i in 0..b.len {
        for tag in [b.src_tag[i], b.dst_tag[i]] {
            let start = out.len();
            out.extend_from_slice(b"0x");
            text::hex(out, tag as u64, 8);
            pad_from(out, start, wt);
            out.extend_from_slice(b"  ");
        }
        addr_col(out, &b.src_addr, i, 15);
        out.extend_from_slice(b"  ");
        addr_col(out, &b.dst_addr, i, 15);
        out.extend_from_slice(b"  ");
        left_u64(out, b.octets[i], 10);
        out.extend_from_slice(b"  ");
        left_u64(out, b.packets[i], 10);
        out.push(b'\n');
    }
}

/// The widths and gaps of format 1's first line, which differ between its two layouts.
struct InterfacesLine {
    if_digits: usize,
    after_if: &'static [u8],
    after_dst: &'static [u8],
    after_ports: &'static [u8],
}

/// `-w` layout: "%2.2x  %-15.15s  %2.2x  %-15.15s %2.2x %-4x %-4x %-10lu %-10lu\n".
const SYN_ONLY_LINE: InterfacesLine = InterfacesLine {
    if_digits: 2,
    after_if: b"  ",
    after_dst: b" ",
    after_ports: b" ",
};

/// Formats 0 and 1: "%4.4x %-15.15s  %4.4x %-15.15s   %2.2x %-4x %-4x  %-10lu %-10lu\n".
const FULL_LINE: InterfacesLine = InterfacesLine {
    if_digits: 4,
    after_if: b" ",
    after_dst: b"   ",
    after_ports: b"  ",
};

/// Writes format 0's line, format 1's first, of flow `i`: interfaces, addresses, protocol, ports, counters.
fn interfaces_line(
    out: &mut Vec<u8>,
    b: &FlowBlock<'_>,
    i: usize,
    pkts: u64,
    octets: u64,
    l: &InterfacesLine,
) {
    text::hex(out, b.input_if[i] as u64, l.if_digits);
    out.extend_from_slice(l.after_if);
    addr_col(out, &b.src_addr, i, 15);
    out.extend_from_slice(b"  ");
    text::hex(out, b.output_if[i] as u64, l.if_digits);
    out.extend_from_slice(l.after_if);
    addr_col(out, &b.dst_addr, i, 15);
    out.extend_from_slice(l.after_dst);
    text::hex(out, b.protocol[i] as u64, 2);
    out.push(b' ');
    left_hex(out, b.src_port[i] as u64, 4);
    out.push(b' ');
    left_hex(out, b.dst_port[i] as u64, 4);
    out.extend_from_slice(l.after_ports);
    left_u64(out, pkts, 10);
    out.push(b' ');
    left_u64(out, octets, 10);
    out.push(b'\n');
}
