//! Fuzz harnesses: what each fuzz target (`fuzz/fuzz_targets/`) does with its input, and the
//! invariants it checks. They live here, not in the fuzz crate, so that every input a fuzzer
//! found crashing is replayed by the normal test suite through the very same code
//! (`testdata/fuzz-regressions/TARGET/*`, see `tests/fuzz_regressions.rs`). Not a stable API.
//!
//! Each harness panics only when an invariant of the library is broken (that is the bug the
//! fuzzer reports); bad input must give errors, never panics.

use crate::archive::flowtools::FlowToolsReader;
use crate::archive::reader::view_block;
use crate::archive::{AlignedBuf, ArchiveFile, StreamItem, StreamReader};
use crate::filter::{CompileOptions, FilterFile, Variables};
use crate::model::block::{ColumnId, ColumnSet, FlowBlockBuf};
use crate::model::record::FlowRecord;
use crate::netflow::pcap::CaptureReader;
use crate::netflow::{Decoder, DecoderConfig};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The exporters a `decode` input's datagrams come from, chosen by the low two bits of each
/// datagram's tag byte (so template state is kept apart, and shared, as with real exporters).
pub const EXPORTERS: [IpAddr; 4] = [
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
];

/// Receive time of a `decode` input's first datagram (UTC ms).
pub const START_MS: i64 = 1_717_372_800_000;

/// Splits a `decode` input into datagrams: each is a tag byte (bits 0-1: exporter, bits 2-7:
/// minutes since the previous datagram), a little-endian u16 length, then that many bytes (fewer
/// at the end of the input). Yields (exporter, receive time, datagram).
pub fn split_datagrams(mut data: &[u8]) -> impl Iterator<Item = (IpAddr, i64, &[u8])> {
    let mut now = START_MS;
    std::iter::from_fn(move || {
        if data.len() < 3 {
            return None;
        }
        let tag = data[0];
        let len = u16::from_le_bytes([data[1], data[2]]) as usize;
        let body = &data[3..];
        let (d, rest) = body.split_at(len.min(body.len()));
        data = rest;
        now += (tag >> 2) as i64 * 60_000;
        Some((EXPORTERS[(tag & 3) as usize], now, d))
    })
}

/// Appends one datagram to a `decode` input (the inverse of [`split_datagrams`]).
pub fn push_datagram(out: &mut Vec<u8>, exporter: usize, minutes: u8, datagram: &[u8]) {
    let len = datagram.len().min(u16::MAX as usize);
    out.push((minutes.min(63) << 2) | (exporter & 3) as u8);
    out.extend_from_slice(&(len as u16).to_le_bytes());
    out.extend_from_slice(&datagram[..len]);
}

/// Small limits, so the fuzzer reaches every limit path.
pub fn small_limits() -> DecoderConfig {
    DecoderConfig {
        max_exporters: 3,
        max_templates_per_exporter: 8,
        max_domains_per_exporter: 4,
        max_template_fields: 64,
        max_held_sets_per_exporter: 4,
        max_held_bytes_per_exporter: 4096,
        max_held_age_ms: 10 * 60_000,
        max_samplers_per_domain: 4,
        max_memory: 64 << 10,
    }
}

/// `decode` target: a sequence of v5/v9/IPFIX datagrams from up to four exporters through one
/// decoder. Checks: blocks stay consistent, reported flow counts match what was appended, errors
/// name an offset inside the datagram, and the decoder stays within its limits.
pub fn decode(data: &[u8]) {
    let mut d = Decoder::new(small_limits());
    let mut out = FlowBlockBuf::default();
    for (from, now, g) in split_datagrams(data) {
        let before = out.len();
        match d.decode(g, from, now, &mut out) {
            Ok(info) => assert_eq!(info.flows, out.len() - before, "flow count"),
            Err(e) => assert!(
                e.offset <= g.len(),
                "error offset {} > {}",
                e.offset,
                g.len()
            ),
        }
        let v = out.view();
        assert!(v.is_consistent(), "inconsistent block");
        assert!(d.within_limits(), "decoder over its limits: {:?}", {
            d.usage().collect::<Vec<_>>()
        });
        let m = d.memory();
        assert_eq!(m.bytes, d.memory_recount(), "memory accounting");
        assert!(m.bytes <= m.cap, "memory over its cap: {m:?}");
        if out.len() > 4096 {
            out.clear();
        }
    }
    d.drop_held();
    assert_eq!(d.held_sets(), 0);
}

