//! flow-import's reading of other tools' files (ulogd2 conntrack JSON, Suricata EVE JSON, nfdump
//! files): which files are theirs, opening them (a file that cannot be opened is a counted
//! warning, not an error), and handing their flows to the same sink as the flows decoded from
//! captures, a block at a time.

use flowkit_core::archive::format::DEFAULT_BLOCK_FLOWS;
use flowkit_core::archive::nfdump::NfdumpReader;
use flowkit_core::logs::conntrack::{self, ConntrackCounts};
use flowkit_core::logs::eve::{self, EveCounts, EveEvents};
use flowkit_core::{FlowBlock, FlowBlockBuf, FlowRecord};
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Where flows go: the time a collector would have written them (the end of the last of them)
/// and the block.
pub trait Sink: FnMut(i64, &FlowBlock<'_>) -> io::Result<()> {}
impl<F: FnMut(i64, &FlowBlock<'_>) -> io::Result<()>> Sink for F {}

/// Whether `path` is read as `kind`: named with `--format KIND`, or `--format auto` and
/// `sniff` recognises the file's first bytes (up to 64 KiB; see [`first_line`]).
pub fn wanted(path: &Path, format: &str, kind: &str, sniff: impl Fn(&[u8]) -> bool) -> bool {
    match format {
        f if f == kind => true,
        "auto" => {
            let mut head = Vec::new();
            File::open(path)
                .and_then(|f| f.take(64 << 10).read_to_end(&mut head))
                .is_ok_and(|_| sniff(&head))
        }
        _ => false,
    }
}

/// The first line of `head` (with its newline), as the JSON logs' sniffers want it.
pub fn first_line(head: &[u8]) -> &[u8] {
    match head.iter().position(|&b| b == b'\n') {
        Some(i) => &head[..=i],
        None => head,
    }
}

/// Opens `path` for reading; a failure is warned about and counted in `unreadable`.
fn open(path: &Path, unreadable: &mut u64, warn: &mut impl FnMut(&str)) -> Option<File> {
    match File::open(path) {
        Ok(f) => Some(f),
        Err(e) => {
            warn(&format!("{}: {e}", path.display()));
            *unreadable += 1;
            None
        }
    }
}

/// Hands `block` to `sink`, stamped with the end of the last of its flows.
fn hand_on(sink: &mut impl Sink, block: &FlowBlock<'_>) -> io::Result<()> {
    let t = block.end_ms.iter().copied().max().unwrap_or(0);
    sink(t, block)
}

/// A log kind's counts, added up over files.
pub trait LogCounts: Default + fmt::Display {
    /// Adds another file's counts.
    fn absorb(&mut self, other: Self);
    /// Lines that could not be read.
    fn malformed(&self) -> u64;
}

impl LogCounts for ConntrackCounts {
    fn absorb(&mut self, o: Self) {
        self.lines += o.lines;
        self.new_events += o.new_events;
        self.destroy_events += o.destroy_events;
        self.connections += o.connections;
        self.never_destroyed += o.never_destroyed;
        self.malformed += o.malformed;
    }
    fn malformed(&self) -> u64 {
        self.malformed
    }
}

impl LogCounts for EveCounts {
    fn absorb(&mut self, o: Self) {
        self.lines += o.lines;
        self.flows += o.flows;
        self.flow_events += o.flow_events;
        self.netflow_events += o.netflow_events;
        self.not_chosen += o.not_chosen;
        self.malformed += o.malformed;
        for (k, n) in o.other_events {
            *self.other_events.entry(k).or_default() += n;
        }
    }
    fn malformed(&self) -> u64 {
        self.malformed
    }
}

/// What the inputs of one JSON log kind held, over all of them.
#[derive(Default, Debug)]
pub struct LogTotals<C> {
    /// The kind, as the summary line names it (`EVE`, `conntrack`).
    pub kind: &'static str,
    /// Files read.
    pub files: u64,
    /// Files that could not be opened.
    pub unreadable: u64,
    /// The files' counts, added up.
    pub counts: C,
}

impl<C: LogCounts> LogTotals<C> {
    /// No file yet, of the kind named `kind`.
    pub fn new(kind: &'static str) -> Self {
        LogTotals {
            kind,
            files: 0,
            unreadable: 0,
            counts: C::default(),
        }
    }

    /// True when a line or a file was not imported for a fault (not by choice).
    pub fn has_losses(&self) -> bool {
        self.unreadable + self.counts.malformed() > 0
    }
}

impl<C: LogCounts> fmt::Display for LogTotals<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} files {} (unreadable {}): {}",
            self.kind, self.files, self.unreadable, self.counts
        )
    }
}

