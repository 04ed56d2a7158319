//! A filter definition as one SQL boolean expression over the Parquet export's schema
//! (`flow-nfilter --sql DIALECT`, `docs/scale-out.md`).
//!
//! The translation starts from what the compiler makes of each `match` line (the permitted
//! values after the winning-line rules, masks and defaults are applied), so the SQL selects
//! exactly the flows the compiled filter does: each test becomes comparisons of one column
//! with ranges of values. Addresses are compared as 16-byte binaries (IPv4 as `::ffff:a.b.c.d`),
//! times as epoch milliseconds (`start_ms`, `end_ms`), never as zone-dependent timestamps.
//! What has no exact SQL form (random sampling by flowkit's flow hash, non-contiguous address
//! masks, times of day in a zone other than UTC) is refused with the primitive's name.

use super::ast::{MatchField, Primitive};
use super::compile::{addr_ranges, compile_item, constant, CompileOptions};
use super::eval::{f64_key, RateKind, Test};
use super::intervals::RangeSet;
use super::{FilterError, FilterFile};
use std::fmt::Write;

/// An SQL engine whose syntax the expression is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// DuckDB.
    DuckDb,
    /// Spark SQL.
    Spark,
    /// Trino (and Presto).
    Trino,
    /// ClickHouse.
    ClickHouse,
}

impl Dialect {
    /// The names `--sql` accepts.
    pub const NAMES: &'static [&'static str] = &["duckdb", "spark", "trino", "clickhouse"];

    /// The dialect called `s` (any case).
    pub fn from_name(s: &str) -> Option<Dialect> {
        Some(match s.to_ascii_lowercase().as_str() {
            "duckdb" => Dialect::DuckDb,
            "spark" | "sparksql" => Dialect::Spark,
            "trino" | "presto" => Dialect::Trino,
            "clickhouse" => Dialect::ClickHouse,
            _ => return None,
        })
    }

    /// A 16-byte binary literal.
    pub(crate) fn blob(self, b: &[u8; 16]) -> String {
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        match self {
            Dialect::ClickHouse => format!("unhex('{hex}')"),
            Dialect::DuckDb | Dialect::Spark | Dialect::Trino => format!("X'{hex}'"),
        }
    }

    /// `a & b` on integers.
    pub(crate) fn bit_and(self, a: &str, b: u64) -> String {
        match self {
            Dialect::Trino => format!("bitwise_and({a}, {b})"),
            Dialect::ClickHouse => format!("bitAnd({a}, {b})"),
            Dialect::DuckDb | Dialect::Spark => format!("({a} & {b})"),
        }
    }
}

/// Why a definition cannot be written as SQL.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The definition is not usable at all (unknown, missing variable, field not carried).
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// A primitive has no exact SQL form.
    #[error(
        "definition `{definition}`: primitive `{primitive}` (match {field}) has no SQL form: {why}"
    )]
    Untranslatable {
        /// The definition.
        definition: String,
        /// The primitive that cannot be translated.
        primitive: String,
        /// The field it is matched against.
        field: &'static str,
        /// The reason.
        why: String,
    },
}

/// Translates definition `name` of `file` into the body of a WHERE clause in `dialect`, over
/// the columns `flow-export --parquet` writes.
pub fn to_sql(
    file: &FilterFile,
    name: &str,
    opts: &CompileOptions,
    dialect: Dialect,
) -> Result<String, SqlError> {
    let d = file.usable(name)?;
    let mut alternatives: Vec<String> = Vec::new();
    let mut always = false;
    'groups: for g in &d.groups {
        let mut terms = Vec::new();
        for item in g {
            let p = &file.primitives[item.primitive];
            let Some(test) = compile_item(item.field, p, opts) else {
                continue; // passes every flow
            };
            if constant(&test) == Some(false) {
                continue 'groups;
            }
            let term = test_sql(item.field, p, &test, dialect).map_err(|why| {
                SqlError::Untranslatable {
                    definition: d.name.clone(),
                    primitive: p.name.clone(),
                    field: item.field.name(),
                    why,
                }
            })?;
            terms.push(term);
        }
        if terms.is_empty() {
            always = true;
        }
        alternatives.push(match terms.len() {
            0 => "TRUE".to_string(),
            1 => terms.pop().unwrap_or_default(),
            _ => format!("({})", terms.join(" AND ")),
        });
    }
    let body = if always {
        "TRUE".to_string()
    } else if alternatives.is_empty() {
        "FALSE".to_string()
    } else if alternatives.len() == 1 {
        alternatives.pop().unwrap_or_default()
    } else {
        format!("({})", alternatives.join(" OR "))
    };
    Ok(if d.invert {
        format!("NOT ({body})")
    } else {
        body
    })
}

