//! Reading flow-tools files and streams (what flow-capture writes and flow-cat pipes), so years of
//! existing flow-tools archives can be read beside our own.
//!
//! Supported: stream versions 1 (fixed 360-byte header) and 3 (TLV header), either byte order,
//! zlib-compressed or not, record (export) versions 1, 5, 6, 7 and 1005. The v8 aggregation records
//! are refused with a clear error. Times are made absolute from each record's export-packet time and
//! sysUpTime; unlike flow-tools, a sysUpTime that wrapped (every 49.7 days) is handled.
//! [`writer`] writes v5 files and streams that flow-tools reads.
//!
//! The layout is documented in flow-tools' `lib/ftlib.h`/`lib/ftio.c` and summarised in
//! docs/archive-format.md; this is an independent reading of it.

use crate::archive::ArchiveError;
use crate::model::block::FlowBlockBuf;
use crate::model::record::FlowRecord;
use std::io::{BufRead, Read};
use std::net::{IpAddr, Ipv4Addr};

/// First byte of every flow-tools file.
pub const MAGIC1: u8 = 0xCF;
/// Second byte of every flow-tools file.
pub const MAGIC2: u8 = 0x10;

/// Header flag: the writer finished the file.
pub const FLAG_DONE: u32 = 0x1;
/// Header flag: records are one zlib stream.
pub const FLAG_COMPRESS: u32 = 0x2;

/// Largest header we accept; real ones are under a few kilobytes (interface-name TLVs included).
const MAX_HEADER_LEN: u32 = 1 << 20;
/// Length of a stream-version-1 header.
const V1_HEADER_LEN: usize = 360;

/// What a flow-tools header says about its file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowToolsHeader {
    /// Records (and header fields) are big-endian.
    pub big_endian: bool,
    /// Stream format version (1 or 3).
    pub stream_version: u8,
    /// Record (NetFlow export) version: 1, 5, 6, 7, 8 or 1005.
    pub export_version: u16,
    /// v8 aggregation method, when `export_version` is 8.
    pub agg_method: u8,
    /// Header flags (`FLAG_*`).
    pub flags: u32,
    /// Capture start, Unix seconds, when recorded.
    pub cap_start: Option<u32>,
    /// Capture end, Unix seconds, when recorded.
    pub cap_end: Option<u32>,
    /// Flow count, when recorded (not in streams).
    pub flows: Option<u32>,
    /// Flows the collector counted as lost.
    pub lost_flows: Option<u32>,
    /// Name of the capturing host.
    pub hostname: Option<String>,
    /// Free-text comments.
    pub comments: Option<String>,
    /// Bytes of header before the records.
    pub header_len: usize,
}

impl FlowToolsHeader {
    /// True when the records are one zlib stream.
    pub fn is_compressed(&self) -> bool {
        self.flags & FLAG_COMPRESS != 0
    }

    /// True when the writer marked the file finished.
    pub fn is_done(&self) -> bool {
        self.flags & FLAG_DONE != 0
    }
}

/// Reads a u16/u32 in the file's byte order.
#[derive(Clone, Copy, Debug)]
struct Endian {
    big: bool,
}

impl Endian {
    fn u16(self, b: &[u8], off: usize) -> u16 {
        let v = [b[off], b[off + 1]];
        if self.big {
            u16::from_be_bytes(v)
        } else {
            u16::from_le_bytes(v)
        }
    }

    fn u32(self, b: &[u8], off: usize) -> u32 {
        let v = [b[off], b[off + 1], b[off + 2], b[off + 3]];
        if self.big {
            u32::from_be_bytes(v)
        } else {
            u32::from_le_bytes(v)
        }
    }
}

/// Reads the header from `prefix` (bytes already read) followed by `r`.
pub fn read_header(
    name: &str,
    prefix: &[u8],
    r: &mut impl Read,
) -> Result<FlowToolsHeader, ArchiveError> {
    let mut head = prefix.to_vec();
    fill(name, r, &mut head, 8)?;
    if head.len() < 8 {
        return Err(ArchiveError::truncated(
            name,
            head.len() as u64,
            "flow-tools header",
        ));
    }
    if head[0] != MAGIC1 || head[1] != MAGIC2 {
        return Err(ArchiveError::NotArchive {
            path: name.to_string(),
        });
    }
    let e = match head[2] {
        1 => Endian { big: false },
        2 => Endian { big: true },
        b => {
            return Err(ArchiveError::corrupt(
                name,
                2,
                format!("byte order {b} is neither 1 (little) nor 2 (big)"),
            ))
        }
    };
    match head[3] {
        1 => read_v1_header(name, head, r, e),
        3 => read_v3_header(name, head, r, e),
        v => Err(ArchiveError::Unsupported {
            path: name.to_string(),
            what: format!("flow-tools stream version {v} (1 and 3 are read)"),
        }),
    }
}

