//! flow-stat `-p`: the archive header block of a flow-tools file, as flow-tools'
//! `ftio_header_print` writes it (mode, hostname, capture times in the local zone, counters,
//! interface names).

use jiff::{tz::TimeZone, Timestamp};
use std::io::{self, Write};

const FLAG_DONE: u32 = 0x1;
const FLAG_COMPRESS: u32 = 0x2;
const FLAG_STREAMING: u32 = 0x8;
const FLAG_XLATE: u32 = 0x10;
const FLAG_PRELOADED: u32 = 0x20;

/// The header fields flow-tools tracks (`FT_FIELD_*`), as read from the TLVs.
#[derive(Default)]
struct Fields {
    flags: Option<u32>,
    export_version: Option<u16>,
    agg_version: Option<u8>,
    agg_method: Option<u8>,
    exporter: Option<u32>,
    cap_start: Option<u32>,
    cap_end: Option<u32>,
    flows: Option<u32>,
    lost: Option<u32>,
    misordered: Option<u32>,
    corrupt: Option<u32>,
    seq_reset: Option<u32>,
    hostname: Option<String>,
    comments: Option<String>,
    if_names: Option<Vec<String>>,
    if_aliases: Option<Vec<String>>,
}

fn cstring(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Reads the fields of a stream-version-3 header (`raw`: the whole header, already checked by
/// [`crate::archive::flowtools::read_header`]).
fn v3_fields(raw: &[u8], big: bool) -> Fields {
    let u16_at = |b: &[u8], o: usize| {
        let v = [b[o], b[o + 1]];
        if big {
            u16::from_be_bytes(v)
        } else {
            u16::from_le_bytes(v)
        }
    };
    let u32_at = |b: &[u8], o: usize| {
        let v = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        if big {
            u32::from_be_bytes(v)
        } else {
            u32::from_le_bytes(v)
        }
    };
    let mut f = Fields::default();
    let mut off = 8;
    while off + 4 <= raw.len() {
        let (t, len) = (u16_at(raw, off), u16_at(raw, off + 2) as usize);
        let v = off + 4;
        if v + len > raw.len() {
            break;
        }
        let val = &raw[v..v + len];
        let word = || (len >= 4).then(|| u32_at(val, 0));
        match t {
            0x2 if len >= 2 => f.export_version = Some(u16_at(val, 0)),
            0x3 if len >= 1 => f.agg_version = Some(val[0]),
            0x4 if len >= 1 => f.agg_method = Some(val[0]),
            0x5 => f.exporter = word(),
            0x6 => f.cap_start = word(),
            0x7 => f.cap_end = word(),
            0x8 => f.flags = word(),
            0xA => f.flows = word(),
            0xB => f.lost = word(),
            0xC => f.misordered = word(),
            0xD => f.corrupt = word(),
            0xE => f.seq_reset = word(),
            0xF => f.hostname = Some(cstring(val)),
            0x10 => f.comments = Some(cstring(val)),
            0x11 if len >= 6 => {
                let ip = std::net::Ipv4Addr::from(u32_at(val, 0));
                let line = format!("ifname {ip} {} {}", u16_at(val, 4), cstring(&val[6..]));
                f.if_names.get_or_insert_with(Vec::new).push(line);
            }
            0x12 if len >= 6 => {
                let ip = std::net::Ipv4Addr::from(u32_at(val, 0));
                let n = u16_at(val, 4) as usize;
                if 6 + 2 * n <= len {
                    let mut line = format!("ifalias {ip} ");
                    for k in 0..n {
                        line.push_str(&format!("{} ", u16_at(val, 6 + 2 * k)));
                    }
                    line.push_str(&cstring(&val[6 + 2 * n..]));
                    f.if_aliases.get_or_insert_with(Vec::new).push(line);
                }
            }
            _ => {}
        }
        off = v + len;
    }
    f
}

/// Reads the fields of a stream-version-1 header (fixed layout, every field present).
fn v1_fields(raw: &[u8], big: bool) -> Fields {
    let u32_at = |o: usize| {
        let v = [raw[o], raw[o + 1], raw[o + 2], raw[o + 3]];
        if big {
            u32::from_be_bytes(v)
        } else {
            u32::from_le_bytes(v)
        }
    };
    let u16_at = |o: usize| {
        let v = [raw[o], raw[o + 1]];
        if big {
            u16::from_be_bytes(v)
        } else {
            u16::from_le_bytes(v)
        }
    };
    Fields {
        export_version: Some(u16_at(4)),
        agg_version: Some(raw[6]),
        agg_method: Some(raw[7]),
        cap_start: Some(u32_at(8)),
        cap_end: Some(u32_at(12)),
        flags: Some(u32_at(16)),
        flows: Some(u32_at(24)),
        lost: Some(u32_at(28)),
        misordered: Some(u32_at(32)),
        hostname: Some(cstring(&raw[36..104])),
        comments: Some(cstring(&raw[104..360])),
        ..Fields::default()
    }
}

/// flow-tools' names of the v8 aggregation methods.
fn agg_name(m: u8) -> &'static str {
    const NAMES: [&str; 14] = [
        "AS",
        "Protocol Port",
        "Source Prefix",
        "Destination Prefix",
        "Prefix",
        "Destination",
        "Source Destination",
        "Full Flow",
        "ToS AS",
        "ToS Proto Port",
        "ToS Source Prefix",
        "ToS Destination Prefix",
        "ToS Prefix",
        "ToS Prefix Port",
    ];
    match m {
        1..=14 => NAMES[m as usize - 1],
        _ => "Unknown",
    }
}

/// Writes the header block of the flow-tools file whose header bytes are `raw` (a whole
/// header, as [`crate::archive::flowtools::read_header`] accepted it), with comment character `cc`
/// and capture times in `tz`.
pub fn write_header_block(
    out: &mut impl Write,
    cc: char,
    raw: &[u8],
    tz: &TimeZone,
) -> io::Result<()> {
    let big = raw.get(2) == Some(&2);
    let s_version = raw.get(3).copied().unwrap_or(0);
    let f = if s_version == 1 && raw.len() >= 360 {
        v1_fields(raw, big)
    } else {
        v3_fields(raw, big)
    };
    let flags = f.flags.unwrap_or(0);
    let streaming = flags & FLAG_STREAMING != 0;
    let streaming2 = streaming && flags & FLAG_PRELOADED == 0;
    let finished = flags & (FLAG_DONE | FLAG_PRELOADED) != 0;
    let time = |t: u32| {
        Timestamp::from_second(t as i64)
            .map(|ts| {
                ts.to_zoned(tz.clone())
                    .strftime("%a, %d %b %Y %H:%M:%S %z")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let mode = if streaming { "streaming" } else { "normal" };
    writeln!(out, "{cc}\n{cc} mode:                 {mode}")?;
    if flags & FLAG_XLATE != 0 {
        writeln!(out, "{cc} translated:           yes")?;
    }
    if !streaming {
        if let Some(h) = &f.hostname {
            writeln!(out, "{cc} capture hostname:     {h}")?;
        }
        if let Some(ip) = f.exporter {
            let ip = std::net::Ipv4Addr::from(ip);
            writeln!(out, "{cc} exporter IP address:  {ip}")?;
        }
    }
    if !streaming2 {
        if let Some(t) = f.cap_start {
            writeln!(out, "{cc} capture start:        {}", time(t))?;
        }
        if finished {
            if let Some(t) = f.cap_end {
                writeln!(out, "{cc} capture end:          {}", time(t))?;
            }
            if let (Some(s), Some(e)) = (f.cap_start, f.cap_end) {
                let period = e.wrapping_sub(s);
                writeln!(out, "{cc} capture period:       {period} seconds")?;
            }
        }
    }
    let compress = if flags & FLAG_COMPRESS != 0 {
        "on"
    } else {
        "off"
    };
    writeln!(out, "{cc} compress:             {compress}")?;
    let order = match raw.get(2) {
        Some(1) => "little",
        Some(2) => "big",
        _ => "BROKEN",
    };
    writeln!(out, "{cc} byte order:           {order}")?;
    writeln!(out, "{cc} stream version:       {s_version}")?;
    if let Some(v) = f.export_version {
        writeln!(out, "{cc} export version:       {v}")?;
        if let (8, Some(m)) = (v, f.agg_method) {
            if let Some(av) = f.agg_version {
                writeln!(out, "{cc} export agg_version:   {av}")?;
            }
            writeln!(out, "{cc} export agg_method:    {m} ({})", agg_name(m))?;
        }
    }
    if !streaming2 {
        let counters = [
            ("lost flows:          ", f.lost),
            ("misordered flows:    ", f.misordered),
            ("corrupt packets:     ", f.corrupt),
            ("sequencer resets:    ", f.seq_reset),
        ];
        for (name, v) in counters {
            if let Some(v) = v {
                writeln!(out, "{cc} {name} {v}")?;
            }
        }
    }
    if let Some(c) = &f.comments {
        writeln!(out, "{cc} comments:             {c}")?;
    }
    if !streaming2 {
        if finished {
            if let Some(n) = f.flows {
                writeln!(out, "{cc} capture flows:        {n}")?;
            }
        } else {
            writeln!(out, "{cc} note, incomplete flow file")?;
        }
    }
    for list in [&f.if_names, &f.if_aliases].into_iter().flatten() {
        writeln!(out, "{cc}")?;
        for line in list {
            writeln!(out, "{cc} {line}")?;
        }
    }
    writeln!(out, "{cc}")
}
