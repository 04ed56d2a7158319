//! Flow logs that are not NetFlow: connection records other programs write as text, read into
//! flow records. [`eve`]: Suricata's EVE JSON (`flow` and `netflow` events); [`conntrack`]: ulogd2
//! NFCT JSON (netfilter conntrack events, NAT translations kept); [`nat`]: which connection used
//! a public address and port at a time (NAT attribution).
//!
//! Each reader takes lines, keeps going past a malformed line (reported with its file, line
//! and column, and counted), and counts what it skipped on purpose.

pub mod conntrack;
pub mod eve;
pub mod nat;

use rayon::prelude::*;
use std::io::{self, BufRead};

/// Lines read and parsed per batch: work enough for the thread pool, a few megabytes of text.
const LINES_PER_BATCH: usize = 8192;
/// A batch also ends once it holds this much text, so a log of very long lines (or one with no
/// line ends at all) does not hold 8192 of them in memory at once.
const BYTES_PER_BATCH: usize = 8 << 20;

/// Reads `input` a batch of lines at a time, parses each batch's non-blank lines (trailing blanks
/// trimmed, leading ones kept so a parser's column counts from the line's start) with
/// `parse` on the thread pool, and hands every such line's 1-based number and result to `each`,
/// in input order. Returns the number of lines read, blank ones included. Why: decoding the JSON
/// is nearly all of a log reader's time, and lines decode independently (two cores read a log
/// about twice as fast); what depends on earlier lines (counts, pairing events) stays in `each`.
pub(crate) fn parse_lines<R: BufRead, T: Send>(
    mut input: R,
    parse: impl Fn(&[u8]) -> T + Sync,
    mut each: impl FnMut(u64, T) -> io::Result<()>,
) -> io::Result<u64> {
    let mut text = Vec::new();
    let mut ends: Vec<usize> = Vec::with_capacity(LINES_PER_BATCH);
    let mut lines = 0u64;
    loop {
        text.clear();
        ends.clear();
        while ends.len() < LINES_PER_BATCH
            && text.len() < BYTES_PER_BATCH
            && input.read_until(b'\n', &mut text)? > 0
        {
            ends.push(text.len());
        }
        if ends.is_empty() {
            return Ok(lines);
        }
        let parsed: Vec<Option<T>> = (0..ends.len())
            .into_par_iter()
            .map(|k| {
                let start = if k == 0 { 0 } else { ends[k - 1] };
                let line = text[start..ends[k]].trim_ascii_end();
                (!line.trim_ascii_start().is_empty()).then(|| parse(line))
            })
            .collect();
        for (k, p) in parsed.into_iter().enumerate() {
            if let Some(p) = p {
                each(lines + k as u64 + 1, p)?;
            }
        }
        lines += ends.len() as u64;
    }
}

/// A line that could not be read: where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// The input's name.
    pub origin: String,
    /// 1-based line number.
    pub line: u64,
    /// 1-based column (in bytes), when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(c) => write!(f, "{}:{}:{c}: {}", self.origin, self.line, self.message),
            None => write!(f, "{}:{}: {}", self.origin, self.line, self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_back_in_order_with_their_numbers_across_batches() {
        // Three batches and a bit, blank and blank-looking lines among them, no final newline.
        let n = LINES_PER_BATCH * 3 + 5;
        let mut text = String::new();
        let mut want = Vec::new();
        for i in 1..=n {
            if i % 1000 == 0 || i == LINES_PER_BATCH + 1 {
                text.push_str("  \t\n");
                continue;
            }
            text.push_str(&format!(" line {i} "));
            if i < n {
                text.push('\n');
            }
            want.push((i as u64, format!(" line {i}")));
        }
        let mut got = Vec::new();
        let lines = parse_lines(
            text.as_bytes(),
            |t| String::from_utf8(t.to_vec()).unwrap(),
            |k, s| {
                got.push((k, s));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(lines, n as u64);
        assert_eq!(got, want);
    }

    #[test]
    fn long_lines_end_batches_early_and_still_come_back_whole_and_in_order() {
        // Lines of 3 MB: a batch ends after three of them (9 MB of text), not after 8192.
        let long: Vec<String> = (0..7)
            .map(|i| format!("{i}{}", "x".repeat(3 << 20)))
            .collect();
        let text = long.join("\n");
        let mut got = Vec::new();
        let lines = parse_lines(
            text.as_bytes(),
            |t| t.to_vec(),
            |k, s| {
                got.push((k, s));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(lines, 7);
        assert_eq!(got.len(), 7);
        for (i, (k, s)) in got.iter().enumerate() {
            assert_eq!(*k, i as u64 + 1);
            assert_eq!(s, long[i].as_bytes());
        }
    }
}
