//! The table of flow-stat reports: names, what each aggregates on, how it prints, and which
//! record fields it needs; plus the options and the report-information preamble.

use std::io::{self, Write};

/// Number of reports (`-f 0` .. `-f 32`).
pub const FORMATS: usize = 33;

/// Report names as flow-stat prints them on its `# Name:` line.
pub const FORMAT_NAMES: [&str; FORMATS] = [
    "Overall Summary",
    "Average packet size distribution",
    "Packets per flow distribution",
    "Octets per flow distribution",
    "Bandwidth per flow distribution",
    "UDP/TCP destination port",
    "UDP/TCP source port",
    "UDP/TCP port",
    "Destination IP",
    "Source IP",
    "Source/Destination IP",
    "Source or Destination IP",
    "IP protocol",
    "octets for flow duration plot data",
    "packets for flow duration plot data",
    "short summary",
    "IP Next Hop",
    "Input interface",
    "Output interface",
    "Source AS",
    "Destination AS",
    "Source/Destination AS",
    "IP ToS",
    "Input/Output Interface",
    "Source Prefix",
    "Destination Prefix",
    "Source/Destination Prefix",
    "Exporter IP",
    "Engine Id",
    "Engine Type",
    "Source Tag",
    "Destination Tag",
    "Source/Destination Tag",
];

/// flow-stat's options, with flow-tools' meaning.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Report number (`-f`).
    pub format: usize,
    /// flow-tools' sort order: 0 none, `k+1` descending on field k (`-S k`), `-(k+1)`
    /// ascending (`-s k`).
    pub sort_order: i32,
    /// Percentages instead of totals (`-P`).
    pub percent: bool,
    /// Wide output, with the duration column (`-w`).
    pub wide: bool,
    /// Symbolic names (`-n`).
    pub names: bool,
    /// Title line (`-T`).
    pub title: Option<String>,
    /// Comment character (`-c`), `#` by default.
    pub cc: char,
}

/// Which optional record fields the input carries. flow-tools' record versions differ (v1 has
/// no AS, masks or engine; only tagged records, version 1005, have tags); a report that
/// needs a missing field prints only its preamble, as flow-tools does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordFields {
    /// Source and destination AS.
    pub asn: bool,
    /// Source and destination mask lengths.
    pub masks: bool,
    /// Engine type and id.
    pub engine: bool,
    /// Source and destination tags.
    pub tags: bool,
}

impl RecordFields {
    /// Every field (flowkit archives and flow streams carry them all).
    pub const ALL: RecordFields = RecordFields {
        asn: true,
        masks: true,
        engine: true,
        tags: true,
    };

    /// The fields of flow-tools record version `v` (1, 5, 6, 7 or 1005).
    pub fn of_flowtools_version(v: u16) -> RecordFields {
        RecordFields {
            asn: v != 1,
            masks: v != 1,
            engine: v != 1,
            tags: v == 1005,
        }
    }

    /// The fields both `self` and `other` carry (for several inputs).
    pub fn both(self, other: RecordFields) -> RecordFields {
        RecordFields {
            asn: self.asn && other.asn,
            masks: self.masks && other.masks,
            engine: self.engine && other.engine,
            tags: self.tags && other.tags,
        }
    }

    /// True when report `format` can run on records with these fields.
    pub fn serve(self, format: usize) -> bool {
        match format {
            19..=21 => self.asn,
            24..=26 => self.masks,
            28 | 29 => self.engine,
            30..=32 => self.tags,
            _ => true,
        }
    }
}

/// How a report keeps its counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// f0: totals, averages and histograms.
    Summary,
    /// f4: not implemented in flow-tools either.
    NotImplemented,
    /// f13 (octets) / f14 (packets): per-flow plot data.
    Plot {
        /// Packets instead of octets.
        packets: bool,
    },
    /// f15: octets, packets, MBytes.
    Short,
    /// A fixed table indexed by a small key (ports, protocol, interfaces, AS, ToS, engine).
    Table {
        /// Number of slots.
        size: usize,
        /// The key column's title, as passed to flow-tools' `tbl_out1`.
        title: &'static str,
    },
    /// A hash of keys in first-seen order.
    Hash(Dump),
}

/// The line layouts of flow-tools' hash dumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dump {
    /// One 32-bit number (`chash_c32_dump`), with its title.
    C32(&'static str),
    /// Two 32-bit numbers (`chash_c322_dump`).
    C322(&'static str, &'static str),
    /// One IPv4 address.
    Ip,
    /// Two IPv4 addresses.
    Ip2,
    /// Two AS numbers.
    As2,
    /// Two interfaces.
    If2,
    /// One prefix.
    Pre,
    /// Two prefixes.
    Pre2,
}

