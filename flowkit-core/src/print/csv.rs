//! `-f csv`: a header line and one row per flow with every field of the record.
//!
//! Columns, in order: `start`, `end` (RFC 3339 with milliseconds and the offset of the display
//! zone, `Z` under `--utc`), then every [`FlowRecord`](crate::FlowRecord) field by its name:
//! `start_ms`, `end_ms` (the same times as integer milliseconds since the epoch, for arithmetic and
//! sorting), addresses as text (dotted quads, RFC 5952 IPv6), MAC addresses as `aa:bb:cc:dd:ee:ff`, MPLS
//! entries as `label-exp-bos` and application ids as `ENGINE..SELECTOR` (nfdump's forms), other
//! numbers in decimal.
//!
//! No field can hold a comma, quote or line break (they are numbers, address text and RFC 3339
//! times made here), so RFC 4180 quoting never applies and rows are written directly. The csv
//! crate's writer, which checks every field for quoting, managed about 2.3 million rows/s on two
//! cores against about 12 million written directly (benches/print.rs); the tests read our output
//! back with the csv crate.

use super::clock::{push_rfc3339, Clock};
use super::text;
use crate::model::block::{AddrColumn, FlowBlock};
use crate::model::fields::FIELDS;
use crate::model::l2;

/// The header row: `start` and `end` as RFC 3339 text, then every field of the table
/// ([`crate::model::fields::FIELDS`]) by its name.
pub const COLUMNS: [&str; 2 + FIELDS.len()] = {
    let mut c = [""; 2 + FIELDS.len()];
    c[0] = "start";
    c[1] = "end";
    let mut i = 0;
    while i < FIELDS.len() {
        c[2 + i] = FIELDS[i].name;
        i += 1;
    }
    c
};

/// Appends the header row.
pub(crate) fn header(out: &mut Vec<u8>) {
    out.extend_from_slice(COLUMNS.join(",").as_bytes());
    out.push(b'\n');
}

/// Appends one row per flow of `b`.
pub(crate) fn format_block(b: &FlowBlock<'_>, clock: &mut Clock, out: &mut Vec<u8>) {
    // Rows of generated flows take 250-280 bytes (IPv4, no MAC or MPLS values).
    out.reserve(b.len * 300);
    for i in 0..b.len {
        push_rfc3339(out, &clock.civil(b.start_ms[i]));
        out.push(b',');
        push_rfc3339(out, &clock.civil(b.end_ms[i]));
        out.push(b',');
        push_i64(out, b.start_ms[i]);
        out.push(b',');
        push_i64(out, b.end_ms[i]);
        out.push(b',');
        addr(out, &b.src_addr, i);
        addr(out, &b.dst_addr, i);
        num(out, b.src_port[i] as u64);
        num(out, b.dst_port[i] as u64);
        num(out, b.protocol[i] as u64);
        num(out, b.tcp_flags[i] as u64);
        num(out, b.tos[i] as u64);
        num(out, b.packets[i]);
        num(out, b.octets[i]);
        num(out, b.rev_packets[i]);
        num(out, b.rev_octets[i]);
        num(out, b.input_if[i] as u64);
        num(out, b.output_if[i] as u64);
        num(out, b.src_as[i] as u64);
        num(out, b.dst_as[i] as u64);
        num(out, b.src_mask[i] as u64);
        num(out, b.dst_mask[i] as u64);
        addr(out, &b.next_hop, i);
        addr(out, &b.exporter, i);
        num(out, b.engine_type[i] as u64);
        num(out, b.engine_id[i] as u64);
        num(out, b.sampling_interval[i] as u64);
        num(out, b.src_tag[i] as u64);
        num(out, b.dst_tag[i] as u64);
        addr(out, &b.xlate_src_addr, i);
        addr(out, &b.xlate_dst_addr, i);
        num(out, b.xlate_src_port[i] as u64);
        num(out, b.xlate_dst_port[i] as u64);
        num(out, b.flow_id[i]);
        num(out, b.src_vlan[i] as u64);
        num(out, b.dst_vlan[i] as u64);
        num(out, b.end_reason[i] as u64);
        l2::push_mac_text(out, b.src_mac[i]);
        out.push(b',');
        l2::push_mac_text(out, b.dst_mac[i]);
        out.push(b',');
        for entry in [b.mpls_label1[i], b.mpls_label2[i], b.mpls_label3[i]] {
            l2::push_mpls_text(out, entry);
            out.push(b',');
        }
        l2::push_app_id_text(out, b.app_id[i]);
        out.push(b'\n');
    }
}

#[inline]
fn push_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// A number and the separator after it.
#[inline]
fn num(out: &mut Vec<u8>, v: u64) {
    text::push_u64(out, v);
    out.push(b',');
}

/// An address and the separator after it.
#[inline]
fn addr(out: &mut Vec<u8>, col: &AddrColumn<'_>, i: usize) {
    text::addr(out, col, i);
    out.push(b',');
}
