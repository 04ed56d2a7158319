//! The live collector behind `flow-capture`: receives NetFlow v5/v9/IPFIX datagrams over UDP,
//! decodes them and writes a dated tree of archive files rotated by receive time.
//!
//! Two threads: a receiver that only reads the socket (a large kernel buffer, an allow-list, a
//! bounded queue it never blocks on: when the writer falls behind, datagrams are dropped and
//! counted), and the caller's thread, which decodes, writes, rotates, flushes and reports. A bad
//! datagram is counted and reported, never fatal; a write error (a full disk) abandons the open
//! files (their `tmp-` files keep every block already written), counts the flows it could not
//! write, and tries again with new files on the next datagram, so collection resumes when space
//! returns.

use crate::archive::tree::{RotatingWriter, TreeLayout};
use crate::archive::WriterOptions;
use crate::block::FlowBlockBuf;
use crate::decode::{DecodeStats, Decoder, DecoderConfig, ExporterUsage};
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a collector runs.
#[derive(Clone, Debug)]
pub struct CollectorConfig {
    /// Where and how files are written.
    pub layout: TreeLayout,
    /// Exporters accepted (addresses or prefixes); empty accepts all.
    pub allow: Vec<IpNet>,
    /// Decoder limits (templates, held data, exporters).
    pub decoder: DecoderConfig,
    /// Datagrams the receiver may queue for the writer before it drops (and counts) them.
    pub queue_datagrams: usize,
    /// Pending flows are written to disk as a block at least this often, so a crash loses at
    /// most this much.
    pub flush_every: Duration,
    /// Counters are logged this often (and at exit).
    pub stats_every: Duration,
    /// Files kept open at once (late datagrams after a clock jump can reopen intervals).
    pub max_open_files: usize,
}

impl CollectorConfig {
    /// Defaults: accept all exporters, queue 65,536 datagrams, flush every 5 s, log every 5 min.
    pub fn new(layout: TreeLayout) -> Self {
        CollectorConfig {
            layout,
            allow: Vec::new(),
            decoder: DecoderConfig::default(),
            queue_datagrams: 65_536,
            flush_every: Duration::from_secs(5),
            stats_every: Duration::from_secs(300),
            max_open_files: 4,
        }
    }
}

/// Counters kept by the receiver thread (shared, lock-free).
#[derive(Debug, Default)]
struct ReceiverCounters {
    datagrams: AtomicU64,
    bytes: AtomicU64,
    not_allowed: AtomicU64,
    queue_full: AtomicU64,
    /// The kernel's drop count read as the receiver stopped (u64::MAX: not known).
    final_kernel_drops: AtomicU64,
}

/// What a collector has done.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CollectorStats {
    /// Datagrams read from the socket.
    pub received: u64,
    /// Bytes of those datagrams.
    pub received_bytes: u64,
    /// Datagrams from exporters not in the allow-list (dropped).
    pub not_allowed: u64,
    /// Datagrams dropped because the writer fell behind (the queue was full).
    pub queue_full: u64,
    /// Datagrams the kernel dropped before we read them (socket buffer overflow), when known.
    pub kernel_drops: Option<u64>,
    /// Flows written to files and flushed to the operating system (a periodic flush, a
    /// rotation or the exit made them durable).
    pub flows_written: u64,
    /// Flows lost to write errors (full disk ...): those given to files since their last
    /// successful flush when a write failed (complete blocks of them may still be in the
    /// abandoned `tmp-` file), and those that arrived while writing was failing.
    pub flows_unwritten: u64,
    /// Flows accepted by open files but not yet flushed (counted as written or unwritten by the
    /// next flush).
    pub flows_pending: u64,
    /// Files published.
    pub files: u64,
    /// What the decoder counted, over all exporters.
    pub decode: DecodeStats,
    /// What the decoder counted, per exporter.
    pub per_exporter: BTreeMap<IpAddr, DecodeStats>,
    /// Exporters the decoder tracks (at most `DecoderConfig::max_exporters`).
    pub exporters: usize,
    /// The most any one exporter held at any time (templates, domains, held sets and bytes),
    /// to compare with the `DecoderConfig` limits.
    pub peak_usage: ExporterUsage,
}

impl CollectorStats {
    /// True when something was lost: dropped datagrams, decoding losses, unwritten flows.
    pub fn has_losses(&self) -> bool {
        self.queue_full > 0
            || self.kernel_drops.unwrap_or(0) > 0
            || self.flows_unwritten > 0
            || self.decode.has_losses()
    }
}

