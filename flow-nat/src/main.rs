//! flow-nat: which internal host was behind a public address and port at a time, from the NAT
//! gateway's conntrack log (ulogd2 NFCT JSON) or from flows that keep the translation (archives
//! flow-import made of such logs, IPFIX/NSEL NAT flows); or which public mappings an inside
//! host used.

use clap::Parser;
use flowkit_cli::{self as cli, ToolError};
use flowkit_core::archive::sniff::{sniff, InputFormat};
use flowkit_core::logs::conntrack::{self, read_conntrack, Connection};
use flowkit_core::logs::nat::{rank, Candidate, NatQuery, Side};
use flowkit_core::pipeline::input::{expand_inputs, Input};
use flowkit_core::pipeline::scan::{ScanOptions, Scanner};
use flowkit_core::time;
use std::io::{BufRead, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

const TOOL: &str = "flow-nat";

/// Which internal host was behind public ADDRESS[:PORT] (at --at TIME), from a NAT gateway's
/// conntrack log written by ulogd2 (NFCT plugin, JSON output), or from flow archives (and
/// directories of them) that keep the translation: `flow-import log.json -o nat.fk` keeps it,
/// as do IPFIX/NSEL exporters' post-NAT fields; with --inside, which public mappings an
/// internal host used.
///
/// Prints every connection whose source NAT mapping used the public address (and port), with
/// its internal host and port, the server it talked to (and the address the client dialled,
/// under port forwarding), its times and counters. A connection's end is when conntrack
/// destroyed it: its last packet plus the idle timeout. With --at, connections alive at TIME
/// come first, then (with --window) those that ended or began within the window, nearest
/// first, each marked with how far it lies from TIME. Exit status 1 when none matches.
/// docs/other-logs.md explains the log's fields and traps. (nfdump and flow-tools have no
/// equivalent; SiLK users pair flows with NAT logs by hand.)
#[derive(Parser, Debug)]
#[command(
    name = TOOL,
    version,
    about,
    long_about,
    override_usage = "flow-nat [OPTIONS] PUBLIC[:PORT] [LOG...]\n       flow-nat [OPTIONS] --inside ADDRESS[:PORT] [LOG...]"
)]
struct Args {
    /// The public (post-NAT) address, with the port if known: `198.51.100.7:40631`,
    /// `[2001:db8::7]:40631`, or `198.51.100.7`; then the ulogd2 NFCT JSON files, flow
    /// archives or directories (none, or `-`: flows or a log on standard input, as every
    /// tool reads it). With --inside, only the inputs.
    #[arg(value_name = "PUBLIC[:PORT] LOG")]
    args: Vec<String>,
    /// List the public mappings of this internal host (and port) instead.
    #[arg(long, value_name = "ADDRESS[:PORT]")]
    inside: Option<String>,
    /// Only connections alive at TIME (local time unless --utc; forms as flow-cat -t, see
    /// docs/time.md).
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// With --at: also connections that ended or began within this long of TIME (clocks
    /// disagree), nearest first.
    #[arg(long, value_name = "DURATION", default_value = "0", requires = "at")]
    window: String,
    /// Add SECONDS (may be negative or fractional) to the log's times first: the gateway's
    /// clock was that far behind.
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true)]
    time_shift: Option<f64>,
    /// Only this protocol (tcp, udp, or a number): a public port number is reused across
    /// protocols.
    #[arg(long, value_name = "PROTO")]
    proto: Option<String>,
    /// Read and print times in UTC instead of the local zone (TZ).
    #[arg(long)]
    utc: bool,
    /// Write CSV: one row per connection, columns named as the JSON keys.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// Write one JSON document: `{"connections": [...]}`, one object per connection.
    #[arg(long)]
    json: bool,
    /// Read archive files with read(2) instead of mapping them (as the other tools).
    #[arg(long = "no-mmap")]
    no_mmap: bool,
    /// Also read tmp* files (unfinished files of a running collector), as the other tools.
    #[arg(short = 'a', long = "all")]
    include_tmp: bool,
}