/// The column a field is stored in (flow-print's CSV names).
fn column(field: MatchField) -> &'static str {
    use MatchField::*;
    match field {
        SrcAs => "src_as",
        DstAs => "dst_as",
        SrcAddr => "src_addr",
        DstAddr => "dst_addr",
        ExporterAddr => "exporter",
        NextHopAddr => "next_hop",
        Protocol => "protocol",
        SrcPrefixLen => "src_mask",
        DstPrefixLen => "dst_mask",
        Tos => "tos",
        TcpFlags => "tcp_flags",
        SrcPort => "src_port",
        DstPort => "dst_port",
        InputIf => "input_if",
        OutputIf => "output_if",
        EngineId => "engine_id",
        EngineType => "engine_type",
        Octets => "octets",
        Packets => "packets",
        StartTime => "start_ms",
        EndTime => "end_ms",
        SrcTag => "src_tag",
        DstTag => "dst_tag",
        XlateSrcAddr => "xlate_src_addr",
        XlateDstAddr => "xlate_dst_addr",
        XlateSrcPort => "xlate_src_port",
        XlateDstPort => "xlate_dst_port",
        SrcVlan => "src_vlan",
        DstVlan => "dst_vlan",
        EndReason => "end_reason",
        FlowId => "flow_id",
        SrcMac => "src_mac",
        DstMac => "dst_mac",
        MplsLabel1 => "mpls_label1",
        MplsLabel2 => "mpls_label2",
        MplsLabel3 => "mpls_label3",
        Application => "app_id",
        // Not columns: computed (duration, rates), refused (sampling) or never carried.
        _ => "",
    }
}

/// The duration in milliseconds as flowkit defines it (0 when the end precedes the start).
const DURATION: &str = "(CASE WHEN end_ms > start_ms THEN end_ms - start_ms ELSE 0 END)";

