//! Writing flow-tools files and streams (stream version 3, record version 5), so flows can be
//! handed back to flow-tools and the scripts built on it.
//!
//! The layout is the one [`super::FlowToolsReader`] reads and docs/archive-format.md describes:
//! a TLV header (export version 5, header flags, and for files the capture times and flow count),
//! then 64-byte v5 records, either plain or as one zlib stream. flow-tools' v5 record is IPv4
//! only with 32-bit counters, 16-bit interface indexes and 16-bit AS numbers, and keeps times as
//! sysUpTime offsets of an export time; what does not fit is counted in [`FtLosses`].

use super::{FLAG_COMPRESS, FLAG_DONE, MAGIC1, MAGIC2};
use crate::model::block::FlowBlock;
use crate::model::record::FlowRecord;
use std::io::{self, Seek, SeekFrom, Write};
use std::net::IpAddr;

/// Header flag: a stream, without a flow count (what flow-cat writes into a pipe).
pub const FLAG_STREAMING: u32 = 0x8;

/// Size of a flow-tools v5 record.
pub const V5_RECORD_LEN: usize = 64;

/// The 16-bit AS number standing in for a 32-bit one (RFC 6793 AS_TRANS).
pub const AS_TRANS: u16 = 23456;

/// How to write a flow-tools file or stream.
#[derive(Clone, Debug)]
pub struct FtWriteOptions {
    /// zlib level 1-9; 0 writes the records uncompressed (flow-tools' `-z`).
    pub level: u32,
    /// Write big-endian (flow-tools' `-b big`); little-endian otherwise.
    pub big_endian: bool,
    /// A stream (header without capture times or flow count, flagged streaming), for pipes. A
    /// file (`false`) gets a header with room for them, filled in by
    /// [`FlowToolsWriter::finish_file`].
    pub streaming: bool,
    /// The header's comment (flow-tools' `-C`), if any.
    pub comments: Option<String>,
}

impl Default for FtWriteOptions {
    fn default() -> Self {
        FtWriteOptions {
            level: 0,
            big_endian: false,
            streaming: true,
            comments: None,
        }
    }
}

/// What a v5 record could not carry, counted per kind (each flow counted once per kind).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FtLosses {
    /// Flows not written: an IPv6 source or destination address.
    pub skipped_ipv6: u64,
    /// Flows not written: a time before 1970 or after 2106 (32-bit seconds).
    pub skipped_time: u64,
    /// Flows whose packet or octet count exceeded 2^32-1, written as 4294967295.
    pub counters_clamped: u64,
    /// Flows with an interface index over 65535, written as 65535.
    pub ifindex_clamped: u64,
    /// Flows with a 32-bit AS number, written as AS_TRANS (23456).
    pub as_trans: u64,
    /// Flows with an IPv6 exporter or next hop, written as 0.0.0.0.
    pub v6_exporter_or_next_hop: u64,
    /// Flows lasting more than 2^32-1 ms (49.7 days), written with the end kept and the start
    /// moved up.
    pub duration_clamped: u64,
    /// Flows with reverse (biflow) counters, source/destination tags or a sampling interval,
    /// which v5 has no field for (dropped).
    pub fields_dropped: u64,
}

impl FtLosses {
    /// Flows not written.
    pub fn skipped(&self) -> u64 {
        self.skipped_ipv6 + self.skipped_time
    }

    /// True when every flow was written unchanged.
    pub fn is_empty(&self) -> bool {
        *self == FtLosses::default()
    }
}

impl std::fmt::Display for FtLosses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let items = [
            (
                self.skipped_ipv6,
                "IPv6 flows skipped (v5 records are IPv4 only)",
            ),
            (self.skipped_time, "flows skipped (time outside 1970-2106)"),
            (
                self.counters_clamped,
                "flows with packets/octets clamped to 2^32-1",
            ),
            (
                self.ifindex_clamped,
                "flows with interface index clamped to 65535",
            ),
            (
                self.as_trans,
                "flows with 32-bit AS written as AS_TRANS 23456",
            ),
            (
                self.v6_exporter_or_next_hop,
                "flows with IPv6 exporter/next hop written as 0.0.0.0",
            ),
            (
                self.duration_clamped,
                "flows longer than 49.7 days shortened",
            ),
            (
                self.fields_dropped,
                "flows lost reverse counters, tags or sampling interval",
            ),
        ];
        let parts: Vec<String> = items
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        if parts.is_empty() {
            f.write_str("nothing lost")
        } else {
            f.write_str(&parts.join("; "))
        }
    }
}

