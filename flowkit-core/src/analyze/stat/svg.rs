//! Plots as SVG: a time series (so a spike or a gap is seen) and a top-N bar chart (so a talker
//! is seen).
//!
//! Written by hand: the two charts need a few dozen `<line>`, `<rect>`, `<polyline>` and
//! `<text>` elements; a plotting crate (plotters and its font stack) would bring far more
//! code than it saves, and a standalone SVG with no fonts to embed opens in any browser.
//! Every series and bar carries its numbers (`data-values`, `data-value`) so scripts and tests
//! can read them back.

use jiff::tz::TimeZone;
use std::fmt::Write;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A round step near `range / target` (1, 2 or 5 times a power of ten).
fn nice_step(range: f64, target: f64) -> f64 {
    let raw = (range / target).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// A number with thousands separators.
fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn header(out: &mut String, width: f64, height: f64, title: &str) {
    let _ = write!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">
<title>{t}</title>
<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>
<text x="{x}" y="28" font-size="16" font-weight="bold">{t}</text>
"#,
        t = escape(title),
        x = LEFT,
    );
}

/// Time tick steps to choose from (ms).
const TIME_STEPS: [i64; 15] = [
    1_000,
    5_000,
    15_000,
    60_000,
    5 * 60_000,
    15 * 60_000,
    30 * 60_000,
    3_600_000,
    2 * 3_600_000,
    3 * 3_600_000,
    6 * 3_600_000,
    12 * 3_600_000,
    86_400_000,
    7 * 86_400_000,
    30 * 86_400_000,
];

fn time_label(ms: i64, span: i64, tz: &TimeZone) -> String {
    crate::time::short(ms, tz, span > 2 * 86_400_000, span < 5 * 60_000)
}

/// A time series: one value per bin of `bin_ms`, starting at each point's time (UTC ms).
/// Draws the line, the area under it, axes with round ticks (times in `tz`) and marks the peak.
pub fn time_series(
    title: &str,
    metric: &str,
    points: &[(i64, u64)],
    bin_ms: i64,
    tz: &TimeZone,
) -> String {
    chart(
        title,
        metric,
        &[(metric.to_string(), points.to_vec())],
        bin_ms,
        tz,
    )
}

/// Line colours of [`time_series_multi`], one per series in turn.
const PALETTE: [&str; 10] = [
    "#1f5fa8", "#c0392b", "#27ae60", "#8e44ad", "#e67e22", "#16a085", "#7f8c8d", "#d35400",
    "#2c3e50", "#b7950b",
];

/// Several time series on one set of axes, one line per `(label, points)` (all points on the
/// same bins), with a legend in the order given; at most ten series are drawn.
pub fn time_series_multi(
    title: &str,
    metric: &str,
    series: &[(String, Vec<(i64, u64)>)],
    bin_ms: i64,
    tz: &TimeZone,
) -> String {
    chart(
        title,
        metric,
        &series[..series.len().min(PALETTE.len())],
        bin_ms,
        tz,
    )
}

/// Draws the axes and each series; one series gets its area and peak marked, several a legend.
fn chart(
    title: &str,
    metric: &str,
    series: &[(String, Vec<(i64, u64)>)],
    bin_ms: i64,
    tz: &TimeZone,
) -> String {
    let mut out = String::new();
    header(&mut out, WIDTH, HEIGHT, title);
    let (pw, ph) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let bottom = TOP + ph;
    let all = || series.iter().flat_map(|s| s.1.iter());
    let t0 = all().map(|p| p.0).min().unwrap_or(0);
    let t1 = all().map(|p| p.0 + bin_ms.max(1)).max().unwrap_or(1);
    let span = (t1 - t0).max(1);
    let max = all().map(|p| p.1).max().unwrap_or(0);
    let ystep = nice_step(max.max(1) as f64, 5.0);
    let ymax = ((max.max(1) as f64 / ystep).ceil() * ystep).max(ystep);
    let x = |t: i64| LEFT + (t - t0) as f64 / span as f64 * pw;
    let y = |v: u64| bottom - v as f64 / ymax * ph;

    // Grid and y ticks.
    let mut v = 0.0;
    while v <= ymax + ystep / 2.0 {
        let yy = bottom - v / ymax * ph;
        let _ = writeln!(
            out,
            r##"<line class="grid" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/>"##,
            LEFT + pw
        );
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            yy + 4.0,
            grouped(v as u64)
        );
        v += ystep;
    }
    // X ticks at round times.
    let step = TIME_STEPS
        .iter()
        .copied()
        .find(|s| span / s <= 8)
        .unwrap_or(TIME_STEPS[TIME_STEPS.len() - 1]);
    let mut t = t0.div_euclid(step) * step;
    if t < t0 {
        t += step;
    }
    while t <= t1 {
        let xx = x(t);
        let _ = writeln!(
            out,
            r##"<line class="tick" x1="{xx:.1}" y1="{bottom:.1}" x2="{xx:.1}" y2="{:.1}" stroke="#333"/>"##,
            bottom + 5.0
        );
        let _ = writeln!(
            out,
            r#"<text x="{xx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            bottom + 20.0,
            escape(&time_label(t, span, tz))
        );
        t += step;
    }
    // Axes.
    let _ = writeln!(
        out,
        r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom:.1}" stroke="#333"/>