fn read_v1_header(
    name: &str,
    mut head: Vec<u8>,
    r: &mut impl Read,
    e: Endian,
) -> Result<FlowToolsHeader, ArchiveError> {
    fill(name, r, &mut head, V1_HEADER_LEN)?;
    if head.len() < V1_HEADER_LEN {
        return Err(ArchiveError::truncated(
            name,
            head.len() as u64,
            "flow-tools version 1 header",
        ));
    }
    let text = |from: usize, to: usize| {
        let s = &head[from..to];
        let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
        (end > 0).then(|| String::from_utf8_lossy(&s[..end]).into_owned())
    };
    Ok(FlowToolsHeader {
        big_endian: e.big,
        stream_version: 1,
        export_version: e.u16(&head, 4),
        agg_method: 0,
        flags: e.u32(&head, 16),
        cap_start: Some(e.u32(&head, 8)),
        cap_end: Some(e.u32(&head, 12)),
        flows: Some(e.u32(&head, 24)),
        lost_flows: Some(e.u32(&head, 28)),
        hostname: text(36, 104),
        comments: text(104, 360),
        header_len: V1_HEADER_LEN,
    })
}

fn read_v3_header(
    name: &str,
    mut head: Vec<u8>,
    r: &mut impl Read,
    e: Endian,
) -> Result<FlowToolsHeader, ArchiveError> {
    let header_len = e.u32(&head, 4);
    if !(8..=MAX_HEADER_LEN).contains(&header_len) {
        return Err(ArchiveError::corrupt(
            name,
            4,
            format!("implausible header length {header_len}"),
        ));
    }
    let header_len = header_len as usize;
    fill(name, r, &mut head, header_len)?;
    if head.len() < header_len {
        return Err(ArchiveError::truncated(
            name,
            head.len() as u64,
            "flow-tools header",
        ));
    }
    if head.len() > header_len {
        return Err(ArchiveError::corrupt(
            name,
            header_len as u64,
            "internal: read past the header",
        ));
    }
    let mut h = FlowToolsHeader {
        big_endian: e.big,
        stream_version: 3,
        header_len,
        ..FlowToolsHeader::default()
    };
    let mut off = 8;
    // TLVs run to the end of the header; up to 3 bytes of padding may follow the last one.
    while off + 4 <= header_len {
        let t = e.u16(&head, off);
        let len = e.u16(&head, off + 2) as usize;
        let v = off + 4;
        if v + len > header_len {
            if header_len - off < 4 || t == 0 {
                break;
            }
            return Err(ArchiveError::corrupt(
                name,
                off as u64,
                format!("header field {t:#x} of {len} bytes overruns the header"),
            ));
        }
        let val = &head[v..v + len];
        let word = || (len == 4).then(|| e.u32(val, 0));
        let text = || {
            let end = val.iter().position(|&c| c == 0).unwrap_or(len);
            Some(String::from_utf8_lossy(&val[..end]).into_owned())
        };
        match t {
            0x2 if len == 2 => h.export_version = e.u16(val, 0),
            0x4 if len == 1 => h.agg_method = val[0],
            0x6 => h.cap_start = word(),
            0x7 => h.cap_end = word(),
            0x8 => h.flags = word().unwrap_or(0),
            0xA => h.flows = word(),
            0xB => h.lost_flows = word(),
            0xF => h.hostname = text(),
            0x10 => h.comments = text(),
            _ => {} // other TLVs (vendor, exporter, interface names ...) are not needed
        }
        off = v + len;
    }
    if h.export_version == 0 {
        return Err(ArchiveError::corrupt(
            name,
            8,
            "header does not say the record version",
        ));
    }
    Ok(h)
}

/// The record layouts this reader knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    V1,
    V5,
    V6,
    V7,
    V1005,
}

impl Layout {
    fn for_version(v: u16) -> Option<Layout> {
        match v {
            1 => Some(Layout::V1),
            5 => Some(Layout::V5),
            6 => Some(Layout::V6),
            7 => Some(Layout::V7),
            1005 => Some(Layout::V1005),
            _ => None,
        }
    }

    /// Record size in bytes (the C structs' sizes).
    fn size(self) -> usize {
        match self {
            Layout::V1 => 60,
            Layout::V5 => 64,
            Layout::V6 | Layout::V1005 => 72,
            Layout::V7 => 68,
        }
    }
}

/// Absolute UTC ms of a sysUpTime `t` in a record exported at (`secs`, `nsecs`, `uptime`).
/// The difference is taken modulo 2^32 and read as signed, so a sysUpTime that wrapped between
/// the flow and its export still gives the right time (flow-tools' own ftltime does not).
fn abs_ms(secs: u32, nsecs: u32, uptime: u32, t: u32) -> i64 {
    let export_ms = secs as i64 * 1000 + (nsecs / 1_000_000) as i64;
    export_ms - uptime.wrapping_sub(t) as i32 as i64
}

