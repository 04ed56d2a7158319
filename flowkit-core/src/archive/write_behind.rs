//! Write-behind for files a collector keeps writing for minutes.
//!
//! Without it, the pages a collector writes stay dirty until the kernel's background threshold
//! (a tenth of memory by default), then writeback starts in a burst that takes CPU from the
//! decoding thread for seconds, and the `fsync` at rotation has gigabytes left to write while
//! datagrams wait. With it, every [`STEP`] bytes written the range is handed to the kernel to
//! start writing out (`sync_file_range(SYNC_FILE_RANGE_WRITE)`, which does not wait for the
//! disk), so writeback runs steadily beside the writes and the final `fsync` finds little to do.
//! Measured in docs/reliability.md ("Collector under load"). Linux only; elsewhere a plain file.

use std::fs::File;
use std::io::{self, IoSlice, Write};

/// Bytes written between two write-out requests.
pub const STEP: u64 = 8 << 20;

/// A file whose written bytes are handed to the kernel for write-out every [`STEP`] bytes
/// (when `enabled`), so dirty pages never pile up.
pub struct WriteBehindFile {
    file: File,
    enabled: bool,
    /// Bytes written from the start of the file.
    written: u64,
    /// Bytes already handed over for write-out.
    started: u64,
}

impl WriteBehindFile {
    /// Wraps `file`, written from its start; `enabled` false makes it a plain file.
    pub fn new(file: File, enabled: bool) -> Self {
        WriteBehindFile {
            file,
            enabled,
            written: 0,
            started: 0,
        }
    }

    /// The file, for the final header rewrite and sync.
    pub fn into_file(self) -> File {
        self.file
    }

    fn advance(&mut self, n: usize) {
        self.written += n as u64;
        if self.enabled && self.written - self.started >= STEP {
            start_write_out(&self.file, self.started, self.written - self.started);
            self.started = self.written;
        }
    }
}

/// Asks the kernel to start writing `len` bytes at `offset` of `file` out, without waiting.
/// Best effort: a filesystem that refuses leaves the pages to the usual writeback.
#[cfg(target_os = "linux")]
fn start_write_out(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain system call on a descriptor this struct owns; no memory is passed.
    let _ = unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            offset as libc::off64_t,
            len as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        )
    };
}

#[cfg(not(target_os = "linux"))]
fn start_write_out(_file: &File, _offset: u64, _len: u64) {}

impl Write for WriteBehindFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.advance(n);
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let n = self.file.write_vectored(bufs)?;
        self.advance(n);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn what_is_written_is_in_the_file_across_write_out_steps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut w = WriteBehindFile::new(File::create(&path).unwrap(), true);
        let chunk: Vec<u8> = (0..=255u8).cycle().take(3 << 20).collect();
        let mut expected = Vec::new();
        for k in 0..7 {
            let part = &chunk[..chunk.len() - k * 1000];
            w.write_all(part).unwrap();
            let mut joined = b"ab".to_vec();
            joined.extend_from_slice(part);
            let n = w
                .write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(part)])
                .unwrap();
            w.write_all(&joined[n..]).unwrap();
            expected.extend_from_slice(part);
            expected.extend_from_slice(b"ab");
            expected.extend_from_slice(part);
        }
        assert!(w.started >= STEP, "write-out was asked for at least once");
        assert_eq!(w.written, expected.len() as u64);
        drop(w.into_file());
        let mut got = Vec::new();
        File::open(&path).unwrap().read_to_end(&mut got).unwrap();
        assert!(got == expected, "the file holds every byte in order");
    }
}