/// For block `i` of `f`, read whole as `b`: its address Bloom filters (the block's and its
/// frames') are errors at an offset inside the input when damaged, and otherwise answer; every
/// third row read alone (as a filter upstream passes them on, inflating only their frames) gives
/// the flows of the full read.
fn filters_and_some_rows(
    f: &ArchiveFile,
    i: usize,
    b: &crate::model::block::FlowBlock<'_>,
    len: usize,
) {
    match f.block_bloom(i) {
        Err(e) => check_error(&e, "fuzz.fk", len),
        Ok(Some(bloom)) => {
            let _ = bloom.may_contain_key(0);
        }
        Ok(None) => {}
    }
    match f.block_frame_blooms(i) {
        Err(e) => check_error(&e, "fuzz.fk", len),
        Ok(Some(frames)) => {
            assert!(frames.frames() * frames.rows_per_frame() >= b.len);
            for k in 0..frames.frames() {
                let _ = frames.frame(k).may_contain_key(0);
            }
        }
        Ok(None) => {}
    }
    let rows: Vec<u32> = (0..b.len as u32).filter(|r| r % 3 == 0).collect();
    let mut out = FlowBlockBuf::default();
    f.gather_rows(i, None, &rows, &mut out, None)
        .expect("the full read passed");
    let want: Vec<FlowRecord> = rows.iter().map(|&r| b.get(r as usize)).collect();
    assert!(
        out.view().records().eq(want),
        "some rows differ from the full read"
    );
}

/// `archive` target: opens the input as an archive file, checks every block, and reads it again
/// as a stream. Checks: every block read is consistent and holds the flows its index entry says;
/// a partial read of two columns gives the same values as the full read; errors name the input
/// and, when about the data, an offset inside it; when both readers read everything cleanly,
/// they give the same flows.
pub fn archive(data: &[u8]) {
    let name = "fuzz.fk";
    let some = ColumnSet::of(&[ColumnId::SrcPort, ColumnId::DstAddr]);
    let mut file_flows: Option<Vec<FlowRecord>> = None;
    match ArchiveFile::from_bytes(name, data) {
        Ok(f) => {
            let mut flows = Vec::new();
            let mut clean = f.tail_error().is_none();
            for (i, entry) in f.blocks().iter().enumerate() {
                match f.block(i) {
                    Ok(b) => {
                        assert!(b.is_consistent());
                        assert_eq!(b.len, entry.flows as usize);
                        let p = f.block_columns(i, some).expect("full read passed");
                        assert_eq!(p.src_port, b.src_port);
                        assert_eq!(p.dst_addr.len(), b.len);
                        for k in 0..b.len {
                            assert_eq!(p.dst_addr.get(k), b.dst_addr.get(k));
                        }
                        filters_and_some_rows(&f, i, &b, data.len());
                        flows.extend(b.records());
                    }
                    Err(e) => {
                        check_error(&e, name, data.len());
                        clean = false;
                        break;
                    }
                }
            }
            if let Some(e) = f.tail_error() {
                check_error(e, name, data.len());
            }
            if clean && f.is_complete() {
                file_flows = Some(flows);
            }
        }
        Err(e) => check_error(&e, name, data.len()),
    }
    // The same bytes as a stream (a pipe), member after member (archives written one after
    // another are read whole, see `archive::members`).
    let mut stream_flows = Vec::new();
    let (mut prefix, mut base, mut rest) = (Vec::new(), 0u64, data);
    let stream_clean = loop {
        let mut s = match StreamReader::new_at(name, &prefix, rest, base) {
            Ok(s) => s,
            Err(e) => {
                check_error(&e, name, data.len());
                break false;
            }
        };
        let mut buf = AlignedBuf::default();
        let ended = loop {
            match s.next_block_into(&mut buf) {
                // A reference names a file elsewhere: not followed here (the file reader
                // calls these bytes corrupt, so the two are not compared).
                Ok(Some(StreamItem::Ref(_))) => break false,
                Ok(Some(StreamItem::Block(off))) => match view_block(
                    name,
                    buf.as_bytes(),
                    off,
                    &crate::archive::ColumnScratch::new(),
                ) {
                    Ok((b, _)) => {
                        assert!(b.is_consistent());
                        stream_flows.extend(b.records());
                    }
                    Err(e) => {
                        check_error(&e, name, data.len());
                        break false;
                    }
                },
                Ok(None) => break true,
                Err(e) => {
                    check_error(&e, name, data.len());
                    break false;
                }
            }
        };
        if !ended {
            break false;
        }
        match s.into_next() {
            Some((p, at, r)) => (prefix, base, rest) = (p, at, r),
            None => break true,
        }
    };
    if let (Some(f), true) = (file_flows, stream_clean) {
        assert_eq!(f, stream_flows, "file and stream readers disagree");
    }
}

