//! Opening a tool's binary flow output (`-o FILE`, `-o DIR/`, or stdout), refusing a terminal.

use crate::report::ToolError;
use flowkit_core::archive::writer::{set_default_compression, DEFAULT_COMPRESS_LEVEL};
use flowkit_core::pipeline::sink::FlowOutput;
use std::io::{self, IsTerminal};
use std::path::PathBuf;

/// Opens `-o FILE`, `-o DIR/` or stdout for a tool that passes flows on (see
/// [`FlowOutput::open`]); binary flows on a terminal are refused.
pub fn open_output(path: Option<&PathBuf>, creator: &str) -> Result<FlowOutput, ToolError> {
    refuse_terminal(path)?;
    FlowOutput::open(path.map(|p| p.as_path()), creator).map_err(|e| open_error(path, e))
}

/// Opens the output of a program that makes an archive (see [`FlowOutput::open_archive`]).
pub fn open_archive_output(path: Option<&PathBuf>, creator: &str) -> Result<FlowOutput, ToolError> {
    refuse_terminal(path)?;
    FlowOutput::open_archive(path.map(|p| p.as_path()), creator).map_err(|e| open_error(path, e))
}

fn refuse_terminal(path: Option<&PathBuf>) -> Result<(), ToolError> {
    if path.is_none() && io::stdout().is_terminal() {
        return Err(ToolError::Usage(
            "refusing to write binary flows to a terminal; pipe into flow-print or use -o FILE"
                .into(),
        ));
    }
    Ok(())
}

/// A file that cannot be created is the user's to fix (exit 2); stdout failing is an output error.
fn open_error(path: Option<&PathBuf>, e: io::Error) -> ToolError {
    match path {
        Some(_) => ToolError::Usage(e.to_string()),
        None => ToolError::Output(e),
    }
}

/// The `--compress` option of every tool that writes archives (declared once here).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CompressArgs {
    /// Column compression of the archives written: `on` or `default` (zstd 3), `fast` (zstd 1)
    /// or a level below 9 store columns in frames of 1024 rows with their address Bloom filters
    /// (format version 3, about 2.2 times smaller; host filters read them about as fast, filters
    /// selecting many flows up to 4 times slower); `small` (zstd 9) or a level 9-19 as one
    /// frame a column (version 2, about 2.6 times smaller, host filters 2 times slower); `none`
    /// (format version 1, what is written without this option, and what flowkit before version
    /// 2 reads).
    #[arg(long = "compress", value_name = "LEVEL", value_parser = parse_compress)]
    pub compress: Option<CompressLevel>,
}

/// A compression level given with `--compress` (`None`: uncompressed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompressLevel(pub Option<i32>);

impl CompressArgs {
    /// Makes the level given (if any) the default of every writer of this process; call it
    /// before opening the output.
    pub fn apply(&self) {
        if let Some(CompressLevel(level)) = self.compress {
            set_default_compression(level);
        }
    }
}

/// Parses a `--compress` value.
fn parse_compress(s: &str) -> Result<CompressLevel, String> {
    let level = match s {
        "none" | "0" => None,
        "fast" => Some(1),
        "default" | "on" => Some(DEFAULT_COMPRESS_LEVEL),
        "small" => Some(9),
        n => match n.parse::<i32>() {
            Ok(l) if (1..=19).contains(&l) => Some(l),
            _ => {
                return Err(format!(
                    "{s:?}: expected none, on, fast, default, small or a zstd level 1-19"
                ))
            }
        },
    };
    Ok(CompressLevel(level))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compress_values_parse_to_zstd_levels() {
        assert_eq!(parse_compress("none"), Ok(CompressLevel(None)));
        assert_eq!(parse_compress("fast"), Ok(CompressLevel(Some(1))));
        assert_eq!(
            parse_compress("default"),
            Ok(CompressLevel(Some(DEFAULT_COMPRESS_LEVEL)))
        );
        assert_eq!(parse_compress("small"), Ok(CompressLevel(Some(9))));
        assert_eq!(parse_compress("12"), Ok(CompressLevel(Some(12))));
        for bad in ["20", "-1", "zlib", ""] {
            assert!(parse_compress(bad).is_err(), "{bad}");
        }
    }
}