impl Dump {
    /// True for the reports keyed on two values (their sort fields shift by one).
    pub fn two_keys(self) -> bool {
        matches!(
            self,
            Dump::C322(..) | Dump::Ip2 | Dump::As2 | Dump::If2 | Dump::Pre2
        )
    }
}

/// The kind of report `format`.
pub fn kind(format: usize) -> Kind {
    use Dump::*;
    match format {
        0 => Kind::Summary,
        1 => Kind::Hash(C32("Pkt Size")),
        2 => Kind::Hash(C32("Packets ")),
        3 => Kind::Hash(C32("Octets  ")),
        4 => Kind::NotImplemented,
        5..=7 => Kind::Table {
            size: 65536,
            title: "port      ",
        },
        8 | 9 | 11 | 16 | 27 => Kind::Hash(Ip),
        10 => Kind::Hash(Ip2),
        12 => Kind::Table {
            size: 256,
            title: "protocol  ",
        },
        13 => Kind::Plot { packets: false },
        14 => Kind::Plot { packets: true },
        15 => Kind::Short,
        17 | 18 => Kind::Table {
            size: 65536,
            title: "interface ",
        },
        19 => Kind::Table {
            size: 65536,
            title: "src AS    ",
        },
        20 => Kind::Table {
            size: 65536,
            title: "dst AS    ",
        },
        21 => Kind::Hash(As2),
        22 => Kind::Table {
            size: 256,
            title: "ToS       ",
        },
        23 => Kind::Hash(If2),
        24 | 25 => Kind::Hash(Pre),
        26 => Kind::Hash(Pre2),
        28 => Kind::Table {
            size: 256,
            title: "engine_id ",
        },
        29 => Kind::Table {
            size: 256,
            title: "engine_type ",
        },
        30 => Kind::Hash(C32("Src Tag ")),
        31 => Kind::Hash(C32("Dst Tag ")),
        _ => Kind::Hash(C322("Src Tag ", "Dst Tag   ")),
    }
}

/// Writes flow-stat's "Report Information" preamble; `argv` is echoed on the `# Args:` line
/// (printable characters only, each argument followed by a space), as flow-tools does.
pub fn write_preamble(out: &mut impl Write, opts: &Options, argv: &[String]) -> io::Result<()> {
    let cc = opts.cc;
    writeln!(out, "{cc}  --- ---- ---- Report Information --- --- ---")?;
    writeln!(out, "{cc}")?;
    if let Some(t) = &opts.title {
        writeln!(out, "{cc} Title:     {t}")?;
    }
    let pct = if opts.percent { "Percent " } else { "" };
    writeln!(out, "{cc} Fields:    {pct}Total")?;
    let sym = if opts.names { "Enabled" } else { "Disabled" };
    writeln!(out, "{cc} Symbols:   {sym}")?;
    match opts.sort_order {
        0 => writeln!(out, "{cc} Sorting:   None")?,
        s if s > 0 => writeln!(out, "{cc} Sorting:   Descending Field {}", s - 1)?,
        s => writeln!(out, "{cc} Sorting:   Ascending Field {}", -s - 1)?,
    }
    writeln!(out, "{cc} Name:      {}", FORMAT_NAMES[opts.format])?;
    write!(out, "{cc}\n{cc} Args:      ")?;
    for a in argv {
        let printable: String = a.chars().filter(|c| (' '..='~').contains(c)).collect();
        write!(out, "{printable} ")?;
    }
    writeln!(out)?;
    writeln!(out, "{cc}")
}

/// The flow-tools symbol file report `format` names its keys from with `-n`, if any.
pub fn symbol_file(format: usize) -> Option<&'static str> {
    match format {
        5..=7 => Some("tcp-port.sym"),
        12 => Some("ip-prot.sym"),
        19..=21 => Some("asn.sym"),
        // flow-tools' one-number hash dumps look names up in the tag file, whatever the key.
        1..=3 | 30..=32 => Some("tag.sym"),
        _ => None,
    }
}

/// How many columns report `format` can sort on (`-S`/`-s` 0 .. n-1), or `None` when it does
/// not sort (f0, f4, f13, f14, f15 ignore the option, as flow-tools does).
pub fn sort_fields(format: usize) -> Option<u32> {
    match kind(format) {
        Kind::Table { .. } => Some(5),
        Kind::Hash(d) if d.two_keys() => Some(6),
        Kind::Hash(_) => Some(5),
        _ => None,
    }
}
