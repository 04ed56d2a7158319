//! Errors and warnings of the filter language, located in the file as the user wrote it.

use super::ast::Span;
use pest::error::{Error as PestError, ErrorVariant, LineColLocation};

/// A message tied to a place in a filter file: `file:line:column: message`, then the line and a
/// caret under the place (pest's rendering).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// What is wrong, in one line.
    pub message: String,
    /// The file's name as given (or `(built-in)`).
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters) in the line as written, before variable expansion.
    pub column: usize,
    /// The ` --> file:line:col` block with the line and the caret.
    pub snippet: String,
}

impl Diagnostic {
    /// Builds a diagnostic for `span` of `text` (the whole original file).
    pub fn new(origin: &str, text: &str, span: Span, message: impl Into<String>) -> Diagnostic {
        let message = message.into();
        let start = floor_char_boundary(text, span.start.min(text.len()));
        // Keep the underline on one line so pest renders a single line.
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let end = floor_char_boundary(text, span.end.clamp(start, line_end));
        let err: PestError<()> = match pest::Span::new(text, start, end) {
            Some(s) if end > start => PestError::new_from_span(
                ErrorVariant::CustomError {
                    message: message.clone(),
                },
                s,
            ),
            _ => PestError::new_from_pos(
                ErrorVariant::CustomError {
                    message: message.clone(),
                },
                pest::Position::new(text, start)
                    .unwrap_or_else(|| pest::Position::from_start(text)),
            ),
        };
        let err = err.with_path(origin);
        let (line, column) = match err.line_col {
            LineColLocation::Pos(p) | LineColLocation::Span(p, _) => p,
        };
        Diagnostic {
            snippet: strip_message(&err.to_string()),
            message,
            origin: origin.to_string(),
            line,
            column,
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}\n{}",
            self.origin, self.line, self.column, self.message, self.snippet
        )
    }
}

/// pest ends its rendering with ` |` and ` = message`; we print the message first instead.
fn strip_message(rendered: &str) -> String {
    let lines: Vec<&str> = rendered.lines().collect();
    let keep = match lines.iter().rposition(|l| l.trim_start().starts_with("= ")) {
        Some(i) if i >= 1 && lines[i - 1].trim() == "|" => i - 1,
        Some(i) => i,
        None => lines.len(),
    };
    lines[..keep].join("\n")
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Everything that can go wrong loading a filter file or choosing a definition.
#[derive(Clone, Debug, thiserror::Error)]
pub enum FilterError {
    /// A syntax or meaning error at a place in the file.
    #[error("{0}")]
    Located(Box<Diagnostic>),
    /// The chosen definition (or a primitive it uses) references a variable without a value.
    #[error("definition `{definition}` needs variable {variable} ({origin}:{line}:{column}); give -v {variable}=VALUE")]
    MissingVariable {
        /// The definition asked for.
        definition: String,
        /// The variable.
        variable: String,
        /// The file.
        origin: String,
        /// Line of the reference.
        line: usize,
        /// Column of the reference.
        column: usize,
    },
    /// No definition has the name asked for.
    #[error("no filter-definition named `{name}` in {origin}{hint}")]
    UnknownDefinition {
        /// The name asked for.
        name: String,
        /// The file.
        origin: String,
        /// `; did you mean ...` or the list of definitions.
        hint: String,
    },
    /// The definition tests a field flowkit records do not have.
    #[error("definition `{definition}` matches {field} ({origin}:{line}), which flowkit records do not carry{note}")]
    UnsupportedField {
        /// The definition.
        definition: String,
        /// The match field.
        field: &'static str,
        /// The file.
        origin: String,
        /// Line of the match.
        line: usize,
        /// Where flow-tools had it.
        note: &'static str,
    },
    /// A `-v` argument that is not `NAME=VALUE`.
    #[error("bad variable binding `{text}`: {reason}")]
    BadBinding {
        /// The argument.
        text: String,
        /// What is wrong.
        reason: String,
    },
}

impl FilterError {
    /// The diagnostic of a located error.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            FilterError::Located(d) => Some(d),
            _ => None,
        }
    }

    pub(crate) fn at(origin: &str, text: &str, span: Span, message: impl Into<String>) -> Self {
        FilterError::Located(Box::new(Diagnostic::new(origin, text, span, message)))
    }
}

/// Levenshtein distance on ASCII-lowercased names (names here are short).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate nearest to `name`, if it is near enough to be a plausible typo. A single
/// candidate that `name` abbreviates (`ip-prot` → `ip-protocol`) is preferred.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let lower = name.to_lowercase();
    let extending: Vec<&str> = candidates
        .iter()
        .copied()
        .filter(|c| lower.len() >= 3 && c.to_lowercase().starts_with(&lower))
        .collect();
    if let [only] = extending.as_slice() {
        return Some(only);
    }
    let len = name.chars().count();
    let limit = (len / 3).max(2);
    // The edit distance is at least the difference in length: candidates that cannot come
    // within the limit are not measured (a long unknown token against thousands of service
    // names made parsing slow; found by the `filter` fuzz target).
    candidates
        .into_iter()
        .filter(|c| c.chars().count().abs_diff(len) <= limit)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `; did you mean `x`?` or nothing.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    nearest(name, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("or", "orr"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("Port80", "port80"), 0);
        assert_eq!(
            nearest("irc-portz", ["irc-ports", "ssh"]),
            Some("irc-ports")
        );
        assert_eq!(nearest("zzzzzz", ["irc-ports", "ssh"]), None);
    }

    /// Skipping candidates by length difference (found slow by the `filter` fuzz target) gives
    /// the same answers as measuring every candidate.
    #[test]
    fn length_filter_changes_no_answer() {
        let candidates = [
            "ssh",
            "irc",
            "irc-ports",
            "http",
            "https",
            "domain",
            "ntp",
            "smtp",
            "imaps",
            "ms-wbt-server",
            "x",
            "telnet",
            "bgp",
            "ip-protocol",
            "ip-source-address",
        ];
        let brute = |name: &str| {
            let limit = (name.chars().count() / 3).max(2);
            candidates
                .iter()
                .map(|c| (edit_distance(name, c), *c))
                .filter(|(d, _)| *d <= limit)
                .min_by_key(|(d, _)| *d)
                .map(|(_, c)| c)
        };
        for name in [
            "sh",
            "ssj",
            "htp",
            "httpss",
            "irc-port",
            "ip-protocl",
            "domian",
            "xx",
            "teln",
            "ip-source-adress",
            "ms-wbt-servr",
            "b",
            "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
        ] {
            let lower = name.to_lowercase();
            let abbreviates = candidates
                .iter()
                .filter(|c| lower.len() >= 3 && c.starts_with(&lower))
                .count();
            if abbreviates != 1 {
                assert_eq!(nearest(name, candidates), brute(name), "{name}");
            }
        }
    }

    #[test]
    fn diagnostic_points_at_the_span() {
        let text = "filter-primitive a\n  type ip-prt\n";
        let start = text.find("ip-prt").unwrap();
        let d = Diagnostic::new("f.cfg", text, Span::new(start, start + 6), "unknown type");
        assert_eq!((d.line, d.column), (2, 8));
        let shown = d.to_string();
        assert!(shown.starts_with("f.cfg:2:8: unknown type\n"), "{shown}");
        assert!(shown.contains("2 |   type ip-prt"), "{shown}");
        assert!(shown.contains("^----^"), "{shown}");
        assert!(!shown.contains("= unknown"), "{shown}");
    }
}
