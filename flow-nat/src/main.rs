//! flow-nat: which internal host was behind a public address and port at a time, from the NAT
//! gateway's conntrack log (ulogd2 NFCT JSON).

use clap::Parser;
use flowkit_cli::{self as cli, ToolError};
use flowkit_core::logs::conntrack::{read_conntrack, Connection};
use flowkit_core::time;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

const TOOL: &str = "flow-nat";

/// Which internal host was behind public ADDRESS[:PORT] (at --at TIME), from a NAT gateway's
/// conntrack log written by ulogd2 (NFCT plugin, JSON output).
///
/// Prints every connection whose source NAT mapping used the public address (and port), with
/// its internal host and port, the server it talked to (and the address the client dialled,
/// under port forwarding), its times and counters. A connection's end is when conntrack
/// destroyed it: its last packet plus the idle timeout. Exit status 1 when none matches.
/// docs/other-logs.md explains the log's fields and traps.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about, long_about)]
struct Args {
    /// The public (post-NAT) address, with the port if known: `198.51.100.7:40631`,
    /// `[2001:db8::7]:40631`, or `198.51.100.7`.
    #[arg(value_name = "PUBLIC")]
    public: String,
    /// ulogd2 NFCT JSON files.
    #[arg(value_name = "LOG", required = true)]
    logs: Vec<PathBuf>,
    /// Only connections alive at TIME (local time unless --utc; forms as flow-cat -t, see
    /// docs/time.md).
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Only this protocol (tcp, udp, or a number): a public port number is reused across
    /// protocols.
    #[arg(long, value_name = "PROTO")]
    proto: Option<String>,
    /// Read and print times in UTC instead of the local zone (TZ).
    #[arg(long)]
    utc: bool,
}

fn public(text: &str) -> Result<(IpAddr, Option<u16>), ToolError> {
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Ok((sa.ip(), Some(sa.port())));
    }
    text.parse::<IpAddr>().map(|a| (a, None)).map_err(|_| {
        ToolError::usage(format!(
            "`{text}` is not ADDRESS or ADDRESS:PORT (IPv6 with a port: [ADDRESS]:PORT)"
        ))
    })
}

fn endpoint(a: IpAddr, port: u16) -> String {
    SocketAddr::new(a, port).to_string()
}

fn line(c: &Connection, tz: &jiff::tz::TimeZone) -> String {
    let when = |t: Option<i64>| t.map_or("?".to_string(), |ms| time::iso(ms, tz));
    let proto = flowkit_core::model::names::protocol(c.protocol)
        .map_or(c.protocol.to_string(), str::to_string);
    let mut s = format!(
        "{} {} {proto} internal {} -> public {} -> server {}",
        when(c.start_ms),
        match c.end_ms {
            Some(_) => when(c.end_ms),
            None => "(not destroyed in the log)".to_string(),
        },
        endpoint(c.orig_src, c.orig_sport),
        endpoint(c.reply_dst, c.reply_dport),
        endpoint(c.reply_src, c.reply_sport),
    );
    if c.destination_nat() {
        s.push_str(&format!(
            " (dialled {})",
            endpoint(c.orig_dst, c.orig_dport)
        ));
    }
    s.push_str(&format!(
        " packets {}/{} bytes {}/{} ct.id {}",
        c.orig_packets, c.reply_packets, c.orig_octets, c.reply_octets, c.id
    ));
    s
}

fn run(args: Args) -> Result<(), ToolError> {
    let (addr, port) = public(&args.public)?;
    let tz = cli::zone(args.utc)?;
    let at = match &args.at {
        Some(t) => Some(
            time::parse_time(t, &tz)
                .map_err(|e| ToolError::usage(format!("--at: {e}")))?
                .ms,
        ),
        None => None,
    };
    let proto = match &args.proto {
        None => None,
        Some(p) => Some(
            p.parse::<u8>()
                .ok()
                .or_else(|| flowkit_core::model::names::protocol_number(p))
                .ok_or_else(|| ToolError::usage(format!("--proto {p}: not a protocol")))?,
        ),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut found = 0u64;
    let mut malformed = 0u64;
    for path in &args.logs {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| {
            ToolError::Output(std::io::Error::new(e.kind(), format!("{name}: {e}")))
        })?;
        let counts = read_conntrack(
            std::io::BufReader::new(file),
            &name,
            &mut |e| cli::warn(TOOL, &e.to_string()),
            &mut |c| {
                if c.held(addr, port, proto, at) {
                    found += 1;
                    writeln!(out, "{}", line(&c, &tz))?;
                }
                Ok(())
            },
        )
        .map_err(ToolError::Output)?;
        malformed += counts.malformed;
    }
    out.flush().map_err(ToolError::Output)?;
    if malformed > 0 {
        cli::warn(
            TOOL,
            &format!("warning: {malformed} malformed line(s) skipped"),
        );
    }
    if found == 0 {
        return Err(ToolError::Output(std::io::Error::other(format!(
            "no connection in the log held {}",
            args.public
        ))));
    }
    Ok(())
}

fn main() {
    cli::tool_main::<Args>(TOOL, run)
}
