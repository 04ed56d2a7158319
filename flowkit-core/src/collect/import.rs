//! Importing captured export packets: capture files → datagrams → [`Decoder`] → flow blocks.
//!
//! flow-import is a thin shell over [`Importer`]; tests drive it directly.

use crate::model::block::{FlowBlock, FlowBlockBuf};
use crate::netflow::pcap::{CaptureReader, CaptureStats};
use crate::netflow::{peek_header, DecodeStats, Decoder, DecoderConfig, FlowOut};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Where imported flows go: called with the time that chooses the output file (the export
/// packet's header time, or the capture time when the header has none) and a block of flows.
pub type FlowSink<'a> = dyn FnMut(i64, &FlowBlock<'_>) -> io::Result<()> + 'a;

/// A [`FlowSink`] given the batch's buffer: it may take the flows out (swap the contents for an
/// empty buffer, as [`crate::archive::ArchiveWriter::write_buf`] does) instead of copying them.
/// Whatever it leaves in the buffer is cleared and the buffer filled again.
pub type BufSink<'a> = dyn FnMut(i64, &mut FlowBlockBuf) -> io::Result<()> + 'a;

/// Totals of an import.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Capture files read (completely or up to damage).
    pub captures: u64,
    /// Capture files that could not be opened or were not captures.
    pub unreadable_captures: u64,
    /// Capture files cut off or corrupt part way (what came before was imported).
    pub damaged_captures: u64,
    /// What the captures held.
    pub capture: CaptureStats,
    /// UDP datagrams that are not NetFlow v5/v9 or IPFIX (another version number).
    pub not_export: u64,
    /// Capture files read in which no datagram was an export packet (a capture of traffic, or
    /// of the wrong host): each is reported with what it held.
    pub without_exports: u64,
    /// Export packets with a decoding error (reported, their good sets kept).
    pub malformed_packets: u64,
    /// What the decoder counted.
    pub decode: DecodeStats,
}

impl ImportSummary {
    /// True when something was skipped, dropped or damaged.
    pub fn has_losses(&self) -> bool {
        self.unreadable_captures > 0
            || self.damaged_captures > 0
            || self.not_export > 0
            || self.without_exports > 0
            || self.malformed_packets > 0
            || self.capture.undecodable > 0
            || self.capture.fragments > 0
            || self.capture.truncated > 0
            || self.decode.has_losses()
    }
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.decode;
        write!(
            f,
            "{} capture(s) read ({} unreadable, {} damaged); {} packets, {} UDP, {} export packets; \
             {} flows; {} malformed packets; {} not NetFlow/IPFIX; \
             {} data sets before their template ({} decoded later, {} dropped); \
             {} sequence gaps; {} options records; {} templates",
            self.captures,
            self.unreadable_captures,
            self.damaged_captures,
            self.capture.packets,
            self.capture.udp,
            d.datagrams,
            d.flows,
            self.malformed_packets,
            self.not_export,
            d.unknown_template,
            d.held_decoded,
            d.held_dropped,
            d.sequence_gaps,
            d.options_records,
            d.templates,
        )?;
        if d.bad_times > 0 {
            write!(
                f,
                "; {} flows with times before 1990 or over two days after their export time (kept)",
                d.bad_times
            )?;
        }
        if d.evicted_templates + d.evicted_held + d.evicted_exporters > 0 {
            write!(
                f,
                "; evicted for --max-memory: {} exporters, {} templates, {} held sets",
                d.evicted_exporters, d.evicted_templates, d.evicted_held
            )?;
        }
        if self.without_exports > 0 {
            write!(
                f,
                "; {} capture(s) without export packets",
                self.without_exports
            )?;
        }
        let c = &self.capture;
        if c.not_udp + c.undecodable + c.fragments + c.truncated > 0 {
            write!(
                f,
                "; skipped frames: {} not UDP, {} undecodable, {} IP fragments, {} cut short",
                c.not_udp, c.undecodable, c.fragments, c.truncated
            )?;
        }
        Ok(())
    }
}

/// Reports per capture file beyond this many are summarised, not printed one by one.
const MAX_REPORTS_PER_CAPTURE: u64 = 50;

/// Decodes capture files with one decoder, so templates carry across files of the same
/// exporters (as a collector's would across time).
pub struct Importer {
    decoder: Decoder,
    summary: ImportSummary,
    interval: Option<IntervalFn>,
}

/// Maps an export time to the start of the output file's interval it belongs to.
pub type IntervalFn = std::sync::Arc<dyn Fn(i64) -> i64 + Send + Sync>;

impl Default for Importer {
    fn default() -> Self {
        Importer::new(DecoderConfig::default())
    }
}

impl Importer {
    /// An importer whose decoder has the given limits.
    pub fn new(config: DecoderConfig) -> Self {
        Importer {
            decoder: Decoder::new(config),
            summary: ImportSummary::default(),
            interval: None,
        }
    }

    /// Files flows by time (a dated tree): a batch never spans two intervals of `interval`, so
    /// every flow reaches the sink with the time of an export packet of its own interval.
    pub fn set_interval(&mut self, interval: IntervalFn) {
        self.interval = Some(interval);
    }

