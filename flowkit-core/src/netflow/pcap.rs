//! Reading export packets from pcap and pcapng captures: UDP payloads with their source
//! address and capture time.
//!
//! File framing is `pcap-file`'s slice parsers (so errors can name the byte offset); the link,
//! IP and UDP headers are read here (Ethernet with 802.1Q/802.1ad tags, Linux cooked SLL and
//! SLL2, raw IP, BSD null/loopback; IPv4 and IPv6; UDP on any port). Frames that are not UDP,
//! IP fragments (not reassembled) and frames cut short by the snap length are counted and
//! skipped. A capture that ends in the middle of a packet, or whose framing is corrupt, is an
//! error naming the packet number; the packets before it have been delivered.

use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::{PcapError, TsResolution};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

/// One UDP datagram found in a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// Packet number in the capture, from 1 (as Wireshark numbers frames).
    pub packet: u64,
    /// Capture time, UTC ms.
    pub ts_ms: i64,
    /// Sender (the exporter).
    pub src: SocketAddr,
    /// Receiver (the collector).
    pub dst: SocketAddr,
    /// The UDP payload.
    pub payload: &'a [u8],
}

/// What a capture held besides UDP datagrams.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Packets (frames) read.
    pub packets: u64,
    /// UDP datagrams delivered.
    pub udp: u64,
    /// IP packets that are not UDP.
    pub not_udp: u64,
    /// Of `not_udp`, the TCP segments (to say what a capture of traffic, not exports, holds).
    pub tcp: u64,
    /// Frames of an unknown link type or non-IP protocol, or with broken headers.
    pub undecodable: u64,
    /// IP fragments (not reassembled).
    pub fragments: u64,
    /// UDP datagrams cut short by the capture's snap length.
    pub truncated: u64,
}

impl CaptureStats {
    /// Adds `o`'s counts to these (totals over several captures).
    pub fn add(&mut self, o: &CaptureStats) {
        self.packets += o.packets;
        self.udp += o.udp;
        self.not_udp += o.not_udp;
        self.tcp += o.tcp;
        self.undecodable += o.undecodable;
        self.fragments += o.fragments;
        self.truncated += o.truncated;
    }
}

impl fmt::Display for CaptureStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} packets, {} UDP datagrams, {} not UDP, {} undecodable, {} fragments, {} cut short",
            self.packets, self.udp, self.not_udp, self.undecodable, self.fragments, self.truncated
        )
    }
}

/// Why a capture could not be read (further).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// Opening or reading the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file starts with neither a pcap nor a pcapng header.
    #[error("{path}: not a pcap or pcapng capture ({why})")]
    NotCapture {
        /// The file.
        path: String,
        /// What the parser said.
        why: String,
    },
    /// The capture is cut off or corrupt at a packet.
    #[error("{path}: packet {packet} (byte {offset}): {what}")]
    Corrupt {
        /// The file.
        path: String,
        /// Number of the packet that could not be read.
        packet: u64,
        /// Byte offset of its record in the file.
        offset: u64,
        /// What is wrong.
        what: String,
    },
}

enum Format {
    Pcap {
        parser: PcapParser,
        linktype: u32,
        nanos: bool,
    },
    PcapNg {
        parser: PcapNgParser,
    },
}

/// The bytes of a capture: a window onto the file, read with `read` as the reader moves on (so a
/// capture of gigabytes costs a fixed buffer), or owned whole (gunzipped, or given by a caller).
///
/// Read, not mapped: mapped, the resident part of a capture depended on the page cache's folio
/// sizes (15 to 30 MiB at 30 M flows while the step handing pages back was 8 MiB, 115 MiB with
/// a 2 MiB step), and each first touch of a page was a fault.
enum CaptureBytes {
    Owned(Vec<u8>),
    Window(Window),
}

/// Bytes `base..base + buf.len()` of a capture file.
struct Window {
    file: std::fs::File,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    base: u64,
    /// The file's length when opened.
    opened_len: u64,
    /// The end of the file has been read.
    eof: bool,
}

