//! Printing flows as text: flow-tools' formats and nfdump's `fmt:` (byte for byte), CSV and JSON
//! lines.
//!
//! A [`Printer`] turns whole [`FlowBlock`]s into bytes: each block is formatted into its own buffer
//! (no allocation per field, cached civil times), the blocks of a batch in parallel, and the
//! buffers are written in order. See docs/print-formats.md for every format.
//!
//! ```
//! use flowkit_core::print::{Format, PrintOptions, Printer};
//! use flowkit_core::{FlowBlockBuf, FlowRecord};
//!
//! let flows = FlowBlockBuf::from_records(&[FlowRecord {
//!     src_addr: "10.0.0.1".parse().unwrap(),
//!     dst_addr: "2001:db8::1".parse().unwrap(),
//!     protocol: 6,
//!     dst_port: 22,
//!     packets: 3,
//!     octets: 180,
//!     ..FlowRecord::default()
//! }]);
//! let printer = Printer::new(PrintOptions::new(Format::FlowTools(3))).unwrap();
//! let mut out = printer.header();
//! printer.format_block(&flows.view(), &mut out);
//! assert_eq!(
//!     String::from_utf8(out).unwrap(),
//!     "srcIP            dstIP            prot  srcPort  dstPort  octets      packets\n\
//!      10.0.0.1         2001:db8::1      6     0        22       180         3         \n"
//! );
//! ```

pub use crate::time::clock;
pub mod csv;
pub mod fields;
mod flowtools;
pub mod nfdump_fmt;
mod text;

use crate::model::block::{ColumnId, ColumnSet, FlowBlock};
use clock::Clock;
use flowtools::TextOptions;
use jiff::tz::TimeZone;
use nfdump_fmt::{FmtOptions, NfdumpFormat};
use rayon::prelude::*;
use std::io::{self, Write};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

/// An output format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// flow-tools' `flow-print -f N` (0 to 24; flowkit prints 0-6 and 9).
    FlowTools(u8),
    /// A header line and one comma-separated row per flow, every field.
    Csv,
    /// One JSON object per line, every field.
    Json,
    /// nfdump's `-o fmt:...` (or one of its named formats, `long`): text with `%` tokens
    /// ([`nfdump_fmt`]).
    NfdumpFmt(NfdumpFormat),
}

/// flow-tools' default for NetFlow v5 (and ours for everything).
pub const DEFAULT_FORMAT: Format = Format::FlowTools(3);

impl Default for Format {
    fn default() -> Self {
        DEFAULT_FORMAT
    }
}

impl FromStr for Format {
    type Err = PrintError;

    fn from_str(s: &str) -> Result<Format, PrintError> {
        // Kept as written: blanks are part of the output.
        if let Some(parsed) = NfdumpFormat::from_arg(s) {
            return parsed.map(Format::NfdumpFmt);
        }
        let t = s.trim();
        if t.eq_ignore_ascii_case("csv") {
            return Ok(Format::Csv);
        }
        if t.eq_ignore_ascii_case("json") || t.eq_ignore_ascii_case("jsonl") {
            return Ok(Format::Json);
        }
        match t.parse::<u8>() {
            Ok(n) if n <= 24 => Ok(Format::FlowTools(n)),
            _ => Err(PrintError::UnknownFormat(s.to_string())),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Format::FlowTools(n) => write!(f, "{n}"),
            Format::Csv => f.write_str("csv"),
            Format::Json => f.write_str("json"),
            Format::NfdumpFmt(fmt) => f.write_str(fmt.source()),
        }
    }
}

