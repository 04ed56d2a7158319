//! Interface names and descriptions of an exporter's SNMP interface indexes, from a small text
//! file the user keeps (`--ifnames FILE`), so `input_if 3` reads as `ge-0/0/1 "uplink to ISP A"`.
//!
//! The file has one interface a line: `EXPORTER IFINDEX NAME [DESCRIPTION...]`, fields separated
//! by blanks (spaces or tabs). EXPORTER is the exporter's address (IPv4 or IPv6, as flows carry
//! it in `exporter`) or `*` for every exporter; IFINDEX the SNMP ifIndex (0 to 4294967295); NAME
//! one word (what `ifName` says: `ge-0/0/1`, `Gi0/1`); DESCRIPTION the rest of the line, blanks
//! inside kept (`ifAlias`). Blank lines and lines whose first non-blank character is `#` are
//! skipped; a `#` later in a line is part of the description. A flow's interface is looked up
//! under its own exporter first, then under `*`. A line that does not read, or that names an
//! interface of an exporter a second time, is an error naming `FILE:LINE:COLUMN`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

/// What went wrong reading a mapping file.
#[derive(Debug, thiserror::Error)]
pub enum IfNamesError {
    /// The file could not be read.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A line that does not read.
    #[error("{path}:{line}:{column}: {what}")]
    Syntax {
        /// The file.
        path: String,
        /// Line number, from 1.
        line: usize,
        /// Column (character) where the trouble starts, from 1.
        column: usize,
        /// What is wrong.
        what: String,
    },
    /// A field was asked for without a mapping file.
    #[error("{field} needs --ifnames FILE (a map of interface names)")]
    Missing {
        /// The field's name.
        field: &'static str,
    },
}

/// A field looked up in the mapping: the name or description of a flow's input or output
/// interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IfField {
    /// Name of the input interface (`input_if` under the flow's exporter).
    InName,
    /// Name of the output interface.
    OutName,
    /// Description of the input interface.
    InDesc,
    /// Description of the output interface.
    OutDesc,
}

/// Every looked-up interface field, in the order CSV writes them.
pub const IF_FIELDS: [IfField; 4] = [
    IfField::InName,
    IfField::OutName,
    IfField::InDesc,
    IfField::OutDesc,
];

impl IfField {
    /// The field's name: CSV column, JSON key, `--fields` and `--top` name.
    pub fn name(self) -> &'static str {
        match self {
            IfField::InName => "in_if_name",
            IfField::OutName => "out_if_name",
            IfField::InDesc => "in_if_desc",
            IfField::OutDesc => "out_if_desc",
        }
    }

    /// The field a name means (`in_if_name`, also `inifname`, `in-if-name`), if any.
    pub fn parse(name: &str) -> Option<IfField> {
        let n = name.to_ascii_lowercase().replace(['_', '-'], "");
        IF_FIELDS
            .into_iter()
            .find(|f| f.name().replace('_', "") == n)
    }

    /// True for the input interface's fields.
    pub fn is_input(self) -> bool {
        matches!(self, IfField::InName | IfField::InDesc)
    }
}

/// One interface of the mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// Its name (one word).
    pub name: String,
    /// Its description (may be empty).
    pub desc: String,
}

/// Interface names by exporter and ifIndex, from one or more mapping files.
#[derive(Clone, Debug, Default)]
pub struct IfNames {
    /// `None` as exporter: the `*` lines.
    map: HashMap<(Option<IpAddr>, u32), (Interface, String)>,
}