impl std::ops::Deref for CaptureBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            CaptureBytes::Owned(v) => v,
            CaptureBytes::Window(w) => &w.buf,
        }
    }
}

/// Bytes a window holds after a refill: few read calls, and small enough to stay in the
/// processor's cache.
const WINDOW: usize = 1 << 20;
/// Longest packet record read (the usual snap length is 256 KiB): bounds the window grown for a
/// record whose length field is corrupt.
const MAX_RECORD: usize = 16 << 20;

impl CaptureBytes {
    /// File offset of the window's first byte (0 for owned bytes).
    fn base(&self) -> u64 {
        match self {
            CaptureBytes::Owned(_) => 0,
            CaptureBytes::Window(w) => w.base,
        }
    }

    /// No more bytes can come: everything is owned, or the file's end has been read.
    fn at_end(&self) -> bool {
        match self {
            CaptureBytes::Owned(_) => true,
            CaptureBytes::Window(w) => w.eof,
        }
    }

    /// Makes the bytes from `pos` on the start of the window and reads until it holds `want`
    /// bytes or the file ends; returns the new position of `pos` (0), or `pos` unchanged for
    /// owned bytes.
    fn refill(&mut self, pos: usize, want: usize) -> std::io::Result<usize> {
        let CaptureBytes::Window(w) = self else {
            return Ok(pos);
        };
        w.buf.drain(..pos);
        w.base += pos as u64;
        if w.buf.len() < want && !w.eof {
            // Into the buffer's spare capacity, which is not zeroed first.
            let need = (want - w.buf.len()) as u64;
            use std::io::Read;
            let got = (&w.file).take(need).read_to_end(&mut w.buf)?;
            w.eof = (got as u64) < need;
        }
        Ok(0)
    }
}

/// Reads the UDP datagrams of one capture file, in file order.
pub struct CaptureReader {
    name: String,
    bytes: CaptureBytes,
    pos: usize,
    format: Format,
    packet: u64,
    done: bool,
    /// Counts of what was read and skipped.
    pub stats: CaptureStats,
}

impl CaptureReader {
    /// Opens a capture file (pcap or pcapng, either byte order, µs or ns timestamps).
    pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
        let name = path.display().to_string();
        let io_err = |source| CaptureError::Io {
            path: name.clone(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(io_err)?;
        let mut magic = [0u8; 2];
        let gz = crate::archive::reader::read_full(&mut &file, &mut magic).map_err(io_err)? == 2
            && magic == [0x1f, 0x8b];
        std::io::Seek::rewind(&mut file).map_err(io_err)?;
        if gz {
            // A gzipped capture (as tcpdump -w - | gzip makes, and as testdata/ keeps them).
            let mut plain = Vec::new();
            let file = std::fs::File::open(path).map_err(io_err)?;
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(file), &mut plain)
                .map_err(io_err)?;
            return CaptureReader::from_bytes(&name, plain);
        }
        let opened_len = file.metadata().map_err(io_err)?.len();
        let mut bytes = CaptureBytes::Window(Window {
            file,
            buf: Vec::with_capacity(WINDOW),
            base: 0,
            opened_len,
            eof: false,
        });
        bytes.refill(0, WINDOW).map_err(io_err)?;
        CaptureReader::from_parts(&name, bytes)
    }

    /// Reads a capture held in memory; `name` is used in messages.
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<CaptureReader, CaptureError> {
        CaptureReader::from_parts(name, CaptureBytes::Owned(bytes))
    }

