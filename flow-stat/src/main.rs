//! flow-stat: flow statistics — summary, top-N talkers, time bins — as text, CSV, JSON or SVG.

use clap::Parser;
use flowkit_core::cli::{self, InputArgs, ToolError};
use flowkit_core::stat::output::{self, StatFormat};
use flowkit_core::stat::{svg, Metric, Summary, TimeBins, TopKey, TopN};
use flowkit_core::time;
use std::io::{self, Write};
use std::path::PathBuf;

const TOOL: &str = "flow-stat";

/// Count flows: a summary (flows, packets, octets, time range, by protocol), the top talkers
/// by a key (--top), or counts in time bins (--bin); --plot draws the top-N chart or the time
/// series as SVG, so a talker or a spike is seen, not read.
///
/// Reads archives, flow-tools files or a flow stream (stdin) like the other tools.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about, long_about)]
struct Args {
    /// Rank by KEY: srcaddr, dstaddr, srcport, dstport (TCP/UDP/SCTP flows), proto or pair.
    #[arg(long, value_name = "KEY", conflicts_with = "bin")]
    top: Option<TopKey>,
    /// Rank (and plot) by flows, packets or octets.
    #[arg(long, value_name = "METRIC", default_value = "flows")]
    by: Metric,
    /// How many to show with --top.
    #[arg(short = 'n', long = "count", value_name = "N", default_value_t = 10)]
    count: usize,
    /// Count flows in time bins of DURATION (e.g. 5m, 1h), by start time.
    #[arg(long, value_name = "DURATION")]
    bin: Option<String>,
    /// Also draw the top-N chart (--top) or the time series (--bin; --by picks the series)
    /// into FILE as SVG.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Write CSV.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// Write one JSON document.
    #[arg(long)]
    json: bool,
    /// Packets and octets as exported: without multiplying sampled flows by their sampling
    /// interval (by default they are, as nfdump does, and a note says so). Biflows' reverse
    /// counts are always included.
    #[arg(long)]
    raw_counts: bool,
    #[command(flatten)]
    input: InputArgs,
}

enum Report {
    Summary(Summary),
    Top(TopN),
    Bins(TimeBins),
}

fn run(args: Args) -> Result<(), ToolError> {
    args.input.scan_options().map_err(ToolError::Usage)?;
    args.input.inputs().map_err(ToolError::Usage)?;
    if args.plot.is_some() && args.top.is_none() && args.bin.is_none() {
        return Err(ToolError::Usage(
            "--plot draws --top or --bin; give one of them".into(),
        ));
    }
    let mut report = match (&args.top, &args.bin) {
        (Some(k), _) => Report::Top(TopN::new(*k).raw_counts(args.raw_counts)),
        (None, Some(b)) => {
            let secs = time::parse_duration_secs(b)
                .map_err(|e| ToolError::Usage(format!("--bin: {e}")))?;
            Report::Bins(TimeBins::new(secs as i64 * 1000).raw_counts(args.raw_counts))
        }
        (None, None) => Report::Summary(Summary::default().raw_counts(args.raw_counts)),
    };
    let columns = match &report {
        Report::Summary(_) => Summary::columns(),
        Report::Top(t) => t.columns(),
        Report::Bins(_) => TimeBins::columns(),
    };
    let stats = cli::scan_inputs_columns(TOOL, &args.input, columns, &mut |batch| {
        for b in batch.blocks {
            match &mut report {
                Report::Summary(s) => s.observe(b),
                Report::Top(t) => t.observe(b),
                Report::Bins(t) => t.observe(b),
            }
        }
        Ok(())
    })?;

    let tz = time::zone(args.input.utc).map_err(|e| ToolError::Usage(e.to_string()))?;
    // A plot of packets or octets says when they were scaled by sampling intervals.
    let scaled = match &report {
        Report::Summary(s) => s.counts.scaled(),
        Report::Top(t) => t.counts.scaled(),
        Report::Bins(b) => b.counts.scaled(),
    };
    let plotted = if scaled && args.by != Metric::Flows {
        format!("{} (scaled by sampling interval)", args.by)
    } else {
        args.by.to_string()
    };
    if let Some(path) = &args.plot {
        let doc = match &report {
            Report::Top(t) => {
                let bars: Vec<(String, u64)> = t
                    .top(args.count, args.by)
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.get(args.by)))
                    .collect();
                svg::bar_chart(
                    &format!("top {} {} by {plotted}", bars.len(), t.key()),
                    &args.by.to_string(),
                    &bars,
                )
            }
            Report::Bins(b) => {
                let points: Vec<(i64, u64)> = b
                    .series()
                    .into_iter()
                    .map(|(t, v)| (t, v.get(args.by)))
                    .collect();
                svg::time_series(
                    &format!("{plotted} over time"),
                    &args.by.to_string(),
                    &points,
                    b.width_ms(),
                    &tz,
                )
            }
            Report::Summary(_) => unreachable!("checked above"),
        };
        std::fs::write(path, doc)
            .map_err(|e| ToolError::Usage(format!("{}: {e}", path.display())))?;
    }

    let format = if args.csv {
        StatFormat::Csv
    } else if args.json {
        StatFormat::Json
    } else {
        StatFormat::Text
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match &report {
        Report::Summary(s) => output::write_summary(&mut out, format, s, &tz),
        Report::Top(t) => output::write_top(&mut out, format, t, args.count, args.by),
        Report::Bins(b) => output::write_bins(&mut out, format, b, &tz),
    }
    .map_err(ToolError::Output)?;
    out.flush().map_err(ToolError::Output)?;
    cli::check_damage(&stats)
}

fn main() {
    cli::exit_with(TOOL, run(Args::parse()))
}
