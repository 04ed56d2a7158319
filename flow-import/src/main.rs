//! flow-import: read captured NetFlow v5/v9/IPFIX export packets (pcap/pcapng), or nfdump
//! files, into an archive.

use clap::Parser;
use flowkit_cli::{self as cli, FlowOutput, ToolError};
use flowkit_core::archive::nfdump;
use flowkit_core::archive::tree::{RotatingWriter, TreeLayout};
use flowkit_core::archive::WriterOptions;
use flowkit_core::collect::import::Importer;
use flowkit_core::logs::conntrack::{self, ConntrackCounts};
use flowkit_core::logs::eve::{self, EveCounts, EveEvents};
use flowkit_core::model::block::FlowBlockBuf;
use flowkit_core::FlowBlock;
use std::path::{Path, PathBuf};

mod foreign;

const TOOL: &str = "flow-import";

/// Import captured NetFlow v5, v9 and IPFIX export packets into a flow archive.
///
/// Reads pcap and pcapng files of export packets (UDP on any port; IPv4 or IPv6; Ethernet,
/// VLAN, Linux cooked, raw IP and loopback link types; v5, v9 and IPFIX mixed, several
/// exporters at once). Templates carry over from one capture file to the next.
///
/// Output: `-o FILE` writes one archive file; `-o DIR/` (or an existing directory) writes a
/// flow-tools-style dated tree (YYYY/YYYY-MM/YYYY-MM-DD/ft.YYYY-MM-DD.HHMMSS+hhmm) whose files
/// are chosen by the export packet's own header time — the time a collector receiving the
/// packet live would have used — so flows exported in 2010 land in the 2010 tree whenever the
/// capture is imported. Without -o, a flow stream goes to stdout (for flow-print and friends).
///
/// nfdump files (nfcapd.YYYYMMDDhhmm, nfdump 1.7 layout; uncompressed, LZO, LZ4, bzip2 or
/// ZSTD) are recognised by their magic, or named with --format nfdump; their flows are copied
/// as nfdump stored them (see docs/nfdump.md).
///
/// Suricata EVE JSON (eve.json: `flow` events, or `netflow` ones when a file has no `flow`
/// event; other event types skipped and counted) is recognised by its first line, or named
/// with --format eve; ulogd2 conntrack JSON (NFCT) likewise, or with --format conntrack: one
/// flow per connection, original direction, replies as reverse counters (see docs/other-logs.md).
///
/// A malformed packet is reported on stderr (capture file, packet number, reason), counted
/// and skipped (the sets before the damage are kept); a truncated capture keeps what came
/// before. A summary is printed with -v or whenever something was skipped. The exit status is
/// 0 even when packets were skipped (the summary says so), 1 when no capture could be read
/// or the output failed, 2 for bad arguments.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about, long_about)]
struct Args {
    /// pcap or pcapng capture files of export packets, nfdump files, or Suricata EVE JSON.
    #[arg(value_name = "CAPTURE", required = true)]
    captures: Vec<PathBuf>,
    /// What the inputs are: auto (nfdump files by their magic, EVE and conntrack JSON by their
    /// first line, else captures), pcap, nfdump, eve, conntrack.
    #[arg(long, value_name = "FORMAT", default_value = "auto", value_parser = ["auto", "pcap", "nfdump", "eve", "conntrack"])]
    format: String,
    /// Which EVE events become flows: auto (`flow` events; `netflow` ones only from a file
    /// without any `flow` event: both describe the same flows), flow, netflow.
    #[arg(long, value_name = "KIND", default_value = "auto", value_parser = ["auto", "flow", "netflow"])]
    eve_events: String,
    /// Write to FILE, or to a dated tree under DIR when DIR exists or ends with '/'.
    #[arg(short = 'o', long = "output", value_name = "FILE|DIR")]
    output: Option<String>,
    /// Time covered by each file of a dated tree (seconds, or with s/m/h/d).
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    rotate: String,
    /// Directory nesting of a dated tree, as flow-capture -N: 0 none, 1 YYYY/, 2 YYYY/YYYY-MM/,
    /// 3 YYYY/YYYY-MM/YYYY-MM-DD/, -1 YYYY-MM-DD/, -2 YYYY-MM/YYYY-MM-DD/.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 3,
        allow_hyphen_values = true
    )]
    nest: i8,
    /// Name and rotate dated-tree files in UTC instead of the local zone (TZ).
    #[arg(long)]
    utc: bool,
    /// Print a summary (packets, flows, malformed, templates, sequence gaps ...) on stderr.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
    /// Only decode and check the captures: print the summary, write no flows (what a capture
    /// holds, and whether anything in it is malformed, before importing it).
    #[arg(long, conflicts_with = "output")]
    check: bool,
    /// Memory for the decoder's state (templates, data held for missing templates), with
    /// K/M/G; past it the least recently used state is evicted and counted.
    #[arg(long, value_name = "SIZE", default_value = "256M")]
    max_memory: String,
    #[command(flatten)]
    compress: cli::CompressArgs,
}

