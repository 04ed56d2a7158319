//! flow-export: export flows to hive-partitioned Parquet for DuckDB, Spark, Trino, ClickHouse.

use clap::Parser;
use flowkit_cli::{self as cli, InputArgs, ToolError};
use flowkit_core::export::parquet::{export, ExportOptions};
use std::path::PathBuf;

const TOOL: &str = "flow-export";

/// Export flows as Parquet: DIR/date=YYYY-MM-DD/hour=HH/part-*.parquet, by start time in UTC,
/// one row per flow, zstd. Incremental: input files already exported into DIR (recorded in
/// DIR/_flowkit_export.json) are skipped, so a cron job keeps DIR in step with an archive.
/// Schema and queries: docs/scale-out.md; `flow-nfilter --sql` writes filters as SQL over it.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about, long_about)]
struct Args {
    /// Write Parquet (the only format, for now; required so later formats stay explicit).
    #[arg(long, required = true)]
    parquet: bool,
    /// The root directory of the Parquet tree.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    /// zstd compression level (1-22).
    #[arg(long = "zstd-level", value_name = "N", default_value_t = 3)]
    zstd_level: i32,
    /// Also read inputs already exported into DIR (their flows are written again: for a
    /// fresh DIR).
    #[arg(long)]
    full: bool,
    /// Print a summary on stderr.
    #[arg(long)]
    verbose: bool,
    #[command(flatten)]
    input: InputArgs,
}

fn run(args: Args) -> Result<(), ToolError> {
    let opts = ExportOptions {
        out_dir: args.output.clone(),
        zstd_level: args.zstd_level,
        full: args.full,
    };
    let scan = args.input.scan_options().map_err(ToolError::Usage)?;
    let inputs = args.input.inputs().map_err(ToolError::Usage)?;
    let summary = export(inputs, scan, &opts, &mut |m| cli::warn(TOOL, m))?;
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
