//! Flow logs read directly as a flow input of every tool (`flow-cat eve.json | flow-print`,
//! `flow-stat conntrack.json`): Suricata EVE JSON and ulogd2 conntrack JSON, told apart by their
//! first line, read with the readers `flow-import` uses ([`crate::logs`]) and their defaults
//! (EVE: `flow` events, `netflow` ones only from a file without any; conntrack: one record per
//! connection).
//!
//! The whole log is read before its first flow is handed on: EVE's rule needs the end of the
//! file to know whether `netflow` events count, and conntrack pairs a NEW with its DESTROY
//! wherever it comes. Memory is about 200 bytes a flow; for logs of many millions of flows,
//! `flow-import` them into an archive once. A malformed line is reported as `FILE:LINE:COL:
//! why` and counted; the other lines' flows are read.

use crate::archive::sniff::ForeignFlows;
use crate::archive::ArchiveError;
use crate::logs::{conntrack, eve};
use crate::model::block::FlowBlockBuf;
use crate::model::record::FlowRecord;
use std::io::{BufRead, BufReader, Read};

/// The flows of a JSON flow log, read whole, handed out a block at a time.
pub struct LogFlows {
    records: std::vec::IntoIter<FlowRecord>,
    /// The malformed lines (and a line that is no known log), as messages naming file and line.
    pub problems: Vec<String>,
}

impl LogFlows {
    /// Reads the log `name` whose first bytes `prefix` were already taken from `rest`.
    pub fn read(name: &str, prefix: &[u8], rest: impl Read) -> Result<LogFlows, ArchiveError> {
        let mut input = BufReader::with_capacity(1 << 20, prefix.chain(rest));
        let io = |e: std::io::Error| ArchiveError::Io {
            path: name.to_string(),
            source: e,
        };
        let mut first_line = Vec::new();
        input.read_until(b'\n', &mut first_line).map_err(io)?;
        let input = BufReader::new(first_line.as_slice().chain(input));
        let mut records = Vec::new();
        let mut problems = Vec::new();
        if eve::sniff(&first_line) {
            eve::read_eve(
                input,
                name,
                eve::EveEvents::Auto,
                &mut |e| problems.push(e.to_string()),
                &mut |r| {
                    records.push(r);
                    Ok(())
                },
            )
            .map_err(io)?;
        } else if conntrack::sniff(&first_line) {
            conntrack::read_conntrack(
                input,
                name,
                &mut |e| problems.push(e.to_string()),
                &mut |c| {
                    records.push(c.record());
                    Ok(())
                },
            )
            .map_err(io)?;
        } else {
            // Named as line 1, column 1, as the log readers name a bad line.
            return Err(ArchiveError::Unsupported {
                path: format!("{name}:1:1"),
                what: "JSON lines, but neither Suricata EVE (`event_type`) nor ulogd2 \
                       conntrack (`ct.event`) on the first line"
                    .to_string(),
            });
        }
        Ok(LogFlows {
            records: records.into_iter(),
            problems,
        })
    }
}

impl ForeignFlows for LogFlows {
    fn next_block(&mut self, out: &mut FlowBlockBuf, max: usize) -> Result<usize, ArchiveError> {
        out.clear();
        for r in self.records.by_ref().take(max) {
            out.push(&r);
        }
        Ok(out.len())
    }
}