/// Gathers records into blocks of the archive's size and hands each on when full.
struct Blocks<'s, S: Sink> {
    buf: FlowBlockBuf,
    sink: &'s mut S,
}

impl<S: Sink> Blocks<'_, S> {
    fn push(&mut self, r: &FlowRecord) -> io::Result<()> {
        self.buf.push(r);
        if self.buf.len() >= DEFAULT_BLOCK_FLOWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            hand_on(self.sink, &self.buf.view())?;
            self.buf.clear();
        }
        Ok(())
    }
}

/// Reads the JSON log at `path` with `read` (given the open file, its name, where a malformed
/// line is reported, and where each record goes) into `sink`; malformed lines are reported with
/// `warn` and counted. Only a failing sink is an error.
fn import_log<C: LogCounts>(
    path: &Path,
    totals: &mut LogTotals<C>,
    warn: &mut impl FnMut(&str),
    sink: &mut impl Sink,
    read: impl FnOnce(
        io::BufReader<File>,
        &str,
        &mut dyn FnMut(&str),
        &mut dyn FnMut(&FlowRecord) -> io::Result<()>,
    ) -> io::Result<C>,
) -> io::Result<()> {
    let Some(file) = open(path, &mut totals.unreadable, warn) else {
        return Ok(());
    };
    let name = path.display().to_string();
    let mut blocks = Blocks {
        buf: FlowBlockBuf::default(),
        sink,
    };
    let counts = read(
        io::BufReader::with_capacity(1 << 20, file),
        &name,
        warn,
        &mut |r| blocks.push(r),
    )?;
    blocks.flush()?;
    totals.files += 1;
    totals.counts.absorb(counts);
    Ok(())
}

/// Reads the ulogd2 NFCT file at `path`: one flow per connection (original direction, replies
/// as reverse counters).
pub fn import_conntrack(
    path: &Path,
    totals: &mut LogTotals<ConntrackCounts>,
    warn: &mut impl FnMut(&str),
    sink: &mut impl Sink,
) -> io::Result<()> {
    import_log(path, totals, warn, sink, |input, name, bad, push| {
        conntrack::read_conntrack(input, name, &mut |e| bad(&e.to_string()), &mut |c| {
            push(&c.record())
        })
    })
}

/// Reads the Suricata EVE file at `path`, the `events` chosen.
pub fn import_eve(
    path: &Path,
    events: EveEvents,
    totals: &mut LogTotals<EveCounts>,
    warn: &mut impl FnMut(&str),
    sink: &mut impl Sink,
) -> io::Result<()> {
    import_log(path, totals, warn, sink, |input, name, bad, push| {
        eve::read_eve(
            input,
            name,
            events,
            &mut |e| bad(&e.to_string()),
            &mut |r| push(&r),
        )
    })
}

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

impl fmt::Display for NfdumpCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "nfdump files {}, flows {}, damaged files {}, unreadable files {}",
            self.files, self.flows, self.damaged, self.unreadable
        )
    }
}

/// Reads the nfdump file at `path` into `sink`; damage is reported with `warn` and counted, and
/// the flows before it are kept. Only a failing sink is an error.
pub fn import_nfdump(
    path: &Path,
    counts: &mut NfdumpCounts,
    warn: &mut impl FnMut(&str),
    sink: &mut impl Sink,
) -> io::Result<()> {
    let Some(file) = open(path, &mut counts.unreadable, warn) else {
        return Ok(());
    };
    let name = path.display().to_string();
    let file = io::BufReader::with_capacity(1 << 20, file);
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
            counts.flows += buf.len() as u64;
            hand_on(sink, &buf.view())?;
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
