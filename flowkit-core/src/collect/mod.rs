//! The live collector behind `flow-capture`: receives NetFlow v5/v9/IPFIX datagrams over UDP,
//! decodes them and writes a dated tree of archive files rotated by receive time.
//!
//! Two threads: a receiver that only reads the socket (a large kernel buffer, an allow-list, a
//! bounded queue it never blocks on: when the writer falls behind, datagrams are dropped and
//! counted), and the caller's thread, which decodes, writes, rotates, flushes and reports. A bad
//! datagram is counted and reported, never fatal; a write error (a full disk) abandons the open
//! files and recovers them at once (`archive::recover`: every whole block is kept and the file
//! published), counts exactly the flows that did not reach a whole block, and tries new files
//! from the next flush interval on, so collection resumes when space returns.

use crate::archive::expire::{expire_tree, ExpireLimits};
use crate::archive::recover::recover_file;
use crate::archive::tree::{RotatingWriter, TreeLayout};
use crate::archive::WriterOptions;
use crate::model::block::FlowBlockBuf;
use crate::netflow::{DecodeStats, Decoder, DecoderConfig, ExporterUsage, MemoryUsage};
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub mod endpoint;
pub mod fanout;
pub mod import;
pub mod spoof;
pub mod template_cache;

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
    /// Bytes of datagrams the receiver may queue (with `queue_datagrams`, whichever is first).
    pub queue_bytes: usize,
    /// Keep the decoder's templates in `DIR/.templates` across restarts.
    pub template_cache: bool,
    /// Pending flows are written to disk as a block at least this often, so a crash loses at
    /// most this much.
    pub flush_every: Duration,
    /// Counters are logged this often (and at exit).
    pub stats_every: Duration,
    /// Files kept open at once (late datagrams after a clock jump can reopen intervals).
    pub max_open_files: usize,
    /// The oldest files are deleted to keep the tree within these (flow-tools' `-E`/`-e`),
    /// at start and after each rotation and write error.
    pub expire: ExpireLimits,
}

impl CollectorConfig {
    /// Bounds the collector's state to about `bytes`: a quarter for queued datagrams, the rest
    /// for the decoder (templates, domains, held data; see [`DecoderConfig::max_memory`]).
    pub fn set_max_memory(&mut self, bytes: usize) {
        self.queue_bytes = bytes / 4;
        self.decoder.max_memory = bytes - bytes / 4;
    }

