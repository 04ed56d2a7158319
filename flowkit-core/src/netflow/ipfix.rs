//! IPFIX (RFC 7011): the message header and template, options-template and withdrawal records.

use super::template::{FieldSpec, TemplateDef};
use super::{DecodeErrorKind, DecoderConfig, ExportHeader};

/// Length of the IPFIX message header.
pub(super) const HEADER_LEN: usize = 16;

/// The IPFIX message header, if the datagram is long enough for one.
pub(super) fn header(d: &[u8]) -> Option<ExportHeader> {
    let b = d.get(..HEADER_LEN)?;
    let u32_at = |o: usize| u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    Some(ExportHeader {
        version: 10,
        export_ms: u32_at(4) as i64 * 1000,
        sequence: u32_at(8),
        domain: u32_at(12),
        uptime_ms: None,
    })
}

/// A template record as read from a set.
pub(super) enum Record {
    /// A (data or options) template definition.
    Define(Result<TemplateDef, DecodeErrorKind>),
    /// Withdrawal of one template.
    Withdraw(u16),
    /// Withdrawal of all data (2) or all options (3) templates.
    WithdrawAll(u16),
}

/// Parses one template record (or a withdrawal) at the start of `b`; `options` for set id 3.
/// Returns `None` when what is left is padding. The `usize` is the bytes the record took.
pub(super) fn template_record(
    b: &[u8],
    options: bool,
    cfg: &DecoderConfig,
) -> Option<(Record, usize)> {
    if b.len() < 4 {
        return None;
    }
    let id = u16::from_be_bytes([b[0], b[1]]);
    let count = u16::from_be_bytes([b[2], b[3]]) as usize;
    if count == 0 {
        return Some(match id {
            0 => return None, // zero padding
            2 | 3 => (Record::WithdrawAll(id), 4),
            256.. => (Record::Withdraw(id), 4),
            _ => (
                Record::Define(Err(DecodeErrorKind::ReservedTemplateId { id })),
                4,
            ),
        });
    }
    let bad = |kind| Some((Record::Define(Err(kind)), b.len()));
    if count > cfg.max_template_fields {
        let max = cfg.max_template_fields;
        return bad(DecodeErrorKind::TooManyFields { id, count, max });
    }
    let mut pos = 4;
    let mut scope = 0u16;
    if options {
        if b.len() < 6 {
            return bad(DecodeErrorKind::TemplateOverrun { id, count });
        }
        scope = u16::from_be_bytes([b[4], b[5]]);
        pos = 6;
        if scope == 0 || scope as usize > count {
            return bad(DecodeErrorKind::BadScope {
                id,
                why: "scope field count is 0 or exceeds the field count",
            });
        }
    }
    let mut fields = Vec::with_capacity(count.min(b.len() / 4));
    for _ in 0..count {
        let Some(c) = b.get(pos..pos + 4) else {
            return bad(DecodeErrorKind::TemplateOverrun { id, count });
        };
        let raw = u16::from_be_bytes([c[0], c[1]]);
        let len = u16::from_be_bytes([c[2], c[3]]);
        pos += 4;
        let enterprise = if raw & 0x8000 != 0 {
            let Some(e) = b.get(pos..pos + 4) else {
                return bad(DecodeErrorKind::TemplateOverrun { id, count });
            };
            pos += 4;
            u32::from_be_bytes([e[0], e[1], e[2], e[3]])
        } else {
            0
        };
        fields.push(FieldSpec {
            id: raw & 0x7FFF,
            enterprise,
            len,
        });
    }
    if id < 256 {
        return Some((
            Record::Define(Err(DecodeErrorKind::ReservedTemplateId { id })),
            pos,
        ));
    }
    Some((
        Record::Define(Ok(TemplateDef {
            id,
            fields,
            options,
            scope_fields: scope,
            v9_scope: false,
        })),
        pos,
    ))
}