fn decode_record(b: &[u8], layout: Layout, e: Endian) -> FlowRecord {
    let v4 = |off| IpAddr::V4(Ipv4Addr::from(e.u32(b, off)));
    let (secs, nsecs, uptime) = (e.u32(b, 0), e.u32(b, 4), e.u32(b, 8));
    let mut r = FlowRecord {
        start_ms: abs_ms(secs, nsecs, uptime, e.u32(b, 40)),
        end_ms: abs_ms(secs, nsecs, uptime, e.u32(b, 44)),
        exporter: v4(12),
        src_addr: v4(16),
        dst_addr: v4(20),
        next_hop: v4(24),
        input_if: e.u16(b, 28) as u32,
        output_if: e.u16(b, 30) as u32,
        packets: e.u32(b, 32) as u64,
        octets: e.u32(b, 36) as u64,
        src_port: e.u16(b, 48),
        dst_port: e.u16(b, 50),
        protocol: b[52],
        tos: b[53],
        tcp_flags: b[54],
        ..FlowRecord::default()
    };
    if layout != Layout::V1 {
        r.engine_type = b[56];
        r.engine_id = b[57];
        r.src_mask = b[58];
        r.dst_mask = b[59];
        r.src_as = e.u16(b, 60) as u32;
        r.dst_as = e.u16(b, 62) as u32;
    }
    if layout == Layout::V1005 {
        r.src_tag = e.u32(b, 64);
        r.dst_tag = e.u32(b, 68);
    }
    r
}

/// Reads the records of a flow-tools file or stream, a block at a time.
pub struct FlowToolsReader<R: Read> {
    name: String,
    header: FlowToolsHeader,
    layout: Layout,
    endian: Endian,
    data: Data<R>,
    /// Bytes of record data consumed (uncompressed).
    consumed: u64,
    buf: Vec<u8>,
    done: bool,
    /// Where more data starts after the records ended cleanly (another stream or archive
    /// written after this one, see [`FlowToolsReader::into_next`]).
    next: Option<u64>,
}

/// The record bytes: read directly, or inflated from one zlib stream. Both read through a
/// buffer that keeps whatever follows the records (the zlib decoder takes only its stream's
/// bytes from it), so data written after them is seen, not lost.
enum Data<R: Read> {
    Plain(std::io::BufReader<R>),
    Zlib(flate2::bufread::ZlibDecoder<std::io::BufReader<R>>),
}

impl<R: Read> Data<R> {
    /// Fills `buf` until it is full or the data ends; says how many bytes it holds, and the
    /// error that stopped it early, if any (the bytes before the error are kept).
    fn read_full(&mut self, buf: &mut [u8]) -> (usize, Option<std::io::Error>) {
        let mut n = 0;
        while n < buf.len() {
            let got = match self {
                Data::Plain(r) => r.read(&mut buf[n..]),
                Data::Zlib(z) => z.read(&mut buf[n..]),
            };
            match got {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return (n, Some(e)),
            }
        }
        (n, None)
    }

    /// The reader under the records (and the bytes buffered from it).
    fn inner(&mut self) -> &mut std::io::BufReader<R> {
        match self {
            Data::Plain(r) => r,
            Data::Zlib(z) => z.get_mut(),
        }
    }

    /// Compressed bytes consumed so far, for zlib data.
    fn compressed_in(&self) -> Option<u64> {
        match self {
            Data::Plain(_) => None,
            Data::Zlib(z) => Some(z.total_in()),
        }
    }
}

impl<R: Read> FlowToolsReader<R> {
    /// Reads the header (after `prefix`, bytes already taken from `r`) and prepares to read records.
    pub fn new(name: &str, prefix: &[u8], mut r: R) -> Result<Self, ArchiveError> {
        let header = read_header(name, prefix, &mut r)?;
        let layout = Layout::for_version(header.export_version).ok_or_else(|| {
            let what = if header.export_version == 8 {
                format!(
                    "flow-tools v8 aggregation records (method {}) are not supported; \
                     versions 1, 5, 6, 7 and 1005 are",
                    header.agg_method
                )
            } else {
                format!(
                    "flow-tools record version {} is not supported; versions 1, 5, 6, 7 and 1005 are",
                    header.export_version
                )
            };
            ArchiveError::Unsupported {
                path: name.to_string(),
                what,
            }
        })?;
        let r = std::io::BufReader::with_capacity(64 << 10, r);
        let data = if header.is_compressed() {
            Data::Zlib(flate2::bufread::ZlibDecoder::new(r))
        } else {
            Data::Plain(r)
        };
        Ok(FlowToolsReader {
            name: name.to_string(),
            endian: Endian {
                big: header.big_endian,
            },
            header,
            layout,
            data,
            consumed: 0,
            buf: Vec::new(),
            done: false,
            next: None,
        })
    }