<line x1="{LEFT}" y1="{bottom:.1}" x2="{:.1}" y2="{bottom:.1}" stroke="#333"/>
<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>
<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">{}</text>"##,
        LEFT + pw,
        LEFT + pw / 2.0,
        HEIGHT - 12.0,
        escape(&format!(
            "time ({}, bins of {})",
            tz.iana_name().unwrap_or("local"),
            crate::analyze::keys::human_ms(bin_ms)
        )),
        TOP + ph / 2.0,
        TOP + ph / 2.0,
        escape(&format!("{metric} per bin"))
    );
    // Each bin drawn at its middle.
    let mid = |t: i64| x(t + bin_ms / 2);
    if let [(_, points)] = series {
        if !points.is_empty() {
            single(&mut out, metric, points, t0, bin_ms, &mid, &y, bottom);
            peak(&mut out, points, span, tz, &mid, &y, pw);
        }
        out.push_str("</svg>\n");
        return out;
    }
    for (n, (label, points)) in series.iter().enumerate() {
        let coords: Vec<String> = points
            .iter()
            .map(|(t, v)| format!("{:.1},{:.1}", mid(*t), y(*v)))
            .collect();
        let values: Vec<String> = points.iter().map(|p| p.1.to_string()).collect();
        let colour = PALETTE[n % PALETTE.len()];
        let _ = writeln!(
            out,
            r##"<polyline class="series" data-label="{l}" data-start="{t0}" data-bin-ms="{bin_ms}" data-values="{}" points="{}" fill="none" stroke="{colour}" stroke-width="1.5"/>
<rect class="legend" x="{:.1}" y="{:.1}" width="10" height="10" fill="{colour}"/>
<text x="{:.1}" y="{:.1}">{l}</text>"##,
            values.join(","),
            coords.join(" "),
            LEFT + pw - 150.0,
            TOP + 4.0 + n as f64 * 16.0,
            LEFT + pw - 135.0,
            TOP + 13.0 + n as f64 * 16.0,
            l = escape(label),
        );
    }
    out.push_str("</svg>\n");
    out
}

/// One series: its area and line.
#[allow(clippy::too_many_arguments)]
fn single(
    out: &mut String,
    metric: &str,
    points: &[(i64, u64)],
    t0: i64,
    bin_ms: i64,
    mid: &dyn Fn(i64) -> f64,
    y: &dyn Fn(u64) -> f64,
    bottom: f64,
) {
    let coords: Vec<String> = points
        .iter()
        .map(|(t, v)| format!("{:.1},{:.1}", mid(*t), y(*v)))
        .collect();
    let values: Vec<String> = points.iter().map(|p| p.1.to_string()).collect();
    let _ = writeln!(
        out,
        r##"<polygon class="area" points="{:.1},{bottom:.1} {} {:.1},{bottom:.1}" fill="#4a90d9" fill-opacity="0.2" stroke="none"/>"##,
        mid(points[0].0),
        coords.join(" "),
        mid(points[points.len() - 1].0)
    );
    let _ = writeln!(
        out,
        r##"<polyline class="series" data-label="{}" data-start="{t0}" data-bin-ms="{bin_ms}" data-values="{}" points="{}" fill="none" stroke="#1f5fa8" stroke-width="1.5"/>"##,
        escape(metric),
        values.join(","),
        coords.join(" ")
    );
}

/// Marks the highest point of a single series.
fn peak(
    out: &mut String,
    points: &[(i64, u64)],
    span: i64,
    tz: &TimeZone,
    mid: &dyn Fn(i64) -> f64,
    y: &dyn Fn(u64) -> f64,
    pw: f64,
) {
    if let Some((pt, pv)) = points
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
    {
        let (px, py) = (mid(*pt), y(*pv));
        let anchor = if px > LEFT + pw * 0.8 { "end" } else { "start" };
        let _ = writeln!(
            out,
            r##"<circle class="peak" cx="{px:.1}" cy="{py:.1}" r="4" fill="#c0392b" data-value="{pv}"/>
<text x="{:.1}" y="{:.1}" text-anchor="{anchor}" fill="#c0392b">peak {} at {}</text>"##,
            if anchor == "end" { px - 8.0 } else { px + 8.0 },
            (py + 4.0).max(TOP + 12.0),
            grouped(*pv),
            escape(&time_label(*pt, span.min(86_400_000), tz))
        );
    }
}

/// A horizontal bar chart of the top-N: one bar per label, longest first as given.
pub fn bar_chart(title: &str, metric: &str, bars: &[(String, u64)]) -> String {
    let label_w = bars
        .iter()
        .map(|b| b.0.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 60) as f64
        * 7.0
        + 16.0;
    let row = 22.0;
    let height = TOP + BOTTOM + row * bars.len().max(1) as f64;
    let mut out = String::new();
    header(&mut out, WIDTH, height, title);
    let left = label_w.max(LEFT);
    let pw = WIDTH - left - RIGHT - 90.0;
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    for (i, (label, v)) in bars.iter().enumerate() {
        let y = TOP + i as f64 * row;
        let w = (*v as f64 / max * pw).max(if *v > 0 { 1.0 } else { 0.0 });
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>
<rect class="bar" data-key="{}" data-value="{v}" x="{left:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="#4a90d9"/>
<text x="{:.1}" y="{:.1}">{}</text>"##,
            left - 8.0,
            y + row * 0.65,
            escape(label),
            escape(label),
            y + 3.0,
            row - 6.0,
            left + w + 6.0,
            y + row * 0.65,
            grouped(*v)
        );
    }
    let bottom = TOP + row * bars.len().max(1) as f64;
    let _ = writeln!(
        out,
        r##"<line x1="{left:.1}" y1="{TOP}" x2="{left:.1}" y2="{bottom:.1}" stroke="#333"/>
<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
        left + pw / 2.0,
        bottom + 30.0,
        escape(metric)
    );
    out.push_str("</svg>\n");
    out
}
