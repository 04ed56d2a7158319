//! flow-print: print flows as text — flow-tools' formats, nfdump's `fmt:`, CSV or JSON lines.

use clap::Parser;
use flowkit_cli::{self as cli, InputArgs, ToolError};
use flowkit_core::print::fields::parse_fields;
use flowkit_core::print::nfdump_fmt::FmtOptions;
use flowkit_core::print::{Format, PrintOptions, Printer};
use flowkit_core::time;
use std::io::{self, Write};

const TOOL: &str = "flow-print";

/// Print flows from archives, flow-tools files or a flow stream (stdin) as text.
///
/// Formats: 0-6 and 9 are flow-tools' (3 is the default: srcIP dstIP prot srcPort dstPort octets
/// packets; 5 adds start and end times), csv is a header and one row per flow with every field,
/// json one object per line, and 'fmt:%ts %td %pr %sap -> %dap %pkt %byt' writes nfdump's `%`
/// tokens as nfdump -q -o fmt: does (long, extended ...: nfdump's named formats). Times are local
/// (TZ) unless --utc.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about)]
struct Args {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    geo: cli::GeoArgs,
    #[command(flatten)]
    ifnames: cli::IfNamesArgs,
    /// Output format: 0-6 or 9 (flow-tools' formats), csv, json, 'fmt:TEXT' (nfdump's `%`
    /// tokens: %ts %te %td %pr %sa %da %sap %dap %sp %dp %pkt %byt %flg %tos %in %out %sas %das
    /// %nh %ra %bps %pps %bpp ...; docs/print-formats.md lists them) or one of nfdump's named
    /// formats: line, long, extended, biline, bilong (6 appended: as -6).
    #[arg(short = 'f', long = "format", value_name = "FORMAT", default_value = "3",
          value_parser = parse_format)]
    format: Format,
    /// Symbolic protocol and port names (IANA) in the flow-tools formats.
    #[arg(short = 'n', long = "names")]
    names: bool,
    /// With -f csv or json: only these columns, in this order (comma-separated; `start`, `end`,
    /// or any field name, flow-tools' and nfdump's too: `--fields start,sa,dp,octets`).
    #[arg(long = "fields", value_name = "LIST")]
    fields: Option<String>,
    /// With fmt: plain numbers, as nfdump -N (counters not scaled to `1.2 M`, protocol numbers,
    /// %td in seconds).
    #[arg(short = 'N', long = "plain-numbers")]
    plain_numbers: bool,
    /// With fmt: IPv6 addresses whole in 39 columns, as nfdump -6 (otherwise long ones are
    /// condensed to `2001:62..c0:fed5`).
    #[arg(short = '6', long = "long-v6")]
    long_v6: bool,
    /// Wide columns (formats 3, 4 and 9).
    #[arg(short = 'w', long = "wide")]
    wide: bool,
    /// Print a header of comment lines first (what was read, format, time zone).
    #[arg(short = 'p', long = "print-header")]
    print_header: bool,
    /// Comment character for -p.
    #[arg(
        short = 'c',
        long = "comment-char",
        value_name = "CHAR",
        default_value = "#"
    )]
    comment: char,
    /// Accepted for flow-tools compatibility: output is written after each batch of flows.
    #[arg(short = 'l', hide = true)]
    _unbuffered: bool,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
        .map_err(|e: flowkit_core::print::PrintError| e.to_string())
}

/// The `-p` comment lines.
fn comment_header(args: &Args, printer: &Printer, opts: &PrintOptions) -> Vec<u8> {
    let c = args.comment;
    let inputs = if args.input.inputs.is_empty() {
        "(stdin)".to_string()
    } else {
        args.input.inputs.join(" ")
    };
    let zone = time::zone_name(&opts.tz);
    let mut lines = vec![
        format!("{c}"),
        format!("{c} flowkit flow-print {}", env!("CARGO_PKG_VERSION")),
        format!("{c} input:                {inputs}"),
        format!("{c} format:               {}", printer.format()),
        format!("{c} time zone:            {zone}"),
    ];
    if let Some(t) = &args.input.start {
        lines.push(format!("{c} start time:           {t}"));
    }
    if let Some(t) = &args.input.end {
        lines.push(format!("{c} end time:             {t}"));
    }
    lines.push(format!("{c}"));
    let mut text = lines.join("\n");
    text.push('\n');
    text.into_bytes()
}

fn run(args: Args) -> Result<(), ToolError> {
    // Check the arguments before printing anything.
    args.input.scan_options().map_err(ToolError::Usage)?;
    args.input.inputs().map_err(ToolError::Usage)?;
    let opts = PrintOptions {
        format: args.format.clone(),
        names: args.names,
        wide: args.wide,
        tz: cli::zone(args.input.utc)?,
        fields: args
            .fields
            .as_deref()
            .map(parse_fields)
            .transpose()
            .map_err(ToolError::usage)?,
        nfdump: FmtOptions {
            plain_numbers: args.plain_numbers,
            long_v6: args.long_v6,
        },
        geo: args.geo.open()?,
        ifnames: args.ifnames.open()?,
    };
    let printer = Printer::new(opts.clone()).map_err(|e| ToolError::Usage(e.to_string()))?;

    let stdout = io::stdout();
    let mut out = stdout.lock();
    if args.print_header {
        out.write_all(&comment_header(&args, &printer, &opts))
            .map_err(ToolError::Output)?;
    }
    out.write_all(&printer.header())
        .map_err(ToolError::Output)?;
    let mut bufs = Vec::new();
    let stats = cli::Scan::columns(printer.columns()).run(TOOL, &args.input, &mut |batch| {
        printer.write_batch(batch.blocks, &mut bufs, &mut out)
    })?;
    out.flush().map_err(ToolError::Output)?;
    let skipped = printer.skipped_without_packets();
    if skipped > 0 {
        cli::warn(
            TOOL,
            &format!(
                "ignored {skipped} flows with 0 packets (format {} divides octets by packets)",
                args.format
            ),
        );
    }
    cli::check_damage(&stats)
}

fn main() {
    cli::tool_main::<Args>(TOOL, run)
}
