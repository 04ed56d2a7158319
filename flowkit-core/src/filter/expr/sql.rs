//! An expression (`-e`) as one SQL boolean expression over the Parquet export's schema
//! (`flow-nfilter -e EXPR --sql DIALECT`, `docs/scale-out.md`).
//!
//! The translation follows the tree, so the SQL means what [`Node::matches`] means, flow by
//! flow: `and`/`or`/`not` become `AND`/`OR`/`NOT` (parenthesised), each leaf a test of one
//! column or of a value computed from columns as the filter computes it. Counters are compared
//! with sampling undone (`packets * max(sampling_interval, 1)`, saturating at 2^64 - 1); the
//! duration is nfdump's unsigned `end - start` (a negative difference is a huge number); pps,
//! bps and bpp are whole numbers (integer division, 0 when dividing by zero). That arithmetic is
//! done in a 128-bit integer or `DECIMAL(38,0)`, so nothing overflows where flowkit's does not.
//! IPv4 addresses are stored as `::ffff:a.b.c.d`, so the family is a range of the 16 bytes.

use super::{AddrField, Expression, Leaf, Node, NumField};
use crate::filter::sql::{addr_sql, int_ranges, or_terms, Dialect};
use ipnet::IpNet;

/// Translates expression `e` into the body of a WHERE clause in `dialect`, over the columns
/// `flow-export --parquet` writes. Every expression flowkit parses has an exact SQL form except
/// `community-id` (a SHA-1 of the ordered five-tuple, which plain SQL cannot compute alike in
/// every engine): that is refused with the reason.
pub fn expr_to_sql(e: &Expression, dialect: Dialect) -> Result<String, String> {
    node_sql(&e.root, dialect)
}

fn node_sql(n: &Node, d: Dialect) -> Result<String, String> {
    let join = |c: &[Node], op: &str, empty: &str| -> Result<String, String> {
        Ok(match c {
            [] => empty.to_string(),
            [one] => node_sql(one, d)?,
            _ => format!(
                "({})",
                c.iter()
                    .map(|n| node_sql(n, d))
                    .collect::<Result<Vec<_>, _>>()?
                    .join(op)
            ),
        })
    };
    Ok(match n {
        Node::Any => "TRUE".into(),
        Node::Leaf(Leaf::CommunityId(_)) => {
            return Err(
                "`community-id` has no SQL form (a SHA-1 of the ordered five-tuple); \
                        filter on the flow's addresses, ports and protocol instead"
                    .into(),
            )
        }
        Node::Leaf(l) => leaf_sql(l, d),
        Node::And(c) => join(c, " AND ", "TRUE")?,
        Node::Or(c) => join(c, " OR ", "FALSE")?,
        Node::Not(c) => format!("(NOT {})", node_sql(c, d)?),
    })
}

/// The column of a field stored as it is compared (no sampling, no arithmetic).
fn plain_column(f: NumField) -> Option<&'static str> {
    use NumField::*;
    Some(match f {
        Protocol => "protocol",
        Tos => "tos",
        TcpFlags => "tcp_flags",
        SrcPort => "src_port",
        DstPort => "dst_port",
        XlateSrcPort => "xlate_src_port",
        XlateDstPort => "xlate_dst_port",
        SrcVlan => "src_vlan",
        DstVlan => "dst_vlan",
        SrcAs => "src_as",
        DstAs => "dst_as",
        InputIf => "input_if",
        OutputIf => "output_if",
        SrcMask => "src_mask",
        DstMask => "dst_mask",
        EngineType => "engine_type",
        EngineId => "engine_id",
        SrcMac => "src_mac",
        DstMac => "dst_mac",
        AppId => "app_id",
        _ => return None,
    })
}

/// The column of an MPLS label field (the stored entries).
fn mpls_column(f: NumField) -> Option<&'static str> {
    match f {
        NumField::MplsLabel1 => Some("mpls_label1"),
        NumField::MplsLabel2 => Some("mpls_label2"),
        NumField::MplsLabel3 => Some("mpls_label3"),
        _ => None,
    }
}

