//! Writing findings: text for an analyst, CSV (one row per evidence flow), JSON (one document).

use super::{endpoint, Finding};
use crate::analyze::keys::csv_io;
use crate::model::counts::CountNote;
use crate::model::record::FlowRecord;
use crate::time;
use jiff::tz::TimeZone;
use serde::Serialize;
use std::io::{self, Write};

/// How findings are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HuntFormat {
    /// Ranked findings with their evidence flows, for reading.
    Text,
    /// One row per evidence flow, with the finding's columns repeated.
    Csv,
    /// One JSON document: `{"detector": ..., "findings": [...]}`.
    Json,
}

/// `s` with every time the detectors wrote in it (UTC RFC 3339, [`super::utc`]:
/// `2010-11-09T14:20:53.999Z`) rewritten by `render` in the display zone, so a report shows
/// one zone.
fn rezone_text(s: &str, render: &dyn Fn(i64) -> String) -> String {
    const SHAPE: &[u8; 24] = b"dddd-dd-ddTdd:dd:dd.dddZ";
    let fits = |w: &[u8]| {
        w.iter().zip(SHAPE).all(|(&c, &p)| match p {
            b'd' => c.is_ascii_digit(),
            _ => c == p,
        })
    };
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut copied = 0;
    while i + SHAPE.len() <= b.len() {
        if fits(&b[i..i + SHAPE.len()]) {
            if let Ok(t) = s[i..i + SHAPE.len()].parse::<jiff::Timestamp>() {
                out.push_str(&s[copied..i]);
                out.push_str(&render(t.as_millisecond()));
                i += SHAPE.len();
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&s[copied..]);
    out
}

/// A finding's facts and summary with their times in the display zone ([`rezone_text`]).
fn rezoned(f: &Finding, render: &dyn Fn(i64) -> String) -> Finding {
    fn walk(v: &mut serde_json::Value, render: &dyn Fn(i64) -> String) {
        match v {
            serde_json::Value::String(s) => *s = rezone_text(s, render),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|v| walk(v, render)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|v| walk(v, render)),
            _ => {}
        }
    }
    let mut out = f.clone();
    out.summary = rezone_text(&f.summary, render);
    out.facts.values_mut().for_each(|v| walk(v, render));
    out
}

fn proto_name(p: u8) -> String {
    crate::model::names::protocol(p)
        .map(str::to_string)
        .unwrap_or_else(|| p.to_string())
}

/// TCP flags as letters (`FSRPAU`), or `-` when none.
fn flag_letters(f: u8) -> String {
    let s: String = [
        (0x01, 'F'),
        (0x02, 'S'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x10, 'A'),
        (0x20, 'U'),
    ]
    .iter()
    .filter(|(bit, _)| f & bit != 0)
    .map(|(_, c)| *c)
    .collect();
    if s.is_empty() {
        "-".into()
    } else {
        s
    }
}

fn write_flow_text(
    out: &mut dyn Write,
    role: &str,
    r: &FlowRecord,
    tz: &TimeZone,
) -> io::Result<()> {
    let start = time::text(r.start_ms, tz);
    let end = time::text(r.end_ms, tz);
    // Show the end's date only when it differs from the start's.
    let end = if end.get(..10) == start.get(..10) {
        end[11..].to_string()
    } else {
        end
    };
    let flags = if r.protocol == 6 {
        flag_letters(r.tcp_flags)
    } else {
        String::new()
    };
    writeln!(
        out,
        "      {role:<12} {start}  {end:<w$}  {:<22} -> {:<22} {:<5} {:>7} {:>10} {flags}",
        endpoint(r.src_addr, r.src_port),
        endpoint(r.dst_addr, r.dst_port),
        proto_name(r.protocol),
        r.packets,
        r.octets,
        w = start.len().saturating_sub(11),
    )
}

/// Entries of a list fact shown in text (JSON has them all).
const TEXT_LIST: usize = 40;

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The facts of a finding, compactly: scalars on one line, lists of addresses with their
/// counts wrapped, other lists one entry a line.
fn write_facts(
    out: &mut dyn Write,
    facts: &serde_json::Map<String, serde_json::Value>,
) -> io::Result<()> {
    use serde_json::Value;
    let scalars: Vec<String> = facts
        .iter()
        .filter(|(_, v)| !matches!(v, Value::Array(_) | Value::Object(_)))
        .map(|(k, v)| format!("{k} {}", scalar(v)))
        .collect();
    if !scalars.is_empty() {
        writeln!(out, "    {}", scalars.join(", "))?;
    }
    for (k, v) in facts {
        let items = match v {
            Value::Array(a) if !a.is_empty() => a,
            Value::Object(o) => {
                let kv: Vec<String> = o
                    .iter()
                    .map(|(k, v)| format!("{k} {}", scalar(v)))
                    .collect();
                writeln!(out, "    {k}: {}", kv.join(", "))?;
                continue;
            }
            _ => continue,
        };
        let more = items.len().saturating_sub(TEXT_LIST);
        let tail = if more > 0 {
            format!(" ... and {more} more (--json lists all)")
        } else {
            String::new()
        };
        let counted = items
            .iter()
            .all(|i| i.get("address").is_some() && i.as_object().is_some_and(|o| o.len() >= 2));
        if counted {
            // `address (count)`, wrapped.
            let words: Vec<String> = items
                .iter()
                .take(TEXT_LIST)
                .map(|i| {
                    let n = i
                        .as_object()
                        .and_then(|o| o.iter().find(|(k, _)| *k != "address"))
                        .map(|(_, v)| scalar(v))
                        .unwrap_or_default();
                    format!("{} ({n})", scalar(&i["address"]))
                })
                .collect();
            writeln!(out, "    {k} ({}):", items.len())?;
            let mut line = String::new();
            for w in words {
                if line.len() + w.len() > 96 {
                    writeln!(out, "      {}", line.trim_end())?;
                    line.clear();
                }
                line.push_str(&w);
                line.push_str("  ");
            }
            writeln!(out, "      {}{tail}", line.trim_end())?;
        } else if items.iter().all(|i| !i.is_object()) {
            let list: Vec<String> = items.iter().take(TEXT_LIST).map(scalar).collect();
            writeln!(out, "    {k}: {}{tail}", list.join(", "))?;
        } else {
            writeln!(out, "    {k}:")?;
            for i in items.iter().take(TEXT_LIST) {
                let line = match i.as_object() {
                    Some(o) => o
                        .iter()
                        .map(|(k, v)| format!("{k} {}", scalar(v)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    None => scalar(i),
                };
                writeln!(out, "      {line}")?;
            }
            if more > 0 {
                writeln!(out, "     {tail}")?;
            }
        }
    }
    Ok(())
}

/// Writes findings as text: a header line, then each finding with its evidence.
pub fn write_text(
    out: &mut dyn Write,
    detector: &str,
    findings: &[Finding],
    tz: &TimeZone,
) -> io::Result<()> {
    match findings.len() {
        0 => writeln!(out, "{detector}: no findings")?,
        1 => writeln!(out, "{detector}: 1 finding")?,
        n => writeln!(out, "{detector}: {n} findings, highest score first")?,
    }
    for f in findings {
        let f = &rezoned(f, &|ms| time::text(ms, tz));
        writeln!(out)?;
        let who = match f.peer {
            Some(p) => format!("{}  peer {p}", f.subject),
            None => f.subject.to_string(),
        };
        // The kind is worth a word only where a detector has several (scan: horizontal ...).
        let kind = if f.kind == f.detector {
            String::new()
        } else {
            format!(" {}", f.kind)
        };
        writeln!(
            out,
            "#{} {}{kind}  score {:.1}  {who}  {} .. {}",
            f.rank,
            f.detector,
            f.score,
            time::text(f.first_ms, tz),
            time::text(f.last_ms, tz)
        )?;
        writeln!(out, "    {}", f.summary)?;
        write_facts(out, &f.facts)?;
        if f.evidence.is_empty() {
            continue;
        }
        let more = if f.evidence_omitted > 0 {
            format!(", {} more not shown", f.evidence_omitted)
        } else {
            String::new()
        };
        writeln!(out, "    evidence ({} flows{more}):", f.evidence.len())?;
        writeln!(
            out,
            "      {:<12} {:<w$}  {:<e$}  {:<22}    {:<22} {:<5} {:>7} {:>10} flags",
            "role",
            "start",
            "end",
            "source",
            "destination",
            "proto",
            "packets",
            "octets",
            w = time::text(0, tz).len(),
            e = time::text(0, tz).len().saturating_sub(11),
        )?;
        for e in &f.evidence {
            write_flow_text(out, e.role, &e.flow, tz)?;
        }
    }
    Ok(())
}

/// Writes findings as CSV: a header, then one row per evidence flow (a finding without
/// evidence gets one row with empty flow columns). Times are ISO 8601 in `tz` ([`time::iso`]).
/// Evidence flows show their exported counters (reverse ones and the sampling interval beside
/// them); the `counts` column says how the findings' volumes were counted.
pub fn write_csv(
    out: &mut dyn Write,
    findings: &[Finding],
    tz: &TimeZone,
    counts: &CountNote,
) -> io::Result<()> {
    let utc = |ms| time::iso(ms, tz);
    let mut w = csv::Writer::from_writer(out);
    let to_io = csv_io;
    w.write_record([
        "rank",
        "detector",
        "kind",
        "score",
        "subject",
        "peer",
        "first",
        "last",
        "summary",
        "role",
        "start",
        "end",
        "src_addr",
        "src_port",
        "dst_addr",
        "dst_port",
        "protocol",
        "tcp_flags",
        "packets",
        "octets",
        "rev_packets",
        "rev_octets",
        "sampling_interval",
        "counts",
    ])
    .map_err(to_io)?;
    let note = counts.csv_cell();
    for f in findings {
        let f = &rezoned(f, &|ms| time::iso(ms, tz));
        let head = [
            f.rank.to_string(),
            f.detector.to_string(),
            f.kind.to_string(),
            format!("{:.2}", f.score),
            f.subject.to_string(),
            f.peer.map(|p| p.to_string()).unwrap_or_default(),
            utc(f.first_ms),
            utc(f.last_ms),
            f.summary.clone(),
        ];
        if f.evidence.is_empty() {
            let mut row: Vec<String> = head.to_vec();
            row.extend(std::iter::repeat_n(String::new(), 14));
            row.push(note.clone());
            w.write_record(&row).map_err(to_io)?;
        }
        for e in &f.evidence {
            let r = &e.flow;
            let mut row: Vec<String> = head.to_vec();
            row.extend([
                e.role.to_string(),
                utc(r.start_ms),
                utc(r.end_ms),
                r.src_addr.to_string(),
                r.src_port.to_string(),
                r.dst_addr.to_string(),
                r.dst_port.to_string(),
                r.protocol.to_string(),
                r.tcp_flags.to_string(),
                r.packets.to_string(),
                r.octets.to_string(),
                r.rev_packets.to_string(),
                r.rev_octets.to_string(),
                r.sampling_interval.to_string(),
                note.clone(),
            ]);
            w.write_record(&row).map_err(to_io)?;
        }
    }
    w.flush()
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    first: String,
    last: String,
    #[serde(flatten)]
    finding: &'a Finding,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    detector: &'a str,
    counts: serde_json::Value,
    findings: Vec<JsonFinding<'a>>,
}

/// Writes findings as one JSON document (`first`/`last` added, and the times among the facts,
/// as ISO 8601 in `tz`, [`time::iso`]; how packets and octets were counted as `counts`).
pub fn write_json(
    out: &mut dyn Write,
    detector: &str,
    findings: &[Finding],
    tz: &TimeZone,
    counts: &CountNote,
) -> io::Result<()> {
    let rezoned: Vec<Finding> = findings
        .iter()
        .map(|f| rezoned(f, &|ms| time::iso(ms, tz)))
        .collect();
    let report = JsonReport {
        detector,
        counts: counts.json(),
        findings: rezoned
            .iter()
            .map(|f| JsonFinding {
                first: time::iso(f.first_ms, tz),
                last: time::iso(f.last_ms, tz),
                finding: f,
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &report).map_err(io::Error::from)?;
    writeln!(out)
}

/// Writes findings in `format`, with a note on how packets and octets were counted (`counts`:
/// scaled by sampling interval, biflows).
pub fn write(
    out: &mut dyn Write,
    format: HuntFormat,
    detector: &str,
    findings: &[Finding],
    tz: &TimeZone,
    counts: &CountNote,
) -> io::Result<()> {
    match format {
        HuntFormat::Text => {
            write_text(out, detector, findings, tz)?;
            write_counts_text(out, counts)
        }
        HuntFormat::Csv => write_csv(out, findings, tz, counts),
        HuntFormat::Json => write_json(out, detector, findings, tz, counts),
    }
}

/// The `note:` lines after the findings: how volumes were counted, and that evidence rows
/// show what the exporter sent.
fn write_counts_text(out: &mut dyn Write, counts: &CountNote) -> io::Result<()> {
    if counts.lines().is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    counts.write_text(out)?;
    writeln!(
        out,
        "note: evidence flows show their exported forward packets and octets (--json has the \
         reverse ones and the sampling interval)"
    )
}
