//! `-f json`: one JSON object per line (JSON Lines), every field of the record.
//!
//! Keys and values are those of the CSV columns ([`super::csv::COLUMNS`]), in the same order:
//! `start`/`end` as RFC 3339 text, then the record's fields by name, addresses as strings and
//! numbers as JSON numbers. serde_json writes them.

use super::clock::{push_rfc3339, Clock};
use crate::model::block::FlowBlock;
use crate::model::record::FlowRecord;
use serde::Serialize;

#[derive(Serialize)]
struct JsonFlow<'a> {
    start: &'a str,
    end: &'a str,
    #[serde(flatten)]
    record: &'a FlowRecord,
}

/// Appends one line per flow of `b`.
pub(crate) fn format_block(b: &FlowBlock<'_>, clock: &mut Clock, out: &mut Vec<u8>) {
    let mut start = Vec::with_capacity(32);
    let mut end = Vec::with_capacity(32);
    for record in b.records() {
        start.clear();
        end.clear();
        push_rfc3339(&mut start, &clock.civil(record.start_ms));
        push_rfc3339(&mut end, &clock.civil(record.end_ms));
        let row = JsonFlow {
            start: std::str::from_utf8(&start).unwrap_or_default(),
            end: std::str::from_utf8(&end).unwrap_or_default(),
            record: &record,
        };
        // Serialising plain fields into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &row);
        out.push(b'\n');
    }
}
