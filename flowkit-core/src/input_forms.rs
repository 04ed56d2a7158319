//! How the scanner words what goes wrong with the forms an input can take (a pipe, a FIFO, an
//! empty input), so every tool says the same thing for the same input.
//!
//! - An empty input (an empty file, an empty pipe, `< /dev/null`) holds not even a stream header:
//!   it is reported the same way whichever form it takes (flowkit tools always write a header,
//!   so an empty pipe means the program writing it failed or wrote nothing).
//! - A stream through a pipe that stops before its end marker was cut short by the program
//!   writing it (it failed, or was killed): the reader says the upstream stopped, not that an
//!   archive is truncated. (The writer cannot always mark its own failure, e.g. when killed, so
//!   the reader tells by the missing end marker.)
//! - A FIFO or other non-regular file named on the command line is read once, as a stream.

use crate::archive::ArchiveError;
use crate::input::{PartialBatchFn, ScanError, Scanner};

/// The message for an input that holds no byte at all: the same for an empty file, an empty
/// pipe and an empty FIFO (`piped`: it came through a pipe, so its writer is named as the cause).
pub fn empty_input(name: &str, piped: bool) -> String {
    if piped {
        format!(
            "{name}: empty: no stream header arrived, so no flows (did the program writing to \
             the pipe fail?)"
        )
    } else {
        format!("{name}: empty: no archive header, so no flows (truncated at byte 0)")
    }
}

/// Reads a FIFO, terminal or device named on the command line, once, as a stream.
pub(crate) fn run_piped(
    scanner: &mut Scanner<'_>,
    name: &str,
    f: std::fs::File,
    on_batch: &mut PartialBatchFn<'_>,
) -> Result<(), ScanError> {
    let piped = std::mem::replace(&mut scanner.piped, true);
    let r = scanner.run_read(
        name,
        std::io::BufReader::with_capacity(1 << 20, f),
        on_batch,
    );
    scanner.piped = piped;
    r
}

impl Scanner<'_> {
    /// Reports why a stream stopped: through a pipe, a stream that ends before its end marker
    /// was stopped by its writer, and is reported as such rather than as a truncated archive.
    pub(crate) fn report_stream_error(&mut self, e: &ArchiveError) {
        match e {
            ArchiveError::Truncated { path, offset, .. } if self.piped => {
                let msg = format!(
                    "{path}: the upstream stopped at byte {offset}, before the end of its stream \
                     (the program writing to the pipe failed or was stopped; see its message); \
                     the flows before were read"
                );
                self.report(&msg);
            }
            _ => self.report(&e.to_string()),
        }
    }
}
