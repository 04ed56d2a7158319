//! `--fields a,b,c`: CSV or JSON lines with the columns a user chose, in their order, by any
//! name of the field table ([`crate::model::fields`]) plus `start` and `end` (the RFC 3339
//! times). Headers and keys are flowkit's names (`--fields sa,dp` writes `src_addr,dst_port`),
//! values are written as the full CSV and JSON write them.

use super::clock::{push_rfc3339, Clock};
use super::text;
use super::PrintError;
use crate::enrich::community::{community_id, FiveTuple, DEFAULT_SEED};
use crate::enrich::geo::{GeoField, GeoIp, GeoValue, GEO_FIELDS};
use crate::enrich::ifnames::{IfField, IfNames, IF_FIELDS};
use crate::model::block::{ColumnId, ColumnSet, FlowBlock};
use crate::model::fields::{lookup, Field, FieldValue, FIELDS};

/// One chosen output column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chosen {
    /// Time of the first packet as RFC 3339 text in the display zone.
    Start,
    /// Time of the last packet as RFC 3339 text.
    End,
    /// A field of the table.
    Field(&'static Field),
    /// A field looked up in the `--geoip` databases ([`crate::enrich::geo`]).
    Geo(GeoField),
    /// An interface name or description from the `--ifnames` map ([`crate::enrich::ifnames`]).
    If(IfField),
    /// The flow's Community ID ([`crate::enrich::community`]), computed from its addresses,
    /// protocol and ports.
    CommunityId,
}

/// The name of [`Chosen::CommunityId`], and the other names it may be asked by.
const COMMUNITY_ID: &str = "community_id";
const COMMUNITY_ID_ALIASES: &[&str] = &["community_id", "communityid", "community-id", "cid"];

impl Chosen {
    /// The column's header and JSON key.
    pub fn name(&self) -> &'static str {
        match self {
            Chosen::Start => "start",
            Chosen::End => "end",
            Chosen::Field(f) => f.name,
            Chosen::Geo(g) => g.name(),
            Chosen::If(f) => f.name(),
            Chosen::CommunityId => COMMUNITY_ID,
        }
    }

    /// Every column of the full CSV, then the looked-up fields `geo` answers, then the four
    /// interface fields when there is an `--ifnames` map: what CSV and JSON write with
    /// `--geoip` or `--ifnames` and no `--fields`.
    pub fn all_with(geo: Option<&GeoIp>, ifnames: bool) -> Vec<Chosen> {
        let geo_fields = geo.map(GeoIp::fields).unwrap_or_default();
        let if_fields = if ifnames { &IF_FIELDS[..] } else { &[] };
        [Chosen::Start, Chosen::End]
            .into_iter()
            .chain(FIELDS.iter().map(Chosen::Field))
            .chain(geo_fields.into_iter().map(Chosen::Geo))
            .chain(if_fields.iter().copied().map(Chosen::If))
            .collect()
    }
}

/// Reads a `--fields` list: names separated by commas, each `start`, `end` or any name of the
/// field table; an unknown or repeated name is an error that lists the names.
pub fn parse_fields(list: &str) -> Result<Vec<Chosen>, PrintError> {
    let mut chosen = Vec::new();
    for word in list.split(',').map(str::trim) {
        let lower = word.to_ascii_lowercase();
        let c = match lower.as_str() {
            "start" => Chosen::Start,
            "end" => Chosen::End,
            w if COMMUNITY_ID_ALIASES.contains(&w) => Chosen::CommunityId,
            _ => match (lookup(word), GeoField::parse(word), IfField::parse(word)) {
                (Some(f), _, _) => Chosen::Field(f),
                (None, Some(g), _) => Chosen::Geo(g),
                (None, None, Some(f)) => Chosen::If(f),
                (None, None, None) => {
                    let names: Vec<&str> = ["start", "end"]
                        .into_iter()
                        .chain(FIELDS.iter().map(|f| f.name))
                        .chain(GEO_FIELDS.iter().map(|g| g.name()))
                        .chain(IF_FIELDS.iter().map(|f| f.name()))
                        .chain([COMMUNITY_ID])
                        .collect();
                    return Err(PrintError::BadFields(format!(
                        "unknown field {word:?}; fields are {} (or their flow-tools and nfdump \
                         names, docs/print-formats.md; the src_country to dst_as_org ones need \
                         --geoip, the four if names --ifnames)",
                        names.join(", ")
                    )));
                }
            },
        };
        if chosen.contains(&c) {
            return Err(PrintError::BadFields(format!(
                "{word:?} names {} a second time",
                c.name()
            )));
        }
        chosen.push(c);
    }
    Ok(chosen)
}

