//! flow-import's reading of nfdump files: every block of flows goes to the same sink as the
//! flows decoded from captures.

use flowkit_core::archive::format::DEFAULT_BLOCK_FLOWS;
use flowkit_core::archive::nfdump::{sniff, NfdumpReader};
use flowkit_core::FlowBlockBuf;
use std::io::{self, Read};
use std::path::Path;

/// What the nfdump inputs held.
#[derive(Default, Debug)]
pub struct NfdumpCounts {
    /// nfdump files read (completely or up to damage).
    pub files: u64,
    /// Files that could not be opened or whose header was refused.
    pub unreadable: u64,
    /// Files damaged part way (the flows before the damage were imported).
    pub damaged: u64,
    /// Flows imported.
    pub flows: u64,
}

impl NfdumpCounts {
    /// True when a file or part of one was not imported.
    pub fn has_losses(&self) -> bool {
        self.unreadable + self.damaged > 0
    }
}

impl std::fmt::Display for NfdumpCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "nfdump files {}, flows {}, damaged files {}, unreadable files {}",
            self.files, self.flows, self.damaged, self.unreadable
        )
    }
}

/// True when `path` is to be read as an nfdump file: `--format nfdump`, or `auto` and the file
/// starts with nfdump's magic.
pub fn wanted(path: &Path, format: &str) -> bool {
    match format {
        "nfdump" => true,
        "pcap" => false,
        _ => {
            let mut head = [0u8; 4];
            let n = std::fs::File::open(path)
                .and_then(|mut f| f.read(&mut head))
                .unwrap_or(0);
            n == 4 && sniff(&head)
        }
    }
}

/// Reads the nfdump file at `path` into `sink` (time, block); damage is reported with `warn`
/// and counted, and the flows before it are kept. Only a failing sink is an error.
pub fn import(
    path: &Path,
    counts: &mut NfdumpCounts,
    warn: &mut impl FnMut(&str),
    sink: &mut impl FnMut(i64, &flowkit_core::FlowBlock<'_>) -> io::Result<()>,
) -> io::Result<()> {
    let name = path.display().to_string();
    let file = match std::fs::File::open(path) {
        Ok(f) => io::BufReader::with_capacity(1 << 20, f),
        Err(e) => {
            warn(&format!("{name}: {e}"));
            counts.unreadable += 1;
            return Ok(());
        }
    };
    let mut reader = match NfdumpReader::new(&name, &[], file) {
        Ok(r) => r,
        Err(e) => {
            warn(&e.to_string());
            counts.unreadable += 1;
            return Ok(());
        }
    };
    counts.files += 1;
    let mut buf = FlowBlockBuf::default();
    loop {
        let res = reader.next_block(&mut buf, DEFAULT_BLOCK_FLOWS);
        if !buf.is_empty() {
            let block = buf.view();
            // A collector would have written these flows when the last of them ended.
            let t = block.end_ms.iter().copied().max().unwrap_or(0);
            counts.flows += block.len as u64;
            sink(t, &block)?;
        }
        match res {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) => {
                warn(&format!("{e} (flows before it were imported)"));
                counts.damaged += 1;
                return Ok(());
            }
        }
    }
}