    fn from_parts(name: &str, bytes: CaptureBytes) -> Result<CaptureReader, CaptureError> {
        let not = |e: PcapError| CaptureError::NotCapture {
            path: name.to_string(),
            why: e.to_string(),
        };
        let is_ng = bytes.get(..4) == Some(&[0x0A, 0x0D, 0x0D, 0x0A]);
        let (format, pos) = if is_ng {
            let (rest, parser) = PcapNgParser::new(&bytes).map_err(not)?;
            (Format::PcapNg { parser }, bytes.len() - rest.len())
        } else {
            let (rest, parser) = PcapParser::new(&bytes).map_err(not)?;
            let h = parser.header();
            let format = Format::Pcap {
                linktype: u32::from(h.datalink),
                nanos: h.ts_resolution == TsResolution::NanoSecond,
                parser,
            };
            (format, bytes.len() - rest.len())
        };
        Ok(CaptureReader {
            name: name.to_string(),
            bytes,
            pos,
            format,
            packet: 0,
            done: false,
            stats: CaptureStats::default(),
        })
    }

    /// The file name given when opening.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next UDP datagram, `Ok(None)` at the end, or an error for a capture cut off or
    /// corrupt at a packet (after which the reader is finished).
    pub fn next_datagram(&mut self) -> Result<Option<Datagram<'_>>, CaptureError> {
        loop {
            if !self.done && self.pos >= self.bytes.len() && !self.bytes.at_end() {
                self.pos = self.refill(self.pos, WINDOW)?;
                continue;
            }
            if self.done || self.pos >= self.bytes.len() {
                if !self.done {
                    self.done = true;
                    self.check_shrunk(self.bytes.base() + self.pos as u64)?;
                }
                return Ok(None);
            }
            let start = self.pos;
            let rest = &self.bytes[start..];
            let frame = match &mut self.format {
                Format::Pcap {
                    parser,
                    linktype,
                    nanos,
                } => match parser.next_raw_packet(rest) {
                    Ok((rem, p)) => {
                        let frac_ms = if *nanos {
                            p.ts_frac as i64 / 1_000_000
                        } else {
                            p.ts_frac as i64 / 1_000
                        };
                        let ts_ms = p.ts_sec as i64 * 1000 + frac_ms;
                        let range = data_range(rest, &p.data);
                        Ok(Some((rem.len(), *linktype, ts_ms, range)))
                    }
                    Err(e) => Err(e),
                },
                Format::PcapNg { parser } => match parser.next_block(rest) {
                    Ok((rem, block)) => {
                        let found = match &block {
                            Block::EnhancedPacket(p) => {
                                let iface = parser.interfaces().get(p.interface_id as usize);
                                iface.map(|i| {
                                    let units = ts_units_per_sec(&i.options);
                                    let raw = p.timestamp.as_nanos();
                                    let ms = (raw * 1000 / units) as i64;
                                    (u32::from(i.linktype), ms, data_range(rest, &p.data))
                                })
                            }
                            Block::SimplePacket(p) => parser
                                .interfaces()
                                .first()
                                .map(|i| (u32::from(i.linktype), 0, data_range(rest, &p.data))),
                            _ => None,
                        };
                        let is_packet = matches!(
                            block,
                            Block::EnhancedPacket(_) | Block::SimplePacket(_) | Block::Packet(_)
                        );
                        match found {
                            Some((lt, ms, range)) => Ok(Some((rem.len(), lt, ms, range))),
                            None => {
                                let rem_len = rem.len();
                                if is_packet {
                                    // A packet block whose interface is not described.
                                    self.packet += 1;
                                    self.stats.packets += 1;
                                    self.stats.undecodable += 1;
                                }
                                self.pos = self.bytes.len() - rem_len;
                                continue;
                            }
                        }
                    }
                    Err(e) => Err(e),
                },
            };
            let frame = match frame {
                Ok(f) => f,
                // A record running past the window: the window moves on to start at it and is
                // filled again, grown for a record longer than it (a corrupt length that would
                // need more than MAX_RECORD is the capture's corruption). Only the record's
                // partial bytes are moved, not a margin kept ahead of every packet.
                Err(PcapError::IncompleteBuffer)
                    if !self.bytes.at_end() && self.bytes.len() - start < MAX_RECORD =>
                {
                    let want = (2 * (self.bytes.len() - start)).clamp(WINDOW, MAX_RECORD);
                    self.pos = self.refill(start, want)?;
                    continue;
                }
                Err(PcapError::IncompleteBuffer) if !self.bytes.at_end() => {
                    let at = self.bytes.base() + start as u64;
                    let what = format!("a packet record longer than {MAX_RECORD} bytes (corrupt)");
                    return Err(self.corrupt_with(at, what));
                }
                Err(e) => return Err(self.corrupt(self.bytes.base() + start as u64, e)),
            };
            let Some((rem_len, linktype, ts_ms, (a, b))) = frame else {
                continue;
            };
            self.pos = self.bytes.len() - rem_len;
            self.packet += 1;
            self.stats.packets += 1;
            let data = &self.bytes[start + a..start + b];
            match udp_in_frame(linktype, data) {
                Frame::Udp {
                    src,
                    dst,
                    payload: (pa, pb),
                } => {
                    self.stats.udp += 1;
                    let base = start + a;
                    return Ok(Some(Datagram {
                        packet: self.packet,
                        ts_ms,
                        src,
                        dst,
                        payload: &self.bytes[base + pa..base + pb],
                    }));
                }
                Frame::NotUdp { protocol } => {
                    self.stats.not_udp += 1;
                    self.stats.tcp += u64::from(protocol == 6);
                }
                Frame::Fragment => self.stats.fragments += 1,
                Frame::Truncated => self.stats.truncated += 1,
                Frame::Undecodable => self.stats.undecodable += 1,
            }
        }
    }

    /// Moves the window on to start at `pos` and fills it to `want` bytes (see
    /// [`CaptureBytes::refill`]); returns the new position of `pos`.
    fn refill(&mut self, pos: usize, want: usize) -> Result<usize, CaptureError> {
        let base = self.bytes.base() + pos as u64;
        self.bytes.refill(pos, want).map_err(|source| {
            self.done = true;
            CaptureError::Io {
                path: format!("{} (reading at byte {base})", self.name),
                source,
            }
        })
    }

    /// At the end of what could be read: an error when the file is shorter than when it was
    /// opened (another program truncated it while it was read).
    fn check_shrunk(&mut self, at: u64) -> Result<(), CaptureError> {
        let CaptureBytes::Window(w) = &self.bytes else {
            return Ok(());
        };
        let read_to = w.base + w.buf.len() as u64;
        if !w.eof || read_to >= w.opened_len {
            return Ok(());
        }
        let now = w.file.metadata().map(|m| m.len()).ok();
        self.done = true;
        Err(CaptureError::Corrupt {
            path: self.name.clone(),
            packet: self.packet + 1,
            offset: at.min(read_to),
            what: format!(
                "the file shrank while it was being read ({} bytes when opened, {} now); \
                 the packets before this one were read",
                w.opened_len,
                now.map_or("unknown".to_string(), |n| n.to_string())
            ),
        })
    }

    fn corrupt(&mut self, offset: u64, e: PcapError) -> CaptureError {
        if let Err(shrunk) = self.check_shrunk(offset) {
            return shrunk; // a capture cut by another program is not the capture's corruption
        }
        let what = match e {
            PcapError::IncompleteBuffer => "capture ends in the middle of this packet".to_string(),
            e => e.to_string(),
        };
        self.corrupt_with(offset, what)
    }

    fn corrupt_with(&mut self, offset: u64, what: String) -> CaptureError {
        self.done = true;
        CaptureError::Corrupt {
            path: self.name.clone(),
            packet: self.packet + 1,
            offset,
            what,
        }
    }
}

