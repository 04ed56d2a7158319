//! The Parquet schema of exported flows and the conversion of flow rows to Arrow batches.
//!
//! Chosen so every filter is plain SQL in DuckDB, Spark, Trino and ClickHouse (see
//! `docs/scale-out.md`): addresses as 16-byte binaries (IPv4 as `::ffff:a.b.c.d`, so a prefix
//! is a `BETWEEN` of two literals) plus their RFC 5952 text; times as UTC-adjusted timestamps
//! and as epoch milliseconds; every other field as a signed integer wide enough for its
//! unsigned value (Spark has no unsigned types). No column is nullable.

use crate::model::block::{AddrColumn, FlowBlock};
use crate::model::fields::{FieldKind, FIELDS};
use arrow_array::{
    ArrayRef, FixedSizeBinaryArray, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use std::io::Write;
use std::net::Ipv6Addr;
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

/// Every exported column, in file order, with its kind: `start` and `end` as timestamps, then
/// every field of the table ([`crate::model::fields::FIELDS`]) by its name (times as epoch
/// milliseconds, numbers as signed integers wide enough for their unsigned values, addresses
/// as 16 bytes), then the text of each address field as `NAME_text`.
pub fn columns() -> Vec<(String, Kind)> {
    let fields = FIELDS.iter().map(|f| {
        let kind = match f.kind {
            FieldKind::TimeMs => Kind::Int64,
            FieldKind::Addr => Kind::Addr16,
            FieldKind::Unsigned(bits) if bits <= 16 => Kind::Int32,
            FieldKind::Unsigned(_) => Kind::Int64,
            // The 24-bit entry as sent: `label << 4 | exp << 1 | bos`.
            FieldKind::Mpls => Kind::Int32,
            // The 48-bit value; the packed id (engine ids stay below 128: RFC 6759 has 0-20).
            FieldKind::Mac | FieldKind::AppId => Kind::Int64,
        };
        (f.name.to_string(), kind)
    });
    let texts = FIELDS
        .iter()
        .filter(|f| f.kind == FieldKind::Addr)
        .map(|f| (format!("{}_text", f.name), Kind::AddrText));
    [("start", Kind::Timestamp), ("end", Kind::Timestamp)]
        .into_iter()
        .map(|(n, k)| (n.to_string(), k))
        .chain(fields)
        .chain(texts)
        .collect()
}

/// The Arrow schema of [`columns`].
pub fn schema() -> Arc<Schema> {
    let fields: Vec<Field> = columns()
        .into_iter()
        .map(|(name, kind)| {
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
    addrs: [Vec<u8>; 6],
    /// Offsets (from 0, one more than the rows once a row is pushed) and bytes.
    texts: [(Vec<i32>, Vec<u8>); 6],
    i32s: [Vec<i32>; 17],
    i64s: [Vec<i64>; 15],
}

impl Rows {
    /// An empty gatherer with room for `n` rows in every column.
    pub fn with_capacity(n: usize) -> Rows {
        Rows {
            start: Vec::with_capacity(n),
            end: Vec::with_capacity(n),
            addrs: std::array::from_fn(|_| Vec::with_capacity(n * 16)),
            texts: std::array::from_fn(|_| (Vec::with_capacity(n + 1), Vec::with_capacity(n * 8))),
            i32s: std::array::from_fn(|_| Vec::with_capacity(n)),
            i64s: std::array::from_fn(|_| Vec::with_capacity(n)),
        }
    }

    /// Rows gathered.
    pub fn len(&self) -> usize {
        self.start.len()
    }

    /// True when no row is gathered.
    pub fn is_empty(&self) -> bool {
        self.start.is_empty()
    }

    /// The rows in start-time order (ties keep their order): times then rise within a batch,
    /// so their delta encoding takes a few bits a row, and engines' min/max statistics per
    /// page narrow time windows.
    fn sorted(self) -> Rows {
        let n = self.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by_key(|&i| self.start[i as usize]);
        if order.iter().enumerate().all(|(k, &i)| k == i as usize) {
            return self;
        }
        fn take<T: Copy>(v: &[T], order: &[u32]) -> Vec<T> {
            order.iter().map(|&i| v[i as usize]).collect()
        }
        let addrs = self.addrs.map(|a| {
            let mut out = Vec::with_capacity(a.len());
            for &i in &order {
                out.extend_from_slice(&a[i as usize * 16..i as usize * 16 + 16]);
            }
            out
        });
        let texts = self.texts.map(|(offsets, bytes)| {
            let mut new_offsets = Vec::with_capacity(n + 1);
            let mut out = Vec::with_capacity(bytes.len());
            new_offsets.push(0);
            for &i in &order {
                let i = i as usize;
                out.extend_from_slice(&bytes[offsets[i] as usize..offsets[i + 1] as usize]);
                new_offsets.push(out.len() as i32);
            }
            (new_offsets, out)
        });
        Rows {
            start: take(&self.start, &order),
            end: take(&self.end, &order),
            addrs,
            texts,
            i32s: self.i32s.map(|v| take(&v, &order)),
            i64s: self.i64s.map(|v| take(&v, &order)),
        }
    }

    /// Appends rows `rows` of `b`, column by column.
    pub fn push(&mut self, b: &FlowBlock<'_>, rows: &[u32]) -> Result<(), CounterOverflow> {
        fn ext<T: Copy, U>(out: &mut Vec<U>, col: &[T], rows: &[u32], f: impl Fn(T) -> U) {
            out.extend(rows.iter().map(|&i| f(col[i as usize])));
        }
        ext(&mut self.start, b.start_ms, rows, |v| v);
        ext(&mut self.end, b.end_ms, rows, |v| v);
        let addr_cols = [
            &b.src_addr,
            &b.dst_addr,
            &b.next_hop,
            &b.exporter,
            &b.xlate_src_addr,
            &b.xlate_dst_addr,
        ];
        for (k, col) in addr_cols.into_iter().enumerate() {
            push_addrs(&mut self.addrs[k], &mut self.texts[k], col, rows);
        }
        let small: [&[u8]; 7] = [
            b.protocol,
            b.tcp_flags,
            b.tos,
            b.src_mask,
            b.dst_mask,
            b.engine_type,
            b.engine_id,
        ];
        ext(&mut self.i32s[0], b.src_port, rows, i32::from);
        ext(&mut self.i32s[1], b.dst_port, rows, i32::from);
        for (k, col) in small.into_iter().enumerate() {
            ext(&mut self.i32s[2 + k], col, rows, i32::from);
        }
        ext(&mut self.i32s[9], b.xlate_src_port, rows, i32::from);
        ext(&mut self.i32s[10], b.xlate_dst_port, rows, i32::from);
        ext(&mut self.i32s[11], b.src_vlan, rows, i32::from);
        ext(&mut self.i32s[12], b.dst_vlan, rows, i32::from);
        ext(&mut self.i32s[13], b.end_reason, rows, i32::from);
        // MPLS entries are 24 bits: they fit.
        ext(&mut self.i32s[14], b.mpls_label1, rows, |v| v as i32);
        ext(&mut self.i32s[15], b.mpls_label2, rows, |v| v as i32);
        ext(&mut self.i32s[16], b.mpls_label3, rows, |v| v as i32);
        let counters: [(&'static str, &[u64]); 8] = [
            ("packets", b.packets),
            ("octets", b.octets),
            ("rev_packets", b.rev_packets),
            ("rev_octets", b.rev_octets),
            ("flow_id", b.flow_id),
            ("src_mac", b.src_mac),
            ("dst_mac", b.dst_mac),
            ("app_id", b.app_id),
        ];
        for (k, (column, col)) in counters.into_iter().enumerate() {
            if let Some(&i) = rows.iter().find(|&&i| col[i as usize] > i64::MAX as u64) {
                let value = col[i as usize];
                return Err(CounterOverflow { column, value });
            }
            ext(&mut self.i64s[k], col, rows, |v| v as i64);
        }
        let wide: [&[u32]; 7] = [
            b.input_if,
            b.output_if,
            b.src_as,
            b.dst_as,
            b.sampling_interval,
            b.src_tag,
            b.dst_tag,
        ];
        for (k, col) in wide.into_iter().enumerate() {
            ext(&mut self.i64s[8 + k], col, rows, i64::from);
        }
        Ok(())
    }

    /// The gathered rows as one batch of [`schema`]; the gatherer is left empty, with room for
    /// `next` rows (room made up front spares the copies of growing every column row by row).
    pub fn take_batch(
        &mut self,
        schema: &Arc<Schema>,
        next: usize,
    ) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let rows = std::mem::replace(self, Rows::with_capacity(next)).sorted();
        let [src, dst, nh, exp, xsrc, xdst] = rows.addrs.map(|v| -> ArrayRef {
            Arc::new(FixedSizeBinaryArray::new(16, Buffer::from_vec(v), None))
        });
        let [sp, dp, proto, flags, tos, smask, dmask, etype, eid, xsp, xdp, svlan, dvlan, end_reason, mpls1, mpls2, mpls3] =
            rows.i32s
                .map(|v| -> ArrayRef { Arc::new(Int32Array::from(v)) });
        let [pk, oc, rpk, roc, flow_id, smac, dmac, app_id, iif, oif, sas, das, samp, stag, dtag] =
            rows.i64s
                .map(|v| -> ArrayRef { Arc::new(Int64Array::from(v)) });
        let mut texts = Vec::with_capacity(6);
        for (mut offsets, bytes) in rows.texts {
            if offsets.is_empty() {
                offsets.push(0);
            }
            let a = StringArray::try_new(
                OffsetBuffer::new(ScalarBuffer::from(offsets)),
                Buffer::from_vec(bytes),
                None,
            )?;
            texts.push(Arc::new(a) as ArrayRef);
        }
        // The timestamp and epoch-millisecond columns share one buffer (no copy).
        let (start, end) = (
            ScalarBuffer::<i64>::from(rows.start),
            ScalarBuffer::<i64>::from(rows.end),
        );
        let ts = |v: &ScalarBuffer<i64>| -> ArrayRef {
            Arc::new(TimestampMillisecondArray::new(v.clone(), None).with_timezone("UTC"))
        };
        let columns: Vec<ArrayRef> = [
            ts(&start),
            ts(&end),
            Arc::new(Int64Array::new(start, None)),
            Arc::new(Int64Array::new(end, None)),
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
            xsrc,
            xdst,
            xsp,
            xdp,
            flow_id,
            svlan,
            dvlan,
            end_reason,
            smac,
            dmac,
            mpls1,
            mpls2,
            mpls3,
            app_id,
        ]
        .into_iter()
        .chain(texts)
        .collect();
        RecordBatch::try_new(schema.clone(), columns)
    }
}

/// Appends addresses in their 16-byte form and as RFC 5952 text (IPv4 as a dotted quad).
fn push_addrs(
    bin: &mut Vec<u8>,
    text: &mut (Vec<i32>, Vec<u8>),
    col: &AddrColumn<'_>,
    rows: &[u32],
) {
    if text.0.is_empty() {
        text.0.push(0);
    }
    match col {
        AddrColumn::V4(v) => {
            for &i in rows {
                let a = v[i as usize];
                bin.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
                bin.extend_from_slice(&a.to_be_bytes());
                push_v4_text(&mut text.1, a);
                text.0.push(text.1.len() as i32);
            }
        }
        AddrColumn::V6(v) => {
            for &i in rows {
                let b = v[i as usize];
                bin.extend_from_slice(&b);
                let a = Ipv6Addr::from(b);
                match a.to_ipv4_mapped() {
                    Some(v4) => push_v4_text(&mut text.1, u32::from(v4)),
                    None => {
                        let _ = write!(text.1, "{a}");
                    }
                }
                text.0.push(text.1.len() as i32);
            }
        }
    }
}

/// A dotted quad, without the formatting machinery (four of these a flow): built on the stack
/// and appended at once (one capacity check instead of up to fifteen).
fn push_v4_text(out: &mut Vec<u8>, a: u32) {
    let mut buf = [0u8; 15];
    let mut n = 0;
    for (k, o) in a.to_be_bytes().into_iter().enumerate() {
        if k > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if o >= 100 {
            buf[n] = b'0' + o / 100;
            n += 1;
        }
        if o >= 10 {
            buf[n] = b'0' + o / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + o % 10;
        n += 1;
    }
    // All fifteen bytes (a fixed-size copy, not a call to memcpy), then cut to the text.
    let len = out.len();
    out.extend_from_slice(&buf);
    out.truncate(len + n);
}

#[cfg(test)]
mod tests {
    #[test]
    fn dotted_quads_are_written_as_std_writes_them() {
        for a in [
            0u32,
            1,
            0x0a00_0001,
            0xc0a8_6405,
            0x6464_6464,
            0xffff_ffff,
            0x0909_0a63,
        ] {
            let mut out = Vec::new();
            super::push_v4_text(&mut out, a);
            let want = std::net::Ipv4Addr::from(a).to_string();
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }

    /// A batch comes out in start order with every row whole: each row's columns are those of
    /// one flow given, whatever order the flows came in.
    #[test]
    fn batches_are_sorted_by_start_with_rows_kept_whole() {
        use crate::model::block::FlowBlockBuf;
        use crate::model::record::FlowRecord;
        use arrow_array::cast::AsArray;
        use arrow_array::types::{Int32Type, Int64Type};
        let flows: Vec<FlowRecord> = (0..500u32)
            .map(|i| {
                let k = (i * 7919) % 500; // a shuffled order of starts
                FlowRecord {
                    start_ms: 1_000_000 + k as i64 * 10,
                    end_ms: 1_000_500 + k as i64 * 10 + i as i64,
                    src_addr: if i % 3 == 0 {
                        std::net::IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16])
                    } else {
                        std::net::Ipv4Addr::from(0x0a00_0000u32 + i).into()
                    },
                    dst_port: (i % 60000) as u16,
                    octets: i as u64 * 3,
                    ..FlowRecord::default()
                }
            })
            .collect();
        let buf = FlowBlockBuf::from_records(&flows);
        let b = buf.view();
        let mut rows = super::Rows::default();
        let all: Vec<u32> = (0..b.len as u32).collect();
        rows.push(&b, &all).unwrap();
        let batch = rows.take_batch(&super::schema(), 0).unwrap();
        let col = |name: &str| batch.column_by_name(name).unwrap().clone();
        let start = col("start_ms");
        let start = start.as_primitive::<Int64Type>();
        let end = col("end_ms");
        let end = end.as_primitive::<Int64Type>();
        let port = col("dst_port");
        let port = port.as_primitive::<Int32Type>();
        let octets = col("octets");
        let octets = octets.as_primitive::<Int64Type>();
        let text = col("src_addr_text");
        let text = text.as_string::<i32>();
        let bin = col("src_addr");
        let bin = bin.as_fixed_size_binary();
        let mut got = Vec::new();
        for r in 0..batch.num_rows() {
            if r > 0 {
                assert!(start.value(r - 1) <= start.value(r), "row {r}");
            }
            let raw: [u8; 16] = bin.value(r).try_into().unwrap();
            let addr = crate::model::block::v6_bytes_to_addr(raw);
            assert_eq!(addr.to_string(), text.value(r), "row {r}");
            got.push((
                start.value(r),
                end.value(r),
                addr,
                port.value(r) as u16,
                octets.value(r) as u64,
            ));
        }
        let mut want: Vec<_> = flows
            .iter()
            .map(|f| (f.start_ms, f.end_ms, f.src_addr, f.dst_port, f.octets))
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
    }

    /// Rows taken as a run of a block and rows taken by index give the same batch, addresses
    /// repeated in runs keep their text, and a column of one value stays that value wherever
    /// its rows are sorted to; a counter above the signed 64-bit range is refused by name.
    #[test]
    fn rows_by_index_or_as_a_run_give_the_same_batch() {
        use crate::model::block::FlowBlockBuf;
        use crate::model::record::FlowRecord;
        let flows: Vec<FlowRecord> = (0..300u32)
            .map(|i| FlowRecord {
                start_ms: 5_000 + ((i * 101) % 300) as i64,
                // Runs of one source (the text of the one before is reused), one next hop.
                src_addr: std::net::Ipv4Addr::from(0xc0a8_0000u32 + i / 7).into(),
                dst_addr: if i % 50 == 49 {
                    "2001:db8::1".parse().unwrap()
                } else {
                    std::net::Ipv4Addr::from(0x0a00_0000u32 + i % 3).into()
                },
                next_hop: std::net::Ipv4Addr::new(10, 255, 0, 1).into(),
                packets: i as u64,
                ..FlowRecord::default()
            })
            .collect();
        let buf = FlowBlockBuf::from_records(&flows);
        let b = buf.view();
        let batch = |parts: &[Vec<u32>]| {
            let mut rows = super::Rows::default();
            for p in parts {
                rows.push(&b, p).unwrap();
            }
            rows.take_batch(&super::schema(), 0).unwrap()
        };
        let run = batch(&[(100..300).collect(), (0..100).collect()]);
        let evens_odds = batch(&[
            (0..300).filter(|i| i % 2 == 0).collect(),
            (0..300).filter(|i| i % 2 == 1).collect(),
        ]);
        assert_eq!(run, evens_odds);
        use arrow_array::cast::AsArray;
        let text = |name: &str| {
            let c = run.column_by_name(name).unwrap().clone();
            (0..300)
                .map(|r| c.as_string::<i32>().value(r).to_string())
                .collect::<Vec<_>>()
        };
        let start = run.column_by_name("start_ms").unwrap().clone();
        let start = start.as_primitive::<arrow_array::types::Int64Type>();
        let (src, dst, hop) = (
            text("src_addr_text"),
            text("dst_addr_text"),
            text("next_hop_text"),
        );
        for r in 0..300 {
            // Starts are a permutation of 5000..5300: row r holds the flow whose start is r's.
            let i = flows
                .iter()
                .position(|f| f.start_ms == start.value(r))
                .unwrap();
            assert_eq!(src[r], flows[i].src_addr.to_string(), "row {r}");
            assert_eq!(dst[r], flows[i].dst_addr.to_string(), "row {r}");
            assert_eq!(hop[r], "10.255.0.1");
        }
        let mut huge = flows[..3].to_vec();
        huge[2].octets = i64::MAX as u64 + 1;
        let buf = FlowBlockBuf::from_records(&huge);
        let err = super::Rows::default()
            .push(&buf.view(), &[0, 1, 2])
            .unwrap_err();
        assert_eq!((err.column, err.value), ("octets", i64::MAX as u64 + 1));
    }

    /// The columns made from the field table are those `docs/scale-out.md` documents (the
    /// schema Spark and DuckDB users query; it was a literal list before the table).
    #[test]
    fn columns_are_the_documented_schema() {
        use super::Kind::*;
        let documented = [
            ("start", Timestamp),
            ("end", Timestamp),
            ("start_ms", Int64),
            ("end_ms", Int64),
            ("src_addr", Addr16),
            ("dst_addr", Addr16),
            ("src_port", Int32),
            ("dst_port", Int32),
            ("protocol", Int32),
            ("tcp_flags", Int32),
            ("tos", Int32),
            ("packets", Int64),
            ("octets", Int64),
            ("rev_packets", Int64),
            ("rev_octets", Int64),
            ("input_if", Int64),
            ("output_if", Int64),
            ("src_as", Int64),
            ("dst_as", Int64),
            ("src_mask", Int32),
            ("dst_mask", Int32),
            ("next_hop", Addr16),
            ("exporter", Addr16),
            ("engine_type", Int32),
            ("engine_id", Int32),
            ("sampling_interval", Int64),
            ("src_tag", Int64),
            ("dst_tag", Int64),
            ("xlate_src_addr", Addr16),
            ("xlate_dst_addr", Addr16),
            ("xlate_src_port", Int32),
            ("xlate_dst_port", Int32),
            ("flow_id", Int64),
            ("src_vlan", Int32),
            ("dst_vlan", Int32),
            ("end_reason", Int32),
            ("src_mac", Int64),
            ("dst_mac", Int64),
            ("mpls_label1", Int32),
            ("mpls_label2", Int32),
            ("mpls_label3", Int32),
            ("app_id", Int64),
            ("src_addr_text", AddrText),
            ("dst_addr_text", AddrText),
            ("next_hop_text", AddrText),
            ("exporter_text", AddrText),
            ("xlate_src_addr_text", AddrText),
            ("xlate_dst_addr_text", AddrText),
        ];
        let made: Vec<(String, super::Kind)> = super::columns();
        let made: Vec<(&str, super::Kind)> = made.iter().map(|(n, k)| (n.as_str(), *k)).collect();
        assert_eq!(made, documented);
    }
}