fn check_error(e: &crate::archive::ArchiveError, name: &str, len: usize) {
    let msg = e.to_string();
    assert!(
        msg.starts_with(name),
        "error does not name the input: {msg}"
    );
    if let Some(off) = e.offset() {
        assert!(
            off as usize <= len,
            "error names byte {off} of {len}: {msg}"
        );
    }
}

/// Most flows a `flowtools` input is read for (10 blocks of 64). A small zlib stream inflates to
/// megabytes of records, which only slows the fuzzer: records are decoded one by one, each from
/// its own bytes alone, so the 100,000th record runs the code the 10th does. What differs
/// between inputs (record version, byte order, header, where the data is cut or damaged) shows
/// in the first records and at the point of damage, which a compressed input can put anywhere
/// in these 37-45 KiB of records (more than zlib's 32 KiB window). A plain input (at most
/// 16 KiB under `fuzz/run-all.sh`) holds at most 273 records and never reaches the cap.
pub const FLOWTOOLS_MAX_FLOWS: usize = 640;

/// How a `flowtools` input was read.
#[derive(Debug, PartialEq, Eq)]
pub enum FlowToolsEnd {
    /// The header was refused.
    Header,
    /// The records ended cleanly.
    End,
    /// [`FLOWTOOLS_MAX_FLOWS`] were read and reading stopped.
    Cap,
    /// Reading the records failed (truncated or corrupt data): the message.
    Error(String),
}

/// `flowtools` target: reads the input as a flow-tools file, a block of 64 flows at a time (at
/// most [`FLOWTOOLS_MAX_FLOWS`]). Checks: blocks are consistent and never longer than asked;
/// errors name the input.
pub fn flowtools(data: &[u8]) {
    flowtools_read(data);
}

/// [`flowtools`], saying how many flows were read and how reading ended (for tests).
pub fn flowtools_read(data: &[u8]) -> (usize, FlowToolsEnd) {
    let name = "fuzz.ft";
    let mut r = match FlowToolsReader::new(name, &[], data) {
        Ok(r) => r,
        Err(e) => {
            check_error(&e, name, usize::MAX);
            return (0, FlowToolsEnd::Header);
        }
    };
    let mut buf = FlowBlockBuf::default();
    let mut flows = 0;
    while flows < FLOWTOOLS_MAX_FLOWS {
        match r.next_block(&mut buf, 64) {
            Ok(0) => return (flows, FlowToolsEnd::End),
            Ok(n) => {
                assert_eq!(n, buf.len());
                assert!(n <= 64);
                assert!(buf.view().is_consistent());
                flows += n;
            }
            Err(e) => {
                assert!(buf.len() <= 64);
                check_error(&e, name, usize::MAX);
                return (flows + buf.len(), FlowToolsEnd::Error(e.to_string()));
            }
        }
    }
    (flows, FlowToolsEnd::Cap)
}

