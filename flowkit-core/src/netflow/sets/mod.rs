//! The set walk shared by NetFlow v9 and IPFIX, and the data path from records to flows.
//!
//! This file walks a message's sets and sends each to its handler: template sets
//! (`templates.rs`), data sets (`data.rs`), which become flows record by record (`record.rs`)
//! or a column at a time (`column.rs`).

mod column;
mod data;
mod record;
mod templates;
#[cfg(test)]
mod tests;

pub(super) use column::{columns, ColumnKernel};

use super::ipfix;
use super::template::Op;
use super::{
    v9, DecodeError, DecodeErrorKind, DecoderConfig, ExportHeader, Exporter, FlowOut, TemplateKey,
};
use std::net::IpAddr;

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
}

/// The header and domain facts a record's times are relative to.
#[derive(Debug)]
pub(super) struct FlowCtx {
    pub(super) version: u16,
    pub(super) export_ms: i64,
    pub(super) uptime_ms: Option<u32>,
    pub(super) sys_init_ms: Option<i64>,
}
