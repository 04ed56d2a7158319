//! Writing flow-stat's reports as text tables, CSV or JSON.

use super::group::GroupBy;
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

/// Writes the summary: totals, time range, and the protocols.
pub fn write_summary(
    out: &mut dyn Write,
    format: StatFormat,
    s: &Summary,
    tz: &TimeZone,
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
            w.write_record([
                String::new(),
                "total".into(),
                t.flows.to_string(),
                t.packets.to_string(),
                t.octets.to_string(),
                note,
            ])
            .map_err(csv_err)?;
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

/// Writes the top `n` of `top` by `metric`, with each value's share of all counted.
pub fn write_top(
    out: &mut dyn Write,
    format: StatFormat,
    top: &TopN,
    n: usize,
    metric: Metric,
) -> io::Result<()> {
    let rows = top.top(n, metric);
    let all: Totals = top.counted;
    if format != StatFormat::Json {
        let key = top.key().to_string();
        let texts: Vec<(Vec<String>, Totals)> = rows
            .iter()
            .map(|(k, t)| (vec![k.to_string()], *t))
            .collect();
        let ranked = Ranked {
            keys: &[key.as_str()],
            rows: &texts,
            distinct: top.distinct(),
            counted: all,
            counts: &top.counts,
            metric,
        };
        return ranked.write(out, format);
    }
    let share = |t: &Totals| pct(t.get(metric), all.get(metric));
    let list: Vec<serde_json::Value> = rows
        .iter()
        .enumerate()
        .map(|(i, (k, t))| {
            json!({"rank": i + 1, "key": k.to_string(), "flows": t.flows,
                   "packets": t.packets, "octets": t.octets, "share": share(t)})
        })
        .collect();
    json_out(
        out,
        &json!({
            "key": top.key(),
            "by": metric,
            "distinct": top.distinct(),
            "counted": all,
            "counts": top.counts.json(),
            "top": list,
        }),
    )
}

/// Writes the top `n` groups (all with 0) of a group-by: one column per key, as written.
pub fn write_group(
    out: &mut dyn Write,
    format: StatFormat,
    group: &GroupBy,
    n: usize,
    metric: Metric,
) -> io::Result<()> {
    let rows = group.top(n, metric);
    let all: Totals = group.counted;
    let names: Vec<&str> = group.keys().iter().map(|k| k.written.as_str()).collect();
    if format != StatFormat::Json {
        let ranked = Ranked {
            keys: &names,
            rows: &rows,
            distinct: group.distinct(),
            counted: all,
            counts: &group.counts,
            metric,
        };
        return ranked.write(out, format);
    }
    let share = |t: &Totals| pct(t.get(metric), all.get(metric));
    let list: Vec<serde_json::Value> = rows
        .iter()
        .enumerate()
        .map(|(i, (k, t))| {
            let key: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .zip(k)
                .map(|(n, v)| (n.to_string(), json!(v)))
                .collect();
            json!({"rank": i + 1, "key": key, "flows": t.flows,
                   "packets": t.packets, "octets": t.octets, "share": share(t)})
        })
        .collect();
    json_out(
        out,
        &json!({
            "keys": names,
            "by": metric,
            "distinct": group.distinct(),
            "counted": all,
            "counts": group.counts.json(),
            "top": list,
        }),
    )
}

/// Ranked rows of a top-N or group-by, as text or CSV: rank, one column per key, totals, share.
struct Ranked<'a> {
    keys: &'a [&'a str],
    rows: &'a [(Vec<String>, Totals)],
    distinct: usize,
    counted: Totals,
    counts: &'a CountNote,
    metric: Metric,
}

impl Ranked<'_> {
    fn write(&self, out: &mut dyn Write, format: StatFormat) -> io::Result<()> {
        let (metric, all) = (self.metric, self.counted);
        let share = |t: &Totals| pct(t.get(metric), all.get(metric));
        if format == StatFormat::Csv {
            let mut w = csv::Writer::from_writer(out);
            let mut head = vec!["rank".to_string()];
            head.extend(self.keys.iter().map(|n| n.to_string()));
            head.extend(["flows", "packets", "octets"].map(String::from));
            head.extend([format!("share_{metric}"), "counts".into()]);
            w.write_record(&head).map_err(csv_err)?;
            let note = self.counts.csv_cell();
            for (i, (k, t)) in self.rows.iter().enumerate() {
                let mut row = vec![(i + 1).to_string()];
                row.extend(k.iter().cloned());
                row.extend([t.flows, t.packets, t.octets].map(|v| v.to_string()));
                row.extend([format!("{:.4}", share(t)), note.clone()]);
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
        writeln!(
            out,
            "top {} {} by {metric} ({} distinct; {} flows, {} packets, {} octets counted)",
            self.rows.len(),
            self.keys.join(","),
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
        writeln!(
            out,
            "{:>4}  {}  {:>12} {:>14} {:>16} {:>7}",
            "rank",
            keys(self.keys),
            "flows",
            "packets",
            "octets",
            format!("%{metric}")
        )?;
        for (i, (k, t)) in self.rows.iter().enumerate() {
            let vals: Vec<&str> = k.iter().map(String::as_str).collect();
            writeln!(
                out,
                "{:>4}  {}  {:>12} {:>14} {:>16} {:>7.2}",
                i + 1,
                keys(&vals),
                t.flows,
                t.packets,
                t.octets,
                share(t)
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
