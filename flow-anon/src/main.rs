//! flow-anon: anonymise the addresses of flows with Crypto-PAn (prefix-preserving, deterministic
//! per key), so archives can be shared with researchers. nfdump's equivalent is nfanon.

use clap::Parser;
use flowkit_cli::{self as cli, InputArgs, ToolError};
use flowkit_core::model::anon::{self, Anonymizer};
use flowkit_core::model::block::FlowBlockBuf;
use flowkit_core::ColumnSet;
use std::path::{Path, PathBuf};

const TOOL: &str = "flow-anon";

/// Anonymise the source, destination, next-hop and exporter addresses of flows with Crypto-PAn
/// (as nfdump's nfanon): prefix-preserving (addresses sharing k leading bits still do), one-to-one,
/// the same for every run and file with the same key; IPv4 and IPv6. Reads every input form the
/// other tools read and writes a flow stream or archive (-o). AS numbers are set to 0 unless
/// --keep-as. Key and what is kept: docs/flow-anon.md.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about, long_about)]
struct Args {
    /// The key: a file holding 32 bytes, 32 characters or 0x and 64 hex digits (nfanon's forms).
    /// nfanon's -K takes the key itself; that works too, but shows the key to other users (ps).
    #[arg(
        short = 'K',
        long = "key",
        value_name = "KEYFILE",
        required_unless_present = "new_key"
    )]
    key: Option<String>,
    /// Write a new random key (0x and 64 hex digits, from /dev/urandom) to FILE, readable by its
    /// owner only, and exit. Keep it: the same key gives the same mapping.
    #[arg(long = "new-key", value_name = "FILE", conflicts_with = "key")]
    new_key: Option<PathBuf>,
    /// Write to FILE (published when complete) instead of stdout (-w as nfanon's; nfanon without
    /// -w overwrites its input, flow-anon never does).
    #[arg(
        short = 'o',
        long = "output",
        visible_short_alias = 'w',
        value_name = "FILE"
    )]
    output: Option<PathBuf>,
    /// nfanon's -r PATH: an input, as the INPUT arguments.
    #[arg(short = 'r', value_name = "PATH", hide = true)]
    read: Vec<String>,
    /// Keep the source and destination AS numbers (by default they are set to 0, as nfanon
    /// does: an AS number names the network the anonymised prefix hides).
    #[arg(long = "keep-as")]
    keep_as: bool,
    /// Print a summary (inputs, flows anonymised) on stderr.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
    #[command(flatten)]
    input: InputArgs,
}

/// The key of `-K`: a file's contents, or the argument itself when no such file exists.
fn load_key(arg: &str) -> Result<[u8; anon::KEY_LEN], ToolError> {
    let path = Path::new(arg);
    if path.exists() {
        let bytes = std::fs::read(path).map_err(|e| ToolError::usage(format!("-K {arg}: {e}")))?;
        return anon::parse_key(&bytes).map_err(|e| ToolError::usage(format!("-K {arg}: {e}")));
    }
    let key = anon::parse_key(arg.as_bytes())
        .map_err(|e| ToolError::usage(format!("-K: no file {arg:?}, and not a key either: {e}")))?;
    cli::warn(
        TOOL,
        "note: a key on the command line is visible to other users (ps); keep it in a file \
         (flow-anon --new-key FILE) and give -K FILE",
    );
    Ok(key)
}

fn run(mut args: Args) -> Result<(), ToolError> {
    if let Some(path) = &args.new_key {
        return anon::write_new_key(path).map_err(|e| ToolError::usage(format!("--new-key: {e}")));
    }
    let key = load_key(args.key.as_deref().expect("clap requires -K"))?;
    args.input.inputs.append(&mut args.read);
    let mut out = cli::open_output(args.output.as_ref(), TOOL)?;
    let mut anonymizer = Anonymizer::new(&key);
    anonymizer.keep_as = args.keep_as;
    let mut buf = FlowBlockBuf::default();
    let stats = cli::Scan::columns(ColumnSet::ALL).run(TOOL, &args.input, &mut |batch| {
        batch.blocks.iter().try_for_each(|b| {
            anonymizer.block(b, &mut buf);
            out.write_block(&buf.view(), None)
        })
    })?;
    out.finish()?;
    if args.verbose {
        cli::warn(
            TOOL,
            &format!("{stats}; {} flows anonymised", anonymizer.flows),
        );
    }
    cli::check_damage(&stats)
}

fn main() {
    cli::tool_main::<Args>(TOOL, run)
}