impl fmt::Display for CollectorStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "received {} datagrams ({} bytes); dropped: {} not allowed, {} queue full, {} in the kernel; \
             {} flows written to {} files ({} unwritten, {} pending); decoder: {}",
            self.received,
            self.received_bytes,
            self.not_allowed,
            self.queue_full,
            self.kernel_drops
                .map_or_else(|| "unknown".to_string(), |d| d.to_string()),
            self.flows_written,
            self.files,
            self.flows_unwritten,
            self.flows_pending,
            self.decode
        )?;
        let p = &self.peak_usage;
        write!(
            f,
            "; state: {} exporters, at most {} templates, {} domains, {} held sets ({} bytes) per exporter",
            self.exporters, p.templates, p.domains, p.held_sets, p.held_bytes
        )?;
        for (a, s) in &self.per_exporter {
            write!(
                f,
                "; {a}: {} datagrams, {} flows, {} malformed, {} unknown template, {} sequence gaps",
                s.datagrams, s.flows, s.malformed, s.unknown_template, s.sequence_gaps
            )?;
        }
        Ok(())
    }
}

/// One received datagram on its way to the writer.
struct Received {
    from: IpAddr,
    recv_ms: i64,
    data: Vec<u8>,
}

/// Opens the UDP socket a collector listens on: a large receive buffer (as large as the
/// system allows, up to `rcvbuf` bytes); `[::]` also accepts IPv4 (dual stack).
pub fn bind(addr: SocketAddr, rcvbuf: usize) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let domain = if addr.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let s = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        let _ = s.set_only_v6(false);
    }
    // SO_RCVBUFFORCE passes the system's cap when privileged; otherwise take what is allowed.
    #[cfg(target_os = "linux")]
    let forced = {
        use std::os::fd::AsRawFd;
        let v = rcvbuf.min(i32::MAX as usize) as libc::c_int;
        // SAFETY: a plain setsockopt on a socket we own, with a pointer to a live c_int.
        unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                &v as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            ) == 0
        }
    };
    #[cfg(not(target_os = "linux"))]
    let forced = false;
    if !forced {
        let _ = s.set_recv_buffer_size(rcvbuf);
    }
    s.bind(&addr.into())?;
    Ok(s.into())
}

/// Runs a collector on `socket` until `stop` is set, then flushes and publishes every file.
/// `log` gets one line per report (periodic counters, problems). Returns the final counters.
pub fn run(
    socket: UdpSocket,
    cfg: CollectorConfig,
    stop: Arc<AtomicBool>,
    log: &mut dyn FnMut(&str),
) -> io::Result<CollectorStats> {
    socket.set_read_timeout(Some(Duration::from_millis(100)))?;
    let counters = Arc::new(ReceiverCounters::default());
    let (tx, rx) = sync_channel::<Received>(cfg.queue_datagrams.max(1));
    let inode = socket_inode(&socket);
    let receiver = {
        let counters = Arc::clone(&counters);
        let stop = Arc::clone(&stop);
        let allow = cfg.allow.clone();
        std::thread::Builder::new()
            .name("flow-capture-recv".into())
            .spawn(move || receive(socket, allow, tx, counters, stop))?
    };
    let mut w = Writer::new(&cfg, log);
    let result = w.serve(&rx, &counters, inode, &stop);
    stop.store(true, Ordering::SeqCst);
    let _ = receiver.join();
    // Whatever was queued when the stop came is written too.
    while let Ok(r) = rx.try_recv() {
        w.handle(r);
    }
    let (mut stats, finish_error) = w.finish();
    fill_receiver_stats(&mut stats, &counters, None);
    let drops = counters.final_kernel_drops.load(Ordering::SeqCst);
    stats.kernel_drops = (drops != u64::MAX).then_some(drops);
    (w.log)(&format!("exit: {stats}"));
    result?;
    match finish_error {
        Some(e) => Err(e),
        None => Ok(stats),
    }
}

fn receive(
    socket: UdpSocket,
    allow: Vec<IpNet>,
    tx: SyncSender<Received>,
    counters: Arc<ReceiverCounters>,
    stop: Arc<AtomicBool>,
) {
    let inode = socket_inode(&socket);
    receive_until_stopped(&socket, &allow, &tx, &counters, &stop);
    // Read the kernel's count while the socket still exists.
    let drops = inode.and_then(kernel_drops).unwrap_or(u64::MAX);
    counters.final_kernel_drops.store(drops, Ordering::SeqCst);
}