/// Where `data` (a sub-slice of `within`) sits in it.
fn data_range(within: &[u8], data: &[u8]) -> (usize, usize) {
    let a = data.as_ptr() as usize - within.as_ptr() as usize;
    (a, a + data.len())
}

/// Timestamp units per second of a pcapng interface (if_tsresol; default microseconds).
fn ts_units_per_sec(opts: &[InterfaceDescriptionOption<'_>]) -> u128 {
    for o in opts {
        if let InterfaceDescriptionOption::IfTsResol(r) = o {
            let exp = (*r & 0x7F) as u32;
            return if r & 0x80 != 0 {
                1u128 << exp.min(64)
            } else {
                10u128.pow(exp.min(30))
            };
        }
    }
    1_000_000
}

/// What a frame turned out to be; payload offsets are relative to the frame.
#[derive(Debug, PartialEq, Eq)]
enum Frame {
    Udp {
        src: SocketAddr,
        dst: SocketAddr,
        payload: (usize, usize),
    },
    /// An IP packet of another protocol (its number).
    NotUdp {
        protocol: u8,
    },
    Fragment,
    Truncated,
    Undecodable,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;

fn be16(b: &[u8], o: usize) -> Option<u16> {
    b.get(o..o + 2).map(|x| u16::from_be_bytes([x[0], x[1]]))
}

/// Finds the UDP datagram in a link-layer frame.
fn udp_in_frame(linktype: u32, f: &[u8]) -> Frame {
    let (ip_off, ethertype) = match linktype {
        // Ethernet, with any number of 802.1Q / 802.1ad / QinQ tags.
        1 => {
            let mut off = 12;
            let mut et = match be16(f, off) {
                Some(v) => v,
                None => return Frame::Undecodable,
            };
            while matches!(et, 0x8100 | 0x88A8 | 0x9100) {
                off += 4;
                et = match be16(f, off) {
                    Some(v) => v,
                    None => return Frame::Undecodable,
                };
            }
            (off + 2, Some(et))
        }
        // Linux cooked capture v1: protocol at bytes 14..16 of a 16-byte header.
        113 => (16, be16(f, 14)),
        // Linux cooked capture v2: protocol at bytes 0..2 of a 20-byte header.
        276 => (20, be16(f, 0)),
        // BSD null / OpenBSD loopback: a 4-byte address family; the IP version tells.
        0 | 108 => (4, None),
        // Raw IP (LINKTYPE_RAW, and DLT_RAW's historic 12 and 14), IPv4, IPv6.
        101 | 12 | 14 | 228 | 229 => (0, None),
        _ => return Frame::Undecodable,
    };
    let Some(ip) = f.get(ip_off..) else {
        return Frame::Undecodable;
    };
    let version = ip.first().map(|b| b >> 4);
    match (ethertype, version) {
        (Some(ETHERTYPE_IPV4), Some(4)) | (None, Some(4)) => ipv4(ip, ip_off),
        (Some(ETHERTYPE_IPV6), Some(6)) | (None, Some(6)) => ipv6(ip, ip_off),
        _ => Frame::Undecodable,
    }
}

fn ipv4(ip: &[u8], base: usize) -> Frame {
    if ip.len() < 20 {
        return Frame::Undecodable;
    }
    let ihl = (ip[0] & 0x0F) as usize * 4;
    let total = u16::from_be_bytes([ip[2], ip[3]]) as usize;
    if ihl < 20 || total < ihl {
        return Frame::Undecodable;
    }
    let frag = u16::from_be_bytes([ip[6], ip[7]]);
    if frag & 0x3FFF != 0 {
        return Frame::Fragment;
    }
    if ip[9] != 17 {
        return Frame::NotUdp { protocol: ip[9] };
    }
    let src = IpAddr::V4(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]));
    // Ethernet may pad short frames: the IP total length bounds the datagram.
    let end = total.min(ip.len());
    if ihl > end {
        return Frame::Truncated;
    }
    udp(&ip[..end], ihl, base, src, dst, total > ip.len())
}

