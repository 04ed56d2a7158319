//! Errors and warnings of the filter language, located in the file as the user wrote it.

use super::ast::Span;
use pest::error::{Error as PestError, ErrorVariant, LineColLocation};
use rapidfuzz::distance::levenshtein;

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
        Diagnostic::with_lines(origin, text, span, message, None)
    }

    /// [`Diagnostic::new`] for a caller that knows where every line of `text` starts
    /// (`line_starts`, ascending, the first 0): a message then costs the length of its line, not
    /// of the text before it (a file with a warning on each of 100,000 lines was quadratic).
    pub(crate) fn with_lines(
        origin: &str,
        text: &str,
        span: Span,
        message: impl Into<String>,
        line_starts: Option<&[usize]>,
    ) -> Diagnostic {
        let message = message.into();
        let start = floor_char_boundary(text, span.start.min(text.len()));
        // Keep the underline on one line so pest renders a single line.
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let end = floor_char_boundary(text, span.end.clamp(start, line_end));
        // pest finds the line and column by walking the text from its start (and the line's
        // start from the text's end), for every message: give it only the line, with its `\n`,
        // and count the lines before ourselves (pest ends a line at `\n`; `\r\n` holds one).
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let lines_before = match line_starts {
            Some(starts) => starts.partition_point(|&s| s <= line_start).max(1) - 1,
            None => text.as_bytes()[..line_start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count(),
        };
        let text = &text[line_start..(line_end + 1).min(text.len())];
        let (start, end) = (start - line_start, end - line_start);
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
        let mut err = err.with_path(origin);
        err.line_col = match err.line_col {
            LineColLocation::Pos((l, c)) => LineColLocation::Pos((l + lines_before, c)),
            LineColLocation::Span((l, c), (l2, c2)) => {
                LineColLocation::Span((l + lines_before, c), (l2 + lines_before, c2))
            }
        };
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

/// Levenshtein distance on lowercased names.
pub fn edit_distance(a: &str, b: &str) -> usize {
    levenshtein::distance(a.to_lowercase().chars(), b.to_lowercase().chars())
}

/// A set of bits, one per character class, of the characters in a name: a character of one
/// name whose bit is absent from the other's set must be deleted or substituted, so the number
/// of such bits is a lower bound of the edit distance (classes shared by several characters
/// only make the bound lower, never wrong).
fn char_bits(chars: &[char]) -> u64 {
    chars.iter().fold(0, |bits, &c| {
        let class = match c {
            'a'..='z' => c as u32 - 'a' as u32,
            '0'..='9' => 26 + c as u32 - '0' as u32,
            '-' => 36,
            '_' => 37,
            '.' => 38,
            _ => 39 + c as u32 % 25,
        };
        bits | 1 << class
    })
}

/// One name to suggest, lowercased once.
#[derive(Debug)]
struct Candidate<'a> {
    name: &'a str,
    /// Place in the list as given (among equally near names, the first is suggested).
    order: usize,
    lower: String,
    lower_chars: Box<[char]>,
    /// Characters in `name` as written.
    chars: usize,
    bits: u64,
}

/// Names to suggest from, prepared once (lowercased, measured, sorted by length and by
/// lowercased name) so that a suggestion measures only the names of about the right length and
/// allocates nothing per name: the service-name registry has thousands, and every unknown port
/// name in a filter file is looked up in it.
#[derive(Debug)]
pub struct NameIndex<'a> {
    /// By length (`chars`), then as given.
    candidates: Vec<Candidate<'a>>,
    /// Indices into `candidates`, by lowercased name.
    by_lower: Vec<usize>,
    /// Bytes in the longest lowercased name.
    longest_lower: usize,
}

