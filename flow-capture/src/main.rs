//! flow-capture: the collector. Receives NetFlow v5/v9/IPFIX over UDP and writes a dated tree
//! of archive files, rotated by receive time; see `flowkit_core::collect`.

use clap::Parser;
use flowkit_cli::{self as cli, ToolError};
use flowkit_core::archive::expire::ExpireLimits;
use flowkit_core::archive::recover::{recover_tree, Outcome, RecoverySummary};
use flowkit_core::archive::tree::TreeLayout;
use flowkit_core::collect::endpoint::Endpoint;
use flowkit_core::collect::{self, CollectorConfig};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

const TOOL: &str = "flow-capture";

/// Receive NetFlow v5, v9 and IPFIX over UDP (IPv4 and IPv6) and write a flow-tools-style dated
/// tree (DIR/YYYY/YYYY-MM/YYYY-MM-DD/ft.YYYY-MM-DD.HHMMSS+hhmm), one file per rotation interval
/// of receive time. A file appears under its final name only when complete (it is written as
/// tmp-ft.*, which readers skip); SIGTERM and SIGINT flush and publish every file. A bad datagram
/// is counted and reported, never fatal; counters are logged periodically and at exit.
/// Unfinished tmp- files left by a crash or a full disk are recovered at start (every whole
/// block kept, the file finished and published); --recover DIR does only that, and exits.
/// flow-tools' command line works: `flow-capture -w DIR [-n 287] [-N 3] [-E 10G] 0/0/2055`
/// (localip/remoteip/port; -p PIDFILE, -b big|little, -V are answered too; docs/collector.md).
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about, long_about, disable_version_flag = true)]
struct Args {
    /// Print version (--version only: -V is flow-tools' export version).
    #[arg(long = "version", action = clap::ArgAction::Version)]
    print_version: Option<bool>,
    /// flow-tools' localip/remoteip/port: listen on localip (0: all), accept only the exporter
    /// remoteip (0: any), on UDP port (0: any free port). Instead of -b, -p and --allow.
    #[arg(value_name = "LOCALIP/REMOTEIP/PORT")]
    endpoint: Option<Endpoint>,
    /// Directory of the dated tree.
    #[arg(
        short = 'w',
        long = "workdir",
        value_name = "DIR",
        required_unless_present = "recover"
    )]
    dir: Option<PathBuf>,
    /// Recover the unfinished (tmp-) files under DIR, print what was recovered, and exit.
    #[arg(long, value_name = "DIR", conflicts_with = "dir")]
    recover: Option<PathBuf>,
    /// UDP port to listen on [default: 2055] (0: any free port, printed at start). A value that
    /// is not a number is flow-tools' -p PIDFILE: the process id is written to PIDFILE.PORT.
    #[arg(short = 'p', long, value_name = "PORT|PIDFILE")]
    port: Option<String>,
    /// Address to listen on (default: all, IPv4 and IPv6). flow-tools' -b big|little (byte
    /// order) is accepted with a note: flowkit archives have one byte order.
    #[arg(short = 'b', long = "bind", value_name = "ADDR")]
    bind: Option<String>,
    /// Time covered by each file (seconds, or with s/m/h/d) [default: 5m].
    #[arg(long, conflicts_with = "rotations")]
    rotate: Option<String>,
    /// flow-tools' -n: rotations per day (files per day minus one): 95 is every 15 minutes,
    /// 287 every 5, 23 hourly, 0 daily. Must divide the day evenly; at most 1439.
    #[arg(short = 'n', long = "rotations", value_name = "N")]
    rotations: Option<u32>,
    /// Directory nesting, as flow-tools' flow-capture -N: 0 none, 1 YYYY/, 2 YYYY/YYYY-MM/,
    /// 3 YYYY/YYYY-MM/YYYY-MM-DD/, -1 YYYY-MM-DD/, -2 YYYY-MM/YYYY-MM-DD/.
    #[arg(short = 'N', long, default_value_t = 3, allow_hyphen_values = true)]
    nest: i8,
    /// Expire: delete the oldest files to keep the tree's flow files under SIZE (K, M, G, T),
    /// as flow-tools' -E and nfdump's nfexpire -s; checked at start and after each rotation.
    #[arg(short = 'E', long = "expire-size", value_name = "SIZE")]
    expire_size: Option<String>,
    /// Expire: keep at most N flow files (flow-tools' -e).
    #[arg(short = 'e', long = "expire-count", value_name = "N")]
    expire_count: Option<u64>,
    /// flow-tools' export version to store (-V 1, 5, 6, 7, 8.x, 1005): accepted with a note;
    /// flowkit archives keep every field of v5, v9 and IPFIX flows (flow-export --flow-tools
    /// writes v5 files).
    #[arg(short = 'V', value_name = "VERSION")]
    version_out: Option<String>,
    /// Name and rotate files in UTC instead of the local zone (TZ).
    #[arg(long)]
    utc: bool,
    /// Accept only this exporter (an address or a prefix); repeatable. Others are counted and dropped.
    #[arg(long = "allow", value_name = "EXPORTER")]
    allow: Vec<String>,
    /// Socket receive buffer to ask for, in bytes.
    #[arg(long, default_value_t = 32 << 20)]
    rcvbuf: usize,
    /// Write pending flows to disk at least this often (bounds what a crash can lose).
    #[arg(long, default_value = "5s")]
    flush: String,
    /// Log counters this often.
    #[arg(long, default_value = "5m")]
    stats: String,
    /// Memory for the collector's state (templates, data held for missing templates, queued
    /// datagrams), with K/M/G; past it the least recently used state is evicted and counted.
    #[arg(long, value_name = "SIZE", default_value = "256M")]
    max_memory: String,
    /// Do not keep templates across restarts in DIR/.templates.
    #[arg(long)]
    no_template_cache: bool,
    #[command(flatten)]
    compress: cli::CompressArgs,
}