fn ipv6(ip: &[u8], base: usize) -> Frame {
    if ip.len() < 40 {
        return Frame::Undecodable;
    }
    let payload_len = u16::from_be_bytes([ip[4], ip[5]]) as usize;
    let src = IpAddr::V6(Ipv6Addr::from(
        <[u8; 16]>::try_from(&ip[8..24]).expect("16"),
    ));
    let dst = IpAddr::V6(Ipv6Addr::from(
        <[u8; 16]>::try_from(&ip[24..40]).expect("16"),
    ));
    let total = 40 + payload_len;
    let cut = total > ip.len();
    let ip = &ip[..total.min(ip.len())];
    let mut next = ip[6];
    let mut off = 40;
    // Walk extension headers to UDP.
    loop {
        match next {
            17 => return udp(ip, off, base, src, dst, cut),
            0 | 43 | 60 => {
                let Some(h) = ip.get(off..off + 2) else {
                    return Frame::Truncated;
                };
                next = h[0];
                off += (h[1] as usize + 1) * 8;
            }
            44 => return Frame::Fragment,
            _ => return Frame::NotUdp { protocol: next },
        }
    }
}

fn udp(ip: &[u8], off: usize, base: usize, src: IpAddr, dst: IpAddr, cut: bool) -> Frame {
    let Some(h) = ip.get(off..off + 8) else {
        return Frame::Truncated;
    };
    let sport = u16::from_be_bytes([h[0], h[1]]);
    let dport = u16::from_be_bytes([h[2], h[3]]);
    let ulen = u16::from_be_bytes([h[4], h[5]]) as usize;
    if ulen < 8 {
        return Frame::Undecodable;
    }
    let start = off + 8;
    let want_end = off + ulen;
    if want_end > ip.len() {
        return if cut {
            Frame::Truncated
        } else {
            Frame::Undecodable
        };
    }
    Frame::Udp {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        payload: (base + start, base + want_end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_udp(payload: &[u8]) -> Vec<u8> {
        let total = 20 + 8 + payload.len();
        let mut p = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            17,
            0,
            0,
        ];
        p.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        let ulen = 8 + payload.len();
        p.extend_from_slice(&[0x08, 0x01, 0x08, 0x02, (ulen >> 8) as u8, ulen as u8, 0, 0]);
        p.extend_from_slice(payload);
        p
    }

    fn ipv6_udp(payload: &[u8]) -> Vec<u8> {
        let ulen = 8 + payload.len();
        // Hop-by-hop extension header before UDP.
        let plen = 8 + ulen;
        let mut p = vec![0x60, 0, 0, 0, (plen >> 8) as u8, plen as u8, 0, 64];
        p.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        p.extend_from_slice(&"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
        p.extend_from_slice(&[17, 0, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[0x08, 0x01, 0x08, 0x02, (ulen >> 8) as u8, ulen as u8, 0, 0]);
        p.extend_from_slice(payload);
        p
    }

    fn payload_of(linktype: u32, frame: &[u8]) -> Option<(SocketAddr, Vec<u8>)> {
        match udp_in_frame(linktype, frame) {
            Frame::Udp { src, payload, .. } => Some((src, frame[payload.0..payload.1].to_vec())),
            _ => None,
        }
    }

    #[test]
    fn every_link_type_reaches_the_udp_payload() {
        let ip4 = ipv4_udp(b"hello");
        let ip6 = ipv6_udp(b"world");
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&[0x81, 0x00, 0, 7, 0x88, 0xA8 - 0x88 + 0x81, 0, 9]);
        // Two tags: 802.1Q then 802.1Q again (0x8100), then IPv4.
        eth[16] = 0x81;
        eth[17] = 0x00;
        eth.extend_from_slice(&[0x08, 0x00]);
        eth.extend_from_slice(&ip4);
        eth.extend_from_slice(&[0, 0, 0, 0]); // Ethernet padding is ignored
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x86, 0xDD]);
        sll.extend_from_slice(&ip6);
        let mut sll2 = vec![0x08, 0x00];
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.extend_from_slice(&ip4);
        let mut null = vec![2, 0, 0, 0];
        null.extend_from_slice(&ip4);
        let v4: SocketAddr = "10.0.0.1:2049".parse().unwrap();
        let v6: SocketAddr = "[2001:db8::1]:2049".parse().unwrap();
        assert_eq!(payload_of(1, &eth), Some((v4, b"hello".to_vec())));
        assert_eq!(payload_of(113, &sll), Some((v6, b"world".to_vec())));
        assert_eq!(payload_of(276, &sll2), Some((v4, b"hello".to_vec())));
        assert_eq!(payload_of(0, &null), Some((v4, b"hello".to_vec())));
        assert_eq!(payload_of(108, &null), Some((v4, b"hello".to_vec())));
        assert_eq!(payload_of(101, &ip6), Some((v6, b"world".to_vec())));
        assert_eq!(payload_of(228, &ip4), Some((v4, b"hello".to_vec())));
    }

    #[test]
    fn non_udp_fragments_and_cut_frames_are_told_apart() {
        let mut tcp = ipv4_udp(b"x");
        tcp[9] = 6;
        assert_eq!(udp_in_frame(101, &tcp), Frame::NotUdp { protocol: 6 });
        let mut frag = ipv4_udp(b"x");
        frag[6] = 0x20; // more fragments
        assert_eq!(udp_in_frame(101, &frag), Frame::Fragment);
        let full = ipv4_udp(b"a longer payload");
        assert_eq!(udp_in_frame(101, &full[..30]), Frame::Truncated);
        assert_eq!(udp_in_frame(101, &[0x45]), Frame::Undecodable);
        assert_eq!(udp_in_frame(147, &full), Frame::Undecodable);
        for cut in 0..full.len() {
            let _ = udp_in_frame(1, &full[..cut]);
            let _ = udp_in_frame(113, &full[..cut]);
        }
    }

    /// Builds a little-endian microsecond pcap of raw-IP frames.
    fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut f = vec![0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0];
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&65535u32.to_le_bytes());
        f.extend_from_slice(&101u32.to_le_bytes());
        for (i, fr) in frames.iter().enumerate() {
            f.extend_from_slice(&(1_289_311_200 + i as u32).to_le_bytes());
            f.extend_from_slice(&250_000u32.to_le_bytes());
            f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
            f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
            f.extend_from_slice(fr);
        }
        f
    }

    /// A capture's datagrams (packet number, time, payload), the error that ended it, its counts.
    type ReadAll = (Vec<(u64, i64, Vec<u8>)>, Option<String>, CaptureStats);

    /// Every datagram of `r`, with its packet number and time, and the error that ended it.
    fn read_all(mut r: CaptureReader) -> ReadAll {
        let mut got = Vec::new();
        loop {
            match r.next_datagram() {
                Ok(Some(d)) => got.push((d.packet, d.ts_ms, d.payload.to_vec())),
                Ok(None) => return (got, None, r.stats),
                Err(e) => return (got, Some(e.to_string()), r.stats),
            }
        }
    }

    fn file_with(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c.pcap");
        std::fs::write(&p, bytes).unwrap();
        (d, p)
    }

    /// A file read through its window gives what the same bytes give held whole, across many
    /// refills, with packets of every size up to 64 KiB straddling the window's ends.
    #[test]
    fn a_capture_read_through_the_window_reads_as_held_whole() {
        let frames: Vec<Vec<u8>> = (0..400u32)
            .map(|i| ipv4_udp(&vec![i as u8; (i as usize * 7919) % 65_000]))
            .collect();
        let bytes = pcap(&frames);
        assert!(bytes.len() > 8 * WINDOW);
        let (_d, p) = file_with(&bytes);
        let whole = read_all(CaptureReader::from_bytes("c", bytes.clone()).unwrap());
        let windowed = read_all(CaptureReader::open(&p).unwrap());
        assert_eq!(whole.0.len(), 400);
        assert_eq!(windowed, whole);
        // Cut inside the last packet: the same error, with the same byte offset, either way.
        let cut = &bytes[..bytes.len() - 10];
        let (_d2, p2) = file_with(cut);
        let whole = read_all(CaptureReader::from_bytes("c", cut.to_vec()).unwrap());
        let windowed = read_all(CaptureReader::open(&p2).unwrap());
        assert_eq!(windowed.0, whole.0);
        let (a, b) = (whole.1.unwrap(), windowed.1.unwrap());
        assert!(
            a.contains("packet 400 (byte ") && a.contains("ends in the middle"),
            "{a}"
        );
        assert_eq!(a.split(':').nth(1), b.split(':').nth(1), "{a} / {b}");
    }

    /// A record longer than the window is read by growing it; one whose length field asks for
    /// more than any capture holds is reported as corrupt, with its offset, not read.
    #[test]
    fn long_records_grow_the_window_and_absurd_ones_are_corrupt() {
        let big = vec![0x45; 3 * WINDOW]; // a 3 MiB frame: read, counted, not UDP
        let bytes = pcap(&[ipv4_udp(b"before"), big, ipv4_udp(b"after")]);
        let (_d, p) = file_with(&bytes);
        let (got, err, stats) = read_all(CaptureReader::open(&p).unwrap());
        assert_eq!(err, None);
        let payloads: Vec<&[u8]> = got.iter().map(|g| &g.2[..]).collect();
        assert_eq!(payloads, [&b"before"[..], b"after"]);
        assert_eq!((stats.packets, stats.udp), (3, 2));

        // Record 2's length field corrupted to 4 GiB: in a file that ends first, the capture ends
        // in the middle of it; in a file longer than MAX_RECORD, it is too long to be a packet.
        let second = 24 + 16 + 31;
        for (tail, what) in [
            (4 * WINDOW, "capture ends in the middle of this packet"),
            (MAX_RECORD + WINDOW, "longer than"),
        ] {
            let mut bytes = pcap(&[ipv4_udp(b"one"), ipv4_udp(b"two"), vec![0; tail]]);
            bytes[second + 8..second + 12].copy_from_slice(&u32::MAX.to_le_bytes());
            let (_d, p) = file_with(&bytes);
            let (got, err, _) = read_all(CaptureReader::open(&p).unwrap());
            assert_eq!(got.len(), 1);
            let err = err.unwrap();
            assert!(err.contains(&format!("packet 2 (byte {second})")), "{err}");
            assert!(err.contains(what), "{err}");
        }
    }

    #[test]
    fn pcap_numbers_packets_and_reports_a_cut_file() {
        let mut tcp = ipv4_udp(b"x");
        tcp[9] = 6;
        let bytes = pcap(&[ipv4_udp(b"one"), tcp, ipv4_udp(b"three")]);
        let mut r = CaptureReader::from_bytes("t.pcap", bytes.clone()).unwrap();
        let d = r.next_datagram().unwrap().unwrap();
        assert_eq!(
            (d.packet, d.ts_ms, d.payload),
            (1, 1_289_311_200_250, &b"one"[..])
        );
        let d = r.next_datagram().unwrap().unwrap();
        assert_eq!((d.packet, d.payload), (3, &b"three"[..]));
        assert!(r.next_datagram().unwrap().is_none());
        assert_eq!(r.stats.not_udp, 1);

        let mut r = CaptureReader::from_bytes("t.pcap", bytes[..bytes.len() - 3].to_vec()).unwrap();
        assert_eq!(r.next_datagram().unwrap().unwrap().packet, 1);
        let err = r.next_datagram().unwrap_err().to_string();
        assert!(err.contains("t.pcap: packet 3"), "{err}");
        assert!(r.next_datagram().unwrap().is_none());
        // Any cut point gives packets, then at most one error, never a panic.
        for cut in 0..bytes.len() {
            if let Ok(mut r) = CaptureReader::from_bytes("t", bytes[..cut].to_vec()) {
                while let Ok(Some(_)) = r.next_datagram() {}
            }
        }
        assert!(CaptureReader::from_bytes("t", b"not a capture at all".to_vec()).is_err());
    }
}