/// Most flows an `nfdump` input is read for: one decompressed block can hold megabytes of
/// records, and each record is decoded from its own bytes alone, so reading further only slows
/// the fuzzer (at 2,048 it spent most of its time decoding and comparing the same kind of
/// record: ~1,500 inputs/s). What differs between inputs (header, codec, block framing, where
/// the data is cut or damaged) shows in the first records and at the point of damage, which a
/// compressed input can put anywhere among these records.
pub const NFDUMP_MAX_FLOWS: usize = 640;

/// Inputs up to this size are read twice (see [`nfdump`]); larger ones once.
pub const NFDUMP_TWICE_MAX_LEN: usize = 4096;

/// `nfdump` target: reads the input as an nfdump file, 64 flows at a time (at most
/// [`NFDUMP_MAX_FLOWS`]); inputs up to [`NFDUMP_TWICE_MAX_LEN`] bytes are read again 1,000 flows
/// at a time. Checks: blocks are consistent and never longer than asked; errors name the input
/// and, when about the data, an offset inside it; both reads give the same flows and end the
/// same way (the block size a tool asks for changes nothing). Larger inputs are read once: their
/// cost is decompression (a 25 KB LZ4 block can stand for 5 MiB), which the second read would
/// only repeat, while how records are handed out across blocks is the same at any size.
pub fn nfdump(data: &[u8]) {
    let small = nfdump_read(data, 64);
    if data.len() <= NFDUMP_TWICE_MAX_LEN {
        let large = nfdump_read(data, 1000);
        assert_eq!(
            small, large,
            "reads of 64 and 1000 flows at a time disagree"
        );
    }
}

/// [`nfdump`]'s read: the flows (at most [`NFDUMP_MAX_FLOWS`], a whole block more at the cap)
/// and the error that ended it, if any.
pub fn nfdump_read(data: &[u8], max: usize) -> (Vec<FlowRecord>, Option<String>) {
    use crate::archive::nfdump::NfdumpReader;
    let name = "fuzz.nfcapd";
    let mut r = match NfdumpReader::new(name, &[], data) {
        Ok(r) => r,
        Err(e) => {
            check_error(&e, name, data.len());
            return (Vec::new(), Some(e.to_string()));
        }
    };
    let mut buf = FlowBlockBuf::default();
    let mut flows = Vec::new();
    loop {
        let res = r.next_block(&mut buf, max);
        assert!(
            buf.len() <= max,
            "block of {} flows, {max} asked",
            buf.len()
        );
        assert!(buf.view().is_consistent(), "inconsistent block");
        flows.extend(buf.view().records());
        if let Ok(n) = &res {
            assert_eq!(*n, buf.len());
        }
        if let Err(e) = &res {
            check_error(e, name, data.len());
        }
        if flows.len() >= NFDUMP_MAX_FLOWS {
            // What lies past the cap (an error included) is not compared.
            flows.truncate(NFDUMP_MAX_FLOWS);
            break;
        }
        match res {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return (flows, Some(e.to_string())),
        }
    }
    (flows, None)
}

/// `capture` target: reads the input as a pcap or pcapng capture. Checks: every datagram's
/// payload lies within the input; errors name the input.
pub fn capture(data: &[u8]) {
    let name = "fuzz.pcap";
    let mut r = match CaptureReader::from_bytes(name, data.to_vec()) {
        Ok(r) => r,
        Err(e) => {
            assert!(e.to_string().starts_with(name), "{e}");
            return;
        }
    };
    for _ in 0..100_000 {
        match r.next_datagram() {
            Ok(Some(d)) => assert!(d.payload.len() <= data.len()),
            Ok(None) => break,
            Err(e) => {
                assert!(e.to_string().starts_with(name), "{e}");
                break;
            }
        }
    }
}

