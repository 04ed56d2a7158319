//! Writing flow-stat's reports as text tables, CSV or JSON.

use super::group::GroupBy;
use super::measure::{Measure, Measured};
use super::{KeyValue, Metric, Summary, TimeBins, TopN, Totals};
use crate::model::counts::CountNote;
use crate::time::{iso, text as civil};
use jiff::tz::TimeZone;
use serde_json::json;
use std::io::{self, Write};

/// How a report is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatFormat {
    /// Aligned columns for reading.
    Text,
    /// A header and one row per line of the report.
    Csv,
    /// One JSON document.
    Json,
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

use crate::analyze::keys::csv_io as csv_err;

fn json_out(out: &mut dyn Write, v: &serde_json::Value) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, v).map_err(io::Error::from)?;
    writeln!(out)
}

fn proto_label(p: u8) -> String {
    KeyValue::Protocol(p).to_string()
}

/// Writes the summary: totals, time range, and the protocols. CSV has one row per protocol,
/// and a `total` row after them only with `total_row` (a table a program sums should not hold
/// its own sum).
pub fn write_summary(
    out: &mut dyn Write,
    format: StatFormat,
    s: &Summary,
    tz: &TimeZone,
    total_row: bool,
) -> io::Result<()> {
    let t = s.totals;
    match format {
        StatFormat::Text => {
            writeln!(out, "flows        {}", t.flows)?;
            writeln!(out, "packets      {}", t.packets)?;
            writeln!(out, "octets       {}", t.octets)?;
            if let (Some(a), Some(b)) = (s.first_ms, s.last_ms) {
                writeln!(out, "first start  {}", civil(a, tz))?;
                writeln!(out, "last end     {}", civil(b, tz))?;
                writeln!(
                    out,
                    "duration     {}",
                    crate::analyze::keys::human_ms(b - a)
                )?;
            }
            writeln!(out)?;
            writeln!(
                out,
                "{:<10} {:>12} {:>7} {:>14} {:>7} {:>16} {:>7}",
                "protocol", "flows", "%", "packets", "%", "octets", "%"
            )?;
            for (p, x) in s.protocols() {
                writeln!(
                    out,
                    "{:<10} {:>12} {:>7.2} {:>14} {:>7.2} {:>16} {:>7.2}",
                    proto_label(p),
                    x.flows,
                    pct(x.flows, t.flows),
                    x.packets,
                    pct(x.packets, t.packets),
                    x.octets,
                    pct(x.octets, t.octets)
                )?;
            }
            s.counts.write_text(out)
        }
        StatFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            let note = s.counts.csv_cell();
            w.write_record(["protocol", "name", "flows", "packets", "octets", "counts"])
                .map_err(csv_err)?;
            for (p, x) in s.protocols() {
                w.write_record([
                    p.to_string(),
                    proto_label(p),
                    x.flows.to_string(),
                    x.packets.to_string(),
                    x.octets.to_string(),
                    note.clone(),
                ])
                .map_err(csv_err)?;
            }
            if total_row {
                w.write_record([
                    String::new(),
                    "total".into(),
                    t.flows.to_string(),
                    t.packets.to_string(),
                    t.octets.to_string(),
                    note,
                ])
                .map_err(csv_err)?;
            }
            w.flush()
        }
        StatFormat::Json => {
            let protos: Vec<serde_json::Value> = s
                .protocols()
                .into_iter()
                .map(|(p, x)| {
                    json!({"protocol": p, "name": proto_label(p), "flows": x.flows,
                           "packets": x.packets, "octets": x.octets})
                })
                .collect();
            json_out(
                out,
                &json!({
                    "flows": t.flows,
                    "packets": t.packets,
                    "octets": t.octets,
                    "first_start": s.first_ms.map(|t| iso(t, tz)),
                    "last_end": s.last_ms.map(|t| iso(t, tz)),
                    "first_start_ms": s.first_ms,
                    "last_end_ms": s.last_ms,
                    "counts": s.counts.json(),
                    "protocols": protos,
                }),
            )
        }
    }
}

