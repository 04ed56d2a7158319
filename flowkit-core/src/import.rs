//! Importing captured export packets: capture files → datagrams → [`Decoder`] → flow blocks.
//!
//! flow-import is a thin shell over [`Importer`]; tests drive it directly.

use crate::block::{FlowBlock, FlowBlockBuf};
use crate::capture::{CaptureReader, CaptureStats};
use crate::decode::{peek_header, DecodeStats, Decoder, DecoderConfig};
use std::fmt;
use std::io;
use std::path::Path;

/// Where imported flows go: called with the time that chooses the output file (the export
/// packet's header time, or the capture time when the header has none) and a block of flows.
pub type FlowSink<'a> = dyn FnMut(i64, &FlowBlock<'_>) -> io::Result<()> + 'a;

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
    buf: FlowBlockBuf,
    summary: ImportSummary,
}

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
            buf: FlowBlockBuf::default(),
            summary: ImportSummary::default(),
        }
    }

    /// Imports one capture file. Problems with the capture or its packets go to `warn` (with
    /// the file name and packet number) and are counted; only a failing `sink` is an error.
    pub fn import_file(
        &mut self,
        path: &Path,
        warn: &mut dyn FnMut(&str),
        sink: &mut FlowSink<'_>,
    ) -> io::Result<()> {
        match CaptureReader::open(path) {
            Ok(r) => self.import(r, warn, sink),
            Err(e) => {
                warn(&e.to_string());
                self.summary.unreadable_captures += 1;
                Ok(())
            }
        }
    }

    /// Imports the datagrams of an opened capture.
    pub fn import(
        &mut self,
        mut reader: CaptureReader,
        warn: &mut dyn FnMut(&str),
        sink: &mut FlowSink<'_>,
    ) -> io::Result<()> {
        let name = reader.name().to_string();
        let mut reports = 0u64;
        let mut report = |msg: String, warn: &mut dyn FnMut(&str)| {
            reports += 1;
            if reports <= MAX_REPORTS_PER_CAPTURE {
                warn(&msg);
            }
        };
        loop {
            let dgram = match reader.next_datagram() {
                Ok(Some(d)) => d,
                Ok(None) => break,
                Err(e) => {
                    report(format!("{e}; the packets before it were imported"), warn);
                    self.summary.damaged_captures += 1;
                    break;
                }
            };
            let Some(h) = peek_header(dgram.payload) else {
                self.summary.not_export += 1;
                continue;
            };
            let exporter = dgram.src.ip();
            self.buf.clear();
            let res = self
                .decoder
                .decode(dgram.payload, exporter, dgram.ts_ms, &mut self.buf);
            if let Err(e) = res {
                self.summary.malformed_packets += 1;
                let kept = if self.buf.is_empty() {
                    String::new()
                } else {
                    format!(" ({} flows before the damage kept)", self.buf.len())
                };
                report(
                    format!(
                        "{name}: packet {}: {} v{} from {exporter}: {e}{kept}",
                        dgram.packet,
                        if self.buf.is_empty() {
                            "skipped"
                        } else {
                            "damaged"
                        },
                        h.version
                    ),
                    warn,
                );
            }
            if !self.buf.is_empty() {
                let t = if h.export_ms > 0 {
                    h.export_ms
                } else {
                    dgram.ts_ms
                };
                sink(t, &self.buf.view())?;
            }
        }
        if reports > MAX_REPORTS_PER_CAPTURE {
            warn(&format!(
                "{name}: {} more problems not shown",
                reports - MAX_REPORTS_PER_CAPTURE
            ));
        }
        self.summary.capture.add(&reader.stats);
        self.summary.captures += 1;
        Ok(())
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