impl IfNames {
    /// Reads the mapping files in order (an interface named in two files is an error).
    pub fn open<P: AsRef<Path>>(paths: &[P]) -> Result<IfNames, IfNamesError> {
        let mut names = IfNames::default();
        for p in paths {
            let path = p.as_ref().display().to_string();
            let bytes = std::fs::read(p.as_ref()).map_err(|e| IfNamesError::Io {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            names.add(&path, &bytes)?;
        }
        Ok(names)
    }

    /// Adds the lines of `text`, read from the file `path` (for messages).
    pub fn add(&mut self, path: &str, text: &[u8]) -> Result<(), IfNamesError> {
        for (k, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line_no = k + 1;
            let err = |column: usize, what: String| IfNamesError::Syntax {
                path: path.to_string(),
                line: line_no,
                column,
                what,
            };
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let line = std::str::from_utf8(raw).map_err(|e| {
                let col = String::from_utf8_lossy(&raw[..e.valid_up_to()])
                    .chars()
                    .count();
                err(col + 1, "not UTF-8 text".to_string())
            })?;
            let words = words(line);
            match words.first() {
                None => continue,
                Some((_, w)) if w.starts_with('#') => continue,
                _ => {}
            }
            let (ecol, exporter) = words[0];
            let exporter = match exporter {
                "*" => None,
                w => Some(
                    w.parse::<IpAddr>()
                        .map_err(|_| {
                            err(
                                ecol,
                                format!("{w:?} is not an exporter address (an IPv4 or IPv6 address, or *)"),
                            )
                        })?
                        .to_canonical(),
                ),
            };
            let Some(&(icol, index)) = words.get(1) else {
                return Err(err(
                    line.chars().count() + 1,
                    "an interface index (SNMP ifIndex) must follow the exporter".to_string(),
                ));
            };
            let index: u32 = index.parse().map_err(|_| {
                err(
                    icol,
                    format!("{index:?} is not an interface index (0 to 4294967295)"),
                )
            })?;
            let Some(&(_, name)) = words.get(2) else {
                return Err(err(
                    line.chars().count() + 1,
                    "an interface name must follow the index".to_string(),
                ));
            };
            let desc = words
                .get(3)
                .map(|&(dcol, _)| line.chars().skip(dcol - 1).collect::<String>())
                .unwrap_or_default();
            let place = format!("{path}:{line_no}");
            let entry = Interface {
                name: name.to_string(),
                desc: desc.trim_end().to_string(),
            };
            if let Some((_, first)) = self.map.get(&(exporter, index)) {
                let who = exporter.map_or("*".to_string(), |a| a.to_string());
                return Err(err(
                    ecol,
                    format!("interface {index} of exporter {who} is named already, at {first}"),
                ));
            }
            self.map.insert((exporter, index), (entry, place));
        }
        Ok(())
    }

    /// How many interfaces the mapping names.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when the mapping names no interface.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every interface of the mapping: exporter (`None` for a `*` line), ifIndex and interface,
    /// in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (Option<IpAddr>, u32, &Interface)> {
        self.map.iter().map(|(&(e, i), (iface, _))| (e, i, iface))
    }

    /// Interface `index` of `exporter`: its own line, else the `*` line for that index.
    pub fn lookup(&self, exporter: IpAddr, index: u32) -> Option<&Interface> {
        let exporter = exporter.to_canonical();
        self.map
            .get(&(Some(exporter), index))
            .or_else(|| self.map.get(&(None, index)))
            .map(|(i, _)| i)
    }

    /// `field` of a flow of `exporter` with these interfaces; `None` when the mapping does not
    /// name the interface, or names it without a description and a description is asked for.
    pub fn value(
        &self,
        field: IfField,
        exporter: IpAddr,
        input_if: u32,
        output_if: u32,
    ) -> Option<&str> {
        let index = if field.is_input() {
            input_if
        } else {
            output_if
        };
        let i = self.lookup(exporter, index)?;
        match field {
            IfField::InName | IfField::OutName => Some(&i.name),
            IfField::InDesc | IfField::OutDesc if i.desc.is_empty() => None,
            IfField::InDesc | IfField::OutDesc => Some(&i.desc),
        }
    }
}

/// The blank-separated words of `line`, each with the column (character, from 1) it starts at.
fn words(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start: Option<(usize, usize)> = None; // (byte, column)
    for (col, (byte, c)) in line.char_indices().enumerate() {
        let blank = c == ' ' || c == '\t';
        match (blank, start) {
            (false, None) => start = Some((byte, col + 1)),
            (true, Some((b, column))) => {
                out.push((column, &line[b..byte]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some((b, column)) = start {
        out.push((column, &line[b..]));
    }
    out
}

#[cfg(test)]
mod tests;
