//! flow-fanout: receive export datagrams once and forward each, unchanged, to several collectors,
//! with flow-tools' command line (`flow-fanout 0/0/2055 0/10.0.0.5/2055 0/10.0.0.6/9995`).

use clap::Parser;
use flowkit_cli::{self as cli, ToolError};
use flowkit_core::collect::endpoint::Endpoint;
use flowkit_core::collect::fanout::{run_fanout, FanoutConfig, FanoutTarget};
use flowkit_core::collect::spoof::SpoofSender;
use flowkit_core::collect::{self};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

const TOOL: &str = "flow-fanout";

/// Receive NetFlow/IPFIX export datagrams once and forward each, byte for byte, to several
/// collectors (flow-tools' flow-fanout, nfdump's nfcapd -R). The first argument is where to
/// listen, as flow-tools' localip/remoteip/port (0: any address; remoteip: accept only that
/// exporter; port 0: any free port, printed); each further one is a collector, as
/// localip/remoteip/port (the address to send from, 0: any; the collector's address and port).
/// Each exporter is forwarded from its own source port, so collectors keep v9/IPFIX templates
/// of different exporters apart. Counters on stderr every --stats and at exit (SIGTERM, SIGINT).
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about, long_about)]
struct Args {
    /// Where to listen: localip/remoteip/port, as flow-tools' 0/0/2055.
    #[arg(value_name = "LOCALIP/REMOTEIP/PORT")]
    input: Endpoint,
    /// The collectors: localip/remoteip/port each, as flow-tools' 0/10.0.0.5/2055.
    #[arg(value_name = "LOCALIP/REMOTEIP/PORT", required = true)]
    outputs: Vec<Endpoint>,
    /// Log counters this often.
    #[arg(long, default_value = "5m")]
    stats: String,
    /// Socket receive buffer to ask for, in bytes.
    #[arg(long, default_value_t = 32 << 20)]
    rcvbuf: usize,
    /// Keep each exporter's source address and port: datagrams leave through a raw socket as
    /// if sent by the exporter (flow-tools' flow-fanout -s, samplicator's -S). IPv4 exporters to
    /// IPv4 collectors; needs CAP_NET_RAW (root, or `setcap cap_net_raw+ep flow-fanout`), else
    /// flow-fanout stops with an error saying so.
    #[arg(short = 's', long)]
    spoof: bool,
}

fn run(args: Args) -> Result<(), ToolError> {
    let mut targets = Vec::new();
    for o in &args.outputs {
        let Some(remote) = o.remote else {
            return Err(ToolError::usage(format!(
                "output 0/0/{}: a collector needs its address (localip/REMOTEIP/port)",
                o.port
            )));
        };
        if o.port == 0 {
            return Err(ToolError::usage(format!("output to {remote}: port 0")));
        }
        targets.push(FanoutTarget {
            local: o.local,
            dest: SocketAddr::new(remote, o.port),
        });
    }
    let mut cfg = FanoutConfig::new(targets);
    cfg.exporter = args.input.remote;
    cfg.spoof = args.spoof;
    if args.spoof {
        // Said before anything listens: without CAP_NET_RAW there is no raw socket.
        SpoofSender::open().map_err(ToolError::Output)?;
    }
    cfg.stats_every = Duration::from_secs(cli::duration_secs(&args.stats, "--stats")?.max(1));
    let port = args.input.port;
    let bind = args
        .input
        .local
        .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    let addr = SocketAddr::new(bind, port);
    let socket = collect::bind(addr, args.rcvbuf)
        .or_else(|e| match args.input.local {
            // No IPv6 on this host: listen on IPv4 only.
            None => collect::bind(SocketAddr::new([0, 0, 0, 0].into(), port), args.rcvbuf),
            Some(_) => Err(e),
        })
        .map_err(|e| ToolError::Usage(format!("cannot listen on {addr}: {e}")))?;
    let local = socket.local_addr().map_err(ToolError::Output)?;
    let dests: Vec<String> = cfg.targets.iter().map(|t| t.dest.to_string()).collect();
    cli::warn(
        TOOL,
        &format!("listening on {local}, forwarding to {}", dests.join(", ")),
    );
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).map_err(ToolError::Output)?;
    }
    run_fanout(socket, &cfg, &stop, &mut |m| cli::warn(TOOL, m)).map_err(ToolError::Output)?;
    Ok(())
}

fn main() {
    cli::tool_main::<Args>(TOOL, run)
}
