//! `[in|out] if name X` and `[in|out] if desc "TEXT"` (flowkit's): the flows whose input or
//! output interface the `--ifnames` map names X (or describes as TEXT), resolved while parsing
//! into tests of the exporter and the interface index, so compiled filters, record-by-record
//! matching and `--sql` need nothing new.

use super::{leaf, one_of, Dir, Parser};
use crate::enrich::IfNames;
use crate::filter::ast::Span;
use crate::filter::error::did_you_mean;
use crate::filter::expr::{AddrField, ExprError, Leaf, Node, NumField};
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Which text of a map line a term compares.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum IfText {
    /// The interface's name (`if name`).
    Name,
    /// Its description (`if desc`).
    Desc,
}

impl IfText {
    fn of(self, iface: &crate::enrich::ifnames::Interface) -> &str {
        match self {
            IfText::Name => &iface.name,
            IfText::Desc => &iface.desc,
        }
    }
}

impl Parser<'_> {
    /// The name after `[in|out] if name`, or the description after `[in|out] if desc` (`dir`
    /// `Unspec`: either interface).
    pub(super) fn if_name(
        &mut self,
        dir: Dir,
        span: Span,
        what: IfText,
    ) -> Result<Node, ExprError> {
        let (word, example) = match what {
            IfText::Name => ("name", "an interface name such as Gi0/1"),
            IfText::Desc => (
                "desc",
                "an interface description such as \"uplink to AS 3356\"",
            ),
        };
        let (name, nspan) = self.word(example)?;
        let Some(map) = self.ifnames else {
            return Err(self.error(
                span,
                &format!("`if {word}` needs a map of interface names"),
                "; give --ifnames FILE (lines `EXPORTER IFINDEX NAME [DESCRIPTION...]`)",
            ));
        };
        let column = match dir {
            Dir::In => format!("in_if_{word}"),
            Dir::Out => format!("out_if_{word}"),
            _ => format!("in_if_{word} or out_if_{word}"),
        };
        if !map.entries().any(|(_, _, i)| what.of(i) == name) {
            let texts: BTreeSet<&str> = map.entries().map(|(_, _, i)| what.of(i)).collect();
            let what_word = if what == IfText::Name {
                "is named"
            } else {
                "is described as"
            };
            return Err(self.error(
                nspan,
                &format!("no interface {what_word} `{name}` ({column}) in --ifnames"),
                &did_you_mean(&name, texts),
            ));
        }
        Ok(match dir {
            Dir::In => named(map, &name, NumField::InputIf, what),
            Dir::Out => named(map, &name, NumField::OutputIf, what),
            _ => Node::Or(vec![
                named(map, &name, NumField::InputIf, what),
                named(map, &name, NumField::OutputIf, what),
            ]),
        })
    }
}

/// The exporter `e` as networks: itself, and for IPv4 also its 16-byte form `::ffff:a.b.c.d`,
/// which the map reads as the same exporter.
fn exporter_nets(exporters: &BTreeSet<IpAddr>) -> Vec<IpNet> {
    let mut nets = Vec::new();
    for &e in exporters {
        nets.push(IpNet::from(e));
        if let IpAddr::V4(v4) = e {
            nets.push(IpNet::from(IpAddr::V6(v4.to_ipv6_mapped())));
        }
    }
    nets
}

/// The flows whose interface `field` (input or output) the map names `name` (or describes so,
/// by `what`), as [`IfNames::lookup`] finds it: an exporter's own line for that index, else the
/// `*` line.
fn named(map: &IfNames, name: &str, field: NumField, what: IfText) -> Node {
    // Indexes named `name` by each exporter's own lines, and by `*` lines.
    let mut own: BTreeMap<IpAddr, Vec<u64>> = BTreeMap::new();
    let mut star: Vec<u64> = Vec::new();
    // Exporters with a line of their own for an index (whatever its name): `*` does not apply.
    let mut overridden: BTreeMap<u32, BTreeSet<IpAddr>> = BTreeMap::new();
    for (exporter, index, iface) in map.entries() {
        if let Some(e) = exporter {
            overridden.entry(index).or_default().insert(e);
        }
        if what.of(iface) != name {
            continue;
        }
        match exporter {
            Some(e) => own.entry(e).or_default().push(index.into()),
            None => star.push(index.into()),
        }
    }
    let exporter = |set: &BTreeSet<IpAddr>| {
        leaf(Leaf::Addr {
            field: AddrField::Exporter,
            nets: exporter_nets(set),
        })
    };
    // Exporters naming the same indexes so share one test (many routers, one numbering), as
    // do `*` indexes with the same exporters overriding them.
    let mut by_indexes: BTreeMap<Vec<u64>, BTreeSet<IpAddr>> = BTreeMap::new();
    for (e, mut indexes) in own {
        indexes.sort_unstable();
        by_indexes.entry(indexes).or_default().insert(e);
    }
    let mut by_overriders: BTreeMap<BTreeSet<IpAddr>, Vec<u64>> = BTreeMap::new();
    for i in star {
        let others = overridden.get(&(i as u32)).cloned().unwrap_or_default();
        by_overriders.entry(others).or_default().push(i);
    }
    let mut parts = Vec::new();
    for (indexes, exporters) in by_indexes {
        parts.push(Node::And(vec![
            exporter(&exporters),
            one_of(field, &indexes),
        ]));
    }
    for (others, indexes) in by_overriders {
        if others.is_empty() {
            parts.push(one_of(field, &indexes));
        } else {
            parts.push(Node::And(vec![
                one_of(field, &indexes),
                Node::Not(Box::new(exporter(&others))),
            ]));
        }
    }
    match parts.len() {
        1 => parts.pop().expect("one part"),
        _ => Node::Or(parts),
    }
}