impl<'a> NameIndex<'a> {
    /// Prepares `names` (in order: among equally near names, the first is suggested).
    pub fn new(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut candidates: Vec<Candidate<'a>> = names
            .into_iter()
            .enumerate()
            .map(|(order, name)| {
                let lower = name.to_lowercase();
                let lower_chars: Box<[char]> = lower.chars().collect();
                Candidate {
                    name,
                    order,
                    chars: name.chars().count(),
                    bits: char_bits(&lower_chars),
                    lower,
                    lower_chars,
                }
            })
            .collect();
        candidates.sort_by_key(|c| (c.chars, c.order));
        let mut by_lower: Vec<usize> = (0..candidates.len()).collect();
        by_lower.sort_by(|&a, &b| candidates[a].lower.cmp(&candidates[b].lower));
        let longest_lower = candidates.iter().map(|c| c.lower.len()).max().unwrap_or(0);
        NameIndex {
            candidates,
            by_lower,
            longest_lower,
        }
    }

    /// The name nearest to `name`, if it is near enough to be a plausible typo: within an edit
    /// distance of a third of its length (at least 2), ignoring case. A single name that `name`
    /// abbreviates (`ip-prot` → `ip-protocol`) is preferred.
    pub fn nearest(&self, name: &str) -> Option<&'a str> {
        let len = name.chars().count();
        let limit = (len / 3).max(2);
        // The edit distance is at least the difference in length: names that cannot come within
        // the limit are not measured (a long unknown token against thousands of service names
        // made parsing slow; found by the `filter` fuzz target).
        let from = self
            .candidates
            .partition_point(|c| c.chars < len.saturating_sub(limit));
        let to = self.candidates.partition_point(|c| c.chars <= len + limit);
        // Lowercasing never shortens a name to fewer characters: a name longer than every
        // lowercased candidate abbreviates none (and is not lowercased, in case it is long).
        if from == to && len > self.longest_lower {
            return None;
        }
        let lower = name.to_lowercase();
        if lower.len() >= 3 {
            // The names that start with `lower` follow each other in `by_lower`.
            let first = self
                .by_lower
                .partition_point(|&i| self.candidates[i].lower < lower);
            let mut extending = self.by_lower[first..]
                .iter()
                .map(|&i| &self.candidates[i])
                .take_while(|c| c.lower.starts_with(&lower));
            if let (Some(only), None) = (extending.next(), extending.next()) {
                return Some(only.name);
            }
        }
        if from == to {
            return None;
        }
        let a: Vec<char> = lower.chars().collect();
        let a_bits = char_bits(&a);
        // rapidfuzz: bit-parallel, with the query prepared once and a cutoff per name.
        let query = levenshtein::BatchComparator::new(a.iter().copied());
        let mut best: Option<(usize, usize, &'a str)> = None;
        for c in &self.candidates[from..to] {
            // Only a nearer name, or one as near but given earlier, replaces the best so far.
            let bound = match best {
                None => limit,
                Some((d, order, _)) if c.order < order => d,
                Some((0, _, _)) => continue,
                Some((d, _, _)) => d - 1,
            };
            let missing = (a_bits & !c.bits)
                .count_ones()
                .max((c.bits & !a_bits).count_ones());
            if missing as usize > bound {
                continue;
            }
            let within = levenshtein::Args::default().score_cutoff(bound);
            if let Some(d) = query.distance_with_args(c.lower_chars.iter().copied(), &within) {
                best = Some((d, c.order, c.name));
            }
        }
        best.map(|(_, _, c)| c)
    }
}

/// The candidate nearest to `name`, as [`NameIndex::nearest`] finds it. For a fixed set of
/// names asked often, keep a [`NameIndex`] instead.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    NameIndex::new(candidates).nearest(name)
}

/// `; did you mean `x`?` or nothing.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    NameIndex::new(candidates).did_you_mean(name)
}