/// The block columns the chosen columns read.
pub(crate) fn columns(chosen: &[Chosen]) -> ColumnSet {
    chosen.iter().fold(ColumnSet::EMPTY, |s, c| match c {
        Chosen::Start => s.with(ColumnId::StartMs),
        Chosen::End => s.with(ColumnId::EndMs),
        Chosen::Field(f) => s.with(f.column),
        Chosen::Geo(_) => s.with(ColumnId::SrcAddr).with(ColumnId::DstAddr),
        Chosen::If(f) => s.with(ColumnId::Exporter).with(if f.is_input() {
            ColumnId::InputIf
        } else {
            ColumnId::OutputIf
        }),
        Chosen::CommunityId => s
            .with(ColumnId::SrcAddr)
            .with(ColumnId::DstAddr)
            .with(ColumnId::Protocol)
            .with(ColumnId::SrcPort)
            .with(ColumnId::DstPort),
    })
}

/// The CSV header line.
pub(crate) fn csv_header(chosen: &[Chosen], out: &mut Vec<u8>) {
    let names: Vec<&str> = chosen.iter().map(Chosen::name).collect();
    out.extend_from_slice(names.join(",").as_bytes());
    out.push(b'\n');
}

/// Appends one CSV row (`json` false) or JSON object per flow of `b`.
pub(crate) fn format_block(
    chosen: &[Chosen],
    json: bool,
    (geo, ifnames): (Option<&GeoIp>, Option<&IfNames>),
    b: &FlowBlock<'_>,
    clock: &mut Clock,
    out: &mut Vec<u8>,
) {
    for i in 0..b.len {
        if json {
            out.push(b'{');
        }
        for (k, c) in chosen.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            if json {
                out.push(b'"');
                out.extend_from_slice(c.name().as_bytes());
                out.extend_from_slice(b"\":");
            }
            if let Chosen::Geo(g) = c {
                let v = geo.and_then(|db| db.value(*g, b.src_addr.get(i), b.dst_addr.get(i)));
                geo_value(v, json, out);
                continue;
            }
            if let Chosen::If(f) = c {
                let index = if f.is_input() {
                    b.input_if
                } else {
                    b.output_if
                };
                let v = ifnames.and_then(|m| m.value(*f, b.exporter.get(i), index[i], index[i]));
                geo_value(v.map(|t| GeoValue::Text(t.to_string())), json, out);
                continue;
            }
            if let Chosen::CommunityId = c {
                let t = FiveTuple::of_row(b, i);
                let v = community_id(&t, DEFAULT_SEED).map(GeoValue::Text);
                geo_value(v, json, out);
                continue;
            }
            let quoted = json && !matches!(c, Chosen::Field(f) if !f.kind.is_text());
            if quoted {
                out.push(b'"');
            }
            match c {
                Chosen::Start => push_rfc3339(out, &clock.civil(b.start_ms[i])),
                Chosen::End => push_rfc3339(out, &clock.civil(b.end_ms[i])),
                Chosen::Field(f) => value(f, b, i, out),
                Chosen::Geo(_) | Chosen::If(_) | Chosen::CommunityId => {}
            }
            if quoted {
                out.push(b'"');
            }
        }
        out.push(if json { b'}' } else { b'\n' });
        if json {
            out.push(b'\n');
        }
    }
}

/// Appends field `f` of row `i` as the full CSV writes it.
fn value(f: &Field, b: &FlowBlock<'_>, i: usize, out: &mut Vec<u8>) {
    if let Some(col) = b.addr_column(f.column) {
        return text::addr(out, col, i);
    }
    match f.value(b, i) {
        FieldValue::Unsigned(v) if f.kind.is_text() => {
            f.kind.push_text(out, v);
        }
        FieldValue::Signed(v) => out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
        FieldValue::Unsigned(v) => text::push_u64(out, v),
        FieldValue::Addr(a) => out.extend_from_slice(a.to_string().as_bytes()),
    }
}

/// Appends a looked-up value: JSON `null` or an empty CSV cell when there is none; text quoted
/// (an AS organisation or an interface description may hold commas and quotes).
fn geo_value(v: Option<GeoValue>, json: bool, out: &mut Vec<u8>) {
    match v {
        None if json => out.extend_from_slice(b"null"),
        None => {}
        Some(GeoValue::Number(n)) => text::push_u64(out, n.into()),
        Some(GeoValue::Text(t)) if json => {
            out.extend_from_slice(serde_json::to_string(&t).unwrap_or_default().as_bytes())
        }
        Some(GeoValue::Text(t)) if t.contains([',', '"', '\n', '\r']) => {
            out.push(b'"');
            out.extend_from_slice(t.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        }
        Some(GeoValue::Text(t)) => out.extend_from_slice(t.as_bytes()),
    }
}
