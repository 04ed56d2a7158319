//! Variables: `-v NAME=VALUE` bindings and their expansion in filter lines, as flow-tools does it.
//!
//! flow-tools (lib/ftvar.c) expands every line textually before reading it: `@NAME` (NAME = the
//! longest run of letters and digits), `@{NAME}` and `@{NAME:-default}`. We do the same and keep a
//! map from the expanded text back to the line as written, so errors point at what the user typed.
//! Differences: comment lines and trailing comments are not expanded; a name in braces may also
//! contain `_`; a reference without value or default is reported (flow-tools silently expands it
//! to nothing).

use super::error::FilterError;
use std::collections::BTreeMap;

/// Values given with `-v NAME=VALUE` (a later binding of a name replaces an earlier one).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Variables {
    values: BTreeMap<String, String>,
}

impl Variables {
    /// No variables.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`.
    pub fn set(&mut self, name: &str, value: &str) {
        self.values.insert(name.to_string(), value.to_string());
    }

    /// Adds a `NAME=VALUE` binding as `-v` gives it. Names are letters, digits and `_`; the value
    /// must not be empty (as in flow-tools).
    pub fn bind(&mut self, binding: &str) -> Result<(), FilterError> {
        let bad = |reason: &str| FilterError::BadBinding {
            text: binding.to_string(),
            reason: reason.to_string(),
        };
        let (name, value) = binding
            .split_once('=')
            .ok_or_else(|| bad("expected NAME=VALUE"))?;
        if name.is_empty() {
            return Err(bad("expected NAME=VALUE (the name is empty)"));
        }
        if !name.chars().all(is_name_char) {
            return Err(bad(
                "a variable name has only letters, digits and `_` (expected NAME=VALUE)",
            ));
        }
        if value.is_empty() {
            return Err(bad("the value is empty (expected NAME=VALUE)"));
        }
        self.set(name, value);
        Ok(())
    }

    /// The value of `name` (names are case-sensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The names bound, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A stretch of the expanded line and where it came from in the line as written.
#[derive(Clone, Debug)]
struct Piece {
    exp: (usize, usize),
    orig: (usize, usize),
    /// The variable whose value (or default) this is; `None` for text copied as written.
    var: Option<String>,
}

/// A reference to a variable that has neither a value nor a default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unset {
    pub name: String,
    /// Byte range in the line as written.
    pub orig: (usize, usize),
}

/// A line after expansion, with the way back to the original columns.
#[derive(Clone, Debug)]
pub(crate) struct Expansion {
    /// The expanded text.
    pub text: String,
    pieces: Vec<Piece>,
    orig_len: usize,
    /// References without value or default (expanded to nothing).
    pub unset: Vec<Unset>,
    /// Every variable name referenced.
    pub referenced: Vec<String>,
}

impl Expansion {
    /// Maps an expanded byte range to a range of the line as written. A range inside a
    /// variable's value maps to the whole `@...` reference.
    pub fn map(&self, start: usize, end: usize) -> (usize, usize) {
        let s = self.map_start(start);
        let e = self.map_end(end.max(start)).max(s);
        (s, e)
    }

    fn map_start(&self, p: usize) -> usize {
        for pc in &self.pieces {
            if pc.exp.0 <= p && p < pc.exp.1 {
                return match pc.var {
                    None => pc.orig.0 + (p - pc.exp.0),
                    Some(_) => pc.orig.0,
                };
            }
        }
        self.orig_len
    }

    fn map_end(&self, p: usize) -> usize {
        for pc in &self.pieces {
            if pc.exp.0 < p && p <= pc.exp.1 {
                return match pc.var {
                    None => pc.orig.0 + (p - pc.exp.0),
                    Some(_) => pc.orig.1,
                };
            }
        }
        if p == 0 {
            0
        } else {
            self.orig_len
        }
    }

    /// The variable whose value covers expanded byte `p`, with that value.
    pub fn variable_at(&self, p: usize) -> Option<(&str, &str)> {
        self.pieces.iter().find_map(|pc| {
            let inside = pc.exp.0 <= p && p < pc.exp.1;
            match (&pc.var, inside) {
                (Some(v), true) => Some((v.as_str(), &self.text[pc.exp.0..pc.exp.1])),
                _ => None,
            }
        })
    }
}

/// A malformed reference: byte range in the line as written and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxProblem {
    pub orig: (usize, usize),
    pub message: String,
}

