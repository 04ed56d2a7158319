//! flow-cat: concatenate flow archives (files, directories, globs, stdin) into one stream.

use clap::Parser;
use flowkit_cli::{self as cli, InputArgs, ToolError};
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
    #[command(flatten)]
    compress: cli::CompressArgs,
}

fn run(args: Args) -> Result<(), ToolError> {
    args.compress.apply();
    let mut out = cli::open_output(args.output.as_ref(), TOOL)?;
    // Blocks sent on as references are checked by the tool that reads them; others here, as
    // stored when they are copied on as they are (nothing inflated), else whole.
    let scan = match out.sends_references() {
        true => cli::Scan::references(),
        false => cli::Scan::stored(),
    };
    let stats = scan.run(TOOL, &args.input, &mut |batch| out.write_batch(batch))?;
    let by_ref = out.blocks_sent_by_reference();
    out.finish()?;
    if args.verbose {
        let refs = if by_ref > 0 {
            format!(", {by_ref} blocks passed by reference")
        } else {
            String::new()
        };
        cli::warn(TOOL, &format!("{stats}{refs}"));
    }
    cli::check_damage(&stats)
}

fn main() {
    cli::tool_main::<Args>(TOOL, run)
}
