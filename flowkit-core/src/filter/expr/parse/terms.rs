//! Terms with a grammar of their own: `flags` (a number or letters), nfdump's `mpls` words and
//! flowkit's `app` (application ids) and `community-id`.

use super::{compare, leaf, number, one_of, Parser, Tok};
use crate::filter::expr::{ExprError, Leaf, Node, NumField};

impl Parser<'_> {
    /// nfdump's `mpls labelN [CMP] N` (N of 1-3: flowkit keeps the top three entries) and
    /// `mpls any N` (one of the three labels is N); `eos` and `expN` are refused.
    pub(super) fn mpls(&mut self) -> Result<Node, ExprError> {
        let (what, span) = self.word("`label1`, `label2`, `label3` or `any`")?;
        let lower = what.to_ascii_lowercase();
        let fields = [
            NumField::MplsLabel1,
            NumField::MplsLabel2,
            NumField::MplsLabel3,
        ];
        if lower == "any" {
            let n = self.number("MPLS label", (1 << 20) - 1)?;
            return Ok(Node::Or(fields.iter().map(|&f| one_of(f, &[n])).collect()));
        }
        let refuse = |p: &Self, why: &str| {
            Err(p.error(span, &format!("`mpls {what}` is not available"), why))
        };
        match lower.strip_prefix("label") {
            Some("1") => self.compared(fields[0], "MPLS label"),
            Some("2") => self.compared(fields[1], "MPLS label"),
            Some("3") => self.compared(fields[2], "MPLS label"),
            Some(n) if n.parse::<u8>().is_ok_and(|n| (4..=10).contains(&n)) => refuse(
                self,
                "; flowkit keeps the top three MPLS labels (label1 to label3)",
            ),
            _ if lower == "eos" || lower.starts_with("exp") => refuse(
                self,
                "; flowkit filters MPLS labels by value (`mpls label1 N`, `mpls any N`), \
                 not by their end-of-stack or experimental bits",
            ),
            _ => Err(self.error(
                span,
                &format!("unknown MPLS term `{what}`"),
                "; use `mpls label1 N` (label1 to label3) or `mpls any N`",
            )),
        }
    }

    /// `flags N` (with a comparison) or `flags LETTERS` (every flag listed is set); both imply
    /// TCP, as in nfdump.
    pub(super) fn flags(&mut self) -> Result<Node, ExprError> {
        let tcp = one_of(NumField::Protocol, &[6]);
        let numeric = matches!(self.peek(), Some(Tok::Cmp(_)))
            || matches!(
                self.peek_word(0).as_deref(),
                Some("eq" | "lt" | "gt" | "le" | "ge")
            )
            || self.peek_word(0).is_some_and(|w| number(&w).is_some());
        if numeric {
            let op = self.comparison();
            let n = self.number("TCP flags", 63)?;
            return Ok(Node::And(vec![tcp, compare(NumField::TcpFlags, op, n)]));
        }
        let (letters, span) = self.word("TCP flags (letters of FSRPAUX, or a number)")?;
        if letters.len() > 7 {
            return Err(self.error(span, "more than 7 TCP flag letters", ""));
        }
        let mut mask = 0u8;
        for c in letters.chars() {
            mask |= match c.to_ascii_uppercase() {
                'F' => 1,
                'S' => 2,
                'R' => 4,
                'P' => 8,
                'A' => 16,
                'U' => 32,
                'X' => 63,
                _ => {
                    return Err(self.error(
                        span,
                        &format!("`{c}` is not a TCP flag letter (F S R P A U, or X for all)"),
                        "",
                    ))
                }
            };
        }
        Ok(Node::And(vec![tcp, leaf(Leaf::FlagsAll(mask))]))
    }

    /// `app ID` (an application id as nfdump's `%nbid` prints it: `ENGINE..SELECTOR`,
    /// `20..PEN..SELECTOR`, or `ENGINE:SELECTOR`) and `app engine N` (any id of that
    /// classification engine; RFC 6759). A flowkit extension: nfdump has no application filter.
    pub(super) fn app(&mut self) -> Result<Node, ExprError> {
        if self.eat_word("engine") {
            let n = self.number("classification engine id", 255)?;
            return Ok(leaf(Leaf::Number {
                field: NumField::AppId,
                ranges: vec![(n << 56, n << 56 | ((1 << 56) - 1))],
            }));
        }
        let (w, span) =
            self.word("an application id such as 13..443 (ENGINE..SELECTOR) or `engine N`")?;
        let v = crate::model::l2::parse_app_id(&w).ok_or_else(|| {
            self.error(
                span,
                &format!("`{w}` is not an application id"),
                " (ENGINE..SELECTOR such as 13..443, 20..PEN..SELECTOR, or `app engine N`)",
            )
        })?;
        Ok(one_of(NumField::AppId, &[v]))
    }

    /// `community-id 1:BASE64` (flowkit's): flows whose Community ID (seed 0) is that one, as
    /// Zeek or Suricata logged it; both directions of the connection.
    pub(super) fn community_id(&mut self) -> Result<Node, ExprError> {
        let (w, span) = self.word("a Community ID such as 1:wCb3OG7yAFWelaUydu0D+125CLM=")?;
        // Version 1, then the base64 of a 20-byte SHA-1: 27 characters and one `=`.
        let body = w.strip_prefix("1:").unwrap_or("");
        let base64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
        if body.len() != 28 || !body[..27].chars().all(base64) || !body.ends_with('=') {
            return Err(self.error(
                span,
                &format!("`{w}` is not a Community ID"),
                " (version 1: `1:` and 28 base64 characters, such as \
                 1:wCb3OG7yAFWelaUydu0D+125CLM=)",
            ));
        }
        Ok(leaf(Leaf::CommunityId(w)))
    }
}
