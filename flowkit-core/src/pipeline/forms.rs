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
use crate::pipeline::scan::{PartialBatchFn, ScanError, Scanner};

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

#[cfg(test)]
mod tests {
    use crate::archive::{ArchiveFile, ArchiveFileWriter, ArchiveWriter, WriterOptions};
    use crate::pipeline::input::Input;
    use crate::pipeline::scan::{ScanOptions, Scanner};
    use crate::FlowRecord;

    /// A file holding a stream of block references (a pipe between flowkit tools saved to a
    /// file, as a spool of stdin is) is read as that stream, its references followed, with no
    /// error; and a file holding two such streams one after the other gives both.
    #[test]
    fn a_file_of_block_references_is_read_as_a_stream() {
        let d = tempfile::tempdir().unwrap();
        let archive = d.path().join("a");
        let mut w = ArchiveFileWriter::create(
            &archive,
            WriterOptions {
                block_flows: 2,
                ..Default::default()
            },
        )
        .unwrap();
        for s in [10, 20, 30, 40, 50] {
            let r = FlowRecord {
                start_ms: s,
                end_ms: s + 1,
                ..FlowRecord::default()
            };
            w.writer().push(&r).unwrap();
        }
        w.finish().unwrap();
        let f = ArchiveFile::open(&archive, false).unwrap();
        let mut refs = ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
        for i in 0..f.blocks().len() {
            refs.write_ref(&f.block_ref(i).unwrap()).unwrap();
        }
        let refs = refs.finish().unwrap().0;
        let spool = d.path().join("spool");
        for (copies, want) in [(1, 5), (2, 10)] {
            std::fs::write(&spool, refs.repeat(copies)).unwrap();
            assert!(ArchiveFile::open(&spool, false).unwrap().read_as_stream());
            let mut warnings = Vec::new();
            let mut starts = Vec::new();
            let mut s = Scanner::new(ScanOptions::default(), |m| warnings.push(m.to_string()));
            s.run(&[Input::File(spool.clone())], &mut |batch| {
                batch
                    .iter()
                    .for_each(|b| starts.extend_from_slice(b.start_ms));
                Ok(())
            })
            .unwrap();
            drop(s);
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_eq!(starts.len(), want);
            assert_eq!(starts[..5], [10, 20, 30, 40, 50]);
        }
    }

    /// Bytes after a flow-tools stream that start no stream are reported at their offset (they
    /// used to be ignored: `cat ft.file a.fk` read the flow-tools flows only), compressed or not;
    /// flows of the stream before them are all read.
    #[test]
    fn bytes_after_a_flow_tools_stream_are_reported() {
        for rel in [
            "2010-11-09/ft-v05.2010-11-09.000000+0000",
            "flow-tools/variants/v5raw/ft-v05.2026-11-22.165925+0000",
        ] {
            let ft = std::fs::read(crate::testing::testdata::path(rel)).unwrap();
            let data = [ft.clone(), b"junk".to_vec()].concat();
            let mut warnings = Vec::new();
            let mut flows = 0;
            let mut s = Scanner::new(ScanOptions::default(), |m| warnings.push(m.to_string()));
            s.run_reader("(stdin)", &data[..], &mut |batch| {
                flows += batch.blocks.iter().map(|b| b.len).sum::<usize>();
                Ok(())
            })
            .unwrap();
            drop(s);
            assert_eq!(flows, 3498, "{rel}");
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            let want = format!(
                "(stdin): corrupt at byte {}: after the end of a stream",
                ft.len()
            );
            assert!(warnings[0].starts_with(&want), "{rel}: {warnings:?}");
        }
    }
}