#[cfg(test)]
mod tests {
    use crate::enrich::{IfField, IfNames};
    use crate::filter::expr::{Expression, Lookups, Node};
    use crate::model::block::{ColumnSet, FlowBlockBuf};
    use crate::FlowRecord;

    const MAP: &str = "\
10.0.0.1 1 ge-0/0/0 uplink
10.0.0.1 2 ge-0/0/1
10.0.0.2 1 xe-1/0/0.100
*        1 Gi0/1
*        9 mgmt0 out of band
10.0.0.2 9 Gi0/1
";

    fn map() -> IfNames {
        let mut m = IfNames::default();
        m.add("map", MAP.as_bytes()).unwrap();
        m
    }

    fn flow(exporter: &str, input_if: u32, output_if: u32) -> FlowRecord {
        FlowRecord {
            exporter: exporter.parse().unwrap(),
            input_if,
            output_if,
            ..FlowRecord::default()
        }
    }

    /// The first line of a parse error.
    fn first(r: Result<Expression, String>) -> String {
        r.unwrap_err().lines().next().unwrap().to_string()
    }

    /// Each expression selects `want` of `flows`, compiled as record by record.
    fn selects<const N: usize>(m: &IfNames, flows: &[FlowRecord; N], cases: &[(&str, [bool; N])]) {
        let blk = FlowBlockBuf::from_records(flows);
        for (text, want) in cases {
            let e = parse(text, m).unwrap_or_else(|e| panic!("{text}: {e}"));
            let c = e.compile();
            let mut got = Vec::new();
            c.select(&blk.view().only(ColumnSet::of(&c.columns())), &mut got);
            assert_eq!(&got, want, "{text} (compiled)");
            let reference: Vec<bool> = flows.iter().map(|r| e.root.matches(r)).collect();
            assert_eq!(&reference, want, "{text}");
        }
    }

    fn parse(text: &str, m: &IfNames) -> Result<Expression, String> {
        let lookups = Lookups {
            geo: None,
            ifnames: Some(m),
        };
        Expression::parse_using(text, lookups).map_err(|e| e.to_string())
    }

    /// Each name, in and out, selects the flows worked out by hand from the map (an exporter's
    /// own line for an index wins over `*`), compiled as record by record, and the same as the
    /// map's own lookup (what flow-print prints).
    #[test]
    fn names_select_what_the_map_names() {
        let m = map();
        let flows = [
            flow("10.0.0.1", 1, 2),    // in ge-0/0/0 (own line over *), out ge-0/0/1
            flow("10.0.0.2", 1, 9),    // in xe-1/0/0.100, out Gi0/1 (own line over * mgmt0)
            flow("192.0.2.9", 1, 3),   // in Gi0/1 (*), out unnamed
            flow("10.0.0.1", 9, 1),    // in mgmt0 (*), out ge-0/0/0
            flow("10.0.0.2", 9, 9),    // in Gi0/1, out Gi0/1
            flow("2001:db8::1", 9, 1), // in mgmt0, out Gi0/1
        ];
        let (t, f) = (true, false);
        let cases = [
            ("in if name Gi0/1", [f, f, t, f, t, f]),
            ("out if name Gi0/1", [f, t, f, f, t, t]),
            ("if name Gi0/1", [f, t, t, f, t, t]),
            ("in if name ge-0/0/0", [t, f, f, f, f, f]),
            ("out if name ge-0/0/0", [f, f, f, t, f, f]),
            ("in if name mgmt0", [f, f, f, t, f, t]),
            ("out if name mgmt0", [f, f, f, f, f, f]),
            ("in if name xe-1/0/0.100", [f, t, f, f, f, f]),
            ("not in if name Gi0/1", [t, t, f, t, f, t]),
            (
                "(in if name Gi0/1) and out if name Gi0/1",
                [f, f, f, f, t, f],
            ),
            ("IN IF NAME Gi0/1 or in if name mgmt0", [f, f, t, t, t, t]),
        ];
        selects(&m, &flows, &cases);
        // Every name of the map, both ways, against the map's lookup of each flow.
        for name in ["ge-0/0/0", "ge-0/0/1", "xe-1/0/0.100", "Gi0/1", "mgmt0"] {
            for (dir, field) in [("in", IfField::InName), ("out", IfField::OutName)] {
                let e = parse(&format!("{dir} if name {name}"), &m).unwrap();
                for r in &flows {
                    let printed = m.value(field, r.exporter, r.input_if, r.output_if);
                    assert_eq!(
                        e.root.matches(r),
                        printed == Some(name),
                        "{dir} {name} {r:?}"
                    );
                }
            }
        }
    }

