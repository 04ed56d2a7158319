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
