//! Accumulating a flow-stat report from column blocks: fixed tables for small keys, a
//! first-seen-ordered hash for the rest, and the f0 summary's totals and histograms.

use super::report::{kind, Dump, Kind, Options};
use crate::analyze::keys::FastMap;
use crate::model::block::{AddrColumn, ColumnId, ColumnSet, FlowBlock};

/// Flows, octets, packets and summed duration (ms) of one key, as flow-tools counts them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Flows.
    pub flows: u64,
    /// Octets.
    pub octets: u64,
    /// Packets.
    pub packets: u64,
    /// Sum of `Last - First` (ms, each taken modulo 2^32 as flow-tools does).
    pub duration: u64,
}

impl Counters {
    #[inline]
    fn add(&mut self, octets: u64, packets: u64, duration: u64) {
        self.flows += 1;
        self.octets += octets;
        self.packets += packets;
        self.duration += duration;
    }
}

/// The f0 summary's state.
#[derive(Clone, Debug)]
pub struct Summary0 {
    /// Flows, octets, packets (flows with no packets are left out, as flow-tools does).
    pub totals: Counters,
    /// Earliest flow start (ms).
    pub start: i64,
    /// Latest flow end (ms).
    pub end: i64,
    /// Average packet size buckets (26).
    pub psize: [u64; 26],
    /// Packets per flow buckets (26).
    pub fpsize: [u64; 26],
    /// Octets per flow buckets (26).
    pub fosize: [u64; 26],
    /// Flow time buckets (26).
    pub ftime: [u64; 26],
}

/// Upper bounds of f0's average packet size buckets (values above the last are not counted).
pub const PSIZE: [u64; 26] = [
    32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 480, 512, 544, 576, 1024,
    1536, 2048, 2560, 3072, 3584, 4096, 4608,
];
/// Upper bounds of f0's packets per flow buckets (the last catches everything above 900).
pub const FPSIZE: [u64; 25] = [
    1, 2, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 60, 100, 200, 300, 400, 500, 600, 700,
    800, 900,
];
/// Upper bounds of f0's octets per flow buckets (the last catches everything above 15872).
pub const FOSIZE: [u64; 25] = [
    32, 64, 128, 256, 512, 1280, 2048, 2816, 3584, 4352, 5120, 5888, 6656, 7424, 8192, 8960, 9728,
    10496, 11264, 12032, 12800, 13568, 14336, 15104, 15872,
];
/// Upper bounds of f0's flow time buckets (the last catches everything above 30000 ms).
pub const FTIME: [u64; 25] = [
    10, 50, 100, 200, 500, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 12000,
    14000, 16000, 18000, 20000, 22000, 24000, 26000, 28000, 30000,
];

/// Index of the first bound `v` does not exceed; `bounds.len()` when above all.
#[inline]
fn bucket(bounds: &[u64], v: u64) -> usize {
    bounds.partition_point(|&b| b < v)
}

/// Counts per slot of a small key.
#[derive(Clone, Debug)]
pub struct Table {
    /// Counters per key value.
    pub slots: Vec<Counters>,
}

/// Keys with their counters and first-seen rank. A key packs up to two values of up to 64
/// bits each (an address, a prefix with its length, a number) as `k1 << 64 | k2`. The counters
/// live in the map itself, so a flow costs one random memory access.
#[derive(Clone, Debug, Default)]
pub struct Chash {
    map: FastMap<u128, (u32, Counters)>,
}

impl Chash {
    #[inline]
    fn add(&mut self, key: u128, octets: u64, packets: u64, duration: u64) {
        let next = self.map.len() as u32;
        self.map
            .entry(key)
            .or_insert((next, Counters::default()))
            .1
            .add(octets, packets, duration);
    }

    /// The keys and their counters, first seen first.
    pub fn in_order(&self) -> (Vec<u128>, Vec<Counters>) {
        let mut all: Vec<(u32, u128, Counters)> =
            self.map.iter().map(|(&k, &(i, c))| (i, k, c)).collect();
        all.sort_unstable_by_key(|e| e.0);
        all.into_iter().map(|(_, k, c)| (k, c)).unzip()
    }
}

/// One flow of f13/f14's plot data: start and end (ms), octets and packets.
pub type PlotPoint = (i64, i64, u64, u64);

/// What a report accumulates.
#[derive(Clone, Debug)]
pub enum State {
    /// f0.
    Summary(Box<Summary0>),
    /// f4 and f15 (only totals).
    Totals,
    /// f13/f14.
    Plot(Vec<PlotPoint>),
    /// Small keys.
    Table(Table),
    /// Other keys.
    Hash(Chash),
}

