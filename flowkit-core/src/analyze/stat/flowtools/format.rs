//! Printing a flow-stat report in flow-tools 0.68.5's exact layout: column widths, padding,
//! order of keys (descending tables, first-seen hashes), stable sorts and C float formats.

use super::accum::{Chash, Counters, PlotPoint, StatReport, State, Summary0};
use super::report::{Dump, Kind};
use std::io::{self, Write};
use std::net::Ipv4Addr;

/// Entries per chunk of flow-tools' hash; each new chunk goes to the head of its list, so a
/// hash with more keys lists later chunks first.
const CHUNK: usize = 65536;

/// C's `%-W.Ws`: `s` cut to `w` characters and padded to `w`.
fn cstr(s: &str, w: usize) -> String {
    let mut out = String::with_capacity(w);
    push_cut(&mut out, s, w);
    out
}

/// Appends C's `%-W.Ws` of `s` to `line`.
fn push_cut(line: &mut String, s: &str, w: usize) {
    let mut n = 0;
    for ch in s.chars().take(w) {
        line.push(ch);
        n += 1;
    }
    line.extend(std::iter::repeat_n(' ', w - n));
}

/// C's `%.Nf` of a double (inf and nan spelled as glibc does).
fn cf(v: f64, prec: usize) -> String {
    if v.is_nan() {
        if v.is_sign_negative() { "-nan" } else { "nan" }.to_string()
    } else if v.is_infinite() {
        if v < 0.0 { "-inf" } else { "inf" }.to_string()
    } else {
        format!("{v:.prec$}")
    }
}

/// C's `%-6.3f` of `part / whole * 100` (0/0 is `-nan` on x86, as flow-tools prints it).
fn pct(part: u64, whole: u64) -> String {
    let v = if whole == 0 && part == 0 {
        -f64::NAN
    } else {
        part as f64 / whole as f64 * 100.0
    };
    format!("{:<6}", cf(v, 3))
}

/// flow-tools' `fmt_ipv4prefix`: trailing zero octets dropped (at least one kept), then `/len`.
fn prefix(addr: u32, len: u8) -> String {
    let o = addr.to_be_bytes();
    let mut n = 4;
    while n > 1 && o[n - 1] == 0 {
        n -= 1;
    }
    let parts: Vec<String> = o[..n].iter().map(|x| x.to_string()).collect();
    let len = if len > 32 { 0 } else { len };
    format!("{}/{len}", parts.join("."))
}

fn unpre(k: u64) -> String {
    prefix((k >> 8) as u32, k as u8)
}

impl StatReport {
    /// The name of `v` with `-n` (cut to `max` characters, as flow-tools' `fmt_uint16s`
    /// does), if the symbol file has one.
    fn sym(&self, v: u64, max: usize) -> Option<String> {
        let name = self.symbols.as_ref()?.name(v as u32)?;
        Some(name.chars().take(max).collect())
    }

