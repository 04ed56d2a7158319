//! NetFlow v5: a 24-byte header and up to 30 fixed 48-byte records, read in place.

use super::options::Sampling;
use super::sets::{columns, FlowCtx};
use super::template::{ColumnPlan, FieldSpec, Template};
use super::{DecodeError, DecodeErrorKind, DecoderConfig, ExportHeader, Exporter, FlowOut};
use crate::model::record::FlowRecord;
use std::net::IpAddr;
use std::sync::LazyLock;

const HEADER_LEN: usize = 24;
const RECORD_LEN: usize = 48;

#[inline(always)]
fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([b[o], b[o + 1]])
}

#[inline(always)]
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

/// The v5 record as a column plan: NetFlow v9 element ids at v5's offsets (v9's FIRST and
/// LAST_SWITCHED are v5's sysUpTime times too), so v5 records are decoded a column at a time
/// by the same code as v9 and IPFIX data sets.
fn plan() -> &'static ColumnPlan {
    static PLAN: LazyLock<ColumnPlan> = LazyLock::new(|| {
        const PAD: u16 = 210; // paddingOctets: skipped
        let fields = [
            (8, 4),   // srcaddr
            (12, 4),  // dstaddr
            (15, 4),  // nexthop
            (10, 2),  // input
            (14, 2),  // output
            (2, 4),   // dPkts
            (1, 4),   // dOctets
            (22, 4),  // first
            (21, 4),  // last
            (7, 2),   // srcport
            (11, 2),  // dstport
            (PAD, 1), // pad1
            (6, 1),   // tcp_flags
            (4, 1),   // prot
            (5, 1),   // tos
            (16, 2),  // src_as
            (17, 2),  // dst_as
            (9, 1),   // src_mask
            (13, 1),  // dst_mask
            (PAD, 2), // pad2
        ]
        .map(|(id, len)| FieldSpec {
            id,
            enterprise: 0,
            len,
        });
        let t = Template::compile(0, fields.to_vec(), false, 0, true).expect("v5 layout");
        let plan = t.columns.expect("v5 layout is fixed");
        assert_eq!(plan.record_len, RECORD_LEN);
        assert!(plan.simple.is_some());
        plan
    });
    &PLAN
}

/// Sampling state for records that carry none (v5 takes its interval from the header).
fn no_sampling() -> &'static Sampling {
    static NONE: LazyLock<Sampling> = LazyLock::new(Sampling::default);
    &NONE
}

/// The v5 header, if the datagram is long enough for one.
pub(super) fn header(d: &[u8]) -> Option<ExportHeader> {
    if d.len() < HEADER_LEN {
        return None;
    }
    let secs = u32_at(d, 8) as i64;
    let nsecs = u32_at(d, 12) as i64;
    Some(ExportHeader {
        version: 5,
        export_ms: secs * 1000 + nsecs / 1_000_000,
        sequence: u32_at(d, 16),
        domain: u16_at(d, 20) as u32,
        uptime_ms: Some(u32_at(d, 4)),
    })
}

/// How far (ms) a flow time may lie after the export's sysUpTime and still be taken as a
/// slightly later clock reading rather than a time from before the uptime counter wrapped.
pub(super) const UPTIME_FUTURE_TOLERANCE_MS: u32 = 5 * 60 * 1000;

/// Absolute time (UTC ms) of a sysUpTime value `t`, given the export time and the uptime at
/// export. Uptimes are 32-bit milliseconds that wrap every 49.7 days. Flows are exported after
/// they happen, so a `t` beyond the uptime (by more than a small tolerance) is from before
/// the wrap — as nfdump's v5 decoder reads it.
#[inline(always)]
pub(super) fn uptime_to_ms(export_ms: i64, uptime: u32, t: u32) -> i64 {
    let ahead = t.wrapping_sub(uptime);
    if ahead <= UPTIME_FUTURE_TOLERANCE_MS {
        export_ms + ahead as i64
    } else {
        export_ms - uptime.wrapping_sub(t) as i64
    }
}

/// Decodes a v5 datagram. Complete records before a truncation are kept.
pub(super) fn decode(
    d: &[u8],
    exporter: IpAddr,
    ex: &mut Exporter,
    cfg: &DecoderConfig,
    out: &mut FlowOut<'_>,
) -> Result<ExportHeader, DecodeError> {
    let h = header(d).ok_or(DecodeError::at(
        0,
        DecodeErrorKind::TooShort { len: d.len() },
    ))?;
    let count = u16_at(d, 2);
    if count == 0 {
        return Err(DecodeError::at(2, DecodeErrorKind::V5Empty));
    }
    let uptime = h.uptime_ms.unwrap_or(0);
    let engine_type = d[20];
    let engine_id = d[21];
    let sampling = (u16_at(d, 22) & 0x3FFF) as u32;
    let held = ((d.len() - HEADER_LEN) / RECORD_LEN).min(count as usize);

    if ex.domain(cfg, 5, h.domain).is_ok() {
        ex.check_sequence(
            5,
            h.domain,
            h.sequence,
            Some(h.sequence.wrapping_add(count as u32)),
        );
    }

    let base = FlowRecord {
        exporter,
        engine_type,
        engine_id,
        sampling_interval: sampling,
        ..FlowRecord::default()
    };
    let ctx = FlowCtx {
        version: 5,
        export_ms: h.export_ms,
        uptime_ms: Some(uptime),
        sys_init_ms: None,
    };
    let body = &d[HEADER_LEN..HEADER_LEN + held * RECORD_LEN];
    columns(plan(), body, &base, &ctx, no_sampling(), out.family(false));
    if held < count as usize {
        return Err(DecodeError::at(
            HEADER_LEN + held * RECORD_LEN,
            DecodeErrorKind::V5Truncated { count, held },
        ));
    }
    Ok(h)
}