    /// Imports one capture file. Problems with the capture or its packets go to `warn` (with
    /// the file name and packet number) and are counted; only a failing `sink` is an error.
    pub fn import_file(
        &mut self,
        path: &Path,
        warn: &mut dyn FnMut(&str),
        sink: &mut FlowSink<'_>,
    ) -> io::Result<()> {
        self.import_file_bufs(path, warn, &mut |t, b| sink(t, &b.view()))
    }

    /// [`Importer::import_file`] with a sink that may take each batch's flows without copying
    /// them (see [`BufSink`]).
    pub fn import_file_bufs(
        &mut self,
        path: &Path,
        warn: &mut dyn FnMut(&str),
        sink: &mut BufSink<'_>,
    ) -> io::Result<()> {
        match CaptureReader::open(path) {
            Ok(r) => self.import_bufs(r, warn, sink),
            Err(e) => {
                warn(&e.to_string());
                self.summary.unreadable_captures += 1;
                Ok(())
            }
        }
    }

    /// Imports the datagrams of an opened capture. Decoding runs on a thread of its own while
    /// the caller's thread runs `sink` (encoding and writing), so the two overlap. Each batch
    /// holds flows of one address family (IPv4, or IPv6 source or destination), in capture
    /// order, [`BATCH_FLOWS`] of them unless it ends an interval (see
    /// [`Importer::set_interval`]) or the capture; its time is the export time of a datagram of
    /// its interval.
    pub fn import(
        &mut self,
        reader: CaptureReader,
        warn: &mut dyn FnMut(&str),
        sink: &mut FlowSink<'_>,
    ) -> io::Result<()> {
        self.import_bufs(reader, warn, &mut |t, b| sink(t, &b.view()))
    }

    /// [`Importer::import`] with a sink that may take each batch's flows without copying them
    /// (see [`BufSink`]).
    pub fn import_bufs(
        &mut self,
        reader: CaptureReader,
        warn: &mut dyn FnMut(&str),
        sink: &mut BufSink<'_>,
    ) -> io::Result<()> {
        let name = reader.name().to_string();
        let (tx, rx) = sync_channel::<Decoded>(4);
        // Written batches go back to the decoder to be filled again.
        let (give_back, take_back) = sync_channel::<FlowBlockBuf>(8);
        let decoder = &mut self.decoder;
        let summary = &mut self.summary;
        let interval = self.interval.clone();
        let mut reports = 0u64;
        let mut result = Ok(());
        std::thread::scope(|scope| {
            scope
                .spawn(move || decode_capture(reader, decoder, summary, interval, &tx, &take_back));
            for msg in rx.iter() {
                match msg {
                    Decoded::Flows(t, mut block) if result.is_ok() => {
                        result = sink(t, &mut block);
                        block.clear();
                        let _ = give_back.try_send(*block);
                    }
                    Decoded::Flows(..) => {} // the sink failed: drain until the decoder stops
                    Decoded::Problem(m) => {
                        reports += 1;
                        if reports <= MAX_REPORTS_PER_CAPTURE {
                            warn(&m);
                        }
                    }
                }
            }
        });
        if reports > MAX_REPORTS_PER_CAPTURE {
            warn(&format!(
                "{name}: {} more problems not shown",
                reports - MAX_REPORTS_PER_CAPTURE
            ));
        }
        result
    }

    /// Ends the import: data still waiting for a template is counted as dropped. Returns the
    /// totals.
    pub fn finish(mut self) -> ImportSummary {
        self.decoder.drop_held();
        self.summary.decode = self.decoder.stats();
        self.summary
    }

    /// The decoder (for its counters per exporter).
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }
}

/// Flows handed to the sink at once (a batch may pass it by the flows of one datagram).
pub const BATCH_FLOWS: usize = 8192;

/// What the decoding thread sends to the writing one.
enum Decoded {
    /// A batch of flows and the export time that files it.
    Flows(i64, Box<FlowBlockBuf>),
    /// A problem to report.
    Problem(String),
}