/// The columns of `--csv` and the keys of `--json`, in order.
const COLUMNS: [&str; 17] = [
    "start",
    "end",
    "protocol",
    "internal_addr",
    "internal_port",
    "public_addr",
    "public_port",
    "server_addr",
    "server_port",
    "dialled_addr",
    "dialled_port",
    "packets",
    "rev_packets",
    "octets",
    "rev_octets",
    "ct_id",
    "offset_ms",
];

/// One connection's values in [`COLUMNS`] order (times ISO 8601 in `tz`; an unknown time, and
/// the offset without --at, empty).
fn values(c: &Candidate, tz: &jiff::tz::TimeZone, at: bool) -> Vec<String> {
    let k = &c.conn;
    let when = |t: Option<i64>| t.map_or(String::new(), |ms| time::iso(ms, tz));
    vec![
        when(k.start_ms),
        when(k.end_ms),
        k.protocol.to_string(),
        k.orig_src.to_string(),
        k.orig_sport.to_string(),
        k.reply_dst.to_string(),
        k.reply_dport.to_string(),
        k.reply_src.to_string(),
        k.reply_sport.to_string(),
        k.orig_dst.to_string(),
        k.orig_dport.to_string(),
        k.orig_packets.to_string(),
        k.reply_packets.to_string(),
        k.orig_octets.to_string(),
        k.reply_octets.to_string(),
        k.id.to_string(),
        if at {
            c.offset_ms.to_string()
        } else {
            String::new()
        },
    ]
}

/// Writes the connections as CSV or one JSON document.
fn write_table(
    out: &mut dyn Write,
    found: &[Candidate],
    tz: &jiff::tz::TimeZone,
    at: bool,
    json: bool,
) -> std::io::Result<()> {
    if json {
        let rows: Vec<serde_json::Value> = found
            .iter()
            .map(|c| {
                let v = values(c, tz, at);
                let mut m = serde_json::Map::new();
                for (k, (name, text)) in COLUMNS.iter().zip(v).enumerate() {
                    let value = match k {
                        0 | 1 | 3 | 5 | 7 | 9 if text.is_empty() => serde_json::Value::Null,
                        0 | 1 | 3 | 5 | 7 | 9 => serde_json::Value::String(text),
                        _ if text.is_empty() => serde_json::Value::Null,
                        _ => serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
                    };
                    m.insert(name.to_string(), value);
                }
                serde_json::Value::Object(m)
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "connections": rows }))?;
        return writeln!(out);
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    for c in found {
        w.write_record(values(c, tz, at))?;
    }
    w.flush()
}

fn address(text: &str) -> Result<(IpAddr, Option<u16>), ToolError> {
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

/// How far a candidate lies from --at, when not alive at it.
fn offset(c: &Candidate) -> String {
    let secs = |ms: i64| flowkit_core::analyze::keys::human_ms(ms.abs());
    match c.offset_ms {
        0 => String::new(),
        n if n < 0 => format!(" [ended {} before --at]", secs(n)),
        n => format!(" [began {} after --at]", secs(n)),
    }
}

fn query<'a>(
    args: &'a Args,
    tz: &jiff::tz::TimeZone,
) -> Result<(NatQuery, &'a [String]), ToolError> {
    let (side, who, logs) = match &args.inside {
        Some(who) => (Side::Inside, who.as_str(), &args.args[..]),
        None if args.args.is_empty() => {
            return Err(ToolError::usage(
                "give PUBLIC[:PORT] and the LOGs (or --inside ADDRESS[:PORT] and the LOGs); \
                 without LOGs, flows are read from standard input",
            ))
        }
        None => (Side::Public, args.args[0].as_str(), &args.args[1..]),
    };
    let (addr, port) = address(who)?;
    let at_ms = match &args.at {
        Some(t) => Some(
            time::parse_time(t, tz)
                .map_err(|e| ToolError::usage(format!("--at: {e}")))?
                .ms,
        ),
        None => None,
    };
    let window_ms = match args.window.trim() {
        "0" => 0,
        w => cli::duration_secs(w, "--window")? as i64 * 1000,
    };
    let protocol = match &args.proto {
        None => None,
        Some(p) => Some(
            p.parse::<u8>()
                .ok()
                .or_else(|| flowkit_core::model::names::protocol_number(p))
                .ok_or_else(|| ToolError::usage(format!("--proto {p}: not a protocol")))?,
        ),
    };
    let shift_ms = args.time_shift.map_or(0, |s| (s * 1000.0).round() as i64);
    let q = NatQuery {
        side,
        addr,
        port,
        protocol,
        at_ms,
        window_ms,
        shift_ms,
    };
    Ok((q, logs))
}

