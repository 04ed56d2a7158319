//! The Parquet schema of exported flows and the conversion of flow rows to Arrow batches.
//!
//! Chosen so every filter is plain SQL in DuckDB, Spark, Trino and ClickHouse (see
//! `docs/scale-out.md`): addresses as 16-byte binaries (IPv4 as `::ffff:a.b.c.d`, so a prefix
//! is a `BETWEEN` of two literals) plus their RFC 5952 text; times as UTC-adjusted timestamps
//! and as epoch milliseconds; every other field as a signed integer wide enough for its
//! unsigned value (Spark has no unsigned types). No column is nullable.

use crate::block::{AddrColumn, FlowBlock};
use arrow_array::{
    ArrayRef, FixedSizeBinaryArray, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// The kind of an exported column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// TIMESTAMP(MILLIS, adjusted to UTC).
    Timestamp,
    /// INT64.
    Int64,
    /// INT32.
    Int32,
    /// FIXED_LEN_BYTE_ARRAY(16): an address in IPv6 form.
    Addr16,
    /// STRING: an address as text.
    AddrText,
}

/// Every exported column, in file order: name and kind.
pub const COLUMNS: &[(&str, Kind)] = &[
    ("start", Kind::Timestamp),
    ("end", Kind::Timestamp),
    ("start_ms", Kind::Int64),
    ("end_ms", Kind::Int64),
    ("src_addr", Kind::Addr16),
    ("dst_addr", Kind::Addr16),
    ("src_port", Kind::Int32),
    ("dst_port", Kind::Int32),
    ("protocol", Kind::Int32),
    ("tcp_flags", Kind::Int32),
    ("tos", Kind::Int32),
    ("packets", Kind::Int64),
    ("octets", Kind::Int64),
    ("rev_packets", Kind::Int64),
    ("rev_octets", Kind::Int64),
    ("input_if", Kind::Int64),
    ("output_if", Kind::Int64),
    ("src_as", Kind::Int64),
    ("dst_as", Kind::Int64),
    ("src_mask", Kind::Int32),
    ("dst_mask", Kind::Int32),
    ("next_hop", Kind::Addr16),
    ("exporter", Kind::Addr16),
    ("engine_type", Kind::Int32),
    ("engine_id", Kind::Int32),
    ("sampling_interval", Kind::Int64),
    ("src_tag", Kind::Int64),
    ("dst_tag", Kind::Int64),
    ("src_addr_text", Kind::AddrText),
    ("dst_addr_text", Kind::AddrText),
    ("next_hop_text", Kind::AddrText),
    ("exporter_text", Kind::AddrText),
];