/// Where to listen and what the flow-tools forms of the arguments asked for.
struct Listen {
    bind: Option<IpAddr>,
    port: u16,
    pidfile: Option<PathBuf>,
    exporter: Option<IpAddr>,
}

/// Reads the listening arguments: flow-tools' `localip/remoteip/port`, or -b/-p (each also in
/// its flow-tools meaning: -b big|little, -p PIDFILE).
fn listen(args: &Args) -> Result<Listen, ToolError> {
    let mut l = Listen {
        bind: None,
        port: 2055,
        pidfile: None,
        exporter: None,
    };
    match args.bind.as_deref() {
        None => {}
        Some(b @ ("big" | "little")) => cli::warn(
            TOOL,
            &format!(
                "note: -b {b} is flow-tools' byte order; flowkit archives have one byte order \
                 (flow-export --flow-tools -b {b} writes flow-tools files): ignored"
            ),
        ),
        Some(b) => {
            l.bind = Some(b.parse().map_err(|_| {
                ToolError::usage(format!(
                    "-b {b}: not an address (or flow-tools' big|little)"
                ))
            })?)
        }
    }
    match args.port.as_deref() {
        None => {}
        Some(p) if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) => {
            l.port = p
                .parse()
                .map_err(|_| ToolError::usage(format!("-p {p}: not a port (0-65535)")))?
        }
        Some(f) => l.pidfile = Some(PathBuf::from(f)),
    }
    if let Some(e) = args.endpoint {
        if l.bind.is_some() || (args.port.is_some() && l.pidfile.is_none()) {
            return Err(ToolError::usage(
                "give the address and port either as localip/remoteip/port or with -b/-p, not both",
            ));
        }
        (l.bind, l.port, l.exporter) = (e.local, e.port, e.remote);
    }
    Ok(l)
}

/// Seconds per file: --rotate, or flow-tools' -n rotations per day.
fn rotate_secs(args: &Args) -> Result<u64, ToolError> {
    let Some(n) = args.rotations else {
        return Ok(duration(args.rotate.as_deref().unwrap_or("5m"))?.as_secs());
    };
    let files = n as u64 + 1;
    if n > 1439 || 86_400 % files != 0 {
        return Err(ToolError::usage(format!(
            "-n {n}: rotations per day must divide the day evenly, at most one a minute \
             (e.g. 0, 23, 47, 95, 143, 287, 1439); or use --rotate DURATION"
        )));
    }
    Ok(86_400 / files)
}

fn duration(text: &str) -> Result<Duration, ToolError> {
    cli::duration_secs(text, "").map(Duration::from_secs)
}

/// A size with flow-tools' suffixes (b, K, M, G; T too), powers of 1024.
fn parse_bytes(text: &str) -> Result<u64, ToolError> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let shift = match unit {
        "" | "b" | "B" => 0,
        "k" | "K" => 10,
        "m" | "M" => 20,
        "g" | "G" => 30,
        "t" | "T" => 40,
        _ => {
            return Err(ToolError::usage(format!(
                "-E {text}: not a size (e.g. 500M, 10G)"
            )))
        }
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| ToolError::usage(format!("-E {text}: not a size (e.g. 500M, 10G)")))
}

fn parse_allow(text: &str) -> Result<IpNet, ToolError> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| ToolError::Usage(format!("--allow {text}: not an address or prefix")))
}

