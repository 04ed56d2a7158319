//! flow-stat: flow statistics — summary, top-N talkers, time bins — as text, CSV, JSON or SVG.

mod flowtools;

use clap::{CommandFactory, Parser};
use flowkit_cli::{self as cli, InputArgs, ToolError};
use flowkit_core::analyze::stat::group::{parse_group_keys, GroupBy};
use flowkit_core::analyze::stat::measure::{DistinctValues, Measure, Threshold};
use flowkit_core::analyze::stat::output::{self, StatFormat};
use flowkit_core::analyze::stat::{geo_group, svg, Summary, TimeBins, TopKey, TopN};
use std::io::{self, Write};
use std::path::PathBuf;

const TOOL: &str = "flow-stat";

/// Count flows: a summary (flows, packets, octets, time range, by protocol), the top talkers
/// by a key (--top), or counts in time bins (--bin); --plot draws the top-N chart or the time
/// series as SVG, so a talker or a spike is seen, not read. `-f N` prints flow-tools'
/// numbered report N (0..32) byte for byte as flow-tools' flow-stat does.
///
/// Reads archives, flow-tools files or a flow stream (stdin) like the other tools.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about, long_about)]
struct Args {
    /// Rank by KEY: srcaddr, dstaddr, srcport, dstport (TCP/UDP/SCTP flows), proto or pair;
    /// or group by up to five keys, any field by any name (KEY,KEY...: `srcaddr/24,dstport`,
    /// `sa,da,proto`, `exporter,input_if`), every flow under its record's values, as nfdump -A;
    /// groups also show duration (ms), bps, pps and bpp.
    /// With --bin: the top groups of every time bin (a group-by, up to four keys; text or CSV,
    /// with a bin column first).
    /// With --geoip, also src_country, dst_country, src_asn, dst_asn, src_as_org, dst_as_org;
    /// with --ifnames, in_if_name, out_if_name, in_if_desc, out_if_desc.
    #[arg(long, value_name = "KEY[,KEY...]")]
    top: Option<String>,
    #[command(flatten)]
    geo: cli::GeoArgs,
    #[command(flatten)]
    ifnames: cli::IfNamesArgs,
    /// Rank (and plot) by flows, packets, octets, or with --top by duration, bps, pps, bpp, or
    /// distinct (with --distinct).
    #[arg(long, value_name = "MEASURE", default_value = "flows")]
    by: Measure,
    /// With --top: list only groups with at least VALUE of MEASURE (any --by measure), e.g.
    /// `octets=1M`, `flows=10`; k, M, G, T are powers of 1000. Repeatable; applied after
    /// grouping, before ranking and --count.
    #[arg(long, value_name = "MEASURE=VALUE", requires = "top")]
    min: Vec<Threshold>,
    /// With --top: count each group's distinct values of FIELD (any field name, e.g. dstport),
    /// exactly, in a column distinct_FIELD.
    #[arg(long, value_name = "FIELD", requires = "top")]
    distinct: Option<String>,
    /// With --top: fold both directions of a conversation into one group (keys with a source
    /// and a destination side, both given: srcaddr,dstaddr; srcport,dstport; srcas,dstas;
    /// input,output), keyed with the lower end first; `pair` becomes `A <-> B`.
    #[arg(long, requires = "top")]
    biflow: bool,
    /// How many to show with --top (0: all).
    #[arg(long = "count", value_name = "N", default_value_t = 10)]
    count: usize,
    /// flow-tools report N (0..32), printed as flow-tools 0.68.5's flow-stat prints it.
    /// With --csv or --json: the report's rows (keys and counts, in the same order), one value
    /// per column, without flow-tools' comment lines.
    #[arg(short = 'f', value_name = "N", conflicts_with_all = ["top", "bin", "plot", "total"])]
    format: Option<usize>,
    /// With -f: sort descending on field K (0 = key; then flows, octets, packets, duration).
    #[arg(
        short = 'S',
        value_name = "K",
        requires = "format",
        conflicts_with = "sort_asc"
    )]
    sort_desc: Option<u32>,
    /// With -f: sort ascending on field K.
    #[arg(short = 's', value_name = "K", requires = "format")]
    sort_asc: Option<u32>,
    /// With -f: percentages instead of totals.
    #[arg(short = 'P', requires = "format")]
    percent: bool,
    /// With -f: print the flow-tools file's header block first (one flow-tools input).
    #[arg(short = 'p', requires = "format")]
    header: bool,
    /// With -f: wide output (adds the duration column).
    #[arg(short = 'w', requires = "format")]
    wide: bool,
    /// With -f: symbolic names (ports, protocols, AS).
    #[arg(short = 'n', requires = "format")]
    names: bool,
    /// With -n: the directory of flow-tools' symbol files (tcp-port.sym, ip-prot.sym,
    /// asn.sym, tag.sym); default $FLOWKIT_SYM_DIR, else /etc/flow-tools/sym, then
    /// /usr/local/etc/sym.
    #[arg(long = "sym-dir", value_name = "DIR", requires = "names")]
    sym_dir: Option<std::path::PathBuf>,
    /// With -f: a title line (flow-tools' -T; here -T is not --end).
    #[arg(short = 'T', long = "title", value_name = "TITLE", requires = "format")]
    title: Option<String>,
    /// With -f: the comment character of the header lines.
    #[arg(
        short = 'c',
        value_name = "CHAR",
        default_value_t = '#',
        requires = "format"
    )]
    comment: char,
    /// Count flows in time bins of DURATION (e.g. 5m, 1h), by start time; with --top, rank
    /// the groups of each bin.
    #[arg(long, value_name = "DURATION")]
    bin: Option<String>,
    /// Also draw the top-N chart (--top) or the time series (--bin; --by picks the series)
    /// into FILE as SVG.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Write CSV (with -f N: the report's rows; whole counts, keys as numbers and addresses, so
    /// not with -P, -w, -n, -p or -T).
    #[arg(long, conflicts_with = "json", conflicts_with_all = ["percent", "wide", "names", "header", "title"])]
    csv: bool,
    /// With --csv and no --top or --bin: end the protocol table with a `total` row (left out by
    /// default, so a program summing the rows does not count everything twice).
    #[arg(long, requires = "csv")]
    total: bool,
    /// Write one JSON document (with -f N: `{"report", "name", "rows"}`; not with -P, -w, -n,
    /// -p or -T).
    #[arg(long, conflicts_with_all = ["percent", "wide", "names", "header", "title"])]
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
    Group(GroupBy),
    Bins(TimeBins),
}

