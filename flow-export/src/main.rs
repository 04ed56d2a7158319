//! flow-export: export flows to hive-partitioned Parquet for DuckDB, Spark, Trino, ClickHouse, or
//! as a flow-tools v5 file or stream for flow-tools and its scripts.

use clap::Parser;
use flowkit_cli::{self as cli, InputArgs, ToolError};
use flowkit_core::archive::flowtools::FtWriteOptions;
use flowkit_core::export::flowtools::{export_flowtools, FtTarget};
use flowkit_core::export::parquet::{export, ExportOptions};
use std::io::IsTerminal;
use std::path::PathBuf;

const TOOL: &str = "flow-export";

/// Export flows in another engine's format. `--parquet -o DIR`: DIR/date=YYYY-MM-DD/hour=HH/
/// part-*.parquet, by start time in UTC, one row per flow, zstd; incremental: input files already
/// exported into DIR (recorded in DIR/_flowkit_export.json) are skipped, so a cron job keeps DIR
/// in step with an archive. Schema and queries: docs/scale-out.md; `flow-nfilter --sql` writes
/// filters as SQL over it. `--flow-tools [-o FILE]`: one flow-tools ft-v05 file (or a stream on
/// stdout) that flow-tools 0.68 reads (flow-print, flow-cat, flow-report ...), as flow-tools'
/// `flow-cat -o FILE` writes; IPv6 flows are skipped and counted (docs/flow-export.md).
/// flow-tools' own flow-export converts the other way (to ASCII, pcap, cflowd): use flow-print
/// -f csv for text.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about, long_about)]
#[command(group(clap::ArgGroup::new("format").required(true).args(["parquet", "flow_tools"])))]
struct Args {
    /// Write Parquet into the directory -o DIR.
    #[arg(long)]
    parquet: bool,
    /// Write a flow-tools ft-v05 file (-o FILE) or stream (stdout).
    #[arg(long = "flow-tools")]
    flow_tools: bool,
    /// The root directory of the Parquet tree; with --flow-tools, the file to write (stdout
    /// when absent).
    #[arg(short = 'o', long = "output", value_name = "DIR|FILE")]
    output: Option<PathBuf>,
    /// zstd compression level (1-22), for --parquet.
    #[arg(long = "zstd-level", value_name = "N", default_value_t = 3)]
    zstd_level: i32,
    /// Encode ports, AS numbers, counters and end times as BYTE_STREAM_SPLIT (--parquet): about
    /// 1.5 bytes a flow smaller, but only readers of Parquet 2.11 (2024) or later read such
    /// integer columns (DuckDB 2.0, Spark 4 do; older DuckDB does not).
    #[arg(long = "byte-stream-split")]
    byte_stream_split: bool,
    /// zlib level for --flow-tools, as flow-tools' -z: 0 (uncompressed, the default, as
    /// flow-cat writes) to 9; flow-capture's files use 6.
    #[arg(short = 'z', value_name = "0-9", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=9))]
    zlib_level: u32,
    /// Byte order for --flow-tools, as flow-tools' -b: little (the default) or big.
    #[arg(short = 'b', value_name = "little|big", default_value = "little",
          value_parser = ["little", "big"])]
    byte_order: String,
    /// The header comment for --flow-tools, as flow-tools' -C.
    #[arg(short = 'C', long = "comment", value_name = "TEXT")]
    comment: Option<String>,
    /// Also read inputs already exported into DIR (--parquet; their flows are written again:
    /// for a fresh DIR).
    #[arg(long)]
    full: bool,
    /// Print a summary on stderr.
    #[arg(long)]
    verbose: bool,
    #[command(flatten)]
    input: InputArgs,
}

fn run(args: Args) -> Result<(), ToolError> {
    let scan = args.input.scan_options().map_err(ToolError::Usage)?;
    let inputs = args.input.inputs().map_err(ToolError::Usage)?;
    if args.flow_tools {
        return run_flow_tools(&args, inputs, scan);
    }
    let Some(out_dir) = args.output.clone() else {
        return Err(ToolError::usage("--parquet needs -o DIR"));
    };
    let opts = ExportOptions {
        out_dir,
        zstd_level: args.zstd_level,
        full: args.full,
        byte_stream_split: args.byte_stream_split,
    };
    // Progress on stderr when it is a terminal: the flows go to files, never to the screen.
    let progress = cli::Progress::flows(TOOL);
    let summary = export(
        inputs,
        scan,
        &opts,
        &mut |m| progress.suspend(|| cli::warn(TOOL, m)),
        &mut |n| progress.add(n),
    )?;
    drop(progress);
    if args.verbose {
        cli::warn(TOOL, &summary.to_string());
    }
    if summary.errors > 0 {
        return Err(ToolError::DamagedInputs(summary.errors));
    }
    Ok(())
}

fn run_flow_tools(
    args: &Args,
    inputs: Vec<flowkit_core::pipeline::input::Input>,
    scan: flowkit_core::pipeline::scan::ScanOptions,
) -> Result<(), ToolError> {
    let opts = FtWriteOptions {
        level: args.zlib_level,
        big_endian: args.byte_order == "big",
        streaming: args.output.is_none(),
        comments: Some(
            args.comment
                .clone()
                .unwrap_or_else(|| format!("flowkit flow-export {}", env!("CARGO_PKG_VERSION"))),
        ),
    };
    let target = match &args.output {
        Some(p) => FtTarget::File(p),
        None if std::io::stdout().is_terminal() => {
            return Err(ToolError::usage(
                "refusing to write flow-tools data to a terminal; pipe it (| flow-print) or use -o FILE",
            ))
        }
        None => FtTarget::Stream(Box::new(std::io::stdout().lock())),
    };
    if inputs.contains(&flowkit_core::pipeline::input::Input::Stdin) {
        cli::hint_if_terminal(TOOL);
    }
    // Progress only when writing a file: a stream goes to a program that likely prints to the
    // same terminal.
    let progress = match &args.output {
        Some(_) => cli::Progress::flows(TOOL),
        None => cli::Progress::off(),
    };
    let summary = export_flowtools(
        &inputs,
        scan,
        opts,
        target,
        &mut |m| progress.suspend(|| cli::warn(TOOL, m)),
        &mut |n| progress.add(n),
    )?;
    drop(progress);
    // What v5 cannot carry is always said; the count only with --verbose.
    if !summary.losses.is_empty() {
        cli::warn(TOOL, &format!("warning: {}", summary.losses));
    }
    if args.verbose {
        cli::warn(TOOL, &summary.to_string());
    }
    if summary.errors > 0 {
        return Err(ToolError::DamagedInputs(summary.errors));
    }
    Ok(())
}

fn main() {
    cli::tool_main::<Args>(TOOL, run)
}
