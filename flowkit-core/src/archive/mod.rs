//! The flowkit archive: a self-describing, column-oriented, checksummed file and stream format.
//!
//! See docs/archive-format.md for the layout and the reasons behind it.

pub mod bloom;
mod encode;
pub mod expire;
pub mod flowtools;
pub mod format;
pub mod mapped;
pub(crate) mod members;
pub mod narrow;
pub mod nfdump;
pub mod packed;
pub mod reader;
pub mod recover;
pub mod reference;
pub mod sniff;
pub mod tree;
pub mod write_behind;
pub mod writer;

pub use format::{ArchiveHeader, BlockInfo};
pub use narrow::ColumnScratch;
pub use reader::{AlignedBuf, ArchiveFile, BlockEntry, StreamItem, StreamReader};
pub use reference::BlockRef;
pub use writer::{ArchiveFileWriter, ArchiveSummary, ArchiveWriter, WriterOptions};

/// Why an archive could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The operating system refused a read or open.
    #[error("{path}: {source}")]
    Io {
        /// File or stream name.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The data ends before a structure it announced.
    #[error("{path}: truncated at byte {offset}: {what}")]
    Truncated {
        /// File or stream name.
        path: String,
        /// Where the data ended.
        offset: u64,
        /// What was being read.
        what: String,
    },
    /// The data is present but inconsistent (checksum, length, magic).
    #[error("{path}: corrupt at byte {offset}: {what}")]
    Corrupt {
        /// File or stream name.
        path: String,
        /// Where the problem is.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// The bytes do not start with the archive magic.
    #[error("{path}: not a flowkit archive")]
    NotArchive {
        /// File or stream name.
        path: String,
    },
    /// A well-formed file of a kind or version this build does not read.
    #[error("{path}: {what}")]
    Unsupported {
        /// File or stream name.
        path: String,
        /// What is not supported, and what is.
        what: String,
    },
}

impl ArchiveError {
    pub(crate) fn io(path: &str, source: std::io::Error) -> Self {
        ArchiveError::Io {
            path: path.to_string(),
            source,
        }
    }

    pub(crate) fn truncated(path: &str, offset: u64, what: impl Into<String>) -> Self {
        ArchiveError::Truncated {
            path: path.to_string(),
            offset,
            what: what.into(),
        }
    }

    pub(crate) fn corrupt(path: &str, offset: u64, what: impl Into<String>) -> Self {
        ArchiveError::Corrupt {
            path: path.to_string(),
            offset,
            what: what.into(),
        }
    }

    /// The byte offset the error names, if it names one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            ArchiveError::Truncated { offset, .. } | ArchiveError::Corrupt { offset, .. } => {
                Some(*offset)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_columns;
#[cfg(test)]
mod tests_v2;