impl NameIndex<'_> {
    /// `; did you mean `x`?` or nothing.
    pub fn did_you_mean(&self, name: &str) -> String {
        self.nearest(name)
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default()
    }
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

    /// The suggester before it was made fast (lowercasing every name on every call, measuring
    /// all of similar length), kept as the reference the fast one must agree with.
    fn slow_nearest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
        fn distance(a: &str, b: &str) -> usize {
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
        candidates
            .iter()
            .filter(|c| c.chars().count().abs_diff(len) <= limit)
            .map(|c| (distance(name, c), *c))
            .filter(|(d, _)| *d <= limit)
            .min_by_key(|(d, _)| *d)
            .map(|(_, c)| c)
    }

    /// Typos of some of `names`: dropped, doubled, replaced and swapped characters, other case,
    /// prefixes, suffixes, and unrelated words.
    fn typos(names: &[&str], step: usize) -> Vec<String> {
        let mut out = Vec::new();
        for (k, name) in names.iter().step_by(step).enumerate() {
            let chars: Vec<char> = name.chars().collect();
            let n = chars.len();
            let at = k % n.max(1);
            let edit = |f: &dyn Fn(&mut Vec<char>)| {
                let mut c = chars.clone();
                f(&mut c);
                c.into_iter().collect::<String>()
            };
            out.push(name.to_string());
            out.push(name.to_uppercase());
            out.push(edit(&|c| {
                c.remove(at.min(c.len().saturating_sub(1)));
            }));
            out.push(edit(&|c| c.insert(at, 'x')));
            out.push(edit(&|c| c[at.min(n - 1)] = 'q'));
            out.push(edit(&|c| {
                if at + 1 < n {
                    c.swap(at, at + 1)
                }
            }));
            out.push(edit(&|c| c.truncate(3 + k % 3)));
            out.push(format!("{name}-{}", k % 7));
            out.push(edit(&|c| {
                c.remove(0);
                c.push('z');
                c.push('z');
            }));
        }
        out.extend(
            [
                "",
                "a",
                "zz",
                "Ω-port",
                "İstanbul",
                "x11",
                "nfs4",
                "ssh-tcp",
                "wwww",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        out
    }

    /// The fast suggester (names lowercased once, length and character pre-filters, bounded
    /// distance) gives exactly the answers of the slow one, for service names, protocol names
    /// and statement keywords.
    #[test]
    fn index_gives_the_answers_of_the_slow_suggester() {
        use crate::filter::symbols;
        let ports: Vec<&str> = symbols::port_names().collect();
        let protocols: Vec<&str> = symbols::protocol_names().collect();
        let sets: [(&[&str], &NameIndex, usize); 2] = [
            (&ports, symbols::port_name_index(), 251),
            (&protocols, symbols::protocol_name_index(), 1),
        ];
        let mut suggested = 0;
        for (names, index, step) in sets {
            for t in typos(names, step) {
                let want = slow_nearest(&t, names);
                assert_eq!(index.nearest(&t), want, "{t}");
                suggested += usize::from(want.is_some());
            }
        }
        assert!(suggested > 200, "{suggested}");
    }

    /// A diagnostic renders as pest renders the span on the whole file (before pest was given
    /// only the text from the start of the line on): same line, column, caret and snippet, at
    /// every place of a file with CRLF and lone CR line ends, tabs, multi-byte characters, blank
    /// lines and no final newline.
    #[test]
    fn diagnostic_renders_as_pest_on_the_whole_file() {
        let text =
            "a\r\n\tb\u{e9}c d\r\n\n  x\ry \u{1F600}z\n\nfilter-primitive p\n\ttype ip-port\r\nend";
        let whole = |start: usize, end: usize| {
            let start = floor_char_boundary(text, start.min(text.len()));
            let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            let end = floor_char_boundary(text, end.clamp(start, line_end));
            let variant = || ErrorVariant::CustomError {
                message: "m".to_string(),
            };
            let err: PestError<()> = match pest::Span::new(text, start, end) {
                Some(s) if end > start => PestError::new_from_span(variant(), s),
                _ => PestError::new_from_pos(variant(), pest::Position::new(text, start).unwrap()),
            }
            .with_path("f");
            let (line, column) = match err.line_col {
                LineColLocation::Pos(p) | LineColLocation::Span(p, _) => p,
            };
            (line, column, strip_message(&err.to_string()))
        };
        let mut checked = 0;
        for start in 0..=text.len() + 1 {
            for len in [0, 1, 2, 3, 5, 40] {
                let d = Diagnostic::new("f", text, Span::new(start, start + len), "m");
                assert_eq!(
                    (d.line, d.column, d.snippet),
                    whole(start, start + len),
                    "{start}+{len}"
                );
                checked += 1;
            }
        }
        assert!(checked > 300);
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
