//! flow-capture: the collector. Receives NetFlow v5/v9/IPFIX over UDP and writes a dated tree
//! of archive files, rotated by receive time; see `flowkit_core::collect`.

use clap::Parser;
use flowkit_cli::{self as cli, ToolError};
use flowkit_core::archive::recover::{recover_tree, Outcome, RecoverySummary};
use flowkit_core::archive::tree::TreeLayout;
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
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about, long_about)]
struct Args {
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
    /// UDP port to listen on (0: any free port, printed at start).
    #[arg(short = 'p', long, default_value_t = 2055)]
    port: u16,
    /// Address to listen on (default: all, IPv4 and IPv6).
    #[arg(short = 'b', long = "bind", value_name = "ADDR")]
    bind: Option<IpAddr>,
    /// Time covered by each file (seconds, or with s/m/h/d).
    #[arg(long, default_value = "5m")]
    rotate: String,
    /// Directory nesting, as flow-tools' flow-capture -N: 0 none, 1 YYYY/, 2 YYYY/YYYY-MM/,
    /// 3 YYYY/YYYY-MM/YYYY-MM-DD/, -1 YYYY-MM-DD/, -2 YYYY-MM/YYYY-MM-DD/.
    #[arg(short = 'N', long, default_value_t = 3, allow_hyphen_values = true)]
    nest: i8,
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
}

fn duration(text: &str) -> Result<Duration, ToolError> {
    cli::duration_secs(text, "").map(Duration::from_secs)
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
    let layout = TreeLayout {
        nest: args.nest,
        rotate_secs: duration(&args.rotate)?.as_secs(),
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
    let bind = args
        .bind
        .unwrap_or(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED));
    let addr = SocketAddr::new(bind, args.port);
    let socket = collect::bind(addr, args.rcvbuf)
        .or_else(|e| match args.bind {
            // No IPv6 on this host: listen on IPv4 only.
            None => collect::bind(SocketAddr::new([0, 0, 0, 0].into(), args.port), args.rcvbuf),
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
    let mut log = |m: &str| cli::warn(TOOL, m);
    collect::run(socket, cfg, stop, &mut log).map_err(ToolError::Output)?;
    Ok(())
}

fn main() {
    cli::tool_main::<Args>(TOOL, run)
}