/// Where the flows go.
enum Output {
    /// `--check`: flows are decoded and counted, not written.
    Discard,
    Stream(Box<FlowOutput>),
    Tree(Box<RotatingWriter>, i64),
}

fn open_output(args: &Args) -> Result<Output, ToolError> {
    if args.check {
        return Ok(Output::Discard);
    }
    let Some(o) = &args.output else {
        return Ok(Output::Stream(Box::new(cli::open_archive_output(
            None, TOOL,
        )?)));
    };
    let path = Path::new(o);
    if o.ends_with('/') || path.is_dir() {
        let secs = cli::duration_secs(&args.rotate, "")?;
        if !(-3..=3).contains(&args.nest) {
            return Err(ToolError::Usage(format!(
                "--nest {}: use -3 to 3",
                args.nest
            )));
        }
        let layout = TreeLayout {
            nest: args.nest,
            rotate_secs: secs,
            tz: cli::zone(args.utc)?,
            ..TreeLayout::new(path)
        };
        let opts = WriterOptions::archive(TOOL);
        Ok(Output::Tree(
            Box::new(RotatingWriter::new(layout, opts)),
            secs as i64 * 1000,
        ))
    } else {
        let o = cli::open_archive_output(Some(&PathBuf::from(o)), TOOL)?;
        Ok(Output::Stream(Box::new(o)))
    }
}

/// Open tree files beyond this many are closed (and published), oldest first.
const MAX_OPEN_FILES: usize = 16;