/// A flow-stat report being accumulated: feed it blocks with [`StatReport::observe`], then
/// print it with [`StatReport::write`](super::format).
#[derive(Clone, Debug)]
pub struct StatReport {
    /// The options it was made with.
    pub opts: Options,
    /// Its kind.
    pub kind: Kind,
    /// Totals for percentages (`TOTAL_INC` in flow-tools: f7 counts each flow twice).
    pub total: Counters,
    /// Flows left out because they had no packets (f0 and f1 skip them, with a warning).
    pub zero_packet_flows: u64,
    /// The counts.
    pub state: State,
    /// Key names for `-n` (see [`super::report::symbol_file`]); numbers when `None`.
    pub symbols: Option<super::symbols::Symbols>,
}

/// The IPv4 address of row `i`, or an error for an IPv6 one (flow-tools' reports are IPv4).
#[inline]
fn v4(col: &AddrColumn<'_>, i: usize) -> Result<u32, String> {
    match col {
        AddrColumn::V4(v) => Ok(v[i]),
        AddrColumn::V6(v) => {
            let b = v[i];
            if b[..10].iter().all(|&x| x == 0) && b[10] == 0xff && b[11] == 0xff {
                Ok(u32::from_be_bytes([b[12], b[13], b[14], b[15]]))
            } else {
                Err(format!(
                    "{}: flow-tools' reports count IPv4 addresses only",
                    std::net::Ipv6Addr::from(b)
                ))
            }
        }
    }
}

/// A table key that must fit flow-tools' 16-bit field (interfaces, AS numbers): a larger one
/// (a 32-bit AS or ifIndex from NetFlow v9/IPFIX) is an error, never a truncated key.
#[inline]
fn small(v: u32, what: &str, format: usize) -> Result<usize, String> {
    if v > 0xffff {
        return Err(format!(
            "{what} {v}: flow-tools' report {format} counts 16-bit values only"
        ));
    }
    Ok(v as usize)
}

/// flow-tools' `ipv4_len2mask`: a length of 0 or above 32 keeps the whole address.
#[inline]
fn len2mask(len: u8) -> u32 {
    if len == 0 || len > 32 {
        u32::MAX
    } else {
        u32::MAX << (32 - len as u32)
    }
}

#[inline]
fn pre(addr: u32, len: u8) -> u64 {
    ((addr & len2mask(len)) as u64) << 8 | len as u64
}

#[inline]
fn two(a: u64, b: u64) -> u128 {
    (a as u128) << 64 | b as u128
}

impl StatReport {
    /// A new, empty report with `opts` (`opts.format` < [`super::FORMATS`]).
    pub fn new(opts: Options) -> StatReport {
        let kind = kind(opts.format);
        let state = match kind {
            Kind::Summary => State::Summary(Box::new(Summary0 {
                totals: Counters::default(),
                start: i64::MAX,
                end: i64::MIN,
                psize: [0; 26],
                fpsize: [0; 26],
                fosize: [0; 26],
                ftime: [0; 26],
            })),
            Kind::NotImplemented | Kind::Short => State::Totals,
            Kind::Plot { .. } => State::Plot(Vec::new()),
            Kind::Table { size, .. } => State::Table(Table {
                slots: vec![Counters::default(); size],
            }),
            Kind::Hash(_) => State::Hash(Chash::default()),
        };
        StatReport {
            opts,
            kind,
            total: Counters::default(),
            zero_packet_flows: 0,
            state,
            symbols: None,
        }
    }

    /// The columns the report reads.
    pub fn columns(&self) -> ColumnSet {
        use ColumnId::*;
        let base = [StartMs, EndMs, Packets, Octets];
        let extra: &[ColumnId] = match self.opts.format {
            5..=7 => &[Protocol, SrcPort, DstPort],
            8 => &[DstAddr],
            9 => &[SrcAddr],
            10 | 11 => &[SrcAddr, DstAddr],
            12 => &[Protocol],
            16 => &[NextHop],
            17 => &[InputIf],
            18 => &[OutputIf],
            19 => &[SrcAs],
            20 => &[DstAs],
            21 => &[SrcAs, DstAs],
            22 => &[Tos],
            23 => &[InputIf, OutputIf],
            24 => &[SrcAddr, SrcMask],
            25 => &[DstAddr, DstMask],
            26 => &[SrcAddr, SrcMask, DstAddr, DstMask],
            27 => &[Exporter],
            28 => &[EngineId],
            29 => &[EngineType],
            30 => &[SrcTag],
            31 => &[DstTag],
            32 => &[SrcTag, DstTag],
            _ => &[],
        };
        ColumnSet::of(&base).union(ColumnSet::of(extra))
    }

