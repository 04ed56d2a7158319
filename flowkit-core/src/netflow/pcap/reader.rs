//! The capture reader: pcap and pcapng file framing (`pcap-file`'s slice parsers), packet
//! numbers and times, and the errors naming where a capture is cut off or corrupt.

use super::frame::{udp_in_frame, Frame};
use super::window::{CaptureBytes, Window, MAX_RECORD, WINDOW};
use super::{CaptureError, CaptureStats, Datagram};
use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::{PcapError, TsResolution};
use std::path::Path;

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
        let gz = crate::model::io::read_full(&mut &file, &mut magic).map_err(io_err)? == 2
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