/// Expands the variable references of one line.
pub(crate) fn expand(line: &str, vars: &Variables) -> Result<Expansion, SyntaxProblem> {
    let mut out = Expansion {
        text: String::with_capacity(line.len()),
        pieces: Vec::new(),
        orig_len: line.len(),
        unset: Vec::new(),
        referenced: Vec::new(),
    };
    let bytes = line.as_bytes();
    let mut lit_start = 0;
    let mut i = 0;
    let flush_literal = |out: &mut Expansion, from: usize, to: usize| {
        if to > from {
            let e0 = out.text.len();
            out.text.push_str(&line[from..to]);
            out.pieces.push(Piece {
                exp: (e0, out.text.len()),
                orig: (from, to),
                var: None,
            });
        }
    };
    while i < bytes.len() {
        if bytes[i] != b'@' {
            i += 1;
            continue;
        }
        flush_literal(&mut out, lit_start, i);
        let at = i;
        let (name, default, end) = if bytes.get(i + 1) == Some(&b'{') {
            let body_start = i + 2;
            let close = line[body_start..]
                .find('}')
                .map(|k| body_start + k)
                .ok_or_else(|| SyntaxProblem {
                    orig: (at, line.len()),
                    message: "`@{` without a closing `}`".into(),
                })?;
            let body = &line[body_start..close];
            let name_len = body.find(|c: char| !is_name_char(c)).unwrap_or(body.len());
            let name = &body[..name_len];
            if name.is_empty() {
                return Err(SyntaxProblem {
                    orig: (at, close + 1),
                    message: "expected a variable name after `@{`".into(),
                });
            }
            let rest = &body[name_len..];
            let default = if rest.is_empty() {
                None
            } else if let Some(d) = rest.strip_prefix(":-") {
                Some(d)
            } else {
                return Err(SyntaxProblem {
                    orig: (body_start + name_len, close),
                    message: format!(
                        "expected `}}` or `:-default` after the variable name `{name}`"
                    ),
                });
            };
            (name, default, close + 1)
        } else {
            let start = i + 1;
            let len = line[start..]
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(line.len() - start);
            if len == 0 {
                return Err(SyntaxProblem {
                    orig: (at, at + 1),
                    message: "`@` starts a variable: write @NAME, @{NAME} or @{NAME:-default}"
                        .into(),
                });
            }
            (&line[start..start + len], None, start + len)
        };
        out.referenced.push(name.to_string());
        let value = match (vars.get(name), default) {
            (Some(v), _) => v,
            (None, Some(d)) => d,
            (None, None) => {
                out.unset.push(Unset {
                    name: name.to_string(),
                    orig: (at, end),
                });
                ""
            }
        };
        let e0 = out.text.len();
        out.text.push_str(value);
        out.pieces.push(Piece {
            exp: (e0, out.text.len()),
            orig: (at, end),
            var: Some(name.to_string()),
        });
        i = end;
        lit_start = end;
    }
    flush_literal(&mut out, lit_start, line.len());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Variables {
        let mut v = Variables::new();
        for (n, val) in list {
            v.set(n, val);
        }
        v
    }

    #[test]
    fn forms_of_reference() {
        let v = vars(&[("ADDR", "10.1.2.3"), ("P", "22")]);
        assert_eq!(expand("permit @ADDR", &v).unwrap().text, "permit 10.1.2.3");
        assert_eq!(
            expand("permit @{ADDR}", &v).unwrap().text,
            "permit 10.1.2.3"
        );
        assert_eq!(
            expand("permit @{ADDR:-0.0.0.0}", &v).unwrap().text,
            "permit 10.1.2.3"
        );
        assert_eq!(
            expand("permit @{X:-0.0.0.0}", &v).unwrap().text,
            "permit 0.0.0.0"
        );
        assert_eq!(expand("permit @P,@P", &v).unwrap().text, "permit 22,22");
        // A bare name is letters and digits only, as in flow-tools: @P_x is P then "_x".
        assert_eq!(expand("x @P_x", &v).unwrap().text, "x 22_x");
    }

    #[test]
    fn names_are_case_sensitive_and_later_bindings_win() {
        let mut v = Variables::new();
        v.bind("ADDR=1.1.1.1").unwrap();
        v.bind("ADDR=2.2.2.2").unwrap();
        let e = expand("@ADDR @addr", &v).unwrap();
        assert_eq!(e.text, "2.2.2.2 ");
        assert_eq!(e.unset.len(), 1);
        assert_eq!(e.unset[0].name, "addr");
        assert_eq!(e.unset[0].orig, (6, 11));
    }

    #[test]
    fn bad_bindings() {
        let mut v = Variables::new();
        assert!(v.bind("ADDR").is_err());
        assert!(v.bind("ADDR=").is_err());
        assert!(v.bind("=1").is_err());
        assert!(v.bind("A-B=1").is_err());
        v.bind("PORT=80,443").unwrap();
        v.bind("MY_PORT=22").unwrap();
        assert_eq!(v.get("PORT"), Some("80,443"));
        assert_eq!(v.get("MY_PORT"), Some("22"));
    }

    #[test]
    fn malformed_references() {
        let v = Variables::new();
        assert_eq!(expand("permit @{ADDR", &v).unwrap_err().orig, (7, 13));
        assert!(expand("permit @{ADDR:0}", &v).is_err());
        assert!(expand("permit @{}", &v).is_err());
        assert!(expand("permit @ x", &v).is_err());
        // Braces allow `_` (flow-tools rejects it there).
        let e = expand("permit @{MY_PORT:-22}", &v).unwrap();
        assert_eq!(e.text, "permit 22");
    }

    #[test]
    fn columns_map_back_to_the_line_as_written() {
        let v = vars(&[("A", "1.2.3.4.5")]);
        let line = "  permit @{A} x";
        let e = expand(line, &v).unwrap();
        assert_eq!(e.text, "  permit 1.2.3.4.5 x");
        // Literal text before and after maps one to one.
        assert_eq!(e.map(2, 8), (2, 8));
        let x = e.text.find('x').unwrap();
        assert_eq!(e.map(x, x + 1), (line.find('x').unwrap(), line.len()));
        // Anything inside the value maps to the whole reference.
        let (s, t) = e.map(12, 14);
        assert_eq!(&line[s..t], "@{A}");
        assert_eq!(e.variable_at(12), Some(("A", "1.2.3.4.5")));
        assert_eq!(e.variable_at(0), None);
    }
}
