//! flow-tools' numbered reports as rows of values, for `flow-stat -f N --csv` / `--json`: the
//! keys and counts the text report prints, in the same order (`-S`/`-s` apply), one value per
//! column (a prefix is its network and its length, a pair two columns), keys as numbers and
//! addresses (no symbolic names), counts whole (no percentages).

use super::accum::{Counters, StatReport, State};
use super::report::{Dump, Kind};
use std::net::Ipv4Addr;

/// A report as a table: the key columns' names and one row per key, in the text's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRows {
    /// The key columns (field names of `docs/print-formats.md` where one fits).
    pub keys: Vec<&'static str>,
    /// What the counters of each row count (`flows`, `octets`, `packets`, `duration_ms`; f13
    /// and f14: `start_ms`, `end_ms` and `octets` or `packets`).
    pub counts: Vec<&'static str>,
    /// One row per key: its values as written, then its counts.
    pub rows: Vec<(Vec<String>, Vec<u64>)>,
}

/// The counters' columns of table and hash reports.
const COUNTS: [&str; 4] = ["flows", "octets", "packets", "duration_ms"];

fn counts(c: &Counters) -> Vec<u64> {
    vec![c.flows, c.octets, c.packets, c.duration]
}

/// The key columns of report `format` (tables and hashes).
fn key_names(format: usize) -> Vec<&'static str> {
    match format {
        1 => vec!["packet_size"],
        2 => vec!["flow_packets"],
        3 => vec!["flow_octets"],
        5 => vec!["dst_port"],
        6 => vec!["src_port"],
        7 => vec!["port"],
        8 => vec!["dst_addr"],
        9 => vec!["src_addr"],
        10 => vec!["src_addr", "dst_addr"],
        11 => vec!["addr"],
        12 => vec!["protocol"],
        16 => vec!["next_hop"],
        17 => vec!["input_if"],
        18 => vec!["output_if"],
        19 => vec!["src_as"],
        20 => vec!["dst_as"],
        21 => vec!["src_as", "dst_as"],
        22 => vec!["tos"],
        23 => vec!["input_if", "output_if"],
        24 => vec!["src_addr", "src_mask"],
        25 => vec!["dst_addr", "dst_mask"],
        26 => vec!["src_addr", "src_mask", "dst_addr", "dst_mask"],
        27 => vec!["exporter"],
        28 => vec!["engine_id"],
        29 => vec!["engine_type"],
        30 => vec!["src_tag"],
        31 => vec!["dst_tag"],
        _ => vec!["src_tag", "dst_tag"],
    }
}

/// A packed prefix (`addr << 8 | len`) as its network and its length.
fn prefix(k: u64) -> [String; 2] {
    [
        Ipv4Addr::from((k >> 8) as u32).to_string(),
        (k as u8).to_string(),
    ]
}

/// One value of a hash key (`k`) as the dump `d` writes it, split into its columns.
fn hash_key(d: Dump, k1: u64, k2: u64) -> Vec<String> {
    let ip = |k: u64| Ipv4Addr::from(k as u32).to_string();
    match d {
        Dump::C32(_) => vec![k1.to_string()],
        Dump::C322(..) | Dump::As2 | Dump::If2 => vec![k1.to_string(), k2.to_string()],
        Dump::Ip => vec![ip(k1)],
        Dump::Ip2 => vec![ip(k1), ip(k2)],
        Dump::Pre => prefix(k1).to_vec(),
        Dump::Pre2 => [prefix(k1), prefix(k2)].concat(),
    }
}

impl StatReport {
    /// The report as rows, or why it has none: f0 (the summary: use flow-stat's own summary
    /// `--csv`), f4 (not implemented) and f15 (one line of totals) are not tables.
    pub fn rows(&self) -> Result<ReportRows, String> {
        let f = self.opts.format;
        match (&self.kind, &self.state) {
            (Kind::Table { .. }, State::Table(t)) => Ok(ReportRows {
                keys: key_names(f),
                counts: COUNTS.to_vec(),
                rows: (self.table_order(&t.slots).into_iter())
                    .map(|i| (vec![i.to_string()], counts(&t.slots[i as usize])))
                    .collect(),
            }),
            (Kind::Hash(d), State::Hash(h)) => {
                let (keys, c) = h.in_order();
                let rows = (self.hash_order(*d, &keys, &c).into_iter())
                    .map(|i| {
                        let k = keys[i as usize];
                        let key = hash_key(*d, (k >> 64) as u64, k as u64);
                        (key, counts(&c[i as usize]))
                    })
                    .collect();
                Ok(ReportRows {
                    keys: key_names(f),
                    counts: COUNTS.to_vec(),
                    rows,
                })
            }
            (Kind::Plot { packets }, State::Plot(points)) => Ok(ReportRows {
                keys: Vec::new(),
                counts: vec![
                    "start_ms",
                    "end_ms",
                    if *packets { "packets" } else { "octets" },
                ],
                rows: (points.iter())
                    .map(|&(s, e, o, p)| {
                        let y = if *packets { p } else { o };
                        (Vec::new(), vec![s.max(0) as u64, e.max(0) as u64, y])
                    })
                    .collect(),
            }),
            _ => Err(format!(
                "report {f} is not a table; --csv and --json take reports 1-3, 5-14 and 16-32 \
                 (flow-stat --csv without -f writes the summary)"
            )),
        }
    }
}
