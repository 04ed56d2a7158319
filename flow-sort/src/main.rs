//! flow-sort: read flows (files, directories, globs, stdin) and write them sorted by keys, as a
//! flow stream or printed.

use clap::Parser;
use flowkit_cli::{self as cli, InputArgs, ToolError};
use flowkit_core::analyze::sort::{parse_keys, SortOptions, SortOrder, Sorter};
use flowkit_core::print::fields::parse_fields;
use flowkit_core::print::{Format, PrintOptions, Printer};
use flowkit_core::ColumnSet;
use std::io::Write;
use std::path::PathBuf;

const TOOL: &str = "flow-sort";

/// Sort flows by one or more keys and write them as a flow stream (or print them).
///
/// Keys are `start`, `end`, `duration` or any field name (flowkit's, flow-tools' or nfdump's:
/// octets, doctets, byt ...). The sort is stable: flows with equal keys keep their input order.
/// Above --memory, sorted runs are written to temporary files (TMPDIR) and merged.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about)]
struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// Sort keys, most significant first, separated by commas (e.g. `-k octets,start`).
    #[arg(
        short = 'k',
        long = "key",
        value_name = "LIST",
        default_value = "start"
    )]
    keys: String,
    /// Descending: largest first (ties still in input order).
    #[arg(short = 'r', long = "reverse")]
    reverse: bool,
    /// The first N flows of the order (memory for N flows, whatever the input): --count N.
    #[command(flatten)]
    count: cli::CountArgs,
    /// Flows kept in memory before sorted runs go to temporary files (K, M, G suffixes).
    #[arg(long = "memory", value_name = "SIZE", default_value = "1G", value_parser = cli::parse_size)]
    memory: usize,
    /// Directory for the temporary sorted runs (default: TMPDIR).
    #[arg(long = "temp-dir", value_name = "DIR")]
    temp_dir: Option<PathBuf>,
    /// Write to FILE (published when complete) instead of stdout.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        conflicts_with = "print"
    )]
    output: Option<PathBuf>,
    /// Print the sorted flows as text in FORMAT (as flow-print -f: 0-6, 9, csv, json, fmt:...)
    /// instead of writing a flow stream.
    #[arg(long = "print", value_name = "FORMAT", value_parser = parse_format)]
    print: Option<Format>,
    /// With --print csv or json: only these columns, in this order (as flow-print --fields).
    #[arg(long = "fields", value_name = "LIST", requires = "print")]
    fields: Option<String>,
    /// Print a summary (flows read and written, sorted runs) on stderr.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
    /// flow-tools' field numbers are not supported (a note names -k).
    #[arg(short = 'f', hide = true, value_name = "N")]
    field_number: Option<String>,
    #[command(flatten)]
    compress: cli::CompressArgs,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
        .map_err(|e: flowkit_core::print::PrintError| e.to_string())
}

/// flow-tools' `-f N` / `-r N` (sort by field number): a note naming the long options.
fn refuse_field_numbers(args: &Args) -> Result<(), ToolError> {
    let number_input = args.reverse
        && args.input.inputs.iter().any(|a| {
            !a.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && !std::path::Path::new(a).exists()
        });
    if args.field_number.is_some() || number_input {
        return Err(ToolError::Usage(
            "flow-tools' field numbers (-f N, -r N) are not supported: name the keys with \
             --key (e.g. --key octets, with --reverse for largest first)"
                .into(),
        ));
    }
    Ok(())
}

fn run(args: Args) -> Result<(), ToolError> {
    args.compress.apply();
    refuse_field_numbers(&args)?;
    args.input.scan_options().map_err(ToolError::Usage)?;
    args.input.inputs().map_err(ToolError::Usage)?;
    let keys = parse_keys(&args.keys).map_err(ToolError::usage)?;
    let top = args.count.count()?;
    let printer = match &args.print {
        Some(format) => Some(
            Printer::new(PrintOptions {
                tz: cli::zone(args.input.utc)?,
                fields: (args.fields.as_deref())
                    .map(parse_fields)
                    .transpose()
                    .map_err(ToolError::usage)?,
                ..PrintOptions::new(format.clone())
            })
            .map_err(ToolError::usage)?,
        ),
        None => None,
    };
    // Opened first: a terminal on stdout is refused before any flow is read.
    let mut flow_out = match printer {
        None => Some(cli::open_output(args.output.as_ref(), TOOL)?),
        Some(_) => None,
    };
    let mut sorter = Sorter::new(SortOptions {
        order: SortOrder {
            keys,
            descending: args.reverse,
        },
        top,
        memory: args.memory,
        spill_dir: args.temp_dir.clone(),
    });
    let stats = cli::Scan::columns(ColumnSet::ALL).run(TOOL, &args.input, &mut |batch| {
        batch.blocks.iter().try_for_each(|b| sorter.push(b))
    })?;
    let summary = match (printer, flow_out.take()) {
        (Some(printer), _) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            out.write_all(&printer.header())?;
            let mut bufs = Vec::new();
            let s = sorter.finish(&mut |b| printer.write_batch(&[*b], &mut bufs, &mut out))?;
            out.flush()?;
            s
        }
        (None, Some(mut out)) => {
            let s = sorter.finish(&mut |b| out.write_block(b, None))?;
            out.finish()?;
            s
        }
        (None, None) => unreachable!("a flow output is opened without --print"),
    };
    if args.verbose {
        let runs = match summary.runs {
            0 if top.is_some() => "the first flows kept in a bounded heap".to_string(),
            0 => "sorted in memory".to_string(),
            n => format!("{n} sorted runs merged"),
        };
        cli::warn(
            TOOL,
            &format!("{stats}; {} flows written, {runs}", summary.flows_out),
        );
    }
    cli::check_damage(&stats)
}

fn main() {
    cli::tool_main::<Args>(TOOL, run)
}
