//! Splitting an expression into words and signs, as nfdump's scanner does: a word is a run of
//! letters, digits and `_ : . -` (so `10.0.0.1`, `2001:db8::1`, `icmp-type` and `1k` are one
//! word each); `( ) [ ] , /` and the operators `= == < > <= >= && || !` stand alone; `#` starts a
//! comment to the end of the line. After `community-id`, `if name` and `if desc` the next run of
//! non-blank characters (up to a `)`) is one word, since a Community ID's base64 holds `+ / =`
//! and an interface name `/` (`Gi0/1`); after `if name` and `if desc`, so is text in double
//! quotes (a description with blanks).

use super::ExprError;
use crate::filter::ast::{Op, Span};

/// What a token is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// A word: keyword, number, address, name.
    Word(String),
    /// `(`
    Open,
    /// `)`
    Close,
    /// `[`
    ListOpen,
    /// `]`
    ListClose,
    /// `,`
    Comma,
    /// `/`
    Slash,
    /// A comparison sign.
    Cmp(Op),
    /// `&&`
    And,
    /// `||`
    Or,
    /// `!`
    Not,
}

/// A token and where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Its bytes in the expression.
    pub span: Span,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-')
}

/// True when the next word is taken whole up to a blank or `)`: after `community-id` (a
/// Community ID's base64 holds `+ / =`) and after `if name` (`Gi0/1`, `xe-0/0/0.100`).
fn raw_word_follows(out: &[Token]) -> bool {
    let word = |t: Option<&Token>, w: &str| matches!(t, Some(Token { tok: Tok::Word(x), .. }) if x.eq_ignore_ascii_case(w));
    let n = out.len();
    word(out.last(), "community-id")
        || ((word(out.last(), "name") || word(out.last(), "desc"))
            && n >= 2
            && word(out.get(n - 2), "if"))
}

/// The tokens of `text`, or an error at the first character that starts none.
pub fn tokens(text: &str) -> Result<Vec<Token>, ExprError> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let two = |tok| (tok, 2);
        let (tok, len) = match (c, next) {
            (c, _) if c.is_whitespace() => continue,
            // After `if name` or `if desc`, text in double quotes is one word (descriptions
            // hold blanks).
            ('"', _) if raw_word_follows(&out) => {
                let Some(len) = text[at + 1..].find('"') else {
                    return Err(ExprError {
                        text: text.to_string(),
                        span: Span::new(at, text.len()),
                        message: "the quoted text does not end".into(),
                        hint: "; close it with `\"`".into(),
                    });
                };
                let end = at + 1 + len;
                out.push(Token {
                    tok: Tok::Word(text[at + 1..end].to_string()),
                    span: Span::new(at, end + 1),
                });
                while chars.peek().is_some_and(|&(i, _)| i <= end) {
                    chars.next();
                }
                continue;
            }
            // A word; after `community-id`, `if name` or `if desc` it runs to the next blank or `)` and may
            // start with any character but `)` (base64's `+ / =`, names like `Gi0/1`).
            (c, _) if is_word_char(c) || (c != ')' && raw_word_follows(&out)) => {
                let raw = raw_word_follows(&out);
                let mut end = at + c.len_utf8();
                while let Some(&(i, n)) = chars.peek() {
                    let more = if raw {
                        !n.is_whitespace() && n != ')'
                    } else {
                        is_word_char(n)
                    };
                    if !more {
                        break;
                    }
                    end = i + n.len_utf8();
                    chars.next();
                }
                out.push(Token {
                    tok: Tok::Word(text[at..end].to_string()),
                    span: Span::new(at, end),
                });
                continue;
            }
            ('#', _) => {
                while chars.peek().is_some_and(|&(_, n)| n != '\n') {
                    chars.next();
                }
                continue;
            }
            ('(', _) => (Tok::Open, 1),
            (')', _) => (Tok::Close, 1),
            ('[', _) => (Tok::ListOpen, 1),
            (']', _) => (Tok::ListClose, 1),
            (',', _) => (Tok::Comma, 1),
            ('/', _) => (Tok::Slash, 1),
            ('=', Some('=')) => two(Tok::Cmp(Op::Eq)),
            ('=', _) => (Tok::Cmp(Op::Eq), 1),
            ('<', Some('=')) => two(Tok::Cmp(Op::Le)),
            ('<', _) => (Tok::Cmp(Op::Lt), 1),
            ('>', Some('=')) => two(Tok::Cmp(Op::Ge)),
            ('>', _) => (Tok::Cmp(Op::Gt), 1),
            ('&', Some('&')) => two(Tok::And),
            ('|', Some('|')) => two(Tok::Or),
            ('!', _) => (Tok::Not, 1),
            (c, _) => {
                let hint = match c {
                    '\'' | '"' => "; flowkit's expressions have no quoted strings",
                    '&' => "; write `and` or `&&`",
                    '|' => "; write `or` or `||`",
                    _ => "",
                };
                return Err(ExprError {
                    text: text.to_string(),
                    span: Span::new(at, at + c.len_utf8()),
                    message: format!("unexpected character `{c}`"),
                    hint: hint.to_string(),
                });
            }
        };
        if len == 2 {
            chars.next();
        }
        out.push(Token {
            tok,
            span: Span::new(at, at + len),
        });
    }
    Ok(out)
}