/// Recovers the unfinished files under `dir` (reporting each), and returns the totals.
fn recover(dir: &Path) -> Result<RecoverySummary, ToolError> {
    let sum = recover_tree(dir, true, &mut |o| match o {
        Outcome::Recovered(r) => cli::warn(TOOL, &r.to_string()),
        Outcome::Skipped(p, why) => cli::warn(TOOL, &format!("{}: {why}", p.display())),
    })
    .map_err(|e| ToolError::Usage(format!("{}: {e}", dir.display())))?;
    Ok(sum)
}

fn run(args: Args) -> Result<(), ToolError> {
    args.compress.apply();
    if let Some(dir) = &args.recover {
        let sum = recover(dir)?;
        cli::warn(TOOL, &format!("{}: {sum}", dir.display()));
        return Ok(());
    }
    let dir = args
        .dir
        .clone()
        .expect("clap requires -w without --recover");
    if !(-3..=3).contains(&args.nest) {
        return Err(ToolError::Usage(format!("-N {}: use -3 to 3", args.nest)));
    }
    if let Some(v) = &args.version_out {
        cli::warn(
            TOOL,
            &format!(
                "note: -V {v} is flow-tools' stored export version; flowkit archives keep every \
                 field of v5, v9 and IPFIX flows (flow-export --flow-tools writes v5 files): ignored"
            ),
        );
    }
    let l = listen(&args)?;
    let layout = TreeLayout {
        nest: args.nest,
        rotate_secs: rotate_secs(&args)?,
        tz: cli::zone(args.utc)?,
        ..TreeLayout::new(&dir)
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| ToolError::Usage(format!("{}: {e}", dir.display())))?;
    let mut cfg = CollectorConfig::new(layout);
    cfg.allow = args
        .allow
        .iter()
        .map(|a| parse_allow(a))
        .collect::<Result<_, _>>()?;
    cfg.allow.extend(l.exporter.map(IpNet::from));
    cfg.expire = ExpireLimits {
        max_bytes: (args.expire_size.as_deref()).map(parse_bytes).transpose()?,
        max_files: args.expire_count,
    };
    cfg.flush_every = duration(&args.flush)?;
    cfg.stats_every = duration(&args.stats)?;
    let max_memory = cli::parse_size(&args.max_memory)
        .map_err(|e| ToolError::Usage(format!("--max-memory {e}")))?;
    if max_memory < 1 << 20 {
        return Err(ToolError::Usage(format!(
            "--max-memory {}: at least 1M",
            args.max_memory
        )));
    }
    cfg.set_max_memory(max_memory);
    cfg.template_cache = !args.no_template_cache;
    let bind = l
        .bind
        .unwrap_or(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED));
    let addr = SocketAddr::new(bind, l.port);
    let socket = collect::bind(addr, args.rcvbuf)
        .or_else(|e| match l.bind {
            // No IPv6 on this host: listen on IPv4 only.
            None => collect::bind(SocketAddr::new([0, 0, 0, 0].into(), l.port), args.rcvbuf),
            Some(_) => Err(e),
        })
        .map_err(|e| ToolError::Usage(format!("cannot listen on {addr}: {e}")))?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).map_err(ToolError::Output)?;
    }
    let local = socket.local_addr().map_err(ToolError::Output)?;
    let family = if local.ip().is_unspecified() {
        if local.is_ipv6() {
            " (every IPv6 and IPv4 address of this host)"
        } else {
            " (every IPv4 address of this host)"
        }
    } else {
        ""
    };
    cli::warn(
        TOOL,
        &format!("listening on {local}{family}, writing {}", dir.display()),
    );
    cli::warn(
        TOOL,
        &if cfg.allow.is_empty() {
            "no allow-list set (--allow): accepting exporters from any address".to_string()
        } else {
            let nets: Vec<String> = cfg.allow.iter().map(|n| n.to_string()).collect();
            format!("accepting exporters only from {}", nets.join(", "))
        },
    );
    // What a crash or a full disk left unfinished is finished and published before new files.
    let sum = recover(&dir)?;
    if sum.files + sum.skipped > 0 {
        cli::warn(TOOL, &format!("{}: {sum}", dir.display()));
    }
    // flow-tools' -p PIDFILE: the pid in PIDFILE.PORT while running.
    let pidfile = l
        .pidfile
        .map(|f| PathBuf::from(format!("{}.{}", f.display(), local.port())));
    if let Some(p) = &pidfile {
        std::fs::write(p, format!("{}\n", std::process::id()))
            .map_err(|e| ToolError::Usage(format!("-p {}: {e}", p.display())))?;
    }
    let mut log = |m: &str| cli::warn(TOOL, m);
    let res = collect::run(socket, cfg, stop, &mut log).map_err(ToolError::Output);
    if let Some(p) = &pidfile {
        let _ = std::fs::remove_file(p);
    }
    res.map(|_| ())
}

fn main() {
    cli::tool_main::<Args>(TOOL, run)
}
