//! flow-import's reading of ulogd2 NFCT JSON (flowkit_core::logs::conntrack): one flow record
//! per connection (the original direction, replies as reverse counters), to the same sink as
//! the flows decoded from captures.

use flowkit_core::archive::format::DEFAULT_BLOCK_FLOWS;
use flowkit_core::logs::conntrack::{read_conntrack, sniff, ConntrackCounts};
use flowkit_core::FlowBlockBuf;
use std::io::{self, BufRead, Read};
use std::path::Path;

/// What the conntrack inputs held, over all of them.
#[derive(Default, Debug)]
pub struct ConntrackTotals {
    /// Files read.
    pub files: u64,
    /// Files that could not be opened.
    pub unreadable: u64,
    /// The files' counts, added up.
    pub counts: ConntrackCounts,
}

impl ConntrackTotals {
    /// True when a line or a file was not imported.
    pub fn has_losses(&self) -> bool {
        self.unreadable + self.counts.malformed > 0
    }
}

impl std::fmt::Display for ConntrackTotals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "conntrack files {} (unreadable {}): {}",
            self.files, self.unreadable, self.counts
        )
    }
}

/// True when `path` is to be read as NFCT JSON: `--format conntrack`, or `auto` and its first
/// line is a JSON object with a `ct.event`.
pub fn wanted(path: &Path, format: &str) -> bool {
    match format {
        "conntrack" => true,
        "auto" => std::fs::File::open(path)
            .map(|f| {
                let mut first = Vec::new();
                let _ = io::BufReader::new(f)
                    .take(64 << 10)
                    .read_until(b'\n', &mut first);
                sniff(&first)
            })
            .unwrap_or(false),
        _ => false,
    }
}

/// Reads the NFCT file at `path` into `sink` (time, block); malformed lines are reported with
/// `warn` and counted. Only a failing sink is an error.
pub fn import(
    path: &Path,
    totals: &mut ConntrackTotals,
    warn: &mut impl FnMut(&str),
    sink: &mut impl FnMut(i64, &flowkit_core::FlowBlock<'_>) -> io::Result<()>,
) -> io::Result<()> {
    let name = path.display().to_string();
    let file = match std::fs::File::open(path) {
        Ok(f) => io::BufReader::with_capacity(1 << 20, f),
        Err(e) => {
            warn(&format!("{name}: {e}"));
            totals.unreadable += 1;
            return Ok(());
        }
    };
    let mut buf = FlowBlockBuf::default();
    let mut flush = |buf: &mut FlowBlockBuf| -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let block = buf.view();
        let t = block.end_ms.iter().copied().max().unwrap_or(0);
        sink(t, &block)?;
        buf.clear();
        Ok(())
    };
    let counts = read_conntrack(file, &name, &mut |e| warn(&e.to_string()), &mut |c| {
        buf.push(&c.record());
        if buf.len() >= DEFAULT_BLOCK_FLOWS {
            flush(&mut buf)?;
        }
        Ok(())
    })?;
    flush(&mut buf)?;
    totals.files += 1;
    let c = &mut totals.counts;
    c.lines += counts.lines;
    c.new_events += counts.new_events;
    c.destroy_events += counts.destroy_events;
    c.connections += counts.connections;
    c.never_destroyed += counts.never_destroyed;
    c.malformed += counts.malformed;
    Ok(())
}