/// True when `path` is a regular file holding a ulogd2 conntrack log, read as connections
/// (which keeps a never-destroyed connection's open end). Anything else (archives, flow-tools
/// and nfdump files, EVE logs, FIFOs, stdin) is read as flows by the scanner every tool uses: a
/// FIFO is not opened here, where its first bytes would be taken from the scanner.
fn is_conntrack_log(path: &Path) -> bool {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = Vec::new();
    let _ = std::fs::File::open(path).and_then(|f| {
        std::io::BufReader::new(f)
            .take(64 << 10)
            .read_until(b'\n', &mut head)
    });
    sniff(&head) == InputFormat::JsonLines && conntrack::sniff(&head)
}

/// Adds the candidates among the flows of `input` (conntrack connections imported by
/// flow-import keep their translation and `ct.id`); returns the number of damaged inputs,
/// reported on stderr.
fn read_flows(
    q: &NatQuery,
    input: Input,
    opts: &ScanOptions,
    found: &mut Vec<Candidate>,
) -> Result<u64, ToolError> {
    let mut scanner = Scanner::new(opts.clone(), |w| cli::warn(TOOL, w));
    scanner.run(&[input], &mut |blocks| {
        blocks.iter().for_each(|b| q.block_candidates(b, found));
        Ok(())
    })?;
    Ok(scanner.stats.errors)
}

fn run(args: Args) -> Result<(), ToolError> {
    let tz = cli::zone(args.utc)?;
    let (q, logs) = query(&args, &tz)?;
    let mut found: Vec<Candidate> = Vec::new();
    let mut malformed = 0u64;
    let mut damaged = 0u64;
    // No input named, or `-`: standard input, in any form the other tools read there. Inputs
    // are expanded as theirs are (directories, globs).
    if logs.is_empty() {
        cli::hint_if_terminal(TOOL);
    }
    let opts = ScanOptions {
        no_mmap: args.no_mmap,
        include_tmp: args.include_tmp,
        ..ScanOptions::default()
    };
    for input in expand_inputs(logs, args.include_tmp)? {
        let path = match input {
            Input::File(p) if is_conntrack_log(&p) => p,
            other => {
                damaged += read_flows(&q, other, &opts, &mut found)?;
                continue;
            }
        };
        let name = path.display().to_string();
        let file = std::fs::File::open(&path).map_err(|e| {
            ToolError::Output(std::io::Error::new(e.kind(), format!("{name}: {e}")))
        })?;
        let counts = read_conntrack(
            std::io::BufReader::new(file),
            &name,
            &mut |e| cli::warn(TOOL, &e.to_string()),
            &mut |c| {
                found.extend(q.candidate(&c));
                Ok(())
            },
        )
        .map_err(ToolError::Output)?;
        malformed += counts.malformed;
    }
    if q.at_ms.is_some() {
        rank(&mut found);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.csv || args.json {
        write_table(&mut out, &found, &tz, q.at_ms.is_some(), args.json)
            .map_err(ToolError::Output)?;
    } else {
        for c in &found {
            writeln!(out, "{}{}", line(&c.conn, &tz), offset(c)).map_err(ToolError::Output)?;
        }
    }
    out.flush().map_err(ToolError::Output)?;
    if malformed > 0 {
        cli::warn(
            TOOL,
            &format!("warning: {malformed} malformed line(s) skipped"),
        );
    }
    if damaged > 0 {
        return Err(ToolError::DamagedInputs(damaged));
    }
    if found.is_empty() {
        let who = match q.side {
            Side::Public => format!("held {}", args.args[0]),
            Side::Inside => format!("came from {}", args.inside.as_deref().unwrap_or("")),
        };
        return Err(ToolError::Output(std::io::Error::other(format!(
            "no connection in the log {who}"
        ))));
    }
    Ok(())
}

fn main() {
    cli::tool_main::<Args>(TOOL, run)
}