    /// Prints the report body (what follows the preamble and the optional header block). A
    /// report whose fields the records lack is not printed at all: the caller checks
    /// [`super::RecordFields::serve`] first and prints flow-tools' error instead.
    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let cc = self.opts.cc;
        match (&self.kind, &self.state) {
            (Kind::Summary, State::Summary(s)) => write_summary(out, s),
            (Kind::NotImplemented, _) => writeln!(out, "Not implemented."),
            (Kind::Short, _) => {
                writeln!(
                    out,
                    "{cc}\n{cc} Octets            Packets             MBytes\n{cc}"
                )?;
                let mb = self.total.octets as f64 / 1_000_000.0;
                writeln!(
                    out,
                    "{:<20}{:<20}{}",
                    self.total.octets,
                    self.total.packets,
                    cf(mb, 3)
                )
            }
            (Kind::Plot { packets }, State::Plot(v)) => self.write_plot(out, *packets, v),
            (Kind::Table { title, .. }, State::Table(t)) => self.write_table(out, title, &t.slots),
            (Kind::Hash(d), State::Hash(h)) => self.write_hash(out, *d, h),
            _ => unreachable!("kind and state are made together"),
        }
    }

    fn write_plot(&self, out: &mut impl Write, packets: bool, v: &[PlotPoint]) -> io::Result<()> {
        let cc = self.opts.cc;
        let (what, gap) = if packets {
            ("packets", "    ")
        } else {
            ("octets", "   ")
        };
        if packets {
            writeln!(
                out,
                "{cc}\n{cc} start     {what}\n{cc} end       {what}\n{cc}"
            )?;
        } else {
            writeln!(
                out,
                "{cc}\n{cc} start      {what}\n{cc} end        {what}\n{cc}"
            )?;
        }
        // flowkit keeps absolute times: x is ms since the earliest flow start.
        let base = v.iter().map(|p| p.0).min().unwrap_or(0);
        let (mut xmin, mut ymin, mut xmax, mut ymax) =
            (u32::MAX as u64, u32::MAX as u64, 0u64, 0u64);
        for &(s, e, octets, pkts) in v {
            let (first, last) = ((s - base) as u64, (e - base) as u64);
            xmax = xmax.max(last);
            xmin = xmin.min(first);
            let y = if packets { pkts } else { octets };
            // flow-tools' f14 compares the flow's octets with the packet extremes it keeps
            // (a bug, copied so the last line matches).
            if octets > ymax {
                ymax = y;
            }
            if octets < ymin {
                ymin = y;
            }
            writeln!(out, "{first:<10}{gap}{y:<10}")?;
            writeln!(out, "{last:<10}{gap}{y:<10}\n")?;
        }
        writeln!(
            out,
            "{cc} xmin={xmin:<10}   ymin={ymin:<10}   xmax={xmax:<10}   ymax={ymax:<10}"
        )
    }

    fn header(&self, out: &mut impl Write, title: &str) -> io::Result<()> {
        let cc = self.opts.cc;
        let cols = match (self.opts.percent, self.opts.wide) {
            (true, true) => "flows    octets   packets  duration",
            (true, false) => "flows    octets   packets",
            (false, true) => {
                "flows                 octets                packets               duration"
            }
            (false, false) => "flows                 octets                packets",
        };
        writeln!(out, "{cc}\n{cc} {title}{cols}\n{cc}")
    }

    /// The counter columns: percentages, or numbers padded to 20 with the last one padded when
    /// `pad_last` (flow-tools pads it in some dumps and not in others).
    fn counts(&self, line: &mut String, c: &Counters, pad_last: bool) {
        use std::fmt::Write as _;
        let t = &self.total;
        // Writing to a String cannot fail.
        let _ = if self.opts.percent {
            let r = write!(
                line,
                "{}   {}   {}",
                pct(c.flows, t.flows),
                pct(c.octets, t.octets),
                pct(c.packets, t.packets)
            );
            if self.opts.wide {
                let _ = write!(line, "   {}", pct(c.duration, t.duration));
            }
            r
        } else if self.opts.wide {
            write!(
                line,
                "{:<20}  {:<20}  {:<20}  {}",
                c.flows, c.octets, c.packets, c.duration
            )
        } else if pad_last {
            write!(line, "{:<20}  {:<20}  {:<20}", c.flows, c.octets, c.packets)
        } else {
            write!(line, "{:<20}  {:<20}  {}", c.flows, c.octets, c.packets)
        };
        line.push('\n');
    }

    /// The slots of a table report that have flows, in the order printed (`-S`/`-s`).
    pub(super) fn table_order(&self, slots: &[Counters]) -> Vec<u32> {
        let mut index: Vec<u32> = (0..slots.len() as u32).collect();
        let field: Option<fn(&Counters) -> u64> = match self.opts.sort_order.unsigned_abs() {
            2 => Some(|c| c.flows),
            3 => Some(|c| c.octets),
            4 => Some(|c| c.packets),
            5 => Some(|c| c.duration),
            _ => None,
        };
        if let Some(f) = field {
            index.sort_by_key(|&i| f(&slots[i as usize]));
        }
        if self.opts.sort_order >= 0 {
            index.reverse();
        }
        index.retain(|&i| slots[i as usize].flows != 0);
        index
    }

    fn write_table(&self, out: &mut impl Write, title: &str, slots: &[Counters]) -> io::Result<()> {
        let w = if self.opts.wide { 15 } else { 10 };
        self.header(out, &cstr(title, w))?;
        for i in self.table_order(slots) {
            let c = &slots[i as usize];
            let mut line = String::new();
            let key = self.sym(i as u64, 15).unwrap_or_else(|| i.to_string());
            push_cut(&mut line, &key, w);
            line.push_str("  ");
            self.counts(&mut line, c, true);
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    /// The order a hash report prints its keys (`keys` and `counts` as [`Chash::in_order`]
    /// gives them): flow-tools' traversal, then `-S`/`-s`.
    pub(super) fn hash_order(&self, d: Dump, keys: &[u128], counts: &[Counters]) -> Vec<u32> {
        // flow-tools' traversal: chunks of CHUNK keys, the newest chunk first.
        let n = keys.len();
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let chunks = n.div_ceil(CHUNK);
        for c in (0..chunks).rev() {
            order.extend((c * CHUNK..((c + 1) * CHUNK).min(n)).map(|i| i as u32));
        }
        let so = self.opts.sort_order;
        if so != 0 {
            let mut f = so.unsigned_abs() as usize;
            if !d.two_keys() && f >= 2 {
                f += 1; // one-key reports have no second key column
            }
            let key = |i: u32| -> u64 {
                let k = keys[i as usize];
                let c = &counts[i as usize];
                match f {
                    1 => (k >> 64) as u64,
                    2 => k as u64,
                    3 => c.flows,
                    4 => c.octets,
                    5 => c.packets,
                    _ => c.duration,
                }
            };
            order.sort_by_key(|&i| key(i));
            if so > 0 {
                // flow-tools walks its ascending sort backwards: ties come out last seen first.
                order.reverse();
            }
        }
        order
    }

    fn write_hash(&self, out: &mut impl Write, d: Dump, h: &Chash) -> io::Result<()> {
        let (keys, counts) = h.in_order();
        let order = self.hash_order(d, &keys, &counts);
        let (title, pad_last) = match d {
            Dump::C32(t) => (format!("{t}  "), false),
            Dump::C322(a, b) => (format!("{a}  {b}  "), false),
            Dump::Ip => ("IPaddr         ".to_string(), false),
            Dump::Ip2 => ("src IPaddr     dst IPaddr       ".to_string(), true),
            Dump::As2 => ("src AS          dst AS            ".to_string(), true),
            Dump::If2 => ("in   out    ".to_string(), true),
            Dump::Pre => ("Source Prefix     ".to_string(), false),
            Dump::Pre2 => ("Source Prefix     Destination Prefix  ".to_string(), false),
        };
        self.header(out, &title)?;
        let wide = self.opts.wide;
        let percent = self.opts.percent;
        let mut line = String::with_capacity(128);
        for i in order {
            use std::fmt::Write as _;
            let k = keys[i as usize];
            let (k1, k2) = ((k >> 64) as u64, k as u64);
            let c = &counts[i as usize];
            line.clear();
            // Writing to a String cannot fail.
            let _ = match d {
                Dump::C32(_) => {
                    let w = if wide && !percent { 15 } else { 10 };
                    match self.sym(k1, usize::MAX) {
                        Some(name) => push_cut(&mut line, &name, w),
                        // A number is never cut (flowkit's counters may exceed 10 digits).
                        None => {
                            let _ = write!(line, "{k1:<w$}");
                        }
                    }
                    Ok(())
                }
                Dump::C322(..) => {
                    let a = self
                        .sym(k1, usize::MAX)
                        .unwrap_or_else(|| format!("{k1:<10}"));
                    let b = self
                        .sym(k2, usize::MAX)
                        .unwrap_or_else(|| format!("{k2:<10}"));
                    push_cut(&mut line, &a, 10);
                    line.push_str("  ");
                    push_cut(&mut line, &b, 10);
                    Ok(())
                }
                Dump::Ip => write!(line, "{:<15}", Ipv4Addr::from(k1 as u32)),
                Dump::Ip2 => {
                    let r = write!(
                        line,
                        "{:<15}  {:<15}",
                        Ipv4Addr::from(k1 as u32),
                        Ipv4Addr::from(k2 as u32)
                    );
                    if percent {
                        line.truncate(32);
                    }
                    r
                }
                Dump::As2 => {
                    let a = self.sym(k1, 17).unwrap_or_else(|| k1.to_string());
                    let b = self.sym(k2, 17).unwrap_or_else(|| k2.to_string());
                    push_cut(&mut line, &a, 16);
                    line.push_str("  ");
                    push_cut(&mut line, &b, 16);
                    Ok(())
                }
                Dump::If2 => write!(line, "{k1:<5}  {k2:<5}"),
                Dump::Pre => write!(line, "{:<18}", unpre(k1)),
                Dump::Pre2 => write!(line, "{:<18}  {:<18}", unpre(k1), unpre(k2)),
            };
            line.push_str("  ");
            self.counts(&mut line, c, pad_last);
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }
}

/// `print_3float`: `%-3.3f` without its first character (so 1.000 prints `.000`).
fn f3(v: f32, trail: &str) -> String {
    let s = format!("{:.3}", v as f64);
    format!("{}{trail}", &s[1..])
}

fn write_summary(out: &mut impl Write, s: &Summary0) -> io::Result<()> {
    let t = &s.totals;
    if t.flows == 0 {
        return Ok(());
    }
    let span = (s.end - s.start) as u64;
    let nf = t.flows as f32;
    let aflowtime = t.duration as f32 / nf;
    let aps = t.octets as f32 / t.packets as f32;
    let afs = t.octets as f32 / nf;
    let apf = t.packets as f32 / nf;
    let secs = (span / 1000) as f32;
    let fps = nf / secs;
    let aos = ((t.octets * 8) as f32 / 1000.0) / secs;
    // Realtime: flow-tools uses the export time of the records, which flowkit does not keep;
    // flowkit takes the seconds spanned by the flows themselves.
    let time_real = (s.end.div_euclid(1000) - s.start.div_euclid(1000)) as u32;
    let (fps_real, aos_real) = if time_real != 0 {
        (
            nf / time_real as f32,
            ((t.octets * 8) as f32 / 1000.0) / time_real as f32,
        )
    } else {
        (0.0, 0.0)
    };
    writeln!(out, "Total Flows                     : {}", t.flows)?;
    writeln!(out, "Total Octets                    : {}", t.octets)?;
    writeln!(out, "Total Packets                   : {}", t.packets)?;
    writeln!(out, "Total Time (1/1000 secs) (flows): {}", t.duration)?;
    writeln!(out, "Duration of data  (realtime)    : {time_real}")?;
    writeln!(out, "Duration of data (1/1000 secs)  : {span}")?;
    let f4 = |v: f32| cf(v as f64, 4);
    writeln!(out, "Average flow time (1/1000 secs) : {}", f4(aflowtime))?;
    writeln!(out, "Average packet size (octets)    : {}", f4(aps))?;
    writeln!(out, "Average flow size (octets)      : {}", f4(afs))?;
    writeln!(out, "Average packets per flow        : {}", f4(apf))?;
    writeln!(out, "Average flows / second (flow)   : {}", f4(fps))?;
    writeln!(out, "Average flows / second (real)   : {}", f4(fps_real))?;
    writeln!(out, "Average Kbits / second (flow)   : {}", f4(aos))?;
    writeln!(out, "Average Kbits / second (real)   : {}", f4(aos_real))?;
    writeln!(out, "\n")?;
    let fr = |v: u64| v as f32 / nf;
    let row = |out: &mut dyn Write, vals: &[u64], two_from: usize| -> io::Result<()> {
        write!(out, "   ")?;
        for (i, &v) in vals.iter().enumerate() {
            let trail = if i >= two_from { "  " } else { " " };
            write!(out, "{}", f3(fr(v), trail))?;
        }
        write!(out, "\n\n")
    };
    writeln!(out, "IP packet size distribution:")?;
    writeln!(
        out,
        "   1-32   64   96  128  160  192  224  256  288  320  352  384  416  448  480"
    )?;
    row(out, &s.psize[..15], 99)?;
    writeln!(
        out,
        "    512  544  576 1024 1536 2048 2560 3072 3584 4096 4608"
    )?;
    row(out, &s.psize[15..], 99)?;
    writeln!(out, "Packets per flow distribution:")?;
    writeln!(
        out,
        "      1    2    4    8   12   16   20   24   28   32   36   40   44   48   52"
    )?;
    row(out, &s.fpsize[..15], 99)?;
    writeln!(
        out,
        "     60  100  200  300  400  500  600  700  800  900 >900"
    )?;
    row(out, &s.fpsize[15..], 99)?;
    writeln!(out, "Octets per flow distribution:")?;
    writeln!(
        out,
        "     32   64  128  256  512 1280 2048 2816 3584 4352 5120 5888 6656 7424 8192"
    )?;
    row(out, &s.fosize[..15], 99)?;
    writeln!(
        out,
        "   8960 9728 10496 11264 12032 12800 13568 14336 15104 15872 >15872"
    )?;
    row(out, &s.fosize[15..], 1)?;
    writeln!(out, "Flow time distribution:")?;
    writeln!(
        out,
        "    10    50  100  200  500 1000 2000 3000 4000 5000 6000 7000 8000 9000 10000"
    )?;
    row(out, &s.ftime[..15], 13)?;
    writeln!(
        out,
        "  12000 14000 16000 18000 20000 22000 24000 26000 28000 30000 >30000"
    )?;
    row(out, &s.ftime[15..], 0)
}