fn run(args: Args) -> Result<(), ToolError> {
    if let Some(format) = args.format {
        let sort_order = match (args.sort_desc, args.sort_asc) {
            (Some(k), _) => k as i32 + 1,
            (None, Some(k)) => -(k as i32 + 1),
            (None, None) => 0,
        };
        let opts = flowkit_core::analyze::stat::flowtools::Options {
            format,
            sort_order,
            percent: args.percent,
            wide: args.wide,
            names: args.names,
            title: args.title.clone(),
            cc: args.comment,
        };
        let argv: Vec<String> = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let table = match (args.csv, args.json) {
            (true, _) => Some(StatFormat::Csv),
            (_, true) => Some(StatFormat::Json),
            _ => None,
        };
        return flowtools::run(
            opts,
            table,
            args.header,
            args.sym_dir.as_deref(),
            &args.input,
            &argv,
        );
    }
    args.input.scan_options().map_err(ToolError::Usage)?;
    args.input.inputs().map_err(ToolError::Usage)?;
    if args.plot.is_some() && args.top.is_none() && args.bin.is_none() {
        return Err(ToolError::Usage(
            "--plot draws --top or --bin; give one of them".into(),
        ));
    }
    let names_distinct =
        args.by == Measure::Distinct || args.min.iter().any(|m| m.measure == Measure::Distinct);
    if names_distinct && args.distinct.is_none() {
        return Err(ToolError::usage(
            "distinct (in --by or --min) counts what --distinct FIELD names",
        ));
    }
    let distinct = match &args.distinct {
        Some(name) => Some(
            DistinctValues::new(name).map_err(|e| ToolError::usage(format!("--distinct {e}")))?,
        ),
        None => None,
    };
    // Keys looked up in --geoip databases or the --ifnames map: grouped by what they are
    // looked up from (addresses; exporter and interface), then folded.
    let geo_plan = match &args.top {
        Some(k) => geo_group::plan(k).map_err(|e| ToolError::usage(format!("--top {e}")))?,
        None => None,
    };
    let geo = args.geo.open()?;
    let ifnames = args.ifnames.open()?;
    let lookups = geo_group::Lookups {
        geo: geo.as_deref(),
        ifnames: ifnames.as_deref(),
    };
    if let Some(plan) = &geo_plan {
        plan.check(lookups)
            .map_err(|e| ToolError::usage(format!("--top {e}")))?;
        if args.bin.is_some() || args.distinct.is_some() || args.biflow {
            return Err(ToolError::usage(
                "--top with looked-up keys (src_country, in_if_name, ...) takes no --bin, \
                 --distinct or --biflow",
            ));
        }
    }
    let mut report = match (&args.top, &args.bin) {
        (Some(_), None) if geo_plan.is_some() => {
            let keys = geo_plan
                .as_ref()
                .map(|p| p.keys.clone())
                .unwrap_or_default();
            Report::Group(
                GroupBy::new(keys)
                    .raw_counts(args.raw_counts)
                    .at_least(args.min.clone()),
            )
        }
        (Some(k), bin) => match k.parse::<TopKey>() {
            Ok(key) if !k.contains([',', '/']) && bin.is_none() => {
                let mut top = TopN::new(key)
                    .raw_counts(args.raw_counts)
                    .at_least(args.min.clone());
                if args.biflow {
                    top = top.fold_directions().map_err(ToolError::Usage)?;
                }
                Report::Top(match distinct {
                    Some(d) => top.count_distinct(d),
                    None => top,
                })
            }
            _ => {
                let keys =
                    parse_group_keys(k).map_err(|e| ToolError::usage(format!("--top {e}")))?;
                let mut group = GroupBy::new(keys)
                    .raw_counts(args.raw_counts)
                    .at_least(args.min.clone());
                if let Some(b) = bin {
                    let secs = cli::duration_secs(b, "--bin")?;
                    group = group
                        .per_bin(secs as i64 * 1000)
                        .map_err(ToolError::Usage)?;
                }
                if args.biflow {
                    group = group.fold_directions().map_err(ToolError::Usage)?;
                }
                Report::Group(match distinct {
                    Some(d) => group.count_distinct(d),
                    None => group,
                })
            }
        },
        (None, Some(b)) => {
            if args.by.metric().is_none() {
                return Err(ToolError::usage(format!(
                    "--bin counts flows, packets or octets, not {} (that is for --top)",
                    args.by
                )));
            }
            let secs = cli::duration_secs(b, "--bin")?;
            Report::Bins(TimeBins::new(secs as i64 * 1000).raw_counts(args.raw_counts))
        }
        (None, None) => Report::Summary(Summary::default().raw_counts(args.raw_counts)),
    };
    let columns = match &report {
        Report::Summary(_) => Summary::columns(),
        Report::Top(t) => t.columns(),
        Report::Group(g) => g.columns(),
        Report::Bins(_) => TimeBins::columns(),
    };
    let stats =
        cli::Scan::columns(columns)
            .progress_always()
            .run(TOOL, &args.input, &mut |batch| {
                if let Report::Group(g) = &mut report {
                    g.observe_batch(batch.blocks);
                    return Ok(());
                }
                for b in batch.blocks {
                    match &mut report {
                        Report::Summary(s) => s.observe(b),
                        Report::Top(t) => t.observe(b),
                        Report::Group(g) => g.observe(b),
                        Report::Bins(t) => t.observe(b),
                    }
                }
                Ok(())
            })?;

    let tz = cli::zone(args.input.utc)?;
    // A plot of packets or octets says when they were scaled by sampling intervals.
    let scaled = match &report {
        Report::Summary(s) => s.counts.scaled(),
        Report::Top(t) => t.counts.scaled(),
        Report::Group(g) => g.counts.scaled(),
        Report::Bins(b) => b.counts.scaled(),
    };
    let plotted = if scaled && args.by != Measure::Flows && args.by != Measure::Duration {
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
            Report::Group(g) if geo_plan.is_some() => {
                let plan = geo_plan.as_ref().expect("checked");
                let bars: Vec<(String, u64)> = (plan.top(g, lookups, args.count, args.by).0)
                    .into_iter()
                    .map(|(k, v)| (k.join(" "), v.get(args.by)))
                    .collect();
                svg::bar_chart(
                    &format!("top {} {} by {plotted}", bars.len(), plan.names().join(",")),
                    &args.by.to_string(),
                    &bars,
                )
            }
            Report::Group(g) if g.binned() => {
                let names: Vec<&str> = (g.keys().iter().skip(1))
                    .map(|k| k.written.as_str())
                    .collect();
                let lines = g.top_series(args.count, args.by, 10);
                let shown = if lines.in_top > lines.series.len() {
                    format!(" ({} of {} shown)", lines.series.len(), lines.in_top)
                } else {
                    String::new()
                };
                let top = match args.count {
                    0 => "every".to_string(),
                    n => format!("top {n}"),
                };
                svg::time_series_multi(
                    &format!(
                        "{plotted} per bin, {} {top} in a bin{shown}",
                        names.join(",")
                    ),
                    &args.by.to_string(),
                    &lines.series,
                    lines.bin_ms,
                    &tz,
                )
            }
            Report::Group(g) => {
                let bars: Vec<(String, u64)> = g
                    .top(args.count, args.by)
                    .into_iter()
                    .map(|(k, v)| (k.join(" "), v.get(args.by)))
                    .collect();
                let names: Vec<&str> = g.keys().iter().map(|k| k.written.as_str()).collect();
                svg::bar_chart(
                    &format!("top {} {} by {plotted}", bars.len(), names.join(",")),
                    &args.by.to_string(),
                    &bars,
                )
            }
            Report::Bins(b) => {
                let metric = args.by.metric().expect("checked above");
                let points: Vec<(i64, u64)> = b
                    .series()
                    .into_iter()
                    .map(|(t, v)| (t, v.get(metric)))
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
        Report::Summary(s) => output::write_summary(&mut out, format, s, &tz, args.total),
        Report::Top(t) => {
            // The classic top-N shows the time measures only when asked for by name.
            let timed = args.by.is_timed() || args.min.iter().any(|m| m.measure.is_timed());
            output::write_top(&mut out, format, t, args.count, args.by, timed)
        }
        Report::Group(g) if geo_plan.is_some() => {
            let plan = geo_plan.as_ref().expect("checked");
            let (rows, all) = plan.top(g, lookups, args.count, args.by);
            output::write_group_rows(&mut out, format, g, (&plan.names(), all), &rows, args.by)
        }
        Report::Group(g) if g.binned() => {
            output::write_group_bins(&mut out, format, g, args.count, args.by, &tz)
        }
        Report::Group(g) => output::write_group(&mut out, format, g, args.count, args.by),
        Report::Bins(b) => output::write_bins(&mut out, format, b, &tz),
    }
    .map_err(ToolError::Output)?;
    out.flush().map_err(ToolError::Output)?;
    cli::check_damage(&stats)
}

fn main() {
    // flow-tools' -T is flow-stat's title; --end keeps its long name only here.
    let cmd = Args::command().mut_arg("end", |a| a.short(None));
    cli::tool_main_with::<Args>(TOOL, cmd, run)
}
