//! flow-send: replay the export packets of pcap/pcapng captures to a collector over UDP, paced,
//! so collectors (flow-capture, nfcapd ...) can be fed exactly the same datagrams.

use clap::Parser;
use flowkit_core::capture::CaptureReader;
use flowkit_core::cli::{self, ToolError};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const TOOL: &str = "flow-send";

/// Send the UDP payloads (NetFlow/IPFIX export packets) of captures to DEST, in capture order,
/// at a steady rate.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about)]
struct Args {
    /// pcap or pcapng captures (.gz too).
    #[arg(value_name = "CAPTURE", required = true)]
    captures: Vec<PathBuf>,
    /// Where to send: ADDR:PORT.
    #[arg(short = 'd', long = "dest", value_name = "ADDR:PORT")]
    dest: SocketAddr,
    /// Datagrams per second (0: as fast as possible).
    #[arg(long, default_value_t = 20_000)]
    rate: u64,
    /// Send the captures this many times.
    #[arg(long = "loop", default_value_t = 1)]
    repeat: u32,
    /// Local address to send from (e.g. 127.0.0.2 to appear as another exporter).
    #[arg(long, value_name = "ADDR:PORT")]
    from: Option<SocketAddr>,
}

fn run(args: Args) -> Result<(), ToolError> {
    let local: SocketAddr = match args.from {
        Some(a) => a,
        None if args.dest.is_ipv6() => "[::]:0".parse().expect("literal"),
        None => "0.0.0.0:0".parse().expect("literal"),
    };
    let socket = UdpSocket::bind(local)
        .map_err(|e| ToolError::Usage(format!("cannot bind {local}: {e}")))?;
    let start = Instant::now();
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
                if args.rate > 0 {
                    let due = Duration::from_secs_f64(sent as f64 / args.rate as f64);
                    if let Some(wait) = due.checked_sub(start.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
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

fn main() {
    cli::exit_with(TOOL, run(Args::parse()))
}