fn leaf_sql(l: &Leaf, d: Dialect) -> String {
    match l {
        Leaf::FlagsAll(m) => format!("{} = {m}", d.bit_and("tcp_flags", *m as u64)),
        Leaf::CommunityId(_) => unreachable!("refused by node_sql"),
        Leaf::Family { v6 } => {
            // IPv4 is the block ::ffff:0:0/96 of the 16 bytes; IPv6 everything else.
            const ALL: &[(u128, u128)] = &[(0, u128::MAX)];
            const ALL_V4: &[(u128, u128)] = &[(0, u32::MAX as u128)];
            let (v4, v6) = if *v6 {
                (&[][..], ALL)
            } else {
                (ALL_V4, &[][..])
            };
            addr_sql("src_addr", v4, v6, d)
        }
        Leaf::Addr { field, nets } => {
            let col = match field {
                AddrField::Src => "src_addr",
                AddrField::Dst => "dst_addr",
                AddrField::NextHop => "next_hop",
                AddrField::Exporter => "exporter",
                AddrField::XlateSrc => "xlate_src_addr",
                AddrField::XlateDst => "xlate_dst_addr",
            };
            let (mut v4, mut v6) = (Vec::new(), Vec::new());
            for n in nets {
                match n {
                    IpNet::V4(n) => v4.push((
                        u32::from(n.network()) as u128,
                        u32::from(n.broadcast()) as u128,
                    )),
                    IpNet::V6(n) => v6.push((u128::from(n.network()), u128::from(n.broadcast()))),
                }
            }
            addr_sql(col, &v4, &v6, d)
        }
        Leaf::Number { field, ranges } if mpls_column(*field).is_some() => {
            // The label is the entry's top 20 bits: a range of labels is a range of entries.
            let r: Vec<(u64, u64)> = ranges
                .iter()
                .filter(|&&(a, _)| a <= field.max())
                .map(|&(a, b)| (a, b.min(field.max())))
                .collect();
            let col = mpls_column(*field).unwrap_or_default();
            int_ranges(col, &super::mpls_entry_ranges(&r), 0xff_ffff)
        }
        Leaf::Number { field, ranges } => match plain_column(*field) {
            Some(col) => {
                // Bounds beyond the field's largest value select nothing more. Application
                // ids are signed 64-bit in the export, which refuses the larger ones.
                let max = match field {
                    NumField::AppId => i64::MAX as u64,
                    f => f.max(),
                };
                let r: Vec<(u64, u64)> = ranges
                    .iter()
                    .filter(|&&(a, _)| a <= max)
                    .map(|&(a, b)| (a, b.min(max)))
                    .collect();
                int_ranges(col, &r, max)
            }
            None => wide_ranges(&computed(*field, d), ranges, d),
        },
    }
}

/// 2^64 - 1: where flowkit's unsigned arithmetic saturates.
const U64_MAX: u128 = u64::MAX as u128;

/// A computed field (counters with sampling undone, duration, rates) as a wide integer.
fn computed(f: NumField, d: Dialect) -> String {
    use NumField::*;
    let unsampled = |col: &str| {
        format!(
            "least({} * greatest(sampling_interval, 1), {})",
            wide(d, col),
            lit(d, U64_MAX)
        )
    };
    // nfdump's duration: `end - start` as an unsigned 64-bit number (wrapping when negative).
    let duration = format!(
        "(CASE WHEN end_ms >= start_ms THEN {w} - start_ms ELSE {w} - start_ms + {} END)",
        lit(d, 1 << 64),
        w = wide(d, "end_ms")
    );
    // `k * amount / duration` in whole numbers, 0 for a zero duration (end = start).
    let per_second = |amount: String, k: u32| {
        format!(
            "(CASE WHEN end_ms = start_ms THEN 0 ELSE {} END)",
            int_div(d, &format!("{k} * {amount}"), &duration)
        )
    };
    match f {
        Packets => unsampled("packets"),
        Octets => unsampled("octets"),
        RevPackets => unsampled("rev_packets"),
        RevOctets => unsampled("rev_octets"),
        DurationMs => duration,
        Pps => per_second(unsampled("packets"), 1000),
        Bps => per_second(unsampled("octets"), 8000),
        Bpp => {
            let p = unsampled("packets");
            format!(
                "(CASE WHEN {p} = 0 THEN 0 ELSE {} END)",
                int_div(d, &unsampled("octets"), &p)
            )
        }
        _ => unreachable!("{f:?} is a plain column"),
    }
}

/// `x` as a signed integer of at least 128 bits (or `DECIMAL(38,0)`).
fn wide(d: Dialect, x: &str) -> String {
    match d {
        Dialect::DuckDb => format!("CAST({x} AS HUGEINT)"),
        Dialect::Spark | Dialect::Trino => format!("CAST({x} AS DECIMAL(38,0))"),
        Dialect::ClickHouse => format!("toInt128({x})"),
    }
}

/// An integer literal that may exceed 64 signed bits.
fn lit(d: Dialect, v: u128) -> String {
    if v <= i64::MAX as u128 {
        return v.to_string();
    }
    match d {
        Dialect::DuckDb => format!("CAST('{v}' AS HUGEINT)"),
        Dialect::Spark => format!("CAST('{v}' AS DECIMAL(38,0))"),
        Dialect::Trino => format!("DECIMAL '{v}'"),
        Dialect::ClickHouse => format!("toInt128('{v}')"),
    }
}

/// Whole-number division of non-negative wide integers `a / b` (`b` > 0). Spark's `div` and
/// Trino's decimal `/` would round or narrow to 64 bits; removing the remainder first makes
/// the division exact.
fn int_div(d: Dialect, a: &str, b: &str) -> String {
    match d {
        Dialect::DuckDb => format!("(({a}) // ({b}))"),
        Dialect::ClickHouse => format!("intDiv({a}, {b})"),
        Dialect::Spark | Dialect::Trino => {
            format!("((({a}) - mod({a}, {b})) / ({b}))")
        }
    }
}