/// Why a printer could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// A `--fields` list names no field, or one twice.
    #[error("--fields: {0}")]
    BadFields(String),
    /// `--fields` with a format that has fixed columns.
    #[error("--fields chooses the columns of csv and json; format {0} has fixed columns")]
    FieldsNeedCsvOrJson(String),
    /// The format name is not one we know.
    #[error(
        "no such format {0:?}: use 0-6 or 9 (flow-tools' formats), csv, json or \
         'fmt:%ts %sa ...' (nfdump's tokens; also its line, long, extended, biline, bilong)"
    )]
    UnknownFormat(String),
    /// A flow-tools format that prints fields flowkit records do not have.
    #[error(
        "format {format} ({description}) prints {missing}, which flowkit flow records do not \
         carry; formats 0-6, 9, csv and json print every flow"
    )]
    MissingFields {
        /// The format asked for.
        format: u8,
        /// What flow-tools prints with it.
        description: &'static str,
        /// The fields it needs.
        missing: &'static str,
    },
    /// A `fmt:` format names a token nfdump does not have.
    #[error("fmt: unknown token %{token} at column {column}{hint}")]
    FmtUnknownToken {
        /// The token, without `%`.
        token: String,
        /// Where its `%` is in the `-f` value, from 1.
        column: usize,
        /// `; did you mean %x?` or nothing.
        hint: String,
    },
    /// A `fmt:` token that prints what flowkit records do not carry.
    #[error(
        "fmt: %{token} at column {column} prints {what}, which flowkit flow records do not carry"
    )]
    FmtNotCarried {
        /// The token, without `%`.
        token: String,
        /// Where its `%` is in the `-f` value, from 1.
        column: usize,
        /// What it prints.
        what: &'static str,
    },
    /// A `fmt:` token flowkit does not print for another reason (given).
    #[error("fmt: %{token} at column {column}: {reason}")]
    FmtRefused {
        /// The token, without `%`.
        token: String,
        /// Where its `%` is in the `-f` value, from 1.
        column: usize,
        /// Why.
        reason: &'static str,
    },
    /// `--geoip` with a format that has fixed columns.
    #[error("--geoip adds columns to csv and json; format {0} has fixed columns (use -f csv or -f json)")]
    GeoNeedsCsvOrJson(String),
    /// A `--geoip` field without the database that answers it.
    #[error(transparent)]
    Geo(#[from] crate::enrich::GeoError),
    /// `--ifnames` with a format that has fixed columns.
    #[error("--ifnames adds columns to csv and json; format {0} has fixed columns (use -f csv or -f json)")]
    IfNamesNeedCsvOrJson(String),
    /// An interface-name field without `--ifnames`.
    #[error(transparent)]
    IfNames(#[from] crate::enrich::IfNamesError),
    /// `fmt:` with nothing after it.
    #[error("fmt: needs a format after it, such as 'fmt:%ts %sa %da'")]
    FmtEmpty,
    /// `-N` or `-6` with a format other than `fmt:`.
    #[error("{0} applies to fmt: formats only")]
    NeedsNfdumpFmt(&'static str),
}

/// How to print.
#[derive(Clone, Debug)]
pub struct PrintOptions {
    /// The output format.
    pub format: Format,
    /// Symbolic protocol and port names in the flow-tools formats (`-n`).
    pub names: bool,
    /// Wide columns in formats 3, 4 and 9 (`-w`).
    pub wide: bool,
    /// The zone civil times are printed in (the process's `TZ` by default, UTC with `--utc`).
    pub tz: TimeZone,
    /// The columns of csv and json, when not every field (`--fields`, see [`fields`]).
    pub fields: Option<Vec<fields::Chosen>>,
    /// nfdump's `-N` and `-6` for `fmt:` formats.
    pub nfdump: FmtOptions,
    /// Country and AS databases (`--geoip`): their fields may be chosen, and CSV and JSON
    /// without `--fields` add every field they answer.
    pub geo: Option<std::sync::Arc<crate::enrich::GeoIp>>,
    /// Interface names (`--ifnames`): their fields may be chosen, and CSV and JSON without
    /// `--fields` add the four of them.
    pub ifnames: Option<std::sync::Arc<crate::enrich::IfNames>>,
}

impl PrintOptions {
    /// `format`, numeric, narrow, times in UTC.
    pub fn new(format: Format) -> PrintOptions {
        PrintOptions {
            format,
            names: false,
            wide: false,
            tz: TimeZone::UTC,
            fields: None,
            nfdump: FmtOptions::default(),
            geo: None,
            ifnames: None,
        }
    }
}

/// Formats blocks of flows in one format.
#[derive(Debug)]
pub struct Printer {
    format: Format,
    text: TextOptions,
    tz: TimeZone,
    chosen: Option<Vec<fields::Chosen>>,
    nfdump: FmtOptions,
    geo: Option<std::sync::Arc<crate::enrich::GeoIp>>,
    ifnames: Option<std::sync::Arc<crate::enrich::IfNames>>,
    skipped: AtomicU64,
}

impl Printer {
    /// A printer for `opts`; fails for flow-tools formats that need fields our records lack.
    pub fn new(opts: PrintOptions) -> Result<Printer, PrintError> {
        if !matches!(opts.format, Format::NfdumpFmt(_)) {
            if opts.nfdump.plain_numbers {
                return Err(PrintError::NeedsNfdumpFmt("-N (plain numbers)"));
            }
            if opts.nfdump.long_v6 {
                return Err(PrintError::NeedsNfdumpFmt("-6 (whole IPv6 addresses)"));
            }
        }
        if let Format::FlowTools(n) = opts.format {
            if let Some((description, missing)) = flowtools::missing_fields(n) {
                return Err(PrintError::MissingFields {
                    format: n,
                    description,
                    missing,
                });
            }
            if !flowtools::SUPPORTED.contains(&n) {
                return Err(PrintError::UnknownFormat(n.to_string()));
            }
        }
        if opts.fields.is_some() && !matches!(opts.format, Format::Csv | Format::Json) {
            return Err(PrintError::FieldsNeedCsvOrJson(opts.format.to_string()));
        }
        let mut chosen = opts.fields;
        for c in chosen.iter().flatten() {
            if let fields::Chosen::Geo(g) = c {
                let db = opts
                    .geo
                    .as_deref()
                    .ok_or(crate::enrich::GeoError::Missing {
                        field: g.name(),
                        needs: "a Country, City or ASN",
                    })?;
                db.check(*g)?;
            }
            if let fields::Chosen::If(f) = c {
                if opts.ifnames.is_none() {
                    return Err(crate::enrich::IfNamesError::Missing { field: f.name() }.into());
                }
            }
        }
        let fixed = !matches!(opts.format, Format::Csv | Format::Json);
        if fixed && opts.geo.is_some() {
            return Err(PrintError::GeoNeedsCsvOrJson(opts.format.to_string()));
        }
        if fixed && opts.ifnames.is_some() {
            return Err(PrintError::IfNamesNeedCsvOrJson(opts.format.to_string()));
        }
        // JSON is always written by the column writer (every column unless `--fields`).
        if opts.geo.is_some() || opts.ifnames.is_some() || opts.format == Format::Json {
            chosen.get_or_insert_with(|| {
                fields::Chosen::all_with(opts.geo.as_deref(), opts.ifnames.is_some())
            });
        }
        Ok(Printer {
            format: opts.format,
            chosen,
            geo: opts.geo,
            ifnames: opts.ifnames,
            text: TextOptions {
                names: opts.names,
                wide: opts.wide,
            },
            tz: opts.tz,
            nfdump: opts.nfdump,
            skipped: AtomicU64::new(0),
        })
    }

    /// The format printed.
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// The columns this printer reads: a scan need only check and hand out these
    /// (`flowkit_cli::Scan::columns`).
    pub fn columns(&self) -> ColumnSet {
        use ColumnId::*;
        if let Some(chosen) = &self.chosen {
            return fields::columns(chosen);
        }
        let ids: &[ColumnId] = match &self.format {
            Format::FlowTools(n) => match n {
                0 => &[
                    InputIf, OutputIf, SrcAddr, DstAddr, Protocol, SrcPort, DstPort, Packets,
                    Octets,
                ],
                1 | 2 => &[
                    InputIf, OutputIf, SrcAddr, DstAddr, Protocol, SrcPort, DstPort, Packets,
                    Octets, StartMs, EndMs, Tos, TcpFlags,
                ],
                3 => &[
                    SrcAddr, DstAddr, Protocol, SrcPort, DstPort, Packets, Octets,
                ],
                4 => &[
                    InputIf, OutputIf, SrcAddr, DstAddr, SrcMask, DstMask, Protocol, SrcAs, DstAs,
                    Packets, Octets,
                ],
                5 => &[
                    StartMs, EndMs, InputIf, OutputIf, SrcAddr, DstAddr, SrcPort, DstPort,
                    Protocol, TcpFlags, Packets, Octets,
                ],
                6 => &[SrcAddr, DstAddr, Packets, Octets],
                9 => &[SrcTag, DstTag, SrcAddr, DstAddr, Packets, Octets],
                _ => return ColumnSet::ALL,
            },
            Format::Csv | Format::Json => return ColumnSet::ALL,
            Format::NfdumpFmt(fmt) => return fmt.columns(),
        };
        ColumnSet::of(ids)
    }

    /// What comes before the first flow (column headers; nothing for JSON and `fmt:`, which
    /// prints as `nfdump -q`).
    pub fn header(&self) -> Vec<u8> {
        match &self.format {
            Format::FlowTools(n) => flowtools::header(*n, self.text.wide).as_bytes().to_vec(),
            Format::Csv if self.chosen.is_some() => {
                let mut out = Vec::new();
                fields::csv_header(self.chosen.as_deref().unwrap_or_default(), &mut out);
                out
            }
            Format::Csv => {
                let mut out = Vec::new();
                csv::header(&mut out);
                out
            }
            Format::Json | Format::NfdumpFmt(_) => Vec::new(),
        }
    }

    /// Appends the flows of `block` to `out`.
    pub fn format_block(&self, block: &FlowBlock<'_>, out: &mut Vec<u8>) {
        let mut clock = Clock::new(self.tz.clone());
        if let Some(chosen) = &self.chosen {
            let json = self.format == Format::Json;
            let lookups = (self.geo.as_deref(), self.ifnames.as_deref());
            return fields::format_block(chosen, json, lookups, block, &mut clock, out);
        }
        match &self.format {
            &Format::FlowTools(n) => {
                let skipped = flowtools::format_block(n, self.text, block, &mut clock, out);
                if skipped > 0 {
                    self.skipped.fetch_add(skipped, Ordering::Relaxed);
                }
            }
            Format::Csv => csv::format_block(block, &mut clock, out),
            // Its columns are always chosen (at construction), so `fields` above wrote it.
            Format::Json => unreachable!("JSON is written by the column writer"),
            Format::NfdumpFmt(fmt) => {
                nfdump_fmt::format_block(fmt, self.nfdump, block, &mut clock, out)
            }
        }
    }

    /// Formats the blocks of a batch in parallel into `bufs` (resized and cleared), in order:
    /// blocks are cut into pieces of at most [`PIECE_FLOWS`] flows, piece `i` goes to `bufs[i]`.
    /// Returns the number of pieces.
    pub fn format_batch(&self, blocks: &[FlowBlock<'_>], bufs: &mut Vec<Vec<u8>>) -> usize {
        let pieces: Vec<FlowBlock<'_>> = blocks
            .iter()
            .flat_map(|b| {
                (0..b.len)
                    .step_by(PIECE_FLOWS)
                    .map(move |s| b.slice(s..(s + PIECE_FLOWS).min(b.len)))
            })
            .collect();
        if bufs.len() < pieces.len() {
            bufs.resize_with(pieces.len(), Vec::new);
        }
        bufs[..pieces.len()]
            .par_iter_mut()
            .zip(pieces.par_iter())
            .for_each(|(buf, piece)| {
                buf.clear();
                self.format_block(piece, buf);
            });
        pieces.len()
    }

    /// Formats a batch (in parallel) and writes it to `w` in order, reusing `bufs`.
    pub fn write_batch(
        &self,
        blocks: &[FlowBlock<'_>],
        bufs: &mut Vec<Vec<u8>>,
        w: &mut dyn Write,
    ) -> io::Result<()> {
        let n = self.format_batch(blocks, bufs);
        bufs[..n].iter().try_for_each(|buf| w.write_all(buf))
    }

    /// Flows formats 1 and 2 left out because they have no packets (flow-tools does the same:
    /// it divides octets by packets).
    pub fn skipped_without_packets(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }
}

/// Flows formatted as one unit of parallel work (and one output buffer).
pub const PIECE_FLOWS: usize = 4096;

#[cfg(test)]
mod tests;