/// A row's key as a JSON object, one member per key column (`{"srcaddr": .., "dstport": ..}`).
fn key_object(names: &[&str], k: &[String]) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = (names.iter().zip(k))
        .map(|(n, v)| (n.to_string(), json!(v)))
        .collect();
    serde_json::Value::Object(map)
}

/// Writes the top `n` of `top` by `by`, with each value's share of all counted; `timed` adds
/// the duration, bps, pps and bpp columns (and `--distinct`'s column comes when counted).
pub fn write_top(
    out: &mut dyn Write,
    format: StatFormat,
    top: &TopN,
    n: usize,
    by: Measure,
    timed: bool,
) -> io::Result<()> {
    // Text shows a pair as one key (`A -> B`); CSV and JSON give each address its own column.
    let split = format != StatFormat::Text;
    let rows: Vec<(Vec<String>, Measured)> = (top.top(n, by).into_iter())
        .map(|(k, m)| match split {
            true => (k.parts(), m),
            false => (vec![k.to_string()], m),
        })
        .collect();
    let key = match split {
        true => top.key().columns(),
        false => vec![top.key().to_string()],
    };
    let names: Vec<&str> = key.iter().map(String::as_str).collect();
    let ranked = Ranked {
        keys: &names,
        rows: &rows,
        distinct: top.distinct(),
        counted: top.counted,
        counts: &top.counts,
        by,
        timed,
        distinct_column: top.distinct_column(),
        bin: None,
        header: true,
    };
    match format {
        StatFormat::Json if names.len() == 1 => {
            ranked.write_json(out, json!(top.key()), "key", |k| json!(k[0]))
        }
        StatFormat::Json => {
            ranked.write_json(out, json!(top.key()), "key", |k| key_object(&names, k))
        }
        _ => ranked.write(out, format),
    }
}

/// Writes the top `n` groups (all with 0) of a group-by: one column per key, as written, then
/// every measure.
pub fn write_group(
    out: &mut dyn Write,
    format: StatFormat,
    group: &GroupBy,
    n: usize,
    by: Measure,
) -> io::Result<()> {
    let rows = group.top(n, by);
    let names: Vec<&str> = group.keys().iter().map(|k| k.written.as_str()).collect();
    write_group_rows(out, format, group, (&names, group.distinct()), &rows, by)
}

/// Writes ranked group rows (`names` the keys as written): [`write_group`]'s table for rows
/// made elsewhere, such as groups folded by a looked-up field
/// ([`super::geo_group::GeoGrouping::top`]), of `distinct` groups in all; the totals are
/// `group`'s.
pub fn write_group_rows(
    out: &mut dyn Write,
    format: StatFormat,
    group: &GroupBy,
    (names, distinct): (&[&str], usize),
    rows: &[(Vec<String>, Measured)],
    by: Measure,
) -> io::Result<()> {
    let ranked = Ranked {
        keys: names,
        rows,
        distinct,
        counted: group.counted,
        counts: &group.counts,
        by,
        timed: true,
        distinct_column: group.distinct_column(),
        bin: None,
        header: true,
    };
    match format {
        StatFormat::Json => ranked.write_json(out, json!(names), "keys", |k| key_object(names, k)),
        _ => ranked.write(out, format),
    }
}