/// The decoding side of [`Importer::import`]: reads the capture, decodes its datagrams and sends
/// batches of flows (and problems) on `tx`; stops early when the receiver is gone.
fn decode_capture(
    mut reader: CaptureReader,
    decoder: &mut Decoder,
    summary: &mut ImportSummary,
    interval: Option<IntervalFn>,
    tx: &SyncSender<Decoded>,
    recycled: &Receiver<FlowBlockBuf>,
) {
    // The interval of an export time, remembered for the last time asked: consecutive
    // datagrams mostly share their export second, and a time zone lookup per datagram showed.
    let mut last: Option<(i64, Option<i64>)> = None;
    let mut key = |t: i64| match last {
        Some((lt, k)) if lt == t => k,
        _ => {
            let k = interval.as_ref().map(|f| f(t));
            last = Some((t, k));
            k
        }
    };
    let name = reader.name().to_string();
    // Export packets seen, and where the other UDP datagrams went (said when there is none).
    let mut exports = 0u64;
    let mut other_ports: HashMap<u16, u64> = HashMap::new();
    // IPv4 and IPv6 flows are decoded apart ([`FlowOut::split`]): the writer keeps them in
    // separate blocks, and a full batch of one family is written as it is.
    let mut v4 = FlowBlockBuf::default();
    let mut v6 = FlowBlockBuf::default();
    let mut batch_t = 0i64;
    let mut batch_key = None;
    let send = |t: i64, batch: &mut FlowBlockBuf| {
        if batch.is_empty() {
            return true;
        }
        let mut empty = recycled.try_recv().unwrap_or_default();
        // A batch ends at the datagram that takes it past BATCH_FLOWS.
        empty.reserve(BATCH_FLOWS + 512);
        let full = std::mem::replace(batch, empty);
        tx.send(Decoded::Flows(t, Box::new(full))).is_ok()
    };
    loop {
        let dgram = match reader.next_datagram() {
            Ok(Some(d)) => d,
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Decoded::Problem(format!(
                    "{e}; the packets before it were imported"
                )));
                summary.damaged_captures += 1;
                break;
            }
        };
        let Some(h) = peek_header(dgram.payload) else {
            summary.not_export += 1;
            *other_ports.entry(dgram.dst.port()).or_default() += 1;
            continue;
        };
        exports += 1;
        let t = if h.export_ms > 0 {
            h.export_ms
        } else {
            dgram.ts_ms
        };
        let held = !v4.is_empty() || !v6.is_empty();
        if held && key(t) != batch_key {
            // A new interval: what is held belongs to the old one.
            if !send(batch_t, &mut v4) || !send(batch_t, &mut v6) {
                return;
            }
        }
        for batch in [&mut v4, &mut v6] {
            if batch.len() >= BATCH_FLOWS && !send(batch_t, batch) {
                return;
            }
        }
        if v4.is_empty() && v6.is_empty() {
            batch_t = t;
            batch_key = key(t);
        }
        let exporter = dgram.src;
        let before = v4.len() + v6.len();
        let mut out = FlowOut::split(&mut v4, &mut v6);
        if let Err(e) = decoder.decode_into(dgram.payload, exporter, dgram.ts_ms, &mut out) {
            summary.malformed_packets += 1;
            let kept = out.len() - before;
            let note = if kept == 0 {
                String::new()
            } else {
                format!(" ({kept} flows before the damage kept)")
            };
            let msg = format!(
                "{name}: packet {}: {} v{} from {exporter}: {e}{note}",
                dgram.packet,
                if kept == 0 { "skipped" } else { "damaged" },
                h.version
            );
            if tx.send(Decoded::Problem(msg)).is_err() {
                return;
            }
        }
        let bad = decoder.last_bad_times();
        if bad > 0 {
            let msg = format!(
                "{name}: packet {}: v{} from {exporter}: {bad} flows with times before 1990 or \
                 over two days after the export time {} (kept, counted)",
                dgram.packet,
                h.version,
                jiff::Timestamp::from_millisecond(h.export_ms)
                    .map_or_else(|_| format!("{} ms", h.export_ms), |t| t.to_string())
            );
            if tx.send(Decoded::Problem(msg)).is_err() {
                return;
            }
        }
    }
    if send(batch_t, &mut v4) {
        send(batch_t, &mut v6);
    }
    if exports == 0 {
        summary.without_exports += 1;
        let msg = no_exports(&name, &reader.stats, &other_ports);
        let _ = tx.send(Decoded::Problem(msg));
    }
    summary.capture.add(&reader.stats);
    summary.captures += 1;
}

/// What a capture without a single export packet held, and what to do about it.
fn no_exports(name: &str, c: &CaptureStats, other_ports: &HashMap<u16, u64>) -> String {
    let other_ip = c.not_udp - c.tcp;
    let rest = c.undecodable + c.fragments + c.truncated;
    let mut msg = format!(
        "{name}: no NetFlow v5/v9 or IPFIX export packet on any UDP port in {} packets \
         ({} TCP, {} UDP, {other_ip} other IP, {rest} not IP, fragments or cut short)",
        c.packets, c.tcp, c.udp
    );
    if !other_ports.is_empty() {
        let mut ports: Vec<(u16, u64)> = other_ports.iter().map(|(&p, &n)| (p, n)).collect();
        ports.sort_by_key(|&(p, n)| (std::cmp::Reverse(n), p));
        let shown: Vec<String> = ports
            .iter()
            .take(5)
            .map(|(p, n)| format!("{p} ({n})"))
            .collect();
        let more = if ports.len() > 5 { ", ..." } else { "" };
        msg.push_str(&format!("; UDP went to ports {}{more}", shown.join(", ")));
    }
    msg.push_str(
        "; flow-import reads captures of the export packets an exporter sends to its \
         collector (e.g. `tcpdump -w FILE udp port 2055`); to make flows of captured traffic, \
         run an exporter over it (e.g. `softflowd -r FILE -n 127.0.0.1:2055` with flow-capture \
         listening)",
    );
    msg
}
