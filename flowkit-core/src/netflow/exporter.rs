//! An exporter on the wire, simulated: flows put into the order an exporter sends them (as
//! they end), grouped into datagrams as they fill, and written into a pcap as UDP packets from
//! an exporter to a collector on loopback. flow-gen writes its pcaps with [`PcapExporter`];
//! flow-send keeps its rate with [`Pacer`].

use super::encode::{ExportEncoder, ExportError, ExportVersion};
use crate::model::record::FlowRecord;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddrV4};

/// Flows in start-time order in, export datagrams in a pcap out, as a real exporter would send
/// them: each flow waits in the "cache" until it ends, ended flows fill a datagram until the
/// next would not fit, and each datagram's export time is a second after its last flow ended.
pub struct PcapExporter<W: Write> {
    encoder: ExportEncoder,
    writer: PcapDatagramWriter<W>,
    /// Flows waiting until they end, as in an exporter's cache.
    active: EndOrder,
    /// Ended flows, in end order, waiting to fill a datagram.
    ended: Vec<FlowRecord>,
    datagram: Vec<u8>,
}

/// Why a [`PcapExporter`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum PcapExportError {
    /// A flow cannot be encoded in this export version.
    #[error("{0}")]
    Encode(#[from] ExportError),
    /// Writing the pcap failed.
    #[error("{0}")]
    Write(#[from] std::io::Error),
}

impl<W: Write> PcapExporter<W> {
    /// An exporter of `version` that booted at `boot_ms`, writing to `out` (the pcap header is
    /// written here) from [`loopback_endpoints`].
    pub fn new(version: ExportVersion, boot_ms: i64, out: W) -> std::io::Result<Self> {
        let (from, to) = loopback_endpoints();
        Ok(PcapExporter {
            encoder: ExportEncoder::new(version, boot_ms),
            writer: PcapDatagramWriter::new(out, from, to)?,
            active: EndOrder::default(),
            ended: Vec::new(),
            datagram: Vec::new(),
        })
    }

    /// Takes the next flow (in start-time order); exports the datagrams it completes.
    pub fn push(&mut self, r: FlowRecord) -> Result<(), PcapExportError> {
        self.active.push(r, &mut self.ended);
        self.export_full()
    }

    /// Exports every full datagram's worth of ended flows: a datagram leaves when the next
    /// ended flow would not fit in it, as an exporter fills its packets.
    fn export_full(&mut self) -> Result<(), PcapExportError> {
        let mut sent = 0;
        loop {
            let take = self.encoder.fitting(&self.ended[sent..]);
            if take == self.ended.len() - sent {
                break;
            }
            self.export(sent..sent + take)?;
            sent += take;
        }
        self.ended.drain(..sent);
        Ok(())
    }

    /// Exports the flows still held, flushes, and hands back the writer.
    pub fn finish(mut self) -> Result<W, PcapExportError> {
        self.active.drain(&mut self.ended);
        self.export_full()?;
        if !self.ended.is_empty() {
            self.export(0..self.ended.len())?;
            self.ended.clear();
        }
        let mut w = self.writer.into_inner();
        w.flush()?;
        Ok(w)
    }

    /// Exports flows `range` of the ended ones as one datagram, a second after the last ended
    /// (so export times rise, as a real exporter's do).
    fn export(&mut self, range: std::ops::Range<usize>) -> Result<(), PcapExportError> {
        let flows = &self.ended[range];
        let export_ms = flows.iter().map(|f| f.end_ms).max().unwrap_or(0) + 1000;
        self.encoder.encode(flows, export_ms, &mut self.datagram)?;
        self.writer.write(export_ms, &self.datagram)?;
        Ok(())
    }
}

/// Puts flows that arrive in start-time order into the order an exporter sends them: as they
/// end. A flow is released once a flow starting after its end has been seen (the exporter's
/// clock has passed its end), so memory holds only the flows still "active".
#[derive(Default)]
pub struct EndOrder {
    heap: std::collections::BinaryHeap<std::cmp::Reverse<Ended>>,
    seq: u64,
}

/// A flow waiting in [`EndOrder`], ordered by end time (then arrival).
struct Ended {
    end_ms: i64,
    seq: u64,
    flow: FlowRecord,
}

impl PartialEq for Ended {
    fn eq(&self, o: &Self) -> bool {
        (self.end_ms, self.seq) == (o.end_ms, o.seq)
    }
}
impl Eq for Ended {}
impl PartialOrd for Ended {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ended {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.end_ms, self.seq).cmp(&(o.end_ms, o.seq))
    }
}