    /// The file's header.
    pub fn header(&self) -> &FlowToolsHeader {
        &self.header
    }

    /// Where the reader is, for messages: the file byte offset for uncompressed data, else the
    /// compressed offset and the record number.
    fn position(&self) -> (u64, String) {
        let rec = self.consumed / self.layout.size() as u64;
        match self.data.compressed_in() {
            None => (
                self.header.header_len as u64 + self.consumed,
                format!("record {rec}"),
            ),
            Some(c) => (
                self.header.header_len as u64 + c,
                format!("record {rec} (compressed data)"),
            ),
        }
    }

    /// Appends up to `max` flows to `out` (cleared first); returns how many. 0 means the end.
    /// A damaged or truncated stream is an error naming the byte offset; the flows before it
    /// have been appended.
    pub fn next_block(
        &mut self,
        out: &mut FlowBlockBuf,
        max: usize,
    ) -> Result<usize, ArchiveError> {
        out.clear();
        if self.done {
            return Ok(0);
        }
        let size = self.layout.size();
        // A finished uncompressed file says how many records it holds: read no more, so data
        // written after them (another file, `cat a b`) is not read as records.
        let limit = match (&self.data, self.header.flows) {
            (Data::Plain(_), Some(n)) if self.header.is_done() => {
                Some((n as u64 * size as u64).saturating_sub(self.consumed))
            }
            _ => None,
        };
        let want = limit.map_or(max.max(1) * size, |l| {
            l.min((max.max(1) * size) as u64) as usize
        });
        self.buf.resize(want, 0);
        let (got, failed) = self.data.read_full(&mut self.buf);
        let whole = got / size;
        for rec in self.buf[..whole * size].chunks_exact(size) {
            out.push(&decode_record(rec, self.layout, self.endian));
        }
        self.consumed += (whole * size) as u64;
        if let Some(err) = failed {
            self.done = true;
            let (offset, at) = self.position();
            return Err(ArchiveError::corrupt(
                &self.name,
                offset,
                format!("cannot read records after {at}: {err}"),
            ));
        }
        if got < self.buf.len() || limit.is_some_and(|l| l == got as u64) {
            self.done = true;
            let records = self.consumed / size as u64;
            if got % size != 0 {
                let (offset, at) = self.position();
                return Err(ArchiveError::truncated(
                    &self.name,
                    offset,
                    format!("{} bytes of a partial record after {at}", got % size),
                ));
            }
            if let Some(n) = self.header.flows.filter(|_| self.header.is_done()) {
                if records != n as u64 {
                    let (offset, _) = self.position();
                    return Err(ArchiveError::truncated(
                        &self.name,
                        offset,
                        format!("data ends after {records} flows; the header says {n}"),
                    ));
                }
            }
            // The records ended cleanly: does more data follow?
            let more = match self.data.inner().fill_buf() {
                Ok(b) => !b.is_empty(),
                Err(e) => return Err(ArchiveError::io(&self.name, e)),
            };
            if more {
                let at = match self.data.compressed_in() {
                    Some(c) => c,
                    None => self.consumed,
                };
                self.next = Some(self.header.header_len as u64 + at);
            }
        }
        Ok(whole)
    }

    /// After the records ended cleanly, when more data follows (another stream or archive
    /// written after this one): its first bytes (up to 8), their offset, and the reader, to read
    /// it on.
    pub fn into_next(self) -> Option<(Vec<u8>, u64, std::io::BufReader<R>)> {
        let at = self.next?;
        let mut r = match self.data {
            Data::Plain(r) => r,
            Data::Zlib(z) => z.into_inner(),
        };
        let mut head = [0u8; 8];
        let got = crate::model::io::read_full(&mut r, &mut head).unwrap_or(0);
        Some((head[..got].to_vec(), at, r))
    }
}

/// Fills `v` from `r` until it holds `want` bytes or `r` ends.
fn fill(name: &str, r: &mut impl Read, v: &mut Vec<u8>, want: usize) -> Result<(), ArchiveError> {
    if v.len() >= want {
        return Ok(());
    }
    let have = v.len();
    v.resize(want, 0);
    let got =
        crate::model::io::read_full(r, &mut v[have..]).map_err(|e| ArchiveError::io(name, e))?;
    v.truncate(have + got);
    Ok(())
}

pub mod writer;
pub use writer::{FlowToolsWriter, FtLosses, FtWriteOptions};

#[cfg(test)]
mod tests;