/// Writes the top `n` groups (all with 0) of every time bin of a group-by per bin
/// ([`GroupBy::per_bin`]), in time order: text, one table per bin under a `bin START:` title;
/// CSV with a `bin` column first (the ranks start again in each bin; the shares are of the
/// bin's totals). JSON: one document `{"keys", "by", "bin_ms", "counts", "bins": [{"bin",
/// "distinct", "counted", "top"}]}`, times in ISO 8601 in `tz`.
pub fn write_group_bins(
    out: &mut dyn Write,
    format: StatFormat,
    group: &GroupBy,
    n: usize,
    by: Measure,
    tz: &TimeZone,
) -> io::Result<()> {
    let names: Vec<&str> = (group.keys().iter().skip(1))
        .map(|k| k.written.as_str())
        .collect();
    let bins = group.top_per_bin(n, by);
    let none = CountNote::new(group.counts.raw);
    if format == StatFormat::Json {
        let key = |k: &[String]| key_object(&names, k);
        let list: Vec<serde_json::Value> = bins
            .iter()
            .map(|bin| {
                let mut doc = Ranked {
                    keys: &names,
                    rows: &bin.rows,
                    distinct: bin.groups,
                    counted: bin.counted,
                    counts: &none,
                    by,
                    timed: true,
                    distinct_column: group.distinct_column(),
                    bin: None,
                    header: false,
                }
                .json_doc(key);
                if let Some(map) = doc.as_object_mut() {
                    map.remove("counts");
                    map.remove("by");
                }
                doc["bin"] = json!(iso(bin.start_ms, tz));
                doc
            })
            .collect();
        let doc = json!({
            "keys": names,
            "by": by,
            "bin_ms": group.keys().first().map_or(0, |k| k.bin_ms),
            "counts": group.counts.json(),
            "bins": list,
        });
        return json_out(out, &doc);
    }
    for (i, bin) in bins.iter().enumerate() {
        let last = i + 1 == bins.len();
        let ranked = Ranked {
            keys: &names,
            rows: &bin.rows,
            distinct: bin.groups,
            counted: bin.counted,
            // The note on how packets and octets were counted: once, at the end.
            counts: if last && format == StatFormat::Text {
                &group.counts
            } else {
                &none
            },
            by,
            timed: true,
            distinct_column: group.distinct_column(),
            // CSV times carry their offset, as everywhere (docs/time.md); text is civil.
            bin: Some(match format {
                StatFormat::Csv => iso(bin.start_ms, tz),
                _ => civil(bin.start_ms, tz),
            }),
            header: i == 0,
        };
        if format == StatFormat::Csv {
            // Every row's counts cell is the whole run's note.
            Ranked {
                counts: &group.counts,
                ..ranked
            }
            .write(out, format)?;
        } else {
            ranked.write(out, format)?;
        }
    }
    if bins.is_empty() && format == StatFormat::Text {
        writeln!(out, "no flows")?;
    }
    Ok(())
}

/// Ranked rows of a top-N or group-by: rank, one column per key, totals, the measures shown,
/// share.
struct Ranked<'a> {
    keys: &'a [&'a str],
    rows: &'a [(Vec<String>, Measured)],
    distinct: usize,
    counted: Totals,
    counts: &'a CountNote,
    by: Measure,
    /// Shows duration, bps, pps and bpp.
    timed: bool,
    /// The `--distinct` column's name.
    distinct_column: Option<String>,
    /// The time bin of these rows (`--bin` with `--top`), as written.
    bin: Option<String>,
    /// Writes the CSV header (the first bin's rows only do).
    header: bool,
}

