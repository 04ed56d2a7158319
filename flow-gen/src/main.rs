//! flow-gen: generate realistic flows deterministically, as a flowkit archive and, for the same
//! flows, a pcap of NetFlow v5 or IPFIX export packets that any collector can ingest.

use clap::Parser;
use flowkit_cli::{self as cli, FlowOutput, ToolError};
use flowkit_core::archive::format::DEFAULT_BLOCK_FLOWS;
use flowkit_core::gen::{FlowGen, GenConfig};
use flowkit_core::netflow::encode::{
    self, EndOrder, ExportEncoder, ExportVersion, PcapDatagramWriter,
};
use flowkit_core::{time, FlowBlockBuf, FlowRecord};
use std::io::{BufWriter, IsTerminal};
use std::path::PathBuf;

const TOOL: &str = "flow-gen";

/// Generate N realistic flows (same seed, same flows), written as an archive (-o FILE, -o DIR/ for a
/// dated tree, or a stream on stdout) and/or as export packets in a pcap (--pcap).
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about)]
struct Args {
    /// Number of flows.
    #[arg(short = 'n', long = "flows", default_value_t = 1_000_000)]
    flows: u64,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Start of the span the flows cover (UTC unless it carries an offset).
    #[arg(long, default_value = "2024-06-03 00:00")]
    start: String,
    /// Length of the span: seconds, or a number with s, m, h or d.
    #[arg(long, default_value = "1d")]
    span: String,
    /// IPv6 flows per thousand (default 20, or 0 with --export v5, which cannot carry IPv6).
    #[arg(long)]
    ipv6_permille: Option<u32>,
    /// Write the archive to FILE, or to a dated tree under DIR/ (5-minute files by start time, UTC names).
    #[arg(short = 'o', long = "output", value_name = "FILE|DIR/")]
    output: Option<PathBuf>,
    /// Also write the same flows as export packets (UDP 127.0.0.1:40000 -> 127.0.0.1:2055) to this pcap.
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Export protocol of the pcap.
    #[arg(long, value_enum, default_value_t = Export::Ipfix)]
    export: Export,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Export {
    V5,
    V9,
    Ipfix,
}

fn config(args: &Args) -> Result<GenConfig, ToolError> {
    let utc = time::zone(true).map_err(|e| ToolError::Usage(e.to_string()))?;
    let start_ms = time::parse_time(&args.start, &utc)
        .map_err(|e| ToolError::Usage(e.to_string()))?
        .ms;
    let span_secs =
        time::parse_duration_secs(&args.span).map_err(|e| ToolError::Usage(e.to_string()))?;
    let v5 = matches!(args.export, Export::V5) && args.pcap.is_some();
    let ipv6_permille = args.ipv6_permille.unwrap_or(if v5 { 0 } else { 20 });
    if v5 && ipv6_permille > 0 {
        return Err(ToolError::Usage(
            "NetFlow v5 cannot carry IPv6: use --export ipfix or --ipv6-permille 0".into(),
        ));
    }
    if ipv6_permille > 1000 {
        return Err(ToolError::Usage("--ipv6-permille is at most 1000".into()));
    }
    Ok(GenConfig {
        flows: args.flows,
        seed: args.seed,
        start_ms,
        span_ms: span_secs as i64 * 1000,
        ipv6_permille,
        ..GenConfig::default()
    })
}

/// The pcap side: groups flows into datagrams and writes them.
struct PcapSink {
    encoder: ExportEncoder,
    writer: PcapDatagramWriter<BufWriter<std::fs::File>>,
    /// Flows waiting until they end, as in an exporter's cache.
    active: EndOrder,
    /// Ended flows, in end order, waiting to fill a datagram.
    ended: Vec<FlowRecord>,
    datagram: Vec<u8>,
}

impl PcapSink {
    fn push(&mut self, r: FlowRecord) -> Result<(), ToolError> {
        self.active.push(r, &mut self.ended);
        self.export_full()
    }