/// A computed value (saturated at 2^64 - 1 by flowkit: anything at or above it counts as it)
/// in any of `ranges`.
fn wide_ranges(expr: &str, ranges: &[(u64, u64)], d: Dialect) -> String {
    let mut singles = Vec::new();
    let mut terms = Vec::new();
    for &(a, b) in ranges {
        let (a, b) = (a as u128, b as u128);
        match (a > 0, b < U64_MAX) {
            (false, false) => return "TRUE".into(),
            (true, false) => terms.push(format!("{expr} >= {}", lit(d, a))),
            _ if a == b => singles.push(lit(d, a)),
            (true, true) => terms.push(format!("{expr} BETWEEN {} AND {}", lit(d, a), lit(d, b))),
            (false, true) => terms.push(format!("{expr} <= {}", lit(d, b))),
        }
    }
    match singles.len() {
        0 => {}
        1 => terms.push(format!("{expr} = {}", singles[0])),
        _ => terms.push(format!("{expr} IN ({})", singles.join(", "))),
    }
    or_terms(terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(text: &str, d: Dialect) -> String {
        expr_to_sql(&Expression::parse(text).unwrap(), d).unwrap()
    }

    /// MACs are their 48-bit values; an MPLS label is a range of stored entries (label << 4
    /// with any exp and bottom-of-stack bits), so every dialect compares plain integers.
    #[test]
    fn macs_and_mpls_labels_are_integer_ranges() {
        for d in [
            Dialect::DuckDb,
            Dialect::Spark,
            Dialect::Trino,
            Dialect::ClickHouse,
        ] {
            // 0x001122334455; label 16 is entries 16 * 16 ..= 16 * 16 + 15.
            assert_eq!(
                sql("src mac 00:11:22:33:44:55 and mpls label1 16", d),
                "(src_mac = 73588229205 AND mpls_label1 BETWEEN 256 AND 271)"
            );
            assert_eq!(sql("mpls label2 > 16", d), "mpls_label2 >= 272");
        }
    }

    #[test]
    fn boolean_structure_is_parenthesised() {
        assert_eq!(
            sql(
                "proto tcp and (dst port 22 or not dst port 2222)",
                Dialect::DuckDb
            ),
            "(protocol = 6 AND (dst_port = 22 OR (NOT dst_port = 2222)))"
        );
        assert_eq!(sql("any", Dialect::Trino), "TRUE");
    }

    #[test]
    fn each_dialect_writes_its_own_arithmetic() {
        let e = "pps > 10 and flags S and src net 10.0.0.0/8";
        let duck = sql(e, Dialect::DuckDb);
        assert!(
            duck.contains("CAST(packets AS HUGEINT)") && duck.contains(" // "),
            "{duck}"
        );
        assert!(duck.contains("(tcp_flags & 2) = 2"), "{duck}");
        assert!(
            duck.contains(
                "src_addr BETWEEN X'00000000000000000000ffff0a000000' \
                 AND X'00000000000000000000ffff0affffff'"
            ),
            "{duck}"
        );
        let spark = sql(e, Dialect::Spark);
        assert!(
            spark.contains("DECIMAL(38,0)") && spark.contains("mod("),
            "{spark}"
        );
        let trino = sql(e, Dialect::Trino);
        assert!(trino.contains("bitwise_and(tcp_flags, 2) = 2"), "{trino}");
        assert!(trino.contains("DECIMAL '18446744073709551616'"), "{trino}");
        let ch = sql(e, Dialect::ClickHouse);
        assert!(
            ch.contains("intDiv(") && ch.contains("toInt128(packets)"),
            "{ch}"
        );
        assert!(
            ch.contains("bitAnd(tcp_flags, 2) = 2") && ch.contains("unhex('"),
            "{ch}"
        );
    }

    #[test]
    fn the_family_is_the_ipv4_mapped_block() {
        let mapped = "src_addr BETWEEN X'00000000000000000000ffff00000000' \
                      AND X'00000000000000000000ffffffffffff'";
        assert_eq!(sql("ipv4", Dialect::DuckDb), mapped);
        assert_eq!(
            sql("ipv6", Dialect::DuckDb),
            "(src_addr <= X'00000000000000000000fffeffffffff' OR \
             src_addr >= X'00000000000000000001000000000000')"
        );
    }

    #[test]
    fn saturated_counters_leave_the_top_open() {
        // flowkit saturates at 2^64 - 1: a range reaching it has no upper bound.
        let s = sql("packets > 5", Dialect::DuckDb);
        assert!(s.ends_with(" >= 6"), "{s}");
        let s = sql("packets < 5", Dialect::DuckDb);
        assert!(s.ends_with(" <= 4"), "{s}");
    }
}