fn test_sql(
    field: MatchField,
    p: &Primitive,
    t: &Test,
    dialect: Dialect,
) -> Result<String, String> {
    let col = column(field);
    Ok(match t {
        Test::U8 { lut, .. } => {
            let ranges = runs((0..256u64).filter(|&v| lut[v as usize]));
            let plain = int_ranges(col, &ranges, 255);
            let mask = p.mask as u64;
            if mask == 0xff || !matches!(field, MatchField::Tos | MatchField::TcpFlags) {
                return Ok(plain);
            }
            // Under a mask the table depends on `value & mask` only: test that, shorter.
            let keys = runs((0..256u64).filter(|&k| k & mask == k && lut[k as usize]));
            let masked = int_ranges(&dialect.bit_and(col, mask), &keys, mask);
            if masked.len() < plain.len() {
                masked
            } else {
                plain
            }
        }
        Test::Port { bits, .. } => {
            let ranges =
                runs((0..65_536u64).filter(|&v| bits[(v >> 6) as usize] >> (v & 63) & 1 == 1));
            int_ranges(col, &ranges, 65_535)
        }
        Test::U32 { set, .. } => int_ranges(col, &set.ranges(u32::MAX as u64), u32::MAX as u64),
        Test::TagMask { list, default, .. } => {
            let mut s = String::from("(CASE");
            for &(tag, mask, permit) in list {
                let _ = write!(
                    s,
                    " WHEN {} = {tag} THEN {}",
                    dialect.bit_and(col, mask as u64),
                    bool_sql(permit)
                );
            }
            let _ = write!(s, " ELSE {} END)", bool_sql(*default));
            s
        }
        Test::U64 { set, .. } => counter_ranges(col, set),
        Test::Duration { set } => counter_ranges(DURATION, set),
        Test::TimeMs { set, .. } => {
            // Keys are the milliseconds with the sign bit flipped (eval::time_key).
            let ranges: Vec<(i64, i64)> = set
                .ranges(u64::MAX)
                .into_iter()
                .map(|(a, b)| ((a ^ 1 << 63) as i64, (b ^ 1 << 63) as i64))
                .collect();
            signed_ranges(col, &ranges)
        }
        Test::TimeOfDay { tz, set, .. } => {
            // UTC: offset 0 and no transition ever (a fixed zone or the tzdb's UTC).
            let start = jiff::Timestamp::MIN;
            let utc = tz.to_offset(start).seconds() == 0 && tz.following(start).next().is_none();
            if !utc {
                return Err(format!(
                    "a time of day in the local zone ({}) has no fixed offset from UTC; run with \
                     --utc (or TZ=UTC) to mean UTC times of day",
                    tz.iana_name().unwrap_or("TZ")
                ));
            }
            // Milliseconds since UTC midnight (floored for times before 1970, like the filter).
            let ms_of_day = format!("((({col} % 86400000) + 86400000) % 86400000)");
            let ranges: Vec<(i64, i64)> = set
                .ranges(86_399)
                .into_iter()
                .map(|(a, b)| (a as i64 * 1000, b as i64 * 1000 + 999))
                .collect();
            ranges_sql(&ms_of_day, &ranges, Some(0), Some(86_399_999))
        }
        Test::Rate { kind, set } => {
            let amount = match kind {
                RateKind::Pps => "CAST(packets AS DOUBLE)".to_string(),
                RateKind::Bps => "(CAST(octets AS DOUBLE) * CAST(8 AS DOUBLE))".to_string(),
            };
            // As eval::per_second: amount / (milliseconds / 1000), 0 for a zero duration.
            let rate = format!(
                "(CASE WHEN end_ms > start_ms THEN {amount} / (CAST(end_ms - start_ms AS DOUBLE) \
                 / CAST(1000 AS DOUBLE)) ELSE CAST(0 AS DOUBLE) END)"
            );
            real_ranges(&rate, set)
        }
        Test::Addr { .. } => {
            let Some((v4, v6)) = addr_ranges(p) else {
                return Err(
                    "an ip-address-mask with a mask that is not a prefix (non-contiguous \
                            bits) selects no range of addresses"
                        .into(),
                );
            };
            addr_sql(col, &v4, &v6, dialect)
        }
        Test::Unsampled { .. }
        | Test::Derived { .. }
        | Test::Nested(_)
        | Test::CommunityId { .. } => {
            return Err(
                "a test of an nfdump expression (-e) has no SQL form here; -e expressions are \
                 translated from their tree (filter::expr::sql)"
                    .into(),
            )
        }
        Test::Sample { .. } => {
            return Err(
                "random sampling uses flowkit's per-flow hash, which SQL engines do not \
                        compute; sample in the engine instead (e.g. TABLESAMPLE)"
                    .into(),
            )
        }
    })
}

pub(crate) fn bool_sql(b: bool) -> &'static str {
    if b {
        "TRUE"
    } else {
        "FALSE"
    }
}

/// Sorted values as inclusive runs.
fn runs(values: impl Iterator<Item = u64>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for v in values {
        match out.last_mut() {
            Some(last) if last.1 + 1 == v => last.1 = v,
            _ => out.push((v, v)),
        }
    }
    out
}

/// Ranges of an unsigned column whose values are `0..=max`.
pub(crate) fn int_ranges(col: &str, ranges: &[(u64, u64)], max: u64) -> String {
    let r: Vec<(i64, i64)> = ranges.iter().map(|&(a, b)| (a as i64, b as i64)).collect();
    ranges_sql(col, &r, Some(0), Some(max as i64))
}