    /// Exports every full datagram's worth of ended flows: a datagram leaves when the next
    /// ended flow would not fit in it, as an exporter fills its packets.
    fn export_full(&mut self) -> Result<(), ToolError> {
        let mut sent = 0;
        loop {
            let take = self.encoder.fitting(&self.ended[sent..]);
            if take == self.ended.len() - sent {
                break;
            }
            self.export(sent..sent + take)?;
            sent += take;
        }
        self.ended.drain(..sent);
        Ok(())
    }

    /// Exports the rest, at the end.
    fn finish(&mut self) -> Result<(), ToolError> {
        self.active.drain(&mut self.ended);
        self.export_full()?;
        if !self.ended.is_empty() {
            self.export(0..self.ended.len())?;
            self.ended.clear();
        }
        Ok(())
    }

    /// Exports flows `range` of the ended ones as one datagram, a second after the last ended
    /// (so export times rise, as a real exporter's do).
    fn export(&mut self, range: std::ops::Range<usize>) -> Result<(), ToolError> {
        let flows = &self.ended[range];
        let export_ms = flows.iter().map(|f| f.end_ms).max().unwrap_or(0) + 1000;
        self.encoder
            .encode(flows, export_ms, &mut self.datagram)
            .map_err(|e| ToolError::Usage(e.to_string()))?;
        self.writer
            .write(export_ms, &self.datagram)
            .map_err(ToolError::Output)
    }
}

fn run(args: Args) -> Result<(), ToolError> {
    let cfg = config(&args)?;
    let mut archive = match &args.output {
        Some(p) if cli::names_directory(p) => {
            let layout = flowkit_core::archive::tree::TreeLayout {
                tz: jiff::tz::TimeZone::UTC,
                ..flowkit_core::archive::tree::TreeLayout::new(p)
            };
            Some(FlowOutput::open_tree(layout, TOOL))
        }
        Some(_) => Some(cli::open_archive_output(args.output.as_ref(), TOOL)?),
        None if args.pcap.is_none() || !std::io::stdout().is_terminal() => {
            Some(cli::open_archive_output(None, TOOL)?)
        }
        None => None,
    };
    let mut pcap = match &args.pcap {
        Some(p) => {
            let file = std::fs::File::create(p)
                .map_err(|e| ToolError::Usage(format!("{}: {e}", p.display())))?;
            let (from, to) = encode::loopback_endpoints();
            let version = match args.export {
                Export::V5 => ExportVersion::V5,
                Export::V9 => ExportVersion::V9,
                Export::Ipfix => ExportVersion::Ipfix,
            };
            // The simulated exporter booted an hour before the first flow.
            let encoder = ExportEncoder::new(version, cfg.start_ms - 3_600_000);
            let writer = PcapDatagramWriter::new(BufWriter::with_capacity(1 << 20, file), from, to)
                .map_err(ToolError::Output)?;
            Some(PcapSink {
                encoder,
                writer,
                active: EndOrder::default(),
                ended: Vec::new(),
                datagram: Vec::new(),
            })
        }
        None => None,
    };
    let mut gen = FlowGen::new(cfg);
    let mut block = FlowBlockBuf::default();
    while gen.remaining() > 0 {
        block.clear();
        for r in gen.by_ref().take(DEFAULT_BLOCK_FLOWS) {
            block.push(&r);
            if let Some(p) = pcap.as_mut() {
                p.push(r)?;
            }
        }
        if let Some(a) = archive.as_mut() {
            a.write_block(&block.view(), None)
                .map_err(ToolError::Output)?;
        }
    }
    if let Some(mut p) = pcap {
        p.finish()?;
        let mut w = p.writer.into_inner();
        std::io::Write::flush(&mut w).map_err(ToolError::Output)?;
    }
    if let Some(a) = archive {
        a.finish()?;
    }
    Ok(())
}

fn main() {
    cli::exit_with(TOOL, run(Args::parse()))
}
