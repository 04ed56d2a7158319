//! `-f csv`: a header line and one row per flow with every field of the record.
//!
//! Columns, in order: `start`, `end` (RFC 3339 with milliseconds and the offset of the display
//! zone, `Z` under `--utc`), then every [`FlowRecord`](crate::FlowRecord) field by its name:
//! `start_ms`, `end_ms` (the same times as integer milliseconds since the epoch, for arithmetic and
//! sorting), addresses as text (dotted quads, RFC 5952 IPv6), numbers in decimal. Rows are written
//! by the csv crate, which quotes a field only if it needs it (none of these ever does).

use super::clock::{push_rfc3339, Clock};
use super::text;
use crate::block::{AddrColumn, FlowBlock};

/// The header row.
pub const COLUMNS: [&str; 28] = [
    "start",
    "end",
    "start_ms",
    "end_ms",
    "src_addr",
    "dst_addr",
    "src_port",
    "dst_port",
    "protocol",
    "tcp_flags",
    "tos",
    "packets",
    "octets",
    "rev_packets",
    "rev_octets",
    "input_if",
    "output_if",
    "src_as",
    "dst_as",
    "src_mask",
    "dst_mask",
    "next_hop",
    "exporter",
    "engine_type",
    "engine_id",
    "sampling_interval",
    "src_tag",
    "dst_tag",
];

fn writer(out: &mut Vec<u8>) -> csv::Writer<&mut Vec<u8>> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .buffer_capacity(64 * 1024)
        .from_writer(out)
}

/// Appends the header row.
pub(crate) fn header(out: &mut Vec<u8>) {
    let mut w = writer(out);
    // Writing into a Vec cannot fail.
    let _ = w.write_record(COLUMNS);
    let _ = w.flush();
}

/// Appends one row per flow of `b`.
pub(crate) fn format_block(b: &FlowBlock<'_>, clock: &mut Clock, out: &mut Vec<u8>) {
    let mut w = writer(out);
    let mut field = Vec::with_capacity(64);
    let mut num = itoa::Buffer::new();
    // Writing into a Vec cannot fail; the results are ignored.
    for i in 0..b.len {
        field.clear();
        push_rfc3339(&mut field, &clock.civil(b.start_ms[i]));
        let _ = w.write_field(&field);
        field.clear();
        push_rfc3339(&mut field, &clock.civil(b.end_ms[i]));
        let _ = w.write_field(&field);
        let _ = w.write_field(num.format(b.start_ms[i]));
        let _ = w.write_field(num.format(b.end_ms[i]));
        addr_field(&mut w, &mut field, &b.src_addr, i);
        addr_field(&mut w, &mut field, &b.dst_addr, i);
        let _ = w.write_field(num.format(b.src_port[i]));
        let _ = w.write_field(num.format(b.dst_port[i]));
        let _ = w.write_field(num.format(b.protocol[i]));
        let _ = w.write_field(num.format(b.tcp_flags[i]));
        let _ = w.write_field(num.format(b.tos[i]));
        let _ = w.write_field(num.format(b.packets[i]));
        let _ = w.write_field(num.format(b.octets[i]));
        let _ = w.write_field(num.format(b.rev_packets[i]));
        let _ = w.write_field(num.format(b.rev_octets[i]));
        let _ = w.write_field(num.format(b.input_if[i]));
        let _ = w.write_field(num.format(b.output_if[i]));
        let _ = w.write_field(num.format(b.src_as[i]));
        let _ = w.write_field(num.format(b.dst_as[i]));
        let _ = w.write_field(num.format(b.src_mask[i]));
        let _ = w.write_field(num.format(b.dst_mask[i]));
        addr_field(&mut w, &mut field, &b.next_hop, i);
        addr_field(&mut w, &mut field, &b.exporter, i);
        let _ = w.write_field(num.format(b.engine_type[i]));
        let _ = w.write_field(num.format(b.engine_id[i]));
        let _ = w.write_field(num.format(b.sampling_interval[i]));
        let _ = w.write_field(num.format(b.src_tag[i]));
        let _ = w.write_field(num.format(b.dst_tag[i]));
        let _ = w.write_record(None::<&[u8]>);
    }
    let _ = w.flush();
}

#[inline]
fn addr_field(
    w: &mut csv::Writer<&mut Vec<u8>>,
    field: &mut Vec<u8>,
    col: &AddrColumn<'_>,
    i: usize,
) {
    field.clear();
    text::addr(field, col, i);
    let _ = w.write_field(&field[..]);
}
