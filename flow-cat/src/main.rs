//! flow-cat: concatenate flow archives (files, directories, globs, stdin) into one stream.

use clap::Parser;
use flowkit_core::cli::{self, FlowOutput, InputArgs, ToolError};
use flowkit_core::ColumnSet;
use std::path::PathBuf;

const TOOL: &str = "flow-cat";

/// Concatenate flow archives into one flow stream, optionally limited to a time window.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about)]
struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// Write to FILE (published when complete) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print a summary (files, blocks read and skipped, flows) on stderr.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
}

fn run(args: Args) -> Result<(), ToolError> {
    let mut out = FlowOutput::open(args.output.as_ref(), TOOL)?;
    let stats = cli::scan_inputs_columns(TOOL, &args.input, ColumnSet::ALL, &mut |batch| {
        out.write_batch(batch)
    })?;
    out.finish()?;
    if args.verbose {
        cli::warn(TOOL, &stats.to_string());
    }
    cli::check_damage(&stats)
}

fn main() {
    cli::exit_with(TOOL, run(Args::parse()))
}