/// Where the record bytes go: straight to the output or through one zlib stream.
enum Sink<W: Write> {
    Plain(io::BufWriter<W>),
    Zlib(flate2::write::ZlibEncoder<io::BufWriter<W>>),
}

/// Writes flows as a flow-tools v5 file or stream. Flows that v5 cannot express are skipped
/// or changed and counted ([`FlowToolsWriter::losses`]).
pub struct FlowToolsWriter<W: Write> {
    sink: Sink<W>,
    opts: FtWriteOptions,
    header_len: usize,
    flows: u64,
    first_secs: Option<u32>,
    last_secs: Option<u32>,
    losses: FtLosses,
    rec: Vec<u8>,
    /// The made-up router boot time (UTC ms) the records' sysUpTime counts from.
    boot: Option<i64>,
}

/// Appends u16/u32 values in the file's byte order.
struct Enc<'b> {
    big: bool,
    buf: &'b mut Vec<u8>,
}

impl Enc<'_> {
    fn u16(&mut self, v: u16) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }

    fn u32(&mut self, v: u32) {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.buf.extend_from_slice(&b);
    }
}

/// The pieces of the header that change when a file is finished.
struct HeaderState {
    flags: u32,
    cap: Option<(u32, u32, u32)>,
}

/// Encodes the header in the chosen byte order, padded to a multiple of 4 as flow-tools does.
fn encode_header(opts: &FtWriteOptions, st: &HeaderState) -> Vec<u8> {
    let big = opts.big_endian;
    let u16b = |v: u16| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u32b = |v: u32| {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut h = vec![MAGIC1, MAGIC2, if big { 2 } else { 1 }, 3, 0, 0, 0, 0];
    let tlv = |h: &mut Vec<u8>, t: u16, v: &[u8]| {
        h.extend_from_slice(&u16b(t));
        h.extend_from_slice(&u16b(v.len() as u16));
        h.extend_from_slice(v);
    };
    tlv(&mut h, 0x2, &u16b(5)); // export version
    if let Some((start, end, _)) = st.cap {
        tlv(&mut h, 0x6, &u32b(start));
        tlv(&mut h, 0x7, &u32b(end));
    }
    tlv(&mut h, 0x8, &u32b(st.flags));
    if let Some((_, _, count)) = st.cap {
        tlv(&mut h, 0xA, &u32b(count));
    }
    if let Some(c) = &opts.comments {
        // A string TLV holds the text and its NUL; flow-tools' length field is 16 bits.
        let mut v: Vec<u8> = c.bytes().filter(|&b| b != 0).take(4000).collect();
        v.push(0);
        tlv(&mut h, 0x10, &v);
    }
    while h.len() % 4 != 0 {
        h.push(0);
    }
    let len = u32b(h.len() as u32);
    h[4..8].copy_from_slice(&len);
    h
}

impl<W: Write> FlowToolsWriter<W> {
    /// Writes the header to `out` and prepares to write records.
    pub fn new(out: W, opts: FtWriteOptions) -> io::Result<Self> {
        if opts.level > 9 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("zlib level {} is not 0-9", opts.level),
            ));
        }
        let st = HeaderState {
            flags: initial_flags(&opts),
            cap: (!opts.streaming).then_some((0, 0, 0)),
        };
        let header = encode_header(&opts, &st);
        let mut out = io::BufWriter::with_capacity(256 << 10, out);
        out.write_all(&header)?;
        let sink = if opts.level > 0 {
            Sink::Zlib(flate2::write::ZlibEncoder::new(
                out,
                flate2::Compression::new(opts.level),
            ))
        } else {
            Sink::Plain(out)
        };
        Ok(FlowToolsWriter {
            sink,
            opts,
            header_len: header.len(),
            flows: 0,
            first_secs: None,
            last_secs: None,
            losses: FtLosses::default(),
            rec: Vec::with_capacity(V5_RECORD_LEN),
            boot: None,
        })
    }

    /// Flows written so far.
    pub fn flows(&self) -> u64 {
        self.flows
    }

    /// What was lost so far.
    pub fn losses(&self) -> &FtLosses {
        &self.losses
    }

    /// Bytes of header before the records.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// Writes every flow of `b`.
    pub fn write_block(&mut self, b: &FlowBlock<'_>) -> io::Result<()> {
        for i in 0..b.len {
            self.write_record(&b.get(i))?;
        }
        Ok(())
    }

    /// Writes one flow (or counts why it cannot be written).
    pub fn write_record(&mut self, r: &FlowRecord) -> io::Result<()> {
        let boot = *self
            .boot
            .get_or_insert((r.start_ms.min(r.end_ms) - BOOT_BEFORE_FIRST_MS).max(0));
        let Some(times) = v5_times(r, boot, &mut self.losses) else {
            return Ok(());
        };
        let (IpAddr::V4(src), IpAddr::V4(dst)) = (r.src_addr, r.dst_addr) else {
            self.losses.skipped_ipv6 += 1;
            return Ok(());
        };
        let l = &mut self.losses;
        let v4 = |a: IpAddr| match a {
            IpAddr::V4(a) => Some(u32::from(a)),
            IpAddr::V6(_) => None,
        };
        let (exporter, next_hop) = (v4(r.exporter), v4(r.next_hop));
        l.v6_exporter_or_next_hop += (exporter.is_none() || next_hop.is_none()) as u64;
        l.ifindex_clamped += (r.input_if > 0xFFFF || r.output_if > 0xFFFF) as u64;
        l.counters_clamped += (r.packets > u32::MAX as u64 || r.octets > u32::MAX as u64) as u64;
        l.as_trans += (r.src_as > 0xFFFF || r.dst_as > 0xFFFF) as u64;
        l.fields_dropped += (r.rev_packets != 0
            || r.rev_octets != 0
            || r.src_tag != 0
            || r.dst_tag != 0
            || r.sampling_interval > 1) as u64;
        let if16 = |v: u32| v.min(0xFFFF) as u16;
        let c32 = |v: u64| v.min(u32::MAX as u64) as u32;
        let as16 = |v: u32| u16::try_from(v).unwrap_or(AS_TRANS);
        let mut e = Enc {
            big: self.opts.big_endian,
            buf: &mut self.rec,
        };
        e.buf.clear();
        e.u32(times.secs);
        e.u32(times.nsecs);
        e.u32(times.uptime);
        e.u32(exporter.unwrap_or(0));
        e.u32(u32::from(src));
        e.u32(u32::from(dst));
        e.u32(next_hop.unwrap_or(0));
        e.u16(if16(r.input_if));
        e.u16(if16(r.output_if));
        e.u32(c32(r.packets));
        e.u32(c32(r.octets));
        e.u32(times.first);
        e.u32(times.last);
        e.u16(r.src_port);
        e.u16(r.dst_port);
        e.buf
            .extend_from_slice(&[r.protocol, r.tos, r.tcp_flags, 0]);
        e.buf
            .extend_from_slice(&[r.engine_type, r.engine_id, r.src_mask, r.dst_mask]);
        e.u16(as16(r.src_as));
        e.u16(as16(r.dst_as));
        debug_assert_eq!(self.rec.len(), V5_RECORD_LEN);
        match &mut self.sink {
            Sink::Plain(w) => w.write_all(&self.rec)?,
            Sink::Zlib(z) => z.write_all(&self.rec)?,
        }
        self.flows += 1;
        let start = (r.start_ms.min(r.end_ms).div_euclid(1000)) as u32;
        let end = times.secs;
        self.first_secs = Some(self.first_secs.map_or(start, |s| s.min(start)));
        self.last_secs = Some(self.last_secs.map_or(end, |s| s.max(end)));
        Ok(())
    }

    /// Ends the records (the zlib stream) and returns the output, for a stream.
    pub fn finish(self) -> io::Result<(W, u64, FtLosses)> {
        let out = match self.sink {
            Sink::Plain(w) => w,
            Sink::Zlib(z) => z.finish()?,
        };
        let w = out.into_inner().map_err(|e| e.into_error())?;
        Ok((w, self.flows, self.losses))
    }
}