impl EndOrder {
    /// Adds a flow (flows must come in start-time order) and moves every flow that ended
    /// before it started to `out`, in end order.
    pub fn push(&mut self, flow: FlowRecord, out: &mut Vec<FlowRecord>) {
        let now = flow.start_ms;
        self.heap.push(std::cmp::Reverse(Ended {
            end_ms: flow.end_ms,
            seq: self.seq,
            flow,
        }));
        self.seq += 1;
        while self.heap.peek().is_some_and(|e| e.0.end_ms < now) {
            out.push(self.heap.pop().expect("peeked").0.flow);
        }
    }

    /// Moves every remaining flow to `out`, in end order.
    pub fn drain(&mut self, out: &mut Vec<FlowRecord>) {
        while let Some(e) = self.heap.pop() {
            out.push(e.0.flow);
        }
    }
}

/// Writes UDP datagrams into a pcap file as Ethernet/IPv4/UDP frames between two loopback
/// endpoints, so the capture can be imported or replayed like one taken with tcpdump.
pub struct PcapDatagramWriter<W: Write> {
    pcap: pcap_file::pcap::PcapWriter<W>,
    from: SocketAddrV4,
    to: SocketAddrV4,
    frame: Vec<u8>,
    ip_id: u16,
}

impl<W: Write> PcapDatagramWriter<W> {
    /// Starts a pcap (Ethernet link type, microsecond times) on `out`.
    pub fn new(out: W, from: SocketAddrV4, to: SocketAddrV4) -> std::io::Result<Self> {
        let header = pcap_file::pcap::PcapHeader {
            endianness: pcap_file::Endianness::Little,
            ..Default::default()
        };
        let pcap = pcap_file::pcap::PcapWriter::with_header(out, header).map_err(pcap_io)?;
        Ok(PcapDatagramWriter {
            pcap,
            from,
            to,
            frame: Vec::with_capacity(1600),
            ip_id: 0,
        })
    }

    /// Sends the following datagrams from `from` (e.g. a second exporter behind one address).
    pub fn set_from(&mut self, from: SocketAddrV4) {
        self.from = from;
    }

    /// Appends one datagram captured at `time_ms` (UTC).
    pub fn write(&mut self, time_ms: i64, payload: &[u8]) -> std::io::Result<()> {
        let f = &mut self.frame;
        f.clear();
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
        let total = (20 + 8 + payload.len()) as u16;
        let ip_start = f.len();
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&self.ip_id.to_be_bytes());
        f.extend_from_slice(&[0x40, 0, 64, 17, 0, 0]); // DF, TTL 64, UDP, checksum below
        f.extend_from_slice(&self.from.ip().octets());
        f.extend_from_slice(&self.to.ip().octets());
        let sum = ipv4_checksum(&f[ip_start..ip_start + 20]);
        f[ip_start + 10..ip_start + 12].copy_from_slice(&sum.to_be_bytes());
        f.extend_from_slice(&self.from.port().to_be_bytes());
        f.extend_from_slice(&self.to.port().to_be_bytes());
        f.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]); // no UDP checksum (allowed over IPv4)
        f.extend_from_slice(payload);
        self.ip_id = self.ip_id.wrapping_add(1);
        let ts = std::time::Duration::from_millis(time_ms.max(0) as u64);
        let packet = pcap_file::pcap::PcapPacket::new(ts, f.len() as u32, f);
        self.pcap.write_packet(&packet).map_err(pcap_io)?;
        Ok(())
    }

    /// Finishes and returns the underlying writer.
    pub fn into_inner(self) -> W {
        self.pcap.into_writer()
    }
}

fn pcap_io(e: pcap_file::PcapError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]) as u32)
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Default endpoints of generated captures: an exporter on 127.0.0.1:40000 sending to 2055.
pub fn loopback_endpoints() -> (SocketAddrV4, SocketAddrV4) {
    (
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, 40000),
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, 2055),
    )
}

/// Keeps a sender to a rate: after `n` items it waits until `n / rate` seconds have passed since
/// it was made (no wait when the rate is 0, or when less than a millisecond ahead: finer sleeps
/// cost more than they pace). Computed from the start, not item by item, so no drift builds up.
pub struct Pacer {
    start: std::time::Instant,
    per_second: f64,
}

impl Pacer {
    /// A pacer of `per_second` items (0: as fast as possible), starting now.
    pub fn new(per_second: f64) -> Pacer {
        Pacer {
            start: std::time::Instant::now(),
            per_second,
        }
    }

    /// Waits until the `n`th item is due.
    pub fn wait_for(&self, n: u64) {
        if self.per_second <= 0.0 {
            return;
        }
        let due = std::time::Duration::from_secs_f64(n as f64 / self.per_second);
        if let Some(wait) = due.checked_sub(self.start.elapsed()) {
            if wait > std::time::Duration::from_millis(1) {
                std::thread::sleep(wait);
            }
        }
    }
}
