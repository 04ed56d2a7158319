//! flow-import's reading of Suricata EVE JSON (flowkit_core::logs::eve): records go to the same
//! sink as the flows decoded from captures, a block at a time.

use flowkit_core::archive::format::DEFAULT_BLOCK_FLOWS;
use flowkit_core::logs::eve::{read_eve, sniff, EveCounts, EveEvents};
use flowkit_core::FlowBlockBuf;
use std::io::{self, BufRead, Read};
use std::path::Path;

/// What the EVE inputs held, over all of them.
#[derive(Default, Debug)]
pub struct EveTotals {
    /// EVE files read.
    pub files: u64,
    /// Files that could not be opened.
    pub unreadable: u64,
    /// The files' counts, added up.
    pub counts: EveCounts,
}

impl EveTotals {
    /// True when a line or a file was not imported for a fault (not by choice).
    pub fn has_losses(&self) -> bool {
        self.unreadable + self.counts.malformed > 0
    }
}

impl std::fmt::Display for EveTotals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EVE files {} (unreadable {}): {}",
            self.files, self.unreadable, self.counts
        )
    }
}

/// True when `path` is to be read as EVE JSON: `--format eve`, or `auto` and its first line is
/// a JSON object with an `event_type`.
pub fn wanted(path: &Path, format: &str) -> bool {
    match format {
        "eve" => true,
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

/// Reads the EVE file at `path` into `sink` (time, block); malformed lines are reported with
/// `warn` and counted. Only a failing sink is an error.
pub fn import(
    path: &Path,
    events: EveEvents,
    totals: &mut EveTotals,
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
        // A collector would have written these flows when the last of them ended.
        let t = block.end_ms.iter().copied().max().unwrap_or(0);
        sink(t, &block)?;
        buf.clear();
        Ok(())
    };
    let counts = read_eve(
        file,
        &name,
        events,
        &mut |e| warn(&e.to_string()),
        &mut |r| {
            buf.push(&r);
            if buf.len() >= DEFAULT_BLOCK_FLOWS {
                flush(&mut buf)?;
            }
            Ok(())
        },
    )?;
    flush(&mut buf)?;
    totals.files += 1;
    let c = &mut totals.counts;
    c.lines += counts.lines;
    c.flows += counts.flows;
    c.flow_events += counts.flow_events;
    c.netflow_events += counts.netflow_events;
    c.not_chosen += counts.not_chosen;
    c.malformed += counts.malformed;
    for (k, n) in counts.other_events {
        *c.other_events.entry(k).or_default() += n;
    }
    Ok(())
}
