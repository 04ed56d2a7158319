//! flow-gen: generate realistic flows deterministically, as a flowkit archive and, for the same
//! flows, a pcap of NetFlow v5 or IPFIX export packets that any collector can ingest.

use clap::Parser;
use flowkit_cli::{self as cli, FlowOutput, ToolError};
use flowkit_core::archive::format::DEFAULT_BLOCK_FLOWS;
use flowkit_core::gen::{FlowGen, GenConfig};
use flowkit_core::netflow::encode::ExportVersion;
use flowkit_core::netflow::exporter::{PcapExportError, PcapExporter};
use flowkit_core::{time, FlowBlockBuf};
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
    #[command(flatten)]
    compress: cli::CompressArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Export {
    V5,
    V9,
    Ipfix,
}

fn config(args: &Args) -> Result<GenConfig, ToolError> {
    let utc = cli::zone(true)?;
    let start_ms = time::parse_time(&args.start, &utc)
        .map_err(|e| ToolError::Usage(e.to_string()))?
        .ms;
    let span_secs = cli::duration_secs(&args.span, "")?;
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

/// A flow that cannot be encoded is the user's choice of export version (exit 2); a failed
/// write is an output error.
fn pcap_error(e: PcapExportError) -> ToolError {
    match e {
        PcapExportError::Encode(e) => ToolError::Usage(e.to_string()),
        PcapExportError::Write(e) => ToolError::Output(e),
    }
}

fn run(args: Args) -> Result<(), ToolError> {
    args.compress.apply();
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
            let version = match args.export {
                Export::V5 => ExportVersion::V5,
                Export::V9 => ExportVersion::V9,
                Export::Ipfix => ExportVersion::Ipfix,
            };
            // The simulated exporter booted an hour before the first flow.
            let out = BufWriter::with_capacity(1 << 20, file);
            Some(
                PcapExporter::new(version, cfg.start_ms - 3_600_000, out)
                    .map_err(ToolError::Output)?,
            )
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
                p.push(r).map_err(pcap_error)?;
            }
        }
        if let Some(a) = archive.as_mut() {
            a.write_block(&block.view(), None)
                .map_err(ToolError::Output)?;
        }
    }
    if let Some(p) = pcap {
        p.finish().map_err(pcap_error)?;
    }
    if let Some(a) = archive {
        a.finish()?;
    }
    Ok(())
}

fn main() {
    cli::tool_main::<Args>(TOOL, run)
}
