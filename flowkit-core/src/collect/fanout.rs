//! Receiving export datagrams once and forwarding each, unchanged, to several collectors (what
//! flow-tools' flow-fanout and nfcapd's `-R` do).
//!
//! Datagrams are relayed as they arrive, byte for byte and in order, without decoding (any
//! NetFlow or IPFIX version passes). A relay sends from its own address, so a collector behind
//! it sees the relay as the exporter; to keep exporters apart where it matters (NetFlow v9 and
//! IPFIX templates are scoped by exporter address *and source port*, RFC 7011 §8), each exporter
//! gets its own sending socket, hence its own source port, towards every collector (up to
//! [`FanoutConfig::max_exporters`]; later ones share one socket per collector, counted).
//! With [`FanoutConfig::spoof`] each IPv4 datagram instead leaves with the exporter's own source
//! address and port (a raw socket, [`super::spoof`]), so collectors see the exporters themselves.
//! Sending never blocks receiving: a send that fails (a collector that is down, a full buffer)
//! is counted for that collector, and the datagram still goes to the others.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One collector datagrams are forwarded to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FanoutTarget {
    /// The address to send from (`None`: any address of the right family).
    pub local: Option<IpAddr>,
    /// The collector.
    pub dest: SocketAddr,
}

/// How a relay runs.
#[derive(Clone, Debug)]
pub struct FanoutConfig {
    /// The collectors.
    pub targets: Vec<FanoutTarget>,
    /// Accept only datagrams from this exporter (`None`: any).
    pub exporter: Option<IpAddr>,
    /// Exporters that get sending sockets of their own; later ones share one per collector.
    pub max_exporters: usize,
    /// Counters are logged this often (and at exit).
    pub stats_every: Duration,
    /// Keep the exporter's source address and port (IPv4 exporters to IPv4 collectors; needs
    /// `CAP_NET_RAW`). Others are relayed from the relay's sockets.
    pub spoof: bool,
}

impl FanoutConfig {
    /// Defaults: any exporter, 1,024 exporters with their own sockets, counters every 5 minutes.
    pub fn new(targets: Vec<FanoutTarget>) -> Self {
        FanoutConfig {
            targets,
            exporter: None,
            max_exporters: 1024,
            stats_every: Duration::from_secs(300),
            spoof: false,
        }
    }
}

/// What a relay has done.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FanoutStats {
    /// Datagrams received.
    pub received: u64,
    /// Their bytes.
    pub received_bytes: u64,
    /// Datagrams from an exporter other than the one accepted (dropped).
    pub not_allowed: u64,
    /// Exporters seen.
    pub exporters: u64,
    /// Exporters past `max_exporters`, sharing sockets.
    pub exporters_shared: u64,
    /// Per collector (in `targets` order): datagrams sent and sends that failed.
    pub sent: Vec<(u64, u64)>,
}

impl std::fmt::Display for FanoutStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "received {} datagrams ({} bytes) from {} exporters; {} not allowed",
            self.received, self.received_bytes, self.exporters, self.not_allowed
        )?;
        if self.exporters_shared > 0 {
            write!(f, "; {} exporters share sockets", self.exporters_shared)?;
        }
        Ok(())
    }
}

/// Opens a sending socket for `t` (bound to its local address, any port).
fn sender(t: &FanoutTarget) -> io::Result<UdpSocket> {
    let local = t.local.unwrap_or(match t.dest {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    });
    let s = UdpSocket::bind(SocketAddr::new(local, 0))?;
    s.set_nonblocking(true)?;
    Ok(s)
}

/// Relays datagrams from `socket` to the collectors of `cfg` until `stop` is set. `log` gets
/// the counters every `stats_every` and at exit (one line per collector after the totals).
pub fn run_fanout(
    socket: UdpSocket,
    cfg: &FanoutConfig,
    stop: &AtomicBool,
    log: &mut dyn FnMut(&str),
) -> io::Result<FanoutStats> {
    socket.set_read_timeout(Some(Duration::from_millis(100)))?;
    let mut spoof = match cfg.spoof {
        true => Some(super::spoof::SpoofSender::open()?),
        false => None,
    };
    let shared: Vec<UdpSocket> = cfg.targets.iter().map(sender).collect::<io::Result<_>>()?;
    let mut own: HashMap<SocketAddr, Vec<UdpSocket>> = HashMap::new();
    let mut stats = FanoutStats {
        sent: vec![(0, 0); cfg.targets.len()],
        ..FanoutStats::default()
    };
    let mut buf = vec![0u8; 65_536];
    let mut next_report = Instant::now() + cfg.stats_every;
    while !stop.load(Ordering::Relaxed) {
        if Instant::now() >= next_report {
            report(&stats, cfg, "", log);
            next_report = Instant::now() + cfg.stats_every;
        }
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e) if super::quiet_wake(&e) => continue,
            Err(e) => return Err(e),
        };
        stats.received += 1;
        stats.received_bytes += n as u64;
        if cfg.exporter.is_some_and(|e| e != canonical(from.ip())) {
            stats.not_allowed += 1;
            continue;
        }
        if !own.contains_key(&from) {
            stats.exporters += 1;
            if own.len() < cfg.max_exporters {
                match cfg
                    .targets
                    .iter()
                    .map(sender)
                    .collect::<io::Result<Vec<_>>>()
                {
                    Ok(socks) => {
                        own.insert(from, socks);
                    }
                    Err(e) => {
                        log(&format!(
                            "cannot open sockets for exporter {from}: {e}; sharing"
                        ));
                        stats.exporters_shared += 1;
                    }
                }
            } else {
                stats.exporters_shared += 1;
            }
        }
        let socks = own.get(&from).unwrap_or(&shared);
        for (k, (s, t)) in socks.iter().zip(&cfg.targets).enumerate() {
            let sent = match (&mut spoof, canonical(from.ip()), t.dest) {
                (Some(raw), IpAddr::V4(ip), SocketAddr::V4(dest)) => {
                    raw.send(SocketAddrV4::new(ip, from.port()), dest, &buf[..n])
                }
                _ => s.send_to(&buf[..n], t.dest).map(|_| ()),
            };
            match sent {
                Ok(_) => stats.sent[k].0 += 1,
                Err(_) => stats.sent[k].1 += 1,
            }
        }
    }
    report(&stats, cfg, "exit: ", log);
    Ok(stats)
}

/// An IPv4 address that came in on a dual-stack socket as `::ffff:a.b.c.d` is that IPv4 address.
fn canonical(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
        v4 => v4,
    }
}

fn report(stats: &FanoutStats, cfg: &FanoutConfig, prefix: &str, log: &mut dyn FnMut(&str)) {
    log(&format!("{prefix}{stats}"));
    for (t, (ok, failed)) in cfg.targets.iter().zip(&stats.sent) {
        log(&format!(
            "{prefix}to {}: {ok} sent, {failed} failed",
            t.dest
        ));
    }
}
