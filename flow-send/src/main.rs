//! flow-send: replay the export packets of pcap/pcapng captures to a collector over UDP, paced,
//! so collectors (flow-capture, nfcapd ...) can be fed exactly the same datagrams; or generate
//! NetFlow v5/v9/IPFIX export at a chosen flow rate, to load-test a collector
//! (bench/load-capture).

use clap::Parser;
use flowkit_cli::{self as cli, ToolError};
use flowkit_core::gen::{FlowGen, GenConfig};
use flowkit_core::netflow::encode::{ExportEncoder, ExportVersion};
use flowkit_core::netflow::exporter::Pacer;
use flowkit_core::netflow::pcap::CaptureReader;
use flowkit_core::FlowRecord;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::Instant;

const TOOL: &str = "flow-send";

/// Send the UDP payloads (NetFlow/IPFIX export packets) of captures to DEST, in capture order,
/// at a steady rate; or, with --generate, generated export packets at a steady flow rate.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about)]
struct Args {
    /// pcap or pcapng captures (.gz too).
    #[arg(value_name = "CAPTURE", required_unless_present = "generate")]
    captures: Vec<PathBuf>,
    /// Where to send: ADDR:PORT.
    #[arg(short = 'd', long = "dest", value_name = "ADDR:PORT")]
    dest: SocketAddr,
    /// Datagrams per second when replaying captures (0: as fast as possible).
    #[arg(long, default_value_t = 20_000)]
    rate: u64,
    /// Send the captures this many times.
    #[arg(long = "loop", default_value_t = 1)]
    repeat: u32,
    /// Local address to send from (e.g. 127.0.0.2 to appear as another exporter).
    #[arg(long, value_name = "ADDR:PORT")]
    from: Option<SocketAddr>,
    /// Generate export packets of this protocol instead of replaying captures (realistic flows,
    /// as flow-gen makes them; up to 1400-byte datagrams, templates every 20 datagrams).
    #[arg(long, value_enum, conflicts_with = "captures")]
    generate: Option<Protocol>,
    /// With --generate: flows per second.
    #[arg(long, default_value_t = 100_000)]
    flow_rate: u64,
    /// With --generate: how long to send (seconds, or with s/m/h).
    #[arg(long, default_value = "10s")]
    duration: String,
    /// With --generate: seed of the flow generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Protocol {
    V5,
    V9,
    Ipfix,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn replay(args: &Args, socket: &UdpSocket) -> Result<(), ToolError> {
    let start = Instant::now();
    let pacer = Pacer::new(args.rate as f64);
    let mut sent: u64 = 0;
    for _ in 0..args.repeat {
        for path in &args.captures {
            let mut r = CaptureReader::open(path).map_err(|e| ToolError::Usage(e.to_string()))?;
            loop {
                let d = match r.next_datagram() {
                    Ok(Some(d)) => d,
                    Ok(None) => break,
                    Err(e) => {
                        cli::warn(TOOL, &e.to_string());
                        break;
                    }
                };
                socket
                    .send_to(d.payload, args.dest)
                    .map_err(ToolError::Output)?;
                sent += 1;
                pacer.wait_for(sent);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    cli::warn(
        TOOL,
        &format!(
            "sent {sent} datagrams in {secs:.1} s ({:.0}/s)",
            sent as f64 / secs.max(1e-9)
        ),
    );
    Ok(())
}

fn generate(args: &Args, protocol: Protocol, socket: &UdpSocket) -> Result<(), ToolError> {
    let secs = cli::duration_secs(&args.duration, "")?;
    if args.flow_rate == 0 {
        return Err(ToolError::Usage("--flow-rate must be above 0".into()));
    }
    let version = match protocol {
        Protocol::V5 => ExportVersion::V5,
        Protocol::V9 => ExportVersion::V9,
        Protocol::Ipfix => ExportVersion::Ipfix,
    };
    let t0 = now_ms();
    let total = args.flow_rate.saturating_mul(secs);
    let flows = FlowGen::new(GenConfig {
        flows: total,
        seed: args.seed,
        start_ms: t0 - 60_000,
        span_ms: (secs as i64 * 1000).max(1),
        ipv6_permille: if matches!(protocol, Protocol::V5) {
            0
        } else {
            20
        },
        ..GenConfig::default()
    });
    // The simulated exporter booted an hour before the first flow.
    let mut enc = ExportEncoder::new(version, t0 - 3_600_000);
    // Flows waiting for a datagram; each datagram takes as many as fit.
    let mut pending: Vec<FlowRecord> = Vec::with_capacity(enc.max_flows());
    let mut buf = Vec::with_capacity(1500);
    let (mut datagrams, mut sent_flows, mut failed, mut failed_flows) = (0u64, 0u64, 0u64, 0u64);
    let start = Instant::now();
    let pacer = Pacer::new(args.flow_rate as f64);
    let mut flows = flows.peekable();
    while flows.peek().is_some() || !pending.is_empty() {
        let room = enc.max_flows() - pending.len();
        pending.extend(flows.by_ref().take(room));
        let take = enc.fitting(&pending);
        let chunk = &pending[..take];
        let export = now_ms().max(chunk.iter().map(|f| f.end_ms).max().unwrap_or(0));
        enc.encode(chunk, export, &mut buf)
            .map_err(|e| ToolError::Usage(e.to_string()))?;
        match socket.send(&buf) {
            Ok(_) => {
                datagrams += 1;
                sent_flows += take as u64;
            }
            // The kernel refused (no buffer): counted, and the pace goes on.
            Err(_) => {
                failed += 1;
                failed_flows += take as u64;
            }
        }
        pending.drain(..take);
        pacer.wait_for(sent_flows + failed_flows);
    }
    let took = start.elapsed().as_secs_f64();
    // One line a script can read.
    println!(
        "sent {datagrams} datagrams {sent_flows} flows in {took:.2} s ({:.0} flows/s); {failed} send errors",
        sent_flows as f64 / took.max(1e-9)
    );
    Ok(())
}

fn run(args: Args) -> Result<(), ToolError> {
    let local: SocketAddr = match args.from {
        Some(a) => a,
        None if args.dest.is_ipv6() => "[::]:0".parse().expect("literal"),
        None => "0.0.0.0:0".parse().expect("literal"),
    };
    let socket = UdpSocket::bind(local)
        .map_err(|e| ToolError::Usage(format!("cannot bind {local}: {e}")))?;
    match args.generate {
        Some(p) => {
            socket
                .connect(args.dest)
                .map_err(|e| ToolError::Usage(format!("cannot send to {}: {e}", args.dest)))?;
            generate(&args, p, &socket)
        }
        None => replay(&args, &socket),
    }
}

fn main() {
    cli::tool_main::<Args>(TOOL, run)
}