fn receive_until_stopped(
    socket: &UdpSocket,
    allow: &[IpNet],
    tx: &SyncSender<Received>,
    counters: &ReceiverCounters,
    stop: &AtomicBool,
) {
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(_) => {
                // A transient socket error (ICMP errors surface here on some systems): go on.
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        counters.datagrams.fetch_add(1, Ordering::Relaxed);
        counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
        let from = from.ip().to_canonical();
        if !allow.is_empty() && !allow.iter().any(|net| net.contains(&from)) {
            counters.not_allowed.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let r = Received {
            from,
            recv_ms: now_ms(),
            data: buf[..n].to_vec(),
        };
        match tx.try_send(r) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                counters.queue_full.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => return,
        }
    }
}

/// The decoding and writing side.
struct Writer<'l> {
    layout: TreeLayout,
    opts: WriterOptions,
    files: Option<RotatingWriter>,
    decoder: Decoder,
    buf: FlowBlockBuf,
    cfg: CollectorConfig,
    flows_written: u64,
    flows_unwritten: u64,
    /// Flows given to the open files since they were last flushed successfully.
    flows_pending: u64,
    files_published: u64,
    write_failing: bool,
    /// After a write error, no new file is tried before this time (UTC ms), so a full disk
    /// does not make a new file per datagram.
    retry_at_ms: i64,
    peak_usage: ExporterUsage,
    log: &'l mut dyn FnMut(&str),
}

impl<'l> Writer<'l> {
    fn new(cfg: &CollectorConfig, log: &'l mut dyn FnMut(&str)) -> Self {
        let opts = WriterOptions {
            creator: "flow-capture".into(),
            ..WriterOptions::default()
        };
        Writer {
            layout: cfg.layout.clone(),
            files: Some(RotatingWriter::new(cfg.layout.clone(), opts.clone())),
            opts,
            decoder: Decoder::new(cfg.decoder.clone()),
            buf: FlowBlockBuf::default(),
            cfg: cfg.clone(),
            flows_written: 0,
            flows_unwritten: 0,
            flows_pending: 0,
            files_published: 0,
            write_failing: false,
            retry_at_ms: i64::MIN,
            peak_usage: ExporterUsage::default(),
            log,
        }
    }