impl Ranked<'_> {
    /// What the share column is a share of: `--by` when it is a sum, else flows.
    fn share_of(&self) -> Metric {
        self.by.metric().unwrap_or(Metric::Flows)
    }

    fn share(&self, m: &Measured) -> f64 {
        let of = self.share_of();
        pct(m.totals.get(of), self.counted.get(of))
    }

    /// The measures shown after flows, packets and octets: names and values.
    fn extra_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if self.timed {
            names.extend(["duration", "bps", "pps", "bpp"].map(String::from));
        }
        names.extend(self.distinct_column.clone());
        names
    }

    fn extra_values(&self, m: &Measured) -> Vec<u64> {
        let mut values = Vec::new();
        if self.timed {
            values.extend([m.duration_ms, m.bps, m.pps, m.bpp]);
        }
        if self.distinct_column.is_some() {
            values.push(m.distinct);
        }
        values
    }

    fn write_json(
        &self,
        out: &mut dyn Write,
        keys: serde_json::Value,
        keys_name: &str,
        key: impl Fn(&[String]) -> serde_json::Value,
    ) -> io::Result<()> {
        let mut doc = self.json_doc(key);
        doc[keys_name] = keys;
        json_out(out, &doc)
    }

    /// The rows as JSON: `by`, `distinct`, `counted`, `counts` and the `top` rows.
    fn json_doc(&self, key: impl Fn(&[String]) -> serde_json::Value) -> serde_json::Value {
        let names = self.extra_names();
        let list: Vec<serde_json::Value> = (self.rows.iter().enumerate())
            .map(|(i, (k, m))| {
                let mut row = json!({"rank": i + 1, "key": key(k), "flows": m.totals.flows,
                       "packets": m.totals.packets, "octets": m.totals.octets,
                       "share": self.share(m)});
                for (name, v) in names.iter().zip(self.extra_values(m)) {
                    let name = if name == "duration" {
                        "duration_ms"
                    } else {
                        name
                    };
                    row[name] = json!(v);
                }
                row
            })
            .collect();
        json!({
            "by": self.by,
            "distinct": self.distinct,
            "counted": self.counted,
            "counts": self.counts.json(),
            "top": list,
        })
    }

    fn write(&self, out: &mut dyn Write, format: StatFormat) -> io::Result<()> {
        let (all, of) = (self.counted, self.share_of());
        let extra = self.extra_names();
        if format == StatFormat::Csv {
            let mut w = csv::Writer::from_writer(out);
            let mut head: Vec<String> = self.bin.iter().map(|_| "bin".to_string()).collect();
            head.push("rank".to_string());
            head.extend(self.keys.iter().map(|n| n.to_string()));
            head.extend(["flows", "packets", "octets"].map(String::from));
            head.extend(extra.iter().cloned());
            head.extend([format!("share_{of}"), "counts".into()]);
            if self.header {
                w.write_record(&head).map_err(csv_err)?;
            }
            let note = self.counts.csv_cell();
            for (i, (k, m)) in self.rows.iter().enumerate() {
                let t = m.totals;
                let mut row: Vec<String> = self.bin.iter().cloned().collect();
                row.push((i + 1).to_string());
                row.extend(k.iter().cloned());
                row.extend([t.flows, t.packets, t.octets].map(|v| v.to_string()));
                row.extend(self.extra_values(m).iter().map(u64::to_string));
                row.extend([format!("{:.4}", self.share(m)), note.clone()]);
                w.write_record(&row).map_err(csv_err)?;
            }
            return w.flush();
        }
        let widths: Vec<usize> = (self.keys.iter().enumerate())
            .map(|(j, name)| {
                (self.rows.iter())
                    .map(|(k, _)| k[j].len())
                    .max()
                    .unwrap_or(0)
                    .max(name.len())
            })
            .collect();
        if let Some(bin) = &self.bin {
            write!(out, "bin {bin}: ")?;
        }
        writeln!(
            out,
            "top {} {} by {} ({} distinct; {} flows, {} packets, {} octets counted)",
            self.rows.len(),
            self.keys.join(","),
            self.by,
            self.distinct,
            all.flows,
            all.packets,
            all.octets
        )?;
        let keys = |vals: &[&str]| {
            (vals.iter().zip(&widths))
                .map(|(v, &w)| format!("{v:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
        };
        // Text names the duration's unit; the extra columns are as wide as their names.
        let extra_text: Vec<String> = (extra.iter())
            .map(|n| match n.as_str() {
                "duration" => "duration_ms".to_string(),
                _ => n.clone(),
            })
            .collect();
        let extra_widths: Vec<usize> = (extra_text.iter()).map(|n| n.len().max(8)).collect();
        let extra_cells = |vals: &[String]| -> String {
            (vals.iter().zip(&extra_widths))
                .map(|(v, &w)| format!(" {v:>w$}"))
                .collect()
        };
        writeln!(
            out,
            "{:>4}  {}  {:>12} {:>14} {:>16}{} {:>7}",
            "rank",
            keys(self.keys),
            "flows",
            "packets",
            "octets",
            extra_cells(&extra_text),
            format!("%{of}")
        )?;
        for (i, (k, m)) in self.rows.iter().enumerate() {
            let vals: Vec<&str> = k.iter().map(String::as_str).collect();
            let t = m.totals;
            let extra: Vec<String> = (self.extra_values(m).iter()).map(u64::to_string).collect();
            writeln!(
                out,
                "{:>4}  {}  {:>12} {:>14} {:>16}{} {:>7.2}",
                i + 1,
                keys(&vals),
                t.flows,
                t.packets,
                t.octets,
                extra_cells(&extra),
                self.share(m)
            )?;
        }
        self.counts.write_text(out)
    }
}

/// Writes the time bins (empty ones included).
pub fn write_bins(
    out: &mut dyn Write,
    format: StatFormat,
    bins: &TimeBins,
    tz: &TimeZone,
) -> io::Result<()> {
    let series = bins.series();
    match format {
        StatFormat::Text => {
            writeln!(
                out,
                "{:<w$}  {:>12} {:>14} {:>16}",
                "bin start",
                "flows",
                "packets",
                "octets",
                w = civil(0, tz).len(),
            )?;
            for (t, x) in &series {
                writeln!(
                    out,
                    "{:<23}  {:>12} {:>14} {:>16}",
                    civil(*t, tz),
                    x.flows,
                    x.packets,
                    x.octets
                )?;
            }
            bins.counts.write_text(out)
        }
        StatFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(["start", "start_ms", "flows", "packets", "octets", "counts"])
                .map_err(csv_err)?;
            let note = bins.counts.csv_cell();
            for (t, x) in &series {
                w.write_record([
                    iso(*t, tz),
                    t.to_string(),
                    x.flows.to_string(),
                    x.packets.to_string(),
                    x.octets.to_string(),
                    note.clone(),
                ])
                .map_err(csv_err)?;
            }
            w.flush()
        }
        StatFormat::Json => {
            let list: Vec<serde_json::Value> = series
                .iter()
                .map(|(t, x)| {
                    json!({"start": iso(*t, tz), "start_ms": t, "flows": x.flows,
                           "packets": x.packets, "octets": x.octets})
                })
                .collect();
            json_out(
                out,
                &json!({"bin_ms": bins.width_ms(), "counts": bins.counts.json(), "bins": list}),
            )
        }
    }
}