impl<W: Write + Seek> FlowToolsWriter<W> {
    /// Ends the records and rewrites the header in place (same size) with the capture times
    /// (first flow start, last flow end), the flow count and the DONE flag, as flow-capture and
    /// `flow-cat -o` do when they close a file. For a writer made with `streaming: true` this
    /// only finishes the stream.
    pub fn finish_file(self) -> io::Result<(W, u64, FtLosses)> {
        let opts = self.opts.clone();
        let header_len = self.header_len;
        let cap = match (self.first_secs, self.last_secs) {
            (Some(s), Some(e)) => (s, e),
            _ => (0, 0),
        };
        let (mut w, flows, losses) = self.finish()?;
        if opts.streaming {
            return Ok((w, flows, losses));
        }
        let count = u32::try_from(flows).map_err(|_| {
            io::Error::other(format!(
                "{flows} flows do not fit a flow-tools file's 32-bit flow count"
            ))
        })?;
        let mut flags = FLAG_DONE;
        if opts.level > 0 {
            flags |= FLAG_COMPRESS;
        }
        let st = HeaderState {
            flags,
            cap: Some((cap.0, cap.1, count)),
        };
        let header = encode_header(&opts, &st);
        debug_assert_eq!(header.len(), header_len);
        w.seek(SeekFrom::Start(0))?;
        w.write_all(&header)?;
        w.seek(SeekFrom::End(0))?;
        w.flush()?;
        Ok((w, flows, losses))
    }
}