fn run(args: Args) -> Result<(), ToolError> {
    args.compress.apply();
    let mut out = open_output(&args)?;
    let max_memory = cli::parse_size(&args.max_memory)
        .map_err(|e| ToolError::Usage(format!("--max-memory {e}")))?;
    let mut importer = Importer::new(flowkit_core::netflow::DecoderConfig {
        max_memory,
        ..Default::default()
    });
    if let Output::Tree(w, _) = &out {
        let layout = w.layout().clone();
        importer.set_interval(std::sync::Arc::new(move |t| layout.interval_start(t)));
    }
    // Not when the flows go down a pipe: the next tool likely prints to the same terminal.
    let progress = if matches!(out, Output::Stream(_)) && cli::progress::stdout_is_pipe() {
        cli::Progress::off()
    } else {
        cli::Progress::flows(TOOL)
    };
    let mut warn = |m: &str| progress.suspend(|| cli::warn(TOOL, m));
    let mut nf = foreign::NfdumpCounts::default();
    let mut eve = foreign::LogTotals::<EveCounts>::new("EVE");
    let mut ct = foreign::LogTotals::<ConntrackCounts>::new("conntrack");
    let events = match args.eve_events.as_str() {
        "flow" => EveEvents::Flow,
        "netflow" => EveEvents::Netflow,
        _ => EveEvents::Auto,
    };
    for (i, capture) in args.captures.iter().enumerate() {
        if args.captures.len() > 1 {
            progress.message(&format!("(input {} of {})", i + 1, args.captures.len()));
        }
        let mut sink = |t: i64, block: &FlowBlock<'_>| {
            progress.add(block.len as u64);
            write_out(&mut out, t, Batch::View(block))
        };
        let format = args.format.as_str();
        let json = |sniff: fn(&[u8]) -> bool| move |head: &[u8]| sniff(foreign::first_line(head));
        if foreign::wanted(capture, format, "conntrack", json(conntrack::sniff)) {
            foreign::import_conntrack(capture, &mut ct, &mut warn, &mut sink)
                .map_err(ToolError::Output)?;
            continue;
        }
        if foreign::wanted(capture, format, "eve", json(eve::sniff)) {
            foreign::import_eve(capture, events, &mut eve, &mut warn, &mut sink)
                .map_err(ToolError::Output)?;
            continue;
        }
        // nfdump's magic is 4 bytes (a shorter file is not taken for a cut nfdump file here).
        let magic = |head: &[u8]| head.len() >= 4 && nfdump::sniff(head);
        if foreign::wanted(capture, format, "nfdump", magic) {
            foreign::import_nfdump(capture, &mut nf, &mut warn, &mut sink)
                .map_err(ToolError::Output)?;
            continue;
        }
        // Batches are handed over as buffers: one that ends an interval becomes the file's
        // pending block without being copied.
        let mut sink = |t: i64, buf: &mut FlowBlockBuf| {
            progress.add(buf.len() as u64);
            write_out(&mut out, t, Batch::Buf(buf))
        };
        importer
            .import_file_bufs(capture, &mut warn, &mut sink)
            .map_err(ToolError::Output)?;
    }
    let summary = importer.finish();
    drop(progress);
    match out {
        Output::Discard => {}
        Output::Stream(o) => {
            o.finish()?;
        }
        Output::Tree(w, _) => {
            w.finish().map_err(ToolError::Output)?;
        }
    }
    if nf.files + nf.unreadable > 0 && (args.verbose || args.check || nf.has_losses()) {
        let prefix = if nf.has_losses() { "warning: " } else { "" };
        cli::warn(TOOL, &format!("{prefix}{nf}"));
    }
    if eve.files + eve.unreadable > 0 && (args.verbose || args.check || eve.has_losses()) {
        let prefix = if eve.has_losses() { "warning: " } else { "" };
        cli::warn(TOOL, &format!("{prefix}{eve}"));
    }
    if ct.files + ct.unreadable > 0 && (args.verbose || args.check || ct.has_losses()) {
        let prefix = if ct.has_losses() { "warning: " } else { "" };
        cli::warn(TOOL, &format!("{prefix}{ct}"));
    }
    let pcaps = summary.captures + summary.unreadable_captures > 0;
    if (pcaps
        || nf.files + nf.unreadable + eve.files + eve.unreadable + ct.files + ct.unreadable == 0)
        && (args.verbose || args.check || summary.has_losses())
    {
        let prefix = if summary.has_losses() {
            "warning: "
        } else {
            ""
        };
        cli::warn(TOOL, &format!("{prefix}{summary}"));
    }
    if summary.captures == 0 && nf.files == 0 && eve.files == 0 && ct.files == 0 {
        return Err(ToolError::Output(std::io::Error::other(
            "no capture could be read",
        )));
    }
    Ok(())
}

/// A batch of flows for [`write_out`]: borrowed, or a buffer whose flows may be taken.
enum Batch<'a, 'b> {
    View(&'a FlowBlock<'b>),
    Buf(&'a mut FlowBlockBuf),
}

/// Writes a batch of flows filed at export time `t` where the output says.
fn write_out(out: &mut Output, t: i64, batch: Batch<'_, '_>) -> std::io::Result<()> {
    match out {
        Output::Discard => Ok(()),
        Output::Stream(o) => match batch {
            Batch::View(b) => o.write_block(b, None),
            Batch::Buf(b) => o.write_block(&b.view(), None),
        },
        Output::Tree(w, step) => {
            match batch {
                Batch::View(b) => w.write(t, b, None)?,
                Batch::Buf(b) => w.write_buf(t, b)?,
            }
            // Export times advance: publish files two intervals behind, bound the rest.
            w.close_before(t - *step)?;
            w.limit_open(MAX_OPEN_FILES)
        }
    }
}

fn main() {
    cli::tool_main::<Args>(TOOL, run)
}