    /// Defaults: accept all exporters, queue 65,536 datagrams, flush every 5 s, log every 5 min.
    pub fn new(layout: TreeLayout) -> Self {
        CollectorConfig {
            layout,
            allow: Vec::new(),
            decoder: DecoderConfig::default(),
            queue_datagrams: 65_536,
            queue_bytes: 64 << 20,
            template_cache: true,
            flush_every: Duration::from_secs(5),
            stats_every: Duration::from_secs(300),
            max_open_files: 4,
            expire: ExpireLimits::default(),
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
    /// Datagrams in the queue now (received, not yet handled).
    queued: AtomicU64,
    /// Bytes of those datagrams.
    queued_bytes: AtomicU64,
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
    /// rotation or the exit made them durable), or found in a whole block by the recovery of a
    /// file a write error left unfinished.
    pub flows_written: u64,
    /// Flows lost to write errors (full disk ...): those given to files that did not reach a
    /// whole block of them when a write failed (the whole blocks are recovered and count as
    /// written), and those that arrived while writing was failing.
    pub flows_unwritten: u64,
    /// Flows accepted by open files but not yet flushed (counted as written or unwritten by the
    /// next flush).
    pub flows_pending: u64,
    /// Files published.
    pub files: u64,
    /// What the decoder counted, over all exporters.
    pub decode: DecodeStats,
    /// What the decoder counted, per exporter scope (address and UDP source port).
    pub per_exporter: BTreeMap<SocketAddr, DecodeStats>,
    /// The decoder's state in bytes against its cap.
    pub memory: MemoryUsage,
    /// Exporters the decoder tracks (at most `DecoderConfig::max_exporters`).
    pub exporters: usize,
    /// The most any one exporter held at any time (templates, domains, held sets and bytes),
    /// to compare with the `DecoderConfig` limits.
    pub peak_usage: ExporterUsage,
}

impl CollectorStats {
    /// The counters of every scope (source port) of exporter address `addr`, summed.
    pub fn of_address(&self, addr: IpAddr) -> DecodeStats {
        let mut s = DecodeStats::default();
        for (_, e) in self.per_exporter.iter().filter(|(a, _)| a.ip() == addr) {
            s.add(e);
        }
        s
    }

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
            "; state: {} exporters, at most {} templates, {} domains, {} held sets ({} bytes) per exporter, \
             {} KiB (peak {} KiB, cap {} KiB)",
            self.exporters,
            p.templates,
            p.domains,
            p.held_sets,
            p.held_bytes,
            self.memory.bytes >> 10,
            self.memory.peak >> 10,
            self.memory.cap >> 10
        )?;
        // Listed up to a bound: a flood of source ports must not make a line of megabytes.
        for (a, s) in self.per_exporter.iter().take(MAX_LISTED_EXPORTERS) {
            write!(
                f,
                "; {a}: {} datagrams, {} flows, {} malformed, {} unknown template, {} sequence gaps",
                s.datagrams, s.flows, s.malformed, s.unknown_template, s.sequence_gaps
            )?;
            if s.bad_times > 0 {
                write!(f, ", {} bad times", s.bad_times)?;
            }
        }
        if self.per_exporter.len() > MAX_LISTED_EXPORTERS {
            let more = self.per_exporter.len() - MAX_LISTED_EXPORTERS;
            write!(f, "; {more} more exporters not listed")?;
        }
        Ok(())
    }
}

/// Exporters listed one by one in a counters line.
const MAX_LISTED_EXPORTERS: usize = 64;

