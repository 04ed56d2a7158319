//! How a tool ends: typed errors mapped once to a message on stderr and an exit status.

use flowkit_core::pipeline::scan::{ScanError, ScanStats};
use std::io::{self, Write};

/// Prints `tool: message` on stderr.
pub fn warn(tool: &str, msg: &str) {
    eprintln!("{tool}: {msg}");
}

/// Prints `program: message` on stderr the first time this process is given `msg` (options
/// are parsed more than once by some tools).
pub(crate) fn note_once(msg: &str) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if seen.iter().any(|m| m == msg) {
        return;
    }
    seen.push(msg.to_string());
    let program = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "flowkit".into());
    warn(&program, msg);
}

/// An error at a tool's edge, with the exit status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// Bad arguments or configuration: exit 2.
    #[error("{0}")]
    Usage(String),
    /// Writing the output failed: exit 1 (a closed pipe exits quietly with 0).
    #[error("{0}")]
    Output(io::Error),
    /// Some inputs were damaged and skipped: exit 1 after finishing.
    #[error("{0} input problem(s) reported above")]
    DamagedInputs(u64),
}

impl ToolError {
    /// A usage error (exit 2) with `e` as its message.
    pub fn usage(e: impl std::fmt::Display) -> ToolError {
        ToolError::Usage(e.to_string())
    }
}

/// Reports `result` the flowkit way and exits: a message on stderr and status 2 for usage errors,
/// 1 for failures, 0 on success or when the reader of our output went away (`| head`).
pub fn exit_with(tool: &str, result: Result<(), ToolError>) -> ! {
    let code = match result {
        Ok(()) => 0,
        Err(ToolError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e @ ToolError::Usage(_)) => {
            warn(tool, &e.to_string());
            2
        }
        Err(e) => {
            warn(tool, &e.to_string());
            1
        }
    };
    let _ = io::stderr().flush();
    std::process::exit(code)
}

/// Turns a scan's error count into the tool's result.
pub fn check_damage(stats: &ScanStats) -> Result<(), ToolError> {
    if stats.errors > 0 {
        Err(ToolError::DamagedInputs(stats.errors))
    } else {
        Ok(())
    }
}

/// Parses a size in bytes: a number with an optional K, M or G suffix (powers of 1024; `KiB`,
/// `MiB`, `GiB` and `B` also accepted), e.g. `256M` for `--max-memory`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("{text:?}: not a size (use e.g. 512K, 256M, 2G)")),
    };
    num.parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("{text:?}: not a size (use e.g. 512K, 256M, 2G)"))
}

impl From<io::Error> for ToolError {
    fn from(e: io::Error) -> Self {
        ToolError::Output(e)
    }
}

impl From<ScanError> for ToolError {
    fn from(e: ScanError) -> Self {
        match e {
            ScanError::Output(e) => ToolError::Output(e),
            ScanError::BadInput(m) => ToolError::Usage(m),
        }
    }
}
