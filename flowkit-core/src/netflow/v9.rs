//! NetFlow v9 (RFC 3954): the header and the template and options-template records.

use super::template::{FieldSpec, TemplateDef};
use super::{DecodeErrorKind, DecoderConfig, ExportHeader};

/// Length of the v9 header.
pub(super) const HEADER_LEN: usize = 20;

/// The v9 header, if the datagram is long enough for one.
pub(super) fn header(d: &[u8]) -> Option<ExportHeader> {
    let b = d.get(..HEADER_LEN)?;
    let u32_at = |o: usize| u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    Some(ExportHeader {
        version: 9,
        export_ms: u32_at(8) as i64 * 1000,
        sequence: u32_at(12),
        domain: u32_at(16),
        uptime_ms: Some(u32_at(4)),
    })
}

/// A parsed template record, or why it is bad; with the bytes it took.
pub(super) type Parsed = (Result<TemplateDef, DecodeErrorKind>, usize);

/// Parses one template record at the start of `b` (`b` holds the rest of the set). Returns
/// `None` when what is left is padding (shorter than a record header).
pub(super) fn template_record(b: &[u8], cfg: &DecoderConfig) -> Option<Parsed> {
    if b.len() < 4 {
        return None;
    }
    let id = u16::from_be_bytes([b[0], b[1]]);
    let count = u16::from_be_bytes([b[2], b[3]]) as usize;
    if id == 0 && count == 0 {
        return None; // zero padding
    }
    if count > cfg.max_template_fields {
        let max = cfg.max_template_fields;
        return Some((
            Err(DecodeErrorKind::TooManyFields { id, count, max }),
            b.len(),
        ));
    }
    let need = 4 + count * 4;
    if need > b.len() {
        return Some((Err(DecodeErrorKind::TemplateOverrun { id, count }), b.len()));
    }
    if id < 256 {
        return Some((Err(DecodeErrorKind::ReservedTemplateId { id }), need));
    }
    let fields = specs(&b[4..need]);
    let def = TemplateDef {
        id,
        fields,
        options: false,
        scope_fields: 0,
        v9_scope: true,
    };
    Some((Ok(def), need))
}

/// Parses one options-template record (template id, scope length, option length, fields).
pub(super) fn options_template_record(b: &[u8], cfg: &DecoderConfig) -> Option<Parsed> {
    if b.len() < 6 {
        return None;
    }
    let id = u16::from_be_bytes([b[0], b[1]]);
    let scope_len = u16::from_be_bytes([b[2], b[3]]) as usize;
    let opt_len = u16::from_be_bytes([b[4], b[5]]) as usize;
    if id == 0 && scope_len == 0 && opt_len == 0 {
        return None;
    }
    let count = (scope_len + opt_len) / 4;
    if !scope_len.is_multiple_of(4) || !opt_len.is_multiple_of(4) {
        return Some((
            Err(DecodeErrorKind::BadScope {
                id,
                why: "scope or option length not a multiple of 4",
            }),
            b.len(),
        ));
    }
    if count > cfg.max_template_fields {
        let max = cfg.max_template_fields;
        return Some((
            Err(DecodeErrorKind::TooManyFields { id, count, max }),
            b.len(),
        ));
    }
    let need = 6 + scope_len + opt_len;
    if need > b.len() {
        return Some((Err(DecodeErrorKind::TemplateOverrun { id, count }), b.len()));
    }
    if id < 256 {
        return Some((Err(DecodeErrorKind::ReservedTemplateId { id }), need));
    }
    let fields = specs(&b[6..need]);
    let scope = (scope_len / 4) as u16;
    let def = TemplateDef {
        id,
        fields,
        options: true,
        scope_fields: scope,
        v9_scope: true,
    };
    Some((Ok(def), need))
}

fn specs(b: &[u8]) -> Vec<FieldSpec> {
    b.chunks_exact(4)
        .map(|c| FieldSpec {
            id: u16::from_be_bytes([c[0], c[1]]),
            enterprise: 0,
            len: u16::from_be_bytes([c[2], c[3]]),
        })
        .collect()
}