    fn serve(
        &mut self,
        rx: &Receiver<Received>,
        counters: &ReceiverCounters,
        inode: Option<u64>,
        stop: &AtomicBool,
    ) -> io::Result<()> {
        let mut last_flush = Instant::now();
        let mut last_stats = Instant::now();
        let mut malformed_reported = 0u64;
        while !stop.load(Ordering::Relaxed) {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(r) => {
                    if let Some(msg) = self.handle(r) {
                        // Report malformed datagrams, but not a flood of them.
                        malformed_reported += 1;
                        if malformed_reported <= 100 {
                            (self.log)(&msg);
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let now = now_ms();
            self.rotate(now);
            if last_flush.elapsed() >= self.cfg.flush_every {
                self.flush();
                last_flush = Instant::now();
            }
            if last_stats.elapsed() >= self.cfg.stats_every {
                let mut s = self.stats();
                fill_receiver_stats(&mut s, counters, inode);
                (self.log)(&format!("stats: {s}"));
                malformed_reported = 0;
                last_stats = Instant::now();
            }
        }
        Ok(())
    }

    /// Decodes and writes one datagram; returns a report line when it was malformed.
    fn handle(&mut self, r: Received) -> Option<String> {
        self.buf.clear();
        let res = self
            .decoder
            .decode(&r.data, r.from, r.recv_ms, &mut self.buf);
        if let Some(u) = self.decoder.exporter_usage(r.from) {
            self.peak_usage = self.peak_usage.max(u);
        }
        let report = res.err().map(|e| {
            format!(
                "datagram of {} bytes from {}: {e}{}",
                r.data.len(),
                r.from,
                if self.buf.is_empty() {
                    String::new()
                } else {
                    format!(" ({} flows before the damage kept)", self.buf.len())
                }
            )
        });
        if !self.buf.is_empty() {
            self.write(r.recv_ms);
        }
        report
    }

    fn write(&mut self, t_ms: i64) {
        let n = self.buf.len() as u64;
        if self.files.is_none() {
            // After a write error: try again with new files, but not before the retry time.
            if now_ms() < self.retry_at_ms {
                self.flows_unwritten += n;
                return;
            }
            self.files = Some(RotatingWriter::new(self.layout.clone(), self.opts.clone()));
        }
        let w = self.files.as_mut().expect("set above");
        let res = w
            .write(t_ms, &self.buf.view(), None)
            .and_then(|_| w.limit_open(self.cfg.max_open_files));
        match res {
            Ok(()) => self.flows_pending += n,
            Err(e) => {
                self.flows_unwritten += n;
                self.fail(&e);
            }
        }
    }

    /// Everything given to the files so far has reached the operating system.
    fn durable(&mut self) {
        self.flows_written += std::mem::take(&mut self.flows_pending);
        if self.write_failing {
            (self.log)("writing works again; collection resumed");
            self.write_failing = false;
        }
    }

    /// Gives up the open files after a write error (keeping their `tmp-` files, readable up to
    /// their last complete block; removing those that hold no complete block), counts the flows
    /// given to them since their last flush as unwritten, and reports once until writing works
    /// again. New files are tried from the next flush interval on.
    fn fail(&mut self, e: &io::Error) {
        self.flows_unwritten += std::mem::take(&mut self.flows_pending);
        self.retry_at_ms = now_ms() + self.cfg.flush_every.as_millis().max(1000) as i64;
        if let Some(w) = self.files.take() {
            let kept = w.abandon();
            if !self.write_failing {
                let names: Vec<String> = kept.iter().map(|p| p.display().to_string()).collect();
                (self.log)(&format!(
                    "write error: {e}; flows are being lost (and counted) until it clears; \
                     unfinished files kept: {}",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ));
            }
        }
        self.write_failing = true;
    }

    fn rotate(&mut self, now: i64) {
        let res = match self.files.as_mut() {
            Some(w) => w.close_before(now),
            None => return,
        };
        match res {
            Ok(n) => self.files_published += n as u64,
            Err(e) => self.fail(&e),
        }
    }

    fn flush(&mut self) {
        let res = match self.files.as_mut() {
            Some(w) => w.flush_all(),
            None => return,
        };
        match res {
            Ok(()) => self.durable(),
            Err(e) => self.fail(&e),
        }
    }

    fn stats(&self) -> CollectorStats {
        CollectorStats {
            flows_written: self.flows_written,
            flows_unwritten: self.flows_unwritten,
            flows_pending: self.flows_pending,
            files: self.files_published,
            decode: self.decoder.stats(),
            per_exporter: self
                .decoder
                .exporter_stats()
                .map(|(a, s)| (a, *s))
                .collect(),
            exporters: self.decoder.exporters(),
            peak_usage: self.peak_usage,
            ..CollectorStats::default()
        }
    }

    /// Publishes every open file; returns the final counters and the write error, if any, that
    /// kept a file from being published (its flows are then counted as unwritten).
    fn finish(&mut self) -> (CollectorStats, Option<io::Error>) {
        self.decoder.drop_held();
        let mut err = None;
        if let Some(w) = self.files.take() {
            match w.finish() {
                Ok(files) => {
                    self.files_published += files.len() as u64;
                    self.flows_written += std::mem::take(&mut self.flows_pending);
                }
                Err(e) => {
                    (self.log)(&format!("write error while closing files: {e}"));
                    self.flows_unwritten += std::mem::take(&mut self.flows_pending);
                    err = Some(e);
                }
            }
        }
        (self.stats(), err)
    }
}

fn fill_receiver_stats(s: &mut CollectorStats, c: &ReceiverCounters, inode: Option<u64>) {
    s.received = c.datagrams.load(Ordering::Relaxed);
    s.received_bytes = c.bytes.load(Ordering::Relaxed);
    s.not_allowed = c.not_allowed.load(Ordering::Relaxed);
    s.queue_full = c.queue_full.load(Ordering::Relaxed);
    s.kernel_drops = inode.and_then(kernel_drops);
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The inode of a socket, which names it in /proc/net/udp.
fn socket_inode(socket: &UdpSocket) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::MetadataExt;
        let fd = socket.as_raw_fd();
        std::fs::metadata(format!("/proc/self/fd/{fd}"))
            .ok()
            .map(|m| m.ino())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = socket;
        None
    }
}

/// Datagrams the kernel dropped on the socket with this inode (the `drops` column of
/// /proc/net/udp and udp6), when it can be read.
pub fn kernel_drops(inode: u64) -> Option<u64> {
    for table in ["/proc/net/udp", "/proc/net/udp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() >= 13 && cols[9].parse::<u64>().ok() == Some(inode) {
                return cols[12].parse().ok();
            }
        }
    }
    None
}