    /// Adds the flows of `b`. An IPv6 address in a report keyed on addresses is an error.
    pub fn observe(&mut self, b: &FlowBlock<'_>) -> Result<(), String> {
        let f = self.opts.format;
        let total = &mut self.total;
        let dur = |i: usize| (b.end_ms[i].wrapping_sub(b.start_ms[i])) as u32 as u64;
        match &mut self.state {
            State::Summary(s) => {
                for i in 0..b.len {
                    let (o, p) = (b.octets[i], b.packets[i]);
                    if p == 0 {
                        self.zero_packet_flows += 1;
                        continue;
                    }
                    let d = dur(i);
                    s.totals.add(o, p, d);
                    s.start = s.start.min(b.start_ms[i]);
                    s.end = s.end.max(b.end_ms[i]);
                    let ps = bucket(&PSIZE, o / p);
                    if ps < PSIZE.len() {
                        s.psize[ps] += 1;
                    }
                    s.fpsize[bucket(&FPSIZE, p)] += 1;
                    s.fosize[bucket(&FOSIZE, o)] += 1;
                    s.ftime[bucket(&FTIME, d)] += 1;
                }
            }
            State::Totals => {
                for i in 0..b.len {
                    total.add(b.octets[i], b.packets[i], dur(i));
                }
            }
            State::Plot(v) => {
                for i in 0..b.len {
                    v.push((b.start_ms[i], b.end_ms[i], b.octets[i], b.packets[i]));
                }
            }
            State::Table(t) => {
                for i in 0..b.len {
                    let (o, p, d) = (b.octets[i], b.packets[i], dur(i));
                    let keys: [Option<usize>; 2] = match f {
                        5..=7 => {
                            if b.protocol[i] != 6 && b.protocol[i] != 17 {
                                continue;
                            }
                            match f {
                                5 => [Some(b.dst_port[i] as usize), None],
                                6 => [Some(b.src_port[i] as usize), None],
                                _ => [Some(b.src_port[i] as usize), Some(b.dst_port[i] as usize)],
                            }
                        }
                        12 => [Some(b.protocol[i] as usize), None],
                        17 => [Some(small(b.input_if[i], "input interface", f)?), None],
                        18 => [Some(small(b.output_if[i], "output interface", f)?), None],
                        19 => [Some(small(b.src_as[i], "source AS", f)?), None],
                        20 => [Some(small(b.dst_as[i], "destination AS", f)?), None],
                        22 => [Some(b.tos[i] as usize), None],
                        28 => [Some(b.engine_id[i] as usize), None],
                        _ => [Some(b.engine_type[i] as usize), None],
                    };
                    for k in keys.into_iter().flatten() {
                        total.add(o, p, d);
                        t.slots[k].add(o, p, d);
                    }
                }
            }
            State::Hash(h) => {
                for i in 0..b.len {
                    let (o, p, d) = (b.octets[i], b.packets[i], dur(i));
                    let key = match f {
                        1 => {
                            total.add(o, p, d);
                            if p == 0 {
                                self.zero_packet_flows += 1;
                                continue;
                            }
                            h.add(two(o / p, 0), o, p, d);
                            continue;
                        }
                        2 => two(p, 0),
                        3 => two(o, 0),
                        8 => two(v4(&b.dst_addr, i)? as u64, 0),
                        9 => two(v4(&b.src_addr, i)? as u64, 0),
                        10 => two(v4(&b.src_addr, i)? as u64, v4(&b.dst_addr, i)? as u64),
                        11 => {
                            total.add(o, p, d);
                            h.add(two(v4(&b.src_addr, i)? as u64, 0), o, p, d);
                            h.add(two(v4(&b.dst_addr, i)? as u64, 0), o, p, d);
                            continue;
                        }
                        16 => two(v4(&b.next_hop, i)? as u64, 0),
                        21 => two(b.src_as[i] as u64, b.dst_as[i] as u64),
                        23 => two(b.input_if[i] as u64, b.output_if[i] as u64),
                        24 => two(pre(v4(&b.src_addr, i)?, b.src_mask[i]), 0),
                        25 => two(pre(v4(&b.dst_addr, i)?, b.dst_mask[i]), 0),
                        26 => two(
                            pre(v4(&b.src_addr, i)?, b.src_mask[i]),
                            pre(v4(&b.dst_addr, i)?, b.dst_mask[i]),
                        ),
                        27 => two(v4(&b.exporter, i)? as u64, 0),
                        30 => two(b.src_tag[i] as u64, 0),
                        31 => two(b.dst_tag[i] as u64, 0),
                        _ => two(b.src_tag[i] as u64, b.dst_tag[i] as u64),
                    };
                    total.add(o, p, d);
                    h.add(key, o, p, d);
                }
            }
        }
        Ok(())
    }

    /// The hash layout, for hash reports.
    pub fn dump(&self) -> Option<Dump> {
        match self.kind {
            Kind::Hash(d) => Some(d),
            _ => None,
        }
    }
}