/// Ranges of a counter: `u64` in flowkit, signed 64-bit in the export (which refuses counters
/// above `i64::MAX`, so the keys above it select nothing there).
fn counter_ranges(col: &str, set: &RangeSet) -> String {
    let r: Vec<(i64, i64)> = set
        .ranges(u64::MAX)
        .into_iter()
        .filter(|&(a, _)| a <= i64::MAX as u64)
        .map(|(a, b)| (a as i64, b.min(i64::MAX as u64) as i64))
        .collect();
    ranges_sql(col, &r, Some(0), Some(i64::MAX))
}

/// Ranges of a signed column over all of `i64`.
fn signed_ranges(col: &str, ranges: &[(i64, i64)]) -> String {
    ranges_sql(col, ranges, Some(i64::MIN), Some(i64::MAX))
}

/// `expr` in any of `ranges`; a bound equal to the domain's `min`/`max` is left out.
pub(crate) fn ranges_sql(
    expr: &str,
    ranges: &[(i64, i64)],
    min: Option<i64>,
    max: Option<i64>,
) -> String {
    let mut singles = Vec::new();
    let mut terms = Vec::new();
    for &(a, b) in ranges {
        let (lo, hi) = (Some(a) != min, Some(b) != max);
        match (lo, hi) {
            (false, false) => return "TRUE".into(),
            _ if a == b => singles.push(a.to_string()),
            (true, true) => terms.push(format!("{expr} BETWEEN {a} AND {b}")),
            (true, false) => terms.push(format!("{expr} >= {a}")),
            (false, true) => terms.push(format!("{expr} <= {b}")),
        }
    }
    match singles.len() {
        0 => {}
        1 => terms.push(format!("{expr} = {}", singles[0])),
        _ => terms.push(format!("{expr} IN ({})", singles.join(", "))),
    }
    or_terms(terms)
}

pub(crate) fn or_terms(mut terms: Vec<String>) -> String {
    match terms.len() {
        0 => "FALSE".into(),
        1 => terms.pop().unwrap_or_default(),
        _ => format!("({})", terms.join(" OR ")),
    }
}