/// The flows a `filter` input's definitions are evaluated on: a mix of IPv4 and IPv6, protocols,
/// ports, flags, counters, times, interfaces and AS numbers, so most primitives have both
/// matching and non-matching rows.
pub fn filter_sample() -> Vec<FlowRecord> {
    let mut out = Vec::new();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..24u32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v6 = i % 5 == 4;
        let addr = |k: u64| -> IpAddr {
            if v6 {
                IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    0,
                    0,
                    0,
                    0,
                    0,
                    (k & 0xffff) as u16,
                ))
            } else {
                let pick = [0xbd16_24a5u32, 0x4f73_67e1, 0x0a00_0001, 0xc0a8_0101];
                IpAddr::V4(Ipv4Addr::from(
                    pick[(k % 4) as usize].wrapping_add((k >> 8) as u32 % 3),
                ))
            }
        };
        let start = START_MS + (x % 86_400_000) as i64;
        out.push(FlowRecord {
            start_ms: start,
            end_ms: start + (x >> 40) as i64 % 120_000,
            src_addr: addr(x),
            dst_addr: addr(x >> 17),
            next_hop: addr(x >> 23),
            exporter: addr(x >> 29),
            src_port: [22, 80, 443, 6667, 53, 40_000][(x >> 3) as usize % 6],
            dst_port: [22, 80, 443, 6667, 53, 51_000][(x >> 9) as usize % 6],
            protocol: [6, 17, 1, 58, 47][(x >> 5) as usize % 5],
            tcp_flags: (x >> 11) as u8,
            tos: (x >> 19) as u8,
            packets: 1 + (x >> 33) % 5,
            octets: 40 + (x >> 27) % 3000,
            input_if: (x >> 45) as u32 % 4,
            output_if: (x >> 47) as u32 % 4,
            src_as: [0, 3356, 65001][(x >> 50) as usize % 3],
            dst_as: [0, 174, 65002][(x >> 52) as usize % 3],
            src_mask: (x >> 54) as u8 % 33,
            dst_mask: (x >> 56) as u8 % 33,
            engine_type: (x >> 58) as u8 % 2,
            engine_id: (x >> 60) as u8 % 2,
            ..FlowRecord::default()
        });
    }
    out
}

/// `filter` target: parses the input as a filter file (with a few `-v` variables set), compiles
/// each of its first eight definitions and evaluates it on [`filter_sample`] both compiled (over
/// the block) and interpreted (record by record, the reference). Checks: the two agree on every
/// flow; errors carry a line and column inside the input.
pub fn filter(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut vars = Variables::new();
    vars.set("ADDR", "189.22.36.165");
    vars.set("PORT", "80");
    vars.set("NET", "10.0.0.0/8");
    let file = match FilterFile::parse(&text, "fuzz.cfg", &vars) {
        Ok(f) => f,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let opts = CompileOptions {
        tz: jiff::tz::TimeZone::UTC,
    };
    let recs = filter_sample();
    let block = FlowBlockBuf::from_records(&recs);
    let view = block.view();
    let mut rows = Vec::new();
    for d in file.definitions.iter().take(8) {
        let (compiled, interp) = match (
            file.compile(&d.name, &opts),
            file.interpreter(&d.name, &opts),
        ) {
            (Ok(c), Ok(i)) => (c, i),
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string());
                continue;
            }
            (a, b) => panic!(
                "compiler and interpreter disagree on whether {} is usable: {:?} / {:?}",
                d.name,
                a.err(),
                b.err()
            ),
        };
        let n = compiled.select(&view, &mut rows);
        assert_eq!(n, rows.iter().filter(|&&r| r).count());
        for (k, r) in recs.iter().enumerate() {
            assert_eq!(
                rows[k],
                interp.matches(r),
                "definition {}: compiled and interpreted filters disagree on flow {k}: {r:?}",
                d.name
            );
        }
    }
}