/// Writes flow-tools report `format` ([`super::flowtools::rows::ReportRows`]) as CSV (a header
/// of the key and count columns, one row per key) or one JSON document `{"report", "name",
/// "rows": [{column: value}]}` (numbers as numbers, addresses as strings).
pub fn write_flowtools_rows(
    out: &mut dyn Write,
    format: StatFormat,
    report: usize,
    rows: &super::flowtools::rows::ReportRows,
) -> io::Result<()> {
    let names: Vec<&str> = rows.keys.iter().chain(&rows.counts).copied().collect();
    if format == StatFormat::Json {
        let list: Vec<serde_json::Value> = (rows.rows.iter())
            .map(|(keys, counts)| {
                let mut m = serde_json::Map::new();
                for (name, v) in rows.keys.iter().zip(keys) {
                    let v = v.parse::<u64>().map_or_else(|_| json!(v), |n| json!(n));
                    m.insert(name.to_string(), v);
                }
                for (name, v) in rows.counts.iter().zip(counts) {
                    m.insert(name.to_string(), json!(v));
                }
                serde_json::Value::Object(m)
            })
            .collect();
        let name = super::flowtools::FORMAT_NAMES
            .get(report)
            .copied()
            .unwrap_or("");
        return json_out(out, &json!({"report": report, "name": name, "rows": list}));
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&names).map_err(csv_err)?;
    for (keys, counts) in &rows.rows {
        let row = keys
            .iter()
            .cloned()
            .chain(counts.iter().map(u64::to_string));
        w.write_record(row).map_err(csv_err)?;
    }
    w.flush()
}