/// The real number of an order key (eval::f64_key).
fn key_f64(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Ranges of order keys of a real-valued expression (rates are finite and never negative).
/// Keys at or beyond an infinity put no bound on that side; `-0.0` (the key just below `0.0`)
/// as an upper bound means "below 0", as SQL compares `-0.0` equal to `0.0`.
fn real_ranges(expr: &str, set: &RangeSet) -> String {
    let (neg_inf, pos_inf) = (f64_key(f64::NEG_INFINITY), f64_key(f64::INFINITY));
    let mut terms = Vec::new();
    for (a, b) in set.ranges(u64::MAX) {
        if a > pos_inf || b < neg_inf {
            continue; // only NaNs: no rate
        }
        let lo = (a > neg_inf).then(|| format!("{expr} >= {}", real(key_f64(a))));
        let hi = (b < pos_inf).then(|| {
            let f = key_f64(b);
            if f == 0.0 && f.is_sign_negative() {
                format!("{expr} < 0e0")
            } else {
                format!("{expr} <= {}", real(f))
            }
        });
        match (lo, hi) {
            (None, None) => return "TRUE".into(),
            (Some(l), None) => terms.push(l),
            (None, Some(h)) => terms.push(h),
            (Some(l), Some(h)) => terms.push(format!("({l} AND {h})")),
        }
    }
    or_terms(terms)
}

/// A real literal every dialect reads as a double (scientific notation), exactly.
fn real(f: f64) -> String {
    format!("{f:e}")
}

/// IPv4-mapped IPv6 block `::ffff:0:0/96`: where IPv4 addresses are stored.
const MAPPED: (u128, u128) = (0xffff_u128 << 32, (0xffff_u128 << 32) | 0xffff_ffff);

pub(crate) fn addr_sql(
    col: &str,
    v4: &[(u128, u128)],
    v6: &[(u128, u128)],
    dialect: Dialect,
) -> String {
    let mut ranges: Vec<(u128, u128)> = v4
        .iter()
        .map(|&(a, b)| (MAPPED.0 | a, MAPPED.0 | b))
        .collect();
    // IPv6 ranges never select IPv4 flows (the filter tests those against the IPv4 ranges).
    for &(a, b) in v6 {
        if a < MAPPED.0 {
            ranges.push((a, b.min(MAPPED.0 - 1)));
        }
        if b > MAPPED.1 {
            ranges.push((a.max(MAPPED.1 + 1), b));
        }
    }
    ranges.sort_unstable();
    // Join ranges that touch (an IPv4 range ending at 255.255.255.255 and IPv6 after it).
    let mut merged: Vec<(u128, u128)> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(last) if last.1.checked_add(1) == Some(r.0) => last.1 = r.1,
            _ => merged.push(r),
        }
    }
    let lit = |x: u128| dialect.blob(&x.to_be_bytes());
    let mut singles = Vec::new();
    let mut terms = Vec::new();
    for (a, b) in merged {
        match (a == 0, b == u128::MAX) {
            (true, true) => return "TRUE".into(),
            _ if a == b => singles.push(lit(a)),
            (false, false) => terms.push(format!("{col} BETWEEN {} AND {}", lit(a), lit(b))),
            (false, true) => terms.push(format!("{col} >= {}", lit(a))),
            (true, false) => terms.push(format!("{col} <= {}", lit(b))),
        }
    }
    match singles.len() {
        0 => {}
        1 => terms.push(format!("{col} = {}", singles[0])),
        _ => terms.push(format!("{col} IN ({})", singles.join(", "))),
    }
    or_terms(terms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Variables;

    fn sql(text: &str, tz: jiff::tz::TimeZone) -> Result<String, SqlError> {
        let file = FilterFile::parse(text, "t.cfg", &Variables::new()).unwrap();
        to_sql(&file, "d", &CompileOptions { tz }, Dialect::Spark)
    }

    fn refusal(text: &str, tz: jiff::tz::TimeZone) -> String {
        match sql(text, tz) {
            Err(e @ SqlError::Untranslatable { .. }) => e.to_string(),
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn what_sql_cannot_say_is_refused_naming_the_primitive() {
        let utc = jiff::tz::TimeZone::UTC;
        let m = refusal(
            "filter-primitive odd\n type ip-address-mask\n permit 10.0.0.1 255.0.255.0\n\
             filter-definition d\n match ip-source-address odd\n",
            utc.clone(),
        );
        assert!(m.contains("`odd`") && m.contains("not a prefix"), "{m}");
        let m = refusal(
            "filter-primitive some\n type rate\n permit 10\n\
             filter-definition d\n match random-sample some\n",
            utc,
        );
        assert!(m.contains("`some`") && m.contains("sampl"), "{m}");
        let ny = jiff::tz::TimeZone::get("America/New_York").unwrap();
        let tod = "filter-primitive late\n type time\n permit ge 22:00\n\
                   filter-definition d\n match start-time late\n";
        let m = refusal(tod, ny);
        assert!(
            m.contains("`late`") && m.contains("America/New_York"),
            "{m}"
        );
        // A fixed zero offset is UTC: translated.
        let fixed = jiff::tz::TimeZone::fixed(jiff::tz::Offset::UTC);
        assert!(sql(tod, fixed).unwrap().contains("% 86400000"));
    }

    #[test]
    fn alternatives_are_parenthesised_so_the_expression_can_be_and_ed() {
        let s = sql(
            "filter-primitive a\n type ip-protocol\n permit tcp\n\
             filter-primitive b\n type ip-port\n permit 53\n\
             filter-definition d\n match ip-protocol a\n or\n match ip-destination-port b\n",
            jiff::tz::TimeZone::UTC,
        )
        .unwrap();
        assert_eq!(s, "(protocol = 6 OR dst_port = 53)");
    }

    #[test]
    fn ipv6_ranges_leave_out_ipv4_mapped_addresses() {
        let s = sql(
            "filter-primitive all6\n type ip-address-prefix\n permit ::/0\n\
             filter-definition d\n match ip-source-address all6\n",
            jiff::tz::TimeZone::UTC,
        )
        .unwrap();
        assert_eq!(
            s,
            "(src_addr <= X'00000000000000000000fffeffffffff' OR \
             src_addr >= X'00000000000000000001000000000000')"
        );
    }
}