/// Datagrams received together (one `recvmmsg` call) on their way to the writer, in one buffer:
/// handing over a batch costs one allocation and at most one wake-up of the writer, where one
/// datagram at a time cost both per datagram (a profile at 1M flows/s spent about a third of
/// the collector's time switching threads).
struct Received {
    recv_ms: i64,
    data: Vec<u8>,
    /// Sender, start and end of each datagram in `data`.
    items: Vec<(SocketAddr, usize, usize)>,
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
    // Bounded in datagrams (`queued`), whatever the batches; the channel never holds more
    // batches than that.
    let (tx, rx) = sync_channel::<Received>(cfg.queue_datagrams.max(1));
    let queue_cap = (
        cfg.queue_datagrams.max(1) as u64,
        cfg.queue_bytes.max(65_536) as u64,
    );
    let inode = socket_inode(&socket);
    let receiver = {
        let counters = Arc::clone(&counters);
        let stop = Arc::clone(&stop);
        let allow = cfg.allow.clone();
        std::thread::Builder::new()
            .name("flow-capture-recv".into())
            .spawn(move || receive(socket, allow, tx, queue_cap, counters, stop))?
    };
    let mut w = Writer::new(&cfg, log);
    w.expire();
    let result = w.serve(&rx, &counters, inode, &stop);
    stop.store(true, Ordering::SeqCst);
    let _ = receiver.join();
    // Whatever was queued when the stop came is written too.
    while let Ok(batch) = rx.try_recv() {
        w.handle_batch(&batch, &counters);
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
    queue_cap: (u64, u64),
    counters: Arc<ReceiverCounters>,
    stop: Arc<AtomicBool>,
) {
    let inode = socket_inode(&socket);
    receive_until_stopped(&socket, &allow, &tx, queue_cap, &counters, &stop);
    // Read the kernel's count while the socket still exists.
    let drops = inode.and_then(kernel_drops).unwrap_or(u64::MAX);
    counters.final_kernel_drops.store(drops, Ordering::SeqCst);
}

fn receive_until_stopped(
    socket: &UdpSocket,
    allow: &[IpNet],
    tx: &SyncSender<Received>,
    queue_cap: (u64, u64),
    counters: &ReceiverCounters,
    stop: &AtomicBool,
) {
    let mut bufs = batch::Receiver::new();
    while !stop.load(Ordering::Relaxed) {
        let n = match bufs.recv(socket) {
            Ok(n) => n,
            Err(e) if quiet_wake(&e) => continue,
            Err(_) => {
                // A transient socket error (ICMP errors surface here on some systems): go on.
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let mut batch = Received {
            recv_ms: now_ms(),
            data: Vec::with_capacity((0..n).map(|k| bufs.len(k)).sum()),
            items: Vec::with_capacity(n),
        };
        for k in 0..n {
            let (from, d) = bufs.get(k);
            counters.datagrams.fetch_add(1, Ordering::Relaxed);
            counters.bytes.fetch_add(d.len() as u64, Ordering::Relaxed);
            let Some(from) = from.map(|a| SocketAddr::new(a.ip().to_canonical(), a.port())) else {
                continue; // not an IP sender: cannot happen on a UDP socket
            };
            if !allow.is_empty() && !allow.iter().any(|net| net.contains(&from.ip())) {
                counters.not_allowed.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let start = batch.data.len();
            batch.data.extend_from_slice(d);
            batch.items.push((from, start, batch.data.len()));
        }
        let count = batch.items.len() as u64;
        if count == 0 {
            continue;
        }
        let bytes = batch.data.len() as u64;
        if counters.queued.load(Ordering::Acquire) + count > queue_cap.0
            || counters.queued_bytes.load(Ordering::Acquire) + bytes > queue_cap.1
        {
            counters.queue_full.fetch_add(count, Ordering::Relaxed);
            continue;
        }
        counters.queued.fetch_add(count, Ordering::AcqRel);
        counters.queued_bytes.fetch_add(bytes, Ordering::AcqRel);
        match tx.try_send(batch) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                counters.queued.fetch_sub(count, Ordering::AcqRel);
                counters.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
                counters.queue_full.fetch_add(count, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => return,
        }
    }
}

/// Receiving many datagrams per system call.
mod batch;

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
    /// Flows given to the current `files` (all its files, open or published).
    handed: u64,
    /// Of those, flows already counted as written (`handed - credited` are pending).
    credited: u64,
    files_published: u64,
    /// Files of the current `files` already counted in `files_published`.
    files_seen: usize,
    /// `tmp-` files whose recovery after a write error could not finish them (the disk still
    /// full): their whole blocks are counted as written; publishing is tried again with each
    /// retry, and a restart or `flow-capture --recover` finishes them otherwise.
    unpublished: Vec<std::path::PathBuf>,
    write_failing: bool,
    /// After a write error, no new file is tried before this time (UTC ms), so a full disk
    /// does not make a new file per datagram.
    retry_at_ms: i64,
    peak_usage: ExporterUsage,
    /// The template generation last written to the template cache.
    saved_generation: u64,
    /// When the template cache was last written.
    saved_at: Option<Instant>,
    /// New exporters logged this counters interval, and those beyond the limit.
    scopes_logged: u64,
    scopes_untold: u64,
    log: &'l mut dyn FnMut(&str),
}

impl<'l> Writer<'l> {
    fn new(cfg: &CollectorConfig, log: &'l mut dyn FnMut(&str)) -> Self {
        let opts = WriterOptions {
            durable: true,
            ..WriterOptions::archive("flow-capture")
        };
        let mut decoder = Decoder::new(cfg.decoder.clone());
        if cfg.template_cache {
            if let Some(line) = template_cache::load(&cfg.layout.root, &mut decoder, now_ms()) {
                log(&line);
            }
        }
        Writer {
            saved_generation: decoder.template_generation(),
            saved_at: None,
            scopes_logged: 0,
            scopes_untold: 0,
            layout: cfg.layout.clone(),
            files: Some(RotatingWriter::new(cfg.layout.clone(), opts.clone())),
            opts,
            decoder,
            buf: FlowBlockBuf::default(),
            cfg: cfg.clone(),
            flows_written: 0,
            flows_unwritten: 0,
            handed: 0,
            credited: 0,
            files_published: 0,
            files_seen: 0,
            unpublished: Vec::new(),
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
                Ok(batch) => {
                    for msg in self.handle_batch(&batch, counters) {
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
                self.save_templates(false);
                last_flush = Instant::now();
            }
            if last_stats.elapsed() >= self.cfg.stats_every {
                let mut s = self.stats();
                fill_receiver_stats(&mut s, counters, inode);
                self.log_untold_scopes();
                (self.log)(&format!("stats: {s}"));
                malformed_reported = 0;
                last_stats = Instant::now();
            }
        }
        Ok(())
    }

    /// Decodes and writes a batch of datagrams; returns a report line for each malformed one.
    fn handle_batch(&mut self, batch: &Received, counters: &ReceiverCounters) -> Vec<String> {
        let mut reports = Vec::new();
        for &(from, start, end) in &batch.items {
            let d = &batch.data[start..end];
            reports.extend(self.handle(from, batch.recv_ms, d));
        }
        counters
            .queued
            .fetch_sub(batch.items.len() as u64, Ordering::AcqRel);
        counters
            .queued_bytes
            .fetch_sub(batch.data.len() as u64, Ordering::AcqRel);
        reports
    }

    /// Decodes and writes one datagram; returns report lines when it was malformed or held
    /// flows with untrustworthy times.
    fn handle(&mut self, from: SocketAddr, recv_ms: i64, data: &[u8]) -> Vec<String> {
        self.buf.clear();
        let res = self.decoder.decode(data, from, recv_ms, &mut self.buf);
        if let Some(u) = self.decoder.exporter_usage(from) {
            self.peak_usage = self.peak_usage.max(u);
        }
        self.log_new_scopes();
        let bad_times = self.decoder.last_bad_times();
        let bad_times = (bad_times > 0).then(|| {
            format!(
                "datagram from {from}: {bad_times} flows with times before 1990 or over two days \
                 after the export time (kept, counted as bad times)"
            )
        });
        let report = res.err().map(|e| {
            format!(
                "datagram of {} bytes from {}: {e}{}",
                data.len(),
                from,
                if self.buf.is_empty() {
                    String::new()
                } else {
                    format!(" ({} flows before the damage kept)", self.buf.len())
                }
            )
        });
        if !self.buf.is_empty() {
            self.write(recv_ms);
        }
        report.into_iter().chain(bad_times).collect()
    }

    fn write(&mut self, t_ms: i64) {
        let n = self.buf.len() as u64;
        if self.files.is_none() {
            // After a write error: try again with new files, but not before the retry time.
            if now_ms() < self.retry_at_ms {
                self.flows_unwritten += n;
                return;
            }
            self.publish_recovered();
            self.files = Some(RotatingWriter::new(self.layout.clone(), self.opts.clone()));
            (self.handed, self.credited, self.files_seen) = (0, 0, 0);
        }
        let w = self.files.as_mut().expect("set above");
        self.handed += n;
        let res = w
            .write(t_ms, &self.buf.view(), None)
            .and_then(|_| w.limit_open(self.cfg.max_open_files));
        self.count_published();
        if let Err(e) = res {
            self.fail(&e);
        }
    }

    /// Counts the files the current writer published since the last call.
    fn count_published(&mut self) {
        if let Some(w) = &self.files {
            let n = w.published().len();
            self.files_published += (n - self.files_seen) as u64;
            self.files_seen = n;
        }
    }

    /// Tries again to finish and publish the files a write error left unfinished.
    fn publish_recovered(&mut self) {
        for tmp in std::mem::take(&mut self.unpublished) {
            match recover_file(&tmp, true) {
                Ok(r) if r.error.is_some() => self.unpublished.push(tmp),
                Ok(r) => {
                    self.files_published += r.published.is_some() as u64;
                    (self.log)(&format!("unfinished file recovered: {r}"));
                }
                Err(why) => (self.log)(&format!("{}: {why}", tmp.display())),
            }
        }
    }

    /// Everything given to the files so far has reached the operating system.
    fn durable(&mut self) {
        self.flows_written += self.handed - self.credited;
        self.credited = self.handed;
        if self.write_failing {
            (self.log)("writing works again; collection resumed");
            self.write_failing = false;
        }
    }

    /// Gives up the open files after a write error and recovers them at once (every whole
    /// block kept, the file finished and published; see `archive::recover`), so the counters
    /// are exact: the flows of the current files are written when in a published file or a kept
    /// block, unwritten otherwise. Reports once until writing works again. New files are tried
    /// from the next flush interval on.
    fn fail(&mut self, e: &io::Error) {
        self.retry_at_ms = now_ms() + self.cfg.flush_every.as_millis().max(1000) as i64;
        self.count_published();
        let Some(w) = self.files.take() else {
            return;
        };
        let mut kept: u64 = w.published().iter().map(|(_, s)| s.flows).sum();
        let mut lines = Vec::new();
        for tmp in w.abandon() {
            match recover_file(&tmp, true) {
                Ok(r) => {
                    kept += r.flows;
                    self.files_published += r.published.is_some() as u64;
                    if r.error.is_some() {
                        self.unpublished.push(tmp);
                    }
                    if r.blocks > 0 {
                        lines.push(r.to_string());
                    }
                }
                Err(why) => lines.push(format!("{}: {why}", tmp.display())),
            }
        }
        // Every flow given to these files is now in a published file or a kept block, or lost.
        let kept = kept.min(self.handed);
        self.flows_written = self.flows_written - self.credited + kept;
        self.flows_unwritten += self.handed - kept;
        (self.handed, self.credited, self.files_seen) = (0, 0, 0);
        if !self.write_failing {
            (self.log)(&format!(
                "write error: {e}; flows are being lost (and counted) until it clears"
            ));
        }
        for l in lines {
            (self.log)(&format!("unfinished file recovered: {l}"));
        }
        self.write_failing = true;
        // A full disk: expiry may free room for the next try.
        self.expire();
    }

    fn rotate(&mut self, now: i64) {
        let res = match self.files.as_mut() {
            Some(w) => w.close_before(now),
            None => return,
        };
        let before = self.files_published;
        self.count_published();
        if let Err(e) = res {
            self.fail(&e);
        } else if self.files_published > before {
            self.expire();
        }
    }

    /// Deletes the oldest files when the tree is over the expiry limits.
    fn expire(&mut self) {
        if !self.cfg.expire.is_set() {
            return;
        }
        let log = &mut *self.log;
        match expire_tree(&self.layout.root, self.cfg.expire, log) {
            Ok(s) if s.deleted > 0 => (self.log)(&s.to_string()),
            Ok(_) => {}
            Err(e) => (self.log)(&format!("expiry: {}: {e}", self.layout.root.display())),
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
            flows_pending: self.handed - self.credited,
            files: self.files_published,
            decode: self.decoder.stats(),
            per_exporter: self
                .decoder
                .exporter_stats()
                .map(|(a, s)| (a, *s))
                .collect(),
            exporters: self.decoder.exporters(),
            peak_usage: self.peak_usage,
            memory: self.decoder.memory(),
            ..CollectorStats::default()
        }
    }

    /// Publishes every open file; returns the final counters and the write error, if any, that
    /// kept a file from being published (its flows are then counted as unwritten).
    fn finish(&mut self) -> (CollectorStats, Option<io::Error>) {
        self.log_untold_scopes();
        self.save_templates(true);
        self.decoder.drop_held();
        let mut err = None;
        // No files: writing was still failing, and nothing is open.
        if let Some(res) = self.files.as_mut().map(|w| w.close_before(i64::MAX)) {
            self.count_published();
            match res {
                Ok(_) => self.durable(),
                Err(e) => {
                    (self.log)(&format!("write error while closing files: {e}"));
                    self.fail(&e);
                    err = Some(e);
                }
            }
        }
        if !self.unpublished.is_empty() {
            self.publish_recovered();
        }
        self.expire();
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

/// Whether a receive ended only because its timeout passed or a signal came (the loop then
/// checks its stop flag and waits again), not for a fault.
pub(crate) fn quiet_wake(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}