/// The Arrow schema of [`COLUMNS`].
pub fn schema() -> Arc<Schema> {
    let fields: Vec<Field> = COLUMNS
        .iter()
        .map(|&(name, kind)| {
            let t = match kind {
                Kind::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                Kind::Int64 => DataType::Int64,
                Kind::Int32 => DataType::Int32,
                Kind::Addr16 => DataType::FixedSizeBinary(16),
                Kind::AddrText => DataType::Utf8,
            };
            Field::new(name, t, false)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// A counter above `i64::MAX`, which the signed export columns cannot hold.
#[derive(Debug)]
pub struct CounterOverflow {
    /// The column.
    pub column: &'static str,
    /// The value.
    pub value: u64,
}

/// Rows of one partition gathered column by column until they are written as a batch.
#[derive(Default)]
pub struct Rows {
    start: Vec<i64>,
    end: Vec<i64>,
    addrs: [Vec<u8>; 4],
    texts: [(Vec<i32>, Vec<u8>); 4],
    i32s: [Vec<i32>; 9],
    i64s: [Vec<i64>; 11],
}

impl Rows {
    /// Rows gathered.
    pub fn len(&self) -> usize {
        self.start.len()
    }

    /// True when no row is gathered.
    pub fn is_empty(&self) -> bool {
        self.start.is_empty()
    }

    /// Appends rows `rows` of `b`.
    pub fn push(&mut self, b: &FlowBlock<'_>, rows: &[u32]) -> Result<(), CounterOverflow> {
        for &i in rows {
            let i = i as usize;
            self.start.push(b.start_ms[i]);
            self.end.push(b.end_ms[i]);
            for (k, col) in [&b.src_addr, &b.dst_addr, &b.next_hop, &b.exporter]
                .into_iter()
                .enumerate()
            {
                push_addr(&mut self.addrs[k], &mut self.texts[k], col, i);
            }
            let small = [
                b.src_port[i] as i32,
                b.dst_port[i] as i32,
                b.protocol[i] as i32,
                b.tcp_flags[i] as i32,
                b.tos[i] as i32,
                b.src_mask[i] as i32,
                b.dst_mask[i] as i32,
                b.engine_type[i] as i32,
                b.engine_id[i] as i32,
            ];
            for (v, x) in self.i32s.iter_mut().zip(small) {
                v.push(x);
            }
            let counters = [
                ("packets", b.packets[i]),
                ("octets", b.octets[i]),
                ("rev_packets", b.rev_packets[i]),
                ("rev_octets", b.rev_octets[i]),
            ];
            for (k, (column, value)) in counters.into_iter().enumerate() {
                let v = i64::try_from(value).map_err(|_| CounterOverflow { column, value })?;
                self.i64s[k].push(v);
            }
            let wide = [
                b.input_if[i],
                b.output_if[i],
                b.src_as[i],
                b.dst_as[i],
                b.sampling_interval[i],
                b.src_tag[i],
                b.dst_tag[i],
            ];
            for (k, x) in wide.into_iter().enumerate() {
                self.i64s[4 + k].push(x as i64);
            }
        }
        Ok(())
    }

    /// The gathered rows as one batch of [`schema`]; the gatherer is left empty.
    pub fn take_batch(
        &mut self,
        schema: &Arc<Schema>,
    ) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let rows = std::mem::take(self);
        let [src, dst, nh, exp] = rows.addrs.map(|v| -> ArrayRef {
            Arc::new(FixedSizeBinaryArray::new(16, Buffer::from_vec(v), None))
        });
        let [sp, dp, proto, flags, tos, smask, dmask, etype, eid] = rows
            .i32s
            .map(|v| -> ArrayRef { Arc::new(Int32Array::from(v)) });
        let [pk, oc, rpk, roc, iif, oif, sas, das, samp, stag, dtag] = rows
            .i64s
            .map(|v| -> ArrayRef { Arc::new(Int64Array::from(v)) });
        let mut texts = Vec::with_capacity(4);
        for (mut offsets, bytes) in rows.texts {
            offsets.insert(0, 0);
            let a = StringArray::try_new(
                OffsetBuffer::new(ScalarBuffer::from(offsets)),
                Buffer::from_vec(bytes),
                None,
            )?;
            texts.push(Arc::new(a) as ArrayRef);
        }
        let ts = |v: &Vec<i64>| -> ArrayRef {
            Arc::new(TimestampMillisecondArray::from(v.clone()).with_timezone("UTC"))
        };
        let columns: Vec<ArrayRef> = vec![
            ts(&rows.start),
            ts(&rows.end),
            Arc::new(Int64Array::from(rows.start)),
            Arc::new(Int64Array::from(rows.end)),
            src,
            dst,
            sp,
            dp,
            proto,
            flags,
            tos,
            pk,
            oc,
            rpk,
            roc,
            iif,
            oif,
            sas,
            das,
            smask,
            dmask,
            nh,
            exp,
            etype,
            eid,
            samp,
            stag,
            dtag,
            texts[0].clone(),
            texts[1].clone(),
            texts[2].clone(),
            texts[3].clone(),
        ];
        RecordBatch::try_new(schema.clone(), columns)
    }
}

/// Appends an address in its 16-byte form and as RFC 5952 text (IPv4 as a dotted quad).
fn push_addr(bin: &mut Vec<u8>, text: &mut (Vec<i32>, Vec<u8>), col: &AddrColumn<'_>, i: usize) {
    match col {
        AddrColumn::V4(v) => {
            let a = Ipv4Addr::from(v[i]);
            bin.extend_from_slice(&a.to_ipv6_mapped().octets());
            let _ = write!(text.1, "{a}");
        }
        AddrColumn::V6(v) => {
            bin.extend_from_slice(&v[i]);
            let a = Ipv6Addr::from(v[i]);
            match a.to_ipv4_mapped() {
                Some(v4) => {
                    let _ = write!(text.1, "{v4}");
                }
                None => {
                    let _ = write!(text.1, "{a}");
                }
            }
        }
    }
    text.0.push(text.1.len() as i32);
}