/// The header flags written first: compressed or not, and streaming until a file is finished
/// (a file whose writer died is then read to its end, as flow-tools reads streams).
fn initial_flags(opts: &FtWriteOptions) -> u32 {
    let mut f = FLAG_STREAMING;
    if opts.level > 0 {
        f |= FLAG_COMPRESS;
    }
    f
}

/// A flow's times as a v5 record holds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V5Times {
    /// Export time, Unix seconds (`unix_secs`).
    pub secs: u32,
    /// Export time, nanoseconds (`unix_nsecs`, whole milliseconds).
    pub nsecs: u32,
    /// sysUpTime at export, ms.
    pub uptime: u32,
    /// sysUpTime at the first packet (`First`).
    pub first: u32,
    /// sysUpTime at the last packet (`Last`).
    pub last: u32,
}

/// How far before the first flow written the made-up router boot is (2^31 ms, 24.8 days), so
/// flows up to 24.8 days before it and 24.8 days after it share one sysUpTime clock.
pub const BOOT_BEFORE_FIRST_MS: i64 = 1 << 31;

/// The v5 times of `r`. The export time is the later of start and end. sysUpTime counts from a
/// boot time `boot` shared by the file (as one router's records do, so flow-tools' flow-stat
/// finds the data's duration from First and Last); a flow outside that clock's 49.7 days gets a
/// boot of its own (its start). flow-tools' `ftltime` (`secs*1000 + nsecs/1e6 - uptime +
/// First/Last`) gives back the start and end to the millisecond either way. `None` (counted)
/// when the time does not fit 32-bit seconds.
pub fn v5_times(r: &FlowRecord, boot: i64, l: &mut FtLosses) -> Option<V5Times> {
    let export = r.start_ms.max(r.end_ms);
    let mut base = r.start_ms.min(r.end_ms);
    if export - base > u32::MAX as i64 {
        l.duration_clamped += 1;
        base = export - u32::MAX as i64;
    }
    if base < 0 || export.div_euclid(1000) > u32::MAX as i64 {
        l.skipped_time += 1;
        return None;
    }
    let start = r.start_ms.max(base);
    let end = r.end_ms.max(base);
    if boot >= 0 && boot <= base && export - boot <= u32::MAX as i64 {
        base = boot;
    }
    Some(V5Times {
        secs: export.div_euclid(1000) as u32,
        nsecs: export.rem_euclid(1000) as u32 * 1_000_000,
        uptime: (export - base) as u32,
        first: (start - base) as u32,
        last: (end - base) as u32,
    })
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
