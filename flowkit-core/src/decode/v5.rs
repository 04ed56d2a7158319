//! NetFlow v5: a 24-byte header and up to 30 fixed 48-byte records, read in place.

use super::{DecodeError, DecodeErrorKind, DecoderConfig, ExportHeader, Exporter};
use crate::block::FlowBlockBuf;
use crate::record::FlowRecord;
use std::net::{IpAddr, Ipv4Addr};

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
    out: &mut FlowBlockBuf,
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
    for rec in d[HEADER_LEN..HEADER_LEN + held * RECORD_LEN].chunks_exact(RECORD_LEN) {
        let first = u32_at(rec, 24);
        let last = u32_at(rec, 28);
        let r = FlowRecord {
            src_addr: IpAddr::V4(Ipv4Addr::from(u32_at(rec, 0))),
            dst_addr: IpAddr::V4(Ipv4Addr::from(u32_at(rec, 4))),
            next_hop: IpAddr::V4(Ipv4Addr::from(u32_at(rec, 8))),
            input_if: u16_at(rec, 12) as u32,
            output_if: u16_at(rec, 14) as u32,
            packets: u32_at(rec, 16) as u64,
            octets: u32_at(rec, 20) as u64,
            start_ms: uptime_to_ms(h.export_ms, uptime, first),
            end_ms: uptime_to_ms(h.export_ms, uptime, last),
            src_port: u16_at(rec, 32),
            dst_port: u16_at(rec, 34),
            tcp_flags: rec[37],
            protocol: rec[38],
            tos: rec[39],
            src_as: u16_at(rec, 40) as u32,
            dst_as: u16_at(rec, 42) as u32,
            src_mask: rec[44],
            dst_mask: rec[45],
            ..base
        };
        out.push(&r);
    }
    if held < count as usize {
        return Err(DecodeError::at(
            HEADER_LEN + held * RECORD_LEN,
            DecodeErrorKind::V5Truncated { count, held },
        ));
    }
    Ok(h)
}