    /// An IPv4 exporter written as `::ffff:a.b.c.d` is the map's IPv4 exporter.
    #[test]
    fn mapped_exporter_is_the_ipv4_one() {
        let m = map();
        let r = flow("::ffff:10.0.0.1", 1, 9);
        assert!(parse("in if name ge-0/0/0", &m).unwrap().root.matches(&r));
        assert!(!parse("in if name Gi0/1", &m).unwrap().root.matches(&r));
        assert!(parse("out if name mgmt0", &m).unwrap().root.matches(&r));
    }

    /// Routers numbered alike share one exporter test: three exporters naming index 5 `et5`
    /// and one naming 7 `et5` make two tests, not four; `*` indexes overridden by the same
    /// exporters share one too.
    #[test]
    fn exporters_numbered_alike_share_a_test() {
        let mut m = IfNames::default();
        let text = "10.0.0.1 5 et5\n10.0.0.2 5 et5\n10.0.0.3 5 et5\n10.0.0.4 7 et5\n\
                    * 8 mgmt\n* 9 mgmt\n10.0.0.1 8 x\n10.0.0.1 9 y\n";
        m.add("map", text.as_bytes()).unwrap();
        let e = parse("in if name et5", &m).unwrap();
        let Node::Or(parts) = &e.root else {
            panic!("{:?}", e.root)
        };
        assert_eq!(parts.len(), 2);
        let e = parse("in if name mgmt", &m).unwrap();
        assert!(matches!(&e.root, Node::And(_)), "{:?}", e.root);
        let (t, f) = (true, false);
        for (ex, i, et5, mgmt) in [
            ("10.0.0.1", 5, t, f),
            ("10.0.0.3", 5, t, f),
            ("10.0.0.4", 5, f, f),
            ("10.0.0.4", 7, t, f),
            ("10.0.0.1", 7, f, f),
            ("10.0.0.1", 8, f, f),
            ("10.0.0.2", 8, f, t),
            ("10.0.0.2", 9, f, t),
        ] {
            let r = flow(ex, i, 0);
            assert_eq!(parse("in if name et5", &m).unwrap().root.matches(&r), et5);
            assert_eq!(parse("in if name mgmt", &m).unwrap().root.matches(&r), mgmt);
        }
    }

    #[test]
    fn mistakes_are_errors() {
        let m = map();
        for (expr, want) in [
            (
                "in if name Gi0/2",
                "no interface is named `Gi0/2` (in_if_name) in --ifnames at column 12; did you mean `Gi0/1`?",
            ),
            (
                "out if name gi0/1",
                "no interface is named `gi0/1` (out_if_name) in --ifnames at column 13; did you mean `Gi0/1`?",
            ),
            (
                "if name nothing-like-it",
                "no interface is named `nothing-like-it` (in_if_name or out_if_name) in --ifnames at column 9",
            ),
            (
                "src if name Gi0/1",
                "`src` does not go with `if` at column 5",
            ),
            (
                "in if name",
                "expected an interface name such as Gi0/1 at the end at column 11",
            ),
        ] {
            assert_eq!(first(parse(expr, &m)), want, "{expr}");
        }
        assert_eq!(
            first(Expression::parse("in if name Gi0/1").map_err(|e| e.to_string())),
            "`if name` needs a map of interface names at column 4; give --ifnames FILE (lines \
             `EXPORTER IFINDEX NAME [DESCRIPTION...]`)"
        );
        // `if N` is unchanged.
        assert!(Expression::parse("in if 3").is_ok());
    }

    /// `if desc` selects by the map's descriptions ("uplink" is 10.0.0.1's 1; "out of band"
    /// is the `*` line of 9, which 10.0.0.2's own line overrides), quoted when they hold
    /// blanks; an unended quote and an unknown description are errors.
    #[test]
    fn descriptions_select_what_the_map_describes() {
        let m = map();
        let flows = [
            flow("10.0.0.1", 1, 9), // in uplink, out "out of band" (*)
            flow("10.0.0.2", 9, 1), // in Gi0/1 (own line, no description), out xe (none)
            flow("192.0.2.9", 9, 9),
        ];
        let (t, f) = (true, false);
        let cases = [
            ("in if desc uplink", [t, f, f]),
            ("in if desc \"uplink\"", [t, f, f]),
            ("out if desc \"out of band\"", [t, f, t]),
            ("if desc \"out of band\"", [t, f, t]),
            (
                "(in if desc \"out of band\") or in if desc uplink",
                [t, f, t],
            ),
        ];
        selects(&m, &flows, &cases);
        assert_eq!(
            first(parse("in if desc \"out of", &m)),
            "the quoted text does not end at column 12; close it with `\"`"
        );
        assert_eq!(
            first(parse("in if desc uplinks", &m)),
            "no interface is described as `uplinks` (in_if_desc) in --ifnames at column 12; did you mean `uplink`?"
        );
    }
}
